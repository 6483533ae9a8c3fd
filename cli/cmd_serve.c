/*
 * cmd_serve.c - `nlp serve`: the HTTP front end of the serving core
 * (nlp/serve.h).  Parses the command line, loads the tasks, and moves
 * requests between libmicrohttpd and nlp_server_call(): one thread per
 * connection reads the body (bounded by --max-body-size), checks the API
 * key, waits for the reply while watching for the client going away, and
 * writes it back.  SIGTERM / SIGINT stop new work, let the requests in
 * flight finish, and exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "nlp/serve.h"
#include "serve_page.h"

#define MAX_TASKS 16
#define DEF_BODY (1u << 20)

typedef struct serve_cmd {
    const char *model;
    const char *tasks[MAX_TASKS], *models[MAX_TASKS];
    char names[MAX_TASKS][64];
    size_t n_tasks;
    const char *host;
    long port;
    size_t max_body;
    const char *api_key;
    int quiet;
    nlp_server_opts so;
} serve_cmd;

/* What libmicrohttpd keeps per request: the body read so far. */
typedef struct serve_req {
    nlp_buf body;
    int too_large;
} serve_req;

typedef struct serve_ctx {
    nlp_server *s;
    const serve_cmd *cmd;
    atomic_int open_requests;   /* from the first byte to the reply sent */
    atomic_int draining;        /* SIGTERM came: replies close their connection */
} serve_ctx;

static serve_ctx *the_ctx;      /* for send_reply's Connection: close */

static void usage(void)
{
    printf("usage: nlp serve [--model DIR_OR_ID | --task TASK[=MODEL] ...] [options]\n"
           "Serve tasks over HTTP: Hugging Face Inference API routes (POST /TASK with\n"
           "{\"inputs\": ..., \"parameters\": {...}}), text-embeddings-inference routes\n"
           "(/embed, /predict, /rerank, /tokenize, /decode, /info, /health, /metrics),\n"
           "OpenAI's /v1/embeddings, and a page to try the tasks at /.  Requests from\n"
           "all connections are queued and run in batches by a token budget.\n"
           "\nOptions:\n"
           "  --model DIR_OR_ID        serve the task the checkpoint's architecture\n"
           "                           names (fill-mask, sentiment, ner, qa, else embed)\n"
           "  --task TASK[=MODEL]      serve TASK on MODEL (default: the task's default\n"
           "                           model); repeatable, one model per task\n"
           "  --host ADDR              address to listen on (default 127.0.0.1)\n"
           "  --port N                 port (default 8080; 0: any free port)\n"
           "  --threads N              encoder threads per task (default: all cores)\n"
           "  --dtype fp32|int8|bf16   weight type of the encoder (default: the model's)\n"
           "  --max-batch-tokens N     tokens per batch (default 8192)\n"
           "  --max-batch-requests N   inputs per forward pass (default 64)\n"
           "  --max-concurrent-requests N\n"
           "                           requests queued or running; more get 503\n"
           "                           (default 512)\n"
           "  --max-input-length N     refuse inputs of more tokens (422); default: none\n"
           "                           (inputs are cut to the model's length)\n"
           "  --max-client-batch-size N\n"
           "                           inputs per request (default 256)\n"
           "  --max-body-size BYTES    largest request body; more get 413 (default 1048576)\n"
           "  --timeout SECONDS        longest wait of a request for its batch (default 60)\n"
           "  --api-key KEY            require \"Authorization: Bearer KEY\" (default:\n"
           "                           $NLP_API_KEY; /health and / stay open)\n"
           "  --offline                never contact the Hugging Face Hub\n"
           "  --plugin-dir DIR         search DIR for task plugins first\n"
           "  -q, --quiet              no start-up line\n"
           "  -h, --help               show this help and exit\n"
           "\nThe start-up line on stderr names the address and port listened on.\n");
}

/* ------------------------------------------------------------ options */

static int parse_size(const char *opt, const char *s, size_t min, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > SIZE_MAX / 4)
        return cli_usage_error("serve", "%s: expected a whole number of at least %zu, got '%s'",
                               opt, min, s);
    *out = (size_t)v;
    return 0;
}

static int parse_dtype(const char *s, int *out)
{
    static const char *const names[] = {"fp32", "int8", "bf16"};
    static const int types[] = {NLP_WEIGHTS_FP32, NLP_WEIGHTS_INT8, NLP_WEIGHTS_BF16};
    for (size_t i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = types[i];
            return 0;
        }
    return cli_usage_error("serve", "--dtype: expected fp32, int8 or bf16, got '%s'", s);
}

static int add_task(serve_cmd *cmd, const char *spec)
{
    if (cmd->n_tasks == MAX_TASKS)
        return cli_usage_error("serve", "at most %d --task options", MAX_TASKS);
    const char *eq = strchr(spec, '=');
    size_t len = eq ? (size_t)(eq - spec) : strlen(spec);
    if (!len || (eq && !eq[1]) || len >= sizeof cmd->names[0])
        return cli_usage_error("serve", "--task: expected TASK or TASK=MODEL");
    memcpy(cmd->names[cmd->n_tasks], spec, len);
    cmd->names[cmd->n_tasks][len] = '\0';
    cmd->tasks[cmd->n_tasks] = cmd->names[cmd->n_tasks];
    cmd->models[cmd->n_tasks++] = eq ? eq + 1 : NULL;
    return 0;
}

/* One option of the command line into cmd; 0, or the exit status. */
static int take_option(serve_cmd *cmd, int c, char *arg, const char *name)
{
    size_t v;
    int rc = 0;
    switch (c) {
    case 'm': cmd->model = arg; break;
    case 'T': rc = add_task(cmd, arg); break;
    case 'H': cmd->host = arg; break;
    case 'p': rc = parse_size("--port", arg, 0, &v); cmd->port = (long)v;
        if (!rc && v > 65535)
            rc = cli_usage_error("serve", "--port: at most 65535");
        break;
    case 't': rc = parse_size("--threads", arg, 1, &v); cmd->so.threads = (int)v; break;
    case 'd': rc = parse_dtype(arg, &cmd->so.dtype); break;
    case 'B': rc = parse_size("--max-batch-tokens", arg, 1, &cmd->so.max_batch_tokens); break;
    case 'R': rc = parse_size("--max-batch-requests", arg, 1, &cmd->so.max_batch_inputs); break;
    case 'C': rc = parse_size("--max-concurrent-requests", arg, 1, &cmd->so.max_concurrent); break;
    case 'L': rc = parse_size("--max-input-length", arg, 1, &cmd->so.max_input_tokens); break;
    case 'N': rc = parse_size("--max-client-batch-size", arg, 1, &cmd->so.max_client_batch); break;
    case 'S': rc = parse_size("--max-body-size", arg, 16, &cmd->max_body); break;
    case 'O': rc = parse_size("--timeout", arg, 1, &v); cmd->so.timeout = (double)v; break;
    case 'k': cmd->api_key = arg; break;
    case 'o': cmd->so.offline = 1; break;
    case 'P': cmd->so.plugin_dir = arg; break;
    case 'q': cmd->quiet = 1; break;
    case ':': rc = cli_usage_error("serve", "option '%s' needs a value", name); break;
    default: rc = cli_usage_error("serve", "unknown option '%s'", name); break;
    }
    return rc;
}

/* Parse argv into cmd; -1 for --help, 0, or the exit status. */
static int parse_args(serve_cmd *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'}, {"task", required_argument, NULL, 'T'},
        {"host", required_argument, NULL, 'H'}, {"port", required_argument, NULL, 'p'},
        {"threads", required_argument, NULL, 't'}, {"dtype", required_argument, NULL, 'd'},
        {"max-batch-tokens", required_argument, NULL, 'B'},
        {"max-batch-requests", required_argument, NULL, 'R'},
        {"max-concurrent-requests", required_argument, NULL, 'C'},
        {"max-input-length", required_argument, NULL, 'L'},
        {"max-client-batch-size", required_argument, NULL, 'N'},
        {"max-body-size", required_argument, NULL, 'S'},
        {"timeout", required_argument, NULL, 'O'}, {"api-key", required_argument, NULL, 'k'},
        {"offline", no_argument, NULL, 'o'}, {"plugin-dir", required_argument, NULL, 'P'},
        {"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    optind = 1;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
        if (c == 'h')
            return -1;
        if ((rc = take_option(cmd, c, optarg, argv[optind - 1])) != 0)
            return rc;
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (cmd->model && cmd->n_tasks)
        return cli_usage_error("serve", "give --model or --task, not both");
    if (!cmd->model && !cmd->n_tasks)
        return cli_usage_error("serve", "give --model DIR_OR_ID or --task TASK[=MODEL]");
    if (!cmd->api_key)
        cmd->api_key = getenv("NLP_API_KEY");
    if (cmd->api_key && !cmd->api_key[0])
        cmd->api_key = NULL;
    return 0;
}

/* The task for a lone --model: from config.json's architectures. */
static const char *task_of_model(const char *model, int offline)
{
    static const char *const map[][2] = {
        {"ForMaskedLM", "fill-mask"}, {"ForSequenceClassification", "sentiment"},
        {"ForTokenClassification", "ner"}, {"ForQuestionAnswering", "qa"},
    };
    char *dir = NULL;
    const char *task = "embed";
    if (cli_resolve_model(model, offline, 1, &dir, NULL) != NLP_OK)
        return "sentiment";   /* the load reports the problem */
    char *path = malloc(strlen(dir) + 16);
    nlp_config cfg;
    if (path) {
        sprintf(path, "%s/config.json", dir);
        if (nlp_config_load(path, &cfg, NULL) == NLP_OK) {
            for (int a = 0; a < cfg.n_architectures; a++)
                for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
                    if (strstr(cfg.architectures[a], map[i][0]))
                        task = map[i][1];
            nlp_config_clear(&cfg);
        }
    }
    free(path);
    free(dir);
    return task;
}

/* ------------------------------------------------------------- HTTP */

/* 1 when the bearer token given equals key; the time taken depends on
 * the lengths only. */
static int key_matches(const char *given, const char *key)
{
    size_t gl = given ? strlen(given) : 0, kl = strlen(key);
    unsigned diff = (unsigned)(gl != kl) | (unsigned)!given;
    for (size_t i = 0; i < kl; i++)
        diff |= (unsigned char)key[i] ^ (unsigned char)(i < gl ? given[i] : 0);
    return diff == 0;
}

static int authorised(struct MHD_Connection *conn, const char *key)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return key_matches(NULL, key);
    return key_matches(h + 7, key);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, int code, const char *type,
                                  const char *body, size_t len, int retry_after)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    if (retry_after > 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry_after);
        MHD_add_response_header(r, "Retry-After", v);
    }
    if (code == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    if (the_ctx && atomic_load(&the_ctx->draining))
        MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)code, r);
    MHD_destroy_response(r);
    return ret;
}

/* A reply the front end makes itself, counted in the metrics. */
static enum MHD_Result send_error(serve_ctx *ctx, struct MHD_Connection *conn, const char *url,
                                  int code, const char *type, const char *msg)
{
    char body[320];
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\",\"error_type\":\"%s\"}", msg, type);
    nlp_server_count_reply(ctx->s, url, code);
    return send_reply(conn, code, "application/json", body, (size_t)n, 0);
}

/* 1 when the peer closed its end of the connection. */
static int client_gone(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return 0;
    struct pollfd p = {ci->connect_fd, POLLIN | POLLRDHUP, 0};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
        return 1;
    char c;
    return recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* The whole request is in: run it and send the reply. */
static enum MHD_Result run_request(serve_ctx *ctx, struct MHD_Connection *conn,
                                   const char *url, const char *method, serve_req *rq)
{
    if (rq->too_large) {
        char msg[96];
        snprintf(msg, sizeof msg, "the request body exceeds the limit (max_body_size) of %zu "
                 "bytes", ctx->cmd->max_body);
        return send_error(ctx, conn, url, 413, "too_large", msg);
    }
    if (strcmp(url, "/") == 0 && strcmp(method, "GET") == 0) {
        nlp_server_count_reply(ctx->s, url, 200);
        return send_reply(conn, 200, "text/html; charset=utf-8", serve_page_html,
                          strlen(serve_page_html), 0);
    }
    nlp_serve_call *c = nlp_server_call(ctx->s, method, url, rq->body.p, rq->body.len);
    while (!nlp_serve_call_wait(c, 50))
        if (client_gone(conn)) {
            nlp_serve_call_cancel(c);
            nlp_serve_call_free(c);
            return MHD_NO;
        }
    const nlp_serve_reply *r = nlp_serve_call_reply(c);
    enum MHD_Result ret = send_reply(conn, r->http_status, r->content_type, r->body,
                                     r->body_len, r->retry_after);
    nlp_serve_call_free(c);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    serve_ctx *ctx = cls;
    serve_req *rq = *con_cls;
    if (!rq) {
        if (!(rq = calloc(1, sizeof *rq)))
            return MHD_NO;
        *con_cls = rq;
        atomic_fetch_add(&ctx->open_requests, 1);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > ctx->cmd->max_body)
            rq->too_large = 1;
        int open = strcmp(url, "/health") == 0 || strcmp(url, "/") == 0;
        if (ctx->cmd->api_key && !open && !authorised(conn, ctx->cmd->api_key))
            return send_error(ctx, conn, url, 401, "auth",
                              "missing or wrong API key (Authorization: Bearer KEY)");
        if (rq->too_large)
            return run_request(ctx, conn, url, method, rq);
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_large && rq->body.len + *upload_size > ctx->cmd->max_body)
            rq->too_large = 1;
        if (!rq->too_large && !nlp_buf_add(&rq->body, upload, *upload_size))
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    return run_request(ctx, conn, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    serve_ctx *ctx = cls;
    serve_req *rq = *con_cls;
    if (rq) {
        atomic_fetch_sub(&ctx->open_requests, 1);
        free(rq->body.p);
        free(rq);
        *con_cls = NULL;
    }
}

/* Start libmicrohttpd on host:port. */
static struct MHD_Daemon *start_http(serve_ctx *ctx, const serve_cmd *cmd)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, cmd->host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)cmd->port);
        sa = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, cmd->host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)cmd->port);
        sa = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        fprintf(stderr, "nlp serve: --host: '%s' is not an IPv4 or IPv6 address\n", cmd->host);
        return NULL;
    }
    size_t conns = cmd->so.max_concurrent ? cmd->so.max_concurrent : 512;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)cmd->port, NULL, NULL, on_request, ctx,
        MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, ctx,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(2 * conns + 64),
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
        MHD_OPTION_END);
    if (!d)
        fprintf(stderr, "nlp serve: cannot listen on %s port %ld (%s)\n", cmd->host, cmd->port,
                strerror(errno));
    return d;
}

/* ---------------------------------------------------------- the command */

static void warn_pipeline(void *user, const char *msg)
{
    (void)user;
    cli_warn("serve", "%s", msg);
}

/* Open the server and load every task; 0 or the exit status. */
static int load_tasks(serve_cmd *cmd, nlp_server **s)
{
    nlp_error err = {0};
    cmd->so.on_warning = warn_pipeline;
    if (nlp_server_open(&cmd->so, s, &err) != NLP_OK)
        return cli_fail("serve", &err);
    if (cmd->model) {
        cmd->tasks[0] = task_of_model(cmd->model, cmd->so.offline);
        cmd->models[0] = cmd->model;
        cmd->n_tasks = 1;
    }
    for (size_t i = 0; i < cmd->n_tasks; i++)
        if (nlp_server_add(*s, cmd->tasks[i], cmd->models[i], &err) != NLP_OK) {
            if (err.status == NLP_ERR_CONFLICT)
                return cli_usage_error("serve", "%s", err.msg);
            return cli_fail("serve", &err);
        }
    if (nlp_server_start(*s, &err) != NLP_OK)
        return cli_fail("serve", &err);
    return 0;
}

static void say_ready(const serve_cmd *cmd, struct MHD_Daemon *d, nlp_server *s)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : (unsigned)cmd->port;
    if (cmd->quiet) {
        fprintf(stderr, "nlp serve: listening on %s port %u (pid %ld)\n", cmd->host, port,
                (long)getpid());
        return;
    }
    for (size_t i = 0; i < nlp_server_task_count(s); i++)
        fprintf(stderr, "nlp serve: %s: %s\n", nlp_server_task_name(s, i),
                nlp_server_task_model(s, i));
    fprintf(stderr, "nlp serve: listening on %s port %u (pid %ld): http://%s%s%s:%u/\n",
            cmd->host, port, (long)getpid(), strchr(cmd->host, ':') ? "[" : "", cmd->host,
            strchr(cmd->host, ':') ? "]" : "", port);
}

/* After draining: let the replies be written and the clients that keep
 * sending on open connections get their 503 with Connection: close, so
 * no connection is cut under a request (at most 2 s). */
static void settle(struct MHD_Daemon *d, serve_ctx *ctx)
{
    for (int i = 0; i < 200; i++) {
        const union MHD_DaemonInfo *di =
            MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (atomic_load(&ctx->open_requests) == 0 && (!di || di->num_connections == 0))
            return;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
}

int cmd_serve(int argc, char **argv)
{
    serve_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.so = (nlp_server_opts)NLP_SERVER_OPTS_INIT;
    cmd.host = "127.0.0.1";
    cmd.port = 8080;
    cmd.max_body = DEF_BODY;
    int rc = parse_args(&cmd, argc, argv);
    if (rc) {
        if (rc < 0)
            usage();
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    /* every thread started from here on leaves these signals to sigwait */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    nlp_server *s = NULL;
    struct MHD_Daemon *d = NULL;
    serve_ctx ctx = {NULL, &cmd, 0, 0};
    the_ctx = &ctx;
    if ((rc = load_tasks(&cmd, &s)) == 0) {
        ctx.s = s;
        if (!(d = start_http(&ctx, &cmd)))
            rc = CLI_EXIT_FAIL;
    }
    if (rc == 0) {
        say_ready(&cmd, d, s);
        int sig = 0;
        sigwait(&sigs, &sig);
        fprintf(stderr, "nlp serve: %s: finishing the requests in flight\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
        atomic_store(&ctx.draining, 1);
        MHD_socket lfd = MHD_quiesce_daemon(d);   /* ours to close: new connections */
        if (lfd != MHD_INVALID_SOCKET)             /* are refused from here on */
            close(lfd);
        size_t left = nlp_server_drain(s, cmd.so.timeout > 0 ? cmd.so.timeout + 5 : 65);
        settle(d, &ctx);
        if (left)
            cli_warn("serve", "%zu requests unfinished at exit", left);
    }
    if (d)
        MHD_stop_daemon(d);
    nlp_server_free(s);
    return rc;
}
