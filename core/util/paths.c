/*
 * paths.c - where the running binary's own files are, shared by the plugin
 * loader and the built-in models: whether it runs uninstalled from the
 * build tree (found through /proc/self/exe and NLP_BUILD_DIR), a configured
 * installation folder relocated to the installation the binary belongs to
 * (so a moved or staged installation uses its own files), and the
 * growable, duplicate-free lists search paths are built in.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#ifndef NLP_PREFIX
#define NLP_PREFIX "/usr/local"
#endif

/* The running binary's real path into exe (empty when unknown). */
static void own_exe(char *exe, size_t size)
{
    ssize_t k = readlink("/proc/self/exe", exe, size - 1);
    exe[k > 0 ? k : 0] = '\0';
}

/* 1 when path is dir itself or lies below it. */
static int path_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int nlp_running_uninstalled(void)
{
#ifdef NLP_BUILD_DIR
    char exe[PATH_MAX], top[PATH_MAX];
    own_exe(exe, sizeof exe);
    return exe[0] && realpath(NLP_BUILD_DIR, top) && path_within(exe, top);
#else
    return 0;
#endif
}

/* <exe's prefix><rel> when exe is <prefix>/<bin>/<name> and that folder
 * exists; else NULL (also when out of memory). */
static char *relocated(const char *exe, const char *rel)
{
    char pre[PATH_MAX];
    snprintf(pre, sizeof pre, "%s", exe);
    char *s1 = strrchr(pre, '/');            /* drop the file name */
    if (!s1)
        return NULL;
    *s1 = '\0';
    char *s2 = strrchr(pre, '/');            /* drop "bin" */
    if (!s2)
        return NULL;
    *s2 = '\0';
    char *dir = nlp_strf("%s%s", pre, rel);
    if (dir && !nlp_dir_exists(dir)) {
        free(dir);
        dir = NULL;
    }
    return dir;
}

char *nlp_installed_dir(const char *dir)
{
    size_t np = strlen(NLP_PREFIX);
    if (strncmp(dir, NLP_PREFIX, np) == 0 && dir[np] == '/') {
        char exe[PATH_MAX];
        own_exe(exe, sizeof exe);
        char *own = exe[0] ? relocated(exe, dir + np) : NULL;
        if (own)
            return own;
    }
    return strdup(dir);
}

void nlp_strlist_add(nlp_strlist *l, const char *s, size_t len)
{
    if (l->oom || len == 0)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == len && memcmp(l->v[i], s, len) == 0)
            return;
    if (l->n + 2 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = 1;
            return;
        }
        l->v = v;
        l->cap = cap;
        l->v[l->n] = NULL;
    }
    char *c = strndup(s, len);
    if (!c) {
        l->oom = 1;
        return;
    }
    l->v[l->n++] = c;
    l->v[l->n] = NULL;
}

void nlp_strlist_add_env(nlp_strlist *l, const char *var)
{
    const char *env = getenv(var);
    while (env && *env) {
        const char *colon = strchr(env, ':');
        size_t len = colon ? (size_t)(colon - env) : strlen(env);
        nlp_strlist_add(l, env, len);
        env = colon ? colon + 1 : NULL;
    }
}

nlp_status nlp_strlist_finish(nlp_strlist *l, char ***out, const char *what, nlp_error *err)
{
    if (!l->oom && !l->v && !(l->v = calloc(1, sizeof *l->v)))   /* empty list */
        l->oom = 1;
    if (l->oom) {
        for (size_t i = 0; i < l->n; i++)
            free(l->v[i]);
        free(l->v);
        *l = (nlp_strlist){0};
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", what);
    }
    *out = l->v;
    *l = (nlp_strlist){0};
    return NLP_OK;
}
