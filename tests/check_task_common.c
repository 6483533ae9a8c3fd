/*
 * check_task_common.c - the plugin-side helpers of tasks/common: top-k
 * against a sorted reference (ties included), comma lists and --top-k
 * parsing as documented, batch padding, and the sequence-classification
 * head binding (labels, missing tensors, the default function) on the
 * fixture checkpoints, overflow windows against a direct walk of the
 * rule, and the run() plumbing (encoding arrays, the fatal exit).  The
 * helpers run over libnlp's real host table.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/nlp.h"
#include "nlp/registry.h"
#include "task_common.h"
#include "tc_window.h"

#ifndef NLP_TEST_DATA
#error "NLP_TEST_DATA must name the data directory"
#endif

static const nlp_host_api *H;

static void setup(void)
{
    H = nlp_host_api_get();
}

/* ------------------------------------------------------------ top-k */

static const float *ref_x;

static int ref_cmp(const void *a, const void *b)
{
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    if (ref_x[i] != ref_x[j])
        return ref_x[i] > ref_x[j] ? -1 : 1;
    return (i > j) - (i < j);
}

START_TEST(topk_matches_sort)
{
    static const size_t ns[] = {1, 2, 7, 100, 2000};
    unsigned seed = 12345;
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        size_t n = ns[a];
        float *x = malloc(n * sizeof *x);
        int32_t *ref = malloc(n * sizeof *ref), *out = malloc((n + 5) * sizeof *out);
        ck_assert(x && ref && out);
        for (int ties = 0; ties < 2; ties++) {
            for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                unsigned r = (seed >> 8) & 0xffff;
                x[i] = ties ? (float)(r % 5) : (float)r / 65536.0f - 0.5f;
                ref[i] = (int32_t)i;
            }
            ref_x = x;
            qsort(ref, n, sizeof *ref, ref_cmp);
            size_t ks[] = {1, 3, n, n + 5};
            for (size_t b = 0; b < 4; b++) {
                size_t k = ks[b];
                size_t got = nlp_tc_topk(x, n, k, out);
                ck_assert_uint_eq(got, k < n ? k : n);
                for (size_t i = 0; i < got; i++)
                    ck_assert_msg(out[i] == ref[i], "n=%zu k=%zu ties=%d: out[%zu]=%d, want %d",
                                  n, k, ties, i, out[i], ref[i]);
            }
        }
        free(x);
        free(ref);
        free(out);
    }
    float one = 1.0f;
    int32_t o = -1;
    ck_assert_uint_eq(nlp_tc_topk(&one, 1, 0, &o), 0);
    ck_assert_int_eq(o, -1);
}
END_TEST

/* ------------------------------------------------------------ text */

START_TEST(list_split_like_hf)
{
    char **v = NULL;
    size_t n = 99;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_tc_list_split(H, " sports, politics ,,tech \t", &v, &n, &err), NLP_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(v[0], "sports");
    ck_assert_str_eq(v[1], "politics");
    ck_assert_str_eq(v[2], "tech");
    nlp_tc_list_free(v, n);
    ck_assert_int_eq(nlp_tc_list_split(H, " , ,,", &v, &n, &err), NLP_OK);
    ck_assert_uint_eq(n, 0);
    nlp_tc_list_free(v, n);
    ck_assert_int_eq(nlp_tc_list_split(H, "", &v, &n, &err), NLP_OK);
    ck_assert_uint_eq(n, 0);
    nlp_tc_list_free(v, n);
    ck_assert_int_eq(nlp_tc_list_split(H, NULL, &v, &n, &err), NLP_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(nlp_tc_list_split(H, "one word", &v, &n, &err), NLP_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(v[0], "one word");
    nlp_tc_list_free(v, n);
}
END_TEST

START_TEST(parse_top_k)
{
    size_t k = 0;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_tc_parse_top_k(H, "3", 0, "top-k", &k, &err), NLP_OK);
    ck_assert_uint_eq(k, 3);
    ck_assert_int_eq(nlp_tc_parse_top_k(H, "all", 1, "top-k", &k, &err), NLP_OK);
    ck_assert_uint_eq(k, SIZE_MAX);
    ck_assert_int_eq(nlp_tc_parse_top_k(H, "all", 0, "top-k", &k, &err), NLP_ERR_INVALID_ARG);
    ck_assert_str_eq(err.msg, "--top-k must be a positive integer, not 'all'");
    static const char *bad[] = {"0", "-2", "3x", "", " 4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(nlp_tc_parse_top_k(H, bad[i], 1, "top-k", &k, &err), NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_tc_parse_top_k(H, "0", 1, "top-k", &k, &err), NLP_ERR_INVALID_ARG);
    ck_assert_str_eq(err.msg, "--top-k must be a positive integer or 'all', not '0'");
}
END_TEST

/* ------------------------------------------------------------ batching */

static void fill(nlp_encoding *e, size_t n, int32_t base, int32_t type)
{
    e->n = n;
    e->ids = malloc(n * sizeof *e->ids);
    e->type_ids = malloc(n * sizeof *e->type_ids);
    ck_assert(e->ids && e->type_ids);
    for (size_t i = 0; i < n; i++) {
        e->ids[i] = base + (int32_t)i;
        e->type_ids[i] = i >= 2 ? type : 0;
    }
}

START_TEST(batch_pack_pads)
{
    nlp_encoding a = {0}, b = {0}, empty = {0};
    fill(&a, 3, 10, 1);
    fill(&b, 5, 20, 1);
    const nlp_encoding *encs[] = {&a, &b};
    nlp_tc_batch bt = {0};
    nlp_error err = {0};
    ck_assert_int_eq(nlp_tc_batch_pack(H, &bt, encs, 2, 7, &err), NLP_OK);
    ck_assert_uint_eq(bt.batch.batch, 2);
    ck_assert_uint_eq(bt.batch.seq, 5);
    static const int32_t ids[] = {10, 11, 12, 7, 7, 20, 21, 22, 23, 24};
    static const int32_t types[] = {0, 0, 1, 0, 0, 0, 0, 1, 1, 1};
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(bt.batch.ids[i], ids[i]);
        ck_assert_int_eq(bt.batch.type_ids[i], types[i]);
    }
    ck_assert_int_eq(bt.batch.lengths[0], 3);
    ck_assert_int_eq(bt.batch.lengths[1], 5);
    /* reuse with one shorter row */
    const nlp_encoding *one[] = {&a};
    ck_assert_int_eq(nlp_tc_batch_pack(H, &bt, one, 1, 0, &err), NLP_OK);
    ck_assert_uint_eq(bt.batch.seq, 3);
    ck_assert_int_eq(bt.batch.ids[2], 12);
    const nlp_encoding *bad[] = {&a, &empty};
    ck_assert_int_eq(nlp_tc_batch_pack(H, &bt, bad, 2, 0, &err), NLP_ERR_INPUT);
    ck_assert_str_eq(err.msg, "input 2 encodes to no tokens");
    nlp_tc_batch_free(&bt);
    free(a.ids);
    free(a.type_ids);
    free(b.ids);
    free(b.type_ids);
}
END_TEST

/* ------------------------------------------------------------ seqcls */

static nlp_model *load(const char *name)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/models/%s", NLP_TEST_DATA, name);
    nlp_model *m = NULL;
    nlp_error err = {0};
    ck_assert_msg(nlp_model_load(dir, &m, &err) == NLP_OK, "%s: %s", dir, err.msg);
    return m;
}

START_TEST(seqcls_binds_heads)
{
    static const struct {
        const char *model;
        size_t L;
        const char *label0;
        nlp_tc_function fn;
    } cases[] = {
        {"tiny-bert-sst2", 2, "NEGATIVE", NLP_TC_FN_SOFTMAX},
        {"tiny-distilbert-sst2", 2, "NEGATIVE", NLP_TC_FN_SOFTMAX},
        {"tiny-bert-multilabel", 3, "toxic", NLP_TC_FN_SIGMOID},
        {"tiny-distilbert-1label", 1, "LABEL_0", NLP_TC_FN_SIGMOID},
        {"tiny-distilbert-mnli", 3, "ENTAILMENT", NLP_TC_FN_SOFTMAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nlp_model *m = load(cases[i].model);
        nlp_tc_seqcls sc;
        nlp_error err = {0};
        ck_assert_msg(nlp_tc_seqcls_init(&sc, H, m, &err) == NLP_OK, "%s", err.msg);
        ck_assert_uint_eq(sc.L, cases[i].L);
        ck_assert_str_eq(sc.labels[0], cases[i].label0);
        ck_assert_int_eq(nlp_tc_seqcls_function(&sc, NLP_TC_FN_AUTO), cases[i].fn);
        ck_assert_int_eq(nlp_tc_seqcls_function(&sc, NLP_TC_FN_NONE), NLP_TC_FN_NONE);
        nlp_tc_seqcls_free(&sc);
        nlp_model_free(m);
    }
    nlp_model *m = load("tiny-bert-mlm");
    nlp_tc_seqcls sc;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_tc_seqcls_init(&sc, H, m, &err), NLP_ERR_NOT_FOUND);
    ck_assert_str_eq(err.msg, "the checkpoint has no sequence-classification head "
                              "(tensor classifier.weight is missing)");
    nlp_tc_seqcls_free(&sc);
    nlp_model_free(m);
}
END_TEST

START_TEST(apply_function)
{
    float x[3] = {1.0f, 2.0f, 3.0f};
    nlp_tc_apply_function(H, NLP_TC_FN_NONE, x, 3);
    ck_assert_float_eq(x[2], 3.0f);
    nlp_tc_apply_function(H, NLP_TC_FN_SIGMOID, x, 3);
    ck_assert_float_eq_tol(x[0], 0.7310586f, 1e-6f);
    float y[2] = {0.0f, 1.0f};
    nlp_tc_apply_function(H, NLP_TC_FN_SOFTMAX, y, 2);
    ck_assert_float_eq_tol(y[1], 0.7310586f, 1e-6f);
    nlp_tc_function fn;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_tc_parse_function(H, NULL, &fn, &err), NLP_OK);
    ck_assert_int_eq(fn, NLP_TC_FN_AUTO);
    ck_assert_int_eq(nlp_tc_parse_function(H, "sigmoid", &fn, &err), NLP_OK);
    ck_assert_int_eq(fn, NLP_TC_FN_SIGMOID);
    ck_assert_int_eq(nlp_tc_parse_function(H, "tanh", &fn, &err), NLP_ERR_INVALID_ARG);
    ck_assert_str_eq(err.msg, "--function must be softmax, sigmoid or none, not 'tanh'");
}
END_TEST

/* ------------------------------------------------------------ windows */

START_TEST(windows_cover_like_overflow)
{
    /* The overflow rule walked directly: windows start at 0, then every
     * width - stride tokens, until one reaches the end. */
    for (size_t n = 0; n <= 40; n++)
        for (size_t width = 1; width <= 12; width++)
            for (size_t stride = 0; stride < width; stride++) {
                size_t want = 0, start = 0;
                for (;;) {
                    size_t stop = start + width < n ? start + width : n;
                    size_t a, b;
                    nlp_tc_window_range(n, width, stride, want, &a, &b);
                    ck_assert_uint_eq(a, start);
                    ck_assert_uint_eq(b, stop);
                    want++;
                    if (stop >= n)
                        break;
                    start += width - stride;
                }
                ck_assert_uint_eq(nlp_tc_window_count(n, width, stride), want);
            }
}
END_TEST

START_TEST(encodings_reserve_and_fail_all)
{
    nlp_error err = {0};
    nlp_encoding *v = NULL;
    size_t cap = 0;
    ck_assert_int_eq(nlp_tc_encodings_reserve(H, &v, &cap, 3, &err), NLP_OK);
    ck_assert_uint_ge(cap, 3);
    for (size_t i = 0; i < cap; i++)
        ck_assert_uint_eq(v[i].n, 0);
    v[1].n = 7; /* kept when the array grows */
    size_t old = cap;
    ck_assert_int_eq(nlp_tc_encodings_reserve(H, &v, &cap, old + 1, &err), NLP_OK);
    ck_assert_uint_ge(cap, old + 1);
    ck_assert_uint_eq(v[1].n, 7);
    for (size_t i = old; i < cap; i++)
        ck_assert_ptr_null(v[i].ids);
    v[1].n = 0;
    nlp_tc_encodings_free(H, &v, &cap);
    ck_assert_ptr_null(v);
    ck_assert_uint_eq(cap, 0);

    nlp_value *res[2] = {H->value_array(), NULL};
    nlp_error errs[2] = {{0}};
    nlp_error fatal = {0};
    H->error_set(&fatal, NLP_ERR_NOMEM, "out of memory");
    ck_assert_int_eq(nlp_tc_fail_all(H, res, errs, 2, &fatal), NLP_ERR_NOMEM);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_ptr_null(res[i]);
        ck_assert_int_eq(errs[i].status, NLP_ERR_NOMEM);
        ck_assert_str_eq(errs[i].msg, "out of memory");
    }
    nlp_error unset = {0};
    ck_assert_int_eq(nlp_tc_fail_all(H, res, errs, 2, &unset), NLP_ERR_INTERNAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("task_common");
    TCase *tc = tcase_create("helpers");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, topk_matches_sort);
    tcase_add_test(tc, list_split_like_hf);
    tcase_add_test(tc, parse_top_k);
    tcase_add_test(tc, batch_pack_pads);
    tcase_add_test(tc, seqcls_binds_heads);
    tcase_add_test(tc, apply_function);
    tcase_add_test(tc, windows_cover_like_overflow);
    tcase_add_test(tc, encodings_reserve_and_fail_all);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
