/*
 * fuzz_options.c - fuzz harness: the task option store (nlp_optset_set and
 * the host table's opt_* readers, nlp/registry.h) and the result-value
 * JSON parser and printer (nlp_value_parse_json, nlp_value_to_json).
 *
 * Input: byte 0 'v' = the rest is JSON for the value parser; anything else
 * = the rest is split at FUZZ_SEP into name, value pairs for the options
 * declared below (a pair with an empty value sets a flag).
 */
#include <stdlib.h>
#include <string.h>

#include "nlp/plugin.h"
#include "nlp/registry.h"
#include "fuzz_util.h"

static const nlp_option decl[] = {
    { "top-k", NLP_OPT_INT, "5", NULL, "an integer", "N" },
    { "threshold", NLP_OPT_FLOAT, "0.5", NULL, "a number", NULL },
    { "label", NLP_OPT_STRING, NULL, NULL, "a string", NULL },
    { "mode", NLP_OPT_CHOICE, "softmax", "softmax|sigmoid|none", "a choice", NULL },
    { "raw", NLP_OPT_FLAG, NULL, NULL, "a flag", NULL },
    { NULL, NLP_OPT_FLAG, NULL, NULL, NULL, NULL },
};

/* Copy a part into a new NUL-terminated string. */
static char *part_str(const fuzz_part *p)
{
    char *s = malloc(p->n + 1);
    if (!s)
        abort();
    memcpy(s, p->p, p->n);
    s[p->n] = '\0';
    return s;
}

static void fuzz_values(const uint8_t *data, size_t size)
{
    nlp_value *v = nlp_value_parse_json((const char *)data, size);
    if (!v)
        return;
    for (int pretty = 0; pretty < 2; pretty++) {
        char *text = nlp_value_to_json(v, pretty);
        if (text) {
            /* indented text grows with depth times items */
            FUZZ_ALLOW(4 * strlen(text));
            nlp_value *again = nlp_value_parse_json(text, strlen(text));
            if (!again)
                abort(); /* what we print must parse */
            nlp_value_free(again);
        }
        free(text);
    }
    nlp_value_free(v);
}

static void fuzz_options(const uint8_t *data, size_t size)
{
    nlp_optset *set;
    nlp_error err;
    if (nlp_optset_create(decl, &set, &err) != NLP_OK)
        abort();
    fuzz_part parts[16];
    size_t np = fuzz_split(data, size, parts, 16);
    for (size_t i = 0; i + 1 < np; i += 2) {
        char *name = part_str(&parts[i]), *value = part_str(&parts[i + 1]);
        (void)nlp_optset_set(set, name, parts[i + 1].n ? value : NULL, &err);
        free(name);
        free(value);
    }
    const nlp_host_api *host = nlp_host_api_get();
    nlp_task_host th = {set, NULL, NULL, 0};
    nlp_task_args args = { 0 };
    args.host_data = &th;
    (void)host->opt_int(&args, "top-k", 5);
    (void)host->opt_float(&args, "threshold", 0.5);
    (void)host->opt_string(&args, "label");
    (void)host->opt_string(&args, "mode");
    (void)host->opt_flag(&args, "raw");
    nlp_optset_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] == 'v')
        fuzz_values(data + 1, size - 1);
    else
        fuzz_options(data + 1, size - 1);
    return 0;
}
