/*
 * cli.h - what the nlp commands share.  The CLI uses only libnlp's public
 * API (include/nlp/).
 *
 * A command is a function taking its own argc/argv (argv[0] is the command
 * name) and returning the process exit status:
 *   0  success
 *   1  a runtime failure, or some inputs failed (each reported on stderr)
 *   2  a usage error (unknown option, missing or malformed value)
 * Commands parse options with getopt_long (opterr = 0, and report problems
 * through cli_usage_error so every message has the same shape).
 * Diagnostics are one line each on stderr, prefixed "nlp: " or
 * "nlp CMD: ".  Results go to stdout.
 */
#ifndef NLP_CLI_H
#define NLP_CLI_H

#include <stdio.h>
#include "nlp/nlp.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    const char *summary;               /* one line for `nlp --help` */
    int (*run)(int argc, char **argv);
} cli_command;

/* Built-in commands, one file each (cli/cmd_NAME.c). */
int cmd_tokenize(int argc, char **argv);
int cmd_plugins(int argc, char **argv);
int cmd_download(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_serve(int argc, char **argv);
/* 1 if name is a built-in command (which a plugin task of the same name
 * cannot replace), else 0. */
int cli_is_builtin(const char *name);
/* The value of --plugin-dir anywhere before "--" (needed before a task's
 * own options are known), or NULL. */
const char *cli_scan_plugin_dir(int argc, char **argv);
/* Every task served by a plugin (fill-mask, sentiment, ...) runs here. */
int cmd_task(const char *task, int argc, char **argv);

/* "nlp CMD: <err->msg>" on stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *cmd, const nlp_error *err);

/* "nlp CMD: <message> (see 'nlp CMD --help')" on stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "nlp CMD: warning: <message>" on stderr. */
void cli_warn(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resolve a --model value: an existing directory is used as it is;
 * anything else is a hub id "org/name[@revision]" fetched into (or found
 * in) the Hugging Face cache.  offline: never open a connection.  quiet: no
 * progress output.  On success *dir is a new string (free()). */
nlp_status cli_resolve_model(const char *ref, int offline, int quiet,
                             char **dir, nlp_error *err);

/* Inputs of a command: the remaining arguments when there are any, else
 * one per line from stdin (a trailing "\r" is dropped).  Calls fn for each
 * with its 1-based number; stops early when fn returns non-zero and
 * returns that value, else 0. */
typedef int (*cli_input_fn)(void *ctx, size_t lineno, const char *text, size_t len);
int cli_for_each_input(int argc, char **argv, int first, cli_input_fn fn, void *ctx);

/* Width of UTF-8 text in terminal cells (wide CJK characters count two,
 * combining marks none; bytes that are not UTF-8 one each). */
int cli_text_width(const char *s);

#endif /* NLP_CLI_H */
