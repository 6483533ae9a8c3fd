/*
 * nlp/metrics.h - evaluation metrics: classification (single- and
 * multi-label), named entities at entity level, and SQuAD v1.1 answers.
 *
 * The numbers are those of the reference tools:
 *   classification  scikit-learn's precision_recall_fscore_support with
 *                   labels = 0..num_labels-1 and zero_division=0, and
 *                   accuracy_score;
 *   entities        seqeval's default (non-strict) mode, whose chunk rules
 *                   are conlleval's: B-X always starts an entity, I-X
 *                   starts one after O or after another type (IOB1 and IO
 *                   tags work), E-X / S-X of IOBES end one; an entity is
 *                   correct when type, start and end all agree;
 *   SQuAD v1.1      evaluate-v1.1.py: normalize_answer (lower case,
 *                   no ASCII punctuation, no articles a/an/the, whitespace
 *                   collapsed, with Python's Unicode rules), exact match and
 *                   token F1, each the best over the gold answers.
 * Precision, recall and F1 are fractions in [0, 1]; a ratio whose
 * denominator is 0 is 0.  Nothing here keeps global state.
 */
#ifndef NLP_METRICS_H
#define NLP_METRICS_H

#include "nlp/export.h"

#include <stddef.h>
#include <stdint.h>
#include "nlp/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------ classification */

/* The scores of one label (or entity type). */
typedef struct nlp_metrics_score {
    double precision;     /* correct / predicted */
    double recall;        /* correct / support */
    double f1;            /* their harmonic mean: classification as
                             scikit-learn, 2 correct / (support +
                             predicted); entities as seqeval, 2 P R / (P + R) */
    size_t support;       /* gold items with the label */
    size_t predicted;     /* predicted items with the label */
    size_t correct;       /* both (true positives) */
} nlp_metrics_score;

/* A classification report, owned by the caller: free it with
 * nlp_metrics_class_report_free(). */
typedef struct nlp_metrics_class_report {
    size_t n;                   /* items */
    int num_labels;
    double accuracy;            /* fraction of items exactly right (multi-
                                   label: all num_labels flags right); 0
                                   when n is 0 */
    nlp_metrics_score micro;    /* counts summed over the labels */
    nlp_metrics_score macro;    /* unweighted mean of the labels' scores;
                                   its counts are the micro ones */
    nlp_metrics_score *labels;  /* [num_labels], by label id */
} nlp_metrics_class_report;

/* Single-label classification: gold[i] and pred[i] are label ids of item i
 * (n items, n may be 0), each in [0, num_labels).  Every label counts in the
 * macro average, also one that neither list holds.  The micro scores all
 * equal the accuracy.  On success *out is a new report.
 * Returns NLP_OK, NLP_ERR_INVALID_ARG (num_labels < 1, a NULL list with
 * n > 0, an id out of range: err names the item), NLP_ERR_NOMEM. */
NLP_API nlp_status nlp_metrics_classification(const int32_t *gold, const int32_t *pred,
                                      size_t n, int num_labels,
                                      nlp_metrics_class_report **out, nlp_error *err);

/* Multi-label classification: gold and pred are row-major [n][num_labels]
 * matrices of 0/1 flags.  accuracy is the subset accuracy; micro and macro
 * as scikit-learn computes them on indicator matrices.  Returns as
 * nlp_metrics_classification (NLP_ERR_INVALID_ARG for a flag other than 0
 * or 1). */
NLP_API nlp_status nlp_metrics_multilabel(const uint8_t *gold, const uint8_t *pred,
                                  size_t n, int num_labels,
                                  nlp_metrics_class_report **out, nlp_error *err);

/* Free a report from either function.  NULL is allowed. */
NLP_API void nlp_metrics_class_report_free(nlp_metrics_class_report *r);

/* ------------------------------------------------------ named entities */

/* The scores of one entity type: name is the type ("PER" of "B-PER"; "_"
 * for tags without one, such as "B"). */
typedef struct nlp_metrics_entity_type {
    char *name;
    nlp_metrics_score score;
} nlp_metrics_entity_type;

/* An entity report, owned by the caller: free it with
 * nlp_metrics_entity_report_free(). */
typedef struct nlp_metrics_entity_report {
    size_t num_types;
    nlp_metrics_entity_type *types;   /* [num_types], types found in gold or
                                         predictions, sorted by name (bytes) */
    nlp_metrics_score micro;          /* all entities (support = gold entities) */
    nlp_metrics_score macro;          /* mean over the types (0 without types) */
    size_t tokens;                    /* tags compared */
    size_t correct_tokens;            /* tags equal as strings */
    double token_accuracy;            /* correct_tokens / tokens (0 if none) */
} nlp_metrics_entity_report;

/* An accumulator of entity counts over sentences (opaque). */
typedef struct nlp_metrics_entities nlp_metrics_entities;

/* A new, empty accumulator; free it with nlp_metrics_entities_free().
 * Returns NLP_OK or NLP_ERR_NOMEM. */
NLP_API nlp_status nlp_metrics_entities_create(nlp_metrics_entities **out, nlp_error *err);
NLP_API void nlp_metrics_entities_free(nlp_metrics_entities *m);

/* Add one sentence: gold[i] and pred[i] are the tags of token i (len
 * tokens, len may be 0; the strings are read, not kept).  A tag is "O", or
 * one of B, I, E, S optionally followed by "-TYPE" (the type is everything
 * after the first '-').  Returns NLP_OK, NLP_ERR_INVALID_ARG for another
 * tag (err names the token; the accumulator is then unchanged),
 * NLP_ERR_NOMEM. */
NLP_API nlp_status nlp_metrics_entities_add(nlp_metrics_entities *m, const char *const *gold,
                                    const char *const *pred, size_t len, nlp_error *err);

/* The report over the sentences added so far, as a new *out (the
 * accumulator is unchanged and may take more sentences).  Returns NLP_OK
 * or NLP_ERR_NOMEM. */
NLP_API nlp_status nlp_metrics_entities_report(const nlp_metrics_entities *m,
                                       nlp_metrics_entity_report **out, nlp_error *err);
NLP_API void nlp_metrics_entity_report_free(nlp_metrics_entity_report *r);

/* ------------------------------------------------------ SQuAD v1.1 */

/* SQuAD's normalize_answer of the UTF-8 string s: Python's str.lower()
 * (full case mapping, final sigma), ASCII punctuation removed, every word
 * a / an / the (a maximal run of Unicode letters and digits) replaced by a
 * space, then the words split at Unicode whitespace and joined by one
 * space.  Character properties are the linked utf8proc's, so characters
 * newer than the reference Python's Unicode data may normalize differently.
 * *out is a new NUL-terminated string; free() it.  Returns NLP_OK,
 * NLP_ERR_UTF8 for invalid UTF-8, NLP_ERR_NOMEM. */
NLP_API nlp_status nlp_metrics_squad_normalize(const char *s, char **out, nlp_error *err);

/* One question: the exact match (0 or 1) and the token F1 in [0, 1] of
 * prediction, each the best over the n_answers gold answers (n_answers
 * >= 1).  Returns NLP_OK, NLP_ERR_INVALID_ARG for no answers,
 * NLP_ERR_UTF8, NLP_ERR_NOMEM. */
NLP_API nlp_status nlp_metrics_squad_score(const char *prediction, const char *const *answers,
                                   size_t n_answers, double *exact_match, double *f1,
                                   nlp_error *err);

/* Running totals over a set of questions: zero-initialise, then
 * nlp_metrics_squad_add() each question in order. */
typedef struct nlp_metrics_squad {
    size_t count;          /* questions added */
    double exact_match;    /* sum of their exact matches */
    double f1;             /* sum of their F1 */
} nlp_metrics_squad;

/* Score one question (as nlp_metrics_squad_score) and add it to *acc.
 * On an error *acc is unchanged. */
NLP_API nlp_status nlp_metrics_squad_add(nlp_metrics_squad *acc, const char *prediction,
                                 const char *const *answers, size_t n_answers,
                                 nlp_error *err);

/* The set's totals as evaluate-v1.1.py prints them: 100 * sum / count
 * (0 for an empty set). */
NLP_API void nlp_metrics_squad_totals(const nlp_metrics_squad *acc, double *exact_match,
                              double *f1);

#ifdef __cplusplus
}
#endif
#endif /* NLP_METRICS_H */
