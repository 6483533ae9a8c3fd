/*
 * cmd_task.c - `nlp TASK`: every task served by a plugin.  Parses the
 * command line (task_opts.c), opens a pipeline (nlp/pipeline.h) and either
 * hands it a corpus (corpus_run.c) or streams the inputs through it in
 * batches: the TEXT arguments, else one per line of standard input (a JSON
 * object per line for question/context tasks).  Each input gets one
 * result, printed as it comes: a readable table, or with --json one line of
 * JSON (an error object for a failed input, whose reason also goes to
 * stderr; the exit status is then 1).  A ranking task's results
 * (NLP_TASK_RANKS) are kept and printed at the end as one list, best score
 * first (nlp_pipeline_rank); failed inputs then only go to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"
#include "task.h"

/* ------------------------------------------------------------- inputs */

/* One input as read: its texts (owned) or why it cannot run. */
typedef struct task_input {
    char *text, *pair;
    size_t text_len, pair_len;
    char *bad;
} task_input;

/* Where inputs come from: the arguments, else the lines of stdin. */
typedef enum { SRC_ARGS, SRC_STDIN, SRC_DONE } source_mode;

typedef struct input_source {
    const cli_task_cmd *cmd;
    source_mode mode;
    int argc, next;              /* SRC_ARGS: argv[next..argc) */
    char **argv;
    char *line;                  /* SRC_STDIN: getline's buffer */
    size_t cap;
} input_source;

static char *dup_len(const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (c) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

/* {"question": ..., "context": ...} into in. */
static void parse_qc(task_input *in, const char *text, size_t len)
{
    nlp_value *v = nlp_value_parse_json(text, len);
    const char *q = nlp_value_string(nlp_value_get(v, "question"));
    const char *c = nlp_value_string(nlp_value_get(v, "context"));
    if (!v || nlp_value_kind_of(v) != NLP_VALUE_OBJECT)
        in->bad = strdup("expected a JSON object {\"question\": ..., \"context\": ...}");
    else if (!q || !c)
        in->bad = strdup("the JSON object needs string fields \"question\" and \"context\"");
    else {
        in->text = strdup(q);
        in->pair = strdup(c);
        in->text_len = strlen(q);
        in->pair_len = strlen(c);
    }
    nlp_value_free(v);
}

static void input_set(const cli_task_cmd *cmd, task_input *in, const char *s, size_t len)
{
    memset(in, 0, sizeof *in);
    if (cmd->desc->input == NLP_INPUT_QUESTION_CONTEXT) {
        parse_qc(in, s, len);
        return;
    }
    in->text = dup_len(s, len);
    in->text_len = len;
    if (cmd->text_pair) {
        in->pair = strdup(cmd->text_pair);
        in->pair_len = strlen(cmd->text_pair);
    }
}

/* The next raw input; 0 at the end. */
static int source_next(input_source *src, const char **s, size_t *len)
{
    if (src->mode == SRC_ARGS && src->next < src->argc) {
        *s = src->argv[src->next++];
        *len = strlen(*s);
        return 1;
    }
    ssize_t n = src->mode == SRC_STDIN ? getline(&src->line, &src->cap, stdin) : -1;
    if (n < 0) {
        src->mode = SRC_DONE;
        return 0;
    }
    size_t l = (size_t)n;
    if (l && src->line[l - 1] == '\n')
        l--;
    if (l && src->line[l - 1] == '\r')
        l--;
    src->line[l] = '\0';
    *s = src->line;
    *len = l;
    return 1;
}

/* Up to max inputs into v; returns how many. */
static size_t source_fill(input_source *src, task_input *v, size_t max)
{
    size_t n = 0;
    const char *s;
    size_t len;
    while (n < max && source_next(src, &s, &len)) {
        input_set(src->cmd, &v[n], s, len);
        if (!v[n].bad && (!v[n].text || (src->cmd->text_pair && !v[n].pair)))
            v[n].bad = strdup("out of memory");
        n++;
    }
    return n;
}

static void inputs_clear(task_input *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].text);
        free(v[i].pair);
        free(v[i].bad);
        memset(&v[i], 0, sizeof v[i]);
    }
}

/* ------------------------------------------------------------ output */

typedef struct task_out {
    const cli_task_cmd *cmd;
    int show_input;              /* more than one input: a header each */
    size_t printed;
    int failed;
    int ranks;                   /* a ranking task: keep results in kept */
    nlp_pipeline_result *kept;   /* [n_kept], input order */
    size_t n_kept, cap_kept;
} task_out;

/* "[N] text" before the table of input N; a question stands for its
 * (usually long) context. */
static void print_input_header(const task_input *in, size_t number, nlp_input_kind kind)
{
    if (in->pair && kind != NLP_INPUT_QUESTION_CONTEXT)
        printf("[%zu] %s | %s\n", number, in->text, in->pair);
    else
        printf("[%zu] %s\n", number, in->text);
}

static void print_failure(task_out *o, size_t number, const char *msg, nlp_status st)
{
    o->failed = 1;
    if (o->cmd->json && !o->ranks) {
        nlp_pipeline_result r = {0};
        nlp_error_set(&r.error, st, "%s", msg);
        char *j = nlp_pipeline_result_json(&r);
        printf("%s\n", j ? j : "null");
        free(j);
    }
    fflush(stdout);
    fprintf(stderr, "nlp %s: input %zu: %s\n", o->cmd->task, number, msg);
}

static void warn_truncated(const task_out *o, size_t number, const nlp_pipeline_result *r)
{
    if (r->truncated_from) {
        fflush(stdout);
        cli_warn(o->cmd->task, "truncated input %zu from %zu tokens to %zu", number,
                 r->truncated_from, r->tokens);
    }
}

static void print_result(task_out *o, const task_input *in, size_t number,
                         const nlp_pipeline_result *r)
{
    warn_truncated(o, number, r);
    if (!r->value) {
        print_failure(o, number, r->error.msg[0] ? r->error.msg : "no result", r->error.status);
        return;
    }
    if (o->cmd->json) {
        char *s = nlp_pipeline_result_json(r);
        printf("%s\n", s ? s : "null");
        free(s);
    } else {
        if (o->show_input) {
            if (o->printed)
                printf("\n");
            print_input_header(in, number, o->cmd->desc->input);
        }
        cli_render(r->value, o->cmd->desc->result_columns);
    }
    o->printed++;
}

/* Keep *r (its value moves) for the ranked list; 0, or -1 out of memory. */
static int keep_result(task_out *o, nlp_pipeline_result *r)
{
    if (o->n_kept == o->cap_kept) {
        size_t cap = o->cap_kept ? o->cap_kept * 2 : 64;
        nlp_pipeline_result *k = realloc(o->kept, cap * sizeof *k);
        if (!k)
            return -1;
        o->kept = k;
        o->cap_kept = cap;
    }
    o->kept[o->n_kept++] = *r;
    memset(r, 0, sizeof *r);
    return 0;
}

/* A ranking task's kept results as one list, best first. */
static int print_ranked(task_out *o)
{
    nlp_value *list = nlp_pipeline_rank(o->kept, o->n_kept);
    if (!list)
        return cli_fail(o->cmd->task, &(nlp_error){NLP_ERR_NOMEM, "out of memory"});
    if (o->cmd->json) {
        char *s = nlp_value_to_json(list, 0);
        printf("%s\n", s ? s : "null");
        free(s);
    } else if (nlp_value_len(list)) {
        cli_render(list, o->cmd->desc->result_columns);
    }
    nlp_value_free(list);
    fflush(stdout);
    return 0;
}

/* ------------------------------------------------------------ running */

/* Run one chunk of inputs (numbered from first) and print their outcomes
 * in order.  Returns 0, or the exit status when the run failed as a whole
 * (reported). */
static int run_chunk(nlp_pipeline *p, task_out *o, task_input *v, size_t n, size_t first,
                     nlp_input *in, nlp_pipeline_result *res, size_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!v[i].bad) {
            in[m] = (nlp_input){v[i].text, v[i].text_len, v[i].pair, v[i].pair_len};
            idx[m++] = i;
        }
    nlp_error err = {0};
    if (m && nlp_pipeline_run(p, in, m, res, &err) != NLP_OK) {
        fflush(stdout);
        int usage = err.status == NLP_ERR_USAGE;
        return usage ? cli_usage_error(o->cmd->task, "%s", err.msg) : cli_fail(o->cmd->task, &err);
    }
    for (size_t i = 0, k = 0; i < n; i++) {
        nlp_pipeline_result failed = {0};
        nlp_pipeline_result *r = k < m && idx[k] == i ? &res[k++] : &failed;
        if (r == &failed)
            print_failure(o, first + i + 1, v[i].bad, NLP_ERR_INPUT);
        else if (o->ranks && r->value)
            warn_truncated(o, first + i + 1, r);
        else
            print_result(o, &v[i], first + i + 1, r);
        if (o->ranks && keep_result(o, r) != 0) {
            nlp_pipeline_results_clear(res, m);
            return cli_fail(o->cmd->task, &(nlp_error){NLP_ERR_NOMEM, "out of memory"});
        }
    }
    fflush(stdout);
    nlp_pipeline_results_clear(res, m);
    return 0;
}

/* The first inputs: --question and --context, or from the source. */
static size_t first_chunk(const cli_task_cmd *cmd, input_source *src, task_input *v, size_t max)
{
    if (cmd->question) {
        v[0] = (task_input){strdup(cmd->question), strdup(cmd->context), strlen(cmd->question),
                            strlen(cmd->context), NULL};
        if (!v[0].text || !v[0].pair)
            v[0].bad = strdup("out of memory");
        src->mode = SRC_DONE;
        return 1;
    }
    if (src->mode == SRC_STDIN && !cmd->quiet && isatty(STDIN_FILENO))
        fprintf(stderr, "nlp %s: reading inputs from standard input, one per line "
                        "(end with Ctrl-D)\n", cmd->task);
    return source_fill(src, v, max);
}

/* Stream every input through p in chunks of the batch size (plus one
 * read ahead, to know whether there is more than one input). */
static int run_inputs(nlp_pipeline *p, const cli_task_cmd *cmd, int argc, char **argv)
{
    size_t B = cmd->po.batch_size;
    task_input *v = calloc(B + 1, sizeof *v);
    nlp_input *in = calloc(B + 1, sizeof *in);
    nlp_pipeline_result *res = calloc(B + 1, sizeof *res);
    size_t *idx = calloc(B + 1, sizeof *idx);
    input_source src = {cmd, cmd->first_input < argc ? SRC_ARGS : SRC_STDIN, argc,
                        cmd->first_input, argv, NULL, 0};
    task_out o = {cmd, 0, 0, 0, (cmd->desc->flags & NLP_TASK_RANKS) != 0, NULL, 0, 0};
    int rc = CLI_EXIT_OK;
    if (!v || !in || !res || !idx) {
        rc = cli_fail(cmd->task, &(nlp_error){NLP_ERR_NOMEM, "out of memory"});
        goto out;
    }
    size_t n = first_chunk(cmd, &src, v, B + 1), done = 0;
    if (n == 0) {
        fprintf(stderr, "nlp %s: no input\n", cmd->task);
        goto out;
    }
    o.show_input = n > 1;
    while (n > 0) {
        size_t now = n > B ? B : n;
        if ((rc = run_chunk(p, &o, v, now, done, in, res, idx)) != 0)
            break;
        done += now;
        inputs_clear(v, now);
        if (n > now) {   /* the read-ahead input starts the next chunk */
            v[0] = v[now];
            memset(&v[now], 0, sizeof v[now]);
        }
        n -= now;
        n += source_fill(&src, v + n, B + 1 - n);
    }
    if (o.ranks && rc == CLI_EXIT_OK)
        rc = print_ranked(&o);
    if (o.failed && rc == CLI_EXIT_OK)
        rc = CLI_EXIT_FAIL;
out:
    nlp_pipeline_results_clear(o.kept, o.n_kept);
    free(o.kept);
    if (v)
        inputs_clear(v, B + 1);
    free(v);
    free(in);
    free(res);
    free(idx);
    free(src.line);
    return rc;
}

/* ---------------------------------------------------------- the command */

static void warn_plugin(void *user, const char *msg)
{
    cli_warn((const char *)user, "%s", msg);
}

static void warn_refused(void *user, const char *line)
{
    cli_warn((const char *)user, "refused %s", line);
}

/* The pipeline for cmd, with its task options set.  Returns 0 or the exit
 * status of a failure (reported). */
static int open_pipeline(cli_task_cmd *cmd, nlp_registry *reg, cli_progress *bar,
                         nlp_pipeline **p)
{
    cmd->po.registry = reg;
    cmd->po.on_warning = warn_plugin;
    cmd->po.warning_user = (void *)cmd->task;
    if (cli_progress_wanted(cmd->quiet)) {
        cmd->po.on_download = cli_progress_update;
        cmd->po.download_user = bar;
    }
    nlp_error err = {0};
    if (nlp_pipeline_open(cmd->task, &cmd->po, p, &err) != NLP_OK)
        return cli_fail(cmd->task, &err);
    for (size_t i = 0; i < cmd->n_sets; i++)
        if (nlp_pipeline_set(*p, cmd->sets[i].name, cmd->sets[i].value, &err) != NLP_OK)
            return cli_usage_error(cmd->task, "%s", err.msg);
    return 0;
}

int cmd_task(const char *task, int argc, char **argv)
{
    nlp_error err = {0};
    char **dirs = NULL;
    nlp_registry *reg = NULL;
    const nlp_plugin_info *info = NULL;
    const nlp_task_desc *desc = NULL;
    nlp_pipeline *p = NULL;
    cli_task_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cli_progress bar;
    memset(&bar, 0, sizeof bar);
    int rc;
    if (nlp_plugin_search_path(cli_scan_plugin_dir(argc, argv), &dirs, &err) != NLP_OK ||
        nlp_registry_open((const char *const *)dirs, warn_refused, (void *)task, &reg,
                          &err) != NLP_OK ||
        nlp_registry_find(reg, task, &info, &desc, &err) != NLP_OK) {
        rc = cli_fail(task, &err);
        goto out;
    }
    if ((rc = cli_task_parse(&cmd, task, desc, argc, argv)) != 0)
        goto out;
    if (cmd.help) {
        cli_task_help(task, desc, info->plugin->name);
        goto out;
    }
    if (!cmd.corpus && (cmd.question || cmd.context) &&
        (!cmd.question || !cmd.context)) {
        rc = cli_usage_error(task, "--question and --context go together");
        goto out;
    }
    if (!cmd.corpus && cmd.question && cmd.first_input < argc) {
        rc = cli_usage_error(task, "unexpected argument '%s' with --question/--context",
                             argv[cmd.first_input]);
        goto out;
    }
    if ((rc = open_pipeline(&cmd, reg, &bar, &p)) != 0)
        goto out;
    rc = cmd.corpus ? cli_corpus_run(p, &cmd) : run_inputs(p, &cmd, argc, argv);
out:
    nlp_pipeline_free(p);
    cli_task_cmd_free(&cmd);
    nlp_registry_free(reg);
    nlp_search_path_free(dirs);
    return rc;
}
