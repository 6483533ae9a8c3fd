/*
 * tc_window.h - overlapping windows over long inputs, and per-token heads
 * run over many windows (shared by the ner and qa plugins; part of
 * tasks/common/libtaskcommon.la).
 *
 * A text longer than the model accepts is cut the way Hugging Face
 * tokenizers cut with return_overflowing_tokens: windows of `width`
 * tokens, each starting width - stride tokens after the previous one, until
 * a window reaches the end.  Consecutive windows share `stride` tokens.
 */
#ifndef NLP_TC_WINDOW_H
#define NLP_TC_WINDOW_H

#include <stddef.h>
#include <stdint.h>
#include "nlp/plugin.h"
#include "task_common.h"

/* Number of windows covering n tokens (1 when n <= width; n == 0 gives
 * 1 too).  Requires stride < width when n > width. */
size_t nlp_tc_window_count(size_t n, size_t width, size_t stride);

/* Token range [*start, *stop) of window k of nlp_tc_window_count(). */
void nlp_tc_window_range(size_t n, size_t width, size_t stride, size_t k,
                         size_t *start, size_t *stop);

/* Scratch reused by nlp_tc_token_head across calls. */
typedef struct nlp_tc_head_scratch {
    nlp_tc_batch batch;
    float *rows;            /* [B][T][out] */
    size_t cap_rows;        /* bytes */
} nlp_tc_head_scratch;

/* Run the encoder over encs[0..n), at most `chunk` encodings per forward
 * call (chunk 0 means all at once), and apply the linear head W [out][H],
 * bias [out] to every real token.  The results are packed: the rows of
 * encoding i (encs[i]->n of them, [out] each) start at row off[i] of
 * `out_rows`, where off[i] is the sum of the lengths before i; out_rows
 * must hold sum(n_i) * out floats.  Padding uses pad_id.  Errors are
 * fatal (encoder failure, out of memory). */
nlp_status nlp_tc_token_head(const nlp_host_api *host, nlp_ctx *ctx,
                             nlp_tc_head_scratch *s,
                             const nlp_encoding *const *encs, size_t n,
                             size_t chunk, int32_t pad_id, size_t H,
                             const float *W, const float *bias, size_t out,
                             float *out_rows, nlp_error *err);

void nlp_tc_head_scratch_free(nlp_tc_head_scratch *s);

/* Code points in the UTF-8 string s[0..len) (continuation bytes are not
 * counted). */
size_t nlp_tc_utf8_len(const char *s, size_t len);

#endif /* NLP_TC_WINDOW_H */
