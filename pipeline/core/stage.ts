/**
 * The stage contract (DESIGN.md): a stage is a validated config plus a chain of small
 * steps over a stream of documents. Steps come in three shapes:
 *   - annotate: sets columns it declares in `adds`;
 *   - filter: returns `drop(reason)` to remove a document, nothing to keep it;
 *   - transform: rewrites `text`.
 * Stats, exclusion shards, completion markers and atomic output come from `runTask`,
 * so a step is one short function.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type * as z from 'zod';
import type { Compression } from './compression.js';
import { errorMessage } from './errors.js';
import { taskIdentity } from './inputs.js';
import { clearTaskOutputs, ensureLayout, layout, writeFileAtomic } from './layout.js';
import {
  EXCLUSION_COLUMNS,
  META,
  SCHEMA_VERSION,
  docBytes,
  mergeColumns,
  type ColumnSpec,
  type Doc,
} from './schema.js';
import { openShard } from './shard-reader.js';
import { ShardWriter } from './shard-writer.js';
import { MAX_PROBLEMS_LISTED, emptyCounts, newStepStats, type StepStats, type TaskStats } from './stats.js';

export interface Drop {
  drop: string;
  /** Specifics, appended to the reason in the exclusion shard's `reason` column. Stats count by `drop` only. */
  detail?: string;
}
export type StepResult = Drop | undefined | void;
export const drop = (reason: string, detail?: string): Drop => ({ drop: reason, detail });

export interface Step {
  name: string;
  kind: 'annotate' | 'filter' | 'transform';
  /** Columns this step writes. */
  adds?: readonly ColumnSpec[];
  /** Columns this step owns and removes from the output (extract removes `html`). */
  removes?: readonly string[];
  apply(doc: Doc): StepResult | Promise<StepResult>;
  /** Release what the step holds (a model's process) when its task ends, finished or not. */
  close?(): void | Promise<void>;
}

/** One input file of a stage run. */
export interface TaskInput {
  index: number;
  path: string;
  /** Path relative to the input argument it was found under; stable across machines, used in ids. */
  rel: string;
}

export interface TaskContext {
  task: TaskInput;
  /**
   * A record that could not become a valid document: it goes to the exclusion shard with
   * its reason. Call it while `docs` is iterated (the columns are known by then).
   */
  reject(doc: Doc, reason: string, detail?: string): void;
  /** Damaged input that yields no document at all (garbage, a truncated stream). */
  problem(where: string, reason: string): void;
  /** Count something the reader saw that is not a document (a skipped record type, ...). */
  count(name: string, n?: number): void;
}

export interface TaskSource {
  columns: readonly ColumnSpec[];
  docs: AsyncIterable<Doc> | Iterable<Doc>;
  /** The input shard's file metadata, when the task reads a shard. */
  metadata?: ReadonlyMap<string, string>;
}

/** Where kept documents go. The default writes Arrow shards; export writes JSONL. */
export interface Sink {
  readonly rows: number;
  write(doc: Doc): void;
  /** Final paths after the atomic rename. */
  publish(): string[] | Promise<string[]>;
  abort(): void | Promise<void>;
}

export interface SinkOptions {
  dir: string;
  /** The file name prefix of this task's parts (`part-00007`). */
  base: string;
  /** The task's index: a sink that writes its own files names them by it, never by parsing `base`. */
  task: number;
  columns: readonly ColumnSpec[];
  metadata: Record<string, string>;
  /** The file metadata of the task's input shard (empty for inputs that are not shards): export carries it over. */
  inputMetadata: Record<string, string>;
  maxPartBytes?: number;
  compression?: Compression;
}
export type SinkFactory = (opts: SinkOptions) => Sink;

export type InputSpec =
  | { kind: 'shards' }
  | { kind: 'files'; extensions: readonly string[]; what: string; urls?: boolean };

export interface StageDef<C extends z.ZodObject> {
  name: string;
  /** A step of a larger command (dedup's): runnable by workers and pipelines, not a command of its own. */
  internal?: boolean;
  /** One line for `refinery --help`. */
  summary: string;
  /** Longer help shown by `refinery <stage> --help`. */
  description?: string;
  options: C;
  /** What a task reads: shards (the default), or files of other kinds (ingest, import). */
  input?: InputSpec;
  /** Turn options into inputs (a crawl id into file URLs, say) before tasks are listed. */
  resolveInputs?(config: z.infer<C>, inputs: readonly string[]): Promise<string[]>;
  /** Turn one input file into documents. Defaults to reading a shard. */
  open?(task: TaskInput, config: z.infer<C>, ctx: TaskContext): Promise<TaskSource>;
  /** The chain of steps for one task; `columns` are those of its input. */
  steps?(config: z.infer<C>, columns: readonly ColumnSpec[], task: TaskInput, ctx: TaskContext): Step[] | Promise<Step[]>;
  sink?(config: z.infer<C>): SinkFactory;
  /**
   * Columns the stage reads (for this config), with what makes them: an input without one,
   * or whose every value is null, is refused before any task runs.
   */
  needs?(config: z.infer<C>): readonly NeededColumn[];
}

export interface NeededColumn {
  name: string;
  /** What writes it, for the message ("run refinery extract first"). */
  from: string;
}

/** The main text, which every stage after extract reads. */
export const TEXT_COLUMN: NeededColumn = { name: 'text', from: 'refinery extract writes it from raw HTML, refinery import from JSONL; run one of them first' };
export const needsText = (): readonly NeededColumn[] => [TEXT_COLUMN];

export type StageConfig = Record<string, unknown>;

/** A stage with its config type erased, as held by the registry and the executor. */
export interface Stage {
  name: string;
  internal?: boolean;
  summary: string;
  description?: string;
  options: z.ZodObject;
  input: InputSpec;
  resolveInputs?(config: StageConfig, inputs: readonly string[]): Promise<string[]>;
  open?(task: TaskInput, config: StageConfig, ctx: TaskContext): Promise<TaskSource>;
  steps?(config: StageConfig, columns: readonly ColumnSpec[], task: TaskInput, ctx: TaskContext): Step[] | Promise<Step[]>;
  sink?(config: StageConfig): SinkFactory;
  needs?(config: StageConfig): readonly NeededColumn[];
}

/** Declare a stage with a typed config; configs are always parsed with `options` before use. */
export function defineStage<C extends z.ZodObject>(def: StageDef<C>): Stage {
  return { input: { kind: 'shards' }, ...def } as unknown as Stage;
}

export const shardSink: SinkFactory = (opts) => new ShardWriter(opts);

async function openShardSource(task: TaskInput): Promise<TaskSource> {
  const shard = await openShard(task.path);
  return { columns: shard.columns, docs: shard.docs(), metadata: shard.metadata };
}

export interface TaskRun {
  stage: Stage;
  config: StageConfig;
  configHash: string;
  task: TaskInput;
  out: string;
  maxPartBytes?: number;
  /** Body compression of the shards written (default: zstd). */
  compression?: Compression;
  /** 0 for the first try of this task in this run, 1 for the first retry, ... */
  attempt?: number;
  /** Called with documents and bytes read since the last call. */
  onProgress?(docs: number, bytes: number): void;
  /** A problem or rejected record worth telling the user about now (it is also in the stats). */
  onWarning?(message: string): void;
}

const PROGRESS_EVERY = 256;
const WARNINGS_PER_TASK = 5;

/**
 * Run one task to completion: read, apply steps, write kept and excluded shards,
 * publish them atomically, then write stats and the `_done` marker (in that order, so
 * a task with a marker is complete and a task without one is redone from scratch).
 */
export async function runTask(run: TaskRun): Promise<TaskStats> {
  const { stage, config, task, out } = run;
  const started = performance.now();
  ensureLayout(out);
  clearTaskOutputs(out, task.index);
  injectFault(task.index, run.attempt ?? 0);
  await injectDelay(task.index);
  // The input as it is when read: the done marker records it, so a rewritten input runs the task again.
  const identity = taskIdentity(task);

  const read = newStepStats('read', 'read');
  const stats: TaskStats = { ...emptyCounts(), task: task.index, input: task.path, steps: [read], problems: [], problems_total: 0, outputs: [], excluded_outputs: [] };

  let warnings = 0;
  const warn = (message: string) => {
    if (warnings++ < WARNINGS_PER_TASK) run.onWarning?.(message);
  };

  const metadata = {
    [META.schemaVersion]: String(SCHEMA_VERSION),
    [META.stage]: stage.name,
    [META.configHash]: run.configHash,
    [META.task]: String(task.index),
  };
  const base = layout.partBase(task.index);
  let columns: readonly ColumnSpec[] = [];
  let excludedSink: ShardWriter | null = null;
  let keptSink: Sink | null = null;

  const exclude = (doc: Doc, step: StepStats, reason: string, detail: string | undefined, bytes: number) => {
    step.dropped++;
    step.reasons[reason] = (step.reasons[reason] ?? 0) + 1;
    step.bytes_dropped += bytes;
    stats.docs_excluded++;
    stats.bytes_excluded += bytes;
    excludedSink ??= new ShardWriter({
      dir: layout.excludedDir(out),
      base,
      columns: mergeColumns(columns, EXCLUSION_COLUMNS),
      metadata,
      maxPartBytes: run.maxPartBytes,
      compression: run.compression,
    });
    doc.excluded_by = step.name;
    doc.reason = detail ? `${reason}: ${detail}` : reason;
    excludedSink.write(doc);
  };

  const ctx: TaskContext = {
    task,
    reject(doc, reason, detail) {
      const bytes = docBytes(doc);
      stats.docs_in++;
      stats.bytes_in += bytes;
      read.in++;
      exclude(doc, read, reason, detail, bytes);
      warn(`${doc.source ?? `${task.path} (${doc.id})`}: ${reason}${detail ? `: ${detail}` : ''}`);
    },
    problem(where, reason) {
      stats.problems_total++;
      if (stats.problems.length < MAX_PROBLEMS_LISTED) stats.problems.push({ where, reason });
      warn(`${task.path}: ${where}: ${reason}`);
    },
    count(name, n = 1) {
      stats.counters[name] = (stats.counters[name] ?? 0) + n;
    },
  };

  let steps: Step[] = [];
  try {
    const source = await (stage.open ? stage.open(task, config, ctx) : openShardSource(task));
    columns = source.columns;
    steps = (await stage.steps?.(config, columns, task, ctx)) ?? [];
    for (const step of steps) columns = mergeColumns(columns, step.adds ?? [], step.removes ?? []);
    const stepStats = steps.map((s) => newStepStats(s.name, s.kind));
    stats.steps.push(...stepStats);
    keptSink = (stage.sink?.(config) ?? shardSink)({ dir: out, base, task: task.index, columns, metadata, inputMetadata: Object.fromEntries(source.metadata ?? []), maxPartBytes: run.maxPartBytes, compression: run.compression });

    let sinceProgress = 0;
    let bytesSinceProgress = 0;
    for await (const doc of source.docs) {
      const bytes = docBytes(doc);
      stats.docs_in++;
      stats.bytes_in += bytes;
      read.in++;
      read.out++;
      let dropped = false;
      for (let s = 0; s < steps.length; s++) {
        const step = steps[s];
        const st = stepStats[s];
        st.in++;
        let result: StepResult;
        try {
          const r = step.apply(doc);
          result = r instanceof Promise ? await r : r;
        } catch (err) {
          st.errors++;
          const message = `${step.name} failed: ${errorMessage(err)}`;
          warn(`${task.path}: document ${doc.id}: ${message}`);
          result = drop('error', message);
        }
        if (result) {
          for (const name of step.removes ?? []) delete doc[name];
          exclude(doc, st, result.drop, result.detail, docBytes(doc));
          dropped = true;
          break;
        }
        st.out++;
      }
      if (!dropped) {
        keptSink.write(doc);
        stats.docs_kept++;
        stats.bytes_kept += docBytes(doc);
      }
      bytesSinceProgress += bytes;
      if (++sinceProgress === PROGRESS_EVERY) {
        run.onProgress?.(sinceProgress, bytesSinceProgress);
        sinceProgress = 0;
        bytesSinceProgress = 0;
      }
    }
    run.onProgress?.(sinceProgress, bytesSinceProgress);

    stats.outputs = (await keptSink.publish()).map(relativeTo(out));
    stats.excluded_outputs = ((excludedSink as ShardWriter | null)?.publish() ?? []).map(relativeTo(out));
  } catch (err) {
    await keptSink?.abort();
    (excludedSink as ShardWriter | null)?.abort();
    throw err;
  } finally {
    for (const step of steps) await step.close?.();
  }

  if (keptSink.rows !== stats.docs_kept) {
    throw new Error(`internal: sink wrote ${keptSink.rows} rows for ${stats.docs_kept} kept documents`);
  }
  stats.seconds = Math.round((performance.now() - started)) / 1000;
  writeFileAtomic(layout.statsFile(out, task.index), JSON.stringify(stats, null, 1));
  writeFileAtomic(layout.doneFile(out, task.index), identity);
  return stats;
}

/**
 * Failure injection for testing the executor's failure handling end to end through the
 * real CLI: REFINERY_FAIL_TASKS="3,5:1,7:crash" makes task 3 fail on every attempt,
 * task 5 on its first attempt only, and kills the process running task 7 (first attempt).
 */
function injectFault(task: number, attempt: number): void {
  const spec = process.env.REFINERY_FAIL_TASKS;
  if (!spec) return;
  for (const entry of spec.split(',')) {
    const [t, mode] = entry.split(':');
    if (Number(t) !== task) continue;
    if (mode === 'crash' && attempt === 0) process.kill(process.pid, 'SIGKILL');
    if (mode === undefined || (mode !== 'crash' && attempt < Number(mode))) {
      throw new Error(`injected failure (REFINERY_FAIL_TASKS=${spec}, attempt ${attempt})`);
    }
  }
}

/** For testing concurrent runs: REFINERY_HOLD_TASKS="0:/tmp/go" holds task 0 until /tmp/go exists. */
async function injectDelay(task: number): Promise<void> {
  for (const entry of process.env.REFINERY_HOLD_TASKS?.split(',') ?? []) {
    const at = entry.indexOf(':');
    if (Number(entry.slice(0, at)) !== task) continue;
    while (!existsSync(entry.slice(at + 1))) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const relativeTo = (out: string) => (file: string) => file.slice(out.length).replace(/^[/\\]+/, '');
