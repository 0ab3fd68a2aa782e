/*
 * refinery's own SGEMM, for machines without OpenBLAS (see gemm.h for the contract). The
 * GotoBLAS scheme: op(B) is packed KC x NC at a time into panels NR columns wide, op(A)
 * MC x KC at a time into panels MR rows tall, and a micro-kernel multiplies one A panel by
 * one B panel into an MR x NR tile of C held in registers. Packing reads each operand once
 * in the order its transpose makes cheapest, so every transpose costs the same.
 *
 * Micro-kernels: AVX2/FMA (6 x 16, twelve 8-float accumulators), compiled with a target
 * attribute and chosen at run time by __builtin_cpu_supports, so one binary runs anywhere;
 * and plain C over the same tile, which the compiler vectorises for whatever the machine
 * has (SSE2 on any x86-64, NEON on arm64). Threads split C's rows or columns, whichever is
 * larger; each packs its own operands.
 */
#include "gemm.h"

#include <stdlib.h>
#include <string.h>

#include "pool.h"

#define MR 6
#define NR 16
#define KC 256
#define MC 120
#define NC 3072

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_AVX2_KERNEL 1
#include <immintrin.h>
#endif

typedef void (*micro_kernel)(int kc, const float *a, const float *b, float *c, int ldc, float alpha, bool accumulate);

/* C tile (MR x NR, leading dimension ldc) = or += alpha * A panel x B panel. */
static void kernel_c(int kc, const float *a, const float *b, float *c, int ldc, float alpha, bool accumulate) {
  float acc[MR][NR] = {{0}};
  for (int p = 0; p < kc; p++, a += MR, b += NR)
    for (int i = 0; i < MR; i++)
      for (int j = 0; j < NR; j++) acc[i][j] += a[i] * b[j];
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0.0f) + alpha * acc[i][j];
}

#ifdef HAVE_AVX2_KERNEL
__attribute__((target("avx2,fma"))) static void kernel_avx2(int kc, const float *a, const float *b, float *c, int ldc, float alpha, bool accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int p = 0; p < kc; p++, a += MR, b += NR) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    // One row of the tile: a's value broadcast, times the two halves of b's row (kept unrolled: twelve named registers).
#define ROW(i, lo, hi)                           \
  do {                                           \
    const __m256 x = _mm256_broadcast_ss(a + i); \
    lo = _mm256_fmadd_ps(x, b0, lo);             \
    hi = _mm256_fmadd_ps(x, b1, hi);             \
  } while (0)
    ROW(0, c00, c01);
    ROW(1, c10, c11);
    ROW(2, c20, c21);
    ROW(3, c30, c31);
    ROW(4, c40, c41);
    ROW(5, c50, c51);
#undef ROW
  }
  const __m256 s = _mm256_set1_ps(alpha);
  __m256 rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int i = 0; i < MR; i++) {
    float *out = c + (size_t)i * ldc;
    for (int h = 0; h < 2; h++) {
      __m256 v = _mm256_mul_ps(rows[i][h], s);
      if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(out + 8 * h));
      _mm256_storeu_ps(out + 8 * h, v);
    }
  }
}
#endif

static micro_kernel best_kernel(void) {
#ifdef HAVE_AVX2_KERNEL
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kernel_avx2;
#endif
  return kernel_c;
}

static micro_kernel kernel = NULL;

void rf_gemm_force_portable(bool on) { kernel = on ? kernel_c : best_kernel(); }

const char *rf_gemm_name(void) {
  if (!kernel) kernel = best_kernel();
#ifdef HAVE_AVX2_KERNEL
  if (kernel == kernel_avx2) return "portable SGEMM (AVX2/FMA)";
#endif
  return "portable SGEMM (C)";
}

bool rf_gemm_own(void) { return true; }

void rf_gemm_set_threads(int n) { rf_pool_set_threads(n); }

/* Pack rows [0, mc) x columns [0, kc) of op(A) (from its element (i0, p0)) into MR-row panels, zero-padded. */
static void pack_a(bool ta, const float *a, int lda, int mc, int kc, float *out) {
  for (int i = 0; i < mc; i += MR) {
    const int rows = mc - i < MR ? mc - i : MR;
    if (ta) {
      // op(A)(i, p) = A[p][i]: each p's MR values are adjacent.
      for (int p = 0; p < kc; p++, out += MR) {
        const float *src = a + (size_t)p * lda + i;
        for (int r = 0; r < rows; r++) out[r] = src[r];
        for (int r = rows; r < MR; r++) out[r] = 0.0f;
      }
    } else {
      const float *src = a + (size_t)i * lda;
      for (int p = 0; p < kc; p++, out += MR) {
        for (int r = 0; r < rows; r++) out[r] = src[(size_t)r * lda + p];
        for (int r = rows; r < MR; r++) out[r] = 0.0f;
      }
    }
  }
}

/* Pack rows [0, kc) x columns [0, nc) of op(B) into NR-column panels, zero-padded. */
static void pack_b(bool tb, const float *b, int ldb, int kc, int nc, float *out) {
  for (int j = 0; j < nc; j += NR) {
    const int cols = nc - j < NR ? nc - j : NR;
    if (tb) {
      // op(B)(p, j) = B[j][p]: walk each of the panel's rows of B along p.
      for (int c = 0; c < cols; c++) {
        const float *src = b + (size_t)(j + c) * ldb;
        for (int p = 0; p < kc; p++) out[p * NR + c] = src[p];
      }
      for (int c = cols; c < NR; c++)
        for (int p = 0; p < kc; p++) out[p * NR + c] = 0.0f;
      out += (size_t)kc * NR;
    } else {
      for (int p = 0; p < kc; p++, out += NR) {
        const float *src = b + (size_t)p * ldb + j;
        for (int c = 0; c < cols; c++) out[c] = src[c];
        for (int c = cols; c < NR; c++) out[c] = 0.0f;
      }
    }
  }
}

/* Packing buffers, one pair per thread, kept between calls (allocating megabytes per call costs page faults). */
static _Thread_local float *buf_a = NULL, *buf_b = NULL;

static bool buffers(void) {
  if (!buf_a) buf_a = aligned_alloc(64, sizeof(float) * MC * KC);
  if (!buf_b) buf_b = aligned_alloc(64, sizeof(float) * KC * NC);
  return buf_a && buf_b;
}

static void gemm_block(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int i = 0; i < m; i++) memset(c + (size_t)i * ldc, 0, sizeof(float) * n);
    return;
  }
  if (!kernel) kernel = best_kernel();
  if (!buffers()) abort();
  float edge[MR * NR];
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = n - jc < NC ? n - jc : NC;
    for (int pc = 0; pc < k; pc += KC) {
      const int kc = k - pc < KC ? k - pc : KC;
      pack_b(tb, tb ? b + (size_t)jc * ldb + pc : b + (size_t)pc * ldb + jc, ldb, kc, nc, buf_b);
      for (int ic = 0; ic < m; ic += MC) {
        const int mc = m - ic < MC ? m - ic : MC;
        pack_a(ta, ta ? a + (size_t)pc * lda + ic : a + (size_t)ic * lda + pc, lda, mc, kc, buf_a);
        for (int jr = 0; jr < nc; jr += NR) {
          const int cols = nc - jr < NR ? nc - jr : NR;
          for (int ir = 0; ir < mc; ir += MR) {
            const int rows = mc - ir < MR ? mc - ir : MR;
            float *tile = c + (size_t)(ic + ir) * ldc + jc + jr;
            const float *ap = buf_a + (size_t)ir * kc, *bp = buf_b + (size_t)jr * kc;
            if (rows == MR && cols == NR) {
              kernel(kc, ap, bp, tile, ldc, alpha, pc > 0);
            } else {
              // A partial tile: the kernel writes a full one to the side, then the part that exists is copied.
              kernel(kc, ap, bp, edge, NR, alpha, false);
              for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) tile[(size_t)i * ldc + j] = (pc > 0 ? tile[(size_t)i * ldc + j] : 0.0f) + edge[i * NR + j];
            }
          }
        }
      }
    }
  }
}

void rf_gemm_serial(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
  gemm_block(ta, tb, m, n, k, alpha, a, lda, b, ldb, c, ldc);
}

struct gemm_job {
  bool ta, tb, by_rows;
  int m, n, k, lda, ldb, ldc;
  float alpha;
  const float *a, *b;
  float *c;
};

static void gemm_part(void *ctx, int part, int parts) {
  const struct gemm_job *j = ctx;
  long from, to;
  if (j->by_rows) {
    rf_slice(j->m, part, parts, MR, &from, &to);
    const float *a = j->ta ? j->a + from : j->a + (size_t)from * j->lda;
    gemm_block(j->ta, j->tb, (int)(to - from), j->n, j->k, j->alpha, a, j->lda, j->b, j->ldb, j->c + (size_t)from * j->ldc, j->ldc);
  } else {
    rf_slice(j->n, part, parts, NR, &from, &to);
    const float *b = j->tb ? j->b + (size_t)from * j->ldb : j->b + from;
    gemm_block(j->ta, j->tb, j->m, (int)(to - from), j->k, j->alpha, j->a, j->lda, b, j->ldb, j->c + from, j->ldc);
  }
}

void rf_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
  // Below ~4 MFLOP a thread's wake-up costs more than it saves.
  const double flops = 2.0 * m * n * k;
  const bool by_rows = m >= n;
  const int parts = flops < 4e6 ? 1 : rf_pool_parts(by_rows ? m : n, by_rows ? 2 * MR : 2 * NR);
  struct gemm_job job = {ta, tb, by_rows, m, n, k, lda, ldb, ldc, alpha, a, b, c};
  rf_pool_run(gemm_part, &job, parts);
}
