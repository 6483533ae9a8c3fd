/*
 * nlp/train.h - fine-tuning and masked-LM training of BERT-family
 * encoders.
 *
 * An nlp_trainer holds a writable fp32 copy of a model's parameters
 * (encoder plus one task head), their gradients and the AdamW moments,
 * all carved from ONE allocation sized at creation, and the activations
 * every layer keeps for the backward pass, carved from a second one sized
 * for the largest batch given at creation.  Steady-state steps allocate
 * nothing.  The math is Hugging Face's: post-LayerNorm encoder, dropout
 * at the same places, losses as their *For* classes compute them, and
 * torch.optim.AdamW with the Trainer's linear warm-up / linear decay
 * schedule, global-norm clipping and gradient accumulation.  Dropout
 * draws from a counter-based generator keyed by the seed, so a run is
 * reproducible bit for bit for a given thread count.
 *
 * Shapes in comments: B batch, T sequence length, C labels.
 */
#ifndef NLP_TRAIN_H
#define NLP_TRAIN_H

#include "nlp/export.h"

#include <stddef.h>
#include <stdint.h>
#include "nlp/encoder.h"
#include "nlp/model.h"
#include "nlp/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The label of a position or row that takes no part in a loss (Hugging
 * Face's ignore index). */
#define NLP_IGNORE_INDEX (-100)

/* The head trained on top of the encoder (Hugging Face class). */
typedef enum nlp_train_task {
    NLP_TRAIN_MLM = 0,         /* BertForMaskedLM / DistilBertForMaskedLM */
    NLP_TRAIN_SEQ_CLS = 1,     /* *ForSequenceClassification */
    NLP_TRAIN_TOKEN_CLS = 2,   /* *ForTokenClassification */
    NLP_TRAIN_QA = 3           /* *ForQuestionAnswering */
} nlp_train_task;

typedef struct nlp_train_options {
    nlp_train_task task;
    int num_labels;            /* SEQ_CLS / TOKEN_CLS: 0 = the config's */
    int multi_label;           /* SEQ_CLS: binary cross-entropy per label */
    size_t max_batch;          /* largest B a batch may have */
    size_t max_seq;            /* largest T (0 = max_position_embeddings) */
    size_t max_masked;         /* MLM: most labelled positions per batch
                                  (0 = max_batch * max_seq) */
    double lr;                 /* peak learning rate (5e-5) */
    double weight_decay;       /* decoupled, not on biases and LayerNorm
                                  weights (0.01) */
    double adam_beta1, adam_beta2, adam_eps;   /* 0.9, 0.999, 1e-8 */
    double max_grad_norm;      /* global-norm clipping (1.0); <= 0: none */
    int warmup_steps;          /* linear warm-up from 0 (0) */
    int total_steps;           /* linear decay to 0 at this step; 0: none */
    int grad_accum;            /* micro-batches per optimizer step (1) */
    /* Dropout probabilities; negative (the default) takes the value
     * config.json gives, as Hugging Face does: BERT hidden_dropout_prob,
     * attention_probs_dropout_prob, classifier_dropout (or the hidden
     * one; none before BERT's span head); DistilBERT dropout,
     * attention_dropout, seq_classif_dropout / dropout / qa_dropout. */
    float hidden_dropout;      /* embeddings and layer outputs */
    float attention_dropout;   /* attention probabilities */
    float classifier_dropout;  /* before the classifier (not MLM) */
    uint64_t seed;             /* dropout and new head weights (42) */
    int threads;               /* 0: as nlp_ctx_create */
    /* SEQ_CLS / TOKEN_CLS: the label names nlp_trainer_save writes as
     * id2label (num_labels of them; borrowed, they must outlive the
     * trainer); NULL keeps the model's names when the count agrees, else
     * LABEL_0 ... */
    const char *const *label_names;
} nlp_train_options;

/* Fill opt with the defaults above (task NLP_TRAIN_MLM, max_batch 8,
 * max_seq 0). */
NLP_API void nlp_train_options_init(nlp_train_options *opt);

/* One micro-batch with its labels.  Padded positions never count in a
 * loss (their labels are ignored), except that question answering, as
 * Hugging Face does, scores every position of the padded length. */
typedef struct nlp_train_batch {
    nlp_batch in;              /* ids, type ids, lengths */
    const int32_t *labels;     /* MLM, TOKEN_CLS: [B][T], -100 = ignored;
                                  SEQ_CLS single-label: [B] */
    const float *targets;      /* SEQ_CLS multi-label: [B][C] in [0, 1];
                                  SEQ_CLS with one label (regression): [B] */
    const int32_t *start_positions;   /* QA: [B] */
    const int32_t *end_positions;     /* QA: [B] */
} nlp_train_batch;

typedef struct nlp_trainer nlp_trainer;

/* Create a trainer for model: copies its weights (a head the checkpoint
 * lacks starts as Hugging Face initialises it: normal(0, 0.02) weights
 * drawn from the seed, zero biases).  DistilBERT's sinusoidal position
 * embeddings (sinusoidal_pos_embds) stay frozen, as Hugging Face keeps
 * them.  The model must outlive the trainer.
 * Free with nlp_trainer_free.  Returns NLP_OK, NLP_ERR_INVALID_ARG for bad
 * options, NLP_ERR_NOMEM. */
NLP_API nlp_status nlp_trainer_create(const nlp_model *model,
                              const nlp_train_options *opt,
                              nlp_trainer **out, nlp_error *err);
NLP_API void nlp_trainer_free(nlp_trainer *tr);

/* Forward and backward pass over one micro-batch: adds the gradient of
 * loss / grad_accum to the accumulated gradients and stores the batch's
 * (unscaled) loss in *loss.  NLP_ERR_INPUT for a batch that does not fit
 * the trainer or the model, or labels out of range. */
NLP_API nlp_status nlp_trainer_accumulate(nlp_trainer *tr,
                                  const nlp_train_batch *batch,
                                  float *loss, nlp_error *err);

/* One optimizer step over the accumulated gradients: clip to
 * max_grad_norm, AdamW at the scheduled learning rate, then zero the
 * gradients.  *grad_norm (may be NULL) receives the norm before
 * clipping.  A norm that is not finite is NLP_ERR_INPUT and leaves the
 * parameters as they were. */
NLP_API nlp_status nlp_trainer_step(nlp_trainer *tr, float *grad_norm,
                            nlp_error *err);

/* Forward pass only, without dropout, for evaluation: the head's logits
 * go to out (out_count floats at least nlp_trainer_predict_size) and the
 * loss to *loss (may be NULL; 0 when the batch has no labels):
 *   MLM        [M][V] at the M labelled positions, row by row (labels
 *              are required: they say where)
 *   SEQ_CLS    [B][C]
 *   TOKEN_CLS  [B][T][C], padded positions 0
 *   QA         [2][B][T]: start logits, then end logits
 * Gradients and counters are untouched.  Errors as
 * nlp_trainer_accumulate, and NLP_ERR_INVALID_ARG when out is too small. */
NLP_API nlp_status nlp_trainer_predict(nlp_trainer *tr, const nlp_train_batch *batch,
                                       float *out, size_t out_count, float *loss,
                                       nlp_error *err);
NLP_API size_t nlp_trainer_predict_size(const nlp_trainer *tr, const nlp_train_batch *batch);

/* Optimizer steps taken so far, and the learning rate the next step
 * uses. */
NLP_API int nlp_trainer_steps(const nlp_trainer *tr);
NLP_API double nlp_trainer_lr(const nlp_trainer *tr);

/* Parameter tensors, by index in [0, nlp_trainer_num_tensors): the
 * Hugging Face name (owned by the trainer), and pointers to the values
 * and the accumulated gradient (owned by the trainer, count floats each,
 * row-major as Hugging Face stores them; shape[] receives up to 2
 * dimensions, ndim the number).  Writing the values is allowed between
 * steps.  NLP_ERR_NOT_FOUND for an index out of range. */
NLP_API size_t nlp_trainer_num_tensors(const nlp_trainer *tr);
NLP_API nlp_status nlp_trainer_tensor(const nlp_trainer *tr, size_t index,
                              const char **name, float **values,
                              float **grad, int *ndim, int64_t shape[2],
                              nlp_error *err);

/* Write the trainer's parameters as a Hugging Face checkpoint in dir
 * (created if missing; existing files of the same names are replaced):
 *   model.safetensors  every parameter under the names of the *For* class
 *                      (BertForMaskedLM, DistilBertForSequenceClassification,
 *                      ...), F32; the decoder tied to the word embeddings is
 *                      not stored, as save_pretrained does not store it
 *   config.json        the model's, with architectures, id2label /
 *                      label2id (the model's names when the label count
 *                      agrees, else LABEL_0 ...) and, for sequence
 *                      classification, problem_type
 *   and the model's tokenizer files (vocab.txt, tokenizer.json,
 *   tokenizer_config.json, special_tokens_map.json) where it has them.
 * Returns NLP_OK, or NLP_ERR_IO / NLP_ERR_NOSPACE naming the file,
 * NLP_ERR_FORMAT when the model's config.json cannot be read back,
 * NLP_ERR_NOMEM. */
NLP_API nlp_status nlp_trainer_save(const nlp_trainer *tr, const char *dir,
                            nlp_error *err);

/* Write the optimizer state (AdamW moments, step and micro-batch
 * counters) to the safetensors file path (written to a temporary file and
 * renamed), and read it back into a trainer made from the checkpoint
 * saved at the same step: together they continue a run exactly.  Load
 * errors: NLP_ERR_IO, NLP_ERR_FORMAT (not a trainer state, a tensor
 * missing), NLP_ERR_SHAPE (another model's state). */
NLP_API nlp_status nlp_trainer_save_state(nlp_trainer *tr, const char *path, nlp_error *err);
NLP_API nlp_status nlp_trainer_load_state(nlp_trainer *tr, const char *path, nlp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NLP_TRAIN_H */
