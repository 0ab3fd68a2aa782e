/* The fused kernels of kernels.h. Loops are written so the compiler vectorises them (no calls inside). */
#include "kernels.h"

#include <math.h>
#include <string.h>

#include "exp-approx.h"
#include "pool.h"

/*
 * The hot loops are compiled twice on x86-64 Linux, for AVX2/FMA and for the baseline, and the
 * loader picks by CPU (GCC's target_clones, an ifunc): 8 floats a step where the CPU has them.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define WIDE __attribute__((target_clones("arch=haswell", "default")))
#else
#define WIDE
#endif

/* Elements below which an elementwise job stays on one thread (waking a worker costs ~10 us). */
#define GRAIN 32768

#define GELU_S 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_C 0.044715f

struct elementwise {
  const float *a, *b;
  float *out;
  size_t n;
};

WIDE static void gelu_part(void *ctx, int part, int parts) {
  const struct elementwise *j = ctx;
  long from, to;
  rf_slice((long)j->n, part, parts, 16, &from, &to);
  const float *x = j->a;
  float *y = j->out;
  for (long i = from; i < to; i++) {
    // 1 + tanh u = 2e / (1 + e) with e = e^{2u}: no cancellation where tanh is near -1.
    const float v = x[i], e = exp_approx(2.0f * GELU_S * (v + GELU_C * v * v * v));
    y[i] = v * e / (1.0f + e);
  }
}

void rf_gelu(const float *x, float *y, size_t n) {
  struct elementwise j = {x, NULL, y, n};
  rf_pool_run(gelu_part, &j, rf_pool_parts((long)n, GRAIN));
}

WIDE static void gelu_backward_part(void *ctx, int part, int parts) {
  const struct elementwise *j = ctx;
  long from, to;
  rf_slice((long)j->n, part, parts, 16, &from, &to);
  const float *x = j->a, *dy = j->b;
  float *dx = j->out;
  for (long i = from; i < to; i++) {
    // With e = e^{2u}: 1 + tanh u = 2e / (1 + e) and 1 - tanh u = 2 / (1 + e), so 1 - tanh^2 keeps its precision where tanh is near +-1.
    const float v = x[i], e = exp_approx(2.0f * GELU_S * (v + GELU_C * v * v * v)), inv = 1.0f / (1.0f + e);
    const float plus = 2.0f * e * inv, minus = 2.0f * inv;
    const float du = GELU_S * (1.0f + 3.0f * GELU_C * v * v);
    dx[i] = dy[i] * (0.5f * plus + 0.5f * v * plus * minus * du);
  }
}

void rf_gelu_backward(const float *x, const float *dy, float *dx, size_t n) {
  struct elementwise j = {x, dy, dx, n};
  rf_pool_run(gelu_backward_part, &j, rf_pool_parts((long)n, GRAIN));
}

struct rows_job {
  const float *z, *lse;
  const int32_t *targets;
  size_t rows, vocab;
  float scale;
  float *out, *lse_out;
  double sums[64];
};

WIDE static void cross_entropy_part(void *ctx, int part, int parts) {
  struct rows_job *j = ctx;
  long from, to;
  rf_slice((long)j->rows, part, parts, 1, &from, &to);
  double total = 0.0;
  for (long i = from; i < to; i++) {
    const float *row = j->z + (size_t)i * j->vocab;
    float max = row[0];
    for (size_t c = 1; c < j->vocab; c++) max = row[c] > max ? row[c] : max;
    float sum = 0.0f;
    for (size_t c = 0; c < j->vocab; c++) sum += exp_approx(row[c] - max);
    const float lse = max + logf(sum);
    j->lse_out[i] = lse;
    total += (double)lse - row[j->targets[i]];
  }
  j->sums[part] = total;
}

double rf_cross_entropy(const float *z, const int32_t *targets, size_t rows, size_t vocab, float *lse) {
  struct rows_job j = {.z = z, .targets = targets, .rows = rows, .vocab = vocab, .lse_out = lse};
  const int parts = rf_pool_parts((long)(rows * vocab), GRAIN);
  rf_pool_run(cross_entropy_part, &j, parts);
  double total = 0.0;
  for (int p = 0; p < parts; p++) total += j.sums[p];
  return rows ? total / (double)rows : 0.0;
}

WIDE static void cross_entropy_backward_part(void *ctx, int part, int parts) {
  const struct rows_job *j = ctx;
  long from, to;
  rf_slice((long)j->rows, part, parts, 1, &from, &to);
  for (long i = from; i < to; i++) {
    const float *row = j->z + (size_t)i * j->vocab, lse = j->lse[i];
    float *out = j->out + (size_t)i * j->vocab;
    for (size_t c = 0; c < j->vocab; c++) out[c] = exp_approx(row[c] - lse) * j->scale;
    out[j->targets[i]] -= j->scale;
  }
}

void rf_cross_entropy_backward(const float *z, const int32_t *targets, const float *lse, size_t rows, size_t vocab, float scale, float *dz) {
  struct rows_job j = {.z = z, .lse = lse, .targets = targets, .rows = rows, .vocab = vocab, .scale = scale, .out = dz};
  rf_pool_run(cross_entropy_backward_part, &j, rf_pool_parts((long)(rows * vocab), GRAIN));
}

struct adamw_job {
  const struct rf_adamw *o;
  const float *p, *g, *m, *v;
  float *p_out, *m_out, *v_out;
  size_t n;
};

/* restrict: the outputs are fresh tensors, so the loop vectorises without run-time overlap checks. */
WIDE static void adamw_range(const struct rf_adamw *o, const float *restrict p, const float *restrict gin, const float *restrict m_in, const float *restrict v_in, float *restrict p_out,
                        float *restrict m_out, float *restrict v_out, long from, long to) {
  const float clip = o->clip, b1 = o->beta1, b2 = o->beta2, eps = o->eps, wd = o->weight_decay, lr = o->lr, inv_c1 = 1.0f / o->c1, inv_c2 = 1.0f / o->c2;
  for (long i = from; i < to; i++) {
    const float g = gin[i] * clip;
    const float m = b1 * m_in[i] + (1.0f - b1) * g;
    const float v = b2 * v_in[i] + (1.0f - b2) * g * g;
    const float update = (m * inv_c1) / (sqrtf(v * inv_c2) + eps) + wd * p[i];
    m_out[i] = m;
    v_out[i] = v;
    p_out[i] = p[i] - lr * update;
  }
}

static void adamw_part(void *ctx, int part, int parts) {
  const struct adamw_job *j = ctx;
  long from, to;
  rf_slice((long)j->n, part, parts, 16, &from, &to);
  adamw_range(j->o, j->p, j->g, j->m, j->v, j->p_out, j->m_out, j->v_out, from, to);
}

void rf_adamw(const struct rf_adamw *o, const float *p, const float *g, const float *m, const float *v, float *p_out, float *m_out, float *v_out, size_t n) {
  struct adamw_job j = {o, p, g, m, v, p_out, m_out, v_out, n};
  rf_pool_run(adamw_part, &j, rf_pool_parts((long)n, GRAIN));
}

double rf_sum_squares(const float *x, size_t n) {
  // Eight float lanes summed in blocks, each block added into a double: vectorised, and no drift over millions of terms.
  double total = 0.0;
  for (size_t i = 0; i < n; i += 4096) {
    const size_t end = i + 4096 < n ? i + 4096 : n;
    float lane[8] = {0};
    size_t k = i;
    for (; k + 8 <= end; k += 8)
      for (int l = 0; l < 8; l++) lane[l] += x[k + l] * x[k + l];
    for (; k < end; k++) lane[0] += x[k] * x[k];
    for (int l = 0; l < 8; l++) total += lane[l];
  }
  return total;
}

void rf_embed_backward(const int32_t *ids, size_t n, const float *dy, size_t d, float *out, size_t vocab) {
  memset(out, 0, sizeof(float) * vocab * d);
  for (size_t i = 0; i < n; i++) {
    float *to = out + (size_t)ids[i] * d;
    const float *from = dy + i * d;
    for (size_t c = 0; c < d; c++) to[c] += from[c];
  }
}

void rf_add_bias(float *x, const float *b, size_t rows, size_t d) {
  for (size_t i = 0; i < rows; i++) {
    float *row = x + i * d;
    for (size_t c = 0; c < d; c++) row[c] += b[c];
  }
}
