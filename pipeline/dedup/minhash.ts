/**
 * MinHash signatures and LSH band keys, on typed arrays.
 *
 * Text is normalised as datatrove does (lower case, accents stripped, digits -> 0,
 * punctuation removed, whitespace collapsed), split into words (in Chinese, Japanese, Thai
 * and the other scripts without spaces, by ICU's word segmentation: split on spaces, a
 * whole clause would be one "word", and one changed character would change it), and every run of
 * `shingle` words is one shingle. Each word is hashed once; a shingle's hash combines its
 * words' hashes, so no shingle string is ever built. Permutation i maps a shingle hash x to
 * (a_i * x + b_i) mod 2^32 with odd a_i (a bijection on 32-bit values); with 64-bit hashes a
 * second, independent permutation gives the low half and values compare as (high, low).
 * Two documents share a band key when all `rows` values of that band agree, which happens
 * with probability s^rows for Jaccard similarity s: a pair is a candidate with probability
 * 1 - (1 - s^rows)^bands.
 */
import { combine, hashString, mix32 } from '../core/hash.js';
import { normalizeForDedup } from '../text/normalize.js';
import { UNSPACED_SCRIPT, segmentedWords } from '../text/words.js';

export interface MinHashConfig {
  bands: number;
  rows: number;
  shingle: number;
  /** 32 or 64 bits per minimum. */
  bits: 32 | 64;
  seed: number;
}

export const DATATROVE_DEFAULTS: MinHashConfig = { bands: 14, rows: 8, shingle: 5, bits: 64, seed: 1 };

/** A splitmix-style generator for the permutation parameters. */
function parameters(count: number, seed: number): Uint32Array {
  const out = new Uint32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (s + 0x9e3779b9) >>> 0;
    out[i] = mix32(s ^ (i * 0x85ebca6b));
  }
  return out;
}

export class MinHasher {
  readonly permutations: number;
  /** Values per permutation: 1 (32-bit) or 2 (64-bit). */
  readonly width: number;
  private readonly a: Uint32Array;
  private readonly b: Uint32Array;
  private shingles = new Uint32Array(1024);

  constructor(readonly config: MinHashConfig) {
    this.permutations = config.bands * config.rows;
    this.width = config.bits === 64 ? 2 : 1;
    const n = this.permutations * this.width;
    this.a = parameters(n, config.seed);
    for (let i = 0; i < n; i++) this.a[i] |= 1; // odd multipliers: bijections
    this.b = parameters(n, config.seed ^ 0x5bd1e995);
  }

  /** Hashes of the text's shingles, in order (a view, valid until the next call). `lang`: the text's language, when known. */
  shingleHashes(text: string, lang: string | null = null): Uint32Array {
    const words = asciiWordHashes(text) ?? languageWordHashes(normalizeForDedup(text), lang);
    const k = this.config.shingle;
    const count = words.length === 0 ? 0 : Math.max(1, words.length - k + 1);
    if (this.shingles.length < count) this.shingles = new Uint32Array(Math.max(count, this.shingles.length * 2));
    for (let i = 0; i < count; i++) {
      let h = 0x27d4eb2f;
      for (let j = i; j < Math.min(i + k, words.length); j++) h = combine(h, words[j]);
      this.shingles[i] = h;
    }
    return this.shingles.subarray(0, count);
  }

  /**
   * The signature: per permutation the minimum, as 1 or 2 uint32 (high, low). Null for a text
   * without words (it is nobody's duplicate).
   */
  signature(text: string, out = new Uint32Array(this.permutations * this.width), lang: string | null = null): Uint32Array | null {
    return this.signatureOf(this.shingleHashes(text, lang), out);
  }

  signatureOf(shingles: Uint32Array, out = new Uint32Array(this.permutations * this.width)): Uint32Array | null {
    if (shingles.length === 0) return null;
    const { a, b } = this;
    const n = this.permutations;
    if (this.width === 1) {
      for (let p = 0; p < n; p++) {
        const ap = a[p];
        const bp = b[p];
        let min = 0xffffffff;
        for (let i = 0; i < shingles.length; i++) {
          const v = (Math.imul(ap, shingles[i]) + bp) >>> 0;
          if (v < min) min = v;
        }
        out[p] = min;
      }
      return out;
    }
    for (let p = 0; p < n; p++) {
      const ah = a[2 * p];
      const bh = b[2 * p];
      const al = a[2 * p + 1];
      const bl = b[2 * p + 1];
      let minHi = 0xffffffff;
      let minLo = 0xffffffff;
      for (let i = 0; i < shingles.length; i++) {
        const x = shingles[i];
        const hi = (Math.imul(ah, x) + bh) >>> 0;
        if (hi < minHi) {
          minHi = hi;
          minLo = (Math.imul(al, x) + bl) >>> 0;
        } else if (hi === minHi) {
          const lo = (Math.imul(al, x) + bl) >>> 0;
          if (lo < minLo) minLo = lo;
        }
      }
      out[2 * p] = minHi;
      out[2 * p + 1] = minLo;
    }
    return out;
  }

  /** One 64-bit key per band (as [high, low] pairs): equal keys mean the band's rows all agree. */
  bandKeys(signature: Uint32Array, out = new Uint32Array(this.config.bands * 2)): Uint32Array {
    const { rows, bands } = this.config;
    const w = this.width;
    for (let band = 0; band < bands; band++) {
      let hi = mix32(band + 0x1000193);
      let lo = mix32(band ^ 0xdeadbeef);
      for (let r = 0; r < rows * w; r++) {
        const v = signature[band * rows * w + r];
        hi = combine(hi, v);
        lo = combine(lo ^ 0x2545f491, v);
      }
      out[2 * band] = hi;
      out[2 * band + 1] = lo;
    }
    return out;
  }
}

/** Word hashes of an already normalised text (words separated by single spaces). */
export function wordHashes(norm: string): number[] {
  const words: number[] = [];
  let start = 0;
  for (let i = 0; i <= norm.length; i++) {
    if (i === norm.length || norm.charCodeAt(i) === 32) {
      if (i > start) words.push(hashString(norm, start, i));
      start = i + 1;
    }
  }
  return words;
}

/**
 * Word hashes of a normalised text in any script: split on spaces, except for text holding a
 * script written without them (its words then come from ICU's segmenter, pipeline/text/words.ts).
 */
export function languageWordHashes(norm: string, lang: string | null = null): number[] {
  if (!UNSPACED_SCRIPT.test(norm)) return wordHashes(norm);
  const words: number[] = [];
  for (const w of segmentedWords(norm, lang)) if (w !== ' ') words.push(hashString(w));
  return words;
}

/**
 * The same word hashes as wordHashes(normalizeForDedup(text)), in one pass and without
 * building the normalised string, for text that is plain ASCII (most web text). Null when
 * the text has other characters, which need Unicode normalisation.
 */
export function asciiWordHashes(text: string): number[] | null {
  const words: number[] = [];
  let h = 0x811c9dc5;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 128 || (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 11)) return null;
    if (c >= 65 && c <= 90) c += 32;
    else if (c >= 48 && c <= 57) c = 48;
    else if (c < 97 || c > 122) {
      if (inWord) words.push(mix32(h));
      h = 0x811c9dc5;
      inWord = false;
      continue;
    }
    h ^= c;
    h = Math.imul(h, 0x01000193);
    inWord = true;
  }
  if (inWord) words.push(mix32(h));
  return words;
}

/** The probability that a pair at Jaccard similarity s becomes a candidate. */
export const detectionProbability = (s: number, bands: number, rows: number) => 1 - (1 - s ** rows) ** bands;

/** Estimated Jaccard similarity of two signatures: the share of equal minima. */
export function estimatedJaccard(x: Uint32Array, y: Uint32Array, width: number): number {
  let equal = 0;
  const n = x.length / width;
  for (let p = 0; p < n; p++) {
    let same = true;
    for (let k = 0; k < width; k++) if (x[p * width + k] !== y[p * width + k]) same = false;
    if (same) equal++;
  }
  return equal / n;
}
