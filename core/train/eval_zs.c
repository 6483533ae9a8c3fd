/*
 * eval_zs.c - zero-shot classification scored the way users get it: each
 * text of the data goes through the classify pipeline (nlp/pipeline.h)
 * with the candidate labels and hypothesis template, and its top label is
 * compared with the row's label.  Rows come from CSV / TSV / JSON Lines
 * (nlp/corpus.h); a row without text or label is reported and skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/corpus.h"
#include "nlp/metrics.h"
#include "nlp/pipeline.h"
#include "nlp/train_run.h"
#include "train_impl.h"

#define ZS_CHUNK 256            /* texts per pipeline call */

typedef struct zs_run {
    const nlp_eval_opts *o;
    nlp_pipeline *p;
    FILE *fp;
    nlp_corpus_reader *r;
    size_t text_col, label_col;
    char **names;               /* the candidate labels, sorted */
    size_t n_names;
    int32_t *gold, *pred;       /* [n] */
    size_t n, cap;
    char *texts[ZS_CHUNK];      /* the chunk being collected */
    char *labels[ZS_CHUNK];
    size_t lines[ZS_CHUNK];
    size_t in_chunk;
} zs_run;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int name_index(const zs_run *z, const char *s)
{
    char **hit = bsearch(&s, z->names, z->n_names, sizeof *z->names, cmp_str);
    return hit ? (int)(hit - z->names) : -1;
}

/* The candidate labels, as the pipeline reports them for one result. */
static nlp_status take_names(zs_run *z, const nlp_value *res, nlp_error *err)
{
    const nlp_value *ls = nlp_value_get(res, "labels");
    size_t n = ls ? nlp_value_len(ls) : 0;
    if (n == 0)
        return nlp_error_set(err, NLP_ERR_FORMAT, "zero-shot: the pipeline gave no labels");
    if (!(z->names = calloc(n, sizeof *z->names)))
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    for (z->n_names = 0; z->n_names < n; z->n_names++) {
        const char *s = nlp_value_string(nlp_value_at(ls, z->n_names));
        if (!(z->names[z->n_names] = strdup(s ? s : "")))
            return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    qsort(z->names, n, sizeof *z->names, cmp_str);
    return NLP_OK;
}

/* Room for another chunk of gold and predicted ids. */
static nlp_status grow(zs_run *z, nlp_error *err)
{
    size_t cap = (z->cap + ZS_CHUNK) * 2;
    int32_t *g = realloc(z->gold, cap * sizeof *g);
    if (g)
        z->gold = g;
    int32_t *q = g ? realloc(z->pred, cap * sizeof *q) : NULL;
    if (!q)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    z->pred = q;
    z->cap = cap;
    return NLP_OK;
}

/* Run the collected chunk and record gold and predicted ids. */
static nlp_status run_chunk(zs_run *z, nlp_error *err)
{
    nlp_input in[ZS_CHUNK];
    nlp_pipeline_result res[ZS_CHUNK];
    const size_t k = z->in_chunk;
    for (size_t i = 0; i < k; i++)
        in[i] = (nlp_input){.text = z->texts[i], .text_len = strlen(z->texts[i])};
    nlp_status st = nlp_pipeline_run(z->p, in, k, res, err);
    if (st != NLP_OK)
        return st;
    if (z->n + k > z->cap && (st = grow(z, err)) != NLP_OK) {
        nlp_pipeline_results_clear(res, k);
        return st;
    }
    for (size_t i = 0; st == NLP_OK && i < k; i++) {
        if (!res[i].value) {
            st = nlp_error_set(err, res[i].error.status, "%s:%zu: %s", z->o->data.path,
                               z->lines[i], res[i].error.msg);
            break;
        }
        if (!z->names && (st = take_names(z, res[i].value, err)) != NLP_OK)
            break;
        const char *top = nlp_value_string(nlp_value_at(nlp_value_get(res[i].value, "labels"), 0));
        int g = name_index(z, z->labels[i]), p = top ? name_index(z, top) : -1;
        if (g < 0) {
            st = nlp_error_set(err, NLP_ERR_FORMAT,
                               "%s:%zu: label '%s' is not one of the candidate labels",
                               z->o->data.path, z->lines[i], z->labels[i]);
            break;
        }
        z->gold[z->n] = g;
        z->pred[z->n++] = p < 0 ? 0 : p;
    }
    nlp_pipeline_results_clear(res, k);
    for (size_t i = 0; i < k; i++)
        free(z->texts[i]), free(z->labels[i]);
    z->in_chunk = 0;
    return st;
}

/* "FILE:LINE: why; skipped" to the data's warning callback. */
static void warn(const zs_run *z, size_t line, const char *why)
{
    if (!z->o->data.warn)
        return;
    char msg[1024];
    snprintf(msg, sizeof msg, "%.500s:%zu: %.400s; skipped", z->o->data.path, line, why);
    z->o->data.warn(z->o->data.warn_user, msg);
}

/* Add one row to the chunk (a row without text or label is skipped). */
static nlp_status add_row(zs_run *z, const nlp_corpus_row *row, nlp_error *err)
{
    const nlp_corpus_field *t = &row->fields[z->text_col], *l = &row->fields[z->label_col];
    if (t->len == 0 || l->len == 0 || (l->json && strcmp(l->s, "null") == 0)) {
        warn(z, row->line, "no text or no label");
        if (z->o->data.strict)
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s:%zu: no text or no label",
                                 z->o->data.path, row->line);
        return NLP_OK;
    }
    const size_t i = z->in_chunk;
    z->texts[i] = strndup(t->s, t->len);
    z->labels[i] = strndup(l->s, l->len);
    z->lines[i] = row->line;
    z->in_chunk++;
    if (!z->texts[i] || !z->labels[i])
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    return z->in_chunk == ZS_CHUNK ? run_chunk(z, err) : NLP_OK;
}

static nlp_status open_data(zs_run *z, nlp_error *err)
{
    const nlp_dataset_opts *d = &z->o->data;
    if (!(z->fp = fopen(d->path, "rb")))
        return nlp_error_set(err, NLP_ERR_IO, "%s: cannot open: %s", d->path, strerror(errno));
    nlp_corpus_opts co = {0};
    nlp_corpus_format_from_path(d->path, &co.format, &co.delimiter);
    if (d->format)
        co.format = strcmp(d->format, "jsonl") == 0 ? NLP_CORPUS_JSONL : NLP_CORPUS_CSV,
        co.delimiter = strcmp(d->format, "tsv") == 0 ? '\t' : ',';
    nlp_status st = nlp_corpus_reader_open(z->fp, d->path, &co, &z->r, err);
    if (st == NLP_OK)
        st = nlp_corpus_column_find(z->r, d->text_column ? d->text_column : "text",
                                    &z->text_col, err);
    if (st == NLP_OK)
        st = nlp_corpus_column_find(z->r, d->label_column ? d->label_column : "label",
                                    &z->label_col, err);
    return st;
}

static nlp_status open_pipeline(zs_run *z, nlp_error *err)
{
    nlp_pipeline_opts po = NLP_PIPELINE_OPTS_INIT;
    po.model = z->o->model;
    po.offline = 1;
    po.threads = z->o->threads;
    po.batch_size = z->o->batch_size;
    nlp_status st = nlp_pipeline_open("classify", &po, &z->p, err);
    if (st == NLP_OK)
        st = nlp_pipeline_set(z->p, "labels", z->o->zero_shot_labels, err);
    if (st == NLP_OK && z->o->zero_shot_template)
        st = nlp_pipeline_set(z->p, "template", z->o->zero_shot_template, err);
    return st;
}

static nlp_status read_all(zs_run *z, nlp_error *err)
{
    size_t seen = 0;
    for (;;) {
        const nlp_corpus_row *row = NULL;
        nlp_error re = {0};
        nlp_status st = nlp_corpus_next(z->r, &row, &re);
        if (st != NLP_OK && !row)
            return *err = re, st;
        if (!row)
            return z->in_chunk ? run_chunk(z, err) : NLP_OK;
        if (st != NLP_OK) {
            warn(z, row->line, re.msg);
            if (z->o->data.strict)
                return *err = re, st;
            continue;
        }
        if ((st = add_row(z, row, err)) != NLP_OK)
            return st;
        if (z->o->data.limit && ++seen == z->o->data.limit)
            return z->in_chunk ? run_chunk(z, err) : NLP_OK;
    }
}

nlp_status nlp_eval_zero_shot(const nlp_eval_opts *o, nlp_value **report, nlp_error *err)
{
    zs_run z;
    memset(&z, 0, sizeof z);
    z.o = o;
    nlp_metrics_class_report *cr = NULL;
    nlp_status st = open_pipeline(&z, err);
    if (st == NLP_OK)
        st = open_data(&z, err);
    if (st == NLP_OK)
        st = read_all(&z, err);
    if (st == NLP_OK && z.n == 0)
        st = nlp_error_set(err, NLP_ERR_FORMAT, "%s: no rows to evaluate", o->data.path);
    if (st == NLP_OK)
        st = nlp_metrics_classification(z.gold, z.pred, z.n, (int)z.n_names, &cr, err);
    nlp_value *rep = st == NLP_OK ? nlp_value_object() : NULL;
    if (st == NLP_OK && !rep)
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    if (st == NLP_OK) {
        nlp_value_set(rep, "task", nlp_value_string_new("zero-shot", 9));
        nlp_value_set(rep, "examples", nlp_value_int_new((int64_t)z.n));
        nlp_eval_class_report(rep, cr, (const char *const *)z.names, 0);
        *report = rep;
    }
    nlp_metrics_class_report_free(cr);
    for (size_t i = 0; i < z.in_chunk; i++)
        free(z.texts[i]), free(z.labels[i]);
    for (size_t i = 0; i < z.n_names; i++)
        free(z.names[i]);
    free(z.names), free(z.gold), free(z.pred);
    nlp_corpus_reader_free(z.r);
    if (z.fp)
        fclose(z.fp);
    nlp_pipeline_free(z.p);
    return st;
}
