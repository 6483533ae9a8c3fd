/*
 * layers.c - forward building blocks of BERT-family encoders (see
 * layers.h): embeddings, LayerNorm, residual add, activations and masked
 * multi-head self-attention.  No allocation; element-wise work is split
 * over the thread pool in fixed chunks.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "attn_heads.h"
#include "cpu.h"
#include "gemm.h"
#include "gemm_kernels.h"
#include "layers.h"
#include "nlp/encoder.h"

/* Which vectorised row helpers (gemm_avx512.c, gemm_avx2.c) may run:
 * 2 AVX-512, 1 AVX2, 0 none (portable loops). */
static int row_path(void)
{
#if defined(__x86_64__)
    const nlp_kernel_path p = nlp_cpu_path();
    return p == NLP_PATH_AVX512 ? 2 : p == NLP_PATH_AVX2 ? 1 : 0;
#else
    return 0;
#endif
}

/* ------------------------------------------------------------ embeddings */

void nlp_embeddings_forward(float *out, const int32_t *ids,
                            const int32_t *type_ids, const int32_t *lengths,
                            const size_t *offs, size_t B, size_t T,
                            const float *word_emb, const float *pos_emb,
                            const float *type_emb, size_t H, int pos_pad)
{
    for (size_t b = 0; b < B; b++) {
        size_t pos = pos_pad >= 0 ? (size_t)pos_pad : 0;  /* RoBERTa's running count */
        for (size_t t = 0; t < (size_t)lengths[b]; t++) {
            float *o = out + (offs[b] + t) * H;                 /* [H] */
            const int32_t id = ids[b * T + t];
            const float *w = word_emb + (size_t)id * H;
            size_t at = t;
            if (pos_pad >= 0)
                at = id == pos_pad ? (size_t)pos_pad : ++pos;
            if (pos_emb) {
                const float *p = pos_emb + at * H;
                for (size_t j = 0; j < H; j++)
                    o[j] = w[j] + p[j];
            } else {               /* no absolute positions (rotary or relative) */
                memcpy(o, w, H * sizeof *o);
            }
            if (type_emb) {
                size_t ty = type_ids ? (size_t)type_ids[b * T + t] : 0;
                const float *e = type_emb + ty * H;
                for (size_t j = 0; j < H; j++)
                    o[j] += e[j];
            }
        }
    }
}

/* ------------------------------------------------------------ LayerNorm */

typedef struct {
    float *out, *mean, *rstd;
    const float *in, *g, *b;
    size_t N, H, rows_per_task;
    float eps;
    int vec;         /* row helpers: 2 AVX-512, 1 AVX2, 0 portable */
} ln_job;

static void ln_rows(void *vp, size_t task)
{
    const ln_job *j = vp;
    size_t r0 = task * j->rows_per_task;
    size_t r1 = r0 + j->rows_per_task < j->N ? r0 + j->rows_per_task : j->N;
    const size_t H = j->H;
#if defined(__x86_64__)
    if (j->vec) {
        for (size_t r = r0; r < r1; r++)
            (j->vec == 2 ? nlp_layernorm_row_avx512 : nlp_layernorm_row_avx2)(
                j->out + r * H, j->in + r * H, j->g, j->b, H, j->eps,
                j->mean ? j->mean + r : NULL, j->rstd ? j->rstd + r : NULL);
        return;
    }
#endif
    for (size_t r = r0; r < r1; r++) {
        const float *x = j->in + r * H;
        float *o = j->out + r * H;
        double s = 0.0;
        for (size_t i = 0; i < H; i++)
            s += x[i];
        const float m = (float)(s / (double)H);
        double ss = 0.0;
        for (size_t i = 0; i < H; i++) {
            const double d = (double)x[i] - m;
            ss += d * d;
        }
        const float rs = (float)(1.0 / sqrt(ss / (double)H + (double)j->eps));
        for (size_t i = 0; i < H; i++)
            o[i] = (x[i] - m) * rs * j->g[i] + j->b[i];
        if (j->mean)
            j->mean[r] = m;
        if (j->rstd)
            j->rstd[r] = rs;
    }
}

void nlp_layernorm_forward(nlp_pool *pool, float *out, float *mean,
                           float *rstd, const float *in, const float *g,
                           const float *b, size_t N, size_t H, float eps)
{
    if (N == 0)
        return;
    ln_job j = { out, mean, rstd, in, g, b, N, H, 0, eps, row_path() };
    size_t tasks;
    j.rows_per_task = nlp_pool_rows_per_task(pool, N, &tasks);
    nlp_pool_run(pool, ln_rows, &j, tasks);
}

/* ------------------------------------------------------------ element-wise */

void nlp_residual_forward(float *out, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

void nlp_gelu_forward(float *out, const float *in, size_t n)
{
    const float r2 = 0.70710678118654752f; /* 1/sqrt(2) */
    for (size_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = 0.5f * x * (1.0f + erff(x * r2));
    }
}

void nlp_gelu_tanh_forward(float *out, const float *in, size_t n)
{
    const float c = 0.79788456080286536f; /* sqrt(2/pi) */
    for (size_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
    }
}

void nlp_relu_forward(float *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

enum { ACT_CHUNK = 16384 };

typedef struct {
    nlp_activation act;
    float *out;
    const float *in;
    size_t n;
} act_job;

static void act_chunk(void *vp, size_t task)
{
    const act_job *j = vp;
    size_t i0 = task * ACT_CHUNK;
    size_t len = j->n - i0 < ACT_CHUNK ? j->n - i0 : ACT_CHUNK;
    switch (j->act) {
    case NLP_ACT_GELU_TANH:
        nlp_gelu_tanh_forward(j->out + i0, j->in + i0, len);
        break;
    case NLP_ACT_RELU:
        nlp_relu_forward(j->out + i0, j->in + i0, len);
        break;
    case NLP_ACT_GELU:
    default:
        nlp_gelu_forward(j->out + i0, j->in + i0, len);
        break;
    }
}

void nlp_activation_forward(nlp_pool *pool, nlp_activation act, float *out,
                            const float *in, size_t n)
{
    act_job j = { act, out, in, n };
    nlp_pool_run(pool, act_chunk, &j, (n + ACT_CHUNK - 1) / ACT_CHUNK);
}

/* ------------------------------------------------------------ attention */

/* Per worker: S [T][T], Qc [T][dh], KP [T/NR][dh][NR], VP [dh/NR][T][NR]
 * (NR of the widest kernel, panel counts rounded up). */
static size_t att_worker_floats(size_t T, size_t dh)
{
    const size_t NR = NLP_GEMM_MAX_NR;
    const size_t Tp = (T + NR - 1) / NR * NR, dp = (dh + NR - 1) / NR * NR;
    return T * T + T * dh + Tp * dh + dp * T + 16;
}

size_t nlp_attention_scratch_floats(size_t T, size_t dh, int n_threads)
{
    return (size_t)(n_threads > 0 ? n_threads : 1) * att_worker_floats(T, dh);
}

typedef struct {
    nlp_attn_heads a;            /* the (batch row, head) pairs */
    float *scratch;              /* [tasks][att_worker_floats] */
    int vec;                     /* softmax rows: 2 AVX-512, 1 AVX2, 0 portable */
    const nlp_gemm_kernel *kern;
    const float *bias;           /* [nh][2T-1] additive relative bias, or NULL */
    size_t half;                 /* keys within half positions of the query;
                                  * SIZE_MAX: every key */
} att_job;

/* row[n] = softmax(row * scale). */
static void softmax_span(int vec, float *row, size_t n, float scale)
{
#if defined(__x86_64__)
    if (vec) {
        (vec == 2 ? nlp_softmax_row_avx512 : nlp_softmax_row_avx2)(row, n, scale);
        return;
    }
#else
    (void)vec;
#endif
    for (size_t i = 0; i < n; i++)
        row[i] *= scale;
    nlp_softmax(row, 1, n);
}

static void softmax_rows(int vec, float *S, size_t L, float scale)
{
    for (size_t r = 0; r < L; r++)
        softmax_span(vec, S + r * L, L, scale);
}

/* Softmax of each row of the L x L scores over the keys within half
 * positions of its query; the weights of the others are exactly 0. */
static void window_rows(int vec, float *S, size_t L, float scale, size_t half)
{
    for (size_t r = 0; r < L; r++) {
        float *row = S + r * L;
        const size_t j0 = r > half ? r - half : 0, j1 = r + half < L - 1 ? r + half : L - 1;
        softmax_span(vec, row + j0, j1 - j0 + 1, scale);
        memset(row, 0, j0 * sizeof *row);
        memset(row + j1 + 1, 0, (L - 1 - j1) * sizeof *row);
    }
}

/* C[M][N] = A[M][K] . B on the micro-kernel, one thread; B packed as
 * panels [N / NR][K][NR] (the last one partial). */
static void panel_product(const nlp_gemm_kernel *kern, size_t M, size_t N, size_t K,
                          const float *A, size_t lda, const float *BP, float *C,
                          size_t ldc)
{
    const size_t NR = kern->nr, MR = kern->mr;
    for (size_t n0 = 0; n0 < N; n0 += NR) {
        const size_t nr = N - n0 < NR ? N - n0 : NR;
        const float *bp = BP + n0 / NR * K * NR;
        for (size_t m = 0; m < M; m += MR)
            kern->tile(M - m < MR ? M - m : MR, nr, K, A + m * lda, lda, bp, NR,
                       C + m * ldc + n0, ldc, 0, bp + K * NR);
    }
}

/* S[i][k] = S[i][k] * scale + center[k - i] over the L x L scores: the
 * relative bias of key k seen from query i (center points at relative
 * position 0 of the head's [2T-1] table). */
static void add_bias_rows(float *S, size_t L, float scale, const float *center)
{
    for (size_t i = 0; i < L; i++) {
        float *row = S + i * L;
        const float *b = center - i;
        for (size_t k = 0; k < L; k++)
            row[k] = row[k] * scale + b[k];
    }
}

/* One worker: takes (batch row, head) pairs until none are left.  The
 * head's slices of q, k and v are strided rows of the projection (3H
 * apart), which the kernels would read from scattered pages; they are
 * first gathered, with prefetching, into the worker's scratch: queries
 * contiguous, keys as panels of the key dimension (the B operand of
 * Q K^T), values as panels of the head dimension (the B operand of
 * P V).  Both products then run on the micro-kernel directly. */
static void att_worker(void *vp, size_t task)
{
    att_job *j = vp;
    const nlp_gemm_kernel *kern = j->kern;
    const size_t T = j->a.T, H = j->a.H, dh = H / j->a.nh, ld = j->a.ld, NR = kern->nr;
    const float scale = 1.0f / sqrtf((float)dh);
    float *S = j->scratch + task * att_worker_floats(T, dh);      /* [L][L] */
    float *Qc = S + T * T;                                        /* [L][dh] */
    float *KP = Qc + T * dh;                                      /* [L/NR][dh][NR] */
    const size_t Tp = (T + NLP_GEMM_MAX_NR - 1) / NLP_GEMM_MAX_NR * NLP_GEMM_MAX_NR;
    float *VP = KP + Tp * dh;                                     /* [dh/NR][L][NR] */
    enum { AHEAD = 4 };
    nlp_attn_head p;
    while (nlp_attn_heads_next(&j->a, &p)) {
        const size_t L = p.L;
        const float *Q = p.Q, *K = p.K, *V = p.V;   /* [L][dh], stride ld */
        const size_t vpan = (dh + NR - 1) / NR;
        for (size_t r = 0; r < L; r++) {
            if (r + AHEAD < L)
                for (size_t d = 0; d < dh; d += 16) {
                    __builtin_prefetch(Q + (r + AHEAD) * ld + d);
                    __builtin_prefetch(K + (r + AHEAD) * ld + d);
                    __builtin_prefetch(V + (r + AHEAD) * ld + d);
                }
            memcpy(Qc + r * dh, Q + r * ld, dh * sizeof *Qc);
            float *kp = KP + (r / NR) * dh * NR + r % NR;
            const float *kr = K + r * ld;
            for (size_t d = 0; d < dh; d++)
                kp[d * NR] = kr[d];
            for (size_t c = 0; c < vpan; c++) {
                const size_t n = dh - c * NR < NR ? dh - c * NR : NR;
                memcpy(VP + c * L * NR + r * NR, V + r * ld + c * NR, n * sizeof *VP);
            }
        }
        panel_product(kern, L, L, dh, Qc, dh, KP, S, L);     /* S[L][L] = Q K^T */
        if (j->bias) {
            add_bias_rows(S, L, scale, j->bias + p.h * (2 * T - 1) + T - 1);
            softmax_rows(j->vec, S, L, 1.0f);
        } else if (j->half < L - 1) {
            window_rows(j->vec, S, L, scale, j->half);
        } else {
            softmax_rows(j->vec, S, L, scale);
        }
        panel_product(kern, L, dh, L, S, L, VP, p.O, H);     /* O[L][dh] = S V */
    }
}

void nlp_attention_forward(nlp_pool *pool, float *out, const float *q,
                           const float *k, const float *v, size_t ldqkv,
                           const int32_t *lengths, const size_t *offs,
                           size_t B, size_t T, size_t H, size_t nh,
                           float *scratch)
{
    nlp_attention_bias_forward(pool, out, q, k, v, ldqkv, lengths, offs, B, T, H, nh,
                               NULL, scratch);
}

/* The attention variants of this file: bias, window, or neither. */
static void attention_run(nlp_pool *pool, float *out, const float *q, const float *k,
                          const float *v, size_t ldqkv, const int32_t *lengths,
                          const size_t *offs, size_t B, size_t T, size_t H, size_t nh,
                          const float *bias, size_t half, float *scratch)
{
    att_job j;
    nlp_attn_heads_init(&j.a, out, q, k, v, ldqkv, lengths, offs, B, T, H, nh);
    j.bias = bias;
    j.half = half;
    j.scratch = scratch;
    j.vec = row_path();
    j.kern = nlp_gemm_current_kernel();
    nlp_attn_heads_run(pool, &j.a, att_worker, &j);
}

void nlp_attention_bias_forward(nlp_pool *pool, float *out, const float *q,
                                const float *k, const float *v, size_t ldqkv,
                                const int32_t *lengths, const size_t *offs,
                                size_t B, size_t T, size_t H, size_t nh,
                                const float *bias, float *scratch)
{
    attention_run(pool, out, q, k, v, ldqkv, lengths, offs, B, T, H, nh, bias, SIZE_MAX,
                  scratch);
}

void nlp_attention_window_forward(nlp_pool *pool, float *out, const float *q,
                                  const float *k, const float *v, size_t ldqkv,
                                  const int32_t *lengths, const size_t *offs,
                                  size_t B, size_t T, size_t H, size_t nh,
                                  size_t half, float *scratch)
{
    attention_run(pool, out, q, k, v, ldqkv, lengths, offs, B, T, H, nh, NULL, half, scratch);
}
