/*
 * fuzz_checkpoint.c - fuzz harness: nlp_model_load on a checkpoint whose
 * model.safetensors is the input, beside a fixed config.json of a tiny
 * BERT (hidden 4, one layer, vocabulary 8).  Reaches the int8 reader
 * (NAME I8 [N][K] + NAME_scale F32 [N], as `nlp quantize` writes), the
 * F16/BF16/F64 conversions and the binding of every encoder tensor.
 */
#include <stdlib.h>
#include <string.h>

#include "nlp/model.h"
#include "fuzz_util.h"

static const char config[] =
    "{\"model_type\": \"bert\", \"vocab_size\": 8, \"hidden_size\": 4, "
    "\"num_hidden_layers\": 1, \"num_attention_heads\": 1, \"intermediate_size\": 4, "
    "\"max_position_embeddings\": 8, \"type_vocab_size\": 2}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        fuzz_write("config.json", config, sizeof config - 1);
        ready = 1;
    }
    fuzz_write("model.safetensors", (const char *)data, size);
    nlp_model *m = NULL;
    nlp_error err;
    if (nlp_model_load(fuzz_dir(), &m, &err) != NLP_OK)
        return 0;
    const float *w;
    int64_t shape[4];
    static const int64_t emb[2] = { 8, 4 };
    if (nlp_model_tensor(m, "embeddings.word_embeddings.weight", 2, emb, &w, shape, &err) != NLP_OK)
        abort(); /* bound at load, so it must be there */
    nlp_model_free(m);
    return 0;
}
