/*
 * task_common.h - helpers shared by the task plugins (linked into each
 * plugin as the convenience library tasks/common/libtaskcommon.la).
 *
 * Everything here goes through the nlp_host_api table: a plugin links
 * nothing of libnlp.  Groups:
 *   - growable scratch buffers (allocated once, reused by every run());
 *   - nlp_tc_batch: pad a set of encodings into one nlp_batch;
 *   - nlp_tc_topk: the k best scores of a vector, best first;
 *   - value helpers: build result objects with C strings, checking for
 *     allocation failures;
 *   - nlp_tc_seqcls: the model's sequence-classification head (run by the
 *     host, in whatever layout the model's family has) and its labels;
 *   - small text helpers (comma lists, option parsing);
 *   - run() plumbing: encoding arrays, pad id, maximum length, the fatal
 *     exit that clears every result.
 *
 * Helpers that can fail return nlp_status and fill err through
 * host->error_set.  New helpers are appended; existing ones keep their
 * meaning.
 */
#ifndef NLP_TASK_COMMON_H
#define NLP_TASK_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "nlp/plugin.h"

/* ------------------------------------------------------------ buffers */

/* Make *buf hold at least bytes bytes (grows, never shrinks; contents are
 * kept).  *cap is the current size in bytes.  Free with free(). */
nlp_status nlp_tc_reserve(const nlp_host_api *host, void **buf, size_t *cap,
                          size_t bytes, nlp_error *err);

/* ------------------------------------------------------------ batching */

/* The padded ids of a set of encodings, reused across calls. */
typedef struct nlp_tc_batch {
    nlp_batch batch;        /* the view handed to encoder_forward */
    int32_t *ids;           /* [B][T] */
    int32_t *type_ids;      /* [B][T] */
    int32_t *lengths;       /* [B] */
    size_t cap_ids, cap_types, cap_lengths; /* bytes */
} nlp_tc_batch;

/* Pad encs[0..n) (n >= 1) into b: T is the longest encoding, padding uses
 * pad_id and type id 0.  Fails with NLP_ERR_INPUT when an encoding is
 * empty.  b->batch is valid until the next call or nlp_tc_batch_free. */
nlp_status nlp_tc_batch_pack(const nlp_host_api *host, nlp_tc_batch *b,
                             const nlp_encoding *const *encs, size_t n,
                             int32_t pad_id, nlp_error *err);

/* Release b's arrays and zero it. */
void nlp_tc_batch_free(nlp_tc_batch *b);

/* ------------------------------------------------------------ top-k */

/* Write to out the indices of the min(k, n) largest values of x[0..n),
 * largest first (equal values: lower index first).  Returns how many were
 * written.  Needs no memory beyond out[k]. */
size_t nlp_tc_topk(const float *x, size_t n, size_t k, int32_t *out);

/* ------------------------------------------------------------ values */

/* A string value from a NUL-terminated C string (NULL when out of memory). */
nlp_value *nlp_tc_str(const nlp_host_api *host, const char *s);

/* obj[key] = v.  When v is NULL (a failed allocation) nothing is set and
 * NLP_ERR_NOMEM is returned, else NLP_OK. */
nlp_status nlp_tc_set(const nlp_host_api *host, nlp_value *obj,
                      const char *key, nlp_value *v, nlp_error *err);

/* arr += v, with the same NULL handling as nlp_tc_set. */
nlp_status nlp_tc_push(const nlp_host_api *host, nlp_value *arr,
                       nlp_value *v, nlp_error *err);

/* ------------------------------------------------------------ text */

/* Split a comma-separated list the way Hugging Face parses candidate
 * labels: split on ',', strip surrounding whitespace, drop empty items.
 * On success *items is a new array of *n new strings (nlp_tc_list_free).
 * *n may be 0. */
nlp_status nlp_tc_list_split(const nlp_host_api *host, const char *s,
                             char ***items, size_t *n, nlp_error *err);
void nlp_tc_list_free(char **items, size_t n);

/* Parse a --top-k value: a positive integer, or "all" when allow_all (then
 * *k = SIZE_MAX).  name is the option name, for the message. */
nlp_status nlp_tc_parse_top_k(const nlp_host_api *host, const char *s,
                              int allow_all, const char *name, size_t *k,
                              nlp_error *err);

/* ------------------------------------------------------------ sequence classification */

/* What the scores of a classification go through (Hugging Face's
 * function_to_apply). */
typedef enum nlp_tc_function {
    NLP_TC_FN_AUTO = 0,     /* sigmoid for 1 label or multi-label problems, else softmax */
    NLP_TC_FN_SOFTMAX = 1,
    NLP_TC_FN_SIGMOID = 2,
    NLP_TC_FN_NONE = 3
} nlp_tc_function;

/* The bound classification head of a checkpoint. */
typedef struct nlp_tc_seqcls {
    const nlp_host_api *host;
    size_t H;                      /* hidden size */
    size_t L;                      /* number of labels */
    char **labels;                 /* [L] names (id2label, else LABEL_i) */
    int multi_label;               /* problem_type is multi_label_classification */
} nlp_tc_seqcls;

/* Check that model has a sequence-classification head (whatever its
 * family's layout; the host runs it) and name its labels: the count comes
 * from the head, names from config id2label when it has that many
 * entries, else "LABEL_<i>".  Errors name the missing tensor. */
nlp_status nlp_tc_seqcls_init(nlp_tc_seqcls *sc, const nlp_host_api *host,
                              const nlp_model *model, nlp_error *err);

/* logits [B][L] of the B rows of hidden [B][T][H] (the head reads the
 * first token of each). */
nlp_status nlp_tc_seqcls_logits(nlp_tc_seqcls *sc, nlp_ctx *ctx,
                                const float *hidden, size_t B, size_t T,
                                float *logits, nlp_error *err);

/* Resolve NLP_TC_FN_AUTO for this head and apply fn in place to one row
 * of L scores. */
nlp_tc_function nlp_tc_seqcls_function(const nlp_tc_seqcls *sc, nlp_tc_function fn);
void nlp_tc_apply_function(const nlp_host_api *host, nlp_tc_function fn,
                           float *scores, size_t L);

/* Check that model has head (NLP_HEAD_SEQ_CLS or NLP_HEAD_TOKEN_CLS),
 * set *L to its label count and name the labels: config id2label when it
 * has L entries, else "LABEL_<i>".  On success *labels is a new array of
 * L new strings (nlp_tc_list_free(*labels, L)).  Errors name the missing
 * tensor, or say the host is too old to run heads. */
nlp_status nlp_tc_head_labels(const nlp_host_api *host, const nlp_model *model,
                              nlp_head head, size_t *L, char ***labels, nlp_error *err);

/* Parse "softmax" | "sigmoid" | "none"; NULL or "" gives NLP_TC_FN_AUTO. */
nlp_status nlp_tc_parse_function(const nlp_host_api *host, const char *s,
                                 nlp_tc_function *fn, nlp_error *err);

void nlp_tc_seqcls_free(nlp_tc_seqcls *sc);

/* ------------------------------------------------------------ encoding */

/* Encode one input (text, optional pair) with special tokens, truncating
 * to max_length with the given strategy when max_length > 0.  Then checks
 * that the result fits the model's positions (limit): a longer encoding is
 * NLP_ERR_INPUT "input is N tokens long; the model accepts at most M". */
nlp_status nlp_tc_encode(const nlp_host_api *host, const nlp_tokenizer *tok,
                         const char *text, size_t len,
                         const char *pair, size_t pair_len,
                         size_t max_length, nlp_truncation trunc,
                         size_t limit, nlp_encoding *out, nlp_error *err);

/* ------------------------------------------------------------ text classification */

/* Plain text classification (Hugging Face's TextClassificationPipeline)
 * over a sequence-classification checkpoint, for the sentiment and
 * classify tasks.  Options read from args: "function"
 * (softmax|sigmoid|none, default by the head) and "top-k" (a positive
 * integer or "all"; unset gives the best {label, score} as one object,
 * set gives an array of {label, score} sorted by score). */
typedef struct nlp_tc_textcls nlp_tc_textcls;

/* The two nlp_option entries ("function", "top-k") a task using
 * nlp_tc_textcls declares; pre is a string literal put before each help
 * text ("" for none). */
#define NLP_TC_TEXTCLS_OPTIONS(pre)                                             \
    {"function", NLP_OPT_CHOICE, NULL, "softmax|sigmoid|none",                  \
     pre "scores from logits; unset: sigmoid for one label or multi-label "     \
         "models, else softmax", NULL},                                         \
    {"top-k", NLP_OPT_STRING, NULL, NULL,                                       \
     pre "the N best labels (or 'all') sorted by score, as an array; unset: "   \
         "the best label alone", "N|all"}

/* Columns of tabular output for nlp_tc_textcls results: label and score,
 * or with --top-k the sorted list as one column "labels" (a plugin's
 * columns() function). */
size_t nlp_tc_textcls_columns(const nlp_host_api *host, const nlp_task_args *args,
                              nlp_column *out, size_t max);

nlp_status nlp_tc_textcls_create(const nlp_host_api *host, const nlp_task_args *args,
                                 nlp_tc_textcls **out, nlp_error *err);

/* The plugin run() contract: per-input errors in errs[i], a fatal status
 * (out of memory, encoder failure) leaves no results. */
nlp_status nlp_tc_textcls_run(nlp_tc_textcls *c, const nlp_input *inputs, size_t n,
                              nlp_value **results, nlp_error *errs);

void nlp_tc_textcls_destroy(nlp_tc_textcls *c);

/* ------------------------------------------------------------ run() plumbing */

/* Make the array *v hold at least n encodings (*cap counts entries; it
 * grows to at least twice its size).  New entries are zeroed, so
 * encoding_free on them is harmless.  Free with nlp_tc_encodings_free. */
nlp_status nlp_tc_encodings_reserve(const nlp_host_api *host, nlp_encoding **v,
                                    size_t *cap, size_t n, nlp_error *err);

/* encoding_free every entry of (*v)[0..*cap), free the array, zero both. */
void nlp_tc_encodings_free(const nlp_host_api *host, nlp_encoding **v, size_t *cap);

/* The padding id of a task: the tokenizer's pad token, else the config's
 * pad_token_id. */
int32_t nlp_tc_pad_id(const nlp_host_api *host, const nlp_task_args *args);

/* The longest input the model's positions take (the host's
 * model_max_tokens; max_position_embeddings on hosts without it). */
size_t nlp_tc_model_limit(const nlp_host_api *host, const nlp_model *model);

/* NLP_OK when the host table has the head entries (model_head,
 * head_forward), else NLP_ERR_UNSUPPORTED saying the host is too old. */
nlp_status nlp_tc_need_heads(const nlp_host_api *host, nlp_error *err);

/* Longest encoding a task builds: the tokenizer's model_max_length, capped
 * by (and, when unset, equal to) nlp_tc_model_limit. */
size_t nlp_tc_max_length(const nlp_host_api *host, const nlp_task_args *args);

/* The fatal exit of a plugin's run(): frees and NULLs results[0..n),
 * copies *fatal into every errs[i].  Returns fatal->status
 * (NLP_ERR_INTERNAL when it is NLP_OK). */
nlp_status nlp_tc_fail_all(const nlp_host_api *host, nlp_value **results,
                           nlp_error *errs, size_t n, const nlp_error *fatal);

/* ------------------------------------------------------------ plugin */

/* The version every plugin built with the toolkit reports. */
#define NLP_TC_VERSION PACKAGE_VERSION

/* Copy cols[0..n) to out (at most max); returns the count (for columns()). */
size_t nlp_tc_columns_copy(const nlp_column *cols, size_t n, nlp_column *out, size_t max);

/* ------------------------------------------------------------ sentence vectors */

/* Sentence vectors as sentence-transformers computes them: the encoder's
 * last hidden states, pooled (cls, max, mean, mean_sqrt_len, concatenated
 * in that order when several are on), then scaled to unit length when a
 * Normalize module follows.  The pooling and normalization come from the
 * model folder (nlp_sbert_config: modules.json, the Pooling module's
 * config.json, sentence_bert_config.json's max_seq_length and
 * do_lower_case); a plain checkpoint gets mean pooling without
 * normalization.  Used by the embed and similarity tasks. */
typedef struct nlp_tc_sentvec {
    const nlp_host_api *host;
    const nlp_tokenizer *tok;
    nlp_ctx *ctx;
    nlp_sbert_config st;        /* what the folder says, options applied */
    size_t H;                   /* hidden size */
    size_t dim;                 /* vector size: H per pooling mode */
    size_t max_length;          /* tokens per text, specials included */
    size_t limit;               /* the model's positions */
    int32_t pad_id;

    nlp_encoding *encs;         /* [cap_encs] */
    size_t cap_encs;
    const nlp_encoding **valid; /* [n] */
    size_t cap_valid;
    int32_t *row_of;            /* [n]: batch row of text i, -1 failed */
    size_t cap_row_of;
    nlp_tc_batch batch;
    float *vecs;                /* [rows][dim] */
    size_t cap_vecs;
    char *lower;                /* do_lower_case scratch */
} nlp_tc_sentvec;

/* The --pooling option of tasks using nlp_tc_sentvec. */
#define NLP_TC_POOLING_OPTION                                                       {"pooling", NLP_OPT_CHOICE, NULL, "cls|mean|max|mean-sqrt-len",                  "how token vectors become one (default: the model's 1_Pooling/config.json, "      "else mean)", NULL}

/* Bind sv to args' model: read the folder's sentence-transformers files,
 * then the options "pooling" (when declared and set) and, when
 * with_normalize, the flags "normalize" / "no-normalize" (both given is
 * NLP_ERR_INVALID_ARG).  Free with nlp_tc_sentvec_free (also on failure). */
nlp_status nlp_tc_sentvec_init(nlp_tc_sentvec *sv, const nlp_host_api *host,
                               const nlp_task_args *args, int with_normalize,
                               nlp_error *err);

/* Vectors of the texts of in[0..n) (their text_pair is not used): on
 * success sv->row_of[i] is the row of sv->vecs ([rows][sv->dim]) holding
 * text i's vector, or -1 when text i failed (errs[i] says why).  A fatal
 * failure (out of memory, the encoder) returns its status with *fatal
 * set. */
nlp_status nlp_tc_sentvec_run(nlp_tc_sentvec *sv, const nlp_input *in, size_t n,
                              nlp_error *errs, nlp_error *fatal);

void nlp_tc_sentvec_free(nlp_tc_sentvec *sv);

/* The cosine similarity of a[0..n) and b[0..n) (0 when either is zero). */
double nlp_tc_cosine(const float *a, const float *b, size_t n);

/* A new array value of x[0..n), or NULL when out of memory. */
nlp_value *nlp_tc_float_array(const nlp_host_api *host, const float *x, size_t n);

/* ------------------------------------------------------------ entry */

/* The one symbol every plugin exports (declared here so each plugin's
 * definition has a prototype). */
NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void);

#endif /* NLP_TASK_COMMON_H */
