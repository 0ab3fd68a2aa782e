/**
 * The GPT trainer on the CPU backend: gradients against finite differences (native kernels
 * with OpenBLAS and with the own SGEMM, and plain tfjs ops), overfitting one batch, a flat
 * tensor count, and a resumed run that reproduces the uninterrupted loss curve exactly.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../pipeline/core/random.js';
import { TokenShardWriter } from '../pipeline/tokenize/token-shards.js';
import { useBackend } from '../trainer/backend.js';
import { trainOptions } from '../trainer/config.js';
import { GPT, initialValues, type ModelConfig } from '../trainer/model.js';
import { nativeKernels, releaseKept, useNativeKernels } from '../trainer/ops.js';
import { loadNativeBlas } from '../trainer/native/index.js';
import { AdamW, learningRate } from '../trainer/optimizer.js';
import { train } from '../trainer/train.js';
import { cleanup, tempDir } from './helpers/cli.js';

const dir = tempDir();
afterAll(() => cleanup(dir));
beforeAll(async () => {
  await useBackend('cpu');
});

const tiny: ModelConfig = { vocab_size: 11, context: 6, d_model: 8, layers: 2, heads: 2 };
const batch = (c: ModelConfig, B: number, seed: number) => {
  const r = new Random(seed);
  const ids = Int32Array.from({ length: B * c.context }, () => r.int(0, c.vocab_size - 1));
  const targets = Int32Array.from({ length: B * c.context }, () => r.int(0, c.vocab_size - 1));
  return [tf.tensor2d(ids, [B, c.context], 'int32'), tf.tensor2d(targets, [B, c.context], 'int32')] as const;
};

describe('gradients', () => {
  // The own SGEMM's addon (REFINERY_BLAS=both builds it beside OpenBLAS's; see tests/native-kernels.test.ts).
  const paths = [['tfjs ops', null], ['native kernels', loadNativeBlas()], ['native kernels, portable SGEMM', loadNativeBlas('portable')]] as const;
  for (const [name, kernels] of paths) {
    it.skipIf(name !== 'tfjs ops' && !kernels)(`match finite differences (${name})`, () => {
      useNativeKernels(kernels);
      // Weights 20x GPT-2's scale, so attention is far from uniform and every path carries gradient.
      const values = initialValues(tiny, 3);
      for (const [n, v] of values) if (!/\.g$/.test(n)) for (let i = 0; i < v.length; i++) v[i] = v[i] * 20 + (/\.b$/.test(n) ? 0.1 * Math.sin(i) : 0);
      const model = new GPT(tiny, values);
      const [x, y] = batch(tiny, 2, 5);
      const vars = [...model.params.values()];
      const { value, grads } = tf.variableGrads(() => model.loss(x, y), vars);
      releaseKept();
      value.dispose();
      const random = new Random(11);
      const eps = 1e-2;
      let checked = 0;
      for (const [pname, v] of model.params) {
        const g = grads[v.name].dataSync();
        const base = v.dataSync().slice();
        // Every entry of the attention projections (q, k and v columns), a few of the others.
        const probes = /attn\.w$/.test(pname) ? Array.from(base.keys()) : Array.from({ length: 3 }, () => random.int(0, base.length - 1));
        for (const i of probes) {
          const at = (delta: number) => {
            const moved = base.slice();
            moved[i] += delta;
            v.assign(tf.tensor(moved, v.shape));
            const l = tf.tidy(() => model.loss(x, y).dataSync()[0]);
            releaseKept();
            return l;
          };
          const fd = (at(eps) - at(-eps)) / (2 * eps);
          v.assign(tf.tensor(base, v.shape));
          expect(Math.abs(fd - g[i]), `${pname}[${i}]: analytic ${g[i]}, numeric ${fd}`).toBeLessThan(1e-3 + 0.03 * Math.abs(g[i]));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(3 * model.params.size);
      tf.dispose(Object.values(grads));
      model.dispose();
      useNativeKernels(loadNativeBlas());
    }, 60_000);
  }
});

describe('training', () => {
  it('overfits one batch to near-zero loss, with a flat tensor count', () => {
    const c: ModelConfig = { vocab_size: 32, context: 16, d_model: 32, layers: 2, heads: 4 };
    const model = new GPT(c, initialValues(c, 1));
    const opt = new AdamW(model.params, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0, grad_clip: 1 });
    const [x, y] = batch(c, 4, 2);
    const vars = [...model.params.values()];
    let loss = Number.NaN;
    const counts: number[] = [];
    for (let step = 0; step < 150; step++) {
      const { value, grads } = tf.variableGrads(() => model.loss(x, y), vars);
      releaseKept();
      loss = value.dataSync()[0];
      value.dispose();
      opt.step(grads, 1e-2);
      tf.dispose(Object.values(grads));
      counts.push(tf.memory().numTensors);
    }
    expect(loss).toBeLessThan(0.05);
    expect(new Set(counts.slice(2)).size).toBe(1);
    model.dispose();
    opt.dispose();
  }, 120_000);

  it('schedules: warmup, cosine to min_lr, WSD decaying over its last share', () => {
    const s = { lr: 1, min_lr: 0.1, warmup: 10, schedule: 'cosine' as const, decay_frac: 0.2, steps: 110 };
    expect(learningRate(s, 0)).toBeCloseTo(0.1);
    expect(learningRate(s, 9)).toBeCloseTo(1);
    expect(learningRate(s, 60)).toBeCloseTo(0.55, 2);
    expect(learningRate(s, 110)).toBeCloseTo(0.1);
    const w = { ...s, schedule: 'wsd' as const, min_lr: 0 };
    expect(learningRate(w, 80)).toBe(1);
    expect(learningRate(w, 88)).toBeLessThan(1);
    expect(learningRate(w, 109)).toBeCloseTo(0, 5);
  });

  it('resumes from a checkpoint onto exactly the uninterrupted loss curve', async () => {
    // A token stream with structure (a noisy counter), so the loss has somewhere to go.
    const data = join(dir, 'tokens', 'train');
    const w = new TokenShardWriter(join(tempMk(data), 'part-00000.arrow'), { tokenizer: 'test', vocabSize: 24, endOfText: 23 });
    const r = new Random(4);
    const ids: number[] = [];
    for (let i = 0; i < 6000; i++) ids.push(r.chance(0.1) ? r.int(0, 22) : (i * 3) % 23);
    w.write(ids);
    w.publish();
    const base = trainOptions.parse({ data, out: '', context: 16, d_model: 16, layers: 1, heads: 2, batch_size: 4, steps: 12, warmup: 2, lr: 0.01, log_every: 1, eval_every: 100, checkpoint_every: 100, backend: 'cpu', peak_flops: 1e9 });
    const silent = () => {};
    await train({ ...base, out: join(dir, 'whole') }, silent);
    await train({ ...base, out: join(dir, 'parts'), stop_after: 5 }, silent);
    await train({ ...base, out: join(dir, 'parts') }, silent);
    const losses = (out: string) =>
      readFileSync(join(dir, out, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { step: number; loss: number })
        .map((l) => [l.step, l.loss]);
    expect(losses('whole')).toHaveLength(12);
    expect(losses('parts')).toEqual(losses('whole'));
    expect(losses('whole')[11][1]).toBeLessThan(losses('whole')[0][1]);

    // The same vocabulary size from another tokenizer: shapes agree, so only the id can tell.
    const other = join(dir, 'other-tokens', 'train');
    const o = new TokenShardWriter(join(tempMk(other), 'part-00000.arrow'), { tokenizer: 'another', vocabSize: 24, endOfText: 23 });
    o.write(ids);
    o.publish();
    await expect(train({ ...base, data: other, out: join(dir, 'parts'), steps: 14 }, silent)).rejects.toThrow(/tokenizer test, but these token shards were made by tokenizer another/);
    await expect(train({ ...base, data: other, out: join(dir, 'from'), resume_from: join(dir, 'whole', 'checkpoint') }, silent)).rejects.toThrow(/tokenizer test/);
  }, 120_000);
});

function tempMk(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

it('uses the native kernels when built', () => {
  expect(nativeKernels()).toBe(loadNativeBlas() !== null);
});
