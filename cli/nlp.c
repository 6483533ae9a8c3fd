/*
 * nlp.c - the nlp command: dispatches to a built-in command (tokenize,
 * plugins, ...) or to a task served by a plugin (fill-mask, sentiment, ...).
 *
 *   nlp --help | --version | help [CMD] | CMD [options] [inputs]
 *
 * The plugin registry is opened only when the command is not built in (or
 * for the full --help listing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cli.h"

/* Built-in commands are linked in when their file is part of the build
 * (cli/cmd_NAME.c in Makefile.am); a command whose file is not built yet
 * has a NULL address here and is left out of the table at run time. */
#pragma weak cmd_tokenize
#pragma weak cmd_download
#pragma weak cmd_models
#pragma weak cmd_bench
#pragma weak cmd_quantize
#pragma weak cmd_serve

static const cli_command builtins[] = {
    {"tokenize", "split text into tokens and ids (as Hugging Face tokenizers)", cmd_tokenize},
    {"plugins", "list the task plugins found and where they come from", cmd_plugins},
    {"download", "fetch a model from the Hugging Face Hub into the cache", cmd_download},
    {"models", "list the models in the local cache", cmd_models},
    {"bench", "time the encoder on a random-weight model of a given shape", cmd_bench},
    {"quantize", "write a smaller copy of a checkpoint", cmd_quantize},
    {"train", "pretrain or fine-tune a model on your data", cmd_train},
    {"eval", "score a model on labelled data (accuracy, F1, exact match, perplexity)", cmd_eval},
    {"serve", "serve tasks over HTTP, batching requests from all clients", cmd_serve},
};
#define N_BUILTINS (sizeof builtins / sizeof builtins[0])

static const cli_command *find_builtin(const char *name)
{
    for (size_t i = 0; i < N_BUILTINS; i++)
        if (builtins[i].run && strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

int cli_is_builtin(const char *name)
{
    return find_builtin(name) != NULL;
}

const char *cli_scan_plugin_dir(int argc, char **argv)
{
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--plugin-dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strncmp(argv[i], "--plugin-dir=", 13) == 0)
            dir = argv[i] + 13;
    }
    return dir;
}

static void warn_refused(void *user, const char *line)
{
    (void)user;
    cli_warn(NULL, "refused %s", line);
}

/* Open the registry on the default search path.  Refusals are reported
 * only when verbose (nlp plugins and the task runner report them). */
static nlp_registry *open_registry(const char *plugin_dir, int verbose)
{
    char **dirs = NULL;
    nlp_registry *reg = NULL;
    if (nlp_plugin_search_path(plugin_dir, &dirs, NULL) != NLP_OK)
        return NULL;
    nlp_registry_open((const char *const *)dirs, verbose ? warn_refused : NULL, NULL,
                      &reg, NULL);
    nlp_search_path_free(dirs);
    return reg;
}

static void print_usage(FILE *f)
{
    fprintf(f, "usage: nlp COMMAND [options] [inputs...]\n"
               "       nlp --help | --version | help COMMAND\n");
}

static int print_help(const char *plugin_dir)
{
    nlp_registry *reg = open_registry(plugin_dir, 0);
    size_t shown = 0;
    int w = 12;
    for (size_t i = 0; i < nlp_registry_count(reg); i++) {
        const nlp_plugin *p = nlp_registry_at(reg, i)->plugin;
        for (size_t t = 0; t < p->n_tasks; t++)
            if ((int)strlen(nlp_plugin_task(p, t)->name) > w)
                w = (int)strlen(nlp_plugin_task(p, t)->name);
    }
    print_usage(stdout);
    printf("\nRun BERT-family encoder models (Hugging Face checkpoints) from the command line.\n"
           "\nCommands:\n");
    for (size_t i = 0; i < N_BUILTINS; i++)
        if (builtins[i].run)
            printf("  %-*s %s\n", w, builtins[i].name, builtins[i].summary);
    printf("\nTasks (from plugins):\n");
    for (size_t i = 0; i < nlp_registry_count(reg); i++) {
        const nlp_plugin *p = nlp_registry_at(reg, i)->plugin;
        for (size_t t = 0; t < p->n_tasks; t++) {
            const nlp_task_desc *d = nlp_plugin_task(p, t);
            if (find_builtin(d->name))
                continue;
            printf("  %-*s %s\n", w, d->name, d->summary ? d->summary : "");
            shown++;
        }
    }
    if (!shown)
        printf("  (none found; see 'nlp plugins')\n");
    nlp_registry_free(reg);
    printf("\nOptions:\n"
           "  -h, --help      show this help and exit\n"
           "  -V, --version   show the version and exit\n"
           "\nEvery task takes --model, --json, --batch-size, --threads, --dtype,\n"
           "--plugin-dir, --offline and --quiet; 'nlp TASK --help' lists all of its\n"
           "options.\n"
           "Plugins are searched in --plugin-dir, $NLP_PLUGIN_PATH, then the installed\n"
           "plugin folder (%s), or the build tree when nlp runs uninstalled.\n"
           "Without --model a task runs its built-in model, with no network access;\n"
           "built-in models are searched in $NLP_MODELS_PATH, then the installed model\n"
           "folder (%s), or the source tree's models/ when nlp runs\n"
           "uninstalled ('nlp models' lists them).  --model ID fetches a model from the\n"
           "Hugging Face Hub.\n",
           NLP_PLUGIN_DIR, NLP_MODELS_DIR);
    return CLI_EXIT_OK;
}

/* Run command name with argv[0] = name. */
static int dispatch(const char *name, int argc, char **argv)
{
    const cli_command *c = find_builtin(name);
    if (c)
        return c->run(argc, argv);
    const char *plugin_dir = cli_scan_plugin_dir(argc, argv);
    nlp_registry *reg = open_registry(plugin_dir, 0);
    int known = nlp_registry_find(reg, name, NULL, NULL, NULL) == NLP_OK;
    nlp_registry_free(reg);
    if (known)
        return cmd_task(name, argc, argv);
    /* a refused plugin may be why: say so */
    nlp_registry_free(open_registry(plugin_dir, 1));
    fprintf(stderr, "nlp: unknown command '%s' (see 'nlp --help' and 'nlp plugins')\n", name);
    return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        fprintf(stderr, "nlp: no command given (see 'nlp --help')\n");
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return print_help(cli_scan_plugin_dir(argc, argv));
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("nlp %s\n", PACKAGE_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc < 3)
            return print_help(NULL);
        /* nlp help CMD [--plugin-dir DIR] = nlp CMD --help [--plugin-dir DIR] */
        char **sub = calloc((size_t)argc, sizeof *sub);
        if (!sub) {
            fprintf(stderr, "nlp: out of memory\n");
            return CLI_EXIT_FAIL;
        }
        sub[0] = argv[2];
        sub[1] = "--help";
        for (int i = 3; i < argc; i++)
            sub[i - 1] = argv[i];
        int rc = dispatch(argv[2], argc - 1, sub);
        free(sub);
        return rc;
    }
    if (cmd[0] == '-') {
        fprintf(stderr, "nlp: unknown option '%s' (see 'nlp --help')\n", cmd);
        return CLI_EXIT_USAGE;
    }
    return dispatch(cmd, argc - 1, argv + 1);
}
