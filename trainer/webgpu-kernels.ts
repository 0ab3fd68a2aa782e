/**
 * The GPT's own WGSL kernels on tfjs's WebGPU backend, each with its gradient: LayerNorm, GELU,
 * softmax cross-entropy, and fused causal attention (flash-style: key/value tiles in workgroup
 * memory, an online softmax, only the log-sum-exp of each row kept for the backward pass, never
 * the T x T scores). Composed from tfjs ops, each of these is several dispatches and full-size
 * temporaries; here each direction is one to three dispatches. Also the AdamW update, and the
 * tiled matrix product that --precision f16 runs in 16 bits.
 *
 * The kernels run through tfjs-backend-webgpu's `runWebGPUProgram`, which writes the shader's
 * prelude (bindings `result` and one array per input name, uniforms) around `getUserCode()`.
 * Every size is baked into a kernel's code (constant loop bounds), so its key names the shapes.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-webgpu's program interface used here. */
interface Program {
  variableNames: string[];
  uniforms?: string;
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size?: boolean;
  getUserCode(): string;
}
interface WebGPUBackendLike {
  runWebGPUProgram(p: Program, inputs: tf.TensorInfo[], dtype: 'float32', uniforms?: { type: 'float32'; data: number[] }[]): tf.TensorInfo;
}

const WG = 64;
/** Key (or query) rows per tile of the attention kernels: two 32 x 64 float tiles fit compatibility mode's 16 KB. */
const TILE = 32;
/**
 * Whether the fused attention kernels take heads of size hd on this device: up to 128 (four
 * private arrays of hd floats per invocation), and two TILE x hd float tiles, plus the dk/dv
 * kernel's per-row values, within the device's workgroup memory. Otherwise tfjs ops.
 */
export function attentionFits(hd: number): boolean {
  const limits = (tf.backend() as unknown as { device?: { limits: { maxComputeWorkgroupStorageSize: number } } }).device?.limits;
  return hd <= 128 && (2 * TILE * hd + 2 * TILE + 4) * 4 <= (limits?.maxComputeWorkgroupStorageSize ?? 16_384);
}

/**
 * Runs WGSL `body` (inside `fn main(index: i32)`, `index` the global invocation) and returns its
 * output as a tensor. `floats` are f32 uniforms by name (`uniforms.name`): values that change
 * from call to call without compiling a new shader.
 */
function run(key: string, inputs: tf.Tensor[], names: string[], outputShape: number[], dispatch: [number, number, number], body: string, prelude = '', floats: Record<string, number> = {}): tf.Tensor {
  const program: Program = {
    variableNames: names,
    uniforms: Object.keys(floats)
      .map((n) => `${n} : f32,`)
      .join(' '),
    outputShape,
    // tfjs keys its pipeline cache by ranks, not sizes; these shaders have their sizes baked in.
    shaderKey: `refinery_${key}_${[...inputs.map((t) => t.shape), outputShape].map((s) => s.join('x')).join('_')}`,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch,
    workgroupSize: [WG, 1, 1],
    getUserCode: () => `${prelude}\n${uniformIds}\nfn main(index: i32) {\n${loadIds}\n${body}\n}`,
  };
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  // One entry per field, in the order of the declaration.
  const uniforms = Object.values(floats).map((v) => ({ type: 'float32' as const, data: [v] }));
  return tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(program, inputs, 'float32', uniforms));
}

/**
 * The workgroup's id (x, y, z, and its number along a flattened dispatch) as a value WGSL knows
 * to be uniform, so barriers may follow control flow that depends on it: tfjs's prelude copies
 * the builtin into a private variable, which the uniformity analysis cannot trust, so it goes
 * through workgroupUniformLoad.
 */
const uniformIds = 'var<workgroup> wgShared: vec4<i32>;';
const loadIds = `
  if (localIndex == 0u) {
    wgShared = vec4<i32>(i32(workgroupId.x), i32(workgroupId.y), i32(workgroupId.z), i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x));
  }
  let wg = workgroupUniformLoad(&wgShared);
  // tfjs binds its uniforms whether used or not; the pipeline's derived layout keeps only what is used.
  _ = uniforms.NAN;`;
const workgroupIndex = 'wg.w';

/**
 * A sum and a maximum over the workgroup's 64 invocations (every invocation must call them).
 * The total goes out through a scalar that one invocation writes between barriers (tfjs's
 * softmax does the same): every invocation reading the tree's root element instead saw stale
 * values on Mesa's llvmpipe, so a LayerNorm's variance came out wrong.
 */
const tree = (combine: (a: string, b: string) => string) =>
  Array.from({ length: Math.log2(WG) }, (_, i) => WG >> (i + 1))
    .map((s) => `  if (tid < ${s}) { red[tid] = ${combine('red[tid]', `red[tid + ${s}]`)}; }\n  workgroupBarrier();`)
    .join('\n');
const reduceSum = `
var<workgroup> red: array<f32, ${WG}>;
var<workgroup> redOut: f32;
fn workgroupSum(v: f32, tid: i32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
${tree((a, b) => `${a} + ${b}`)}
  if (tid == 0) { redOut = red[0]; }
  workgroupBarrier();
  let out = redOut;
  workgroupBarrier();
  return out;
}
fn workgroupMax(v: f32, tid: i32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
${tree((a, b) => `max(${a}, ${b})`)}
  if (tid == 0) { redOut = red[0]; }
  workgroupBarrier();
  let out = redOut;
  workgroupBarrier();
  return out;
}`;

const flat = (n: number): [number, number, number] => [Math.ceil(n / WG), 1, 1];

// ---- LayerNorm --------------------------------------------------------------------------

/** Mean and 1/sqrt(variance + 1e-5) of each row of x [N, d]: [N, 2]. */
export function rowStats(x: tf.Tensor): tf.Tensor {
  const [N, d] = x.shape;
  return run(`ln_stats_${d}`, [x], ['X'], [N, 2], [N, 1, 1], `
  let row = ${workgroupIndex};
  let tid = i32(localId.x);
  var s = 0.0;
  for (var c = tid; c < ${d}; c += ${WG}) { s += X[row * ${d} + c]; }
  let mean = workgroupSum(s, tid) / ${d}.0;
  var q = 0.0;
  for (var c = tid; c < ${d}; c += ${WG}) { let e = X[row * ${d} + c] - mean; q += e * e; }
  let variance = workgroupSum(q, tid) / ${d}.0;
  if (tid == 0) {
    result[row * 2] = mean;
    result[row * 2 + 1] = inverseSqrt(variance + 1e-5);
  }`, reduceSum);
}

export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, gg, bb, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [N, d] = xx.shape;
    const stats = rowStats(xx);
    save([xx, gg, stats]);
    const value = run(`ln_apply_${d}`, [xx, gg, bb, stats], ['X', 'G', 'Bias', 'S'], [N, d], flat(N * d), `
  if (index >= ${N * d}) { return; }
  let row = index / ${d};
  let c = index % ${d};
  result[index] = (X[index] - S[row * 2]) * S[row * 2 + 1] * G[c] + Bias[c];`);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, st] = saved;
        // dx = rstd * (dy g - mean(dy g) - xhat * mean(dy g xhat)), one workgroup per row.
        const dx = run(`ln_dx_${d}`, [sx, sg, st, dy], ['X', 'G', 'S', 'DY'], [N, d], [N, 1, 1], `
  let row = ${workgroupIndex};
  let tid = i32(localId.x);
  let mean = S[row * 2];
  let rstd = S[row * 2 + 1];
  var a = 0.0;
  var p = 0.0;
  for (var c = tid; c < ${d}; c += ${WG}) {
    let i = row * ${d} + c;
    let dh = DY[i] * G[c];
    a += dh;
    p += dh * (X[i] - mean) * rstd;
  }
  let ma = workgroupSum(a, tid) / ${d}.0;
  let mp = workgroupSum(p, tid) / ${d}.0;
  for (var c = tid; c < ${d}; c += ${WG}) {
    let i = row * ${d} + c;
    result[i] = rstd * (DY[i] * G[c] - ma - (X[i] - mean) * rstd * mp);
  }`, reduceSum);
        const xhat = tf.mul(tf.sub(sx, tf.slice(st, [0, 0], [N, 1])), tf.slice(st, [0, 1], [N, 1]));
        return [dx, tf.sum(tf.mul(dy, xhat), 0), tf.sum(dy, 0)];
      },
    };
  });
  return op(x, g, b);
}

// ---- GELU (GPT-2's tanh approximation) --------------------------------------------------

const geluCommon = `
const k = 0.7978845608028654;
fn tanhInner(x: f32) -> f32 {
  // Clamped: some drivers' tanh overflows to NaN for large arguments; |u| > 10 is +-1 in f32 anyway.
  return tanh(clamp(k * (x + 0.044715 * x * x * x), -10.0, 10.0));
}`;

export function gelu(x: tf.Tensor): tf.Tensor {
  const n = x.size;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([xx]);
    const value = run('gelu', [xx], ['X'], xx.shape, flat(n), `
  if (index >= ${n}) { return; }
  let x = X[index];
  result[index] = 0.5 * x * (1.0 + tanhInner(x));`, geluCommon);
    return {
      value,
      gradFunc: (dy: tf.Tensor, [sx]: tf.Tensor[]) =>
        run('gelu_grad', [sx, dy], ['X', 'DY'], sx.shape, flat(n), `
  if (index >= ${n}) { return; }
  let x = X[index];
  let t = tanhInner(x);
  result[index] = DY[index] * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3.0 * 0.044715 * x * x));`, geluCommon),
    };
  });
  return op(x);
}

// ---- softmax cross-entropy --------------------------------------------------------------

/** Each row's log-sum-exp (every invocation of the workgroup calls it; row uniform). */
const logSumExp = (V: number) => `
fn rowLogSumExp(row: i32, tid: i32) -> f32 {
  var m = -3.4e38;
  for (var c = tid; c < ${V}; c += ${WG}) { m = max(m, Z[row * ${V} + c]); }
  let rowMax = workgroupMax(m, tid);
  var s = 0.0;
  for (var c = tid; c < ${V}; c += ${WG}) { s += exp(Z[row * ${V} + c] - rowMax); }
  return rowMax + log(workgroupSum(s, tid));
}`;

/** Mean cross-entropy of logits [N, V] against int32 targets [N]: per-row losses in one dispatch, gradient softmax - one-hot in one. */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  const [N, V] = logits.shape;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([z, y]);
    const rows = run(`ce_${V}`, [z, y], ['Z', 'Y'], [N], [N, 1, 1], `
  let row = ${workgroupIndex};
  let tid = i32(localId.x);
  let lse = rowLogSumExp(row, tid);
  if (tid == 0) { result[row] = lse - Z[row * ${V} + Y[row]]; }`, reduceSum + logSumExp(V));
    return {
      value: tf.mean(rows),
      gradFunc: (dy: tf.Tensor, [sz, sy]: tf.Tensor[]) => {
        // dy is a scalar on the GPU: it is read there, never brought back.
        const g = run(`ce_grad_${V}`, [sz, sy, tf.reshape(dy, [1])], ['Z', 'Y', 'DY'], [N, V], [N, 1, 1], `
  let row = ${workgroupIndex};
  let tid = i32(localId.x);
  let lse = rowLogSumExp(row, tid);
  let scale = DY[0] / ${N}.0;
  let want = Y[row];
  for (var c = tid; c < ${V}; c += ${WG}) {
    let i = row * ${V} + c;
    result[i] = (exp(Z[i] - lse) - select(0.0, 1.0, c == want)) * scale;
  }`, reduceSum + logSumExp(V));
        return [g, tf.zerosLike(sy)];
      },
    };
  });
  return op(logits, targets) as tf.Scalar;
}

// ---- fused causal attention -------------------------------------------------------------

interface AttentionShape {
  B: number;
  T: number;
  H: number;
  hd: number;
  d: number;
}

/** Common constants, and the q/k/v element offsets within the qkv matrix [B*T, 3d]. */
const attentionCommon = ({ T, H, hd, d }: AttentionShape) => `
const T = ${T};
const H = ${H};
const HD = ${hd};
const D = ${d};
const SCALE = ${1 / Math.sqrt(hd)};
const TILE = ${TILE};
fn qAt(b: i32, t: i32, h: i32) -> i32 { return (b * T + t) * 3 * D + h * HD; }
fn kAt(b: i32, t: i32, h: i32) -> i32 { return (b * T + t) * 3 * D + D + h * HD; }
fn vAt(b: i32, t: i32, h: i32) -> i32 { return (b * T + t) * 3 * D + 2 * D + h * HD; }`;

/** Key and value tiles in workgroup memory, for the kernels that walk a query row's keys (forward and dq). */
const keyValueTiles = (hd: number) => `
var<workgroup> kTile: array<f32, ${TILE * hd}>;
var<workgroup> vTile: array<f32, ${TILE * hd}>;
// Rows k0 .. k0 + TILE of k and v for (sequence b, head h), loaded together by the workgroup's invocations.
fn loadKeyValueTile(b: i32, h: i32, k0: i32, tid: i32) {
  for (var i = tid; i < TILE * HD; i += ${WG}) {
    let j = k0 + i / HD;
    if (j < T) {
      kTile[i] = QKV[kAt(b, j, h) + i % HD];
      vTile[i] = QKV[vAt(b, j, h) + i % HD];
    }
  }
}`;

/**
 * The loop of the kernels that walk each query row's keys: key tiles up to the workgroup's last
 * row (causal), each loaded once for all 64 queries; `inner` runs for each key j <= t (its row
 * jj of the tiles).
 */
const overVisibleKeys = (inner: string) => `
  let keyEnd = min(T, row0 + ${WG});
  for (var k0 = 0; k0 < keyEnd; k0 += TILE) {
    loadKeyValueTile(b, h, k0, tid);
    workgroupBarrier();
    if (t < T) {
      for (var jj = 0; jj < TILE; jj++) {
        let j = k0 + jj;
        if (j > t) { break; }
${inner}
      }
    }
    workgroupBarrier();
  }`;

/** Workgroups: 64 rows of one (sequence, head) each. */
const attentionDispatch = ({ B, T, H }: AttentionShape): [number, number, number] => [Math.ceil(T / WG), H, B];
const attentionIds = `
  let b = wg.z;
  let h = wg.y;
  let row0 = wg.x * ${WG};
  let tid = i32(localId.x);
  let t = row0 + tid;`;

/**
 * Forward: [B*T, d + H]: the attention output (heads side by side), then each row's
 * log-sum-exp of scaled scores per head (what the backward pass recomputes probabilities from).
 */
function attentionForward(qkv: tf.Tensor, s: AttentionShape): tf.Tensor {
  const { B, T, H, hd, d } = s;
  return run(`attn_fwd_${B}_${T}_${H}_${hd}`, [qkv], ['QKV'], [B * T, d + H], attentionDispatch(s), `${attentionIds}
  var q: array<f32, HD>;
  var acc: array<f32, HD>;
  if (t < T) { for (var e = 0; e < HD; e++) { q[e] = QKV[qAt(b, t, h) + e] * SCALE; } }
  var m = -3.4e38;
  var l = 0.0;
${overVisibleKeys(`
        var sc = 0.0;
        for (var e = 0; e < HD; e++) { sc += q[e] * kTile[jj * HD + e]; }
        // Online softmax: rescale what was summed when the running maximum grows.
        let mNew = max(m, sc);
        let corr = exp(m - mNew);
        let p = exp(sc - mNew);
        l = l * corr + p;
        for (var e = 0; e < HD; e++) { acc[e] = acc[e] * corr + p * vTile[jj * HD + e]; }
        m = mNew;
`)}
  if (t < T) {
    let out = (b * T + t) * (D + H);
    for (var e = 0; e < HD; e++) { result[out + h * HD + e] = acc[e] / l; }
    result[out + D + h] = m + log(l);
  }`, attentionCommon(s) + keyValueTiles(hd));
}

/** dq [B*T, d]: per query row, over its keys (tiles of k and v in workgroup memory). */
function attentionDq(qkv: tf.Tensor, dy: tf.Tensor, lse: tf.Tensor, delta: tf.Tensor, s: AttentionShape): tf.Tensor {
  const { B, T, H, hd, d } = s;
  return run(`attn_dq_${B}_${T}_${H}_${hd}`, [qkv, dy, lse, delta], ['QKV', 'DY', 'L', 'DELTA'], [B * T, d], attentionDispatch(s), `${attentionIds}
  var q: array<f32, HD>;
  var dO: array<f32, HD>;
  var dq: array<f32, HD>;
  var lRow = 0.0;
  var dRow = 0.0;
  if (t < T) {
    for (var e = 0; e < HD; e++) { q[e] = QKV[qAt(b, t, h) + e] * SCALE; dO[e] = DY[(b * T + t) * D + h * HD + e]; }
    lRow = L[(b * T + t) * H + h];
    dRow = DELTA[(b * T + t) * H + h];
  }
${overVisibleKeys(`
        var sc = 0.0;
        var dp = 0.0;
        for (var e = 0; e < HD; e++) { sc += q[e] * kTile[jj * HD + e]; dp += dO[e] * vTile[jj * HD + e]; }
        let ds = exp(sc - lRow) * (dp - dRow);
        for (var e = 0; e < HD; e++) { dq[e] += ds * kTile[jj * HD + e]; }
`)}
  if (t < T) { for (var e = 0; e < HD; e++) { result[(b * T + t) * D + h * HD + e] = dq[e] * SCALE; } }`, attentionCommon(s) + keyValueTiles(hd));
}

/** dk and dv [B*T, 2d] (k's columns, then v's): per key row, over the queries that see it. */
function attentionDkv(qkv: tf.Tensor, dy: tf.Tensor, lse: tf.Tensor, delta: tf.Tensor, s: AttentionShape): tf.Tensor {
  const { B, T, H, hd, d } = s;
  return run(`attn_dkv_${B}_${T}_${H}_${hd}`, [qkv, dy, lse, delta], ['QKV', 'DY', 'L', 'DELTA'], [B * T, 2 * d], attentionDispatch(s), `${attentionIds}
  var k: array<f32, HD>;
  var v: array<f32, HD>;
  var dk: array<f32, HD>;
  var dv: array<f32, HD>;
  if (t < T) { for (var e = 0; e < HD; e++) { k[e] = QKV[kAt(b, t, h) + e]; v[e] = QKV[vAt(b, t, h) + e]; } }
  // Query tiles from the workgroup's first key row on (earlier queries cannot see these keys).
  for (var q0 = row0 - row0 % TILE; q0 < T; q0 += TILE) {
    for (var i = tid; i < TILE * HD; i += ${WG}) {
      let r = q0 + i / HD;
      if (r < T) {
        qTile[i] = QKV[qAt(b, r, h) + i % HD] * SCALE;
        oTile[i] = DY[(b * T + r) * D + h * HD + i % HD];
      }
    }
    if (tid < TILE && q0 + tid < T) {
      lTile[tid] = L[(b * T + q0 + tid) * H + h];
      dTile[tid] = DELTA[(b * T + q0 + tid) * H + h];
    }
    workgroupBarrier();
    if (t < T) {
      for (var ii = 0; ii < TILE; ii++) {
        let r = q0 + ii;
        if (r >= T) { break; }
        if (r < t) { continue; }
        var sc = 0.0;
        var dp = 0.0;
        for (var e = 0; e < HD; e++) { sc += qTile[ii * HD + e] * k[e]; dp += oTile[ii * HD + e] * v[e]; }
        let p = exp(sc - lTile[ii]);
        let ds = p * (dp - dTile[ii]);
        for (var e = 0; e < HD; e++) { dv[e] += p * oTile[ii * HD + e]; dk[e] += ds * qTile[ii * HD + e]; }
      }
    }
    workgroupBarrier();
  }
  if (t < T) {
    let out = (b * T + t) * 2 * D + h * HD;
    // qTile holds q * SCALE, so dk already carries the scale.
    for (var e = 0; e < HD; e++) { result[out + e] = dk[e]; result[out + D + e] = dv[e]; }
  }`, `${attentionCommon(s)}
var<workgroup> qTile: array<f32, ${TILE * hd}>;
var<workgroup> oTile: array<f32, ${TILE * hd}>;
var<workgroup> lTile: array<f32, ${TILE}>;
var<workgroup> dTile: array<f32, ${TILE}>;`);
}

/** Causal multi-head self-attention from qkv [B*T, 3d]: [B*T, d], fused in both directions. */
export function attention(qkv: tf.Tensor2D, B: number, T: number, H: number): tf.Tensor2D {
  const d = qkv.shape[1] / 3;
  const s: AttentionShape = { B, T, H, hd: d / H, d };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const both = attentionForward(x, s);
    const y = tf.slice(both, [0, 0], [B * T, d]);
    const lse = tf.slice(both, [0, d], [B * T, H]);
    save([x, y, lse]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [sx, sy, sl]: tf.Tensor[]) => {
        // delta = rowsum(dO * O) per head: the softmax backward's subtracted term.
        const delta = tf.sum(tf.reshape(tf.mul(dy, sy), [B * T, H, s.hd]), 2);
        return [tf.concat([attentionDq(sx, dy, sl, delta, s), attentionDkv(sx, dy, sl, delta, s)], 1)];
      },
    };
  });
  return op(qkv) as tf.Tensor2D;
}

// ---- matrix products, optionally in f16 -------------------------------------------------

/** Output tile edge of the matrix-product kernel: 8 x 8 invocations, one output each. */
const MT = 8;

/**
 * op(a) @ op(b) for 2-D or batched 3-D float32 tensors, with operands rounded to `type` in
 * workgroup memory and multiplied in it, accumulated in f32: with f16 this is mixed precision
 * (what tensor cores do); tensors stay float32 in memory, as tfjs has no 16-bit dtype. f32
 * gives tfjs's own product and is what lets this kernel be checked on adapters without f16.
 */
export function matMulTyped(a: tf.Tensor, b: tf.Tensor, transA: boolean, transB: boolean, type: 'f16' | 'f32'): tf.Tensor {
  const batch = a.rank === 3 ? a.shape[0] : b.rank === 3 ? b.shape[0] : 1;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, K, N] = [transA ? ac : ar, transA ? ar : ac, transB ? br : bc];
  // Element (r, c) of op(X) for X stored [rows, cols] (batched: within batch bt; a 2-D X is shared by every batch).
  const at = (name: string, x: tf.Tensor, trans: boolean, cols: number, r: string, c: string) =>
    `${name}[${x.rank === 3 ? `bt * ${x.size / x.shape[0]} + ` : ''}${trans ? `${c} * ${cols} + ${r}` : `${r} * ${cols} + ${c}`}]`;
  const out = a.rank === 3 || b.rank === 3 ? [batch, M, N] : [M, N];
  const body = `
  let tid = i32(localId.x);
  let bt = wg.z;
  let tr = wg.y * ${MT} + tid / ${MT};
  let tc = wg.x * ${MT} + tid % ${MT};
  var acc = 0.0;
  for (var k0 = 0; k0 < ${K}; k0 += ${MT}) {
    // Each invocation loads one element of each tile; outside the matrices (clamped reads) it loads 0.
    let ak = min(k0 + tid % ${MT}, ${K - 1});
    let ar = min(tr, ${M - 1});
    aTile[tid] = select(T(0.0), T(${at('A', a, transA, ac, 'ar', 'ak')}), tr < ${M} && k0 + tid % ${MT} < ${K});
    let bk = min(k0 + tid / ${MT}, ${K - 1});
    let bc = min(tc, ${N - 1});
    bTile[tid] = select(T(0.0), T(${at('B', b, transB, bc, 'bk', 'bc')}), tc < ${N} && k0 + tid / ${MT} < ${K});
    workgroupBarrier();
    var part = T(0.0);
    for (var k = 0; k < ${MT}; k++) { part += aTile[(tid / ${MT}) * ${MT} + k] * bTile[k * ${MT} + tid % ${MT}]; }
    acc += f32(part);
    workgroupBarrier();
  }
  if (tr < ${M} && tc < ${N}) { result[bt * ${M * N} + tr * ${N} + tc] = acc; }`;
  const prelude = `
${type === 'f16' ? '// refinery:f16' : ''}
alias T = ${type};
var<workgroup> aTile: array<T, ${MT * MT}>;
var<workgroup> bTile: array<T, ${MT * MT}>;`;
  const program: [number, number, number] = [Math.ceil(N / MT), Math.ceil(M / MT), batch];
  return run(`mm_${type}_${transA}_${transB}`, [a, b], ['A', 'B'], out, program, body, prelude);
}

/** Whether matrix products run in f16 (--precision f16, on adapters with shader-f16). */
let half = false;
export function useHalfPrecision(on: boolean): void {
  half = on;
}

/** op(a) @ op(b): tfjs's kernel (it takes the transposes as they are), or the f16 one under --precision f16. */
export function matMul(a: tf.Tensor, b: tf.Tensor, transA: boolean, transB: boolean): tf.Tensor {
  return half ? matMulTyped(a, b, transA, transB, 'f16') : tf.matMul(a, b, transA, transB);
}

// ---- AdamW ------------------------------------------------------------------------------

export interface AdamWStep {
  /** Gradient multiplier (clipping), learning rate, betas, epsilon, decoupled weight decay (0 for no decay). */
  clip: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  decay: number;
  /** Bias corrections 1 - beta^t. */
  c1: number;
  c2: number;
}

/**
 * One AdamW update of a parameter in three dispatches (new m, new v, new parameter) instead of
 * tfjs's dozen elementwise ops; the step's numbers are uniforms, so one shader serves every step.
 */
export function adamW(p: tf.Variable, g: tf.Tensor, m: tf.Variable, v: tf.Variable, h: AdamWStep): void {
  const n = p.size;
  const floats = { clip: h.clip, lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, decay: h.decay, c1: h.c1, c2: h.c2 };
  const guard = `if (index >= ${n}) { return; }`;
  const mNew = run('adamw_m', [m, g], ['M', 'G'], p.shape, flat(n), `${guard}
  result[index] = uniforms.beta1 * M[index] + (1.0 - uniforms.beta1) * G[index] * uniforms.clip;`, '', floats);
  const vNew = run('adamw_v', [v, g], ['V', 'G'], p.shape, flat(n), `${guard}
  let gc = G[index] * uniforms.clip;
  result[index] = uniforms.beta2 * V[index] + (1.0 - uniforms.beta2) * gc * gc;`, '', floats);
  const pNew = run('adamw_p', [p, mNew, vNew], ['P', 'M', 'V'], p.shape, flat(n), `${guard}
  let update = (M[index] / uniforms.c1) / (sqrt(V[index] / uniforms.c2) + uniforms.eps) + uniforms.decay * P[index];
  result[index] = P[index] - uniforms.lr * update;`, '', floats);
  m.assign(mNew);
  v.assign(vNew);
  p.assign(pNew);
  tf.dispose([mNew, vNew, pNew]);
}
