/*
 * cmd_quantize.c - `nlp quantize IN_DIR OUT_DIR`: a smaller copy of a
 * checkpoint (IN_DIR may also name a built-in model or a Hub id), with the
 * dense weights of every encoder layer stored as int8 (default; optionally
 * the word embeddings too, and the rest as fp16) or bf16, or every float
 * tensor as fp16, written by nlp_checkpoint_quantize (the format is
 * described in nlp/checkpoint.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *CMD = "quantize";

static void usage(void)
{
    printf("usage: nlp quantize [--dtype int8|bf16|fp16] [--embeddings int8] [--rest fp16] [--force]\n"
           "                    IN_DIR OUT_DIR\n"
           "Write a copy of the checkpoint in IN_DIR to OUT_DIR with the dense weights of\n"
           "every encoder layer stored as int8 (one F32 scale per output channel, in\n"
           "NAME_scale) or bf16, or with every F32 and BF16 tensor stored as fp16 (IEEE\n"
           "half, what model.half() and save_pretrained write; a value beyond the fp16\n"
           "range, 65504, is an error naming the tensor).  Other tensors and files\n"
           "(config.json, the tokenizer) are copied unchanged.\n"
           "Tasks run an int8 copy on the int8 kernels unless given --dtype; bf16 and\n"
           "fp16 copies run as fp32 unless given --dtype bf16.\n"
           "IN_DIR may also be a built-in model (see 'nlp models') or a Hub id.\n"
           "OUT_DIR must not exist (exit status 1 if it does) unless --force is given.\n"
           "\nOptions:\n"
           "  --dtype D           int8 (default), bf16 or fp16\n"
           "  --embeddings int8   int8 only: store the word embeddings as int8 too (one\n"
           "                      F32 scale per row), about a quarter of their size\n"
           "  --rest fp16         int8 only: store every other F32 or BF16 tensor as fp16\n"
           "  --force             write into an existing OUT_DIR, replacing the files of\n"
           "                      the copy\n"
           "  -h, --help          show this help and exit\n");
}

static const char *dtype_word(nlp_dtype dtype)
{
    return dtype == NLP_DT_BF16 ? "bf16" : dtype == NLP_DT_F16 ? "fp16" : "int8";
}

static int quantize(const char *ref, const char *out, nlp_dtype dtype, const nlp_quantize_opts *opts)
{
    nlp_error err = {0};
    nlp_quantize_info info;
    char *in = NULL;
    nlp_status st = cli_resolve_model(ref, 0, 0, &in, &err);
    if (st == NLP_OK)
        st = nlp_checkpoint_quantize(in, out, dtype, opts, &info, &err);
    free(in);
    if (st == NLP_ERR_CONFLICT) {
        fprintf(stderr, "nlp %s: OUT_DIR %s already exists (use --force to write into it)\n",
                CMD, out);
        return CLI_EXIT_FAIL;
    }
    if (st != NLP_OK)
        return cli_fail(CMD, &err);
    printf("%s: ", out);
    if (dtype != NLP_DT_F16)
        printf("%zu %s as %s, ", info.n_quantized,
               opts->int8_embeddings ? "weights (layers and word embeddings)" : "layer weights",
               dtype_word(dtype));
    if (info.n_f16)
        printf("%zu %stensors as fp16, ", info.n_f16, dtype == NLP_DT_F16 ? "" : "other ");
    printf("%.1f MiB -> %.1f MiB\n", (double)info.in_bytes / 1048576.0,
           (double)info.out_bytes / 1048576.0);
    return CLI_EXIT_OK;
}

int cmd_quantize(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dtype", required_argument, NULL, 'd'},
        {"embeddings", required_argument, NULL, 'e'},
        {"rest", required_argument, NULL, 'r'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    nlp_dtype dtype = NLP_DT_I8;
    nlp_quantize_opts opts = {0};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (strcmp(optarg, "int8") == 0)
                dtype = NLP_DT_I8;
            else if (strcmp(optarg, "bf16") == 0)
                dtype = NLP_DT_BF16;
            else if (strcmp(optarg, "fp16") == 0)
                dtype = NLP_DT_F16;
            else
                return cli_usage_error(CMD, "--dtype must be int8, bf16 or fp16, got '%s'", optarg);
            break;
        case 'e':
            if (strcmp(optarg, "int8") != 0)
                return cli_usage_error(CMD, "--embeddings must be int8, got '%s'", optarg);
            opts.int8_embeddings = 1;
            break;
        case 'r':
            if (strcmp(optarg, "fp16") != 0)
                return cli_usage_error(CMD, "--rest must be fp16, got '%s'", optarg);
            opts.rest_f16 = 1;
            break;
        case 'f': opts.force = 1; break;
        case 'h': usage(); return CLI_EXIT_OK;
        case ':': return cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (dtype != NLP_DT_I8 && (opts.int8_embeddings || opts.rest_f16))
        return cli_usage_error(CMD, "--embeddings and --rest go with --dtype int8, not %s",
                               dtype_word(dtype));
    if (argc - optind != 2)
        return cli_usage_error(CMD, "expected IN_DIR and OUT_DIR");
    return quantize(argv[optind], argv[optind + 1], dtype, &opts);
}
