/**
 * `refinery select`: the documents with the best values of a column (a quality score, say),
 * by a bound (`--min`, `--max`) or a share of all inputs (`--top 10%`), optionally split
 * into train and validation by a hash of the id (`--holdout 1%`). This is the high-quality
 * subset the trainer anneals on.
 *
 * `--top` is global: a first pass records every document's value, the cut comes from all
 * of them, and the filter pass keeps exactly that share (ties broken by the id's hash).
 */
import { join } from 'node:path';
import * as z from 'zod';
import { percentage, shareOf } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { listTasks, shardColumns } from '../core/inputs.js';
import { mapPhase, type Operation, type Phase } from '../core/plan.js';
import { formatCount } from '../core/progress.js';
import type { ColumnSpec, Doc } from '../core/schema.js';
import { inValidation } from '../core/split.js';
import { defineStage, drop, type Step } from '../core/stage.js';
import { ScoreSink, inTop, tieOf, topCut, type TopCut } from '../core/top-share.js';

export const selectOptions = z
  .object({
    by: z.string().min(1).describe('the numeric column to select by (e.g. quality_hq)'),
    top: percentage().optional().describe('keep this share of all input documents, those with the highest values (e.g. 10%)'),
    min: z.number().optional().describe('keep documents whose value is at least this'),
    max: z.number().optional().describe('keep documents whose value is at most this'),
    lowest: z.boolean().default(false).describe('--top keeps the lowest values instead (a perplexity, say)'),
    holdout: percentage().optional().describe('write this share (by a hash of the id) to <output>/validation and the rest to <output>/train'),
  })
  .strict();
export type SelectConfig = z.infer<typeof selectOptions>;

const stageOptions = selectOptions
  .extend({
    cut: z.object({ score: z.number(), tie: z.number() }).optional(),
    side: z.enum(['train', 'validation']).optional(),
  })
  .strict();
type StageConfig = z.infer<typeof stageOptions>;

const fmt = (v: number) => String(Number(v.toPrecision(6)));

/** The column's value as a number, or an exclusion when it has none. */
function valueOf(doc: Doc, by: string): number | null {
  const v = doc[by];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

function checkColumn(columns: readonly ColumnSpec[], by: string, where = 'select'): void {
  const spec = columns.find((c) => c.name === by);
  if (!spec) throw new UserError(`${where}: no column "${by}" (columns: ${columns.map((c) => c.name).join(', ')})`);
  if (spec.type === 'string' || spec.type === 'timestamp') throw new UserError(`${where}: column "${by}" is ${spec.type}, not a number`);
}

function selectSteps(c: StageConfig, columns: readonly ColumnSpec[]): Step[] {
  checkColumn(columns, c.by);
  const sign = c.lowest ? -1 : 1;
  const steps: Step[] = [
    {
      name: 'select',
      kind: 'filter',
      apply(doc) {
        const v = valueOf(doc, c.by);
        if (v === null) return drop('no-value', `${c.by} is null`);
        if (c.min !== undefined && v < c.min) return drop('below-min', `${c.by} ${fmt(v)} < ${c.min}`);
        if (c.max !== undefined && v > c.max) return drop('above-max', `${c.by} ${fmt(v)} > ${c.max}`);
        if (c.cut && !inTop(sign * v, tieOf(doc.id), c.cut)) return drop('not-top', `${c.by} ${fmt(v)} outside the ${c.lowest ? 'lowest' : 'top'} ${c.top}`);
        return undefined;
      },
    },
  ];
  if (c.side && c.holdout) {
    const share = shareOf(c.holdout);
    const wanted = c.side === 'validation';
    steps.push({
      name: 'split',
      kind: 'filter',
      apply: (doc) => (inValidation(doc.id, share) === wanted ? undefined : drop(wanted ? 'in-train' : 'in-validation')),
    });
  }
  return steps;
}

export const selectStage = defineStage({
  name: 'select',
  internal: true,
  summary: 'keep the documents with the best values of a column',
  options: stageOptions,
  steps: (config, columns) => selectSteps(config, columns),
});

/** The first pass of --top: every candidate's value (negated for --lowest), per task. */
export const selectScoreStage = defineStage({
  name: 'select-values',
  internal: true,
  summary: 'select --top: record each document\'s value',
  options: stageOptions,
  steps: (config, columns) => selectSteps({ ...config, cut: undefined, side: undefined }, columns),
  sink: (config) => (opts) => new ScoreSink(opts, (doc) => (config.lowest ? -1 : 1) * (valueOf(doc, config.by) ?? Number.NaN)),
});

export const selectOperation: Operation = {
  name: 'select',
  summary: 'keep the documents with the best values of a column (--top 10%, --min X); split off validation data',
  description:
    'The high-quality subset the trainer anneals on: documents by the value of --by (a quality score, say), either a global ' +
    'share (--top, exact over all inputs, ties broken by a hash of the id) or bounds (--min, --max). --holdout writes ' +
    '<output>/train and <output>/validation, split by a hash of the id, so no document is in both. ' +
    'Phases: select (map); with --top: values (map) -> cut (reduce) -> select (map); with --holdout one map per side.',
  options: selectOptions,
  legacyWork: ['values'],
  async check(config, inputs) {
    const c = config as SelectConfig;
    if (c.top === undefined && c.min === undefined && c.max === undefined && c.holdout === undefined) {
      throw new UserError('select: give --top, --min, --max or --holdout');
    }
    for (const input of await shardColumns(inputs)) checkColumn(input.columns, c.by, input.path);
  },
  phases(config, ctx) {
    const c = config as SelectConfig;
    const phases: Phase[] = [];
    let stage: () => StageConfig = () => c;
    if (c.top !== undefined) {
      const values = ctx.dir('values');
      const top = c.top;
      phases.push(mapPhase('values', selectScoreStage, c, ctx.inputs, values), {
        kind: 'reduce',
        name: 'cut',
        run(log): TopCut {
          const cut = topCut(values, listTasks({ kind: 'shards' }, ctx.inputs).length, shareOf(top));
          log(`select: keeping the ${c.lowest ? 'lowest' : 'top'} ${top} of ${formatCount(cut.scored)} documents by ${c.by} (${formatCount(cut.keep)}): ${c.lowest ? '<=' : '>='} ${fmt(c.lowest ? -cut.score : cut.score)}`);
          return cut;
        },
      });
      stage = () => {
        const { score, tie } = ctx.result<TopCut>('cut');
        return { ...c, cut: { score, tie } };
      };
    }
    if (!c.holdout) return [...phases, mapPhase('select', selectStage, stage, ctx.inputs, ctx.out)];
    // --holdout writes <out>/train and <out>/validation: <out> itself is no stage output.
    return [...phases, ...(['train', 'validation'] as const).map((side) => mapPhase(side, selectStage, () => ({ ...stage(), side }), ctx.inputs, join(ctx.out, side)))];
  },
};
