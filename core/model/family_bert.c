/*
 * family_bert.c - BERT (model_type "bert"): Hugging Face's BertModel and
 * its heads.  Config fields as BertConfig; tensors under "bert."; the
 * masked-LM head is cls.predictions (transform with the hidden
 * activation, LayerNorm, decoder tied to the word embeddings when absent);
 * sequence classification is classifier over the tanh pooler.
 */
#include "family.h"

static nlp_status bert_parse(const char *path, const cJSON *root, nlp_config *cfg,
                             nlp_error *err)
{
    return nlp_cfg_bert_fields(path, root, cfg, 2, err);
}

static const char *const bert_types[] = {"bert", NULL};
static const char *const bert_archs[] = {"Bert", NULL};

const nlp_family_ops nlp_family_bert = {
    .family = NLP_FAMILY_BERT,
    .model_types = bert_types,
    .arch_prefixes = bert_archs,
    .prefix = "bert.",
    .parse = bert_parse,
    .names = {
        NLP_BERT_ENCODER_NAMES("bert."),
        [NLP_TR_POOLER] = "bert.pooler.dense",
        [NLP_TR_MLM_DENSE] = "cls.predictions.transform.dense",
        [NLP_TR_MLM_LN] = "cls.predictions.transform.LayerNorm",
        [NLP_TR_MLM_DECODER] = "cls.predictions.decoder",
        [NLP_TR_MLM_BIAS] = "cls.predictions",
        [NLP_TR_SEQ_OUT] = "classifier",
        [NLP_TR_TOK_OUT] = "classifier",
        [NLP_TR_QA_OUT] = "qa_outputs",
    },
    .positions = NLP_POS_ABSOLUTE,
    .heads = {
        [NLP_HEAD_MLM] = {NLP_TR_MLM_DENSE, NLP_HEAD_ACT_HIDDEN, NLP_TR_MLM_LN, NLP_TR_MLM_DECODER},
        [NLP_HEAD_SEQ_CLS] = {NLP_TR_POOLER, NLP_HEAD_ACT_TANH, -1, NLP_TR_SEQ_OUT},
        NLP_PLAIN_HEADS,
    },
};
