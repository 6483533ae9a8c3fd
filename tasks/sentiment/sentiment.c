/*
 * sentiment.c - the sentiment task plugin: text classification with a
 * sequence-classification checkpoint (BERT or DistilBERT), as Hugging
 * Face's "sentiment-analysis" / "text-classification" pipeline.  The work
 * is done by the shared text classifier (tasks/common/textcls.c); labels
 * come from config.json id2label.
 */
#include <stddef.h>

#include "nlp/plugin.h"
#include "task_common.h"

static const nlp_option sentiment_options[] = {
    NLP_TC_TEXTCLS_OPTIONS(""),
    {NULL, 0, NULL, NULL, NULL, NULL}
};

static const nlp_task_desc sentiment_tasks[] = {
    {sizeof(nlp_task_desc), 0, "sentiment",
     "classify the sentiment of texts (text classification)",
     "nlp-mini-sst2", NLP_INPUT_TEXT_PAIR,
     sentiment_options, "label,score", "ForSequenceClassification"},
};

static nlp_status sentiment_create(const nlp_host_api *host, const nlp_task_args *args,
                                   void **state, nlp_error *err)
{
    nlp_tc_textcls *c = NULL;
    nlp_status st = nlp_tc_textcls_create(host, args, &c, err);
    if (st == NLP_OK)
        *state = c;
    return st;
}

static nlp_status sentiment_run(void *state, const nlp_input *inputs, size_t n,
                                nlp_value **results, nlp_error *errs)
{
    return nlp_tc_textcls_run(state, inputs, n, results, errs);
}

static void sentiment_destroy(void *state)
{
    nlp_tc_textcls_destroy(state);
}

static const nlp_plugin sentiment_plugin = {
    NLP_PLUGIN_ABI_VERSION, sizeof(nlp_plugin), "sentiment", NLP_TC_VERSION,
    sentiment_tasks, 1, sentiment_create, sentiment_run, sentiment_destroy,
    nlp_tc_textcls_columns,
};

NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void)
{
    return &sentiment_plugin;
}
