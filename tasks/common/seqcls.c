/*
 * seqcls.c - the classification heads' labels and the sequence-
 * classification logits shared by the sentiment and classify plugins
 * (the host runs the head in its family's layout), and Hugging Face's
 * function_to_apply.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task_common.h"

nlp_status nlp_tc_head_labels(const nlp_host_api *host, const nlp_model *model,
                              nlp_head head, size_t *L, char ***labels, nlp_error *err)
{
    nlp_status st = nlp_tc_need_heads(host, err);
    if (st != NLP_OK || (st = host->model_head(model, head, L, err)) != NLP_OK)
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
    sc->H = (size_t)cfg->hidden_size;
    sc->multi_label = strcmp(cfg->problem_type, "multi_label_classification") == 0;
    return nlp_tc_head_labels(host, model, NLP_HEAD_SEQ_CLS, &sc->L, &sc->labels, err);
}

nlp_status nlp_tc_seqcls_logits(nlp_tc_seqcls *sc, nlp_ctx *ctx,
                                const float *hidden, size_t B, size_t T,
                                float *logits, nlp_error *err)
{
    return sc->host->head_forward(ctx, NLP_HEAD_SEQ_CLS, hidden, B, T * sc->H, logits, err);
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
    memset(sc, 0, sizeof *sc);
}
