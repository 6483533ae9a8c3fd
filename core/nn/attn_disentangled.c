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
 * nlp_attention_forward.  pk and pq do not depend on the input: the model
 * projects all 2S rows once (nlp_model_rel_projected) and a pass reads
 * the rows its distances reach.  Work is
 * spread over (batch row, head) pairs on the pool; every product runs on
 * the GEMM kernels single-threaded inside its worker, over the worker's
 * scratch.  Nothing allocates.
 */
#include <math.h>
#include <string.h>

#include "attn_disentangled.h"
#include "attn_heads.h"
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

void nlp_disentangled_bind(const nlp_config *cfg, const float *proj, size_t layer,
                           const int32_t *idx, nlp_disentangled *d)
{
    const nlp_rel_config *rel = &cfg->rel;
    const size_t H = (size_t)cfg->hidden_size, R = 2 * (size_t)rel->span;
    memset(d, 0, sizeof *d);
    d->idx = idx;
    d->scale_factor = rel->scale_factor;
    d->ld = 2 * H;
    if (!rel->relative || !proj)
        return;
    const float *t = proj + layer * R * 2 * H;     /* [2S][2H] */
    d->pq = rel->p2c ? t : NULL;
    d->pk = rel->c2p ? t + H : NULL;
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
    nlp_attn_heads a;            /* the (batch row, head) pairs */
    const nlp_disentangled *d;
    size_t span;
    float *scratch;              /* [tasks][worker_floats(T, span)] */
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
    const size_t H = j->a.H, dh = H / j->a.nh, ld = j->a.ld, T = j->a.T;
    const float s = sqrtf((float)dh * (float)d->scale_factor);
    float *S = j->scratch + task * worker_floats(T, j->span);  /* [L][L] */
    float *c2p = S + T * T;                                    /* [L][n] */
    float *p2c = c2p + T * rel_cols(T, j->span);               /* [L][n] */
    nlp_attn_head p;
    while (nlp_attn_heads_next(&j->a, &p)) {
        const size_t L = p.L, h = p.h;
        /* S = Q K^T / s */
        nlp_sgemm(NULL, 1, L, L, dh, p.Q, ld, p.K, ld, NULL, S, L);
        for (size_t i = 0; i < L * L; i++)
            S[i] /= s;
        /* the rel rows this row's distances reach: lo .. lo + n - 1 */
        const int lo = d->idx[T - L];
        const size_t n = (size_t)(d->idx[T + L - 2] - lo + 1);
        const size_t at = (size_t)lo * d->ld + h * dh;
        if (d->pk)   /* c2p[L][n] = Q PK^T */
            nlp_sgemm(NULL, 1, L, n, dh, p.Q, ld, d->pk + at, d->ld, NULL, c2p, n);
        if (d->pq)   /* p2c[L][n] = K PQ^T */
            nlp_sgemm(NULL, 1, L, n, dh, p.K, ld, d->pq + at, d->ld, NULL, p2c, n);
        if (d->pk || d->pq)
            add_position_terms(S, L, d->pk ? c2p : NULL, d->pq ? p2c : NULL, n, d->idx, T,
                               lo, s);
        nlp_softmax(S, L, L);
        /* O[L][dh] = S V */
        nlp_sgemm(NULL, 0, L, dh, L, S, L, p.V, ld, NULL, p.O, H);
    }
}

void nlp_disentangled_attention_forward(nlp_pool *pool, float *out, const float *q,
                                        const float *k, const float *v, size_t ldqkv,
                                        const nlp_disentangled *d, const int32_t *lengths,
                                        const size_t *offs, size_t B, size_t T, size_t H,
                                        size_t nh, size_t span, float *scratch)
{
    dis_job j;
    nlp_attn_heads_init(&j.a, out, q, k, v, ldqkv, lengths, offs, B, T, H, nh);
    j.d = d;
    j.span = span;
    j.scratch = scratch;
    nlp_attn_heads_run(pool, &j.a, dis_worker, &j);
}
