/*
 * nlp/corpus.h - streaming readers and writers for tabular corpora: CSV
 * (RFC 4180: quoted fields, doubled quotes, delimiters and line breaks
 * inside quotes, CRLF or LF, an optional UTF-8 byte order mark), the same
 * with any one-byte delimiter (TSV), and JSON Lines (one object per line).
 *
 * A reader pulls one record at a time through a fixed-size input buffer
 * and a reusable record buffer, so memory stays bounded by the longest
 * record (itself capped, see max_record) whatever the file size.  Records
 * carry their 1-based physical line number.  A malformed record (an
 * unterminated quote, a wrong number of fields, invalid UTF-8, a line that
 * is not a JSON object) is reported on its own and reading goes on with
 * the next one.
 *
 * A writer emits the same formats: CSV fields are quoted only when they
 * hold the delimiter, a quote or a line break (quotes doubled), records end
 * with "\n"; JSON Lines records are compact objects.
 */
#ifndef NLP_CORPUS_H
#define NLP_CORPUS_H

#include "nlp/export.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "nlp/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nlp_corpus_format {
    NLP_CORPUS_CSV = 0,    /* delimiter-separated with RFC 4180 quoting */
    NLP_CORPUS_JSONL = 1   /* one JSON object per line */
} nlp_corpus_format;

/* How to read or write a corpus.  Zero-initialised = CSV with ',', a
 * header row, the default record cap. */
typedef struct nlp_corpus_opts {
    nlp_corpus_format format;
    char delimiter;        /* CSV only; '\0' means ',' */
    int no_header;         /* CSV: the first row is data; columns are named "1", "2", ... */
    size_t max_record;     /* longest record in bytes; 0 means 64 MiB */
} nlp_corpus_opts;

/* The format a file name suggests: ".jsonl"/".ndjson" JSON Lines, ".tsv"/
 * ".tab" CSV with '\t', anything else (also NULL and "-") CSV with ','.
 * Sets *format and *delimiter. */
NLP_API void nlp_corpus_format_from_path(const char *path, nlp_corpus_format *format,
                                 char *delimiter);

/* One field of a record: bytes (NUL-terminated, len excludes the NUL) and
 * whether they are a JSON literal rather than text (JSON Lines values that
 * are numbers, booleans, null, arrays or objects; also used for result
 * values handed to a writer). */
typedef struct nlp_corpus_field {
    const char *s;
    size_t len;
    int json;
} nlp_corpus_field;

/* A record.  Valid until the next call on its reader. */
typedef struct nlp_corpus_row {
    size_t line;            /* 1-based physical line where the record starts */
    size_t end_line;        /* ... and where it ends (> line with embedded breaks) */
    uint64_t offset;        /* byte offset of its first byte in the input */
    uint64_t next_offset;   /* byte offset just past it (and its line break) */
    size_t index;           /* 0-based number among the records read, bad ones included */
    int eol;                /* 1 when a line break ended it, 0 at the end of the input */
    size_t nfields;
    const nlp_corpus_field *fields;   /* [nfields] */
} nlp_corpus_row;

typedef struct nlp_corpus_reader nlp_corpus_reader;

/* Start reading fp (not closed by the reader; it must outlive it).  The
 * header row (CSV without no_header) or the first object's keys (JSON
 * Lines) give the column names; with no_header the first record gives the
 * column count.  A malformed header or first record is an error here
 * (NLP_ERR_FORMAT / NLP_ERR_UTF8 naming the line).  An empty input has no
 * columns and no records.  source names the input in messages (a path, or
 * "stdin").  *out is freed with nlp_corpus_reader_free().  A delimiter
 * that is not an ASCII byte, or is a quote or a line break, is
 * NLP_ERR_INVALID_ARG (here and in nlp_corpus_writer_open). */
NLP_API nlp_status nlp_corpus_reader_open(FILE *fp, const char *source,
                                  const nlp_corpus_opts *opts,
                                  nlp_corpus_reader **out, nlp_error *err);
NLP_API void nlp_corpus_reader_free(nlp_corpus_reader *r);

/* Columns: their number and names ("1", "2", ... without a header). */
NLP_API size_t nlp_corpus_ncolumns(const nlp_corpus_reader *r);
NLP_API const char *nlp_corpus_column_name(const nlp_corpus_reader *r, size_t i);

/* A column by name, else by 1-based index ("2"): *index is 0-based.
 * NLP_ERR_NOT_FOUND listing the columns when there is no such column. */
NLP_API nlp_status nlp_corpus_column_find(const nlp_corpus_reader *r, const char *spec,
                                  size_t *index, nlp_error *err);

/* The next record.
 *   NLP_OK with *row set: a good record; NLP_OK with *row NULL: the end.
 *   NLP_ERR_FORMAT or NLP_ERR_UTF8 with *row set: a bad record; err says
 *     "line N: why" (and the byte offset for bad UTF-8).  *row gives its
 *     lines and offsets; its fields are whatever could be read.  The next
 *     call goes on after it.
 *   Any other status with *row NULL: reading failed (I/O); stop.
 * Blank lines are skipped.  Every good record has nlp_corpus_ncolumns()
 * fields, in column order (JSON Lines keys missing from a line give null). */
NLP_API nlp_status nlp_corpus_next(nlp_corpus_reader *r, const nlp_corpus_row **row,
                           nlp_error *err);

/* Bytes consumed from the input so far (for progress). */
NLP_API uint64_t nlp_corpus_bytes_read(const nlp_corpus_reader *r);

typedef struct nlp_corpus_writer nlp_corpus_writer;

/* Start writing to fp (not closed by the writer).  *out is freed with
 * nlp_corpus_writer_free(), which does not flush fp. */
NLP_API nlp_status nlp_corpus_writer_open(FILE *fp, const nlp_corpus_opts *opts,
                                  nlp_corpus_writer **out, nlp_error *err);
NLP_API void nlp_corpus_writer_free(nlp_corpus_writer *w);

/* Set the column names (copied) and, for CSV with a header, write the
 * header row.  with_header = 0 only records the names (e.g. appending to a
 * file that has its header already).  JSON Lines uses the names as keys. */
NLP_API nlp_status nlp_corpus_writer_columns(nlp_corpus_writer *w, const char *const *names,
                                     size_t n, int with_header, nlp_error *err);

/* Write one record of n fields (n = the number of columns).  CSV writes
 * JSON literals as their text; JSON Lines writes them unquoted and text as
 * JSON strings.  NLP_ERR_IO on a write failure, NLP_ERR_INVALID_ARG for a
 * wrong field count. */
NLP_API nlp_status nlp_corpus_write_row(nlp_corpus_writer *w, const nlp_corpus_field *fields,
                                size_t n, nlp_error *err);

/* Append s[0..len) as a JSON string literal (quotes included) to a growing
 * buffer *buf of *cap bytes holding *used; for callers building JSON. */
NLP_API nlp_status nlp_corpus_json_quote(char **buf, size_t *used, size_t *cap,
                                 const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* NLP_CORPUS_H */
