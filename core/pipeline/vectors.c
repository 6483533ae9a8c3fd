/*
 * vectors.c - the binary vector file of corpus mode: the task's first
 * result column (an array of numbers per row, e.g. embed's "embedding")
 * written as float32 rows, in output row order, to a NumPy .npy file
 * (format 1.0, '<f4', C order, shape (rows, dim)) or to raw little-endian
 * float32 (.f32, rows * dim values).  The .npy header is written first
 * with room for any shape and rewritten with the real one at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_impl.h"
#include "util/util.h"

#define NPY_HEADER 128   /* bytes before the data: magic, version, length, dict */

/* The .npy header for rows x dim into h[NPY_HEADER]. */
static void npy_header(unsigned char *h, size_t rows, size_t dim)
{
    memset(h, ' ', NPY_HEADER);
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    h[8] = (unsigned char)((NPY_HEADER - 10) & 0xff);
    h[9] = (unsigned char)((NPY_HEADER - 10) >> 8);
    char dict[NPY_HEADER];
    int k = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (%zu, %zu), }", rows, dim);
    memcpy(h + 10, dict, (size_t)k);
    h[NPY_HEADER - 1] = '\n';
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

nlp_status pl_vectors_open(pl_vectors *v, const char *path, nlp_error *err)
{
    memset(v, 0, sizeof *v);
    v->path = path;
    v->npy = ends_with(path, ".npy");
    v->f = fopen(path, "wb");
    if (!v->f)
        return nlp_error_set(err, NLP_ERR_IO, "%s: %s", path, strerror(errno));
    unsigned char h[NPY_HEADER];
    npy_header(h, 0, 0);
    if (v->npy && fwrite(h, 1, NPY_HEADER, v->f) != NPY_HEADER)
        return nlp_error_set(err, NLP_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return NLP_OK;
}

nlp_status pl_vectors_add(pl_vectors *v, const nlp_value *a, size_t line, nlp_error *err)
{
    size_t n = nlp_value_len(a);
    if (nlp_value_kind_of(a) != NLP_VALUE_ARRAY || n == 0)
        return nlp_error_set(err, NLP_ERR_INPUT, "line %zu: the result is not a list of numbers "
                             "(--vectors writes the task's first column)", line);
    if (v->rows == 0 && v->dim == 0)
        v->dim = n;
    if (n != v->dim)
        return nlp_error_set(err, NLP_ERR_INPUT, "line %zu: %zu numbers, the rows before had %zu",
                             line, n, v->dim);
    if (v->cap < n) {
        float *b = realloc(v->buf, n * sizeof *b);
        if (!b)
            return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        v->buf = b;
        v->cap = n;
    }
    for (size_t i = 0; i < n; i++)
        v->buf[i] = (float)nlp_value_number(nlp_value_at(a, i));
    if (fwrite(v->buf, sizeof *v->buf, n, v->f) != n)   /* x86-64 and arm64: little-endian */
        return nlp_error_set(err, NLP_ERR_IO, "%s: cannot write: %s", v->path, strerror(errno));
    v->rows++;
    return NLP_OK;
}

nlp_status pl_vectors_close(pl_vectors *v, nlp_status st, nlp_error *err)
{
    if (!v->f) {
        free(v->buf);
        return st;
    }
    unsigned char h[NPY_HEADER];
    npy_header(h, v->rows, v->dim);
    int bad = v->npy && (fseek(v->f, 0, SEEK_SET) != 0 || fwrite(h, 1, NPY_HEADER, v->f) !=
                         NPY_HEADER);
    bad |= fclose(v->f) != 0;
    v->f = NULL;
    free(v->buf);
    v->buf = NULL;
    if (bad && st == NLP_OK)
        return nlp_error_set(err, NLP_ERR_IO, "%s: cannot write: %s", v->path, strerror(errno));
    return st;
}

nlp_status nlp_pipeline_set_vectors(nlp_pipeline *p, const char *path, nlp_error *err)
{
    char *c = path ? strdup(path) : NULL;
    if (path && !c)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    free(p->vectors);
    p->vectors = c;
    return NLP_OK;
}
