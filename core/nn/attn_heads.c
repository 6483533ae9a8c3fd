/*
 * attn_heads.c - hand out the (batch row, head) pairs of an attention
 * call to workers (attn_heads.h).
 */
#include "attn_heads.h"

void nlp_attn_heads_init(nlp_attn_heads *a, float *out, const float *q, const float *k,
                         const float *v, size_t ld, const int32_t *lengths, const size_t *offs,
                         size_t B, size_t T, size_t H, size_t nh)
{
    a->out = out;
    a->q = q;
    a->k = k;
    a->v = v;
    a->ld = ld;
    a->lengths = lengths;
    a->offs = offs;
    a->B = B;
    a->T = T;
    a->H = H;
    a->nh = nh;
    atomic_init(&a->next, 0);
}

int nlp_attn_heads_next(nlp_attn_heads *a, nlp_attn_head *p)
{
    const size_t dh = a->H / a->nh;
    for (;;) {
        const size_t item = atomic_fetch_add(&a->next, 1);
        if (item >= a->B * a->nh)
            return 0;
        const size_t b = item / a->nh, h = item % a->nh;
        if (a->lengths[b] <= 0)
            continue;
        const size_t row0 = a->offs[b];
        p->L = (size_t)a->lengths[b];
        p->h = h;
        p->Q = a->q + row0 * a->ld + h * dh;
        p->K = a->k + row0 * a->ld + h * dh;
        p->V = a->v + row0 * a->ld + h * dh;
        p->O = a->out + row0 * a->H + h * dh;
        return 1;
    }
}

void nlp_attn_heads_run(nlp_pool *pool, const nlp_attn_heads *a, nlp_pool_fn worker, void *job)
{
    nlp_pool_run_workers(pool, worker, job, a->B * a->nh);
}
