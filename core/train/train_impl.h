/*
 * train_impl.h - what the rest of libnlp may ask a trainer beyond
 * nlp/train.h (private to libnlp).
 */
#ifndef NLP_TRAIN_IMPL_H
#define NLP_TRAIN_IMPL_H

#include <stddef.h>

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

#endif /* NLP_TRAIN_IMPL_H */
