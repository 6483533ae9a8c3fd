/*
 * cmd_models.c - `nlp models`: list the built-in models (name,
 * architecture, size, folder), then the models in the Hugging Face cache
 * (one line per snapshot: id, commit, refs, files, size), and
 * `nlp models rm ID...` to delete models from the cache (never a built-in
 * one).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"

static void usage(void)
{
    printf("usage: nlp models [--cache-dir DIR]\n"
           "       nlp models rm [--cache-dir DIR] ID...\n"
           "List the built-in models, which tasks use without --model (name, the\n"
           "architecture in its config.json, size, folder), then the models in the\n"
           "Hugging Face cache, one line per cached revision: id, commit, the refs\n"
           "(branches, tags) pointing at it, files and size.\n"
           "Built-in models are searched in $NLP_MODELS_PATH (colon-separated), then\n"
           "the installed model folder (%s), or the source tree's\n"
           "models/ when nlp runs uninstalled.\n"
           "'rm' deletes models (all their revisions) from the cache; built-in models\n"
           "are not in the cache and are not removed.\n"
           "\nOptions:\n"
           "  --cache-dir DIR   cache folder (default: $HF_HUB_CACHE, $HF_HOME/hub,\n"
           "                    ~/.cache/huggingface/hub)\n"
           "  -h, --help        show this help and exit\n",
           NLP_MODELS_DIR);
}

/* The built-in models' section (*shown of them); 0, or the exit status
 * of a failure. */
static int list_builtin(size_t *shown)
{
    nlp_error err = {0};
    nlp_builtin_model *m = NULL;
    size_t n = 0;
    if (nlp_builtin_list(&m, &n, &err) != NLP_OK)
        return cli_fail("models", &err);
    if (n == 0)
        fprintf(stderr, "nlp models: no built-in models found\n");
    int nw = 4, aw = 4;
    for (size_t i = 0; i < n; i++) {
        if ((int)strlen(m[i].name) > nw)
            nw = (int)strlen(m[i].name);
        if ((int)strlen(m[i].architecture) > aw)
            aw = (int)strlen(m[i].architecture);
    }
    if (n)
        printf("%-*s  %-*s  %10s  %s\n", nw, "NAME", aw, "TASK", "SIZE", "FOLDER");
    for (size_t i = 0; i < n; i++) {
        char size[32];
        cli_format_size(size, sizeof size, m[i].size);
        printf("%-*s  %-*s  %10s  %s\n", nw, m[i].name, aw,
               m[i].architecture[0] ? m[i].architecture : "-", size, m[i].dir);
    }
    nlp_builtin_list_free(m, n);
    *shown = n;
    return 0;
}

static int list_models(const nlp_hub_opts *opts)
{
    size_t builtin = 0;
    int rc = list_builtin(&builtin);
    if (rc)
        return rc;
    nlp_error err = {0};
    nlp_hub_cached_model *m = NULL;
    size_t n = 0;
    char *cache = NULL;
    if (nlp_hub_cache_dir(opts, &cache, &err) != NLP_OK ||
        nlp_hub_cache_list(opts, &m, &n, &err) != NLP_OK) {
        free(cache);
        return cli_fail("models", &err);
    }
    if (n == 0)
        fprintf(stderr, "nlp models: no models in %s\n", cache);
    else if (builtin)
        printf("\n");
    size_t idw = 2;
    for (size_t i = 0; i < n; i++)
        if (strlen(m[i].id) > idw)
            idw = strlen(m[i].id);
    if (n)
        printf("%-*s  %-12s  %-16s  %5s  %10s\n", (int)idw, "ID", "REVISION", "REFS", "FILES", "SIZE");
    for (size_t i = 0; i < n; i++) {
        char size[32];
        if (m[i].n_revisions == 0) {
            cli_format_size(size, sizeof size, m[i].size);
            printf("%-*s  %-12s  %-16s  %5d  %10s\n", (int)idw, m[i].id, "-", "-", 0, size);
        }
        for (size_t j = 0; j < m[i].n_revisions; j++) {
            const nlp_hub_cached_revision *r = &m[i].revisions[j];
            cli_format_size(size, sizeof size, r->size);
            printf("%-*s  %-12.12s  %-16s  %5zu  %10s\n", (int)idw, m[i].id, r->commit,
                   r->refs[0] ? r->refs : "-", r->n_files, size);
        }
    }
    nlp_hub_cache_list_free(m, n);
    free(cache);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* 1 when id names a built-in model (one nlp ships, or one found). */
static int is_builtin(const char *id)
{
    if (nlp_builtin_reserved(id))
        return 1;
    char *dir = NULL;
    int found = !strchr(id, '/') && nlp_builtin_find(id, &dir, NULL) == NLP_OK;
    free(dir);
    return found;
}

static int remove_models(const nlp_hub_opts *opts, int argc, char **argv, int first)
{
    if (first >= argc)
        return cli_usage_error("models", "'rm' needs at least one model id");
    int rc = CLI_EXIT_OK;
    for (int i = first; i < argc; i++) {
        nlp_error err = {0};
        if (is_builtin(argv[i]))
            rc = cli_usage_error("models", "%s is a built-in model, not a cached one: it is "
                                 "not removed", argv[i]);
        else if (nlp_hub_cache_remove(argv[i], opts, &err) != NLP_OK)
            rc = cli_fail("models", &err);
        else
            printf("removed %s\n", argv[i]);
    }
    return rc;
}

int cmd_models(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"cache-dir", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    nlp_hub_opts opts;
    memset(&opts, 0, sizeof opts);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': opts.cache_dir = optarg; break;
        case 'h': usage(); return CLI_EXIT_OK;
        case ':': return cli_usage_error("models", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("models", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc && strcmp(argv[optind], "rm") == 0)
        return remove_models(&opts, argc, argv, optind + 1);
    if (optind < argc)
        return cli_usage_error("models", "unexpected argument '%s'", argv[optind]);
    return list_models(&opts);
}
