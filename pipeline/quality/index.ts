/**
 * `refinery quality filter`: the heuristic rule families (Gopher repetition, Gopher quality,
 * C4, FineWeb, in FineWeb's order), each a step with one exclusion reason per rule, then an
 * optional fastText classifier that adds `quality_<name>` and keeps by `--min-score` or
 * `--keep-top`.
 *
 * `--keep-top 10%` is global, so it runs in three parts: a scoring pass (one task per input,
 * scores of the documents that pass the rules, no shards written), the threshold over all
 * scores, and the filter pass, which reads the recorded scores instead of predicting again.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { RunError, UserError } from '../core/errors.js';
import { runStage, type RunOptions } from '../core/executor.js';
import { listTasks } from '../core/inputs.js';
import { formatCount } from '../core/progress.js';
import { layout, writeFileAtomic } from '../core/layout.js';
import type { Doc } from '../core/schema.js';
import { defineStage, drop, type Sink, type SinkOptions, type Step, type TaskContext } from '../core/stage.js';
import type { Runner } from '../dedup/index.js';
import { Classifier, readModelInfo } from './fasttext.js';
import { c4Quality, finewebQuality, gopherQuality, gopherRepetition, heuristicOptions, type RuleCheck } from './heuristics.js';
import { TextView } from './text-view.js';

export const classifierOptions = z.object({
  classifier: z.string().optional().describe('a fastText model from "refinery quality train" (model.bin): adds the score column quality_<name>'),
  label: z.string().optional().describe("--classifier: the label whose probability is the score (default: the model's positive label, as trained with --label)"),
  classifier_name: z.string().regex(/^[a-z0-9_]+$/).optional().describe('the score column is quality_<name> (default: the label)'),
  min_score: z.number().min(0).max(1).optional().describe('exclude documents whose score is below this'),
  keep_top: z
    .string()
    .regex(/^\d+(\.\d+)?%$/, 'expected a percentage such as 10%')
    .optional()
    .describe('keep only this share of the documents that pass the rules: the highest scores over all inputs (e.g. 10%)'),
  work: z.string().optional().describe('--keep-top: where the scores go (default: <output>-work)'),
});

export const qualityOptions = heuristicOptions.extend(classifierOptions.shape).strict();
export type QualityConfig = z.infer<typeof qualityOptions>;

/** What the filter pass is told beyond the user's options: recorded scores to read. */
const stageOptions = qualityOptions.extend({ scores_from: z.string().optional() }).strict();
type StageConfig = z.infer<typeof stageOptions>;

export function scoreColumn(c: QualityConfig): string {
  if (!c.classifier) throw new UserError('no --classifier');
  const name = c.classifier_name ?? (c.label ?? readModelInfo(c.classifier).label).replace(/[^a-z0-9_]/g, '_');
  return `quality_${name}`;
}

const format = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(3));
const failure = (check: RuleCheck) => drop(check.rule, check.limit === 'absent' ? 'found (needs absent)' : `${format(check.value)} (needs ${check.limit})`);
const scoresFile = (dir: string, task: number) => join(dir, `${layout.partBase(task)}-scores.f32`);

async function qualitySteps(config: StageConfig, task: { index: number }, ctx: TaskContext): Promise<Step[]> {
  // One view per document, shared by the rule families that read the same text.
  let cache: { doc: Doc; text: string; view: TextView } | null = null;
  const view = (doc: Doc) => {
    const text = typeof doc.text === 'string' ? doc.text : '';
    if (cache?.doc !== doc || cache.text !== text) cache = { doc, text, view: new TextView(text) };
    return cache.view;
  };
  const family = (name: string, checks: (v: TextView) => Iterable<RuleCheck>): Step => ({
    name,
    kind: 'filter',
    apply(doc) {
      for (const check of checks(view(doc))) if (!check.pass) return failure(check);
      return undefined;
    },
  });
  const steps: Step[] = [];
  if (config.gopher_repetition) steps.push(family('gopher-repetition', (v) => gopherRepetition(v, config)));
  if (config.gopher_quality) steps.push(family('gopher-quality', (v) => gopherQuality(v, config)));
  if (config.c4) {
    steps.push({
      name: 'c4',
      kind: 'transform',
      apply(doc) {
        const r = c4Quality(typeof doc.text === 'string' ? doc.text : '', config);
        for (const [why, n] of Object.entries(r.removed)) ctx.count(`c4 lines removed:${why}`, n);
        const failed = r.checks.find((x) => !x.pass);
        // An excluded document keeps its original text, so the exclusion shard shows what was judged.
        if (failed) return failure(failed);
        doc.text = r.text;
        return undefined;
      },
    });
  }
  if (config.fineweb) steps.push(family('fineweb', (v) => finewebQuality(v, config)));
  if (config.classifier) {
    const column = scoreColumn(config);
    const min = config.min_score;
    let score: (doc: Doc) => Promise<number>;
    let close = () => {};
    if (config.scores_from) {
      const recorded = new Float32Array(new Uint8Array(readFileSync(scoresFile(config.scores_from, task.index))).buffer);
      let next = 0;
      score = async () => {
        if (next >= recorded.length) throw new Error('more documents reached the classifier than were scored: the inputs changed since the scoring pass');
        return recorded[next++];
      };
    } else {
      const classifier = await Classifier.open(config.classifier, config.label);
      score = (doc) => classifier.score(typeof doc.text === 'string' ? doc.text : '');
      close = () => classifier.close();
    }
    steps.push({
      name: 'classifier',
      kind: 'filter',
      adds: [{ name: column, type: 'float32' }],
      async apply(doc) {
        const s = await score(doc);
        doc[column] = s;
        return min !== undefined && s < min ? drop('low-score', `${column} ${Number(s.toPrecision(6))} < ${min}`) : undefined;
      },
      close,
    });
  }
  return steps;
}

export const qualityStage = defineStage({
  name: 'quality',
  internal: true,
  summary: 'heuristic quality rules and a fastText classifier',
  options: stageOptions,
  input: { kind: 'shards' },
  steps: (config, _columns, task, ctx) => qualitySteps(config, task, ctx),
});

/** The scoring pass of --keep-top: the scores of the documents that pass the rules, per task. */
class ScoreSink implements Sink {
  rows = 0;
  private scores = new Float32Array(1024);
  constructor(
    private readonly opts: SinkOptions,
    private readonly column: string,
  ) {}
  write(doc: Doc): void {
    if (this.rows === this.scores.length) {
      const grown = new Float32Array(this.scores.length * 2);
      grown.set(this.scores);
      this.scores = grown;
    }
    this.scores[this.rows++] = Number(doc[this.column]);
  }
  publish(): string[] {
    const file = join(this.opts.dir, `${this.opts.base}-scores.f32`);
    writeFileAtomic(file, new Uint8Array(this.scores.buffer, 0, this.rows * 4));
    return [file];
  }
  abort(): void {}
}

export const scoreStage = defineStage({
  name: 'quality-scores',
  internal: true,
  summary: 'quality --keep-top: score the documents that pass the rules',
  options: stageOptions,
  input: { kind: 'shards' },
  steps: (config, _columns, task, ctx) => qualitySteps(config, task, ctx),
  sink: (config) => (opts) => new ScoreSink(opts, scoreColumn(config)),
});

/** The lowest score among the top `share` of all recorded scores. */
function topThreshold(dir: string, tasks: number, share: number): { threshold: number; scored: number; keep: number } {
  const parts: Float32Array[] = [];
  let total = 0;
  for (let t = 0; t < tasks; t++) {
    const part = new Float32Array(new Uint8Array(readFileSync(scoresFile(dir, t))).buffer);
    parts.push(part);
    total += part.length;
  }
  const all = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  all.sort();
  const keep = Math.ceil(total * share);
  return { threshold: keep === 0 ? Number.POSITIVE_INFINITY : all[total - keep], scored: total, keep };
}

/** The quality filter over inputs into `out`, in one pass or, with --keep-top, three. */
export async function runQuality(inputs: readonly string[], out: string, config: QualityConfig, options: RunOptions, r: Runner): Promise<void> {
  const log = r.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const run = async (stage: typeof qualityStage, c: StageConfig, to: string, o: RunOptions) => {
    const result = await runStage({ stage, config: c, inputs, out: to, options: o, workerScript: r.workerScript, version: r.version, log });
    if (result.failed.length > 0) throw new RunError(`${stage.name}: ${result.failed.length} task(s) failed; rerun the same command to retry them (finished tasks are kept)`);
  };
  if (!config.keep_top) return run(qualityStage, config, out, options);
  if (!config.classifier) throw new UserError('--keep-top needs a --classifier to rank documents by');
  if (config.min_score !== undefined) throw new UserError('give --keep-top or --min-score, not both');
  const work = config.work ?? `${out.replace(/\/+$/, '')}-work`;
  if (options.overwrite) rmSync(work, { recursive: true, force: true });
  const scores = join(work, 'scores');
  const base = { ...config, keep_top: undefined, work: undefined };
  await run(scoreStage, base, scores, { ...options, overwrite: false });
  const share = Number(config.keep_top.slice(0, -1)) / 100;
  const { threshold, scored, keep } = topThreshold(scores, listTasks({ kind: 'shards' }, inputs).length, share);
  log(`quality: keeping the top ${config.keep_top} of ${formatCount(scored)} scored documents (${formatCount(keep)}): ${scoreColumn(config)} >= ${format(threshold)}`);
  await run(qualityStage, { ...base, min_score: Math.min(1, threshold), scores_from: scores }, out, options);
}
