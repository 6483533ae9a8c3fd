/*
 * nlp/model.h - a Hugging Face checkpoint folder: config.json and weights.
 *
 * nlp_model_load() reads config.json (model_type "bert", "distilbert",
 * "roberta", "xlm-roberta", "electra", "mpnet", "deberta-v2" or "modernbert")
 * into an nlp_config, maps model.safetensors (or the shards listed in
 * model.safetensors.index.json) read-only, and binds the encoder's tensors.
 * F32 tensors are used in place from the mapping; F16 and BF16 tensors are
 * converted to F32 once, at load.  Tensor names are accepted with and
 * without the family prefix ("bert.", "distilbert.", "roberta.",
 * "electra.", "mpnet.", "deberta.", "model.").
 *
 * The architecture is described by the config (family, sizes, activation),
 * so further families add a description, not a new code path.
 */
#ifndef NLP_MODEL_H
#define NLP_MODEL_H

#include "nlp/export.h"
#include <stddef.h>
#include <stdint.h>
#include "nlp/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nlp_family {
    NLP_FAMILY_BERT = 0,
    NLP_FAMILY_DISTILBERT = 1,
    NLP_FAMILY_ROBERTA = 2,      /* model_type "roberta" and "xlm-roberta" */
    NLP_FAMILY_ELECTRA = 3,
    NLP_FAMILY_MPNET = 4,
    NLP_FAMILY_DEBERTA_V2 = 5,   /* model_type "deberta-v2" (DeBERTa-v2 and -v3) */
    NLP_FAMILY_MODERNBERT = 6
} nlp_family;

/* The task heads a checkpoint may carry (see nlp_model_head). */
typedef enum nlp_head {
    NLP_HEAD_MLM = 0,            /* masked-LM: [V] logits per token */
    NLP_HEAD_SEQ_CLS = 1,        /* sequence classification: [labels] per text */
    NLP_HEAD_TOKEN_CLS = 2,      /* token classification: [labels] per token */
    NLP_HEAD_QA = 3              /* extractive QA: [2] (start, end) per token */
} nlp_head;

typedef enum nlp_activation {
    NLP_ACT_GELU = 0,      /* exact, erf-based ("gelu") */
    NLP_ACT_GELU_TANH = 1, /* tanh approximation ("gelu_new", "gelu_pytorch_tanh") */
    NLP_ACT_RELU = 2
} nlp_activation;

/*
 * Everything the forward pass and the task heads need from config.json.
 * Read-only for callers; owned by the model.  Fields are only ever added at
 * the end.
 */
/* DeBERTa-v2's disentangled attention, from config.json (all zero for
 * the other families).  Relative position d = i - j of query i and key j
 * is log-bucketed when position_buckets > 0 and indexes the 2 * span rows
 * of rel_embeddings at clamp(bucket(d) + span, 0, 2 * span - 1). */
typedef struct nlp_rel_config {
    int scale_factor;             /* > 0: disentangled attention, scores divided by
                                     sqrt(dh * scale_factor) (1 + the c2p / p2c
                                     entries of pos_att_type) */
    int relative;                 /* relative_attention: add the c2p / p2c terms */
    int c2p, p2c;                 /* pos_att_type holds "c2p" / "p2c" */
    int position_buckets;         /* > 0: log-bucketed relative positions */
    int max_relative;             /* max_relative_positions (max_position_embeddings
                                     when below 1) */
    int span;                     /* att_span: position_buckets, else max_relative */
    int share_att_key;            /* position projections reuse query_proj / key_proj */
    int norm_rel_ebd;             /* encoder.LayerNorm over rel_embeddings */
} nlp_rel_config;

typedef struct nlp_config {
    nlp_family family;
    char model_type[32];          /* as written in config.json */
    int vocab_size;
    int hidden_size;              /* DistilBERT: dim */
    int num_layers;               /* DistilBERT: n_layers */
    int num_heads;                /* DistilBERT: n_heads */
    int intermediate_size;        /* DistilBERT: hidden_dim */
    int max_position_embeddings;
    int type_vocab_size;          /* 0 for DistilBERT (no token types) */
    int pad_token_id;             /* -1 when null */
    float layer_norm_eps;         /* DistilBERT: 1e-12 */
    nlp_activation hidden_act;    /* DistilBERT: activation */
    int num_labels;               /* entries in id2label; when config.json has
                                     no id2label: its "num_labels" (default 2),
                                     named "LABEL_0", "LABEL_1", ... */
    char **id2label;              /* [num_labels] label names, by id */
    char problem_type[48];        /* "" when absent */
    int n_architectures;
    char **architectures;         /* e.g. "BertForMaskedLM" */
    /* label2id as written in config.json (derived from id2label when
     * absent): n_label2id names and their ids, in file order.  See
     * nlp_config_label_id() for a case-insensitive lookup. */
    int n_label2id;
    char **label2id_names;        /* [n_label2id] */
    int *label2id_ids;            /* [n_label2id] */
    /* the position id of the first token: 0, or padding_idx + 1 for
     * RoBERTa (whose position ids count from there, padding at
     * padding_idx), so at most max_position_embeddings - position_offset
     * tokens fit (nlp_model_max_tokens) */
    int position_offset;
    int embedding_size;           /* width of the embeddings: hidden_size, or
                                     ELECTRA's embedding_size (projected to
                                     hidden_size when they differ) */
    int relative_attention_num_buckets; /* MPNet: rows of its relative attention
                                           bias (at least the 32 buckets it
                                           looks up); 0 for other families */
    int no_position_embeddings;   /* 1: no absolute position embeddings (DeBERTa's
                                     position_biased_input false) */
    int emb_norm_after_proj;      /* 1: the embeddings LayerNorm runs after the
                                     projection to hidden_size (DeBERTa) */
    nlp_activation pooler_act;    /* DeBERTa's pooler_hidden_act */
    nlp_rel_config rel;           /* DeBERTa's relative attention */
    /* ModernBERT's layout (all 0 for the post-LayerNorm families) */
    int pre_norm;                 /* 1: LayerNorm before attention and MLP, a
                                     final LayerNorm, rotary positions */
    int ffn_gated;                /* 1: GeGLU feed-forward: the first projection
                                     gives 2 * intermediate_size (input | gate) */
    int global_attn_every;        /* layer l attends globally when l % this == 0,
                                     else within the local window */
    int local_attention;          /* local window width: |i - j| <= it / 2 */
    float rope_theta_global;      /* rotary base of global layers */
    float rope_theta_local;       /* rotary base of local layers */
    int classifier_pooling;       /* NLP_POOLING_CLS or NLP_POOLING_MEAN */
    nlp_activation classifier_act;/* the task heads' activation */
    unsigned no_bias;             /* NLP_NOBIAS_* bits: parts without a bias */
    int *label2id_order;          /* private: label2id's indices sorted by name
                                     (case-insensitive) for
                                     nlp_config_label_id; NULL: it searches
                                     linearly */
} nlp_config;

/* nlp_config.classifier_pooling: what the sequence head reads. */
#define NLP_POOLING_CLS 0         /* the first token */
#define NLP_POOLING_MEAN 1        /* the mean over the real tokens */

/* nlp_config.no_bias bits (ModernBERT's *_bias switches off). */
#define NLP_NOBIAS_NORM 1u        /* LayerNorms (norm_bias) */
#define NLP_NOBIAS_ATTN 2u        /* Wqkv and Wo (attention_bias) */
#define NLP_NOBIAS_MLP 4u         /* Wi and Wo (mlp_bias) */
#define NLP_NOBIAS_HEAD 8u        /* head.dense (classifier_bias) */
#define NLP_NOBIAS_DECODER 16u    /* the masked-LM decoder (decoder_bias) */

typedef struct nlp_model nlp_model;

/* Load the checkpoint in directory dir.  On success *out is a new model the
 * caller frees with nlp_model_free().  Every malformed input is an error
 * naming the file and what is wrong (missing file, bad JSON, unsupported
 * model_type, truncated or corrupt safetensors header, data offsets outside
 * the file, a missing tensor with its expected shape, a wrong shape). */
NLP_API nlp_status nlp_model_load(const char *dir, nlp_model **out, nlp_error *err);

NLP_API void nlp_model_free(nlp_model *model);

/* The model's configuration (owned by the model). */
NLP_API const nlp_config *nlp_model_config(const nlp_model *model);

/* The directory the model was loaded from (owned by the model). */
NLP_API const char *nlp_model_dir(const nlp_model *model);

/* Read config.json alone.  *out is filled; release with nlp_config_clear(). */
NLP_API nlp_status nlp_config_load(const char *path, nlp_config *out, nlp_error *err);
/* As nlp_config_load, from the len bytes of a config.json's text; errors
 * name source (a path or any label).  The caller keeps text. */
NLP_API nlp_status nlp_config_parse(const char *text, size_t len, const char *source,
                                    nlp_config *out, nlp_error *err);
NLP_API void nlp_config_clear(nlp_config *cfg);

/* The id label2id gives to name, compared case-insensitively (ASCII; the
 * first entry in file order when several match), or -1 when none does.
 * O(log n) on a config nlp_config_load or nlp_config_parse filled. */
NLP_API int nlp_config_label_id(const nlp_config *cfg, const char *name);

/* A named weight, as F32.  Looks the name up as given, then with the
 * family prefix added or removed ("bert.pooler.dense.weight" and
 * "pooler.dense.weight" both work), and ".weight" / ".bias" also as the
 * old LayerNorm spellings ".gamma" / ".beta".  ndim / shape give the
 * expected shape (shape may be NULL to accept any; a negative entry accepts
 * any size in that dimension); a mismatch is NLP_ERR_SHAPE naming the
 * tensor, the expected and the actual shape.  An absent tensor is
 * NLP_ERR_NOT_FOUND naming it and the expected shape.  On success *data
 * points at row-major F32 values owned by the model (valid until
 * nlp_model_free) and, if actual_shape is not NULL, it receives up to 4
 * dimensions.  Every floating-point tensor is converted at load, so this
 * never allocates and is safe to call from several threads at once. */
NLP_API nlp_status nlp_model_tensor(const nlp_model *model, const char *name,
                            int ndim, const int64_t *shape,
                            const float **data, int64_t *actual_shape,
                            nlp_error *err);

/* 1 if the checkpoint holds a tensor of that name (with the same prefix
 * rules as nlp_model_tensor), else 0. */
NLP_API int nlp_model_has_tensor(const nlp_model *model, const char *name);

/* The longest input, in tokens, the model's positions take:
 * max_position_embeddings - position_offset. */
NLP_API size_t nlp_model_max_tokens(const nlp_model *model);

/* Whether the checkpoint has head, whatever its family calls the head's
 * tensors.  NLP_OK with *n_out the head's outputs per row (vocabulary
 * size, label count or 2; n_out may be NULL), else NLP_ERR_NOT_FOUND
 * naming the missing tensor. */
NLP_API nlp_status nlp_model_head(const nlp_model *model, nlp_head head, size_t *n_out,
                                  nlp_error *err);

/* Total bytes of the mapped weight files. */
NLP_API size_t nlp_model_weight_bytes(const nlp_model *model);


/* ---- sentence-transformers folders ---- */

/* Pooling modes of a sentence-transformers Pooling module, as bits; several
 * set means the vectors are concatenated in this order (cls, max, mean,
 * mean_sqrt_len), as sentence-transformers does. */
#define NLP_POOL_CLS 1u            /* the first token ([CLS]) */
#define NLP_POOL_MAX 2u            /* per dimension, the largest over the real tokens */
#define NLP_POOL_MEAN 4u           /* the mean over the real tokens */
#define NLP_POOL_MEAN_SQRT_LEN 8u  /* the sum over the real tokens / sqrt(their count) */

/* What a sentence-transformers model folder says about turning token
 * vectors into one sentence vector.  Fields are only ever added at the end. */
typedef struct nlp_sbert_config {
    int found;                  /* 1: the folder has modules.json */
    unsigned pooling;           /* NLP_POOL_* bits; NLP_POOL_MEAN when the
                                   folder has no Pooling module */
    int normalize;              /* 1: a Normalize module follows the pooling */
    int max_seq_length;         /* sentence_bert_config.json; 0 when unset */
    int do_lower_case;          /* sentence_bert_config.json; 0 when unset */
} nlp_sbert_config;

/* Read the sentence-transformers files of model folder dir: modules.json
 * (Transformer, Pooling and Normalize modules; any other module type is
 * NLP_ERR_UNSUPPORTED naming it), the Pooling module's config.json
 * (pooling_mode_cls_token, _mean_tokens, _max_tokens,
 * _mean_sqrt_len_tokens; a mode this library does not offer, such as
 * weightedmean or lasttoken, is NLP_ERR_UNSUPPORTED naming the field) and
 * sentence_bert_config.json (max_seq_length, do_lower_case).  A folder
 * without modules.json is a plain checkpoint: found 0, mean pooling, no
 * normalization.  Malformed files are NLP_ERR_FORMAT naming the file and
 * the field.  *out is plain data (nothing to free). */
NLP_API nlp_status nlp_sbert_config_load(const char *dir, nlp_sbert_config *out,
                                         nlp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NLP_MODEL_H */
