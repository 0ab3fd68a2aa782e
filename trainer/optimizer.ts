/**
 * AdamW (decoupled weight decay, Loshchilov & Hutter) with global-norm gradient clipping,
 * and the learning-rate schedules: linear warmup, then cosine decay to min_lr, or WSD
 * (warmup-stable-decay: constant, then a linear decay to zero over the last decay_frac of
 * the steps, the schedule that makes annealing a phase of its own), or constant.
 */
import * as tf from '@tensorflow/tfjs-core';
import { decays } from './model.js';
import { adamwUpdate, gpuKernels, nativeKernels, sumOfSquares } from './ops.js';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
  grad_clip: number;
}

export interface ScheduleConfig {
  lr: number;
  min_lr: number;
  warmup: number;
  schedule: 'cosine' | 'wsd' | 'constant';
  decay_frac: number;
  steps: number;
}

/** The learning rate at `step` (0-based) of `steps`. */
export function learningRate(c: ScheduleConfig, step: number): number {
  if (c.warmup > 0 && step < c.warmup) return (c.lr * (step + 1)) / c.warmup;
  if (c.schedule === 'constant') return c.lr;
  if (c.schedule === 'wsd') {
    const decaySteps = Math.max(1, Math.round(c.steps * c.decay_frac));
    const start = c.steps - decaySteps;
    if (step < start) return c.lr;
    return c.min_lr + (c.lr - c.min_lr) * Math.max(0, (c.steps - step - 1) / decaySteps);
  }
  const progress = Math.min(1, (step - c.warmup) / Math.max(1, c.steps - c.warmup));
  return c.min_lr + 0.5 * (c.lr - c.min_lr) * (1 + Math.cos(Math.PI * progress));
}

/**
 * The sum of every gradient's squares on the backend. WebGPU binds each input of an addition as
 * a storage buffer, at most 16 per shader stage on some adapters (compatibility mode): there the
 * sums are added 15 at a time.
 */
function squaresOnBackend(grads: Record<string, tf.Tensor>): tf.Tensor {
  let parts = Object.values(grads).map((g) => tf.sum(tf.square(g)));
  if (tf.getBackend() === 'webgpu') while (parts.length > 15) parts = Array.from({ length: Math.ceil(parts.length / 15) }, (_, i) => tf.addN(parts.slice(15 * i, 15 * i + 15)));
  return tf.addN(parts);
}

/** The gradients' global norm: natively one pass per gradient; elsewhere summed on the backend and read without blocking (what a GPU backend needs). */
export async function gradientNorm(grads: Record<string, tf.Tensor>): Promise<number> {
  if (nativeKernels()) return Math.sqrt(sumOfSquares(Object.values(grads)));
  const s = tf.tidy(() => squaresOnBackend(grads));
  const [v] = await s.data();
  s.dispose();
  return Math.sqrt(v);
}

export class AdamW {
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  /** Updates taken so far (bias correction). */
  t = 0;

  constructor(
    private readonly params: Map<string, tf.Variable>,
    private readonly c: AdamWConfig,
    state?: { t: number; m: Map<string, Float32Array>; v: Map<string, Float32Array> },
  ) {
    for (const [name, p] of params) {
      const m = state?.m.get(name);
      const v = state?.v.get(name);
      this.m.set(name, tf.variable(m ? tf.tensor(m, p.shape) : tf.zerosLike(p), false));
      this.v.set(name, tf.variable(v ? tf.tensor(v, p.shape) : tf.zerosLike(p), false));
    }
    this.t = state?.t ?? 0;
  }

  /**
   * One update from gradients (by parameter name); returns the gradients' global norm before
   * clipping. The norm may be given, read beforehand with `gradientNorm` (a GPU's tensors are
   * read asynchronously).
   */
  step(grads: Record<string, tf.Tensor>, lr: number, norm = Math.sqrt(sumOfSquares(Object.values(grads)))): number {
    const clip = this.c.grad_clip > 0 && norm > this.c.grad_clip ? this.c.grad_clip / norm : 1;
    this.t++;
    const { beta1: b1, beta2: b2, eps, weight_decay: wd } = this.c;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    const onGpu = gpuKernels()?.adamW;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g0 = grads[name];
        if (!g0) throw new Error(`no gradient for ${name}`);
        if (onGpu) {
          // On WebGPU: one kernel per moment and one for the parameter (trainer/webgpu-kernels.ts).
          onGpu(p, g0, this.m.get(name) as tf.Variable, this.v.get(name) as tf.Variable, { clip, lr, beta1: b1, beta2: b2, eps, decay: wd > 0 && decays(name) ? wd : 0, c1, c2 });
          continue;
        }
        const m = this.m.get(name) as tf.Variable;
        const v = this.v.get(name) as tf.Variable;
        // Natively one fused pass per parameter (tfjs needs a dozen ops, each a pass over memory).
        const fused = adamwUpdate(p, g0, m, v, { lr, beta1: b1, beta2: b2, eps, weightDecay: wd > 0 && decays(name) ? wd : 0, c1, c2, clip });
        if (fused) {
          p.assign(fused[0]);
          m.assign(fused[1]);
          v.assign(fused[2]);
          continue;
        }
        const g = clip === 1 ? g0 : tf.mul(g0, clip);
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        let update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        if (wd > 0 && decays(name)) update = tf.add(update, tf.mul(p, wd));
        p.assign(tf.sub(p, tf.mul(update, lr)));
      }
    });
    return norm;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}
