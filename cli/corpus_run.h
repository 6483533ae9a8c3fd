/*
 * corpus_run.h - corpus mode of the task commands: `nlp TASK --input FILE
 * --output FILE ...` streams a CSV / TSV / JSON Lines file through a task
 * plugin, keeping every input column and the row order and appending the
 * task's result columns (see docs/corpus.md).
 */
#ifndef NLP_CLI_CORPUS_RUN_H
#define NLP_CLI_CORPUS_RUN_H

#include <stddef.h>
#include "nlp/nlp.h"
#include "nlp/registry.h"

/* The corpus options of a task command (NULL / 0 when not given). */
typedef struct cli_corpus_opts {
    const char *input, *output, *format, *delimiter, *errors;
    const char *text_col, *pair_col, *question_col, *context_col, *id_col;
    int no_header, strict, resume, quiet;
    int any;   /* some corpus option was given: run in corpus mode */
} cli_corpus_opts;

/* What the runner needs of the task command. */
typedef struct cli_corpus_task {
    const char *task;
    const nlp_task_desc *desc;
    const nlp_plugin *plugin;
    nlp_optset *opts;          /* the task's option values */
    const char *model_ref;
    int offline;
    long threads;
    size_t batch;
    int dtype;                 /* an nlp_weight_type, or -1 for the model's default */
} cli_corpus_task;

/* Run task t over the corpus o describes.  Returns the exit status: 0 when
 * every row was written, 1 when some row was skipped or the run failed,
 * 2 for a usage error (bad column, format or delimiter).  Diagnostics go to
 * stderr; the summary too unless o->quiet. */
int cli_corpus_run(const cli_corpus_task *t, const cli_corpus_opts *o);

#endif /* NLP_CLI_CORPUS_RUN_H */
