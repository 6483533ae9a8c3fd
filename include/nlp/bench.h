/*
 * nlp/bench.h - what a benchmark needs from libnlp besides the encoder: a
 * monotonic clock, a small random generator, the machine's measured
 * multiply-add peak for each weight type, the name of the kernels in use
 * and the timing of one packed-weight GEMM.
 *
 * Operation counts follow the usual GFLOP/s convention for every weight
 * type: one multiply-add is 2 operations, whether it multiplies floats,
 * bf16 pairs or int8 bytes.
 */
#ifndef NLP_BENCH_H
#define NLP_BENCH_H

#include "nlp/export.h"

#include <stddef.h>
#include <stdint.h>
#include "nlp/encoder.h"
#include "nlp/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds on a monotonic clock with an arbitrary origin. */
NLP_API double nlp_clock_now(void);

/* A measured peak. */
typedef struct nlp_peak {
    double ops_per_s;          /* operations per second, all threads together */
    int threads;               /* threads that ran the loop */
    const char *instruction;   /* static: "FMA", "VPDPBUSD", "VPMADDWD",
                                  "VDPBF16PS", "scalar FMA", "scalar int" */
    const char *isa;           /* static: "AVX-512", "AVX-512 VNNI", "AVX-VNNI",
                                  "AVX-512 BF16", "AVX2", "portable C" */
} nlp_peak;

/* Measure the peak of the multiply-add instruction that the kernels for
 * weight type wt use on this CPU (after NLP_KERNEL lowering): FMA for
 * fp32; VPDPBUSD (AVX-512 VNNI or AVX-VNNI), else VPMADDWD (AVX2), else
 * scalar integer multiply-adds for int8; VDPBF16PS (AVX-512 BF16), else
 * scalar FMA for bf16.  A register-only loop of that instruction runs on
 * threads threads at once (<= 0: NLP_NUM_THREADS, else the online cores;
 * at most 256), best of 3 runs of a few tens of milliseconds.  Fills
 * *out; returns NLP_OK, or NLP_ERR_INVALID_ARG for an unknown wt. */
NLP_API nlp_status nlp_peak_measure(nlp_weight_type wt, int threads, nlp_peak *out, nlp_error *err);

/* The next value of a xorshift64 generator whose state is *state
 * (never 0), as a float uniform in [-1, 1).  The random checkpoints and
 * nlp_gemm_time draw their values from it. */
NLP_API float nlp_rand_uniform(uint64_t *state);

/* The name of the fp32 kernel path in use: "generic", "avx2" or "avx512"
 * (static). */
NLP_API const char *nlp_kernel_name(void);

/* Time C[M][N] = A[M][K] . W[N][K]^T with W packed for the fp32 kernels
 * (random A and W from a fixed seed) on a pool of threads threads (<= 0:
 * the default count): one untimed call, then iters timed ones whose
 * durations in seconds go to seconds[iters] (caller-owned).
 * *threads_used (may be NULL) receives the pool's thread count.  Returns
 * NLP_OK, NLP_ERR_INVALID_ARG for a zero size or iters, or NLP_ERR_NOMEM. */
NLP_API nlp_status nlp_gemm_time(size_t M, size_t N, size_t K, int threads, size_t iters,
                         double *seconds, int *threads_used, nlp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NLP_BENCH_H */
