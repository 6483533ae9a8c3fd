/*
 * embed.c - an example task plugin, built outside the nlp tree: the task
 * `embed` prints one sentence vector per input, the mean of the encoder's
 * last hidden states over the real (attention-masked) tokens, as
 * {"embedding": [...]}.  With --normalize the vector is scaled to unit
 * length.
 *
 * It uses nothing but the public header and the host table:
 *
 *     cc -shared -fPIC $(pkg-config --cflags nlp) -o embed.so embed.c -lm
 *     NLP_PLUGIN_PATH=$PWD nlp embed --model DIR "some text"
 *
 * (-lm only for sqrt; the plugin links against nothing of nlp.)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nlp/plugin.h>

/* What one create() prepares; buffers grow to the largest batch seen and
 * are reused, so steady-state runs allocate only the result values. */
typedef struct embed_state {
    const nlp_host_api *host;
    nlp_ctx *ctx;
    const nlp_tokenizer *tok;
    size_t hidden;          /* H */
    size_t max_len;         /* longest input in tokens, specials included */
    int normalize;
    nlp_encoding *enc;      /* [batch_size] */
    size_t n_enc;
    int32_t *ids, *types;   /* [B][T] */
    int32_t *lengths;       /* [batch_size] tokens per input, -1 failed */
    int32_t *plen;          /* [batch_size] tokens per packed row */
    size_t cap_bt;
    double *acc;            /* [H] */
} embed_state;

static const nlp_option embed_options[] = {
    {"normalize", NLP_OPT_FLAG, NULL, NULL, "scale each vector to unit length (L2)", NULL},
    {NULL, 0, NULL, NULL, NULL, NULL},
};

static const nlp_task_desc embed_tasks[] = {
    {sizeof(nlp_task_desc), 0, "embed",
     "sentence vectors: mean of the last hidden states over the real tokens",
     "sentence-transformers/all-MiniLM-L6-v2", NLP_INPUT_TEXT, embed_options, NULL, NULL},
};

static void embed_destroy(void *state)
{
    embed_state *s = state;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_enc; i++)
        s->host->encoding_free(&s->enc[i]);
    free(s->enc);
    free(s->ids);
    free(s->types);
    free(s->lengths);
    free(s->plen);
    free(s->acc);
    free(s);
}

static nlp_status embed_create(const nlp_host_api *host, const nlp_task_args *args,
                               void **state, nlp_error *err)
{
    *state = NULL;
    if (host->abi_version != NLP_PLUGIN_ABI_VERSION || host->struct_size < sizeof(nlp_host_api))
        return NLP_ERR_ABI;
    const nlp_config *cfg = host->model_config(args->model);
    embed_state *s = calloc(1, sizeof *s);
    if (!s)
        return host->error_set(err, NLP_ERR_NOMEM, "embed: out of memory");
    s->host = host;
    s->ctx = args->ctx;
    s->tok = args->tokenizer;
    s->hidden = (size_t)cfg->hidden_size;
    /* positions the model takes (RoBERTa's start after padding_idx); an
     * older host has no model_max_tokens entry */
    s->max_len = NLP_HOST_HAS(host, model_max_tokens) ? host->model_max_tokens(args->model)
                                                       : (size_t)cfg->max_position_embeddings;
    size_t mml = host->model_max_length(args->tokenizer);
    if (mml && mml < s->max_len)
        s->max_len = mml;
    s->normalize = host->opt_flag(args, "normalize");
    s->n_enc = args->batch_size ? args->batch_size : 1;
    s->enc = calloc(s->n_enc, sizeof *s->enc);
    s->lengths = calloc(s->n_enc, sizeof *s->lengths);
    s->plen = calloc(s->n_enc, sizeof *s->plen);
    s->acc = calloc(s->hidden, sizeof *s->acc);
    if (!s->enc || !s->lengths || !s->plen || !s->acc) {
        embed_destroy(s);
        return host->error_set(err, NLP_ERR_NOMEM, "embed: out of memory");
    }
    *state = s;
    return NLP_OK;
}

/* Make room for B x T ids; 0 or NLP_ERR_NOMEM. */
static nlp_status reserve(embed_state *s, size_t bt)
{
    if (bt <= s->cap_bt)
        return NLP_OK;
    int32_t *ids = realloc(s->ids, bt * sizeof *ids);
    if (!ids)
        return NLP_ERR_NOMEM;
    s->ids = ids;
    int32_t *types = realloc(s->types, bt * sizeof *types);
    if (!types)
        return NLP_ERR_NOMEM;
    s->types = types;
    s->cap_bt = bt;
    return NLP_OK;
}

static nlp_status embed_run(void *state, const nlp_input *inputs, size_t n,
                            nlp_value **results, nlp_error *errs)
{
    embed_state *s = state;
    const nlp_host_api *h = s->host;
    if (n > s->n_enc)
        return h->error_set(&errs[0], NLP_ERR_INVALID_ARG,
                            "embed: %zu inputs in one run, more than the batch size %zu",
                            n, s->n_enc);
    nlp_encode_opts opts = {1, s->max_len, NLP_TRUNC_LONGEST_FIRST};

    /* tokenize; a failed input drops out of the batch */
    size_t T = 0, rows = 0;
    for (size_t i = 0; i < n; i++) {
        results[i] = NULL;
        if (h->encode(s->tok, inputs[i].text, inputs[i].text_len, NULL, 0, &opts,
                      &s->enc[i], &errs[i]) != NLP_OK) {
            s->lengths[i] = -1;
            continue;
        }
        s->lengths[i] = (int32_t)s->enc[i].n;
        if (s->enc[i].n > T)
            T = s->enc[i].n;
        rows++;
    }
    if (rows == 0)
        return NLP_OK;
    if (reserve(s, rows * T) != NLP_OK)
        return h->error_set(&errs[0], NLP_ERR_NOMEM, "embed: out of memory");

    /* pack the good rows: ids [rows][T], padded with the pad id */
    int32_t pad = h->special_id(s->tok, NLP_SPECIAL_PAD);
    const int32_t *lens = s->lengths;
    int32_t *plen = s->plen;
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] < 0)
            continue;
        const nlp_encoding *e = &s->enc[i];
        for (size_t t = 0; t < T; t++) {
            s->ids[r * T + t] = t < e->n ? e->ids[t] : (pad >= 0 ? pad : 0);
            s->types[r * T + t] = t < e->n ? e->type_ids[t] : 0;
        }
        plen[r++] = (int32_t)e->n;
    }
    nlp_batch batch = {rows, T, s->ids, s->types, plen};
    const float *hidden = NULL;   /* [rows][T][H] */
    nlp_error ferr = {0};
    nlp_status st = h->encoder_forward(s->ctx, &batch, &hidden, &ferr);
    if (st != NLP_OK) {
        errs[0] = ferr;
        return st;
    }

    /* mean over the real tokens of each row */
    r = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] < 0)
            continue;
        size_t len = (size_t)plen[r];
        const float *hb = hidden + r * T * s->hidden;
        memset(s->acc, 0, s->hidden * sizeof *s->acc);
        for (size_t t = 0; t < len; t++)
            for (size_t k = 0; k < s->hidden; k++)
                s->acc[k] += hb[t * s->hidden + k];
        double norm = 0;
        for (size_t k = 0; k < s->hidden; k++) {
            s->acc[k] = (double)(float)(s->acc[k] / (double)len);
            norm += s->acc[k] * s->acc[k];
        }
        norm = sqrt(norm);
        nlp_value *vec = h->value_array();
        for (size_t k = 0; k < s->hidden; k++) {
            double x = s->acc[k];
            if (s->normalize && norm > 0)
                x = (double)(float)(x / norm);
            h->value_push(vec, h->value_number(x));
        }
        nlp_value *obj = h->value_object();
        h->value_set(obj, "embedding", vec);
        results[i] = obj;
        r++;
    }
    return NLP_OK;
}

/* In a CSV / JSON Lines corpus: the vector as one column (a JSON array). */
static size_t embed_columns(const nlp_host_api *host, const nlp_task_args *args,
                            nlp_column *out, size_t max)
{
    (void)host;
    (void)args;
    if (max < 1)
        return 0;
    out[0] = (nlp_column){"embedding", NLP_COLUMN_WHOLE, NULL};
    return 1;
}

static const nlp_plugin embed_plugin = {
    NLP_PLUGIN_ABI_VERSION, sizeof(nlp_plugin), "embed", "0.1.0",
    embed_tasks, sizeof embed_tasks / sizeof embed_tasks[0],
    embed_create, embed_run, embed_destroy, embed_columns,
};

NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void);
NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void)
{
    return &embed_plugin;
}
