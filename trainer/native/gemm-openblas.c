/* rf_gemm (gemm.h) through OpenBLAS, when the addon is built with it. */
#include <cblas.h>

#include "gemm.h"

void rf_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, 0.0f, c, ldc);
}

/* OpenBLAS keeps its own threads; "serial" is whatever openblas_set_num_threads last said. */
void rf_gemm_serial(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
  rf_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, c, ldc);
}

void rf_gemm_set_threads(int n) { openblas_set_num_threads(n); }

const char *rf_gemm_name(void) { return "OpenBLAS"; }

bool rf_gemm_own(void) { return false; }

void rf_gemm_force_portable(bool on) { (void)on; }
