/*
 * task_common.c - buffers, batching, top-k, value and text helpers shared
 * by the task plugins.  See task_common.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "task_common.h"

nlp_status nlp_tc_reserve(const nlp_host_api *host, void **buf, size_t *cap,
                          size_t bytes, nlp_error *err)
{
    if (*cap >= bytes && *buf)
        return NLP_OK;
    size_t want = *cap ? *cap : 64;
    while (want < bytes) {
        if (want > SIZE_MAX / 2) {
            want = bytes;
            break;
        }
        want *= 2;
    }
    void *p = realloc(*buf, want);
    if (!p)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory (%zu bytes)", want);
    *buf = p;
    *cap = want;
    return NLP_OK;
}

/* ------------------------------------------------------------ batching */

nlp_status nlp_tc_batch_pack(const nlp_host_api *host, nlp_tc_batch *b,
                             const nlp_encoding *const *encs, size_t n,
                             int32_t pad_id, nlp_error *err)
{
    if (n == 0)
        return host->error_set(err, NLP_ERR_INVALID_ARG, "empty batch");
    size_t T = 0;
    for (size_t i = 0; i < n; i++) {
        if (encs[i]->n == 0)
            return host->error_set(err, NLP_ERR_INPUT, "input %zu encodes to no tokens", i + 1);
        if (encs[i]->n > T)
            T = encs[i]->n;
    }
    if (T > SIZE_MAX / sizeof(int32_t) / n)
        return host->error_set(err, NLP_ERR_NOMEM, "batch of %zu x %zu tokens is too large", n, T);
    size_t bytes = n * T * sizeof(int32_t);
    nlp_status st;
    if ((st = nlp_tc_reserve(host, (void **)&b->ids, &b->cap_ids, bytes, err)) != NLP_OK ||
        (st = nlp_tc_reserve(host, (void **)&b->type_ids, &b->cap_types, bytes, err)) != NLP_OK ||
        (st = nlp_tc_reserve(host, (void **)&b->lengths, &b->cap_lengths,
                             n * sizeof(int32_t), err)) != NLP_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        const nlp_encoding *e = encs[i];
        int32_t *ids = b->ids + i * T;        /* row i: [T] */
        int32_t *types = b->type_ids + i * T; /* row i: [T] */
        memcpy(ids, e->ids, e->n * sizeof(int32_t));
        if (e->type_ids)
            memcpy(types, e->type_ids, e->n * sizeof(int32_t));
        else
            memset(types, 0, e->n * sizeof(int32_t));
        for (size_t t = e->n; t < T; t++) {
            ids[t] = pad_id;
            types[t] = 0;
        }
        b->lengths[i] = (int32_t)e->n;
    }
    b->batch.batch = n;
    b->batch.seq = T;
    b->batch.ids = b->ids;
    b->batch.type_ids = b->type_ids;
    b->batch.lengths = b->lengths;
    return NLP_OK;
}

void nlp_tc_batch_free(nlp_tc_batch *b)
{
    if (!b)
        return;
    free(b->ids);
    free(b->type_ids);
    free(b->lengths);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------ top-k */

/* 1 when element i ranks above element j. */
static int topk_better(const float *x, int32_t i, int32_t j)
{
    return x[i] > x[j] || (x[i] == x[j] && i < j);
}

/* Restore the heap property below position at; the root is the element
 * ranking lowest (so it is the one to evict). */
static void topk_sift_down(const float *x, int32_t *h, size_t n, size_t at)
{
    for (;;) {
        size_t l = 2 * at + 1, r = l + 1, worst = at;
        if (l < n && topk_better(x, h[worst], h[l]))
            worst = l;
        if (r < n && topk_better(x, h[worst], h[r]))
            worst = r;
        if (worst == at)
            return;
        int32_t t = h[at];
        h[at] = h[worst];
        h[worst] = t;
        at = worst;
    }
}

static void topk_sift_up(const float *x, int32_t *h, size_t at)
{
    while (at > 0) {
        size_t parent = (at - 1) / 2;
        if (!topk_better(x, h[parent], h[at]))
            return;
        int32_t t = h[at];
        h[at] = h[parent];
        h[parent] = t;
        at = parent;
    }
}

size_t nlp_tc_topk(const float *x, size_t n, size_t k, int32_t *out)
{
    if (k > n)
        k = n;
    if (k == 0)
        return 0;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (used < k) {
            out[used] = (int32_t)i;
            topk_sift_up(x, out, used);
            used++;
        } else if (topk_better(x, (int32_t)i, out[0])) {
            out[0] = (int32_t)i;
            topk_sift_down(x, out, k, 0);
        }
    }
    /* Heap sort: move the lowest-ranked to the end, best ends up first. */
    for (size_t m = k; m > 1; m--) {
        int32_t t = out[0];
        out[0] = out[m - 1];
        out[m - 1] = t;
        topk_sift_down(x, out, m - 1, 0);
    }
    return k;
}

/* ------------------------------------------------------------ values */

nlp_value *nlp_tc_str(const nlp_host_api *host, const char *s)
{
    return host->value_string(s ? s : "", s ? strlen(s) : 0);
}

nlp_status nlp_tc_set(const nlp_host_api *host, nlp_value *obj,
                      const char *key, nlp_value *v, nlp_error *err)
{
    if (!v)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory building the result");
    host->value_set(obj, key, v);
    return NLP_OK;
}

nlp_status nlp_tc_push(const nlp_host_api *host, nlp_value *arr,
                       nlp_value *v, nlp_error *err)
{
    if (!v)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory building the result");
    host->value_push(arr, v);
    return NLP_OK;
}

/* ------------------------------------------------------------ text */

void nlp_tc_list_free(char **items, size_t n)
{
    if (!items)
        return;
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

nlp_status nlp_tc_list_split(const nlp_host_api *host, const char *s,
                             char ***items, size_t *n, nlp_error *err)
{
    *items = NULL;
    *n = 0;
    if (!s)
        return NLP_OK;
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += (*p == ',');
    char **out = calloc(cap, sizeof *out);
    if (!out)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory splitting a list");
    size_t count = 0;
    const char *p = s;
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *z = end;
        while (a < z && isspace((unsigned char)*a))
            a++;
        while (z > a && isspace((unsigned char)z[-1]))
            z--;
        if (z > a) {
            out[count] = strndup(a, (size_t)(z - a));
            if (!out[count]) {
                nlp_tc_list_free(out, count);
                return host->error_set(err, NLP_ERR_NOMEM, "out of memory splitting a list");
            }
            count++;
        }
        if (!*end)
            break;
        p = end + 1;
    }
    *items = out;
    *n = count;
    return NLP_OK;
}

nlp_status nlp_tc_parse_top_k(const nlp_host_api *host, const char *s,
                              int allow_all, const char *name, size_t *k,
                              nlp_error *err)
{
    if (!s || !*s)
        return host->error_set(err, NLP_ERR_INVALID_ARG, "--%s needs a value", name);
    if (allow_all && strcmp(s, "all") == 0) {
        *k = SIZE_MAX;
        return NLP_OK;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !isdigit((unsigned char)s[0]) || end == s || *end || v < 1)
        return host->error_set(err, NLP_ERR_INVALID_ARG,
                               "--%s must be a positive integer%s, not '%s'", name,
                               allow_all ? " or 'all'" : "", s);
    *k = (size_t)v;
    return NLP_OK;
}

/* ------------------------------------------------------------ encoding */

nlp_status nlp_tc_encode(const nlp_host_api *host, const nlp_tokenizer *tok,
                         const char *text, size_t len,
                         const char *pair, size_t pair_len,
                         size_t max_length, nlp_truncation trunc,
                         size_t limit, nlp_encoding *out, nlp_error *err)
{
    nlp_encode_opts opts = NLP_ENCODE_OPTS_INIT;
    opts.max_length = max_length;
    opts.truncation = trunc;
    nlp_status st = host->encode(tok, text, len, pair, pair_len, &opts, out, err);
    if (st != NLP_OK)
        return st;
    if (limit > 0 && out->n > limit)
        return host->error_set(err, NLP_ERR_INPUT,
                               "input is %zu tokens long; the model accepts at most %zu",
                               out->n, limit);
    return NLP_OK;
}

/* ------------------------------------------------------------ run() plumbing */

nlp_status nlp_tc_encodings_reserve(const nlp_host_api *host, nlp_encoding **v,
                                    size_t *cap, size_t n, nlp_error *err)
{
    if (n <= *cap && (*v || n == 0))
        return NLP_OK;
    size_t want = *cap * 2 > n ? *cap * 2 : n;
    if (want == 0)
        want = 1;
    if (want > SIZE_MAX / sizeof(nlp_encoding))
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory (%zu encodings)", n);
    nlp_encoding *g = realloc(*v, want * sizeof(nlp_encoding));
    if (!g)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory (%zu encodings)", want);
    memset(g + *cap, 0, (want - *cap) * sizeof(nlp_encoding));
    *v = g;
    *cap = want;
    return NLP_OK;
}

void nlp_tc_encodings_free(const nlp_host_api *host, nlp_encoding **v, size_t *cap)
{
    for (size_t i = 0; *v && i < *cap; i++)
        host->encoding_free(&(*v)[i]);
    free(*v);
    *v = NULL;
    *cap = 0;
}

int32_t nlp_tc_pad_id(const nlp_host_api *host, const nlp_task_args *args)
{
    int32_t id = host->special_id(args->tokenizer, NLP_SPECIAL_PAD);
    return id >= 0 ? id : host->model_config(args->model)->pad_token_id;
}

size_t nlp_tc_model_limit(const nlp_host_api *host, const nlp_model *model)
{
    if (NLP_HOST_HAS(host, model_max_tokens))
        return host->model_max_tokens(model);
    return (size_t)host->model_config(model)->max_position_embeddings;
}

nlp_status nlp_tc_need_heads(const nlp_host_api *host, nlp_error *err)
{
    if (NLP_HOST_HAS(host, head_forward))
        return NLP_OK;
    return host->error_set(err, NLP_ERR_UNSUPPORTED, "the host is too old for this plugin: "
                           "its table has no head_forward entry");
}

size_t nlp_tc_max_length(const nlp_host_api *host, const nlp_task_args *args)
{
    size_t limit = nlp_tc_model_limit(host, args->model);
    size_t len = host->model_max_length(args->tokenizer);
    return len == 0 || len > limit ? limit : len;
}

nlp_status nlp_tc_fail_all(const nlp_host_api *host, nlp_value **results,
                           nlp_error *errs, size_t n, const nlp_error *fatal)
{
    for (size_t i = 0; i < n; i++) {
        if (results[i])
            host->value_free(results[i]);
        results[i] = NULL;
        errs[i] = *fatal;
    }
    return fatal->status != NLP_OK ? fatal->status : NLP_ERR_INTERNAL;
}

/* ------------------------------------------------------------ columns */

size_t nlp_tc_columns_copy(const nlp_column *cols, size_t n, nlp_column *out, size_t max)
{
    size_t k = n < max ? n : max;
    for (size_t i = 0; i < k; i++)
        out[i] = cols[i];
    return k;
}

size_t nlp_tc_textcls_columns(const nlp_host_api *host, const nlp_task_args *args,
                              nlp_column *out, size_t max)
{
    static const nlp_column list[] = {{"labels", NLP_COLUMN_WHOLE, NULL}};
    static const nlp_column best[] = {{"label", NLP_COLUMN_FIELD, "label"},
                                      {"score", NLP_COLUMN_FIELD, "score"}};
    if (host->opt_string(args, "top-k"))
        return nlp_tc_columns_copy(list, 1, out, max);
    return nlp_tc_columns_copy(best, 2, out, max);
}
