/*
 * nlp/hub.h - resolve model references and fetch checkpoints from the
 * Hugging Face Hub into huggingface_hub's own cache layout.
 *
 * The library never prints: progress is reported through a callback.
 */
#ifndef NLP_HUB_H
#define NLP_HUB_H

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

/* Resolve a model reference to a local directory.  An existing directory
 * is returned as it is.  Anything else is a hub id "name" or "org/name",
 * optionally "@revision": its snapshot is found in the cache or, unless
 * offline, downloaded first.  opts may be NULL for the defaults.  On
 * success *dir is a new string the caller frees with free(). */
nlp_status nlp_hub_resolve(const char *ref, const nlp_hub_opts *opts,
                           char **dir, nlp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NLP_HUB_H */
