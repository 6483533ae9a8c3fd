/*
 * nlp/encoder.h - the encoder forward pass and the building blocks of heads.
 *
 * An nlp_ctx holds everything one forward pass writes: the activations of
 * every layer, carved from one arena sized for the largest batch seen so far
 * (it grows on demand and is then reused, so steady-state calls allocate
 * nothing), and a thread pool.  A context is used by one thread at a time;
 * several contexts may share one model.
 *
 * Shapes in comments: B batch, T sequence length, H hidden size, V vocab.
 */
#ifndef NLP_ENCODER_H
#define NLP_ENCODER_H

#include "nlp/export.h"
#include <stddef.h>
#include <stdint.h>
#include "nlp/status.h"
#include "nlp/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nlp_ctx nlp_ctx;

/* A padded batch of token ids.  Row b holds lengths[b] real tokens followed
 * by padding; padded positions are masked out of attention and their
 * outputs are unspecified. */
typedef struct nlp_batch {
    size_t batch;              /* B */
    size_t seq;                /* T, the padded length */
    const int32_t *ids;        /* [B][T] */
    const int32_t *type_ids;   /* [B][T], or NULL for all zeros */
    const int32_t *lengths;    /* [B] real tokens per row (<= T) */
} nlp_batch;

/* Create a context for model with n_threads worker threads (0 = the
 * number of online cores, or NLP_NUM_THREADS when set).  The model must
 * outlive the context.  Free with nlp_ctx_free(). */
NLP_API nlp_status nlp_ctx_create(const nlp_model *model, int n_threads,
                          nlp_ctx **out, nlp_error *err);
NLP_API void nlp_ctx_free(nlp_ctx *ctx);

/* Threads the context actually uses. */
NLP_API int nlp_ctx_threads(const nlp_ctx *ctx);

/* Run embeddings and every encoder layer.  On success *hidden points at
 * the final hidden states [B][T][H], owned by ctx and valid until the next
 * call on ctx.  T must not exceed nlp_model_max_tokens(). */
NLP_API nlp_status nlp_encoder_forward(nlp_ctx *ctx, const nlp_batch *batch,
                               const float **hidden, nlp_error *err);

/* BERT pooler: out[b] = tanh(W h[b][0] + bias) for each of the B rows of
 * hidden [B][T][H]; out is [B][H], caller-allocated.  NLP_ERR_NOT_FOUND
 * when the checkpoint has no pooler. */
NLP_API nlp_status nlp_pooler_forward(nlp_ctx *ctx, const float *hidden, size_t B,
                              size_t T, float *out, nlp_error *err);

/* Masked-LM head over n selected rows of hidden states: rows [n][H] in,
 * logits [n][V] out (caller-allocated).  Uses the decoder weight when the
 * checkpoint has one, else the tied word embeddings.  The same as
 * nlp_head_forward(ctx, NLP_HEAD_MLM, rows, n, H, logits, err). */
NLP_API nlp_status nlp_mlm_head_forward(nlp_ctx *ctx, const float *rows, size_t n,
                                float *logits, nlp_error *err);

/* The checkpoint's task head (nlp_model_head says which it has and how
 * many outputs each gives) over n rows of hidden states, row i at
 * rows + i * stride (stride >= H): out[n][C] (caller-allocated; C the
 * vocabulary size, label count or 2).  For NLP_HEAD_SEQ_CLS pass the
 * sequences' hidden states [B][T][H] with stride T * H: the head reads the
 * first token of each ([CLS] / <s>), or, when the config's
 * classifier_pooling is mean (ModernBERT), the mean of each row's real
 * tokens: then rows must be the hidden states of ctx's last
 * nlp_encoder_forward, n its B (else NLP_ERR_INVALID_ARG).  The head's
 * layers are the family's (BERT pooler + classifier, DistilBERT
 * pre_classifier + ReLU, RoBERTa / ELECTRA classifier.dense + tanh / GELU
 * + out_proj, ModernBERT head + classifier, ...).  A scratch of
 * n rows is kept in ctx and regrown only when n grows.
 * NLP_ERR_NOT_FOUND when the checkpoint lacks the head. */
NLP_API nlp_status nlp_head_forward(nlp_ctx *ctx, nlp_head head, const float *rows, size_t n,
                                    size_t stride, float *out, nlp_error *err);

/* y[n][out] = x[n][in] . W[out][in]^T + bias[out] (bias may be NULL), on
 * the context's threads.  The layout is PyTorch's nn.Linear. */
NLP_API void nlp_linear(nlp_ctx *ctx, const float *x, size_t n, size_t in,
                const float *W, const float *bias, size_t out, float *y);

/* In place: softmax over each of n rows of length d (max subtracted, so
 * it is numerically stable); logistic sigmoid over count values. */
NLP_API void nlp_softmax(float *x, size_t n, size_t d);
NLP_API void nlp_sigmoid(float *x, size_t count);

/* How a context stores the encoder layers' dense weights. */
typedef enum nlp_weight_type {
    NLP_WEIGHTS_FP32 = 0,  /* as in the checkpoint (packed for the kernels) */
    NLP_WEIGHTS_INT8 = 1,  /* int8 per output channel; activations quantised
                            per row at run time (dynamic quantisation) */
    NLP_WEIGHTS_BF16 = 2   /* bfloat16 weights, activations rounded to bf16,
                            fp32 accumulation */
} nlp_weight_type;

/* As nlp_ctx_create, with the dense weights of every encoder layer
 * converted to dtype once, here.  Embeddings, LayerNorms and heads stay
 * fp32.  nlp_ctx_create(m, n, out, err) is
 * nlp_ctx_create_dtype(m, n, NLP_WEIGHTS_FP32, out, err). */
NLP_API nlp_status nlp_ctx_create_dtype(const nlp_model *model, int n_threads,
                                nlp_weight_type dtype, nlp_ctx **out,
                                nlp_error *err);

/* The weight type for a context on model when the caller has no
 * preference: NLP_WEIGHTS_INT8 when the checkpoint stores its weights as
 * int8 (written by `nlp quantize`), else NLP_WEIGHTS_FP32 (as Hugging
 * Face computes, whatever the stored float type). */
NLP_API nlp_weight_type nlp_model_default_weight_type(const nlp_model *model);

/* "fp32", "int8" or "bf16" to *out; NLP_ERR_INVALID_ARG otherwise. */
NLP_API nlp_status nlp_weight_type_parse(const char *name, nlp_weight_type *out, nlp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NLP_ENCODER_H */
