/*
 * sbert.c - the sentence-transformers files of a model folder: which
 * modules follow the transformer (modules.json), how the Pooling module
 * pools (its config.json), whether a Normalize module follows, and the
 * Transformer module's sentence_bert_config.json.  Plain checkpoints have
 * none of these: mean pooling, as Hugging Face users expect of a BERT.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nlp/model.h"
#include "util/util.h"

/* Parse the JSON file path into *root (the caller deletes it). */
static nlp_status read_json(const char *path, cJSON **root, nlp_error *err)
{
    char *text = NULL;
    size_t len = 0;
    nlp_status st = nlp_read_file(path, &text, &len, err);
    if (st != NLP_OK)
        return st;
    const char *end = NULL;
    *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    long at = *root ? 0 : end ? (long)(end - text) : 0;
    free(text);
    if (!*root)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: invalid JSON near byte %ld", path, at);
    return NLP_OK;
}

/* A boolean field (absent: 0); -1 after setting err when of another type. */
static int get_bool(const char *path, const cJSON *o, const char *key, nlp_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsBool(v)) {
        nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"%s\" must be true or false", path, key);
        return -1;
    }
    return cJSON_IsTrue(v);
}

/* The Pooling module's config.json at path. */
static nlp_status read_pooling(const char *path, nlp_sbert_config *out, nlp_error *err)
{
    static const struct { const char *key; unsigned bit; } modes[] = {
        {"pooling_mode_cls_token", NLP_POOL_CLS},
        {"pooling_mode_max_tokens", NLP_POOL_MAX},
        {"pooling_mode_mean_tokens", NLP_POOL_MEAN},
        {"pooling_mode_mean_sqrt_len_tokens", NLP_POOL_MEAN_SQRT_LEN},
    };
    static const char *const unsupported[] = {"pooling_mode_weightedmean_tokens",
                                              "pooling_mode_lasttoken", NULL};
    cJSON *root = NULL;
    nlp_status st = read_json(path, &root, err);
    if (st != NLP_OK)
        return st;
    out->pooling = 0;
    for (size_t i = 0; st == NLP_OK && i < sizeof modes / sizeof modes[0]; i++) {
        int on = get_bool(path, root, modes[i].key, err);
        if (on < 0)
            st = NLP_ERR_FORMAT;
        else if (on)
            out->pooling |= modes[i].bit;
    }
    for (size_t i = 0; st == NLP_OK && unsupported[i]; i++) {
        int on = get_bool(path, root, unsupported[i], err);
        if (on < 0)
            st = NLP_ERR_FORMAT;
        else if (on)
            st = nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: \"%s\" is not supported "
                               "(cls, max, mean and mean_sqrt_len pooling are)", path,
                               unsupported[i]);
    }
    if (st == NLP_OK && out->pooling == 0)
        st = nlp_error_set(err, NLP_ERR_FORMAT, "%s: no pooling_mode_* field is true", path);
    cJSON_Delete(root);
    return st;
}

/* sentence_bert_config.json at path, when it exists. */
static nlp_status read_sbert(const char *path, nlp_sbert_config *out, nlp_error *err)
{
    if (!nlp_file_exists(path))
        return NLP_OK;
    cJSON *root = NULL;
    nlp_status st = read_json(path, &root, err);
    if (st != NLP_OK)
        return st;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "max_seq_length");
    if (m && !cJSON_IsNull(m)) {
        if (!cJSON_IsNumber(m) || m->valuedouble < 1 || m->valuedouble > (1 << 24) ||
            floor(m->valuedouble) != m->valuedouble)
            st = nlp_error_set(err, NLP_ERR_FORMAT,
                               "%s: \"max_seq_length\" must be a positive integer", path);
        else
            out->max_seq_length = (int)m->valuedouble;
    }
    int lc = st == NLP_OK ? get_bool(path, root, "do_lower_case", err) : 0;
    if (lc < 0)
        st = NLP_ERR_FORMAT;
    else
        out->do_lower_case = lc;
    cJSON_Delete(root);
    return st;
}

/* Join dir, the module's path and name; NULL when out of memory. */
static char *module_file(const char *dir, const char *mpath, const char *name)
{
    return nlp_strf("%s/%s%s%s", dir, mpath, *mpath ? "/" : "", name);
}

/* One entry of modules.json. */
static nlp_status read_module(const char *dir, const char *path, const cJSON *m,
                              nlp_sbert_config *out, nlp_error *err)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(m, "type");
    const cJSON *mp = cJSON_GetObjectItemCaseSensitive(m, "path");
    if (!cJSON_IsObject(m) || !cJSON_IsString(type) || (mp && !cJSON_IsString(mp)))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: each module needs a string \"type\" "
                             "and \"path\"", path);
    const char *t = type->valuestring, *dot = strrchr(t, '.');
    const char *kind = dot ? dot + 1 : t;
    const char *sub = mp ? mp->valuestring : "";
    if (strstr(sub, "..") || sub[0] == '/')
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: module path \"%s\" leaves the folder",
                             path, sub);
    const char *file = !strcmp(kind, "Transformer") ? "sentence_bert_config.json"
                       : !strcmp(kind, "Pooling") ? "config.json" : NULL;
    if (!strcmp(kind, "Normalize")) {
        out->normalize = 1;
        return NLP_OK;
    }
    if (!file)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: module type \"%s\" is not supported "
                             "(Transformer, Pooling and Normalize are)", path, t);
    char *f = module_file(dir, sub, file);
    if (!f)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    nlp_status st;
    if (*file == 's')
        st = read_sbert(f, out, err);
    else
        st = read_pooling(f, out, err);
    free(f);
    return st;
}

nlp_status nlp_sbert_config_load(const char *dir, nlp_sbert_config *out, nlp_error *err)
{
    memset(out, 0, sizeof *out);
    out->pooling = NLP_POOL_MEAN;
    char *path = nlp_path_join(dir, "modules.json");
    if (!path)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    if (!nlp_file_exists(path)) {
        free(path);
        return NLP_OK;
    }
    cJSON *root = NULL;
    nlp_status st = read_json(path, &root, err);
    if (st == NLP_OK && !cJSON_IsArray(root))
        st = nlp_error_set(err, NLP_ERR_FORMAT, "%s: expected a JSON array of modules", path);
    const cJSON *m;
    if (st == NLP_OK)
        cJSON_ArrayForEach(m, root) {
            if ((st = read_module(dir, path, m, out, err)) != NLP_OK)
                break;
        }
    out->found = 1;
    cJSON_Delete(root);
    free(path);
    return st;
}
