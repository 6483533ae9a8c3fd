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
 * call (chunk 0 means all at once), and apply the model's per-token head
 * (NLP_HEAD_TOKEN_CLS or NLP_HEAD_QA, out outputs) to every real token.  The results are packed: the rows of
 * encoding i (encs[i]->n of them, [out] each) start at row off[i] of
 * `out_rows`, where off[i] is the sum of the lengths before i; out_rows
 * must hold sum(n_i) * out floats.  Padding uses pad_id.  Errors are
 * fatal (encoder failure, out of memory). */
nlp_status nlp_tc_token_head(const nlp_host_api *host, nlp_ctx *ctx,
                             nlp_tc_head_scratch *s,
                             const nlp_encoding *const *encs, size_t n,
                             size_t chunk, int32_t pad_id, size_t H,
                             nlp_head head, size_t out,
                             float *out_rows, nlp_error *err);

void nlp_tc_head_scratch_free(nlp_tc_head_scratch *s);

/* One window of one input: tokens [a, b) of the windowed sequence, its
 * encoding with the template at the same index of nlp_tc_windows.enc. */
typedef struct nlp_tc_window {
    size_t input;           /* index of the input */
    size_t a, b;            /* token range of the windowed sequence */
    size_t row;             /* first packed head row (the window's [CLS]) */
} nlp_tc_window;

/* The windows of a run and their per-token head outputs, reused across
 * runs (arrays only grow). */
typedef struct nlp_tc_windows {
    size_t n;               /* windows this run */
    size_t rows;            /* packed rows: the sum of the windows' lengths */
    nlp_tc_window *win;     /* [n] */
    size_t cap_win;         /* bytes */
    nlp_encoding *enc;      /* [n] windows with the template */
    size_t cap_enc;         /* entries */
    const nlp_encoding **ptr; /* [n] &enc[k], for nlp_tc_token_head */
    size_t cap_ptr;         /* bytes */
    float *out;             /* [rows][out] head outputs */
    size_t cap_out;         /* bytes */
    nlp_tc_head_scratch head;
} nlp_tc_windows;

/* Forget the windows of the previous run (memory is kept). */
void nlp_tc_windows_clear(nlp_tc_windows *ws);

/* Append the windows of input `input`: doc cut into windows of `width`
 * tokens sharing `stride` (nlp_tc_window_range), each wrapped by the
 * tokenizer's template as [CLS] doc[a:b] [SEP] when first is NULL, else
 * [CLS] first [SEP] doc[a:b] [SEP].  doc->n == 0 adds nothing.  Errors
 * are fatal (out of memory, template failure). */
nlp_status nlp_tc_windows_add(const nlp_host_api *host, nlp_tc_windows *ws,
                              const nlp_tokenizer *tok, size_t input,
                              const nlp_encoding *first, const nlp_encoding *doc,
                              size_t width, size_t stride, nlp_error *err);

/* Run the encoder and the model's per-token head (out outputs per token)
 * over every window (nlp_tc_token_head, `chunk` windows per forward call): the
 * outputs of window k start at row ws->win[k].row of ws->out. */
nlp_status nlp_tc_windows_head(const nlp_host_api *host, nlp_tc_windows *ws, nlp_ctx *ctx,
                               size_t chunk, int32_t pad_id, size_t H,
                               nlp_head head, size_t out, nlp_error *err);

/* Number of windows of input `input` from window *k on (windows of one
 * input are consecutive); advances *k past them. */
size_t nlp_tc_windows_next(const nlp_tc_windows *ws, size_t input, size_t *k);

void nlp_tc_windows_free(const nlp_host_api *host, nlp_tc_windows *ws);

/* Code points in the UTF-8 string s[0..len) (continuation bytes are not
 * counted). */
size_t nlp_tc_utf8_len(const char *s, size_t len);

#endif /* NLP_TC_WINDOW_H */
