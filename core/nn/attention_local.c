/*
 * attention_local.c - multi-head self-attention within a sliding window
 * (layers_modern.h), ModernBERT's local layers.  Each worker takes
 * (batch row, head) pairs; for every query it scores only the keys in
 * its window, so the cost is N * window * dh rather than N * T * dh.
 * Keys outside the window are simply not summed: Hugging Face adds
 * finfo(float32).min to them, whose weights underflow to exactly 0.
 */
#include <math.h>
#include "attn_heads.h"
#include "layers_modern.h"

size_t nlp_attention_local_scratch_floats(size_t T, int n_threads)
{
    return (size_t)(n_threads > 0 ? n_threads : 1) * (T + 16);
}

typedef struct {
    nlp_attn_heads a;             /* the (batch row, head) pairs */
    size_t half;                  /* keys within half positions either side */
    float *scratch;               /* [tasks][T + 16] */
} local_job;

/* One query row: out[dh] = softmax(q . K[j0..j1]^T * scale) V[j0..j1],
 * with s [j1 - j0 + 1] for the weights. */
static void local_row(const local_job *j, const float *q, const float *K, const float *V,
                      size_t j0, size_t j1, float *s, float *out)
{
    const size_t dh = j->a.H / j->a.nh, ld = j->a.ld;
    const float scale = 1.0f / sqrtf((float)dh);
    float mx = -INFINITY;
    for (size_t c = j0; c <= j1; c++) {
        const float *kr = K + c * ld;
        float d = 0.0f;
        for (size_t i = 0; i < dh; i++)
            d += q[i] * kr[i];
        s[c - j0] = d * scale;
        if (s[c - j0] > mx)
            mx = s[c - j0];
    }
    double sum = 0.0;
    for (size_t c = 0; c <= j1 - j0; c++) {
        s[c] = expf(s[c] - mx);
        sum += s[c];
    }
    const float inv = (float)(1.0 / sum);
    for (size_t i = 0; i < dh; i++)
        out[i] = 0.0f;
    for (size_t c = j0; c <= j1; c++) {
        const float p = s[c - j0] * inv;
        const float *vr = V + c * ld;
        for (size_t i = 0; i < dh; i++)
            out[i] += p * vr[i];
    }
}

static void local_worker(void *vp, size_t task)
{
    local_job *j = vp;
    const size_t ld = j->a.ld, H = j->a.H;
    float *s = j->scratch + task * (j->a.T + 16);
    nlp_attn_head p;
    while (nlp_attn_heads_next(&j->a, &p))
        for (size_t i = 0; i < p.L; i++) {
            const size_t j0 = i > j->half ? i - j->half : 0;
            const size_t j1 = i + j->half < p.L - 1 ? i + j->half : p.L - 1;
            local_row(j, p.Q + i * ld, p.K, p.V, j0, j1, s, p.O + i * H);
        }
}

void nlp_attention_local_forward(nlp_pool *pool, float *out, const float *q, const float *k,
                                 const float *v, size_t ldqkv, const int32_t *lengths,
                                 const size_t *offs, size_t B, size_t T, size_t H, size_t nh,
                                 size_t half, float *scratch)
{
    local_job j;
    nlp_attn_heads_init(&j.a, out, q, k, v, ldqkv, lengths, offs, B, T, H, nh);
    j.half = half;
    j.scratch = scratch;
    nlp_attn_heads_run(pool, &j.a, local_worker, &j);
}
