/*
 * request.c - a Hugging Face Inference API request body ({"inputs": ...,
 * "parameters": {...}}) turned into pipeline inputs and task options, with
 * the option set as one canonical string (the dynamic batcher only puts
 * requests with equal option sets into one batch).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/nlp.h"
#include "nlp/serve.h"
#include "serve_impl.h"
#include "util/util.h"

/* Hugging Face parameter names whose option is not the name with '_'
 * turned into '-'. */
static const char *const aliases[][2] = {
    {"candidate_labels", "labels"},
    {"hypothesis_template", "template"},
    {"aggregation_strategy", "aggregation"},
    {"function_to_apply", "function"},
};

void nlp_serve_request_free(nlp_serve_request *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free((char *)r->inputs[i].text);
        free((char *)r->inputs[i].text_pair);
    }
    for (size_t i = 0; i < r->n_opts; i++) {
        free(r->opt_names[i]);
        free(r->opt_values[i]);
    }
    free(r->inputs);
    free(r->opt_names);
    free(r->opt_values);
    free(r->key);
    free(r);
}

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The option of desc that parameter name stands for, or NULL. */
static const nlp_option *find_option(const nlp_task_desc *desc, const char *name)
{
    char opt[64];
    size_t len = strlen(name);
    if (len >= sizeof opt)
        return NULL;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(name, aliases[i][0]) == 0) {
            name = aliases[i][1];
            len = strlen(name);
        }
    for (size_t i = 0; i <= len; i++)
        opt[i] = name[i] == '_' ? '-' : name[i];
    for (const nlp_option *o = desc->options; o && o->name; o++)
        if (strcmp(o->name, opt) == 0)
            return o;
    return NULL;
}

/* A list of strings joined with commas (none may hold a comma). */
static nlp_status join_list(const cJSON *a, const char *pname, char **out, nlp_error *err)
{
    nlp_buf b = {0};
    const cJSON *e;
    size_t i = 0;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsString(e)) {
            free(b.p);
            return nlp_error_set(err, NLP_ERR_INPUT, "parameter '%s': expected a list of strings",
                                 pname);
        }
        if (strchr(e->valuestring, ',')) {
            free(b.p);
            return nlp_error_set(err, NLP_ERR_INPUT,
                                 "parameter '%s': an entry may not contain a comma", pname);
        }
        if ((i++ && !nlp_buf_add(&b, ",", 1)) ||
            !nlp_buf_add(&b, e->valuestring, strlen(e->valuestring))) {
            free(b.p);
            return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        }
    }
    if (!nlp_buf_add(&b, "", 1)) {
        free(b.p);
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    *out = (char *)b.p;
    return NLP_OK;
}

/* The text of parameter value v for option o; *skip when the option stays
 * unset (false flag, null; but null is "all" for an option that takes
 * "all", like the pipelines' top_k=None). */
static nlp_status param_text(const nlp_option *o, const char *pname, const cJSON *v,
                             char **out, int *skip, nlp_error *err)
{
    *out = NULL;
    *skip = 0;
    if (cJSON_IsNull(v) && o->metavar && strstr(o->metavar, "|all")) {
        *out = strdup("all");   /* top_k=None: every label, as the pipelines do */
        return *out ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    if (cJSON_IsNull(v) || (o->type == NLP_OPT_FLAG && cJSON_IsFalse(v))) {
        *skip = 1;
        return NLP_OK;
    }
    if (o->type == NLP_OPT_FLAG)
        return cJSON_IsTrue(v) ? NLP_OK
                               : nlp_error_set(err, NLP_ERR_INPUT,
                                               "parameter '%s': expected true or false", pname);
    if (cJSON_IsString(v))
        *out = strdup(v->valuestring);
    else if (cJSON_IsNumber(v)) {
        double x = v->valuedouble;
        if (!isfinite(x))
            return nlp_error_set(err, NLP_ERR_INPUT, "parameter '%s': not a finite number", pname);
        *out = (x == floor(x) && fabs(x) < 1e15) ? nlp_strf("%.0f", x) : nlp_strf("%.17g", x);
    } else if (cJSON_IsArray(v) && o->type == NLP_OPT_STRING)
        return join_list(v, pname, out, err);
    else
        return nlp_error_set(err, NLP_ERR_INPUT, "parameter '%s': expected a %s", pname,
                             o->type == NLP_OPT_STRING ? "string or a list of strings"
                             : o->type == NLP_OPT_CHOICE ? "string"
                                                         : "number");
    return *out ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
}

/* "parameters" into r's options, in the order the task declares them. */
static nlp_status parse_params(const nlp_task_desc *desc, const cJSON *params,
                               nlp_serve_request *r, nlp_error *err)
{
    size_t nopt = 0;
    for (const nlp_option *o = desc->options; o && o->name; o++)
        nopt++;
    const cJSON **given = calloc(nopt + 1, sizeof *given);
    const char **gname = calloc(nopt + 1, sizeof *gname);
    r->opt_names = calloc(nopt + 1, sizeof *r->opt_names);
    r->opt_values = calloc(nopt + 1, sizeof *r->opt_values);
    nlp_status st = NLP_OK;
    if (!given || !gname || !r->opt_names || !r->opt_values) {
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        goto out;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, params) {
        const nlp_option *o = p->string ? find_option(desc, p->string) : NULL;
        if (!o) {
            st = nlp_error_set(err, NLP_ERR_USAGE, "unknown parameter '%.64s' for the task %s",
                               p->string ? p->string : "", desc->name);
            goto out;
        }
        size_t k = (size_t)(o - desc->options);
        if (given[k]) {
            st = nlp_error_set(err, NLP_ERR_USAGE, "parameter '%.64s' given twice", p->string);
            goto out;
        }
        given[k] = p;
        gname[k] = p->string;
    }
    nlp_buf key = {0};
    for (size_t k = 0; k < nopt && st == NLP_OK; k++) {
        int skip;
        char *text;
        if (!given[k])
            continue;
        if ((st = param_text(&desc->options[k], gname[k], given[k], &text, &skip, err)) != NLP_OK ||
            skip)
            continue;
        r->opt_names[r->n_opts] = strdup(desc->options[k].name);
        r->opt_values[r->n_opts] = text;
        if (!r->opt_names[r->n_opts++])
            st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        const char *t = text ? text : "";
        /* name '\x1f' value '\x1e': separators no JSON text carries raw */
        if (!nlp_buf_add(&key, desc->options[k].name, strlen(desc->options[k].name)) ||
            !nlp_buf_add(&key, "\x1f", 1) || !nlp_buf_add(&key, t, strlen(t)) ||
            !nlp_buf_add(&key, "\x1e", 1))
            st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    if (st == NLP_OK && !nlp_buf_add(&key, "", 1))
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    r->key = (char *)key.p;
    if (st != NLP_OK) {
        free(r->key);
        r->key = NULL;
    }
out:
    free(given);
    free(gname);
    return st;
}

/* Field name of object o as a string, or NULL. */
static const char *str_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One input from v into in. */
static nlp_status parse_input(const nlp_task_desc *desc, const cJSON *v, size_t i,
                              nlp_input *in, nlp_error *err)
{
    const char *text = NULL, *pair = NULL;
    if (desc->input == NLP_INPUT_QUESTION_CONTEXT) {
        text = str_field(v, "question");
        pair = str_field(v, "context");
        if (!cJSON_IsObject(v) || !text || !pair)
            return nlp_error_set(err, NLP_ERR_INPUT,
                                 "input %zu: expected an object with string fields "
                                 "\"question\" and \"context\"", i + 1);
    } else if (cJSON_IsString(v)) {
        text = v->valuestring;
    } else if (desc->input == NLP_INPUT_TEXT_PAIR && cJSON_IsObject(v) &&
               (text = str_field(v, "text")) != NULL) {
        pair = str_field(v, "text_pair");
        const cJSON *pv = cJSON_GetObjectItemCaseSensitive(v, "text_pair");
        if (pv && !pair && !cJSON_IsNull(pv))
            return nlp_error_set(err, NLP_ERR_INPUT, "input %zu: \"text_pair\" must be a string",
                                 i + 1);
    } else {
        return nlp_error_set(err, NLP_ERR_INPUT, "input %zu: expected a string%s", i + 1,
                             desc->input == NLP_INPUT_TEXT_PAIR
                                 ? " or an object {\"text\", \"text_pair\"}" : "");
    }
    in->text = strdup(text);
    in->text_len = strlen(text);
    if (pair) {
        in->text_pair = strdup(pair);
        in->text_pair_len = strlen(pair);
    }
    if (!in->text || (pair && !in->text_pair))
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    return NLP_OK;
}

/* "inputs": one input or a list of them. */
static nlp_status parse_inputs(const nlp_task_desc *desc, const cJSON *v, size_t max_inputs,
                               nlp_serve_request *r, nlp_error *err)
{
    size_t n = 1;
    r->single = !cJSON_IsArray(v);
    if (!r->single)
        n = (size_t)cJSON_GetArraySize(v);
    if (max_inputs && n > max_inputs)
        return nlp_error_set(err, NLP_ERR_TOO_LARGE,
                             "%zu inputs in one request; the limit (max_client_batch_size) is %zu",
                             n, max_inputs);
    r->inputs = calloc(n ? n : 1, sizeof *r->inputs);
    if (!r->inputs)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    if (r->single) {
        r->n = 1;
        return parse_input(desc, v, 0, &r->inputs[0], err);
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        nlp_status st = parse_input(desc, e, r->n, &r->inputs[r->n], err);
        r->n++;
        if (st != NLP_OK)
            return st;
    }
    return NLP_OK;
}

nlp_status nlp_serve_request_parse(const nlp_task_desc *desc, const char *body, size_t len,
                                   size_t max_inputs, nlp_serve_request **out, nlp_error *err)
{
    *out = NULL;
    if (!desc || (!body && len))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_serve_request_parse: NULL argument");
    cJSON *root = cJSON_ParseWithLength(body ? body : "", len);
    if (!root)
        return nlp_error_set(err, NLP_ERR_FORMAT, "the request body is not JSON");
    nlp_status st = NLP_OK;
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(root, "inputs");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "parameters");
    nlp_serve_request *r = calloc(1, sizeof *r);
    if (!r) {
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!cJSON_IsObject(root) || !inputs) {
        st = nlp_error_set(err, NLP_ERR_INPUT, "expected a JSON object with \"inputs\"");
        goto out;
    }
    const cJSON *k;
    cJSON_ArrayForEach(k, root)
        if (!k->string || (strcmp(k->string, "inputs") && strcmp(k->string, "parameters") &&
                           strcmp(k->string, "options"))) {
            st = nlp_error_set(err, NLP_ERR_USAGE, "unknown field '%.64s' (expected \"inputs\" "
                               "and \"parameters\")", k->string ? k->string : "");
            goto out;
        }
    if (params && !cJSON_IsObject(params) && !cJSON_IsNull(params)) {
        st = nlp_error_set(err, NLP_ERR_INPUT, "\"parameters\" must be an object");
        goto out;
    }
    if ((st = parse_inputs(desc, inputs, max_inputs, r, err)) == NLP_OK)
        st = parse_params(desc, params, r, err);
out:
    cJSON_Delete(root);
    if (st != NLP_OK)
        nlp_serve_request_free(r);
    else
        *out = r;
    return st;
}

/* A request made by the server itself (TEI and OpenAI routes): n inputs
 * taken over from the caller, and options name=value. */
nlp_serve_request *srv_request_new(nlp_input *inputs, size_t n, int single,
                                   const char *const *names, const char *const *values,
                                   size_t n_opts)
{
    nlp_serve_request *r = calloc(1, sizeof *r);
    nlp_buf key = {0};
    if (!r)
        return NULL;
    r->inputs = inputs;
    r->n = n;
    r->single = single;
    r->opt_names = calloc(n_opts + 1, sizeof *r->opt_names);
    r->opt_values = calloc(n_opts + 1, sizeof *r->opt_values);
    int bad = !r->opt_names || !r->opt_values;
    for (size_t i = 0; i < n_opts && !bad; i++) {
        r->opt_names[i] = dup_str(names[i]);
        r->opt_values[i] = dup_str(values[i]);
        r->n_opts++;
        const char *t = values[i] ? values[i] : "";
        bad = !r->opt_names[i] || (values[i] && !r->opt_values[i]) ||
              !nlp_buf_add(&key, names[i], strlen(names[i])) ||
              !nlp_buf_add(&key, "\x1f", 1) || !nlp_buf_add(&key, t, strlen(t)) ||
              !nlp_buf_add(&key, "\x1e", 1);
    }
    if (bad || !nlp_buf_add(&key, "", 1)) {
        free(key.p);
        nlp_serve_request_free(r);
        return NULL;
    }
    r->key = (char *)key.p;
    return r;
}
