/*
 * refinery's native kernels. The matrix product: C = op(A) op(B) for row-major float32 matrices, one
 * product or a batch of equal-shaped ones, through OpenBLAS's cblas_sgemm. Called from
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
 */
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static float *floats(napi_env env, napi_value value, size_t *length) {
  napi_typedarray_type type;
  void *data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, &data, &buffer, &offset) != napi_ok || type != napi_float32_array) return NULL;
  return (float *)data;
}

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
  for (int32_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a + (size_t)i * m * k, ta ? m : k,
                b + (size_t)i * k * n, tb ? k : n, 0.0f, c + (size_t)i * m * n, n);
  }
  return NULL;
}

static int int_arg(napi_env env, napi_value v, int32_t *out) { return napi_get_value_int32(env, v, out) == napi_ok; }

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
  if (!qkv || !y || !p || lq % ((size_t)B * T * 3) != 0) return fail(env, "attention: qkv, y and p are Float32Arrays");
  const int d = (int)(lq / ((size_t)B * T * 3)), hd = d / H, ld = 3 * d;
  if (ly < (size_t)B * T * d || lp < (size_t)B * H * T * T || hd * H != d) return fail(env, "attention: arrays too small for the shapes");
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < H; h++) {
      const float *q = qkv + (size_t)b * T * ld + h * hd, *k = q + d, *v = q + 2 * d;
      float *s = p + ((size_t)b * H + h) * T * T;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, (float)scale, q, ld, k, ld, 0.0f, s, T);
      for (int i = 0; i < T; i++) {
        float *row = s + (size_t)i * T, max = row[0], sum = 0.0f;
        for (int j = 1; j <= i; j++) if (row[j] > max) max = row[j];
        for (int j = 0; j <= i; j++) sum += (row[j] = expf(row[j] - max));
        const float inv = 1.0f / sum;
        for (int j = 0; j <= i; j++) row[j] *= inv;
        for (int j = i + 1; j < T; j++) row[j] = 0.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1.0f, s, T, v, ld, 0.0f, y + (size_t)b * T * d + h * hd, d);
    }
  }
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
  if (!qkv || !p || !dy || !dqkv || lq % ((size_t)B * T * 3) != 0) return fail(env, "attentionBackward: arguments are Float32Arrays");
  const int d = (int)(lq / ((size_t)B * T * 3)), hd = d / H, ld = 3 * d;
  if (lp < (size_t)B * H * T * T || ly < (size_t)B * T * d || lg < lq) return fail(env, "attentionBackward: arrays too small for the shapes");
  float *dp = malloc(sizeof(float) * (size_t)T * T);
  if (!dp) return fail(env, "attentionBackward: out of memory");
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < H; h++) {
      const size_t at = (size_t)b * T * ld + h * hd;
      const float *q = qkv + at, *k = q + d, *v = q + 2 * d, *s = p + ((size_t)b * H + h) * T * T, *g = dy + (size_t)b * T * d + h * hd;
      float *dq = dqkv + at, *dk = dq + d, *dv = dq + 2 * d;
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hd, T, 1.0f, s, T, g, d, 0.0f, dv, ld);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, 1.0f, g, d, v, ld, 0.0f, dp, T);
      for (int i = 0; i < T; i++) {
        const float *pr = s + (size_t)i * T;
        float *dr = dp + (size_t)i * T, dot = 0.0f;
        for (int j = 0; j <= i; j++) dot += pr[j] * dr[j];
        for (int j = 0; j <= i; j++) dr[j] = pr[j] * (dr[j] - dot);
        for (int j = i + 1; j < T; j++) dr[j] = 0.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, (float)scale, dp, T, k, ld, 0.0f, dq, ld);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hd, T, (float)scale, dp, T, q, ld, 0.0f, dk, ld);
    }
  }
  free(dp);
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
  openblas_set_num_threads(n);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "sgemm", NAPI_AUTO_LENGTH, sgemm, NULL, &fn);
  napi_set_named_property(env, exports, "sgemm", fn);
  napi_create_function(env, "attention", NAPI_AUTO_LENGTH, attention, NULL, &fn);
  napi_set_named_property(env, exports, "attention", fn);
  napi_create_function(env, "attentionBackward", NAPI_AUTO_LENGTH, attention_backward, NULL, &fn);
  napi_set_named_property(env, exports, "attentionBackward", fn);
  napi_create_function(env, "layerNorm", NAPI_AUTO_LENGTH, layer_norm, NULL, &fn);
  napi_set_named_property(env, exports, "layerNorm", fn);
  napi_create_function(env, "layerNormBackward", NAPI_AUTO_LENGTH, layer_norm_backward, NULL, &fn);
  napi_set_named_property(env, exports, "layerNormBackward", fn);
  napi_create_function(env, "setThreads", NAPI_AUTO_LENGTH, threads, NULL, &fn);
  napi_set_named_property(env, exports, "setThreads", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
