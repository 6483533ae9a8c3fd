/*
 * dataset_impl.h - the inside of an nlp_dataset, shared by its readers
 * (data.c, data_ner.c, data_qa.c), the batcher and the evaluator.
 * Private to libnlp.
 */
#ifndef NLP_DATASET_IMPL_H
#define NLP_DATASET_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "nlp/dataset.h"

/* One sequence a batch row is made of. */
typedef struct ds_seq {
    size_t off;                 /* first token in ds->ids */
    uint32_t len;               /* tokens, specials included */
    uint32_t example;           /* source example (row, sentence, question) */
    int32_t label;              /* SEQ_CLS: label id; QA: start position */
    int32_t label2;             /* QA: end position */
    uint32_t lab_off, lab_n;    /* SEQ_CLS multi-label: ids in ds->mlab */
} ds_seq;

/* A question of a QA dataset (strings in ds->strs). */
typedef struct ds_question {
    size_t id, context;         /* offsets of NUL-terminated strings */
    uint32_t ans_off, ans_n;    /* answer texts: offsets in ds->answers */
} ds_question;

/* A growable array of elem-byte items. */
typedef struct ds_vec {
    void *p;
    size_t n, cap, elem;
} ds_vec;

struct nlp_dataset {
    nlp_dataset_opts o;         /* strings not kept */
    nlp_train_task task;
    const nlp_tokenizer *tok;
    size_t max_len, V;
    int32_t cls, sep, pad, mask;
    uint8_t *cont;              /* [V] MLM: 1 when a token continues a word ("##") */
    uint8_t *special;           /* [V] 1 for special tokens (never masked) */
    ds_vec ids;                 /* int32 [tokens] */
    ds_vec types;               /* int32 [tokens] (pairs, QA) or empty */
    ds_vec tlab;                /* int32 [tokens] TOKEN_CLS labels, -100 none */
    ds_vec word;                /* int32 [tokens] TOKEN_CLS: word of a first
                                   sub-token, else -1 */
    ds_vec cstart, cend;        /* int32 [tokens] QA: byte offsets into the
                                   context, -1 outside it */
    ds_vec seqs;                /* ds_seq */
    ds_vec mlab;                /* int32 multi-label ids */
    ds_vec gold;                /* int32 TOKEN_CLS: every word's tag, by sentence */
    ds_vec gold_off;            /* size_t [examples + 1] into gold */
    ds_vec questions;           /* ds_question */
    ds_vec answers;             /* size_t string offsets */
    ds_vec strs;                /* char: NUL-terminated strings */
    char **labels;              /* [n_labels] */
    size_t n_labels, cap_labels;
    int32_t *label_slots;       /* [label_mask + 1] label id or -1: a hash
                                   index of labels (NULL: to be built) */
    size_t label_mask;
    int fixed_labels;           /* labels came from the options */
    size_t n_examples, n_skipped, n_truncated;
    size_t max_seq;
};

/* Append one item (copied from item, or zeroed when item is NULL);
 * returns a pointer to it, or NULL when out of memory. */
void *ds_push(ds_vec *v, const void *item);
/* Append n items; NULL when out of memory. */
void *ds_push_n(ds_vec *v, const void *items, size_t n);
void ds_vec_free(ds_vec *v);
#define DS_AT(v, type, i) (((type *)(v).p)[i])

/* Append a string (len bytes) with its NUL to ds->strs; *off receives
 * its offset.  NLP_ERR_NOMEM. */
nlp_status ds_add_string(nlp_dataset *ds, const char *s, size_t len, size_t *off,
                         nlp_error *err);
#define DS_STR(ds, off) ((const char *)(ds)->strs.p + (off))

/* The id of label name (len bytes): with a fixed set, -1 when absent;
 * else the name is added when new.  -2 when out of memory. */
int32_t ds_label_id(nlp_dataset *ds, const char *name, size_t len);

/* After reading: sort data-derived labels by name and renumber every
 * label stored so far (seqs, mlab, tlab, gold).  NLP_ERR_NOMEM. */
nlp_status ds_sort_labels(nlp_dataset *ds, nlp_error *err);

/* Report a bad row "path:line: why" through the warning callback, count
 * it, and return NLP_OK to go on, or the error itself with o.strict. */
nlp_status ds_bad_row(nlp_dataset *ds, size_t line, nlp_status st, const char *why,
                      nlp_error *err);

/* The reason in a corpus reader's "SOURCE: line N: why" message. */
const char *ds_reader_why(const char *msg);

/* The readers. */
nlp_status ds_read_conll(nlp_dataset *ds, nlp_error *err);
nlp_status ds_read_ner_jsonl(nlp_dataset *ds, nlp_error *err);
nlp_status ds_read_squad(nlp_dataset *ds, nlp_error *err);

/* Add one NER sentence (words[i] of lens[i] bytes, tags[i] of tag_lens[i]
 * bytes) from line `line`. */
nlp_status ds_add_sentence(nlp_dataset *ds, size_t line, const char *const *words,
                           const size_t *lens, const char *const *tags,
                           const size_t *tag_lens, size_t n, nlp_error *err);

#endif /* NLP_DATASET_IMPL_H */
