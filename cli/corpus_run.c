/*
 * corpus_run.c - corpus mode of the task commands (`nlp TASK --input FILE
 * --output FILE ...`, see docs/corpus.md): the terminal side of
 * nlp_pipeline_run_corpus(): bad rows and the first truncations on
 * stderr, a progress line on a terminal, the summary at the end.
 */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "task.h"

#define MAX_WARNINGS 10   /* truncation warnings shown; the rest are counted */

typedef struct corpus_ui {
    const cli_task_cmd *cmd;
    int progress;                /* a progress line is drawn */
    size_t truncations;
} corpus_ui;

/* Clear the progress line before a message. */
static void clear_line(const corpus_ui *ui)
{
    if (ui->progress)
        fprintf(stderr, "\r\033[K");
}

static void on_event(void *user, nlp_corpus_event ev, const char *msg)
{
    corpus_ui *ui = user;
    const char *task = ui->cmd->task;
    if (ev == NLP_CORPUS_TRUNCATED) {
        if (ui->cmd->quiet || ++ui->truncations > MAX_WARNINGS)
            return;
        clear_line(ui);
        cli_warn(task, "%s%s", msg, ui->truncations == MAX_WARNINGS
                                        ? " (further truncations are only counted)" : "");
    } else if (ev == NLP_CORPUS_BAD_ROW) {
        clear_line(ui);
        fprintf(stderr, "nlp %s: %s\n", task, msg);
    } else
        cli_warn(task, "%s", msg);
}

static void on_progress(void *user, const nlp_corpus_progress *pr)
{
    const corpus_ui *ui = user;
    double rate = pr->seconds > 0 ? pr->rows / pr->seconds : 0;
    char eta[48] = "";
    if (pr->total_bytes > 0 && pr->bytes > 0 && pr->bytes <= pr->total_bytes &&
        pr->seconds > 0.5) {
        double left = pr->seconds * (double)(pr->total_bytes - pr->bytes) / (double)pr->bytes;
        snprintf(eta, sizeof eta, ", %.0f%%, ETA %d:%02d", 100.0 * pr->bytes / pr->total_bytes,
                 (int)(left / 60), (int)left % 60);
    }
    fprintf(stderr, "\r\033[Knlp %s: %zu rows, %.0f rows/s%s%s", ui->cmd->task, pr->rows, rate,
            eta, pr->final ? "\n" : "");
    fflush(stderr);
}

static void summary(const cli_task_cmd *cmd, const nlp_corpus_stats *s, int fatal)
{
    if (cmd->quiet)
        return;
    if (s->resumed_after)
        fprintf(stderr, "nlp %s: resumed after %zu rows already in %s\n", cmd->task,
                s->resumed_after, cmd->job.output);
    char trunc[64] = "";
    if (s->truncated)
        snprintf(trunc, sizeof trunc, " (%zu truncated)", s->truncated);
    fprintf(stderr, "nlp %s: %zu rows read, %zu written%s, %zu skipped in %.1f s (%.1f rows/s)%s\n",
            cmd->task, s->read, s->written, trunc, s->skipped, s->seconds,
            s->seconds > 0 ? s->read / s->seconds : 0.0,
            s->stopped_strict && !fatal ? "; stopped at the first bad row (--strict)" : "");
}

int cli_corpus_run(nlp_pipeline *p, const cli_task_cmd *cmd)
{
    corpus_ui ui = {cmd, !cmd->quiet && isatty(STDERR_FILENO), 0};
    nlp_corpus_job job = cmd->job;
    job.on_event = on_event;
    job.on_progress = ui.progress ? on_progress : NULL;
    job.user = &ui;
    nlp_corpus_stats stats;
    nlp_error err = {0};
    nlp_status st = nlp_pipeline_set_vectors(p, cmd->vectors, &err);
    if (st == NLP_OK)
        st = nlp_pipeline_run_corpus(p, &job, &stats, &err);
    if (st == NLP_ERR_USAGE)
        return cli_usage_error(cmd->task, "%s", err.msg);
    if (st != NLP_OK)
        cli_fail(cmd->task, &err);
    if (stats.started)
        summary(cmd, &stats, st != NLP_OK);
    return st != NLP_OK || stats.skipped ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
