/*
 * gemm.c - portable single-precision matrix multiply (see gemm.h).
 *
 * Rows of C are split into blocks handed to the thread pool; within a block
 * the K loop is tiled so the active part of B stays in cache.
 */
#include <string.h>

#include "gemm.h"

typedef struct {
    int trans_b;
    size_t M, N, K, lda, ldb, ldc;
    const float *A, *B, *bias;
    float *C;
    size_t rows_per_task;
} gemm_job;

enum { KC = 256 };

static void gemm_rows(void *vp, size_t task)
{
    const gemm_job *j = vp;
    size_t i0 = task * j->rows_per_task;
    size_t i1 = i0 + j->rows_per_task;
    if (i1 > j->M)
        i1 = j->M;
    for (size_t i = i0; i < i1; i++) {
        float *c = j->C + i * j->ldc;
        if (j->bias)
            memcpy(c, j->bias, j->N * sizeof *c);
        else
            memset(c, 0, j->N * sizeof *c);
    }
    for (size_t k0 = 0; k0 < j->K; k0 += KC) {
        size_t k1 = k0 + KC < j->K ? k0 + KC : j->K;
        for (size_t i = i0; i < i1; i++) {
            const float *a = j->A + i * j->lda;
            float *c = j->C + i * j->ldc;
            if (j->trans_b) {
                for (size_t n = 0; n < j->N; n++) {
                    const float *b = j->B + n * j->ldb;
                    float s = 0.0f;
                    for (size_t k = k0; k < k1; k++)
                        s += a[k] * b[k];
                    c[n] += s;
                }
            } else {
                for (size_t k = k0; k < k1; k++) {
                    const float av = a[k];
                    const float *b = j->B + k * j->ldb;
                    for (size_t n = 0; n < j->N; n++)
                        c[n] += av * b[n];
                }
            }
        }
    }
}

void nlp_sgemm(nlp_pool *pool, int trans_b, size_t M, size_t N, size_t K,
               const float *A, size_t lda, const float *B, size_t ldb,
               const float *bias, float *C, size_t ldc)
{
    if (M == 0 || N == 0)
        return;
    gemm_job j = { trans_b, M, N, K, lda, ldb, ldc, A, B, bias, C, 0 };
    size_t threads = (size_t)nlp_pool_threads(pool);
    size_t tasks = threads * 4;
    if (tasks > M)
        tasks = M;
    j.rows_per_task = (M + tasks - 1) / tasks;
    tasks = (M + j.rows_per_task - 1) / j.rows_per_task;
    nlp_pool_run(pool, gemm_rows, &j, tasks);
}
