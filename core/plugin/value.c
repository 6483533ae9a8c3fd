/*
 * value.c - result values (nlp/value.h): a thin layer over cJSON nodes,
 * with a JSON writer that prints numbers as Python's json module does
 * (shortest text that reads back to the same double).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nlp/value.h"
/* An nlp_value is a cJSON node; the cast is confined to this file. */
#define J(v) ((cJSON *)(v))
#define CJ(v) ((const cJSON *)(v))
#define V(j) ((nlp_value *)(j))

/* ------------------------------------------------------------- values */

nlp_value *nlp_value_object(void) { return V(cJSON_CreateObject()); }
nlp_value *nlp_value_array(void) { return V(cJSON_CreateArray()); }
nlp_value *nlp_value_number_new(double x) { return V(cJSON_CreateNumber(x)); }
nlp_value *nlp_value_int_new(int64_t x) { return V(cJSON_CreateNumber((double)x)); }
nlp_value *nlp_value_bool_new(int b) { return V(cJSON_CreateBool(b != 0)); }
nlp_value *nlp_value_null_new(void) { return V(cJSON_CreateNull()); }

nlp_value *nlp_value_string_new(const char *s, size_t len)
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

void nlp_value_set(nlp_value *object, const char *key, nlp_value *v)
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

void nlp_value_push(nlp_value *array, nlp_value *v)
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

