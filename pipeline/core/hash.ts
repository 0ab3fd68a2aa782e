/**
 * Fast non-cryptographic hashing on 32-bit integers (Math.imul), for dedup's hot loops, the
 * validation split, score ties and the trainer's batches: no BigInt, no per-call allocation.
 * 64-bit hashes are two independent 32-bit halves.
 */

/** murmur3's finaliser: spreads every input bit over the output. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units of s[start, end), finalised with mix32. */
export function hashString(s: string, start = 0, end = s.length, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** Combine a running hash with one more 32-bit value (order matters). */
export function combine(h: number, v: number): number {
  return mix32((Math.imul(h ^ 0x9e3779b9, 0x01000193) + v) | 0);
}

/** A 64-bit hash of a string as [high, low] 32-bit halves, from two seeds. */
export function hash64(s: string): [number, number] {
  return [hashString(s, 0, s.length, 0x811c9dc5), hashString(s, 0, s.length, 0x01234567)];
}

/** 52 bits of a 64-bit hash as one exact JS number, for Sets and Maps. */
export function hashKey(hi: number, lo: number): number {
  return (hi & 0xfffff) * 4294967296 + lo;
}
