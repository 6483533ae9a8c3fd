/*
 * model_impl.h - the bound weights of a loaded model (private to libnlp).
 *
 * model.c fills these from the checkpoint, under the names the family
 * module gives (family.h); encoder.c and layers.c read them.  The
 * post-LayerNorm families map onto the same per-layer description;
 * optional parts are NULL when the checkpoint lacks them.  All pointers are row-major F32, owned by the
 * model (in the mapping, or converted once at load).
 * Shapes: V vocab, P positions, TV token types, E embedding width, H
 * hidden, I intermediate (2I for a gated feed-forward's first projection).
 * ModernBERT (pre-LN) maps onto the same description: its fused Wqkv
 * gives q_w, k_w, v_w as its three row blocks, attn_norm is ln1 (NULL on
 * layer 0), mlp_norm ln2, mlp.Wi ff1 ([2I][H]), mlp.Wo ff2; a LayerNorm
 * without bias points its bias at zeros the model owns; other absent
 * biases are NULL.
 */
#ifndef NLP_MODEL_IMPL_H
#define NLP_MODEL_IMPL_H

#include "nlp/encoder.h"
#include "nlp/model.h"
#include "nn/gemm.h"
#include "nn/threadpool.h"

typedef struct nlp_layer_weights {
    const float *q_w, *q_b;       /* [H][H], [H]  query */
    const float *k_w, *k_b;       /* [H][H], [H]  key */
    const float *v_w, *v_b;       /* [H][H], [H]  value */
    const float *o_w, *o_b;       /* [H][H], [H]  attention output dense */
    const float *ln1_g, *ln1_b;   /* [H] after attention (BERT attention.output.LayerNorm, DistilBERT sa_layer_norm) */
    const float *ff1_w, *ff1_b;   /* [I][H], [I] intermediate dense (DistilBERT ffn.lin1) */
    const float *ff2_w, *ff2_b;   /* [H][I], [H] output dense (DistilBERT ffn.lin2) */
    const float *ln2_g, *ln2_b;   /* [H] after the feed-forward (BERT output.LayerNorm, DistilBERT output_layer_norm) */
    const float *qkv_b;           /* [3H] q_b | k_b | v_b, the bias of the fused
                                   * projection (NLP_PK_QKV), owned by the model */
    const float *pos_q_w, *pos_q_b; /* [H][H], [H] DeBERTa pos_query_proj (p2c without
                                     * share_att_key), else NULL */
    const float *pos_k_w, *pos_k_b; /* [H][H], [H] DeBERTa pos_key_proj (c2p without
                                     * share_att_key), else NULL */
} nlp_layer_weights;

/* A task head, out(ln(act(dense(x)))) (family.h nlp_head_layout). */
typedef struct nlp_head_weights {
    const float *dense_w, *dense_b;   /* [D][H], [D]; NULL: no first projection */
    int act;                          /* nlp_head_act after dense */
    const float *ln_g, *ln_b;         /* [D]; NULL: no LayerNorm */
    const float *out_w, *out_b;       /* [C][D], [C] (the MLM decoder is the word
                                         embeddings when tied) */
    size_t D, C;                      /* C == 0: the checkpoint has no such head */
} nlp_head_weights;

typedef struct nlp_weights {
    const float *word_emb;        /* [V][E] */
    const float *pos_emb;         /* [P][E] */
    const float *type_emb;        /* [TV][E], NULL for DistilBERT */
    const float *emb_ln_g, *emb_ln_b; /* [E] */
    const float *proj_w, *proj_b; /* [H][E], [H] ELECTRA embeddings_project, NULL when E == H */
    int pos_pad;                  /* >= 0: RoBERTa positions around this padding_idx;
                                   * -1: token t has position t */
    nlp_layer_weights *layers;    /* [num_layers] */
    const float *pool_w, *pool_b; /* [H][H], [H] BERT pooler (optional) */
    nlp_head_weights heads[4];    /* by nlp_head */
    const float *rel_bias;        /* [relative_attention_num_buckets][heads] MPNet's
                                   * relative attention bias, NULL for other families */
    const float *rel_emb;         /* [2S][H] DeBERTa's relative position embeddings
                                   * (S = cfg rel.span), after encoder.LayerNorm when
                                   * norm_rel_ebd asks; NULL without relative attention */
    const float *final_ln_g, *final_ln_b; /* [H] after the last layer (pre-LN
                                   * families), NULL otherwise */
} nlp_weights;

/* The bound weights of model (owned by the model). */
const nlp_weights *nlp_model_weights(const nlp_model *model);

/* 1 if the checkpoint stores weights as int8 with per-row scales (as
 * `nlp quantize` writes them), else 0. */
int nlp_model_int8_stored(const nlp_model *model);

/* The dense weights of one layer, in the order of nlp_model_packed.
 * NLP_PK_QKV is the query, key and value weights stacked into one
 * [3H][H] matrix (rows q_w, then k_w, then v_w), so one GEMM projects
 * all three. */
enum { NLP_PK_QKV, NLP_PK_O, NLP_PK_FF1, NLP_PK_FF2, NLP_PK_COUNT };

/* The layer weights of model packed for the GEMM kernels as dtype:
 * *out = [num_layers][NLP_PK_COUNT] panels, owned by the model and shared
 * by every context using that dtype.  Built on the first call for each
 * dtype (on pool's threads, pool may be NULL) under the model's lock, so
 * concurrent callers wait for one build; later calls return the same
 * array at once.  Freed by nlp_model_free.  Returns NLP_OK, or
 * NLP_ERR_NOMEM with err naming the layer (and a later call retries). */
nlp_status nlp_model_packed(const nlp_model *model, nlp_weight_type dtype,
                            nlp_pool *pool, nlp_packed_b *const **out,
                            nlp_error *err);

/* DeBERTa's relative position rows through every layer's query and key
 * projections for dtype: [num_layers][2S][2H] (S = cfg rel.span; query
 * part in columns 0..H-1, key part in H..2H-1), built with the packed
 * weights by nlp_model_packed(dtype) and owned by the model; NULL before
 * that or without relative attention. */
const float *nlp_model_rel_projected(const nlp_model *model, nlp_weight_type dtype);

/* Bytes of packed panels (and projected relative positions) the model holds, over all dtypes built so far
 * (0 right after nlp_model_load). */
size_t nlp_model_packed_bytes(const nlp_model *model);

/* One tensor the encoder binds (nlp_model_plan). */
typedef struct nlp_tensor_plan {
    char name[160];       /* Hugging Face name, with the family prefix */
    int role;             /* nlp_tensor_role (family.h) */
    int is_bias;          /* 1: the role's .bias, 0: its .weight */
    int ndim;             /* 1 or 2 */
    int64_t shape[2];
} nlp_tensor_plan;

/* The tensors nlp_model_load binds for the encoder of cfg (embeddings,
 * layers, relative-position parts; not the pooler or the heads), in
 * binding order, with the shapes it checks: the same code binds and
 * plans, so a checkpoint holding exactly these loads.  *out is an array
 * of *n the caller frees.  NLP_OK or NLP_ERR_NOMEM. */
nlp_status nlp_model_plan(const nlp_config *cfg, nlp_tensor_plan **out, size_t *n,
                          nlp_error *err);

/* How many checkpoints nlp_model_load() has loaded in this process (its
 * successful calls), for tests that a model is loaded once and shared. */
size_t nlp_model_loads(void);

#endif /* NLP_MODEL_IMPL_H */
