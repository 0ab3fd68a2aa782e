/**
 * The training loop, top to bottom: data, model, optimizer (resumed from out/checkpoint when
 * there is one), then for each step: micro-batches -> gradients -> clip -> AdamW at the
 * scheduled rate; every log_every steps a metrics line (loss, lr, gradient norm, tokens/s,
 * MFU), every eval_every steps validation loss, perplexity and bits per byte, every
 * checkpoint_every steps a checkpoint. Metrics go to out/metrics.jsonl, the curve to out/loss.svg.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../pipeline/core/errors.js';
import { useBackend, usePrecision, type Backend } from './backend.js';
import { checkSameTokenizer, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { evalBatch, openTokens, trainBatch, type Batch, type TokenStream } from './data.js';
import { GPT, flopsPerToken, initialValues, parameterCount, readValues, type ModelConfig } from './model.js';
import { mm, releaseKept } from './ops.js';
import { LossScaler } from './loss-scale.js';
import { AdamW, gradientNorm, learningRate } from './optimizer.js';
import { lossSvg, readMetrics, type MetricLine } from './report.js';

/** The backend's matrix-product speed in FLOP/s, on a product shaped like the model's MLP. */
export async function calibrate(rows: number, d: number, seconds = 0.5): Promise<number> {
  const a = tf.randomNormal([rows, d]);
  const b = tf.randomNormal([d, 4 * d]);
  // The CPU backends (tfjs's cpu and wasm, the native kernels) compute a product before mm returns: nothing is
  // read back, which cost more than the product (copying out a [2,048, 512] result ~10 ms against ~4; even a
  // one-element slice, ~17 ms on WebAssembly). A GPU queues it: one element is read, asynchronously (WebGPU reads
  // no other way), so the product's time is counted whole.
  const onGpu = tf.getBackend() === 'webgpu';
  const product = async () => {
    const c = mm(a, b);
    if (onGpu) {
      const first = tf.slice(c, [0, 0], [1, 1]);
      await first.data();
      first.dispose();
    }
    c.dispose();
  };
  await product();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await product();
    n++;
  }
  releaseKept();
  tf.dispose([a, b]);
  return (2 * rows * d * 4 * d * n) / ((performance.now() - start) / 1000);
}

const toTensors = (b: Batch, B: number, T: number) => [tf.tensor2d(b.ids, [B, T], 'int32'), tf.tensor2d(b.targets, [B, T], 'int32')] as const;

/** A batch's tensors, its row count read from its length (rows of the context's length). */
export function batchTensors(b: Batch, T: number): { ids: tf.Tensor2D; targets: tf.Tensor2D; weights?: tf.Tensor2D } {
  const rows = b.ids.length / T;
  const [ids, targets] = toTensors(b, rows, T);
  return { ids, targets, ...(b.weights ? { weights: tf.tensor2d(b.weights, [rows, T], 'float32') } : {}) };
}

/** Mean validation loss over the fixed evaluation batches. */
export async function evaluate(model: GPT, val: TokenStream, batches: number, B: number, T: number): Promise<number> {
  let sum = 0;
  for (let j = 0; j < batches; j++) {
    const loss = tf.tidy(() => {
      const [x, y] = toTensors(evalBatch(val, j, batches, B, T), B, T);
      return model.loss(x, y);
    });
    releaseKept();
    sum += (await loss.data())[0];
    loss.dispose();
  }
  return sum / batches;
}

export interface TrainResult {
  steps: number;
  tokens: number;
  seconds: number;
  loss: number;
  val_loss: number | null;
  val_bpb: number | null;
  tokens_per_s: number;
  mfu: number | null;
  backend: string;
  parameters: number;
}

/** Held-out metrics: the fields of the metrics line, their text for the log, and the loss. */
export interface Evaluation {
  loss: number;
  fields: Record<string, number>;
  text: string;
}

/**
 * What a run minimises: its batches (fixed by step and micro-batch, so a resumed run sees the
 * same ones), the loss of a batch, and its held-out evaluation. Pretraining's is next-token
 * prediction on token shards; SFT (sft.ts) weighs the assistant's tokens only, DPO (dpo.ts)
 * compares chosen and rejected answers. One loop serves them all.
 */
export interface Objective<B extends Batch = Batch> {
  batch(step: number, micro: number): B;
  loss(gpt: GPT, b: B): tf.Scalar;
  /** Held-out evaluation; asynchronous, since a GPU backend's tensors are read only so. */
  evaluate: ((gpt: GPT) => Promise<Evaluation>) | null;
  /** Called before each step (`step` steps done), also the first of a resumed run: DPO's reference sync. Not counted in the step's time. */
  beforeStep?: (gpt: GPT, step: number) => Promise<void>;
}

/** A run other than pretraining (sft.ts, dpo.ts): its model, tokenizer, objective and starting weights. */
export interface Task {
  model: ModelConfig;
  tokenizer: string | null;
  tokenizerId: string;
  objective: Objective;
  /** Lines for the log: what the run trains on. */
  describe: string[];
  /** The weights a fresh run starts from (a fresh optimizer with them). */
  start: () => Map<string, Float32Array>;
}

/** The data and the model's shape, checked against each other before anything is written. */
interface Setup {
  model: ModelConfig;
  ckptDir: string;
  metricsFile: string;
  tokenizer: string | null;
  tokenizerId: string;
  objective: Objective;
  describe: string[];
  start?: () => Map<string, Float32Array>;
}

/** Pretraining: next-token prediction on windows of the token shards, blended with the anneal data from `annealFrom` on. */
function pretraining(c: TrainConfig, data: TokenStream, val: TokenStream | null, anneal: TokenStream | null, annealFrom: number): Objective {
  const B = c.batch_size;
  const T = c.context;
  return {
    batch: (step, micro) => trainBatch(data, c.seed, step, micro, B, T, anneal && step >= annealFrom ? { stream: anneal, share: c.anneal_share } : undefined),
    loss: (gpt, b) => {
      const [x, y] = toTensors(b, B, T);
      return gpt.loss(x, y);
    },
    evaluate: val
      ? async (gpt) => {
          const loss = await evaluate(gpt, val, c.eval_batches, B, T);
          const b = bitsPerByte(val, loss);
          const fields = { val_loss: Number(loss.toFixed(5)), val_ppl: Number(Math.exp(loss).toFixed(3)), ...(b === null ? {} : { val_bpb: Number(b.toFixed(4)) }) };
          return { loss, fields, text: `val ${loss.toFixed(4)} (ppl ${fields.val_ppl}${b !== null ? `, ${fields.val_bpb} bits/byte` : ''})` };
        }
      : null,
  };
}

function setup(c: TrainConfig, task?: Task): Setup {
  const ckptDir = join(c.out, 'checkpoint');
  const metricsFile = join(c.out, 'metrics.jsonl');
  if (task) {
    mkdirSync(c.out, { recursive: true });
    return { ...task, ckptDir, metricsFile };
  }
  const data = openTokens(c.data, 'train');
  if (!data) throw new UserError(`${c.data}: no training token shards`);
  const val = c.val_data ? openTokens(c.val_data, 'val') : openTokens(c.data, 'val', false);
  if (c.val_data && !val) throw new UserError(`${c.val_data}: no validation token shards`);
  const model: ModelConfig = { vocab_size: c.vocab_size ?? data.vocabSize, context: c.context, d_model: c.d_model, layers: c.layers, heads: c.heads };
  if (model.vocab_size < data.vocabSize) throw new UserError(`--vocab-size ${model.vocab_size} is smaller than the token shards' vocabulary (${data.vocabSize})`);
  if (model.d_model % model.heads !== 0) throw new UserError(`--d-model ${model.d_model} is not divisible by --heads ${model.heads}`);
  const anneal = c.anneal_data ? openTokens(c.anneal_data, 'train') : null;
  if (c.anneal_data && !anneal) throw new UserError(`${c.anneal_data}: no token shards to anneal on`);
  if (anneal && anneal.tokenizerId !== data.tokenizerId) throw new UserError(`${c.anneal_data}: made by another tokenizer than ${c.data}`);
  mkdirSync(c.out, { recursive: true });
  // Annealing: the whole run when it continues a checkpoint, else WSD's decay phase (or the cosine's last share).
  const annealFrom = c.resume_from ? 0 : c.steps - Math.max(1, Math.round(c.steps * c.decay_frac));
  const describe = [`train: ${data.tokens.length.toLocaleString('en')} training tokens${val ? `, ${val.tokens.length.toLocaleString('en')} validation tokens` : ', no validation split'}; ${(c.batch_size * c.context * c.grad_accum).toLocaleString('en')} tokens per step, ${c.steps} steps`];
  if (anneal) describe.push(`train: annealing on ${c.anneal_data} (${Math.round(c.anneal_share * 100)}% of each batch) from step ${annealFrom + 1}`);
  return { model, ckptDir, metricsFile, tokenizer: data.tokenizer, tokenizerId: data.tokenizerId, objective: pretraining(c, data, val, anneal, annealFrom), describe };
}

/** Where training stands: the model, its optimizer, and the counters a checkpoint keeps. */
interface Progress {
  gpt: GPT;
  opt: AdamW;
  step: number;
  tokens: number;
  seconds: number;
  /** --precision f16: the loss scale (null in f32). */
  scaler?: LossScaler | null;
}

/**
 * A fresh model, or one continued from a checkpoint: with --resume this run's own (when
 * out/checkpoint exists), counters and all, metrics.jsonl cut back to its step; with
 * --resume-from another run's weights and optimizer state, the counters starting again.
 */
function resumeOrInit(c: TrainConfig, s: Setup, log: (l: string) => void): Progress {
  const own = c.resume && existsSync(join(s.ckptDir, 'state.json'));
  const from = own ? s.ckptDir : c.resume_from;
  if (!from) {
    const gpt = new GPT(s.model, s.start ? s.start() : initialValues(s.model, c.seed));
    writeFileSync(s.metricsFile, '');
    return { gpt, opt: new AdamW(gpt.params, c), step: 0, tokens: 0, seconds: 0 };
  }
  const ck = loadCheckpoint(from);
  if (JSON.stringify(ck.state.model) !== JSON.stringify(s.model)) {
    const other = `a checkpoint of another model (${JSON.stringify(ck.state.model)})`;
    throw new UserError(own ? `${from}: ${other}; use another --out or --no-resume` : `${from}: ${other} than this config's (${JSON.stringify(s.model)})`);
  }
  checkSameTokenizer(from, ck.state, s.tokenizerId);
  const gpt = new GPT(s.model, ck.weights);
  const opt = new AdamW(gpt.params, c, { t: ck.state.adam_t, m: ck.m, v: ck.v });
  if (!own) {
    writeFileSync(s.metricsFile, '');
    log(`train: starting from ${from} (its step ${ck.state.step}, ${ck.state.tokens.toLocaleString('en')} tokens)`);
    return { gpt, opt, step: 0, tokens: 0, seconds: 0 };
  }
  const { step, tokens, seconds } = ck.state;
  // Metrics after the checkpoint were never checkpointed: drop them so the file continues exactly.
  if (existsSync(s.metricsFile)) {
    const kept = readFileSync(s.metricsFile, 'utf8').split('\n').filter((l) => l && (JSON.parse(l) as MetricLine).step <= step);
    writeFileSync(s.metricsFile, kept.map((l) => `${l}\n`).join(''));
  }
  log(`train: resumed from ${from} at step ${step}`);
  return { gpt, opt, step, tokens, seconds };
}

/**
 * One optimizer step: the objective's micro-batches -> gradients, averaged over the
 * micro-batches -> clip -> AdamW at the scheduled rate.
 */
async function optimizerStep(c: TrainConfig, s: Setup, p: Progress): Promise<{ loss: number; lr: number; gradNorm: number; tokens: number }> {
  const vars = [...p.gpt.params.values()];
  const lr = learningRate(c, p.step);
  let lossSum = 0;
  let tokens = 0;
  let summed: Record<string, tf.Tensor> | null = null;
  for (let micro = 0; micro < c.grad_accum; micro++) {
    const batch = s.objective.batch(p.step, micro);
    tokens += batch.ids.length;
    const scale = p.scaler?.scale ?? 1;
    const { value, grads } = tf.tidy(() => tf.variableGrads(() => (scale === 1 ? s.objective.loss(p.gpt, batch) : tf.mul(s.objective.loss(p.gpt, batch), scale)), vars));
    releaseKept();
    lossSum += (await value.data())[0] / scale;
    value.dispose();
    if (!summed) summed = grads;
    else {
      const prev: Record<string, tf.Tensor> = summed;
      summed = Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, tf.add(prev[n], g)]));
      tf.dispose([...Object.values(prev), ...Object.values(grads)]);
    }
  }
  const grads = summed as Record<string, tf.Tensor>;
  // Averaged over micro-batches, and the loss scale taken out.
  const divisor = c.grad_accum * (p.scaler?.scale ?? 1);
  if (divisor !== 1) {
    for (const [n, g] of Object.entries(grads)) {
      grads[n] = tf.div(g, divisor);
      g.dispose();
    }
  }
  const norm = await gradientNorm(grads);
  if (p.scaler && !p.scaler.update(Number.isFinite(norm))) {
    // An overflow in 16 bits: no update this step, a smaller scale for the next.
    tf.dispose(Object.values(grads));
    return { loss: lossSum / c.grad_accum, lr, gradNorm: norm, tokens };
  }
  const gradNorm = p.opt.step(grads, lr, norm);
  tf.dispose(Object.values(grads));
  return { loss: lossSum / c.grad_accum, lr, gradNorm, tokens };
}

/** The metrics of the steps since the last line: throughput, and the latest losses. */
interface Meter {
  windowTokens: number;
  windowSeconds: number;
  tokensPerS: number;
  loss: number;
  val: Evaluation | null;
}

/**
 * After a step: every log_every steps (and at an evaluation or the last step) a metrics line
 * with throughput and MFU; every eval_every steps validation loss, perplexity and bits per byte.
 */
async function record(c: TrainConfig, s: Setup, p: Progress, m: Meter, done: { lr: number; gradNorm: number }, costs: { flops: number; peak: number }, log: (l: string) => void): Promise<void> {
  const { step } = p;
  const line: MetricLine = { step, tokens: p.tokens, loss: Number(m.loss.toFixed(5)), lr: Number(done.lr.toPrecision(4)), grad_norm: Number(done.gradNorm.toPrecision(4)) };
  const evaluateNow = s.objective.evaluate;
  const evalNow = evaluateNow && (step % c.eval_every === 0 || step === c.steps);
  if (step % c.log_every === 0 || evalNow || step === c.steps) {
    m.tokensPerS = m.windowTokens / m.windowSeconds;
    const mfu = (m.tokensPerS * costs.flops) / costs.peak;
    Object.assign(line, { tokens_per_s: Math.round(m.tokensPerS), mfu: Number(mfu.toFixed(4)), seconds: Number(p.seconds.toFixed(2)) });
    m.windowTokens = 0;
    m.windowSeconds = 0;
    let evalText = '';
    if (evalNow) {
      m.val = await evaluateNow(p.gpt);
      Object.assign(line, m.val.fields);
      evalText = `, ${m.val.text}`;
    }
    appendFileSync(s.metricsFile, `${JSON.stringify(line)}\n`);
    log(`step ${step}/${c.steps}: loss ${m.loss.toFixed(4)}${evalText}, lr ${done.lr.toExponential(2)}, ${Math.round(m.tokensPerS)} tokens/s, MFU ${(100 * mfu).toFixed(1)}%`);
  }
}

const bitsPerByte = (val: TokenStream | null, loss: number) => (val?.bytesPerToken ? loss / Math.LN2 / val.bytesPerToken : null);

/**
 * Train: pretraining on c.data's token shards, or with `task` (made once the backend is up)
 * another objective in the same loop, with the same checkpoints, resume and metrics.
 */
export async function train(c: TrainConfig, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`), task?: () => Task | Promise<Task>): Promise<TrainResult> {
  const backend: Backend = await useBackend(c.backend, c.native, c.threads);
  await usePrecision(c.precision, backend);
  const s = setup(c, task ? await task() : undefined);
  const p = resumeOrInit(c, s, log);
  if (c.precision === 'f16') p.scaler = new LossScaler();
  const { model } = s;
  const B = c.batch_size;
  const T = c.context;
  const costs = { flops: flopsPerToken(model), peak: c.peak_flops ?? (await calibrate(B * T, model.d_model)) };
  const params = parameterCount(model);
  log(`train: ${params.toLocaleString('en')} parameters (${model.layers} layers, d ${model.d_model}, ${model.heads} heads, context ${T}, vocabulary ${model.vocab_size}); backend ${backend.label}${c.precision === 'f16' ? ', f16 matrix products' : ''}; matrix-product peak ${(costs.peak / 1e9).toFixed(1)} GFLOP/s`);
  for (const l of s.describe) log(l);

  const save = async () =>
    saveCheckpoint(s.ckptDir, {
      state: { format: 'refinery-gpt-1', model, step: p.step, tokens: p.tokens, seconds: p.seconds, adam_t: p.opt.t, tokenizer: s.tokenizer, tokenizer_id: s.tokenizerId, config: c },
      weights: await readValues(p.gpt.params),
      m: await readValues(p.opt.m),
      v: await readValues(p.opt.v),
    });
  const m: Meter = { windowTokens: 0, windowSeconds: 0, tokensPerS: 0, loss: Number.NaN, val: null };
  const startTensors = tf.memory().numTensors;
  const firstStep = p.step;
  while (p.step < c.steps) {
    if (c.max_seconds !== undefined && p.seconds >= c.max_seconds) break;
    if (c.stop_after !== undefined && p.step - firstStep >= c.stop_after) break;
    await s.objective.beforeStep?.(p.gpt, p.step);
    const started = performance.now();
    const done = await optimizerStep(c, s, p);
    m.loss = done.loss;
    if (!Number.isFinite(m.loss)) throw new Error(`train: the loss is ${m.loss} at step ${p.step + 1}; lower --lr`);
    const dt = (performance.now() - started) / 1000;
    p.step++;
    p.tokens += done.tokens;
    p.seconds += dt;
    m.windowTokens += done.tokens;
    m.windowSeconds += dt;
    await record(c, s, p, m, done, costs, log);
    if (p.step % c.checkpoint_every === 0 || p.step === c.steps) await save();
    if (p.step === 2) {
      // After the first steps every tensor that lives across steps exists: the count must not grow.
      const now = tf.memory().numTensors;
      if (now > startTensors + 4 * p.gpt.params.size) log(`train: warning: ${now - startTensors} tensors more than at the start`);
    }
  }
  if (p.step < c.steps) await save();
  writeFileSync(join(c.out, 'loss.svg'), lossSvg(readMetrics(s.metricsFile), `${params.toLocaleString('en')}-parameter GPT: loss by step`));
  const result: TrainResult = {
    steps: p.step,
    tokens: p.tokens,
    seconds: p.seconds,
    loss: m.loss,
    val_loss: m.val?.loss ?? null,
    val_bpb: m.val?.fields.val_bpb ?? null,
    tokens_per_s: m.tokensPerS,
    mfu: m.tokensPerS ? (m.tokensPerS * costs.flops) / costs.peak : null,
    backend: backend.label,
    parameters: params,
  };
  p.gpt.dispose();
  p.opt.dispose();
  return result;
}
