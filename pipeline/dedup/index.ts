/**
 * Dedup as explicit steps over a work directory (DESIGN.md: "signatures -> bucket partitions
 * -> clusters (union-find) -> filter, as datatrove does it"):
 *
 *   signatures  one task per input shard: keys per document, partitioned      (stage, pool, ranks)
 *   buckets     one job per (key kind, partition): sort, edges between equals  (jobs, ranks, --memory)
 *   cluster     union-find over all edges, the keep rule, per-task lists        (global reduce)
 *   filter      one task per input shard: exclude what clusters do not keep    (stage, pool, ranks)
 *
 * `minhash` (near duplicates) and `exact` (same URL or text) run all four.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as z from 'zod';
import { byteSize } from '../core/config.js';
import { RunError, UserError } from '../core/errors.js';
import { runOptions, runStage, type RunOptions, type Runner, type StageResult } from '../core/executor.js';
import { inputIdentity, listTasks } from '../core/inputs.js';
import { runJobs } from '../core/jobs.js';
import { claimDir, prepareWork, removeOwned } from '../core/owned-dirs.js';
import { runBucketJob, bucketJobs } from './buckets.js';
import { runCluster, type ClusterSummary, type KeepRule } from './cluster.js';
import { filterStage } from './filter.js';
import { keyKinds, signatureOptions, signatureStage, type SignatureConfig } from './signatures.js';
import { legacyWorkDir, paths, readPlan, type DedupPlan } from './work.js';

export const bucketOptions = z
  .object({
    work: z.string().min(1).describe('the dedup work directory'),
    memory: byteSize().prefault('1GiB').describe('memory for one bucket job; beyond it, sorted runs spill to disk and are merged'),
  })
  .strict();

export const clusterOptions = z
  .object({
    work: z.string().min(1).describe('the dedup work directory'),
    keep: z.enum(['first', 'longest', 'column']).default('first').describe('which document a cluster keeps: the first (input order), the longest, or the highest --score-column'),
  })
  .strict();

export const pipelineOptions = signatureOptions
  .omit({ work: true, mode: true })
  .extend({
    work: z.string().optional().describe('the dedup work directory (default: <output>-work)'),
    memory: bucketOptions.shape.memory,
    keep: clusterOptions.shape.keep,
  })
  .strict();
export type PipelineConfig = z.infer<typeof pipelineOptions>;

export type { Runner } from '../core/executor.js';

export async function dedupSignatures(inputs: readonly string[], config: SignatureConfig, options: RunOptions, r: Runner): Promise<StageResult> {
  const tasks = listTasks({ kind: 'shards' }, inputs);
  const plan: DedupPlan = { mode: config.mode, kinds: keyKinds(config), partitions: config.partitions, inputs: inputIdentity(tasks), tasks: tasks.length, config };
  claimDir(config.work, 'work', 'dedup signatures', legacyWorkDir);
  const result = await runStage({ stage: signatureStage, config, inputs, out: paths.signatures(config.work), options, workerScript: r.workerScript, version: r.version, log: r.log });
  if (result.failed.length > 0) throw new RunError(`dedup signatures: ${result.failed.length} task(s) failed; rerun to retry them`);
  if (result.ran > 0 || !existsSync(paths.plan(config.work))) {
    // New signatures make earlier buckets and clusters stale.
    removeOwned(paths.buckets(config.work), inputs);
    removeOwned(paths.clusters(config.work), inputs);
    writeFileSync(paths.plan(config.work), `${JSON.stringify(plan, null, 1)}\n`);
  }
  return result;
}

/** The plan of a work directory that "dedup signatures" made; the later steps write there, so it must be refinery's. */
function openWork(work: string): DedupPlan {
  const plan = readPlan(work);
  claimDir(work, 'work', 'dedup signatures', legacyWorkDir);
  return plan;
}

export async function dedupBuckets(work: string, memory: number, options: Pick<RunOptions, 'workers' | 'rank' | 'world_size' | 'progress'>, r: Runner): Promise<void> {
  const plan = openWork(work);
  const jobs = bucketJobs(plan);
  const result = await runJobs({
    name: 'dedup buckets',
    jobs,
    dir: paths.buckets(work),
    workers: options.workers ?? 1,
    rank: options.rank,
    world_size: options.world_size,
    progress: options.progress,
    childArgs: r.cliArgs?.(['dedup', 'buckets', '--work', work, '--memory', String(memory), '--progress', 'off']),
    log: r.log,
    run: async (job) => runBucketJob(work, plan, job, memory),
  });
  if (result.failed.length > 0) throw new RunError(`dedup buckets: ${result.failed.length} job(s) failed; rerun to retry them`);
}

export function dedupCluster(work: string, keep: KeepRule, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): ClusterSummary {
  const plan = openWork(work);
  if (keep === 'column' && !plan.config.score_column) throw new UserError('--keep column needs the signatures to record a --score-column');
  const summary = runCluster(work, plan, keep);
  log(`dedup cluster: ${summary.documents} documents, ${summary.clusters} clusters holding ${summary.documents_in_clusters}; ${summary.removed} to remove (keep ${keep})`);
  return summary;
}

export async function dedupFilter(inputs: readonly string[], work: string, out: string, options: RunOptions, r: Runner): Promise<StageResult> {
  const plan = openWork(work);
  const identity = inputIdentity(listTasks({ kind: 'shards' }, inputs));
  if (JSON.stringify(identity) !== JSON.stringify(plan.inputs)) {
    throw new UserError(`${work}: the signatures were made from other inputs (${plan.inputs.length} files); filter the same inputs`);
  }
  const summaryFile = paths.clusterSummary(work);
  if (!existsSync(summaryFile)) throw new UserError(`${work}: no clusters (run "refinery dedup cluster" first)`);
  const { fingerprint } = JSON.parse(readFileSync(summaryFile, 'utf8')) as ClusterSummary;
  const result = await runStage({ stage: filterStage, config: { work, clusters: fingerprint }, inputs, out, options, workerScript: r.workerScript, version: r.version, log: r.log });
  if (result.failed.length > 0) throw new RunError(`dedup filter: ${result.failed.length} task(s) failed; rerun to retry them`);
  return result;
}

/** All four steps. */
export async function dedupPipeline(mode: 'minhash' | 'exact', inputs: readonly string[], out: string, config: PipelineConfig, options: RunOptions, r: Runner): Promise<StageResult> {
  const work = prepareWork(config.work, out, inputs, options.overwrite, `dedup ${mode}`, legacyWorkDir);
  const { memory, keep, work: _w, ...sig } = config;
  await dedupSignatures(inputs, signatureOptions.parse({ ...sig, work, mode }), { ...options, overwrite: false }, r);
  await dedupBuckets(work, memory, options, r);
  dedupCluster(work, keep, r.log);
  return dedupFilter(inputs, work, out, options, r);
}

export { runOptions };
