/*
 * refinery's native kernels. The matrix product: C = op(A) op(B) for row-major float32 matrices, one
 * product or a batch of equal-shaped ones (gemm.h). Called from
 * trainer/ops.ts as sgemm(transA, transB, m, n, k, a, b, c, batch).
 *
 * And causal self-attention fused into one call per direction, reading q, k and v where
 * they lie in the qkv projection [B*T, 3d] (leading dimension 3d: no transposes, no copies):
 *   attention(qkv, B, T, H, scale, y, p)   y [B*T, d] = softmax(q k^T * scale, causal) v; p keeps the softmax
 *   attentionBackward(qkv, p, dy, B, T, H, scale, dqkv)
 *
 * And LayerNorm over the last axis of x [N, d] (eps 1e-5), keeping each row's mean and
 * 1/std for the backward pass:
 *   layerNorm(x, g, b, y, mean, rstd)
 *   layerNormBackward(x, g, mean, rstd, dy, dx, dg, db)
 *
 * And the fused elementwise kernels of kernels.h (GELU, cross-entropy, AdamW, the embedding
 * gradient, bias rows). The products go through gemm.h: OpenBLAS, or refinery's own SGEMM
 * (gemm.c) where OpenBLAS is absent; `gemm` names which.
 */
#include <node_api.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "exp-approx.h"
#include "gemm.h"
#include "kernels.h"
#include "pool.h"

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* The data of a typed array of the given type (its length in elements), or NULL for anything else. */
static void *typed(napi_env env, napi_value value, napi_typedarray_type want, size_t *length) {
  napi_typedarray_type type;
  void *data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, &data, &buffer, &offset) != napi_ok || type != want) return NULL;
  return data;
}

static float *floats(napi_env env, napi_value value, size_t *length) { return typed(env, value, napi_float32_array, length); }
static int32_t *ints(napi_env env, napi_value value, size_t *length) { return typed(env, value, napi_int32_array, length); }

static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 9) return fail(env, "sgemm: expected (transA, transB, m, n, k, a, b, c, batch)");
  bool ta, tb;
  int32_t m, n, k, batch;
  if (napi_get_value_bool(env, argv[0], &ta) != napi_ok || napi_get_value_bool(env, argv[1], &tb) != napi_ok) return fail(env, "sgemm: transA and transB are booleans");
  if (napi_get_value_int32(env, argv[2], &m) != napi_ok || napi_get_value_int32(env, argv[3], &n) != napi_ok || napi_get_value_int32(env, argv[4], &k) != napi_ok ||
      napi_get_value_int32(env, argv[8], &batch) != napi_ok)
    return fail(env, "sgemm: m, n, k and batch are integers");
  size_t la, lb, lc;
  float *a = floats(env, argv[5], &la), *b = floats(env, argv[6], &lb), *c = floats(env, argv[7], &lc);
  if (!a || !b || !c) return fail(env, "sgemm: a, b and c are Float32Arrays");
  if (m < 0 || n < 0 || k < 0 || batch < 1 || la < (size_t)batch * m * k || lb < (size_t)batch * k * n || lc < (size_t)batch * m * n) return fail(env, "sgemm: arrays too small for the shapes");
  for (int32_t i = 0; i < batch; i++) rf_gemm(ta, tb, m, n, k, 1.0f, a + (size_t)i * m * k, ta ? m : k, b + (size_t)i * k * n, tb ? k : n, c + (size_t)i * m * n, n);
  return NULL;
}

static int int_arg(napi_env env, napi_value v, int32_t *out) { return napi_get_value_int32(env, v, out) == napi_ok; }

/* One attention call's shapes and arrays; heads are independent, so threads take whole (sequence, head) pairs. */
struct attention_job {
  const float *qkv, *p_in, *dy;
  float *y, *p, *dqkv;
  int B, T, H, d, hd;
  float scale;
  bool failed;
};

/* The (sequence, head) pairs of one slice, and whether the products inside may use threads of their own. */
typedef void (*gemm_fn)(bool, bool, int, int, int, float, const float *, int, const float *, int, float *, int);

static void attention_heads(struct attention_job *j, long from, long to, gemm_fn gemm) {
  const int T = j->T, d = j->d, hd = j->hd, ld = 3 * d;
  for (long bh = from; bh < to; bh++) {
    const int b = (int)(bh / j->H), h = (int)(bh % j->H);
    const float *q = j->qkv + (size_t)b * T * ld + h * hd, *k = q + d, *v = q + 2 * d;
    float *s = j->p + (size_t)bh * T * T;
    gemm(false, true, T, T, hd, j->scale, q, ld, k, ld, s, T);
    for (int i = 0; i < T; i++) {
      float *row = s + (size_t)i * T, max = row[0], sum = 0.0f;
      for (int c = 1; c <= i; c++) if (row[c] > max) max = row[c];
      for (int c = 0; c <= i; c++) sum += (row[c] = exp_approx(row[c] - max));
      const float inv = 1.0f / sum;
      for (int c = 0; c <= i; c++) row[c] *= inv;
      for (int c = i + 1; c < T; c++) row[c] = 0.0f;
    }
    gemm(false, false, T, hd, T, 1.0f, s, T, v, ld, j->y + (size_t)b * T * d + h * hd, d);
  }
}

static void attention_backward_heads(struct attention_job *j, long from, long to, gemm_fn gemm) {
  const int T = j->T, d = j->d, hd = j->hd, ld = 3 * d;
  float *dp = malloc(sizeof(float) * (size_t)T * T);
  if (!dp) {
    j->failed = true;
    return;
  }
  for (long bh = from; bh < to; bh++) {
    const int b = (int)(bh / j->H), h = (int)(bh % j->H);
    const size_t at = (size_t)b * T * ld + h * hd;
    const float *q = j->qkv + at, *k = q + d, *v = q + 2 * d, *s = j->p_in + (size_t)bh * T * T, *g = j->dy + (size_t)b * T * d + h * hd;
    float *dq = j->dqkv + at, *dk = dq + d, *dv = dq + 2 * d;
    gemm(true, false, T, hd, T, 1.0f, s, T, g, d, dv, ld);
    gemm(false, true, T, T, hd, 1.0f, g, d, v, ld, dp, T);
    for (int i = 0; i < T; i++) {
      const float *pr = s + (size_t)i * T;
      float *dr = dp + (size_t)i * T, dot = 0.0f;
      for (int c = 0; c <= i; c++) dot += pr[c] * dr[c];
      for (int c = 0; c <= i; c++) dr[c] = pr[c] * (dr[c] - dot);
      for (int c = i + 1; c < T; c++) dr[c] = 0.0f;
    }
    gemm(false, false, T, hd, T, j->scale, dp, T, k, ld, dq, ld);
    gemm(true, false, T, hd, T, j->scale, dp, T, q, ld, dk, ld);
  }
  free(dp);
}

static void attention_part(void *ctx, int part, int parts) {
  struct attention_job *j = ctx;
  long from, to;
  rf_slice((long)j->B * j->H, part, parts, 1, &from, &to);
  attention_heads(j, from, to, rf_gemm_serial);
}

static void attention_backward_part(void *ctx, int part, int parts) {
  struct attention_job *j = ctx;
  long from, to;
  rf_slice((long)j->B * j->H, part, parts, 1, &from, &to);
  attention_backward_heads(j, from, to, rf_gemm_serial);
}

/*
 * Heads go to the pool's threads with serial products when the SGEMM is our own; OpenBLAS
 * threads inside each product instead (its threads and ours would fight over the cores).
 */
static void run_heads(struct attention_job *j, rf_task part, void (*all)(struct attention_job *, long, long, gemm_fn)) {
  if (rf_gemm_own()) rf_pool_run(part, j, rf_pool_parts((long)j->B * j->H, 1));
  else all(j, 0, (long)j->B * j->H, rf_gemm);
}

static napi_value attention(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t B, T, H;
  double scale;
  size_t lq, ly, lp;
  if (argc != 7 || !int_arg(env, argv[1], &B) || !int_arg(env, argv[2], &T) || !int_arg(env, argv[3], &H) || napi_get_value_double(env, argv[4], &scale) != napi_ok)
    return fail(env, "attention: expected (qkv, B, T, H, scale, y, p)");
  float *qkv = floats(env, argv[0], &lq), *y = floats(env, argv[5], &ly), *p = floats(env, argv[6], &lp);
  if (!qkv || !y || !p || B < 1 || T < 1 || H < 1 || lq % ((size_t)B * T * 3) != 0) return fail(env, "attention: qkv, y and p are Float32Arrays");
  const int d = (int)(lq / ((size_t)B * T * 3)), hd = d / H;
  if (ly < (size_t)B * T * d || lp < (size_t)B * H * T * T || hd * H != d) return fail(env, "attention: arrays too small for the shapes");
  struct attention_job j = {.qkv = qkv, .y = y, .p = p, .B = B, .T = T, .H = H, .d = d, .hd = hd, .scale = (float)scale};
  run_heads(&j, attention_part, attention_heads);
  return NULL;
}

static napi_value attention_backward(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t B, T, H;
  double scale;
  size_t lq, lp, ly, lg;
  if (argc != 8 || !int_arg(env, argv[3], &B) || !int_arg(env, argv[4], &T) || !int_arg(env, argv[5], &H) || napi_get_value_double(env, argv[6], &scale) != napi_ok)
    return fail(env, "attentionBackward: expected (qkv, p, dy, B, T, H, scale, dqkv)");
  float *qkv = floats(env, argv[0], &lq), *p = floats(env, argv[1], &lp), *dy = floats(env, argv[2], &ly), *dqkv = floats(env, argv[7], &lg);
  if (!qkv || !p || !dy || !dqkv || B < 1 || T < 1 || H < 1 || lq % ((size_t)B * T * 3) != 0) return fail(env, "attentionBackward: arguments are Float32Arrays");
  const int d = (int)(lq / ((size_t)B * T * 3)), hd = d / H;
  if (lp < (size_t)B * H * T * T || ly < (size_t)B * T * d || lg < lq || hd * H != d) return fail(env, "attentionBackward: arrays too small for the shapes");
  struct attention_job j = {.qkv = qkv, .p_in = p, .dy = dy, .dqkv = dqkv, .B = B, .T = T, .H = H, .d = d, .hd = hd, .scale = (float)scale};
  run_heads(&j, attention_backward_part, attention_backward_heads);
  if (j.failed) return fail(env, "attentionBackward: out of memory");
  return NULL;
}

static napi_value layer_norm(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t lx, lg, lb, ly, lm, lr;
  float *x = argc == 6 ? floats(env, argv[0], &lx) : NULL, *g = floats(env, argv[1], &lg), *b = floats(env, argv[2], &lb), *y = floats(env, argv[3], &ly),
        *mean = floats(env, argv[4], &lm), *rstd = floats(env, argv[5], &lr);
  if (!x || !g || !b || !y || !mean || !rstd || lg == 0 || lb != lg) return fail(env, "layerNorm: expected Float32Arrays (x, g, b, y, mean, rstd)");
  const size_t d = lg, n = lx / d;
  if (ly < lx || lm < n || lr < n) return fail(env, "layerNorm: arrays too small for the shapes");
  for (size_t i = 0; i < n; i++) {
    const float *row = x + i * d;
    float *out = y + i * d, m = 0.0f, v = 0.0f;
    for (size_t j = 0; j < d; j++) m += row[j];
    m /= (float)d;
    for (size_t j = 0; j < d; j++) v += (row[j] - m) * (row[j] - m);
    const float r = 1.0f / sqrtf(v / (float)d + 1e-5f);
    for (size_t j = 0; j < d; j++) out[j] = (row[j] - m) * r * g[j] + b[j];
    mean[i] = m;
    rstd[i] = r;
  }
  return NULL;
}

static napi_value layer_norm_backward(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t lx, lg, lm, lr, ly, ldx, ldg, ldb;
  float *x = argc == 8 ? floats(env, argv[0], &lx) : NULL, *g = floats(env, argv[1], &lg), *mean = floats(env, argv[2], &lm), *rstd = floats(env, argv[3], &lr),
        *dy = floats(env, argv[4], &ly), *dx = floats(env, argv[5], &ldx), *dg = floats(env, argv[6], &ldg), *db = floats(env, argv[7], &ldb);
  if (!x || !g || !mean || !rstd || !dy || !dx || !dg || !db || lg == 0) return fail(env, "layerNormBackward: expected Float32Arrays (x, g, mean, rstd, dy, dx, dg, db)");
  const size_t d = lg, n = lx / d;
  if (ly < lx || ldx < lx || ldg < d || ldb < d || lm < n || lr < n) return fail(env, "layerNormBackward: arrays too small for the shapes");
  memset(dg, 0, d * sizeof(float));
  memset(db, 0, d * sizeof(float));
  for (size_t i = 0; i < n; i++) {
    const float *row = x + i * d, *grow = dy + i * d, m = mean[i], r = rstd[i];
    float *out = dx + i * d, s1 = 0.0f, s2 = 0.0f;
    for (size_t j = 0; j < d; j++) {
      const float xhat = (row[j] - m) * r, dxhat = grow[j] * g[j];
      dg[j] += grow[j] * xhat;
      db[j] += grow[j];
      s1 += dxhat;
      s2 += dxhat * xhat;
    }
    s1 /= (float)d;
    s2 /= (float)d;
    for (size_t j = 0; j < d; j++) out[j] = r * (grow[j] * g[j] - s1 - (row[j] - m) * r * s2);
  }
  return NULL;
}

static napi_value threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t n = 1;
  if (argc == 1) napi_get_value_int32(env, argv[0], &n);
  rf_gemm_set_threads(n);
  rf_pool_set_threads(n);
  return NULL;
}

static int number_arg(napi_env env, napi_value v, double *out) { return napi_get_value_double(env, v, out) == napi_ok; }

/* Whether every id lies in [0, limit): the kernels index rows with them. */
static bool ids_in_range(const int32_t *ids, size_t n, size_t limit) {
  for (size_t i = 0; i < n; i++)
    if (ids[i] < 0 || (size_t)ids[i] >= limit) return false;
  return true;
}

/* A call's two Float32Array arguments; false when there are not exactly two. */
static bool two_arrays(napi_env env, napi_callback_info info, float **a, size_t *la, float **b, size_t *lb) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  *a = argc == 2 ? floats(env, argv[0], la) : NULL;
  *b = *a ? floats(env, argv[1], lb) : NULL;
  return *a && *b;
}

/* gelu(x, y) */
static napi_value gelu(napi_env env, napi_callback_info info) {
  size_t lx, ly;
  float *x, *y;
  if (!two_arrays(env, info, &x, &lx, &y, &ly) || ly < lx) return fail(env, "gelu: expected Float32Arrays (x, y), y at least as long as x");
  rf_gelu(x, y, lx);
  return NULL;
}

/* geluBackward(x, dy, dx) */
static napi_value gelu_backward(napi_env env, napi_callback_info info) {
  size_t argc = 3, lx, ly, ld;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  float *x = argc == 3 ? floats(env, argv[0], &lx) : NULL, *dy = x ? floats(env, argv[1], &ly) : NULL, *dx = dy ? floats(env, argv[2], &ld) : NULL;
  if (!x || !dy || !dx || ly < lx || ld < lx) return fail(env, "geluBackward: expected Float32Arrays (x, dy, dx) of one length");
  rf_gelu_backward(x, dy, dx, lx);
  return NULL;
}

/* crossEntropy(z, targets, lse) -> mean loss; z [rows, vocab], targets Int32Array [rows], lse [rows] */
static napi_value cross_entropy(napi_env env, napi_callback_info info) {
  size_t argc = 3, lz, lt, ll;
  napi_value argv[3], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  float *z = argc == 3 ? floats(env, argv[0], &lz) : NULL, *lse = z ? floats(env, argv[2], &ll) : NULL;
  int32_t *t = lse ? ints(env, argv[1], &lt) : NULL;
  if (!z || !t || !lse || lt == 0 || lz % lt != 0 || ll < lt) return fail(env, "crossEntropy: expected (logits Float32Array [rows*vocab], targets Int32Array [rows], lse Float32Array [rows])");
  if (!ids_in_range(t, lt, lz / lt)) return fail(env, "crossEntropy: a target is outside the vocabulary");
  napi_create_double(env, rf_cross_entropy(z, t, lt, lz / lt, lse), &out);
  return out;
}

/* crossEntropyBackward(z, targets, lse, scale, dz) */
static napi_value cross_entropy_backward(napi_env env, napi_callback_info info) {
  size_t argc = 5, lz, lt, ll, ld;
  napi_value argv[5];
  double scale;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  float *z = argc == 5 ? floats(env, argv[0], &lz) : NULL, *lse = z ? floats(env, argv[2], &ll) : NULL, *dz = lse ? floats(env, argv[4], &ld) : NULL;
  int32_t *t = dz ? ints(env, argv[1], &lt) : NULL;
  if (!z || !t || !lse || !dz || !number_arg(env, argv[3], &scale) || lt == 0 || lz % lt != 0 || ll < lt || ld < lz)
    return fail(env, "crossEntropyBackward: expected (logits, targets Int32Array, lse, scale, dlogits)");
  if (!ids_in_range(t, lt, lz / lt)) return fail(env, "crossEntropyBackward: a target is outside the vocabulary");
  rf_cross_entropy_backward(z, t, lse, lt, lz / lt, (float)scale, dz);
  return NULL;
}

/* adamw(p, g, m, v, pOut, mOut, vOut, [lr, beta1, beta2, eps, weightDecay, c1, c2, clip]) */
static napi_value adamw(napi_env env, napi_callback_info info) {
  size_t argc = 8, l[7];
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  float *arr[7];
  for (int i = 0; i < 7; i++) {
    arr[i] = argc == 8 ? floats(env, argv[i], &l[i]) : NULL;
    if (!arr[i] || l[i] != l[0]) return fail(env, "adamw: expected seven Float32Arrays of one length (p, g, m, v, pOut, mOut, vOut) and the 8 hyperparameters");
  }
  float h[8];
  for (uint32_t i = 0; i < 8; i++) {
    napi_value e;
    double x;
    if (napi_get_element(env, argv[7], i, &e) != napi_ok || !number_arg(env, e, &x)) return fail(env, "adamw: hyperparameters are [lr, beta1, beta2, eps, weightDecay, c1, c2, clip]");
    h[i] = (float)x;
  }
  const struct rf_adamw o = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]};
  rf_adamw(&o, arr[0], arr[1], arr[2], arr[3], arr[4], arr[5], arr[6], l[0]);
  return NULL;
}

/* sumSquares(x) -> sum of x[i]^2 */
static napi_value sum_squares(napi_env env, napi_callback_info info) {
  size_t argc = 1, lx;
  napi_value argv[1], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  float *x = argc == 1 ? floats(env, argv[0], &lx) : NULL;
  if (!x) return fail(env, "sumSquares: expected a Float32Array");
  napi_create_double(env, rf_sum_squares(x, lx), &out);
  return out;
}

/* embedBackward(ids Int32Array [n], dy [n, d], out [vocab, d]) */
static napi_value embed_backward(napi_env env, napi_callback_info info) {
  size_t argc = 3, li, ly, lo;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t *ids = argc == 3 ? ints(env, argv[0], &li) : NULL;
  float *dy = ids ? floats(env, argv[1], &ly) : NULL, *out = dy ? floats(env, argv[2], &lo) : NULL;
  if (!ids || !dy || !out || li == 0 || ly % li != 0 || lo % (ly / li) != 0) return fail(env, "embedBackward: expected (ids Int32Array [n], dy Float32Array [n*d], out Float32Array [vocab*d])");
  const size_t d = ly / li, vocab = d ? lo / d : 0;
  if (!ids_in_range(ids, li, vocab)) return fail(env, "embedBackward: an id is outside the table");
  rf_embed_backward(ids, li, dy, d, out, vocab);
  return NULL;
}

/* addBias(x [rows, d], b [d]): in place */
static napi_value add_bias(napi_env env, napi_callback_info info) {
  size_t lx, lb;
  float *x, *b;
  if (!two_arrays(env, info, &x, &lx, &b, &lb) || lb == 0 || lx % lb != 0) return fail(env, "addBias: expected Float32Arrays (x [rows*d], b [d])");
  rf_add_bias(x, b, lx / lb, lb);
  return NULL;
}

/* gemm() -> "OpenBLAS" / "portable SGEMM (AVX2/FMA)" / "portable SGEMM (C)" */
static napi_value gemm_name(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_string_utf8(env, rf_gemm_name(), NAPI_AUTO_LENGTH, &out);
  return out;
}

/* forcePortableKernel(on): the plain C micro-kernel even where AVX2 is there (tests and benches). */
static napi_value force_portable(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool on = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 1) napi_get_value_bool(env, argv[0], &on);
  rf_gemm_force_portable(on);
  return NULL;
}

/*
 * keepFreedMemory(): glibc's malloc serves every block from its heap and keeps freed memory
 * there, instead of mapping each large block fresh and unmapping it when freed. A training
 * step allocates the same large tensors every step (logits alone are 64 MB at config B), and
 * on a virtual machine touching freshly mapped pages costs ~12 us a page: 0.2 s for 64 MB.
 * The price is that the process keeps its peak heap, which a trainer reaches every step
 * anyway. Returns whether the settings took (false where the C library is not glibc).
 */
static napi_value keep_freed_memory(napi_env env, napi_callback_info info) {
  (void)info;
  bool ok = false;
#ifdef __GLIBC__
  ok = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
#endif
  napi_value out;
  napi_get_boolean(env, ok, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  const struct {
    const char *name;
    napi_callback fn;
  } all[] = {
      {"sgemm", sgemm},
      {"attention", attention},
      {"attentionBackward", attention_backward},
      {"layerNorm", layer_norm},
      {"layerNormBackward", layer_norm_backward},
      {"gelu", gelu},
      {"geluBackward", gelu_backward},
      {"crossEntropy", cross_entropy},
      {"crossEntropyBackward", cross_entropy_backward},
      {"adamw", adamw},
      {"sumSquares", sum_squares},
      {"embedBackward", embed_backward},
      {"addBias", add_bias},
      {"gemm", gemm_name},
      {"forcePortableKernel", force_portable},
      {"setThreads", threads},
      {"keepFreedMemory", keep_freed_memory},
  };
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    napi_value fn;
    napi_create_function(env, all[i].name, NAPI_AUTO_LENGTH, all[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, all[i].name, fn);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
