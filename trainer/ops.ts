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
 * - `gelu`: GPT-2's tanh approximation.
 * With native kernels loaded, GELU, cross-entropy, the embedding gradient and AdamW's update
 * (`adamwUpdate`) are each one fused C call per direction instead of a chain of tfjs ops.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The native kernels (trainer/native): matrix products and fused causal attention, float32, row-major. */
export interface NativeKernels {
  sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, batch: number): void;
  attention(qkv: Float32Array, B: number, T: number, H: number, scale: number, y: Float32Array, p: Float32Array): void;
  attentionBackward(qkv: Float32Array, p: Float32Array, dy: Float32Array, B: number, T: number, H: number, scale: number, dqkv: Float32Array): void;
  layerNorm(x: Float32Array, g: Float32Array, b: Float32Array, y: Float32Array, mean: Float32Array, rstd: Float32Array): void;
  layerNormBackward(x: Float32Array, g: Float32Array, mean: Float32Array, rstd: Float32Array, dy: Float32Array, dx: Float32Array, dg: Float32Array, db: Float32Array): void;
  gelu(x: Float32Array, y: Float32Array): void;
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** Mean loss; lse gets each row's log-sum-exp for the backward pass. */
  crossEntropy(logits: Float32Array, targets: Int32Array, lse: Float32Array): number;
  crossEntropyBackward(logits: Float32Array, targets: Int32Array, lse: Float32Array, scale: number, dlogits: Float32Array): void;
  /** hyper: [lr, beta1, beta2, eps, weightDecay, 1 - beta1^t, 1 - beta2^t, clip]. */
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, pOut: Float32Array, mOut: Float32Array, vOut: Float32Array, hyper: number[]): void;
  sumSquares(x: Float32Array): number;
  embedBackward(ids: Int32Array, dy: Float32Array, out: Float32Array): void;
  /** Each row of x += b, in place. */
  addBias(x: Float32Array, b: Float32Array): void;
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

/** The same for an int32 tensor (token ids). */
const idsOf = (x: tf.Tensor) => valuesOf(x) as unknown as Int32Array;

/** A new float32 tensor of `shape` filled by `fill`, written in place in the WebAssembly heap. */
function tensorFilledBy(shape: number[], fill: (out: Float32Array) => void): tf.Tensor {
  return tensorsFilledBy([shape], ([out]) => fill(out))[0];
}

/** New float32 tensors of these shapes, all allocated before `fill` sees any (allocation may move the heap). */
function tensorsFilledBy(shapes: number[][], fill: (outs: Float32Array[]) => void): tf.Tensor[] {
  const backend = tf.backend() as unknown as Partial<WasmHeap>;
  if (tf.getBackend() === 'wasm' && backend.makeOutput && backend.typedArrayFromHeap) {
    const heap = backend as WasmHeap;
    const infos = shapes.map((shape) => heap.makeOutput(shape, 'float32'));
    fill(infos.map((info) => heap.typedArrayFromHeap(info)));
    return infos.map((info) => tf.engine().makeTensorFromTensorInfo(info));
  }
  const outs = shapes.map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
  fill(outs);
  return outs.map((out, i) => tf.tensor(out, shapes[i], 'float32'));
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
    // Natively the bias is added in place to the fresh product (tfjs's broadcasting add is a pass of its own).
    const value = k ? mm(xx, ww) : tf.add(mm(xx, ww), bb);
    if (k) k.addBias(valuesOf(value), valuesOf(bb));
    return {
      value,
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
        const k = kernels;
        if (k) return [tensorFilledBy([V, d], (out) => k.embedBackward(idsOf(idx), valuesOf(dy), out)), tf.zerosLike(idx)];
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
  const k = kernels;
  if (k) return crossEntropyNative(k, logits, targets);
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

/** The same in one native call per direction: the forward keeps each row's log-sum-exp, the backward makes softmax - one-hot from it. */
function crossEntropyNative(k: NativeKernels, logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  const op = custom2((z, y) => {
    keepForBackward(z, y);
    const [N, V] = z.shape;
    const lse = new Float32Array(N);
    const value = tf.scalar(k.crossEntropy(valuesOf(z), idsOf(y), lse));
    return {
      value,
      gradFunc: (dy) => {
        const scale = dy.dataSync()[0] / N;
        return [tensorFilledBy([N, V], (out) => k.crossEntropyBackward(valuesOf(z), idsOf(y), lse, scale, out)), tf.zerosLike(y)];
      },
    };
  });
  return op(logits, targets) as tf.Scalar;
}

/** GPT-2's GELU, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): a WGSL kernel on WebGPU, one native call per direction, or tfjs ops. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (gpu) return gpu.gelu(x);
  const k = kernels;
  if (!k) {
    // x*x*x: tf.pow is 4x slower here, measured.
    const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xx = args[0] as tf.Tensor;
    keepForBackward(xx);
    return {
      value: tensorFilledBy(xx.shape, (y) => k.gelu(valuesOf(xx), y)),
      gradFunc: (dy: tf.Tensor) => tensorFilledBy(xx.shape, (dx) => k.geluBackward(valuesOf(xx), valuesOf(dy), dx)),
    };
  });
  return op(x);
}

/** AdamW's hyperparameters for one update, as the native kernel takes them. */
export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1 - beta1^t and 1 - beta2^t. */
  c1: number;
  c2: number;
  /** Factor on the gradient (global-norm clipping), 1 for none. */
  clip: number;
}

/**
 * One AdamW update of p, m and v from gradient g in a single native pass: new tensors for all
 * three, which the caller assigns to its variables. Null without native kernels.
 */
export function adamwUpdate(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: AdamWStep): [tf.Tensor, tf.Tensor, tf.Tensor] | null {
  const k = kernels;
  if (!k) return null;
  const hyper = [s.lr, s.beta1, s.beta2, s.eps, s.weightDecay, s.c1, s.c2, s.clip];
  const [pOut, mOut, vOut] = tensorsFilledBy([p.shape, p.shape, p.shape], ([po, mo, vo]) => k.adamw(valuesOf(p), valuesOf(g), valuesOf(m), valuesOf(v), po, mo, vo, hyper));
  return [pOut, mOut, vOut];
}

/** Sum of squares of every tensor (the gradients' global norm squared): natively one pass each, else tfjs ops. */
export function sumOfSquares(xs: tf.Tensor[]): number {
  const k = kernels;
  if (k) return xs.reduce((sum, x) => sum + k.sumSquares(valuesOf(x)), 0);
  return tf.tidy(() => tf.addN(xs.map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
}
