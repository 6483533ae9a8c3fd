/*
 * backward.c - backward building blocks of BERT-family encoders (see
 * backward.h): dense-layer gradients, embedding scatter, LayerNorm,
 * activations, softmax, dropout and masked multi-head attention that
 * keeps its probabilities.  Input and weight gradients of dense layers
 * run on the threaded GEMM (the weight gradient reads dy transposed in
 * the micro-kernel); the other loops are split over the pool so that
 * every sum keeps one order whatever the thread count.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "backward.h"
#include "cpu.h"
#include "gemm.h"
#include "gemm_kernels.h"
#include "nlp/encoder.h"
#include "util/util.h"

/* ------------------------------------------------------------ dense */

void nlp_linear_backward_input(nlp_pool *pool, float *dx, size_t ldx,
                               const float *dy, size_t ldy, const float *W,
                               size_t N, size_t out, size_t in)
{
    if (N == 0)
        return;
    /* dx[N][in] = dy[N][out] . W[out][in]: W is the B operand stored
     * [K][N] (trans_b = 0) */
    nlp_sgemm(pool, 0, N, in, out, dy, ldy, W, in, NULL, dx, ldx);
}

enum { DW_BLOCK = 128 };   /* the scratch's former block of dW rows */

size_t nlp_linear_backward_weight_scratch_floats(size_t N, size_t in)
{
    return (size_t)DW_BLOCK * (N + in);
}

enum { DB_COLS = 64 };   /* columns of db per task */

typedef struct {
    float *db;
    const float *dy;
    size_t ldy, N, out;
} db_job;

/* acc[DB_COLS] += the DB_COLS columns of N rows of dy from c0, rows in
 * order: plain C the compiler vectorises, also built for AVX-512 (where
 * the 64 sums stay in four registers). */
#define DB_FULL_BODY                                                    \
    for (size_t n = 0; n < N; n++) {                                    \
        const float *r = dy + n * ldy + c0;                             \
        for (size_t o = 0; o < DB_COLS; o++)                            \
            acc[o] += r[o];                                             \
    }
static void db_full(float *restrict acc, const float *restrict dy, size_t ldy, size_t N, size_t c0)
{
    DB_FULL_BODY
}
#if defined(__x86_64__)
__attribute__((target("avx512f")))
static void db_full_avx512(float *restrict acc, const float *restrict dy, size_t ldy, size_t N,
                           size_t c0)
{
    DB_FULL_BODY
}
#endif
#undef DB_FULL_BODY

/* db for one block of columns, summing the rows in order. */
static void db_cols(void *vp, size_t task)
{
    const db_job *j = vp;
    const size_t c0 = task * DB_COLS, c1 = c0 + DB_COLS < j->out ? c0 + DB_COLS : j->out;
    float acc[DB_COLS];
    memset(acc, 0, sizeof acc);
    if (c1 - c0 == DB_COLS) {
#if defined(__x86_64__)
        if (nlp_cpu_path() == NLP_PATH_AVX512)
            db_full_avx512(acc, j->dy, j->ldy, j->N, c0);
        else
#endif
            db_full(acc, j->dy, j->ldy, j->N, c0);
    } else {
        for (size_t n = 0; n < j->N; n++) {
            const float *r = j->dy + n * j->ldy;
            for (size_t o = c0; o < c1; o++)
                acc[o - c0] += r[o];
        }
    }
    for (size_t o = c0; o < c1; o++)
        j->db[o] += acc[o - c0];
}

void nlp_linear_backward_weight(nlp_pool *pool, float *dW, float *db,
                                const float *dy, size_t ldy, const float *x,
                                size_t ldx, size_t N, size_t out, size_t in,
                                float *scratch)
{
    (void)scratch;
    if (N == 0 || out == 0)
        return;
    /* dW[out][in] += dy^T x: dy is the A operand stored transposed */
    nlp_sgemm_at_acc(pool, out, in, N, dy, ldy, x, ldx, dW, in);
    if (db) {
        db_job j = { db, dy, ldy, N, out };
        nlp_pool_run(pool, db_cols, &j, (out + DB_COLS - 1) / DB_COLS);
    }
}

/* ------------------------------------------------------------ embeddings */

void nlp_embeddings_backward(float *dword, float *dpos, float *dtype,
                             const float *dx, const int32_t *ids,
                             const int32_t *type_ids, const int32_t *rows,
                             const size_t *offs, size_t B, size_t T,
                             size_t H)
{
    for (size_t b = 0; b < B; b++) {
        for (size_t t = 0; t < (size_t)rows[b]; t++) {
            const float *g = dx + (offs[b] + t) * H;              /* [H] */
            float *w = dword + (size_t)ids[b * T + t] * H;
            float *p = dpos + t * H;
            for (size_t j = 0; j < H; j++) {
                w[j] += g[j];
                p[j] += g[j];
            }
            if (dtype) {
                size_t ty = type_ids ? (size_t)type_ids[b * T + t] : 0;
                float *e = dtype + ty * H;
                for (size_t j = 0; j < H; j++)
                    e[j] += g[j];
            }
        }
    }
}

/* ------------------------------------------------------------ LayerNorm */

typedef struct {
    float *dx;
    const float *dy, *x, *mean, *rstd, *g;
    size_t N, H, rows_per_task;
} lnb_job;

static void lnb_rows(void *vp, size_t task)
{
    const lnb_job *j = vp;
    const size_t H = j->H;
    size_t r0 = task * j->rows_per_task;
    size_t r1 = r0 + j->rows_per_task < j->N ? r0 + j->rows_per_task : j->N;
    for (size_t r = r0; r < r1; r++) {
        const float *dy = j->dy + r * H, *x = j->x + r * H;    /* [H] */
        float *dx = j->dx + r * H;
        const float m = j->mean[r], rs = j->rstd[r];
        /* dxhat = dy * g; dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) */
        double s1 = 0.0, s2 = 0.0;
        for (size_t i = 0; i < H; i++) {
            const float dxh = dy[i] * j->g[i];
            s1 += dxh;
            s2 += (double)dxh * (double)((x[i] - m) * rs);
        }
        const float m1 = (float)(s1 / (double)H), m2 = (float)(s2 / (double)H);
        for (size_t i = 0; i < H; i++) {
            const float xh = (x[i] - m) * rs;
            dx[i] = rs * (dy[i] * j->g[i] - m1 - xh * m2);
        }
    }
}

enum { LN_COLS = 64 };   /* columns of dg / db per task */

typedef struct {
    float *dg, *db;
    const float *dy, *x, *mean, *rstd;
    size_t N, H;
} lnp_job;

/* dg / db for one block of columns, summing the rows in order. */
static void lnp_cols(void *vp, size_t task)
{
    const lnp_job *j = vp;
    const size_t c0 = task * LN_COLS, c1 = c0 + LN_COLS < j->H ? c0 + LN_COLS : j->H;
    float ag[LN_COLS], ab[LN_COLS];
    memset(ag, 0, sizeof ag);
    memset(ab, 0, sizeof ab);
    for (size_t r = 0; r < j->N; r++) {
        const float *dyr = j->dy + r * j->H + c0, *xr = j->x + r * j->H + c0;
        const float m = j->mean[r], rs = j->rstd[r];
        if (c1 - c0 == LN_COLS) {
            /* a constant trip count the compiler vectorises */
            for (size_t i = 0; i < LN_COLS; i++) {
                ag[i] += dyr[i] * ((xr[i] - m) * rs);
                ab[i] += dyr[i];
            }
        } else {
            for (size_t i = 0; i < c1 - c0; i++) {
                ag[i] += dyr[i] * ((xr[i] - m) * rs);
                ab[i] += dyr[i];
            }
        }
    }
    for (size_t i = c0; i < c1; i++) {
        j->dg[i] += ag[i - c0];
        j->db[i] += ab[i - c0];
    }
}

void nlp_layernorm_backward(nlp_pool *pool, float *dx, float *dg, float *db,
                            const float *dy, const float *x,
                            const float *mean, const float *rstd,
                            const float *g, size_t N, size_t H)
{
    if (N == 0)
        return;
    /* parameter gradients first (dx may overwrite dy) */
    lnp_job pj = { dg, db, dy, x, mean, rstd, N, H };
    nlp_pool_run(pool, lnp_cols, &pj, (H + LN_COLS - 1) / LN_COLS);
    lnb_job j = { dx, dy, x, mean, rstd, g, N, H, 0 };
    size_t tasks;
    j.rows_per_task = nlp_pool_rows_per_task(pool, N, &tasks);
    nlp_pool_run(pool, lnb_rows, &j, tasks);
}

/* ------------------------------------------------------------ element-wise */

void nlp_gelu_backward(float *dx, const float *dy, const float *x, size_t n)
{
#if defined(__x86_64__)
    switch (nlp_cpu_path()) {
    case NLP_PATH_AVX512: nlp_gelu_backward_avx512(dx, dy, x, n); return;
    case NLP_PATH_AVX2: nlp_gelu_backward_avx2(dx, dy, x, n); return;
    default: break;
    }
#endif
    const float r2 = 0.70710678118654752f;   /* 1/sqrt(2) */
    const float k = 0.39894228040143268f;    /* 1/sqrt(2 pi) */
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        const float cdf = 0.5f * (1.0f + erff(v * r2));
        const float pdf = k * expf(-0.5f * v * v);
        dx[i] = dy[i] * (cdf + v * pdf);
    }
}

void nlp_gelu_tanh_backward(float *dx, const float *dy, const float *x,
                            size_t n)
{
    const float c = 0.79788456080286536f;    /* sqrt(2/pi) */
    const float a = 0.044715f;
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        const float t = tanhf(c * (v + a * v * v * v));
        const float du = c * (1.0f + 3.0f * a * v * v);
        dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du);
    }
}

void nlp_relu_backward(float *dx, const float *dy, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

enum { ACT_CHUNK = 16384 };

typedef struct {
    nlp_activation act;
    float *dx;
    const float *dy, *x;
    size_t n;
} actb_job;

static void actb_chunk(void *vp, size_t task)
{
    const actb_job *j = vp;
    size_t i0 = task * ACT_CHUNK;
    size_t len = j->n - i0 < ACT_CHUNK ? j->n - i0 : ACT_CHUNK;
    switch (j->act) {
    case NLP_ACT_GELU_TANH:
        nlp_gelu_tanh_backward(j->dx + i0, j->dy + i0, j->x + i0, len);
        break;
    case NLP_ACT_RELU:
        nlp_relu_backward(j->dx + i0, j->dy + i0, j->x + i0, len);
        break;
    case NLP_ACT_GELU:
    default:
        nlp_gelu_backward(j->dx + i0, j->dy + i0, j->x + i0, len);
        break;
    }
}

void nlp_activation_backward(nlp_pool *pool, nlp_activation act, float *dx,
                             const float *dy, const float *x, size_t n)
{
    actb_job j = { act, dx, dy, x, n };
    nlp_pool_run(pool, actb_chunk, &j, (n + ACT_CHUNK - 1) / ACT_CHUNK);
}

void nlp_tanh_backward(float *dx, const float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void nlp_residual_backward(float *da, const float *dout, size_t n)
{
    for (size_t i = 0; i < n; i++)
        da[i] += dout[i];
}

void nlp_softmax_backward(float *dx, const float *dy, const float *p,
                          size_t n, size_t d)
{
    for (size_t r = 0; r < n; r++) {
        const float *dyr = dy + r * d, *pr = p + r * d;
        float *dxr = dx + r * d;
        double s = 0.0;
        for (size_t i = 0; i < d; i++)
            s += (double)dyr[i] * pr[i];
        const float sf = (float)s;
        for (size_t i = 0; i < d; i++)
            dxr[i] = pr[i] * (dyr[i] - sf);
    }
}

/* ------------------------------------------------------------ dropout */


/* The per-stream part of the hash, and the keep threshold. */
static uint64_t drop_base(const nlp_dropout *d, uint64_t stream)
{
    return nlp_mix64(d->seed ^ nlp_splitmix64(stream));
}

static uint64_t drop_threshold(const nlp_dropout *d)
{
    return (uint64_t)((double)d->p * 4294967296.0);
}

int nlp_dropout_keep(const nlp_dropout *d, uint64_t stream, uint64_t index)
{
    return (nlp_mix64(drop_base(d, stream) + index) >> 32) >= drop_threshold(d);
}

/* out[i] = in[i] * scale if element first + i of the stream whose base
 * is base is kept, else 0 (out may equal in). */
static void drop_row(float *out, const float *in, size_t n, uint64_t base, uint64_t first,
                     uint64_t thr, float scale)
{
#if defined(__x86_64__)
    if (nlp_cpu_path() == NLP_PATH_AVX512) {
        nlp_dropout_row_avx512(out, in, n, base, first, thr, scale);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        out[i] = (nlp_mix64(base + first + i) >> 32) >= thr ? in[i] * scale : 0.0f;
}

void nlp_dropout_apply(const nlp_dropout *d, uint64_t stream,
                       uint64_t first, float *x, size_t n)
{
    if (!d || d->p <= 0.0f)
        return;
    drop_row(x, x, n, drop_base(d, stream), first, drop_threshold(d), 1.0f / (1.0f - d->p));
}

/* ------------------------------------------------------------ attention */

/* Per worker: three [T][T] blocks. */
size_t nlp_attention_train_scratch_floats(size_t T, int n_threads)
{
    return (size_t)(n_threads > 0 ? n_threads : 1) * 3 * T * T;
}

typedef struct {
    float *out, *probs;          /* forward outputs */
    float *dqkv;                 /* backward output */
    const float *dout, *cprobs, *qkv;
    const int32_t *rows, *klen;
    const size_t *offs;
    size_t B, T, H, nh;
    const nlp_dropout *drop;
    uint64_t stream_base;
    float *scratch;              /* [threads][3][T][T] */
    atomic_size_t next;          /* next (b, h) pair to take */
} attn_job;

static int drop_on(const nlp_dropout *d)
{
    return d && d->p > 0.0f;
}

/* dst[c][r] = src[r][c] for an R x C block (src rows lds apart). */
static void transpose(float *dst, const float *src, size_t R, size_t C, size_t lds)
{
    for (size_t r = 0; r < R; r++)
        for (size_t c = 0; c < C; c++)
            dst[c * R + r] = src[r * lds + c];
}

static void attn_fwd_worker(void *vp, size_t task)
{
    attn_job *j = vp;
    const size_t H = j->H, nh = j->nh, dh = H / nh, T = j->T, ld = 3 * H;
    const float scale = 1.0f / sqrtf((float)dh);
    const int dr = drop_on(j->drop);
    const float keep_scale = dr ? 1.0f / (1.0f - j->drop->p) : 1.0f;
    const uint64_t thr = dr ? drop_threshold(j->drop) : 0;
    float *Pd = j->scratch + task * 3 * T * T;                /* [Lq][Lk] */
    for (;;) {
        size_t item = atomic_fetch_add(&j->next, 1);
        if (item >= j->B * nh)
            break;
        const size_t b = item / nh, h = item % nh;
        const size_t Lq = (size_t)j->rows[b], Lk = (size_t)j->klen[b];
        const uint64_t base = dr ? drop_base(j->drop, j->stream_base + item) : 0;
        const float *Q = j->qkv + j->offs[b] * ld + h * dh;   /* [Lq][dh], stride ld */
        const float *K = Q + H;                               /* [Lk][dh] */
        const float *V = Q + 2 * H;                           /* [Lk][dh] */
        float *P = j->probs + item * T * T;                   /* [Lq][T] */
        float *O = j->out + j->offs[b] * H + h * dh;          /* [Lq][dh], stride H */
        /* S[Lq][Lk] = Q K^T, then softmax(S * scale) per row, in place */
        nlp_sgemm(NULL, 1, Lq, Lk, dh, Q, ld, K, ld, NULL, P, T);
        for (size_t i = 0; i < Lq; i++) {
            float *p = P + i * T;
            for (size_t k = 0; k < Lk; k++)
                p[k] *= scale;
            nlp_softmax(p, 1, Lk);
        }
        /* O[Lq][dh] = dropout(P) V */
        const float *A = P;
        size_t lda = T;
        if (dr) {
            for (size_t i = 0; i < Lq; i++)
                drop_row(Pd + i * Lk, P + i * T, Lk, base, i * T, thr, keep_scale);
            A = Pd;
            lda = Lk;
        }
        nlp_sgemm(NULL, 0, Lq, dh, Lk, A, lda, V, ld, NULL, O, H);
    }
}

/* The fields forward and backward share, then worker on every thread
 * (at most one per (row, head)); j holds the direction's own fields. */
static void attn_launch(nlp_pool *pool, attn_job *j, nlp_pool_fn worker,
                        const float *qkv, const int32_t *rows, const int32_t *klen,
                        const size_t *offs, size_t B, size_t T, size_t H, size_t nh,
                        const nlp_dropout *drop, uint64_t stream_base, float *scratch)
{
    j->qkv = qkv;
    j->rows = rows;
    j->klen = klen;
    j->offs = offs;
    j->B = B;
    j->T = T;
    j->H = H;
    j->nh = nh;
    j->drop = drop;
    j->stream_base = stream_base;
    j->scratch = scratch;
    atomic_init(&j->next, 0);
    nlp_pool_run_workers(pool, worker, j, B * nh);
}

void nlp_attention_forward_train(nlp_pool *pool, float *out, float *probs,
                                 const float *qkv, const int32_t *rows,
                                 const int32_t *klen, const size_t *offs,
                                 size_t B, size_t T, size_t H, size_t nh,
                                 const nlp_dropout *drop,
                                 uint64_t stream_base, float *scratch)
{
    attn_job j;
    memset(&j, 0, sizeof j);
    j.out = out;
    j.probs = probs;
    attn_launch(pool, &j, attn_fwd_worker, qkv, rows, klen, offs, B, T, H, nh, drop,
                stream_base, scratch);
}

static void attn_bwd_worker(void *vp, size_t task)
{
    attn_job *j = vp;
    const size_t H = j->H, nh = j->nh, dh = H / nh, T = j->T, ld = 3 * H;
    const float scale = 1.0f / sqrtf((float)dh);
    const int dr = drop_on(j->drop);
    const float keep_scale = dr ? 1.0f / (1.0f - j->drop->p) : 1.0f;
    const uint64_t thr = dr ? drop_threshold(j->drop) : 0;
    float *Pd = j->scratch + task * 3 * T * T;                /* [Lq][Lk] dropped probabilities */
    float *Tr = Pd + T * T;                                   /* [Lk][Lq] a transposed operand */
    float *dS = Tr + T * T;                                   /* [Lq][Lk] */
    for (;;) {
        size_t item = atomic_fetch_add(&j->next, 1);
        if (item >= j->B * nh)
            break;
        const size_t b = item / nh, h = item % nh;
        const size_t Lq = (size_t)j->rows[b], Lk = (size_t)j->klen[b];
        const uint64_t base = dr ? drop_base(j->drop, j->stream_base + item) : 0;
        const float *Q = j->qkv + j->offs[b] * ld + h * dh;   /* [Lq][dh], stride ld */
        const float *K = Q + H, *V = Q + 2 * H;               /* [Lk][dh] */
        const float *P = j->cprobs + item * T * T;            /* [Lq][T] */
        const float *dO = j->dout + j->offs[b] * H + h * dh;  /* [Lq][dh], stride H */
        float *dQ = j->dqkv + j->offs[b] * ld + h * dh;       /* [Lq][dh] */
        float *dK = dQ + H, *dV = dQ + 2 * H;                 /* [Lq][dh]; rows >= Lk get 0 */
        /* dropped probabilities, then dV[Lk][dh] = Pd^T dO */
        const float *A = P;
        size_t lda = T;
        if (dr) {
            for (size_t i = 0; i < Lq; i++)
                drop_row(Pd + i * Lk, P + i * T, Lk, base, i * T, thr, keep_scale);
            A = Pd;
            lda = Lk;
        }
        transpose(Tr, A, Lq, Lk, lda);
        nlp_sgemm(NULL, 0, Lk, dh, Lq, Tr, Lq, dO, H, NULL, dV, ld);
        for (size_t r = Lk; r < Lq; r++) {
            memset(dK + r * ld, 0, dh * sizeof(float));
            memset(dV + r * ld, 0, dh * sizeof(float));
        }
        /* dPd[Lq][Lk] = dO V^T; dP = dPd * mask / keep;
         * dS = P (dP - sum P dP) * scale */
        nlp_sgemm(NULL, 1, Lq, Lk, dh, dO, H, V, ld, NULL, dS, Lk);
        for (size_t i = 0; i < Lq; i++) {
            const float *p = P + i * T;
            float *ds = dS + i * Lk;
            if (dr)
                drop_row(ds, ds, Lk, base, i * T, thr, keep_scale);
            double dot = 0.0;
            for (size_t k = 0; k < Lk; k++)
                dot += (double)p[k] * ds[k];
            const float dotf = (float)dot;
            for (size_t k = 0; k < Lk; k++)
                ds[k] = p[k] * (ds[k] - dotf) * scale;
        }
        /* dQ[Lq][dh] = dS K; dK[Lk][dh] = dS^T Q */
        nlp_sgemm(NULL, 0, Lq, dh, Lk, dS, Lk, K, ld, NULL, dQ, ld);
        transpose(Tr, dS, Lq, Lk, Lk);
        nlp_sgemm(NULL, 0, Lk, dh, Lq, Tr, Lq, Q, ld, NULL, dK, ld);
    }
}

void nlp_attention_backward(nlp_pool *pool, float *dqkv, const float *dout,
                            const float *probs, const float *qkv,
                            const int32_t *rows, const int32_t *klen,
                            const size_t *offs, size_t B, size_t T, size_t H,
                            size_t nh, const nlp_dropout *drop,
                            uint64_t stream_base, float *scratch)
{
    attn_job j;
    memset(&j, 0, sizeof j);
    j.dqkv = dqkv;
    j.dout = dout;
    j.cprobs = probs;
    attn_launch(pool, &j, attn_bwd_worker, qkv, rows, klen, offs, B, T, H, nh, drop,
                stream_base, scratch);
}
