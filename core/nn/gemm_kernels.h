/*
 * gemm_kernels.h - the micro-kernels behind gemm.c, one set per path.
 *
 * A micro-kernel computes one tile of C, rows [0, mr) (mr <= MR of the
 * path) and columns [0, nr) (nr <= NR), over kc steps of K:
 *   C[i][j] (+)= sum_k a[i*lda + k] * b[k*ldb + j]
 * b rows hold NR floats of which only the first nr are read, so b may be
 * a packed panel (ldb = NR, zero padded) or a row-major [K][N] matrix.
 * (the *_at tiles read A stored transposed, a[k*lda + i]).
 * load_c: add to C instead of overwriting it.
 * pf: memory the caller will need next (the following panel block); a
 * kernel may prefetch kc / 4 cache lines from it into L2 while it
 * computes (prefetches never fault, so pf need not be valid).
 * The epilogue row function applies gemm.h's epilogue to n values.
 */
#ifndef NLP_GEMM_KERNELS_H
#define NLP_GEMM_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "gemm.h"

typedef void (*nlp_ukernel_fn)(size_t mr, size_t nr, size_t kc,
                               const float *a, size_t lda,
                               const float *b, size_t ldb,
                               float *c, size_t ldc, int load_c,
                               const float *pf);
typedef void (*nlp_epilogue_fn)(float *x, size_t n, nlp_gemm_act act,
                                const float *bias, const float *residual);

typedef struct nlp_gemm_kernel {
    size_t mr, nr;
    nlp_ukernel_fn tile;
    nlp_epilogue_fn epilogue;
    nlp_ukernel_fn tile_at;     /* A transposed */
} nlp_gemm_kernel;

void nlp_ukernel_generic(size_t mr, size_t nr, size_t kc, const float *a,
                         size_t lda, const float *b, size_t ldb, float *c,
                         size_t ldc, int load_c,
                         const float *pf);
void nlp_ukernel_generic_at(size_t mr, size_t nr, size_t kc, const float *a,
                            size_t lda, const float *b, size_t ldb, float *c,
                            size_t ldc, int load_c, const float *pf);
void nlp_epilogue_generic(float *x, size_t n, nlp_gemm_act act,
                          const float *bias, const float *residual);
#if defined(__x86_64__)
void nlp_ukernel_avx2(size_t mr, size_t nr, size_t kc, const float *a,
                      size_t lda, const float *b, size_t ldb, float *c,
                      size_t ldc, int load_c,
                         const float *pf);
void nlp_ukernel_avx2_at(size_t mr, size_t nr, size_t kc, const float *a,
                         size_t lda, const float *b, size_t ldb, float *c,
                         size_t ldc, int load_c, const float *pf);
void nlp_epilogue_avx2(float *x, size_t n, nlp_gemm_act act,
                       const float *bias, const float *residual);
void nlp_ukernel_avx512(size_t mr, size_t nr, size_t kc, const float *a,
                        size_t lda, const float *b, size_t ldb, float *c,
                        size_t ldc, int load_c,
                         const float *pf);
void nlp_ukernel_avx512_at(size_t mr, size_t nr, size_t kc, const float *a,
                           size_t lda, const float *b, size_t ldb, float *c,
                           size_t ldc, int load_c, const float *pf);
void nlp_epilogue_avx512(float *x, size_t n, nlp_gemm_act act,
                         const float *bias, const float *residual);
/* Row helpers of the forward pass on the AVX-512 path (and the same on
 * the AVX2 path, *_avx2).
 * softmax: s[n] = softmax(scale * s) in place (exp accurate to ~2e-7).
 * layernorm: o[H] = (x - mean) * rstd * g + b, two passes over x (mean,
 * then centred variance), float accumulators; *mean, *rstd get the
 * statistics.  o may equal x. */
void nlp_softmax_row_avx512(float *s, size_t n, float scale);
/* Loss rows: the largest of n values; and sum exp(x - shift) over n
 * values (exp accurate to ~2e-7, summed in double), each exp also stored
 * to out unless out is NULL. */
float nlp_row_max_avx512(const float *x, size_t n);
float nlp_row_max_avx2(const float *x, size_t n);
double nlp_exp_sum_avx512(float *out, const float *x, size_t n, float shift);
double nlp_exp_sum_avx2(float *out, const float *x, size_t n, float shift);
/* dx[n] = dy[n] * GELU'(x[n]) (exact GELU; erfc within 1.5e-7; dx may
 * equal dy). */
void nlp_gelu_backward_avx512(float *dx, const float *dy, const float *x, size_t n);
void nlp_gelu_backward_avx2(float *dx, const float *dy, const float *x, size_t n);
/* Dropout over n values: out[i] = in[i] * scale when the high 32 bits of
 * mix64(base + first + i) are at least threshold, else 0 (out may equal
 * in); backward.c's generator, 16 values at a time. */
void nlp_dropout_row_avx512(float *out, const float *in, size_t n, uint64_t base,
                            uint64_t first, uint64_t threshold, float scale);
void nlp_softmax_row_avx2(float *s, size_t n, float scale);
void nlp_layernorm_row_avx2(float *o, const float *x, const float *g,
                            const float *b, size_t H, float eps,
                            float *mean, float *rstd);
void nlp_layernorm_row_avx512(float *o, const float *x, const float *g,
                              const float *b, size_t H, float eps,
                              float *mean, float *rstd);
#endif

/* Work partition shared by the drivers.  nlp_gemm_part: the i-th of parts
 * near-equal ranges of [0, n).  nlp_gemm_rows: the rows of the i-th of
 * chunks ranges of whole MR-row blocks.  nlp_gemm_split: how many groups
 * of panels (at most max_group panels each) and chunks of rows (about
 * 240 rows) to cut a product into for threads threads. */
void nlp_gemm_part(size_t n, size_t parts, size_t i, size_t *lo, size_t *hi);
void nlp_gemm_rows(size_t M, size_t MR, size_t chunks, size_t i, size_t *m0, size_t *m1);
void nlp_gemm_split(size_t panels, size_t M, size_t MR, int threads,
                    size_t max_group, size_t *groups, size_t *chunks);

/* ep over the tile of C at rows [m, m + mr), columns [n0, n0 + nr); c
 * points at its first element, rows ldc apart. */
void nlp_gemm_tile_epilogue(const nlp_gemm_kernel *kern, const nlp_gemm_epilogue *ep,
                            float *c, size_t ldc, size_t m, size_t mr, size_t n0,
                            size_t nr);

/* The fp32 kernel set of the current path. */
const nlp_gemm_kernel *nlp_gemm_current_kernel(void);

/* The int8 tile an int8 packed matrix uses (chosen at pack time from the
 * current path and CPU features). */
enum {
    NLP_INT8_KERNEL_C = 0,       /* portable C */
    NLP_INT8_KERNEL_AVX512 = 1,  /* AVX-512 VNNI, zmm */
    NLP_INT8_KERNEL_AVXVNNI = 2, /* AVX-VNNI, ymm (AVX2 path) */
    NLP_INT8_KERNEL_AVX2 = 3     /* AVX2 16-bit multiply-adds, exact */
};
/* Tests: with allow 0, int8 packing on the AVX2 path ignores AVX-VNNI and
 * uses the plain AVX2 tile. */
void nlp_int8_allow_avxvnni(int allow);

/* Packed weights: fp32 panels (data) or int8 panels (q8, scale, comp). */
enum { NLP_INT8_NR = 32, NLP_INT8_MR = 12, NLP_INT8_MAX_K = 8192 };
struct nlp_packed_b {
    const nlp_gemm_kernel *kern; /* fp32 tiles and the epilogue */
    size_t N, K, panels;
    float *data;                /* fp32: [panels][K][NR], zero padded */
    int8_t *q8;                 /* int8: [panels][kq][32][4], zero padded */
    float *scale;               /* int8: [panels * 32] per output channel */
    int32_t *comp;              /* int8: [panels * 32] sum_k q8 */
    size_t kq;                  /* int8: K / 4 rounded up; bf16: K / 2 rounded up */
    int vnni;                   /* int8 kernel: an NLP_INT8_KERNEL_* value */
    uint16_t *bf16;             /* bf16: [panels][kq][32][2] */
    int bf16_hw;                /* bf16: use the AVX-512 BF16 kernel */
};

void nlp_sgemm_packed_int8(nlp_pool *pool, size_t M, const float *A,
                           size_t lda, const nlp_packed_b *B,
                           const nlp_gemm_epilogue *ep, float *C, size_t ldc);
void nlp_sgemm_packed_bf16(nlp_pool *pool, size_t M, const float *A,
                           size_t lda, const nlp_packed_b *B,
                           const nlp_gemm_epilogue *ep, float *C, size_t ldc);

enum { NLP_GEMM_GENERIC_MR = 4, NLP_GEMM_GENERIC_NR = 16,
       NLP_GEMM_AVX2_MR = 6, NLP_GEMM_AVX2_NR = 16,
       NLP_GEMM_AVX512_MR = 12, NLP_GEMM_AVX512_NR = 32,
       NLP_GEMM_MAX_MR = 12, NLP_GEMM_MAX_NR = 32 };

#endif /* NLP_GEMM_KERNELS_H */
