/**
 * The dedup plan's files in its work directory (core/plan.ts owns the directory; these are
 * the phases' folders in it), binary files as little-endian uint32:
 *
 *   work/signatures/                     a stage output (manifest, stats, done markers) holding
 *     keys/task-TTTTT.bin                  per task: the documents' keys, grouped by key kind and partition
 *     docs/task-TTTTT.bin                  per task: [length, score as float32 bits] per document
 *     ids/task-TTTTT.jsonl                 per task: the document ids (JSON strings), one per line
 *   work/buckets/edges-KK-PPPP.bin       pairs of global document numbers that share a key
 *   work/clusters/task-TTTTT.json        per task: which rows are in a cluster, its keeper and size
 *   work/_phases/cluster.json            the cluster phase's summary (core/plan.ts)
 *
 * A key file: "RDK1", kinds K, partitions P, records N, then K*(P+1) record offsets, then N
 * records of [key high, key low, row].
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { pad, writeFileAtomic } from '../core/layout.js';

export const MAGIC = 0x314b4452; // "RDK1"

export interface DedupPlan {
  mode: 'minhash' | 'exact';
  /** Names of the key kinds: band numbers for minhash, "url"/"text" for exact. */
  kinds: string[];
  partitions: number;
  inputs: string[];
  tasks: number;
  config: Record<string, unknown>;
}

export const paths = {
  signatures: (work: string) => join(work, 'signatures'),
  keys: (work: string, task: number) => join(work, 'signatures', 'keys', `task-${pad(task)}.bin`),
  docs: (work: string, task: number) => join(work, 'signatures', 'docs', `task-${pad(task)}.bin`),
  ids: (work: string, task: number) => join(work, 'signatures', 'ids', `task-${pad(task)}.jsonl`),
  buckets: (work: string) => join(work, 'buckets'),
  edges: (work: string, kind: number, part: number) => join(work, 'buckets', `edges-${pad(kind, 2)}-${pad(part, 4)}.bin`),
  clusters: (work: string) => join(work, 'clusters'),
  cluster: (work: string, task: number) => join(work, 'clusters', `task-${pad(task)}.json`),
};

/** Documents per task, from the per-task docs files (8 bytes a document). */
export function docCounts(work: string, tasks: number): number[] {
  return Array.from({ length: tasks }, (_, t) => {
    const file = paths.docs(work, t);
    if (!existsSync(file)) throw new UserError(`${file}: missing (did the signatures phase finish every task?)`);
    return readFileSync(file).length / 8;
  });
}

/** Global document numbers: the first of each task. */
export function offsets(counts: readonly number[]): number[] {
  const out: number[] = [];
  let sum = 0;
  for (const c of counts) {
    out.push(sum);
    sum += c;
  }
  return out;
}

/** A file of little-endian 32-bit words, copied into its own (aligned) buffer. */
export function readWords(file: string): ArrayBuffer {
  const bytes = readFileSync(file);
  const copy = new Uint8Array(bytes.length - (bytes.length % 4));
  copy.set(bytes.subarray(0, copy.length));
  return copy.buffer;
}

/** A growing list of key records [key high, key low, row]. */
export class KeyRecords {
  data = new Uint32Array(3 * 1024);
  n = 0;
  push(hi: number, lo: number, row: number): void {
    if (this.n * 3 + 3 > this.data.length) {
      const grown = new Uint32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.n * 3] = hi;
    this.data[this.n * 3 + 1] = lo;
    this.data[this.n * 3 + 2] = row;
    this.n++;
  }
}

/** Writes a key file: each kind's records counting-sorted by partition (the high word's residue). */
export function writeKeyFile(file: string, kinds: readonly KeyRecords[], partitions: number): void {
  const P = partitions;
  const K = kinds.length;
  const total = kinds.reduce((n, r) => n + r.n, 0);
  const out = new Uint32Array(4 + K * (P + 1) + total * 3);
  out.set([MAGIC, K, P, total]);
  const base = 4 + K * (P + 1);
  let at = 0;
  for (let k = 0; k < K; k++) {
    const { data, n } = kinds[k];
    const counts = new Uint32Array(P + 1);
    for (let i = 0; i < n; i++) counts[(data[i * 3] % P) + 1]++;
    for (let p = 0; p < P; p++) counts[p + 1] += counts[p];
    for (let p = 0; p <= P; p++) out[4 + k * (P + 1) + p] = at + counts[p];
    const cursor = counts.slice(0, P);
    for (let i = 0; i < n; i++) {
      const dest = base + (at + cursor[data[i * 3] % P]++) * 3;
      out[dest] = data[i * 3];
      out[dest + 1] = data[i * 3 + 1];
      out[dest + 2] = data[i * 3 + 2];
    }
    at += n;
  }
  writeFileAtomic(file, new Uint8Array(out.buffer));
}

/** The records of one (kind, partition) slice of a key file, read without the rest of the file. */
export function readKeySlice(file: string, kind: number, part: number): Uint32Array {
  const fd = openSync(file, 'r');
  try {
    const head = new Uint32Array(4);
    readSync(fd, head, 0, 16, 0);
    if (head[0] !== MAGIC) throw new Error(`${file}: not a refinery key file`);
    const [, kinds, partitions] = head;
    if (kind >= kinds || part >= partitions) throw new Error(`${file}: has ${kinds} kinds x ${partitions} partitions, asked for ${kind}:${part}`);
    const bounds = new Uint32Array(2);
    readSync(fd, bounds, 0, 8, 16 + 4 * (kind * (partitions + 1) + part));
    const [from, to] = bounds;
    const records = new Uint32Array((to - from) * 3);
    const base = 16 + 4 * kinds * (partitions + 1);
    if (records.length > 0) readSync(fd, records, 0, records.byteLength, base + from * 12);
    return records;
  } finally {
    closeSync(fd);
  }
}
