/*
 * check_backward.c - every backward function, and whole forward/backward
 * passes of the trainer, against PyTorch autograd.
 *
 * Expected values come from tests/gen/gen_backward.py (data/expected/
 * backward/): random inputs and upstream gradients for each building
 * block, and for fixture checkpoints of both families and every head the
 * loss and the gradient of every parameter under Hugging Face's names.
 * A tensor matches when max |got - want| <= 1e-4 * max |want| (its
 * relative error, scaled by the tensor's largest value), with the scale
 * floored at 1e-3 of the case's largest gradient so that gradients which
 * are zero in exact arithmetic compare absolutely (the key bias, whose
 * shift every softmax ignores; for span heads the qa_outputs bias and
 * the last LayerNorm bias, whose gradients are sums of softmax
 * gradients).  Without the floor every other tensor agrees within
 * about 3e-6.  Dropout cases compare against PyTorch with the keep masks
 * the generator rebuilds from the trainer's counter-based definition.
 * Also: dropout masks do not depend on the thread count.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/nlp.h"
#include "model/safetensors.h"
#include "nn/backward.h"
#include "nn/heads.h"
#include "nn/layers.h"
#include "nn/threadpool.h"
#include "util/util.h"

#define BWD_DIR NLP_TEST_DATA "/expected/backward"
#define TOL 1e-4

static nlp_st *fn_st;
static cJSON *manifest;

static const nlp_st_tensor *find_t(const nlp_st *st, const char *name)
{
    const nlp_st_tensor *t = nlp_st_find(st, name);
    ck_assert_msg(t != NULL, "expected tensor %s missing", name);
    return t;
}

static const float *F(const char *name)
{
    const nlp_st_tensor *t = find_t(fn_st, name);
    ck_assert_int_eq(t->dtype, NLP_DT_F32);
    return t->data;
}

static const int32_t *I32(const nlp_st *st, const char *name)
{
    const nlp_st_tensor *t = find_t(st, name);
    ck_assert_int_eq(t->dtype, NLP_DT_I32);
    return t->data;
}

static double max_abs(const float *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(x[i]) > m)
            m = fabs(x[i]);
    return m;
}

/* max |got - want| / max(max |want|, floor) */
static double rel_err(const float *got, const float *want, size_t n, double floor)
{
    double d = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        if (!(e <= d))          /* also catches NaN */
            d = e;
    }
    double s = max_abs(want, n);
    return d / (s > floor ? s : floor);
}

static void expect_close(const char *what, const float *got, const float *want, size_t n)
{
    double e = rel_err(got, want, n, 1e-30);
    ck_assert_msg(e <= TOL, "%s: relative error %.3g > %g", what, e, TOL);
}

static float *zeros(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* ------------------------------------------------------------ building blocks */

START_TEST(test_layernorm)
{
    const size_t N = 5, H = 48;
    float *y = zeros(N * H), *mean = zeros(N), *rstd = zeros(N);
    float *dx = zeros(N * H), *dg = zeros(H), *db = zeros(H);
    nlp_pool *pool = nlp_pool_create(2);
    nlp_layernorm_forward(pool, y, mean, rstd, F("layernorm.x"), F("layernorm.g"),
                          F("layernorm.b"), N, H, 1e-12f);
    nlp_layernorm_backward(pool, dx, dg, db, F("layernorm.dy"), F("layernorm.x"), mean, rstd,
                           F("layernorm.g"), N, H);
    expect_close("layernorm dx", dx, F("layernorm.dx"), N * H);
    expect_close("layernorm dg", dg, F("layernorm.dg"), H);
    expect_close("layernorm db", db, F("layernorm.db"), H);
    /* in place (dx == dy) gives the same */
    memcpy(dx, F("layernorm.dy"), N * H * sizeof *dx);
    memset(dg, 0, H * sizeof *dg);
    memset(db, 0, H * sizeof *db);
    nlp_layernorm_backward(pool, dx, dg, db, dx, F("layernorm.x"), mean, rstd,
                           F("layernorm.g"), N, H);
    expect_close("layernorm dx in place", dx, F("layernorm.dx"), N * H);
    nlp_pool_free(pool);
    free(y); free(mean); free(rstd); free(dx); free(dg); free(db);
}
END_TEST

START_TEST(test_activations)
{
    static const char *const names[] = { "gelu", "gelu_tanh", "relu" };
    static const nlp_activation acts[] = { NLP_ACT_GELU, NLP_ACT_GELU_TANH, NLP_ACT_RELU };
    const size_t n = 1000;
    float *dx = zeros(n);
    char a[64], b[64], c[64];
    for (int i = 0; i < 3; i++) {
        snprintf(a, sizeof a, "%s.x", names[i]);
        snprintf(b, sizeof b, "%s.dy", names[i]);
        snprintf(c, sizeof c, "%s.dx", names[i]);
        nlp_activation_backward(NULL, acts[i], dx, F(b), F(a), n);
        expect_close(names[i], dx, F(c), n);
    }
    free(dx);
}
END_TEST

START_TEST(test_softmax)
{
    float *dx = zeros(36);
    nlp_softmax_backward(dx, F("softmax.dy"), F("softmax.p"), 4, 9);
    expect_close("softmax dx", dx, F("softmax.dx"), 36);
    free(dx);
}
END_TEST

START_TEST(test_linear)
{
    const size_t N = 7, in = 13, out = 11;
    float *dx = zeros(N * in), *dW = zeros(out * in), *db = zeros(out);
    float *ws = zeros(nlp_linear_backward_weight_scratch_floats(N, in));
    nlp_pool *pool = nlp_pool_create(2);
    nlp_linear_backward_input(pool, dx, in, F("linear.dy"), out, F("linear.W"), N, out, in);
    nlp_linear_backward_weight(pool, dW, db, F("linear.dy"), out, F("linear.x"), in, N, out, in, ws);
    expect_close("linear dx", dx, F("linear.dx"), N * in);
    expect_close("linear dW", dW, F("linear.dW"), out * in);
    expect_close("linear db", db, F("linear.db"), out);
    /* parameter gradients accumulate */
    nlp_linear_backward_weight(pool, dW, db, F("linear.dy"), out, F("linear.x"), in, N, out, in, ws);
    for (size_t i = 0; i < out * in; i++)
        dW[i] *= 0.5f;
    expect_close("linear dW accumulated", dW, F("linear.dW"), out * in);
    nlp_pool_free(pool);
    free(dx); free(dW); free(db); free(ws);
}
END_TEST

/* _i: 0 packed rows, 1 full rows (padded queries kept) */
START_TEST(test_attention)
{
    const char *mode = _i ? "full" : "packed";
    const size_t B = 3, T = 6, H = 12, nh = 3;
    char k[64];
#define AT(name) (snprintf(k, sizeof k, "attention_%s." name, mode), k)
    int32_t rows[3], klen[3];
    size_t offs[3], N = 0;
    memcpy(rows, I32(fn_st, AT("rows")), sizeof rows);
    memcpy(klen, I32(fn_st, AT("lengths")), sizeof klen);
    for (size_t b = 0; b < B; b++) {
        offs[b] = N;
        N += (size_t)rows[b];
    }
    float *out = zeros(N * H), *probs = zeros(B * nh * T * T), *dqkv = zeros(N * 3 * H);
    for (int threads = 1; threads <= 2; threads++) {
        nlp_pool *pool = nlp_pool_create(threads);
        float *scratch = zeros(nlp_attention_train_scratch_floats(T, threads));
        nlp_attention_forward_train(pool, out, probs, F(AT("qkv")), rows, klen, offs, B, T, H,
                                    nh, NULL, 0, scratch);
        expect_close("attention out", out, F(AT("out")), N * H);
        nlp_attention_backward(pool, dqkv, F(AT("dout")), probs, F(AT("qkv")), rows, klen, offs,
                               B, T, H, nh, NULL, 0, scratch);
        expect_close("attention dqkv", dqkv, F(AT("dqkv")), N * 3 * H);
        free(scratch);
        nlp_pool_free(pool);
    }
#undef AT
    free(out); free(probs); free(dqkv);
}
END_TEST

START_TEST(test_embeddings)
{
    const size_t V = 20, P = 10, TV = 2, B = 3, T = 5, H = 8;
    const int32_t *lengths = I32(fn_st, "embeddings.lengths");
    size_t offs[3], N = 0;
    for (size_t b = 0; b < B; b++) {
        offs[b] = N;
        N += (size_t)lengths[b];
    }
    float *dw = zeros(V * H), *dp = zeros(P * H), *dt = zeros(TV * H);
    nlp_embeddings_backward(dw, dp, dt, F("embeddings.dx"), I32(fn_st, "embeddings.ids"),
                            I32(fn_st, "embeddings.type_ids"), lengths, offs, B, T, H);
    expect_close("embeddings dword", dw, F("embeddings.dword"), V * H);
    expect_close("embeddings dpos", dp, F("embeddings.dpos"), P * H);
    expect_close("embeddings dtype", dt, F("embeddings.dtype"), TV * H);
    free(dw); free(dp); free(dt);
}
END_TEST

START_TEST(test_losses)
{
    float d[60];
    double l = nlp_cross_entropy_forward(F("cross_entropy.logits"),
                                         I32(fn_st, "cross_entropy.labels"), 6, 10,
                                         NLP_IGNORE_INDEX, NULL);
    ck_assert_msg(fabs(l - F("cross_entropy.loss")[0]) <= TOL * fabs(F("cross_entropy.loss")[0]),
                  "cross-entropy %g, want %g", l, F("cross_entropy.loss")[0]);
    nlp_cross_entropy_backward(d, F("cross_entropy.logits"), I32(fn_st, "cross_entropy.labels"),
                               6, 10, NLP_IGNORE_INDEX, 1.0f);
    expect_close("cross-entropy dlogits", d, F("cross_entropy.dlogits"), 60);

    l = nlp_bce_logits_forward(F("bce.x"), F("bce.y"), 12);
    ck_assert_msg(fabs(l - F("bce.loss")[0]) <= TOL * fabs(F("bce.loss")[0]), "bce %g", l);
    nlp_bce_logits_backward(d, F("bce.x"), F("bce.y"), 12, 1.0f);
    expect_close("bce dx", d, F("bce.dx"), 12);

    l = nlp_mse_forward(F("mse.x"), F("mse.y"), 5);
    ck_assert_msg(fabs(l - F("mse.loss")[0]) <= TOL * fabs(F("mse.loss")[0]), "mse %g", l);
    nlp_mse_backward(d, F("mse.x"), F("mse.y"), 5, 1.0f);
    expect_close("mse dx", d, F("mse.dx"), 5);
}
END_TEST

START_TEST(test_mlm_head)
{
    const size_t M = 5, H = 16, V = 30;
    nlp_mlm_head_params w = { (float *)F("mlm_head.dense_w"), (float *)F("mlm_head.dense_b"),
                              (float *)F("mlm_head.ln_g"), (float *)F("mlm_head.ln_b"),
                              (float *)F("mlm_head.dec_w"), (float *)F("mlm_head.dec_b") };
    nlp_mlm_head_params g = { zeros(H * H), zeros(H), zeros(H), zeros(H), zeros(V * H), zeros(V) };
    nlp_mlm_head_acts a = { zeros(M * H), zeros(M * H), zeros(M * H), zeros(M), zeros(M),
                            zeros(M * V) };
    float *dt = zeros(M * H), *drows = zeros(M * H);
    float *ws = zeros(nlp_linear_backward_weight_scratch_floats(M, H));
    nlp_pool *pool = nlp_pool_create(2);
    nlp_mlm_head_forward_train(pool, &w, NLP_ACT_GELU, 1e-12f, F("mlm_head.rows"), M, H, V, &a);
    expect_close("mlm logits", a.logits, F("mlm_head.logits"), M * V);
    nlp_mlm_head_backward(pool, &w, &g, NLP_ACT_GELU, &a, F("mlm_head.rows"),
                          F("mlm_head.dlogits"), dt, drows, M, H, V, ws);
    expect_close("mlm drows", drows, F("mlm_head.drows"), M * H);
    expect_close("mlm d dense_w", g.dense_w, F("mlm_head.d_dense_w"), H * H);
    expect_close("mlm d dense_b", g.dense_b, F("mlm_head.d_dense_b"), H);
    expect_close("mlm d ln_g", g.ln_g, F("mlm_head.d_ln_g"), H);
    expect_close("mlm d ln_b", g.ln_b, F("mlm_head.d_ln_b"), H);
    expect_close("mlm d dec_w", g.dec_w, F("mlm_head.d_dec_w"), V * H);
    expect_close("mlm d dec_b", g.dec_b, F("mlm_head.d_dec_b"), V);
    nlp_pool_free(pool);
    free(g.dense_w); free(g.dense_b); free(g.ln_g); free(g.ln_b); free(g.dec_w); free(g.dec_b);
    free(a.pre); free(a.act); free(a.t); free(a.mean); free(a.rstd); free(a.logits);
    free(dt); free(drows); free(ws);
}
END_TEST

/* ------------------------------------------------------------ whole models */

static nlp_train_task task_of(const char *s)
{
    return strcmp(s, "mlm") == 0 ? NLP_TRAIN_MLM : strcmp(s, "seq_cls") == 0 ? NLP_TRAIN_SEQ_CLS
         : strcmp(s, "token_cls") == 0 ? NLP_TRAIN_TOKEN_CLS : NLP_TRAIN_QA;
}

typedef struct model_case {
    nlp_model *model;
    nlp_st *st;
    nlp_train_options opt;
    nlp_train_batch tb;
} model_case;

static void case_open(model_case *mc, int i, int threads, float dropout)
{
    const cJSON *c = cJSON_GetArrayItem(manifest, i);
    const char *name = cJSON_GetObjectItem(c, "case")->valuestring;
    char path[512];
    nlp_error err;
    snprintf(path, sizeof path, "%s/models/%s", NLP_TEST_DATA,
             cJSON_GetObjectItem(c, "model")->valuestring);
    ck_assert_msg(nlp_model_load(path, &mc->model, &err) == NLP_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/%s.safetensors", BWD_DIR, name);
    ck_assert_msg(nlp_st_open(path, &mc->st, &err) == NLP_OK, "%s", err.msg);
    const size_t B = (size_t)cJSON_GetObjectItem(c, "B")->valueint;
    const size_t T = (size_t)cJSON_GetObjectItem(c, "T")->valueint;
    nlp_train_options_init(&mc->opt);
    mc->opt.task = task_of(cJSON_GetObjectItem(c, "task")->valuestring);
    mc->opt.max_batch = B;
    mc->opt.max_seq = T;
    mc->opt.threads = threads;
    mc->opt.hidden_dropout = mc->opt.attention_dropout = mc->opt.classifier_dropout = dropout;
    /* dropout cases: the generator rebuilt the trainer's masks */
    if (cJSON_GetObjectItem(c, "seed")) {
        mc->opt.hidden_dropout = (float)cJSON_GetObjectItem(c, "hidden_dropout")->valuedouble;
        mc->opt.attention_dropout = (float)cJSON_GetObjectItem(c, "attention_dropout")->valuedouble;
        mc->opt.classifier_dropout = (float)cJSON_GetObjectItem(c, "classifier_dropout")->valuedouble;
        mc->opt.seed = (uint64_t)cJSON_GetObjectItem(c, "seed")->valuedouble;
    }
    memset(&mc->tb, 0, sizeof mc->tb);
    mc->tb.in.batch = B;
    mc->tb.in.seq = T;
    mc->tb.in.ids = I32(mc->st, "in.ids");
    mc->tb.in.type_ids = I32(mc->st, "in.type_ids");
    mc->tb.in.lengths = I32(mc->st, "in.lengths");
    if (nlp_st_find(mc->st, "in.labels"))
        mc->tb.labels = I32(mc->st, "in.labels");
    if (nlp_st_find(mc->st, "in.targets"))
        mc->tb.targets = nlp_st_find(mc->st, "in.targets")->data;
    if (nlp_st_find(mc->st, "in.start")) {
        mc->tb.start_positions = I32(mc->st, "in.start");
        mc->tb.end_positions = I32(mc->st, "in.end");
    }
}

static void case_close(model_case *mc)
{
    nlp_st_close(mc->st);
    nlp_model_free(mc->model);
}

START_TEST(test_model_gradients)
{
    const char *name = cJSON_GetObjectItem(cJSON_GetArrayItem(manifest, _i), "case")->valuestring;
    model_case mc;
    case_open(&mc, _i, 2, 0.0f);
    nlp_trainer *tr = NULL;
    nlp_error err;
    ck_assert_msg(nlp_trainer_create(mc.model, &mc.opt, &tr, &err) == NLP_OK, "%s", err.msg);
    float loss = 0.0f;
    ck_assert_msg(nlp_trainer_accumulate(tr, &mc.tb, &loss, &err) == NLP_OK, "%s", err.msg);
    const float want_loss = ((const float *)find_t(mc.st, "loss")->data)[0];
    ck_assert_msg(fabs(loss - want_loss) <= TOL * fabs(want_loss),
                  "%s: loss %.8g, want %.8g", name, loss, want_loss);

    /* the case's largest gradient sets the floor of the scale */
    double gmax = 0.0;
    for (size_t i = 0; i < mc.st->n_tensors; i++) {
        const nlp_st_tensor *t = &mc.st->tensors[i];
        if (strncmp(t->name, "grad.", 5) == 0) {
            double m = max_abs(t->data, (size_t)t->numel);
            gmax = m > gmax ? m : gmax;
        }
    }
    double worst = 0.0;
    const char *worst_name = "";
    size_t matched = 0;
    for (size_t i = 0; i < nlp_trainer_num_tensors(tr); i++) {
        const char *tn;
        float *grad;
        int ndim;
        int64_t shape[2];
        ck_assert(nlp_trainer_tensor(tr, i, &tn, NULL, &grad, &ndim, shape, &err) == NLP_OK);
        char gname[160];
        snprintf(gname, sizeof gname, "grad.%s", tn);
        const nlp_st_tensor *t = nlp_st_find(mc.st, gname);
        ck_assert_msg(t != NULL, "%s: trainer tensor %s is not in the checkpoint", name, tn);
        const size_t n = (size_t)(shape[0] * (ndim == 2 ? shape[1] : 1));
        ck_assert_msg((size_t)t->numel == n, "%s: %s has %zu values, want %lld", name, tn, n,
                      (long long)t->numel);
        double e = rel_err(grad, t->data, n, 1e-3 * gmax);
        if (e > worst) {
            worst = e;
            worst_name = tn;
        }
        matched++;
    }
    /* every gradient PyTorch has is one of the trainer's (or zero) */
    for (size_t i = 0; i < mc.st->n_tensors; i++) {
        const nlp_st_tensor *t = &mc.st->tensors[i];
        if (strncmp(t->name, "grad.", 5) != 0)
            continue;
        int found = 0;
        for (size_t j = 0; j < nlp_trainer_num_tensors(tr) && !found; j++) {
            const char *tn;
            nlp_trainer_tensor(tr, j, &tn, NULL, NULL, NULL, NULL, NULL);
            found = strcmp(tn, t->name + 5) == 0;
        }
        ck_assert_msg(found || max_abs(t->data, (size_t)t->numel) == 0.0,
                      "%s: PyTorch has a gradient for %s, the trainer has no such tensor",
                      name, t->name + 5);
    }
    fprintf(stderr, "check_backward: %-22s %2zu tensors, loss %.7g, worst %.2e (%s)\n", name,
            matched, loss, worst, worst_name);
    ck_assert_msg(worst <= TOL, "%s: %s relative error %.3g > %g", name, worst_name, worst, TOL);
    nlp_trainer_free(tr);
    case_close(&mc);
}
END_TEST

/* Gradients of every parameter, concatenated (caller frees). */
static float *all_grads(nlp_trainer *tr, size_t *count)
{
    size_t n = 0;
    for (size_t i = 0; i < nlp_trainer_num_tensors(tr); i++) {
        int nd;
        int64_t s[2];
        nlp_trainer_tensor(tr, i, NULL, NULL, NULL, &nd, s, NULL);
        n += (size_t)(s[0] * (nd == 2 ? s[1] : 1));
    }
    float *out = zeros(n);
    size_t o = 0;
    for (size_t i = 0; i < nlp_trainer_num_tensors(tr); i++) {
        int nd;
        int64_t s[2];
        float *gr;
        nlp_trainer_tensor(tr, i, NULL, NULL, &gr, &nd, s, NULL);
        size_t k = (size_t)(s[0] * (nd == 2 ? s[1] : 1));
        memcpy(out + o, gr, k * sizeof *out);
        o += k;
    }
    *count = n;
    return out;
}

/* With dropout on: 1 and 2 threads give identical bits; the loss
 * differs from the dropout-free one; a second trainer repeats it. */
START_TEST(test_dropout_threads)
{
    float *g[3];
    float loss[3];
    size_t n = 0;
    for (int r = 0; r < 3; r++) {
        model_case mc;
        case_open(&mc, _i, r == 1 ? 2 : 1, 0.1f);
        nlp_trainer *tr = NULL;
        nlp_error err;
        ck_assert_msg(nlp_trainer_create(mc.model, &mc.opt, &tr, &err) == NLP_OK, "%s", err.msg);
        ck_assert_msg(nlp_trainer_accumulate(tr, &mc.tb, &loss[r], &err) == NLP_OK, "%s", err.msg);
        g[r] = all_grads(tr, &n);
        nlp_trainer_free(tr);
        if (r == 0) {
            const float want = ((const float *)find_t(mc.st, "loss")->data)[0];
            ck_assert_msg(fabsf(loss[0] - want) > 1e-3f * fabsf(want),
                          "dropout 0.1 left the loss unchanged (%g)", loss[0]);
        }
        case_close(&mc);
    }
    ck_assert(loss[0] == loss[1] && loss[0] == loss[2]);
    ck_assert(memcmp(g[0], g[1], n * sizeof(float)) == 0);
    ck_assert(memcmp(g[0], g[2], n * sizeof(float)) == 0);
    for (int r = 0; r < 3; r++)
        free(g[r]);
}
END_TEST

START_TEST(test_dropout_mask)
{
    const nlp_dropout d = { 0.25f, 7 };
    size_t kept = 0;
    const size_t n = 200000;
    for (size_t i = 0; i < n; i++)
        kept += (size_t)nlp_dropout_keep(&d, 3, i);
    ck_assert_msg(fabs((double)kept / n - 0.75) < 0.005, "kept %zu of %zu", kept, n);
    float x[64];
    for (int i = 0; i < 64; i++)
        x[i] = 1.0f;
    nlp_dropout_apply(&d, 3, 100, x, 64);
    for (int i = 0; i < 64; i++)
        ck_assert(x[i] == (nlp_dropout_keep(&d, 3, 100 + (uint64_t)i) ? 1.0f / 0.75f : 0.0f));
}
END_TEST

static Suite *backward_suite(void)
{
    Suite *s = suite_create("backward");
    TCase *tc = tcase_create("functions");
    tcase_add_test(tc, test_layernorm);
    tcase_add_test(tc, test_activations);
    tcase_add_test(tc, test_softmax);
    tcase_add_test(tc, test_linear);
    tcase_add_loop_test(tc, test_attention, 0, 2);
    tcase_add_test(tc, test_embeddings);
    tcase_add_test(tc, test_losses);
    tcase_add_test(tc, test_mlm_head);
    tcase_add_test(tc, test_dropout_mask);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("models");
    tcase_set_timeout(tm, 120);
    tcase_add_loop_test(tm, test_model_gradients, 0, cJSON_GetArraySize(manifest));
    tcase_add_loop_test(tm, test_dropout_threads, 0, 1);
    suite_add_tcase(s, tm);
    return s;
}

int main(void)
{
    nlp_error err;
    char *text = NULL;
    size_t len = 0;
    if (nlp_st_open(BWD_DIR "/functions.safetensors", &fn_st, &err) != NLP_OK ||
        nlp_read_file(BWD_DIR "/manifest.json", &text, &len, &err) != NLP_OK) {
        fprintf(stderr, "check_backward: %s\n", err.msg);
        return 1;
    }
    manifest = cJSON_Parse(text);
    free(text);
    if (!manifest) {
        fprintf(stderr, "check_backward: manifest.json does not parse\n");
        return 1;
    }
    SRunner *sr = srunner_create(backward_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    cJSON_Delete(manifest);
    nlp_st_close(fn_st);
    return failed ? 1 : 0;
}
