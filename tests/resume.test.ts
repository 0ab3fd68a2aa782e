/**
 * The executor's guarantees, through the real CLI and its process pool:
 * killed runs resume to exactly the uninterrupted result, ranks add up to a local run,
 * failed tasks are reported and retried.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brownTexts } from '../datasets/brown.js';
import { readTaskStats } from '../pipeline/core/stats.js';
import { cleanup, cli, cliDetached, cliPath, expectAccounting, readDocs, tempDir } from './helpers/cli.js';

const FILES = 24;
const dir = tempDir();
const input = join(dir, 'input');
const reference = join(dir, 'reference');
// Small parts, so that a task is spread over several files and kills land between renames.
const FLAGS = ['--min-chars', '11000', '--max-part-size', '256KB', '--progress', 'off'];

afterAll(() => cleanup(dir));

beforeAll(() => {
  mkdirSync(input);
  const texts = brownTexts();
  for (let f = 0; f < FILES; f++) {
    const lines: string[] = [];
    for (let copy = 0; copy < 4; copy++) {
      for (let t = f; t < texts.length; t += FILES) {
        lines.push(JSON.stringify({ id: `${texts[t].file}-${copy}`, text: texts[t].text, genre: texts[t].genre }));
      }
    }
    lines.splice(3, 0, '{"id": "broken", "text": "a line cut sho'); // a malformed record in every file
    const body = `${lines.join('\n')}\n`;
    if (f % 2) writeFileSync(join(input, `shard-${String(f).padStart(2, '0')}.jsonl.gz`), gzipSync(body));
    else writeFileSync(join(input, `shard-${String(f).padStart(2, '0')}.jsonl`), body);
  }
  const r = cli(['import', input, '-o', reference, '--workers', '2', ...FLAGS]);
  expect(r.code, r.stderr).toBe(0);
});

/** Content hashes of every output file that must not depend on how the run went. */
function snapshot(out: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const sub of ['', '_excluded']) {
    for (const name of readdirSync(join(out, sub)).sort()) {
      if (!name.endsWith('.arrow')) continue;
      files[join(sub, name)] = createHash('sha256').update(readFileSync(join(out, sub, name))).digest('hex');
    }
  }
  return files;
}

function countsOf(out: string) {
  return readTaskStats(out).map(({ seconds: _s, ...rest }) => rest);
}

async function expectSameAsReference(out: string) {
  expect(snapshot(out)).toEqual(snapshot(reference));
  expect(countsOf(out)).toEqual(countsOf(reference));
  const docs = await readDocs(out);
  const ids = docs.map((d) => d.id);
  expect(new Set(ids).size).toBe(ids.length);
  await expectAccounting(out);
}

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('resumability', () => {
  it('the reference run keeps and excludes what it should', async () => {
    const totals = await expectAccounting(reference);
    expect(totals.tasks).toBe(FILES);
    expect(totals.docs_in).toBe(4 * 500 + FILES);
    expect(totals.steps.find((s) => s.name === 'read')?.reasons).toEqual({ 'malformed-json': FILES });
    expect(readdirSync(reference).filter((n) => n.endsWith('.arrow')).length).toBeGreaterThan(FILES);
  });

  it('a run killed with SIGKILL at random moments, then rerun, equals the uninterrupted run', async () => {
    const out = join(dir, 'killed');
    const next = random(20261126);
    const doneCount = () => (existsSync(join(out, '_done')) ? readdirSync(join(out, '_done')).length : 0);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const doneAfterKill: number[] = [];
    for (let attempt = 0; attempt < 4 && doneCount() < FILES - 2; attempt++) {
      // Kill once the run has passed a random number of finished tasks, plus a random
      // few milliseconds, so the kill lands inside a task (mid-write, mid-rename, ...).
      const before = doneCount();
      const target = before + 1 + Math.floor(next() * (FILES - before - 2));
      const child = cliDetached(['import', input, '-o', out, '--workers', '2', ...FLAGS]);
      let exited = false;
      const exit = new Promise<void>((resolve) => child.on('exit', () => ((exited = true), resolve())));
      while (!exited && doneCount() < target) await sleep(2);
      await sleep(next() * 30);
      if (!exited) process.kill(-(child.pid as number), 'SIGKILL'); // the CLI and its pool workers
      await exit;
      doneAfterKill.push(doneCount());
    }
    expect(doneAfterKill.length, `tasks done after each kill: ${doneAfterKill}`).toBeGreaterThanOrEqual(2);
    expect(doneAfterKill.every((n) => n < FILES), `tasks done after each kill: ${doneAfterKill}`).toBe(true);
    const final = cli(['import', input, '-o', out, '--workers', '2', ...FLAGS]);
    expect(final.code, final.stderr).toBe(0);
    await expectSameAsReference(out);
  }, 120_000);

  it('ranks of a world of 3, taken together, equal one local run', async () => {
    const out = join(dir, 'ranks');
    const rank = (r: number) =>
      new Promise<number | null>((resolve) => {
        // One rank as a Slurm array task, one as a Kubernetes Indexed Job, one with flags.
        const env: NodeJS.ProcessEnv =
          r === 0 ? { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '3' }
          : r === 1 ? { JOB_COMPLETION_INDEX: '1', REFINERY_WORLD_SIZE: '3' }
          : {};
        const flags = r === 2 ? ['--rank', '2', '--world-size', '3'] : [];
        cliDetached(['import', input, '-o', out, '--workers', '1', ...flags, ...FLAGS], env).on('exit', resolve);
      });
    expect(await rank(0)).toBe(0);
    const tasksDone = () => readdirSync(join(out, '_done')).sort();
    const everyThird = Array.from({ length: FILES }, (_, i) => i).filter((i) => i % 3 === 0);
    expect(tasksDone()).toEqual(everyThird.map((i) => `task-${String(i).padStart(5, '0')}`));
    expect(await Promise.all([rank(1), rank(2)])).toEqual([0, 0]);
    expect(tasksDone()).toHaveLength(FILES);
    await expectSameAsReference(out);
  }, 120_000);
});

describe('two runs at once into one output', () => {
  it('run each task once, wait for each other, and both report the totals of the whole run', async () => {
    const out = join(dir, 'concurrent');
    const go = join(dir, 'go');
    const start = (env: NodeJS.ProcessEnv) => {
      const child = spawn(process.execPath, [cliPath, 'import', input, '-o', out, '--workers', '2', ...FLAGS], { env: { ...process.env, ...env } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
      return { done, stderr: () => stderr };
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // The first run holds its task 0 until the second run has listed the tasks it would run.
    const first = start({ REFINERY_HOLD_TASKS: `0:${go}` });
    while (!existsSync(join(out, '_running', 'task-00000'))) await sleep(20);
    const second = start({});
    while (!/to run/.test(second.stderr())) await sleep(20);
    writeFileSync(go, '');
    const results = [await first.done, await second.done];
    const tasksRun = results.map((r) => {
      expect(r.code, r.stderr).toBe(0);
      return Number(/; (\d+) tasks? run/.exec(r.stderr)?.[1]);
    });
    expect(tasksRun[0] + tasksRun[1]).toBe(FILES);
    expect(results[1].stderr).toContain('waiting for');
    // Both print the totals of all the tasks, not of the tasks they ran.
    const summary = (stderr: string) => /^import: .* docs in, .*; /m.exec(stderr)?.[0];
    expect(summary(results[0].stderr)).toBe(summary(results[1].stderr));
    expect(summary(results[0].stderr)).toContain(`${(4 * 500 + FILES).toLocaleString('en-US')} docs in`);
    expect(existsSync(join(out, '_running'))).toBe(false);
    await expectSameAsReference(out);
  }, 120_000);
});

describe('failing tasks', () => {
  it('are reported with their file, do not stop the others, and rerun alone', async () => {
    const out = join(dir, 'failing');
    const r = cli(['import', input, '-o', out, '--workers', '2', ...FLAGS], { env: { REFINERY_FAIL_TASKS: '3' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/import: task 3 failed: .*shard-03\.jsonl\.gz: injected failure/);
    expect(r.stderr).toMatch(/1 task\(s\) failed; rerun the same command/);
    expect(readdirSync(join(out, '_done')).length).toBe(FILES - 1);
    const rerun = cli(['import', input, '-o', out, '--workers', '2', ...FLAGS]);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain('1 to run, 23 already done');
    await expectSameAsReference(out);
  }, 60_000);

  it('are retried with --retries', async () => {
    const out = join(dir, 'retried');
    const r = cli(['import', input, '-o', out, '--workers', '2', '--retries', '1', ...FLAGS], { env: { REFINERY_FAIL_TASKS: '5:1' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/task 5 failed \(injected failure.*\); retrying \(1\/1\)/);
    await expectSameAsReference(out);
  }, 60_000);

  it('survive a worker process that dies, in the pool', async () => {
    const out = join(dir, 'crashed');
    const r = cli(['import', input, '-o', out, '--workers', '2', ...FLAGS], { env: { REFINERY_FAIL_TASKS: '7:crash' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/task 7 failed: .*shard-07\.jsonl\.gz: worker exited \(SIGKILL\)/);
    expect(readdirSync(join(out, '_done')).length).toBe(FILES - 1);
    const retried = cli(['import', input, '-o', out, '--workers', '2', '--retries', '1', ...FLAGS], { env: { REFINERY_FAIL_TASKS: '7:crash' } });
    expect(retried.code, retried.stderr).toBe(0);
    await expectSameAsReference(out);
  }, 60_000);
});
