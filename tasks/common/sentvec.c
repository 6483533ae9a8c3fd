/*
 * sentvec.c - sentence vectors for the embed and similarity plugins:
 * tokenize (lowercased first when sentence_bert_config.json says
 * do_lower_case, cut to its max_seq_length), run the encoder on the padded
 * batch, pool each row over its real tokens and normalize, as
 * sentence-transformers' Transformer -> Pooling -> Normalize modules do:
 *
 *   cls            h[0]
 *   max            max_t h[t]            (padding excluded)
 *   mean           sum_t h[t] / len
 *   mean_sqrt_len  sum_t h[t] / sqrt(len)
 *   normalize      v / max(|v|, 1e-12)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "task_common.h"

/* The pooling bits of a --pooling value. */
static unsigned pooling_of(const char *s)
{
    return !strcmp(s, "cls") ? NLP_POOL_CLS : !strcmp(s, "max") ? NLP_POOL_MAX
         : !strcmp(s, "mean") ? NLP_POOL_MEAN : !strcmp(s, "mean-sqrt-len")
         ? NLP_POOL_MEAN_SQRT_LEN : 0;
}

static size_t popcount(unsigned x)
{
    size_t n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* Apply the task options to what the folder says. */
static nlp_status apply_options(nlp_tc_sentvec *sv, const nlp_task_args *args,
                                int with_normalize, nlp_error *err)
{
    const nlp_host_api *host = sv->host;
    const char *pool = host->opt_string(args, "pooling");
    if (pool && *pool) {
        sv->st.pooling = pooling_of(pool);
        if (!sv->st.pooling)
            return host->error_set(err, NLP_ERR_INVALID_ARG, "--pooling must be cls, mean, max "
                                   "or mean-sqrt-len, not '%s'", pool);
    }
    if (!with_normalize)
        return NLP_OK;
    int on = host->opt_flag(args, "normalize"), off = host->opt_flag(args, "no-normalize");
    if (on && off)
        return host->error_set(err, NLP_ERR_INVALID_ARG,
                               "--normalize and --no-normalize exclude each other");
    if (on || off)
        sv->st.normalize = on;
    return NLP_OK;
}

nlp_status nlp_tc_sentvec_init(nlp_tc_sentvec *sv, const nlp_host_api *host,
                               const nlp_task_args *args, int with_normalize,
                               nlp_error *err)
{
    memset(sv, 0, sizeof *sv);
    sv->host = host;
    sv->tok = args->tokenizer;
    sv->ctx = args->ctx;
    if (!NLP_HOST_HAS(host, lowercase))
        return host->error_set(err, NLP_ERR_ABI, "the host is too old for sentence vectors");
    nlp_status st = host->sbert_config(args->model, &sv->st, err);
    if (st != NLP_OK || (st = apply_options(sv, args, with_normalize, err)) != NLP_OK)
        return st;
    const nlp_config *cfg = host->model_config(args->model);
    sv->H = (size_t)cfg->hidden_size;
    sv->dim = sv->H * popcount(sv->st.pooling);
    sv->limit = (size_t)cfg->max_position_embeddings;
    sv->max_length = nlp_tc_max_length(host, args);
    if (sv->st.max_seq_length > 0 && (size_t)sv->st.max_seq_length < sv->max_length)
        sv->max_length = (size_t)sv->st.max_seq_length;
    sv->pad_id = nlp_tc_pad_id(host, args);
    return NLP_OK;
}

void nlp_tc_sentvec_free(nlp_tc_sentvec *sv)
{
    if (!sv || !sv->host)
        return;
    nlp_tc_encodings_free(sv->host, &sv->encs, &sv->cap_encs);
    free(sv->valid);
    free(sv->row_of);
    nlp_tc_batch_free(&sv->batch);
    free(sv->vecs);
    if (sv->lower)
        sv->host->free(sv->lower);
    memset(sv, 0, sizeof *sv);
}

/* Encode text i into sv->encs[i], lowercased first when the model says. */
static nlp_status encode_one(nlp_tc_sentvec *sv, const char *text, size_t len,
                             nlp_encoding *out, nlp_error *err)
{
    const nlp_host_api *host = sv->host;
    if (sv->st.do_lower_case) {
        if (sv->lower)
            host->free(sv->lower);
        sv->lower = NULL;
        nlp_status st = host->lowercase(text, len, &sv->lower, &len, err);
        if (st != NLP_OK)
            return st;
        text = sv->lower;
    }
    return nlp_tc_encode(host, sv->tok, text, len, NULL, 0, sv->max_length,
                         NLP_TRUNC_LONGEST_FIRST, sv->limit, out, err);
}

/* Pool row h [T][H] of len real tokens into v [dim], then normalize. */
static void pool_row(const nlp_tc_sentvec *sv, const float *h, size_t len, float *v)
{
    size_t H = sv->H, k = 0;
    unsigned m = sv->st.pooling;
    if (m & NLP_POOL_CLS) {
        memcpy(v, h, H * sizeof *v);
        k += H;
    }
    if (m & NLP_POOL_MAX) {
        for (size_t j = 0; j < H; j++) {
            float best = h[j];
            for (size_t t = 1; t < len; t++)
                if (h[t * H + j] > best)
                    best = h[t * H + j];
            v[k + j] = best;
        }
        k += H;
    }
    if (m & (NLP_POOL_MEAN | NLP_POOL_MEAN_SQRT_LEN)) {
        size_t mean_at = k, sqrt_at = k + (m & NLP_POOL_MEAN ? H : 0);
        for (size_t j = 0; j < H; j++) {
            double sum = 0;
            for (size_t t = 0; t < len; t++)
                sum += h[t * H + j];
            if (m & NLP_POOL_MEAN)
                v[mean_at + j] = (float)(sum / (double)len);
            if (m & NLP_POOL_MEAN_SQRT_LEN)
                v[sqrt_at + j] = (float)(sum / sqrt((double)len));
        }
    }
    if (!sv->st.normalize)
        return;
    double norm = 0;
    for (size_t j = 0; j < sv->dim; j++)
        norm += (double)v[j] * v[j];
    norm = sqrt(norm);
    if (norm < 1e-12)
        norm = 1e-12;
    for (size_t j = 0; j < sv->dim; j++)
        v[j] = (float)(v[j] / norm);
}

nlp_status nlp_tc_sentvec_run(nlp_tc_sentvec *sv, const nlp_input *in, size_t n,
                              nlp_error *errs, nlp_error *fatal)
{
    const nlp_host_api *host = sv->host;
    nlp_status st;
    if ((st = nlp_tc_encodings_reserve(host, &sv->encs, &sv->cap_encs, n, fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&sv->valid, &sv->cap_valid,
                             n * sizeof *sv->valid, fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&sv->row_of, &sv->cap_row_of,
                             n * sizeof *sv->row_of, fatal)))
        return st;
    size_t B = 0;
    for (size_t i = 0; i < n; i++) {
        sv->row_of[i] = -1;
        st = encode_one(sv, in[i].text, in[i].text_len, &sv->encs[i], &errs[i]);
        if (st == NLP_ERR_NOMEM) {
            *fatal = errs[i];
            return st;
        }
        if (st != NLP_OK)
            continue;
        sv->valid[B] = &sv->encs[i];
        sv->row_of[i] = (int32_t)B++;
    }
    if (B == 0)
        return NLP_OK;
    const float *hidden = NULL; /* [B][T][H] */
    if ((st = nlp_tc_batch_pack(host, &sv->batch, sv->valid, B, sv->pad_id, fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&sv->vecs, &sv->cap_vecs,
                             B * sv->dim * sizeof(float), fatal)) ||
        (st = host->encoder_forward(sv->ctx, &sv->batch.batch, &hidden, fatal)))
        return st;
    size_t T = sv->batch.batch.seq;
    for (size_t b = 0; b < B; b++)
        pool_row(sv, hidden + b * T * sv->H, (size_t)sv->batch.batch.lengths[b],
                 sv->vecs + b * sv->dim);
    return NLP_OK;
}

double nlp_tc_cosine(const float *a, const float *b, size_t n)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / (sqrt(aa) * sqrt(bb)) : 0.0;
}

nlp_value *nlp_tc_float_array(const nlp_host_api *host, const float *x, size_t n)
{
    nlp_value *a = host->value_array();
    for (size_t i = 0; a && i < n; i++) {
        nlp_value *v = host->value_number((double)x[i]);
        if (!v) {
            host->value_free(a);
            return NULL;
        }
        host->value_push(a, v);
    }
    return a;
}
