/*
 * gemm_int8.c - dynamically quantised GEMM (see nlp_pack_b_int8 in gemm.h).
 *
 * Weights are int8 with one scale per output channel, packed in panels of
 * 32 columns where each 32-bit lane holds 4 consecutive k of one column
 * ([kq][32][4] bytes), the operand layout of VPDPBUSD.  At run time every
 * row of A is quantised asymmetrically to unsigned bytes over its own
 * range [lo, hi] (a = lo + s_a u, s_a = (hi - lo) / 255), which keeps the
 * full 8 bits for one-sided inputs such as GELU outputs; the offset comes
 * back through comp[n] = sum_k q8[n][k]:
 *   C[m][n] = s_w[n] (s_a[m] sum_k u[m][k] q8[n][k] + lo[m] comp[n]).
 * Integer sums are exact (|sum| <= 8192 * 255 * 127 < 2^31), so the
 * portable, VNNI (AVX-512 or AVX-VNNI) and AVX2 kernels give identical
 * results before the float dequantisation.  The AVX2 tile widens both
 * operands to 16 bits and uses VPMADDWD, whose pair sums (at most
 * 2 * 255 * 127) cannot saturate, unlike the 8-bit VPMADDUBSW.  A task is a group of panels by a chunk of rows; the
 * quantised rows live on the stack (MR x 8192 bytes at most).
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "gemm.h"
#include "gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { MR = NLP_INT8_MR, NR = NLP_INT8_NR };

static atomic_int allow_avxvnni = 1;   /* read by every packing thread */

void nlp_int8_allow_avxvnni(int allow)
{
    atomic_store_explicit(&allow_avxvnni, allow, memory_order_relaxed);
}

nlp_packed_b *nlp_pack_b_int8(const float *B, size_t N, size_t K)
{
    if (N == 0 || K == 0 || K > NLP_INT8_MAX_K)
        return NULL;
    nlp_packed_b *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->kern = nlp_gemm_current_kernel();
    p->N = N;
    p->K = K;
    p->kq = (K + 3) / 4;
    p->panels = (N + NR - 1) / NR;
    const nlp_kernel_path path = nlp_cpu_path();
    const unsigned feat = nlp_cpu_features();
    p->vnni = path == NLP_PATH_AVX512 && (feat & NLP_CPU_AVX512VNNI) ? NLP_INT8_KERNEL_AVX512
            : path >= NLP_PATH_AVX2 && (feat & NLP_CPU_AVXVNNI) &&
                atomic_load_explicit(&allow_avxvnni, memory_order_relaxed)
                ? NLP_INT8_KERNEL_AVXVNNI
            : path >= NLP_PATH_AVX2 ? NLP_INT8_KERNEL_AVX2 : NLP_INT8_KERNEL_C;
    size_t cols = p->panels * NR;
    p->q8 = aligned_alloc(64, (p->panels * p->kq * NR * 4 + 63) / 64 * 64);
    p->scale = calloc(cols, sizeof *p->scale);
    p->comp = calloc(cols, sizeof *p->comp);
    if (!p->q8 || !p->scale || !p->comp) {
        nlp_packed_b_free(p);
        return NULL;
    }
    memset(p->q8, 0, p->panels * p->kq * NR * 4);
    for (size_t n = 0; n < N; n++) {
        const float *row = B + n * K;
        float amax = 0.0f;
        for (size_t k = 0; k < K; k++)
            amax = fmaxf(amax, fabsf(row[k]));
        float s = amax / 127.0f, inv = amax > 0.0f ? 127.0f / amax : 0.0f;
        int8_t *panel = p->q8 + (n / NR) * p->kq * NR * 4;
        size_t jn = n % NR;
        int32_t sum = 0;
        for (size_t k = 0; k < K; k++) {
            long q = lrintf(row[k] * inv);
            q = q > 127 ? 127 : q < -127 ? -127 : q;
            panel[(k / 4) * NR * 4 + jn * 4 + k % 4] = (int8_t)q;
            sum += (int32_t)q;
        }
        p->scale[n] = s;
        p->comp[n] = sum;
    }
    return p;
}

int nlp_packed_b_is_int8(const nlp_packed_b *p)
{
    return p && p->q8 != NULL;
}

/* ---------------------------------------------------------------- A rows */

/* Quantise rows [0, mr) of A (K floats each) to bytes u = round((a - lo)
 * 255 / (hi - lo)) in out ([mr][4 kq], padding 0), with the step of each
 * row in sa and its lo in za. */
static void quantise_rows_c(const float *A, size_t lda, size_t mr, size_t K,
                            size_t kq, uint8_t *out, float *sa, float *za)
{
    for (size_t i = 0; i < mr; i++) {
        const float *a = A + i * lda;
        uint8_t *o = out + i * kq * 4;
        float lo = a[0], hi = a[0];
        for (size_t k = 1; k < K; k++) {
            lo = fminf(lo, a[k]);
            hi = fmaxf(hi, a[k]);
        }
        float inv = hi > lo ? 255.0f / (hi - lo) : 0.0f;
        sa[i] = (hi - lo) / 255.0f;
        za[i] = lo;
        for (size_t k = 0; k < K; k++) {
            long q = lrintf((a[k] - lo) * inv);
            o[k] = (uint8_t)(q > 255 ? 255 : q < 0 ? 0 : q);
        }
        for (size_t k = K; k < kq * 4; k++)
            o[k] = 0;
    }
}

/* ---------------------------------------------------------------- portable tile */

/* c[i][j] = sw[j] (sa[i] sum_q a . b + za[i] comp[j]), i < mr, j < nr. */
static void tile_c(size_t mr, size_t nr, size_t kq, const uint8_t *a,
                   const int8_t *b, const float *sa, const float *za,
                   const float *sw, const int32_t *comp, float *c, size_t ldc)
{
    int32_t acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (size_t q = 0; q < kq; q++) {
        const int8_t *bq = b + q * NR * 4;
        for (size_t i = 0; i < mr; i++) {
            const uint8_t *ai = a + i * kq * 4 + q * 4;
            for (size_t j = 0; j < NR; j++)
                acc[i][j] += ai[0] * bq[j * 4] + ai[1] * bq[j * 4 + 1]
                           + ai[2] * bq[j * 4 + 2] + ai[3] * bq[j * 4 + 3];
        }
    }
    for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < nr; j++)
            c[i * ldc + j] = sw[j] * ((float)acc[i][j] * sa[i] + za[i] * (float)comp[j]);
}

/* ---------------------------------------------------------------- AVX-512 VNNI tile */

#if defined(__x86_64__)
#define TARGET8 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx512vnni")))

/* acc += a (unsigned bytes) . b (signed bytes), per 32-bit lane: VPDPBUSD
 * through asm, because GCC's builtin makes it copy and spill the tile's
 * accumulators around every instruction. */
TARGET8 static inline __attribute__((always_inline)) __m512i
dpbusd(__m512i acc, __m512i a, __m512i b)
{
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}

TARGET8 static inline __attribute__((always_inline)) void
tile_vnni_r(const size_t R, size_t nr, size_t kq, const uint8_t *a,
            const int8_t *b, const float *sa, const float *za, const float *sw,
            const int32_t *comp, float *c, size_t ldc)
{
    __m512i c0[MR], c1[MR];
#pragma GCC unroll 12
    for (size_t i = 0; i < R; i++) {
        c0[i] = _mm512_setzero_si512();
        c1[i] = _mm512_setzero_si512();
    }
    const size_t lda = kq * 4;
    for (size_t q = 0; q < kq; q++) {
        const __m512i b0 = _mm512_load_si512((const void *)(b + q * NR * 4));
        const __m512i b1 = _mm512_load_si512((const void *)(b + q * NR * 4 + 64));
#pragma GCC unroll 12
        for (size_t i = 0; i < R; i++) {
            int32_t word;
            memcpy(&word, a + i * lda + q * 4, 4);
            const __m512i av = _mm512_set1_epi32(word);
            c0[i] = dpbusd(c0[i], av, b0);
            c1[i] = dpbusd(c1[i], av, b1);
        }
    }
    const __m512 k0 = _mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)comp));
    const __m512 k1 = _mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)(comp + 16)));
    const __m512 w0 = _mm512_loadu_ps(sw), w1 = _mm512_loadu_ps(sw + 16);
    const __mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? 0xffff : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
#pragma GCC unroll 12
    for (size_t i = 0; i < R; i++) {
        const __m512 s = _mm512_set1_ps(sa[i]), z = _mm512_set1_ps(za[i]);
        __m512 f0 = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(c0[i]), s), _mm512_mul_ps(z, k0));
        __m512 f1 = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(c1[i]), s), _mm512_mul_ps(z, k1));
        f0 = _mm512_mul_ps(f0, w0);
        f1 = _mm512_mul_ps(f1, w1);
        _mm512_mask_storeu_ps(c + i * ldc, m0, f0);
        _mm512_mask_storeu_ps(c + i * ldc + 16, m1, f1);
    }
}

TARGET8 static void tile_vnni(size_t mr, size_t nr, size_t kq, const uint8_t *a,
                              const int8_t *b, const float *sa, const float *za,
                              const float *sw, const int32_t *comp, float *c,
                              size_t ldc)
{
    switch (mr) {
#define CASE(R) case R: tile_vnni_r(R, nr, kq, a, b, sa, za, sw, comp, c, ldc); break;
    CASE(12) CASE(11) CASE(10) CASE(9) CASE(8) CASE(7)
    CASE(6) CASE(5) CASE(4) CASE(3) CASE(2) CASE(1)
#undef CASE
    default: break;
    }
}

/* As quantise_rows_c, 16 values at a time (same rounding: to nearest even). */
TARGET8 static void quantise_rows_avx512(const float *A, size_t lda, size_t mr,
                                         size_t K, size_t kq, uint8_t *out,
                                         float *sa, float *za)
{
    for (size_t i = 0; i < mr; i++) {
        const float *a = A + i * lda;
        uint8_t *o = out + i * kq * 4;
        __m512 vmin = _mm512_set1_ps(a[0]), vmax = vmin;
        for (size_t k = 0; k < K; k += 16) {
            __mmask16 m = K - k >= 16 ? 0xffff : (__mmask16)((1u << (K - k)) - 1);
            __m512 v = _mm512_mask_loadu_ps(vmin, m, a + k);
            vmin = _mm512_min_ps(vmin, v);
            vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(vmax, m, a + k));
        }
        float lo = _mm512_reduce_min_ps(vmin), hi = _mm512_reduce_max_ps(vmax);
        float inv = hi > lo ? 255.0f / (hi - lo) : 0.0f;
        sa[i] = (hi - lo) / 255.0f;
        za[i] = lo;
        const __m512 vinv = _mm512_set1_ps(inv), vlo = _mm512_set1_ps(lo);
        const __m512i q0 = _mm512_setzero_si512(), q255 = _mm512_set1_epi32(255);
        for (size_t k = 0; k < K; k += 16) {
            __mmask16 m = K - k >= 16 ? 0xffff : (__mmask16)((1u << (K - k)) - 1);
            __m512 v = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + k), vlo);
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(v, vinv));
            q = _mm512_min_epi32(_mm512_max_epi32(q, q0), q255);
            _mm_mask_storeu_epi8(o + k, m, _mm512_cvtepi32_epi8(q));
        }
        for (size_t k = K; k < kq * 4; k++)
            o[k] = 0;
    }
}

/* ---------------------------------------------------------------- AVX2 tiles */

#define TARGET2 __attribute__((target("avx2,fma")))
#define TARGETV __attribute__((target("avx2,fma,avxvnni")))

/* c[i][j] = sw[j] (sa[i] acc[i][j] + za[i] comp[j]) for one row, j < nr,
 * acc as 4 vectors of 8 columns. */
TARGET2 static inline __attribute__((always_inline)) void
store_row256(const __m256i acc[4], size_t nr, float sa, float za,
             const float *sw, const int32_t *comp, float *c)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 s = _mm256_set1_ps(sa), z = _mm256_set1_ps(za);
    for (size_t v = 0; v < 4 && v * 8 < nr; v++) {
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(nr - v * 8)), lane);
        const __m256 k = _mm256_cvtepi32_ps(_mm256_loadu_si256((const void *)(comp + v * 8)));
        __m256 f = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc[v]), s), _mm256_mul_ps(z, k));
        f = _mm256_mul_ps(f, _mm256_loadu_ps(sw + v * 8));
        _mm256_maskstore_ps(c + v * 8, m, f);
    }
}

/* acc += a . b as VPDPBUSD (VEX form) through asm, as dpbusd above. */
TARGETV static inline __attribute__((always_inline)) __m256i
dpbusd256(__m256i acc, __m256i a, __m256i b)
{
    __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(b));
    return acc;
}

/* AVX-VNNI: two rows at a time, 32 columns in 4 ymm accumulators each. */
TARGETV static void tile_avxvnni(size_t mr, size_t nr, size_t kq, const uint8_t *a,
                                 const int8_t *b, const float *sa, const float *za,
                                 const float *sw, const int32_t *comp, float *c,
                                 size_t ldc)
{
    const size_t lda = kq * 4;
    for (size_t i = 0; i < mr; i += 2) {
        const int two = i + 1 < mr;
        __m256i c0[4], c1[4];
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++)
            c0[v] = c1[v] = _mm256_setzero_si256();
        const uint8_t *a0 = a + i * lda, *a1 = two ? a0 + lda : a0;
        for (size_t q = 0; q < kq; q++) {
            int32_t w0, w1;
            memcpy(&w0, a0 + q * 4, 4);
            memcpy(&w1, a1 + q * 4, 4);
            const __m256i x0 = _mm256_set1_epi32(w0), x1 = _mm256_set1_epi32(w1);
            const int8_t *bq = b + q * NR * 4;
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++) {
                const __m256i bv = _mm256_load_si256((const void *)(bq + v * 32));
                c0[v] = dpbusd256(c0[v], x0, bv);
                c1[v] = dpbusd256(c1[v], x1, bv);
            }
        }
        store_row256(c0, nr, sa[i], za[i], sw, comp, c + i * ldc);
        if (two)
            store_row256(c1, nr, sa[i + 1], za[i + 1], sw, comp, c + (i + 1) * ldc);
    }
}

/* Plain AVX2: two rows by 16 columns at a time.  The 4 bytes of one k
 * group of a row become 4 words repeated; 16 bytes of B (4 columns x 4 k)
 * become 16 words; VPMADDWD leaves two partial sums per column, which
 * VPHADDD joins at the end. */
TARGET2 static void tile_avx2(size_t mr, size_t nr, size_t kq, const uint8_t *a,
                              const int8_t *b, const float *sa, const float *za,
                              const float *sw, const int32_t *comp, float *c,
                              size_t ldc)
{
    const size_t lda = kq * 4;
    for (size_t i = 0; i < mr; i += 2) {
        const int two = i + 1 < mr;
        const uint8_t *a0 = a + i * lda, *a1 = two ? a0 + lda : a0;
        __m256i r0[4], r1[4];                       /* [32 columns / 8] per row */
        for (size_t h = 0; h < 2; h++) {            /* columns 16 h .. 16 h + 15 */
            __m256i p0[4], p1[4];                   /* 4 columns each, 2 partials */
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++)
                p0[v] = p1[v] = _mm256_setzero_si256();
            for (size_t q = 0; q < kq; q++) {
                int32_t w0, w1;
                memcpy(&w0, a0 + q * 4, 4);
                memcpy(&w1, a1 + q * 4, 4);
                const __m256i x0 = _mm256_cvtepu8_epi16(_mm_set1_epi32(w0));
                const __m256i x1 = _mm256_cvtepu8_epi16(_mm_set1_epi32(w1));
                const int8_t *bq = b + q * NR * 4 + h * 64;
#pragma GCC unroll 4
                for (int v = 0; v < 4; v++) {
                    const __m256i bv = _mm256_cvtepi8_epi16(
                        _mm_load_si128((const void *)(bq + v * 16)));
                    p0[v] = _mm256_add_epi32(p0[v], _mm256_madd_epi16(x0, bv));
                    p1[v] = _mm256_add_epi32(p1[v], _mm256_madd_epi16(x1, bv));
                }
            }
            /* hadd within 128-bit lanes: (p[0], p[1]) -> columns 0,1,4,5 | 2,3,6,7 */
#pragma GCC unroll 2
            for (int u = 0; u < 2; u++) {
                __m256i s0 = _mm256_hadd_epi32(p0[2 * u], p0[2 * u + 1]);
                __m256i s1 = _mm256_hadd_epi32(p1[2 * u], p1[2 * u + 1]);
                r0[2 * h + (size_t)u] = _mm256_permute4x64_epi64(s0, 0xd8);
                r1[2 * h + (size_t)u] = _mm256_permute4x64_epi64(s1, 0xd8);
            }
        }
        store_row256(r0, nr, sa[i], za[i], sw, comp, c + i * ldc);
        if (two)
            store_row256(r1, nr, sa[i + 1], za[i + 1], sw, comp, c + (i + 1) * ldc);
    }
}

/* As quantise_rows_c, 8 values at a time (same rounding: to nearest even,
 * the default mode lrintf uses); the last K % 8 values in C. */
TARGET2 static void quantise_rows_avx2(const float *A, size_t lda, size_t mr,
                                       size_t K, size_t kq, uint8_t *out,
                                       float *sa, float *za)
{
    const size_t K8 = K / 8 * 8;
    for (size_t i = 0; i < mr; i++) {
        const float *a = A + i * lda;
        uint8_t *o = out + i * kq * 4;
        __m256 vmin = _mm256_set1_ps(a[0]), vmax = vmin;
        for (size_t k = 0; k < K8; k += 8) {
            const __m256 v = _mm256_loadu_ps(a + k);
            vmin = _mm256_min_ps(vmin, v);
            vmax = _mm256_max_ps(vmax, v);
        }
        float mn[8], mx[8];
        _mm256_storeu_ps(mn, vmin);
        _mm256_storeu_ps(mx, vmax);
        float lo = mn[0], hi = mx[0];
        for (int t = 1; t < 8; t++) {
            lo = mn[t] < lo ? mn[t] : lo;
            hi = mx[t] > hi ? mx[t] : hi;
        }
        for (size_t k = K8; k < K; k++) {
            lo = a[k] < lo ? a[k] : lo;
            hi = a[k] > hi ? a[k] : hi;
        }
        const float inv = hi > lo ? 255.0f / (hi - lo) : 0.0f;
        sa[i] = (hi - lo) / 255.0f;
        za[i] = lo;
        const __m256 vinv = _mm256_set1_ps(inv), vlo = _mm256_set1_ps(lo);
        const __m256i q0 = _mm256_setzero_si256(), q255 = _mm256_set1_epi32(255);
        for (size_t k = 0; k < K8; k += 8) {
            __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(a + k), vlo), vinv));
            q = _mm256_min_epi32(_mm256_max_epi32(q, q0), q255);
            /* 8 dwords -> bytes: q0..q3 in the low lane, q4..q7 in the high */
            const __m256i w = _mm256_packus_epi16(_mm256_packus_epi32(q, q), q0);
            const int32_t lo4 = _mm_cvtsi128_si32(_mm256_castsi256_si128(w));
            const int32_t hi4 = _mm_cvtsi128_si32(_mm256_extracti128_si256(w, 1));
            memcpy(o + k, &lo4, 4);
            memcpy(o + k + 4, &hi4, 4);
        }
        for (size_t k = K8; k < K; k++) {
            long qv = lrintf((a[k] - lo) * inv);
            o[k] = (uint8_t)(qv > 255 ? 255 : qv < 0 ? 0 : qv);
        }
        for (size_t k = K; k < kq * 4; k++)
            o[k] = 0;
    }
}
#endif

/* ---------------------------------------------------------------- driver */

typedef struct {
    const nlp_packed_b *B;
    size_t M;
    const float *A;
    size_t lda;
    const nlp_gemm_epilogue *ep;
    float *C;
    size_t ldc;
    size_t groups, chunks;      /* tasks: groups of panels x chunks of rows */
    uint8_t *qa;                /* [M][4 kq] all rows quantised once, or NULL */
    float *sa, *za;             /* [M] their steps and offsets */
} int8_job;

static void quantise_rows(const int8_job *j, const float *a, size_t mr,
                          uint8_t *qa, float *sa, float *za)
{
    const nlp_packed_b *B = j->B;
#if defined(__x86_64__)
    if (B->vnni == NLP_INT8_KERNEL_AVX512)
        quantise_rows_avx512(a, j->lda, mr, B->K, B->kq, qa, sa, za);
    else if (B->vnni != NLP_INT8_KERNEL_C)
        quantise_rows_avx2(a, j->lda, mr, B->K, B->kq, qa, sa, za);
    else
#endif
        quantise_rows_c(a, j->lda, mr, B->K, B->kq, qa, sa, za);
}

/* Phase one: quantise the MR-row block t of A into the shared buffer. */
static void int8_quantise_task(void *vp, size_t t)
{
    const int8_job *j = vp;
    const size_t m = t * MR, mr = j->M - m < MR ? j->M - m : MR;
    quantise_rows(j, j->A + m * j->lda, mr, j->qa + m * j->B->kq * 4,
                  j->sa + m, j->za + m);
}

static void int8_task(void *vp, size_t t)
{
    const int8_job *j = vp;
    const nlp_packed_b *B = j->B;
    const size_t g = t % j->groups, mi = t / j->groups;
    size_t m0, m1, p0, p1;
    nlp_gemm_rows(j->M, MR, j->chunks, mi, &m0, &m1);
    nlp_gemm_part(B->panels, j->groups, g, &p0, &p1);
    /* without the shared buffer each task quantises its own rows */
    _Alignas(64) uint8_t own[MR * NLP_INT8_MAX_K];
    float own_sa[MR], own_za[MR];

    for (size_t m = m0; m < m1; m += MR) {
        const size_t mr = m1 - m < MR ? m1 - m : MR;
        const uint8_t *qa = own;
        const float *sa = own_sa, *za = own_za;
        if (j->qa) {
            qa = j->qa + m * B->kq * 4;
            sa = j->sa + m;
            za = j->za + m;
        } else {
            quantise_rows(j, j->A + m * j->lda, mr, own, own_sa, own_za);
        }
        for (size_t p = p0; p < p1; p++) {
            const size_t n0 = p * NR;
            const size_t nr = B->N - n0 < NR ? B->N - n0 : NR;
            const int8_t *b = B->q8 + p * B->kq * NR * 4;
            float *c = j->C + m * j->ldc + n0;
#if defined(__x86_64__)
            if (B->vnni == NLP_INT8_KERNEL_AVX512)
                tile_vnni(mr, nr, B->kq, qa, b, sa, za, B->scale + n0, B->comp + n0, c, j->ldc);
            else if (B->vnni == NLP_INT8_KERNEL_AVXVNNI)
                tile_avxvnni(mr, nr, B->kq, qa, b, sa, za, B->scale + n0, B->comp + n0, c, j->ldc);
            else if (B->vnni == NLP_INT8_KERNEL_AVX2)
                tile_avx2(mr, nr, B->kq, qa, b, sa, za, B->scale + n0, B->comp + n0, c, j->ldc);
            else
#endif
                tile_c(mr, nr, B->kq, qa, b, sa, za, B->scale + n0, B->comp + n0, c, j->ldc);
            if (j->ep)
                nlp_gemm_tile_epilogue(B->kern, j->ep, c, j->ldc, m, mr, n0, nr);
        }
    }
}

/* Rows of A are quantised once per call into the pool's scratch buffer
 * (every group of panels then reads them), in a first parallel pass;
 * without a pool, or when the buffer cannot be had, each task quantises
 * the rows it needs itself. */
void nlp_sgemm_packed_int8(nlp_pool *pool, size_t M, const float *A,
                           size_t lda, const nlp_packed_b *B,
                           const nlp_gemm_epilogue *ep, float *C, size_t ldc)
{
    int8_job j = { B, M, A, lda, ep, C, ldc, 0, 0, NULL, NULL, NULL };
    nlp_gemm_split(B->panels, M, MR, nlp_pool_threads(pool), 8, &j.groups, &j.chunks);
    if (M <= (SIZE_MAX / 2 - 64) / (B->kq * 4 + 2 * sizeof(float))) {
        /* [M][4 kq] bytes, padded to 64, then sa[M] and za[M] */
        uint8_t *buf = nlp_pool_scratch(pool, nlp_int8_scratch_bytes(M, B->K));
        if (buf) {
            j.qa = buf;
            j.sa = (float *)(void *)(buf + (M * B->kq * 4 + 63) / 64 * 64);
            j.za = j.sa + M;
            nlp_pool_run(pool, int8_quantise_task, &j, (M + MR - 1) / MR);
        }
    }
    nlp_pool_run(pool, int8_task, &j, j.groups * j.chunks);
}

size_t nlp_int8_scratch_bytes(size_t M, size_t K)
{
    return (M * ((K + 3) / 4 * 4) + 63) / 64 * 64 + 2 * M * sizeof(float);
}
