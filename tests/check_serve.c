/*
 * check_serve.c - the serving core (nlp/serve.h) without HTTP: request
 * bodies to inputs and options, every route's reply and status on the
 * fixture checkpoints, replies equal to the pipeline's own JSON, the
 * limits (inputs per request, input length, requests in flight), and
 * many threads calling at once (their requests batched together) getting
 * the answers they get alone.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nlp/nlp.h"
#include "nlp/serve.h"
#include "model/model_impl.h"   /* nlp_model_loads() */

#define MODELS NLP_TEST_DATA "/models/"

/* ------------------------------------------------------ request parsing */

static const nlp_option opts[] = {
    {"top-k", NLP_OPT_STRING, NULL, NULL, "", NULL},
    {"labels", NLP_OPT_STRING, NULL, NULL, "", NULL},
    {"aggregation", NLP_OPT_CHOICE, "none", "none|simple", "", NULL},
    {"multi-label", NLP_OPT_FLAG, NULL, NULL, "", NULL},
    {NULL, 0, NULL, NULL, NULL, NULL},
};
static const nlp_task_desc text_desc = {sizeof(nlp_task_desc), 0, "t", "", NULL,
                                        NLP_INPUT_TEXT_PAIR, opts, NULL, NULL};
static const nlp_task_desc qc_desc = {sizeof(nlp_task_desc), 0, "q", "", NULL,
                                      NLP_INPUT_QUESTION_CONTEXT, opts, NULL, NULL};

static nlp_status parse(const nlp_task_desc *d, const char *body, nlp_serve_request **r)
{
    nlp_error err = {0};
    nlp_status st = nlp_serve_request_parse(d, body, strlen(body), 4, r, &err);
    if (st != NLP_OK)
        ck_assert_msg(err.msg[0] && !strchr(err.msg, '\n'), "no one-line message");
    return st;
}

START_TEST(test_parse)
{
    nlp_serve_request *r;
    ck_assert_int_eq(parse(&text_desc, "{\"inputs\": \"hi\"}", &r), NLP_OK);
    ck_assert_uint_eq(r->n, 1);
    ck_assert(r->single);
    ck_assert_str_eq(r->inputs[0].text, "hi");
    ck_assert_str_eq(r->key, "");
    nlp_serve_request_free(r);

    ck_assert_int_eq(parse(&text_desc, "{\"inputs\": [\"a\", {\"text\": \"b\", \"text_pair\": \"c\"}],"
                                       " \"parameters\": {\"candidate_labels\": [\"x\", \"y\"],"
                                       " \"top_k\": 3, \"multi_label\": true,"
                                       " \"aggregation_strategy\": \"simple\"}}", &r), NLP_OK);
    ck_assert_uint_eq(r->n, 2);
    ck_assert(!r->single);
    ck_assert_str_eq(r->inputs[1].text_pair, "c");
    ck_assert_uint_eq(r->n_opts, 4);
    ck_assert_str_eq(r->opt_names[0], "top-k");       /* in the task's order */
    ck_assert_str_eq(r->opt_values[0], "3");
    ck_assert_str_eq(r->opt_values[1], "x,y");
    ck_assert_ptr_null(r->opt_values[3]);             /* a flag */
    nlp_serve_request *r2;
    ck_assert_int_eq(parse(&text_desc, "{\"parameters\": {\"multi_label\": true, \"top-k\": 3, "
                                       "\"labels\": \"x,y\", \"aggregation\": \"simple\"},"
                                       " \"inputs\": []}", &r2), NLP_OK);
    ck_assert_str_eq(r->key, r2->key);                /* the same options, one batch */
    ck_assert_uint_eq(r2->n, 0);
    nlp_serve_request_free(r);
    nlp_serve_request_free(r2);

    ck_assert_int_eq(parse(&qc_desc, "{\"inputs\": {\"question\": \"q\", \"context\": \"c\"}}", &r),
                     NLP_OK);
    ck_assert_str_eq(r->inputs[0].text_pair, "c");
    nlp_serve_request_free(r);

    r = NULL;
    ck_assert_int_eq(parse(&text_desc, "{\"inputs\": \"x\"", &r), NLP_ERR_FORMAT);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(parse(&text_desc, "", &r), NLP_ERR_FORMAT);
    ck_assert_int_eq(parse(&text_desc, "[1]", &r), NLP_ERR_INPUT);
    ck_assert_int_eq(parse(&text_desc, "{\"input\": \"x\"}", &r), NLP_ERR_INPUT);
    ck_assert_int_eq(parse(&text_desc, "{\"inputs\": 3}", &r), NLP_ERR_INPUT);
    ck_assert_int_eq(parse(&text_desc, "{\"inputs\": [\"a\", 1]}", &r), NLP_ERR_INPUT);
    ck_assert_int_eq(parse(&text_desc, "{\"inputs\": \"a\", \"extra\": 1}", &r), NLP_ERR_USAGE);
    ck_assert_int_eq(parse(&text_desc, "{\"inputs\": \"a\", \"parameters\": {\"colour\": 1}}", &r),
                     NLP_ERR_USAGE);
    ck_assert_int_eq(parse(&text_desc, "{\"inputs\": \"a\", \"parameters\": {\"top_k\": 1, "
                                       "\"top-k\": 2}}", &r), NLP_ERR_USAGE);
    ck_assert_int_eq(parse(&text_desc, "{\"inputs\": \"a\", \"parameters\": {\"multi_label\": 1}}",
                           &r), NLP_ERR_INPUT);
    ck_assert_int_eq(parse(&text_desc, "{\"inputs\": \"a\", \"parameters\": {\"labels\": [\"a,b\"]}}",
                           &r), NLP_ERR_INPUT);
    ck_assert_int_eq(parse(&text_desc, "{\"inputs\": \"a\", \"parameters\": [1]}", &r),
                     NLP_ERR_INPUT);
    ck_assert_int_eq(parse(&text_desc, "{\"inputs\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}", &r),
                     NLP_ERR_TOO_LARGE);
    ck_assert_int_eq(parse(&qc_desc, "{\"inputs\": \"just text\"}", &r), NLP_ERR_INPUT);
    ck_assert_int_eq(parse(&qc_desc, "{\"inputs\": {\"question\": \"q\"}}", &r), NLP_ERR_INPUT);
    ck_assert_ptr_null(r);
}
END_TEST

/* ----------------------------------------------------------- the server */

static nlp_server *start(const nlp_server_opts *o)
{
    nlp_server *s = NULL;
    nlp_error err = {0};
    ck_assert_msg(nlp_server_open(o, &s, &err) == NLP_OK, "%s", err.msg);
    ck_assert_msg(nlp_server_add(s, "sentiment", MODELS "tiny-bert-sst2", &err) == NLP_OK, "%s",
                  err.msg);
    ck_assert_msg(nlp_server_add(s, "fill-mask", MODELS "tiny-bert-mlm", &err) == NLP_OK, "%s",
                  err.msg);
    ck_assert_msg(nlp_server_add(s, "qa", MODELS "qa-bert", &err) == NLP_OK, "%s", err.msg);
    ck_assert_int_eq(nlp_server_add(s, "qa", MODELS "qa-bert", &err), NLP_ERR_CONFLICT);
    ck_assert_msg(nlp_server_start(s, &err) == NLP_OK, "%s", err.msg);
    return s;
}

static nlp_server_opts test_opts(void)
{
    nlp_server_opts o = NLP_SERVER_OPTS_INIT;
    o.threads = 1;
    o.plugin_dir = NLP_BUILD_PLUGIN_DIR;
    return o;
}

/* POST/GET path with body; the reply's status, its body in *out (new). */
static int call(nlp_server *s, const char *method, const char *path, const char *body,
                char **out)
{
    nlp_serve_call *c = nlp_server_call(s, method, path, body, body ? strlen(body) : 0);
    while (!nlp_serve_call_wait(c, 1000))
        ;
    const nlp_serve_reply *r = nlp_serve_call_reply(c);
    ck_assert_ptr_nonnull(r);
    int code = r->http_status;
    if (code >= 400) {   /* every error is one line {"error", "error_type"} */
        cJSON *j = cJSON_Parse(r->body);
        ck_assert_msg(cJSON_IsString(cJSON_GetObjectItem(j, "error")), "%s", r->body);
        ck_assert_msg(cJSON_IsString(cJSON_GetObjectItem(j, "error_type")), "%s", r->body);
        ck_assert(!strchr(r->body, '\n'));
        cJSON_Delete(j);
    }
    if (out)
        *out = strdup(r->body);
    nlp_serve_call_free(c);
    return code;
}

/* The pipeline's own JSON for one text of task on model. */
static char *direct(const char *task, const char *model, const char *opt, const char *val,
                    const char *text)
{
    nlp_pipeline_opts po = NLP_PIPELINE_OPTS_INIT;
    po.model = model;
    po.threads = 1;
    po.plugin_dir = NLP_BUILD_PLUGIN_DIR;
    nlp_pipeline *p;
    nlp_error err = {0};
    ck_assert_msg(nlp_pipeline_open(task, &po, &p, &err) == NLP_OK, "%s", err.msg);
    if (opt)
        ck_assert_int_eq(nlp_pipeline_set(p, opt, val, &err), NLP_OK);
    nlp_input in = {text, strlen(text), NULL, 0};
    nlp_pipeline_result r;
    ck_assert_msg(nlp_pipeline_run(p, &in, 1, &r, &err) == NLP_OK, "%s", err.msg);
    char *j = nlp_pipeline_result_json(&r);
    nlp_pipeline_results_clear(&r, 1);
    nlp_pipeline_free(p);
    return j;
}

START_TEST(test_routes)
{
    nlp_server_opts o = test_opts();
    nlp_server *s = start(&o);
    char *body, *exp;
    ck_assert_int_eq(call(s, "GET", "/health", NULL, &body), 200);
    free(body);
    ck_assert_int_eq(call(s, "POST", "/sentiment", "{\"inputs\": \"I loved it.\"}", &body), 200);
    exp = direct("sentiment", MODELS "tiny-bert-sst2", NULL, NULL, "I loved it.");
    ck_assert_str_eq(body, exp);
    free(body);
    free(exp);
    ck_assert_int_eq(call(s, "POST", "/fill-mask", "{\"inputs\": [\"a [MASK] b\"], "
                                                   "\"parameters\": {\"top_k\": 2}}", &body), 200);
    exp = direct("fill-mask", MODELS "tiny-bert-mlm", "top-k", "2", "a [MASK] b");
    ck_assert_uint_eq(strlen(body), strlen(exp) + 2);   /* [exp] */
    ck_assert(strncmp(body + 1, exp, strlen(exp)) == 0);
    free(body);
    free(exp);
    /* a list keeps failed inputs as error objects; one input's failure is the reply */
    ck_assert_int_eq(call(s, "POST", "/fill-mask", "{\"inputs\": [\"no mask\", \"[MASK]\"]}",
                          &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"error_type\":\"invalid_input\""));
    free(body);
    ck_assert_int_eq(call(s, "POST", "/fill-mask", "{\"inputs\": \"no mask\"}", NULL), 422);
    ck_assert_int_eq(call(s, "POST", "/qa", "{\"inputs\": {\"question\": \"Where?\", "
                                            "\"context\": \"I live in Berlin.\"}}", &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"answer\""));
    free(body);
    ck_assert_int_eq(call(s, "POST", "/sentiment", "{\"inputs\": ", NULL), 400);
    ck_assert_int_eq(call(s, "POST", "/sentiment", "{\"inputs\": 5}", NULL), 422);
    ck_assert_int_eq(call(s, "POST", "/sentiment", "{\"inputs\": \"x\", \"parameters\": "
                                                   "{\"colour\": \"red\"}}", NULL), 422);
    ck_assert_int_eq(call(s, "POST", "/sentiment", "{\"inputs\": \"x\", \"parameters\": "
                                                   "{\"top_k\": \"zero\"}}", NULL), 422);
    ck_assert_int_eq(call(s, "POST", "/sentiment", "{\"inputs\": \"\\u00ff\xff\"}", NULL), 422);
    ck_assert_int_eq(call(s, "POST", "/sentiment", "{\"inputs\": []}", &body), 200);
    ck_assert_str_eq(body, "[]");
    free(body);
    ck_assert_int_eq(call(s, "GET", "/sentiment", NULL, NULL), 405);
    ck_assert_int_eq(call(s, "POST", "/nowhere", "{}", NULL), 404);
    ck_assert_int_eq(call(s, "POST", "/embed", "{\"inputs\": \"x\"}", NULL), 404);
    ck_assert_int_eq(call(s, "POST", "/predict", "{\"inputs\": [\"a\", [\"b\", \"c\"]]}", &body),
                     200);
    ck_assert_ptr_nonnull(strstr(body, "[[{\"label\""));
    free(body);
    ck_assert_int_eq(call(s, "POST", "/rerank", "{\"query\": \"q\", \"texts\": [\"a\", \"b\"]}",
                          &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"index\":"));
    free(body);
    ck_assert_int_eq(call(s, "POST", "/tokenize", "{\"inputs\": \"Hello world\"}", &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"special\":true"));
    free(body);
    ck_assert_int_eq(call(s, "POST", "/decode", "{\"ids\": [[5, 6], [7]]}", &body), 200);
    ck_assert_int_eq(body[0], '[');
    free(body);
    ck_assert_int_eq(call(s, "POST", "/decode", "{\"ids\": [-1]}", NULL), 422);
    ck_assert_int_eq(call(s, "GET", "/info", NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"task\":\"qa\""));
    free(body);
    ck_assert_int_eq(call(s, "GET", "/metrics", NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "nlp_serve_requests_total{route=\"/sentiment\",code=\"422\"}"));
    ck_assert_ptr_nonnull(strstr(body, "nlp_serve_batch_inputs_bucket{le=\"+Inf\"}"));
    free(body);
    ck_assert_uint_eq(nlp_server_drain(s, 5), 0);
    ck_assert_int_eq(call(s, "GET", "/health", NULL, NULL), 503);
    ck_assert_int_eq(call(s, "POST", "/sentiment", "{\"inputs\": \"x\"}", NULL), 503);
    nlp_server_free(s);
}
END_TEST

/* Requests with more option sets than the task keeps pipelines for: the
 * model is loaded once, when the task is added, and every option set's
 * pipeline (opened anew after an eviction too) runs on it with the
 * results of a pipeline of its own. */
START_TEST(test_one_load)
{
    static const char *const params[] = {
        "", "\"top_k\": 2", "\"function_to_apply\": \"sigmoid\"",
        "\"top_k\": \"all\", \"function_to_apply\": \"none\"", "\"top_k\": 1"};
    static const char *const opt[][2] = {
        {NULL, NULL}, {"top-k", "2"}, {"function", "sigmoid"}, {NULL, NULL}, {"top-k", "1"}};
    enum { N = sizeof params / sizeof params[0] };
    nlp_server_opts o = test_opts();
    o.max_pipelines = 3;          /* the no-options one and two more: evictions */
    nlp_server *s = NULL;
    nlp_error err = {0};
    size_t loads0 = nlp_model_loads();
    ck_assert_msg(nlp_server_open(&o, &s, &err) == NLP_OK, "%s", err.msg);
    ck_assert_msg(nlp_server_add(s, "sentiment", MODELS "tiny-bert-sst2", &err) == NLP_OK, "%s",
                  err.msg);
    ck_assert_msg(nlp_server_start(s, &err) == NLP_OK, "%s", err.msg);
    ck_assert_uint_eq(nlp_model_loads(), loads0 + 1);
    char *got[2][N];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < N; i++) {
            char req[256];
            snprintf(req, sizeof req, "{\"inputs\": \"I loved it.\", \"parameters\": {%s}}",
                     params[i]);
            ck_assert_int_eq(call(s, "POST", "/sentiment", req, &got[round][i]), 200);
        }
    ck_assert_uint_eq(nlp_model_loads(), loads0 + 1);
    nlp_server_free(s);
    for (int i = 0; i < N; i++) {
        ck_assert_str_eq(got[0][i], got[1][i]);
        if (i != 3) {
            char *exp = direct("sentiment", MODELS "tiny-bert-sst2", opt[i][0], opt[i][1],
                               "I loved it.");
            if (i == 0 || i == 2)
                ck_assert_str_eq(got[0][i], exp);
            else                  /* top_k: an array, which the server wraps once more */
                ck_assert_ptr_nonnull(strstr(got[0][i], exp));
            free(exp);
        }
        free(got[0][i]);
        free(got[1][i]);
    }
}
END_TEST

START_TEST(test_limits)
{
    nlp_server_opts o = test_opts();
    o.max_input_tokens = 8;
    o.max_client_batch = 2;
    nlp_server *s = start(&o);
    char *body;
    ck_assert_int_eq(call(s, "POST", "/sentiment", "{\"inputs\": \"one two three four five six "
                                                   "seven eight nine\"}", &body), 422);
    ck_assert_ptr_nonnull(strstr(body, "max_input_length"));
    free(body);
    ck_assert_int_eq(call(s, "POST", "/sentiment", "{\"inputs\": [\"a\", \"b\", \"c\"]}", &body),
                     413);
    ck_assert_ptr_nonnull(strstr(body, "max_client_batch_size"));
    free(body);
    ck_assert_int_eq(call(s, "POST", "/sentiment", "{\"inputs\": [\"a\", \"b\"]}", NULL), 200);
    nlp_server_free(s);
}
END_TEST

/* ------------------------------------------------------------- threads */

typedef struct client {
    nlp_server *s;
    const char *text;
    char *got;
} client;

static void *client_run(void *arg)
{
    client *c = arg;
    char body[256];
    snprintf(body, sizeof body, "{\"inputs\": \"%s\"}", c->text);
    nlp_serve_call *call = nlp_server_call(c->s, "POST", "/sentiment", body, strlen(body));
    while (!nlp_serve_call_wait(call, 1000))
        ;
    const nlp_serve_reply *r = nlp_serve_call_reply(call);
    if (r->http_status == 200)
        c->got = strdup(r->body);
    nlp_serve_call_free(call);
    return NULL;
}

/* Results within 1e-5 of the text's result alone. */
static int close_enough(const char *a, const char *b)
{
    cJSON *x = cJSON_Parse(a), *y = cJSON_Parse(b);
    int ok = x && y &&
             strcmp(cJSON_GetObjectItem(x, "label")->valuestring,
                    cJSON_GetObjectItem(y, "label")->valuestring) == 0 &&
             fabs(cJSON_GetObjectItem(x, "score")->valuedouble -
                  cJSON_GetObjectItem(y, "score")->valuedouble) < 1e-5;
    cJSON_Delete(x);
    cJSON_Delete(y);
    return ok;
}

START_TEST(test_many_clients)
{
    static const char *const texts[] = {"I loved it.", "Terrible, boring film.", "fine",
                                        "a wonderful, moving film with a great cast", "dull"};
    enum { N = 48 };
    nlp_server_opts o = test_opts();
    nlp_server *s = start(&o);
    client c[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        c[i] = (client){s, texts[i % 5], NULL};
        pthread_create(&th[i], NULL, client_run, &c[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        ck_assert_ptr_nonnull(c[i].got);
        char *exp = direct("sentiment", MODELS "tiny-bert-sst2", NULL, NULL, c[i].text);
        ck_assert_msg(close_enough(c[i].got, exp), "%s vs %s", c[i].got, exp);
        free(exp);
        free(c[i].got);
    }
    nlp_server_free(s);

    /* one request in flight at most: the others are turned away with 503 */
    o.max_concurrent = 1;
    s = start(&o);
    int busy = 0, ok = 0;
    nlp_serve_call *calls[8];
    for (int i = 0; i < 8; i++)
        calls[i] = nlp_server_call(s, "POST", "/sentiment", "{\"inputs\": \"x\"}", 16);
    for (int i = 0; i < 8; i++) {
        while (!nlp_serve_call_wait(calls[i], 1000))
            ;
        const nlp_serve_reply *r = nlp_serve_call_reply(calls[i]);
        busy += r->http_status == 503 && r->retry_after > 0;
        ok += r->http_status == 200;
        nlp_serve_call_free(calls[i]);
    }
    ck_assert_int_eq(busy + ok, 8);
    ck_assert_int_ge(busy, 1);
    ck_assert_int_ge(ok, 1);
    nlp_server_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("serve");
    TCase *tc = tcase_create("serve");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_routes);
    tcase_add_test(tc, test_one_load);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_many_clients);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
