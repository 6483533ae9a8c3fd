/*
 * backward.h - the backward building blocks of BERT-family encoders, one
 * beside each forward function of layers.h, plus the forward pieces a
 * training pass needs that inference does not (attention that keeps its
 * probabilities, dropout) (private to libnlp).
 *
 * Every function works over caller-owned buffers and allocates nothing.
 * Gradients of parameters are ACCUMULATED (+=), so micro-batches add up;
 * gradients of activations are overwritten unless a comment says so.
 * Sums over tokens run in a fixed order, so results do not depend on the
 * number of threads.
 *
 * Token rows are packed as in layers.h: batch row b owns rows[b] rows
 * starting at offs[b].  For training, rows[b] is either the real length
 * (padding costs nothing) or the padded length T (every position gets a
 * hidden state, as Hugging Face computes them); attention always sees
 * only the klen[b] real keys.
 *
 * Shapes: N packed rows, H hidden, I intermediate, nh heads, dh = H/nh,
 * B batch rows, T padded length.
 */
#ifndef NLP_BACKWARD_H
#define NLP_BACKWARD_H

#include <stddef.h>
#include <stdint.h>

#include "nlp/model.h"
#include "threadpool.h"

/* ------------------------------------------------------------ dense */

/* dx[N][in] (row stride ldx) = dy[N][out] (stride ldy) . W[out][in]:
 * the input gradient of y = x W^T + b.  Overwrites dx. */
void nlp_linear_backward_input(nlp_pool *pool, float *dx, size_t ldx,
                               const float *dy, size_t ldy, const float *W,
                               size_t N, size_t out, size_t in);

/* Floats of scratch nlp_linear_backward_weight needs for N rows into a
 * dW of in columns. */
size_t nlp_linear_backward_weight_scratch_floats(size_t N, size_t in);

/* dW[out][in] += dy[N][out]^T . x[N][in] and db[out] += sum over rows of
 * dy (db may be NULL): the parameter gradients of y = x W^T + b.  Rows
 * of dy / x are ldy / ldx floats apart.  The product runs on the
 * threaded GEMM with dy read transposed by the micro-kernel and added to
 * dW block by block of K; scratch (sized as above) is not needed by this
 * version.  Sums over rows keep one order whatever the thread count. */
void nlp_linear_backward_weight(nlp_pool *pool, float *dW, float *db,
                                const float *dy, size_t ldy, const float *x,
                                size_t ldx, size_t N, size_t out, size_t in,
                                float *scratch);

/* ------------------------------------------------------------ embeddings */

/* The gradient of nlp_embeddings_forward, scattered into the rows used:
 * dword[id] += dx[row], dpos[t] += dx[row], dtype[type] += dx[row] for
 * each packed row (dtype NULL: no token types; type_ids NULL: type 0).
 * dx[N][H]; ids / type_ids [B][T]; rows[B], offs[B] as above.
 * Serial, so repeated ids accumulate in a fixed order. */
void nlp_embeddings_backward(float *dword, float *dpos, float *dtype,
                             const float *dx, const int32_t *ids,
                             const int32_t *type_ids, const int32_t *rows,
                             const size_t *offs, size_t B, size_t T,
                             size_t H);

/* ------------------------------------------------------------ LayerNorm */

/* The gradient of y = (x - mean) * rstd * g + b over N rows of H:
 * dx[N][H] (may equal dy) from dy[N][H], the forward input x[N][H] and
 * its row statistics mean[N], rstd[N]; dg[H] += sum dy * xhat and
 * db[H] += sum dy. */
void nlp_layernorm_backward(nlp_pool *pool, float *dx, float *dg, float *db,
                            const float *dy, const float *x,
                            const float *mean, const float *rstd,
                            const float *g, size_t N, size_t H);

/* ------------------------------------------------------------ element-wise */

/* dx[n] = dy[n] * act'(x[n]) for the pre-activation values x (dx may
 * equal dy): exact GELU (vectorised on the AVX-512 and AVX2 paths, erfc
 * within 1.5e-7), tanh GELU, ReLU (derivative 0 at 0, as PyTorch). */
void nlp_gelu_backward(float *dx, const float *dy, const float *x, size_t n);
void nlp_gelu_tanh_backward(float *dx, const float *dy, const float *x,
                            size_t n);
void nlp_relu_backward(float *dx, const float *dy, const float *x, size_t n);

/* The configured activation's backward over n values, spread over pool. */
void nlp_activation_backward(nlp_pool *pool, nlp_activation act, float *dx,
                             const float *dy, const float *x, size_t n);

/* dx[n] = dy[n] * (1 - y[n]^2) for y = tanh(x) (dx may equal dy). */
void nlp_tanh_backward(float *dx, const float *dy, const float *y, size_t n);

/* The gradient of a residual add out = a + b is dout for both inputs:
 * da[n] += dout[n] (accumulating into the other branch's gradient). */
void nlp_residual_backward(float *da, const float *dout, size_t n);

/* dx[r][i] = p[r][i] (dy[r][i] - sum_j dy[r][j] p[r][j]) over n rows of
 * d: the gradient of p = softmax(x) (dx may equal dy). */
void nlp_softmax_backward(float *dx, const float *dy, const float *p,
                          size_t n, size_t d);

/* ------------------------------------------------------------ dropout */

/*
 * Inverted dropout with a counter-based generator: element i of stream
 * s is kept when hash(seed, s, i) >= p * 2^32, and kept values are
 * scaled by 1 / (1 - p).  The mask is a pure function of (seed, stream,
 * index), so it never depends on the thread count, and the backward
 * pass recomputes it instead of storing it.  p == 0 is the identity.
 */
typedef struct nlp_dropout {
    float p;          /* drop probability in [0, 1) */
    uint64_t seed;
} nlp_dropout;

/* 1 if element index of stream is kept. */
int nlp_dropout_keep(const nlp_dropout *d, uint64_t stream, uint64_t index);

/* x[n] *= mask(stream, first + i) / (1 - p), in place.  The forward and
 * the backward pass of dropout are this same scaling (applied to the
 * values, then to their gradients). */
void nlp_dropout_apply(const nlp_dropout *d, uint64_t stream,
                       uint64_t first, float *x, size_t n);

/* ------------------------------------------------------------ attention */

/* Floats of scratch nlp_attention_forward_train and
 * nlp_attention_backward need for sequences up to T on a pool of
 * n_threads threads. */
size_t nlp_attention_train_scratch_floats(size_t T, int n_threads);

/*
 * Multi-head self-attention that keeps its probabilities:
 *   qkv[N][3H] fused projections (q | k | v, head h at columns h*dh of
 *   each third), out[N][H] context, probs[B][nh][T][T] (row i of batch
 *   row b, head h at probs + ((b*nh + h)*T + i)*T, only the first
 *   klen[b] entries of the first rows[b] rows are written).
 * For each batch row b and head h:
 *   P = softmax(Q K^T / sqrt(dh)) over the klen[b] real keys
 *   out = dropout(P) V
 * Attention dropout (drop may be NULL or p = 0) uses stream
 * stream_base + b * nh + h, index i * T + j.  rows[b] >= klen[b].  Both
 * products run on the GEMM kernels (one thread per (b, h) pair); scratch
 * holds nlp_attention_train_scratch_floats(T, threads) floats.
 */
void nlp_attention_forward_train(nlp_pool *pool, float *out, float *probs,
                                 const float *qkv, const int32_t *rows,
                                 const int32_t *klen, const size_t *offs,
                                 size_t B, size_t T, size_t H, size_t nh,
                                 const nlp_dropout *drop,
                                 uint64_t stream_base, float *scratch);

/*
 * The gradient of nlp_attention_forward_train: dqkv[N][3H] (overwritten
 * at every packed row) from dout[N][H], the saved probs and qkv, with
 * the same rows / klen / offs / dropout.  scratch holds
 * nlp_attention_train_scratch_floats(T, threads) floats; the four
 * products (two with a transposed operand, transposed into scratch) run
 * on the GEMM kernels.
 */
void nlp_attention_backward(nlp_pool *pool, float *dqkv, const float *dout,
                            const float *probs, const float *qkv,
                            const int32_t *rows, const int32_t *klen,
                            const size_t *offs, size_t B, size_t T, size_t H,
                            size_t nh, const nlp_dropout *drop,
                            uint64_t stream_base, float *scratch);

#endif /* NLP_BACKWARD_H */
