/*
 * ner.c - the ner (token-classification) task plugin.
 *
 * *ForTokenClassification: the model's token-classification head (the
 * host runs it, whatever the family names its tensors) over every token's
 * final hidden state, softmax per token, then Hugging Face's
 * TokenClassificationPipeline post-processing:
 *   - pre-entities: every non-template token with its scores, code-point
 *     offsets, and is_subword: for a tokenizer that marks continuations
 *     ("##"), the token's text length differs from the length of the text
 *     it covers; for byte-level BPE and Unigram, Hugging Face's fallback
 *     (neither the character before the token nor its first character is
 *     a space); [UNK] takes the original text and is never a subword;
 *   - words and groups are written as the tokenizer's
 *     convert_tokens_to_string writes them (host->tokens_to_string), so a
 *     byte-level BPE word keeps its leading space (" Paris");
 *   - aggregation none / simple: one entity per token (argmax label);
 *     first / average / max: tokens fused into words first (first token's
 *     label, the label of the averaged scores, the label of the token with
 *     the highest score);
 *   - except for none, adjacent entities with the same tag, the later not
 *     a B-, are grouped into an entity_group with the mean score;
 *   - labels in --ignore-labels (default O) are dropped.
 * Texts longer than the model's maximum length run in overlapping windows
 * (stride --stride, default min(128, window / 2)); entities of all windows
 * are merged as Hugging Face merges them with stride=: sorted by start,
 * an entity starting inside the previous one replaces it when longer, or
 * as long with a higher score.  With aggregation none, "index" is the
 * token's position in the whole encoding ([CLS] = 0).
 *
 * Output per input: an array of {entity_group, score, word, start, end}
 * ({entity, score, index, word, start, end} for none); start / end are
 * code-point offsets into the text.
 */
#include <stdlib.h>
#include <string.h>
#include "nlp/plugin.h"
#include "task_common.h"
#include "tc_window.h"

enum { AGG_NONE, AGG_SIMPLE, AGG_FIRST, AGG_AVERAGE, AGG_MAX };

/* One entity: a token, a word or a group (depending on the stage). */
typedef struct ner_ent {
    int label;          /* label id (tokens and words) */
    const char *tag;    /* group tag, borrowed from a label name (groups) */
    double score;
    long index;         /* token position in [CLS] + text tokens (none) */
    int32_t start, end; /* code points */
    char *word;         /* owned */
    size_t order;       /* creation order, for a stable sort */
} ner_ent;

typedef struct ner_list {
    ner_ent *v;
    size_t n, cap;
} ner_list;

typedef struct ner_state {
    const nlp_host_api *host;
    const nlp_tokenizer *tok;
    nlp_ctx *ctx;
    size_t chunk;             /* windows per forward call */
    int agg;
    char **ignore;
    size_t n_ignore;
    size_t width, stride;     /* window tokens (without template), overlap */
    size_t H, L;
    char **labels;            /* [L], owned */
    int32_t unk_id, pad_id;
    const char *prefix;       /* continuing_subword_prefix or NULL */
    /* per-run scratch, grown as needed */
    nlp_encoding *full;       /* [n] the inputs' tokens, no template */
    size_t cap_full;          /* entries */
    unsigned char *ok;        /* [n] the input encoded */
    size_t cap_ok;            /* bytes */
    nlp_tc_windows ws;        /* windows; ws.out holds the scores [rows][L] */
    /* per-window post-processing scratch */
    char **piece;             /* [tokens] */
    unsigned char *sub;       /* [tokens] */
    size_t *pos;              /* [tokens] */
    size_t cap_piece, cap_sub, cap_pos; /* bytes */
    double *avg;              /* [L] */
} ner_state;

/* ------------------------------------------------------------ strings */

/* Tokens (or words) joined as the tokenizer's convert_tokens_to_string
 * does: a new string (free()) or NULL when out of memory. */
static char *join_tokens(const ner_state *s, char *const *pieces, size_t n)
{
    char *t = NULL, *out = NULL;
    nlp_error err;
    if (s->host->tokens_to_string(s->tok, (const char *const *)pieces, n, &t, &err) != NLP_OK)
        return NULL;
    out = strdup(t);
    s->host->free(t);
    return out;
}

/* Words (already text) of a group joined for a tokenizer without a
 * continuation mark: each word as it is, with one space in front of a word
 * that follows a gap in the text and does not start with a space.  A new
 * string (free()) or NULL when out of memory. */
static char *join_words(const ner_ent *v, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i].word) + 1;
    char *out = malloc(len), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (i && v[i].start > v[i - 1].end && v[i].word[0] != ' ')
            *o++ = ' ';
        size_t l = strlen(v[i].word);
        memcpy(o, v[i].word, l);
        o += l;
    }
    *o = '\0';
    return out;
}

/* Whether token t of e continues the previous token's word, as Hugging
 * Face's gather_pre_entities decides: for a tokenizer that marks
 * continuations ("##") when the token's text differs in length from the
 * text it covers; otherwise (byte-level BPE, Unigram) when neither the
 * character before it nor its first character is a space. */
static int is_subword(const ner_state *s, const nlp_input *in, const nlp_encoding *e,
                      size_t t, const char *token)
{
    if (s->prefix)
        return nlp_tc_utf8_len(token, strlen(token)) != (size_t)(e->end[t] - e->start[t]);
    int32_t b = e->byte_start[t];
    return b > 0 && in->text[b - 1] != ' ' && in->text[b] != ' ';
}

/* ------------------------------------------------------------ entity lists */

static void list_clear(ner_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].word);
    l->n = 0;
}

static void list_free(ner_list *l)
{
    list_clear(l);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Append e (taking its word); on failure frees e.word and returns -1. */
static int list_push(ner_list *l, ner_ent e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        ner_ent *v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            free(e.word);
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    e.order = l->n;
    l->v[l->n++] = e;
    return 0;
}

static size_t argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

/* Hugging Face's get_tag: ("B", rest) for "B-x", ("I", rest) for "I-x",
 * else ("I", name). */
static const char *tag_of(const char *name, char *bi)
{
    if ((name[0] == 'B' || name[0] == 'I') && name[1] == '-') {
        *bi = name[0];
        return name + 2;
    }
    *bi = 'I';
    return name;
}

/* The group name: what follows the first '-', else the whole name. */
static const char *group_name(const char *name)
{
    const char *d = strchr(name, '-');
    return d ? d + 1 : name;
}

static int ignored(const ner_state *s, const char *name)
{
    for (size_t i = 0; i < s->n_ignore; i++)
        if (strcmp(s->ignore[i], name) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ one window */

/* 1 when token t of e is a special token written in the text itself (e.g.
 * "[MASK]"): Hugging Face's special_tokens_mask flags those, and the
 * pipeline leaves them out.  A [UNK] made by WordPiece covers other text
 * and stays. */
static int typed_special(const ner_state *s, const nlp_input *in,
                         const nlp_encoding *e, size_t t)
{
    static const nlp_special which[] = {NLP_SPECIAL_UNK, NLP_SPECIAL_CLS, NLP_SPECIAL_SEP,
                                        NLP_SPECIAL_PAD, NLP_SPECIAL_MASK};
    for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
        if (e->ids[t] != s->host->special_id(s->tok, which[i]))
            continue;
        const char *txt = s->host->special_token(s->tok, which[i]);
        size_t len = (size_t)(e->byte_end[t] - e->byte_start[t]);
        return txt && strlen(txt) == len && memcmp(in->text + e->byte_start[t], txt, len) == 0;
    }
    return 0;
}

/* Token-level (none / simple) or word-level (first / average / max)
 * entities of window w into out.  Returns -1 when out of memory. */
static int window_entities(ner_state *s, const nlp_input *in, const nlp_tc_window *w,
                           ner_list *out)
{
    const nlp_host_api *host = s->host;
    const nlp_encoding *e = &s->full[w->input];
    size_t L = s->L;
    size_t nt = w->b - w->a;
    nlp_error oom;
    if (nlp_tc_reserve(host, (void **)&s->piece, &s->cap_piece, nt * sizeof(char *), &oom) ||
        nlp_tc_reserve(host, (void **)&s->sub, &s->cap_sub, nt, &oom) ||
        nlp_tc_reserve(host, (void **)&s->pos, &s->cap_pos, nt * sizeof(size_t), &oom))
        return -1;
    char **piece = s->piece;     /* [nk] text of each kept token, owned until moved */
    unsigned char *sub = s->sub; /* [nk] the token continues the previous word */
    size_t *pos = s->pos;        /* [nk] kept token -> its offset in the window */
    int rc = -1;
    /* pre-entities: the window's tokens but typed special ones */
    size_t nk = 0;
    for (size_t j = 0; j < nt; j++) {
        size_t t = w->a + j;
        if (typed_special(s, in, e, t))
            continue;
        if (e->ids[t] == s->unk_id) {
            piece[nk] = strndup(in->text + e->byte_start[t],
                                (size_t)(e->byte_end[t] - e->byte_start[t]));
            sub[nk] = 0;
        } else {
            const char *tk = host->id_to_token(s->tok, e->ids[t]);
            if (!tk)
                tk = "";
            piece[nk] = strdup(tk);
            sub[nk] = (unsigned char)is_subword(s, in, e, t, tk);
        }
        if (!piece[nk])
            goto done;
        pos[nk++] = j;
    }
    const float *rows = s->ws.out + (w->row + 1) * L; /* [nt][L] */
#define ROW(m) (rows + pos[m] * L)
    if (s->agg == AGG_NONE || s->agg == AGG_SIMPLE) {
        for (size_t m = 0; m < nk; m++) {
            size_t k = argmax(ROW(m), L);
            ner_ent x = {0};
            x.label = (int)k;
            x.score = ROW(m)[k];
            x.index = (long)(w->a + pos[m] + 1);
            x.start = e->start[w->a + pos[m]];
            x.end = e->end[w->a + pos[m]];
            x.word = piece[m];
            piece[m] = NULL;
            if (list_push(out, x))
                goto done;
        }
        rc = 0;
        goto done;
    }
    /* words: a token flagged as subword joins the current word */
    double *avg = s->avg; /* [L] */
    size_t g0 = 0;
    while (g0 < nk) {
        size_t g1 = g0 + 1;
        while (g1 < nk && sub[g1])
            g1++;
        size_t k = 0;
        double score = 0;
        if (s->agg == AGG_FIRST) {
            k = argmax(ROW(g0), L);
            score = ROW(g0)[k];
        } else if (s->agg == AGG_MAX) {
            size_t best = g0;
            float bmax = ROW(g0)[argmax(ROW(g0), L)];
            for (size_t m = g0 + 1; m < g1; m++) {
                float mx = ROW(m)[argmax(ROW(m), L)];
                if (mx > bmax) {
                    bmax = mx;
                    best = m;
                }
            }
            k = argmax(ROW(best), L);
            score = ROW(best)[k];
        } else { /* average of the scores, then the best label */
            for (size_t c = 0; c < L; c++) {
                double sum = 0;
                for (size_t m = g0; m < g1; m++)
                    sum += ROW(m)[c];
                avg[c] = sum / (double)(g1 - g0);
            }
            for (size_t c = 1; c < L; c++)
                if (avg[c] > avg[k])
                    k = c;
            score = avg[k];
        }
        ner_ent x = {0};
        x.label = (int)k;
        x.score = score;
        x.index = (long)(w->a + pos[g0] + 1);
        x.start = e->start[w->a + pos[g0]];
        x.end = e->end[w->a + pos[g1 - 1]];
        x.word = join_tokens(s, piece + g0, g1 - g0);
        if (!x.word || list_push(out, x))
            goto done;
        g0 = g1;
    }
#undef ROW
    rc = 0;
done:
    for (size_t m = 0; m < nk; m++)
        free(piece[m]);
    return rc;
}

/* Group adjacent entities of `in` (Hugging Face's group_entities) into
 * out; in keeps its words.  Returns -1 when out of memory. */
static int group_entities(ner_state *s, ner_list *in, ner_list *out)
{
    size_t i = 0;
    while (i < in->n) {
        size_t j = i + 1;
        while (j < in->n) {
            char bi, lbi;
            const char *tag = tag_of(s->labels[in->v[j].label], &bi);
            const char *ltag = tag_of(s->labels[in->v[j - 1].label], &lbi);
            if (strcmp(tag, ltag) != 0 || bi == 'B')
                break;
            j++;
        }
        double sum = 0;
        char **words = malloc((j - i) * sizeof(char *));
        if (!words)
            return -1;
        for (size_t k = i; k < j; k++) {
            sum += in->v[k].score;
            words[k - i] = in->v[k].word;
        }
        ner_ent g = {0};
        g.label = in->v[i].label;
        g.tag = group_name(s->labels[in->v[i].label]);
        g.score = sum / (double)(j - i);
        g.index = in->v[i].index;
        g.start = in->v[i].start;
        g.end = in->v[j - 1].end;
        /* token entities (simple) and WordPiece words are joined as
         * Hugging Face joins them; words of other tokenizers are text
         * already, which the decoder would mangle (see join_words) */
        g.word = s->agg == AGG_SIMPLE || s->prefix ? join_tokens(s, words, j - i)
                                                   : join_words(in->v + i, j - i);
        free(words);
        if (!g.word || list_push(out, g))
            return -1;
        i = j;
    }
    return 0;
}

static int cmp_start(const void *pa, const void *pb)
{
    const ner_ent *a = pa, *b = pb;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->order < b->order ? -1 : (a->order > b->order);
}

/* Merge the entities of overlapping windows in place (Hugging Face's
 * aggregate_overlapping_entities). */
static void merge_overlaps(ner_list *l)
{
    if (l->n == 0)
        return;
    qsort(l->v, l->n, sizeof(ner_ent), cmp_start);
    size_t kept = 0;
    ner_ent prev = l->v[0];
    for (size_t i = 1; i < l->n; i++) {
        ner_ent e = l->v[i];
        if (prev.start <= e.start && e.start < prev.end) {
            int32_t cl = e.end - e.start, pl = prev.end - prev.start;
            if (cl > pl || (cl == pl && e.score > prev.score)) {
                free(prev.word);
                prev = e;
            } else {
                free(e.word);
            }
        } else {
            l->v[kept++] = prev;
            prev = e;
        }
    }
    l->v[kept++] = prev;
    l->n = kept;
}

/* The result array of one input's final entities, or NULL (no memory). */
static nlp_value *entities_value(ner_state *s, const ner_list *l)
{
    const nlp_host_api *host = s->host;
    nlp_error e;
    nlp_value *arr = host->value_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < l->n; i++) {
        const ner_ent *x = &l->v[i];
        nlp_value *o = host->value_object();
        if (!o)
            goto fail;
        int bad = 0;
        if (s->agg == AGG_NONE)
            bad |= nlp_tc_set(host, o, "entity", nlp_tc_str(host, s->labels[x->label]), &e) != NLP_OK;
        else
            bad |= nlp_tc_set(host, o, "entity_group", nlp_tc_str(host, x->tag), &e) != NLP_OK;
        bad |= nlp_tc_set(host, o, "score", host->value_number(x->score), &e) != NLP_OK;
        if (s->agg == AGG_NONE)
            bad |= nlp_tc_set(host, o, "index", host->value_int(x->index), &e) != NLP_OK;
        bad |= nlp_tc_set(host, o, "word", nlp_tc_str(host, x->word), &e) != NLP_OK;
        bad |= nlp_tc_set(host, o, "start", host->value_int(x->start), &e) != NLP_OK;
        bad |= nlp_tc_set(host, o, "end", host->value_int(x->end), &e) != NLP_OK;
        if (bad) {
            host->value_free(o);
            goto fail;
        }
        if (nlp_tc_push(host, arr, o, &e) != NLP_OK)
            goto fail;
    }
    return arr;
fail:
    host->value_free(arr);
    return NULL;
}

/* All windows of input i are done: aggregate, filter, merge, render. */
static nlp_value *input_result(ner_state *s, const nlp_input *in,
                               const nlp_tc_window *w, size_t nw)
{
    ner_list all = {0}, tok = {0}, grp = {0};
    nlp_value *v = NULL;
    for (size_t k = 0; k < nw; k++) {
        list_clear(&tok);
        list_clear(&grp);
        if (window_entities(s, in, &w[k], &tok))
            goto done;
        ner_list *final = &tok;
        if (s->agg != AGG_NONE) {
            if (group_entities(s, &tok, &grp))
                goto done;
            final = &grp;
        }
        for (size_t j = 0; j < final->n; j++) {
            ner_ent *x = &final->v[j];
            const char *name = s->agg == AGG_NONE ? s->labels[x->label] : x->tag;
            if (ignored(s, name))
                continue;
            ner_ent c = *x;
            x->word = NULL; /* moved */
            if (list_push(&all, c))
                goto done;
        }
    }
    if (nw > 1)
        merge_overlaps(&all);
    v = entities_value(s, &all);
done:
    list_free(&all);
    list_free(&tok);
    list_free(&grp);
    return v;
}

/* ------------------------------------------------------------ plugin */

static const nlp_option ner_options[] = {
    {"aggregation", NLP_OPT_CHOICE, "none", "none|simple|first|average|max",
     "how tokens are fused into entities (Hugging Face's aggregation_strategy)", NULL},
    {"ignore-labels", NLP_OPT_STRING, "O", NULL,
     "comma-separated labels left out of the output (\"\" keeps all)", "LABEL,..."},
    {"stride", NLP_OPT_INT, NULL, NULL,
     "tokens shared by consecutive windows of a long text (default min(128, window/2))", "N"},
    {NULL, 0, NULL, NULL, NULL, NULL}
};

static const nlp_task_desc ner_tasks[] = {
    {sizeof(nlp_task_desc), NLP_TASK_WINDOWS, "ner",
     "named entities (token classification) of each input text",
     "nlp-mini-ner", NLP_INPUT_TEXT, ner_options,
     "entity_group,entity,score,word,start,end", "ForTokenClassification"},
    {sizeof(nlp_task_desc), NLP_TASK_WINDOWS, "token-classification",
     "a label for each token / word of each input text",
     "nlp-mini-ner", NLP_INPUT_TEXT, ner_options,
     "entity_group,entity,score,word,start,end", "ForTokenClassification"},
};

static void ner_destroy(void *state)
{
    ner_state *s = state;
    if (!s)
        return;
    nlp_tc_encodings_free(s->host, &s->full, &s->cap_full);
    free(s->ok);
    nlp_tc_windows_free(s->host, &s->ws);
    free(s->piece);
    free(s->sub);
    free(s->pos);
    free(s->avg);
    nlp_tc_list_free(s->labels, s->labels ? s->L : 0);
    nlp_tc_list_free(s->ignore, s->n_ignore);
    free(s);
}

static nlp_status ner_create(const nlp_host_api *host, const nlp_task_args *args,
                             void **state, nlp_error *err)
{
    if (!NLP_HOST_HAS(host, subword_prefix))
        return host->error_set(err, NLP_ERR_ABI, "ner: the host is too old");
    ner_state *s = calloc(1, sizeof(*s));
    if (!s)
        return host->error_set(err, NLP_ERR_NOMEM, "ner: out of memory");
    s->host = host;
    s->tok = args->tokenizer;
    s->ctx = args->ctx;
    s->chunk = args->batch_size ? args->batch_size : 8;
    nlp_status st;
    const nlp_config *cfg = host->model_config(args->model);
    s->H = (size_t)cfg->hidden_size;

    if ((st = nlp_tc_head_labels(host, args->model, NLP_HEAD_TOKEN_CLS, &s->L,
                                 &s->labels, err)) != NLP_OK)
        goto fail;
    if (!(s->avg = malloc(s->L * sizeof(double))))
        goto nomem;

    const char *agg = host->opt_string(args, "aggregation");
    static const char *const aggs[] = {"none", "simple", "first", "average", "max"};
    s->agg = agg ? -1 : AGG_NONE;
    for (int i = 0; agg && i < (int)(sizeof(aggs) / sizeof(aggs[0])); i++)
        if (strcmp(agg, aggs[i]) == 0)
            s->agg = i;
    if (s->agg < 0) {
        st = host->error_set(err, NLP_ERR_INVALID_ARG,
                             "--aggregation %s: expected none, simple, first, average or max", agg);
        goto fail;
    }
    const char *ign = host->opt_string(args, "ignore-labels");
    if ((st = nlp_tc_list_split(host, ign ? ign : "", &s->ignore, &s->n_ignore, err)) != NLP_OK)
        goto fail;

    size_t maxlen = nlp_tc_max_length(host, args);
    size_t nsp = host->num_special(args->tokenizer, 0);
    if (maxlen <= nsp + 1) {
        st = host->error_set(err, NLP_ERR_UNSUPPORTED,
                             "ner: the model accepts only %zu tokens", maxlen);
        goto fail;
    }
    s->width = maxlen - nsp;
    if (host->opt_string(args, "stride")) {
        long v = host->opt_int(args, "stride", 0);
        if (v < 0 || (size_t)v >= s->width) {
            st = host->error_set(err, NLP_ERR_INVALID_ARG,
                                 "--stride %ld: must be at least 0 and below the window of %zu tokens",
                                 v, s->width);
            goto fail;
        }
        s->stride = (size_t)v;
    } else {
        s->stride = s->width / 2 < 128 ? s->width / 2 : 128;
    }
    s->unk_id = host->special_id(args->tokenizer, NLP_SPECIAL_UNK);
    s->pad_id = nlp_tc_pad_id(host, args);
    s->prefix = host->subword_prefix(args->tokenizer);
    *state = s;
    return NLP_OK;
nomem:
    st = host->error_set(err, NLP_ERR_NOMEM, "ner: out of memory");
fail:
    ner_destroy(s);
    return st;
}

static nlp_status ner_run(void *state, const nlp_input *inputs, size_t n,
                          nlp_value **results, nlp_error *errs)
{
    ner_state *s = state;
    const nlp_host_api *host = s->host;
    nlp_error fatal = {0};
    nlp_status st;
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    if ((st = nlp_tc_encodings_reserve(host, &s->full, &s->cap_full, n, &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&s->ok, &s->cap_ok, n, &fatal)))
        goto fatal_out;
    /* tokenise every input and cut it into windows with [CLS] ... [SEP] */
    nlp_encode_opts raw = NLP_ENCODE_OPTS_INIT;
    raw.add_special_tokens = 0;
    nlp_tc_windows_clear(&s->ws);
    for (size_t i = 0; i < n; i++) {
        s->ok[i] = 0;
        st = host->encode(s->tok, inputs[i].text, inputs[i].text_len, NULL, 0, &raw,
                          &s->full[i], &errs[i]);
        if (st == NLP_ERR_NOMEM) {
            fatal = errs[i];
            goto fatal_out;
        }
        if (st != NLP_OK)
            continue;
        s->ok[i] = 1;
        if ((st = nlp_tc_windows_add(host, &s->ws, s->tok, i, NULL, &s->full[i], s->width,
                                     s->stride, &fatal)) != NLP_OK)
            goto fatal_out;
    }
    if ((st = nlp_tc_windows_head(host, &s->ws, s->ctx, s->chunk, s->pad_id, s->H,
                                  NLP_HEAD_TOKEN_CLS, s->L, &fatal)) != NLP_OK)
        goto fatal_out;
    if (s->ws.rows > 0)
        host->softmax(s->ws.out, s->ws.rows, s->L); /* [rows][L] */
    /* post-process each input over its windows (none for an empty text) */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!s->ok[i])
            continue;
        size_t first = k, cnt = nlp_tc_windows_next(&s->ws, i, &k);
        results[i] = input_result(s, &inputs[i], s->ws.win + first, cnt);
        if (!results[i]) {
            host->error_set(&fatal, NLP_ERR_NOMEM, "ner: out of memory building the result");
            goto fatal_out;
        }
    }
    return NLP_OK;
fatal_out:
    return nlp_tc_fail_all(host, results, errs, n, &fatal);
}

/* The entities of a text as one column (a JSON list). */
static size_t ner_columns(const nlp_host_api *host, const nlp_task_args *args,
                          nlp_column *out, size_t max)
{
    static const nlp_column all[] = {{"entities", NLP_COLUMN_WHOLE, NULL}};
    (void)host;
    (void)args;
    return nlp_tc_columns_copy(all, 1, out, max);
}

static const nlp_plugin ner_plugin = {
    NLP_PLUGIN_ABI_VERSION,
    sizeof(nlp_plugin),
    "ner",
    NLP_TC_VERSION,
    ner_tasks,
    sizeof(ner_tasks) / sizeof(ner_tasks[0]),
    ner_create,
    ner_run,
    ner_destroy,
    ner_columns,
};

NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void)
{
    return &ner_plugin;
}
