/*
 * nlp/tokenizer.h - text to token ids, exactly as Hugging Face tokenizers do.
 *
 * One opaque nlp_tokenizer type serves every tokenizer family: WordPiece
 * with BERT's normaliser and pre-tokeniser (BertTokenizer /
 * BertTokenizerFast), read from tokenizer.json or from vocab.txt plus
 * tokenizer_config.json; and byte-level BPE (GPT-2, RoBERTa), read from
 * tokenizer.json or from vocab.json + merges.txt.  Unigram implements the
 * same interface later.
 *
 * Text is UTF-8 with an explicit byte length.  Invalid UTF-8 is rejected with
 * NLP_ERR_UTF8 and a message giving the byte offset of the first bad byte;
 * nothing is silently replaced.
 *
 * Offsets are reported twice: in Unicode code points (what Hugging Face
 * reports, and what the CLI prints) and in bytes.  Both index the text the
 * token came from (the first or the second text of a pair); special tokens
 * added by the template have offsets 0,0.
 */
#ifndef NLP_TOKENIZER_H
#define NLP_TOKENIZER_H

#include "nlp/export.h"
#include <stddef.h>
#include <stdint.h>
#include "nlp/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nlp_tokenizer nlp_tokenizer;

/* Which special token (see nlp_tokenizer_special_id). */
typedef enum nlp_special {
    NLP_SPECIAL_UNK = 0,
    NLP_SPECIAL_CLS = 1,
    NLP_SPECIAL_SEP = 2,
    NLP_SPECIAL_PAD = 3,
    NLP_SPECIAL_MASK = 4
} nlp_special;

/* How a too-long input is cut (Hugging Face's names). */
typedef enum nlp_truncation {
    NLP_TRUNC_LONGEST_FIRST = 0, /* drop from the longer text, one token at a time */
    NLP_TRUNC_ONLY_FIRST = 1,
    NLP_TRUNC_ONLY_SECOND = 2
} nlp_truncation;

typedef struct nlp_encode_opts {
    int add_special_tokens;    /* 1: [CLS] A [SEP] (B [SEP]); 0: tokens only */
    size_t max_length;         /* total tokens incl. specials; 0 = no truncation */
    nlp_truncation truncation; /* used only when max_length is exceeded */
} nlp_encode_opts;

/* Defaults: special tokens on, no truncation, longest-first. */
#define NLP_ENCODE_OPTS_INIT { 1, 0, NLP_TRUNC_LONGEST_FIRST }

/*
 * One encoded input.  The struct belongs to the caller: zero-initialise it
 * (`nlp_encoding e = {0};`), pass it to encode calls as often as you like
 * (its arrays are reused and grown as needed), and release the arrays with
 * nlp_encoding_free().  All arrays have n entries.
 */
typedef struct nlp_encoding {
    size_t n;              /* number of tokens */
    int32_t *ids;          /* token ids */
    int32_t *type_ids;     /* segment ids: 0 first text, 1 second text */
    uint8_t *special;      /* 1 for tokens added by the template */
    int32_t *seq;          /* -1 special token, 0 first text, 1 second text */
    int32_t *word;         /* index of the pre-tokenised word within its text, -1 for specials */
    int32_t *start, *end;  /* code-point offsets [start, end) into that text */
    int32_t *byte_start, *byte_end; /* the same in bytes */
    size_t n_truncated;    /* tokens removed by truncation (0 if none) */
    size_t cap;            /* allocated entries per array (internal) */
} nlp_encoding;

/* Load the tokenizer of a model directory: tokenizer.json when present,
 * else vocab.txt, else vocab.json + merges.txt, with tokenizer_config.json /
 * special_tokens_map.json when present.  On success *out is a new tokenizer the caller frees with
 * nlp_tokenizer_free().  Errors name the file and the problem. */
NLP_API nlp_status nlp_tokenizer_load(const char *dir, nlp_tokenizer **out, nlp_error *err);

/* Load a WordPiece tokenizer straight from a vocab.txt, with BERT's
 * defaults overridden by the flags (do_lower_case; strip_accents: -1 =
 * follow lower-casing, 0 = never, 1 = always). */
NLP_API nlp_status nlp_tokenizer_load_vocab(const char *vocab_path, int do_lower_case,
                                    int strip_accents, nlp_tokenizer **out,
                                    nlp_error *err);

NLP_API void nlp_tokenizer_free(nlp_tokenizer *tok);

/* Encode one text (pair == NULL) or a pair of texts.  len / pair_len are
 * byte lengths.  opts may be NULL for the defaults.  out is overwritten. */
NLP_API nlp_status nlp_tokenizer_encode(const nlp_tokenizer *tok,
                                const char *text, size_t len,
                                const char *pair, size_t pair_len,
                                const nlp_encode_opts *opts,
                                nlp_encoding *out, nlp_error *err);

/* Apply the model's special-token template to slices of two encodings made
 * with add_special_tokens = 0: out = [CLS] a[a_from .. a_from+a_count) [SEP]
 * and, when b is not NULL, b[b_from .. b_from+b_count) [SEP] (BERT; other
 * families their own template, e.g. RoBERTa's <s> a </s></s> b </s>),
 * keeping the offsets and word indices of the copied tokens.  Used to build the
 * overlapping windows of long inputs.  out must not alias a or b. */
NLP_API nlp_status nlp_tokenizer_apply_template(const nlp_tokenizer *tok,
                                        const nlp_encoding *a, size_t a_from, size_t a_count,
                                        const nlp_encoding *b, size_t b_from, size_t b_count,
                                        nlp_encoding *out, nlp_error *err);

/* Number of special tokens the template adds: 2 for one text, 3 for a pair
 * (BERT); 2 and 4 (RoBERTa); 0 and 0 (GPT-2). */
NLP_API size_t nlp_tokenizer_num_special(const nlp_tokenizer *tok, int pair);

/* Decode ids to text as Hugging Face's decode() does: tokens joined by
 * spaces, "##" continuations glued, and clean_up_tokenization_spaces
 * applied when the tokenizer's config asks for it.  skip_special drops
 * special tokens.  On success *out is a NUL-terminated string the caller
 * frees with free(). */
NLP_API nlp_status nlp_tokenizer_decode(const nlp_tokenizer *tok, const int32_t *ids,
                                size_t n, int skip_special, char **out,
                                nlp_error *err);

/* Tokens to text as Hugging Face's convert_tokens_to_string does for a
 * fast tokenizer: the tokenizer's decoder alone over the token strings
 * tokens[0..n), which need not be in the vocabulary (WordPiece:
 * "##" continuations glued, a space before other pieces, the decoder's
 * per-piece clean-up; byte-level BPE: bytes back to text, leading spaces
 * kept; Metaspace: the replacement character back to spaces), special
 * tokens kept, clean_up_tokenization_spaces not applied.  On success *out
 * is a NUL-terminated string the caller frees with free(). */
NLP_API nlp_status nlp_tokenizer_tokens_to_string(const nlp_tokenizer *tok,
                                                  const char *const *tokens, size_t n,
                                                  char **out, nlp_error *err);

/* The continuing_subword_prefix of a tokenizer whose model marks word
 * continuations ("##" for WordPiece), or NULL (byte-level BPE, Unigram).
 * Owned by the tokenizer. */
NLP_API const char *nlp_tokenizer_subword_prefix(const nlp_tokenizer *tok);

/* Vocabulary look-ups.  token_to_id returns -1 when the token is absent;
 * id_to_token returns NULL for an id out of range (the string is owned by
 * the tokenizer). */
NLP_API size_t nlp_tokenizer_vocab_size(const nlp_tokenizer *tok);
NLP_API int32_t nlp_tokenizer_token_to_id(const nlp_tokenizer *tok, const char *token);
NLP_API const char *nlp_tokenizer_id_to_token(const nlp_tokenizer *tok, int32_t id);

/* The id of a special token, or -1 when the tokenizer has none; its text
 * (owned by the tokenizer) or NULL. */
NLP_API int32_t nlp_tokenizer_special_id(const nlp_tokenizer *tok, nlp_special which);
NLP_API const char *nlp_tokenizer_special_token(const nlp_tokenizer *tok, nlp_special which);

/* 1 if id is a special token (added token with special=true). */
NLP_API int nlp_tokenizer_is_special(const nlp_tokenizer *tok, int32_t id);

/* model_max_length from tokenizer_config.json, or 0 when unset. */
NLP_API size_t nlp_tokenizer_model_max_length(const nlp_tokenizer *tok);

/* Release the arrays of an encoding and zero it.  enc may be NULL. */
NLP_API void nlp_encoding_free(nlp_encoding *enc);

#ifdef __cplusplus
}
#endif
#endif /* NLP_TOKENIZER_H */
