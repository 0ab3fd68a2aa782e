/** The counting Bloom filter's batched lookup answers exactly what one lookup at a time does. */
import { describe, expect, it } from 'vitest';
import { CountingBloom } from '../pipeline/core/bloom.js';
import { Random } from '../pipeline/core/random.js';

describe('CountingBloom.hasMany', () => {
  it('equals has() key by key, for sparse and crowded filters', () => {
    const rng = new Random(7);
    const key = () => (rng.next() * 2 ** 32) | 0;
    for (const [size, added] of [[1 << 16, 500], [4096, 2000], [1 << 20, 100_000]]) {
      const bloom = new CountingBloom(new Uint8Array(size), 8);
      const keys = Array.from({ length: added }, () => [key(), key()] as const);
      for (const [hi, lo] of keys) bloom.add(hi, lo);
      // Half the keys looked up were added, half are new.
      const probe = [...keys.slice(0, 5000), ...Array.from({ length: 5000 }, () => [key(), key()] as const)];
      const hi = Int32Array.from(probe.map((k) => k[0]));
      const lo = Int32Array.from(probe.map((k) => k[1]));
      const out = new Uint8Array(probe.length);
      bloom.hasMany(hi, lo, probe.length, out);
      const one = probe.map(([h, l]) => (bloom.has(h, l) ? 1 : 0));
      expect([...out]).toEqual(one);
      expect(one.slice(0, Math.min(5000, added)).every((x) => x === 1)).toBe(true); // no false negatives
      expect(one.slice(5000).includes(0)).toBe(true);
    }
  });
});
