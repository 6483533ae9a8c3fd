/*
 * nlp/registry.h - finding, loading and checking task plugins, and the host
 * side of the plugin ABI (the nlp_host_api table and what a host keeps
 * behind nlp_task_args.host_data).  Result values are in nlp/value.h, task
 * option stores in nlp/options.h; most programs want nlp/pipeline.h, which
 * does all of this for them.
 *
 * A registry is built from an ordered list of directories.  Every "*.so"
 * file in them is opened with dlopen(RTLD_NOW | RTLD_LOCAL) and checked:
 * ELF header, the nlp_plugin_entry symbol, ABI version, descriptor size,
 * a well-formed descriptor, and task names not already served by an
 * earlier plugin.  A file that fails any check is refused: it is closed
 * and reported through a callback as one line naming the path and the
 * reason, and the others still load.  The library never prints.
 */
#ifndef NLP_REGISTRY_H
#define NLP_REGISTRY_H

#include <stddef.h>
#include "nlp/export.h"
#include "nlp/status.h"
#include "nlp/plugin.h"
#include "nlp/options.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nlp_registry nlp_registry;

/* Called once per refused file or unusable directory; line is
 * "PATH: reason", without a newline, valid during the call. */
typedef void (*nlp_diag_fn)(void *user, const char *line);

/* One loaded plugin: its descriptor and the file it came from (both owned
 * by the registry). */
typedef struct nlp_plugin_info {
    const nlp_plugin *plugin;
    const char *path;
} nlp_plugin_info;

/* Load the plugins of dirs (NULL-terminated, searched in order; files in
 * one directory in name order; a file already loaded through another path
 * is skipped).  on_refused may be NULL.  On success *out is a new registry
 * (possibly with no plugins) the caller frees with nlp_registry_free().
 * Fails only on allocation failure or bad arguments. */
NLP_API nlp_status nlp_registry_open(const char *const *dirs, nlp_diag_fn on_refused,
                             void *user, nlp_registry **out, nlp_error *err);

/* Unload every plugin and free the registry.  reg may be NULL.  Values
 * and descriptors obtained from it are invalid afterwards. */
NLP_API void nlp_registry_free(nlp_registry *reg);

/* Plugins in load order: count, then 0 <= i < count. */
NLP_API size_t nlp_registry_count(const nlp_registry *reg);
NLP_API const nlp_plugin_info *nlp_registry_at(const nlp_registry *reg, size_t i);

/* The plugin serving task.  On success *info and *task (both owned by the
 * registry) are set; NLP_ERR_NOT_FOUND naming the task otherwise. */
NLP_API nlp_status nlp_registry_find(const nlp_registry *reg, const char *task,
                             const nlp_plugin_info **info,
                             const nlp_task_desc **desc, nlp_error *err);

/* The default search path, in order: plugin_dir (may be NULL), each entry
 * of $NLP_PLUGIN_PATH (colon-separated), then the running binary's own
 * plugins: every tasks/<task>/.libs of the build tree when it runs from the
 * build tree; else the plugin directory of the installation it belongs to
 * (<its prefix>/lib/nlp, so a moved or staged installation finds its own);
 * else the configured $(pkglibdir).  Those directories are listed only when
 * they exist.  On success *out is a new NULL-terminated array freed with
 * nlp_search_path_free(). */
NLP_API nlp_status nlp_plugin_search_path(const char *plugin_dir, char ***out,
                                  nlp_error *err);
NLP_API void nlp_search_path_free(char **dirs);

/* ---- the host side of the ABI ---- */

/* The host table handed to plugins (static; never NULL). */
NLP_API const nlp_host_api *nlp_host_api_get(void);

/* What nlp_task_args.host_data points to: the task's option values (read
 * by host->opt_*), where host->warn(args, ...) sends a warning: warn(
 * warn_user, message), one line without a newline; NULL drops it, and
 * whether the model is the task's default (host->model_is_default).  One
 * per plugin instance, so warnings reach the pipeline that caused them. */
typedef struct nlp_task_host {
    const nlp_optset *options;
    void (*warn)(void *user, const char *msg);
    void *warn_user;
    int default_model;     /* 1: no model was given, the task's default runs */
} nlp_task_host;

#ifdef __cplusplus
}
#endif
#endif /* NLP_REGISTRY_H */
