/**
 * `refinery k8s [options] -- <refinery command>`: the Kubernetes executor. It writes the
 * command's plan (core/plan.ts) as Indexed Jobs, one manifest per phase, plus `run.sh`, which
 * applies them in order and waits for each to complete before the next (the scheduler's
 * "afterok"). Every pod runs the same command with `--phase ID`; Kubernetes sets
 * JOB_COMPLETION_INDEX in an Indexed Job's pods and the manifest sets REFINERY_WORLD_SIZE to
 * its completions, so each pod takes the tasks with index % completions == its index
 * (core/executor.ts `resolvePlacement`). A reduce is a Job of one completion. The first Job
 * runs `--prepare`: it claims the output and work directories on the shared volume (and with
 * --overwrite empties the previous run) before any pod writes. Rerunning `run.sh` resumes:
 * finished tasks, jobs and reduces are skipped.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lazyPackage } from '../core/lazy-package.js';
import * as z from 'zod';
import type { Plan } from '../core/plan.js';
import { jobName, phaseJobs, prepareArgs } from './phase-jobs.js';

const yaml = lazyPackage<typeof import('yaml')>('yaml');

export const k8sOptions = z
  .object({
    image: z.string().min(1).describe('the container image that has refinery on its PATH'),
    completions: z.number().int().min(1).describe('pods (ranks) to split each map or jobs phase across: the Indexed Job\'s completions'),
    parallelism: z.number().int().min(1).optional().describe('pods of a phase running at once (default: --completions)'),
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label').optional().describe('the namespace of the Jobs'),
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'lower case letters, digits and -').max(40).default('refinery').describe('prefix of the Job names'),
    volume_claim: z.string().optional().describe('a PersistentVolumeClaim holding the inputs and outputs (the shared filesystem), mounted at --mount-path'),
    mount_path: z.string().optional().describe('where the volume is mounted and the command runs (default: the current directory, so relative paths mean the same)'),
    cpu: z.string().default('1').describe('CPU request and the local workers of each pod'),
    memory: z.string().default('4Gi').describe('memory request of each pod'),
    backoff_limit: z.number().int().min(0).default(1).describe('retries of a failed pod, per index (backoffLimitPerIndex)'),
    refinery: z.string().default('refinery').describe('the refinery command inside the image'),
    manifests: z.string().optional().describe('where the manifests and run.sh go (default: <output>-k8s)'),
  })
  .strict();
export type K8sConfig = z.infer<typeof k8sOptions>;

/** One Job of the plan: the manifest (as an object) and the file it is written to. */
export interface K8sJob {
  file: string;
  name: string;
  completions: number;
  manifest: Record<string, unknown>;
}

function jobManifest(c: K8sConfig, name: string, id: string, completions: number, command: string[]): Record<string, unknown> {
  const mountPath = c.mount_path ?? process.cwd();
  const labels = { 'app.kubernetes.io/name': 'refinery', 'app.kubernetes.io/instance': c.name, 'refinery/phase': jobName('', id) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, ...(c.namespace ? { namespace: c.namespace } : {}), labels },
    spec: {
      completionMode: 'Indexed',
      completions,
      parallelism: Math.min(c.parallelism ?? completions, completions),
      // Retries per index (Kubernetes 1.29+); the Job fails as soon as one index has failed for good.
      backoffLimitPerIndex: c.backoff_limit,
      maxFailedIndexes: 0,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'refinery',
              image: c.image,
              workingDir: mountPath,
              command: [c.refinery, ...command],
              env: [{ name: 'REFINERY_WORLD_SIZE', value: String(completions) }],
              resources: { requests: { cpu: c.cpu, memory: c.memory } },
              ...(c.volume_claim ? { volumeMounts: [{ name: 'data', mountPath }] } : {}),
            },
          ],
          ...(c.volume_claim ? { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: c.volume_claim } }] } : {}),
        },
      },
    },
  };
}

/** The Jobs of a plan, in order: prepare, then one per phase (its pods run --cpu local workers). */
export function k8sJobs(command: readonly string[], plan: Plan, c: K8sConfig): K8sJob[] {
  const workers = Math.max(1, Math.floor(Number(c.cpu)) || 1);
  const jobs = [{ id: 'prepare', ranks: 1, args: prepareArgs(command) }, ...phaseJobs(command, plan, c.completions, workers)];
  return jobs.map((j, i) => {
    const name = jobName(c.name, `${String(i).padStart(2, '0')}-${j.id}`);
    return { file: `${String(i).padStart(2, '0')}-${jobName('', j.id)}.yaml`, name, completions: j.ranks, manifest: jobManifest(c, name, j.id, j.ranks, j.args) };
  });
}

/** run.sh: apply each Job, wait until it completes (or stop when it fails), then the next. */
export function runScript(jobs: readonly K8sJob[], c: K8sConfig): string {
  const ns = c.namespace ? ` -n ${c.namespace}` : '';
  return [
    '#!/bin/bash',
    '# Runs the plan: each Job after the one before it completed. Rerunning resumes (finished work is skipped);',
    '# a Job that exists already is deleted and applied again.',
    'set -euo pipefail',
    'cd "$(dirname "$0")"',
    'wait_for() { # job completions',
    '  while :; do',
    `    read -r ok failed < <(kubectl get job "$1"${ns} -o jsonpath='{.status.succeeded} {.status.failed}{"\\n"}')`,
    '    if [ "${ok:-0}" -ge "$2" ]; then return 0; fi',
    `    if kubectl get job "$1"${ns} -o jsonpath='{.status.conditions[?(@.type=="Failed")].status}' | grep -q True; then echo "job $1 failed" >&2; return 1; fi`,
    '    sleep 5',
    '  done',
    '}',
    ...jobs.flatMap((j) => [
      `kubectl delete job ${j.name}${ns} --ignore-not-found`,
      `kubectl apply${ns} -f ${j.file}`,
      `wait_for ${j.name} ${j.completions}`,
      `echo "${j.name}: complete"`,
    ]),
    '',
  ].join('\n');
}

/** Write the manifests and run.sh; returns where. */
export function writeK8s(command: readonly string[], plan: Plan, c: K8sConfig): { dir: string; jobs: K8sJob[] } {
  const dir = resolve(c.manifests ?? `${(plan.parts.at(-1)?.ctx.out ?? 'refinery').replace(/\/+$/, '')}-k8s`);
  mkdirSync(dir, { recursive: true });
  const jobs = k8sJobs(command, plan, c);
  for (const j of jobs) writeFileSync(join(dir, j.file), yaml().stringify(j.manifest));
  writeFileSync(join(dir, 'run.sh'), runScript(jobs, c), { mode: 0o755 });
  return { dir, jobs };
}
