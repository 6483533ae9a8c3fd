/*
 * similarity.c - the similarity task plugin: the cosine similarity of two
 * sentence vectors, as sentence-transformers' util.cos_sim on the
 * vectors of the embed task (tasks/common/sentvec.c: the model folder's
 * pooling, or --pooling).  Each TEXT is compared with --query, or each
 * input pair's two texts with each other.  Result: {"score": cos, "text":
 * the input's text}; front ends sort a list of them best first
 * (NLP_TASK_RANKS).  The query's vector is computed once, on the first
 * run.
 */
#include <stdlib.h>
#include <string.h>

#include "nlp/plugin.h"
#include "task_common.h"

typedef struct sim_state {
    nlp_tc_sentvec sv;
    const char *query;          /* --query, or NULL */
    float *qvec;                /* [dim] once computed */
    nlp_input *texts;           /* [2n] */
    nlp_error *errs2;           /* [2n] */
    int32_t *at;                /* [2n] */
    size_t cap_texts, cap_errs, cap_at;
} sim_state;

static const nlp_option sim_options[] = {
    {"query", NLP_OPT_STRING, NULL, NULL,
     "the sentence every TEXT is compared with; without it each input is a pair", "Q"},
    NLP_TC_POOLING_OPTION,
    {NULL, 0, NULL, NULL, NULL, NULL}
};

static const nlp_task_desc sim_tasks[] = {
    {sizeof(nlp_task_desc), NLP_TASK_RANKS, "similarity",
     "cosine similarity of sentence embeddings: a query against texts, or pairs",
     "sentence-transformers/all-MiniLM-L6-v2", NLP_INPUT_TEXT_PAIR, sim_options,
     "index,score,text", NULL},
};

static void sim_destroy(void *state)
{
    sim_state *s = state;
    if (!s)
        return;
    nlp_tc_sentvec_free(&s->sv);
    free(s->qvec);
    free(s->texts);
    free(s->errs2);
    free(s->at);
    free(s);
}

static nlp_status sim_create(const nlp_host_api *host, const nlp_task_args *args,
                             void **state, nlp_error *err)
{
    sim_state *s = calloc(1, sizeof *s);
    if (!s)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory");
    nlp_status st = nlp_tc_sentvec_init(&s->sv, host, args, 0, err);
    if (st != NLP_OK) {
        sim_destroy(s);
        return st;
    }
    s->query = host->opt_string(args, "query");
    *state = s;
    return NLP_OK;
}

/* The query's vector, computed on first use. */
static nlp_status query_vector(sim_state *s, nlp_error *fatal)
{
    if (s->qvec || !s->query)
        return NLP_OK;
    const nlp_host_api *host = s->sv.host;
    nlp_input q = {s->query, strlen(s->query), NULL, 0};
    nlp_error qerr = {0};
    nlp_status st = nlp_tc_sentvec_run(&s->sv, &q, 1, &qerr, fatal);
    if (st != NLP_OK)
        return st;
    if (s->sv.row_of[0] < 0)
        return host->error_set(fatal, NLP_ERR_USAGE, "--query: %s", qerr.msg);
    if (!(s->qvec = malloc(s->sv.dim * sizeof *s->qvec)))
        return host->error_set(fatal, NLP_ERR_NOMEM, "out of memory");
    memcpy(s->qvec, s->sv.vecs, s->sv.dim * sizeof *s->qvec);
    return NLP_OK;
}

/* The texts to embed into s->texts[0..*m): each input's text, then its
 * pair when it has one; s->at[2i] and s->at[2i+1] say where (-1: none). */
static nlp_status gather(sim_state *s, const nlp_input *in, size_t n, size_t *m,
                         nlp_error *fatal)
{
    const nlp_host_api *host = s->sv.host;
    nlp_status st;
    if ((st = nlp_tc_reserve(host, (void **)&s->texts, &s->cap_texts,
                             2 * n * sizeof *s->texts, fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&s->errs2, &s->cap_errs, 2 * n * sizeof *s->errs2,
                             fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&s->at, &s->cap_at, 2 * n * sizeof *s->at, fatal)))
        return st;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        s->at[2 * i] = (int32_t)k;
        s->texts[k++] = (nlp_input){in[i].text, in[i].text_len, NULL, 0};
        s->at[2 * i + 1] = in[i].text_pair ? (int32_t)k : -1;
        if (in[i].text_pair) {
            s->texts[k++] = (nlp_input){in[i].text_pair, in[i].text_pair_len, NULL, 0};
        }
    }
    *m = k;
    return NLP_OK;
}

/* {"score": x, "text": the input's text} */
static nlp_value *score_value(const nlp_host_api *h, const nlp_input *in, double x)
{
    nlp_value *o = h->value_object(), *sc = h->value_number(x);
    nlp_value *t = h->value_string(in->text, in->text_len);
    if (!o || !sc || !t) {
        if (o)
            h->value_free(o);
        if (sc)
            h->value_free(sc);
        if (t)
            h->value_free(t);
        return NULL;
    }
    h->value_set(o, "score", sc);
    h->value_set(o, "text", t);
    return o;
}

/* The outcome of input i into *out: NLP_OK, NLP_ERR_INPUT (errs[i] says
 * why) or NLP_ERR_NOMEM. */
static nlp_status outcome(sim_state *s, const nlp_input *in, size_t i, nlp_value **out,
                          nlp_error *errs)
{
    const nlp_host_api *host = s->sv.host;
    const nlp_tc_sentvec *sv = &s->sv;
    int32_t ta = s->at[2 * i], tb = s->at[2 * i + 1];
    int32_t a = sv->row_of[ta], b = tb >= 0 ? sv->row_of[tb] : 0;
    if (a < 0 || b < 0) {
        errs[i] = s->errs2[a < 0 ? ta : tb];
        return NLP_ERR_INPUT;
    }
    if (tb < 0 && !s->qvec) {
        host->error_set(&errs[i], NLP_ERR_INPUT, "no query: give --query, or a sentence pair");
        return NLP_ERR_INPUT;
    }
    const float *va = sv->vecs + (size_t)a * sv->dim;
    const float *vb = tb < 0 ? s->qvec : sv->vecs + (size_t)b * sv->dim;
    *out = score_value(host, in, nlp_tc_cosine(va, vb, sv->dim));
    return *out ? NLP_OK : NLP_ERR_NOMEM;
}

static nlp_status sim_run(void *state, const nlp_input *inputs, size_t n,
                          nlp_value **results, nlp_error *errs)
{
    sim_state *s = state;
    const nlp_host_api *host = s->sv.host;
    nlp_error fatal = {0};
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    if (query_vector(s, &fatal) != NLP_OK || gather(s, inputs, n, &m, &fatal) != NLP_OK ||
        nlp_tc_sentvec_run(&s->sv, s->texts, m, s->errs2, &fatal) != NLP_OK)
        return nlp_tc_fail_all(host, results, errs, n, &fatal);
    for (size_t i = 0; i < n; i++) {
        if (outcome(s, &inputs[i], i, &results[i], errs) == NLP_ERR_NOMEM) {
            host->error_set(&fatal, NLP_ERR_NOMEM, "out of memory building the result");
            return nlp_tc_fail_all(host, results, errs, n, &fatal);
        }
    }
    return NLP_OK;
}

/* In a corpus: the score of each row. */
static size_t sim_columns(const nlp_host_api *host, const nlp_task_args *args,
                          nlp_column *out, size_t max)
{
    static const nlp_column cols[] = {{"score", NLP_COLUMN_FIELD, "score"}};
    (void)host;
    (void)args;
    return nlp_tc_columns_copy(cols, 1, out, max);
}

static const nlp_plugin sim_plugin = {
    NLP_PLUGIN_ABI_VERSION, sizeof(nlp_plugin), "similarity", NLP_TC_VERSION,
    sim_tasks, 1, sim_create, sim_run, sim_destroy, sim_columns,
};

NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void)
{
    return &sim_plugin;
}
