/*
 * family_electra.c - ELECTRA (model_type "electra").  BERT's encoder under
 * "electra.", with embeddings embedding_size wide (default 128) projected
 * to hidden_size by electra.embeddings_project when the two differ.
 * Heads: ElectraClassificationHead (classifier.dense, exact GELU,
 * classifier.out_proj on the first token), token classification, QA, and
 * for an ElectraForMaskedLM (a generator) the masked-LM head
 * generator_predictions (dense to embedding_size, GELU, LayerNorm) +
 * generator_lm_head (tied to the word embeddings when absent).
 */
#include "family.h"

static nlp_status electra_parse(const char *path, const cJSON *root, nlp_config *cfg,
                                nlp_error *err)
{
    nlp_status s = nlp_cfg_bert_fields(path, root, cfg, 2, err);
    if (s == NLP_OK)
        s = nlp_cfg_int(path, root, "embedding_size", 128, 1, NLP_CFG_MAX_DIM,
                        &cfg->embedding_size, err);
    return s;
}

static const char *const electra_types[] = {"electra", NULL};
static const char *const electra_archs[] = {"Electra", NULL};

const nlp_family_ops nlp_family_electra = {
    .family = NLP_FAMILY_ELECTRA,
    .model_types = electra_types,
    .arch_prefixes = electra_archs,
    .prefix = "electra.",
    .parse = electra_parse,
    .names = {
        NLP_BERT_ENCODER_NAMES("electra."),
        [NLP_TR_EMB_PROJ] = "electra.embeddings_project",
        [NLP_TR_MLM_DENSE] = "generator_predictions.dense",
        [NLP_TR_MLM_LN] = "generator_predictions.LayerNorm",
        [NLP_TR_MLM_DECODER] = "generator_lm_head",
        [NLP_TR_MLM_BIAS] = "generator_lm_head",
        [NLP_TR_SEQ_DENSE] = "classifier.dense",
        [NLP_TR_SEQ_OUT] = "classifier.out_proj",
        [NLP_TR_TOK_OUT] = "classifier",
        [NLP_TR_QA_OUT] = "qa_outputs",
    },
    .positions = NLP_POS_ABSOLUTE,
    .heads = {
        [NLP_HEAD_MLM] = {NLP_TR_MLM_DENSE, NLP_HEAD_ACT_GELU, NLP_TR_MLM_LN, NLP_TR_MLM_DECODER},
        [NLP_HEAD_SEQ_CLS] = {NLP_TR_SEQ_DENSE, NLP_HEAD_ACT_GELU, -1, NLP_TR_SEQ_OUT},
        NLP_PLAIN_HEADS,
    },
};
