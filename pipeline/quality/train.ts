/**
 * `refinery quality train`: a fastText classifier from positive and negative documents
 * (the DCLM recipe: a small bigram model telling curated text from web text). Classes are
 * balanced by sampling, shuffled with the seed, and a held-out share reports accuracy and
 * ROC AUC before the model is written.
 */
import { performance } from 'node:perf_hooks';
import { statSync } from 'node:fs';
import * as z from 'zod';
import { byteSize } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../core/layout.js';
import { Random } from '../core/random.js';
import { Classifier, classifierText, modelInfoPath, type ModelInfo } from '../classify/fasttext.js';
import { accuracy, rocAuc } from '../classify/metrics.js';
import { Reservoir, fastTextOptions, holdOut, trainFastText, trainedWith, type FastTextConfig } from '../classify/train.js';
import { readDocs } from '../import/read.js';

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
  })
  .extend(fastTextOptions.shape)
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

export interface TrainReport {
  model: string;
  bytes: number;
  train: Record<string, number>;
  holdout: Record<string, number>;
  holdout_accuracy: number | null;
  holdout_auc: number | null;
  seconds: number;
}

export async function trainClassifier(c: TrainConfig, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<TrainReport> {
  if (c.label === c.negative_label) throw new UserError('quality train: --label and --negative-label must differ');
  if (!c.output.endsWith('.bin')) throw new UserError(`quality train: the model file must end in .bin (got ${c.output})`);
  const started = performance.now();
  const random = new Random(c.seed);
  let pos = await sampleTexts(c.positive, c, random, 'positive');
  let neg = await sampleTexts(c.negative, c, random, 'negative');
  if (c.balance) {
    const n = Math.min(pos.length, neg.length);
    pos = random.shuffle(pos).slice(0, n);
    neg = random.shuffle(neg).slice(0, n);
  }
  const p = holdOut(pos, c.holdout, random);
  const q = holdOut(neg, c.holdout, random);
  const lines = random.shuffle([...p.train.map((line) => ({ label: c.label, line })), ...q.train.map((line) => ({ label: c.negative_label, line }))]);
  log(`quality train: ${p.train.length} ${c.label} and ${q.train.length} ${c.negative_label} documents to train on, ${p.held.length} + ${q.held.length} held out`);

  const info: ModelInfo = {
    format: 'refinery-fasttext-1',
    kind: 'quality',
    label: c.label,
    labels: [c.label, c.negative_label],
    normalization: c.normalization,
    trained: { positive: c.positive, negative: c.negative, docs: { [c.label]: p.train.length, [c.negative_label]: q.train.length }, ...trainedWith(c) },
  };
  await trainFastText(lines, c, c.output, info);

  let auc: number | null = null;
  let acc: number | null = null;
  if (p.held.length > 0 && q.held.length > 0) {
    const classifier = await Classifier.open(c.output);
    try {
      const labels: number[] = [];
      const scores: number[] = [];
      // Held-out texts are already normalised: score them as they are.
      for (const [texts, label] of [[p.held, 1], [q.held, 0]] as const) {
        for (const t of texts) {
          scores.push(await classifier.scoreNormalized(t));
          labels.push(label);
        }
      }
      auc = rocAuc(scores, labels);
      acc = accuracy(scores, labels, 0.5);
    } finally {
      classifier.close();
    }
    info.trained.holdout = { docs: p.held.length + q.held.length, accuracy: acc, roc_auc: auc };
    writeFileAtomic(modelInfoPath(c.output), `${JSON.stringify(info, null, 1)}\n`);
  }
  return {
    model: c.output,
    bytes: statSync(c.output).size,
    train: { [c.label]: p.train.length, [c.negative_label]: q.train.length },
    holdout: { [c.label]: p.held.length, [c.negative_label]: q.held.length },
    holdout_accuracy: acc,
    holdout_auc: auc,
    seconds: (performance.now() - started) / 1000,
  };
}
