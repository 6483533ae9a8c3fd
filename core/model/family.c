/*
 * family.c - the registry of model families (family.h): look-ups by
 * model_type and class name, tensor names from a family's table, and the
 * test for encoder-layer weights that quantisation uses.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "family.h"

static const nlp_family_ops *const families[] = {
    &nlp_family_bert, &nlp_family_distilbert, &nlp_family_roberta, &nlp_family_electra,
    &nlp_family_mpnet,
};
#define N_FAMILIES (sizeof families / sizeof families[0])

const nlp_family_ops *nlp_family_by_type(const char *model_type)
{
    for (size_t i = 0; model_type && i < N_FAMILIES; i++)
        for (const char *const *t = families[i]->model_types; *t; t++)
            if (strcmp(*t, model_type) == 0)
                return families[i];
    return NULL;
}

const nlp_family_ops *nlp_family_of(nlp_family family)
{
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (families[i]->family == family)
            return families[i];
    return &nlp_family_bert;
}

const nlp_family_ops *nlp_family_by_arch(const char *arch)
{
    /* the longest matching class-name start wins ("DistilBert" over "Bert"
     * would not arise, but "XLMRoberta" and "Roberta" both could) */
    const nlp_family_ops *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; arch && i < N_FAMILIES; i++)
        for (const char *const *p = families[i]->arch_prefixes; *p; p++) {
            size_t n = strlen(*p);
            if (n > best_len && strncmp(arch, *p, n) == 0 && isupper((unsigned char)arch[n])) {
                best = families[i];
                best_len = n;
            }
        }
    return best;
}

const char *nlp_family_list(char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_FAMILIES; i++)
        for (const char *const *t = families[i]->model_types; *t && k < cap; t++)
            k += (size_t)snprintf(buf + k, cap - k, "%s%s", k ? ", " : "", *t);
    return buf;
}

const char *nlp_family_tensor_name(const nlp_family_ops *ops, nlp_tensor_role role,
                                   int layer, const char *suffix, char *buf, size_t cap)
{
    const char *fmt = (unsigned)role < NLP_TR_COUNT ? ops->names[role] : NULL;
    if (!fmt)
        return NULL;
    const char *d = strstr(fmt, "%d");
    int n = d ? snprintf(buf, cap, "%.*s%d%s%s", (int)(d - fmt), fmt, layer, d + 2, suffix)
              : snprintf(buf, cap, "%s%s", fmt, suffix);
    return n >= 0 && (size_t)n < cap ? buf : NULL;
}

/* name matches fmt ("...%d...") followed by ".weight", fmt with or without
 * its leading prefix. */
static int matches_layer(const char *name, const char *fmt, const char *prefix)
{
    const char *d = strstr(fmt, "%d");
    if (!d)
        return 0;
    size_t pl = strlen(prefix);
    for (int strip = 0; strip < 2; strip++) {
        const char *f = fmt;
        if (strip) {
            if (strncmp(fmt, prefix, pl) != 0)
                return 0;
            f += pl;
        }
        size_t head = (size_t)(d - f);
        const char *p = name;
        if (strncmp(p, f, head) != 0)
            continue;
        p += head;
        if (!isdigit((unsigned char)*p))
            continue;
        while (isdigit((unsigned char)*p))
            p++;
        size_t tail = strlen(d + 2);
        if (strncmp(p, d + 2, tail) == 0 && strcmp(p + tail, ".weight") == 0)
            return 1;
    }
    return 0;
}

int nlp_family_is_layer_weight(const char *name)
{
    static const nlp_tensor_role dense[] = {
        NLP_TR_Q, NLP_TR_K, NLP_TR_V, NLP_TR_O, NLP_TR_FF1, NLP_TR_FF2,
    };
    for (size_t i = 0; i < N_FAMILIES; i++)
        for (size_t r = 0; r < sizeof dense / sizeof dense[0]; r++)
            if (matches_layer(name, families[i]->names[dense[r]], families[i]->prefix))
                return 1;
    return 0;
}

int nlp_family_is_word_embeddings(const char *name)
{
    char full[256];
    for (size_t i = 0; i < N_FAMILIES; i++) {
        const nlp_family_ops *f = families[i];
        if (!nlp_family_tensor_name(f, NLP_TR_WORD_EMB, 0, ".weight", full, sizeof full))
            continue;
        size_t pl = strlen(f->prefix);
        if (strcmp(name, full) == 0 || strcmp(name, full + pl) == 0)
            return 1;
    }
    return 0;
}
