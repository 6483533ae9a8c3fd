/*
 * fuzz_tok_encode.c - fuzz harness: nlp_tokenizer_encode on each tokenizer
 * family (WordPiece: data/models/tiny-bert; byte-level BPE:
 * data/models/tiny-roberta; Unigram with byte fallback and Metaspace:
 * data/expected/tokenizer/spm-unigram), single texts and pairs, with and
 * without special tokens and truncation, then decode, tokens_to_string
 * on the tokens and the template of nlp_tokenizer_apply_template on the
 * result.
 *
 * Input: byte 0 picks the options (bit 0 add_special_tokens, bit 1 pair,
 * bits 2-3 truncation, bit 4 skip specials in decode, bits 5-6 the
 * tokenizer: 0 WordPiece, 1 BPE, 2 and 3 Unigram), byte 1 is max_length
 * (0 = none), the rest is the text, split at the first FUZZ_SEP into text
 * and pair.
 */
#include <stdlib.h>
#include <string.h>

#include "nlp/tokenizer.h"
#include "fuzz_util.h"

static const char *const tok_dirs[3] = {
    NLP_TEST_DATA "/models/tiny-bert",
    NLP_TEST_DATA "/models/tiny-roberta",
    NLP_TEST_DATA "/expected/tokenizer/spm-unigram",
};
static nlp_tokenizer *toks[3];
static nlp_tokenizer *tok;  /* the one this input uses */

/* Every encoding invariant the API documents. */
static void check_encoding(const nlp_encoding *e, size_t len, size_t pair_len)
{
    for (size_t i = 0; i < e->n; i++) {
        if (e->seq[i] < 0)
            continue;
        size_t lim = e->seq[i] == 0 ? len : pair_len;
        if (e->byte_start[i] < 0 || e->byte_start[i] > e->byte_end[i] ||
            (size_t)e->byte_end[i] > lim || e->start[i] > e->end[i] ||
            !nlp_tokenizer_id_to_token(tok, e->ids[i]))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!toks[0])
        for (int i = 0; i < 3; i++) {
            nlp_error err;
            if (nlp_tokenizer_load(tok_dirs[i], &toks[i], &err) != NLP_OK) {
                fprintf(stderr, "fuzz_tok_encode: %s\n", err.msg);
                abort();
            }
        }
    if (size < 2)
        return 0;
    unsigned flags = data[0], which = (flags >> 5) & 3;
    tok = toks[which > 2 ? 2 : which];
    nlp_encode_opts o = NLP_ENCODE_OPTS_INIT;
    o.add_special_tokens = flags & 1;
    o.truncation = (nlp_truncation)((flags >> 2) % 3);
    o.max_length = data[1];
    fuzz_part parts[2];
    size_t np = fuzz_split(data + 2, size - 2, parts, 2);
    const char *pair = (flags & 2) && np == 2 ? parts[1].p : NULL;
    size_t pair_len = pair ? parts[1].n : 0;
    nlp_encoding e = { 0 }, t = { 0 };
    nlp_error err;
    if (nlp_tokenizer_encode(tok, parts[0].p, parts[0].n, pair, pair_len, &o, &e, &err) == NLP_OK) {
        check_encoding(&e, parts[0].n, pair_len);
        char *text = NULL;
        if (nlp_tokenizer_decode(tok, e.ids, e.n, (flags >> 4) & 1, &text, &err) == NLP_OK)
            free(text);
        const char **strs = malloc((e.n + 1) * sizeof *strs);
        if (!strs)
            abort();
        for (size_t i = 0; i < e.n; i++)
            strs[i] = nlp_tokenizer_id_to_token(tok, e.ids[i]);
        if (nlp_tokenizer_tokens_to_string(tok, strs, e.n, &text, &err) != NLP_OK)
            abort();
        free(text);
        free(strs);
        if (!o.add_special_tokens && e.n)
            (void)nlp_tokenizer_apply_template(tok, &e, 0, e.n / 2, &e, e.n / 2, e.n - e.n / 2 - 0,
                                               &t, &err);
    }
    nlp_encoding_free(&e);
    nlp_encoding_free(&t);
    return 0;
}
