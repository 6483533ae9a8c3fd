/*
 * family_modernbert.c - ModernBERT (model_type "modernbert"): Hugging
 * Face's ModernBertModel and its heads.  A pre-LayerNorm encoder under
 * "model.": embeddings.tok_embeddings + embeddings.norm (no position or
 * token-type embeddings), per layer attn_norm (none on layer 0),
 * attn.Wqkv (fused [3H][H]) with rotary positions (global_rope_theta on
 * global layers, local_rope_theta on the others), attention over the
 * whole text on every global_attn_every_n_layers-th layer (from layer 0)
 * and within local_attention / 2 tokens either side on the others,
 * attn.Wo, mlp_norm, mlp.Wi (GeGLU input | gate, [2I][H]), mlp.Wo, and
 * final_norm.  Biases only where the config's norm_bias, attention_bias,
 * mlp_bias, classifier_bias and decoder_bias say.
 * Heads: head (dense, classifier_activation, norm) then decoder (tied
 * to the token embeddings, bias decoder.bias) for the masked LM, or
 * classifier for sequence classification (over the first token or the
 * mean of the real tokens, classifier_pooling), token classification and
 * question answering (its two labels are start and end).
 */
#include <math.h>
#include <string.h>

#include "family.h"

/* A number field, def when absent; error when not a number in (lo, hi]. */
static nlp_status cfg_float(const char *path, const cJSON *root, const char *key, double def,
                            double lo, double hi, float *out, nlp_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v) {
        *out = (float)def;
        return NLP_OK;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble > lo) || !(v->valuedouble <= hi))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"%s\" must be a number in (%g, %g]",
                             path, key, lo, hi);
    *out = (float)v->valuedouble;
    return NLP_OK;
}

/* A boolean field, def when absent: when false, bit goes into *no_bias. */
static nlp_status cfg_bias(const char *path, const cJSON *root, const char *key, int def,
                           unsigned bit, unsigned *no_bias, nlp_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (v && !cJSON_IsBool(v))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"%s\" must be true or false", path, key);
    if (!(v ? cJSON_IsTrue(v) : def))
        *no_bias |= bit;
    return NLP_OK;
}

/* The rotary bases: global_rope_theta / local_rope_theta, or the
 * rope_parameters object newer configs write instead (its
 * "full_attention" and "sliding_attention" entries, default RoPE only). */
static nlp_status parse_rope(const char *path, const cJSON *root, nlp_config *cfg, nlp_error *err)
{
    nlp_status s;
    if ((s = cfg_float(path, root, "global_rope_theta", 160000.0, 0, 1e30,
                       &cfg->rope_theta_global, err)) != NLP_OK ||
        (s = cfg_float(path, root, "local_rope_theta", 10000.0, 0, 1e30,
                       &cfg->rope_theta_local, err)) != NLP_OK)
        return s;
    const cJSON *scaling = cJSON_GetObjectItemCaseSensitive(root, "rope_scaling");
    if (scaling && !cJSON_IsNull(scaling))
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: \"rope_scaling\" is not supported "
                             "(only the default rotary embeddings)", path);
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(root, "rope_parameters");
    if (!rp || cJSON_IsNull(rp))
        return NLP_OK;
    static const char *const kinds[] = {"full_attention", "sliding_attention"};
    for (int i = 0; i < 2; i++) {
        const cJSON *e = cJSON_IsObject(rp) ? cJSON_GetObjectItemCaseSensitive(rp, kinds[i]) : NULL;
        const char *type = "default";
        if (!e || !cJSON_IsObject(e))
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"rope_parameters\" needs a "
                                 "\"%s\" object", path, kinds[i]);
        if ((s = nlp_cfg_str(path, e, "rope_type", "default", &type, err)) != NLP_OK)
            return s;
        if (strcmp(type, "default") != 0)
            return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: rope_parameters.%s.rope_type "
                                 "\"%s\" is not supported (only \"default\")", path, kinds[i], type);
        if ((s = cfg_float(path, e, "rope_theta", i ? cfg->rope_theta_local : cfg->rope_theta_global,
                           0, 1e30, i ? &cfg->rope_theta_local : &cfg->rope_theta_global,
                           err)) != NLP_OK)
            return s;
    }
    return NLP_OK;
}

static nlp_status modernbert_parse(const char *path, const cJSON *root, nlp_config *cfg,
                                   nlp_error *err)
{
    nlp_status s;
    const char *pool;
#define INT_FIELD(key, def, lo, dst)                                                     \
    if ((s = nlp_cfg_int(path, root, key, def, lo, NLP_CFG_MAX_DIM, dst, err)) != NLP_OK) \
        return s
    /* ModernBertConfig's defaults */
    INT_FIELD("vocab_size", 50368, 1, &cfg->vocab_size);
    INT_FIELD("max_position_embeddings", 8192, 1, &cfg->max_position_embeddings);
    INT_FIELD("hidden_size", 768, 1, &cfg->hidden_size);
    INT_FIELD("num_hidden_layers", 22, 1, &cfg->num_layers);
    INT_FIELD("num_attention_heads", 12, 1, &cfg->num_heads);
    INT_FIELD("intermediate_size", 1152, 1, &cfg->intermediate_size);
    INT_FIELD("pad_token_id", 50283, 0, &cfg->pad_token_id);
    INT_FIELD("global_attn_every_n_layers", 3, 1, &cfg->global_attn_every);
    INT_FIELD("local_attention", 128, 0, &cfg->local_attention);
#undef INT_FIELD
    if (cfg->num_layers > 4096)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"num_hidden_layers\" is %d, outside "
                             "[1, 4096]", path, cfg->num_layers);
    if (cfg->hidden_size % cfg->num_heads != 0 || (cfg->hidden_size / cfg->num_heads) % 2 != 0)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: hidden_size %d over num_attention_heads "
                             "%d is no even head size (rotary embeddings need one)", path,
                             cfg->hidden_size, cfg->num_heads);
    if ((s = cfg_float(path, root, "norm_eps", 1e-5, -1e-30, 1.0, &cfg->layer_norm_eps, err)) ||
        (s = nlp_cfg_act(path, root, "hidden_activation", &cfg->hidden_act, err)) ||
        (s = nlp_cfg_act(path, root, "classifier_activation", &cfg->classifier_act, err)) ||
        (s = cfg_bias(path, root, "norm_bias", 0, NLP_NOBIAS_NORM, &cfg->no_bias, err)) ||
        (s = cfg_bias(path, root, "attention_bias", 0, NLP_NOBIAS_ATTN, &cfg->no_bias, err)) ||
        (s = cfg_bias(path, root, "mlp_bias", 0, NLP_NOBIAS_MLP, &cfg->no_bias, err)) ||
        (s = cfg_bias(path, root, "classifier_bias", 0, NLP_NOBIAS_HEAD, &cfg->no_bias, err)) ||
        (s = cfg_bias(path, root, "decoder_bias", 1, NLP_NOBIAS_DECODER, &cfg->no_bias, err)) ||
        (s = parse_rope(path, root, cfg, err)) ||
        (s = nlp_cfg_str(path, root, "classifier_pooling", "cls", &pool, err)))
        return s;
    if (strcmp(pool, "cls") == 0)
        cfg->classifier_pooling = NLP_POOLING_CLS;
    else if (strcmp(pool, "mean") == 0)
        cfg->classifier_pooling = NLP_POOLING_MEAN;
    else
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: unsupported classifier_pooling "
                             "\"%s\" (supported: cls, mean)", path, pool);
    cfg->type_vocab_size = 0;
    cfg->pre_norm = 1;
    cfg->ffn_gated = 1;
    return NLP_OK;
}

static const char *const modernbert_types[] = {"modernbert", NULL};
static const char *const modernbert_archs[] = {"ModernBert", NULL};

#define MB_LAYER "model.layers.%d."

const nlp_family_ops nlp_family_modernbert = {
    .family = NLP_FAMILY_MODERNBERT,
    .model_types = modernbert_types,
    .arch_prefixes = modernbert_archs,
    .prefix = "model.",
    .parse = modernbert_parse,
    .names = {
        [NLP_TR_WORD_EMB] = "model.embeddings.tok_embeddings",
        [NLP_TR_EMB_LN] = "model.embeddings.norm",
        [NLP_TR_QKV] = MB_LAYER "attn.Wqkv",
        [NLP_TR_O] = MB_LAYER "attn.Wo",
        [NLP_TR_LN1] = MB_LAYER "attn_norm",
        [NLP_TR_FF1] = MB_LAYER "mlp.Wi",
        [NLP_TR_FF2] = MB_LAYER "mlp.Wo",
        [NLP_TR_LN2] = MB_LAYER "mlp_norm",
        [NLP_TR_FINAL_LN] = "model.final_norm",
        [NLP_TR_MLM_DENSE] = "head.dense",
        [NLP_TR_MLM_LN] = "head.norm",
        [NLP_TR_MLM_DECODER] = "decoder",
        [NLP_TR_MLM_BIAS] = "decoder",
        [NLP_TR_SEQ_DENSE] = "head.dense",
        [NLP_TR_SEQ_OUT] = "classifier",
        [NLP_TR_TOK_OUT] = "classifier",
        [NLP_TR_QA_OUT] = "classifier",
    },
    .positions = NLP_POS_ABSOLUTE,
    .heads = {
        [NLP_HEAD_MLM] = {NLP_TR_MLM_DENSE, NLP_HEAD_ACT_CLASSIFIER, NLP_TR_MLM_LN,
                          NLP_TR_MLM_DECODER},
        [NLP_HEAD_SEQ_CLS] = {NLP_TR_SEQ_DENSE, NLP_HEAD_ACT_CLASSIFIER, NLP_TR_MLM_LN,
                              NLP_TR_SEQ_OUT},
        [NLP_HEAD_TOKEN_CLS] = {NLP_TR_SEQ_DENSE, NLP_HEAD_ACT_CLASSIFIER, NLP_TR_MLM_LN,
                                NLP_TR_TOK_OUT},
        [NLP_HEAD_QA] = {NLP_TR_SEQ_DENSE, NLP_HEAD_ACT_CLASSIFIER, NLP_TR_MLM_LN, NLP_TR_QA_OUT},
    },
    .mlm_by_decoder = 1,
};
