/*
 * data_opts.h - the options `nlp train` and `nlp eval` share (see
 * data_opts.c).
 */
#ifndef NLP_CLI_DATA_OPTS_H
#define NLP_CLI_DATA_OPTS_H

#include <stddef.h>
#include "cli.h"

/* getopt codes of the data options (above any character). */
enum {
    CLI_OPT_DATA = 1000, CLI_OPT_FORMAT, CLI_OPT_TEXT_COLUMN, CLI_OPT_PAIR_COLUMN,
    CLI_OPT_LABEL_COLUMN, CLI_OPT_MULTI_LABEL, CLI_OPT_WHOLE_WORD, CLI_OPT_LABEL_ALL,
    CLI_OPT_STRICT, CLI_OPT_MAX_LEN, CLI_OPT_DOC_STRIDE, CLI_OPT_LIMIT, CLI_OPT_MASK_PROB,
    CLI_OPT_NEXT                 /* the first free code */
};

/* getopt_long entries for the codes above. */
#define CLI_DATA_LONGOPTS                                                   \
    {"data", required_argument, NULL, CLI_OPT_DATA},                        \
    {"format", required_argument, NULL, CLI_OPT_FORMAT},                    \
    {"text-column", required_argument, NULL, CLI_OPT_TEXT_COLUMN},          \
    {"text-pair-column", required_argument, NULL, CLI_OPT_PAIR_COLUMN},     \
    {"label-column", required_argument, NULL, CLI_OPT_LABEL_COLUMN},        \
    {"multi-label", no_argument, NULL, CLI_OPT_MULTI_LABEL},                \
    {"whole-word", no_argument, NULL, CLI_OPT_WHOLE_WORD},                  \
    {"label-all-subtokens", no_argument, NULL, CLI_OPT_LABEL_ALL},          \
    {"strict", no_argument, NULL, CLI_OPT_STRICT},                          \
    {"max-len", required_argument, NULL, CLI_OPT_MAX_LEN},                  \
    {"doc-stride", required_argument, NULL, CLI_OPT_DOC_STRIDE},            \
    {"limit", required_argument, NULL, CLI_OPT_LIMIT},                      \
    {"mask-prob", required_argument, NULL, CLI_OPT_MASK_PROB}

/* The trainer task of a command-line task name (mlm / fill-mask,
 * sentiment, classify, ner, qa): 1 and *task set, else 0. */
int cli_train_task(const char *name, nlp_train_task *task);

/* Parse an integer >= min, or a number in [lo, hi]: 1 on success. */
int cli_parse_size(const char *s, size_t min, size_t *out);
int cli_parse_double(const char *s, double lo, double hi, double *out);

/* Apply data option c: 1 when it was one, 0 when not, -1 when its value
 * is bad (reported as a usage error of cmd). */
int cli_data_option(const char *cmd, int c, const char *arg, nlp_dataset_opts *d);

/* The help text of the data options. */
const char *cli_data_help(void);

/* An nlp_data_warn_fn printing "nlp CMD: warning: ..." (user: the command
 * name). */
void cli_data_warn(void *user, const char *msg);

#endif /* NLP_CLI_DATA_OPTS_H */
