/*
 * nlp/options.h - task option stores: the values of the options a task
 * declares (nlp_option in nlp/plugin.h), checked against their types when
 * set, read back as text by the host and by plugins.
 */
#ifndef NLP_OPTIONS_H
#define NLP_OPTIONS_H

#include "nlp/export.h"
#include "nlp/status.h"
#include "nlp/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nlp_optset nlp_optset;

/* A store for the options decl declares (terminated by name == NULL; the
 * array must outlive the store).  *out is freed with nlp_optset_free(). */
NLP_API nlp_status nlp_optset_create(const nlp_option *decl, nlp_optset **out,
                                     nlp_error *err);
NLP_API void nlp_optset_free(nlp_optset *set);

/* The declaration of option name, or NULL when decl has none. */
NLP_API const nlp_option *nlp_optset_find(const nlp_optset *set, const char *name);

/* Set option name from its command-line text (NULL for a flag, which sets
 * it; "0"/"false" turn it off, "1"/"true" on), checking it against its
 * type: an integer, a finite number, one of the choices.
 * NLP_ERR_NOT_FOUND for an undeclared option, NLP_ERR_INVALID_ARG naming
 * the option and the bad value otherwise.  The text is copied. */
NLP_API nlp_status nlp_optset_set(nlp_optset *set, const char *name, const char *value,
                                  nlp_error *err);

/* The value given, else the declared default, else NULL; flags give "1"
 * when on, "0" when turned off. */
NLP_API const char *nlp_optset_get(const nlp_optset *set, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* NLP_OPTIONS_H */
