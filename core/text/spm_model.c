/*
 * spm_model.c - sentencepiece .model files (spm.model of DeBERTa-v3,
 * sentencepiece.bpe.model of XLM-RoBERTa, spiece.model): the protobuf
 * ModelProto read with a small bounded reader of our own, turned into
 * the Unigram model of unigram.c with sentencepiece's normaliser
 * (normalizer.c).
 *
 * Read: pieces (1: piece 1, score 2, type 3), trainer_spec (2:
 * model_type 3, treat_whitespace_as_suffix 24, byte_fallback 35) and
 * normalizer_spec (3: precompiled_charsmap 2, add_dummy_prefix 3,
 * remove_extra_whitespaces 4, escape_whitespaces 5); every other field is
 * skipped by its wire type.  Only Unigram models are accepted.
 *
 * Segmentation follows sentencepiece: NORMAL and USER_DEFINED pieces are
 * matched in text (a user-defined piece scores its byte length times the
 * highest NORMAL score, minus 0.1, so it always wins), CONTROL, UNUSED
 * and BYTE pieces are not; an unknown character scores the lowest NORMAL
 * score minus 10.
 *
 * Limits: the file at most 256 MiB, at most 2^24 pieces of at most
 * 65,536 bytes each; every length is checked against the bytes left in
 * its message.  Errors name the file and the byte offset.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"
#include "util/util.h"

#define SPM_MAX_FILE ((size_t)256 << 20)

enum { PT_NORMAL = 1, PT_UNKNOWN, PT_CONTROL, PT_USER_DEFINED, PT_UNUSED, PT_BYTE };

typedef struct spm_piece {
    size_t off, len;   /* the piece string in the file */
    float score;
    int type;
} spm_piece;

typedef struct spm_proto {
    spm_piece *pc;
    size_t n, cap;
    int model_type, byte_fallback, suffix;
    const unsigned char *cmap;   /* precompiled_charsmap in the file, or NULL */
    size_t cmap_len;
    int dummy, extra, escape;
} spm_proto;

/* A protobuf message being read: the file's bytes, the position, the end
 * of the current message. */
typedef struct pb {
    const unsigned char *p;
    size_t at, end;
    const char *path;
    nlp_error *err;
} pb;

/* NLP_ERR_FORMAT naming the file and byte offset `at`. */
static nlp_status pb_fail(const pb *b, size_t at, const char *what)
{
    return nlp_error_set(b->err, NLP_ERR_FORMAT, "%s: byte %zu: %s", b->path, at, what);
}

/* A varint (at most 10 bytes) inside the current message into *v. */
static nlp_status pb_varint(pb *b, uint64_t *v)
{
    size_t start = b->at;
    *v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (b->at >= b->end)
            return pb_fail(b, start, "truncated varint");
        unsigned char c = b->p[b->at++];
        *v |= (uint64_t)(c & 0x7F) << (shift < 64 ? shift : 63);
        if (c < 0x80)
            return NLP_OK;
    }
    return pb_fail(b, start, "varint longer than 10 bytes");
}

/* A length-delimited field's bytes: [*start, *start + *len) inside the
 * current message; the position moves past them. */
static nlp_status pb_bytes(pb *b, size_t *start, size_t *len)
{
    size_t at = b->at;
    uint64_t n;
    nlp_status s = pb_varint(b, &n);
    if (s)
        return s;
    if (n > b->end - b->at)
        return pb_fail(b, at, "length runs past the end of its message");
    *start = b->at;
    *len = (size_t)n;
    b->at += (size_t)n;
    return NLP_OK;
}

/* Skip a field of wire type wt (varint, 64-bit, bytes, 32-bit). */
static nlp_status pb_skip(pb *b, int wt, size_t key_at)
{
    uint64_t v;
    size_t st, n, w = wt == 1 ? 8 : 4;
    switch (wt) {
    case 0: return pb_varint(b, &v);
    case 2: return pb_bytes(b, &st, &n);
    case 1:
    case 5:
        if (b->end - b->at < w)
            return pb_fail(b, b->at, "truncated fixed-size field");
        b->at += w;
        return NLP_OK;
    }
    return pb_fail(b, key_at, "unsupported protobuf wire type (groups are not used by sentencepiece)");
}

/* The next key of the current message: *field and *wt; *key_at its offset. */
static nlp_status pb_key(pb *b, uint32_t *field, int *wt, size_t *key_at)
{
    uint64_t k;
    *key_at = b->at;
    nlp_status s = pb_varint(b, &k);
    if (!s && (k >> 3) == 0)
        return pb_fail(b, *key_at, "field number 0");
    *field = (uint32_t)(k >> 3 > UINT32_MAX ? UINT32_MAX : k >> 3);
    *wt = (int)(k & 7);
    return s;
}

/* A varint field's value as a small integer (enum, bool, int32). */
static nlp_status pb_int(pb *b, int wt, size_t key_at, int64_t *out)
{
    uint64_t v = 0;
    *out = 0;
    if (wt != 0)
        return pb_fail(b, key_at, "expected a varint field");
    nlp_status s = pb_varint(b, &v);
    *out = (int64_t)v;
    return s;
}

/* Enter the length-delimited sub-message of a field: *save keeps the
 * outer end to restore. */
static nlp_status pb_enter(pb *b, int wt, size_t key_at, size_t *save)
{
    size_t st, n;
    *save = b->end;
    if (wt != 2)
        return pb_fail(b, key_at, "expected a length-delimited field");
    nlp_status s = pb_bytes(b, &st, &n);
    if (s)
        return s;
    *save = b->end;
    b->at = st;
    b->end = st + n;
    return NLP_OK;
}

/* One SentencePiece message (piece, score, type). */
static nlp_status read_piece(pb *b, spm_piece *pc, size_t msg_at)
{
    nlp_status s = NLP_OK;
    int have = 0;
    *pc = (spm_piece){ 0, 0, 0.0f, PT_NORMAL };
    while (!s && b->at < b->end) {
        uint32_t f;
        int wt;
        size_t ka;
        int64_t v;
        if ((s = pb_key(b, &f, &wt, &ka)))
            break;
        if (f == 1 && wt == 2) {
            s = pb_bytes(b, &pc->off, &pc->len);
            have = 1;
        } else if (f == 2 && wt == 5) {
            if (b->end - b->at < 4)
                return pb_fail(b, ka, "truncated score");
            uint32_t u = (uint32_t)b->p[b->at] | (uint32_t)b->p[b->at + 1] << 8 |
                         (uint32_t)b->p[b->at + 2] << 16 | (uint32_t)b->p[b->at + 3] << 24;
            memcpy(&pc->score, &u, 4);
            b->at += 4;
        } else if (f == 3) {
            if (!(s = pb_int(b, wt, ka, &v)) && (v < PT_NORMAL || v > PT_BYTE))
                return pb_fail(b, ka, "piece type is not 1-6 (NORMAL .. BYTE)");
            pc->type = (int)v;
        } else if (f <= 3) {
            return pb_fail(b, ka, "piece field with the wrong wire type");
        } else {
            s = pb_skip(b, wt, ka);
        }
    }
    if (!s && !have)
        return pb_fail(b, msg_at, "piece without its string");
    return s;
}

/* trainer_spec: the fields that change encoding. */
static nlp_status read_trainer(pb *b, spm_proto *m)
{
    nlp_status s = NLP_OK;
    while (!s && b->at < b->end) {
        uint32_t f;
        int wt;
        size_t ka;
        int64_t v;
        if ((s = pb_key(b, &f, &wt, &ka)))
            break;
        if (f == 3 || f == 24 || f == 35) {
            if ((s = pb_int(b, wt, ka, &v)))
                break;
            if (f == 3)
                m->model_type = v < 0 || v > 100 ? 100 : (int)v;
            else if (f == 24)
                m->suffix = v != 0;
            else
                m->byte_fallback = v != 0;
        } else {
            s = pb_skip(b, wt, ka);
        }
    }
    return s;
}

/* normalizer_spec: the charsmap and the whitespace switches. */
static nlp_status read_normalizer(pb *b, spm_proto *m)
{
    nlp_status s = NLP_OK;
    while (!s && b->at < b->end) {
        uint32_t f;
        int wt;
        size_t ka, st, n;
        int64_t v;
        if ((s = pb_key(b, &f, &wt, &ka)))
            break;
        if (f == 2 && wt == 2) {
            if (!(s = pb_bytes(b, &st, &n))) {
                m->cmap = b->p + st;
                m->cmap_len = n;
            }
        } else if (f >= 3 && f <= 5) {
            if ((s = pb_int(b, wt, ka, &v)))
                break;
            *(f == 3 ? &m->dummy : f == 4 ? &m->extra : &m->escape) = v != 0;
        } else {
            s = pb_skip(b, wt, ka);
        }
    }
    return s;
}

/* Append one piece (the message at the current field) to m. */
static nlp_status add_piece(pb *b, spm_proto *m, int wt, size_t ka)
{
    size_t save;
    nlp_status s = pb_enter(b, wt, ka, &save);
    if (s)
        return s;
    if (m->n == NLP_TOK_MAX_ID)
        return pb_fail(b, ka, "more than 16777216 pieces");
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 1024;
        spm_piece *p = realloc(m->pc, cap * sizeof *p);
        if (!p)
            return nlp_error_set(b->err, NLP_ERR_NOMEM, "%s: out of memory", b->path);
        m->pc = p;
        m->cap = cap;
    }
    spm_piece *pc = &m->pc[m->n];
    if ((s = read_piece(b, pc, ka)))
        return s;
    if (pc->len == 0 || pc->len > NLP_TOK_MAX_TOKEN ||
        nlp_utf8_check((const char *)b->p + pc->off, pc->len) != (size_t)-1)
        return pb_fail(b, pc->off, "piece string is empty, longer than 65536 bytes or not valid UTF-8");
    m->n++;
    b->end = save;
    return NLP_OK;
}

/* The ModelProto of data[0..len). */
static nlp_status read_model(pb *b, spm_proto *m)
{
    nlp_status s = NLP_OK;
    m->model_type = 1;
    m->dummy = m->extra = m->escape = 1;
    while (!s && b->at < b->end) {
        uint32_t f;
        int wt;
        size_t ka, save;
        if ((s = pb_key(b, &f, &wt, &ka)))
            break;
        if (f == 1) {
            s = add_piece(b, m, wt, ka);
        } else if (f == 2 || f == 3) {
            if (!(s = pb_enter(b, wt, ka, &save)))
                s = f == 2 ? read_trainer(b, m) : read_normalizer(b, m);
            b->end = save;
        } else {
            s = pb_skip(b, wt, ka);
        }
    }
    return s;
}

/* What the model can encode with: a Unigram model with one unknown piece. */
static nlp_status check_model(const spm_proto *m, const char *path, int32_t *unk, nlp_error *err)
{
    static const char *const types[] = { "", "Unigram", "BPE", "WORD", "CHAR" };
    if (m->model_type != 1)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                             "%s: a sentencepiece %s model; only Unigram models are supported (use its tokenizer.json)",
                             path, m->model_type >= 2 && m->model_type <= 4 ? types[m->model_type] : "unknown-type");
    if (m->suffix)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: treat_whitespace_as_suffix is not supported", path);
    *unk = -1;
    for (size_t i = 0; i < m->n; i++)
        if (m->pc[i].type == PT_UNKNOWN)
            *unk = (int32_t)i;
    if (m->n == 0 || *unk < 0)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: the model has no pieces or no unknown piece", path);
    return NLP_OK;
}

/* The id piece j gets: j, or with fairseq's offset j + 1. */
static int32_t piece_id(size_t j, int fairseq)
{
    return (int32_t)j + (fairseq ? 1 : 0);
}

/* The lowest and highest NORMAL scores, from sentencepiece's starting
 * values FLT_MAX and FLT_MIN (so *hi is never below FLT_MIN). */
static void score_range(const spm_proto *m, float *lo, float *hi)
{
    *lo = FLT_MAX;
    *hi = FLT_MIN;
    for (size_t j = 0; j < m->n; j++)
        if (m->pc[j].type == PT_NORMAL) {
            *lo = m->pc[j].score < *lo ? m->pc[j].score : *lo;
            *hi = m->pc[j].score > *hi ? m->pc[j].score : *hi;
        }
}

/* Vocabulary (with fairseq's four tokens first when asked), scores and
 * the lattice mask into the spec's arrays ([n_model]). */
static nlp_status build_vocab(nlp_tokenizer *tok, const spm_proto *m, const unsigned char *data,
                              int fairseq, double *score, uint8_t *in_lattice)
{
    static const char *const fs[4] = { "<s>", "<pad>", "</s>", "<unk>" };
    float lo, hi;
    score_range(m, &lo, &hi);
    for (int i = 0; fairseq && i < 4; i++)
        if (nlp_vocab_set(&tok->vocab, i, fs[i], strlen(fs[i])))
            return NLP_ERR_NOMEM;
    for (size_t j = 0; j < m->n; j++) {
        const spm_piece *p = &m->pc[j];
        int32_t id = piece_id(j, fairseq);
        if (fairseq && id < 4)
            continue;
        if (nlp_vocab_set(&tok->vocab, id, (const char *)data + p->off, p->len))
            return NLP_ERR_NOMEM;
        in_lattice[id] = p->type == PT_NORMAL || p->type == PT_USER_DEFINED;
        score[id] = p->type == PT_USER_DEFINED ? (double)((float)p->len * hi) - 0.1 : (double)p->score;
    }
    tok->vocab.n_model = tok->vocab.n;
    return nlp_vocab_index(&tok->vocab);
}

/* The user-defined pieces in a trie for the normaliser (NULL: none). */
static nlp_status user_trie(const spm_proto *m, const unsigned char *data, nlp_added_trie **out)
{
    *out = NULL;
    for (size_t j = 0; j < m->n; j++) {
        if (m->pc[j].type != PT_USER_DEFINED)
            continue;
        if ((!*out && nlp_added_trie_new(out)) ||
            nlp_added_trie_add(*out, (const char *)data + m->pc[j].off, m->pc[j].len, (int32_t)j))
            return NLP_ERR_NOMEM;
    }
    return NLP_OK;
}

/* The Unigram model of m over tok. */
static nlp_status spm_attach(nlp_tokenizer *tok, const spm_proto *m, const unsigned char *data,
                             int32_t unk, int fairseq, const char *path, nlp_error *err)
{
    size_t n_model = m->n + (fairseq ? 1 : 0);
    if (fairseq && n_model < 4)
        n_model = 4;
    double *score = calloc(n_model, sizeof *score);
    uint8_t *in_lattice = calloc(n_model, 1);
    nlp_added_trie *user = NULL;
    nlp_normalizer *nz = NULL;
    nlp_status s = score && in_lattice ? build_vocab(tok, m, data, fairseq, score, in_lattice) : NLP_ERR_NOMEM;
    if (!s)
        s = user_trie(m, data, &user);
    if (!s) {
        int flags = (m->dummy ? NLP_SPM_DUMMY_PREFIX : 0) | (m->extra ? NLP_SPM_REMOVE_EXTRA_WS : 0) |
                    (m->escape ? NLP_SPM_ESCAPE : 0);
        nlp_added_trie *u = user;
        user = NULL; /* taken over, also on failure */
        s = nlp_normalizer_spm(m->cmap, m->cmap ? m->cmap_len : 0, u, flags, &nz);
    }
    if (s) {
        nlp_added_trie_free(user);
        free(score);
        free(in_lattice);
        if (s == NLP_ERR_FORMAT)
            return nlp_error_set(err, s, "%s: byte %zu: precompiled_charsmap is malformed", path,
                                 (size_t)(m->cmap - data));
        return nlp_error_set(err, s, "%s: out of memory", path);
    }
    float lo, hi;
    score_range(m, &lo, &hi);
    nlp_unigram_spec spec = { score, in_lattice, (double)(lo - 10.0f),
                              fairseq ? 3 : piece_id((size_t)unk, 0), m->byte_fallback, nz };
    s = nlp_unigram_attach_spm(tok, &spec, path, err);
    free(score);
    free(in_lattice);
    return s;
}

nlp_status nlp_spm_load(nlp_tokenizer *tok, const char *path, int fairseq, nlp_error *err)
{
    char *data;
    size_t len;
    nlp_status s = nlp_read_file(path, &data, &len, err);
    if (s)
        return s;
    if (len > SPM_MAX_FILE) {
        free(data);
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: larger than 256 MiB", path);
    }
    spm_proto m = { 0 };
    pb b = { (const unsigned char *)data, 0, len, path, err };
    int32_t unk = -1;
    s = read_model(&b, &m);
    if (!s)
        s = check_model(&m, path, &unk, err);
    if (!s)
        s = spm_attach(tok, &m, (const unsigned char *)data, unk, fairseq, path, err);
    free(m.pc);
    free(data);
    return s;
}
