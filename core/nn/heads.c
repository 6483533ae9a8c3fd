/*
 * heads.c - training-side task heads and losses (see heads.h): masked-LM
 * head, sequence classification (BERT pooler + classifier, DistilBERT
 * pre_classifier + classifier), per-token linear heads, cross-entropy
 * with an ignore index, binary cross-entropy with logits and MSE.
 */
#include <math.h>
#include <string.h>

#include "cpu.h"
#include "gemm.h"
#include "gemm_kernels.h"
#include "heads.h"
#include "layers.h"

/* ------------------------------------------------------------ losses */

/* The largest of x[d], and sum exp(x - shift) in double (each exp
 * stored to out unless out is NULL): vectorised on the AVX-512 and AVX2
 * paths (float exp within ~2e-7), else libm in double. */
static float row_max(const float *x, size_t d)
{
#if defined(__x86_64__)
    switch (nlp_cpu_path()) {
    case NLP_PATH_AVX512: return nlp_row_max_avx512(x, d);
    case NLP_PATH_AVX2: return nlp_row_max_avx2(x, d);
    default: break;
    }
#endif
    float mx = -INFINITY;
    for (size_t i = 0; i < d; i++)
        if (x[i] > mx)
            mx = x[i];
    return mx;
}

static double exp_sum(float *out, const float *x, size_t d, float shift)
{
#if defined(__x86_64__)
    switch (nlp_cpu_path()) {
    case NLP_PATH_AVX512: return nlp_exp_sum_avx512(out, x, d, shift);
    case NLP_PATH_AVX2: return nlp_exp_sum_avx2(out, x, d, shift);
    default: break;
    }
#endif
    double s = 0.0;
    for (size_t i = 0; i < d; i++) {
        const double e = exp((double)x[i] - shift);
        if (out)
            out[i] = (float)e;
        s += e;
    }
    return s;
}

/* log(sum exp(x - mx)) + mx over d values. */
static double log_sum_exp(const float *x, size_t d)
{
    const float mx = row_max(x, d);
    return log(exp_sum(NULL, x, d, mx)) + mx;
}

double nlp_cross_entropy_forward(const float *logits, const int32_t *labels,
                                 size_t n, size_t C, int32_t ignore,
                                 size_t *counted)
{
    double sum = 0.0;
    size_t cnt = 0;
    for (size_t r = 0; r < n; r++) {
        if (labels[r] == ignore)
            continue;
        const float *x = logits + r * C;                   /* [C] */
        sum += log_sum_exp(x, C) - x[labels[r]];
        cnt++;
    }
    if (counted)
        *counted = cnt;
    return cnt ? sum / (double)cnt : 0.0;
}

void nlp_cross_entropy_backward(float *dlogits, const float *logits,
                                const int32_t *labels, size_t n, size_t C,
                                int32_t ignore, float scale)
{
    size_t cnt = 0;
    for (size_t r = 0; r < n; r++)
        cnt += labels[r] != ignore;
    const double k = cnt ? (double)scale / (double)cnt : 0.0;
    for (size_t r = 0; r < n; r++) {
        const float *x = logits + r * C;                   /* [C] */
        float *d = dlogits + r * C;
        if (labels[r] == ignore) {
            memset(d, 0, C * sizeof *d);
            continue;
        }
        /* softmax * k, minus k at the label; d may alias x, so the
         * label's logit is not needed after exp_sum */
        const float mx = row_max(x, C);
        const float f = (float)(k / exp_sum(d, x, C, mx));
        for (size_t i = 0; i < C; i++)
            d[i] *= f;
        d[labels[r]] -= (float)k;
    }
}

double nlp_bce_logits_forward(const float *x, const float *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double v = x[i];
        s += (v > 0 ? v : 0) - v * y[i] + log1p(exp(-fabs(v)));
    }
    return n ? s / (double)n : 0.0;
}

void nlp_bce_logits_backward(float *dx, const float *x, const float *y,
                             size_t n, float scale)
{
    const double k = n ? (double)scale / (double)n : 0.0;
    for (size_t i = 0; i < n; i++) {
        const double v = x[i];
        const double sg = v >= 0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
        dx[i] = (float)((sg - y[i]) * k);
    }
}

double nlp_mse_forward(const float *x, const float *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double d = (double)x[i] - y[i];
        s += d * d;
    }
    return n ? s / (double)n : 0.0;
}

void nlp_mse_backward(float *dx, const float *x, const float *y, size_t n,
                      float scale)
{
    const double k = n ? 2.0 * scale / (double)n : 0.0;
    for (size_t i = 0; i < n; i++)
        dx[i] = (float)(((double)x[i] - y[i]) * k);
}

/* ------------------------------------------------------------ MLM head */

void nlp_mlm_head_forward_train(nlp_pool *pool, const nlp_mlm_head_params *w,
                                nlp_activation act, float eps,
                                const float *rows, size_t M, size_t H,
                                size_t V, const nlp_mlm_head_acts *a)
{
    if (M == 0)
        return;
    /* pre[M][H] = rows Wt^T + bt; act = act(pre); t = LayerNorm(act) */
    nlp_sgemm(pool, 1, M, H, H, rows, H, w->dense_w, H, w->dense_b, a->pre, H);
    nlp_activation_forward(pool, act, a->act, a->pre, M * H);
    nlp_layernorm_forward(pool, a->t, a->mean, a->rstd, a->act, w->ln_g, w->ln_b,
                          M, H, eps);
    /* logits[M][V] = t Wd^T + bd */
    nlp_sgemm(pool, 1, M, V, H, a->t, H, w->dec_w, H, w->dec_b, a->logits, V);
}

void nlp_mlm_head_backward(nlp_pool *pool, const nlp_mlm_head_params *w,
                           const nlp_mlm_head_params *g, nlp_activation act,
                           const nlp_mlm_head_acts *a, const float *rows,
                           const float *dlogits, float *dt, float *drows,
                           size_t M, size_t H, size_t V, float *wscratch)
{
    if (M == 0)
        return;
    /* decoder: dWd[V][H] += dlogits^T t, dbd += colsum; dt[M][H] = dlogits Wd */
    nlp_linear_backward_weight(pool, g->dec_w, g->dec_b, dlogits, V, a->t, H, M, V, H, wscratch);
    nlp_linear_backward_input(pool, dt, H, dlogits, V, w->dec_w, M, V, H);
    /* LayerNorm, then the activation, in place in dt */
    nlp_layernorm_backward(pool, dt, g->ln_g, g->ln_b, dt, a->act, a->mean, a->rstd,
                           w->ln_g, M, H);
    nlp_activation_backward(pool, act, dt, dt, a->pre, M * H);
    /* transform: dWt += dpre^T rows; drows = dpre Wt */
    nlp_linear_backward_weight(pool, g->dense_w, g->dense_b, dt, H, rows, H, M, H, H, wscratch);
    nlp_linear_backward_input(pool, drows, H, dt, H, w->dense_w, M, H, H);
}

/* ------------------------------------------------------------ sequence classification */

void nlp_seqcls_forward_train(nlp_pool *pool, const nlp_seqcls_params *w,
                              nlp_pool_act pact, const float *hidden,
                              const size_t *offs, size_t B, size_t H,
                              size_t C, const nlp_dropout *drop,
                              uint64_t stream, const nlp_seqcls_acts *a)
{
    for (size_t b = 0; b < B; b++)
        memcpy(a->first + b * H, hidden + offs[b] * H, H * sizeof(float));
    /* act[B][H] = pact(first Wp^T + bp) */
    nlp_sgemm(pool, 1, B, H, H, a->first, H, w->pool_w, H, w->pool_b, a->act, H);
    for (size_t i = 0; i < B * H; i++)
        a->act[i] = pact == NLP_POOL_TANH ? tanhf(a->act[i])
                  : a->act[i] > 0.0f ? a->act[i] : 0.0f;
    memcpy(a->pooled, a->act, B * H * sizeof(float));
    nlp_dropout_apply(drop, stream, 0, a->pooled, B * H);
    /* logits[B][C] = pooled Wc^T + bc */
    nlp_sgemm(pool, 1, B, C, H, a->pooled, H, w->cls_w, H, w->cls_b, a->logits, C);
}

void nlp_seqcls_backward(nlp_pool *pool, const nlp_seqcls_params *w,
                         const nlp_seqcls_params *g, nlp_pool_act pact,
                         const nlp_seqcls_acts *a, const float *dlogits,
                         float *dhidden, const size_t *offs, size_t B,
                         size_t H, size_t C, const nlp_dropout *drop,
                         uint64_t stream, float *scratch, float *wscratch)
{
    float *dz = scratch;                 /* [B][H] */
    float *dfirst = scratch + B * H;     /* [B][H] */
    nlp_linear_backward_weight(pool, g->cls_w, g->cls_b, dlogits, C, a->pooled, H, B, C, H, wscratch);
    nlp_linear_backward_input(pool, dz, H, dlogits, C, w->cls_w, B, C, H);
    nlp_dropout_apply(drop, stream, 0, dz, B * H);
    /* through tanh (from its output) or ReLU (output > 0 iff input > 0) */
    if (pact == NLP_POOL_TANH)
        nlp_tanh_backward(dz, dz, a->act, B * H);
    else
        nlp_relu_backward(dz, dz, a->act, B * H);
    nlp_linear_backward_weight(pool, g->pool_w, g->pool_b, dz, H, a->first, H, B, H, H, wscratch);
    nlp_linear_backward_input(pool, dfirst, H, dz, H, w->pool_w, B, H, H);
    for (size_t b = 0; b < B; b++)
        nlp_residual_backward(dhidden + offs[b] * H, dfirst + b * H, H);
}

/* ------------------------------------------------------------ per-token heads */

void nlp_token_head_forward_train(nlp_pool *pool, const float *W,
                                  const float *bias, const float *hidden,
                                  size_t N, size_t H, size_t C,
                                  const nlp_dropout *drop, uint64_t stream,
                                  float *in, float *logits)
{
    if (N == 0)
        return;
    memcpy(in, hidden, N * H * sizeof(float));
    nlp_dropout_apply(drop, stream, 0, in, N * H);
    nlp_sgemm(pool, 1, N, C, H, in, H, W, H, bias, logits, C);
}

void nlp_token_head_backward(nlp_pool *pool, const float *W, float *dW,
                             float *db, const float *in,
                             const float *dlogits, float *dhidden, size_t N,
                             size_t H, size_t C, const nlp_dropout *drop,
                             uint64_t stream, float *wscratch)
{
    if (N == 0)
        return;
    nlp_linear_backward_weight(pool, dW, db, dlogits, C, in, H, N, C, H, wscratch);
    nlp_linear_backward_input(pool, dhidden, H, dlogits, C, W, N, C, H);
    nlp_dropout_apply(drop, stream, 0, dhidden, N * H);
}
