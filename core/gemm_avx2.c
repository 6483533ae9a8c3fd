/*
 * gemm_avx2.c - AVX2+FMA micro-kernel (6 rows x 16 columns) for x86-64
 * CPUs without AVX-512.  12 accumulators live in ymm registers; partial
 * panels use masked loads and stores so nothing past nr is touched.
 * The epilogue reuses the portable one (libm erff/tanhf).
 */
#include "gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))

TARGET static inline __attribute__((always_inline)) void
tile(const size_t MR, size_t kc, const float *a, size_t lda, const float *b,
     size_t ldb, float *c, size_t ldc, __m256i m0, __m256i m1, int load_c)
{
    __m256 c0[NLP_GEMM_AVX2_MR], c1[NLP_GEMM_AVX2_MR];
#pragma GCC unroll 6
    for (size_t i = 0; i < MR; i++) {
        if (load_c) {
            c0[i] = _mm256_maskload_ps(c + i * ldc, m0);
            c1[i] = _mm256_maskload_ps(c + i * ldc + 8, m1);
        } else {
            c0[i] = _mm256_setzero_ps();
            c1[i] = _mm256_setzero_ps();
        }
    }
    for (size_t k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_maskload_ps(b + k * ldb, m0);
        const __m256 b1 = _mm256_maskload_ps(b + k * ldb + 8, m1);
#pragma GCC unroll 6
        for (size_t i = 0; i < MR; i++) {
            const __m256 av = _mm256_broadcast_ss(a + i * lda + k);
            c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
        }
    }
#pragma GCC unroll 6
    for (size_t i = 0; i < MR; i++) {
        _mm256_maskstore_ps(c + i * ldc, m0, c0[i]);
        _mm256_maskstore_ps(c + i * ldc + 8, m1, c1[i]);
    }
}

TARGET void nlp_ukernel_avx2(size_t mr, size_t nr, size_t kc, const float *a,
                             size_t lda, const float *b, size_t ldb, float *c,
                             size_t ldc, int load_c)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nr), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nr - 8), lane);
    switch (mr) {
#define CASE(R) case R: tile(R, kc, a, lda, b, ldb, c, ldc, m0, m1, load_c); break;
    CASE(6) CASE(5) CASE(4) CASE(3) CASE(2) CASE(1)
#undef CASE
    default: break;
    }
}

void nlp_epilogue_avx2(float *x, size_t n, nlp_gemm_act act,
                       const float *bias, const float *residual)
{
    nlp_epilogue_generic(x, n, act, bias, residual);
}
#endif
