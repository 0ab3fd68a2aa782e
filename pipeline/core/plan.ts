/**
 * Operations as plans (DESIGN.md, "Execution"). An operation — a stage, dedup, mix, select,
 * quality with --keep-top, a whole pipeline file — declares an ordered list of phases:
 *
 *   map     the stage runner over one task per input file (pool, ranks, done markers)
 *   jobs    independent jobs that are not one shard in, one shard out (dedup's bucket
 *           partitions, line counting), also split across ranks
 *   reduce  run once (cluster, plan the mix, find the top-P% cut); its result is kept as
 *           JSON in the work directory and read by the phases after it
 *
 * A plan is data: executors (core/run-plan.ts locally, pipeline/slurm, pipeline/k8s) walk
 * the same phases and know no operation. `core/` owns the work directory of every plan:
 * where it is (`--work`, default `<output>-work`), its layout (one folder per phase,
 * `_phases/<phase>.json` for reduce results), and its cleanup (the guarded delete of
 * core/owned-dirs.ts). No operation computes a work path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as z from 'zod';
import { UserError } from './errors.js';
import type { RunOptions } from './executor.js';
import type { Stage, StageConfig } from './stage.js';

/** What an operation's phases are built from. */
export interface PlanContext {
  /** The inputs as given (files, directories, URLs). */
  inputs: readonly string[];
  /** The operation's output directory. */
  out: string;
  /** The work directory of the plan: phases put their intermediate results under it. */
  work: string;
  /** The folder of one phase inside the work directory. */
  dir(phase: string): string;
  /** The result a reduce phase recorded (read when a later phase runs, never while planning). */
  result<T>(phase: string): T;
}

export interface MapPhase {
  kind: 'map';
  name: string;
  stage: Stage;
  /** The stage's config; called when the phase runs, so it may read earlier results. */
  config(): StageConfig;
  inputs: readonly string[];
  out: string;
}

export interface JobsPhase {
  kind: 'jobs';
  name: string;
  /** Where the jobs' done markers and results go. */
  dir: string;
  /** The job names (called when the phase runs). */
  jobs(): string[];
  run(job: string): Promise<Record<string, unknown>>;
}

export interface ReducePhase {
  kind: 'reduce';
  name: string;
  /**
   * Runs once; the JSON-able result is kept in `_phases/<name>.json`, which marks the phase
   * done. A `final` reduce (a report over the finished output) has no marker: it is cheap and
   * runs every time, writing its files into the output.
   */
  run(log: (line: string) => void): unknown;
  final?: boolean;
  /** A folder of the work directory it writes besides its result (cleared with it when stale). */
  dir?: string;
}

export type Phase = MapPhase | JobsPhase | ReducePhase;

/** What a command (or a pipeline file's entry) names: validated options and the phases they become. */
export interface Operation {
  name: string;
  summary: string;
  description?: string;
  options: z.ZodObject;
  /** Help for the inputs argument. */
  inputsHelp?: string;
  /** Can find its own inputs from its options (ingest --cc), so it may start a pipeline without "input". */
  findsInputs?: boolean;
  /** Fails before the first phase runs when the config or the inputs cannot work (a missing column, ...). */
  check?(config: StageConfig, inputs: readonly string[]): void | Promise<void>;
  /** The phases; built without reading the inputs (in a pipeline they do not exist yet). */
  phases(config: StageConfig, ctx: PlanContext): Phase[];
  /** Top-level names its work directory had before plans, so an old one is adopted, not refused. */
  legacyWork?: readonly string[];
}

/** A stage is the operation of one map phase into the output. */
export function stageOperation(stage: Stage): Operation {
  const { input } = stage;
  return {
    name: stage.name,
    summary: stage.summary,
    description: stage.description,
    options: stage.options,
    findsInputs: stage.resolveInputs !== undefined,
    inputsHelp: input.kind === 'shards' ? undefined : `${input.what}, directories of them${input.urls ? ', or http(s) URLs' : ''}`,
    phases: (config, ctx) => [mapPhase(stage.name, stage, config, ctx.inputs, ctx.out)],
  };
}

/** A map phase whose config is known when planning. */
export function mapPhase(name: string, stage: Stage, config: StageConfig | (() => StageConfig), inputs: readonly string[], out: string): MapPhase {
  return { kind: 'map', name, stage, config: typeof config === 'function' ? config : () => config, inputs, out };
}

/** A value computed once, when first needed (after the phases before it ran). */
export function later<T>(make: () => T): () => T {
  let value: { v: T } | null = null;
  return () => (value ??= { v: make() }).v;
}

/** One operation of a plan, bound to its inputs, output and run options. */
export interface PlanPart {
  operation: Operation;
  config: StageConfig;
  ctx: PlanContext;
  options: RunOptions;
  phases: Phase[];
}

/** A phase with its place in the plan: what executors schedule. */
export interface PlannedPhase {
  /** Unique in the plan: the phase's name, or "N-operation[-phase]" in a pipeline of several. */
  id: string;
  part: PlanPart;
  phase: Phase;
}

export interface Plan {
  parts: PlanPart[];
}

const resultsDir = (work: string) => join(work, '_phases');

// Reduce results are JSON; a cut that keeps nothing is at +Infinity, which JSON cannot hold.
const INFINITE = /^-?Infinity$/;
export const formatResult = (value: unknown): string =>
  `${JSON.stringify(value ?? null, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) && !Number.isNaN(v) ? String(v) : v), 1)}\n`;
const parseResult = (text: string): unknown => JSON.parse(text, (_k, v: unknown) => (typeof v === 'string' && INFINITE.test(v) ? Number(v) : v));
export const resultFile = (work: string, phase: string) => join(resultsDir(work), `${phase}.json`);

export function planContext(inputs: readonly string[], out: string, work: string | undefined): PlanContext {
  const w = work ?? `${out.replace(/\/+$/, '')}-work`;
  return {
    inputs,
    out,
    work: w,
    dir: (phase) => join(w, phase),
    result<T>(phase: string): T {
      const file = resultFile(w, phase);
      if (!existsSync(file)) throw new UserError(`${w}: phase "${phase}" has not run (no ${file}); run the phases in order`);
      return parseResult(readFileSync(file, 'utf8')) as T;
    },
  };
}

/** Bind an operation to its inputs and output: its phases, with the work directory core chose. */
export function planOf(op: Operation, config: StageConfig, inputs: readonly string[], out: string, options: RunOptions): PlanPart {
  const ctx = planContext(inputs, out, options.work);
  return { operation: op, config, ctx, options, phases: op.phases(config, ctx) };
}

/** The phases of a plan in order, with their ids. */
export function phaseList(plan: Plan): PlannedPhase[] {
  const single = plan.parts.length === 1;
  return plan.parts.flatMap((part, i) =>
    part.phases.map((phase) => ({
      id: single ? phase.name : `${i + 1}-${part.operation.name}${phase.name === part.operation.name ? '' : `-${phase.name}`}`,
      part,
      phase,
    })),
  );
}

/** The directories a phase writes (for a reduce: none but its result file). */
export function phaseOutputs(phase: Phase): string[] {
  return phase.kind === 'map' ? [phase.out] : phase.kind === 'jobs' ? [phase.dir] : phase.dir ? [phase.dir] : [];
}

/** Whether the part keeps anything in its work directory (a one-phase stage does not). */
export function usesWork(part: PlanPart): boolean {
  const inWork = (p: string) => p === part.ctx.work || p.startsWith(`${part.ctx.work.replace(/\/+$/, '')}/`);
  return part.phases.some((p) => (p.kind === 'reduce' ? !p.final : phaseOutputs(p).some(inWork)));
}

/** A one-line description of a phase, for --list-phases and job logs. */
export function describePhase(p: PlannedPhase): string {
  const { phase } = p;
  const what =
    phase.kind === 'map'
      ? `map over ${phase.inputs.join(' ')} -> ${phase.out} (stage ${phase.stage.name})`
      : phase.kind === 'jobs'
        ? `jobs -> ${phase.dir}`
        : phase.final
          ? `reduce, once (report into ${p.part.ctx.out})`
          : `reduce, once -> ${resultFile(p.part.ctx.work, phase.name)}`;
  return `${p.id.padEnd(12)} ${phase.kind.padEnd(6)} ${what}`;
}
