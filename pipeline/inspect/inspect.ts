/**
 * Looking inside shards: schema, row counts, per-column summaries, documents.
 * Everything streams batch by batch, so inspecting a large directory stays cheap in memory.
 */
import { existsSync, statSync } from 'node:fs';
import { makeColumnReader } from '../core/columns.js';
import { UserError } from '../core/errors.js';
import { excludedDirToRead, layout } from '../core/layout.js';
import type { ColumnSpec, Doc, Value } from '../core/schema.js';
import { batchDocs, openShard, resolveShards, withShard } from '../core/shard-reader.js';

const MAX_DISTINCT_TRACKED = 1000;
const TOP_VALUES = 5;

export interface ColumnSummary {
  name: string;
  type: ColumnSpec['type'];
  nulls: number;
  /** strings: length in characters; numbers and timestamps: the values. */
  min?: number;
  max?: number;
  mean?: number;
  /** Most frequent values, when the column has few distinct values. */
  top?: [value: string, count: number][];
  distinct?: number;
}

export interface ShardFileSummary {
  file: string;
  rows: number;
  bytes: number;
}

export interface InspectReport {
  path: string;
  files: ShardFileSummary[];
  rows: number;
  bytes: number;
  columns: ColumnSummary[];
  metadata: Record<string, string>;
}

class ColumnAccumulator {
  nulls = 0;
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  counts: Map<string, number> | null = new Map();

  constructor(readonly spec: ColumnSpec) {}

  add(v: Value): void {
    if (v === null) {
      this.nulls++;
      return;
    }
    const x = typeof v === 'string' ? v.length : typeof v === 'boolean' ? Number(v) : v;
    this.n++;
    this.sum += x;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    if (this.counts && this.spec.name !== 'id' && this.spec.name !== 'text' && this.spec.name !== 'html') {
      const key = String(v);
      if (key.length <= 200) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      if (this.counts.size > MAX_DISTINCT_TRACKED || key.length > 200) this.counts = null;
    }
  }

  summary(): ColumnSummary {
    const out: ColumnSummary = { name: this.spec.name, type: this.spec.type, nulls: this.nulls };
    if (this.n > 0) {
      out.min = this.min;
      out.max = this.max;
      out.mean = Math.round((this.sum / this.n) * 1000) / 1000;
    }
    if (this.counts && this.counts.size > 0) {
      out.distinct = this.counts.size;
      out.top = [...this.counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, TOP_VALUES);
    }
    return out;
  }
}

/** `dir` itself, or its _excluded/ part (excluded/ in outputs of earlier versions). */
export function shardPath(path: string, excluded: boolean): string {
  if (!excluded) return path;
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new UserError(`${path}: --excluded needs a stage output directory`);
  return excludedDirToRead(path) ?? layout.excludedDir(path);
}

export async function inspectShards(path: string): Promise<InspectReport> {
  const files = await resolveShards(path);
  const report: InspectReport = { path, files: [], rows: 0, bytes: 0, columns: [], metadata: {} };
  const accs = new Map<string, ColumnAccumulator>();
  for (const file of files) {
    await withShard(file, async (shard) => {
      if (report.files.length === 0) report.metadata = Object.fromEntries(shard.metadata);
      for (const c of shard.columns) if (!accs.has(c.name)) accs.set(c.name, new ColumnAccumulator(c));
      let rows = 0;
      for await (const batch of shard.readBatches()) {
        rows += batch.numRows;
        for (const c of shard.columns) {
          const child = batch.getChild(c.name);
          if (!child) continue;
          const read = makeColumnReader(child.data[0]);
          const acc = accs.get(c.name) as ColumnAccumulator;
          for (let r = 0; r < batch.numRows; r++) acc.add(read(r));
        }
      }
      const bytes = statSync(file).size;
      report.files.push({ file, rows, bytes });
      report.rows += rows;
      report.bytes += bytes;
    });
  }
  report.columns = [...accs.values()].map((a) => a.summary());
  return report;
}

/** Documents in file order, stopping after `limit` matches of `keep`. */
export async function findDocs(path: string, keep: (doc: Doc) => boolean, limit: number): Promise<Doc[]> {
  const found: Doc[] = [];
  for (const file of await resolveShards(path)) {
    const shard = await openShard(file);
    try {
      for await (const batch of shard.readBatches()) {
        for (const doc of batchDocs(batch, shard.columns)) {
          if (keep(doc)) found.push(doc);
          if (found.length >= limit) return found;
        }
      }
    } finally {
      await shard.close();
    }
  }
  return found;
}

export const headDocs = (path: string, n: number) => findDocs(path, () => true, n);
export const docById = async (path: string, id: string) => (await findDocs(path, (d) => d.id === id, 1))[0] ?? null;

/** The members of a dedup cluster (named by the id of the document it keeps): kept first, then excluded. */
export async function clusterMembers(dir: string, cluster: string, limit = 1000): Promise<{ doc: Doc; kept: boolean }[]> {
  const inCluster = (d: Doc) => d.dedup_cluster === cluster;
  const kept = await findDocs(dir, inCluster, limit);
  const excludedDir = excludedDirToRead(dir);
  const excluded = excludedDir ? await findDocs(excludedDir, inCluster, limit) : [];
  return [...kept.map((doc) => ({ doc, kept: true })), ...excluded.map((doc) => ({ doc, kept: false }))];
}

/** The largest dedup clusters of a dedup output: each one's keeper (kept, with the size of its cluster). */
export async function largestClusters(dir: string, n: number): Promise<Doc[]> {
  const keepers = await findDocs(dir, (d) => typeof d.dedup_cluster_size === 'number' && d.dedup_cluster_size > 1, Number.POSITIVE_INFINITY);
  return keepers.sort((a, b) => (b.dedup_cluster_size as number) - (a.dedup_cluster_size as number)).slice(0, n);
}
