/*
 * rerank.c - the rerank task plugin: a cross-encoder scores how well each
 * passage answers a query, as sentence-transformers' CrossEncoder.predict()
 * and text-embeddings-inference's /rerank do.  Each (query, passage) pair
 * goes through the checkpoint's sequence-classification head
 * (tasks/common/seqcls.c); the score is the logit after a sigmoid for a
 * one-label model (CrossEncoder's default activation), after a softmax
 * for more labels (then the last label's score), or the raw logit with
 * --raw-scores.  The query is --query, or the first text of an input pair.
 * Result: {"score": s} (and "text": the passage with --return-text);
 * front ends sort a list of them best first (NLP_TASK_RANKS).
 */
#include <stdlib.h>
#include <string.h>

#include "nlp/plugin.h"
#include "task_common.h"

typedef struct rerank_state {
    const nlp_host_api *host;
    const nlp_tokenizer *tok;
    nlp_ctx *ctx;
    const char *query;          /* --query, or NULL */
    int return_text;
    nlp_tc_function fn;         /* resolved */
    size_t limit;
    int32_t pad_id;
    nlp_tc_seqcls head;
    nlp_encoding *encs;
    size_t cap_encs;
    const nlp_encoding **valid;
    size_t cap_valid;
    int32_t *input_of;
    size_t cap_input_of;
    nlp_tc_batch batch;
    float *logits;              /* [B][L] */
    size_t cap_logits;
} rerank_state;

static const nlp_option rerank_options[] = {
    {"query", NLP_OPT_STRING, NULL, NULL,
     "the query every TEXT (a passage) is scored against; without it each input "
     "is a (query, passage) pair", "Q"},
    {"raw-scores", NLP_OPT_FLAG, NULL, NULL,
     "the logits as they are (default: sigmoid for one label, else softmax)", NULL},
    {"return-text", NLP_OPT_FLAG, NULL, NULL, "put each passage beside its score", NULL},
    {NULL, 0, NULL, NULL, NULL, NULL}
};

static const nlp_task_desc rerank_tasks[] = {
    {sizeof(nlp_task_desc), NLP_TASK_RANKS, "rerank",
     "rank passages by relevance to a query with a cross-encoder",
     "cross-encoder/ms-marco-MiniLM-L-6-v2", NLP_INPUT_TEXT_PAIR, rerank_options,
     "index,score,text", "ForSequenceClassification"},
};

static void rerank_destroy(void *state)
{
    rerank_state *s = state;
    if (!s)
        return;
    nlp_tc_encodings_free(s->host, &s->encs, &s->cap_encs);
    free(s->valid);
    free(s->input_of);
    nlp_tc_batch_free(&s->batch);
    free(s->logits);
    nlp_tc_seqcls_free(&s->head);
    free(s);
}

static nlp_status rerank_create(const nlp_host_api *host, const nlp_task_args *args,
                                void **state, nlp_error *err)
{
    rerank_state *s = calloc(1, sizeof *s);
    if (!s)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory");
    s->host = host;
    s->tok = args->tokenizer;
    s->ctx = args->ctx;
    s->query = host->opt_string(args, "query");
    s->return_text = host->opt_flag(args, "return-text");
    s->limit = (size_t)host->model_config(args->model)->max_position_embeddings;
    s->pad_id = nlp_tc_pad_id(host, args);
    nlp_status st = nlp_tc_seqcls_init(&s->head, host, args->model, err);
    if (st != NLP_OK) {
        rerank_destroy(s);
        return st;
    }
    s->fn = host->opt_flag(args, "raw-scores") ? NLP_TC_FN_NONE
                                               : nlp_tc_seqcls_function(&s->head, NLP_TC_FN_AUTO);
    *state = s;
    return NLP_OK;
}

/* Encode input i as (query, passage) into s->encs[i]. */
static nlp_status encode_pair(rerank_state *s, const nlp_input *in, nlp_encoding *out,
                              nlp_error *err)
{
    const char *q = in->text_pair ? in->text : s->query;
    const char *p = in->text_pair ? in->text_pair : in->text;
    size_t qlen = in->text_pair ? in->text_len : q ? strlen(q) : 0;
    size_t plen = in->text_pair ? in->text_pair_len : in->text_len;
    if (!q)
        return s->host->error_set(err, NLP_ERR_INPUT, "no query: give --query, or a "
                                  "(query, passage) pair");
    return nlp_tc_encode(s->host, s->tok, q, qlen, p, plen, s->limit,
                         NLP_TRUNC_LONGEST_FIRST, s->limit, out, err);
}

/* {"score": x} and, with --return-text, "text": the passage. */
static nlp_value *score_value(rerank_state *s, const nlp_input *in, double x)
{
    const nlp_host_api *h = s->host;
    nlp_value *o = h->value_object(), *sc = h->value_number(x), *t = NULL;
    if (o && sc && s->return_text) {
        const char *p = in->text_pair ? in->text_pair : in->text;
        size_t plen = in->text_pair ? in->text_pair_len : in->text_len;
        t = h->value_string(p, plen);
    }
    if (!o || !sc || (s->return_text && !t)) {
        if (o)
            h->value_free(o);
        if (sc)
            h->value_free(sc);
        return NULL;
    }
    h->value_set(o, "score", sc);
    if (t)
        h->value_set(o, "text", t);
    return o;
}

static nlp_status rerank_run(void *state, const nlp_input *inputs, size_t n,
                             nlp_value **results, nlp_error *errs)
{
    rerank_state *s = state;
    const nlp_host_api *host = s->host;
    nlp_error fatal = {0};
    nlp_status st;
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    if ((st = nlp_tc_encodings_reserve(host, &s->encs, &s->cap_encs, n, &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&s->valid, &s->cap_valid, n * sizeof *s->valid,
                             &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&s->input_of, &s->cap_input_of,
                             n * sizeof *s->input_of, &fatal)))
        goto fatal_out;
    size_t B = 0, L = s->head.L;
    for (size_t i = 0; i < n; i++) {
        st = encode_pair(s, &inputs[i], &s->encs[i], &errs[i]);
        if (st == NLP_ERR_NOMEM) {
            fatal = errs[i];
            goto fatal_out;
        }
        if (st == NLP_OK) {
            s->valid[B] = &s->encs[i];
            s->input_of[B++] = (int32_t)i;
        }
    }
    if (B == 0)
        return NLP_OK;
    const float *hidden = NULL; /* [B][T][H] */
    if ((st = nlp_tc_batch_pack(host, &s->batch, s->valid, B, s->pad_id, &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&s->logits, &s->cap_logits, B * L * sizeof(float),
                             &fatal)) ||
        (st = host->encoder_forward(s->ctx, &s->batch.batch, &hidden, &fatal)) ||
        (st = nlp_tc_seqcls_logits(&s->head, s->ctx, hidden, B, s->batch.batch.seq, s->logits,
                                   &fatal)))
        goto fatal_out;
    for (size_t b = 0; b < B; b++) {
        float *row = s->logits + b * L; /* [L] */
        nlp_tc_apply_function(host, s->fn, row, L);
        size_t i = (size_t)s->input_of[b];
        if (!(results[i] = score_value(s, &inputs[i], row[L - 1]))) {
            st = host->error_set(&fatal, NLP_ERR_NOMEM, "out of memory building the result");
            goto fatal_out;
        }
    }
    return NLP_OK;
fatal_out:
    return nlp_tc_fail_all(host, results, errs, n, &fatal);
}

/* In a corpus: the score of each row. */
static size_t rerank_columns(const nlp_host_api *host, const nlp_task_args *args,
                             nlp_column *out, size_t max)
{
    static const nlp_column cols[] = {{"score", NLP_COLUMN_FIELD, "score"}};
    (void)host;
    (void)args;
    return nlp_tc_columns_copy(cols, 1, out, max);
}

static const nlp_plugin rerank_plugin = {
    NLP_PLUGIN_ABI_VERSION, sizeof(nlp_plugin), "rerank", NLP_TC_VERSION,
    rerank_tasks, 1, rerank_create, rerank_run, rerank_destroy, rerank_columns,
};

NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void)
{
    return &rerank_plugin;
}
