/*
 * tokenizer.c - the public tokenizer API (nlp/tokenizer.h) on top of the
 * family interface of tokenizer_impl.h: loading (tokenizer.json, or
 * vocab.txt + tokenizer_config.json + special_tokens_map.json), the
 * vocabulary hash map, added/special tokens matched in raw text (a trie:
 * leftmost match, longest content there), the BERT template, Hugging Face truncation,
 * encodings, decode, and UTF-8 validation.
 *
 * Added tokens marked "normalized" are matched in the normalised text of
 * the pieces between raw-matched ones, as tokenizers does (a family
 * without a normaliser matches them all in the raw text).  lstrip / rstrip
 * widen a match over the whitespace around it.  Limit: single_word is
 * ignored (neither BERT's nor RoBERTa's tokens use it).  The template
 * (nlp_tok_template) comes from the post-processor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "tokenizer_impl.h"
#include "util/util.h"

/* ------------------------------------------------------------ UTF-8 */

size_t nlp_utf8_check(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t min, cp;
        if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; cp = c & 0x07; }
        else return i;
        if (i + n > len)
            return i;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n;
    }
    return (size_t)-1;
}

/* ------------------------------------------------------------ vocabulary */

static uint32_t hash2(const char *p, size_t pl, const char *s, size_t n)
{
    return nlp_hash_fold(nlp_fnv1a(nlp_fnv1a(NLP_FNV1A_INIT, p, pl), s, n));
}

void nlp_vocab_init(nlp_vocab *v)
{
    memset(v, 0, sizeof *v);
}

void nlp_vocab_free(nlp_vocab *v)
{
    free(v->arena);
    free(v->str_off);
    free(v->str_len);
    free(v->slots);
    free(v->slot_hash);
    memset(v, 0, sizeof *v);
}

/* 1 if token o is s[0..len). */
static inline int vocab_same(const nlp_vocab *v, int32_t o, const char *s, size_t len)
{
    return v->str_len[o] == len && (len == 0 || memcmp(v->arena + v->str_off[o], s, len) == 0);
}

/* Put id (whose string is set) into the hash map; a string already there
 * keeps the larger id, as a full rebuild would. */
static void vocab_hash_put(nlp_vocab *v, int32_t id)
{
    const char *s = v->arena + v->str_off[id];
    size_t len = v->str_len[id];
    uint32_t h = hash2(NULL, 0, s, len);
    size_t k = h & v->mask;
    while (v->slots[k] >= 0) {
        int32_t o = v->slots[k];
        if (v->slot_hash[k] == h && vocab_same(v, o, s, len)) {
            if (o > id)
                return;
            break;
        }
        k = (k + 1) & v->mask;
    }
    v->slots[k] = id;
    v->slot_hash[k] = h;
    if (len > v->max_len)
        v->max_len = len;
}

/* After nlp_vocab_set of id: keep an existing hash map current.  A new
 * string goes in at once (the map is rebuilt, larger, only when it fills
 * up, so appending n tokens costs O(n)); a replaced string means a
 * rebuild. */
static nlp_status vocab_keep_index(nlp_vocab *v, int32_t id, int was_set)
{
    if (!v->slots)
        return NLP_OK;
    if (was_set || 2 * v->n_set + 2 > v->mask + 1)
        return nlp_vocab_index(v);
    vocab_hash_put(v, id);
    return NLP_OK;
}

nlp_status nlp_vocab_set(nlp_vocab *v, int32_t id, const char *s, size_t len)
{
    if (id < 0 || len > UINT32_MAX / 2)
        return NLP_ERR_INVALID_ARG;
    int was_set = (size_t)id < v->n && v->str_off[id] != UINT32_MAX;
    if ((size_t)id >= v->n_cap) {
        size_t c = v->n_cap ? v->n_cap : 1024;
        while (c <= (size_t)id)
            c *= 2;
        uint32_t *o = realloc(v->str_off, c * sizeof *o);
        if (!o)
            return NLP_ERR_NOMEM;
        v->str_off = o;
        uint32_t *l = realloc(v->str_len, c * sizeof *l);
        if (!l)
            return NLP_ERR_NOMEM;
        v->str_len = l;
        v->n_cap = c;
    }
    for (size_t i = v->n; i <= (size_t)id; i++) {
        v->str_off[i] = UINT32_MAX;
        v->str_len[i] = 0;
    }
    if ((size_t)id >= v->n)
        v->n = (size_t)id + 1;
    if (v->arena_len + len + 1 > v->arena_cap) {
        size_t c = v->arena_cap ? v->arena_cap : 65536;
        while (v->arena_len + len + 1 > c)
            c *= 2;
        if (c > UINT32_MAX)
            return NLP_ERR_NOMEM;
        char *a = realloc(v->arena, c);
        if (!a)
            return NLP_ERR_NOMEM;
        v->arena = a;
        v->arena_cap = c;
    }
    memcpy(v->arena + v->arena_len, s, len);
    v->arena[v->arena_len + len] = '\0';
    v->str_off[id] = (uint32_t)v->arena_len;
    v->str_len[id] = (uint32_t)len;
    v->arena_len += len + 1;
    if (!was_set)
        v->n_set++;
    return vocab_keep_index(v, id, was_set);
}

nlp_status nlp_vocab_index(nlp_vocab *v)
{
    size_t size = 16;
    while (size < 2 * v->n_set + 2)
        size *= 2;
    int32_t *slots = malloc(size * sizeof *slots);
    uint32_t *hs = malloc(size * sizeof *hs);
    if (!slots || !hs) {
        free(slots);
        free(hs);
        return NLP_ERR_NOMEM;
    }
    for (size_t i = 0; i < size; i++)
        slots[i] = -1;
    free(v->slots);
    free(v->slot_hash);
    v->slots = slots;
    v->slot_hash = hs;
    v->mask = size - 1;
    v->max_len = 0;
    for (size_t id = 0; id < v->n; id++) {
        if (v->str_off[id] == UINT32_MAX)
            continue;
        const char *s = v->arena + v->str_off[id];
        size_t len = v->str_len[id];
        if (len > v->max_len)
            v->max_len = len;
        uint32_t h = hash2(NULL, 0, s, len);
        size_t k = h & v->mask;
        while (slots[k] >= 0) {
            int32_t o = slots[k];
            if (hs[k] == h && vocab_same(v, o, s, len))
                break; /* repeated string: the later id wins */
            k = (k + 1) & v->mask;
        }
        slots[k] = (int32_t)id;
        hs[k] = h;
    }
    return NLP_OK;
}

int32_t nlp_vocab_find2(const nlp_vocab *v, const char *prefix, size_t plen, const char *s,
                        size_t len)
{
    if (!v->slots)
        return -1;
    uint32_t h = hash2(prefix, plen, s, len);
    size_t k = h & v->mask;
    for (;;) {
        int32_t id = v->slots[k];
        if (id < 0)
            return -1;
        if (v->slot_hash[k] == h && v->str_len[id] == plen + len) {
            const char *t = v->arena + v->str_off[id];
            if ((plen == 0 || memcmp(t, prefix, plen) == 0) &&
                (len == 0 || memcmp(t + plen, s, len) == 0))
                return id;
        }
        k = (k + 1) & v->mask;
    }
}

nlp_status nlp_vocab_from_json(nlp_vocab *v, const cJSON *vocab, const char *path, nlp_error *err)
{
    if (!cJSON_IsObject(vocab))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: model.vocab is missing or not an object", path);
    nlp_status s;
    for (const cJSON *it = vocab->child; it; it = it->next) {
        if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0) || it->valuedouble > NLP_TOK_MAX_ID ||
            it->valuedouble != (double)(int32_t)it->valuedouble)
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: model.vocab[\"%.64s\"] is not a valid id",
                                 path, it->string ? it->string : "");
        size_t klen = strlen(it->string);
        if (klen > NLP_TOK_MAX_TOKEN || nlp_utf8_check(it->string, klen) != (size_t)-1)
            return nlp_error_set(err, NLP_ERR_FORMAT,
                                 "%s: model.vocab entry %d is longer than %d bytes or not valid UTF-8",
                                 path, (int)it->valuedouble, NLP_TOK_MAX_TOKEN);
        if ((s = nlp_vocab_set(v, (int32_t)it->valuedouble, it->string, klen)))
            return nlp_error_set(err, s, "%s: out of memory", path);
    }
    if (v->n == 0)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: model.vocab is empty", path);
    if ((s = nlp_vocab_index(v)))
        return nlp_error_set(err, s, "%s: out of memory", path);
    v->n_model = v->n;
    return NLP_OK;
}

/* ------------------------------------------------------------ templates */

static nlp_tpl_item tpl_special(int32_t id, int32_t role, int32_t type)
{
    return (nlp_tpl_item){ 0, id, role, type };
}

static nlp_tpl_item tpl_text(int32_t which, int32_t type)
{
    return (nlp_tpl_item){ 1, which, -1, type };
}

void nlp_tpl_bert(nlp_tok_template *tp, int32_t cls, int32_t sep)
{
    tp->single[0] = tpl_special(cls, NLP_SPECIAL_CLS, 0);
    tp->single[1] = tpl_text(0, 0);
    tp->single[2] = tpl_special(sep, NLP_SPECIAL_SEP, 0);
    tp->n_single = 3;
    memcpy(tp->pair, tp->single, sizeof tp->single);
    tp->pair[3] = tpl_text(1, 1);
    tp->pair[4] = tpl_special(sep, NLP_SPECIAL_SEP, 1);
    tp->n_pair = 5;
    tp->plain_type_b = 1;
}

void nlp_tpl_roberta(nlp_tok_template *tp, int32_t cls, int32_t sep)
{
    nlp_tpl_bert(tp, cls, sep);
    tp->pair[3] = tpl_special(sep, NLP_SPECIAL_SEP, 0);
    tp->pair[4] = tpl_text(1, 0);
    tp->pair[5] = tpl_special(sep, NLP_SPECIAL_SEP, 0);
    tp->n_pair = 6;
    tp->plain_type_b = 0;
}

void nlp_tpl_none(nlp_tok_template *tp)
{
    tp->single[0] = tpl_text(0, 0);
    tp->n_single = 1;
    tp->pair[0] = tpl_text(0, 0);
    tp->pair[1] = tpl_text(1, 1);
    tp->n_pair = 2;
    tp->plain_type_b = 1;
}

/* ------------------------------------------------------------ encodings */

struct nlp_tok_sink {
    nlp_encoding *enc;
    int32_t seq;
    size_t base;  /* enc->n when the current text began */
};

size_t nlp_tok_sink_count(const nlp_tok_sink *sink)
{
    return sink->enc->n - sink->base;
}

static int enc_reserve(nlp_encoding *e, size_t need)
{
    if (need <= e->cap)
        return 0;
    size_t c = e->cap ? e->cap : 64;
    while (c < need)
        c *= 2;
#define GROW(field)                                                  \
    do {                                                             \
        void *p = realloc(e->field, c * sizeof *e->field);           \
        if (!p)                                                      \
            return -1;                                               \
        e->field = p;                                                \
    } while (0)
    GROW(ids); GROW(type_ids); GROW(special); GROW(seq); GROW(word);
    GROW(start); GROW(end); GROW(byte_start); GROW(byte_end);
#undef GROW
    e->cap = c;
    return 0;
}

static void enc_set(nlp_encoding *e, size_t i, int32_t id, int32_t type, int special,
                    int32_t seq, int32_t word, int32_t s, int32_t en, int32_t bs, int32_t be)
{
    e->ids[i] = id;
    e->type_ids[i] = type;
    e->special[i] = (uint8_t)special;
    e->seq[i] = seq;
    e->word[i] = word;
    e->start[i] = s;
    e->end[i] = en;
    e->byte_start[i] = bs;
    e->byte_end[i] = be;
}

/* Move count entries from src to dst (ranges may overlap). */
static void enc_move(nlp_encoding *e, size_t dst, size_t src, size_t count)
{
    if (dst == src || count == 0)
        return;
#define MV(f) memmove(e->f + dst, e->f + src, count * sizeof *e->f)
    MV(ids); MV(type_ids); MV(special); MV(seq); MV(word);
    MV(start); MV(end); MV(byte_start); MV(byte_end);
#undef MV
}

nlp_status nlp_tok_sink_push(nlp_tok_sink *sink, int32_t id, int32_t word, int32_t cp_start,
                             int32_t cp_end, int32_t byte_start, int32_t byte_end)
{
    nlp_encoding *e = sink->enc;
    if (enc_reserve(e, e->n + 1))
        return NLP_ERR_NOMEM;
    enc_set(e, e->n++, id, sink->seq, 0, sink->seq, word, cp_start, cp_end, byte_start, byte_end);
    return NLP_OK;
}

void nlp_encoding_free(nlp_encoding *e)
{
    if (!e)
        return;
    free(e->ids); free(e->type_ids); free(e->special); free(e->seq); free(e->word);
    free(e->start); free(e->end); free(e->byte_start); free(e->byte_end);
    memset(e, 0, sizeof *e);
}

/* ------------------------------------------------------------ loading */

static const char *const special_key[5] = { "unk_token", "cls_token", "sep_token", "pad_token",
                                            "mask_token" };
static const char *const special_default[5] = { "[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]" };
/* RoBERTa's names, the defaults of the byte-level BPE tokenizers */
static const char *const special_default_bpe[5] = { "<unk>", "<s>", "</s>", "<pad>", "<mask>" };

void nlp_tokenizer_free(nlp_tokenizer *tok)
{
    if (!tok)
        return;
    if (tok->ops && tok->ops->free_model)
        tok->ops->free_model(tok->model);
    nlp_vocab_free(&tok->vocab);
    nlp_vocab_free(&tok->added_index);
    for (size_t i = 0; i < tok->n_added; i++) {
        free(tok->added[i].content);
        free(tok->added[i].norm);
    }
    free(tok->added);
    nlp_added_trie_free(tok->added_raw);
    nlp_added_trie_free(tok->added_norm);
    for (int i = 0; i < 5; i++)
        free(tok->special_str[i]);
    free(tok);
}

static nlp_tokenizer *tok_new(void)
{
    nlp_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    nlp_vocab_init(&t->vocab);
    nlp_vocab_init(&t->added_index);
    for (int i = 0; i < 5; i++)
        t->special_id[i] = -1;
    t->clean_up_spaces = 1;
    return t;
}

/* content as printable ASCII for messages: other bytes as \xNN, cut at
 * 40 bytes. */
static void printable(char *out, size_t cap, const char *content)
{
    size_t k = 0;
    for (const unsigned char *c = (const unsigned char *)content; *c && k + 5 < cap; c++) {
        if (*c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\')
            out[k++] = (char)*c;
        else
            k += (size_t)snprintf(out + k, cap - k, "\\x%02x", *c);
        if (c - (const unsigned char *)content >= 40) {
            k += (size_t)snprintf(out + k, cap - k, "...");
            break;
        }
    }
    out[k] = '\0';
}

/* Add (or update) an added token read from file `where`.  Its content
 * must be valid UTF-8 (it is normalised and matched by code points). */
static nlp_status tok_add(nlp_tokenizer *t, const char *content, int32_t id, int special,
                          int normalized, int strip, const char *where, nlp_error *err)
{
    size_t clen = strlen(content);
    if (clen > NLP_TOK_MAX_TOKEN)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: added token %d is longer than %d bytes", where,
                             (int)id, NLP_TOK_MAX_TOKEN);
    size_t bad = nlp_utf8_check(content, clen);
    if (bad != (size_t)-1) {
        char shown[200];
        printable(shown, sizeof shown, content);
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "%s: added token \"%s\" (id %d) is not valid UTF-8 (byte %zu)", where,
                             shown, (int)id, bad);
    }
    int32_t i = nlp_vocab_find(&t->added_index, content, clen);
    if (i >= 0) {
        t->added[i].id = id;
        t->added[i].special |= special;
        t->added[i].normalized = normalized;
        t->added[i].strip = strip;
        return NLP_OK;
    }
    if (t->n_added == t->added_cap) { /* doubling: appending n tokens copies O(n) */
        size_t cap = t->added_cap ? 2 * t->added_cap : 16;
        nlp_added_token *na = realloc(t->added, cap * sizeof *na);
        if (!na)
            return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", where);
        t->added = na;
        t->added_cap = cap;
    }
    nlp_added_token *a = t->added;
    char *c = strdup(content);
    if (!c || (!t->added_index.slots && nlp_vocab_index(&t->added_index)) ||
        nlp_vocab_set(&t->added_index, (int32_t)t->n_added, content, clen)) {
        free(c);
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", where);
    }
    a[t->n_added++] = (nlp_added_token){ c, id, special, normalized, NULL, strip };
    return NLP_OK;
}

/* The matchers for the added tokens: one over raw text, one over
 * normalised text for the tokens marked "normalized" (their content
 * normalised by the model's normaliser).  Payloads are indices into
 * t->added, in order, so a content shared by two tokens matches the first. */
static nlp_status tok_compile_added(nlp_tokenizer *t, const char *where, nlp_error *err)
{
    if (t->n_added == 0)
        return NLP_OK;
    nlp_status s = nlp_added_trie_new(&t->added_raw);
    if (!s)
        s = nlp_added_trie_new(&t->added_norm);
    for (size_t i = 0; !s && i < t->n_added; i++) {
        nlp_added_token *a = &t->added[i];
        if (!a->normalized || !t->ops->normalize) {
            s = nlp_added_trie_add(t->added_raw, a->content, strlen(a->content), (int32_t)i);
            continue;
        }
        size_t len;
        if (!(s = t->ops->normalize(t, a->content, strlen(a->content), &a->norm, &len)))
            s = nlp_added_trie_add(t->added_norm, a->norm, len, (int32_t)i);
    }
    if (s)
        return nlp_error_set(err, s, "%s: out of memory", where);
    if (nlp_added_trie_empty(t->added_raw)) {
        nlp_added_trie_free(t->added_raw);
        t->added_raw = NULL;
    }
    if (nlp_added_trie_empty(t->added_norm)) {
        nlp_added_trie_free(t->added_norm);
        t->added_norm = NULL;
    }
    return NLP_OK;
}

/* A special token entry of a config: "[CLS]" or {"content": "[CLS]", ...}. */
static const char *json_token_str(const cJSON *x)
{
    if (cJSON_IsString(x))
        return x->valuestring;
    if (cJSON_IsObject(x)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(x, "content");
        if (cJSON_IsString(c))
            return c->valuestring;
    }
    return NULL;
}

static nlp_status json_load(const char *path, cJSON **out, nlp_error *err)
{
    char *data;
    size_t len;
    *out = NULL;
    nlp_status s = nlp_read_file(path, &data, &len, err);
    if (s)
        return s;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    if (!j) {
        size_t off = end ? (size_t)(end - data) : 0;
        free(data);
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: malformed JSON near byte %zu", path, off);
    }
    free(data);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: not a JSON object", path);
    }
    *out = j;
    return NLP_OK;
}

/* Optional JSON file: absent is fine (*out NULL), malformed is an error. */
static nlp_status json_load_opt(const char *dir, const char *name, cJSON **out, nlp_error *err)
{
    *out = NULL;
    char *p = nlp_path_join(dir, name);
    if (!p)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
    nlp_status s = NLP_OK;
    if (nlp_file_exists(p))
        s = json_load(p, out, err);
    free(p);
    return s;
}

/* Settings of tokenizer_config.json shared by both loading paths. */
static void tok_read_config(nlp_tokenizer *t, const cJSON *cfg)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(cfg, "model_max_length");
    /* transformers writes a huge sentinel (1e30) when there is no limit */
    if (cJSON_IsNumber(x) && x->valuedouble > 0 && x->valuedouble < 1e9)
        t->model_max_length = (size_t)x->valuedouble;
    x = cJSON_GetObjectItemCaseSensitive(cfg, "clean_up_tokenization_spaces");
    if (cJSON_IsBool(x))
        t->clean_up_spaces = cJSON_IsTrue(x);
}

/* The id of special token content nm in the vocabulary or the added
 * tokens, or -1. */
static int32_t tok_id_of(const nlp_tokenizer *t, const char *nm)
{
    int32_t id = nlp_vocab_find(&t->vocab, nm, strlen(nm));
    for (size_t k = 0; id < 0 && k < t->n_added; k++)
        if (strcmp(t->added[k].content, nm) == 0)
            id = t->added[k].id;
    return id;
}

/* Set special_id/special_str from names[] (NULL = default), when the
 * token exists. */
static nlp_status tok_set_specials(nlp_tokenizer *t, const char *const names[5],
                                   const char *const dflt[5])
{
    for (int i = 0; i < 5; i++) {
        const char *nm = names[i] ? names[i] : dflt[i];
        int32_t id = tok_id_of(t, nm);
        if (id < 0)
            continue;
        free(t->special_str[i]);
        t->special_str[i] = strdup(nm);
        if (!t->special_str[i])
            return NLP_ERR_NOMEM;
        t->special_id[i] = id;
    }
    return NLP_OK;
}

/* The lstrip / rstrip flags of an added-token object (lstrip_dflt when
 * the entry does not say, e.g. a plain string). */
static int json_strip(const cJSON *a, int lstrip_dflt)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(a, "lstrip");
    int ls = cJSON_IsBool(l) ? cJSON_IsTrue(l) : lstrip_dflt;
    return (ls ? NLP_ADDED_LSTRIP : 0) |
           (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "rstrip")) ? NLP_ADDED_RSTRIP : 0);
}

/* An id as JSON writes it: an integer in [0, NLP_TOK_MAX_ID]. */
static int json_id(const cJSON *x, int32_t *out)
{
    if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0) || x->valuedouble > NLP_TOK_MAX_ID ||
        x->valuedouble != (double)(int32_t)x->valuedouble)
        return 0;
    *out = (int32_t)x->valuedouble;
    return 1;
}

/* tokenizer.json's "added_tokens": ids missing from the vocabulary are
 * added to it (indexed once, at the end). */
static nlp_status json_added_tokens(nlp_tokenizer *t, const cJSON *added, const char *path,
                                    nlp_error *err)
{
    const cJSON *a;
    nlp_status s = NLP_OK;
    int grown = 0;
    cJSON_ArrayForEach(a, added) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "content");
        int32_t iid;
        if (!json_id(cJSON_GetObjectItemCaseSensitive(a, "id"), &iid) || !cJSON_IsString(c))
            return nlp_error_set(err, NLP_ERR_FORMAT,
                                 "%s: malformed entry in added_tokens (an integer \"id\" in [0, %d] and a \"content\" string are needed)",
                                 path, NLP_TOK_MAX_ID);
        int special = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "special"));
        const cJSON *nz = cJSON_GetObjectItemCaseSensitive(a, "normalized");
        if ((s = tok_add(t, c->valuestring, iid, special,
                         cJSON_IsBool(nz) ? cJSON_IsTrue(nz) : !special, json_strip(a, 0), path, err)))
            return s;
        if (!nlp_vocab_str(&t->vocab, iid)) {
            if ((s = nlp_vocab_set(&t->vocab, iid, c->valuestring, strlen(c->valuestring))))
                return nlp_error_set(err, s, "%s: out of memory", path);
            grown = 1;
        }
    }
    if (grown && (s = nlp_vocab_index(&t->vocab)))
        return nlp_error_set(err, s, "%s: out of memory", path);
    return NLP_OK;
}

/* One item of a TemplateProcessing "single" / "pair" list. */
static nlp_status tpl_parse_item(const nlp_tokenizer *t, const cJSON *it, const cJSON *specials,
                                 nlp_tpl_item *out, const char *path, nlp_error *err)
{
    const cJSON *sq = cJSON_GetObjectItemCaseSensitive(it, "Sequence");
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
    const cJSON *body = sq ? sq : sp;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "id");
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(body, "type_id");
    int32_t type = 0;
    if (!cJSON_IsString(id) || (ty && !json_id(ty, &type)))
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "%s: post_processor template item needs {\"Sequence\"|\"SpecialToken\": {\"id\": string, \"type_id\": integer}}", path);
    if (sq) {
        if (strcmp(id->valuestring, "A") != 0 && strcmp(id->valuestring, "B") != 0)
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: post_processor template sequence \"%.40s\" (A or B expected)",
                                 path, id->valuestring);
        *out = tpl_text(id->valuestring[0] == 'B', type);
        return NLP_OK;
    }
    /* the special's ids come from "special_tokens"; one id per special */
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(specials, id->valuestring);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(st, "ids");
    int32_t v = -1;
    if (cJSON_IsArray(ids) && (cJSON_GetArraySize(ids) != 1 || !json_id(ids->child, &v)))
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: post_processor special token \"%.40s\" must have exactly one id",
                             path, id->valuestring);
    if (v < 0)
        v = tok_id_of(t, id->valuestring);
    *out = tpl_special(v, -1, type);
    return NLP_OK;
}

/* A TemplateProcessing list into items[] (at most NLP_TPL_MAX, A before B). */
static nlp_status tpl_parse_list(const nlp_tokenizer *t, const cJSON *list, const cJSON *specials,
                                 nlp_tpl_item *items, int *n, const char *path, nlp_error *err)
{
    const cJSON *it;
    int seen_b = 0;
    *n = 0;
    if (!cJSON_IsArray(list))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: post_processor template is not a list", path);
    cJSON_ArrayForEach(it, list) {
        if (*n == NLP_TPL_MAX)
            return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: post_processor template longer than %d items",
                                 path, NLP_TPL_MAX);
        nlp_status s = tpl_parse_item(t, it, specials, &items[*n], path, err);
        if (s)
            return s;
        if (items[*n].is_text && (items[*n].id == 0 ? seen_b : seen_b++))
            return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: post_processor template must name A once, before B",
                                 path);
        (*n)++;
    }
    return NLP_OK;
}

/* The template of a BPE or Unigram tokenizer from its post_processor. */
static nlp_status tok_json_template(nlp_tokenizer *t, const cJSON *pp, const char *path,
                                    nlp_error *err)
{
    const cJSON *ppt = cJSON_GetObjectItemCaseSensitive(pp, "type");
    nlp_tpl_none(&t->tpl);
    if (!pp || cJSON_IsNull(pp) || (cJSON_IsString(ppt) && strcmp(ppt->valuestring, "ByteLevel") == 0))
        return NLP_OK;
    if (cJSON_IsString(ppt) && strcmp(ppt->valuestring, "RobertaProcessing") == 0) {
        nlp_tpl_roberta(&t->tpl, t->special_id[NLP_SPECIAL_CLS], t->special_id[NLP_SPECIAL_SEP]);
        return NLP_OK;
    }
    if (!cJSON_IsString(ppt) || strcmp(ppt->valuestring, "TemplateProcessing") != 0)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: post_processor type \"%s\" is not supported with %s",
                             path, cJSON_IsString(ppt) ? ppt->valuestring : "?", t->ops->name);
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
    nlp_status s = tpl_parse_list(t, cJSON_GetObjectItemCaseSensitive(pp, "single"), sp,
                                  t->tpl.single, &t->tpl.n_single, path, err);
    if (!s)
        s = tpl_parse_list(t, cJSON_GetObjectItemCaseSensitive(pp, "pair"), sp, t->tpl.pair,
                           &t->tpl.n_pair, path, err);
    return s;
}

static nlp_status load_from_json(const char *dir, const char *path, nlp_tokenizer **out,
                                 nlp_error *err)
{
    cJSON *root = NULL, *cfg = NULL;
    nlp_status s = json_load(path, &root, err);
    if (s)
        return s;
    nlp_tokenizer *t = NULL;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (!cJSON_IsObject(model)) {
        s = nlp_error_set(err, NLP_ERR_FORMAT, "%s: no \"model\" object", path);
        goto done;
    }
    /* old files omit the type; the model is then recognised by its
     * fields: BPE has "merges", WordPiece a continuing_subword_prefix,
     * Unigram a list of [piece, score] as its vocab */
    int bpe = cJSON_IsString(type) ? strcmp(type->valuestring, "BPE") == 0
                                   : cJSON_GetObjectItemCaseSensitive(model, "merges") != NULL;
    int unigram = cJSON_IsString(type) ? strcmp(type->valuestring, "Unigram") == 0
                                       : cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(model, "vocab"));
    if (!cJSON_IsString(type) && !bpe && !unigram &&
        !cJSON_GetObjectItemCaseSensitive(model, "continuing_subword_prefix")) {
        s = nlp_error_set(err, NLP_ERR_FORMAT, "%s: model.type is missing", path);
        goto done;
    } else if (cJSON_IsString(type) && !bpe && !unigram && strcmp(type->valuestring, "WordPiece") != 0) {
        s = nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: model type \"%s\" is not supported (WordPiece, BPE and Unigram only)",
                          path, type->valuestring);
        goto done;
    }
    if ((s = json_load_opt(dir, "tokenizer_config.json", &cfg, err)))
        goto done;
    if (!(t = tok_new())) {
        s = nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    /* transformers' BertTokenizerFast rebuilds the normaliser from
     * tokenizer_config.json's do_lower_case / strip_accents /
     * tokenize_chinese_chars; we apply the keys the config states. */
    cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    const cJSON *nt = cJSON_GetObjectItemCaseSensitive(norm, "type");
    if (cfg && cJSON_IsString(nt) && strcmp(nt->valuestring, "BertNormalizer") == 0) {
        static const char *const keys[3][2] = { { "do_lower_case", "lowercase" },
                                                { "strip_accents", "strip_accents" },
                                                { "tokenize_chinese_chars", "handle_chinese_chars" } };
        for (int k = 0; k < 3; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, keys[k][0]);
            if (cJSON_IsBool(v) || (k == 1 && cJSON_IsNull(v))) {
                cJSON *nv = cJSON_Duplicate(v, 0);
                if (!nv) {
                    s = nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
                    goto done;
                }
                cJSON_DeleteItemFromObjectCaseSensitive(norm, keys[k][1]);
                cJSON_AddItemToObject(norm, keys[k][1], nv);
            }
        }
    }
    if ((s = bpe       ? nlp_bpe_from_json(t, root, path, err)
             : unigram ? nlp_unigram_from_json(t, root, path, err)
                       : nlp_wordpiece_from_json(t, root, path, err)))
        goto done;
    if ((s = json_added_tokens(t, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), path, err)))
        goto done;
    const cJSON *a;
    /* Special-token names: [CLS]/[SEP] from the post-processor, the rest
     * from the model and tokenizer_config.json, BERT's names otherwise. */
    const char *names[5] = { NULL, NULL, NULL, NULL, NULL };
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (cJSON_IsString(unk))
        names[NLP_SPECIAL_UNK] = unk->valuestring;
    if (unigram && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(model, "unk_id")))
        names[NLP_SPECIAL_UNK] = nlp_vocab_str(&t->vocab, cJSON_GetObjectItemCaseSensitive(model, "unk_id")->valueint);
    for (int i = 1; i < 5; i++) {
        const char *v = json_token_str(cJSON_GetObjectItemCaseSensitive(cfg, special_key[i]));
        if (v)
            names[i] = v;
    }
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(root, "post_processor");
    const cJSON *ppt = cJSON_GetObjectItemCaseSensitive(pp, "type");
    if (cJSON_IsString(ppt) && (strcmp(ppt->valuestring, "BertProcessing") == 0 ||
                                strcmp(ppt->valuestring, "RobertaProcessing") == 0)) {
        const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pp, "cls"), 0);
        const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pp, "sep"), 0);
        if (cJSON_IsString(c))
            names[NLP_SPECIAL_CLS] = c->valuestring;
        if (cJSON_IsString(e))
            names[NLP_SPECIAL_SEP] = e->valuestring;
    } else if (cJSON_IsString(ppt) && strcmp(ppt->valuestring, "TemplateProcessing") == 0) {
        const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single");
        const char *first = NULL, *last = NULL;
        cJSON_ArrayForEach(a, single) {
            const cJSON *sp = cJSON_GetObjectItemCaseSensitive(a, "SpecialToken");
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(sp, "id");
            if (cJSON_IsString(id)) {
                if (!first && !cJSON_GetObjectItemCaseSensitive(a, "Sequence") && !last)
                    first = id->valuestring;
                last = id->valuestring;
            } else if (!first) {
                first = ""; /* the template starts with the text: no leading special */
            }
        }
        if (first && *first)
            names[NLP_SPECIAL_CLS] = first;
        if (last)
            names[NLP_SPECIAL_SEP] = last;
    }
    if ((s = tok_set_specials(t, names, bpe || unigram ? special_default_bpe : special_default))) {
        s = nlp_error_set(err, s, "%s: out of memory", path);
        goto done;
    }
    /* WordPiece takes BERT's template, or RoBERTa's <s> A </s></s> B </s>
     * when its post-processor says so (MPNet) */
    const int wp_roberta = cJSON_IsString(ppt) && strcmp(ppt->valuestring, "RobertaProcessing") == 0;
    if (!bpe && !unigram && !wp_roberta)
        nlp_tpl_bert(&t->tpl, t->special_id[NLP_SPECIAL_CLS], t->special_id[NLP_SPECIAL_SEP]);
    else if ((s = tok_json_template(t, pp, path, err)))
        goto done;
    tok_read_config(t, cfg);
    if ((s = tok_compile_added(t, path, err)))
        goto done;
done:
    cJSON_Delete(root);
    cJSON_Delete(cfg);
    if (s) {
        nlp_tokenizer_free(t);
        return s;
    }
    *out = t;
    return NLP_OK;
}

/* The files of the vocab.txt path: the vocabulary and the optional JSON
 * configs (NULL when absent), with their paths for messages. */
typedef struct vocab_files {
    const char *vocab_path;
    const cJSON *cfg, *stmap;
    const char *cfg_path, *stmap_path;
    const char *const *dflt;  /* default special names (BERT's or RoBERTa's) */
    int mask_lstrip;          /* the mask token takes in the space before it (RoBERTa) */
    int roberta_template;     /* vocab.txt: <s> A </s></s> B </s> (MPNetTokenizer) */
} vocab_files;

/* The id of token nm, appended to the vocabulary when missing (as
 * transformers does when it adds a special token). */
static nlp_status vocab_id_or_append(nlp_tokenizer *t, const char *nm, int32_t *id)
{
    *id = nlp_vocab_find(&t->vocab, nm, strlen(nm));
    if (*id >= 0)
        return NLP_OK;
    if (t->vocab.n >= NLP_TOK_MAX_ID)
        return NLP_ERR_FORMAT;
    *id = (int32_t)t->vocab.n;
    return nlp_vocab_set(&t->vocab, *id, nm, strlen(nm));
}

/* A decimal id as added_tokens_decoder keys write it ("0", "30522"), in
 * [0, NLP_TOK_MAX_ID]; -1 for anything else. */
static int32_t decimal_id(const char *s)
{
    if (!s || !*s || strlen(s) > 9)
        return -1;
    int32_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v <= NLP_TOK_MAX_ID ? v : -1;
}

/* The special tokens the configs name (names[i] NULL: BERT's default name
 * when the vocabulary has it), and additional_special_tokens. */
static nlp_status vocab_specials(nlp_tokenizer *t, const vocab_files *f, const char *names[5],
                                 nlp_error *err)
{
    nlp_status s;
    int32_t id;
    for (int i = 0; i < 5; i++) {
        const char *c = json_token_str(cJSON_GetObjectItemCaseSensitive(f->cfg, special_key[i]));
        const char *v = json_token_str(cJSON_GetObjectItemCaseSensitive(f->stmap, special_key[i]));
        names[i] = c ? c : v;
        const char *where = c ? f->cfg_path : f->stmap_path;
        const char *nm = names[i] ? names[i] : f->dflt[i];
        const cJSON *entry = cJSON_GetObjectItemCaseSensitive(c ? f->cfg : f->stmap, special_key[i]);
        int strip = json_strip(entry, i == NLP_SPECIAL_MASK && f->mask_lstrip);
        if (!names[i] && nlp_vocab_find(&t->vocab, nm, strlen(nm)) < 0)
            continue; /* a default name the vocabulary lacks: no such special */
        if ((s = vocab_id_or_append(t, nm, &id)))
            return nlp_error_set(err, s, "%s: too many tokens or out of memory", f->vocab_path);
        if ((s = tok_add(t, nm, id, 1, 0, strip, where, err)))
            return s;
    }
    const cJSON *src[2] = { f->cfg, f->stmap };
    const char *src_path[2] = { f->cfg_path, f->stmap_path };
    for (int k = 0; k < 2; k++) {
        const cJSON *a, *extra = cJSON_GetObjectItemCaseSensitive(src[k], "additional_special_tokens");
        cJSON_ArrayForEach(a, extra) {
            const char *nm = json_token_str(a);
            if (!nm)
                continue;
            if ((s = vocab_id_or_append(t, nm, &id)))
                return nlp_error_set(err, s, "%s: too many tokens or out of memory", f->vocab_path);
            if ((s = tok_add(t, nm, id, 1, 0, 0, src_path[k], err)))
                return s;
        }
    }
    return NLP_OK;
}

/* tokenizer_config.json's added_tokens_decoder: {"id": {"content": ...}}. */
static nlp_status vocab_added_decoder(nlp_tokenizer *t, const vocab_files *f, nlp_error *err)
{
    const cJSON *a, *dec = cJSON_GetObjectItemCaseSensitive(f->cfg, "added_tokens_decoder");
    nlp_status s;
    cJSON_ArrayForEach(a, dec) {
        const char *nm = json_token_str(a);
        int32_t id = decimal_id(a->string);
        if (!nm || id < 0)
            continue;
        int special = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "special"));
        const cJSON *nz = cJSON_GetObjectItemCaseSensitive(a, "normalized");
        if ((s = tok_add(t, nm, id, special, cJSON_IsBool(nz) ? cJSON_IsTrue(nz) : !special,
                         json_strip(a, 0), f->cfg_path, err)))
            return s;
        if (!nlp_vocab_str(&t->vocab, id) && (s = nlp_vocab_set(&t->vocab, id, nm, strlen(nm))))
            return nlp_error_set(err, s, "%s: out of memory", f->cfg_path);
    }
    return NLP_OK;
}

/* vocab.txt path: special tokens named by the configs (BERT's names
 * otherwise), extra added tokens from additional_special_tokens and
 * added_tokens_decoder. */
static nlp_status load_vocab_txt(const vocab_files *f, int lower, int strip, int chinese,
                                 nlp_tokenizer **out, nlp_error *err)
{
    *out = NULL;
    nlp_tokenizer *t = tok_new();
    if (!t)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", f->vocab_path);
    const char *names[5] = { NULL, NULL, NULL, NULL, NULL };
    nlp_status s = nlp_wordpiece_read_vocab_txt(f->vocab_path, &t->vocab, err);
    if (!s)
        s = vocab_specials(t, f, names, err);
    if (!s)
        s = vocab_added_decoder(t, f, err);
    nlp_wordpiece_opts o = { 1, chinese, strip, lower, 100,
                             names[0] ? names[0] : "[UNK]", "##", 1 };
    if (!s)
        s = nlp_wordpiece_attach(t, &o, f->vocab_path, err);
    if (!s && (s = tok_set_specials(t, names, special_default)))
        s = nlp_error_set(err, s, "%s: out of memory", f->vocab_path);
    if (!s) {
        (f->roberta_template ? nlp_tpl_roberta : nlp_tpl_bert)(&t->tpl, t->special_id[NLP_SPECIAL_CLS],
                                                               t->special_id[NLP_SPECIAL_SEP]);
        tok_read_config(t, f->cfg);
        s = tok_compile_added(t, f->vocab_path, err);
    }
    if (s) {
        nlp_tokenizer_free(t);
        return s;
    }
    *out = t;
    return NLP_OK;
}

nlp_status nlp_tokenizer_load_vocab(const char *vocab_path, int do_lower_case, int strip_accents,
                                    nlp_tokenizer **out, nlp_error *err)
{
    if (!vocab_path || !out)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_tokenizer_load_vocab: NULL argument");
    vocab_files f = { vocab_path, NULL, NULL, NULL, NULL, special_default, 0, 0 };
    return load_vocab_txt(&f, do_lower_case != 0, strip_accents < 0 ? -1 : strip_accents != 0, 1,
                          out, err);
}

static int cfg_bool(const cJSON *cfg, const char *key, int dflt)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(cfg, key);
    return cJSON_IsBool(x) ? cJSON_IsTrue(x) : dflt;
}

/* vocab.txt with the optional tokenizer_config.json and
 * special_tokens_map.json of dir (an MPNetTokenizer's config gives RoBERTa's
 * template and a <mask> that takes in the space before it). */
static nlp_status load_vocab_dir(const char *dir, const char *vocab_path, nlp_tokenizer **out,
                                 nlp_error *err)
{
    cJSON *cfg = NULL, *stmap = NULL;
    char *cp = nlp_path_join(dir, "tokenizer_config.json");
    char *sp = nlp_path_join(dir, "special_tokens_map.json");
    nlp_status s = !cp || !sp ? nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir)
                              : json_load_opt(dir, "tokenizer_config.json", &cfg, err);
    if (!s)
        s = json_load_opt(dir, "special_tokens_map.json", &stmap, err);
    if (!s) {
        const cJSON *sa = cJSON_GetObjectItemCaseSensitive(cfg, "strip_accents");
        /* MPNetTokenizer: RoBERTa's template and <mask> over BERT's WordPiece */
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(cfg, "tokenizer_class");
        const int mpnet = cJSON_IsString(cls) && strncmp(cls->valuestring, "MPNet", 5) == 0;
        vocab_files f = { vocab_path, cfg, stmap, cp, sp, special_default, mpnet, mpnet };
        s = load_vocab_txt(&f, cfg_bool(cfg, "do_lower_case", 1),
                           cJSON_IsBool(sa) ? cJSON_IsTrue(sa) : -1,
                           cfg_bool(cfg, "tokenize_chinese_chars", 1), out, err);
    }
    cJSON_Delete(cfg);
    cJSON_Delete(stmap);
    free(cp);
    free(sp);
    return s;
}

/* vocab.json + merges.txt with the optional tokenizer_config.json and
 * special_tokens_map.json of dir: what transformers' GPT2TokenizerFast /
 * RobertaTokenizerFast build from them.  GPT-2 (tokenizer_class GPT2*,
 * or a vocabulary without <s> and </s>) adds no special tokens and keeps
 * offsets untrimmed; otherwise RoBERTa's <s> A </s></s> B </s>, trimmed
 * offsets and a <mask> that takes in the space before it. */
static nlp_status load_bpe_files(const char *dir, const char *vj, const char *mt,
                                 const cJSON *cfg, const cJSON *stmap, const char *cp,
                                 const char *sp, nlp_tokenizer **out, nlp_error *err)
{
    nlp_tokenizer *t = tok_new();
    if (!t)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(cfg, "tokenizer_class");
    int prefix = cfg_bool(cfg, "add_prefix_space", 0);
    nlp_status s = nlp_bpe_from_files(t, vj, mt, prefix, 1, err);
    int gpt2 = (cJSON_IsString(cls) && strncmp(cls->valuestring, "GPT2", 4) == 0) ||
               nlp_vocab_find(&t->vocab, "<s>", 3) < 0 || nlp_vocab_find(&t->vocab, "</s>", 4) < 0;
    static const char *const gpt2_dflt[5] = { "<|endoftext|>", "", "", "", "" };
    const char *names[5] = { NULL, NULL, NULL, NULL, NULL };
    vocab_files f = { vj, cfg, stmap, cp, sp, gpt2 ? gpt2_dflt : special_default_bpe, !gpt2, 0 };
    if (!s)
        s = vocab_specials(t, &f, names, err);
    if (!s)
        s = vocab_added_decoder(t, &f, err);
    if (!s && (s = tok_set_specials(t, names, f.dflt)))
        s = nlp_error_set(err, s, "%s: out of memory", vj);
    if (!s) {
        if (gpt2) {
            nlp_tpl_none(&t->tpl);
            nlp_bpe_set_trim(t, 0, 0);
        } else {
            nlp_tpl_roberta(&t->tpl, t->special_id[NLP_SPECIAL_CLS], t->special_id[NLP_SPECIAL_SEP]);
            nlp_bpe_set_trim(t, 1, prefix);
        }
        tok_read_config(t, cfg);
        s = tok_compile_added(t, vj, err);
    }
    if (s) {
        nlp_tokenizer_free(t);
        return s;
    }
    *out = t;
    return NLP_OK;
}

/* The vocab.json + merges.txt path of nlp_tokenizer_load. */
static nlp_status load_bpe_dir(const char *dir, nlp_tokenizer **out, nlp_error *err)
{
    cJSON *cfg = NULL, *stmap = NULL;
    char *vj = nlp_path_join(dir, "vocab.json"), *mt = nlp_path_join(dir, "merges.txt");
    char *cp = nlp_path_join(dir, "tokenizer_config.json");
    char *sp = nlp_path_join(dir, "special_tokens_map.json");
    nlp_status s = NLP_OK;
    if (!vj || !mt || !cp || !sp)
        s = nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
    else if (!nlp_file_exists(vj) || !nlp_file_exists(mt))
        s = nlp_error_set(err, NLP_ERR_IO, "%s: no tokenizer.json, vocab.txt, sentencepiece .model or vocab.json + merges.txt", dir);
    if (!s)
        s = json_load_opt(dir, "tokenizer_config.json", &cfg, err);
    if (!s)
        s = json_load_opt(dir, "special_tokens_map.json", &stmap, err);
    if (!s)
        s = load_bpe_files(dir, vj, mt, cfg, stmap, cp, sp, out, err);
    cJSON_Delete(cfg);
    cJSON_Delete(stmap);
    free(vj);
    free(mt);
    free(cp);
    free(sp);
    return s;
}

/* The sentencepiece .model of dir (spm.model, sentencepiece.bpe.model,
 * spiece.model), or NULL. */
static char *spm_model_path(const char *dir)
{
    static const char *const names[3] = { "spm.model", "sentencepiece.bpe.model", "spiece.model" };
    for (int i = 0; i < 3; i++) {
        char *p = nlp_path_join(dir, names[i]);
        if (!p || nlp_file_exists(p))
            return p;
        free(p);
    }
    return NULL;
}

enum { SPM_PLAIN, SPM_DEBERTA, SPM_XLMR, SPM_T5 };

/* T5Tokenizer's tokens beyond the model: </s> as a special token, and
 * extra_ids (default 100) <extra_id_N> at id vocab size + extra_ids - 1 - N. */
static nlp_status spm_t5_tokens(nlp_tokenizer *t, const cJSON *cfg, const char *mp, const char *cp,
                                nlp_error *err)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(cfg, "extra_ids");
    int32_t n = 100, eos = tok_id_of(t, "</s>");
    if (x && !json_id(x, &n))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: extra_ids is not an integer in [0, %d]", cp, NLP_TOK_MAX_ID);
    if (n > 100000 || n > NLP_TOK_MAX_ID - (int32_t)t->vocab.n)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: extra_ids %d is more than 100000 or past the largest id",
                             cp, (int)n);
    if (eos < 0)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: no </s> piece for T5Tokenizer", mp);
    nlp_status s = tok_add(t, "</s>", eos, 1, 0, 0, mp, err);
    for (int32_t i = n - 1, base = (int32_t)t->vocab.n; !s && i >= 0; i--) {
        char nm[32];
        snprintf(nm, sizeof nm, "<extra_id_%d>", (int)i);
        int32_t id = base + n - 1 - i;
        if (nlp_vocab_set(&t->vocab, id, nm, strlen(nm)))
            return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", mp);
        s = tok_add(t, nm, id, 1, 0, 0, cp, err);
    }
    return s;
}

/* The template of each class (T5: A </s> and A </s> B </s>, type ids 0). */
static void spm_template(nlp_tokenizer *t, int kind)
{
    int32_t cls = t->special_id[NLP_SPECIAL_CLS], sep = t->special_id[NLP_SPECIAL_SEP];
    if (kind == SPM_DEBERTA) {
        nlp_tpl_bert(&t->tpl, cls, sep);
    } else if (kind == SPM_XLMR) {
        nlp_tpl_roberta(&t->tpl, cls, sep);
    } else if (kind == SPM_T5) {
        int32_t eos = tok_id_of(t, "</s>");
        nlp_tok_template *tp = &t->tpl;
        tp->single[0] = tpl_text(0, 0);
        tp->single[1] = tpl_special(eos, -1, 0);
        tp->n_single = 2;
        memcpy(tp->pair, tp->single, sizeof tp->single);
        tp->pair[2] = tpl_text(1, 0);
        tp->pair[3] = tpl_special(eos, -1, 0);
        tp->n_pair = 4;
        tp->plain_type_b = 0;
    } else {
        nlp_tpl_none(&t->tpl);
    }
}

/* tokenizer_config.json's tokenizer_class as SPM_* into *kind. */
static nlp_status spm_kind(const cJSON *cfg, const char *cp, int *kind, nlp_error *err)
{
    static const char *const names[] = { "DebertaV2Tokenizer", "XLMRobertaTokenizer", "T5Tokenizer" };
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(cfg, "tokenizer_class");
    const char *cn = cJSON_IsString(cls) ? cls->valuestring : "";
    *kind = *cn ? -1 : SPM_PLAIN;
    for (int i = 0; i < 3; i++)
        if (strncmp(cn, names[i], strlen(names[i])) == 0)
            *kind = SPM_DEBERTA + i;
    if (*kind < 0)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                             "%s: tokenizer_class \"%.40s\" with a sentencepiece .model is not supported (DebertaV2Tokenizer, XLMRobertaTokenizer, T5Tokenizer; or give a tokenizer.json)",
                             cp, cn);
    if (cfg_bool(cfg, "do_lower_case", 0) || cfg_bool(cfg, "split_by_punct", 0) ||
        (*kind == SPM_T5 && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cfg, "legacy"))))
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                             "%s: do_lower_case, split_by_punct and legacy: false are not supported with a sentencepiece .model",
                             cp);
    return NLP_OK;
}

/* A sentencepiece .model with tokenizer_config.json's tokenizer_class:
 * DebertaV2Tokenizer ([CLS] A [SEP] B [SEP], type ids 0/1),
 * XLMRobertaTokenizer (fairseq's ids, <s> A </s></s> B </s>, a <mask>
 * taking in the space before it) or T5Tokenizer (A </s>, extra ids);
 * without a class, the texts alone. */
static nlp_status load_spm_files(const char *mp, const cJSON *cfg, const cJSON *stmap,
                                 const char *cp, const char *sp, nlp_tokenizer **out, nlp_error *err)
{
    static const char *const t5_dflt[5] = { "<unk>", "", "", "<pad>", "" };
    int kind;
    nlp_status s = spm_kind(cfg, cp, &kind, err);
    if (s)
        return s;
    nlp_tokenizer *t = tok_new();
    if (!t)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", mp);
    const char *names[5] = { NULL, NULL, NULL, NULL, NULL };
    vocab_files f = { mp, cfg, stmap, cp, sp,
                      kind == SPM_DEBERTA ? special_default : kind == SPM_T5 ? t5_dflt : special_default_bpe,
                      kind == SPM_XLMR, 0 };
    s = nlp_spm_load(t, mp, kind == SPM_XLMR, err);
    if (!s && kind == SPM_T5)
        s = spm_t5_tokens(t, cfg, mp, cp, err);
    if (!s)
        s = vocab_specials(t, &f, names, err);
    if (!s)
        s = vocab_added_decoder(t, &f, err);
    if (!s && (s = tok_set_specials(t, names, f.dflt)))
        s = nlp_error_set(err, s, "%s: out of memory", mp);
    if (!s) {
        spm_template(t, kind);
        tok_read_config(t, cfg);
        s = tok_compile_added(t, mp, err);
    }
    if (s) {
        nlp_tokenizer_free(t);
        return s;
    }
    *out = t;
    return NLP_OK;
}

/* The sentencepiece path of nlp_tokenizer_load. */
static nlp_status load_spm_dir(const char *dir, const char *mp, nlp_tokenizer **out, nlp_error *err)
{
    cJSON *cfg = NULL, *stmap = NULL;
    char *cp = nlp_path_join(dir, "tokenizer_config.json");
    char *sp = nlp_path_join(dir, "special_tokens_map.json");
    nlp_status s = !cp || !sp ? nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir)
                              : json_load_opt(dir, "tokenizer_config.json", &cfg, err);
    if (!s)
        s = json_load_opt(dir, "special_tokens_map.json", &stmap, err);
    if (!s)
        s = load_spm_files(mp, cfg, stmap, cp, sp, out, err);
    cJSON_Delete(cfg);
    cJSON_Delete(stmap);
    free(cp);
    free(sp);
    return s;
}

nlp_status nlp_tokenizer_load(const char *dir, nlp_tokenizer **out, nlp_error *err)
{
    if (!dir || !out)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_tokenizer_load: NULL argument");
    *out = NULL;
    if (!nlp_dir_exists(dir))
        return nlp_error_set(err, NLP_ERR_IO, "%s: not a directory", dir);
    char *tj = nlp_path_join(dir, "tokenizer.json");
    char *vt = nlp_path_join(dir, "vocab.txt");
    char *mp = NULL;
    nlp_status s;
    if (!tj || !vt) {
        s = nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
    } else if (nlp_file_exists(tj)) {
        s = load_from_json(dir, tj, out, err);
    } else if (nlp_file_exists(vt)) {
        s = load_vocab_dir(dir, vt, out, err);
    } else if ((mp = spm_model_path(dir))) {
        s = load_spm_dir(dir, mp, out, err);
    } else {
        s = load_bpe_dir(dir, out, err);
    }
    free(tj);
    free(vt);
    free(mp);
    return s;
}

/* ------------------------------------------------------------ encoding */

/* Start of the run of whitespace that ends at text[at] (not before from). */
static size_t ws_back(const char *text, size_t from, size_t at)
{
    while (at > from) {
        size_t p = at - 1, n;
        while (p > from && ((unsigned char)text[p] & 0xC0) == 0x80)
            p--;
        if (!nlp_is_white_space(nlp_utf8_next((const unsigned char *)text + p, &n)))
            break;
        at = p;
    }
    return at;
}

/* End of the run of whitespace that starts at text[at]. */
static size_t ws_forward(const char *text, size_t len, size_t at)
{
    size_t n;
    while (at < len && nlp_is_white_space(nlp_utf8_next((const unsigned char *)text + at, &n)))
        at += n;
    return at;
}

/* An added token's lstrip / rstrip: its match [*ms, *me) takes in the
 * whitespace before (back to from, the end of the previous match) and
 * after it. */
static void added_strip(const nlp_added_token *a, const char *text, size_t len, size_t from,
                        size_t *ms, size_t *me)
{
    if (a->strip & NLP_ADDED_LSTRIP)
        *ms = ws_back(text, from, *ms);
    if (a->strip & NLP_ADDED_RSTRIP)
        *me = ws_forward(text, len, *me);
}

/* Tokenise one text, appending to enc with seq/type_ids = seq. */
static nlp_status tok_encode_text(const nlp_tokenizer *t, const char *text, size_t len,
                                  int32_t seq, nlp_encoding *enc, nlp_error *err)
{
    nlp_tok_sink sink = { enc, seq, enc->n };
    int32_t word = 0;
    size_t pos = 0;
    int32_t cp = 0; /* code points before pos */
    nlp_status s;
    while (pos < len) {
        size_t ms = len, me = len;
        int32_t which = -1;
        if (!nlp_added_trie_find(t->added_raw, text, len, pos, &ms, &me, &which))
            ms = me = len;
        else
            added_strip(&t->added[which], text, len, pos, &ms, &me);
        int32_t seg_cp = 0;
        for (size_t i = pos; i < ms; i++)
            seg_cp += ((unsigned char)text[i] & 0xC0) != 0x80;
        if (ms > pos &&
            (s = t->ops->encode_segment(t, text + pos, ms - pos, cp, (int32_t)pos, &word, &sink, err)))
            return s;
        cp += seg_cp;
        if (ms == len)
            break;
        int32_t tok_cp = 0;
        for (size_t i = ms; i < me; i++)
            tok_cp += ((unsigned char)text[i] & 0xC0) != 0x80;
        int32_t id = t->added[which].id;
        if ((s = nlp_tok_sink_push(&sink, id, word++, cp, cp + tok_cp, (int32_t)ms, (int32_t)me)))
            return nlp_error_set(err, s, "tokenizer: out of memory");
        cp += tok_cp;
        pos = me;
    }
    return NLP_OK;
}

/* Number of special tokens among items[0..n). */
static size_t tpl_count_special(const nlp_tpl_item *items, int n)
{
    size_t k = 0;
    for (int i = 0; i < n; i++)
        k += !items[i].is_text;
    return k;
}

/* NLP_OK when every special token of the template exists. */
static nlp_status tpl_check(const nlp_tpl_item *items, int n, nlp_error *err)
{
    static const char *const role[5] = { "UNK", "CLS", "SEP", "PAD", "MASK" };
    for (int i = 0; i < n; i++)
        if (!items[i].is_text && items[i].id < 0)
            return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "tokenizer has no %s token for the template",
                                 items[i].role >= 0 ? role[items[i].role] : "special");
    return NLP_OK;
}

/* Lay out e (text A at [0, n1) with k1 kept, text B's nb kept tokens at
 * n1) as the template says: texts moved into place, specials written,
 * type ids set.  e has room for the result. */
static void tpl_place(nlp_encoding *e, const nlp_tpl_item *items, int n, size_t n1, size_t k1,
                      size_t nb)
{
    size_t pos = 0, pa = 0, pb = 0;
    for (int i = 0; i < n; i++) {
        if (items[i].is_text && items[i].id == 0)
            pa = pos;
        else if (items[i].is_text)
            pb = pos;
        pos += items[i].is_text ? (items[i].id ? nb : k1) : 1;
    }
    enc_move(e, pb, n1, nb); /* B first: it moves left of its source or right, past A's place */
    enc_move(e, pa, 0, k1);
    pos = 0;
    for (int i = 0; i < n; i++) {
        const nlp_tpl_item *x = &items[i];
        if (!x->is_text) {
            enc_set(e, pos++, x->id, x->type_id, 1, -1, -1, 0, 0, 0, 0);
            continue;
        }
        size_t cnt = x->id ? nb : k1;
        for (size_t j = 0; j < cnt; j++)
            e->type_ids[pos + j] = x->type_id;
        pos += cnt;
    }
}

/* Hugging Face's truncation: how many tokens of each text to keep.
 * n2 == SIZE_MAX means a single text. */
static nlp_status tok_truncate(size_t n1, size_t n2, size_t max, nlp_truncation how,
                               size_t *k1, size_t *k2, nlp_error *err)
{
    *k1 = n1;
    *k2 = n2;
    if (max == 0) { /* room for the special tokens only: every strategy empties both */
        *k1 = 0;
        *k2 = n2 == SIZE_MAX ? n2 : 0;
        return NLP_OK;
    }
    if (n2 == SIZE_MAX) {
        if (n1 <= max)
            return NLP_OK;
        if (how == NLP_TRUNC_ONLY_SECOND)
            return nlp_error_set(err, NLP_ERR_INVALID_ARG, "truncation only_second needs a pair of texts");
        *k1 = max;
        return NLP_OK;
    }
    if (n1 + n2 <= max)
        return NLP_OK;
    size_t remove = n1 + n2 - max;
    switch (how) {
    case NLP_TRUNC_LONGEST_FIRST: {
        size_t a = n1, b = n2;
        int swap = a > b;
        if (swap) { size_t x = a; a = b; b = x; }
        if (a > max)
            b = a;
        else
            b = a > max - a ? a : max - a;
        if (a + b > max) {
            a = max / 2;
            b = a + max % 2;
        }
        if (swap) { size_t x = a; a = b; b = x; }
        *k1 = a < n1 ? a : n1;
        *k2 = b < n2 ? b : n2;
        return NLP_OK;
    }
    case NLP_TRUNC_ONLY_FIRST:
        if (n1 > remove) {
            *k1 = n1 - remove;
            return NLP_OK;
        }
        return nlp_error_set(err, NLP_ERR_INPUT, "truncation only_first: the first text (%zu tokens) is too short to remove %zu tokens",
                             n1, remove);
    case NLP_TRUNC_ONLY_SECOND:
        if (n2 > remove) {
            *k2 = n2 - remove;
            return NLP_OK;
        }
        return nlp_error_set(err, NLP_ERR_INPUT, "truncation only_second: the second text (%zu tokens) is too short to remove %zu tokens",
                             n2, remove);
    }
    return nlp_error_set(err, NLP_ERR_INVALID_ARG, "unknown truncation strategy %d", (int)how);
}

nlp_status nlp_tokenizer_encode(const nlp_tokenizer *tok, const char *text, size_t len,
                                const char *pair, size_t pair_len, const nlp_encode_opts *opts,
                                nlp_encoding *out, nlp_error *err)
{
    static const nlp_encode_opts dflt = NLP_ENCODE_OPTS_INIT;
    if (!tok || !out || (!text && len))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_tokenizer_encode: NULL argument");
    if (!opts)
        opts = &dflt;
    if (!text)
        text = "";
    if (len > INT32_MAX || pair_len > INT32_MAX)
        return nlp_error_set(err, NLP_ERR_INPUT, "text too long (%zu bytes; at most 2 GiB)",
                             len > pair_len ? len : pair_len);
    size_t bad = nlp_utf8_check(text, len);
    if (bad != (size_t)-1)
        return nlp_error_set(err, NLP_ERR_UTF8, "invalid UTF-8 at byte %zu", bad);
    if (pair && (bad = nlp_utf8_check(pair, pair_len)) != (size_t)-1)
        return nlp_error_set(err, NLP_ERR_UTF8, "invalid UTF-8 at byte %zu of the second text", bad);
    int spec = opts->add_special_tokens != 0;
    const nlp_tpl_item *items = pair ? tok->tpl.pair : tok->tpl.single;
    int n_items = pair ? tok->tpl.n_pair : tok->tpl.n_single;
    nlp_status s;
    if (spec && (s = tpl_check(items, n_items, err)))
        return s;
    size_t n_add = spec ? tpl_count_special(items, n_items) : 0;
    if (opts->max_length && opts->max_length < n_add)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "max_length %zu is below the %zu special tokens",
                             opts->max_length, n_add);

    out->n = 0;
    out->n_truncated = 0;
    s = tok_encode_text(tok, text, len, 0, out, err);
    size_t n1 = out->n, n2 = SIZE_MAX;
    if (!s && pair) {
        s = tok_encode_text(tok, pair, pair_len, 1, out, err);
        n2 = out->n - n1;
    }
    if (s) {
        out->n = 0;
        return s;
    }
    size_t k1 = n1, k2 = n2;
    if (opts->max_length && (s = tok_truncate(n1, n2, opts->max_length - n_add, opts->truncation,
                                              &k1, &k2, err))) {
        out->n = 0;
        return s;
    }
    size_t nb = pair ? k2 : 0;
    size_t total = k1 + nb + n_add;
    if (enc_reserve(out, total)) {
        out->n = 0;
        return nlp_error_set(err, NLP_ERR_NOMEM, "tokenizer: out of memory");
    }
    out->n_truncated = (n1 - k1) + (pair ? n2 - k2 : 0);
    if (spec) {
        tpl_place(out, items, n_items, n1, k1, nb);
    } else if (pair) {
        enc_move(out, k1, n1, nb);
        for (size_t i = k1; i < k1 + nb; i++)
            out->type_ids[i] = tok->tpl.plain_type_b;
    }
    out->n = total;
    return NLP_OK;
}

nlp_status nlp_tokenizer_apply_template(const nlp_tokenizer *tok, const nlp_encoding *a,
                                        size_t a_from, size_t a_count, const nlp_encoding *b,
                                        size_t b_from, size_t b_count, nlp_encoding *out,
                                        nlp_error *err)
{
    if (!tok || !a || !out || out == a || out == b)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_tokenizer_apply_template: NULL or aliased argument");
    if (a_from > a->n || a_count > a->n - a_from || (b && (b_from > b->n || b_count > b->n - b_from)))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_tokenizer_apply_template: slice out of range");
    const nlp_tpl_item *items = b ? tok->tpl.pair : tok->tpl.single;
    int n_items = b ? tok->tpl.n_pair : tok->tpl.n_single;
    nlp_status s = tpl_check(items, n_items, err);
    if (s)
        return s;
    size_t total = a_count + (b ? b_count : 0) + tpl_count_special(items, n_items);
    if (enc_reserve(out, total))
        return nlp_error_set(err, NLP_ERR_NOMEM, "tokenizer: out of memory");
    size_t k = 0;
    for (int it = 0; it < n_items; it++) {
        const nlp_tpl_item *x = &items[it];
        if (!x->is_text) {
            enc_set(out, k++, x->id, x->type_id, 1, -1, -1, 0, 0, 0, 0);
            continue;
        }
        const nlp_encoding *e = x->id ? b : a;
        size_t from = x->id ? b_from : a_from, count = x->id ? b_count : a_count;
        for (size_t i = 0; i < count; i++, k++) {
            size_t j = from + i;
            enc_set(out, k, e->ids[j], x->type_id, e->special[j], e->seq[j] < 0 ? -1 : x->id,
                    e->word[j], e->start[j], e->end[j], e->byte_start[j], e->byte_end[j]);
        }
    }
    out->n = k;
    out->n_truncated = 0;
    return NLP_OK;
}

size_t nlp_tokenizer_num_special(const nlp_tokenizer *tok, int pair)
{
    if (!tok)
        return 0;
    return pair ? tpl_count_special(tok->tpl.pair, tok->tpl.n_pair)
                : tpl_count_special(tok->tpl.single, tok->tpl.n_single);
}

/* ------------------------------------------------------------ decode */

int nlp_tok_buf_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 64;
        while (*len + n + 1 > c)
            c *= 2;
        char *nb = realloc(*buf, c);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* Invalid UTF-8 in the decoded bytes becomes U+FFFD, one per maximal
 * invalid sequence start (String::from_utf8_lossy, roughly: one per bad
 * byte). */
nlp_status nlp_tok_decode_lossy(char **buf, size_t *len, size_t *cap)
{
    if (!*buf || nlp_utf8_check(*buf, *len) == (size_t)-1)
        return NLP_OK;
    char *in = *buf;
    size_t n = *len;
    char *out = NULL;
    size_t ol = 0, oc = 0;
    for (size_t i = 0; i < n;) {
        size_t bad = nlp_utf8_check(in + i, n - i);
        size_t good = bad == (size_t)-1 ? n - i : bad;
        if (nlp_tok_buf_put(&out, &ol, &oc, in + i, good) ||
            (bad != (size_t)-1 && nlp_tok_buf_put(&out, &ol, &oc, "\xEF\xBF\xBD", 3))) {
            free(out);
            return NLP_ERR_NOMEM;
        }
        i += good + (bad != (size_t)-1);
    }
    free(in);
    *buf = out;
    *len = ol;
    *cap = oc;
    return NLP_OK;
}

static const char *const cleanup_pairs[][2] = {
    { " .", "." }, { " ?", "?" }, { " !", "!" }, { " ,", "," }, { " ' ", "'" },
    { " n't", "n't" }, { " 'm", "'m" }, { " 's", "'s" }, { " 've", "'ve" }, { " 're", "'re" },
};

/* The decoder over n tokens into *out: the strings tokens[0..n) when
 * given, else the tokens of ids[0..n) (special ones dropped when
 * skip_special); clean_up_tokenization_spaces applied when cleanup. */
static nlp_status decode_run(const nlp_tokenizer *tok, const char *const *tokens,
                             const int32_t *ids, size_t n, int skip_special, int cleanup,
                             char **out, nlp_error *err)
{
    *out = NULL;
    char *buf = malloc(64);
    size_t len = 0, cap = 64, k = 0;
    if (!buf)
        return nlp_error_set(err, NLP_ERR_NOMEM, "tokenizer: out of memory");
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *t = tokens ? tokens[i] : nlp_vocab_str(&tok->vocab, ids[i]);
        if (!t) {
            free(buf);
            if (tokens)
                return nlp_error_set(err, NLP_ERR_INVALID_ARG, "tokens_to_string: token %zu is NULL", i);
            return nlp_error_set(err, NLP_ERR_INVALID_ARG, "decode: id %d at position %zu is not in the vocabulary",
                                 (int)ids[i], i);
        }
        if (!tokens && skip_special && nlp_tokenizer_is_special(tok, ids[i]))
            continue;
        if (tok->ops->decode_token(tok, k++, t, &buf, &len, &cap)) {
            free(buf);
            return nlp_error_set(err, NLP_ERR_NOMEM, "tokenizer: out of memory");
        }
    }
    if (tok->ops->decode_end && tok->ops->decode_end(&buf, &len, &cap)) {
        free(buf);
        return nlp_error_set(err, NLP_ERR_NOMEM, "tokenizer: out of memory");
    }
    if (cleanup) {
        for (size_t p = 0; p < sizeof cleanup_pairs / sizeof cleanup_pairs[0]; p++) {
            const char *a = cleanup_pairs[p][0], *b = cleanup_pairs[p][1];
            size_t la = strlen(a), lb = strlen(b), r = 0, w = 0;
            while (r < len) {
                if (r + la <= len && memcmp(buf + r, a, la) == 0) {
                    memmove(buf + w, b, lb);
                    w += lb;
                    r += la;
                } else {
                    buf[w++] = buf[r++];
                }
            }
            len = w;
        }
        buf[len] = '\0';
    }
    *out = buf;
    return NLP_OK;
}

nlp_status nlp_tokenizer_decode(const nlp_tokenizer *tok, const int32_t *ids, size_t n,
                                int skip_special, char **out, nlp_error *err)
{
    if (!tok || !out || (!ids && n))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_tokenizer_decode: NULL argument");
    return decode_run(tok, NULL, ids, n, skip_special, tok->clean_up_spaces, out, err);
}

nlp_status nlp_tokenizer_tokens_to_string(const nlp_tokenizer *tok, const char *const *tokens,
                                          size_t n, char **out, nlp_error *err)
{
    if (!tok || !out || (!tokens && n))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_tokenizer_tokens_to_string: NULL argument");
    return decode_run(tok, tokens, NULL, n, 0, 0, out, err);
}

const char *nlp_tokenizer_subword_prefix(const nlp_tokenizer *tok)
{
    return tok && tok->ops->subword_prefix ? tok->ops->subword_prefix(tok) : NULL;
}

/* ------------------------------------------------------------ look-ups */

size_t nlp_tokenizer_vocab_size(const nlp_tokenizer *tok)
{
    return tok ? tok->vocab.n : 0;
}

int32_t nlp_tokenizer_token_to_id(const nlp_tokenizer *tok, const char *token)
{
    if (!tok || !token)
        return -1;
    return nlp_vocab_find(&tok->vocab, token, strlen(token));
}

const char *nlp_tokenizer_id_to_token(const nlp_tokenizer *tok, int32_t id)
{
    return tok ? nlp_vocab_str(&tok->vocab, id) : NULL;
}

int32_t nlp_tokenizer_special_id(const nlp_tokenizer *tok, nlp_special which)
{
    if (!tok || (unsigned)which > NLP_SPECIAL_MASK)
        return -1;
    return tok->special_id[which];
}

const char *nlp_tokenizer_special_token(const nlp_tokenizer *tok, nlp_special which)
{
    if (!tok || (unsigned)which > NLP_SPECIAL_MASK || tok->special_id[which] < 0)
        return NULL;
    return tok->special_str[which];
}

int nlp_tokenizer_is_special(const nlp_tokenizer *tok, int32_t id)
{
    if (!tok || id < 0)
        return 0;
    for (size_t i = 0; i < tok->n_added; i++)
        if (tok->added[i].id == id && tok->added[i].special)
            return 1;
    return 0;
}

size_t nlp_tokenizer_model_max_length(const nlp_tokenizer *tok)
{
    return tok ? tok->model_max_length : 0;
}
