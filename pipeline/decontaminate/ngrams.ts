/**
 * Task n-grams, as GPT-3 decontaminated (Brown et al. 2020, appendix C): text is lower-cased
 * and stripped of punctuation, split into words, and any 13 consecutive words a document
 * shares with a task item count as an overlap. An item shorter than n words is matched by its
 * whole normalised text. Words keep their character offsets in the original text, so a match
 * can be cut out of it.
 *
 * N-grams are compared by a 64-bit hash (two 32-bit halves over the words' hashes): exactly
 * (52 bits of it in a Map, with the items each belongs to) or in a Bloom filter (core/bloom.ts),
 * keyed by suite, which answers "some item of this suite" and may err only towards a match.
 */
import { CountingBloom } from '../core/bloom.js';
import { combine, hashKey, mix32 } from '../core/hash.js';

const PUNCT = /[\p{P}\p{S}]+/gu;
const SEED_LO = 0x01234567;

/** The words of a text: lower-cased, punctuation removed, with where each stood. */
export interface Words {
  hi: Uint32Array;
  lo: Uint32Array;
  start: Uint32Array;
  end: Uint32Array;
  length: number;
  /** The normalised words themselves (only when asked for). */
  text?: string[];
}

export function normalizeWord(raw: string): string {
  return raw.toLowerCase().replace(PUNCT, '');
}

const FNV = 0x01000193;
const SEED_HI = 0x811c9dc5;
/** Bases of the two lanes of the rolling n-gram hash (odd, so powers stay odd). */
const BASE_HI = 0x9e3779b1;
const BASE_LO = 0x85ebca77;

const grow = (a: Uint32Array) => {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
};

/**
 * The words of a text, hashed as their normalised form (what `normalizeWord` returns). ASCII
 * words, the common case, are lower-cased and stripped of punctuation as they are hashed,
 * without a string made; others go through `normalizeWord`.
 */
export function splitWords(text: string, keepText = false): Words {
  const cap = 16 + (text.length >>> 2);
  let hi = new Uint32Array(cap);
  let lo = new Uint32Array(cap);
  let start = new Uint32Array(cap);
  let end = new Uint32Array(cap);
  const words: string[] = [];
  let n = 0;
  const re = /\S+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const from = m.index;
    const to = from + m[0].length;
    let h1 = SEED_HI;
    let h2 = SEED_LO;
    let chars = 0;
    let ascii = true;
    for (let i = from; i < to; i++) {
      let c = text.charCodeAt(i);
      if (c >= 128) {
        ascii = false;
        break;
      }
      if (c >= 65 && c <= 90) c += 32;
      else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57))) continue;
      h1 = Math.imul(h1 ^ c, FNV);
      h2 = Math.imul(h2 ^ c, FNV);
      chars++;
    }
    let w = '';
    if (!ascii || keepText) {
      w = normalizeWord(m[0]);
      chars = w.length;
      if (!ascii) {
        h1 = SEED_HI;
        h2 = SEED_LO;
        for (let i = 0; i < w.length; i++) {
          h1 = Math.imul(h1 ^ w.charCodeAt(i), FNV);
          h2 = Math.imul(h2 ^ w.charCodeAt(i), FNV);
        }
      }
    }
    if (chars === 0) continue;
    if (n === hi.length) [hi, lo, start, end] = [grow(hi), grow(lo), grow(start), grow(end)];
    hi[n] = mix32(h1);
    lo[n] = mix32(h2);
    start[n] = from;
    end[n] = to;
    if (keepText) words.push(w);
    n++;
  }
  return { hi, lo, start, end, length: n, text: keepText ? words : undefined };
}

/** base^k modulo 2^32. */
function power(base: number, k: number): number {
  let p = 1;
  for (let i = 0; i < k; i++) p = Math.imul(p, base);
  return p;
}

/** The n-gram hashes of one window length: window i (its first word i) has hash (hi[i], lo[i]). */
interface Windows {
  hi: Int32Array;
  lo: Int32Array;
  count: number;
}

/**
 * Every k-word window's 64-bit hash, in order: a polynomial rolling hash of the word hashes
 * (two lanes, modulo 2^32), finalised. Written into `into` (grown when short) and returned.
 */
function ngramHashes(w: Words, k: number, into: Windows): Windows {
  const count = Math.max(0, w.length - k + 1);
  if (into.hi.length < count) [into.hi, into.lo] = [new Int32Array(2 * count), new Int32Array(2 * count)];
  into.count = count;
  if (count === 0) return into;
  const phi = power(BASE_HI, k);
  const plo = power(BASE_LO, k);
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < w.length; i++) {
    hi = (Math.imul(hi, BASE_HI) + w.hi[i]) | 0;
    lo = (Math.imul(lo, BASE_LO) + w.lo[i]) | 0;
    if (i >= k) {
      hi = (hi - Math.imul(w.hi[i - k], phi)) | 0;
      lo = (lo - Math.imul(w.lo[i - k], plo)) | 0;
    }
    if (i >= k - 1) {
      into.hi[i - k + 1] = mix32(hi ^ k);
      into.lo[i - k + 1] = mix32(lo + k);
    }
  }
  return into;
}

const windows = (): Windows => ({ hi: new Int32Array(256), lo: new Int32Array(256), count: 0 });

/** One item of an evaluation suite. */
export interface TaskItem {
  /** `<suite>:<k>`, k the item's 1-based place in its file (as `refinery eval` numbers them). */
  id: string;
  suite: number;
  text: string;
}

export interface NgramIndexOptions {
  n: number;
  index: 'exact' | 'bloom';
  bloomSize: number;
  bloomHashes: number;
}

/** A window of the document found in the index. */
export interface Match {
  start: number;
  end: number;
  /** Suites (indexes) with this n-gram. */
  suites: number[];
  /** Items with this n-gram (exact index only). */
  items?: number[];
}

export class NgramIndex {
  /** Window lengths looked up: n, and the length of every item shorter than n. */
  readonly lengths: number[];
  readonly ngrams: number;
  private readonly exact: Map<number, number[]> | null = null;
  readonly bloom: CountingBloom | null = null;
  /** Scratch buffers, reused from document to document (no allocation per n-gram). */
  private readonly windows = windows();
  private keys = new Int32Array(0);
  private los = new Int32Array(0);
  private found = new Uint8Array(0);

  constructor(
    readonly suites: readonly string[],
    readonly items: readonly TaskItem[],
    readonly o: NgramIndexOptions,
    counters?: Uint8Array,
  ) {
    const lengths = new Set<number>();
    if (o.index === 'exact') this.exact = new Map();
    else this.bloom = new CountingBloom(counters ?? new Uint8Array(o.bloomSize), o.bloomHashes);
    const fill = !counters;
    let ngrams = 0;
    items.forEach((item, idx) => {
      const w = splitWords(item.text);
      if (w.length === 0) return;
      const k = Math.min(o.n, w.length);
      lengths.add(k);
      const g = ngramHashes(w, k, this.windows);
      for (let i = 0; i < g.count; i++) {
        ngrams++;
        if (this.exact) {
          const key = hashKey(g.hi[i] >>> 0, g.lo[i] >>> 0);
          const list = this.exact.get(key);
          if (!list) this.exact.set(key, [idx]);
          else if (list[list.length - 1] !== idx) list.push(idx);
        } else if (fill) this.bloom?.add(combine(g.hi[i] >>> 0, item.suite), g.lo[i] >>> 0);
      }
    });
    this.ngrams = ngrams;
    this.lengths = [...lengths].sort((a, b) => b - a);
  }

  /** Every window of the text found in the index. */
  matches(w: Words): Match[] {
    const out: Match[] = [];
    for (const k of this.lengths) {
      const g = ngramHashes(w, k, this.windows);
      if (this.exact) {
        for (let i = 0; i < g.count; i++) {
          const items = this.exact.get(hashKey(g.hi[i] >>> 0, g.lo[i] >>> 0));
          if (items) out.push({ start: w.start[i], end: w.end[i + k - 1], suites: [...new Set(items.map((x) => this.items[x].suite))], items });
        }
        continue;
      }
      // Bloom: every window's key for every suite looked up in one batch (see CountingBloom.hasMany).
      const bloom = this.bloom as CountingBloom;
      const S = this.suites.length;
      const n = g.count * S;
      if (this.keys.length < n) [this.keys, this.found] = [new Int32Array(2 * n), new Uint8Array(2 * n)];
      const lo = S === 1 ? g.lo : this.loBySuite(g, S);
      for (let s = 0; s < S; s++) for (let i = 0; i < g.count; i++) this.keys[s * g.count + i] = combine(g.hi[i] >>> 0, s);
      bloom.hasMany(this.keys, lo, n, this.found);
      for (let i = 0; i < g.count; i++) {
        let suites: number[] | null = null;
        for (let s = 0; s < S; s++) if (this.found[s * g.count + i]) (suites ??= []).push(s);
        if (suites) out.push({ start: w.start[i], end: w.end[i + k - 1], suites });
      }
    }
    return out;
  }

  /** The windows' low halves repeated once per suite (the keys' second half does not depend on the suite). */
  private loBySuite(g: Windows, S: number): Int32Array {
    if (this.los.length < g.count * S) this.los = new Int32Array(2 * g.count * S);
    for (let s = 0; s < S; s++) this.los.set(g.lo.subarray(0, g.count), s * g.count);
    return this.los;
  }
}
