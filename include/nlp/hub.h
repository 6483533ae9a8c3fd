/*
 * nlp/hub.h - resolve model references and fetch checkpoints from the
 * Hugging Face Hub into huggingface_hub's own cache layout.
 *
 * The library never prints: progress is reported through a callback.
 */
#ifndef NLP_HUB_H
#define NLP_HUB_H

#include "nlp/export.h"
#include <stddef.h>
#include <stdint.h>
#include "nlp/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Progress of one file: done of total bytes (total 0 when unknown).
 * Called with done == total once the file is complete. */
typedef void (*nlp_hub_progress_fn)(void *user, const char *file,
                                    uint64_t done, uint64_t total);

typedef struct nlp_hub_opts {
    const char *endpoint;   /* NULL: $HF_ENDPOINT, else https://huggingface.co */
    const char *cache_dir;  /* NULL: $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub */
    const char *token;      /* NULL: $HF_TOKEN, else the file $HF_HOME/token */
    int offline;            /* 1: never connect (also $HF_HUB_OFFLINE=1) */
    const char *const *include; /* NULL-terminated glob patterns of extra files */
    const char *const *exclude; /* NULL-terminated glob patterns of files to skip */
    nlp_hub_progress_fn progress; /* NULL: no progress reports */
    void *progress_user;
} nlp_hub_opts;

/* Resolve a model reference to a local directory: the one resolver every
 * task, command and pipeline uses.  An existing directory is returned as
 * it is.  A name without '/' or '@' that names a built-in model
 * (nlp/builtin.h) is that model's folder, found with no network or cache
 * access; the name of a model nlp ships (nlp_builtin_reserved) that is
 * missing is NLP_ERR_NOT_FOUND ("built-in model NAME not found
 * (searched: ...)"), never a hub look-up.  Anything else is a hub id
 * "name" or "org/name", optionally "@revision": its snapshot is found in
 * the cache or, unless offline, downloaded first.  opts may be NULL for
 * the defaults.  On success *dir is a new string the caller frees with
 * free(). */
NLP_API nlp_status nlp_hub_resolve(const char *ref, const nlp_hub_opts *opts,
                           char **dir, nlp_error *err);

/* Like nlp_hub_resolve, but built-in models are not looked at (every
 * reference that is not a directory is a hub id), and a hub id always asks the hub for the
 * revision's current commit and file list (unless offline) and fetches
 * whatever the cache lacks; nlp_hub_resolve reuses a complete cached
 * snapshot without any request.  This is what `nlp download` runs.
 * On success *dir is the snapshot directory (free()). */
NLP_API nlp_status nlp_hub_download(const char *ref, const nlp_hub_opts *opts,
                            char **dir, nlp_error *err);

/* The cache directory in use for opts (opts->cache_dir, $HF_HUB_CACHE,
 * $HF_HOME/hub, else ~/.cache/huggingface/hub).  *dir is new (free()). */
NLP_API nlp_status nlp_hub_cache_dir(const nlp_hub_opts *opts, char **dir, nlp_error *err);

/* One snapshot of a cached model. */
typedef struct nlp_hub_cached_revision {
    char *commit;        /* snapshot folder name (the commit hash) */
    char *refs;          /* comma-separated refs pointing at it ("main"), "" if none */
    uint64_t size;       /* bytes of the blobs its files link to */
    size_t n_files;      /* files in the snapshot */
} nlp_hub_cached_revision;

/* One model folder (models--{org}--{name}) of the cache. */
typedef struct nlp_hub_cached_model {
    char *id;                            /* "org/name" or "name" */
    char *path;                          /* the models--... folder */
    uint64_t size;                       /* bytes of all its blobs */
    size_t n_revisions;
    nlp_hub_cached_revision *revisions;  /* sorted by commit */
} nlp_hub_cached_model;

/* List the models in the cache, sorted by id.  A missing cache is an
 * empty list.  Free the result with nlp_hub_cache_list_free. */
NLP_API nlp_status nlp_hub_cache_list(const nlp_hub_opts *opts, nlp_hub_cached_model **models,
                              size_t *n, nlp_error *err);

/* Free what nlp_hub_cache_list returned (models may be NULL). */
NLP_API void nlp_hub_cache_list_free(nlp_hub_cached_model *models, size_t n);

/* Remove a model (hub id "org/name" or "name") and its locks from the
 * cache.  NLP_ERR_NOT_FOUND when it is not cached. */
NLP_API nlp_status nlp_hub_cache_remove(const char *id, const nlp_hub_opts *opts, nlp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NLP_HUB_H */
