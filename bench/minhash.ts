/**
 * Bench `minhash`: MinHash signatures per second on one core, ours against the `minhash`
 * npm package on the same documents (2 KB of web text each), with the same number of
 * permutations (14 bands x 8 rows = 112) and the same 5-word shingles, each in its own process.
 * Also how well each estimates a known Jaccard similarity (the package computes its
 * modular arithmetic in floating point beyond 2^53, which biases its minima).
 *
 *   npm run bench -- minhash [--docs 20000] [--reference-docs 1500]
 *
 * Text: the sample web's gold text, cut into 2 KB documents at word boundaries.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Minhash } from 'minhash';
import { buildSampleWeb } from '../datasets/sample-web/index.js';
import { Random } from '../pipeline/core/random.js';
import { jaccardPair } from '../datasets/synthetic-docs.js';
import { DATATROVE_DEFAULTS, estimatedJaccard, MinHasher } from '../pipeline/dedup/minhash.js';
import { normalizeForDedup } from '../pipeline/text/normalize.js';
import { arg, isolated, report, type PhaseResult } from './harness.js';

const PERMUTATIONS = DATATROVE_DEFAULTS.bands * DATATROVE_DEFAULTS.rows;

/** Web text in ~2 KB documents. */
function documents(count: number): string[] {
  const web = mkdtempSync(join(tmpdir(), 'refinery-bench-minhash-'));
  let text: string;
  try {
    buildSampleWeb({ out: web, pages: 600, seed: 1 });
    text = readFileSync(join(web, 'pages.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { text: string | null }).text ?? '')
      .join(' ');
  } finally {
    rmSync(web, { recursive: true, force: true });
  }
  const base: string[] = [];
  for (let at = 0; at + 2048 < text.length; ) {
    const end = text.lastIndexOf(' ', at + 2048);
    base.push(text.slice(at, end));
    at = end + 1;
  }
  return Array.from({ length: count }, (_, i) => base[i % base.length]);
}

/** The package's way: one update per shingle string (its own 32-bit string hash, per permutation). */
function packageSignature(text: string): number[] {
  const words = normalizeForDedup(text).split(' ').filter(Boolean);
  const m = new Minhash({ numPerm: PERMUTATIONS });
  for (let i = 0; i + 5 <= words.length; i++) m.update(words.slice(i, i + 5).join(' '));
  return m.hashvalues;
}

function estimateError(estimate: (a: string, b: string) => number): number {
  const random = new Random(5);
  let err = 0;
  const n = 200;
  for (let i = 0; i < n; i++) {
    const pair = jaccardPair(0.5, random);
    err += estimate(pair.a, pair.b) - pair.jaccard;
  }
  return err / n;
}

export async function main(args: string[]): Promise<void> {
  const count = Number(arg(args, 'docs', '20000'));
  const refCount = Number(arg(args, 'reference-docs', '1500'));
  const docs = documents(count);
  const bytes = (n: number) => docs.slice(0, n).reduce((s, d) => s + Buffer.byteLength(d), 0);
  if (arg(args, 'phase', '') === '') console.log(`minhash: ${count} documents of ~2 KB (${refCount} for the package), ${PERMUTATIONS} permutations, 5-word shingles, one core each`);
  const ours = (bits: 32 | 64) => () => {
    const hasher = new MinHasher({ ...DATATROVE_DEFAULTS, bits });
    const out = new Uint32Array(PERMUTATIONS * hasher.width);
    let sink = 0;
    for (const d of docs) sink ^= (hasher.signature(d, out) as Uint32Array)[0];
    return { bytes: bytes(count), docs: sink === -1 ? 0 : count };
  };
  const results = await isolated('minhash', args, {
    'minhash npm package (reference)': () => {
      let sink = 0;
      for (const d of docs.slice(0, refCount)) sink ^= packageSignature(d)[0];
      return { bytes: bytes(refCount), docs: sink === -1 ? 0 : refCount };
    },
    'refinery MinHasher, 64-bit (default)': ours(64),
    'refinery MinHasher, 32-bit': ours(32),
  });
  if (!results) return;
  report(results);
  const perSecond = (r: PhaseResult) => r.docs / r.seconds;
  for (const r of results.slice(1)) console.log(`${r.name}: ${(perSecond(r) / perSecond(results[0])).toFixed(1)}x the package's signatures/s (target >= 20x)`);

  const hasher = new MinHasher(DATATROVE_DEFAULTS);
  const ourBias = estimateError((a, b) => estimatedJaccard((hasher.signature(a) as Uint32Array).slice(), hasher.signature(b) as Uint32Array, 2));
  const theirBias = estimateError((a, b) => {
    const x = packageSignature(a);
    const y = packageSignature(b);
    return x.filter((v, i) => v === y[i]).length / x.length;
  });
  console.log(`estimated minus true Jaccard at s = 0.5 (mean over 200 pairs): refinery ${ourBias.toFixed(4)}, package ${theirBias.toFixed(4)}`);
}
