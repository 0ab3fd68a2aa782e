/**
 * A counting Bloom filter with 8-bit saturating counters; slots by double hashing (h1 + i * h2)
 * of a 64-bit hash given as two 32-bit halves. Line dedup counts lines with it; decontamination
 * uses it as a set (a count of at least one) of task n-grams too many to hold exactly.
 */
import { mix32 } from './hash.js';

export class CountingBloom {
  constructor(
    readonly counters: Uint8Array,
    private readonly hashes: number,
  ) {}

  private slot(hi: number, lo: number, i: number): number {
    return (mix32(hi + Math.imul(i, lo | 1)) >>> 0) % this.counters.length;
  }

  add(hi: number, lo: number): void {
    for (let i = 0; i < this.hashes; i++) {
      const s = this.slot(hi, lo, i);
      if (this.counters[s] < 255) this.counters[s]++;
    }
  }

  count(hi: number, lo: number): number {
    let min = 255;
    for (let i = 0; i < this.hashes; i++) min = Math.min(min, this.counters[this.slot(hi, lo, i)]);
    return min;
  }

  /** Whether every counter of the key is non-zero (the key may have been added). */
  has(hi: number, lo: number): boolean {
    for (let i = 0; i < this.hashes; i++) if (this.counters[this.slot(hi, lo, i)] === 0) return false;
    return true;
  }

  /** The share of non-zero counters. */
  fill(): number {
    let used = 0;
    for (let i = 0; i < this.counters.length; i++) if (this.counters[i] > 0) used++;
    return used / this.counters.length;
  }

  /** The false-positive rate of one lookup is at most fill()^hashes. */
  falsePositiveBound(): number {
    return this.fill() ** this.hashes;
  }
}
