/*
 * pipeline.c - a task on a model (nlp/pipeline.h): finding the plugin,
 * its options, loading the model, tokenizer and context, checking the
 * checkpoint's architecture against the task, starting and stopping the
 * plugin instance.  Running inputs is in run.c, tabular columns in
 * columns.c, corpus mode in corpus_run.c.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline_impl.h"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void pipeline_warn(void *user, const char *msg)
{
    const nlp_pipeline *p = user;
    if (p->o.on_warning)
        p->o.on_warning(p->o.warning_user, msg);
}

/* ------------------------------------------------------ shared model */

struct nlp_shared_model {
    atomic_size_t refs;
    char *dir;
    nlp_model *model;
    nlp_tokenizer *tok;
};

static nlp_shared_model *shared_model_ref(nlp_shared_model *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void nlp_shared_model_free(nlp_shared_model *m)
{
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    nlp_tokenizer_free(m->tok);
    nlp_model_free(m->model);
    free(m->dir);
    free(m);
}

const nlp_model *nlp_shared_model_model(const nlp_shared_model *m)
{
    return m ? m->model : NULL;
}

const nlp_tokenizer *nlp_shared_model_tokenizer(const nlp_shared_model *m)
{
    return m ? m->tok : NULL;
}

const char *nlp_shared_model_dir(const nlp_shared_model *m)
{
    return m ? m->dir : NULL;
}

static nlp_status check_path_like(const char *ref, nlp_error *err);

nlp_status nlp_shared_model_load(const char *ref, const nlp_pipeline_opts *opts,
                                 nlp_shared_model **out, nlp_error *err)
{
    if (!ref || !out)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_shared_model_load: ref or out is NULL");
    *out = NULL;
    nlp_pipeline_opts defaults = NLP_PIPELINE_OPTS_INIT;
    if (!opts)
        opts = &defaults;
    nlp_status st = check_path_like(ref, err);
    if (st != NLP_OK)
        return st;
    nlp_shared_model *m = calloc(1, sizeof *m);
    if (!m)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    atomic_init(&m->refs, 1);
    nlp_hub_opts h;
    memset(&h, 0, sizeof h);
    h.offline = opts->offline;
    h.progress = opts->on_download;
    h.progress_user = opts->download_user;
    if ((st = nlp_hub_resolve(ref, &h, &m->dir, err)) != NLP_OK ||
        (st = nlp_model_load(m->dir, &m->model, err)) != NLP_OK ||
        (st = nlp_tokenizer_load(m->dir, &m->tok, err)) != NLP_OK) {
        nlp_shared_model_free(m);
        return st;
    }
    *out = m;
    return NLP_OK;
}

/* ---------------------------------------------------------- pipeline */

static nlp_status open_registry(nlp_pipeline *p, nlp_error *err)
{
    if (p->o.registry) {
        p->reg = p->o.registry;
        return NLP_OK;
    }
    char **dirs = NULL;
    nlp_status st = nlp_plugin_search_path(p->plugin_dir, &dirs, err);
    if (st == NLP_OK)
        st = nlp_registry_open((const char *const *)dirs, p->o.on_refused, p->o.refused_user,
                               &p->reg, err);
    nlp_search_path_free(dirs);
    p->own_reg = st == NLP_OK;
    return st;
}

nlp_status nlp_pipeline_open(const char *task, const nlp_pipeline_opts *opts,
                             nlp_pipeline **out, nlp_error *err)
{
    if (!task || !out)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_pipeline_open: task or out is NULL");
    *out = NULL;
    nlp_pipeline_opts defaults = NLP_PIPELINE_OPTS_INIT;
    if (!opts)
        opts = &defaults;
    if (opts->struct_size < sizeof(nlp_pipeline_opts))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_pipeline_open: opts of %zu bytes (start from NLP_PIPELINE_OPTS_INIT)",
                             opts->struct_size);
    nlp_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    p->o = *opts;
    if (p->o.batch_size == 0)
        p->o.batch_size = PL_DEFAULT_BATCH;
    p->task = strdup(task);
    p->model_ref = dup_or_null(opts->model);
    p->plugin_dir = dup_or_null(opts->plugin_dir);
    nlp_status st = NLP_ERR_NOMEM;
    if (!p->task || (opts->model && !p->model_ref) || (opts->plugin_dir && !p->plugin_dir)) {
        nlp_error_set(err, st, "out of memory");
        goto fail;
    }
    if ((st = open_registry(p, err)) != NLP_OK ||
        (st = nlp_registry_find(p->reg, task, &p->info, &p->desc, err)) != NLP_OK ||
        (st = nlp_optset_create(p->desc->options, &p->opts, err)) != NLP_OK)
        goto fail;
    if (!p->model_ref && p->desc->default_model && !(p->model_ref = strdup(p->desc->default_model))) {
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (opts->shared_model) {
        p->shared = shared_model_ref(opts->shared_model);
        p->borrowed = 1;
    }
    p->host = (nlp_task_host){p->opts, pipeline_warn, p, !opts->model && !opts->shared_model};
    p->args = (nlp_task_args){.task = p->desc->name, .batch_size = p->o.batch_size,
                              .host_data = &p->host};
    p->cols_stale = 1;
    *out = p;
    return NLP_OK;
fail:
    nlp_pipeline_free(p);
    return st;
}

/* ------------------------------------------------------------ options */

nlp_status nlp_pipeline_set(nlp_pipeline *p, const char *name, const char *value,
                            nlp_error *err)
{
    if (!p || !name)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_pipeline_set: p or name is NULL");
    if (p->loaded)
        return nlp_error_set(err, NLP_ERR_USAGE, "option '%s' set after the pipeline started",
                             name);
    nlp_status st = nlp_optset_set(p->opts, name, value, err);
    if (st == NLP_ERR_NOT_FOUND || st == NLP_ERR_INVALID_ARG)
        st = err ? (err->status = NLP_ERR_USAGE) : NLP_ERR_USAGE;
    p->cols_stale = 1;
    return st;
}

nlp_status nlp_pipeline_set_int(nlp_pipeline *p, const char *name, long value, nlp_error *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", value);
    return nlp_pipeline_set(p, name, buf, err);
}

nlp_status nlp_pipeline_set_float(nlp_pipeline *p, const char *name, double value,
                                  nlp_error *err)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", value);
    return nlp_pipeline_set(p, name, buf, err);
}

nlp_status nlp_pipeline_set_flag(nlp_pipeline *p, const char *name, int on, nlp_error *err)
{
    return nlp_pipeline_set(p, name, on ? NULL : "0", err);
}

/* --------------------------------------------------------------- load */

static int ends_with(const char *s, const char *suffix, size_t n)
{
    size_t len = strlen(s);
    return len >= n && strncmp(s + len - n, suffix, n) == 0;
}

/* Does one of cfg's architectures end with one of the task's endings? */
static int architecture_fits(const nlp_config *cfg, const char *endings)
{
    if (!endings || cfg->n_architectures == 0)
        return 1;
    for (int i = 0; i < cfg->n_architectures; i++)
        for (const char *e = endings; *e;) {
            const char *comma = strchr(e, ',');
            size_t n = comma ? (size_t)(comma - e) : strlen(e);
            if (n && ends_with(cfg->architectures[i], e, n))
                return 1;
            e = comma ? comma + 1 : e + n;
        }
    return 0;
}

static nlp_status check_architecture(const nlp_pipeline *p, nlp_error *err)
{
    const nlp_config *cfg = nlp_model_config(p->model);
    if (p->o.any_architecture || architecture_fits(cfg, p->desc->architectures))
        return NLP_OK;
    const char *want = p->desc->architectures;
    const char *comma = strchr(want, ',');
    return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                         "%s: the checkpoint is a %s, but %s needs a model with a *%.*s head "
                         "(config.json \"architectures\"; --any-architecture runs it anyway)",
                         p->model_dir, cfg->architectures[0], p->desc->name,
                         (int)(comma ? (size_t)(comma - want) : strlen(want)), want);
}

/* A --model value that looks like a path and names no directory. */
static nlp_status check_path_like(const char *ref, nlp_error *err)
{
    struct stat st;
    if (stat(ref, &st) == 0)
        return NLP_OK;
    int pathy = ref[0] == '.' || ref[0] == '/';
    const char *slash = strchr(ref, '/');
    if (!pathy && slash && slash != ref) {
        char first[4096];
        size_t n = (size_t)(slash - ref);
        if (n < sizeof first) {
            memcpy(first, ref, n);
            first[n] = '\0';
            pathy = stat(first, &st) == 0 && S_ISDIR(st.st_mode);
        }
    }
    if (pathy)
        return nlp_error_set(err, NLP_ERR_NOT_FOUND, "%s: no such directory", ref);
    return NLP_OK;
}

/* Drop the context, and the model and tokenizer unless borrowed (what a
 * failed load left). */
static void unload_model(nlp_pipeline *p)
{
    if (p->ctx)
        nlp_ctx_free(p->ctx);
    p->ctx = NULL;
    if (!p->borrowed) {
        nlp_shared_model_free(p->shared);
        p->shared = NULL;
    }
    p->tok = NULL;
    p->model = NULL;
    p->model_dir = NULL;
}

/* The model and tokenizer (borrowed, or loaded once) and the context: a
 * later call after the plugin refused to start reuses them. */
static nlp_status load_model(nlp_pipeline *p, nlp_error *err)
{
    if (p->ctx)
        return NLP_OK;
    unload_model(p);
    nlp_status st;
    if (!p->shared) {
        if (!p->model_ref)
            return nlp_error_set(err, NLP_ERR_USAGE,
                                 "no default model for this task: give --model");
        if ((st = nlp_shared_model_load(p->model_ref, &p->o, &p->shared, err)) != NLP_OK)
            return st;
    }
    p->model = p->shared->model;
    p->tok = p->shared->tok;
    p->model_dir = p->shared->dir;
    nlp_weight_type wt = p->o.dtype >= 0 ? (nlp_weight_type)p->o.dtype
                                         : nlp_model_default_weight_type(p->model);
    if ((st = nlp_ctx_create_dtype(p->model, p->o.threads, wt, &p->ctx, err)) != NLP_OK)
        return st;
    p->limit = nlp_model_max_tokens(p->model);
    size_t mml = nlp_tokenizer_model_max_length(p->tok);
    if (mml > 0 && mml < p->limit)
        p->limit = mml;
    return NLP_OK;
}

nlp_status nlp_pipeline_load(nlp_pipeline *p, nlp_error *err)
{
    if (!p)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_pipeline_load: p is NULL");
    if (p->loaded)
        return NLP_OK;
    nlp_status st = load_model(p, err);
    if (st != NLP_OK)
        return st;
    p->args.model = p->model;
    p->args.tokenizer = p->tok;
    p->args.ctx = p->ctx;
    nlp_error_clear(err);
    st = p->info->plugin->create(nlp_host_api_get(), &p->args, &p->state, err);
    if (st != NLP_OK) {
        if (st == NLP_ERR_INVALID_ARG && err && err->msg[0])
            err->status = st = NLP_ERR_USAGE;   /* an option value the plugin refused */
        else if (err && !err->msg[0])
            nlp_error_set(err, NLP_ERR_PLUGIN, "the plugin '%s' could not start",
                          p->info->plugin->name);
        return st;
    }
    if ((st = check_architecture(p, err)) != NLP_OK) {
        p->info->plugin->destroy(p->state);
        p->state = NULL;
        return st;
    }
    p->loaded = 1;
    return NLP_OK;
}

/* ---------------------------------------------------------- accessors */

const nlp_task_desc *nlp_pipeline_task(const nlp_pipeline *p)
{
    return p ? p->desc : NULL;
}

const nlp_plugin_info *nlp_pipeline_plugin(const nlp_pipeline *p)
{
    return p ? p->info : NULL;
}

const char *nlp_pipeline_model_dir(const nlp_pipeline *p)
{
    return p ? p->model_dir : NULL;
}

nlp_shared_model *nlp_pipeline_shared_model(const nlp_pipeline *p)
{
    return p && p->model ? p->shared : NULL;
}

void nlp_pipeline_free(nlp_pipeline *p)
{
    if (!p)
        return;
    if (p->loaded)
        p->info->plugin->destroy(p->state);
    unload_model(p);
    if (p->borrowed)
        nlp_shared_model_free(p->shared);
    nlp_encoding_free(&p->enc);
    free(p->vectors);
    free(p->prep);
    free(p->order);
    free(p->res);
    free(p->errs);
    free(p->bin);
    free(p->bres);
    free(p->berrs);
    nlp_optset_free(p->opts);
    if (p->own_reg)
        nlp_registry_free(p->reg);
    free(p->model_ref);
    free(p->plugin_dir);
    free(p->task);
    free(p);
}
