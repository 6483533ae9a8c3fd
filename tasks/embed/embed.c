/*
 * embed.c - the embed task plugin: one sentence vector per text, as
 * sentence-transformers' SentenceTransformer.encode() computes it and
 * Hugging Face's feature-extraction users pool it.  The pooling and
 * normalization follow the model folder (modules.json, 1_Pooling/
 * config.json, a Normalize module, sentence_bert_config.json); a plain
 * checkpoint without those files is mean-pooled and not normalized.
 * --pooling, --normalize and --no-normalize override the folder.  The
 * work is in tasks/common/sentvec.c.  Result: {"embedding": [...]}.
 */
#include <stddef.h>
#include <stdlib.h>

#include "nlp/plugin.h"
#include "task_common.h"

static const nlp_option embed_options[] = {
    NLP_TC_POOLING_OPTION,
    {"normalize", NLP_OPT_FLAG, NULL, NULL,
     "scale each vector to unit length (default: when modules.json lists Normalize)", NULL},
    {"no-normalize", NLP_OPT_FLAG, NULL, NULL,
     "leave the vectors as pooled, even when modules.json lists Normalize", NULL},
    {NULL, 0, NULL, NULL, NULL, NULL}
};

static const nlp_task_desc embed_tasks[] = {
    {sizeof(nlp_task_desc), 0, "embed",
     "sentence embeddings (pooled as the model's sentence-transformers files say; "
     "a plain BERT: mean)",
     "sentence-transformers/all-MiniLM-L6-v2", NLP_INPUT_TEXT, embed_options, "embedding",
     NULL},
};

static nlp_status embed_create(const nlp_host_api *host, const nlp_task_args *args,
                               void **state, nlp_error *err)
{
    nlp_tc_sentvec *sv = calloc(1, sizeof *sv);
    if (!sv)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory");
    nlp_status st = nlp_tc_sentvec_init(sv, host, args, 1, err);
    if (st != NLP_OK) {
        nlp_tc_sentvec_free(sv);
        free(sv);
        return st;
    }
    *state = sv;
    return NLP_OK;
}

/* {"embedding": [...]} of one vector. */
static nlp_value *embedding_value(const nlp_host_api *host, const float *v, size_t dim)
{
    nlp_value *o = host->value_object(), *a = o ? nlp_tc_float_array(host, v, dim) : NULL;
    if (!a) {
        if (o)
            host->value_free(o);
        return NULL;
    }
    host->value_set(o, "embedding", a);
    return o;
}

static nlp_status embed_run(void *state, const nlp_input *inputs, size_t n,
                            nlp_value **results, nlp_error *errs)
{
    nlp_tc_sentvec *sv = state;
    const nlp_host_api *host = sv->host;
    nlp_error fatal = {0};
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    if (nlp_tc_sentvec_run(sv, inputs, n, errs, &fatal) != NLP_OK)
        return nlp_tc_fail_all(host, results, errs, n, &fatal);
    for (size_t i = 0; i < n; i++) {
        if (sv->row_of[i] < 0)
            continue;
        results[i] = embedding_value(host, sv->vecs + (size_t)sv->row_of[i] * sv->dim, sv->dim);
        if (!results[i]) {
            host->error_set(&fatal, NLP_ERR_NOMEM, "out of memory building the result");
            return nlp_tc_fail_all(host, results, errs, n, &fatal);
        }
    }
    return NLP_OK;
}

static void embed_destroy(void *state)
{
    nlp_tc_sentvec_free(state);
    free(state);
}

static const nlp_plugin embed_plugin = {
    NLP_PLUGIN_ABI_VERSION, sizeof(nlp_plugin), "embed", NLP_TC_VERSION,
    embed_tasks, 1, embed_create, embed_run, embed_destroy, NULL,
};

NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void)
{
    return &embed_plugin;
}
