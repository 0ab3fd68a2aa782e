/**
 * Direct preference optimisation (Rafailov et al. 2023) on {prompt, chosen, rejected} pairs:
 *
 *   loss = -log sigmoid(beta * ((log pi(chosen) - log ref(chosen)) - (log pi(rejected) - log ref(rejected))))
 *
 * with log pi(answer) the summed log-probability of the answer's tokens (and its <|end|>) after
 * the prompt, in the chat template. The reference is the starting SFT model, frozen: its
 * log-probabilities are computed once, before the first step, and stored in out/reference.json
 * (a resumed run reads them back), so the gradient flows through the policy only; with
 * --ref-sync-steps the reference moves to the policy every N steps (referenceSync). Each step is a
 * train.ts step (checkpoints, resume, metrics); each evaluation reports, on held-out pairs, the
 * DPO loss, the reward margin beta * (chosen - rejected log-ratio), the reward accuracy (margin
 * > 0) and the preference accuracy (the policy gives the chosen answer the higher probability).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../pipeline/core/errors.js';
import { useBackend } from './backend.js';
import { END, encodeChat, parseMessages, type Message } from './chat-template.js';
import type { Batch } from './data.js';
import { GPT } from './model.js';
import { releaseKept } from './ops.js';
import type { DpoConfig } from './post-options.js';
import { chatRows, epochRows, loopConfig, openChatStart, pickRows, readJsonl, spreadEvenly, type Rows } from './sft.js';
import { batchTensors, train, type Evaluation, type Objective, type TrainResult } from './train.js';

export interface Pair {
  prompt: Message[];
  chosen: string;
  rejected: string;
}

/** One record of pairs.jsonl: {"prompt": text or [{"role", "content"}...], "chosen", "rejected"}. */
export function parsePair(record: unknown, where: string): Pair {
  const j = (record ?? {}) as { prompt?: unknown; chosen?: unknown; rejected?: unknown };
  if (typeof j.chosen !== 'string' || typeof j.rejected !== 'string') throw new UserError(`${where}: expected {"prompt", "chosen", "rejected"} with text answers`);
  if (typeof j.prompt !== 'string' && !Array.isArray(j.prompt)) throw new UserError(`${where}: "prompt" must be text or a list of {"role", "content"}`);
  const prompt = typeof j.prompt === 'string' ? [{ role: 'user' as const, content: j.prompt }] : parseMessages(j.prompt, where);
  return { prompt, chosen: j.chosen, rejected: j.rejected };
}

/** Pairs as rows: the P chosen conversations, then the P rejected ones (weights mark the answers). */
export function pairRows(pairs: readonly Pair[], tok: Parameters<typeof encodeChat>[0], T: number): Rows & { cut: number } {
  const chat = (p: Pair, answer: string) => encodeChat(tok, [...p.prompt, { role: 'assistant', content: answer }]);
  return chatRows([...pairs.map((p) => chat(p, p.chosen)), ...pairs.map((p) => chat(p, p.rejected))], T, tok.special(END), false);
}

/** Summed log-probability of each row's weighted tokens: [rows]. */
export function sequenceLogProbs(gpt: GPT, b: Batch, T: number): tf.Tensor1D {
  const t = batchTensors(b, T);
  const rows = b.ids.length / T;
  return tf.sum(tf.mul(tf.reshape(gpt.logProbs(t.ids, t.targets), [rows, T]), t.weights as tf.Tensor2D), 1) as tf.Tensor1D;
}

/**
 * The DPO loss of P pairs from the policy's sequence log-probabilities [2P] (chosen first,
 * then rejected) and the reference's (constants: no gradient reaches the reference). With
 * `sft` (weight > 0 and the chosen answers' token count), plus weight x the chosen answers'
 * negative log-likelihood per token: RPO's term (Pang et al. 2024; TRL's rpo_alpha), which
 * keeps the chosen answers likely while DPO pushes the rejected ones down.
 */
export function dpoLoss(policy: tf.Tensor1D, reference: Float32Array, beta: number, sft?: { weight: number; chosenTokens: number }): tf.Scalar {
  const P = policy.shape[0] / 2;
  const ratio = tf.sub(policy, tf.tensor1d(reference));
  const margin = tf.sub(tf.slice(ratio, 0, P), tf.slice(ratio, P, P));
  // -log sigmoid(x) = softplus(-x)
  const loss = tf.mean(tf.softplus(tf.mul(margin, -beta))) as tf.Scalar;
  if (!sft?.weight || sft.chosenTokens <= 0) return loss;
  const nll = tf.div(tf.neg(tf.sum(tf.slice(policy, 0, P))), sft.chosenTokens);
  return tf.add(loss, tf.mul(nll, sft.weight)) as tf.Scalar;
}

interface PairBatch extends Batch {
  reference: Float32Array;
}

/** The batch of pairs `at`: their chosen rows, then their rejected rows, with the reference's log-probabilities. */
function pairBatch(rows: Rows, ref: Float32Array, at: readonly number[], T: number): PairBatch {
  const P = rows.rows / 2;
  const order = [...at, ...at.map((i) => i + P)];
  return { ...pickRows(rows, order, T), reference: Float32Array.from(order, (i) => ref[i]) };
}

/** The answer tokens of a pair batch's chosen rows (its first half): the NLL term's divisor. */
function chosenTokens(b: Batch, T: number): number {
  const half = (b.ids.length / T / 2) * T;
  if (!b.weights) return half;
  let n = 0;
  for (let i = 0; i < half; i++) n += b.weights[i];
  return n;
}

/** Every row's summed log-probability under `gpt`, in batches of B rows. */
export async function allLogProbs(gpt: GPT, rows: Rows, B: number, T: number): Promise<Float32Array> {
  const out = new Float32Array(rows.rows);
  for (let at = 0; at < rows.rows; at += B) {
    const idx = Array.from({ length: Math.min(B, rows.rows - at) }, (_, k) => at + k);
    const lp = tf.tidy(() => sequenceLogProbs(gpt, pickRows(rows, idx, T), T));
    releaseKept();
    out.set((await lp.data()) as Float32Array, at); // read without blocking: a GPU backend's tensors are read only so
    lp.dispose();
  }
  return out;
}

export interface PreferenceScore {
  loss: number;
  margin: number;
  reward_acc: number;
  /** Share of pairs whose chosen answer the policy gives the higher summed log-probability (a tie counts half). */
  pref_acc: number;
  /** The same by mean log-probability per answer token, so a shorter answer is not favoured for its length alone. */
  pref_acc_per_token: number;
  /** Pairs whose two answers had the same log-probability (e.g. identical answers), counted half in pref_acc. */
  ties: number;
  /** Pairs scored: those with an answer cut at the context are left out (a cut answer is not the answer). */
  pairs: number;
  cut: number;
}

/** Whether each pair has both whole answers in its rows: [P] (false where the chosen or the rejected conversation was cut). */
export function wholePairs(pairs: readonly Pair[], tok: Parameters<typeof encodeChat>[0], T: number): boolean[] {
  const fits = (p: Pair, answer: string) => encodeChat(tok, [...p.prompt, { role: 'assistant', content: answer }]).ids.length <= T + 1;
  return pairs.map((p) => fits(p, p.chosen) && fits(p, p.rejected));
}

/** Held-out pairs under the policy against the reference's stored log-probabilities; `whole` (default: all) picks the pairs scored. */
export async function scorePairs(gpt: GPT, rows: Rows, ref: Float32Array, beta: number, B: number, T: number, whole?: readonly boolean[]): Promise<PreferenceScore> {
  return preferenceOf(await allLogProbs(gpt, rows, 2 * B, T), rows, ref, beta, whole);
}

/** scorePairs from the policy's log-probabilities `lp` of the rows (the reference's own, for the model DPO starts from). */
export function preferenceOf(lp: Float32Array, rows: Rows, ref: Float32Array, beta: number, whole?: readonly boolean[]): PreferenceScore {
  const P = rows.rows / 2;
  const T = rows.weights.length / rows.rows;
  const tokens = new Float32Array(rows.rows); // answer tokens per row: the mean log-probability's divisor
  for (let i = 0; i < rows.rows * T; i++) tokens[Math.floor(i / T)] += rows.weights[i];
  let n = 0;
  let loss = 0;
  let margin = 0;
  let rewardAcc = 0;
  let prefAcc = 0;
  let perToken = 0;
  let ties = 0;
  const prefer = (a: number, b: number) => (a > b ? 1 : a === b ? 0.5 : 0);
  for (let i = 0; i < P; i++) {
    if (whole && !whole[i]) continue;
    n++;
    const m = beta * (lp[i] - ref[i] - (lp[i + P] - ref[i + P]));
    loss += Math.log1p(Math.exp(-m));
    margin += m;
    if (m > 0) rewardAcc++;
    prefAcc += prefer(lp[i], lp[i + P]);
    if (lp[i] === lp[i + P]) ties++;
    perToken += prefer(lp[i] / Math.max(1, tokens[i]), lp[i + P] / Math.max(1, tokens[i + P]));
  }
  const d = Math.max(1, n);
  return { loss: loss / d, margin: margin / d, reward_acc: rewardAcc / d, pref_acc: prefAcc / d, pref_acc_per_token: perToken / d, ties, pairs: n, cut: P - n };
}

/** What the stored reference log-probabilities were made from: the starting checkpoint's weights and the rows. */
function referenceKey(o: DpoConfig, sets: { train: Rows; val: Rows }): string {
  return createHash('sha256')
    .update(readFileSync(join(o.from, 'weights.bin')))
    .update(sets.train.ids)
    .update(sets.val.ids)
    .update(sets.train.weights)
    .update(sets.val.weights)
    .digest('hex')
    .slice(0, 16);
}

/** The reference's log-probabilities of every row, read back when out/reference.json was made from the same checkpoint and data. */
async function referenceLogProbs(o: DpoConfig, key: string, gpt: GPT, sets: { train: Rows; val: Rows }, T: number, log: (l: string) => void): Promise<{ train: Float32Array; val: Float32Array }> {
  const file = join(o.out, 'reference.json');
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { key: string; train: number[]; val: number[] };
    if (stored.key === key) {
      log(`dpo: reference log-probabilities from ${file}`);
      return { train: Float32Array.from(stored.train), val: Float32Array.from(stored.val) };
    }
  }
  const started = performance.now();
  const ref = { train: await allLogProbs(gpt, sets.train, 2 * o.batch_size, T), val: await allLogProbs(gpt, sets.val, 2 * o.batch_size, T) };
  mkdirSync(o.out, { recursive: true });
  writeFileSync(file, `${JSON.stringify({ key, from: o.from, train: Array.from(ref.train), val: Array.from(ref.val) })}\n`);
  log(`dpo: reference log-probabilities of ${sets.train.rows + sets.val.rows} answers computed once in ${((performance.now() - started) / 1000).toFixed(1)} s -> ${file}`);
  return ref;
}

/**
 * --ref-sync-steps N: before step k (k steps done, k a positive multiple of N) the reference
 * becomes the policy, whose log-probabilities of the training rows are then computed and stored
 * in out/reference-step-k.json. A run resumed between two syncs reads the last one back (its
 * policy is gone); a run that reaches a sync computes it, so a rerun with other options never
 * reads a stale one. Held-out pairs keep the SFT model as their reference.
 */
function referenceSync(o: DpoConfig, key: string, trainRows: Rows, T: number, ref: { train: Float32Array }, log: (l: string) => void): ((gpt: GPT, step: number) => Promise<void>) | undefined {
  const N = o.ref_sync_steps;
  if (!N) return undefined;
  let syncedAt = 0;
  return async (gpt, step) => {
    const at = Math.floor(step / N) * N;
    if (at === syncedAt) return;
    const file = join(o.out, `reference-step-${at}.json`);
    if (step === at) {
      const started = performance.now();
      ref.train = await allLogProbs(gpt, trainRows, 2 * o.batch_size, T);
      writeFileSync(file, `${JSON.stringify({ key, step: at, train: Array.from(ref.train) })}\n`);
      log(`dpo: step ${at}: the reference is now the policy (its log-probabilities of ${trainRows.rows} answers in ${((performance.now() - started) / 1000).toFixed(1)} s -> ${file})`);
    } else {
      const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { key: string; step: number; train: number[] }) : null;
      if (!stored || stored.key !== key || stored.step !== at) {
        throw new UserError(`refinery dpo: resuming at step ${step} needs the reference synced at step ${at} (${file}), which is missing or from other data; rerun with --no-resume`);
      }
      ref.train = Float32Array.from(stored.train);
      log(`dpo: the reference synced at step ${at} from ${file}`);
    }
    syncedAt = at;
  };
}

export interface DpoResult extends TrainResult {
  pairs: number;
  before: PreferenceScore | null;
  after: PreferenceScore | null;
}

export async function dpo(o: DpoConfig, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<DpoResult> {
  const start = openChatStart(o.from, o.tokenizer, 'refinery dpo');
  const { model, tokenizer } = start;
  const T = model.context;
  const trainPairs = spreadEvenly(readJsonl(o.data, parsePair), o.max_examples);
  const valPairs = o.val_data ? spreadEvenly(readJsonl(o.val_data, parsePair), o.max_val_examples) : [];
  const sets = { train: pairRows(trainPairs, tokenizer, T), val: pairRows(valPairs, tokenizer, T) };
  const valWhole = wholePairs(valPairs, tokenizer, T);
  const { beta, batch_size: B } = o;
  const c = loopConfig({ ...o, val_data: undefined }, model);
  let before: PreferenceScore | null = null;
  let after: PreferenceScore | null = null;
  const r = await train(c, log, async () => {
    await useBackend(c.backend, c.native, c.threads);
    const reference = new GPT(model, start.weights);
    const key = referenceKey(o, sets);
    const ref = await referenceLogProbs(o, key, reference, sets, T, log);
    // The policy starts as the reference: its held-out score before the first step needs no second pass.
    if (valPairs.length) before = preferenceOf(ref.val, sets.val, ref.val, beta, valWhole);
    reference.dispose();
    const P = trainPairs.length;
    const evaluate = async (gpt: GPT): Promise<Evaluation> => {
      const s = (after = await scorePairs(gpt, sets.val, ref.val, beta, B, T, valWhole));
      return {
        loss: s.loss,
        fields: { val_loss: Number(s.loss.toFixed(5)), val_margin: Number(s.margin.toFixed(4)), val_reward_acc: Number(s.reward_acc.toFixed(4)), val_pref_acc: Number(s.pref_acc.toFixed(4)), val_pref_acc_per_token: Number(s.pref_acc_per_token.toFixed(4)), val_ties: s.ties },
        text: `held-out DPO loss ${s.loss.toFixed(4)}, reward margin ${s.margin.toFixed(3)}, reward accuracy ${(100 * s.reward_acc).toFixed(1)}%, preference accuracy ${(100 * s.pref_acc).toFixed(1)}% (per token ${(100 * s.pref_acc_per_token).toFixed(1)}%${s.ties ? `, ${s.ties} ties counted half` : ''}${s.cut ? `; ${s.cut} pairs with a cut answer left out` : ''})`,
      };
    };
    const objective: Objective<PairBatch> = {
      batch: (step, micro) => pairBatch(sets.train, ref.train, epochRows(P, c.seed, step, micro, B, c.grad_accum), T),
      loss: (gpt, b) => dpoLoss(sequenceLogProbs(gpt, b, T), b.reference, beta, o.sft_weight ? { weight: o.sft_weight, chosenTokens: chosenTokens(b, T) } : undefined),
      evaluate: valPairs.length ? evaluate : null,
      beforeStep: referenceSync(o, key, sets.train, T, ref, log),
    };
    return {
      model,
      tokenizer: start.tokenizerFile,
      tokenizerId: start.tokenizerId,
      objective: objective as Objective,
      start: () => start.weights,
      describe: [
        `dpo: ${P} preference pairs (${sets.train.cut} answers cut at the context), beta ${beta}${o.sft_weight ? `, chosen answers' NLL weighted ${o.sft_weight}` : ''}${o.ref_sync_steps ? `, the reference synced to the policy every ${o.ref_sync_steps} steps` : ''}; ${valPairs.length} held-out pairs` +
          (before ? `: the SFT model prefers the chosen answer in ${(100 * (before as PreferenceScore).pref_acc).toFixed(1)}%` : ''),
      ],
    };
  });
  // Beside metrics.jsonl: held-out preference before the first step (the SFT model) and after the last, for reports to read.
  if (before || after) writeFileSync(join(o.out, 'preference.json'), `${JSON.stringify({ pairs: valPairs.length, before, after })}\n`);
  return { ...r, pairs: trainPairs.length, before, after };
}
