/*
 * server.c - the serving core's object: the tasks served (one model
 * loaded per task, shared by a pipeline per option set, owned by the
 * task's batcher thread), the bounded queue of
 * each task, the dynamic batcher that takes every queued request with the
 * same options up to a token budget into one nlp_pipeline_run(), and the
 * life cycle of a call (queued, running, done; timeouts, cancelling,
 * draining).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nlp/nlp.h"
#include "nlp/serve.h"
#include "serve_impl.h"

#define DEF_BATCH_TOKENS 8192
#define DEF_BATCH_INPUTS 64
#define DEF_CONCURRENT 512
#define DEF_CLIENT_BATCH 256
#define DEF_TIMEOUT 60.0
#define DEF_PIPELINES 4

double srv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void cond_init(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

/* Wait on c until the monotonic time `until`. */
static void cond_wait_until(pthread_cond_t *c, pthread_mutex_t *mu, double until)
{
    struct timespec ts;
    ts.tv_sec = (time_t)until;
    ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_nsec = 999999999L;
    pthread_cond_timedwait(c, mu, &ts);
}

int nlp_serve_http_status(nlp_status st)
{
    switch (st) {
    case NLP_OK: return 200;
    case NLP_ERR_FORMAT: return 400;
    case NLP_ERR_INPUT: case NLP_ERR_UTF8: case NLP_ERR_USAGE: case NLP_ERR_INVALID_ARG:
        return 422;
    case NLP_ERR_TOO_LARGE: return 413;
    case NLP_ERR_NOT_FOUND: return 404;
    case NLP_ERR_AUTH: return 401;
    case NLP_ERR_BUSY: case NLP_ERR_TIMEOUT: case NLP_ERR_NOMEM: return 503;
    case NLP_ERR_UNSUPPORTED: return 405;
    default: return 500;
    }
}

/* ------------------------------------------------------------ opening */

nlp_status nlp_server_open(const nlp_server_opts *opts, nlp_server **out, nlp_error *err)
{
    *out = NULL;
    nlp_server_opts d = NLP_SERVER_OPTS_INIT;
    if (opts && opts->struct_size != sizeof d)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_server_open: struct_size mismatch");
    nlp_server *s = calloc(1, sizeof *s);
    if (!s)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    s->o = opts ? *opts : d;
    if (!s->o.max_batch_tokens) s->o.max_batch_tokens = DEF_BATCH_TOKENS;
    if (!s->o.max_batch_inputs) s->o.max_batch_inputs = DEF_BATCH_INPUTS;
    if (!s->o.max_concurrent) s->o.max_concurrent = DEF_CONCURRENT;
    if (!s->o.max_client_batch) s->o.max_client_batch = DEF_CLIENT_BATCH;
    if (!(s->o.timeout > 0)) s->o.timeout = DEF_TIMEOUT;
    if (!s->o.max_pipelines) s->o.max_pipelines = DEF_PIPELINES;
    s->plugin_dir = s->o.plugin_dir ? strdup(s->o.plugin_dir) : NULL;
    s->o.plugin_dir = s->plugin_dir;
    pthread_mutex_init(&s->mu, NULL);
    cond_init(&s->idle);
    srv_metrics_init(&s->m);
    s->t0 = srv_now();
    char **dirs = NULL;
    nlp_status st = nlp_plugin_search_path(s->plugin_dir, &dirs, err);
    if (st == NLP_OK)
        st = nlp_registry_open((const char *const *)dirs, NULL, NULL, &s->reg, err);
    nlp_search_path_free(dirs);
    if (st != NLP_OK) {
        nlp_server_free(s);
        return st;
    }
    *out = s;
    return NLP_OK;
}

/* A pipeline of t with the options of req (NULL: none), loaded: on t's
 * shared model, so only its context is new. */
static nlp_status pipe_open(srv_task *t, const nlp_serve_request *req, nlp_pipeline **out,
                            nlp_error *err)
{
    nlp_server *s = t->s;
    nlp_pipeline_opts po = NLP_PIPELINE_OPTS_INIT;
    po.model = t->model_ref;
    po.shared_model = t->model;
    po.offline = s->o.offline;
    po.dtype = s->o.dtype;
    po.threads = s->o.threads;
    po.batch_size = s->o.max_batch_inputs;
    po.registry = s->reg;
    po.on_warning = s->o.on_warning;
    po.warning_user = s->o.warning_user;
    nlp_pipeline *p = NULL;
    nlp_status st = nlp_pipeline_open(t->name, &po, &p, err);
    for (size_t i = 0; st == NLP_OK && req && i < req->n_opts; i++)
        st = nlp_pipeline_set(p, req->opt_names[i], req->opt_values[i], err);
    if (st == NLP_OK)
        st = nlp_pipeline_load(p, err);
    if (st != NLP_OK) {
        nlp_pipeline_free(p);
        return st;
    }
    *out = p;
    return NLP_OK;
}

nlp_status nlp_server_add(nlp_server *s, const char *task, const char *model, nlp_error *err)
{
    if (!s || !task)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_server_add: NULL argument");
    if (s->started)
        return nlp_error_set(err, NLP_ERR_USAGE, "tasks are added before the server starts");
    for (size_t i = 0; i < s->n_tasks; i++)
        if (strcmp(s->tasks[i]->name, task) == 0)
            return nlp_error_set(err, NLP_ERR_CONFLICT, "the task %s is served already", task);
    srv_task **v = realloc(s->tasks, (s->n_tasks + 1) * sizeof *v);
    srv_task *t = calloc(1, sizeof *t);
    if (v)
        s->tasks = v;
    if (!v || !t || !(t->pipes = calloc(s->o.max_pipelines, sizeof *t->pipes)) ||
        !(t->name = strdup(task)) || (model && !(t->model_ref = strdup(model)))) {
        if (t) {
            free(t->pipes);
            free(t->name);
        }
        free(t);
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    t->s = s;
    cond_init(&t->work);
    s->tasks[s->n_tasks++] = t;
    nlp_status st = nlp_registry_find(s->reg, task, NULL, &t->desc, err);
    if (st != NLP_OK)
        return st;
    const char *ref = model ? model : t->desc->default_model;
    if (!ref)
        return nlp_error_set(err, NLP_ERR_USAGE, "no default model for this task: give --model");
    nlp_pipeline_opts mo = NLP_PIPELINE_OPTS_INIT;
    mo.offline = s->o.offline;
    if ((st = nlp_shared_model_load(ref, &mo, &t->model, err)) != NLP_OK ||
        (st = pipe_open(t, NULL, &t->pipes[0].p, err)) != NLP_OK)
        return st;
    t->n_pipes = 1;
    if (!(t->pipes[0].key = strdup("")))
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    const char *dir = nlp_shared_model_dir(t->model);
    t->tok = nlp_shared_model_tokenizer(t->model);
    char *cfg = malloc(strlen(dir) + 16);
    if (cfg) {
        sprintf(cfg, "%s/config.json", dir);
        t->cfg_loaded = nlp_config_load(cfg, &t->cfg, NULL) == NLP_OK;
        free(cfg);
    }
    t->limit = t->cfg_loaded ? (size_t)(t->cfg.max_position_embeddings - t->cfg.position_offset) : 512;
    size_t mml = nlp_tokenizer_model_max_length(t->tok);
    if (mml && mml < t->limit)
        t->limit = mml;
    return NLP_OK;
}

size_t nlp_server_task_count(const nlp_server *s)
{
    return s ? s->n_tasks : 0;
}

const char *nlp_server_task_name(const nlp_server *s, size_t i)
{
    return s && i < s->n_tasks ? s->tasks[i]->name : NULL;
}

const char *nlp_server_task_model(const nlp_server *s, size_t i)
{
    return s && i < s->n_tasks ? nlp_pipeline_model_dir(s->tasks[i]->pipes[0].p) : NULL;
}

/* ---------------------------------------------------------- calls */

#define OOM_BODY "{\"error\":\"out of memory\",\"error_type\":\"out_of_memory\"}"
static char oom_body[] = OOM_BODY;
static nlp_serve_call oom_call = {
    .is_static = 1, .state = SRV_DONE,
    .reply = {503, NLP_ERR_NOMEM, "application/json", oom_body, sizeof OOM_BODY - 1, 1},
};

nlp_serve_call *srv_call_new(nlp_server *s, const char *path)
{
    nlp_serve_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->s = s;
    c->refs = 1;
    cond_init(&c->done);
    snprintf(c->route, sizeof c->route, "%s", path ? path : "");
    c->t_start = srv_now();
    return c;
}

static void call_unref_locked(nlp_serve_call *c)
{
    if (c->is_static || --c->refs > 0)
        return;
    pthread_cond_destroy(&c->done);
    free(c->reply.body);
    nlp_serve_request_free(c->req);
    free(c->model_name);
    free(c);
}

char *srv_error_json(nlp_status st, const char *msg)
{
    nlp_pipeline_result r;
    memset(&r, 0, sizeof r);
    nlp_error_set(&r.error, st, "%s", msg);
    return nlp_pipeline_result_json(&r);
}

void srv_reply(nlp_serve_call *c, int http, nlp_status st, const char *type, char *body)
{
    free(c->reply.body);
    c->reply.http_status = body ? http : 503;
    c->reply.status = body ? st : NLP_ERR_NOMEM;
    c->reply.content_type = type;
    c->reply.body = body;
    c->reply.body_len = body ? strlen(body) : 0;
    if (!body) {
        c->reply.body = strdup(OOM_BODY);
        c->reply.body_len = c->reply.body ? strlen(c->reply.body) : 0;
    }
}

void srv_reply_error(nlp_serve_call *c, nlp_status st, const char *msg)
{
    srv_reply(c, nlp_serve_http_status(st), st, "application/json", srv_error_json(st, msg));
    if (st == NLP_ERR_BUSY || st == NLP_ERR_TIMEOUT)
        c->reply.retry_after = 1;
}

/* The call has its reply: count it, wake its waiter. */
static void complete_locked(nlp_serve_call *c, int was_queued)
{
    nlp_server *s = c->s;
    c->state = SRV_DONE;
    srv_hist_add(&s->m.latency, srv_now() - c->t_start);
    srv_metrics_reply(&s->m, c->route, c->reply.http_status, c->reply.status);
    if (was_queued && --s->active == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_cond_broadcast(&c->done);
}

void srv_enqueue(nlp_serve_call *c)
{
    nlp_server *s = c->s;
    srv_task *t = c->task;
    pthread_mutex_lock(&s->mu);
    if (s->draining || s->stopping)
        srv_reply_error(c, NLP_ERR_BUSY, "the server is shutting down");
    else if (s->active >= s->o.max_concurrent)
        srv_reply_error(c, NLP_ERR_BUSY, "too many requests in flight "
                                         "(max_concurrent_requests); retry later");
    else {
        c->state = SRV_QUEUED;
        c->enqueued = 1;
        c->refs++;
        c->t_queued = srv_now();
        c->deadline = c->t_queued + s->o.timeout;
        if (t->tail)
            t->tail->next = c;
        else
            t->head = c;
        t->tail = c;
        t->queued++;
        s->active++;
        pthread_cond_signal(&t->work);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Unlink c from its task's queue. */
static void unqueue_locked(nlp_serve_call *c)
{
    srv_task *t = c->task;
    nlp_serve_call **pp = &t->head, *prev = NULL;
    while (*pp && *pp != c) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = c->next;
    if (t->tail == c)
        t->tail = prev;
    c->next = NULL;
    t->queued--;
}

/* A queued call that gives up (timeout, cancel, shutdown). */
static void drop_queued_locked(nlp_serve_call *c, nlp_status st, const char *why)
{
    unqueue_locked(c);
    srv_reply_error(c, st, why);
    complete_locked(c, 1);
    call_unref_locked(c);
}

nlp_serve_call *nlp_server_call(nlp_server *s, const char *method, const char *path,
                                const char *body, size_t len)
{
    nlp_serve_call *c = s ? srv_call_new(s, path) : NULL;
    if (!c)
        return &oom_call;
    c->state = SRV_RUNNING;   /* not queued (yet) */
    srv_route(s, c, method ? method : "", path ? path : "", body, len);
    pthread_mutex_lock(&s->mu);
    if (!c->enqueued)         /* answered without the queue */
        complete_locked(c, 0);
    pthread_mutex_unlock(&s->mu);
    return c;
}

int nlp_serve_call_wait(nlp_serve_call *c, int ms)
{
    if (!c || c->is_static)
        return 1;
    nlp_server *s = c->s;
    pthread_mutex_lock(&s->mu);
    double until = srv_now() + (ms > 0 ? ms / 1000.0 : 0);
    while (c->state != SRV_DONE) {
        double now = srv_now();
        if (c->state == SRV_QUEUED && now >= c->deadline) {
            drop_queued_locked(c, NLP_ERR_TIMEOUT, "the request waited longer than the "
                                                   "timeout for its turn");
            break;
        }
        if (now >= until)
            break;
        double u = c->state == SRV_QUEUED && c->deadline < until ? c->deadline : until;
        cond_wait_until(&c->done, &s->mu, u);
    }
    int ready = c->state == SRV_DONE;
    pthread_mutex_unlock(&s->mu);
    return ready;
}

const nlp_serve_reply *nlp_serve_call_reply(const nlp_serve_call *c)
{
    if (!c)
        return NULL;
    if (c->is_static)
        return &c->reply;
    pthread_mutex_lock(&c->s->mu);
    int done = c->state == SRV_DONE;
    pthread_mutex_unlock(&c->s->mu);
    return done ? &c->reply : NULL;
}

void nlp_serve_call_cancel(nlp_serve_call *c)
{
    if (!c || c->is_static)
        return;
    pthread_mutex_lock(&c->s->mu);
    if (c->state == SRV_QUEUED) {
        c->s->m.cancelled++;
        drop_queued_locked(c, NLP_ERR_INPUT, "the client went away");
    }
    pthread_mutex_unlock(&c->s->mu);
}

void nlp_serve_call_free(nlp_serve_call *c)
{
    if (!c || c->is_static)
        return;
    nlp_server *s = c->s;
    pthread_mutex_lock(&s->mu);
    call_unref_locked(c);
    pthread_mutex_unlock(&s->mu);
}

void nlp_server_count_reply(nlp_server *s, const char *path, int http_status)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    srv_metrics_reply(&s->m, path ? path : "", http_status,
                      http_status >= 400 ? NLP_ERR_INPUT : NLP_OK);
    pthread_mutex_unlock(&s->mu);
}

/* ---------------------------------------------------------- batching */

/* The pipeline of t for key (req's options), opened when new; the least
 * recently used one with options makes room. */
static nlp_status get_pipe(srv_task *t, const nlp_serve_request *req, nlp_pipeline **out,
                           nlp_error *err)
{
    for (size_t i = 0; i < t->n_pipes; i++)
        if (strcmp(t->pipes[i].key, req->key) == 0) {
            t->pipes[i].used = ++t->clock;
            *out = t->pipes[i].p;
            return NLP_OK;
        }
    nlp_pipeline *p;
    nlp_status st = pipe_open(t, req, &p, err);
    if (st != NLP_OK)
        return st;
    char *key = strdup(req->key);
    if (!key) {
        nlp_pipeline_free(p);
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    size_t k = t->n_pipes;
    if (k == t->s->o.max_pipelines) {
        k = 1;
        for (size_t i = 2; i < t->n_pipes; i++)
            if (t->pipes[i].used < t->pipes[k].used)
                k = i;
        nlp_pipeline_free(t->pipes[k].p);
        free(t->pipes[k].key);
    } else
        t->n_pipes++;
    t->pipes[k] = (srv_pipe){key, p, ++t->clock};
    *out = p;
    return NLP_OK;
}

/* Take the next batch off t's queue (lock held): the oldest call and every
 * later one with the same options while the token budget lasts. */
static size_t take_batch(srv_task *t, nlp_serve_call **batch, size_t max)
{
    nlp_server *s = t->s;
    double now = srv_now();
    for (nlp_serve_call *c = t->head, *nx; c; c = nx) {
        nx = c->next;
        if (now >= c->deadline)
            drop_queued_locked(c, NLP_ERR_TIMEOUT, "the request waited longer than the "
                                                   "timeout for its turn");
    }
    size_t n = 0, tokens = 0;
    const char *key = t->head ? t->head->req->key : NULL;
    for (nlp_serve_call *c = t->head, *nx; c && n < max; c = nx) {
        nx = c->next;
        if (strcmp(c->req->key, key) != 0)
            continue;
        if (n && tokens + c->tokens > s->o.max_batch_tokens)
            break;
        tokens += c->tokens;
        unqueue_locked(c);
        c->state = SRV_RUNNING;
        srv_hist_add(&s->m.queue_time, now - c->t_queued);
        batch[n++] = c;
    }
    if (n) {
        s->m.batches++;
        s->m.tokens += tokens;
        srv_hist_add(&s->m.batch_tokens, (double)tokens);
    }
    return n;
}

/* Run the calls of one batch through their pipeline and set replies. */
static void run_batch(srv_task *t, nlp_serve_call **batch, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += batch[i]->req->n;
    nlp_input *in = calloc(total ? total : 1, sizeof *in);
    nlp_pipeline_result *res = calloc(total ? total : 1, sizeof *res);
    nlp_error err = {0};
    nlp_pipeline *p = NULL;
    nlp_status st = !in || !res ? nlp_error_set(&err, NLP_ERR_NOMEM, "out of memory")
                                : get_pipe(t, batch[0]->req, &p, &err);
    double t0 = srv_now();
    if (st == NLP_OK) {
        for (size_t i = 0, k = 0; i < n; i++)
            for (size_t j = 0; j < batch[i]->req->n; j++)
                in[k++] = batch[i]->req->inputs[j];
        if (total)
            st = nlp_pipeline_run(p, in, total, res, &err);
    }
    double dt = srv_now() - t0;
    for (size_t i = 0, k = 0; i < n; i++) {
        if (st == NLP_OK)
            srv_finish_reply(batch[i], res + k);
        else
            srv_reply_error(batch[i], err.status, err.msg);
        k += batch[i]->req->n;
    }
    if (st == NLP_OK)
        nlp_pipeline_results_clear(res, total);
    free(in);
    free(res);
    pthread_mutex_lock(&t->s->mu);
    srv_hist_add(&t->s->m.batch_time, dt);
    srv_hist_add(&t->s->m.batch_inputs, (double)total);
    t->s->m.inputs += total;
    pthread_mutex_unlock(&t->s->mu);
}

static void *batcher(void *arg)
{
    srv_task *t = arg;
    nlp_server *s = t->s;
    size_t max = s->o.max_concurrent;
    nlp_serve_call **batch = calloc(max, sizeof *batch);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (!t->head && s->stopping)
            break;
        if (!t->head) {
            cond_wait_until(&t->work, &s->mu, srv_now() + 0.1);
            continue;
        }
        if (s->stopping || !batch) {
            drop_queued_locked(t->head, NLP_ERR_BUSY, batch ? "the server is shutting down"
                                                            : "out of memory");
            continue;
        }
        size_t n = take_batch(t, batch, max);
        if (!n)
            continue;
        pthread_mutex_unlock(&s->mu);
        run_batch(t, batch, n);
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < n; i++) {
            complete_locked(batch[i], 1);
            call_unref_locked(batch[i]);
        }
    }
    pthread_mutex_unlock(&s->mu);
    free(batch);
    return NULL;
}

nlp_status nlp_server_start(nlp_server *s, nlp_error *err)
{
    if (!s)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_server_start: s is NULL");
    if (!s->n_tasks)
        return nlp_error_set(err, NLP_ERR_USAGE, "no task to serve");
    if (s->started)
        return NLP_OK;
    for (size_t i = 0; i < s->n_tasks; i++) {
        if (pthread_create(&s->tasks[i]->thread, NULL, batcher, s->tasks[i]) != 0) {
            pthread_mutex_lock(&s->mu);
            s->stopping = 1;
            pthread_mutex_unlock(&s->mu);
            return nlp_error_set(err, NLP_ERR_INTERNAL, "cannot start a thread");
        }
        s->tasks[i]->started = 1;
    }
    s->started = 1;
    return NLP_OK;
}

size_t nlp_server_drain(nlp_server *s, double seconds)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->mu);
    s->draining = 1;
    double until = srv_now() + seconds;
    while (s->active > 0 && srv_now() < until)
        cond_wait_until(&s->idle, &s->mu, until);
    size_t left = s->active;
    pthread_mutex_unlock(&s->mu);
    return left;
}

static void task_free(srv_task *t)
{
    for (size_t i = 0; i < t->n_pipes; i++) {
        nlp_pipeline_free(t->pipes[i].p);
        free(t->pipes[i].key);
    }
    if (t->pipes && !t->n_pipes)
        nlp_pipeline_free(t->pipes[0].p);
    free(t->pipes);
    nlp_shared_model_free(t->model);
    if (t->cfg_loaded)
        nlp_config_clear(&t->cfg);
    pthread_cond_destroy(&t->work);
    free(t->name);
    free(t->model_ref);
    free(t);
}

void nlp_server_free(nlp_server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    for (size_t i = 0; i < s->n_tasks; i++)
        pthread_cond_broadcast(&s->tasks[i]->work);
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < s->n_tasks; i++)
        if (s->tasks[i]->started)
            pthread_join(s->tasks[i]->thread, NULL);
    for (size_t i = 0; i < s->n_tasks; i++)
        task_free(s->tasks[i]);
    free(s->tasks);
    nlp_registry_free(s->reg);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->idle);
    free(s->plugin_dir);
    free(s);
}
