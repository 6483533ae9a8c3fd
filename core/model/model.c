/*
 * model.c - load a checkpoint folder (config.json + safetensors weights)
 * and bind the encoder's tensors into an nlp_weights.
 *
 * Weights: model.safetensors, else the shards of
 * model.safetensors.index.json.  All files are mapped read-only.  Every
 * floating-point tensor gets an F32 view at load: aligned F32 tensors are
 * used in place from the mapping; F16, BF16, F64 and misaligned F32 tensors
 * are converted once into buffers the model owns.  After nlp_model_load()
 * returns, the model is immutable, so every accessor (including
 * nlp_model_tensor() for head weights) is safe to call from many threads.
 *
 * Packed weights: the layer weights packed for the GEMM kernels (one set
 * per weight type, see nlp_model_packed) also belong to the model, built
 * on first use under a mutex so every context on the model shares them;
 * loading itself never packs, so it stays a mapping and a header parse.
 *
 * Names: every tensor is bound under the name its family module gives
 * (family.h).  A lookup tries the name as given, then with the family
 * prefix ("bert.", "roberta.", ...) added or removed, and for ".weight" / ".bias"
 * also the old LayerNorm spellings ".gamma" / ".beta"; a role with a second
 * spelling (family.h alt_names) takes it when the checkpoint lacks the
 * first.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "family.h"
#include "model_impl.h"
#include "nn/layers.h"
#include "safetensors.h"
#include "util/util.h"

struct nlp_model {
    char *dir;
    nlp_config cfg;
    nlp_st *st;             /* mapped weight files and their tensors */
    const float **f32;      /* [st->n_tensors] F32 view, NULL if not a float tensor */
    float **owned;          /* [st->n_tensors] converted buffers (or NULL) */
    nlp_weights w;
    const nlp_family_ops *ops;  /* the family module (names, heads, positions) */
    char head_missing[NLP_HEAD_COUNT][NLP_ERROR_MAX]; /* why a head is absent */
    pthread_mutex_t pack_lock;  /* guards packed[] and packed_bytes */
    nlp_packed_b **packed[3];   /* per nlp_weight_type: [num_layers][NLP_PK_COUNT] or NULL */
    float *relproj[3];          /* per nlp_weight_type: [num_layers][2S][2H] DeBERTa's
                                 * rel rows through each layer's query | key projection */
    float *qkv_bias;        /* [num_layers][3H] fused q | k | v biases */
    float *rel_norm;        /* [2S][H] DeBERTa's normalised rel_embeddings, or NULL */
    float *zeros;           /* [H] the bias of LayerNorms without one */
    size_t n_int8;          /* tensors stored as int8 with a scale (nlp quantize) */
    size_t packed_bytes;
    int planning;           /* nlp_model_plan: bind_role records into plan */
    nlp_tensor_plan *plan;
    size_t plan_n, plan_cap;
};

/* ------------------------------------------------------------ lookup */

static const nlp_st_tensor *find_alias(const nlp_st *st, const char *name)
{
    const nlp_st_tensor *t = nlp_st_find(st, name);
    if (t)
        return t;
    /* old checkpoints spell LayerNorm parameters gamma / beta */
    size_t n = strlen(name);
    char buf[512];
    if (n >= sizeof buf)
        return NULL;
    if (n > 7 && strcmp(name + n - 7, ".weight") == 0) {
        memcpy(buf, name, n - 7);
        strcpy(buf + n - 7, ".gamma");
        return nlp_st_find(st, buf);
    }
    if (n > 5 && strcmp(name + n - 5, ".bias") == 0) {
        memcpy(buf, name, n - 5);
        strcpy(buf + n - 5, ".beta");
        return nlp_st_find(st, buf);
    }
    return NULL;
}

/* The checkpoint tensor called name, with the prefix rules above. */
static const nlp_st_tensor *model_find(const nlp_model *m, const char *name)
{
    const nlp_st_tensor *t = find_alias(m->st, name);
    if (t)
        return t;
    const char *prefix = m->ops->prefix;
    size_t pl = strlen(prefix), n = strlen(name);
    if (n > pl && strncmp(name, prefix, pl) == 0)
        return find_alias(m->st, name + pl);
    char buf[512];
    if (pl + n >= sizeof buf)
        return NULL;
    memcpy(buf, prefix, pl);
    memcpy(buf + pl, name, n + 1);
    return find_alias(m->st, buf);
}

/* "[768, 3072]" into buf. */
static const char *shape_str(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, cap - k, "[");
    for (int i = 0; i < ndim && k < cap; i++) {
        if (shape[i] < 0)
            k += (size_t)snprintf(buf + k, cap - k, "%s*", i ? ", " : "");
        else
            k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    }
    if (k < cap)
        snprintf(buf + k, cap - k, "]");
    return buf;
}

nlp_status nlp_model_tensor(const nlp_model *model, const char *name, int ndim, const int64_t *shape,
                            const float **data, int64_t *actual_shape, nlp_error *err)
{
    *data = NULL;
    char want[160], got[160];
    const nlp_st_tensor *t = model_find(model, name);
    if (!t) {
        /* either spelling is accepted: name the shorter one */
        size_t pl = strlen(model->ops->prefix);
        if (strncmp(name, model->ops->prefix, pl) == 0 && name[pl])
            name += pl;
        if (shape)
            return nlp_error_set(err, NLP_ERR_NOT_FOUND, "%s: missing tensor %s %s", model->st->source,
                                 name, shape_str(want, sizeof want, ndim, shape));
        return nlp_error_set(err, NLP_ERR_NOT_FOUND, "%s: missing tensor %s", model->st->source, name);
    }
    const char *file = model->st->files[t->file].path;
    if (shape) {
        int ok = t->ndim == ndim;
        for (int i = 0; ok && i < ndim; i++)
            ok = shape[i] < 0 || shape[i] == t->shape[i];
        if (!ok)
            return nlp_error_set(err, NLP_ERR_SHAPE, "%s: tensor %s has shape %s, expected %s", file,
                                 t->name, shape_str(got, sizeof got, t->ndim, t->shape),
                                 shape_str(want, sizeof want, ndim, shape));
    }
    size_t idx = (size_t)(t - model->st->tensors);
    if (!model->f32[idx])
        return nlp_error_set(err, NLP_ERR_SHAPE, "%s: tensor %s has dtype %s, not a floating-point type",
                             file, t->name, nlp_dtype_name(t->dtype));
    *data = model->f32[idx];
    if (actual_shape)
        for (int i = 0; i < t->ndim && i < 4; i++)
            actual_shape[i] = t->shape[i];
    return NLP_OK;
}

int nlp_model_has_tensor(const nlp_model *model, const char *name)
{
    return model_find(model, name) != NULL;
}

/* ------------------------------------------------------------ binding */

#define TRY(expr)                         \
    do {                                  \
        nlp_status s_ = (expr);           \
        if (s_ != NLP_OK)                 \
            return s_;                    \
    } while (0)

/* The family's name for role (layer, suffix) into buf, "" when it has none;
 * its second spelling (alt_names) when the checkpoint has only that one. */
static const char *role_name(const nlp_model *m, nlp_tensor_role role, int layer,
                             const char *suffix, char *buf, size_t cap)
{
    const char *n = nlp_family_tensor_name(m->ops, role, layer, suffix, buf, cap);
    char alt[256];
    if (n && !nlp_model_has_tensor(m, n) &&
        nlp_family_alt_tensor_name(m->ops, role, layer, suffix, alt, sizeof alt) &&
        nlp_model_has_tensor(m, alt) && strlen(alt) < cap)
        strcpy(buf, alt);
    return n ? n : "";
}

static int has_role(const nlp_model *m, nlp_tensor_role role, const char *suffix)
{
    char name[256];
    return *role_name(m, role, 0, suffix, name, sizeof name) && nlp_model_has_tensor(m, name);
}

/* Record role's tensor (layer, bias or weight) of shape [d0][d1] ([d0]
 * when d1 == 0) in m->plan. */
static nlp_status plan_add(nlp_model *m, nlp_tensor_role role, int layer, int is_bias,
                           int64_t d0, int64_t d1, nlp_error *err)
{
    if (m->plan_n == m->plan_cap) {
        size_t cap = m->plan_cap ? 2 * m->plan_cap : 64;
        nlp_tensor_plan *p = realloc(m->plan, cap * sizeof *p);
        if (!p)
            return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        m->plan = p;
        m->plan_cap = cap;
    }
    nlp_tensor_plan *t = &m->plan[m->plan_n];
    if (!nlp_family_tensor_name(m->ops, role, layer, is_bias ? ".bias" : ".weight", t->name,
                                sizeof t->name))
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "model_type \"%s\" has no name for "
                             "tensor role %d", m->cfg.model_type, (int)role);
    t->role = (int)role;
    t->is_bias = is_bias;
    t->ndim = d1 && !is_bias ? 2 : 1;
    t->shape[0] = d0;
    t->shape[1] = t->ndim == 2 ? d1 : 0;
    m->plan_n++;
    return NLP_OK;
}

/* Bind role's .weight ([d0][d1], or [d0] when d1 == 0) and, when b is not
 * NULL, its .bias ([d0]) for layer.  While planning (nlp_model_plan) the
 * tensors are recorded instead and point at the model's zeros. */
static nlp_status bind_role(nlp_model *m, nlp_tensor_role role, int layer, const float **w,
                            const float **b, int64_t d0, int64_t d1, nlp_error *err)
{
    if (m->planning) {
        *w = m->zeros;
        if (b)
            *b = m->zeros;
        TRY(plan_add(m, role, layer, 0, d0, d1, err));
        return b ? plan_add(m, role, layer, 1, d0, 0, err) : NLP_OK;
    }
    char name[256];
    int64_t shape[2] = {d0, d1};
    TRY(nlp_model_tensor(m, role_name(m, role, layer, ".weight", name, sizeof name), d1 ? 2 : 1,
                         shape, w, NULL, err));
    if (!b)
        return NLP_OK;
    return nlp_model_tensor(m, role_name(m, role, layer, ".bias", name, sizeof name), 1, shape,
                            b, NULL, err);
}

/* Role's .weight [d0][d1] and, when has_bias, its .bias [d0] into *b
 * (else *b = NULL). */
static nlp_status bind_opt(nlp_model *m, nlp_tensor_role role, int layer, const float **w,
                           const float **b, int64_t d0, int64_t d1, int has_bias, nlp_error *err)
{
    *b = NULL;
    return bind_role(m, role, layer, w, has_bias ? b : NULL, d0, d1, err);
}

/* A LayerNorm of width D: its gain and its bias, or the model's zeros
 * when the config says the norms have none (ModernBERT's norm_bias). */
static nlp_status bind_norm(nlp_model *m, nlp_tensor_role role, int layer, const float **g,
                            const float **b, int64_t D, nlp_error *err)
{
    if (!(m->cfg.no_bias & NLP_NOBIAS_NORM))
        return bind_role(m, role, layer, g, b, D, 0, err);
    if (D > m->cfg.hidden_size)
        return nlp_error_set(err, NLP_ERR_SHAPE, "%s: a LayerNorm of width %lld without bias "
                             "is wider than the hidden size %d", m->dir, (long long)D,
                             m->cfg.hidden_size);
    *b = m->zeros;
    return bind_role(m, role, layer, g, NULL, D, 0, err);
}

/* Embeddings: word, position (unless the config has none), token type
 * (when the family and config have them), LayerNorm, and the projection
 * when E != H (ELECTRA's; DeBERTa's has no bias and is followed by the
 * LayerNorm over H). */
static nlp_status bind_embeddings(nlp_model *m, nlp_error *err)
{
    const nlp_config *c = &m->cfg;
    nlp_weights *w = &m->w;
    const int64_t E = c->embedding_size, H = c->hidden_size;
    TRY(bind_role(m, NLP_TR_WORD_EMB, 0, &w->word_emb, NULL, c->vocab_size, E, err));
    if (m->ops->names[NLP_TR_POS_EMB] && !c->no_position_embeddings)
        TRY(bind_role(m, NLP_TR_POS_EMB, 0, &w->pos_emb, NULL, c->max_position_embeddings, E,
                      err));
    if (m->ops->names[NLP_TR_TYPE_EMB] && c->type_vocab_size > 0)
        TRY(bind_role(m, NLP_TR_TYPE_EMB, 0, &w->type_emb, NULL, c->type_vocab_size, E, err));
    TRY(bind_norm(m, NLP_TR_EMB_LN, 0, &w->emb_ln_g, &w->emb_ln_b,
                  c->emb_norm_after_proj ? H : E, err));
    if (E != H) {
        if (!m->ops->names[NLP_TR_EMB_PROJ])
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: embedding width %lld differs from the "
                                 "hidden size %lld", m->dir, (long long)E, (long long)H);
        TRY(bind_role(m, NLP_TR_EMB_PROJ, 0, &w->proj_w,
                      c->emb_norm_after_proj ? NULL : &w->proj_b, H, E, err));
    }
    w->pos_pad = m->ops->positions == NLP_POS_PAD_OFFSET ? c->position_offset - 1 : -1;
    return NLP_OK;
}

/* A fused [3H][H] query | key | value projection (ModernBERT's Wqkv):
 * q, k and v are its three row blocks, their biases those of its bias. */
static nlp_status bind_fused_qkv(nlp_model *m, int l, nlp_layer_weights *L, nlp_error *err)
{
    const int64_t H = m->cfg.hidden_size;
    const float *w, *b;
    TRY(bind_opt(m, NLP_TR_QKV, l, &w, &b, 3 * H, H, !(m->cfg.no_bias & NLP_NOBIAS_ATTN), err));
    L->q_w = w;
    L->k_w = w + H * H;
    L->v_w = w + 2 * H * H;
    L->q_b = b;
    L->k_b = b ? b + H : NULL;
    L->v_b = b ? b + 2 * H : NULL;
    return NLP_OK;
}

static nlp_status bind_layers(nlp_model *m, nlp_error *err)
{
    const nlp_config *c = &m->cfg;
    const int64_t H = c->hidden_size, I = c->intermediate_size;
    const int attn_b = !(c->no_bias & NLP_NOBIAS_ATTN), mlp_b = !(c->no_bias & NLP_NOBIAS_MLP);
    for (int l = 0; l < c->num_layers; l++) {
        nlp_layer_weights *L = &m->w.layers[l];
        if (m->ops->names[NLP_TR_QKV]) {
            TRY(bind_fused_qkv(m, l, L, err));
        } else {
            TRY(bind_role(m, NLP_TR_Q, l, &L->q_w, &L->q_b, H, H, err));
            TRY(bind_role(m, NLP_TR_K, l, &L->k_w, &L->k_b, H, H, err));
            TRY(bind_role(m, NLP_TR_V, l, &L->v_w, &L->v_b, H, H, err));
        }
        TRY(bind_opt(m, NLP_TR_O, l, &L->o_w, &L->o_b, H, H, attn_b, err));
        if (!c->pre_norm || l > 0)   /* pre-LN: layer 0's attn_norm is the identity */
            TRY(bind_norm(m, NLP_TR_LN1, l, &L->ln1_g, &L->ln1_b, H, err));
        TRY(bind_opt(m, NLP_TR_FF1, l, &L->ff1_w, &L->ff1_b, c->ffn_gated ? 2 * I : I, H, mlp_b,
                     err));
        TRY(bind_opt(m, NLP_TR_FF2, l, &L->ff2_w, &L->ff2_b, H, I, mlp_b, err));
        TRY(bind_norm(m, NLP_TR_LN2, l, &L->ln2_g, &L->ln2_b, H, err));
        const nlp_rel_config *r = &c->rel;
        if (r->relative && !r->share_att_key && r->p2c)
            TRY(bind_role(m, NLP_TR_POS_Q, l, &L->pos_q_w, &L->pos_q_b, H, H, err));
        if (r->relative && !r->share_att_key && r->c2p)
            TRY(bind_role(m, NLP_TR_POS_K, l, &L->pos_k_w, &L->pos_k_b, H, H, err));
    }
    if (m->ops->names[NLP_TR_FINAL_LN])
        TRY(bind_norm(m, NLP_TR_FINAL_LN, 0, &m->w.final_ln_g, &m->w.final_ln_b, H, err));
    return NLP_OK;
}

/* DeBERTa's relative position embeddings [2S][H], normalised once here
 * by encoder.LayerNorm when norm_rel_ebd asks (they do not depend on the
 * input). */
static nlp_status bind_relative(nlp_model *m, nlp_error *err)
{
    const nlp_config *c = &m->cfg;
    if (!c->rel.relative)
        return NLP_OK;
    const int64_t H = c->hidden_size, R = 2 * (int64_t)c->rel.span;
    TRY(bind_role(m, NLP_TR_REL_EMB, 0, &m->w.rel_emb, NULL, R, H, err));
    if (!c->rel.norm_rel_ebd)
        return NLP_OK;
    const float *g, *b;
    TRY(bind_role(m, NLP_TR_REL_LN, 0, &g, &b, H, 0, err));
    if (m->planning)
        return NLP_OK;
    m->rel_norm = malloc((size_t)(R * H) * sizeof *m->rel_norm);
    if (!m->rel_norm)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", m->dir);
    nlp_layernorm_forward(NULL, m->rel_norm, NULL, NULL, m->w.rel_emb, g, b, (size_t)R,
                          (size_t)H, c->layer_norm_eps);
    m->w.rel_emb = m->rel_norm;
    return NLP_OK;
}

/* The tensor whose presence says the checkpoint has head: the output
 * projection's weight, or for the masked-LM head (whose decoder may be
 * tied) its first projection. */
static int head_key(const nlp_family_ops *ops, nlp_head head)
{
    const nlp_head_layout *hl = &ops->heads[head];
    return head == NLP_HEAD_MLM && hl->dense >= 0 ? hl->dense : hl->out;
}

/* The MLM decoder: its own weight or the tied word embeddings; the bias
 * under the family's bias name, else the decoder's. */
static nlp_status bind_decoder(nlp_model *m, nlp_head_weights *hw, nlp_error *err)
{
    const int64_t V = m->cfg.vocab_size;
    if (has_role(m, NLP_TR_MLM_DECODER, ".weight"))
        TRY(bind_role(m, NLP_TR_MLM_DECODER, 0, &hw->out_w, NULL, V, (int64_t)hw->D, err));
    else if (m->cfg.embedding_size == (int)hw->D)
        hw->out_w = m->w.word_emb;
    else
        return bind_role(m, NLP_TR_MLM_DECODER, 0, &hw->out_w, NULL, V, (int64_t)hw->D, err);
    nlp_tensor_role br = has_role(m, NLP_TR_MLM_BIAS, ".bias") || !has_role(m, NLP_TR_MLM_DECODER, ".bias")
                             ? NLP_TR_MLM_BIAS : NLP_TR_MLM_DECODER;
    char name[256];
    int64_t shape[1] = {V};
    hw->C = (size_t)V;
    if (m->cfg.no_bias & NLP_NOBIAS_DECODER)
        return NLP_OK;
    return nlp_model_tensor(m, role_name(m, br, 0, ".bias", name, sizeof name), 1, shape,
                            &hw->out_b, NULL, err);
}

/* One head, when its key tensor is present: every part in the family's
 * layout with its shape checked (a missing one is an error naming it).
 * A head whose key is absent stays unbound (C == 0), and so does one whose
 * first projection is absent while its key is there (a BERT token
 * classifier's "classifier" has no pooler before it): asking for it then
 * names the missing tensor. */
static nlp_status bind_head(nlp_model *m, nlp_head head, nlp_error *err)
{
    const nlp_head_layout *hl = &m->ops->heads[head];
    nlp_head_weights *hw = &m->w.heads[head];
    const int key = head_key(m->ops, head);
    if (!has_role(m, (nlp_tensor_role)key, ".weight"))
        return NLP_OK;
    if (head == NLP_HEAD_MLM && m->ops->mlm_by_decoder &&
        !has_role(m, NLP_TR_MLM_DECODER, ".weight") && !has_role(m, NLP_TR_MLM_BIAS, ".bias") &&
        !(m->cfg.no_bias & NLP_NOBIAS_DECODER))
        return NLP_OK;
    if (hl->dense >= 0 && hl->dense != key && !has_role(m, (nlp_tensor_role)hl->dense, ".weight")) {
        char name[256];
        snprintf(m->head_missing[head], sizeof m->head_missing[head], "tensor %s is missing",
                 role_name(m, (nlp_tensor_role)hl->dense, 0, ".weight", name, sizeof name));
        return NLP_OK;
    }
    const int64_t H = m->cfg.hidden_size;
    hw->D = (size_t)H;
    hw->act = hl->act;
    if (hl->dense >= 0) {
        /* the first projection's width is read from its weight (ELECTRA's
         * generator projects to embedding_size) */
        char name[256];
        int64_t shape[2] = {-1, H}, got[4] = {0};
        const float *w;
        TRY(nlp_model_tensor(m, role_name(m, (nlp_tensor_role)hl->dense, 0, ".weight", name, sizeof name),
                             2, shape, &w, got, err));
        hw->D = (size_t)got[0];
        TRY(bind_opt(m, (nlp_tensor_role)hl->dense, 0, &hw->dense_w, &hw->dense_b, got[0], H,
                     !(m->cfg.no_bias & NLP_NOBIAS_HEAD), err));
    }
    if (hl->ln >= 0)
        TRY(bind_norm(m, (nlp_tensor_role)hl->ln, 0, &hw->ln_g, &hw->ln_b, (int64_t)hw->D, err));
    if (head == NLP_HEAD_MLM)
        return bind_decoder(m, hw, err);
    char name[256];
    int64_t shape[2] = {-1, (int64_t)hw->D}, got[4] = {0};
    const float *w;
    TRY(nlp_model_tensor(m, role_name(m, (nlp_tensor_role)hl->out, 0, ".weight", name, sizeof name),
                         2, shape, &w, got, err));
    if (got[0] < 1)
        return nlp_error_set(err, NLP_ERR_SHAPE, "%s: tensor %s has no rows", m->dir, name);
    TRY(bind_role(m, (nlp_tensor_role)hl->out, 0, &hw->out_w, &hw->out_b, got[0], (int64_t)hw->D, err));
    hw->C = (size_t)got[0];
    return NLP_OK;
}

/* The encoder's tensors: embeddings, layers, relative positions. */
static nlp_status bind_encoder(nlp_model *m, nlp_error *err)
{
    TRY(bind_embeddings(m, err));
    TRY(bind_layers(m, err));
    TRY(bind_relative(m, err));
    if (m->ops->names[NLP_TR_REL_BIAS])
        TRY(bind_role(m, NLP_TR_REL_BIAS, 0, &m->w.rel_bias, NULL,
                      m->cfg.relative_attention_num_buckets, m->cfg.num_heads, err));
    return NLP_OK;
}

/* Every tensor the family names: the encoder's, pooler, heads. */
static nlp_status bind_all(nlp_model *m, nlp_error *err)
{
    TRY(bind_encoder(m, err));
    const int64_t H = m->cfg.hidden_size;
    if (has_role(m, NLP_TR_POOLER, ".weight"))
        TRY(bind_role(m, NLP_TR_POOLER, 0, &m->w.pool_w, &m->w.pool_b, H, H, err));
    for (int h = 0; h < NLP_HEAD_COUNT; h++)
        TRY(bind_head(m, (nlp_head)h, err));
    return NLP_OK;
}

static const char *const head_what[] = {
    [NLP_HEAD_MLM] = "masked-LM",
    [NLP_HEAD_SEQ_CLS] = "sequence-classification",
    [NLP_HEAD_TOKEN_CLS] = "token-classification",
    [NLP_HEAD_QA] = "question-answering",
};

nlp_status nlp_model_head(const nlp_model *model, nlp_head head, size_t *n_out, nlp_error *err)
{
    if (n_out)
        *n_out = 0;
    if (!model || (unsigned)head >= NLP_HEAD_COUNT)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_model_head: no model or unknown head %d",
                             (int)head);
    const nlp_head_weights *hw = &model->w.heads[head];
    if (hw->C > 0) {
        if (n_out)
            *n_out = hw->C;
        return NLP_OK;
    }
    if (model->head_missing[head][0])
        return nlp_error_set(err, NLP_ERR_NOT_FOUND, "the checkpoint has no %s head (%s)",
                             head_what[head], model->head_missing[head]);
    char name[256];
    return nlp_error_set(err, NLP_ERR_NOT_FOUND, "the checkpoint has no %s head (tensor %s is missing)",
                         head_what[head],
                         role_name(model, (nlp_tensor_role)head_key(model->ops, head), 0, ".weight",
                                   name, sizeof name));
}

size_t nlp_model_max_tokens(const nlp_model *model)
{
    return (size_t)(model->cfg.max_position_embeddings - model->cfg.position_offset);
}

/* The source bytes of a converted tensor are not needed again: let the
 * kernel drop the whole pages they cover from our resident set (the
 * mapping stays valid; a later touch would read the file again). */
static void drop_pages(const void *data, size_t nbytes)
{
    long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0)
        return;
    uintptr_t lo = ((uintptr_t)data + (uintptr_t)ps - 1) & ~((uintptr_t)ps - 1);
    uintptr_t hi = ((uintptr_t)data + nbytes) & ~((uintptr_t)ps - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* An int8 tensor written by nlp_checkpoint_quantize (nlp/checkpoint.h): NAME is
 * I8 [N][K] and NAME_scale is F32 [N], one scale per row; its F32 view is
 * q * scale[n].  An I8 tensor without a scale is left without a view. */
static nlp_status dequantize_i8(nlp_model *m, size_t i, nlp_error *err)
{
    nlp_st *st = m->st;
    const nlp_st_tensor *t = &st->tensors[i];
    char name[512];
    if ((size_t)snprintf(name, sizeof name, "%s_scale", t->name) >= sizeof name)
        return NLP_OK;
    const nlp_st_tensor *sc = nlp_st_find(st, name);
    if (!sc)
        return NLP_OK;
    const char *file = st->files[t->file].path;
    if (t->ndim != 2 || sc->dtype != NLP_DT_F32 || sc->ndim != 1 || sc->shape[0] != t->shape[0])
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "%s: int8 tensor %s needs a 2-D shape and %s as F32 [%lld]",
                             file, t->name, name, (long long)t->shape[0]);
    const size_t N = (size_t)t->shape[0], K = (size_t)t->shape[1];
    float *buf = malloc((N * K > 0 ? N * K : 1) * sizeof *buf);
    if (!buf)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory converting tensor %s",
                             file, t->name);
    m->owned[i] = buf;
    const int8_t *q = t->data;
    const unsigned char *sb = sc->data;
    for (size_t n = 0; n < N; n++) {
        float scale;
        memcpy(&scale, sb + n * sizeof scale, sizeof scale);
        for (size_t k = 0; k < K; k++)
            buf[n * K + k] = (float)q[n * K + k] * scale;
    }
    m->f32[i] = buf;
    m->n_int8++;
    return NLP_OK;
}

int nlp_model_int8_stored(const nlp_model *model)
{
    return model->n_int8 > 0;
}

/* Give every floating-point tensor an F32 view (in place or converted). */
static nlp_status make_views(nlp_model *m, nlp_error *err)
{
    nlp_st *st = m->st;
    size_t n = st->n_tensors ? st->n_tensors : 1;
    m->f32 = calloc(n, sizeof *m->f32);
    m->owned = calloc(n, sizeof *m->owned);
    if (!m->f32 || !m->owned)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", st->source);
    for (size_t i = 0; i < st->n_tensors; i++) {
        const nlp_st_tensor *t = &st->tensors[i];
        if (t->dtype == NLP_DT_I8) {
            TRY(dequantize_i8(m, i, err));
            continue;
        }
        if (t->dtype != NLP_DT_F32 && t->dtype != NLP_DT_F16 && t->dtype != NLP_DT_BF16 &&
            t->dtype != NLP_DT_F64)
            continue;
        if (t->dtype == NLP_DT_F32 && ((uintptr_t)t->data % _Alignof(float)) == 0) {
            m->f32[i] = t->data;
            continue;
        }
        float *buf = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
        if (!buf)
            return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory converting tensor %s",
                                 st->files[t->file].path, t->name);
        m->owned[i] = buf;
        TRY(nlp_st_to_f32(st, t, buf, err));
        m->f32[i] = buf;
        drop_pages(t->data, t->nbytes);
    }
    return NLP_OK;
}

/* ------------------------------------------------------------ packing */

/* After a weight is packed the forward pass reads only the packed copy,
 * so the pages of its original are handed back with MADV_DONTNEED when
 * they lie in one of the read-only file mappings: they leave this
 * process's resident set but stay in the page cache, so a later read (a
 * context of another dtype packing again) or the next process's load is
 * still warm.  Without it the process would hold every layer weight twice
 * (the packed panels plus the resident originals).
 * MADV_PAGEOUT would also shrink the RSS but evicts the file from the page
 * cache, so the next run would load cold; it is not used.  Converted
 * (owned, anonymous) buffers are left alone: MADV_DONTNEED would zero
 * them. */
static void release_source(const nlp_model *m, const float *W, size_t count)
{
    const long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0)
        return;
    const uintptr_t page = (uintptr_t)ps;
    const uintptr_t a = (uintptr_t)W, b = a + count * sizeof *W;
    for (int i = 0; i < m->st->n_files; i++) {
        const uintptr_t lo = (uintptr_t)m->st->files[i].map;
        const uintptr_t hi = lo + m->st->files[i].size;
        if (a >= lo && b <= hi) {
            uintptr_t plo = (a + page - 1) / page * page, phi = b / page * page;
            if (phi > plo)
                (void)madvise((void *)plo, phi - plo, MADV_DONTNEED);
            return;
        }
    }
}

static void free_packed(nlp_packed_b **p, size_t n)
{
    if (!p)
        return;
    for (size_t i = 0; i < n; i++)
        nlp_packed_b_free(p[i]);
    free(p);
}

typedef struct {
    const nlp_model *m;
    nlp_weight_type dtype;
    nlp_packed_b **out;
} pack_job;

/* Pack weight i (layer i / NLP_PK_COUNT, matrix i % NLP_PK_COUNT); one
 * pool item.  The fused QKV matrix is stacked into a temporary buffer
 * first (left NULL, and reported by the caller, when that fails). */
static void pack_one(void *vp, size_t i)
{
    const pack_job *j = vp;
    const size_t H = (size_t)j->m->cfg.hidden_size;
    const size_t I = (size_t)j->m->cfg.intermediate_size;
    const size_t I1 = j->m->cfg.ffn_gated ? 2 * I : I;   /* rows of the first projection */
    const nlp_layer_weights *lw = &j->m->w.layers[i / NLP_PK_COUNT];
    const float *W;
    float *stacked = NULL;
    size_t N = H, K = H;
    switch (i % NLP_PK_COUNT) {
    case NLP_PK_QKV:
        stacked = malloc(3 * H * H * sizeof *stacked);
        if (!stacked)
            return;
        memcpy(stacked, lw->q_w, H * H * sizeof *stacked);
        memcpy(stacked + H * H, lw->k_w, H * H * sizeof *stacked);
        memcpy(stacked + 2 * H * H, lw->v_w, H * H * sizeof *stacked);
        W = stacked;
        N = 3 * H;
        break;
    case NLP_PK_O: W = lw->o_w; break;
    case NLP_PK_FF1: W = lw->ff1_w; N = I1; break;
    default: W = lw->ff2_w; K = I; break;
    }
    switch (j->dtype) {
    case NLP_WEIGHTS_INT8: j->out[i] = nlp_pack_b_int8(W, N, K); break;
    case NLP_WEIGHTS_BF16: j->out[i] = nlp_pack_b_bf16(W, N, K); break;
    default: j->out[i] = nlp_pack_b(W, N, K); break;
    }
    free(stacked);
    if (!j->out[i])
        return;
    if (stacked) {
        release_source(j->m, lw->q_w, H * H);
        release_source(j->m, lw->k_w, H * H);
        release_source(j->m, lw->v_w, H * H);
    } else {
        release_source(j->m, W, N * K);
    }
}

/* m->relproj[dtype]: for every layer, all 2S rows of the relative
 * position embeddings through the query and key projections (the packed
 * qkv weights of dtype with their bias under share_att_key, else
 * pos_query_proj / pos_key_proj in fp32): [2S][2H] per layer, queries in
 * columns 0..H-1.  They do not depend on the input, so every forward
 * pass reads them instead of projecting again.  Under pack_lock. */
static nlp_status project_rel(nlp_model *m, nlp_weight_type dtype, nlp_pool *pool,
                              nlp_error *err)
{
    const nlp_rel_config *rel = &m->cfg.rel;
    const size_t H = (size_t)m->cfg.hidden_size, R = 2 * (size_t)rel->span;
    const size_t L = (size_t)m->cfg.num_layers;
    float *t = malloc(L * R * 2 * H * sizeof *t), *tmp = calloc(R * 3 * H, sizeof *tmp);
    if (!t || !tmp) {
        free(t);
        free(tmp);
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory projecting the relative "
                             "positions", m->dir);
    }
    for (size_t l = 0; l < L; l++) {
        const nlp_layer_weights *lw = &m->w.layers[l];
        if (rel->share_att_key) {      /* tmp[R][3H] = rel [Wq | Wk | Wv]^T + b */
            nlp_gemm_epilogue ep = { lw->qkv_b, NLP_GEMM_ACT_NONE, NULL, 0 };
            nlp_sgemm_packed(pool, R, m->w.rel_emb, H, m->packed[dtype][l * NLP_PK_COUNT + NLP_PK_QKV],
                             &ep, tmp, 3 * H);
        } else {
            if (rel->p2c)
                nlp_sgemm(pool, 1, R, H, H, m->w.rel_emb, H, lw->pos_q_w, H, lw->pos_q_b, tmp,
                          3 * H);
            if (rel->c2p)
                nlp_sgemm(pool, 1, R, H, H, m->w.rel_emb, H, lw->pos_k_w, H, lw->pos_k_b,
                          tmp + H, 3 * H);
        }
        for (size_t r = 0; r < R; r++)
            memcpy(t + (l * R + r) * 2 * H, tmp + r * 3 * H, 2 * H * sizeof *t);
    }
    free(tmp);
    m->relproj[dtype] = t;
    m->packed_bytes += L * R * 2 * H * sizeof *t;
    return NLP_OK;
}

const float *nlp_model_rel_projected(const nlp_model *model, nlp_weight_type dtype)
{
    nlp_model *m = (nlp_model *)model;
    if ((unsigned)dtype >= sizeof m->relproj / sizeof m->relproj[0])
        return NULL;
    pthread_mutex_lock(&m->pack_lock);
    const float *t = m->relproj[dtype];
    pthread_mutex_unlock(&m->pack_lock);
    return t;
}

nlp_status nlp_model_packed(const nlp_model *model, nlp_weight_type dtype,
                            nlp_pool *pool, nlp_packed_b *const **out,
                            nlp_error *err)
{
    *out = NULL;
    if ((unsigned)dtype >= sizeof model->packed / sizeof model->packed[0])
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_model_packed: unknown dtype %d", (int)dtype);
    /* The packed panels are a cache of the immutable weights: filling it
     * does not change what the model computes. */
    nlp_model *m = (nlp_model *)model;
    const size_t n = (size_t)m->cfg.num_layers * NLP_PK_COUNT;
    nlp_status st = NLP_OK;
    pthread_mutex_lock(&m->pack_lock);
    if (!m->packed[dtype] && n > 0) {
        nlp_packed_b **p = calloc(n, sizeof *p);
        if (!p) {
            st = nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory packing the weights",
                               m->dir);
        } else {
            pack_job j = { m, dtype, p };
            nlp_pool_run(pool, pack_one, &j, n);
            size_t bytes = 0;
            for (size_t i = 0; i < n && st == NLP_OK; i++) {
                if (!p[i])
                    st = nlp_error_set(err, NLP_ERR_NOMEM,
                                       "%s: out of memory packing the weights of layer %zu",
                                       m->dir, i / NLP_PK_COUNT);
                else
                    bytes += nlp_packed_b_bytes(p[i]);
            }
            if (st == NLP_OK) {
                m->packed[dtype] = p;
                m->packed_bytes += bytes;
            } else {
                free_packed(p, n);
            }
        }
    }
    if (st == NLP_OK && m->packed[dtype] && m->w.rel_emb && !m->relproj[dtype])
        st = project_rel(m, dtype, pool, err);
    if (st == NLP_OK)
        *out = m->packed[dtype];
    pthread_mutex_unlock(&m->pack_lock);
    return st;
}

size_t nlp_model_packed_bytes(const nlp_model *model)
{
    nlp_model *m = (nlp_model *)model;
    pthread_mutex_lock(&m->pack_lock);
    size_t b = m->packed_bytes;
    pthread_mutex_unlock(&m->pack_lock);
    return b;
}

/* Open the weights of dir: model.safetensors, else the sharded index. */
static nlp_status open_weights(const char *dir, nlp_st **st, nlp_error *err)
{
    char *single = nlp_path_join(dir, "model.safetensors");
    char *index = nlp_path_join(dir, "model.safetensors.index.json");
    nlp_status s;
    if (!single || !index) {
        s = nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
    } else if (nlp_file_exists(single)) {
        s = nlp_st_open(single, st, err);
    } else if (nlp_file_exists(index)) {
        s = nlp_st_open_index(index, st, err);
    } else {
        static const char *const other[] = {
            "pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5",
            "flax_model.msgpack", "model.ckpt.index",
        };
        const char *found = NULL;
        for (size_t i = 0; i < sizeof other / sizeof other[0] && !found; i++) {
            char *p = nlp_path_join(dir, other[i]);
            if (p && nlp_file_exists(p))
                found = other[i];
            free(p);
        }
        if (found)
            s = nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                              "%s: no model.safetensors, only %s; only safetensors weights are supported",
                              dir, found);
        else
            s = nlp_error_set(err, NLP_ERR_IO,
                              "%s: missing weights: neither model.safetensors nor model.safetensors.index.json",
                              dir);
    }
    free(single);
    free(index);
    return s;
}

static nlp_status model_init(nlp_model *m, const char *dir, nlp_error *err)
{
    m->dir = strdup(dir);
    if (!m->dir)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
    if (!nlp_dir_exists(dir))
        return nlp_error_set(err, NLP_ERR_IO, "%s: no such model directory", dir);
    char *cfg_path = nlp_path_join(dir, "config.json");
    if (!cfg_path)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
    nlp_status s = nlp_config_load(cfg_path, &m->cfg, err);
    free(cfg_path);
    if (s != NLP_OK)
        return s;
    m->ops = nlp_family_of(m->cfg.family);
    TRY(open_weights(dir, &m->st, err));
    TRY(make_views(m, err));
    m->w.layers = calloc((size_t)m->cfg.num_layers, sizeof *m->w.layers);
    m->zeros = calloc((size_t)m->cfg.hidden_size, sizeof *m->zeros);
    if (!m->w.layers || !m->zeros)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
    TRY(bind_all(m, err));
    /* the fused projection's bias: q_b | k_b | v_b per layer */
    const size_t H = (size_t)m->cfg.hidden_size, L = (size_t)m->cfg.num_layers;
    m->qkv_bias = malloc(L * 3 * H * sizeof *m->qkv_bias + 1);
    if (!m->qkv_bias)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
    for (size_t l = 0; l < L; l++) {
        nlp_layer_weights *lw = &m->w.layers[l];
        float *b = m->qkv_bias + l * 3 * H;
        if (!lw->q_b)      /* no attention biases (ModernBERT attention_bias false) */
            continue;
        memcpy(b, lw->q_b, H * sizeof *b);
        memcpy(b + H, lw->k_b, H * sizeof *b);
        memcpy(b + 2 * H, lw->v_b, H * sizeof *b);
        lw->qkv_b = b;
    }
    return NLP_OK;
}

/* Checkpoints loaded so far (see nlp_model_loads). */
static atomic_size_t n_loads;

size_t nlp_model_loads(void)
{
    return atomic_load_explicit(&n_loads, memory_order_relaxed);
}

nlp_status nlp_model_load(const char *dir, nlp_model **out, nlp_error *err)
{
    *out = NULL;
    if (!dir)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_model_load: no directory given");
    nlp_model *m = calloc(1, sizeof *m);
    if (!m)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
    if (pthread_mutex_init(&m->pack_lock, NULL) != 0) {
        free(m);
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: cannot create a mutex", dir);
    }
    nlp_status s = model_init(m, dir, err);
    if (s != NLP_OK) {
        nlp_model_free(m);
        return s;
    }
    atomic_fetch_add_explicit(&n_loads, 1, memory_order_relaxed);
    *out = m;
    return NLP_OK;
}

void nlp_model_free(nlp_model *model)
{
    if (!model)
        return;
    for (size_t d = 0; d < sizeof model->packed / sizeof model->packed[0]; d++) {
        free_packed(model->packed[d], (size_t)model->cfg.num_layers * NLP_PK_COUNT);
        free(model->relproj[d]);
    }
    pthread_mutex_destroy(&model->pack_lock);
    if (model->owned)
        for (size_t i = 0; i < model->st->n_tensors; i++)
            free(model->owned[i]);
    free(model->owned);
    free(model->f32);
    free(model->w.layers);
    free(model->qkv_bias);
    free(model->rel_norm);
    free(model->zeros);
    nlp_st_close(model->st);
    nlp_config_clear(&model->cfg);
    free(model->dir);
    free(model);
}

nlp_status nlp_model_plan(const nlp_config *cfg, nlp_tensor_plan **out, size_t *n,
                          nlp_error *err)
{
    *out = NULL;
    *n = 0;
    nlp_model m = {.cfg = *cfg, .ops = nlp_family_of(cfg->family), .planning = 1,
                   .dir = (char *)"(plan)"};
    m.w.layers = calloc((size_t)cfg->num_layers, sizeof *m.w.layers);
    m.zeros = calloc((size_t)cfg->hidden_size, sizeof *m.zeros);
    nlp_status s = m.w.layers && m.zeros ? bind_encoder(&m, err)
                                         : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    free(m.w.layers);
    free(m.zeros);
    if (s != NLP_OK) {
        free(m.plan);
        return s;
    }
    *out = m.plan;
    *n = m.plan_n;
    return NLP_OK;
}

const nlp_config *nlp_model_config(const nlp_model *model)
{
    return &model->cfg;
}

const char *nlp_model_dir(const nlp_model *model)
{
    return model->dir;
}

size_t nlp_model_weight_bytes(const nlp_model *model)
{
    return nlp_st_mapped_bytes(model->st);
}

const nlp_weights *nlp_model_weights(const nlp_model *model)
{
    return &model->w;
}
