/**
 * Picks the tensor backend and says which: @tensorflow/tfjs-node-gpu or -node when installed
 * (their installer downloads libtensorflow, so they are optional and loaded dynamically), else
 * WebGPU when a hardware adapter exists (trainer/webgpu.ts; a software one only when asked
 * for), else WebAssembly (SIMD, one thread in Node), else plain JavaScript.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { UserError } from '../pipeline/core/errors.js';
import { registerGradients } from './gradients.js';
import { loadNativeBlas, type NativeBlas } from './native/index.js';
import { gpuKernels, useGpuKernels, useNativeKernels } from './ops.js';
import { startWebGPU, type WebGPUAdapter } from './webgpu.js';

export type BackendChoice = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export interface Backend {
  /** tfjs's backend: tensorflow, wasm or cpu. */
  name: string;
  /** Native kernels (trainer/native: OpenBLAS or the own SGEMM) with this many threads; 0 when not used. */
  blasThreads: number;
  /** "wasm + native kernels (OpenBLAS, 1 thread)", for reports. */
  label: string;
  /** The WebGPU adapter, on the webgpu backend. */
  adapter?: WebGPUAdapter;
}

/** What is set up now, and the request it answers (choice, native, threads). */
let current: { request: string; backend: Backend } | null = null;

async function tryImport(name: string): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Set up the backend. Unless `native` is false, matrix products go through OpenBLAS when its
 * addon was built (not with libtensorflow, which has its own). The same request again returns
 * what is set up; a different one switches to it (tfjs moves a tensor made on the previous
 * backend to the new one when it is next read), so the latest request is always the one in force.
 * `gpu` false keeps "auto" off WebGPU, for callers that read tensors synchronously.
 */
export async function useBackend(choice: BackendChoice = 'auto', native = true, threads = 1, gpu = true): Promise<Backend> {
  const request = `${choice}, native ${native}, ${threads} thread(s), gpu ${gpu}`;
  if (current?.request === request) return current.backend;
  // Production mode: no debug checks, and no console advice to install tfjs-node (this module says what it uses).
  tf.enableProdMode();
  await registerGradients();
  const want: string[] = [];
  if (choice === 'auto' || choice === 'tensorflow') {
    if ((await tryImport('@tensorflow/tfjs-node-gpu')) || (await tryImport('@tensorflow/tfjs-node'))) want.push('tensorflow');
    else if (choice === 'tensorflow') throw new UserError('backend "tensorflow" needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu installed (npm install @tensorflow/tfjs-node; its installer downloads libtensorflow)');
  }
  let adapter: WebGPUAdapter | null = null;
  if (choice === 'webgpu' && !gpu) throw new UserError('backend "webgpu" is for training; this command reads tensors synchronously, which WebGPU cannot: use another backend');
  if ((choice === 'auto' && gpu) || choice === 'webgpu') {
    let why = '';
    adapter = await startWebGPU(choice === 'webgpu', (reason) => (why = reason));
    if (adapter) want.push('webgpu');
    else if (choice === 'webgpu') throw new UserError(`backend "webgpu": ${why}`);
  }
  if (choice === 'auto' || choice === 'wasm') want.push('wasm');
  if (choice === 'auto' || choice === 'cpu') want.push('cpu');
  for (const name of want) {
    if (await tf.setBackend(name)) {
      await tf.ready();
      // The native kernels read tensors on the CPU: not with libtensorflow (it has its own) nor on a GPU.
      const blas = native && name !== 'tensorflow' && name !== 'webgpu' ? nativeFor(threads) : null;
      if (blas) {
        blas.setThreads(threads);
        blas.keepFreedMemory();
      }
      useNativeKernels(blas);
      // On WebGPU, "native" means the project's own WGSL kernels (fused attention, LayerNorm, GELU, cross-entropy).
      useGpuKernels(name === 'webgpu' && native ? await import('./webgpu-kernels.js') : null);
      const backend: Backend = { name, blasThreads: blas ? threads : 0, label: blas ? `${name} + native kernels (${blas.gemm()}, ${threads} thread${threads === 1 ? '' : 's'})` : name };
      if (name === 'webgpu' && adapter) Object.assign(backend, { adapter, label: `webgpu on ${adapter.name}${native ? ' + WGSL kernels' : ''}` });
      current = { request, backend };
      return backend;
    }
  }
  // tfjs is left on whichever backend it last managed to set; say so rather than keep the old answer.
  current = null;
  throw new UserError(`no tensor backend could start (tried ${want.join(', ')})`);
}

/**
 * The native addon for `threads`: at two threads and more the own SGEMM's where it was built
 * beside OpenBLAS's (bench train, quiet machine: 1.21x OpenBLAS's speed at config B and 1.90x at
 * A on two threads, 0.87-0.90x on one), else the default one.
 */
function nativeFor(threads: number): NativeBlas | null {
  return (threads >= 2 ? loadNativeBlas('portable') : null) ?? loadNativeBlas();
}

/**
 * --precision: f16 runs the matrix products in 16 bits on WebGPU adapters with shader-f16, and
 * is refused anywhere else with the reason; f32 turns it off.
 */
export async function usePrecision(precision: 'f32' | 'f16', backend: Backend): Promise<void> {
  const half = precision === 'f16';
  if (half && backend.name !== 'webgpu') throw new UserError(`--precision f16 needs --backend webgpu on an adapter with shader-f16 (this run's backend: ${backend.label})`);
  if (half && !backend.adapter?.f16) throw new UserError(`--precision f16: the WebGPU adapter ${backend.adapter?.name} lacks shader-f16 (16-bit floats in shaders); use --precision f32`);
  if (half && !gpuKernels()) throw new UserError('--precision f16 runs through the WGSL kernels: drop --no-native');
  if (backend.name === 'webgpu') (await import('./webgpu-kernels.js')).useHalfPrecision(half);
}
