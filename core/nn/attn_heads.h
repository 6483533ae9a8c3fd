/*
 * attn_heads.h - the (batch row, head) pairs of one multi-head attention
 * call, handed out to the thread pool's workers one at a time (private to
 * libnlp).  Each attention variant (layers.c, attn_disentangled.c,
 * attention_local.c) starts its job with an nlp_attn_heads, runs its
 * worker with nlp_attn_heads_run and takes pairs with nlp_attn_heads_next;
 * only the per-head arithmetic differs between them.
 */
#ifndef NLP_ATTN_HEADS_H
#define NLP_ATTN_HEADS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "threadpool.h"

typedef struct nlp_attn_heads {
    float *out;                 /* [N][H] context, the heads side by side */
    const float *q, *k, *v;     /* [N][.] projections, rows ld apart */
    size_t ld;
    const int32_t *lengths;     /* [B] tokens of each batch row */
    const size_t *offs;         /* [B] the row's first token among the N */
    size_t B, T, H, nh;         /* batch rows, longest row, hidden, heads */
    atomic_size_t next;         /* the next pair to hand out */
} nlp_attn_heads;

/* One pair's slices. */
typedef struct nlp_attn_head {
    const float *Q, *K, *V;     /* [L][dh], rows ld apart */
    float *O;                   /* [L][dh], rows H apart */
    size_t L, h;                /* tokens of the row, head index */
} nlp_attn_head;

/* Fill *a for one call (no allocation). */
void nlp_attn_heads_init(nlp_attn_heads *a, float *out, const float *q, const float *k,
                         const float *v, size_t ld, const int32_t *lengths, const size_t *offs,
                         size_t B, size_t T, size_t H, size_t nh);

/* The next pair with at least one token into *p: 1, or 0 when every
 * pair has been handed out.  Safe from many workers at once. */
int nlp_attn_heads_next(nlp_attn_heads *a, nlp_attn_head *p);

/* Run worker(job, task) on min(pool threads, B * nh) tasks; job is the
 * variant's struct, which holds a. */
void nlp_attn_heads_run(nlp_pool *pool, const nlp_attn_heads *a, nlp_pool_fn worker, void *job);

#endif /* NLP_ATTN_HEADS_H */
