/**
 * Bench `gpu`: training throughput on WebGPU (f32 and f16) and MFU against the GPU's published
 * peak, for config B (as in bench/train.ts) and a GPT-2-small shape, each (shape, precision) in
 * its own process. With PyTorch importable (and CUDA), the same shapes through bench/gpu-pytorch.py
 * in f32 and f16 autocast, for the ratio.
 *
 *   npm run bench -- gpu [--steps 5] [--configs B,gpt2] [--precisions f32,f16] [--gpt2-batch 8]
 *                        [--peak-tflops N] [--quick] [--no-pytorch]
 *
 * --quick: a tiny shape, 2 timed steps, which also runs on the software adapter (llvmpipe): it
 * checks the script, not a GPU. MFU = tokens/s x FLOPs per token (6 N + 12 L d T) / peak, where
 * the peak is the adapter's published dense figure for the precision (table below, or --peak-tflops).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../pipeline/core/errors.js';
import { useBackend, usePrecision } from '../trainer/backend.js';
import { flopsPerToken, parameterCount, type ModelConfig } from '../trainer/model.js';
import { releaseKept } from '../trainer/ops.js';
import { gradientNorm } from '../trainer/optimizer.js';
import { arg, isolated, type PhaseFn } from './harness.js';
import { benchModel } from './train.js';

const SHAPES: Record<string, { model: ModelConfig; batch: number }> = {
  quick: { model: { vocab_size: 64, context: 32, d_model: 32, layers: 2, heads: 2 }, batch: 2 },
  B: { model: { vocab_size: 8192, context: 256, d_model: 256, layers: 6, heads: 8 }, batch: 8 },
  gpt2: { model: { vocab_size: 50_257, context: 1024, d_model: 768, layers: 12, heads: 12 }, batch: 8 },
};

/**
 * Published dense peaks in TFLOP/s (vendor data sheets): the vector (CUDA-core) f32 and f16
 * rates a WebGPU shader can reach, and the tensor-core f16 rate MFU is usually quoted against.
 * First match on the adapter's name wins, so the more specific names come first.
 */
const PEAKS: [RegExp, string, { f32: number; f16: number; f16Tensor: number }][] = [
  [/H200/i, 'NVIDIA H200 SXM', { f32: 67, f16: 133.8, f16Tensor: 989.4 }],
  [/H100.*PCIe/i, 'NVIDIA H100 PCIe', { f32: 51.2, f16: 102.4, f16Tensor: 756.5 }],
  [/H100/i, 'NVIDIA H100 SXM', { f32: 67, f16: 133.8, f16Tensor: 989.4 }],
  [/A100/i, 'NVIDIA A100', { f32: 19.5, f16: 78, f16Tensor: 312 }],
];

export function publishedPeak(adapter: string): { name: string; f32: number; f16: number; f16Tensor: number } | null {
  const hit = PEAKS.find(([re]) => re.test(adapter));
  return hit ? { name: hit[1], ...hit[2] } : null;
}

/** One timed run: (shape, precision) on WebGPU, tokens/s printed as a line the parent reads. */
function phaseFor(shape: string, precision: 'f32' | 'f16', steps: number, batch: number, peakOverride: number | null): PhaseFn {
  return async () => {
    const c = SHAPES[shape].model;
    const B = batch;
    const T = c.context;
    const backend = await useBackend('webgpu');
    try {
      await usePrecision(precision, backend);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      console.log(`  ${shape} ${precision}: skipped: ${err.message}`);
      return { bytes: 0, docs: 0 };
    }
    const { gpt, opt, x, y, vars } = benchModel(c, B);
    // A whole training step, read back (loss and gradient norm), as the trainer takes it. f16's loss scale is left
    // out: it is one multiplication each way.
    const step = async () => {
      const { value, grads } = tf.variableGrads(() => gpt.loss(x, y), vars);
      releaseKept();
      await value.data();
      value.dispose();
      opt.step(grads, 1e-4, await gradientNorm(grads));
      tf.dispose(Object.values(grads));
    };
    // Two untimed steps compile every shader.
    await step();
    await step();
    const start = performance.now();
    for (let s = 0; s < steps; s++) await step();
    const seconds = (performance.now() - start) / 1000;
    const tokensPerS = (steps * B * T) / seconds;
    const adapter = backend.adapter?.name ?? 'unknown';
    const peak = publishedPeak(adapter);
    const flops = tokensPerS * flopsPerToken(c);
    const vector = peakOverride ?? (peak ? peak[precision] : null);
    const mfu = (tflops: number | null) => (tflops ? `${((100 * flops) / (tflops * 1e12)).toFixed(2)}%` : '-');
    console.log(
      `  ${shape} ${precision} on ${backend.label}: ${Math.round(tokensPerS).toLocaleString('en')} tokens/s, ${parameterCount(c).toLocaleString('en')} parameters, batch ${B}; ` +
        `${flops >= 1e12 ? `${(flops / 1e12).toFixed(2)} TFLOP/s` : `${(flops / 1e9).toFixed(2)} GFLOP/s`}; MFU ${mfu(vector)} of the ${peakOverride ? '--peak-tflops' : peak ? `${peak.name} ${precision} vector` : 'unknown (no published peak for this adapter; give --peak-tflops)'} peak` +
        (peak && !peakOverride ? `, ${mfu(peak.f16Tensor)} of its f16 tensor-core peak` : ''),
    );
    return { bytes: 0, docs: steps * B * T };
  };
}

/** PyTorch on this machine, when it imports (CUDA if present): tokens/s per (shape, precision), or why not. */
function pytorch(shapes: string[], precisions: string[], steps: number, batch: (s: string) => number): string[] {
  const probe = spawnSync('python3', ['-c', 'import torch; print(torch.__version__, torch.cuda.is_available())'], { encoding: 'utf8' });
  if (probe.status !== 0) return ['  PyTorch: not importable here (python3 -c "import torch" failed): no reference run'];
  const script = fileURLToPath(new URL('../../bench/gpu-pytorch.py', import.meta.url));
  const lines = [`  PyTorch ${probe.stdout.trim()}:`];
  for (const shape of shapes)
    for (const precision of precisions) {
      const c = SHAPES[shape].model;
      const args = [script, ...[c.vocab_size, c.context, c.d_model, c.layers, c.heads, batch(shape), steps].map(String), precision];
      const r = spawnSync('python3', args, { encoding: 'utf8' });
      lines.push(r.status === 0 ? `    ${shape} ${precision}: ${r.stdout.trim()}` : `    ${shape} ${precision}: failed (${r.stderr.trim().split('\n').pop()})`);
    }
  return lines;
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const steps = Number(arg(args, 'steps', quick ? '2' : '5'));
  const shapes = quick ? ['quick'] : arg(args, 'configs', 'B,gpt2').split(',');
  const precisions = arg(args, 'precisions', 'f32,f16').split(',') as ('f32' | 'f16')[];
  const gpt2Batch = Number(arg(args, 'gpt2-batch', '8'));
  const peakArg = arg(args, 'peak-tflops', '');
  const batch = (s: string) => (s === 'gpt2' ? gpt2Batch : SHAPES[s].batch);
  for (const s of shapes) if (!SHAPES[s]) throw new Error(`unknown shape ${s} (${Object.keys(SHAPES).join(', ')})`);
  const phases: Record<string, PhaseFn> = {};
  for (const s of shapes) for (const p of precisions) phases[`${s} ${p}`] = phaseFor(s, p, steps, batch(s), peakArg ? Number(peakArg) : null);
  const results = await isolated('gpu', args, phases);
  if (!results) return;
  if (!args.includes('--no-pytorch')) for (const line of pytorch(shapes, precisions, steps, batch)) console.log(line);
  console.log('phase                          peak RSS MB');
  for (const r of results) console.log(`${r.name.padEnd(30)} ${r.died ? `did not finish (${r.died})` : String(r.peakRssMB).padStart(11)}`);
}
