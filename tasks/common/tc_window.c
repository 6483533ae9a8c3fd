/*
 * tc_window.c - overflow windows and per-token linear heads over batches
 * of windows (see tc_window.h).
 */
#include <stdlib.h>
#include <string.h>
#include "tc_window.h"

size_t nlp_tc_window_count(size_t n, size_t width, size_t stride)
{
    if (n <= width || width == 0 || stride >= width)
        return 1;
    size_t step = width - stride;
    /* windows start at 0, step, 2 step, ...; the last one reaches n */
    return 1 + (n - width + step - 1) / step;
}

void nlp_tc_window_range(size_t n, size_t width, size_t stride, size_t k,
                         size_t *start, size_t *stop)
{
    if (n <= width || width == 0 || stride >= width) {
        *start = 0;
        *stop = n;
        return;
    }
    size_t a = k * (width - stride);
    size_t b = a + width;
    *start = a;
    *stop = b < n ? b : n;
}

nlp_status nlp_tc_token_head(const nlp_host_api *host, nlp_ctx *ctx,
                             nlp_tc_head_scratch *s,
                             const nlp_encoding *const *encs, size_t n,
                             size_t chunk, int32_t pad_id, size_t H,
                             nlp_head head, size_t out,
                             float *out_rows, nlp_error *err)
{
    if (chunk == 0)
        chunk = n;
    size_t row = 0; /* next packed output row */
    for (size_t first = 0; first < n; first += chunk) {
        size_t B = n - first < chunk ? n - first : chunk;
        nlp_status st = nlp_tc_batch_pack(host, &s->batch, encs + first, B, pad_id, err);
        if (st != NLP_OK)
            return st;
        size_t T = s->batch.batch.seq;
        st = nlp_tc_reserve(host, (void **)&s->rows, &s->cap_rows,
                            B * T * out * sizeof(float), err);
        if (st != NLP_OK)
            return st;
        const float *hidden = NULL; /* [B][T][H] */
        st = host->encoder_forward(ctx, &s->batch.batch, &hidden, err);
        if (st != NLP_OK)
            return st;
        st = host->head_forward(ctx, head, hidden, B * T, H, s->rows, err); /* [B][T][out] */
        if (st != NLP_OK)
            return st;
        for (size_t b = 0; b < B; b++) {
            size_t len = encs[first + b]->n;
            memcpy(out_rows + row * out, s->rows + b * T * out, len * out * sizeof(float));
            row += len;
        }
    }
    return NLP_OK;
}

void nlp_tc_head_scratch_free(nlp_tc_head_scratch *s)
{
    if (!s)
        return;
    nlp_tc_batch_free(&s->batch);
    free(s->rows);
    memset(s, 0, sizeof(*s));
}

size_t nlp_tc_utf8_len(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* ------------------------------------------------------------ window lists */

void nlp_tc_windows_clear(nlp_tc_windows *ws)
{
    ws->n = 0;
    ws->rows = 0;
}

nlp_status nlp_tc_windows_add(const nlp_host_api *host, nlp_tc_windows *ws,
                              const nlp_tokenizer *tok, size_t input,
                              const nlp_encoding *first, const nlp_encoding *doc,
                              size_t width, size_t stride, nlp_error *err)
{
    if (doc->n == 0)
        return NLP_OK;
    size_t cnt = nlp_tc_window_count(doc->n, width, stride), m = ws->n + cnt;
    nlp_status st;
    if ((st = nlp_tc_encodings_reserve(host, &ws->enc, &ws->cap_enc, m, err)) ||
        (st = nlp_tc_reserve(host, (void **)&ws->win, &ws->cap_win, m * sizeof(nlp_tc_window), err)) ||
        (st = nlp_tc_reserve(host, (void **)&ws->ptr, &ws->cap_ptr, m * sizeof(nlp_encoding *), err)))
        return st;
    for (size_t c = 0; c < cnt; c++) {
        size_t k = ws->n;
        nlp_tc_window *w = &ws->win[k];
        w->input = input;
        nlp_tc_window_range(doc->n, width, stride, c, &w->a, &w->b);
        if (first)
            st = host->apply_template(tok, first, 0, first->n, doc, w->a, w->b - w->a,
                                      &ws->enc[k], err);
        else
            st = host->apply_template(tok, doc, w->a, w->b - w->a, NULL, 0, 0, &ws->enc[k], err);
        if (st != NLP_OK)
            return st;
        w->row = ws->rows;
        ws->rows += ws->enc[k].n;
        ws->n++;
    }
    return NLP_OK;
}

nlp_status nlp_tc_windows_head(const nlp_host_api *host, nlp_tc_windows *ws, nlp_ctx *ctx,
                               size_t chunk, int32_t pad_id, size_t H,
                               nlp_head head, size_t out, nlp_error *err)
{
    if (ws->n == 0)
        return NLP_OK;
    nlp_status st = nlp_tc_reserve(host, (void **)&ws->out, &ws->cap_out,
                                   ws->rows * out * sizeof(float), err);
    if (st != NLP_OK)
        return st;
    /* enc may have moved while windows were added: point at it now */
    for (size_t k = 0; k < ws->n; k++)
        ws->ptr[k] = &ws->enc[k];
    return nlp_tc_token_head(host, ctx, &ws->head, ws->ptr, ws->n, chunk, pad_id, H, head,
                             out, ws->out, err);
}

size_t nlp_tc_windows_next(const nlp_tc_windows *ws, size_t input, size_t *k)
{
    size_t first = *k;
    while (*k < ws->n && ws->win[*k].input == input)
        (*k)++;
    return *k - first;
}

void nlp_tc_windows_free(const nlp_host_api *host, nlp_tc_windows *ws)
{
    nlp_tc_encodings_free(host, &ws->enc, &ws->cap_enc);
    free(ws->win);
    free(ws->ptr);
    free(ws->out);
    nlp_tc_head_scratch_free(&ws->head);
    memset(ws, 0, sizeof(*ws));
}
