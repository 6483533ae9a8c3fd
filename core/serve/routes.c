/*
 * routes.c - what each route of the serving core does: the Hugging Face
 * task routes (POST /TASK), the text-embeddings-inference ones (/embed,
 * /predict, /rerank, /tokenize, /decode, /info, /health, /metrics), the
 * OpenAI one (/v1/embeddings); token counting and the input-length limit
 * before a request is queued, and the JSON replies of finished batches.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "nlp/nlp.h"
#include "nlp/serve.h"
#include "serve_impl.h"
#include "util/util.h"

#define JSON_TYPE "application/json"

/* ------------------------------------------------------------ helpers */

static srv_task *find_task(nlp_server *s, const char *name)
{
    for (size_t i = 0; i < s->n_tasks; i++)
        if (strcmp(s->tasks[i]->name, name) == 0)
            return s->tasks[i];
    return NULL;
}

/* 1 when task t declares the option name. */
static int has_option(const srv_task *t, const char *name)
{
    for (const nlp_option *o = t->desc->options; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return 1;
    return 0;
}

/* The first served task that classifies text pairs (/predict, /rerank). */
static srv_task *pair_classifier(nlp_server *s)
{
    srv_task *t = find_task(s, "sentiment");
    return t ? t : find_task(s, "classify");
}

static void reply_cjson(nlp_serve_call *c, cJSON *j)
{
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    srv_reply(c, 200, NLP_OK, JSON_TYPE, text);
}

/* Parse body as a JSON object; on failure the reply says why. */
static cJSON *parse_object(nlp_serve_call *c, const char *body, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(body ? body : "", len);
    if (!j)
        srv_reply_error(c, NLP_ERR_FORMAT, "the request body is not JSON");
    else if (!cJSON_IsObject(j)) {
        srv_reply_error(c, NLP_ERR_INPUT, "expected a JSON object");
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

/* 1 when every key of j is one of the NULL-terminated names, else the
 * reply names the first other one. */
static int known_fields(nlp_serve_call *c, const cJSON *j, const char *const *names)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, j) {
        size_t i = 0;
        while (names[i] && (!k->string || strcmp(k->string, names[i])))
            i++;
        if (!names[i]) {
            char msg[160];
            snprintf(msg, sizeof msg, "unknown field '%.64s'", k->string ? k->string : "");
            srv_reply_error(c, NLP_ERR_USAGE, msg);
            return 0;
        }
    }
    return 1;
}

/* Boolean field name of j, or def; -1 (reply set) when not a boolean. */
static int bool_field(nlp_serve_call *c, const cJSON *j, const char *name, int def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    if (!v || cJSON_IsNull(v))
        return def;
    if (!cJSON_IsBool(v)) {
        char msg[96];
        snprintf(msg, sizeof msg, "\"%s\" must be true or false", name);
        srv_reply_error(c, NLP_ERR_INPUT, msg);
        return -1;
    }
    return cJSON_IsTrue(v);
}

/* A string or a list of strings into new inputs; *single for a string.
 * NULL (reply set) on a wrong type or too many. */
static nlp_input *text_inputs(nlp_serve_call *c, const cJSON *v, const char *field,
                              size_t *n, int *single)
{
    nlp_server *s = c->s;
    char msg[160];
    *single = cJSON_IsString(v);
    *n = *single ? 1 : cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 0;
    if (!*single && !cJSON_IsArray(v)) {
        snprintf(msg, sizeof msg, "\"%s\" must be a string or a list of strings", field);
        srv_reply_error(c, NLP_ERR_INPUT, msg);
        return NULL;
    }
    if (*n > s->o.max_client_batch) {
        snprintf(msg, sizeof msg, "%zu inputs in one request; the limit "
                 "(max_client_batch_size) is %zu", *n, s->o.max_client_batch);
        srv_reply_error(c, NLP_ERR_TOO_LARGE, msg);
        return NULL;
    }
    nlp_input *in = calloc(*n ? *n : 1, sizeof *in);
    size_t i = 0;
    const cJSON *e = *single ? v : v->child;
    for (; in && e && i < *n; e = e->next, i++) {
        if (!cJSON_IsString(e)) {
            snprintf(msg, sizeof msg, "input %zu: expected a string", i + 1);
            break;
        }
        in[i].text = strdup(e->valuestring);
        in[i].text_len = strlen(e->valuestring);
        if (!in[i].text) {
            snprintf(msg, sizeof msg, "out of memory");
            break;
        }
    }
    if (in && i == *n)
        return in;
    srv_reply_error(c, in ? NLP_ERR_INPUT : NLP_ERR_NOMEM, in ? msg : "out of memory");
    for (size_t k = 0; in && k <= i && k < *n; k++)
        free((char *)in[k].text);
    free(in);
    return NULL;
}

/* ------------------------------------------------------- queueing */

/* Count the tokens of c's inputs, refuse an input over the length limit,
 * then queue c (or answer an empty list at once). */
static void submit(nlp_serve_call *c)
{
    srv_task *t = c->task;
    nlp_server *s = c->s;
    nlp_encoding enc = {0};
    nlp_encode_opts eo = NLP_ENCODE_OPTS_INIT;
    int windows = (t->desc->flags & NLP_TASK_WINDOWS) != 0;
    for (size_t i = 0; i < c->req->n; i++) {
        const nlp_input *in = &c->req->inputs[i];
        size_t ntok = in->text_len + in->text_pair_len + 3;   /* when encoding fails */
        if (nlp_tokenizer_encode(t->tok, in->text, in->text_len, in->text_pair,
                                 in->text_pair_len, &eo, &enc, NULL) == NLP_OK)
            ntok = enc.n;
        if (s->o.max_input_tokens && ntok > s->o.max_input_tokens) {
            char msg[200];
            snprintf(msg, sizeof msg, "input %zu has %zu tokens; the limit (max_input_length) "
                     "is %zu", i + 1, ntok, s->o.max_input_tokens);
            nlp_encoding_free(&enc);
            srv_reply_error(c, NLP_ERR_TOO_LARGE, msg);
            c->reply.http_status = 422;
            return;
        }
        c->total_tokens += ntok;
        c->tokens += windows || ntok < t->limit ? ntok : t->limit;
    }
    nlp_encoding_free(&enc);
    if (c->req->n == 0) {   /* an empty list: an empty answer */
        srv_finish_reply(c, NULL);
        return;
    }
    srv_enqueue(c);
}

/* POST /TASK: a Hugging Face Inference API body. */
static void task_route(nlp_serve_call *c, srv_task *t, const char *body, size_t len)
{
    nlp_error err = {0};
    if (nlp_serve_request_parse(t->desc, body, len, c->s->o.max_client_batch, &c->req, &err) !=
        NLP_OK) {
        srv_reply_error(c, err.status, err.msg);
        return;
    }
    c->task = t;
    c->kind = SRV_KIND_TASK;
    submit(c);
}

/* Queue inputs on t with the options given, replying as kind. */
static void submit_inputs(nlp_serve_call *c, srv_task *t, srv_kind kind, nlp_input *in,
                          size_t n, int single, const char *const *names,
                          const char *const *values, size_t n_opts)
{
    c->req = srv_request_new(in, n, single, names, values, n_opts);
    if (!c->req) {
        srv_reply_error(c, NLP_ERR_NOMEM, "out of memory");
        return;
    }
    c->task = t;
    c->kind = kind;
    submit(c);
}

/* POST /embed (TEI): {"inputs", "normalize" (default true), "truncate"}. */
static void embed_route(nlp_serve_call *c, const char *body, size_t len, int openai)
{
    static const char *const tei[] = {"inputs", "normalize", "truncate", "parameters", NULL};
    static const char *const oai[] = {"input", "model", "encoding_format", "user", NULL};
    srv_task *t = find_task(c->s, "embed");
    if (!t) {
        srv_reply_error(c, NLP_ERR_NOT_FOUND, "no embedding task is served (start the server "
                                              "with --task embed=MODEL)");
        return;
    }
    cJSON *j = parse_object(c, body, len);
    if (!j || !known_fields(c, j, openai ? oai : tei)) {
        cJSON_Delete(j);
        return;
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "encoding_format");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    int normalize = openai ? 1 : bool_field(c, j, "normalize", 1);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "parameters");
    const cJSON *pn = cJSON_GetObjectItemCaseSensitive(params, "normalize");
    if (pn && cJSON_IsBool(pn))
        normalize = cJSON_IsTrue(pn);
    size_t n;
    int single;
    nlp_input *in;
    if (normalize < 0 || (openai && bool_field(c, j, "truncate", 1) < 0))
        ;
    else if (fmt && !(cJSON_IsString(fmt) && strcmp(fmt->valuestring, "float") == 0))
        srv_reply_error(c, NLP_ERR_USAGE, "\"encoding_format\": only \"float\" is offered");
    else if ((in = text_inputs(c, cJSON_GetObjectItemCaseSensitive(j, openai ? "input" : "inputs"),
                               openai ? "input" : "inputs", &n, &single)) != NULL) {
        if (openai && cJSON_IsString(model))
            c->model_name = strdup(model->valuestring);
        /* normalize: false is the model's own vectors where the task can say so */
        const char *names[] = {normalize ? "normalize" : "no-normalize"}, *values[] = {NULL};
        submit_inputs(c, t, openai ? SRV_KIND_OPENAI : SRV_KIND_VECTORS, in, n, single, names,
                      values, normalize || has_option(t, "no-normalize") ? 1 : 0);
    }
    cJSON_Delete(j);
}

/* A TEI sequence: a string, or a pair [a, b]. */
static int tei_sequence(const cJSON *v, nlp_input *in)
{
    if (cJSON_IsString(v)) {
        in->text = strdup(v->valuestring);
        in->text_len = strlen(v->valuestring);
        return in->text != NULL;
    }
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 && cJSON_IsString(v->child) &&
        cJSON_IsString(v->child->next)) {
        in->text = strdup(v->child->valuestring);
        in->text_pair = strdup(v->child->next->valuestring);
        in->text_len = in->text ? strlen(in->text) : 0;
        in->text_pair_len = in->text_pair ? strlen(in->text_pair) : 0;
        return in->text && in->text_pair;
    }
    return 0;
}

/* POST /predict (TEI): every label's score for a text or a pair, or a
 * list of them. */
static void predict_route(nlp_serve_call *c, const char *body, size_t len)
{
    static const char *const fields[] = {"inputs", "raw_scores", "truncate",
                                         "truncation_direction", NULL};
    srv_task *t = pair_classifier(c->s);
    if (!t) {
        srv_reply_error(c, NLP_ERR_NOT_FOUND, "no sequence classification task is served "
                                              "(sentiment or classify)");
        return;
    }
    cJSON *j = parse_object(c, body, len);
    if (!j || !known_fields(c, j, fields)) {
        cJSON_Delete(j);
        return;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "inputs");
    int raw = bool_field(c, j, "raw_scores", 0);
    nlp_input one = {0};
    int single = tei_sequence(v, &one);
    size_t n = single ? 1 : cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 0;
    nlp_input *in = NULL;
    if (raw < 0)
        goto out;
    if (!single && (!cJSON_IsArray(v) || (v->child && !cJSON_IsArray(v->child) &&
                                          !cJSON_IsString(v->child)))) {
        srv_reply_error(c, NLP_ERR_INPUT, "\"inputs\" must be a string, a pair [a, b] or a "
                                          "list of them");
        goto out;
    }
    if (n > c->s->o.max_client_batch) {
        srv_reply_error(c, NLP_ERR_TOO_LARGE, "too many inputs in one request "
                                              "(max_client_batch_size)");
        goto out;
    }
    in = calloc(n ? n : 1, sizeof *in);
    if (!in) {
        srv_reply_error(c, NLP_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (single)
        in[0] = one, one = (nlp_input){0};
    size_t i = 0;
    for (const cJSON *e = single ? NULL : v->child; e; e = e->next, i++)
        if (!tei_sequence(e, &in[i])) {
            srv_reply_error(c, NLP_ERR_INPUT, "an input must be a string or a pair [a, b]");
            for (size_t k = 0; k <= i; k++) {
                free((char *)in[k].text);
                free((char *)in[k].text_pair);
            }
            free(in);
            goto out;
        }
    const char *names[] = {"function", "top-k"}, *values[] = {"none", "all"};
    submit_inputs(c, t, SRV_KIND_TASK, in, n, single, raw ? names : names + 1,
                  raw ? values : values + 1, raw ? 2 : 1);
out:
    free((char *)one.text);
    free((char *)one.text_pair);
    cJSON_Delete(j);
}

/* POST /rerank (TEI): {"query", "texts", "raw_scores", "return_text"};
 * the rerank task when it is served, else a pair classifier. */
static void rerank_route(nlp_serve_call *c, const char *body, size_t len)
{
    static const char *const fields[] = {"query", "texts", "raw_scores", "return_text",
                                         "truncate", "truncation_direction", NULL};
    srv_task *t = find_task(c->s, "rerank");
    int cross = t != NULL;
    if (!t)
        t = pair_classifier(c->s);
    if (!t) {
        srv_reply_error(c, NLP_ERR_NOT_FOUND, "no reranking task is served "
                                              "(rerank, sentiment or classify)");
        return;
    }
    cJSON *j = parse_object(c, body, len);
    if (!j || !known_fields(c, j, fields)) {
        cJSON_Delete(j);
        return;
    }
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "query");
    int raw = bool_field(c, j, "raw_scores", 0);
    int ret = raw < 0 ? -1 : bool_field(c, j, "return_text", 0);
    size_t n;
    int single;
    nlp_input *in;
    if (ret < 0)
        ;
    else if (!cJSON_IsString(q))
        srv_reply_error(c, NLP_ERR_INPUT, "\"query\" must be a string");
    else if ((in = text_inputs(c, cJSON_GetObjectItemCaseSensitive(j, "texts"), "texts", &n,
                               &single)) != NULL) {
        int bad = single;
        for (size_t i = 0; i < n && !bad; i++) {
            /* the query is the first text of each pair */
            in[i].text_pair = in[i].text;
            in[i].text_pair_len = in[i].text_len;
            in[i].text = strdup(q->valuestring);
            in[i].text_len = strlen(q->valuestring);
            bad = !in[i].text;
        }
        if (bad) {
            for (size_t i = 0; i < n; i++) {
                free((char *)in[i].text);
                free((char *)in[i].text_pair);
            }
            free(in);
            srv_reply_error(c, single ? NLP_ERR_INPUT : NLP_ERR_NOMEM,
                            single ? "\"texts\" must be a list of strings" : "out of memory");
        } else {
            c->return_text = ret;
            const char *names[] = {"function", "top-k"}, *values[] = {"none", "all"};
            const char *xnames[] = {"raw-scores"}, *xvalues[] = {NULL};
            if (cross)
                submit_inputs(c, t, SRV_KIND_RERANK, in, n, 0, xnames, xvalues, raw ? 1 : 0);
            else
                submit_inputs(c, t, SRV_KIND_RERANK, in, n, 0, raw ? names : names + 1,
                              raw ? values : values + 1, raw ? 2 : 1);
        }
    }
    cJSON_Delete(j);
}

/* The task a /tokenize or /decode body names ("task"), else the first. */
static srv_task *tokenizer_task(nlp_serve_call *c, const cJSON *j)
{
    const cJSON *tn = cJSON_GetObjectItemCaseSensitive(j, "task");
    srv_task *t = cJSON_IsString(tn) ? find_task(c->s, tn->valuestring) : c->s->tasks[0];
    if (!t)
        srv_reply_error(c, NLP_ERR_NOT_FOUND, "\"task\" names no task served");
    return t;
}

/* One text's tokens as [{id, text, special, start, stop}]. */
static cJSON *tokens_json(const nlp_tokenizer *tok, const nlp_encoding *e)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < e->n; i++) {
        cJSON *o = cJSON_CreateObject();
        const char *s = nlp_tokenizer_id_to_token(tok, e->ids[i]);
        cJSON_AddNumberToObject(o, "id", e->ids[i]);
        cJSON_AddStringToObject(o, "text", s ? s : "");
        cJSON_AddBoolToObject(o, "special", e->special[i]);
        cJSON_AddNumberToObject(o, "start", e->start[i]);
        cJSON_AddNumberToObject(o, "stop", e->end[i]);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

/* POST /tokenize (TEI): a list of token lists, one per input. */
static void tokenize_route(nlp_serve_call *c, const char *body, size_t len)
{
    static const char *const fields[] = {"inputs", "add_special_tokens", "task",
                                         "prompt_name", NULL};
    cJSON *j = parse_object(c, body, len);
    srv_task *t = j && known_fields(c, j, fields) ? tokenizer_task(c, j) : NULL;
    int specials = t ? bool_field(c, j, "add_special_tokens", 1) : -1;
    size_t n;
    int single;
    nlp_input *in = specials < 0 ? NULL
                                 : text_inputs(c, cJSON_GetObjectItemCaseSensitive(j, "inputs"),
                                               "inputs", &n, &single);
    if (in) {
        nlp_encode_opts eo = NLP_ENCODE_OPTS_INIT;
        eo.add_special_tokens = specials;
        nlp_encoding enc = {0};
        nlp_error err = {0};
        cJSON *out = cJSON_CreateArray();
        nlp_status st = NLP_OK;
        for (size_t i = 0; i < n && st == NLP_OK; i++)
            if ((st = nlp_tokenizer_encode(t->tok, in[i].text, in[i].text_len, NULL, 0, &eo,
                                           &enc, &err)) == NLP_OK)
                cJSON_AddItemToArray(out, tokens_json(t->tok, &enc));
        if (st == NLP_OK)
            reply_cjson(c, out);
        else {
            cJSON_Delete(out);
            srv_reply_error(c, err.status, err.msg);
        }
        nlp_encoding_free(&enc);
        for (size_t i = 0; i < n; i++)
            free((char *)in[i].text);
        free(in);
    }
    cJSON_Delete(j);
}

/* One list of ids decoded; NULL (reply set) when it is not one. */
static char *decode_ids(nlp_serve_call *c, const srv_task *t, const cJSON *ids, int skip)
{
    size_t n = (size_t)cJSON_GetArraySize(ids);
    int32_t *v = malloc((n ? n : 1) * sizeof *v);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, ids) {
        if (!v || !cJSON_IsNumber(e) || e->valuedouble < 0 ||
            e->valuedouble >= (double)nlp_tokenizer_vocab_size(t->tok) ||
            e->valuedouble != floor(e->valuedouble))
            break;
        v[i++] = (int32_t)e->valuedouble;
    }
    char *text = NULL;
    nlp_error err = {0};
    if (i < n || !v)
        srv_reply_error(c, NLP_ERR_INPUT, "\"ids\" must hold token ids of the vocabulary");
    else if (nlp_tokenizer_decode(t->tok, v, n, skip, &text, &err) != NLP_OK)
        srv_reply_error(c, err.status, err.msg);
    free(v);
    return text;
}

/* POST /decode (TEI): {"ids": [..] or [[..], ..], "skip_special_tokens"}. */
static void decode_route(nlp_serve_call *c, const char *body, size_t len)
{
    static const char *const fields[] = {"ids", "skip_special_tokens", "task", NULL};
    cJSON *j = parse_object(c, body, len);
    srv_task *t = j && known_fields(c, j, fields) ? tokenizer_task(c, j) : NULL;
    int skip = t ? bool_field(c, j, "skip_special_tokens", 1) : -1;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "ids");
    if (skip >= 0 && !cJSON_IsArray(ids))
        srv_reply_error(c, NLP_ERR_INPUT, "\"ids\" must be a list of token ids or of lists");
    else if (skip >= 0 && ids->child && cJSON_IsArray(ids->child)) {
        cJSON *out = cJSON_CreateArray();
        const cJSON *e;
        cJSON_ArrayForEach(e, ids) {
            char *s = cJSON_IsArray(e) ? decode_ids(c, t, e, skip) : NULL;
            if (!s) {
                if (!cJSON_IsArray(e))
                    srv_reply_error(c, NLP_ERR_INPUT, "\"ids\": mixed lists and ids");
                cJSON_Delete(out);
                out = NULL;
                break;
            }
            cJSON_AddItemToArray(out, cJSON_CreateString(s));
            free(s);
        }
        if (out)
            reply_cjson(c, out);
    } else if (skip >= 0) {
        char *s = decode_ids(c, t, ids, skip);
        if (s) {
            cJSON *str = cJSON_CreateString(s);
            free(s);
            reply_cjson(c, str);
        }
    }
    cJSON_Delete(j);
}

/* GET /info: the tasks, models and limits. */
static void info_route(nlp_serve_call *c)
{
    nlp_server *s = c->s;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "version", PACKAGE_VERSION);
    cJSON_AddStringToObject(j, "model_id", nlp_server_task_model(s, 0));
    cJSON *tasks = cJSON_AddArrayToObject(j, "tasks");
    for (size_t i = 0; i < s->n_tasks; i++) {
        srv_task *t = s->tasks[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "task", t->name);
        cJSON_AddStringToObject(o, "model", nlp_server_task_model(s, i));
        cJSON_AddNumberToObject(o, "max_input_length", (double)t->limit);
        cJSON *opts = cJSON_AddArrayToObject(o, "options");
        for (const nlp_option *op = t->desc->options; op && op->name; op++)
            cJSON_AddItemToArray(opts, cJSON_CreateString(op->name));
        cJSON_AddItemToArray(tasks, o);
    }
    cJSON_AddNumberToObject(j, "max_batch_tokens", (double)s->o.max_batch_tokens);
    cJSON_AddNumberToObject(j, "max_batch_requests", (double)s->o.max_batch_inputs);
    cJSON_AddNumberToObject(j, "max_concurrent_requests", (double)s->o.max_concurrent);
    cJSON_AddNumberToObject(j, "max_input_length", (double)s->o.max_input_tokens);
    cJSON_AddNumberToObject(j, "max_client_batch_size", (double)s->o.max_client_batch);
    cJSON_AddNumberToObject(j, "timeout", s->o.timeout);
    reply_cjson(c, j);
}

void srv_route(nlp_server *s, nlp_serve_call *c, const char *method, const char *path,
               const char *body, size_t len)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;
    const char *name = path[0] == '/' ? path + 1 : path;
    srv_task *t = find_task(s, name);
    static const char *const gets[] = {"health", "info", "metrics", NULL};
    static const char *const posts[] = {"embed", "predict", "rerank", "tokenize", "decode",
                                        "v1/embeddings", NULL};
    int is_get = 0, is_post = t != NULL;
    for (size_t i = 0; gets[i]; i++)
        is_get |= strcmp(name, gets[i]) == 0;
    for (size_t i = 0; posts[i]; i++)
        is_post |= strcmp(name, posts[i]) == 0;
    if (!is_get && !is_post) {
        char msg[128];
        snprintf(msg, sizeof msg, "no route %.64s", path);
        srv_reply_error(c, NLP_ERR_NOT_FOUND, msg);
    } else if ((is_get && !get) || (!is_get && !post))
        srv_reply_error(c, NLP_ERR_UNSUPPORTED, is_get ? "use GET" : "use POST");
    else if (strcmp(name, "health") == 0) {
        pthread_mutex_lock(&s->mu);
        int down = s->draining || s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (down)
            srv_reply_error(c, NLP_ERR_BUSY, "the server is shutting down");
        else
            srv_reply(c, 200, NLP_OK, JSON_TYPE, strdup("{\"status\":\"ok\"}"));
    } else if (strcmp(name, "info") == 0)
        info_route(c);
    else if (strcmp(name, "metrics") == 0)
        srv_reply(c, 200, NLP_OK, "text/plain; version=0.0.4", srv_metrics_text(s));
    else if (t && strcmp(name, "embed") != 0 && strcmp(name, "rerank") != 0)
        task_route(c, t, body, len);   /* the embed and rerank tasks answer TEI's routes */
    else if (strcmp(name, "embed") == 0)
        embed_route(c, body, len, 0);
    else if (strcmp(name, "v1/embeddings") == 0)
        embed_route(c, body, len, 1);
    else if (strcmp(name, "predict") == 0)
        predict_route(c, body, len);
    else if (strcmp(name, "rerank") == 0)
        rerank_route(c, body, len);
    else if (strcmp(name, "tokenize") == 0)
        tokenize_route(c, body, len);
    else
        decode_route(c, body, len);
}

/* ------------------------------------------------------------ replies */

/* The "embedding" of an embed result as JSON text, or NULL. */
static char *vector_json(const nlp_pipeline_result *r)
{
    const nlp_value *v = nlp_value_get(r->value, "embedding");
    return v ? nlp_value_to_json(v, 0) : NULL;
}

/* The reply of an input that failed, when it is the whole request. */
static void reply_failed(nlp_serve_call *c, const nlp_pipeline_result *r)
{
    srv_reply(c, nlp_serve_http_status(r->error.status), r->error.status, JSON_TYPE,
              nlp_pipeline_result_json(r));
}

/* The rerank score of one result: the rerank task's "score", else the
 * last label's score of a classifier (the only one for a one-label
 * cross-encoder). */
static double rerank_score(const srv_task *t, const nlp_value *v)
{
    if (nlp_value_kind_of(v) == NLP_VALUE_OBJECT)
        return nlp_value_number(nlp_value_get(v, "score"));
    const char *want = t->cfg_loaded && t->cfg.num_labels > 0
                           ? t->cfg.id2label[t->cfg.num_labels - 1] : NULL;
    for (size_t i = 0; i < nlp_value_len(v); i++) {
        const nlp_value *e = nlp_value_at(v, i);
        const char *label = nlp_value_string(nlp_value_get(e, "label"));
        if (!want || (label && strcmp(label, want) == 0))
            return nlp_value_number(nlp_value_get(e, "score"));
    }
    return nlp_value_number(nlp_value_get(v, "score"));
}

static void rerank_reply(nlp_serve_call *c, const nlp_pipeline_result *res)
{
    size_t n = c->req->n;
    double *scores = malloc((n ? n : 1) * sizeof *scores);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    for (size_t i = 0; scores && i < n; i++)
        scores[i] = rerank_score(c->task, res[i].value);
    cJSON *a = scores && order && nlp_rank_order(scores, n, order) == 0 ? cJSON_CreateArray()
                                                                         : NULL;
    for (size_t k = 0; a && k < n; k++) {
        size_t i = order[k];
        cJSON *item = cJSON_CreateObject();
        cJSON_AddNumberToObject(item, "index", (double)i);
        if (c->return_text)
            cJSON_AddStringToObject(item, "text", c->req->inputs[i].text_pair);
        cJSON_AddNumberToObject(item, "score", scores[i]);
        cJSON_AddItemToArray(a, item);
    }
    free(scores);
    free(order);
    if (a)
        reply_cjson(c, a);
    else
        srv_reply_error(c, NLP_ERR_NOMEM, "out of memory");
}

static void openai_reply(nlp_serve_call *c, nlp_buf *b, const nlp_pipeline_result *res)
{
    int ok = nlp_buf_add(b, "{\"object\":\"list\",\"data\":[", 25);
    for (size_t i = 0; ok && res && i < c->req->n; i++) {
        char *v = vector_json(&res[i]);
        char head[96];
        int k = snprintf(head, sizeof head, "%s{\"object\":\"embedding\",\"index\":%zu,"
                         "\"embedding\":", i ? "," : "", i);
        ok = v && nlp_buf_add(b, head, (size_t)k) && nlp_buf_add(b, v, strlen(v)) &&
             nlp_buf_add(b, "}", 1);
        free(v);
    }
    cJSON *m = cJSON_CreateString(c->model_name ? c->model_name : c->task->name);
    char *ms = m ? cJSON_PrintUnformatted(m) : NULL;
    cJSON_Delete(m);
    char tail[128];
    int k = snprintf(tail, sizeof tail, "],\"usage\":{\"prompt_tokens\":%zu,\"total_tokens\":%zu},"
                     "\"model\":", c->total_tokens, c->total_tokens);
    ok = ok && ms && nlp_buf_add(b, tail, (size_t)k) && nlp_buf_add(b, ms, strlen(ms)) &&
         nlp_buf_add(b, "}", 2);
    free(ms);
    if (!ok) {
        free(b->p);
        b->p = NULL;
    }
}

void srv_finish_reply(nlp_serve_call *c, const nlp_pipeline_result *res)
{
    size_t n = c->req->n;
    for (size_t i = 0; res && i < n; i++)
        if (!res[i].value && (c->req->single || c->kind != SRV_KIND_TASK)) {
            reply_failed(c, &res[i]);
            return;
        }
    if (c->kind == SRV_KIND_RERANK) {
        rerank_reply(c, res);
        return;
    }
    nlp_buf b = {0};
    if (c->kind == SRV_KIND_OPENAI) {
        openai_reply(c, &b, res);
        srv_reply(c, 200, NLP_OK, JSON_TYPE, b.p);
        return;
    }
    int list = !c->req->single || c->kind == SRV_KIND_VECTORS;
    int ok = !list || nlp_buf_add(&b, "[", 1);
    for (size_t i = 0; ok && i < n; i++) {
        char *j = c->kind == SRV_KIND_VECTORS ? vector_json(&res[i])
                                              : nlp_pipeline_result_json(&res[i]);
        ok = j && (!i || nlp_buf_add(&b, ",", 1)) && nlp_buf_add(&b, j, strlen(j));
        free(j);
    }
    ok = ok && (!list || nlp_buf_add(&b, "]", 1)) && nlp_buf_add(&b, "", 1);
    if (!ok) {
        free(b.p);
        b.p = NULL;
    }
    srv_reply(c, 200, NLP_OK, JSON_TYPE, b.p);
}
