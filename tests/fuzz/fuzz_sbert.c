/*
 * fuzz_sbert.c - fuzz harness: nlp_sbert_config_load on a
 * sentence-transformers folder written from the input: modules.json, the
 * Pooling module's 1_Pooling/config.json and sentence_bert_config.json
 * (parts left out are absent files).  Checks that what it returns is one
 * of the documented values.
 *
 * Input: modules.json [FUZZ_SEP 1_Pooling/config.json [FUZZ_SEP
 * sentence_bert_config.json]].
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "nlp/model.h"
#include "fuzz_util.h"

static const char *const files[3] = {
    "modules.json", "1_Pooling/config.json", "sentence_bert_config.json",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[256];
    fuzz_path(path, sizeof path, "1_Pooling");
    mkdir(path, 0700);
    fuzz_part parts[3];
    size_t np = fuzz_split(data, size, parts, 3);
    for (size_t i = 0; i < 3; i++) {
        if (i < np)
            fuzz_write(files[i], parts[i].p, parts[i].n);
        else
            fuzz_remove(files[i]);
    }
    nlp_sbert_config c;
    nlp_error err;
    if (nlp_sbert_config_load(fuzz_dir(), &c, &err) != NLP_OK)
        return 0;
    unsigned all = NLP_POOL_CLS | NLP_POOL_MAX | NLP_POOL_MEAN | NLP_POOL_MEAN_SQRT_LEN;
    if (c.found != 1 || c.pooling == 0 || (c.pooling & ~all) || (c.normalize & ~1) ||
        c.max_seq_length < 0 || c.max_seq_length > (1 << 24) || (c.do_lower_case & ~1))
        abort();
    return 0;
}
