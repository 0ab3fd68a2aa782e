/**
 * Scaling laws from small runs, Chinchilla's approach 3 (Hoffmann et al. 2022): fit
 *   L(N, D) = E + A / N^alpha + B / D^beta
 * by minimising the Huber loss (delta 1e-3) between log L and the log of the prediction, over
 * log A, log B, log E, alpha, beta, from a grid of starting points (Adam on the analytic
 * gradient); bootstrap resamples of the points give intervals; the compute-optimal split of a
 * budget C = 6 N D follows in closed form.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, errorMessage } from '../pipeline/core/errors.js';
import { Random } from '../pipeline/core/random.js';
import type { SweepConfig } from './scaling-options.js';
import { train } from './train.js';

export interface Point {
  params: number;
  tokens: number;
  loss: number;
}
export interface Law {
  E: number;
  A: number;
  B: number;
  alpha: number;
  beta: number;
}

const DELTA = 1e-3;
const huber = (r: number) => (Math.abs(r) <= DELTA ? 0.5 * r * r : DELTA * (Math.abs(r) - 0.5 * DELTA));
const huberGrad = (r: number) => (Math.abs(r) <= DELTA ? r : DELTA * Math.sign(r));

/** Objective and gradient over theta = [a, b, e, alpha, beta] (a = log A, b = log B, e = log E). */
function objective(theta: number[], pts: readonly Point[], grad: number[]): number {
  const [a, b, e, al, be] = theta;
  grad.fill(0);
  let total = 0;
  for (const p of pts) {
    const ln = Math.log(p.params);
    const ld = Math.log(p.tokens);
    const t1 = a - al * ln;
    const t2 = b - be * ld;
    const m = Math.max(t1, t2, e);
    const x1 = Math.exp(t1 - m);
    const x2 = Math.exp(t2 - m);
    const x3 = Math.exp(e - m);
    const s = x1 + x2 + x3;
    const r = m + Math.log(s) - Math.log(p.loss);
    total += huber(r);
    const g = huberGrad(r);
    const [w1, w2, w3] = [x1 / s, x2 / s, x3 / s];
    grad[0] += g * w1;
    grad[1] += g * w2;
    grad[2] += g * w3;
    grad[3] += g * w1 * -ln;
    grad[4] += g * w2 * -ld;
  }
  return total;
}

function adam(theta0: number[], pts: readonly Point[], iterations: number, lr: number): { theta: number[]; value: number } {
  const theta = [...theta0];
  const m = new Array<number>(5).fill(0);
  const v = new Array<number>(5).fill(0);
  const g = new Array<number>(5).fill(0);
  let best = { theta: [...theta], value: Number.POSITIVE_INFINITY };
  for (let t = 1; t <= iterations; t++) {
    const value = objective(theta, pts, g);
    if (value < best.value) best = { theta: [...theta], value };
    for (let i = 0; i < 5; i++) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      theta[i] -= (lr * (m[i] / (1 - 0.9 ** t))) / (Math.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-12);
    }
    theta[3] = Math.max(0.01, theta[3]);
    theta[4] = Math.max(0.01, theta[4]);
  }
  return best;
}

const toLaw = ([a, b, e, alpha, beta]: number[]): Law => ({ A: Math.exp(a), B: Math.exp(b), E: Math.exp(e), alpha, beta });
const fromLaw = (l: Law) => [Math.log(l.A), Math.log(l.B), Math.log(l.E), l.alpha, l.beta];

/** Points from JSONL, one {"params": N, "tokens": D, "loss": L} per line (a sweep's points.jsonl). */
export function readPoints(file: string): Point[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: cannot read (${errorMessage(err)})`);
  }
  return text.split('\n').filter(Boolean).map((l, i) => {
    let p: { params?: unknown; tokens?: unknown; loss?: unknown } | null;
    try {
      p = JSON.parse(l) as typeof p;
    } catch {
      throw new UserError(`${file}:${i + 1}: not JSON`);
    }
    if (typeof p?.params !== 'number' || typeof p.tokens !== 'number' || typeof p.loss !== 'number') throw new UserError(`${file}:${i + 1}: expected numbers params, tokens and loss`);
    return { params: p.params, tokens: p.tokens, loss: p.loss };
  });
}

/** The best fit from Chinchilla's grid of starting points (refined from the best few). */
export function fitLaw(pts: readonly Point[], start?: Law): Law {
  if (pts.length < 5) throw new UserError(`a scaling fit needs at least 5 points (got ${pts.length})`);
  const starts: number[][] = [];
  if (start) starts.push(fromLaw(start));
  else {
    for (const a of [0, 5, 10, 15]) for (const b of [0, 5, 10, 15]) for (const e of [-1, 0.5]) for (const al of [0.2, 0.5]) for (const be of [0.2, 0.5]) starts.push([a, b, e, al, be]);
  }
  const coarse = starts.map((s) => adam(s, pts, start ? 1500 : 400, 0.05)).sort((x, y) => x.value - y.value);
  // The valley along (A, alpha) and (B, beta) is long and flat: refine with falling step sizes.
  const refine = (theta: number[]) => [0.01, 0.003, 0.001, 0.0003].reduce((r, lr) => adam(r.theta, pts, 10_000, lr), { theta, value: Number.POSITIVE_INFINITY });
  const refined = coarse.slice(0, start ? 1 : 4).map((r) => refine(r.theta)).sort((x, y) => x.value - y.value);
  return toLaw(refined[0].theta);
}

export const predict = (l: Law, params: number, tokens: number) => l.E + l.A / params ** l.alpha + l.B / tokens ** l.beta;

/** The compute-optimal parameters and tokens for FLOPs C (C = 6 N D). */
export function computeOptimal(l: Law, flops: number): { params: number; tokens: number; loss: number } {
  const g = ((l.alpha * l.A) / (l.beta * l.B)) ** (1 / (l.alpha + l.beta));
  const params = g * (flops / 6) ** (l.beta / (l.alpha + l.beta));
  const tokens = flops / 6 / params;
  return { params, tokens, loss: predict(l, params, tokens) };
}

export interface Interval {
  low: number;
  high: number;
}
/** 5th and 95th percentiles of each constant over bootstrap resamples of the points. */
export function bootstrap(pts: readonly Point[], law: Law, samples: number, seed: number): Record<keyof Law, Interval> {
  const random = new Random(seed);
  const fits: Law[] = [];
  for (let s = 0; s < samples; s++) {
    const resample = Array.from({ length: pts.length }, () => pts[random.int(0, pts.length - 1)]);
    fits.push(fitLaw(resample, law));
  }
  const q = (xs: number[], p: number) => xs.sort((x, y) => x - y)[Math.min(xs.length - 1, Math.max(0, Math.round(p * (xs.length - 1))))];
  const keys: (keyof Law)[] = ['E', 'A', 'B', 'alpha', 'beta'];
  return Object.fromEntries(keys.map((k) => [k, { low: q(fits.map((f) => f[k]), 0.05), high: q(fits.map((f) => f[k]), 0.95) }])) as Record<keyof Law, Interval>;
}

// ------------------------------------------------------------------------------ the sweep

export interface SweepReport {
  points: (Point & { d_model: number; layers: number })[];
  law: Law;
  intervals: Record<keyof Law, Interval> | null;
  optimal: { flops: number; params: number; tokens: number; loss: number } | null;
}

export async function sweep(c: SweepConfig, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<SweepReport> {
  mkdirSync(c.out, { recursive: true });
  const pointsFile = join(c.out, 'points.jsonl');
  writeFileSync(pointsFile, '');
  const points: SweepReport['points'] = [];
  const { sizes, token_budgets: budgets, target_flops: target, bootstrap: samples, ...base } = c;
  for (const size of sizes) {
    const [d, layers] = size.split('x').map(Number);
    const heads = Math.max(1, Math.floor(d / 16));
    if (d % heads !== 0) throw new UserError(`sweep: d_model ${d} is not divisible by ${heads} heads`);
    for (const tokens of budgets) {
      const steps = Math.max(1, Math.ceil(tokens / (c.batch_size * c.context * c.grad_accum)));
      const out = join(c.out, 'runs', `d${d}-l${layers}-t${tokens}`);
      const r = await train({ ...base, out, d_model: d, layers, heads, steps, warmup: Math.min(c.warmup, Math.floor(steps / 10)), eval_every: steps, log_every: steps, checkpoint_every: steps }, () => {});
      if (r.val_loss === null) throw new UserError('sweep: needs validation data (--val-data, or a val/ split in --data)');
      // N without the position embeddings, as the FLOP count uses it.
      const point = { params: r.parameters - c.context * d, tokens: r.tokens, loss: r.val_loss, d_model: d, layers };
      points.push(point);
      appendFileSync(pointsFile, `${JSON.stringify(point)}\n`);
      log(`sweep: d ${d} x ${layers} layers (${point.params.toLocaleString('en')} parameters), ${r.tokens.toLocaleString('en')} tokens: validation loss ${r.val_loss.toFixed(4)}`);
    }
  }
  const law = fitLaw(points);
  const intervals = samples > 0 ? bootstrap(points, law, samples, c.seed) : null;
  const optimal = target ? { flops: target, ...computeOptimal(law, target) } : null;
  const report: SweepReport = { points, law, intervals, optimal };
  writeFileSync(join(c.out, 'scaling.json'), `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(join(c.out, 'scaling.svg'), scalingSvg(points, law));
  return report;
}

export function lawTable(r: SweepReport): string {
  const lines = ['constant   fit        5%-95% (bootstrap)'];
  for (const k of ['E', 'A', 'B', 'alpha', 'beta'] as const) {
    const i = r.intervals?.[k];
    lines.push(`${k.padEnd(9)}  ${Number(r.law[k].toPrecision(4)).toString().padEnd(9)}  ${i ? `${Number(i.low.toPrecision(3))} - ${Number(i.high.toPrecision(3))}` : '-'}`);
  }
  if (r.optimal) lines.push(`compute-optimal for ${r.optimal.flops.toExponential(2)} FLOPs: ${Math.round(r.optimal.params).toLocaleString('en')} parameters, ${Math.round(r.optimal.tokens).toLocaleString('en')} tokens (${(r.optimal.tokens / r.optimal.params).toFixed(1)} per parameter), predicted loss ${r.optimal.loss.toFixed(4)}`);
  return lines.join('\n');
}

/** Validation loss against tokens, one colour per model size: the points and the fitted law. */
export function scalingSvg(points: readonly (Point & { d_model: number; layers: number })[], law: Law): string {
  const width = 800;
  const height = 440;
  const [l, r, t, b] = [70, 150, 40, 50];
  const sizes = [...new Set(points.map((p) => p.params))].sort((x, y) => x - y);
  const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
  const tokens = points.map((p) => p.tokens);
  const [t0, t1] = [Math.log(Math.min(...tokens)), Math.log(Math.max(...tokens))];
  const losses = points.map((p) => p.loss);
  const [y0, y1] = [Math.min(...losses) * 0.98, Math.max(...losses) * 1.02];
  const x = (d: number) => l + ((Math.log(d) - t0) / Math.max(1e-9, t1 - t0)) * (width - l - r);
  const y = (v: number) => t + (1 - (v - y0) / (y1 - y0)) * (height - t - b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">L(N, D) = ${law.E.toFixed(3)} + ${law.A.toPrecision(3)}/N^${law.alpha.toFixed(3)} + ${law.B.toPrecision(3)}/D^${law.beta.toFixed(3)}</text>`,
    `<line x1="${l}" y1="${height - b}" x2="${width - r}" y2="${height - b}" stroke="#444"/><line x1="${l}" y1="${t}" x2="${l}" y2="${height - b}" stroke="#444"/>`,
    `<text x="${(width - r + l) / 2}" y="${height - 12}" text-anchor="middle">training tokens (log scale)</text>`,
    `<text x="16" y="${height / 2}" transform="rotate(-90 16 ${height / 2})" text-anchor="middle">validation loss</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    parts.push(`<text x="${l - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
    const d = Math.exp(t0 + ((t1 - t0) * i) / 4);
    parts.push(`<text x="${x(d)}" y="${height - b + 16}" text-anchor="middle">${Math.round(d).toLocaleString('en')}</text>`);
  }
  sizes.forEach((n, i) => {
    const colour = colours[i % colours.length];
    const curve = Array.from({ length: 40 }, (_, k) => Math.exp(t0 + ((t1 - t0) * k) / 39));
    parts.push(`<path d="${curve.map((d, k) => `${k ? 'L' : 'M'}${x(d).toFixed(1)},${y(predict(law, n, d)).toFixed(1)}`).join(' ')}" fill="none" stroke="${colour}" stroke-dasharray="4 3"/>`);
    for (const p of points.filter((q) => q.params === n)) parts.push(`<circle cx="${x(p.tokens).toFixed(1)}" cy="${y(p.loss).toFixed(1)}" r="4" fill="${colour}"/>`);
    parts.push(`<text x="${width - r + 10}" y="${t + 16 * i + 10}" fill="${colour}">N = ${n.toLocaleString('en')}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
