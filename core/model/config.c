/*
 * config.c - config.json of a checkpoint into an nlp_config.
 *
 * The family (model_type) picks the family module (family.h) that reads
 * the family's own fields; this file reads what every family shares and
 * holds the field readers the modules use.  Absent fields take the
 * defaults of Hugging Face's config classes; labels follow PretrainedConfig (id2label keys are
 * decimal strings; without id2label there are num_labels labels, default 2,
 * named LABEL_<i>).  Present fields of the wrong type, unsupported
 * activations and unsupported position embeddings are errors naming the
 * file and the field.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "family.h"
#include "nlp/model.h"
#include "util/util.h"

/* Upper bound for any size in config.json: keeps every product of two
 * sizes far inside int64 and rejects absurd values early. */
#define CFG_MAX_DIM NLP_CFG_MAX_DIM
/* Largest layer_norm_eps: an epsilon above 1 would swamp the unit variance
 * it guards (and one above FLT_MAX would become infinity as a float). */
#define CFG_MAX_EPS 1.0

/* An integer field: default when absent, error when of the wrong type or
 * outside [lo, hi]. */
static nlp_status get_int(const char *path, const cJSON *root, const char *key, int def,
                          int lo, int hi, int *out, nlp_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v) {
        *out = def;
        return NLP_OK;
    }
    if (!cJSON_IsNumber(v) || floor(v->valuedouble) != v->valuedouble)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"%s\" must be an integer", path, key);
    if (v->valuedouble < lo || v->valuedouble > hi)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"%s\" is %.0f, outside [%d, %d]",
                             path, key, v->valuedouble, lo, hi);
    *out = (int)v->valuedouble;
    return NLP_OK;
}

/* A string field, or def when absent or null. */
static nlp_status get_str(const char *path, const cJSON *root, const char *key, const char *def,
                          const char **out, nlp_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return NLP_OK;
    }
    if (!cJSON_IsString(v))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"%s\" must be a string", path, key);
    *out = v->valuestring;
    return NLP_OK;
}

/* Hugging Face activation names and the function each one computes. */
static nlp_status parse_act(const char *path, const char *key, const char *name,
                            nlp_activation *out, nlp_error *err)
{
    static const struct {
        const char *name;
        nlp_activation act;
    } acts[] = {
        {"gelu", NLP_ACT_GELU},              /* erf form */
        {"gelu_python", NLP_ACT_GELU},       /* erf form, written in Python */
        {"gelu_new", NLP_ACT_GELU_TANH},     /* tanh approximation */
        {"gelu_pytorch_tanh", NLP_ACT_GELU_TANH},
        {"gelu_fast", NLP_ACT_GELU_TANH},    /* same tanh formula, factored */
        {"relu", NLP_ACT_RELU},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (strcmp(name, acts[i].name) == 0) {
            *out = acts[i].act;
            return NLP_OK;
        }
    return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                         "%s: unsupported %s \"%s\" (supported: gelu, gelu_python, gelu_new, "
                         "gelu_pytorch_tanh, gelu_fast, relu)", path, key, name);
}

/* A decimal label id as written in id2label keys ("0", "12"). */
static int parse_id(const char *s, int *out)
{
    if (!*s)
        return 0;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > 1000000)
            return 0;
        v = v * 10 + (*p - '0');
    }
    *out = (int)v;
    return 1;
}

/* label2id's entries ordered by name (ASCII case-insensitive), then by
 * file position, so a binary search finds the first match in file order. */
typedef struct {
    const char *name;
    int pos;
} label_key;

static int label_key_cmp(const void *a, const void *b)
{
    const label_key *x = a, *y = b;
    int c = strcasecmp(x->name, y->name);
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

static nlp_status label_index(const char *path, nlp_config *cfg, nlp_error *err)
{
    int n = cfg->n_label2id;
    label_key *keys = malloc((size_t)(n > 0 ? n : 1) * sizeof *keys);
    cfg->label2id_order = malloc((size_t)(n > 0 ? n : 1) * sizeof *cfg->label2id_order);
    if (!keys || !cfg->label2id_order) {
        free(keys);
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < n; i++)
        keys[i] = (label_key){cfg->label2id_names[i], i};
    qsort(keys, (size_t)n, sizeof *keys, label_key_cmp);
    for (int i = 0; i < n; i++)
        cfg->label2id_order[i] = keys[i].pos;
    free(keys);
    return NLP_OK;
}

static nlp_status parse_labels(const char *path, const cJSON *root, nlp_config *cfg, nlp_error *err)
{
    const cJSON *i2l = cJSON_GetObjectItemCaseSensitive(root, "id2label");
    const cJSON *l2i = cJSON_GetObjectItemCaseSensitive(root, "label2id");
    if (i2l && cJSON_IsNull(i2l))
        i2l = NULL;
    if (l2i && cJSON_IsNull(l2i))
        l2i = NULL;

    if (i2l) {
        if (!cJSON_IsObject(i2l))
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"id2label\" must be an object", path);
        int n = cJSON_GetArraySize(i2l);
        cfg->id2label = calloc((size_t)(n > 0 ? n : 1), sizeof *cfg->id2label);
        if (!cfg->id2label)
            return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
        cfg->num_labels = n;
        const cJSON *e;
        cJSON_ArrayForEach(e, i2l) {
            int id;
            if (!parse_id(e->string, &id) || id >= n)
                return nlp_error_set(err, NLP_ERR_FORMAT,
                                     "%s: id2label key \"%s\" is not a label id in 0..%d",
                                     path, e->string, n - 1);
            if (!cJSON_IsString(e))
                return nlp_error_set(err, NLP_ERR_FORMAT, "%s: id2label[\"%s\"] must be a string",
                                     path, e->string);
            if (cfg->id2label[id])
                return nlp_error_set(err, NLP_ERR_FORMAT, "%s: id2label lists id %d twice", path, id);
            cfg->id2label[id] = strdup(e->valuestring);
            if (!cfg->id2label[id])
                return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
        }
    } else {
        int n;
        nlp_status s = get_int(path, root, "num_labels", 2, 0, 1000000, &n, err);
        if (s != NLP_OK)
            return s;
        cfg->id2label = calloc((size_t)(n > 0 ? n : 1), sizeof *cfg->id2label);
        if (!cfg->id2label)
            return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
        cfg->num_labels = n;
        for (int i = 0; i < n; i++) {
            char buf[32];
            snprintf(buf, sizeof buf, "LABEL_%d", i);
            cfg->id2label[i] = strdup(buf);
            if (!cfg->id2label[i])
                return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
        }
    }

    if (l2i) {
        if (!cJSON_IsObject(l2i))
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"label2id\" must be an object", path);
        int n = cJSON_GetArraySize(l2i);
        cfg->label2id_names = calloc((size_t)(n > 0 ? n : 1), sizeof *cfg->label2id_names);
        cfg->label2id_ids = calloc((size_t)(n > 0 ? n : 1), sizeof *cfg->label2id_ids);
        if (!cfg->label2id_names || !cfg->label2id_ids)
            return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
        const cJSON *e;
        cJSON_ArrayForEach(e, l2i) {
            if (!cJSON_IsNumber(e) || floor(e->valuedouble) != e->valuedouble ||
                e->valuedouble < 0 || e->valuedouble > 1000000)
                return nlp_error_set(err, NLP_ERR_FORMAT,
                                     "%s: label2id[\"%s\"] must be a non-negative integer", path, e->string);
            int k = cfg->n_label2id;
            cfg->label2id_names[k] = strdup(e->string);
            if (!cfg->label2id_names[k])
                return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
            cfg->label2id_ids[k] = (int)e->valuedouble;
            cfg->n_label2id++;
        }
    } else {
        int n = cfg->num_labels;
        cfg->label2id_names = calloc((size_t)(n > 0 ? n : 1), sizeof *cfg->label2id_names);
        cfg->label2id_ids = calloc((size_t)(n > 0 ? n : 1), sizeof *cfg->label2id_ids);
        if (!cfg->label2id_names || !cfg->label2id_ids)
            return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
        for (int i = 0; i < n; i++) {
            cfg->label2id_names[i] = strdup(cfg->id2label[i]);
            if (!cfg->label2id_names[i])
                return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
            cfg->label2id_ids[i] = i;
            cfg->n_label2id++;
        }
    }
    return label_index(path, cfg, err);
}

static nlp_status parse_architectures(const char *path, const cJSON *root, nlp_config *cfg,
                                      nlp_error *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    if (!a || cJSON_IsNull(a))
        return NLP_OK;
    if (!cJSON_IsArray(a))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"architectures\" must be a list of strings", path);
    int n = cJSON_GetArraySize(a);
    cfg->architectures = calloc((size_t)(n > 0 ? n : 1), sizeof *cfg->architectures);
    if (!cfg->architectures)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsString(e))
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"architectures\" must be a list of strings", path);
        cfg->architectures[cfg->n_architectures] = strdup(e->valuestring);
        if (!cfg->architectures[cfg->n_architectures])
            return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
        cfg->n_architectures++;
    }
    return NLP_OK;
}

/* model_type, or when absent the family the first architecture names. */
static nlp_status parse_family(const char *path, const cJSON *root, nlp_config *cfg,
                               const nlp_family_ops **ops, nlp_error *err)
{
    char list[128];
    const char *mt;
    nlp_status s = get_str(path, root, "model_type", NULL, &mt, err);
    if (s != NLP_OK)
        return s;
    if (!mt) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "architectures");
        const cJSON *first = cJSON_IsArray(a) ? cJSON_GetArrayItem(a, 0) : NULL;
        *ops = cJSON_IsString(first) ? nlp_family_by_arch(first->valuestring) : NULL;
        if (!*ops)
            return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: no \"model_type\" (supported: %s)",
                                 path, nlp_family_list(list, sizeof list));
        mt = (*ops)->model_types[0];
    } else if (!(*ops = nlp_family_by_type(mt))) {
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                             "%s: unsupported model_type \"%s\" (supported: %s)", path, mt,
                             nlp_family_list(list, sizeof list));
    }
    cfg->family = (*ops)->family;
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", mt);
    return NLP_OK;
}

/* The fields every family shares: pad_token_id and the head split. */
static nlp_status parse_common(const char *path, const cJSON *root, nlp_config *cfg,
                               nlp_error *err)
{
    nlp_status s;
    const cJSON *pad = cJSON_GetObjectItemCaseSensitive(root, "pad_token_id");
    if (pad && cJSON_IsNull(pad))
        cfg->pad_token_id = -1;
    else if ((s = get_int(path, root, "pad_token_id", cfg->pad_token_id, 0, CFG_MAX_DIM,
                          &cfg->pad_token_id, err)) != NLP_OK)
        return s;
    if (cfg->embedding_size == 0)
        cfg->embedding_size = cfg->hidden_size;
    if (cfg->position_offset >= cfg->max_position_embeddings)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: max_position_embeddings %d leaves no "
                             "position after the first position id %d", path,
                             cfg->max_position_embeddings, cfg->position_offset);
    return NLP_OK;
}

nlp_status nlp_cfg_bert_fields(const char *path, const cJSON *root, nlp_config *cfg,
                               int type_vocab_default, nlp_error *err)
{
    nlp_status s;
#define INT_FIELD(key, def, lo, hi, dst)                                   \
    do {                                                                   \
        s = get_int(path, root, key, def, lo, hi, dst, err);               \
        if (s != NLP_OK)                                                   \
            return s;                                                      \
    } while (0)
    INT_FIELD("hidden_size", 768, 1, CFG_MAX_DIM, &cfg->hidden_size);
    INT_FIELD("num_hidden_layers", 12, 1, 4096, &cfg->num_layers);
    INT_FIELD("num_attention_heads", 12, 1, CFG_MAX_DIM, &cfg->num_heads);
    INT_FIELD("intermediate_size", 3072, 1, CFG_MAX_DIM, &cfg->intermediate_size);
    INT_FIELD("type_vocab_size", type_vocab_default, 1, CFG_MAX_DIM, &cfg->type_vocab_size);
#undef INT_FIELD
    if (cfg->hidden_size % cfg->num_heads != 0)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: hidden_size %d is not a multiple of "
                             "num_attention_heads %d", path, cfg->hidden_size, cfg->num_heads);
    if ((s = nlp_cfg_eps(path, root, 1e-12f, &cfg->layer_norm_eps, err)) != NLP_OK ||
        (s = nlp_cfg_act(path, root, "hidden_act", &cfg->hidden_act, err)) != NLP_OK)
        return s;
    const char *pet;
    if ((s = get_str(path, root, "position_embedding_type", "absolute", &pet, err)) != NLP_OK)
        return s;
    if (strcmp(pet, "absolute") != 0)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                             "%s: unsupported position_embedding_type \"%s\" (only \"absolute\")",
                             path, pet);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "is_decoder")))
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                             "%s: \"is_decoder\" is true; only encoders are supported", path);
    return NLP_OK;
}

nlp_status nlp_cfg_int(const char *path, const cJSON *root, const char *key, int def,
                       int lo, int hi, int *out, nlp_error *err)
{
    return get_int(path, root, key, def, lo, hi, out, err);
}

nlp_status nlp_cfg_str(const char *path, const cJSON *root, const char *key,
                       const char *def, const char **out, nlp_error *err)
{
    return get_str(path, root, key, def, out, err);
}

nlp_status nlp_cfg_eps(const char *path, const cJSON *root, float def, float *out,
                       nlp_error *err)
{
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(root, "layer_norm_eps");
    if (!eps)
        *out = def;
    else if (!cJSON_IsNumber(eps) || !(eps->valuedouble >= 0) || !(eps->valuedouble <= CFG_MAX_EPS))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"layer_norm_eps\" must be a number in [0, %g]",
                             path, CFG_MAX_EPS);
    else
        *out = (float)eps->valuedouble;
    return NLP_OK;
}

nlp_status nlp_cfg_act(const char *path, const cJSON *root, const char *key,
                       nlp_activation *out, nlp_error *err)
{
    const char *act;
    nlp_status s = get_str(path, root, key, "gelu", &act, err);
    return s != NLP_OK ? s : parse_act(path, key, act, out, err);
}

static nlp_status parse_root(const char *path, const cJSON *root, nlp_config *cfg, nlp_error *err)
{
    const nlp_family_ops *ops = NULL;
    nlp_status s = parse_family(path, root, cfg, &ops, err);
    if (s == NLP_OK)
        s = get_int(path, root, "vocab_size", 30522, 1, CFG_MAX_DIM, &cfg->vocab_size, err);
    if (s == NLP_OK)
        s = get_int(path, root, "max_position_embeddings", 512, 1, CFG_MAX_DIM,
                    &cfg->max_position_embeddings, err);
    if (s == NLP_OK)
        s = ops->parse(path, root, cfg, err);
    if (s == NLP_OK)
        s = parse_common(path, root, cfg, err);
    if (s != NLP_OK)
        return s;

    const char *pt;
    if ((s = get_str(path, root, "problem_type", "", &pt, err)) != NLP_OK)
        return s;
    if (strlen(pt) >= sizeof cfg->problem_type)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"problem_type\" is too long", path);
    strcpy(cfg->problem_type, pt);

    if ((s = parse_labels(path, root, cfg, err)) != NLP_OK)
        return s;
    return parse_architectures(path, root, cfg, err);
}

nlp_status nlp_config_parse(const char *text, size_t len, const char *source,
                            nlp_config *out, nlp_error *err)
{
    memset(out, 0, sizeof *out);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: invalid JSON near byte %ld", source,
                             end ? (long)(end - text) : 0L);
    nlp_status s = cJSON_IsObject(root) ? parse_root(source, root, out, err)
                 : nlp_error_set(err, NLP_ERR_FORMAT, "%s: not a JSON object", source);
    cJSON_Delete(root);
    if (s != NLP_OK)
        nlp_config_clear(out);
    return s;
}

nlp_status nlp_config_load(const char *path, nlp_config *out, nlp_error *err)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t len = 0;
    nlp_status s = nlp_read_file(path, &text, &len, err);
    if (s != NLP_OK)
        return s;
    s = nlp_config_parse(text, len, path, out, err);
    free(text);
    return s;
}

void nlp_config_clear(nlp_config *cfg)
{
    if (!cfg)
        return;
    if (cfg->id2label)
        for (int i = 0; i < cfg->num_labels; i++)
            free(cfg->id2label[i]);
    free(cfg->id2label);
    for (int i = 0; i < cfg->n_architectures; i++)
        free(cfg->architectures[i]);
    free(cfg->architectures);
    for (int i = 0; i < cfg->n_label2id; i++)
        free(cfg->label2id_names[i]);
    free(cfg->label2id_names);
    free(cfg->label2id_ids);
    free(cfg->label2id_order);
    memset(cfg, 0, sizeof *cfg);
}

int nlp_config_label_id(const nlp_config *cfg, const char *name)
{
    if (cfg->label2id_order) {
        int lo = 0, hi = cfg->n_label2id;
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (strcasecmp(cfg->label2id_names[cfg->label2id_order[mid]], name) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < cfg->n_label2id &&
            strcasecmp(cfg->label2id_names[cfg->label2id_order[lo]], name) == 0)
            return cfg->label2id_ids[cfg->label2id_order[lo]];
        return -1;
    }
    for (int i = 0; i < cfg->n_label2id; i++)
        if (strcasecmp(cfg->label2id_names[i], name) == 0)
            return cfg->label2id_ids[i];
    return -1;
}
