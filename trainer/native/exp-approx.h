#ifndef REFINERY_EXP_APPROX_H
#define REFINERY_EXP_APPROX_H

#include <stdint.h>

/*
 * exp(x) without a library call, so the loops around it vectorise: x = n ln2 + r with
 * |r| <= ln2/2, Cephes' degree-6 polynomial for e^r (about 1 ulp), 2^n built in the exponent
 * bits. n is rounded with the 1.5 * 2^23 trick (round-to-nearest, no floorf call).
 */
static inline float exp_approx(float x) {
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.3f ? 88.3f : x;
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  union {
    int32_t i;
    float f;
  } scale = {.i = ((int32_t)n + 127) << 23};
  return p * scale.f;
}

#endif
