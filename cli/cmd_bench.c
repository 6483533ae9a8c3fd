/*
 * cmd_bench.c - `nlp bench`: encoder throughput on a random-weight model
 * of a given shape, through the public API (nlp_model_load, nlp_ctx_create,
 * nlp_encoder_forward), so it measures the real path.
 *
 * The checkpoint (nlp_checkpoint_write_random_config: a named shape's
 * config.json text, or the user's) is written once into
 * $XDG_CACHE_HOME/nlp/bench/<shape> (or ~/.cache/...) and reused.  The
 * GFLOP/s figure is read as a share of the peak of the multiply-add
 * instruction the chosen dtype's kernels use, measured on every thread
 * (nlp_peak_measure).  --gemm M,N,K times one packed-weight GEMM instead
 * of the encoder; --train times masked-LM training steps (nlp_trainer_*:
 * forward, backward and the AdamW step) on the same checkpoint.
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

/* BERT's config.json with the given sizes (vocabulary 30522, 512
 * positions, 2 token types). */
#define BERT_CONFIG(L, H, A, I)                                                         \
    "{\n  \"model_type\": \"bert\",\n  \"architectures\": [\"BertModel\"],\n"          \
    "  \"vocab_size\": 30522,\n  \"hidden_size\": " #H ",\n  \"num_hidden_layers\": " #L \
    ",\n  \"num_attention_heads\": " #A ",\n  \"intermediate_size\": " #I ",\n"         \
    "  \"max_position_embeddings\": 512,\n  \"type_vocab_size\": 2,\n"                  \
    "  \"hidden_act\": \"gelu\",\n  \"layer_norm_eps\": 1e-12,\n  \"pad_token_id\": 0\n}\n"

/* RoBERTa's config.json (roberta-base's sizes, as
 * cardiffnlp/twitter-roberta-base-sentiment-latest's config.json has
 * them) for model_type T and vocabulary V. */
#define ROBERTA_CONFIG(T, V)                                                            \
    "{\n  \"model_type\": \"" T "\",\n  \"architectures\": [\"RobertaModel\"],\n"      \
    "  \"vocab_size\": " #V ",\n  \"hidden_size\": 768,\n  \"num_hidden_layers\": 12,\n" \
    "  \"num_attention_heads\": 12,\n  \"intermediate_size\": 3072,\n"                  \
    "  \"max_position_embeddings\": 514,\n  \"type_vocab_size\": 1,\n"                  \
    "  \"hidden_act\": \"gelu\",\n  \"layer_norm_eps\": 1e-05,\n  \"pad_token_id\": 1,\n" \
    "  \"bos_token_id\": 0,\n  \"eos_token_id\": 2\n}\n"

/* The named shapes.  deberta-v3-base is microsoft/deberta-v3-large's
 * config.json at the base sizes (12 layers, hidden 768, 12 heads, 3072);
 * modernbert-base is answerdotai/ModernBERT-large's at ModernBERT-base's
 * (22 layers, hidden 768, 12 heads, intermediate 1152, as transformers'
 * ModernBertConfig defaults give them); xlm-roberta-base is RoBERTa's
 * with its 250,002-token vocabulary. */
static const struct {
    const char *name, *config;
} shapes[] = {
    {"bert-base", BERT_CONFIG(12, 768, 12, 3072)},
    {"bert-large", BERT_CONFIG(24, 1024, 16, 4096)},
    {"distilbert",
     "{\n  \"model_type\": \"distilbert\",\n  \"architectures\": [\"DistilBertModel\"],\n"
     "  \"vocab_size\": 30522,\n  \"dim\": 768,\n  \"n_layers\": 6,\n  \"n_heads\": 12,\n"
     "  \"hidden_dim\": 3072,\n  \"max_position_embeddings\": 512,\n  \"activation\": \"gelu\",\n"
     "  \"pad_token_id\": 0\n}\n"},
    {"bert-tiny", BERT_CONFIG(2, 128, 2, 512)},
    {"bert-small", BERT_CONFIG(4, 256, 4, 1024)},
    {"roberta-base", ROBERTA_CONFIG("roberta", 50265)},
    {"xlm-roberta-base", ROBERTA_CONFIG("xlm-roberta", 250002)},
    {"deberta-v3-base",
     "{\n  \"model_type\": \"deberta-v2\",\n  \"architectures\": [\"DebertaV2Model\"],\n"
     "  \"vocab_size\": 128100,\n  \"hidden_size\": 768,\n  \"num_hidden_layers\": 12,\n"
     "  \"num_attention_heads\": 12,\n  \"intermediate_size\": 3072,\n"
     "  \"max_position_embeddings\": 512,\n  \"type_vocab_size\": 0,\n  \"hidden_act\": \"gelu\",\n"
     "  \"layer_norm_eps\": 1e-07,\n  \"relative_attention\": true,\n"
     "  \"max_relative_positions\": -1,\n  \"position_buckets\": 256,\n"
     "  \"norm_rel_ebd\": \"layer_norm\",\n  \"share_att_key\": true,\n"
     "  \"pos_att_type\": [\"p2c\", \"c2p\"],\n  \"position_biased_input\": false,\n"
     "  \"pooler_hidden_size\": 768,\n  \"pooler_hidden_act\": \"gelu\",\n  \"pad_token_id\": 0\n}\n"},
    {"modernbert-base",
     "{\n  \"model_type\": \"modernbert\",\n  \"architectures\": [\"ModernBertModel\"],\n"
     "  \"vocab_size\": 50368,\n  \"hidden_size\": 768,\n  \"num_hidden_layers\": 22,\n"
     "  \"num_attention_heads\": 12,\n  \"intermediate_size\": 1152,\n"
     "  \"max_position_embeddings\": 8192,\n  \"hidden_activation\": \"gelu\",\n"
     "  \"norm_eps\": 1e-05,\n  \"norm_bias\": false,\n  \"attention_bias\": false,\n"
     "  \"mlp_bias\": false,\n  \"local_attention\": 128,\n  \"global_attn_every_n_layers\": 3,\n"
     "  \"global_rope_theta\": 160000.0,\n  \"local_rope_theta\": 10000.0,\n"
     "  \"classifier_pooling\": \"mean\",\n  \"pad_token_id\": 50283,\n"
     "  \"bos_token_id\": 50281,\n  \"eos_token_id\": 50282,\n  \"cls_token_id\": 50281,\n"
     "  \"sep_token_id\": 50282\n}\n"},
};

/* A shape being timed: its name, config.json text and parsed config. */
typedef struct bench_shape {
    char name[128];
    char *config;           /* owned */
    nlp_config cfg;
} bench_shape;

static void shape_clear(bench_shape *s)
{
    free(s->config);
    nlp_config_clear(&s->cfg);
}

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
    if (nlp_checkpoint_write_random_config(dir, s->config, s->name, &err) != NLP_OK) {
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
           "       nlp bench --train [--shape NAME|CONFIG.json] [--seq-len N] [--batch-size N]\n"
           "                 [--threads N] [--iters N] [--warmup N] [--cache-dir DIR] [--json]\n"
           "       nlp bench --gemm M,N,K [--threads N] [--iters N] [--json]\n"
           "Time the encoder on a random-weight model of a given shape.\n"
           "GFLOP/s count 2 operations per multiply-add, for every dtype, and the\n"
           "percentage is of the peak of the multiply-add instruction the dtype's\n"
           "kernels use, measured by a register-only loop on every thread: FMA for\n"
           "fp32; VPDPBUSD (AVX-512 VNNI or AVX-VNNI), else VPMADDWD (AVX2), else\n"
           "scalar integer multiply-adds for int8; VDPBF16PS (AVX-512 BF16), else\n"
           "scalar FMA for bf16.  Attention runs in fp32 whatever the dtype.\n"
           "FLOPs count the projections, the feed-forward (three products when it\n"
           "is gated) and full attention; relative-position work (DeBERTa) is not\n"
           "counted and a sliding window (ModernBERT) counts as full attention.\n"
           "--train times masked-LM training steps instead (fp32): forward, backward\n"
           "and an AdamW step per batch, 15%% of the positions labelled (fixed seed),\n"
           "dropout as the config gives; tokens/s are the batch's tokens over the\n"
           "median step, FLOPs per step count 3x the forward's multiply-adds (the\n"
           "encoder and the MLM head at the labelled positions).\n"
           "\nOptions:\n"
           "  --shape S        bert-base (default), bert-large, distilbert, bert-tiny,\n"
           "                   bert-small (4 layers, hidden 256), roberta-base,\n"
           "                   xlm-roberta-base, deberta-v3-base, modernbert-base, or\n"
           "                   the path of a config.json of any supported family\n"
           "  --seq-len N      tokens per sequence (default 128)\n"
           "  --batch-size N   sequences per forward pass or training step (default 1;\n"
           "                   16 with --train)\n"
           "  --threads N      worker threads (default: NLP_NUM_THREADS, else online cores)\n"
           "  --dtype D        encoder weights: fp32 (default), int8 (dynamic\n"
           "                   quantisation) or bf16\n"
           "  --iters N        timed forward passes or training steps (default 10)\n"
           "  --warmup N       untimed passes or steps first (default 2)\n"
           "  --cache-dir DIR  where random checkpoints are kept\n"
           "                   (default $XDG_CACHE_HOME/nlp/bench, else ~/.cache/nlp/bench)\n"
           "  --train          time masked-LM training steps instead of the forward pass\n"
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

/* What the command line asks for. */
typedef struct bench_opts {
    const char *shape, *dtype, *cache, *gemm;
    long seq, batch, threads, iters, warmup;
    int json, train;
} bench_opts;

/* Parse argv into o.  Returns 0, -1 after --help, or a usage error's
 * exit status (reported). */
static int parse_options(int argc, char **argv, bench_opts *o)
{
    static const struct option longopts[] = {
        {"shape", required_argument, NULL, 's'}, {"seq-len", required_argument, NULL, 'l'},
        {"batch-size", required_argument, NULL, 'b'}, {"threads", required_argument, NULL, 't'},
        {"dtype", required_argument, NULL, 'd'}, {"iters", required_argument, NULL, 'i'},
        {"warmup", required_argument, NULL, 'w'}, {"cache-dir", required_argument, NULL, 'c'},
        {"gemm", required_argument, NULL, 'g'}, {"json", no_argument, NULL, 'j'},
        {"train", no_argument, NULL, 'T'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (bench_opts){"bert-base", "fp32", NULL, NULL, 128, 0, 0, 10, 2, 0, 0};
    int rc = 0, c;
    opterr = 0;
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->shape = optarg; break;
        case 'l': rc = parse_pos("--seq-len", optarg, 1 << 20, &o->seq); break;
        case 'b': rc = parse_pos("--batch-size", optarg, 1 << 16, &o->batch); break;
        case 't': rc = parse_pos("--threads", optarg, 1024, &o->threads); break;
        case 'i': rc = parse_pos("--iters", optarg, 1000000, &o->iters); break;
        case 'w':
            o->warmup = 0;
            if (strcmp(optarg, "0") != 0)
                rc = parse_pos("--warmup", optarg, 1000000, &o->warmup);
            break;
        case 'd': o->dtype = optarg; break;
        case 'c': o->cache = optarg; break;
        case 'g': o->gemm = optarg; break;
        case 'j': o->json = 1; break;
        case 'T': o->train = 1; break;
        case 'h': usage(); return -1;
        case ':': return cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!rc && optind < argc)
        rc = cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!rc && strcmp(o->dtype, "fp32") && strcmp(o->dtype, "int8") && strcmp(o->dtype, "bf16"))
        rc = cli_usage_error(CMD, "--dtype must be fp32, int8 or bf16, got '%s'", o->dtype);
    if (!rc && o->train && strcmp(o->dtype, "fp32"))
        rc = cli_usage_error(CMD, "--train runs in fp32, not --dtype %s", o->dtype);
    if (!rc && o->train && o->gemm)
        rc = cli_usage_error(CMD, "--train and --gemm cannot be combined");
    if (!o->batch)
        o->batch = o->train ? 16 : 1;
    return rc;
}

/* The text of the config.json at path (malloc'd, at most 64 MiB), or
 * NULL with errno. */
static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    struct stat st;
    const int reg = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode);
    const long n = reg ? (long)st.st_size : -1;
    char *buf = n >= 0 && n <= (64L << 20) ? malloc((size_t)n + 1) : NULL;
    int bad = !buf || fread(buf, 1, (size_t)n, fp) != (size_t)n;
    int e = !reg ? EISDIR : n > (64L << 20) ? EFBIG : errno ? errno : EIO;
    fclose(fp);
    if (bad) {
        free(buf);
        errno = e;
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* FNV-1a of text, to tell configs of equal sizes apart. */
static uint32_t text_hash(const char *text)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

/* The shape: a named one, or a config.json of any family (named by its
 * type, sizes and a hash of its text).  Returns 0 or an exit status
 * (reported). */
static int find_shape(const char *arg, bench_shape *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] && !s->config; i++)
        if (strcmp(arg, shapes[i].name) == 0) {
            snprintf(s->name, sizeof s->name, "%s", shapes[i].name);
            s->config = strdup(shapes[i].config);
            if (!s->config) {
                fprintf(stderr, "nlp %s: out of memory\n", CMD);
                return CLI_EXIT_FAIL;
            }
        }
    int named = s->config != NULL;
    if (!named && !(s->config = read_text(arg)))
        return cli_usage_error(CMD, "--shape '%s' is neither a named shape (see --help) nor a "
                                    "readable config.json (%s)", arg, strerror(errno));
    nlp_error err = {0};
    if (nlp_config_parse(s->config, strlen(s->config), named ? s->name : arg, &s->cfg, &err)
        != NLP_OK) {
        free(s->config);
        s->config = NULL;
        return cli_fail(CMD, &err);
    }
    const nlp_config *c = &s->cfg;
    if (!named)
        snprintf(s->name, sizeof s->name, "%s-L%d-H%d-A%d-I%d-V%d-P%d-%08x", c->model_type,
                 c->num_layers, c->hidden_size, c->num_heads, c->intermediate_size,
                 c->vocab_size, c->max_position_embeddings, (unsigned)text_hash(s->config));
    return 0;
}

/* Where the random checkpoint of shape name is kept. */
static void checkpoint_dir(const char *cache, const char *name, char *dir, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (cache)
        snprintf(dir, size, "%s/%s", cache, name);
    else if (xdg && *xdg)
        snprintf(dir, size, "%s/nlp/bench/%s", xdg, name);
    else if (home && *home)
        snprintf(dir, size, "%s/.cache/nlp/bench/%s", home, name);
    else
        snprintf(dir, size, "/tmp/nlp-bench/%s", name);
}

/* What one bench run measured. */
typedef struct bench_result {
    stats st;
    double load_ms, ctx_ms, weights_mb;
    int threads;
} bench_result;

/* Token ids from a fixed seed, [CLS] first; every sequence full length. */
static void fill_batch(const bench_opts *o, const bench_shape *s, int32_t *ids, int32_t *lens)
{
    uint64_t rng = 7;
    float top = (float)(s->cfg.vocab_size - 1);
    for (long i = 0; i < o->batch * o->seq; i++)
        ids[i] = (int32_t)((nlp_rand_uniform(&rng) * 0.5f + 0.5f) * top);
    for (long b = 0; b < o->batch; b++) {
        ids[b * o->seq] = 101 % s->cfg.vocab_size;
        lens[b] = (int32_t)o->seq;
    }
}

/* Time o->iters forward passes of ctx after o->warmup untimed ones. */
static nlp_status time_forward(nlp_ctx *ctx, const bench_opts *o, const bench_shape *s,
                               double *t, nlp_error *err)
{
    int32_t *ids = malloc((size_t)(o->batch * o->seq) * sizeof *ids);
    int32_t *lens = malloc((size_t)o->batch * sizeof *lens);
    nlp_status st = ids && lens ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    if (st == NLP_OK) {
        fill_batch(o, s, ids, lens);
        nlp_batch nb = {(size_t)o->batch, (size_t)o->seq, ids, NULL, lens};
        const float *hidden;
        for (long i = 0; i < o->warmup + o->iters && st == NLP_OK; i++) {
            double a = nlp_clock_now();
            st = nlp_encoder_forward(ctx, &nb, &hidden, err);
            if (i >= o->warmup)
                t[i - o->warmup] = nlp_clock_now() - a;
        }
    }
    free(ids);
    free(lens);
    return st;
}

/* Load the checkpoint in dir, pack it, time it. */
static nlp_status run_model(const char *dir, const bench_opts *o, const bench_shape *s,
                            nlp_weight_type dt, bench_result *r, nlp_error *err)
{
    nlp_model *model = NULL;
    nlp_ctx *ctx = NULL;
    double *t = calloc((size_t)o->iters, sizeof *t);
    double t0 = nlp_clock_now();
    nlp_status st = t ? nlp_model_load(dir, &model, err)
                      : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    r->load_ms = (nlp_clock_now() - t0) * 1e3;
    t0 = nlp_clock_now();
    if (st == NLP_OK)
        st = nlp_ctx_create_dtype(model, (int)o->threads, dt, &ctx, err);
    r->ctx_ms = (nlp_clock_now() - t0) * 1e3;
    if (st == NLP_OK) {
        r->threads = nlp_ctx_threads(ctx);
        r->weights_mb = (double)nlp_model_weight_bytes(model) / (1024.0 * 1024.0);
        st = time_forward(ctx, o, s, t, err);
    }
    if (st == NLP_OK)
        r->st = summarise(t, (int)o->iters);
    free(t);
    if (ctx)
        nlp_ctx_free(ctx);
    if (model)
        nlp_model_free(model);
    return st;
}

/* Multiply-adds of the encoder's layers on one batch: per token, the
 * four H x H projections and the feed-forward's (three H x I products
 * when it is gated, else two), plus Q.K^T and P.V over all T positions.
 * Family extras (relative-position projections) are not counted and a
 * sliding window is counted as full attention. */
static double layer_madds(const bench_opts *o, const nlp_config *c)
{
    double H = c->hidden_size, I = c->intermediate_size, T = (double)o->seq;
    double NT = (double)(o->batch * o->seq), ff = c->ffn_gated ? 3.0 : 2.0;
    return c->num_layers * NT * (4 * H * H + ff * H * I + 2 * T * H);
}

static void print_result(const bench_opts *o, const bench_shape *s, const char *dir,
                         const bench_result *r, const nlp_peak *pk)
{
    double T = (double)o->seq, peak = pk->ops_per_s;
    double flop = 2.0 * layer_madds(o, &s->cfg);
    double med = r->st.median, sps = (double)o->batch / med, gflops = flop / med / 1e9;
    if (o->json) {
        printf("{\"shape\":\"%s\",\"dtype\":\"%s\",\"seq_len\":%ld,\"batch_size\":%ld,\"threads\":%d,"
               "\"kernel\":\"%s\",\"seq_per_s\":%.3f,\"tokens_per_s\":%.1f,\"gflops\":%.2f,"
               "\"peak_gflops\":%.2f,\"peak_share\":%.4f,\"peak_instruction\":\"%s\","
               "\"peak_isa\":\"%s\",\"median_ms\":%.3f,\"min_ms\":%.3f,"
               "\"max_ms\":%.3f,\"iters\":%ld,\"load_ms\":%.1f,\"ctx_ms\":%.1f,\"weights_mb\":%.1f,"
               "\"peak_rss_mb\":%.1f,\"model_dir\":\"%s\"}\n",
               s->name, o->dtype, o->seq, o->batch, r->threads, nlp_kernel_name(), sps,
               sps * T, gflops, peak / 1e9, gflops * 1e9 / peak, pk->instruction, pk->isa,
               med * 1e3, r->st.min * 1e3, r->st.max * 1e3, o->iters, r->load_ms, r->ctx_ms,
               r->weights_mb, peak_rss_mb(), dir);
        return;
    }
    printf("model     %s (%s), %s kernels, %d threads, batch %ld x %ld tokens\n",
           s->name, o->dtype, nlp_kernel_name(), r->threads, o->batch, o->seq);
    printf("speed     %.2f sequences/s, %.0f tokens/s\n", sps, sps * T);
    printf("compute   %.1f GFLOP/s = %.0f%% of the measured %s peak (%.1f GFLOP/s)\n",
           gflops, 100.0 * gflops * 1e9 / peak, pk->instruction, peak / 1e9);
    printf("batch     median %.2f ms, min %.2f, max %.2f over %ld runs\n",
           med * 1e3, r->st.min * 1e3, r->st.max * 1e3, o->iters);
    printf("memory    load %.0f ms, context (weights packed) %.0f ms, weights %.0f MiB, "
           "peak RSS %.0f MiB\n", r->load_ms, r->ctx_ms, r->weights_mb, peak_rss_mb());
}

/* ---------------------------------------------------------------- training */

/* What a training run measured. */
typedef struct train_result {
    stats step, fb, opt;        /* whole step, forward + backward, AdamW step */
    size_t masked;              /* labelled positions per batch */
    float loss_first, loss_last;
    int threads;
} train_result;

/* The masked-LM batch: fill_batch's ids, 15% of the positions after
 * [CLS] labelled with their token and replaced by [MASK] (fixed seed). */
static size_t mask_batch(const bench_opts *o, const bench_shape *s, int32_t *ids,
                         int32_t *labels)
{
    uint64_t rng = 11;
    size_t m = 0;
    for (long i = 0; i < o->batch * o->seq; i++) {
        labels[i] = NLP_IGNORE_INDEX;
        float u = nlp_rand_uniform(&rng) * 0.5f + 0.5f;
        if (i % o->seq == 0 || u >= 0.15f)
            continue;
        labels[i] = ids[i];
        ids[i] = 103 % s->cfg.vocab_size;
        m++;
    }
    return m;
}

/* o->warmup + o->iters training steps of tr on one fixed batch. */
static nlp_status time_steps(nlp_trainer *tr, const bench_opts *o, const nlp_train_batch *tb,
                             double *t, train_result *r, nlp_error *err)
{
    double *fb = t + o->iters, *op = t + 2 * o->iters;
    nlp_status st = NLP_OK;
    for (long i = 0; i < o->warmup + o->iters && st == NLP_OK; i++) {
        float loss = 0.0f;
        double a = nlp_clock_now();
        st = nlp_trainer_accumulate(tr, tb, &loss, err);
        double b = nlp_clock_now();
        if (st == NLP_OK)
            st = nlp_trainer_step(tr, NULL, err);
        double c = nlp_clock_now();
        if (i == 0)
            r->loss_first = loss;
        r->loss_last = loss;
        if (i >= o->warmup) {
            t[i - o->warmup] = c - a;
            fb[i - o->warmup] = b - a;
            op[i - o->warmup] = c - b;
        }
    }
    if (st == NLP_OK) {
        r->step = summarise(t, (int)o->iters);
        r->fb = summarise(fb, (int)o->iters);
        r->opt = summarise(op, (int)o->iters);
    }
    return st;
}

/* Create a masked-LM trainer on model and time it. */
static nlp_status train_model(const nlp_model *model, const bench_opts *o, const bench_shape *s,
                              train_result *r, nlp_error *err)
{
    const size_t n = (size_t)(o->batch * o->seq);
    int32_t *ids = malloc(n * sizeof *ids), *labels = malloc(n * sizeof *labels);
    int32_t *lens = malloc((size_t)o->batch * sizeof *lens);
    double *t = calloc(3 * (size_t)o->iters, sizeof *t);
    nlp_trainer *tr = NULL;
    nlp_status st = ids && labels && lens && t ? NLP_OK
                  : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    if (st == NLP_OK) {
        fill_batch(o, s, ids, lens);
        r->masked = mask_batch(o, s, ids, labels);
        nlp_train_options opt;
        nlp_train_options_init(&opt);
        opt.max_batch = (size_t)o->batch;
        opt.max_seq = (size_t)o->seq;
        opt.threads = (int)o->threads;
        st = nlp_trainer_create(model, &opt, &tr, err);
    }
    if (st == NLP_OK) {
        nlp_train_batch tb = {{(size_t)o->batch, (size_t)o->seq, ids, NULL, lens}, labels,
                              NULL, NULL, NULL};
        st = time_steps(tr, o, &tb, t, r, err);
    }
    if (tr)
        nlp_trainer_free(tr);
    free(ids);
    free(labels);
    free(lens);
    free(t);
    return st;
}

/* Operations of one training step: 3x the forward's multiply-adds (the
 * backward pass computes two products, input and weight gradients, for
 * each forward one), 2 operations each. */
static double train_flop(const bench_opts *o, const bench_shape *s, size_t masked)
{
    double H = s->cfg.hidden_size, V = s->cfg.vocab_size;
    double enc = layer_madds(o, &s->cfg);
    double head = (double)masked * (H * H + H * V);
    return 3.0 * 2.0 * (enc + head);
}

static void print_train(const bench_opts *o, const bench_shape *s, const char *dir,
                        const train_result *r, const nlp_peak *pk)
{
    double med = r->step.median, tok = (double)(o->batch * o->seq) / med;
    double flop = train_flop(o, s, r->masked), gflops = flop / med / 1e9;
    double share = gflops * 1e9 / pk->ops_per_s;
    if (o->json) {
        printf("{\"mode\":\"train\",\"shape\":\"%s\",\"dtype\":\"fp32\",\"seq_len\":%ld,"
               "\"batch_size\":%ld,\"threads\":%d,\"kernel\":\"%s\",\"masked\":%zu,"
               "\"tokens_per_s\":%.1f,\"seq_per_s\":%.3f,\"median_ms\":%.2f,\"min_ms\":%.2f,"
               "\"max_ms\":%.2f,\"fwd_bwd_ms\":%.2f,\"optimizer_ms\":%.2f,"
               "\"gflop_per_step\":%.2f,\"gflops\":%.2f,\"peak_gflops\":%.2f,"
               "\"peak_share\":%.4f,\"peak_instruction\":\"%s\",\"peak_isa\":\"%s\","
               "\"iters\":%ld,\"warmup\":%ld,\"loss_first\":%.4f,\"loss_last\":%.4f,"
               "\"peak_rss_mb\":%.1f,\"model_dir\":\"%s\"}\n",
               s->name, o->seq, o->batch, r->threads, nlp_kernel_name(), r->masked, tok,
               (double)o->batch / med, med * 1e3, r->step.min * 1e3, r->step.max * 1e3,
               r->fb.median * 1e3, r->opt.median * 1e3, flop / 1e9, gflops,
               pk->ops_per_s / 1e9, share, pk->instruction, pk->isa, o->iters, o->warmup,
               r->loss_first, r->loss_last, peak_rss_mb(), dir);
        return;
    }
    printf("train     %s (fp32 masked LM), %s kernels, %d threads, batch %ld x %ld tokens, "
           "%zu labelled\n", s->name, nlp_kernel_name(), r->threads, o->batch, o->seq, r->masked);
    printf("speed     %.0f tokens/s, %.2f sequences/s\n", tok, (double)o->batch / med);
    printf("compute   %.1f GFLOP per step, %.1f GFLOP/s = %.0f%% of the measured %s peak "
           "(%.1f GFLOP/s)\n", flop / 1e9, gflops, 100.0 * share, pk->instruction,
           pk->ops_per_s / 1e9);
    printf("step      median %.1f ms (forward + backward %.1f, AdamW %.1f), min %.1f, max %.1f "
           "over %ld steps\n", med * 1e3, r->fb.median * 1e3, r->opt.median * 1e3,
           r->step.min * 1e3, r->step.max * 1e3, o->iters);
    printf("loss      %.4f at the first step, %.4f at the last\n", r->loss_first, r->loss_last);
    printf("memory    peak RSS %.0f MiB\n", peak_rss_mb());
}

/* --train: load the checkpoint in dir, time training steps, print. */
static int run_train(const char *dir, const bench_opts *o, const bench_shape *s)
{
    nlp_error err = {0};
    nlp_model *model = NULL;
    train_result r;
    memset(&r, 0, sizeof r);
    nlp_status st = nlp_model_load(dir, &model, &err);
    if (st == NLP_OK)
        st = train_model(model, o, s, &r, &err);
    if (model)
        nlp_model_free(model);
    nlp_peak pk;
    if (st == NLP_OK)
        st = nlp_peak_measure(NLP_WEIGHTS_FP32, (int)o->threads, &pk, &err);
    if (st != NLP_OK)
        return cli_fail(CMD, &err);
    r.threads = pk.threads;
    print_train(o, s, dir, &r, &pk);
    return CLI_EXIT_OK;
}

/* Write (once) and time the checkpoint of s into dir. */
static int run_shape(const bench_opts *o, const bench_shape *s, nlp_weight_type dt, char *dir,
                     size_t cap)
{
    const long max = s->cfg.max_position_embeddings - s->cfg.position_offset;
    if (o->seq > max)
        return cli_usage_error(CMD, "--seq-len %ld exceeds the %ld tokens %s has positions for",
                               o->seq, max, s->name);
    checkpoint_dir(o->cache, s->name, dir, cap);
    if (ensure_checkpoint(dir, s, o->json) != 0)
        return CLI_EXIT_FAIL;
    if (o->train)
        return run_train(dir, o, s);
    bench_result r;
    memset(&r, 0, sizeof r);
    nlp_peak pk;
    nlp_error err = {0};
    if (run_model(dir, o, s, dt, &r, &err) != NLP_OK ||
        nlp_peak_measure(dt, r.threads, &pk, &err) != NLP_OK)
        return cli_fail(CMD, &err);
    print_result(o, s, dir, &r, &pk);
    return CLI_EXIT_OK;
}

int cmd_bench(int argc, char **argv)
{
    bench_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (o.gemm)
        return run_gemm(o.gemm, (int)o.threads, o.iters, o.json);
    nlp_weight_type dt;
    nlp_error err = {0};
    if (nlp_weight_type_parse(o.dtype, &dt, &err) != NLP_OK)
        return cli_usage_error(CMD, "%s", err.msg);
    bench_shape shape;
    char dir[4096];
    if ((rc = find_shape(o.shape, &shape)) != 0)
        return rc;
    rc = run_shape(&o, &shape, dt, dir, sizeof dir);
    shape_clear(&shape);
    return rc;
}
