/*
 * The matrix product every native kernel uses: C = alpha op(A) op(B) for row-major float32
 * matrices with leading dimensions (C is overwritten). Either OpenBLAS's cblas_sgemm or
 * refinery's own blocked SGEMM (gemm.c), chosen when the addon is built.
 */
#ifndef REFINERY_GEMM_H
#define REFINERY_GEMM_H

#include <stdbool.h>

void rf_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float *c, int ldc);
/* The same on the calling thread only: for callers that spread their own work over the pool. */
void rf_gemm_serial(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float *c, int ldc);
void rf_gemm_set_threads(int n);
/* "OpenBLAS", or "portable SGEMM (AVX2/FMA)" / "portable SGEMM (C)": what multiplies, for reports. */
const char *rf_gemm_name(void);
/* Whether rf_gemm_serial really is serial, so callers may run it on the pool's threads. */
bool rf_gemm_own(void);
/* Tests and benches: force the plain C micro-kernel (true) or go back to the CPU's best (false). */
void rf_gemm_force_portable(bool on);

#endif
