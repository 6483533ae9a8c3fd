/*
 * hub_cache.c - what is in the Hugging Face cache: list the model folders
 * (models--{org}--{name}) with their snapshots, refs and sizes, and remove
 * one.  Used by `nlp models`.  Only reads and deletes; never follows a
 * symlink out of a model folder when deleting.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nlp/hub.h"
#include "hub_impl.h"
#include "util/util.h"

/* Sizes of the regular files under dir, following snapshot links. */
static void tree_size(const char *dir, uint64_t *size, size_t *files)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *p = nlp_path_join(dir, e->d_name);
        struct stat st, lst;
        if (p && lstat(p, &lst) == 0) {
            if (S_ISDIR(lst.st_mode))
                tree_size(p, size, files);
            else if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
                *size += (uint64_t)st.st_size;
                ++*files;
            }
        }
        free(p);
    }
    closedir(d);
}

static int cmp_rev(const void *a, const void *b)
{
    return strcmp(((const nlp_hub_cached_revision *)a)->commit,
                  ((const nlp_hub_cached_revision *)b)->commit);
}

static int cmp_model(const void *a, const void *b)
{
    return strcmp(((const nlp_hub_cached_model *)a)->id, ((const nlp_hub_cached_model *)b)->id);
}

/* Append ref name to the revision whose commit the ref file names. */
static int add_refs(const char *refdir, const char *prefix, nlp_hub_cached_model *m)
{
    struct dirent **ents = NULL;
    int nents = scandir(refdir, &ents, NULL, alphasort);
    if (nents < 0)
        return 0;
    int rc = 0;
    for (int k = 0; k < nents; k++) {
        struct dirent *e = ents[k];
        if (rc != 0)
            continue;
        if (e->d_name[0] == '.')
            continue;
        char *p = nlp_path_join(refdir, e->d_name);
        char *name = prefix[0] ? nlp_strf("%s/%s", prefix, e->d_name) : strdup(e->d_name);
        if (!p || !name) {
            rc = -1;
        } else if (nlp_dir_exists(p)) {
            rc = add_refs(p, name, m);
        } else {
            char *commit = NULL;
            size_t len = 0;
            if (nlp_read_file(p, &commit, &len, NULL) == NLP_OK) {
                while (len && (commit[len - 1] == '\n' || commit[len - 1] == ' ' || commit[len - 1] == '\r'))
                    commit[--len] = '\0';
                for (size_t i = 0; i < m->n_revisions; i++) {
                    nlp_hub_cached_revision *r = &m->revisions[i];
                    if (strcmp(r->commit, commit) != 0)
                        continue;
                    char *refs = r->refs[0] ? nlp_strf("%s,%s", r->refs, name) : strdup(name);
                    if (!refs) {
                        rc = -1;
                        break;
                    }
                    free(r->refs);
                    r->refs = refs;
                }
                free(commit);
            }
        }
        free(p);
        free(name);
    }
    for (int k = 0; k < nents; k++)
        free(ents[k]);
    free(ents);
    return rc;
}

/* Fill m from its folder; -1 when out of memory. */
static int scan_model(const char *path, nlp_hub_cached_model *m)
{
    char *blobs = nlp_path_join(path, "blobs");
    char *snaps = nlp_path_join(path, "snapshots");
    char *refs = nlp_path_join(path, "refs");
    int rc = blobs && snaps && refs ? 0 : -1;
    size_t nblobs = 0;
    if (rc == 0)
        tree_size(blobs, &m->size, &nblobs);
    DIR *d = rc == 0 ? opendir(snaps) : NULL;
    struct dirent *e;
    while (d && rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *s = nlp_path_join(snaps, e->d_name);
        if (!s || !nlp_dir_exists(s)) {
            rc = s ? 0 : -1;
            free(s);
            continue;
        }
        nlp_hub_cached_revision *r = realloc(m->revisions, (m->n_revisions + 1) * sizeof *r);
        if (!r) {
            free(s);
            rc = -1;
            break;
        }
        m->revisions = r;
        r += m->n_revisions;
        memset(r, 0, sizeof *r);
        r->commit = strdup(e->d_name);
        r->refs = strdup("");
        m->n_revisions++;
        if (!r->commit || !r->refs)
            rc = -1;
        else
            tree_size(s, &r->size, &r->n_files);
        free(s);
    }
    if (d)
        closedir(d);
    if (rc == 0 && m->n_revisions)
        qsort(m->revisions, m->n_revisions, sizeof *m->revisions, cmp_rev);
    if (rc == 0)
        rc = add_refs(refs, "", m);
    free(blobs);
    free(snaps);
    free(refs);
    return rc;
}

nlp_status nlp_hub_cache_list(const nlp_hub_opts *opts, nlp_hub_cached_model **models, size_t *n,
                              nlp_error *err)
{
    *models = NULL;
    *n = 0;
    char *cache = nlp_hub_default_cache(opts ? opts->cache_dir : NULL);
    if (!cache)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    DIR *d = opendir(cache);
    if (!d) {
        int e = errno;
        nlp_status st = e == ENOENT ? NLP_OK : nlp_error_set(err, NLP_ERR_IO, "%s: %s", cache, strerror(e));
        free(cache);
        return st;
    }
    nlp_status st = NLP_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "models--", 8) != 0)
            continue;
        char *path = nlp_path_join(cache, e->d_name);
        if (!path) {
            st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
            break;
        }
        if (!nlp_dir_exists(path)) {
            free(path);
            continue;
        }
        nlp_hub_cached_model *m = realloc(*models, (*n + 1) * sizeof *m);
        if (!m) {
            free(path);
            st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
            break;
        }
        *models = m;
        m += *n;
        memset(m, 0, sizeof *m);
        ++*n;
        m->path = path;
        /* models--org--name -> org/name (org names never hold "--") */
        m->id = strdup(e->d_name + 8);
        char *sep = m->id ? strstr(m->id, "--") : NULL;
        if (sep)
            memmove(sep + 1, sep + 2, strlen(sep + 2) + 1), *sep = '/';
        if (!m->id || scan_model(path, m) != 0) {
            st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
            break;
        }
    }
    closedir(d);
    free(cache);
    if (st != NLP_OK) {
        nlp_hub_cache_list_free(*models, *n);
        *models = NULL;
        *n = 0;
        return st;
    }
    if (*n)
        qsort(*models, *n, sizeof **models, cmp_model);
    return NLP_OK;
}

void nlp_hub_cache_list_free(nlp_hub_cached_model *models, size_t n)
{
    if (!models)
        return;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < models[i].n_revisions; j++) {
            free(models[i].revisions[j].commit);
            free(models[i].revisions[j].refs);
        }
        free(models[i].revisions);
        free(models[i].id);
        free(models[i].path);
    }
    free(models);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
    return rc != 0 && errno != ENOENT ? -1 : 0;
}

/* rm -r without following symlinks. */
static int remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

nlp_status nlp_hub_cache_remove(const char *id, const nlp_hub_opts *opts, nlp_error *err)
{
    if (!id || !nlp_hub_valid_repo_id(id))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "%s: not a valid hub id (\"name\" or \"org/name\")",
                             id ? id : "(null)");
    char *cache = nlp_hub_default_cache(opts ? opts->cache_dir : NULL);
    char *folder = nlp_hub_repo_folder(id);
    char *path = cache && folder ? nlp_path_join(cache, folder) : NULL;
    char *locks = cache && folder ? nlp_strf("%s/.locks/%s", cache, folder) : NULL;
    nlp_status st = NLP_OK;
    if (!path || !locks)
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    else if (!nlp_dir_exists(path))
        st = nlp_error_set(err, NLP_ERR_NOT_FOUND, "%s: not in the cache %s", id, cache);
    else if (remove_tree(path) != 0)
        st = nlp_error_set(err, NLP_ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
    else
        remove_tree(locks);
    free(cache);
    free(folder);
    free(path);
    free(locks);
    return st;
}
