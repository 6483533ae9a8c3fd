/*
 * tp_good.c - a well-formed test plugin for the loader and the task runner.
 * Tasks: "echo" (text), "echo-pair" (text pair), "echo-qa" (question and
 * context).  It never touches the model, so it runs with any checkpoint.
 * An input whose text is "fail" fails on its own; "abort" fails the run.
 */
#include <stdlib.h>
#include <string.h>

#include "nlp/plugin.h"

typedef struct echo_state {
    const nlp_host_api *host;
    const char *task;
    long top_k;
    double scale;
    int shout;
    const char *mode, *label;
} echo_state;

static const nlp_option echo_opts[] = {
    {"top-k", NLP_OPT_INT, "3", NULL, "rows per input", NULL},
    {"mode", NLP_OPT_CHOICE, "none", "upper|lower|none", "case of the echoed text", NULL},
    {"scale", NLP_OPT_FLOAT, "1.5", NULL, "multiplies the scores", NULL},
    {"shout", NLP_OPT_FLAG, NULL, NULL, "add an exclamation mark", NULL},
    {"label", NLP_OPT_STRING, NULL, NULL, "a label copied into each row", NULL},
    {NULL, 0, NULL, NULL, NULL, NULL},
};

static const nlp_task_desc tasks[] = {
    {sizeof(nlp_task_desc), 0, "echo", "echo each input as rows (test plugin)", "tiny-model",
     NLP_INPUT_TEXT, echo_opts, "rank,text,score", NULL},
    {sizeof(nlp_task_desc), 0, "echo-pair", "echo a text pair (test plugin)", NULL,
     NLP_INPUT_TEXT_PAIR, NULL, NULL, NULL},
    {sizeof(nlp_task_desc), 0, "echo-qa", "echo a question and its context (test plugin)", NULL,
     NLP_INPUT_QUESTION_CONTEXT, NULL, NULL, NULL},
};

static nlp_status echo_create(const nlp_host_api *host, const nlp_task_args *args,
                              void **state, nlp_error *err)
{
    if (host->abi_version != NLP_PLUGIN_ABI_VERSION)
        return NLP_ERR_ABI;
    echo_state *s = calloc(1, sizeof *s);
    if (!s)
        return host->error_set(err, NLP_ERR_NOMEM, "echo: out of memory");
    s->host = host;
    s->task = args->task;
    s->top_k = host->opt_int(args, "top-k", 1);
    s->scale = host->opt_float(args, "scale", 1.0);
    s->shout = host->opt_flag(args, "shout");
    s->mode = host->opt_string(args, "mode");
    s->label = host->opt_string(args, "label");
    if (s->top_k < 1 || s->top_k > 100) {
        free(s);
        return host->error_set(err, NLP_ERR_INVALID_ARG, "echo: --top-k must be in 1..100");
    }
    *state = s;
    return NLP_OK;
}

static nlp_value *echo_rows(echo_state *s, const nlp_input *in)
{
    const nlp_host_api *h = s->host;
    char *t = malloc(in->text_len + 2);
    if (!t)
        return NULL;
    memcpy(t, in->text, in->text_len);
    size_t n = in->text_len;
    for (size_t i = 0; i < n && s->mode; i++) {
        if (strcmp(s->mode, "upper") == 0 && t[i] >= 'a' && t[i] <= 'z')
            t[i] = (char)(t[i] - 32);
        if (strcmp(s->mode, "lower") == 0 && t[i] >= 'A' && t[i] <= 'Z')
            t[i] = (char)(t[i] + 32);
    }
    if (s->shout)
        t[n++] = '!';
    nlp_value *rows = h->value_array();
    for (long r = 0; r < s->top_k; r++) {
        nlp_value *o = h->value_object();
        h->value_set(o, "score", h->value_number(s->scale / (double)(r + 1)));
        h->value_set(o, "text", h->value_string(t, n));
        h->value_set(o, "rank", h->value_int(r + 1));
        h->value_set(o, "label", s->label ? h->value_string(s->label, strlen(s->label))
                                          : h->value_null());
        h->value_push(rows, o);
    }
    free(t);
    return rows;
}

static nlp_status echo_run(void *state, const nlp_input *inputs, size_t n,
                           nlp_value **results, nlp_error *errs)
{
    echo_state *s = state;
    const nlp_host_api *h = s->host;
    for (size_t i = 0; i < n; i++) {
        const nlp_input *in = &inputs[i];
        if (in->text_len == 5 && memcmp(in->text, "abort", 5) == 0) {
            for (size_t j = 0; j < i; j++)
                h->value_free(results[j]), results[j] = NULL;
            return h->error_set(&errs[i], NLP_ERR_INTERNAL, "echo: asked to abort");
        }
        if (in->text_len == 4 && memcmp(in->text, "fail", 4) == 0) {
            h->error_set(&errs[i], NLP_ERR_INPUT, "echo: this input fails");
            results[i] = NULL;
            continue;
        }
        if (strcmp(s->task, "echo") == 0) {
            results[i] = echo_rows(s, in);
        } else {
            nlp_value *o = h->value_object();
            h->value_set(o, strcmp(s->task, "echo-qa") == 0 ? "question" : "text",
                         h->value_string(in->text, in->text_len));
            h->value_set(o, strcmp(s->task, "echo-qa") == 0 ? "context" : "text_pair",
                         in->text_pair ? h->value_string(in->text_pair, in->text_pair_len)
                                       : h->value_null());
            results[i] = o;
        }
    }
    return NLP_OK;
}

static void echo_destroy(void *state)
{
    free(state);
}

static const nlp_plugin plugin = {
    NLP_PLUGIN_ABI_VERSION, sizeof(nlp_plugin), "good", "1.2.3",
    tasks, sizeof tasks / sizeof tasks[0], echo_create, echo_run, echo_destroy,
};

NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void);
NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void)
{
    return &plugin;
}
