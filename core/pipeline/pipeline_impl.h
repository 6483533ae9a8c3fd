/*
 * pipeline_impl.h - what the pipeline's files share (pipeline.c, input.c,
 * columns.c, corpus_run.c): the pipeline object and the per-input
 * preparation (token count, truncation) that both the batch runner and the
 * corpus reader thread use.
 */
#ifndef NLP_PIPELINE_IMPL_H
#define NLP_PIPELINE_IMPL_H

#include <stdio.h>

#include "nlp/nlp.h"
#include "nlp/pipeline.h"

#define PL_MAX_COLUMNS 16
#define PL_DEFAULT_BATCH 8

/* One input after preparation: its (possibly shortened) lengths and token
 * count, or why it cannot run. */
typedef struct pl_prepared {
    size_t text_len, pair_len;  /* bytes the task gets */
    size_t ntok;                /* tokens the task gets */
    size_t truncated_from;      /* > 0: tokens before truncation */
    int bad;                    /* err says why */
    nlp_error err;
} pl_prepared;

struct nlp_pipeline {
    char *task;
    nlp_pipeline_opts o;            /* strings below are copies */
    char *model_ref, *plugin_dir;
    nlp_registry *reg;
    int own_reg;
    const nlp_plugin_info *info;
    const nlp_task_desc *desc;
    nlp_optset *opts;
    nlp_task_host host;
    nlp_task_args args;

    nlp_column cols[PL_MAX_COLUMNS];
    char colname[PL_MAX_COLUMNS][64];   /* names of default columns */
    size_t ncols;
    int cols_stale;

    int loaded;                     /* model, tokenizer, context, plugin */
    nlp_shared_model *shared;       /* a reference: borrowed from opts at open,
                                       or loaded by the pipeline itself */
    int borrowed;                   /* shared came from opts.shared_model */
    const char *model_dir;          /* shared's, once loaded */
    const nlp_model *model;         /* shared's, once loaded */
    const nlp_tokenizer *tok;       /* shared's, once loaded */
    nlp_ctx *ctx;
    void *state;
    size_t limit;                   /* most tokens the model takes; 0: no limit */

    /* scratch of the batch runner, grown as needed, kept between runs */
    nlp_encoding enc;
    pl_prepared *prep;              /* [cap_prep] */
    size_t *order;                  /* [2 * cap_prep] */
    nlp_value **res;                /* [cap_prep] */
    nlp_error *errs;                /* [cap_prep] */
    size_t cap_prep;
    nlp_input *bin;
    nlp_value **bres;
    nlp_error *berrs;
    size_t cap_batch;

    char *vectors;                  /* corpus runs: the vector file, or NULL */
};

/* The binary vector file of a corpus run (vectors.c). */
typedef struct pl_vectors {
    FILE *f;
    const char *path;
    int npy;                        /* .npy, else raw .f32 */
    size_t rows, dim;
    float *buf;                     /* [cap] one row as float32 */
    size_t cap;
} pl_vectors;

/* Create path and, for .npy, write a header to be completed at close. */
nlp_status pl_vectors_open(pl_vectors *v, const char *path, nlp_error *err);
/* Append one row: a (non-empty) array of numbers as long as the others;
 * line names the input row in errors. */
nlp_status pl_vectors_add(pl_vectors *v, const nlp_value *a, size_t line, nlp_error *err);
/* Complete the header, close; st is the run's status so far, returned
 * unless closing fails. */
nlp_status pl_vectors_close(pl_vectors *v, nlp_status st, nlp_error *err);

/* Count input's tokens with tok (enc is scratch) and cut it to limit
 * tokens unless the task windows long inputs or truncation is off. */
void pl_prepare(const nlp_pipeline *p, const nlp_tokenizer *tok, const nlp_input *in,
                nlp_encoding *enc, pl_prepared *out);

/* Run prepared inputs through the plugin in batches of batch_size, in
 * order of ntok (order[] is scratch of n entries).  res[i] / errs[i]
 * receive input i's outcome.  Another status than NLP_OK: the whole run
 * failed (err says why; no res[] kept). */
nlp_status pl_run_prepared(nlp_pipeline *p, const nlp_input *in, const pl_prepared *prep,
                           size_t n, size_t *order, nlp_value **res, nlp_error *errs,
                           nlp_error *err);

/* The task's input kind and whether it windows long inputs itself. */
static inline int pl_windowed(const nlp_pipeline *p)
{
    return (p->desc->flags & NLP_TASK_WINDOWS) != 0;
}

/* Recompute the columns after an option changed (columns.c). */
void pl_columns_update(nlp_pipeline *p);

#endif /* NLP_PIPELINE_IMPL_H */
