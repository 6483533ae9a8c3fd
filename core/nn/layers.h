/*
 * layers.h - the forward building blocks of BERT-family encoders
 * (private to libnlp).
 *
 * Each layer is one explicit function over caller-owned buffers; nothing
 * here allocates.  Token rows are "packed": the real tokens of a padded
 * batch are stored back to back, row offs[b] + t for token t of batch row
 * b, so padding costs no work.  Functions that keep values a backward pass
 * needs (LayerNorm mean / rstd) take optional buffers for them.
 *
 * Shapes: N packed tokens, H hidden, I intermediate, nh heads, dh = H/nh.
 */
#ifndef NLP_LAYERS_H
#define NLP_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "nlp/model.h"
#include "threadpool.h"

/* out[N][H] = word_emb[id] + pos_emb[p] (+ type_emb[type]) for the packed
 * real tokens of a padded batch: ids / type_ids are [B][T] (type_ids or
 * type_emb NULL: no token types; pos_emb NULL: no absolute positions,
 * DeBERTa-v3), lengths[B], offs[B] the packed row of
 * each batch row's first token.  Position p is t when pos_pad < 0, else
 * RoBERTa's numbering: pos_pad for a token whose id is pos_pad, otherwise
 * pos_pad + the count of such non-padding tokens up to and including t.
 * pos_emb NULL: no position embeddings (ModernBERT's are rotary).
 * Ids must already be range-checked. */
void nlp_embeddings_forward(float *out, const int32_t *ids,
                            const int32_t *type_ids, const int32_t *lengths,
                            const size_t *offs, size_t B, size_t T,
                            const float *word_emb, const float *pos_emb,
                            const float *type_emb, size_t H, int pos_pad);

/* out[N][H] = (in - mean) * rstd * g + b over each row (out may equal
 * in).  mean[N] / rstd[N] receive the row statistics when not NULL (for a
 * backward pass).  Rows are spread over pool (may be NULL). */
void nlp_layernorm_forward(nlp_pool *pool, float *out, float *mean,
                           float *rstd, const float *in, const float *g,
                           const float *b, size_t N, size_t H, float eps);

/* out[n] = a[n] + b[n] (out may alias a or b). */
void nlp_residual_forward(float *out, const float *a, const float *b,
                          size_t n);

/* Activations, element-wise over n values (out may equal in):
 * exact GELU x/2 (1 + erf(x / sqrt 2)); the tanh approximation
 * x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); ReLU max(x, 0). */
void nlp_gelu_forward(float *out, const float *in, size_t n);
void nlp_gelu_tanh_forward(float *out, const float *in, size_t n);
void nlp_relu_forward(float *out, const float *in, size_t n);

/* The configured activation over n values, spread over pool. */
void nlp_activation_forward(nlp_pool *pool, nlp_activation act, float *out,
                            const float *in, size_t n);

/* Floats of scratch nlp_attention_forward needs for sequences up to T,
 * heads of dh values, on a pool of n_threads threads. */
size_t nlp_attention_scratch_floats(size_t T, size_t dh, int n_threads);

/*
 * Multi-head self-attention over packed rows:
 *   out[N][H], q / k / v [N][H] with rows ldqkv floats apart (head h is
 *   columns h*dh .. h*dh+dh-1; one fused [N][3H] projection gives
 *   q = qkv, k = qkv + H, v = qkv + 2H, ldqkv = 3H),
 *   lengths[B], offs[B] as for the embeddings.
 * For each batch row b and head h:
 *   P = softmax(Q K^T / sqrt(dh)) over the row's lengths[b] real keys,
 *   out = P V.
 * Padded keys are not part of the batch row at all, which is exactly
 * HF's additive finfo(float32).min mask (their weights underflow to 0).
 * scratch holds nlp_attention_scratch_floats(T, dh, threads) floats; the
 * probabilities are transient here (a backward pass would keep them).
 */
void nlp_attention_forward(nlp_pool *pool, float *out, const float *q,
                           const float *k, const float *v, size_t ldqkv,
                           const int32_t *lengths, const size_t *offs,
                           size_t B, size_t T, size_t H, size_t nh,
                           float *scratch);

/* nlp_attention_forward with an additive bias that depends on the
 * relative position of key and query (MPNet):
 *   P = softmax(Q K^T / sqrt(dh) + R_h) with R_h[i][k] = bias[h][k - i + T - 1],
 * bias [nh][2T-1] as nlp_relbias_table (relbias.h) lays it out for the
 * batch's T; NULL is no bias (nlp_attention_forward itself). */
void nlp_attention_bias_forward(nlp_pool *pool, float *out, const float *q,
                                const float *k, const float *v, size_t ldqkv,
                                const int32_t *lengths, const size_t *offs,
                                size_t B, size_t T, size_t H, size_t nh,
                                const float *bias, float *scratch);

/* nlp_attention_forward within a sliding window (ModernBERT's local
 * layers): each query's softmax runs over the keys at most half
 * positions away, the others get weight 0, as HF's finfo.min window mask
 * gives.  The L x L scores are computed in full on the GEMM kernels, so
 * it suits rows up to a few windows long (nlp_attention_local_forward
 * scores only the window, for longer ones); same scratch as
 * nlp_attention_forward. */
void nlp_attention_window_forward(nlp_pool *pool, float *out, const float *q,
                                  const float *k, const float *v, size_t ldqkv,
                                  const int32_t *lengths, const size_t *offs,
                                  size_t B, size_t T, size_t H, size_t nh,
                                  size_t half, float *scratch);

#endif /* NLP_LAYERS_H */
