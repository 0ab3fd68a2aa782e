/**
 * Evaluation with a trained checkpoint: the log-likelihood of text (perplexity and bits per
 * byte of documents or of a whole shard directory), and multiple-choice tasks scored as
 * lm-evaluation-harness does: each choice's log-likelihood after the question; `acc` takes
 * the most likely choice, `acc_norm` the most likely per byte of the choice.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../pipeline/core/errors.js';
import { Random } from '../pipeline/core/random.js';
import { END_OF_TEXT, Tokenizer } from '../pipeline/tokenize/tokenizer.js';
import { useBackend, type BackendChoice } from './backend.js';
import { loadCheckpoint } from './checkpoint.js';
import { GPT } from './model.js';
import { releaseKept } from './ops.js';
import { TEMPLATES, workedExample, type McItem, type Template } from './templates.js';

export interface Scorer {
  model: GPT;
  tokenizer: Tokenizer;
  context: number;
  /** Natural-log likelihood of each of `targets` given the tokens before it (`ids` = the sequence, targets start at `from`). */
  logLikelihood(ids: readonly number[], from: number): number[];
  dispose(): void;
}

export async function openScorer(checkpoint: string, tokenizerFile?: string, backend: BackendChoice = 'auto'): Promise<Scorer> {
  // Scoring reads each window's log-likelihoods synchronously: not on WebGPU.
  await useBackend(backend, true, 1, false);
  const ck = loadCheckpoint(checkpoint, false);
  const file = tokenizerFile ?? ck.state.tokenizer;
  if (!file) throw new UserError(`${checkpoint}: the checkpoint does not name its tokenizer; give --tokenizer`);
  const tokenizer = Tokenizer.load(file);
  const model = new GPT(ck.state.model, ck.weights);
  const T = ck.state.model.context;
  return {
    model,
    tokenizer,
    context: T,
    logLikelihood(ids, from) {
      // Windows of T tokens predict positions [start + 1, start + T]; each target is scored once,
      // with as much context as the window allows.
      const out: number[] = [];
      for (let end = Math.max(from, 1); end < ids.length; ) {
        const start = Math.max(0, Math.min(end - 1, ids.length - 1 - T));
        const window = ids.slice(start, Math.min(ids.length, start + T + 1));
        const input = window.slice(0, -1);
        const nll = tf.tidy(() => {
          const logits = model.forward(tf.tensor2d(Int32Array.from(input), [1, input.length], 'int32'));
          const targets = tf.tensor1d(Int32Array.from(window.slice(1)), 'int32');
          const picked = tf.gather(tf.reshape(logits, [-1]), tf.add(tf.mul(tf.range(0, input.length, 1, 'int32'), tf.scalar(logits.shape[1], 'int32')), targets));
          return tf.sub(picked, tf.logSumExp(logits, 1)).dataSync() as Float32Array;
        });
        releaseKept();
        for (let p = end; p < start + window.length; p++) out.push(nll[p - start - 1]);
        end = start + window.length;
      }
      return out;
    },
    dispose: () => model.dispose(),
  };
}

/** Nats and byte counts of a text as a document (after <|endoftext|>), up to `maxTokens` tokens. */
export function scoreText(s: Scorer, text: string, maxTokens = Number.POSITIVE_INFINITY): { nats: number; tokens: number; bytes: number } {
  const eot = s.tokenizer.specials.get(END_OF_TEXT);
  let ids = s.tokenizer.encode(text);
  if (ids.length > maxTokens) ids = ids.slice(0, maxTokens);
  const seq = eot === undefined ? ids : [eot, ...ids];
  const from = eot === undefined ? 1 : 1;
  const ll = s.logLikelihood(seq, from);
  const bytes = Buffer.byteLength(s.tokenizer.decode(ids));
  return { nats: -ll.reduce((a, b) => a + b, 0), tokens: ll.length, bytes };
}

export interface DocsScore {
  documents: number;
  tokens: number;
  bytes: number;
  /** Mean nats per token. */
  loss: number;
  perplexity: number;
  bits_per_byte: number;
}

/** Loss, perplexity and bits per byte over the texts of up to `maxDocs` documents (those without text are skipped). */
export async function scoreDocs(s: Scorer, docs: AsyncIterable<{ text?: unknown }>, maxDocs: number): Promise<DocsScore> {
  let [nats, tokens, bytes, documents] = [0, 0, 0, 0];
  if (maxDocs < 1) throw new UserError(`scoring documents: expected at least 1 document, got ${maxDocs}`);
  for await (const doc of docs) {
    if (typeof doc.text !== 'string' || !doc.text) continue;
    const r = scoreText(s, doc.text);
    [nats, tokens, bytes, documents] = [nats + r.nats, tokens + r.tokens, bytes + r.bytes, documents + 1];
    if (documents >= maxDocs) break;
  }
  const loss = nats / Math.max(1, tokens);
  return { documents, tokens, bytes, loss, perplexity: Math.exp(loss), bits_per_byte: nats / Math.LN2 / Math.max(1, bytes) };
}

export type McTask = McItem;

/** The letter or number of a choice: 0-based index, or a letter (A = 0), or a label of `labels`. */
function answerIndex(value: unknown, labels: readonly string[] | null): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return -1;
  const v = value.trim();
  if (labels && labels.includes(v)) return labels.indexOf(v);
  if (/^\d+$/.test(v)) return Number(v);
  return v.length === 1 ? 'ABCDEFGHIJ'.indexOf(v.toUpperCase()) : -1;
}

/**
 * Multiple-choice JSONL, one question per non-blank line, in the forms decontaminate --against
 * reads: ours and MMLU-style `{"question", "choices": [...], "answer": index or letter}`;
 * lm-evaluation-harness's `query`/`gold` (HellaSwag, ...); ARC's `choices: {"text", "label"}`
 * with `answerKey`.
 */
export function readTasks(file: string): McTask[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: cannot read (${(err as Error).message})`);
  }
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      let t: { question?: unknown; query?: unknown; choices?: unknown; answer?: unknown; gold?: unknown; answerKey?: unknown };
      try {
        t = JSON.parse(l) as typeof t;
      } catch {
        throw new UserError(`${file}:${i + 1}: not JSON`);
      }
      const question = t.question ?? t.query;
      const labelled = t.choices && typeof t.choices === 'object' && !Array.isArray(t.choices) ? (t.choices as { text?: unknown; label?: unknown }) : null;
      const choices = labelled ? labelled.text : t.choices;
      const labels = labelled && Array.isArray(labelled.label) ? labelled.label.map(String) : null;
      if (typeof question !== 'string' || !Array.isArray(choices) || choices.length < 2 || !choices.every((c) => typeof c === 'string')) {
        throw new UserError(`${file}:${i + 1}: expected "question" (or "query") and at least two string "choices"`);
      }
      const answer = answerIndex(t.answer ?? t.gold ?? t.answerKey, labels);
      if (!(Number.isInteger(answer) && answer >= 0 && answer < choices.length)) throw new UserError(`${file}:${i + 1}: "answer" (or "gold", "answerKey") must index the choices (0-${choices.length - 1} or a letter)`);
      return { question, choices: choices as string[], answer };
    });
}

type Interval = [number, number];

/** Accuracy under one prompt template. */
export interface TemplateResult {
  template: string;
  acc: number;
  acc_norm: number;
  acc_ci: Interval;
  acc_norm_ci: Interval;
}

export interface McResult {
  tasks: number;
  /** Mean over the templates (with one template, its accuracy). */
  acc: number;
  acc_norm: number;
  /** 95% bootstrap confidence intervals (percentile, fixed seed) of acc and acc_norm. */
  acc_ci: Interval;
  acc_norm_ci: Interval;
  /** The width of acc_ci: it shrinks like 1/sqrt(tasks). */
  acc_ci_width: number;
  /** Accuracy of guessing. */
  chance: number;
  /** Worked examples before each question (0: zero-shot). */
  shots: number;
  /** Each template's accuracies; acc and acc_norm are their means. */
  templates: TemplateResult[];
}

export interface McOptions {
  /** Worked examples before each question, drawn from `dev` (never scored). */
  shots?: number;
  dev?: readonly McTask[];
  /** Seeds the examples' draw and the bootstrap. */
  seed?: number;
  /** Bootstrap resamples for the confidence intervals. */
  resamples?: number;
  /** Prompt templates (default: the first, `Question: …\nAnswer:`). */
  templates?: readonly Template[];
}

const BOOTSTRAP_RESAMPLES = 1000;

/** The 95% percentile bootstrap interval of the mean of per-item outcomes (0/1, or a mean of them). */
export function bootstrapInterval(outcomes: readonly number[], resamples = BOOTSTRAP_RESAMPLES, seed = 1): Interval {
  const n = outcomes.length;
  if (n === 0) return [0, 0];
  const rng = new Random(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += outcomes[Math.floor(rng.next() * n)];
    means[r] = sum / n;
  }
  means.sort();
  return [means[Math.floor(0.025 * (resamples - 1))], means[Math.ceil(0.975 * (resamples - 1))]];
}

/**
 * Split tasks into a dev split (worked examples, never scored) and the items scored: a
 * seeded shuffle's first `max(shots, 10%)` items are dev, the rest are scored in file order.
 */
export function devSplit(tasks: readonly McTask[], shots: number, seed = 1): { dev: McTask[]; test: McTask[] } {
  if (shots === 0) return { dev: [], test: [...tasks] };
  const size = Math.max(shots, Math.ceil(tasks.length / 10));
  if (size >= tasks.length) throw new UserError(`--shots ${shots}: needs a dev split of ${size} items and at least one to score, but there are ${tasks.length} tasks; give --dev`);
  const order = tasks.map((_, i) => i);
  new Random(seed).shuffle(order);
  const dev = new Set(order.slice(0, size));
  return { dev: tasks.filter((_, i) => dev.has(i)), test: tasks.filter((_, i) => !dev.has(i)) };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * Score each item under each template: the most likely continuation (acc) and the most likely
 * per byte (acc_norm). Every template sees the same worked examples for an item.
 */
export function multipleChoice(s: Scorer, tasks: readonly McTask[], o: McOptions = {}): McResult {
  const shots = o.shots ?? 0;
  const dev = o.dev ?? [];
  if (shots > dev.length) throw new UserError(`--shots ${shots}: the dev split has only ${dev.length} items`);
  const seed = o.seed ?? 1;
  const templates = o.templates?.length ? o.templates : TEMPLATES.slice(0, 1);
  for (const tp of templates) {
    const over = tp.maxChoices !== undefined ? [...tasks, ...dev].find((t) => t.choices.length > (tp.maxChoices as number)) : undefined;
    if (over) throw new UserError(`template ${tp.name}: shows at most ${tp.maxChoices} choices, a question has ${over.choices.length}`);
  }
  // [template][item] outcomes.
  const acc = templates.map(() => [] as number[]);
  const accNorm = templates.map(() => [] as number[]);
  tasks.forEach((t, k) => {
    // The same examples for an item whatever else is scored: drawn by a generator seeded with its place.
    const rng = new Random(seed * 1_000_003 + k);
    const picks = dev.map((_, i) => i);
    rng.shuffle(picks);
    const examples = picks.slice(0, shots).map((i) => dev[i]);
    templates.forEach((tp, j) => {
      const prompt = s.tokenizer.encode(`${examples.map((x) => workedExample(tp, x)).join('')}${tp.prompt(t)}`);
      const scores = t.choices.map((_, i) => {
        const text = tp.continuation(t, i);
        const ll = s.logLikelihood([...prompt, ...s.tokenizer.encode(text)], prompt.length).reduce((a, b) => a + b, 0);
        return { ll, norm: ll / Buffer.byteLength(text) };
      });
      const best = (key: 'll' | 'norm') => scores.reduce((bi, x, i) => (x[key] > scores[bi][key] ? i : bi), 0);
      acc[j].push(best('ll') === t.answer ? 1 : 0);
      accNorm[j].push(best('norm') === t.answer ? 1 : 0);
    });
  });
  // Per item, the share of templates that got it right: its mean is the mean accuracy, and
  // resampling items (not templates) gives the interval of that mean.
  const perItem = (xs: number[][]) => tasks.map((_, k) => mean(xs.map((row) => row[k])));
  const acc_ci = bootstrapInterval(perItem(acc), o.resamples, seed);
  return {
    tasks: tasks.length,
    acc: mean(perItem(acc)),
    acc_norm: mean(perItem(accNorm)),
    acc_ci,
    acc_norm_ci: bootstrapInterval(perItem(accNorm), o.resamples, seed),
    acc_ci_width: acc_ci[1] - acc_ci[0],
    chance: mean(tasks.map((t) => 1 / t.choices.length)),
    shots,
    templates: templates.map((tp, j) => ({
      template: tp.name,
      acc: mean(acc[j]),
      acc_norm: mean(accNorm[j]),
      acc_ci: bootstrapInterval(acc[j], o.resamples, seed),
      acc_norm_ci: bootstrapInterval(accNorm[j], o.resamples, seed),
    })),
  };
}

/** A task's name: its file name without extension, as decontaminate names a suite in its report. */
export const taskName = (file: string) => basename(file).replace(/\.(jsonl|json|txt|tsv)$/i, '');

export interface ContaminationSplit {
  /** The report's n-gram length and how many documents it searched. */
  n: number;
  documents: number;
  clean: McResult;
  contaminated: McResult;
  /** The contaminated items' ids (suite:k). */
  contaminated_ids: string[];
}

/**
 * Split the tasks of `tasksFile` by a contamination report (pipeline/decontaminate: items
 * `suite:k`, the suite the file name without extension, k counting its non-blank lines, as
 * readTasks does) and score each part: an item found in any document is contaminated.
 */
export function contaminationSplit(s: Scorer, tasks: readonly McTask[], tasksFile: string, reportFile: string, o: McOptions = {}, scored?: ReadonlySet<McTask>): ContaminationSplit {
  let report: { n?: number; documents?: number; items?: { id: string; documents: number }[] };
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as typeof report;
  } catch (err) {
    throw new UserError(`${reportFile}: cannot read a contamination report (${(err as Error).message})`);
  }
  if (!Array.isArray(report.items)) throw new UserError(`${reportFile}: not a report of "refinery decontaminate report" (no items)`);
  const suite = taskName(tasksFile);
  const found = new Map(report.items.filter((x) => x.id.startsWith(`${suite}:`)).map((x) => [x.id, x.documents]));
  if (found.size !== tasks.length) {
    throw new UserError(`${reportFile}: has ${found.size} items of suite "${suite}", the tasks file ${tasks.length}; make the report --against ${tasksFile}`);
  }
  const ids = tasks.map((_, k) => `${suite}:${k + 1}`);
  const dirty = ids.map((id) => (found.get(id) ?? 0) > 0);
  // Only the items scored (not those of the dev split) count.
  const part = (want: boolean) => tasks.filter((t, k) => dirty[k] === want && (!scored || scored.has(t)));
  return {
    n: report.n ?? 0,
    documents: report.documents ?? 0,
    clean: multipleChoice(s, part(false), o),
    contaminated: multipleChoice(s, part(true), o),
    contaminated_ids: ids.filter((_, k) => dirty[k] && (!scored || scored.has(tasks[k]))),
  };
}
