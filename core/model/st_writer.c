/*
 * st_writer.c - the .safetensors writer (see st_writer.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "st_writer.h"

static int by_name(const void *a, const void *b)
{
    const nlp_st_entry *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static size_t entry_bytes(const nlp_st_entry *e)
{
    size_t n = nlp_dtype_size(e->dtype);
    for (int d = 0; d < e->ndim; d++)
        n *= (size_t)e->shape[d];
    return n;
}

static nlp_status io_error(nlp_error *err, const char *path, const char *what)
{
    return nlp_error_set(err, errno == ENOSPC ? NLP_ERR_NOSPACE : NLP_ERR_IO,
                         "%s: cannot %s: %s", path, what, strerror(errno));
}

/* The header JSON for the sorted entries (caller frees), or NULL. */
static char *header_json(const nlp_st_entry *const *order, size_t n,
                         const char *const *meta, size_t n_meta)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    int ok = 1;
    if (n_meta) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        ok = m != NULL;
        for (size_t i = 0; ok && i < n_meta; i++)
            ok = cJSON_AddStringToObject(m, meta[2 * i], meta[2 * i + 1]) != NULL;
    }
    size_t off = 0;
    for (size_t i = 0; ok && i < n; i++) {
        const nlp_st_entry *e = order[i];
        cJSON *t = cJSON_AddObjectToObject(root, e->name);
        cJSON *shape = t ? cJSON_AddArrayToObject(t, "shape") : NULL;
        ok = t && shape && cJSON_AddStringToObject(t, "dtype", nlp_dtype_name(e->dtype));
        for (int d = 0; ok && d < e->ndim; d++)
            ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)e->shape[d]));
        cJSON *offs = ok ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
        const size_t len = entry_bytes(e);
        ok = offs && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off)) &&
             cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + len)));
        off += len;
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

nlp_status nlp_st_write(const char *path, const nlp_st_entry *tensors, size_t n,
                        const char *const *meta, size_t n_meta, nlp_error *err)
{
    const uint32_t one = 1;
    unsigned char little;
    memcpy(&little, &one, 1);
    if (!little)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                             "%s: writing safetensors needs a little-endian host", path);
    if (!path || (n && !tensors))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_st_write: path or tensors is NULL");
    for (size_t i = 0; i < n; i++) {
        const nlp_st_entry *e = &tensors[i];
        if (!e->name || !e->name[0] || strcmp(e->name, "__metadata__") == 0 ||
            (unsigned)e->dtype >= NLP_DT_COUNT || e->ndim < 0 || e->ndim > NLP_ST_MAX_DIMS ||
            (!e->data && entry_bytes(e) > 0))
            return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                                 "%s: tensor %zu (%s) has no name, data, or a bad dtype or "
                                 "shape", path, i, e->name ? e->name : "(null)");
        for (int d = 0; d < e->ndim; d++)
            if (e->shape[d] < 0)
                return nlp_error_set(err, NLP_ERR_INVALID_ARG, "%s: tensor %s has a negative "
                                     "dimension", path, e->name);
    }
    const nlp_st_entry **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return nlp_error_set(err, NLP_ERR_NOMEM, "nlp_st_write: out of memory");
    for (size_t i = 0; i < n; i++)
        order[i] = &tensors[i];
    qsort(order, n, sizeof *order, by_name);
    for (size_t i = 1; i < n; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0) {
            nlp_status st = nlp_error_set(err, NLP_ERR_INVALID_ARG,
                                          "%s: tensor %s is given twice", path, order[i]->name);
            free(order);
            return st;
        }
    char *hdr = header_json(order, n, meta, n_meta);
    size_t tmp_len = strlen(path) + 8;
    char *tmp = malloc(tmp_len);
    if (!hdr || !tmp) {
        free(hdr);
        free(tmp);
        free(order);
        return nlp_error_set(err, NLP_ERR_NOMEM, "nlp_st_write: out of memory");
    }
    snprintf(tmp, tmp_len, "%s.tmp", path);
    nlp_status st = NLP_OK;
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        st = io_error(err, tmp, "create");
    } else {
        size_t hlen = strlen(hdr);
        const size_t padded = (hlen + 7) / 8 * 8;
        unsigned char len8[8];
        for (int i = 0; i < 8; i++)
            len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
        int ok = fwrite(len8, 1, 8, fp) == 8 && fwrite(hdr, 1, hlen, fp) == hlen;
        for (size_t i = hlen; ok && i < padded; i++)
            ok = fputc(' ', fp) != EOF;
        for (size_t i = 0; ok && i < n; i++) {
            const size_t len = entry_bytes(order[i]);
            ok = len == 0 || fwrite(order[i]->data, 1, len, fp) == len;
        }
        if (!ok)
            st = io_error(err, tmp, "write");
        if (fclose(fp) != 0 && st == NLP_OK)
            st = io_error(err, tmp, "write");
        if (st == NLP_OK && rename(tmp, path) != 0)
            st = io_error(err, path, "rename the temporary file to");
        if (st != NLP_OK)
            unlink(tmp);
    }
    free(hdr);
    free(tmp);
    free(order);
    return st;
}
