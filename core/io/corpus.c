/*
 * corpus.c - streaming CSV / TSV / JSON Lines reader and writer (see
 * nlp/corpus.h).
 *
 * The reader pulls bytes through a 64 KiB input buffer and builds each
 * record in two reusable buffers: the raw bytes (for byte offsets, UTF-8
 * checks and recovery) and the unquoted field contents.  When a quoted
 * field is still open at the end of the input (or grows past max_record),
 * the record is reported bad and parsing restarts on the line after the
 * one where it began, so one stray quote costs one row, not the rest of the
 * file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nlp/corpus.h"
#include "util/util.h"

#define IN_CHUNK (64u * 1024u)
#define DEFAULT_MAX_RECORD ((size_t)64 << 20)

/* ------------------------------------------------------------ buffers */

typedef nlp_buf buf;

static inline int buf_put(buf *b, char c)
{
    if (b->len == b->cap && !nlp_buf_reserve(b, 1))
        return 0;
    b->p[b->len++] = c;
    return 1;
}

/* ------------------------------------------------------------ formats */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n < m)
        return 0;
    for (size_t i = 0; i < m; i++) {
        char c = s[n - m + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != suffix[i])
            return 0;
    }
    return 1;
}

void nlp_corpus_format_from_path(const char *path, nlp_corpus_format *format,
                                 char *delimiter)
{
    *format = NLP_CORPUS_CSV;
    *delimiter = ',';
    if (!path)
        return;
    if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson"))
        *format = NLP_CORPUS_JSONL;
    else if (ends_with(path, ".tsv") || ends_with(path, ".tab"))
        *delimiter = '\t';
}

/* Offset of the first byte that is not part of well-formed UTF-8 (no
 * overlongs, surrogates or code points above U+10FFFF), or len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return i;
        if (i + n >= len)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return i;
        i += n + 1;
    }
    return len;
}

/* A delimiter is one ASCII byte other than a quote or a line break: a
 * byte above 0x7f is part of a multi-byte UTF-8 character and would split
 * it. */
static int delimiter_ok(char delim, nlp_error *err)
{
    unsigned char c = (unsigned char)delim;
    if (c >= 0x80) {
        nlp_error_set(err, NLP_ERR_INVALID_ARG,
                      "the delimiter byte 0x%02x is not ASCII (a byte of a multi-byte UTF-8 character)", c);
        return 0;
    }
    if (c == '"' || c == '\n' || c == '\r') {
        nlp_error_set(err, NLP_ERR_INVALID_ARG, "a delimiter cannot be a quote or a line break");
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------- reader */

struct nlp_corpus_reader {
    FILE *fp;
    char *source;
    nlp_corpus_opts opts;
    char delim;

    /* input: ib[pos..len) are the next bytes, the first at offset off */
    char *ib;
    size_t pos, len, cap;
    int eof, io_error;
    uint64_t off;
    size_t line;            /* physical line of the next byte */

    buf raw;                /* bytes of the current record */
    buf fb;                 /* field contents, each NUL-terminated */
    size_t *fstart;         /* [fcap] offsets into fb */
    size_t *flen;
    int *fjson;
    size_t nf, fcap;
    nlp_corpus_field *fields;

    char **names;           /* [ncols] */
    size_t ncols;
    int have_cols;

    nlp_corpus_row row;
    size_t nrecords;
    int pending_first;      /* the no-header first record is still to be returned */
};

static int refill(nlp_corpus_reader *r)
{
    if (r->eof)
        return 0;
    if (r->pos < r->len)
        return 1;
    if (r->cap > 4 * IN_CHUNK) {   /* shrink after a replay */
        char *p = realloc(r->ib, IN_CHUNK);
        if (p) {
            r->ib = p;
            r->cap = IN_CHUNK;
        }
    }
    r->pos = 0;
    r->len = fread(r->ib, 1, r->cap, r->fp);
    if (r->len == 0) {
        if (ferror(r->fp))
            r->io_error = 1;
        r->eof = 1;
        return 0;
    }
    return 1;
}

/* Next byte (also appended to raw), or -1 at the end / on failure. */
static inline int rd_get(nlp_corpus_reader *r)
{
    if (r->pos == r->len && !refill(r))
        return -1;
    unsigned char c = (unsigned char)r->ib[r->pos++];
    r->off++;
    if (c == '\n')
        r->line++;
    if (!buf_put(&r->raw, (char)c))
        return -2;
    return c;
}

static inline int rd_peek(nlp_corpus_reader *r)
{
    if (r->pos == r->len && !refill(r))
        return -1;
    return (unsigned char)r->ib[r->pos];
}

/* Push bytes back in front of the unread input: they are read next, at
 * offset off and line line. */
static int rd_replay(nlp_corpus_reader *r, const char *bytes, size_t n, uint64_t off,
                     size_t line)
{
    size_t rest = r->len - r->pos;
    size_t cap = n + rest > IN_CHUNK ? n + rest : IN_CHUNK;
    char *p = malloc(cap);
    if (!p)
        return 0;
    memcpy(p, bytes, n);
    memcpy(p + n, r->ib + r->pos, rest);
    free(r->ib);
    r->ib = p;
    r->cap = cap;
    r->pos = 0;
    r->len = n + rest;
    r->off = off;
    r->line = line;
    if (r->len > 0 && r->eof)
        r->eof = 0;   /* bytes to read again; fread at the real end gives 0 again */
    return 1;
}

static int field_begin(nlp_corpus_reader *r)
{
    if (r->nf == r->fcap) {
        size_t cap = r->fcap ? r->fcap * 2 : 16;
        size_t *s = realloc(r->fstart, cap * sizeof *s);
        if (!s)
            return 0;
        r->fstart = s;
        size_t *l = realloc(r->flen, cap * sizeof *l);
        if (!l)
            return 0;
        r->flen = l;
        int *j = realloc(r->fjson, cap * sizeof *j);
        if (!j)
            return 0;
        r->fjson = j;
        nlp_corpus_field *f = realloc(r->fields, cap * sizeof *f);
        if (!f)
            return 0;
        r->fields = f;
        r->fcap = cap;
    }
    r->fstart[r->nf] = r->fb.len;
    r->fjson[r->nf] = 0;
    return 1;
}

static int field_end(nlp_corpus_reader *r)
{
    r->flen[r->nf] = r->fb.len - r->fstart[r->nf];
    r->nf++;
    return buf_put(&r->fb, '\0');
}

/* Point the row's fields into fb (after fb stopped growing). */
static void fields_finish(nlp_corpus_reader *r)
{
    for (size_t i = 0; i < r->nf; i++)
        r->fields[i] = (nlp_corpus_field){r->fb.p + r->fstart[i], r->flen[i], r->fjson[i]};
    r->row.nfields = r->nf;
    r->row.fields = r->fields;
}

enum { REC_OK = 0, REC_END = 1, REC_BAD = 2, REC_FATAL = 3 };

static int fatal_nomem(nlp_corpus_reader *r, nlp_error *err)
{
    nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory at line %zu", r->source, r->line);
    return REC_FATAL;
}

/* Skip blank lines; returns the first byte of the record (left unread) or
 * -1 at the end. */
static int skip_blank(nlp_corpus_reader *r, int json)
{
    for (;;) {
        int c = rd_peek(r);
        if (c == '\n') {
            r->pos++;
            r->off++;
            r->line++;
        } else if (c == '\r') {
            r->pos++;
            r->off++;
            if (rd_peek(r) == '\n') {
                r->pos++;
                r->off++;
            }
            r->line++;
        } else if (json && (c == ' ' || c == '\t')) {
            /* a JSON Lines line of blanks only counts as blank: peek ahead
             * by consuming into raw, restored below if not blank */
            r->raw.len = 0;
            uint64_t off0 = r->off;
            size_t line0 = r->line;
            int d;
            while ((d = rd_peek(r)) == ' ' || d == '\t')
                rd_get(r);
            if (d == '\n' || d == '\r' || d == -1)
                continue;
            if (!rd_replay(r, r->raw.p, r->raw.len, off0, line0))
                return -2;
            r->raw.len = 0;
            return c;
        } else
            return c;
    }
}

/* After a record went bad inside quotes: read again from the line after
 * the one it started on. */
static int recover_after_first_line(nlp_corpus_reader *r)
{
    const char *nl = memchr(r->raw.p, '\n', r->raw.len);
    if (!nl)
        return 1;   /* nothing to read again */
    size_t skip = (size_t)(nl - r->raw.p) + 1;
    return rd_replay(r, r->raw.p + skip, r->raw.len - skip, r->row.offset + skip,
                     r->row.line + 1);
}

/* Drop input up to and including the next line break. */
static void skip_line(nlp_corpus_reader *r)
{
    int c;
    while ((c = rd_peek(r)) >= 0) {
        r->pos++;
        r->off++;
        if (c == '\n') {
            r->line++;
            return;
        }
    }
}

static int utf8_bad(nlp_corpus_reader *r, nlp_error *err)
{
    size_t at = utf8_check((const unsigned char *)r->raw.p, r->raw.len);
    if (at == r->raw.len)
        return 0;
    size_t line = r->row.line;
    for (size_t i = 0; i < at; i++)
        if (r->raw.p[i] == '\n')
            line++;
    nlp_error_set(err, NLP_ERR_UTF8, "%s: line %zu: invalid UTF-8 at byte %llu (0x%02x)",
                  r->source, line, (unsigned long long)(r->row.offset + at),
                  (unsigned char)r->raw.p[at]);
    return 1;
}

/* Start a record: skip blank lines (json: as JSON Lines does), then reset
 * the row buffers at the record's first byte.  Returns REC_OK, REC_END at
 * the end of the input, or REC_FATAL (err set). */
static int record_begin(nlp_corpus_reader *r, int json, nlp_error *err)
{
    int first = skip_blank(r, json);
    if (first == -2)
        return fatal_nomem(r, err);
    if (first < 0)
        return r->io_error ? (nlp_error_set(err, NLP_ERR_IO, "%s: read error after byte %llu",
                                            r->source, (unsigned long long)r->off),
                              REC_FATAL)
                           : REC_END;
    r->raw.len = 0;
    r->fb.len = 0;
    r->nf = 0;
    r->row.line = r->line;
    r->row.offset = r->off;
    r->row.eol = 0;
    return REC_OK;
}

/* Parse one CSV record into the field buffers. */
static int read_csv_record(nlp_corpus_reader *r, nlp_error *err)
{
    enum { S_START, S_UNQ, S_Q, S_QQ } st = S_START;
    size_t qraw = 0;   /* where in raw the open quote is */
    const int d = (unsigned char)r->delim;   /* compared with bytes 0..255, never with -1 */
    size_t max = r->opts.max_record ? r->opts.max_record : DEFAULT_MAX_RECORD;

    int begun = record_begin(r, 0, err);
    if (begun != REC_OK)
        return begun;
    if (!field_begin(r))
        return fatal_nomem(r, err);
    for (;;) {
        int c = rd_get(r);
        if (c == -2)
            return fatal_nomem(r, err);
        if (r->raw.len > max) {
            int quoted = st == S_Q;
            if (st != S_START && !field_end(r))
                return fatal_nomem(r, err);
            fields_finish(r);
            nlp_error_set(err, NLP_ERR_FORMAT, "%s: line %zu: record longer than %zu bytes%s",
                          r->source, r->row.line, max,
                          quoted ? " (an unterminated quote?)" : "");
            if (quoted) {
                if (!recover_after_first_line(r))
                    return fatal_nomem(r, err);
            } else if (c != '\n')
                skip_line(r);
            r->row.end_line = r->line;
            r->row.next_offset = r->off;
            return REC_BAD;
        }
        switch (st) {
        case S_START:
        case S_UNQ:
        case S_QQ:
            if (c == '"' && st == S_START) {
                qraw = r->raw.len - 1;
                st = S_Q;
                continue;
            }
            if (c == '"' && st == S_QQ) {   /* doubled quote */
                if (!buf_put(&r->fb, '"'))
                    return fatal_nomem(r, err);
                st = S_Q;
                continue;
            }
            if (c == d) {
                if (!field_end(r) || !field_begin(r))
                    return fatal_nomem(r, err);
                st = S_START;
                continue;
            }
            if (c == '\n' || c == '\r' || c < 0) {
                if (c == '\r') {
                    if (rd_peek(r) == '\n')
                        rd_get(r);
                    else
                        r->line++;
                }
                r->row.eol = c >= 0;
                if (!field_end(r))
                    return fatal_nomem(r, err);
                fields_finish(r);
                r->row.end_line = r->row.eol ? r->line - 1 : r->line;
                r->row.next_offset = r->off;
                if (c < 0 && r->io_error) {
                    nlp_error_set(err, NLP_ERR_IO, "%s: read error after byte %llu",
                                  r->source, (unsigned long long)r->off);
                    return REC_FATAL;
                }
                return REC_OK;
            }
            /* text; after a closing quote it is kept as it is */
            if (!buf_put(&r->fb, (char)c))
                return fatal_nomem(r, err);
            st = S_UNQ;
            continue;
        case S_Q:
            if (c == '"') {
                st = S_QQ;
                continue;
            }
            if (c < 0) {
                if (r->io_error) {
                    nlp_error_set(err, NLP_ERR_IO, "%s: read error after byte %llu",
                                  r->source, (unsigned long long)r->off);
                    return REC_FATAL;
                }
                if (!field_end(r))
                    return fatal_nomem(r, err);
                fields_finish(r);
                uint64_t qoff = r->row.offset + qraw;
                size_t qline = r->row.line;
                for (size_t i = 0; i < qraw; i++)
                    if (r->raw.p[i] == '\n')
                        qline++;
                nlp_error_set(err, NLP_ERR_FORMAT,
                              "%s: line %zu: unterminated quote (opened at byte %llu, line %zu)",
                              r->source, r->row.line, (unsigned long long)qoff, qline);
                r->row.end_line = r->row.line;
                r->row.next_offset = r->off;
                if (!recover_after_first_line(r))
                    return fatal_nomem(r, err);
                r->row.next_offset = r->off;
                return REC_BAD;
            }
            if (!buf_put(&r->fb, (char)c))
                return fatal_nomem(r, err);
            continue;
        }
    }
}

/* Read one JSON Lines record: the raw line into raw. */
static int read_json_line(nlp_corpus_reader *r, nlp_error *err)
{
    size_t max = r->opts.max_record ? r->opts.max_record : DEFAULT_MAX_RECORD;
    int begun = record_begin(r, 1, err);
    if (begun != REC_OK)
        return begun;
    r->row.nfields = 0;
    r->row.fields = r->fields;
    for (;;) {
        int c = rd_get(r);
        if (c == -2)
            return fatal_nomem(r, err);
        if (c < 0) {
            if (r->io_error) {
                nlp_error_set(err, NLP_ERR_IO, "%s: read error after byte %llu", r->source,
                              (unsigned long long)r->off);
                return REC_FATAL;
            }
            break;
        }
        if (c == '\n') {
            r->row.eol = 1;
            r->raw.len--;
            break;
        }
        if (r->raw.len > max) {
            nlp_error_set(err, NLP_ERR_FORMAT, "%s: line %zu: record longer than %zu bytes",
                          r->source, r->row.line, max);
            skip_line(r);
            r->row.end_line = r->row.line;
            r->row.next_offset = r->off;
            r->raw.len = 0;
            return REC_BAD;
        }
    }
    if (r->raw.len && r->raw.p[r->raw.len - 1] == '\r')
        r->raw.len--;
    r->row.end_line = r->row.line;
    r->row.next_offset = r->off;
    return REC_OK;
}

static int add_field(nlp_corpus_reader *r, const char *s, size_t n, int json)
{
    if (!field_begin(r) || !nlp_buf_add(&r->fb, s, n))
        return 0;
    r->fjson[r->nf] = json;
    return field_end(r);
}

static char *dup_n(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* Turn the JSON object in raw into fields (setting the columns from the
 * first object). */
static int json_fields(nlp_corpus_reader *r, nlp_error *err)
{
    cJSON *obj = cJSON_ParseWithLength(r->raw.p, r->raw.len);
    if (!obj) {
        const char *at = cJSON_GetErrorPtr();
        size_t pos = at && at >= r->raw.p && at <= r->raw.p + r->raw.len
                         ? (size_t)(at - r->raw.p) : 0;
        nlp_error_set(err, NLP_ERR_FORMAT, "%s: line %zu: malformed JSON near byte %llu",
                      r->source, r->row.line, (unsigned long long)(r->row.offset + pos));
        return REC_BAD;
    }
    int rc = REC_OK;
    if (!cJSON_IsObject(obj)) {
        nlp_error_set(err, NLP_ERR_FORMAT, "%s: line %zu: not a JSON object", r->source,
                      r->row.line);
        rc = REC_BAD;
        goto out;
    }
    if (!r->have_cols) {
        size_t n = (size_t)cJSON_GetArraySize(obj);
        r->names = calloc(n ? n : 1, sizeof *r->names);
        if (!r->names) {
            rc = fatal_nomem(r, err);
            goto out;
        }
        for (cJSON *it = obj->child; it; it = it->next) {
            int dup = 0;
            for (size_t i = 0; i < r->ncols; i++)
                dup |= strcmp(r->names[i], it->string) == 0;
            if (dup)
                continue;
            if (!(r->names[r->ncols] = strdup(it->string))) {
                rc = fatal_nomem(r, err);
                goto out;
            }
            r->ncols++;
        }
        r->have_cols = 1;
    }
    for (cJSON *it = obj->child; it; it = it->next) {
        int known = 0;
        for (size_t i = 0; i < r->ncols && !known; i++)
            known = strcmp(r->names[i], it->string) == 0;
        if (!known) {
            nlp_error_set(err, NLP_ERR_FORMAT,
                          "%s: line %zu: key \"%s\" is not a column (the columns are the keys of the first object)",
                          r->source, r->row.line, it->string);
            rc = REC_BAD;
            goto out;
        }
    }
    for (size_t i = 0; i < r->ncols; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, r->names[i]);
        int ok;
        if (!v)
            ok = add_field(r, "null", 4, 1);
        else if (cJSON_IsString(v))
            ok = add_field(r, v->valuestring, strlen(v->valuestring), 0);
        else {
            char *t = cJSON_PrintUnformatted(v);
            ok = t && add_field(r, t, strlen(t), 1);
            free(t);
        }
        if (!ok) {
            rc = fatal_nomem(r, err);
            goto out;
        }
    }
    fields_finish(r);
out:
    cJSON_Delete(obj);
    return rc;
}

/* Read and check the next record; REC_* */
static int next_record(nlp_corpus_reader *r, nlp_error *err)
{
    int rc;
    r->nf = 0;
    r->row.nfields = 0;
    r->row.fields = r->fields;
    if (r->opts.format == NLP_CORPUS_JSONL) {
        rc = read_json_line(r, err);
        if (rc != REC_OK)
            return rc;
        if (utf8_bad(r, err))
            return REC_BAD;
        return json_fields(r, err);
    }
    rc = read_csv_record(r, err);
    if (rc != REC_OK)
        return rc;
    if (utf8_bad(r, err))
        return REC_BAD;
    if (r->have_cols && r->nf != r->ncols) {
        nlp_error_set(err, NLP_ERR_FORMAT, "%s: line %zu: %zu field%s, expected %zu", r->source,
                      r->row.line, r->nf, r->nf == 1 ? "" : "s", r->ncols);
        return REC_BAD;
    }
    return REC_OK;
}

void nlp_corpus_reader_free(nlp_corpus_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ncols; i++)
        free(r->names[i]);
    free(r->names);
    free(r->source);
    free(r->ib);
    free(r->raw.p);
    free(r->fb.p);
    free(r->fstart);
    free(r->flen);
    free(r->fjson);
    free(r->fields);
    free(r);
}

/* Columns from the current (first) CSV record. */
static int csv_columns(nlp_corpus_reader *r, int from_names)
{
    r->names = calloc(r->nf ? r->nf : 1, sizeof *r->names);
    if (!r->names)
        return 0;
    for (size_t i = 0; i < r->nf; i++) {
        char num[32];
        snprintf(num, sizeof num, "%zu", i + 1);
        r->names[i] = from_names ? dup_n(r->fb.p + r->fstart[i], r->flen[i]) : strdup(num);
        if (!r->names[i])
            return 0;
        r->ncols = i + 1;
    }
    r->have_cols = 1;
    return 1;
}

nlp_status nlp_corpus_reader_open(FILE *fp, const char *source, const nlp_corpus_opts *opts,
                                  nlp_corpus_reader **out, nlp_error *err)
{
    *out = NULL;
    if (!fp)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_corpus_reader_open: no input");
    nlp_corpus_reader *r = calloc(1, sizeof *r);
    if (!r)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory opening a corpus");
    r->fp = fp;
    if (opts)
        r->opts = *opts;
    r->delim = r->opts.delimiter ? r->opts.delimiter : ',';
    r->source = strdup(source ? source : "input");
    r->ib = malloc(IN_CHUNK);
    r->cap = IN_CHUNK;
    r->line = 1;
    if (!r->source || !r->ib) {
        nlp_corpus_reader_free(r);
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory opening a corpus");
    }
    if (!delimiter_ok(r->delim, err)) {
        nlp_corpus_reader_free(r);
        return NLP_ERR_INVALID_ARG;
    }
    /* a UTF-8 byte order mark */
    if (refill(r) && r->len - r->pos >= 3 && memcmp(r->ib + r->pos, "\xEF\xBB\xBF", 3) == 0) {
        r->pos += 3;
        r->off += 3;
    } else if (r->len - r->pos < 3 && r->len > 0) {
        /* a tiny input may arrive in pieces: top up before checking */
        size_t got = r->len;
        while (got < 3 && !feof(fp)) {
            size_t k = fread(r->ib + got, 1, 3 - got, fp);
            if (k == 0)
                break;
            got += k;
        }
        r->len = got;
        if (got >= 3 && memcmp(r->ib, "\xEF\xBB\xBF", 3) == 0) {
            r->pos = 3;
            r->off = 3;
        }
    }
    if (r->io_error) {
        nlp_error_set(err, NLP_ERR_IO, "%s: cannot read", r->source);
        nlp_corpus_reader_free(r);
        return NLP_ERR_IO;
    }
    if (r->opts.format == NLP_CORPUS_CSV) {
        int rc = next_record(r, err);
        if (rc == REC_END) {
            *out = r;
            r->have_cols = 1;
            return NLP_OK;
        }
        if (rc != REC_OK) {
            nlp_status st = err ? err->status : NLP_ERR_FORMAT;
            if (rc == REC_BAD && err) {
                char msg[NLP_ERROR_MAX];
                snprintf(msg, sizeof msg, "%s", err->msg);
                nlp_error_set(err, st, "%s (in the %s)", msg,
                              r->opts.no_header ? "first record" : "header");
            }
            nlp_corpus_reader_free(r);
            return st;
        }
        if (!csv_columns(r, !r->opts.no_header)) {
            nlp_corpus_reader_free(r);
            return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory reading the header");
        }
        r->pending_first = r->opts.no_header;
    } else {
        int rc = next_record(r, err);
        if (rc == REC_END) {
            r->have_cols = 1;
            *out = r;
            return NLP_OK;
        }
        if (rc != REC_OK) {
            nlp_status st = err ? err->status : NLP_ERR_FORMAT;
            nlp_corpus_reader_free(r);
            return st;
        }
        r->pending_first = 1;
    }
    *out = r;
    return NLP_OK;
}

size_t nlp_corpus_ncolumns(const nlp_corpus_reader *r)
{
    return r->ncols;
}

const char *nlp_corpus_column_name(const nlp_corpus_reader *r, size_t i)
{
    return i < r->ncols ? r->names[i] : NULL;
}

nlp_status nlp_corpus_column_find(const nlp_corpus_reader *r, const char *spec, size_t *index,
                                  nlp_error *err)
{
    if (!spec || !*spec)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "empty column name");
    for (size_t i = 0; i < r->ncols; i++)
        if (strcmp(r->names[i], spec) == 0) {
            *index = i;
            return NLP_OK;
        }
    size_t k = strspn(spec, "0123456789");
    if (spec[k] == '\0' && k < 10) {
        size_t n = (size_t)strtoul(spec, NULL, 10);
        if (n >= 1 && n <= r->ncols) {
            *index = n - 1;
            return NLP_OK;
        }
        return nlp_error_set(err, NLP_ERR_NOT_FOUND, "%s: no column %s (it has %zu column%s)",
                             r->source, spec, r->ncols, r->ncols == 1 ? "" : "s");
    }
    char list[300];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < r->ncols && used < sizeof list - 8; i++) {
        int n = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", r->names[i]);
        if (n < 0)
            break;
        used += (size_t)n;
        if (used >= sizeof list) {
            used = sizeof list - 1;
            break;
        }
    }
    if (used >= sizeof list - 8)
        memcpy(list + sizeof list - 5, "...", 4);
    return nlp_error_set(err, NLP_ERR_NOT_FOUND, "%s: no column \"%s\" (columns: %s)",
                         r->source, spec, list);
}

nlp_status nlp_corpus_next(nlp_corpus_reader *r, const nlp_corpus_row **row, nlp_error *err)
{
    *row = NULL;
    if (r->pending_first) {
        r->pending_first = 0;
        r->row.index = r->nrecords++;
        *row = &r->row;
        return NLP_OK;
    }
    int rc = next_record(r, err);
    switch (rc) {
    case REC_END:
        return NLP_OK;
    case REC_OK:
        r->row.index = r->nrecords++;
        *row = &r->row;
        return NLP_OK;
    case REC_BAD:
        r->row.index = r->nrecords++;
        if (r->row.fields != r->fields || r->row.nfields > r->nf)
            r->row.nfields = 0;
        *row = &r->row;
        return err ? err->status : NLP_ERR_FORMAT;
    default:
        return err && err->status != NLP_OK ? err->status : NLP_ERR_IO;
    }
}

uint64_t nlp_corpus_bytes_read(const nlp_corpus_reader *r)
{
    return r->off;
}

/* ------------------------------------------------------------- writer */

struct nlp_corpus_writer {
    FILE *fp;
    nlp_corpus_opts opts;
    char delim;
    char **names;
    size_t ncols;
    buf line;
};

nlp_status nlp_corpus_writer_open(FILE *fp, const nlp_corpus_opts *opts,
                                  nlp_corpus_writer **out, nlp_error *err)
{
    *out = NULL;
    if (!fp)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_corpus_writer_open: no output");
    char delim = opts && opts->delimiter ? opts->delimiter : ',';
    if (!delimiter_ok(delim, err))
        return NLP_ERR_INVALID_ARG;
    nlp_corpus_writer *w = calloc(1, sizeof *w);
    if (!w)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory opening a corpus writer");
    w->fp = fp;
    if (opts)
        w->opts = *opts;
    w->delim = delim;
    *out = w;
    return NLP_OK;
}

void nlp_corpus_writer_free(nlp_corpus_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ncols; i++)
        free(w->names[i]);
    free(w->names);
    free(w->line.p);
    free(w);
}

/* A CSV field, quoted when it must be. */
static int csv_field(buf *b, const char *s, size_t n, char delim, int alone)
{
    int quote = alone && n == 0;   /* a lone empty field would read as a blank line */
    /* a leading U+FEFF would be taken for the byte order mark at the start
     * of the output (and stripped by the reader) */
    quote |= n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == delim || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote)
        return nlp_buf_add(b, s, n);
    if (!buf_put(b, '"'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] == '"' && !buf_put(b, '"')) || !buf_put(b, s[i]))
            return 0;
    return buf_put(b, '"');
}

static int json_string(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (!nlp_buf_reserve(b, n + 2) || !buf_put(b, '"'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default: break;
        }
        if (esc) {
            if (!nlp_buf_add(b, esc, 2))
                return 0;
        } else if (c < 0x20) {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            if (!nlp_buf_add(b, u, 6))
                return 0;
        } else if (!buf_put(b, (char)c))
            return 0;
    }
    return buf_put(b, '"');
}

nlp_status nlp_corpus_json_quote(char **p, size_t *used, size_t *cap, const char *s, size_t len)
{
    buf b = {*p, *used, *cap};
    int ok = json_string(&b, s, len);
    *p = b.p;
    *used = b.len;
    *cap = b.cap;
    return ok ? NLP_OK : NLP_ERR_NOMEM;
}

static nlp_status flush_line(nlp_corpus_writer *w, nlp_error *err)
{
    if (fwrite(w->line.p, 1, w->line.len, w->fp) != w->line.len)
        return nlp_error_set(err, NLP_ERR_IO, "cannot write the output");
    return NLP_OK;
}

nlp_status nlp_corpus_writer_columns(nlp_corpus_writer *w, const char *const *names, size_t n,
                                     int with_header, nlp_error *err)
{
    for (size_t i = 0; i < w->ncols; i++)
        free(w->names[i]);
    free(w->names);
    w->ncols = 0;
    w->names = calloc(n ? n : 1, sizeof *w->names);
    if (!w->names)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!(w->names[i] = strdup(names[i])))
            return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        w->ncols = i + 1;
    }
    if (!with_header || w->opts.format != NLP_CORPUS_CSV || w->opts.no_header)
        return NLP_OK;
    w->line.len = 0;
    for (size_t i = 0; i < n; i++)
        if ((i && !buf_put(&w->line, w->delim)) ||
            !csv_field(&w->line, names[i], strlen(names[i]), w->delim, n == 1))
            return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    if (!buf_put(&w->line, '\n'))
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    return flush_line(w, err);
}

nlp_status nlp_corpus_write_row(nlp_corpus_writer *w, const nlp_corpus_field *f, size_t n,
                                nlp_error *err)
{
    if (n != w->ncols)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "a row of %zu fields for %zu columns", n,
                             w->ncols);
    buf *b = &w->line;
    b->len = 0;
    int ok = 1;
    if (w->opts.format == NLP_CORPUS_JSONL) {
        ok = buf_put(b, '{');
        for (size_t i = 0; i < n && ok; i++) {
            ok = (!i || buf_put(b, ',')) && json_string(b, w->names[i], strlen(w->names[i])) &&
                 buf_put(b, ':');
            if (ok && f[i].json)
                ok = f[i].len ? nlp_buf_add(b, f[i].s, f[i].len) : nlp_buf_add(b, "null", 4);
            else if (ok)
                ok = json_string(b, f[i].s, f[i].len);
        }
        ok = ok && buf_put(b, '}');
    } else {
        for (size_t i = 0; i < n && ok; i++)
            ok = (!i || buf_put(b, w->delim)) && csv_field(b, f[i].s, f[i].len, w->delim, n == 1);
    }
    if (!ok || !buf_put(b, '\n'))
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    return flush_line(w, err);
}
