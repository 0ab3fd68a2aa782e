/**
 * Step 3 of dedup (the global reduce): union-find over every edge gives the clusters; a
 * rule picks the document each cluster keeps; each task gets the list of its rows that are
 * in a cluster, with the keeper's id and the cluster's size. Memory: 16 bytes a document.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../core/layout.js';
import { bucketJobs } from './buckets.js';
import { docCounts, offsets, paths, readWords, type DedupPlan } from './work.js';

export type KeepRule = 'first' | 'longest' | 'column';

export interface ClusterAssignment {
  /** Rows of the task that are in a cluster of two or more. */
  rows: number[];
  /** For each row: the id of the document its cluster keeps. */
  keeper: string[];
  size: number[];
  /** For each row: whether it is the document its cluster keeps. */
  kept: boolean[];
}

export interface ClusterSummary {
  documents: number;
  edges: number;
  clusters: number;
  documents_in_clusters: number;
  removed: number;
  largest: number[];
  keep: KeepRule;
  /** Of every task's assignment: a filter run over other clusters is stale. */
  fingerprint: string;
}

function find(parent: Int32Array, x: number): number {
  while (parent[x] !== x) {
    parent[x] = parent[parent[x]]; // path halving
    x = parent[x];
  }
  return x;
}

export function runCluster(work: string, plan: DedupPlan, keep: KeepRule): ClusterSummary {
  const counts = docCounts(work, plan.tasks);
  const first = offsets(counts);
  const total = counts.reduce((a, b) => a + b, 0);
  const parent = new Int32Array(total);
  for (let i = 0; i < total; i++) parent[i] = i;
  let edges = 0;
  const edgeFiles = bucketJobs(plan).map((job) => {
    const [kind, part] = job.split(':').map(Number);
    return paths.edges(work, kind, part);
  });
  const missing = edgeFiles.filter((f) => !existsSync(f)).length;
  if (missing > 0) throw new UserError(`${work}: ${missing} of ${edgeFiles.length} bucket jobs have not finished (run the buckets phase on every rank first)`);
  for (const file of edgeFiles) {
    const pairs = new Uint32Array(readWords(file));
    for (let i = 0; i < pairs.length; i += 2) {
      const a = find(parent, pairs[i]);
      const b = find(parent, pairs[i + 1]);
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      edges++;
    }
  }
  // Per document: length and score (for the keep rule).
  const value = new Float64Array(total);
  if (keep !== 'first') {
    for (let t = 0; t < plan.tasks; t++) {
      const meta = new Float32Array(readWords(paths.docs(work, t)));
      for (let r = 0; r < counts[t]; r++) {
        const v = meta[r * 2 + (keep === 'longest' ? 0 : 1)];
        value[first[t] + r] = Number.isNaN(v) ? -Infinity : v;
      }
    }
  }
  const size = new Uint32Array(total);
  const best = new Int32Array(total).fill(-1);
  for (let i = 0; i < total; i++) {
    const root = find(parent, i);
    size[root]++;
    const b = best[root];
    // Ties go to the earlier document, so the rule is deterministic.
    if (b === -1 || (keep !== 'first' && value[i] > value[b])) best[root] = i;
  }
  // Keepers' ids, for the reasons of the documents they replace.
  const keeperIds = new Map<number, string>();
  for (let i = 0; i < total; i++) if (size[find(parent, i)] > 1) keeperIds.set(best[find(parent, i)], '');
  let t = 0;
  let loaded = -1;
  let ids: string[] = [];
  for (const k of [...keeperIds.keys()].sort((a, b) => a - b)) {
    while (t + 1 < plan.tasks && first[t + 1] <= k) t++;
    if (loaded !== t) {
      ids = readFileSync(paths.ids(work, t), 'utf8').split('\n');
      loaded = t;
    }
    keeperIds.set(k, JSON.parse(ids[k - first[t]]) as string);
  }
  const largest: number[] = [];
  let clusters = 0;
  let inClusters = 0;
  for (let i = 0; i < total; i++) {
    if (parent[i] === i && size[i] > 1) {
      clusters++;
      inClusters += size[i];
      largest.push(size[i]);
    }
  }
  largest.sort((a, b) => b - a);
  const fingerprint = createHash('sha256');
  for (let task = 0; task < plan.tasks; task++) {
    const a: ClusterAssignment = { rows: [], keeper: [], size: [], kept: [] };
    for (let r = 0; r < counts[task]; r++) {
      const root = find(parent, first[task] + r);
      if (size[root] < 2) continue;
      a.rows.push(r);
      a.keeper.push(keeperIds.get(best[root]) as string);
      a.size.push(size[root]);
      a.kept.push(best[root] === first[task] + r);
    }
    const json = JSON.stringify(a);
    fingerprint.update(json);
    writeFileAtomic(paths.cluster(work, task), json);
  }
  const summary: ClusterSummary = {
    documents: total,
    edges,
    clusters,
    documents_in_clusters: inClusters,
    removed: inClusters - clusters,
    largest: largest.slice(0, 10),
    keep,
    fingerprint: fingerprint.digest('hex').slice(0, 16),
  };
  return summary;
}
