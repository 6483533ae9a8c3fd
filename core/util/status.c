/*
 * status.c - nlp_strerror and the caller's error buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "nlp/nlp.h"

static const char *const status_text[NLP_STATUS_COUNT] = {
    [NLP_OK] = "success",
    [NLP_ERR_NOMEM] = "out of memory",
    [NLP_ERR_IO] = "file error",
    [NLP_ERR_FORMAT] = "malformed file",
    [NLP_ERR_UNSUPPORTED] = "unsupported",
    [NLP_ERR_INVALID_ARG] = "invalid argument",
    [NLP_ERR_NOT_FOUND] = "not found",
    [NLP_ERR_SHAPE] = "wrong tensor shape",
    [NLP_ERR_UTF8] = "invalid UTF-8",
    [NLP_ERR_INPUT] = "unusable input",
    [NLP_ERR_NETWORK] = "network error",
    [NLP_ERR_HTTP] = "HTTP error",
    [NLP_ERR_AUTH] = "not authorised",
    [NLP_ERR_CHECKSUM] = "checksum mismatch",
    [NLP_ERR_OFFLINE] = "not available offline",
    [NLP_ERR_NOSPACE] = "no space left on device",
    [NLP_ERR_PLUGIN] = "plugin error",
    [NLP_ERR_ABI] = "plugin ABI mismatch",
    [NLP_ERR_CONFLICT] = "name already taken",
    [NLP_ERR_INTERNAL] = "internal error",
    [NLP_ERR_USAGE] = "bad option",
    [NLP_ERR_BUSY] = "busy",
    [NLP_ERR_TIMEOUT] = "timed out",
    [NLP_ERR_TOO_LARGE] = "too large",
};

static const char *const status_name[NLP_STATUS_COUNT] = {
    [NLP_OK] = "ok",
    [NLP_ERR_NOMEM] = "out_of_memory",
    [NLP_ERR_IO] = "io",
    [NLP_ERR_FORMAT] = "format",
    [NLP_ERR_UNSUPPORTED] = "unsupported",
    [NLP_ERR_INVALID_ARG] = "invalid_argument",
    [NLP_ERR_NOT_FOUND] = "not_found",
    [NLP_ERR_SHAPE] = "shape",
    [NLP_ERR_UTF8] = "invalid_utf8",
    [NLP_ERR_INPUT] = "invalid_input",
    [NLP_ERR_NETWORK] = "network",
    [NLP_ERR_HTTP] = "http",
    [NLP_ERR_AUTH] = "auth",
    [NLP_ERR_CHECKSUM] = "checksum",
    [NLP_ERR_OFFLINE] = "offline",
    [NLP_ERR_NOSPACE] = "no_space",
    [NLP_ERR_PLUGIN] = "plugin",
    [NLP_ERR_ABI] = "abi",
    [NLP_ERR_CONFLICT] = "conflict",
    [NLP_ERR_INTERNAL] = "internal",
    [NLP_ERR_USAGE] = "usage",
    [NLP_ERR_BUSY] = "busy",
    [NLP_ERR_TIMEOUT] = "timeout",
    [NLP_ERR_TOO_LARGE] = "too_large",
};

const char *nlp_status_name(nlp_status status)
{
    if ((int)status < 0 || status >= NLP_STATUS_COUNT || !status_name[status])
        return "unknown";
    return status_name[status];
}

const char *nlp_strerror(nlp_status status)
{
    if ((int)status < 0 || status >= NLP_STATUS_COUNT || !status_text[status])
        return "unknown status";
    return status_text[status];
}

nlp_status nlp_error_set(nlp_error *err, nlp_status status, const char *fmt, ...)
{
    if (!err)
        return status;
    err->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    /* one line: fold any newline that slipped in through a file name */
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return status;
}

void nlp_error_clear(nlp_error *err)
{
    if (!err)
        return;
    err->status = NLP_OK;
    err->msg[0] = '\0';
}

const char *nlp_version(void)
{
    return PACKAGE_VERSION;
}
