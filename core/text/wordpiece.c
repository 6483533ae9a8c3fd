/*
 * wordpiece.c - the WordPiece family: BERT's normaliser (clean text, CJK
 * spacing, accent stripping, lower-casing), BERT's pre-tokeniser (split on
 * whitespace, isolate punctuation) and greedy longest-match-first WordPiece
 * with a continuation prefix, as Hugging Face tokenizers define them; plus
 * the vocab.txt and tokenizer.json readers.
 *
 * The pipeline streams: each code point of the input is normalised into
 * zero or more characters, each remembering the code point and byte range
 * of the input it came from, and fed to the current word; a word is
 * WordPiece-encoded as soon as it ends.  The word buffer lives on the stack
 * (heap only for max_input_chars_per_word above WP_STACK_CHARS), so encoding
 * allocates nothing but the output arrays.
 *
 * Unicode properties come from utf8proc (Unicode 15); tokenizers takes
 * punctuation, Mn and Cc/Cf/Co from older tables, so code points assigned
 * in recent Unicode versions can be classed differently there.
 */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <utf8proc.h>

#include "tokenizer_impl.h"
#include "util/util.h"

typedef struct wp_model {
    int clean_text, chinese, strip_accents, lowercase;
    int max_chars;
    int32_t unk_id;
    char prefix[32];
    size_t plen;
    int decoder_cleanup;
} wp_model;

/* ------------------------------------------------------------ Unicode */

/* ASCII classes: what BERT's normaliser and pre-tokeniser do with them. */
enum { A_WORD = 0, A_CTRL = 1, A_SPACE = 2, A_PUNCT = 3 };
/* 0 word character, 1 control, 2 whitespace, 3 punctuation */
static const unsigned char ascii_class[128] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3,
    3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3,
    3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 1,
};

/* What BertNormalizer's clean_text drops: categories Cc, Cf and Co (tab,
 * newline and CR excepted).  Unassigned code points (Cn) are kept. */
static int is_control(uint32_t c)
{
    if (c == '\t' || c == '\n' || c == '\r')
        return 0;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CO:
        return 1;
    default:
        return 0;
    }
}

static int is_punct(uint32_t c)
{
    if (c < 128)
        return ascii_class[c] == A_PUNCT;
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

/* The CJK ranges of Hugging Face tokenizers' BertNormalizer.  Its fifth
 * range starts at U+2B920 (BERT's Python code says U+2B820): we follow the
 * fast tokenizer. */
static int is_cjk(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* ------------------------------------------------------------ words */

#define WP_STACK_CHARS 256
/* Longest word (in characters) max_input_chars_per_word may allow: the
 * word buffer takes 20 bytes a character. */
#define WP_MAX_WORD_CHARS 1000000

/* The word being built: normalised UTF-8 plus, per character, where its
 * bytes start and which input code point / bytes it came from. */
typedef struct wp_word {
    char *bytes;          /* [4 * cap] */
    uint32_t *bpos;       /* [cap + 1] byte start of each character */
    int32_t *ocp, *ob, *obe; /* [cap] origin code point, byte start, byte end */
    uint32_t n, cap, nbytes;
    uint32_t total;       /* characters seen, may exceed cap */
    int32_t last_cp, last_be; /* origin of the last character seen */
} wp_word;

/* The whole normalised text of a segment, kept when added tokens must be
 * matched in it: UTF-8 plus, per character, its byte position and origin. */
typedef struct wp_rec {
    char *nb;
    size_t nlen, ncap;
    uint32_t *pos;
    int32_t *ocp, *ob, *obe;
    size_t n, cap;
} wp_rec;

typedef struct wp_state {
    const nlp_tokenizer *tok;
    const wp_model *m;
    wp_word w;
    int32_t *word;
    nlp_tok_sink *sink;
    wp_rec *rec;     /* non-NULL: record normalised characters instead of encoding */
} wp_state;

static int rec_push(wp_rec *r, uint32_t c, int32_t cp, int32_t b, int32_t be)
{
    if (r->n == r->cap) {
        size_t nc = r->cap ? 2 * r->cap : 256;
        uint32_t *p = realloc(r->pos, nc * sizeof *p);
        if (!p)
            return -1;
        r->pos = p;
        int32_t *q[3] = { r->ocp, r->ob, r->obe };
        for (int k = 0; k < 3; k++) {
            int32_t *x = realloc(q[k], nc * sizeof *x);
            if (!x)
                return -1;
            q[k] = x;
            if (k == 0) r->ocp = x; else if (k == 1) r->ob = x; else r->obe = x;
        }
        r->cap = nc;
    }
    if (r->nlen + 5 > r->ncap) {
        size_t nc = r->ncap ? 2 * r->ncap : 1024;
        char *x = realloc(r->nb, nc);
        if (!x)
            return -1;
        r->nb = x;
        r->ncap = nc;
    }
    r->pos[r->n] = (uint32_t)r->nlen;
    r->ocp[r->n] = cp;
    r->ob[r->n] = b;
    r->obe[r->n] = be;
    r->n++;
    r->nlen += nlp_utf8_put(c, r->nb + r->nlen);
    r->nb[r->nlen] = '\0';
    return 0;
}

static void rec_free(wp_rec *r)
{
    free(r->nb);
    free(r->pos);
    free(r->ocp);
    free(r->ob);
    free(r->obe);
}

static nlp_status wp_flush(wp_state *st)
{
    wp_word *w = &st->w;
    const wp_model *m = st->m;
    if (w->total == 0)
        return NLP_OK;
    nlp_status s = NLP_OK;
    int32_t word = (*st->word)++;
    const nlp_vocab *v = &st->tok->vocab;
    if (w->total > (uint32_t)m->max_chars)
        goto unk;
    w->bpos[w->n] = w->nbytes;
    /* Greedy longest match first; pieces are emitted once the whole word
     * has matched, so a failure yields a single [UNK]. */
    uint32_t start = 0;
    int32_t ids[WP_STACK_CHARS];
    uint32_t ends[WP_STACK_CHARS];
    int32_t *pid = ids;
    uint32_t *pend = ends;
    int32_t *heap_id = NULL;
    uint32_t *heap_end = NULL;
    if (w->n > WP_STACK_CHARS) {
        heap_id = malloc(sizeof *heap_id * w->n);
        heap_end = malloc(sizeof *heap_end * w->n);
        if (!heap_id || !heap_end) {
            free(heap_id);
            free(heap_end);
            return NLP_ERR_NOMEM;
        }
        pid = heap_id;
        pend = heap_end;
    }
    size_t np = 0;
    while (start < w->n) {
        uint32_t end = w->n;
        int32_t id = -1;
        size_t pl = start > 0 ? m->plen : 0;
        /* skip candidates longer than any vocabulary entry */
        while (end > start && w->bpos[end] - w->bpos[start] + pl > v->max_len)
            end--;
        while (end > start) {
            id = nlp_vocab_find2(v, m->prefix, pl, w->bytes + w->bpos[start],
                                 w->bpos[end] - w->bpos[start]);
            if (id >= 0 && (size_t)id < v->n_model)
                break;
            id = -1;
            end--;
        }
        if (id < 0)
            break;
        pid[np] = id;
        pend[np++] = end;
        start = end;
    }
    if (start < w->n) {
        free(heap_id);
        free(heap_end);
        goto unk;
    }
    start = 0;
    for (size_t k = 0; k < np && s == NLP_OK; k++) {
        uint32_t e = pend[k];
        s = nlp_tok_sink_push(st->sink, pid[k], word, w->ocp[start], w->ocp[e - 1] + 1,
                              w->ob[start], w->obe[e - 1]);
        start = e;
    }
    free(heap_id);
    free(heap_end);
    w->n = w->total = w->nbytes = 0;
    return s;
unk:
    s = nlp_tok_sink_push(st->sink, m->unk_id, word, w->ocp[0], w->last_cp + 1, w->ob[0],
                          w->last_be);
    w->n = w->total = w->nbytes = 0;
    return s;
}

/* Append normalised character c (from input code point cp, bytes b..be). */
static inline void wp_add(wp_word *w, uint32_t c, int32_t cp, int32_t b, int32_t be)
{
    if (w->n < w->cap) {
        w->bpos[w->n] = w->nbytes;
        w->nbytes += (uint32_t)nlp_utf8_put(c, w->bytes + w->nbytes);
        w->ocp[w->n] = cp;
        w->ob[w->n] = b;
        w->obe[w->n] = be;
        w->n++;
    }
    w->total++;
    w->last_cp = cp;
    w->last_be = be;
}

/* Pre-tokenise one normalised character. */
static inline nlp_status wp_emit(wp_state *st, uint32_t c, int32_t cp, int32_t b, int32_t be)
{
    if (c < 128) {
        unsigned char k = ascii_class[c];
        if (k == A_SPACE)
            return wp_flush(st);
        if (k == A_PUNCT) {
            nlp_status s = wp_flush(st);
            if (s)
                return s;
            wp_add(&st->w, c, cp, b, be);
            return wp_flush(st);
        }
        wp_add(&st->w, c, cp, b, be);
        return NLP_OK;
    }
    if (nlp_is_white_space(c))
        return wp_flush(st);
    if (is_punct(c)) {
        nlp_status s = wp_flush(st);
        if (s)
            return s;
        wp_add(&st->w, c, cp, b, be);
        return wp_flush(st);
    }
    wp_add(&st->w, c, cp, b, be);
    return NLP_OK;
}

/* One character of the normalised text: recorded, or pre-tokenised now. */
static inline nlp_status wp_out(wp_state *st, uint32_t c, int32_t cp, int32_t b, int32_t be)
{
    if (st->rec)
        return rec_push(st->rec, c, cp, b, be) ? NLP_ERR_NOMEM : NLP_OK;
    return wp_emit(st, c, cp, b, be);
}

/* Accent stripping and lower-casing of one character, then pre-tokenising. */
static nlp_status wp_case(wp_state *st, uint32_t c, int32_t cp, int32_t b, int32_t be)
{
    const wp_model *m = st->m;
    nlp_status s;
    uint32_t parts[8];
    size_t np = 1;
    parts[0] = c;
    if (m->strip_accents && c >= 128) {
        utf8proc_int32_t d[8];
        int bound = 0;
        utf8proc_ssize_t r = utf8proc_decompose_char((utf8proc_int32_t)c, d, 8,
                                                     UTF8PROC_DECOMPOSE, &bound);
        if (r > 0 && r <= 8) {
            np = 0;
            for (utf8proc_ssize_t k = 0; k < r; k++)
                if (utf8proc_category(d[k]) != UTF8PROC_CATEGORY_MN)
                    parts[np++] = (uint32_t)d[k];
        }
    }
    for (size_t k = 0; k < np; k++) {
        uint32_t x = parts[k];
        if (m->lowercase) {
            if (x < 128) {
                if (x >= 'A' && x <= 'Z')
                    x += 32;
            } else if (x == 0x130) { /* the one full lower-case mapping of two characters */
                if ((s = wp_out(st, 'i', cp, b, be)) || (s = wp_out(st, 0x307, cp, b, be)))
                    return s;
                continue;
            } else {
                x = (uint32_t)utf8proc_tolower((utf8proc_int32_t)x);
            }
        }
        if ((s = wp_out(st, x, cp, b, be)))
            return s;
    }
    return NLP_OK;
}

/* BertNormalizer over text, each normalised character going to wp_out
 * (whitespace as ' ', CJK ideographs between two spaces). */
static nlp_status wp_normalize_run(wp_state *st, const char *text, size_t len, int32_t cp_base,
                                   int32_t byte_base)
{
    const wp_model *m = st->m;
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    int32_t cp = cp_base;
    nlp_status rc = NLP_OK;
    while (i < len && rc == NLP_OK) {
        size_t n;
        uint32_t c = nlp_utf8_next(s + i, &n);
        int32_t b = byte_base + (int32_t)i, be = b + (int32_t)n;
        i += n;
        if (c < 128) {
            unsigned char k = ascii_class[c];
            /* clean_text drops C0 controls and DEL (\v and \f too), keeps \t \n \r */
            if (m->clean_text && (c < 32 || c == 127) && c != '\t' && c != '\n' && c != '\r') {
                cp++;
                continue;
            }
            if (m->lowercase && c >= 'A' && c <= 'Z')
                c += 32;
            if (k == A_SPACE && m->clean_text)
                c = ' ';
            if (k == A_WORD && !st->rec)
                wp_add(&st->w, c, cp, b, be); /* the common case, straight to the word */
            else
                rc = wp_out(st, c, cp, b, be);
            cp++;
            continue;
        }
        if (m->clean_text) {
            if (c == 0xFFFD || is_control(c)) {
                cp++;
                continue;
            }
            if (nlp_is_white_space(c)) {
                rc = wp_out(st, ' ', cp, b, be);
                cp++;
                continue;
            }
        }
        if (m->chinese && is_cjk(c)) {
            if ((rc = wp_out(st, ' ', cp, b, be)) == NLP_OK &&
                (rc = wp_case(st, c, cp, b, be)) == NLP_OK)
                rc = wp_out(st, ' ', cp, b, be);
        } else {
            rc = wp_case(st, c, cp, b, be);
        }
        cp++;
    }
    return rc;
}

/* Normalised text recorded in st->rec: added tokens matched in it, the
 * text between them pre-tokenised and encoded. */
static nlp_status wp_encode_recorded(wp_state *st)
{
    wp_rec *r = st->rec;
    st->rec = NULL;
    const nlp_tokenizer *tok = st->tok;
    nlp_status s = NLP_OK;
    size_t at = 0, ri = 0;
    while (s == NLP_OK && ri < r->n) {
        size_t ms, me;
        int32_t which = -1;
        if (!nlp_added_trie_find(tok->added_norm, r->nb, r->nlen, at, &ms, &me, &which))
            ms = me = r->nlen;
        for (; ri < r->n && r->pos[ri] < ms && s == NLP_OK; ri++)
            s = wp_emit(st, nlp_utf8_next((const unsigned char *)r->nb + r->pos[ri], &(size_t){ 0 }),
                        r->ocp[ri], r->ob[ri], r->obe[ri]);
        if (s == NLP_OK)
            s = wp_flush(st);
        if (s || ms == r->nlen)
            break;
        size_t first = ri;
        while (ri < r->n && r->pos[ri] < me)
            ri++;
        s = nlp_tok_sink_push(st->sink, tok->added[which].id, (*st->word)++, r->ocp[first],
                              r->ocp[ri - 1] + 1, r->ob[first], r->obe[ri - 1]);
        at = me;
    }
    return s;
}

static nlp_status wp_encode_segment(const nlp_tokenizer *tok, const char *text, size_t len,
                                    int32_t cp_base, int32_t byte_base, int32_t *word,
                                    nlp_tok_sink *sink, nlp_error *err)
{
    const wp_model *m = tok->model;
    char sbytes[4 * WP_STACK_CHARS];
    uint32_t sbpos[WP_STACK_CHARS + 1];
    int32_t socp[WP_STACK_CHARS], sob[WP_STACK_CHARS], sobe[WP_STACK_CHARS];
    wp_state st = { .tok = tok, .m = m, .word = word, .sink = sink, .rec = NULL };
    void *heap = NULL;
    uint32_t cap = (uint32_t)m->max_chars + 1;
    if (cap <= WP_STACK_CHARS) {
        st.w = (wp_word){ sbytes, sbpos, socp, sob, sobe, 0, cap, 0, 0, 0, 0 };
    } else {
        heap = malloc((size_t)cap * (4 + 4 * 4) + 4);
        if (!heap)
            return nlp_error_set(err, NLP_ERR_NOMEM, "tokenizer: out of memory");
        char *p = heap;
        st.w = (wp_word){ p, (uint32_t *)(p + 4 * (size_t)cap),
                          (int32_t *)(p + 8 * (size_t)cap + 4),
                          (int32_t *)(p + 12 * (size_t)cap + 4),
                          (int32_t *)(p + 16 * (size_t)cap + 4), 0, cap, 0, 0, 0, 0 };
    }
    nlp_status rc;
    if (tok->added_norm) {
        wp_rec r = { 0 };
        st.rec = &r;
        rc = wp_normalize_run(&st, text, len, cp_base, byte_base);
        if (rc == NLP_OK)
            rc = wp_encode_recorded(&st);
        rec_free(&r);
    } else {
        rc = wp_normalize_run(&st, text, len, cp_base, byte_base);
        if (rc == NLP_OK)
            rc = wp_flush(&st);
    }
    free(heap);
    if (rc)
        return nlp_error_set(err, rc, rc == NLP_ERR_NOMEM ? "tokenizer: out of memory"
                                                          : "tokenizer: added-token match failed");
    return NLP_OK;
}

static nlp_status wp_normalize(const nlp_tokenizer *tok, const char *text, size_t len,
                               char **out, size_t *out_len)
{
    wp_rec r = { 0 };
    wp_state st = { .tok = tok, .m = tok->model, .rec = &r };
    nlp_status s = wp_normalize_run(&st, text, len, 0, 0);
    if (s == NLP_OK && !r.nb) {
        r.nb = calloc(1, 1);
        if (!r.nb)
            s = NLP_ERR_NOMEM;
    }
    if (s) {
        rec_free(&r);
        return s;
    }
    *out = r.nb;
    *out_len = r.nlen;
    r.nb = NULL;
    rec_free(&r);
    return NLP_OK;
}

/* --------------------------------------------------------------- decode */

/* In-place replacement of each pattern by its (never longer) substitute. */
static size_t replace_all(char *s, size_t n, const char *const (*pairs)[2], size_t np)
{
    for (size_t k = 0; k < np; k++) {
        const char *a = pairs[k][0], *b = pairs[k][1];
        size_t la = strlen(a), lb = strlen(b), r = 0, w = 0;
        while (r < n) {
            if (r + la <= n && memcmp(s + r, a, la) == 0) {
                memmove(s + w, b, lb);
                w += lb;
                r += la;
            } else {
                s[w++] = s[r++];
            }
        }
        n = w;
    }
    return n;
}

static const char *const decoder_cleanup_pairs[][2] = {
    { " .", "." }, { " ?", "?" }, { " !", "!" }, { " ,", "," }, { " ' ", "'" },
    { " n't", "n't" }, { " 'm", "'m" }, { " do not", " don't" }, { " 's", "'s" },
    { " 've", "'ve" }, { " 're", "'re" },
};

static nlp_status wp_decode_token(const nlp_tokenizer *tok, size_t k, const char *token,
                                  char **buf, size_t *len, size_t *cap)
{
    const wp_model *m = tok->model;
    size_t at = *len;
    int rc;
    if (k == 0)
        rc = nlp_tok_buf_put(buf, len, cap, token, strlen(token));
    else if (m->plen && strncmp(token, m->prefix, m->plen) == 0)
        rc = nlp_tok_buf_put(buf, len, cap, token + m->plen, strlen(token) - m->plen);
    else
        rc = nlp_tok_buf_put(buf, len, cap, " ", 1) || nlp_tok_buf_put(buf, len, cap, token, strlen(token));
    if (rc)
        return NLP_ERR_NOMEM;
    if (m->decoder_cleanup && *buf) {
        *len = at + replace_all(*buf + at, *len - at, decoder_cleanup_pairs,
                                sizeof decoder_cleanup_pairs / sizeof decoder_cleanup_pairs[0]);
        (*buf)[*len] = '\0';
    }
    return NLP_OK;
}

static void wp_free(void *model)
{
    free(model);
}

/* The continuing_subword_prefix, NULL when empty (Hugging Face treats an
 * empty prefix as none). */
static const char *wp_subword_prefix(const nlp_tokenizer *tok)
{
    const wp_model *m = tok->model;
    return m->plen ? m->prefix : NULL;
}

const nlp_tok_ops nlp_wordpiece_ops = { "WordPiece", wp_encode_segment, wp_decode_token, wp_free,
                                        NULL, wp_normalize, wp_subword_prefix };

nlp_status nlp_wordpiece_attach(nlp_tokenizer *tok, const nlp_wordpiece_opts *o,
                                const char *where, nlp_error *err)
{
    const char *unk = o->unk_token ? o->unk_token : "[UNK]";
    int32_t unk_id = nlp_vocab_find(&tok->vocab, unk, strlen(unk));
    if (unk_id < 0)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: unknown token \"%s\" is not in the vocabulary",
                             where, unk);
    const char *prefix = o->prefix ? o->prefix : "##";
    if (strlen(prefix) >= sizeof ((wp_model *)0)->prefix)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: continuing_subword_prefix is too long",
                             where);
    if (o->max_input_chars_per_word <= 0 || o->max_input_chars_per_word > WP_MAX_WORD_CHARS)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: max_input_chars_per_word %d out of range",
                             where, o->max_input_chars_per_word);
    wp_model *m = calloc(1, sizeof *m);
    if (!m)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", where);
    m->clean_text = o->clean_text;
    m->chinese = o->handle_chinese_chars;
    m->lowercase = o->lowercase;
    m->strip_accents = o->strip_accents < 0 ? o->lowercase : o->strip_accents;
    m->max_chars = o->max_input_chars_per_word;
    m->unk_id = unk_id;
    strcpy(m->prefix, prefix);
    m->plen = strlen(prefix);
    m->decoder_cleanup = o->decoder_cleanup;
    tok->ops = &nlp_wordpiece_ops;
    tok->model = m;
    return NLP_OK;
}

/* --------------------------------------------------------------- readers */

nlp_status nlp_wordpiece_read_vocab_txt(const char *path, nlp_vocab *v, nlp_error *err)
{
    char *data;
    size_t len;
    nlp_status s = nlp_read_file(path, &data, &len, err);
    if (s)
        return s;
    size_t off = 0;
    int32_t id = 0;
    size_t e = nlp_utf8_check(data, len);
    if (e != (size_t)-1) {
        free(data);
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: invalid UTF-8 at byte %zu", path, e);
    }
    /* Lines end at \n, \r\n or \r (Python's universal newlines, which
     * transformers' vocab reader relies on). */
    while (off < len) {
        size_t end = off;
        while (end < len && data[end] != '\n' && data[end] != '\r')
            end++;
        if (end - off > NLP_TOK_MAX_TOKEN || id >= NLP_TOK_MAX_ID) {
            free(data);
            return nlp_error_set(err, NLP_ERR_FORMAT,
                                 id >= NLP_TOK_MAX_ID ? "%s: more than %d lines (tokens)"
                                                      : "%s: line %d is longer than %d bytes",
                                 path, id >= NLP_TOK_MAX_ID ? NLP_TOK_MAX_ID : id + 1, NLP_TOK_MAX_TOKEN);
        }
        if ((s = nlp_vocab_set(v, id++, data + off, end - off))) {
            free(data);
            return nlp_error_set(err, s, "%s: out of memory", path);
        }
        off = end + 1;
        if (end < len && data[end] == '\r' && off < len && data[off] == '\n')
            off++;
    }
    free(data);
    if (id == 0)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: empty vocabulary", path);
    if ((s = nlp_vocab_index(v)))
        return nlp_error_set(err, s, "%s: out of memory", path);
    v->n_model = v->n;
    return NLP_OK;
}

static int json_bool(const cJSON *o, const char *key, int dflt)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsBool(x))
        return cJSON_IsTrue(x);
    return dflt;
}

nlp_status nlp_wordpiece_from_json(nlp_tokenizer *tok, const cJSON *root, const char *path,
                                   nlp_error *err)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    nlp_status s = nlp_vocab_from_json(&tok->vocab, cJSON_GetObjectItemCaseSensitive(model, "vocab"),
                                       path, err);
    if (s)
        return s;
    tok->vocab.n_model = tok->vocab.n;

    nlp_wordpiece_opts o = { 0, 0, 0, 0, 100, "[UNK]", "##", 1 };
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (cJSON_IsString(x))
        o.unk_token = x->valuestring;
    x = cJSON_GetObjectItemCaseSensitive(model, "continuing_subword_prefix");
    if (cJSON_IsString(x))
        o.prefix = x->valuestring;
    x = cJSON_GetObjectItemCaseSensitive(model, "max_input_chars_per_word");
    if (x && !cJSON_IsNull(x)) {
        /* range-checked as a double: converting an out-of-range double to
         * int is undefined */
        if (!cJSON_IsNumber(x) || !(x->valuedouble >= 1) || x->valuedouble > WP_MAX_WORD_CHARS ||
            x->valuedouble != (double)(int)x->valuedouble)
            return nlp_error_set(err, NLP_ERR_FORMAT,
                                 "%s: model.max_input_chars_per_word must be an integer in [1, %d]", path,
                                 WP_MAX_WORD_CHARS);
        o.max_input_chars_per_word = (int)x->valuedouble;
    }

    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    if (norm && !cJSON_IsNull(norm)) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(norm, "type");
        if (!cJSON_IsString(t) || strcmp(t->valuestring, "BertNormalizer") != 0)
            return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: normalizer type \"%s\" is not supported (BertNormalizer only)",
                                 path, cJSON_IsString(t) ? t->valuestring : "?");
        o.clean_text = json_bool(norm, "clean_text", 1);
        o.handle_chinese_chars = json_bool(norm, "handle_chinese_chars", 1);
        o.lowercase = json_bool(norm, "lowercase", 1);
        const cJSON *sa = cJSON_GetObjectItemCaseSensitive(norm, "strip_accents");
        o.strip_accents = cJSON_IsBool(sa) ? cJSON_IsTrue(sa) : -1;
    }
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(pre, "type");
    if (!cJSON_IsString(pt) || strcmp(pt->valuestring, "BertPreTokenizer") != 0)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: pre_tokenizer type \"%s\" is not supported (BertPreTokenizer only)",
                             path, cJSON_IsString(pt) ? pt->valuestring : "null");
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    if (cJSON_IsObject(dec))
        o.decoder_cleanup = json_bool(dec, "cleanup", 1);
    return nlp_wordpiece_attach(tok, &o, path, err);
}
