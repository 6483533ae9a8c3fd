/*
 * nlp/pipeline.h - run a task on a model: the library's equivalent of
 * Hugging Face's pipeline(task, model), used by every front end (the CLI,
 * corpus mode, the server).
 *
 *     nlp_pipeline_opts o = NLP_PIPELINE_OPTS_INIT;
 *     o.model = "data/models/tiny-bert-sst2";          (NULL: the task's default)
 *     nlp_pipeline *p;
 *     if (nlp_pipeline_open("sentiment", &o, &p, &err)) ...
 *     nlp_pipeline_set(p, "top-k", "all", &err);       (validated by name)
 *     nlp_input in[2] = {{"I loved it.", 11}, {"Dull.", 5}};
 *     nlp_pipeline_result r[2];
 *     nlp_pipeline_run(p, in, 2, r, &err);             (loads on first use)
 *     char *json = nlp_pipeline_result_json(&r[0]);    ({"label":...} or {"error":...})
 *     nlp_pipeline_results_clear(r, 2);
 *     nlp_pipeline_free(p);
 *
 * A pipeline owns its plugin instance and encoder context, and loads its
 * model and tokenizer, unless opts.shared_model lends it ones already
 * loaded (see nlp_shared_model below: several pipelines with different
 * options on one model then hold its weights once).  Inputs are tokenised, checked, truncated to what the model
 * takes (unless the task windows long inputs itself, or truncation is off),
 * sorted by length into batches of batch_size and run; results come back
 * in input order, one per input: a value or that input's error.
 *
 * Threads: a pipeline is used by one thread at a time (its plugin instance,
 * context and scratch are not shared).  Separate pipelines may run on
 * separate threads at once, including pipelines on the same model
 * directory or on one nlp_shared_model; a registry passed in opts may be
 * shared by pipelines on several threads once opened (it is read-only
 * after nlp_registry_open()).
 */
#ifndef NLP_PIPELINE_H
#define NLP_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include "nlp/export.h"
#include "nlp/status.h"
#include "nlp/value.h"
#include "nlp/plugin.h"
#include "nlp/registry.h"
#include "nlp/hub.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nlp_pipeline nlp_pipeline;
typedef struct nlp_shared_model nlp_shared_model;

/* A warning of a pipeline: one line, no newline, valid during the call. */
typedef void (*nlp_warn_fn)(void *user, const char *msg);

/* How to open a pipeline.  Start from NLP_PIPELINE_OPTS_INIT. */
typedef struct nlp_pipeline_opts {
    size_t struct_size;         /* sizeof(nlp_pipeline_opts) */
    const char *model;          /* directory or Hub id "org/name[@rev]";
                                   NULL: the task's default model */
    int offline;                /* never open a connection to the Hub */
    int dtype;                  /* an nlp_weight_type, or -1: the model's
                                   default (int8 for `nlp quantize` output) */
    int threads;                /* encoder threads; 0: all cores */
    size_t batch_size;          /* inputs per forward pass; 0: 8 */
    const char *plugin_dir;     /* searched before the default plugin path */
    nlp_registry *registry;     /* plugins already loaded (not freed by the
                                   pipeline); NULL: load them */
    int no_truncation;          /* an input longer than the model takes is
                                   an error for that input (the pipelines'
                                   default) instead of being cut */
    int any_architecture;       /* run even when config.json names a head
                                   the task does not use */
    nlp_warn_fn on_warning;     /* the plugin's warnings; NULL drops them */
    void *warning_user;
    nlp_hub_progress_fn on_download;   /* Hub download progress, or NULL */
    void *download_user;
    nlp_diag_fn on_refused;     /* plugins refused while loading, or NULL */
    void *refused_user;
    nlp_shared_model *shared_model; /* a model and tokenizer loaded already,
                                   which the pipeline borrows instead of
                                   loading (model, offline and on_download
                                   are then not used to load; model NULL
                                   still tells the plugin the task's default
                                   runs); NULL: the pipeline loads its own */
} nlp_pipeline_opts;

#define NLP_PIPELINE_OPTS_INIT {sizeof(nlp_pipeline_opts), NULL, 0, -1, 0, 0, NULL, \
                                NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL}

/* Find the plugin serving task and prepare its options; loads nothing
 * yet.  NLP_ERR_NOT_FOUND naming the task when no plugin serves it.  On
 * success *out is a new pipeline the caller frees with nlp_pipeline_free();
 * the strings of opts are copied. */
NLP_API nlp_status nlp_pipeline_open(const char *task, const nlp_pipeline_opts *opts,
                                     nlp_pipeline **out, nlp_error *err);

/* Set the task option name (as --help lists it, without dashes) from its
 * text; NULL for a flag.  Before the first run only.  NLP_ERR_USAGE
 * (front ends: a usage error) for an option the task does not declare, a
 * value that does not fit the option's type (the message names both), or
 * a call after the pipeline started. */
NLP_API nlp_status nlp_pipeline_set(nlp_pipeline *p, const char *name, const char *value,
                                    nlp_error *err);
NLP_API nlp_status nlp_pipeline_set_int(nlp_pipeline *p, const char *name, long value,
                                        nlp_error *err);
NLP_API nlp_status nlp_pipeline_set_float(nlp_pipeline *p, const char *name, double value,
                                          nlp_error *err);
NLP_API nlp_status nlp_pipeline_set_flag(nlp_pipeline *p, const char *name, int on,
                                         nlp_error *err);

/* Resolve the model (a download on first use of a Hub id), load it, check
 * its architecture against the task and start the plugin.  Called by the
 * first run when not called before.  NLP_ERR_USAGE: the plugin refused an
 * option value, or the task has no default model and none was given;
 * NLP_ERR_UNSUPPORTED: the checkpoint's architecture is not one the task
 * uses (see any_architecture). */
NLP_API nlp_status nlp_pipeline_load(nlp_pipeline *p, nlp_error *err);

/* The outcome for one input. */
typedef struct nlp_pipeline_result {
    nlp_value *value;           /* the result (caller's), or NULL on error */
    nlp_error error;            /* why there is no value */
    size_t tokens;              /* tokens the task was given */
    size_t truncated_from;      /* > 0: the input had this many tokens and
                                   was cut to tokens */
} nlp_pipeline_result;

/* Run the task on inputs[0..n).  out[i] receives input i's outcome; free
 * the values with nlp_pipeline_results_clear().  Returns NLP_OK when every
 * input has an outcome (some may be errors); another status only for a
 * failure of the whole run (then no out[i] holds a value). */
NLP_API nlp_status nlp_pipeline_run(nlp_pipeline *p, const nlp_input *inputs, size_t n,
                                    nlp_pipeline_result *out, nlp_error *err);

/* Free the values of out[0..n) and reset them. */
NLP_API void nlp_pipeline_results_clear(nlp_pipeline_result *out, size_t n);

/* One outcome as compact JSON in the pipelines' shape, or for a failed
 * input {"error": message, "error_type": nlp_status_name(status)}.  A new
 * string (free()), or NULL when out of memory. */
NLP_API char *nlp_pipeline_result_json(const nlp_pipeline_result *r);

/* The outcomes res[0..n) of a ranking task (NLP_TASK_RANKS: each value
 * an object with a number "score"), input i being res[i], as one array
 * sorted by score, best first (ties in input order): {"index": i, "score":
 * s, then the other fields of res[i]}, as text-embeddings-inference's
 * /rerank answers.  Failed inputs are left out.  A new value (the caller
 * frees it), or NULL when out of memory. */
NLP_API nlp_value *nlp_pipeline_rank(const nlp_pipeline_result *res, size_t n);

/* The task's columns for tabular output, given its current options
 * (available right after open).  *cols is owned by the pipeline. */
NLP_API size_t nlp_pipeline_columns(const nlp_pipeline *p, const nlp_column **cols);

/* Cell col of a result for tabular output: a string as it is (*json = 0),
 * anything else as compact JSON text (*json = 1); *text is a new string
 * (free()), NULL when the result has no such value. */
NLP_API nlp_status nlp_pipeline_cell(const nlp_pipeline *p, const nlp_value *result,
                                     size_t col, char **text, int *json, nlp_error *err);

/* What the pipeline runs: the task's descriptor, the plugin serving it and
 * its file, and once loaded the model directory (NULL before). */
NLP_API const nlp_task_desc *nlp_pipeline_task(const nlp_pipeline *p);
NLP_API const nlp_plugin_info *nlp_pipeline_plugin(const nlp_pipeline *p);
NLP_API const char *nlp_pipeline_model_dir(const nlp_pipeline *p);

/* The model and tokenizer the pipeline runs on once loaded (NULL before):
 * the one it borrowed, or the one it loaded itself.  Owned by the
 * pipeline; pass it as opts.shared_model of further pipelines to run them
 * on the same weights (each takes its own reference, so it stays valid
 * while any of them lives). */
NLP_API nlp_shared_model *nlp_pipeline_shared_model(const nlp_pipeline *p);

/* Free the pipeline and everything it owns, and let go of the shared model
 * it borrowed.  p may be NULL. */
NLP_API void nlp_pipeline_free(nlp_pipeline *p);

/* ---- one loaded model for several pipelines ---- */

/*
 * An nlp_shared_model is a loaded checkpoint (nlp_model) and its
 * tokenizer, counted by reference, so that pipelines with different task
 * options (or different tasks) on the same model hold its weights once:
 *
 *     nlp_shared_model *m;
 *     if (nlp_shared_model_load("data/models/tiny-bert-sst2", NULL, &m, &err)) ...
 *     nlp_pipeline_opts o = NLP_PIPELINE_OPTS_INIT;
 *     o.shared_model = m;
 *     nlp_pipeline_open("sentiment", &o, &a, &err);     (a borrows m)
 *     nlp_pipeline_open("sentiment", &o, &b, &err);     (so does b)
 *     nlp_pipeline_set(b, "top-k", "all", &err);
 *     nlp_shared_model_free(m);        (may come before or after the pipelines)
 *     ... run a and b, on one thread each ...
 *     nlp_pipeline_free(a); nlp_pipeline_free(b);      (the last frees m)
 *
 * Rule: nlp_shared_model_load() gives the caller one reference, every
 * pipeline opened with it takes one (released by nlp_pipeline_free), and
 * nlp_shared_model_free() releases the caller's; the model is freed with
 * the last reference.  What the pipelines share is read-only once loaded
 * (the mapped weights, the tokenizer, and the layer weights packed for the
 * kernels, built once per weight type on first use under the model's
 * lock), so pipelines on one shared model run on separate threads at
 * once.  Each pipeline keeps its own encoder context: activations, arena
 * and thread pool.
 */

/* Resolve ref (a directory, a built-in model or a Hub id "org/name[@rev]",
 * as opts.model of a pipeline; a download on first use of a Hub id) and
 * load the checkpoint and its tokenizer.  Of opts (NULL: the defaults)
 * only offline, on_download and download_user are used.  On success *out
 * holds the caller's reference (release with nlp_shared_model_free()).
 * Errors are those of nlp_hub_resolve, nlp_model_load and
 * nlp_tokenizer_load; NLP_ERR_NOT_FOUND for a path that names no
 * directory. */
NLP_API nlp_status nlp_shared_model_load(const char *ref, const nlp_pipeline_opts *opts,
                                         nlp_shared_model **out, nlp_error *err);

/* Release one reference; the last frees the model and tokenizer.  m may be
 * NULL. */
NLP_API void nlp_shared_model_free(nlp_shared_model *m);

/* The loaded parts (owned by m) and the directory they came from. */
NLP_API const nlp_model *nlp_shared_model_model(const nlp_shared_model *m);
NLP_API const nlp_tokenizer *nlp_shared_model_tokenizer(const nlp_shared_model *m);
NLP_API const char *nlp_shared_model_dir(const nlp_shared_model *m);

/* ---- corpus mode: a whole CSV / TSV / JSON Lines file through a task ---- */

/* What a corpus run reports while it goes. */
typedef enum nlp_corpus_event {
    NLP_CORPUS_BAD_ROW = 0,     /* a row skipped: "SOURCE: line N: reason" */
    NLP_CORPUS_TRUNCATED = 1,   /* "SOURCE: line N: T tokens, truncated to L" */
    NLP_CORPUS_NOTE = 2         /* anything else worth a warning */
} nlp_corpus_event;

typedef struct nlp_corpus_progress {
    size_t rows;                /* rows done */
    double seconds;             /* since the run started */
    uint64_t bytes, total_bytes;/* input read; its size (0 when unknown) */
    int final;                  /* the last call */
} nlp_corpus_progress;

/* A corpus job.  Zero-initialise, then set what applies. */
typedef struct nlp_corpus_job {
    const char *input;          /* path; NULL or "-": standard input */
    const char *output;         /* path; NULL or "-": standard output */
    const char *errors;         /* path for (line, error) of bad rows, or NULL */
    const char *format;         /* "csv", "tsv", "jsonl"; NULL: from the name */
    const char *delimiter;      /* one character, or "\t"; NULL: the format's */
    int no_header;              /* CSV without a header row: columns 1, 2, ... */
    const char *text_column;    /* name or 1-based index; for question/context
                                   tasks the question (default "question") */
    const char *pair_column;    /* text pair, or the context (default "context") */
    const char *id_column;      /* identifies rows for resume */
    int strict;                 /* stop at the first bad row */
    int resume;                 /* append to output, skipping the rows it holds */
    void (*on_event)(void *user, nlp_corpus_event ev, const char *msg);
    void (*on_progress)(void *user, const nlp_corpus_progress *pr);
    double progress_interval;   /* seconds between progress calls; 0: 0.25 */
    void *user;
} nlp_corpus_job;

typedef struct nlp_corpus_stats {
    size_t read, written, skipped, truncated;
    size_t resumed_after;       /* rows already in the output (resume) */
    int stopped_strict;         /* strict mode stopped at a bad row */
    int started;                /* rows were streamed (0: the run stopped
                                   before, or the input was empty) */
    double seconds;
} nlp_corpus_stats;

/* Stream job->input through the pipeline's task into job->output, keeping
 * every input column and the row order and appending the task's columns
 * (renamed TASK_NAME on a clash with an input column).  Bad rows are
 * reported through on_event and to job->errors, and skipped.  Memory is
 * bounded by a window of rows, whatever the input size; reading and
 * tokenising overlap the encoder.  *stats is filled also on failure.
 * NLP_ERR_USAGE: a bad column, format, delimiter or combination; other
 * statuses: the run failed (rows written so far stay written, and
 * stats->started says whether the rows were being streamed). */
/* Make the corpus runs of p write the task's first result column (an
 * array of numbers per row, all of one length, such as embed's
 * "embedding") as float32 rows to path instead of into the table: a NumPy
 * .npy file (format 1.0, '<f4', shape (rows, dim)) when path ends in
 * ".npy", else raw little-endian float32 (rows * dim values, ".f32").  Row
 * r of the file is row r of the output table.  NULL turns it off.  A run
 * with job->resume then fails with NLP_ERR_USAGE. */
NLP_API nlp_status nlp_pipeline_set_vectors(nlp_pipeline *p, const char *path,
                                            nlp_error *err);

NLP_API nlp_status nlp_pipeline_run_corpus(nlp_pipeline *p, const nlp_corpus_job *job,
                                           nlp_corpus_stats *stats, nlp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NLP_PIPELINE_H */
