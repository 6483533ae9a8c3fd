/*
 * nlp/buf.h - a growable byte buffer, used inside libnlp (corpus writer,
 * hub responses, checkpoint headers) and offered to its callers.
 */
#ifndef NLP_BUF_H
#define NLP_BUF_H

#include "nlp/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes p[0 .. len) in an allocation of cap bytes.  Zero-initialise it;
 * the caller owns p and releases it with free(). */
typedef struct nlp_buf {
    char *p;
    size_t len, cap;
} nlp_buf;

/* Make room for extra more bytes after len (the capacity at least
 * doubles).  Returns 1, or 0 when out of memory (the buffer is then
 * unchanged). */
NLP_API int nlp_buf_reserve(nlp_buf *b, size_t extra);

/* Append the n bytes at s.  Returns 1, or 0 when out of memory (the
 * buffer is then unchanged). */
NLP_API int nlp_buf_add(nlp_buf *b, const char *s, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* NLP_BUF_H */
