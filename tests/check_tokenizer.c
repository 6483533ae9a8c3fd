/*
 * check_tokenizer.c - the tokenizer against reference outputs written by
 * tests/gen/gen_tokenizer_expected.py (tests/gen/ref_tokenizer.py,
 * cross-checked with Transformers.js):
 *   - hand-made hard cases under five configurations (uncased, cased,
 *     explicit strip_accents true/false, tokenize_chinese_chars false), from
 *     vocab.txt and from tokenizer.json, with the committed small vocabulary;
 *   - 11,700+ real sentences from ../shared/data with bert-base-uncased
 *     (skipped when that folder is absent);
 *   - byte-level BPE (roberta.jsonl, gen_bpe_expected.py; ModernBERT's
 *     NFC-normalised BPE, modernbert.jsonl, gen_modernbert.py) and Unigram
 *     (t5.jsonl, gen_unigram_expected.py) over real text from ../shared;
 *   - truncation strategies, apply_template, decode, look-ups, and every
 *     error path (missing files, malformed or unsupported tokenizer.json,
 *     invalid UTF-8 with its byte offset).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>

#include "nlp/nlp.h"

#define TOKDATA NLP_TEST_DATA "/expected/tokenizer"
#define MINI TOKDATA "/mini"
#define MINI_JSON TOKDATA "/mini-json"
#define FULL_VOCAB_DIR NLP_SHARED_DATA "/vocab/bert-base-uncased"

/* ------------------------------------------------------------ helpers */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

/* All lines of a JSON Lines file, parsed. */
typedef struct jl {
    cJSON **row;
    size_t n;
} jl;

static jl jl_load(const char *path)
{
    jl r = { NULL, 0 };
    char *data = slurp(path, NULL);
    ck_assert_msg(data != NULL, "cannot read %s", path);
    size_t cap = 0;
    for (char *p = data; *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (*p) {
            if (r.n == cap) {
                cap = cap ? cap * 2 : 64;
                r.row = realloc(r.row, cap * sizeof *r.row);
            }
            r.row[r.n] = cJSON_Parse(p);
            ck_assert_msg(r.row[r.n] != NULL, "%s: bad JSON line %zu", path, r.n + 1);
            r.n++;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    free(data);
    return r;
}

static void jl_free(jl *r)
{
    for (size_t i = 0; i < r->n; i++)
        cJSON_Delete(r->row[i]);
    free(r->row);
}

static int jint(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k)->valueint;
}

/* Byte offset of code point cp in s. */
static size_t cp_to_byte(const char *s, size_t len, int32_t cp)
{
    size_t b = 0;
    for (int32_t k = 0; b < len; b++)
        if (((unsigned char)s[b] & 0xC0) != 0x80 && k++ == cp)
            return b;
    return len;
}

/* Compare an encoding with expected arrays; offsets are flat [s,e,...]
 * or delta-coded; byte offsets are checked against the code-point ones.
 * Returns NULL when equal, else a static description. */
static const char *enc_diff(const nlp_encoding *e, const cJSON *ids, const cJSON *types,
                            const cJSON *off, int delta, const cJSON *words,
                            const char *a, size_t alen, const char *b, size_t blen)
{
    static char why[256];
    size_t n = (size_t)cJSON_GetArraySize(ids);
    if (e->n != n) {
        snprintf(why, sizeof why, "%zu tokens, expected %zu", e->n, n);
        return why;
    }
    int32_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t s, en;
        if (delta) {
            s = prev + cJSON_GetArrayItem(off, (int)(2 * i))->valueint;
            en = s + cJSON_GetArrayItem(off, (int)(2 * i + 1))->valueint;
            prev = en;
        } else {
            s = cJSON_GetArrayItem(off, (int)(2 * i))->valueint;
            en = cJSON_GetArrayItem(off, (int)(2 * i + 1))->valueint;
        }
        int32_t id = cJSON_GetArrayItem(ids, (int)i)->valueint;
        int32_t ty = types ? cJSON_GetArrayItem(types, (int)i)->valueint : 0;
        if (e->ids[i] != id || e->type_ids[i] != ty || e->start[i] != s || e->end[i] != en) {
            snprintf(why, sizeof why, "token %zu: id %d type %d [%d,%d), expected id %d type %d [%d,%d)",
                     i, e->ids[i], e->type_ids[i], e->start[i], e->end[i], id, ty, s, en);
            return why;
        }
        if (words && e->word[i] != cJSON_GetArrayItem(words, (int)i)->valueint) {
            snprintf(why, sizeof why, "token %zu: word %d, expected %d", i, e->word[i],
                     cJSON_GetArrayItem(words, (int)i)->valueint);
            return why;
        }
        if (e->special[i]) {
            if (e->byte_start[i] != 0 || e->byte_end[i] != 0 || e->seq[i] != -1) {
                snprintf(why, sizeof why, "token %zu: special token with offsets", i);
                return why;
            }
            continue;
        }
        const char *t = e->seq[i] == 1 ? b : a;
        size_t tl = e->seq[i] == 1 ? blen : alen;
        if ((size_t)e->byte_start[i] != cp_to_byte(t, tl, s) ||
            (size_t)e->byte_end[i] != cp_to_byte(t, tl, en) || e->seq[i] != e->type_ids[i]) {
            snprintf(why, sizeof why, "token %zu: bytes [%d,%d) do not match code points [%d,%d)",
                     i, e->byte_start[i], e->byte_end[i], s, en);
            return why;
        }
    }
    return NULL;
}

static nlp_tokenizer *load_dir(const char *dir)
{
    nlp_tokenizer *t = NULL;
    nlp_error err;
    nlp_status s = nlp_tokenizer_load(dir, &t, &err);
    ck_assert_msg(s == NLP_OK, "load %s: %s", dir, err.msg);
    return t;
}

/* A temporary model folder: the mini vocab.txt plus optional files. */
static char *tmp_dir(void)
{
    char tmpl[] = "/tmp/check_tokenizer.XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert(d != NULL);
    return strdup(d);
}

static void put_file(const char *dir, const char *name, const char *content, size_t len)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    ck_assert(f != NULL);
    ck_assert(fwrite(content, 1, len, f) == len);
    fclose(f);
}

static void rm_dir(char *dir)
{
    const char *names[] = { "vocab.txt", "tokenizer.json", "tokenizer_config.json",
                            "special_tokens_map.json" };
    char p[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    free(dir);
}

static void unlink_in(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    unlink(p);
}

static void copy_mini_vocab(const char *dir)
{
    size_t n;
    char *v = slurp(MINI "/vocab.txt", &n);
    ck_assert(v != NULL);
    put_file(dir, "vocab.txt", v, n);
    free(v);
}

/* ------------------------------------------------------------ hard cases */

static void run_hard(nlp_tokenizer *t, const char *cfg)
{
    jl in = jl_load(TOKDATA "/hard_inputs.jsonl");
    jl ex = jl_load(TOKDATA "/hard_cases.jsonl");
    nlp_encoding e = { 0 };
    nlp_error err;
    size_t checked = 0;
    for (size_t r = 0; r < ex.n; r++) {
        const cJSON *row = ex.row[r];
        if (strcmp(cJSON_GetObjectItemCaseSensitive(row, "cfg")->valuestring, cfg) != 0)
            continue;
        const cJSON *q = in.row[jint(row, "case")];
        const char *a = cJSON_GetObjectItemCaseSensitive(q, "text")->valuestring;
        const cJSON *pj = cJSON_GetObjectItemCaseSensitive(q, "pair");
        const char *b = cJSON_IsString(pj) ? pj->valuestring : NULL;
        nlp_status s = nlp_tokenizer_encode(t, a, strlen(a), b, b ? strlen(b) : 0, NULL, &e, &err);
        ck_assert_msg(s == NLP_OK, "[%s] case %d: %s", cfg, jint(row, "case"), err.msg);
        const char *why = enc_diff(&e, cJSON_GetObjectItemCaseSensitive(row, "ids"),
                                   cJSON_GetObjectItemCaseSensitive(row, "type_ids"),
                                   cJSON_GetObjectItemCaseSensitive(row, "off"), 0,
                                   cJSON_GetObjectItemCaseSensitive(row, "words"), a, strlen(a),
                                   b, b ? strlen(b) : 0);
        ck_assert_msg(why == NULL, "[%s] case %d (%.40s): %s", cfg, jint(row, "case"), a, why);
        checked++;
    }
    ck_assert_msg(checked == in.n, "[%s] %zu of %zu cases checked", cfg, checked, in.n);
    nlp_encoding_free(&e);
    jl_free(&in);
    jl_free(&ex);
}

START_TEST(hard_uncased_vocab_txt)
{
    nlp_tokenizer *t = load_dir(MINI);
    run_hard(t, "uncased");
    nlp_tokenizer_free(t);
}
END_TEST

START_TEST(hard_uncased_tokenizer_json)
{
    nlp_tokenizer *t = load_dir(MINI_JSON);
    run_hard(t, "uncased");
    ck_assert_uint_eq(nlp_tokenizer_model_max_length(t), 512);
    nlp_tokenizer_free(t);
}
END_TEST

START_TEST(hard_flag_variants)
{
    static const struct { const char *cfg; int lower, strip; } v[] = {
        { "uncased", 1, -1 }, { "cased", 0, -1 }, { "cased_strip", 0, 1 },
        { "uncased_nostrip", 1, 0 },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        nlp_tokenizer *t = NULL;
        nlp_error err;
        ck_assert_msg(nlp_tokenizer_load_vocab(MINI "/vocab.txt", v[i].lower, v[i].strip, &t, &err) == NLP_OK,
                      "%s", err.msg);
        run_hard(t, v[i].cfg);
        nlp_tokenizer_free(t);
    }
}
END_TEST

/* The same variants through tokenizer_config.json (vocab.txt folder) and
 * through tokenizer.json's BertNormalizer. */
START_TEST(hard_config_variants)
{
    static const struct { const char *cfg, *json; } v[] = {
        { "cased", "{\"do_lower_case\": false}" },
        { "cased_strip", "{\"do_lower_case\": false, \"strip_accents\": true}" },
        { "uncased_nostrip", "{\"do_lower_case\": true, \"strip_accents\": false}" },
        { "nochinese", "{\"tokenize_chinese_chars\": false, \"strip_accents\": null}" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *d = tmp_dir();
        copy_mini_vocab(d);
        put_file(d, "tokenizer_config.json", v[i].json, strlen(v[i].json));
        nlp_tokenizer *t = load_dir(d);
        run_hard(t, v[i].cfg);
        nlp_tokenizer_free(t);
        rm_dir(d);
    }
    /* tokenizer.json with the normaliser flags edited */
    static const struct { const char *cfg; int lower, strip, chinese; } w[] = {
        { "cased", 0, -1, 1 }, { "cased_strip", 0, 1, 1 }, { "uncased_nostrip", 1, 0, 1 },
        { "nochinese", 1, -1, 0 },
    };
    size_t n;
    char *src = slurp(MINI_JSON "/tokenizer.json", &n);
    ck_assert(src != NULL);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        cJSON *root = cJSON_Parse(src);
        cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
        cJSON_ReplaceItemInObjectCaseSensitive(norm, "lowercase", cJSON_CreateBool(w[i].lower));
        cJSON_ReplaceItemInObjectCaseSensitive(norm, "handle_chinese_chars",
                                               cJSON_CreateBool(w[i].chinese));
        cJSON_ReplaceItemInObjectCaseSensitive(norm, "strip_accents",
                                               w[i].strip < 0 ? cJSON_CreateNull()
                                                              : cJSON_CreateBool(w[i].strip));
        char *txt = cJSON_PrintUnformatted(root);
        char *d = tmp_dir();
        put_file(d, "tokenizer.json", txt, strlen(txt));
        nlp_tokenizer *t = load_dir(d);
        run_hard(t, w[i].cfg);
        nlp_tokenizer_free(t);
        rm_dir(d);
        free(txt);
        cJSON_Delete(root);
    }
    /* an unedited tokenizer.json whose tokenizer_config.json states the
     * flags: the config wins, as in transformers */
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *d = tmp_dir();
        put_file(d, "tokenizer.json", src, n);
        put_file(d, "tokenizer_config.json", v[i].json, strlen(v[i].json));
        nlp_tokenizer *t = load_dir(d);
        run_hard(t, v[i].cfg);
        nlp_tokenizer_free(t);
        rm_dir(d);
    }
    free(src);
}
END_TEST

/* Extra added tokens in tokenizer.json (ids after the vocabulary), special
 * or not: matched in the raw text, or in the normalised text when marked
 * "normalized"; never used as WordPiece pieces. */
static void run_added(const char *file)
{
    jl ex = jl_load(file);
    size_t n;
    char *src = slurp(MINI_JSON "/tokenizer.json", &n);
    ck_assert(src != NULL);
    cJSON *root = cJSON_Parse(src);
    free(src);
    cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(ex.row[0], "added")) {
        cJSON *o = cJSON_Duplicate(a, 1);
        if (!cJSON_GetObjectItemCaseSensitive(o, "normalized"))
            cJSON_AddFalseToObject(o, "normalized");
        cJSON_AddItemToArray(added, o);
    }
    char *txt = cJSON_PrintUnformatted(root);
    char *d = tmp_dir();
    put_file(d, "tokenizer.json", txt, strlen(txt));
    free(txt);
    nlp_tokenizer *t = load_dir(d);
    nlp_encoding e = { 0 };
    nlp_error err;
    for (size_t r = 0; r < ex.n; r++) {
        const char *s = cJSON_GetObjectItemCaseSensitive(ex.row[r], "text")->valuestring;
        ck_assert(nlp_tokenizer_encode(t, s, strlen(s), NULL, 0, NULL, &e, &err) == NLP_OK);
        const char *why = enc_diff(&e, cJSON_GetObjectItemCaseSensitive(ex.row[r], "ids"), NULL,
                                   cJSON_GetObjectItemCaseSensitive(ex.row[r], "off"), 0,
                                   cJSON_GetObjectItemCaseSensitive(ex.row[r], "words"), s,
                                   strlen(s), NULL, 0);
        ck_assert_msg(why == NULL, "%s case %zu: %s", file, r, why);
    }
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(ex.row[0], "added")) {
        int32_t id = cJSON_GetObjectItemCaseSensitive(a, "id")->valueint;
        const char *c = cJSON_GetObjectItemCaseSensitive(a, "content")->valuestring;
        ck_assert_int_eq(nlp_tokenizer_token_to_id(t, c), id);
        ck_assert_str_eq(nlp_tokenizer_id_to_token(t, id), c);
        ck_assert_int_eq(nlp_tokenizer_is_special(t, id),
                         cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "special")));
    }
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(ex.row[0], "added");
    const cJSON *last = cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1);
    ck_assert_uint_eq(nlp_tokenizer_vocab_size(t),
                      (size_t)cJSON_GetObjectItemCaseSensitive(last, "id")->valueint + 1);
    nlp_encoding_free(&e);
    nlp_tokenizer_free(t);
    rm_dir(d);
    cJSON_Delete(root);
    jl_free(&ex);
}

START_TEST(added_tokens_json)
{
    run_added(TOKDATA "/added_tokens.jsonl");
    run_added(TOKDATA "/added_normalized.jsonl");
}
END_TEST

/* ------------------------------------------------------------ parity */

typedef struct strvec {
    char **s;
    size_t n, cap;
} strvec;

static void sv_push(strvec *v, const char *s, size_t len)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1024;
        v->s = realloc(v->s, v->cap * sizeof *v->s);
    }
    v->s[v->n] = malloc(len + 1);
    memcpy(v->s[v->n], s, len);
    v->s[v->n][len] = '\0';
    v->n++;
}

static void sv_free(strvec *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->s[i]);
    free(v->s);
}

/* Lines of a file (\n separated, trailing \r dropped); index = line - 1. */
static strvec file_lines(const char *path)
{
    strvec v = { 0 };
    size_t n;
    char *d = slurp(path, &n);
    ck_assert_msg(d != NULL, "cannot read %s", path);
    size_t off = 0;
    while (off < n) {
        char *nl = memchr(d + off, '\n', n - off);
        size_t end = nl ? (size_t)(nl - d) : n;
        size_t e = end;
        if (e > off && d[e - 1] == '\r')
            e--;
        sv_push(&v, d + off, e - off);
        off = end + 1;
    }
    free(d);
    return v;
}

static strvec first_field(const strvec *lines, char sep)
{
    strvec v = { 0 };
    for (size_t i = 0; i < lines->n; i++) {
        const char *t = strchr(lines->s[i], sep);
        sv_push(&v, lines->s[i], t ? (size_t)(t - lines->s[i]) : strlen(lines->s[i]));
    }
    return v;
}

static strvec conll_sentences(const char *path)
{
    strvec lines = file_lines(path), out = { 0 };
    char *buf = malloc(1 << 20);
    size_t len = 0, ntok = 0;
    int doc = 0;
    for (size_t i = 0; i <= lines.n; i++) {
        const char *l = i < lines.n ? lines.s[i] : "";
        int blank = 1;
        for (const char *p = l; *p; p++)
            if (*p != ' ' && *p != '\t')
                blank = 0;
        if (blank) {
            if (ntok && !doc)
                sv_push(&out, buf, len);
            len = ntok = 0;
            doc = 0;
            continue;
        }
        const char *sp = strchr(l, ' ');
        size_t k = sp ? (size_t)(sp - l) : strlen(l);
        if (ntok == 0 && k == 10 && memcmp(l, "-DOCSTART-", 10) == 0)
            doc = 1;
        if (ntok)
            buf[len++] = ' ';
        memcpy(buf + len, l, k);
        len += k;
        ntok++;
    }
    free(buf);
    sv_free(&lines);
    return out;
}

static strvec squad_contexts(const char *path)
{
    strvec v = { 0 };
    char *d = slurp(path, NULL);
    ck_assert_msg(d != NULL, "cannot read %s", path);
    cJSON *root = cJSON_Parse(d);
    free(d);
    ck_assert(root != NULL);
    const cJSON *art, *par;
    cJSON_ArrayForEach(art, cJSON_GetObjectItemCaseSensitive(root, "data")) {
        cJSON_ArrayForEach(par, cJSON_GetObjectItemCaseSensitive(art, "paragraphs")) {
            const char *c = cJSON_GetObjectItemCaseSensitive(par, "context")->valuestring;
            sv_push(&v, c, strlen(c));
        }
    }
    cJSON_Delete(root);
    return v;
}

/* AG News CSV rows (RFC 4180 quoting): title + " " + description. */
static strvec agnews_texts(const char *path)
{
    strvec v = { 0 };
    size_t n;
    char *d = slurp(path, &n);
    ck_assert_msg(d != NULL, "cannot read %s", path);
    char *field[3];
    size_t flen[3];
    char *buf = malloc(n + 1);
    size_t i = 0;
    while (i < n) {
        int nf = 0;
        size_t w = 0;
        for (;;) {
            char *start = buf + w;
            if (i < n && d[i] == '"') {
                i++;
                while (i < n) {
                    if (d[i] == '"') {
                        if (i + 1 < n && d[i + 1] == '"') {
                            buf[w++] = '"';
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    buf[w++] = d[i++];
                }
            }
            while (i < n && d[i] != ',' && d[i] != '\n' && d[i] != '\r')
                buf[w++] = d[i++];
            if (nf < 3) {
                field[nf] = start;
                flen[nf] = (size_t)(buf + w - start);
            }
            nf++;
            if (i < n && d[i] == ',') {
                i++;
                continue;
            }
            if (i < n && d[i] == '\r')
                i++;
            if (i < n && d[i] == '\n')
                i++;
            break;
        }
        ck_assert_int_eq(nf, 3);
        char *t = malloc(flen[1] + flen[2] + 2);
        memcpy(t, field[1], flen[1]);
        t[flen[1]] = ' ';
        memcpy(t + flen[1] + 1, field[2], flen[2]);
        sv_push(&v, t, flen[1] + 1 + flen[2]);
        free(t);
    }
    free(buf);
    free(d);
    return v;
}

static int dir_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

START_TEST(parity_real_sentences)
{
    strvec train_l = file_lines(NLP_SHARED_DATA "/sst2/train.tsv");
    strvec dev_l = file_lines(NLP_SHARED_DATA "/sst2/dev.tsv");
    strvec train = first_field(&train_l, '\t'), dev = first_field(&dev_l, '\t');
    strvec conll = conll_sentences(NLP_SHARED_DATA "/conll2003/valid.txt");
    strvec squad = squad_contexts(NLP_SHARED_DATA "/squad/dev-a-v1.1.json");
    strvec ag = agnews_texts(NLP_SHARED_DATA "/agnews/test-a.csv");
    jl hard = jl_load(TOKDATA "/hard_inputs.jsonl");
    jl ex = jl_load(TOKDATA "/parity.jsonl");
    nlp_tokenizer *t = load_dir(FULL_VOCAB_DIR);
    nlp_encoding e = { 0 };
    nlp_error err;
    size_t bad = 0, real = 0, tokens = 0;
    for (size_t r = 0; r < ex.n; r++) {
        const cJSON *row = ex.row[r];
        const char *src = cJSON_GetObjectItemCaseSensitive(row, "src")->valuestring;
        int i = jint(row, "i");
        const char *a = NULL, *b = NULL;
        if (strcmp(src, "sst2/train.tsv") == 0)
            a = train.s[i - 1];
        else if (strcmp(src, "sst2/dev.tsv") == 0)
            a = dev.s[i - 1];
        else if (strcmp(src, "conll2003/valid.txt") == 0)
            a = (size_t)i < conll.n ? conll.s[i] : NULL;
        else if (strcmp(src, "squad/dev-a-v1.1.json") == 0)
            a = (size_t)i < squad.n ? squad.s[i] : NULL;
        else if (strcmp(src, "agnews/test-a.csv") == 0)
            a = (size_t)i < ag.n ? ag.s[i] : NULL;
        else if (strcmp(src, "hard") == 0) {
            const cJSON *q = hard.row[i];
            const cJSON *pj = cJSON_GetObjectItemCaseSensitive(q, "pair");
            a = cJSON_GetObjectItemCaseSensitive(q, "text")->valuestring;
            b = cJSON_IsString(pj) ? pj->valuestring : NULL;
        }
        ck_assert_msg(a != NULL, "parity row %zu: no text for %s #%d", r, src, i);
        ck_assert_msg(strlen(a) == (size_t)jint(row, "nb"),
                      "%s #%d: %zu bytes, the reference had %d (dataset changed?)", src, i,
                      strlen(a), jint(row, "nb"));
        real += strcmp(src, "hard") != 0;
        ck_assert_msg(nlp_tokenizer_encode(t, a, strlen(a), b, b ? strlen(b) : 0, NULL, &e, &err) == NLP_OK,
                      "%s #%d: %s", src, i, err.msg);
        tokens += e.n;
        const char *why = enc_diff(&e, cJSON_GetObjectItemCaseSensitive(row, "ids"),
                                   cJSON_GetObjectItemCaseSensitive(row, "type_ids"),
                                   cJSON_GetObjectItemCaseSensitive(row, "doff"), 1, NULL, a,
                                   strlen(a), b, b ? strlen(b) : 0);
        if (why && bad++ < 10)
            fprintf(stderr, "parity %s #%d (%.60s): %s\n", src, i, a, why);
    }
    fprintf(stderr, "check_tokenizer: parity: %zu real sentences + %zu hard cases, %zu tokens, %zu mismatches\n",
            real, ex.n - real, tokens, bad);
    ck_assert_uint_ge(real, 10000);
    ck_assert_uint_eq(bad, 0);
    nlp_encoding_free(&e);
    nlp_tokenizer_free(t);
    jl_free(&ex);
    jl_free(&hard);
    sv_free(&train_l); sv_free(&dev_l); sv_free(&train); sv_free(&dev);
    sv_free(&conll); sv_free(&squad); sv_free(&ag);
}
END_TEST

/* ------------------------------------------------------------ truncation */

static nlp_truncation strategy(const char *s)
{
    if (strcmp(s, "only_first") == 0)
        return NLP_TRUNC_ONLY_FIRST;
    if (strcmp(s, "only_second") == 0)
        return NLP_TRUNC_ONLY_SECOND;
    return NLP_TRUNC_LONGEST_FIRST;
}

START_TEST(truncation_strategies)
{
    nlp_tokenizer *t = load_dir(MINI);
    jl ex = jl_load(TOKDATA "/truncation.jsonl");
    nlp_encoding e = { 0 };
    nlp_error err;
    for (size_t r = 0; r < ex.n; r++) {
        const cJSON *row = ex.row[r];
        const char *a = cJSON_GetObjectItemCaseSensitive(row, "text")->valuestring;
        const cJSON *pj = cJSON_GetObjectItemCaseSensitive(row, "pair");
        const char *b = cJSON_IsString(pj) ? pj->valuestring : NULL;
        nlp_encode_opts o = NLP_ENCODE_OPTS_INIT;
        o.max_length = (size_t)jint(row, "max_length");
        o.truncation = strategy(cJSON_GetObjectItemCaseSensitive(row, "strategy")->valuestring);
        nlp_status s = nlp_tokenizer_encode(t, a, strlen(a), b, b ? strlen(b) : 0, &o, &e, &err);
        if (cJSON_GetObjectItemCaseSensitive(row, "error")) {
            ck_assert_msg(s != NLP_OK, "case %zu: expected an error", r);
            ck_assert(strlen(err.msg) > 0);
            continue;
        }
        ck_assert_msg(s == NLP_OK, "case %zu: %s", r, err.msg);
        const char *why = enc_diff(&e, cJSON_GetObjectItemCaseSensitive(row, "ids"),
                                   cJSON_GetObjectItemCaseSensitive(row, "type_ids"),
                                   cJSON_GetObjectItemCaseSensitive(row, "off"), 0, NULL, a,
                                   strlen(a), b, b ? strlen(b) : 0);
        ck_assert_msg(why == NULL, "truncation case %zu: %s", r, why);
        ck_assert_uint_eq(e.n_truncated, (size_t)jint(row, "n_truncated"));
    }
    /* max_length below the number of special tokens */
    nlp_encode_opts o = NLP_ENCODE_OPTS_INIT;
    o.max_length = 2;
    ck_assert_int_eq(nlp_tokenizer_encode(t, "a", 1, "b", 1, &o, &e, &err), NLP_ERR_INVALID_ARG);
    nlp_encoding_free(&e);
    jl_free(&ex);
    nlp_tokenizer_free(t);
}
END_TEST

/* ------------------------------------------------------------ template */

START_TEST(apply_template_slices)
{
    nlp_tokenizer *t = load_dir(MINI);
    nlp_encoding a = { 0 }, b = { 0 }, out = { 0 }, full = { 0 };
    nlp_error err;
    nlp_encode_opts raw = NLP_ENCODE_OPTS_INIT;
    raw.add_special_tokens = 0;
    const char *q = "Where is the cat?", *c = "The cat sat on the mat, near the door.";
    ck_assert(nlp_tokenizer_encode(t, q, strlen(q), NULL, 0, &raw, &a, &err) == NLP_OK);
    ck_assert(nlp_tokenizer_encode(t, c, strlen(c), NULL, 0, &raw, &b, &err) == NLP_OK);
    ck_assert(nlp_tokenizer_encode(t, q, strlen(q), c, strlen(c), NULL, &full, &err) == NLP_OK);
    /* whole slices give exactly the encoded pair */
    ck_assert(nlp_tokenizer_apply_template(t, &a, 0, a.n, &b, 0, b.n, &out, &err) == NLP_OK);
    ck_assert_uint_eq(out.n, full.n);
    for (size_t i = 0; i < out.n; i++) {
        ck_assert_int_eq(out.ids[i], full.ids[i]);
        ck_assert_int_eq(out.type_ids[i], full.type_ids[i]);
        ck_assert_int_eq(out.start[i], full.start[i]);
        ck_assert_int_eq(out.end[i], full.end[i]);
        ck_assert_int_eq(out.byte_start[i], full.byte_start[i]);
        ck_assert_int_eq(out.word[i], full.word[i]);
        ck_assert_int_eq(out.seq[i], full.seq[i]);
        ck_assert_int_eq(out.special[i], full.special[i]);
    }
    /* a window b[3..3+4) keeps its offsets */
    ck_assert(nlp_tokenizer_apply_template(t, &a, 1, 2, &b, 3, 4, &out, &err) == NLP_OK);
    ck_assert_uint_eq(out.n, 2 + 4 + 3);
    ck_assert_int_eq(out.ids[0], nlp_tokenizer_special_id(t, NLP_SPECIAL_CLS));
    ck_assert_int_eq(out.ids[3], nlp_tokenizer_special_id(t, NLP_SPECIAL_SEP));
    ck_assert_int_eq(out.ids[8], nlp_tokenizer_special_id(t, NLP_SPECIAL_SEP));
    ck_assert_int_eq(out.type_ids[8], 1);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(out.ids[4 + i], b.ids[3 + i]);
        ck_assert_int_eq(out.start[4 + i], b.start[3 + i]);
        ck_assert_int_eq(out.word[4 + i], b.word[3 + i]);
        ck_assert_int_eq(out.type_ids[4 + i], 1);
    }
    ck_assert_int_eq(out.ids[1], a.ids[1]);
    /* single text */
    ck_assert(nlp_tokenizer_apply_template(t, &a, 0, a.n, NULL, 0, 0, &out, &err) == NLP_OK);
    ck_assert_uint_eq(out.n, a.n + 2);
    ck_assert_uint_eq(nlp_tokenizer_num_special(t, 0), 2);
    ck_assert_uint_eq(nlp_tokenizer_num_special(t, 1), 3);
    /* bad slices and aliasing */
    ck_assert_int_eq(nlp_tokenizer_apply_template(t, &a, 1, a.n, NULL, 0, 0, &out, &err),
                     NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_tokenizer_apply_template(t, &a, 0, 1, NULL, 0, 0, &a, &err),
                     NLP_ERR_INVALID_ARG);
    nlp_encoding_free(&a);
    nlp_encoding_free(&b);
    nlp_encoding_free(&out);
    nlp_encoding_free(&full);
    nlp_tokenizer_free(t);
}
END_TEST

/* ------------------------------------------------------------ decode */

START_TEST(decode_reference)
{
    nlp_tokenizer *t = load_dir(MINI);
    jl ex = jl_load(TOKDATA "/decode.jsonl");
    nlp_error err;
    for (size_t r = 0; r < ex.n; r++) {
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(ex.row[r], "ids");
        size_t n = (size_t)cJSON_GetArraySize(ids);
        int32_t *v = malloc((n + 1) * sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = cJSON_GetArrayItem(ids, (int)i)->valueint;
        char *txt = NULL;
        int skip = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ex.row[r], "skip_special"));
        ck_assert_msg(nlp_tokenizer_decode(t, v, n, skip, &txt, &err) == NLP_OK, "%s", err.msg);
        const char *want = cJSON_GetObjectItemCaseSensitive(ex.row[r], "text")->valuestring;
        ck_assert_msg(strcmp(txt, want) == 0, "decode row %zu: \"%s\", expected \"%s\"", r, txt, want);
        free(txt);
        free(v);
    }
    int32_t bad[2] = { 101, 999999 };
    char *txt = NULL;
    ck_assert_int_eq(nlp_tokenizer_decode(t, bad, 2, 0, &txt, &err), NLP_ERR_INVALID_ARG);
    ck_assert_ptr_null(txt);
    ck_assert_ptr_nonnull(strstr(err.msg, "999999"));
    ck_assert(nlp_tokenizer_decode(t, NULL, 0, 0, &txt, &err) == NLP_OK);
    ck_assert_str_eq(txt, "");
    free(txt);
    jl_free(&ex);
    nlp_tokenizer_free(t);
}
END_TEST

/* ------------------------------------------------------------ look-ups */

START_TEST(lookups)
{
    nlp_tokenizer *t = load_dir(MINI);
    size_t n;
    char *v = slurp(MINI "/vocab.txt", &n);
    size_t lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += v[i] == '\n';
    free(v);
    ck_assert_uint_eq(nlp_tokenizer_vocab_size(t), lines);
    static const char *names[5] = { "[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]" };
    for (int k = 0; k < 5; k++) {
        int32_t id = nlp_tokenizer_special_id(t, (nlp_special)k);
        ck_assert_int_ge(id, 0);
        ck_assert_str_eq(nlp_tokenizer_special_token(t, (nlp_special)k), names[k]);
        ck_assert_int_eq(nlp_tokenizer_token_to_id(t, names[k]), id);
        ck_assert_str_eq(nlp_tokenizer_id_to_token(t, id), names[k]);
        ck_assert(nlp_tokenizer_is_special(t, id));
    }
    int32_t the = nlp_tokenizer_token_to_id(t, "the");
    ck_assert_int_ge(the, 0);
    ck_assert(!nlp_tokenizer_is_special(t, the));
    ck_assert_int_eq(nlp_tokenizer_token_to_id(t, "no-such-token-here"), -1);
    ck_assert_ptr_null(nlp_tokenizer_id_to_token(t, -1));
    ck_assert_ptr_null(nlp_tokenizer_id_to_token(t, (int32_t)lines));
    ck_assert_uint_eq(nlp_tokenizer_model_max_length(t), 0);
    /* the same from tokenizer.json */
    nlp_tokenizer *j = load_dir(MINI_JSON);
    ck_assert_uint_eq(nlp_tokenizer_vocab_size(j), lines);
    for (int k = 0; k < 5; k++)
        ck_assert_int_eq(nlp_tokenizer_special_id(j, (nlp_special)k),
                         nlp_tokenizer_special_id(t, (nlp_special)k));
    nlp_tokenizer_free(j);
    nlp_tokenizer_free(t);
}
END_TEST

/* The encoding is reused: arrays stop growing once large enough. */
START_TEST(encoding_reuse)
{
    nlp_tokenizer *t = load_dir(MINI);
    nlp_encoding e = { 0 };
    nlp_error err;
    const char *s = "The quick brown fox jumps over the lazy dog, again and again.";
    ck_assert(nlp_tokenizer_encode(t, s, strlen(s), NULL, 0, NULL, &e, &err) == NLP_OK);
    size_t cap = e.cap, n = e.n;
    int32_t *ids = e.ids;
    for (int k = 0; k < 100; k++) {
        ck_assert(nlp_tokenizer_encode(t, s, strlen(s), NULL, 0, NULL, &e, &err) == NLP_OK);
        ck_assert_uint_eq(e.n, n);
    }
    ck_assert_uint_eq(e.cap, cap);
    ck_assert_ptr_eq(e.ids, ids);
    ck_assert(nlp_tokenizer_encode(t, "", 0, NULL, 0, NULL, &e, &err) == NLP_OK);
    ck_assert_uint_eq(e.n, 2);
    nlp_encoding_free(&e);
    ck_assert_ptr_null(e.ids);
    nlp_encoding_free(NULL);
    nlp_tokenizer_free(NULL);
    nlp_tokenizer_free(t);
}
END_TEST

/* ------------------------------------------------------------ errors */

START_TEST(errors_loading)
{
    nlp_tokenizer *t = NULL;
    nlp_error err;
    ck_assert_int_eq(nlp_tokenizer_load("/nonexistent/model", &t, &err), NLP_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/model"));
    ck_assert_int_eq(nlp_tokenizer_load_vocab("/nonexistent/vocab.txt", 1, -1, &t, &err), NLP_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/vocab.txt"));
    ck_assert_ptr_null(t);

    char *d = tmp_dir();
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_IO); /* empty folder */
    ck_assert_ptr_nonnull(strstr(err.msg, "vocab.txt"));

    put_file(d, "tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", ", 33);
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "tokenizer.json"));

    const char *bpe = "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}";
    put_file(d, "tokenizer.json", bpe, strlen(bpe));
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "tokenizer.json"));
    ck_assert_ptr_nonnull(strstr(err.msg, "BPE"));

    const char *novocab = "{\"model\": {\"type\": \"WordPiece\"}, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}";
    put_file(d, "tokenizer.json", novocab, strlen(novocab));
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "vocab"));

    const char *nounk = "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": {\"a\": 0}},"
                        " \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}";
    put_file(d, "tokenizer.json", nounk, strlen(nounk));
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "[UNK]"));

    const char *otherpre = "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}},"
                           " \"pre_tokenizer\": {\"type\": \"Metaspace\"}}";
    put_file(d, "tokenizer.json", otherpre, strlen(otherpre));
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "Metaspace"));
    char p[512];
    snprintf(p, sizeof p, "%s/tokenizer.json", d);
    unlink(p);

    /* vocab.txt folder with a malformed tokenizer_config.json */
    copy_mini_vocab(d);
    put_file(d, "tokenizer_config.json", "{oops", 5);
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "tokenizer_config.json"));
    /* vocab without [UNK] */
    put_file(d, "tokenizer_config.json", "{}", 2);
    put_file(d, "vocab.txt", "a\nb\n", 4);
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "[UNK]"));
    put_file(d, "vocab.txt", "", 0);
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_FORMAT);
    put_file(d, "vocab.txt", "[UNK]\n\xff\n", 8);
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "byte 6"));
    ck_assert_ptr_null(t);
    rm_dir(d);
}
END_TEST

START_TEST(errors_utf8)
{
    nlp_tokenizer *t = load_dir(MINI);
    nlp_encoding e = { 0 };
    nlp_error err;
    static const struct { const char *s; size_t len, at; } bad[] = {
        { "ab\xff" "c", 4, 2 },          /* never valid */
        { "ok \xe2\x82", 5, 3 },          /* truncated at the end */
        { "x\xc0\xaf", 3, 1 },            /* overlong */
        { "\xed\xa0\x80z", 4, 0 },        /* surrogate */
        { "caf\xc3\xa9 \xf4\x90\x80\x80", 10, 6 }, /* above U+10FFFF */
        { "abc\x80", 4, 3 },              /* stray continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(nlp_tokenizer_encode(t, bad[i].s, bad[i].len, NULL, 0, NULL, &e, &err),
                         NLP_ERR_UTF8);
        char want[64];
        snprintf(want, sizeof want, "invalid UTF-8 at byte %zu", bad[i].at);
        ck_assert_msg(strstr(err.msg, want) != NULL, "case %zu: \"%s\"", i, err.msg);
    }
    ck_assert_int_eq(nlp_tokenizer_encode(t, "fine", 4, "bad\xff", 4, NULL, &e, &err), NLP_ERR_UTF8);
    ck_assert_ptr_nonnull(strstr(err.msg, "byte 3"));
    ck_assert_ptr_nonnull(strstr(err.msg, "second"));
    /* an embedded NUL is valid UTF-8 and dropped without splitting the
     * word: "ab" -> a ##b (the small vocabulary has no "ab") */
    ck_assert_int_eq(nlp_tokenizer_token_to_id(t, "ab"), -1);
    ck_assert(nlp_tokenizer_encode(t, "a\0b", 3, NULL, 0, NULL, &e, &err) == NLP_OK);
    ck_assert_uint_eq(e.n, 4);
    ck_assert_int_eq(e.ids[2], nlp_tokenizer_token_to_id(t, "##b"));
    ck_assert_int_eq(e.start[1], 0);
    ck_assert_int_eq(e.end[1], 1);
    ck_assert_int_eq(e.start[2], 2);
    ck_assert_int_eq(e.end[2], 3);
    ck_assert_int_eq(e.word[1], e.word[2]);
    nlp_encode_opts o = NLP_ENCODE_OPTS_INIT;
    o.max_length = 3;
    o.truncation = NLP_TRUNC_ONLY_SECOND;
    ck_assert_int_eq(nlp_tokenizer_encode(t, "a b c", 5, NULL, 0, &o, &e, &err), NLP_ERR_INVALID_ARG);
    nlp_encoding_free(&e);
    nlp_tokenizer_free(t);
}
END_TEST

/* Reproducers of load-time bugs: invalid UTF-8 in an added token, numbers
 * out of range, a huge vocab.txt line. */
START_TEST(errors_found_by_fuzzing)
{
    nlp_tokenizer *t = NULL;
    nlp_error err;
    char *d = tmp_dir();
    put_file(d, "vocab.txt", "[UNK]\n[CLS]\n[SEP]\n", 18);
    const char *bad = "{\"added_tokens_decoder\":{\"\":{\"content\":\"\xff\"},"
                      "\"7\":{\"content\":\"\xe4\xb8\"}},\"unk_token\":\"[UNK]\"}";
    put_file(d, "tokenizer_config.json", bad, strlen(bad));
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "tokenizer_config.json"));
    ck_assert_ptr_nonnull(strstr(err.msg, "\\xe4\\xb8"));
    ck_assert_ptr_nonnull(strstr(err.msg, "not valid UTF-8"));
    ck_assert_ptr_null(t);
    unlink_in(d, "tokenizer_config.json");

    /* a line longer than a token may be */
    size_t n = 70000;
    char *big = malloc(n + 20);
    ck_assert(big != NULL);
    memcpy(big, "[UNK]\n", 6);
    memset(big + 6, 'a', n);
    put_file(d, "vocab.txt", big, n + 6);
    free(big);
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 2 is longer"));
    unlink_in(d, "vocab.txt");

    static const char *const numbers[] = { "-1e300", "1e300", "0", "2.5", "\"100\"" };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        char js[512];
        snprintf(js, sizeof js,
                 "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0},"
                 " \"max_input_chars_per_word\": %s}, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}",
                 numbers[i]);
        put_file(d, "tokenizer.json", js, strlen(js));
        ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_FORMAT);
        ck_assert_ptr_nonnull(strstr(err.msg, "max_input_chars_per_word"));
    }
    const char *frac = "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}},"
                       " \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},"
                       " \"added_tokens\": [{\"id\": 1.5, \"content\": \"x\"}]}";
    put_file(d, "tokenizer.json", frac, strlen(frac));
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "added_tokens"));
    rm_dir(d);
}
END_TEST

/* Thousands of added tokens load fast and match leftmost, then longest. */
START_TEST(many_added_tokens)
{
    enum { N = 8000 };
    size_t cap = (size_t)N * 120 + 1024, k = 0;
    char *js = malloc(cap);
    ck_assert(js != NULL);
    k += (size_t)snprintf(js + k, cap - k,
                          "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"[CLS]\": 1,"
                          " \"[SEP]\": 2, \"a\": 3}}, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},"
                          " \"normalizer\": null, \"added_tokens\": [");
    for (int i = 0; i < N; i++)
        k += (size_t)snprintf(js + k, cap - k,
                              "%s{\"id\": %d, \"content\": \"<t%d>\", \"special\": false, \"normalized\": %s}",
                              i ? ", " : "", 100 + i, i, i % 2 ? "true" : "false");
    k += (size_t)snprintf(js + k, cap - k, ", {\"id\": 9000, \"content\": \"<t1\", \"special\": true}]}");
    char *d = tmp_dir();
    put_file(d, "tokenizer.json", js, k);
    free(js);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nlp_tokenizer *t = load_dir(d);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    ck_assert_msg(secs < 10.0, "loading %d added tokens took %.1f s", N, secs);
    /* "<t1" and "<t10>" both start at byte 1: the longer wins; "<t7999>" is
     * normalised-matched (odd index) */
    const char *text = "a<t10>a<t1a<t7999><t0>";
    nlp_encode_opts o = NLP_ENCODE_OPTS_INIT;
    o.add_special_tokens = 0;
    nlp_encoding e = { 0 };
    nlp_error err;
    ck_assert_int_eq(nlp_tokenizer_encode(t, text, strlen(text), NULL, 0, &o, &e, &err), NLP_OK);
    static const int32_t want[] = { 3, 110, 3, 9000, 3, 8099, 100 };
    ck_assert_uint_eq(e.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < e.n; i++)
        ck_assert_int_eq(e.ids[i], want[i]);
    nlp_encoding_free(&e);
    nlp_tokenizer_free(t);
    rm_dir(d);
}
END_TEST

/* ------------------------------------------------------------ byte-level BPE */

#define ROBERTA_DIR NLP_SHARED_DATA "/tokenizers/roberta"
#define GPT2_DIR NLP_SHARED_DATA "/tokenizers/gpt2-bpe"

/* NULL when e matches the expected row of roberta.jsonl (ids, type ids,
 * code-point offsets, byte offsets consistent with them), else why not. */
static const char *bpe_diff(const nlp_encoding *e, const cJSON *row, const char *a, const char *b)
{
    static char why[256];
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(row, "ids");
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(row, "type_ids");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(row, "offsets");
    size_t n = (size_t)cJSON_GetArraySize(ids);
    if (e->n != n) {
        snprintf(why, sizeof why, "%zu tokens, expected %zu", e->n, n);
        return why;
    }
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetArrayItem(off, (int)i);
        int32_t id = cJSON_GetArrayItem(ids, (int)i)->valueint;
        int32_t ty = cJSON_GetArrayItem(types, (int)i)->valueint;
        int32_t s = cJSON_GetArrayItem(o, 0)->valueint, en = cJSON_GetArrayItem(o, 1)->valueint;
        if (e->ids[i] != id || e->type_ids[i] != ty || e->start[i] != s || e->end[i] != en) {
            snprintf(why, sizeof why, "token %zu: id %d type %d [%d,%d), expected id %d type %d [%d,%d)",
                     i, e->ids[i], e->type_ids[i], e->start[i], e->end[i], id, ty, s, en);
            return why;
        }
        const char *t = e->seq[i] == 1 ? b : a;
        if (e->seq[i] >= 0 && ((size_t)e->byte_start[i] != cp_to_byte(t, strlen(t), s) ||
                               (size_t)e->byte_end[i] != cp_to_byte(t, strlen(t), en))) {
            snprintf(why, sizeof why, "token %zu: bytes [%d,%d) do not match code points [%d,%d)",
                     i, e->byte_start[i], e->byte_end[i], s, en);
            return why;
        }
    }
    return NULL;
}

/* Every row of an expected JSONL file (roberta.jsonl, t5.jsonl) through
 * tokenizer t. */
static void run_expected(nlp_tokenizer *t, const char *file, const char *what)
{
    jl ex = jl_load(file);
    nlp_encoding e = { 0 };
    nlp_error err;
    size_t bad = 0;
    for (size_t r = 0; r < ex.n; r++) {
        const cJSON *row = ex.row[r];
        const char *a = cJSON_GetObjectItemCaseSensitive(row, "text")->valuestring;
        const cJSON *pj = cJSON_GetObjectItemCaseSensitive(row, "pair");
        const char *b = cJSON_IsString(pj) ? pj->valuestring : NULL;
        nlp_status s = nlp_tokenizer_encode(t, a, strlen(a), b, b ? strlen(b) : 0, NULL, &e, &err);
        ck_assert_msg(s == NLP_OK, "[%s] row %zu: %s", what, r + 1, err.msg);
        const char *why = bpe_diff(&e, row, a, b);
        if (why && bad++ < 5)
            fprintf(stderr, "[%s] row %zu (%.60s): %s\n", what, r + 1, a, why);
    }
    ck_assert_msg(bad == 0, "[%s] %zu of %zu inputs differ from the reference", what, bad, ex.n);
    nlp_encoding_free(&e);
    jl_free(&ex);
}

START_TEST(bpe_roberta_tokenizer_json)
{
    nlp_tokenizer *t = load_dir(ROBERTA_DIR);
    ck_assert_uint_eq(nlp_tokenizer_num_special(t, 0), 2);
    ck_assert_uint_eq(nlp_tokenizer_num_special(t, 1), 4);
    ck_assert_int_eq(nlp_tokenizer_special_id(t, NLP_SPECIAL_MASK), 50264);
    run_expected(t, TOKDATA "/roberta.jsonl", "tokenizer.json");
    nlp_tokenizer_free(t);
}
END_TEST

#define MODERNBERT_DIR NLP_SHARED_DATA "/tokenizers/modernbert"

/* ModernBERT's tokenizer.json: NFC normaliser, [CLS] A [SEP] B [SEP],
 * [MASK] taking in the spaces before it, runs of spaces as added tokens
 * matched after the normaliser. */
START_TEST(bpe_modernbert_tokenizer_json)
{
    nlp_tokenizer *t = load_dir(MODERNBERT_DIR);
    ck_assert_uint_eq(nlp_tokenizer_num_special(t, 0), 2);
    ck_assert_uint_eq(nlp_tokenizer_num_special(t, 1), 3);
    ck_assert_int_eq(nlp_tokenizer_special_id(t, NLP_SPECIAL_CLS), 50281);
    ck_assert_int_eq(nlp_tokenizer_special_id(t, NLP_SPECIAL_MASK), 50284);
    run_expected(t, TOKDATA "/modernbert.jsonl", "modernbert");
    nlp_tokenizer_free(t);
}
END_TEST

/* The same tokenizer from vocab.json + merges.txt alone. */
START_TEST(bpe_roberta_vocab_json)
{
    char *d = tmp_dir();
    static const char *const names[2] = { "vocab.json", "merges.txt" };
    for (int i = 0; i < 2; i++) {
        char p[512];
        size_t n;
        snprintf(p, sizeof p, "%s/%s", ROBERTA_DIR, names[i]);
        char *data = slurp(p, &n);
        ck_assert(data != NULL);
        put_file(d, names[i], data, n);
        free(data);
    }
    nlp_tokenizer *t = load_dir(d);
    run_expected(t, TOKDATA "/roberta.jsonl", "vocab.json");
    nlp_tokenizer_free(t);
    unlink_in(d, "vocab.json");
    unlink_in(d, "merges.txt");
    rm_dir(d);
}
END_TEST

/* GPT-2's 47 test vectors (no special tokens). */
START_TEST(bpe_gpt2_vectors)
{
    char *inp = slurp(GPT2_DIR "/test-vectors.inp", NULL);
    char *outp = slurp(GPT2_DIR "/test-vectors.out", NULL);
    ck_assert(inp && outp);
    nlp_tokenizer *t = load_dir(GPT2_DIR);
    ck_assert_uint_eq(nlp_tokenizer_num_special(t, 0), 0);
    nlp_encoding e = { 0 };
    nlp_error err;
    static const char sep[] = "\n__ggml_vocab_test__\n";
    char *text = inp, *line = outp;
    size_t count = 0, bad = 0;
    while (text && line) {
        char *end = strstr(text, sep), *nl = strchr(line, '\n');
        size_t len = end ? (size_t)(end - text) : strlen(text);
        if (nl)
            *nl = '\0';
        ck_assert_msg(nlp_tokenizer_encode(t, text, len, NULL, 0, NULL, &e, &err) == NLP_OK,
                      "vector %zu: %s", count + 1, err.msg);
        size_t k = 0;
        int ok = 1;
        for (char *p = line, *q; *p; p = q) {
            long id = strtol(p, &q, 10);
            if (q == p)
                break;
            ok &= k < e.n && e.ids[k] == id && e.type_ids[k] == 0;
            k++;
        }
        ok &= k == e.n;
        if (!ok && bad++ < 5)
            fprintf(stderr, "gpt2 vector %zu (%.40s): ids differ\n", count + 1, text);
        count++;
        text = end ? end + strlen(sep) : NULL;
        line = nl ? nl + 1 : NULL;
    }
    ck_assert_uint_eq(count, 47);
    ck_assert_msg(bad == 0, "%zu of %zu GPT-2 vectors differ", bad, count);
    nlp_encoding_free(&e);
    nlp_tokenizer_free(t);
    free(inp);
    free(outp);
}
END_TEST

/* Malformed BPE files fail with the file and the field, never crash. */
START_TEST(bpe_errors)
{
    static const struct { const char *json, *want; } cases[] = {
        { "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a b\"]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}",
          "merge 1" },
        { "{\"model\":{\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a\"]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}",
          "model.merges[0]" },
        { "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[[\"a\",1]]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}",
          "model.merges[0]" },
        { "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":7},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}",
          "model.merges" },
        { "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Whitespace\"}}",
          "pre_tokenizer" },
        { "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"},"
          "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"C\"}}],\"pair\":[]}}",
          "post_processor" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *d = tmp_dir();
        put_file(d, "tokenizer.json", cases[i].json, strlen(cases[i].json));
        nlp_tokenizer *t = NULL;
        nlp_error err;
        ck_assert_int_ne(nlp_tokenizer_load(d, &t, &err), NLP_OK);
        ck_assert_msg(strstr(err.msg, cases[i].want) && strstr(err.msg, "tokenizer.json"),
                      "case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
        rm_dir(d);
    }
    char *d = tmp_dir();
    put_file(d, "vocab.json", "{\"a\":0,\"b\":1}", 13);
    put_file(d, "merges.txt", "#version: 0.2\na b c\n", 20);
    nlp_tokenizer *t = NULL;
    nlp_error err;
    ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), NLP_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "merges.txt: line 2"), "%s", err.msg);
    unlink_in(d, "vocab.json");
    unlink_in(d, "merges.txt");
    rm_dir(d);
}
END_TEST

/* ------------------------------------------------------------ Unigram */

#define T5_DIR NLP_SHARED_DATA "/tokenizers/t5"

/* t5-small's tokenizer.json (Precompiled normaliser, WhitespaceSplit +
 * Metaspace, TemplateProcessing "A </s>") over t5.jsonl. */
START_TEST(unigram_t5)
{
    nlp_tokenizer *t = load_dir(T5_DIR);
    ck_assert_uint_eq(nlp_tokenizer_num_special(t, 0), 1);
    ck_assert_uint_eq(nlp_tokenizer_num_special(t, 1), 2);
    ck_assert_int_eq(nlp_tokenizer_special_id(t, NLP_SPECIAL_SEP), 1);
    ck_assert_int_eq(nlp_tokenizer_special_id(t, NLP_SPECIAL_UNK), 2);
    ck_assert_int_eq(nlp_tokenizer_special_id(t, NLP_SPECIAL_PAD), 0);
    run_expected(t, TOKDATA "/t5.jsonl", "t5");
    /* decode (Metaspace decoder, clean-up of spaces) as Transformers.js does */
    jl ex = jl_load(TOKDATA "/t5.jsonl");
    size_t bad = 0;
    for (size_t r = 0; r < ex.n; r++) {
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(ex.row[r], "ids");
        int32_t v[2048];
        size_t n = (size_t)cJSON_GetArraySize(ids);
        ck_assert_uint_lt(n, 2048);
        for (size_t i = 0; i < n; i++)
            v[i] = cJSON_GetArrayItem(ids, (int)i)->valueint;
        for (int skip = 0; skip < 2; skip++) {
            const char *want = cJSON_GetObjectItemCaseSensitive(ex.row[r], skip ? "decoded" : "decoded_special")->valuestring;
            char *got = NULL;
            nlp_error derr;
            ck_assert_int_eq(nlp_tokenizer_decode(t, v, n, skip, &got, &derr), NLP_OK);
            if (strcmp(got, want) != 0 && bad++ < 5)
                fprintf(stderr, "t5 decode row %zu (skip %d): \"%.60s\", expected \"%.60s\"\n", r + 1, skip, got, want);
            free(got);
        }
    }
    ck_assert_msg(bad == 0, "%zu t5 decodes differ from Transformers.js", bad);
    jl_free(&ex);
    /* the Metaspace decoder drops the first token's leading "▁" */
    static const int32_t ids[] = { 8774, 296, 55, 1 };
    char *txt = NULL;
    nlp_error err;
    ck_assert_int_eq(nlp_tokenizer_decode(t, ids, 4, 1, &txt, &err), NLP_OK);
    ck_assert_str_eq(txt, "Hello world!");
    free(txt);
    nlp_tokenizer_free(t);
}
END_TEST

/* A word of 200,000 characters is segmented in well under a second. */
START_TEST(unigram_long_word)
{
    nlp_tokenizer *t = load_dir(T5_DIR);
    size_t n = 200000;
    char *text = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        text[i] = "abcdefghij"[i % 10];
    text[n] = '\0';
    nlp_encoding e = { 0 };
    nlp_error err;
    clock_t c0 = clock();
    ck_assert_int_eq(nlp_tokenizer_encode(t, text, n, NULL, 0, NULL, &e, &err), NLP_OK);
    double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
    ck_assert_msg(secs < 5.0, "a %zu-byte word took %.2f s", n, secs);
    ck_assert_int_eq(e.start[0], 0);
    ck_assert_int_eq(e.end[e.n - 2], (int32_t)n);
    nlp_encoding_free(&e);
    free(text);
    nlp_tokenizer_free(t);
}
END_TEST

/* Concatenated pieces and total score of ids[0..n) under tokenizer t,
 * with scores from its tokenizer.json vocab (a cJSON list). */
static double ids_score(const nlp_tokenizer *t, const cJSON *vocab, const int32_t *ids, size_t n,
                        char *cat, size_t cap)
{
    double sum = 0;
    size_t k = 0;
    cat[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        sum += cJSON_GetArrayItem(cJSON_GetArrayItem(vocab, ids[i]), 1)->valuedouble;
        const char *p = nlp_tokenizer_id_to_token(t, ids[i]);
        size_t l = strlen(p);
        if (k + l < cap) {
            memcpy(cat + k, p, l + 1);
            k += l;
        }
    }
    return sum;
}

/* A SentencePiece model (python3-sentencepiece, byte fallback, a small
 * custom charsmap) converted to tokenizer.json: ids as SentencePiece
 * gives them (tests/gen/gen_spm_unigram.py).  SentencePiece adds scores
 * in float32 and tokenizers in float64, so on an exact tie between two
 * segmentations they may pick differently: a row then passes only when
 * both are the same pieces' string with the same total score (a tie). */
START_TEST(unigram_sentencepiece)
{
    nlp_tokenizer *t = load_dir(TOKDATA "/spm-unigram");
    jl ex = jl_load(TOKDATA "/spm-unigram/expected.jsonl");
    size_t tjn;
    char *tjs = slurp(TOKDATA "/spm-unigram/tokenizer.json", &tjn);
    cJSON *tj = cJSON_Parse(tjs);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tj, "model"), "vocab");
    ck_assert(vocab != NULL);
    nlp_encoding e = { 0 };
    nlp_error err;
    size_t bad = 0, ties = 0;
    static char c1[1 << 16], c2[1 << 16];
    int32_t want[4096];
    for (size_t r = 0; r < ex.n; r++) {
        const char *a = cJSON_GetObjectItemCaseSensitive(ex.row[r], "text")->valuestring;
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(ex.row[r], "ids");
        size_t nw = (size_t)cJSON_GetArraySize(ids);
        ck_assert_uint_lt(nw, 4096);
        for (size_t i = 0; i < nw; i++)
            want[i] = cJSON_GetArrayItem(ids, (int)i)->valueint;
        ck_assert_msg(nlp_tokenizer_encode(t, a, strlen(a), NULL, 0, NULL, &e, &err) == NLP_OK,
                      "row %zu: %s", r + 1, err.msg);
        if (e.n == nw && memcmp(e.ids, want, nw * sizeof *want) == 0)
            continue;
        double s1 = ids_score(t, vocab, e.ids, e.n, c1, sizeof c1);
        double s2 = ids_score(t, vocab, want, nw, c2, sizeof c2);
        if (strcmp(c1, c2) == 0 && s1 - s2 < 1e-9 && s2 - s1 < 1e-9) {
            ties++;
            continue;
        }
        if (bad++ < 5)
            fprintf(stderr, "sentencepiece row %zu (%.60s): ids differ\n", r + 1, a);
    }
    fprintf(stderr, "check_tokenizer: sentencepiece: %zu inputs, %zu equal-score ties broken differently\n",
            ex.n, ties);
    ck_assert_msg(bad == 0, "%zu of %zu inputs differ from SentencePiece", bad, ex.n);
    ck_assert_msg(ties * 20 < ex.n, "%zu ties", ties);
    /* ByteFallback + Metaspace decoders: bytes rejoin into characters */
    const char *text = "caf\xc3\xa9 \xf0\x9f\x98\x80 ok";
    ck_assert_int_eq(nlp_tokenizer_encode(t, text, strlen(text), NULL, 0, NULL, &e, &err), NLP_OK);
    char *back = NULL;
    ck_assert_int_eq(nlp_tokenizer_decode(t, e.ids, e.n, 1, &back, &err), NLP_OK);
    ck_assert_str_eq(back, text);
    free(back);
    nlp_encoding_free(&e);
    cJSON_Delete(tj);
    free(tjs);
    jl_free(&ex);
    nlp_tokenizer_free(t);
}
END_TEST

/* Malformed or unsupported Unigram files fail naming the file and field. */
START_TEST(unigram_errors)
{
#define UG_MODEL "\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\",0],[\"a\",-1]]}"
    static const struct { const char *json, *want; nlp_status st; } cases[] = {
        { "{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",\"x\"]]}}", "model.vocab[0]", NLP_ERR_FORMAT },
        { "{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",-1],[\"b\"]]}}", "model.vocab[1]", NLP_ERR_FORMAT },
        { "{\"model\":{\"type\":\"Unigram\",\"vocab\":7}}", "model.vocab", NLP_ERR_FORMAT },
        { "{\"model\":{\"type\":\"Unigram\",\"unk_id\":5,\"vocab\":[[\"a\",-1]]}}", "model.unk_id", NLP_ERR_FORMAT },
        { "{\"model\":{\"type\":\"Unigram\",\"byte_fallback\":1,\"vocab\":[[\"a\",-1]]}}", "model.byte_fallback", NLP_ERR_FORMAT },
        { "{" UG_MODEL ",\"normalizer\":{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"!!\"}}",
          "normalizer.precompiled_charsmap", NLP_ERR_FORMAT },
        { "{" UG_MODEL ",\"normalizer\":{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"/////w==\"}}",
          "normalizer.precompiled_charsmap", NLP_ERR_FORMAT },
        { "{" UG_MODEL ",\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},{\"type\":\"BertNormalizer\"}]}}",
          "unsupported normalizer type \"BertNormalizer\" in normalizer.normalizers[1]", NLP_ERR_UNSUPPORTED },
        { "{" UG_MODEL ",\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"(\"},\"content\":\"\"}}",
          "normalizer.pattern", NLP_ERR_FORMAT },
        { "{" UG_MODEL ",\"normalizer\":{\"type\":\"Replace\",\"pattern\":{},\"content\":\"\"}}",
          "normalizer needs a \"pattern\"", NLP_ERR_FORMAT },
        { "{" UG_MODEL ",\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}", "unsupported pre_tokenizer type \"ByteLevel\"",
          NLP_ERR_UNSUPPORTED },
        { "{" UG_MODEL ",\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"ab\"}}", "pre_tokenizer.replacement",
          NLP_ERR_FORMAT },
        { "{" UG_MODEL ",\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"_\",\"prepend_scheme\":\"often\"}}",
          "pre_tokenizer.prepend_scheme", NLP_ERR_FORMAT },
        { "{" UG_MODEL ",\"decoder\":{\"type\":\"WordPiece\"}}", "unsupported decoder type \"WordPiece\"", NLP_ERR_UNSUPPORTED },
        { "{" UG_MODEL ",\"post_processor\":{\"type\":\"BertProcessing\"}}", "not supported with Unigram", NLP_ERR_UNSUPPORTED },
    };
#undef UG_MODEL
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *d = tmp_dir();
        put_file(d, "tokenizer.json", cases[i].json, strlen(cases[i].json));
        nlp_tokenizer *t = NULL;
        nlp_error err;
        ck_assert_int_eq(nlp_tokenizer_load(d, &t, &err), cases[i].st);
        ck_assert_msg(strstr(err.msg, cases[i].want) && strstr(err.msg, "tokenizer.json"),
                      "case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
        unlink_in(d, "tokenizer.json");
        rm_dir(d);
    }
}
END_TEST

static Suite *tokenizer_suite(void)
{
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, hard_uncased_vocab_txt);
    tcase_add_test(tc, hard_uncased_tokenizer_json);
    tcase_add_test(tc, hard_flag_variants);
    tcase_add_test(tc, hard_config_variants);
    tcase_add_test(tc, added_tokens_json);
    tcase_add_test(tc, truncation_strategies);
    tcase_add_test(tc, apply_template_slices);
    tcase_add_test(tc, decode_reference);
    tcase_add_test(tc, lookups);
    tcase_add_test(tc, encoding_reuse);
    tcase_add_test(tc, errors_loading);
    tcase_add_test(tc, errors_utf8);
    tcase_add_test(tc, errors_found_by_fuzzing);
    tcase_add_test(tc, many_added_tokens);
    if (dir_exists(NLP_SHARED_DATA) && dir_exists(FULL_VOCAB_DIR))
        tcase_add_test(tc, parity_real_sentences);
    else
        fprintf(stderr, "check_tokenizer: SKIP parity over real sentences: %s is absent\n",
                NLP_SHARED_DATA);
    tcase_add_test(tc, bpe_errors);
    if (dir_exists(ROBERTA_DIR) && dir_exists(GPT2_DIR)) {
        tcase_add_test(tc, bpe_roberta_tokenizer_json);
        tcase_add_test(tc, bpe_roberta_vocab_json);
        tcase_add_test(tc, bpe_gpt2_vectors);
    } else {
        fprintf(stderr, "check_tokenizer: SKIP byte-level BPE parity: %s and %s are needed\n",
                ROBERTA_DIR, GPT2_DIR);
    }
    if (dir_exists(MODERNBERT_DIR))
        tcase_add_test(tc, bpe_modernbert_tokenizer_json);
    else
        fprintf(stderr, "check_tokenizer: SKIP ModernBERT BPE parity: %s is absent\n",
                MODERNBERT_DIR);
    tcase_add_test(tc, unigram_errors);
    tcase_add_test(tc, unigram_sentencepiece);
    if (dir_exists(T5_DIR)) {
        tcase_add_test(tc, unigram_t5);
        tcase_add_test(tc, unigram_long_word);
    } else {
        fprintf(stderr, "check_tokenizer: SKIP Unigram parity: %s is absent\n", T5_DIR);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tokenizer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
