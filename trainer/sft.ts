/**
 * Supervised fine-tuning: a pretrained checkpoint learns the chat format from conversations.
 * The loss counts only the tokens that are the assistant's to say (chat-template.ts's mask), as
 * a per-token weight in train.ts's loop, so checkpoints, resume and metrics are train's own.
 *
 * Rows: one conversation per row (padded), or whole conversations packed into rows (fewer
 * rows; attention then crosses conversations, which an <|endoftext|> separates, as it crosses
 * documents in pretraining). Evaluation always reads one conversation per row from position 0,
 * as chat does, so both give comparable held-out losses.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../pipeline/core/errors.js';
import { Random } from '../pipeline/core/random.js';
import { tokenizerId } from '../pipeline/tokenize/index.js';
import { Tokenizer } from '../pipeline/tokenize/tokenizer.js';
import { END, chatTokens, encodeChat, parseConversation, type EncodedChat, type Message } from './chat-template.js';
import { loadCheckpoint } from './checkpoint.js';
import { trainOptions, type TrainConfig } from './config.js';
import type { Batch } from './data.js';
import { continueIds } from './generate.js';
import { GPT, type ModelConfig } from './model.js';
import { releaseKept } from './ops.js';
import type { SftConfig } from './post-options.js';
import { batchTensors, train, type Objective, type Task, type TrainResult } from './train.js';

/** The records of a JSONL file (blank lines skipped), each read by `parse`; errors name the file and line. */
export function readJsonl<T>(file: string, parse: (record: unknown, where: string) => T): T[] {
  if (!existsSync(file)) throw new UserError(`${file}: no such file`);
  const out: T[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      const where = `${file}:${i + 1}`;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch (err) {
        throw new UserError(`${where}: not JSON (${(err as Error).message})`);
      }
      out.push(parse(record, where));
    });
  if (out.length === 0) throw new UserError(`${file}: no records`);
  return out;
}

/**
 * At most `max` of `records`, spread evenly through them: the middle record of each of `max`
 * equal stretches, in order. A file written task by task (sample-chat's genres, then its
 * translations) keeps each task's share, which its first `max` records would not. All of them
 * when `max` is undefined or not smaller.
 */
export function spreadEvenly<T>(records: readonly T[], max: number | undefined): T[] {
  if (max === undefined || records.length <= max) return [...records];
  return Array.from({ length: max }, (_, i) => records[Math.floor(((i + 0.5) * records.length) / max)]);
}

/** A checkpoint ready for post-training: its model (embeddings grown to the chat tokenizer) and that tokenizer. */
export interface ChatStart {
  model: ModelConfig;
  weights: Map<string, Float32Array>;
  tokenizer: Tokenizer;
  tokenizerFile: string;
  tokenizerId: string;
}

/**
 * Open `from` with the chat tokenizer (given, else the checkpoint's). A tokenizer that grew
 * (refinery tokenizer add-special) must keep every id of the checkpoint's; the new rows of the
 * token embedding, which is also the tied output head, start at the mean of the old ones, so a
 * new token starts as an average token rather than a random direction.
 */
export function openChatStart(from: string, tokenizerFile: string | undefined, where: string): ChatStart {
  const ck = loadCheckpoint(from, false);
  const file = tokenizerFile ?? ck.state.tokenizer;
  if (!file) throw new UserError(`${from}: the checkpoint does not name its tokenizer; give --tokenizer`);
  const tokenizer = Tokenizer.load(file);
  chatTokens(tokenizer, where);
  const old = ck.state.model.vocab_size;
  if (tokenizer.vocabSize < old) throw new UserError(`${file}: ${tokenizer.vocabSize} tokens, fewer than the checkpoint's ${old}`);
  if (ck.state.tokenizer && ck.state.tokenizer !== file && existsSync(ck.state.tokenizer)) {
    const base = Tokenizer.load(ck.state.tokenizer);
    const same = (a: Uint8Array, b: Uint8Array | undefined) => b !== undefined && Buffer.from(a).equals(Buffer.from(b));
    if (!base.tokenBytes.every((b, id) => same(b, tokenizer.tokenBytes[id]))) {
      throw new UserError(`${file}: does not keep the ids of the checkpoint's tokenizer ${ck.state.tokenizer}; make it with refinery tokenizer add-special`);
    }
  }
  const model = { ...ck.state.model, vocab_size: tokenizer.vocabSize };
  const weights = new Map(ck.weights);
  if (tokenizer.vocabSize > old) weights.set('wte', growRows(ck.weights.get('wte') as Float32Array, old, tokenizer.vocabSize, model.d_model));
  return { model, weights, tokenizer, tokenizerFile: file, tokenizerId: tokenizerId(file) };
}

/** An embedding table [rows, d] grown to [to, d], the new rows the mean of the old. */
export function growRows(table: Float32Array, rows: number, to: number, d: number): Float32Array {
  const out = new Float32Array(to * d);
  out.set(table.subarray(0, rows * d));
  const mean = new Float64Array(d);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) mean[j] += table[r * d + j] / rows;
  for (let r = rows; r < to; r++) for (let j = 0; j < d; j++) out[r * d + j] = mean[j];
  return out;
}

/** Rows of T inputs, targets and loss weights (the mask shifted onto the targets). */
export interface Rows extends Required<Batch> {
  rows: number;
}

/**
 * Conversations as rows of `T` positions: one per row, or (`pack`) as many whole ones as fit,
 * first fit in order. Longer ones are cut at T + 1 tokens (counted in `cut`). Padding is
 * <|endoftext|> with weight 0.
 */
export function chatRows(chats: readonly EncodedChat[], T: number, pad: number, pack: boolean): Rows & { cut: number } {
  const rows: { ids: number[]; trained: number[] }[] = [];
  let cut = 0;
  for (const c of chats) {
    if (c.ids.length > T + 1) cut++;
    const ids = c.ids.slice(0, T + 1);
    const trained = Array.from(c.trained.subarray(0, T + 1));
    const open = pack ? rows.find((r) => r.ids.length + ids.length <= T + 1) : undefined;
    if (open) {
      open.ids.push(...ids);
      open.trained.push(...trained);
    } else rows.push({ ids, trained });
  }
  const n = rows.length;
  const out = { ids: new Int32Array(n * T).fill(pad), targets: new Int32Array(n * T).fill(pad), weights: new Float32Array(n * T), rows: n, cut };
  rows.forEach((r, i) => {
    for (let t = 0; t + 1 < r.ids.length; t++) {
      out.ids[i * T + t] = r.ids[t];
      out.targets[i * T + t] = r.ids[t + 1];
      out.weights[i * T + t] = r.trained[t + 1];
    }
  });
  return out;
}

/** Rows `at` of a row set, as one batch. */
export function pickRows(r: Rows, at: readonly number[], T: number): Batch & { weights: Float32Array } {
  const ids = new Int32Array(at.length * T);
  const targets = new Int32Array(at.length * T);
  const weights = new Float32Array(at.length * T);
  at.forEach((row, i) => {
    ids.set(r.ids.subarray(row * T, (row + 1) * T), i * T);
    targets.set(r.targets.subarray(row * T, (row + 1) * T), i * T);
    weights.set(r.weights.subarray(row * T, (row + 1) * T), i * T);
  });
  return { ids, targets, weights };
}

/**
 * The rows of a step's micro-batch: epochs over a shuffled order fixed by (seed, epoch), so
 * each row is seen once per epoch and a resumed run sees the same batches.
 */
export function epochRows(n: number, seed: number, step: number, micro: number, B: number, microBatches: number): number[] {
  const orders = new Map<number, number[]>();
  const out: number[] = [];
  for (let r = 0; r < B; r++) {
    const i = (step * microBatches + micro) * B + r;
    const epoch = Math.floor(i / n);
    let order = orders.get(epoch);
    if (!order) orders.set(epoch, (order = new Random(seed * 7919 + epoch).shuffle(Array.from({ length: n }, (_, k) => k))));
    out.push(order[i % n]);
  }
  return out;
}

/** Sums a weighted loss over rows in batches of B: (sum of w * nll, sum of w). */
export async function maskedLossSum(gpt: GPT, r: Rows, B: number, T: number): Promise<{ nll: number; weight: number }> {
  let nll = 0;
  let weight = 0;
  for (let at = 0; at < r.rows; at += B) {
    const b = pickRows(r, Array.from({ length: Math.min(B, r.rows - at) }, (_, k) => at + k), T);
    const sum = tf.tidy(() => {
      const t = batchTensors(b, T);
      return tf.sum(tf.mul(gpt.logProbs(t.ids, t.targets), tf.reshape(t.weights as tf.Tensor, [-1])));
    });
    releaseKept();
    nll -= (await sum.data())[0]; // read without blocking: a GPU backend's tensors are read only so
    sum.dispose();
    weight += b.weights.reduce((a, x) => a + x, 0);
  }
  return { nll, weight };
}

/** A conversation split into what is given (all but the last assistant message) and the answer expected. */
export function promptAndAnswer(messages: readonly Message[]): { prompt: Message[]; answer: string } {
  const last = messages.map((m) => m.role).lastIndexOf('assistant');
  return { prompt: messages.slice(0, last), answer: messages[last].content };
}

export interface AnswerScore {
  prompts: number;
  /** Share of answers the model closed with <|end|> within the token budget. */
  ended: number;
  /** Share of answers exactly the expected one (and closed). */
  exact: number;
  /** Each prompt's outcome, in order. */
  each: { ended: boolean; exact: boolean }[];
}

/** Greedy answers to held-out prompts: how often the model ends its answer, and how often it is exactly right. */
export async function scoreAnswers(gpt: GPT, tok: Tokenizer, conversations: readonly Message[][], n: number): Promise<AnswerScore> {
  const end = tok.special(END);
  const random = new Random(1);
  const each: AnswerScore['each'] = [];
  const some = conversations.slice(0, n);
  for (const messages of some) {
    const { prompt, answer } = promptAndAnswer(messages);
    const ids = encodeChat(tok, prompt, true).ids;
    const budget = Math.min(tok.encode(answer).length + 16, gpt.config.context - Math.min(ids.length, gpt.config.context));
    const r = budget > 0 ? await continueIds(gpt, ids, budget, { temperature: 0, top_k: 0, random }, new Set([end])) : { ids: [], stopped: false };
    each.push({ ended: r.stopped, exact: r.stopped && tok.decode(r.ids).trim() === answer.trim() });
  }
  return summarizeAnswers(each);
}

export function summarizeAnswers(each: AnswerScore['each']): AnswerScore {
  const share = (f: (x: AnswerScore['each'][number]) => boolean) => (each.length ? each.filter(f).length / each.length : 0);
  return { prompts: each.length, ended: share((x) => x.ended), exact: share((x) => x.exact), each };
}

/** train's config for a post-training run: the checkpoint's model shape, the run's optimizer and loop. */
export function loopConfig(o: { data: string; out: string } & Partial<TrainConfig>, model: ModelConfig): TrainConfig {
  // Only train's own keys: the held-out data is the objective's to read, not train's token shards.
  const own = Object.fromEntries(Object.entries(o).filter(([k, v]) => k in trainOptions.shape && k !== 'val_data' && k !== 'tokenizer' && v !== undefined));
  return trainOptions.parse({ ...own, context: model.context, d_model: model.d_model, layers: model.layers, heads: model.heads, vocab_size: model.vocab_size, eval_batches: 1 });
}

export interface SftResult extends TrainResult {
  rows: number;
  conversations: number;
  answers: AnswerScore | null;
}

export async function sft(o: SftConfig, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<SftResult> {
  const start = openChatStart(o.from, o.tokenizer, 'refinery sft');
  const { model, tokenizer } = start;
  const T = model.context;
  const pad = tokenizer.special(END);
  const trainChats = spreadEvenly(readJsonl(o.data, parseConversation), o.max_examples);
  const valChats = o.val_data ? spreadEvenly(readJsonl(o.val_data, parseConversation), o.max_val_examples) : [];
  const rows = chatRows(trainChats.map((m) => encodeChat(tokenizer, m)), T, pad, o.packing === 'pack');
  const val = chatRows(valChats.map((m) => encodeChat(tokenizer, m)), T, pad, false);
  const c = loopConfig(o, model);
  const B = c.batch_size;
  const objective: Objective = {
    batch: (step, micro) => pickRows(rows, epochRows(rows.rows, c.seed, step, micro, B, c.grad_accum), T),
    loss: (gpt, b) => {
      const t = batchTensors(b, T);
      return gpt.loss(t.ids, t.targets, t.weights);
    },
    evaluate: val.rows
      ? async (gpt) => {
          const s = await maskedLossSum(gpt, val, B, T);
          const loss = s.nll / Math.max(s.weight, 1e-9);
          return { loss, fields: { val_loss: Number(loss.toFixed(5)) }, text: `held-out loss on assistant tokens ${loss.toFixed(4)}` };
        }
      : null,
  };
  const task: Task = {
    model,
    tokenizer: start.tokenizerFile,
    tokenizerId: start.tokenizerId,
    objective,
    start: () => start.weights,
    describe: [
      `sft: ${trainChats.length} conversations in ${rows.rows} rows of ${T} (${o.packing === 'pack' ? 'packed' : 'one per row'}; ${rows.cut} cut at the context), ` +
        `${Math.round((100 * rows.weights.reduce((a, x) => a + x, 0)) / (rows.rows * T))}% of positions trained; ${valChats.length} held-out conversations`,
    ],
  };
  const r = await train(c, log, () => task);
  let answers: AnswerScore | null = null;
  if (o.answers > 0 && valChats.length) {
    const ck = loadCheckpoint(`${o.out}/checkpoint`, false);
    const gpt = new GPT(ck.state.model, ck.weights);
    answers = await scoreAnswers(gpt, tokenizer, valChats, o.answers);
    gpt.dispose();
    // Beside metrics.jsonl: the score of the final model, for reports to read rather than parse the log.
    writeFileSync(join(o.out, 'answers.json'), `${JSON.stringify({ prompts: answers.prompts, ended: answers.ended, exact: answers.exact, each: answers.each })}\n`);
    log(`sft: ${answers.prompts} held-out prompts answered greedily: ${(100 * answers.ended).toFixed(1)}% end with ${END}, ${(100 * answers.exact).toFixed(1)}% exactly right`);
  }
  return { ...r, rows: rows.rows, conversations: trainChats.length, answers };
}
