/*
 * check_spm_model.c - tokenizers read from a sentencepiece .model
 * (core/text/spm_model.c) against SentencePiece itself: ids and offsets
 * written by tests/gen/gen_spm_models.py for four models trained under
 * different settings (data/expected/tokenizer/spm-model/), the .model and
 * the tokenizer.json of the spm-unigram model giving the same ids, the
 * DeBERTa-v2 and XLM-RoBERTa templates, and malformed files failing with
 * the file and byte offset.
 *
 * Offsets: sentencepiece gives the bytes of a character that fell back to
 * <0xNN> pieces empty spans except the last; here, as in tokenizers, every
 * byte piece of a run of unknown characters spans the whole run.  A run
 * of byte pieces is therefore checked against the union of its spans.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "nlp/nlp.h"

#ifndef SPMDATA /* -DSPMDATA=... runs the rows of gen_spm_models.py --all */
#define SPMDATA NLP_TEST_DATA "/expected/tokenizer/spm-model"
#endif
#define UNIGRAM NLP_TEST_DATA "/expected/tokenizer/spm-unigram"

/* The whole file (NUL-terminated), or NULL. */
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

static nlp_tokenizer *load(const char *dir)
{
    nlp_tokenizer *t = NULL;
    nlp_error err;
    ck_assert_msg(nlp_tokenizer_load(dir, &t, &err) == NLP_OK, "%s: %s", dir, err.msg);
    return t;
}

/* 1 when token id of t is a <0xNN> byte piece. */
static int is_byte(const nlp_tokenizer *t, int32_t id)
{
    const char *s = nlp_tokenizer_id_to_token(t, id);
    return s && strlen(s) == 6 && strncmp(s, "<0x", 3) == 0 && s[5] == '>';
}

/* Compare e with a row's ids and offsets (see the header for byte
 * pieces); NULL when equal, else a static description. */
static const char *row_diff(const nlp_tokenizer *t, const nlp_encoding *e, const cJSON *row)
{
    static char why[200];
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(row, "ids");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(row, "offsets");
    size_t n = (size_t)cJSON_GetArraySize(ids);
    if (e->n != n) {
        snprintf(why, sizeof why, "%zu tokens, sentencepiece %zu", e->n, n);
        return why;
    }
    for (size_t i = 0; i < n; i++)
        if (e->ids[i] != cJSON_GetArrayItem(ids, (int)i)->valueint) {
            snprintf(why, sizeof why, "token %zu: id %d, sentencepiece %d", i, e->ids[i],
                     cJSON_GetArrayItem(ids, (int)i)->valueint);
            return why;
        }
    for (size_t i = 0, j; i < n; i = j) {
        int32_t s = cJSON_GetArrayItem(off, (int)(2 * i))->valueint;
        int32_t en = cJSON_GetArrayItem(off, (int)(2 * i + 1))->valueint;
        for (j = i + 1; is_byte(t, e->ids[i]) && j < n && is_byte(t, e->ids[j]); j++) {
            int32_t b = cJSON_GetArrayItem(off, (int)(2 * j))->valueint;
            int32_t c = cJSON_GetArrayItem(off, (int)(2 * j + 1))->valueint;
            s = b < s ? b : s;
            en = c > en ? c : en;
        }
        for (size_t k = i; k < j; k++)
            if (e->start[k] != s || e->end[k] != en) {
                snprintf(why, sizeof why, "token %zu: [%d,%d), sentencepiece [%d,%d)", k,
                         e->start[k], e->end[k], s, en);
                return why;
            }
    }
    return NULL;
}

/* Every row of file through t without special tokens; the number that differ. */
static size_t run_rows(const nlp_tokenizer *t, const char *file, const char *what)
{
    char *data = slurp(file, NULL);
    ck_assert_msg(data != NULL, "cannot read %s", file);
    nlp_encode_opts o = NLP_ENCODE_OPTS_INIT;
    o.add_special_tokens = 0;
    nlp_encoding e = { 0 };
    nlp_error err;
    size_t bad = 0, rows = 0;
    for (char *p = data, *nl; p && *p; p = nl ? nl + 1 : NULL) {
        if ((nl = strchr(p, '\n')))
            *nl = '\0';
        cJSON *row = cJSON_Parse(p);
        ck_assert_msg(row != NULL, "%s: bad JSON line %zu", file, rows + 1);
        const char *a = cJSON_GetObjectItemCaseSensitive(row, "text")->valuestring;
        ck_assert_msg(nlp_tokenizer_encode(t, a, strlen(a), NULL, 0, &o, &e, &err) == NLP_OK,
                      "[%s] row %zu: %s", what, rows + 1, err.msg);
        const char *why = row_diff(t, &e, row);
        if (why && bad++ < 5)
            fprintf(stderr, "[%s] row %zu (%.50s): %s\n", what, rows + 1, a, why);
        rows++;
        cJSON_Delete(row);
    }
    fprintf(stderr, "check_spm_model: %s: %zu inputs, %zu differ from sentencepiece\n", what, rows, bad);
    ck_assert_uint_gt(rows, 100);
    nlp_encoding_free(&e);
    free(data);
    return bad;
}

/* Four models under different settings, ids and offsets as sentencepiece. */
START_TEST(parity_models)
{
    static const char *const names[] = { "nmt-nfkc", "nfkc-cf-bytes", "identity-digits", "user-symbols" };
    char dir[512], file[600];
    snprintf(dir, sizeof dir, "%s/%s", SPMDATA, names[_i]);
    snprintf(file, sizeof file, "%s/expected.jsonl", dir);
    nlp_tokenizer *t = load(dir);
    ck_assert_uint_eq(run_rows(t, file, names[_i]), 0);
    nlp_tokenizer_free(t);
}
END_TEST

/* The same model as spm.model and as tokenizer.json: the same ids as
 * sentencepiece's over the spm-unigram inputs (the tokenizer.json path
 * may break an exact score tie differently: check_tokenizer allows that). */
START_TEST(model_and_tokenizer_json)
{
    nlp_tokenizer *tm = load(UNIGRAM "/model"), *tj = load(UNIGRAM);
    char *data = slurp(UNIGRAM "/expected.jsonl", NULL);
    ck_assert(data != NULL);
    nlp_encoding a = { 0 }, b = { 0 };
    nlp_error err;
    size_t rows = 0, bad = 0, differ = 0;
    for (char *p = data, *nl; p && *p; p = nl ? nl + 1 : NULL) {
        if ((nl = strchr(p, '\n')))
            *nl = '\0';
        cJSON *row = cJSON_Parse(p);
        const char *x = cJSON_GetObjectItemCaseSensitive(row, "text")->valuestring;
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(row, "ids");
        ck_assert_int_eq(nlp_tokenizer_encode(tm, x, strlen(x), NULL, 0, NULL, &a, &err), NLP_OK);
        ck_assert_int_eq(nlp_tokenizer_encode(tj, x, strlen(x), NULL, 0, NULL, &b, &err), NLP_OK);
        int same = a.n == (size_t)cJSON_GetArraySize(ids);
        for (size_t i = 0; same && i < a.n; i++)
            same = a.ids[i] == cJSON_GetArrayItem(ids, (int)i)->valueint;
        bad += !same;
        differ += a.n != b.n || memcmp(a.ids, b.ids, a.n * sizeof *a.ids) != 0;
        rows++;
        cJSON_Delete(row);
    }
    fprintf(stderr, "check_spm_model: spm-unigram: %zu inputs, %zu differ from sentencepiece, "
            "%zu from the tokenizer.json path\n", rows, bad, differ);
    ck_assert_uint_eq(bad, 0);
    ck_assert_uint_le(differ * 20, rows);
    nlp_encoding_free(&a);
    nlp_encoding_free(&b);
    free(data);
    nlp_tokenizer_free(tm);
    nlp_tokenizer_free(tj);
}
END_TEST

/* A folder with model's spm.model and a tokenizer_config.json. */
static void make_dir(const char *dir, const char *model, const char *cfg)
{
    size_t n;
    char *m = slurp(model, &n);
    char p[600];
    ck_assert(m != NULL);
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/spm.model", dir);
    FILE *f = fopen(p, "wb");
    ck_assert(f && fwrite(m, 1, n, f) == n);
    fclose(f);
    free(m);
    snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
    f = fopen(p, "w");
    ck_assert(f && fputs(cfg, f) >= 0);
    fclose(f);
}

/* DebertaV2Tokenizer: [CLS] A [SEP] B [SEP] with type ids 0 / 1 around
 * sentencepiece's ids; [MASK] appended to the vocabulary and matched in text. */
START_TEST(deberta_template)
{
    char dir[] = "/tmp/check_spm_model_XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    make_dir(dir, SPMDATA "/nmt-nfkc/spm.model",
             "{\"tokenizer_class\": \"DebertaV2Tokenizer\", \"cls_token\": \"[CLS]\", \"sep_token\": \"[SEP]\","
             " \"mask_token\": \"[MASK]\", \"pad_token\": \"[PAD]\", \"unk_token\": \"[UNK]\"}");
    nlp_tokenizer *t = load(dir);
    nlp_encoding e = { 0 }, a = { 0 };
    nlp_error err;
    nlp_encode_opts plain = NLP_ENCODE_OPTS_INIT;
    plain.add_special_tokens = 0;
    ck_assert_int_eq(nlp_tokenizer_encode(t, "Hello world", 11, "a dog", 5, NULL, &e, &err), NLP_OK);
    ck_assert_int_eq(nlp_tokenizer_encode(t, "Hello world", 11, "a dog", 5, &plain, &a, &err), NLP_OK);
    int32_t cls = nlp_tokenizer_special_id(t, NLP_SPECIAL_CLS), sep = nlp_tokenizer_special_id(t, NLP_SPECIAL_SEP);
    ck_assert_int_ge(cls, 1000);
    ck_assert_int_ge(sep, 1000);
    ck_assert_uint_eq(e.n, a.n + 3);
    ck_assert_int_eq(e.ids[0], cls);
    ck_assert_int_eq(e.ids[e.n - 1], sep);
    ck_assert_int_eq(e.type_ids[e.n - 1], 1);
    ck_assert_int_eq(e.type_ids[0], 0);
    int32_t mask = nlp_tokenizer_special_id(t, NLP_SPECIAL_MASK);
    ck_assert_int_ge(mask, 1000);
    ck_assert_int_eq(nlp_tokenizer_encode(t, "a [MASK] b", 10, NULL, 0, &plain, &e, &err), NLP_OK);
    int found = 0;
    for (size_t i = 0; i < e.n; i++)
        found |= e.ids[i] == mask;
    ck_assert(found);
    nlp_encoding_free(&e);
    nlp_encoding_free(&a);
    nlp_tokenizer_free(t);
    char p[600];
    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(p), 0);
}
END_TEST

/* The first row of a model's expected.jsonl whose text is `text`: its ids
 * into want[] (at most cap); returns how many. */
static size_t row_ids(const char *model, const char *text, int32_t *want, size_t cap)
{
    char file[600];
    snprintf(file, sizeof file, "%s/%s/expected.jsonl", SPMDATA, model);
    char *data = slurp(file, NULL);
    size_t n = 0;
    ck_assert(data != NULL);
    for (char *p = data, *nl; p && *p && !n; p = nl ? nl + 1 : NULL) {
        if ((nl = strchr(p, '\n')))
            *nl = '\0';
        cJSON *row = cJSON_Parse(p);
        if (strcmp(cJSON_GetObjectItemCaseSensitive(row, "text")->valuestring, text) == 0) {
            const cJSON *ids = cJSON_GetObjectItemCaseSensitive(row, "ids");
            for (n = 0; n < (size_t)cJSON_GetArraySize(ids) && n < cap; n++)
                want[n] = cJSON_GetArrayItem(ids, (int)n)->valueint;
        }
        cJSON_Delete(row);
    }
    free(data);
    ck_assert_msg(n > 0, "%s: no row \"%s\"", file, text);
    return n;
}

/* T5Tokenizer: A </s> and A </s> B </s> (type ids 0) around
 * sentencepiece's ids; <extra_id_N> is vocab size + 99 - N (transformers'
 * T5Tokenizer with extra_ids 100). */
START_TEST(t5_template)
{
    char dir[] = "/tmp/check_spm_model_XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    make_dir(dir, SPMDATA "/nmt-nfkc/spm.model", "{\"tokenizer_class\": \"T5Tokenizer\", \"extra_ids\": 100}");
    nlp_tokenizer *t = load(dir);
    int32_t a[64], b[64];
    size_t na = row_ids("nmt-nfkc", "Hello world", a, 64), nb = row_ids("nmt-nfkc", "café naïve", b, 64);
    nlp_encoding e = { 0 };
    nlp_error err;
    ck_assert_int_eq(nlp_tokenizer_encode(t, "Hello world", 11, "caf\xc3\xa9 na\xc3\xafve", 12, NULL, &e, &err),
                     NLP_OK);
    ck_assert_uint_eq(e.n, na + nb + 2);
    ck_assert_mem_eq(e.ids, a, na * sizeof *a);
    ck_assert_int_eq(e.ids[na], 2); /* </s> */
    ck_assert_mem_eq(e.ids + na + 1, b, nb * sizeof *b);
    ck_assert_int_eq(e.ids[e.n - 1], 2);
    for (size_t i = 0; i < e.n; i++)
        ck_assert_int_eq(e.type_ids[i], 0);
    ck_assert_int_eq(nlp_tokenizer_token_to_id(t, "<extra_id_0>"), 1099);
    ck_assert_int_eq(nlp_tokenizer_token_to_id(t, "<extra_id_99>"), 1000);
    ck_assert_uint_eq(nlp_tokenizer_vocab_size(t), 1100);
    ck_assert_int_eq(nlp_tokenizer_encode(t, "x<extra_id_3>", 13, NULL, 0, NULL, &e, &err), NLP_OK);
    ck_assert_int_eq(e.ids[e.n - 2], 1096);
    nlp_encoding_free(&e);
    nlp_tokenizer_free(t);
    make_dir(dir, SPMDATA "/nmt-nfkc/spm.model", "{\"tokenizer_class\": \"AlbertTokenizer\"}");
    ck_assert_int_eq(nlp_tokenizer_load(dir, &t, &err), NLP_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "AlbertTokenizer"));
    char p[600];
    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(p), 0);
}
END_TEST

/* Malformed .model files: an error naming the file and the byte. */
START_TEST(errors)
{
    static const struct { const char *bytes; size_t n; const char *want; } cases[] = {
        { "\x0a\x05\x0a\x01" "a", 5, "byte 1: length runs past" },
        { "\x0a\x07\x0a\x01" "a\x18\x02\x10\x01", 9, "byte 7: piece field" },
        { "\x0a\x05\x0a\x03" "a\xff" "b", 7, "byte 4: piece string" },
        { "\x0a\x03\x0a\x01" "a\x12\x02\x18\x02", 9, "BPE model" },
        { "\x0a\x03\x0a\x01" "a", 5, "no unknown piece" },
        { "\x0a\x05\x0a\x01" "a\x18\x09", 7, "byte 5: piece type" },
        { "\x0a\x05\x0a\x01" "a\x18\x02\x1a\x04\x12\x02\x01\x00", 13, "precompiled_charsmap" },
        { "\x4b", 1, "wire type" },
        { "\x48\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", 11, "varint longer" },
    };
    char dir[] = "/tmp/check_spm_model_XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    char p[600];
    snprintf(p, sizeof p, "%s/spiece.model", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = fopen(p, "wb");
        ck_assert(f && fwrite(cases[i].bytes, 1, cases[i].n, f) == cases[i].n);
        fclose(f);
        nlp_tokenizer *t = NULL;
        nlp_error err;
        ck_assert_int_ne(nlp_tokenizer_load(dir, &t, &err), NLP_OK);
        ck_assert_ptr_null(t);
        ck_assert_msg(strstr(err.msg, "spiece.model") && strstr(err.msg, cases[i].want),
                      "case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
    }
    remove(p);
    rmdir(dir);
}
END_TEST

static Suite *spm_suite(void)
{
    Suite *s = suite_create("spm_model");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, parity_models, 0, 4);
    tcase_add_test(tc, model_and_tokenizer_json);
    tcase_add_test(tc, deberta_template);
    tcase_add_test(tc, t5_template);
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(spm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
