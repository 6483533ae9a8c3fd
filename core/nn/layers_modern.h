/*
 * layers_modern.h - the layer kinds of pre-LayerNorm encoders with rotary
 * positions (ModernBERT), private to libnlp: rotary position embeddings,
 * the gated GeGLU activation and attention within a sliding window.
 *
 * Like layers.h, every function works on packed rows (the real tokens of
 * batch row b at rows offs[b] .. offs[b] + lengths[b] - 1), allocates
 * nothing and spreads its work over the pool (which may be NULL).
 * Shapes: N packed tokens, T longest row, H hidden, nh heads, dh = H / nh,
 * I intermediate.
 */
#ifndef NLP_LAYERS_MODERN_H
#define NLP_LAYERS_MODERN_H

#include <stddef.h>
#include <stdint.h>

#include "nlp/model.h"
#include "threadpool.h"

/* The rotary tables for positions 0 .. T-1 and head size dh (even):
 * cos_t / sin_t [T][dh/2] hold cos / sin of t * inv_freq[i], inv_freq[i] =
 * 1 / theta^(2i / dh), computed in float32 as Hugging Face does. */
void nlp_rope_table(float *cos_t, float *sin_t, size_t T, size_t dh, float theta);

/* In place on the query and key columns of qkv [N][ld] (query in columns
 * 0 .. H-1, key in H .. 2H-1, head h at h*dh within each): every head's
 * vector x at position t (its index within its batch row) becomes
 * x * cos + rotate_half(x) * sin, rotate_half(x) = (-x[dh/2:], x[:dh/2]),
 * with the tables of nlp_rope_table (T >= the longest row). */
void nlp_rope_forward(nlp_pool *pool, float *qkv, size_t ld, const int32_t *lengths,
                      const size_t *offs, size_t B, size_t H, size_t nh,
                      const float *cos_t, const float *sin_t);

/* GeGLU in place: x [N][ld] holds input | gate (columns 0 .. I-1 and
 * I .. 2I-1); columns 0 .. I-1 become act(input) * gate. */
void nlp_geglu_forward(nlp_pool *pool, nlp_activation act, float *x, size_t ld, size_t N,
                       size_t I);

/* Floats of scratch nlp_attention_local_forward needs for rows up to T
 * tokens on n_threads threads. */
size_t nlp_attention_local_scratch_floats(size_t T, int n_threads);

/*
 * Multi-head self-attention within a sliding window, over packed rows:
 * arguments as nlp_attention_forward (layers.h); query i of a batch row
 * attends to that row's keys j with |i - j| <= half:
 *   out_i = sum_j softmax_j(q_i . k_j / sqrt(dh)) v_j.
 * Keys outside the window get weight exactly 0, as Hugging Face's
 * finfo(float32).min mask gives them.  scratch holds
 * nlp_attention_local_scratch_floats(T, threads) floats.
 */
void nlp_attention_local_forward(nlp_pool *pool, float *out, const float *q, const float *k,
                                 const float *v, size_t ldqkv, const int32_t *lengths,
                                 const size_t *offs, size_t B, size_t T, size_t H, size_t nh,
                                 size_t half, float *scratch);

#endif /* NLP_LAYERS_MODERN_H */
