/*
 * tp_bad.c - test plugins the loader must refuse, one per build:
 *   -DTP_ABI      built for another ABI version
 *   -DTP_SIZE     a descriptor smaller than the host's
 *   -DTP_NOSYM    no nlp_plugin_entry symbol at all
 *   -DTP_DUP      a good plugin claiming the task "echo" of tp_good
 *   -DTP_UNDEF    needs a symbol nothing provides (dlopen must fail)
 *   -DTP_NOTASKS  a descriptor serving no task
 *   -DTP_SHADOW   a good plugin whose task is named like the built-in
 *                 command "bench" (loaded, but the command wins)
 */
#include <stddef.h>

#include "nlp/plugin.h"

static nlp_status bad_create(const nlp_host_api *host, const nlp_task_args *args,
                             void **state, nlp_error *err)
{
    *state = NULL;
    return NLP_OK;
}

static nlp_status bad_run(void *state, const nlp_input *inputs, size_t n,
                          nlp_value **results, nlp_error *errs)
{
    return NLP_ERR_INTERNAL;
}

static void bad_destroy(void *state)
{
}

static const nlp_task_desc tasks[] = {
#if defined(TP_DUP)
    {sizeof(nlp_task_desc), 0, "echo", "a second echo", NULL, NLP_INPUT_TEXT, NULL, NULL, NULL},
#elif defined(TP_SHADOW)
    {sizeof(nlp_task_desc), 0, "bench", "a task named like a built-in command", NULL,
     NLP_INPUT_TEXT, NULL, NULL, NULL},
#else
    {sizeof(nlp_task_desc), 0, "bad-task", "never served", NULL, NLP_INPUT_TEXT, NULL, NULL,
     NULL},
#endif
};

#ifdef TP_UNDEF
extern int nlp_no_such_symbol(void);
int tp_force_reference(void);
int tp_force_reference(void)
{
    return nlp_no_such_symbol();
}
#endif

static const nlp_plugin plugin = {
#ifdef TP_ABI
    NLP_PLUGIN_ABI_VERSION + 98,
#else
    NLP_PLUGIN_ABI_VERSION,
#endif
#ifdef TP_SIZE
    (uint32_t)offsetof(nlp_plugin, create),
#else
    sizeof(nlp_plugin),
#endif
#ifdef TP_NOTASKS
    "bad", "0.0.1", tasks, 0, bad_create, bad_run, bad_destroy,
#else
    "bad", "0.0.1", tasks, 1, bad_create, bad_run, bad_destroy,
#endif
};

#ifdef TP_NOSYM
NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry_v0(void);
NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry_v0(void)
#else
NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void);
NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void)
#endif
{
    return &plugin;
}
