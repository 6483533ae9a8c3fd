/*
 * data_qa.c - question-answering data: SQuAD v1.1 / v2.0 JSON.  Each
 * question becomes windows [CLS] question [SEP] context[a:b] [SEP]
 * sharing doc_stride context tokens, as the question-answering pipeline
 * cuts them (the question is cut to 64 tokens, as there).  A window holds
 * its first answer's token span, or 0 ([CLS]) when the answer is not
 * wholly inside it or the question has none (SQuAD v2.0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/util.h"
#include "dataset_impl.h"

enum { MAX_QUESTION_TOKENS = 64 };

typedef struct qa_ctx {
    nlp_encoding q, c, w;       /* question, context, one window */
    const char *context;
} qa_ctx;

/* Token span [*ts, *te] of the answer at code points [a, z) of the
 * context, or -1 when no token lies wholly inside. */
static void answer_tokens(const nlp_encoding *c, int32_t a, int32_t z, long *ts, long *te)
{
    *ts = *te = -1;
    for (size_t i = 0; i < c->n; i++) {
        if (*ts < 0 && c->end[i] > a)
            *ts = (long)i;
        if (c->start[i] < z)
            *te = (long)i;
    }
    if (*ts < 0 || *te < *ts)
        *ts = *te = -1;
}

/* Windows of the context: count and the range of window k (the
 * tokenizers' overflow with a stride). */
static size_t window_count(size_t n, size_t width, size_t stride)
{
    if (n <= width)
        return 1;
    const size_t step = width - stride;
    return 1 + (n - width + step - 1) / step;
}

static nlp_status add_window(nlp_dataset *ds, qa_ctx *q, size_t a, size_t b, long ts, long te,
                             nlp_error *err)
{
    nlp_status st = nlp_tokenizer_apply_template(ds->tok, &q->q, 0, q->q.n, &q->c, a, b - a,
                                                 &q->w, err);
    if (st != NLP_OK)
        return st;
    const nlp_encoding *w = &q->w;
    /* the question was kept (keep_question) before its windows */
    ds_seq s = {ds->ids.n, (uint32_t)w->n, (uint32_t)ds->questions.n - 1, 0, 0, 0, 0};
    const size_t first = w->n - 1 - (b - a);        /* the window's first context token */
    if (ts >= (long)a && te < (long)b) {
        s.label = (int32_t)(first + (size_t)ts - a);
        s.label2 = (int32_t)(first + (size_t)te - a);
    }
    for (size_t i = 0; i < w->n; i++) {
        int32_t cs = w->seq[i] == 1 ? w->byte_start[i] : -1;
        int32_t ce = w->seq[i] == 1 ? w->byte_end[i] : -1;
        if (!ds_push(&ds->cstart, &cs) || !ds_push(&ds->cend, &ce))
            return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    }
    if (!ds_push_n(&ds->ids, w->ids, w->n) || !ds_push_n(&ds->types, w->type_ids, w->n) ||
        !ds_push(&ds->seqs, &s))
        return nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    if (w->n > ds->max_seq)
        ds->max_seq = w->n;
    return NLP_OK;
}

/* The question's strings: id, context, answer texts; *a / *z the first
 * answer's code points (-1 without one). */
static nlp_status keep_question(nlp_dataset *ds, const cJSON *qa, const char *id,
                                const char *context, int32_t *a, int32_t *z, nlp_error *err)
{
    ds_question dq = {0};
    nlp_status st = ds_add_string(ds, id, strlen(id), &dq.id, err);
    if (st == NLP_OK)
        st = ds_add_string(ds, context, strlen(context), &dq.context, err);
    dq.ans_off = (uint32_t)ds->answers.n;
    *a = *z = -1;
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(qa, "answers");
    for (const cJSON *x = cJSON_IsArray(ans) ? ans->child : NULL; x && st == NLP_OK; x = x->next) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(x, "text");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(x, "answer_start");
        if (!cJSON_IsString(t) || !cJSON_IsNumber(p))
            continue;
        size_t off;
        st = ds_add_string(ds, t->valuestring, strlen(t->valuestring), &off, err);
        if (st == NLP_OK && !ds_push(&ds->answers, &off))
            st = nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
        if (*a < 0 && p->valuedouble >= 0 && p->valuedouble < 1e9) {
            size_t cps = 0;
            for (const unsigned char *u = (const unsigned char *)t->valuestring; *u; u++)
                cps += (*u & 0xC0) != 0x80;
            *a = (int32_t)p->valuedouble;
            *z = *a + (int32_t)cps;
        }
        dq.ans_n++;
    }
    if (st == NLP_OK && !ds_push(&ds->questions, &dq))
        st = nlp_error_set(err, NLP_ERR_NOMEM, "dataset: out of memory");
    return st;
}

static nlp_status add_question(nlp_dataset *ds, qa_ctx *q, const cJSON *qa, nlp_error *err)
{
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(qa, "id");
    const cJSON *jq = cJSON_GetObjectItemCaseSensitive(qa, "question");
    const char *id = cJSON_IsString(jid) ? jid->valuestring : "?";
    char why[256];
    nlp_encode_opts eo = NLP_ENCODE_OPTS_INIT;
    eo.add_special_tokens = 0;
    eo.max_length = MAX_QUESTION_TOKENS;
    nlp_error e2 = {0};
    if (!cJSON_IsString(jq))
        snprintf(why, sizeof why, "question %.64s has no \"question\" string", id);
    else if (nlp_tokenizer_encode(ds->tok, jq->valuestring, strlen(jq->valuestring), NULL, 0,
                                  &eo, &q->q, &e2) != NLP_OK)
        snprintf(why, sizeof why, "question %.64s: %.80s", id, e2.msg);
    else if (q->q.n + 3 + q->c.n > ds->max_len && ds->max_len <= q->q.n + 3 + ds->o.doc_stride)
        snprintf(why, sizeof why, "question %.64s takes %zu tokens, leaving no more than "
                 "--doc-stride (%zu) context tokens per window of %zu", id, q->q.n,
                 ds->o.doc_stride, ds->max_len);
    else
        why[0] = '\0';
    if (why[0])
        return ds_bad_row(ds, 0, NLP_ERR_FORMAT, why, err);
    int32_t a, z;
    nlp_status st = keep_question(ds, qa, id, q->context, &a, &z, err);
    long ts = -1, te = -1;
    if (a >= 0)
        answer_tokens(&q->c, a, z, &ts, &te);
    const size_t width = ds->max_len - q->q.n - 3, n = q->c.n;
    const size_t nw = window_count(n, width, ds->o.doc_stride);
    for (size_t k = 0; k < nw && st == NLP_OK; k++) {
        size_t start = k * (width - ds->o.doc_stride);
        size_t stop = start + width < n ? start + width : n;
        st = add_window(ds, q, start, stop, ts, te, err);
    }
    ds->n_examples++;
    return st;
}

static nlp_status add_paragraph(nlp_dataset *ds, qa_ctx *q, const cJSON *par, nlp_error *err)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(par, "context");
    const cJSON *qas = cJSON_GetObjectItemCaseSensitive(par, "qas");
    if (!cJSON_IsString(c) || !cJSON_IsArray(qas))
        return ds_bad_row(ds, 0, NLP_ERR_FORMAT, "a paragraph without \"context\" or \"qas\"",
                          err);
    nlp_encode_opts eo = NLP_ENCODE_OPTS_INIT;
    eo.add_special_tokens = 0;
    nlp_error e2 = {0};
    nlp_status st = nlp_tokenizer_encode(ds->tok, c->valuestring, strlen(c->valuestring), NULL,
                                         0, &eo, &q->c, &e2);
    if (st != NLP_OK)
        return ds_bad_row(ds, 0, st, e2.msg, err);
    q->context = c->valuestring;
    for (const cJSON *qa = qas->child; qa && st == NLP_OK; qa = qa->next)
        if (!ds->o.limit || ds->n_examples < ds->o.limit)
            st = add_question(ds, q, qa, err);
    return st;
}

nlp_status ds_read_squad(nlp_dataset *ds, nlp_error *err)
{
    char *text;
    size_t len;
    nlp_status st = nlp_read_file(ds->o.path, &text, &len, err);
    if (st != NLP_OK)
        return st;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsArray(data)) {
        cJSON_Delete(root);
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: not SQuAD JSON (no \"data\" array)",
                             ds->o.path);
    }
    qa_ctx q;
    memset(&q, 0, sizeof q);
    for (const cJSON *art = data->child; art && st == NLP_OK; art = art->next) {
        const cJSON *pars = cJSON_GetObjectItemCaseSensitive(art, "paragraphs");
        for (const cJSON *p = cJSON_IsArray(pars) ? pars->child : NULL; p && st == NLP_OK;
             p = p->next)
            st = add_paragraph(ds, &q, p, err);
    }
    nlp_encoding_free(&q.q);
    nlp_encoding_free(&q.c);
    nlp_encoding_free(&q.w);
    cJSON_Delete(root);
    return st;
}
