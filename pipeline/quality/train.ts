/**
 * `refinery quality train`: a fastText classifier from positive and negative documents
 * (the DCLM recipe: a small n-gram model telling curated text from web text). Classes are
 * balanced by sampling and shuffled with the seed; then either a held-out share reports accuracy
 * and ROC AUC before the model is written, or (`--cv k`) stratified k-fold cross-validation
 * reports them per fold and the model is trained on everything.
 */
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { byteSize } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../core/layout.js';
import { Random } from '../core/random.js';
import { Classifier, classifierText, modelInfoPath, type ModelInfo } from '../classify/fasttext.js';
import { accuracy, meanSd, rocAuc } from '../classify/metrics.js';
import { Reservoir, fastTextOptions, holdOut, stratifiedFolds, trainFastText, trainedWith, type FastTextConfig } from '../classify/train.js';
import { readDocs } from '../import/read.js';

/**
 * The quality model's fastText settings where they differ from the shared ones, chosen by
 * 5-fold cross-validation on DCLM's human labels (bench quality-accuracy; README, Quality).
 */
export const QUALITY_DEFAULTS = {
  normalization: 'dclm',
  dim: 32,
  epoch: 25,
  lr: 1,
  word_ngrams: 2,
  min_count: 2,
} as const;

const f = fastTextOptions.shape;
export const trainOptions = z
  .object({
    positive: z.array(z.string()).min(1).describe('documents of the class to score high: shard directories or files, JSONL(.gz) or .txt (one document per line)'),
    negative: z.array(z.string()).min(1).describe('documents of the other class, same kinds of input'),
    output: z.string().min(1).describe('the model file to write (model.bin; model.json is written beside it)'),
    label: z.string().regex(/^[a-z0-9_-]+$/).default('hq').describe('the positive label (the score is its probability)'),
    negative_label: z.string().regex(/^[a-z0-9_-]+$/).default('cc').describe('the negative label'),
    max_docs: z.number().int().min(1).default(200_000).describe('at most this many documents per class, sampled uniformly'),
    balance: z.boolean().default(true).describe('sample the larger class down to the size of the smaller'),
    max_size: byteSize().prefault('2GiB').describe('refuse to read more than this much text per class'),
    cv: z.number().int().min(0).max(50).default(0).describe('k-fold cross-validation (stratified, seeded): ROC AUC and accuracy per fold, then the model is trained on all documents (no hold-out); 0 is off'),
  })
  .extend(fastTextOptions.shape)
  .extend({
    normalization: f.normalization.removeDefault().default(QUALITY_DEFAULTS.normalization).describe(f.normalization.description ?? ''),
    dim: f.dim.removeDefault().default(QUALITY_DEFAULTS.dim).describe(f.dim.description ?? ''),
    epoch: f.epoch.removeDefault().default(QUALITY_DEFAULTS.epoch).describe(f.epoch.description ?? ''),
    lr: f.lr.removeDefault().default(QUALITY_DEFAULTS.lr).describe(f.lr.description ?? ''),
    word_ngrams: f.word_ngrams.removeDefault().default(QUALITY_DEFAULTS.word_ngrams).describe(f.word_ngrams.description ?? ''),
    min_count: f.min_count.removeDefault().default(QUALITY_DEFAULTS.min_count).describe(f.min_count.description ?? ''),
  })
  .strict();
export type TrainConfig = z.infer<typeof trainOptions>;

/** Up to `max_docs` normalised texts of one class, sampled uniformly with the seeded generator. */
export async function sampleTexts(inputs: readonly string[], c: FastTextConfig & { max_docs: number; max_size: number }, random: Random, what: string): Promise<string[]> {
  const sample = new Reservoir<string>(c.max_docs, random);
  let bytes = 0;
  for await (const doc of readDocs(inputs, 'quality train')) {
    const text = typeof doc.text === 'string' ? doc.text : '';
    if (text.length < c.min_chars) continue;
    bytes += text.length;
    if (bytes > c.max_size) throw new UserError(`quality train: the ${what} documents hold more than --max-size ${c.max_size} bytes of text; sample them first or raise it`);
    const line = classifierText(text, c.normalization);
    if (line) sample.offer(line);
  }
  if (sample.items.length === 0) throw new UserError(`quality train: no ${what} documents of at least ${c.min_chars} characters in ${inputs.join(', ')}`);
  return sample.items;
}

/** Both classes' normalised texts, sampled and (with `balance`) cut to the same size. */
export async function sampleClasses(c: TrainConfig, random: Random): Promise<{ pos: string[]; neg: string[] }> {
  let pos = await sampleTexts(c.positive, c, random, 'positive');
  let neg = await sampleTexts(c.negative, c, random, 'negative');
  if (c.balance) {
    const n = Math.min(pos.length, neg.length);
    pos = random.shuffle(pos).slice(0, n);
    neg = random.shuffle(neg).slice(0, n);
  }
  return { pos, neg };
}

const labelledLines = (c: TrainConfig, pos: readonly string[], neg: readonly string[], random: Random) =>
  random.shuffle([...pos.map((line) => ({ label: c.label, line })), ...neg.map((line) => ({ label: c.negative_label, line }))]);

const modelInfo = (c: TrainConfig, docs: { pos: number; neg: number }): ModelInfo => ({
  format: 'refinery-fasttext-1',
  kind: 'quality',
  label: c.label,
  labels: [c.label, c.negative_label],
  normalization: c.normalization,
  trained: { positive: c.positive, negative: c.negative, docs: { [c.label]: docs.pos, [c.negative_label]: docs.neg }, ...trainedWith(c) },
});

/** ROC AUC and accuracy (at 0.5) of a model on normalised positive and negative texts. */
async function scoreModel(model: string, pos: readonly string[], neg: readonly string[]): Promise<{ auc: number; accuracy: number }> {
  const classifier = await Classifier.open(model);
  try {
    const labels: number[] = [];
    const scores: number[] = [];
    for (const [texts, label] of [[pos, 1], [neg, 0]] as const) {
      for (const t of texts) {
        scores.push(await classifier.scoreNormalized(t));
        labels.push(label);
      }
    }
    return { auc: rocAuc(scores, labels), accuracy: accuracy(scores, labels, 0.5) };
  } finally {
    classifier.close();
  }
}

export interface FoldResult {
  fold: number;
  train: number;
  test: number;
  auc: number;
  accuracy: number;
}
export interface CvReport {
  k: number;
  folds: FoldResult[];
  auc: { mean: number; sd: number };
  accuracy: { mean: number; sd: number };
}

/**
 * The cross-validation folds of `pos` and `neg` (stratified, from the seed alone): fold of
 * each positive, then of each negative. Exported so that other trainers can be compared on the same folds.
 */
export function cvFolds(pos: number, neg: number, k: number, seed: number): { pos: number[]; neg: number[] } {
  const folds = stratifiedFolds([...new Array<number>(pos).fill(1), ...new Array<number>(neg).fill(0)], k, new Random(seed));
  return { pos: folds.slice(0, pos), neg: folds.slice(pos) };
}

/** Stratified k-fold cross-validation: for each fold, train on the others and score it. */
export async function crossValidate(pos: readonly string[], neg: readonly string[], c: TrainConfig, k: number): Promise<CvReport> {
  const folds = cvFolds(pos.length, neg.length, k, c.seed);
  const random = new Random(c.seed);
  const scratch = mkdtempSync(join(tmpdir(), 'refinery-quality-cv-'));
  const results: FoldResult[] = [];
  try {
    for (let fold = 0; fold < k; fold++) {
      const part = (texts: readonly string[], of: number[], held: boolean) => texts.filter((_, i) => (of[i] === fold) === held);
      const [trainPos, trainNeg] = [part(pos, folds.pos, false), part(neg, folds.neg, false)];
      const [testPos, testNeg] = [part(pos, folds.pos, true), part(neg, folds.neg, true)];
      const model = join(scratch, `fold-${fold}.bin`);
      await trainFastText(labelledLines(c, trainPos, trainNeg, random), c, model, modelInfo(c, { pos: trainPos.length, neg: trainNeg.length }));
      const r = await scoreModel(model, testPos, testNeg);
      results.push({ fold: fold + 1, train: trainPos.length + trainNeg.length, test: testPos.length + testNeg.length, ...r });
      rmSync(model, { force: true });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { k, folds: results, auc: meanSd(results.map((r) => r.auc)), accuracy: meanSd(results.map((r) => r.accuracy)) };
}

/** The cross-validation table `quality train --cv` prints: one row per fold, then mean ± sd. */
export function cvTable(cv: CvReport): string {
  const rows = [['fold', 'train', 'test', 'ROC AUC', 'accuracy']];
  for (const r of cv.folds) rows.push([String(r.fold), String(r.train), String(r.test), r.auc.toFixed(3), r.accuracy.toFixed(3)]);
  rows.push(['mean ± sd', '', '', `${cv.auc.mean.toFixed(3)} ± ${cv.auc.sd.toFixed(3)}`, `${cv.accuracy.mean.toFixed(3)} ± ${cv.accuracy.sd.toFixed(3)}`]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n');
}

export interface TrainReport {
  model: string;
  bytes: number;
  train: Record<string, number>;
  holdout: Record<string, number>;
  holdout_accuracy: number | null;
  holdout_auc: number | null;
  cv: CvReport | null;
  seconds: number;
}

export async function trainClassifier(c: TrainConfig, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<TrainReport> {
  if (c.label === c.negative_label) throw new UserError('quality train: --label and --negative-label must differ');
  if (!c.output.endsWith('.bin')) throw new UserError(`quality train: the model file must end in .bin (got ${c.output})`);
  const started = performance.now();
  const random = new Random(c.seed);
  const { pos, neg } = await sampleClasses(c, random);

  // Cross-validation first (its own seeded folds), then the final model on every document.
  let cv: CvReport | null = null;
  if (c.cv > 0) {
    log(`quality train: ${c.cv}-fold cross-validation on ${pos.length} ${c.label} and ${neg.length} ${c.negative_label} documents`);
    cv = await crossValidate(pos, neg, c, c.cv);
  }
  const p = holdOut(pos, cv ? 0 : c.holdout, random);
  const q = holdOut(neg, cv ? 0 : c.holdout, random);
  log(`quality train: ${p.train.length} ${c.label} and ${q.train.length} ${c.negative_label} documents to train on, ${p.held.length} + ${q.held.length} held out`);

  const info = modelInfo(c, { pos: p.train.length, neg: q.train.length });
  if (cv) info.trained.cv = { k: cv.k, roc_auc: cv.auc, accuracy: cv.accuracy, folds: cv.folds };
  await trainFastText(labelledLines(c, p.train, q.train, random), c, c.output, info);

  let held: { auc: number; accuracy: number } | null = null;
  if (p.held.length > 0 && q.held.length > 0) {
    // Held-out texts are already normalised: scored as they are.
    held = await scoreModel(c.output, p.held, q.held);
    info.trained.holdout = { docs: p.held.length + q.held.length, accuracy: held.accuracy, roc_auc: held.auc };
    writeFileAtomic(modelInfoPath(c.output), `${JSON.stringify(info, null, 1)}\n`);
  }
  return {
    model: c.output,
    bytes: statSync(c.output).size,
    train: { [c.label]: p.train.length, [c.negative_label]: q.train.length },
    holdout: { [c.label]: p.held.length, [c.negative_label]: q.held.length },
    holdout_accuracy: held?.accuracy ?? null,
    holdout_auc: held?.auc ?? null,
    cv,
    seconds: (performance.now() - started) / 1000,
  };
}
