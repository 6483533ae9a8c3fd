/*
 * cmd_download.c - `nlp download ID[@REV]`: fetch a checkpoint from the
 * Hugging Face Hub into huggingface_hub's cache (or check it is there when
 * offline) and print the snapshot folder on stdout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"

#define MAX_PATTERNS 64

static void usage(void)
{
    printf("usage: nlp download ID[@REVISION] [options]\n"
           "Fetch a model from the Hugging Face Hub into the local cache and print\n"
           "its snapshot folder.  ID is \"name\" or \"org/name\"; REVISION is a branch,\n"
           "tag or commit (default: main).  By default the files a model needs are\n"
           "fetched: config.json, the tokenizer files and the safetensors weights.\n"
           "\nOptions:\n"
           "  --include GLOB    also fetch the repo files matching GLOB (repeatable)\n"
           "  --exclude GLOB    skip the repo files matching GLOB (repeatable)\n"
           "  --offline         open no connection: only check the cache\n"
           "  --cache-dir DIR   cache folder (default: $HF_HUB_CACHE, $HF_HOME/hub,\n"
           "                    ~/.cache/huggingface/hub)\n"
           "  -q, --quiet       no progress bar\n"
           "  -h, --help        show this help and exit\n"
           "\nEnvironment: HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE,\n"
           "HF_HUB_DOWNLOAD_TIMEOUT.\n");
}

int cmd_download(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"include", required_argument, NULL, 'i'},
        {"exclude", required_argument, NULL, 'x'},
        {"offline", no_argument, NULL, 'o'},
        {"cache-dir", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *include[MAX_PATTERNS + 1] = { NULL }, *exclude[MAX_PATTERNS + 1] = { NULL };
    size_t ninc = 0, nexc = 0;
    nlp_hub_opts opts;
    memset(&opts, 0, sizeof opts);
    int quiet = 0;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
        case 'x':
            if ((c == 'i' ? ninc : nexc) == MAX_PATTERNS)
                return cli_usage_error("download", "at most %d --include and %d --exclude patterns",
                                       MAX_PATTERNS, MAX_PATTERNS);
            if (c == 'i')
                include[ninc++] = optarg;
            else
                exclude[nexc++] = optarg;
            break;
        case 'o': opts.offline = 1; break;
        case 'c': opts.cache_dir = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(); return CLI_EXIT_OK;
        case ':': return cli_usage_error("download", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("download", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("download", "missing the model id (e.g. org/name or org/name@revision)");
    if (optind + 1 < argc)
        return cli_usage_error("download", "unexpected argument '%s'", argv[optind + 1]);
    const char *ref = argv[optind];
    if (!ref[0])
        return cli_usage_error("download", "the model id is empty");
    opts.include = include;
    opts.exclude = exclude;
    cli_progress bar;
    memset(&bar, 0, sizeof bar);
    if (cli_progress_wanted(quiet)) {
        opts.progress = cli_progress_update;
        opts.progress_user = &bar;
    }
    nlp_error err = {0};
    char *dir = NULL;
    if (nlp_hub_download(ref, &opts, &dir, &err) != NLP_OK) {
        if (bar.drawn)
            fputc('\n', stderr);
        return cli_fail("download", &err);
    }
    printf("%s\n", dir);
    free(dir);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
