/*
 * gemm.c - the GEMM driver (see gemm.h) and its portable C kernel.
 *
 * C is cut into tasks of one column panel (NR columns of the path) by a
 * chunk of up to MC rows; the pool's threads claim tasks, so a batch of
 * one token still spreads over every thread by columns and long batches
 * also split by rows.  Inside a task K is walked in blocks of KC so the
 * panel block (KC x NR floats, 32 KiB on AVX-512) stays in L1 while the
 * row micro-kernel sweeps the chunk.  Each tile gets the epilogue right
 * after its last K block, while it is still in cache.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "gemm.h"
#include "gemm_kernels.h"

enum { KC = 256, MC = 240 };


/* ---------------------------------------------------------------- portable kernel */

void nlp_ukernel_generic(size_t mr, size_t nr, size_t kc, const float *a,
                         size_t lda, const float *b, size_t ldb, float *c,
                         size_t ldc, int load_c,
                         const float *pf)
{
    (void)pf;
    enum { R = NLP_GEMM_GENERIC_MR, W = NLP_GEMM_GENERIC_NR };
    float acc[R][W];
    memset(acc, 0, sizeof acc);
    if (nr == W) {
        for (size_t k = 0; k < kc; k++) {
            const float *bk = b + k * ldb;
            for (size_t i = 0; i < mr; i++) {
                float av = a[i * lda + k];
                for (size_t j = 0; j < W; j++)
                    acc[i][j] += av * bk[j];
            }
        }
    } else {
        for (size_t k = 0; k < kc; k++) {
            const float *bk = b + k * ldb;
            for (size_t i = 0; i < mr; i++) {
                float av = a[i * lda + k];
                for (size_t j = 0; j < nr; j++)
                    acc[i][j] += av * bk[j];
            }
        }
    }
    for (size_t i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        for (size_t j = 0; j < nr; j++)
            ci[j] = load_c ? ci[j] + acc[i][j] : acc[i][j];
    }
}

void nlp_ukernel_generic_at(size_t mr, size_t nr, size_t kc, const float *a,
                            size_t lda, const float *b, size_t ldb, float *c,
                            size_t ldc, int load_c, const float *pf)
{
    (void)pf;
    float acc[NLP_GEMM_GENERIC_MR][NLP_GEMM_GENERIC_NR];
    memset(acc, 0, sizeof acc);
    for (size_t k = 0; k < kc; k++) {
        const float *bk = b + k * ldb, *ak = a + k * lda;
        for (size_t i = 0; i < mr; i++)
            for (size_t j = 0; j < nr; j++)
                acc[i][j] += ak[i] * bk[j];
    }
    for (size_t i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        for (size_t j = 0; j < nr; j++)
            ci[j] = load_c ? ci[j] + acc[i][j] : acc[i][j];
    }
}

static float act_scalar(float v, nlp_gemm_act act)
{
    switch (act) {
    case NLP_GEMM_ACT_GELU:
        return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    case NLP_GEMM_ACT_GELU_TANH:
        return 0.5f * v * (1.0f + tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v)));
    case NLP_GEMM_ACT_RELU:
        return v > 0.0f ? v : 0.0f;
    case NLP_GEMM_ACT_NONE:
        break;
    }
    return v;
}

void nlp_epilogue_generic(float *x, size_t n, nlp_gemm_act act,
                          const float *bias, const float *residual)
{
    for (size_t j = 0; j < n; j++) {
        float v = x[j];
        if (bias)
            v += bias[j];
        v = act_scalar(v, act);
        if (residual)
            v += residual[j];
        x[j] = v;
    }
}

/* ---------------------------------------------------------------- path table */

static const nlp_gemm_kernel kernels[] = {
    [NLP_PATH_GENERIC] = { NLP_GEMM_GENERIC_MR, NLP_GEMM_GENERIC_NR,
                           nlp_ukernel_generic, nlp_epilogue_generic,
                           nlp_ukernel_generic_at },
#if defined(__x86_64__)
    [NLP_PATH_AVX2] = { NLP_GEMM_AVX2_MR, NLP_GEMM_AVX2_NR,
                        nlp_ukernel_avx2, nlp_epilogue_avx2, nlp_ukernel_avx2_at },
    [NLP_PATH_AVX512] = { NLP_GEMM_AVX512_MR, NLP_GEMM_AVX512_NR,
                          nlp_ukernel_avx512, nlp_epilogue_avx512,
                          nlp_ukernel_avx512_at },
#endif
};

const nlp_gemm_kernel *nlp_gemm_current_kernel(void)
{
    nlp_kernel_path p = nlp_cpu_path();
#if !defined(__x86_64__)
    p = NLP_PATH_GENERIC;
#endif
    return &kernels[p];
}

/* ---------------------------------------------------------------- partition */

void nlp_gemm_part(size_t n, size_t parts, size_t i, size_t *lo, size_t *hi)
{
    *lo = n * i / parts;
    *hi = n * (i + 1) / parts;
}

void nlp_gemm_rows(size_t M, size_t MR, size_t chunks, size_t i, size_t *m0, size_t *m1)
{
    size_t blocks = (M + MR - 1) / MR, b0, b1;
    nlp_gemm_part(blocks, chunks, i, &b0, &b1);
    *m0 = b0 * MR;
    *m1 = b1 * MR < M ? b1 * MR : M;
}

void nlp_gemm_split(size_t panels, size_t M, size_t MR, int threads,
                    size_t max_group, size_t *groups, size_t *chunks)
{
    const size_t T = threads > 0 ? (size_t)threads : 1;
    const size_t blocks = (M + MR - 1) / MR;
    size_t c = (M + MC - 1) / MC;
    *chunks = c < 1 ? 1 : c > blocks ? blocks : c;
    /* about 4 tasks per thread, at most max_group panels per task, and
     * (when it can be had) a task count that is a multiple of T */
    size_t want = 4 * T, g = (want + *chunks - 1) / *chunks;
    size_t least = (panels + max_group - 1) / max_group;
    if (g < least)
        g = least;
    if (g > panels)
        g = panels;
    for (size_t t = g; t <= panels && t <= 2 * g; t++)
        if ((t * *chunks) % T == 0) {
            g = t;
            break;
        }
    *groups = g;
}

/* ---------------------------------------------------------------- driver */

typedef enum { B_PACKED, B_KN, B_NK } b_mode;

typedef struct {
    const nlp_gemm_kernel *kern;
    b_mode mode;
    size_t M, N, K;
    const float *A;
    size_t lda;
    const float *B;             /* raw matrix, or packed panels */
    size_t ldb;
    const nlp_gemm_epilogue *ep;
    float *C;
    size_t ldc;
    size_t panels, groups, chunks;  /* tasks: groups of panels x chunks of rows */
    int a_trans;                /* raw B: A stored [K][M] */
    int accumulate;             /* raw B: C += the product */
} gemm_job;

/* The epilogue over the rows [m, m + mr) of the tile at column n0. */
void nlp_gemm_tile_epilogue(const nlp_gemm_kernel *kern, const nlp_gemm_epilogue *ep,
                            float *c, size_t ldc, size_t m, size_t mr, size_t n0,
                            size_t nr)
{
    for (size_t i = 0; i < mr; i++)
        kern->epilogue(c + i * ldc, nr, ep->act, ep->bias ? ep->bias + n0 : NULL,
                       ep->residual ? ep->residual + (m + i) * ep->ldr + n0 : NULL);
}

static void tile_epilogue(const gemm_job *j, float *c, size_t m, size_t mr,
                          size_t n0, size_t nr)
{
    nlp_gemm_tile_epilogue(j->kern, j->ep, c, j->ldc, m, mr, n0, nr);
}

/* The panel block a task sweeps after panel p's block at k0: the next
 * panel's, else the first panel's at the next K block (the start of the
 * current one when there is none: prefetching it is harmless). */
static const float *next_block(const gemm_job *j, size_t p, size_t p0,
                               size_t p1, size_t k0, size_t kc)
{
    const size_t NR = j->kern->nr;
    if (p + 1 < p1)
        return j->B + (p + 1) * j->K * NR + k0 * NR;
    if (k0 + kc < j->K)
        return j->B + p0 * j->K * NR + (k0 + kc) * NR;
    return j->B + p * j->K * NR + k0 * NR;
}

/* Packed B: a task is a group of panels by a chunk of rows.  When A's row
 * stride is a multiple of 4 KiB (3072 floats: all MR rows would fall in
 * one L1 set), each MR-row block of A is first copied, once per K block,
 * into a buffer with a harmless stride and reused across the group's
 * panels; otherwise the micro-kernel reads A in place. */
static void gemm_task_packed(const gemm_job *j, size_t g, size_t mi)
{
    enum { ALD = KC + 16, SUB = 4 };
    const size_t NR = j->kern->nr, MR = j->kern->mr;
    size_t m0, m1, p0, p1;
    nlp_gemm_rows(j->M, MR, j->chunks, mi, &m0, &m1);
    nlp_gemm_part(j->panels, j->groups, g, &p0, &p1);
    const size_t nk = (j->K + KC - 1) / KC;
    const int aliasing = (j->lda * sizeof(float)) % 4096 == 0;
    _Alignas(64) float abuf[SUB * NLP_GEMM_MAX_MR * ALD];   /* [SUB * MR][ALD] */

    for (size_t kb = 0; kb < nk; kb++) {
        const size_t k0 = kb * KC;
        const size_t kc = j->K - k0 < KC ? j->K - k0 : KC;
        const int last = kb + 1 == nk;
        if (!aliasing) {
            /* panel outer: its KC x NR block stays in L1 while the rows
             * stream past it */
            for (size_t p = p0; p < p1; p++) {
                const size_t n0 = p * NR;
                const size_t nr = j->N - n0 < NR ? j->N - n0 : NR;
                const float *b = j->B + p * j->K * NR + k0 * NR;
                /* each tile prefetches its share of the block used next */
                const float *pf = next_block(j, p, p0, p1, k0, kc);
                for (size_t m = m0; m < m1; m += MR, pf += kc / 4 * 16) {
                    const size_t mr = m1 - m < MR ? m1 - m : MR;
                    float *c = j->C + m * j->ldc + n0;
                    j->kern->tile(mr, nr, kc, j->A + m * j->lda + k0, j->lda, b,
                                  NR, c, j->ldc, kb > 0, pf);
                    if (last && j->ep)
                        tile_epilogue(j, c, m, mr, n0, nr);
                }
            }
            continue;
        }
        /* aliasing stride: SUB blocks of rows at a time are copied to
         * abuf, then swept panel by panel */
        for (size_t ms = m0; ms < m1; ms += SUB * MR) {
            const size_t me = m1 - ms < SUB * MR ? m1 : ms + SUB * MR;
            for (size_t i = 0; i < me - ms; i++)
                memcpy(abuf + i * ALD, j->A + (ms + i) * j->lda + k0, kc * sizeof(float));
            for (size_t p = p0; p < p1; p++) {
                const size_t n0 = p * NR;
                const size_t nr = j->N - n0 < NR ? j->N - n0 : NR;
                const float *b = j->B + p * j->K * NR + k0 * NR;
                const float *pf = next_block(j, p, p0, p1, k0, kc);
                for (size_t m = ms; m < me; m += MR, pf += kc / 4 * 16) {
                    const size_t mr = me - m < MR ? me - m : MR;
                    float *c = j->C + m * j->ldc + n0;
                    j->kern->tile(mr, nr, kc, abuf + (m - ms) * ALD, ALD, b, NR,
                                  c, j->ldc, kb > 0, pf);
                    if (last && j->ep)
                        tile_epilogue(j, c, m, mr, n0, nr);
                }
            }
        }
    }
}

/* Raw B: a task is one panel by a chunk of rows; [N][K] blocks are
 * transposed into buf once per K block, [K][N] is read in place. */
static void gemm_task_raw(const gemm_job *j, size_t p, size_t mi)
{
    const size_t NR = j->kern->nr, MR = j->kern->mr;
    size_t m0, m1;
    nlp_gemm_rows(j->M, MR, j->chunks, mi, &m0, &m1);
    const size_t n0 = p * NR;
    const size_t nr = j->N - n0 < NR ? j->N - n0 : NR;
    const size_t nk = j->K ? (j->K + KC - 1) / KC : 1;
    _Alignas(64) float buf[KC * NLP_GEMM_MAX_NR];  /* [KC][NR] transposed block */

    for (size_t kb = 0; kb < nk; kb++) {
        const size_t k0 = kb * KC;
        const size_t kc = j->K - k0 < KC ? j->K - k0 : KC;
        const float *b;
        size_t ldb;
        if (j->mode == B_KN) {
            b = j->B + k0 * j->ldb + n0;
            ldb = j->ldb;
        } else {
            for (size_t jj = 0; jj < nr; jj++) {
                const float *src = j->B + (n0 + jj) * j->ldb + k0;
                for (size_t k = 0; k < kc; k++)
                    buf[k * NR + jj] = src[k];
            }
            b = buf;
            ldb = NR;
        }
        const int last = kb + 1 == nk, load_c = kb > 0 || j->accumulate;
        for (size_t m = m0; m < m1; m += MR) {
            const size_t mr = m1 - m < MR ? m1 - m : MR;
            float *c = j->C + m * j->ldc + n0;
            if (j->a_trans)
                j->kern->tile_at(mr, nr, kc, j->A + k0 * j->lda + m, j->lda, b, ldb,
                                 c, j->ldc, load_c, b);
            else
                j->kern->tile(mr, nr, kc, j->A + m * j->lda + k0, j->lda, b, ldb,
                              c, j->ldc, load_c, b);
            if (last && j->ep)
                tile_epilogue(j, c, m, mr, n0, nr);
        }
    }
}

static void gemm_task(void *vp, size_t t)
{
    const gemm_job *j = vp;
    if (j->mode == B_PACKED)
        gemm_task_packed(j, t % j->groups, t / j->groups);
    else
        gemm_task_raw(j, t % j->groups, t / j->groups);
}

static void gemm_run(nlp_pool *pool, gemm_job *j)
{
    const size_t MR = j->kern->mr, NR = j->kern->nr;
    j->panels = (j->N + NR - 1) / NR;
    /* packed: a few panels per task; raw: one (its block of B is
     * transposed once per task) */
    nlp_gemm_split(j->panels, j->M, MR, nlp_pool_threads(pool),
                   j->mode == B_PACKED ? 8 : 1, &j->groups, &j->chunks);
    nlp_pool_run(pool, gemm_task, j, j->groups * j->chunks);
}

void nlp_sgemm(nlp_pool *pool, int trans_b, size_t M, size_t N, size_t K,
               const float *A, size_t lda, const float *B, size_t ldb,
               const float *bias, float *C, size_t ldc)
{
    if (M == 0 || N == 0)
        return;
    nlp_gemm_epilogue ep = { bias, NLP_GEMM_ACT_NONE, NULL, 0 };
    gemm_job j = { nlp_gemm_current_kernel(), trans_b ? B_NK : B_KN, M, N, K, A, lda,
                   B, ldb, bias ? &ep : NULL, C, ldc, 0, 0, 0, 0, 0 };
    gemm_run(pool, &j);
}

void nlp_sgemm_at_acc(nlp_pool *pool, size_t M, size_t N, size_t K,
                      const float *A, size_t lda, const float *B, size_t ldb,
                      float *C, size_t ldc)
{
    if (M == 0 || N == 0 || K == 0)
        return;
    gemm_job j = { nlp_gemm_current_kernel(), B_KN, M, N, K, A, lda, B, ldb, NULL, C, ldc,
                   0, 0, 0, 1, 1 };
    gemm_run(pool, &j);
}

nlp_packed_b *nlp_pack_b(const float *B, size_t N, size_t K)
{
    if (N == 0 || K == 0)
        return NULL;
    nlp_packed_b *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->kern = nlp_gemm_current_kernel();
    const size_t NR = p->kern->nr;
    p->N = N;
    p->K = K;
    p->panels = (N + NR - 1) / NR;
    size_t bytes = p->panels * K * NR * sizeof(float);
    if (K > SIZE_MAX / NR / sizeof(float) / p->panels
        || !(p->data = aligned_alloc(64, (bytes + 63) / 64 * 64))) {
        free(p);
        return NULL;
    }
    for (size_t pn = 0; pn < p->panels; pn++) {
        float *dst = p->data + pn * K * NR;
        size_t n0 = pn * NR, nr = N - n0 < NR ? N - n0 : NR;
        for (size_t k = 0; k < K; k++) {
            for (size_t jj = 0; jj < nr; jj++)
                dst[k * NR + jj] = B[(n0 + jj) * K + k];
            for (size_t jj = nr; jj < NR; jj++)
                dst[k * NR + jj] = 0.0f;
        }
    }
    return p;
}

void nlp_packed_b_free(nlp_packed_b *p)
{
    if (!p)
        return;
    free(p->data);
    free(p->q8);
    free(p->scale);
    free(p->comp);
    free(p->bf16);
    free(p);
}

size_t nlp_packed_b_rows(const nlp_packed_b *p) { return p->N; }
size_t nlp_packed_b_cols(const nlp_packed_b *p) { return p->K; }
size_t nlp_packed_b_bytes(const nlp_packed_b *p)
{
    if (p->q8)
        return sizeof *p + p->panels * NLP_INT8_NR * (p->kq * 4 + sizeof(float) + sizeof(int32_t));
    if (p->bf16)
        return sizeof *p + p->panels * NLP_INT8_NR * p->kq * 2 * sizeof(uint16_t);
    return sizeof *p + p->panels * p->K * p->kern->nr * sizeof(float);
}

void nlp_sgemm_packed(nlp_pool *pool, size_t M, const float *A, size_t lda,
                      const nlp_packed_b *B, const nlp_gemm_epilogue *ep,
                      float *C, size_t ldc)
{
    if (M == 0)
        return;
    if (ep && !ep->bias && !ep->residual && ep->act == NLP_GEMM_ACT_NONE)
        ep = NULL;
    if (B->q8) {
        nlp_sgemm_packed_int8(pool, M, A, lda, B, ep, C, ldc);
        return;
    }
    if (B->bf16) {
        nlp_sgemm_packed_bf16(pool, M, A, lda, B, ep, C, ldc);
        return;
    }
    gemm_job j = { B->kern, B_PACKED, M, B->N, B->K, A, lda, B->data, 0,
                   ep, C, ldc, 0, 0, 0, 0, 0 };
    gemm_run(pool, &j);
}

void nlp_gemm_epilogue_row(float *x, size_t n, nlp_gemm_act act,
                           const float *bias, const float *residual)
{
    nlp_gemm_current_kernel()->epilogue(x, n, act, bias, residual);
}
