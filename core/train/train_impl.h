/*
 * train_impl.h - what the rest of libnlp may ask a trainer beyond
 * nlp/train.h (private to libnlp).
 */
#ifndef NLP_TRAIN_IMPL_H
#define NLP_TRAIN_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "nlp/train.h"

/* The model, the options and the label count the trainer was created
 * with (owned by the trainer / the caller of nlp_trainer_create). */
const nlp_model *nlp_trainer_model(const nlp_trainer *tr);
const nlp_train_options *nlp_trainer_options(const nlp_trainer *tr);
size_t nlp_trainer_num_labels(const nlp_trainer *tr);

/* The sequence-classification loss: 0 cross-entropy, 1 binary
 * cross-entropy per label (multi-label), 2 mean squared error (one
 * label, regression). */
int nlp_trainer_loss_kind(const nlp_trainer *tr);

/* Tensor index's AdamW moments (count floats each, as its values) and
 * the counters an exact resume restores: optimizer steps and
 * micro-batches (the dropout streams).  All owned by the trainer. */
void nlp_trainer_state(nlp_trainer *tr, size_t index, float **m, float **v, int **step,
                       uint64_t **micro);

/* Drop the accumulated gradients. */
void nlp_trainer_zero_grad(nlp_trainer *tr);

/* Evaluate tr (made for o->task) on ds: the report of nlp_eval_run. */
struct nlp_dataset;
struct nlp_eval_opts;
struct nlp_value;
nlp_status nlp_eval_with(nlp_trainer *tr, const struct nlp_dataset *ds,
                         const struct nlp_eval_opts *o, struct nlp_value **report,
                         nlp_error *err);

/* Fit the data options to the model: the default max_len (128, QA 384)
 * cut to its positions; a longer max_len given is NLP_ERR_USAGE. */
struct nlp_dataset_opts;
struct nlp_config;
nlp_status nlp_dataset_fit_model(struct nlp_dataset_opts *d, const struct nlp_config *cfg,
                                 nlp_error *err);

/* The report key a run keeps its best model by, and whether higher is
 * better. */
const char *nlp_eval_metric(nlp_train_task task, int *higher_better);

/* Set accuracy (multi: subset_accuracy, micro_f1), macro_f1,
 * macro_precision, macro_recall and per_label {names[c]: scores} of cr in
 * the report object rep. */
struct nlp_metrics_class_report;
void nlp_eval_class_report(struct nlp_value *rep, const struct nlp_metrics_class_report *cr,
                           const char *const *names, int multi);

/* nlp_eval_run for zero-shot classification (o->zero_shot_labels set). */
nlp_status nlp_eval_zero_shot(const struct nlp_eval_opts *o, struct nlp_value **report,
                              nlp_error *err);

#endif /* NLP_TRAIN_IMPL_H */
