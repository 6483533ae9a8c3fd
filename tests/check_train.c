/*
 * check_train.c - whole training runs against PyTorch.
 *
 * tests/gen/gen_train_run.py trains fixture checkpoints for 50 optimizer
 * steps in PyTorch (torch.optim.AdamW, linear warm-up and decay, global
 * norm clipping, gradient accumulation, dropout off) and records each
 * micro-batch's loss and the final weights (data/expected/train/).  The
 * trainer runs the same batches with the same hyperparameters: every loss
 * must agree within 1e-4 relative, and every final tensor within 1e-4 of
 * its largest value.  The exception are the tensors the generator lists
 * as noise-driven (gradient zero in exact arithmetic, such as the key
 * bias): AdamW turns rounding noise into steps of about the learning
 * rate, so for them only |got - want| <= 3.2 * (sum of the learning
 * rates) is required, the most AdamW's normalised step can move them
 * ((1 - beta1) / sqrt(1 - beta2) per unit of rate); their gradients are
 * checked by check_backward.  Also: with dropout on, two runs with one seed give
 * identical weights, on 1 and on 2 threads, and bad batches are refused.
 * nlp_trainer_save writes exactly the tensor names the Hugging Face class
 * saves (listed by the generator from torch_ref.py), with the trained
 * values, and a config.json the loader reads back with the class and
 * the labels.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlp/nlp.h"
#include "model/safetensors.h"
#include "train/adamw.h"
#include "train/train_impl.h"
#include "util/util.h"

#define RUN_DIR NLP_TEST_DATA "/expected/train"
#define TOL 1e-4

static cJSON *manifest;

static const nlp_st_tensor *need(const nlp_st *st, const char *name)
{
    const nlp_st_tensor *t = nlp_st_find(st, name);
    ck_assert_msg(t != NULL, "expected tensor %s missing", name);
    return t;
}

static int jint(const cJSON *c, const char *k)
{
    return cJSON_GetObjectItem(c, k)->valueint;
}

static double jnum(const cJSON *c, const char *k)
{
    return cJSON_GetObjectItem(c, k)->valuedouble;
}

typedef struct run {
    nlp_model *model;
    nlp_st *st;
    nlp_train_options opt;
    size_t B, T, S;            /* S micro-batches */
} run;

static void run_open(run *r, int i, int threads, float dropout)
{
    const cJSON *c = cJSON_GetArrayItem(manifest, i);
    char path[512];
    nlp_error err;
    snprintf(path, sizeof path, "%s/models/%s", NLP_TEST_DATA,
             cJSON_GetObjectItem(c, "model")->valuestring);
    ck_assert_msg(nlp_model_load(path, &r->model, &err) == NLP_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/%s.safetensors", RUN_DIR,
             cJSON_GetObjectItem(c, "case")->valuestring);
    ck_assert_msg(nlp_st_open(path, &r->st, &err) == NLP_OK, "%s", err.msg);
    const char *task = cJSON_GetObjectItem(c, "task")->valuestring;
    r->B = (size_t)jint(c, "B");
    r->T = (size_t)jint(c, "T");
    r->S = (size_t)(jint(c, "steps") * jint(c, "grad_accum"));
    nlp_train_options_init(&r->opt);
    r->opt.task = strcmp(task, "mlm") == 0 ? NLP_TRAIN_MLM
                : strcmp(task, "seq_cls") == 0 ? NLP_TRAIN_SEQ_CLS
                : strcmp(task, "token_cls") == 0 ? NLP_TRAIN_TOKEN_CLS : NLP_TRAIN_QA;
    r->opt.max_batch = r->B;
    r->opt.max_seq = r->T;
    r->opt.lr = jnum(c, "lr");
    r->opt.warmup_steps = jint(c, "warmup");
    r->opt.total_steps = jint(c, "steps");
    r->opt.grad_accum = jint(c, "grad_accum");
    r->opt.weight_decay = jnum(c, "weight_decay");
    r->opt.max_grad_norm = jnum(c, "max_grad_norm");
    r->opt.hidden_dropout = r->opt.attention_dropout = r->opt.classifier_dropout = dropout;
    r->opt.threads = threads;
}

/* Micro-batch s of the run. */
static nlp_train_batch run_batch(const run *r, size_t s)
{
    const size_t BT = r->B * r->T;
    nlp_train_batch tb;
    memset(&tb, 0, sizeof tb);
    tb.in.batch = r->B;
    tb.in.seq = r->T;
    tb.in.ids = (const int32_t *)need(r->st, "in.ids")->data + s * BT;
    tb.in.type_ids = (const int32_t *)need(r->st, "in.type_ids")->data + s * BT;
    tb.in.lengths = (const int32_t *)need(r->st, "in.lengths")->data + s * r->B;
    const nlp_st_tensor *lab = nlp_st_find(r->st, "in.labels");
    if (lab)
        tb.labels = (const int32_t *)lab->data + s * (r->opt.task == NLP_TRAIN_SEQ_CLS ? r->B : BT);
    if (nlp_st_find(r->st, "in.start")) {
        tb.start_positions = (const int32_t *)need(r->st, "in.start")->data + s * r->B;
        tb.end_positions = (const int32_t *)need(r->st, "in.end")->data + s * r->B;
    }
    return tb;
}

/* Run every step; losses[S] (may be NULL) receives each micro-batch's. */
static nlp_trainer *run_all(run *r, float *losses)
{
    nlp_trainer *tr = NULL;
    nlp_error err;
    ck_assert_msg(nlp_trainer_create(r->model, &r->opt, &tr, &err) == NLP_OK, "%s", err.msg);
    for (size_t s = 0; s < r->S; s++) {
        nlp_train_batch tb = run_batch(r, s);
        float loss;
        ck_assert_msg(nlp_trainer_accumulate(tr, &tb, &loss, &err) == NLP_OK, "%s", err.msg);
        if (losses)
            losses[s] = loss;
        if ((s + 1) % (size_t)r->opt.grad_accum == 0)
            ck_assert_msg(nlp_trainer_step(tr, NULL, &err) == NLP_OK, "%s", err.msg);
    }
    ck_assert_int_eq(nlp_trainer_steps(tr), (int)(r->S / (size_t)r->opt.grad_accum));
    return tr;
}

static void run_close(run *r)
{
    nlp_st_close(r->st);
    nlp_model_free(r->model);
}

START_TEST(test_run_matches_torch)
{
    const char *name = cJSON_GetObjectItem(cJSON_GetArrayItem(manifest, _i), "case")->valuestring;
    run r;
    run_open(&r, _i, 2, 0.0f);
    float *losses = calloc(r.S, sizeof *losses);
    ck_assert_ptr_nonnull(losses);
    nlp_trainer *tr = run_all(&r, losses);
    const float *want = need(r.st, "losses")->data;
    double worst_loss = 0.0;
    for (size_t s = 0; s < r.S; s++) {
        double e = fabs((double)losses[s] - want[s]) / fabs(want[s]);
        if (!(e <= worst_loss))
            worst_loss = e;
    }
    const cJSON *c = cJSON_GetArrayItem(manifest, _i);
    const cJSON *noise = cJSON_GetObjectItem(c, "noise_driven");
    const double bound = 3.2 * jnum(c, "lr_sum");
    double worst = 0.0;
    const char *worst_name = "";
    size_t n_noise = 0;
    for (size_t i = 0; i < nlp_trainer_num_tensors(tr); i++) {
        const char *tn;
        float *val;
        int nd;
        int64_t sh[2];
        nlp_trainer_tensor(tr, i, &tn, &val, NULL, &nd, sh, NULL);
        char key[160];
        snprintf(key, sizeof key, "final.%s", tn);
        const nlp_st_tensor *t = need(r.st, key);
        const size_t n = (size_t)(sh[0] * (nd == 2 ? sh[1] : 1));
        ck_assert_int_eq((size_t)t->numel, n);
        const float *w = t->data;
        double d = 0.0, m = 0.0;
        for (size_t k = 0; k < n; k++) {
            double e = fabs((double)val[k] - w[k]);
            if (!(e <= d))
                d = e;
            if (fabs(w[k]) > m)
                m = fabs(w[k]);
        }
        int is_noise = 0;
        for (int k = 0; k < cJSON_GetArraySize(noise); k++)
            is_noise |= strcmp(cJSON_GetArrayItem(noise, k)->valuestring, tn) == 0;
        if (is_noise) {
            ck_assert_msg(d <= bound, "%s: noise-driven %s moved %.3g from PyTorch's, more "
                          "than AdamW can (%.3g)", name, tn, d, bound);
            n_noise++;
            continue;
        }
        double e = d / (m > 0 ? m : 1.0);
        if (!(e <= worst)) {
            worst = e;
            worst_name = tn;
        }
    }
    fprintf(stderr, "check_train: %-20s %zu micro-batches, loss %.5g -> %.5g, worst loss "
            "%.2e, worst final weight %.2e (%s), %zu noise-driven\n", name, r.S, losses[0],
            losses[r.S - 1], worst_loss, worst, worst_name, n_noise);
    ck_assert_msg(worst_loss <= TOL, "%s: a loss is off by %.3g relative", name, worst_loss);
    ck_assert_msg(worst <= TOL, "%s: final %s off by %.3g of its largest value", name,
                  worst_name, worst);
    free(losses);
    nlp_trainer_free(tr);
    run_close(&r);
}
END_TEST

/* Final parameter values of a run, concatenated (caller frees). */
static float *final_values(nlp_trainer *tr, size_t *count)
{
    size_t n = 0;
    for (size_t i = 0; i < nlp_trainer_num_tensors(tr); i++) {
        int nd;
        int64_t sh[2];
        nlp_trainer_tensor(tr, i, NULL, NULL, NULL, &nd, sh, NULL);
        n += (size_t)(sh[0] * (nd == 2 ? sh[1] : 1));
    }
    float *out = malloc(n * sizeof *out);
    ck_assert_ptr_nonnull(out);
    size_t o = 0;
    for (size_t i = 0; i < nlp_trainer_num_tensors(tr); i++) {
        int nd;
        int64_t sh[2];
        float *v;
        nlp_trainer_tensor(tr, i, NULL, &v, NULL, &nd, sh, NULL);
        size_t k = (size_t)(sh[0] * (nd == 2 ? sh[1] : 1));
        memcpy(out + o, v, k * sizeof *out);
        o += k;
    }
    *count = n;
    return out;
}

/* Dropout on, 10 micro-batches: 1 thread twice and 2 threads give the
 * same bits; the weights differ from a dropout-free run. */
START_TEST(test_reproducible)
{
    float *v[4];
    size_t n = 0;
    for (int k = 0; k < 4; k++) {
        run r;
        run_open(&r, 0, k == 2 ? 2 : 1, k == 3 ? 0.0f : 0.1f);
        r.S = 10;
        r.opt.total_steps = 5;
        nlp_trainer *tr = run_all(&r, NULL);
        v[k] = final_values(tr, &n);
        nlp_trainer_free(tr);
        run_close(&r);
    }
    ck_assert(memcmp(v[0], v[1], n * sizeof(float)) == 0);
    ck_assert(memcmp(v[0], v[2], n * sizeof(float)) == 0);
    ck_assert(memcmp(v[0], v[3], n * sizeof(float)) != 0);
    for (int k = 0; k < 4; k++)
        free(v[k]);
}
END_TEST

START_TEST(test_bad_input)
{
    run r;
    run_open(&r, 0, 1, 0.0f);
    nlp_trainer *tr = NULL;
    nlp_error err;
    ck_assert(nlp_trainer_create(r.model, &r.opt, &tr, &err) == NLP_OK);
    nlp_train_batch tb = run_batch(&r, 0);
    int32_t ids[64], lengths[8], labels[64];
    memcpy(ids, tb.in.ids, r.B * r.T * sizeof *ids);
    memcpy(lengths, tb.in.lengths, r.B * sizeof *lengths);
    memcpy(labels, tb.labels, r.B * r.T * sizeof *labels);
    tb.in.ids = ids;
    tb.in.lengths = lengths;
    tb.labels = labels;
    ids[1] = 1 << 20;                                   /* outside the vocabulary */
    ck_assert_int_eq(nlp_trainer_accumulate(tr, &tb, NULL, &err), NLP_ERR_INPUT);
    ids[1] = 7;
    labels[1] = -5;                                     /* neither ignored nor a token */
    ck_assert_int_eq(nlp_trainer_accumulate(tr, &tb, NULL, &err), NLP_ERR_INPUT);
    labels[1] = NLP_IGNORE_INDEX;
    lengths[0] = (int32_t)r.T + 1;                      /* longer than the batch */
    ck_assert_int_eq(nlp_trainer_accumulate(tr, &tb, NULL, &err), NLP_ERR_INPUT);
    lengths[0] = (int32_t)r.T;
    tb.in.batch = r.B + 1;                              /* more rows than sized for */
    ck_assert_int_eq(nlp_trainer_accumulate(tr, &tb, NULL, &err), NLP_ERR_INPUT);
    tb.in.batch = r.B;
    ck_assert_int_eq(nlp_trainer_accumulate(tr, &tb, NULL, &err), NLP_OK);
    nlp_trainer_free(tr);
    nlp_train_options o = r.opt;
    o.max_seq = 100000;
    ck_assert_int_eq(nlp_trainer_create(r.model, &o, &tr, &err), NLP_ERR_INVALID_ARG);
    o = r.opt;
    o.hidden_dropout = 1.0f;
    ck_assert_int_eq(nlp_trainer_create(r.model, &o, &tr, &err), NLP_ERR_INVALID_ARG);
    run_close(&r);
}
END_TEST

static nlp_model *load(const char *name)
{
    char path[512];
    nlp_error err;
    nlp_model *m = NULL;
    snprintf(path, sizeof path, "%s/models/%s", NLP_TEST_DATA, name);
    ck_assert_msg(nlp_model_load(path, &m, &err) == NLP_OK, "%s", err.msg);
    return m;
}

/* Dropout left to config.json takes the values its keys give. */
START_TEST(test_config_dropout)
{
    static const struct {
        const char *model;
        nlp_train_task task;
        float hid, att, cls;
    } cases[] = {
        { "tiny-bert-sst2", NLP_TRAIN_SEQ_CLS, 0.1f, 0.1f, 0.1f },    /* classifier_dropout null */
        { "qa-bert", NLP_TRAIN_QA, 0.1f, 0.1f, 0.0f },                /* no dropout before the span head */
        { "tiny-distilbert-sst2", NLP_TRAIN_SEQ_CLS, 0.1f, 0.1f, 0.2f }, /* seq_classif_dropout */
        { "qa-distilbert", NLP_TRAIN_QA, 0.1f, 0.1f, 0.1f },          /* qa_dropout */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nlp_model *m = load(cases[i].model);
        nlp_train_options o;
        nlp_train_options_init(&o);
        o.task = cases[i].task;
        o.max_batch = 1;
        o.max_seq = 8;
        nlp_trainer *tr = NULL;
        nlp_error err;
        ck_assert_msg(nlp_trainer_create(m, &o, &tr, &err) == NLP_OK, "%s", err.msg);
        const nlp_train_options *got = nlp_trainer_options(tr);
        ck_assert_msg(got->hidden_dropout == cases[i].hid && got->attention_dropout == cases[i].att &&
                      got->classifier_dropout == cases[i].cls, "%s: dropout %g %g %g",
                      cases[i].model, got->hidden_dropout, got->attention_dropout,
                      got->classifier_dropout);
        nlp_trainer_free(tr);
        nlp_model_free(m);
    }
}
END_TEST

/* DistilBERT's sinusoidal position embeddings do not train. */
START_TEST(test_sinusoidal_frozen)
{
    nlp_model *m = load("tiny-distilbert-bf16");
    nlp_train_options o;
    nlp_train_options_init(&o);
    o.max_batch = 2;
    o.max_seq = 6;
    o.lr = 1e-2;
    nlp_trainer *tr = NULL;
    nlp_error err;
    ck_assert_msg(nlp_trainer_create(m, &o, &tr, &err) == NLP_OK, "%s", err.msg);
    int32_t ids[12] = { 2, 40, 41, 42, 43, 3, 2, 50, 51, 3, 0, 0 };
    int32_t lengths[2] = { 6, 4 };
    int32_t labels[12];
    for (int i = 0; i < 12; i++)
        labels[i] = i % 3 == 1 ? 60 + i : NLP_IGNORE_INDEX;
    nlp_train_batch tb = { { 2, 6, ids, NULL, lengths }, labels, NULL, NULL, NULL };
    float *before[2];
    size_t counts[2];
    for (size_t k = 0; k < 2; k++) {           /* word, position embeddings */
        float *v;
        int nd;
        int64_t sh[2];
        nlp_trainer_tensor(tr, k, NULL, &v, NULL, &nd, sh, NULL);
        counts[k] = (size_t)(sh[0] * sh[1]);
        before[k] = malloc(counts[k] * sizeof(float));
        memcpy(before[k], v, counts[k] * sizeof(float));
    }
    for (int s = 0; s < 2; s++) {
        ck_assert(nlp_trainer_accumulate(tr, &tb, NULL, &err) == NLP_OK);
        ck_assert(nlp_trainer_step(tr, NULL, &err) == NLP_OK);
    }
    for (size_t k = 0; k < 2; k++) {
        const char *name;
        float *v;
        nlp_trainer_tensor(tr, k, &name, &v, NULL, NULL, NULL, NULL);
        const int same = memcmp(before[k], v, counts[k] * sizeof(float)) == 0;
        ck_assert_msg(k == 1 ? same : !same, "%s %s", name, same ? "did not train" : "trained");
        free(before[k]);
    }
    nlp_trainer_free(tr);
    nlp_model_free(m);
}
END_TEST

/* Save after two steps, read it back. */
START_TEST(test_save)
{
    const cJSON *c = cJSON_GetArrayItem(manifest, _i);
    run r;
    run_open(&r, _i, 1, 0.0f);
    r.S = (size_t)(2 * r.opt.grad_accum);
    nlp_trainer *tr = run_all(&r, NULL);
    char dir[] = "/tmp/nlp_check_train_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    nlp_error err;
    ck_assert_msg(nlp_trainer_save(tr, dir, &err) == NLP_OK, "%s", err.msg);

    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    nlp_st *st = NULL;
    ck_assert_msg(nlp_st_open(path, &st, &err) == NLP_OK, "%s", err.msg);
    const cJSON *keys = cJSON_GetObjectItem(c, "hf_keys");
    ck_assert_int_eq((int)st->n_tensors, cJSON_GetArraySize(keys));
    for (int k = 0; k < cJSON_GetArraySize(keys); k++) {
        const char *want = cJSON_GetArrayItem(keys, k)->valuestring;
        ck_assert_msg(nlp_st_find(st, want) != NULL, "saved checkpoint lacks %s", want);
    }
    for (size_t i = 0; i < nlp_trainer_num_tensors(tr); i++) {
        const char *tn;
        float *val;
        int nd;
        int64_t sh[2];
        nlp_trainer_tensor(tr, i, &tn, &val, NULL, &nd, sh, NULL);
        const nlp_st_tensor *t = need(st, tn);
        ck_assert_int_eq(t->dtype, NLP_DT_F32);
        ck_assert_int_eq(t->ndim, nd);
        ck_assert(t->shape[0] == sh[0] && (nd == 1 || t->shape[1] == sh[1]));
        ck_assert_msg(memcmp(t->data, val, t->nbytes) == 0, "%s differs", tn);
    }
    nlp_st_close(st);

    nlp_model *m = NULL;
    ck_assert_msg(nlp_model_load(dir, &m, &err) == NLP_OK, "%s", err.msg);
    const nlp_config *cfg = nlp_model_config(m), *orig = nlp_model_config(r.model);
    ck_assert_int_eq(cfg->n_architectures, 1);
    ck_assert_str_eq(cfg->architectures[0], cJSON_GetObjectItem(c, "architecture")->valuestring);
    if (r.opt.task == NLP_TRAIN_SEQ_CLS || r.opt.task == NLP_TRAIN_TOKEN_CLS) {
        ck_assert_int_eq(cfg->num_labels, orig->num_labels);
        for (int k = 0; k < cfg->num_labels; k++) {
            ck_assert_str_eq(cfg->id2label[k], orig->id2label[k]);
            ck_assert_int_eq(nlp_config_label_id(cfg, orig->id2label[k]), k);
        }
    }
    if (r.opt.task == NLP_TRAIN_SEQ_CLS)
        ck_assert_str_eq(cfg->problem_type, "single_label_classification");
    nlp_model_free(m);
    static const char *const files[] = { "model.safetensors", "config.json", "vocab.txt",
                                         "tokenizer.json", "tokenizer_config.json",
                                         "special_tokens_map.json" };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    ck_assert_int_eq(rmdir(dir), 0);
    nlp_trainer_free(tr);
    run_close(&r);
}
END_TEST

/* The vectorised AdamW update gives the bits of the scalar formula
 * (torch's order), whatever the length. */
START_TEST(test_adamw_lanes)
{
    enum { N = 37 };
    float p[N], g[N], m[N], v[N], rp[N], rm[N], rv[N];
    for (int i = 0; i < N; i++) {
        p[i] = rp[i] = 0.01f * (float)(i - 18);
        g[i] = 0.003f * (float)((i * 7) % 11 - 5);
        m[i] = rm[i] = 0.001f * (float)(i % 5);
        v[i] = rv[i] = 1e-6f * (float)(i % 3);
    }
    const nlp_adamw o = { 2e-3, 0.9, 0.999, 1e-8, 0.01, 3 };
    nlp_adamw_update(&o, p, g, m, v, N);
    const float decay = (float)(1.0 - o.lr * o.weight_decay);
    const float step = (float)(o.lr / (1.0 - pow(0.9, 3)));
    const float bc2 = (float)sqrt(1.0 - pow(0.999, 3));
    for (int i = 0; i < N; i++) {
        volatile float x = rp[i] * decay;
        rm[i] = rm[i] * 0.9f + g[i] * (float)(1.0 - 0.9);
        rv[i] = rv[i] * 0.999f + (float)(1.0 - 0.999) * g[i] * g[i];
        volatile float d = sqrtf(rv[i]) / bc2 + 1e-8f;
        rp[i] = x - step * (rm[i] / d);
    }
    ck_assert(memcmp(p, rp, sizeof p) == 0 && memcmp(m, rm, sizeof m) == 0 &&
              memcmp(v, rv, sizeof v) == 0);
}
END_TEST

static Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("runs");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_run_matches_torch, 0, cJSON_GetArraySize(manifest));
    tcase_add_test(tc, test_reproducible);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_adamw_lanes);
    tcase_add_test(tc, test_config_dropout);
    tcase_add_test(tc, test_sinusoidal_frozen);
    tcase_add_loop_test(tc, test_save, 0, cJSON_GetArraySize(manifest));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    nlp_error err;
    char *text = NULL;
    size_t len = 0;
    if (nlp_read_file(RUN_DIR "/manifest.json", &text, &len, &err) != NLP_OK) {
        fprintf(stderr, "check_train: %s\n", err.msg);
        return 1;
    }
    manifest = cJSON_Parse(text);
    free(text);
    if (!manifest) {
        fprintf(stderr, "check_train: manifest.json does not parse\n");
        return 1;
    }
    SRunner *sr = srunner_create(train_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    cJSON_Delete(manifest);
    return failed ? 1 : 0;
}
