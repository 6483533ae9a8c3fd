/*
 * gemm.h - single-precision matrix multiply, row-major.
 *
 *   C[M][N] = A[M][K] . op(B) (+ bias[N] on every row)
 *   op(B) = B^T with B stored [N][K] (trans_b = 1: nn.Linear weights, Q.K^T)
 *   op(B) = B   with B stored [K][N] (trans_b = 0: P.V)
 *
 * lda, ldb, ldc are row strides in floats.  C is overwritten.  bias may be
 * NULL.  The work is spread over pool's threads (pool may be NULL).
 *
 * Weights used many times are packed once (nlp_pack_b) into column panels
 * laid out for the micro-kernel of the CPU's best path (AVX-512, AVX2+FMA
 * or portable C, chosen at run time: see cpu.h); nlp_sgemm_packed then
 * multiplies by them and can fuse an epilogue (bias, activation,
 * residual) while the output tile is still in cache.  No call allocates.
 */
#ifndef NLP_GEMM_H
#define NLP_GEMM_H

#include <stddef.h>
#include "threadpool.h"

void nlp_sgemm(nlp_pool *pool, int trans_b, size_t M, size_t N, size_t K,
               const float *A, size_t lda, const float *B, size_t ldb,
               const float *bias, float *C, size_t ldc);

/* C[M][N] += A^T . B with A stored [K][M] (row stride lda) and B stored
 * [K][N] (row stride ldb): the weight gradient dy^T x of a dense layer
 * without a transposed copy.  Each element of C sums K in one order
 * whatever the thread count. */
void nlp_sgemm_at_acc(nlp_pool *pool, size_t M, size_t N, size_t K,
                      const float *A, size_t lda, const float *B, size_t ldb,
                      float *C, size_t ldc);

/* A weight matrix packed for the micro-kernel of one kernel path. */
typedef struct nlp_packed_b nlp_packed_b;

/* Pack B, stored [N][K] row-major (nn.Linear layout, row stride K), for
 * the current kernel path.  Returns a new object (free with
 * nlp_packed_b_free), or NULL when out of memory or N or K is 0. */
nlp_packed_b *nlp_pack_b(const float *B, size_t N, size_t K);
void nlp_packed_b_free(nlp_packed_b *p);

/* Pack B ([N][K], as nlp_pack_b) quantised to int8 with one scale per
 * output channel (row of B): q = round(B / s), s = max|B[n][:]| / 127.
 * nlp_sgemm_packed then quantises each row of A to unsigned 8 bits over
 * its own range at run time (A[m][k] ~ lo[m] + s_a[m] u[m][k], s_a =
 * (max - min) / 255, u = round((A - lo) / s_a)) and accumulates exact
 * integer products (AVX-512 VNNI when the CPU has it, else portable C):
 *   C[m][n] = s[n] (s_a[m] sum_k u[m][k] q[n][k] + lo[m] sum_k q[n][k])
 * before the epilogue.
 * Returns NULL when out of memory, N or K is 0, or K > 8192. */
nlp_packed_b *nlp_pack_b_int8(const float *B, size_t N, size_t K);
/* Bytes of pool scratch an int8 product of M rows over K uses (the rows
 * of A quantised once per call); reserving them ahead with
 * nlp_pool_scratch keeps the forward pass free of allocations. */
size_t nlp_int8_scratch_bytes(size_t M, size_t K);
/* 1 if p holds int8 weights. */
int nlp_packed_b_is_int8(const nlp_packed_b *p);

/* Pack B ([N][K]) rounded to bfloat16 (nearest even).  nlp_sgemm_packed
 * rounds A to bf16 the same way and accumulates the exact products in
 * fp32 (AVX-512 BF16 when the CPU has it, else portable C).  Returns NULL
 * when out of memory, N or K is 0, or K > 8192. */
nlp_packed_b *nlp_pack_b_bf16(const float *B, size_t N, size_t K);
int nlp_packed_b_is_bf16(const nlp_packed_b *p);
size_t nlp_packed_b_rows(const nlp_packed_b *p);   /* N */
size_t nlp_packed_b_cols(const nlp_packed_b *p);   /* K */
size_t nlp_packed_b_bytes(const nlp_packed_b *p);  /* memory held */

/* Activation applied by the epilogue. */
typedef enum nlp_gemm_act {
    NLP_GEMM_ACT_NONE = 0,
    NLP_GEMM_ACT_GELU = 1,       /* exact, erf-based */
    NLP_GEMM_ACT_GELU_TANH = 2,  /* tanh approximation */
    NLP_GEMM_ACT_RELU = 3
} nlp_gemm_act;

/* Epilogue of nlp_sgemm_packed; a NULL epilogue means none.
 *   C = act(A . B^T + bias) + residual
 * bias [N] or NULL; residual [M][N] with row stride ldr, or NULL; it must
 * not overlap C (it may be A itself, when A is [M][N]). */
typedef struct nlp_gemm_epilogue {
    const float *bias;
    nlp_gemm_act act;
    const float *residual;
    size_t ldr;
} nlp_gemm_epilogue;

/* C[M][N] = epilogue(A[M][K] . B^T) with B packed by nlp_pack_b
 * (N = nlp_packed_b_rows, K = nlp_packed_b_cols).  A row stride lda, C row
 * stride ldc.  Runs on pool's threads (pool may be NULL). */
void nlp_sgemm_packed(nlp_pool *pool, size_t M, const float *A, size_t lda,
                      const nlp_packed_b *B, const nlp_gemm_epilogue *ep,
                      float *C, size_t ldc);

/* In place over n values: x = act(x + bias) + residual (bias, residual
 * may be NULL), vectorised on the current path.  Exposed for tests and
 * for callers that run the epilogue themselves. */
void nlp_gemm_epilogue_row(float *x, size_t n, nlp_gemm_act act,
                           const float *bias, const float *residual);

#endif /* NLP_GEMM_H */
