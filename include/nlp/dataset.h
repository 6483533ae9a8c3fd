/*
 * nlp/dataset.h - labelled data for training and evaluation, read from
 * files and tokenized once, then served as padded micro-batches.
 *
 * Formats, by task (the format follows the file name unless given):
 *   MLM        a text file with one paragraph per line, or CSV / TSV /
 *              JSON Lines with a text column; the token stream of all
 *              paragraphs (each ended by [SEP]) is cut into sequences of
 *              [CLS] + max_len - 2 tokens + [SEP]
 *   SEQ_CLS    CSV / TSV / JSON Lines: a text column, an optional second
 *              text column (sentence pairs), a label column (multi-label:
 *              a JSON array of names, or names separated by commas)
 *   TOKEN_CLS  CoNLL (a token and its tag, the last field, per line; a
 *              blank line between sentences; -DOCSTART- lines skipped) or
 *              JSON Lines {"tokens": [...], "tags": [...]}; the tag goes
 *              on the first sub-token of a word and -100 on the others
 *              (or on every sub-token with label_all_subtokens)
 *   QA         SQuAD v1.1 / v2.0 JSON; question + context windows with
 *              doc_stride tokens of overlap, as the question-answering
 *              pipeline builds them; an answer outside a window (or no
 *              answer) points at [CLS]
 * A malformed row, sentence or question is reported through the warning
 * callback as "FILE:LINE: why" and skipped, or stops the load with
 * opts.strict.  Labels come from the data (sorted by name, as
 * Hugging Face's example scripts sort them) unless a fixed label set is
 * given (a model's id2label): then a label is one of its names or an id
 * written as a decimal integer ("0", "1"), anything else an error naming
 * it.
 */
#ifndef NLP_DATASET_H
#define NLP_DATASET_H

#include "nlp/export.h"

#include <stddef.h>
#include <stdint.h>
#include "nlp/status.h"
#include "nlp/tokenizer.h"
#include "nlp/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A message about the data (one line, no newline), valid during the call. */
typedef void (*nlp_data_warn_fn)(void *user, const char *msg);

typedef struct nlp_dataset_opts {
    nlp_train_task task;
    const char *path;
    const char *format;        /* NULL: from the name; else "text", "csv",
                                  "tsv", "jsonl", "conll", "squad" */
    const char *text_column;   /* NULL: "text", else "sentence", else the
                                  first column (MLM, SEQ_CLS) */
    const char *text_pair_column;   /* SEQ_CLS pairs; NULL: single texts */
    const char *label_column;  /* NULL: "label" */
    int multi_label;           /* SEQ_CLS: several labels per row */
    size_t max_len;            /* tokens per sequence with the special
                                  tokens; 0: 128 (QA 384) */
    size_t doc_stride;         /* QA: overlap of windows; 0: 128 */
    double mask_prob;          /* MLM: share of tokens masked; 0: 0.15 */
    int whole_word;            /* MLM: mask whole words */
    int label_all_subtokens;   /* TOKEN_CLS */
    int strict;                /* a bad row stops the load */
    size_t limit;              /* read at most this many rows / sentences /
                                  questions; 0: all */
    const char *const *labels; /* a fixed label set (id order), or NULL */
    size_t n_labels;
    const char *rename_labels; /* "OLD=NEW,...": names for labels taken from
                                  the data, after their ids are fixed (so
                                  "0=negative,1=positive" keeps 0 and 1) */
    nlp_data_warn_fn warn;     /* NULL: messages are dropped */
    void *warn_user;
} nlp_dataset_opts;

/* Defaults: every field zero / NULL. */
NLP_API void nlp_dataset_opts_init(nlp_dataset_opts *o, nlp_train_task task,
                                   const char *path);

typedef struct nlp_dataset nlp_dataset;

/* Read and tokenize o->path with tok (which must outlive the dataset).
 * *out is freed with nlp_dataset_free.  Errors: NLP_ERR_IO (the file),
 * NLP_ERR_NOT_FOUND (a column, listing the columns), NLP_ERR_FORMAT /
 * NLP_ERR_UTF8 with opts.strict (the first bad row, "FILE:LINE: why"),
 * NLP_ERR_INPUT (a label outside the fixed set, or no usable example),
 * NLP_ERR_USAGE (an option the task does not take), NLP_ERR_NOMEM. */
NLP_API nlp_status nlp_dataset_load(const nlp_dataset_opts *o, const nlp_tokenizer *tok,
                                    nlp_dataset **out, nlp_error *err);
NLP_API void nlp_dataset_free(nlp_dataset *ds);

/* Counts: sequences (windows for QA) a batch is drawn from; source
 * examples (rows, sentences, questions; MLM: paragraphs); bad rows
 * skipped; tokens in all sequences. */
NLP_API size_t nlp_dataset_size(const nlp_dataset *ds);
NLP_API size_t nlp_dataset_examples(const nlp_dataset *ds);
NLP_API size_t nlp_dataset_skipped(const nlp_dataset *ds);
NLP_API size_t nlp_dataset_tokens(const nlp_dataset *ds);

/* Labels (id order; the strings are owned by the dataset): NULL for an
 * index out of range, 0 labels for MLM and QA. */
NLP_API size_t nlp_dataset_num_labels(const nlp_dataset *ds);
NLP_API const char *nlp_dataset_label(const nlp_dataset *ds, size_t i);

/* The longest sequence, in tokens. */
NLP_API size_t nlp_dataset_max_seq(const nlp_dataset *ds);

/* Storage for one batch of up to max_batch sequences; create with
 * nlp_data_batch_create, free with nlp_data_batch_free. */
typedef struct nlp_data_batch nlp_data_batch;
NLP_API nlp_status nlp_data_batch_create(const nlp_dataset *ds, size_t max_batch,
                                         nlp_data_batch **out, nlp_error *err);
NLP_API void nlp_data_batch_free(nlp_data_batch *b);

/* Fill b with the sequences idx[0..n) (n <= its max_batch), padded to the
 * longest, and point *out at it (valid until b is
 * filled again).  MLM: positions are masked afresh from (seed, draw), so
 * the same arguments always give the same batch.  NLP_ERR_INVALID_ARG for
 * an index out of range or too many sequences. */
NLP_API nlp_status nlp_dataset_batch(const nlp_dataset *ds, const size_t *idx, size_t n,
                                     uint64_t seed, uint64_t draw, nlp_data_batch *b,
                                     const nlp_train_batch **out, nlp_error *err);

/* The most labelled positions an MLM batch of max_batch sequences can
 * hold (for nlp_train_options.max_masked). */
NLP_API size_t nlp_dataset_max_masked(const nlp_dataset *ds, size_t max_batch);

#ifdef __cplusplus
}
#endif
#endif /* NLP_DATASET_H */
