/*
 * attn_disentangled.c - DeBERTa-v2's disentangled self-attention over
 * packed rows (attn_disentangled.h).
 *
 * For query i and key j of one batch row and head h, with the relative
 * position d = i - j mapped to a row r(d) of the relative position
 * embeddings (log-bucketed as make_log_bucket_position does, then
 * clamp(bucket(d) + span, 0, 2 span - 1)):
 *   score[i][j] = q_i . k_j / s + q_i . pk_r(d) / s + k_j . pq_r(d) / s,
 *   s = sqrt(dh * scale_factor),
 * where pk / pq are the rel rows projected by the key / query projections
 * (content-to-position "c2p" and position-to-content "p2c"; the bucket
 * is odd in d, so p2c's index clamp(-bucket(j - i) + span) is r(d) too).
 * Then softmax over the row's real keys and the sum of the values, as in
 * nlp_attention_forward.  Only the rel rows a sequence reaches are
 * projected (at most 2T - 1), so short inputs cost little.  Work is
 * spread over (batch row, head) pairs on the pool; every product runs on
 * the GEMM kernels single-threaded inside its worker, over the worker's
 * scratch.  Nothing allocates.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "attn_disentangled.h"
#include "gemm.h"
#include "nlp/encoder.h"

/* make_log_bucket_position for one relative position d, in float32 as
 * transformers computes it: d itself within [-mid, mid] (mid = buckets /
 * 2), else sign(d) (ceil(log(|d| / mid) / log((max_pos - 1) / mid) *
 * (mid - 1)) + mid).  buckets <= 0: no bucketing. */
static int rel_bucket(int d, int buckets, int max_pos)
{
    const int mid = buckets / 2, a = d < 0 ? -d : d;
    if (buckets <= 0 || a <= mid)
        return d;
    const float ratio = (float)((double)(max_pos - 1) / (double)mid);
    const float q = logf((float)a / (float)mid) / logf(ratio) * (float)(mid - 1);
    const int lp = (int)(ceilf(q) + (float)mid);
    return d < 0 ? -lp : lp;
}

void nlp_rel_index_table(const nlp_rel_config *rel, size_t T, int32_t *idx)
{
    const int span = rel->span;
    for (size_t k = 0; k + 1 < 2 * T; k++) {
        int r = rel_bucket((int)k - (int)T + 1, rel->position_buckets, rel->max_relative) + span;
        idx[k] = r < 0 ? 0 : r > 2 * span - 1 ? 2 * span - 1 : r;
    }
}

void nlp_disentangled_project(nlp_pool *pool, const nlp_config *cfg, const nlp_weights *w,
                              const nlp_layer_weights *lw, const nlp_packed_b *qkv,
                              const int32_t *idx, size_t T, float *out, nlp_disentangled *d)
{
    const size_t H = (size_t)cfg->hidden_size;
    const nlp_rel_config *rel = &cfg->rel;
    memset(d, 0, sizeof *d);
    d->idx = idx;
    d->scale_factor = rel->scale_factor;
    d->ld = 3 * H;
    if (!rel->relative || !w->rel_emb)
        return;
    /* rel rows r0 .. r0 + R - 1: idx is non-decreasing in d */
    const size_t r0 = (size_t)idx[0], R = (size_t)idx[2 * T - 2] - r0 + 1;
    const float *x = w->rel_emb + r0 * H;                 /* [R][H] */
    d->r0 = (int)r0;
    if (rel->share_att_key) {
        /* out[R][3H] = x [Wq | Wk | Wv]^T + b: query_proj and key_proj */
        nlp_gemm_epilogue ep = { lw->qkv_b, NLP_GEMM_ACT_NONE, NULL, 0 };
        nlp_sgemm_packed(pool, R, x, H, qkv, &ep, out, 3 * H);
    } else {
        if (rel->p2c)
            nlp_sgemm(pool, 1, R, H, H, x, H, lw->pos_q_w, H, lw->pos_q_b, out, 3 * H);
        if (rel->c2p)
            nlp_sgemm(pool, 1, R, H, H, x, H, lw->pos_k_w, H, lw->pos_k_b, out + H, 3 * H);
    }
    d->pq = rel->p2c ? out : NULL;
    d->pk = rel->c2p ? out + H : NULL;
}

/* Rel rows one sequence of up to T tokens reaches: 2T - 1, at most the
 * 2 span rows there are (at least 1). */
static size_t rel_cols(size_t T, size_t span)
{
    return 2 * T < 2 * span ? 2 * T : 2 * span > 0 ? 2 * span : 1;
}

/* Floats of one worker's scratch: scores [T][T], c2p and p2c [T][cols]. */
static size_t worker_floats(size_t T, size_t span)
{
    return T * T + 2 * T * rel_cols(T, span) + 16;
}

size_t nlp_disentangled_scratch_floats(size_t T, size_t span, int n_threads)
{
    return (size_t)(n_threads > 0 ? n_threads : 1) * worker_floats(T, span);
}

typedef struct {
    float *out;
    const float *q, *k, *v;
    size_t ld;                   /* row stride of q, k and v */
    const nlp_disentangled *d;
    const int32_t *lengths;
    const size_t *offs;
    size_t B, T, H, nh, span;
    float *scratch;              /* [tasks][worker_floats(T, span)] */
    atomic_size_t next;          /* next (b, h) pair to take */
} dis_job;

/* S[L][L] (scores q.k, already divided by s) plus the c2p and p2c terms
 * c2p[L][n], p2c[L][n] (rel rows lo .. lo + n - 1, NULL when off), each
 * divided by s as transformers does. */
static void add_position_terms(float *S, size_t L, const float *c2p, const float *p2c,
                               size_t n, const int32_t *idx, size_t T, int lo, float s)
{
    for (size_t i = 0; i < L; i++) {
        float *row = S + i * L;
        for (size_t j = 0; j < L; j++) {
            const size_t r = (size_t)(idx[i + T - 1 - j] - lo);
            float bias = 0.0f;
            if (c2p)
                bias += c2p[i * n + r] / s;
            if (p2c)
                bias += p2c[j * n + r] / s;
            row[j] += bias;
        }
    }
}

/* One worker: takes (batch row, head) pairs until none are left. */
static void dis_worker(void *vp, size_t task)
{
    dis_job *j = vp;
    const nlp_disentangled *d = j->d;
    const size_t H = j->H, dh = H / j->nh, ld = j->ld, T = j->T;
    const float s = sqrtf((float)dh * (float)d->scale_factor);
    float *S = j->scratch + task * worker_floats(T, j->span);  /* [L][L] */
    float *c2p = S + T * T;                                    /* [L][n] */
    float *p2c = c2p + T * rel_cols(T, j->span);               /* [L][n] */
    for (;;) {
        size_t item = atomic_fetch_add(&j->next, 1);
        if (item >= j->B * j->nh)
            break;
        size_t b = item / j->nh, h = item % j->nh;
        size_t L = (size_t)j->lengths[b];
        if (L == 0)
            continue;
        const size_t row0 = j->offs[b];
        const float *Q = j->q + row0 * ld + h * dh;       /* [L][dh], stride ld */
        const float *K = j->k + row0 * ld + h * dh;
        const float *V = j->v + row0 * ld + h * dh;
        float *O = j->out + row0 * H + h * dh;
        /* S = Q K^T / s */
        nlp_sgemm(NULL, 1, L, L, dh, Q, ld, K, ld, NULL, S, L);
        for (size_t i = 0; i < L * L; i++)
            S[i] /= s;
        /* the rel rows this row's distances reach: lo .. lo + n - 1 */
        const int lo = d->idx[T - L];
        const size_t n = (size_t)(d->idx[T + L - 2] - lo + 1);
        const size_t at = (size_t)(lo - d->r0) * d->ld + h * dh;
        if (d->pk)   /* c2p[L][n] = Q PK^T */
            nlp_sgemm(NULL, 1, L, n, dh, Q, ld, d->pk + at, d->ld, NULL, c2p, n);
        if (d->pq)   /* p2c[L][n] = K PQ^T */
            nlp_sgemm(NULL, 1, L, n, dh, K, ld, d->pq + at, d->ld, NULL, p2c, n);
        if (d->pk || d->pq)
            add_position_terms(S, L, d->pk ? c2p : NULL, d->pq ? p2c : NULL, n, d->idx, T,
                               lo, s);
        nlp_softmax(S, L, L);
        /* O[L][dh] = S V */
        nlp_sgemm(NULL, 0, L, dh, L, S, L, V, ld, NULL, O, H);
    }
}

void nlp_disentangled_attention_forward(nlp_pool *pool, float *out, const float *q,
                                        const float *k, const float *v, size_t ldqkv,
                                        const nlp_disentangled *d, const int32_t *lengths,
                                        const size_t *offs, size_t B, size_t T, size_t H,
                                        size_t nh, size_t span, float *scratch)
{
    dis_job j;
    j.out = out;
    j.q = q;
    j.k = k;
    j.v = v;
    j.ld = ldqkv;
    j.d = d;
    j.lengths = lengths;
    j.offs = offs;
    j.B = B;
    j.T = T;
    j.H = H;
    j.nh = nh;
    j.span = span;
    j.scratch = scratch;
    atomic_init(&j.next, 0);
    size_t tasks = (size_t)nlp_pool_threads(pool);
    if (tasks > B * nh)
        tasks = B * nh;
    nlp_pool_run(pool, dis_worker, &j, tasks);
}
