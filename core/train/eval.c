/*
 * eval.c - nlp_eval_run and the evaluation during training (see
 * nlp/train_run.h): the model's predictions over a dataset, scored with
 * nlp/metrics.h, as a report value.
 *
 *   SEQ_CLS    arg max of the logits (multi-label: logit > 0)
 *   TOKEN_CLS  arg max at the first sub-token of each word; words cut off
 *              by max_len count as "O"
 *   QA         the span s <= e < s + max_answer_len inside the context
 *              with the largest start + end logit over all windows, as
 *              Hugging Face's run_qa post-processing picks it
 *   MLM        the masked positions of the training recipe (seeded), and
 *              pseudo-perplexity: each token masked in turn
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/metrics.h"
#include "nlp/model.h"
#include "nlp/train_run.h"
#include "dataset_impl.h"
#include "train_impl.h"

typedef struct evalr {
    nlp_trainer *tr;
    const nlp_dataset *ds;
    const nlp_eval_opts *o;
    nlp_data_batch *b;
    float *out;                 /* predictions of one batch */
    size_t out_count;
    size_t *idx;                /* [batch_size] */
    double loss_sum;
    size_t loss_n;
} evalr;

void nlp_eval_opts_init(nlp_eval_opts *o, nlp_train_task task, const char *model,
                        const char *path)
{
    memset(o, 0, sizeof *o);
    o->task = task;
    o->model = model;
    nlp_dataset_opts_init(&o->data, task, path);
    o->batch_size = 32;
    o->seed = 42;
    o->pppl_limit = 100;
    o->max_answer_len = 30;
}

const char *nlp_eval_metric(nlp_train_task task, int *higher_better)
{
    *higher_better = task != NLP_TRAIN_MLM;
    switch (task) {
    case NLP_TRAIN_SEQ_CLS: return "accuracy";
    case NLP_TRAIN_TOKEN_CLS: return "f1";
    case NLP_TRAIN_QA: return "f1";
    case NLP_TRAIN_MLM: default: return "loss";
    }
}

/* Run batch k (sequences k B ..) through the model; *tb is the batch. */
static nlp_status predict(evalr *e, size_t k, const nlp_train_batch **tb, nlp_error *err)
{
    const size_t B = e->o->batch_size, n = e->ds->seqs.n, a = k * B;
    const size_t cnt = a + B <= n ? B : n - a;
    for (size_t i = 0; i < cnt; i++)
        e->idx[i] = a + i;
    nlp_status st = nlp_dataset_batch(e->ds, e->idx, cnt, e->o->seed, k, e->b, tb, err);
    float loss = 0.0f;
    if (st == NLP_OK)
        st = nlp_trainer_predict(e->tr, *tb, e->out, e->out_count, &loss, err);
    if (st == NLP_OK) {
        e->loss_sum += (double)loss * (double)cnt;
        e->loss_n += cnt;
    }
    return st;
}

static size_t argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

static void set_num(nlp_value *o, const char *k, double x)
{
    nlp_value_set(o, k, nlp_value_number_new(x));
}

static nlp_value *score_value(const nlp_metrics_score *s)
{
    nlp_value *v = nlp_value_object();
    set_num(v, "precision", s->precision);
    set_num(v, "recall", s->recall);
    set_num(v, "f1", s->f1);
    nlp_value_set(v, "support", nlp_value_int_new((int64_t)s->support));
    return v;
}

/* ------------------------------------------------------------ classification */

void nlp_eval_class_report(nlp_value *rep, const nlp_metrics_class_report *cr,
                           const char *const *names, int multi)
{
    set_num(rep, multi ? "subset_accuracy" : "accuracy", cr->accuracy);
    if (multi)
        set_num(rep, "micro_f1", cr->micro.f1);
    set_num(rep, "macro_f1", cr->macro.f1);
    set_num(rep, "macro_precision", cr->macro.precision);
    set_num(rep, "macro_recall", cr->macro.recall);
    nlp_value *per = nlp_value_object();
    for (int c = 0; c < cr->num_labels; c++)
        nlp_value_set(per, names[c], score_value(&cr->labels[c]));
    nlp_value_set(rep, "per_label", per);
}

static nlp_status eval_cls(evalr *e, nlp_value *rep, nlp_error *err)
{
    const nlp_dataset *ds = e->ds;
    const size_t n = ds->seqs.n, C = ds->n_labels, B = e->o->batch_size;
    const int multi = ds->o.multi_label;
    int32_t *gold = malloc(n * sizeof *gold), *pred = malloc(n * sizeof *pred);
    uint8_t *gm = multi ? calloc(n * C, 1) : NULL, *pm = multi ? calloc(n * C, 1) : NULL;
    nlp_status st = gold && pred && (!multi || (gm && pm))
                        ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "eval: out of memory");
    for (size_t k = 0; st == NLP_OK && k * B < n; k++) {
        const nlp_train_batch *tb;
        st = predict(e, k, &tb, err);
        for (size_t r = 0; st == NLP_OK && r < tb->in.batch; r++) {
            const size_t i = k * B + r;
            const float *lg = e->out + r * C;
            gold[i] = DS_AT(ds->seqs, ds_seq, i).label;
            pred[i] = (int32_t)argmax(lg, C);
            for (size_t c = 0; multi && c < C; c++) {
                gm[i * C + c] = tb->targets[r * C + c] > 0.5f;
                pm[i * C + c] = lg[c] > 0.0f;
            }
        }
    }
    nlp_metrics_class_report *cr = NULL;
    if (st == NLP_OK)
        st = multi ? nlp_metrics_multilabel(gm, pm, n, (int)C, &cr, err)
                   : nlp_metrics_classification(gold, pred, n, (int)C, &cr, err);
    if (st == NLP_OK)
        nlp_eval_class_report(rep, cr, (const char *const *)ds->labels, multi);
    nlp_metrics_class_report_free(cr);
    free(gold), free(pred), free(gm), free(pm);
    return st;
}

/* ------------------------------------------------------------ entities */

/* Gold and predicted tags of sentence i into g[], p[] (words of it). */
static nlp_status ner_sentence(evalr *e, nlp_metrics_entities *m, size_t i, const float *lg,
                               size_t T, const char **g, const char **p, nlp_error *err)
{
    const nlp_dataset *ds = e->ds;
    const ds_seq *s = &DS_AT(ds->seqs, ds_seq, i);
    const size_t a = DS_AT(ds->gold_off, size_t, s->example);
    const size_t nw = DS_AT(ds->gold_off, size_t, s->example + 1) - a, C = ds->n_labels;
    for (size_t w = 0; w < nw; w++) {
        g[w] = ds->labels[DS_AT(ds->gold, int32_t, a + w)];
        p[w] = "O";
    }
    for (size_t t = 0; t < s->len && t < T; t++) {
        const int32_t w = DS_AT(ds->word, int32_t, s->off + t);
        if (w >= 0 && (size_t)w < nw)
            p[w] = ds->labels[argmax(lg + t * C, C)];
    }
    return nlp_metrics_entities_add(m, g, p, nw, err);
}

static void entity_report(const nlp_metrics_entity_report *er, nlp_value *rep)
{
    set_num(rep, "precision", er->micro.precision);
    set_num(rep, "recall", er->micro.recall);
    set_num(rep, "f1", er->micro.f1);
    set_num(rep, "accuracy", er->token_accuracy);
    nlp_value *per = nlp_value_object();
    for (size_t t = 0; t < er->num_types; t++)
        nlp_value_set(per, er->types[t].name, score_value(&er->types[t].score));
    nlp_value_set(rep, "per_type", per);
}

static nlp_status eval_ner(evalr *e, nlp_value *rep, nlp_error *err)
{
    const nlp_dataset *ds = e->ds;
    const size_t n = ds->seqs.n, B = e->o->batch_size;
    size_t most = 0;
    for (size_t x = 0; x + 1 < ds->gold_off.n; x++) {
        size_t w = DS_AT(ds->gold_off, size_t, x + 1) - DS_AT(ds->gold_off, size_t, x);
        most = w > most ? w : most;
    }
    const char **g = malloc((most + 1) * sizeof *g), **p = malloc((most + 1) * sizeof *p);
    nlp_metrics_entities *m = NULL;
    nlp_status st = g && p ? nlp_metrics_entities_create(&m, err)
                           : nlp_error_set(err, NLP_ERR_NOMEM, "eval: out of memory");
    for (size_t k = 0; st == NLP_OK && k * B < n; k++) {
        const nlp_train_batch *tb;
        st = predict(e, k, &tb, err);
        const size_t T = st == NLP_OK ? tb->in.seq : 0;
        for (size_t r = 0; st == NLP_OK && r < tb->in.batch; r++)
            st = ner_sentence(e, m, k * B + r, e->out + r * T * ds->n_labels, T, g, p, err);
    }
    nlp_metrics_entity_report *er = NULL;
    if (st == NLP_OK)
        st = nlp_metrics_entities_report(m, &er, err);
    if (st == NLP_OK)
        entity_report(er, rep);
    nlp_metrics_entity_report_free(er);
    nlp_metrics_entities_free(m);
    free(g), free(p);
    return st;
}

/* ------------------------------------------------------------ QA */

typedef struct qa_best {
    double score;
    int32_t a, z;               /* byte range in the context; a < 0: none */
} qa_best;

/* The best span of window i (start logits s[T], end logits e[T]) into *q. */
static void qa_window(const evalr *ev, size_t i, const float *s, const float *e, qa_best *q)
{
    const nlp_dataset *ds = ev->ds;
    const ds_seq *sq = &DS_AT(ds->seqs, ds_seq, i);
    const int32_t *cs = &DS_AT(ds->cstart, int32_t, sq->off);
    const int32_t *ce = &DS_AT(ds->cend, int32_t, sq->off);
    for (size_t a = 0; a < sq->len; a++) {
        if (cs[a] < 0)
            continue;
        for (size_t z = a; z < sq->len && z < a + ev->o->max_answer_len && ce[z] >= 0; z++) {
            const double sc = (double)s[a] + (double)e[z];
            if (q->a < 0 || sc > q->score)
                *q = (qa_best){sc, cs[a], ce[z]};
        }
    }
}

static nlp_status qa_score(evalr *e, nlp_metrics_squad *acc, uint32_t question,
                           const qa_best *q, nlp_error *err)
{
    const nlp_dataset *ds = e->ds;
    const ds_question *dq = &DS_AT(ds->questions, ds_question, question);
    const char *ctx = DS_STR(ds, dq->context);
    char *pred = malloc(q->a >= 0 ? (size_t)(q->z - q->a) + 1 : 1);
    const char **ans = malloc((dq->ans_n ? dq->ans_n : 1) * sizeof *ans);
    if (!pred || !ans) {
        free(pred), free(ans);
        return nlp_error_set(err, NLP_ERR_NOMEM, "eval: out of memory");
    }
    size_t len = q->a >= 0 ? (size_t)(q->z - q->a) : 0;
    memcpy(pred, ctx + (q->a >= 0 ? q->a : 0), len);
    pred[len] = '\0';
    for (uint32_t k = 0; k < dq->ans_n; k++)
        ans[k] = DS_STR(ds, DS_AT(ds->answers, size_t, dq->ans_off + k));
    /* a question without gold answers (SQuAD v2.0) is right when empty */
    static const char *const empty[] = {""};
    nlp_status st = nlp_metrics_squad_add(acc, pred, dq->ans_n ? ans : empty,
                                          dq->ans_n ? dq->ans_n : 1, err);
    free(pred), free(ans);
    return st;
}

static nlp_status eval_qa(evalr *e, nlp_value *rep, nlp_error *err)
{
    const nlp_dataset *ds = e->ds;
    const size_t n = ds->seqs.n, B = e->o->batch_size;
    nlp_metrics_squad acc = {0};
    qa_best q = {0, -1, -1};
    uint32_t cur = 0;
    nlp_status st = NLP_OK;
    for (size_t k = 0; st == NLP_OK && k * B < n; k++) {
        const nlp_train_batch *tb;
        st = predict(e, k, &tb, err);
        const size_t Bk = st == NLP_OK ? tb->in.batch : 0, T = st == NLP_OK ? tb->in.seq : 0;
        for (size_t r = 0; st == NLP_OK && r < Bk; r++) {
            const uint32_t ex = DS_AT(ds->seqs, ds_seq, k * B + r).example;
            if (ex != cur) {
                st = qa_score(e, &acc, cur, &q, err);
                q = (qa_best){0, -1, -1};
                cur = ex;
            }
            qa_window(e, k * B + r, e->out + r * T, e->out + Bk * T + r * T, &q);
        }
    }
    if (st == NLP_OK)
        st = qa_score(e, &acc, cur, &q, err);
    double em, f1;
    nlp_metrics_squad_totals(&acc, &em, &f1);
    set_num(rep, "exact_match", em);
    set_num(rep, "f1", f1);
    return st;
}

/* ------------------------------------------------------------ MLM */

/* Top-1 / top-5 hits of the masked positions of one batch. */
static void mlm_hits(const evalr *e, const nlp_train_batch *tb, size_t *n, size_t *top1,
                     size_t *top5)
{
    const size_t V = e->ds->V, T = tb->in.seq;
    size_t m = 0;
    for (size_t r = 0; r < tb->in.batch; r++)
        for (size_t t = 0; t < (size_t)tb->in.lengths[r]; t++) {
            const int32_t y = tb->labels[r * T + t];
            if (y == NLP_IGNORE_INDEX)
                continue;
            const float *lg = e->out + m++ * V;
            size_t above = 0;
            for (size_t v = 0; v < V && above < 5; v++)
                above += lg[v] > lg[y];
            *top1 += above == 0;
            *top5 += above < 5;
            (*n)++;
        }
}

/* Pseudo-log-likelihood of sequence i: each ordinary token masked in
 * turn, B variants per forward pass.  Adds to *nll and *count. */
static nlp_status pseudo_ll(evalr *e, size_t i, int32_t *ids, int32_t *labels, int32_t *lens,
                            double *nll, size_t *count, nlp_error *err)
{
    const nlp_dataset *ds = e->ds;
    const ds_seq *s = &DS_AT(ds->seqs, ds_seq, i);
    const int32_t *src = &DS_AT(ds->ids, int32_t, s->off);
    const size_t T = s->len, B = e->o->batch_size, V = ds->V;
    size_t t = 0;
    while (t < T) {
        size_t r = 0;
        for (; r < B && t < T; t++) {
            if (ds->special[src[t]])
                continue;
            memcpy(ids + r * T, src, T * sizeof *ids);
            for (size_t u = 0; u < T; u++)
                labels[r * T + u] = NLP_IGNORE_INDEX;
            ids[r * T + t] = ds->mask;
            labels[r * T + t] = src[t];
            lens[r++] = (int32_t)T;
        }
        if (r == 0)
            break;
        nlp_train_batch tb = {{r, T, ids, NULL, lens}, labels, NULL, NULL, NULL};
        nlp_status st = nlp_trainer_predict(e->tr, &tb, e->out, e->out_count, NULL, err);
        if (st != NLP_OK)
            return st;
        for (size_t k = 0; k < r; k++) {
            const float *lg = e->out + k * V;
            int32_t y = 0;
            for (size_t u = 0; u < T; u++)
                if (labels[k * T + u] != NLP_IGNORE_INDEX)
                    y = labels[k * T + u];
            double mx = lg[argmax(lg, V)], z = 0.0;
            for (size_t v = 0; v < V; v++)
                z += exp((double)lg[v] - mx);
            *nll += log(z) + mx - lg[y];
            (*count)++;
        }
    }
    return NLP_OK;
}

static nlp_status eval_mlm(evalr *e, nlp_value *rep, nlp_error *err)
{
    const nlp_dataset *ds = e->ds;
    const size_t n = ds->seqs.n, B = e->o->batch_size, T = ds->max_seq;
    size_t cnt = 0, top1 = 0, top5 = 0, pcount = 0;
    nlp_status st = NLP_OK;
    for (size_t k = 0; st == NLP_OK && k * B < n; k++) {
        const nlp_train_batch *tb;
        st = predict(e, k, &tb, err);
        if (st == NLP_OK)
            mlm_hits(e, tb, &cnt, &top1, &top5);
    }
    int32_t *ids = malloc(B * T * sizeof *ids), *lab = malloc(B * T * sizeof *lab);
    int32_t *lens = malloc(B * sizeof *lens);
    if (st == NLP_OK && (!ids || !lab || !lens))
        st = nlp_error_set(err, NLP_ERR_NOMEM, "eval: out of memory");
    double nll = 0.0;
    const size_t lim = e->o->pppl_limit < n ? e->o->pppl_limit : n;
    for (size_t i = 0; st == NLP_OK && i < lim; i++)
        st = pseudo_ll(e, i, ids, lab, lens, &nll, &pcount, err);
    free(ids), free(lab), free(lens);
    const double loss = e->loss_n ? e->loss_sum / (double)e->loss_n : 0.0;
    set_num(rep, "top1_accuracy", cnt ? (double)top1 / (double)cnt : 0.0);
    set_num(rep, "top5_accuracy", cnt ? (double)top5 / (double)cnt : 0.0);
    set_num(rep, "masked_tokens", (double)cnt);
    set_num(rep, "perplexity", exp(loss));
    set_num(rep, "pseudo_perplexity", pcount ? exp(nll / (double)pcount) : 0.0);
    set_num(rep, "pseudo_perplexity_tokens", (double)pcount);
    return st;
}

/* ------------------------------------------------------------ entry points */

nlp_status nlp_eval_with(nlp_trainer *tr, const nlp_dataset *ds, const nlp_eval_opts *o,
                         nlp_value **report, nlp_error *err)
{
    *report = NULL;
    evalr e = {tr, ds, o, NULL, NULL, 0, NULL, 0.0, 0};
    const size_t B = o->batch_size, T = ds->max_seq ? ds->max_seq : 1;
    const size_t C = ds->n_labels ? ds->n_labels : 1;
    const size_t per[4] = {nlp_dataset_max_masked(ds, B) * ds->V, B * C, B * T * C, 2 * B * T};
    e.out_count = per[o->task];
    if (o->task == NLP_TRAIN_MLM && B * ds->V > e.out_count)
        e.out_count = B * ds->V;
    e.out = malloc(e.out_count * sizeof *e.out);
    e.idx = malloc(B * sizeof *e.idx);
    nlp_value *rep = nlp_value_object();
    nlp_status st = e.out && e.idx && rep ? nlp_data_batch_create(ds, B, &e.b, err)
                                          : nlp_error_set(err, NLP_ERR_NOMEM, "eval: out of memory");
    static const char *const names[4] = {"mlm", "classification", "ner", "qa"};
    if (st == NLP_OK) {
        nlp_value_set(rep, "task", nlp_value_string_new(names[o->task], strlen(names[o->task])));
        nlp_value_set(rep, "examples", nlp_value_int_new((int64_t)ds->n_examples));
        st = o->task == NLP_TRAIN_SEQ_CLS   ? eval_cls(&e, rep, err)
             : o->task == NLP_TRAIN_TOKEN_CLS ? eval_ner(&e, rep, err)
             : o->task == NLP_TRAIN_QA        ? eval_qa(&e, rep, err)
                                              : eval_mlm(&e, rep, err);
    }
    if (st == NLP_OK && o->task != NLP_TRAIN_QA)
        set_num(rep, "loss", e.loss_n ? e.loss_sum / (double)e.loss_n : 0.0);
    nlp_data_batch_free(e.b);
    free(e.out), free(e.idx);
    if (st != NLP_OK)
        nlp_value_free(rep);
    else
        *report = rep;
    return st;
}

nlp_status nlp_eval_run(const nlp_eval_opts *o, nlp_value **report, nlp_error *err)
{
    *report = NULL;
    if (!o || !o->model || !o->data.path || o->batch_size == 0)
        return nlp_error_set(err, NLP_ERR_USAGE, "evaluation needs a model, data and a batch "
                             "size of at least 1");
    if (o->zero_shot_labels)
        return nlp_eval_zero_shot(o, report, err);
    nlp_model *model = NULL;
    nlp_tokenizer *tok = NULL;
    nlp_dataset *ds = NULL;
    nlp_trainer *tr = NULL;
    nlp_status st = nlp_model_load(o->model, &model, err);
    if (st == NLP_OK)
        st = nlp_tokenizer_load(o->model, &tok, err);
    nlp_dataset_opts d = o->data;
    d.task = o->task;
    const nlp_config *cfg = model ? nlp_model_config(model) : NULL;
    if (cfg && (o->task == NLP_TRAIN_SEQ_CLS || o->task == NLP_TRAIN_TOKEN_CLS)) {
        d.labels = (const char *const *)cfg->id2label;
        d.n_labels = (size_t)cfg->num_labels;
    }
    if (st == NLP_OK)
        st = nlp_dataset_fit_model(&d, cfg, err);
    if (st == NLP_OK)
        st = nlp_dataset_load(&d, tok, &ds, err);
    nlp_train_options t;
    nlp_train_options_init(&t);
    t.task = o->task;
    t.multi_label = o->data.multi_label;
    t.max_batch = o->batch_size;
    t.threads = o->threads;
    if (ds) {
        t.max_seq = nlp_dataset_max_seq(ds);
        t.max_masked = nlp_dataset_max_masked(ds, o->batch_size);
        if (t.max_masked < o->batch_size)
            t.max_masked = o->batch_size;
    }
    if (st == NLP_OK)
        st = nlp_trainer_create(model, &t, &tr, err);
    if (st == NLP_OK)
        st = nlp_eval_with(tr, ds, o, report, err);
    nlp_trainer_free(tr);
    nlp_dataset_free(ds);
    nlp_tokenizer_free(tok);
    nlp_model_free(model);
    return st;
}
