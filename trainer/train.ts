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
import { useBackend, type Backend } from './backend.js';
import { checkSameTokenizer, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { evalBatch, openTokens, trainBatch, type Batch, type TokenStream } from './data.js';
import { GPT, flopsPerToken, initialValues, parameterCount, type ModelConfig } from './model.js';
import { mm, releaseKept } from './ops.js';
import { AdamW, learningRate } from './optimizer.js';
import { lossSvg, type MetricLine } from './report.js';

/** The backend's matrix-product speed in FLOP/s, on a product shaped like the model's MLP. */
export function calibrate(rows: number, d: number, seconds = 0.5): number {
  return tf.tidy(() => {
    const a = tf.randomNormal([rows, d]);
    const b = tf.randomNormal([d, 4 * d]);
    mm(a, b).dataSync();
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      const c = mm(a, b);
      c.dataSync();
      c.dispose();
      n++;
    }
    releaseKept();
    return (2 * rows * d * 4 * d * n) / ((performance.now() - start) / 1000);
  });
}

const toTensors = (b: Batch, B: number, T: number) => [tf.tensor2d(b.ids, [B, T], 'int32'), tf.tensor2d(b.targets, [B, T], 'int32')] as const;

/** Mean validation loss over the fixed evaluation batches. */
export function evaluate(model: GPT, val: TokenStream, batches: number, B: number, T: number): number {
  let sum = 0;
  for (let j = 0; j < batches; j++) {
    sum += tf.tidy(() => {
      const [x, y] = toTensors(evalBatch(val, j, batches, B, T), B, T);
      return model.loss(x, y).dataSync()[0];
    });
    releaseKept();
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

export async function train(c: TrainConfig, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<TrainResult> {
  const backend: Backend = await useBackend(c.backend, c.native, c.threads);
  const data = openTokens(c.data, 'train');
  if (!data) throw new UserError(`${c.data}: no training token shards`);
  const val = c.val_data ? openTokens(c.val_data, 'val') : openTokens(c.data, 'val', false);
  if (c.val_data && !val) throw new UserError(`${c.val_data}: no validation token shards`);
  const model: ModelConfig = { vocab_size: c.vocab_size ?? data.vocabSize, context: c.context, d_model: c.d_model, layers: c.layers, heads: c.heads };
  if (model.vocab_size < data.vocabSize) throw new UserError(`--vocab-size ${model.vocab_size} is smaller than the token shards' vocabulary (${data.vocabSize})`);
  if (model.d_model % model.heads !== 0) throw new UserError(`--d-model ${model.d_model} is not divisible by --heads ${model.heads}`);
  mkdirSync(c.out, { recursive: true });
  const ckptDir = join(c.out, 'checkpoint');
  const metricsFile = join(c.out, 'metrics.jsonl');

  let step = 0;
  let tokens = 0;
  let seconds = 0;
  let gpt: GPT;
  let opt: AdamW;
  if (c.resume && existsSync(join(ckptDir, 'state.json'))) {
    const ck = loadCheckpoint(ckptDir);
    if (JSON.stringify(ck.state.model) !== JSON.stringify(model)) throw new UserError(`${ckptDir}: a checkpoint of another model (${JSON.stringify(ck.state.model)}); use another --out or --no-resume`);
    checkSameTokenizer(ckptDir, ck.state, data.tokenizerId);
    gpt = new GPT(model, ck.weights);
    opt = new AdamW(gpt.params, c, { t: ck.state.adam_t, m: ck.m, v: ck.v });
    [step, tokens, seconds] = [ck.state.step, ck.state.tokens, ck.state.seconds];
    // Metrics after the checkpoint were never checkpointed: drop them so the file continues exactly.
    if (existsSync(metricsFile)) {
      const kept = readFileSync(metricsFile, 'utf8').split('\n').filter((l) => l && (JSON.parse(l) as MetricLine).step <= step);
      writeFileSync(metricsFile, kept.map((l) => `${l}\n`).join(''));
    }
    log(`train: resumed from ${ckptDir} at step ${step}`);
  } else if (c.resume_from) {
    const ck = loadCheckpoint(c.resume_from);
    if (JSON.stringify(ck.state.model) !== JSON.stringify(model)) throw new UserError(`${c.resume_from}: a checkpoint of another model (${JSON.stringify(ck.state.model)}) than this config's (${JSON.stringify(model)})`);
    checkSameTokenizer(c.resume_from, ck.state, data.tokenizerId);
    gpt = new GPT(model, ck.weights);
    opt = new AdamW(gpt.params, c, { t: ck.state.adam_t, m: ck.m, v: ck.v });
    writeFileSync(metricsFile, '');
    log(`train: starting from ${c.resume_from} (its step ${ck.state.step}, ${ck.state.tokens.toLocaleString('en')} tokens)`);
  } else {
    gpt = new GPT(model, initialValues(model, c.seed));
    opt = new AdamW(gpt.params, c);
    writeFileSync(metricsFile, '');
  }
  const anneal = c.anneal_data ? openTokens(c.anneal_data, 'train') : null;
  if (c.anneal_data && !anneal) throw new UserError(`${c.anneal_data}: no token shards to anneal on`);
  if (anneal && anneal.tokenizerId !== data.tokenizerId) throw new UserError(`${c.anneal_data}: made by another tokenizer than ${c.data}`);
  // Annealing: the whole run when it continues a checkpoint, else WSD's decay phase (or the cosine's last share).
  const annealFrom = c.resume_from ? 0 : c.steps - Math.max(1, Math.round(c.steps * c.decay_frac));
  if (anneal) log(`train: annealing on ${c.anneal_data} (${Math.round(c.anneal_share * 100)}% of each batch) from step ${annealFrom + 1}`);
  const B = c.batch_size;
  const T = c.context;
  const perStep = B * T * c.grad_accum;
  const flops = flopsPerToken(model);
  const peak = c.peak_flops ?? calibrate(B * T, model.d_model);
  const params = parameterCount(model);
  log(`train: ${params.toLocaleString('en')} parameters (${model.layers} layers, d ${model.d_model}, ${model.heads} heads, context ${T}, vocabulary ${model.vocab_size}); backend ${backend.label}; matrix-product peak ${(peak / 1e9).toFixed(1)} GFLOP/s`);
  log(`train: ${data.tokens.length.toLocaleString('en')} training tokens${val ? `, ${val.tokens.length.toLocaleString('en')} validation tokens` : ', no validation split'}; ${perStep.toLocaleString('en')} tokens per step, ${c.steps} steps`);

  const vars = [...gpt.params.values()];
  const write = (line: MetricLine) => appendFileSync(metricsFile, `${JSON.stringify(line)}\n`);
  const save = () =>
    saveCheckpoint(ckptDir, {
      state: { format: 'refinery-gpt-1', model, step, tokens, seconds, adam_t: opt.t, tokenizer: data.tokenizer, tokenizer_id: data.tokenizerId, config: c },
      weights: gpt.values(),
      ...opt.state(),
    });
  let lastLoss = Number.NaN;
  let lastVal: number | null = null;
  let windowTokens = 0;
  let windowSeconds = 0;
  let tokensPerS = 0;
  const bpb = (loss: number) => (val?.bytesPerToken ? loss / Math.LN2 / val.bytesPerToken : null);
  const startTensors = tf.memory().numTensors;
  const firstStep = step;
  while (step < c.steps) {
    if (c.max_seconds !== undefined && seconds >= c.max_seconds) break;
    if (c.stop_after !== undefined && step - firstStep >= c.stop_after) break;
    const started = performance.now();
    const lr = learningRate(c, step);
    let lossSum = 0;
    let summed: Record<string, tf.Tensor> | null = null;
    for (let micro = 0; micro < c.grad_accum; micro++) {
      const blend = anneal && step >= annealFrom ? { stream: anneal, share: c.anneal_share } : undefined;
      const batch = trainBatch(data, c.seed, step, micro, B, T, blend);
      const { value, grads } = tf.tidy(() => {
        const [x, y] = toTensors(batch, B, T);
        return tf.variableGrads(() => gpt.loss(x, y), vars);
      });
      releaseKept();
      lossSum += value.dataSync()[0];
      value.dispose();
      if (!summed) summed = grads;
      else {
        const prev: Record<string, tf.Tensor> = summed;
        summed = Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, tf.add(prev[n], g)]));
        tf.dispose([...Object.values(prev), ...Object.values(grads)]);
      }
    }
    const grads = summed as Record<string, tf.Tensor>;
    if (c.grad_accum > 1) {
      for (const [n, g] of Object.entries(grads)) {
        grads[n] = tf.div(g, c.grad_accum);
        g.dispose();
      }
    }
    const gradNorm = opt.step(grads, lr);
    tf.dispose(Object.values(grads));
    lastLoss = lossSum / c.grad_accum;
    if (!Number.isFinite(lastLoss)) throw new Error(`train: the loss is ${lastLoss} at step ${step + 1}; lower --lr`);
    const dt = (performance.now() - started) / 1000;
    step++;
    tokens += perStep;
    seconds += dt;
    windowTokens += perStep;
    windowSeconds += dt;
    const line: MetricLine = { step, tokens, loss: Number(lastLoss.toFixed(5)), lr: Number(lr.toPrecision(4)), grad_norm: Number(gradNorm.toPrecision(4)) };
    const evalNow = val && (step % c.eval_every === 0 || step === c.steps);
    if (step % c.log_every === 0 || evalNow || step === c.steps) {
      tokensPerS = windowTokens / windowSeconds;
      Object.assign(line, { tokens_per_s: Math.round(tokensPerS), mfu: Number(((tokensPerS * flops) / peak).toFixed(4)), seconds: Number(seconds.toFixed(2)) });
      windowTokens = 0;
      windowSeconds = 0;
      if (evalNow && val) {
        lastVal = evaluate(gpt, val, c.eval_batches, B, T);
        const b = bpb(lastVal);
        Object.assign(line, { val_loss: Number(lastVal.toFixed(5)), val_ppl: Number(Math.exp(lastVal).toFixed(3)), ...(b === null ? {} : { val_bpb: Number(b.toFixed(4)) }) });
      }
      write(line);
      log(`step ${step}/${c.steps}: loss ${lastLoss.toFixed(4)}${line.val_loss !== undefined ? `, val ${Number(line.val_loss).toFixed(4)} (ppl ${line.val_ppl}${line.val_bpb !== undefined ? `, ${line.val_bpb} bits/byte` : ''})` : ''}, lr ${lr.toExponential(2)}, ${Math.round(tokensPerS)} tokens/s, MFU ${(100 * (tokensPerS * flops) / peak).toFixed(1)}%`);
    }
    if (step % c.checkpoint_every === 0 || step === c.steps) save();
    if (step === 2) {
      // After the first steps every tensor that lives across steps exists: the count must not grow.
      const now = tf.memory().numTensors;
      if (now > startTensors + 4 * vars.length) log(`train: warning: ${now - startTensors} tensors more than at the start`);
    }
  }
  if (step < c.steps) save();
  const lines = readFileSync(metricsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as MetricLine);
  writeFileSync(join(c.out, 'loss.svg'), lossSvg(lines, `${params.toLocaleString('en')}-parameter GPT: loss by step`));
  const result: TrainResult = {
    steps: step,
    tokens,
    seconds,
    loss: lastLoss,
    val_loss: lastVal,
    val_bpb: lastVal === null ? null : bpb(lastVal),
    tokens_per_s: tokensPerS,
    mfu: tokensPerS ? (tokensPerS * flops) / peak : null,
    backend: backend.label,
    parameters: params,
  };
  gpt.dispose();
  opt.dispose();
  return result;
}
