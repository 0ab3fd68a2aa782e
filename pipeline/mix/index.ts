/**
 * `refinery mix`: resample documents so that each domain (or any column's value) makes up
 * the asked share of the result, by explicit weights or temperature sampling, within a
 * size budget and a cap on how often a document may repeat (--max-epochs).
 *
 * A plan of four phases, each resumable: count (a map; per task: documents, bytes and a
 * histogram of sizes over each document's seeded position u), plan (a reduce), sample (a
 * map, which writes each chosen document as
 * many times as the plan says: the first copy in the task's part files, repeats in
 * `part-TTTTT-rK-*.arrow` files (K = 1, 2, ...). Documents left out are excluded with their
 * reason ("not-sampled", "not-in-mix", "validation"), so the funnel adds up), and report
 * (the table of shares before and after, into `_mix.json`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { byteSize, loadYaml, percentage, shareOf } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { listTasks, shardColumns } from '../core/inputs.js';
import { layout, writeFileAtomic } from '../core/layout.js';
import { mapPhase, type Operation } from '../core/plan.js';
import type { ColumnSpec, Doc } from '../core/schema.js';
import { ShardWriter } from '../core/shard-writer.js';
import { inValidation } from '../core/split.js';
import { defineStage, drop, shardSink, type Sink, type SinkOptions, type Step } from '../core/stage.js';
import { readTaskStats, sumStats } from '../core/stats.js';
import { hashString, mix32 } from '../core/hash.js';
import { Tokenizer } from '../tokenize/tokenizer.js';
import { BINS, planMix, type DomainCount, type MixPlan } from './plan.js';

export const mixOptions = z
  .object({
    by: z.string().min(1).default('domain').describe('the column whose values are mixed (a string column; null counts as "unknown")'),
    weights: z
      .string()
      .optional()
      .describe('target proportions: a YAML/JSON file mapping each value to a weight (or {weights: {...}}), or inline "news=0.5,wiki=0.3"; values not named are left out'),
    temperature: z.number().positive().optional().describe('without --weights: sample value d in proportion to size(d)^(1/T); 1 keeps natural proportions, large T approaches uniform (default 1)'),
    unit: z.enum(['bytes', 'docs', 'tokens']).default('bytes').describe('what proportions and the budget count: UTF-8 bytes of text, documents, or tokens (needs --tokenizer)'),
    tokenizer: z.string().optional().describe('--unit tokens: the tokenizer.json that counts them'),
    budget: byteSize().optional().describe('total size of the mix in the unit (bytes: "500MB"; docs, tokens: a number such as 2e6); default: the largest mix --max-epochs allows'),
    max_epochs: z.number().positive().default(1).describe('most times any document may be used (1: only downsampling)'),
    seed: z.number().int().min(0).default(1).describe('which documents are sampled; the same seed gives the same mix'),
    holdout: percentage().optional().describe('leave out this share of documents (by a hash of the id) as validation data, the same ones "select --holdout" splits off'),
  })
  .strict();
export type MixConfig = z.infer<typeof mixOptions>;

const UNKNOWN = 'unknown';
const valueOf = (doc: Doc, by: string) => (typeof doc[by] === 'string' && doc[by] !== '' ? (doc[by] as string) : UNKNOWN);
const bytesOf = (doc: Doc) => (typeof doc.text === 'string' ? Buffer.byteLength(doc.text, 'utf8') : 0);

/** A document's size in the mix's unit. */
function sizer(c: { unit: MixConfig['unit']; tokenizer?: string }): (doc: Doc) => number {
  if (c.unit === 'docs') return () => 1;
  if (c.unit === 'bytes') return bytesOf;
  if (!c.tokenizer) throw new UserError('mix: --unit tokens needs --tokenizer tokenizer.json');
  const tokenizer = Tokenizer.load(c.tokenizer);
  return (doc) => (typeof doc.text === 'string' ? tokenizer.encode(doc.text).length : 0);
}

/** A document's position in [0, 1) for a seed: which documents a fractional rate takes. */
export function positionOf(id: string, seed: number): number {
  return hashString(id, 0, id.length, mix32(Math.imul(seed + 1, 0x9e3779b9) ^ 0x5f3759df)) / 4294967296;
}

function checkColumn(columns: readonly ColumnSpec[], by: string, where = 'mix'): void {
  const spec = columns.find((c) => c.name === by);
  if (!spec) throw new UserError(`${where}: no column "${by}" (run "refinery domains" first, or pick one with --by; columns: ${columns.map((c) => c.name).join(', ')})`);
  if (spec.type !== 'string') throw new UserError(`${where}: column "${by}" is ${spec.type}; mix groups by a string column`);
}

// ---------------------------------------------------------------------------- counting pass

const countOptions = mixOptions.pick({ by: true, unit: true, tokenizer: true, seed: true, holdout: true }).strict();
type CountConfig = z.infer<typeof countOptions>;
const countsFile = (dir: string, task: number) => join(dir, `${layout.partBase(task)}-counts.json`);

interface CountsJson {
  [domain: string]: { docs: number; bytes: number; size: number; bins: [number, number][] };
}

/** Per task: documents, bytes and the size histogram over u, per value. */
class CountSink implements Sink {
  rows = 0;
  private readonly counts = new Map<string, DomainCount>();
  private readonly sizeOf: (doc: Doc) => number;
  constructor(
    private readonly opts: SinkOptions,
    private readonly c: CountConfig,
  ) {
    this.sizeOf = sizer(c);
  }
  write(doc: Doc): void {
    this.rows++;
    const d = valueOf(doc, this.c.by);
    let e = this.counts.get(d);
    if (!e) this.counts.set(d, (e = { docs: 0, bytes: 0, size: 0, hist: new Float64Array(BINS) }));
    const bytes = bytesOf(doc);
    const size = this.c.unit === 'bytes' ? bytes : this.sizeOf(doc);
    e.docs++;
    e.bytes += bytes;
    e.size += size;
    e.hist[Math.floor(positionOf(doc.id, this.c.seed) * BINS)] += size;
  }
  publish(): string[] {
    const json: CountsJson = {};
    for (const [d, e] of this.counts) {
      const bins: [number, number][] = [];
      e.hist.forEach((v, i) => v && bins.push([i, v]));
      json[d] = { docs: e.docs, bytes: e.bytes, size: e.size, bins };
    }
    const file = join(this.opts.dir, `${this.opts.base}-counts.json`);
    writeFileAtomic(file, JSON.stringify(json));
    return [file];
  }
  abort(): void {}
}

function holdoutStep(holdout: string | undefined): Step[] {
  if (!holdout) return [];
  const share = shareOf(holdout);
  return [{ name: 'holdout', kind: 'filter', apply: (doc) => (inValidation(doc.id, share) ? drop('validation') : undefined) }];
}

export const mixCountStage = defineStage({
  name: 'mix-count',
  internal: true,
  summary: 'mix: count each value\'s documents and size',
  options: countOptions,
  steps: (config, columns) => {
    checkColumn(columns, config.by);
    return holdoutStep(config.holdout);
  },
  sink: (config) => (opts) => new CountSink(opts, config),
});

function readCounts(dir: string, tasks: number): Map<string, DomainCount> {
  const total = new Map<string, DomainCount>();
  for (let t = 0; t < tasks; t++) {
    const json = JSON.parse(readFileSync(countsFile(dir, t), 'utf8')) as CountsJson;
    for (const [d, e] of Object.entries(json)) {
      let sum = total.get(d);
      if (!sum) total.set(d, (sum = { docs: 0, bytes: 0, size: 0, hist: new Float64Array(BINS) }));
      sum.docs += e.docs;
      sum.bytes += e.bytes;
      sum.size += e.size;
      for (const [i, v] of e.bins) sum.hist[i] += v;
    }
  }
  return total;
}

// ---------------------------------------------------------------------------- sampling pass

const sampleOptions = countOptions
  .extend({ plan: z.record(z.string(), z.object({ full: z.number().int().min(0), threshold: z.number().min(0).max(1) })) })
  .strict();
type SampleConfig = z.infer<typeof sampleOptions>;

/** How many times the plan uses a document (0: left out). */
function copiesOf(doc: Doc, c: SampleConfig): number {
  const p = c.plan[valueOf(doc, c.by)];
  if (!p) return 0;
  return p.full + (positionOf(doc.id, c.seed) < p.threshold ? 1 : 0);
}

/** The first copy of each document goes to the task's parts, the k-th repeat to part-TTTTT-rK. */
class RepeatSink implements Sink {
  private readonly first: Sink;
  private readonly repeats: ShardWriter[] = [];
  constructor(
    private readonly opts: SinkOptions,
    private readonly c: SampleConfig,
  ) {
    this.first = shardSink(opts);
  }
  get rows(): number {
    return this.first.rows;
  }
  write(doc: Doc): void {
    this.first.write(doc);
    const copies = copiesOf(doc, this.c);
    for (let k = 1; k < copies; k++) {
      this.repeats[k - 1] ??= new ShardWriter({ ...this.opts, base: `${this.opts.base}-r${k}` });
      this.repeats[k - 1].write(doc);
    }
  }
  async publish(): Promise<string[]> {
    return [...(await this.first.publish()), ...this.repeats.flatMap((w) => w.publish())];
  }
  async abort(): Promise<void> {
    await this.first.abort();
    for (const w of this.repeats) w.abort();
  }
}

export const mixStage = defineStage({
  name: 'mix',
  internal: true,
  summary: 'mix: sample each value to its planned size',
  options: sampleOptions,
  steps: (c, columns, _task, ctx) => {
    checkColumn(columns, c.by);
    const sizeOf = c.unit === 'tokens' ? sizer(c) : null;
    return [
      ...holdoutStep(c.holdout),
      {
        name: 'mix',
        kind: 'filter',
        apply(doc) {
          const d = valueOf(doc, c.by);
          if (!c.plan[d]) return drop('not-in-mix', d);
          const copies = copiesOf(doc, c);
          if (copies === 0) return drop('not-sampled', d);
          ctx.count(`mix docs:${d}`, copies);
          ctx.count(`mix bytes:${d}`, copies * bytesOf(doc));
          if (sizeOf) ctx.count(`mix tokens:${d}`, copies * sizeOf(doc));
          if (copies > 1) ctx.count('mix repeats:copies written', copies - 1);
          return undefined;
        },
      },
    ];
  },
  sink: (c) => (opts) => new RepeatSink(opts, c),
});

// ---------------------------------------------------------------------------- the command

/** --weights: a file of value -> weight (or {weights: ...}), or "a=1,b=2". */
export function parseWeights(spec: string): Record<string, number> {
  let raw: unknown;
  if (existsSync(spec)) {
    raw = loadYaml(spec);
    if (raw && typeof raw === 'object' && 'weights' in raw) raw = (raw as { weights: unknown }).weights;
  } else if (/^[^=,]+=[^=,]+(,[^=,]+=[^=,]+)*$/.test(spec)) {
    raw = Object.fromEntries(spec.split(',').map((kv) => kv.split('=').map((s) => s.trim())));
  } else {
    throw new UserError(`mix: --weights "${spec}" is neither a file nor "value=weight,..."`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`mix: --weights ${spec}: expected a mapping of value -> weight`);
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new UserError(`mix: --weights ${spec}: the weight of "${k}" must be a number >= 0 (got ${String(v)})`);
      return [k, n];
    }),
  );
}

export interface MixRow {
  value: string;
  docs_before: number;
  bytes_before: number;
  share_before: number;
  target_share: number;
  epochs: number;
  docs_after: number;
  bytes_after: number;
  share_after: number;
}
export interface MixReport {
  by: string;
  unit: MixConfig['unit'];
  seed: number;
  budget: number;
  size_after: number;
  /** Largest |share after - target share| over the values. */
  max_share_error: number;
  rows: MixRow[];
}

export const mixReportFile = (out: string) => join(out, '_mix.json');

/** The report of a finished mix: the plan against what the sampling pass wrote. */
function mixReport(config: MixConfig, plan: MixPlan, out: string): MixReport {
  const totals = sumStats(readTaskStats(out)).counters;
  const sizeAfter = (d: string) => totals[`mix ${config.unit}:${d}`] ?? 0;
  const allAfter = plan.domains.reduce((n, d) => n + sizeAfter(d.domain), 0);
  const rows = plan.domains.map(
    (d): MixRow => ({
      value: d.domain,
      docs_before: d.docs,
      bytes_before: d.bytes,
      share_before: d.natural_share,
      target_share: d.target_share,
      epochs: d.size ? sizeAfter(d.domain) / d.size : 0,
      docs_after: totals[`mix docs:${d.domain}`] ?? 0,
      bytes_after: totals[`mix bytes:${d.domain}`] ?? 0,
      share_after: allAfter ? sizeAfter(d.domain) / allAfter : 0,
    }),
  );
  return {
    by: config.by,
    unit: config.unit,
    seed: config.seed,
    budget: plan.budget,
    size_after: allAfter,
    max_share_error: Math.max(0, ...rows.map((x) => Math.abs(x.share_after - x.target_share))),
    rows,
  };
}

export const mixOperation: Operation = {
  name: 'mix',
  summary: 'resample documents to target proportions per domain (weights or temperature)',
  description:
    'Counts each domain\'s documents and bytes, plans how often each document is used (explicit --weights, or temperature ' +
    'sampling p ~ n^(1/T)), capped at --max-epochs, within --budget; then writes the mix (repeats in part-*-rK files) and ' +
    'prints the before/after table per domain. The same seed gives the same mix. The plan and the table are kept in _mix.json. ' +
    'Phases: count (map) -> plan (reduce) -> sample (map) -> report (reduce).',
  options: mixOptions,
  legacyWork: ['counts'],
  async check(config, inputs) {
    const c = config as MixConfig;
    if (c.weights && c.temperature !== undefined) throw new UserError('mix: give --weights or --temperature, not both');
    if (c.weights) parseWeights(c.weights);
    if (c.unit === 'tokens') sizer(c);
    for (const input of await shardColumns(inputs)) checkColumn(input.columns, c.by, input.path);
  },
  phases(config, ctx) {
    const c = config as MixConfig;
    const count: CountConfig = { by: c.by, unit: c.unit, tokenizer: c.tokenizer, seed: c.seed, holdout: c.holdout };
    const counts = ctx.dir('count');
    return [
      mapPhase('count', mixCountStage, count, ctx.inputs, counts),
      {
        kind: 'reduce',
        name: 'plan',
        run(log): MixPlan {
          const total = readCounts(counts, listTasks({ kind: 'shards' }, ctx.inputs).length);
          const plan = planMix(total, { weights: c.weights ? parseWeights(c.weights) : undefined, temperature: c.temperature, budget: c.budget, max_epochs: c.max_epochs });
          const left = plan.domains.filter((d) => d.target_share === 0 && d.docs > 0).map((d) => d.domain);
          if (left.length) log(`mix: left out (no weight): ${left.join(', ')}`);
          return plan;
        },
      },
      mapPhase('sample', mixStage, (): SampleConfig => {
        const plan = ctx.result<MixPlan>('plan');
        return { ...count, plan: Object.fromEntries(plan.domains.filter((d) => d.target_share > 0).map((d) => [d.domain, { full: d.full, threshold: d.threshold }])) };
      }, ctx.inputs, ctx.out),
      {
        kind: 'reduce',
        name: 'report',
        final: true,
        run(): MixReport {
          const plan = ctx.result<MixPlan>('plan');
          const report = mixReport(c, plan, ctx.out);
          writeFileAtomic(mixReportFile(ctx.out), `${JSON.stringify({ config: c, plan: plan.domains, report }, null, 1)}\n`);
          return report;
        },
      },
    ];
  },
};

/** The report a finished mix kept in its output. */
export function readMixReport(out: string): MixReport {
  return (JSON.parse(readFileSync(mixReportFile(out), 'utf8')) as { report: MixReport }).report;
}
