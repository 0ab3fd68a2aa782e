/**
 * Synthetic documents for dedup tests and benchmarks: pairs of texts whose word-shingle
 * Jaccard similarity is set by construction, and a stream of many distinct documents with
 * planted near duplicates.
 */
import { Random } from '../pipeline/core/random.js';

/** A random lower-case word (letters only: dedup normalisation maps digits to 0). */
export function randomWord(random: Random, length = 8): string {
  let w = '';
  for (let i = 0; i < length; i++) w += String.fromCharCode(97 + random.int(0, 25));
  return w;
}

/**
 * Two texts A = X + Y and B = X + Z of `length` distinct random words, sharing the prefix X:
 * their `shingle`-word shingle sets have Jaccard u / (2T - u), with T shingles each and u
 * shared, so the prefix length is chosen to come as close as it can to `target`.
 * Returns the exact similarity reached.
 */
export function jaccardPair(target: number, random: Random, length = 300, shingle = 5): { a: string; b: string; jaccard: number } {
  const T = length - shingle + 1;
  const shared = Math.min(T, Math.round((2 * T * target) / (1 + target)));
  const prefix = shared === 0 ? 0 : shared + shingle - 1;
  const x = Array.from({ length: prefix }, () => randomWord(random));
  const tail = () => Array.from({ length: length - prefix }, () => randomWord(random));
  return { a: [...x, ...tail()].join(' '), b: [...x, ...tail()].join(' '), jaccard: shared / (2 * T - shared) };
}

/** Which earlier document synthetic document `i` copies (every `dupEvery`-th does), or null. */
function copies(seed: number, i: number, dupEvery: number): number | null {
  if (dupEvery <= 0 || i % dupEvery !== dupEvery - 1) return null;
  return Math.floor(new Random(seed ^ Math.imul(i, 0x9e3779b1)).next() * i);
}

/**
 * Document `i` of a synthetic corpus: `words` words from a 50k-word vocabulary (Zipf-like),
 * where every `dupEvery`-th document is a near copy (3 words changed) of an earlier original.
 * Deterministic in (seed, i), so any task can generate any slice.
 */
export function syntheticDoc(seed: number, i: number, words = 200, dupEvery = 10): { id: string; text: string; copyOf: number | null } {
  // A copy of a copy is a copy of its original.
  let original = i;
  for (let c = copies(seed, original, dupEvery); c !== null; c = copies(seed, original, dupEvery)) original = c;
  const random = new Random((seed + Math.imul(original, 0x85ebca6b)) >>> 0);
  const out: string[] = [];
  for (let w = 0; w < words; w++) out.push(vocabularyWord(Math.floor(50_000 * random.next() ** 3)));
  if (original !== i) {
    const edits = new Random(seed ^ i);
    for (let e = 0; e < 3; e++) out[edits.int(0, words - 1)] = randomWord(edits, 6);
  }
  return { id: `doc-${i}`, text: out.join(' '), copyOf: original === i ? null : original };
}

/** Word number n of a fixed vocabulary (letters only). */
export function vocabularyWord(n: number): string {
  let w = '';
  let v = n + 26;
  while (v > 0) {
    w += String.fromCharCode(97 + (v % 26));
    v = Math.floor(v / 26);
  }
  return w;
}
