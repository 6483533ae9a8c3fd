/*
 * family.h - what one model family is, behind one ops table (private to
 * libnlp).
 *
 * Each family module (family_bert.c, family_distilbert.c,
 * family_roberta.c, family_electra.c, family_mpnet.c) fills one nlp_family_ops: the
 * model_type values it answers to, how its config.json fields read into
 * an nlp_config, the Hugging Face name of every tensor it has (the only
 * tensor-name map of the library, heads included), how it numbers
 * positions and how each task head is laid out.  config.c, model.c, the
 * encoder, the trainer and the checkpoint writers ask this table; nothing
 * else in the tree names a family's tensors.
 */
#ifndef NLP_FAMILY_H
#define NLP_FAMILY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "nlp/encoder.h"
#include "nlp/model.h"

/* The parts of a checkpoint, each stored as BASE.weight (and BASE.bias
 * where it has one); a family's names[] gives BASE, with "%d" standing
 * for the layer index in the per-layer ones. */
typedef enum nlp_tensor_role {
    NLP_TR_WORD_EMB, NLP_TR_POS_EMB, NLP_TR_TYPE_EMB, NLP_TR_EMB_LN,
    NLP_TR_EMB_PROJ,                       /* ELECTRA embeddings_project */
    NLP_TR_Q, NLP_TR_K, NLP_TR_V, NLP_TR_O, NLP_TR_LN1,
    NLP_TR_FF1, NLP_TR_FF2, NLP_TR_LN2,
    NLP_TR_POOLER,                         /* BERT pooler */
    NLP_TR_MLM_DENSE, NLP_TR_MLM_LN, NLP_TR_MLM_DECODER,
    NLP_TR_MLM_BIAS,                       /* BASE.bias is the decoder's bias */
    NLP_TR_SEQ_DENSE, NLP_TR_SEQ_OUT,      /* sequence classification */
    NLP_TR_TOK_OUT,                        /* token classification */
    NLP_TR_QA_OUT,                         /* question answering (start, end) */
    NLP_TR_REL_BIAS,                       /* MPNet relative_attention_bias [buckets][heads] */
    NLP_TR_COUNT
} nlp_tensor_role;

/* What follows a head's first projection. */
typedef enum nlp_head_act {
    NLP_HEAD_ACT_NONE = 0,
    NLP_HEAD_ACT_TANH,
    NLP_HEAD_ACT_RELU,
    NLP_HEAD_ACT_GELU,                     /* exact GELU, whatever hidden_act says */
    NLP_HEAD_ACT_HIDDEN                    /* the config's hidden activation */
} nlp_head_act;

/* One head: out(ln(act(dense(x)))), dense and ln optional (-1). */
typedef struct nlp_head_layout {
    int dense;                             /* nlp_tensor_role or -1 */
    nlp_head_act act;
    int ln;                                /* nlp_tensor_role or -1 */
    int out;                               /* nlp_tensor_role */
} nlp_head_layout;

/* Heads per family (nlp_head values). */
#define NLP_HEAD_COUNT 4

/* How position ids are numbered. */
typedef enum nlp_position_scheme {
    NLP_POS_ABSOLUTE = 0,                  /* token t gets position t */
    NLP_POS_PAD_OFFSET = 1                 /* RoBERTa, MPNet: padding_idx + running
                                            * count of non-padding tokens; padding
                                            * gets padding_idx (position_offset - 1) */
} nlp_position_scheme;

typedef struct nlp_family_ops {
    nlp_family family;
    const char *const *model_types;        /* NULL-terminated, first is canonical */
    const char *const *arch_prefixes;      /* class-name starts naming it, NULL-terminated */
    const char *prefix;                    /* the base model's prefix, e.g. "bert." */
    /* config.json fields beyond the common ones (labels, architectures,
     * problem_type, model_type) into cfg; errors name path and field */
    nlp_status (*parse)(const char *path, const cJSON *root, nlp_config *cfg,
                        nlp_error *err);
    const char *names[NLP_TR_COUNT];       /* NULL: the family has no such part */
    nlp_position_scheme positions;
    nlp_head_layout heads[NLP_HEAD_COUNT];
} nlp_family_ops;

/* The embeddings and layer names of BERT's layout under prefix pre
 * (BERT, RoBERTa and ELECTRA share it), as designated initialisers. */
#define NLP_BERT_ENCODER_NAMES(pre)                                          \
    [NLP_TR_WORD_EMB] = pre "embeddings.word_embeddings",                    \
    [NLP_TR_POS_EMB] = pre "embeddings.position_embeddings",                 \
    [NLP_TR_TYPE_EMB] = pre "embeddings.token_type_embeddings",              \
    [NLP_TR_EMB_LN] = pre "embeddings.LayerNorm",                            \
    [NLP_TR_Q] = pre "encoder.layer.%d.attention.self.query",                \
    [NLP_TR_K] = pre "encoder.layer.%d.attention.self.key",                  \
    [NLP_TR_V] = pre "encoder.layer.%d.attention.self.value",                \
    [NLP_TR_O] = pre "encoder.layer.%d.attention.output.dense",              \
    [NLP_TR_LN1] = pre "encoder.layer.%d.attention.output.LayerNorm",        \
    [NLP_TR_FF1] = pre "encoder.layer.%d.intermediate.dense",                \
    [NLP_TR_FF2] = pre "encoder.layer.%d.output.dense",                      \
    [NLP_TR_LN2] = pre "encoder.layer.%d.output.LayerNorm"

/* The plain heads every family has: token classification and QA. */
#define NLP_PLAIN_HEADS                                                      \
    [NLP_HEAD_TOKEN_CLS] = {-1, NLP_HEAD_ACT_NONE, -1, NLP_TR_TOK_OUT},      \
    [NLP_HEAD_QA] = {-1, NLP_HEAD_ACT_NONE, -1, NLP_TR_QA_OUT}

extern const nlp_family_ops nlp_family_bert, nlp_family_distilbert,
    nlp_family_roberta, nlp_family_electra;
extern const nlp_family_ops nlp_family_mpnet;

/* The family whose model_types holds model_type, or NULL. */
const nlp_family_ops *nlp_family_by_type(const char *model_type);

/* The family of an nlp_family value (never NULL for a loaded config). */
const nlp_family_ops *nlp_family_of(nlp_family family);

/* The family an architecture class name belongs to ("BertForMaskedLM"),
 * or NULL. */
const nlp_family_ops *nlp_family_by_arch(const char *arch);

/* "bert, distilbert, roberta, xlm-roberta, electra, mpnet" into buf. */
const char *nlp_family_list(char *buf, size_t cap);

/* The name of role's tensor for layer (ignored by non-layer roles) with
 * suffix (".weight", ".bias" or "") into buf; returns buf, or NULL when
 * the family has no such tensor or buf is too small. */
const char *nlp_family_tensor_name(const nlp_family_ops *ops, nlp_tensor_role role,
                                   int layer, const char *suffix, char *buf, size_t cap);

/* 1 when name is the weight of a dense layer of an encoder layer (query,
 * key, value, attention output, intermediate, output) in any family's
 * naming, with or without the family prefix. */
int nlp_family_is_layer_weight(const char *name);

/* 1 when name is the word-embedding matrix in any family's naming, with
 * or without the family prefix. */
int nlp_family_is_word_embeddings(const char *name);

/* Shared config.json readers for the family modules. */
nlp_status nlp_cfg_int(const char *path, const cJSON *root, const char *key, int def,
                       int lo, int hi, int *out, nlp_error *err);
nlp_status nlp_cfg_str(const char *path, const cJSON *root, const char *key,
                       const char *def, const char **out, nlp_error *err);
nlp_status nlp_cfg_eps(const char *path, const cJSON *root, float def, float *out,
                       nlp_error *err);
nlp_status nlp_cfg_act(const char *path, const cJSON *root, const char *key,
                       nlp_activation *out, nlp_error *err);
/* BERT's field names (hidden_size, num_hidden_layers, ..., type_vocab_size,
 * layer_norm_eps, hidden_act, position_embedding_type, is_decoder), which
 * RoBERTa and ELECTRA share. */
nlp_status nlp_cfg_bert_fields(const char *path, const cJSON *root, nlp_config *cfg,
                               int type_vocab_default, nlp_error *err);

/* Upper bound for any size in config.json. */
#define NLP_CFG_MAX_DIM (1 << 24)

#endif /* NLP_FAMILY_H */
