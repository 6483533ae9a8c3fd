/*
 * check_pipeline.c - the pipeline API (nlp/pipeline.h) on the fixture
 * checkpoints and the build tree's task plugins: open / set / run / free,
 * option errors, per-input errors and their JSON, truncation, the
 * architecture check, tabular columns and cells, corpus mode, and two
 * pipelines running at once on two threads.  Expected numbers come from
 * data/expected/ (PyTorch and the reference post-processing,
 * tests/gen/gen_tasks_cls.py, gen_corpus_tasks.py), never from nlp.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "nlp/nlp.h"

static nlp_registry *reg;

static void open_registry(void)
{
    static const char *const dirs[] = {
        NLP_BUILD_PLUGIN_DIR "/sentiment/.libs", NLP_BUILD_PLUGIN_DIR "/fill-mask/.libs",
        NLP_BUILD_PLUGIN_DIR "/ner/.libs", NLP_BUILD_PLUGIN_DIR "/classify/.libs", NULL};
    nlp_error err = {0};
    ck_assert_msg(nlp_registry_open(dirs, NULL, NULL, &reg, &err) == NLP_OK, "%s", err.msg);
}

static void close_registry(void)
{
    nlp_registry_free(reg);
    reg = NULL;
}

static nlp_pipeline *open_task(const char *task, const char *model)
{
    nlp_pipeline_opts o = NLP_PIPELINE_OPTS_INIT;
    o.model = model;
    o.registry = reg;
    o.threads = 1;
    nlp_pipeline *p = NULL;
    nlp_error err = {0};
    ck_assert_msg(nlp_pipeline_open(task, &o, &p, &err) == NLP_OK, "%s", err.msg);
    return p;
}

/* A reference case of data/expected/TASK/NAME.json (parsed; cJSON_Delete). */
static cJSON *load_case(const char *task, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, NLP_TEST_DATA "/expected/%s/%s.json", task, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s missing", path);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *j = cJSON_Parse(buf);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Does the JSON text got match the reference value exp (numbers within
 * 1e-5)? */
static int same_json(const cJSON *exp, const cJSON *got)
{
    if (cJSON_IsNumber(exp))
        return cJSON_IsNumber(got) && fabs(exp->valuedouble - got->valuedouble) <= 1e-5;
    if (cJSON_IsString(exp))
        return cJSON_IsString(got) && strcmp(exp->valuestring, got->valuestring) == 0;
    if (cJSON_IsArray(exp) || cJSON_IsObject(exp)) {
        if (cJSON_GetArraySize(exp) != cJSON_GetArraySize(got) ||
            cJSON_IsArray(exp) != cJSON_IsArray(got))
            return 0;
        for (const cJSON *e = exp->child, *g = got->child; e; e = e->next, g = g->next) {
            const cJSON *gg = cJSON_IsObject(exp) ? cJSON_GetObjectItemCaseSensitive(got, e->string) : g;
            if (!gg || !same_json(e, gg))
                return 0;
        }
        return 1;
    }
    return cJSON_Compare(exp, got, 1);
}

static nlp_input text_input(const char *s)
{
    return (nlp_input){s, strlen(s), NULL, 0};
}

/* Run the inputs of a reference case and compare every outcome. */
static void check_case(nlp_pipeline *p, const cJSON *c)
{
    const cJSON *inputs = cJSON_GetObjectItem(c, "inputs"), *exp = cJSON_GetObjectItem(c, "expected");
    size_t n = (size_t)cJSON_GetArraySize(inputs);
    nlp_input in[16];
    nlp_pipeline_result r[16];
    ck_assert_uint_le(n, 16);
    for (size_t i = 0; i < n; i++)
        in[i] = text_input(cJSON_GetArrayItem(inputs, (int)i)->valuestring);
    nlp_error err = {0};
    ck_assert_msg(nlp_pipeline_run(p, in, n, r, &err) == NLP_OK, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(exp, (int)i);
        char *json = nlp_pipeline_result_json(&r[i]);
        cJSON *got = cJSON_Parse(json);
        const cJSON *msg = cJSON_GetObjectItem(e, "error");
        if (msg) {
            ck_assert_ptr_null(r[i].value);
            ck_assert_str_eq(r[i].error.msg, msg->valuestring);
            ck_assert_str_eq(cJSON_GetObjectItem(got, "error")->valuestring, msg->valuestring);
            ck_assert_ptr_nonnull(cJSON_GetObjectItem(got, "error_type"));
        } else
            ck_assert_msg(same_json(e, got), "input %zu: %s", i + 1, json);
        cJSON_Delete(got);
        free(json);
    }
    nlp_pipeline_results_clear(r, n);
}

START_TEST(test_reference_cases)
{
    static const struct { const char *task, *name; } cases[] = {
        {"sentiment", "distilbert-sst2-default"}, {"sentiment", "bert-sst2-all"},
        {"fill-mask", "bert-default"}, {"fill-mask", "error-no-mask"},
    };
    open_registry();
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cJSON *c = load_case(cases[k].task, cases[k].name);
        char model[512];
        snprintf(model, sizeof model, NLP_TEST_DATA "/../%s",
                 cJSON_GetObjectItem(c, "model")->valuestring);
        nlp_pipeline *p = open_task(cases[k].task, model);
        const cJSON *args = cJSON_GetObjectItem(c, "args");
        nlp_error err = {0};
        for (const cJSON *a = args->child; a; a = a->next ? a->next->next : NULL)
            ck_assert_msg(nlp_pipeline_set(p, a->valuestring + 2, a->next->valuestring, &err) ==
                          NLP_OK, "%s", err.msg);
        check_case(p, c);
        nlp_pipeline_free(p);
        cJSON_Delete(c);
    }
    close_registry();
}
END_TEST

START_TEST(test_open_and_options)
{
    open_registry();
    nlp_pipeline_opts o = NLP_PIPELINE_OPTS_INIT;
    o.registry = reg;
    nlp_pipeline *p = NULL;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_pipeline_open("no-such-task", &o, &p, &err), NLP_ERR_NOT_FOUND);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(err.msg, "no-such-task"));

    p = open_task("sentiment", NLP_TEST_DATA "/models/tiny-distilbert-sst2");
    ck_assert_str_eq(nlp_pipeline_task(p)->name, "sentiment");
    ck_assert_ptr_null(nlp_pipeline_model_dir(p));   /* nothing loaded yet */
    ck_assert_int_eq(nlp_pipeline_set(p, "colour", "red", &err), NLP_ERR_USAGE);
    ck_assert_int_eq(nlp_pipeline_set(p, "function", "tanh", &err), NLP_ERR_USAGE);
    ck_assert_str_eq(err.msg, "option --function expects one of softmax|sigmoid|none, got 'tanh'");
    ck_assert_int_eq(nlp_pipeline_set_int(p, "top-k", 0, &err), NLP_OK);   /* a string option */
    /* the plugin refuses 0 when it starts: a usage error too */
    ck_assert_int_eq(nlp_pipeline_load(p, &err), NLP_ERR_USAGE);
    ck_assert_str_eq(err.msg, "--top-k must be a positive integer or 'all', not '0'");
    ck_assert_int_eq(nlp_pipeline_set(p, "top-k", "all", &err), NLP_OK);
    ck_assert_int_eq(nlp_pipeline_load(p, &err), NLP_OK);
    ck_assert_ptr_nonnull(nlp_pipeline_model_dir(p));
    ck_assert_int_eq(nlp_pipeline_set(p, "top-k", "1", &err), NLP_ERR_USAGE);   /* too late */
    nlp_pipeline_free(p);
    close_registry();
}
END_TEST

START_TEST(test_per_input_errors_and_truncation)
{
    open_registry();
    nlp_pipeline *p = open_task("sentiment", NLP_TEST_DATA "/models/tiny-distilbert-sst2");
    char long_text[1024] = "";
    for (int i = 0; i < 70; i++)
        strcat(long_text, "good ");
    nlp_input in[3] = {text_input("fine"), text_input("bad \xff byte"), text_input(long_text)};
    nlp_pipeline_result r[3];
    nlp_error err = {0};
    ck_assert_int_eq(nlp_pipeline_run(p, in, 3, r, &err), NLP_OK);
    ck_assert_ptr_nonnull(r[0].value);
    ck_assert_uint_eq(r[0].truncated_from, 0);
    ck_assert_ptr_null(r[1].value);
    ck_assert_int_eq(r[1].error.status, NLP_ERR_UTF8);
    char *json = nlp_pipeline_result_json(&r[1]);
    ck_assert_str_eq(json, "{\"error\":\"invalid UTF-8 at byte 4\",\"error_type\":\"invalid_utf8\"}");
    free(json);
    ck_assert_ptr_nonnull(r[2].value);   /* 72 tokens, cut to the model's 64 */
    ck_assert_uint_eq(r[2].truncated_from, 72);
    ck_assert_uint_eq(r[2].tokens, 64);
    nlp_pipeline_results_clear(r, 3);
    ck_assert_ptr_null(r[0].value);
    nlp_pipeline_free(p);

    /* without truncation the long text is that input's error */
    nlp_pipeline_opts o = NLP_PIPELINE_OPTS_INIT;
    o.model = NLP_TEST_DATA "/models/tiny-distilbert-sst2";
    o.registry = reg;
    o.no_truncation = 1;
    ck_assert_int_eq(nlp_pipeline_open("sentiment", &o, &p, &err), NLP_OK);
    ck_assert_int_eq(nlp_pipeline_run(p, &in[2], 1, r, &err), NLP_OK);
    ck_assert_ptr_null(r[0].value);
    ck_assert_str_eq(r[0].error.msg, "input is 72 tokens long; the model accepts at most 64");
    nlp_pipeline_free(p);
    close_registry();
}
END_TEST

START_TEST(test_architecture)
{
    open_registry();
    nlp_pipeline *p = open_task("ner", NLP_TEST_DATA "/models/trained-sst2");
    nlp_error err = {0};
    ck_assert_int_eq(nlp_pipeline_load(p, &err), NLP_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "BertForSequenceClassification"));
    ck_assert_ptr_nonnull(strstr(err.msg, "ForTokenClassification"));
    nlp_pipeline_free(p);
    nlp_pipeline_opts o = NLP_PIPELINE_OPTS_INIT;
    o.model = NLP_TEST_DATA "/models/trained-sst2";
    o.registry = reg;
    o.any_architecture = 1;
    ck_assert_int_eq(nlp_pipeline_open("ner", &o, &p, &err), NLP_OK);
    ck_assert_msg(nlp_pipeline_load(p, &err) == NLP_OK, "%s", err.msg);
    nlp_pipeline_free(p);
    close_registry();
}
END_TEST

START_TEST(test_columns_and_cells)
{
    open_registry();
    nlp_pipeline *p = open_task("sentiment", NLP_TEST_DATA "/models/tiny-distilbert-sst2");
    const nlp_column *cols;
    ck_assert_uint_eq(nlp_pipeline_columns(p, &cols), 2);
    ck_assert_str_eq(cols[0].name, "label");
    ck_assert_str_eq(cols[1].name, "score");
    nlp_value *v = nlp_value_parse_json("{\"label\":\"POSITIVE\",\"score\":0.5}", 32);
    char *t;
    int json;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_pipeline_cell(p, v, 0, &t, &json, &err), NLP_OK);
    ck_assert_str_eq(t, "POSITIVE");
    ck_assert_int_eq(json, 0);
    free(t);
    ck_assert_int_eq(nlp_pipeline_cell(p, v, 1, &t, &json, &err), NLP_OK);
    ck_assert_str_eq(t, "0.5");
    ck_assert_int_eq(json, 1);
    free(t);
    ck_assert_int_eq(nlp_pipeline_cell(p, v, 2, &t, &json, &err), NLP_ERR_INVALID_ARG);
    nlp_value_free(v);
    ck_assert_int_eq(nlp_pipeline_set(p, "top-k", "all", &err), NLP_OK);
    ck_assert_uint_eq(nlp_pipeline_columns(p, &cols), 1);
    ck_assert_str_eq(cols[0].name, "labels");
    nlp_pipeline_free(p);

    /* a flag set off stays off; other words are refused */
    p = open_task("classify", NLP_TEST_DATA "/models/tiny-bert-mnli");
    ck_assert_int_eq(nlp_pipeline_set(p, "labels", "a,b", &err), NLP_OK);
    ck_assert_int_eq(nlp_pipeline_set_flag(p, "multi-label", 1, &err), NLP_OK);
    ck_assert_int_eq(nlp_pipeline_set_flag(p, "multi-label", 0, &err), NLP_OK);
    ck_assert_int_eq(nlp_pipeline_set(p, "multi-label", "maybe", &err), NLP_ERR_USAGE);
    nlp_input one = text_input("text one");
    nlp_pipeline_result r1;
    ck_assert_msg(nlp_pipeline_run(p, &one, 1, &r1, &err) == NLP_OK, "%s", err.msg);
    /* single-label zero-shot: the scores are a softmax over the labels */
    const nlp_value *sc = nlp_value_get(r1.value, "scores");
    ck_assert_double_eq_tol(nlp_value_number(nlp_value_at(sc, 0)) +
                            nlp_value_number(nlp_value_at(sc, 1)), 1.0, 1e-6);
    nlp_pipeline_results_clear(&r1, 1);
    nlp_pipeline_free(p);

    /* zero-shot: label and score are the first of the sorted lists */
    p = open_task("classify", NLP_TEST_DATA "/models/tiny-bert-mnli");
    ck_assert_int_eq(nlp_pipeline_set(p, "labels", "a,b", &err), NLP_OK);
    ck_assert_uint_eq(nlp_pipeline_columns(p, &cols), 2);
    v = nlp_value_parse_json("{\"sequence\":\"x\",\"labels\":[\"b\",\"a\"],\"scores\":[0.75,0.25]}", 56);
    ck_assert_int_eq(nlp_pipeline_cell(p, v, 0, &t, &json, &err), NLP_OK);
    ck_assert_str_eq(t, "b");
    free(t);
    ck_assert_int_eq(nlp_pipeline_cell(p, v, 1, &t, &json, &err), NLP_OK);
    ck_assert_str_eq(t, "0.75");
    free(t);
    nlp_value_free(v);
    nlp_pipeline_free(p);
    close_registry();
}
END_TEST

START_TEST(test_corpus)
{
    open_registry();
    nlp_pipeline *p = open_task("sentiment", NLP_TEST_DATA "/models/tiny-bert-sst2");
    char out[] = "/tmp/check_pipeline_XXXXXX";
    int fd = mkstemp(out);
    ck_assert_int_ge(fd, 0);
    close(fd);
    nlp_corpus_job job;
    memset(&job, 0, sizeof job);
    job.input = NLP_TEST_DATA "/expected/corpus/reviews.csv";
    job.output = out;
    job.text_column = "review";
    job.format = "csv";
    nlp_corpus_stats st;
    nlp_error err = {0};
    ck_assert_msg(nlp_pipeline_run_corpus(p, &job, &st, &err) == NLP_OK, "%s", err.msg);
    /* reviews-expected.json: 116 good rows (20 of them over 64 tokens), 4 bad */
    ck_assert_uint_eq(st.read, 120);
    ck_assert_uint_eq(st.written, 116);
    ck_assert_uint_eq(st.skipped, 4);
    ck_assert_uint_eq(st.truncated, 20);
    ck_assert_int_eq(st.started, 1);
    job.text_column = "nope";
    ck_assert_int_eq(nlp_pipeline_run_corpus(p, &job, &st, &err), NLP_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "nope"));
    unlink(out);
    nlp_pipeline_free(p);
    close_registry();
}
END_TEST

/* Two pipelines on two threads: each gets the results it gets alone. */
typedef struct job {
    const char *task, *model, *text;
    char *json;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    nlp_pipeline *p = open_task(j->task, j->model);
    nlp_input in = text_input(j->text);
    nlp_pipeline_result r;
    for (int k = 0; k < 20; k++) {
        nlp_error err = {0};
        if (nlp_pipeline_run(p, &in, 1, &r, &err) != NLP_OK)
            break;
        free(j->json);
        j->json = nlp_pipeline_result_json(&r);
        nlp_pipeline_results_clear(&r, 1);
    }
    nlp_pipeline_free(p);
    return NULL;
}

START_TEST(test_two_threads)
{
    open_registry();
    job a = {"sentiment", NLP_TEST_DATA "/models/tiny-distilbert-sst2", "what a terrible waste of time.", NULL};
    job b = {"fill-mask", NLP_TEST_DATA "/models/tiny-bert-mlm", "the [MASK] of the world.", NULL};
    job a1 = a, b1 = b;
    run_job(&a1);
    run_job(&b1);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, run_job, &a);
    pthread_create(&tb, NULL, run_job, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_ptr_nonnull(a.json);
    ck_assert_ptr_nonnull(b.json);
    ck_assert_str_eq(a.json, a1.json);
    ck_assert_str_eq(b.json, b1.json);
    free(a.json);
    free(b.json);
    free(a1.json);
    free(b1.json);
    close_registry();
}
END_TEST

/* ---- pipelines borrowing one nlp_shared_model ---- */

#define SHARED_MODEL NLP_TEST_DATA "/models/tiny-bert-sst2"
enum { N_SHARED = 3, N_TEXTS = 3 };

/* Pipeline k of the shared-model tests: sentiment with option set k
 * (none; top-k all; sigmoid scores on int8 weights), on m or (m NULL)
 * loading its own model. */
static nlp_pipeline *open_shared(int k, nlp_shared_model *m)
{
    nlp_pipeline_opts o = NLP_PIPELINE_OPTS_INIT;
    o.model = SHARED_MODEL;
    o.registry = reg;
    o.threads = 1;
    o.shared_model = m;
    if (k == 2)
        o.dtype = NLP_WEIGHTS_INT8;
    nlp_pipeline *p = NULL;
    nlp_error err = {0};
    ck_assert_msg(nlp_pipeline_open("sentiment", &o, &p, &err) == NLP_OK, "%s", err.msg);
    if (k == 1)
        ck_assert_msg(nlp_pipeline_set(p, "top-k", "all", &err) == NLP_OK, "%s", err.msg);
    if (k == 2)
        ck_assert_msg(nlp_pipeline_set(p, "function", "sigmoid", &err) == NLP_OK, "%s", err.msg);
    return p;
}

/* The results of p on the test texts, as one JSON line per input. */
static char *run_texts(nlp_pipeline *p)
{
    static const char *const texts[N_TEXTS] = {
        "what a terrible waste of time.", "I loved every minute of it!",
        "the plot was thin, the acting fine, and the ending came far too late for me."};
    nlp_input in[N_TEXTS];
    for (int i = 0; i < N_TEXTS; i++)
        in[i] = text_input(texts[i]);
    nlp_pipeline_result r[N_TEXTS];
    nlp_error err = {0};
    ck_assert_msg(nlp_pipeline_run(p, in, N_TEXTS, r, &err) == NLP_OK, "%s", err.msg);
    size_t len = 0;
    char *lines[N_TEXTS];
    for (int i = 0; i < N_TEXTS; i++) {
        lines[i] = nlp_pipeline_result_json(&r[i]);
        ck_assert_ptr_nonnull(lines[i]);
        ck_assert_ptr_nonnull(r[i].value);
        len += strlen(lines[i]) + 1;
    }
    char *all = calloc(len + 1, 1);
    ck_assert_ptr_nonnull(all);
    for (int i = 0; i < N_TEXTS; i++) {
        strcat(all, lines[i]);
        strcat(all, "\n");
        free(lines[i]);
    }
    nlp_pipeline_results_clear(r, N_TEXTS);
    return all;
}

typedef struct shared_job {
    nlp_pipeline *p;
    const char *expect;
    int runs, same;
} shared_job;

static void *run_shared_job(void *arg)
{
    shared_job *j = arg;
    for (int k = 0; k < j->runs; k++) {
        char *got = run_texts(j->p);
        j->same += strcmp(got, j->expect) == 0;
        free(got);
    }
    return NULL;
}

START_TEST(test_shared_model)
{
    open_registry();
    nlp_error err = {0};
    /* the outputs of pipelines that load their own model */
    char *expect[N_SHARED];
    for (int k = 0; k < N_SHARED; k++) {
        nlp_pipeline *p = open_shared(k, NULL);
        expect[k] = run_texts(p);
        nlp_pipeline_free(p);
    }
    ck_assert_str_ne(expect[0], expect[1]);
    ck_assert_str_ne(expect[0], expect[2]);

    /* one thread: the same outputs on one shared model, which the caller
     * lets go of right after opening the pipelines */
    nlp_shared_model *m = NULL;
    ck_assert_msg(nlp_shared_model_load(SHARED_MODEL, NULL, &m, &err) == NLP_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(nlp_shared_model_model(m));
    ck_assert_ptr_nonnull(nlp_shared_model_tokenizer(m));
    ck_assert_str_eq(nlp_shared_model_dir(m), SHARED_MODEL);
    nlp_pipeline *p[N_SHARED];
    for (int k = 0; k < N_SHARED; k++)
        p[k] = open_shared(k, m);
    ck_assert_ptr_null(nlp_pipeline_shared_model(p[0]));   /* not loaded yet */
    nlp_shared_model_free(m);
    for (int k = 0; k < N_SHARED; k++) {
        char *got = run_texts(p[k]);
        ck_assert_str_eq(got, expect[k]);
        free(got);
        ck_assert_ptr_eq(nlp_pipeline_shared_model(p[k]), m);
        ck_assert_str_eq(nlp_pipeline_model_dir(p[k]), SHARED_MODEL);
    }
    /* a pipeline on the model another one loaded itself */
    nlp_pipeline *own = open_shared(0, NULL);
    char *got = run_texts(own);              /* loads it */
    ck_assert_str_eq(got, expect[0]);
    free(got);
    nlp_pipeline *lent = open_shared(1, nlp_pipeline_shared_model(own));
    nlp_pipeline_free(own);                 /* lent keeps the model */
    got = run_texts(lent);
    ck_assert_str_eq(got, expect[1]);
    free(got);
    nlp_pipeline_free(lent);
    for (int k = 0; k < N_SHARED; k++)
        nlp_pipeline_free(p[k]);

    /* several threads at once on a fresh shared model, loading (and packing
     * the fp32 and int8 weights) concurrently on their first run */
    ck_assert_msg(nlp_shared_model_load(SHARED_MODEL, NULL, &m, &err) == NLP_OK, "%s", err.msg);
    shared_job jobs[N_SHARED];
    pthread_t th[N_SHARED];
    for (int k = 0; k < N_SHARED; k++) {
        jobs[k] = (shared_job){open_shared(k, m), expect[k], 20, 0};
        ck_assert_int_eq(pthread_create(&th[k], NULL, run_shared_job, &jobs[k]), 0);
    }
    for (int k = 0; k < N_SHARED; k++) {
        pthread_join(th[k], NULL);
        ck_assert_int_eq(jobs[k].same, jobs[k].runs);
        ck_assert_ptr_eq(nlp_pipeline_shared_model(jobs[k].p), m);
        nlp_pipeline_free(jobs[k].p);
    }
    nlp_shared_model_free(m);               /* the last reference */
    for (int k = 0; k < N_SHARED; k++)
        free(expect[k]);

    /* errors */
    ck_assert_int_eq(nlp_shared_model_load(NLP_TEST_DATA "/models/no-such-model", NULL, &m, &err),
                     NLP_ERR_NOT_FOUND);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(nlp_shared_model_load(NULL, NULL, &m, &err), NLP_ERR_INVALID_ARG);
    nlp_shared_model_free(NULL);
    close_registry();
}
END_TEST

/* nlp_pipeline_rank: best score first, ties in input order, failed
 * inputs left out, index and the other fields kept. */
START_TEST(test_rank)
{
    static const char *const vals[] = {"{\"score\":0.5,\"text\":\"a\"}", NULL,
                                       "{\"score\":0.9}", "{\"score\":0.5,\"text\":\"d\"}",
                                       "{\"score\":-1}"};
    nlp_pipeline_result r[5];
    memset(r, 0, sizeof r);
    for (size_t i = 0; i < 5; i++)
        if (vals[i])
            r[i].value = nlp_value_parse_json(vals[i], strlen(vals[i]));
    nlp_value *list = nlp_pipeline_rank(r, 5);
    ck_assert_ptr_nonnull(list);
    char *j = nlp_value_to_json(list, 0);
    ck_assert_str_eq(j, "[{\"index\":2,\"score\":0.9},{\"index\":0,\"score\":0.5,\"text\":\"a\"},"
                        "{\"index\":3,\"score\":0.5,\"text\":\"d\"},{\"index\":4,\"score\":-1}]");
    free(j);
    nlp_value_free(list);
    list = nlp_pipeline_rank(r, 0);
    j = nlp_value_to_json(list, 0);
    ck_assert_str_eq(j, "[]");
    free(j);
    nlp_value_free(list);
    nlp_pipeline_results_clear(r, 5);
}
END_TEST

/* nlp_sbert_config_load on the all-MiniLM-L6-v2-layout fixture and on a
 * plain checkpoint. */
START_TEST(test_sbert_config)
{
    nlp_sbert_config c;
    nlp_error err = {0};
    ck_assert_msg(nlp_sbert_config_load(NLP_TEST_DATA "/models/minilm-embed", &c, &err) == NLP_OK,
                  "%s", err.msg);
    ck_assert_int_eq(c.found, 1);
    ck_assert_uint_eq(c.pooling, NLP_POOL_MEAN);
    ck_assert_int_eq(c.normalize, 1);
    ck_assert_int_eq(c.max_seq_length, 256);
    ck_assert_int_eq(c.do_lower_case, 0);
    ck_assert_int_eq(nlp_sbert_config_load(NLP_TEST_DATA "/models/tiny-bert", &c, &err), NLP_OK);
    ck_assert_int_eq(c.found, 0);
    ck_assert_uint_eq(c.pooling, NLP_POOL_MEAN);
    ck_assert_int_eq(c.normalize, 0);
    ck_assert_int_eq(c.max_seq_length, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("pipeline");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_reference_cases);
    tcase_add_test(tc, test_open_and_options);
    tcase_add_test(tc, test_per_input_errors_and_truncation);
    tcase_add_test(tc, test_architecture);
    tcase_add_test(tc, test_columns_and_cells);
    tcase_add_test(tc, test_corpus);
    tcase_add_test(tc, test_two_threads);
    tcase_add_test(tc, test_shared_model);
    tcase_add_test(tc, test_rank);
    tcase_add_test(tc, test_sbert_config);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
