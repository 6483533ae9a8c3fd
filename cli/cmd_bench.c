/*
 * cmd_bench.c - `nlp bench`: encoder throughput on a random-weight model
 * of a given shape, through the public API (nlp_model_load, nlp_ctx_create,
 * nlp_encoder_forward), so it measures the real path.
 *
 * The checkpoint (nlp_checkpoint_write_random) is written once into
 * $XDG_CACHE_HOME/nlp/bench/<shape> (or ~/.cache/...) and reused.  The
 * GFLOP/s figure is read as a share of the peak of the multiply-add
 * instruction the chosen dtype's kernels use, measured on every thread
 * (nlp_peak_measure).  --gemm M,N,K times one packed-weight GEMM instead
 * of the encoder.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "cli.h"

static const char *CMD = "bench";

/* ---------------------------------------------------------------- shapes */

typedef struct bench_shape {
    const char *name;
    nlp_checkpoint_shape s;
} bench_shape;

static const bench_shape shapes[] = {
    {"bert-base", {0, 12, 768, 12, 3072, 30522, 512, 2}},
    {"bert-large", {0, 24, 1024, 16, 4096, 30522, 512, 2}},
    {"distilbert", {1, 6, 768, 12, 3072, 30522, 512, 0}},
    {"bert-tiny", {0, 2, 128, 2, 512, 30522, 512, 2}},
};

/* Make sure dir holds the checkpoint of s (written once, then reused). */
static int ensure_checkpoint(const char *dir, const bench_shape *s, int quiet)
{
    char p[4400];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    struct stat st;
    if (stat(p, &st) == 0)
        return 0;
    if (!quiet)
        fprintf(stderr, "nlp %s: writing a random %s checkpoint to %s\n", CMD, s->name, dir);
    nlp_error err = {0};
    if (nlp_checkpoint_write_random(dir, &s->s, &err) != NLP_OK) {
        cli_fail(CMD, &err);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- statistics */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct { double median, min, max; } stats;

static stats summarise(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    stats s = { n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]), t[0], t[n - 1] };
    return s;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* ---------------------------------------------------------------- command */

static void usage(void)
{
    printf("usage: nlp bench [--shape NAME|CONFIG.json] [--seq-len N] [--batch-size N]\n"
           "                 [--threads N] [--dtype fp32|int8|bf16] [--iters N] [--warmup N]\n"
           "                 [--cache-dir DIR] [--json]\n"
           "       nlp bench --gemm M,N,K [--threads N] [--iters N] [--json]\n"
           "Time the encoder on a random-weight model of a given shape.\n"
           "GFLOP/s count 2 operations per multiply-add, for every dtype, and the\n"
           "percentage is of the peak of the multiply-add instruction the dtype's\n"
           "kernels use, measured by a register-only loop on every thread: FMA for\n"
           "fp32; VPDPBUSD (AVX-512 VNNI or AVX-VNNI), else VPMADDWD (AVX2), else\n"
           "scalar integer multiply-adds for int8; VDPBF16PS (AVX-512 BF16), else\n"
           "scalar FMA for bf16.  Attention runs in fp32 whatever the dtype.\n"
           "\nOptions:\n"
           "  --shape S        bert-base (default), bert-large, distilbert, bert-tiny, or\n"
           "                   a config.json whose sizes are used\n"
           "  --seq-len N      tokens per sequence (default 128)\n"
           "  --batch-size N   sequences per forward pass (default 1)\n"
           "  --threads N      worker threads (default: NLP_NUM_THREADS, else online cores)\n"
           "  --dtype D        encoder weights: fp32 (default), int8 (dynamic\n"
           "                   quantisation) or bf16\n"
           "  --iters N        timed forward passes (default 10)\n"
           "  --warmup N       untimed passes first (default 2)\n"
           "  --cache-dir DIR  where random checkpoints are kept\n"
           "                   (default $XDG_CACHE_HOME/nlp/bench, else ~/.cache/nlp/bench)\n"
           "  --gemm M,N,K     time C[M][N] = A[M][K] . W[N][K]^T with packed W instead\n"
           "  --json           print one JSON object instead of text\n"
           "  -h, --help       show this help and exit\n");
}

static int parse_pos(const char *opt, const char *v, long max, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < 1 || x > max)
        return cli_usage_error(CMD, "%s needs an integer from 1 to %ld, got '%s'", opt, max, v);
    *out = x;
    return 0;
}

static int run_gemm(const char *spec, int threads, long iters, int json)
{
    unsigned long M, N, K;
    char tail;
    if (sscanf(spec, "%lu,%lu,%lu%c", &M, &N, &K, &tail) != 3 || !M || !N || !K
        || M > 100000 || N > 100000 || K > 100000)
        return cli_usage_error(CMD, "--gemm needs M,N,K (each 1..100000), got '%s'", spec);
    nlp_error err = {0};
    nlp_peak peak;
    if (nlp_peak_measure(NLP_WEIGHTS_FP32, threads, &peak, &err) != NLP_OK)
        return cli_fail(CMD, &err);
    double *t = calloc((size_t)iters, sizeof *t);
    int nt = 0;
    if (!t) {
        fprintf(stderr, "nlp %s: out of memory\n", CMD);
        return CLI_EXIT_FAIL;
    }
    if (nlp_gemm_time(M, N, K, threads, (size_t)iters, t, &nt, &err) != NLP_OK) {
        free(t);
        return cli_fail(CMD, &err);
    }
    stats s = summarise(t, (int)iters);
    free(t);
    double gflops = 2.0 * M * N * K / s.median / 1e9, pk = peak.ops_per_s;
    if (json)
        printf("{\"gemm\":[%lu,%lu,%lu],\"threads\":%d,\"kernel\":\"%s\",\"gflops\":%.2f,"
               "\"peak_gflops\":%.2f,\"median_ms\":%.4f,\"min_ms\":%.4f,\"max_ms\":%.4f}\n",
               M, N, K, nt, nlp_kernel_name(), gflops, pk / 1e9,
               s.median * 1e3, s.min * 1e3, s.max * 1e3);
    else
        printf("gemm %lux%lux%lu, %d threads, %s kernel: %.1f GFLOP/s (%.0f%% of the %.1f GFLOP/s FMA peak), "
               "median %.3f ms (min %.3f, max %.3f)\n",
               M, N, K, nt, nlp_kernel_name(), gflops,
               100.0 * gflops * 1e9 / pk, pk / 1e9, s.median * 1e3, s.min * 1e3, s.max * 1e3);
    return CLI_EXIT_OK;
}

int cmd_bench(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"shape", required_argument, NULL, 's'},
        {"seq-len", required_argument, NULL, 'l'},
        {"batch-size", required_argument, NULL, 'b'},
        {"threads", required_argument, NULL, 't'},
        {"dtype", required_argument, NULL, 'd'},
        {"iters", required_argument, NULL, 'i'},
        {"warmup", required_argument, NULL, 'w'},
        {"cache-dir", required_argument, NULL, 'c'},
        {"gemm", required_argument, NULL, 'g'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *shape_arg = "bert-base", *dtype = "fp32", *cache = NULL, *gemm = NULL;
    long seq = 128, batch = 1, threads = 0, iters = 10, warmup = 2;
    int json = 0, rc;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': shape_arg = optarg; break;
        case 'l': if ((rc = parse_pos("--seq-len", optarg, 1 << 20, &seq))) return rc; break;
        case 'b': if ((rc = parse_pos("--batch-size", optarg, 1 << 16, &batch))) return rc; break;
        case 't': if ((rc = parse_pos("--threads", optarg, 1024, &threads))) return rc; break;
        case 'i': if ((rc = parse_pos("--iters", optarg, 1000000, &iters))) return rc; break;
        case 'w':
            if (strcmp(optarg, "0") == 0)
                warmup = 0;
            else if ((rc = parse_pos("--warmup", optarg, 1000000, &warmup)))
                return rc;
            break;
        case 'd': dtype = optarg; break;
        case 'c': cache = optarg; break;
        case 'g': gemm = optarg; break;
        case 'j': json = 1; break;
        case 'h': usage(); return CLI_EXIT_OK;
        case ':': return cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (strcmp(dtype, "fp32") && strcmp(dtype, "int8") && strcmp(dtype, "bf16"))
        return cli_usage_error(CMD, "--dtype must be fp32, int8 or bf16, got '%s'", dtype);
    if (gemm)
        return run_gemm(gemm, (int)threads, iters, json);
    nlp_weight_type dt;
    nlp_error err = {0};
    if (nlp_weight_type_parse(dtype, &dt, &err) != NLP_OK)
        return cli_usage_error(CMD, "%s", err.msg);

    /* the shape: a named one, or the sizes of a config.json */
    bench_shape custom;
    const bench_shape *s = NULL;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (strcmp(shape_arg, shapes[i].name) == 0)
            s = &shapes[i];
    char name[64];
    if (!s) {
        nlp_config cfg;
        if (nlp_config_load(shape_arg, &cfg, &err) != NLP_OK) {
            if (err.status == NLP_ERR_IO)
                return cli_usage_error(CMD, "--shape '%s' is neither bert-base, bert-large, distilbert, "
                                            "bert-tiny nor a readable config.json", shape_arg);
            return cli_fail(CMD, &err);
        }
        custom = (bench_shape){ NULL, { cfg.family == NLP_FAMILY_DISTILBERT, cfg.num_layers,
                                        cfg.hidden_size, cfg.num_heads, cfg.intermediate_size,
                                        cfg.vocab_size, cfg.max_position_embeddings,
                                        cfg.type_vocab_size > 0 ? cfg.type_vocab_size : 2 } };
        nlp_config_clear(&cfg);
        const nlp_checkpoint_shape *cs = &custom.s;
        snprintf(name, sizeof name, "%s-L%d-H%d-A%d-I%d-V%d-P%d", cs->distil ? "distilbert" : "bert",
                 cs->layers, cs->hidden, cs->heads, cs->intermediate, cs->vocab, cs->positions);
        custom.name = name;
        s = &custom;
    }
    if (seq > s->s.positions)
        return cli_usage_error(CMD, "--seq-len %ld exceeds the %d positions of %s", seq,
                               s->s.positions, s->name);

    char dir[4096];
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (cache)
        snprintf(dir, sizeof dir, "%s/%s", cache, s->name);
    else if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s/nlp/bench/%s", xdg, s->name);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.cache/nlp/bench/%s", home, s->name);
    else
        snprintf(dir, sizeof dir, "/tmp/nlp-bench/%s", s->name);
    if (ensure_checkpoint(dir, s, json) != 0)
        return CLI_EXIT_FAIL;

    nlp_model *model = NULL;
    nlp_ctx *ctx = NULL;
    int32_t *ids = NULL, *lens = NULL;
    double *t = NULL;
    rc = CLI_EXIT_FAIL;
    double t0 = nlp_clock_now();
    if (nlp_model_load(dir, &model, &err) != NLP_OK) {
        cli_fail(CMD, &err);
        goto done;
    }
    double load_ms = (nlp_clock_now() - t0) * 1e3;
    t0 = nlp_clock_now();
    if (nlp_ctx_create_dtype(model, (int)threads, dt, &ctx, &err) != NLP_OK) {
        cli_fail(CMD, &err);
        goto done;
    }
    double ctx_ms = (nlp_clock_now() - t0) * 1e3;
    int nt = nlp_ctx_threads(ctx);
    ids = malloc((size_t)(batch * seq) * sizeof *ids);
    lens = malloc((size_t)batch * sizeof *lens);
    t = calloc((size_t)iters, sizeof *t);
    if (!ids || !lens || !t) {
        fprintf(stderr, "nlp %s: out of memory\n", CMD);
        goto done;
    }
    uint64_t rng = 7;   /* token ids from a fixed seed */
    float top = (float)(s->s.vocab - 1);
    for (long i = 0; i < batch * seq; i++)
        ids[i] = (int32_t)((nlp_rand_uniform(&rng) * 0.5f + 0.5f) * top);
    for (long b = 0; b < batch; b++) {
        ids[b * seq] = 101 % s->s.vocab;
        lens[b] = (int32_t)seq;
    }
    nlp_batch nb = { (size_t)batch, (size_t)seq, ids, NULL, lens };
    const float *hidden;
    for (long i = 0; i < warmup; i++)
        if (nlp_encoder_forward(ctx, &nb, &hidden, &err) != NLP_OK) {
            cli_fail(CMD, &err);
            goto done;
        }
    for (long i = 0; i < iters; i++) {
        double a = nlp_clock_now();
        if (nlp_encoder_forward(ctx, &nb, &hidden, &err) != NLP_OK) {
            cli_fail(CMD, &err);
            goto done;
        }
        t[i] = nlp_clock_now() - a;
    }
    stats st = summarise(t, (int)iters);
    nlp_peak pk;
    if (nlp_peak_measure(dt, nt, &pk, &err) != NLP_OK) {
        cli_fail(CMD, &err);
        goto done;
    }
    double peak = pk.ops_per_s;
    /* multiply-adds per layer: 4 H x H projections and 2 H x I on every
     * token, plus Q.K^T and P.V over T positions */
    double H = s->s.hidden, I = s->s.intermediate, T = (double)seq, NT = (double)(batch * seq);
    double flop = 2.0 * s->s.layers * NT * (4 * H * H + 2 * H * I + 2 * T * H);
    double sps = (double)batch / st.median, gflops = flop / st.median / 1e9;
    double file_mb = (double)nlp_model_weight_bytes(model) / (1024.0 * 1024.0);
    if (json)
        printf("{\"shape\":\"%s\",\"dtype\":\"%s\",\"seq_len\":%ld,\"batch_size\":%ld,\"threads\":%d,"
               "\"kernel\":\"%s\",\"seq_per_s\":%.3f,\"tokens_per_s\":%.1f,\"gflops\":%.2f,"
               "\"peak_gflops\":%.2f,\"peak_share\":%.4f,\"peak_instruction\":\"%s\","
               "\"peak_isa\":\"%s\",\"median_ms\":%.3f,\"min_ms\":%.3f,"
               "\"max_ms\":%.3f,\"iters\":%ld,\"load_ms\":%.1f,\"ctx_ms\":%.1f,\"weights_mb\":%.1f,"
               "\"peak_rss_mb\":%.1f,\"model_dir\":\"%s\"}\n",
               s->name, dtype, seq, batch, nt, nlp_kernel_name(), sps,
               sps * (double)seq, gflops, peak / 1e9, gflops * 1e9 / peak, pk.instruction,
               pk.isa, st.median * 1e3,
               st.min * 1e3, st.max * 1e3, iters, load_ms, ctx_ms, file_mb, peak_rss_mb(), dir);
    else {
        printf("model     %s (%s), %s kernels, %d threads, batch %ld x %ld tokens\n",
               s->name, dtype, nlp_kernel_name(), nt, batch, seq);
        printf("speed     %.2f sequences/s, %.0f tokens/s\n", sps, sps * (double)seq);
        printf("compute   %.1f GFLOP/s = %.0f%% of the measured %s peak (%.1f GFLOP/s)\n",
               gflops, 100.0 * gflops * 1e9 / peak, pk.instruction, peak / 1e9);
        printf("batch     median %.2f ms, min %.2f, max %.2f over %ld runs\n",
               st.median * 1e3, st.min * 1e3, st.max * 1e3, iters);
        printf("memory    load %.0f ms, context (weights packed) %.0f ms, weights %.0f MiB, "
               "peak RSS %.0f MiB\n", load_ms, ctx_ms, file_mb, peak_rss_mb());
    }
    rc = CLI_EXIT_OK;
done:
    free(ids);
    free(lens);
    free(t);
    nlp_ctx_free(ctx);
    nlp_model_free(model);
    return rc;
}
