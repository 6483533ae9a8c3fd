/*
 * fill_mask.c - the fill-mask task plugin: predict the tokens hidden
 * behind the model's mask token, as Hugging Face's FillMaskPipeline does.
 *
 * For every mask of an input: softmax over the vocabulary of the MLM
 * logits at that position, the top-k ids (optionally restricted to
 * --targets, whose probabilities are not renormalised), and for each
 * candidate {score, token, token_str, sequence}, where token_str decodes
 * the id alone and sequence decodes the input ids with this mask filled
 * (padding removed; special tokens skipped when the input has one mask,
 * kept when it has several so the other masks stay visible).
 * One mask: the result is an array of candidates; several masks: an array
 * with one such array per mask, in input order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/plugin.h"
#include "task_common.h"

typedef struct fm_state {
    const nlp_host_api *host;
    const nlp_tokenizer *tok;
    nlp_ctx *ctx;
    size_t H, V;
    size_t limit;              /* longest encoding the model accepts */
    int32_t mask_id, pad_id;
    const char *mask_token;
    size_t top_k;              /* capped at n_targets when targets are set */
    int32_t *targets;          /* [n_targets] sorted distinct ids, or NULL */
    size_t n_targets;

    /* per-run scratch, grown on demand and reused */
    nlp_encoding *encs;        /* [cap_encs] */
    size_t cap_encs;
    const nlp_encoding **valid;     /* [n] encodings going into the batch */
    size_t cap_valid;
    int32_t *input_of;         /* [n] input index of each batch row */
    size_t cap_input_of;
    nlp_tc_batch batch;
    float *rows;               /* [M][H] hidden rows at the masks */
    size_t cap_rows;
    float *logits;             /* [M][V] */
    size_t cap_logits;
    float *tscores;            /* [n_targets] */
    size_t cap_tscores;
    int32_t *best;             /* [top_k] */
    size_t cap_best;
    int32_t *tokens;           /* [T] ids of one filled-in sequence */
    size_t cap_tokens;
} fm_state;

static const nlp_option fm_options[] = {
    {"top-k", NLP_OPT_INT, "5", NULL, "number of predictions per mask", "N"},
    {"targets", NLP_OPT_STRING, NULL, NULL,
     "comma-separated candidate words; scores are restricted to them", "WORD,..."},
    {NULL, 0, NULL, NULL, NULL, NULL}
};

static const nlp_task_desc fm_tasks[] = {
    {sizeof(nlp_task_desc), 0, "fill-mask", "predict the words behind the mask token",
     "nlp-mini", NLP_INPUT_TEXT, fm_options, "score,token,token_str,sequence",
     "ForMaskedLM,ForPreTraining"},
};

static void fm_destroy(void *p)
{
    fm_state *s = p;
    if (!s)
        return;
    nlp_tc_encodings_free(s->host, &s->encs, &s->cap_encs);
    free(s->valid);
    free(s->input_of);
    nlp_tc_batch_free(&s->batch);
    free(s->rows);
    free(s->logits);
    free(s->tscores);
    free(s->best);
    free(s->tokens);
    free(s->targets);
    free(s);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Resolve --targets as Hugging Face does: a vocabulary entry as written,
 * else the first token of its encoding (with a warning), else dropped
 * (with a warning).  Ids are deduplicated. */
static nlp_status fm_parse_targets(fm_state *s, const nlp_task_args *args, const char *list,
                                   nlp_error *err)
{
    const nlp_host_api *host = s->host;
    char **items = NULL;
    size_t n = 0;
    nlp_status st = nlp_tc_list_split(host, list, &items, &n, err);
    if (st != NLP_OK)
        return st;
    s->targets = malloc((n ? n : 1) * sizeof *s->targets);
    if (!s->targets) {
        nlp_tc_list_free(items, n);
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    nlp_encoding enc = {0};
    nlp_encode_opts opts = {0, 0, NLP_TRUNC_LONGEST_FIRST};
    size_t count = 0;
    for (size_t i = 0; i < n && st == NLP_OK; i++) {
        int32_t id = host->token_to_id(s->tok, items[i]);
        if (id < 0) {
            st = host->encode(s->tok, items[i], strlen(items[i]), NULL, 0, &opts, &enc, err);
            if (st != NLP_OK)
                break;
            if (enc.n == 0) {
                host->warn(args, "target '%s' is not in the vocabulary and encodes to nothing; "
                           "ignoring it", items[i]);
                continue;
            }
            id = enc.ids[0];
            const char *tok = host->id_to_token(s->tok, id);
            host->warn(args, "target '%s' is not in the vocabulary; using '%s' instead",
                       items[i], tok ? tok : "?");
        }
        s->targets[count++] = id;
    }
    host->encoding_free(&enc);
    nlp_tc_list_free(items, n);
    if (st != NLP_OK)
        return st;
    if (count == 0)
        return host->error_set(err, NLP_ERR_INVALID_ARG, "--targets: no usable target word");
    qsort(s->targets, count, sizeof *s->targets, cmp_i32);
    size_t u = 0;
    for (size_t i = 0; i < count; i++)
        if (u == 0 || s->targets[u - 1] != s->targets[i])
            s->targets[u++] = s->targets[i];
    s->n_targets = u;
    return NLP_OK;
}

static nlp_status fm_create(const nlp_host_api *host, const nlp_task_args *args,
                            void **state, nlp_error *err)
{
    const nlp_config *cfg = host->model_config(args->model);
    nlp_status hs = nlp_tc_need_heads(host, err);
    if (hs != NLP_OK || (hs = host->model_head(args->model, NLP_HEAD_MLM, NULL, err)) != NLP_OK)
        return hs;
    fm_state *s = calloc(1, sizeof *s);
    if (!s)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory");
    s->host = host;
    s->tok = args->tokenizer;
    s->ctx = args->ctx;
    s->H = (size_t)cfg->hidden_size;
    s->V = (size_t)cfg->vocab_size;
    s->limit = nlp_tc_model_limit(host, args->model);
    s->mask_id = host->special_id(args->tokenizer, NLP_SPECIAL_MASK);
    s->mask_token = host->special_token(args->tokenizer, NLP_SPECIAL_MASK);
    s->pad_id = nlp_tc_pad_id(host, args);
    nlp_status st = NLP_OK;
    if (s->mask_id < 0 || !s->mask_token) {
        st = host->error_set(err, NLP_ERR_UNSUPPORTED,
                             "the tokenizer has no mask token, which fill-mask needs");
        goto fail;
    }
    long k = host->opt_int(args, "top-k", 5);
    if (k < 1) {
        st = host->error_set(err, NLP_ERR_INVALID_ARG, "--top-k must be at least 1, not %ld", k);
        goto fail;
    }
    s->top_k = (size_t)k < s->V ? (size_t)k : s->V; /* more than V is all of them */
    const char *targets = host->opt_string(args, "targets");
    if (targets) {
        if ((st = fm_parse_targets(s, args, targets, err)) != NLP_OK)
            goto fail;
        for (size_t i = 0; i < s->n_targets; i++)
            if (s->targets[i] < 0 || (size_t)s->targets[i] >= s->V) {
                st = host->error_set(err, NLP_ERR_INVALID_ARG,
                                     "--targets: token id %d is outside the model's vocabulary of %zu",
                                     s->targets[i], s->V);
                goto fail;
            }
        if (s->top_k > s->n_targets)
            s->top_k = s->n_targets;
    }
    *state = s;
    return NLP_OK;
fail:
    fm_destroy(s);
    return st;
}

/* Candidates of one mask (the row of probabilities probs [V]) as an array
 * of {score, token, token_str, sequence}.  enc is the input, at is the
 * position of this mask in it. */
static nlp_status fm_candidates(fm_state *s, const float *probs, const nlp_encoding *enc,
                                size_t at, int single_mask, nlp_value **out, nlp_error *err)
{
    const nlp_host_api *host = s->host;
    size_t k;
    if (s->targets) {
        for (size_t j = 0; j < s->n_targets; j++)
            s->tscores[j] = probs[s->targets[j]];
        k = nlp_tc_topk(s->tscores, s->n_targets, s->top_k, s->best);
        for (size_t j = 0; j < k; j++)
            s->best[j] = s->targets[s->best[j]];
    } else {
        k = nlp_tc_topk(probs, s->V, s->top_k, s->best);
    }
    nlp_value *arr = host->value_array();
    if (!arr)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory building the result");
    nlp_status st = NLP_OK;
    for (size_t j = 0; j < k && st == NLP_OK; j++) {
        int32_t id = s->best[j];
        /* The input with this mask filled in, padding dropped. */
        size_t m = 0;
        for (size_t t = 0; t < enc->n; t++) {
            int32_t x = t == at ? id : enc->ids[t];
            if (x != s->pad_id)
                s->tokens[m++] = x;
        }
        char *seq = NULL, *str = NULL;
        st = host->decode(s->tok, s->tokens, m, single_mask, &seq, err);
        if (st == NLP_OK)
            st = host->decode(s->tok, &id, 1, 0, &str, err);
        nlp_value *obj = st == NLP_OK ? host->value_object() : NULL;
        if (st == NLP_OK && !obj)
            st = host->error_set(err, NLP_ERR_NOMEM, "out of memory building the result");
        if (st == NLP_OK)
            st = nlp_tc_set(host, obj, "score",
                            host->value_number((double)probs[id]), err);
        if (st == NLP_OK)
            st = nlp_tc_set(host, obj, "token", host->value_int(id), err);
        if (st == NLP_OK)
            st = nlp_tc_set(host, obj, "token_str", nlp_tc_str(host, str), err);
        if (st == NLP_OK)
            st = nlp_tc_set(host, obj, "sequence", nlp_tc_str(host, seq), err);
        if (obj) {
            if (st == NLP_OK)
                host->value_push(arr, obj);
            else
                host->value_free(obj);
        }
        host->free(seq);
        host->free(str);
    }
    if (st != NLP_OK) {
        host->value_free(arr);
        return st;
    }
    *out = arr;
    return NLP_OK;
}

static nlp_status fm_grow(fm_state *s, size_t n, nlp_error *err)
{
    const nlp_host_api *host = s->host;
    nlp_status st;
    if ((st = nlp_tc_encodings_reserve(host, &s->encs, &s->cap_encs, n, err)) ||
        (st = nlp_tc_reserve(host, (void **)&s->valid, &s->cap_valid, n * sizeof *s->valid, err)) ||
        (st = nlp_tc_reserve(host, (void **)&s->input_of, &s->cap_input_of,
                             n * sizeof *s->input_of, err)) ||
        (st = nlp_tc_reserve(host, (void **)&s->best, &s->cap_best,
                             s->top_k * sizeof *s->best, err)) ||
        (st = nlp_tc_reserve(host, (void **)&s->tscores, &s->cap_tscores,
                             (s->n_targets ? s->n_targets : 1) * sizeof *s->tscores, err)))
        return st;
    return NLP_OK;
}

static nlp_status fm_run(void *p, const nlp_input *inputs, size_t n,
                         nlp_value **results, nlp_error *errs)
{
    fm_state *s = p;
    const nlp_host_api *host = s->host;
    nlp_error fatal = {0};
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    nlp_status st = fm_grow(s, n, &fatal);
    if (st != NLP_OK)
        goto fatal_out;

    /* Encode every input; count the masks of the valid ones. */
    size_t B = 0, M = 0, T = 0;
    for (size_t i = 0; i < n; i++) {
        nlp_encoding *e = &s->encs[i];
        st = nlp_tc_encode(host, s->tok, inputs[i].text, inputs[i].text_len,
                           inputs[i].text_pair, inputs[i].text_pair_len, 0,
                           NLP_TRUNC_LONGEST_FIRST, s->limit, e, &errs[i]);
        if (st == NLP_ERR_NOMEM) {
            fatal = errs[i];
            goto fatal_out;
        }
        if (st != NLP_OK)
            continue;
        size_t masks = 0;
        for (size_t t = 0; t < e->n; t++)
            masks += e->ids[t] == s->mask_id;
        if (masks == 0) {
            host->error_set(&errs[i], NLP_ERR_INPUT, "no %s token in the input", s->mask_token);
            continue;
        }
        s->valid[B] = e;
        s->input_of[B] = (int32_t)i;
        B++;
        M += masks;
        if (e->n > T)
            T = e->n;
    }
    if (B == 0)
        return NLP_OK;

    if ((st = nlp_tc_batch_pack(host, &s->batch, s->valid, B, s->pad_id, &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&s->rows, &s->cap_rows, M * s->H * sizeof(float), &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&s->logits, &s->cap_logits,
                             M * s->V * sizeof(float), &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&s->tokens, &s->cap_tokens, T * sizeof(int32_t), &fatal)))
        goto fatal_out;

    const float *hidden = NULL; /* [B][T'][H], T' = s->batch.batch.seq */
    if ((st = host->encoder_forward(s->ctx, &s->batch.batch, &hidden, &fatal)) != NLP_OK)
        goto fatal_out;
    size_t Tp = s->batch.batch.seq;

    /* rows [M][H]: the hidden states at every mask, batch order. */
    size_t m = 0;
    for (size_t b = 0; b < B; b++) {
        const nlp_encoding *e = s->valid[b];
        for (size_t t = 0; t < e->n; t++)
            if (e->ids[t] == s->mask_id)
                memcpy(s->rows + (m++) * s->H, hidden + (b * Tp + t) * s->H, s->H * sizeof(float));
    }
    if ((st = host->head_forward(s->ctx, NLP_HEAD_MLM, s->rows, M, s->H, s->logits, &fatal)) != NLP_OK)
        goto fatal_out;
    host->softmax(s->logits, M, s->V); /* probabilities [M][V] */

    m = 0;
    for (size_t b = 0; b < B; b++) {
        const nlp_encoding *e = s->valid[b];
        size_t i = (size_t)s->input_of[b];
        size_t masks = 0;
        for (size_t t = 0; t < e->n; t++)
            masks += e->ids[t] == s->mask_id;
        nlp_value *res = NULL;
        st = NLP_OK;
        if (masks > 1 && !(res = host->value_array()))
            st = host->error_set(&errs[i], NLP_ERR_NOMEM, "out of memory building the result");
        for (size_t t = 0; t < e->n && st == NLP_OK; t++) {
            if (e->ids[t] != s->mask_id)
                continue;
            nlp_value *cands = NULL;
            st = fm_candidates(s, s->logits + m * s->V, e, t, masks == 1, &cands, &errs[i]);
            m++;
            if (st != NLP_OK)
                break;
            if (masks == 1)
                res = cands;
            else
                host->value_push(res, cands);
        }
        if (st != NLP_OK) {
            if (res)
                host->value_free(res);
            res = NULL;
            if (st == NLP_ERR_NOMEM) {
                fatal = errs[i];
                goto fatal_out;
            }
        }
        results[i] = res;
    }
    return NLP_OK;

fatal_out:
    return nlp_tc_fail_all(host, results, errs, n, &fatal);
}

/* --top-k 1: the word and its score (one per mask, as JSON arrays, when a
 * text has several); otherwise the whole list of predictions. */
static size_t fm_columns(const nlp_host_api *host, const nlp_task_args *args,
                         nlp_column *out, size_t max)
{
    static const nlp_column best[] = {{"token_str", NLP_COLUMN_FIELD, "token_str"},
                                      {"score", NLP_COLUMN_FIELD, "score"}};
    static const nlp_column all[] = {{"predictions", NLP_COLUMN_WHOLE, NULL}};
    if (host->opt_int(args, "top-k", 5) == 1)
        return nlp_tc_columns_copy(best, 2, out, max);
    return nlp_tc_columns_copy(all, 1, out, max);
}

static const nlp_plugin fm_plugin = {
    NLP_PLUGIN_ABI_VERSION, sizeof(nlp_plugin), "fill-mask", NLP_TC_VERSION,
    fm_tasks, 1, fm_create, fm_run, fm_destroy, fm_columns,
};

NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void)
{
    return &fm_plugin;
}
