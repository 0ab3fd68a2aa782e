/**
 * The GPT: token and learned position embeddings, pre-LayerNorm blocks of causal multi-head
 * self-attention and a GELU MLP, a final LayerNorm and an output head tied to the token
 * embedding. Initialised as GPT-2: N(0, 0.02), residual projections N(0, 0.02 / sqrt(2 L)),
 * biases 0, LayerNorm gains 1. Read it top to bottom: `forward` is the model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Random } from '../pipeline/core/random.js';
import { attention, crossEntropy, embed, gelu, layerNorm, linear, mm, tokenLogProbs } from './ops.js';

export interface ModelConfig {
  vocab_size: number;
  context: number;
  d_model: number;
  layers: number;
  heads: number;
}

/** Parameter names in a fixed order: checkpoints and the optimizer rely on it. */
export function parameterShapes(c: ModelConfig): [string, number[]][] {
  const d = c.d_model;
  const shapes: [string, number[]][] = [
    ['wte', [c.vocab_size, d]],
    ['wpe', [c.context, d]],
  ];
  for (let l = 0; l < c.layers; l++) {
    shapes.push(
      [`h${l}.ln1.g`, [d]],
      [`h${l}.ln1.b`, [d]],
      [`h${l}.attn.w`, [d, 3 * d]],
      [`h${l}.attn.b`, [3 * d]],
      [`h${l}.proj.w`, [d, d]],
      [`h${l}.proj.b`, [d]],
      [`h${l}.ln2.g`, [d]],
      [`h${l}.ln2.b`, [d]],
      [`h${l}.fc.w`, [d, 4 * d]],
      [`h${l}.fc.b`, [4 * d]],
      [`h${l}.fc2.w`, [4 * d, d]],
      [`h${l}.fc2.b`, [d]],
    );
  }
  shapes.push(['lnf.g', [d]], ['lnf.b', [d]]);
  return shapes;
}

/** Matrices of the blocks get weight decay; embeddings, norms and biases do not. */
export const decays = (name: string) => /\.(attn|proj|fc|fc2)\.w$/.test(name);

export function parameterCount(c: ModelConfig, withPositions = true): number {
  return parameterShapes(c)
    .filter(([n]) => withPositions || n !== 'wpe')
    .reduce((sum, [, s]) => sum + s.reduce((a, b) => a * b, 1), 0);
}

/** Training FLOPs per token, as nanoGPT counts them: 6 N (without position embeddings) + 12 L d T for attention. */
export const flopsPerToken = (c: ModelConfig) => 6 * parameterCount(c, false) + 12 * c.layers * c.d_model * c.context;

export function initialValues(c: ModelConfig, seed: number): Map<string, Float32Array> {
  const random = new Random(seed);
  const normal = () => {
    // Box-Muller on the seeded generator: the same seed gives the same model everywhere.
    const u = Math.max(random.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
  };
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of parameterShapes(c)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(size);
    if (/\.g$/.test(name)) v.fill(1);
    else if (!/\.b$/.test(name)) {
      const std = /\.(proj|fc2)\.w$/.test(name) ? 0.02 / Math.sqrt(2 * c.layers) : 0.02;
      for (let i = 0; i < size; i++) v[i] = normal() * std;
    }
    out.set(name, v);
  }
  return out;
}

/** Tensors' values by name, read without blocking (a GPU backend cannot read synchronously). */
export async function readValues(tensors: Map<string, tf.Tensor>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [n, t] of tensors) out.set(n, (await t.data()) as Float32Array);
  return out;
}

/** The keys and values of the positions decoded so far, per layer [heads, positions, head width]. */
export class KvCache {
  keys: tf.Tensor[] = [];
  values: tf.Tensor[] = [];
  length = 0;

  dispose(): void {
    tf.dispose([...this.keys, ...this.values]);
    this.keys = [];
    this.values = [];
    this.length = 0;
  }
}

export class GPT {
  readonly params = new Map<string, tf.Variable>();
  private readonly mask: tf.Tensor2D;

  constructor(
    readonly config: ModelConfig,
    values: Map<string, Float32Array>,
  ) {
    if (config.d_model % config.heads !== 0) throw new Error(`d_model ${config.d_model} is not divisible by heads ${config.heads}`);
    for (const [name, shape] of parameterShapes(config)) {
      const v = values.get(name);
      if (!v) throw new Error(`no values for parameter ${name}`);
      this.params.set(name, tf.variable(tf.tensor(v, shape, 'float32'), true, name));
    }
    // Added to attention scores: -1e9 above the diagonal (a position sees itself and the past).
    const T = config.context;
    const m = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
    this.mask = tf.keep(tf.tensor2d(m, [T, T]));
  }

  private p(name: string): tf.Tensor {
    return this.params.get(name) as tf.Tensor;
  }

  private layerNorm(x: tf.Tensor, name: string): tf.Tensor {
    return layerNorm(x, this.p(`${name}.g`), this.p(`${name}.b`));
  }

  private linear(x: tf.Tensor, name: string): tf.Tensor {
    return linear(x, this.p(`${name}.w`), this.p(`${name}.b`));
  }

  /** Causal self-attention over x [B*T, d] of B sequences of length T. */
  private attention(x: tf.Tensor, l: number, B: number, T: number): tf.Tensor {
    const qkv = this.linear(x, `h${l}.attn`) as tf.Tensor2D; // [B*T, 3d]
    return this.linear(attention(qkv, B, T, this.config.heads, this.mask), `h${l}.proj`);
  }

  /** Logits [B*T, V] for token ids [B, T]. */
  forward(ids: tf.Tensor2D): tf.Tensor2D {
    const [B, T] = ids.shape;
    const tok = embed(this.p('wte') as tf.Tensor2D, tf.reshape(ids, [-1]) as tf.Tensor1D);
    const pos = tf.slice(this.p('wpe'), [0, 0], [T, this.config.d_model]);
    let x: tf.Tensor = tf.reshape(tf.add(tf.reshape(tok, [B, T, -1]), pos), [B * T, -1]);
    for (let l = 0; l < this.config.layers; l++) {
      x = tf.add(x, this.attention(this.layerNorm(x, `h${l}.ln1`), l, B, T));
      x = tf.add(x, this.linear(gelu(this.linear(this.layerNorm(x, `h${l}.ln2`), `h${l}.fc`)), `h${l}.fc2`));
    }
    return mm(this.layerNorm(x, 'lnf'), this.p('wte'), false, true) as tf.Tensor2D;
  }

  /**
   * Mean cross-entropy (nats) of predicting targets [B, T] from ids [B, T]; with weights [B, T]
   * the weighted mean, sum(w * nll) / sum(w): SFT's mask of the tokens that are the model's to say.
   */
  loss(ids: tf.Tensor2D, targets: tf.Tensor2D, weights?: tf.Tensor2D): tf.Scalar {
    if (!weights) return crossEntropy(this.forward(ids), tf.reshape(targets, [-1]) as tf.Tensor1D);
    const w = tf.reshape(weights, [-1]);
    const lp = this.logProbs(ids, targets);
    return tf.div(tf.neg(tf.sum(tf.mul(lp, w))), tf.maximum(tf.sum(w), 1e-9)) as tf.Scalar;
  }

  /** log p(target) at every position: [B * T]. */
  logProbs(ids: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
    return tokenLogProbs(this.forward(ids), tf.reshape(targets, [-1]) as tf.Tensor1D);
  }

  /**
   * Logits [n, V] of n tokens that follow the cache's positions: each attends to the cached keys
   * and values and causally to the others, and the cache gains theirs. Decoding one token at a
   * time so costs one position per token rather than the whole context. Inference only.
   */
  forwardCached(ids: readonly number[], cache: KvCache): tf.Tensor2D {
    const n = ids.length;
    const past = cache.length;
    const { d_model: d, heads: H, context } = this.config;
    if (n === 0) throw new Error('forwardCached: no tokens');
    if (past + n > context) throw new Error(`forwardCached: ${past + n} positions, more than the context of ${context}`);
    const hd = d / H;
    const mask = new Float32Array(n * (past + n));
    for (let i = 0; i < n; i++) for (let j = past + i + 1; j < past + n; j++) mask[i * (past + n) + j] = -1e9;
    const maskT = tf.tensor2d(mask, [n, past + n]);
    const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [n, H, hd]), [1, 0, 2]); // [H, n, hd]
    let x: tf.Tensor = tf.add(tf.gather(this.p('wte'), tf.tensor1d(Int32Array.from(ids), 'int32')), tf.slice(this.p('wpe'), [past, 0], [n, d]));
    for (let l = 0; l < this.config.layers; l++) {
      const qkv = this.linear(this.layerNorm(x, `h${l}.ln1`), `h${l}.attn`);
      const [q, k, v] = tf.split(qkv, 3, 1).map(heads);
      const K = past ? tf.concat([cache.keys[l], k], 1) : k;
      const V = past ? tf.concat([cache.values[l], v], 1) : v;
      cache.keys[l]?.dispose();
      cache.values[l]?.dispose();
      cache.keys[l] = tf.keep(K);
      cache.values[l] = tf.keep(V);
      // tf.matMul, not mm: mm keeps its operands for a backward pass, and the cache must outlive that.
      const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, K, false, true), 1 / Math.sqrt(hd)), maskT));
      const y = tf.reshape(tf.transpose(tf.matMul(att, V), [1, 0, 2]), [n, d]);
      x = tf.add(x, this.linear(y, `h${l}.proj`));
      x = tf.add(x, this.linear(gelu(this.linear(this.layerNorm(x, `h${l}.ln2`), `h${l}.fc`)), `h${l}.fc2`));
    }
    cache.length = past + n;
    return mm(this.layerNorm(x, 'lnf'), this.p('wte'), false, true) as tf.Tensor2D;
  }

  /** The weights by name; `readValues(params)` reads them on any backend, a GPU's included. */
  values(): Map<string, Float32Array> {
    return new Map([...this.params].map(([n, v]) => [n, v.dataSync() as Float32Array]));
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.mask.dispose();
  }
}
