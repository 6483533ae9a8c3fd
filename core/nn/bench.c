/*
 * bench.c - the measuring half of `nlp bench` (nlp/bench.h): multiply-add
 * peaks from register-only loops on every thread, and the timing of one
 * packed-weight GEMM.
 *
 * Each loop keeps enough independent accumulators in registers to hide
 * the instruction's latency, so its rate is the instruction's throughput;
 * an empty asm statement per iteration keeps the compiler from folding
 * the loop.  The returned count is 2 operations per multiply-add.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "nlp/bench.h"
#include "cpu.h"
#include "gemm.h"
#include "threadpool.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

double nlp_clock_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

float nlp_rand_uniform(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (float)((double)(*s >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

const char *nlp_kernel_name(void)
{
    return nlp_cpu_path_name(nlp_cpu_path());
}

/* ---------------------------------------------------------------- loops */

/* One loop: runs n iterations, returns the operations done. */
typedef double (*peak_loop)(long n);

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static double fma_loop512(long n)
{
    __m512 a[24];
    const __m512 m = _mm512_set1_ps(0.999f), d = _mm512_set1_ps(1e-3f);
#pragma GCC unroll 24
    for (int i = 0; i < 24; i++)
        a[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < n; k++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++)
            a[i] = _mm512_fmadd_ps(a[i], m, d);
        __asm__ volatile("" : "+v"(a[0]), "+v"(a[12]));
    }
    __m512 s = a[0];
#pragma GCC unroll 24
    for (int i = 1; i < 24; i++)
        s = _mm512_add_ps(s, a[i]);
    return (double)_mm512_reduce_add_ps(s) * 1e-30 + (double)n * 24 * 32;
}

__attribute__((target("avx2,fma"))) static double fma_loop256(long n)
{
    __m256 a[12];
    const __m256 m = _mm256_set1_ps(0.999f), d = _mm256_set1_ps(1e-3f);
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++)
        a[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < n; k++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++)
            a[i] = _mm256_fmadd_ps(a[i], m, d);
        __asm__ volatile("" : "+x"(a[0]), "+x"(a[6]));
    }
    float out[8];
    __m256 s = a[0];
#pragma GCC unroll 12
    for (int i = 1; i < 12; i++)
        s = _mm256_add_ps(s, a[i]);
    _mm256_storeu_ps(out, s);
    return (double)out[0] * 1e-30 + (double)n * 12 * 16;
}

/* VPDPBUSD zmm: 16 lanes x 4 byte products = 64 multiply-adds. */
__attribute__((target("avx512f,avx512vnni"))) static double vnni_loop512(long n)
{
    __m512i a[24];
    const __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-2);
#pragma GCC unroll 24
    for (int i = 0; i < 24; i++)
        a[i] = _mm512_set1_epi32(i);
    for (long k = 0; k < n; k++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++)
            __asm__("vpdpbusd %2, %1, %0" : "+v"(a[i]) : "v"(u), "v"(s));
    }
    __m512i t = a[0];
#pragma GCC unroll 24
    for (int i = 1; i < 24; i++)
        t = _mm512_add_epi32(t, a[i]);
    /* lane 0 only: _mm512_reduce_add_epi32 adds as signed int, which may overflow */
    return (double)(_mm_cvtsi128_si32(_mm512_castsi512_si128(t)) & 1) * 1e-30 + (double)n * 24 * 128;
}

/* VPDPBUSD ymm (VEX form): 32 multiply-adds. */
__attribute__((target("avx2,avxvnni"))) static double vnni_loop256(long n)
{
    __m256i a[12];
    const __m256i u = _mm256_set1_epi8(3), s = _mm256_set1_epi8(-2);
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++)
        a[i] = _mm256_set1_epi32(i);
    for (long k = 0; k < n; k++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++)
            __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(a[i]) : "x"(u), "x"(s));
    }
    __m256i t = a[0];
#pragma GCC unroll 12
    for (int i = 1; i < 12; i++)
        t = _mm256_add_epi32(t, a[i]);
    return (double)(_mm256_extract_epi32(t, 0) & 1) * 1e-30 + (double)n * 12 * 64;
}

/* VPMADDWD + VPADDD ymm, as the AVX2 int8 kernel: 16 multiply-adds. */
__attribute__((target("avx2"))) static double madd_loop256(long n)
{
    __m256i a[12];
    const __m256i u = _mm256_set1_epi16(3), s = _mm256_set1_epi16(-2);
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++)
        a[i] = _mm256_set1_epi32(i);
    for (long k = 0; k < n; k++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++)
            a[i] = _mm256_add_epi32(a[i], _mm256_madd_epi16(u, s));
        __asm__ volatile("" : "+x"(a[0]), "+x"(a[6]));
    }
    __m256i t = a[0];
#pragma GCC unroll 12
    for (int i = 1; i < 12; i++)
        t = _mm256_add_epi32(t, a[i]);
    return (double)(_mm256_extract_epi32(t, 0) & 1) * 1e-30 + (double)n * 12 * 32;
}

/* VDPBF16PS zmm: 16 lanes x 2 bf16 products = 32 multiply-adds. */
__attribute__((target("avx512f,avx512bf16"))) static double bf16_loop512(long n)
{
    __m512 a[24];
    const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3c00);
#pragma GCC unroll 24
    for (int i = 0; i < 24; i++)
        a[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < n; k++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++)
            a[i] = _mm512_dpbf16_ps(a[i], x, y);
        __asm__ volatile("" : "+v"(a[0]), "+v"(a[12]));
    }
    __m512 s = a[0];
#pragma GCC unroll 24
    for (int i = 1; i < 24; i++)
        s = _mm512_add_ps(s, a[i]);
    return (double)_mm512_reduce_add_ps(s) * 1e-30 + (double)n * 24 * 64;
}
#endif

static double fma_loop_scalar(long n)
{
    float a[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (long k = 0; k < n; k++) {
        for (int i = 0; i < 8; i++)
            a[i] = fmaf(a[i], 0.999f, 1e-3f);
        __asm__ volatile("" ::: "memory");
    }
    return (double)a[0] * 1e-30 + (double)n * 8 * 2;
}

static double int_loop_scalar(long n)
{
    uint32_t a[8] = {0, 1, 2, 3, 4, 5, 6, 7}, m = 3, d = 1;
    __asm__("" : "+r"(m), "+r"(d));   /* unknown to the compiler */
    for (long k = 0; k < n; k++) {
        for (int i = 0; i < 8; i++)
            a[i] = a[i] * m + d;
        __asm__ volatile("" ::: "memory");
    }
    return (double)(a[0] & 1) * 1e-30 + (double)n * 8 * 2;
}

/* ---------------------------------------------------------------- choice */

typedef struct peak_choice {
    peak_loop loop;
    long iters;
    const char *instruction, *isa;
} peak_choice;

/* The loop of the instruction wt's kernels use, as the kernels choose it
 * (gemm*.c): by kernel path first, then by CPU feature. */
static int choose(nlp_weight_type wt, peak_choice *c)
{
    nlp_kernel_path path = nlp_cpu_path();
    unsigned f = nlp_cpu_features();
    (void)path;
    (void)f;
    *c = (peak_choice){ fma_loop_scalar, 20000000, "scalar FMA", "portable C" };
    switch (wt) {
    case NLP_WEIGHTS_FP32:
#if defined(__x86_64__)
        if (path == NLP_PATH_AVX512)
            *c = (peak_choice){ fma_loop512, 10000000, "FMA", "AVX-512" };
        else if (path == NLP_PATH_AVX2)
            *c = (peak_choice){ fma_loop256, 10000000, "FMA", "AVX2" };
#endif
        return 1;
    case NLP_WEIGHTS_INT8:
        *c = (peak_choice){ int_loop_scalar, 20000000, "scalar int", "portable C" };
#if defined(__x86_64__)
        if (path == NLP_PATH_AVX512 && (f & NLP_CPU_AVX512VNNI))
            *c = (peak_choice){ vnni_loop512, 10000000, "VPDPBUSD", "AVX-512 VNNI" };
        else if (path >= NLP_PATH_AVX2 && (f & NLP_CPU_AVXVNNI))
            *c = (peak_choice){ vnni_loop256, 10000000, "VPDPBUSD", "AVX-VNNI" };
        else if (path >= NLP_PATH_AVX2)
            *c = (peak_choice){ madd_loop256, 10000000, "VPMADDWD", "AVX2" };
#endif
        return 1;
    case NLP_WEIGHTS_BF16:
#if defined(__x86_64__)
        if (path == NLP_PATH_AVX512 && (f & NLP_CPU_AVX512BF16))
            *c = (peak_choice){ bf16_loop512, 10000000, "VDPBF16PS", "AVX-512 BF16" };
#endif
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- peak */

typedef struct peak_arg {
    peak_loop loop;
    long iters;
    double ops;
} peak_arg;

static void *peak_thread(void *vp)
{
    peak_arg *p = vp;
    p->ops = p->loop(p->iters);
    return NULL;
}

/* Operations per second of c's loop on n threads at once (one run). */
static double peak_once(const peak_choice *c, int n, peak_arg *args, pthread_t *th)
{
    double t0 = nlp_clock_now();
    int started = 0;
    for (int i = 1; i < n; i++) {
        args[i] = (peak_arg){ c->loop, c->iters, 0 };
        if (pthread_create(&th[i], NULL, peak_thread, &args[i]) != 0)
            break;
        started = i;
    }
    args[0] = (peak_arg){ c->loop, c->iters, 0 };
    peak_thread(&args[0]);
    double ops = args[0].ops;
    for (int i = 1; i <= started; i++) {
        pthread_join(th[i], NULL);
        ops += args[i].ops;
    }
    return ops / (nlp_clock_now() - t0);
}

nlp_status nlp_peak_measure(nlp_weight_type wt, int threads, nlp_peak *out, nlp_error *err)
{
    enum { MAX_THREADS = 256 };
    peak_choice c;
    if (!choose(wt, &c))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "unknown weight type %d", (int)wt);
    int n = threads > 0 ? threads : nlp_pool_default_threads();
    n = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
    peak_arg args[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double r = peak_once(&c, n, args, th);
        best = r > best ? r : best;
    }
    *out = (nlp_peak){ best, n, c.instruction, c.isa };
    return NLP_OK;
}

/* ---------------------------------------------------------------- GEMM */

nlp_status nlp_gemm_time(size_t M, size_t N, size_t K, int threads, size_t iters,
                         double *seconds, int *threads_used, nlp_error *err)
{
    if (!M || !N || !K || !iters || M > SIZE_MAX / 4 / K || N > SIZE_MAX / 4 / K
        || M > SIZE_MAX / 4 / N)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "GEMM %zux%zux%zu over %zu runs: "
                             "sizes must be at least 1 (and fit in memory)", M, N, K, iters);
    float *A = malloc(M * K * sizeof *A), *W = malloc(N * K * sizeof *W),
          *C = malloc(M * N * sizeof *C);
    nlp_pool *pool = A && W && C ? nlp_pool_create(threads) : NULL;
    nlp_packed_b *pw = NULL;
    nlp_status st = NLP_ERR_NOMEM;
    if (pool) {
        uint64_t s = 1;
        for (size_t i = 0; i < M * K; i++)
            A[i] = nlp_rand_uniform(&s);
        for (size_t i = 0; i < N * K; i++)
            W[i] = nlp_rand_uniform(&s);
        pw = nlp_pack_b(W, N, K);
    }
    if (pw) {
        nlp_sgemm_packed(pool, M, A, K, pw, NULL, C, N);
        for (size_t i = 0; i < iters; i++) {
            double t0 = nlp_clock_now();
            nlp_sgemm_packed(pool, M, A, K, pw, NULL, C, N);
            seconds[i] = nlp_clock_now() - t0;
        }
        if (threads_used)
            *threads_used = nlp_pool_threads(pool);
        st = NLP_OK;
    } else {
        nlp_error_set(err, st, "out of memory for a %zux%zux%zu GEMM", M, N, K);
    }
    nlp_packed_b_free(pw);
    nlp_pool_free(pool);
    free(A);
    free(W);
    free(C);
    return st;
}
