/*
 * adamw.c - AdamW, the linear schedule and clipping (see adamw.h).
 */
#include <math.h>

#include "adamw.h"

void nlp_adamw_update(const nlp_adamw *o, float *p, const float *g, float *m,
                      float *v, size_t n)
{
    const float decay = (float)(1.0 - o->lr * o->weight_decay);
    const float b1 = (float)o->beta1, b2 = (float)o->beta2;
    const float c1 = (float)(1.0 - o->beta1), c2 = (float)(1.0 - o->beta2);
    const double bc1 = 1.0 - pow(o->beta1, o->step);
    const double bc2 = 1.0 - pow(o->beta2, o->step);
    const float step_size = (float)(o->lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float eps = (float)o->eps;
    for (size_t i = 0; i < n; i++) {
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
