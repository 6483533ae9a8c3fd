/*
 * checkpoint.c - nlp_trainer_save: a trainer's parameters as a Hugging
 * Face checkpoint folder (model.safetensors, config.json, tokenizer
 * files), written with the safetensors writer of core/model.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "nlp/checkpoint.h"
#include "model/family.h"
#include "nlp/train.h"
#include "train_impl.h"
#include "util/util.h"

/* The Hugging Face class for the trainer's family and task into buf
 * (the family's class-name start, then the head's). */
static const char *arch_name(const nlp_trainer *tr, char *buf, size_t cap)
{
    const nlp_family_ops *ops = nlp_family_of(nlp_model_config(nlp_trainer_model(tr))->family);
    const char *head;
    switch (nlp_trainer_options(tr)->task) {
    case NLP_TRAIN_SEQ_CLS: head = "ForSequenceClassification"; break;
    case NLP_TRAIN_TOKEN_CLS: head = "ForTokenClassification"; break;
    case NLP_TRAIN_QA: head = "ForQuestionAnswering"; break;
    case NLP_TRAIN_MLM:
    default: head = "ForMaskedLM"; break;
    }
    snprintf(buf, cap, "%s%s", ops->arch_prefixes[0], head);
    return buf;
}

/* config.json of the model with the head's keys set; caller frees. */
static nlp_status config_text(const nlp_trainer *tr, char **out, nlp_error *err)
{
    const nlp_model *model = nlp_trainer_model(tr);
    const nlp_config *cfg = nlp_model_config(model);
    char archbuf[96];
    char *src = nlp_path_join(nlp_model_dir(model), "config.json");
    char *text = NULL;
    size_t len = 0;
    if (!src)
        return nlp_error_set(err, NLP_ERR_NOMEM, "nlp_trainer_save: out of memory");
    nlp_status st = nlp_read_file(src, &text, &len, err);
    if (st != NLP_OK) {
        free(src);
        return st;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        st = nlp_error_set(err, NLP_ERR_FORMAT, "%s: not a JSON object", src);
        free(src);
        return st;
    }
    free(src);
    int ok = 1;
    cJSON *arch = cJSON_CreateArray();
    ok = arch && cJSON_AddItemToArray(arch, cJSON_CreateString(arch_name(tr, archbuf, sizeof archbuf)));
    cJSON_DeleteItemFromObjectCaseSensitive(root, "architectures");
    ok = ok && cJSON_AddItemToObject(root, "architectures", arch);
    const nlp_train_task task = nlp_trainer_options(tr)->task;
    if (ok && (task == NLP_TRAIN_SEQ_CLS || task == NLP_TRAIN_TOKEN_CLS)) {
        const size_t C = nlp_trainer_num_labels(tr);
        const char *const *given = nlp_trainer_options(tr)->label_names;
        const int keep = (size_t)cfg->num_labels == C;
        cJSON *i2l = cJSON_CreateObject(), *l2i = cJSON_CreateObject();
        ok = i2l && l2i;
        for (size_t i = 0; ok && i < C; i++) {
            char id[24], def[32];
            snprintf(id, sizeof id, "%zu", i);
            snprintf(def, sizeof def, "LABEL_%zu", i);
            const char *name = given ? given[i] : keep ? cfg->id2label[i] : def;
            ok = cJSON_AddStringToObject(i2l, id, name) != NULL &&
                 cJSON_AddNumberToObject(l2i, name, (double)i) != NULL;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(root, "id2label");
        cJSON_DeleteItemFromObjectCaseSensitive(root, "label2id");
        if (ok) {
            cJSON_AddItemToObject(root, "id2label", i2l);
            cJSON_AddItemToObject(root, "label2id", l2i);
        } else {
            cJSON_Delete(i2l);
            cJSON_Delete(l2i);
        }
    }
    if (ok && task == NLP_TRAIN_SEQ_CLS) {
        static const char *const kinds[] = { "single_label_classification",
                                             "multi_label_classification", "regression" };
        cJSON_DeleteItemFromObjectCaseSensitive(root, "problem_type");
        ok = cJSON_AddStringToObject(root, "problem_type",
                                     kinds[nlp_trainer_loss_kind(tr)]) != NULL;
    }
    if (ok) {
        cJSON_DeleteItemFromObjectCaseSensitive(root, "torch_dtype");
        ok = cJSON_AddStringToObject(root, "torch_dtype", "float32") != NULL;
    }
    char *printed = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!printed)
        return nlp_error_set(err, NLP_ERR_NOMEM, "nlp_trainer_save: out of memory");
    /* with a final newline, as Hugging Face writes it */
    *out = malloc(strlen(printed) + 2);
    if (*out)
        snprintf(*out, strlen(printed) + 2, "%s\n", printed);
    free(printed);
    return *out ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "nlp_trainer_save: out of memory");
}

/* Copy src_dir/name to dir/name when it exists. */
static nlp_status copy_if_present(const char *src_dir, const char *dir, const char *name,
                                  nlp_error *err)
{
    char *src = nlp_path_join(src_dir, name), *dst = nlp_path_join(dir, name);
    nlp_status st = NLP_OK;
    if (!src || !dst) {
        st = nlp_error_set(err, NLP_ERR_NOMEM, "nlp_trainer_save: out of memory");
    } else if (nlp_file_exists(src) && strcmp(src, dst) != 0) {
        char *data = NULL;
        size_t len = 0;
        st = nlp_read_file(src, &data, &len, err);
        if (st == NLP_OK) {
            FILE *fp = fopen(dst, "wb");
            int ok = fp && fwrite(data, 1, len, fp) == len;
            if (fp && fclose(fp) != 0)
                ok = 0;
            if (!ok)
                st = nlp_error_set(err, errno == ENOSPC ? NLP_ERR_NOSPACE : NLP_ERR_IO,
                                   "%s: cannot write: %s", dst, strerror(errno));
        }
        free(data);
    }
    free(src);
    free(dst);
    return st;
}

/* Tensors in name order, as torch's safetensors writer stores them. */
static int by_name(const void *a, const void *b)
{
    return strcmp(((const nlp_tensor_desc *)a)->name, ((const nlp_tensor_desc *)b)->name);
}

nlp_status nlp_trainer_save(const nlp_trainer *tr, const char *dir, nlp_error *err)
{
    if (!tr || !dir)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_trainer_save: trainer or dir is NULL");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return nlp_error_set(err, NLP_ERR_IO, "%s: cannot create the folder: %s", dir,
                             strerror(errno));
    if (!nlp_dir_exists(dir))
        return nlp_error_set(err, NLP_ERR_IO, "%s: not a folder", dir);
    const size_t n = nlp_trainer_num_tensors(tr);
    nlp_tensor_desc *e = calloc(n ? n : 1, sizeof *e);
    if (!e)
        return nlp_error_set(err, NLP_ERR_NOMEM, "nlp_trainer_save: out of memory");
    for (size_t i = 0; i < n; i++) {
        float *values;
        int64_t shape[2];
        nlp_trainer_tensor(tr, i, &e[i].name, &values, NULL, &e[i].ndim, shape, NULL);
        e[i].data = values;
        e[i].dtype = NLP_DT_F32;
        e[i].shape[0] = shape[0];
        e[i].shape[1] = shape[1];
    }
    qsort(e, n, sizeof *e, by_name);
    static const nlp_tensor_meta meta[] = {{"format", "pt"}};
    char *path = nlp_path_join(dir, "model.safetensors");
    nlp_status st = path ? nlp_safetensors_write(path, e, n, meta, 1, err)
                         : nlp_error_set(err, NLP_ERR_NOMEM, "nlp_trainer_save: out of memory");
    free(path);
    free(e);
    if (st != NLP_OK)
        return st;
    char *cfg = NULL;
    st = config_text(tr, &cfg, err);
    if (st == NLP_OK) {
        path = nlp_path_join(dir, "config.json");
        st = path ? nlp_write_atomic(path, cfg, err)
                  : nlp_error_set(err, NLP_ERR_NOMEM, "nlp_trainer_save: out of memory");
        free(path);
    }
    free(cfg);
    static const char *const tok_files[] = { "vocab.txt", "tokenizer.json",
                                             "tokenizer_config.json",
                                             "special_tokens_map.json" };
    const char *src = nlp_model_dir(nlp_trainer_model(tr));
    for (size_t i = 0; st == NLP_OK && i < sizeof tok_files / sizeof *tok_files; i++)
        st = copy_if_present(src, dir, tok_files[i], err);
    return st;
}
