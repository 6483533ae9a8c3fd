/*
 * heads.h - the task heads of BERT-family models for training, forward
 * and backward, and their losses (private to libnlp).
 *
 * Heads work on packed rows of final hidden states (see backward.h) and
 * keep in caller-owned activation buffers what their backward pass
 * needs.  Parameter gradients accumulate (+=); activation gradients are
 * overwritten.  Nothing here allocates.
 *
 * Shapes: M rows, H hidden, V vocab, C labels, B batch rows.
 */
#ifndef NLP_HEADS_H
#define NLP_HEADS_H

#include <stddef.h>
#include <stdint.h>

#include "backward.h"
#include "nlp/model.h"
#include "nlp/train.h"   /* NLP_IGNORE_INDEX */
#include "threadpool.h"

/* ------------------------------------------------------------ losses */

/* Mean cross-entropy of logits[n][C] against labels[n] over the rows
 * whose label is not ignore (as torch's CrossEntropyLoss with
 * ignore_index); *counted (may be NULL) receives their number.  Labels
 * must be ignore or in [0, C).  0 when no row counts. */
double nlp_cross_entropy_forward(const float *logits, const int32_t *labels,
                                 size_t n, size_t C, int32_t ignore,
                                 size_t *counted);

/* dlogits[n][C] = scale * (softmax(logits) - onehot(label)) / counted on
 * counted rows, 0 on ignored rows (dlogits may equal logits). */
void nlp_cross_entropy_backward(float *dlogits, const float *logits,
                                const int32_t *labels, size_t n, size_t C,
                                int32_t ignore, float scale);

/* Mean binary cross-entropy with logits over n values x[n] against
 * targets y[n] in [0, 1] (torch's BCEWithLogitsLoss), and its gradient
 * dx[n] = scale * (sigmoid(x) - y) / n (dx may equal x). */
double nlp_bce_logits_forward(const float *x, const float *y, size_t n);
void nlp_bce_logits_backward(float *dx, const float *x, const float *y,
                             size_t n, float scale);

/* Mean squared error over n values (torch's MSELoss, used for a single
 * label: regression), and dx[n] = scale * 2 (x - y) / n. */
double nlp_mse_forward(const float *x, const float *y, size_t n);
void nlp_mse_backward(float *dx, const float *x, const float *y, size_t n,
                      float scale);

/* ------------------------------------------------------------ MLM head */

/* Parameters of the masked-LM head, or their gradients (same layout).
 * dec_w is the word-embedding matrix (or its gradient) when tied. */
typedef struct nlp_mlm_head_params {
    float *dense_w, *dense_b;   /* [H][H], [H] transform (DistilBERT vocab_transform) */
    float *ln_g, *ln_b;         /* [H] (DistilBERT vocab_layer_norm) */
    float *dec_w;               /* [V][H] decoder, tied to the word embeddings */
    float *dec_b;               /* [V] */
} nlp_mlm_head_params;

/* What the MLM head keeps for its backward pass. */
typedef struct nlp_mlm_head_acts {
    float *pre;                 /* [M][H] transform output before the activation */
    float *act;                 /* [M][H] after the activation (LayerNorm input) */
    float *t;                   /* [M][H] after the LayerNorm (decoder input) */
    float *mean, *rstd;         /* [M] LayerNorm statistics */
    float *logits;              /* [M][V] */
} nlp_mlm_head_acts;

/* logits[M][V] = LayerNorm(act(rows Wt^T + bt)) Wd^T + bd for rows[M][H]
 * (only the masked positions are passed in, so logits are computed only
 * there).  Fills every buffer of a. */
void nlp_mlm_head_forward_train(nlp_pool *pool, const nlp_mlm_head_params *w,
                                nlp_activation act, float eps,
                                const float *rows, size_t M, size_t H,
                                size_t V, const nlp_mlm_head_acts *a);

/* The MLM head's backward: from dlogits[M][V] accumulates into g and
 * writes drows[M][H]; dt[M][H] is scratch, and wscratch holds
 * nlp_linear_backward_weight_scratch_floats(M, H) floats. */
void nlp_mlm_head_backward(nlp_pool *pool, const nlp_mlm_head_params *w,
                           const nlp_mlm_head_params *g, nlp_activation act,
                           const nlp_mlm_head_acts *a, const float *rows,
                           const float *dlogits, float *dt, float *drows,
                           size_t M, size_t H, size_t V, float *wscratch);

/* ------------------------------------------------------------ sequence classification */

/* The squashing of the first-token projection: BERT's pooler (tanh) or
 * DistilBERT's pre_classifier (ReLU). */
typedef enum nlp_pool_act {
    NLP_POOL_TANH = 0,
    NLP_POOL_RELU = 1
} nlp_pool_act;

/* Parameters of a sequence-classification head, or their gradients. */
typedef struct nlp_seqcls_params {
    float *pool_w, *pool_b;     /* [H][H], [H] BERT pooler / DistilBERT pre_classifier */
    float *cls_w, *cls_b;       /* [C][H], [C] classifier */
} nlp_seqcls_params;

typedef struct nlp_seqcls_acts {
    float *first;               /* [B][H] hidden state of each row's first token */
    float *act;                 /* [B][H] tanh / ReLU of the projection */
    float *pooled;              /* [B][H] after dropout (classifier input) */
    float *logits;              /* [B][C] */
} nlp_seqcls_acts;

/* logits[B][C] = dropout(pact(h0 Wp^T + bp)) Wc^T + bc, h0 the packed row
 * offs[b] of hidden[N][H].  Dropout (drop may be NULL) uses stream,
 * index b * H + j. */
void nlp_seqcls_forward_train(nlp_pool *pool, const nlp_seqcls_params *w,
                              nlp_pool_act pact, const float *hidden,
                              const size_t *offs, size_t B, size_t H,
                              size_t C, const nlp_dropout *drop,
                              uint64_t stream, const nlp_seqcls_acts *a);

/* Backward from dlogits[B][C]: accumulates into g, ADDS the gradient of
 * each first-token row into dhidden[N][H] (rows offs[b]); scratch[2][B][H],
 * wscratch nlp_linear_backward_weight_scratch_floats(B, H) floats. */
void nlp_seqcls_backward(nlp_pool *pool, const nlp_seqcls_params *w,
                         const nlp_seqcls_params *g, nlp_pool_act pact,
                         const nlp_seqcls_acts *a, const float *dlogits,
                         float *dhidden, const size_t *offs, size_t B,
                         size_t H, size_t C, const nlp_dropout *drop,
                         uint64_t stream, float *scratch, float *wscratch);

/* ------------------------------------------------------------ per-token heads */

/* Token classification and question answering (C = 2: start, end) are
 * one linear map of every row: logits[N][C] = dropout(hidden) Wc^T + bc.
 * in[N][H] receives the (dropped-out) input the backward pass needs.
 * Dropout (may be NULL) uses stream, index n * H + j. */
void nlp_token_head_forward_train(nlp_pool *pool, const float *W,
                                  const float *bias, const float *hidden,
                                  size_t N, size_t H, size_t C,
                                  const nlp_dropout *drop, uint64_t stream,
                                  float *in, float *logits);

/* Backward from dlogits[N][C]: dW[C][H], db[C] accumulate; dhidden[N][H]
 * is overwritten; wscratch holds
 * nlp_linear_backward_weight_scratch_floats(N, H) floats. */
void nlp_token_head_backward(nlp_pool *pool, const float *W, float *dW,
                             float *db, const float *in,
                             const float *dlogits, float *dhidden, size_t N,
                             size_t H, size_t C, const nlp_dropout *drop,
                             uint64_t stream, float *wscratch);

#endif /* NLP_HEADS_H */
