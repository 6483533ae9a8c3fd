/*
 * nlp/registry.h - finding, loading and checking task plugins, and the host
 * side of the plugin ABI (the nlp_host_api table, result values, task
 * option values).
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
#include "nlp/status.h"
#include "nlp/plugin.h"

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
nlp_status nlp_registry_open(const char *const *dirs, nlp_diag_fn on_refused,
                             void *user, nlp_registry **out, nlp_error *err);

/* Unload every plugin and free the registry.  reg may be NULL.  Values
 * and descriptors obtained from it are invalid afterwards. */
void nlp_registry_free(nlp_registry *reg);

/* Plugins in load order: count, then 0 <= i < count. */
size_t nlp_registry_count(const nlp_registry *reg);
const nlp_plugin_info *nlp_registry_at(const nlp_registry *reg, size_t i);

/* The plugin serving task.  On success *info and *task (both owned by the
 * registry) are set; NLP_ERR_NOT_FOUND naming the task otherwise. */
nlp_status nlp_registry_find(const nlp_registry *reg, const char *task,
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
nlp_status nlp_plugin_search_path(const char *plugin_dir, char ***out,
                                  nlp_error *err);
void nlp_search_path_free(char **dirs);

/* ---- the host side of the ABI ---- */

/* The host table handed to plugins (static; never NULL). */
const nlp_host_api *nlp_host_api_get(void);

/* Where host->warn() messages go: fn(user, message) with a message of one
 * line and no newline.  Without a sink (the default) they are dropped. */
void nlp_host_set_warn_sink(void (*fn)(void *user, const char *msg), void *user);

/* Result values (the tree plugins build with host->value_*). */
nlp_value *nlp_value_parse_json(const char *text, size_t len);
/* Compact (pretty = 0) or indented JSON text; a new string (free()), or
 * NULL when out of memory. */
char *nlp_value_to_json(const nlp_value *v, int pretty);
void nlp_value_free(nlp_value *v);

typedef enum nlp_value_kind {
    NLP_VALUE_NULL = 0,
    NLP_VALUE_BOOL = 1,
    NLP_VALUE_NUMBER = 2,
    NLP_VALUE_STRING = 3,
    NLP_VALUE_ARRAY = 4,
    NLP_VALUE_OBJECT = 5,
    NLP_VALUE_INVALID = 6
} nlp_value_kind;

/* Reading a value tree (for renderers).  Children are owned by their
 * parent.  For objects, nlp_value_key() gives the key of child i. */
nlp_value_kind nlp_value_kind_of(const nlp_value *v);
size_t nlp_value_len(const nlp_value *v);         /* array/object children */
const nlp_value *nlp_value_at(const nlp_value *v, size_t i);
const char *nlp_value_key(const nlp_value *v, size_t i);
const nlp_value *nlp_value_get(const nlp_value *object, const char *key);
double nlp_value_number(const nlp_value *v);      /* 0 unless a number */
int nlp_value_bool(const nlp_value *v);
const char *nlp_value_string(const nlp_value *v); /* NULL unless a string */

/* Task option values: the host's store behind nlp_task_args.host_data,
 * read by plugins through host->opt_string / opt_int / opt_float /
 * opt_flag. */
typedef struct nlp_optset nlp_optset;

/* A store for the options decl declares (terminated by name == NULL; the
 * array must outlive the store).  *out is freed with nlp_optset_free(). */
nlp_status nlp_optset_create(const nlp_option *decl, nlp_optset **out,
                             nlp_error *err);
void nlp_optset_free(nlp_optset *set);

/* The declaration of option name, or NULL when decl has none. */
const nlp_option *nlp_optset_find(const nlp_optset *set, const char *name);

/* Set option name from its command-line text (NULL for a flag), checking
 * it against its type: an integer, a finite number, one of the choices.
 * NLP_ERR_NOT_FOUND for an undeclared option, NLP_ERR_INVALID_ARG naming
 * the option and the bad value otherwise.  The text is copied. */
nlp_status nlp_optset_set(nlp_optset *set, const char *name, const char *value,
                          nlp_error *err);

/* The value given, else the declared default, else NULL; flags give "1"
 * when set. */
const char *nlp_optset_get(const nlp_optset *set, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* NLP_REGISTRY_H */
