/*
 * tokenizer_impl.h - private interface between the public tokenizer API
 * (tokenizer.c) and the tokenizer families (wordpiece.c, bpe.c,
 * unigram.c), with the shared pieces: the added-token trie, normalised
 * strings and the tokenizer.json normalisers (normalizer.c).
 *
 * tokenizer.c owns everything family-independent: the vocabulary and its
 * hash map, added/special tokens and their matching in raw text, the
 * [CLS] A [SEP] B [SEP] template, truncation, encodings and decode.  A
 * family supplies an nlp_tok_ops table: it turns one segment of raw text
 * (free of added tokens) into pieces (ids with offsets), and glues token
 * strings back together when decoding.
 */
#ifndef NLP_TOKENIZER_IMPL_H
#define NLP_TOKENIZER_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include "nlp/tokenizer.h"

/* ---------------------------------------------------------- vocabulary */

/* Token strings in one arena, looked up through an open-addressing hash
 * map.  Ids may have holes (str_off[id] == UINT32_MAX). */
typedef struct nlp_vocab {
    size_t n;             /* ids 0 .. n-1 */
    size_t n_set;         /* ids that have a string (the hash map's size
                             follows these, not n, so holes cost 8 bytes) */
    char *arena;          /* NUL-terminated token strings */
    size_t arena_len, arena_cap;
    uint32_t *str_off;    /* [n] offset of each token in arena */
    uint32_t *str_len;    /* [n] byte length of each token */
    size_t n_cap;
    int32_t *slots;       /* [mask+1] id or -1 */
    uint32_t *slot_hash;  /* [mask+1] 32-bit hash of the slot's token */
    size_t mask;
    size_t max_len;       /* longest token in bytes */
    size_t n_model;       /* ids below this belong to the model's own vocabulary;
                             added tokens appended later are not model pieces */
} nlp_vocab;

void nlp_vocab_init(nlp_vocab *v);
void nlp_vocab_free(nlp_vocab *v);
/* Set token `id` to the string s[0..len).  When one string has several
 * ids, look-ups give the largest.  Once nlp_vocab_index has run, the map
 * is kept current (a new id goes in at once, amortised O(1)), so there is
 * no need to index again.  Returns NLP_ERR_NOMEM on allocation failure. */
nlp_status nlp_vocab_set(nlp_vocab *v, int32_t id, const char *s, size_t len);
/* Build the hash map once all tokens are set. */
nlp_status nlp_vocab_index(nlp_vocab *v);
/* Id of prefix[0..plen) + s[0..len), or -1. */
int32_t nlp_vocab_find2(const nlp_vocab *v, const char *prefix, size_t plen,
                        const char *s, size_t len);
static inline int32_t nlp_vocab_find(const nlp_vocab *v, const char *s, size_t len)
{
    return nlp_vocab_find2(v, NULL, 0, s, len);
}
static inline const char *nlp_vocab_str(const nlp_vocab *v, int32_t id)
{
    if (id < 0 || (size_t)id >= v->n || v->str_off[id] == UINT32_MAX)
        return NULL;
    return v->arena + v->str_off[id];
}

/* Largest token id any file may give (2^24); also the most lines a
 * vocab.txt may have. */
#define NLP_TOK_MAX_ID 16777216
/* Longest token (vocabulary entry or added token) in bytes. */
#define NLP_TOK_MAX_TOKEN 65536

/* ---------------------------------------------------------- pieces */

/* Output sink for a family's segment encoder: appends one token of the
 * current text.  cp/byte offsets are relative to the whole text (not the
 * segment).  Returns NLP_ERR_NOMEM when growing the encoding fails. */
typedef struct nlp_tok_sink nlp_tok_sink;
nlp_status nlp_tok_sink_push(nlp_tok_sink *sink, int32_t id, int32_t word,
                             int32_t cp_start, int32_t cp_end,
                             int32_t byte_start, int32_t byte_end);
/* Number of tokens pushed so far for the current text. */
size_t nlp_tok_sink_count(const nlp_tok_sink *sink);

/* ---------------------------------------------------------- families */

typedef struct nlp_tok_ops {
    const char *name; /* "WordPiece" */
    /* Tokenise text[0..len) (valid UTF-8, no added tokens inside) that
     * starts at code point cp_base / byte byte_base of its text.  *word is
     * the next word index; it is advanced by the number of words made. */
    nlp_status (*encode_segment)(const nlp_tokenizer *tok, const char *text,
                                 size_t len, int32_t cp_base, int32_t byte_base,
                                 int32_t *word, nlp_tok_sink *sink, nlp_error *err);
    /* Decoder step for token k of the output (k = 0 first): append its
     * text to buf (the caller's growable buffer) */
    nlp_status (*decode_token)(const nlp_tokenizer *tok, size_t k, const char *token,
                               char **buf, size_t *len, size_t *cap);
    void (*free_model)(void *model);
    /* Optional: called once after the last decode_token (e.g. to repair
     * byte sequences that are not valid UTF-8). */
    nlp_status (*decode_end)(char **buf, size_t *len, size_t *cap);
    /* Normalise (NULL: the family has no normaliser, so every added token
     * is matched in the raw text) text[0..len) as encode_segment does before pre-tokenising;
     * *out (NUL-terminated, free()) gets the normalised UTF-8.  Used for
     * the content of added tokens marked "normalized". */
    nlp_status (*normalize)(const nlp_tokenizer *tok, const char *text, size_t len,
                            char **out, size_t *out_len);
    /* Optional: the model's continuing_subword_prefix ("##"), for models
     * that mark word continuations; NULL when it has none. */
    const char *(*subword_prefix)(const nlp_tokenizer *tok);
} nlp_tok_ops;

/* One added token (tokenizer.json "added_tokens", or the special tokens of
 * tokenizer_config.json / special_tokens_map.json). */
typedef struct nlp_added_token {
    char *content;
    int32_t id;
    int special;
    int normalized;  /* matched in the normalised text (content normalised first) */
    char *norm;      /* normalised content when normalized, else NULL */
    int strip;       /* NLP_ADDED_LSTRIP | NLP_ADDED_RSTRIP: the match takes in the
                        whitespace before / after it */
} nlp_added_token;

#define NLP_ADDED_LSTRIP 1
#define NLP_ADDED_RSTRIP 2

/* ---------------------------------------------------------- template */

/* The post-processor's template: what surrounds one text (single) or a
 * pair (pair).  An item is a text (A before B) or a special token. */
typedef struct nlp_tpl_item {
    int is_text;
    int32_t id;       /* special: its id, -1 when the tokenizer lacks it; text: 0 A, 1 B */
    int32_t role;     /* special: the nlp_special it stands for (messages), -1 other */
    int32_t type_id;
} nlp_tpl_item;

#define NLP_TPL_MAX 8
typedef struct nlp_tok_template {
    nlp_tpl_item single[NLP_TPL_MAX], pair[NLP_TPL_MAX];
    int n_single, n_pair;
    int32_t plain_type_b;  /* type id of the second text without special tokens */
} nlp_tok_template;

/* [CLS] A [SEP] and [CLS] A [SEP] B [SEP] (B and its [SEP] type 1). */
void nlp_tpl_bert(nlp_tok_template *tp, int32_t cls, int32_t sep);
/* <s> A </s> and <s> A </s></s> B </s>, every type id 0. */
void nlp_tpl_roberta(nlp_tok_template *tp, int32_t cls, int32_t sep);
/* The texts alone (A, A B), B with type id 1. */
void nlp_tpl_none(nlp_tok_template *tp);

/* ---------------------------------------------------------- added-token matcher */

/* Contents of added tokens in a byte trie (added_trie.c), each with a
 * payload (the index of its added token). */
typedef struct nlp_added_trie nlp_added_trie;

/* A new empty trie in *out (free with nlp_added_trie_free). */
nlp_status nlp_added_trie_new(nlp_added_trie **out);
void nlp_added_trie_free(nlp_added_trie *t);
/* Add content s[0..len) with payload value >= 0.  Empty contents are
 * ignored; a content added twice keeps its first payload.  NLP_OK or
 * NLP_ERR_NOMEM. */
nlp_status nlp_added_trie_add(nlp_added_trie *t, const char *s, size_t len, int32_t value);
/* 1 when nothing was added (t may be NULL). */
int nlp_added_trie_empty(const nlp_added_trie *t);
/* The leftmost match in text[from..len) and, at that position, the longest
 * content: returns 1 with [*ms, *me) and its payload, or 0 (also for
 * t == NULL). */
int nlp_added_trie_find(const nlp_added_trie *t, const char *text, size_t len, size_t from,
                        size_t *ms, size_t *me, int32_t *value);
/* Walking the trie by hand (common-prefix searches): the root is node 0;
 * the child of node k for byte b, or -1. */
int32_t nlp_added_trie_step(const nlp_added_trie *t, int32_t k, unsigned char b);
/* The payload of the content ending at node k, or -1. */
int32_t nlp_added_trie_value(const nlp_added_trie *t, int32_t k);

struct nlp_tokenizer {
    const nlp_tok_ops *ops;
    void *model;                 /* family-specific data, freed by ops->free_model */
    nlp_vocab vocab;

    nlp_added_token *added;      /* [n_added] */
    size_t n_added, added_cap;
    nlp_vocab added_index;       /* content of added[i] as "token" i, for de-duplication */
    nlp_added_trie *added_raw;   /* contents of the raw-matched added tokens (payload:
                                    index into added), or NULL when there are none */
    nlp_added_trie *added_norm;  /* normalised contents of the "normalized" ones, or NULL */

    nlp_tok_template tpl;        /* the post-processor's special tokens */
    int32_t special_id[5];       /* by nlp_special, -1 when absent */
    char *special_str[5];
    size_t model_max_length;     /* 0 = unset */
    int clean_up_spaces;         /* clean_up_tokenization_spaces */
};

/* ---------------------------------------------------------- WordPiece */

typedef struct nlp_wordpiece_opts {
    int clean_text;
    int handle_chinese_chars;
    int strip_accents;       /* -1 follow lowercase, 0 no, 1 yes */
    int lowercase;
    int max_input_chars_per_word;
    const char *unk_token;
    const char *prefix;      /* "##" */
    int decoder_cleanup;     /* WordPiece decoder's cleanup flag */
} nlp_wordpiece_opts;

extern const nlp_tok_ops nlp_wordpiece_ops;

/* Create the WordPiece model data for tok (whose vocabulary is filled and
 * indexed).  tok->ops/tok->model are set on success. */
nlp_status nlp_wordpiece_attach(nlp_tokenizer *tok, const nlp_wordpiece_opts *o,
                                const char *where, nlp_error *err);

/* Read vocab.txt (one token a line, id = line number) into v. */
nlp_status nlp_wordpiece_read_vocab_txt(const char *path, nlp_vocab *v, nlp_error *err);

/* Parse a tokenizer.json's "model" (type WordPiece), "normalizer"
 * (BertNormalizer or null) and "pre_tokenizer" (BertPreTokenizer) into
 * tok's vocabulary and a WordPiece model; path names the file in errors. */
struct cJSON;
nlp_status nlp_wordpiece_from_json(nlp_tokenizer *tok, const struct cJSON *root,
                                   const char *path, nlp_error *err);

/* Read a tokenizer.json "model.vocab" object ({"token": id}) into v and
 * index it; path names the file in errors. */
nlp_status nlp_vocab_from_json(nlp_vocab *v, const struct cJSON *vocab, const char *path,
                               nlp_error *err);

/* ---------------------------------------------------------- byte-level BPE */

extern const nlp_tok_ops nlp_bpe_ops;

/* Parse a tokenizer.json whose model is BPE (model.type "BPE", or no type
 * and a "merges" array), with the ByteLevel pre-tokeniser and no
 * normaliser, into tok's vocabulary and a BPE model.  Sets tok->tpl from
 * the post-processor (RobertaProcessing, ByteLevel, TemplateProcessing or
 * null). */
nlp_status nlp_bpe_from_json(nlp_tokenizer *tok, const struct cJSON *root, const char *path,
                             nlp_error *err);

/* vocab.json + merges.txt (GPT-2 / RoBERTa's slow-tokenizer files):
 * vocabulary and model; add_prefix_space and trim_offsets as the
 * converted fast tokenizer has them. */
nlp_status nlp_bpe_from_files(nlp_tokenizer *tok, const char *vocab_path, const char *merges_path,
                              int add_prefix_space, int trim_offsets, nlp_error *err);

/* The post-processor's offset trimming (ByteLevel / RobertaProcessing
 * trim_offsets and add_prefix_space) of a BPE tokenizer. */
void nlp_bpe_set_trim(nlp_tokenizer *tok, int trim_offsets, int prefix_space);

/* ---------------------------------------------------------- Unigram */

extern const nlp_tok_ops nlp_unigram_ops;

/* Parse a tokenizer.json whose model is Unigram ("vocab" as [piece,
 * score] pairs, "unk_id", "byte_fallback") with its normalizer,
 * pre_tokenizer (Metaspace, WhitespaceSplit, Sequence) and decoder
 * (Metaspace, ByteFallback, Fuse, Sequence) into tok's vocabulary and a
 * Unigram model; path names the file in errors. */
nlp_status nlp_unigram_from_json(nlp_tokenizer *tok, const struct cJSON *root, const char *path,
                                 nlp_error *err);

/* ---------------------------------------------------------- normalisers */

/* A byte range [s, e) of the original text. */
typedef struct nlp_span {
    int32_t s, e;
} nlp_span;

/* A normalised string: s[0..len) (NUL-terminated) and, for each byte, the
 * range of the original text it comes from (tokenizers' alignments). */
typedef struct nlp_nstr {
    char *s;
    nlp_span *al;
    size_t len, cap;
} nlp_nstr;

/* ns = text[0..len) (valid UTF-8), every byte aligned to its own
 * character.  ns starts zeroed or reused; NLP_OK or NLP_ERR_NOMEM. */
nlp_status nlp_nstr_set(nlp_nstr *ns, const char *text, size_t len);
/* Append s[0..n), every byte aligned to al. */
nlp_status nlp_nstr_put(nlp_nstr *ns, const char *s, size_t n, nlp_span al);
/* Prepend p[0..plen) (when ns is not empty), aligned to ns's first
 * character, as tokenizers' prepend does; tmp is scratch space. */
nlp_status nlp_nstr_prepend(nlp_nstr *ns, const char *p, size_t plen, nlp_nstr *tmp);
void nlp_nstr_free(nlp_nstr *ns);

/* A chain of tokenizer.json normalisers (normalizer.c). */
typedef struct nlp_normalizer nlp_normalizer;
/* Parse tokenizer.json's "normalizer" j (NULL or null: *out = NULL, the
 * identity).  Unknown types fail with NLP_ERR_UNSUPPORTED, malformed
 * fields with NLP_ERR_FORMAT, naming path and the field.  Free *out with
 * nlp_normalizer_free. */
nlp_status nlp_normalizer_from_json(const struct cJSON *j, const char *path,
                                    nlp_normalizer **out, nlp_error *err);
void nlp_normalizer_free(nlp_normalizer *nz);
/* Normalise ns in place (nz NULL: nothing), keeping its alignments; tmp
 * is scratch space (both are the caller's, reused across calls). */
nlp_status nlp_normalizer_apply(const nlp_normalizer *nz, nlp_nstr *ns, nlp_nstr *tmp);

/* Invalid UTF-8 in a decoded buffer becomes U+FFFD (the decode_end of
 * the byte-level families). */
nlp_status nlp_tok_decode_lossy(char **buf, size_t *len, size_t *cap);

/* Unicode White_Space (Rust's char::is_whitespace). */
static inline int nlp_is_white_space(uint32_t c)
{
    return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* Unicode helpers shared by the families. */
/* Decode one code point of valid UTF-8 at s; *n gets its byte length. */
static inline uint32_t nlp_utf8_next(const unsigned char *s, size_t *n)
{
    uint32_t c = s[0];
    if (c < 0x80) { *n = 1; return c; }
    if (c < 0xE0) { *n = 2; return ((c & 0x1F) << 6) | (s[1] & 0x3F); }
    if (c < 0xF0) { *n = 3; return ((c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F); }
    *n = 4;
    return ((c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
           ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}
/* Encode c as UTF-8 into out (4 bytes room); returns the length. */
static inline size_t nlp_utf8_put(uint32_t c, char *out)
{
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | (c >> 6)); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12)); out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F)); return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18)); out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F)); out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}
/* Append s[0..n) to the growable NUL-terminated buffer *buf; 0 or -1
 * when out of memory. */
int nlp_tok_buf_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n);
/* Offset of the first invalid byte of s[0..len), or (size_t)-1 if valid. */
size_t nlp_utf8_check(const char *s, size_t len);

/* ---------------------------------------------------------- sentencepiece .model */

/* nlp_normalizer_spm flags: the NormalizerSpec switches. */
#define NLP_SPM_DUMMY_PREFIX 1     /* add_dummy_prefix */
#define NLP_SPM_REMOVE_EXTRA_WS 2  /* remove_extra_whitespaces */
#define NLP_SPM_ESCAPE 4           /* escape_whitespaces (space -> U+2581) */

/* sentencepiece's own normaliser (normalizer.c): at each position the
 * longest user-defined symbol (trie `user`, may be NULL; taken over) is
 * kept as it is, else the longest key of the charsmap cmap[0..n)
 * (n == 0: none) is replaced, then whitespace is handled as the flags say.
 * Offsets follow sentencepiece's (a piece spans from where its first byte
 * came from to where the next byte came from).  NLP_ERR_FORMAT for a
 * malformed charsmap, NLP_ERR_NOMEM. */
nlp_status nlp_normalizer_spm(const unsigned char *cmap, size_t n, nlp_added_trie *user,
                              int flags, nlp_normalizer **out);

/* A Unigram model given per id (a sentencepiece .model read by
 * spm_model.c), over tok's filled vocabulary. */
typedef struct nlp_unigram_spec {
    const double *score;         /* [tok->vocab.n_model] score of each piece in the lattice */
    const uint8_t *in_lattice;   /* [n_model] 1: the piece is matched in text */
    double unk_score;            /* score of an unknown character */
    int32_t unk_id;
    int byte_fallback;
    nlp_normalizer *norm;        /* taken over, also on failure */
} nlp_unigram_spec;

/* Attach a Unigram model that segments as sentencepiece does (the whole
 * normalised text at once, path sums rounded to float, a run of unknown
 * characters always the unknown id or its bytes, a word per U+2581) with
 * the Metaspace / ByteFallback decoders; path names the file in errors. */
nlp_status nlp_unigram_attach_spm(nlp_tokenizer *tok, nlp_unigram_spec *spec, const char *path,
                                  nlp_error *err);

/* Read the sentencepiece ModelProto at path (spm_model.c) into tok's
 * vocabulary and a Unigram model.  fairseq: XLM-RoBERTa's ids (<s> 0,
 * <pad> 1, </s> 2, <unk> 3, every other piece its id + 1).  Errors name
 * the file and the byte offset. */
nlp_status nlp_spm_load(nlp_tokenizer *tok, const char *path, int fairseq, nlp_error *err);

#endif /* NLP_TOKENIZER_IMPL_H */
