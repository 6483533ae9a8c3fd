/*
 * gemm_avx512.c - AVX-512F micro-kernel (12 rows x 32 columns) and the
 * vectorised epilogue (bias, exact or tanh GELU, ReLU, residual), plus
 * the softmax and LayerNorm rows of the forward pass.
 *
 * Compiled for any x86-64 with per-function target attributes; gemm.c
 * only calls these when cpu.c found AVX-512 at run time.  The tile keeps
 * 24 accumulators in zmm registers; A values are broadcast from memory,
 * B rows are loaded with masks so a partial panel never reads past nr.
 * Every four k steps it prefetches one cache line of the panel block the
 * driver sweeps next into L2, so that block is warm when its first tile
 * starts instead of arriving from memory under it.
 */
#include <math.h>

#include "gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))

TARGET static inline __attribute__((always_inline)) void
tile(const size_t MR, size_t kc, const float *a, size_t lda, const float *b,
     size_t ldb, float *c, size_t ldc, __mmask16 m0, __mmask16 m1, int load_c,
     const int full, const float *pf, const int at)
{
    __m512 c0[NLP_GEMM_AVX512_MR], c1[NLP_GEMM_AVX512_MR];
#pragma GCC unroll 12
    for (size_t i = 0; i < MR; i++) {
        if (load_c) {
            c0[i] = full ? _mm512_loadu_ps(c + i * ldc) : _mm512_maskz_loadu_ps(m0, c + i * ldc);
            c1[i] = full ? _mm512_loadu_ps(c + i * ldc + 16) : _mm512_maskz_loadu_ps(m1, c + i * ldc + 16);
        } else {
            c0[i] = _mm512_setzero_ps();
            c1[i] = _mm512_setzero_ps();
        }
    }
    /* rows i = 3q + r are addressed as base q plus r row strides, so the
     * 12 broadcasts need four pointers and one stride register */
    const float *ab[4] = { a, a + 3 * lda, a + 6 * lda, a + 9 * lda };
    /* one k step of the tile */
#define STEP(k)                                                                        \
    do {                                                                               \
        const float *bk = b + (k) * ldb;                                               \
        const __m512 b0 = full ? _mm512_loadu_ps(bk) : _mm512_maskz_loadu_ps(m0, bk);  \
        const __m512 b1 = full ? _mm512_loadu_ps(bk + 16)                              \
                               : _mm512_maskz_loadu_ps(m1, bk + 16);                   \
        _Pragma("GCC unroll 12")                                                       \
        for (size_t i = 0; i < MR; i++) {                                              \
            const __m512 av = _mm512_set1_ps(at ? a[(k) * lda + i]                     \
                                                : ab[i / 3][(i % 3) * lda + (k)]);     \
            c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);                                    \
            c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);                                    \
        }                                                                              \
    } while (0)
    /* four k steps per cache line of the next block fetched into L2 */
    size_t k = 0;
    for (; k + 4 <= kc; k += 4, pf += 16) {
        _mm_prefetch((const char *)pf, _MM_HINT_T1);
        STEP(k);
        STEP(k + 1);
        STEP(k + 2);
        STEP(k + 3);
    }
    for (; k < kc; k++)
        STEP(k);
#undef STEP
#pragma GCC unroll 12
    for (size_t i = 0; i < MR; i++) {
        if (full) {
            _mm512_storeu_ps(c + i * ldc, c0[i]);
            _mm512_storeu_ps(c + i * ldc + 16, c1[i]);
        } else {
            _mm512_mask_storeu_ps(c + i * ldc, m0, c0[i]);
            _mm512_mask_storeu_ps(c + i * ldc + 16, m1, c1[i]);
        }
    }
}

TARGET static inline __attribute__((always_inline)) void
ukernel(size_t mr, size_t nr, size_t kc,
                               const float *a, size_t lda, const float *b,
                               size_t ldb, float *c, size_t ldc, int load_c,
                               const float *pf, const int at)
{
    __mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xffff : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
    if (nr == NLP_GEMM_AVX512_NR) {
        switch (mr) {
#define CASE(R) case R: tile(R, kc, a, lda, b, ldb, c, ldc, m0, m1, load_c, 1, pf, at); break;
        CASE(12) CASE(11) CASE(10) CASE(9) CASE(8) CASE(7)
        CASE(6) CASE(5) CASE(4) CASE(3) CASE(2) CASE(1)
#undef CASE
        default: break;
        }
        return;
    }
    switch (mr) {
#define CASE(R) case R: tile(R, kc, a, lda, b, ldb, c, ldc, m0, m1, load_c, 0, pf, at); break;
    CASE(12) CASE(11) CASE(10) CASE(9) CASE(8) CASE(7)
    CASE(6) CASE(5) CASE(4) CASE(3) CASE(2) CASE(1)
#undef CASE
    default: break;
    }
}

TARGET void nlp_ukernel_avx512(size_t mr, size_t nr, size_t kc,
                               const float *a, size_t lda, const float *b,
                               size_t ldb, float *c, size_t ldc, int load_c,
                               const float *pf)
{
    ukernel(mr, nr, kc, a, lda, b, ldb, c, ldc, load_c, pf, 0);
}

/* The same tile with A stored transposed: a[k * lda + i]. */
TARGET void nlp_ukernel_avx512_at(size_t mr, size_t nr, size_t kc,
                                  const float *a, size_t lda, const float *b,
                                  size_t ldb, float *c, size_t ldc, int load_c,
                                  const float *pf)
{
    ukernel(mr, nr, kc, a, lda, b, ldb, c, ldc, load_c, pf, 1);
}

/* e^x for x in [-87, 88]: 2^n * p(r), r = x - n ln2, degree-6 polynomial
 * (relative error about 2e-7). */
TARGET static inline __m512 exp512(__m512 x)
{
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.0f)), _mm512_set1_ps(-87.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/* x * Phi(x), with Phi from erfc(|x|/sqrt2) = t*poly(t)*exp(-x^2/2),
 * t = 1/(1 + p|z|) (absolute error of erfc below 1.5e-7); the negative
 * side uses erfc directly, so small outputs keep their precision. */
TARGET static inline __m512 gelu512(__m512 x)
{
    const __m512 z = _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(0.70710678118654752f));
    const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f),
                                   _mm512_fmadd_ps(z, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.0f)));
    __m512 p = _mm512_set1_ps(1.061405429f);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
    p = _mm512_mul_ps(p, t);
    const __m512 erfc = _mm512_mul_ps(p, exp512(_mm512_mul_ps(_mm512_mul_ps(z, z), _mm512_set1_ps(-1.0f))));
    const __m512 half = _mm512_mul_ps(erfc, _mm512_set1_ps(0.5f));
    __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    __m512 phi = _mm512_mask_blend_ps(neg, _mm512_sub_ps(_mm512_set1_ps(1.0f), half), half);
    return _mm512_mul_ps(x, phi);
}

/* d/dx x Phi(x) = Phi(x) + x phi(x): Phi from erfc as in gelu512, whose
 * exp(-x^2/2) also gives phi. */
TARGET void nlp_gelu_backward_avx512(float *dx, const float *dy, const float *x, size_t n)
{
    for (size_t j = 0; j < n; j += 16) {
        const __mmask16 m = n - j >= 16 ? 0xffff : (__mmask16)((1u << (n - j)) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(m, x + j);
        const __m512 z = _mm512_mul_ps(_mm512_abs_ps(v), _mm512_set1_ps(0.70710678118654752f));
        const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f),
                                       _mm512_fmadd_ps(z, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.0f)));
        __m512 p = _mm512_set1_ps(1.061405429f);
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
        p = _mm512_mul_ps(p, t);
        const __m512 e = exp512(_mm512_mul_ps(_mm512_mul_ps(z, z), _mm512_set1_ps(-1.0f)));
        const __m512 half = _mm512_mul_ps(_mm512_mul_ps(p, e), _mm512_set1_ps(0.5f));
        const __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        const __m512 cdf = _mm512_mask_blend_ps(neg, _mm512_sub_ps(_mm512_set1_ps(1.0f), half), half);
        const __m512 d = _mm512_fmadd_ps(_mm512_mul_ps(v, _mm512_set1_ps(0.39894228040143268f)), e, cdf);
        _mm512_mask_storeu_ps(dx + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, dy + j), d));
    }
}

/* 0.5 x (1 + tanh(y)) = x / (1 + e^(-2y)), y = sqrt(2/pi)(x + 0.044715 x^3). */
TARGET static inline __m512 gelu_tanh512(__m512 x)
{
    __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
    __m512 y = _mm512_mul_ps(_mm512_fmadd_ps(x3, _mm512_set1_ps(0.044715f), x),
                             _mm512_set1_ps(-2.0f * 0.79788456080286536f));
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), exp512(y)));
}

TARGET void nlp_epilogue_avx512(float *x, size_t n, nlp_gemm_act act,
                                const float *bias, const float *residual)
{
    for (size_t j = 0; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? 0xffff : (__mmask16)((1u << (n - j)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + j);
        if (bias)
            v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + j));
        switch (act) {
        case NLP_GEMM_ACT_GELU: v = gelu512(v); break;
        case NLP_GEMM_ACT_GELU_TANH: v = gelu_tanh512(v); break;
        case NLP_GEMM_ACT_RELU: v = _mm512_max_ps(v, _mm512_setzero_ps()); break;
        case NLP_GEMM_ACT_NONE: break;
        }
        if (residual)
            v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, residual + j));
        _mm512_mask_storeu_ps(x + j, m, v);
    }
}
static inline __mmask16 tail_mask(size_t left)
{
    return left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
}

TARGET void nlp_softmax_row_avx512(float *s, size_t n, float scale)
{
    const __m512 sc = _mm512_set1_ps(scale);
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (size_t j = 0; j < n; j += 16) {
        const __mmask16 m = tail_mask(n - j);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, s + j), sc);
        mx = _mm512_mask_max_ps(mx, m, mx, v);
    }
    const __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 sum = _mm512_setzero_ps();
    for (size_t j = 0; j < n; j += 16) {
        const __mmask16 m = tail_mask(n - j);
        __m512 v = _mm512_fmsub_ps(_mm512_maskz_loadu_ps(m, s + j), sc, vmax);
        v = exp512(v);
        sum = _mm512_mask_add_ps(sum, m, sum, v);
        _mm512_mask_storeu_ps(s + j, m, v);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    for (size_t j = 0; j < n; j += 16) {
        const __mmask16 m = tail_mask(n - j);
        _mm512_mask_storeu_ps(s + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, s + j), inv));
    }
}

TARGET float nlp_row_max_avx512(const float *x, size_t n)
{
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (size_t j = 0; j < n; j += 16)
        mx = _mm512_mask_max_ps(mx, tail_mask(n - j), mx, _mm512_maskz_loadu_ps(tail_mask(n - j), x + j));
    return _mm512_reduce_max_ps(mx);
}

TARGET double nlp_exp_sum_avx512(float *out, const float *x, size_t n, float shift)
{
    const __m512 sh = _mm512_set1_ps(shift);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (size_t j = 0; j < n; j += 16) {
        const __mmask16 m = tail_mask(n - j);
        const __m512 e = _mm512_maskz_mov_ps(m, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + j), sh)));
        if (out)
            _mm512_mask_storeu_ps(out + j, m, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm512_extractf32x8_ps(e, 1)));
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
}

/* splitmix64's finaliser on 8 lanes (backward.c's mix64). */
TARGET static inline __m512i mix64x8(__m512i z)
{
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                           _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9ull));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                           _mm512_set1_epi64((long long)0x94d049bb133111ebull));
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

TARGET void nlp_dropout_row_avx512(float *out, const float *in, size_t n, uint64_t base,
                                   uint64_t first, uint64_t threshold, float scale)
{
    const __m512i lane = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    const __m512i thr = _mm512_set1_epi64((long long)threshold);
    const __m512 sc = _mm512_set1_ps(scale);
    for (size_t j = 0; j < n; j += 16) {
        const __m512i i0 = _mm512_add_epi64(_mm512_set1_epi64((long long)(base + first + j)), lane);
        const __m512i i1 = _mm512_add_epi64(i0, _mm512_set1_epi64(8));
        const __mmask8 k0 = _mm512_cmpge_epu64_mask(_mm512_srli_epi64(mix64x8(i0), 32), thr);
        const __mmask8 k1 = _mm512_cmpge_epu64_mask(_mm512_srli_epi64(mix64x8(i1), 32), thr);
        const __mmask16 m = tail_mask(n - j);
        const __mmask16 keep = (__mmask16)(k0 | ((unsigned)k1 << 8));
        _mm512_mask_storeu_ps(out + j, m, _mm512_maskz_mul_ps(keep, _mm512_maskz_loadu_ps(m, in + j), sc));
    }
}

TARGET void nlp_layernorm_row_avx512(float *o, const float *x, const float *g,
                                     const float *b, size_t H, float eps,
                                     float *mean, float *rstd)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t j = 0;
    for (; j + 32 <= H; j += 32) {
        s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + j));
        s1 = _mm512_add_ps(s1, _mm512_loadu_ps(x + j + 16));
    }
    for (; j < H; j += 16)
        s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(tail_mask(H - j), x + j));
    const float m = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) / (float)H;
    const __m512 vm = _mm512_set1_ps(m);
    s0 = _mm512_setzero_ps();
    s1 = _mm512_setzero_ps();
    for (j = 0; j + 32 <= H; j += 32) {
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + j), vm);
        const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + j + 16), vm);
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    for (; j < H; j += 16) {
        const __mmask16 k = tail_mask(H - j);
        const __m512 d = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, x + j), vm);
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    const float var = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) / (float)H;
    const float rs = 1.0f / sqrtf(var + eps);
    const __m512 vr = _mm512_set1_ps(rs);
    for (j = 0; j < H; j += 16) {
        const __mmask16 k = tail_mask(H - j);
        const __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), vm), vr);
        const __m512 y = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(k, g + j),
                                         _mm512_maskz_loadu_ps(k, b + j));
        _mm512_mask_storeu_ps(o + j, k, y);
    }
    if (mean)
        *mean = m;
    if (rstd)
        *rstd = rs;
}
#endif
