/*
 * normalizer.c - tokenizer.json normalisers over a string that keeps, for
 * every byte, the range of the original text it came from (the
 * alignments of tokenizers' NormalizedString), so that token offsets map
 * back through normalisation.
 *
 * Supported: Precompiled (sentencepiece's precompiled_charsmap: a
 * darts-clone double-array trie and a table of NUL-terminated
 * replacements, applied to each extended grapheme cluster shorter than
 * 6 bytes as a whole, else to each of its characters; the first key
 * found as a prefix wins, as tokenizers does), Sequence, Replace (string
 * or PCRE2 regex), NFC / NFKC / NFD / NFKD (utf8proc, applied per
 * grapheme cluster), Lowercase, Strip and Prepend; and, for .model
 * files (spm_model.c), sentencepiece's own normaliser: the longest
 * charsmap key at each position, user-defined symbols kept, its
 * whitespace rules and its offsets.
 *
 * Alignment rules follow tokenizers' transform: each output character
 * carries a change (0 replaces one input character, +1 is inserted and
 * takes the previous character's range, -k also removes k more input
 * characters); a replacement of m characters by n gives the first n
 * characters change 0, then +1 for the extra ones or -(m - n) on the
 * last one.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include <cjson/cJSON.h>

#include "tokenizer_impl.h"
#include "util/util.h"

/* ------------------------------------------------------------ strings */

static int nstr_reserve(nlp_nstr *ns, size_t need)
{
    if (need <= ns->cap)
        return 0;
    size_t c = ns->cap ? ns->cap : 64;
    while (c < need)
        c *= 2;
    char *s = realloc(ns->s, c + 1);
    if (!s)
        return -1;
    ns->s = s;
    nlp_span *a = realloc(ns->al, c * sizeof *a);
    if (!a)
        return -1;
    ns->al = a;
    ns->cap = c;
    return 0;
}

nlp_status nlp_nstr_set(nlp_nstr *ns, const char *text, size_t len)
{
    ns->len = 0;
    if (nstr_reserve(ns, len + 1))
        return NLP_ERR_NOMEM;
    memcpy(ns->s, text, len);
    ns->s[len] = '\0';
    for (size_t i = 0, n; i < len; i += n) {
        (void)nlp_utf8_next((const unsigned char *)text + i, &n);
        for (size_t k = 0; k < n; k++)
            ns->al[i + k] = (nlp_span){ (int32_t)i, (int32_t)(i + n) };
    }
    ns->len = len;
    return NLP_OK;
}

nlp_status nlp_nstr_put(nlp_nstr *ns, const char *s, size_t n, nlp_span al)
{
    if (nstr_reserve(ns, ns->len + n + 1))
        return NLP_ERR_NOMEM;
    memcpy(ns->s + ns->len, s, n);
    for (size_t k = 0; k < n; k++)
        ns->al[ns->len + k] = al;
    ns->len += n;
    ns->s[ns->len] = '\0';
    return NLP_OK;
}

void nlp_nstr_free(nlp_nstr *ns)
{
    free(ns->s);
    free(ns->al);
    memset(ns, 0, sizeof *ns);
}

static void nstr_swap(nlp_nstr *a, nlp_nstr *b)
{
    nlp_nstr t = *a;
    *a = *b;
    *b = t;
}

/* ------------------------------------------------------------ transforms */

/* Output characters with their changes, applied to a whole string. */
typedef struct ntrans {
    uint32_t *c;
    int32_t *chg;
    size_t n, cap;
} ntrans;

static int trans_push(ntrans *t, uint32_t c, int32_t chg)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        uint32_t *nc = realloc(t->c, cap * sizeof *nc);
        if (!nc)
            return -1;
        t->c = nc;
        int32_t *ng = realloc(t->chg, cap * sizeof *ng);
        if (!ng)
            return -1;
        t->chg = ng;
        t->cap = cap;
    }
    t->c[t->n] = c;
    t->chg[t->n++] = chg;
    return 0;
}

static void trans_free(ntrans *t)
{
    free(t->c);
    free(t->chg);
}

/* tokenizers' replace(): the characters pushed since index `first`
 * replace old_n input characters; set their changes. */
static void trans_replaced(ntrans *t, size_t first, size_t old_n)
{
    size_t new_n = t->n - first;
    if (new_n > old_n) {
        for (size_t i = 0; i < new_n - old_n; i++)
            t->chg[t->n - 1 - i] = 1;
    } else if (new_n < old_n && t->n > 0) {
        t->chg[t->n - 1] -= (int32_t)(old_n - new_n); /* may be an earlier character's */
    }
}

/* Push the characters of UTF-8 s[0..len) with change 0. */
static int trans_push_utf8(ntrans *t, const char *s, size_t len)
{
    for (size_t i = 0, n; i < len; i += n)
        if (trans_push(t, nlp_utf8_next((const unsigned char *)s + i, &n), 0))
            return -1;
    return 0;
}

/* Apply t to ns after skipping its first `skip` characters (tokenizers'
 * transform with initial_offset). */
static nlp_status trans_apply(nlp_nstr *ns, const ntrans *t, size_t skip, nlp_nstr *tmp)
{
    const unsigned char *s = (const unsigned char *)ns->s;
    size_t off = 0, n;
    for (size_t k = 0; k < skip && off < ns->len; k++, off += n)
        (void)nlp_utf8_next(s + off, &n);
    tmp->len = 0;
    for (size_t i = 0; i < t->n; i++) {
        nlp_span al = { 0, 0 };
        int32_t chg = t->chg[i];
        if (chg > 0) {
            if (off >= 1)
                al = ns->al[off - 1 < ns->len ? off - 1 : ns->len - 1];
        } else {
            if (off < ns->len)
                al = ns->al[off];
            else if (ns->len)
                al = (nlp_span){ ns->al[ns->len - 1].e, ns->al[ns->len - 1].e };
            for (int32_t k = 0; k < 1 - chg && off < ns->len; k++, off += n)
                (void)nlp_utf8_next(s + off, &n);
        }
        char u[4];
        if (nlp_nstr_put(tmp, u, nlp_utf8_put(t->c[i], u), al))
            return NLP_ERR_NOMEM;
    }
    nstr_swap(ns, tmp);
    return NLP_OK;
}

/* Byte length of the extended grapheme cluster at s[at..len). */
static size_t grapheme_len(const char *s, size_t len, size_t at)
{
    utf8proc_int32_t state = 0;
    size_t n;
    uint32_t prev = nlp_utf8_next((const unsigned char *)s + at, &n);
    size_t end = at + n;
    while (end < len) {
        uint32_t c = nlp_utf8_next((const unsigned char *)s + end, &n);
        if (utf8proc_grapheme_break_stateful((utf8proc_int32_t)prev, (utf8proc_int32_t)c, &state))
            break;
        prev = c;
        end += n;
    }
    return end - at;
}

/* ------------------------------------------------------------ Precompiled */

typedef struct charsmap {
    uint32_t *trie;     /* darts-clone units */
    size_t n_trie;
    char *norm;         /* replacement table (NUL-separated) */
    size_t n_norm;
} charsmap;

/* The replacement of a key that prefixes s[0..len) (the first one, or
 * the longest when `longest`: sentencepiece's own rule), or NULL; its
 * length in *out_len and the key's in *key_len (may be NULL).  A
 * replacement that is not valid UTF-8 ends the search. */
static const char *charsmap_search(const charsmap *m, const unsigned char *s, size_t len,
                                   int longest, size_t *out_len, size_t *key_len)
{
    if (m->n_trie == 0)
        return NULL;
    const char *found = NULL;
    size_t pos = 0;
    uint32_t unit = m->trie[0];
    pos ^= (size_t)((unit >> 10) << ((unit & (1u << 9)) >> 6));
    for (size_t i = 0; i < len && s[i]; i++) {
        pos ^= s[i];
        if (pos >= m->n_trie)
            return found;
        unit = m->trie[pos];
        if ((unit & ((1u << 31) | 0xFFu)) != s[i])
            return found;
        pos ^= (size_t)((unit >> 10) << ((unit & (1u << 9)) >> 6));
        if (((unit >> 8) & 1) && pos < m->n_trie) {
            size_t at = m->trie[pos] & 0x7FFFFFFFu;
            if (at >= m->n_norm)
                return found;
            const char *r = m->norm + at;
            size_t rl = strnlen(r, m->n_norm - at);
            if (nlp_utf8_check(r, rl) != (size_t)-1)
                return found;
            *out_len = rl;
            if (key_len)
                *key_len = i + 1;
            found = r;
            if (!longest)
                return r;
        }
    }
    return found;
}

/* The replacement of the first key that prefixes s[0..len), or NULL. */
static const char *charsmap_find(const charsmap *m, const unsigned char *s, size_t len,
                                 size_t *out_len)
{
    return charsmap_search(m, s, len, 0, out_len, NULL);
}

/* Replace old_n characters by the replacement r[0..rl). */
static int charsmap_put(ntrans *t, size_t old_n, const char *r, size_t rl)
{
    size_t first = t->n;
    if (trans_push_utf8(t, r, rl))
        return -1;
    trans_replaced(t, first, old_n);
    return 0;
}

static nlp_status precompiled_apply(const charsmap *m, nlp_nstr *ns, nlp_nstr *tmp)
{
    ntrans t = { 0 };
    int modified = 0, bad = 0;
    const unsigned char *s = (const unsigned char *)ns->s;
    for (size_t at = 0; !bad && at < ns->len;) {
        size_t g = grapheme_len(ns->s, ns->len, at), rl, n;
        const char *r = g < 6 ? charsmap_find(m, s + at, g, &rl) : NULL;
        if (r) {
            size_t old_n = 0;
            for (size_t i = at; i < at + g; i++)
                old_n += (s[i] & 0xC0) != 0x80;
            bad = charsmap_put(&t, old_n, r, rl);
            modified = 1;
            at += g;
            continue;
        }
        for (size_t end = at + g; !bad && at < end; at += n) {
            uint32_t c = nlp_utf8_next(s + at, &n);
            if ((r = charsmap_find(m, s + at, n, &rl))) {
                bad = charsmap_put(&t, 1, r, rl);
                modified = 1;
            } else {
                bad = trans_push(&t, c, 0);
            }
        }
    }
    nlp_status st = bad ? NLP_ERR_NOMEM : modified ? trans_apply(ns, &t, 0, tmp) : NLP_OK;
    trans_free(&t);
    return st;
}

/* ------------------------------------------------------------ the rest */

enum { N_PRECOMPILED, N_REPLACE, N_NFC, N_NFKC, N_NFD, N_NFKD, N_LOWER, N_STRIP, N_PREPEND, N_SPM };

typedef struct norm_step {
    int kind;
    charsmap cm;
    pcre2_code *re;        /* Replace */
    char *content;         /* Replace: the replacement; Prepend: the prefix */
    int left, right;       /* Strip */
    nlp_added_trie *user;  /* Spm: user-defined symbols, kept as they are (may be NULL) */
    int spm_flags;         /* Spm: NLP_SPM_* */
} norm_step;

struct nlp_normalizer {
    norm_step *step;
    size_t n, cap;
};

/* Unicode normalisation of each grapheme cluster. */
static nlp_status unicode_apply(int kind, nlp_nstr *ns, nlp_nstr *tmp)
{
    utf8proc_option_t opt = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE |
                            (kind == N_NFKC || kind == N_NFKD ? UTF8PROC_COMPAT : 0);
    ntrans t = { 0 };
    utf8proc_int32_t *buf = NULL;
    size_t cap = 0;
    nlp_status st = NLP_OK;
    for (size_t at = 0; !st && at < ns->len;) {
        size_t g = grapheme_len(ns->s, ns->len, at), old_n = 0;
        for (size_t i = at; i < at + g; i++)
            old_n += ((unsigned char)ns->s[i] & 0xC0) != 0x80;
        utf8proc_ssize_t r = -1;
        for (;;) {
            r = utf8proc_decompose((const utf8proc_uint8_t *)ns->s + at, (utf8proc_ssize_t)g, buf,
                                   (utf8proc_ssize_t)cap, opt);
            if (r < 0 || (size_t)r <= cap)
                break;
            utf8proc_int32_t *nb = realloc(buf, (size_t)r * sizeof *nb);
            if (!nb)
                break;
            buf = nb;
            cap = (size_t)r;
        }
        if (r < 0 || (size_t)r > cap) {
            st = r < 0 ? NLP_ERR_INTERNAL : NLP_ERR_NOMEM;
            break;
        }
        if (kind == N_NFC || kind == N_NFKC)
            r = utf8proc_normalize_utf32(buf, r, opt | UTF8PROC_COMPOSE);
        size_t first = t.n;
        for (utf8proc_ssize_t i = 0; r >= 0 && i < r && !st; i++)
            if (trans_push(&t, (uint32_t)buf[i], 0))
                st = NLP_ERR_NOMEM;
        if (r < 0)
            st = NLP_ERR_INTERNAL;
        trans_replaced(&t, first, old_n);
        at += g;
    }
    if (!st)
        st = trans_apply(ns, &t, 0, tmp);
    free(buf);
    trans_free(&t);
    return st;
}

static nlp_status lower_apply(nlp_nstr *ns, nlp_nstr *tmp)
{
    ntrans t = { 0 };
    int bad = 0;
    for (size_t at = 0, n; !bad && at < ns->len; at += n) {
        uint32_t c = nlp_utf8_next((const unsigned char *)ns->s + at, &n);
        if (c == 0x130) /* İ lowercases to i + combining dot above */
            bad = trans_push(&t, 'i', 0) || trans_push(&t, 0x307, 1);
        else
            bad = trans_push(&t, (uint32_t)utf8proc_tolower((utf8proc_int32_t)c), 0);
    }
    nlp_status st = bad ? NLP_ERR_NOMEM : trans_apply(ns, &t, 0, tmp);
    trans_free(&t);
    return st;
}

static nlp_status strip_apply(const norm_step *k, nlp_nstr *ns, nlp_nstr *tmp)
{
    size_t lead = 0, a = 0, b = ns->len, n;
    while (k->left && a < b && nlp_is_white_space(nlp_utf8_next((const unsigned char *)ns->s + a, &n))) {
        a += n;
        lead++;
    }
    while (k->right && b > a) {
        size_t p = b - 1;
        while (p > a && ((unsigned char)ns->s[p] & 0xC0) == 0x80)
            p--;
        if (!nlp_is_white_space(nlp_utf8_next((const unsigned char *)ns->s + p, &n)))
            break;
        b = p;
    }
    if (a == 0 && b == ns->len)
        return NLP_OK;
    ntrans t = { 0 };
    int bad = 0;
    for (size_t at = a; !bad && at < b; at += n)
        bad = trans_push(&t, nlp_utf8_next((const unsigned char *)ns->s + at, &n), 0);
    nlp_status st = bad ? NLP_ERR_NOMEM : trans_apply(ns, &t, lead, tmp);
    trans_free(&t);
    return st;
}

nlp_status nlp_nstr_prepend(nlp_nstr *ns, const char *p, size_t plen, nlp_nstr *tmp)
{
    if (ns->len == 0 || plen == 0)
        return NLP_OK;
    nlp_span first = ns->al[0];
    tmp->len = 0;
    if (nlp_nstr_put(tmp, p, plen, first) || nlp_nstr_put(tmp, ns->s, ns->len, first))
        return NLP_ERR_NOMEM;
    memcpy(tmp->al + plen, ns->al, ns->len * sizeof *ns->al);
    nstr_swap(ns, tmp);
    return NLP_OK;
}

/* Replace every match of k->re by k->content: the new characters take
 * the range of the match's last byte. */
static nlp_status replace_apply(const norm_step *k, nlp_nstr *ns, nlp_nstr *tmp)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(k->re, NULL);
    if (!md)
        return NLP_ERR_NOMEM;
    size_t clen = strlen(k->content), at = 0, copied = 0;
    nlp_status st = NLP_OK;
    tmp->len = 0;
    while (!st && at <= ns->len) {
        int rc = pcre2_match(k->re, (PCRE2_SPTR)ns->s, ns->len, at, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc < 0) {
            st = rc == PCRE2_ERROR_NOMATCH ? NLP_OK : NLP_ERR_INTERNAL;
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1], n = 1;
        if (me == ms) { /* empty matches replace nothing */
            if (ms < ns->len)
                (void)nlp_utf8_next((const unsigned char *)ns->s + ms, &n);
            at = ms + n;
            continue;
        }
        size_t keep = tmp->len;
        if (nlp_nstr_put(tmp, ns->s + copied, ms - copied, (nlp_span){ 0, 0 }) ||
            nlp_nstr_put(tmp, k->content, clen, ns->al[me - 1])) {
            st = NLP_ERR_NOMEM;
            break;
        }
        memcpy(tmp->al + keep, ns->al + copied, (ms - copied) * sizeof *ns->al);
        copied = at = me;
    }
    size_t keep = tmp->len;
    if (!st && nlp_nstr_put(tmp, ns->s + copied, ns->len - copied, (nlp_span){ 0, 0 }))
        st = NLP_ERR_NOMEM;
    if (!st) {
        memcpy(tmp->al + keep, ns->al + copied, (ns->len - copied) * sizeof *ns->al);
        nstr_swap(ns, tmp);
    }
    pcre2_match_data_free(md);
    return st;
}

/* ------------------------------------------------------------ sentencepiece */

/* sentencepiece's NormalizePrefix at s[at..len): the longest user-defined
 * symbol there (unchanged), else the longest charsmap key (replaced),
 * else one character.  *r / *rl get the output, the input length is
 * returned. */
static size_t spm_prefix(const norm_step *k, const char *s, size_t len, size_t at,
                         const char **r, size_t *rl)
{
    size_t n = 0;
    int32_t node = 0;
    for (size_t i = at; k->user && i < len; i++) {
        if ((node = nlp_added_trie_step(k->user, node, (unsigned char)s[i])) < 0)
            break;
        if (nlp_added_trie_value(k->user, node) >= 0)
            n = i + 1 - at;
    }
    if (n > 0) {
        *r = s + at;
        *rl = n;
        return n;
    }
    const char *x = charsmap_search(&k->cm, (const unsigned char *)s + at, len - at, 1, rl, &n);
    if (x && n > 0) {
        *r = x;
        return n;
    }
    (void)nlp_utf8_next((const unsigned char *)s + at, &n);
    *r = s + at;
    *rl = n;
    return n;
}

/* Append r[0..rl) to out, every byte (a space as U+2581 when escaping)
 * aligned to input position `at` (fixed up by spm_align). */
static int spm_put(const norm_step *k, nlp_nstr *out, const char *r, size_t rl, size_t at)
{
    nlp_span al = { (int32_t)at, (int32_t)at };
    for (size_t i = 0; i < rl; i++) {
        int esc = r[i] == ' ' && (k->spm_flags & NLP_SPM_ESCAPE);
        if (nlp_nstr_put(out, esc ? "\xE2\x96\x81" : r + i, esc ? 3 : 1, al))
            return -1;
    }
    return 0;
}

/* sentencepiece's offsets: byte i covers [n2o(i), n2o(i + 1)) where n2o is
 * the input position its output came from (stored in .s) and n2o(len) is
 * `end`; positions map through the input's own alignments. */
static void spm_align(nlp_nstr *out, const nlp_nstr *in, size_t end)
{
    for (size_t i = 0; i < out->len; i++) {
        size_t a = (size_t)out->al[i].s, b = i + 1 < out->len ? (size_t)out->al[i + 1].s : end;
        out->al[i].s = a < in->len ? in->al[a].s : in->al[in->len - 1].e;
        out->al[i].e = b < in->len ? in->al[b].s : in->al[in->len - 1].e;
    }
}

/* sentencepiece's Normalizer::Normalize (remove_extra_whitespaces,
 * add_dummy_prefix, escape_whitespaces) over ns. */
static nlp_status spm_apply(const norm_step *k, nlp_nstr *ns, nlp_nstr *tmp)
{
    int extra = (k->spm_flags & NLP_SPM_REMOVE_EXTRA_WS) != 0;
    size_t at = 0, len = ns->len, rl, n;
    const char *r;
    tmp->len = 0;
    while (extra && at < len && (n = spm_prefix(k, ns->s, len, at, &r, &rl)) && rl == 1 && *r == ' ')
        at += n;
    if (at < len && (k->spm_flags & NLP_SPM_DUMMY_PREFIX) && spm_put(k, tmp, " ", 1, at))
        return NLP_ERR_NOMEM;
    for (int prev_space = extra; at < len; at += n) {
        n = spm_prefix(k, ns->s, len, at, &r, &rl);
        while (prev_space && rl > 0 && *r == ' ') {
            r++;
            rl--;
        }
        if (rl > 0) {
            if (spm_put(k, tmp, r, rl, at))
                return NLP_ERR_NOMEM;
            prev_space = r[rl - 1] == ' ';
        }
        prev_space &= extra;
    }
    size_t end = len, sl = (k->spm_flags & NLP_SPM_ESCAPE) ? 3 : 1;
    const char *sp = sl == 3 ? "\xE2\x96\x81" : " ";
    while (extra && tmp->len >= sl && memcmp(tmp->s + tmp->len - sl, sp, sl) == 0) {
        tmp->len -= sl;
        end = (size_t)tmp->al[tmp->len].s;
    }
    if (tmp->s)
        tmp->s[tmp->len] = '\0';
    spm_align(tmp, ns, end);
    nstr_swap(ns, tmp);
    if (!ns->s)
        return nlp_nstr_set(ns, "", 0);
    return NLP_OK;
}

nlp_status nlp_normalizer_apply(const nlp_normalizer *nz, nlp_nstr *ns, nlp_nstr *tmp)
{
    nlp_status st = NLP_OK;
    for (size_t i = 0; nz && !st && i < nz->n; i++) {
        const norm_step *k = &nz->step[i];
        switch (k->kind) {
        case N_PRECOMPILED: st = precompiled_apply(&k->cm, ns, tmp); break;
        case N_REPLACE: st = replace_apply(k, ns, tmp); break;
        case N_LOWER: st = lower_apply(ns, tmp); break;
        case N_STRIP: st = strip_apply(k, ns, tmp); break;
        case N_PREPEND: st = nlp_nstr_prepend(ns, k->content, strlen(k->content), tmp); break;
        case N_SPM: st = spm_apply(k, ns, tmp); break;
        default: st = unicode_apply(k->kind, ns, tmp); break;
        }
    }
    return st;
}

/* ------------------------------------------------------------ loading */

void nlp_normalizer_free(nlp_normalizer *nz)
{
    if (!nz)
        return;
    for (size_t i = 0; i < nz->n; i++) {
        free(nz->step[i].cm.trie);
        free(nz->step[i].cm.norm);
        pcre2_code_free(nz->step[i].re);
        nlp_added_trie_free(nz->step[i].user);
        free(nz->step[i].content);
    }
    free(nz->step);
    free(nz);
}

static norm_step *step_new(nlp_normalizer *nz, int kind)
{
    if (nz->n == nz->cap) {
        size_t cap = nz->cap ? 2 * nz->cap : 4;
        norm_step *p = realloc(nz->step, cap * sizeof *p);
        if (!p)
            return NULL;
        nz->step = p;
        nz->cap = cap;
    }
    norm_step *k = &nz->step[nz->n++];
    memset(k, 0, sizeof *k);
    k->kind = kind;
    return k;
}

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Standard base64 (padding optional) into a new buffer; -1 when malformed. */
static int b64_decode(const char *in, unsigned char **out, size_t *out_len)
{
    size_t n = strlen(in);
    while (n > 0 && in[n - 1] == '=')
        n--;
    unsigned char *o = malloc(n * 3 / 4 + 3);
    if (!o)
        return -2;
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val((unsigned char)in[i]);
        if (v < 0) {
            free(o);
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (unsigned char)(acc >> bits);
        }
    }
    *out = o;
    *out_len = k;
    return 0;
}

/* A charsmap's bytes b[0..n): u32 trie size in bytes, the trie, the
 * table.  NLP_ERR_FORMAT when the sizes do not fit, NLP_ERR_NOMEM. */
static nlp_status charsmap_parse(charsmap *m, const unsigned char *b, size_t n)
{
    uint32_t tsize = n >= 4 ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                                  (uint32_t)b[3] << 24
                            : 0;
    if (n < 4 || tsize % 4 || tsize > n - 4)
        return NLP_ERR_FORMAT;
    m->n_trie = tsize / 4;
    m->n_norm = n - 4 - tsize;
    m->trie = malloc((m->n_trie ? m->n_trie : 1) * sizeof *m->trie);
    m->norm = malloc(m->n_norm + 1);
    if (!m->trie || !m->norm)
        return NLP_ERR_NOMEM;
    for (size_t i = 0; i < m->n_trie; i++) {
        const unsigned char *p = b + 4 + 4 * i;
        m->trie[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    }
    memcpy(m->norm, b + 4 + tsize, m->n_norm);
    m->norm[m->n_norm] = '\0';
    return NLP_OK;
}

/* precompiled_charsmap: base64 of the bytes charsmap_parse reads. */
static nlp_status charsmap_load(charsmap *m, const cJSON *j, const char *path, const char *field,
                                nlp_error *err)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "precompiled_charsmap");
    if (cJSON_IsNull(x) || (cJSON_IsString(x) && !*x->valuestring))
        return NLP_OK; /* no map: the identity */
    unsigned char *b = NULL;
    size_t n = 0;
    int rc = cJSON_IsString(x) ? b64_decode(x->valuestring, &b, &n) : -1;
    if (rc == -2)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    nlp_status s = rc ? NLP_ERR_FORMAT : charsmap_parse(m, b, n);
    free(b);
    if (s == NLP_ERR_NOMEM)
        return nlp_error_set(err, s, "%s: out of memory", path);
    if (s)
        return nlp_error_set(err, s, "%s: %s.precompiled_charsmap is not a base64 sentencepiece charsmap",
                             path, field);
    return NLP_OK;
}

/* Replace's pattern {"String": s} or {"Regex": r}, compiled with PCRE2. */
static nlp_status replace_load(norm_step *k, const cJSON *j, const char *path, const char *field,
                               nlp_error *err)
{
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(j, "pattern");
    const cJSON *str = cJSON_GetObjectItemCaseSensitive(pat, "String");
    const cJSON *re = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(j, "content");
    const cJSON *p = cJSON_IsString(str) ? str : re;
    if (!cJSON_IsString(p) || !cJSON_IsString(content) ||
        nlp_utf8_check(content->valuestring, strlen(content->valuestring)) != (size_t)-1)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: %s needs a \"pattern\" ({\"String\"|\"Regex\": string}) and a \"content\" string",
                             path, field);
    if (!(k->content = strdup(content->valuestring)))
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    int ec;
    PCRE2_SIZE eo;
    k->re = pcre2_compile((PCRE2_SPTR)p->valuestring, PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | (p == str ? PCRE2_LITERAL : PCRE2_UCP), &ec, &eo, NULL);
    if (!k->re)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: %s.pattern does not compile (PCRE2 error %d at %zu)",
                             path, field, ec, (size_t)eo);
    return NLP_OK;
}

static nlp_status norm_parse(nlp_normalizer *nz, const cJSON *j, const char *path,
                             const char *field, int depth, nlp_error *err)
{
    static const struct { const char *name; int kind; } simple[] = {
        { "NFC", N_NFC }, { "NFKC", N_NFKC }, { "NFD", N_NFD }, { "NFKD", N_NFKD }, { "Lowercase", N_LOWER },
    };
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(ty))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: %s has no \"type\"", path, field);
    const char *t = ty->valuestring;
    char sub[96];
    if (strcmp(t, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "normalizers"), *x;
        if (!cJSON_IsArray(list) || depth > 8)
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: %s.normalizers is missing or not a list", path, field);
        int i = 0;
        cJSON_ArrayForEach(x, list) {
            snprintf(sub, sizeof sub, "%.60s.normalizers[%d]", field, i++);
            nlp_status s = norm_parse(nz, x, path, sub, depth + 1, err);
            if (s)
                return s;
        }
        return NLP_OK;
    }
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcmp(t, simple[i].name) == 0)
            return step_new(nz, simple[i].kind) ? NLP_OK
                                                 : nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    norm_step *k = NULL;
    if (strcmp(t, "Precompiled") == 0 && (k = step_new(nz, N_PRECOMPILED)))
        return charsmap_load(&k->cm, j, path, field, err);
    if (strcmp(t, "Replace") == 0 && (k = step_new(nz, N_REPLACE)))
        return replace_load(k, j, path, field, err);
    if (strcmp(t, "Strip") == 0 && (k = step_new(nz, N_STRIP))) {
        k->left = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "strip_left"));
        k->right = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "strip_right"));
        return NLP_OK;
    }
    if (strcmp(t, "Prepend") == 0 && (k = step_new(nz, N_PREPEND))) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "prepend");
        if (!cJSON_IsString(p) || nlp_utf8_check(p->valuestring, strlen(p->valuestring)) != (size_t)-1)
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: %s.prepend is not a string", path, field);
        return (k->content = strdup(p->valuestring)) ? NLP_OK
                                                      : nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    }
    if (k == NULL && (strcmp(t, "Precompiled") == 0 || strcmp(t, "Replace") == 0 ||
                      strcmp(t, "Strip") == 0 || strcmp(t, "Prepend") == 0))
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                         "%s: unsupported normalizer type \"%.40s\" in %s (Precompiled, Sequence, Replace, NFC, NFKC, NFD, NFKD, Lowercase, Strip, Prepend)",
                         path, t, field);
}

nlp_status nlp_normalizer_from_json(const cJSON *j, const char *path, nlp_normalizer **out,
                                    nlp_error *err)
{
    *out = NULL;
    if (!j || cJSON_IsNull(j))
        return NLP_OK;
    nlp_normalizer *nz = calloc(1, sizeof *nz);
    if (!nz)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    nlp_status s = norm_parse(nz, j, path, "normalizer", 0, err);
    if (s) {
        nlp_normalizer_free(nz);
        return s;
    }
    *out = nz;
    return NLP_OK;
}

nlp_status nlp_normalizer_spm(const unsigned char *cmap, size_t n, nlp_added_trie *user,
                              int flags, nlp_normalizer **out)
{
    *out = NULL;
    nlp_normalizer *nz = calloc(1, sizeof *nz);
    norm_step *k = nz ? step_new(nz, N_SPM) : NULL;
    if (!k) {
        free(nz);
        nlp_added_trie_free(user);
        return NLP_ERR_NOMEM;
    }
    k->user = user;
    k->spm_flags = flags;
    nlp_status s = n ? charsmap_parse(&k->cm, cmap, n) : NLP_OK;
    if (s) {
        nlp_normalizer_free(nz);
        return s;
    }
    *out = nz;
    return NLP_OK;
}
