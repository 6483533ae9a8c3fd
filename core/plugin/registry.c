/*
 * registry.c - the plugin loader: scans directories for "*.so" files,
 * opens each with dlopen(RTLD_NOW | RTLD_LOCAL), checks its descriptor and
 * keeps the good ones; refused files are reported through a callback, one
 * line each, and never stop the others.  Also builds the default search
 * path (--plugin-dir, $NLP_PLUGIN_PATH, $(pkglibdir), the build tree; where
 * the binary's own plugins are is core/util/paths.c's answer).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "nlp/registry.h"
#include "util/util.h"

#ifndef NLP_PLUGIN_DIR
#define NLP_PLUGIN_DIR "/usr/local/lib/nlp"
#endif

typedef struct reg_entry {
    nlp_plugin_info info;   /* info.path is owned (real path) */
    void *handle;
} reg_entry;

struct nlp_registry {
    reg_entry *items;
    size_t n, cap;
};

/* ------------------------------------------------------------------ */

static void refuse(nlp_diag_fn fn, void *user, const char *path,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void refuse(nlp_diag_fn fn, void *user, const char *path,
                   const char *fmt, ...)
{
    if (!fn)
        return;
    char line[NLP_ERROR_MAX + PATH_MAX];
    int k = snprintf(line, sizeof line, "%s: ", path);
    if (k < 0 || (size_t)k >= sizeof line)
        k = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++)   /* keep it one line (dlerror may wrap) */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fn(user, line);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* 1 when the file starts with the ELF magic, 0 when not, -1 (errno) when
 * it cannot be read. */
static int is_elf(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char magic[4] = {0};
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    return got == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' &&
           magic[3] == 'F';
}

static const reg_entry *owner_of(const nlp_registry *reg, const char *task,
                                 const nlp_task_desc **desc)
{
    for (size_t i = 0; i < reg->n; i++) {
        const nlp_plugin *p = reg->items[i].info.plugin;
        for (size_t t = 0; t < p->n_tasks; t++)
            if (strcmp(nlp_plugin_task(p, t)->name, task) == 0) {
                if (desc)
                    *desc = nlp_plugin_task(p, t);
                return &reg->items[i];
            }
    }
    return NULL;
}

/* What is wrong with a descriptor of the right ABI and size, or NULL. */
static const char *check_descriptor(const nlp_plugin *p, char *buf, size_t cap)
{
    if (!p->name || !*p->name)
        return "malformed descriptor: no plugin name";
    if (!p->version)
        return "malformed descriptor: no version";
    if (!p->create || !p->run || !p->destroy)
        return "malformed descriptor: create, run and destroy are required";
    if (!p->tasks || p->n_tasks == 0)
        return "malformed descriptor: no tasks";
    if (p->tasks[0].struct_size < sizeof(nlp_task_desc)) {
        snprintf(buf, cap, "malformed descriptor: task descriptors of %u bytes, host expects "
                 "at least %zu", (unsigned)p->tasks[0].struct_size, sizeof(nlp_task_desc));
        return buf;
    }
    for (size_t t = 0; t < p->n_tasks; t++) {
        const nlp_task_desc *d = nlp_plugin_task(p, t);
        if (!d->name || !*d->name || d->name[0] == '-' || strchr(d->name, ' ')) {
            snprintf(buf, cap, "malformed descriptor: task %zu has no usable name", t);
            return buf;
        }
        for (size_t u = 0; u < t; u++)
            if (strcmp(nlp_plugin_task(p, u)->name, d->name) == 0) {
                snprintf(buf, cap, "malformed descriptor: task '%s' listed twice", d->name);
                return buf;
            }
        if ((int)d->input < NLP_INPUT_TEXT || d->input > NLP_INPUT_QUESTION_CONTEXT) {
            snprintf(buf, cap, "malformed descriptor: task '%s' has an unknown input kind %d",
                     d->name, (int)d->input);
            return buf;
        }
        for (const nlp_option *o = d->options; o && o->name; o++) {
            if (!*o->name || (int)o->type < NLP_OPT_FLAG || o->type > NLP_OPT_CHOICE ||
                (o->type == NLP_OPT_CHOICE && (!o->choices || !*o->choices))) {
                snprintf(buf, cap, "malformed descriptor: task '%s' option '%s' is malformed",
                         d->name, o->name);
                return buf;
            }
        }
    }
    return NULL;
}

/* Try one file; on success it is appended to reg.  Returns NLP_ERR_NOMEM
 * only when the registry itself cannot grow; every other problem is a
 * refusal reported through fn. */
static nlp_status load_file(nlp_registry *reg, const char *path,
                            nlp_diag_fn fn, void *user)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        refuse(fn, user, path, "cannot resolve path: %s", strerror(errno));
        return NLP_OK;
    }
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->items[i].info.path, real) == 0)
            return NLP_OK;   /* the same file reached twice */

    struct stat st;
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
        refuse(fn, user, path, "not a regular file");
        return NLP_OK;
    }
    int elf = is_elf(real);
    if (elf < 0) {
        refuse(fn, user, path, "cannot read: %s", strerror(errno));
        return NLP_OK;
    }
    if (elf == 0) {
        refuse(fn, user, path, "not a shared object (no ELF header)");
        return NLP_OK;
    }

    dlerror();
    void *h = dlopen(real, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        refuse(fn, user, path, "cannot load: %s", why ? why : "dlopen failed");
        return NLP_OK;
    }
    dlerror();
    void *sym = dlsym(h, NLP_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        refuse(fn, user, path, "no entry symbol %s", NLP_PLUGIN_ENTRY_SYMBOL);
        dlclose(h);
        return NLP_OK;
    }
    nlp_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);   /* object to function pointer */
    const nlp_plugin *p = entry();
    char buf[256];
    const char *why = NULL;
    if (!p)
        why = "the entry symbol returned no descriptor";
    else if (p->abi_version != NLP_PLUGIN_ABI_VERSION) {
        snprintf(buf, sizeof buf, "ABI version mismatch: plugin has %u, host expects %u%s",
                 (unsigned)p->abi_version, (unsigned)NLP_PLUGIN_ABI_VERSION,
                 p->abi_version < NLP_PLUGIN_ABI_VERSION ? " (rebuild it against this nlp/plugin.h)" : "");
        why = buf;
    } else if (p->struct_size < sizeof(nlp_plugin)) {
        snprintf(buf, sizeof buf,
                 "descriptor size mismatch: plugin has %u bytes, host expects at least %zu",
                 (unsigned)p->struct_size, sizeof(nlp_plugin));
        why = buf;
    } else
        why = check_descriptor(p, buf, sizeof buf);
    if (!why) {
        for (size_t t = 0; t < p->n_tasks && !why; t++) {
            const char *name = nlp_plugin_task(p, t)->name;
            const reg_entry *o = owner_of(reg, name, NULL);
            if (o) {
                snprintf(buf, sizeof buf, "task '%s' is already served by plugin '%s' (%s)",
                         name, o->info.plugin->name, o->info.path);
                why = buf;
            }
        }
    }
    if (why) {
        refuse(fn, user, path, "%s", why);
        dlclose(h);
        return NLP_OK;
    }

    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 8;
        reg_entry *items = realloc(reg->items, cap * sizeof *items);
        if (!items) {
            dlclose(h);
            return NLP_ERR_NOMEM;
        }
        reg->items = items;
        reg->cap = cap;
    }
    char *owned = strdup(real);
    if (!owned) {
        dlclose(h);
        return NLP_ERR_NOMEM;
    }
    reg->items[reg->n].info.plugin = p;
    reg->items[reg->n].info.path = owned;
    reg->items[reg->n].handle = h;
    reg->n++;
    return NLP_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static nlp_status load_dir(nlp_registry *reg, const char *dir,
                           nlp_diag_fn fn, void *user)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOTDIR)
            refuse(fn, user, dir, "not a directory");
        else
            refuse(fn, user, dir, "cannot read directory: %s", strerror(errno));
        return NLP_OK;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    nlp_status st = NLP_OK;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".so"))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(names, cap * sizeof *grown);
            if (!grown) {
                st = NLP_ERR_NOMEM;
                break;
            }
            names = grown;
        }
        if (!(names[n] = strdup(e->d_name))) {
            st = NLP_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (st == NLP_OK && n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (st == NLP_OK) {
            size_t len = strlen(dir) + strlen(names[i]) + 2;
            char *path = malloc(len);
            if (!path)
                st = NLP_ERR_NOMEM;
            else {
                snprintf(path, len, "%s/%s", dir, names[i]);
                st = load_file(reg, path, fn, user);
                free(path);
            }
        }
        free(names[i]);
    }
    free(names);
    return st;
}

nlp_status nlp_registry_open(const char *const *dirs, nlp_diag_fn on_refused,
                             void *user, nlp_registry **out, nlp_error *err)
{
    if (!out)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_registry_open: out is NULL");
    *out = NULL;
    nlp_registry *reg = calloc(1, sizeof *reg);
    if (!reg)
        return nlp_error_set(err, NLP_ERR_NOMEM, "plugin registry: out of memory");
    for (size_t i = 0; dirs && dirs[i]; i++) {
        if (!*dirs[i])
            continue;
        nlp_status st = load_dir(reg, dirs[i], on_refused, user);
        if (st != NLP_OK) {
            nlp_registry_free(reg);
            return nlp_error_set(err, st, "%s: out of memory while loading plugins", dirs[i]);
        }
    }
    *out = reg;
    return NLP_OK;
}

void nlp_registry_free(nlp_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = reg->n; i-- > 0;) {
        dlclose(reg->items[i].handle);
        free((char *)reg->items[i].info.path);
    }
    free(reg->items);
    free(reg);
}

size_t nlp_registry_count(const nlp_registry *reg)
{
    return reg ? reg->n : 0;
}

const nlp_plugin_info *nlp_registry_at(const nlp_registry *reg, size_t i)
{
    return reg && i < reg->n ? &reg->items[i].info : NULL;
}

nlp_status nlp_registry_find(const nlp_registry *reg, const char *task,
                             const nlp_plugin_info **info,
                             const nlp_task_desc **desc, nlp_error *err)
{
    const nlp_task_desc *d = NULL;
    const reg_entry *e = reg && task ? owner_of(reg, task, &d) : NULL;
    if (!e)
        return nlp_error_set(err, NLP_ERR_NOT_FOUND, "no plugin serves the task '%s'",
                             task ? task : "(null)");
    if (info)
        *info = &e->info;
    if (desc)
        *desc = d;
    return NLP_OK;
}

/* ---------------------------------------------------------------- path */

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Add the build tree's plugin folders (tasks/<task>/.libs). */
static void add_build_tree(nlp_strlist *l)
{
    const char *tasks = NLP_BUILD_PLUGIN_DIR;
    DIR *d = opendir(tasks);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **g = realloc(names, cap * sizeof *g);
            if (!g)
                break;
            names = g;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX];
        int k = snprintf(p, sizeof p, "%s/%s/.libs", tasks, names[i]);
        if (k > 0 && (size_t)k < sizeof p && is_dir(p))
            nlp_strlist_add(l, p, strlen(p));
        free(names[i]);
    }
    free(names);
}

nlp_status nlp_plugin_search_path(const char *plugin_dir, char ***out,
                                  nlp_error *err)
{
    if (!out)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_plugin_search_path: out is NULL");
    *out = NULL;
    nlp_strlist l = {0};
    if (plugin_dir)
        nlp_strlist_add(&l, plugin_dir, strlen(plugin_dir));
    nlp_strlist_add_env(&l, "NLP_PLUGIN_PATH");
    /* Then this binary's own plugins: the build tree's when it runs
     * uninstalled, else those of the installation it belongs to, else the
     * configured $(pkglibdir). */
    if (nlp_running_uninstalled()) {
        add_build_tree(&l);
    } else {
        char *own = nlp_installed_dir(NLP_PLUGIN_DIR);
        if (!own)
            l.oom = 1;
        else if (is_dir(own))
            nlp_strlist_add(&l, own, strlen(own));
        free(own);
    }
    return nlp_strlist_finish(&l, out, "plugin search path", err);
}

void nlp_search_path_free(char **dirs)
{
    if (!dirs)
        return;
    for (size_t i = 0; dirs[i]; i++)
        free(dirs[i]);
    free(dirs);
}
