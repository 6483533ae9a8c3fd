/*
 * rope.c - rotary position embeddings (layers_modern.h): the cos / sin
 * tables of one rotary base and their application to the query and key
 * heads of a fused projection, in place, rows spread over the pool.
 */
#include <math.h>

#include "layers_modern.h"

void nlp_rope_table(float *cos_t, float *sin_t, size_t T, size_t dh, float theta)
{
    const size_t half = dh / 2;
    for (size_t i = 0; i < half; i++) {
        /* as torch: 1 / theta ** (float(2i) / dh), each step in float32 */
        const float inv = 1.0f / powf(theta, (float)(2 * i) / (float)dh);
        for (size_t t = 0; t < T; t++) {
            const float a = (float)t * inv;
            cos_t[t * half + i] = cosf(a);
            sin_t[t * half + i] = sinf(a);
        }
    }
}

typedef struct {
    float *qkv;
    size_t ld, B, H, nh, N, rows_per_task;
    const int32_t *lengths;
    const size_t *offs;
    const float *cos_t, *sin_t;
} rope_job;

/* One head vector x [dh] at the position whose tables are c, s [dh/2]. */
static void rotate(float *x, size_t half, const float *c, const float *s)
{
    for (size_t i = 0; i < half; i++) {
        const float x1 = x[i], x2 = x[i + half];
        x[i] = x1 * c[i] - x2 * s[i];
        x[i + half] = x2 * c[i] + x1 * s[i];
    }
}

/* Packed rows [task * rows_per_task, ...) of the job. */
static void rope_rows(void *vp, size_t task)
{
    const rope_job *j = vp;
    const size_t r0 = task * j->rows_per_task;
    const size_t r1 = r0 + j->rows_per_task < j->N ? r0 + j->rows_per_task : j->N;
    const size_t dh = j->H / j->nh, half = dh / 2;
    size_t b = 0;
    while (b + 1 < j->B && j->offs[b + 1] <= r0)
        b++;
    for (size_t r = r0; r < r1; r++) {
        while (r >= j->offs[b] + (size_t)j->lengths[b])   /* the row's batch row */
            b++;
        const size_t t = r - j->offs[b];
        const float *c = j->cos_t + t * half, *s = j->sin_t + t * half;
        float *row = j->qkv + r * j->ld;
        for (size_t h = 0; h < 2 * j->nh; h++)     /* the query heads, then the key heads */
            rotate(row + h * dh, half, c, s);
    }
}

void nlp_rope_forward(nlp_pool *pool, float *qkv, size_t ld, const int32_t *lengths,
                      const size_t *offs, size_t B, size_t H, size_t nh,
                      const float *cos_t, const float *sin_t)
{
    size_t N = 0;
    for (size_t b = 0; b < B; b++)
        N += (size_t)lengths[b];
    if (N == 0)
        return;
    rope_job j = { qkv, ld, B, H, nh, N, 0, lengths, offs, cos_t, sin_t };
    size_t tasks;
    j.rows_per_task = nlp_pool_rows_per_task(pool, N, &tasks);
    nlp_pool_run(pool, rope_rows, &j, tasks);
}
