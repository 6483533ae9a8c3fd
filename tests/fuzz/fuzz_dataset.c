/*
 * fuzz_dataset.c - fuzz harness: nlp_dataset_load on the input written as
 * a training file (text, CSV, TSV, JSON Lines, CoNLL, SQuAD JSON) with the
 * tiny-bert tokenizer, then every sequence served in batches; checks the
 * batches' invariants (lengths within max_len, ids in the vocabulary,
 * labels in range or -100, QA positions inside their row).
 *
 * Input: byte 0 picks the task and format (bits 0-1: mlm, classify, ner,
 * qa; bit 2: the other format of the task: mlm CSV, classify JSON Lines,
 * ner JSON Lines; bit 3: multi-label / whole-word / label all sub-tokens;
 * bit 4: strict), byte 1 max_len (8 + byte % 120), the rest the file.
 */
#include <stdlib.h>
#include <string.h>

#include "nlp/dataset.h"
#include "fuzz_util.h"

static nlp_tokenizer *tok;

static void check_batch(const nlp_dataset *ds, const nlp_train_batch *tb, size_t max_len,
                        nlp_train_task task)
{
    const size_t B = tb->in.batch, T = tb->in.seq, V = nlp_tokenizer_vocab_size(tok);
    const long C = (long)nlp_dataset_num_labels(ds);
    if (T > max_len)
        abort();
    for (size_t b = 0; b < B; b++) {
        if (tb->in.lengths[b] < 1 || (size_t)tb->in.lengths[b] > T)
            abort();
        for (size_t t = 0; t < T; t++) {
            if (tb->in.ids[b * T + t] < 0 || (size_t)tb->in.ids[b * T + t] >= V)
                abort();
            const int32_t y = task == NLP_TRAIN_TOKEN_CLS || task == NLP_TRAIN_MLM
                                  ? tb->labels[b * T + t] : NLP_IGNORE_INDEX;
            if (y != NLP_IGNORE_INDEX && (y < 0 || (task == NLP_TRAIN_TOKEN_CLS && y >= C) ||
                                          (size_t)y >= V))
                abort();
        }
        if (task == NLP_TRAIN_QA &&
            (tb->start_positions[b] < 0 || tb->end_positions[b] < tb->start_positions[b] ||
             tb->end_positions[b] >= tb->in.lengths[b]))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!tok) {
        nlp_error err;
        if (nlp_tokenizer_load(NLP_TEST_DATA "/models/tiny-bert", &tok, &err) != NLP_OK)
            abort();
    }
    if (size < 2)
        return 0;
    static const char *const names[4][2] = {{"d.txt", "d.csv"}, {"d.csv", "d.jsonl"},
                                            {"d.conll", "d.jsonl"}, {"d.json", "d.json"}};
    const nlp_train_task task = (nlp_train_task)(data[0] & 3);
    const int alt = (data[0] >> 2) & 1, flag = (data[0] >> 3) & 1;
    const char *name = names[task][alt];
    fuzz_write(name, (const char *)data + 2, size - 2);
    char path[256];
    fuzz_path(path, sizeof path, name);
    nlp_dataset_opts o;
    nlp_dataset_opts_init(&o, task, path);
    o.max_len = 8 + data[1] % 120;
    o.multi_label = o.whole_word = o.label_all_subtokens = flag;
    o.strict = (data[0] >> 4) & 1;
    nlp_dataset *ds;
    nlp_error err;
    if (nlp_dataset_load(&o, tok, &ds, &err) != NLP_OK)
        return 0;
    nlp_data_batch *b;
    if (nlp_data_batch_create(ds, 4, &b, &err) != NLP_OK)
        abort();
    size_t idx[4];
    for (size_t i = 0; i < nlp_dataset_size(ds); i += 4) {
        size_t n = 0;
        for (; n < 4 && i + n < nlp_dataset_size(ds); n++)
            idx[n] = i + n;
        const nlp_train_batch *tb;
        if (nlp_dataset_batch(ds, idx, n, 7, i, b, &tb, &err) != NLP_OK)
            abort();
        check_batch(ds, tb, o.max_len, task);
    }
    nlp_data_batch_free(b);
    nlp_dataset_free(ds);
    return 0;
}
