/*
 * st_write.c - write a .safetensors file from a list of tensors
 * (nlp_safetensors_write in nlp/checkpoint.h), beside the reader in
 * safetensors.c.
 *
 * The header is compact JSON, keys in the order __metadata__, then the
 * tensors as listed, each {"dtype", "shape", "data_offsets"}, padded with
 * spaces to a multiple of 8 bytes.  The file is written as
 * PATH.tmp.<pid>.<n> (created exclusively) and renamed to PATH when every
 * byte is out and the stream is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlp/checkpoint.h"
#include "util/util.h"

struct nlp_tensor_sink {
    FILE *fp;
    const char *path;       /* the temporary file, for messages */
    uint64_t left;          /* bytes the current tensor still needs */
};

/* A write error as a status: the disk is full, or some other I/O error. */
static nlp_status write_error(nlp_error *err, const char *path)
{
    int e = errno;
#ifdef EDQUOT
    if (e == EDQUOT)
        e = ENOSPC;
#endif
    if (e == ENOSPC)
        return nlp_error_set(err, NLP_ERR_NOSPACE, "%s: %s", path, strerror(e));
    return nlp_error_set(err, NLP_ERR_IO, "cannot write %s: %s", path, e ? strerror(e) : "I/O error");
}

nlp_status nlp_tensor_sink_write(nlp_tensor_sink *sink, const void *bytes, size_t n, nlp_error *err)
{
    if (n > sink->left)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "%s: a tensor's fill wrote %" PRIu64
                             " bytes too many", sink->path, (uint64_t)(n - sink->left));
    errno = 0;
    if (n && fwrite(bytes, 1, n, sink->fp) != n)
        return write_error(err, sink->path);
    sink->left -= n;
    return NLP_OK;
}

/* Bytes of t, or UINT64_MAX when its dtype or shape is invalid. */
static uint64_t tensor_bytes(const nlp_tensor_desc *t)
{
    uint64_t n = nlp_dtype_size(t->dtype);
    if (!n || !t->name || t->ndim < 0 || t->ndim > NLP_TENSOR_MAX_DIMS || (!t->data && !t->fill))
        return UINT64_MAX;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] < 0 || (t->shape[d] && n > UINT64_MAX / 2 / (uint64_t)t->shape[d]))
            return UINT64_MAX;
        n *= (uint64_t)t->shape[d];
    }
    return n;
}

/* Append s as a JSON string, escaped as cJSON escapes it. */
static int add_json_string(nlp_buf *b, const char *s)
{
    if (!nlp_buf_add(b, "\"", 1))
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        const char *named = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b"
                          : c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t" : NULL;
        if (named) {
            if (!nlp_buf_add(b, named, 2))
                return 0;
        } else if (c < 32) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            if (!nlp_buf_add(b, esc, 6))
                return 0;
        } else if (!nlp_buf_add(b, s, 1)) {
            return 0;
        }
    }
    return nlp_buf_add(b, "\"", 1);
}

static int add_text(nlp_buf *b, const char *s)
{
    return nlp_buf_add(b, s, strlen(s));
}

/* "name":{"dtype":"F32","shape":[...],"data_offsets":[off,end]}, after a
 * comma unless it is the header's first entry. */
static int add_entry(nlp_buf *b, const nlp_tensor_desc *t, uint64_t off, uint64_t end, int first)
{
    char num[48];
    int ok = (first || add_text(b, ",")) && add_json_string(b, t->name) && add_text(b, ":{\"dtype\":")
             && add_json_string(b, nlp_dtype_name(t->dtype)) && add_text(b, ",\"shape\":[");
    for (int d = 0; ok && d < t->ndim; d++) {
        snprintf(num, sizeof num, "%s%" PRId64, d ? "," : "", t->shape[d]);
        ok = add_text(b, num);
    }
    snprintf(num, sizeof num, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", off, end);
    return ok && add_text(b, num);
}

/* The padded header for the n tensors, whose sizes go to bytes[n]. */
static nlp_status build_header(nlp_buf *b, const nlp_tensor_desc *t, size_t n, uint64_t *bytes,
                               const nlp_tensor_meta *meta, size_t n_meta, const char *path,
                               nlp_error *err)
{
    int ok = add_text(b, "{");
    if (n_meta) {
        ok = ok && add_text(b, "\"__metadata__\":{");
        for (size_t i = 0; ok && i < n_meta; i++)
            ok = (!i || add_text(b, ",")) && add_json_string(b, meta[i].key)
                 && add_text(b, ":") && add_json_string(b, meta[i].value);
        ok = ok && add_text(b, "}");
    }
    uint64_t off = 0;
    for (size_t i = 0; ok && i < n; i++) {
        if ((bytes[i] = tensor_bytes(&t[i])) == UINT64_MAX || off > UINT64_MAX / 2 - bytes[i])
            return nlp_error_set(err, NLP_ERR_INVALID_ARG, "%s: tensor %zu (%s) has a bad dtype, "
                                 "shape or no data", path, i, t[i].name ? t[i].name : "unnamed");
        ok = add_entry(b, &t[i], off, off + bytes[i], i == 0 && n_meta == 0);
        off += bytes[i];
    }
    ok = ok && add_text(b, "}");
    while (ok && b->len % 8)
        ok = add_text(b, " ");
    return ok ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
}

/* Open a new temporary file beside path; its name goes to tmp. */
static FILE *open_temp(const char *path, char *tmp, size_t cap)
{
    for (int i = 0; i < 1000; i++) {
        snprintf(tmp, cap, "%s.tmp.%ld.%d", path, (long)getpid(), i);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            FILE *fp = fdopen(fd, "wb");
            if (!fp)
                close(fd), unlink(tmp);
            return fp;
        }
        if (errno != EEXIST)
            return NULL;
    }
    return NULL;
}

/* The header length, the header, then every tensor's bytes. */
static nlp_status write_body(nlp_tensor_sink *sink, const nlp_buf *hdr, const nlp_tensor_desc *t,
                             size_t n, const uint64_t *bytes, nlp_error *err)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)((uint64_t)hdr->len >> (8 * i));
    sink->left = 8 + (uint64_t)hdr->len;
    nlp_status st = nlp_tensor_sink_write(sink, le, 8, err);
    if (st == NLP_OK)
        st = nlp_tensor_sink_write(sink, hdr->p, hdr->len, err);
    for (size_t i = 0; st == NLP_OK && i < n; i++) {
        sink->left = bytes[i];
        st = t[i].data ? nlp_tensor_sink_write(sink, t[i].data, (size_t)bytes[i], err)
                       : t[i].fill(t[i].fill_arg, &t[i], sink, err);
        if (st == NLP_OK && sink->left)
            st = nlp_error_set(err, NLP_ERR_INVALID_ARG, "%s: the fill of tensor %s wrote %" PRIu64
                               " bytes too few", sink->path, t[i].name, sink->left);
    }
    return st;
}

nlp_status nlp_safetensors_write(const char *path, const nlp_tensor_desc *tensors, size_t n,
                                 const nlp_tensor_meta *meta, size_t n_meta, nlp_error *err)
{
    nlp_buf hdr = {0};
    uint64_t *bytes = calloc(n ? n : 1, sizeof *bytes);
    if (!bytes)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    nlp_status st = build_header(&hdr, tensors, n, bytes, meta, n_meta, path, err);
    size_t cap = strlen(path) + 64;
    char *tmp = st == NLP_OK ? malloc(cap) : NULL;
    if (st == NLP_OK && !tmp)
        st = nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    FILE *fp = tmp ? open_temp(path, tmp, cap) : NULL;
    if (tmp && !fp)
        st = nlp_error_set(err, NLP_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    if (fp) {
        nlp_tensor_sink sink = { fp, tmp, 0 };
        st = write_body(&sink, &hdr, tensors, n, bytes, err);
        errno = 0;
        if (fclose(fp) != 0 && st == NLP_OK)
            st = write_error(err, tmp);
        if (st == NLP_OK && rename(tmp, path) != 0)
            st = nlp_error_set(err, NLP_ERR_IO, "cannot rename %s to %s: %s", tmp, path,
                               strerror(errno));
        if (st != NLP_OK)
            unlink(tmp);
    }
    free(tmp);
    free(bytes);
    free(hdr.p);
    return st;
}
