/*
 * adamw.h - the optimizer arithmetic of training (private to libnlp):
 * torch.optim.AdamW over flat parameter ranges, the Hugging Face
 * Trainer's linear warm-up / linear decay schedule and global-norm
 * gradient clipping.  Pure functions over caller-owned arrays.
 */
#ifndef NLP_ADAMW_H
#define NLP_ADAMW_H

#include <stddef.h>

typedef struct nlp_adamw {
    double lr;                 /* this step's learning rate */
    double beta1, beta2, eps;
    double weight_decay;       /* 0 for ranges that do not decay */
    int step;                  /* 1-based step number (bias correction) */
} nlp_adamw;

/* One AdamW update of n parameters p[n] with gradients g[n] and moments
 * m[n], v[n] (four arrays that do not overlap), in torch's single-tensor
 * order:
 *   p *= 1 - lr wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
void nlp_adamw_update(const nlp_adamw *o, float *restrict p, const float *restrict g,
                      float *restrict m, float *restrict v, size_t n);

/* Learning-rate factor of step (0-based) for a linear warm-up over warmup
 * steps, then linear decay to 0 at total steps (total <= 0: constant 1
 * after warm-up), as transformers' get_linear_schedule_with_warmup. */
double nlp_lr_linear_schedule(int step, int warmup, int total);

/* Sum of squares of g[n], in double. */
double nlp_sum_squares(const float *g, size_t n);

/* The factor clip_grad_norm_ multiplies gradients by for a total norm:
 * min(1, max_norm / (norm + 1e-6)); 1 when max_norm <= 0. */
double nlp_clip_coef(double norm, double max_norm);

#endif /* NLP_ADAMW_H */
