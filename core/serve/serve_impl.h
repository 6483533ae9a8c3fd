/*
 * serve_impl.h - what the serving core's files share (server.c: tasks,
 * queues and batchers; routes.c: request routing and replies; metrics.c:
 * counters and histograms; request.c: request bodies).
 */
#ifndef NLP_SERVE_IMPL_H
#define NLP_SERVE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "nlp/nlp.h"
#include "nlp/serve.h"

#define SRV_HIST_MAX 24
#define SRV_ROUTES_MAX 48

/* A histogram with fixed upper bounds (Prometheus "le"), counts
 * cumulative only when printed. */
typedef struct srv_hist {
    const double *bounds;
    size_t nb;
    uint64_t count[SRV_HIST_MAX + 1];
    double sum;
    uint64_t n;
} srv_hist;

/* The server's metrics; guarded by the server's lock. */
typedef struct srv_metrics {
    struct {
        char route[32];
        int code;
        uint64_t n;
    } req[SRV_ROUTES_MAX];
    size_t n_req;
    uint64_t errors[NLP_STATUS_COUNT];
    uint64_t inputs, tokens, batches, cancelled;
    srv_hist latency, queue_time, batch_time, batch_inputs, batch_tokens;
} srv_metrics;

/* How a call's reply is shaped. */
typedef enum srv_kind {
    SRV_KIND_TASK = 0,       /* the pipeline's results, as the CLI's --json */
    SRV_KIND_VECTORS = 1,    /* TEI /embed: a list of vectors */
    SRV_KIND_OPENAI = 2,     /* OpenAI /v1/embeddings */
    SRV_KIND_RERANK = 3      /* TEI /rerank: [{index, score}] by score */
} srv_kind;

typedef enum srv_state { SRV_QUEUED = 0, SRV_RUNNING = 1, SRV_DONE = 2 } srv_state;

/* A pipeline for one option set of a task, owned by the task's batcher. */
typedef struct srv_pipe {
    char *key;
    nlp_pipeline *p;
    uint64_t used;
} srv_pipe;

typedef struct srv_task srv_task;

struct nlp_serve_call {
    nlp_server *s;
    int refs;                   /* the front end, and the queue while queued */
    srv_state state;
    pthread_cond_t done;
    nlp_serve_reply reply;
    int is_static;              /* the out-of-memory call: never freed */
    int enqueued;               /* went through the queue (set under the lock) */
    char route[32];
    double t_start, t_queued, deadline;
    /* queued work */
    srv_task *task;
    nlp_serve_request *req;
    srv_kind kind;
    size_t tokens;              /* the batcher's budget counts these */
    size_t total_tokens;        /* tokens of the inputs before truncation */
    int return_text;            /* rerank */
    char *model_name;           /* OpenAI: echoed */
    nlp_serve_call *next;
};

struct srv_task {
    nlp_server *s;
    char *name, *model_ref;
    const nlp_task_desc *desc;
    nlp_shared_model *model;    /* loaded once; every pipeline of the task
                                   borrows it */
    const nlp_tokenizer *tok;   /* model's: counting tokens, /tokenize, /decode */
    size_t limit;               /* tokens the model takes */
    nlp_config cfg;             /* labels (rerank) */
    int cfg_loaded;
    srv_pipe *pipes;            /* [max_pipelines]; pipes[0]: no options */
    size_t n_pipes;
    uint64_t clock;
    nlp_serve_call *head, *tail;/* the queue */
    size_t queued;
    pthread_t thread;
    int started;
    pthread_cond_t work;
};

struct nlp_server {
    nlp_server_opts o;
    char *plugin_dir;
    nlp_registry *reg;
    srv_task **tasks;
    size_t n_tasks;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    size_t active;              /* calls queued or running */
    int draining, stopping, started;
    srv_metrics m;
    double t0;
};

/* Seconds on a monotonic clock. */
double srv_now(void);

/* request.c: a request built by the server; takes over inputs[n] (freed
 * on failure too).  NULL when out of memory. */
nlp_serve_request *srv_request_new(nlp_input *inputs, size_t n, int single,
                                   const char *const *names, const char *const *values,
                                   size_t n_opts);

/* server.c */
nlp_serve_call *srv_call_new(nlp_server *s, const char *path);
/* Queue c on its task (c->task, c->req set); the reply says why not. */
void srv_enqueue(nlp_serve_call *c);
/* Set c's reply: status, http code and body (taken over). */
void srv_reply(nlp_serve_call *c, int http, nlp_status st, const char *type, char *body);
/* An error reply {"error": msg, "error_type": name}. */
void srv_reply_error(nlp_serve_call *c, nlp_status st, const char *msg);
/* The same as JSON text (new string) / the http status of st. */
char *srv_error_json(nlp_status st, const char *msg);

/* routes.c: handle the request (reply now or enqueue). */
void srv_route(nlp_server *s, nlp_serve_call *c, const char *method, const char *path,
               const char *body, size_t len);
/* routes.c: the reply of a call whose batch ran; results[n] of its inputs. */
void srv_finish_reply(nlp_serve_call *c, const nlp_pipeline_result *res);

/* metrics.c (the server's lock held) */
void srv_metrics_init(srv_metrics *m);
void srv_hist_add(srv_hist *h, double x);
void srv_metrics_reply(srv_metrics *m, const char *route, int code, nlp_status st);
char *srv_metrics_text(nlp_server *s);

#endif /* NLP_SERVE_IMPL_H */
