/**
 * Picks the tensor backend and says which: @tensorflow/tfjs-node-gpu or -node when installed
 * (their installer downloads libtensorflow, so they are optional and loaded dynamically), else
 * WebAssembly (SIMD, one thread in Node), else plain JavaScript.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { UserError } from '../pipeline/core/errors.js';
import { registerGradients } from './gradients.js';
import { loadNativeBlas } from './native/index.js';
import { useNativeKernels } from './ops.js';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface Backend {
  /** tfjs's backend: tensorflow, wasm or cpu. */
  name: string;
  /** Native kernels (trainer/native: OpenBLAS or the own SGEMM) with this many threads; 0 when not used. */
  blasThreads: number;
  /** "wasm + native kernels (OpenBLAS, 1 thread)", for reports. */
  label: string;
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
 */
export async function useBackend(choice: BackendChoice = 'auto', native = true, threads = 1): Promise<Backend> {
  const request = `${choice}, native ${native}, ${threads} thread(s)`;
  if (current?.request === request) return current.backend;
  // Production mode: no debug checks, and no console advice to install tfjs-node (this module says what it uses).
  tf.enableProdMode();
  await registerGradients();
  const want: string[] = [];
  if (choice === 'auto' || choice === 'tensorflow') {
    if ((await tryImport('@tensorflow/tfjs-node-gpu')) || (await tryImport('@tensorflow/tfjs-node'))) want.push('tensorflow');
    else if (choice === 'tensorflow') throw new UserError('backend "tensorflow" needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu installed (npm install @tensorflow/tfjs-node; its installer downloads libtensorflow)');
  }
  if (choice === 'auto' || choice === 'wasm') want.push('wasm');
  if (choice === 'auto' || choice === 'cpu') want.push('cpu');
  for (const name of want) {
    if (await tf.setBackend(name)) {
      await tf.ready();
      const blas = native && name !== 'tensorflow' ? loadNativeBlas() : null;
      if (blas) blas.setThreads(threads);
      useNativeKernels(blas);
      const backend = { name, blasThreads: blas ? threads : 0, label: blas ? `${name} + native kernels (${blas.gemm()}, ${threads} thread${threads === 1 ? '' : 's'})` : name };
      current = { request, backend };
      return backend;
    }
  }
  // tfjs is left on whichever backend it last managed to set; say so rather than keep the old answer.
  current = null;
  throw new UserError(`no tensor backend could start (tried ${want.join(', ')})`);
}
