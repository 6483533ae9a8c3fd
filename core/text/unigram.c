/*
 * unigram.c - the Unigram family (sentencepiece models as T5,
 * XLM-RoBERTa, ALBERT and DeBERTa-v3 ship them in tokenizer.json): the
 * normaliser chain (normalizer.c), the Metaspace / WhitespaceSplit
 * pre-tokenisers, Viterbi segmentation over the vocabulary, byte
 * fallback, and the Metaspace / ByteFallback decoders.
 *
 * Segmentation follows tokenizers' Unigram: the best path maximises the
 * sum of piece scores; a character no piece starts with gets the unknown
 * piece at the lowest score minus 10; ties keep the path found first
 * (earlier start, then shorter piece); consecutive unknown pieces fuse
 * into one; a piece string missing from the vocabulary becomes its
 * <0xNN> byte pieces when byte_fallback is set and all exist, else the
 * unknown id.  The vocabulary sits in a byte trie (added_trie.c), so a
 * position costs at most the longest piece.
 *
 * A model read from a sentencepiece .model (nlp_unigram_attach_spm)
 * segments as sentencepiece does: no pre-tokeniser, path sums rounded to
 * float as it keeps them, a fused run of unknowns always the unknown id
 * (or its bytes), a new word at each piece starting with U+2581.
 *
 * Offsets: a token covers, in the original text, the range from its
 * first normalised byte's alignment start to its last one's end; a "▁"
 * added by Metaspace takes the next character's range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "tokenizer_impl.h"
#include "util/util.h"

enum { PRE_WS, PRE_META };
enum { PREPEND_NEVER, PREPEND_ALWAYS, PREPEND_FIRST };
#define UG_MAX_PRE 8
#define UG_UNK_PENALTY 10.0

typedef struct ug_pre {
    int kind;
    char repl[8];        /* Metaspace replacement (one character) */
    size_t repl_len;
    int prepend;         /* PREPEND_* */
    int split;
} ug_pre;

typedef struct ug_model {
    nlp_added_trie *trie;   /* pieces; payload: id (the last of equal pieces) */
    double *score;          /* [vocab size] */
    int32_t unk_id;         /* -1: none */
    double unk_score;
    int byte_fallback;
    int32_t byte_id[256];   /* id of <0xNN>, -1 absent */
    nlp_normalizer *norm;
    ug_pre pre[UG_MAX_PRE];
    int n_pre;
    int dec_meta, dec_prepend, dec_bytes;
    char dec_repl[8];
    size_t dec_repl_len;
    int spm;                /* sentencepiece's rules (nlp_unigram_attach_spm) */
} ug_model;

/* A path sum as it is kept: sentencepiece keeps floats. */
static double ug_sum(const ug_model *m, double c)
{
    return m->spm ? (double)(float)c : c;
}

/* ------------------------------------------------------------ work space */

typedef struct ug_span_list {
    nlp_span *v;
    size_t n, cap;
} ug_span_list;

typedef struct ug_work {
    nlp_nstr norm, tmp, buf[2];
    ug_span_list sp[2];
    double *best;
    int32_t *from, *id, *nxt, *cp_of;
    size_t vcap;
} ug_work;

static int spans_push(ug_span_list *l, int32_t s, int32_t e)
{
    if (s >= e)
        return 0; /* empty splits are dropped */
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        nlp_span *p = realloc(l->v, cap * sizeof *p);
        if (!p)
            return -1;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = (nlp_span){ s, e };
    return 0;
}

static void work_free(ug_work *w)
{
    nlp_nstr_free(&w->norm);
    nlp_nstr_free(&w->tmp);
    nlp_nstr_free(&w->buf[0]);
    nlp_nstr_free(&w->buf[1]);
    free(w->sp[0].v);
    free(w->sp[1].v);
    free(w->best);
    free(w->from);
    free(w->id);
    free(w->nxt);
    free(w->cp_of);
}

/* Room for a Viterbi over n bytes. */
static int work_lattice(ug_work *w, size_t n)
{
    if (n + 1 <= w->vcap)
        return 0;
    size_t c = (n + 1) * 2;
    double *b = realloc(w->best, c * sizeof *b);
    if (b)
        w->best = b;
    int32_t *f = realloc(w->from, c * sizeof *f);
    if (f)
        w->from = f;
    int32_t *i = realloc(w->id, c * sizeof *i);
    if (i)
        w->id = i;
    int32_t *x = realloc(w->nxt, c * sizeof *x);
    if (x)
        w->nxt = x;
    if (!b || !f || !i || !x)
        return -1;
    w->vcap = c;
    return 0;
}

/* ------------------------------------------------------------ pre-tokenisers */

static int is_space_at(const nlp_nstr *ns, size_t at, size_t *n)
{
    return nlp_is_white_space(nlp_utf8_next((const unsigned char *)ns->s + at, n));
}

/* Copy in[a..b) to out (with alignments); returns 0 or -1. */
static int copy_range(nlp_nstr *out, const nlp_nstr *in, size_t a, size_t b)
{
    size_t at = out->len;
    if (nlp_nstr_put(out, in->s + a, b - a, (nlp_span){ 0, 0 }))
        return -1;
    memcpy(out->al + at, in->al + a, (b - a) * sizeof *in->al);
    return 0;
}

/* WhitespaceSplit: the runs of non-whitespace of each split. */
static int pre_ws(const nlp_nstr *in, const ug_span_list *sp, nlp_nstr *out, ug_span_list *osp)
{
    for (size_t k = 0; k < sp->n; k++) {
        size_t at = (size_t)sp->v[k].s, end = (size_t)sp->v[k].e, n;
        while (at < end) {
            while (at < end && is_space_at(in, at, &n))
                at += n;
            size_t w = at;
            while (at < end && !is_space_at(in, at, &n))
                at += n;
            size_t o = out->len;
            if (at > w && (copy_range(out, in, w, at) || spans_push(osp, (int32_t)o, (int32_t)out->len)))
                return -1;
        }
    }
    return 0;
}

/* Metaspace on one split in[a..b): spaces become the replacement, which
 * is prepended as the scheme says, and the result is cut before every
 * replacement when p->split. */
static int pre_meta_one(const ug_pre *p, const nlp_nstr *in, size_t a, size_t b,
                        int32_t byte_base, nlp_nstr *out, ug_span_list *osp)
{
    size_t o = out->len;
    /* after spaces become the replacement, does the split start with it? */
    int starts = in->s[a] == ' ' || (b - a >= p->repl_len && memcmp(in->s + a, p->repl, p->repl_len) == 0);
    if (!starts && (p->prepend == PREPEND_ALWAYS ||
                    (p->prepend == PREPEND_FIRST && byte_base + in->al[a].s == 0)))
        if (nlp_nstr_put(out, p->repl, p->repl_len, in->al[a]))
            return -1;
    for (size_t at = a; at < b; at++) {
        if (in->s[at] == ' ') {
            if (nlp_nstr_put(out, p->repl, p->repl_len, in->al[at]))
                return -1;
        } else if (copy_range(out, in, at, at + 1)) {
            return -1;
        }
    }
    if (!p->split)
        return spans_push(osp, (int32_t)o, (int32_t)out->len);
    size_t piece = o;
    for (size_t at = o; at < out->len; at++) {
        if (at > piece && out->len - at >= p->repl_len &&
            memcmp(out->s + at, p->repl, p->repl_len) == 0) {
            if (spans_push(osp, (int32_t)piece, (int32_t)at))
                return -1;
            piece = at;
        }
    }
    return spans_push(osp, (int32_t)piece, (int32_t)out->len);
}

/* Run the pre-tokenisers over the split [from, to) of w->norm; the final
 * splits end up in *ns / *sp. */
static int pre_run(const ug_model *m, ug_work *w, size_t from, size_t to, int32_t byte_base,
                   const nlp_nstr **ns, const ug_span_list **sp)
{
    const nlp_nstr *in = &w->norm;
    ug_span_list *isp = &w->sp[0];
    isp->n = 0;
    if (spans_push(isp, (int32_t)from, (int32_t)to))
        return -1;
    for (int i = 0; i < m->n_pre; i++) {
        nlp_nstr *out = &w->buf[i & 1];
        ug_span_list *osp = &w->sp[(i + 1) & 1];
        out->len = 0;
        osp->n = 0;
        if (m->pre[i].kind == PRE_WS) {
            if (pre_ws(in, isp, out, osp))
                return -1;
        } else {
            for (size_t k = 0; k < isp->n; k++)
                if (pre_meta_one(&m->pre[i], in, (size_t)isp->v[k].s, (size_t)isp->v[k].e,
                                 byte_base, out, osp))
                    return -1;
        }
        in = out;
        isp = osp;
    }
    *ns = in;
    *sp = isp;
    return 0;
}

/* ------------------------------------------------------------ Viterbi */

/* Best segmentation of s[0..n): w->from / w->id at each end position. */
static nlp_status viterbi(const ug_model *m, ug_work *w, const unsigned char *s, size_t n)
{
    w->best[0] = 0;
    w->from[0] = 0;
    for (size_t i = 1; i <= n; i++)
        w->from[i] = -1;
    for (size_t at = 0, mb; at < n; at += mb) {
        (void)nlp_utf8_next(s + at, &mb);
        double base = w->from[at] >= 0 ? w->best[at] : 0.0;
        int single = 0;
        int32_t k = 0;
        for (size_t i = at; i < n; i++) {
            if ((k = nlp_added_trie_step(m->trie, k, s[i])) < 0)
                break;
            int32_t id = nlp_added_trie_value(m->trie, k);
            if (id < 0)
                continue;
            double c = base + m->score[id];
            if (w->from[i + 1] < 0 || c > w->best[i + 1]) {
                w->best[i + 1] = ug_sum(m, c);
                w->from[i + 1] = (int32_t)at;
                w->id[i + 1] = id;
            }
            single |= i + 1 - at == mb;
        }
        if (single)
            continue;
        if (m->unk_id < 0)
            return NLP_ERR_INPUT;
        double c = base + m->unk_score;
        if (w->from[at + mb] < 0 || c > w->best[at + mb]) {
            w->best[at + mb] = ug_sum(m, c);
            w->from[at + mb] = (int32_t)at;
            w->id[at + mb] = m->unk_id;
        }
    }
    return NLP_OK;
}

typedef struct ug_emit {
    const nlp_tokenizer *tok;
    const nlp_nstr *ns;
    const int32_t *cp_of;   /* code point of each byte of the segment (and its end) */
    int32_t cp_base, byte_base, word;
    nlp_tok_sink *sink;
} ug_emit;

/* Push the token(s) for bytes [a, b) of e->ns; id < 0: a fused run of
 * unknown characters, looked up by its string. */
static nlp_status emit(const ug_emit *e, int32_t id, size_t a, size_t b)
{
    const ug_model *m = e->tok->model;
    int32_t bs = e->ns->al[a].s, be = e->ns->al[b - 1].e;
    int32_t cs = e->cp_base + e->cp_of[bs], ce = e->cp_base + e->cp_of[be];
    bs += e->byte_base;
    be += e->byte_base;
    if (id >= 0)
        return nlp_tok_sink_push(e->sink, id, e->word, cs, ce, bs, be);
    id = m->spm ? -1 : nlp_vocab_find(&e->tok->vocab, e->ns->s + a, b - a);
    if (id >= 0 && (size_t)id < e->tok->vocab.n_model)
        return nlp_tok_sink_push(e->sink, id, e->word, cs, ce, bs, be);
    int bytes = m->byte_fallback;
    for (size_t i = a; bytes && i < b; i++)
        bytes = m->byte_id[(unsigned char)e->ns->s[i]] >= 0;
    if (!bytes)
        return nlp_tok_sink_push(e->sink, m->unk_id, e->word, cs, ce, bs, be);
    for (size_t i = a; i < b; i++) {
        nlp_status s = nlp_tok_sink_push(e->sink, m->byte_id[(unsigned char)e->ns->s[i]], e->word,
                                         cs, ce, bs, be);
        if (s)
            return s;
    }
    return NLP_OK;
}

/* Segment one split [a, b) of e->ns and push its tokens in order. */
static nlp_status encode_split(const ug_model *m, ug_work *w, ug_emit *e, size_t a, size_t b)
{
    size_t n = b - a;
    nlp_status s = viterbi(m, w, (const unsigned char *)e->ns->s + a, n);
    if (s)
        return s;
    /* forward links start -> end along the best path */
    for (size_t end = n; end > 0;) {
        size_t st = (size_t)w->from[end];
        w->nxt[st] = (int32_t)end;
        end = st;
    }
    for (size_t at = 0; at < n;) {
        size_t end = (size_t)w->nxt[at];
        int32_t id = w->id[end];
        if (m->unk_id >= 0 && id == m->unk_id) { /* fuse the run of unknowns */
            while (end < n && w->id[w->nxt[end]] == m->unk_id)
                end = (size_t)w->nxt[end];
            id = -1;
        }
        if (m->spm && at > 0 && end - at >= 3 && memcmp(e->ns->s + a + at, "\xE2\x96\x81", 3) == 0)
            e->word++; /* a word per U+2581, as Metaspace's split gives */
        if ((s = emit(e, id, a + at, a + end)))
            return s;
        at = end;
    }
    return NLP_OK;
}

/* Pre-tokenise and encode the normalised bytes [from, to) of w->norm. */
static nlp_status encode_range(const nlp_tokenizer *tok, ug_work *w, size_t from, size_t to,
                               ug_emit *e)
{
    const ug_model *m = tok->model;
    const ug_span_list *sp;
    if (pre_run(m, w, from, to, e->byte_base, &e->ns, &sp))
        return NLP_ERR_NOMEM;
    for (size_t k = 0; k < sp->n; k++) {
        if (work_lattice(w, (size_t)(sp->v[k].e - sp->v[k].s)))
            return NLP_ERR_NOMEM;
        nlp_status s = encode_split(m, w, e, (size_t)sp->v[k].s, (size_t)sp->v[k].e);
        if (s)
            return s;
        e->word++;
    }
    return NLP_OK;
}

/* Added tokens marked "normalized" are matched in the normalised text;
 * the pieces between them are encoded. */
static nlp_status encode_normalized(const nlp_tokenizer *tok, ug_work *w, ug_emit *e)
{
    size_t at = 0, len = w->norm.len;
    while (at < len) {
        size_t ms = len, me = len;
        int32_t which = -1;
        if (!nlp_added_trie_find(tok->added_norm, w->norm.s, len, at, &ms, &me, &which))
            ms = me = len;
        nlp_status s = ms > at ? encode_range(tok, w, at, ms, e) : NLP_OK;
        if (s || ms == len)
            return s;
        int32_t bs = w->norm.al[ms].s, be = w->norm.al[me - 1].e;
        if ((s = nlp_tok_sink_push(e->sink, tok->added[which].id, e->word++, e->cp_base + e->cp_of[bs],
                                   e->cp_base + e->cp_of[be], e->byte_base + bs, e->byte_base + be)))
            return s;
        at = me;
    }
    return NLP_OK;
}

static nlp_status ug_encode_segment(const nlp_tokenizer *tok, const char *text, size_t len,
                                    int32_t cp_base, int32_t byte_base, int32_t *word,
                                    nlp_tok_sink *sink, nlp_error *err)
{
    const ug_model *m = tok->model;
    ug_work w = { 0 };
    ug_emit e = { tok, NULL, NULL, cp_base, byte_base, *word, sink };
    nlp_status s = (w.cp_of = malloc((len + 1) * sizeof *w.cp_of)) ? NLP_OK : NLP_ERR_NOMEM;
    if (!s) {
        int32_t cp = 0;
        for (size_t i = 0; i < len; i++) {
            w.cp_of[i] = cp;
            cp += i + 1 == len || ((unsigned char)text[i + 1] & 0xC0) != 0x80;
        }
        w.cp_of[len] = cp;
        e.cp_of = w.cp_of;
        s = nlp_nstr_set(&w.norm, text, len);
    }
    if (!s)
        s = nlp_normalizer_apply(m->norm, &w.norm, &w.tmp);
    if (!s)
        s = tok->added_norm ? encode_normalized(tok, &w, &e) : encode_range(tok, &w, 0, w.norm.len, &e);
    work_free(&w);
    *word = e.word;
    if (s == NLP_ERR_INPUT)
        return nlp_error_set(err, s, "tokenizer: a character has no piece and the Unigram model has no unk_id");
    if (s)
        return nlp_error_set(err, s, s == NLP_ERR_NOMEM ? "tokenizer: out of memory"
                                                        : "tokenizer: normalizer failed");
    return NLP_OK;
}

static nlp_status ug_normalize(const nlp_tokenizer *tok, const char *text, size_t len, char **out,
                               size_t *out_len)
{
    const ug_model *m = tok->model;
    nlp_nstr ns = { 0 }, tmp = { 0 };
    nlp_status s = nlp_nstr_set(&ns, text, len);
    if (!s)
        s = nlp_normalizer_apply(m->norm, &ns, &tmp);
    nlp_nstr_free(&tmp);
    if (s) {
        nlp_nstr_free(&ns);
        return s;
    }
    *out = ns.s;
    *out_len = ns.len;
    free(ns.al);
    return NLP_OK;
}

/* ------------------------------------------------------------ decode */

/* "<0xNN>" -> NN, or -1. */
static int byte_piece(const char *t)
{
    if (strlen(t) != 6 || strncmp(t, "<0x", 3) != 0 || t[5] != '>')
        return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = t[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static nlp_status ug_decode_token(const nlp_tokenizer *tok, size_t k, const char *token,
                                  char **buf, size_t *len, size_t *cap)
{
    const ug_model *m = tok->model;
    int b = m->dec_bytes ? byte_piece(token) : -1;
    if (b >= 0) {
        char one = (char)b;
        return nlp_tok_buf_put(buf, len, cap, &one, 1) ? NLP_ERR_NOMEM : NLP_OK;
    }
    size_t n = strlen(token);
    for (size_t i = 0; i < n;) {
        if (m->dec_meta && n - i >= m->dec_repl_len && memcmp(token + i, m->dec_repl, m->dec_repl_len) == 0) {
            if ((k != 0 || !m->dec_prepend) && nlp_tok_buf_put(buf, len, cap, " ", 1))
                return NLP_ERR_NOMEM;
            i += m->dec_repl_len;
            continue;
        }
        size_t j = i + 1;
        while (j < n && !(m->dec_meta && (unsigned char)token[j] == (unsigned char)m->dec_repl[0]))
            j++;
        if (nlp_tok_buf_put(buf, len, cap, token + i, j - i))
            return NLP_ERR_NOMEM;
        i = j;
    }
    return NLP_OK;
}

static void ug_free(void *model)
{
    ug_model *m = model;
    if (!m)
        return;
    nlp_added_trie_free(m->trie);
    nlp_normalizer_free(m->norm);
    free(m->score);
    free(m);
}

const nlp_tok_ops nlp_unigram_ops = { "Unigram", ug_encode_segment, ug_decode_token, ug_free,
                                      nlp_tok_decode_lossy, ug_normalize, NULL };

/* ------------------------------------------------------------ loading */

/* Metaspace's replacement, prepend_scheme / add_prefix_space and split. */
static nlp_status json_metaspace(const cJSON *j, const char *path, const char *field,
                                 char repl[8], size_t *repl_len, int *prepend, int *split,
                                 nlp_error *err)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "replacement");
    size_t n = cJSON_IsString(r) ? strlen(r->valuestring) : 0, cl = 0;
    if (n > 0 && nlp_utf8_check(r->valuestring, n) == (size_t)-1)
        (void)nlp_utf8_next((const unsigned char *)r->valuestring, &cl);
    if (n == 0 || cl != n)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: %s.replacement must be one character", path, field);
    memcpy(repl, r->valuestring, n);
    *repl_len = n;
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(j, "prepend_scheme");
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(j, "add_prefix_space");
    *prepend = PREPEND_ALWAYS;
    if (cJSON_IsString(ps)) {
        static const char *const names[3] = { "never", "always", "first" };
        int k = 0;
        while (k < 3 && strcmp(ps->valuestring, names[k]) != 0)
            k++;
        if (k == 3)
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: %s.prepend_scheme \"%.20s\" (always, first or never)",
                                 path, field, ps->valuestring);
        *prepend = k;
    } else if (ps && !cJSON_IsNull(ps)) {
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: %s.prepend_scheme is not a string", path, field);
    }
    if (cJSON_IsFalse(ap))
        *prepend = PREPEND_NEVER;
    if (split)
        *split = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "split"));
    return NLP_OK;
}

static nlp_status json_pre(ug_model *m, const cJSON *j, const char *path, const char *field,
                           int depth, nlp_error *err)
{
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(ty))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: %s has no \"type\"", path, field);
    const char *t = ty->valuestring;
    if (strcmp(t, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "pretokenizers"), *x;
        if (!cJSON_IsArray(list) || depth > 8)
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: %s.pretokenizers is missing or not a list", path, field);
        int i = 0;
        cJSON_ArrayForEach(x, list) {
            char sub[96];
            snprintf(sub, sizeof sub, "%.60s.pretokenizers[%d]", field, i++);
            nlp_status s = json_pre(m, x, path, sub, depth + 1, err);
            if (s)
                return s;
        }
        return NLP_OK;
    }
    int ws = strcmp(t, "WhitespaceSplit") == 0;
    if (!ws && strcmp(t, "Metaspace") != 0)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: unsupported pre_tokenizer type \"%.40s\" in %s with Unigram (Metaspace, WhitespaceSplit, Sequence)",
                             path, t, field);
    if (m->n_pre == UG_MAX_PRE)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: unsupported: more than %d pre-tokenizers", path, UG_MAX_PRE);
    ug_pre *p = &m->pre[m->n_pre++];
    p->kind = ws ? PRE_WS : PRE_META;
    return ws ? NLP_OK : json_metaspace(j, path, field, p->repl, &p->repl_len, &p->prepend, &p->split, err);
}

static nlp_status json_decoder(ug_model *m, const cJSON *j, const char *path, const char *field,
                               int depth, nlp_error *err)
{
    if (!j || cJSON_IsNull(j))
        return NLP_OK;
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
    const char *t = cJSON_IsString(ty) ? ty->valuestring : "";
    if (strcmp(t, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "decoders"), *x;
        if (!cJSON_IsArray(list) || depth > 8)
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: %s.decoders is missing or not a list", path, field);
        int i = 0;
        cJSON_ArrayForEach(x, list) {
            char sub[96];
            snprintf(sub, sizeof sub, "%.60s.decoders[%d]", field, i++);
            nlp_status s = json_decoder(m, x, path, sub, depth + 1, err);
            if (s)
                return s;
        }
        return NLP_OK;
    }
    if (strcmp(t, "Metaspace") == 0) {
        m->dec_meta = 1;
        int prepend;
        nlp_status s = json_metaspace(j, path, field, m->dec_repl, &m->dec_repl_len, &prepend, NULL, err);
        m->dec_prepend = prepend != PREPEND_NEVER;
        return s;
    }
    if (strcmp(t, "ByteFallback") == 0) {
        m->dec_bytes = 1;
        return NLP_OK;
    }
    if (strcmp(t, "Fuse") == 0)
        return NLP_OK; /* tokens are concatenated anyway */
    return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: unsupported decoder type \"%.40s\" in %s with Unigram (Metaspace, ByteFallback, Fuse, Sequence)",
                         path, t, field);
}

/* model.vocab: [[piece, score], ...] into the vocabulary, scores and trie. */
static nlp_status json_vocab(nlp_tokenizer *tok, ug_model *m, const cJSON *vocab, const char *path,
                             nlp_error *err)
{
    int n = cJSON_GetArraySize(vocab);
    if (!cJSON_IsArray(vocab) || n == 0 || n > NLP_TOK_MAX_ID)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: model.vocab is missing, empty or not a list of [piece, score]",
                             path);
    if (!(m->score = malloc((size_t)n * sizeof *m->score)))
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    const cJSON *x;
    int32_t id = 0;
    double lo = 0;
    cJSON_ArrayForEach(x, vocab) {
        const cJSON *p = cJSON_GetArrayItem(x, 0), *sc = cJSON_GetArrayItem(x, 1);
        size_t len = cJSON_IsString(p) ? strlen(p->valuestring) : 0;
        if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != 2 || !cJSON_IsString(p) || !cJSON_IsNumber(sc) ||
            len > NLP_TOK_MAX_TOKEN || nlp_utf8_check(p->valuestring, len) != (size_t)-1)
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: model.vocab[%d] is not [piece (UTF-8 string), score (number)]",
                                 path, (int)id);
        m->score[id] = sc->valuedouble;
        lo = id == 0 || sc->valuedouble < lo ? sc->valuedouble : lo;
        if (nlp_vocab_set(&tok->vocab, id, p->valuestring, len))
            return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
        id++;
    }
    m->unk_score = lo - UG_UNK_PENALTY;
    tok->vocab.n_model = (size_t)n;
    if (nlp_vocab_index(&tok->vocab) || nlp_added_trie_new(&m->trie))
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    for (int32_t i = n - 1; i >= 0; i--) { /* last first: equal pieces keep the last id */
        const char *s = nlp_vocab_str(&tok->vocab, i);
        if (nlp_added_trie_add(m->trie, s, tok->vocab.str_len[i], i))
            return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int b = 0; b < 256; b++) {
        char bp[8];
        snprintf(bp, sizeof bp, "<0x%02X>", b);
        m->byte_id[b] = nlp_vocab_find(&tok->vocab, bp, 6);
    }
    return NLP_OK;
}

nlp_status nlp_unigram_from_json(nlp_tokenizer *tok, const cJSON *root, const char *path,
                                 nlp_error *err)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    ug_model *m = calloc(1, sizeof *m);
    if (!m)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    tok->ops = &nlp_unigram_ops;
    tok->model = m;
    m->unk_id = -1;
    nlp_status s = json_vocab(tok, m, cJSON_GetObjectItemCaseSensitive(model, "vocab"), path, err);
    if (s)
        return s;
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_id");
    if (unk && !cJSON_IsNull(unk)) {
        if (!cJSON_IsNumber(unk) || unk->valuedouble < 0 || unk->valuedouble >= (double)tok->vocab.n ||
            unk->valuedouble != (double)(int32_t)unk->valuedouble)
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: model.unk_id is not an index into model.vocab", path);
        m->unk_id = (int32_t)unk->valuedouble;
    }
    const cJSON *bf = cJSON_GetObjectItemCaseSensitive(model, "byte_fallback");
    if (bf && !cJSON_IsBool(bf) && !cJSON_IsNull(bf))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: model.byte_fallback is not a boolean", path);
    m->byte_fallback = cJSON_IsTrue(bf);
    if ((s = nlp_normalizer_from_json(cJSON_GetObjectItemCaseSensitive(root, "normalizer"), path,
                                      &m->norm, err)))
        return s;
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    if (pre && !cJSON_IsNull(pre) && (s = json_pre(m, pre, path, "pre_tokenizer", 0, err)))
        return s;
    return json_decoder(m, cJSON_GetObjectItemCaseSensitive(root, "decoder"), path, "decoder", 0, err);
}

nlp_status nlp_unigram_attach_spm(nlp_tokenizer *tok, nlp_unigram_spec *spec, const char *path,
                                  nlp_error *err)
{
    size_t n = tok->vocab.n_model;
    ug_model *m = calloc(1, sizeof *m);
    if (!m) {
        nlp_normalizer_free(spec->norm);
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    }
    tok->ops = &nlp_unigram_ops;
    tok->model = m;
    m->norm = spec->norm;
    m->spm = 1;
    m->unk_id = spec->unk_id;
    m->unk_score = spec->unk_score;
    m->byte_fallback = m->dec_bytes = spec->byte_fallback;
    m->dec_meta = m->dec_prepend = 1;
    memcpy(m->dec_repl, "\xE2\x96\x81", 4);
    m->dec_repl_len = 3;
    if (!(m->score = malloc((n ? n : 1) * sizeof *m->score)) || nlp_added_trie_new(&m->trie))
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    memcpy(m->score, spec->score, n * sizeof *m->score);
    for (size_t i = n; i-- > 0;) {
        const char *s = nlp_vocab_str(&tok->vocab, (int32_t)i);
        if (s && spec->in_lattice[i] && nlp_added_trie_add(m->trie, s, tok->vocab.str_len[i], (int32_t)i))
            return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int b = 0; b < 256; b++) {
        char bp[8];
        snprintf(bp, sizeof bp, "<0x%02X>", b);
        m->byte_id[b] = nlp_vocab_find(&tok->vocab, bp, 6);
    }
    return NLP_OK;
}
