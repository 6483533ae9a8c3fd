/*
 * nlp/builtin.h - the built-in models: small checkpoints that come with
 * nlp in Hugging Face layout, one folder per model (NAME/config.json,
 * vocab.txt, model.safetensors, ...), found on disk without any network or
 * cache access.  The tasks use them when no model is given.
 *
 * Search order: each folder of $NLP_MODELS_PATH (colon-separated, each
 * holding NAME/ subfolders), then the running binary's own models: the
 * source tree's models/ when it runs uninstalled from the build tree, else
 * $(pkgdatadir)/models of the installation it belongs to (relative to the
 * binary, so a moved or staged installation finds its own), else the
 * configured $(pkgdatadir)/models.  A folder is a built-in model only when
 * NAME/config.json exists; the first folder of a name wins.
 */
#ifndef NLP_BUILTIN_H
#define NLP_BUILTIN_H

#include "nlp/export.h"
#include <stddef.h>
#include <stdint.h>
#include "nlp/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One built-in model. */
typedef struct nlp_builtin_model {
    char *name;          /* the folder's name, e.g. "nlp-mini" */
    char *dir;           /* the folder */
    char *architecture;  /* config.json "architectures"[0]; "" when it names none */
    uint64_t size;       /* bytes of the files in the folder */
} nlp_builtin_model;

/* The folders searched for built-in models, in order (see above; the
 * binary's own folder is listed even when it does not exist).  On success
 * *dirs is a new NULL-terminated array freed with nlp_search_path_free()
 * (nlp/registry.h). */
NLP_API nlp_status nlp_builtin_search_path(char ***dirs, nlp_error *err);

/* The folder of the built-in model name.  On success *dir is a new string
 * (free()).  NLP_ERR_NOT_FOUND when no searched folder holds
 * name/config.json, with a message naming the model and the folders
 * searched; NLP_ERR_INVALID_ARG when name is empty, ".", ".." or holds a
 * '/' or '@'. */
NLP_API nlp_status nlp_builtin_find(const char *name, char **dir, nlp_error *err);

/* 1 when name is one of the models nlp ships (nlp-mini, nlp-mini-sst2,
 * nlp-mini-ner, nlp-mini-squad, nlp-mini-nli): such a name always means
 * the built-in model and is never looked up on the Hub.  Else 0. */
NLP_API int nlp_builtin_reserved(const char *name);

/* Every built-in model found, sorted by name.  On success *models (NULL
 * when *n is 0) is freed with nlp_builtin_list_free. */
NLP_API nlp_status nlp_builtin_list(nlp_builtin_model **models, size_t *n, nlp_error *err);

/* Free what nlp_builtin_list returned (models may be NULL). */
NLP_API void nlp_builtin_list_free(nlp_builtin_model *models, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* NLP_BUILTIN_H */
