/*
 * check_encoder.c - the encoder forward pass against PyTorch.
 *
 * The fixture checkpoints under data/models/tiny-* and the expected hidden
 * states, MLM logits and pooler outputs under data/expected/numerics/ come
 * from tests/gen/gen_numerics.py (a hand-written torch implementation of
 * Hugging Face's BERT / DistilBERT / RoBERTa / ELECTRA / ModernBERT math).  Values must agree within 1e-4,
 * absolute, or relative where |expected| > 1.  Also: a padded batch gives
 * each row the result it has alone, one context serves batches of growing
 * and shrinking size, and bad input is refused with NLP_ERR_INPUT.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/nlp.h"
#include "nn/cpu.h"
#include "model/model_impl.h"
#include "util/util.h"

#define NUM_DIR NLP_TEST_DATA "/expected/numerics"
#define TOL 1e-4

static cJSON *manifest;

static void load_manifest(void)
{
    char *text = NULL;
    size_t len = 0;
    nlp_error err;
    if (nlp_read_file(NUM_DIR "/manifest.json", &text, &len, &err) != NLP_OK) {
        fprintf(stderr, "check_encoder: %s\n", err.msg);
        exit(1);
    }
    manifest = cJSON_Parse(text);
    free(text);
    if (!manifest) {
        fprintf(stderr, "check_encoder: manifest.json does not parse\n");
        exit(1);
    }
}

/* n floats from NUM_DIR/name (freed by the caller). */
static float *read_f32(const char *name, size_t n)
{
    char *path = nlp_path_join(NUM_DIR, name);
    char *data = NULL;
    size_t len = 0;
    nlp_error err;
    ck_assert_msg(nlp_read_file(path, &data, &len, &err) == NLP_OK, "%s", err.msg);
    ck_assert_msg(len == n * sizeof(float), "%s: %zu bytes, want %zu", path, len,
                  n * sizeof(float));
    float *out = malloc(len);
    memcpy(out, data, len);
    free(data);
    free(path);
    return out;
}

static int close_enough(double got, double want)
{
    double d = fabs(got - want);
    return d <= TOL * (fabs(want) > 1.0 ? fabs(want) : 1.0);
}

/* Asserts every value is close; returns the largest |got - want|. */
static double expect_close(const float *got, const float *want, size_t n,
                           const char *what)
{
    double dmax = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(close_enough(got[i], want[i]),
                      "%s[%zu]: got %.7g, want %.7g", what, i, got[i], want[i]);
        dmax = fmax(dmax, fabs((double)got[i] - want[i]));
    }
    return dmax;
}

/* One case of the manifest, unpacked. */
typedef struct {
    const char *model, *name;
    size_t B, T, H, V;
    int32_t *ids, *type_ids, *lengths;
    size_t n_rows;
    int32_t *rows;        /* [n_rows][2] (b, t) */
    cJSON *json;
} tcase;

static int32_t *int_matrix(cJSON *arr, size_t B, size_t T)
{
    int32_t *out = calloc(B * T, sizeof *out);
    for (size_t b = 0; b < B; b++) {
        cJSON *row = cJSON_GetArrayItem(arr, (int)b);
        for (size_t t = 0; t < T; t++)
            out[b * T + t] = (int32_t)cJSON_GetArrayItem(row, (int)t)->valueint;
    }
    return out;
}

static void case_get(cJSON *j, tcase *c)
{
    memset(c, 0, sizeof *c);
    c->json = j;
    c->model = cJSON_GetObjectItem(j, "model")->valuestring;
    c->name = cJSON_GetObjectItem(j, "case")->valuestring;
    c->B = (size_t)cJSON_GetObjectItem(j, "B")->valueint;
    c->T = (size_t)cJSON_GetObjectItem(j, "T")->valueint;
    c->H = (size_t)cJSON_GetObjectItem(j, "H")->valueint;
    c->V = (size_t)cJSON_GetObjectItem(j, "V")->valueint;
    c->ids = int_matrix(cJSON_GetObjectItem(j, "ids"), c->B, c->T);
    cJSON *tt = cJSON_GetObjectItem(j, "type_ids");
    c->type_ids = cJSON_IsArray(tt) ? int_matrix(tt, c->B, c->T) : NULL;
    cJSON *lens = cJSON_GetObjectItem(j, "lengths");
    c->lengths = calloc(c->B, sizeof *c->lengths);
    for (size_t b = 0; b < c->B; b++)
        c->lengths[b] = (int32_t)cJSON_GetArrayItem(lens, (int)b)->valueint;
    cJSON *rows = cJSON_GetObjectItem(j, "mlm_rows");
    c->n_rows = (size_t)cJSON_GetArraySize(rows);
    c->rows = calloc(c->n_rows * 2, sizeof *c->rows);
    for (size_t r = 0; r < c->n_rows; r++) {
        cJSON *p = cJSON_GetArrayItem(rows, (int)r);
        c->rows[2 * r] = (int32_t)cJSON_GetArrayItem(p, 0)->valueint;
        c->rows[2 * r + 1] = (int32_t)cJSON_GetArrayItem(p, 1)->valueint;
    }
}

static void case_free(tcase *c)
{
    free(c->ids);
    free(c->type_ids);
    free(c->lengths);
    free(c->rows);
}

static nlp_model *load_model(const char *name)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/models/%s", NLP_TEST_DATA, name);
    nlp_model *m = NULL;
    nlp_error err;
    ck_assert_msg(nlp_model_load(dir, &m, &err) == NLP_OK, "%s", err.msg);
    return m;
}

/* The task heads the case lists (seq_cls [B][C], token_cls [B][T][C],
 * qa [B][T][2]; real tokens only) through nlp_head_forward, whatever the
 * family calls their tensors; the largest deviation goes to stderr. */
static void check_heads(nlp_ctx *ctx, const nlp_model *m, const tcase *c, const float *hid)
{
    static const char *const key[] = {"seq_cls", "token_cls", "qa"};
    static const nlp_head head[] = {NLP_HEAD_SEQ_CLS, NLP_HEAD_TOKEN_CLS, NLP_HEAD_QA};
    const size_t H = c->H;
    for (int k = 0; k < 3; k++) {
        cJSON *f = cJSON_GetObjectItem(c->json, key[k]);
        if (!cJSON_IsString(f))
            continue;
        size_t C = 0;
        nlp_error err;
        ck_assert_msg(nlp_model_head(m, head[k], &C, &err) == NLP_OK, "%s", err.msg);
        const int seq = head[k] == NLP_HEAD_SEQ_CLS;
        const size_t n = seq ? c->B : c->B * c->T;
        float *got = malloc(n * C * sizeof *got);
        ck_assert_msg(nlp_head_forward(ctx, head[k], hid, n, seq ? c->T * H : H, got, &err) == NLP_OK,
                      "%s", err.msg);
        float *want = read_f32(f->valuestring, n * C);
        double dmax = 0;
        char what[256];
        for (size_t b = 0; b < c->B; b++) {
            size_t off = seq ? b * C : b * c->T * C, len = seq ? C : (size_t)c->lengths[b] * C;
            snprintf(what, sizeof what, "%s/%s %s row %zu", c->model, c->name, key[k], b);
            dmax = fmax(dmax, expect_close(got + off, want + off, len, what));
        }
        fprintf(stderr, "check_encoder: %s/%s %s max |diff| %.3g\n", c->model, c->name, key[k], dmax);
        free(want);
        free(got);
    }
}

/* Run case c on ctx and compare hidden states, MLM logits, pooler and
 * the listed task heads. */
static void run_case(nlp_ctx *ctx, const nlp_model *m, const tcase *c)
{
    char what[256];
    nlp_error err;
    nlp_batch bt = { c->B, c->T, c->ids, c->type_ids, c->lengths };
    const float *hid = NULL;
    ck_assert_msg(nlp_encoder_forward(ctx, &bt, &hid, &err) == NLP_OK,
                  "%s/%s: %s", c->model, c->name, err.msg);
    const size_t H = c->H;
    float *want = read_f32(cJSON_GetObjectItem(c->json, "hidden")->valuestring,
                           c->B * c->T * H);
    double dmax = 0;
    for (size_t b = 0; b < c->B; b++) {
        snprintf(what, sizeof what, "%s/%s hidden row %zu", c->model, c->name, b);
        dmax = fmax(dmax, expect_close(hid + b * c->T * H, want + b * c->T * H,
                                       (size_t)c->lengths[b] * H, what));
    }
    fprintf(stderr, "check_encoder: %s/%s hidden max |diff| %.3g\n", c->model, c->name, dmax);
    free(want);

    /* MLM logits of the selected rows */
    float *rows = malloc(c->n_rows * H * sizeof *rows);
    for (size_t r = 0; r < c->n_rows; r++)
        memcpy(rows + r * H,
               hid + ((size_t)c->rows[2 * r] * c->T + (size_t)c->rows[2 * r + 1]) * H,
               H * sizeof *rows);
    float *logits = malloc(c->n_rows * c->V * sizeof *logits);
    ck_assert_msg(nlp_mlm_head_forward(ctx, rows, c->n_rows, logits, &err) == NLP_OK,
                  "%s", err.msg);
    want = read_f32(cJSON_GetObjectItem(c->json, "mlm")->valuestring, c->n_rows * c->V);
    snprintf(what, sizeof what, "%s/%s mlm logits", c->model, c->name);
    fprintf(stderr, "check_encoder: %s/%s mlm max |diff| %.3g\n", c->model, c->name,
            expect_close(logits, want, c->n_rows * c->V, what));
    free(want);
    free(logits);
    free(rows);

    /* pooler */
    cJSON *pj = cJSON_GetObjectItem(c->json, "pooler");
    float *pool = malloc(c->B * H * sizeof *pool);
    nlp_status st = nlp_pooler_forward(ctx, hid, c->B, c->T, pool, &err);
    if (cJSON_IsString(pj)) {
        ck_assert_msg(st == NLP_OK, "%s", err.msg);
        want = read_f32(pj->valuestring, c->B * H);
        snprintf(what, sizeof what, "%s/%s pooler", c->model, c->name);
        expect_close(pool, want, c->B * H, what);
        free(want);
    } else {
        ck_assert_int_eq(st, NLP_ERR_NOT_FOUND);
        ck_assert_msg(strstr(err.msg, "pooler") != NULL, "%s", err.msg);
    }
    free(pool);
    check_heads(ctx, m, c, hid);
}

/* Every case of every fixture model, on 1 and 2 threads; one context per
 * model serves all its cases in manifest order (small, padded, longest). */
static void check_all_cases(int threads)
{
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(manifest, "cases"));
    ck_assert_int_gt(n, 0);
    nlp_model *m = NULL;
    nlp_ctx *ctx = NULL;
    const char *cur = "";
    nlp_error err;
    for (int i = 0; i < n; i++) {
        tcase c;
        case_get(cJSON_GetArrayItem(cJSON_GetObjectItem(manifest, "cases"), i), &c);
        if (strcmp(c.model, cur) != 0) {
            nlp_ctx_free(ctx);
            nlp_model_free(m);
            m = load_model(c.model);
            ck_assert_msg(nlp_ctx_create(m, threads, &ctx, &err) == NLP_OK, "%s", err.msg);
            ck_assert_int_eq(nlp_ctx_threads(ctx), threads);
            cur = c.model;
        }
        run_case(ctx, m, &c);
        case_free(&c);
    }
    nlp_ctx_free(ctx);
    nlp_model_free(m);
}

START_TEST(test_numerics_1thread) { check_all_cases(1); }
END_TEST

START_TEST(test_numerics_2threads) { check_all_cases(2); }
END_TEST

/* Every kernel path this CPU can run (the portable one always), so the
 * slower paths' dense layers and attention are held to the same
 * tolerance as the one the machine picks. */
START_TEST(test_numerics_each_path)
{
    for (int p = NLP_PATH_GENERIC; p <= NLP_PATH_AVX512; p++) {
        if (nlp_cpu_force_path((nlp_kernel_path)p) != 0)
            continue;
        check_all_cases(2);
    }
}
END_TEST

/* The case named model/name (caller frees with case_free). */
static void find_case(const char *model, const char *name, tcase *c)
{
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(manifest, "cases")) {
        if (!strcmp(cJSON_GetObjectItem(e, "model")->valuestring, model) &&
            !strcmp(cJSON_GetObjectItem(e, "case")->valuestring, name)) {
            case_get(e, c);
            return;
        }
    }
    ck_abort_msg("no case %s/%s in the manifest", model, name);
}

/* Each row of a padded batch equals that text run alone, and the context
 * handles small -> large -> small -> large batches. */
static void check_padding(const char *model)
{
    tcase c, big;
    find_case(model, "batch3", &c);
    find_case(model, "len512", &big);
    nlp_model *m = load_model(model);
    nlp_ctx *ctx = NULL;
    nlp_error err;
    ck_assert_msg(nlp_ctx_create(m, 2, &ctx, &err) == NLP_OK, "%s", err.msg);
    const size_t H = c.H, T = c.T;
    float *alone = calloc(c.B * T * H, sizeof *alone);
    for (size_t b = 0; b < c.B; b++) {
        size_t L = (size_t)c.lengths[b];
        nlp_batch one = { 1, L, c.ids + b * T, c.type_ids ? c.type_ids + b * T : NULL,
                          c.lengths + b };
        const float *hid = NULL;
        ck_assert_msg(nlp_encoder_forward(ctx, &one, &hid, &err) == NLP_OK, "%s", err.msg);
        memcpy(alone + b * T * H, hid, L * H * sizeof *alone);
    }
    for (int round = 0; round < 2; round++) {
        nlp_batch bt = { c.B, T, c.ids, c.type_ids, c.lengths };
        const float *hid = NULL;
        ck_assert_msg(nlp_encoder_forward(ctx, &bt, &hid, &err) == NLP_OK, "%s", err.msg);
        for (size_t b = 0; b < c.B; b++) {
            size_t L = (size_t)c.lengths[b];
            for (size_t i = 0; i < L * H; i++)
                ck_assert_msg(fabsf(hid[b * T * H + i] - alone[b * T * H + i]) <= 1e-5f,
                              "%s row %zu value %zu: batch %.7g alone %.7g", model, b, i,
                              hid[b * T * H + i], alone[b * T * H + i]);
            for (size_t i = L * H; i < T * H; i++)
                ck_assert_msg(hid[b * T * H + i] == 0.0f, "padding not zeroed");
        }
        /* then a much larger batch on the same context */
        run_case(ctx, m, &big);
    }
    free(alone);
    nlp_ctx_free(ctx);
    nlp_model_free(m);
    case_free(&c);
    case_free(&big);
}

START_TEST(test_padding_bert) { check_padding("tiny-bert"); }
END_TEST

START_TEST(test_padding_distilbert) { check_padding("tiny-distilbert"); }
END_TEST

/* ModernBERT: rotary positions count within each batch row, the local
 * window stays inside it */
START_TEST(test_padding_modernbert) { check_padding("tiny-modernbert"); }
END_TEST

/* Mean pooling reads the lengths of the context's last forward pass, so
 * the sequence head refuses hidden states that are not its output. */
START_TEST(test_mean_pooling_needs_last_forward)
{
    tcase c;
    find_case("tiny-modernbert", "batch3", &c);
    nlp_model *m = load_model("tiny-modernbert");
    nlp_ctx *ctx = NULL;
    nlp_error err;
    ck_assert_msg(nlp_ctx_create(m, 1, &ctx, &err) == NLP_OK, "%s", err.msg);
    nlp_batch bt = { c.B, c.T, c.ids, NULL, c.lengths };
    const float *hid = NULL;
    ck_assert_msg(nlp_encoder_forward(ctx, &bt, &hid, &err) == NLP_OK, "%s", err.msg);
    const size_t n = c.B * c.T * c.H;
    float *copy = malloc(n * sizeof *copy), out[3 * 2];
    memcpy(copy, hid, n * sizeof *copy);
    ck_assert_int_eq(nlp_head_forward(ctx, NLP_HEAD_SEQ_CLS, copy, c.B, c.T * c.H, out, &err),
                     NLP_ERR_INVALID_ARG);
    ck_assert_msg(strstr(err.msg, "mean pooling") != NULL, "%s", err.msg);
    ck_assert_int_eq(nlp_head_forward(ctx, NLP_HEAD_SEQ_CLS, hid, c.B - 1, c.T * c.H, out, &err),
                     NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_head_forward(ctx, NLP_HEAD_SEQ_CLS, hid, c.B, c.T * c.H, out, &err),
                     NLP_OK);
    free(copy);
    nlp_ctx_free(ctx);
    nlp_model_free(m);
    case_free(&c);
}
END_TEST

START_TEST(test_errors)
{
    nlp_model *m = load_model("tiny-bert");
    nlp_ctx *ctx = NULL;
    nlp_error err;
    ck_assert_int_eq(nlp_ctx_create(m, 1, &ctx, &err), NLP_OK);
    static int32_t ids[513], types[513];
    for (int i = 0; i < 513; i++)
        ids[i] = 7;
    int32_t len = 513;
    const float *hid = NULL;

    /* longer than max_position_embeddings (512) */
    nlp_batch bt = { 1, 513, ids, NULL, &len };
    ck_assert_int_eq(nlp_encoder_forward(ctx, &bt, &hid, &err), NLP_ERR_INPUT);
    ck_assert_ptr_null(hid);
    ck_assert_msg(strstr(err.msg, "513") && strstr(err.msg, "max_position_embeddings"),
                  "%s", err.msg);

    /* an id outside the vocabulary names the position and the id */
    len = 5;
    ids[3] = 2000;
    nlp_batch b2 = { 1, 5, ids, NULL, &len };
    ck_assert_int_eq(nlp_encoder_forward(ctx, &b2, &hid, &err), NLP_ERR_INPUT);
    ck_assert_msg(strstr(err.msg, "2000") && strstr(err.msg, "position 3"), "%s", err.msg);
    ids[3] = -1;
    ck_assert_int_eq(nlp_encoder_forward(ctx, &b2, &hid, &err), NLP_ERR_INPUT);
    ck_assert_msg(strstr(err.msg, "-1"), "%s", err.msg);
    ids[3] = 7;

    /* ids past a row's length are padding and never read */
    ids[4] = 99999;
    len = 4;
    ck_assert_int_eq(nlp_encoder_forward(ctx, &b2, &hid, &err), NLP_OK);
    ids[4] = 7;

    /* a token type outside type_vocab_size */
    len = 5;
    types[2] = 2;
    nlp_batch b3 = { 1, 5, ids, types, &len };
    ck_assert_int_eq(nlp_encoder_forward(ctx, &b3, &hid, &err), NLP_ERR_INPUT);
    ck_assert_msg(strstr(err.msg, "type") && strstr(err.msg, "position 2"), "%s", err.msg);
    types[2] = 0;

    /* empty batch, zero length, bad lengths, NULL pointers */
    nlp_batch e1 = { 0, 5, ids, NULL, &len };
    ck_assert_int_eq(nlp_encoder_forward(ctx, &e1, &hid, &err), NLP_ERR_INPUT);
    ck_assert_msg(strstr(err.msg, "empty"), "%s", err.msg);
    nlp_batch e2 = { 1, 0, ids, NULL, &len };
    ck_assert_int_eq(nlp_encoder_forward(ctx, &e2, &hid, &err), NLP_ERR_INPUT);
    len = 6;
    ck_assert_int_eq(nlp_encoder_forward(ctx, &b2, &hid, &err), NLP_ERR_INPUT);
    ck_assert_msg(strstr(err.msg, "length 6"), "%s", err.msg);
    nlp_batch e3 = { 1, 5, NULL, NULL, &len };
    ck_assert_int_eq(nlp_encoder_forward(ctx, &e3, &hid, &err), NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_encoder_forward(ctx, NULL, &hid, &err), NLP_ERR_INVALID_ARG);

    /* the context still works afterwards */
    len = 5;
    ck_assert_int_eq(nlp_encoder_forward(ctx, &b2, &hid, &err), NLP_OK);
    ck_assert_ptr_nonnull(hid);

    /* no pooler in a BertForMaskedLM checkpoint */
    float pooled[48];
    ck_assert_int_eq(nlp_pooler_forward(ctx, hid, 1, 5, pooled, &err), NLP_ERR_NOT_FOUND);
    nlp_ctx_free(ctx);
    nlp_model_free(m);

    ck_assert_int_eq(nlp_ctx_create(NULL, 1, &ctx, &err), NLP_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_softmax_sigmoid_linear)
{
    /* softmax([0, ln 3]) = [1/4, 3/4]; softmax([1000, 1001]) =
     * [1/(1+e), e/(1+e)] without overflow */
    float x[4] = { 0.0f, logf(3.0f), 1000.0f, 1001.0f };
    nlp_softmax(x, 2, 2);
    ck_assert_float_eq_tol(x[0], 0.25f, 1e-6f);
    ck_assert_float_eq_tol(x[1], 0.75f, 1e-6f);
    ck_assert_float_eq_tol(x[2], 0.26894142f, 1e-6f);
    ck_assert_float_eq_tol(x[3], 0.73105858f, 1e-6f);
    /* sigmoid(ln 3) = 3/4, sigmoid(-ln 3) = 1/4, extremes stay finite */
    float s[4] = { logf(3.0f), -logf(3.0f), -200.0f, 200.0f };
    nlp_sigmoid(s, 4);
    ck_assert_float_eq_tol(s[0], 0.75f, 1e-6f);
    ck_assert_float_eq_tol(s[1], 0.25f, 1e-6f);
    ck_assert(s[2] >= 0.0f && s[2] < 1e-30f);
    ck_assert_float_eq(s[3], 1.0f);
    /* y = x W^T + b with hand-checked numbers */
    const float xi[2 * 3] = { 1, 2, 3, -1, 0, 1 };
    const float W[2 * 3] = { 1, 0, -1, 0.5f, 0.5f, 0.5f };
    const float bias[2] = { 10, -1 };
    float y[4];
    nlp_linear(NULL, xi, 2, 3, W, bias, 2, y);
    ck_assert_float_eq(y[0], 8.0f);   /* 1 - 3 + 10 */
    ck_assert_float_eq(y[1], 2.0f);   /* 3 - 1 */
    ck_assert_float_eq(y[2], 8.0f);   /* -1 - 1 + 10 */
    ck_assert_float_eq(y[3], -1.0f);  /* 0 - 1 */
}
END_TEST

/* DistilBERT has no token types: type ids are ignored, not rejected. */
START_TEST(test_distilbert_ignores_type_ids)
{
    tcase c;
    find_case("tiny-distilbert", "batch3", &c);
    nlp_model *m = load_model("tiny-distilbert");
    nlp_ctx *ctx = NULL;
    nlp_error err;
    ck_assert_int_eq(nlp_ctx_create(m, 1, &ctx, &err), NLP_OK);
    const size_t n = c.B * c.T * c.H;
    float *plain = malloc(n * sizeof *plain);
    nlp_batch bt = { c.B, c.T, c.ids, NULL, c.lengths };
    const float *hid = NULL;
    ck_assert_int_eq(nlp_encoder_forward(ctx, &bt, &hid, &err), NLP_OK);
    memcpy(plain, hid, n * sizeof *plain);
    int32_t *types = malloc(c.B * c.T * sizeof *types);
    for (size_t i = 0; i < c.B * c.T; i++)
        types[i] = 7;
    bt.type_ids = types;
    ck_assert_int_eq(nlp_encoder_forward(ctx, &bt, &hid, &err), NLP_OK);
    ck_assert_mem_eq(hid, plain, n * sizeof *plain);
    /* an empty MLM request is a no-op */
    ck_assert_int_eq(nlp_mlm_head_forward(ctx, hid, 0, plain, &err), NLP_OK);
    free(types);
    free(plain);
    nlp_ctx_free(ctx);
    nlp_model_free(m);
    case_free(&c);
}
END_TEST

/* Contexts share the model's packed weights: the first context of a
 * weight type packs them, a second one adds no memory, both give the same
 * bits, and a context outlives another on the same model. */
START_TEST(test_shared_packed_weights)
{
    tcase c;
    find_case("tiny-bert", "batch3", &c);
    nlp_model *m = load_model("tiny-bert");
    nlp_error err;
    ck_assert_uint_eq(nlp_model_packed_bytes(m), 0);   /* loading never packs */
    nlp_ctx *c1 = NULL, *c2 = NULL, *c3 = NULL;
    ck_assert_msg(nlp_ctx_create(m, 2, &c1, &err) == NLP_OK, "%s", err.msg);
    const size_t one = nlp_model_packed_bytes(m);
    ck_assert_uint_gt(one, 0);
    ck_assert_msg(nlp_ctx_create(m, 2, &c2, &err) == NLP_OK, "%s", err.msg);
    ck_assert_uint_eq(nlp_model_packed_bytes(m), one);
    nlp_packed_b *const *p1 = NULL, *const *p2 = NULL;
    ck_assert_int_eq(nlp_model_packed(m, NLP_WEIGHTS_FP32, NULL, &p1, &err), NLP_OK);
    ck_assert_int_eq(nlp_model_packed(m, NLP_WEIGHTS_FP32, NULL, &p2, &err), NLP_OK);
    ck_assert_ptr_nonnull(p1);
    ck_assert_ptr_eq(p1, p2);
    ck_assert_uint_eq(nlp_model_packed_bytes(m), one);

    const size_t n = c.B * c.T * c.H;
    nlp_batch bt = { c.B, c.T, c.ids, c.type_ids, c.lengths };
    const float *h1 = NULL, *h2 = NULL;
    ck_assert_int_eq(nlp_encoder_forward(c1, &bt, &h1, &err), NLP_OK);
    ck_assert_int_eq(nlp_encoder_forward(c2, &bt, &h2, &err), NLP_OK);
    ck_assert_ptr_ne(h1, h2);
    ck_assert_mem_eq(h1, h2, n * sizeof *h1);
    /* freeing one context leaves the other (and the weights) usable */
    nlp_ctx_free(c1);
    run_case(c2, m, &c);

    /* another weight type packs its own set once */
    ck_assert_msg(nlp_ctx_create_dtype(m, 1, NLP_WEIGHTS_INT8, &c3, &err) == NLP_OK,
                  "%s", err.msg);
    const size_t two = nlp_model_packed_bytes(m);
    ck_assert_uint_gt(two, one);
    nlp_ctx_free(c3);
    ck_assert_msg(nlp_ctx_create_dtype(m, 1, NLP_WEIGHTS_INT8, &c3, &err) == NLP_OK,
                  "%s", err.msg);
    ck_assert_uint_eq(nlp_model_packed_bytes(m), two);
    ck_assert_int_eq(nlp_model_packed(m, (nlp_weight_type)7, NULL, &p1, &err),
                     NLP_ERR_INVALID_ARG);
    nlp_ctx_free(c3);
    nlp_ctx_free(c2);
    nlp_model_free(m);
    case_free(&c);
}
END_TEST

typedef struct {
    const nlp_model *m;
    nlp_ctx *ctx;
    nlp_status st;
} create_arg;

static void *create_thread(void *vp)
{
    create_arg *a = vp;
    nlp_error err;
    a->st = nlp_ctx_create(a->m, 1, &a->ctx, &err);
    return NULL;
}

/* Contexts created at the same time on one model wait for one packing. */
START_TEST(test_concurrent_create)
{
    nlp_model *m = load_model("tiny-distilbert");
    enum { NT = 4 };
    pthread_t th[NT];
    create_arg args[NT];
    for (int i = 0; i < NT; i++) {
        args[i] = (create_arg){ m, NULL, NLP_ERR_INTERNAL };
        ck_assert_int_eq(pthread_create(&th[i], NULL, create_thread, &args[i]), 0);
    }
    for (int i = 0; i < NT; i++)
        pthread_join(th[i], NULL);
    nlp_error err;
    nlp_packed_b *const *p = NULL;
    const size_t bytes = nlp_model_packed_bytes(m);
    ck_assert_int_eq(nlp_model_packed(m, NLP_WEIGHTS_FP32, NULL, &p, &err), NLP_OK);
    for (int i = 0; i < NT; i++) {
        ck_assert_int_eq(args[i].st, NLP_OK);
        nlp_ctx_free(args[i].ctx);
    }
    /* one fp32 set: as large as a fresh model packs for one context */
    nlp_model *m2 = load_model("tiny-distilbert");
    nlp_ctx *c = NULL;
    ck_assert_int_eq(nlp_ctx_create(m2, 1, &c, &err), NLP_OK);
    ck_assert_uint_eq(nlp_model_packed_bytes(m2), bytes);
    nlp_ctx_free(c);
    nlp_model_free(m2);
    nlp_model_free(m);
}
END_TEST

static Suite *encoder_suite(void)
{
    Suite *s = suite_create("encoder");
    TCase *tc = tcase_create("numerics");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_numerics_1thread);
    tcase_add_test(tc, test_numerics_2threads);
    tcase_add_test(tc, test_numerics_each_path);
    tcase_add_test(tc, test_padding_bert);
    tcase_add_test(tc, test_padding_distilbert);
    tcase_add_test(tc, test_padding_modernbert);
    tcase_add_test(tc, test_mean_pooling_needs_last_forward);
    tcase_add_test(tc, test_shared_packed_weights);
    tcase_add_test(tc, test_concurrent_create);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("errors");
    tcase_add_test(te, test_errors);
    tcase_add_test(te, test_softmax_sigmoid_linear);
    tcase_add_test(te, test_distilbert_ignores_type_ids);
    suite_add_tcase(s, te);
    return s;
}

int main(void)
{
    load_manifest();
    SRunner *sr = srunner_create(encoder_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    cJSON_Delete(manifest);
    return failed ? 1 : 0;
}
