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
                             const float *W, const float *bias, size_t out,
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
        host->linear(ctx, hidden, B * T, H, W, bias, out, s->rows); /* [B][T][out] */
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
