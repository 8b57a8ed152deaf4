#ifndef TESSERA_VECTOR_KERNELS_H
#define TESSERA_VECTOR_KERNELS_H
#include <stddef.h>

/* Elementwise kernels written with AVX-512 intrinsics. Swift here compiles for baseline x86-64
   (SSE2) and the package passes no -m flags, so these functions carry a per-function target
   attribute and are only called after `tessera_has_avx512()` says the CPU runs them. */

/* 1 when the CPU supports AVX-512F, else 0 (checked once). */
int tessera_has_avx512(void);

/* y[i] = exp(x[i]) for i < count; within 2 ulp of the correctly rounded value (checked exhaustively), exact at ±inf and
   NaN, gradual underflow to 0. Requires tessera_has_avx512(). */
void tessera_exp_avx512(const float *x, float *y, size_t count);

/* y[i] = 1 / (1 + exp(−x[i])); within 3 ulp. Requires tessera_has_avx512(). */
void tessera_sigmoid_avx512(const float *x, float *y, size_t count);

/* y[i] = tanh(x[i]); within 2 ulp, ±1 at ±inf, NaN for NaN. Requires tessera_has_avx512(). */
void tessera_tanh_avx512(const float *x, float *y, size_t count);

#endif
