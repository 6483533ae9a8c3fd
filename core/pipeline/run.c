/*
 * run.c - running inputs through a pipeline: each input is tokenised once
 * to count its tokens (and cut to what the model takes, unless the task
 * windows long inputs itself or truncation is off), the inputs are sorted
 * by length into batches of batch_size, the plugin runs each batch, and
 * the outcomes go back to the caller in input order.  Also the JSON of one
 * outcome.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_impl.h"

void pl_prepare(const nlp_pipeline *p, const nlp_tokenizer *tok, const nlp_input *in,
                nlp_encoding *enc, pl_prepared *out)
{
    memset(out, 0, sizeof *out);
    out->text_len = in->text_len;
    out->pair_len = in->text_pair ? in->text_pair_len : 0;
    if (nlp_tokenizer_encode(tok, in->text, in->text_len, in->text_pair, out->pair_len, NULL,
                             enc, &out->err) != NLP_OK) {
        out->bad = 1;
        return;
    }
    out->ntok = enc->n;
    if (pl_windowed(p) || p->o.no_truncation || p->limit == 0 || enc->n <= p->limit)
        return;
    /* cut each text after its last token that still fits */
    size_t full = enc->n;
    nlp_encode_opts eo = NLP_ENCODE_OPTS_INIT;
    eo.max_length = p->limit;
    if (nlp_tokenizer_encode(tok, in->text, in->text_len, in->text_pair, out->pair_len, &eo,
                             enc, &out->err) != NLP_OK) {
        out->bad = 1;
        return;
    }
    size_t end0 = 0, end1 = 0;
    for (size_t i = 0; i < enc->n; i++) {
        if (enc->seq[i] == 0 && (size_t)enc->byte_end[i] > end0)
            end0 = (size_t)enc->byte_end[i];
        if (enc->seq[i] == 1 && (size_t)enc->byte_end[i] > end1)
            end1 = (size_t)enc->byte_end[i];
    }
    out->text_len = end0;
    if (in->text_pair)
        out->pair_len = end1;
    out->ntok = enc->n;
    out->truncated_from = full;
}

/* Scratch for batches of the pipeline's batch size. */
static nlp_status reserve_batch(nlp_pipeline *p, nlp_error *err)
{
    size_t b = p->o.batch_size;
    if (p->cap_batch >= b)
        return NLP_OK;
    free(p->bin);
    free(p->bres);
    free(p->berrs);
    p->bin = calloc(b, sizeof *p->bin);
    p->bres = calloc(b, sizeof *p->bres);
    p->berrs = calloc(b, sizeof *p->berrs);
    p->cap_batch = p->bin && p->bres && p->berrs ? b : 0;
    return p->cap_batch ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
}

/* Merge the sorted runs src[lo, mid) and src[mid, hi) into dst by token
 * count; ties keep their order (the inputs' order). */
static void merge_runs(const pl_prepared *prep, const size_t *src, size_t *dst, size_t lo,
                       size_t mid, size_t hi)
{
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi)
        dst[k++] = prep[src[j]].ntok < prep[src[i]].ntok ? src[j++] : src[i++];
    while (i < mid)
        dst[k++] = src[i++];
    while (j < hi)
        dst[k++] = src[j++];
}

/* The indices of the good inputs in order[], sorted by token count and
 * stable (a bottom-up merge sort through tmp[], no shared state); returns
 * how many there are. */
static size_t sort_good(const pl_prepared *prep, size_t n, size_t *order, size_t *tmp)
{
    size_t ng = 0;
    for (size_t i = 0; i < n; i++)
        if (!prep[i].bad)
            order[ng++] = i;
    size_t *src = order, *dst = tmp;
    for (size_t w = 1; w < ng; w *= 2) {
        for (size_t lo = 0; lo < ng; lo += 2 * w) {
            size_t mid = lo + w < ng ? lo + w : ng, hi = lo + 2 * w < ng ? lo + 2 * w : ng;
            merge_runs(prep, src, dst, lo, mid, hi);
        }
        size_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != order)
        memcpy(order, src, ng * sizeof *order);
    return ng;
}

/* A failed run() as one error: the first input error with a message, else
 * the status. */
static nlp_status batch_failure(const nlp_pipeline *p, nlp_status st, size_t n, nlp_error *err)
{
    nlp_error e = p->berrs[0];
    for (size_t i = 0; i < n; i++)
        if (p->berrs[i].status != NLP_OK && p->berrs[i].msg[0]) {
            e = p->berrs[i];
            break;
        }
    if (!e.msg[0])
        nlp_error_set(&e, st, "the plugin '%s' failed: %s", p->info->plugin->name,
                      nlp_strerror(st));
    if (err)
        *err = e;
    for (size_t i = 0; i < n; i++) {
        nlp_value_free(p->bres[i]);
        p->bres[i] = NULL;
    }
    return e.status != NLP_OK ? e.status : st;
}

nlp_status pl_run_prepared(nlp_pipeline *p, const nlp_input *in, const pl_prepared *prep,
                           size_t n, size_t *order, nlp_value **res, nlp_error *errs,
                           nlp_error *err)
{
    /* order holds 2n entries: the sorted indices and the merge's scratch */
    nlp_status st = reserve_batch(p, err);
    if (st != NLP_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        res[i] = NULL;
        if (prep[i].bad)
            errs[i] = prep[i].err;
        else
            nlp_error_clear(&errs[i]);
    }
    size_t ng = sort_good(prep, n, order, order + n), B = p->o.batch_size;
    for (size_t b0 = 0; b0 < ng; b0 += B) {
        size_t m = ng - b0 < B ? ng - b0 : B;
        for (size_t j = 0; j < m; j++) {
            size_t i = order[b0 + j];
            p->bin[j] = (nlp_input){in[i].text, prep[i].text_len,
                                    in[i].text_pair, in[i].text_pair ? prep[i].pair_len : 0};
            p->bres[j] = NULL;
            nlp_error_clear(&p->berrs[j]);
        }
        st = p->info->plugin->run(p->state, p->bin, m, p->bres, p->berrs);
        if (st != NLP_OK) {
            st = batch_failure(p, st, m, err);
            for (size_t i = 0; i < n; i++) {
                nlp_value_free(res[i]);
                res[i] = NULL;
            }
            return st;
        }
        for (size_t j = 0; j < m; j++) {
            size_t i = order[b0 + j];
            res[i] = p->bres[j];
            if (!res[i] && !p->berrs[j].msg[0])
                nlp_error_set(&errs[i], NLP_ERR_PLUGIN, "no result");
            else if (!res[i])
                errs[i] = p->berrs[j];
        }
    }
    return NLP_OK;
}

static nlp_status reserve_inputs(nlp_pipeline *p, size_t n, nlp_error *err)
{
    if (p->cap_prep >= n)
        return NLP_OK;
    pl_prepared *prep = realloc(p->prep, n * sizeof *prep);
    if (prep)
        p->prep = prep;
    size_t *order = prep ? realloc(p->order, 2 * n * sizeof *order) : NULL;
    if (order)
        p->order = order;
    nlp_value **res = order ? realloc(p->res, n * sizeof *res) : NULL;
    if (res)
        p->res = res;
    nlp_error *errs = res ? realloc(p->errs, n * sizeof *errs) : NULL;
    if (errs)
        p->errs = errs;
    if (!errs)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    p->cap_prep = n;
    return NLP_OK;
}

nlp_status nlp_pipeline_run(nlp_pipeline *p, const nlp_input *inputs, size_t n,
                            nlp_pipeline_result *out, nlp_error *err)
{
    if (!p || (n && (!inputs || !out)))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_pipeline_run: NULL argument");
    nlp_status st = nlp_pipeline_load(p, err);
    if (st != NLP_OK || (st = reserve_inputs(p, n, err)) != NLP_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        pl_prepare(p, p->tok, &inputs[i], &p->enc, &p->prep[i]);
    st = pl_run_prepared(p, inputs, p->prep, n, p->order, p->res, p->errs, err);
    for (size_t i = 0; i < n; i++) {
        out[i].value = st == NLP_OK ? p->res[i] : NULL;
        out[i].error = p->errs[i];
        out[i].tokens = p->prep[i].bad ? 0 : p->prep[i].ntok;
        out[i].truncated_from = p->prep[i].truncated_from;
    }
    return st;
}

void nlp_pipeline_results_clear(nlp_pipeline_result *out, size_t n)
{
    for (size_t i = 0; out && i < n; i++) {
        nlp_value_free(out[i].value);
        memset(&out[i], 0, sizeof out[i]);
    }
}

char *nlp_pipeline_result_json(const nlp_pipeline_result *r)
{
    if (!r)
        return NULL;
    if (r->value)
        return nlp_value_to_json(r->value, 0);
    nlp_value *e = nlp_value_object();
    nlp_status st = r->error.status != NLP_OK ? r->error.status : NLP_ERR_INTERNAL;
    const char *msg = r->error.msg[0] ? r->error.msg : nlp_strerror(st);
    nlp_value_set(e, "error", nlp_value_string_new(msg, strlen(msg)));
    nlp_value_set(e, "error_type", nlp_value_string_new(nlp_status_name(st),
                                                        strlen(nlp_status_name(st))));
    char *json = e ? nlp_value_to_json(e, 0) : NULL;
    nlp_value_free(e);
    return json;
}
