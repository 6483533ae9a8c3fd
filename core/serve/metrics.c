/*
 * metrics.c - the serving core's counters and histograms, and their
 * Prometheus text exposition for GET /metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/nlp.h"
#include "serve_impl.h"

static const double seconds_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5, 1, 2.5, 5, 10, 30, 60};
static const double inputs_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
static const double tokens_bounds[] = {16, 64, 256, 1024, 2048, 4096, 8192, 16384, 65536};

#define NB(a) (sizeof a / sizeof a[0])

void srv_metrics_init(srv_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->latency = (srv_hist){.bounds = seconds_bounds, .nb = NB(seconds_bounds)};
    m->queue_time = (srv_hist){.bounds = seconds_bounds, .nb = NB(seconds_bounds)};
    m->batch_time = (srv_hist){.bounds = seconds_bounds, .nb = NB(seconds_bounds)};
    m->batch_inputs = (srv_hist){.bounds = inputs_bounds, .nb = NB(inputs_bounds)};
    m->batch_tokens = (srv_hist){.bounds = tokens_bounds, .nb = NB(tokens_bounds)};
}

void srv_hist_add(srv_hist *h, double x)
{
    size_t i = 0;
    while (i < h->nb && x > h->bounds[i])
        i++;
    h->count[i]++;
    h->sum += x;
    h->n++;
}

void srv_metrics_reply(srv_metrics *m, const char *route, int code, nlp_status st)
{
    size_t i = 0;
    while (i < m->n_req && (m->req[i].code != code || strcmp(m->req[i].route, route) != 0))
        i++;
    if (i == m->n_req && i < SRV_ROUTES_MAX - 1) {
        /* routes are few; anything beyond the table is counted as "other" */
        snprintf(m->req[i].route, sizeof m->req[i].route, "%s", route);
        m->req[i].code = code;
        m->n_req++;
    } else if (i == m->n_req) {
        i = SRV_ROUTES_MAX - 1;
        snprintf(m->req[i].route, sizeof m->req[i].route, "other");
        m->req[i].code = 0;
    }
    m->req[i].n++;
    if (code >= 400 && (int)st > 0 && st < NLP_STATUS_COUNT)
        m->errors[st]++;
}

/* A route as a label value: printable ASCII without quotes or
 * backslashes. */
static void label_clean(char *dst, const char *src, size_t cap)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = (src[i] < 0x20 || src[i] > 0x7e || src[i] == '"' || src[i] == '\\') ? '_'
                                                                                    : src[i];
    dst[i] = '\0';
}

static void put_str(nlp_buf *b, const char *s)
{
    nlp_buf_add(b, s, strlen(s));
}

static void put_hist(nlp_buf *b, const char *name, const char *help, const srv_hist *h)
{
    char line[256];
    int k = snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    nlp_buf_add(b, line, (size_t)k);
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->nb; i++) {
        cum += h->count[i];
        if (i < h->nb)
            k = snprintf(line, sizeof line, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i],
                         (unsigned long long)cum);
        else
            k = snprintf(line, sizeof line, "%s_bucket{le=\"+Inf\"} %llu\n", name,
                         (unsigned long long)cum);
        nlp_buf_add(b, line, (size_t)k);
    }
    k = snprintf(line, sizeof line, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name,
                 (unsigned long long)h->n);
    nlp_buf_add(b, line, (size_t)k);
}

static void put_value(nlp_buf *b, const char *name, const char *type, const char *help,
                      double v)
{
    char line[256];
    int k = snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help,
                     name, type, name, v);
    nlp_buf_add(b, line, (size_t)k);
}

char *srv_metrics_text(nlp_server *s)
{
    nlp_buf b = {0};
    char line[256], route[40];
    pthread_mutex_lock(&s->mu);
    const srv_metrics *m = &s->m;
    size_t queued = 0;
    for (size_t i = 0; i < s->n_tasks; i++)
        queued += s->tasks[i]->queued;
    put_str(&b, "# HELP nlp_serve_requests_total Requests answered, by route and HTTP "
                "status.\n# TYPE nlp_serve_requests_total counter\n");
    for (size_t i = 0; i < m->n_req || (i == SRV_ROUTES_MAX - 1 && m->req[i].n); i++) {
        label_clean(route, m->req[i].route, sizeof route);
        int k = snprintf(line, sizeof line, "nlp_serve_requests_total{route=\"%s\",code=\"%d\"} "
                         "%llu\n", route, m->req[i].code, (unsigned long long)m->req[i].n);
        nlp_buf_add(&b, line, (size_t)k);
    }
    put_str(&b, "# HELP nlp_serve_errors_total Failed requests, by error type.\n"
                "# TYPE nlp_serve_errors_total counter\n");
    for (int st = 1; st < NLP_STATUS_COUNT; st++)
        if (m->errors[st]) {
            int k = snprintf(line, sizeof line, "nlp_serve_errors_total{error_type=\"%s\"} %llu\n",
                             nlp_status_name((nlp_status)st), (unsigned long long)m->errors[st]);
            nlp_buf_add(&b, line, (size_t)k);
        }
    put_value(&b, "nlp_serve_queue_depth", "gauge", "Requests waiting for a batch.",
              (double)queued);
    put_value(&b, "nlp_serve_requests_in_flight", "gauge", "Requests queued or running.",
              (double)s->active);
    put_value(&b, "nlp_serve_cancelled_total", "counter",
              "Queued requests whose client went away.", (double)m->cancelled);
    put_value(&b, "nlp_serve_batches_total", "counter", "Batches run.", (double)m->batches);
    put_value(&b, "nlp_serve_inputs_total", "counter", "Inputs run.", (double)m->inputs);
    put_value(&b, "nlp_serve_tokens_total", "counter", "Tokens run (after truncation).",
              (double)m->tokens);
    put_hist(&b, "nlp_serve_request_duration_seconds", "Time from request to reply.",
             &m->latency);
    put_hist(&b, "nlp_serve_queue_duration_seconds", "Time a request waited for its batch.",
             &m->queue_time);
    put_hist(&b, "nlp_serve_batch_duration_seconds", "Time a batch took to run.",
             &m->batch_time);
    put_hist(&b, "nlp_serve_batch_inputs", "Inputs per batch.", &m->batch_inputs);
    put_hist(&b, "nlp_serve_batch_tokens", "Tokens per batch.", &m->batch_tokens);
    pthread_mutex_unlock(&s->mu);
    if (!nlp_buf_add(&b, "", 1)) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
