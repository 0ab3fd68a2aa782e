/**
 * The native kernels (trainer/native) against references: every SGEMM (OpenBLAS's, refinery's
 * own with its best micro-kernel and with the plain C one) against a naive product over odd
 * shapes, every transpose, one and two threads; and each fused kernel (GELU, cross-entropy,
 * the embedding gradient, the bias add, AdamW) against the tfjs ops it replaces, values and
 * gradients. The own SGEMM is refinery_blas_portable.node, which `REFINERY_BLAS=both npm run
 * build:native` builds beside OpenBLAS's (CI does); where OpenBLAS is absent the default addon
 * is the own SGEMM already.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../pipeline/core/random.js';
import { useBackend } from '../trainer/backend.js';
import { loadNativeBlas, type NativeBlas } from '../trainer/native/index.js';
import { adamwUpdate, crossEntropy, embed, gelu, linear, releaseKept, useNativeKernels } from '../trainer/ops.js';

const main = loadNativeBlas();
const portableBuilt = loadNativeBlas('portable');
/** The own SGEMM: the second addon, or the default one where that is the own SGEMM. */
const portable = portableBuilt ?? (main && main.gemm() !== 'OpenBLAS' ? main : null);
const missing = !main ? 'the native addon is not built (npm run build:native)' : !portable ? "refinery_blas_portable.node is not built (npm run build:native builds it where OpenBLAS is found; REFINERY_BLAS=openblas leaves it out)" : '';
if (missing && process.env.CI === 'true') throw new Error(`${missing}; CI=true requires it (.ci/run builds it)`);

beforeAll(async () => {
  await useBackend('cpu', false);
}, 60_000);
afterAll(() => {
  useNativeKernels(loadNativeBlas());
  main?.setThreads(1);
  portable?.setThreads(1);
});

const randoms = (n: number, seed: number) => {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.next() * 2 - 1);
};

/** op(A) op(B) in float64, row-major, the textbook way. */
function naive(ta: boolean, tb: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

describe.skipIf(!!missing)(`SGEMM against a naive product${missing ? ` (skipped: ${missing})` : ''}`, () => {
  // Shapes around the micro-kernel's 6 x 16 tile and the 256-deep and 120-row blocks, a batch of three, and big enough for two threads.
  const shapes: [number, number, number, number][] = [
    [1, 1, 1, 1],
    [5, 17, 3, 1],
    [6, 16, 256, 1],
    [7, 33, 257, 1],
    [121, 15, 300, 1],
    [13, 50, 9, 3],
    [250, 190, 130, 1],
  ];
  const kernels = (): [string, NativeBlas, boolean][] => [
    [(main as NativeBlas).gemm(), main as NativeBlas, false],
    ...(portable && portable !== main ? [[(portable as NativeBlas).gemm(), portable, false] as [string, NativeBlas, boolean]] : []),
    ['portable SGEMM (C micro-kernel forced)', portable as NativeBlas, true],
  ];
  for (const threads of [1, 2]) {
    it(`matches on odd shapes, every transpose, ${threads} thread(s)`, () => {
      for (const [name, lib, forced] of kernels()) {
        lib.setThreads(threads);
        lib.forcePortableKernel(forced);
        for (const [m, n, k, batch] of shapes) {
          for (const ta of [false, true])
            for (const tb of [false, true]) {
              const a = randoms(batch * m * k, m + n);
              const b = randoms(batch * k * n, k + 7);
              const c = new Float32Array(batch * m * n).fill(Number.NaN);
              lib.sgemm(ta, tb, m, n, k, a, b, c, batch);
              for (let i = 0; i < batch; i++) {
                const want = naive(ta, tb, m, n, k, a.subarray(i * m * k, (i + 1) * m * k), b.subarray(i * k * n, (i + 1) * k * n));
                let worst = 0;
                for (let j = 0; j < m * n; j++) worst = Math.max(worst, Math.abs(c[i * m * n + j] - want[j]));
                expect(worst, `${name}: ${m}x${n}x${k} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} batch ${i}`).toBeLessThan(1e-5 * Math.max(1, Math.sqrt(k)));
              }
            }
        }
        lib.forcePortableKernel(false);
      }
    });
  }

  it('tells glibc malloc to keep freed memory (on glibc systems)', () => {
    const glibc = !!(process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
    expect(main?.keepFreedMemory()).toBe(glibc);
  });

  it('the trainer multiplies with the own SGEMM at two threads and more, with the default addon at one', async () => {
    try {
      expect((await useBackend('cpu', true, 2)).label).toContain(portable!.gemm());
      expect((await useBackend('cpu', true, 1)).label).toContain(main!.gemm());
    } finally {
      await useBackend('cpu', false);
    }
  });

  it('names what multiplies', () => {
    expect(portable?.gemm()).toMatch(/^portable SGEMM \((AVX2\/FMA|C)\)$/);
    portable?.forcePortableKernel(true);
    expect(portable?.gemm()).toBe('portable SGEMM (C)');
    portable?.forcePortableKernel(false);
  });
});

/**
 * Runs f with the tfjs ops and with the native kernels; returns both results' values (and the
 * gradients f asks for). f gets clones of its inputs: the ops release what they kept for the
 * backward pass (releaseKept), as a training step does with its intermediates.
 */
function both(lib: NativeBlas, inputs: tf.Tensor[], f: (...xs: tf.Tensor[]) => tf.Tensor[]): [Float32Array[], Float32Array[]] {
  const run = (k: NativeBlas | null) => {
    useNativeKernels(k);
    const out = tf.tidy(() => f(...inputs.map((x) => tf.clone(x))).map((t) => t.dataSync().slice() as Float32Array));
    releaseKept();
    return out;
  };
  return [run(null), run(lib)];
}

/** Relative error, with a floor of 1e-3 of the output's largest value (float32 rounding near zero is not an error). */
function expectClose(got: Float32Array[], want: Float32Array[], tol: number, what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(got[i].length, `${what} output ${i}`).toBe(want[i].length);
    const floor = 1e-3 * want[i].reduce((a, b) => Math.max(a, Math.abs(b)), 1e-6);
    let worst = 0;
    for (let j = 0; j < want[i].length; j++) worst = Math.max(worst, Math.abs(got[i][j] - want[i][j]) / (floor + Math.abs(want[i][j])));
    expect(worst, `${what} output ${i}`).toBeLessThan(tol);
  }
}

describe.skipIf(!!missing)(`fused kernels against the tfjs ops they replace${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const libs = () => [main, ...(portable && portable !== main ? [portable] : [])] as NativeBlas[];
  for (const threads of [1, 2]) {
    it(`GELU, cross-entropy, embedding, bias: values and gradients, ${threads} thread(s)`, () => {
      for (const lib of libs()) {
        lib.setThreads(threads);
        // Wide enough (over the 32k-element grain) that two threads really split the work.
        const x = tf.tensor2d(randoms(300 * 130, 1).map((v) => v * 6), [300, 130]);
        expectClose(...both(lib, [x], (xx) => {
          const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), tf.sin(t))))([xx]);
          return [gelu(tf.clone(xx)), value, grads[0]];
        }), 3e-4, 'gelu'); // the reference's gradient goes through nine float32 ops: its own rounding is ~1e-4

        const V = 301;
        const logits = tf.tensor2d(randoms(150 * V, 2).map((v) => v * 8), [150, V]);
        const r = new Random(3);
        const targets = tf.tensor1d(Int32Array.from({ length: 150 }, () => r.int(0, V - 1)), 'int32');
        expectClose(...both(lib, [logits, targets, targets], (z0, y0, y1) => {
          const { value, grads } = tf.valueAndGrads((z: tf.Tensor) => tf.mul(crossEntropy(z as tf.Tensor2D, y0 as tf.Tensor1D), 3))([z0]);
          return [crossEntropy(tf.clone(z0) as tf.Tensor2D, y1 as tf.Tensor1D), value, grads[0]];
        }), 1e-4, 'crossEntropy');

        const table = tf.tensor2d(randoms(40 * 24, 4), [40, 24]);
        const ids = tf.tensor1d(Int32Array.from({ length: 90 }, (_, i) => (i * 7) % 40), 'int32');
        const w = tf.tensor2d(randoms(24 * 33, 5), [24, 33]);
        const bias = tf.tensor1d(randoms(33, 6));
        expectClose(...both(lib, [table, w, bias, ids, ids], (t0, w0, b0, i0, i1) => {
          const loss = (t: tf.Tensor, ww: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(linear(embed(t as tf.Tensor2D, i0 as tf.Tensor1D), ww, b)));
          const { value, grads } = tf.valueAndGrads(loss)([t0, w0, b0]);
          return [linear(embed(tf.clone(t0) as tf.Tensor2D, i1 as tf.Tensor1D), tf.clone(w0), tf.clone(b0)), value, ...grads];
        }), 1e-4, 'embed + linear');
      }
    });
  }

  it('AdamW: one fused update equals the tfjs ops, with and without clipping and decay', () => {
    for (const lib of libs()) {
      for (const threads of [1, 2]) {
        lib.setThreads(threads);
        const n = 70_001;
        const [p, g, m] = [1, 2, 3].map((s) => tf.tensor1d(randoms(n, s)));
        const v = tf.tensor1d(randoms(n, 4).map(Math.abs));
        for (const [clip, wd] of [
          [1, 0],
          [0.3, 0.1],
        ]) {
          const s = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: wd, c1: 1 - 0.9 ** 3, c2: 1 - 0.95 ** 3, clip };
          const want = tf.tidy(() => {
            const gg = tf.mul(g, clip);
            const m2 = tf.add(tf.mul(m, s.beta1), tf.mul(gg, 1 - s.beta1));
            const v2 = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(gg), 1 - s.beta2));
            const update = tf.add(tf.div(tf.div(m2, s.c1), tf.add(tf.sqrt(tf.div(v2, s.c2)), s.eps)), tf.mul(p, wd));
            return [tf.sub(p, tf.mul(update, s.lr)), m2, v2].map((t) => t.dataSync().slice() as Float32Array);
          });
          useNativeKernels(lib);
          const got = (adamwUpdate(p, g, m, v, s) as tf.Tensor[]).map((t) => {
            const d = t.dataSync().slice() as Float32Array;
            t.dispose();
            return d;
          });
          useNativeKernels(null);
          expectClose(got, want, 1e-4, `adamw clip ${clip} decay ${wd}`);
        }
      }
    }
  });

  it('refuses ids outside the table and wrong arrays, with the kernel named', () => {
    const lib = main as NativeBlas;
    expect(() => lib.embedBackward(Int32Array.of(0, 5), new Float32Array(4), new Float32Array(6))).toThrow(/embedBackward: an id is outside the table/);
    expect(() => lib.crossEntropy(new Float32Array(6), Int32Array.of(3, 0), new Float32Array(2))).toThrow(/crossEntropy: a target is outside the vocabulary/);
    expect(() => lib.gelu(new Float32Array(4), new Float32Array(3))).toThrow(/gelu:/);
  });
});
