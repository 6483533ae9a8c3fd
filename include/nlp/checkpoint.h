/*
 * nlp/checkpoint.h - writing checkpoints: a model.safetensors from a list
 * of named tensors, the int8/bf16/fp16 copy of a checkpoint (`nlp quantize`)
 * and the random-weight checkpoint of a shape (`nlp bench`).
 *
 * A safetensors file is an 8-byte little-endian header length N, N bytes
 * of JSON ({"__metadata__": {...}, "name": {"dtype", "shape",
 * "data_offsets": [begin, end]}, ...}, padded with spaces to a multiple of
 * 8) and the tensors' raw little-endian bytes, in list order.  Files are
 * written under a temporary name in the target folder and renamed into
 * place, so the final name never holds a partial file.
 *
 * The quantized format (nlp_checkpoint_quantize):
 *   - int8: each layer weight NAME (nlp_checkpoint_is_layer_weight) of
 *     shape [N][K] becomes NAME, dtype I8, with m[n] = max_k |w[n][k]| (in
 *     F32), q = w * (127 / m[n]) rounded to nearest (ties to even) and
 *     clamped to [-127, 127] (0 for a row of zeros), followed by
 *     NAME_scale, dtype F32, shape [N], s[n] = m[n] / 127: one scale per
 *     output channel, the scheme of the int8 kernels, so an int8 context recovers
 *     exactly these values.  The loader reads NAME as q * s[n].
 *     With int8_embeddings the word-embedding matrix
 *     (PREFIX.embeddings.word_embeddings.weight, [vocab][hidden]) is
 *     stored the same way, one scale per row (per token); the loader
 *     dequantizes it at load into an F32 buffer the model owns, which the
 *     embedding lookup and a masked-LM decoder tied to it both read.
 *     With rest_f16 every other F32 or BF16 tensor is stored as F16 as
 *     below (the NAME_scale tensors stay F32).
 *   - bf16: the same weights become BF16 (round to nearest even).
 *   - fp16: every F32 and BF16 tensor becomes F16 (IEEE binary16, round
 *     to nearest even, subnormals kept, NaN as the quiet 0x7e00), the
 *     bits PyTorch's Tensor.half() gives, so the file is what
 *     model.half() and save_pretrained write; F16, F64 and integer tensors
 *     are kept (and the F32 NAME_scale of an I8 tensor NAME).  A finite
 *     value of 65520 or more in magnitude (one that would round to an
 *     infinity) is NLP_ERR_UNSUPPORTED naming the tensor, before anything
 *     is written.  The loader converts F16 to F32 at load, so such a copy
 *     runs as fp32.
 *   Every other tensor keeps its dtype and bytes, in the input's (sorted)
 *   order.  __metadata__ is {"format": "pt", "nlp_quantize":
 *   "int8"|"bf16"|"fp16"}.
 *   Every other regular file of the input folder (config.json included,
 *   not hidden, not model.safetensors*) is copied as it is.  Sharded
 *   inputs are not handled yet.
 */
#ifndef NLP_CHECKPOINT_H
#define NLP_CHECKPOINT_H

#include "nlp/export.h"

#include <stddef.h>
#include <stdint.h>
#include "nlp/status.h"
#include "nlp/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tensor element types, as safetensors spells them.  Append-only. */
typedef enum nlp_dtype {
    NLP_DT_F32 = 0,
    NLP_DT_F16,
    NLP_DT_BF16,
    NLP_DT_F64,
    NLP_DT_F8_E4M3,
    NLP_DT_F8_E5M2,
    NLP_DT_I8,
    NLP_DT_U8,
    NLP_DT_BOOL,
    NLP_DT_I16,
    NLP_DT_U16,
    NLP_DT_I32,
    NLP_DT_U32,
    NLP_DT_I64,
    NLP_DT_U64,
    NLP_DT_COUNT            /* not a dtype; keep last */
} nlp_dtype;

/* The safetensors spelling of a dtype ("F32"; "?" for an unknown value). */
NLP_API const char *nlp_dtype_name(nlp_dtype dt);

/* Bytes per element of a dtype (0 for an unknown value). */
NLP_API size_t nlp_dtype_size(nlp_dtype dt);

/* Most dimensions a tensor may have. */
#define NLP_TENSOR_MAX_DIMS 8

/* Where a fill callback writes a tensor's bytes (owned by the writer). */
typedef struct nlp_tensor_sink nlp_tensor_sink;

/* Append n bytes of the tensor being written.  Writing more bytes than the
 * tensor holds is NLP_ERR_INVALID_ARG; a failed write is NLP_ERR_IO (or
 * NLP_ERR_NOSPACE), naming the file. */
NLP_API nlp_status nlp_tensor_sink_write(nlp_tensor_sink *sink, const void *bytes, size_t n,
                                 nlp_error *err);

struct nlp_tensor_desc;

/* Produces the bytes of tensor t through nlp_tensor_sink_write, in order
 * and exactly as many as its dtype and shape make (any chunk sizes).
 * Returns NLP_OK, or a status with err filled. */
typedef nlp_status (*nlp_tensor_fill_fn)(void *arg, const struct nlp_tensor_desc *t,
                                         nlp_tensor_sink *sink, nlp_error *err);

/* One tensor to write.  Its bytes come from data (numel * dtype size
 * bytes) when data is not NULL, else from fill(fill_arg, ...), called
 * once, when the writer reaches the tensor, so large tensors need not be
 * in memory at once.  Everything is borrowed from the caller. */
typedef struct nlp_tensor_desc {
    const char *name;
    nlp_dtype dtype;
    int ndim;                           /* 0 (a scalar) .. NLP_TENSOR_MAX_DIMS */
    int64_t shape[NLP_TENSOR_MAX_DIMS];
    const void *data;
    nlp_tensor_fill_fn fill;
    void *fill_arg;
} nlp_tensor_desc;

/* One "__metadata__" entry (both strings borrowed). */
typedef struct nlp_tensor_meta {
    const char *key, *value;
} nlp_tensor_meta;

/* Write the safetensors file path: the header holds __metadata__ (the
 * n_meta entries, in order; left out when n_meta is 0) and then the n
 * tensors in list order.  The bytes go to a temporary file in path's
 * folder (which must exist) that is renamed to path once complete; on
 * failure it is removed and path is untouched.  Returns NLP_OK, or
 * NLP_ERR_INVALID_ARG (a bad dtype, shape or tensor without data),
 * NLP_ERR_IO / NLP_ERR_NOSPACE, NLP_ERR_NOMEM, or what a fill callback
 * returned. */
NLP_API nlp_status nlp_safetensors_write(const char *path, const nlp_tensor_desc *tensors, size_t n,
                                 const nlp_tensor_meta *meta, size_t n_meta, nlp_error *err);

/* 1 if the quantizer converts a tensor of this name, dtype and rank: a
 * 2-D F32, F16 or BF16 tensor that is the weight of a dense layer of an
 * encoder layer (query, key, value, attention output, intermediate,
 * output) as any supported family names it, else 0. */
NLP_API int nlp_checkpoint_is_layer_weight(const char *name, nlp_dtype dtype, int ndim);

/* Options of nlp_checkpoint_quantize; zero-initialise.  Fields are only
 * ever added at the end. */
typedef struct nlp_quantize_opts {
    int force;              /* write into an existing out_dir */
    int int8_embeddings;    /* I8 only: the word embeddings as I8 too */
    int rest_f16;           /* I8 only: every other F32 / BF16 tensor as F16 */
} nlp_quantize_opts;

/* What nlp_checkpoint_quantize did. */
typedef struct nlp_quantize_info {
    size_t n_quantized;     /* tensors stored as I8 (layer weights, and the word
                               embeddings with int8_embeddings) or BF16 */
    uint64_t in_bytes;      /* size of the input model.safetensors */
    uint64_t out_bytes;     /* size of the written model.safetensors */
    size_t n_f16;           /* tensors converted to F16 */
} nlp_quantize_info;

/* Write to out_dir a copy of the checkpoint in in_dir (which must load
 * with nlp_model_load) whose layer weights are stored as dtype, NLP_DT_I8
 * or NLP_DT_BF16, or whose every float tensor is stored as NLP_DT_F16
 * (format above), and check that the copy loads.  opts (may be NULL) adds
 * int8 word embeddings and an F16 rest to an I8 copy (either with another
 * dtype is NLP_ERR_INVALID_ARG).  out_dir is created (its parent must
 * exist); an existing out_dir is NLP_ERR_CONFLICT unless opts->force, and
 * out_dir being in_dir is NLP_ERR_INVALID_ARG even then.  A sharded input
 * is NLP_ERR_UNSUPPORTED, a folder without model.safetensors
 * NLP_ERR_NOT_FOUND, a value outside the F16 range NLP_ERR_UNSUPPORTED
 * (out_dir is then not created).  info (may be NULL) is filled on
 * success. */
NLP_API nlp_status nlp_checkpoint_quantize(const char *in_dir, const char *out_dir, nlp_dtype dtype,
                                   const nlp_quantize_opts *opts, nlp_quantize_info *info,
                                   nlp_error *err);

/* The sizes of a BERT or DistilBERT encoder. */
typedef struct nlp_checkpoint_shape {
    int distil;             /* 1: DistilBERT names and config, 0: BERT */
    int layers, hidden, heads, intermediate;
    int vocab, positions;
    int types;              /* token types (BERT only) */
} nlp_checkpoint_shape;

/* The shape of the checkpoint cfg describes, into *out.  NLP_OK, or
 * NLP_ERR_UNSUPPORTED naming the model_type when cfg is not BERT or
 * DistilBERT (nlp_checkpoint_write_random_config takes every family). */
NLP_API nlp_status nlp_checkpoint_shape_of(const nlp_config *cfg, nlp_checkpoint_shape *out,
                                           nlp_error *err);

/* Write into dir a BERT or DistilBERT checkpoint of shape s with random
 * weights from a fixed seed (always the same bytes for the same shape): config.json and an F32
 * model.safetensors with the Hugging Face tensor names.  Both are written
 * into a temporary folder beside dir that is renamed to dir, so dir never
 * holds half a checkpoint; missing parents of dir are created.  dir must
 * not exist or be empty.  Returns NLP_OK, NLP_ERR_INVALID_ARG for a shape
 * with a size below 1, NLP_ERR_IO / NLP_ERR_NOSPACE or NLP_ERR_NOMEM. */
NLP_API nlp_status nlp_checkpoint_write_random(const char *dir, const nlp_checkpoint_shape *s,
                                       nlp_error *err);

/* Write into dir the config.json text config_json (NUL-terminated, kept
 * byte for byte) and an F32 model.safetensors with random weights from a
 * fixed seed for every tensor nlp_model_load binds for that config's
 * encoder, in any family: embeddings, layers, relative-position parts,
 * under the Hugging Face names (no pooler, no task heads).  LayerNorm
 * gains are ones and their biases zeros.  Written as
 * nlp_checkpoint_write_random does (a temporary folder renamed to dir).
 * Errors in config_json name source (a path or label; NULL:
 * "config.json").  Returns NLP_OK, the status of nlp_config_parse for a
 * config it refuses (nothing is written then), NLP_ERR_INVALID_ARG,
 * NLP_ERR_IO, NLP_ERR_NOSPACE (also before writing, when the weights
 * would not fit in the free space of dir's file system) or
 * NLP_ERR_NOMEM. */
NLP_API nlp_status nlp_checkpoint_write_random_config(const char *dir, const char *config_json,
                                                      const char *source, nlp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NLP_CHECKPOINT_H */
