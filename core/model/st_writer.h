/*
 * st_writer.h - write .safetensors files, the counterpart of the reader
 * in safetensors.h (private to libnlp).
 *
 * A file is an 8-byte little-endian header length, a JSON header
 * ("__metadata__" first, then each tensor's dtype, shape and
 * data_offsets), padded with spaces to a multiple of 8 bytes, then the
 * tensors' raw little-endian bytes back to back in header order.
 * Tensors are stored sorted by name (all of one dtype, this is the order
 * the reference implementation uses too).
 */
#ifndef NLP_ST_WRITER_H
#define NLP_ST_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "nlp/status.h"
#include "safetensors.h"

/* One tensor to write; the caller owns everything it points at. */
typedef struct nlp_st_entry {
    const char *name;
    nlp_dtype dtype;
    int ndim;                        /* 0 .. NLP_ST_MAX_DIMS */
    int64_t shape[NLP_ST_MAX_DIMS];
    const void *data;                /* product(shape) elements of dtype */
} nlp_st_entry;

/* Write the n tensors (names unique) and the metadata (n_meta pairs
 * meta[2i] = key, meta[2i+1] = value; may be 0) to path, through a
 * temporary file renamed into place, so path is either the old file or
 * the complete new one.  Returns NLP_OK, NLP_ERR_INVALID_ARG (a
 * duplicate or empty name, a bad dtype or shape), NLP_ERR_NOSPACE or
 * NLP_ERR_IO naming the file, NLP_ERR_NOMEM. */
nlp_status nlp_st_write(const char *path, const nlp_st_entry *tensors, size_t n,
                        const char *const *meta, size_t n_meta, nlp_error *err);

#endif /* NLP_ST_WRITER_H */
