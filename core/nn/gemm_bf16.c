/*
 * gemm_bf16.c - GEMM with bfloat16 weights (see nlp_pack_b_bf16 in gemm.h).
 *
 * Weights are rounded to bf16 (nearest even) once and packed in panels of
 * 32 columns whose 32-bit lanes hold 2 consecutive k of one column
 * ([kp][32][2]), the operand layout of VDPBF16PS.  Each MR-row block of A
 * is rounded to bf16 the same way at run time; products of two bf16 values
 * are exact in fp32 and accumulate in fp32.  AVX-512 BF16 when the CPU has
 * it, else portable C over the same rounded values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "gemm.h"
#include "gemm_kernels.h"
#include "util/util.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { MR = NLP_INT8_MR, NR = NLP_INT8_NR };

static float from_bf16(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

nlp_packed_b *nlp_pack_b_bf16(const float *B, size_t N, size_t K)
{
    if (N == 0 || K == 0 || K > NLP_INT8_MAX_K)
        return NULL;
    nlp_packed_b *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->kern = nlp_gemm_current_kernel();
    p->N = N;
    p->K = K;
    p->kq = (K + 1) / 2;
    p->panels = (N + NR - 1) / NR;
    p->bf16_hw = nlp_cpu_path() == NLP_PATH_AVX512 && (nlp_cpu_features() & NLP_CPU_AVX512BF16);
    size_t bytes = p->panels * p->kq * NR * 2 * sizeof(uint16_t);
    p->bf16 = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p->bf16) {
        free(p);
        return NULL;
    }
    memset(p->bf16, 0, bytes);
    for (size_t n = 0; n < N; n++) {
        uint16_t *panel = p->bf16 + (n / NR) * p->kq * NR * 2;
        for (size_t k = 0; k < K; k++)
            panel[(k / 2) * NR * 2 + (n % NR) * 2 + k % 2] = nlp_f32_to_bf16(B[n * K + k]);
    }
    return p;
}

int nlp_packed_b_is_bf16(const nlp_packed_b *p)
{
    return p && p->bf16 != NULL;
}

/* Rows [0, mr) of A to bf16 in out ([mr][2 kp], padding 0). */
static void convert_rows(const float *A, size_t lda, size_t mr, size_t K,
                         size_t kp, uint16_t *out)
{
    for (size_t i = 0; i < mr; i++) {
        uint16_t *o = out + i * kp * 2;
        for (size_t k = 0; k < K; k++)
            o[k] = nlp_f32_to_bf16(A[i * lda + k]);
        for (size_t k = K; k < kp * 2; k++)
            o[k] = 0;
    }
}

static void tile_c(size_t mr, size_t nr, size_t kp, const uint16_t *a,
                   const uint16_t *b, float *c, size_t ldc)
{
    float acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (size_t q = 0; q < kp; q++) {
        const uint16_t *bq = b + q * NR * 2;
        for (size_t i = 0; i < mr; i++) {
            float a0 = from_bf16(a[i * kp * 2 + q * 2]), a1 = from_bf16(a[i * kp * 2 + q * 2 + 1]);
            for (size_t j = 0; j < NR; j++)
                acc[i][j] += a0 * from_bf16(bq[j * 2]) + a1 * from_bf16(bq[j * 2 + 1]);
        }
    }
    for (size_t i = 0; i < mr; i++)
        memcpy(c + i * ldc, acc[i], nr * sizeof(float));
}

#if defined(__x86_64__)
#define TARGETBF __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx512bf16")))

TARGETBF static inline __attribute__((always_inline)) void
tile_hw_r(const size_t R, size_t nr, size_t kp, const uint16_t *a,
          const uint16_t *b, float *c, size_t ldc)
{
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 12
    for (size_t i = 0; i < R; i++) {
        c0[i] = _mm512_setzero_ps();
        c1[i] = _mm512_setzero_ps();
    }
    const size_t lda = kp * 2;
    for (size_t q = 0; q < kp; q++) {
        const __m512bh b0 = (__m512bh)_mm512_load_si512((const void *)(b + q * NR * 2));
        const __m512bh b1 = (__m512bh)_mm512_load_si512((const void *)(b + q * NR * 2 + 32));
#pragma GCC unroll 12
        for (size_t i = 0; i < R; i++) {
            int32_t word;
            memcpy(&word, a + i * lda + q * 2, 4);
            const __m512bh av = (__m512bh)_mm512_set1_epi32(word);
            c0[i] = _mm512_dpbf16_ps(c0[i], av, b0);
            c1[i] = _mm512_dpbf16_ps(c1[i], av, b1);
        }
    }
    const __mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? 0xffff : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
#pragma GCC unroll 12
    for (size_t i = 0; i < R; i++) {
        _mm512_mask_storeu_ps(c + i * ldc, m0, c0[i]);
        _mm512_mask_storeu_ps(c + i * ldc + 16, m1, c1[i]);
    }
}

/* As convert_rows, 32 values at a time (VCVTNE2PS2BF16 rounds to nearest
 * even too; it treats subnormal inputs as zero). */
TARGETBF static void convert_rows_hw(const float *A, size_t lda, size_t mr, size_t K,
                                     size_t kp, uint16_t *out)
{
    for (size_t i = 0; i < mr; i++) {
        const float *a = A + i * lda;
        uint16_t *o = out + i * kp * 2;
        size_t k = 0;
        for (; k + 32 <= K; k += 32) {
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(a + k + 16), _mm512_loadu_ps(a + k));
            _mm512_storeu_si512((void *)(o + k), (__m512i)v);
        }
        for (; k < K; k++)
            o[k] = nlp_f32_to_bf16(a[k]);
        for (; k < kp * 2; k++)
            o[k] = 0;
    }
}

TARGETBF static void tile_hw(size_t mr, size_t nr, size_t kp, const uint16_t *a,
                             const uint16_t *b, float *c, size_t ldc)
{
    switch (mr) {
#define CASE(R) case R: tile_hw_r(R, nr, kp, a, b, c, ldc); break;
    CASE(12) CASE(11) CASE(10) CASE(9) CASE(8) CASE(7)
    CASE(6) CASE(5) CASE(4) CASE(3) CASE(2) CASE(1)
#undef CASE
    default: break;
    }
}
#endif

typedef struct {
    const nlp_packed_b *B;
    size_t M;
    const float *A;
    size_t lda;
    const nlp_gemm_epilogue *ep;
    float *C;
    size_t ldc;
    size_t groups, chunks;      /* tasks: groups of panels x chunks of rows */
} bf16_job;

static void bf16_task(void *vp, size_t t)
{
    const bf16_job *j = vp;
    const nlp_packed_b *B = j->B;
    const size_t g = t % j->groups, mi = t / j->groups;
    size_t m0, m1, p0, p1;
    nlp_gemm_rows(j->M, MR, j->chunks, mi, &m0, &m1);
    nlp_gemm_part(B->panels, j->groups, g, &p0, &p1);
    _Alignas(64) uint16_t abuf[MR * NLP_INT8_MAX_K];

    for (size_t m = m0; m < m1; m += MR) {
        const size_t mr = m1 - m < MR ? m1 - m : MR;
#if defined(__x86_64__)
        if (B->bf16_hw)
            convert_rows_hw(j->A + m * j->lda, j->lda, mr, B->K, B->kq, abuf);
        else
#endif
            convert_rows(j->A + m * j->lda, j->lda, mr, B->K, B->kq, abuf);
        for (size_t p = p0; p < p1; p++) {
            const size_t n0 = p * NR;
            const size_t nr = B->N - n0 < NR ? B->N - n0 : NR;
            const uint16_t *b = B->bf16 + p * B->kq * NR * 2;
            float *c = j->C + m * j->ldc + n0;
#if defined(__x86_64__)
            if (B->bf16_hw)
                tile_hw(mr, nr, B->kq, abuf, b, c, j->ldc);
            else
#endif
                tile_c(mr, nr, B->kq, abuf, b, c, j->ldc);
            if (j->ep)
                nlp_gemm_tile_epilogue(B->kern, j->ep, c, j->ldc, m, mr, n0, nr);
        }
    }
}

void nlp_sgemm_packed_bf16(nlp_pool *pool, size_t M, const float *A,
                           size_t lda, const nlp_packed_b *B,
                           const nlp_gemm_epilogue *ep, float *C, size_t ldc)
{
    bf16_job j = { B, M, A, lda, ep, C, ldc, 0, 0 };
    nlp_gemm_split(B->panels, M, MR, nlp_pool_threads(pool), 8, &j.groups, &j.chunks);
    nlp_pool_run(pool, bf16_task, &j, j.groups * j.chunks);
}
