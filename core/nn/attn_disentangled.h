/*
 * attn_disentangled.h - DeBERTa-v2's disentangled self-attention (private
 * to libnlp; attn_disentangled.c).
 *
 * Shapes as in layers.h: N packed tokens, H hidden, nh heads, dh = H/nh,
 * T the batch's padded length, S the config's rel.span (rel_embeddings
 * has 2S rows).
 */
#ifndef NLP_ATTN_DISENTANGLED_H
#define NLP_ATTN_DISENTANGLED_H

#include <stddef.h>
#include <stdint.h>

#include "gemm.h"
#include "model/model_impl.h"
#include "threadpool.h"

/* The relative-position terms of one layer, for one batch. */
typedef struct nlp_disentangled {
    const float *pq, *pk;   /* [2S][H] rows ld apart: every rel row projected by
                             * the query / key projections (NULL: no p2c / c2p
                             * term) */
    size_t ld;
    const int32_t *idx;     /* [2T - 1]: the rel row of d = i - j at idx[d + T - 1] */
    int scale_factor;       /* scores / sqrt(dh * scale_factor) */
} nlp_disentangled;

/* idx[2T - 1] for sequences up to T tokens: the rel_embeddings row of
 * each relative position d = i - j in [-(T-1), T-1] (at d + T - 1),
 * clamp(bucket(d) + span, 0, 2 span - 1), bucket(d) as transformers'
 * make_log_bucket_position when position_buckets > 0, else d.  The rows
 * are non-decreasing in d. */
void nlp_rel_index_table(const nlp_rel_config *rel, size_t T, int32_t *idx);

/* Fill d for layer layer from proj, the model's projected rel rows
 * (nlp_model_rel_projected: [layers][2S][2H], NULL without relative
 * attention) and idx (nlp_rel_index_table); with relative attention off
 * only d's scale and idx are set. */
void nlp_disentangled_bind(const nlp_config *cfg, const float *proj, size_t layer,
                           const int32_t *idx, nlp_disentangled *d);

/* Floats of scratch nlp_disentangled_attention_forward needs for
 * sequences up to T tokens, rel.span span, on n_threads threads. */
size_t nlp_disentangled_scratch_floats(size_t T, size_t span, int n_threads);

/* out[N][H]: per batch row b and head h, softmax over the row's
 * lengths[b] real keys of (Q K^T + c2p + p2c) / sqrt(dh * scale_factor),
 * times V.  q / k / v [N][H] rows ldqkv apart, lengths[B], offs[B] as
 * for nlp_attention_forward; span the config's rel.span; scratch holds
 * nlp_disentangled_scratch_floats(T, span, threads) floats. */
void nlp_disentangled_attention_forward(nlp_pool *pool, float *out, const float *q,
                                        const float *k, const float *v, size_t ldqkv,
                                        const nlp_disentangled *d, const int32_t *lengths,
                                        const size_t *offs, size_t B, size_t T, size_t H,
                                        size_t nh, size_t span, float *scratch);

#endif /* NLP_ATTN_DISENTANGLED_H */
