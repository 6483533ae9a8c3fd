/*
 * nlp/train_run.h - whole training and evaluation runs, as `nlp train`
 * and `nlp eval` do them: data files in, a Hugging Face checkpoint folder
 * out, with periodic checkpoints that a killed run resumes from exactly,
 * evaluation during training with the best model kept, a JSON Lines log
 * and progress callbacks.
 *
 * The output folder of a run:
 *   OUT/                  the final model (config.json, model.safetensors,
 *                         tokenizer files)
 *   OUT/best/             the best model by the task's metric on the eval
 *                         data (with eval data)
 *   OUT/checkpoint-STEP/  the latest checkpoint: the model, the optimizer
 *                         state (optimizer.safetensors) and where the run
 *                         was (trainer_state.json); --resume continues it
 *   OUT/train_log.jsonl   one JSON object per logged step and evaluation
 * Every file is written under a temporary name and renamed, so a crash
 * never leaves a partial file under a final name.
 */
#ifndef NLP_TRAIN_RUN_H
#define NLP_TRAIN_RUN_H

#include "nlp/export.h"

#include <stddef.h>
#include <stdint.h>
#include "nlp/dataset.h"
#include "nlp/status.h"
#include "nlp/train.h"
#include "nlp/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a progress callback is told. */
typedef enum nlp_train_event {
    NLP_TRAIN_EVENT_STEP = 0,   /* an optimizer step was logged */
    NLP_TRAIN_EVENT_EVAL = 1,   /* an evaluation finished (report set) */
    NLP_TRAIN_EVENT_SAVE = 2,   /* a checkpoint was written (path set) */
    NLP_TRAIN_EVENT_NOTE = 3    /* a message (message set): data warnings,
                                   resuming, stopping */
} nlp_train_event;

typedef struct nlp_train_progress {
    nlp_train_event event;
    int step, total_steps;      /* optimizer steps done / planned */
    double epoch;               /* fractional epochs done */
    double loss;                /* mean loss of the steps since the last log */
    double lr, grad_norm;
    double tokens_per_s;        /* real (non-padding) tokens trained per second */
    double elapsed_s, eta_s;
    const nlp_value *report;    /* EVAL: the evaluation report */
    const char *path;           /* SAVE */
    const char *message;        /* NOTE */
} nlp_train_progress;

typedef void (*nlp_train_progress_fn)(void *user, const nlp_train_progress *p);

/* A model shape for masked-LM training from scratch: a BERT encoder with
 * random weights (weights of standard deviation 0.02 as Hugging Face
 * initialises them, zero biases, LayerNorm 1 and 0) and the WordPiece
 * vocabulary in vocab. */
typedef struct nlp_train_shape {
    const char *vocab;          /* vocab.txt */
    int cased;                  /* keep case (default: lower-case) */
    int layers, hidden, heads, intermediate, max_position;
} nlp_train_shape;

typedef struct nlp_train_run_opts {
    nlp_train_task task;
    const char *out;            /* output folder (required) */
    const char *init;           /* start from this checkpoint folder, or */
    const nlp_train_shape *shape;   /* or MLM from scratch (above) */
    nlp_dataset_opts data;      /* training data; data.labels is set by the run */
    const char *eval_path;      /* evaluation data in the same format, or NULL */
    int eval_every;             /* steps between evaluations; 0: each epoch */
    int save_every;             /* steps between checkpoints; 0: each epoch */
    int log_every;              /* steps between log lines (10) */
    double epochs;              /* 3 (used when max_steps is 0) */
    int max_steps;              /* stop after this many optimizer steps */
    size_t batch_size;          /* sequences per micro-batch (16) */
    nlp_train_options train;    /* lr, schedule, dropout, seed, threads ...;
                                   task, num_labels, max_* set by the run */
    double warmup_ratio;        /* warm-up as a share of the steps, when
                                   train.warmup_steps is 0 */
    int resume;                 /* continue OUT/checkpoint-* */
    volatile int *stop;         /* set to stop after the current step, with
                                   a checkpoint */
    int stop_at;                /* > 0: stop after this step as if stopped
                                   (checkpoint saved; the schedule is still
                                   the one of max_steps / epochs) */
    nlp_train_progress_fn progress;
    void *user;
} nlp_train_run_opts;

/* Fill o with the defaults above for task and out. */
NLP_API void nlp_train_run_opts_init(nlp_train_run_opts *o, nlp_train_task task,
                                     const char *out);

/* Run the training o describes.  Returns NLP_OK when the run finished or
 * was stopped (*o->stop) after saving; NLP_ERR_USAGE for options that do
 * not fit; data errors as nlp_dataset_load; NLP_ERR_INPUT when the loss
 * or the gradient is not finite (the message names the step; the last
 * checkpoint is left as it was); NLP_ERR_IO / NLP_ERR_NOSPACE writing. */
NLP_API nlp_status nlp_train_run(const nlp_train_run_opts *o, nlp_error *err);

typedef struct nlp_eval_opts {
    nlp_train_task task;
    const char *model;          /* checkpoint folder */
    nlp_dataset_opts data;
    size_t batch_size;          /* 32 */
    int threads;                /* 0: all cores */
    uint64_t seed;              /* MLM masking (42) */
    size_t pppl_limit;          /* MLM: sequences scored for pseudo-perplexity
                                   (one forward pass per token; 0: none;
                                   100 by nlp_eval_opts_init) */
    size_t max_answer_len;      /* QA: longest answer in tokens (30) */
    const char *zero_shot_labels;   /* SEQ_CLS: "a,b,c": zero-shot
                                   classification as the classify task runs
                                   it on an NLI model; each row's label must
                                   be one of these names */
    const char *zero_shot_template; /* its hypothesis ("{}": the label);
                                   NULL: the classify task's default */
} nlp_eval_opts;

NLP_API void nlp_eval_opts_init(nlp_eval_opts *o, nlp_train_task task, const char *model,
                                const char *path);

/* Evaluate the model on o->data.  *report (freed with nlp_value_free) is
 * an object: "task", "examples", and the metrics:
 *   SEQ_CLS   accuracy, macro_f1, macro_precision, macro_recall, loss,
 *             per_label {LABEL: {precision, recall, f1, support}}
 *             (multi-label: subset_accuracy, micro_f1, macro_f1)
 *   TOKEN_CLS precision, recall, f1, accuracy (entity level, IOB2 chunks as
 *             seqeval and conlleval count them), per_type {TYPE: {...}}
 *   QA        exact_match, f1 (SQuAD v1.1's evaluation)
 *   MLM       top1_accuracy, top5_accuracy, loss, perplexity (masked
 *             tokens), pseudo_perplexity (over pppl_limit sequences)
 * Zero-shot (zero_shot_labels set) reports as SEQ_CLS, without loss: each
 * text goes through the classify pipeline with those candidate labels and
 * its top label is the prediction.
 * Values are fractions (0..1), as Hugging Face's evaluate reports them,
 * except SQuAD's exact_match and f1, which are percentages as its script
 * prints them. */
NLP_API nlp_status nlp_eval_run(const nlp_eval_opts *o, nlp_value **report, nlp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NLP_TRAIN_RUN_H */
