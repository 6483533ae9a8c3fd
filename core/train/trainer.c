/*
 * trainer.c - the training loop of nlp/train.h: parameter state, the
 * encoder's training forward pass that keeps every layer's activations,
 * the backward pass through the encoder and one task head, and the AdamW
 * step.
 *
 * Memory: the parameter values, their gradients and the two AdamW
 * moments are four equal areas of ONE allocation, each laid out tensor
 * by tensor in Hugging Face's order (query, key and value of a layer are
 * adjacent, so [Wq; Wk; Wv] is one [3H][H] matrix for a fused
 * projection).  Activations of every layer, gradients of activations and
 * the head's buffers are carved from a second allocation sized for
 * max_batch x max_seq at creation.
 *
 * Per layer (post-LayerNorm; DistilBERT has no dropout after the
 * attention output dense):
 *   qkv   = x Wqkv^T + bqkv                                 [N][3H]
 *   att   = Attention(qkv, padding, attention dropout)      [N][H]
 *   proj1 = dropout(att Wo^T + bo) + x;  ln1 = LN(proj1)    [N][H]
 *   ff    = act(ln1 W1^T + b1)                              [N][I]
 *   proj2 = dropout(ff W2^T + b2) + ln1; x' = LN(proj2)     [N][H]
 * Rows are packed (backward.h); question answering keeps all T rows of
 * each batch row, because its softmax runs over every position.
 */
#include <math.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "model/family.h"
#include "nlp/train.h"
#include "nn/backward.h"
#include "nn/gemm.h"
#include "nn/heads.h"
#include "nn/layers.h"
#include "nn/threadpool.h"
#include "util/util.h"
#include "adamw.h"
#include "train_impl.h"

/* ------------------------------------------------------------ state */

typedef struct tlayer {
    float *qkv_w, *qkv_b;       /* [3H][H], [3H]  query | key | value */
    float *o_w, *o_b;           /* [H][H], [H] */
    float *ln1_g, *ln1_b;       /* [H] */
    float *ff1_w, *ff1_b;       /* [I][H], [I] */
    float *ff2_w, *ff2_b;       /* [H][I], [H] */
    float *ln2_g, *ln2_b;       /* [H] */
} tlayer;

/* The parameters (or their gradients: same layout). */
typedef struct tparams {
    float *word, *pos, *type;   /* [V][H], [P][H], [TV][H] (type NULL: DistilBERT) */
    float *eln_g, *eln_b;       /* [H] */
    tlayer *layers;             /* [L] */
    nlp_mlm_head_params mlm;    /* MLM head, dec_w = word (tied) */
    nlp_seqcls_params seq;      /* sequence classification */
    float *tok_w, *tok_b;       /* [C][H], [C] token classifier / qa_outputs */
} tparams;

enum { INIT_NORMAL, INIT_ZERO, INIT_ONE };

typedef struct tensor_info {
    char name[128];             /* Hugging Face name */
    size_t off, count;          /* floats, into each area */
    int ndim;
    int64_t shape[2];
    int decay;                  /* weight decay applies */
    int head;                   /* may be missing from the checkpoint */
    int init;                   /* INIT_* when missing */
    int frozen;                 /* never updated (DistilBERT's sinusoidal positions) */
} tensor_info;

/* What one layer keeps for its backward pass. */
typedef struct lacts {
    float *x;                   /* [N][H] layer input */
    float *qkv;                 /* [N][3H] */
    float *probs;               /* [B][nh][T][T] attention probabilities */
    float *att;                 /* [N][H] attention context */
    float *proj1;               /* [N][H] LayerNorm 1 input */
    float *mean1, *rstd1;       /* [N] */
    float *ln1;                 /* [N][H] */
    float *ff_pre;              /* [N][I] before the activation */
    float *ff_act;              /* [N][I] after it */
    float *proj2;               /* [N][H] LayerNorm 2 input */
    float *mean2, *rstd2;       /* [N] */
} lacts;

struct nlp_trainer {
    const nlp_model *model;
    const nlp_config *cfg;
    nlp_train_options opt;
    nlp_pool *pool;
    int distil;
    size_t H, I, V, P, TV, L, nh, C;
    size_t maxB, maxT, maxN, maxM;
    nlp_activation act;
    int loss_kind;              /* seq cls: 0 CE, 1 BCE, 2 MSE */

    tensor_info *tensors;
    size_t n_tensors, cap_tensors;
    size_t n_params;            /* floats per area */
    float *mem;                 /* [4][n_params] values | grads | m | v */
    float *val, *grad, *m1, *m2;
    tlayer *layer_mem;          /* [2][L] */
    tparams p, g;

    void *arena;
    float *emb_in, *emb_mean, *emb_rstd;   /* [N][H], [N], [N] */
    lacts *la;                  /* [L] */
    float *out;                 /* [N][H] final hidden states */
    float *dy, *d1, *d2, *d3;   /* [N][H] activation gradients */
    float *dff;                 /* [N][I] */
    float *dqkv;                /* [N][3H] */
    float *att_scratch;         /* nlp_attention_train_scratch_floats */
    float *wscratch;            /* nlp_linear_backward_weight_scratch_floats */
    int32_t *rows;              /* [B] packed rows per batch row */
    size_t *offs;               /* [B] */
    /* MLM */
    nlp_mlm_head_acts mh;
    float *m_rows, *m_dt, *m_drows;        /* [M][H] */
    int32_t *m_labels;          /* [M] */
    size_t *m_pos;              /* [M] packed row of each labelled position */
    /* sequence classification */
    nlp_seqcls_acts sh;
    float *s_scratch;           /* [2][B][H] */
    /* token classification, QA */
    float *t_in;                /* [N][H] */
    float *t_logits;            /* [N][C] (then their gradient) */
    int32_t *t_labels;          /* [N] */
    float *qa_logits;           /* [2][B][T] start, end */
    int32_t *qa_pos;            /* [2][B] */

    struct step_chunk {         /* the optimizer's units of work */
        size_t off, len;        /* floats, into each area */
        int decay, frozen;
    } *chunks;
    size_t n_chunks;
    double *partial;            /* [n_chunks] sums of squared gradients */

    int step;                   /* optimizer steps done */
    uint64_t micro;             /* micro-batches seen (dropout streams) */
};


/* ------------------------------------------------------------ layout */

enum { ALIGN_FLOATS = 16, ALIGN_BYTES = 64 };
enum { STEP_CHUNK = 1 << 16 };   /* floats per optimizer work unit */

/* Append tensor name [n0][n1] (n1 0: 1-D).  With vals / grads set, point
 * *pv / *pg at it.  pack: no alignment gap after it (the next tensor
 * continues it, as key continues query). */
static void add_tensor(nlp_trainer *tr, size_t *off, const char *name,
                       size_t n0, size_t n1, int decay, int head, int init,
                       int pack, float **pv, float **pg)
{
    tensor_info *t = &tr->tensors[tr->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->off = *off;
    t->count = n0 * (n1 ? n1 : 1);
    t->ndim = n1 ? 2 : 1;
    t->shape[0] = (int64_t)n0;
    t->shape[1] = (int64_t)n1;
    t->decay = decay;
    t->head = head;
    t->init = init;
    if (tr->val) {
        *pv = tr->val + t->off;
        *pg = tr->grad + t->off;
    }
    *off += pack ? t->count : (t->count + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

/* Lay out every tensor of the model and its head; returns the floats of
 * one area.  Called once to size, once more with tr->val set to bind. */
static size_t param_layout(nlp_trainer *tr)
{
    const size_t H = tr->H, I = tr->I;
    const nlp_family_ops *ops = nlp_family_of(tr->distil ? NLP_FAMILY_DISTILBERT : NLP_FAMILY_BERT);
    size_t off = 0;
    char nm[128];
    tparams *p = &tr->p, *g = &tr->g;
    tr->n_tensors = 0;
#define ADD(name, n0, n1, decay, head, init, pack, field)                   \
    add_tensor(tr, &off, name, n0, n1, decay, head, init, pack, &p->field, &g->field)
    /* the family's name of role (layer l) with suffix */
#define NAME(role, l, suffix) nlp_family_tensor_name(ops, role, (int)(l), suffix, nm, sizeof nm)
    ADD(NAME(NLP_TR_WORD_EMB, 0, ".weight"), tr->V, H, 1, 0, INIT_NORMAL, 0, word);
    ADD(NAME(NLP_TR_POS_EMB, 0, ".weight"), tr->P, H, 1, 0, INIT_NORMAL, 0, pos);
    if (ops->names[NLP_TR_TYPE_EMB])
        ADD(NAME(NLP_TR_TYPE_EMB, 0, ".weight"), tr->TV, H, 1, 0, INIT_NORMAL, 0, type);
    ADD(NAME(NLP_TR_EMB_LN, 0, ".weight"), H, 0, 0, 0, INIT_ONE, 0, eln_g);
    ADD(NAME(NLP_TR_EMB_LN, 0, ".bias"), H, 0, 0, 0, INIT_ZERO, 0, eln_b);
    for (size_t l = 0; l < tr->L; l++) {
        tlayer *pl = &p->layers[l], *gl = &g->layers[l];
        float *skip_p, *skip_g;
#define LADD(k, suffix, n0, n1, decay, init, pack, fp, fg)                        \
        add_tensor(tr, &off, NAME(NLP_TR_Q + (k), l, "." suffix), n0, n1, decay, \
                   0, init, pack, fp, fg)
        /* query, key, value weights back to back: [3H][H]; then the biases */
        LADD(0, "weight", H, H, 1, INIT_NORMAL, 1, &pl->qkv_w, &gl->qkv_w);
        LADD(1, "weight", H, H, 1, INIT_NORMAL, 1, &skip_p, &skip_g);
        LADD(2, "weight", H, H, 1, INIT_NORMAL, 0, &skip_p, &skip_g);
        LADD(0, "bias", H, 0, 0, INIT_ZERO, 1, &pl->qkv_b, &gl->qkv_b);
        LADD(1, "bias", H, 0, 0, INIT_ZERO, 1, &skip_p, &skip_g);
        LADD(2, "bias", H, 0, 0, INIT_ZERO, 0, &skip_p, &skip_g);
        LADD(3, "weight", H, H, 1, INIT_NORMAL, 0, &pl->o_w, &gl->o_w);
        LADD(3, "bias", H, 0, 0, INIT_ZERO, 0, &pl->o_b, &gl->o_b);
        LADD(4, "weight", H, 0, 0, INIT_ONE, 0, &pl->ln1_g, &gl->ln1_g);
        LADD(4, "bias", H, 0, 0, INIT_ZERO, 0, &pl->ln1_b, &gl->ln1_b);
        LADD(5, "weight", I, H, 1, INIT_NORMAL, 0, &pl->ff1_w, &gl->ff1_w);
        LADD(5, "bias", I, 0, 0, INIT_ZERO, 0, &pl->ff1_b, &gl->ff1_b);
        LADD(6, "weight", H, I, 1, INIT_NORMAL, 0, &pl->ff2_w, &gl->ff2_w);
        LADD(6, "bias", H, 0, 0, INIT_ZERO, 0, &pl->ff2_b, &gl->ff2_b);
        LADD(7, "weight", H, 0, 0, INIT_ONE, 0, &pl->ln2_g, &gl->ln2_g);
        LADD(7, "bias", H, 0, 0, INIT_ZERO, 0, &pl->ln2_b, &gl->ln2_b);
#undef LADD
    }
    const nlp_head_layout *mh = &ops->heads[NLP_HEAD_MLM], *sh = &ops->heads[NLP_HEAD_SEQ_CLS];
    switch (tr->opt.task) {
    case NLP_TRAIN_MLM:
        ADD(NAME(mh->dense, 0, ".weight"), H, H, 1, 1, INIT_NORMAL, 0, mlm.dense_w);
        ADD(NAME(mh->dense, 0, ".bias"), H, 0, 0, 1, INIT_ZERO, 0, mlm.dense_b);
        ADD(NAME(mh->ln, 0, ".weight"), H, 0, 0, 1, INIT_ONE, 0, mlm.ln_g);
        ADD(NAME(mh->ln, 0, ".bias"), H, 0, 0, 1, INIT_ZERO, 0, mlm.ln_b);
        ADD(NAME(NLP_TR_MLM_BIAS, 0, ".bias"), tr->V, 0, 0, 1, INIT_ZERO, 0, mlm.dec_b);
        if (tr->val) {
            p->mlm.dec_w = p->word;
            g->mlm.dec_w = g->word;
        }
        break;
    case NLP_TRAIN_SEQ_CLS:
        ADD(NAME(sh->dense, 0, ".weight"), H, H, 1, 1, INIT_NORMAL, 0, seq.pool_w);
        ADD(NAME(sh->dense, 0, ".bias"), H, 0, 0, 1, INIT_ZERO, 0, seq.pool_b);
        ADD(NAME(sh->out, 0, ".weight"), tr->C, H, 1, 1, INIT_NORMAL, 0, seq.cls_w);
        ADD(NAME(sh->out, 0, ".bias"), tr->C, 0, 0, 1, INIT_ZERO, 0, seq.cls_b);
        break;
    case NLP_TRAIN_TOKEN_CLS:
        ADD(NAME(NLP_TR_TOK_OUT, 0, ".weight"), tr->C, H, 1, 1, INIT_NORMAL, 0, tok_w);
        ADD(NAME(NLP_TR_TOK_OUT, 0, ".bias"), tr->C, 0, 0, 1, INIT_ZERO, 0, tok_b);
        break;
    case NLP_TRAIN_QA:
        ADD(NAME(NLP_TR_QA_OUT, 0, ".weight"), 2, H, 1, 1, INIT_NORMAL, 0, tok_w);
        ADD(NAME(NLP_TR_QA_OUT, 0, ".bias"), 2, 0, 0, 1, INIT_ZERO, 0, tok_b);
        break;
    }
#undef ADD
#undef NAME
    return (off + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

static size_t round_bytes(size_t n)
{
    return (n + ALIGN_BYTES - 1) / ALIGN_BYTES * ALIGN_BYTES;
}

/* Carve the activation arena (base NULL: size only). */
static size_t arena_layout(nlp_trainer *tr, char *base)
{
    const size_t H = tr->H, I = tr->I, N = tr->maxN, B = tr->maxB, T = tr->maxT;
    const size_t M = tr->maxM, C = tr->C;
    size_t off = 0;
#define CARVE(ptr, type, count)                                         \
    do {                                                                \
        if (base)                                                       \
            (ptr) = (type *)(void *)(base + off);                       \
        off += round_bytes((count) * sizeof(type));                     \
    } while (0)
    CARVE(tr->emb_in, float, N * H);
    CARVE(tr->emb_mean, float, N);
    CARVE(tr->emb_rstd, float, N);
    for (size_t l = 0; l < tr->L; l++) {
        lacts *a = &tr->la[l];
        CARVE(a->x, float, N * H);
        CARVE(a->qkv, float, N * 3 * H);
        CARVE(a->probs, float, B * tr->nh * T * T);
        CARVE(a->att, float, N * H);
        CARVE(a->proj1, float, N * H);
        CARVE(a->mean1, float, N);
        CARVE(a->rstd1, float, N);
        CARVE(a->ln1, float, N * H);
        CARVE(a->ff_pre, float, N * I);
        CARVE(a->ff_act, float, N * I);
        CARVE(a->proj2, float, N * H);
        CARVE(a->mean2, float, N);
        CARVE(a->rstd2, float, N);
    }
    CARVE(tr->out, float, N * H);
    CARVE(tr->dy, float, N * H);
    CARVE(tr->d1, float, N * H);
    CARVE(tr->d2, float, N * H);
    CARVE(tr->d3, float, N * H);
    CARVE(tr->dff, float, N * I);
    CARVE(tr->dqkv, float, N * 3 * H);
    CARVE(tr->att_scratch, float,
          nlp_attention_train_scratch_floats(T, nlp_pool_threads(tr->pool)));
    CARVE(tr->wscratch, float, nlp_linear_backward_weight_scratch_floats(N, H > I ? H : I));
    CARVE(tr->rows, int32_t, B);
    CARVE(tr->offs, size_t, B);
    switch (tr->opt.task) {
    case NLP_TRAIN_MLM:
        CARVE(tr->mh.pre, float, M * H);
        CARVE(tr->mh.act, float, M * H);
        CARVE(tr->mh.t, float, M * H);
        CARVE(tr->mh.mean, float, M);
        CARVE(tr->mh.rstd, float, M);
        CARVE(tr->mh.logits, float, M * tr->V);
        CARVE(tr->m_rows, float, M * H);
        CARVE(tr->m_dt, float, M * H);
        CARVE(tr->m_drows, float, M * H);
        CARVE(tr->m_labels, int32_t, M);
        CARVE(tr->m_pos, size_t, M);
        break;
    case NLP_TRAIN_SEQ_CLS:
        CARVE(tr->sh.first, float, B * H);
        CARVE(tr->sh.act, float, B * H);
        CARVE(tr->sh.pooled, float, B * H);
        CARVE(tr->sh.logits, float, B * C);
        CARVE(tr->s_scratch, float, 2 * B * H);
        break;
    case NLP_TRAIN_TOKEN_CLS:
    case NLP_TRAIN_QA:
        CARVE(tr->t_in, float, N * H);
        CARVE(tr->t_logits, float, N * C);
        CARVE(tr->t_labels, int32_t, N);
        CARVE(tr->qa_logits, float, 2 * B * T);
        CARVE(tr->qa_pos, int32_t, 2 * B);
        break;
    }
#undef CARVE
    return off;
}

/* ------------------------------------------------------------ create */

void nlp_train_options_init(nlp_train_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->task = NLP_TRAIN_MLM;
    opt->max_batch = 8;
    opt->max_seq = 0;
    opt->lr = 5e-5;
    opt->weight_decay = 0.01;
    opt->adam_beta1 = 0.9;
    opt->adam_beta2 = 0.999;
    opt->adam_eps = 1e-8;
    opt->max_grad_norm = 1.0;
    opt->grad_accum = 1;
    opt->hidden_dropout = -1.0f;
    opt->attention_dropout = -1.0f;
    opt->classifier_dropout = -1.0f;
    opt->seed = 42;
}

/* A normal(0, std) value for element i of tensor t, from the seed
 * (Box-Muller over two counter-based uniforms). */
static float init_normal(uint64_t seed, size_t t, size_t i, float std)
{
    const uint64_t h1 = nlp_mix64(nlp_mix64(seed ^ 0x5eedull) + nlp_mix64(t * 2 + 1) + i);
    const uint64_t h2 = nlp_splitmix64(h1);
    const double u1 = ((double)(h1 >> 11) + 1.0) / 9007199254740993.0;   /* (0, 1] */
    const double u2 = (double)(h2 >> 11) / 9007199254740992.0;
    return (float)(std * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static nlp_status load_params(nlp_trainer *tr, nlp_error *err)
{
    for (size_t t = 0; t < tr->n_tensors; t++) {
        const tensor_info *ti = &tr->tensors[t];
        float *dst = tr->val + ti->off;
        const float *src = NULL;
        nlp_error e;
        nlp_status st = nlp_model_tensor(tr->model, ti->name, ti->ndim, ti->shape, &src,
                                         NULL, &e);
        if (st == NLP_OK) {
            memcpy(dst, src, ti->count * sizeof *dst);
            continue;
        }
        if (st != NLP_ERR_NOT_FOUND || !ti->head) {
            if (err)
                *err = e;
            return st;
        }
        for (size_t i = 0; i < ti->count; i++)
            dst[i] = ti->init == INIT_ONE ? 1.0f : ti->init == INIT_ZERO ? 0.0f
                   : init_normal(tr->opt.seed, t, i, 0.02f);
    }
    return NLP_OK;
}

/* A number of config.json, or def when absent or null. */
static double cfg_num(const cJSON *root, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* What the trainer needs from config.json beyond nlp_config: the dropout
 * probabilities the options leave to it, and whether DistilBERT's
 * positions are sinusoidal (then frozen). */
static nlp_status config_extras(nlp_trainer *tr, int *sinusoidal, nlp_error *err)
{
    char *path = nlp_path_join(nlp_model_dir(tr->model), "config.json");
    char *text = NULL;
    size_t len = 0;
    if (!path)
        return nlp_error_set(err, NLP_ERR_NOMEM, "nlp_trainer_create: out of memory");
    nlp_status st = nlp_read_file(path, &text, &len, err);
    cJSON *root = st == NLP_OK ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (st == NLP_OK && !cJSON_IsObject(root))
        st = nlp_error_set(err, NLP_ERR_FORMAT, "%s: not a JSON object", path);
    free(path);
    if (st != NLP_OK) {
        cJSON_Delete(root);
        return st;
    }
    nlp_train_options *o = &tr->opt;
    double hid, att, cls;
    if (tr->distil) {
        hid = cfg_num(root, "dropout", 0.1);
        att = cfg_num(root, "attention_dropout", 0.1);
        cls = o->task == NLP_TRAIN_SEQ_CLS ? cfg_num(root, "seq_classif_dropout", 0.2)
            : o->task == NLP_TRAIN_QA ? cfg_num(root, "qa_dropout", 0.1) : hid;
        *sinusoidal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "sinusoidal_pos_embds"));
    } else {
        hid = cfg_num(root, "hidden_dropout_prob", 0.1);
        att = cfg_num(root, "attention_probs_dropout_prob", 0.1);
        cls = o->task == NLP_TRAIN_QA ? 0.0 : cfg_num(root, "classifier_dropout", hid);
        *sinusoidal = 0;
    }
    cJSON_Delete(root);
    if (o->hidden_dropout < 0)
        o->hidden_dropout = (float)hid;
    if (o->attention_dropout < 0)
        o->attention_dropout = (float)att;
    if (o->classifier_dropout < 0)
        o->classifier_dropout = (float)cls;
    if (!(o->hidden_dropout >= 0 && o->hidden_dropout < 1) ||
        !(o->attention_dropout >= 0 && o->attention_dropout < 1) ||
        !(o->classifier_dropout >= 0 && o->classifier_dropout < 1))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "trainer: dropout probabilities must be in [0, 1)");
    return NLP_OK;
}

static nlp_status check_options(const nlp_model *model, const nlp_train_options *o,
                                nlp_error *err)
{
    const nlp_config *cfg = nlp_model_config(model);
    if (o->task < NLP_TRAIN_MLM || o->task > NLP_TRAIN_QA)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "trainer: unknown task %d", (int)o->task);
    if (o->max_batch == 0 || o->max_seq > (size_t)cfg->max_position_embeddings)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "trainer: max_batch %zu must be positive and max_seq %zu "
                             "at most %d", o->max_batch, o->max_seq,
                             cfg->max_position_embeddings);
    const size_t T = o->max_seq ? o->max_seq : (size_t)cfg->max_position_embeddings;
    if (o->max_batch > ((size_t)1 << 20) / (size_t)cfg->num_heads ||
        o->max_batch > SIZE_MAX / T / T / (size_t)cfg->num_heads /
                           (size_t)(cfg->num_layers + 1) / 64)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "trainer: batch %zu x %zu is too large", o->max_batch, o->max_seq);
    if (!(o->lr >= 0) || !(o->weight_decay >= 0) || !(o->adam_beta1 >= 0 && o->adam_beta1 < 1) ||
        !(o->adam_beta2 >= 0 && o->adam_beta2 < 1) || !(o->adam_eps >= 0) ||
        o->grad_accum < 1 || o->warmup_steps < 0 || o->total_steps < 0)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "trainer: learning rate, weight decay, betas, eps, "
                             "grad_accum or schedule out of range");
    if (!(o->hidden_dropout < 1) || !(o->attention_dropout < 1) ||
        !(o->classifier_dropout < 1))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "trainer: dropout probabilities must be in [0, 1)");
    if (o->num_labels < 0)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "trainer: negative num_labels");
    return NLP_OK;
}

nlp_status nlp_trainer_create(const nlp_model *model, const nlp_train_options *opt,
                              nlp_trainer **out, nlp_error *err)
{
    if (!out || !model || !opt)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_trainer_create: model, opt or out is NULL");
    *out = NULL;
    nlp_status st = check_options(model, opt, err);
    if (st != NLP_OK)
        return st;
    const nlp_config *cfg = nlp_model_config(model);
    if (cfg->family != NLP_FAMILY_BERT && cfg->family != NLP_FAMILY_DISTILBERT)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                             "%s: training supports model_type bert and distilbert, not \"%s\"",
                             nlp_model_dir(model), cfg->model_type);
    nlp_trainer *tr = calloc(1, sizeof *tr);
    if (!tr)
        return nlp_error_set(err, NLP_ERR_NOMEM, "nlp_trainer_create: out of memory");
    tr->model = model;
    tr->cfg = cfg;
    tr->opt = *opt;
    if (tr->opt.max_seq == 0)
        tr->opt.max_seq = (size_t)cfg->max_position_embeddings;
    tr->distil = cfg->family == NLP_FAMILY_DISTILBERT;
    tr->H = (size_t)cfg->hidden_size;
    tr->I = (size_t)cfg->intermediate_size;
    tr->V = (size_t)cfg->vocab_size;
    tr->P = (size_t)cfg->max_position_embeddings;
    tr->TV = tr->distil ? 0 : (size_t)cfg->type_vocab_size;
    tr->L = (size_t)cfg->num_layers;
    tr->nh = (size_t)cfg->num_heads;
    tr->act = cfg->hidden_act;
    tr->C = opt->task == NLP_TRAIN_QA ? 2
          : opt->num_labels > 0 ? (size_t)opt->num_labels : (size_t)cfg->num_labels;
    if (tr->C == 0)
        tr->C = 2;
    tr->loss_kind = tr->C == 1 ? 2
                  : (opt->multi_label || strcmp(cfg->problem_type, "multi_label_classification") == 0)
                        ? 1 : 0;
    tr->maxB = opt->max_batch;
    tr->maxT = tr->opt.max_seq;
    tr->maxN = tr->opt.max_batch * tr->opt.max_seq;
    tr->maxM = opt->max_masked && opt->max_masked < tr->maxN ? opt->max_masked : tr->maxN;

    tr->cap_tensors = 16 + 16 * tr->L;   /* embeddings 5, per layer 16, heads <= 5 */
    tr->tensors = calloc(tr->cap_tensors, sizeof *tr->tensors);
    tr->layer_mem = calloc(2 * (tr->L ? tr->L : 1), sizeof *tr->layer_mem);
    tr->la = calloc(tr->L ? tr->L : 1, sizeof *tr->la);
    tr->pool = nlp_pool_create(opt->threads);
    if (!tr->tensors || !tr->layer_mem || !tr->la || !tr->pool) {
        nlp_trainer_free(tr);
        return nlp_error_set(err, NLP_ERR_NOMEM, "nlp_trainer_create: out of memory");
    }
    tr->p.layers = tr->layer_mem;
    tr->g.layers = tr->layer_mem + tr->L;
    int sinusoidal = 0;
    st = config_extras(tr, &sinusoidal, err);
    if (st != NLP_OK) {
        nlp_trainer_free(tr);
        return st;
    }

    /* parameters, gradients, AdamW moments: one allocation */
    tr->n_params = param_layout(tr);
    void *mem = NULL;
    if (tr->n_params > SIZE_MAX / 4 / sizeof(float) ||
        posix_memalign(&mem, ALIGN_BYTES, 4 * tr->n_params * sizeof(float)) != 0) {
        nlp_trainer_free(tr);
        return nlp_error_set(err, NLP_ERR_NOMEM,
                             "nlp_trainer_create: cannot allocate %zu parameters", tr->n_params);
    }
    tr->mem = mem;
    memset(tr->mem, 0, 4 * tr->n_params * sizeof(float));
    tr->val = tr->mem;
    tr->grad = tr->mem + tr->n_params;
    tr->m1 = tr->mem + 2 * tr->n_params;
    tr->m2 = tr->mem + 3 * tr->n_params;
    param_layout(tr);
    tr->tensors[1].frozen = sinusoidal;   /* position embeddings */
    st = load_params(tr, err);
    if (st != NLP_OK) {
        nlp_trainer_free(tr);
        return st;
    }

    /* the optimizer's chunks: fixed pieces of tensors, so sums over them
     * keep one order whatever the thread count */
    for (size_t t = 0; t < tr->n_tensors; t++)
        tr->n_chunks += (tr->tensors[t].count + STEP_CHUNK - 1) / STEP_CHUNK;
    tr->chunks = calloc(tr->n_chunks ? tr->n_chunks : 1, sizeof *tr->chunks);
    tr->partial = calloc(tr->n_chunks ? tr->n_chunks : 1, sizeof *tr->partial);
    if (!tr->chunks || !tr->partial) {
        nlp_trainer_free(tr);
        return nlp_error_set(err, NLP_ERR_NOMEM, "nlp_trainer_create: out of memory");
    }
    for (size_t t = 0, c = 0; t < tr->n_tensors; t++) {
        const tensor_info *ti = &tr->tensors[t];
        for (size_t i = 0; i < ti->count; i += STEP_CHUNK, c++) {
            tr->chunks[c].off = ti->off + i;
            tr->chunks[c].len = ti->count - i < STEP_CHUNK ? ti->count - i : STEP_CHUNK;
            tr->chunks[c].decay = ti->decay;
            tr->chunks[c].frozen = ti->frozen;
        }
    }

    /* activations: a second allocation, sized once */
    size_t bytes = arena_layout(tr, NULL);
    if (posix_memalign(&tr->arena, ALIGN_BYTES, bytes) != 0) {
        tr->arena = NULL;
        nlp_trainer_free(tr);
        return nlp_error_set(err, NLP_ERR_NOMEM,
                             "nlp_trainer_create: cannot allocate %zu bytes of activations",
                             bytes);
    }
    arena_layout(tr, tr->arena);
    *out = tr;
    return NLP_OK;
}

void nlp_trainer_free(nlp_trainer *tr)
{
    if (!tr)
        return;
    nlp_pool_free(tr->pool);
    free(tr->arena);
    free(tr->mem);
    free(tr->chunks);
    free(tr->partial);
    free(tr->tensors);
    free(tr->layer_mem);
    free(tr->la);
    free(tr);
}

/* ------------------------------------------------------------ batches */

static nlp_status check_batch(const nlp_trainer *tr, const nlp_train_batch *tb,
                              int need_labels, nlp_error *err)
{
    const nlp_batch *bt = &tb->in;
    if (!bt->ids || !bt->lengths)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "trainer: ids or lengths is NULL");
    if (bt->batch == 0 || bt->seq == 0 || bt->batch > tr->maxB || bt->seq > tr->maxT)
        return nlp_error_set(err, NLP_ERR_INPUT,
                             "trainer: batch %zu x %zu does not fit the trainer's %zu x %zu",
                             bt->batch, bt->seq, tr->maxB, tr->maxT);
    const size_t B = bt->batch, T = bt->seq;
    for (size_t b = 0; b < B; b++) {
        const int32_t len = bt->lengths[b];
        if (len < 1 || (size_t)len > T)
            return nlp_error_set(err, NLP_ERR_INPUT,
                                 "trainer: batch row %zu has length %d, outside [1, %zu]",
                                 b, (int)len, T);
        /* every position that gets a row must hold valid ids */
        const size_t n = tr->opt.task == NLP_TRAIN_QA ? T : (size_t)len;
        for (size_t t = 0; t < n; t++) {
            const int32_t id = bt->ids[b * T + t];
            if (id < 0 || (size_t)id >= tr->V)
                return nlp_error_set(err, NLP_ERR_INPUT,
                                     "trainer: token id %d at row %zu, position %zu is "
                                     "outside the vocabulary (size %zu)", (int)id, b, t, tr->V);
            if (!tr->distil && bt->type_ids) {
                const int32_t ty = bt->type_ids[b * T + t];
                if (ty < 0 || (size_t)ty >= tr->TV)
                    return nlp_error_set(err, NLP_ERR_INPUT,
                                         "trainer: token type %d at row %zu, position %zu "
                                         "is outside [0, %zu)", (int)ty, b, t, tr->TV);
            }
        }
    }
    switch (tr->opt.task) {
    case NLP_TRAIN_MLM:
    case NLP_TRAIN_TOKEN_CLS: {
        if (!tb->labels && !need_labels && tr->opt.task == NLP_TRAIN_TOKEN_CLS)
            break;
        if (!tb->labels)
            return nlp_error_set(err, NLP_ERR_INVALID_ARG, "trainer: labels is NULL");
        const size_t C = tr->opt.task == NLP_TRAIN_MLM ? tr->V : tr->C;
        size_t M = 0;
        for (size_t b = 0; b < B; b++)
            for (size_t t = 0; t < (size_t)bt->lengths[b]; t++) {
                const int32_t y = tb->labels[b * T + t];
                if (y == NLP_IGNORE_INDEX)
                    continue;
                if (y < 0 || (size_t)y >= C)
                    return nlp_error_set(err, NLP_ERR_INPUT,
                                         "trainer: label %d at row %zu, position %zu is "
                                         "outside [0, %zu)", (int)y, b, t, C);
                M++;
            }
        if (tr->opt.task == NLP_TRAIN_MLM && M > tr->maxM)
            return nlp_error_set(err, NLP_ERR_INPUT,
                                 "trainer: %zu labelled positions, more than max_masked %zu",
                                 M, tr->maxM);
        break;
    }
    case NLP_TRAIN_SEQ_CLS:
        if (!need_labels && !tb->labels && !tb->targets)
            break;
        if (tr->loss_kind == 0) {
            if (!tb->labels)
                return nlp_error_set(err, NLP_ERR_INVALID_ARG, "trainer: labels is NULL");
            for (size_t b = 0; b < B; b++)
                if (tb->labels[b] != NLP_IGNORE_INDEX &&
                    (tb->labels[b] < 0 || (size_t)tb->labels[b] >= tr->C))
                    return nlp_error_set(err, NLP_ERR_INPUT,
                                         "trainer: label %d of row %zu is outside [0, %zu)",
                                         (int)tb->labels[b], b, tr->C);
        } else if (!tb->targets) {
            return nlp_error_set(err, NLP_ERR_INVALID_ARG, "trainer: targets is NULL");
        }
        break;
    case NLP_TRAIN_QA:
        if (need_labels && (!tb->start_positions || !tb->end_positions))
            return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                                 "trainer: start or end positions is NULL");
        break;
    }
    return NLP_OK;
}

/* ------------------------------------------------------------ passes */

/* Dropout streams: micro-batch, site and sub-stream never collide. */
enum { SITE_EMB = 0, SITE_HEAD = 1, SITE_LAYER = 2 };

static uint64_t stream_of(const nlp_trainer *tr, size_t site)
{
    return (tr->micro << 32) | ((uint64_t)site << 20);
}

/* y[N][out] (stride ldy) = x[N][in] (stride ldx) W^T + b */
static void linear_fwd(nlp_pool *pool, float *y, size_t ldy, const float *x, size_t ldx,
                       const float *W, const float *b, size_t N, size_t out, size_t in)
{
    nlp_sgemm(pool, 1, N, out, in, x, ldx, W, in, b, y, ldy);
}

static void encoder_forward(nlp_trainer *tr, const nlp_batch *bt, size_t N,
                            const nlp_dropout *hd, const nlp_dropout *ad)
{
    nlp_pool *pool = tr->pool;
    const size_t H = tr->H, I = tr->I, B = bt->batch, T = bt->seq;
    const float eps = tr->cfg->layer_norm_eps;
    const tparams *p = &tr->p;
    nlp_embeddings_forward(tr->emb_in, bt->ids, tr->distil ? NULL : bt->type_ids, tr->rows,
                           tr->offs, B, T, p->word, p->pos, p->type, H, -1);
    float *x0 = tr->L ? tr->la[0].x : tr->out;
    nlp_layernorm_forward(pool, x0, tr->emb_mean, tr->emb_rstd, tr->emb_in, p->eln_g,
                          p->eln_b, N, H, eps);
    nlp_dropout_apply(hd, stream_of(tr, SITE_EMB), 0, x0, N * H);
    for (size_t l = 0; l < tr->L; l++) {
        const tlayer *w = &p->layers[l];
        const lacts *a = &tr->la[l];
        float *next = l + 1 < tr->L ? tr->la[l + 1].x : tr->out;
        const size_t site = SITE_LAYER + 3 * l;
        linear_fwd(pool, a->qkv, 3 * H, a->x, H, w->qkv_w, w->qkv_b, N, 3 * H, H);
        nlp_attention_forward_train(pool, a->att, a->probs, a->qkv, tr->rows, bt->lengths,
                                    tr->offs, B, T, H, tr->nh, ad, stream_of(tr, site),
                                    tr->att_scratch);
        linear_fwd(pool, a->proj1, H, a->att, H, w->o_w, w->o_b, N, H, H);
        if (!tr->distil)
            nlp_dropout_apply(hd, stream_of(tr, site + 1), 0, a->proj1, N * H);
        nlp_residual_forward(a->proj1, a->proj1, a->x, N * H);
        nlp_layernorm_forward(pool, a->ln1, a->mean1, a->rstd1, a->proj1, w->ln1_g, w->ln1_b,
                              N, H, eps);
        linear_fwd(pool, a->ff_pre, I, a->ln1, H, w->ff1_w, w->ff1_b, N, I, H);
        nlp_activation_forward(pool, tr->act, a->ff_act, a->ff_pre, N * I);
        linear_fwd(pool, a->proj2, H, a->ff_act, I, w->ff2_w, w->ff2_b, N, H, I);
        nlp_dropout_apply(hd, stream_of(tr, site + 2), 0, a->proj2, N * H);
        nlp_residual_forward(a->proj2, a->proj2, a->ln1, N * H);
        nlp_layernorm_forward(pool, next, a->mean2, a->rstd2, a->proj2, w->ln2_g, w->ln2_b,
                              N, H, eps);
    }
}

/* From dy[N][H], the gradient of the final hidden states, down to the
 * embeddings.  dy is consumed. */
static void encoder_backward(nlp_trainer *tr, const nlp_batch *bt, size_t N,
                             const nlp_dropout *hd, const nlp_dropout *ad)
{
    nlp_pool *pool = tr->pool;
    const size_t H = tr->H, I = tr->I, B = bt->batch, T = bt->seq;
    const tparams *p = &tr->p, *g = &tr->g;
    float *dy = tr->dy, *d1 = tr->d1, *d2 = tr->d2, *d3 = tr->d3;
    for (size_t l = tr->L; l-- > 0;) {
        const tlayer *w = &p->layers[l], *gw = &g->layers[l];
        const lacts *a = &tr->la[l];
        const size_t site = SITE_LAYER + 3 * l;
        /* LayerNorm 2: d1 = dproj2 */
        nlp_layernorm_backward(pool, d1, gw->ln2_g, gw->ln2_b, dy, a->proj2, a->mean2,
                               a->rstd2, w->ln2_g, N, H);
        /* FF2 through its dropout: d2 = dropout(d1) */
        memcpy(d2, d1, N * H * sizeof *d2);
        nlp_dropout_apply(hd, stream_of(tr, site + 2), 0, d2, N * H);
        nlp_linear_backward_weight(pool, gw->ff2_w, gw->ff2_b, d2, H, a->ff_act, I, N, H, I,
                                   tr->wscratch);
        nlp_linear_backward_input(pool, tr->dff, I, d2, H, w->ff2_w, N, H, I);
        nlp_activation_backward(pool, tr->act, tr->dff, tr->dff, a->ff_pre, N * I);
        /* FF1, plus the residual into ln1: d3 = dln1 */
        nlp_linear_backward_weight(pool, gw->ff1_w, gw->ff1_b, tr->dff, I, a->ln1, H, N, I, H,
                                   tr->wscratch);
        nlp_linear_backward_input(pool, d3, H, tr->dff, I, w->ff1_w, N, I, H);
        nlp_residual_backward(d3, d1, N * H);
        /* LayerNorm 1, in place: d3 = dproj1 */
        nlp_layernorm_backward(pool, d3, gw->ln1_g, gw->ln1_b, d3, a->proj1, a->mean1,
                               a->rstd1, w->ln1_g, N, H);
        /* attention output dense through its dropout: d1 = datt */
        memcpy(d2, d3, N * H * sizeof *d2);
        if (!tr->distil)
            nlp_dropout_apply(hd, stream_of(tr, site + 1), 0, d2, N * H);
        nlp_linear_backward_weight(pool, gw->o_w, gw->o_b, d2, H, a->att, H, N, H, H,
                                   tr->wscratch);
        nlp_linear_backward_input(pool, d1, H, d2, H, w->o_w, N, H, H);
        nlp_attention_backward(pool, tr->dqkv, d1, a->probs, a->qkv, tr->rows, bt->lengths,
                               tr->offs, B, T, H, tr->nh, ad, stream_of(tr, site),
                               tr->att_scratch);
        /* fused projection, plus the residual: dy = dx */
        nlp_linear_backward_weight(pool, gw->qkv_w, gw->qkv_b, tr->dqkv, 3 * H, a->x, H, N,
                                   3 * H, H, tr->wscratch);
        nlp_linear_backward_input(pool, dy, H, tr->dqkv, 3 * H, w->qkv_w, N, 3 * H, H);
        nlp_residual_backward(dy, d3, N * H);
    }
    nlp_dropout_apply(hd, stream_of(tr, SITE_EMB), 0, dy, N * H);
    nlp_layernorm_backward(pool, dy, g->eln_g, g->eln_b, dy, tr->emb_in, tr->emb_mean,
                           tr->emb_rstd, p->eln_g, N, H);
    nlp_embeddings_backward(g->word, g->pos, tr->distil ? NULL : g->type, dy, bt->ids,
                            tr->distil ? NULL : bt->type_ids, tr->rows, tr->offs, B, T, H);
}

/* The head's forward, loss and backward: returns the loss, leaves the
 * gradient of the final hidden states in tr->dy. */
/* The head's forward pass and loss over the final hidden states; with
 * out == NULL its backward pass too (into tr->dy), else no backward pass
 * and the logits copied to out (layout at nlp_trainer_predict).  A loss
 * whose labels are absent (predict only) is 0. */
static double head_pass(nlp_trainer *tr, const nlp_train_batch *tb, size_t N,
                        const nlp_dropout *cd, float scale, float *out)
{
    nlp_pool *pool = tr->pool;
    const nlp_batch *bt = &tb->in;
    const size_t H = tr->H, B = bt->batch, T = bt->seq, C = tr->C;
    const uint64_t hs = stream_of(tr, SITE_HEAD);
    double loss = 0.0;
    switch (tr->opt.task) {
    case NLP_TRAIN_MLM: {
        size_t M = 0;
        for (size_t b = 0; b < B; b++)
            for (size_t t = 0; t < (size_t)bt->lengths[b]; t++)
                if (tb->labels[b * T + t] != NLP_IGNORE_INDEX) {
                    tr->m_pos[M] = tr->offs[b] + t;
                    tr->m_labels[M] = tb->labels[b * T + t];
                    memcpy(tr->m_rows + M * H, tr->out + (tr->offs[b] + t) * H, H * sizeof(float));
                    M++;
                }
        memset(tr->dy, 0, N * H * sizeof(float));
        if (M == 0)
            return 0.0;
        nlp_mlm_head_forward_train(pool, &tr->p.mlm, tr->act, tr->cfg->layer_norm_eps,
                                   tr->m_rows, M, H, tr->V, &tr->mh);
        loss = nlp_cross_entropy_forward(tr->mh.logits, tr->m_labels, M, tr->V,
                                         NLP_IGNORE_INDEX, NULL);
        if (out) {
            memcpy(out, tr->mh.logits, M * tr->V * sizeof(float));
            return loss;
        }
        nlp_cross_entropy_backward(tr->mh.logits, tr->mh.logits, tr->m_labels, M, tr->V,
                                   NLP_IGNORE_INDEX, scale);
        nlp_mlm_head_backward(pool, &tr->p.mlm, &tr->g.mlm, tr->act, &tr->mh, tr->m_rows,
                              tr->mh.logits, tr->m_dt, tr->m_drows, M, H, tr->V,
                              tr->wscratch);
        for (size_t i = 0; i < M; i++)
            memcpy(tr->dy + tr->m_pos[i] * H, tr->m_drows + i * H, H * sizeof(float));
        return loss;
    }
    case NLP_TRAIN_SEQ_CLS: {
        const nlp_pool_act pa = tr->distil ? NLP_POOL_RELU : NLP_POOL_TANH;
        nlp_seqcls_forward_train(pool, &tr->p.seq, pa, tr->out, tr->offs, B, H, C, cd, hs,
                                 &tr->sh);
        float *lg = tr->sh.logits;                           /* [B][C] */
        if (out) {
            memcpy(out, lg, B * C * sizeof(float));
            if (tr->loss_kind == 0 && tb->labels)
                loss = nlp_cross_entropy_forward(lg, tb->labels, B, C, NLP_IGNORE_INDEX, NULL);
            else if (tr->loss_kind == 1 && tb->targets)
                loss = nlp_bce_logits_forward(lg, tb->targets, B * C);
            else if (tr->loss_kind == 2 && tb->targets)
                loss = nlp_mse_forward(lg, tb->targets, B);
            return loss;
        }
        if (tr->loss_kind == 0) {
            loss = nlp_cross_entropy_forward(lg, tb->labels, B, C, NLP_IGNORE_INDEX, NULL);
            nlp_cross_entropy_backward(lg, lg, tb->labels, B, C, NLP_IGNORE_INDEX, scale);
        } else if (tr->loss_kind == 1) {
            loss = nlp_bce_logits_forward(lg, tb->targets, B * C);
            nlp_bce_logits_backward(lg, lg, tb->targets, B * C, scale);
        } else {
            loss = nlp_mse_forward(lg, tb->targets, B);
            nlp_mse_backward(lg, lg, tb->targets, B, scale);
        }
        memset(tr->dy, 0, N * H * sizeof(float));
        nlp_seqcls_backward(pool, &tr->p.seq, &tr->g.seq, pa, &tr->sh, lg, tr->dy, tr->offs,
                            B, H, C, cd, hs, tr->s_scratch, tr->wscratch);
        return loss;
    }
    case NLP_TRAIN_TOKEN_CLS: {
        nlp_token_head_forward_train(pool, tr->p.tok_w, tr->p.tok_b, tr->out, N, H, C, cd, hs,
                                     tr->t_in, tr->t_logits);
        for (size_t b = 0; b < B; b++)
            for (size_t t = 0; t < (size_t)tr->rows[b]; t++)
                tr->t_labels[tr->offs[b] + t] = tb->labels ? tb->labels[b * T + t]
                                                           : NLP_IGNORE_INDEX;
        loss = nlp_cross_entropy_forward(tr->t_logits, tr->t_labels, N, C, NLP_IGNORE_INDEX,
                                         NULL);
        if (out) {          /* [B][T][C], padded positions zero */
            memset(out, 0, B * T * C * sizeof(float));
            for (size_t b = 0; b < B; b++)
                memcpy(out + b * T * C, tr->t_logits + tr->offs[b] * C,
                       (size_t)tr->rows[b] * C * sizeof(float));
            return loss;
        }
        nlp_cross_entropy_backward(tr->t_logits, tr->t_logits, tr->t_labels, N, C,
                                   NLP_IGNORE_INDEX, scale);
        nlp_token_head_backward(pool, tr->p.tok_w, tr->g.tok_w, tr->g.tok_b, tr->t_in,
                                tr->t_logits, tr->dy, N, H, C, cd, hs, tr->wscratch);
        return loss;
    }
    case NLP_TRAIN_QA: {
        /* every row has all T positions (rows[b] == T, offs[b] == b T) */
        nlp_token_head_forward_train(pool, tr->p.tok_w, tr->p.tok_b, tr->out, N, H, 2, cd, hs,
                                     tr->t_in, tr->t_logits);
        float *s = tr->qa_logits, *e = tr->qa_logits + B * T;     /* [B][T] each */
        int32_t *sp = tr->qa_pos, *ep = tr->qa_pos + B;           /* [B] each */
        for (size_t i = 0; i < B * T; i++) {
            s[i] = tr->t_logits[2 * i];
            e[i] = tr->t_logits[2 * i + 1];
        }
        if (out) {          /* [2][B][T] */
            memcpy(out, s, 2 * B * T * sizeof(float));
            if (!tb->start_positions || !tb->end_positions)
                return 0.0;
        }
        /* positions outside the sequence are clamped to T and ignored */
        for (size_t b = 0; b < B; b++) {
            int32_t a = tb->start_positions[b], z = tb->end_positions[b];
            sp[b] = a < 0 ? 0 : (size_t)a > T ? (int32_t)T : a;
            ep[b] = z < 0 ? 0 : (size_t)z > T ? (int32_t)T : z;
        }
        loss = 0.5 * (nlp_cross_entropy_forward(s, sp, B, T, (int32_t)T, NULL) +
                      nlp_cross_entropy_forward(e, ep, B, T, (int32_t)T, NULL));
        if (out)
            return loss;
        nlp_cross_entropy_backward(s, s, sp, B, T, (int32_t)T, 0.5f * scale);
        nlp_cross_entropy_backward(e, e, ep, B, T, (int32_t)T, 0.5f * scale);
        for (size_t i = 0; i < B * T; i++) {
            tr->t_logits[2 * i] = s[i];
            tr->t_logits[2 * i + 1] = e[i];
        }
        nlp_token_head_backward(pool, tr->p.tok_w, tr->g.tok_w, tr->g.tok_b, tr->t_in,
                                tr->t_logits, tr->dy, N, H, 2, cd, hs, tr->wscratch);
        return loss;
    }
    }
    return loss;
}

/* Packed rows of the batch (tr->rows, tr->offs); returns their total N. */
static size_t layout_rows(nlp_trainer *tr, const nlp_batch *bt)
{
    size_t N = 0;
    for (size_t b = 0; b < bt->batch; b++) {
        tr->rows[b] = tr->opt.task == NLP_TRAIN_QA ? (int32_t)bt->seq : bt->lengths[b];
        tr->offs[b] = N;
        N += (size_t)tr->rows[b];
    }
    return N;
}

nlp_status nlp_trainer_accumulate(nlp_trainer *tr, const nlp_train_batch *batch,
                                  float *loss, nlp_error *err)
{
    if (!tr || !batch)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_trainer_accumulate: trainer or batch is NULL");
    nlp_status st = check_batch(tr, batch, 1, err);
    if (st != NLP_OK)
        return st;
    const nlp_batch *bt = &batch->in;
    const size_t N = layout_rows(tr, bt);
    const nlp_dropout hd = { tr->opt.hidden_dropout, tr->opt.seed };
    const nlp_dropout ad = { tr->opt.attention_dropout, tr->opt.seed };
    const nlp_dropout cd = { tr->opt.classifier_dropout, tr->opt.seed };
    encoder_forward(tr, bt, N, &hd, &ad);
    const double l = head_pass(tr, batch, N, &cd, 1.0f / (float)tr->opt.grad_accum, NULL);
    encoder_backward(tr, bt, N, &hd, &ad);
    tr->micro++;
    if (loss)
        *loss = (float)l;
    return NLP_OK;
}

size_t nlp_trainer_predict_size(const nlp_trainer *tr, const nlp_train_batch *batch)
{
    const nlp_batch *bt = &batch->in;
    const size_t B = bt->batch, T = bt->seq;
    switch (tr->opt.task) {
    case NLP_TRAIN_MLM: {
        size_t M = 0;
        for (size_t b = 0; b < B; b++)
            for (size_t t = 0; t < (size_t)bt->lengths[b]; t++)
                M += batch->labels[b * T + t] != NLP_IGNORE_INDEX;
        return M * tr->V;
    }
    case NLP_TRAIN_SEQ_CLS:
        return B * tr->C;
    case NLP_TRAIN_TOKEN_CLS:
        return B * T * tr->C;
    case NLP_TRAIN_QA:
        return 2 * B * T;
    }
    return 0;
}

nlp_status nlp_trainer_predict(nlp_trainer *tr, const nlp_train_batch *batch, float *out,
                               size_t out_count, float *loss, nlp_error *err)
{
    if (!tr || !batch || !out)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_trainer_predict: trainer, batch or out is NULL");
    nlp_status st = check_batch(tr, batch, 0, err);
    if (st != NLP_OK)
        return st;
    const size_t need = nlp_trainer_predict_size(tr, batch);
    if (out_count < need)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_trainer_predict: out holds %zu floats, the batch needs %zu",
                             out_count, need);
    const size_t N = layout_rows(tr, &batch->in);
    const nlp_dropout none = {0.0f, tr->opt.seed};
    encoder_forward(tr, &batch->in, N, &none, &none);
    const double l = head_pass(tr, batch, N, &none, 1.0f, out);
    if (loss)
        *loss = (float)l;
    return NLP_OK;
}

/* ------------------------------------------------------------ optimizer */

typedef struct {
    nlp_trainer *tr;
    nlp_adamw o;
    float coef;                 /* clipping factor */
} step_job;

static void norm_chunk(void *vp, size_t c)
{
    const step_job *j = vp;
    const struct step_chunk *k = &j->tr->chunks[c];
    j->tr->partial[c] = k->frozen ? 0.0 : nlp_sum_squares(j->tr->grad + k->off, k->len);
}

static void update_chunk(void *vp, size_t c)
{
    const step_job *j = vp;
    nlp_trainer *tr = j->tr;
    const struct step_chunk *k = &tr->chunks[c];
    float *g = tr->grad + k->off;
    if (!k->frozen) {
        if (j->coef < 1.0f)
            for (size_t i = 0; i < k->len; i++)
                g[i] *= j->coef;
        nlp_adamw o = j->o;
        o.weight_decay = k->decay ? tr->opt.weight_decay : 0.0;
        nlp_adamw_update(&o, tr->val + k->off, g, tr->m1 + k->off, tr->m2 + k->off, k->len);
    }
    memset(g, 0, k->len * sizeof *g);
}

nlp_status nlp_trainer_step(nlp_trainer *tr, float *grad_norm, nlp_error *err)
{
    if (!tr)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_trainer_step: trainer is NULL");
    step_job j;
    memset(&j, 0, sizeof j);
    j.tr = tr;
    /* global norm over fixed chunks, summed in chunk order */
    nlp_pool_run(tr->pool, norm_chunk, &j, tr->n_chunks);
    double ss = 0.0;
    for (size_t c = 0; c < tr->n_chunks; c++)
        ss += tr->partial[c];
    const double norm = sqrt(ss);
    if (grad_norm)
        *grad_norm = (float)norm;
    if (!isfinite(norm))
        return nlp_error_set(err, NLP_ERR_INPUT, "trainer: the gradient norm is %s at step "
                             "%d; the parameters were not updated",
                             isnan(norm) ? "NaN" : "infinite", tr->step + 1);
    j.coef = (float)nlp_clip_coef(norm, tr->opt.max_grad_norm);
    j.o.lr = nlp_trainer_lr(tr);
    j.o.beta1 = tr->opt.adam_beta1;
    j.o.beta2 = tr->opt.adam_beta2;
    j.o.eps = tr->opt.adam_eps;
    j.o.step = tr->step + 1;
    /* clip, update, zero the gradients: chunk by chunk on the pool */
    nlp_pool_run(tr->pool, update_chunk, &j, tr->n_chunks);
    tr->step++;
    return NLP_OK;
}

int nlp_trainer_steps(const nlp_trainer *tr)
{
    return tr ? tr->step : 0;
}

double nlp_trainer_lr(const nlp_trainer *tr)
{
    if (!tr)
        return 0.0;
    return tr->opt.lr * nlp_lr_linear_schedule(tr->step, tr->opt.warmup_steps,
                                               tr->opt.total_steps);
}

size_t nlp_trainer_num_tensors(const nlp_trainer *tr)
{
    return tr ? tr->n_tensors : 0;
}

nlp_status nlp_trainer_tensor(const nlp_trainer *tr, size_t index, const char **name,
                              float **values, float **grad, int *ndim, int64_t shape[2],
                              nlp_error *err)
{
    if (!tr || index >= tr->n_tensors)
        return nlp_error_set(err, NLP_ERR_NOT_FOUND, "trainer: no tensor %zu", index);
    const tensor_info *t = &tr->tensors[index];
    if (name)
        *name = t->name;
    if (values)
        *values = tr->val + t->off;
    if (grad)
        *grad = tr->grad + t->off;
    if (ndim)
        *ndim = t->ndim;
    if (shape) {
        shape[0] = t->shape[0];
        shape[1] = t->shape[1];
    }
    return NLP_OK;
}

const nlp_model *nlp_trainer_model(const nlp_trainer *tr)
{
    return tr->model;
}

const nlp_train_options *nlp_trainer_options(const nlp_trainer *tr)
{
    return &tr->opt;
}

size_t nlp_trainer_num_labels(const nlp_trainer *tr)
{
    return tr->C;
}

int nlp_trainer_loss_kind(const nlp_trainer *tr)
{
    return tr->loss_kind;
}

/* ------------------------------------------------------------ state */

void nlp_trainer_state(nlp_trainer *tr, size_t index, float **m, float **v, int **step,
                       uint64_t **micro)
{
    const tensor_info *t = &tr->tensors[index];
    *m = tr->m1 + t->off;
    *v = tr->m2 + t->off;
    *step = &tr->step;
    *micro = &tr->micro;
}

void nlp_trainer_zero_grad(nlp_trainer *tr)
{
    memset(tr->grad, 0, tr->n_params * sizeof *tr->grad);
}
