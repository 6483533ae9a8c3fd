/*
 * cmd_task.c - the generic runner behind every plugin task (`nlp TASK`):
 * parses the common options and the task's own declared options, loads
 * the model, feeds the inputs to the plugin in batches and prints each
 * result, either as one compact JSON value per input (--json) or as an
 * aligned table.  A failed input is reported on stderr and the others go
 * on; the exit status is then 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <utf8proc.h>

#include "config.h"
#include "cli.h"
#include "corpus_run.h"


/* ----------------------------------------------------------- options */

enum {
    OPT_MODEL = 256, OPT_JSON, OPT_BATCH, OPT_THREADS, OPT_DTYPE, OPT_PLUGIN_DIR,
    OPT_OFFLINE, OPT_QUIET, OPT_HELP, OPT_TEXT_PAIR, OPT_QUESTION, OPT_CONTEXT,
    /* corpus mode (corpus_run.c) */
    OPT_INPUT, OPT_OUTPUT, OPT_FORMAT, OPT_DELIMITER, OPT_NO_HEADER, OPT_TEXT_COL,
    OPT_PAIR_COL, OPT_QUESTION_COL, OPT_CONTEXT_COL, OPT_ID_COL, OPT_ERRORS, OPT_STRICT,
    OPT_RESUME,
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
    {"model", required_argument, OPT_MODEL, "DIR_OR_ID", "model directory or Hugging Face hub id"},
    {"json", no_argument, OPT_JSON, NULL, "print one JSON value per input line (Hugging Face's field names)"},
    {"batch-size", required_argument, OPT_BATCH, "N", "inputs per forward pass"},
    {"threads", required_argument, OPT_THREADS, "N", "worker threads, 0 = all cores"},
    {"dtype", required_argument, OPT_DTYPE, "fp32|int8|bf16",
     "encoder weights: int8 or bf16 convert them at load (default fp32; int8 for a "
     "checkpoint written by nlp quantize)"},
    {"plugin-dir", required_argument, OPT_PLUGIN_DIR, "DIR", "search DIR for plugins first"},
    {"offline", no_argument, OPT_OFFLINE, NULL, "never connect to the hub; use the local cache only"},
    {"quiet", no_argument, OPT_QUIET, NULL, "no progress output"},
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
    printf("  %-26s %s", left, help ? help : "");
    if (dflt)
        printf(" (default: %s)", dflt);
    printf("\n");
}

static void print_task_help(const char *task, const nlp_task_desc *d, const char *plugin)
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
    printf("Corpus mode: --input/--output FILE (CSV, TSV or JSON Lines; '-' = stdin/stdout)\n"
           "runs over a whole file, keeping every column (see docs/corpus.md).\n");
    printf("Default model: %s\n", d->default_model ? d->default_model : "(none; --model is required)");
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

/* ------------------------------------------------------------ inputs */

typedef struct task_input {
    char *text, *pair;
    size_t text_len, pair_len;
    char *bad;   /* non-NULL: why this input cannot be run */
} task_input;

typedef struct input_list {
    task_input *v;
    size_t n, cap;
    nlp_input_kind kind;
    const char *pair;   /* --text-pair */
    int oom;
} input_list;

static char *dup_len(const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (c) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

static task_input *input_add(input_list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        task_input *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    task_input *in = &l->v[l->n++];
    memset(in, 0, sizeof *in);
    return in;
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

static int collect_input(void *ctx, size_t lineno, const char *text, size_t len)
{
    (void)lineno;
    input_list *l = ctx;
    task_input *in = input_add(l);
    if (!in) {
        l->oom = 1;
        return 1;
    }
    if (l->kind == NLP_INPUT_QUESTION_CONTEXT)
        parse_qc(in, text, len);
    else {
        in->text = dup_len(text, len);
        in->text_len = len;
        if (l->pair) {
            in->pair = strdup(l->pair);
            in->pair_len = strlen(l->pair);
        }
    }
    return 0;
}

static void inputs_free(input_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].text);
        free(l->v[i].pair);
        free(l->v[i].bad);
    }
    free(l->v);
}

/* ---------------------------------------------------------- rendering */

/* Display width of UTF-8 text in terminal columns (wide CJK characters
 * count two, combining marks none). */
static int text_width(const char *s)
{
    int w = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    while (*p) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);
        if (k <= 0) {   /* not UTF-8: one column per byte */
            w++;
            p++;
            continue;
        }
        w += utf8proc_charwidth(cp);
        p += k;
    }
    return w;
}

/* One table cell as new text. */
static char *cell_text(const nlp_value *v)
{
    char buf[64];
    switch (nlp_value_kind_of(v)) {
    case NLP_VALUE_STRING: return strdup(nlp_value_string(v));
    case NLP_VALUE_NUMBER: {
        double x = nlp_value_number(v);
        if (x == (double)(long long)x && x > -1e15 && x < 1e15)
            snprintf(buf, sizeof buf, "%lld", (long long)x);
        else if (x > -1e-4 && x < 1e-4 && x != 0)
            snprintf(buf, sizeof buf, "%.3e", x);
        else
            snprintf(buf, sizeof buf, "%.4f", x);
        return strdup(buf);
    }
    case NLP_VALUE_BOOL: return strdup(nlp_value_bool(v) ? "true" : "false");
    case NLP_VALUE_NULL: case NLP_VALUE_INVALID: return strdup("");
    default: return nlp_value_to_json(v, 0);
    }
}

static int is_scalar(const nlp_value *v)
{
    nlp_value_kind k = nlp_value_kind_of(v);
    return k != NLP_VALUE_ARRAY && k != NLP_VALUE_OBJECT;
}

/* Does the comma-separated list hold name? */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

typedef struct colset {
    const char *name[64];
    size_t n;
} colset;

static void col_add(colset *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->name[i], name) == 0)
            return;
    if (c->n < 64)
        c->name[c->n++] = name;
}

/* Print a table: ncols columns, nrows rows, cell(r, c) from get(). */
typedef const nlp_value *(*cell_get_fn)(const nlp_value *src, size_t row, const char *col);

static void print_table(const colset *cols, size_t nrows, const nlp_value *src,
                        cell_get_fn get)
{
    size_t nc = cols->n;
    char **cells = calloc(nrows * nc + 1, sizeof *cells);
    int *w = calloc(nc + 1, sizeof *w);
    int *numeric = calloc(nc + 1, sizeof *numeric);
    if (!cells || !w || !numeric) {
        free(cells);
        free(w);
        free(numeric);
        fprintf(stderr, "nlp: out of memory while printing a table\n");
        return;
    }
    for (size_t c = 0; c < nc; c++) {
        w[c] = text_width(cols->name[c]);
        numeric[c] = 1;
    }
    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < nc; c++) {
            const nlp_value *v = get(src, r, cols->name[c]);
            char *t = cell_text(v);
            if (!t)
                t = strdup("");
            if (v && nlp_value_kind_of(v) != NLP_VALUE_NUMBER)
                numeric[c] = 0;
            cells[r * nc + c] = t;
            if (t && text_width(t) > w[c])
                w[c] = text_width(t);
        }
    for (size_t c = 0; c < nc; c++) {
        int pad = w[c] - text_width(cols->name[c]);
        if (numeric[c])
            printf("%s%*s%s", c ? "  " : "", pad, "", cols->name[c]);
        else
            printf("%s%s%*s", c ? "  " : "", cols->name[c], c + 1 < nc ? pad : 0, "");
    }
    printf("\n");
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < nc; c++) {
            const char *t = cells[r * nc + c] ? cells[r * nc + c] : "";
            int pad = w[c] - text_width(t);
            if (numeric[c])
                printf("%s%*s%s", c ? "  " : "", pad, "", t);
            else
                printf("%s%s%*s", c ? "  " : "", t, c + 1 < nc ? pad : 0, "");
        }
        printf("\n");
    }
    for (size_t i = 0; i < nrows * nc; i++)
        free(cells[i]);
    free(cells);
    free(w);
    free(numeric);
}

static const nlp_value *row_of_objects(const nlp_value *src, size_t row, const char *col)
{
    return nlp_value_get(nlp_value_at(src, row), col);
}

static const nlp_value *row_of_parallel(const nlp_value *src, size_t row, const char *col)
{
    return nlp_value_at(nlp_value_get(src, col), row);
}

/* Columns: those of result_columns present in the data, else every key
 * in order of first appearance. */
static void pick_columns(colset *cols, const char *result_columns,
                         const nlp_value *const *objs, size_t nobj, int arrays_only)
{
    cols->n = 0;
    for (size_t i = 0; i < nobj; i++)
        for (size_t k = 0; k < nlp_value_len(objs[i]); k++) {
            const char *key = nlp_value_key(objs[i], k);
            if (arrays_only && nlp_value_kind_of(nlp_value_at(objs[i], k)) != NLP_VALUE_ARRAY)
                continue;
            if (!result_columns || !*result_columns || in_list(result_columns, key))
                col_add(cols, key);
        }
    if (result_columns && *result_columns && cols->n) {
        /* order as result_columns lists them */
        colset sorted = {.n = 0};
        for (const char *p = result_columns; p && *p;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            for (size_t i = 0; i < cols->n; i++)
                if (strlen(cols->name[i]) == len && strncmp(cols->name[i], p, len) == 0)
                    col_add(&sorted, cols->name[i]);
            p = comma ? comma + 1 : NULL;
        }
        *cols = sorted;
    } else if (result_columns && *result_columns && !cols->n)
        pick_columns(cols, NULL, objs, nobj, arrays_only);
}

/* Is v an object whose array fields all have the same length, with at
 * least one such field? */
static int parallel_arrays(const nlp_value *v, size_t *rows)
{
    if (nlp_value_kind_of(v) != NLP_VALUE_OBJECT)
        return 0;
    size_t n = 0;
    int found = 0;
    for (size_t k = 0; k < nlp_value_len(v); k++) {
        const nlp_value *f = nlp_value_at(v, k);
        if (nlp_value_kind_of(f) != NLP_VALUE_ARRAY)
            continue;
        for (size_t j = 0; j < nlp_value_len(f); j++)
            if (!is_scalar(nlp_value_at(f, j)))
                return 0;
        if (found && nlp_value_len(f) != n)
            return 0;
        n = nlp_value_len(f);
        found = 1;
    }
    *rows = n;
    return found;
}

static void render(const nlp_value *v, const char *columns);

static void render_keyvalues(const nlp_value *v, int scalars_only)
{
    int w = 0;
    for (size_t k = 0; k < nlp_value_len(v); k++)
        if (!scalars_only || is_scalar(nlp_value_at(v, k)))
            if (text_width(nlp_value_key(v, k)) > w)
                w = text_width(nlp_value_key(v, k));
    for (size_t k = 0; k < nlp_value_len(v); k++) {
        const nlp_value *f = nlp_value_at(v, k);
        if (scalars_only && !is_scalar(f))
            continue;
        const char *key = nlp_value_key(v, k);
        char *t = cell_text(f);
        printf("%s:%*s %s\n", key, w - text_width(key), "", t ? t : "");
        free(t);
    }
}

static void render(const nlp_value *v, const char *columns)
{
    nlp_value_kind kind = nlp_value_kind_of(v);
    size_t n = nlp_value_len(v), rows = 0;
    if (kind == NLP_VALUE_ARRAY) {
        if (n == 0) {
            printf("(no results)\n");
            return;
        }
        int all_obj = 1, all_arr = 1;
        for (size_t i = 0; i < n; i++) {
            nlp_value_kind k = nlp_value_kind_of(nlp_value_at(v, i));
            all_obj &= k == NLP_VALUE_OBJECT;
            all_arr &= k == NLP_VALUE_ARRAY;
        }
        if (all_obj) {
            const nlp_value **objs = malloc(n * sizeof *objs);
            if (!objs)
                return;
            for (size_t i = 0; i < n; i++)
                objs[i] = nlp_value_at(v, i);
            colset cols;
            pick_columns(&cols, columns, objs, n, 0);
            free(objs);
            print_table(&cols, n, v, row_of_objects);
        } else if (all_arr) {
            for (size_t i = 0; i < n; i++) {
                printf("%smask %zu\n", i ? "\n" : "", i + 1);
                render(nlp_value_at(v, i), columns);
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                char *t = cell_text(nlp_value_at(v, i));
                printf("%s\n", t ? t : "");
                free(t);
            }
        }
    } else if (parallel_arrays(v, &rows)) {
        render_keyvalues(v, 1);
        colset cols;
        pick_columns(&cols, columns, &v, 1, 1);
        print_table(&cols, rows, v, row_of_parallel);
    } else if (kind == NLP_VALUE_OBJECT) {
        render_keyvalues(v, 0);
    } else {
        char *t = cell_text(v);
        printf("%s\n", t ? t : "");
        free(t);
    }
}

/* ------------------------------------------------------------ runner */

static const char *warn_task;

static void warn_sink(void *user, const char *msg)
{
    (void)user;
    cli_warn(warn_task, "%s", msg);
}

static void on_refused(void *user, const char *line)
{
    cli_warn((const char *)user, "refused %s", line);
}

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

typedef struct task_run {
    const char *task;
    const nlp_plugin *plugin;
    const nlp_task_desc *desc;
    void *state;
    int json, show_input;
    size_t batch;
    nlp_input *in;
    nlp_value **res;
    nlp_error *errs;
    size_t *idx;   /* input numbers of the batch */
} task_run;

/* "[N] text" before the table of input N; a question stands for its
 * (usually long) context. */
static void print_input_header(const task_input *in, size_t number, nlp_input_kind kind)
{
    if (in->pair && kind != NLP_INPUT_QUESTION_CONTEXT)
        printf("[%zu] %s | %s\n", number, in->text, in->pair);
    else
        printf("[%zu] %s\n", number, in->text);
}

/* Run the inputs of one batch; returns 0, or 1 when run() failed as a whole
 * (reported), and sets *failed when some input failed. */
static int run_batch(task_run *r, input_list *l, size_t n, int *failed, size_t *printed)
{
    memset(r->res, 0, n * sizeof *r->res);
    memset(r->errs, 0, n * sizeof *r->errs);
    nlp_status st = r->plugin->run(r->state, r->in, n, r->res, r->errs);
    if (st != NLP_OK) {
        nlp_error e = r->errs[0];
        for (size_t i = 0; i < n; i++)
            if (r->errs[i].status != NLP_OK && r->errs[i].msg[0]) {
                e = r->errs[i];
                break;
            }
        if (!e.msg[0])
            nlp_error_set(&e, st, "the plugin '%s' failed: %s", r->plugin->name,
                          nlp_strerror(st));
        for (size_t i = 0; i < n; i++)
            nlp_value_free(r->res[i]);
        cli_fail(r->task, &e);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t number = r->idx[i] + 1;
        if (!r->res[i]) {
            const char *msg = r->errs[i].msg[0] ? r->errs[i].msg : "no result";
            fflush(stdout);
            fprintf(stderr, "nlp %s: input %zu: %s\n", r->task, number, msg);
            *failed = 1;
            continue;
        }
        if (r->json) {
            char *s = nlp_value_to_json(r->res[i], 0);
            printf("%s\n", s ? s : "null");
            free(s);
        } else {
            if (r->show_input) {
                if (*printed)
                    printf("\n");
                print_input_header(&l->v[r->idx[i]], number, r->desc->input);
            }
            render(r->res[i], r->desc->result_columns);
        }
        (*printed)++;
        nlp_value_free(r->res[i]);
        r->res[i] = NULL;
    }
    fflush(stdout);
    return 0;
}

int cmd_task(const char *task, int argc, char **argv)
{
    int rc = CLI_EXIT_FAIL;
    nlp_error err = {0};
    char **dirs = NULL;
    nlp_registry *reg = NULL;
    nlp_optset *opts = NULL;
    struct option *longopts = NULL;
    input_list inputs = {0};
    char *model_dir = NULL;
    nlp_model *model = NULL;
    nlp_tokenizer *tok = NULL;
    nlp_ctx *ctx = NULL;
    task_run r = {0};
    const nlp_plugin_info *info = NULL;
    int created = 0;

    /* --plugin-dir has to be known before the task's options are */
    const char *plugin_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--plugin-dir") == 0 && i + 1 < argc)
            plugin_dir = argv[++i];
        else if (strncmp(argv[i], "--plugin-dir=", 13) == 0)
            plugin_dir = argv[i] + 13;
    }
    if (nlp_plugin_search_path(plugin_dir, &dirs, &err) != NLP_OK ||
        nlp_registry_open((const char *const *)dirs, on_refused, (void *)task, &reg, &err) != NLP_OK)
        goto fail;
    if (nlp_registry_find(reg, task, &info, &r.desc, &err) != NLP_OK)
        goto fail;
    r.task = task;
    r.plugin = info->plugin;
    const nlp_task_desc *d = r.desc;
    if (nlp_optset_create(d->options, &opts, &err) != NLP_OK)
        goto fail;

    /* getopt table: the common options, then the task's */
    size_t n_task_opts = 0;
    while (d->options && d->options[n_task_opts].name)
        n_task_opts++;
    longopts = calloc(N_COMMON + n_task_opts + 1, sizeof *longopts);
    if (!longopts) {
        nlp_error_set(&err, NLP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    size_t k = 0;
    for (size_t i = 0; i < N_COMMON; i++)
        if (common_applies(&common_opts[i], d->input))
            longopts[k++] = (struct option){common_opts[i].name, common_opts[i].has_arg,
                                            NULL, common_opts[i].val};
    for (size_t i = 0; i < n_task_opts; i++)
        if (!is_common_name(d->options[i].name))
            longopts[k++] = (struct option){d->options[i].name,
                                            d->options[i].type == NLP_OPT_FLAG ? no_argument
                                                                               : required_argument,
                                            NULL, OPT_TASK_BASE + (int)i};

    const char *model_ref = d->default_model, *question = NULL, *context = NULL;
    long batch = DEFAULT_BATCH, threads = 0;
    int offline = 0, quiet = 0, dtype = -1;      /* -1: the model's default */
    cli_corpus_opts copts = {0};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":hq", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_MODEL: model_ref = optarg; break;
        case OPT_JSON: r.json = 1; break;
        case OPT_BATCH:
            if (!parse_count(task, "batch-size", optarg, 1, MAX_BATCH, &batch)) {
                rc = CLI_EXIT_USAGE;
                goto out;
            }
            break;
        case OPT_THREADS:
            if (!parse_count(task, "threads", optarg, 0, MAX_THREADS, &threads)) {
                rc = CLI_EXIT_USAGE;
                goto out;
            }
            break;
        case OPT_DTYPE: {
            nlp_weight_type wt;
            if (nlp_weight_type_parse(optarg, &wt, &err) != NLP_OK) {
                rc = cli_usage_error(task, "--dtype must be fp32, int8 or bf16, got '%s'", optarg);
                goto out;
            }
            dtype = (int)wt;
            break;
        }
        case OPT_PLUGIN_DIR: break;   /* handled above */
        case OPT_OFFLINE: offline = 1; break;
        case 'q': case OPT_QUIET: quiet = 1; break;
        case 'h': case OPT_HELP:
            print_task_help(task, d, r.plugin->name);
            rc = CLI_EXIT_OK;
            goto out;
        case OPT_TEXT_PAIR: inputs.pair = optarg; break;
        case OPT_QUESTION: question = optarg; break;
        case OPT_CONTEXT: context = optarg; break;
        case OPT_INPUT: copts.input = optarg; copts.any = 1; break;
        case OPT_OUTPUT: copts.output = optarg; copts.any = 1; break;
        case OPT_FORMAT: copts.format = optarg; copts.any = 1; break;
        case OPT_DELIMITER: copts.delimiter = optarg; copts.any = 1; break;
        case OPT_NO_HEADER: copts.no_header = 1; copts.any = 1; break;
        case OPT_TEXT_COL: copts.text_col = optarg; copts.any = 1; break;
        case OPT_PAIR_COL: copts.pair_col = optarg; copts.any = 1; break;
        case OPT_QUESTION_COL: copts.question_col = optarg; copts.any = 1; break;
        case OPT_CONTEXT_COL: copts.context_col = optarg; copts.any = 1; break;
        case OPT_ID_COL: copts.id_col = optarg; copts.any = 1; break;
        case OPT_ERRORS: copts.errors = optarg; copts.any = 1; break;
        case OPT_STRICT: copts.strict = 1; copts.any = 1; break;
        case OPT_RESUME: copts.resume = 1; copts.any = 1; break;
        case ':':
            rc = cli_usage_error(task, "option '%s' needs a value", argv[optind - 1]);
            goto out;
        case '?': {
            const char *a = argv[optind - 1];
            if (optopt >= 256 && strncmp(a, "--", 2) == 0 && strchr(a, '='))
                rc = cli_usage_error(task, "option '%.*s' doesn't allow an argument",
                                     (int)(strchr(a, '=') - a), a);
            else if (optopt > 0 && optopt < 256)
                rc = cli_usage_error(task, "unknown option '-%c'", optopt);
            else
                rc = cli_usage_error(task, "unknown option '%s'", a);
            goto out;
        }
        default:
            if (c >= OPT_TASK_BASE && (size_t)(c - OPT_TASK_BASE) < n_task_opts) {
                const nlp_option *o = &d->options[c - OPT_TASK_BASE];
                if (nlp_optset_set(opts, o->name, o->type == NLP_OPT_FLAG ? NULL : optarg,
                                   &err) != NLP_OK) {
                    rc = cli_usage_error(task, "%s", err.msg);
                    goto out;
                }
                break;
            }
            rc = cli_usage_error(task, "unknown option '%s'", argv[optind - 1]);
            goto out;
        }
    }

    /* corpus mode: a whole file (or stdin) through the task */
    if (copts.any) {
        if (optind < argc || question || context || inputs.pair || r.json) {
            rc = cli_usage_error(task, "'%s' does not go with corpus options (--input, --output, ...)",
                                 optind < argc ? argv[optind]
                                 : question ? "--question" : context ? "--context"
                                 : inputs.pair ? "--text-pair" : "--json");
            goto out;
        }
        copts.quiet = quiet;
        cli_corpus_task ct = {
            .task = task, .desc = d, .plugin = r.plugin, .opts = opts,
            .model_ref = model_ref, .offline = offline, .threads = threads,
            .batch = (size_t)batch, .dtype = dtype,
        };
        rc = cli_corpus_run(&ct, &copts);
        goto out;
    }

    /* inputs */
    inputs.kind = d->input;
    if (d->input == NLP_INPUT_QUESTION_CONTEXT && (question || context)) {
        if (!question || !context) {
            rc = cli_usage_error(task, "--question and --context go together");
            goto out;
        }
        if (optind < argc) {
            rc = cli_usage_error(task, "unexpected argument '%s' with --question/--context",
                                 argv[optind]);
            goto out;
        }
        task_input *in = input_add(&inputs);
        if (!in || !(in->text = strdup(question)) || !(in->pair = strdup(context))) {
            nlp_error_set(&err, NLP_ERR_NOMEM, "out of memory");
            goto fail;
        }
        in->text_len = strlen(question);
        in->pair_len = strlen(context);
    } else {
        if (optind >= argc && !quiet && isatty(STDIN_FILENO))
            fprintf(stderr, "nlp %s: reading inputs from standard input, one per line "
                            "(end with Ctrl-D)\n", task);
        cli_for_each_input(argc, argv, optind, collect_input, &inputs);
        if (inputs.oom) {
            nlp_error_set(&err, NLP_ERR_NOMEM, "out of memory while reading inputs");
            goto fail;
        }
    }
    if (inputs.n == 0) {
        rc = CLI_EXIT_OK;
        goto out;
    }
    if (!model_ref) {
        rc = cli_usage_error(task, "no default model for this task: give --model");
        goto out;
    }

    /* model, tokenizer, context */
    if (cli_resolve_model(model_ref, offline, quiet, &model_dir, &err) != NLP_OK ||
        nlp_model_load(model_dir, &model, &err) != NLP_OK ||
        nlp_tokenizer_load(model_dir, &tok, &err) != NLP_OK ||
        nlp_ctx_create_dtype(model, (int)threads,
                             dtype >= 0 ? (nlp_weight_type)dtype
                                        : nlp_model_default_weight_type(model),
                             &ctx, &err) != NLP_OK)
        goto fail;

    warn_task = task;
    nlp_host_set_warn_sink(warn_sink, NULL);
    nlp_task_args args = {
        .task = task, .model = model, .tokenizer = tok, .ctx = ctx,
        .batch_size = (size_t)batch, .host_data = opts,
    };
    nlp_error_clear(&err);
    if (r.plugin->create(nlp_host_api_get(), &args, &r.state, &err) != NLP_OK) {
        if (err.status == NLP_ERR_INVALID_ARG && err.msg[0]) {
            /* an option value the plugin refused: a usage error */
            rc = cli_usage_error(task, "%s", err.msg);
            goto out;
        }
        if (!err.msg[0])
            nlp_error_set(&err, NLP_ERR_PLUGIN, "the plugin '%s' could not start", r.plugin->name);
        goto fail;
    }
    created = 1;

    r.batch = (size_t)batch;
    r.show_input = inputs.n > 1;
    r.in = calloc(r.batch, sizeof *r.in);
    r.res = calloc(r.batch, sizeof *r.res);
    r.errs = calloc(r.batch, sizeof *r.errs);
    r.idx = calloc(r.batch, sizeof *r.idx);
    if (!r.in || !r.res || !r.errs || !r.idx) {
        nlp_error_set(&err, NLP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    int failed = 0;
    size_t n = 0, printed = 0;
    rc = CLI_EXIT_OK;
    for (size_t i = 0; i < inputs.n; i++) {
        const task_input *in = &inputs.v[i];
        if (in->bad || !in->text) {
            fflush(stdout);
            fprintf(stderr, "nlp %s: input %zu: %s\n", task, i + 1,
                    in->bad ? in->bad : "out of memory");
            failed = 1;
        } else {
            r.in[n] = (nlp_input){in->text, in->text_len, in->pair, in->pair_len};
            r.idx[n++] = i;
        }
        if (n == r.batch || (i + 1 == inputs.n && n > 0)) {
            if (run_batch(&r, &inputs, n, &failed, &printed)) {
                rc = CLI_EXIT_FAIL;
                break;
            }
            n = 0;
        }
    }
    if (failed)
        rc = CLI_EXIT_FAIL;
    goto out;

fail:
    rc = cli_fail(task, &err);
out:
    if (created)
        r.plugin->destroy(r.state);
    nlp_host_set_warn_sink(NULL, NULL);
    free(r.in);
    free(r.res);
    free(r.errs);
    free(r.idx);
    if (ctx)
        nlp_ctx_free(ctx);
    if (tok)
        nlp_tokenizer_free(tok);
    if (model)
        nlp_model_free(model);
    free(model_dir);
    inputs_free(&inputs);
    free(longopts);
    nlp_optset_free(opts);
    nlp_registry_free(reg);
    nlp_search_path_free(dirs);
    return rc;
}
