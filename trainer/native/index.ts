/**
 * Loads the native kernels (trainer/native: matrix products through OpenBLAS or refinery's own
 * SGEMM, fused attention, LayerNorm, GELU, cross-entropy, AdamW) when they were built (see
 * build.ts); null otherwise. `portable` asks for the second addon that build:native makes beside OpenBLAS's
 * (own SGEMM beside OpenBLAS's), for tests and benches.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeKernels } from '../ops.js';

export interface NativeBlas extends NativeKernels {
  setThreads(n: number): void;
  /** What multiplies: "OpenBLAS", "portable SGEMM (AVX2/FMA)" or "portable SGEMM (C)". */
  gemm(): string;
  /** The plain C micro-kernel even where the CPU has AVX2 (tests, benches); false goes back. */
  forcePortableKernel(on: boolean): void;
  /** Large blocks from malloc's heap, kept when freed, so a step's tensors do not fault in fresh pages every step (glibc; false elsewhere). */
  keepFreedMemory(): boolean;
}

export function loadNativeBlas(variant: 'default' | 'portable' = 'default'): NativeBlas | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const name = variant === 'portable' ? 'refinery_blas_portable.node' : 'refinery_blas.node';
  // Next to the sources (trainer/native/build), whether this file runs from there or from dist/.
  const file = [resolve(here, 'build', 'Release', name), resolve(here, '..', '..', '..', 'trainer', 'native', 'build', 'Release', name)].find(existsSync);
  if (!file) return null;
  try {
    return createRequire(import.meta.url)(file) as NativeBlas;
  } catch {
    return null;
  }
}
