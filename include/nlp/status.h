/*
 * nlp/status.h - the one status enum of libnlp and the caller's error buffer.
 *
 * Every fallible call in libnlp returns an nlp_status and, when the caller
 * passes a non-NULL nlp_error, writes one line of detail into it (which file,
 * which tensor, which byte).  The library never prints and never exits.
 *
 * The enum is append-only: a value, once released, keeps its number and
 * meaning forever.  New codes go at the end, before NLP_STATUS_COUNT.
 */
#ifndef NLP_STATUS_H
#define NLP_STATUS_H

#include <stddef.h>
#include "nlp/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nlp_status {
    NLP_OK = 0,
    NLP_ERR_NOMEM = 1,        /* an allocation failed */
    NLP_ERR_IO = 2,           /* a file is missing, unreadable or unwritable */
    NLP_ERR_FORMAT = 3,       /* a file's content is malformed */
    NLP_ERR_UNSUPPORTED = 4,  /* valid, but not something this build handles */
    NLP_ERR_INVALID_ARG = 5,  /* a caller passed a bad argument or option */
    NLP_ERR_NOT_FOUND = 6,    /* a named thing (tensor, token, model, task) is absent */
    NLP_ERR_SHAPE = 7,        /* a tensor has the wrong shape or dtype */
    NLP_ERR_UTF8 = 8,         /* input text is not valid UTF-8 */
    NLP_ERR_INPUT = 9,        /* user input cannot be processed (e.g. no mask token) */
    NLP_ERR_NETWORK = 10,     /* connection failed, reset or timed out */
    NLP_ERR_HTTP = 11,        /* the server answered with an error status */
    NLP_ERR_AUTH = 12,        /* 401/403: gated or private repository */
    NLP_ERR_CHECKSUM = 13,    /* downloaded bytes do not match size or SHA-256 */
    NLP_ERR_OFFLINE = 14,     /* offline mode and the file is not cached */
    NLP_ERR_NOSPACE = 15,     /* the disk is full */
    NLP_ERR_PLUGIN = 16,      /* a plugin could not be loaded or misbehaved */
    NLP_ERR_ABI = 17,         /* a plugin was built for another ABI version */
    NLP_ERR_CONFLICT = 18,    /* a name is already taken (e.g. a task) */
    NLP_ERR_INTERNAL = 19,    /* a bug in libnlp: please report it */
    NLP_ERR_USAGE = 20,       /* a bad option, option value or combination of
                                 them (front ends: a usage error) */
    NLP_ERR_BUSY = 21,        /* a queue is full: try again later */
    NLP_ERR_TIMEOUT = 22,     /* waited longer than allowed */
    NLP_ERR_TOO_LARGE = 23,   /* a request or input exceeds a size limit */
    NLP_STATUS_COUNT          /* not a status; keep last */
} nlp_status;

/* Longest message an nlp_error holds, including the terminating NUL. */
#define NLP_ERROR_MAX 512

/* Filled by failing calls: the status and one line of detail (no newline). */
typedef struct nlp_error {
    nlp_status status;
    char msg[NLP_ERROR_MAX];
} nlp_error;

/* A short static description of a status ("malformed file", ...).
 * Never NULL; unknown values give "unknown status". */
NLP_API const char *nlp_strerror(nlp_status status);

/* A stable identifier of a status for machine-readable output, e.g.
 * "invalid_input" for NLP_ERR_INPUT, "ok" for NLP_OK; never NULL. */
NLP_API const char *nlp_status_name(nlp_status status);

/* Record an error: sets err->status and formats err->msg (printf-style,
 * truncated to fit).  err may be NULL.  Returns status, so callers can
 * write `return nlp_error_set(err, NLP_ERR_IO, "%s: ...", path);`. */
NLP_API nlp_status nlp_error_set(nlp_error *err, nlp_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Reset err to NLP_OK with an empty message.  err may be NULL. */
NLP_API void nlp_error_clear(nlp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NLP_STATUS_H */
