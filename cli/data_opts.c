/*
 * data_opts.c - what `nlp train` and `nlp eval` share: task names, the
 * data options (--data, --format, columns, lengths, masking) and their
 * help text.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "data_opts.h"

int cli_train_task(const char *name, nlp_train_task *task)
{
    static const struct { const char *name; nlp_train_task task; } tasks[] = {
        {"mlm", NLP_TRAIN_MLM}, {"fill-mask", NLP_TRAIN_MLM},
        {"sentiment", NLP_TRAIN_SEQ_CLS}, {"classify", NLP_TRAIN_SEQ_CLS},
        {"ner", NLP_TRAIN_TOKEN_CLS}, {"qa", NLP_TRAIN_QA},
    };
    for (size_t i = 0; name && i < sizeof tasks / sizeof *tasks; i++)
        if (strcmp(name, tasks[i].name) == 0) {
            *task = tasks[i].task;
            return 1;
        }
    return 0;
}

int cli_parse_size(const char *s, size_t min, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > (1ull << 40))
        return 0;
    *out = (size_t)v;
    return 1;
}

int cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return 0;
    *out = v;
    return 1;
}

/* The data option c with value arg into d; 0 when c is not one, -1 for a
 * bad value (reported). */
int cli_data_option(const char *cmd, int c, const char *arg, nlp_dataset_opts *d)
{
    switch (c) {
    case CLI_OPT_DATA: d->path = arg; return 1;
    case CLI_OPT_FORMAT: d->format = arg; return 1;
    case CLI_OPT_TEXT_COLUMN: d->text_column = arg; return 1;
    case CLI_OPT_PAIR_COLUMN: d->text_pair_column = arg; return 1;
    case CLI_OPT_LABEL_COLUMN: d->label_column = arg; return 1;
    case CLI_OPT_MULTI_LABEL: d->multi_label = 1; return 1;
    case CLI_OPT_WHOLE_WORD: d->whole_word = 1; return 1;
    case CLI_OPT_LABEL_ALL: d->label_all_subtokens = 1; return 1;
    case CLI_OPT_STRICT: d->strict = 1; return 1;
    case CLI_OPT_MAX_LEN:
        if (cli_parse_size(arg, 4, &d->max_len))
            return 1;
        cli_usage_error(cmd, "--max-len must be an integer of at least 4, got '%s'", arg);
        return -1;
    case CLI_OPT_DOC_STRIDE:
        if (cli_parse_size(arg, 1, &d->doc_stride))
            return 1;
        cli_usage_error(cmd, "--doc-stride must be a positive integer, got '%s'", arg);
        return -1;
    case CLI_OPT_LIMIT:
        if (cli_parse_size(arg, 1, &d->limit))
            return 1;
        cli_usage_error(cmd, "--limit must be a positive integer, got '%s'", arg);
        return -1;
    case CLI_OPT_MASK_PROB:
        if (cli_parse_double(arg, 0.001, 0.999, &d->mask_prob))
            return 1;
        cli_usage_error(cmd, "--mask-prob must be a number in (0, 1), got '%s'", arg);
        return -1;
    }
    return 0;
}

const char *cli_data_help(void)
{
    return "Data (--data FILE; the format follows the name unless --format is given):\n"
           "  mlm        text (one paragraph per line), or .csv/.tsv/.jsonl with a text column\n"
           "  sentiment, classify\n"
           "             .csv/.tsv/.jsonl: text, optional second text, label columns\n"
           "  ner        CoNLL (token ... TAG per line, blank line between sentences,\n"
           "             -DOCSTART- skipped), or .jsonl {\"tokens\": [...], \"tags\": [...]}\n"
           "  qa         SQuAD v1.1 / v2.0 JSON\n"
           "  A malformed row is reported with file and line and skipped (--strict: stop).\n"
           "\nData options:\n"
           "  --data FILE             the data (required)\n"
           "  --format F              text, csv, tsv, jsonl, conll or squad\n"
           "  --text-column C         text column (default: text, else sentence, else the first)\n"
           "  --text-pair-column C    second text of sentence pairs (e.g. NLI)\n"
           "  --label-column C        label column (default: label)\n"
           "  --multi-label           several labels per row (a JSON array or a, b, c)\n"
           "  --max-len N             tokens per sequence with [CLS]/[SEP] (default 128, qa 384)\n"
           "  --doc-stride N          qa: tokens shared by overlapping windows (default 128)\n"
           "  --mask-prob P           mlm: share of tokens masked (default 0.15)\n"
           "  --whole-word            mlm: mask whole words\n"
           "  --label-all-subtokens   ner: label every sub-token, not just the first\n"
           "  --limit N               read at most N rows / sentences / questions\n"
           "  --strict                stop at the first malformed row\n";
}

void cli_data_warn(void *user, const char *msg)
{
    cli_warn((const char *)user, "%s", msg);
}
