/*
 * encoder.c - the encoder forward pass of nlp/encoder.h.
 *
 * An nlp_ctx owns a thread pool and ONE arena carved into named activation
 * buffers sized for the largest batch seen so far; a bigger batch regrows
 * it once, after which calls allocate nothing.  The forward pass works on
 * packed rows (only the real tokens of each batch row, back to back) and
 * scatters the final hidden states into the padded [B][T][H] output, with
 * zeros at padded positions.  The packed layer weights are the model's
 * (nlp_model_packed), shared by every context of the same weight type.
 *
 * Embeddings number positions as the family says (RoBERTa and MPNet from
 * padding_idx + 1) and are projected to the hidden size when narrower
 * (ELECTRA; DeBERTa normalises after the projection).  MPNet's relative
 * attention bias is laid out once per pass (relbias.c) and added to every
 * layer's attention scores.  Task heads run the layout the family module
 * binds (nlp_head_forward).  Per layer of the post-LayerNorm families:
 *   q, k, v = x Wq^T + bq, x Wk^T + bk, x Wv^T + bv          [N][H]
 *   att     = MultiHeadAttention(q, k, v, padding [, bias])  [N][H]
 *             (DeBERTa: disentangled, attn_disentangled.c)
 *   ln1     = LayerNorm(att Wo^T + bo + x)                  [N][H]
 *   ff      = act(ln1 W1^T + b1)                            [N][I]
 *   x       = LayerNorm(ff W2^T + b2 + ln1)                 [N][H]
 * and of the pre-LayerNorm one (ModernBERT, no position embeddings):
 *   q, k, v = LayerNorm1(x) Wqkv^T (LayerNorm1 = identity on layer 0)
 *   q, k    = RoPE(q), RoPE(k), positions within the batch row
 *   proj    = x + Attention(q, k, v) Wo^T     global, or within the
 *                                             local window
 *   ff      = GeGLU(LayerNorm2(proj) Wi^T)                  [N][I]
 *   x       = proj + ff Wo^T
 * and a final LayerNorm after the last layer.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/encoder.h"
#include "attn_disentangled.h"
#include "gemm.h"
#include "gemm_kernels.h"
#include "layers.h"
#include "layers_modern.h"
#include "model/family.h"
#include "model/model_impl.h"
#include "relbias.h"
#include "threadpool.h"

/* Activation buffers, all carved from one arena. */
typedef struct nlp_acts {
    float *x;        /* [N][H] layer input / output */
    float *emb;      /* [N][E] embeddings before the projection (E != H only) */
    float *qkv;      /* [N][3H] query | key | value projections */
    float *att;      /* [N][H] attention context */
    float *proj;     /* [N][H] dense output + residual */
    float *ln1;      /* [N][H] after the attention LayerNorm */
    float *ff;       /* [N][ldff] intermediate (activated in place) */
    float *mean;     /* [N] LayerNorm statistics of the last LayerNorm */
    float *rstd;     /* [N] */
    float *out;      /* [B][T][H] padded final hidden states */
    float *scratch;  /* attention scores, per worker [T][T] */
    size_t *offs;    /* [B] packed row of each batch row's first token */
    float *relbias;  /* [nh][2T-1] relative attention bias (MPNet), else unused */
    int32_t *relidx; /* [2T] DeBERTa: rel_embeddings row of each i - j */
    float *rope;     /* [4][T][dh/2] cos, sin of global then local layers (pre-LN) */
    int32_t *lens;   /* [B] the last batch's lengths (mean pooling) */
    float *pooled;   /* [B][H] mean-pooled rows for the sequence head */
} nlp_acts;

struct nlp_ctx {
    const nlp_model *model;
    const nlp_config *cfg;
    const nlp_weights *w;
    nlp_pool *pool;
    void *arena;
    size_t cap_tokens, cap_batch, cap_seq;  /* B*T, B and T the arena fits */
    nlp_acts a;
    float *head;     /* [head_cap] floats: a head's first projection */
    size_t head_cap;
    nlp_packed_b *const *packed; /* [num_layers][NLP_PK_COUNT] layer weights packed
                                  * for the GEMM kernels, owned by the model */
    nlp_weight_type dtype;
    const float *relproj;   /* DeBERTa's projected rel rows (the model's), or NULL */
    size_t last_B, last_T;       /* the last forward pass's batch */
};

/* y[N][out] = act(x[N][in] . W^T + bias) + res, W packed; x rows ldx
 * apart, y rows ldy apart, res rows out apart. */
static void dense(nlp_pool *pool, const nlp_packed_b *W, size_t N,
                  const float *x, size_t ldx, const float *bias,
                  nlp_gemm_act act, const float *res, float *y, size_t ldy)
{
    const size_t out = nlp_packed_b_rows(W);
    nlp_gemm_epilogue ep = { bias, act, res, out };
    nlp_sgemm_packed(pool, N, x, ldx, W, &ep, y, ldy);
}

/* Row stride of the intermediate activations: I, padded by one cache line
 * when I floats are a multiple of 4 KiB (3072 in BERT-base), so the rows
 * the GEMM reads together do not all fall in the same L1 set and it needs
 * no aliasing copy of them. */
static size_t ff_stride(size_t I)
{
    return (I * sizeof(float)) % 4096 == 0 ? I + 64 / sizeof(float) : I;
}

enum { ALIGN = 64 };

static size_t round_up(size_t n)
{
    return (n + ALIGN - 1) / ALIGN * ALIGN;
}

/* Lay the buffers out for the given capacities.  With base NULL only the
 * total size is computed. */
static size_t arena_layout(nlp_ctx *ctx, char *base, size_t NT, size_t B,
                           size_t T)
{
    const size_t H = (size_t)ctx->cfg->hidden_size;
    const size_t I = (size_t)ctx->cfg->intermediate_size;
    const size_t I1 = ctx->cfg->ffn_gated ? 2 * I : I;   /* first projection's width */
    const size_t dh = H / (size_t)ctx->cfg->num_heads;
    const int threads = nlp_pool_threads(ctx->pool);
    size_t att = nlp_attention_scratch_floats(T, dh, threads);
    const size_t local = nlp_attention_local_scratch_floats(T, threads);
    size_t off = 0;
#define CARVE(field, type, count)                                     \
    do {                                                              \
        if (base)                                                     \
            ctx->a.field = (type *)(void *)(base + off);              \
        off += round_up((count) * sizeof(type));                      \
    } while (0)
    const size_t E = (size_t)ctx->cfg->embedding_size;
    CARVE(x, float, NT * H);
    CARVE(emb, float, E != H ? NT * E : 0);
    CARVE(qkv, float, NT * 3 * H);
    CARVE(att, float, NT * H);
    CARVE(proj, float, NT * H);
    CARVE(ln1, float, NT * H);
    CARVE(ff, float, NT * ff_stride(I1));
    CARVE(mean, float, NT);
    CARVE(rstd, float, NT);
    CARVE(out, float, NT * H);
    const int rel = ctx->cfg->rel.scale_factor > 0;
    const size_t dis = rel ? nlp_disentangled_scratch_floats(T, (size_t)ctx->cfg->rel.span,
                                                             threads) : 0;
    if (att < local)
        att = local;
    CARVE(scratch, float, att > dis ? att : dis);
    CARVE(offs, size_t, B);
    CARVE(relbias, float, ctx->w->rel_bias ? nlp_relbias_floats((size_t)ctx->cfg->num_heads, T) : 0);
    CARVE(relidx, int32_t, rel ? 2 * T : 0);
    CARVE(rope, float, ctx->cfg->pre_norm ? 4 * T * (dh / 2) : 0);
    CARVE(lens, int32_t, B);
    CARVE(pooled, float, B * H);
#undef CARVE
    return off;
}

/* Make the arena fit a batch of B rows of T tokens. */
static nlp_status arena_reserve(nlp_ctx *ctx, size_t B, size_t T,
                                nlp_error *err)
{
    if (B * T <= ctx->cap_tokens && B <= ctx->cap_batch && T <= ctx->cap_seq)
        return NLP_OK;
    size_t nb = B > ctx->cap_batch ? B : ctx->cap_batch;
    size_t nt = T > ctx->cap_seq ? T : ctx->cap_seq;
    size_t ntok = B * T > ctx->cap_tokens ? B * T : ctx->cap_tokens;
    size_t bytes = arena_layout(ctx, NULL, ntok, nb, nt);
    void *mem = NULL;
    if (posix_memalign(&mem, ALIGN, bytes) != 0 || !mem)
        return nlp_error_set(err, NLP_ERR_NOMEM,
                             "encoder: cannot allocate %zu bytes of activations "
                             "for batch %zu x %zu", bytes, B, T);
    if (ctx->dtype == NLP_WEIGHTS_INT8) {
        /* the int8 GEMMs quantise their input rows into the pool's
         * scratch: reserve it now for the widest input (FF2's) */
        const size_t I = (size_t)ctx->cfg->intermediate_size;
        const size_t H = (size_t)ctx->cfg->hidden_size;
        /* DeBERTa also projects up to 2T - 1 rel rows */
        const size_t rows = ctx->cfg->rel.scale_factor > 0 && 2 * nt > ntok ? 2 * nt : ntok;
        if (!nlp_pool_scratch(ctx->pool, nlp_int8_scratch_bytes(rows, I > H ? I : H))) {
            free(mem);
            return nlp_error_set(err, NLP_ERR_NOMEM,
                                 "encoder: cannot allocate int8 scratch for batch %zu x %zu",
                                 B, T);
        }
    }
    free(ctx->arena);
    ctx->arena = mem;
    ctx->cap_batch = nb;
    ctx->cap_seq = nt;
    ctx->cap_tokens = ntok;
    arena_layout(ctx, mem, ntok, nb, nt);
    if (ctx->cfg->pre_norm) {
        /* the rotary tables for every position the arena fits */
        const size_t half = (size_t)(ctx->cfg->hidden_size / ctx->cfg->num_heads) / 2;
        float *r = ctx->a.rope;
        nlp_rope_table(r, r + nt * half, nt, 2 * half, ctx->cfg->rope_theta_global);
        nlp_rope_table(r + 2 * nt * half, r + 3 * nt * half, nt, 2 * half,
                       ctx->cfg->rope_theta_local);
    }
    return NLP_OK;
}

nlp_weight_type nlp_model_default_weight_type(const nlp_model *model)
{
    return model && nlp_model_int8_stored(model) ? NLP_WEIGHTS_INT8 : NLP_WEIGHTS_FP32;
}

nlp_status nlp_weight_type_parse(const char *name, nlp_weight_type *out, nlp_error *err)
{
    if (name && strcmp(name, "fp32") == 0)
        *out = NLP_WEIGHTS_FP32;
    else if (name && strcmp(name, "int8") == 0)
        *out = NLP_WEIGHTS_INT8;
    else if (name && strcmp(name, "bf16") == 0)
        *out = NLP_WEIGHTS_BF16;
    else
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "unknown dtype '%s' (expected fp32, int8 or bf16)",
                             name ? name : "(null)");
    return NLP_OK;
}

nlp_status nlp_ctx_create(const nlp_model *model, int n_threads,
                          nlp_ctx **out, nlp_error *err)
{
    return nlp_ctx_create_dtype(model, n_threads, NLP_WEIGHTS_FP32, out, err);
}

nlp_status nlp_ctx_create_dtype(const nlp_model *model, int n_threads,
                                nlp_weight_type dtype, nlp_ctx **out, nlp_error *err)
{
    if (!out)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_ctx_create: out is NULL");
    *out = NULL;
    if (!model)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_ctx_create: model is NULL");
    const nlp_config *cfg = nlp_model_config(model);
    const nlp_weights *w = nlp_model_weights(model);
    if (!cfg || !w || !w->word_emb ||
        (!w->pos_emb && !cfg->pre_norm && !cfg->no_position_embeddings) || !w->emb_ln_g ||
        !w->emb_ln_b || (cfg->num_layers > 0 && !w->layers))
        return nlp_error_set(err, NLP_ERR_INTERNAL,
                             "nlp_ctx_create: model %s has no bound encoder weights",
                             nlp_model_dir(model) ? nlp_model_dir(model) : "?");
    if (cfg->pre_norm && (!w->final_ln_g || !cfg->ffn_gated || cfg->global_attn_every <= 0))
        return nlp_error_set(err, NLP_ERR_INTERNAL,
                             "nlp_ctx_create: model %s has no bound final LayerNorm or "
                             "gated feed-forward", nlp_model_dir(model) ? nlp_model_dir(model) : "?");
    if (cfg->hidden_size <= 0 || cfg->num_heads <= 0 ||
        cfg->hidden_size % cfg->num_heads != 0)
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "nlp_ctx_create: hidden size %d is not a multiple of "
                             "the %d attention heads", cfg->hidden_size, cfg->num_heads);
    if (dtype != NLP_WEIGHTS_FP32 && dtype != NLP_WEIGHTS_INT8 && dtype != NLP_WEIGHTS_BF16)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_ctx_create: unknown dtype %d", (int)dtype);
    if (dtype != NLP_WEIGHTS_FP32 && (cfg->intermediate_size > NLP_INT8_MAX_K ||
                                    cfg->hidden_size > NLP_INT8_MAX_K))
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                             "nlp_ctx_create: %s supports hidden and intermediate "
                             "sizes up to %d, the model has %d and %d",
                             dtype == NLP_WEIGHTS_INT8 ? "int8" : "bf16", NLP_INT8_MAX_K,
                             cfg->hidden_size, cfg->intermediate_size);
    nlp_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return nlp_error_set(err, NLP_ERR_NOMEM, "nlp_ctx_create: out of memory");
    ctx->dtype = dtype;
    ctx->model = model;
    ctx->cfg = cfg;
    ctx->w = w;
    ctx->pool = nlp_pool_create(n_threads);
    if (!ctx->pool) {
        free(ctx);
        return nlp_error_set(err, NLP_ERR_NOMEM,
                             "nlp_ctx_create: cannot start %d threads", n_threads);
    }
    nlp_status ps = nlp_model_packed(model, dtype, ctx->pool, &ctx->packed, err);
    if (ps != NLP_OK) {
        nlp_ctx_free(ctx);
        return ps;
    }
    ctx->relproj = nlp_model_rel_projected(model, dtype);
    *out = ctx;
    return NLP_OK;
}

void nlp_ctx_free(nlp_ctx *ctx)
{
    if (!ctx)
        return;
    nlp_pool_free(ctx->pool);
    free(ctx->arena);
    free(ctx->head);
    free(ctx);
}

int nlp_ctx_threads(const nlp_ctx *ctx)
{
    return ctx ? nlp_pool_threads(ctx->pool) : 0;
}

void nlp_linear(nlp_ctx *ctx, const float *x, size_t n, size_t in,
                const float *W, const float *bias, size_t out, float *y)
{
    nlp_sgemm(ctx ? ctx->pool : NULL, 1, n, out, in, x, in, W, in, bias, y, out);
}

/* Check the batch against the model; fills nothing. */
static nlp_status batch_check(const nlp_ctx *ctx, const nlp_batch *bt,
                              nlp_error *err)
{
    const nlp_config *cfg = ctx->cfg;
    if (!bt || !bt->ids || !bt->lengths)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "encoder: batch, ids or lengths is NULL");
    if (bt->batch == 0 || bt->seq == 0)
        return nlp_error_set(err, NLP_ERR_INPUT,
                             "encoder: empty batch (%zu rows of %zu tokens)",
                             bt->batch, bt->seq);
    if (bt->seq > nlp_model_max_tokens(ctx->model)) {
        if (cfg->position_offset == 0)
            return nlp_error_set(err, NLP_ERR_INPUT,
                                 "encoder: sequence length %zu exceeds "
                                 "max_position_embeddings %d",
                                 bt->seq, cfg->max_position_embeddings);
        return nlp_error_set(err, NLP_ERR_INPUT,
                             "encoder: sequence length %zu exceeds the %zu positions "
                             "of max_position_embeddings %d after the offset %d",
                             bt->seq, nlp_model_max_tokens(ctx->model),
                             cfg->max_position_embeddings, cfg->position_offset);
    }
    if (bt->batch > SIZE_MAX / bt->seq / ((size_t)cfg->intermediate_size + 8 *
                                          (size_t)cfg->hidden_size) / sizeof(float))
        return nlp_error_set(err, NLP_ERR_INPUT,
                             "encoder: batch %zu x %zu is too large",
                             bt->batch, bt->seq);
    const int check_types = ctx->w->type_emb && bt->type_ids;
    for (size_t b = 0; b < bt->batch; b++) {
        int32_t L = bt->lengths[b];
        if (L < 0 || (size_t)L > bt->seq)
            return nlp_error_set(err, NLP_ERR_INPUT,
                                 "encoder: batch row %zu has length %d, outside "
                                 "[0, %zu]", b, (int)L, bt->seq);
        for (size_t t = 0; t < (size_t)L; t++) {
            int32_t id = bt->ids[b * bt->seq + t];
            if (id < 0 || id >= cfg->vocab_size)
                return nlp_error_set(err, NLP_ERR_INPUT,
                                     "encoder: token id %d at batch row %zu, "
                                     "position %zu is outside the vocabulary "
                                     "(size %d)", (int)id, b, t, cfg->vocab_size);
            if (check_types) {
                int32_t ty = bt->type_ids[b * bt->seq + t];
                if (ty < 0 || ty >= cfg->type_vocab_size)
                    return nlp_error_set(err, NLP_ERR_INPUT,
                                         "encoder: token type id %d at batch row "
                                         "%zu, position %zu is outside [0, %d)",
                                         (int)ty, b, t, cfg->type_vocab_size);
            }
        }
    }
    return NLP_OK;
}

/* The pre-LayerNorm layers (ModernBERT) and the final LayerNorm over
 * the N packed rows of a->x, in place (see the top of this file). */
/* Up to this many windows long, a local layer computes every score on
 * the GEMM kernels and masks (nlp_attention_window_forward); longer rows
 * score only the window (nlp_attention_local_forward). */
enum { WINDOW_FULL_SCORES = 4 };

static void prenorm_layers(nlp_ctx *ctx, const nlp_batch *bt, size_t N)
{
    const nlp_config *cfg = ctx->cfg;
    const nlp_acts *a = &ctx->a;
    nlp_pool *pool = ctx->pool;
    const size_t H = (size_t)cfg->hidden_size, nh = (size_t)cfg->num_heads;
    const size_t I = (size_t)cfg->intermediate_size;
    const size_t ldff = ff_stride(cfg->ffn_gated ? 2 * I : I);   /* as arena_layout */
    const size_t half = H / nh / 2, T = bt->seq, cap = ctx->cap_seq;
    const size_t window = (size_t)cfg->local_attention / 2;
    const float eps = cfg->layer_norm_eps;
    for (int l = 0; l < cfg->num_layers; l++) {
        const nlp_layer_weights *lw = &ctx->w->layers[l];
        nlp_packed_b *const *pk = ctx->packed + (size_t)l * NLP_PK_COUNT;
        const int global = l % cfg->global_attn_every == 0;
        const float *h = a->x;                       /* [N][H] attention input */
        if (lw->ln1_g) {
            nlp_layernorm_forward(pool, a->ln1, NULL, NULL, a->x, lw->ln1_g, lw->ln1_b, N, H, eps);
            h = a->ln1;
        }
        dense(pool, pk[NLP_PK_QKV], N, h, H, lw->qkv_b, NLP_GEMM_ACT_NONE, NULL, a->qkv, 3 * H);
        const float *cs = a->rope + (global ? 0 : 2 * cap * half);
        nlp_rope_forward(pool, a->qkv, 3 * H, bt->lengths, a->offs, bt->batch, H, nh, cs,
                         cs + cap * half);
        if (global || T <= window + 1)               /* the window holds every key */
            nlp_attention_forward(pool, a->att, a->qkv, a->qkv + H, a->qkv + 2 * H, 3 * H,
                                  bt->lengths, a->offs, bt->batch, T, H, nh, a->scratch);
        else if (T <= WINDOW_FULL_SCORES * (2 * window + 1))
            nlp_attention_window_forward(pool, a->att, a->qkv, a->qkv + H, a->qkv + 2 * H,
                                         3 * H, bt->lengths, a->offs, bt->batch, T, H, nh,
                                         window, a->scratch);
        else
            nlp_attention_local_forward(pool, a->att, a->qkv, a->qkv + H, a->qkv + 2 * H,
                                        3 * H, bt->lengths, a->offs, bt->batch, T, H, nh,
                                        window, a->scratch);
        /* proj = x + att Wo^T (+ bo) */
        dense(pool, pk[NLP_PK_O], N, a->att, H, lw->o_b, NLP_GEMM_ACT_NONE, a->x, a->proj, H);
        nlp_layernorm_forward(pool, a->ln1, NULL, NULL, a->proj, lw->ln2_g, lw->ln2_b, N, H, eps);
        /* ff[N][2I] = ln Wi^T (+ bi), then act(input) * gate in its first I columns */
        dense(pool, pk[NLP_PK_FF1], N, a->ln1, H, lw->ff1_b, NLP_GEMM_ACT_NONE, NULL, a->ff, ldff);
        nlp_geglu_forward(pool, cfg->hidden_act, a->ff, ldff, N, I);
        /* x = proj + ff Wo^T (+ bo) */
        dense(pool, pk[NLP_PK_FF2], N, a->ff, ldff, lw->ff2_b, NLP_GEMM_ACT_NONE, a->proj, a->x, H);
    }
    nlp_layernorm_forward(pool, a->x, NULL, NULL, a->x, ctx->w->final_ln_g, ctx->w->final_ln_b,
                          N, H, eps);
}

nlp_status nlp_encoder_forward(nlp_ctx *ctx, const nlp_batch *batch,
                               const float **hidden, nlp_error *err)
{
    if (!ctx || !hidden)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_encoder_forward: ctx or hidden is NULL");
    *hidden = NULL;
    nlp_status st = batch_check(ctx, batch, err);
    if (st != NLP_OK)
        return st;
    const size_t B = batch->batch, T = batch->seq;
    st = arena_reserve(ctx, B, T, err);
    if (st != NLP_OK)
        return st;

    const nlp_config *cfg = ctx->cfg;
    const nlp_weights *w = ctx->w;
    const nlp_acts *a = &ctx->a;
    nlp_pool *pool = ctx->pool;
    const size_t H = (size_t)cfg->hidden_size;
    const size_t nh = (size_t)cfg->num_heads;
    const size_t ldff = ff_stride((size_t)cfg->intermediate_size);
    const float eps = cfg->layer_norm_eps;

    size_t N = 0;                                   /* packed tokens */
    for (size_t b = 0; b < B; b++) {
        a->offs[b] = N;
        N += (size_t)batch->lengths[b];
    }

    /* x[N][H] = LayerNorm(word + position (+ type)), projected from E to
     * H when the embeddings are narrower (ELECTRA; DeBERTa projects first
     * and normalises the [N][H] rows) */
    const size_t E = (size_t)cfg->embedding_size;
    float *e = w->proj_w ? a->emb : a->x;
    nlp_embeddings_forward(e, batch->ids, batch->type_ids, batch->lengths,
                           a->offs, B, T, w->word_emb, w->pos_emb,
                           w->type_emb, E, w->pos_pad);
    if (!cfg->emb_norm_after_proj)
        nlp_layernorm_forward(pool, e, a->mean, a->rstd, e, w->emb_ln_g,
                              w->emb_ln_b, N, E, eps);
    if (w->proj_w && N > 0)
        nlp_sgemm(pool, 1, N, H, E, e, E, w->proj_w, E, w->proj_b, a->x, H);
    if (cfg->emb_norm_after_proj)
        nlp_layernorm_forward(pool, a->x, a->mean, a->rstd, a->x, w->emb_ln_g,
                              w->emb_ln_b, N, H, eps);
    const int disentangled = cfg->rel.scale_factor > 0;
    if (disentangled)
        nlp_rel_index_table(&cfg->rel, T, a->relidx);

    for (size_t b = 0; b < B; b++)
        a->lens[b] = batch->lengths[b];
    ctx->last_B = B;
    ctx->last_T = T;
    if (cfg->pre_norm && N > 0)
        prenorm_layers(ctx, batch, N);
    /* MPNet: relbias[nh][2T-1], the relative bias every layer adds */
    const float *rel = NULL;
    if (w->rel_bias) {
        nlp_relbias_table(a->relbias, w->rel_bias, nh, T);
        rel = a->relbias;
    }
    const nlp_gemm_act act = cfg->hidden_act == NLP_ACT_GELU_TANH ? NLP_GEMM_ACT_GELU_TANH
                           : cfg->hidden_act == NLP_ACT_RELU ? NLP_GEMM_ACT_RELU
                           : NLP_GEMM_ACT_GELU;
    for (int l = 0; l < cfg->num_layers && N > 0 && !cfg->pre_norm; l++) {
        const nlp_layer_weights *lw = &w->layers[l];
        nlp_packed_b *const *pk = ctx->packed + (size_t)l * NLP_PK_COUNT;
        /* qkv[N][3H] = x [Wq | Wk | Wv]^T + [bq | bk | bv], one GEMM */
        dense(pool, pk[NLP_PK_QKV], N, a->x, H, lw->qkv_b, NLP_GEMM_ACT_NONE, NULL,
              a->qkv, 3 * H);
        if (disentangled) {
            nlp_disentangled d;
            nlp_disentangled_bind(cfg, ctx->relproj, (size_t)l, a->relidx, &d);
            nlp_disentangled_attention_forward(pool, a->att, a->qkv, a->qkv + H,
                                               a->qkv + 2 * H, 3 * H, &d, batch->lengths,
                                               a->offs, B, T, H, nh,
                                               (size_t)cfg->rel.span, a->scratch);
        } else {
            nlp_attention_bias_forward(pool, a->att, a->qkv, a->qkv + H, a->qkv + 2 * H, 3 * H,
                                       batch->lengths, a->offs, B, T, H, nh, rel, a->scratch);
        }
        /* ln1 = LayerNorm(att Wo^T + bo + x), bias and residual fused */
        dense(pool, pk[NLP_PK_O], N, a->att, H, lw->o_b, NLP_GEMM_ACT_NONE, a->x, a->proj, H);
        nlp_layernorm_forward(pool, a->ln1, a->mean, a->rstd, a->proj,
                              lw->ln1_g, lw->ln1_b, N, H, eps);
        /* ff = act(ln1 W1^T + b1), bias and activation fused */
        dense(pool, pk[NLP_PK_FF1], N, a->ln1, H, lw->ff1_b, act, NULL, a->ff, ldff);
        /* x = LayerNorm(ff W2^T + b2 + ln1) */
        dense(pool, pk[NLP_PK_FF2], N, a->ff, ldff, lw->ff2_b, NLP_GEMM_ACT_NONE, a->ln1, a->proj, H);
        nlp_layernorm_forward(pool, a->x, a->mean, a->rstd, a->proj,
                              lw->ln2_g, lw->ln2_b, N, H, eps);
    }

    /* out[B][T][H]: the packed rows back in place, zeros at padding */
    for (size_t b = 0; b < B; b++) {
        size_t L = (size_t)batch->lengths[b];
        float *o = a->out + b * T * H;
        memcpy(o, a->x + a->offs[b] * H, L * H * sizeof *o);
        memset(o + L * H, 0, (T - L) * H * sizeof *o);
    }
    *hidden = a->out;
    return NLP_OK;
}

nlp_status nlp_pooler_forward(nlp_ctx *ctx, const float *hidden, size_t B,
                              size_t T, float *out, nlp_error *err)
{
    if (!ctx || !hidden || !out)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_pooler_forward: ctx, hidden or out is NULL");
    if (!ctx->w->pool_w)
        return nlp_error_set(err, NLP_ERR_NOT_FOUND,
                             "%s: checkpoint has no pooler (pooler.dense.weight)",
                             nlp_model_dir(ctx->model));
    if (B == 0 || T == 0)
        return nlp_error_set(err, NLP_ERR_INPUT,
                             "nlp_pooler_forward: empty batch (%zu x %zu)", B, T);
    const size_t H = (size_t)ctx->cfg->hidden_size;
    /* out[B][H] = hidden[b][0] . W^T + bias, rows T*H apart */
    nlp_sgemm(ctx->pool, 1, B, H, H, hidden, T * H, ctx->w->pool_w, H,
              ctx->w->pool_b, out, H);
    for (size_t i = 0; i < B * H; i++)
        out[i] = tanhf(out[i]);
    return NLP_OK;
}

nlp_status nlp_mlm_head_forward(nlp_ctx *ctx, const float *rows, size_t n,
                                float *logits, nlp_error *err)
{
    if (!ctx)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_mlm_head_forward: ctx is NULL");
    return nlp_head_forward(ctx, NLP_HEAD_MLM, rows, n, (size_t)ctx->cfg->hidden_size,
                            logits, err);
}

/* The head's first projection over n rows (stride floats apart) into the
 * context's scratch, activated and normalised: t[n][D]. */
static nlp_status head_transform(nlp_ctx *ctx, const nlp_head_weights *hw, const float *rows,
                                 size_t n, size_t stride, float **t, nlp_error *err)
{
    const size_t H = (size_t)ctx->cfg->hidden_size, D = hw->D;
    if (n > SIZE_MAX / D / sizeof(float))
        return nlp_error_set(err, NLP_ERR_NOMEM, "head: %zu rows are too many", n);
    if (n * D > ctx->head_cap) {
        float *mem = NULL;
        if (posix_memalign((void **)&mem, ALIGN, n * D * sizeof(float)) != 0)
            return nlp_error_set(err, NLP_ERR_NOMEM, "head: cannot allocate %zu rows", n);
        free(ctx->head);
        ctx->head = mem;
        ctx->head_cap = n * D;
    }
    float *h = ctx->head;
    nlp_sgemm(ctx->pool, 1, n, D, H, rows, stride, hw->dense_w, H, hw->dense_b, h, D);
    switch (hw->act) {
    case NLP_HEAD_ACT_TANH:
        for (size_t i = 0; i < n * D; i++)
            h[i] = tanhf(h[i]);
        break;
    case NLP_HEAD_ACT_RELU:
        nlp_activation_forward(ctx->pool, NLP_ACT_RELU, h, h, n * D);
        break;
    case NLP_HEAD_ACT_GELU:
        nlp_activation_forward(ctx->pool, NLP_ACT_GELU, h, h, n * D);
        break;
    case NLP_HEAD_ACT_HIDDEN:
        nlp_activation_forward(ctx->pool, ctx->cfg->hidden_act, h, h, n * D);
        break;
    case NLP_HEAD_ACT_POOLER:
        nlp_activation_forward(ctx->pool, ctx->cfg->pooler_act, h, h, n * D);
        break;
    case NLP_HEAD_ACT_CLASSIFIER:
        nlp_activation_forward(ctx->pool, ctx->cfg->classifier_act, h, h, n * D);
        break;
    default:
        break;
    }
    if (hw->ln_g)
        nlp_layernorm_forward(ctx->pool, h, NULL, NULL, h, hw->ln_g, hw->ln_b, n, D,
                              ctx->cfg->layer_norm_eps);
    *t = h;
    return NLP_OK;
}

/* Mean pooling for the sequence head: the mean over the real tokens of
 * each of the n sequences of hidden (rows stride floats apart), into
 * a->pooled [n][H].  The lengths are the last forward pass's, so hidden
 * must be its output. */
static nlp_status mean_pool(nlp_ctx *ctx, const float *hidden, size_t n, size_t stride,
                            nlp_error *err)
{
    const size_t H = (size_t)ctx->cfg->hidden_size;
    if (hidden != ctx->a.out || n != ctx->last_B || stride != ctx->last_T * H)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_head_forward: mean pooling "
                             "(classifier_pooling \"mean\") needs the hidden states [B][T][H] "
                             "of this context's last nlp_encoder_forward");
    for (size_t b = 0; b < n; b++) {
        const size_t L = (size_t)ctx->a.lens[b];
        float *o = ctx->a.pooled + b * H;
        for (size_t i = 0; i < H; i++) {
            double s = 0.0;
            for (size_t t = 0; t < L; t++)
                s += hidden[b * stride + t * H + i];
            o[i] = L ? (float)(s / (double)L) : 0.0f;
        }
    }
    return NLP_OK;
}

nlp_status nlp_head_forward(nlp_ctx *ctx, nlp_head head, const float *rows, size_t n,
                            size_t stride, float *out, nlp_error *err)
{
    if (!ctx || !rows || !out)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_head_forward: ctx, rows or out is NULL");
    const size_t H = (size_t)ctx->cfg->hidden_size;
    if (stride < H)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_head_forward: row stride %zu is below the hidden size %zu",
                             stride, H);
    nlp_status st = nlp_model_head(ctx->model, head, NULL, err);
    if (st != NLP_OK || n == 0)
        return st;
    const nlp_head_weights *hw = &ctx->w->heads[head];
    if (head == NLP_HEAD_SEQ_CLS && ctx->cfg->classifier_pooling == NLP_POOLING_MEAN) {
        if ((st = mean_pool(ctx, rows, n, stride, err)) != NLP_OK)
            return st;
        rows = ctx->a.pooled;
        stride = H;
    }
    const float *x = rows;
    size_t ldx = stride;
    if (hw->dense_w) {
        float *t = NULL;
        if ((st = head_transform(ctx, hw, rows, n, stride, &t, err)) != NLP_OK)
            return st;
        x = t;
        ldx = hw->D;
    }
    /* out[n][C] = x . Wout^T + bout */
    nlp_sgemm(ctx->pool, 1, n, hw->C, hw->D, x, ldx, hw->out_w, hw->D, hw->out_b, out, hw->C);
    return NLP_OK;
}

void nlp_softmax(float *x, size_t n, size_t d)
{
    for (size_t r = 0; r < n; r++) {
        float *row = x + r * d;
        float mx = -INFINITY;
        for (size_t i = 0; i < d; i++)
            if (row[i] > mx)
                mx = row[i];
        double sum = 0.0;
        for (size_t i = 0; i < d; i++) {
            row[i] = expf(row[i] - mx);
            sum += row[i];
        }
        const float inv = (float)(1.0 / sum);
        for (size_t i = 0; i < d; i++)
            row[i] *= inv;
    }
}

void nlp_sigmoid(float *x, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        float v = x[i];
        if (v >= 0.0f) {
            x[i] = 1.0f / (1.0f + expf(-v));
        } else {
            float e = expf(v);
            x[i] = e / (1.0f + e);
        }
    }
}
