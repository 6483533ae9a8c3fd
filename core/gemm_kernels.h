/*
 * gemm_kernels.h - the micro-kernels behind gemm.c, one set per path.
 *
 * A micro-kernel computes one tile of C, rows [0, mr) (mr <= MR of the
 * path) and columns [0, nr) (nr <= NR), over kc steps of K:
 *   C[i][j] (+)= sum_k a[i*lda + k] * b[k*ldb + j]
 * b rows hold NR floats of which only the first nr are read, so b may be
 * a packed panel (ldb = NR, zero padded) or a row-major [K][N] matrix.
 * load_c: add to C instead of overwriting it.
 * The epilogue row function applies gemm.h's epilogue to n values.
 */
#ifndef NLP_GEMM_KERNELS_H
#define NLP_GEMM_KERNELS_H

#include <stddef.h>
#include "gemm.h"

typedef void (*nlp_ukernel_fn)(size_t mr, size_t nr, size_t kc,
                               const float *a, size_t lda,
                               const float *b, size_t ldb,
                               float *c, size_t ldc, int load_c);
typedef void (*nlp_epilogue_fn)(float *x, size_t n, nlp_gemm_act act,
                                const float *bias, const float *residual);

typedef struct nlp_gemm_kernel {
    size_t mr, nr;
    nlp_ukernel_fn tile;
    nlp_epilogue_fn epilogue;
} nlp_gemm_kernel;

void nlp_ukernel_generic(size_t mr, size_t nr, size_t kc, const float *a,
                         size_t lda, const float *b, size_t ldb, float *c,
                         size_t ldc, int load_c);
void nlp_epilogue_generic(float *x, size_t n, nlp_gemm_act act,
                          const float *bias, const float *residual);
#if defined(__x86_64__)
void nlp_ukernel_avx2(size_t mr, size_t nr, size_t kc, const float *a,
                      size_t lda, const float *b, size_t ldb, float *c,
                      size_t ldc, int load_c);
void nlp_epilogue_avx2(float *x, size_t n, nlp_gemm_act act,
                       const float *bias, const float *residual);
void nlp_ukernel_avx512(size_t mr, size_t nr, size_t kc, const float *a,
                        size_t lda, const float *b, size_t ldb, float *c,
                        size_t ldc, int load_c);
void nlp_epilogue_avx512(float *x, size_t n, nlp_gemm_act act,
                         const float *bias, const float *residual);
#endif

enum { NLP_GEMM_GENERIC_MR = 4, NLP_GEMM_GENERIC_NR = 16,
       NLP_GEMM_AVX2_MR = 6, NLP_GEMM_AVX2_NR = 16,
       NLP_GEMM_AVX512_MR = 12, NLP_GEMM_AVX512_NR = 32,
       NLP_GEMM_MAX_MR = 12, NLP_GEMM_MAX_NR = 32 };

#endif /* NLP_GEMM_KERNELS_H */
