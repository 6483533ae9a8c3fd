/*
 * gemm.h - single-precision matrix multiply, row-major.
 *
 *   C[M][N] = A[M][K] . op(B) (+ bias[N] on every row)
 *   op(B) = B^T with B stored [N][K] (trans_b = 1: nn.Linear weights, Q.K^T)
 *   op(B) = B   with B stored [K][N] (trans_b = 0: P.V)
 *
 * lda, ldb, ldc are row strides in floats.  C is overwritten.  bias may be
 * NULL.  The work is spread over pool's threads (pool may be NULL).
 */
#ifndef NLP_GEMM_H
#define NLP_GEMM_H

#include <stddef.h>
#include "threadpool.h"

void nlp_sgemm(nlp_pool *pool, int trans_b, size_t M, size_t N, size_t K,
               const float *A, size_t lda, const float *B, size_t ldb,
               const float *bias, float *C, size_t ldc);

#endif /* NLP_GEMM_H */
