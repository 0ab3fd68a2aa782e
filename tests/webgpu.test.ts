/**
 * The GPT trainer on the WebGPU backend (tfjs-backend-webgpu over Dawn). Without a GPU this is
 * Mesa's llvmpipe through Dawn's OpenGL ES backend: slow, but the same shaders, so it checks
 * correctness: every parameter's gradient against finite differences, overfitting one batch,
 * and a 20-step run whose losses match the CPU backend's. Skipped with the reason where no
 * adapter starts (no EGL libraries, optional packages missing); under CI, .ci/run installs
 * them, so there that is an error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../trainer/backend.js';
import { trainOptions } from '../trainer/config.js';
import { parameterShapes } from '../trainer/model.js';
import { train } from '../trainer/train.js';
import { startWebGPU } from '../trainer/webgpu.js';
import { cleanup, tempDir } from './helpers/cli.js';
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
    expect(b.label).toBe(`webgpu on ${adapter?.name}`);
  });

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
});
