/*
 * The elementwise and row-wise parts of a training step, fused so each reads and writes its
 * tensors once (tfjs runs GELU as nine operations, each a full pass over memory). Work is
 * spread over the pool's threads (pool.h) when there is enough of it. All float32, row-major.
 */
#ifndef REFINERY_KERNELS_H
#define REFINERY_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* GPT-2's tanh-approximated GELU: y = gelu(x); dx = dy * gelu'(x). */
void rf_gelu(const float *x, float *y, size_t n);
void rf_gelu_backward(const float *x, const float *dy, float *dx, size_t n);

/* Mean cross-entropy (nats) of logits z [rows, vocab] against targets; lse[rows] keeps each row's log-sum-exp. */
double rf_cross_entropy(const float *z, const int32_t *targets, size_t rows, size_t vocab, float *lse);
/* dz = (softmax(z) - onehot(targets)) * scale. */
void rf_cross_entropy_backward(const float *z, const int32_t *targets, const float *lse, size_t rows, size_t vocab, float scale, float *dz);

/* AdamW with bias corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t; the gradient is scaled by clip first. */
struct rf_adamw {
  float lr, beta1, beta2, eps, weight_decay, c1, c2, clip;
};
void rf_adamw(const struct rf_adamw *o, const float *p, const float *g, const float *m, const float *v, float *p_out, float *m_out, float *v_out, size_t n);
double rf_sum_squares(const float *x, size_t n);

/* out [vocab, d] = the rows of dy [n, d] added at rows ids[i] (the gradient of a row lookup); out is overwritten. */
void rf_embed_backward(const int32_t *ids, size_t n, const float *dy, size_t d, float *out, size_t vocab);
/* Each row of x [rows, d] += b [d]. */
void rf_add_bias(float *x, const float *b, size_t rows, size_t d);

#endif
