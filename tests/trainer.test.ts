/**
 * The GPT trainer on the CPU backend: gradients against finite differences (native kernels
 * with OpenBLAS and with the own SGEMM, and plain tfjs ops), overfitting one batch, a flat
 * tensor count, and a resumed run that reproduces the uninterrupted loss curve exactly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../trainer/backend.js';
import { trainOptions } from '../trainer/config.js';
import { parameterShapes } from '../trainer/model.js';
import { nativeKernels, useNativeKernels } from '../trainer/ops.js';
import { loadNativeBlas } from '../trainer/native/index.js';
import { learningRate } from '../trainer/optimizer.js';
import { train } from '../trainer/train.js';
import { cleanup, tempDir } from './helpers/cli.js';
import { checkGradients, overfitOneBatch, tinyModel, writeCounterTokens } from './helpers/gpt.js';

const dir = tempDir();
afterAll(() => cleanup(dir));
beforeAll(async () => {
  await useBackend('cpu');
});


describe('gradients', () => {
  // The own SGEMM's addon (npm run build:native builds it beside OpenBLAS's; see tests/native-kernels.test.ts).
  const paths = [['tfjs ops', null], ['native kernels', loadNativeBlas()], ['native kernels, portable SGEMM', loadNativeBlas('portable')]] as const;
  for (const [name, kernels] of paths) {
    it.skipIf(name !== 'tfjs ops' && !kernels)(`match finite differences (${name})`, async () => {
      useNativeKernels(kernels);
      expect(await checkGradients()).toBeGreaterThan(3 * parameterShapes(tinyModel).length);
      useNativeKernels(loadNativeBlas());
    }, 60_000);
  }
});

describe('training', () => {
  it('overfits one batch to near-zero loss, with a flat tensor count', async () => {
    const { loss, counts } = await overfitOneBatch();
    expect(loss).toBeLessThan(0.05);
    expect(new Set(counts.slice(2)).size).toBe(1);
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
    const data = writeCounterTokens(join(dir, 'tokens', 'train'));
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
    writeCounterTokens(other, 'another');
    await expect(train({ ...base, data: other, out: join(dir, 'parts'), steps: 14 }, silent)).rejects.toThrow(/tokenizer test, but these token shards were made by tokenizer another/);
    await expect(train({ ...base, data: other, out: join(dir, 'from'), resume_from: join(dir, 'whole', 'checkpoint') }, silent)).rejects.toThrow(/tokenizer test/);
  }, 120_000);
});

it('uses the native kernels when built', () => {
  expect(nativeKernels()).toBe(loadNativeBlas() !== null);
});
