/**
 * `refinery quality train`: a fastText classifier from positive and negative documents
 * (the DCLM recipe: a small bigram model telling curated text from web text). Classes are
 * balanced by sampling, shuffled with the seed, and a held-out share reports accuracy and
 * ROC AUC before the model is written.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import { Random } from '../core/random.js';
import { byteSize } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { listTasks } from '../core/inputs.js';
import { writeFileAtomic } from '../core/layout.js';
import type { TaskContext } from '../core/stage.js';
import { openShard } from '../core/shard-reader.js';
import { importStage } from '../import/index.js';
import { Classifier, classifierText, fastText, modelInfoPath, type ModelInfo } from './fasttext.js';
import { accuracy, rocAuc } from './metrics.js';

export const trainOptions = z
  .object({
    positive: z.array(z.string()).min(1).describe('documents of the class to score high: shard directories or files, JSONL(.gz) or .txt (one document per line)'),
    negative: z.array(z.string()).min(1).describe('documents of the other class, same kinds of input'),
    output: z.string().min(1).describe('the model file to write (model.bin; model.json is written beside it)'),
    label: z.string().regex(/^[a-z0-9_-]+$/).default('hq').describe('the positive label (the score is its probability)'),
    negative_label: z.string().regex(/^[a-z0-9_-]+$/).default('cc').describe('the negative label'),
    normalization: z.enum(['tokens', 'dclm']).default('tokens').describe('text seen by the model: "dclm" joins lines as DCLM does; "tokens" also lower-cases, splits punctuation off and folds digits'),
    max_docs: z.number().int().min(1).default(200_000).describe('at most this many documents per class, sampled uniformly'),
    balance: z.boolean().default(true).describe('sample the larger class down to the size of the smaller'),
    min_chars: z.number().int().min(0).default(100).describe('ignore documents shorter than this'),
    holdout: z.number().min(0).max(0.5).default(0.1).describe('share of each class kept out of training to report accuracy and ROC AUC'),
    dim: z.number().int().min(2).max(300).default(32).describe('fastText: size of the vectors'),
    epoch: z.number().int().min(1).default(5).describe('fastText: passes over the data'),
    lr: z.number().positive().default(0.1).describe('fastText: learning rate'),
    word_ngrams: z.number().int().min(1).max(5).default(2).describe('fastText: longest word n-gram'),
    min_count: z.number().int().min(1).default(2).describe('fastText: words seen fewer times are ignored'),
    bucket: z.number().int().min(0).default(200_000).describe('fastText: hash buckets for n-grams (model size ~ (words + bucket) x dim x 4 bytes)'),
    threads: z.number().int().min(1).optional().describe('fastText: training threads (default: number of cores)'),
    seed: z.number().int().min(0).default(1).describe('sampling, shuffling and hold-out seed'),
    max_size: byteSize().prefault('2GiB').describe('refuse to read more than this much text per class'),
  })
  .strict();
export type TrainConfig = z.infer<typeof trainOptions>;

/** A shard file, or a directory of them (a stage output, its excluded/ part). */
const isShardInput = (input: string) =>
  input.endsWith('.arrow') || (existsSync(input) && statSync(input).isDirectory() && (existsSync(join(input, '_manifest.json')) || readdirSync(input).some((n) => n.endsWith('.arrow'))));

/** The texts of the documents in `inputs`: stage outputs and shards, or files `refinery import` reads. */
export async function* readTexts(inputs: readonly string[]): AsyncGenerator<string> {
  const shards = inputs.filter(isShardInput);
  const files = inputs.filter((i) => !isShardInput(i));
  for (const task of shards.length ? listTasks({ kind: 'shards' }, shards) : []) {
    const shard = await openShard(task.path);
    try {
      for await (const doc of shard.docs()) if (typeof doc.text === 'string') yield doc.text;
    } finally {
      await shard.close();
    }
  }
  if (files.length === 0) return;
  const config = importStage.options.parse({ txt_mode: 'line' });
  const ctx: TaskContext = {
    task: { index: 0, path: '', rel: '' },
    reject: () => {},
    problem: (where, reason) => process.stderr.write(`quality train: ${where}: ${reason}\n`),
    count: () => {},
  };
  for (const task of listTasks(importStage.input, files)) {
    const source = await importStage.open?.(task, config, { ...ctx, task });
    for await (const doc of source?.docs ?? []) if (typeof doc.text === 'string') yield doc.text;
  }
}

/** Up to `max` normalised texts, sampled uniformly (reservoir) with the seeded generator. */
async function sample(inputs: readonly string[], c: TrainConfig, random: Random, what: string): Promise<string[]> {
  const kept: string[] = [];
  let seen = 0;
  let bytes = 0;
  for await (const text of readTexts(inputs)) {
    if (text.length < c.min_chars) continue;
    bytes += text.length;
    if (bytes > c.max_size) throw new UserError(`quality train: the ${what} documents hold more than --max-size ${c.max_size} bytes of text; sample them first or raise it`);
    const line = classifierText(text, c.normalization);
    if (!line) continue;
    seen++;
    if (kept.length < c.max_docs) kept.push(line);
    else {
      const j = Math.floor(random.next() * seen);
      if (j < c.max_docs) kept[j] = line;
    }
  }
  if (kept.length === 0) throw new UserError(`quality train: no ${what} documents of at least ${c.min_chars} characters in ${inputs.join(', ')}`);
  return kept;
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
  let pos = await sample(c.positive, c, random, 'positive');
  let neg = await sample(c.negative, c, random, 'negative');
  if (c.balance) {
    const n = Math.min(pos.length, neg.length);
    pos = random.shuffle(pos).slice(0, n);
    neg = random.shuffle(neg).slice(0, n);
  }
  const split = (texts: string[]) => {
    const shuffled = random.shuffle([...texts]);
    const held = Math.round(shuffled.length * c.holdout);
    return { held: shuffled.slice(0, held), train: shuffled.slice(held) };
  };
  const p = split(pos);
  const q = split(neg);
  const lines = random.shuffle([...p.train.map((t) => `__label__${c.label} ${t}`), ...q.train.map((t) => `__label__${c.negative_label} ${t}`)]);
  log(`quality train: ${p.train.length} ${c.label} and ${q.train.length} ${c.negative_label} documents to train on, ${p.held.length} + ${q.held.length} held out`);

  const scratch = mkdtempSync(join(tmpdir(), 'refinery-fasttext-'));
  try {
    const trainFile = join(scratch, 'train.txt');
    writeFileSync(trainFile, `${lines.join('\n')}\n`);
    const stem = join(scratch, 'model');
    const FastText = fastText();
    const trainer = new FastText({
      preprocess: false,
      trainFile,
      serializeTo: stem,
      train: {
        dim: c.dim,
        epoch: c.epoch,
        lr: c.lr,
        wordNgrams: c.word_ngrams,
        minCount: c.min_count,
        bucket: c.bucket,
        minn: 0,
        maxn: 0,
        loss: 'softmax',
        thread: c.threads ?? availableParallelism(),
      },
    });
    await trainer.train();
    const info: ModelInfo = {
      format: 'refinery-fasttext-1',
      label: c.label,
      labels: [c.label, c.negative_label],
      normalization: c.normalization,
      trained: { positive: c.positive, negative: c.negative, docs: { [c.label]: p.train.length, [c.negative_label]: q.train.length }, dim: c.dim, epoch: c.epoch, lr: c.lr, word_ngrams: c.word_ngrams, min_count: c.min_count, bucket: c.bucket, seed: c.seed },
    };
    // Write the model where it belongs only once it exists in full.
    mkdirSync(dirname(c.output), { recursive: true });
    copyFileSync(`${stem}.bin`, `${c.output}.tmp-${process.pid}`);
    renameSync(`${c.output}.tmp-${process.pid}`, c.output);

    let auc: number | null = null;
    let acc: number | null = null;
    if (p.held.length > 0 && q.held.length > 0) {
      writeFileAtomic(modelInfoPath(c.output), `${JSON.stringify(info, null, 1)}\n`);
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
    }
    writeFileAtomic(modelInfoPath(c.output), `${JSON.stringify(info, null, 1)}\n`);
    const report: TrainReport = {
      model: c.output,
      bytes: statSync(c.output).size,
      train: { [c.label]: p.train.length, [c.negative_label]: q.train.length },
      holdout: { [c.label]: p.held.length, [c.negative_label]: q.held.length },
      holdout_accuracy: acc,
      holdout_auc: auc,
      seconds: (performance.now() - started) / 1000,
    };
    return report;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
