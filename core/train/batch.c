/*
 * batch.c - padded micro-batches from an nlp_dataset (see nlp/dataset.h),
 * with masked-LM masking as Hugging Face's DataCollatorForLanguageModeling
 * does it: each ordinary token is chosen with probability mask_prob (with
 * whole_word, each word, all its sub-tokens together); a chosen token is
 * labelled with its id and replaced by [MASK] 80% of the time, by a random
 * token 10%, kept 10%.  Choices come from a counter-based generator keyed
 * by (seed, draw, row, position), so a batch never depends on what came
 * before it.
 */
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "dataset_impl.h"

struct nlp_data_batch {
    size_t max_batch, T, C;
    int32_t *ids, *types, *lengths, *labels;   /* [B][T], [B][T], [B], [B][T] */
    int32_t *start, *end;                       /* [B] */
    float *targets;                             /* [B][C] */
    nlp_train_batch tb;
};

size_t nlp_dataset_max_masked(const nlp_dataset *ds, size_t max_batch)
{
    const size_t all = max_batch * ds->max_seq;
    const size_t m = (size_t)((double)all * ds->o.mask_prob * 1.5) + 16;
    return m < all ? m : all;
}

nlp_status nlp_data_batch_create(const nlp_dataset *ds, size_t max_batch, nlp_data_batch **out,
                                 nlp_error *err)
{
    *out = NULL;
    if (!ds || max_batch == 0)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_data_batch_create: bad arguments");
    nlp_data_batch *b = calloc(1, sizeof *b);
    if (!b)
        return nlp_error_set(err, NLP_ERR_NOMEM, "batch: out of memory");
    b->max_batch = max_batch;
    b->T = ds->max_seq ? ds->max_seq : 1;
    b->C = ds->n_labels ? ds->n_labels : 1;
    const size_t BT = max_batch * b->T;
    b->ids = malloc(BT * sizeof *b->ids);
    b->types = malloc(BT * sizeof *b->types);
    b->labels = malloc(BT * sizeof *b->labels);
    b->lengths = malloc(max_batch * sizeof *b->lengths);
    b->start = malloc(max_batch * sizeof *b->start);
    b->end = malloc(max_batch * sizeof *b->end);
    b->targets = malloc(max_batch * b->C * sizeof *b->targets);
    if (!b->ids || !b->types || !b->labels || !b->lengths || !b->start || !b->end ||
        !b->targets) {
        nlp_data_batch_free(b);
        return nlp_error_set(err, NLP_ERR_NOMEM, "batch: out of memory");
    }
    *out = b;
    return NLP_OK;
}

void nlp_data_batch_free(nlp_data_batch *b)
{
    if (!b)
        return;
    free(b->ids), free(b->types), free(b->labels), free(b->lengths);
    free(b->start), free(b->end), free(b->targets);
    free(b);
}

/* A uniform double in [0, 1) for (key, row, pos, what). */
static double uniform(uint64_t key, size_t row, size_t pos, unsigned what)
{
    uint64_t h = nlp_splitmix64(key ^ nlp_splitmix64(((uint64_t)row << 40) ^ ((uint64_t)pos << 2) ^ what));
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* Mask row r of the batch (ids and labels [T]); returns the masked count,
 * never more than room. */
static size_t mask_row(const nlp_dataset *ds, uint64_t key, size_t r, int32_t *ids,
                       int32_t *labels, size_t len, size_t room)
{
    size_t n = 0;
    int chosen = 0;
    for (size_t t = 0; t < len; t++) {
        const int32_t id = ids[t];
        labels[t] = NLP_IGNORE_INDEX;
        if (ds->special[id]) {
            chosen = 0;
            continue;
        }
        /* a word's first token decides for the whole word */
        if (!ds->o.whole_word || !ds->cont[id] || t == 0)
            chosen = uniform(key, r, t, 0) < ds->o.mask_prob;
        if (!chosen || n == room)
            continue;
        labels[t] = id;
        n++;
        const double u = uniform(key, r, t, 1);
        if (u < 0.8)
            ids[t] = ds->mask;
        else if (u < 0.9)
            ids[t] = (int32_t)(uniform(key, r, t, 2) * (double)ds->V);
    }
    return n;
}

/* Row r of the batch from sequence s. */
static void fill_row(const nlp_dataset *ds, nlp_data_batch *b, size_t r, const ds_seq *s,
                     size_t T)
{
    int32_t *ids = b->ids + r * T, *ty = b->types + r * T, *lab = b->labels + r * T;
    const int32_t *src = &DS_AT(ds->ids, int32_t, s->off);
    memcpy(ids, src, s->len * sizeof *ids);
    for (size_t t = s->len; t < T; t++)
        ids[t] = ds->pad;
    if (ds->types.n)
        memcpy(ty, &DS_AT(ds->types, int32_t, s->off), s->len * sizeof *ty);
    else
        memset(ty, 0, s->len * sizeof *ty);
    memset(ty + s->len, 0, (T - s->len) * sizeof *ty);
    b->lengths[r] = (int32_t)s->len;
    if (ds->task == NLP_TRAIN_TOKEN_CLS || ds->task == NLP_TRAIN_MLM) {
        /* [T] labels: token classification's own, masked-LM's set by
         * mask_row; padding is ignored either way */
        if (ds->task == NLP_TRAIN_TOKEN_CLS)
            memcpy(lab, &DS_AT(ds->tlab, int32_t, s->off), s->len * sizeof *lab);
        for (size_t t = s->len; t < T; t++)
            lab[t] = NLP_IGNORE_INDEX;
    }
    b->start[r] = s->label;
    b->end[r] = s->label2;
    if (ds->task == NLP_TRAIN_SEQ_CLS) {
        b->labels[r] = s->label;
        float *tg = b->targets + r * b->C;
        memset(tg, 0, b->C * sizeof *tg);
        for (uint32_t k = 0; k < s->lab_n; k++)
            tg[DS_AT(ds->mlab, int32_t, s->lab_off + k)] = 1.0f;
    }
}

nlp_status nlp_dataset_batch(const nlp_dataset *ds, const size_t *idx, size_t n, uint64_t seed,
                             uint64_t draw, nlp_data_batch *b, const nlp_train_batch **out,
                             nlp_error *err)
{
    if (!ds || !b || !idx || n == 0 || n > b->max_batch)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "nlp_dataset_batch: %zu sequences for a batch of at most %zu", n,
                             b ? b->max_batch : 0);
    size_t T = 1;
    for (size_t r = 0; r < n; r++) {
        if (idx[r] >= ds->seqs.n)
            return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                                 "nlp_dataset_batch: sequence %zu of %zu", idx[r], ds->seqs.n);
        const ds_seq *s = &DS_AT(ds->seqs, ds_seq, idx[r]);
        if (s->len > T)
            T = s->len;
    }
    for (size_t r = 0; r < n; r++)
        fill_row(ds, b, r, &DS_AT(ds->seqs, ds_seq, idx[r]), T);
    if (ds->task == NLP_TRAIN_MLM) {
        const uint64_t key = nlp_splitmix64(seed ^ nlp_splitmix64(draw));
        size_t room = nlp_dataset_max_masked(ds, b->max_batch);
        for (size_t r = 0; r < n; r++)
            room -= mask_row(ds, key, r, b->ids + r * T, b->labels + r * T, (size_t)b->lengths[r],
                             room);
    }
    nlp_train_batch *tb = &b->tb;
    memset(tb, 0, sizeof *tb);
    tb->in = (nlp_batch){n, T, b->ids, ds->types.n ? b->types : NULL, b->lengths};
    tb->labels = b->labels;
    tb->targets = b->targets;
    tb->start_positions = b->start;
    tb->end_positions = b->end;
    *out = tb;
    return NLP_OK;
}
