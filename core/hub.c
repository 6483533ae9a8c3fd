/*
 * hub.c - model references and the Hugging Face Hub downloader.
 * (Directory references only, for now.)
 */
#include <stdlib.h>
#include <string.h>

#include "nlp/hub.h"
#include "util.h"

nlp_status nlp_hub_resolve(const char *ref, const nlp_hub_opts *opts,
                           char **dir, nlp_error *err)
{
    (void)opts;
    *dir = NULL;
    if (nlp_dir_exists(ref)) {
        *dir = strdup(ref);
        return *dir ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                         "%s: no such directory, and downloading from the Hugging Face Hub is not available in this build",
                         ref);
}
