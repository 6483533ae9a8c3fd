/*
 * nlp/serve.h - the serving core behind `nlp serve`: task pipelines shared
 * by every connection, a bounded request queue and a dynamic batcher per
 * task, the mapping of JSON request bodies to pipeline inputs and options,
 * of outcomes to HTTP statuses and JSON replies, and the server's metrics.
 * An HTTP front end only moves bytes: it hands each request's method, path
 * and body to nlp_server_call() and writes back the reply.
 *
 *     nlp_server_opts o = NLP_SERVER_OPTS_INIT;
 *     nlp_server *s;
 *     nlp_server_open(&o, &s, &err);
 *     nlp_server_add(s, "sentiment", "data/models/tiny-bert-sst2", &err);
 *     nlp_server_start(s, &err);
 *     nlp_serve_call *c = nlp_server_call(s, "POST", "/sentiment", body, len);
 *     while (!nlp_serve_call_wait(c, 100))
 *         if (client_gone) { nlp_serve_call_cancel(c); break; }
 *     const nlp_serve_reply *r = nlp_serve_call_reply(c);   (status, body)
 *     nlp_serve_call_free(c);
 *     nlp_server_drain(s, 30);  nlp_server_free(s);
 *
 * Routes (method, path): GET /health, /info, /metrics; POST /TASK for
 * every task served (Hugging Face Inference API bodies {"inputs": ...,
 * "parameters": {...}}); POST /predict, /rerank, /tokenize, /decode, /embed
 * (text-embeddings-inference bodies) and /v1/embeddings (OpenAI) where a
 * served task supports them.  Replies are JSON; errors are one line
 * {"error": why, "error_type": name}.
 *
 * Threads: nlp_server_call() and the call functions may be used from any
 * number of threads at once.  The encoder runs only on the server's own
 * batcher threads (one per task, each owning its pipelines); a caller's
 * thread parses the body, counts tokens and formats the reply.
 */
#ifndef NLP_SERVE_H
#define NLP_SERVE_H

#include <stddef.h>
#include "nlp/export.h"
#include "nlp/status.h"
#include "nlp/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nlp_server nlp_server;
typedef struct nlp_serve_call nlp_serve_call;

/* How to open a server.  Start from NLP_SERVER_OPTS_INIT; 0 means the
 * default named in the comment. */
typedef struct nlp_server_opts {
    size_t struct_size;         /* sizeof(nlp_server_opts) */
    int threads;                /* encoder threads per task; 0: all cores */
    int dtype;                  /* an nlp_weight_type, or -1: the model's */
    int offline;                /* never contact the Hub */
    const char *plugin_dir;     /* searched before the default plugin path */
    size_t max_batch_tokens;    /* tokens per dynamic batch; 0: 8192 */
    size_t max_batch_inputs;    /* inputs per forward pass; 0: 64 */
    size_t max_concurrent;      /* requests queued or running; over it the
                                   reply is 503; 0: 512 */
    size_t max_input_tokens;    /* an input with more tokens is refused
                                   (422); 0: no limit of the server's own
                                   (inputs are truncated to the model's
                                   length as on the command line) */
    size_t max_client_batch;    /* inputs per request; 0: 256 */
    double timeout;             /* seconds a request may wait; 0: 60 */
    size_t max_pipelines;       /* option sets kept open per task; 0: 4 */
    nlp_warn_fn on_warning;     /* warnings of the pipelines, or NULL */
    void *warning_user;
} nlp_server_opts;

#define NLP_SERVER_OPTS_INIT {sizeof(nlp_server_opts), 0, -1, 0, NULL, 0, 0, 0, 0, 0, 0, 0, \
                              NULL, NULL}

/* A reply: an HTTP status, a body and its media type. */
typedef struct nlp_serve_reply {
    int http_status;            /* 200, 400, 413, 422, 503, ... */
    nlp_status status;          /* NLP_OK, or why the request failed */
    const char *content_type;   /* "application/json", "text/plain; ..." */
    char *body;                 /* owned by the call */
    size_t body_len;
    int retry_after;            /* > 0: seconds for a Retry-After header */
} nlp_serve_reply;

/* A new server with no task yet; the caller frees it with
 * nlp_server_free(). */
NLP_API nlp_status nlp_server_open(const nlp_server_opts *opts, nlp_server **out,
                                   nlp_error *err);

/* Serve task on model (a directory or Hub id; NULL: the task's default):
 * opens and loads its pipeline now, so a bad model fails here.  Before
 * nlp_server_start() only.  NLP_ERR_CONFLICT when the task is served
 * already. */
NLP_API nlp_status nlp_server_add(nlp_server *s, const char *task, const char *model,
                                  nlp_error *err);

/* Start the batcher threads.  NLP_ERR_USAGE when no task was added. */
NLP_API nlp_status nlp_server_start(nlp_server *s, nlp_error *err);

/* Tasks served, in the order added, and the model directory of each. */
NLP_API size_t nlp_server_task_count(const nlp_server *s);
NLP_API const char *nlp_server_task_name(const nlp_server *s, size_t i);
NLP_API const char *nlp_server_task_model(const nlp_server *s, size_t i);

/* Handle one request.  Never NULL (out of memory gives a static 503
 * call).  Replies that need no encoder are ready at return; the others
 * wait in the queue of their task.  body need not be NUL-terminated and is
 * not kept. */
NLP_API nlp_serve_call *nlp_server_call(nlp_server *s, const char *method, const char *path,
                                        const char *body, size_t len);

/* Wait up to ms milliseconds (0: just look) for the reply: 1 when it is
 * ready.  A request past its timeout is answered 503 here. */
NLP_API int nlp_serve_call_wait(nlp_serve_call *c, int ms);

/* The reply once nlp_serve_call_wait() returned 1, else NULL. */
NLP_API const nlp_serve_reply *nlp_serve_call_reply(const nlp_serve_call *c);

/* The client went away: a request not started yet leaves the queue. */
NLP_API void nlp_serve_call_cancel(nlp_serve_call *c);

/* Release the caller's hold on c (with or without a reply).  c may be
 * NULL. */
NLP_API void nlp_serve_call_free(nlp_serve_call *c);

/* Record a request the front end answered itself (e.g. 401, 413) in the
 * metrics. */
NLP_API void nlp_server_count_reply(nlp_server *s, const char *path, int http_status);

/* Refuse new work (503 "shutting down"; /health too) and wait up to
 * seconds for the queued and running requests to finish.  Returns the
 * requests still unfinished (0: drained). */
NLP_API size_t nlp_server_drain(nlp_server *s, double seconds);

/* Stop the batchers (answering what is still queued with 503) and free
 * everything.  Free every call first.  s may be NULL. */
NLP_API void nlp_server_free(nlp_server *s);

/* The HTTP status for a failure of this kind (400 bad JSON, 422 bad
 * input or parameter, 413 too large, 503 busy or timed out, 500 else). */
NLP_API int nlp_serve_http_status(nlp_status status);

/* ---- request parsing, on its own (what the server runs first) ---- */

/* A request body turned into inputs and task options. */
typedef struct nlp_serve_request {
    nlp_input *inputs;          /* [n]; texts owned by the request */
    size_t n;
    int single;                 /* "inputs" was one input, not a list */
    char **opt_names;           /* [n_opts] task option names */
    char **opt_values;          /* [n_opts] their text; NULL for a flag */
    size_t n_opts;
    char *key;                  /* the options as one canonical string */
} nlp_serve_request;

/* Parse a Hugging Face Inference API body {"inputs": ..., "parameters":
 * {...}} for a task described by desc: inputs a string or a list (for
 * question/context tasks {"question", "context"} objects; for text-pair
 * tasks also {"text", "text_pair"}), parameters mapped to the task's
 * options (candidate_labels -> labels, aggregation_strategy ->
 * aggregation, top_k -> top-k, ...; a list of strings is joined with
 * commas; null leaves an option unset, except that it means "all" for an
 * option taking "all", as top_k=None does in the pipelines).  NLP_ERR_FORMAT: not JSON; NLP_ERR_INPUT: a wrong type or
 * shape; NLP_ERR_USAGE: an unknown parameter; NLP_ERR_TOO_LARGE: more
 * inputs than max_inputs (0: no limit).  On success *out is new (free with
 * nlp_serve_request_free()). */
NLP_API nlp_status nlp_serve_request_parse(const nlp_task_desc *desc, const char *body,
                                           size_t len, size_t max_inputs,
                                           nlp_serve_request **out, nlp_error *err);

NLP_API void nlp_serve_request_free(nlp_serve_request *r);

#ifdef __cplusplus
}
#endif
#endif /* NLP_SERVE_H */
