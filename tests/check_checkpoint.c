/*
 * check_checkpoint.c - the public writers and bench entry points: the
 * exact header nlp_safetensors_write produces and the reader's view of
 * it, fills in uneven chunks, fills that write too few or too many bytes
 * (an error, and no file under the final name or a temporary one left),
 * bad arguments, the layer-weight rule, nlp_peak_measure for every weight
 * type and nlp_gemm_time.
 */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlp/nlp.h"
#include "model/safetensors.h"

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
                                             NLP_DT_F16, NULL, NULL, &err), NLP_ERR_INVALID_ARG);
    nlp_checkpoint_shape s = { 0, 0, 8, 2, 16, 10, 8, 2 };
    ck_assert_int_eq(nlp_checkpoint_write_random("/tmp/never-written", &s, &err), NLP_ERR_INVALID_ARG);
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
    tcase_add_test(tc, test_peaks);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
