/**
 * Bench `train`: tokens/s and MFU of full training steps (forward, backward, AdamW) for two
 * model shapes, on each backend this machine offers, each in its own process:
 *   A: vocab 512, context 128, d 128, 4 layers, 4 heads, batch 16
 *   B: vocab 8,192, context 256, d 256, 6 layers, 8 heads, batch 8
 * MFU = tokens/s x FLOPs per token (6 N + 12 L d T, as nanoGPT counts) / the backend's own
 * matrix-product speed measured in the same process on the model's MLP product.
 * The reference is PyTorch on this CPU in the same run (bench/train_pytorch.py: nanoGPT's
 * model, same shapes, `pip install torch`), at one and two threads like ours; phases alternate
 * between PyTorch and us so a change in the machine's load hits both. The own SGEMM
 * (refinery_blas_portable.node, built beside OpenBLAS's by npm run build:native) runs too when
 * built, against OpenBLAS: the speed a machine without OpenBLAS gets.
 * PyTorch runs twice: as installed, and with glibc's malloc told to keep freed memory in its
 * heap (GLIBC_TUNABLES, below) as PyTorch's CPU tuning guides advise (they preload jemalloc or
 * tcmalloc): on this virtual machine a freshly mapped page costs ~12 us to touch, PyTorch maps
 * its large tensors fresh every step, and the setting nearly doubles its speed at config B.
 * Ours keeps freed memory by itself (the native addon's keepFreedMemory). Ratios are against
 * the faster PyTorch.
 *
 *   npm run bench -- train [--steps 6] [--configs A,B] [--wasm] (also tfjs's WebAssembly alone)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Random } from '../pipeline/core/random.js';
import { useBackend, type BackendChoice } from '../trainer/backend.js';
import { GPT, flopsPerToken, initialValues, parameterCount, type ModelConfig } from '../trainer/model.js';
import { loadNativeBlas } from '../trainer/native/index.js';
import { releaseKept, useNativeKernels } from '../trainer/ops.js';
import { AdamW } from '../trainer/optimizer.js';
import { calibrate } from '../trainer/train.js';
import { arg, isolated, type PhaseFn, type PhaseResult } from './harness.js';

const CONFIGS: Record<string, { model: ModelConfig; batch: number }> = {
  A: { model: { vocab_size: 512, context: 128, d_model: 128, layers: 4, heads: 4 }, batch: 16 },
  B: { model: { vocab_size: 8192, context: 256, d_model: 256, layers: 6, heads: 8 }, batch: 8 },
};
/** Which native addon a phase uses: the one build:native made, the own-SGEMM one beside it, or none. */
type Native = 'default' | 'portable' | false;

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

function phaseFor(name: string, backend: BackendChoice, native: Native, threads: number, steps: number): PhaseFn {
  return async () => {
    const { model: c, batch: B } = CONFIGS[name];
    const b = { ...(await useBackend(backend, native !== false, threads)) };
    // Each phase names its addon: useBackend would take the own SGEMM's at two threads wherever it is built.
    if (native !== false) {
      const lib = loadNativeBlas(native);
      if (!lib) throw new Error(`the native addon "${native}" is not built (npm run build:native)`);
      lib.setThreads(threads);
      useNativeKernels(lib);
      b.label = `${b.name} + native kernels (${lib.gemm()}, ${threads} thread${threads === 1 ? '' : 's'})`;
    }
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
    const cpu = process.cpuUsage();
    for (let s = 0; s < steps; s++) step();
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    const tokensPerS = (steps * B * T) / seconds;
    const tokensPerCpuS = (steps * B * T) / ((used.user + used.system) / 1e6);
    const peak = await calibrate(B * T, c.d_model, 1);
    // Also against a large product ([1024 x 1024] x [1024 x 4096]), the usual "sgemm peak".
    const large = await calibrate(1024, 1024, 1);
    console.log(
      `  config ${name} on ${b.label}: ${Math.round(tokensPerS).toLocaleString('en')} tokens/s, ${parameterCount(c).toLocaleString('en')} parameters, ` +
        `${(flopsPerToken(c) / 1e6).toFixed(1)} MFLOP/token; matrix products ${(peak / 1e9).toFixed(1)} GFLOP/s at the model's shape, ${(large / 1e9).toFixed(1)} large; ` +
        `MFU ${((100 * tokensPerS * flopsPerToken(c)) / peak).toFixed(1)}% (${((100 * tokensPerS * flopsPerToken(c)) / large).toFixed(1)}% of the large-product peak)`,
    );
    return { bytes: 0, docs: steps * B * T, rates: { wall: tokensPerS, cpu: tokensPerCpuS } };
  };
}

const pytorchScript = fileURLToPath(new URL('../../bench/train_pytorch.py', import.meta.url));

/** glibc malloc settings for the tuned PyTorch run: no fresh mappings for large blocks, freed memory kept, heap on huge pages. */
const KEEP_FREED_MEMORY = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295';

/** PyTorch on the same shapes, in a python3 child; its tokens/s over its own timed steps. */
function pytorchPhase(name: string, threads: number, steps: number, keepFreed: boolean): PhaseFn {
  return () => {
    const { model: c, batch } = CONFIGS[name];
    const args = [pytorchScript, '--vocab', c.vocab_size, '--context', c.context, '--d', c.d_model, '--layers', c.layers, '--heads', c.heads, '--batch', batch, '--threads', threads, '--steps', steps];
    const env = keepFreed ? { ...process.env, GLIBC_TUNABLES: KEEP_FREED_MEMORY } : process.env;
    const r = spawnSync(process.env.PYTHON ?? 'python3', args.map(String), { encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`PyTorch reference failed (pip install torch): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' ')}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { tokens_per_s: number; tokens_per_cpu_s: number; torch: string };
    console.log(`  config ${name} on PyTorch ${out.torch} CPU${keepFreed ? ' (malloc keeps freed memory)' : ''}, ${threads} thread${threads === 1 ? '' : 's'}: ${Math.round(out.tokens_per_s).toLocaleString('en')} tokens/s`);
    return { bytes: 0, docs: steps * batch * c.context, rates: { wall: out.tokens_per_s, cpu: out.tokens_per_cpu_s } };
  };
}

export async function main(args: string[]): Promise<void> {
  const steps = Number(arg(args, 'steps', '6'));
  const configs = arg(args, 'configs', 'A,B').split(',');
  const wasm = args.includes('--wasm');
  // The own SGEMM as a second addon beside OpenBLAS's; where OpenBLAS is absent the default addon is the own SGEMM already.
  const main = loadNativeBlas();
  const portable = main?.gemm() !== 'OpenBLAS' ? false : loadNativeBlas('portable') !== null;
  const phases: Record<string, PhaseFn> = {};
  for (const name of configs) {
    if (!CONFIGS[name]) throw new Error(`unknown config ${name} (A or B)`);
    for (const threads of [1, 2]) {
      const t = `${threads} thread${threads === 1 ? '' : 's'}`;
      phases[`config ${name}: PyTorch, ${t}`] = pytorchPhase(name, threads, steps, false);
      phases[`config ${name}: PyTorch tuned, ${t}`] = pytorchPhase(name, threads, steps, true);
      phases[`config ${name}: native kernels, ${t}`] = phaseFor(name, 'wasm', 'default', threads, steps);
      if (portable) phases[`config ${name}: own SGEMM, ${t}`] = phaseFor(name, 'wasm', 'portable', threads, steps);
    }
    if (wasm) phases[`config ${name}: wasm alone`] = phaseFor(name, 'wasm', false, 1, steps);
  }
  const results = await isolated('train', args, phases);
  if (!results) return;
  const rate = (phase: string, kind: string) => results.find((r) => r.name === phase)?.rates?.[kind];
  const x = (a?: number, b?: number) => (a && b ? `${(a / b).toFixed(2)}x` : '-');
  const n = (v?: number) => (v ? Math.round(v).toLocaleString('en') : '-');
  // Wall-clock tokens/s, and tokens per CPU-second (user + system over the timed steps): on a shared machine the second
  // is what one thread's speed is, since waiting for a core costs no CPU time; at two threads only wall time shows the gain.
  for (const kind of ['wall', 'cpu']) {
    console.log(`\n${kind === 'wall' ? 'tokens/s (wall clock)' : 'tokens per CPU-second'}, same run; native kernels: ${main?.gemm() ?? 'not built'}`);
    console.log('config  threads    PyTorch  PyTorch tuned       ours  ours/PyTorch  own SGEMM  own/ours  own/PyTorch   (ratios: against the faster PyTorch)');
    for (const name of configs)
      for (const threads of [1, 2]) {
        const t = `${threads} thread${threads === 1 ? '' : 's'}`;
        const [plain, tuned, ours, own] = ['PyTorch', 'PyTorch tuned', 'native kernels', 'own SGEMM'].map((w) => rate(`config ${name}: ${w}, ${t}`, kind));
        const py = Math.max(plain ?? 0, tuned ?? 0) || undefined;
        console.log(`${name.padEnd(7)} ${String(threads).padStart(7)}  ${n(plain).padStart(9)}  ${n(tuned).padStart(13)}  ${n(ours).padStart(9)}  ${x(ours, py).padStart(12)}  ${n(own).padStart(9)}  ${x(own, ours).padStart(8)}  ${x(own, py).padStart(11)}`);
      }
  }
  // Throughput is in the lines above (timed steps only); the harness adds each process's peak memory.
  console.log('\nphase                                            peak RSS MB');
  for (const r of results as PhaseResult[]) console.log(`${r.name.padEnd(48)} ${r.died ? `died (${r.died})` : String(r.peakRssMB).padStart(11)}`);
}
