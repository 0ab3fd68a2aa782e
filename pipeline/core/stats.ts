/**
 * Per-task statistics and the accounting invariant:
 *   docs in = kept + excluded, for the task and for every step (in = out + dropped),
 * and every step's input is the previous step's output.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { layout } from './layout.js';

export interface StepStats {
  name: string;
  kind: 'read' | 'annotate' | 'filter' | 'transform';
  in: number;
  out: number;
  dropped: number;
  /** Exceptions thrown by the step; those documents are excluded with reason "error". */
  errors: number;
  /** Dropped documents per reason. */
  reasons: Record<string, number>;
  bytes_dropped: number;
}

export interface Problem {
  /** Where in the input: a byte offset, a line number, a record id. */
  where: string;
  reason: string;
}

/** Documents and bytes through a task, a stage, or a stage output: the funnel's units. */
export interface DocCounts {
  docs_in: number;
  docs_kept: number;
  docs_excluded: number;
  bytes_in: number;
  bytes_kept: number;
  bytes_excluded: number;
  seconds: number;
  /** What the reader saw besides documents: records by type, records skipped and why. */
  counters: Record<string, number>;
}

export const emptyCounts = (): DocCounts => ({ docs_in: 0, docs_kept: 0, docs_excluded: 0, bytes_in: 0, bytes_kept: 0, bytes_excluded: 0, seconds: 0, counters: {} });

export interface TaskStats extends DocCounts {
  task: number;
  input: string;
  /** The "read" step first (its drops are records the reader could not parse), then the stage's steps in order. */
  steps: StepStats[];
  /** Damaged input that yielded no document (garbage between records, a truncated stream). */
  problems: Problem[];
  problems_total: number;
  outputs: string[];
  excluded_outputs: string[];
}

export const MAX_PROBLEMS_LISTED = 100;

export function newStepStats(name: string, kind: StepStats['kind']): StepStats {
  return { name, kind, in: 0, out: 0, dropped: 0, errors: 0, reasons: {}, bytes_dropped: 0 };
}

/** Every broken rule of the accounting invariant, as readable sentences (empty when it holds). */
export function accountingViolations(stats: TaskStats): string[] {
  const where = `task ${stats.task} (${stats.input})`;
  const out: string[] = [];
  if (stats.docs_in !== stats.docs_kept + stats.docs_excluded) {
    out.push(`${where}: ${stats.docs_in} in != ${stats.docs_kept} kept + ${stats.docs_excluded} excluded`);
  }
  let flowing = stats.docs_in;
  let droppedTotal = 0;
  for (const step of stats.steps) {
    if (step.in !== flowing) {
      out.push(`${where}: step "${step.name}" saw ${step.in} documents but ${flowing} reached it`);
    }
    if (step.in !== step.out + step.dropped) {
      out.push(`${where}: step "${step.name}": ${step.in} in != ${step.out} out + ${step.dropped} dropped`);
    }
    const byReason = Object.values(step.reasons).reduce((a, b) => a + b, 0);
    if (byReason !== step.dropped) {
      out.push(`${where}: step "${step.name}": reasons add up to ${byReason}, dropped ${step.dropped}`);
    }
    flowing = step.out;
    droppedTotal += step.dropped;
  }
  if (flowing !== stats.docs_kept) out.push(`${where}: last step passed ${flowing}, kept ${stats.docs_kept}`);
  if (droppedTotal !== stats.docs_excluded) {
    out.push(`${where}: steps dropped ${droppedTotal}, excluded ${stats.docs_excluded}`);
  }
  return out;
}

export function readTaskStats(out: string): TaskStats[] {
  let names: string[];
  try {
    names = readdirSync(layout.statsDir(out));
  } catch {
    return [];
  }
  return names
    .filter((n) => /^task-\d+\.json$/.test(n))
    .sort()
    .map((n) => JSON.parse(readFileSync(join(layout.statsDir(out), n), 'utf8')) as TaskStats);
}

export interface StepTotals {
  name: string;
  kind: StepStats['kind'];
  in: number;
  out: number;
  dropped: number;
  errors: number;
  bytes_dropped: number;
  reasons: Record<string, number>;
}

export interface Totals extends DocCounts {
  tasks: number;
  problems: number;
  steps: StepTotals[];
}

/** Sum task stats; steps are matched by name, in first-seen order. */
export function sumStats(all: readonly TaskStats[]): Totals {
  const totals: Totals = { ...emptyCounts(), tasks: all.length, problems: 0, steps: [] };
  const byName = new Map<string, StepTotals>();
  for (const s of all) {
    totals.docs_in += s.docs_in;
    totals.docs_kept += s.docs_kept;
    totals.docs_excluded += s.docs_excluded;
    totals.bytes_in += s.bytes_in;
    totals.bytes_kept += s.bytes_kept;
    totals.bytes_excluded += s.bytes_excluded;
    totals.seconds += s.seconds;
    totals.problems += s.problems_total;
    for (const [name, n] of Object.entries(s.counters ?? {})) totals.counters[name] = (totals.counters[name] ?? 0) + n;
    for (const step of s.steps) {
      let t = byName.get(step.name);
      if (!t) {
        t = { name: step.name, kind: step.kind, in: 0, out: 0, dropped: 0, errors: 0, bytes_dropped: 0, reasons: {} };
        byName.set(step.name, t);
        totals.steps.push(t);
      }
      t.in += step.in;
      t.out += step.out;
      t.dropped += step.dropped;
      t.errors += step.errors;
      t.bytes_dropped += step.bytes_dropped;
      for (const [reason, n] of Object.entries(step.reasons)) t.reasons[reason] = (t.reasons[reason] ?? 0) + n;
    }
  }
  totals.seconds = Math.round(totals.seconds * 1000) / 1000;
  return totals;
}
