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

  /**
   * `has` for many keys at once: out[i] = 1 when key i (hi[i], lo[i]) may have been added, else 0.
   * A large filter is bound by memory, not arithmetic: one lookup waits ~100 ns for a counter out
   * of cache. So the first counter of every key is read in one tight loop of independent loads,
   * which the CPU overlaps, and only the keys whose first counter is set (rare, for a sparse
   * filter) are checked further. The answers are has()'s.
   */
  hasMany(hi: Int32Array | Uint32Array, lo: Int32Array | Uint32Array, count: number, out: Uint8Array): void {
    const counters = this.counters;
    const first = this.scratch(count);
    for (let i = 0; i < count; i++) first[i] = this.slot(hi[i], lo[i], 0);
    for (let i = 0; i < count; i++) out[i] = counters[first[i]];
    for (let i = 0; i < count; i++) if (out[i] !== 0) out[i] = this.has(hi[i], lo[i]) ? 1 : 0;
  }

  private slots = new Uint32Array(0);

  private scratch(count: number): Uint32Array {
    if (this.slots.length < count) this.slots = new Uint32Array(Math.max(count, 2 * this.slots.length));
    return this.slots;
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
