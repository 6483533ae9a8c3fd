/*
 * task_opts.c - the command line of `nlp TASK`: the options every task
 * takes (model, output, batching, corpus mode), the task's own declared
 * options, --help generated from both, and parsing argv into a
 * cli_task_cmd (task.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "task.h"

/* ----------------------------------------------------------- options */

enum {
    OPT_MODEL = 256, OPT_JSON, OPT_BATCH, OPT_THREADS, OPT_DTYPE, OPT_PLUGIN_DIR,
    OPT_OFFLINE, OPT_QUIET, OPT_HELP, OPT_TEXT_PAIR, OPT_QUESTION, OPT_CONTEXT,
    /* corpus mode (corpus_run.c) */
    OPT_INPUT, OPT_OUTPUT, OPT_FORMAT, OPT_DELIMITER, OPT_NO_HEADER, OPT_TEXT_COL,
    OPT_PAIR_COL, OPT_QUESTION_COL, OPT_CONTEXT_COL, OPT_ID_COL, OPT_ERRORS, OPT_STRICT,
    OPT_RESUME, OPT_NO_TRUNCATION, OPT_ANY_ARCH, OPT_VECTORS,
    OPT_TASK_BASE = 1024   /* + index of the plugin's option */
};

typedef struct common_opt {
    const char *name;
    int has_arg;
    int val;
    const char *metavar;
    const char *help;
} common_opt;

static const common_opt common_opts[] = {
    {"model", required_argument, OPT_MODEL, "DIR_OR_ID", "model directory, built-in model (see 'nlp models') or Hugging Face hub id"},
    {"json", no_argument, OPT_JSON, NULL,
     "print one JSON value per input, one per line (Hugging Face's field names; "
     "{\"error\", \"error_type\"} for a failed input)"},
    {"batch-size", required_argument, OPT_BATCH, "N", "inputs per forward pass"},
    {"threads", required_argument, OPT_THREADS, "N", "worker threads, 0 = all cores"},
    {"dtype", required_argument, OPT_DTYPE, "fp32|int8|bf16",
     "encoder weights: int8 or bf16 convert them at load (default fp32; int8 for a "
     "checkpoint written by nlp quantize)"},
    {"plugin-dir", required_argument, OPT_PLUGIN_DIR, "DIR", "search DIR for plugins first"},
    {"offline", no_argument, OPT_OFFLINE, NULL, "never connect to the hub; use the local cache only"},
    {"quiet", no_argument, OPT_QUIET, NULL, "no progress output"},
    {"no-truncation", no_argument, OPT_NO_TRUNCATION, NULL,
     "an input longer than the model takes is an error, not cut to fit"},
    {"any-architecture", no_argument, OPT_ANY_ARCH, NULL,
     "run even when config.json names a head this task does not use"},
    {"help", no_argument, OPT_HELP, NULL, "show this help and exit"},
    {"text-pair", required_argument, OPT_TEXT_PAIR, "TEXT", "second text of every input"},
    {"question", required_argument, OPT_QUESTION, "TEXT", "the question"},
    {"context", required_argument, OPT_CONTEXT, "TEXT", "the context holding the answer"},
    {"input", required_argument, OPT_INPUT, "FILE", "corpus mode: read a CSV/TSV/JSON Lines file ('-' = stdin)"},
    {"output", required_argument, OPT_OUTPUT, "FILE", "corpus mode: write the input columns plus the results ('-' = stdout)"},
    {"format", required_argument, OPT_FORMAT, "csv|tsv|jsonl", "corpus format (default: from the file name, else csv)"},
    {"delimiter", required_argument, OPT_DELIMITER, "CHAR", "corpus field delimiter ('\\t' for tab)"},
    {"no-header", no_argument, OPT_NO_HEADER, NULL, "the corpus has no header row; columns are 1, 2, ..."},
    {"text-column", required_argument, OPT_TEXT_COL, "NAME|INDEX", "corpus column holding the text"},
    {"text-pair-column", required_argument, OPT_PAIR_COL, "NAME|INDEX", "corpus column holding the second text"},
    {"question-column", required_argument, OPT_QUESTION_COL, "NAME|INDEX", "corpus column holding the question"},
    {"context-column", required_argument, OPT_CONTEXT_COL, "NAME|INDEX", "corpus column holding the context"},
    {"id-column", required_argument, OPT_ID_COL, "NAME|INDEX", "corpus column identifying rows (for --resume)"},
    {"errors", required_argument, OPT_ERRORS, "FILE", "corpus mode: also write bad rows (line, error) to FILE"},
    {"strict", no_argument, OPT_STRICT, NULL, "corpus mode: stop at the first bad row"},
    {"resume", no_argument, OPT_RESUME, NULL, "corpus mode: append to --output, skipping the rows it holds"},
    {"vectors", required_argument, OPT_VECTORS, "FILE", "corpus mode: write the first result column (vectors, e.g. embed's) as float32 rows to FILE (.npy, else raw .f32) instead of --output"},
};
#define N_COMMON (sizeof common_opts / sizeof common_opts[0])
#define DEFAULT_BATCH 8
#define MAX_BATCH 65536
#define MAX_THREADS 1024

/* Whether a common option applies to a task of this input kind. */
static int common_applies(const common_opt *c, nlp_input_kind kind)
{
    if (c->val == OPT_TEXT_PAIR || c->val == OPT_PAIR_COL)
        return kind == NLP_INPUT_TEXT_PAIR;
    if (c->val == OPT_QUESTION || c->val == OPT_CONTEXT || c->val == OPT_QUESTION_COL ||
        c->val == OPT_CONTEXT_COL)
        return kind == NLP_INPUT_QUESTION_CONTEXT;
    if (c->val == OPT_TEXT_COL)
        return kind != NLP_INPUT_QUESTION_CONTEXT;
    return 1;
}

static int is_common_name(const char *name)
{
    for (size_t i = 0; i < N_COMMON; i++)
        if (strcmp(common_opts[i].name, name) == 0)
            return 1;
    return 0;
}

static const char *metavar_of(const nlp_option *o)
{
    if (o->metavar)
        return o->metavar;
    switch (o->type) {
    case NLP_OPT_INT: return "N";
    case NLP_OPT_FLOAT: return "X";
    case NLP_OPT_STRING: return "TEXT";
    case NLP_OPT_CHOICE: return o->choices;
    default: return NULL;
    }
}

static void help_line(const char *name, const char *metavar, const char *help,
                      const char *dflt)
{
    char left[256];
    snprintf(left, sizeof left, "--%s%s%s", name, metavar ? " " : "", metavar ? metavar : "");
    if (strlen(left) > 26)   /* a long name gets its own line */
        printf("  %s\n  %-26s %s", left, "", help ? help : "");
    else
        printf("  %-26s %s", left, help ? help : "");
    if (dflt && !(help && strstr(help, "(default")))
        printf(" (default: %s)", dflt);
    printf("\n");
}

void cli_task_help(const char *task, const nlp_task_desc *d, const char *plugin)
{
    switch (d->input) {
    case NLP_INPUT_QUESTION_CONTEXT:
        printf("usage: nlp %s [options] --question TEXT --context TEXT\n"
               "       nlp %s [options] [JSON...]   (or JSON Lines on stdin)\n",
               task, task);
        break;
    case NLP_INPUT_TEXT_PAIR:
        printf("usage: nlp %s [options] [--text-pair TEXT] [TEXT...]\n", task);
        break;
    default:
        printf("usage: nlp %s [options] [TEXT...]\n", task);
        break;
    }
    printf("%s\n\n", d->summary ? d->summary : "");
    if (d->input == NLP_INPUT_QUESTION_CONTEXT)
        printf("Inputs: --question and --context, or one JSON object per argument or\n"
               "per line of standard input: {\"question\": \"...\", \"context\": \"...\"}.\n");
    else
        printf("Inputs: the TEXT arguments, or one per line of standard input.\n");
    if (d->flags & NLP_TASK_RANKS)
        printf("Results: one list for all inputs, best score first, as {index, score, ...}\n"
               "(with --json one JSON array); in corpus mode a score per row.\n");
    printf("Corpus mode: --input/--output FILE (CSV, TSV or JSON Lines; '-' = stdin/stdout)\n"
           "runs over a whole file, keeping every column (see docs/corpus.md).\n");
    if (!d->default_model)
        printf("Default model: (none; --model is required)\n");
    else if (nlp_builtin_reserved(d->default_model))
        printf("Default model: %s (built in, no network access)\n", d->default_model);
    else
        printf("Default model: %s\n", d->default_model);
    printf("Served by the plugin '%s'.\n\nOptions:\n", plugin);
    char num[32];
    for (size_t i = 0; i < N_COMMON; i++) {
        const common_opt *c = &common_opts[i];
        if (!common_applies(c, d->input))
            continue;
        const char *dflt = NULL;
        switch (c->val) {
        case OPT_MODEL: dflt = d->default_model; break;
        case OPT_BATCH: snprintf(num, sizeof num, "%d", DEFAULT_BATCH); dflt = num; break;
        case OPT_THREADS: dflt = "0"; break;
        case OPT_JSON: case OPT_OFFLINE: case OPT_QUIET: dflt = "off"; break;
        case OPT_NO_HEADER: case OPT_STRICT: case OPT_RESUME: dflt = "off"; break;
        case OPT_NO_TRUNCATION: case OPT_ANY_ARCH: dflt = "off"; break;
        case OPT_PLUGIN_DIR: case OPT_TEXT_PAIR: dflt = "none"; break;
        default: break;
        }
        help_line(c->name, c->metavar, c->help, dflt);
    }
    int header = 0;
    for (const nlp_option *o = d->options; o && o->name; o++) {
        if (is_common_name(o->name))
            continue;
        if (!header) {
            printf("\nTask options:\n");
            header = 1;
        }
        const char *dflt = o->default_value;
        if (o->type == NLP_OPT_FLAG)
            dflt = "off";
        else if (!dflt)
            dflt = "unset";
        help_line(o->name, metavar_of(o), o->help, dflt);
    }
}

/* ------------------------------------------------------------- parsing */

/* Parse a whole integer in [min, max] given to a common option. */
static int parse_count(const char *task, const char *name, const char *s, long min,
                       long max, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (!*s || *end || errno == ERANGE || x < min || x > max) {
        cli_usage_error(task, "option --%s expects an integer in %ld..%ld, got '%s'", name,
                        min, max, s);
        return 0;
    }
    *out = x;
    return 1;
}

/* The getopt table: the common options that apply, then the task's. */
static struct option *long_options(const nlp_task_desc *d, size_t *n_task)
{
    size_t nt = 0;
    while (d->options && d->options[nt].name)
        nt++;
    struct option *lo = calloc(N_COMMON + nt + 1, sizeof *lo);
    if (!lo)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < N_COMMON; i++)
        if (common_applies(&common_opts[i], d->input))
            lo[k++] = (struct option){common_opts[i].name, common_opts[i].has_arg, NULL,
                                      common_opts[i].val};
    for (size_t i = 0; i < nt; i++)
        if (!is_common_name(d->options[i].name))
            lo[k++] = (struct option){d->options[i].name,
                                      d->options[i].type == NLP_OPT_FLAG ? no_argument
                                                                         : required_argument,
                                      NULL, OPT_TASK_BASE + (int)i};
    *n_task = nt;
    return lo;
}

/* A corpus option: into cmd->job.  Returns 1 when c was one. */
static int corpus_option(cli_task_cmd *cmd, int c, const char *arg)
{
    nlp_corpus_job *j = &cmd->job;
    switch (c) {
    case OPT_INPUT: j->input = arg; break;
    case OPT_OUTPUT: j->output = arg; break;
    case OPT_FORMAT: j->format = arg; break;
    case OPT_DELIMITER: j->delimiter = arg; break;
    case OPT_NO_HEADER: j->no_header = 1; break;
    case OPT_TEXT_COL: case OPT_QUESTION_COL: j->text_column = arg; break;
    case OPT_PAIR_COL: case OPT_CONTEXT_COL: j->pair_column = arg; break;
    case OPT_ID_COL: j->id_column = arg; break;
    case OPT_ERRORS: j->errors = arg; break;
    case OPT_STRICT: j->strict = 1; break;
    case OPT_RESUME: j->resume = 1; break;
    case OPT_VECTORS: cmd->vectors = arg; break;
    default: return 0;
    }
    cmd->corpus = 1;
    return 1;
}

/* A common option other than the corpus ones.  Returns 1 when handled, 0
 * when c is not one, -1 after a usage error. */
static int common_option(cli_task_cmd *cmd, int c, const char *arg)
{
    long x;
    nlp_weight_type wt;
    switch (c) {
    case OPT_MODEL: cmd->po.model = arg; break;
    case OPT_JSON: cmd->json = 1; break;
    case OPT_BATCH:
        if (!parse_count(cmd->task, "batch-size", arg, 1, MAX_BATCH, &x))
            return -1;
        cmd->po.batch_size = (size_t)x;
        break;
    case OPT_THREADS:
        if (!parse_count(cmd->task, "threads", arg, 0, MAX_THREADS, &x))
            return -1;
        cmd->po.threads = (int)x;
        break;
    case OPT_DTYPE:
        if (nlp_weight_type_parse(arg, &wt, NULL) != NLP_OK) {
            cli_usage_error(cmd->task, "--dtype must be fp32, int8 or bf16, got '%s'", arg);
            return -1;
        }
        cmd->po.dtype = (int)wt;
        break;
    case OPT_PLUGIN_DIR: cmd->po.plugin_dir = arg; break;
    case OPT_OFFLINE: cmd->po.offline = 1; break;
    case 'q': case OPT_QUIET: cmd->quiet = 1; break;
    case 'h': case OPT_HELP: cmd->help = 1; break;
    case OPT_NO_TRUNCATION: cmd->po.no_truncation = 1; break;
    case OPT_ANY_ARCH: cmd->po.any_architecture = 1; break;
    case OPT_TEXT_PAIR: cmd->text_pair = arg; break;
    case OPT_QUESTION: cmd->question = arg; break;
    case OPT_CONTEXT: cmd->context = arg; break;
    default: return corpus_option(cmd, c, arg);
    }
    return 1;
}

/* Report getopt's '?' for the argument at argv[optind - 1]. */
static int unknown_option(const char *task, char **argv)
{
    const char *a = argv[optind - 1];
    if (optopt >= 256 && strncmp(a, "--", 2) == 0 && strchr(a, '='))
        return cli_usage_error(task, "option '%.*s' doesn't allow an argument",
                               (int)(strchr(a, '=') - a), a);
    if (optopt > 0 && optopt < 256)
        return cli_usage_error(task, "unknown option '-%c'", optopt);
    return cli_usage_error(task, "unknown option '%s'", a);
}

/* A task option: checked against its declared type now, so a bad value is
 * reported before anything loads. */
static int task_option(cli_task_cmd *cmd, nlp_optset *check, const nlp_option *o)
{
    const char *v = o->type == NLP_OPT_FLAG ? NULL : optarg;
    nlp_error err = {0};
    if (nlp_optset_set(check, o->name, v, &err) != NLP_OK)
        return cli_usage_error(cmd->task, "%s", err.msg);
    cmd->sets[cmd->n_sets++] = (cli_task_set){o->name, v};
    return 0;
}

/* Corpus options exclude the interactive inputs. */
static int check_modes(const cli_task_cmd *cmd, int argc, char **argv)
{
    if (!cmd->corpus)
        return 0;
    if (optind < argc || cmd->question || cmd->context || cmd->text_pair || cmd->json)
        return cli_usage_error(cmd->task,
                               "'%s' does not go with corpus options (--input, --output, ...)",
                               optind < argc ? argv[optind]
                               : cmd->question ? "--question" : cmd->context ? "--context"
                               : cmd->text_pair ? "--text-pair" : "--json");
    return 0;
}

int cli_task_parse(cli_task_cmd *cmd, const char *task, const nlp_task_desc *desc,
                   int argc, char **argv)
{
    nlp_pipeline_opts po = NLP_PIPELINE_OPTS_INIT;
    memset(cmd, 0, sizeof *cmd);
    cmd->task = task;
    cmd->desc = desc;
    cmd->po = po;
    cmd->po.batch_size = DEFAULT_BATCH;
    size_t n_task = 0;
    nlp_optset *check = NULL;
    struct option *lo = long_options(desc, &n_task);
    cmd->sets = calloc((size_t)argc + 1, sizeof *cmd->sets);
    if (!lo || !cmd->sets || nlp_optset_create(desc->options, &check, NULL) != NLP_OK) {
        free(lo);
        fprintf(stderr, "nlp %s: out of memory\n", task);
        return CLI_EXIT_FAIL;
    }
    int rc = 0, c;
    opterr = 0;
    optind = 1;
    while (!rc && !cmd->help && (c = getopt_long(argc, argv, ":hq", lo, NULL)) != -1) {
        if (c == ':')
            rc = cli_usage_error(task, "option '%s' needs a value", argv[optind - 1]);
        else if (c == '?')
            rc = unknown_option(task, argv);
        else if (c >= OPT_TASK_BASE && (size_t)(c - OPT_TASK_BASE) < n_task)
            rc = task_option(cmd, check, &desc->options[c - OPT_TASK_BASE]);
        else if (common_option(cmd, c, optarg) < 0)
            rc = CLI_EXIT_USAGE;
    }
    cmd->first_input = optind;
    if (!rc && !cmd->help)
        rc = check_modes(cmd, argc, argv);
    nlp_optset_free(check);
    free(lo);
    return rc;
}

void cli_task_cmd_free(cli_task_cmd *cmd)
{
    free(cmd->sets);
    cmd->sets = NULL;
}
