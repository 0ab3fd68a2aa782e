/**
 * `refinery slurm [options] -- <refinery command>`: the Slurm executor. The command's plan
 * (core/plan.ts) becomes a chain of jobs, one per phase: an array of --array tasks for each
 * map or jobs phase (refinery reads SLURM_ARRAY_TASK_ID/COUNT and takes the tasks with index
 * % count == id), one job for each reduce, each depending on the one before
 * (--dependency=afterok, --kill-on-invalid-dep so a failure cancels the rest). Before
 * submitting, this process prepares the output and work directories (and, with --overwrite,
 * empties the previous run) once, so that no array task does. It waits for the chain
 * (polling squeue), then checks every phase's done markers; while some are missing the
 * chain is submitted again from the first incomplete phase (finished tasks are skipped), up
 * to --retries.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import { UserError } from '../core/errors.js';
import type { Plan } from '../core/plan.js';
import { preparePlan } from '../core/run-plan.js';
import { jobName, phaseJobs, unfinished, type PhaseJob } from './phase-jobs.js';
import { shellWord } from '../core/shell.js';

export const slurmOptions = z
  .object({
    array: z.number().int().min(1).describe('array tasks (ranks) to split each map or jobs phase across'),
    partition: z.string().optional().describe('sbatch --partition'),
    time: z.string().optional().describe('sbatch --time, e.g. 02:00:00'),
    mem: z.string().optional().describe('sbatch --mem, e.g. 16G'),
    cpus_per_task: z.number().int().min(1).default(1).describe('sbatch --cpus-per-task; each array task runs that many local workers'),
    retries: z.number().int().min(0).default(1).describe('submit the chain again (from the first unfinished phase) this many times while tasks are missing'),
    poll: z.number().positive().default(0.5).describe('seconds between squeue polls'),
    dry_run: z.boolean().default(false).describe('print the sbatch scripts instead of submitting them'),
  })
  .strict();
export type SlurmConfig = z.infer<typeof slurmOptions>;


/** Where the scripts, logs and success files go: beside the (last) output. */
const logDirOf = (plan: Plan) => resolve(`${(plan.parts.at(-1)?.ctx.out ?? 'refinery').replace(/\/+$/, '')}-slurm`);
const okFile = (logDir: string, job: PhaseJob) => join(logDir, `${job.id}.ok`);

export function sbatchScript(job: PhaseJob, c: SlurmConfig, cli: string, logDir: string): string {
  const lines = ['#!/bin/bash', `#SBATCH --job-name=${jobName('refinery', job.id)}`];
  if (job.ranks > 1) lines.push(`#SBATCH --array=0-${job.ranks - 1}`);
  lines.push(`#SBATCH --output=${logDir}/${job.id}-%A_%a.log`, `#SBATCH --cpus-per-task=${c.cpus_per_task}`);
  if (c.partition) lines.push(`#SBATCH --partition=${c.partition}`);
  if (c.time) lines.push(`#SBATCH --time=${c.time}`);
  if (c.mem) lines.push(`#SBATCH --mem=${c.mem}`);
  lines.push(
    `# Phase ${job.id} (${job.kind}${job.ranks > 1 ? ', split: each array task takes the tasks with index % SLURM_ARRAY_TASK_COUNT == SLURM_ARRAY_TASK_ID' : ', once'}).`,
    '# A rerun skips what finished.',
    'set -euo pipefail',
    `cd ${shellWord(process.cwd())}`,
    `${shellWord(process.execPath)} ${shellWord(cli)} ${job.args.map(shellWord).join(' ')}`,
    `touch ${shellWord(okFile(logDir, job))}`,
  );
  return `${lines.join('\n')}\n`;
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new UserError(`${cmd}: ${r.error.message} (is Slurm installed here?)`);
  if (r.status !== 0) throw new UserError(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.trim();
}

/**
 * Submit the plan of `command` as a dependency chain and wait for it. `plan` is that
 * command's plan, built by the CLI from the same arguments.
 */
export async function runSlurm(command: readonly string[], plan: Plan, c: SlurmConfig, cli: string, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<{ jobs: string[]; attempts: number }> {
  const all = phaseJobs(command, plan, c.array, c.cpus_per_task);
  const logDir = logDirOf(plan);
  if (c.dry_run) {
    for (const job of all) process.stdout.write(`# --- ${job.id}${all.length > 1 ? ' (submitted with --dependency=afterok on the job before)' : ''}\n${sbatchScript(job, c, cli, logDir)}`);
    return { jobs: [], attempts: 0 };
  }
  preparePlan(plan, log);
  mkdirSync(logDir, { recursive: true });
  const submitted: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const done = (job: PhaseJob) => existsSync(okFile(logDir, job));
    const chain = all.slice(all.indexOf(unfinished(all, done)[0] ?? all[0]));
    for (const job of chain) rmSync(okFile(logDir, job), { force: true });
    let previous: string | null = null;
    const ids: string[] = [];
    for (const job of chain) {
      const file = join(logDir, `${job.id}.sbatch`);
      writeFileSync(file, sbatchScript(job, c, cli, logDir));
      const dep: string[] = previous ? [`--dependency=afterok:${previous}`, '--kill-on-invalid-dep=yes'] : [];
      previous = sh('sbatch', ['--parsable', ...dep, file]).split(';')[0];
      ids.push(previous);
      log(`slurm: submitted ${job.id} as job ${previous}${job.ranks > 1 ? ` (array of ${job.ranks})` : ''}`);
    }
    submitted.push(...ids);
    while (sh('squeue', ['-h', '-o', '%i', '-j', ids.join(',')])) await new Promise((r) => setTimeout(r, c.poll * 1000));
    const left = unfinished(all, done);
    if (left.length === 0) {
      log(`slurm: complete (jobs ${ids.join(', ')}; logs in ${logDir})`);
      return { jobs: submitted, attempts: attempt };
    }
    const what = `phase ${left[0].id}${left.length > 1 ? ` and ${left.length - 1} after it` : ''}`;
    if (attempt > c.retries) throw new UserError(`slurm: ${what} did not finish after ${attempt} submission(s); see ${logDir}`);
    log(`slurm: ${what} not finished; submitting again from there (finished tasks are skipped)`);
  }
}
