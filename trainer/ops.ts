/**
 * The few operations the GPT needs beyond tfjs's defaults, each with its own gradient:
 *
 * - `mm`: matrix products (2-D, or batched 3-D) with transposes given as flags. WebAssembly's
 *   fast path only takes plain products (a transposed operand is about 10x slower, measured),
 *   so transposes are made explicit there; a native sgemm, when loaded, takes the flags as
 *   they are. Both directions of the gradient are `mm` again.
 * - `embed`: row lookup whose gradient adds rows back in JavaScript (the WebAssembly backend
 *   has no UnsortedSegmentSum, which tfjs's gather gradient needs).
 * - `crossEntropy`: mean negative log-likelihood from logits, gradient softmax - one-hot.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The native kernels (trainer/native): matrix products and fused causal attention, float32, row-major. */
export interface NativeKernels {
  sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, batch: number): void;
  attention(qkv: Float32Array, B: number, T: number, H: number, scale: number, y: Float32Array, p: Float32Array): void;
  attentionBackward(qkv: Float32Array, p: Float32Array, dy: Float32Array, B: number, T: number, H: number, scale: number, dqkv: Float32Array): void;
  layerNorm(x: Float32Array, g: Float32Array, b: Float32Array, y: Float32Array, mean: Float32Array, rstd: Float32Array): void;
  layerNormBackward(x: Float32Array, g: Float32Array, mean: Float32Array, rstd: Float32Array, dy: Float32Array, dx: Float32Array, dg: Float32Array, db: Float32Array): void;
}
let kernels: NativeKernels | null = null;
export function useNativeKernels(k: NativeKernels | null): void {
  kernels = k;
}
export const nativeKernels = () => kernels !== null;

/** The WGSL kernels (trainer/webgpu-kernels.ts), in force on the webgpu backend. */
export type GpuKernels = typeof import('./webgpu-kernels.js');
let gpu: GpuKernels | null = null;
export function useGpuKernels(k: GpuKernels | null): void {
  gpu = k;
}
export const gpuKernels = () => gpu;

type Grad2 = (x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };
/** tf.customGrad for an operation of two tensors, typed. */
const custom2 = (fn: Grad2) => tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => fn(args[0] as tf.Tensor, args[1] as tf.Tensor, args[2] as tf.GradSaveFunc));

const lastTwo = (rank: number) => (rank === 2 ? [1, 0] : [0, 2, 1]);
const t = (x: tf.Tensor) => tf.transpose(x, lastTwo(x.rank));

/** What the WebAssembly backend exposes of its heap (not in its typings). */
interface WasmHeap {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

/** The values of a tensor without copying them where the backend allows (WebAssembly heap, plain JS arrays). */
function valuesOf(x: tf.Tensor): Float32Array {
  const backend = tf.backend() as unknown as Partial<WasmHeap>;
  if (tf.getBackend() === 'wasm' && backend.typedArrayFromHeap) return backend.typedArrayFromHeap(x);
  return x.dataSync() as Float32Array;
}

/** A new float32 tensor of `shape` filled by `fill`, written in place in the WebAssembly heap. */
function tensorFilledBy(shape: number[], fill: (out: Float32Array) => void): tf.Tensor {
  const backend = tf.backend() as unknown as Partial<WasmHeap>;
  if (tf.getBackend() === 'wasm' && backend.makeOutput && backend.typedArrayFromHeap) {
    const info = backend.makeOutput(shape, 'float32');
    fill(backend.typedArrayFromHeap(info));
    return tf.engine().makeTensorFromTensorInfo(info);
  }
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  fill(out);
  return tf.tensor(out, shape, 'float32');
}

function forward(a: tf.Tensor, b: tf.Tensor, transA: boolean, transB: boolean): tf.Tensor {
  if (gpu) return gpu.matMul(a, b, transA, transB);
  const sgemm = kernels?.sgemm;
  if (sgemm) {
    const batch = a.rank === 3 ? a.shape[0] : 1;
    const [ar, ac] = a.shape.slice(-2);
    const [br, bc] = b.shape.slice(-2);
    const m = transA ? ac : ar;
    const k = transA ? ar : ac;
    const n = transB ? br : bc;
    // The output is allocated first: allocation may grow (and so move) the heap under earlier views.
    return tensorFilledBy(a.rank === 3 ? [batch, m, n] : [m, n], (out) => sgemm(transA, transB, m, n, k, valuesOf(a), valuesOf(b), out, batch));
  }
  return tf.matMul(transA ? t(a) : a, transB ? t(b) : b);
}

/**
 * Tensors a backward pass will need, kept without tfjs's defensive copy (its `save` clones,
 * and a clone is a full copy on WebAssembly: 8.5% of a training step, measured). The training
 * step releases them once its gradients are computed.
 */
const kept: tf.Tensor[] = [];
function keepForBackward(...xs: tf.Tensor[]): void {
  // Variables live on their own; keeping and later disposing one would destroy a weight.
  for (const x of xs) if (!(x instanceof tf.Variable)) kept.push(tf.keep(x));
}
export function releaseKept(): void {
  for (const x of kept.splice(0)) x.dispose();
}

/** op(a) @ op(b) for 2-D or batched 3-D float tensors. */
export function mm(a: tf.Tensor, b: tf.Tensor, transA = false, transB = false): tf.Tensor {
  const op = custom2((x, y) => {
    keepForBackward(x, y);
    return {
      value: forward(x, y, transA, transB),
      gradFunc: (dy) => {
        const [A, B] = [x, y];
        if (!transA && !transB) return [mm(dy, B, false, true), mm(A, dy, true, false)];
        if (!transA && transB) return [mm(dy, B), mm(dy, A, true, false)];
        if (transA && !transB) return [mm(B, dy, false, true), mm(A, dy)];
        return [mm(B, dy, true, true), mm(dy, A, true, true)];
      },
    };
  });
  return op(a, b);
}

/** LayerNorm over the last axis (eps 1e-5) with gain g and bias b: one native call per direction, or tfjs ops. */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (gpu && x.rank === 2) return gpu.layerNorm(x, g, b);
  const k = kernels;
  if (!k || x.rank !== 2) {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, gg, bb] = args as tf.Tensor[];
    keepForBackward(xx);
    const rows = xx.shape[0];
    const mean = new Float32Array(rows);
    const rstd = new Float32Array(rows);
    const value = tensorFilledBy(xx.shape, (y) => k.layerNorm(valuesOf(xx), valuesOf(gg), valuesOf(bb), y, mean, rstd));
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const d = gg.shape[0];
        const dg = new Float32Array(d);
        const db = new Float32Array(d);
        const dx = tensorFilledBy(xx.shape, (out) => k.layerNormBackward(valuesOf(xx), valuesOf(gg), mean, rstd, valuesOf(dy), out, dg, db));
        return [dx, tf.tensor1d(dg), tf.tensor1d(db)];
      },
    };
  });
  return op(x, g, b);
}

/** Ones to sum the rows of an [n, c] matrix with one matrix product. */
let ones = new Float32Array(0);

/**
 * x @ w + b for x [N, in], w [in, out], b [out]. The bias gradient (a sum over rows) is a
 * matrix product with a row of ones when native kernels are loaded: tfjs's row sum on
 * WebAssembly transposes first (19% of a training step, measured).
 */
export function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const k = kernels;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, ww, bb] = args as tf.Tensor[];
    keepForBackward(xx);
    return {
      value: tf.add(mm(xx, ww), bb),
      gradFunc: (dy: tf.Tensor) => {
        const [N, n] = dy.shape;
        let db: tf.Tensor;
        if (k) {
          if (ones.length < N) ones = new Float32Array(N).fill(1);
          db = tensorFilledBy([n], (out) => k.sgemm(false, false, 1, n, N, ones, valuesOf(dy), out, 1));
        } else db = tf.sum(dy, 0);
        return [mm(dy, ww, false, true), mm(xx, dy, true, false), db];
      },
    };
  });
  return op(x, w, b);
}

/**
 * Causal multi-head self-attention of B sequences of length T from their qkv projection
 * [B*T, 3d] (q, k, v side by side, heads side by side within each): [B*T, d]. Natively one
 * fused call per direction (the softmax kept for the backward pass); otherwise tfjs ops.
 */
export function attention(qkv: tf.Tensor2D, B: number, T: number, H: number, mask: tf.Tensor2D): tf.Tensor2D {
  const d = qkv.shape[1] / 3;
  const hd = d / H;
  const scale = 1 / Math.sqrt(hd);
  if (gpu?.attentionFits(hd)) return gpu.attention(qkv, B, T, H);
  const k = kernels;
  if (!k) return attentionOps(qkv, B, T, H, mask);
  const op = custom2((x) => {
    keepForBackward(x);
    const p = new Float32Array(B * H * T * T);
    const value = tensorFilledBy([B * T, d], (y) => k.attention(valuesOf(x), B, T, H, scale, y, p));
    return {
      value,
      gradFunc: (dy) => [tensorFilledBy([B * T, 3 * d], (g) => k.attentionBackward(valuesOf(x), p, valuesOf(dy), B, T, H, scale, g)), tf.zerosLike(mask)],
    };
  });
  return op(qkv, mask) as tf.Tensor2D;
}

/** The same with tfjs ops: heads split by reshapes and transposes. */
function attentionOps(qkv: tf.Tensor2D, B: number, T: number, H: number, mask: tf.Tensor2D): tf.Tensor2D {
  const d = qkv.shape[1] / 3;
  const hd = d / H;
  // [B*T, 3d] -> [3, B, H, T, hd] -> three [B*H, T, hd]
  const split = tf.transpose(tf.reshape(qkv, [B, T, 3, H, hd]), [2, 0, 3, 1, 4]);
  const [q, k, v] = tf.unstack(split).map((x) => tf.reshape(x, [B * H, T, hd]));
  const scores = tf.add(tf.mul(mm(q, k, false, true), 1 / Math.sqrt(hd)), T === mask.shape[0] ? mask : tf.slice(mask, [0, 0], [T, T]));
  const y = mm(tf.softmax(scores), v); // [B*H, T, hd]
  return tf.reshape(tf.transpose(tf.reshape(y, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, d]);
}

/** table[ids]: [V, d] and int32 [N] -> [N, d]. */
export function embed(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const op = custom2((tbl, idx) => {
    keepForBackward(idx);
    return {
      value: tf.gather(tbl, idx),
      gradFunc: (dy) => {
        const [V, d] = tbl.shape;
        // On a GPU the rows are added where they are (tensors there cannot be read synchronously).
        if (tf.getBackend() === 'webgpu') return [tf.unsortedSegmentSum(dy, idx as tf.Tensor1D, V), tf.zerosLike(idx)];
        const rows = idx.dataSync();
        const g = dy.dataSync();
        const out = new Float32Array(V * d);
        for (let i = 0; i < rows.length; i++) {
          const to = rows[i] * d;
          const from = i * d;
          for (let j = 0; j < d; j++) out[to + j] += g[from + j];
        }
        return [tf.tensor2d(out, [V, d]), tf.zerosLike(idx)];
      },
    };
  });
  return op(table, ids) as tf.Tensor2D;
}

/**
 * The log-probability of each target: logits [N, V], int32 targets [N] -> [N]. Its gradient
 * (one-hot - softmax, scaled per row) lets a loss weigh tokens as it likes: masked SFT, DPO.
 */
export function tokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const op = custom2((z, y) => {
    keepForBackward(z, y);
    const [N, V] = z.shape;
    const flat = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), y);
    const value = tf.sub(tf.gather(tf.reshape(z, [-1]), flat), tf.logSumExp(z, 1));
    return {
      value,
      gradFunc: (dy) => [tf.mul(tf.sub(tf.oneHot(y as tf.Tensor1D, V), tf.softmax(z)), tf.reshape(dy, [N, 1])), tf.zerosLike(y)],
    };
  });
  return op(logits, targets) as tf.Tensor1D;
}

/** Mean cross-entropy of logits [N, V] against int32 targets [N], in nats. */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  if (gpu) return gpu.crossEntropy(logits, targets);
  const op = custom2((z, y) => {
    keepForBackward(z, y);
    const [N, V] = z.shape;
    const flat = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), y);
    const picked = tf.gather(tf.reshape(z, [-1]), flat);
    const value = tf.mean(tf.sub(tf.logSumExp(z, 1), picked));
    return {
      value,
      gradFunc: (dy) => {
        const [zz, yy] = [z, y];
        const g = tf.mul(tf.sub(tf.softmax(zz), tf.oneHot(yy as tf.Tensor1D, V)), tf.div(dy, N));
        return [g, tf.zerosLike(yy)];
      },
    };
  });
  return op(logits, targets) as tf.Scalar;
}
