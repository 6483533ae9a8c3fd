/*
 * fuzz_safetensors.c - fuzz harness: the safetensors reader
 * (core/model/safetensors.h) on one file or on a sharded checkpoint, then
 * every tensor converted to F32 and every name looked up.
 *
 * Input: byte 0 'i' = sharded: the rest split at FUZZ_SEP into the index
 * (model.safetensors.index.json) and the shards a.safetensors and
 * b.safetensors; anything else = the rest is one model.safetensors.
 */
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h"
#include "fuzz_util.h"

/* Check the invariants of an opened set and convert every tensor. */
static void exercise(const nlp_st *st)
{
    for (size_t i = 0; i < st->n_tensors; i++) {
        const nlp_st_tensor *t = &st->tensors[i];
        const nlp_st_file *f = &st->files[t->file];
        const char *lo = f->map, *p = t->data;
        if (p < lo || t->nbytes > f->size || (size_t)(p - lo) > f->size - t->nbytes ||
            nlp_st_find(st, t->name) != t)
            abort();
        if (i && strcmp(st->tensors[i - 1].name, t->name) >= 0)
            abort();
        float *dst = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *dst);
        if (!dst)
            continue;
        nlp_error err;
        (void)nlp_st_to_f32(st, t, dst, &err);
        free(dst);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nlp_st *st = NULL;
    nlp_error err;
    char path[256];
    if (size > 0 && data[0] == 'i') {
        fuzz_part parts[3];
        size_t np = fuzz_split(data + 1, size - 1, parts, 3);
        static const char *const names[3] = { "model.safetensors.index.json", "a.safetensors",
                                              "b.safetensors" };
        for (size_t i = 0; i < 3; i++) {
            if (i < np)
                fuzz_write(names[i], parts[i].p, parts[i].n);
            else
                fuzz_remove(names[i]);
        }
        fuzz_path(path, sizeof path, names[0]);
        if (nlp_st_open_index(path, &st, &err) == NLP_OK) {
            exercise(st);
            nlp_st_close(st);
        }
        return 0;
    }
    fuzz_write("model.safetensors", (const char *)data, size);
    fuzz_path(path, sizeof path, "model.safetensors");
    if (nlp_st_open(path, &st, &err) == NLP_OK) {
        exercise(st);
        nlp_st_close(st);
    }
    return 0;
}
