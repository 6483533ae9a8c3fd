/*
 * seqcls.c - the sequence-classification head shared by the sentiment and
 * classify plugins, and Hugging Face's function_to_apply.
 *
 *   BERT:       logits = classifier(tanh(pooler(h[CLS])))
 *   DistilBERT: logits = classifier(relu(pre_classifier(h[CLS])))
 * (dropout is the identity at inference.)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task_common.h"

/* Fetch a 2-D tensor [rows][cols] whose cols must equal want_cols
 * (rows reported through *rows when not NULL, else must equal want_rows). */
static nlp_status bind_matrix(const nlp_host_api *host, const nlp_model *model,
                              const char *name, size_t want_rows, size_t want_cols,
                              size_t *rows, const float **data, nlp_error *err)
{
    int64_t shape[4] = {0};
    nlp_status st = host->model_tensor(model, name, 2, NULL, data, shape, err);
    if (st != NLP_OK)
        return st;
    if ((size_t)shape[1] != want_cols || (!rows && (size_t)shape[0] != want_rows) || shape[0] < 1)
        return host->error_set(err, NLP_ERR_SHAPE,
                               "tensor %s has shape [%lld, %lld], expected [%s, %zu]", name,
                               (long long)shape[0], (long long)shape[1],
                               rows ? "labels" : "hidden", want_cols);
    if (rows)
        *rows = (size_t)shape[0];
    return NLP_OK;
}

static nlp_status bind_vector(const nlp_host_api *host, const nlp_model *model,
                              const char *name, size_t n, const float **data,
                              nlp_error *err)
{
    int64_t shape[1] = {(int64_t)n};
    return host->model_tensor(model, name, 1, shape, data, NULL, err);
}

nlp_status nlp_tc_classifier_bind(const nlp_host_api *host, const nlp_model *model,
                                  size_t H, size_t *L, const float **W,
                                  const float **bias, char ***labels, nlp_error *err)
{
    nlp_status st = bind_matrix(host, model, "classifier.weight", 0, H, L, W, err);
    if (st != NLP_OK || (st = bind_vector(host, model, "classifier.bias", *L, bias, err)) != NLP_OK)
        return st;
    const nlp_config *cfg = host->model_config(model);
    char **names = calloc(*L, sizeof *names);
    if (!names)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < *L; i++) {
        if ((size_t)cfg->num_labels == *L && cfg->id2label && cfg->id2label[i]) {
            names[i] = strdup(cfg->id2label[i]);
        } else {
            char name[32];
            snprintf(name, sizeof name, "LABEL_%zu", i);
            names[i] = strdup(name);
        }
        if (!names[i]) {
            nlp_tc_list_free(names, i);
            return host->error_set(err, NLP_ERR_NOMEM, "out of memory");
        }
    }
    *labels = names;
    return NLP_OK;
}

nlp_status nlp_tc_seqcls_init(nlp_tc_seqcls *sc, const nlp_host_api *host,
                              const nlp_model *model, nlp_error *err)
{
    memset(sc, 0, sizeof *sc);
    sc->host = host;
    const nlp_config *cfg = host->model_config(model);
    sc->family = cfg->family;
    sc->H = (size_t)cfg->hidden_size;
    sc->multi_label = strcmp(cfg->problem_type, "multi_label_classification") == 0;
    nlp_status st;
    if (!host->model_has_tensor(model, "classifier.weight"))
        return host->error_set(err, NLP_ERR_NOT_FOUND,
                               "the checkpoint has no sequence-classification head "
                               "(tensor classifier.weight is missing)");
    st = nlp_tc_classifier_bind(host, model, sc->H, &sc->L, &sc->cls_w, &sc->cls_b,
                                &sc->labels, err);
    if (st != NLP_OK)
        return st;
    if (sc->family == NLP_FAMILY_DISTILBERT) {
        if ((st = bind_matrix(host, model, "pre_classifier.weight", sc->H, sc->H, NULL,
                              &sc->pre_w, err)) == NLP_OK)
            st = bind_vector(host, model, "pre_classifier.bias", sc->H, &sc->pre_b, err);
    } else if (!host->model_has_tensor(model, "pooler.dense.weight")) {
        st = host->error_set(err, NLP_ERR_NOT_FOUND,
                             "the checkpoint has no pooler (tensor pooler.dense.weight is "
                             "missing), which BERT sequence classification needs");
    }
    if (st != NLP_OK)
        nlp_tc_seqcls_free(sc);
    return st;
}

nlp_status nlp_tc_seqcls_logits(nlp_tc_seqcls *sc, nlp_ctx *ctx,
                                const float *hidden, size_t B, size_t T,
                                float *logits, nlp_error *err)
{
    const nlp_host_api *host = sc->host;
    size_t H = sc->H;
    nlp_status st = nlp_tc_reserve(host, (void **)&sc->rows, &sc->cap_rows,
                                   B * H * sizeof(float), err);
    if (st != NLP_OK)
        return st;
    if (sc->family == NLP_FAMILY_DISTILBERT) {
        st = nlp_tc_reserve(host, (void **)&sc->rows2, &sc->cap_rows2, B * H * sizeof(float), err);
        if (st != NLP_OK)
            return st;
        /* rows [B][H] = hidden[b][0][:] */
        for (size_t b = 0; b < B; b++)
            memcpy(sc->rows + b * H, hidden + b * T * H, H * sizeof(float));
        /* rows2 [B][H] = relu(pre_classifier(rows)) */
        host->linear(ctx, sc->rows, B, H, sc->pre_w, sc->pre_b, H, sc->rows2);
        for (size_t i = 0; i < B * H; i++)
            if (!(sc->rows2[i] > 0.0f))
                sc->rows2[i] = 0.0f;
        host->linear(ctx, sc->rows2, B, H, sc->cls_w, sc->cls_b, sc->L, logits);
    } else {
        /* rows [B][H] = tanh(pooler(hidden[b][0])) */
        st = host->pooler_forward(ctx, hidden, B, T, sc->rows, err);
        if (st != NLP_OK)
            return st;
        host->linear(ctx, sc->rows, B, H, sc->cls_w, sc->cls_b, sc->L, logits);
    }
    return NLP_OK;
}

nlp_tc_function nlp_tc_seqcls_function(const nlp_tc_seqcls *sc, nlp_tc_function fn)
{
    if (fn != NLP_TC_FN_AUTO)
        return fn;
    if (sc->multi_label || sc->L == 1)
        return NLP_TC_FN_SIGMOID;
    return NLP_TC_FN_SOFTMAX;
}

void nlp_tc_apply_function(const nlp_host_api *host, nlp_tc_function fn,
                           float *scores, size_t L)
{
    if (fn == NLP_TC_FN_SOFTMAX)
        host->softmax(scores, 1, L);
    else if (fn == NLP_TC_FN_SIGMOID)
        host->sigmoid(scores, L);
}

nlp_status nlp_tc_parse_function(const nlp_host_api *host, const char *s,
                                 nlp_tc_function *fn, nlp_error *err)
{
    if (!s || !*s)
        *fn = NLP_TC_FN_AUTO;
    else if (strcmp(s, "softmax") == 0)
        *fn = NLP_TC_FN_SOFTMAX;
    else if (strcmp(s, "sigmoid") == 0)
        *fn = NLP_TC_FN_SIGMOID;
    else if (strcmp(s, "none") == 0)
        *fn = NLP_TC_FN_NONE;
    else
        return host->error_set(err, NLP_ERR_INVALID_ARG,
                               "--function must be softmax, sigmoid or none, not '%s'", s);
    return NLP_OK;
}

void nlp_tc_seqcls_free(nlp_tc_seqcls *sc)
{
    if (!sc)
        return;
    nlp_tc_list_free(sc->labels, sc->labels ? sc->L : 0);
    free(sc->rows);
    free(sc->rows2);
    memset(sc, 0, sizeof *sc);
}
