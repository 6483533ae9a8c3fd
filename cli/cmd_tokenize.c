/*
 * cmd_tokenize.c - `nlp tokenize`: show how a model's tokenizer splits
 * text: tokens, ids, token type ids and code-point offsets, as a table or
 * as one JSON object per input.
 *
 *   nlp tokenize [--model DIR_OR_ID] [--json] [--pair TEXT_B] [--no-special]
 *                [--max-length N] [--truncation STRATEGY] TEXT...
 *
 * Texts come from the arguments, else one per line on stdin.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "cli.h"

#define CMD "tokenize"

typedef struct tok_ctx {
    nlp_tokenizer *tok;
    const char *pair;
    nlp_encode_opts opts;
    int json;
    int failed;
    nlp_encoding enc;
} tok_ctx;

static void usage(FILE *f)
{
    fputs("usage: nlp tokenize [OPTIONS] [TEXT...]\n"
          "Split each TEXT (else each line of stdin) into tokens as the model's\n"
          "tokenizer does; print token, id, type id and [start, end) offsets in\n"
          "code points.\n"
          "\n"
          "The model folder's tokenizer.json may hold a WordPiece, byte-level BPE or\n"
          "Unigram (sentencepiece: T5, XLM-RoBERTa, ALBERT, DeBERTa-v3) tokenizer;\n"
          "vocab.txt (WordPiece) and vocab.json + merges.txt (BPE) work too, and so\n"
          "does a sentencepiece Unigram model (spm.model, sentencepiece.bpe.model or\n"
          "spiece.model) with a DebertaV2Tokenizer, XLMRobertaTokenizer or\n"
          "T5Tokenizer tokenizer_config.json.\n"
          "\n"
          "  -m, --model DIR_OR_ID   model directory, built-in model or hub id (default\n"
          "                          nlp-mini, built in)\n"
          "      --json              one JSON object per input: tokens, ids, type_ids, offsets\n"
          "      --pair TEXT_B       encode each input as a pair with TEXT_B\n"
          "      --no-special        do not add [CLS]/[SEP]\n"
          "      --max-length N      truncate to N tokens (special tokens included)\n"
          "      --truncation S      longest_first (default), only_first or only_second\n"
          "      --offline           never connect to the hub\n"
          "  -q, --quiet             no progress output\n"
          "  -h, --help              show this help\n",
          f);
}

static int print_json(tok_ctx *c)
{
    const nlp_encoding *e = &c->enc;
    cJSON *o = cJSON_CreateObject();
    cJSON *toks = cJSON_AddArrayToObject(o, "tokens");
    cJSON *ids = cJSON_AddArrayToObject(o, "ids");
    cJSON *types = cJSON_AddArrayToObject(o, "type_ids");
    cJSON *offs = cJSON_AddArrayToObject(o, "offsets");
    if (!o || !toks || !ids || !types || !offs) {
        cJSON_Delete(o);
        return -1;
    }
    for (size_t i = 0; i < e->n; i++) {
        const char *t = nlp_tokenizer_id_to_token(c->tok, e->ids[i]);
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(toks, cJSON_CreateString(t ? t : ""));
        cJSON_AddItemToArray(ids, cJSON_CreateNumber(e->ids[i]));
        cJSON_AddItemToArray(types, cJSON_CreateNumber(e->type_ids[i]));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(e->start[i]));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(e->end[i]));
        cJSON_AddItemToArray(offs, pair);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return -1;
    puts(s);
    free(s);
    return 0;
}

static void print_table(tok_ctx *c, size_t lineno)
{
    const nlp_encoding *e = &c->enc;
    if (lineno > 1)
        putchar('\n');
    printf("%-20s %8s %4s  %s\n", "token", "id", "type", "offsets");
    for (size_t i = 0; i < e->n; i++) {
        const char *t = nlp_tokenizer_id_to_token(c->tok, e->ids[i]);
        int pad = 20 - cli_text_width(t ? t : "?");   /* in terminal cells, not bytes */
        printf("%s%*s %8d %4d  [%d, %d)\n", t ? t : "?", pad > 0 ? pad : 0, "",
               (int)e->ids[i], (int)e->type_ids[i], (int)e->start[i], (int)e->end[i]);
    }
}

static int on_input(void *ctx, size_t lineno, const char *text, size_t len)
{
    tok_ctx *c = ctx;
    nlp_error err;
    if (nlp_tokenizer_encode(c->tok, text, len, c->pair, c->pair ? strlen(c->pair) : 0, &c->opts,
                             &c->enc, &err) != NLP_OK) {
        fprintf(stderr, "nlp " CMD ": input %zu: %s\n", lineno, err.msg);
        c->failed = 1;
        return 0;
    }
    if (c->json) {
        if (print_json(c)) {
            fprintf(stderr, "nlp " CMD ": out of memory\n");
            c->failed = 1;
            return 1;
        }
    } else {
        print_table(c, lineno);
    }
    return 0;
}

enum { OPT_JSON = 256, OPT_PAIR, OPT_NO_SPECIAL, OPT_MAXLEN, OPT_TRUNC, OPT_OFFLINE };

int cmd_tokenize(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "model", required_argument, NULL, 'm' },
        { "json", no_argument, NULL, OPT_JSON },
        { "pair", required_argument, NULL, OPT_PAIR },
        { "no-special", no_argument, NULL, OPT_NO_SPECIAL },
        { "max-length", required_argument, NULL, OPT_MAXLEN },
        { "truncation", required_argument, NULL, OPT_TRUNC },
        { "offline", no_argument, NULL, OPT_OFFLINE },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    tok_ctx c;
    memset(&c, 0, sizeof c);
    c.opts = (nlp_encode_opts)NLP_ENCODE_OPTS_INIT;
    const char *model = "nlp-mini";
    int offline = 0, quiet = 0, opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":m:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'm': model = optarg; break;
        case OPT_JSON: c.json = 1; break;
        case OPT_PAIR: c.pair = optarg; break;
        case OPT_NO_SPECIAL: c.opts.add_special_tokens = 0; break;
        case OPT_MAXLEN: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || v < 1 || v > 1000000000)
                return cli_usage_error(CMD, "--max-length wants a positive integer, not '%s'", optarg);
            c.opts.max_length = (size_t)v;
            break;
        }
        case OPT_TRUNC:
            if (strcmp(optarg, "longest_first") == 0)
                c.opts.truncation = NLP_TRUNC_LONGEST_FIRST;
            else if (strcmp(optarg, "only_first") == 0)
                c.opts.truncation = NLP_TRUNC_ONLY_FIRST;
            else if (strcmp(optarg, "only_second") == 0)
                c.opts.truncation = NLP_TRUNC_ONLY_SECOND;
            else
                return cli_usage_error(CMD, "unknown truncation strategy '%s'", optarg);
            break;
        case OPT_OFFLINE: offline = 1; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        case ':': return cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    nlp_error err;
    char *dir = NULL;
    if (cli_resolve_model(model, offline, quiet, &dir, &err) != NLP_OK)
        return cli_fail(CMD, &err);
    nlp_status s = nlp_tokenizer_load(dir, &c.tok, &err);
    free(dir);
    if (s != NLP_OK)
        return cli_fail(CMD, &err);
    cli_for_each_input(argc, argv, optind, on_input, &c);
    nlp_encoding_free(&c.enc);
    nlp_tokenizer_free(c.tok);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "nlp " CMD ": cannot write the output\n");
        return CLI_EXIT_FAIL;
    }
    return c.failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
