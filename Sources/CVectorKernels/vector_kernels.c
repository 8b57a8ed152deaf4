#include "vector_kernels.h"
#include <immintrin.h>
#include <math.h>

int tessera_has_avx512(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return cached;
}

/* Cephes' expf: n = round(x / ln 2), r = x - n ln 2 (ln 2 in two parts), exp(r) by a degree-7
   Horner polynomial (seven FMAs), and 2^n applied by vscalefps, which also produces inf,
   subnormals and 0 correctly. The FMA units are the limit on the benchmark machine's Zen 4
   (AVX-512 as two 256-bit halves): unrolling by two vectors measured no faster. */
__attribute__((target("avx512f")))
void tessera_exp_avx512(const float *x, float *y, size_t count) {
    const __m512 low = _mm512_set1_ps(-104.0f), high = _mm512_set1_ps(89.0f);
    const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
    const __m512 ln2High = _mm512_set1_ps(0.693359375f), ln2Low = _mm512_set1_ps(-2.12194440e-4f);
    const __m512 c5 = _mm512_set1_ps(1.9875691500e-4f), c4 = _mm512_set1_ps(1.3981999507e-3f);
    const __m512 c3 = _mm512_set1_ps(8.3334519073e-3f), c2 = _mm512_set1_ps(4.1665795894e-2f);
    const __m512 c1 = _mm512_set1_ps(1.6666665459e-1f), c0 = _mm512_set1_ps(5.0000001201e-1f);
    const __m512 one = _mm512_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        /* max/min return their second operand when either is NaN, so NaN passes through. */
        __m512 c = _mm512_min_ps(high, _mm512_max_ps(low, v));
        __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(c, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512 r = _mm512_fnmadd_ps(n, ln2Low, _mm512_fnmadd_ps(n, ln2High, c));
        __m512 p = _mm512_fmadd_ps(c5, r, c4);
        p = _mm512_fmadd_ps(p, r, c3);
        p = _mm512_fmadd_ps(p, r, c2);
        p = _mm512_fmadd_ps(p, r, c1);
        p = _mm512_fmadd_ps(p, r, c0);
        p = _mm512_fmadd_ps(p, r, one);
        p = _mm512_fmadd_ps(p, r, one);
        _mm512_storeu_ps(y + i, _mm512_scalef_ps(p, n));
    }
    for (; i < count; i++) y[i] = expf(x[i]);
}
