/*
 * fwd_rss.c - time the encoder forward pass and report peak memory.
 *
 *   fwd_rss MODEL_DIR [BATCH [SEQ [THREADS [REPS [DTYPE]]]]]
 *
 * Loads the checkpoint, runs REPS forward passes (after one warm-up) over
 * a batch of BATCH rows of SEQ pseudo-random token ids, and prints the
 * weight-file size, sequences per second, the peak resident set size
 * (getrusage) and a checksum of the output (mean |h|).  DTYPE is fp32
 * (default), int8 or bf16.  Built by bench/rss.sh; never part of make check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "nlp/nlp.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fwd_rss MODEL_DIR [BATCH [SEQ [THREADS [REPS [DTYPE]]]]]\n");
        return 2;
    }
    size_t B = argc > 2 ? (size_t)atol(argv[2]) : 1;
    size_t T = argc > 3 ? (size_t)atol(argv[3]) : 128;
    int threads = argc > 4 ? atoi(argv[4]) : 0;
    int reps = argc > 5 ? atoi(argv[5]) : 3;
    nlp_error err;
    nlp_weight_type dt = NLP_WEIGHTS_FP32;
    if (argc > 6 && nlp_weight_type_parse(argv[6], &dt, &err) != NLP_OK) {
        fprintf(stderr, "fwd_rss: %s\n", err.msg);
        return 2;
    }
    nlp_model *m = NULL;
    if (nlp_model_load(argv[1], &m, &err) != NLP_OK) {
        fprintf(stderr, "fwd_rss: %s\n", err.msg);
        return 1;
    }
    nlp_ctx *ctx = NULL;
    if (nlp_ctx_create_dtype(m, threads, dt, &ctx, &err) != NLP_OK) {
        fprintf(stderr, "fwd_rss: %s\n", err.msg);
        nlp_model_free(m);
        return 1;
    }
    int32_t *ids = malloc(B * T * sizeof *ids);
    int32_t *lengths = malloc(B * sizeof *lengths);
    const int V = nlp_model_config(m)->vocab_size;
    unsigned s = 12345;
    for (size_t i = 0; i < B * T; i++) {
        s = s * 1103515245u + 12345u;
        ids[i] = (int32_t)(5 + (s >> 8) % (unsigned)(V - 5));
    }
    for (size_t b = 0; b < B; b++)
        lengths[b] = (int32_t)T;
    nlp_batch bt = { B, T, ids, NULL, lengths };
    const float *hid = NULL;
    int rc = 0;
    double t0 = 0.0;
    for (int r = 0; r <= reps; r++) {
        if (r == 1)
            t0 = now();
        if (nlp_encoder_forward(ctx, &bt, &hid, &err) != NLP_OK) {
            fprintf(stderr, "fwd_rss: %s\n", err.msg);
            rc = 1;
            break;
        }
    }
    if (rc == 0) {
        double dt = (now() - t0) / (reps > 0 ? reps : 1);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double wmb = (double)nlp_model_weight_bytes(m) / 1048576.0;
        double rss = (double)ru.ru_maxrss / 1024.0;
        printf("batch %zu seq %zu threads %d: %.1f ms/forward, %.2f sequences/s\n",
               B, T, nlp_ctx_threads(ctx), dt * 1e3, (double)B / dt);
        double sum = 0.0;
        for (size_t i = 0; i < B * T * (size_t)nlp_model_config(m)->hidden_size; i++)
            sum += hid[i] < 0 ? -hid[i] : hid[i];
        printf("weights %.1f MB, peak RSS %.1f MB, RSS - weights %.1f MB "
               "(h[0][0][0] = %g, mean |h| = %.6f)\n", wmb, rss, rss - wmb, hid[0],
               sum / (double)(B * T * (size_t)nlp_model_config(m)->hidden_size));
    }
    free(ids);
    free(lengths);
    nlp_ctx_free(ctx);
    nlp_model_free(m);
    return rc;
}
