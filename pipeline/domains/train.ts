/**
 * `refinery domains train`: a fastText topic classifier from documents that carry their
 * label (a column, or a field of JSONL records / of the `metadata` column). Each label is
 * sampled uniformly up to --max-per-label; a held-out share reports accuracy, macro F1 and
 * each label's precision and recall.
 */
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as z from 'zod';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../core/layout.js';
import { Random } from '../core/random.js';
import type { Doc } from '../core/schema.js';
import { Classifier, classifierText, modelInfoPath, type ModelInfo } from '../classify/fasttext.js';
import { Reservoir, fastTextOptions, holdOut, trainFastText, trainedWith } from '../classify/train.js';
import { readDocs } from '../import/read.js';

export const domainTrainOptions = z
  .object({
    labelled: z.array(z.string()).min(1).describe('labelled documents: shard directories or files, JSONL(.gz)'),
    label_field: z.string().default('label').describe('where the label is: a column, or a field of the JSONL record (kept in the metadata column)'),
    output: z.string().min(1).describe('the model file to write (model.bin; model.json is written beside it)'),
    max_per_label: z.number().int().min(1).default(50_000).describe('at most this many documents per label, sampled uniformly'),
    min_per_label: z.number().int().min(1).default(5).describe('labels with fewer documents are left out (and reported)'),
  })
  .extend(fastTextOptions.shape)
  // Topics from few documents per label: more passes, a higher rate, words alone (measured on Brown's 15 genres).
  .extend({
    epoch: fastTextOptions.shape.epoch.removeDefault().default(50).describe(fastTextOptions.shape.epoch.description ?? ''),
    lr: fastTextOptions.shape.lr.removeDefault().default(1).describe(fastTextOptions.shape.lr.description ?? ''),
    word_ngrams: fastTextOptions.shape.word_ngrams.removeDefault().default(1).describe(fastTextOptions.shape.word_ngrams.description ?? ''),
  })
  .strict();
export type DomainTrainConfig = z.infer<typeof domainTrainOptions>;

/** A label as fastText and YAML take it: lower case, [a-z0-9_-]. */
export const labelName = (v: string) => v.trim().toLowerCase().replace(/[^a-z0-9_-]+/g, '_');

function labelOf(doc: Doc, field: string): string | null {
  const direct = doc[field];
  if (typeof direct === 'string' && direct.trim()) return labelName(direct);
  if (typeof doc.metadata === 'string') {
    try {
      const v = (JSON.parse(doc.metadata) as Record<string, unknown>)[field];
      if (typeof v === 'string' && v.trim()) return labelName(v);
    } catch {
      return null;
    }
  }
  return null;
}

export interface DomainTrainReport {
  model: string;
  bytes: number;
  labels: Record<string, { train: number; held: number; precision: number | null; recall: number | null }>;
  skipped_labels: Record<string, number>;
  unlabelled: number;
  holdout_accuracy: number | null;
  macro_f1: number | null;
  seconds: number;
}

export async function trainDomainClassifier(c: DomainTrainConfig, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<DomainTrainReport> {
  const started = performance.now();
  const random = new Random(c.seed);
  const byLabel = new Map<string, Reservoir<string>>();
  let unlabelled = 0;
  for await (const doc of readDocs(c.labelled, 'domains train')) {
    const text = typeof doc.text === 'string' ? doc.text : '';
    if (text.length < c.min_chars) continue;
    const label = labelOf(doc, c.label_field);
    if (!label) {
      unlabelled++;
      continue;
    }
    const line = classifierText(text, c.normalization);
    if (!line) continue;
    let r = byLabel.get(label);
    if (!r) byLabel.set(label, (r = new Reservoir<string>(c.max_per_label, random)));
    r.offer(line);
  }
  const skipped: Record<string, number> = {};
  const labels = [...byLabel.keys()].sort().filter((l) => {
    const n = byLabel.get(l)?.items.length ?? 0;
    if (n < c.min_per_label) skipped[l] = n;
    return n >= c.min_per_label;
  });
  if (labels.length < 2) {
    throw new UserError(`domains train: need at least 2 labels with ${c.min_per_label}+ documents of ${c.min_chars}+ characters in "${c.label_field}" (found: ${[...byLabel.keys()].join(', ') || 'none'}; unlabelled ${unlabelled})`);
  }
  const splits = new Map(labels.map((l) => [l, holdOut(byLabel.get(l)?.items ?? [], c.holdout, random)]));
  const lines = random.shuffle(labels.flatMap((label) => (splits.get(label)?.train ?? []).map((line) => ({ label, line }))));
  log(`domains train: ${lines.length} documents in ${labels.length} labels to train on, ${labels.reduce((n, l) => n + (splits.get(l)?.held.length ?? 0), 0)} held out`);
  const info: ModelInfo = {
    format: 'refinery-fasttext-1',
    kind: 'domains',
    label: labels[0],
    labels,
    normalization: c.normalization,
    trained: { labelled: c.labelled, label_field: c.label_field, docs: Object.fromEntries(labels.map((l) => [l, splits.get(l)?.train.length ?? 0])), ...trainedWith(c) },
  };
  await trainFastText(lines, c, c.output, info);

  // Held-out confusion: per label, how many were predicted as it and how many of it were found.
  const hit = new Map<string, number>();
  const predicted = new Map<string, number>();
  let held = 0;
  let correct = 0;
  const classifier = await Classifier.open(c.output);
  try {
    for (const label of labels) {
      for (const line of splits.get(label)?.held ?? []) {
        const best = (await classifier.predictNormalized(line))?.label ?? '';
        held++;
        predicted.set(best, (predicted.get(best) ?? 0) + 1);
        if (best === label) {
          correct++;
          hit.set(label, (hit.get(label) ?? 0) + 1);
        }
      }
    }
  } finally {
    classifier.close();
  }
  const perLabel = Object.fromEntries(
    labels.map((l) => {
      const n = splits.get(l)?.held.length ?? 0;
      const p = predicted.get(l) ?? 0;
      const h = hit.get(l) ?? 0;
      return [l, { train: splits.get(l)?.train.length ?? 0, held: n, precision: p ? h / p : null, recall: n ? h / n : null }];
    }),
  );
  const f1s = Object.values(perLabel).map(({ precision: p, recall: r }) => (p !== null && r !== null && p + r > 0 ? (2 * p * r) / (p + r) : 0));
  const accuracy = held ? correct / held : null;
  const macroF1 = held ? f1s.reduce((a, b) => a + b, 0) / f1s.length : null;
  info.trained.holdout = { docs: held, accuracy, macro_f1: macroF1 };
  writeFileAtomic(modelInfoPath(c.output), `${JSON.stringify(info, null, 1)}\n`);
  return {
    model: c.output,
    bytes: statSync(c.output).size,
    labels: perLabel,
    skipped_labels: skipped,
    unlabelled,
    holdout_accuracy: accuracy,
    macro_f1: macroF1,
    seconds: (performance.now() - started) / 1000,
  };
}
