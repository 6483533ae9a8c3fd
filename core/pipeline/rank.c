/*
 * rank.c - the outcomes of a ranking task (NLP_TASK_RANKS) as one list,
 * best score first, in the shape of text-embeddings-inference's /rerank:
 * [{"index", "score", ...the result's other fields}].
 */
#include <stdlib.h>
#include <string.h>

#include "nlp/pipeline.h"
#include "util/util.h"

/* A deep copy of v, or NULL when out of memory. */
static nlp_value *value_copy(const nlp_value *v)
{
    char *j = nlp_value_to_json(v, 0);
    nlp_value *c = j ? nlp_value_parse_json(j, strlen(j)) : NULL;
    free(j);
    return c;
}

/* {"index": index, "score": ..., the other fields of r}, or NULL. */
static nlp_value *ranked_item(const nlp_value *r, size_t index)
{
    nlp_value *o = nlp_value_object(), *iv = nlp_value_int_new((int64_t)index);
    if (!o || !iv) {
        nlp_value_free(o);
        nlp_value_free(iv);
        return NULL;
    }
    nlp_value_set(o, "index", iv);
    nlp_value *sc = nlp_value_number_new(nlp_value_number(nlp_value_get(r, "score")));
    if (!sc) {
        nlp_value_free(o);
        return NULL;
    }
    nlp_value_set(o, "score", sc);
    for (size_t k = 0; k < nlp_value_len(r); k++) {
        const char *key = nlp_value_key(r, k);
        if (!key || !strcmp(key, "score") || !strcmp(key, "index"))
            continue;
        nlp_value *c = value_copy(nlp_value_at(r, k));
        if (!c) {
            nlp_value_free(o);
            return NULL;
        }
        nlp_value_set(o, key, c);
    }
    return o;
}

nlp_value *nlp_pipeline_rank(const nlp_pipeline_result *res, size_t n)
{
    double *scores = malloc((n ? n : 1) * sizeof *scores);
    size_t *order = malloc((n ? n : 1) * sizeof *order), m = 0;
    size_t *input = malloc((n ? n : 1) * sizeof *input);
    nlp_value *out = scores && order && input ? nlp_value_array() : NULL;
    for (size_t i = 0; out && i < n; i++)
        if (res[i].value) {
            scores[m] = nlp_value_number(nlp_value_get(res[i].value, "score"));
            input[m++] = i;
        }
    if (out && nlp_rank_order(scores, m, order) != 0) {
        nlp_value_free(out);
        out = NULL;
    }
    for (size_t k = 0; out && k < m; k++) {
        size_t i = input[order[k]];
        nlp_value *item = ranked_item(res[i].value, i);
        if (!item) {
            nlp_value_free(out);
            out = NULL;
            break;
        }
        nlp_value_push(out, item);
    }
    free(scores);
    free(order);
    free(input);
    return out;
}
