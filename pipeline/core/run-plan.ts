/**
 * The local executor: walks a plan's phases in order in this process (map phases on the
 * local process pool, jobs on `--workers` processes, reduces here). With `--phase ID` it
 * runs one phase, for this process's rank: that is the contract the Slurm and Kubernetes
 * executors build on (every job is "the same command, one phase, one rank").
 *
 * Resuming: a map task, a job and a reduce each leave a done marker, so a rerun starts
 * where a killed run stopped. A phase that did new work makes the later phases' results in
 * the work directory stale: they are removed (through the guarded delete) and recomputed.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { configHash } from './config.js';
import { RunError, UserError } from './errors.js';
import { readManifest, resolvePlacement, runStage, type Runner } from './executor.js';
import { listTasks, isRemote } from './inputs.js';
import { jobDone, runJobs } from './jobs.js';
import { layout, writeFileAtomic } from './layout.js';
import { claimDir, legacyOutput, realPath, refuseInputOverlap, removeOwned, type Legacy } from './owned-dirs.js';
import { formatResult, phaseList, phaseOutputs, resultFile, usesWork, type Plan, type PlanPart, type PlannedPhase } from './plan.js';

const inside = (path: string, dir: string) => {
  const [p, d] = [realPath(path), realPath(dir)];
  return p === d || p.startsWith(`${d}/`);
};

/** What a part reads: never written over, never deleted. */
function partReads(part: PlanPart): string[] {
  const local = part.ctx.inputs.filter((i) => !isRemote(i));
  let files: string[] = [];
  try {
    files = listTasks({ kind: 'shards' }, local).map((t) => t.path);
  } catch {
    // Not shards (WARC files, JSONL): the inputs themselves are what is protected.
  }
  return [...local, ...files];
}

/**
 * A work directory an earlier version made: nothing at its top but this plan's phase
 * folders (or the names the operation used before plans), and among them a stage output.
 */
function legacyWorkOf(part: PlanPart): Legacy {
  const names = [...part.phases.map((p) => p.name), '_phases', ...(part.operation.legacyWork ?? [])];
  // The stage output may sit one level down (dedup lines kept it in lines/key-run/).
  const holdsOutput = (path: string) =>
    legacyOutput(path, []) || (existsSync(path) && statSync(path).isDirectory() && readdirSync(path).some((n) => legacyOutput(join(path, n), [])));
  return (dir, entries) => entries.every((n) => names.includes(n)) && entries.some((n) => holdsOutput(join(dir, n)));
}

/**
 * Claim the part's work directory. It serves one operation, config and set of inputs (kept in
 * `_phases/_plan.json`): results of another are stale. A whole run (`whole`) empties it then
 * (and with --overwrite); a single phase (`--phase`, many ranks at once) refuses to use it.
 */
function preparePart(part: PlanPart, whole: boolean, log: (line: string) => void): void {
  if (!usesWork(part)) return;
  const { work, out } = part.ctx;
  const reads = partReads(part);
  refuseInputOverlap([out, work], reads);
  if (inside(work, out) || inside(out, work)) throw new UserError(`${work}: the work directory and the output ${out} must not lie one inside the other`);
  claimDir(work, 'work', part.operation.name, legacyWorkOf(part));
  const stamp = `${JSON.stringify({ operation: part.operation.name, config_hash: configHash(part.config), inputs: part.ctx.inputs.map((i) => realPath(i)) })}\n`;
  const file = join(work, '_phases', '_plan.json');
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : null;
  if (whole && part.options.overwrite) removeOwned(work, reads);
  else if (previous !== null && previous !== stamp) {
    if (!whole) throw new UserError(`${work}: holds the results of another config or other inputs; run the command once without --phase (or with --overwrite) to start over`);
    log(`${part.operation.name}: ${work} held the results of another config or other inputs; starting over`);
    removeOwned(work, reads);
  }
  if (!existsSync(file) || readFileSync(file, 'utf8') !== stamp) writeFileAtomic(file, stamp);
}

/**
 * What a run of the whole plan does before its first phase, for executors that then submit
 * the phases as jobs (Slurm, Kubernetes): work directories claimed, stale ones and, with
 * --overwrite, the previous run's outputs emptied. The jobs then run without --overwrite.
 */
export function preparePlan(plan: Plan, log: (line: string) => void): void {
  for (const part of plan.parts) {
    preparePart(part, true, log);
    if (!part.options.overwrite) continue;
    const reads = partReads(part);
    for (const dir of part.phases.flatMap(phaseOutputs)) {
      if (inWork(part, dir) || !existsSync(dir)) continue;
      refuseInputOverlap([dir], reads);
      claimDir(dir, 'output', part.operation.name, legacyOutput);
      removeOwned(dir, reads);
    }
  }
}

const inWork = (part: PlanPart, path: string) => inside(path, part.ctx.work);

/** Whether a phase finished everywhere (all ranks), and if not what is missing. */
export function phaseMissing(p: PlannedPhase): string | null {
  const { phase, part } = p;
  if (phase.kind === 'map') {
    const manifest = readManifest(phase.out);
    if (!manifest) return `${phase.out} has no manifest`;
    const done = existsSync(layout.doneDir(phase.out)) ? readdirSync(layout.doneDir(phase.out)).length : 0;
    return done >= manifest.tasks ? null : `${manifest.tasks - done} of ${manifest.tasks} tasks`;
  }
  if (phase.kind === 'jobs') {
    const jobs = phase.jobs();
    const missing = jobs.filter((j) => !existsSync(jobDone(phase.dir, j))).length;
    return missing === 0 ? null : `${missing} of ${jobs.length} jobs`;
  }
  if (phase.final) return null;
  return existsSync(resultFile(part.ctx.work, phase.name)) ? null : 'its result';
}

/** Remove the results of the phases after `p` that live in the work directory: they were made from older data. */
function invalidateAfter(p: PlannedPhase, all: PlannedPhase[]): void {
  const { part } = p;
  const later = all.slice(all.indexOf(p) + 1).filter((q) => q.part === part);
  const reads = partReads(part);
  for (const q of later) {
    for (const dir of phaseOutputs(q.phase)) if (inWork(part, dir)) removeOwned(dir, reads);
    if (q.phase.kind === 'reduce' && !q.phase.final) removeOwned(resultFile(part.ctx.work, q.phase.name), reads);
  }
}

/** Run one phase for this process's rank: whether it did new work, or was another rank's ('elsewhere'). */
async function runPhase(p: PlannedPhase, r: Runner, whole: boolean): Promise<boolean | 'elsewhere'> {
  const { phase, part } = p;
  const { options } = part;
  const log = r.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const label = phase.name === part.operation.name ? phase.name : `${part.operation.name} ${phase.name}`;
  switch (phase.kind) {
    case 'map': {
      // Many ranks run one phase at once: only a whole run may empty a previous output.
      const overwrite = whole && options.overwrite && !inWork(part, phase.out);
      const result = await runStage({ stage: phase.stage, config: phase.config(), inputs: phase.inputs, out: phase.out, options: { ...options, overwrite }, workerScript: r.workerScript, version: r.version, log });
      if (result.failed.length > 0) {
        throw new RunError(`${label}: ${result.failed.length} task(s) failed; rerun the same command to retry them (finished tasks are kept)`);
      }
      return result.ran > 0;
    }
    case 'jobs': {
      const result = await runJobs({
        name: label,
        jobs: phase.jobs(),
        dir: phase.dir,
        workers: options.workers ?? 1,
        rank: options.rank,
        world_size: options.world_size,
        progress: options.progress,
        // Local parallelism: this same command, this phase, one rank per process.
        childArgs: r.argv ? [...r.argv, '--phase', p.id, '--progress', 'off'] : undefined,
        log,
        run: (job) => phase.run(job),
      });
      if (result.failed.length > 0) throw new RunError(`${label}: ${result.failed.length} job(s) failed; rerun the same command to retry them`);
      return result.ran > 0;
    }
    case 'reduce': {
      const placement = resolvePlacement(options);
      if (placement.rank !== 0) {
        log(`${label}: runs once, on rank 0 (this is rank ${placement.rank})`);
        return 'elsewhere';
      }
      const file = resultFile(part.ctx.work, phase.name);
      if (!phase.final && existsSync(file)) {
        log(`${label}: already done (${file})`);
        return false;
      }
      const result = await phase.run(log);
      if (!phase.final) writeFileAtomic(file, formatResult(result));
      return !phase.final;
    }
  }
}

/**
 * Walk the plan: every phase in order, or only phase `only` (its id) for this rank. Returns
 * whether the plan's last phase ran in this process (so its results are there to show).
 */
export async function runPlan(plan: Plan, r: Runner, only?: string): Promise<boolean> {
  const run = { phase: only };
  const log = r.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const all = phaseList(plan);
  let selected = all;
  if (run.phase !== undefined) {
    const one = all.find((p) => p.id === run.phase);
    if (!one) throw new UserError(`--phase ${run.phase}: no such phase (phases: ${all.map((p) => p.id).join(', ')})`);
    selected = [one];
  } else {
    for (const part of plan.parts) {
      const placement = resolvePlacement(part.options);
      if (placement.worldSize > 1 && all.length > 1) {
        throw new UserError(
          `${part.operation.name} has ${all.length} phases (${all.map((p) => p.id).join(', ')}); across ranks, run one phase at a time with --phase ID on every rank ` +
            `(refinery slurm and refinery k8s do this for you)`,
        );
      }
    }
  }
  for (const part of new Set(selected.map((p) => p.part))) {
    preparePart(part, run.phase === undefined, log);
  }
  for (const p of selected) {
    if (p === all.find((q) => q.part === p.part)) await p.part.operation.check?.(p.part.config, p.part.ctx.inputs);
    if (run.phase !== undefined) {
      // A phase reads what the phases before it wrote: they must be complete on every rank.
      for (const before of all.slice(0, all.indexOf(p))) {
        const missing = phaseMissing(before);
        if (missing) throw new UserError(`phase ${p.id} needs phase ${before.id} finished first (missing: ${missing}); run --phase ${before.id} on every rank`);
      }
    }
    const outcome = await runPhase(p, r, run.phase === undefined);
    if (outcome === true) invalidateAfter(p, all);
    if (p === all.at(-1)) return outcome !== 'elsewhere';
  }
  return false;
}

