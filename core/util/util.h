/*
 * util.h - small private helpers shared inside libnlp: whole-file reads,
 * path joining, a growable byte buffer.  Not installed.  Add helpers here only when two modules
 * need them.
 */
#ifndef NLP_UTIL_H
#define NLP_UTIL_H

#include <stddef.h>
#include "nlp/status.h"

/* Read a whole file.  *data is NUL-terminated (not counted in *len) and
 * freed by the caller with free().  Errors name the path. */
nlp_status nlp_read_file(const char *path, char **data, size_t *len, nlp_error *err);

/* dir + "/" + name, newly allocated (free()), NULL when out of memory. */
char *nlp_path_join(const char *dir, const char *name);

/* 1 if path names an existing regular file, else 0. */
int nlp_file_exists(const char *path);

/* 1 if path names an existing directory, else 0. */
int nlp_dir_exists(const char *path);

/* A growable byte buffer: zero-initialise it, release p with free(). */
typedef struct nlp_buf {
    char *p;
    size_t len, cap;
} nlp_buf;

/* Room for extra more bytes after len (capacity doubles).  Returns 1, or
 * 0 when out of memory (the buffer is unchanged). */
int nlp_buf_reserve(nlp_buf *b, size_t extra);

/* Append n bytes.  Returns 1, or 0 when out of memory. */
int nlp_buf_add(nlp_buf *b, const char *s, size_t n);

#endif /* NLP_UTIL_H */
