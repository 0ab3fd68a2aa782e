/** The mixture plan: temperature limits, weights, budgets, the epoch cap and the size thresholds. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../pipeline/core/errors.js';
import { BINS, planMix, targetShares, type DomainCount } from '../pipeline/mix/plan.js';

const sizes = new Map([
  ['web', 800],
  ['books', 150],
  ['code', 40],
  ['wiki', 10],
]);

/** A domain of `docs` documents of `each` bytes spread evenly over u. */
function domain(docs: number, each: number): DomainCount {
  const hist = new Float64Array(BINS);
  for (let i = 0; i < docs; i++) hist[Math.floor(((i + 0.5) / docs) * BINS)] += each;
  return { docs, bytes: docs * each, size: docs * each, hist };
}

describe('target shares', () => {
  it('T = 1 reproduces the natural proportions', () => {
    const shares = targetShares(sizes, { temperature: 1 });
    for (const [d, n] of sizes) expect(shares.get(d)).toBeCloseTo(n / 1000, 12);
  });
  it('T -> infinity approaches uniform, and larger T is always flatter', () => {
    const uniform = targetShares(sizes, { temperature: 1e9 });
    for (const d of sizes.keys()) expect(uniform.get(d)).toBeCloseTo(0.25, 6);
    let previous = 1;
    for (const t of [1, 2, 5, 20, 100, 1e4]) {
      const largest = targetShares(sizes, { temperature: t }).get('web') ?? 0;
      expect(largest).toBeLessThan(previous);
      previous = largest;
    }
    expect(previous).toBeGreaterThan(0.25);
  });
  it('T = 2 is p ~ sqrt(n)', () => {
    const shares = targetShares(sizes, { temperature: 2 });
    const z = [...sizes.values()].reduce((a, n) => a + Math.sqrt(n), 0);
    for (const [d, n] of sizes) expect(shares.get(d)).toBeCloseTo(Math.sqrt(n) / z, 12);
  });
  it('weights are normalised; unnamed domains get none; a weight for a missing domain is an error', () => {
    const shares = targetShares(sizes, { weights: { web: 2, books: 1, code: 1 } });
    expect([...shares.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(shares.get('web')).toBeCloseTo(0.5, 12);
    expect(shares.get('wiki') ?? 0).toBe(0);
    expect(() => targetShares(sizes, { weights: { web: 1, poetry: 1 } })).toThrow(/"poetry", which has no documents/);
    expect(() => targetShares(sizes, { weights: { web: 0 } })).toThrow(UserError);
  });
});

describe('plan', () => {
  const counts = new Map([
    ['web', domain(4000, 200)],
    ['books', domain(300, 500)],
    ['wiki', domain(100, 100)],
  ]);
  it('by default, the largest mix within the epoch cap: the binding domain is used exactly max_epochs times', () => {
    const plan = planMix(counts, { weights: { web: 0.5, books: 0.3, wiki: 0.2 }, max_epochs: 2 });
    const wiki = plan.domains.find((d) => d.domain === 'wiki');
    expect(wiki?.epochs).toBeCloseTo(2, 9);
    expect(plan.budget).toBeCloseTo((100 * 100 * 2) / 0.2, 6);
    for (const d of plan.domains) expect(d.epochs).toBeLessThanOrEqual(2 + 1e-9);
  });
  it('a budget beyond the cap is refused with the largest that works', () => {
    expect(() => planMix(counts, { weights: { web: 0.5, books: 0.3, wiki: 0.2 }, max_epochs: 2, budget: 100_001 })).toThrow(/needs 2 epochs of "wiki".*largest budget these proportions allow is 100,000/);
    expect(() => planMix(counts, { weights: { web: 0.5, books: 0.3, wiki: 0.2 }, max_epochs: 2, budget: 100_000 })).not.toThrow();
  });
  it('documents below each threshold make up the fractional part of the target to within a bin', () => {
    const plan = planMix(counts, { weights: { web: 0.5, books: 0.3, wiki: 0.2 }, max_epochs: 3, budget: 150_000 });
    for (const d of plan.domains) {
      const c = counts.get(d.domain) as DomainCount;
      let below = 0;
      for (let i = 0; i < BINS * d.threshold; i++) below += c.hist[i];
      const realised = d.full * c.size + below;
      expect(Math.abs(realised - d.target_size)).toBeLessThanOrEqual(Math.max(...c.hist) / 2 + 1e-6);
    }
  });
});
