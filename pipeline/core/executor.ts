/**
 * Runs a stage: one task per input file, on a local process pool, or the share
 * `i % world_size == rank` of them when launched as a Slurm array or a Kubernetes
 * Indexed Job. Finished tasks (those with a `_done` marker) are skipped, failed ones
 * are retried, and the accounting invariant is checked over all finished tasks.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { COMPRESSIONS, DEFAULT_COMPRESSION, type Compression } from './compression.js';
import { byteSize, configHash } from './config.js';
import { RunError, UserError, errorMessage } from './errors.js';
import { doneForSameInput, inputIdentity, listTasks } from './inputs.js';
import { ensureLayout, layout, writeFileAtomic } from './layout.js';
import { claimHolder, claimTask, heartbeat, liveClaim, releaseTask, tidyClaims } from './claims.js';
import { claimDir, legacyOutput, refuseInputOverlap, removeOwned, writingInto } from './owned-dirs.js';
import { Progress, formatBytes, formatCount, type ProgressMode } from './progress.js';
import { SCHEMA_VERSION } from './schema.js';
import { openShard } from './shard-reader.js';
import { runTask, type Stage, type StageConfig, type TaskInput } from './stage.js';
import { accountingViolations, readTaskStats, sumStats, type TaskStats, type Totals } from './stats.js';

/** Options of how a stage runs, as opposed to what it computes: not part of the config hash. */
export const runOptions = z
  .object({
    workers: z.number().int().min(1).optional().describe('worker processes (default: number of cores)'),
    rank: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('run only tasks with index % world-size == rank (default: from SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or REFINERY_RANK)'),
    world_size: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('number of ranks (default: from SLURM_ARRAY_TASK_COUNT or REFINERY_WORLD_SIZE)'),
    retries: z.number().int().min(0).default(0).describe('times to retry a failed task'),
    overwrite: z.boolean().default(false).describe('delete a previous run in the output (and work) directory first; ignored with --phase (run --prepare --overwrite once before the phases)'),
    progress: z.enum(['auto', 'bar', 'log', 'off']).default('auto').describe('progress display (auto: bar on a terminal, log lines otherwise)'),
    max_part_size: byteSize().prefault('256MiB').describe('start a new part file once a part reaches this size'),
    compression: z.enum(COMPRESSIONS).default(DEFAULT_COMPRESSION).describe('body compression of the shards written (standard Arrow IPC: pyarrow, polars and DuckDB read all three)'),
    work: z.string().min(1).optional().describe('where an operation of several phases keeps its intermediate results (default: <output>-work)'),
    phase: z.string().min(1).optional().describe('run only this phase of the operation, for this rank (see --list-phases); how Slurm and Kubernetes jobs run'),
    list_phases: z.boolean().default(false).describe('print the phases the command runs (map, jobs, reduce) and exit'),
    prepare: z.boolean().default(false).describe('only claim the output and work directories (with --overwrite: empty the previous run), then exit; what a scheduler runs before --phase jobs'),
  })
  .strict();
export type RunOptions = z.infer<typeof runOptions>;

export interface Placement {
  rank: number;
  worldSize: number;
  /** Where the placement came from, for the log line. */
  from: string;
}

const intEnv = (env: NodeJS.ProcessEnv, name: string): number | undefined => {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`environment variable ${name}="${v}" is not a non-negative integer`);
  return n;
};

/** --rank/--world-size, else the scheduler's environment, else the whole job. */
export function resolvePlacement(opts: { rank?: number; world_size?: number }, env: NodeJS.ProcessEnv = process.env): Placement {
  let p: Placement;
  if (opts.rank !== undefined || opts.world_size !== undefined) {
    p = { rank: opts.rank ?? 0, worldSize: opts.world_size ?? 1, from: 'flags' };
    if (opts.rank !== undefined && opts.world_size === undefined) throw new UserError('--rank needs --world-size');
  } else if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const id = intEnv(env, 'SLURM_ARRAY_TASK_ID') ?? 0;
    const min = intEnv(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const count = intEnv(env, 'SLURM_ARRAY_TASK_COUNT');
    if (count === undefined) throw new UserError('SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not');
    p = { rank: id - min, worldSize: count, from: 'Slurm array' };
  } else if (env.JOB_COMPLETION_INDEX !== undefined) {
    const size = intEnv(env, 'REFINERY_WORLD_SIZE');
    if (size === undefined) {
      throw new UserError('JOB_COMPLETION_INDEX is set: also set REFINERY_WORLD_SIZE to the Job\'s completions');
    }
    p = { rank: intEnv(env, 'JOB_COMPLETION_INDEX') ?? 0, worldSize: size, from: 'Kubernetes Indexed Job' };
  } else if (env.REFINERY_RANK !== undefined || env.REFINERY_WORLD_SIZE !== undefined) {
    p = { rank: intEnv(env, 'REFINERY_RANK') ?? 0, worldSize: intEnv(env, 'REFINERY_WORLD_SIZE') ?? 1, from: 'REFINERY_RANK' };
  } else {
    p = { rank: 0, worldSize: 1, from: 'local' };
  }
  if (p.worldSize < 1 || p.rank >= p.worldSize) {
    throw new UserError(`rank ${p.rank} is outside world size ${p.worldSize} (from ${p.from})`);
  }
  return p;
}

export interface Manifest {
  refinery: string;
  schema_version: number;
  stage: string;
  config: StageConfig;
  config_hash: string;
  inputs: string[];
  tasks: number;
  tasks_done: number;
  totals: Totals;
  accounting: 'ok' | string[];
  updated_at: string;
}

export function readManifest(out: string): Manifest | null {
  const path = layout.manifest(out);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (err) {
    throw new UserError(`${path}: unreadable manifest (${errorMessage(err)})`);
  }
}

/**
 * Make sure `out` is either new, or a previous run of the very same stage, config and
 * inputs (then finished tasks are kept). --overwrite clears a previous refinery run;
 * a directory that is not a refinery output is never written into or deleted.
 */
function prepareOutput(out: string, manifest: Omit<Manifest, 'totals' | 'tasks_done' | 'accounting' | 'updated_at'>, overwrite: boolean, reads: readonly string[]): void {
  claimDir(out, 'output', manifest.stage, legacyOutput);
  const previous = readManifest(out);
  if (!previous) return;
  const same =
    previous.stage === manifest.stage &&
    previous.config_hash === manifest.config_hash &&
    JSON.stringify(previous.inputs) === JSON.stringify(manifest.inputs);
  if (!same && !overwrite) {
    const what =
      previous.stage !== manifest.stage
        ? `a "${previous.stage}" run`
        : previous.config_hash !== manifest.config_hash
          ? `a run with another config (hash ${previous.config_hash}, now ${manifest.config_hash})`
          : 'a run over other input files';
    throw new UserError(`${out}: holds ${what}; pass --overwrite to replace it, or choose another output directory`);
  }
  if (!same || overwrite) {
    const other = liveClaim(out);
    if (other) throw new UserError(`${out}: another run (pid ${other.pid} on ${other.host}) is writing into it; wait for it or stop it before replacing its output`);
    removeOwned(out, reads);
  }
}

export interface WorkerRequest {
  type: 'run';
  stage: string;
  config: StageConfig;
  configHash: string;
  task: TaskInput;
  out: string;
  maxPartBytes: number;
  compression: Compression;
  attempt: number;
}

export type WorkerMessage =
  | { type: 'progress'; docs: number; bytes: number }
  | { type: 'warning'; message: string }
  | { type: 'done'; stats: TaskStats }
  | { type: 'failed'; error: string };

export interface StageRun {
  stage: Stage;
  /** Parsed with `stage.options`. */
  config: StageConfig;
  inputs: readonly string[];
  out: string;
  options: RunOptions;
  /**
   * Script that serves `WorkerRequest`s (pipeline/worker.js). With it, tasks always run in
   * child processes, so a crash (out of memory, a native fault) costs one task, not the run;
   * without it (library use, tests from sources) they run in this process.
   */
  workerScript?: string;
  env?: NodeJS.ProcessEnv;
  version?: string;
  /** Where log lines go (default stderr). */
  log?: (line: string) => void;
}

export interface StageResult {
  out: string;
  placement: Placement;
  ran: number;
  skipped: number;
  failed: { task: TaskInput; error: string }[];
  totals: Totals;
}

export async function runStage(run: StageRun): Promise<StageResult> {
  const { stage, config, out, options } = run;
  const log = run.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const inputs = stage.resolveInputs ? await stage.resolveInputs(config, run.inputs) : run.inputs;
  const tasks = listTasks(stage.input, inputs);
  // What the run reads: never written over, never deleted.
  const reads = [...inputs, ...tasks.map((t) => t.path)];
  refuseInputOverlap([out], reads);
  const placement = resolvePlacement(options, run.env);
  const hash = configHash(config);
  const base = {
    refinery: run.version ?? '0.0.0',
    schema_version: SCHEMA_VERSION,
    stage: stage.name,
    config,
    config_hash: hash,
    inputs: inputIdentity(tasks),
    tasks: tasks.length,
  };
  // Bad input shards, and inputs without the columns the stage reads, are refused before anything is written.
  if (stage.input.kind === 'shards') await checkInputShards(stage, config, tasks);
  prepareOutput(out, base, options.overwrite, reads);
  writingInto(out, () => {
    ensureLayout(out);
    writeManifest(out, base);
  });

  const mine = tasks.filter((t) => t.index % placement.worldSize === placement.rank);
  const marker = (t: TaskInput) => (existsSync(layout.doneFile(out, t.index)) ? readFileSync(layout.doneFile(out, t.index), 'utf8') : null);
  const markers = new Map(mine.map((t) => [t.index, marker(t)]));
  const changed = mine.filter((t) => {
    const m = markers.get(t.index);
    return m != null && !doneForSameInput(m, t);
  });
  if (changed.length > 0) {
    log(`${stage.name}: ${plural(changed.length, 'input')} changed since ${changed.length === 1 ? 'its task' : 'their tasks'} ran (${changed[0].path}${changed.length > 1 ? ', ...' : ''}): running again`);
  }
  const pending = mine.filter((t) => markers.get(t.index) == null || changed.includes(t));
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), pending.length));
  const where = placement.worldSize > 1 ? `, rank ${placement.rank}/${placement.worldSize} (${placement.from})` : '';
  const already = mine.length - pending.length;
  log(
    `${stage.name}: ${plural(tasks.length, 'task')}${where}; ${pending.length} to run${already ? `, ${already} already done` : ''}; ` +
      `${workers} worker${workers > 1 ? 's' : ''} -> ${out}`,
  );

  const progress = new Progress(stage.name, pending.length, options.progress as ProgressMode);
  const request = (task: TaskInput, attempt: number): WorkerRequest => ({
    type: 'run',
    stage: stage.name,
    config,
    configHash: hash,
    task,
    out,
    maxPartBytes: options.max_part_size,
    compression: options.compression,
    attempt,
  });
  const failed: { task: TaskInput; error: string }[] = [];
  let ran = 0;
  // Another run into the same output may be running some of these tasks: each task runs in
  // the run that claims it (core/claims.ts); this one waits for the others' tasks, and runs
  // those whose run failed them or died.
  const isDone = (t: TaskInput) => {
    const m = marker(t);
    return m != null && doneForSameInput(m, t);
  };
  const held = new Set<number>();
  const stopHeartbeat = heartbeat(out, held);
  try {
    let todo = pending;
    let waiting = false;
    while (todo.length > 0) {
      const claimed: TaskInput[] = [];
      const others: TaskInput[] = [];
      for (const t of todo) {
        if (!claimTask(out, t.index)) others.push(t);
        else if (isDone(t)) {
          releaseTask(out, t.index); // another run finished it since it was listed
          progress.taskDone();
        } else {
          held.add(t.index);
          claimed.push(t);
        }
      }
      if (claimed.length > 0) {
        const size = Math.min(workers, claimed.length);
        const f = run.workerScript
          ? await runPool(claimed, size, options.retries, request, run.workerScript, progress)
          : await runInProcess(claimed, options.retries, run, hash, progress);
        for (const t of claimed) {
          releaseTask(out, t.index);
          held.delete(t.index);
        }
        failed.push(...f);
        ran += claimed.length - f.length;
      }
      todo = others.filter((t) => {
        if (!isDone(t)) return true;
        progress.taskDone();
        return false;
      });
      if (todo.length > 0) {
        if (!waiting) {
          const holder = claimHolder(out, todo[0].index);
          progress.message(`${stage.name}: waiting for ${plural(todo.length, 'task')} that another run${holder ? ` (pid ${holder.pid} on ${holder.host})` : ''} is running`);
          waiting = true;
        }
        await sleep(WAIT_MS);
      }
    }
  } finally {
    stopHeartbeat();
    for (const task of held) releaseTask(out, task);
    tidyClaims(out);
    progress.finish();
  }

  // The totals are those of the finished tasks, whichever run finished them.
  const all = readTaskStats(out).filter((s) => existsSync(layout.doneFile(out, s.task)));
  const violations = all.flatMap(accountingViolations);
  const totals = sumStats(all);
  writeManifest(out, base, all.length, totals, violations);
  for (const f of failed) log(`${stage.name}: task ${f.task.index} failed: ${f.task.path}: ${f.error}`);
  if (violations.length > 0) {
    throw new RunError(`${stage.name}: accounting invariant broken in ${out}:\n  ${violations.join('\n  ')}`);
  }
  log(summaryLine(stage.name, totals, ran, failed.length));
  return { out, placement, ran, skipped: mine.length - ran - failed.length, failed, totals };
}

/**
 * Every input shard opens, and has the columns the stage needs; a needed column must hold a
 * value somewhere (checked on the first record batch of each shard until one has: raw HTML
 * shards hold text only as nulls).
 */
async function checkInputShards(stage: Stage, config: StageConfig, tasks: readonly TaskInput[]): Promise<void> {
  const needs = stage.needs?.(config) ?? [];
  const filled = new Set<string>();
  let rowsSeen = false;
  for (const t of tasks) {
    const shard = await openShard(t.path);
    try {
      for (const need of needs) {
        if (!shard.columns.some((c) => c.name === need.name)) {
          throw new UserError(`${t.path}: has no "${need.name}" column, which ${stage.name} reads (${need.from})`);
        }
      }
      const open = needs.filter((n) => !filled.has(n.name));
      if (open.length === 0) continue;
      for await (const batch of shard.readBatches()) {
        rowsSeen ||= batch.numRows > 0;
        for (const n of open) if ((batch.getChild(n.name)?.nullCount ?? batch.numRows) < batch.numRows) filled.add(n.name);
        break;
      }
    } finally {
      await shard.close();
    }
  }
  const empty = needs.find((n) => !filled.has(n.name));
  // Inputs without rows (everything excluded upstream) pass: there is nothing to read.
  if (empty && rowsSeen) {
    throw new UserError(`${stage.name}: the "${empty.name}" column is null in every input shard; ${stage.name} reads it (${empty.from})`);
  }
}

/** How often a run waiting for another run's tasks looks again. */
const WAIT_MS = 500;

const plural = (n: number, word: string) => `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;

function summaryLine(name: string, t: Totals, ran: number, failed: number): string {
  const drops = t.steps
    .filter((s) => s.dropped > 0)
    .map((s) => `${s.name} ${formatCount(s.dropped)}`)
    .join(', ');
  return (
    `${name}: ${formatCount(t.docs_in)} docs in, ${formatCount(t.docs_kept)} kept, ${formatCount(t.docs_excluded)} excluded` +
    `${drops ? ` (${drops})` : ''}; ${formatBytes(t.bytes_in)} in, ${formatBytes(t.bytes_kept)} kept` +
    `${t.problems ? `; ${formatCount(t.problems)} damaged input spots` : ''}; ${plural(ran, 'task')} run${failed ? `, ${failed} FAILED` : ''}`
  );
}

function writeManifest(
  out: string,
  base: Omit<Manifest, 'totals' | 'tasks_done' | 'accounting' | 'updated_at'>,
  done = 0,
  totals = sumStats([]),
  violations: string[] = [],
): void {
  const manifest: Manifest = {
    ...base,
    tasks_done: done,
    totals,
    accounting: violations.length ? violations : 'ok',
    updated_at: new Date().toISOString(),
  };
  writeFileAtomic(layout.manifest(out), `${JSON.stringify(manifest, null, 1)}\n`);
}

async function runInProcess(
  pending: TaskInput[],
  retries: number,
  run: StageRun,
  hash: string,
  progress: Progress,
): Promise<{ task: TaskInput; error: string }[]> {
  const failed: { task: TaskInput; error: string }[] = [];
  for (const task of pending) {
    let lastError = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        await runTask({
          stage: run.stage,
          config: run.config,
          configHash: hash,
          task,
          out: run.out,
          maxPartBytes: run.options.max_part_size,
          compression: run.options.compression,
          attempt,
          onProgress: (d, b) => progress.add(d, b),
          onWarning: (m) => progress.message(`warning: ${m}`),
        });
        lastError = '';
        break;
      } catch (err) {
        lastError = errorMessage(err);
        if (attempt < retries) progress.message(`${run.stage.name}: task ${task.index} failed (${lastError}); retrying`);
      }
    }
    if (lastError) {
      failed.push({ task, error: lastError });
      progress.taskFailed();
    } else progress.taskDone();
  }
  return failed;
}

/**
 * Pool workers' environment: glibc's malloc asks for transparent huge pages for its large
 * blocks. Big documents are a few large buffers, and filling fresh memory 4 KB page by page
 * was most of their cost: a 200 MB JSONL line took 254k page faults and 2.4 s of system time,
 * 157k and 1.7 s with huge pages (task 4.8 s -> 3.6 s). Where THP is off the setting does nothing;
 * a user's own GLIBC_TUNABLES is kept, and wins if it sets this one.
 */
function workerEnv(): NodeJS.ProcessEnv {
  const tunables = process.env.GLIBC_TUNABLES;
  if (tunables?.includes('glibc.malloc.hugetlb')) return process.env;
  return { ...process.env, GLIBC_TUNABLES: tunables ? `${tunables}:glibc.malloc.hugetlb=1` : 'glibc.malloc.hugetlb=1' };
}

/** A local process pool: each worker runs one task at a time; a crashed worker fails only its task. */
function runPool(
  pending: TaskInput[],
  size: number,
  retries: number,
  request: (task: TaskInput, attempt: number) => WorkerRequest,
  script: string,
  progress: Progress,
): Promise<{ task: TaskInput; error: string }[]> {
  const queue = [...pending];
  const attempts = new Map<number, number>();
  const failed: { task: TaskInput; error: string }[] = [];
  let running = 0;

  return new Promise((resolve) => {
    const settle = (task: TaskInput, error: string | null) => {
      if (error === null) progress.taskDone();
      else {
        const n = (attempts.get(task.index) ?? 0) + 1;
        attempts.set(task.index, n);
        if (n <= retries) {
          progress.message(`task ${task.index} failed (${error}); retrying (${n}/${retries})`);
          queue.push(task);
        } else {
          failed.push({ task, error });
          progress.taskFailed();
        }
      }
    };

    const spawn = () => {
      const child: ChildProcess = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: workerEnv() });
      running++;
      let current: TaskInput | null = null;
      const next = () => {
        current = queue.shift() ?? null;
        if (current) child.send(request(current, attempts.get(current.index) ?? 0));
        else child.disconnect();
      };
      child.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'progress') progress.add(msg.docs, msg.bytes);
        else if (msg.type === 'warning') progress.message(`warning: ${msg.message}`);
        else if (current) {
          settle(current, msg.type === 'done' ? null : msg.error);
          next();
        }
      });
      child.on('error', (err) => progress.message(`worker ${child.pid}: ${err.message}`));
      child.on('exit', (code, signal) => {
        running--;
        if (current) {
          settle(current, `worker exited (${signal ?? `code ${code}`}) while running it`);
          current = null;
        }
        // A crashed worker is replaced while work remains.
        if (queue.length > 0 && running < size) spawn();
        else if (running === 0) resolve(failed);
      });
      next();
    };

    for (let i = 0; i < size; i++) spawn();
  });
}

/** How plans run: the compiled pool worker, the version, the command line (for job processes), the log. */
export interface Runner {
  workerScript?: string;
  version?: string;
  /** The CLI arguments of the running command: a jobs phase runs it again, one rank per process. */
  argv?: readonly string[];
  log?: (line: string) => void;
}
