/**
 * Bench `train`: tokens/s and MFU of full training steps (forward, backward, AdamW) for two
 * model shapes, on each backend this machine offers, each in its own process:
 *   A: vocab 512, context 128, d 128, 4 layers, 4 heads, batch 16
 *   B: vocab 8,192, context 256, d 256, 6 layers, 8 heads, batch 8
 * MFU = tokens/s x FLOPs per token (6 N + 12 L d T, as nanoGPT counts) / the backend's own
 * matrix-product speed measured in the same process on the model's MLP product.
 * The reference is PyTorch on this CPU (nanoGPT's model, same shapes, measured once and
 * quoted in the issue): A 15.2k tokens/s on one thread, B 2.0k.
 *
 *   npm run bench -- train [--steps 6] [--configs A,B]
 */
import * as tf from '@tensorflow/tfjs-core';
import { Random } from '../pipeline/core/random.js';
import { useBackend, type BackendChoice } from '../trainer/backend.js';
import { GPT, flopsPerToken, initialValues, parameterCount, type ModelConfig } from '../trainer/model.js';
import { releaseKept } from '../trainer/ops.js';
import { AdamW } from '../trainer/optimizer.js';
import { calibrate } from '../trainer/train.js';
import { arg, isolated, type PhaseFn } from './harness.js';

const CONFIGS: Record<string, { model: ModelConfig; batch: number; pytorch1: number }> = {
  A: { model: { vocab_size: 512, context: 128, d_model: 128, layers: 4, heads: 4 }, batch: 16, pytorch1: 15_200 },
  B: { model: { vocab_size: 8192, context: 256, d_model: 256, layers: 6, heads: 8 }, batch: 8, pytorch1: 2_000 },
};
const BACKENDS: [string, BackendChoice, boolean, number][] = [
  ['wasm + native kernels, 1 thread', 'wasm', true, 1],
  ['wasm + native kernels, 2 threads', 'wasm', true, 2],
  ['wasm alone', 'wasm', false, 1],
];

/** A freshly initialised model, its optimizer, and one random batch of B sequences (bench/gpu.ts too). */
export function benchModel(c: ModelConfig, B: number): { gpt: GPT; opt: AdamW; x: tf.Tensor2D; y: tf.Tensor2D; vars: tf.Variable[] } {
  const T = c.context;
  const gpt = new GPT(c, initialValues(c, 1));
  const opt = new AdamW(gpt.params, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1, grad_clip: 1 });
  const r = new Random(1);
  const x = tf.tensor2d(Int32Array.from({ length: B * T }, () => r.int(0, c.vocab_size - 1)), [B, T], 'int32');
  const y = tf.tensor2d(Int32Array.from({ length: B * T }, () => r.int(0, c.vocab_size - 1)), [B, T], 'int32');
  return { gpt, opt, x, y, vars: [...gpt.params.values()] };
}

function phaseFor(name: string, backend: BackendChoice, native: boolean, threads: number, steps: number): PhaseFn {
  return async () => {
    const { model: c, batch: B } = CONFIGS[name];
    const b = await useBackend(backend, native, threads);
    const T = c.context;
    const { gpt, opt, x, y, vars } = benchModel(c, B);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => gpt.loss(x, y), vars);
      releaseKept();
      value.dataSync();
      value.dispose();
      opt.step(grads, 1e-3);
      tf.dispose(Object.values(grads));
    };
    step();
    step();
    const start = performance.now();
    for (let s = 0; s < steps; s++) step();
    const seconds = (performance.now() - start) / 1000;
    const tokensPerS = (steps * B * T) / seconds;
    const peak = await calibrate(B * T, c.d_model, 1);
    // Also against a large product ([1024 x 1024] x [1024 x 4096]), the usual "sgemm peak".
    const large = await calibrate(1024, 1024, 1);
    console.log(
      `  config ${name} on ${b.label}: ${Math.round(tokensPerS).toLocaleString('en')} tokens/s, ${parameterCount(c).toLocaleString('en')} parameters, ` +
        `${(flopsPerToken(c) / 1e6).toFixed(1)} MFLOP/token; matrix products ${(peak / 1e9).toFixed(1)} GFLOP/s at the model's shape, ${(large / 1e9).toFixed(1)} large; ` +
        `MFU ${((100 * tokensPerS * flopsPerToken(c)) / peak).toFixed(1)}% (${((100 * tokensPerS * flopsPerToken(c)) / large).toFixed(1)}% of the large-product peak), ` +
        `${(tokensPerS / CONFIGS[name].pytorch1).toFixed(2)}x PyTorch one thread`,
    );
    return { bytes: 0, docs: steps * B * T };
  };
}

export async function main(args: string[]): Promise<void> {
  const steps = Number(arg(args, 'steps', '6'));
  const configs = arg(args, 'configs', 'A,B').split(',');
  const phases: Record<string, PhaseFn> = {};
  for (const name of configs) for (const [label, backend, native, threads] of BACKENDS) phases[`config ${name}: ${label}`] = phaseFor(name, backend, native, threads, steps);
  const results = await isolated('train', args, phases);
  if (!results) return;
  // Throughput is in the lines above (timed steps only); the harness adds each process's peak memory.
  console.log('phase                                            peak RSS MB');
  for (const r of results) console.log(`${r.name.padEnd(48)} ${r.died ? `died (${r.died})` : String(r.peakRssMB).padStart(11)}`);
}
