/*
 * render.c - the readable output of task results: an aligned table for a
 * list of objects (one row each), key: value lines for an object, a table
 * per mask for several masks, and a key-value header plus a table for an
 * object of parallel arrays (zero-shot labels and scores).  Column widths
 * count terminal cells, so wide (CJK) characters line up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "cli.h"
#include "task.h"

/* Display width of UTF-8 text in terminal columns (wide CJK characters
 * count two, combining marks none). */
int cli_text_width(const char *s)
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
        w[c] = cli_text_width(cols->name[c]);
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
            if (t && cli_text_width(t) > w[c])
                w[c] = cli_text_width(t);
        }
    for (size_t c = 0; c < nc; c++) {
        int pad = w[c] - cli_text_width(cols->name[c]);
        if (numeric[c])
            printf("%s%*s%s", c ? "  " : "", pad, "", cols->name[c]);
        else
            printf("%s%s%*s", c ? "  " : "", cols->name[c], c + 1 < nc ? pad : 0, "");
    }
    printf("\n");
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < nc; c++) {
            const char *t = cells[r * nc + c] ? cells[r * nc + c] : "";
            int pad = w[c] - cli_text_width(t);
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


static void render_keyvalues(const nlp_value *v, int scalars_only)
{
    int w = 0;
    for (size_t k = 0; k < nlp_value_len(v); k++)
        if (!scalars_only || is_scalar(nlp_value_at(v, k)))
            if (cli_text_width(nlp_value_key(v, k)) > w)
                w = cli_text_width(nlp_value_key(v, k));
    for (size_t k = 0; k < nlp_value_len(v); k++) {
        const nlp_value *f = nlp_value_at(v, k);
        if (scalars_only && !is_scalar(f))
            continue;
        const char *key = nlp_value_key(v, k);
        char *t = cell_text(f);
        printf("%s:%*s %s\n", key, w - cli_text_width(key), "", t ? t : "");
        free(t);
    }
}

void cli_render(const nlp_value *v, const char *columns)
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
                cli_render(nlp_value_at(v, i), columns);
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

