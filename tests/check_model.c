/*
 * check_model.c - checkpoint loading: config.json, safetensors (single,
 * sharded, F32 / F16 / BF16), name prefixes, tied decoders, weight binding
 * and every malformed-input error.
 *
 * Reference values come from data/model-load/expected.json, written by
 * tests/gen/gen_model_fixtures.py with PyTorch: the F32 bits of every stored
 * tensor as torch converts it.  Error cases are built at test time by
 * copying a valid fixture into a temporary directory and corrupting it.
 */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "nlp/model.h"
#include "model/model_impl.h"
#include "nn/relbias.h"

#define FIX NLP_TEST_DATA "/model-load"

/* ------------------------------------------------------------ helpers */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static void spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static char *path2(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* A fresh temporary directory holding a copy of fixture src. */
static char *copy_fixture(const char *src)
{
    char tmpl[] = "/tmp/check_model.XXXXXX";
    char *dir = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(dir);
    dir = strdup(dir);
    char *sdir = path2(FIX, src);
    DIR *d = opendir(sdir);
    ck_assert_msg(d != NULL, "missing fixture %s", sdir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *a = path2(sdir, e->d_name), *b = path2(dir, e->d_name);
        size_t n;
        char *data = slurp(a, &n);
        spit(b, data, n);
        free(data);
        free(a);
        free(b);
    }
    closedir(d);
    free(sdir);
    return dir;
}

static void remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char *p = path2(dir, e->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

static void remove_file(const char *dir, const char *name)
{
    char *p = path2(dir, name);
    ck_assert_int_eq(unlink(p), 0);
    free(p);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char *p = path2(dir, name);
    spit(p, text, strlen(text));
    free(p);
}

/* A parsed safetensors file: header JSON and the data bytes after it. */
typedef struct st_parts {
    cJSON *header;
    unsigned char *data;
    size_t data_len;
} st_parts;

static st_parts st_read(const char *path)
{
    size_t n;
    unsigned char *raw = (unsigned char *)slurp(path, &n);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = (hl << 8) | raw[i];
    st_parts p;
    p.header = cJSON_ParseWithLength((const char *)raw + 8, (size_t)hl);
    ck_assert_ptr_nonnull(p.header);
    p.data_len = n - 8 - (size_t)hl;
    p.data = malloc(p.data_len + 1);
    memcpy(p.data, raw + 8 + hl, p.data_len);
    free(raw);
    return p;
}

/* Write header text (padded with pad spaces) and data as a safetensors file. */
static void st_write_raw(const char *path, const char *header, size_t pad, const void *data, size_t len)
{
    size_t hl = strlen(header) + pad;
    size_t total = 8 + hl + len;
    unsigned char *buf = malloc(total);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, header, strlen(header));
    memset(buf + 8 + strlen(header), ' ', pad);
    memcpy(buf + 8 + hl, data, len);
    spit(path, buf, total);
    free(buf);
}

static void st_write(const char *path, const st_parts *p, size_t pad)
{
    char *h = cJSON_PrintUnformatted(p->header);
    st_write_raw(path, h, pad, p->data, p->data_len);
    free(h);
}

static void st_free(st_parts *p)
{
    cJSON_Delete(p->header);
    free(p->data);
}

/* Replace one top-level config.json field with the given JSON text. */
static void config_set(const char *dir, const char *key, const char *json)
{
    char *p = path2(dir, "config.json");
    char *text = slurp(p, NULL);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    cJSON_DeleteItemFromObjectCaseSensitive(root, key);
    if (json)
        cJSON_AddItemToObject(root, key, cJSON_Parse(json));
    char *out = cJSON_Print(root);
    spit(p, out, strlen(out));
    free(out);
    cJSON_Delete(root);
    free(text);
    free(p);
}

static cJSON *expected_all(void)
{
    char *text = slurp(FIX "/expected.json", NULL);
    cJSON *e = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(e);
    return e;
}

/* data must hold exactly the F32 bits torch gave for tensor name. */
static void check_bits(const cJSON *fix, const char *name, const float *data)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(fix, name);
    ck_assert_msg(t != NULL, "no expected values for %s", name);
    ck_assert_msg(data != NULL, "%s is not bound", name);
    const cJSON *bits = cJSON_GetObjectItemCaseSensitive(t, "bits");
    int i = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, bits) {
        uint32_t got;
        memcpy(&got, &data[i], 4);
        uint32_t want = (uint32_t)b->valuedouble;
        ck_assert_msg(got == want, "%s[%d]: bits 0x%08x, expected 0x%08x", name, i, got, want);
        i++;
    }
}

/* Every stored tensor, fetched by its stored name and shape, equals torch's. */
static void check_all_tensors(const nlp_model *m, const cJSON *fix)
{
    const cJSON *t;
    int count = 0;
    cJSON_ArrayForEach(t, fix) {
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape");
        int64_t shape[8];
        int nd = 0;
        const cJSON *d;
        cJSON_ArrayForEach(d, sh)
            shape[nd++] = (int64_t)d->valuedouble;
        const float *data;
        int64_t actual[4] = {0};
        nlp_error err = {0};
        nlp_status s = nlp_model_tensor(m, t->string, nd, shape, &data, actual, &err);
        ck_assert_msg(s == NLP_OK, "%s: %s", t->string, err.msg);
        for (int i = 0; i < nd && i < 4; i++)
            ck_assert_int_eq(actual[i], shape[i]);
        check_bits(fix, t->string, data);
        count++;
    }
    ck_assert_int_gt(count, 10);
}

/* 1 if p lies inside a mapping of file path (from /proc/self/maps). */
static int in_file_mapping(const void *p, const char *path)
{
    char real[4096];
    ck_assert_ptr_nonnull(realpath(path, real));
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[8192];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char file[4096] = "";
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095[^\n]", &lo, &hi, file) < 2)
            continue;
        if (strcmp(file, real) == 0 && (uintptr_t)p >= lo && (uintptr_t)p < hi)
            found = 1;
    }
    fclose(f);
    return found;
}

static long file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return (long)st.st_size;
}

/* Expected binding of every nlp_weights field, BERT names. */
static void check_bert_binding(const nlp_model *m, const cJSON *fix, const char *pfx, int old_ln)
{
    const nlp_weights *w = nlp_model_weights(m);
    const nlp_config *c = nlp_model_config(m);
    const char *g = old_ln ? "gamma" : "weight", *bb = old_ln ? "beta" : "bias";
    char n[256];
#define CHK(field, ...)                                 \
    do {                                                \
        snprintf(n, sizeof n, __VA_ARGS__);             \
        check_bits(fix, n, field);                      \
    } while (0)
    CHK(w->word_emb, "%sembeddings.word_embeddings.weight", pfx);
    CHK(w->pos_emb, "%sembeddings.position_embeddings.weight", pfx);
    CHK(w->type_emb, "%sembeddings.token_type_embeddings.weight", pfx);
    CHK(w->emb_ln_g, "%sembeddings.LayerNorm.%s", pfx, g);
    CHK(w->emb_ln_b, "%sembeddings.LayerNorm.%s", pfx, bb);
    for (int l = 0; l < c->num_layers; l++) {
        const nlp_layer_weights *L = &w->layers[l];
        CHK(L->q_w, "%sencoder.layer.%d.attention.self.query.weight", pfx, l);
        CHK(L->q_b, "%sencoder.layer.%d.attention.self.query.bias", pfx, l);
        CHK(L->k_w, "%sencoder.layer.%d.attention.self.key.weight", pfx, l);
        CHK(L->k_b, "%sencoder.layer.%d.attention.self.key.bias", pfx, l);
        CHK(L->v_w, "%sencoder.layer.%d.attention.self.value.weight", pfx, l);
        CHK(L->v_b, "%sencoder.layer.%d.attention.self.value.bias", pfx, l);
        CHK(L->o_w, "%sencoder.layer.%d.attention.output.dense.weight", pfx, l);
        CHK(L->o_b, "%sencoder.layer.%d.attention.output.dense.bias", pfx, l);
        CHK(L->ln1_g, "%sencoder.layer.%d.attention.output.LayerNorm.%s", pfx, l, g);
        CHK(L->ln1_b, "%sencoder.layer.%d.attention.output.LayerNorm.%s", pfx, l, bb);
        CHK(L->ff1_w, "%sencoder.layer.%d.intermediate.dense.weight", pfx, l);
        CHK(L->ff1_b, "%sencoder.layer.%d.intermediate.dense.bias", pfx, l);
        CHK(L->ff2_w, "%sencoder.layer.%d.output.dense.weight", pfx, l);
        CHK(L->ff2_b, "%sencoder.layer.%d.output.dense.bias", pfx, l);
        CHK(L->ln2_g, "%sencoder.layer.%d.output.LayerNorm.%s", pfx, l, g);
        CHK(L->ln2_b, "%sencoder.layer.%d.output.LayerNorm.%s", pfx, l, bb);
    }
#undef CHK
}

static nlp_model *load_ok(const char *dir)
{
    nlp_model *m = NULL;
    nlp_error err = {0};
    nlp_status s = nlp_model_load(dir, &m, &err);
    ck_assert_msg(s == NLP_OK, "load %s: %s", dir, err.msg);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* Loading dir must fail with status and a message holding both needles. */
static void load_fails(const char *dir, nlp_status want, const char *needle1, const char *needle2)
{
    nlp_model *m = (nlp_model *)1;
    nlp_error err = {0};
    nlp_status s = nlp_model_load(dir, &m, &err);
    ck_assert_msg(s == want, "status %d (%s), expected %d", s, err.msg, want);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(err.status, want);
    ck_assert_msg(strchr(err.msg, '\n') == NULL, "multi-line message: %s", err.msg);
    if (needle1)
        ck_assert_msg(strstr(err.msg, needle1), "message \"%s\" lacks \"%s\"", err.msg, needle1);
    if (needle2)
        ck_assert_msg(strstr(err.msg, needle2), "message \"%s\" lacks \"%s\"", err.msg, needle2);
}

/* ------------------------------------------------------------ valid checkpoints */

START_TEST(test_bert_mlm_f32_prefixed_tied)
{
    cJSON *all = expected_all();
    const cJSON *fix = cJSON_GetObjectItemCaseSensitive(all, "bert-mlm-f32");
    nlp_model *m = load_ok(FIX "/bert-mlm-f32");
    const nlp_config *c = nlp_model_config(m);
    ck_assert_int_eq(c->family, NLP_FAMILY_BERT);
    ck_assert_str_eq(c->model_type, "bert");
    ck_assert_int_eq(c->vocab_size, 20);
    ck_assert_int_eq(c->hidden_size, 8);
    ck_assert_int_eq(c->num_layers, 2);
    ck_assert_int_eq(c->num_heads, 2);
    ck_assert_int_eq(c->intermediate_size, 12);
    ck_assert_int_eq(c->max_position_embeddings, 16);
    ck_assert_int_eq(c->type_vocab_size, 2);
    ck_assert_int_eq(c->hidden_act, NLP_ACT_GELU);
    ck_assert_float_eq(c->layer_norm_eps, 1e-12f);
    ck_assert_int_eq(c->num_labels, 2);
    ck_assert_str_eq(c->id2label[0], "LABEL_0");
    ck_assert_str_eq(c->id2label[1], "LABEL_1");
    ck_assert_int_eq(c->n_architectures, 1);
    ck_assert_str_eq(c->architectures[0], "BertForMaskedLM");
    ck_assert_str_eq(nlp_model_dir(m), FIX "/bert-mlm-f32");

    check_all_tensors(m, fix);
    check_bert_binding(m, fix, "bert.", 0);
    const nlp_weights *w = nlp_model_weights(m);
    ck_assert_ptr_null(w->pool_w);
    ck_assert_ptr_null(w->pool_b);
    check_bits(fix, "cls.predictions.transform.dense.weight", w->heads[NLP_HEAD_MLM].dense_w);
    check_bits(fix, "cls.predictions.transform.dense.bias", w->heads[NLP_HEAD_MLM].dense_b);
    check_bits(fix, "cls.predictions.transform.LayerNorm.weight", w->heads[NLP_HEAD_MLM].ln_g);
    check_bits(fix, "cls.predictions.transform.LayerNorm.bias", w->heads[NLP_HEAD_MLM].ln_b);
    check_bits(fix, "cls.predictions.bias", w->heads[NLP_HEAD_MLM].out_b);
    /* no cls.predictions.decoder.weight: tied to the word embeddings */
    ck_assert_ptr_eq(w->heads[NLP_HEAD_MLM].out_w, w->word_emb);

    /* prefix handling both ways */
    const float *a, *b;
    nlp_error err = {0};
    int64_t shape[2] = {20, 8};
    ck_assert_int_eq(nlp_model_tensor(m, "embeddings.word_embeddings.weight", 2, shape, &a, NULL, &err), NLP_OK);
    ck_assert_int_eq(nlp_model_tensor(m, "bert.embeddings.word_embeddings.weight", 2, shape, &b, NULL, &err), NLP_OK);
    ck_assert_ptr_eq(a, b);
    ck_assert_ptr_eq(a, w->word_emb);
    ck_assert_int_eq(nlp_model_has_tensor(m, "pooler.dense.weight"), 0);
    ck_assert_int_eq(nlp_model_has_tensor(m, "encoder.layer.1.output.dense.bias"), 1);
    ck_assert_int_eq(nlp_model_has_tensor(m, "bert.encoder.layer.1.output.dense.bias"), 1);
    ck_assert_int_eq(nlp_model_has_tensor(m, "cls.predictions.bias"), 1);

    /* F32, aligned: used in place from the file mapping, not copied */
    const char *file = FIX "/bert-mlm-f32/model.safetensors";
    ck_assert_msg(in_file_mapping(w->word_emb, file), "word_emb is not inside the mapping");
    ck_assert_msg(in_file_mapping(w->layers[1].ff2_w, file), "ff2_w is not inside the mapping");
    ck_assert_uint_eq(nlp_model_weight_bytes(m), (size_t)file_size(file));

    nlp_model_free(m);
    cJSON_Delete(all);
}
END_TEST

START_TEST(test_bert_f16_unprefixed_pooler)
{
    cJSON *all = expected_all();
    const cJSON *fix = cJSON_GetObjectItemCaseSensitive(all, "bert-base-f16");
    nlp_model *m = load_ok(FIX "/bert-base-f16");
    const nlp_config *c = nlp_model_config(m);
    ck_assert_int_eq(c->hidden_act, NLP_ACT_GELU_TANH);
    /* every tensor, including extra.special (subnormals, inf, NaN), bit-exact */
    check_all_tensors(m, fix);
    check_bert_binding(m, fix, "", 0);
    const nlp_weights *w = nlp_model_weights(m);
    check_bits(fix, "pooler.dense.weight", w->pool_w);
    check_bits(fix, "pooler.dense.bias", w->pool_b);
    ck_assert_ptr_null(w->heads[NLP_HEAD_MLM].dense_w);
    ck_assert_ptr_null(w->heads[NLP_HEAD_MLM].out_w);
    ck_assert_ptr_null(w->heads[NLP_HEAD_MLM].out_b);
    /* prefixed lookup of an unprefixed checkpoint */
    ck_assert_int_eq(nlp_model_has_tensor(m, "bert.pooler.dense.weight"), 1);
    /* converted once: not in the mapping */
    ck_assert(!in_file_mapping(w->word_emb, FIX "/bert-base-f16/model.safetensors"));
    nlp_model_free(m);
    cJSON_Delete(all);
}
END_TEST

START_TEST(test_bert_bf16_gamma_beta_labels)
{
    cJSON *all = expected_all();
    const cJSON *fix = cJSON_GetObjectItemCaseSensitive(all, "bert-cls-bf16");
    nlp_model *m = load_ok(FIX "/bert-cls-bf16");
    const nlp_config *c = nlp_model_config(m);
    ck_assert_int_eq(c->num_labels, 3);
    ck_assert_str_eq(c->id2label[0], "negative");
    ck_assert_str_eq(c->id2label[2], "positive");
    ck_assert_str_eq(c->problem_type, "single_label_classification");
    ck_assert_int_eq(c->n_label2id, 3);
    ck_assert_int_eq(nlp_config_label_id(c, "POSITIVE"), 2);
    ck_assert_int_eq(nlp_config_label_id(c, "Neutral"), 1);
    ck_assert_int_eq(nlp_config_label_id(c, "entailment"), -1);
    check_all_tensors(m, fix);
    check_bert_binding(m, fix, "bert.", 1);
    /* ".weight" finds the old ".gamma" spelling, with or without prefix */
    const float *g;
    nlp_error err = {0};
    int64_t h[1] = {8};
    ck_assert_int_eq(nlp_model_tensor(m, "embeddings.LayerNorm.weight", 1, h, &g, NULL, &err), NLP_OK);
    check_bits(fix, "bert.embeddings.LayerNorm.gamma", g);

    /* head tensors through nlp_model_tensor */
    const float *cw;
    int64_t shape[2] = {3, 8}, actual[4] = {0};
    ck_assert_int_eq(nlp_model_tensor(m, "classifier.weight", 2, shape, &cw, actual, &err), NLP_OK);
    ck_assert_int_eq(actual[0], 3);
    ck_assert_int_eq(actual[1], 8);
    check_bits(fix, "classifier.weight", cw);
    ck_assert_int_eq(nlp_model_tensor(m, "classifier.weight", 0, NULL, &cw, actual, &err), NLP_OK);
    int64_t any[2] = {-1, 8};
    ck_assert_int_eq(nlp_model_tensor(m, "classifier.weight", 2, any, &cw, NULL, &err), NLP_OK);

    /* wrong shape and missing tensors */
    int64_t bad[2] = {2, 8};
    ck_assert_int_eq(nlp_model_tensor(m, "classifier.weight", 2, bad, &cw, NULL, &err), NLP_ERR_SHAPE);
    ck_assert_ptr_null(cw);
    ck_assert_msg(strstr(err.msg, "model.safetensors") && strstr(err.msg, "classifier.weight") &&
                  strstr(err.msg, "[3, 8]") && strstr(err.msg, "[2, 8]"), "%s", err.msg);
    ck_assert_int_eq(nlp_model_tensor(m, "qa_outputs.weight", 2, bad, &cw, NULL, &err), NLP_ERR_NOT_FOUND);
    ck_assert_msg(strstr(err.msg, "model.safetensors") && strstr(err.msg, "missing tensor qa_outputs.weight [2, 8]"),
                  "%s", err.msg);
    nlp_model_free(m);
    cJSON_Delete(all);
}
END_TEST

START_TEST(test_distilbert_untied)
{
    cJSON *all = expected_all();
    const cJSON *fix = cJSON_GetObjectItemCaseSensitive(all, "distilbert-mlm-f32");
    nlp_model *m = load_ok(FIX "/distilbert-mlm-f32");
    const nlp_config *c = nlp_model_config(m);
    ck_assert_int_eq(c->family, NLP_FAMILY_DISTILBERT);
    ck_assert_int_eq(c->hidden_size, 8);
    ck_assert_int_eq(c->num_heads, 2);
    ck_assert_int_eq(c->num_layers, 2);
    ck_assert_int_eq(c->intermediate_size, 12);
    ck_assert_int_eq(c->type_vocab_size, 0);
    ck_assert_float_eq(c->layer_norm_eps, 1e-12f);
    ck_assert_int_eq(c->hidden_act, NLP_ACT_GELU);
    check_all_tensors(m, fix);
    const nlp_weights *w = nlp_model_weights(m);
    ck_assert_ptr_null(w->type_emb);
    check_bits(fix, "distilbert.embeddings.word_embeddings.weight", w->word_emb);
    check_bits(fix, "distilbert.embeddings.position_embeddings.weight", w->pos_emb);
    check_bits(fix, "distilbert.embeddings.LayerNorm.weight", w->emb_ln_g);
    check_bits(fix, "distilbert.embeddings.LayerNorm.bias", w->emb_ln_b);
    char n[128];
    for (int l = 0; l < 2; l++) {
        const nlp_layer_weights *L = &w->layers[l];
#define D(field, suffix)                                                        \
    do {                                                                        \
        snprintf(n, sizeof n, "distilbert.transformer.layer.%d.%s", l, suffix); \
        check_bits(fix, n, L->field);                                           \
    } while (0)
        D(q_w, "attention.q_lin.weight");
        D(q_b, "attention.q_lin.bias");
        D(k_w, "attention.k_lin.weight");
        D(k_b, "attention.k_lin.bias");
        D(v_w, "attention.v_lin.weight");
        D(v_b, "attention.v_lin.bias");
        D(o_w, "attention.out_lin.weight");
        D(o_b, "attention.out_lin.bias");
        D(ln1_g, "sa_layer_norm.weight");
        D(ln1_b, "sa_layer_norm.bias");
        D(ff1_w, "ffn.lin1.weight");
        D(ff1_b, "ffn.lin1.bias");
        D(ff2_w, "ffn.lin2.weight");
        D(ff2_b, "ffn.lin2.bias");
        D(ln2_g, "output_layer_norm.weight");
        D(ln2_b, "output_layer_norm.bias");
#undef D
    }
    check_bits(fix, "vocab_transform.weight", w->heads[NLP_HEAD_MLM].dense_w);
    check_bits(fix, "vocab_transform.bias", w->heads[NLP_HEAD_MLM].dense_b);
    check_bits(fix, "vocab_layer_norm.weight", w->heads[NLP_HEAD_MLM].ln_g);
    check_bits(fix, "vocab_layer_norm.bias", w->heads[NLP_HEAD_MLM].ln_b);
    check_bits(fix, "vocab_projector.weight", w->heads[NLP_HEAD_MLM].out_w);
    check_bits(fix, "vocab_projector.bias", w->heads[NLP_HEAD_MLM].out_b);
    ck_assert_ptr_ne(w->heads[NLP_HEAD_MLM].out_w, w->word_emb);
    ck_assert_ptr_null(w->pool_w);
    nlp_model_free(m);
    cJSON_Delete(all);
}
END_TEST

START_TEST(test_distilbert_tied)
{
    char *dir = copy_fixture("distilbert-mlm-f32");
    char *p = path2(dir, "model.safetensors");
    st_parts sp = st_read(p);
    cJSON_DeleteItemFromObjectCaseSensitive(sp.header, "vocab_projector.weight");
    st_write(p, &sp, 0);
    nlp_model *m = load_ok(dir);
    const nlp_weights *w = nlp_model_weights(m);
    ck_assert_ptr_eq(w->heads[NLP_HEAD_MLM].out_w, w->word_emb);
    nlp_model_free(m);
    st_free(&sp);
    free(p);
    remove_dir(dir);
}
END_TEST

START_TEST(test_sharded)
{
    cJSON *all = expected_all();
    const cJSON *fix = cJSON_GetObjectItemCaseSensitive(all, "bert-sharded");
    nlp_model *m = load_ok(FIX "/bert-sharded");
    check_all_tensors(m, fix);
    check_bert_binding(m, fix, "", 0);
    const nlp_weights *w = nlp_model_weights(m);
    check_bits(fix, "pooler.dense.weight", w->pool_w);
    ck_assert(in_file_mapping(w->word_emb, FIX "/bert-sharded/model-00001-of-00002.safetensors"));
    ck_assert(in_file_mapping(w->pool_w, FIX "/bert-sharded/model-00002-of-00002.safetensors"));
    ck_assert_uint_eq(nlp_model_weight_bytes(m),
                      (size_t)(file_size(FIX "/bert-sharded/model-00001-of-00002.safetensors") +
                               file_size(FIX "/bert-sharded/model-00002-of-00002.safetensors")));
    nlp_model_free(m);
    cJSON_Delete(all);
}
END_TEST

START_TEST(test_unaligned_f32_copied)
{
    cJSON *all = expected_all();
    const cJSON *fix = cJSON_GetObjectItemCaseSensitive(all, "bert-mlm-f32");
    char *dir = copy_fixture("bert-mlm-f32");
    char *p = path2(dir, "model.safetensors");
    st_parts sp = st_read(p);
    char *h = cJSON_PrintUnformatted(sp.header);
    /* pad so that the data area starts at an odd offset */
    size_t pad = (8 + strlen(h)) % 2 == 0 ? 1 : 0;
    st_write_raw(p, h, pad, sp.data, sp.data_len);
    free(h);
    nlp_model *m = load_ok(dir);
    check_all_tensors(m, fix);
    check_bert_binding(m, fix, "bert.", 0);
    const nlp_weights *w = nlp_model_weights(m);
    ck_assert_uint_eq((uintptr_t)w->word_emb % 4, 0);
    ck_assert(!in_file_mapping(w->word_emb, p));
    nlp_model_free(m);
    st_free(&sp);
    free(p);
    remove_dir(dir);
    cJSON_Delete(all);
}
END_TEST

/* ------------------------------------------------------------ config.json */

START_TEST(test_config_defaults)
{
    char tmpl[] = "/tmp/check_model.XXXXXX";
    char *dir = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(dir);
    char *p = path2(dir, "config.json");
    nlp_config c;
    nlp_error err = {0};

    /* BertConfig defaults (Hugging Face documentation) */
    spit(p, "{\"model_type\": \"bert\"}", 22);
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_OK);
    ck_assert_int_eq(c.vocab_size, 30522);
    ck_assert_int_eq(c.hidden_size, 768);
    ck_assert_int_eq(c.num_layers, 12);
    ck_assert_int_eq(c.num_heads, 12);
    ck_assert_int_eq(c.intermediate_size, 3072);
    ck_assert_int_eq(c.max_position_embeddings, 512);
    ck_assert_int_eq(c.type_vocab_size, 2);
    ck_assert_int_eq(c.pad_token_id, 0);
    ck_assert_float_eq(c.layer_norm_eps, 1e-12f);
    ck_assert_int_eq(c.hidden_act, NLP_ACT_GELU);
    ck_assert_int_eq(c.num_labels, 2);
    ck_assert_str_eq(c.id2label[1], "LABEL_1");
    ck_assert_int_eq(nlp_config_label_id(&c, "label_1"), 1);
    ck_assert_str_eq(c.problem_type, "");
    ck_assert_int_eq(c.n_architectures, 0);
    nlp_config_clear(&c);

    /* DistilBertConfig defaults */
    const char *d = "{\"model_type\": \"distilbert\", \"num_labels\": 4, \"activation\": \"relu\"}";
    spit(p, d, strlen(d));
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_OK);
    ck_assert_int_eq(c.family, NLP_FAMILY_DISTILBERT);
    ck_assert_int_eq(c.vocab_size, 30522);
    ck_assert_int_eq(c.hidden_size, 768);
    ck_assert_int_eq(c.num_layers, 6);
    ck_assert_int_eq(c.num_heads, 12);
    ck_assert_int_eq(c.intermediate_size, 3072);
    ck_assert_int_eq(c.type_vocab_size, 0);
    ck_assert_int_eq(c.hidden_act, NLP_ACT_RELU);
    ck_assert_int_eq(c.num_labels, 4);
    ck_assert_str_eq(c.id2label[3], "LABEL_3");
    nlp_config_clear(&c);

    /* model_type absent: the architecture names the family; null pad id */
    d = "{\"architectures\": [\"DistilBertForQuestionAnswering\"], \"pad_token_id\": null,"
        " \"hidden_size\": 64, \"n_heads\": 4}";
    spit(p, d, strlen(d));
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_OK);
    ck_assert_int_eq(c.family, NLP_FAMILY_DISTILBERT);
    ck_assert_int_eq(c.hidden_size, 64);
    ck_assert_int_eq(c.num_heads, 4);
    ck_assert_int_eq(c.pad_token_id, -1);
    nlp_config_clear(&c);

    /* RoBERTa: positions start after padding_idx (default 1); a null
     * pad id is an error; XLM-RoBERTa is the same family; the class name
     * alone names it too */
    d = "{\"model_type\": \"roberta\", \"max_position_embeddings\": 514}";
    spit(p, d, strlen(d));
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_OK);
    ck_assert_int_eq(c.family, NLP_FAMILY_ROBERTA);
    ck_assert_int_eq(c.pad_token_id, 1);
    ck_assert_int_eq(c.position_offset, 2);
    ck_assert_int_eq(c.embedding_size, c.hidden_size);
    nlp_config_clear(&c);
    d = "{\"model_type\": \"roberta\", \"pad_token_id\": null}";
    spit(p, d, strlen(d));
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "pad_token_id"));
    d = "{\"model_type\": \"roberta\", \"pad_token_id\": 600, \"max_position_embeddings\": 514}";
    spit(p, d, strlen(d));
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "max_position_embeddings 514"));
    d = "{\"architectures\": [\"XLMRobertaForTokenClassification\"], \"pad_token_id\": 1}";
    spit(p, d, strlen(d));
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_OK);
    ck_assert_int_eq(c.family, NLP_FAMILY_ROBERTA);
    nlp_config_clear(&c);
    /* ELECTRA: embedding_size (default 128) apart from hidden_size */
    d = "{\"model_type\": \"electra\", \"hidden_size\": 256, \"num_attention_heads\": 4}";
    spit(p, d, strlen(d));
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_OK);
    ck_assert_int_eq(c.family, NLP_FAMILY_ELECTRA);
    ck_assert_int_eq(c.embedding_size, 128);
    ck_assert_int_eq(c.position_offset, 0);
    nlp_config_clear(&c);

    /* ModernBertConfig's defaults: pre-LN, GeGLU, no biases but the
     * decoder's, first-token pooling; 8192 positions, all of them usable */
    d = "{\"model_type\": \"modernbert\"}";
    spit(p, d, strlen(d));
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_OK);
    ck_assert_int_eq(c.family, NLP_FAMILY_MODERNBERT);
    ck_assert_int_eq(c.vocab_size, 50368);
    ck_assert_int_eq(c.hidden_size, 768);
    ck_assert_int_eq(c.num_layers, 22);
    ck_assert_int_eq(c.num_heads, 12);
    ck_assert_int_eq(c.intermediate_size, 1152);
    ck_assert_int_eq(c.max_position_embeddings, 8192);
    ck_assert_int_eq(c.position_offset, 0);
    ck_assert_int_eq(c.type_vocab_size, 0);
    ck_assert_int_eq(c.pad_token_id, 50283);
    ck_assert_float_eq(c.layer_norm_eps, 1e-5f);
    ck_assert_int_eq(c.pre_norm, 1);
    ck_assert_int_eq(c.ffn_gated, 1);
    ck_assert_int_eq(c.global_attn_every, 3);
    ck_assert_int_eq(c.local_attention, 128);
    ck_assert_float_eq(c.rope_theta_global, 160000.0f);
    ck_assert_float_eq(c.rope_theta_local, 10000.0f);
    ck_assert_int_eq(c.classifier_pooling, NLP_POOLING_CLS);
    ck_assert_uint_eq(c.no_bias, NLP_NOBIAS_NORM | NLP_NOBIAS_ATTN | NLP_NOBIAS_MLP | NLP_NOBIAS_HEAD);
    nlp_config_clear(&c);
    /* ModernBERT-large's own config.json (from ../shared, when present) */
    static const char *const large = NLP_SHARED_DATA "/tokenizers/modernbert/config.json";
    if (access(large, R_OK) == 0) {
        ck_assert_int_eq(nlp_config_load(large, &c, &err), NLP_OK);
        ck_assert_int_eq(c.num_layers, 28);
        ck_assert_int_eq(c.classifier_pooling, NLP_POOLING_MEAN);
        ck_assert_int_eq(c.hidden_act, NLP_ACT_GELU);
        ck_assert_int_eq(c.classifier_act, NLP_ACT_GELU);
        nlp_config_clear(&c);
    } else {
        fprintf(stderr, "check_model: SKIP ModernBERT-large's config.json: %s is absent\n", large);
    }
    /* the rope_parameters newer configs write; biases switched on */
    d = "{\"model_type\": \"modernbert\", \"norm_bias\": true, \"decoder_bias\": false,"
        " \"rope_parameters\": {\"full_attention\": {\"rope_type\": \"default\", \"rope_theta\": 5e5},"
        " \"sliding_attention\": {\"rope_type\": \"default\", \"rope_theta\": 2e4}}}";
    spit(p, d, strlen(d));
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_OK);
    ck_assert_float_eq(c.rope_theta_global, 500000.0f);
    ck_assert_float_eq(c.rope_theta_local, 20000.0f);
    ck_assert_uint_eq(c.no_bias, NLP_NOBIAS_ATTN | NLP_NOBIAS_MLP | NLP_NOBIAS_HEAD |
                                 NLP_NOBIAS_DECODER);
    nlp_config_clear(&c);
    static const struct {
        const char *json, *needle;
        nlp_status want;
    } bad[] = {
        {"\"classifier_pooling\": \"max\"", "classifier_pooling \"max\"", NLP_ERR_UNSUPPORTED},
        {"\"hidden_size\": 36, \"num_attention_heads\": 4", "even head size", NLP_ERR_FORMAT},
        {"\"hidden_size\": 30, \"num_attention_heads\": 4", "even head size", NLP_ERR_FORMAT},
        {"\"rope_scaling\": {\"type\": \"linear\"}", "rope_scaling", NLP_ERR_UNSUPPORTED},
        {"\"rope_parameters\": {\"full_attention\": {\"rope_type\": \"yarn\"},"
         " \"sliding_attention\": {}}", "yarn", NLP_ERR_UNSUPPORTED},
        {"\"global_rope_theta\": -1", "global_rope_theta", NLP_ERR_FORMAT},
        {"\"norm_bias\": \"yes\"", "norm_bias", NLP_ERR_FORMAT},
        {"\"global_attn_every_n_layers\": 0", "global_attn_every_n_layers", NLP_ERR_FORMAT},
        {"\"local_attention\": -2", "local_attention", NLP_ERR_FORMAT},
        {"\"hidden_activation\": \"silu\"", "hidden_activation \"silu\"", NLP_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "{\"model_type\": \"modernbert\", %s}", bad[i].json);
        spit(p, buf, strlen(buf));
        ck_assert_int_eq(nlp_config_load(p, &c, &err), bad[i].want);
        ck_assert_msg(strstr(err.msg, bad[i].needle), "%s: %s", bad[i].json, err.msg);
    }

    /* the tanh GELU spellings */
    const char *tanh_names[] = {"gelu_new", "gelu_pytorch_tanh", "gelu_fast"};
    for (int i = 0; i < 3; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "{\"model_type\": \"bert\", \"hidden_act\": \"%s\"}", tanh_names[i]);
        spit(p, buf, strlen(buf));
        ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_OK);
        ck_assert_int_eq(c.hidden_act, NLP_ACT_GELU_TANH);
        nlp_config_clear(&c);
    }
    unlink(p);
    free(p);
    rmdir(dir);
}
END_TEST

/* The heads each family's module binds, whatever their tensor names: a
 * RoBERTa and an MPNet checkpoint with every head, an MPNetModel (no
 * head), a BERT token classifier (whose "classifier" is no sequence head
 * without a pooler) and a BERT MLM. */
START_TEST(test_family_heads)
{
    static const struct {
        const char *model;
        size_t n[4];          /* by nlp_head; 0 = absent (MLM: 1 = present) */
        const char *why;      /* what the sequence head's absence names */
    } cases[] = {
        {"tiny-roberta", {1, 3, 3, 2}, NULL},
        {"tiny-mpnet", {1, 3, 3, 2}, NULL},
        {"mpnet-embed", {0, 0, 0, 0}, "classifier.out_proj.weight"},
        {"tiny-modernbert", {1, 2, 2, 2}, NULL},
        {"ner-bert", {0, 0, 9, 0}, "bert.pooler.dense.weight"},
        {"tiny-bert-mlm", {1, 0, 0, 0}, "classifier.weight"},
        {"tiny-deberta", {1, 3, 3, 2}, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/models/%s", NLP_TEST_DATA, cases[i].model);
        nlp_model *m = load_ok(dir);
        const nlp_config *c = nlp_model_config(m);
        nlp_error err;
        size_t n = 0;
        ck_assert_int_eq(nlp_model_head(m, NLP_HEAD_MLM, &n, &err),
                         cases[i].n[0] ? NLP_OK : NLP_ERR_NOT_FOUND);
        ck_assert_uint_eq(n, cases[i].n[0] ? (size_t)c->vocab_size : 0);
        for (int h = 1; h < 4; h++) {
            nlp_status st = nlp_model_head(m, (nlp_head)h, &n, &err);
            if (cases[i].n[h] == 0) {
                ck_assert_int_eq(st, NLP_ERR_NOT_FOUND);
                if (h == NLP_HEAD_SEQ_CLS)
                    ck_assert_msg(strstr(err.msg, cases[i].why), "%s: %s", cases[i].model, err.msg);
            } else {
                ck_assert_msg(st == NLP_OK, "%s: %s", cases[i].model, err.msg);
                ck_assert_uint_eq(n, cases[i].n[h]);
            }
        }
        nlp_model_free(m);
    }
}
END_TEST

/* One config.json corruption: set key to json, expect status and needle. */
static void config_case(const char *key, const char *json, nlp_status want, const char *needle)
{
    char *dir = copy_fixture("bert-mlm-f32");
    config_set(dir, key, json);
    load_fails(dir, want, "config.json", needle);
    remove_dir(dir);
}

/* Label look-up: the first match in file order among names equal but for
 * case, and no quadratic cost when every label of a large config is looked
 * up (a fuzzing input with num_labels 202202 timed out). */
START_TEST(test_config_label_lookup)
{
    static const char dup[] =
        "{\"model_type\":\"bert\",\"hidden_size\":8,\"num_attention_heads\":2,"
        "\"label2id\":{\"b\":4,\"A\":7,\"a\":3,\"B\":1}}";
    nlp_config c;
    nlp_error err;
    ck_assert_int_eq(nlp_config_parse(dup, sizeof dup - 1, "dup", &c, &err), NLP_OK);
    ck_assert_int_eq(nlp_config_label_id(&c, "a"), 7);
    ck_assert_int_eq(nlp_config_label_id(&c, "B"), 4);
    ck_assert_int_eq(nlp_config_label_id(&c, "c"), -1);
    ck_assert_int_eq(nlp_config_label_id(&c, ""), -1);
    nlp_config_clear(&c);

    static const char many[] = "{\"model_type\":\"bert\",\"hidden_size\":8,\"num_attention_heads\":2,"
                               "\"num_labels\":1000000}";
    ck_assert_int_eq(nlp_config_parse(many, sizeof many - 1, "many", &c, &err), NLP_OK);
    for (int i = 0; i < c.num_labels; i++)
        ck_assert_int_eq(nlp_config_label_id(&c, c.id2label[i]), i);
    nlp_config_clear(&c);
}
END_TEST

START_TEST(test_config_errors)
{
    config_case("model_type", "\"gpt2\"", NLP_ERR_UNSUPPORTED, "\"gpt2\" (supported: bert, distilbert, roberta, xlm-roberta, electra, mpnet, deberta-v2, modernbert)");
    config_case("hidden_act", "\"swish\"", NLP_ERR_UNSUPPORTED, "hidden_act \"swish\"");
    config_case("hidden_act", "\"quick_gelu\"", NLP_ERR_UNSUPPORTED, "quick_gelu");
    config_case("position_embedding_type", "\"relative_key\"", NLP_ERR_UNSUPPORTED, "relative_key");
    config_case("hidden_size", "\"big\"", NLP_ERR_FORMAT, "\"hidden_size\" must be an integer");
    config_case("hidden_size", "9", NLP_ERR_FORMAT, "not a multiple of num_attention_heads");
    config_case("num_hidden_layers", "-3", NLP_ERR_FORMAT, "num_hidden_layers");
    config_case("vocab_size", "2.5", NLP_ERR_FORMAT, "vocab_size");
    config_case("id2label", "{\"zero\": \"a\", \"1\": \"b\"}", NLP_ERR_FORMAT, "id2label key \"zero\"");
    config_case("id2label", "{\"0\": \"a\", \"2\": \"b\"}", NLP_ERR_FORMAT, "id2label key \"2\"");
    config_case("id2label", "{\"0\": 5}", NLP_ERR_FORMAT, "id2label");
    config_case("label2id", "{\"a\": \"x\"}", NLP_ERR_FORMAT, "label2id");
    config_case("architectures", "\"BertModel\"", NLP_ERR_FORMAT, "architectures");
    config_case("layer_norm_eps", "\"small\"", NLP_ERR_FORMAT, "layer_norm_eps");
    /* out of float range: it would become infinity */
    config_case("layer_norm_eps", "1e39", NLP_ERR_FORMAT, "layer_norm_eps");
    config_case("layer_norm_eps", "2", NLP_ERR_FORMAT, "layer_norm_eps");
    config_case("hidden_size", "1e300", NLP_ERR_FORMAT, "hidden_size");
    config_case("is_decoder", "true", NLP_ERR_UNSUPPORTED, "is_decoder");
    config_case("model_type", "7", NLP_ERR_FORMAT, "model_type");

    /* no model_type: "BertForMaskedLM" in architectures names the family */
    char *dir = copy_fixture("bert-mlm-f32");
    config_set(dir, "model_type", NULL);
    nlp_model *m = load_ok(dir);
    ck_assert_int_eq(nlp_model_config(m)->family, NLP_FAMILY_BERT);
    ck_assert_str_eq(nlp_model_config(m)->model_type, "bert");
    nlp_model_free(m);
    remove_dir(dir);
}
END_TEST

START_TEST(test_config_files)
{
    /* a directory that does not exist */
    load_fails("/nonexistent/model-dir", NLP_ERR_IO, "/nonexistent/model-dir", NULL);

    /* no config.json */
    char *dir = copy_fixture("bert-mlm-f32");
    remove_file(dir, "config.json");
    load_fails(dir, NLP_ERR_IO, "config.json", NULL);
    /* malformed JSON */
    write_text(dir, "config.json", "{\"model_type\": \"bert\", \"hidden_size\": }");
    load_fails(dir, NLP_ERR_FORMAT, "config.json", "invalid JSON");
    /* not an object */
    write_text(dir, "config.json", "[1, 2]");
    load_fails(dir, NLP_ERR_FORMAT, "config.json", "not a JSON object");
    /* no model_type and nothing to infer it from */
    write_text(dir, "config.json", "{\"hidden_size\": 8}");
    load_fails(dir, NLP_ERR_UNSUPPORTED, "config.json", "no \"model_type\"");
    remove_dir(dir);
}
END_TEST

/* ------------------------------------------------------------ weight files */

START_TEST(test_weight_files)
{
    char *dir = copy_fixture("bert-mlm-f32");
    char *p = path2(dir, "model.safetensors");
    size_t n;
    char *orig = slurp(p, &n);

    /* only PyTorch weights */
    remove_file(dir, "model.safetensors");
    write_text(dir, "pytorch_model.bin", "not really");
    load_fails(dir, NLP_ERR_UNSUPPORTED, "pytorch_model.bin", "only safetensors weights are supported");
    /* no weights at all */
    remove_file(dir, "pytorch_model.bin");
    load_fails(dir, NLP_ERR_IO, "model.safetensors", NULL);

    /* shorter than the 8-byte length */
    spit(p, orig, 5);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors", "truncated");
    spit(p, orig, 0);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors", "truncated");
    /* header cut short: the length points past the end */
    spit(p, orig, 100);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors", "exceeds");
    /* absurd header length */
    char *big = malloc(n);
    memcpy(big, orig, n);
    memset(big, 0xff, 8);
    spit(p, big, n);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors", "header length");
    /* header bytes corrupted (JSON broken in the middle) */
    memcpy(big, orig, n);
    big[9] = '#';
    spit(p, big, n);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors", "invalid JSON near header byte");
    /* ... or closed early, leaving garbage inside the header length */
    memcpy(big, orig, n);
    memset(big + 40, '#', 4);
    spit(p, big, n);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors", "corrupt safetensors header");
    /* the header is not an object */
    st_write_raw(p, "[1,2,3]", 0, "", 0);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors", "JSON object");
    /* data area truncated: offsets now beyond the file */
    spit(p, orig, n - 16);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors", "outside the data area");
    free(big);

    /* header edits on a good file */
    spit(p, orig, n);
    st_parts sp = st_read(p);
    const char *victim = "bert.encoder.layer.1.output.dense.weight";
    cJSON *t = cJSON_GetObjectItemCaseSensitive(sp.header, victim);
    cJSON *offs = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
    double b0 = cJSON_GetArrayItem(offs, 0)->valuedouble;
    double b1 = cJSON_GetArrayItem(offs, 1)->valuedouble;

    /* offsets outside the data area */
    cJSON_ReplaceItemInArray(offs, 1, cJSON_CreateNumber((double)sp.data_len + 4));
    cJSON_ReplaceItemInArray(offs, 0, cJSON_CreateNumber((double)sp.data_len - b1 + b0 + 4));
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors", "bert.encoder.layer.1.output.dense.weight: data_offsets");
    /* negative / reversed offsets */
    cJSON_ReplaceItemInArray(offs, 0, cJSON_CreateNumber(-8));
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors", "data_offsets");
    cJSON_ReplaceItemInArray(offs, 0, cJSON_CreateNumber(b1));
    cJSON_ReplaceItemInArray(offs, 1, cJSON_CreateNumber(b0));
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors", "outside the data area");
    cJSON_ReplaceItemInArray(offs, 0, cJSON_CreateNumber(b0));
    cJSON_ReplaceItemInArray(offs, 1, cJSON_CreateNumber(b1));

    /* byte span does not match shape x dtype */
    cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
    cJSON_ReplaceItemInArray(shape, 1, cJSON_CreateNumber(13));
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_FORMAT, victim, "with 104 elements needs 416");
    cJSON_ReplaceItemInArray(shape, 1, cJSON_CreateNumber(12));

    /* F16 dtype with F32 bytes: size mismatch */
    cJSON_ReplaceItemInObjectCaseSensitive(t, "dtype", cJSON_CreateString("F16"));
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_FORMAT, victim, "F16");
    /* unknown dtype */
    cJSON_ReplaceItemInObjectCaseSensitive(t, "dtype", cJSON_CreateString("F12"));
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_FORMAT, victim, "unknown dtype \"F12\"");
    cJSON_ReplaceItemInObjectCaseSensitive(t, "dtype", cJSON_CreateString("F32"));

    /* shape entries that are not integers */
    cJSON_ReplaceItemInArray(shape, 1, cJSON_CreateString("12"));
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_FORMAT, victim, "shape");
    cJSON_ReplaceItemInArray(shape, 1, cJSON_CreateNumber(12));

    /* a wrong (but self-consistent) shape: [12, 8] where [8, 12] belongs */
    cJSON_ReplaceItemInArray(shape, 0, cJSON_CreateNumber(12));
    cJSON_ReplaceItemInArray(shape, 1, cJSON_CreateNumber(8));
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_SHAPE, "model.safetensors", "has shape [12, 8], expected [8, 12]");
    cJSON_ReplaceItemInArray(shape, 0, cJSON_CreateNumber(8));
    cJSON_ReplaceItemInArray(shape, 1, cJSON_CreateNumber(12));

    /* a missing tensor, named with its expected shape */
    cJSON *detached = cJSON_DetachItemFromObjectCaseSensitive(sp.header, victim);
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_NOT_FOUND, "model.safetensors: missing tensor encoder.layer.1.output.dense.weight [8, 12]", NULL);
    cJSON_AddItemToObject(sp.header, victim, detached);

    /* a missing MLM bias when the head is present */
    cJSON *bias = cJSON_DetachItemFromObjectCaseSensitive(sp.header, "cls.predictions.bias");
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_NOT_FOUND, "missing tensor cls.predictions.bias [20]", NULL);
    /* ... but cls.predictions.decoder.bias stands in for it */
    cJSON_AddItemToObject(sp.header, "cls.predictions.decoder.bias", bias);
    st_write(p, &sp, 0);
    nlp_model *m = load_ok(dir);
    ck_assert_ptr_nonnull(nlp_model_weights(m)->heads[NLP_HEAD_MLM].out_b);
    nlp_model_free(m);

    /* a tensor listed twice */
    cJSON_AddItemToObject(sp.header, "cls.predictions.bias",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(sp.header, "cls.predictions.decoder.bias"), 1));
    cJSON_AddItemToObject(sp.header, "cls.predictions.bias",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(sp.header, "cls.predictions.decoder.bias"), 1));
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors", "cls.predictions.bias is listed twice");
    st_free(&sp);

    /* a non-float tensor (position_ids, I64): loads, but is no weight */
    spit(p, orig, n);
    sp = st_read(p);
    unsigned char *data = realloc(sp.data, sp.data_len + 16 * 8);
    memset(data + sp.data_len, 0, 16 * 8);
    sp.data = data;
    cJSON *pid = cJSON_CreateObject();
    cJSON_AddStringToObject(pid, "dtype", "I64");
    cJSON *shp = cJSON_AddArrayToObject(pid, "shape");
    cJSON_AddItemToArray(shp, cJSON_CreateNumber(1));
    cJSON_AddItemToArray(shp, cJSON_CreateNumber(16));
    cJSON *off = cJSON_AddArrayToObject(pid, "data_offsets");
    cJSON_AddItemToArray(off, cJSON_CreateNumber((double)sp.data_len));
    cJSON_AddItemToArray(off, cJSON_CreateNumber((double)sp.data_len + 128));
    cJSON_AddItemToObject(sp.header, "bert.embeddings.position_ids", pid);
    sp.data_len += 128;
    st_write(p, &sp, 0);
    m = load_ok(dir);
    const float *f;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_model_has_tensor(m, "embeddings.position_ids"), 1);
    ck_assert_int_eq(nlp_model_tensor(m, "embeddings.position_ids", 0, NULL, &f, NULL, &err), NLP_ERR_SHAPE);
    ck_assert_msg(strstr(err.msg, "I64") && strstr(err.msg, "model.safetensors"), "%s", err.msg);
    nlp_model_free(m);
    st_free(&sp);

    free(orig);
    free(p);
    remove_dir(dir);
}
END_TEST

START_TEST(test_wrong_config_shape)
{
    /* config.json and weights disagree: intermediate size 10 vs 12 */
    char *dir = copy_fixture("bert-mlm-f32");
    config_set(dir, "intermediate_size", "10");
    load_fails(dir, NLP_ERR_SHAPE, "model.safetensors",
               "encoder.layer.0.intermediate.dense.weight has shape [12, 8], expected [10, 8]");
    remove_dir(dir);
    /* a DistilBERT config over BERT weights */
    dir = copy_fixture("bert-mlm-f32");
    write_text(dir, "config.json", "{\"model_type\": \"distilbert\", \"dim\": 8, \"n_heads\": 2, \"n_layers\": 2,"
               " \"hidden_dim\": 12, \"vocab_size\": 20, \"max_position_embeddings\": 16}");
    load_fails(dir, NLP_ERR_NOT_FOUND, "missing tensor embeddings.word_embeddings.weight [20, 8]", NULL);
    remove_dir(dir);
}
END_TEST

START_TEST(test_sharded_errors)
{
    char *dir = copy_fixture("bert-sharded");
    char *ip = path2(dir, "model.safetensors.index.json");
    size_t n;
    char *orig = slurp(ip, &n);

    /* a shard is missing */
    char *s2 = path2(dir, "model-00002-of-00002.safetensors");
    size_t n2;
    char *shard2 = slurp(s2, &n2);
    unlink(s2);
    load_fails(dir, NLP_ERR_IO, "model.safetensors.index.json", "model-00002-of-00002.safetensors");
    spit(s2, shard2, n2);
    /* a shard is corrupt: named in the message */
    spit(s2, shard2, 4);
    load_fails(dir, NLP_ERR_FORMAT, "model-00002-of-00002.safetensors", "truncated");
    spit(s2, shard2, n2);

    /* the index is not JSON */
    spit(ip, orig, n / 2);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors.index.json", "invalid JSON");
    /* no weight_map */
    write_text(dir, "model.safetensors.index.json", "{\"metadata\": {}}");
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors.index.json", "weight_map");

    cJSON *root = cJSON_Parse(orig);
    cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    /* a tensor listed in the wrong shard */
    cJSON_ReplaceItemInObjectCaseSensitive(wm, "pooler.dense.weight",
                                           cJSON_CreateString("model-00001-of-00002.safetensors"));
    char *text = cJSON_Print(root);
    write_text(dir, "model.safetensors.index.json", text);
    free(text);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors.index.json",
               "pooler.dense.weight is listed in shard model-00001-of-00002.safetensors");
    /* a shard name escaping the directory */
    cJSON_ReplaceItemInObjectCaseSensitive(wm, "pooler.dense.weight", cJSON_CreateString("../x.safetensors"));
    text = cJSON_Print(root);
    write_text(dir, "model.safetensors.index.json", text);
    free(text);
    load_fails(dir, NLP_ERR_FORMAT, "model.safetensors.index.json", "pooler.dense.weight");
    cJSON_Delete(root);

    /* a tensor in two shards */
    spit(ip, orig, n);
    char *s1 = path2(dir, "model-00001-of-00002.safetensors");
    st_parts a = st_read(s1), b = st_read(s2);
    cJSON_AddItemToObject(b.header, "embeddings.word_embeddings.weight",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(b.header, "pooler.dense.weight"), 1));
    st_write(s2, &b, 0);
    load_fails(dir, NLP_ERR_FORMAT, "embeddings.word_embeddings.weight", "is in both");
    st_free(&a);
    st_free(&b);

    free(s1);
    free(s2);
    free(shard2);
    free(orig);
    free(ip);
    remove_dir(dir);
}
END_TEST

/* ------------------------------------------------------------ F16 / BF16 */

/* Append a 1-D tensor of n elements of dtype to the header and data. */
static void st_append(st_parts *sp, const char *name, const char *dtype, const void *bytes, size_t n,
                      size_t elsize)
{
    unsigned char *data = realloc(sp->data, sp->data_len + n * elsize);
    ck_assert_ptr_nonnull(data);
    memcpy(data + sp->data_len, bytes, n * elsize);
    sp->data = data;
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "dtype", dtype);
    cJSON *shp = cJSON_AddArrayToObject(t, "shape");
    cJSON_AddItemToArray(shp, cJSON_CreateNumber((double)n));
    cJSON *off = cJSON_AddArrayToObject(t, "data_offsets");
    cJSON_AddItemToArray(off, cJSON_CreateNumber((double)sp->data_len));
    cJSON_AddItemToArray(off, cJSON_CreateNumber((double)(sp->data_len + n * elsize)));
    cJSON_AddItemToObject(sp->header, name, t);
    sp->data_len += n * elsize;
}

START_TEST(test_half_conversion_exhaustive)
{
    /* all 65536 F16 and BF16 bit patterns stored in a checkpoint; the F16
     * reference is the compiler's own _Float16 -> float conversion (NaNs
     * come out quiet, as in PyTorch: see extra.special above) */
    char *dir = copy_fixture("bert-mlm-f32");
    char *p = path2(dir, "model.safetensors");
    st_parts sp = st_read(p);
    uint16_t *bits = malloc(65536 * sizeof *bits);
    for (uint32_t i = 0; i < 65536; i++)
        bits[i] = (uint16_t)i;   /* little-endian host, as the format */
    st_append(&sp, "extra.all_f16", "F16", bits, 65536, 2);
    st_append(&sp, "extra.all_bf16", "BF16", bits, 65536, 2);
    st_write(p, &sp, 0);
    nlp_model *m = load_ok(dir);
    const float *f16, *bf16;
    nlp_error err = {0};
    int64_t shape[1] = {65536};
    ck_assert_int_eq(nlp_model_tensor(m, "extra.all_f16", 1, shape, &f16, NULL, &err), NLP_OK);
    ck_assert_int_eq(nlp_model_tensor(m, "extra.all_bf16", 1, shape, &bf16, NULL, &err), NLP_OK);
    for (uint32_t i = 0; i < 65536; i++) {
        uint32_t got, want;
#ifdef __FLT16_MAX__
        _Float16 h;
        memcpy(&h, &bits[i], 2);
        float ref = (float)h;
        memcpy(&want, &ref, 4);
        memcpy(&got, &f16[i], 4);
        ck_assert_msg(got == want, "F16 0x%04x: 0x%08x, expected 0x%08x", i, got, want);
#endif
        want = i << 16;
        memcpy(&got, &bf16[i], 4);
        ck_assert_msg(got == want, "BF16 0x%04x: 0x%08x, expected 0x%08x", i, got, want);
    }
    nlp_model_free(m);
    free(bits);
    st_free(&sp);
    free(p);
    remove_dir(dir);
}
END_TEST

/* Two tensors whose data_offsets share bytes are refused, naming both. */
START_TEST(test_overlapping_offsets)
{
    char *dir = copy_fixture("bert-mlm-f32");
    char *p = path2(dir, "model.safetensors");
    st_parts sp = st_read(p);
    cJSON *a = cJSON_GetObjectItemCaseSensitive(sp.header, "bert.embeddings.LayerNorm.bias");
    ck_assert_ptr_nonnull(a);
    cJSON *extra = cJSON_Duplicate(a, 1);
    /* the same bytes again, shifted by one element */
    cJSON *offs = cJSON_GetObjectItemCaseSensitive(extra, "data_offsets");
    double b0 = cJSON_GetArrayItem(offs, 0)->valuedouble, b1 = cJSON_GetArrayItem(offs, 1)->valuedouble;
    cJSON *sh = cJSON_GetObjectItemCaseSensitive(extra, "shape");
    cJSON_ReplaceItemInArray(sh, 0, cJSON_CreateNumber((b1 - b0) / 4 - 1));
    cJSON_ReplaceItemInArray(offs, 0, cJSON_CreateNumber(b0 + 4));
    cJSON_AddItemToObject(sp.header, "extra.alias", extra);
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_FORMAT, "extra.alias", "overlap");
    st_free(&sp);
    free(p);
    remove_dir(dir);
}
END_TEST

/* MPNet: config fields and their errors, the relative attention bias
 * bound (and its absence refused), the pooler of an MPNetModel, and the
 * bucket of every relative position as torch computes it
 * (data/expected/mpnet/buckets.json, tests/gen/gen_mpnet.py). */
START_TEST(test_mpnet)
{
    char tmpl[] = "/tmp/check_model.XXXXXX";
    char *dir = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(dir);
    char *p = path2(dir, "config.json");
    nlp_config c;
    nlp_error err;
    const char *d = "{\"model_type\": \"mpnet\", \"type_vocab_size\": 2}";
    spit(p, d, strlen(d));
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_OK);
    ck_assert_int_eq(c.family, NLP_FAMILY_MPNET);
    ck_assert_int_eq(c.pad_token_id, 1);
    ck_assert_int_eq(c.position_offset, 2);
    ck_assert_int_eq(c.type_vocab_size, 0);
    ck_assert_int_eq(c.relative_attention_num_buckets, 32);
    nlp_config_clear(&c);
    d = "{\"architectures\": [\"MPNetForMaskedLM\"], \"pad_token_id\": null}";
    spit(p, d, strlen(d));
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_OK);
    ck_assert_int_eq(c.family, NLP_FAMILY_MPNET);
    ck_assert_int_eq(c.position_offset, 2);
    nlp_config_clear(&c);
    d = "{\"model_type\": \"mpnet\", \"relative_attention_num_buckets\": 16}";
    spit(p, d, strlen(d));
    ck_assert_int_eq(nlp_config_load(p, &c, &err), NLP_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "relative_attention_num_buckets") && strstr(err.msg, "32"),
                  "%s", err.msg);
    unlink(p);
    free(p);
    rmdir(dir);

    /* the bias binds as [buckets][heads]; MPNetModel has the pooler */
    nlp_model *m = load_ok(NLP_TEST_DATA "/models/mpnet-embed");
    const nlp_weights *w = nlp_model_weights(m);
    ck_assert_ptr_nonnull(w->rel_bias);
    ck_assert_ptr_nonnull(w->pool_w);
    ck_assert_ptr_null(w->type_emb);
    ck_assert_int_eq(w->pos_pad, 1);
    nlp_model_free(m);

    /* without relative_attention_bias the load fails naming it */
    char *cp = copy_fixture("../models/tiny-mpnet");
    char *sp = path2(cp, "model.safetensors");
    st_parts parts = st_read(sp);
    cJSON *t = cJSON_DetachItemFromObjectCaseSensitive(parts.header,
                                                       "mpnet.encoder.relative_attention_bias.weight");
    ck_assert_ptr_nonnull(t);
    cJSON_AddItemToObject(parts.header, "mpnet.encoder.relative_bias.weight", t);
    st_write(sp, &parts, 0);
    load_fails(cp, NLP_ERR_NOT_FOUND, "encoder.relative_attention_bias.weight", "[32, 4]");
    st_free(&parts);
    free(sp);
    remove_dir(cp);

    /* buckets against torch, both sides, past max_distance */
    char *text = slurp(NLP_TEST_DATA "/expected/mpnet/buckets.json", NULL);
    cJSON *bj = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(bj);
    long from = (long)cJSON_GetObjectItemCaseSensitive(bj, "from")->valuedouble;
    const cJSON *b;
    long rel = from, n = 0;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(bj, "buckets")) {
        ck_assert_msg(nlp_relbias_bucket(rel) == b->valueint, "relative position %ld: bucket %d, "
                      "torch %d", rel, nlp_relbias_bucket(rel), b->valueint);
        rel++;
        n++;
    }
    ck_assert_int_gt(n, 1000);
    cJSON_Delete(bj);
}
END_TEST

/* ------------------------------------------------------------ DeBERTa-v2 */

/* config.json text d into dir/config.json, loaded into c (NLP_OK expected). */
static void deberta_config(const char *dir, const char *d, nlp_config *c)
{
    char *p = path2(dir, "config.json");
    spit(p, d, strlen(d));
    nlp_error err = {0};
    ck_assert_msg(nlp_config_load(p, c, &err) == NLP_OK, "%s: %s", d, err.msg);
    free(p);
}

/* DebertaV2Config's defaults, deberta-v3-large's relative-attention
 * fields, pos_att_type as a string, and the fields refused. */
START_TEST(test_deberta_config)
{
    char tmpl[] = "/tmp/check_model.XXXXXX";
    char *dir = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(dir);
    nlp_config c;
    deberta_config(dir, "{\"model_type\": \"deberta-v2\"}", &c);
    ck_assert_int_eq(c.family, NLP_FAMILY_DEBERTA_V2);
    ck_assert_int_eq(c.vocab_size, 128100);
    ck_assert_int_eq(c.hidden_size, 1536);
    ck_assert_int_eq(c.num_layers, 24);
    ck_assert_int_eq(c.num_heads, 24);
    ck_assert_int_eq(c.intermediate_size, 6144);
    ck_assert_int_eq(c.type_vocab_size, 0);
    ck_assert_float_eq(c.layer_norm_eps, 1e-7f);
    ck_assert_int_eq(c.no_position_embeddings, 0);
    ck_assert_int_eq(c.rel.relative, 0);
    ck_assert_int_eq(c.rel.scale_factor, 1);
    nlp_config_clear(&c);

    deberta_config(dir, "{\"model_type\": \"deberta-v2\", \"hidden_size\": 1024, "
                   "\"num_attention_heads\": 16, \"relative_attention\": true, "
                   "\"position_buckets\": 256, \"max_relative_positions\": -1, "
                   "\"pos_att_type\": [\"p2c\", \"c2p\"], \"share_att_key\": true, "
                   "\"norm_rel_ebd\": \"layer_norm\", \"position_biased_input\": false, "
                   "\"pooler_hidden_act\": \"relu\"}", &c);
    ck_assert_int_eq(c.rel.relative, 1);
    ck_assert_int_eq(c.rel.c2p, 1);
    ck_assert_int_eq(c.rel.p2c, 1);
    ck_assert_int_eq(c.rel.scale_factor, 3);
    ck_assert_int_eq(c.rel.position_buckets, 256);
    ck_assert_int_eq(c.rel.max_relative, 512);
    ck_assert_int_eq(c.rel.span, 256);
    ck_assert_int_eq(c.rel.share_att_key, 1);
    ck_assert_int_eq(c.rel.norm_rel_ebd, 1);
    ck_assert_int_eq(c.no_position_embeddings, 1);
    ck_assert_int_eq(c.pooler_act, NLP_ACT_RELU);
    nlp_config_clear(&c);

    /* v2's string form; no buckets: the span is max_relative_positions;
     * the class name alone names the family */
    deberta_config(dir, "{\"architectures\": [\"DebertaV2ForSequenceClassification\"], "
                   "\"hidden_size\": 64, \"num_attention_heads\": 4, "
                   "\"relative_attention\": true, \"max_relative_positions\": 128, "
                   "\"pos_att_type\": \"C2P | p2p\"}", &c);
    ck_assert_int_eq(c.family, NLP_FAMILY_DEBERTA_V2);
    ck_assert_int_eq(c.rel.c2p, 1);
    ck_assert_int_eq(c.rel.p2c, 0);
    ck_assert_int_eq(c.rel.scale_factor, 2);
    ck_assert_int_eq(c.rel.position_buckets, 0);
    ck_assert_int_eq(c.rel.span, 128);
    nlp_config_clear(&c);

    static const struct {
        const char *json;
        nlp_status st;
        const char *needle;
    } bad[] = {
        {"{\"model_type\": \"deberta-v2\", \"conv_kernel_size\": 3}", NLP_ERR_UNSUPPORTED,
         "conv_kernel_size"},
        {"{\"model_type\": \"deberta-v2\", \"relative_attention\": \"yes\"}", NLP_ERR_FORMAT,
         "\"relative_attention\" must be true or false"},
        {"{\"model_type\": \"deberta-v2\", \"relative_attention\": true, \"position_buckets\": 1}",
         NLP_ERR_FORMAT, "position_buckets"},
        {"{\"model_type\": \"deberta-v2\", \"relative_attention\": true, \"position_buckets\": 256, "
         "\"max_relative_positions\": 100}", NLP_ERR_FORMAT, "max_relative_positions (100)"},
        {"{\"model_type\": \"deberta-v2\", \"pos_att_type\": 3}", NLP_ERR_FORMAT, "pos_att_type"},
        {"{\"model_type\": \"deberta-v2\", \"pos_att_type\": [\"c2p\", 1]}", NLP_ERR_FORMAT,
         "pos_att_type"},
        {"{\"model_type\": \"deberta-v2\", \"attention_head_size\": 32}", NLP_ERR_UNSUPPORTED,
         "attention_head_size"},
        {"{\"model_type\": \"deberta-v2\", \"pooler_hidden_size\": 8}", NLP_ERR_UNSUPPORTED,
         "pooler_hidden_size"},
        {"{\"model_type\": \"deberta-v2\", \"pooler_hidden_act\": \"swish\"}", NLP_ERR_UNSUPPORTED,
         "pooler_hidden_act"},
        {"{\"model_type\": \"deberta-v2\", \"type_vocab_size\": -1}", NLP_ERR_FORMAT,
         "type_vocab_size"},
    };
    char *p = path2(dir, "config.json");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nlp_error err = {0};
        spit(p, bad[i].json, strlen(bad[i].json));
        ck_assert_int_eq(nlp_config_load(p, &c, &err), bad[i].st);
        ck_assert_msg(strstr(err.msg, bad[i].needle) && strstr(err.msg, "config.json"),
                      "%s: %s", bad[i].json, err.msg);
    }
    unlink(p);
    free(p);
    rmdir(dir);
}
END_TEST

/* Rename tensor from to to in dir's model.safetensors. */
static void st_rename(const char *dir, const char *from, const char *to)
{
    char *p = path2(dir, "model.safetensors");
    st_parts sp = st_read(p);
    cJSON *t = cJSON_DetachItemFromObjectCaseSensitive(sp.header, from);
    ck_assert_msg(t != NULL, "no tensor %s", from);
    cJSON_AddItemToObject(sp.header, to, t);
    st_write(p, &sp, 0);
    st_free(&sp);
    free(p);
}

/* The masked-LM head in transformers' newer layout
 * (lm_predictions.lm_head.*) binds the same weights as the legacy
 * cls.predictions.* one; a missing rel_embeddings is named. */
START_TEST(test_deberta_layouts)
{
    static const char *const names[][2] = {
        {"cls.predictions.transform.dense.weight", "lm_predictions.lm_head.dense.weight"},
        {"cls.predictions.transform.dense.bias", "lm_predictions.lm_head.dense.bias"},
        {"cls.predictions.transform.LayerNorm.weight", "lm_predictions.lm_head.LayerNorm.weight"},
        {"cls.predictions.transform.LayerNorm.bias", "lm_predictions.lm_head.LayerNorm.bias"},
        {"cls.predictions.bias", "lm_predictions.lm_head.bias"},
    };
    nlp_model *ref = load_ok(NLP_TEST_DATA "/models/tiny-deberta");
    char *dir = copy_fixture("../models/tiny-deberta");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        st_rename(dir, names[i][0], names[i][1]);
    config_set(dir, "legacy", "false");
    nlp_model *m = load_ok(dir);
    const nlp_head_weights *a = &nlp_model_weights(ref)->heads[NLP_HEAD_MLM];
    const nlp_head_weights *b = &nlp_model_weights(m)->heads[NLP_HEAD_MLM];
    const size_t H = (size_t)nlp_model_config(m)->hidden_size;
    ck_assert_uint_eq(b->C, a->C);
    ck_assert_uint_eq(b->D, H);
    ck_assert_int_eq(memcmp(a->dense_w, b->dense_w, H * H * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(a->dense_b, b->dense_b, H * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(a->ln_g, b->ln_g, H * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(a->ln_b, b->ln_b, H * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(a->out_b, b->out_b, a->C * sizeof(float)), 0);
    ck_assert_ptr_eq(b->out_w, nlp_model_weights(m)->word_emb);   /* tied */
    nlp_model_free(m);
    nlp_model_free(ref);

    st_rename(dir, "deberta.encoder.rel_embeddings.weight", "extra.rel");
    load_fails(dir, NLP_ERR_NOT_FOUND, "missing tensor encoder.rel_embeddings.weight [16, 32]", NULL);
    remove_dir(dir);
}
END_TEST

/* ModernBERT's tensors: the fused Wqkv's row blocks as q, k, v, no
 * attention norm on layer 0, bias-less norms on zeros, no position
 * embeddings, all 8192 positions usable; a checkpoint without the
 * decoder's bias is a classifier with no masked-LM head; a missing
 * attn_norm or a norm bias the config asks for is named. */
START_TEST(test_modernbert_binding)
{
    nlp_model *m = load_ok(NLP_TEST_DATA "/models/tiny-modernbert");
    const nlp_weights *w = nlp_model_weights(m);
    const nlp_config *c = nlp_model_config(m);
    const size_t H = (size_t)c->hidden_size;
    ck_assert_uint_eq(nlp_model_max_tokens(m), 8192);
    ck_assert_ptr_null(w->pos_emb);
    ck_assert_ptr_null(w->type_emb);
    ck_assert_ptr_null(w->layers[0].ln1_g);
    ck_assert_ptr_nonnull(w->layers[1].ln1_g);
    ck_assert_ptr_nonnull(w->final_ln_g);
    ck_assert_ptr_eq(w->layers[2].k_w, w->layers[2].q_w + H * H);
    ck_assert_ptr_eq(w->layers[2].v_w, w->layers[2].q_w + 2 * H * H);
    ck_assert_ptr_null(w->layers[2].qkv_b);
    ck_assert_ptr_null(w->layers[2].ff1_b);
    ck_assert_ptr_null(w->heads[NLP_HEAD_SEQ_CLS].dense_b);
    ck_assert_ptr_eq(w->heads[NLP_HEAD_MLM].out_w, w->word_emb);
    for (size_t i = 0; i < H; i++)
        ck_assert(w->emb_ln_b[i] == 0.0f && w->layers[3].ln2_b[i] == 0.0f);
    const float *wqkv;
    nlp_error err;
    int64_t shape[2] = {(int64_t)(3 * H), (int64_t)H};
    ck_assert_int_eq(nlp_model_tensor(m, "model.layers.2.attn.Wqkv.weight", 2, shape, &wqkv, NULL,
                                      &err), NLP_OK);
    ck_assert_ptr_eq(wqkv, w->layers[2].q_w);
    nlp_model_free(m);

    char *dir = copy_fixture("../models/tiny-modernbert");
    char *p = path2(dir, "model.safetensors");
    st_parts sp = st_read(p);
    cJSON_DeleteItemFromObjectCaseSensitive(sp.header, "decoder.bias");
    st_write(p, &sp, 0);
    m = load_ok(dir);
    ck_assert_int_eq(nlp_model_head(m, NLP_HEAD_MLM, NULL, &err), NLP_ERR_NOT_FOUND);
    ck_assert_int_eq(nlp_model_head(m, NLP_HEAD_SEQ_CLS, NULL, &err), NLP_OK);
    nlp_model_free(m);
    cJSON_DeleteItemFromObjectCaseSensitive(sp.header, "model.layers.1.attn_norm.weight");
    st_write(p, &sp, 0);
    load_fails(dir, NLP_ERR_NOT_FOUND, "layers.1.attn_norm.weight", NULL);
    st_free(&sp);
    config_set(dir, "norm_bias", "true");
    load_fails(dir, NLP_ERR_NOT_FOUND, "embeddings.norm.bias", NULL);
    free(p);
    remove_dir(dir);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("valid");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_bert_mlm_f32_prefixed_tied);
    tcase_add_test(tc, test_overlapping_offsets);
    tcase_add_test(tc, test_bert_f16_unprefixed_pooler);
    tcase_add_test(tc, test_bert_bf16_gamma_beta_labels);
    tcase_add_test(tc, test_distilbert_untied);
    tcase_add_test(tc, test_distilbert_tied);
    tcase_add_test(tc, test_sharded);
    tcase_add_test(tc, test_family_heads);
    tcase_add_test(tc, test_mpnet);
    tcase_add_test(tc, test_deberta_layouts);
    tcase_add_test(tc, test_modernbert_binding);
    tcase_add_test(tc, test_unaligned_f32_copied);
    tcase_add_test(tc, test_half_conversion_exhaustive);
    suite_add_tcase(s, tc);
    tc = tcase_create("config");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_config_defaults);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_config_label_lookup);
    tcase_add_test(tc, test_config_files);
    tcase_add_test(tc, test_deberta_config);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_weight_files);
    tcase_add_test(tc, test_wrong_config_shape);
    tcase_add_test(tc, test_sharded_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(model_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
