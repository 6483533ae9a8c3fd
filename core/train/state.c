/*
 * state.c - a trainer's optimizer state on disk, so a killed run resumes
 * exactly: optimizer.safetensors holds each parameter's AdamW moments as
 * NAME.exp_avg / NAME.exp_avg_sq (F32, the parameter's shape) and the
 * counters (optimizer steps, micro-batches) as nlp.counters (I64 [2]).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h"
#include "nlp/checkpoint.h"
#include "nlp/train.h"
#include "train_impl.h"

static const char *const SUFFIX[2] = {".exp_avg", ".exp_avg_sq"};

nlp_status nlp_trainer_save_state(nlp_trainer *tr, const char *path, nlp_error *err)
{
    if (!tr || !path)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_trainer_save_state: bad arguments");
    const size_t n = nlp_trainer_num_tensors(tr), nt = 2 * n + 1;
    nlp_tensor_desc *d = calloc(nt, sizeof *d);
    char **names = calloc(2 * n + 1, sizeof *names);
    nlp_status st = d && names ? NLP_OK
                               : nlp_error_set(err, NLP_ERR_NOMEM, "trainer state: out of memory");
    int64_t counters[2] = {0, 0};
    for (size_t i = 0; st == NLP_OK && i < n; i++) {
        const char *name;
        float *val, *mv[2];
        int ndim, *step;
        int64_t shape[2];
        uint64_t *micro;
        nlp_trainer_tensor(tr, i, &name, &val, NULL, &ndim, shape, NULL);
        nlp_trainer_state(tr, i, &mv[0], &mv[1], &step, &micro);
        counters[0] = *step;
        counters[1] = (int64_t)*micro;
        for (int k = 0; k < 2; k++) {
            nlp_tensor_desc *t = &d[2 * i + (size_t)k];
            names[2 * i + (size_t)k] = malloc(strlen(name) + 16);
            if (!names[2 * i + (size_t)k]) {
                st = nlp_error_set(err, NLP_ERR_NOMEM, "trainer state: out of memory");
                break;
            }
            sprintf(names[2 * i + (size_t)k], "%s%s", name, SUFFIX[k]);
            *t = (nlp_tensor_desc){names[2 * i + (size_t)k], NLP_DT_F32, ndim,
                                   {shape[0], shape[1]}, mv[k], NULL, NULL};
        }
    }
    if (st == NLP_OK) {
        d[2 * n] = (nlp_tensor_desc){"nlp.counters", NLP_DT_I64, 1, {2}, counters, NULL, NULL};
        static const nlp_tensor_meta meta[] = {{"format", "nlp-trainer-state-1"}};
        st = nlp_safetensors_write(path, d, nt, meta, 1, err);
    }
    for (size_t i = 0; names && i < 2 * n; i++)
        free(names[i]);
    free(names);
    free(d);
    return st;
}

/* Copy tensor name into dst[count] after checking it has that size. */
static nlp_status load_one(const nlp_st *s, const char *name, float *dst, size_t count,
                           nlp_error *err)
{
    const nlp_st_tensor *t = nlp_st_find(s, name);
    if (!t)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: no tensor %s", s->source, name);
    if (t->dtype != NLP_DT_F32 || (size_t)t->numel != count)
        return nlp_error_set(err, NLP_ERR_SHAPE, "%s: %s has %lld values, the trainer %zu",
                             s->source, name, (long long)t->numel, count);
    memcpy(dst, t->data, count * sizeof *dst);
    return NLP_OK;
}

nlp_status nlp_trainer_load_state(nlp_trainer *tr, const char *path, nlp_error *err)
{
    if (!tr || !path)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_trainer_load_state: bad arguments");
    nlp_st *s;
    nlp_status st = nlp_st_open(path, &s, err);
    if (st != NLP_OK)
        return st;
    const nlp_st_tensor *c = nlp_st_find(s, "nlp.counters");
    if (!c || c->dtype != NLP_DT_I64 || c->numel != 2) {
        nlp_st_close(s);
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: not a trainer state (no nlp.counters)",
                             path);
    }
    int *step = NULL;
    uint64_t *micro = NULL;
    char name[160];
    for (size_t i = 0; st == NLP_OK && i < nlp_trainer_num_tensors(tr); i++) {
        const char *tn;
        float *val, *mv[2];
        int ndim;
        int64_t shape[2];
        nlp_trainer_tensor(tr, i, &tn, &val, NULL, &ndim, shape, NULL);
        nlp_trainer_state(tr, i, &mv[0], &mv[1], &step, &micro);
        const size_t count = (size_t)shape[0] * (size_t)(ndim > 1 ? shape[1] : 1);
        for (int k = 0; st == NLP_OK && k < 2; k++) {
            snprintf(name, sizeof name, "%s%s", tn, SUFFIX[k]);
            st = load_one(s, name, mv[k], count, err);
        }
    }
    if (st == NLP_OK && step) {
        int64_t v[2];
        memcpy(v, c->data, sizeof v);
        *step = (int)v[0];
        *micro = (uint64_t)v[1];
    }
    nlp_st_close(s);
    return st;
}
