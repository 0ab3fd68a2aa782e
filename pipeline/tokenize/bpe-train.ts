/**
 * Byte-level BPE training with incremental pair counts (as Hugging Face's trainer and
 * Sennrich et al.'s reference do it): pre-tokenised words are counted once; each merge
 * rewrites only the words that hold the merged pair and updates the counts of the pairs
 * those words gain and lose, and a max-heap with lazy deletion finds the next pair.
 *
 * Ties (pairs with equal counts) go to the pair of lower token ids, left then right; ids are
 * bytes (0-255) and then merges in the order they were learned.
 */
import { textBytes } from './bytes.js';
import { forEachPiece } from './pretokenize.js';

export interface BpeTrainOptions {
  /** Final vocabulary size: 256 bytes + merges + special tokens. */
  vocabSize: number;
  specialTokens: readonly string[];
  /** Pairs seen fewer times are never merged. */
  minFrequency?: number;
  onProgress?(merges: number, total: number): void;
}

export interface BpeResult {
  /** Merges in the order learned: [left id, right id]; merge i makes id 256 + i. */
  merges: [number, number][];
  /** Bytes of every token id below 256 + merges.length. */
  tokenBytes: Uint8Array[];
  words: number;
  pieces: number;
}

/** Counts of pre-tokenised pieces, fed text by text. */
export class WordCounter {
  readonly counts = new Map<string, number>();
  pieces = 0;
  add(text: string): void {
    forEachPiece(text, (p) => {
      this.counts.set(p, (this.counts.get(p) ?? 0) + 1);
      this.pieces++;
    });
  }
}

const key = (a: number, b: number) => a * 1048576 + b;
const left = (k: number) => Math.floor(k / 1048576);
const right = (k: number) => k % 1048576;

/** A max-heap of (count, pair key): larger counts first, then smaller keys. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  private above(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
  push(count: number, k: number): void {
    this.counts.push(count);
    this.keys.push(k);
    for (let i = this.keys.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { count: number; key: number } | null {
    if (this.keys.length === 0) return null;
    const top = { count: this.counts[0], key: this.keys[0] };
    const lastCount = this.counts.pop() as number;
    const lastKey = this.keys.pop() as number;
    if (this.keys.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.keys.length && this.above(l, m)) m = l;
        if (r < this.keys.length && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

export function trainBpe(counter: WordCounter, o: BpeTrainOptions): BpeResult {
  const total = o.vocabSize - 256 - o.specialTokens.length;
  if (total < 0) throw new Error(`a vocabulary of ${o.vocabSize} cannot hold the 256 bytes and ${o.specialTokens.length} special tokens`);
  const minFrequency = Math.max(1, o.minFrequency ?? 1);
  // Words as arrays of token ids, with their counts.
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [piece, n] of counter.counts) {
    words.push(Array.from(textBytes(piece)));
    freq.push(n);
  }
  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  words.forEach((w, wi) => {
    for (let i = 0; i + 1 < w.length; i++) {
      const k = key(w[i], w[i + 1]);
      pairCount.set(k, (pairCount.get(k) ?? 0) + freq[wi]);
      let s = where.get(k);
      if (!s) where.set(k, (s = new Set()));
      s.add(wi);
    }
  });
  const heap = new PairHeap();
  for (const [k, n] of pairCount) heap.push(n, k);

  const tokenBytes: Uint8Array[] = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  const merges: [number, number][] = [];
  const changed = new Set<number>();
  while (merges.length < total) {
    const top = heap.pop();
    if (!top) break;
    const current = pairCount.get(top.key) ?? 0;
    if (current !== top.count) continue; // stale entry; the current count has its own entry
    if (current < minFrequency) break;
    const a = left(top.key);
    const b = right(top.key);
    const id = 256 + merges.length;
    merges.push([a, b]);
    const merged = new Uint8Array(tokenBytes[a].length + tokenBytes[b].length);
    merged.set(tokenBytes[a]);
    merged.set(tokenBytes[b], tokenBytes[a].length);
    tokenBytes.push(merged);
    changed.clear();
    for (const wi of where.get(top.key) ?? []) {
      const w = words[wi];
      const n = freq[wi];
      // Merge left to right into a new symbol list, then move the word's pair counts from old to new.
      const next: number[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          next.push(id);
          i++;
        } else next.push(w[i]);
      }
      if (next.length === w.length) continue; // the pair left this word in an earlier merge
      for (let i = 0; i + 1 < w.length; i++) {
        const k = key(w[i], w[i + 1]);
        pairCount.set(k, (pairCount.get(k) ?? 0) - n);
        changed.add(k);
      }
      for (let i = 0; i + 1 < next.length; i++) {
        const k = key(next[i], next[i + 1]);
        pairCount.set(k, (pairCount.get(k) ?? 0) + n);
        changed.add(k);
        let s = where.get(k);
        if (!s) where.set(k, (s = new Set()));
        s.add(wi);
      }
      words[wi] = next;
    }
    where.delete(top.key);
    pairCount.delete(top.key);
    changed.delete(top.key);
    for (const k of changed) {
      const n = pairCount.get(k) ?? 0;
      if (n > 0) heap.push(n, k);
      else pairCount.delete(k);
    }
    if (merges.length % 256 === 0) o.onProgress?.(merges.length, total);
  }
  o.onProgress?.(merges.length, total);
  return { merges, tokenBytes, words: words.length, pieces: counter.pieces };
}
