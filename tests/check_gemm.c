/*
 * check_gemm.c - every GEMM kernel path this CPU runs (portable C, AVX2,
 * AVX-512) against a double-precision reference loop: odd shapes, row
 * strides wider than the rows, both B layouts, packed weights with each
 * epilogue (bias, GELU exact and tanh, ReLU, residual), 1 and 3 threads.
 * Padding around C must never be written.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cpu.h"
#include "nn/gemm.h"
#include "nn/gemm_kernels.h"
#include "nn/threadpool.h"

static const float SENTINEL = -12345.0f;
static const float SENTINEL_ROW[1] = { -12345.0f };

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static float frand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}
static size_t irand(size_t lo, size_t hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (size_t)(rng_state % (hi - lo + 1));
}

static float *fill(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

static double act_ref(double v, nlp_gemm_act act)
{
    switch (act) {
    case NLP_GEMM_ACT_GELU: return 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
    case NLP_GEMM_ACT_GELU_TANH:
        return 0.5 * v * (1.0 + tanh(sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
    case NLP_GEMM_ACT_RELU: return v > 0 ? v : 0;
    case NLP_GEMM_ACT_NONE: break;
    }
    return v;
}

/* One multiplication checked against the double reference; the C buffer
 * has M + 1 rows of ldc (ldc > N where asked) filled with SENTINEL. */
static void check_case(nlp_pool *pool, int packed, int trans_b, size_t M,
                       size_t N, size_t K, size_t pad, int with_bias,
                       nlp_gemm_act act, int with_res, int res_in_c)
{
    size_t lda = K + pad, ldc = N + pad;
    size_t ldb = packed ? K : (trans_b ? K + pad : N + pad);
    float *A = fill(M * lda);
    float *B = fill((trans_b || packed ? N : K) * ldb);
    float *bias = with_bias ? fill(N) : NULL;
    float *C = malloc((M + 1) * ldc * sizeof *C);
    float *R = with_res && !res_in_c ? fill(M * ldc) : NULL;
    ck_assert_ptr_nonnull(C);
    for (size_t i = 0; i < (M + 1) * ldc; i++)
        C[i] = SENTINEL;
    if (res_in_c)
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++)
                C[i * ldc + j] = frand();
    float *Rref = malloc((M * ldc + 1) * sizeof *Rref);
    memcpy(Rref, res_in_c ? C : (R ? R : C), M * ldc * sizeof *Rref);

    if (packed) {
        nlp_packed_b *pb = nlp_pack_b(B, N, K);
        ck_assert_ptr_nonnull(pb);
        ck_assert_uint_eq(nlp_packed_b_rows(pb), N);
        ck_assert_uint_eq(nlp_packed_b_cols(pb), K);
        nlp_gemm_epilogue ep = { bias, act, res_in_c ? C : R, ldc };
        nlp_sgemm_packed(pool, M, A, lda, pb, &ep, C, ldc);
        nlp_packed_b_free(pb);
    } else {
        nlp_sgemm(pool, trans_b, M, N, K, A, lda, B, ldb, bias, C, ldc);
    }

    for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < N; j++) {
            double s = 0, sabs = 0;
            for (size_t k = 0; k < K; k++) {
                double b = trans_b || packed ? B[j * ldb + k] : B[k * ldb + j];
                s += (double)A[i * lda + k] * b;
                sabs += fabs((double)A[i * lda + k] * b);
            }
            if (bias) {
                s += bias[j];
                sabs += fabs(bias[j]);
            }
            s = act_ref(s, packed ? act : NLP_GEMM_ACT_NONE);
            if (packed && with_res)
                s += Rref[i * ldc + j];
            double tol = 1e-5 * sabs + 2e-6 * (1 + fabs(s));
            double got = C[i * ldc + j];
            ck_assert_msg(fabs(got - s) <= tol,
                          "%s packed=%d trans_b=%d M=%zu N=%zu K=%zu pad=%zu act=%d: "
                          "C[%zu][%zu] = %.7g, expected %.7g",
                          nlp_cpu_path_name(nlp_cpu_path()), packed, trans_b,
                          M, N, K, pad, (int)act, i, j, got, s);
        }
        for (size_t j = N; j < ldc; j++)
            ck_assert_msg(C[i * ldc + j] == SENTINEL, "padding of row %zu written", i);
    }
    for (size_t j = 0; j < ldc; j++)
        ck_assert_msg(C[M * ldc + j] == SENTINEL, "row past M written");
    free(A); free(B); free(bias); free(C); free(R); free(Rref);
}

static const size_t edge[] = { 1, 2, 3, 5, 11, 12, 13, 15, 16, 17, 31, 32, 33, 47, 96, 129, 257, 300 };
#define NEDGE (sizeof edge / sizeof edge[0])

static void run_path(nlp_kernel_path path)
{
    if (!nlp_cpu_path_supported(path))
        return;
    ck_assert_int_eq(nlp_cpu_force_path(path), 0);
    ck_assert_int_eq(nlp_cpu_path(), path);
    nlp_pool *pool3 = nlp_pool_create(3);
    ck_assert_ptr_nonnull(pool3);
    rng_state = 0x9e3779b97f4a7c15ull + (uint64_t)path;
    /* every edge size on each axis, the others random */
    for (size_t e = 0; e < NEDGE; e++) {
        for (int axis = 0; axis < 3; axis++) {
            size_t M = axis == 0 ? edge[e] : irand(1, 40);
            size_t N = axis == 1 ? edge[e] : irand(1, 70);
            size_t K = axis == 2 ? edge[e] : irand(1, 300);
            nlp_pool *pool = (e + (size_t)axis) % 2 ? pool3 : NULL;
            size_t pad = irand(0, 1) ? irand(1, 9) : 0;
            check_case(pool, 0, 1, M, N, K, pad, (int)irand(0, 1), 0, 0, 0);
            check_case(pool, 0, 0, M, N, K, pad, (int)irand(0, 1), 0, 0, 0);
            check_case(pool, 1, 1, M, N, K, pad, (int)irand(0, 1),
                       (nlp_gemm_act)irand(0, 3), (int)irand(0, 1), 0);
        }
    }
    /* large K crosses several K blocks; large M several row chunks */
    check_case(pool3, 1, 1, 300, 77, 700, 3, 1, NLP_GEMM_ACT_GELU, 1, 0);
    check_case(pool3, 0, 1, 500, 40, 520, 0, 1, 0, 0, 0);
    check_case(pool3, 0, 0, 13, 300, 513, 5, 0, 0, 0, 0);
    check_case(NULL, 1, 1, 1, 300, 300, 0, 1, NLP_GEMM_ACT_GELU_TANH, 1, 0);
    /* a row stride of 4 KiB: A blocks go through the copy buffer */
    check_case(pool3, 1, 1, 30, 40, 1024, 0, 1, NLP_GEMM_ACT_GELU, 1, 0);
    check_case(pool3, 1, 1, 13, 70, 1000, 24, 1, NLP_GEMM_ACT_NONE, 0, 0);
    nlp_pool_free(pool3);
}

START_TEST(test_generic) { run_path(NLP_PATH_GENERIC); }
END_TEST
START_TEST(test_avx2) { run_path(NLP_PATH_AVX2); }
END_TEST
START_TEST(test_avx512) { run_path(NLP_PATH_AVX512); }
END_TEST

/* The documented int8 scheme, computed independently: weights symmetric
 * per row (round to nearest even, clamp to [-127, 127]), activations
 * asymmetric per row over [min, max] to [0, 255], exact integer sums. */
static void quantise_asym_ref(const float *x, size_t K, int *q, double *step, double *lo_out)
{
    float lo = x[0], hi = x[0];
    for (size_t k = 1; k < K; k++) {
        lo = fminf(lo, x[k]);
        hi = fmaxf(hi, x[k]);
    }
    float inv = hi > lo ? 255.0f / (hi - lo) : 0.0f;
    *step = (hi - lo) / 255.0f;
    *lo_out = lo;
    for (size_t k = 0; k < K; k++) {
        float v = nearbyintf((x[k] - lo) * inv);
        q[k] = v > 255 ? 255 : v < 0 ? 0 : (int)v;
    }
}

static void quantise_ref(const float *x, size_t K, int *q, double *scale)
{
    float amax = 0.0f;
    for (size_t k = 0; k < K; k++)
        amax = fmaxf(amax, fabsf(x[k]));
    float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    *scale = amax / 127.0f;
    for (size_t k = 0; k < K; k++) {
        float v = nearbyintf(x[k] * inv);
        q[k] = v > 127 ? 127 : v < -127 ? -127 : (int)v;
    }
}

static void check_int8_case(nlp_pool *pool, size_t M, size_t N, size_t K,
                            size_t pad, int with_bias, nlp_gemm_act act,
                            int with_res)
{
    size_t lda = K + pad, ldc = N + pad;
    float *A = fill(M * lda), *B = fill(N * K);
    float *bias = with_bias ? fill(N) : NULL;
    float *R = with_res ? fill(M * ldc) : NULL;
    float *C = malloc((M + 1) * ldc * sizeof *C);
    int *qa = malloc(M * K * sizeof *qa), *qb = malloc(N * K * sizeof *qb);
    double *sa = malloc(M * sizeof *sa), *sb = malloc(N * sizeof *sb);
    double *za = malloc(M * sizeof *za);
    ck_assert(C && qa && qb && sa && sb && za);
    for (size_t i = 0; i < (M + 1) * ldc; i++)
        C[i] = SENTINEL;
    for (size_t m = 0; m < M; m++)
        quantise_asym_ref(A + m * lda, K, qa + m * K, sa + m, za + m);
    for (size_t n = 0; n < N; n++)
        quantise_ref(B + n * K, K, qb + n * K, sb + n);
    nlp_packed_b *pb = nlp_pack_b_int8(B, N, K);
    ck_assert_ptr_nonnull(pb);
    ck_assert(nlp_packed_b_is_int8(pb));
    nlp_gemm_epilogue ep = { bias, act, R, ldc };
    nlp_sgemm_packed(pool, M, A, lda, pb, &ep, C, ldc);
    nlp_packed_b_free(pb);
    for (size_t m = 0; m < M; m++) {
        for (size_t n = 0; n < N; n++) {
            long long isum = 0, qsum = 0;
            double exact = 0, sabs = 0, suma = 0, sumb = 0;
            for (size_t k = 0; k < K; k++) {
                isum += (long long)qa[m * K + k] * qb[n * K + k];
                qsum += qb[n * K + k];
                exact += (double)A[m * lda + k] * B[n * K + k];
                sabs += fabs((double)A[m * lda + k] * B[n * K + k]);
                suma += fabs(A[m * lda + k]);
                sumb += fabs(B[n * K + k]);
            }
            /* rounding moves each value by at most half a step */
            double ha = sa[m] / 2, hb = sb[n] / 2;
            double qtol = 1.2 * (suma * hb + sumb * ha + (double)K * ha * hb) + 1e-6;
            double v = sb[n] * ((double)isum * sa[m] + za[m] * (double)qsum) + (bias ? bias[n] : 0);
            double e = exact + (bias ? bias[n] : 0);
            v = act_ref(v, act) + (R ? R[m * ldc + n] : 0);
            e = act_ref(e, act) + (R ? R[m * ldc + n] : 0);
            double got = C[m * ldc + n];
            ck_assert_msg(fabs(got - v) <= 2e-6 * (1 + fabs(v)) + 2e-6 * (sabs + fabs(za[m]) * sumb),
                          "int8 %s M=%zu N=%zu K=%zu: C[%zu][%zu] = %.7g, scheme gives %.7g",
                          nlp_cpu_path_name(nlp_cpu_path()), M, N, K, m, n, got, v);
            /* and the scheme itself stays close to the fp32 product */
            ck_assert_msg(fabs(got - e) <= qtol,
                          "int8 M=%zu N=%zu K=%zu: C[%zu][%zu] = %.7g, fp32 gives %.7g",
                          M, N, K, m, n, got, e);
        }
        for (size_t j = N; j < ldc; j++)
            ck_assert(C[m * ldc + j] == SENTINEL);
    }
    for (size_t j = 0; j < ldc; j++)
        ck_assert(C[M * ldc + j] == SENTINEL);
    free(A); free(B); free(bias); free(R); free(C); free(qa); free(qb); free(sa); free(sb); free(za);
}

static void run_int8(nlp_kernel_path path)
{
    if (nlp_cpu_force_path(path) != 0)
        return;
    nlp_pool *pool3 = nlp_pool_create(3);
    ck_assert_ptr_nonnull(pool3);
    rng_state = 0x1234567ull + (uint64_t)path;
    for (size_t e = 0; e < NEDGE; e++) {
        for (int axis = 0; axis < 3; axis++) {
            size_t M = axis == 0 ? edge[e] : irand(1, 30);
            size_t N = axis == 1 ? edge[e] : irand(1, 70);
            size_t K = axis == 2 ? edge[e] : irand(1, 300);
            check_int8_case(e % 2 ? pool3 : NULL, M, N, K, irand(0, 5),
                            (int)irand(0, 1), (nlp_gemm_act)irand(0, 3), (int)irand(0, 1));
        }
    }
    check_int8_case(pool3, 260, 100, 3072, 0, 1, NLP_GEMM_ACT_GELU, 1);
    /* an all-zero row of A and of B: scale 0, output the epilogue of 0 */
    float z[2 * 8] = {0}, one[8] = {1, 1, 1, 1, 1, 1, 1, 1}, out[2 * 2];
    nlp_packed_b *pb = nlp_pack_b_int8(z, 2, 8);
    ck_assert_ptr_nonnull(pb);
    float A2[2 * 8];
    memcpy(A2, one, sizeof one);
    memset(A2 + 8, 0, sizeof one);
    nlp_sgemm_packed(pool3, 2, A2, 8, pb, NULL, out, 2);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(out[i], 0.0f);
    nlp_packed_b_free(pb);
    ck_assert_ptr_null(nlp_pack_b_int8(z, 2, 0));
    nlp_pool_free(pool3);
}

START_TEST(test_int8_generic) { run_int8(NLP_PATH_GENERIC); }
END_TEST
/* The AVX2 path: AVX-VNNI when the CPU has it, then the plain AVX2 tile. */
START_TEST(test_int8_avx2)
{
    run_int8(NLP_PATH_AVX2);
    nlp_int8_allow_avxvnni(0);
    run_int8(NLP_PATH_AVX2);
    nlp_int8_allow_avxvnni(1);
}
END_TEST
START_TEST(test_int8_avx512) { run_int8(NLP_PATH_AVX512); }
END_TEST

/* bf16: both operands rounded to bfloat16 (nearest even), then a
 * double-precision product of the rounded values. */
static float bf16_round(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    memcpy(&f, &u, 4);
    return f;
}

static void check_bf16_case(nlp_pool *pool, size_t M, size_t N, size_t K, size_t pad,
                            int with_bias, nlp_gemm_act act, int with_res)
{
    size_t lda = K + pad, ldc = N + pad;
    float *A = fill(M * lda), *B = fill(N * K);
    float *bias = with_bias ? fill(N) : NULL;
    float *R = with_res ? fill(M * ldc) : NULL;
    float *C = malloc((M + 1) * ldc * sizeof *C);
    ck_assert_ptr_nonnull(C);
    for (size_t i = 0; i < (M + 1) * ldc; i++)
        C[i] = SENTINEL;
    nlp_packed_b *pb = nlp_pack_b_bf16(B, N, K);
    ck_assert_ptr_nonnull(pb);
    ck_assert(nlp_packed_b_is_bf16(pb) && !nlp_packed_b_is_int8(pb));
    nlp_gemm_epilogue ep = { bias, act, R, ldc };
    nlp_sgemm_packed(pool, M, A, lda, pb, &ep, C, ldc);
    nlp_packed_b_free(pb);
    for (size_t m = 0; m < M; m++) {
        for (size_t n = 0; n < N; n++) {
            double s = 0, sabs = 0;
            for (size_t k = 0; k < K; k++) {
                double p = (double)bf16_round(A[m * lda + k]) * bf16_round(B[n * K + k]);
                s += p;
                sabs += fabs(p);
            }
            if (bias) {
                s += bias[n];
                sabs += fabs(bias[n]);
            }
            s = act_ref(s, act) + (R ? R[m * ldc + n] : 0);
            double got = C[m * ldc + n];
            ck_assert_msg(fabs(got - s) <= 1e-5 * sabs + 2e-6 * (1 + fabs(s)),
                          "bf16 %s M=%zu N=%zu K=%zu: C[%zu][%zu] = %.7g, expected %.7g",
                          nlp_cpu_path_name(nlp_cpu_path()), M, N, K, m, n, got, s);
        }
        for (size_t j = N; j < ldc; j++)
            ck_assert(C[m * ldc + j] == SENTINEL);
    }
    for (size_t j = 0; j < ldc; j++)
        ck_assert(C[M * ldc + j] == SENTINEL);
    free(A); free(B); free(bias); free(R); free(C);
}

static void run_bf16(nlp_kernel_path path)
{
    if (nlp_cpu_force_path(path) != 0)
        return;
    nlp_pool *pool3 = nlp_pool_create(3);
    ck_assert_ptr_nonnull(pool3);
    rng_state = 0xabcdefull + (uint64_t)path;
    for (size_t e = 0; e < NEDGE; e++)
        for (int axis = 0; axis < 3; axis++)
            check_bf16_case(e % 2 ? pool3 : NULL, axis == 0 ? edge[e] : irand(1, 30),
                            axis == 1 ? edge[e] : irand(1, 70), axis == 2 ? edge[e] : irand(1, 300),
                            irand(0, 5), (int)irand(0, 1), (nlp_gemm_act)irand(0, 3), (int)irand(0, 1));
    check_bf16_case(pool3, 260, 100, 3071, 1, 1, NLP_GEMM_ACT_GELU, 1);
    ck_assert_ptr_null(nlp_pack_b_bf16(SENTINEL_ROW, 1, 0));
    nlp_pool_free(pool3);
}

START_TEST(test_bf16_generic) { run_bf16(NLP_PATH_GENERIC); }
END_TEST
START_TEST(test_bf16_avx512) { run_bf16(NLP_PATH_AVX512); }
END_TEST

/* K = 0: the product is empty, C is the epilogue of zero. */
START_TEST(test_k_zero)
{
    float bias[5] = { 1, -2, 3, -4, 5 }, C[2 * 5];
    for (int i = 0; i < 10; i++)
        C[i] = SENTINEL;
    nlp_sgemm(NULL, 1, 2, 5, 0, bias, 0, bias, 0, bias, C, 5);
    for (int i = 0; i < 10; i++)
        ck_assert_float_eq(C[i], bias[i % 5]);
    ck_assert_ptr_null(nlp_pack_b(bias, 5, 0));
}
END_TEST

/* The vectorised activations of every path against libm in double, over
 * a range that covers saturation on both sides. */
START_TEST(test_activations)
{
    enum { NV = 4001 };
    static float x[NV];
    for (int p = NLP_PATH_GENERIC; p <= NLP_PATH_AVX512; p++) {
        if (nlp_cpu_force_path((nlp_kernel_path)p) != 0)
            continue;
        for (int a = NLP_GEMM_ACT_NONE; a <= NLP_GEMM_ACT_RELU; a++) {
            for (int i = 0; i < NV; i++)
                x[i] = -20.0f + 40.0f * (float)i / (NV - 1);
            nlp_gemm_epilogue_row(x, NV, (nlp_gemm_act)a, NULL, NULL);
            for (int i = 0; i < NV; i++) {
                double v = -20.0 + 40.0 * (float)i / (NV - 1);
                double want = act_ref((float)v, (nlp_gemm_act)a);
                ck_assert_msg(fabs(x[i] - want) <= 1e-6 + 2e-6 * fabs(want),
                              "%s act %d at %g: %.9g vs %.9g",
                              nlp_cpu_path_name((nlp_kernel_path)p), a, v, x[i], want);
            }
        }
    }
}
END_TEST

/* The AVX-512 and AVX2 softmax and LayerNorm rows against
 * double-precision formulas, at lengths with and without a partial
 * vector. */
#if defined(__x86_64__)
typedef void (*softmax_fn)(float *, size_t, float);
typedef void (*layernorm_fn)(float *, const float *, const float *,
                             const float *, size_t, float, float *, float *);

static void check_rows(const char *name, softmax_fn softmax, layernorm_fn layernorm)
{
    static const size_t len[] = { 1, 3, 7, 8, 9, 16, 17, 31, 32, 33, 100, 128, 768, 775 };
    rng_state = 12345;
    for (size_t c = 0; c < sizeof len / sizeof len[0]; c++) {
        const size_t n = len[c];
        float *x = fill(n), *o = malloc(n * sizeof *o), *g = fill(n), *b = fill(n);
        for (size_t i = 0; i < n; i++)
            x[i] = 8.0f * x[i] + 3.0f;                 /* offset and spread */
        /* softmax(0.3 x) */
        memcpy(o, x, n * sizeof *o);
        softmax(o, n, 0.3f);
        double mx = -INFINITY, sum = 0.0;
        for (size_t i = 0; i < n; i++)
            mx = fmax(mx, 0.3 * x[i]);
        for (size_t i = 0; i < n; i++)
            sum += exp(0.3 * x[i] - mx);
        for (size_t i = 0; i < n; i++) {
            double want = exp(0.3 * x[i] - mx) / sum;
            ck_assert_msg(fabs(o[i] - want) <= 1e-6 * want + 1e-9,
                          "%s softmax n=%zu [%zu]: %.9g vs %.9g", name, n, i, o[i], want);
        }
        /* LayerNorm */
        double m = 0.0, v = 0.0;
        for (size_t i = 0; i < n; i++)
            m += x[i];
        m /= (double)n;
        for (size_t i = 0; i < n; i++)
            v += (x[i] - m) * (x[i] - m);
        v /= (double)n;
        const double rs = 1.0 / sqrt(v + 1e-5);
        float fm = 0, fr = 0;
        layernorm(o, x, g, b, n, 1e-5f, &fm, &fr);
        ck_assert_msg(fabs(fm - m) <= 1e-5 * (1 + fabs(m)), "%s mean n=%zu", name, n);
        ck_assert_msg(fabs(fr - rs) <= 1e-5 * rs, "%s rstd n=%zu", name, n);
        for (size_t i = 0; i < n; i++) {
            double want = (x[i] - m) * rs * g[i] + b[i];
            ck_assert_msg(fabs(o[i] - want) <= 1e-5 * (1 + fabs(want)),
                          "%s layernorm n=%zu [%zu]: %.9g vs %.9g", name, n, i, o[i], want);
        }
        /* in place gives the same bits */
        layernorm(x, x, g, b, n, 1e-5f, NULL, NULL);
        ck_assert_mem_eq(x, o, n * sizeof *x);
        free(x); free(o); free(g); free(b);
    }
}
#endif

START_TEST(test_rows_vector)
{
#if defined(__x86_64__)
    if (nlp_cpu_path_supported(NLP_PATH_AVX2))
        check_rows("avx2", nlp_softmax_row_avx2, nlp_layernorm_row_avx2);
    if (nlp_cpu_path_supported(NLP_PATH_AVX512))
        check_rows("avx512", nlp_softmax_row_avx512, nlp_layernorm_row_avx512);
#endif
}
END_TEST

/* A forced path the CPU lacks is refused. */
START_TEST(test_force_unsupported)
{
    for (int p = NLP_PATH_GENERIC; p <= NLP_PATH_AVX512; p++)
        ck_assert_int_eq(nlp_cpu_force_path((nlp_kernel_path)p) == 0,
                         nlp_cpu_path_supported((nlp_kernel_path)p));
    ck_assert_int_eq(nlp_cpu_path_supported(NLP_PATH_GENERIC), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("paths");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_generic);
    tcase_add_test(tc, test_avx2);
    tcase_add_test(tc, test_avx512);
    tcase_add_test(tc, test_k_zero);
    tcase_add_test(tc, test_int8_generic);
    tcase_add_test(tc, test_int8_avx2);
    tcase_add_test(tc, test_int8_avx512);
    tcase_add_test(tc, test_bf16_generic);
    tcase_add_test(tc, test_bf16_avx512);
    tcase_add_test(tc, test_activations);
    tcase_add_test(tc, test_rows_vector);
    tcase_add_test(tc, test_force_unsupported);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
