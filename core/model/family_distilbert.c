/*
 * family_distilbert.c - DistilBERT (model_type "distilbert"): its own
 * config names (dim, n_layers, n_heads, hidden_dim, activation; the
 * hidden_size spellings work too, as DistilBertConfig's attribute_map
 * allows), no token types, LayerNorm eps 1e-12, tensors under
 * "distilbert.transformer"; masked-LM head vocab_transform /
 * vocab_layer_norm / vocab_projector; sequence classification
 * pre_classifier + ReLU + classifier.
 */
#include <string.h>

#include "family.h"

/* The first of two spellings that is present. */
static const char *either(const cJSON *root, const char *a, const char *b)
{
    return cJSON_GetObjectItemCaseSensitive(root, a) || !cJSON_GetObjectItemCaseSensitive(root, b) ? a : b;
}

static nlp_status distil_parse(const char *path, const cJSON *root, nlp_config *cfg,
                               nlp_error *err)
{
    nlp_status s;
    const char *h = either(root, "dim", "hidden_size"), *a = either(root, "n_heads", "num_attention_heads");
    if ((s = nlp_cfg_int(path, root, h, 768, 1, NLP_CFG_MAX_DIM, &cfg->hidden_size, err)) ||
        (s = nlp_cfg_int(path, root, either(root, "n_layers", "num_hidden_layers"), 6, 1, 4096,
                         &cfg->num_layers, err)) ||
        (s = nlp_cfg_int(path, root, a, 12, 1, NLP_CFG_MAX_DIM, &cfg->num_heads, err)) ||
        (s = nlp_cfg_int(path, root, "hidden_dim", 4 * 768, 1, NLP_CFG_MAX_DIM,
                         &cfg->intermediate_size, err)) ||
        (s = nlp_cfg_act(path, root, "activation", &cfg->hidden_act, err)))
        return s;
    cfg->type_vocab_size = 0;
    cfg->layer_norm_eps = 1e-12f;
    if (cfg->hidden_size % cfg->num_heads != 0)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: %s %d is not a multiple of %s %d",
                             path, h, cfg->hidden_size, a, cfg->num_heads);
    return NLP_OK;
}

static const char *const distil_types[] = {"distilbert", NULL};
static const char *const distil_archs[] = {"DistilBert", NULL};

const nlp_family_ops nlp_family_distilbert = {
    .family = NLP_FAMILY_DISTILBERT,
    .model_types = distil_types,
    .arch_prefixes = distil_archs,
    .prefix = "distilbert.",
    .parse = distil_parse,
    .names = {
        [NLP_TR_WORD_EMB] = "distilbert.embeddings.word_embeddings",
        [NLP_TR_POS_EMB] = "distilbert.embeddings.position_embeddings",
        [NLP_TR_EMB_LN] = "distilbert.embeddings.LayerNorm",
        [NLP_TR_Q] = "distilbert.transformer.layer.%d.attention.q_lin",
        [NLP_TR_K] = "distilbert.transformer.layer.%d.attention.k_lin",
        [NLP_TR_V] = "distilbert.transformer.layer.%d.attention.v_lin",
        [NLP_TR_O] = "distilbert.transformer.layer.%d.attention.out_lin",
        [NLP_TR_LN1] = "distilbert.transformer.layer.%d.sa_layer_norm",
        [NLP_TR_FF1] = "distilbert.transformer.layer.%d.ffn.lin1",
        [NLP_TR_FF2] = "distilbert.transformer.layer.%d.ffn.lin2",
        [NLP_TR_LN2] = "distilbert.transformer.layer.%d.output_layer_norm",
        [NLP_TR_MLM_DENSE] = "vocab_transform",
        [NLP_TR_MLM_LN] = "vocab_layer_norm",
        [NLP_TR_MLM_DECODER] = "vocab_projector",
        [NLP_TR_MLM_BIAS] = "vocab_projector",
        [NLP_TR_SEQ_DENSE] = "pre_classifier",
        [NLP_TR_SEQ_OUT] = "classifier",
        [NLP_TR_TOK_OUT] = "classifier",
        [NLP_TR_QA_OUT] = "qa_outputs",
    },
    .positions = NLP_POS_ABSOLUTE,
    .heads = {
        [NLP_HEAD_MLM] = {NLP_TR_MLM_DENSE, NLP_HEAD_ACT_HIDDEN, NLP_TR_MLM_LN, NLP_TR_MLM_DECODER},
        [NLP_HEAD_SEQ_CLS] = {NLP_TR_SEQ_DENSE, NLP_HEAD_ACT_RELU, -1, NLP_TR_SEQ_OUT},
        NLP_PLAIN_HEADS,
    },
};
