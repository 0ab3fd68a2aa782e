/**
 * What the scheduler executors share: a plan's phases as jobs. Every job is the user's own
 * command with `--phase ID`, run by each array task / indexed pod, which reads its rank from
 * the scheduler's variables (core/executor.ts `resolvePlacement`). Map and jobs phases are
 * split across ranks; a reduce runs once.
 */
import type { Plan, PlannedPhase } from '../core/plan.js';
import { phaseList } from '../core/plan.js';
import { phaseMissing } from '../core/run-plan.js';

export interface PhaseJob {
  /** The phase id: unique in the plan, used in job names. */
  id: string;
  kind: PlannedPhase['phase']['kind'];
  /** Ranks: the split count, or 1 for a reduce. */
  ranks: number;
  /** CLI arguments (after the program) that run this phase for one rank. */
  args: string[];
  /** A final reduce leaves no marker: its job's success is its completion. */
  final: boolean;
  planned: PlannedPhase;
}

/** The jobs of a plan: `ranks` for every split phase, one for each reduce. */
export function phaseJobs(command: readonly string[], plan: Plan, ranks: number, workers: number): PhaseJob[] {
  return phaseList(plan).map((p) => ({
    id: p.id,
    kind: p.phase.kind,
    ranks: p.phase.kind === 'reduce' ? 1 : ranks,
    args: [...command, '--phase', p.id, '--workers', String(workers), '--progress', 'log'],
    final: p.phase.kind === 'reduce' && p.phase.final === true,
    planned: p,
  }));
}

/** The arguments that prepare the output and work directories before the phases run. */
export const prepareArgs = (command: readonly string[]) => [...command, '--prepare'];

/** The jobs not finished on every rank; a final reduce, which leaves no marker, is done when `finalDone` says so. */
export function unfinished(jobs: readonly PhaseJob[], finalDone: (job: PhaseJob) => boolean): PhaseJob[] {
  // Every phase after an unfinished one is unfinished too (and may not be able to list its work yet).
  const first = jobs.findIndex((j) => (j.final ? !finalDone(j) : phaseMissing(j.planned) !== null));
  return first < 0 ? [] : jobs.slice(first);
}

/** A job name fit for Slurm and Kubernetes (lower case, digits, '-'; at most 63 characters). */
export function jobName(prefix: string, id: string): string {
  const clean = `${prefix}-${id}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return clean.slice(0, 63).replace(/-$/, '');
}
