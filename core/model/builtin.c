/*
 * builtin.c - the built-in models (nlp/builtin.h): the folders searched
 * ($NLP_MODELS_PATH, then the binary's own models), finding one model by
 * name, listing them all with their architecture and size.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "nlp/builtin.h"
#include "nlp/registry.h"
#include "util/util.h"

#ifndef NLP_MODELS_DIR
#define NLP_MODELS_DIR "/usr/local/share/nlp/models"
#endif

/* The models nlp ships (models/ in the source tree). */
static const char *const shipped[] = {
    "nlp-mini", "nlp-mini-sst2", "nlp-mini-ner", "nlp-mini-squad", "nlp-mini-nli", NULL,
};

int nlp_builtin_reserved(const char *name)
{
    for (size_t i = 0; name && shipped[i]; i++)
        if (strcmp(name, shipped[i]) == 0)
            return 1;
    return 0;
}

nlp_status nlp_builtin_search_path(char ***dirs, nlp_error *err)
{
    if (!dirs)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_builtin_search_path: dirs is NULL");
    *dirs = NULL;
    nlp_strlist l = {0};
    nlp_strlist_add_env(&l, "NLP_MODELS_PATH");
#ifdef NLP_SRC_MODELS_DIR
    if (nlp_running_uninstalled())
        nlp_strlist_add(&l, NLP_SRC_MODELS_DIR, strlen(NLP_SRC_MODELS_DIR));
    else
#endif
    {
        char *own = nlp_installed_dir(NLP_MODELS_DIR);
        if (!own)
            l.oom = 1;
        else
            nlp_strlist_add(&l, own, strlen(own));
        free(own);
    }
    return nlp_strlist_finish(&l, dirs, "built-in model search path", err);
}

/* dir/name when dir/name/config.json exists, else NULL (also when out of
 * memory: *oom is then set). */
static char *model_in(const char *dir, const char *name, int *oom)
{
    char *path = nlp_strf("%s/%s", dir, name);
    char *cfg = path ? nlp_path_join(path, "config.json") : NULL;
    if (!cfg) {
        *oom = 1;
        free(path);
        return NULL;
    }
    int found = nlp_file_exists(cfg);
    free(cfg);
    if (!found) {
        free(path);
        return NULL;
    }
    return path;
}

/* "a, b, c" of the folders searched, into a fixed buffer (cut with "..."). */
static void join_dirs(char *const *dirs, char *out, size_t size)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; dirs[i] && k < size; i++) {
        int m = snprintf(out + k, size - k, "%s%s", i ? ", " : "", dirs[i]);
        if (m < 0 || (size_t)m >= size - k) {
            if (size > 4)
                memcpy(out + size - 4, "...", 4);
            return;
        }
        k += (size_t)m;
    }
    if (!dirs[0])
        snprintf(out, size, "no folder");
}

static int valid_name(const char *name)
{
    return name && *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           !strchr(name, '/') && !strchr(name, '@');
}

nlp_status nlp_builtin_find(const char *name, char **dir, nlp_error *err)
{
    if (!dir)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_builtin_find: dir is NULL");
    *dir = NULL;
    if (!valid_name(name))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "'%s' is not a built-in model name (a folder name: no '/' or '@')",
                             name ? name : "(null)");
    char **dirs = NULL;
    nlp_status st = nlp_builtin_search_path(&dirs, err);
    if (st != NLP_OK)
        return st;
    int oom = 0;
    for (size_t i = 0; dirs[i] && !*dir && !oom; i++)
        *dir = model_in(dirs[i], name, &oom);
    if (oom)
        st = nlp_error_set(err, NLP_ERR_NOMEM, "built-in model %s: out of memory", name);
    else if (!*dir) {
        char searched[NLP_ERROR_MAX];
        join_dirs(dirs, searched, sizeof searched);
        st = nlp_error_set(err, NLP_ERR_NOT_FOUND,
                           "built-in model %s not found (searched: %s); give --model ID or DIR",
                           name, searched);
    }
    nlp_search_path_free(dirs);
    return st;
}

/* config.json "architectures"[0] of the model folder dir, or "". */
static char *architecture_of(const char *dir)
{
    char *path = nlp_path_join(dir, "config.json"), *text = NULL;
    if (!path || nlp_read_file(path, &text, NULL, NULL) != NLP_OK) {
        free(path);
        return strdup("");
    }
    free(path);
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "architectures"), 0);
    char *arch = strdup(cJSON_IsString(a) ? a->valuestring : "");
    cJSON_Delete(root);
    return arch;
}

/* Bytes of the regular files (links followed) directly in dir. */
static uint64_t folder_size(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    uint64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *p = nlp_path_join(dir, e->d_name);
        struct stat st;
        if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_size;
        free(p);
    }
    closedir(d);
    return total;
}

typedef struct model_list {
    nlp_builtin_model *v;
    size_t n, cap;
} model_list;

static int listed(const model_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return 1;
    return 0;
}

/* Append the model name of folder dir (a new string, taken over). */
static nlp_status list_add(model_list *l, const char *name, char *dir)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        nlp_builtin_model *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(dir);
            return NLP_ERR_NOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    nlp_builtin_model *m = &l->v[l->n++];
    *m = (nlp_builtin_model){strdup(name), dir, architecture_of(dir), folder_size(dir)};
    return m->name && m->architecture ? NLP_OK : NLP_ERR_NOMEM;
}

/* Add the models of one searched folder not listed yet. */
static nlp_status list_folder(model_list *l, const char *folder)
{
    DIR *d = opendir(folder);
    if (!d)
        return NLP_OK;
    nlp_status st = NLP_OK;
    struct dirent *e;
    while (st == NLP_OK && (e = readdir(d)) != NULL) {
        if (!valid_name(e->d_name) || listed(l, e->d_name))
            continue;
        int oom = 0;
        char *dir = model_in(folder, e->d_name, &oom);
        if (oom)
            st = NLP_ERR_NOMEM;
        else if (dir)
            st = list_add(l, e->d_name, dir);
    }
    closedir(d);
    return st;
}

static int cmp_model(const void *a, const void *b)
{
    return strcmp(((const nlp_builtin_model *)a)->name, ((const nlp_builtin_model *)b)->name);
}

nlp_status nlp_builtin_list(nlp_builtin_model **models, size_t *n, nlp_error *err)
{
    if (!models || !n)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_builtin_list: models or n is NULL");
    *models = NULL;
    *n = 0;
    char **dirs = NULL;
    nlp_status st = nlp_builtin_search_path(&dirs, err);
    if (st != NLP_OK)
        return st;
    model_list l = {0};
    for (size_t i = 0; dirs[i] && st == NLP_OK; i++)
        st = list_folder(&l, dirs[i]);
    nlp_search_path_free(dirs);
    if (st != NLP_OK) {
        nlp_builtin_list_free(l.v, l.n);
        return nlp_error_set(err, st, "built-in models: out of memory");
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, cmp_model);
    *models = l.v;
    *n = l.n;
    return NLP_OK;
}

void nlp_builtin_list_free(nlp_builtin_model *models, size_t n)
{
    for (size_t i = 0; models && i < n; i++) {
        free(models[i].name);
        free(models[i].dir);
        free(models[i].architecture);
    }
    free(models);
}
