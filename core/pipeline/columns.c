/*
 * columns.c - a task's results as flat columns for tabular output (CSV,
 * TSV, JSON Lines corpora): which columns a task writes, as its plugin
 * declares them for the current options, and the text of each cell.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_impl.h"

/* Without a columns() function: a field per entry of result_columns, or
 * the whole result. */
static size_t default_columns(nlp_pipeline *p)
{
    size_t n = 0;
    for (const char *s = p->desc->result_columns; s && *s && n < PL_MAX_COLUMNS;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (len < sizeof p->colname[n]) {
            memcpy(p->colname[n], s, len);
            p->colname[n][len] = '\0';
            p->cols[n] = (nlp_column){p->colname[n], NLP_COLUMN_FIELD, p->colname[n]};
            n++;
        }
        s = comma ? comma + 1 : s + len;
    }
    if (n == 0)
        p->cols[n++] = (nlp_column){"result", NLP_COLUMN_WHOLE, NULL};
    return n;
}

void pl_columns_update(nlp_pipeline *p)
{
    const nlp_plugin *pl = p->info->plugin;
    size_t n = 0;
    if (pl->columns)
        n = pl->columns(nlp_host_api_get(), &p->args, p->cols, PL_MAX_COLUMNS);
    if (n == 0 || n > PL_MAX_COLUMNS)
        n = default_columns(p);
    p->ncols = n;
    p->cols_stale = 0;
}

size_t nlp_pipeline_columns(const nlp_pipeline *p, const nlp_column **cols)
{
    if (!p)
        return 0;
    if (p->cols_stale)
        pl_columns_update((nlp_pipeline *)p);
    if (cols)
        *cols = p->cols;
    return p->ncols;
}

static const nlp_value *field(const nlp_value *obj, const char *key)
{
    return key ? nlp_value_get(obj, key) : NULL;
}

/* A cell's text: a string as it is, anything else as JSON, none as NULL. */
static nlp_status cell_of(const nlp_value *x, char **text, int *json, nlp_error *err)
{
    *text = NULL;
    *json = 1;
    nlp_value_kind k = nlp_value_kind_of(x);
    if (!x || k == NLP_VALUE_NULL || k == NLP_VALUE_INVALID)
        return NLP_OK;
    if (k == NLP_VALUE_STRING) {
        *text = strdup(nlp_value_string(x));
        *json = 0;
    } else
        *text = nlp_value_to_json(x, 0);
    return *text ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
}

/* Several masks: a JSON array of field key of each mask's best guess. */
static nlp_status per_element(const nlp_value *v, const char *key, char **text,
                              nlp_error *err)
{
    nlp_value *a = nlp_value_array();
    for (size_t i = 0; a && i < nlp_value_len(v); i++) {
        const nlp_value *x = field(nlp_value_at(nlp_value_at(v, i), 0), key);
        char *j = x ? nlp_value_to_json(x, 0) : NULL;
        nlp_value_push(a, j ? nlp_value_parse_json(j, strlen(j)) : nlp_value_null_new());
        free(j);
    }
    *text = a ? nlp_value_to_json(a, 0) : NULL;
    nlp_value_free(a);
    return *text ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
}

static nlp_status field_cell(const nlp_value *v, const char *key, char **text, int *json,
                             nlp_error *err)
{
    if (nlp_value_kind_of(v) == NLP_VALUE_OBJECT)
        return cell_of(field(v, key), text, json, err);
    if (nlp_value_kind_of(v) == NLP_VALUE_ARRAY && nlp_value_len(v) > 0) {
        const nlp_value *e = nlp_value_at(v, 0);
        if (nlp_value_kind_of(e) == NLP_VALUE_OBJECT)
            return cell_of(field(e, key), text, json, err);
        *json = 1;
        return per_element(v, key, text, err);
    }
    return cell_of(NULL, text, json, err);
}

nlp_status nlp_pipeline_cell(const nlp_pipeline *p, const nlp_value *result, size_t col,
                             char **text, int *json, nlp_error *err)
{
    const nlp_column *cols;
    size_t n = nlp_pipeline_columns(p, &cols);
    if (!text || !json || col >= n)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_pipeline_cell: no column %zu", col);
    const nlp_column *c = &cols[col];
    switch (c->kind) {
    case NLP_COLUMN_FIELD:
        return field_cell(result, c->key, text, json, err);
    case NLP_COLUMN_FIRST:
        return cell_of(nlp_value_at(field(result, c->key), 0), text, json, err);
    default:
        return cell_of(result, text, json, err);
    }
}
