/*
 * family_deberta.c - DeBERTa-v2 and DeBERTa-v3 (model_type "deberta-v2"):
 * Hugging Face's DebertaV2Model and its heads.  Config fields as
 * DebertaV2Config (its defaults when absent); tensors under "deberta.".
 * Embeddings: word, absolute positions only when position_biased_input
 * (v3: false), token types only when type_vocab_size > 0, embed_proj
 * (no bias) when embedding_size differs from hidden_size, then the
 * LayerNorm over hidden_size.  Layers: BERT's post-LayerNorm layer with
 * disentangled attention (query_proj / key_proj / value_proj, relative
 * position embeddings encoder.rel_embeddings, normalised by
 * encoder.LayerNorm when norm_rel_ebd says "layer_norm"; see
 * core/nn/attn_disentangled.c).  Heads: ContextPooler (pooler.dense on
 * the first token, pooler_hidden_act) + classifier; token classification
 * and QA; the masked-LM head in either layout transformers writes:
 * cls.predictions.transform.dense / LayerNorm + cls.predictions.bias
 * ("legacy") or lm_predictions.lm_head.dense / LayerNorm / bias, the
 * decoder tied to the word embeddings.  ConvLayer (conv_kernel_size > 0,
 * deberta-v2-xlarge and -xxlarge) is refused.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "family.h"

/* A boolean field: def when absent or null, error when not a boolean. */
static nlp_status cfg_bool(const char *path, const cJSON *root, const char *key, int def,
                           int *out, nlp_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return NLP_OK;
    }
    if (!cJSON_IsBool(v))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"%s\" must be true or false", path, key);
    *out = cJSON_IsTrue(v);
    return NLP_OK;
}

/* 1 when the "|"-separated list s holds word (case and spaces ignored),
 * as DebertaV2Config splits pos_att_type and norm_rel_ebd. */
static int list_has(const char *s, const char *word)
{
    const size_t n = strlen(word);
    while (*s) {
        while (isspace((unsigned char)*s))
            s++;
        const char *end = strchr(s, '|');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        while (len > 0 && isspace((unsigned char)s[len - 1]))
            len--;
        if (len == n && strncasecmp(s, word, n) == 0)
            return 1;
        if (!end)
            break;
        s = end + 1;
    }
    return 0;
}

/* pos_att_type: a list of strings or one "p2c|c2p" string (null: none);
 * entries other than c2p and p2c are ignored, as transformers does. */
static nlp_status parse_pos_att(const char *path, const cJSON *root, nlp_rel_config *rel,
                                nlp_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "pos_att_type");
    if (!v || cJSON_IsNull(v))
        return NLP_OK;
    if (cJSON_IsString(v)) {
        rel->c2p = list_has(v->valuestring, "c2p");
        rel->p2c = list_has(v->valuestring, "p2c");
        return NLP_OK;
    }
    if (!cJSON_IsArray(v))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"pos_att_type\" must be a list of "
                             "strings or a string", path);
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsString(e))
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"pos_att_type\" must be a list of "
                                 "strings or a string", path);
        rel->c2p |= list_has(e->valuestring, "c2p");
        rel->p2c |= list_has(e->valuestring, "p2c");
    }
    return NLP_OK;
}

/* The relative-attention fields into cfg->rel, checked. */
static nlp_status parse_rel(const char *path, const cJSON *root, nlp_config *cfg,
                            nlp_error *err)
{
    nlp_rel_config *r = &cfg->rel;
    const char *norm;
    nlp_status s;
    if ((s = cfg_bool(path, root, "relative_attention", 0, &r->relative, err)) ||
        (s = cfg_bool(path, root, "share_att_key", 0, &r->share_att_key, err)) ||
        (s = nlp_cfg_int(path, root, "max_relative_positions", -1, -NLP_CFG_MAX_DIM,
                         NLP_CFG_MAX_DIM, &r->max_relative, err)) ||
        (s = nlp_cfg_int(path, root, "position_buckets", -1, -NLP_CFG_MAX_DIM,
                         NLP_CFG_MAX_DIM, &r->position_buckets, err)) ||
        (s = nlp_cfg_str(path, root, "norm_rel_ebd", "none", &norm, err)) ||
        (s = parse_pos_att(path, root, r, err)))
        return s;
    r->scale_factor = 1 + r->c2p + r->p2c;
    if (r->max_relative < 1)
        r->max_relative = cfg->max_position_embeddings;
    if (r->position_buckets < 0)
        r->position_buckets = 0;
    r->span = r->position_buckets > 0 ? r->position_buckets : r->max_relative;
    r->norm_rel_ebd = list_has(norm, "layer_norm");
    if (r->relative && r->position_buckets > 0 &&
        (r->position_buckets < 2 || r->max_relative - 1 <= r->position_buckets / 2))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"position_buckets\" %d needs at least 2 "
                             "buckets and max_relative_positions (%d) above %d", path,
                             r->position_buckets, r->max_relative, r->position_buckets / 2 + 1);
    if (!r->relative) {
        /* no relative terms; the scale still counts pos_att_type */
        r->c2p = r->p2c = 0;
        r->share_att_key = 0;
        r->norm_rel_ebd = 0;
    }
    return NLP_OK;
}

/* The parts of DebertaV2Config this library refuses. */
static nlp_status refuse_unsupported(const char *path, const cJSON *root, const nlp_config *cfg,
                                     nlp_error *err)
{
    int conv, head_size, pooler;
    nlp_status s;
    if ((s = nlp_cfg_int(path, root, "conv_kernel_size", 0, 0, NLP_CFG_MAX_DIM, &conv, err)) ||
        (s = nlp_cfg_int(path, root, "attention_head_size", cfg->hidden_size / cfg->num_heads,
                         1, NLP_CFG_MAX_DIM, &head_size, err)) ||
        (s = nlp_cfg_int(path, root, "pooler_hidden_size", cfg->hidden_size, 1,
                         NLP_CFG_MAX_DIM, &pooler, err)))
        return s;
    if (conv > 0)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: \"conv_kernel_size\" %d: the "
                             "convolution layer (ConvLayer) of DeBERTa-v2 is not supported",
                             path, conv);
    if (head_size * cfg->num_heads != cfg->hidden_size)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: \"attention_head_size\" %d times %d "
                             "heads differs from hidden_size %d; not supported", path,
                             head_size, cfg->num_heads, cfg->hidden_size);
    if (pooler != cfg->hidden_size)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: \"pooler_hidden_size\" %d differs "
                             "from hidden_size %d; not supported", path, pooler, cfg->hidden_size);
    return NLP_OK;
}

/* DebertaV2Config's fields into cfg (its defaults when absent; vocab_size
 * read again for its own default), checked; errors name path and field. */
static nlp_status deberta_parse(const char *path, const cJSON *root, nlp_config *cfg,
                                nlp_error *err)
{
    nlp_status s;
    int biased;
#define INT_FIELD(key, def, lo, dst)                                                    \
    if ((s = nlp_cfg_int(path, root, key, def, lo, NLP_CFG_MAX_DIM, dst, err)) != NLP_OK) \
        return s
    INT_FIELD("vocab_size", 128100, 1, &cfg->vocab_size);
    INT_FIELD("hidden_size", 1536, 1, &cfg->hidden_size);
    if ((s = nlp_cfg_int(path, root, "num_hidden_layers", 24, 1, 4096, &cfg->num_layers, err)))
        return s;
    INT_FIELD("num_attention_heads", 24, 1, &cfg->num_heads);
    INT_FIELD("intermediate_size", 6144, 1, &cfg->intermediate_size);
    INT_FIELD("type_vocab_size", 0, 0, &cfg->type_vocab_size);
    INT_FIELD("embedding_size", cfg->hidden_size, 1, &cfg->embedding_size);
#undef INT_FIELD
    if (cfg->hidden_size % cfg->num_heads != 0)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: hidden_size %d is not a multiple of "
                             "num_attention_heads %d", path, cfg->hidden_size, cfg->num_heads);
    if ((s = nlp_cfg_eps(path, root, 1e-7f, &cfg->layer_norm_eps, err)) ||
        (s = nlp_cfg_act(path, root, "hidden_act", &cfg->hidden_act, err)) ||
        (s = nlp_cfg_act(path, root, "pooler_hidden_act", &cfg->pooler_act, err)) ||
        (s = cfg_bool(path, root, "position_biased_input", 1, &biased, err)) ||
        (s = refuse_unsupported(path, root, cfg, err)))
        return s;
    cfg->no_position_embeddings = !biased;
    cfg->emb_norm_after_proj = 1;
    return parse_rel(path, root, cfg, err);
}

static const char *const deberta_types[] = {"deberta-v2", NULL};
static const char *const deberta_archs[] = {"DebertaV2", NULL};

#define DEB_LAYER "deberta.encoder.layer.%d."

const nlp_family_ops nlp_family_deberta = {
    .family = NLP_FAMILY_DEBERTA_V2,
    .model_types = deberta_types,
    .arch_prefixes = deberta_archs,
    .prefix = "deberta.",
    .parse = deberta_parse,
    .names = {
        [NLP_TR_WORD_EMB] = "deberta.embeddings.word_embeddings",
        [NLP_TR_POS_EMB] = "deberta.embeddings.position_embeddings",
        [NLP_TR_TYPE_EMB] = "deberta.embeddings.token_type_embeddings",
        [NLP_TR_EMB_LN] = "deberta.embeddings.LayerNorm",
        [NLP_TR_EMB_PROJ] = "deberta.embeddings.embed_proj",
        [NLP_TR_Q] = DEB_LAYER "attention.self.query_proj",
        [NLP_TR_K] = DEB_LAYER "attention.self.key_proj",
        [NLP_TR_V] = DEB_LAYER "attention.self.value_proj",
        [NLP_TR_O] = DEB_LAYER "attention.output.dense",
        [NLP_TR_LN1] = DEB_LAYER "attention.output.LayerNorm",
        [NLP_TR_FF1] = DEB_LAYER "intermediate.dense",
        [NLP_TR_FF2] = DEB_LAYER "output.dense",
        [NLP_TR_LN2] = DEB_LAYER "output.LayerNorm",
        [NLP_TR_REL_EMB] = "deberta.encoder.rel_embeddings",
        [NLP_TR_REL_LN] = "deberta.encoder.LayerNorm",
        [NLP_TR_POS_Q] = DEB_LAYER "attention.self.pos_query_proj",
        [NLP_TR_POS_K] = DEB_LAYER "attention.self.pos_key_proj",
        [NLP_TR_MLM_DENSE] = "cls.predictions.transform.dense",
        [NLP_TR_MLM_LN] = "cls.predictions.transform.LayerNorm",
        [NLP_TR_MLM_DECODER] = "cls.predictions.decoder",
        [NLP_TR_MLM_BIAS] = "cls.predictions",
        [NLP_TR_SEQ_DENSE] = "pooler.dense",
        [NLP_TR_SEQ_OUT] = "classifier",
        [NLP_TR_TOK_OUT] = "classifier",
        [NLP_TR_QA_OUT] = "qa_outputs",
    },
    .alt_names = {
        [NLP_TR_MLM_DENSE] = "lm_predictions.lm_head.dense",
        [NLP_TR_MLM_LN] = "lm_predictions.lm_head.LayerNorm",
        [NLP_TR_MLM_BIAS] = "lm_predictions.lm_head",
    },
    .positions = NLP_POS_ABSOLUTE,
    .heads = {
        [NLP_HEAD_MLM] = {NLP_TR_MLM_DENSE, NLP_HEAD_ACT_HIDDEN, NLP_TR_MLM_LN, NLP_TR_MLM_DECODER},
        [NLP_HEAD_SEQ_CLS] = {NLP_TR_SEQ_DENSE, NLP_HEAD_ACT_POOLER, -1, NLP_TR_SEQ_OUT},
        NLP_PLAIN_HEADS,
    },
};
