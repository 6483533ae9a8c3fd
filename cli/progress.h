/*
 * progress.h - the download progress bar of the nlp CLI: one line per file
 * on stderr (name, bar, bytes, rate, ETA), redrawn in place at most ten
 * times a second.  Shown only when stderr is a terminal and not --quiet.
 */
#ifndef NLP_CLI_PROGRESS_H
#define NLP_CLI_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_progress {
    char file[128];       /* file being drawn */
    double start;         /* when its first report came (monotonic s) */
    double last_draw;     /* when the line was last drawn */
    uint64_t base;        /* bytes already there at the first report (resume) */
    int drawn;            /* a line is on screen and not finished */
} cli_progress;

/* 1 when a progress bar should be shown: stderr is a terminal and not quiet. */
int cli_progress_wanted(int quiet);

/* An nlp_hub_progress_fn: user is a zero-initialised cli_progress. */
void cli_progress_update(void *user, const char *file, uint64_t done, uint64_t total);

/* Format one progress line (no newline) into buf: file, a bar of
 * bar_width cells when total is known, bytes done/total, rate, ETA.
 * elapsed is seconds since the file started, moved the bytes moved in
 * that time (for the rate). */
void cli_progress_format(char *buf, size_t size, const char *file, uint64_t done, uint64_t total,
                         uint64_t moved, double elapsed, int bar_width);

/* "1.5 MB"-style size (powers of 1000, like huggingface_hub's). */
void cli_format_size(char *buf, size_t size, uint64_t bytes);

#endif /* NLP_CLI_PROGRESS_H */
