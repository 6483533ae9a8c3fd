/*
 * keywords.c - an example task plugin, built outside the nlp tree: the task
 * `keywords` picks, for each input text, the words that stand closest to
 * the text as a whole.  A word's vector is the mean of the encoder's last
 * hidden states over its sub-tokens; the text's vector is the mean over all
 * its real tokens ([CLS] and [SEP] included, padding not).  Each word is
 * scored by the cosine of the two, and the --top-k best (default 5) come
 * out as [{"word", "score", "start", "end"}], best first, start / end being
 * character offsets into the input.  Special tokens are never words.
 *
 * It uses nothing but the public header and the host table:
 *
 *     cc -shared -fPIC $(pkg-config --cflags nlp) -o keywords.so keywords.c -lm
 *     NLP_PLUGIN_PATH=$PWD nlp keywords --model DIR "some text"
 *
 * (-lm only for sqrt; the plugin links against nothing of nlp.)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nlp/plugin.h>

/* One word of an input: its token span and its score. */
typedef struct kw_word {
    size_t first, last;     /* token indices, inclusive */
    double score;
} kw_word;

/* What one create() prepares.  The buffers grow to the largest batch and
 * the longest input seen, then are reused. */
typedef struct kw_state {
    const nlp_host_api *host;
    nlp_ctx *ctx;
    const nlp_tokenizer *tok;
    size_t hidden;          /* H */
    size_t max_len;         /* tokens the model takes, specials included */
    size_t top_k;
    size_t cap_in;          /* inputs per run() at most */
    nlp_encoding *enc;      /* [cap_in] */
    int *ok;                /* [cap_in] 1 when enc[i] is usable */
    int32_t *lengths;       /* [cap_in] tokens of each packed row */
    int32_t *ids, *types;   /* [rows][T] */
    size_t cap_bt;
    double *text_vec;       /* [H] */
    double *word_vec;       /* [H] */
    kw_word *words;         /* [cap_words] */
    size_t cap_words;
} kw_state;

static const nlp_option kw_options[] = {
    {"top-k", NLP_OPT_INT, "5", NULL, "how many words to keep per text", "N"},
    {NULL, 0, NULL, NULL, NULL, NULL},
};

static const nlp_task_desc kw_tasks[] = {
    {sizeof(nlp_task_desc), 0, "keywords",
     "the words of each text closest (cosine) to the text's mean vector",
     "sentence-transformers/all-MiniLM-L6-v2", NLP_INPUT_TEXT, kw_options,
     "word,score,start,end", NULL},
};

static void kw_destroy(void *state)
{
    kw_state *s = state;
    if (!s)
        return;
    for (size_t i = 0; i < s->cap_in; i++)
        s->host->encoding_free(&s->enc[i]);
    free(s->enc);
    free(s->ok);
    free(s->lengths);
    free(s->ids);
    free(s->types);
    free(s->text_vec);
    free(s->word_vec);
    free(s->words);
    free(s);
}

/* The longest input the model and its tokenizer take, in tokens. */
static size_t max_tokens(const nlp_host_api *host, const nlp_task_args *args)
{
    size_t n = NLP_HOST_HAS(host, model_max_tokens)
                   ? host->model_max_tokens(args->model)
                   : (size_t)host->model_config(args->model)->max_position_embeddings;
    size_t tok_max = host->model_max_length(args->tokenizer);
    return tok_max && tok_max < n ? tok_max : n;
}

static nlp_status kw_create(const nlp_host_api *host, const nlp_task_args *args,
                            void **state, nlp_error *err)
{
    *state = NULL;
    /* nothing of the table may be used before this check */
    if (host->abi_version != NLP_PLUGIN_ABI_VERSION || host->struct_size < sizeof(nlp_host_api)) {
        err->status = NLP_ERR_ABI;
        snprintf(err->msg, sizeof err->msg,
                 "built for plugin ABI %u, the host speaks ABI %u",
                 NLP_PLUGIN_ABI_VERSION, (unsigned)host->abi_version);
        return NLP_ERR_ABI;
    }
    long k = host->opt_int(args, "top-k", 5);
    if (k < 1)
        return host->error_set(err, NLP_ERR_INVALID_ARG,
                               "--top-k must be at least 1, not %ld", k);
    kw_state *s = calloc(1, sizeof *s);
    if (!s)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory for the state");
    s->host = host;
    s->ctx = args->ctx;
    s->tok = args->tokenizer;
    s->hidden = (size_t)host->model_config(args->model)->hidden_size;
    s->max_len = max_tokens(host, args);
    s->top_k = (size_t)k;
    s->cap_in = args->batch_size ? args->batch_size : 1;
    s->enc = calloc(s->cap_in, sizeof *s->enc);
    s->ok = calloc(s->cap_in, sizeof *s->ok);
    s->lengths = calloc(s->cap_in, sizeof *s->lengths);
    s->text_vec = calloc(s->hidden, sizeof *s->text_vec);
    s->word_vec = calloc(s->hidden, sizeof *s->word_vec);
    if (!s->enc || !s->ok || !s->lengths || !s->text_vec || !s->word_vec) {
        kw_destroy(s);
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory for the buffers");
    }
    *state = s;
    return NLP_OK;
}

/* Room for bt token ids and n words; NLP_OK or NLP_ERR_NOMEM. */
static nlp_status grow(kw_state *s, size_t bt, size_t n_words)
{
    if (bt > s->cap_bt) {
        int32_t *ids = realloc(s->ids, bt * sizeof *ids);
        if (ids)
            s->ids = ids;
        int32_t *types = realloc(s->types, bt * sizeof *types);
        if (types)
            s->types = types;
        if (!ids || !types)
            return NLP_ERR_NOMEM;
        s->cap_bt = bt;
    }
    if (n_words > s->cap_words) {
        kw_word *w = realloc(s->words, n_words * sizeof *w);
        if (!w)
            return NLP_ERR_NOMEM;
        s->words = w;
        s->cap_words = n_words;
    }
    return NLP_OK;
}

/* Tokenize the inputs; one that fails gets its error and drops out.
 * Returns how many are usable and sets *T to the longest. */
static size_t encode_inputs(kw_state *s, const nlp_input *in, size_t n, size_t *T,
                            nlp_error *errs)
{
    nlp_encode_opts opts = {1, s->max_len, NLP_TRUNC_LONGEST_FIRST};
    size_t rows = 0;
    *T = 0;
    for (size_t i = 0; i < n; i++) {
        s->ok[i] = s->host->encode(s->tok, in[i].text, in[i].text_len, NULL, 0, &opts,
                                   &s->enc[i], &errs[i]) == NLP_OK;
        if (!s->ok[i])
            continue;
        if (s->enc[i].n > *T)
            *T = s->enc[i].n;
        rows++;
    }
    return rows;
}

/* The usable encodings as one padded batch of rows x T. */
static nlp_batch pack(kw_state *s, size_t n, size_t rows, size_t T)
{
    int32_t pad = s->host->special_id(s->tok, NLP_SPECIAL_PAD);
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (!s->ok[i])
            continue;
        const nlp_encoding *e = &s->enc[i];
        for (size_t t = 0; t < T; t++) {
            s->ids[r * T + t] = t < e->n ? e->ids[t] : (pad >= 0 ? pad : 0);
            s->types[r * T + t] = t < e->n ? e->type_ids[t] : 0;
        }
        s->lengths[r++] = (int32_t)e->n;
    }
    return (nlp_batch){rows, T, s->ids, s->types, s->lengths};
}

/* out = mean of the hidden states of tokens [from, to] of one row. */
static void mean_states(const float *row, size_t H, size_t from, size_t to, double *out)
{
    memset(out, 0, H * sizeof *out);
    for (size_t t = from; t <= to; t++)
        for (size_t k = 0; k < H; k++)
            out[k] += row[t * H + k];
    for (size_t k = 0; k < H; k++)
        out[k] /= (double)(to - from + 1);
}

/* Cosine similarity of a and b; 0 when either is the zero vector. */
static double cosine(const double *a, const double *b, size_t H)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t k = 0; k < H; k++) {
        ab += a[k] * b[k];
        aa += a[k] * a[k];
        bb += b[k] * b[k];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

/* Score every word of one encoded input against s->text_vec; the words
 * go to s->words, their number is returned.  A word is a run of non-special
 * tokens with the same word index. */
static size_t score_words(kw_state *s, const nlp_encoding *e, const float *row)
{
    size_t m = 0;
    for (size_t t = 0; t < e->n; t++) {
        if (e->special[t] || e->word[t] < 0)
            continue;
        size_t last = t;
        while (last + 1 < e->n && !e->special[last + 1] && e->word[last + 1] == e->word[t])
            last++;
        mean_states(row, s->hidden, t, last, s->word_vec);
        s->words[m++] = (kw_word){t, last, cosine(s->word_vec, s->text_vec, s->hidden)};
        t = last;
    }
    return m;
}

/* Best score first; on a tie, the earlier word. */
static int by_score(const void *pa, const void *pb)
{
    const kw_word *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    return a->first < b->first ? -1 : a->first > b->first;
}

/* The result of one input: its best words as an array of objects. */
static nlp_value *keyword_list(const kw_state *s, const nlp_input *in,
                               const nlp_encoding *e, size_t m)
{
    const nlp_host_api *h = s->host;
    nlp_value *list = h->value_array();
    for (size_t j = 0; j < m && j < s->top_k; j++) {
        const kw_word *w = &s->words[j];
        size_t from = (size_t)e->byte_start[w->first], to = (size_t)e->byte_end[w->last];
        nlp_value *o = h->value_object();
        h->value_set(o, "word", h->value_string(in->text + from, to - from));
        h->value_set(o, "score", h->value_number(w->score));
        h->value_set(o, "start", h->value_int(e->start[w->first]));
        h->value_set(o, "end", h->value_int(e->end[w->last]));
        h->value_push(list, o);
    }
    return list;
}

static nlp_status kw_run(void *state, const nlp_input *inputs, size_t n,
                         nlp_value **results, nlp_error *errs)
{
    kw_state *s = state;
    const nlp_host_api *h = s->host;
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    if (n > s->cap_in)
        return h->error_set(&errs[0], NLP_ERR_INVALID_ARG,
                            "%zu inputs in one run, more than the batch size %zu",
                            n, s->cap_in);
    size_t T;
    size_t rows = encode_inputs(s, inputs, n, &T, errs);
    if (rows == 0)
        return NLP_OK;
    if (grow(s, rows * T, T) != NLP_OK)
        return h->error_set(&errs[0], NLP_ERR_NOMEM,
                            "out of memory for a batch of %zu x %zu tokens", rows, T);
    nlp_batch batch = pack(s, n, rows, T);
    const float *hidden = NULL;   /* [rows][T][H] */
    nlp_status st = h->encoder_forward(s->ctx, &batch, &hidden, &errs[0]);
    if (st != NLP_OK)
        return st;

    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (!s->ok[i])
            continue;
        const float *row = hidden + r++ * T * s->hidden;
        const nlp_encoding *e = &s->enc[i];
        if (e->n == 0) {
            results[i] = h->value_array();
            continue;
        }
        mean_states(row, s->hidden, 0, e->n - 1, s->text_vec);
        size_t m = score_words(s, e, row);
        qsort(s->words, m, sizeof *s->words, by_score);
        results[i] = keyword_list(s, &inputs[i], e, m);
    }
    return NLP_OK;
}

/* In a CSV / JSON Lines corpus: the best word, and the whole list as JSON. */
static size_t kw_columns(const nlp_host_api *host, const nlp_task_args *args,
                         nlp_column *out, size_t max)
{
    static const nlp_column cols[] = {
        {"keyword", NLP_COLUMN_FIELD, "word"},
        {"keywords", NLP_COLUMN_WHOLE, NULL},
    };
    (void)host;
    (void)args;
    size_t n = sizeof cols / sizeof cols[0];
    if (n > max)
        n = max;
    memcpy(out, cols, n * sizeof *out);
    return n;
}

static const nlp_plugin kw_plugin = {
    NLP_PLUGIN_ABI_VERSION, sizeof(nlp_plugin), "keywords", "0.1.0",
    kw_tasks, sizeof kw_tasks / sizeof kw_tasks[0],
    kw_create, kw_run, kw_destroy, kw_columns,
};

NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void);
NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void)
{
    return &kw_plugin;
}
