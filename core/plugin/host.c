/*
 * host.c - the host side of the plugin ABI: the nlp_host_api table handed
 * to plugins, result values (nlp_value, a thin layer over cJSON) and the
 * store of task option values behind nlp_task_args.host_data.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "nlp/nlp.h"

/* An nlp_value is a cJSON node; the cast is confined to this file. */
#define J(v) ((cJSON *)(v))
#define CJ(v) ((const cJSON *)(v))
#define V(j) ((nlp_value *)(j))

/* ------------------------------------------------------------- values */

static nlp_value *value_object(void) { return V(cJSON_CreateObject()); }
static nlp_value *value_array(void) { return V(cJSON_CreateArray()); }
static nlp_value *value_number(double x) { return V(cJSON_CreateNumber(x)); }
static nlp_value *value_int(int64_t x) { return V(cJSON_CreateNumber((double)x)); }
static nlp_value *value_bool(int b) { return V(cJSON_CreateBool(b != 0)); }
static nlp_value *value_null(void) { return V(cJSON_CreateNull()); }

static nlp_value *value_string(const char *s, size_t len)
{
    if (!s)
        return V(cJSON_CreateNull());
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    cJSON *j = cJSON_CreateString(copy);
    free(copy);
    return V(j);
}

static void value_set(nlp_value *object, const char *key, nlp_value *v)
{
    if (!v)
        return;
    if (!object || !key || !cJSON_IsObject(J(object))) {
        cJSON_Delete(J(v));
        return;
    }
    if (cJSON_GetObjectItemCaseSensitive(J(object), key))
        cJSON_ReplaceItemInObjectCaseSensitive(J(object), key, J(v));
    else
        cJSON_AddItemToObject(J(object), key, J(v));
}

static void value_push(nlp_value *array, nlp_value *v)
{
    if (!v)
        return;
    if (!array || !cJSON_IsArray(J(array))) {
        cJSON_Delete(J(v));
        return;
    }
    cJSON_AddItemToArray(J(array), J(v));
}

void nlp_value_free(nlp_value *v)
{
    cJSON_Delete(J(v));
}

nlp_value *nlp_value_parse_json(const char *text, size_t len)
{
    return text ? V(cJSON_ParseWithLength(text, len)) : NULL;
}

/* A growing output buffer for the JSON writer. */
typedef struct jbuf {
    char *p;
    size_t n, cap;
    int oom;
} jbuf;

static void jb_put(jbuf *b, const char *s, size_t len)
{
    if (b->oom)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void jb_str(jbuf *b, const char *s)
{
    jb_put(b, s, strlen(s));
}

static void jb_string(jbuf *b, const char *s)
{
    jb_put(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jb_put(b, run, (size_t)(s - run));
        char esc[8];
        switch (c) {
        case '"': jb_str(b, "\\\""); break;
        case '\\': jb_str(b, "\\\\"); break;
        case '\n': jb_str(b, "\\n"); break;
        case '\r': jb_str(b, "\\r"); break;
        case '\t': jb_str(b, "\\t"); break;
        case '\b': jb_str(b, "\\b"); break;
        case '\f': jb_str(b, "\\f"); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            jb_str(b, esc);
        }
        run = s + 1;
    }
    jb_put(b, run, (size_t)(s - run));
    jb_put(b, "\"", 1);
}

/* The shortest text that reads back as the same double (as Python's
 * repr does); integral values without a fraction; NaN and infinities,
 * which JSON lacks, as null. */
static void jb_number(jbuf *b, double x)
{
    char tmp[40];
    if (!isfinite(x)) {
        jb_str(b, "null");
        return;
    }
    if (x == floor(x) && fabs(x) < 9007199254740992.0) {
        snprintf(tmp, sizeof tmp, "%.0f", x);
        jb_str(b, strcmp(tmp, "-0") == 0 ? "0" : tmp);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    jb_str(b, tmp);
}

static void jb_indent(jbuf *b, int pretty, int depth)
{
    if (!pretty)
        return;
    jb_put(b, "\n", 1);
    for (int i = 0; i < depth; i++)
        jb_put(b, "  ", 2);
}

static void jb_value(jbuf *b, const cJSON *j, int pretty, int depth)
{
    if (!j || cJSON_IsNull(j) || cJSON_IsInvalid(j))
        jb_str(b, "null");
    else if (cJSON_IsBool(j))
        jb_str(b, cJSON_IsTrue(j) ? "true" : "false");
    else if (cJSON_IsNumber(j))
        jb_number(b, j->valuedouble);
    else if (cJSON_IsString(j))
        jb_string(b, j->valuestring ? j->valuestring : "");
    else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
        int obj = cJSON_IsObject(j);
        jb_put(b, obj ? "{" : "[", 1);
        for (const cJSON *c = j->child; c; c = c->next) {
            jb_indent(b, pretty, depth + 1);
            if (obj) {
                jb_string(b, c->string ? c->string : "");
                jb_str(b, pretty ? ": " : ":");
            }
            jb_value(b, c, pretty, depth + 1);
            if (c->next)
                jb_put(b, ",", 1);
        }
        if (j->child)
            jb_indent(b, pretty, depth);
        jb_put(b, obj ? "}" : "]", 1);
    } else
        jb_str(b, "null");
}

char *nlp_value_to_json(const nlp_value *v, int pretty)
{
    jbuf b = {0};
    jb_value(&b, CJ(v), pretty, 0);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

nlp_value_kind nlp_value_kind_of(const nlp_value *v)
{
    const cJSON *j = CJ(v);
    if (!j)
        return NLP_VALUE_INVALID;
    if (cJSON_IsNull(j))
        return NLP_VALUE_NULL;
    if (cJSON_IsBool(j))
        return NLP_VALUE_BOOL;
    if (cJSON_IsNumber(j))
        return NLP_VALUE_NUMBER;
    if (cJSON_IsString(j))
        return NLP_VALUE_STRING;
    if (cJSON_IsArray(j))
        return NLP_VALUE_ARRAY;
    if (cJSON_IsObject(j))
        return NLP_VALUE_OBJECT;
    return NLP_VALUE_INVALID;
}

size_t nlp_value_len(const nlp_value *v)
{
    const cJSON *j = CJ(v);
    if (!j || !(cJSON_IsArray(j) || cJSON_IsObject(j)))
        return 0;
    int n = cJSON_GetArraySize(j);
    return n > 0 ? (size_t)n : 0;
}

const nlp_value *nlp_value_at(const nlp_value *v, size_t i)
{
    const cJSON *j = CJ(v);
    if (!j || !(cJSON_IsArray(j) || cJSON_IsObject(j)))
        return NULL;
    const cJSON *c = j->child;
    while (c && i--)
        c = c->next;
    return (const nlp_value *)c;
}

const char *nlp_value_key(const nlp_value *v, size_t i)
{
    if (!cJSON_IsObject(CJ(v)))
        return NULL;
    const cJSON *c = CJ(nlp_value_at(v, i));
    return c ? c->string : NULL;
}

const nlp_value *nlp_value_get(const nlp_value *object, const char *key)
{
    if (!cJSON_IsObject(CJ(object)) || !key)
        return NULL;
    return (const nlp_value *)cJSON_GetObjectItemCaseSensitive(CJ(object), key);
}

double nlp_value_number(const nlp_value *v)
{
    return cJSON_IsNumber(CJ(v)) ? CJ(v)->valuedouble : 0.0;
}

int nlp_value_bool(const nlp_value *v)
{
    return cJSON_IsTrue(CJ(v)) ? 1 : 0;
}

const char *nlp_value_string(const nlp_value *v)
{
    return cJSON_IsString(CJ(v)) ? CJ(v)->valuestring : NULL;
}

/* ------------------------------------------------------------ options */

struct nlp_optset {
    const nlp_option *decl;
    size_t n;
    char **given;   /* [n]; NULL = not given */
};

nlp_status nlp_optset_create(const nlp_option *decl, nlp_optset **out,
                             nlp_error *err)
{
    if (!out)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_optset_create: out is NULL");
    *out = NULL;
    nlp_optset *s = calloc(1, sizeof *s);
    if (!s)
        return nlp_error_set(err, NLP_ERR_NOMEM, "task options: out of memory");
    s->decl = decl;
    while (decl && decl[s->n].name)
        s->n++;
    if (s->n && !(s->given = calloc(s->n, sizeof *s->given))) {
        free(s);
        return nlp_error_set(err, NLP_ERR_NOMEM, "task options: out of memory");
    }
    *out = s;
    return NLP_OK;
}

void nlp_optset_free(nlp_optset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        free(set->given[i]);
    free(set->given);
    free(set);
}

static long optset_index(const nlp_optset *set, const char *name)
{
    for (size_t i = 0; set && name && i < set->n; i++)
        if (strcmp(set->decl[i].name, name) == 0)
            return (long)i;
    return -1;
}

const nlp_option *nlp_optset_find(const nlp_optset *set, const char *name)
{
    long i = optset_index(set, name);
    return i < 0 ? NULL : &set->decl[i];
}

/* 1 when word is one of the '|'-separated choices. */
static int in_choices(const char *choices, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

nlp_status nlp_optset_set(nlp_optset *set, const char *name, const char *value,
                          nlp_error *err)
{
    long i = optset_index(set, name);
    if (i < 0)
        return nlp_error_set(err, NLP_ERR_NOT_FOUND, "unknown option --%s", name ? name : "");
    const nlp_option *o = &set->decl[i];
    if (o->type == NLP_OPT_FLAG)
        value = "1";
    else if (!value)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "option --%s needs a value", o->name);
    char *end = NULL;
    switch (o->type) {
    case NLP_OPT_INT: {
        errno = 0;
        long x = strtol(value, &end, 10);
        (void)x;
        if (!*value || *end || errno == ERANGE)
            return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                                 "option --%s expects an integer, got '%s'", o->name, value);
        break;
    }
    case NLP_OPT_FLOAT: {
        errno = 0;
        double x = strtod(value, &end);
        if (!*value || *end || errno == ERANGE || !isfinite(x))
            return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                                 "option --%s expects a number, got '%s'", o->name, value);
        break;
    }
    case NLP_OPT_CHOICE:
        if (!in_choices(o->choices, value))
            return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                                 "option --%s expects one of %s, got '%s'", o->name,
                                 o->choices, value);
        break;
    default:
        break;
    }
    char *copy = strdup(value);
    if (!copy)
        return nlp_error_set(err, NLP_ERR_NOMEM, "task options: out of memory");
    free(set->given[i]);
    set->given[i] = copy;
    return NLP_OK;
}

const char *nlp_optset_get(const nlp_optset *set, const char *name)
{
    long i = optset_index(set, name);
    if (i < 0)
        return NULL;
    if (set->given[i])
        return set->given[i];
    if (set->decl[i].type == NLP_OPT_FLAG)
        return NULL;
    return set->decl[i].default_value;
}

static const nlp_optset *args_set(const nlp_task_args *args)
{
    return args ? (const nlp_optset *)args->host_data : NULL;
}

static const char *opt_string(const nlp_task_args *args, const char *name)
{
    return nlp_optset_get(args_set(args), name);
}

static long opt_int(const nlp_task_args *args, const char *name, long fallback)
{
    const char *s = opt_string(args, name);
    if (!s)
        return fallback;
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    return (*s && !*end && errno == 0) ? x : fallback;
}

static double opt_float(const nlp_task_args *args, const char *name, double fallback)
{
    const char *s = opt_string(args, name);
    if (!s)
        return fallback;
    char *end;
    double x = strtod(s, &end);
    return (*s && !*end && isfinite(x)) ? x : fallback;
}

static int opt_flag(const nlp_task_args *args, const char *name)
{
    const char *s = opt_string(args, name);
    return s && strcmp(s, "0") != 0 && strcmp(s, "false") != 0;
}

/* ------------------------------------------------------ diagnostics */

static void (*warn_sink)(void *, const char *);
static void *warn_user;

void nlp_host_set_warn_sink(void (*fn)(void *user, const char *msg), void *user)
{
    warn_sink = fn;
    warn_user = user;
}

static void host_warn(const char *fmt, ...)
{
    if (!warn_sink || !fmt)
        return;
    char line[NLP_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    warn_sink(warn_user, line);
}

static nlp_status host_error_set(nlp_error *err, nlp_status status, const char *fmt, ...)
{
    if (!err)
        return status;
    err->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt ? fmt : "", ap);
    va_end(ap);
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return status;
}

static void host_free(void *p)
{
    free(p);
}

/* ------------------------------------------------------------- table */

static const nlp_host_api host_api = {
    .abi_version = NLP_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nlp_host_api),
    .error_set = host_error_set,
    .warn = host_warn,
    .opt_string = opt_string,
    .opt_int = opt_int,
    .opt_float = opt_float,
    .opt_flag = opt_flag,
    .model_config = nlp_model_config,
    .model_tensor = nlp_model_tensor,
    .model_has_tensor = nlp_model_has_tensor,
    .encode = nlp_tokenizer_encode,
    .apply_template = nlp_tokenizer_apply_template,
    .num_special = nlp_tokenizer_num_special,
    .decode = nlp_tokenizer_decode,
    .token_to_id = nlp_tokenizer_token_to_id,
    .id_to_token = nlp_tokenizer_id_to_token,
    .special_id = nlp_tokenizer_special_id,
    .special_token = nlp_tokenizer_special_token,
    .model_max_length = nlp_tokenizer_model_max_length,
    .encoding_free = nlp_encoding_free,
    .free = host_free,
    .encoder_forward = nlp_encoder_forward,
    .pooler_forward = nlp_pooler_forward,
    .mlm_head_forward = nlp_mlm_head_forward,
    .linear = nlp_linear,
    .softmax = nlp_softmax,
    .sigmoid = nlp_sigmoid,
    .value_object = value_object,
    .value_array = value_array,
    .value_string = value_string,
    .value_number = value_number,
    .value_int = value_int,
    .value_bool = value_bool,
    .value_null = value_null,
    .value_set = value_set,
    .value_push = value_push,
    .value_free = nlp_value_free,
};

const nlp_host_api *nlp_host_api_get(void)
{
    return &host_api;
}
