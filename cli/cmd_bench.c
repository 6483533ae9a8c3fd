/*
 * cmd_bench.c - `nlp bench`: encoder throughput on a random-weight model
 * of a given shape, through the public API (nlp_model_load, nlp_ctx_create,
 * nlp_encoder_forward), so it measures the real path.
 *
 * The checkpoint (config.json + model.safetensors, values from a fixed
 * seed) is written once into $XDG_CACHE_HOME/nlp/bench/<shape> (or
 * ~/.cache/...) and reused.  The machine's FMA peak is measured by a
 * register-only FMA loop on every thread, so the GFLOP/s figure can be
 * read as a share of what the cores can do.  --gemm M,N,K times one
 * packed-weight GEMM instead of the encoder.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "nn/cpu.h"
#include "nn/gemm.h"
#include "nn/threadpool.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static const char *CMD = "bench";

/* ---------------------------------------------------------------- shapes */

typedef struct bench_shape {
    const char *name;
    int distil, layers, hidden, heads, inter, vocab, positions, types;
} bench_shape;

static const bench_shape shapes[] = {
    {"bert-base", 0, 12, 768, 12, 3072, 30522, 512, 2},
    {"bert-large", 0, 24, 1024, 16, 4096, 30522, 512, 2},
    {"distilbert", 1, 6, 768, 12, 3072, 30522, 512, 0},
    {"bert-tiny", 0, 2, 128, 2, 512, 30522, 512, 2},
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- checkpoint writer */

typedef struct tensor_spec {
    char name[128];
    int64_t rows, cols;     /* cols 0: a vector of rows values */
    int kind;               /* 0 random weight, 1 ones, 2 zeros, 3 small random */
} tensor_spec;

static size_t add_t(tensor_spec *t, size_t n, int kind, int64_t rows,
                    int64_t cols, const char *fmt, int layer)
{
    snprintf(t[n].name, sizeof t[n].name, fmt, layer);
    t[n].rows = rows;
    t[n].cols = cols;
    t[n].kind = kind;
    return n + 1;
}

/* The tensors of a BERT or DistilBERT encoder of shape s, HF names. */
static size_t shape_tensors(const bench_shape *s, tensor_spec *t)
{
    size_t n = 0;
    const int64_t H = s->hidden, I = s->inter;
    const char *emb = s->distil ? "distilbert.embeddings" : "bert.embeddings";
    char f[96];
    snprintf(f, sizeof f, "%s.word_embeddings.weight", emb);
    n = add_t(t, n, 0, s->vocab, H, f, 0);
    snprintf(f, sizeof f, "%s.position_embeddings.weight", emb);
    n = add_t(t, n, 0, s->positions, H, f, 0);
    if (!s->distil) {
        snprintf(f, sizeof f, "%s.token_type_embeddings.weight", emb);
        n = add_t(t, n, 0, s->types, H, f, 0);
    }
    snprintf(f, sizeof f, "%s.LayerNorm.weight", emb);
    n = add_t(t, n, 1, H, 0, f, 0);
    snprintf(f, sizeof f, "%s.LayerNorm.bias", emb);
    n = add_t(t, n, 2, H, 0, f, 0);
    static const char *bert[][2] = {
        {"attention.self.query", "q_lin"}, {"attention.self.key", "k_lin"},
        {"attention.self.value", "v_lin"}, {"attention.output.dense", "out_lin"},
        {"attention.output.LayerNorm", "sa_layer_norm"},
        {"intermediate.dense", "ffn.lin1"}, {"output.dense", "ffn.lin2"},
        {"output.LayerNorm", "output_layer_norm"},
    };
    for (int l = 0; l < s->layers; l++) {
        for (int k = 0; k < 8; k++) {
            const char *part = s->distil ? bert[k][1] : bert[k][0];
            const char *pre = s->distil ? "distilbert.transformer.layer" : "bert.encoder.layer";
            if (s->distil && k < 4)
                snprintf(f, sizeof f, "%s.%%d.attention.%s", pre, part);
            else
                snprintf(f, sizeof f, "%s.%%d.%s", pre, part);
            char w[128], b[128];
            snprintf(w, sizeof w, "%s.weight", f);
            snprintf(b, sizeof b, "%s.bias", f);
            int ln = k == 4 || k == 7;
            int64_t rows = k == 5 ? I : H, cols = k == 6 ? I : H;
            n = add_t(t, n, ln ? 1 : 0, rows, ln ? 0 : cols, w, l);
            n = add_t(t, n, ln ? 2 : 3, rows, 0, b, l);
        }
    }
    return n;
}

static uint64_t rng;
static float urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

static int write_safetensors(const char *path, const tensor_spec *t, size_t n)
{
    size_t cap = 256 + n * 200, len = 0, off = 0;
    char *hdr = malloc(cap);
    if (!hdr)
        return -1;
    len += (size_t)snprintf(hdr + len, cap - len, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (size_t i = 0; i < n; i++) {
        size_t count = (size_t)t[i].rows * (size_t)(t[i].cols ? t[i].cols : 1);
        if (t[i].cols)
            len += (size_t)snprintf(hdr + len, cap - len,
                                    ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld,%lld],\"data_offsets\":[%zu,%zu]}",
                                    t[i].name, (long long)t[i].rows, (long long)t[i].cols, off, off + count * 4);
        else
            len += (size_t)snprintf(hdr + len, cap - len,
                                    ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld],\"data_offsets\":[%zu,%zu]}",
                                    t[i].name, (long long)t[i].rows, off, off + count * 4);
        off += count * 4;
    }
    len += (size_t)snprintf(hdr + len, cap - len, "}");
    while (len % 8)
        hdr[len++] = ' ';
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        free(hdr);
        return -1;
    }
    uint64_t hlen = len;
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(hlen >> (8 * i));
    int ok = fwrite(le, 1, 8, fp) == 8 && fwrite(hdr, 1, len, fp) == len;
    free(hdr);
    enum { CHUNK = 1 << 16 };
    static float buf[CHUNK];
    rng = 0x2545f4914f6cdd1dull;
    for (size_t i = 0; ok && i < n; i++) {
        size_t count = (size_t)t[i].rows * (size_t)(t[i].cols ? t[i].cols : 1);
        while (ok && count) {
            size_t m = count < CHUNK ? count : CHUNK;
            for (size_t j = 0; j < m; j++)
                buf[j] = t[i].kind == 1 ? 1.0f : t[i].kind == 2 ? 0.0f
                       : t[i].kind == 3 ? 0.02f * urand() : 0.035f * urand();
            ok = fwrite(buf, sizeof(float), m, fp) == m;
            count -= m;
        }
    }
    if (fclose(fp) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

static int write_config(const char *path, const bench_shape *s)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    if (s->distil)
        fprintf(fp, "{\n  \"model_type\": \"distilbert\",\n  \"architectures\": [\"DistilBertModel\"],\n"
                "  \"vocab_size\": %d,\n  \"dim\": %d,\n  \"n_layers\": %d,\n  \"n_heads\": %d,\n"
                "  \"hidden_dim\": %d,\n  \"max_position_embeddings\": %d,\n  \"activation\": \"gelu\",\n"
                "  \"pad_token_id\": 0\n}\n",
                s->vocab, s->hidden, s->layers, s->heads, s->inter, s->positions);
    else
        fprintf(fp, "{\n  \"model_type\": \"bert\",\n  \"architectures\": [\"BertModel\"],\n"
                "  \"vocab_size\": %d,\n  \"hidden_size\": %d,\n  \"num_hidden_layers\": %d,\n"
                "  \"num_attention_heads\": %d,\n  \"intermediate_size\": %d,\n"
                "  \"max_position_embeddings\": %d,\n  \"type_vocab_size\": %d,\n"
                "  \"hidden_act\": \"gelu\",\n  \"layer_norm_eps\": 1e-12,\n  \"pad_token_id\": 0\n}\n",
                s->vocab, s->hidden, s->layers, s->heads, s->inter, s->positions, s->types);
    return fclose(fp) == 0 ? 0 : -1;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf)
        return -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Make sure dir holds the checkpoint of s; written to a temporary folder
 * and renamed, so an interrupted run never leaves half a checkpoint. */
static int ensure_checkpoint(const char *dir, const bench_shape *s, int quiet)
{
    char p[4400], tmp[4200];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    struct stat st;
    if (stat(p, &st) == 0)
        return 0;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dir, (long)getpid());
    if (mkdir_p(tmp) != 0) {
        fprintf(stderr, "nlp %s: cannot create %s: %s\n", CMD, tmp, strerror(errno));
        return -1;
    }
    size_t cap = 16 + (size_t)s->layers * 16;
    tensor_spec *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    size_t n = shape_tensors(s, t);
    if (!quiet)
        fprintf(stderr, "nlp %s: writing a random %s checkpoint to %s\n", CMD, s->name, dir);
    snprintf(p, sizeof p, "%s/config.json", tmp);
    int rc = write_config(p, s);
    snprintf(p, sizeof p, "%s/model.safetensors", tmp);
    if (rc == 0)
        rc = write_safetensors(p, t, n);
    free(t);
    if (rc != 0) {
        fprintf(stderr, "nlp %s: cannot write %s: %s\n", CMD, p, strerror(errno));
        return -1;
    }
    char parent[4200];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        mkdir_p(parent);
    }
    if (rename(tmp, dir) != 0) {
        fprintf(stderr, "nlp %s: cannot rename %s to %s: %s\n", CMD, tmp, dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- FMA peak */

typedef struct { long iters; double flops; } peak_arg;

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static double fma_loop512(long n)
{
    __m512 a[24];
    const __m512 m = _mm512_set1_ps(0.999f), d = _mm512_set1_ps(1e-3f);
#pragma GCC unroll 24
    for (int i = 0; i < 24; i++)
        a[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < n; k++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++)
            a[i] = _mm512_fmadd_ps(a[i], m, d);
        __asm__ volatile("" : "+v"(a[0]), "+v"(a[12]));
    }
    __m512 s = a[0];
#pragma GCC unroll 24
    for (int i = 1; i < 24; i++)
        s = _mm512_add_ps(s, a[i]);
    return (double)_mm512_reduce_add_ps(s) * 1e-30 + (double)n * 24 * 32;
}

__attribute__((target("avx2,fma"))) static double fma_loop256(long n)
{
    __m256 a[12];
    const __m256 m = _mm256_set1_ps(0.999f), d = _mm256_set1_ps(1e-3f);
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++)
        a[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < n; k++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++)
            a[i] = _mm256_fmadd_ps(a[i], m, d);
        __asm__ volatile("" : "+x"(a[0]), "+x"(a[6]));
    }
    float out[8];
    __m256 s = a[0];
#pragma GCC unroll 12
    for (int i = 1; i < 12; i++)
        s = _mm256_add_ps(s, a[i]);
    _mm256_storeu_ps(out, s);
    return (double)out[0] * 1e-30 + (double)n * 12 * 16;
}
#endif

static double fma_loop_scalar(long n)
{
    float a[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (long k = 0; k < n; k++) {
        for (int i = 0; i < 8; i++)
            a[i] = fmaf(a[i], 0.999f, 1e-3f);
        __asm__ volatile("" ::: "memory");
    }
    return (double)a[0] * 1e-30 + (double)n * 8 * 2;
}

static void *peak_thread(void *vp)
{
    peak_arg *p = vp;
#if defined(__x86_64__)
    unsigned f = nlp_cpu_features();
    if (f & NLP_CPU_AVX512)
        p->flops = fma_loop512(p->iters);
    else if (f & NLP_CPU_AVX2)
        p->flops = fma_loop256(p->iters);
    else
#endif
        p->flops = fma_loop_scalar(p->iters);
    return NULL;
}

/* FLOP/s of the FMA loop on n threads at once (best of 3 runs). */
static double measure_peak(int n)
{
    long iters = 10000000;
#if defined(__x86_64__)
    if (!(nlp_cpu_features() & (NLP_CPU_AVX512 | NLP_CPU_AVX2)))
        iters = 20000000;
#else
    iters = 20000000;
#endif
    double best = 0;
    pthread_t th[256];
    peak_arg args[256];
    if (n > 256)
        n = 256;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        int started = 0;
        for (int i = 1; i < n; i++) {
            args[i].iters = iters;
            if (pthread_create(&th[i], NULL, peak_thread, &args[i]) == 0)
                started = i;
            else
                break;
        }
        args[0].iters = iters;
        peak_thread(&args[0]);
        double flops = args[0].flops;
        for (int i = 1; i <= started; i++) {
            pthread_join(th[i], NULL);
            flops += args[i].flops;
        }
        double r = flops / (now_s() - t0);
        if (r > best)
            best = r;
    }
    return best;
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
    float *A = malloc(M * K * sizeof *A), *W = malloc(N * K * sizeof *W),
          *C = malloc(M * N * sizeof *C);
    nlp_pool *pool = nlp_pool_create(threads);
    nlp_packed_b *pw = NULL;
    int rc = CLI_EXIT_FAIL;
    if (!A || !W || !C || !pool) {
        fprintf(stderr, "nlp %s: out of memory\n", CMD);
        goto done;
    }
    rng = 1;
    for (size_t i = 0; i < M * K; i++)
        A[i] = urand();
    for (size_t i = 0; i < N * K; i++)
        W[i] = urand();
    if (!(pw = nlp_pack_b(W, N, K))) {
        fprintf(stderr, "nlp %s: out of memory packing %lux%lu weights\n", CMD, N, K);
        goto done;
    }
    int nt = nlp_pool_threads(pool);
    double peak = measure_peak(nt);
    double *t = calloc((size_t)iters, sizeof *t);
    if (!t)
        goto done;
    nlp_sgemm_packed(pool, M, A, K, pw, NULL, C, N);
    for (long i = 0; i < iters; i++) {
        double t0 = now_s();
        nlp_sgemm_packed(pool, M, A, K, pw, NULL, C, N);
        t[i] = now_s() - t0;
    }
    stats s = summarise(t, (int)iters);
    free(t);
    double gflops = 2.0 * M * N * K / s.median / 1e9;
    if (json)
        printf("{\"gemm\":[%lu,%lu,%lu],\"threads\":%d,\"kernel\":\"%s\",\"gflops\":%.2f,"
               "\"peak_gflops\":%.2f,\"median_ms\":%.4f,\"min_ms\":%.4f,\"max_ms\":%.4f}\n",
               M, N, K, nt, nlp_cpu_path_name(nlp_cpu_path()), gflops, peak / 1e9,
               s.median * 1e3, s.min * 1e3, s.max * 1e3);
    else
        printf("gemm %lux%lux%lu, %d threads, %s kernel: %.1f GFLOP/s (%.0f%% of the %.1f GFLOP/s FMA peak), "
               "median %.3f ms (min %.3f, max %.3f)\n",
               M, N, K, nt, nlp_cpu_path_name(nlp_cpu_path()), gflops,
               100.0 * gflops * 1e9 / peak, peak / 1e9, s.median * 1e3, s.min * 1e3, s.max * 1e3);
    rc = CLI_EXIT_OK;
done:
    nlp_packed_b_free(pw);
    nlp_pool_free(pool);
    free(A);
    free(W);
    free(C);
    return rc;
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
        custom = (bench_shape){ NULL, cfg.family == NLP_FAMILY_DISTILBERT, cfg.num_layers,
                                cfg.hidden_size, cfg.num_heads, cfg.intermediate_size,
                                cfg.vocab_size, cfg.max_position_embeddings,
                                cfg.type_vocab_size > 0 ? cfg.type_vocab_size : 2 };
        nlp_config_clear(&cfg);
        snprintf(name, sizeof name, "%s-L%d-H%d-A%d-I%d-V%d-P%d", custom.distil ? "distilbert" : "bert",
                 custom.layers, custom.hidden, custom.heads, custom.inter, custom.vocab, custom.positions);
        custom.name = name;
        s = &custom;
    }
    if (seq > s->positions)
        return cli_usage_error(CMD, "--seq-len %ld exceeds the %d positions of %s", seq, s->positions, s->name);

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
    double t0 = now_s();
    if (nlp_model_load(dir, &model, &err) != NLP_OK) {
        cli_fail(CMD, &err);
        goto done;
    }
    double load_ms = (now_s() - t0) * 1e3;
    t0 = now_s();
    if (nlp_ctx_create_dtype(model, (int)threads, dt, &ctx, &err) != NLP_OK) {
        cli_fail(CMD, &err);
        goto done;
    }
    double ctx_ms = (now_s() - t0) * 1e3;
    int nt = nlp_ctx_threads(ctx);
    ids = malloc((size_t)(batch * seq) * sizeof *ids);
    lens = malloc((size_t)batch * sizeof *lens);
    t = calloc((size_t)iters, sizeof *t);
    if (!ids || !lens || !t) {
        fprintf(stderr, "nlp %s: out of memory\n", CMD);
        goto done;
    }
    rng = 7;
    for (long i = 0; i < batch * seq; i++)
        ids[i] = (int32_t)((urand() * 0.5f + 0.5f) * (float)(s->vocab - 1));
    for (long b = 0; b < batch; b++) {
        ids[b * seq] = 101 % s->vocab;
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
        double a = now_s();
        if (nlp_encoder_forward(ctx, &nb, &hidden, &err) != NLP_OK) {
            cli_fail(CMD, &err);
            goto done;
        }
        t[i] = now_s() - a;
    }
    stats st = summarise(t, (int)iters);
    double peak = measure_peak(nt);
    /* multiply-adds per layer: 4 H x H projections and 2 H x I on every
     * token, plus Q.K^T and P.V over T positions */
    double H = s->hidden, I = s->inter, T = (double)seq, NT = (double)(batch * seq);
    double flop = 2.0 * s->layers * NT * (4 * H * H + 2 * H * I + 2 * T * H);
    double sps = (double)batch / st.median, gflops = flop / st.median / 1e9;
    double file_mb = (double)nlp_model_weight_bytes(model) / (1024.0 * 1024.0);
    if (json)
        printf("{\"shape\":\"%s\",\"dtype\":\"%s\",\"seq_len\":%ld,\"batch_size\":%ld,\"threads\":%d,"
               "\"kernel\":\"%s\",\"seq_per_s\":%.3f,\"tokens_per_s\":%.1f,\"gflops\":%.2f,"
               "\"peak_gflops\":%.2f,\"peak_share\":%.4f,\"median_ms\":%.3f,\"min_ms\":%.3f,"
               "\"max_ms\":%.3f,\"iters\":%ld,\"load_ms\":%.1f,\"ctx_ms\":%.1f,\"weights_mb\":%.1f,"
               "\"peak_rss_mb\":%.1f,\"model_dir\":\"%s\"}\n",
               s->name, dtype, seq, batch, nt, nlp_cpu_path_name(nlp_cpu_path()), sps,
               sps * (double)seq, gflops, peak / 1e9, gflops * 1e9 / peak, st.median * 1e3,
               st.min * 1e3, st.max * 1e3, iters, load_ms, ctx_ms, file_mb, peak_rss_mb(), dir);
    else {
        printf("model     %s (%s), %s kernels, %d threads, batch %ld x %ld tokens\n",
               s->name, dtype, nlp_cpu_path_name(nlp_cpu_path()), nt, batch, seq);
        printf("speed     %.2f sequences/s, %.0f tokens/s\n", sps, sps * (double)seq);
        printf("compute   %.1f GFLOP/s = %.0f%% of the measured FMA peak (%.1f GFLOP/s)\n",
               gflops, 100.0 * gflops * 1e9 / peak, peak / 1e9);
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
