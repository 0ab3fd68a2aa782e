/**
 * The mixture plan: from each domain's natural size and the target proportions, how many
 * times each document is used. A domain at rate r (its epochs) uses every document
 * floor(r) times and, once more, the documents whose position u (a seeded hash of the id,
 * uniform in [0, 1)) falls below a threshold chosen from the histogram of sizes over u, so
 * the realised size is the target to within one histogram bin, whatever the document sizes.
 */
import { UserError } from '../core/errors.js';

/** Histogram bins over u: the realised size of a domain is off by at most half a bin's share. */
export const BINS = 4096;

export interface DomainCount {
  docs: number;
  bytes: number;
  /** The size in the mix's unit (bytes or documents). */
  size: number;
  /** size per bin of u. */
  hist: Float64Array;
}

export interface MixSpec {
  /** Target proportions (any positive scale); domains not named get none. */
  weights?: Record<string, number>;
  /** Or temperature sampling over natural sizes: p ∝ n^(1/T). */
  temperature?: number;
  /** Total size of the mix in the unit; default: the largest mix the epoch cap allows. */
  budget?: number;
  max_epochs: number;
}

export interface DomainPlan {
  domain: string;
  docs: number;
  bytes: number;
  size: number;
  natural_share: number;
  target_share: number;
  target_size: number;
  /** Rate: target size / natural size. */
  epochs: number;
  /** Every document is used this many times... */
  full: number;
  /** ...and once more when its u is below this. */
  threshold: number;
}

export interface MixPlan {
  budget: number;
  domains: DomainPlan[];
}

/** Target shares by domain, summing to 1. */
export function targetShares(sizes: ReadonlyMap<string, number>, spec: Pick<MixSpec, 'weights' | 'temperature'>): Map<string, number> {
  const raw = new Map<string, number>();
  if (spec.weights) {
    for (const [domain, w] of Object.entries(spec.weights)) {
      if (!(w >= 0) || !Number.isFinite(w)) throw new UserError(`mix: the weight of "${domain}" must be a number >= 0 (got ${w})`);
      if (w > 0 && !sizes.get(domain)) throw new UserError(`mix: the weights name "${domain}", which has no documents (domains: ${[...sizes.keys()].sort().join(', ')})`);
      raw.set(domain, w);
    }
  } else {
    const t = spec.temperature ?? 1;
    if (!(t > 0)) throw new UserError(`mix: --temperature must be > 0 (got ${t})`);
    // Sizes relative to the largest, so n^(1/T) neither overflows nor underflows for large T.
    const largest = Math.max(...sizes.values());
    for (const [domain, n] of sizes) raw.set(domain, n > 0 ? (n / largest) ** (1 / t) : 0);
  }
  const total = [...raw.values()].reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new UserError('mix: every weight is 0: nothing to mix');
  return new Map([...raw].map(([d, w]) => [d, w / total]));
}

/** The threshold on u that makes the documents below it add up closest to `want`. */
function thresholdFor(hist: Float64Array, want: number): number {
  if (want <= 0) return 0;
  let cum = 0;
  let best = 0;
  let bestGap = want;
  for (let k = 1; k <= hist.length; k++) {
    cum += hist[k - 1];
    const gap = Math.abs(cum - want);
    if (gap < bestGap) [best, bestGap] = [k, gap];
    if (cum > want) break;
  }
  return best / hist.length;
}

const fmt = (n: number) => Number(n.toPrecision(4)).toLocaleString('en-US');

export function planMix(counts: ReadonlyMap<string, DomainCount>, spec: MixSpec): MixPlan {
  if (counts.size === 0) throw new UserError('mix: no documents to mix');
  if (!(spec.max_epochs > 0)) throw new UserError(`mix: --max-epochs must be > 0 (got ${spec.max_epochs})`);
  const sizes = new Map([...counts].map(([d, c]) => [d, c.size]));
  const shares = targetShares(sizes, spec);
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  // The largest budget at which no domain needs more than max_epochs.
  let feasible = Number.POSITIVE_INFINITY;
  let binding = '';
  for (const [d, p] of shares) {
    if (p <= 0) continue;
    const cap = ((sizes.get(d) ?? 0) * spec.max_epochs) / p;
    if (cap < feasible) [feasible, binding] = [cap, d];
  }
  const budget = spec.budget ?? feasible;
  if (budget > feasible * (1 + 1e-9)) {
    throw new UserError(
      `mix: a budget of ${fmt(budget)} needs ${fmt((budget * (shares.get(binding) ?? 0)) / (sizes.get(binding) ?? 1))} epochs of "${binding}" ` +
        `(--max-epochs ${spec.max_epochs}); the largest budget these proportions allow is ${fmt(Math.floor(feasible))}: raise --max-epochs or lower --budget`,
    );
  }
  const domains = [...counts.keys()].sort().map((domain): DomainPlan => {
    const c = counts.get(domain) as DomainCount;
    const share = shares.get(domain) ?? 0;
    const target = share * budget;
    const epochs = c.size > 0 ? target / c.size : 0;
    const full = Math.floor(epochs + 1e-12);
    const threshold = thresholdFor(c.hist, target - full * c.size);
    return { domain, docs: c.docs, bytes: c.bytes, size: c.size, natural_share: total ? c.size / total : 0, target_share: share, target_size: target, epochs, full, threshold };
  });
  return { budget, domains };
}
