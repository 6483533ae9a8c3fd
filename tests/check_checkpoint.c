/*
 * check_checkpoint.c - the public writers and bench entry points: the
 * exact header nlp_safetensors_write produces and the reader's view of
 * it, fills in uneven chunks, fills that write too few or too many bytes
 * (an error, and no file under the final name or a temporary one left),
 * bad arguments, the layer-weight rule, nlp_peak_measure for every weight
 * type and nlp_gemm_time; the fp16 copy of nlp_checkpoint_quantize bit for
 * bit against PyTorch's Tensor.half() (data/expected/f16, from
 * tests/gen/gen_f16.py) and its refusal of a value beyond the F16 range.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlp/nlp.h"
#include "hub/sha256.h"
#include "model/safetensors.h"
#include "util/util.h"

static char tmpdir[64];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_checkpoint.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Entries of tmpdir besides . and .. */
static int count_files(void)
{
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    return n;
}

static void remove_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A fill writing the values 0, 1, 2, ... as F32 in chunks of 3 values,
 * plus extra bytes (negative: fewer). */
typedef struct { int extra; } fill_arg;

static nlp_status fill_counting(void *arg, const nlp_tensor_desc *t, nlp_tensor_sink *sink,
                                nlp_error *err)
{
    const fill_arg *a = arg;
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= t->shape[d];
    float v[3];
    for (int64_t i = 0; i < n; i += 3) {
        size_t m = n - i < 3 ? (size_t)(n - i) : 3;
        for (size_t k = 0; k < m; k++)
            v[k] = (float)(i + (int64_t)k);
        size_t bytes = m * sizeof *v;
        if (i + 3 >= n)
            bytes = (size_t)((int)bytes + a->extra);
        nlp_status st = nlp_tensor_sink_write(sink, v, bytes, err);
        if (st != NLP_OK)
            return st;
    }
    return NLP_OK;
}

START_TEST(test_write_and_read)
{
    make_tmp();
    char path[128];
    snprintf(path, sizeof path, "%s/model.safetensors", tmpdir);
    const int8_t q[6] = { -127, 0, 5, 127, 1, -1 };
    fill_arg fa = { 0 };
    nlp_tensor_desc t[2] = {
        { "a.layer.0.weight", NLP_DT_I8, 2, {2, 3}, q, NULL, NULL },
        { "b\"x", NLP_DT_F32, 1, {7}, NULL, fill_counting, &fa },
    };
    nlp_tensor_meta meta[] = { {"format", "pt"} };
    nlp_error err = {0};
    ck_assert_msg(nlp_safetensors_write(path, t, 2, meta, 1, &err) == NLP_OK, "%s", err.msg);
    ck_assert_int_eq(count_files(), 1);

    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char le[8];
    ck_assert_uint_eq(fread(le, 1, 8, f), 8);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | le[i];
    const char *want = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"a.layer.0.weight\":{\"dtype\":\"I8\",\"shape\":[2,3],\"data_offsets\":[0,6]},"
                       "\"b\\\"x\":{\"dtype\":\"F32\",\"shape\":[7],\"data_offsets\":[6,34]}}";
    ck_assert_uint_eq(hl % 8, 0);
    ck_assert_uint_eq(hl, (strlen(want) + 7) / 8 * 8);
    char hdr[512] = {0};
    ck_assert_uint_eq(fread(hdr, 1, hl, f), hl);
    ck_assert_int_eq(memcmp(hdr, want, strlen(want)), 0);
    for (size_t i = strlen(want); i < hl; i++)
        ck_assert_int_eq(hdr[i], ' ');
    fclose(f);

    nlp_st *st = NULL;
    ck_assert_msg(nlp_st_open(path, &st, &err) == NLP_OK, "%s", err.msg);
    const nlp_st_tensor *a = nlp_st_find(st, "a.layer.0.weight"), *b = nlp_st_find(st, "b\"x");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(memcmp(a->data, q, 6), 0);
    float v[7];
    ck_assert(nlp_st_to_f32(st, b, v, &err) == NLP_OK);
    for (int i = 0; i < 7; i++)
        ck_assert_float_eq(v[i], (float)i);
    nlp_st_close(st);
    remove_tmp();
}
END_TEST

START_TEST(test_bad_fills)
{
    make_tmp();
    char path[128];
    snprintf(path, sizeof path, "%s/model.safetensors", tmpdir);
    nlp_error err = {0};
    for (int extra = -4; extra <= 4; extra += 8) {
        fill_arg fa = { extra };
        nlp_tensor_desc t = { "x", NLP_DT_F32, 2, {2, 4}, NULL, fill_counting, &fa };
        ck_assert_int_eq(nlp_safetensors_write(path, &t, 1, NULL, 0, &err), NLP_ERR_INVALID_ARG);
        ck_assert_ptr_nonnull(strstr(err.msg, extra < 0 ? "too few" : "too many"));
        ck_assert_int_eq(count_files(), 0);
    }
    nlp_tensor_desc none = { "x", NLP_DT_F32, 1, {4}, NULL, NULL, NULL };
    ck_assert_int_eq(nlp_safetensors_write(path, &none, 1, NULL, 0, &err), NLP_ERR_INVALID_ARG);
    nlp_tensor_desc dt = { "x", NLP_DT_COUNT, 1, {4}, "abcd", NULL, NULL };
    ck_assert_int_eq(nlp_safetensors_write(path, &dt, 1, NULL, 0, &err), NLP_ERR_INVALID_ARG);
    nlp_tensor_desc neg = { "x", NLP_DT_U8, 1, {-1}, "abcd", NULL, NULL };
    ck_assert_int_eq(nlp_safetensors_write(path, &neg, 1, NULL, 0, &err), NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(count_files(), 0);
    ck_assert_int_eq(nlp_safetensors_write("/nonexistent-dir/x.safetensors", &dt, 0, NULL, 0, &err),
                     NLP_ERR_IO);
    remove_tmp();
}
END_TEST

START_TEST(test_layer_rule)
{
    ck_assert(nlp_checkpoint_is_layer_weight("bert.encoder.layer.3.output.dense.weight", NLP_DT_F32, 2));
    ck_assert(nlp_checkpoint_is_layer_weight("transformer.layer.0.ffn.lin1.weight", NLP_DT_BF16, 2));
    ck_assert(!nlp_checkpoint_is_layer_weight("bert.encoder.layer.3.output.dense.bias", NLP_DT_F32, 1));
    ck_assert(!nlp_checkpoint_is_layer_weight("bert.encoder.layer.3.output.LayerNorm.weight", NLP_DT_F32, 1));
    ck_assert(!nlp_checkpoint_is_layer_weight("bert.embeddings.word_embeddings.weight", NLP_DT_F32, 2));
    ck_assert(!nlp_checkpoint_is_layer_weight("bert.encoder.layer.3.output.dense.weight", NLP_DT_I8, 2));
}
END_TEST

START_TEST(test_bad_args)
{
    nlp_error err = {0};
    ck_assert_int_eq(nlp_checkpoint_quantize(NLP_TEST_DATA "/models/tiny-bert-mlm", "/tmp/x",
                                             NLP_DT_U8, NULL, NULL, &err), NLP_ERR_INVALID_ARG);
    nlp_quantize_opts o = { 0, 1, 0 };
    ck_assert_int_eq(nlp_checkpoint_quantize(NLP_TEST_DATA "/models/tiny-bert-mlm", "/tmp/x",
                                             NLP_DT_F16, &o, NULL, &err), NLP_ERR_INVALID_ARG);
    nlp_checkpoint_shape s = { 0, 0, 8, 2, 16, 10, 8, 2 };
    ck_assert_int_eq(nlp_checkpoint_write_random("/tmp/never-written", &s, &err), NLP_ERR_INVALID_ARG);
}
END_TEST

/* The file path as a string (owned by the caller). */
static char *slurp(const char *path)
{
    char *data = NULL;
    size_t len;
    nlp_error err;
    ck_assert_msg(nlp_read_file(path, &data, &len, &err) == NLP_OK, "%s", err.msg);
    return data;
}

/* The fixture's tensor called name, or name without its first component
 * (the family prefix: base-model checkpoints are saved without it). */
static const nlp_st_tensor *fixture_tensor(const nlp_st *st, const char *name)
{
    const nlp_st_tensor *t = nlp_st_find(st, name);
    const char *dot = strchr(name, '.');
    return t || !dot ? t : nlp_st_find(st, dot + 1);
}

/* A random checkpoint written from each family's fixture config loads and
 * runs, and each of its tensors is in the fixture (which PyTorch wrote in
 * the Hugging Face layout) under the same name and shape. */
START_TEST(test_random_every_family)
{
    static const char *const models[] = {
        "tiny-bert", "tiny-distilbert", "tiny-roberta", "tiny-xlm-roberta", "tiny-electra",
        "tiny-mpnet", "tiny-deberta", "tiny-deberta-norel", "tiny-deberta-v2",
        "tiny-modernbert",
    };
    make_tmp();
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char src[512], dir[256], path[600];
        snprintf(src, sizeof src, "%s/models/%s", NLP_TEST_DATA, models[i]);
        snprintf(dir, sizeof dir, "%s/%s", tmpdir, models[i]);
        snprintf(path, sizeof path, "%s/config.json", src);
        char *text = slurp(path);
        nlp_error err = {0};
        ck_assert_msg(nlp_checkpoint_write_random_config(dir, text, path, &err) == NLP_OK,
                      "%s: %s", models[i], err.msg);
        free(text);
        nlp_st *ours = NULL, *theirs = NULL;
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        ck_assert_msg(nlp_st_open(path, &ours, &err) == NLP_OK, "%s", err.msg);
        snprintf(path, sizeof path, "%s/model.safetensors", src);
        ck_assert_msg(nlp_st_open(path, &theirs, &err) == NLP_OK, "%s", err.msg);
        for (size_t k = 0; k < ours->n_tensors; k++) {
            const nlp_st_tensor *a = &ours->tensors[k], *b = fixture_tensor(theirs, a->name);
            ck_assert_msg(b != NULL, "%s: %s is not in the fixture", models[i], a->name);
            ck_assert_int_eq(a->ndim, b->ndim);
            for (int d = 0; d < a->ndim; d++)
                ck_assert_msg(a->shape[d] == b->shape[d], "%s: %s dim %d is %lld, fixture %lld",
                              models[i], a->name, d, (long long)a->shape[d], (long long)b->shape[d]);
        }
        nlp_st_close(ours);
        nlp_st_close(theirs);
        nlp_model *m = NULL;
        nlp_ctx *ctx = NULL;
        ck_assert_msg(nlp_model_load(dir, &m, &err) == NLP_OK, "%s: %s", models[i], err.msg);
        ck_assert_msg(nlp_ctx_create(m, 1, &ctx, &err) == NLP_OK, "%s", err.msg);
        int32_t ids[4] = {2, 5, 7, 3}, len = 4;
        nlp_batch nb = {1, 4, ids, NULL, &len};
        const float *hidden = NULL;
        ck_assert_msg(nlp_encoder_forward(ctx, &nb, &hidden, &err) == NLP_OK, "%s: %s",
                      models[i], err.msg);
        nlp_ctx_free(ctx);
        nlp_model_free(m);
    }
    /* a config it refuses: the error names the source, nothing is written */
    nlp_error err = {0};
    char dir[128];
    snprintf(dir, sizeof dir, "%s/bad", tmpdir);
    ck_assert_int_eq(nlp_checkpoint_write_random_config(dir, "{\"model_type\": \"gpt2\"}",
                                                        "my.json", &err), NLP_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "my.json"));
    ck_assert_int_ne(access(dir, F_OK), 0);
    ck_assert_int_eq(nlp_checkpoint_write_random_config(dir, "{", NULL, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "config.json"));
    remove_tmp();
}
END_TEST

/* Tensor t has the dtype, shape and bytes PyTorch gave (want). */
static void tensor_matches(const char *model, const nlp_st_tensor *t, cJSON *want)
{
    ck_assert_str_eq(nlp_dtype_name(t->dtype), cJSON_GetObjectItem(want, "dtype")->valuestring);
    cJSON *shape = cJSON_GetObjectItem(want, "shape");
    ck_assert_int_eq(t->ndim, cJSON_GetArraySize(shape));
    for (int d = 0; d < t->ndim; d++)
        ck_assert_int_eq(t->shape[d], (int64_t)cJSON_GetArrayItem(shape, d)->valuedouble);
    cJSON *bits = cJSON_GetObjectItem(want, "f16_bits");
    for (int i = 0; bits && i < cJSON_GetArraySize(bits); i++) {
        uint16_t h;
        memcpy(&h, (const char *)t->data + 2 * (size_t)i, sizeof h);
        ck_assert_msg(h == (uint16_t)cJSON_GetArrayItem(bits, i)->valueint,
                      "%s: %s[%d] is 0x%04x, PyTorch 0x%04x", model, t->name, i, h,
                      cJSON_GetArrayItem(bits, i)->valueint);
    }
    nlp_sha256 sh;
    uint8_t dig[32];
    char hex[65];
    nlp_sha256_init(&sh);
    nlp_sha256_update(&sh, t->data, t->nbytes);
    nlp_sha256_final(&sh, dig);
    nlp_sha256_hex(dig, hex);
    ck_assert_msg(strcmp(hex, cJSON_GetObjectItem(want, "sha256")->valuestring) == 0,
                  "%s: the bytes of %s differ from PyTorch's", model, t->name);
}

/* The fp16 copy of data/models/MODEL holds exactly the tensors of
 * model.half() (expected.json) and the same config.json. */
static void fp16_matches(cJSON *exp, const char *model)
{
    char in[512], out[128];
    snprintf(in, sizeof in, "%s/models/%s", NLP_TEST_DATA, model);
    snprintf(out, sizeof out, "%s/%s", tmpdir, model);
    nlp_error err = {0};
    nlp_quantize_info info;
    ck_assert_msg(nlp_checkpoint_quantize(in, out, NLP_DT_F16, NULL, &info, &err) == NLP_OK,
                  "%s", err.msg);
    ck_assert_uint_eq(info.n_quantized, 0);
    ck_assert_uint_gt(info.n_f16, 0);
    char *path = nlp_path_join(out, "model.safetensors");
    nlp_st *st = NULL;
    ck_assert_msg(nlp_st_open(path, &st, &err) == NLP_OK, "%s", err.msg);
    cJSON *want = cJSON_GetObjectItem(exp, model), *w;
    ck_assert_ptr_nonnull(want);
    ck_assert_uint_eq(st->n_tensors, (size_t)cJSON_GetArraySize(want));
    cJSON_ArrayForEach(w, want) {
        const nlp_st_tensor *t = nlp_st_find(st, w->string);
        ck_assert_msg(t != NULL, "%s: %s is missing from the copy", model, w->string);
        tensor_matches(model, t, w);
    }
    nlp_st_close(st);
    free(path);
    char *a = nlp_path_join(in, "config.json"), *b = nlp_path_join(out, "config.json");
    char *ca = slurp(a), *cb = slurp(b);
    ck_assert_str_eq(ca, cb);
    free(ca); free(cb); free(a); free(b);
}

START_TEST(test_fp16_vs_pytorch)
{
    make_tmp();
    char *text = slurp(NLP_TEST_DATA "/expected/f16/expected.json");
    cJSON *exp = cJSON_Parse(text);
    ck_assert_ptr_nonnull(exp);
    fp16_matches(exp, "tiny-bert");
    fp16_matches(exp, "tiny-distilbert-bf16");
    fp16_matches(exp, "f16-edge");
    cJSON_Delete(exp);
    free(text);
    remove_tmp();
}
END_TEST

/* 65520 rounds to an F16 infinity: refused, naming the tensor, before the
 * output folder is made; an int8 copy keeps F32 and is fine, unless the
 * rest goes to fp16. */
START_TEST(test_fp16_overflow)
{
    int over = 0;
    ck_assert_uint_eq(nlp_f32_to_f16(65519.996f, &over), 0x7bff);
    ck_assert_int_eq(over, 0);
    ck_assert_uint_eq(nlp_f32_to_f16(-65520.0f, &over), 0xfc00);
    ck_assert_int_eq(over, 1);
    make_tmp();
    const char *in = NLP_TEST_DATA "/models/f16-overflow";
    char out[128];
    snprintf(out, sizeof out, "%s/q", tmpdir);
    nlp_error err = {0};
    ck_assert_int_eq(nlp_checkpoint_quantize(in, out, NLP_DT_F16, NULL, NULL, &err),
                     NLP_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "extra.big") && strstr(err.msg, "65520") && strstr(err.msg, "F16"),
                  "%s", err.msg);
    ck_assert_int_eq(count_files(), 0);
    nlp_quantize_opts o = { 0, 0, 1 };
    ck_assert_int_eq(nlp_checkpoint_quantize(in, out, NLP_DT_I8, &o, NULL, &err), NLP_ERR_UNSUPPORTED);
    ck_assert_int_eq(count_files(), 0);
    ck_assert_msg(nlp_checkpoint_quantize(in, out, NLP_DT_I8, NULL, NULL, &err) == NLP_OK, "%s", err.msg);
    remove_tmp();
}
END_TEST

START_TEST(test_peaks)
{
    static const nlp_weight_type wt[] = { NLP_WEIGHTS_FP32, NLP_WEIGHTS_INT8, NLP_WEIGHTS_BF16 };
    nlp_error err = {0};
    for (int i = 0; i < 3; i++) {
        nlp_peak p = {0};
        ck_assert_msg(nlp_peak_measure(wt[i], 1, &p, &err) == NLP_OK, "%s", err.msg);
        ck_assert(p.ops_per_s > 1e6);
        ck_assert_int_eq(p.threads, 1);
        ck_assert_ptr_nonnull(p.instruction);
        ck_assert_ptr_nonnull(p.isa);
    }
    nlp_peak p;
    ck_assert_int_eq(nlp_peak_measure((nlp_weight_type)42, 1, &p, &err), NLP_ERR_INVALID_ARG);
    double t[3];
    int nt = 0;
    ck_assert(nlp_gemm_time(8, 16, 32, 1, 3, t, &nt, &err) == NLP_OK);
    ck_assert_int_eq(nt, 1);
    for (int i = 0; i < 3; i++)
        ck_assert(t[i] >= 0);
    ck_assert_int_eq(nlp_gemm_time(0, 16, 32, 1, 3, t, &nt, &err), NLP_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(nlp_kernel_name());
}
END_TEST

int main(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("writer");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_write_and_read);
    tcase_add_test(tc, test_bad_fills);
    tcase_add_test(tc, test_layer_rule);
    tcase_add_test(tc, test_bad_args);
    tcase_add_test(tc, test_random_every_family);
    tcase_add_test(tc, test_peaks);
    tcase_add_test(tc, test_fp16_vs_pytorch);
    tcase_add_test(tc, test_fp16_overflow);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
