/*
 * bpe.c - the byte-level BPE family (GPT-2, RoBERTa): the ByteLevel
 * pre-tokeniser (GPT-2's split regex, run with PCRE2, and the byte-to-
 * unicode mapping), merges applied by rank, the post-processor's offset
 * trimming, the ByteLevel decoder, and the tokenizer.json and
 * vocab.json + merges.txt readers.
 *
 * Offsets follow tokenizers: every byte of a character maps back to the
 * whole character, so a token holding part of a multi-byte character
 * covers that character; trim_offsets then drops leading and trailing
 * spaces ("Ġ") from a token's range.
 *
 * Limits: no normaliser, no dropout, no continuing_subword_prefix /
 * end_of_word_suffix; a prefix space added by add_prefix_space takes the
 * first character's offsets (as tokenizers does) but trimming it is
 * computed in code points.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "tokenizer_impl.h"
#include "util/util.h"

/* GPT-2's pre-tokeniser split (tokenizers' ByteLevel with use_regex). */
static const char gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

typedef struct bpe_merge {
    uint64_t key;   /* left id << 32 | right id; UINT64_MAX empty */
    int32_t rank;
    int32_t id;     /* id of the merged token */
} bpe_merge;

typedef struct bpe_model {
    pcre2_code *re;          /* NULL: use_regex false, a segment is one word */
    int add_prefix_space;
    int trim, trim_prefix;   /* post-processor: trim_offsets, add_prefix_space */
    int ignore_merges;       /* a word found whole in the vocabulary is one token */
    int32_t unk_id;
    int32_t byte_id[256];    /* id of each byte's character, -1 absent */
    uint16_t byte_char[256]; /* the byte-to-unicode mapping */
    bpe_merge *merges;
    size_t mask;             /* merges has mask + 1 slots */
    size_t n_merges;
} bpe_model;

/* ------------------------------------------------------------ bytes */

/* GPT-2's bytes_to_unicode: printable bytes stand for themselves, the
 * others get code points from 256 on, in byte order. */
static void byte_map(uint16_t out[256])
{
    unsigned n = 0;
    for (unsigned b = 0; b < 256; b++) {
        int keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
        out[b] = (uint16_t)(keep ? b : 256 + n++);
    }
}

/* The byte a byte-level character stands for, or -1. */
static int char_byte(const bpe_model *m, uint32_t c)
{
    if (c < 256 && m->byte_char[c] == c)
        return (int)c;
    if (c >= 256 && c < 256 + 68)
        for (unsigned b = 0; b < 256; b++)
            if (m->byte_char[b] == c)
                return (int)b;
    return -1;
}

/* ------------------------------------------------------------ merges */

static uint64_t pair_key(int32_t a, int32_t b)
{
    return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
}

static size_t key_slot(uint64_t k, size_t mask)
{
    k ^= k >> 29;
    k *= 0xbf58476d1ce4e5b9ull;
    k ^= k >> 32;
    return (size_t)k & mask;
}

static const bpe_merge *merge_find(const bpe_model *m, int32_t a, int32_t b)
{
    if (!m->merges)
        return NULL;
    uint64_t k = pair_key(a, b);
    for (size_t i = key_slot(k, m->mask);; i = (i + 1) & m->mask) {
        if (m->merges[i].key == k)
            return &m->merges[i];
        if (m->merges[i].key == UINT64_MAX)
            return NULL;
    }
}

/* Room for n merges (before adding them). */
static nlp_status merges_alloc(bpe_model *m, size_t n)
{
    size_t size = 16;
    while (size < 2 * n + 2)
        size *= 2;
    m->merges = malloc(size * sizeof *m->merges);
    if (!m->merges)
        return NLP_ERR_NOMEM;
    for (size_t i = 0; i < size; i++)
        m->merges[i].key = UINT64_MAX;
    m->mask = size - 1;
    return NLP_OK;
}

/* Merge rank of "a b" (its index); a pair listed twice keeps its last
 * rank, as tokenizers' hash map does. */
static nlp_status merge_add(const nlp_tokenizer *tok, bpe_model *m, const char *a, size_t al,
                            const char *b, size_t bl, int32_t rank, const char *path,
                            nlp_error *err)
{
    int32_t ia = nlp_vocab_find(&tok->vocab, a, al), ib = nlp_vocab_find(&tok->vocab, b, bl);
    int32_t ij = nlp_vocab_find2(&tok->vocab, a, al, b, bl);
    if (ia < 0 || ib < 0 || ij < 0)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: merge %d (\"%.*s %.*s\") uses a token that is not in the vocabulary",
                             path, (int)rank + 1, (int)(al > 40 ? 40 : al), a, (int)(bl > 40 ? 40 : bl), b);
    uint64_t k = pair_key(ia, ib);
    size_t i = key_slot(k, m->mask);
    while (m->merges[i].key != UINT64_MAX && m->merges[i].key != k)
        i = (i + 1) & m->mask;
    m->merges[i] = (bpe_merge){ k, rank, ij };
    m->n_merges++;
    return NLP_OK;
}

/* ------------------------------------------------------------ one word */

typedef struct bpe_sym {
    int32_t id, start, end; /* bytes [start, end) of the word */
    int32_t prev, next;     /* neighbours, -1 at the ends; id -1 once merged away */
} bpe_sym;

typedef struct bpe_cand {
    int32_t rank, pos, id;
} bpe_cand;

typedef struct bpe_work {
    bpe_sym *sym;
    bpe_cand *heap;
    size_t cap, nheap;
} bpe_work;

static int cand_before(const bpe_cand *a, const bpe_cand *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void heap_push(bpe_work *w, bpe_cand c)
{
    size_t i = w->nheap++;
    while (i > 0 && cand_before(&c, &w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = c;
}

static bpe_cand heap_pop(bpe_work *w)
{
    bpe_cand top = w->heap[0], last = w->heap[--w->nheap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= w->nheap)
            break;
        if (c + 1 < w->nheap && cand_before(&w->heap[c + 1], &w->heap[c]))
            c++;
        if (!cand_before(&w->heap[c], &last))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (w->nheap)
        w->heap[i] = last;
    return top;
}

/* Queue the merge of symbol i with its right neighbour, if there is one. */
static void queue_pair(const bpe_model *m, bpe_work *w, int32_t i)
{
    if (i < 0 || w->sym[i].next < 0)
        return;
    const bpe_merge *g = merge_find(m, w->sym[i].id, w->sym[w->sym[i].next].id);
    if (g)
        heap_push(w, (bpe_cand){ g->rank, i, g->id });
}

static nlp_status work_reserve(bpe_work *w, size_t n)
{
    if (n <= w->cap)
        return NLP_OK;
    bpe_sym *s = realloc(w->sym, n * sizeof *s);
    if (!s)
        return NLP_ERR_NOMEM;
    w->sym = s;
    /* at most n - 1 initial pairs plus two per merge */
    bpe_cand *h = realloc(w->heap, 3 * n * sizeof *h);
    if (!h)
        return NLP_ERR_NOMEM;
    w->heap = h;
    w->cap = n;
    return NLP_OK;
}

/* BPE over the bytes of one word: symbols linked from sym[0] (or -1 when
 * nothing is left); returns the first symbol. */
static int32_t bpe_word(const bpe_model *m, bpe_work *w, const unsigned char *s, int32_t n)
{
    int32_t count = 0;
    for (int32_t i = 0; i < n; i++) {
        int32_t id = m->byte_id[s[i]] >= 0 ? m->byte_id[s[i]] : m->unk_id;
        if (id < 0)
            continue; /* no such character and no unknown token: dropped */
        w->sym[count] = (bpe_sym){ id, i, i + 1, count - 1, -1 };
        if (count > 0)
            w->sym[count - 1].next = count;
        count++;
    }
    w->nheap = 0;
    for (int32_t i = 0; i + 1 < count; i++)
        queue_pair(m, w, i);
    while (w->nheap) {
        bpe_cand c = heap_pop(w);
        bpe_sym *l = &w->sym[c.pos];
        if (l->id < 0 || l->next < 0)
            continue;
        bpe_sym *r = &w->sym[l->next];
        const bpe_merge *g = merge_find(m, l->id, r->id);
        if (!g || g->rank != c.rank || g->id != c.id)
            continue; /* stale: one side has changed */
        l->id = c.id;
        l->end = r->end;
        l->next = r->next;
        if (r->next >= 0)
            w->sym[r->next].prev = c.pos;
        r->id = -1;
        queue_pair(m, w, l->prev);
        queue_pair(m, w, c.pos);
    }
    return count ? 0 : -1;
}

/* ------------------------------------------------------------ encode */

/* One segment being encoded: its text (with the prefix space, when one
 * is added, at position 0 of str), and where each byte's character
 * starts in the segment and which code point it is. */
typedef struct bpe_seg {
    const char *text;        /* the segment, without the prefix */
    const unsigned char *str;/* what is split: prefix + text */
    int32_t len, prefix;     /* text's length; 1 when a space was prepended */
    int32_t *ch_start, *ch_cp; /* [len] per byte of text */
    int32_t cp_base, byte_base;
} bpe_seg;

/* Original byte/code-point range of bytes [a, b) of seg->str. */
static void seg_range(const bpe_seg *g, int32_t a, int32_t b, int32_t r[4])
{
    int32_t i = a - g->prefix < 0 ? 0 : a - g->prefix;
    int32_t j = b - 1 - g->prefix < 0 ? 0 : b - 1 - g->prefix;
    size_t n;
    int32_t js = g->ch_start[j];
    (void)nlp_utf8_next((const unsigned char *)g->text + js, &n);
    r[0] = g->byte_base + g->ch_start[i];
    r[1] = g->byte_base + js + (int32_t)n;
    r[2] = g->cp_base + g->ch_cp[i];
    r[3] = g->cp_base + g->ch_cp[j] + 1;
}

/* tokenizers' process_offsets: leading / trailing spaces off a token's
 * range r (bytes, then code points; a space is one of each). */
static void trim_range(const bpe_model *m, const unsigned char *t, int32_t n, int first,
                       int32_t r[4])
{
    int32_t lead = 0, trail = 0;
    while (lead < n && t[lead] == ' ')
        lead++;
    while (trail < n && t[n - 1 - trail] == ' ')
        trail++;
    if (lead) {
        if (first && m->trim_prefix && lead == 1)
            lead = 0;
        r[0] = r[0] + lead < r[1] ? r[0] + lead : r[1];
        r[2] = r[2] + lead < r[3] ? r[2] + lead : r[3];
    }
    if (trail && r[1] >= trail) {
        r[1] = r[1] - trail > r[0] ? r[1] - trail : r[0];
        r[3] = r[3] - trail > r[2] ? r[3] - trail : r[2];
    }
}

/* Emit one token covering bytes [a, b) of seg->str. */
static nlp_status emit(const bpe_model *m, const bpe_seg *g, int32_t id, int32_t a, int32_t b,
                       int32_t word, nlp_tok_sink *sink)
{
    int32_t r[4];
    seg_range(g, a, b, r);
    if (m->trim)
        trim_range(m, g->str + a, b - a, nlp_tok_sink_count(sink) == 0 || r[0] == 0, r);
    return nlp_tok_sink_push(sink, id, word, r[2], r[3], r[0], r[1]);
}

/* BPE-encode one pre-token (bytes [a, b) of seg->str). */
static nlp_status encode_word(const nlp_tokenizer *tok, const bpe_seg *g, bpe_work *w,
                              int32_t a, int32_t b, int32_t word, nlp_tok_sink *sink)
{
    const bpe_model *m = tok->model;
    if (m->ignore_merges && b - a <= 128) { /* byte characters take at most 2 bytes */
        char buf[256];
        size_t k = 0;
        for (int32_t i = a; i < b; i++)
            k += nlp_utf8_put(m->byte_char[g->str[i]], buf + k);
        int32_t id = nlp_vocab_find(&tok->vocab, buf, k);
        if (id >= 0)
            return emit(m, g, id, a, b, word, sink);
    }
    nlp_status s = work_reserve(w, (size_t)(b - a));
    if (s)
        return s;
    for (int32_t i = bpe_word(m, w, g->str + a, b - a); i >= 0; i = w->sym[i].next)
        if ((s = emit(m, g, w->sym[i].id, a + w->sym[i].start, a + w->sym[i].end, word, sink)))
            return s;
    return NLP_OK;
}

/* Split seg->str with the regex (matches and the gaps between them are
 * words, tokenizers' "Isolated" behaviour) and encode each word. */
static nlp_status split_words(const nlp_tokenizer *tok, const bpe_seg *g, bpe_work *w,
                              int32_t *word, nlp_tok_sink *sink, nlp_error *err)
{
    const bpe_model *m = tok->model;
    int32_t n = g->len + g->prefix;
    if (!m->re)
        return encode_word(tok, g, w, 0, n, (*word)++, sink);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(m->re, NULL);
    if (!md)
        return NLP_ERR_NOMEM;
    nlp_status s = NLP_OK;
    int32_t at = 0;
    while (!s && at < n) {
        int rc = pcre2_match(m->re, g->str, (size_t)n, (size_t)at, PCRE2_NO_UTF_CHECK, md, NULL);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        int32_t ms = rc > 0 ? (int32_t)ov[0] : n, me = rc > 0 ? (int32_t)ov[1] : n;
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
            s = NLP_ERR_INTERNAL;
            break;
        }
        if (ms > at)
            s = encode_word(tok, g, w, at, ms, (*word)++, sink);
        if (!s && me > ms)
            s = encode_word(tok, g, w, ms, me, (*word)++, sink);
        if (me == ms && ms < n) { /* empty match: step over one character */
            size_t k;
            (void)nlp_utf8_next(g->str + ms, &k);
            if (!s)
                s = encode_word(tok, g, w, ms, ms + (int32_t)k, (*word)++, sink);
            me = ms + (int32_t)k;
        }
        at = me;
    }
    pcre2_match_data_free(md);
    (void)err;
    return s;
}

static nlp_status bpe_encode_segment(const nlp_tokenizer *tok, const char *text, size_t len,
                                     int32_t cp_base, int32_t byte_base, int32_t *word,
                                     nlp_tok_sink *sink, nlp_error *err)
{
    const bpe_model *m = tok->model;
    int prefix = m->add_prefix_space && len > 0 && text[0] != ' ';
    int32_t *idx = malloc(2 * (len ? len : 1) * sizeof *idx);
    unsigned char *str = malloc(len + 1);
    bpe_work w = { 0 };
    nlp_status s = idx && str ? NLP_OK : NLP_ERR_NOMEM;
    if (!s) {
        bpe_seg g = { text, str, (int32_t)len, prefix, idx, idx + len, cp_base, byte_base };
        str[0] = ' ';
        memcpy(str + prefix, text, len);
        int32_t cp = 0;
        for (size_t i = 0; i < len;) {
            size_t n;
            (void)nlp_utf8_next((const unsigned char *)text + i, &n);
            for (size_t k = 0; k < n; k++) {
                idx[i + k] = (int32_t)i;
                idx[len + i + k] = cp;
            }
            i += n;
            cp++;
        }
        s = split_words(tok, &g, &w, word, sink, err);
    }
    free(idx);
    free(str);
    free(w.sym);
    free(w.heap);
    if (s)
        return nlp_error_set(err, s, s == NLP_ERR_NOMEM ? "tokenizer: out of memory"
                                                        : "tokenizer: pre-tokeniser regex failed");
    return NLP_OK;
}

/* ------------------------------------------------------------ decode */

/* The ByteLevel decoder: each character back to its byte (characters
 * outside the mapping, e.g. in added tokens, are kept as they are). */
static nlp_status bpe_decode_token(const nlp_tokenizer *tok, size_t k, const char *token,
                                   char **buf, size_t *len, size_t *cap)
{
    const bpe_model *m = tok->model;
    (void)k;
    for (size_t i = 0, n; token[i]; i += n) {
        uint32_t c = nlp_utf8_next((const unsigned char *)token + i, &n);
        int b = char_byte(m, c);
        char one = (char)b;
        if (b >= 0 ? nlp_tok_buf_put(buf, len, cap, &one, 1)
                   : nlp_tok_buf_put(buf, len, cap, token + i, n))
            return NLP_ERR_NOMEM;
    }
    return NLP_OK;
}

static void bpe_free(void *model)
{
    bpe_model *m = model;
    if (!m)
        return;
    pcre2_code_free(m->re);
    free(m->merges);
    free(m);
}

const nlp_tok_ops nlp_bpe_ops = { "BPE", bpe_encode_segment, bpe_decode_token, bpe_free,
                                  nlp_tok_decode_lossy, NULL, NULL };

/* ------------------------------------------------------------ loading */

/* A new model for tok (vocabulary filled): byte ids, and the regex when
 * use_regex. */
static nlp_status bpe_new(nlp_tokenizer *tok, int use_regex, const char *where, nlp_error *err)
{
    bpe_model *m = calloc(1, sizeof *m);
    if (!m)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", where);
    tok->ops = &nlp_bpe_ops;
    tok->model = m;
    m->unk_id = -1;
    byte_map(m->byte_char);
    for (int b = 0; b < 256; b++) {
        char u[4];
        size_t n = nlp_utf8_put(m->byte_char[b], u);
        m->byte_id[b] = nlp_vocab_find(&tok->vocab, u, n);
    }
    if (!use_regex)
        return NLP_OK;
    int ec;
    PCRE2_SIZE eo;
    m->re = pcre2_compile((PCRE2_SPTR)gpt2_pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                          &ec, &eo, NULL);
    if (!m->re)
        return nlp_error_set(err, NLP_ERR_INTERNAL, "%s: cannot compile the ByteLevel regex (PCRE2 error %d)",
                             where, ec);
    (void)pcre2_jit_compile(m->re, PCRE2_JIT_COMPLETE); /* optional speed-up */
    return NLP_OK;
}

void nlp_bpe_set_trim(nlp_tokenizer *tok, int trim_offsets, int prefix_space)
{
    bpe_model *m = tok->model;
    m->trim = trim_offsets;
    m->trim_prefix = prefix_space;
}

/* One merge given as "a b" or ["a", "b"]. */
static nlp_status json_merge(const nlp_tokenizer *tok, bpe_model *m, const cJSON *x, int32_t rank,
                             const char *path, nlp_error *err)
{
    if (cJSON_IsString(x)) {
        const char *sp = strchr(x->valuestring, ' ');
        if (!sp || strchr(sp + 1, ' '))
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: model.merges[%d] is not two tokens separated by one space",
                                 path, (int)rank);
        return merge_add(tok, m, x->valuestring, (size_t)(sp - x->valuestring), sp + 1,
                         strlen(sp + 1), rank, path, err);
    }
    const cJSON *a = cJSON_GetArrayItem(x, 0), *b = cJSON_GetArrayItem(x, 1);
    if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != 2 || !cJSON_IsString(a) || !cJSON_IsString(b))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: model.merges[%d] is neither \"a b\" nor [\"a\", \"b\"]",
                             path, (int)rank);
    return merge_add(tok, m, a->valuestring, strlen(a->valuestring), b->valuestring,
                     strlen(b->valuestring), rank, path, err);
}

/* The model's options other than vocabulary and merges. */
static nlp_status json_model_opts(nlp_tokenizer *tok, const cJSON *model, const char *path,
                                  nlp_error *err)
{
    bpe_model *m = tok->model;
    static const char *const empty_keys[2] = { "continuing_subword_prefix", "end_of_word_suffix" };
    for (int k = 0; k < 2; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(model, empty_keys[k]);
        if (x && !cJSON_IsNull(x) && !(cJSON_IsString(x) && !*x->valuestring))
            return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: model.%s is not supported with BPE",
                                 path, empty_keys[k]);
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (d && !cJSON_IsNull(d) && !(cJSON_IsNumber(d) && d->valuedouble == 0))
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: model.dropout is not supported", path);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback")))
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: model.byte_fallback is not supported", path);
    m->ignore_merges = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "ignore_merges"));
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (cJSON_IsString(unk) &&
        (m->unk_id = nlp_vocab_find(&tok->vocab, unk->valuestring, strlen(unk->valuestring))) < 0)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: model.unk_token \"%.40s\" is not in the vocabulary",
                             path, unk->valuestring);
    return NLP_OK;
}

/* pre_tokenizer must be ByteLevel; returns its use_regex. */
static nlp_status json_pre_tokenizer(const cJSON *root, const char *path, int *use_regex,
                                     int *prefix, nlp_error *err)
{
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    if (norm && !cJSON_IsNull(norm))
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: a normalizer is not supported with BPE", path);
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(pre, "type");
    if (!cJSON_IsString(pt) || strcmp(pt->valuestring, "ByteLevel") != 0)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: pre_tokenizer type \"%s\" is not supported with BPE (ByteLevel only)",
                             path, cJSON_IsString(pt) ? pt->valuestring : "null");
    const cJSON *ur = cJSON_GetObjectItemCaseSensitive(pre, "use_regex");
    *use_regex = !cJSON_IsFalse(ur);
    *prefix = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pre, "add_prefix_space"));
    return NLP_OK;
}

nlp_status nlp_bpe_from_json(nlp_tokenizer *tok, const cJSON *root, const char *path,
                             nlp_error *err)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    int use_regex = 1, prefix = 0;
    nlp_status s = json_pre_tokenizer(root, path, &use_regex, &prefix, err);
    if (s)
        return s;
    if (!cJSON_IsArray(merges))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: model.merges is missing or not a list", path);
    if ((s = nlp_vocab_from_json(&tok->vocab, cJSON_GetObjectItemCaseSensitive(model, "vocab"), path, err)) ||
        (s = bpe_new(tok, use_regex, path, err)) || (s = json_model_opts(tok, model, path, err)))
        return s;
    bpe_model *m = tok->model;
    m->add_prefix_space = prefix;
    if (merges_alloc(m, (size_t)cJSON_GetArraySize(merges)))
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    int32_t rank = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, merges) {
        if ((s = json_merge(tok, m, x, rank++, path, err)))
            return s;
    }
    /* offsets are trimmed by the post-processors that say so */
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(root, "post_processor");
    const cJSON *ppt = cJSON_GetObjectItemCaseSensitive(pp, "type");
    if (cJSON_IsString(ppt) && (strcmp(ppt->valuestring, "ByteLevel") == 0 ||
                                strcmp(ppt->valuestring, "RobertaProcessing") == 0)) {
        const cJSON *tr = cJSON_GetObjectItemCaseSensitive(pp, "trim_offsets");
        nlp_bpe_set_trim(tok, !cJSON_IsFalse(tr),
                         !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(pp, "add_prefix_space")));
    }
    return NLP_OK;
}

/* merges.txt: "a b" per line, a first line "#version..." skipped. */
static nlp_status read_merges_txt(nlp_tokenizer *tok, bpe_model *m, const char *path,
                                  nlp_error *err)
{
    char *data;
    size_t len;
    nlp_status s = nlp_read_file(path, &data, &len, err);
    if (s)
        return s;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    if (merges_alloc(m, lines)) {
        free(data);
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    }
    int32_t rank = 0;
    for (size_t off = 0, line = 1; !s && off < len; line++) {
        size_t end = off;
        while (end < len && data[end] != '\n')
            end++;
        size_t e = end > off && data[end - 1] == '\r' ? end - 1 : end;
        const char *sp = memchr(data + off, ' ', e - off);
        if (e == off || (line == 1 && e - off >= 8 && memcmp(data + off, "#version", 8) == 0)) {
            /* blank line or the version header */
        } else if (!sp || memchr(sp + 1, ' ', e - (size_t)(sp + 1 - data)) ||
                   nlp_utf8_check(data + off, e - off) != (size_t)-1) {
            s = nlp_error_set(err, NLP_ERR_FORMAT, "%s: line %zu is not two tokens separated by one space",
                              path, line);
        } else {
            s = merge_add(tok, m, data + off, (size_t)(sp - (data + off)), sp + 1,
                          e - (size_t)(sp + 1 - data), rank++, path, err);
        }
        off = end + 1;
    }
    free(data);
    return s;
}

nlp_status nlp_bpe_from_files(nlp_tokenizer *tok, const char *vocab_path, const char *merges_path,
                              int add_prefix_space, int trim_offsets, nlp_error *err)
{
    char *data;
    size_t len;
    nlp_status s = nlp_read_file(vocab_path, &data, &len, err);
    if (s)
        return s;
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    size_t at = end ? (size_t)(end - data) : 0;
    free(data);
    if (!v)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: malformed JSON near byte %zu", vocab_path, at);
    s = nlp_vocab_from_json(&tok->vocab, v, vocab_path, err);
    cJSON_Delete(v);
    if (!s)
        s = bpe_new(tok, 1, vocab_path, err);
    if (s)
        return s;
    bpe_model *m = tok->model;
    m->add_prefix_space = add_prefix_space;
    nlp_bpe_set_trim(tok, trim_offsets, add_prefix_space);
    return read_merges_txt(tok, m, merges_path, err);
}
