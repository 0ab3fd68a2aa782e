/** Loads the native kernels (OpenBLAS sgemm, fused attention) when they were built (see build.ts); null otherwise. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeKernels } from '../ops.js';

export interface NativeBlas extends NativeKernels {
  setThreads(n: number): void;
}

export function loadNativeBlas(): NativeBlas | null {
  const here = dirname(fileURLToPath(import.meta.url));
  // Next to the sources (trainer/native/build), whether this file runs from there or from dist/.
  const file = [resolve(here, 'build', 'Release', 'refinery_blas.node'), resolve(here, '..', '..', '..', 'trainer', 'native', 'build', 'Release', 'refinery_blas.node')].find(existsSync);
  if (!file) return null;
  try {
    return createRequire(import.meta.url)(file) as NativeBlas;
  } catch {
    return null;
  }
}
