/**
 * Step 1 of dedup, one task per input shard: each document's keys (MinHash band keys, or
 * exact URL and text hashes), written grouped by key kind and hash-range partition so that
 * each bucket job later reads only its slice. Also each document's length, score and id,
 * for the cluster step's keeper rule and the filter's reasons.
 */
import * as z from 'zod';
import { hash64 } from '../core/hash.js';
import { writeFileAtomic } from '../core/layout.js';
import type { Doc } from '../core/schema.js';
import { defineStage, type Sink, type SinkOptions, TEXT_COLUMN } from '../core/stage.js';
import { normalizeForDedup } from '../text/normalize.js';
import { MinHasher } from './minhash.js';
import { KeyRecords, paths, writeKeyFile } from './work.js';

export const signatureOptions = z
  .object({
    work: z.string().min(1).describe('the dedup work directory (signatures, buckets, clusters)'),
    mode: z.enum(['minhash', 'exact']).default('minhash').describe('near duplicates by MinHash-LSH, or exact duplicates by URL and text hash'),
    bands: z.number().int().min(1).max(64).default(14).describe('MinHash: LSH bands'),
    rows: z.number().int().min(1).max(64).default(8).describe('MinHash: rows (minima) per band'),
    shingle: z.number().int().min(1).max(32).default(5).describe('MinHash: words per shingle'),
    hash_bits: z.number().int().refine((v) => v === 32 || v === 64, 'expected 32 or 64').default(64).describe('MinHash: bits per minimum, 32 or 64 (64 as datatrove; 32 is faster)'),
    seed: z.number().int().min(0).default(1).describe('MinHash: seed of the permutations'),
    exact_keys: z.array(z.enum(['url', 'text'])).default(['url', 'text']).describe('exact: which keys make duplicates (comma-separated)'),
    partitions: z.number().int().min(1).max(4096).default(16).describe('hash-range partitions per key kind (more: smaller bucket jobs)'),
    score_column: z.string().optional().describe('a numeric column recorded for the keep rule "column" (e.g. a quality score)'),
  })
  .strict();
export type SignatureConfig = z.infer<typeof signatureOptions>;

export function keyKinds(c: SignatureConfig): string[] {
  return c.mode === 'minhash' ? Array.from({ length: c.bands }, (_, b) => `band-${b}`) : [...c.exact_keys];
}

const TRACKING = /^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|ref_src)$/i;

/** A URL as its duplicates would write it: scheme and host lower-cased, default port, fragment and tracking parameters gone, parameters sorted. */
export function normalizeUrl(raw: string): string {
  try {
    const url = new URL(raw.trim());
    url.hash = '';
    const params = [...url.searchParams.entries()].filter(([k]) => !TRACKING.test(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    url.search = new URLSearchParams(params).toString();
    let path = url.pathname;
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    return `${url.protocol}//${url.host.toLowerCase()}${path}${url.search}`;
  } catch {
    return raw.trim().toLowerCase();
  }
}

class KeySink implements Sink {
  rows = 0;
  private readonly kinds: string[];
  private readonly records: KeyRecords[];
  private docs = new Float32Array(2 * 1024);
  private readonly ids: string[] = [];
  private readonly hasher: MinHasher | null;
  private readonly task: number;

  constructor(
    opts: SinkOptions,
    private readonly c: SignatureConfig,
  ) {
    this.task = opts.task;
    this.kinds = keyKinds(c);
    this.records = this.kinds.map(() => new KeyRecords());
    this.hasher = c.mode === 'minhash' ? new MinHasher({ bands: c.bands, rows: c.rows, shingle: c.shingle, bits: c.hash_bits as 32 | 64, seed: c.seed }) : null;
  }

  write(doc: Doc): void {
    const row = this.rows++;
    const text = typeof doc.text === 'string' ? doc.text : '';
    if (this.hasher) {
      const sig = this.hasher.signature(text, undefined, typeof doc.lang === 'string' ? doc.lang : null);
      if (sig) {
        const keys = this.hasher.bandKeys(sig);
        for (let b = 0; b < this.kinds.length; b++) this.records[b].push(keys[2 * b], keys[2 * b + 1], row);
      }
    } else {
      this.kinds.forEach((kind, k) => {
        const value = kind === 'url' ? (typeof doc.url === 'string' && doc.url ? normalizeUrl(doc.url) : null) : normalizeForDedup(text) || null;
        if (value !== null) {
          const [hi, lo] = hash64(value);
          this.records[k].push(hi, lo, row);
        }
      });
    }
    if (row * 2 + 2 > this.docs.length) {
      const grown = new Float32Array(this.docs.length * 2);
      grown.set(this.docs);
      this.docs = grown;
    }
    this.docs[row * 2] = text.length;
    const score = this.c.score_column ? doc[this.c.score_column] : null;
    this.docs[row * 2 + 1] = typeof score === 'number' ? score : Number.NaN;
    this.ids.push(JSON.stringify(doc.id));
  }

  publish(): string[] {
    const files = [paths.keys(this.c.work, this.task), paths.docs(this.c.work, this.task), paths.ids(this.c.work, this.task)];
    writeKeyFile(files[0], this.records, this.c.partitions);
    writeFileAtomic(files[1], new Uint8Array(this.docs.buffer, 0, this.rows * 8));
    writeFileAtomic(files[2], this.ids.length ? `${this.ids.join('\n')}\n` : '');
    return files;
  }

  abort(): void {}
}

export const signatureStage = defineStage({
  name: 'dedup-signatures',
  internal: true,
  summary: 'dedup step 1: per-document keys, partitioned for the bucket jobs',
  needs: (c) => (c.mode === 'minhash' || c.exact_keys.includes('text') ? [TEXT_COLUMN] : []),
  options: signatureOptions,
  sink: (config) => (opts) => new KeySink(opts, config),
});
