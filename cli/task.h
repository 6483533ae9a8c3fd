/*
 * task.h - what the files behind `nlp TASK` share: the parsed command line
 * (task_opts.c), the interactive runner (cmd_task.c), corpus mode
 * (corpus_run.c) and the readable rendering of results (render.c).
 */
#ifndef NLP_CLI_TASK_H
#define NLP_CLI_TASK_H

#include <stddef.h>
#include "nlp/nlp.h"
#include "nlp/pipeline.h"

/* One task option given on the command line, in the order given. */
typedef struct cli_task_set {
    const char *name, *value;   /* value NULL for a flag */
} cli_task_set;

/* `nlp TASK ...` parsed. */
typedef struct cli_task_cmd {
    const char *task;
    const nlp_task_desc *desc;
    nlp_pipeline_opts po;       /* model, dtype, threads, batch size, ... */
    int json, quiet, help;
    const char *text_pair, *question, *context;
    cli_task_set *sets;         /* [n_sets] task options */
    size_t n_sets;
    nlp_corpus_job job;         /* corpus options */
    int corpus;                 /* some corpus option was given */
    const char *vectors;        /* --vectors FILE, or NULL */
    int first_input;            /* argv index of the first TEXT argument */
} cli_task_cmd;

/* Parse argv (argv[0] = the task) against the common options and the
 * task's declared ones.  Returns 0, or the exit status of a usage error
 * (reported).  cmd->sets is freed with cli_task_cmd_free(). */
int cli_task_parse(cli_task_cmd *cmd, const char *task, const nlp_task_desc *desc,
                   int argc, char **argv);
void cli_task_cmd_free(cli_task_cmd *cmd);

/* `nlp TASK --help`. */
void cli_task_help(const char *task, const nlp_task_desc *d, const char *plugin);

/* Corpus mode: run the pipeline over cmd->job.  Returns the exit status. */
int cli_corpus_run(nlp_pipeline *p, const cli_task_cmd *cmd);

/* Print a result readably: columns is the task's result_columns. */
void cli_render(const nlp_value *v, const char *columns);

#endif /* NLP_CLI_TASK_H */
