/**
 * `refinery slurm [options] -- <refinery command>`: run a stage as a Slurm job array. Each
 * array task runs the same command; refinery reads SLURM_ARRAY_TASK_ID/COUNT and takes the
 * tasks with index % count == id, into the same output directory. The dedup pipelines become
 * a chain of jobs, the reduce steps depending on the ones before (--dependency=afterok, and
 * --kill-on-invalid-dep so a failed step cancels the rest). The command waits for the chain
 * (polling squeue), then checks the output: tasks without a completion marker mean a failed
 * array task, and the chain is submitted again (finished tasks are skipped) up to --retries.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import { describeOptions } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { readManifest, runOptions } from '../core/executor.js';
import { layout } from '../core/layout.js';
import { bucketOptions, clusterOptions } from '../dedup/index.js';
import { filterOptions } from '../dedup/filter.js';
import { signatureOptions } from '../dedup/signatures.js';

export const slurmOptions = z
  .object({
    array: z.number().int().min(1).describe('array tasks (ranks) to split each stage across'),
    partition: z.string().optional().describe('sbatch --partition'),
    time: z.string().optional().describe('sbatch --time, e.g. 02:00:00'),
    mem: z.string().optional().describe('sbatch --mem, e.g. 16G'),
    cpus_per_task: z.number().int().min(1).default(1).describe('sbatch --cpus-per-task; each array task runs that many local workers'),
    retries: z.number().int().min(0).default(1).describe('submit the chain again this many times while tasks are missing'),
    poll: z.number().positive().default(0.5).describe('seconds between squeue polls'),
    dry_run: z.boolean().default(false).describe('print the sbatch scripts instead of submitting them'),
  })
  .strict();
export type SlurmConfig = z.infer<typeof slurmOptions>;

export interface JobStep {
  name: string;
  args: string[];
  /** Array tasks: the split count, or 1 for a reduce step. */
  tasks: number;
  /** The command takes --workers and --progress (a reduce step does not). */
  runFlags?: boolean;
}

/** Flags of `args` that a step's schema knows (with their values), in order. */
function keepFlags(args: readonly string[], schemas: z.ZodObject[]): string[] {
  const known = new Map<string, boolean>();
  for (const s of schemas) for (const o of describeOptions(s)) known.set(o.flag, o.kind === 'boolean');
  for (const s of schemas) for (const o of describeOptions(s)) if (o.kind === 'boolean') known.set(`--no-${o.flag.slice(2)}`, true);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag] = a.split('=');
    if (!flag.startsWith('--')) continue;
    if (known.has(flag)) {
      out.push(a);
      if (!a.includes('=') && known.get(flag) === false && i + 1 < args.length) out.push(args[++i]);
    } else if (!a.includes('=') && i + 1 < args.length && !args[i + 1].startsWith('-')) i++;
  }
  return out;
}

/** The jobs a command becomes: one array job, or the dedup chain. */
export function planJobs(command: readonly string[], array: number): { steps: JobStep[]; output: string } {
  const [cmd, sub] = command;
  const oAt = command.findIndex((a) => a === '-o' || a === '--output');
  const output = oAt >= 0 ? command[oAt + 1] : undefined;
  if (!output) throw new UserError('refinery slurm: the command needs -o/--output (its output directory is how completion is checked)');
  if (cmd === 'dedup' && (sub === 'minhash' || sub === 'exact')) {
    const rest = command.slice(2).filter((_, i, xs) => !(xs[i] === '-o' || xs[i] === '--output' || xs[i - 1] === '-o' || xs[i - 1] === '--output'));
    const inputs: string[] = [];
    for (let i = 0; i < rest.length && !rest[i].startsWith('-'); i++) inputs.push(rest[i]);
    const flags = rest.slice(inputs.length);
    const workAt = flags.indexOf('--work');
    const work = workAt >= 0 ? flags[workAt + 1] : `${output.replace(/\/+$/, '')}-work`;
    const w = ['--work', work];
    const run = [runOptions];
    return {
      output,
      steps: [
        { name: 'signatures', tasks: array, args: ['dedup', 'signatures', ...inputs, ...w, ...keepFlags(flags, [signatureOptions.omit({ work: true, mode: true }), ...run]), '--mode', sub] },
        { name: 'buckets', tasks: array, args: ['dedup', 'buckets', ...w, ...keepFlags(flags, [bucketOptions.omit({ work: true }), runOptions.pick({ workers: true, progress: true })])] },
        { name: 'cluster', tasks: 1, runFlags: false, args: ['dedup', 'cluster', ...w, ...keepFlags(flags, [clusterOptions.omit({ work: true })])] },
        { name: 'filter', tasks: array, args: ['dedup', 'filter', ...inputs, ...w, '-o', output, ...keepFlags(flags, [filterOptions.omit({ work: true }), ...run])] },
      ],
    };
  }
  if (['mix', 'select', 'quality', 'run', 'train'].includes(cmd)) {
    throw new UserError(`refinery slurm: "${cmd}" has a global step inside; run its stages one by one, or run it on one node`);
  }
  // A subcommand is a word ("quality filter"); an input path is not part of the job's name.
  const name = sub && /^[a-z-]+$/.test(sub) ? `${cmd}-${sub}` : cmd;
  return { output, steps: [{ name, tasks: array, args: [...command] }] };
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function sbatchScript(step: JobStep, c: SlurmConfig, cli: string, logDir: string): string {
  const lines = ['#!/bin/bash', `#SBATCH --job-name=refinery-${step.name}`];
  if (step.tasks > 1) lines.push(`#SBATCH --array=0-${step.tasks - 1}`);
  lines.push(`#SBATCH --output=${logDir}/${step.name}-%A_%a.log`, `#SBATCH --cpus-per-task=${c.cpus_per_task}`);
  if (c.partition) lines.push(`#SBATCH --partition=${c.partition}`);
  if (c.time) lines.push(`#SBATCH --time=${c.time}`);
  if (c.mem) lines.push(`#SBATCH --mem=${c.mem}`);
  lines.push(
    '# Each array task takes the tasks with index % SLURM_ARRAY_TASK_COUNT == SLURM_ARRAY_TASK_ID (refinery reads them).',
    '# A rerun skips the tasks that finished.',
    'set -euo pipefail',
    `cd ${quote(process.cwd())}`,
    `exec ${quote(process.execPath)} ${quote(cli)} ${step.args.map(quote).join(' ')}${step.runFlags === false ? '' : ` --workers ${c.cpus_per_task} --progress log`}`,
  );
  return `${lines.join('\n')}\n`;
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new UserError(`${cmd}: ${r.error.message} (is Slurm installed here?)`);
  if (r.status !== 0) throw new UserError(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.trim();
}

/** Every task of a stage output finished? (its manifest says how many there are). */
export function missingTasks(out: string): number {
  const manifest = readManifest(out);
  if (!manifest) return Number.POSITIVE_INFINITY;
  const done = existsSync(layout.doneDir(out)) ? readdirSync(layout.doneDir(out)).length : 0;
  return manifest.tasks - done;
}

export async function runSlurm(command: readonly string[], c: SlurmConfig, cli: string, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<{ jobs: string[]; attempts: number }> {
  if (command.length === 0) throw new UserError('refinery slurm: give the refinery command after --, e.g. refinery slurm --array 4 -- import in/ -o out/');
  const { steps, output } = planJobs(command, c.array);
  const logDir = resolve(output.replace(/\/+$/, '') + '-slurm');
  if (c.dry_run) {
    for (const s of steps) process.stdout.write(`# --- ${s.name}${steps.length > 1 ? ' (submitted with --dependency=afterok on the step before)' : ''}\n${sbatchScript(s, c, cli, logDir)}`);
    return { jobs: [], attempts: 0 };
  }
  mkdirSync(logDir, { recursive: true });
  const jobs: string[] = [];
  for (let attempt = 1; ; attempt++) {
    let previous: string | null = null;
    for (const s of steps) {
      const file = join(logDir, `${s.name}.sbatch`);
      writeFileSync(file, sbatchScript(s, c, cli, logDir));
      const dep: string[] = previous ? [`--dependency=afterok:${previous}`, '--kill-on-invalid-dep=yes'] : [];
      previous = sh('sbatch', ['--parsable', ...dep, file]).split(';')[0];
      jobs.push(previous);
      log(`slurm: submitted ${s.name} as job ${previous}${s.tasks > 1 ? ` (array of ${s.tasks})` : ''}`);
    }
    const mine = jobs.slice(-steps.length);
    for (;;) {
      const queued = sh('squeue', ['-h', '-o', '%i', '-j', mine.join(',')]);
      if (!queued) break;
      await new Promise((r) => setTimeout(r, c.poll * 1000));
    }
    const missing = missingTasks(output);
    if (missing === 0) {
      log(`slurm: ${output} complete (jobs ${mine.join(', ')}; logs in ${logDir})`);
      return { jobs, attempts: attempt };
    }
    if (attempt > c.retries) throw new UserError(`slurm: ${Number.isFinite(missing) ? `${missing} task(s)` : 'the output'} of ${output} did not finish after ${attempt} submission(s); see ${logDir}`);
    log(`slurm: ${Number.isFinite(missing) ? `${missing} task(s)` : 'the output'} missing; submitting again (finished tasks are skipped)`);
  }
}
