/*
 * data.c - nlp_dataset (see nlp/dataset.h): loading, the shared helpers of
 * the readers, the masked-LM and sequence-classification readers.  The
 * NER and QA readers are in data_ner.c and data_qa.c, batches in batch.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/corpus.h"
#include "nlp/model.h"
#include "train_impl.h"
#include "util/util.h"
#include "dataset_impl.h"

/* ------------------------------------------------------------ vectors */

static void *ds_reserve(ds_vec *v, size_t n)
{
    if (v->n + n > v->cap) {
        size_t cap = v->cap ? v->cap : 64;
        while (cap < v->n + n)
            cap *= 2;
        void *p = realloc(v->p, cap * v->elem);
        if (!p)
            return NULL;
        v->p = p;
        v->cap = cap;
    }
    return (char *)v->p + v->n * v->elem;
}

void *ds_push_n(ds_vec *v, const void *items, size_t n)
{
    char *at = ds_reserve(v, n ? n : 1);
    if (!at)
        return NULL;
    if (items)
        memcpy(at, items, n * v->elem);
    else
        memset(at, 0, n * v->elem);
    v->n += n;
    return at;
}

void *ds_push(ds_vec *v, const void *item)
{
    return ds_push_n(v, item, 1);
}

void ds_vec_free(ds_vec *v)
{
    free(v->p);
    v->p = NULL;
    v->n = v->cap = 0;
}

nlp_status ds_add_string(nlp_dataset *ds, const char *s, size_t len, size_t *off,
                         nlp_error *err)
{
    *off = ds->strs.n;
    char *at = ds_push_n(&ds->strs, s, len);
    if (!at || !ds_push(&ds->strs, NULL))
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    return NLP_OK;
}

/* ------------------------------------------------------------ labels */

/* A fixed label set also takes label ids written as decimal integers
 * ("0", "1"), as data sets often store them; -1 for anything else. */
static int32_t numeric_label(const nlp_dataset *ds, const char *s, size_t len)
{
    size_t v = 0;
    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    return v < ds->n_labels ? (int32_t)v : -1;
}

/* The slot of name in the label index: its label's, or the empty one
 * where it would go. */
static size_t label_slot(const nlp_dataset *ds, const char *name, size_t len)
{
    size_t k = nlp_hash_fold(nlp_fnv1a(NLP_FNV1A_INIT, name, len)) & ds->label_mask;
    for (int32_t id; (id = ds->label_slots[k]) >= 0; k = (k + 1) & ds->label_mask)
        if (strlen(ds->labels[id]) == len && memcmp(ds->labels[id], name, len) == 0)
            break;
    return k;
}

/* (Re)build the label index with room for twice the labels; 0 when out of
 * memory.  The first of equal names keeps the slot. */
static int label_index(nlp_dataset *ds)
{
    size_t size = 16;
    while (size < 2 * (ds->n_labels + 1))
        size *= 2;
    int32_t *slots = malloc(size * sizeof *slots);
    if (!slots)
        return 0;
    for (size_t i = 0; i < size; i++)
        slots[i] = -1;
    free(ds->label_slots);
    ds->label_slots = slots;
    ds->label_mask = size - 1;
    for (size_t i = 0; i < ds->n_labels; i++) {
        size_t k = label_slot(ds, ds->labels[i], strlen(ds->labels[i]));
        if (slots[k] < 0)
            slots[k] = (int32_t)i;
    }
    return 1;
}

int32_t ds_label_id(nlp_dataset *ds, const char *name, size_t len)
{
    if ((!ds->label_slots || 2 * (ds->n_labels + 1) > ds->label_mask + 1) && !label_index(ds))
        return -2;
    size_t k = label_slot(ds, name, len);
    if (ds->label_slots[k] >= 0)
        return ds->label_slots[k];
    if (ds->fixed_labels)
        return numeric_label(ds, name, len);
    if (ds->n_labels == ds->cap_labels) {
        size_t cap = ds->cap_labels ? 2 * ds->cap_labels : 16;
        char **p = realloc(ds->labels, cap * sizeof *p);
        if (!p)
            return -2;
        ds->labels = p;
        ds->cap_labels = cap;
    }
    char *s = malloc(len + 1);
    if (!s)
        return -2;
    memcpy(s, name, len);
    s[len] = '\0';
    ds->labels[ds->n_labels] = s;
    ds->label_slots[k] = (int32_t)ds->n_labels;
    return (int32_t)ds->n_labels++;
}

static const nlp_dataset *sort_ds;
static int cmp_label(const void *a, const void *b)
{
    return strcmp(sort_ds->labels[*(const int32_t *)a], sort_ds->labels[*(const int32_t *)b]);
}

static void remap(ds_vec *v, const int32_t *to)
{
    for (size_t i = 0; i < v->n; i++) {
        int32_t *x = &DS_AT(*v, int32_t, i);
        if (*x >= 0)
            *x = to[*x];
    }
}

nlp_status ds_sort_labels(nlp_dataset *ds, nlp_error *err)
{
    const size_t n = ds->n_labels;
    if (ds->fixed_labels || n < 2)
        return NLP_OK;
    int32_t *order = malloc(n * sizeof *order), *to = malloc(n * sizeof *to);
    char **names = malloc(n * sizeof *names);
    if (!order || !to || !names) {
        free(order), free(to), free(names);
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (int32_t)i;
    sort_ds = ds;       /* qsort has no user pointer; loads are not concurrent here */
    qsort(order, n, sizeof *order, cmp_label);
    for (size_t i = 0; i < n; i++) {
        to[order[i]] = (int32_t)i;
        names[i] = ds->labels[order[i]];
    }
    memcpy(ds->labels, names, n * sizeof *names);
    free(ds->label_slots); /* ids changed: rebuilt when next needed */
    ds->label_slots = NULL;
    if (ds->task == NLP_TRAIN_SEQ_CLS)
        for (size_t i = 0; i < ds->seqs.n; i++) {
            ds_seq *s = &DS_AT(ds->seqs, ds_seq, i);
            if (s->label >= 0)
                s->label = to[s->label];
        }
    remap(&ds->mlab, to);
    remap(&ds->tlab, to);
    remap(&ds->gold, to);
    free(order), free(to), free(names);
    return NLP_OK;
}

/* Rename labels taken from the data: spec is "OLD=NEW,OLD=NEW". */
static nlp_status rename_labels(nlp_dataset *ds, const char *spec, nlp_error *err)
{
    if (ds->fixed_labels)
        return nlp_error_set(err, NLP_ERR_USAGE, "labels can be renamed only when they come "
                             "from the data, not from a model's id2label");
    for (const char *p = spec; *p;) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || eq == p || eq + 1 == end)
            return nlp_error_set(err, NLP_ERR_USAGE, "label renaming \"%.*s\" is not OLD=NEW",
                                 (int)(end - p), p);
        size_t i = 0;
        while (i < ds->n_labels && (strlen(ds->labels[i]) != (size_t)(eq - p) ||
                                    memcmp(ds->labels[i], p, (size_t)(eq - p)) != 0))
            i++;
        if (i == ds->n_labels)
            return nlp_error_set(err, NLP_ERR_USAGE, "label renaming: the data has no label "
                                 "\"%.*s\"", (int)(eq - p), p);
        char *name = malloc((size_t)(end - eq));
        if (!name)
            return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
        memcpy(name, eq + 1, (size_t)(end - eq - 1));
        name[end - eq - 1] = '\0';
        free(ds->labels[i]);
        ds->labels[i] = name;
        free(ds->label_slots);
        ds->label_slots = NULL;
        p = comma ? comma + 1 : end;
    }
    return NLP_OK;
}

/* ------------------------------------------------------------ messages */

enum { MAX_WARNINGS = 10 };    /* bad rows named one by one; then a count */

nlp_status ds_bad_row(nlp_dataset *ds, size_t line, nlp_status st, const char *why,
                      nlp_error *err)
{
    ds->n_skipped++;
    char at[32] = "";
    if (line)
        snprintf(at, sizeof at, ":%zu", line);
    if (ds->o.strict)
        return nlp_error_set(err, st, "%s%s: %s", ds->o.path, at, why);
    if (ds->o.warn && ds->n_skipped <= MAX_WARNINGS) {
        char *m = nlp_strf("%s%s: %s; skipped", ds->o.path, at, why);
        if (m)
            ds->o.warn(ds->o.warn_user, m);
        free(m);
    }
    return NLP_OK;
}

static void ds_warn(nlp_dataset *ds, const char *fmt, ...)
{
    if (!ds->o.warn)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ds->o.warn(ds->o.warn_user, buf);
}

/* ------------------------------------------------------------ sequences */

/* Append an encoding as one sequence; returns it, or NULL (out of memory). */
static ds_seq *add_encoding(nlp_dataset *ds, const nlp_encoding *e, int with_types)
{
    ds_seq s = {ds->ids.n, (uint32_t)e->n, (uint32_t)ds->n_examples, -1, -1, 0, 0};
    if (!ds_push_n(&ds->ids, e->ids, e->n))
        return NULL;
    if (with_types && !ds_push_n(&ds->types, e->type_ids, e->n))
        return NULL;
    if (e->n > ds->max_seq)
        ds->max_seq = e->n;
    return ds_push(&ds->seqs, &s);
}

/* ------------------------------------------------------------ tabular input */

typedef struct table {
    FILE *fp;
    nlp_corpus_reader *r;
    int plain;                  /* a text file: one paragraph per line */
    char *line;
    size_t line_cap, line_no;
} table;

static nlp_status table_open(nlp_dataset *ds, const char *fmt, table *t, nlp_error *err)
{
    memset(t, 0, sizeof *t);
    t->fp = fopen(ds->o.path, "rb");
    if (!t->fp)
        return nlp_error_set(err, NLP_ERR_IO, "%s: cannot open: %s", ds->o.path,
                             strerror(errno));
    if (strcmp(fmt, "text") == 0) {
        t->plain = 1;
        return NLP_OK;
    }
    nlp_corpus_opts co = {0};
    co.format = strcmp(fmt, "jsonl") == 0 ? NLP_CORPUS_JSONL : NLP_CORPUS_CSV;
    co.delimiter = strcmp(fmt, "tsv") == 0 ? '\t' : ',';
    return nlp_corpus_reader_open(t->fp, ds->o.path, &co, &t->r, err);
}

static void table_close(table *t)
{
    nlp_corpus_reader_free(t->r);
    if (t->fp)
        fclose(t->fp);
    free(t->line);
}

/* The column spec, else the first of the fallbacks present, else column
 * 1 (when first_ok).  *index = (size_t)-1 for an absent optional one. */
static nlp_status find_column(const table *t, const char *spec, const char *const *fallback,
                              int first_ok, size_t *index, nlp_error *err)
{
    if (spec)
        return nlp_corpus_column_find(t->r, spec, index, err);
    for (; fallback && *fallback; fallback++)
        for (size_t i = 0; i < nlp_corpus_ncolumns(t->r); i++)
            if (strcmp(nlp_corpus_column_name(t->r, i), *fallback) == 0) {
                *index = i;
                return NLP_OK;
            }
    *index = first_ok ? 0 : (size_t)-1;
    return NLP_OK;
}

/* The next record: for a text file fields[0] is the line.  *row NULL at
 * the end.  A bad record comes back as NLP_ERR_FORMAT / NLP_ERR_UTF8 with
 * *row set. */
static nlp_status table_next(table *t, const nlp_corpus_row **row, nlp_corpus_row *plain_row,
                             nlp_corpus_field *plain_field, nlp_error *err)
{
    if (!t->plain)
        return nlp_corpus_next(t->r, row, err);
    for (;;) {
        ssize_t n = getline(&t->line, &t->line_cap, t->fp);
        if (n < 0) {
            *row = NULL;
            return ferror(t->fp) ? nlp_error_set(err, NLP_ERR_IO, "read error") : NLP_OK;
        }
        t->line_no++;
        while (n > 0 && (t->line[n - 1] == '\n' || t->line[n - 1] == '\r'))
            t->line[--n] = '\0';
        if (n == 0)
            continue;
        *plain_field = (nlp_corpus_field){t->line, (size_t)n, 0};
        memset(plain_row, 0, sizeof *plain_row);
        plain_row->line = plain_row->end_line = t->line_no;
        plain_row->nfields = 1;
        plain_row->fields = plain_field;
        *row = plain_row;
        return NLP_OK;
    }
}

/* The reason in a reader's "SOURCE: line N: why" message. */
const char *ds_reader_why(const char *msg)
{
    const char *p = strstr(msg, ": line ");
    if (p && (p = strstr(p + 7, ": ")) != NULL)
        return p + 2;
    return msg;
}

/* ------------------------------------------------------------ MLM */

/* Append the paragraph's tokens and a [SEP] to the token stream. */
static nlp_status mlm_row(nlp_dataset *ds, const nlp_corpus_row *row, const nlp_corpus_field *f,
                          nlp_encoding *enc, nlp_error *err)
{
    nlp_encode_opts eo = NLP_ENCODE_OPTS_INIT;
    eo.add_special_tokens = 0;
    nlp_error e2 = {0};
    nlp_status st = nlp_tokenizer_encode(ds->tok, f->s, f->len, NULL, 0, &eo, enc, &e2);
    if (st == NLP_ERR_UTF8 || st == NLP_ERR_INPUT)
        return ds_bad_row(ds, row->line, st, e2.msg, err);
    if (st != NLP_OK)
        return nlp_error_set(err, st, "%s:%zu: %s", ds->o.path, row->line, e2.msg);
    if (enc->n == 0)
        return NLP_OK;
    if (!ds_push_n(&ds->ids, enc->ids, enc->n) || !ds_push(&ds->ids, &ds->sep))
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    ds->n_examples++;
    return NLP_OK;
}

/* Cut the stream into [CLS] + w tokens + [SEP] sequences: the stream is
 * moved right by one slot per sequence to make room, in place. */
static nlp_status mlm_pack(nlp_dataset *ds, nlp_error *err)
{
    const size_t w = ds->max_len - 2, n = ds->ids.n;
    if (n == 0)
        return NLP_OK;
    const size_t nseq = (n + w - 1) / w, total = n + 2 * nseq;
    if (!ds_reserve(&ds->ids, total - n))
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    int32_t *ids = ds->ids.p;
    for (size_t k = nseq; k-- > 0;) {
        const size_t a = k * w, len = a + w <= n ? w : n - a;
        const size_t to = k * (w + 2);
        memmove(ids + to + 1, ids + a, len * sizeof *ids);
        ids[to] = ds->cls;
        ids[to + 1 + len] = ds->sep;
        ds_seq s = {to, (uint32_t)(len + 2), (uint32_t)k, -1, -1, 0, 0};
        /* sequences are pushed last to first, then reversed below */
        if (!ds_push(&ds->seqs, &s))
            return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    }
    ds->ids.n = total;
    ds_seq *s = ds->seqs.p;
    for (size_t i = 0, j = nseq - 1; i < j; i++, j--) {
        ds_seq t = s[i];
        s[i] = s[j];
        s[j] = t;
    }
    ds->max_seq = nseq > 1 ? ds->max_len : s[0].len;
    return NLP_OK;
}

/* ------------------------------------------------------------ SEQ_CLS */

typedef struct cls_cols {
    size_t text, pair, label;
} cls_cols;

/* Multi-label: the names of a JSON array, or of a comma-separated list. */
static nlp_status add_multi_labels(nlp_dataset *ds, ds_seq *s, const nlp_corpus_field *f,
                                   size_t line, int *bad, char *why, size_t whylen)
{
    s->lab_off = (uint32_t)ds->mlab.n;
    const char *p = f->s, *end = f->s + f->len;
    int json = f->len && f->s[0] == '[';
    if (json)
        p++;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ',' || (json && (*p == '"' || *p == ']'))))
            p++;
        const char *q = p;
        while (q < end && *q != ',' && !(json && (*q == '"' || *q == ']')))
            q++;
        size_t n = (size_t)(q - p);
        while (n && p[n - 1] == ' ')
            n--;
        if (n) {
            int32_t id = ds_label_id(ds, p, n);
            if (id == -2)
                return NLP_ERR_NOMEM;
            if (id == -1) {
                snprintf(why, whylen, "label \"%.*s\" is not one of the model's labels",
                         (int)(n < 200 ? n : 200), p);
                *bad = 1;
                return NLP_OK;
            }
            if (!ds_push(&ds->mlab, &id))
                return NLP_ERR_NOMEM;
            s->lab_n++;
        }
        p = q;
    }
    (void)line;
    return NLP_OK;
}

static nlp_status cls_row(nlp_dataset *ds, const nlp_corpus_row *row, const cls_cols *c,
                          nlp_encoding *enc, nlp_error *err)
{
    const nlp_corpus_field *t = &row->fields[c->text], *l = &row->fields[c->label];
    const nlp_corpus_field *p = c->pair != (size_t)-1 ? &row->fields[c->pair] : NULL;
    if (l->len == 0 || (l->json && strcmp(l->s, "null") == 0))
        return ds_bad_row(ds, row->line, NLP_ERR_FORMAT, "the label is empty", err);
    nlp_encode_opts eo = NLP_ENCODE_OPTS_INIT;
    eo.max_length = ds->max_len;
    nlp_error e2 = {0};
    nlp_status st = nlp_tokenizer_encode(ds->tok, t->s, t->len, p ? p->s : NULL,
                                         p ? p->len : 0, &eo, enc, &e2);
    if (st == NLP_ERR_UTF8 || st == NLP_ERR_INPUT)
        return ds_bad_row(ds, row->line, st, e2.msg, err);
    if (st != NLP_OK)
        return nlp_error_set(err, st, "%s:%zu: %s", ds->o.path, row->line, e2.msg);
    ds->n_truncated += enc->n_truncated > 0;
    size_t seq_mark = ds->seqs.n, ids_mark = ds->ids.n, types_mark = ds->types.n;
    ds_seq *s = add_encoding(ds, enc, p != NULL);
    if (!s)
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    char why[300];
    int bad = 0;
    if (ds->o.multi_label) {
        if (add_multi_labels(ds, s, l, row->line, &bad, why, sizeof why) != NLP_OK)
            return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    } else {
        s->label = ds_label_id(ds, l->s, l->len);
        if (s->label == -2)
            return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
        if (s->label == -1) {
            snprintf(why, sizeof why, "label \"%.*s\" is not one of the model's labels",
                     (int)(l->len < 200 ? l->len : 200), l->s);
            bad = 1;
        }
    }
    if (bad) {     /* an unknown label is an error, never a skipped row */
        ds->seqs.n = seq_mark, ds->ids.n = ids_mark, ds->types.n = types_mark;
        return nlp_error_set(err, NLP_ERR_INPUT, "%s:%zu: %s", ds->o.path, row->line, why);
    }
    ds->n_examples++;
    return NLP_OK;
}

/* ------------------------------------------------------------ reading rows */

static nlp_status read_table(nlp_dataset *ds, const char *fmt, nlp_error *err)
{
    table t;
    nlp_status st = table_open(ds, fmt, &t, err);
    cls_cols c = {0, (size_t)-1, 0};
    static const char *const text_names[] = {"text", "sentence", NULL};
    static const char *const label_names[] = {"label", NULL};
    if (st == NLP_OK && !t.plain) {
        st = find_column(&t, ds->o.text_column, text_names, 1, &c.text, err);
        if (st == NLP_OK && ds->task == NLP_TRAIN_SEQ_CLS && ds->o.text_pair_column)
            st = find_column(&t, ds->o.text_pair_column, NULL, 0, &c.pair, err);
        if (st == NLP_OK && ds->task == NLP_TRAIN_SEQ_CLS) {
            st = find_column(&t, ds->o.label_column, label_names, 0, &c.label, err);
            if (st == NLP_OK && c.label == (size_t)-1)
                st = nlp_error_set(err, NLP_ERR_NOT_FOUND,
                                   "%s: no \"label\" column; name it with --label-column",
                                   ds->o.path);
        }
    }
    nlp_encoding enc = {0};
    nlp_corpus_row prow;
    nlp_corpus_field pf;
    while (st == NLP_OK && (!ds->o.limit || ds->n_examples < ds->o.limit)) {
        const nlp_corpus_row *row;
        nlp_error e2 = {0};
        st = table_next(&t, &row, &prow, &pf, &e2);
        if (st == NLP_ERR_FORMAT || st == NLP_ERR_UTF8) {
            st = ds_bad_row(ds, row->line, st, ds_reader_why(e2.msg), err);
            continue;
        }
        if (st != NLP_OK) {
            nlp_error_set(err, st, "%s: %s", ds->o.path, e2.msg);
            break;
        }
        if (!row)
            break;
        st = ds->task == NLP_TRAIN_MLM ? mlm_row(ds, row, &row->fields[c.text], &enc, err)
                                       : cls_row(ds, row, &c, &enc, err);
    }
    nlp_encoding_free(&enc);
    table_close(&t);
    if (st == NLP_OK && ds->task == NLP_TRAIN_MLM)
        st = mlm_pack(ds, err);
    return st;
}

/* ------------------------------------------------------------ loading */

void nlp_dataset_opts_init(nlp_dataset_opts *o, nlp_train_task task, const char *path)
{
    memset(o, 0, sizeof *o);
    o->task = task;
    o->path = path;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The format named, or the one the file name and task suggest. */
static const char *pick_format(const nlp_dataset_opts *o)
{
    if (o->format)
        return o->format;
    const char *p = o->path;
    if (ends_with(p, ".jsonl") || ends_with(p, ".ndjson"))
        return "jsonl";
    if (ends_with(p, ".tsv") || ends_with(p, ".tab"))
        return "tsv";
    if (ends_with(p, ".csv"))
        return "csv";
    if (o->task == NLP_TRAIN_QA)
        return "squad";
    if (o->task == NLP_TRAIN_TOKEN_CLS)
        return "conll";
    return o->task == NLP_TRAIN_MLM ? "text" : "csv";
}

static nlp_status check_format(const nlp_dataset_opts *o, const char *fmt, nlp_error *err)
{
    static const char *const ok[4] = {"text csv tsv jsonl", "csv tsv jsonl", "conll jsonl",
                                      "squad"};
    const char *list = ok[o->task];
    const size_t n = strlen(fmt);
    for (const char *p = strstr(list, fmt); p; p = strstr(p + 1, fmt))
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0') && n)
            return NLP_OK;
    return nlp_error_set(err, NLP_ERR_USAGE, "%s: format \"%s\" does not fit this task "
                         "(it reads %s)", o->path, fmt, list);
}

nlp_status nlp_dataset_fit_model(nlp_dataset_opts *d, const nlp_config *cfg, nlp_error *err)
{
    const size_t pos = (size_t)cfg->max_position_embeddings;
    if (d->max_len > pos)
        return nlp_error_set(err, NLP_ERR_USAGE, "--max-len %zu is longer than the model's "
                             "%zu positions", d->max_len, pos);
    if (!d->max_len) {
        d->max_len = d->task == NLP_TRAIN_QA ? 384 : 128;
        if (d->max_len > pos)
            d->max_len = pos;
    }
    return NLP_OK;
}

/* Vocabulary tables: special ids and word continuations. */
static nlp_status vocab_tables(nlp_dataset *ds, nlp_error *err)
{
    const nlp_tokenizer *tok = ds->tok;
    ds->V = nlp_tokenizer_vocab_size(tok);
    ds->cls = nlp_tokenizer_special_id(tok, NLP_SPECIAL_CLS);
    ds->sep = nlp_tokenizer_special_id(tok, NLP_SPECIAL_SEP);
    ds->pad = nlp_tokenizer_special_id(tok, NLP_SPECIAL_PAD);
    ds->mask = nlp_tokenizer_special_id(tok, NLP_SPECIAL_MASK);
    if (ds->cls < 0 || ds->sep < 0)
        return nlp_error_set(err, NLP_ERR_INPUT, "the tokenizer has no [CLS] or [SEP] token");
    if (ds->pad < 0)
        ds->pad = 0;
    if (ds->task != NLP_TRAIN_MLM)
        return NLP_OK;
    if (ds->mask < 0)
        return nlp_error_set(err, NLP_ERR_INPUT, "the tokenizer has no mask token");
    ds->cont = calloc(ds->V ? ds->V : 1, 1);
    ds->special = calloc(ds->V ? ds->V : 1, 1);
    if (!ds->cont || !ds->special)
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    for (size_t i = 0; i < ds->V; i++) {
        const char *t = nlp_tokenizer_id_to_token(tok, (int32_t)i);
        ds->cont[i] = t && t[0] == '#' && t[1] == '#' && t[2];
        ds->special[i] = (uint8_t)nlp_tokenizer_is_special(tok, (int32_t)i);
    }
    ds->special[ds->cls] = ds->special[ds->sep] = ds->special[ds->pad] = 1;
    return NLP_OK;
}

static nlp_status ds_init(nlp_dataset *ds, const nlp_dataset_opts *o, const nlp_tokenizer *tok,
                          nlp_error *err)
{
    ds->o = *o;
    ds->task = o->task;
    ds->tok = tok;
    ds->max_len = o->max_len ? o->max_len : o->task == NLP_TRAIN_QA ? 384 : 128;
    if (!ds->o.mask_prob)
        ds->o.mask_prob = 0.15;
    if (!ds->o.doc_stride)      /* as the question-answering pipeline */
        ds->o.doc_stride = ds->max_len / 2 < 128 ? ds->max_len / 2 : 128;
    ds->ids.elem = ds->types.elem = ds->tlab.elem = ds->word.elem = sizeof(int32_t);
    ds->cstart.elem = ds->cend.elem = ds->mlab.elem = ds->gold.elem = sizeof(int32_t);
    ds->gold_off.elem = ds->answers.elem = sizeof(size_t);
    ds->seqs.elem = sizeof(ds_seq);
    ds->questions.elem = sizeof(ds_question);
    ds->strs.elem = 1;
    if (ds->max_len < 4 || ds->max_len > (1u << 20))
        return nlp_error_set(err, NLP_ERR_USAGE, "max length %zu is outside [4, 1048576]",
                             ds->max_len);
    if (o->mask_prob < 0 || o->mask_prob >= 1)
        return nlp_error_set(err, NLP_ERR_USAGE, "mask probability %g is outside [0, 1)",
                             o->mask_prob);
    for (size_t i = 0; i < o->n_labels; i++)
        if (ds_label_id(ds, o->labels[i], strlen(o->labels[i])) < 0)
            return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    ds->fixed_labels = o->labels != NULL;
    return vocab_tables(ds, err);
}

static nlp_status ds_read(nlp_dataset *ds, const char *fmt, nlp_error *err)
{
    if (strcmp(fmt, "conll") == 0)
        return ds_read_conll(ds, err);
    if (strcmp(fmt, "squad") == 0)
        return ds_read_squad(ds, err);
    if (ds->task == NLP_TRAIN_TOKEN_CLS)
        return ds_read_ner_jsonl(ds, err);
    return read_table(ds, fmt, err);
}

nlp_status nlp_dataset_load(const nlp_dataset_opts *o, const nlp_tokenizer *tok,
                            nlp_dataset **out, nlp_error *err)
{
    *out = NULL;
    if (!o || !o->path || !tok || (unsigned)o->task > NLP_TRAIN_QA)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_dataset_load: bad arguments");
    const char *fmt = pick_format(o);
    nlp_status st = check_format(o, fmt, err);
    if (st != NLP_OK)
        return st;
    nlp_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    st = ds_init(ds, o, tok, err);
    if (st == NLP_OK)
        st = ds_read(ds, fmt, err);
    if (st == NLP_OK)
        st = ds_sort_labels(ds, err);
    if (st == NLP_OK && o->rename_labels)
        st = rename_labels(ds, o->rename_labels, err);
    if (st == NLP_OK && ds->seqs.n == 0)
        st = nlp_error_set(err, NLP_ERR_INPUT, "%s: no usable %s", o->path,
                           o->task == NLP_TRAIN_QA ? "question" : o->task == NLP_TRAIN_TOKEN_CLS
                                                                      ? "sentence" : "row");
    if (st == NLP_OK && ds->n_skipped > MAX_WARNINGS)
        ds_warn(ds, "%s: %zu bad rows skipped in all (the first %d named above)", o->path,
                ds->n_skipped, MAX_WARNINGS);
    if (st == NLP_OK && ds->n_truncated && o->task != NLP_TRAIN_MLM)
        ds_warn(ds, "%s: %zu of %zu examples were longer than %zu tokens and were truncated",
                o->path, ds->n_truncated, ds->n_examples, ds->max_len);
    if (st != NLP_OK) {
        nlp_dataset_free(ds);
        return st;
    }
    ds->o.path = NULL;
    ds->o.labels = NULL;
    ds->o.text_column = ds->o.text_pair_column = ds->o.label_column = ds->o.format = NULL;
    ds->o.rename_labels = NULL;
    *out = ds;
    return NLP_OK;
}

void nlp_dataset_free(nlp_dataset *ds)
{
    if (!ds)
        return;
    ds_vec *v[] = {&ds->ids, &ds->types, &ds->tlab, &ds->word, &ds->cstart, &ds->cend,
                   &ds->seqs, &ds->mlab, &ds->gold, &ds->gold_off, &ds->questions,
                   &ds->answers, &ds->strs};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        ds_vec_free(v[i]);
    for (size_t i = 0; i < ds->n_labels; i++)
        free(ds->labels[i]);
    free(ds->labels);
    free(ds->label_slots);
    free(ds->cont);
    free(ds->special);
    free(ds);
}

size_t nlp_dataset_size(const nlp_dataset *ds) { return ds ? ds->seqs.n : 0; }
size_t nlp_dataset_examples(const nlp_dataset *ds) { return ds ? ds->n_examples : 0; }
size_t nlp_dataset_skipped(const nlp_dataset *ds) { return ds ? ds->n_skipped : 0; }
size_t nlp_dataset_tokens(const nlp_dataset *ds) { return ds ? ds->ids.n : 0; }
size_t nlp_dataset_max_seq(const nlp_dataset *ds) { return ds ? ds->max_seq : 0; }

size_t nlp_dataset_num_labels(const nlp_dataset *ds)
{
    return ds && (ds->task == NLP_TRAIN_SEQ_CLS || ds->task == NLP_TRAIN_TOKEN_CLS)
               ? ds->n_labels : 0;
}

const char *nlp_dataset_label(const nlp_dataset *ds, size_t i)
{
    return i < nlp_dataset_num_labels(ds) ? ds->labels[i] : NULL;
}
