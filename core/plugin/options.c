/*
 * options.c - task option stores (nlp/options.h): the values of a task's
 * declared options, checked against their types when set.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/options.h"
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
    if (o->type == NLP_OPT_FLAG) {   /* NULL or a truth value: on or off */
        int on = !value || !strcmp(value, "1") || !strcmp(value, "true");
        if (!on && strcmp(value, "0") != 0 && strcmp(value, "false") != 0)
            return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                                 "option --%s is on or off (1, true, 0, false), got '%s'",
                                 o->name, value);
        value = on ? "1" : "0";
    } else if (!value)
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

