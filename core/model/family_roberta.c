/*
 * family_roberta.c - RoBERTa and XLM-RoBERTa (model_type "roberta",
 * "xlm-roberta"; one architecture, two vocabularies).  BERT's encoder
 * under "roberta.", with positions counted from padding_idx + 1
 * (pad_token_id, default 1; padding tokens take padding_idx itself), so
 * max_position_embeddings - padding_idx - 1 tokens fit.  Heads:
 * lm_head (dense, exact GELU, layer_norm, decoder + lm_head.bias),
 * RobertaClassificationHead (classifier.dense, tanh, classifier.out_proj
 * on the <s> token, no pooler), token classification and QA.
 */
#include "family.h"

static nlp_status roberta_parse(const char *path, const cJSON *root, nlp_config *cfg,
                                nlp_error *err)
{
    nlp_status s = nlp_cfg_bert_fields(path, root, cfg, 2, err);
    if (s != NLP_OK)
        return s;
    const cJSON *pad = cJSON_GetObjectItemCaseSensitive(root, "pad_token_id");
    if (pad && cJSON_IsNull(pad))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"pad_token_id\" is null; RoBERTa's "
                             "positions count from it", path);
    if ((s = nlp_cfg_int(path, root, "pad_token_id", 1, 0, NLP_CFG_MAX_DIM,
                         &cfg->pad_token_id, err)) != NLP_OK)
        return s;
    cfg->position_offset = cfg->pad_token_id + 1;
    return NLP_OK;
}

static const char *const roberta_types[] = {"roberta", "xlm-roberta", NULL};
static const char *const roberta_archs[] = {"Roberta", "XLMRoberta", NULL};

const nlp_family_ops nlp_family_roberta = {
    .family = NLP_FAMILY_ROBERTA,
    .model_types = roberta_types,
    .arch_prefixes = roberta_archs,
    .prefix = "roberta.",
    .parse = roberta_parse,
    .names = {
        NLP_BERT_ENCODER_NAMES("roberta."),
        [NLP_TR_POOLER] = "roberta.pooler.dense",
        [NLP_TR_MLM_DENSE] = "lm_head.dense",
        [NLP_TR_MLM_LN] = "lm_head.layer_norm",
        [NLP_TR_MLM_DECODER] = "lm_head.decoder",
        [NLP_TR_MLM_BIAS] = "lm_head",
        [NLP_TR_SEQ_DENSE] = "classifier.dense",
        [NLP_TR_SEQ_OUT] = "classifier.out_proj",
        [NLP_TR_TOK_OUT] = "classifier",
        [NLP_TR_QA_OUT] = "qa_outputs",
    },
    .positions = NLP_POS_PAD_OFFSET,
    .heads = {
        [NLP_HEAD_MLM] = {NLP_TR_MLM_DENSE, NLP_HEAD_ACT_GELU, NLP_TR_MLM_LN, NLP_TR_MLM_DECODER},
        [NLP_HEAD_SEQ_CLS] = {NLP_TR_SEQ_DENSE, NLP_HEAD_ACT_TANH, -1, NLP_TR_SEQ_OUT},
        NLP_PLAIN_HEADS,
    },
};
