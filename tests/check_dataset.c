/*
 * check_dataset.c - nlp/dataset.h against the definitions it implements:
 * masked-LM masking rates (15% chosen; of those 80% [MASK], 10% random,
 * 10% kept), special tokens never chosen, whole words chosen whole, the
 * same batch for the same (seed, draw); CoNLL sentences with the tag on the
 * first sub-token, -DOCSTART- skipped, labels sorted by name, a bad line
 * named; SQuAD windows sharing doc_stride tokens with the answer span
 * decoding to the answer, [CLS] where the answer is outside; a fixed label
 * set refusing an unknown label and taking integer ids.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlp/nlp.h"

static nlp_tokenizer *tok;
static char dir[64];
static char warned[4096];

static void on_warn(void *user, const char *msg)
{
    (void)user;
    strncat(warned, msg, sizeof warned - strlen(warned) - 2);
    strcat(warned, "\n");
}

static void setup(void)
{
    nlp_error err;
    ck_assert_int_eq(nlp_tokenizer_load(NLP_TEST_DATA "/models/tiny-bert", &tok, &err), NLP_OK);
    snprintf(dir, sizeof dir, "/tmp/check_dataset.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    warned[0] = '\0';
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    nlp_tokenizer_free(tok);
}

/* Write text to dir/name; returns the path (static buffer). */
static const char *put(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static nlp_dataset *load(nlp_dataset_opts *o, nlp_status want)
{
    nlp_dataset *ds = NULL;
    nlp_error err = {0};
    o->warn = on_warn;
    nlp_status st = nlp_dataset_load(o, tok, &ds, &err);
    ck_assert_msg(st == want, "status %d (%s), expected %d", st, err.msg, want);
    if (st != NLP_OK)
        strncpy(warned, err.msg, sizeof warned - 1);
    return ds;
}

/* ------------------------------------------------------------ MLM */

static const char *words(void)
{
    static char text[200000];
    static const char *const w[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy",
                                    "dog", "unbelievably", "photosynthesis", "river", "bank"};
    size_t n = 0;
    for (int line = 0; line < 400; line++) {
        for (int k = 0; k < 30; k++)
            n += (size_t)snprintf(text + n, sizeof text - n, "%s ", w[(line * 7 + k * 5) % 12]);
        text[n - 1] = '\n';
    }
    text[n] = '\0';
    return text;
}

START_TEST(test_mlm_rates)
{
    nlp_dataset_opts o;
    nlp_dataset_opts_init(&o, NLP_TRAIN_MLM, put("t.txt", words()));
    o.max_len = 64;
    nlp_dataset *ds = load(&o, NLP_OK);
    const size_t n = nlp_dataset_size(ds);
    ck_assert_uint_gt(n, 150);
    nlp_data_batch *b;
    nlp_error err;
    ck_assert_int_eq(nlp_data_batch_create(ds, n, &b, &err), NLP_OK);
    size_t *idx = malloc(n * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    const nlp_train_batch *tb;
    ck_assert_int_eq(nlp_dataset_batch(ds, idx, n, 1, 0, b, &tb, &err), NLP_OK);
    const size_t T = tb->in.seq;
    const int32_t mask = nlp_tokenizer_special_id(tok, NLP_SPECIAL_MASK);
    size_t ordinary = 0, chosen = 0, masked = 0, kept = 0;
    for (size_t r = 0; r < n; r++)
        for (size_t t = 0; t < (size_t)tb->in.lengths[r]; t++) {
            const int32_t y = tb->labels[r * T + t], x = tb->in.ids[r * T + t];
            if (t == 0 || t + 1 == (size_t)tb->in.lengths[r]) {
                ck_assert_int_eq(y, NLP_IGNORE_INDEX);      /* [CLS], [SEP] */
                continue;
            }
            ordinary++;
            if (y == NLP_IGNORE_INDEX)
                continue;
            chosen++;
            masked += x == mask;
            kept += x == y;
        }
    const double p = (double)chosen / (double)ordinary;
    ck_assert_msg(p > 0.14 && p < 0.16, "chosen %.4f of %zu", p, ordinary);
    ck_assert_msg(fabs((double)masked / chosen - 0.8) < 0.02, "masked %zu of %zu", masked, chosen);
    ck_assert_msg(fabs((double)kept / chosen - 0.1) < 0.02, "kept %zu of %zu", kept, chosen);
    /* the same draw gives the same batch; another draw another */
    int32_t *first = malloc(n * T * sizeof *first);
    memcpy(first, tb->in.ids, n * T * sizeof *first);
    ck_assert_int_eq(nlp_dataset_batch(ds, idx, n, 1, 0, b, &tb, &err), NLP_OK);
    ck_assert_int_eq(memcmp(first, tb->in.ids, n * T * sizeof *first), 0);
    ck_assert_int_eq(nlp_dataset_batch(ds, idx, n, 1, 1, b, &tb, &err), NLP_OK);
    ck_assert_int_ne(memcmp(first, tb->in.ids, n * T * sizeof *first), 0);
    free(first);
    free(idx);
    nlp_data_batch_free(b);
    nlp_dataset_free(ds);
}
END_TEST

/* Padded positions of a masked-LM batch are labelled -100 even when the
 * reused batch held masked tokens there before (found by fuzz_dataset:
 * the labels past a short row's length were left as they were). */
START_TEST(test_mlm_padding_labels)
{
    nlp_dataset_opts o;
    nlp_dataset_opts_init(&o, NLP_TRAIN_MLM,
                          put("p.txt", "the quick brown fox jumps over the lazy dog and the "
                                       "river bank of the brown dog\nfox\n"));
    o.max_len = 16;   /* two sequences: 16 tokens and the rest */
    o.mask_prob = 0.9;
    nlp_dataset *ds = load(&o, NLP_OK);
    const size_t n = nlp_dataset_size(ds);
    ck_assert_uint_ge(n, 2);
    size_t lo = 0, hi = 0;
    nlp_data_batch *b;
    nlp_error err;
    ck_assert_int_eq(nlp_data_batch_create(ds, 2, &b, &err), NLP_OK);
    const nlp_train_batch *tb;
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(nlp_dataset_batch(ds, &i, 1, 3, 0, b, &tb, &err), NLP_OK);
        size_t len = (size_t)tb->in.lengths[0];
        ck_assert_int_eq(nlp_dataset_batch(ds, &lo, 1, 3, 0, b, &tb, &err), NLP_OK);
        if (len < (size_t)tb->in.lengths[0])
            lo = i;
        ck_assert_int_eq(nlp_dataset_batch(ds, &hi, 1, 3, 0, b, &tb, &err), NLP_OK);
        if (len > (size_t)tb->in.lengths[0])
            hi = i;
    }
    ck_assert_int_eq(nlp_dataset_batch(ds, &hi, 1, 3, 0, b, &tb, &err), NLP_OK);
    size_t idx[2] = {lo, hi};
    ck_assert_int_eq(nlp_dataset_batch(ds, idx, 2, 3, 0, b, &tb, &err), NLP_OK);
    const size_t T = tb->in.seq, len = (size_t)tb->in.lengths[0];
    ck_assert_uint_lt(len, T);
    for (size_t t = len; t < T; t++)
        ck_assert_int_eq(tb->labels[t], NLP_IGNORE_INDEX);
    nlp_data_batch_free(b);
    nlp_dataset_free(ds);
}
END_TEST

START_TEST(test_whole_word)
{
    nlp_dataset_opts o;
    nlp_dataset_opts_init(&o, NLP_TRAIN_MLM, put("t.txt", words()));
    o.max_len = 64;
    o.whole_word = 1;
    o.mask_prob = 0.3;
    nlp_dataset *ds = load(&o, NLP_OK);
    const size_t n = nlp_dataset_size(ds);
    nlp_data_batch *b;
    nlp_error err;
    ck_assert_int_eq(nlp_data_batch_create(ds, n, &b, &err), NLP_OK);
    size_t *idx = malloc(n * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    const nlp_train_batch *tb;
    ck_assert_int_eq(nlp_dataset_batch(ds, idx, n, 3, 0, b, &tb, &err), NLP_OK);
    const size_t T = tb->in.seq;
    size_t pieces = 0;
    for (size_t r = 0; r < n; r++)
        for (size_t t = 2; t + 1 < (size_t)tb->in.lengths[r]; t++) {
            const int32_t y = tb->labels[r * T + t], prev = tb->labels[r * T + t - 1];
            /* the original token: the label when chosen, else the input */
            const char *s = nlp_tokenizer_id_to_token(tok, y != NLP_IGNORE_INDEX ? y
                                                           : tb->in.ids[r * T + t]);
            if (s && strncmp(s, "##", 2) == 0) {
                pieces++;
                ck_assert_msg((y == NLP_IGNORE_INDEX) == (prev == NLP_IGNORE_INDEX),
                              "row %zu position %zu: a word split by the mask", r, t);
            }
        }
    ck_assert_uint_gt(pieces, 100);
    free(idx);
    nlp_data_batch_free(b);
    nlp_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------------------ NER */

START_TEST(test_conll)
{
    const char *path = put("n.txt", "-DOCSTART- -X- -X- O\n\n"
                                    "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n"
                                    "photosynthesis JJ B-NP B-MISC\n\n"
                                    "-DOCSTART- -X- -X- O\n"
                                    "Peter NNP B-NP B-PER\nbroken\nBlackburn NNP I-NP I-PER\n\n"
                                    "Paris NNP B-NP B-LOC\n");
    nlp_dataset_opts o;
    nlp_dataset_opts_init(&o, NLP_TRAIN_TOKEN_CLS, path);
    nlp_dataset *ds = load(&o, NLP_OK);
    ck_assert_uint_eq(nlp_dataset_examples(ds), 2);
    ck_assert_uint_eq(nlp_dataset_skipped(ds), 1);
    ck_assert_msg(strstr(warned, "n.txt:9: ") != NULL, "warning: %s", warned);
    static const char *const sorted[] = {"B-LOC", "B-MISC", "B-ORG", "O"};
    ck_assert_uint_eq(nlp_dataset_num_labels(ds), 4);
    for (size_t i = 0; i < 4; i++)
        ck_assert_str_eq(nlp_dataset_label(ds, i), sorted[i]);
    nlp_data_batch *b;
    nlp_error err;
    ck_assert_int_eq(nlp_data_batch_create(ds, 2, &b, &err), NLP_OK);
    const size_t idx[1] = {0};
    const nlp_train_batch *tb;
    ck_assert_int_eq(nlp_dataset_batch(ds, idx, 1, 0, 0, b, &tb, &err), NLP_OK);
    /* [CLS] eu rejects photo ##syn ... [SEP]: tags on the first pieces */
    nlp_encoding e = {0};
    ck_assert_int_eq(nlp_tokenizer_encode(tok, "EU rejects photosynthesis", 25, NULL, 0, NULL,
                                          &e, &err), NLP_OK);
    ck_assert_int_eq(tb->in.lengths[0], (int32_t)e.n);
    const int32_t want_word[3] = {2, 3, 1};     /* B-ORG, O, B-MISC */
    for (size_t t = 0; t < e.n; t++) {
        ck_assert_int_eq(tb->in.ids[t], e.ids[t]);
        const int first = e.word[t] >= 0 && (t == 0 || e.word[t - 1] != e.word[t]);
        ck_assert_int_eq(tb->labels[t], first ? want_word[e.word[t]] : NLP_IGNORE_INDEX);
    }
    ck_assert_uint_gt(e.n, 5);      /* photosynthesis has several pieces */
    nlp_encoding_free(&e);
    nlp_data_batch_free(b);
    nlp_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------------------ QA */

START_TEST(test_squad_windows)
{
    const char *path =
        put("q.json",
            "{\"data\": [{\"paragraphs\": [{\"context\": \"one two three four five six seven "
            "eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen "
            "nineteen twenty\", \"qas\": [{\"id\": \"a\", \"question\": \"which?\", "
            "\"answers\": [{\"text\": \"seventeen eighteen\", \"answer_start\": 97}]}]}]}]}");
    nlp_dataset_opts o;
    nlp_dataset_opts_init(&o, NLP_TRAIN_QA, path);
    o.max_len = 16;
    o.doc_stride = 4;
    nlp_dataset *ds = load(&o, NLP_OK);
    ck_assert_uint_eq(nlp_dataset_examples(ds), 1);
    const size_t n = nlp_dataset_size(ds);
    ck_assert_uint_ge(n, 3);
    nlp_data_batch *b;
    nlp_error err;
    ck_assert_int_eq(nlp_data_batch_create(ds, n, &b, &err), NLP_OK);
    size_t idx[64];
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    const nlp_train_batch *tb;
    ck_assert_int_eq(nlp_dataset_batch(ds, idx, n, 0, 0, b, &tb, &err), NLP_OK);
    size_t inside = 0;
    for (size_t r = 0; r < n; r++) {
        ck_assert_int_le(tb->in.lengths[r], 16);
        const int32_t s = tb->start_positions[r], e = tb->end_positions[r];
        if (s == 0) {
            ck_assert_int_eq(e, 0);
            continue;
        }
        inside++;
        char *text;
        ck_assert_int_eq(nlp_tokenizer_decode(tok, tb->in.ids + r * tb->in.seq + s,
                                              (size_t)(e - s + 1), 1, &text, &err), NLP_OK);
        ck_assert_str_eq(text, "seventeen eighteen");
        free(text);
    }
    ck_assert_uint_ge(inside, 1);
    nlp_data_batch_free(b);
    nlp_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------------------ labels */

START_TEST(test_fixed_labels)
{
    static const char *const names[] = {"negative", "positive"};
    nlp_dataset_opts o;
    nlp_dataset_opts_init(&o, NLP_TRAIN_SEQ_CLS,
                          put("c.csv", "text,label\nfine,positive\nbad,0\ngood,1\n"));
    o.labels = names;
    o.n_labels = 2;
    nlp_dataset *ds = load(&o, NLP_OK);
    ck_assert_uint_eq(nlp_dataset_examples(ds), 3);
    nlp_dataset_free(ds);
    nlp_dataset_opts_init(&o, NLP_TRAIN_SEQ_CLS, put("d.csv", "text,label\nfine,positive\nmeh,2\n"));
    o.labels = names;
    o.n_labels = 2;
    load(&o, NLP_ERR_INPUT);
    ck_assert_msg(strstr(warned, "d.csv:3: label \"2\"") != NULL, "%s", warned);
}
END_TEST

/* Many labels taken from the data: every row gets its own label's id
 * after the labels are sorted, and a label seen again gets the same id.
 * Label look-ups go through a hash index (a linear scan made loading a
 * file with many distinct labels quadratic). */
START_TEST(test_many_labels)
{
    enum { N = 50000 };
    size_t cap = (size_t)N * 2 * 24 + 16, len = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    len += (size_t)snprintf(text + len, cap - len, "text,label\n");
    for (int r = 0; r < 2 * N; r++) /* labels 0..N-1, then N-1..0 */
        len += (size_t)snprintf(text + len, cap - len, "w,l%d\n", r < N ? r : 2 * N - 1 - r);
    nlp_dataset_opts o;
    nlp_dataset_opts_init(&o, NLP_TRAIN_SEQ_CLS, put("many.csv", text));
    free(text);
    nlp_dataset *ds = load(&o, NLP_OK);
    ck_assert_uint_eq(nlp_dataset_examples(ds), 2 * N);
    ck_assert_uint_eq(nlp_dataset_num_labels(ds), N);
    for (size_t i = 1; i < N; i++)
        ck_assert_int_lt(strcmp(nlp_dataset_label(ds, i - 1), nlp_dataset_label(ds, i)), 0);
    nlp_data_batch *b;
    nlp_error err;
    ck_assert_int_eq(nlp_data_batch_create(ds, 2, &b, &err), NLP_OK);
    for (size_t r = 0; r < N; r += 997) {
        const size_t idx[2] = {r, 2 * N - 1 - r};
        const nlp_train_batch *tb;
        ck_assert_int_eq(nlp_dataset_batch(ds, idx, 2, 0, 0, b, &tb, &err), NLP_OK);
        char want[16];
        snprintf(want, sizeof want, "l%zu", r);
        ck_assert_str_eq(nlp_dataset_label(ds, (size_t)tb->labels[0]), want);
        ck_assert_int_eq(tb->labels[1], tb->labels[0]);
    }
    nlp_data_batch_free(b);
    nlp_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_mlm_rates);
    tcase_add_test(tc, test_mlm_padding_labels);
    tcase_add_test(tc, test_whole_word);
    tcase_add_test(tc, test_conll);
    tcase_add_test(tc, test_squad_windows);
    tcase_add_test(tc, test_fixed_labels);
    tcase_add_test(tc, test_many_labels);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
