/**
 * One plan, any executor (core/plan.ts): for every operation of several phases and for a
 * whole pipeline file, the local executor, two ranks run by hand phase by phase with the
 * scheduler's variables, and the Kubernetes manifests' commands run locally with their
 * index variables decide the same: same kept documents (every column), same exclusions.
 * A run killed in the middle of a phase, or stopped after part of one, resumes from there.
 * (The same cases on a real Slurm: slurm.test.ts.)
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cleanup, cli, cliAsync, cliDetached, cliOk, tempDir } from './helpers/cli.js';
import { PLAN_CASES, buildFixtures, outcome, phasesOf, type Fixtures } from './helpers/plan-cases.js';

const dir = tempDir();
let f: Fixtures;
beforeAll(() => {
  f = buildFixtures(dir);
}, 180_000);
afterAll(() => cleanup(dir));

const quiet = ['--progress', 'off'];
const slug = (name: string) => name.replace(/[^a-z]+/g, '-');

describe.each(PLAN_CASES)('$name', (c) => {
  const local = () => join(dir, `${slug(c.name)}-local`);

  it('two ranks run by hand, phase by phase, decide as the local run does', async () => {
    cliOk([...c.args(f, local()), ...quiet, '--workers', '2']);
    const out = join(dir, `${slug(c.name)}-ranks`);
    const phases = phasesOf(c.args(f, out));
    expect(phases.length).toBeGreaterThan(1);
    // Both ranks of a phase at once, as a scheduler runs them; the next phase after both.
    for (const phase of phases) {
      const runs = await Promise.all([0, 1].map((rank) => cliAsync([...c.args(f, out), ...quiet, '--phase', phase, '--workers', '1'], { env: { SLURM_ARRAY_TASK_ID: String(rank), SLURM_ARRAY_TASK_COUNT: '2' } })));
      for (const r of runs) expect(r.code, `${phase}: ${r.stderr}`).toBe(0);
    }
    expect(await outcome(c, out)).toEqual(await outcome(c, local()));
  }, 240_000);

  // Kubernetes: the manifests of a plan with every kind of phase (map, jobs, reduce); the executor is the same for all.
  it.runIf(c.name === 'dedup minhash')('the Kubernetes manifests are valid Indexed Jobs whose commands, run with their index variables, reproduce the local run', async () => {
    const out = join(dir, `${slug(c.name)}-k8s`);
    const manifests = join(dir, `${slug(c.name)}-manifests`);
    cliOk(['k8s', '--image', 'registry.example/refinery:1', '--completions', '2', '--volume-claim', 'data', '--manifests', manifests, '--', ...c.args(f, out)]);
    const files = readdirSync(manifests).filter((n) => n.endsWith('.yaml')).sort();
    expect(files.length).toBe(phasesOf(c.args(f, out)).length + 1);
    const script = readFileSync(join(manifests, 'run.sh'), 'utf8');
    for (const file of files) {
      const job = parse(readFileSync(join(manifests, file), 'utf8')) as IndexedJob;
      expectIndexedJob(job);
      expect(script).toContain(`kubectl apply -f ${file}`);
      expect(script.indexOf(file)).toBeGreaterThan(script.indexOf(files[files.indexOf(file) - 1] ?? 'set -euo'));
      const container = job.spec.template.spec.containers[0];
      expect(container.command[0]).toBe('refinery');
      const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
      const pods = await Promise.all(Array.from({ length: job.spec.completions }, (_, index) => cliAsync(container.command.slice(1), { env: { ...env, JOB_COMPLETION_INDEX: String(index) }, cwd: container.workingDir })));
      for (const r of pods) expect(r.code, `${file}: ${r.stderr}`).toBe(0);
    }
    expect(await outcome(c, out)).toEqual(await outcome(c, local()));
  }, 240_000);
});

interface IndexedJob {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    completionMode: string;
    completions: number;
    parallelism: number;
    backoffLimitPerIndex?: number;
    maxFailedIndexes?: number;
    template: {
      metadata?: { labels?: Record<string, string> };
      spec: {
        restartPolicy: string;
        containers: { name: string; image: string; command: string[]; workingDir: string; env: { name: string; value: string }[]; volumeMounts?: { name: string; mountPath: string }[] }[];
        volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
      };
    };
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The fields the batch/v1 Job API requires of an Indexed Job (as the API server validates them). */
function expectIndexedJob(job: IndexedJob): void {
  expect(job.apiVersion).toBe('batch/v1');
  expect(job.kind).toBe('Job');
  expect(job.metadata.name).toMatch(DNS_LABEL);
  // An Indexed Job's pods get hostnames "<job>-<index>": the name must leave room (63 characters in all).
  expect(job.metadata.name.length).toBeLessThanOrEqual(56);
  for (const [k, v] of Object.entries(job.metadata.labels ?? {})) {
    expect(k).toMatch(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    expect(v).toMatch(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/);
    expect(v.length).toBeLessThanOrEqual(63);
  }
  const { spec } = job;
  expect(spec.completionMode).toBe('Indexed');
  expect(Number.isInteger(spec.completions) && spec.completions >= 1 && spec.completions <= 100_000).toBe(true);
  expect(Number.isInteger(spec.parallelism) && spec.parallelism >= 0).toBe(true);
  if (spec.backoffLimitPerIndex !== undefined) expect(spec.backoffLimitPerIndex).toBeGreaterThanOrEqual(0);
  if (spec.maxFailedIndexes !== undefined) {
    expect(spec.backoffLimitPerIndex).toBeDefined();
    expect(spec.maxFailedIndexes).toBeLessThanOrEqual(spec.completions);
  }
  const pod = spec.template.spec;
  // A Job's pods may not restart Always.
  expect(['Never', 'OnFailure']).toContain(pod.restartPolicy);
  if (spec.backoffLimitPerIndex !== undefined) expect(pod.restartPolicy).toBe('Never');
  expect(pod.containers.length).toBeGreaterThan(0);
  const volumes = new Set((pod.volumes ?? []).map((v) => v.name));
  for (const c of pod.containers) {
    expect(c.name).toMatch(DNS_LABEL);
    expect(c.image.length).toBeGreaterThan(0);
    expect(c.command.every((a) => typeof a === 'string')).toBe(true);
    for (const e of c.env) {
      expect(e.name).toMatch(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/);
      expect(typeof e.value).toBe('string');
    }
    for (const m of c.volumeMounts ?? []) {
      expect(volumes.has(m.name)).toBe(true);
      expect(m.mountPath.startsWith('/')).toBe(true);
    }
  }
  expect(spec.template.metadata?.labels ?? {}).toEqual(job.metadata.labels ?? {});
}

describe('resuming a plan', () => {
  it('a run killed in the middle of a phase resumes there: earlier phases are not redone, the result is the same', async () => {
    const c = PLAN_CASES[0];
    const local = join(dir, 'dedup-minhash-local');
    if (!existsSync(local)) cliOk([...c.args(f, local), ...quiet]);
    const out = join(dir, 'killed');
    // Kill the whole process group as soon as the buckets phase has finished a job.
    const child = cliDetached([...c.args(f, out), ...quiet, '--workers', '1']);
    const done = join(`${out}-work`, 'buckets', '_done');
    for (let i = 0; i < 600 && !(existsSync(done) && readdirSync(done).length > 0); i++) await new Promise((r) => setTimeout(r, 50));
    process.kill(-(child.pid as number), 'SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(existsSync(join(out, '_manifest.json'))).toBe(false);
    const r = cliOk([...c.args(f, out), ...quiet, '--workers', '1']);
    expect(r.stderr).toMatch(/signatures: .*0 to run, \d+ already done/);
    expect(r.stderr).toMatch(/buckets: \d+ jobs; \d+ to run, \d+ already done/);
    expect(await outcome(c, out)).toEqual(await outcome(c, local));
  }, 120_000);

  it('a plan stopped after part of a map phase and before its reduce finishes from there', async () => {
    const c = PLAN_CASES[1];
    const out = join(dir, 'mix-partial');
    cliOk([...c.args(f, out), ...quiet, '--phase', 'count', '--rank', '0', '--world-size', '2']);
    // The plan phase cannot run while counts are missing.
    const early = cli([...c.args(f, out), ...quiet, '--phase', 'plan']);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/phase plan needs phase count finished first \(missing: \d+ of \d+ tasks\)/);
    const r = cliOk([...c.args(f, out), ...quiet]);
    expect(r.stderr).toMatch(/count: \d+ tasks; \d+ to run, \d+ already done/);
    expect(await outcome(c, out)).toEqual(await outcome(c, join(dir, 'mix-local')));
    // Everything done: a rerun does nothing again, and says so.
    const again = cliOk([...c.args(f, out), ...quiet]);
    expect(again.stderr).toMatch(/plan: already done/);
    expect(again.stderr).toMatch(/mix: \d+ tasks; 0 to run/);
  }, 120_000);

  it('several ranks without --phase are refused for a plan of several phases, with what to do', () => {
    const r = cli([...PLAN_CASES[1].args(f, join(dir, 'refused')), '--rank', '0', '--world-size', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mix has 4 phases \(count, plan, sample, report\); across ranks, run one phase at a time with --phase ID/);
  });
});
