/*
 * safetensors.h - read-only access to .safetensors weight files (private to
 * libnlp).
 *
 * A safetensors file is an 8-byte little-endian header length N, N bytes of
 * JSON ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
 * "__metadata__": {...}}) and the raw tensor bytes, offsets being relative
 * to the end of the header.  nlp_st_open() maps one file read-only
 * (PROT_READ, MAP_PRIVATE) and validates the whole header;
 * nlp_st_open_index() does the same for every shard listed in a
 * model.safetensors.index.json "weight_map".  Tensor data is never read at
 * open time, so opening costs the header parse only.  The dtypes and the
 * writer are public (nlp/checkpoint.h).
 */
#ifndef NLP_SAFETENSORS_H
#define NLP_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "nlp/checkpoint.h"
#include "nlp/status.h"

/* Most dimensions a tensor may have. */
#define NLP_ST_MAX_DIMS NLP_TENSOR_MAX_DIMS

/* One tensor of a mapped file.  data points into the read-only mapping. */
typedef struct nlp_st_tensor {
    char *name;
    nlp_dtype dtype;
    int ndim;
    int64_t shape[NLP_ST_MAX_DIMS];
    int64_t numel;          /* product of shape (1 for a scalar) */
    const void *data;       /* nbytes bytes inside the mapping */
    size_t nbytes;
    int file;               /* index of the file (shard) holding it */
} nlp_st_tensor;

/* One mapped file. */
typedef struct nlp_st_file {
    char *path;
    void *map;              /* PROT_READ mapping of the whole file */
    size_t size;            /* file size in bytes */
} nlp_st_file;

/* A set of mapped files and their tensors, sorted by name. */
typedef struct nlp_st {
    nlp_st_file *files;
    int n_files;
    nlp_st_tensor *tensors; /* [n_tensors], sorted by strcmp on name */
    size_t n_tensors;
    char *source;           /* the file named in messages (file or index) */
} nlp_st;

/* Map and validate one .safetensors file.  On success *out is a new set
 * the caller releases with nlp_st_close().  Errors name the path and the
 * problem (truncated header, invalid JSON, offsets outside the file, ...). */
nlp_status nlp_st_open(const char *path, nlp_st **out, nlp_error *err);

/* Map every shard named in the "weight_map" of a
 * model.safetensors.index.json (shards are resolved in the index's
 * directory) and check that each listed tensor is in its shard.  A tensor
 * name found in two shards is an error. */
nlp_status nlp_st_open_index(const char *index_path, nlp_st **out, nlp_error *err);

/* The tensor called name, or NULL.  Binary search. */
const nlp_st_tensor *nlp_st_find(const nlp_st *st, const char *name);

/* Total bytes of the mapped files. */
size_t nlp_st_mapped_bytes(const nlp_st *st);

/* Unmap the files and free st.  NULL is a no-op. */
void nlp_st_close(nlp_st *st);

/* Exact conversions of one element to F32 (subnormals, infinities and NaN
 * payloads included).  An F16 signalling NaN comes out quiet, as IEEE 754
 * format conversion (and F16C hardware, and PyTorch) makes it; BF16 is a
 * plain widening, NaNs untouched, as PyTorch does it. */
float nlp_f16_to_f32(uint16_t h);
float nlp_bf16_to_f32(uint16_t b);

/* F32 -> F16 (IEEE binary16), rounded to nearest even, as PyTorch's
 * Tensor.half() does it: subnormal results are kept, infinities stay
 * infinite and a NaN becomes the quiet NaN 0x7e00 with its sign.  A finite
 * f whose rounding goes past the largest half (65504, so |f| >= 65520)
 * gives an infinity and sets *overflow to 1; *overflow is left alone
 * otherwise. */
uint16_t nlp_f32_to_f16(float f, int *overflow);

/* Convert t (F32, F16, BF16 or F64) into dst[t->numel] as F32.  F64 is
 * rounded to nearest.  Other dtypes give NLP_ERR_SHAPE naming the tensor. */
nlp_status nlp_st_to_f32(const nlp_st *st, const nlp_st_tensor *t, float *dst,
                         nlp_error *err);

#endif /* NLP_SAFETENSORS_H */
