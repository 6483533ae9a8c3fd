/*
 * nlp/plugin.h - the task plugin ABI.
 *
 * A task plugin is a shared object exporting exactly one symbol,
 * nlp_plugin_entry, which returns a pointer to a constant nlp_plugin
 * descriptor.  The host checks abi_version and struct_size before touching
 * anything else.  Everything the plugin needs from libnlp (tokenizer,
 * encoder, result values, options, warnings) comes through the nlp_host_api
 * table passed to create(), so a plugin links against nothing of the host:
 *
 *     cc -shared -fPIC $(pkg-config --cflags nlp) -o myplugin.so myplugin.c
 *
 * Compatibility rules: NLP_PLUGIN_ABI_VERSION changes whenever a change
 * would break an existing plugin.  Within one ABI version, nlp_plugin,
 * nlp_task_desc and nlp_host_api only grow at the end (their struct_size
 * tells which fields a side knows; the host reads the tasks array with the
 * stride tasks[0].struct_size, see nlp_plugin_task()), and the host table
 * only gains entries at the end.  nlp_option and nlp_column keep their
 * layout for the whole ABI version.  The host refuses plugins built for
 * another ABI version (ABI 1 plugins: rebuild them against this header).
 *
 * Lifecycle, for one CLI invocation or one server worker:
 *   desc = nlp_plugin_entry();           checked: abi_version, struct_size
 *   create(host, &args, &state, err)     model, tokenizer, context ready
 *   run(state, inputs, n, results, errs) any number of times, n >= 1
 *   destroy(state)
 * The host owns the model, tokenizer and context; the plugin owns state.
 * A host may run several instances at once (one per pipeline, each on its
 * own thread): keep every mutable thing in state, none in globals.
 */
#ifndef NLP_PLUGIN_H
#define NLP_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include "nlp/export.h"
#include "nlp/status.h"
#include "nlp/value.h"
#include "nlp/tokenizer.h"
#include "nlp/model.h"
#include "nlp/encoder.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NLP_PLUGIN_ABI_VERSION 2u
#define NLP_PLUGIN_ENTRY_SYMBOL "nlp_plugin_entry"

/* Types of task options (parsed and validated by the host). */
typedef enum nlp_opt_type {
    NLP_OPT_FLAG = 0,   /* --name, no value */
    NLP_OPT_INT = 1,
    NLP_OPT_FLOAT = 2,
    NLP_OPT_STRING = 3,
    NLP_OPT_CHOICE = 4  /* one of the '|'-separated choices */
} nlp_opt_type;

/* One task-specific command-line option. */
typedef struct nlp_option {
    const char *name;          /* long name without dashes, e.g. "top-k" */
    nlp_opt_type type;
    const char *default_value; /* as text, shown by --help; NULL = unset */
    const char *choices;       /* NLP_OPT_CHOICE: "softmax|sigmoid|none" */
    const char *help;          /* one line; a default that needs words says
                                  "(default ...)" here, with default_value NULL */
    const char *metavar;       /* how --help shows the value, e.g. "N|all";
                                  NULL: from the type (N, X, TEXT, choices) */
} nlp_option;

/* What one input of a task holds. */
typedef enum nlp_input_kind {
    NLP_INPUT_TEXT = 0,             /* text */
    NLP_INPUT_TEXT_PAIR = 1,        /* text, optional text_pair */
    NLP_INPUT_QUESTION_CONTEXT = 2  /* text = question, text_pair = context */
} nlp_input_kind;

/* How a column of tabular (CSV / TSV / JSON Lines corpus) output is taken
 * from one input's result. */
typedef enum nlp_column_kind {
    /* the whole result: a string as it is, anything else as compact JSON */
    NLP_COLUMN_WHOLE = 0,
    /* field key of the result object; of the first element when the result
     * is an array of objects (a top-1 list); a JSON array of that, one per
     * element, when the result is an array of such arrays (several masks) */
    NLP_COLUMN_FIELD = 1,
    /* the first element of the array field key (e.g. "label" from a
     * zero-shot result's sorted "labels") */
    NLP_COLUMN_FIRST = 2
} nlp_column_kind;

/* One column of tabular output. */
typedef struct nlp_column {
    const char *name;          /* column name, e.g. "label" */
    nlp_column_kind kind;
    const char *key;           /* the result field; NULL for NLP_COLUMN_WHOLE */
} nlp_column;

/* Task flags. */
#define NLP_TASK_WINDOWS 1u    /* the task runs inputs longer than the model
                                  takes in overlapping windows itself: the
                                  host never truncates them */
#define NLP_TASK_RANKS 2u      /* each result is an object with a number
                                  "score" for one input measured against one
                                  query: front ends given a list of inputs
                                  show them as one list, best score first
                                  (nlp_pipeline_rank()); corpus mode keeps
                                  the rows */

/* A task a plugin serves.  Arrays of it are read with the stride of the
 * first element's struct_size (nlp_plugin_task()). */
typedef struct nlp_task_desc {
    uint32_t struct_size;       /* sizeof(nlp_task_desc) */
    uint32_t flags;             /* NLP_TASK_* */
    const char *name;           /* command name, e.g. "fill-mask" */
    const char *summary;        /* one line for `nlp --help` */
    const char *default_model;  /* built-in model name (nlp/builtin.h), hub id
                                   or directory used without --model */
    nlp_input_kind input;
    const nlp_option *options;  /* terminated by an entry with name NULL */
    const char *result_columns; /* comma-separated fields, in the order a
                                   readable table shows them */
    const char *architectures;  /* comma-separated endings of the Hugging Face
                                   class names this task needs (e.g.
                                   "ForMaskedLM"); a checkpoint whose
                                   config.json lists architectures, none of
                                   them ending so, is refused; NULL = any */
} nlp_task_desc;

/* One input; strings are UTF-8 with byte lengths, valid during run(). */
typedef struct nlp_input {
    const char *text;
    size_t text_len;
    const char *text_pair;      /* NULL when absent */
    size_t text_pair_len;
} nlp_input;

typedef struct nlp_host_api nlp_host_api;

/* What create() gets: the task, the loaded model and the options.  The
 * pointer create() receives stays valid until destroy(), so a plugin may
 * keep it (to warn from run(), say). */
typedef struct nlp_task_args {
    const char *task;              /* one of the plugin's task names */
    const nlp_model *model;
    const nlp_tokenizer *tokenizer;
    nlp_ctx *ctx;                  /* encoder context, owned by the host */
    size_t batch_size;             /* inputs the host passes per run() at most */
    const void *host_data;         /* the host's (nlp/registry.h nlp_task_host):
                                      option values, where warnings go */
} nlp_task_args;

/* The table of host services.  Every entry is non-NULL. */
struct nlp_host_api {
    uint32_t abi_version;          /* NLP_PLUGIN_ABI_VERSION of the host */
    uint32_t struct_size;          /* sizeof(nlp_host_api) of the host */

    /* errors and diagnostics */
    nlp_status (*error_set)(nlp_error *err, nlp_status status, const char *fmt, ...);
    /* a warning of the pipeline args belongs to (one line; where it goes
     * is the host's choice: a CLI prints it on stderr) */
    void (*warn)(const nlp_task_args *args, const char *fmt, ...);

    /* options: the value given on the command line, else the default, else
     * NULL; typed getters parse what the host has already validated */
    const char *(*opt_string)(const nlp_task_args *args, const char *name);
    long (*opt_int)(const nlp_task_args *args, const char *name, long fallback);
    double (*opt_float)(const nlp_task_args *args, const char *name, double fallback);
    int (*opt_flag)(const nlp_task_args *args, const char *name);

    /* model and tokenizer (see nlp/model.h, nlp/tokenizer.h) */
    const nlp_config *(*model_config)(const nlp_model *model);
    nlp_status (*model_tensor)(const nlp_model *model, const char *name, int ndim,
                               const int64_t *shape, const float **data,
                               int64_t *actual_shape, nlp_error *err);
    int (*model_has_tensor)(const nlp_model *model, const char *name);
    nlp_status (*encode)(const nlp_tokenizer *tok, const char *text, size_t len,
                         const char *pair, size_t pair_len,
                         const nlp_encode_opts *opts, nlp_encoding *out,
                         nlp_error *err);
    nlp_status (*apply_template)(const nlp_tokenizer *tok,
                                 const nlp_encoding *a, size_t a_from, size_t a_count,
                                 const nlp_encoding *b, size_t b_from, size_t b_count,
                                 nlp_encoding *out, nlp_error *err);
    size_t (*num_special)(const nlp_tokenizer *tok, int pair);
    nlp_status (*decode)(const nlp_tokenizer *tok, const int32_t *ids, size_t n,
                         int skip_special, char **out, nlp_error *err);
    int32_t (*token_to_id)(const nlp_tokenizer *tok, const char *token);
    const char *(*id_to_token)(const nlp_tokenizer *tok, int32_t id);
    int32_t (*special_id)(const nlp_tokenizer *tok, nlp_special which);
    const char *(*special_token)(const nlp_tokenizer *tok, nlp_special which);
    size_t (*model_max_length)(const nlp_tokenizer *tok);
    void (*encoding_free)(nlp_encoding *enc);
    void (*free)(void *p);       /* for strings returned by decode */

    /* encoder (see nlp/encoder.h) */
    nlp_status (*encoder_forward)(nlp_ctx *ctx, const nlp_batch *batch,
                                  const float **hidden, nlp_error *err);
    nlp_status (*pooler_forward)(nlp_ctx *ctx, const float *hidden, size_t B,
                                 size_t T, float *out, nlp_error *err);
    nlp_status (*mlm_head_forward)(nlp_ctx *ctx, const float *rows, size_t n,
                                   float *logits, nlp_error *err);
    void (*linear)(nlp_ctx *ctx, const float *x, size_t n, size_t in,
                   const float *W, const float *bias, size_t out, float *y);
    void (*softmax)(float *x, size_t n, size_t d);
    void (*sigmoid)(float *x, size_t count);

    /* result values; a value added to a container belongs to it */
    nlp_value *(*value_object)(void);
    nlp_value *(*value_array)(void);
    nlp_value *(*value_string)(const char *s, size_t len);
    nlp_value *(*value_number)(double x);
    nlp_value *(*value_int)(int64_t x);
    nlp_value *(*value_bool)(int b);
    nlp_value *(*value_null)(void);
    void (*value_set)(nlp_value *object, const char *key, nlp_value *v);
    void (*value_push)(nlp_value *array, nlp_value *v);
    void (*value_free)(nlp_value *v);

    /* added after the first ABI 2 hosts: check struct_size before use
     * (NLP_HOST_HAS(host, model_is_default)) */
    /* 1 when args' model is the task's default_model (none was given) */
    int (*model_is_default)(const nlp_task_args *args);

    /* added with the family modules: check struct_size before use
     * (NLP_HOST_HAS(host, head_forward)) */
    /* the model's task heads, whatever its family names their tensors
     * (nlp_model_head, nlp_head_forward in nlp/model.h, nlp/encoder.h) */
    nlp_status (*model_head)(const nlp_model *model, nlp_head head, size_t *n_out,
                             nlp_error *err);
    nlp_status (*head_forward)(nlp_ctx *ctx, nlp_head head, const float *rows, size_t n,
                               size_t stride, float *out, nlp_error *err);
    /* the longest input the model's positions take (nlp_model_max_tokens) */
    size_t (*model_max_tokens)(const nlp_model *model);

    /* added with the sentence-embedding tasks: check struct_size before
     * use */
    /* the sentence-transformers files of model's folder (nlp/model.h
     * nlp_sbert_config_load; NLP_HOST_HAS(host, sbert_config)) */
    nlp_status (*sbert_config)(const nlp_model *model, nlp_sbert_config *out,
                               nlp_error *err);
    /* text[0..len) lowercased code point by code point (Unicode simple
     * case mapping, as sentence-transformers' do_lower_case) into a new NUL-terminated string *out of *out_len
     * bytes, freed with host->free; NLP_ERR_UTF8 for invalid UTF-8 */
    nlp_status (*lowercase)(const char *text, size_t len, char **out, size_t *out_len,
                            nlp_error *err);

    /* added with word grouping for every tokenizer family: check
     * struct_size before use (NLP_HOST_HAS(host, tokens_to_string)) */
    /* tokens to text as convert_tokens_to_string (nlp/tokenizer.h
     * nlp_tokenizer_tokens_to_string); *out freed with host->free */
    nlp_status (*tokens_to_string)(const nlp_tokenizer *tok, const char *const *tokens,
                                   size_t n, char **out, nlp_error *err);
    /* the continuing_subword_prefix ("##") or NULL
     * (nlp_tokenizer_subword_prefix) */
    const char *(*subword_prefix)(const nlp_tokenizer *tok);
};

/* 1 when the host table has the entry member (a later addition). */
#define NLP_HOST_HAS(host, member) \
    ((host)->struct_size >= offsetof(nlp_host_api, member) + sizeof((host)->member))

/* The descriptor a plugin returns from nlp_plugin_entry(). */
typedef struct nlp_plugin {
    uint32_t abi_version;            /* NLP_PLUGIN_ABI_VERSION */
    uint32_t struct_size;            /* sizeof(nlp_plugin) */
    const char *name;                /* e.g. "fill-mask" */
    const char *version;             /* the plugin's own version */
    const nlp_task_desc *tasks;      /* [n_tasks] */
    size_t n_tasks;

    /* Prepare to serve args->task.  On success *state is the plugin's
     * (NULL is allowed).  Errors fill err (through host->error_set). */
    nlp_status (*create)(const nlp_host_api *host, const nlp_task_args *args,
                         void **state, nlp_error *err);

    /* Process n inputs.  For each i, either results[i] is a new value the
     * host then owns, or results[i] is NULL and errs[i] says why that input
     * failed (the others still count).  The return value is for failures
     * that stop the whole run (e.g. out of memory); then no results[] are
     * kept. */
    nlp_status (*run)(void *state, const nlp_input *inputs, size_t n,
                      nlp_value **results, nlp_error *errs);

    void (*destroy)(void *state);

    /* Columns of tabular output for the options in args (read them with
     * host->opt_*; args->model and the others are NULL here: it is called
     * before the model loads).  Writes at most max entries to out and
     * returns how many; the strings must stay valid while the plugin is
     * loaded.  NULL: one NLP_COLUMN_FIELD per field of result_columns. */
    size_t (*columns)(const nlp_host_api *host, const nlp_task_args *args,
                      nlp_column *out, size_t max);
} nlp_plugin;

/* Task i of plugin p (the tasks array read with its own element size). */
static inline const nlp_task_desc *nlp_plugin_task(const nlp_plugin *p, size_t i)
{
    return (const nlp_task_desc *)(const void *)((const char *)p->tasks +
                                                 i * p->tasks[0].struct_size);
}

/* The one symbol a plugin exports. */
typedef const nlp_plugin *(*nlp_plugin_entry_fn)(void);

#if defined(__GNUC__)
#define NLP_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define NLP_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
}
#endif
#endif /* NLP_PLUGIN_H */
