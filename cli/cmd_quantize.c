/*
 * cmd_quantize.c - `nlp quantize IN_DIR OUT_DIR`: a smaller copy of a
 * checkpoint (IN_DIR may also name a built-in model or a Hub id), with the dense weights of every encoder layer stored as int8
 * (default) or bf16, written by nlp_checkpoint_quantize (the format is
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
    printf("usage: nlp quantize [--dtype int8|bf16] [--force] IN_DIR OUT_DIR\n"
           "Write a copy of the checkpoint in IN_DIR to OUT_DIR with the dense weights of\n"
           "every encoder layer stored as int8 (one F32 scale per output channel, in\n"
           "NAME_scale) or bf16.  Other tensors and files are copied unchanged.\n"
           "Tasks run an int8 copy on the int8 kernels unless given --dtype; a bf16\n"
           "copy runs as fp32 unless given --dtype bf16.\n"
           "IN_DIR may also be a built-in model (see 'nlp models') or a Hub id.\n"
           "OUT_DIR must not exist (exit status 1 if it does) unless --force is given.\n"
           "\nOptions:\n"
           "  --dtype D   int8 (default) or bf16\n"
           "  --force     write into an existing OUT_DIR, replacing the files of the copy\n"
           "  -h, --help  show this help and exit\n");
}

static int quantize(const char *ref, const char *out, nlp_dtype dtype, int force)
{
    nlp_error err = {0};
    nlp_quantize_opts opts = { force };
    nlp_quantize_info info;
    char *in = NULL;
    nlp_status st = cli_resolve_model(ref, 0, 0, &in, &err);
    if (st == NLP_OK)
        st = nlp_checkpoint_quantize(in, out, dtype, &opts, &info, &err);
    free(in);
    if (st == NLP_ERR_CONFLICT) {
        fprintf(stderr, "nlp %s: OUT_DIR %s already exists (use --force to write into it)\n",
                CMD, out);
        return CLI_EXIT_FAIL;
    }
    if (st != NLP_OK)
        return cli_fail(CMD, &err);
    printf("%s: %zu layer weights as %s, %.1f MiB -> %.1f MiB\n", out, info.n_quantized,
           dtype == NLP_DT_BF16 ? "bf16" : "int8", (double)info.in_bytes / 1048576.0,
           (double)info.out_bytes / 1048576.0);
    return CLI_EXIT_OK;
}

int cmd_quantize(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dtype", required_argument, NULL, 'd'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    nlp_dtype dtype = NLP_DT_I8;
    int force = 0;
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
            else
                return cli_usage_error(CMD, "--dtype must be int8 or bf16, got '%s'", optarg);
            break;
        case 'f': force = 1; break;
        case 'h': usage(); return CLI_EXIT_OK;
        case ':': return cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error(CMD, "expected IN_DIR and OUT_DIR");
    return quantize(argv[optind], argv[optind + 1], dtype, force);
}
