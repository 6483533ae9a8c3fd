/*
 * family_mpnet.c - MPNet (model_type "mpnet"): Hugging Face's MPNetModel
 * and its heads, the architecture of all-mpnet-base-v2.  BERT's
 * post-LayerNorm encoder under "mpnet." with its own layer names
 * (attention.attn.q / k / v / o, attention.LayerNorm), no token types,
 * positions counted from padding_idx + 1 as RoBERTa does (MPNet's
 * padding_idx is always 1, whatever pad_token_id says), and one relative
 * attention bias shared by every layer: mpnet.encoder.relative_attention_bias
 * [relative_attention_num_buckets][heads], looked up through T5's
 * bidirectional buckets (32 buckets, max distance 128; relbias.c).
 * Heads: lm_head (dense, exact GELU, layer_norm, decoder + lm_head.bias),
 * MPNetClassificationHead (classifier.dense, tanh, classifier.out_proj on
 * the <s> token), token classification, QA; the pooler is mpnet.pooler.
 */
#include "family.h"
#include "nn/relbias.h"

/* MPNetEmbeddings' padding_idx: fixed at 1 in Hugging Face's code. */
#define MPNET_PADDING_IDX 1

static nlp_status mpnet_parse(const char *path, const cJSON *root, nlp_config *cfg,
                              nlp_error *err)
{
    /* BERT's field names; MPNet has no token types (type_vocab_size is
     * ignored, as MPNetConfig does) */
    nlp_status s = nlp_cfg_bert_fields(path, root, cfg, 2, err);
    if (s != NLP_OK)
        return s;
    cfg->type_vocab_size = 0;
    if ((s = nlp_cfg_int(path, root, "relative_attention_num_buckets", 32, 1, NLP_CFG_MAX_DIM,
                         &cfg->relative_attention_num_buckets, err)) != NLP_OK)
        return s;
    if (cfg->relative_attention_num_buckets < NLP_RELBIAS_BUCKETS)
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "%s: \"relative_attention_num_buckets\" is %d; MPNet looks up "
                             "%d buckets", path, cfg->relative_attention_num_buckets,
                             NLP_RELBIAS_BUCKETS);
    cfg->pad_token_id = MPNET_PADDING_IDX;   /* MPNetConfig's default */
    cfg->position_offset = MPNET_PADDING_IDX + 1;
    return NLP_OK;
}

static const char *const mpnet_types[] = {"mpnet", NULL};
static const char *const mpnet_archs[] = {"MPNet", NULL};

const nlp_family_ops nlp_family_mpnet = {
    .family = NLP_FAMILY_MPNET,
    .model_types = mpnet_types,
    .arch_prefixes = mpnet_archs,
    .prefix = "mpnet.",
    .parse = mpnet_parse,
    .names = {
        [NLP_TR_WORD_EMB] = "mpnet.embeddings.word_embeddings",
        [NLP_TR_POS_EMB] = "mpnet.embeddings.position_embeddings",
        [NLP_TR_EMB_LN] = "mpnet.embeddings.LayerNorm",
        [NLP_TR_Q] = "mpnet.encoder.layer.%d.attention.attn.q",
        [NLP_TR_K] = "mpnet.encoder.layer.%d.attention.attn.k",
        [NLP_TR_V] = "mpnet.encoder.layer.%d.attention.attn.v",
        [NLP_TR_O] = "mpnet.encoder.layer.%d.attention.attn.o",
        [NLP_TR_LN1] = "mpnet.encoder.layer.%d.attention.LayerNorm",
        [NLP_TR_FF1] = "mpnet.encoder.layer.%d.intermediate.dense",
        [NLP_TR_FF2] = "mpnet.encoder.layer.%d.output.dense",
        [NLP_TR_LN2] = "mpnet.encoder.layer.%d.output.LayerNorm",
        [NLP_TR_POOLER] = "mpnet.pooler.dense",
        [NLP_TR_MLM_DENSE] = "lm_head.dense",
        [NLP_TR_MLM_LN] = "lm_head.layer_norm",
        [NLP_TR_MLM_DECODER] = "lm_head.decoder",
        [NLP_TR_MLM_BIAS] = "lm_head",
        [NLP_TR_SEQ_DENSE] = "classifier.dense",
        [NLP_TR_SEQ_OUT] = "classifier.out_proj",
        [NLP_TR_TOK_OUT] = "classifier",
        [NLP_TR_QA_OUT] = "qa_outputs",
        [NLP_TR_REL_BIAS] = "mpnet.encoder.relative_attention_bias",
    },
    .positions = NLP_POS_PAD_OFFSET,
    .heads = {
        [NLP_HEAD_MLM] = {NLP_TR_MLM_DENSE, NLP_HEAD_ACT_GELU, NLP_TR_MLM_LN, NLP_TR_MLM_DECODER},
        [NLP_HEAD_SEQ_CLS] = {NLP_TR_SEQ_DENSE, NLP_HEAD_ACT_TANH, -1, NLP_TR_SEQ_OUT},
        NLP_PLAIN_HEADS,
    },
};
