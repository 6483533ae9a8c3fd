/*
 * fuzz_config.c - fuzz harness: nlp_config_load on the input written as a
 * config.json, then the label look-up on every label it read.
 */
#include <math.h>
#include <stdlib.h>

#include "nlp/model.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write("config.json", (const char *)data, size);
    char path[256];
    fuzz_path(path, sizeof path, "config.json");
    nlp_config cfg;
    nlp_error err;
    /* "num_labels" alone names that many labels LABEL_<i> (a load that
     * fails later may have named them already) */
    FUZZ_ALLOW(160 * fuzz_largest_number(data, size, 1000000));
    if (nlp_config_load(path, &cfg, &err) != NLP_OK)
        return 0;
    if (!isfinite(cfg.layer_norm_eps) || cfg.layer_norm_eps < 0 || cfg.hidden_size <= 0 ||
        cfg.num_heads <= 0 || cfg.hidden_size % cfg.num_heads)
        abort();
    for (int i = 0; i < cfg.num_labels; i++)
        if (!cfg.id2label[i] || nlp_config_label_id(&cfg, cfg.id2label[i]) < -1)
            abort();
    nlp_config_clear(&cfg);
    return 0;
}
