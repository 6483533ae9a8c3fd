/*
 * checkpoint.c - whole-checkpoint writers (nlp/checkpoint.h): the int8,
 * bf16 or fp16 copy of a checkpoint, and the random-weight checkpoint of a
 * config (whatever tensors the loader binds for it: nlp_model_plan).
 * Both produce their model.safetensors through nlp_safetensors_write.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "nlp/bench.h"
#include "nlp/checkpoint.h"
#include "nlp/model.h"
#include "family.h"
#include "model_impl.h"
#include "safetensors.h"
#include "util/util.h"

int nlp_checkpoint_is_layer_weight(const char *name, nlp_dtype dtype, int ndim)
{
    size_t n = strlen(name);
    return ndim == 2 && n > 7 && nlp_family_is_layer_weight(name)
           && (dtype == NLP_DT_F32 || dtype == NLP_DT_F16 || dtype == NLP_DT_BF16);
}

/* ---------------------------------------------------------------- quantize */

/* How a tensor is written: kept as it is, int8 values (followed by their
 * scales), bf16 or fp16. */
enum { Q_KEEP, Q_VALUES, Q_SCALES, Q_BF16, Q_F16 };

/* What the fill of one converted tensor needs. */
typedef struct quant_job {
    const nlp_st *st;
    const nlp_st_tensor *src;
    int kind;               /* Q_* */
    char *name;             /* NAME_scale for Q_SCALES (owned) */
} quant_job;

/* Row n of w[N][K] as int8 values (kind Q_VALUES) or its scale. */
static nlp_status quant_row(const float *row, size_t K, int kind, nlp_tensor_sink *sink,
                            nlp_error *err)
{
    float amax = 0.0f;
    for (size_t k = 0; k < K; k++)
        amax = fmaxf(amax, fabsf(row[k]));
    float inv = amax > 0.0f ? 127.0f / amax : 0.0f, scale = amax / 127.0f;
    if (kind == Q_SCALES)
        return nlp_tensor_sink_write(sink, &scale, sizeof scale, err);
    int8_t q[4096];
    nlp_status st = NLP_OK;
    for (size_t k0 = 0; k0 < K && st == NLP_OK; k0 += sizeof q) {
        size_t m = K - k0 < sizeof q ? K - k0 : sizeof q;
        for (size_t k = 0; k < m; k++) {
            long v = lrintf(row[k0 + k] * inv);
            q[k] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
        }
        st = nlp_tensor_sink_write(sink, q, m, err);
    }
    return st;
}

/* x[n] (element `at` onwards of job j's tensor) as bf16 or fp16 (j->kind).
 * A value beyond the F16 range is an error naming the tensor.  sink may be
 * NULL: the values are then only checked. */
static nlp_status half_row(const quant_job *j, const float *x, size_t n, size_t at,
                           nlp_tensor_sink *sink, nlp_error *err)
{
    uint16_t h[2048];
    nlp_status st = NLP_OK;
    for (size_t k0 = 0; k0 < n && st == NLP_OK; k0 += 2048) {
        size_t m = n - k0 < 2048 ? n - k0 : 2048;
        int over = 0;
        size_t k = 0;
        for (; k < m && !over; k++)
            h[k] = j->kind == Q_BF16 ? nlp_f32_to_bf16(x[k0 + k]) : nlp_f32_to_f16(x[k0 + k], &over);
        if (over)
            return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                                 "%s: tensor %s holds %g (element %zu), outside the F16 range "
                                 "(largest 65504)", j->st->source, j->src->name,
                                 (double)x[k0 + k - 1], at + k0 + k - 1);
        if (sink)
            st = nlp_tensor_sink_write(sink, h, m * sizeof *h, err);
    }
    return st;
}

/* nlp_tensor_fill_fn of a converted tensor: the source as F32, then row
 * by row (int8, bf16: rows of the 2-D weight; fp16: the whole tensor as
 * one row).  sink NULL only checks an fp16 tensor's range. */
static nlp_status quant_fill(void *arg, const nlp_tensor_desc *t, nlp_tensor_sink *sink,
                             nlp_error *err)
{
    (void)t;
    const quant_job *j = arg;
    size_t total = (size_t)j->src->numel;
    size_t N = j->kind == Q_F16 ? 1 : (size_t)j->src->shape[0], K = N ? total / N : 0;
    float *w = malloc((total > 0 ? total : 1) * sizeof *w);
    if (!w)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory converting tensor %s", j->src->name);
    nlp_status st = nlp_st_to_f32(j->st, j->src, w, err);
    for (size_t n = 0; n < N && st == NLP_OK; n++)
        st = j->kind == Q_BF16 || j->kind == Q_F16 ? half_row(j, w + n * K, K, n * K, sink, err)
                                                   : quant_row(w + n * K, K, j->kind, sink, err);
    free(w);
    return st;
}

/* 1 if t is the word-embedding matrix (as any family names it), a 2-D
 * float tensor. */
static int is_word_embeddings(const nlp_st_tensor *t)
{
    return t->ndim == 2 && nlp_family_is_word_embeddings(t->name)
           && (t->dtype == NLP_DT_F32 || t->dtype == NLP_DT_F16 || t->dtype == NLP_DT_BF16);
}

/* 1 if t is NAME_scale of an I8 tensor NAME (the loader needs it F32). */
static int is_int8_scale(const nlp_st *st, const nlp_st_tensor *t)
{
    size_t n = strlen(t->name);
    char base[512];
    if (n < 6 || n - 6 >= sizeof base || strcmp(t->name + n - 6, "_scale") != 0)
        return 0;
    memcpy(base, t->name, n - 6);
    base[n - 6] = '\0';
    const nlp_st_tensor *q = nlp_st_find(st, base);
    return q && q->dtype == NLP_DT_I8;
}

/* How the copy of dtype stores tensor t (Q_KEEP, Q_VALUES, Q_BF16, Q_F16). */
static int quant_kind(const nlp_st *st, const nlp_st_tensor *t, nlp_dtype dtype,
                      const nlp_quantize_opts *o)
{
    int layer = nlp_checkpoint_is_layer_weight(t->name, t->dtype, t->ndim);
    if (dtype == NLP_DT_BF16)
        return layer ? Q_BF16 : Q_KEEP;
    if (dtype == NLP_DT_I8 && (layer || (o->int8_embeddings && is_word_embeddings(t))))
        return Q_VALUES;
    int rest = dtype == NLP_DT_F16 || o->rest_f16;
    return rest && (t->dtype == NLP_DT_F32 || t->dtype == NLP_DT_BF16) && !is_int8_scale(st, t)
           ? Q_F16 : Q_KEEP;
}

/* The output tensor list of a copy: every tensor of st in order, converted
 * ones through a fill (int8 ones followed by their scales). */
typedef struct quant_plan {
    nlp_tensor_desc *d;     /* [n] */
    quant_job *j;           /* [n], kind Q_KEEP for a tensor kept as it is */
    size_t n, cap;
    size_t n_quantized;     /* tensors stored as I8 or BF16 */
    size_t n_f16;           /* tensors converted to F16 */
} quant_plan;

static void plan_free(quant_plan *p)
{
    for (size_t i = 0; p->j && i < p->cap; i++)
        free(p->j[i].name);
    free(p->j);
    free(p->d);
}

/* Add tensor t of st to p as kind (room for it is there). */
static nlp_status plan_add(quant_plan *p, const nlp_st *st, const nlp_st_tensor *t, int kind,
                           nlp_error *err)
{
    static const nlp_dtype out[] = { NLP_DT_F32, NLP_DT_I8, NLP_DT_F32, NLP_DT_BF16, NLP_DT_F16 };
    size_t i = p->n++;
    p->d[i] = (nlp_tensor_desc){ t->name, kind == Q_KEEP ? t->dtype : out[kind], t->ndim, {0},
                                 kind == Q_KEEP ? t->data : NULL, kind == Q_KEEP ? NULL : quant_fill,
                                 &p->j[i] };
    memcpy(p->d[i].shape, t->shape, sizeof t->shape);
    p->j[i] = (quant_job){ st, t, kind, NULL };
    p->n_quantized += kind == Q_VALUES || kind == Q_BF16;
    p->n_f16 += kind == Q_F16;
    if (kind != Q_VALUES)
        return NLP_OK;
    size_t len = strlen(t->name) + sizeof "_scale";
    char *scale_name = malloc(len);
    if (!scale_name)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", st->source);
    snprintf(scale_name, len, "%s_scale", t->name);
    i = p->n++;
    p->j[i] = (quant_job){ st, t, Q_SCALES, scale_name };
    p->d[i] = (nlp_tensor_desc){ scale_name, NLP_DT_F32, 1, {t->shape[0]}, NULL, quant_fill, &p->j[i] };
    return NLP_OK;
}

/* The plan of the dtype copy of st, its fp16 values checked against the
 * F16 range (so nothing is written for a tensor that does not fit).  The
 * caller frees *p with plan_free, also on failure. */
static nlp_status plan_make(const nlp_st *st, nlp_dtype dtype, const nlp_quantize_opts *o,
                            quant_plan *p, nlp_error *err)
{
    *p = (quant_plan){ .cap = 2 * st->n_tensors + 1 };
    p->d = calloc(p->cap, sizeof *p->d);
    p->j = calloc(p->cap, sizeof *p->j);
    if (!p->d || !p->j)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", st->source);
    nlp_status rc = NLP_OK;
    for (size_t i = 0; i < st->n_tensors && rc == NLP_OK; i++)
        rc = plan_add(p, st, &st->tensors[i], quant_kind(st, &st->tensors[i], dtype, o), err);
    for (size_t i = 0; i < p->n && rc == NLP_OK; i++)
        if (p->j[i].kind == Q_F16)
            rc = quant_fill(&p->j[i], &p->d[i], NULL, err);
    return rc;
}

/* Write out_dir/model.safetensors as planned. */
static nlp_status plan_write(const quant_plan *p, const char *out_dir, nlp_dtype dtype,
                             nlp_error *err)
{
    char *path = nlp_path_join(out_dir, "model.safetensors");
    if (!path)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", out_dir);
    const char *kind = dtype == NLP_DT_BF16 ? "bf16" : dtype == NLP_DT_F16 ? "fp16" : "int8";
    const nlp_tensor_meta meta[] = { {"format", "pt"}, {"nlp_quantize", kind} };
    nlp_status rc = nlp_safetensors_write(path, p->d, p->n, meta, 2, err);
    free(path);
    return rc;
}

/* Copy the regular file from to to. */
static nlp_status copy_file(const char *from, const char *to, nlp_error *err)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[1 << 16];
    size_t n;
    int ok = in && out;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in && ferror(in))
        ok = 0;
    int e = errno;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = 0, e = errno;
    if (!ok)
        return nlp_error_set(err, NLP_ERR_IO, "cannot copy %s to %s: %s", from, to, strerror(e));
    return NLP_OK;
}

/* Copy every other regular, non-hidden file of in to out. */
static nlp_status copy_others(const char *in, const char *out, nlp_error *err)
{
    DIR *d = opendir(in);
    if (!d)
        return nlp_error_set(err, NLP_ERR_IO, "%s: %s", in, strerror(errno));
    nlp_status st = NLP_OK;
    struct dirent *de;
    while (st == NLP_OK && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strncmp(de->d_name, "model.safetensors", 17) == 0)
            continue;
        char *from = nlp_path_join(in, de->d_name), *to = nlp_path_join(out, de->d_name);
        if (!from || !to)
            st = nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", in);
        else if (nlp_file_exists(from))
            st = copy_file(from, to, err);
        free(from);
        free(to);
    }
    closedir(d);
    return st;
}

/* The checks before anything is written: the input is a loadable,
 * unsharded checkpoint; out is not in; out exists only with force. */
static nlp_status quant_check(const char *in, const char *out, int force, const char *st_path,
                              nlp_error *err)
{
    if (!nlp_file_exists(st_path)) {
        char *index = nlp_path_join(in, "model.safetensors.index.json");
        int sharded = index && nlp_file_exists(index);
        free(index);
        return sharded ? nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                                       "%s: sharded checkpoints are not supported yet", in)
                       : nlp_error_set(err, NLP_ERR_NOT_FOUND, "%s: no model.safetensors", in);
    }
    nlp_model *model = NULL;
    nlp_status rc = nlp_model_load(in, &model, err);
    nlp_model_free(model);
    if (rc != NLP_OK)
        return rc;
    struct stat a, b;
    int exists = stat(out, &b) == 0;
    if (exists && stat(in, &a) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "%s: the output folder is the input folder", out);
    if (exists && !force)
        return nlp_error_set(err, NLP_ERR_CONFLICT, "%s already exists", out);
    return NLP_OK;
}

/* Create out (an existing folder is fine with force). */
static nlp_status make_out_dir(const char *out, int force, nlp_error *err)
{
    if (mkdir(out, 0755) != 0 && !(errno == EEXIST && force && nlp_dir_exists(out)))
        return nlp_error_set(err, NLP_ERR_IO, "cannot create %s: %s", out, strerror(errno));
    return NLP_OK;
}

nlp_status nlp_checkpoint_quantize(const char *in_dir, const char *out_dir, nlp_dtype dtype,
                                   const nlp_quantize_opts *opts, nlp_quantize_info *info,
                                   nlp_error *err)
{
    const nlp_quantize_opts none = {0}, *o = opts ? opts : &none;
    if (dtype != NLP_DT_I8 && dtype != NLP_DT_BF16 && dtype != NLP_DT_F16)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "quantize: dtype %s is not I8, BF16 or F16",
                             nlp_dtype_name(dtype));
    if (dtype != NLP_DT_I8 && (o->int8_embeddings || o->rest_f16))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "quantize: int8 word embeddings and an fp16 rest need dtype I8");
    char *path = nlp_path_join(in_dir, "model.safetensors");
    char *opath = nlp_path_join(out_dir, "model.safetensors");
    if (!path || !opath) {
        free(path);
        free(opath);
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", in_dir);
    }
    nlp_st *st = NULL;
    quant_plan plan = {0};
    nlp_status rc = quant_check(in_dir, out_dir, o->force, path, err);
    if (rc == NLP_OK)
        rc = nlp_st_open(path, &st, err);
    if (rc == NLP_OK)
        rc = plan_make(st, dtype, o, &plan, err);
    if (rc == NLP_OK)
        rc = make_out_dir(out_dir, o->force, err);
    if (rc == NLP_OK)
        rc = plan_write(&plan, out_dir, dtype, err);
    if (rc == NLP_OK)
        rc = copy_others(in_dir, out_dir, err);
    nlp_model *model = NULL;
    if (rc == NLP_OK)
        rc = nlp_model_load(out_dir, &model, err);   /* the copy must load */
    nlp_model_free(model);
    struct stat sb;
    if (rc == NLP_OK && info)
        *info = (nlp_quantize_info){ plan.n_quantized, nlp_st_mapped_bytes(st),
                                     stat(opath, &sb) == 0 ? (uint64_t)sb.st_size : 0, plan.n_f16 };
    plan_free(&plan);
    nlp_st_close(st);
    free(path);
    free(opath);
    return rc;
}

/* ---------------------------------------------------------------- random */

enum { R_WEIGHT, R_ONES, R_ZEROS, R_BIAS };

/* How a planned tensor is filled: LayerNorm gains with ones and their
 * biases with zeros, other biases and weights with random values. */
static int plan_kind(const nlp_tensor_plan *t)
{
    switch (t->role) {
    case NLP_TR_EMB_LN: case NLP_TR_LN1: case NLP_TR_LN2: case NLP_TR_REL_LN:
    case NLP_TR_FINAL_LN:
        return t->is_bias ? R_ZEROS : R_ONES;
    default:
        return t->is_bias ? R_BIAS : R_WEIGHT;
    }
}

/* The random checkpoint's generator state and its tensors' plan. */
typedef struct rand_state {
    uint64_t rng;
    const nlp_tensor_plan *plan;
    const nlp_tensor_desc *first;
} rand_state;

/* nlp_tensor_fill_fn: ones, zeros, or uniform values of +-0.035 (weights)
 * or +-0.02 (biases) from the one generator, tensor after tensor. */
static nlp_status rand_fill(void *arg, const nlp_tensor_desc *t, nlp_tensor_sink *sink,
                            nlp_error *err)
{
    enum { CHUNK = 1 << 14 };
    rand_state *r = arg;
    int kind = plan_kind(&r->plan[t - r->first]);
    size_t count = (size_t)t->shape[0] * (size_t)(t->ndim == 2 ? t->shape[1] : 1);
    float buf[CHUNK];
    nlp_status st = NLP_OK;
    while (st == NLP_OK && count) {
        size_t m = count < CHUNK ? count : CHUNK;
        for (size_t j = 0; j < m; j++)
            buf[j] = kind == R_ONES ? 1.0f : kind == R_ZEROS ? 0.0f
                   : (kind == R_BIAS ? 0.02f : 0.035f) * nlp_rand_uniform(&r->rng);
        st = nlp_tensor_sink_write(sink, buf, m * sizeof *buf, err);
        count -= m;
    }
    return st;
}

nlp_status nlp_checkpoint_shape_of(const nlp_config *cfg, nlp_checkpoint_shape *out,
                                   nlp_error *err)
{
    if (cfg->family != NLP_FAMILY_BERT && cfg->family != NLP_FAMILY_DISTILBERT)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "random checkpoints are written for "
                             "model_type bert and distilbert, not \"%s\"", cfg->model_type);
    *out = (nlp_checkpoint_shape){cfg->family == NLP_FAMILY_DISTILBERT, cfg->num_layers,
                                  cfg->hidden_size, cfg->num_heads, cfg->intermediate_size,
                                  cfg->vocab_size, cfg->max_position_embeddings,
                                  cfg->type_vocab_size > 0 ? cfg->type_vocab_size : 2};
    return NLP_OK;
}

/* dir/model.safetensors: every tensor the encoder of cfg binds
 * (nlp_model_plan), under its Hugging Face name; errors name target. */
static nlp_status rand_weights(const char *dir, const char *target, const nlp_config *cfg,
                               nlp_error *err)
{
    nlp_tensor_plan *plan = NULL;
    size_t n = 0;
    nlp_status rc = nlp_model_plan(cfg, &plan, &n, err);
    if (rc != NLP_OK)
        return rc;
    double bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += 4.0 * (double)plan[i].shape[0] * (double)(plan[i].ndim == 2 ? plan[i].shape[1] : 1);
    struct statvfs fs;
    if (statvfs(dir, &fs) == 0 && bytes > (double)fs.f_bavail * (double)fs.f_frsize) {
        free(plan);
        return nlp_error_set(err, NLP_ERR_NOSPACE, "%s: the random weights of this config take "
                             "%.1f GB, more than the %.1f GB free there", target, bytes / 1e9,
                             (double)fs.f_bavail * (double)fs.f_frsize / 1e9);
    }
    rand_state state = { 0x2545f4914f6cdd1dull, plan, NULL };
    nlp_tensor_desc *d = calloc(n, sizeof *d);
    char *path = nlp_path_join(dir, "model.safetensors");
    if (!d || !path) {
        rc = nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = (nlp_tensor_desc){ plan[i].name, NLP_DT_F32, plan[i].ndim,
                                      {plan[i].shape[0], plan[i].shape[1]}, NULL, rand_fill,
                                      &state };
        state.first = d;
        const nlp_tensor_meta meta[] = { {"format", "pt"} };
        rc = nlp_safetensors_write(path, d, n, meta, 1, err);
    }
    free(path);
    free(d);
    free(plan);
    return rc;
}

/* dir/config.json holding the len bytes of text. */
static nlp_status write_text(const char *dir, const char *text, size_t len, nlp_error *err)
{
    char *path = nlp_path_join(dir, "config.json");
    FILE *fp = path ? fopen(path, "w") : NULL;
    if (!fp) {
        nlp_status rc = path ? nlp_error_set(err, NLP_ERR_IO, "cannot write %s: %s", path, strerror(errno))
                             : nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
        free(path);
        return rc;
    }
    errno = 0;
    int bad = fwrite(text, 1, len, fp) != len;
    bad |= ferror(fp) | (fclose(fp) != 0);
    nlp_status rc = bad ? nlp_error_set(err, errno == ENOSPC ? NLP_ERR_NOSPACE : NLP_ERR_IO,
                                        "cannot write %s: %s", path, strerror(errno ? errno : EIO))
                        : NLP_OK;
    free(path);
    return rc;
}

/* The config.json text of shape s into buf[cap]; its length. */
static int shape_config(const nlp_checkpoint_shape *s, char *buf, size_t cap)
{
    if (s->distil)
        return snprintf(buf, cap, "{\n  \"model_type\": \"distilbert\",\n  \"architectures\": [\"DistilBertModel\"],\n"
                "  \"vocab_size\": %d,\n  \"dim\": %d,\n  \"n_layers\": %d,\n  \"n_heads\": %d,\n"
                "  \"hidden_dim\": %d,\n  \"max_position_embeddings\": %d,\n  \"activation\": \"gelu\",\n"
                "  \"pad_token_id\": 0\n}\n",
                s->vocab, s->hidden, s->layers, s->heads, s->intermediate, s->positions);
    return snprintf(buf, cap, "{\n  \"model_type\": \"bert\",\n  \"architectures\": [\"BertModel\"],\n"
                "  \"vocab_size\": %d,\n  \"hidden_size\": %d,\n  \"num_hidden_layers\": %d,\n"
                "  \"num_attention_heads\": %d,\n  \"intermediate_size\": %d,\n"
                "  \"max_position_embeddings\": %d,\n  \"type_vocab_size\": %d,\n"
                "  \"hidden_act\": \"gelu\",\n  \"layer_norm_eps\": 1e-12,\n  \"pad_token_id\": 0\n}\n",
                s->vocab, s->hidden, s->layers, s->heads, s->intermediate, s->positions, s->types);
}

/* Remove the files a failed write left in tmp, then tmp. */
static void remove_partial(const char *tmp)
{
    static const char *names[] = { "config.json", "model.safetensors" };
    for (size_t i = 0; i < 2; i++) {
        char *p = nlp_path_join(tmp, names[i]);
        if (p)
            unlink(p);
        free(p);
    }
    rmdir(tmp);
}

nlp_status nlp_checkpoint_write_random_config(const char *dir, const char *config_json,
                                              const char *source, nlp_error *err)
{
    if (!dir || !config_json)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_checkpoint_write_random_config: "
                             "no folder or no config given");
    const size_t len = strlen(config_json);
    nlp_config cfg;
    nlp_status rc = nlp_config_parse(config_json, len, source ? source : "config.json", &cfg, err);
    if (rc != NLP_OK)
        return rc;
    size_t cap = strlen(dir) + 32;
    char *tmp = malloc(cap);
    if (!tmp) {
        nlp_config_clear(&cfg);
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", dir);
    }
    snprintf(tmp, cap, "%s.tmp.%ld", dir, (long)getpid());
    if (nlp_mkdirs(tmp) != 0)
        rc = nlp_error_set(err, NLP_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    if (rc == NLP_OK)
        rc = write_text(tmp, config_json, len, err);
    if (rc == NLP_OK)
        rc = rand_weights(tmp, dir, &cfg, err);
    if (rc == NLP_OK && rename(tmp, dir) != 0)
        rc = nlp_error_set(err, NLP_ERR_IO, "cannot rename %s to %s: %s", tmp, dir, strerror(errno));
    if (rc != NLP_OK)
        remove_partial(tmp);
    free(tmp);
    nlp_config_clear(&cfg);
    return rc;
}

nlp_status nlp_checkpoint_write_random(const char *dir, const nlp_checkpoint_shape *s,
                                       nlp_error *err)
{
    if (s->layers < 1 || s->hidden < 1 || s->heads < 1 || s->intermediate < 1 || s->vocab < 1
        || s->positions < 1 || (!s->distil && s->types < 1))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "%s: every size of the shape must be at least 1", dir);
    char text[1024];
    shape_config(s, text, sizeof text);
    return nlp_checkpoint_write_random_config(dir, text, dir, err);
}
