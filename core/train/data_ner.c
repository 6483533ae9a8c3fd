/*
 * data_ner.c - token-classification data: CoNLL files and JSON Lines
 * {"tokens": [...], "tags": [...]}.  Each word is tokenized on its own (as
 * Hugging Face's is_split_into_words does); its tag labels the first
 * sub-token, -100 the others, or every sub-token with
 * label_all_subtokens (B-X becoming I-X after the first, as
 * run_ner.py's label_all_tokens does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nlp/corpus.h"
#include "dataset_impl.h"

/* The id of the I- tag of a B- tag, else the tag itself. */
static int32_t inside_tag(nlp_dataset *ds, int32_t id)
{
    const char *t = ds->labels[id];
    if (t[0] != 'B' || t[1] != '-')
        return id;
    for (size_t i = 0; i < ds->n_labels; i++)
        if (ds->labels[i][0] == 'I' && ds->labels[i][1] == '-' &&
            strcmp(ds->labels[i] + 2, t + 2) == 0)
            return (int32_t)i;
    return id;
}

/* Tag ids of the sentence (appended to ds->gold); 1 = a tag unknown to a
 * fixed label set (named in why). */
static int tag_ids(nlp_dataset *ds, const char *const *tags, const size_t *tag_lens, size_t n,
                   char *why, size_t whylen)
{
    for (size_t i = 0; i < n; i++) {
        int32_t id = ds_label_id(ds, tags[i], tag_lens[i]);
        if (id == -2)
            return -1;
        if (id == -1) {
            snprintf(why, whylen, "tag \"%.*s\" is not one of the model's labels",
                     (int)(tag_lens[i] < 200 ? tag_lens[i] : 200), tags[i]);
            return 1;
        }
        if (!ds_push(&ds->gold, &id))
            return -1;
    }
    return 0;
}

/* Tokens of one word appended to the sequence being built. */
static nlp_status add_word(nlp_dataset *ds, const char *w, size_t len, int32_t tag, int32_t word,
                           nlp_encoding *enc, size_t room, size_t *added, nlp_error *err)
{
    nlp_encode_opts eo = NLP_ENCODE_OPTS_INIT;
    eo.add_special_tokens = 0;
    nlp_status st = nlp_tokenizer_encode(ds->tok, w, len, NULL, 0, &eo, enc, err);
    if (st != NLP_OK)
        return st;
    *added = enc->n < room ? enc->n : room;
    const int32_t rest = ds->o.label_all_subtokens ? inside_tag(ds, tag) : NLP_IGNORE_INDEX;
    for (size_t k = 0; k < *added; k++) {
        int32_t lab = k == 0 ? tag : rest, wd = k == 0 ? word : -1;
        if (!ds_push(&ds->ids, &enc->ids[k]) || !ds_push(&ds->tlab, &lab) ||
            !ds_push(&ds->word, &wd))
            return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    }
    return NLP_OK;
}

/* [CLS], one sub-token sequence per word (cut at max_len - 1), [SEP]. */
static nlp_status add_tokens(nlp_dataset *ds, size_t line, const char *const *words,
                             const size_t *lens, const int32_t *tags, size_t n, nlp_error *err)
{
    const int32_t none = NLP_IGNORE_INDEX, nw = -1;
    ds_seq s = {ds->ids.n, 0, (uint32_t)ds->n_examples, -1, -1, 0, 0};
    if (!ds_push(&ds->ids, &ds->cls) || !ds_push(&ds->tlab, &none) || !ds_push(&ds->word, &nw))
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    nlp_encoding enc = {0};
    nlp_status st = NLP_OK;
    size_t used = 1, cut = 0;
    for (size_t i = 0; i < n && st == NLP_OK; i++) {
        size_t added = 0;
        nlp_error e2 = {0};
        st = add_word(ds, words[i], lens[i], tags[i], (int32_t)i, &enc, ds->max_len - 1 - used,
                      &added, &e2);
        if (st == NLP_ERR_UTF8 || st == NLP_ERR_INPUT)
            nlp_error_set(err, st, "%s:%zu: word %zu: %s", ds->o.path, line, i + 1, e2.msg);
        else if (st != NLP_OK)
            *err = e2;
        cut |= added < enc.n;
        used += added;
    }
    nlp_encoding_free(&enc);
    if (st != NLP_OK)
        return st;
    if (!ds_push(&ds->ids, &ds->sep) || !ds_push(&ds->tlab, &none) || !ds_push(&ds->word, &nw))
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    s.len = (uint32_t)(used + 1);
    ds->n_truncated += cut;
    if (s.len > ds->max_seq)
        ds->max_seq = s.len;
    return ds_push(&ds->seqs, &s) ? NLP_OK
                                  : nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
}

nlp_status ds_add_sentence(nlp_dataset *ds, size_t line, const char *const *words,
                           const size_t *lens, const char *const *tags, const size_t *tag_lens,
                           size_t n, nlp_error *err)
{
    if (n == 0)
        return NLP_OK;
    char why[300];
    const size_t gold_mark = ds->gold.n, ids_mark = ds->ids.n;
    int r = tag_ids(ds, tags, tag_lens, n, why, sizeof why);
    if (r < 0)
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    if (r > 0) {
        ds->gold.n = gold_mark;
        return nlp_error_set(err, NLP_ERR_INPUT, "%s:%zu: %s", ds->o.path, line, why);
    }
    nlp_status st = add_tokens(ds, line, words, lens,
                               &DS_AT(ds->gold, int32_t, gold_mark), n, err);
    if (st == NLP_ERR_UTF8 || st == NLP_ERR_INPUT) {
        ds->gold.n = gold_mark;
        ds->ids.n = ds->tlab.n = ds->word.n = ids_mark;
        ds->n_skipped++;
        if (ds->o.strict)
            return st;
        if (ds->o.warn && ds->n_skipped <= 10) {
            char m[NLP_ERROR_MAX + 16];
            snprintf(m, sizeof m, "%s; skipped", err->msg);
            ds->o.warn(ds->o.warn_user, m);
        }
        err->msg[0] = '\0';
        return NLP_OK;
    }
    if (st != NLP_OK)
        return st;
    size_t end = ds->gold.n;
    if (ds->gold_off.n == 0 && !ds_push(&ds->gold_off, &(size_t){0}))
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    if (!ds_push(&ds->gold_off, &end))
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    ds->n_examples++;
    return NLP_OK;
}

/* ------------------------------------------------------------ CoNLL */

typedef struct sentence {
    char **words, **tags;
    size_t *lens, *tag_lens;
    size_t n, cap, line;
} sentence;

static void sentence_clear(sentence *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->words[i]), free(s->tags[i]);
    s->n = 0;
}

static void sentence_free(sentence *s)
{
    sentence_clear(s);
    free(s->words), free(s->tags), free(s->lens), free(s->tag_lens);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int sentence_add(sentence *s, const char *w, size_t wl, const char *t, size_t tl)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        char **a = realloc(s->words, cap * sizeof *a), **b = a ? realloc(s->tags, cap * sizeof *b) : NULL;
        if (a)
            s->words = a;
        if (b)
            s->tags = b;
        size_t *c = b ? realloc(s->lens, cap * sizeof *c) : NULL;
        if (c)
            s->lens = c;
        size_t *d = c ? realloc(s->tag_lens, cap * sizeof *d) : NULL;
        if (!d)
            return -1;
        s->tag_lens = d;
        s->cap = cap;
    }
    s->words[s->n] = dup_n(w, wl);
    s->tags[s->n] = dup_n(t, tl);
    if (!s->words[s->n] || !s->tags[s->n]) {
        free(s->words[s->n]), free(s->tags[s->n]);
        return -1;
    }
    s->lens[s->n] = wl;
    s->tag_lens[s->n] = tl;
    s->n++;
    return 0;
}

static nlp_status flush(nlp_dataset *ds, sentence *s, nlp_error *err)
{
    nlp_status st = ds_add_sentence(ds, s->line, (const char *const *)s->words, s->lens,
                                    (const char *const *)s->tags, s->tag_lens, s->n, err);
    sentence_clear(s);
    return st;
}

/* One non-blank CoNLL line: the first field is the word, the last the tag. */
static nlp_status conll_line(nlp_dataset *ds, sentence *s, char *p, size_t no, int *bad_sent,
                             nlp_error *err)
{
    const char *sp = " \t";
    size_t wl = strcspn(p, sp);
    char *last = p + strlen(p);
    while (last > p && !strchr(sp, last[-1]))
        last--;
    if (last == p) {
        *bad_sent = 1;
        return ds_bad_row(ds, no, NLP_ERR_FORMAT, "a line needs a token and a tag; the "
                          "sentence is", err);
    }
    if (s->n == 0)
        s->line = no;
    if (sentence_add(s, p, wl, last, strlen(last)) != 0)
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    return NLP_OK;
}

nlp_status ds_read_conll(nlp_dataset *ds, nlp_error *err)
{
    FILE *fp = fopen(ds->o.path, "rb");
    if (!fp)
        return nlp_error_set(err, NLP_ERR_IO, "%s: cannot open: %s", ds->o.path,
                             strerror(errno));
    sentence s = {0};
    char *line = NULL;
    size_t cap = 0, no = 0;
    int bad_sent = 0;
    nlp_status st = NLP_OK;
    ssize_t n;
    while (st == NLP_OK && (!ds->o.limit || ds->n_examples < ds->o.limit) &&
           (n = getline(&line, &cap, fp)) >= 0) {
        no++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                         line[n - 1] == '\t'))
            line[--n] = '\0';
        char *p = line + strspn(line, " \t");
        if (*p == '\0' || strncmp(p, "-DOCSTART-", 10) == 0) {
            if (!bad_sent)
                st = flush(ds, &s, err);
            sentence_clear(&s);
            bad_sent = 0;
            continue;
        }
        if (!bad_sent)
            st = conll_line(ds, &s, p, no, &bad_sent, err);
    }
    if (st == NLP_OK && ferror(fp))
        st = nlp_error_set(err, NLP_ERR_IO, "%s: read error", ds->o.path);
    if (st == NLP_OK && !bad_sent && (!ds->o.limit || ds->n_examples < ds->o.limit))
        st = flush(ds, &s, err);
    sentence_free(&s);
    free(line);
    fclose(fp);
    return st;
}

/* ------------------------------------------------------------ JSON Lines */

/* The strings of a JSON array field into s (numbers as their text). */
static int json_strings(const char *txt, sentence *s, int tags)
{
    cJSON *a = cJSON_Parse(txt);
    if (!cJSON_IsArray(a)) {
        cJSON_Delete(a);
        return -1;
    }
    size_t i = 0;
    for (cJSON *e = a->child; e; e = e->next, i++) {
        char num[32];
        const char *v = cJSON_IsString(e) ? e->valuestring : NULL;
        if (!v && cJSON_IsNumber(e)) {
            snprintf(num, sizeof num, "%.17g", e->valuedouble);
            v = num;
        }
        int r = 0;
        if (!v)
            r = -1;
        else if (!tags)
            r = sentence_add(s, v, strlen(v), "", 0);
        else if (i < s->n) {
            free(s->tags[i]);
            s->tags[i] = dup_n(v, strlen(v));
            s->tag_lens[i] = strlen(v);
            r = s->tags[i] ? 0 : -1;
        } else
            r = -1;
        if (r) {
            cJSON_Delete(a);
            return -1;
        }
    }
    cJSON_Delete(a);
    return (int)i;
}

static nlp_status ner_json_row(nlp_dataset *ds, const nlp_corpus_row *row, size_t ct, size_t cg,
                               sentence *s, nlp_error *err)
{
    sentence_clear(s);
    s->line = row->line;
    int nw = json_strings(row->fields[ct].s, s, 0);
    int ng = nw >= 0 ? json_strings(row->fields[cg].s, s, 1) : -1;
    if (nw < 0 || ng < 0)
        return ds_bad_row(ds, row->line, NLP_ERR_FORMAT,
                          "\"tokens\" and \"tags\" must be arrays of strings", err);
    if (nw != ng)
        return ds_bad_row(ds, row->line, NLP_ERR_FORMAT,
                          "\"tokens\" and \"tags\" have different lengths", err);
    return flush(ds, s, err);
}

nlp_status ds_read_ner_jsonl(nlp_dataset *ds, nlp_error *err)
{
    FILE *fp = fopen(ds->o.path, "rb");
    if (!fp)
        return nlp_error_set(err, NLP_ERR_IO, "%s: cannot open: %s", ds->o.path,
                             strerror(errno));
    nlp_corpus_opts co = {0};
    co.format = NLP_CORPUS_JSONL;
    nlp_corpus_reader *r = NULL;
    size_t ct = 0, cg = 0;
    nlp_status st = nlp_corpus_reader_open(fp, ds->o.path, &co, &r, err);
    if (st == NLP_OK)
        st = nlp_corpus_column_find(r, ds->o.text_column ? ds->o.text_column : "tokens", &ct, err);
    if (st == NLP_OK)
        st = nlp_corpus_column_find(r, ds->o.label_column ? ds->o.label_column : "tags", &cg, err);
    sentence s = {0};
    while (st == NLP_OK && (!ds->o.limit || ds->n_examples < ds->o.limit)) {
        const nlp_corpus_row *row;
        nlp_error e2 = {0};
        st = nlp_corpus_next(r, &row, &e2);
        if (st == NLP_ERR_FORMAT || st == NLP_ERR_UTF8)
            st = ds_bad_row(ds, row->line, st, ds_reader_why(e2.msg), err);
        else if (st != NLP_OK)
            nlp_error_set(err, st, "%s: %s", ds->o.path, e2.msg);
        else if (!row)
            break;
        else
            st = ner_json_row(ds, row, ct, cg, &s, err);
    }
    sentence_free(&s);
    nlp_corpus_reader_free(r);
    fclose(fp);
    return st;
}
