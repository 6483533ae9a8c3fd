/*
 * cmd_plugins.c - `nlp plugins`: list every task plugin found on the
 * search path (name, version, tasks, file), and every refused file as a
 * warning on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "cli.h"

static void on_refused(void *user, const char *line)
{
    (void)user;
    cli_warn("plugins", "refused %s", line);
}

static void usage(void)
{
    printf("usage: nlp plugins [--plugin-dir DIR] [--path]\n"
           "List the task plugins found, with their version, tasks and file.\n"
           "\nOptions:\n"
           "  --plugin-dir DIR  search DIR first (default: none)\n"
           "  --path            print the directories searched, in order, and exit\n"
           "  -h, --help        show this help and exit\n"
           "\nSearch order: --plugin-dir, $NLP_PLUGIN_PATH (colon-separated), %s,\n"
           "then the build tree when nlp runs uninstalled.\n",
           NLP_PLUGIN_DIR);
}

/* The table of loaded plugins: name, version, tasks, path. */
static void print_table(const nlp_registry *reg)
{
    size_t n = nlp_registry_count(reg);
    int wn = 4, wv = 7, wt = 5;   /* widths of the name, version and tasks columns */
    for (size_t i = 0; i < n; i++) {
        const nlp_plugin *p = nlp_registry_at(reg, i)->plugin;
        if ((int)strlen(p->name) > wn)
            wn = (int)strlen(p->name);
        if ((int)strlen(p->version) > wv)
            wv = (int)strlen(p->version);
        int tl = 0;
        for (size_t t = 0; t < p->n_tasks; t++)
            tl += (int)strlen(nlp_plugin_task(p, t)->name) + (t ? 1 : 0);
        if (tl > wt)
            wt = tl;
    }
    printf("%-*s  %-*s  %-*s  %s\n", wn, "NAME", wv, "VERSION", wt, "TASKS", "PATH");
    for (size_t i = 0; i < n; i++) {
        const nlp_plugin_info *info = nlp_registry_at(reg, i);
        const nlp_plugin *p = info->plugin;
        printf("%-*s  %-*s  ", wn, p->name, wv, p->version);
        int tl = 0;
        for (size_t t = 0; t < p->n_tasks; t++)
            tl += printf("%s%s", t ? "," : "", nlp_plugin_task(p, t)->name);
        printf("%*s  %s\n", wt - tl, "", info->path);
    }
}

/* A task named like a built-in command can never run: say so. */
static void warn_hidden(const nlp_registry *reg)
{
    for (size_t i = 0; i < nlp_registry_count(reg); i++) {
        const nlp_plugin_info *info = nlp_registry_at(reg, i);
        for (size_t t = 0; t < info->plugin->n_tasks; t++) {
            const char *name = nlp_plugin_task(info->plugin, t)->name;
            if (cli_is_builtin(name))
                cli_warn("plugins", "task '%s' of %s is hidden by the built-in command "
                         "'nlp %s'", name, info->path, name);
        }
    }
}

/* List the plugins found in dirs, or say where none were found. */
static int list_plugins(char **dirs)
{
    nlp_error err = {0};
    nlp_registry *reg = NULL;
    if (nlp_registry_open((const char *const *)dirs, on_refused, NULL, &reg, &err) != NLP_OK)
        return cli_fail("plugins", &err);
    if (nlp_registry_count(reg) == 0) {
        fprintf(stderr, "nlp plugins: no plugins found in:");
        for (size_t i = 0; dirs[i]; i++)
            fprintf(stderr, " %s", dirs[i]);
        fprintf(stderr, "%s\n", dirs[0] ? "" : " (no directory to search)");
    } else {
        print_table(reg);
        warn_hidden(reg);
    }
    nlp_registry_free(reg);
    return CLI_EXIT_OK;
}

int cmd_plugins(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"plugin-dir", required_argument, NULL, 'd'},
        {"path", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *plugin_dir = NULL;
    int only_path = 0;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': plugin_dir = optarg; break;
        case 'p': only_path = 1; break;
        case 'h': usage(); return CLI_EXIT_OK;
        case ':': return cli_usage_error("plugins", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("plugins", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("plugins", "unexpected argument '%s'", argv[optind]);
    nlp_error err = {0};
    char **dirs = NULL;
    if (nlp_plugin_search_path(plugin_dir, &dirs, &err) != NLP_OK)
        return cli_fail("plugins", &err);
    int rc = CLI_EXIT_OK;
    if (only_path)
        for (size_t i = 0; dirs[i]; i++)
            printf("%s\n", dirs[i]);
    else
        rc = list_plugins(dirs);
    nlp_search_path_free(dirs);
    return rc;
}
