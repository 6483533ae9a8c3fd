/*
 * textcls.c - plain text classification (Hugging Face's
 * TextClassificationPipeline), shared by the sentiment and classify
 * plugins.
 *
 * Each input (a text, or a text pair) goes through the checkpoint's
 * sequence-classification head; scores are the logits after
 * function_to_apply (softmax, sigmoid or none; by default sigmoid for one
 * label or multi-label problems, else softmax).  Without --top-k the
 * result is the best {label, score}; with --top-k N (or all) it is an
 * array of {label, score} sorted by score, N long.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "task_common.h"

struct nlp_tc_textcls {
    const nlp_host_api *host;
    const nlp_tokenizer *tok;
    nlp_ctx *ctx;
    size_t limit;               /* longest encoding the model accepts */
    int32_t pad_id;
    nlp_tc_seqcls head;
    nlp_tc_function fn;         /* resolved, never AUTO */
    size_t top_k;               /* 0: the best label as one object */

    nlp_encoding *encs;         /* [cap_encs] */
    size_t cap_encs;
    const nlp_encoding **valid; /* [n] */
    size_t cap_valid;
    int32_t *input_of;          /* [n] */
    size_t cap_input_of;
    nlp_tc_batch batch;
    float *logits;              /* [B][L] */
    size_t cap_logits;
    int32_t *order;             /* [L] */
    size_t cap_order;
};

nlp_status nlp_tc_textcls_create(const nlp_host_api *host, const nlp_task_args *args,
                                 nlp_tc_textcls **out, nlp_error *err)
{
    nlp_tc_textcls *c = calloc(1, sizeof *c);
    if (!c)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory");
    c->host = host;
    c->tok = args->tokenizer;
    c->ctx = args->ctx;
    c->limit = nlp_tc_model_limit(host, args->model);
    c->pad_id = nlp_tc_pad_id(host, args);
    nlp_status st = nlp_tc_seqcls_init(&c->head, host, args->model, err);
    if (st != NLP_OK)
        goto fail;
    nlp_tc_function fn;
    if ((st = nlp_tc_parse_function(host, host->opt_string(args, "function"), &fn, err)) != NLP_OK)
        goto fail;
    c->fn = nlp_tc_seqcls_function(&c->head, fn);
    const char *k = host->opt_string(args, "top-k");
    c->top_k = 0;
    if (k && (st = nlp_tc_parse_top_k(host, k, 1, "top-k", &c->top_k, err)) != NLP_OK)
        goto fail;
    if ((st = nlp_tc_reserve(host, (void **)&c->order, &c->cap_order,
                             c->head.L * sizeof *c->order, err)) != NLP_OK)
        goto fail;
    *out = c;
    return NLP_OK;
fail:
    nlp_tc_textcls_destroy(c);
    return st;
}

void nlp_tc_textcls_destroy(nlp_tc_textcls *c)
{
    if (!c)
        return;
    nlp_tc_encodings_free(c->host, &c->encs, &c->cap_encs);
    free(c->valid);
    free(c->input_of);
    nlp_tc_batch_free(&c->batch);
    free(c->logits);
    free(c->order);
    nlp_tc_seqcls_free(&c->head);
    free(c);
}

/* {label, score} */
static nlp_value *label_score(const nlp_host_api *host, const char *label, double score)
{
    nlp_value *o = host->value_object();
    if (!o)
        return NULL;
    nlp_value *l = nlp_tc_str(host, label), *s = host->value_number(score);
    if (!l || !s) {
        if (l)
            host->value_free(l);
        if (s)
            host->value_free(s);
        host->value_free(o);
        return NULL;
    }
    host->value_set(o, "label", l);
    host->value_set(o, "score", s);
    return o;
}

/* The result of one row of scores [L]. */
static nlp_value *textcls_result(nlp_tc_textcls *c, const float *scores)
{
    const nlp_host_api *host = c->host;
    size_t L = c->head.L;
    size_t k = nlp_tc_topk(scores, L, c->top_k ? c->top_k : 1, c->order);
    if (c->top_k == 0)
        return label_score(host, c->head.labels[c->order[0]], scores[c->order[0]]);
    nlp_value *arr = host->value_array();
    if (!arr)
        return NULL;
    for (size_t j = 0; j < k; j++) {
        nlp_value *o = label_score(host, c->head.labels[c->order[j]], scores[c->order[j]]);
        if (!o) {
            host->value_free(arr);
            return NULL;
        }
        host->value_push(arr, o);
    }
    return arr;
}

nlp_status nlp_tc_textcls_run(nlp_tc_textcls *c, const nlp_input *inputs, size_t n,
                              nlp_value **results, nlp_error *errs)
{
    const nlp_host_api *host = c->host;
    nlp_error fatal = {0};
    nlp_status st = NLP_OK;
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    if ((st = nlp_tc_encodings_reserve(host, &c->encs, &c->cap_encs, n, &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&c->valid, &c->cap_valid, n * sizeof *c->valid, &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&c->input_of, &c->cap_input_of,
                             n * sizeof *c->input_of, &fatal)))
        goto fatal_out;

    size_t B = 0;
    for (size_t i = 0; i < n; i++) {
        st = nlp_tc_encode(host, c->tok, inputs[i].text, inputs[i].text_len,
                           inputs[i].text_pair, inputs[i].text_pair_len, 0,
                           NLP_TRUNC_LONGEST_FIRST, c->limit, &c->encs[i], &errs[i]);
        if (st == NLP_ERR_NOMEM) {
            fatal = errs[i];
            goto fatal_out;
        }
        if (st != NLP_OK)
            continue;
        c->valid[B] = &c->encs[i];
        c->input_of[B] = (int32_t)i;
        B++;
    }
    if (B == 0)
        return NLP_OK;
    size_t L = c->head.L;
    if ((st = nlp_tc_batch_pack(host, &c->batch, c->valid, B, c->pad_id, &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&c->logits, &c->cap_logits, B * L * sizeof(float), &fatal)))
        goto fatal_out;
    const float *hidden = NULL; /* [B][T][H] */
    if ((st = host->encoder_forward(c->ctx, &c->batch.batch, &hidden, &fatal)) != NLP_OK ||
        (st = nlp_tc_seqcls_logits(&c->head, c->ctx, hidden, B, c->batch.batch.seq,
                                   c->logits, &fatal)) != NLP_OK)
        goto fatal_out;
    for (size_t b = 0; b < B; b++) {
        float *scores = c->logits + b * L; /* [L] */
        nlp_tc_apply_function(host, c->fn, scores, L);
        size_t i = (size_t)c->input_of[b];
        results[i] = textcls_result(c, scores);
        if (!results[i]) {
            st = host->error_set(&fatal, NLP_ERR_NOMEM, "out of memory building the result");
            goto fatal_out;
        }
    }
    return NLP_OK;

fatal_out:
    return nlp_tc_fail_all(host, results, errs, n, &fatal);
}
