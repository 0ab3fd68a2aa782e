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
import * as z from 'zod';
import { percentage, shareOf } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { listTasks } from '../core/inputs.js';
import { mapPhase, type Operation } from '../core/plan.js';
import { formatCount } from '../core/progress.js';
import { ScoreSink, inTop, readPairs, tieOf, topCut, type TopCut } from '../core/top-share.js';
import type { Doc } from '../core/schema.js';
import { defineStage, drop, type Step, type TaskContext, needsText } from '../core/stage.js';
import { Classifier, readModelInfo } from '../classify/fasttext.js';
import { RULE_FAMILIES, heuristicOptions, viewFor, type RuleCheck } from './heuristics.js';
import { settingsFor, type LanguageSettings } from './languages.js';
import type { TextView } from './text-view.js';

export const classifierOptions = z.object({
  classifier: z.string().optional().describe('a fastText model from "refinery quality train" (model.bin): adds the score column quality_<name>'),
  label: z.string().optional().describe("--classifier: the label whose probability is the score (default: the model's positive label, as trained with --label)"),
  classifier_name: z.string().regex(/^[a-z0-9_]+$/).optional().describe('the score column is quality_<name> (default: the label)'),
  min_score: z.number().min(0).max(1).optional().describe('exclude documents whose score is below this'),
  keep_top: percentage()
    .optional()
    .describe('keep only this share of the documents that pass the rules: the highest scores over all inputs (e.g. 10%)'),
});

export const languageOptions = z.object({
  by_language: z
    .boolean()
    .default(true)
    .describe("judge each document by its language's settings (the lang column; stop words and thresholds from --languages-file); English keeps these options as given"),
  languages_file: z.string().optional().describe('the per-language settings table (default: the shipped configs/languages.yaml)'),
});

export const qualityOptions = heuristicOptions.extend(classifierOptions.shape).extend(languageOptions.shape).strict();
export type QualityConfig = z.infer<typeof qualityOptions>;

/** What the filter pass is told beyond the user's options: recorded scores to read. */
const stageOptions = qualityOptions
  .extend({ scores_from: z.string().optional(), cut: z.object({ score: z.number(), tie: z.number() }).optional() })
  .strict();
type StageConfig = z.infer<typeof stageOptions>;

export function scoreColumn(c: QualityConfig): string {
  if (!c.classifier) throw new UserError('no --classifier');
  const name = c.classifier_name ?? (c.label ?? readModelInfo(c.classifier).label).replace(/[^a-z0-9_]/g, '_');
  return `quality_${name}`;
}

const format = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(3));
const failure = (check: RuleCheck) => drop(check.rule, check.limit === 'absent' ? 'found (needs absent)' : `${format(check.value)} (needs ${check.limit})`);

async function qualitySteps(config: StageConfig, task: { index: number }, ctx: TaskContext): Promise<Step[]> {
  // One view per document, shared by the rule families that read the same text.
  // The settings follow the document's language (the extract stage's lang column).
  const settingsByLang = new Map<string, LanguageSettings>();
  let cache: { doc: Doc; text: string; view: TextView; settings: LanguageSettings } | null = null;
  const view = (doc: Doc) => {
    const text = typeof doc.text === 'string' ? doc.text : '';
    if (cache?.doc !== doc || cache.text !== text) {
      const lang = typeof doc.lang === 'string' ? doc.lang : '';
      let settings = settingsByLang.get(lang);
      if (!settings) settingsByLang.set(lang, (settings = settingsFor(lang || null, config)));
      // The funnel per language (documents with a lang column only): judged, and passed every rule.
      if (lang && cache?.doc !== doc) ctx.count(`rules by language, in:${lang}`);
      cache = { doc, text, settings, view: viewFor(text, settings.config, settings.lang) };
    }
    return cache;
  };
  // Each family is a step: a filter, or a transform for a family that cleans the text (C4).
  const families = RULE_FAMILIES.filter((f) => f.enabled(config));
  const steps: Step[] = families.map(
    (family, i): Step => ({
      name: family.name,
      kind: family.cleans ? 'transform' : 'filter',
      apply(doc) {
        const { view: v, settings } = view(doc);
        const r = family.run(v, settings.config, false);
        for (const [why, n] of Object.entries(r.removed ?? {})) ctx.count(`${family.name} lines removed:${why}`, n);
        for (const check of r.checks) if (!check.pass) return failure(check);
        // An excluded document keeps its original text, so the exclusion shard shows what was judged.
        if (r.text !== undefined) doc.text = r.text;
        if (i === families.length - 1 && typeof doc.lang === 'string' && doc.lang) ctx.count(`rules by language, passed:${doc.lang}`);
        return undefined;
      },
    }),
  );
  if (config.classifier) {
    const column = scoreColumn(config);
    const min = config.min_score;
    const cut = config.cut;
    let score: (doc: Doc) => Promise<number>;
    let close = () => {};
    if (config.scores_from) {
      const recorded = readPairs(config.scores_from, task.index);
      let next = 0;
      score = async () => {
        if (next >= recorded.length) throw new Error('more documents reached the classifier than were scored: the inputs changed since the scoring pass');
        next += 2;
        return recorded[next - 2];
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
        if (cut) return inTop(s, tieOf(doc.id), cut) ? undefined : drop('low-score', `${column} ${Number(s.toPrecision(6))} below the top share (${Number(cut.score.toPrecision(6))})`);
        return min !== undefined && s < min ? drop('low-score', `${column} ${Number(s.toPrecision(6))} < ${min}`) : undefined;
      },
      close,
    });
  }
  return steps;
}

/** The rules and the classifier over one task: the filter pass, and the scoring pass of --keep-top. */
const qualityPass = {
  internal: true,
  needs: needsText,
  options: stageOptions,
  steps: (config: StageConfig, _columns: unknown, task: { index: number }, ctx: TaskContext) => qualitySteps(config, task, ctx),
} as const;

export const qualityStage = defineStage({ ...qualityPass, name: 'quality', summary: 'heuristic quality rules and a fastText classifier' });

/** Records the scores of the documents that pass the rules instead of writing shards. */
export const scoreStage = defineStage({
  ...qualityPass,
  name: 'quality-scores',
  summary: 'quality --keep-top: score the documents that pass the rules',
  sink: (config) => (opts) => new ScoreSink(opts, (doc) => Number(doc[scoreColumn(config)])),
});

export const qualityOperation: Operation = {
  name: 'quality',
  summary: 'apply the rules (and a classifier) to documents',
  options: qualityOptions,
  check(config) {
    const c = config as QualityConfig;
    if (!c.keep_top) return;
    if (!c.classifier) throw new UserError('--keep-top needs a --classifier to rank documents by');
    if (c.min_score !== undefined) throw new UserError('give --keep-top or --min-score, not both');
  },
  /** One map; with --keep-top: score (map), cut (reduce over all scores), filter (map reading the scores). */
  phases(config, ctx) {
    const c = config as QualityConfig;
    if (!c.keep_top) return [mapPhase('quality', qualityStage, c, ctx.inputs, ctx.out)];
    const scores = ctx.dir('scores');
    const base = { ...c, keep_top: undefined };
    const share = c.keep_top;
    return [
      mapPhase('scores', scoreStage, base, ctx.inputs, scores),
      {
        kind: 'reduce',
        name: 'cut',
        run(log): TopCut {
          const cut = topCut(scores, listTasks({ kind: 'shards' }, ctx.inputs).length, shareOf(share));
          log(`quality: keeping the top ${share} of ${formatCount(cut.scored)} scored documents (${formatCount(cut.keep)}): ${scoreColumn(c)} >= ${format(cut.score)}`);
          return cut;
        },
      },
      mapPhase('quality', qualityStage, () => {
        const { score, tie } = ctx.result<TopCut>('cut');
        return { ...base, cut: { score, tie }, scores_from: scores };
      }, ctx.inputs, ctx.out),
    ];
  },
};
