/*
 * fuzz_serve.c - fuzz harness: what the server does with a request
 * (nlp/serve.h).  nlp_serve_request_parse() on its own over two task
 * shapes, or a whole call through nlp_server_call() on a server holding
 * sentiment (tiny-bert-sst2) and qa (qa-bert) from data/models, opened on
 * the first input and kept; every reply must be ready, carry a status, and
 * an error reply must be one line of JSON.
 *
 * Input: byte 0 'p' = parse the rest for a text-pair task, 'q' = for a
 * question/context task; anything else = the rest is METHOD path
 * `=====` body for nlp_server_call().
 */
#include <stdlib.h>
#include <string.h>

#include "nlp/nlp.h"
#include "nlp/serve.h"
#include "fuzz_util.h"

static const nlp_option decl[] = {
    { "top-k", NLP_OPT_STRING, NULL, NULL, "", NULL },
    { "labels", NLP_OPT_STRING, NULL, NULL, "", NULL },
    { "aggregation", NLP_OPT_CHOICE, "none", "none|simple", "", NULL },
    { "multi-label", NLP_OPT_FLAG, NULL, NULL, "", NULL },
    { "max-answer-len", NLP_OPT_INT, "15", NULL, "", NULL },
    { NULL, NLP_OPT_FLAG, NULL, NULL, NULL, NULL },
};
static const nlp_task_desc pair_desc = { sizeof(nlp_task_desc), 0, "t", "", NULL,
                                         NLP_INPUT_TEXT_PAIR, decl, NULL, NULL };
static const nlp_task_desc qc_desc = { sizeof(nlp_task_desc), 0, "q", "", NULL,
                                       NLP_INPUT_QUESTION_CONTEXT, decl, NULL, NULL };

static void fuzz_parse(const nlp_task_desc *d, const uint8_t *data, size_t size)
{
    nlp_serve_request *r = NULL;
    nlp_error err;
    nlp_status st = nlp_serve_request_parse(d, (const char *)data, size, 64, &r, &err);
    if ((st == NLP_OK) != (r != NULL))
        abort();
    if (st != NLP_OK && (!err.msg[0] || strchr(err.msg, '\n')))
        abort();   /* every refusal says why, in one line */
    for (size_t i = 0; r && i < r->n; i++)
        if (!r->inputs[i].text || strlen(r->inputs[i].text) != r->inputs[i].text_len ||
            (d->input == NLP_INPUT_QUESTION_CONTEXT && !r->inputs[i].text_pair))
            abort();
    for (size_t i = 0; r && i < r->n_opts; i++)
        if (!r->opt_names[i] || !strstr(r->key, r->opt_names[i]))
            abort();
    nlp_serve_request_free(r);
}

static nlp_server *server;

static void server_free(void)
{
    nlp_server_free(server);
}

static nlp_server *get_server(void)
{
    if (server)
        return server;
    nlp_server_opts o = NLP_SERVER_OPTS_INIT;
    o.threads = 1;
    o.plugin_dir = NLP_BUILD_PLUGIN_DIR;
    o.max_client_batch = 16;
    o.max_input_tokens = 256;
    nlp_error err;
    if (nlp_server_open(&o, &server, &err) != NLP_OK ||
        nlp_server_add(server, "sentiment", NLP_TEST_DATA "/models/tiny-bert-sst2", &err) ||
        nlp_server_add(server, "qa", NLP_TEST_DATA "/models/qa-bert", &err) ||
        nlp_server_start(server, &err)) {
        fprintf(stderr, "fuzz_serve: %s\n", err.msg);
        abort();
    }
    atexit(server_free);
    return server;
}

static void fuzz_call(const uint8_t *data, size_t size)
{
    fuzz_part parts[2];
    size_t n = fuzz_split(data, size, parts, 2);
    char line[128];
    size_t len = parts[0].n < sizeof line - 1 ? parts[0].n : sizeof line - 1;
    memcpy(line, parts[0].p, len);
    line[len] = '\0';
    char *path = strchr(line, ' ');
    if (path)
        *path++ = '\0';
    nlp_serve_call *c = nlp_server_call(get_server(), line, path ? path : "/",
                                        n > 1 ? parts[1].p : NULL, n > 1 ? parts[1].n : 0);
    int waited = 0;
    while (!nlp_serve_call_wait(c, 1000))
        if (++waited > 60)
            abort();   /* a minute without a reply is a hang */
    const nlp_serve_reply *r = nlp_serve_call_reply(c);
    if (!r || r->http_status < 200 || r->http_status > 599 || !r->body ||
        strlen(r->body) != r->body_len)
        abort();
    if (r->http_status >= 400 && (strchr(r->body, '\n') || !strstr(r->body, "\"error_type\"")))
        abort();
    /* the reply, built as values and then as text: qa's top_k can ask
     * for thousands of answers from one short context */
    FUZZ_ALLOW(16 * r->body_len);
    nlp_serve_call_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] == 'p' || data[0] == 'q')
        fuzz_parse(data[0] == 'p' ? &pair_desc : &qc_desc, data + 1, size - 1);
    else
        fuzz_call(data + 1, size - 1);
    return 0;
}
