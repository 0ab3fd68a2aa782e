/**
 * What the trainer's tests share: a tiny model, random batches, a token stream with structure,
 * and the GPT's gradients against central finite differences on whichever backend is in force
 * (every entry of the attention projections, a few of every other parameter). Tensors are read
 * with `await data()`, which every backend (WebGPU included) allows.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { Random } from '../../pipeline/core/random.js';
import { TokenShardWriter } from '../../pipeline/tokenize/token-shards.js';
import { GPT, initialValues, type ModelConfig } from '../../trainer/model.js';
import { releaseKept } from '../../trainer/ops.js';
import { AdamW, gradientNorm } from '../../trainer/optimizer.js';

export const tinyModel: ModelConfig = { vocab_size: 11, context: 6, d_model: 8, layers: 2, heads: 2 };

/** B random sequences and targets of the config's context length. */
export function randomBatch(c: ModelConfig, B: number, seed: number): readonly [tf.Tensor2D, tf.Tensor2D] {
  const r = new Random(seed);
  const ids = Int32Array.from({ length: B * c.context }, () => r.int(0, c.vocab_size - 1));
  const targets = Int32Array.from({ length: B * c.context }, () => r.int(0, c.vocab_size - 1));
  return [tf.tensor2d(ids, [B, c.context], 'int32'), tf.tensor2d(targets, [B, c.context], 'int32')] as const;
}

/** A noisy counter (so the loss has somewhere to go) as token shards in dir, vocabulary 24; returns dir. */
export function writeCounterTokens(dir: string, tokenizer = 'test'): string {
  mkdirSync(dir, { recursive: true });
  const w = new TokenShardWriter(join(dir, 'part-00000.arrow'), { tokenizer, vocabSize: 24, endOfText: 23 });
  const r = new Random(4);
  const ids: number[] = [];
  for (let i = 0; i < 6000; i++) ids.push(r.chance(0.1) ? r.int(0, 22) : (i * 3) % 23);
  w.write(ids);
  w.publish();
  return dir;
}

const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;

/**
 * Checks every parameter's gradient: `attentionProbes` entries of each attention projection
 * (all of them by default), 3 of every other parameter, to 1e-3 + `relative` of the gradient.
 * Returns how many entries were checked.
 */
export async function checkGradients(c: ModelConfig = tinyModel, attentionProbes = Infinity, relative = 0.03): Promise<number> {
  // Weights 20x GPT-2's scale, so attention is far from uniform and every path carries gradient.
  const values = initialValues(c, 3);
  for (const [n, v] of values) if (!/\.g$/.test(n)) for (let i = 0; i < v.length; i++) v[i] = v[i] * 20 + (/\.b$/.test(n) ? 0.1 * Math.sin(i) : 0);
  const model = new GPT(c, values);
  const [x, y] = randomBatch(c, 2, 5);
  const vars = [...model.params.values()];
  const { value, grads } = tf.variableGrads(() => model.loss(x, y), vars);
  releaseKept();
  value.dispose();
  const loss = async () => {
    const l = tf.tidy(() => model.loss(x, y));
    releaseKept();
    const [v] = await read(l);
    l.dispose();
    return v;
  };
  const random = new Random(11);
  const eps = 1e-2;
  let checked = 0;
  for (const [pname, v] of model.params) {
    const g = await read(grads[v.name]);
    const base = (await read(v)).slice();
    const all = /attn\.w$/.test(pname) && attentionProbes >= base.length;
    const count = /attn\.w$/.test(pname) ? attentionProbes : 3;
    const probes = all ? Array.from(base.keys()) : Array.from({ length: count }, () => random.int(0, base.length - 1));
    for (const i of probes) {
      const at = async (delta: number) => {
        const moved = base.slice();
        moved[i] += delta;
        v.assign(tf.tensor(moved, v.shape));
        return loss();
      };
      const fd = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      v.assign(tf.tensor(base, v.shape));
      expect(Math.abs(fd - g[i]), `${pname}[${i}]: analytic ${g[i]}, numeric ${fd}`).toBeLessThan(1e-3 + relative * Math.abs(g[i]));
      checked++;
    }
  }
  tf.dispose([...Object.values(grads), x, y]);
  model.dispose();
  return checked;
}

/**
 * AdamW steps on one batch of a small model: the last loss, and the live tensor count
 * after each step (flat once every tensor that lives across steps exists).
 */
export async function overfitOneBatch(steps = 150, lr = 1e-2): Promise<{ loss: number; counts: number[] }> {
  const c: ModelConfig = { vocab_size: 32, context: 16, d_model: 32, layers: 2, heads: 4 };
  const model = new GPT(c, initialValues(c, 1));
  const opt = new AdamW(model.params, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0, grad_clip: 1 });
  const [x, y] = randomBatch(c, 4, 2);
  const vars = [...model.params.values()];
  let loss = Number.NaN;
  const counts: number[] = [];
  for (let step = 0; step < steps; step++) {
    const { value, grads } = tf.variableGrads(() => model.loss(x, y), vars);
    releaseKept();
    [loss] = await read(value);
    value.dispose();
    opt.step(grads, lr, await gradientNorm(grads));
    tf.dispose(Object.values(grads));
    counts.push(tf.memory().numTensors);
  }
  tf.dispose([x, y]);
  model.dispose();
  opt.dispose();
  return { loss, counts };
}
