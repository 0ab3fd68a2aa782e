/**
 * Compute planning: from any two of compute C (FLOPs), parameters N and tokens D (or a time
 * budget at a throughput), the third, with C = 6 N D (the training FLOPs of a dense
 * transformer, forward and backward) and, when only one is given, Chinchilla's allocation
 * D = r N (r = 20 tokens per parameter; larger for models that will serve many tokens).
 * Then wall time, accelerator-hours and cost at a sustained FLOP/s per accelerator.
 */
import * as z from 'zod';
import { UserError } from '../pipeline/core/errors.js';

/** "3.8e25", "405B", "15.6T", "70M", "400e12". */
const quantity = () =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const m = /^\s*([\d.]+(?:e[+-]?\d+)?)\s*([kKMBGTP]?)\s*$/.exec(v);
    const scale: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12, P: 1e15 };
    if (!m || !Number.isFinite(Number(m[1]))) {
      ctx.addIssue({ code: 'custom', message: `expected a number such as 3.8e25, 405B or 15.6T, got "${v}"` });
      return z.NEVER;
    }
    return Number(m[1]) * scale[m[2]];
  });

export const planOptions = z
  .object({
    flops: quantity().optional().describe('training compute C in FLOPs (e.g. 3.8e25)'),
    params: quantity().optional().describe('parameters N (e.g. 405B)'),
    tokens: quantity().optional().describe('training tokens D (e.g. 15.6T)'),
    hours: z.number().positive().optional().describe('a time budget in hours (with --tokens-per-second: gives D)'),
    tokens_per_second: quantity().optional().describe('measured training throughput, for --hours (refinery train reports it)'),
    tokens_per_param: z.number().positive().default(20).describe("tokens per parameter when only one quantity is given (Chinchilla: 20; more for models served a lot)"),
    accelerator_flops: quantity().optional().describe('sustained FLOP/s per accelerator (e.g. 400e12 for an H100 in a large run); or --peak-flops with --mfu'),
    peak_flops: quantity().optional().describe('peak FLOP/s per accelerator (e.g. 989e12 for an H100, dense BF16)'),
    mfu: z.number().positive().max(1).optional().describe('model FLOPs utilisation, with --peak-flops'),
    accelerators: z.number().int().positive().default(1).describe('accelerators working together'),
    price: z.number().min(0).optional().describe('cost per accelerator-hour (e.g. 2 for $2)'),
  })
  .strict();
export type PlanConfig = z.infer<typeof planOptions>;

export interface Plan {
  params: number;
  tokens: number;
  flops: number;
  tokens_per_param: number;
  /** Filled when a per-accelerator speed is known. */
  accelerator_flops: number | null;
  accelerator_hours: number | null;
  wall_hours: number | null;
  days: number | null;
  cost: number | null;
  /** Which quantities were given and which derived. */
  given: string[];
}

export function plan(c: PlanConfig): Plan {
  let { flops: C, params: N, tokens: D } = c;
  const given = (['flops', 'params', 'tokens'] as const).filter((k) => c[k] !== undefined);
  if (c.hours !== undefined) {
    if (c.tokens_per_second === undefined) throw new UserError('plan: --hours needs --tokens-per-second');
    if (D !== undefined) throw new UserError('plan: give --hours or --tokens, not both');
    D = c.hours * 3600 * c.tokens_per_second;
    given.push('tokens');
  }
  const r = c.tokens_per_param;
  const known = [C, N, D].filter((x) => x !== undefined).length;
  if (known === 0) throw new UserError('plan: give two of --flops, --params, --tokens (or one of them, for the Chinchilla allocation; or --hours with --tokens-per-second)');
  if (known === 3) throw new UserError('plan: give at most two of --flops, --params, --tokens (the third follows from C = 6 N D)');
  if (known === 1) {
    if (C !== undefined) {
      N = Math.sqrt(C / (6 * r));
      D = r * N;
    } else if (N !== undefined) D = r * N;
    else if (D !== undefined) N = D / r;
  }
  if (C === undefined) C = 6 * (N as number) * (D as number);
  else if (N === undefined) N = C / (6 * (D as number));
  else if (D === undefined) D = C / (6 * N);
  let speed: number | null = c.accelerator_flops ?? null;
  if (speed === null && c.peak_flops !== undefined) {
    if (c.mfu === undefined) throw new UserError('plan: --peak-flops needs --mfu (or give --accelerator-flops)');
    speed = c.peak_flops * c.mfu;
  }
  const hours = speed ? C / speed / 3600 : null;
  return {
    params: N as number,
    tokens: D as number,
    flops: C,
    tokens_per_param: (D as number) / (N as number),
    accelerator_flops: speed,
    accelerator_hours: hours,
    wall_hours: hours === null ? null : hours / c.accelerators,
    days: hours === null ? null : hours / c.accelerators / 24,
    cost: hours !== null && c.price !== undefined ? hours * c.price : null,
    given,
  };
}

const si = (x: number) => {
  for (const [s, v] of [['T', 1e12], ['B', 1e9], ['M', 1e6], ['k', 1e3]] as const) if (Math.abs(x) >= v) return `${Number((x / v).toPrecision(4))}${s}`;
  return String(Number(x.toPrecision(4)));
};

export function planTable(p: Plan, accelerators: number): string {
  const rows: [string, string][] = [
    ['parameters N', `${si(p.params)}${p.given.includes('params') ? '' : '  (derived)'}`],
    ['tokens D', `${si(p.tokens)}${p.given.includes('tokens') ? '' : '  (derived)'}`],
    ['compute C = 6 N D', `${p.flops.toExponential(2)} FLOPs${p.given.includes('flops') ? '' : '  (derived)'}`],
    ['tokens per parameter', p.tokens_per_param.toFixed(1)],
  ];
  if (p.accelerator_hours !== null && p.accelerator_flops !== null) {
    rows.push(['per accelerator', `${Number((p.accelerator_flops / 1e12).toPrecision(4))} TFLOP/s sustained`]);
    rows.push(['accelerator-hours', `${si(p.accelerator_hours)}`]);
    const wall = p.wall_hours as number;
    rows.push([`wall time on ${accelerators.toLocaleString('en')}`, `${wall < 100 ? Number(wall.toPrecision(3)) : Math.round(wall).toLocaleString('en')} hours (${Number((p.days as number).toPrecision(3))} days)`]);
  }
  if (p.cost !== null) rows.push(['cost', `${si(p.cost)} (in the currency of --price)`]);
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
