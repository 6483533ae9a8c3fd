/*
 * adamw.c - AdamW, the linear schedule and clipping (see adamw.h).
 */
#include <math.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "adamw.h"

void nlp_adamw_update(const nlp_adamw *o, float *restrict p, const float *restrict g,
                      float *restrict m, float *restrict v, size_t n)
{
    const float decay = (float)(1.0 - o->lr * o->weight_decay);
    const float b1 = (float)o->beta1, b2 = (float)o->beta2;
    const float c1 = (float)(1.0 - o->beta1), c2 = (float)(1.0 - o->beta2);
    const double bc1 = 1.0 - pow(o->beta1, o->step);
    const double bc2 = 1.0 - pow(o->beta2, o->step);
    const float step_size = (float)(o->lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float eps = (float)o->eps;
    size_t i = 0;
#if defined(__SSE2__)
    /* four at a time: the same correctly rounded operations in the same
     * order as the loop below, so the results are identical */
    const __m128 vdecay = _mm_set1_ps(decay), vb1 = _mm_set1_ps(b1), vb2 = _mm_set1_ps(b2);
    const __m128 vc1 = _mm_set1_ps(c1), vc2 = _mm_set1_ps(c2), vstep = _mm_set1_ps(step_size);
    const __m128 vbc2 = _mm_set1_ps(bc2_sqrt), veps = _mm_set1_ps(eps);
    for (; i + 4 <= n; i += 4) {
        const __m128 G = _mm_loadu_ps(g + i);
        __m128 P = _mm_mul_ps(_mm_loadu_ps(p + i), vdecay);
        const __m128 M = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(m + i), vb1), _mm_mul_ps(G, vc1));
        const __m128 V = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(v + i), vb2),
                                    _mm_mul_ps(_mm_mul_ps(vc2, G), G));
        const __m128 D = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(V), vbc2), veps);
        P = _mm_sub_ps(P, _mm_mul_ps(vstep, _mm_div_ps(M, D)));
        _mm_storeu_ps(m + i, M);
        _mm_storeu_ps(v + i, V);
        _mm_storeu_ps(p + i, P);
    }
#endif
    for (; i < n; i++) {
        p[i] *= decay;
        m[i] = m[i] * b1 + g[i] * c1;
        v[i] = v[i] * b2 + c2 * g[i] * g[i];
        const float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        p[i] -= step_size * (m[i] / denom);
    }
}

double nlp_lr_linear_schedule(int step, int warmup, int total)
{
    if (step < warmup)
        return (double)step / (double)(warmup > 1 ? warmup : 1);
    if (total <= 0)
        return 1.0;
    const double f = (double)(total - step) / (double)(total - warmup > 1 ? total - warmup : 1);
    return f > 0.0 ? f : 0.0;
}

double nlp_sum_squares(const float *g, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)g[i] * g[i];
    return s;
}

double nlp_clip_coef(double norm, double max_norm)
{
    if (max_norm <= 0.0)
        return 1.0;
    const double c = max_norm / (norm + 1e-6);
    return c < 1.0 ? c : 1.0;
}
