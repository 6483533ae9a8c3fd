/*
 * common.c - helpers every nlp command shares: one-line diagnostics,
 * inputs from arguments or stdin, and model resolution (see cli.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cli.h"
#include "progress.h"

int cli_fail(const char *cmd, const nlp_error *err)
{
    const char *msg = err && err->msg[0] ? err->msg
                      : err              ? nlp_strerror(err->status)
                                         : "failed";
    if (cmd)
        fprintf(stderr, "nlp %s: %s\n", cmd, msg);
    else
        fprintf(stderr, "nlp: %s\n", msg);
    return CLI_EXIT_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "nlp %s: %s (see 'nlp %s --help')\n", cmd, msg, cmd);
    else
        fprintf(stderr, "nlp: %s (see 'nlp --help')\n", msg);
    return CLI_EXIT_USAGE;
}

void cli_warn(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "nlp %s: warning: %s\n", cmd, msg);
    else
        fprintf(stderr, "nlp: warning: %s\n", msg);
}

nlp_status cli_resolve_model(const char *ref, int offline, int quiet,
                             char **dir, nlp_error *err)
{
    nlp_hub_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.offline = offline;
    cli_progress bar;
    memset(&bar, 0, sizeof bar);
    if (cli_progress_wanted(quiet)) {   /* a bar on stderr, when a terminal */
        opts.progress = cli_progress_update;
        opts.progress_user = &bar;
    }
    return nlp_hub_resolve(ref, &opts, dir, err);
}

int cli_for_each_input(int argc, char **argv, int first, cli_input_fn fn, void *ctx)
{
    if (first < argc) {
        for (int i = first; i < argc; i++) {
            int rc = fn(ctx, (size_t)(i - first + 1), argv[i], strlen(argv[i]));
            if (rc)
                return rc;
        }
        return 0;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        line[len] = '\0';
        if ((rc = fn(ctx, ++lineno, line, len)) != 0)
            break;
    }
    free(line);
    return rc;
}
