/**
 * Line-level dedup (CCNet): a line that occurs in at least `min_docs` documents of the
 * corpus is boilerplate (menus, cookie notices, footers) and is removed from every
 * document. Two ways to count, over the same work directory:
 *
 * - exact: each task writes the distinct line hashes of each document, partitioned; one job
 *   per partition sorts them (within --memory, spilling) and keeps the hashes of lines seen
 *   in enough documents. Collisions: 64-bit hashes, then 52 bits in the filter's set.
 * - bloom: one pass adds every document's distinct line hashes to a counting Bloom filter
 *   (8-bit saturating counters); a line is frequent when all its counters reach min_docs.
 *   A line can only be over-counted: the false-positive rate, stated after counting, is at
 *   most (share of non-zero counters)^hashes.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { byteSize } from '../core/config.js';
import { listTasks } from '../core/inputs.js';
import { pad, writeFileAtomic } from '../core/layout.js';
import { removeOwned } from '../core/owned-dirs.js';
import { mapPhase, type Operation, type Phase } from '../core/plan.js';
import type { Doc } from '../core/schema.js';
import { openShard } from '../core/shard-reader.js';
import { defineStage, drop, type Sink, type SinkOptions, needsText } from '../core/stage.js';
import { CountingBloom } from '../core/bloom.js';
import { hash64, hashKey } from '../core/hash.js';
import { normalizeForDedup } from '../text/normalize.js';
import { ExternalSorter } from './external-sort.js';
import { KeyRecords, readKeySlice, readWords, writeKeyFile } from './work.js';

export const lineOptions = z
  .object({
    min_docs: z.number().int().min(2).default(2).describe('remove lines that occur in at least this many documents'),
    normalize: z.boolean().default(false).describe('compare lines normalised (lower case, digits -> 0, punctuation and accents removed), as CCNet does; default: exact lines'),
    partitions: z.number().int().min(1).max(4096).default(16).describe('exact counting: hash partitions (one counting job each)'),
    memory: byteSize().prefault('1GiB').describe('exact counting: memory for one job; beyond it, sorted runs spill to disk'),
    bloom: z.boolean().default(false).describe('count with a counting Bloom filter (one pass, fixed memory) instead of exactly'),
    bloom_size: byteSize().prefault('256MiB').describe('bloom: counters (one byte each)'),
    bloom_hashes: z.number().int().min(1).max(16).default(4).describe('bloom: hash functions'),
  })
  .strict();
export type LineConfig = z.infer<typeof lineOptions>;

/** The phases' files in the plan's work directory: keys/ (a map phase's output) and count/. */
const linePaths = {
  keys: (work: string, task: number) => join(work, 'keys', `task-${pad(task)}.bin`),
  counts: (work: string) => join(work, 'count'),
  frequent: (work: string, part: number) => join(work, 'count', `frequent-${pad(part, 4)}.bin`),
  bloom: (work: string) => join(work, 'count', 'bloom.bin'),
};

/** The lines of a text and the hash each is compared by (null for blank lines, which are kept). */
function lineHashes(text: string, normalize: boolean): { line: string; hi: number; lo: number; blank: boolean }[] {
  return text.split('\n').map((line) => {
    const key = normalize ? normalizeForDedup(line) : line.trim();
    if (!key) return { line, hi: 0, lo: 0, blank: true };
    const [hi, lo] = hash64(key);
    return { line, hi, lo, blank: false };
  });
}

/** The distinct non-blank line hashes of a document. */
function distinctLines(text: string, normalize: boolean, each: (hi: number, lo: number) => void): void {
  const seen = new Set<number>();
  for (const l of lineHashes(text, normalize)) {
    const key = hashKey(l.hi, l.lo);
    if (l.blank || seen.has(key)) continue;
    seen.add(key);
    each(l.hi, l.lo);
  }
}

/** Exact counting, step 1: each document's distinct line hashes, partitioned by hash. */
class LineKeySink implements Sink {
  rows = 0;
  private readonly task: number;
  private readonly records = new KeyRecords();

  constructor(
    opts: SinkOptions,
    private readonly c: z.infer<typeof lineKeyOptions>,
  ) {
    this.task = opts.task;
  }

  write(doc: Doc): void {
    const row = this.rows++;
    distinctLines(typeof doc.text === 'string' ? doc.text : '', this.c.normalize, (hi, lo) => this.records.push(hi, lo, row));
  }

  publish(): string[] {
    const file = linePaths.keys(this.c.work, this.task);
    writeKeyFile(file, [this.records], this.c.partitions);
    return [file];
  }

  abort(): void {}
}

const lineKeyOptions = lineOptions.pick({ normalize: true, partitions: true }).extend({ work: z.string().min(1) }).strict();

export const lineKeyStage = defineStage({
  name: 'dedup-line-keys',
  internal: true,
  summary: 'line dedup step 1: distinct line hashes of every document',
  needs: needsText,
  options: lineKeyOptions,
  sink: (config) => (opts) => new LineKeySink(opts, config),
});

/** Exact counting, step 2 (one job per partition): hashes of lines in at least min_docs documents. */
function countPartition(work: string, tasks: number, part: number, c: LineConfig): Record<string, unknown> {
  const tmp = join(linePaths.counts(work), `.sort-${part}-${process.pid}`);
  const sorter = new ExternalSorter(3, c.memory, tmp);
  for (let t = 0; t < tasks; t++) {
    const slice = readKeySlice(linePaths.keys(work, t), 0, part);
    for (let i = 0; i < slice.length; i += 3) sorter.push(slice.subarray(i, i + 3));
  }
  const frequent: number[] = [];
  let distinct = 0;
  let hi = -1;
  let lo = -1;
  let count = 0;
  const close = () => {
    if (count >= c.min_docs) frequent.push(hi, lo);
  };
  try {
    for (const block of sorter.sorted()) {
      for (let i = 0; i < block.length; i += 3) {
        if (block[i] === hi && block[i + 1] === lo) count++;
        else {
          close();
          hi = block[i];
          lo = block[i + 1];
          count = 1;
          distinct++;
        }
      }
    }
    close();
  } finally {
    removeOwned(tmp);
  }
  writeFileAtomic(linePaths.frequent(work, part), new Uint8Array(new Uint32Array(frequent).buffer));
  return { part, distinct_lines: distinct, frequent_lines: frequent.length / 2, spilled_runs: sorter.spilledRuns };
}

/** Bloom counting (one reduce): every document's distinct line hashes into one counting Bloom filter. */
async function bloomCount(inputs: readonly string[], work: string, c: LineConfig, log: (l: string) => void): Promise<Record<string, unknown>> {
  const bloom = new CountingBloom(new Uint8Array(c.bloom_size), c.bloom_hashes);
  let docs = 0;
  for (const task of listTasks({ kind: 'shards' }, inputs)) {
    const shard = await openShard(task.path);
    for await (const doc of shard.docs()) {
      docs++;
      distinctLines(typeof doc.text === 'string' ? doc.text : '', c.normalize, (hi, lo) => bloom.add(hi, lo));
    }
  }
  let used = 0;
  for (let i = 0; i < bloom.counters.length; i++) if (bloom.counters[i] > 0) used++;
  const fpr = (used / bloom.counters.length) ** c.bloom_hashes;
  writeFileAtomic(linePaths.bloom(work), bloom.counters);
  log(`dedup lines: counted ${docs} documents in a ${bloom.counters.length}-counter Bloom filter; false-positive rate <= ${fpr.toExponential(2)}`);
  return { documents: docs, counters: bloom.counters.length, hashes: c.bloom_hashes, nonzero_share: used / bloom.counters.length, false_positive_rate_bound: fpr };
}

export const lineFilterOptions = z.object({ work: z.string().min(1), min_docs: z.number().int().min(2), normalize: z.boolean(), bloom: z.boolean(), bloom_hashes: z.number().int() }).strict();

/** Step 3 (one task per input shard): remove frequent lines; a document left without text is excluded. */
export const lineFilterStage = defineStage({
  name: 'dedup-lines',
  internal: true,
  summary: 'line dedup: remove lines that occur in many documents',
  needs: needsText,
  options: lineFilterOptions,
  steps(config) {
    let frequent: (hi: number, lo: number) => boolean;
    if (config.bloom) {
      const bloom = new CountingBloom(new Uint8Array(readFileSync(linePaths.bloom(config.work))), config.bloom_hashes);
      frequent = (hi, lo) => bloom.count(hi, lo) >= config.min_docs;
    } else {
      const set = new Set<number>();
      const dir = linePaths.counts(config.work);
      for (const name of existsSync(dir) ? readdirSync(dir).filter((n) => /^frequent-\d+\.bin$/.test(n)) : []) {
        const pairs = new Uint32Array(readWords(join(dir, name)));
        for (let i = 0; i < pairs.length; i += 2) set.add(hashKey(pairs[i], pairs[i + 1]));
      }
      frequent = (hi, lo) => set.has(hashKey(hi, lo));
    }
    return [
      {
        name: 'line-dedup',
        kind: 'transform',
        adds: [{ name: 'dedup_lines_removed', type: 'int32' }],
        apply: (doc) => {
          const lines = lineHashes(typeof doc.text === 'string' ? doc.text : '', config.normalize);
          const kept = lines.filter((l) => l.blank || !frequent(l.hi, l.lo));
          const removed = lines.length - kept.length;
          doc.dedup_lines_removed = removed;
          if (removed === 0) return undefined;
          const text = kept
            .map((l) => l.line)
            .join('\n')
            .replace(/\n{3,}/g, '\n\n')
            .trim();
          // An excluded document keeps its text, so the exclusion shard shows what was there.
          if (!text) return drop('all-lines-duplicated', `${removed} lines occur in ${config.min_docs}+ documents`);
          doc.text = text;
          return undefined;
        },
      },
    ];
  },
});

export const lineDedupOperation: Operation = {
  name: 'dedup-lines',
  summary: 'remove lines that occur in many documents (CCNet-style boilerplate removal)',
  description:
    'Remove every line that occurs in at least --min-docs documents of the inputs (menus, cookie notices, footers), counted ' +
    'exactly (distinct line hashes per document, sorted per partition within --memory) or with a counting Bloom filter ' +
    '(--bloom: one pass, fixed memory; the false-positive rate bound is printed). A document left without text is excluded. ' +
    'Phases: keys (map) -> count (jobs, one per partition; with --bloom one reduce) -> filter (map).',
  options: lineOptions,
  legacyWork: ['lines'],
  phases(config, ctx) {
    const c = config as LineConfig;
    const count: Phase = c.bloom
      ? { kind: 'reduce', name: 'count', dir: linePaths.counts(ctx.work), run: (log) => bloomCount(ctx.inputs, ctx.work, c, log) }
      : {
          kind: 'jobs',
          name: 'count',
          dir: linePaths.counts(ctx.work),
          jobs: () => Array.from({ length: c.partitions }, (_, p) => String(p)),
          run: async (job) => countPartition(ctx.work, listTasks({ kind: 'shards' }, ctx.inputs).length, Number(job), c),
        };
    const filter = mapPhase('filter', lineFilterStage, { work: ctx.work, min_docs: c.min_docs, normalize: c.normalize, bloom: c.bloom, bloom_hashes: c.bloom_hashes }, ctx.inputs, ctx.out);
    if (c.bloom) return [count, filter];
    return [mapPhase('keys', lineKeyStage, { work: ctx.work, normalize: c.normalize, partitions: c.partitions }, ctx.inputs, ctx.dir('keys')), count, filter];
  },
};
