/**
 * What every fastText classifier refinery trains shares: seeded sampling, the fastText settings (small,
 * fast models: 32-dimensional vectors, word bigrams, 200,000 buckets) and the training run
 * itself, which writes the model and its description atomically.
 */
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../core/layout.js';
import type { Random } from '../core/random.js';
import { fastText, modelInfoPath, type ModelInfo } from './fasttext.js';

export const fastTextOptions = z.object({
  normalization: z.enum(['tokens', 'dclm']).default('tokens').describe('text seen by the model: "dclm" joins lines as DCLM does; "tokens" also lower-cases, splits punctuation off and folds digits'),
  min_chars: z.number().int().min(0).default(100).describe('ignore documents shorter than this'),
  holdout: z.number().min(0).max(0.5).default(0.1).describe('share of each class kept out of training to report accuracy'),
  dim: z.number().int().min(2).max(300).default(32).describe('fastText: size of the vectors'),
  epoch: z.number().int().min(1).default(5).describe('fastText: passes over the data'),
  lr: z.number().positive().default(0.1).describe('fastText: learning rate'),
  word_ngrams: z.number().int().min(1).max(5).default(2).describe('fastText: longest word n-gram'),
  min_count: z.number().int().min(1).default(2).describe('fastText: words seen fewer times are ignored'),
  bucket: z.number().int().min(0).default(200_000).describe('fastText: hash buckets for n-grams (model size ~ (words + bucket) x dim x 4 bytes)'),
  threads: z.number().int().min(1).default(1).describe('fastText: training threads; more are faster, but only one gives the same model for the same seed'),
  seed: z.number().int().min(0).default(1).describe('sampling, shuffling and hold-out seed'),
});
export type FastTextConfig = z.infer<typeof fastTextOptions>;

/** A uniform sample of at most `max` items from a stream of unknown length (reservoir sampling). */
export class Reservoir<T> {
  readonly items: T[] = [];
  seen = 0;
  constructor(
    private readonly max: number,
    private readonly random: Random,
  ) {}
  offer(item: T): void {
    this.seen++;
    if (this.items.length < this.max) this.items.push(item);
    else {
      const j = Math.floor(this.random.next() * this.seen);
      if (j < this.max) this.items[j] = item;
    }
  }
}

/** Items shuffled, then the first `share` of them held out. */
export function holdOut<T>(items: readonly T[], share: number, random: Random): { held: T[]; train: T[] } {
  const shuffled = random.shuffle([...items]);
  const held = Math.round(shuffled.length * share);
  return { held: shuffled.slice(0, held), train: shuffled.slice(held) };
}

/**
 * Stratified k-fold assignment: the fold (0 … k-1) of each item. Each class's items are
 * shuffled with the seeded generator and dealt round-robin, the deal carrying on from one class
 * to the next, so every fold holds each class in proportion (sizes differ by at most one) and
 * the same labels and seed always give the same folds.
 */
export function stratifiedFolds(labels: readonly (string | number)[], k: number, random: Random): number[] {
  if (!Number.isInteger(k) || k < 2) throw new UserError(`cross-validation needs at least 2 folds (got ${k})`);
  const byClass = new Map<string | number, number[]>();
  labels.forEach((label, i) => byClass.set(label, [...(byClass.get(label) ?? []), i]));
  for (const [label, items] of byClass) if (items.length < k) throw new UserError(`cross-validation: class "${label}" has ${items.length} documents, fewer than ${k} folds`);
  const folds = new Array<number>(labels.length).fill(0);
  let dealt = 0;
  const classes = [...byClass.keys()].sort((a, b) => String(a).localeCompare(String(b)));
  for (const label of classes) for (const i of random.shuffle([...(byClass.get(label) ?? [])])) folds[i] = dealt++ % k;
  return folds;
}

/**
 * Train fastText (softmax, no subwords) on labelled, normalised lines and write the model
 * to `output` (a .bin) with `info` beside it; the model appears only once complete.
 */
export async function trainFastText(lines: readonly { label: string; line: string }[], c: FastTextConfig, output: string, info: ModelInfo): Promise<void> {
  if (!output.endsWith('.bin')) throw new UserError(`the model file must end in .bin (got ${output})`);
  const scratch = mkdtempSync(join(tmpdir(), 'refinery-fasttext-'));
  try {
    const trainFile = join(scratch, 'train.txt');
    writeFileSync(trainFile, `${lines.map((l) => `__label__${l.label} ${l.line}`).join('\n')}\n`);
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
        thread: c.threads,
      },
    });
    await trainer.train();
    mkdirSync(dirname(output), { recursive: true });
    copyFileSync(`${stem}.bin`, `${output}.tmp-${process.pid}`);
    renameSync(`${output}.tmp-${process.pid}`, output);
    writeFileAtomic(modelInfoPath(output), `${JSON.stringify(info, null, 1)}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The fastText settings a model was trained with, for its description. */
export const trainedWith = (c: FastTextConfig) => ({ dim: c.dim, epoch: c.epoch, lr: c.lr, word_ngrams: c.word_ngrams, min_count: c.min_count, bucket: c.bucket, seed: c.seed });
