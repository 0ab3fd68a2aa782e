/**
 * The GPT trainer on the WebGPU backend (tfjs-backend-webgpu over Dawn). Without a GPU this is
 * Mesa's llvmpipe through Dawn's OpenGL ES backend: slow, but the same shaders, so it checks
 * correctness: every parameter's gradient against finite differences, overfitting one batch,
 * and a 20-step run whose losses match the CPU backend's. Skipped with the reason where no
 * adapter starts (no EGL libraries, optional packages missing); under CI, .ci/run installs
 * them, so there that is an error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../pipeline/core/random.js';
import { useBackend } from '../trainer/backend.js';
import { trainOptions } from '../trainer/config.js';
import { LossScaler } from '../trainer/loss-scale.js';
import { parameterShapes } from '../trainer/model.js';
import * as ops from '../trainer/ops.js';
import { AdamW, gradientNorm } from '../trainer/optimizer.js';
import { train } from '../trainer/train.js';
import * as fused from '../trainer/webgpu-kernels.js';
import { startWebGPU } from '../trainer/webgpu.js';
import { cleanup, cli, cliOk, repoRoot, tempDir } from './helpers/cli.js';
import { checkGradients, overfitOneBatch, tinyModel, writeCounterTokens } from './helpers/gpt.js';

let why = '';
const adapter = await startWebGPU(true, (reason) => (why = reason));
if (!adapter && process.env.CI === 'true') throw new Error(`no WebGPU adapter: ${why}; CI=true: .ci/run installs the EGL/Mesa packages`);
const skip = adapter ? '' : ` (skipped: ${why})`;

const dir = tempDir();
afterAll(() => cleanup(dir));

const losses = (out: string) =>
  readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { loss: number }).loss);

describe.skipIf(!adapter)(`trainer on WebGPU${adapter ? ` (${adapter.name})` : skip}`, () => {
  it('says which adapter it runs on', async () => {
    const b = await useBackend('webgpu');
    expect(b.name).toBe('webgpu');
    expect(b.label).toBe(`webgpu on ${adapter?.name} + WGSL kernels`);
    expect((await useBackend('webgpu', false)).label).toBe(`webgpu on ${adapter?.name}`);
  });

  it('WGSL kernels give the values and gradients of the tfjs ops they replace', async () => {
    // 70 positions: two workgroups of query rows, several key tiles, a ragged last one.
    await useBackend('webgpu', false);
    const [B, T, H, hd, V] = [2, 70, 2, 8, 37];
    const [N, d] = [B * T, H * hd];
    const r = new Random(1);
    const rand = (shape: number[], scale = 1) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r.next() * 2 - 1) * scale), shape);
    const [qkv, x, g, b, z, w] = [rand([N, 3 * d], 2), rand([N, d]), rand([d]), rand([d]), rand([N, V], 3), rand([N, d])];
    const targets = tf.tensor1d(Int32Array.from({ length: N }, () => r.int(0, V - 1)), 'int32');
    // With the kernels off (useBackend above), ops.gelu is the tfjs composition the model uses.
    const mask = tf.mul(tf.sub(tf.linalg.bandPart(tf.ones([T, T]), -1, 0), 1), 1e9) as tf.Tensor2D;
    const cases: [string, tf.Tensor, (a: tf.Tensor) => tf.Tensor, (a: tf.Tensor) => tf.Tensor][] = [
      ['attention', qkv, (a) => ops.attention(a as tf.Tensor2D, B, T, H, mask), (a) => fused.attention(a as tf.Tensor2D, B, T, H)],
      ['layerNorm', x, (a) => ops.layerNorm(a, g, b), (a) => fused.layerNorm(a, g, b)],
      ['gelu', x, (a) => ops.gelu(a), (a) => fused.gelu(a)],
      ['crossEntropy', z, (a) => ops.crossEntropy(a as tf.Tensor2D, targets), (a) => fused.crossEntropy(a as tf.Tensor2D, targets)],
    ];
    for (const [name, input, reference, kernel] of cases) {
      // A weighted sum of [N, d] outputs, so every output element's gradient differs.
      const loss = (f: (a: tf.Tensor) => tf.Tensor) => (a: tf.Tensor) => {
        const y = f(a);
        return y.rank === 0 ? (y as tf.Scalar) : tf.sum(tf.mul(y, w));
      };
      const want = tf.valueAndGrad(loss(reference))(input);
      const got = tf.valueAndGrad(loss(kernel))(input);
      const [wv, gv, wg, gg] = await Promise.all([want.value.data(), got.value.data(), want.grad.data(), got.grad.data()]);
      expect(Math.abs(gv[0] - wv[0]), `${name}: value ${gv[0]}, tfjs ops ${wv[0]}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(wv[0])));
      let worst = 0;
      for (let i = 0; i < wg.length; i++) worst = Math.max(worst, Math.abs(gg[i] - wg[i]));
      expect(worst, `${name}: largest gradient difference`).toBeLessThan(1e-5);
    }
    // The matrix-product kernel that --precision f16 uses, here with f32 operands (the same tiles and indexing), in every layout.
    for (const [ta, tb, batched] of [[false, false, false], [false, true, false], [true, false, false], [true, true, false], [false, true, true], [true, false, true]]) {
      const a = rand(batched ? [3, ...(ta ? [21, 13] : [13, 21])] : ta ? [21, 13] : [13, 21]);
      const bm = rand(batched ? [3, ...(tb ? [9, 21] : [21, 9])] : tb ? [9, 21] : [21, 9]);
      const [want, got] = await Promise.all([tf.matMul(a, bm, ta, tb).data(), fused.matMulTyped(a, bm, ta, tb, 'f32').data()]);
      expect(got).toHaveLength(want.length);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `matMul ${ta} ${tb} ${batched}: [${i}]`).toBeLessThan(1e-5);
    }
    // AdamW: two steps (clipped, with weight decay) by the kernels against the tfjs ops of optimizer.ts.
    const start = await rand([40, 24]).data();
    const grads = [rand([40, 24]), rand([40, 24], 3)];
    const [viaOps, viaKernel] = [tf.variable(tf.tensor(start, [40, 24]), true, 'adam.fc.w'), tf.variable(tf.tensor(start, [40, 24]), true, 'kernel.fc.w')];
    const opt = new AdamW(new Map([['adam.fc.w', viaOps]]), { beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1, grad_clip: 1 });
    const [mk, vk] = [tf.variable(tf.zerosLike(viaKernel)), tf.variable(tf.zerosLike(viaKernel))];
    for (const [t, g] of grads.entries()) {
      const norm = await gradientNorm({ g });
      opt.step({ 'adam.fc.w': g }, 1e-2, norm);
      fused.adamW(viaKernel, g, mk, vk, { clip: Math.min(1, 1 / norm), lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, decay: 0.1, c1: 1 - 0.9 ** (t + 1), c2: 1 - 0.95 ** (t + 1) });
    }
    const [want, got] = [await viaOps.data(), await viaKernel.data()];
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `AdamW [${i}]`).toBeLessThan(1e-6);
    tf.dispose([viaOps, viaKernel, mk, vk, ...grads]);
    opt.dispose();
    ops.releaseKept();
  }, 120_000);

  it('matches finite differences for every parameter', async () => {
    await useBackend('webgpu');
    // 12 random entries of each attention projection (q, k and v columns alike), not all 192: llvmpipe is slow.
    expect(await checkGradients(tinyModel, 12)).toBeGreaterThan(3 * parameterShapes(tinyModel).length);
  }, 120_000);

  it('overfits one batch to near-zero loss, with a flat tensor count', async () => {
    await useBackend('webgpu');
    // 40 steps at a higher rate instead of 150 (llvmpipe is slow); the CPU test takes the longer road.
    const { loss, counts } = await overfitOneBatch(40, 3e-2);
    expect(loss).toBeLessThan(0.05);
    expect(new Set(counts.slice(2)).size).toBe(1);
  }, 120_000);

  it("trains 20 steps with the CPU backend's losses (within 1e-3 relative)", async () => {
    const data = writeCounterTokens(join(dir, 'tokens', 'train'));
    const base = trainOptions.parse({ data, out: '', context: 16, d_model: 16, layers: 2, heads: 2, batch_size: 4, steps: 20, warmup: 2, lr: 0.01, log_every: 1, eval_every: 100, checkpoint_every: 100, peak_flops: 1e9 });
    const silent = () => {};
    const gpu = await train({ ...base, backend: 'webgpu', out: join(dir, 'webgpu') }, silent);
    await train({ ...base, backend: 'cpu', native: false, out: join(dir, 'cpu') }, silent);
    expect(gpu.backend).toMatch(/^webgpu on /);
    const [a, b] = [losses(join(dir, 'webgpu')), losses(join(dir, 'cpu'))];
    expect(a).toHaveLength(20);
    for (let i = 0; i < 20; i++) expect(Math.abs(a[i] - b[i]) / b[i], `step ${i + 1}: webgpu ${a[i]}, cpu ${b[i]}`).toBeLessThan(1e-3);
    expect(a[19]).toBeLessThan(a[0]);
  }, 120_000);
  it('refuses --precision f16 with the reason where the adapter lacks shader-f16, and on other backends', async () => {
    const data = writeCounterTokens(join(dir, 'tokens', 'train'));
    const base = trainOptions.parse({ data, out: join(dir, 'f16-refused'), context: 8, d_model: 8, layers: 1, heads: 2, batch_size: 2, steps: 1, precision: 'f16', peak_flops: 1e9 });
    await expect(train({ ...base, backend: 'cpu' }, () => {})).rejects.toThrow(/--precision f16 needs --backend webgpu on an adapter with shader-f16/);
    if (!adapter?.f16) await expect(train({ ...base, backend: 'webgpu' }, () => {})).rejects.toThrow(/lacks shader-f16/);
  });

  it('refinery train --backend webgpu through the CLI: says the adapter, trains, refuses f16 with exit 2 where unsupported', () => {
    const data = writeCounterTokens(join(dir, 'tokens', 'train'));
    const flags = ['--data', data, '--context', '8', '--d-model', '8', '--layers', '1', '--heads', '2', '--batch-size', '2', '--steps', '3', '--warmup', '1', '--peak-flops', '1e9', '--backend', 'webgpu'];
    const r = cliOk(['train', ...flags, '--out', join(dir, 'cli')]);
    expect(r.stderr).toContain(`backend webgpu on ${adapter?.name} + WGSL kernels`);
    expect(r.stdout).toMatch(/train: 3 steps/);
    if (!adapter?.f16) {
      const f16 = cli(['train', ...flags, '--out', join(dir, 'cli-f16'), '--precision', 'f16']);
      expect(f16.code).toBe(2);
      expect(f16.stderr).toContain('lacks shader-f16');
    }
  }, 120_000);

  it('npm run bench -- gpu --quick: tokens/s on this adapter', () => {
    // f32 only and no PyTorch here: the f16 refusal is checked through the CLI above, and each phase is a process.
    const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', 'run.js'), 'gpu', '--quick', '--precisions', 'f32', '--no-pytorch'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/quick f32 on webgpu on .*: [\d,]+ tokens\/s/);
  }, 120_000);

  const noF16 = adapter?.f16 ? '' : ` (skipped: ${adapter?.name} lacks shader-f16)`;
  describe.skipIf(!adapter?.f16)(`--precision f16${noF16}`, () => {
    afterAll(() => fused.useHalfPrecision(false));

    it('matches finite differences for every parameter (f16 products: looser tolerance)', async () => {
      await useBackend('webgpu');
      fused.useHalfPrecision(true);
      expect(await checkGradients(tinyModel, 12, 0.1)).toBeGreaterThan(3 * parameterShapes(tinyModel).length);
      fused.useHalfPrecision(false);
    }, 120_000);

    it('overfits one batch', async () => {
      await useBackend('webgpu');
      fused.useHalfPrecision(true);
      expect((await overfitOneBatch(40, 3e-2)).loss).toBeLessThan(0.05);
      fused.useHalfPrecision(false);
    }, 120_000);

    it("trains 20 steps (with loss scaling) within 1e-2 relative of the CPU backend's f32 losses", async () => {
      const data = writeCounterTokens(join(dir, 'tokens', 'train'));
      const base = trainOptions.parse({ data, out: '', context: 16, d_model: 16, layers: 2, heads: 2, batch_size: 4, steps: 20, warmup: 2, lr: 0.01, log_every: 1, eval_every: 100, checkpoint_every: 100, peak_flops: 1e9 });
      await train({ ...base, backend: 'webgpu', precision: 'f16', out: join(dir, 'webgpu-f16') }, () => {});
      if (!existsSync(join(dir, 'cpu', 'metrics.jsonl'))) await train({ ...base, backend: 'cpu', native: false, out: join(dir, 'cpu') }, () => {});
      const [a, b] = [losses(join(dir, 'webgpu-f16')), losses(join(dir, 'cpu'))];
      for (let i = 0; i < 20; i++) expect(Math.abs(a[i] - b[i]) / b[i], `step ${i + 1}: f16 ${a[i]}, cpu ${b[i]}`).toBeLessThan(1e-2);
    }, 120_000);
  });
});

describe('loss scaling (--precision f16)', () => {
  it('halves the scale and skips the step on an overflow, doubles it after a run of good steps', () => {
    const s = new LossScaler(1024, 3);
    expect(s.update(true)).toBe(true);
    expect(s.update(false)).toBe(false);
    expect(s.scale).toBe(512);
    expect([s.update(true), s.update(true)]).toEqual([true, true]);
    expect(s.scale).toBe(512);
    expect(s.update(true)).toBe(true);
    expect(s.scale).toBe(1024);
    for (let i = 0; i < 20; i++) s.update(false);
    expect(s.scale).toBe(1);
  });
});
