/**
 * Dedup as a plan of four phases over a work directory (DESIGN.md: "signatures -> bucket
 * partitions -> clusters (union-find) -> filter, as datatrove does it"):
 *
 *   signatures  map: keys per document, partitioned, one task per input shard
 *   buckets     jobs: one per (key kind, partition): sort, edges between equal keys (--memory)
 *   cluster     reduce: union-find over all edges, the keep rule, per-task lists
 *   filter      map: exclude what the clusters do not keep, one task per input shard
 *
 * `dedup minhash` (near duplicates) and `dedup exact` (same URL or text) are this plan; the
 * executors run it locally, as Slurm jobs or as Kubernetes Indexed Jobs (`--phase`).
 */
import * as z from 'zod';
import { byteSize } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { inputIdentity, listTasks } from '../core/inputs.js';
import { later, mapPhase, type Operation } from '../core/plan.js';
import { runBucketJob, bucketJobs } from './buckets.js';
import { runCluster, type ClusterSummary, type KeepRule } from './cluster.js';
import { filterStage } from './filter.js';
import { keyKinds, signatureOptions, signatureStage } from './signatures.js';
import { paths, type DedupPlan } from './work.js';

export const dedupOptions = signatureOptions
  .omit({ work: true, mode: true })
  .extend({
    memory: byteSize().prefault('1GiB').describe('memory for one bucket job; beyond it, sorted runs spill to disk and are merged'),
    keep: z.enum(['first', 'longest', 'column']).default('first').describe('which document a cluster keeps: the first (input order), the longest, or the highest --score-column'),
  })
  .strict();
export type DedupConfig = z.infer<typeof dedupOptions>;

export function dedupOperation(mode: 'minhash' | 'exact'): Operation {
  return {
    name: `dedup-${mode}`,
    summary: mode === 'minhash' ? 'remove near duplicates (MinHash-LSH): signatures, buckets, cluster, filter' : 'remove documents with the same URL or text: signatures, buckets, cluster, filter',
    description:
      'Deduplication in four phases over a work directory: signatures (map, per input shard) -> buckets (jobs, per key kind and ' +
      'hash partition, within --memory) -> cluster (reduce: union-find, keep rule) -> filter (map, per input shard). ' +
      'Run them one at a time with --phase (on every rank for the maps and jobs); refinery slurm and refinery k8s do that.',
    options: dedupOptions,
    legacyWork: ['dedup.json', 'clusters'],
    check(config) {
      if ((config as DedupConfig).keep === 'column' && !(config as DedupConfig).score_column) throw new UserError('--keep column needs --score-column');
    },
    phases(config, ctx) {
      const { memory, keep, ...sig } = config as DedupConfig;
      const signatures = signatureOptions.parse({ ...sig, work: ctx.work, mode });
      // What the later phases need to know of the signatures: listed when they run (in a pipeline, the inputs come later).
      const plan = later((): DedupPlan => {
        const tasks = listTasks({ kind: 'shards' }, ctx.inputs);
        return { mode, kinds: keyKinds(signatures), partitions: signatures.partitions, inputs: inputIdentity(tasks), tasks: tasks.length, config: signatures };
      });
      return [
        mapPhase('signatures', signatureStage, signatures, ctx.inputs, paths.signatures(ctx.work)),
        { kind: 'jobs', name: 'buckets', dir: paths.buckets(ctx.work), jobs: () => bucketJobs(plan()), run: async (job) => runBucketJob(ctx.work, plan(), job, memory) },
        {
          kind: 'reduce',
          name: 'cluster',
          dir: paths.clusters(ctx.work),
          run(log): ClusterSummary {
            const summary = runCluster(ctx.work, plan(), keep as KeepRule);
            log(`dedup cluster: ${summary.documents} documents, ${summary.clusters} clusters holding ${summary.documents_in_clusters}; ${summary.removed} to remove (keep ${keep})`);
            return summary;
          },
        },
        mapPhase('filter', filterStage, () => ({ work: ctx.work, mode, clusters: ctx.result<ClusterSummary>('cluster').fingerprint }), ctx.inputs, ctx.out),
      ];
    },
  };
}
