/*
 * fuzz_tok_load.c - fuzz harness: nlp_tokenizer_load on a directory built
 * from the input, then encode and decode with whatever loaded.
 *
 * Input: byte 0 picks the layout, the rest is split at FUZZ_SEP into parts.
 *   'j'   tokenizer.json [, tokenizer_config.json] [, text]
 *   'b'   vocab.json [, merges.txt [, tokenizer_config.json [, text]]]
 *   's'   spm.model [, tokenizer_config.json [, text]]
 *   else  vocab.txt [, tokenizer_config.json [, special_tokens_map.json
 *         [, text]]]
 * A part that is absent leaves its file out.
 */
#include <stdlib.h>
#include <string.h>

#include "nlp/tokenizer.h"
#include "fuzz_util.h"

static const char *const names_json[] = { "tokenizer.json", "tokenizer_config.json" };
static const char *const names_vocab[] = { "vocab.txt", "tokenizer_config.json",
                                           "special_tokens_map.json" };
static const char *const names_bpe[] = { "vocab.json", "merges.txt", "tokenizer_config.json" };
static const char *const names_spm[] = { "spm.model", "tokenizer_config.json" };

/* Write the parts as the layout's files; returns the text part or NULL. */
static const fuzz_part *lay_out(int layout, const fuzz_part *parts, size_t np)
{
    const char *const *names = layout == 'j' ? names_json : layout == 'b' ? names_bpe
                               : layout == 's' ? names_spm : names_vocab;
    size_t nn = layout == 'j' || layout == 's' ? 2 : 3;
    static const char *const all[] = { "tokenizer.json", "tokenizer_config.json",
                                       "special_tokens_map.json", "vocab.txt", "vocab.json",
                                       "merges.txt", "spm.model" };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        fuzz_remove(all[i]);
    for (size_t i = 0; i < nn && i < np; i++)
        fuzz_write(names[i], parts[i].p, parts[i].n);
    return np > nn ? &parts[nn] : NULL;
}

static void exercise(const nlp_tokenizer *tok, const fuzz_part *text)
{
    static const char sample[] = "Hello, [MASK] wor\xc3\xa9ld! \xe4\xb8\xad\xe6\x96\x87 [SEP] x";
    nlp_encoding e = { 0 };
    nlp_error err;
    nlp_encode_opts o = NLP_ENCODE_OPTS_INIT;
    o.add_special_tokens = nlp_tokenizer_special_id(tok, NLP_SPECIAL_CLS) >= 0 &&
                           nlp_tokenizer_special_id(tok, NLP_SPECIAL_SEP) >= 0;
    const char *s = text ? text->p : sample;
    size_t n = text ? text->n : sizeof sample - 1;
    if (nlp_tokenizer_encode(tok, s, n, s, n / 2, &o, &e, &err) == NLP_OK) {
        char *out = NULL;
        if (nlp_tokenizer_decode(tok, e.ids, e.n, 0, &out, &err) == NLP_OK)
            free(out);
    }
    nlp_encoding_free(&e);
    for (int i = 0; i <= NLP_SPECIAL_MASK; i++)
        (void)nlp_tokenizer_special_token(tok, (nlp_special)i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_part parts[4];
    size_t np = fuzz_split(data + 1, size - 1, parts, 4);
    const fuzz_part *text = lay_out(data[0] == 'j' || data[0] == 'b' || data[0] == 's' ? data[0] : 0,
                                    parts, np);
    nlp_tokenizer *tok = NULL;
    nlp_error err;
    /* ids may leave holes: 8 bytes an id up to the largest, the tables
     * doubled as they grow (docs/fuzzing.md, "Limits"); a load that fails
     * may have set its largest id already */
    FUZZ_ALLOW(16 * (fuzz_largest_number(data, size, 1u << 24) + 1));
    if (nlp_tokenizer_load(fuzz_dir(), &tok, &err) == NLP_OK) {
        exercise(tok, text);
        nlp_tokenizer_free(tok);
    } else if (!err.msg[0]) {
        abort(); /* every error names what went wrong */
    }
    return 0;
}
