/*
 * gemm_avx2.c - AVX2+FMA micro-kernel (6 rows x 16 columns) for x86-64
 * CPUs without AVX-512.  12 accumulators live in ymm registers; full
 * panels use plain loads and stores, partial ones masked loads and stores
 * so nothing past nr is touched; every fourth k step prefetches a line of
 * the panel block the driver sweeps next.
 * The epilogue is vectorised too: erf-based GELU through erfc's rational
 * form and a polynomial exp (the method of the AVX-512 epilogue); so are
 * the softmax and LayerNorm rows of the forward pass.
 */
#include <math.h>

#include "gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))

TARGET static inline __attribute__((always_inline)) void
tile(const size_t MR, size_t kc, const float *a, size_t lda, const float *b,
     size_t ldb, float *c, size_t ldc, __m256i m0, __m256i m1, int load_c,
     const int full, const float *pf, const int at)
{
    __m256 c0[NLP_GEMM_AVX2_MR], c1[NLP_GEMM_AVX2_MR];
#pragma GCC unroll 6
    for (size_t i = 0; i < MR; i++) {
        if (load_c) {
            c0[i] = full ? _mm256_loadu_ps(c + i * ldc) : _mm256_maskload_ps(c + i * ldc, m0);
            c1[i] = full ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_maskload_ps(c + i * ldc + 8, m1);
        } else {
            c0[i] = _mm256_setzero_ps();
            c1[i] = _mm256_setzero_ps();
        }
    }
    for (size_t k = 0; k < kc; k++) {
        /* a line of the next block per 4 k steps (see gemm_kernels.h) */
        if ((k & 3) == 0)
            _mm_prefetch((const char *)(pf + k * 4), _MM_HINT_T1);
        const __m256 b0 = full ? _mm256_loadu_ps(b + k * ldb) : _mm256_maskload_ps(b + k * ldb, m0);
        const __m256 b1 = full ? _mm256_loadu_ps(b + k * ldb + 8)
                               : _mm256_maskload_ps(b + k * ldb + 8, m1);
#pragma GCC unroll 6
        for (size_t i = 0; i < MR; i++) {
            const __m256 av = _mm256_broadcast_ss(at ? a + k * lda + i : a + i * lda + k);
            c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
        }
    }
#pragma GCC unroll 6
    for (size_t i = 0; i < MR; i++) {
        if (full) {
            _mm256_storeu_ps(c + i * ldc, c0[i]);
            _mm256_storeu_ps(c + i * ldc + 8, c1[i]);
        } else {
            _mm256_maskstore_ps(c + i * ldc, m0, c0[i]);
            _mm256_maskstore_ps(c + i * ldc + 8, m1, c1[i]);
        }
    }
}

TARGET static inline __attribute__((always_inline)) void
ukernel(size_t mr, size_t nr, size_t kc, const float *a,
                             size_t lda, const float *b, size_t ldb, float *c,
                             size_t ldc, int load_c, const float *pf, const int at)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nr), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nr - 8), lane);
    if (nr == NLP_GEMM_AVX2_NR) {
        switch (mr) {
#define CASE(R) case R: tile(R, kc, a, lda, b, ldb, c, ldc, m0, m1, load_c, 1, pf, at); break;
        CASE(6) CASE(5) CASE(4) CASE(3) CASE(2) CASE(1)
#undef CASE
        default: break;
        }
        return;
    }
    switch (mr) {
#define CASE(R) case R: tile(R, kc, a, lda, b, ldb, c, ldc, m0, m1, load_c, 0, pf, at); break;
    CASE(6) CASE(5) CASE(4) CASE(3) CASE(2) CASE(1)
#undef CASE
    default: break;
    }
}

TARGET void nlp_ukernel_avx2(size_t mr, size_t nr, size_t kc, const float *a,
                             size_t lda, const float *b, size_t ldb, float *c,
                             size_t ldc, int load_c, const float *pf)
{
    ukernel(mr, nr, kc, a, lda, b, ldb, c, ldc, load_c, pf, 0);
}

/* The same tile with A stored transposed: a[k * lda + i]. */
TARGET void nlp_ukernel_avx2_at(size_t mr, size_t nr, size_t kc, const float *a,
                                size_t lda, const float *b, size_t ldb, float *c,
                                size_t ldc, int load_c, const float *pf)
{
    ukernel(mr, nr, kc, a, lda, b, ldb, c, ldc, load_c, pf, 1);
}

/* e^x for x in [-87, 88]: 2^n p(r), r = x - n ln2, degree-6 polynomial
 * (relative error about 2e-7); 2^n is built in the exponent field. */
TARGET static inline __m256 exp256(__m256 x)
{
    x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.0f)), _mm256_set1_ps(-87.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    /* n in [-126, 127]: (n + 127) << 23 is the float 2^n */
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n),
                                                         _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* x Phi(x) with Phi from erfc(|x|/sqrt2) = t poly(t) exp(-x^2/2),
 * t = 1/(1 + p|z|) (absolute error of erfc below 1.5e-7). */
TARGET static inline __m256 gelu256(__m256 x)
{
    const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    const __m256 z = _mm256_mul_ps(ax, _mm256_set1_ps(0.70710678118654752f));
    const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f),
                                   _mm256_fmadd_ps(z, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.0f)));
    __m256 p = _mm256_set1_ps(1.061405429f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
    p = _mm256_mul_ps(p, t);
    const __m256 erfc = _mm256_mul_ps(p, exp256(_mm256_mul_ps(_mm256_mul_ps(z, z), _mm256_set1_ps(-1.0f))));
    const __m256 half = _mm256_mul_ps(erfc, _mm256_set1_ps(0.5f));
    const __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
    const __m256 phi = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), half), half, neg);
    return _mm256_mul_ps(x, phi);
}

/* d/dx x Phi(x) = Phi(x) + x phi(x): Phi from erfc as in gelu256, whose
 * exp(-x^2/2) also gives phi. */
TARGET void nlp_gelu_backward_avx2(float *dx, const float *dy, const float *x, size_t n)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (size_t j = 0; j < n; j += 8) {
        const __m256i m = n - j >= 8 ? _mm256_set1_epi32(-1)
                                     : _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - j)), lane);
        const __m256 v = _mm256_maskload_ps(x + j, m);
        const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
        const __m256 z = _mm256_mul_ps(ax, _mm256_set1_ps(0.70710678118654752f));
        const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f),
                                       _mm256_fmadd_ps(z, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.0f)));
        __m256 p = _mm256_set1_ps(1.061405429f);
        p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
        p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
        p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
        p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
        p = _mm256_mul_ps(p, t);
        const __m256 e = exp256(_mm256_mul_ps(_mm256_mul_ps(z, z), _mm256_set1_ps(-1.0f)));
        const __m256 half = _mm256_mul_ps(_mm256_mul_ps(p, e), _mm256_set1_ps(0.5f));
        const __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
        const __m256 cdf = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), half), half, neg);
        const __m256 d = _mm256_fmadd_ps(_mm256_mul_ps(v, _mm256_set1_ps(0.39894228040143268f)), e, cdf);
        _mm256_maskstore_ps(dx + j, m, _mm256_mul_ps(_mm256_maskload_ps(dy + j, m), d));
    }
}

/* 0.5 x (1 + tanh(y)) = x / (1 + e^(-2y)), y = sqrt(2/pi)(x + 0.044715 x^3). */
TARGET static inline __m256 gelu_tanh256(__m256 x)
{
    const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
    const __m256 y = _mm256_mul_ps(_mm256_fmadd_ps(x3, _mm256_set1_ps(0.044715f), x),
                                   _mm256_set1_ps(-2.0f * 0.79788456080286536f));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), exp256(y)));
}

TARGET void nlp_epilogue_avx2(float *x, size_t n, nlp_gemm_act act,
                              const float *bias, const float *residual)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (size_t j = 0; j < n; j += 8) {
        const __m256i m = n - j >= 8 ? _mm256_set1_epi32(-1)
                        : _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - j)), lane);
        __m256 v = _mm256_maskload_ps(x + j, m);
        if (bias)
            v = _mm256_add_ps(v, _mm256_maskload_ps(bias + j, m));
        switch (act) {
        case NLP_GEMM_ACT_GELU: v = gelu256(v); break;
        case NLP_GEMM_ACT_GELU_TANH: v = gelu_tanh256(v); break;
        case NLP_GEMM_ACT_RELU: v = _mm256_max_ps(v, _mm256_setzero_ps()); break;
        case NLP_GEMM_ACT_NONE: break;
        }
        if (residual)
            v = _mm256_add_ps(v, _mm256_maskload_ps(residual + j, m));
        _mm256_maskstore_ps(x + j, m, v);
    }
}
/* Lanes j .. j+7 that are below n, as a maskload mask. */
TARGET static inline __m256i lanes_below(size_t left)
{
    return left >= 8 ? _mm256_set1_epi32(-1)
         : _mm256_cmpgt_epi32(_mm256_set1_epi32((int)left),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

TARGET static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

TARGET static inline float hmax256(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

TARGET float nlp_row_max_avx2(const float *x, size_t n)
{
    __m256 mx = _mm256_set1_ps(-INFINITY);
    for (size_t j = 0; j < n; j += 8) {
        const __m256i m = lanes_below(n - j);
        const __m256 v = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_maskload_ps(x + j, m),
                                          _mm256_castsi256_ps(m));
        mx = _mm256_max_ps(mx, v);
    }
    return hmax256(mx);
}

TARGET double nlp_exp_sum_avx2(float *out, const float *x, size_t n, float shift)
{
    const __m256 sh = _mm256_set1_ps(shift);
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (size_t j = 0; j < n; j += 8) {
        const __m256i m = lanes_below(n - j);
        const __m256 e = _mm256_and_ps(exp256(_mm256_sub_ps(_mm256_maskload_ps(x + j, m), sh)),
                                       _mm256_castsi256_ps(m));
        if (out)
            _mm256_maskstore_ps(out + j, m, e);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    __m256d t = _mm256_add_pd(s0, s1);
    __m128d u = _mm_add_pd(_mm256_castpd256_pd128(t), _mm256_extractf128_pd(t, 1));
    return _mm_cvtsd_f64(_mm_add_sd(u, _mm_unpackhi_pd(u, u)));
}

TARGET void nlp_softmax_row_avx2(float *s, size_t n, float scale)
{
    const __m256 sc = _mm256_set1_ps(scale), ninf = _mm256_set1_ps(-INFINITY);
    __m256 mx = ninf;
    for (size_t j = 0; j < n; j += 8) {
        const __m256i m = lanes_below(n - j);
        const __m256 v = _mm256_mul_ps(_mm256_maskload_ps(s + j, m), sc);
        mx = _mm256_max_ps(mx, _mm256_blendv_ps(ninf, v, _mm256_castsi256_ps(m)));
    }
    const __m256 vmax = _mm256_set1_ps(hmax256(mx));
    __m256 sum = _mm256_setzero_ps();
    for (size_t j = 0; j < n; j += 8) {
        const __m256i m = lanes_below(n - j);
        const __m256 e = exp256(_mm256_fmsub_ps(_mm256_maskload_ps(s + j, m), sc, vmax));
        sum = _mm256_add_ps(sum, _mm256_and_ps(e, _mm256_castsi256_ps(m)));
        _mm256_maskstore_ps(s + j, m, e);
    }
    const __m256 inv = _mm256_set1_ps(1.0f / hsum256(sum));
    for (size_t j = 0; j < n; j += 8) {
        const __m256i m = lanes_below(n - j);
        _mm256_maskstore_ps(s + j, m, _mm256_mul_ps(_mm256_maskload_ps(s + j, m), inv));
    }
}

TARGET void nlp_layernorm_row_avx2(float *o, const float *x, const float *g,
                                   const float *b, size_t H, float eps,
                                   float *mean, float *rstd)
{
    __m256 s0 = _mm256_setzero_ps();
    for (size_t j = 0; j < H; j += 8)
        s0 = _mm256_add_ps(s0, _mm256_maskload_ps(x + j, lanes_below(H - j)));
    const float m = hsum256(s0) / (float)H;
    const __m256 vm = _mm256_set1_ps(m);
    s0 = _mm256_setzero_ps();
    for (size_t j = 0; j < H; j += 8) {
        const __m256i k = lanes_below(H - j);
        const __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + j, k), vm),
                                       _mm256_castsi256_ps(k));
        s0 = _mm256_fmadd_ps(d, d, s0);
    }
    const float rs = 1.0f / sqrtf(hsum256(s0) / (float)H + eps);
    const __m256 vr = _mm256_set1_ps(rs);
    for (size_t j = 0; j < H; j += 8) {
        const __m256i k = lanes_below(H - j);
        const __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + j, k), vm), vr);
        _mm256_maskstore_ps(o + j, k, _mm256_fmadd_ps(d, _mm256_maskload_ps(g + j, k),
                                                      _mm256_maskload_ps(b + j, k)));
    }
    if (mean)
        *mean = m;
    if (rstd)
        *rstd = rs;
}
#endif
