/*
 * cmd_eval.c - `nlp eval TASK --model M --data FILE`: score a checkpoint
 * on labelled data through nlp_eval_run and print the report, as a table
 * or (--json) as one JSON object.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_opts.h"

static const char *CMD = "eval";

static void usage(void)
{
    printf("usage: nlp eval mlm|sentiment|classify|ner|qa --model DIR|ID --data FILE [options]\n"
           "Score a model on labelled data:\n"
           "  sentiment, classify  accuracy, macro precision / recall / F1, per-label scores\n"
           "                       (multi-label: subset accuracy, micro and macro F1)\n"
           "  ner                  entity-level precision / recall / F1 overall and per type\n"
           "                       (IOB2 chunks, as seqeval and conlleval count them)\n"
           "  qa                   SQuAD v1.1 exact match and F1 (percent)\n"
           "  mlm                  top-1 / top-5 accuracy and perplexity at masked positions\n"
           "                       (15%% of tokens, seeded) and pseudo-perplexity\n"
           "Labels in the data must be the model's (config.json id2label); with\n"
           "classify --labels (zero-shot), one of the candidate labels.\n\n%s"
           "\nOptions:\n"
           "  --model DIR|ID          the checkpoint (required)\n"
           "  --json                  print the report as one JSON object\n"
           "  --batch-size N          sequences per forward pass (default 32)\n"
           "  --threads N             worker threads (default: all cores)\n"
           "  --seed N                mlm masking (default 42)\n"
           "  --pppl-limit N          mlm: sequences scored for pseudo-perplexity (default 100)\n"
           "  --max-answer-len N      qa: longest answer in tokens (default 30)\n"
           "  --labels A,B,...        classify: zero-shot over these candidate labels, each\n"
           "                          text run as `nlp classify --labels` runs it (NLI model)\n"
           "  --template T            zero-shot hypothesis, {} for the label\n"
           "                          (default \"This example is {}.\")\n"
           "  --offline               never contact the Hugging Face Hub\n"
           "  -h, --help              show this help and exit\n", cli_data_help());
}

enum { O_MODEL = CLI_OPT_NEXT, O_JSON, O_BATCH, O_THREADS, O_SEED, O_PPPL, O_ANSLEN, O_OFFLINE, O_LABELS,
       O_TEMPLATE };

/* Numbers first, then each nested object as a table of its rows. */
static void print_report(const nlp_value *rep)
{
    for (size_t i = 0; i < nlp_value_len(rep); i++) {
        const nlp_value *v = nlp_value_at(rep, i);
        const char *k = nlp_value_key(rep, i);
        if (nlp_value_kind_of(v) == NLP_VALUE_NUMBER)
            printf("%-26s %.4f\n", k, nlp_value_number(v));
        else if (nlp_value_kind_of(v) == NLP_VALUE_STRING)
            printf("%-26s %s\n", k, nlp_value_string(v));
    }
    for (size_t i = 0; i < nlp_value_len(rep); i++) {
        const nlp_value *t = nlp_value_at(rep, i);
        if (nlp_value_kind_of(t) != NLP_VALUE_OBJECT)
            continue;
        printf("\n%-20s %9s %9s %9s %9s\n", nlp_value_key(rep, i), "precision", "recall", "f1",
               "support");
        for (size_t j = 0; j < nlp_value_len(t); j++) {
            const nlp_value *s = nlp_value_at(t, j);
            printf("%-20s %9.4f %9.4f %9.4f %9.0f\n", nlp_value_key(t, j),
                   nlp_value_number(nlp_value_get(s, "precision")),
                   nlp_value_number(nlp_value_get(s, "recall")),
                   nlp_value_number(nlp_value_get(s, "f1")),
                   nlp_value_number(nlp_value_get(s, "support")));
        }
    }
}

static int option(nlp_eval_opts *o, int k, const char *arg, const char **model, int *json,
                  int *offline)
{
    size_t z;
    switch (k) {
    case O_MODEL: *model = arg; return 0;
    case O_JSON: *json = 1; return 0;
    case O_OFFLINE: *offline = 1; return 0;
    case O_BATCH:
        if (!cli_parse_size(arg, 1, &o->batch_size) || o->batch_size > 65536)
            return cli_usage_error(CMD, "--batch-size must be in [1, 65536], got '%s'", arg);
        return 0;
    case O_THREADS:
        if (!cli_parse_size(arg, 1, &z) || z > 4096)
            return cli_usage_error(CMD, "--threads must be in [1, 4096], got '%s'", arg);
        o->threads = (int)z;
        return 0;
    case O_SEED:
        if (!cli_parse_size(arg, 0, &z))
            return cli_usage_error(CMD, "--seed must be a non-negative integer, got '%s'", arg);
        o->seed = z;
        return 0;
    case O_PPPL:
        if (!cli_parse_size(arg, 0, &o->pppl_limit))
            return cli_usage_error(CMD, "--pppl-limit must be a non-negative integer");
        return 0;
    case O_LABELS: o->zero_shot_labels = arg; return 0;
    case O_TEMPLATE: o->zero_shot_template = arg; return 0;
    case O_ANSLEN:
        if (!cli_parse_size(arg, 1, &o->max_answer_len))
            return cli_usage_error(CMD, "--max-answer-len must be a positive integer");
        return 0;
    }
    return cli_usage_error(CMD, "unknown option");
}

int cmd_eval(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_DATA_LONGOPTS,
        {"model", required_argument, NULL, O_MODEL}, {"json", no_argument, NULL, O_JSON},
        {"batch-size", required_argument, NULL, O_BATCH},
        {"threads", required_argument, NULL, O_THREADS}, {"seed", required_argument, NULL, O_SEED},
        {"pppl-limit", required_argument, NULL, O_PPPL},
        {"max-answer-len", required_argument, NULL, O_ANSLEN},
        {"offline", no_argument, NULL, O_OFFLINE},
        {"labels", required_argument, NULL, O_LABELS},
        {"template", required_argument, NULL, O_TEMPLATE},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    if (argc < 2)
        return cli_usage_error(CMD, "name a task: mlm, sentiment, classify, ner or qa");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
        return usage(), CLI_EXIT_OK;
    nlp_train_task task;
    if (!cli_train_task(argv[1], &task))
        return cli_usage_error(CMD, "unknown task '%s' (mlm, sentiment, classify, ner, qa)",
                               argv[1]);
    nlp_eval_opts o;
    nlp_eval_opts_init(&o, task, NULL, NULL);
    const char *model = NULL;
    int json = 0, offline = 0, k;
    opterr = 0;
    optind = 2;
    while ((k = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (k == 'h')
            return usage(), CLI_EXIT_OK;
        if (k == ':')
            return cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
        if (k == '?')
            return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        int r = cli_data_option(CMD, k, optarg, &o.data);
        if (r < 0 || (r == 0 && option(&o, k, optarg, &model, &json, &offline)))
            return CLI_EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!model || !o.data.path)
        return cli_usage_error(CMD, "--model and --data are required");
    if ((o.zero_shot_labels || o.zero_shot_template) && task != NLP_TRAIN_SEQ_CLS)
        return cli_usage_error(CMD, "--labels and --template apply to classify only");
    if (o.zero_shot_template && !o.zero_shot_labels)
        return cli_usage_error(CMD, "--template needs --labels");
    o.data.task = task;
    o.data.warn = cli_data_warn;
    o.data.warn_user = (void *)CMD;
    nlp_error err = {0};
    char *dir = NULL;
    nlp_value *rep = NULL;
    nlp_status st = cli_resolve_model(model, offline, 0, &dir, &err);
    o.model = dir;
    if (st == NLP_OK)
        st = nlp_eval_run(&o, &rep, &err);
    free(dir);
    if (st == NLP_ERR_USAGE)
        return cli_usage_error(CMD, "%s", err.msg);
    if (st != NLP_OK)
        return cli_fail(CMD, &err);
    if (json) {
        char *s = nlp_value_to_json(rep, 0);
        printf("%s\n", s ? s : "null");
        free(s);
    } else {
        print_report(rep);
    }
    nlp_value_free(rep);
    return CLI_EXIT_OK;
}
