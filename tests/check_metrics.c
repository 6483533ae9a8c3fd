/*
 * check_metrics.c - evaluation metrics (nlp/metrics.h) against Python
 * ports of scikit-learn, seqeval and SQuAD v1.1's evaluate-v1.1.py
 * (the JSON files of data/expected/metrics, from tests/gen/gen_metrics.py): exact
 * counts, every score within 1e-12 relative and printed by "%.2f" as
 * Python prints it; and the refused arguments.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nlp/metrics.h"

static cJSON *load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/expected/metrics/%s", NLP_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(s);
    free(s);
    ck_assert_msg(j != NULL, "%s: bad JSON", path);
    return j;
}

static cJSON *item(const cJSON *o, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(v != NULL, "no \"%s\" in the expected values", key);
    return v;
}

static size_t count_of(const cJSON *o, const char *key)
{
    return (size_t)item(o, key)->valuedouble;
}

/* An expected float is [value, "%.2f" of it in Python]. */
static void check_num(const cJSON *pair, double got, const char *what, const char *name)
{
    double want = cJSON_GetArrayItem(pair, 0)->valuedouble;
    const char *printed = cJSON_GetArrayItem(pair, 1)->valuestring;
    ck_assert_msg(fabs(got - want) <= 1e-12 * fabs(want), "%s: %s is %.17g, expected %.17g",
                  name, what, got, want);
    char buf[64];
    snprintf(buf, sizeof buf, "%.2f", got);
    ck_assert_msg(strcmp(buf, printed) == 0, "%s: %s prints %s, Python %s", name, what, buf,
                  printed);
}

static void check_counts(const cJSON *o, const nlp_metrics_score *s, const char *name)
{
    ck_assert_msg(s->support == count_of(o, "support") &&
                      s->predicted == count_of(o, "predicted") &&
                      s->correct == count_of(o, "correct"),
                  "%s: counts %zu/%zu/%zu", name, s->support, s->predicted, s->correct);
}

static void check_score(const cJSON *o, const nlp_metrics_score *s, const char *name)
{
    check_counts(o, s, name);
    check_num(item(o, "precision"), s->precision, "precision", name);
    check_num(item(o, "recall"), s->recall, "recall", name);
    check_num(item(o, "f1"), s->f1, "f1", name);
}

/* [P, R, F1] triples (micro, macro). */
static void check_prf(const cJSON *triple, const nlp_metrics_score *s, const char *what,
                      const char *name)
{
    char label[64];
    snprintf(label, sizeof label, "%s precision", what);
    check_num(cJSON_GetArrayItem(triple, 0), s->precision, label, name);
    snprintf(label, sizeof label, "%s recall", what);
    check_num(cJSON_GetArrayItem(triple, 1), s->recall, label, name);
    snprintf(label, sizeof label, "%s f1", what);
    check_num(cJSON_GetArrayItem(triple, 2), s->f1, label, name);
}

/* ------------------------------------------------------------ classification */

static void check_class_report(const cJSON *c, const nlp_metrics_class_report *r)
{
    const char *name = item(c, "name")->valuestring;
    ck_assert_uint_eq(r->n, count_of(c, "n"));
    ck_assert_int_eq(r->num_labels, (int)count_of(c, "num_labels"));
    check_num(item(c, "accuracy"), r->accuracy, "accuracy", name);
    check_prf(item(c, "micro"), &r->micro, "micro", name);
    check_prf(item(c, "macro"), &r->macro, "macro", name);
    int k = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, item(c, "labels"))
    {
        char label[128];
        snprintf(label, sizeof label, "%s, label %d", name, k);
        check_score(l, &r->labels[k++], label);
    }
    ck_assert_int_eq(k, r->num_labels);
}

START_TEST(test_classification)
{
    cJSON *j = load("classification.json");
    const cJSON *c;
    int cases = 0;
    cJSON_ArrayForEach(c, item(j, "single"))
    {
        size_t n = count_of(c, "n");
        int32_t *gold = malloc((n + 1) * sizeof *gold), *pred = malloc((n + 1) * sizeof *pred);
        for (size_t i = 0; i < n; i++) {
            gold[i] = cJSON_GetArrayItem(item(c, "gold"), (int)i)->valueint;
            pred[i] = cJSON_GetArrayItem(item(c, "pred"), (int)i)->valueint;
        }
        nlp_metrics_class_report *r = NULL;
        nlp_error err = {0};
        ck_assert_int_eq(nlp_metrics_classification(gold, pred, n, (int)count_of(c, "num_labels"),
                                                    &r, &err), NLP_OK);
        check_class_report(c, r);
        nlp_metrics_class_report_free(r);
        free(gold);
        free(pred);
        cases++;
    }
    ck_assert_int_ge(cases, 10);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_multilabel)
{
    cJSON *j = load("classification.json");
    const cJSON *c;
    int cases = 0;
    cJSON_ArrayForEach(c, item(j, "multi"))
    {
        size_t n = count_of(c, "n"), C = count_of(c, "num_labels");
        uint8_t *gold = malloc(n * C + 1), *pred = malloc(n * C + 1);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < C; k++) {
                gold[i * C + k] = (uint8_t)cJSON_GetArrayItem(
                    cJSON_GetArrayItem(item(c, "gold"), (int)i), (int)k)->valueint;
                pred[i * C + k] = (uint8_t)cJSON_GetArrayItem(
                    cJSON_GetArrayItem(item(c, "pred"), (int)i), (int)k)->valueint;
            }
        nlp_metrics_class_report *r = NULL;
        nlp_error err = {0};
        ck_assert_int_eq(nlp_metrics_multilabel(gold, pred, n, (int)C, &r, &err), NLP_OK);
        check_class_report(c, r);
        nlp_metrics_class_report_free(r);
        free(gold);
        free(pred);
        cases++;
    }
    ck_assert_int_ge(cases, 8);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_classification_refused)
{
    int32_t gold[] = {0, 1, 2}, pred[] = {0, 3, 1}, neg[] = {0, -1, 0};
    uint8_t g8[] = {0, 1, 1, 0}, p8[] = {0, 2, 1, 0};
    nlp_metrics_class_report *r = (nlp_metrics_class_report *)gold;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_metrics_classification(gold, pred, 3, 3, &r, &err), NLP_ERR_INVALID_ARG);
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(err.msg, "item 1") != NULL, "%s", err.msg);
    ck_assert_int_eq(nlp_metrics_classification(gold, neg, 3, 3, &r, &err), NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_metrics_classification(gold, gold, 3, 0, &r, &err), NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_metrics_classification(NULL, gold, 3, 3, &r, &err), NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_metrics_multilabel(g8, p8, 2, 2, &r, &err), NLP_ERR_INVALID_ARG);
    ck_assert_msg(strstr(err.msg, "item 0, label 1") != NULL, "%s", err.msg);
    ck_assert_int_eq(nlp_metrics_classification(NULL, NULL, 0, 2, &r, &err), NLP_OK);
    ck_assert_double_eq(r->accuracy, 0.0);
    nlp_metrics_class_report_free(r);
    nlp_metrics_class_report_free(NULL);
}
END_TEST

/* ------------------------------------------------------------ entities */

/* The tags of one sentence as a string array (pointers into the JSON). */
static const char **tags_of(const cJSON *sentence, size_t *len)
{
    *len = (size_t)cJSON_GetArraySize(sentence);
    const char **t = malloc((*len + 1) * sizeof *t);
    for (size_t i = 0; i < *len; i++)
        t[i] = cJSON_GetArrayItem(sentence, (int)i)->valuestring;
    return t;
}

static void add_sentences(nlp_metrics_entities *m, const cJSON *c, int from, int to)
{
    for (int s = from; s < to; s++) {
        size_t ng, np;
        const char **g = tags_of(cJSON_GetArrayItem(item(c, "gold"), s), &ng);
        const char **p = tags_of(cJSON_GetArrayItem(item(c, "pred"), s), &np);
        ck_assert_uint_eq(ng, np);
        nlp_error err = {0};
        ck_assert_msg(nlp_metrics_entities_add(m, g, p, ng, &err) == NLP_OK, "%s", err.msg);
        free(g);
        free(p);
    }
}

static void check_entity_report(const cJSON *c, const nlp_metrics_entity_report *r)
{
    const char *name = item(c, "name")->valuestring;
    ck_assert_uint_eq(r->num_types, (size_t)cJSON_GetArraySize(item(c, "types")));
    size_t k = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, item(c, "types"))
    {
        char label[128];
        snprintf(label, sizeof label, "%s, type %s", name, item(t, "name")->valuestring);
        ck_assert_str_eq(r->types[k].name, item(t, "name")->valuestring);
        check_score(t, &r->types[k++].score, label);
    }
    check_counts(c, &r->micro, name);
    check_prf(item(c, "micro"), &r->micro, "micro", name);
    check_prf(item(c, "macro"), &r->macro, "macro", name);
    ck_assert_uint_eq(r->tokens, count_of(c, "tokens"));
    ck_assert_uint_eq(r->correct_tokens, count_of(c, "correct_tokens"));
    check_num(item(c, "accuracy"), r->token_accuracy, "token accuracy", name);
}

START_TEST(test_entities)
{
    cJSON *j = load("ner.json");
    const cJSON *c;
    int cases = 0;
    cJSON_ArrayForEach(c, j)
    {
        nlp_metrics_entities *m = NULL;
        nlp_metrics_entity_report *r = NULL;
        nlp_error err = {0};
        ck_assert_int_eq(nlp_metrics_entities_create(&m, &err), NLP_OK);
        add_sentences(m, c, 0, cJSON_GetArraySize(item(c, "gold")));
        ck_assert_int_eq(nlp_metrics_entities_report(m, &r, &err), NLP_OK);
        check_entity_report(c, r);
        nlp_metrics_entity_report_free(r);
        nlp_metrics_entities_free(m);
        cases++;
    }
    ck_assert_int_ge(cases, 16);
    cJSON_Delete(j);
}
END_TEST

/* A report mid-way leaves the accumulator going; a refused sentence
 * changes nothing. */
START_TEST(test_entities_incremental)
{
    cJSON *j = load("ner.json");
    const cJSON *c = cJSON_GetArrayItem(j, cJSON_GetArraySize(j) - 1);
    int n = cJSON_GetArraySize(item(c, "gold"));
    nlp_metrics_entities *m = NULL;
    nlp_metrics_entity_report *r = NULL;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_metrics_entities_create(&m, &err), NLP_OK);
    add_sentences(m, c, 0, n / 2);
    ck_assert_int_eq(nlp_metrics_entities_report(m, &r, &err), NLP_OK);
    nlp_metrics_entity_report_free(r);
    const char *bad_gold[] = {"B-PER", "I-PER", "O"}, *bad_pred[] = {"B-NEW", "PER", "O"};
    ck_assert_int_eq(nlp_metrics_entities_add(m, bad_gold, bad_pred, 3, &err),
                     NLP_ERR_INVALID_ARG);
    ck_assert_msg(strstr(err.msg, "token 1") && strstr(err.msg, "\"PER\""), "%s", err.msg);
    add_sentences(m, c, n / 2, n);
    ck_assert_int_eq(nlp_metrics_entities_report(m, &r, &err), NLP_OK);
    check_entity_report(c, r);
    nlp_metrics_entity_report_free(r);
    nlp_metrics_entities_free(m);
    nlp_metrics_entities_free(NULL);
    nlp_metrics_entity_report_free(NULL);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_entities_refused)
{
    static const char *bad[] = {"X-PER", "PER", "", "O-PER", "BPER", "o", "b-PER"};
    nlp_metrics_entities *m = NULL;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_metrics_entities_create(&m, &err), NLP_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *g[] = {"O", bad[i]}, *p[] = {"O", "O"};
        ck_assert_msg(nlp_metrics_entities_add(m, g, p, 2, &err) == NLP_ERR_INVALID_ARG,
                      "gold tag \"%s\" accepted", bad[i]);
        ck_assert_msg(nlp_metrics_entities_add(m, p, g, 2, &err) == NLP_ERR_INVALID_ARG,
                      "predicted tag \"%s\" accepted", bad[i]);
    }
    nlp_metrics_entity_report *r = NULL;
    ck_assert_int_eq(nlp_metrics_entities_report(m, &r, &err), NLP_OK);
    ck_assert_uint_eq(r->num_types, 0);
    ck_assert_uint_eq(r->tokens, 0);
    nlp_metrics_entity_report_free(r);
    nlp_metrics_entities_free(m);
}
END_TEST

/* ------------------------------------------------------------ SQuAD */

static const char **answers_of(const cJSON *e, size_t *n)
{
    return tags_of(item(e, "answers"), n);
}

START_TEST(test_squad_normalize)
{
    cJSON *j = load("squad.json");
    const cJSON *e;
    int strings = 0;
    cJSON_ArrayForEach(e, item(j, "examples"))
    {
        size_t n;
        const char **answers = answers_of(e, &n);
        const cJSON *norm = item(e, "normalized");
        for (size_t i = 0; i <= n; i++) {
            const char *in = i == 0 ? item(e, "prediction")->valuestring : answers[i - 1];
            const char *want = cJSON_GetArrayItem(norm, (int)i)->valuestring;
            char *got = NULL;
            nlp_error err = {0};
            ck_assert_int_eq(nlp_metrics_squad_normalize(in, &got, &err), NLP_OK);
            ck_assert_msg(strcmp(got, want) == 0, "normalize(\"%s\") = \"%s\", Python \"%s\"",
                          in, got, want);
            free(got);
            strings++;
        }
        free(answers);
    }
    ck_assert_int_ge(strings, 200);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_squad_scores)
{
    cJSON *j = load("squad.json");
    const cJSON *e, *t;
    cJSON_ArrayForEach(e, item(j, "examples"))
    {
        size_t n;
        const char **answers = answers_of(e, &n);
        const char *pred = item(e, "prediction")->valuestring;
        double em = -1, f1 = -1;
        nlp_error err = {0};
        ck_assert_int_eq(nlp_metrics_squad_score(pred, answers, n, &em, &f1, &err), NLP_OK);
        check_num(item(e, "exact_match"), em, "exact match", pred);
        check_num(item(e, "f1"), f1, "f1", pred);
        free(answers);
    }
    cJSON_ArrayForEach(t, item(j, "totals"))
    {
        size_t count = count_of(t, "count");
        nlp_metrics_squad acc = {0};
        for (size_t i = 0; i < count; i++) {
            e = cJSON_GetArrayItem(item(j, "examples"), (int)i);
            size_t n;
            const char **answers = answers_of(e, &n);
            nlp_error err = {0};
            ck_assert_int_eq(nlp_metrics_squad_add(&acc, item(e, "prediction")->valuestring,
                                                   answers, n, &err), NLP_OK);
            free(answers);
        }
        double em, f1;
        nlp_metrics_squad_totals(&acc, &em, &f1);
        ck_assert_uint_eq(acc.count, count);
        check_num(item(t, "exact_match"), em, "total exact match", "squad");
        check_num(item(t, "f1"), f1, "total f1", "squad");
    }
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_squad_refused)
{
    const char *answers[] = {"the answer", "\xff bad"};
    nlp_metrics_squad acc = {0};
    nlp_error err = {0};
    double em, f1;
    char *out = NULL;
    ck_assert_int_eq(nlp_metrics_squad_score("x", answers, 0, &em, &f1, &err),
                     NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_metrics_squad_add(&acc, "answer", answers, 2, &err), NLP_ERR_UTF8);
    ck_assert_msg(strstr(err.msg, "byte 0") != NULL, "%s", err.msg);
    ck_assert_uint_eq(acc.count, 0);
    ck_assert_int_eq(nlp_metrics_squad_add(&acc, "ans\xc3", answers, 1, &err), NLP_ERR_UTF8);
    ck_assert_int_eq(nlp_metrics_squad_normalize("\xed\xa0\x80", &out, &err), NLP_ERR_UTF8);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(nlp_metrics_squad_add(&acc, "Answer x", answers, 1, &err), NLP_OK);
    ck_assert_uint_eq(acc.count, 1);
    ck_assert_double_eq(acc.exact_match, 0.0);
    ck_assert_double_eq(acc.f1, (2 * 0.5 * 1.0) / (0.5 + 1.0));
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_classification);
    tcase_add_test(tc, test_multilabel);
    tcase_add_test(tc, test_classification_refused);
    tcase_add_test(tc, test_entities);
    tcase_add_test(tc, test_entities_incremental);
    tcase_add_test(tc, test_entities_refused);
    tcase_add_test(tc, test_squad_normalize);
    tcase_add_test(tc, test_squad_scores);
    tcase_add_test(tc, test_squad_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
