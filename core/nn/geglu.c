/*
 * geglu.c - the gated feed-forward activation of ModernBERT
 * (layers_modern.h): act(input) * gate over the two halves of the first
 * projection's output, in place, rows spread over the pool.  The GEMM
 * epilogue applies one activation per column and cannot combine two
 * columns, hence this separate pass.
 */
#include "layers.h"
#include "layers_modern.h"

typedef struct {
    nlp_activation act;
    float *x;
    size_t ld, N, I, rows_per_task;
} geglu_job;

static void geglu_rows(void *vp, size_t task)
{
    const geglu_job *j = vp;
    const size_t r0 = task * j->rows_per_task;
    const size_t r1 = r0 + j->rows_per_task < j->N ? r0 + j->rows_per_task : j->N;
    for (size_t r = r0; r < r1; r++) {
        float *in = j->x + r * j->ld;                 /* [I] input, then [I] gate */
        const float *gate = in + j->I;
        switch (j->act) {
        case NLP_ACT_GELU_TANH: nlp_gelu_tanh_forward(in, in, j->I); break;
        case NLP_ACT_RELU: nlp_relu_forward(in, in, j->I); break;
        default: nlp_gelu_forward(in, in, j->I); break;
        }
        for (size_t i = 0; i < j->I; i++)
            in[i] *= gate[i];
    }
}

void nlp_geglu_forward(nlp_pool *pool, nlp_activation act, float *x, size_t ld, size_t N,
                       size_t I)
{
    if (N == 0)
        return;
    geglu_job j = { act, x, ld, N, I, 0 };
    size_t tasks;
    j.rows_per_task = nlp_pool_rows_per_task(pool, N, &tasks);
    nlp_pool_run(pool, geglu_rows, &j, tasks);
}
