/** MinHash-LSH and the dedup building blocks: the detection curve, hashing paths, external sort. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../pipeline/core/random.js';
import { jaccardPair, randomWord } from '../datasets/synthetic-docs.js';
import { ExternalSorter } from '../pipeline/dedup/external-sort.js';
import { asciiWordHashes, DATATROVE_DEFAULTS, detectionProbability, estimatedJaccard, MinHasher, wordHashes } from '../pipeline/dedup/minhash.js';
import { normalizeUrl } from '../pipeline/dedup/signatures.js';
import { jaccard, normalizeForDedup, wordShingles } from '../pipeline/text/normalize.js';

const tmp = mkdtempSync(join(tmpdir(), 'refinery-dedup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sharesBand = (x: Uint32Array, y: Uint32Array) => {
  for (let b = 0; b < x.length; b += 2) if (x[b] === y[b] && x[b + 1] === y[b + 1]) return true;
  return false;
};

describe('synthetic pairs', () => {
  it('have the Jaccard similarity they claim', () => {
    const random = new Random(3);
    for (const s of [0, 0.3, 0.55, 0.8, 1]) {
      const pair = jaccardPair(s, random, 120);
      expect(jaccard(wordShingles(pair.a), wordShingles(pair.b))).toBeCloseTo(pair.jaccard, 10);
      expect(Math.abs(pair.jaccard - s)).toBeLessThan(0.01);
    }
  });
});

describe('MinHash-LSH detection curve', () => {
  // Per similarity, 1,200 pairs: the share found is within +-0.05 of 1 - (1 - s^r)^b
  // (the binomial standard error is at most 0.015, so a failure is a real deviation).
  const TRIALS = 1200;
  for (const bits of [64, 32] as const) {
    it(`matches 1 - (1 - s^r)^b from s = 0.3 to 1.0 (${bits}-bit, 14 bands x 8 rows)`, () => {
      const hasher = new MinHasher({ ...DATATROVE_DEFAULTS, bits });
      const random = new Random(bits);
      const rows: string[] = [];
      for (let s10 = 3; s10 <= 10; s10++) {
        let found = 0;
        let expected = 0;
        let estimate = 0;
        for (let t = 0; t < TRIALS; t++) {
          const pair = jaccardPair(s10 / 10, random);
          const x = hasher.signature(pair.a)?.slice() as Uint32Array;
          const y = hasher.signature(pair.b) as Uint32Array;
          if (sharesBand(hasher.bandKeys(x).slice(), hasher.bandKeys(y))) found++;
          expected += detectionProbability(pair.jaccard, 14, 8);
          estimate += estimatedJaccard(x, y, hasher.width);
        }
        rows.push(`s=${s10 / 10}: found ${(found / TRIALS).toFixed(3)}, theory ${(expected / TRIALS).toFixed(3)}`);
        expect(Math.abs(found / TRIALS - expected / TRIALS), rows.join('\n')).toBeLessThanOrEqual(0.05);
        // The signatures estimate the similarity itself without bias.
        expect(Math.abs(estimate / TRIALS - s10 / 10)).toBeLessThan(0.01);
      }
    }, 60_000);
  }

  it('gives a text without words no signature, and equal texts equal signatures', () => {
    const hasher = new MinHasher(DATATROVE_DEFAULTS);
    expect(hasher.signature('  ... !!! ')).toBeNull();
    expect(hasher.signature('The same TEXT, twice.')).toEqual(hasher.signature('the same text twice'));
    // Shorter than a shingle: one shingle of all its words.
    expect(hasher.shingleHashes('two words')).toHaveLength(1);
  });
});

describe('word hashing', () => {
  it('hashes ASCII text in one pass exactly as the normalised path does', () => {
    const random = new Random(11);
    const alphabet = 'abcXYZ019 ,.;:!?-_()[]"\'\t\n\r/@#$%^&*+=<>~`|\\{}';
    for (let t = 0; t < 2000; t++) {
      let text = '';
      for (let i = random.int(0, 80); i > 0; i--) text += random.chance(0.5) ? alphabet[random.int(0, alphabet.length - 1)] : randomWord(random, random.int(1, 6));
      expect(asciiWordHashes(text), JSON.stringify(text)).toEqual(wordHashes(normalizeForDedup(text)));
    }
  });

  it('leaves non-ASCII text to the Unicode path (accents stripped)', () => {
    expect(asciiWordHashes('café')).toBeNull();
    expect(wordHashes(normalizeForDedup('Café Crème 42'))).toEqual(asciiWordHashes('cafe creme 00'));
  });
});

describe('ExternalSorter', () => {
  const records = (n: number, seed: number) => {
    const random = new Random(seed);
    const out = new Uint32Array(n * 3);
    // Few distinct high words, so ties on the high word are common.
    for (let i = 0; i < n; i++) out.set([random.int(0, 50), (random.next() * 2 ** 32) >>> 0, i], i * 3);
    return out;
  };
  const drain = (sorter: ExternalSorter) => {
    const out: number[] = [];
    for (const block of sorter.sorted()) for (const v of block) out.push(v);
    return out;
  };
  const reference = (data: Uint32Array) => {
    const rows = Array.from({ length: data.length / 3 }, (_, i) => [data[i * 3], data[i * 3 + 1], data[i * 3 + 2]]);
    rows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return rows;
  };

  it('sorts in memory and, past its budget, through spilled runs, to the same order', () => {
    const data = records(50_000, 5);
    const inMemory = new ExternalSorter(3, 64 << 20, join(tmp, 'mem'));
    const spilling = new ExternalSorter(3, 40_000, join(tmp, 'spill')); // ~1,250 records a run
    for (let i = 0; i < data.length; i += 3) {
      inMemory.push(data.subarray(i, i + 3));
      spilling.push(data.subarray(i, i + 3));
    }
    const a = drain(inMemory);
    const b = drain(spilling);
    expect(inMemory.spilledRuns).toBe(0);
    expect(spilling.spilledRuns).toBeGreaterThan(30);
    const keys = (flat: number[]) => Array.from({ length: flat.length / 3 }, (_, i) => `${flat[i * 3]}:${flat[i * 3 + 1]}`);
    const want = reference(data);
    expect(keys(a)).toEqual(want.map((r) => `${r[0]}:${r[1]}`));
    expect(keys(b)).toEqual(keys(a));
    // Every record comes out once.
    expect(new Set(b.filter((_, i) => i % 3 === 2)).size).toBe(50_000);
  });

  it('handles no records', () => {
    expect(drain(new ExternalSorter(3, 1 << 20, join(tmp, 'empty')))).toEqual([]);
  });
});

describe('normalizeUrl', () => {
  it('treats spellings of the same URL as one', () => {
    const same = ['https://Example.COM/a/b/?utm_source=x&q=1&a=2#top', 'https://example.com/a/b?a=2&q=1', 'https://example.com:443/a/b/?q=1&a=2&fbclid=zz'];
    expect(new Set(same.map(normalizeUrl)).size).toBe(1);
    expect(normalizeUrl('https://example.com/a/b?q=1')).not.toBe(normalizeUrl('https://example.com/a/c?q=1'));
    expect(normalizeUrl('http://example.com/x')).not.toBe(normalizeUrl('https://example.com/x'));
    expect(normalizeUrl('not a url ')).toBe('not a url');
  });
});
