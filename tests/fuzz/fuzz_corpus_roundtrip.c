/*
 * fuzz_corpus_roundtrip.c - fuzz harness: the corpus writer and reader
 * round trip.  The input is read as CSV (with a header); its columns and
 * good records are written with the corpus writer (CSV, TSV or JSON
 * Lines), read back, and must come back byte for byte.  (Column names
 * are C strings: a NUL byte in a header field ends the name.)
 *
 * Input: byte 0 picks the output format (0 CSV, 1 TSV, 2 JSON Lines, from
 * its value modulo 3), the rest is a CSV file.  JSON Lines cannot carry a
 * NUL byte inside a string, two columns of the same name or columns
 * without records, so such inputs are not compared in that format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/corpus.h"
#include "fuzz_util.h"

typedef struct table {
    char **names;
    size_t ncols;
    nlp_corpus_field *cells; /* [nrows][ncols], owned copies */
    size_t nrows;
    int has_nul;             /* some name or cell holds a NUL byte */
} table;

static char *dup_n(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (!c)
        abort();
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        free(t->names[i]);
    free(t->names);
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free((char *)t->cells[i].s);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* Read every good record of fp into t; returns 0 when the reader refused
 * the input. */
static int table_read(FILE *fp, const nlp_corpus_opts *o, table *t)
{
    nlp_corpus_reader *r;
    nlp_error err;
    memset(t, 0, sizeof *t);
    if (nlp_corpus_reader_open(fp, "fuzz", o, &r, &err) != NLP_OK)
        return 0;
    t->ncols = nlp_corpus_ncolumns(r);
    t->names = calloc(t->ncols + 1, sizeof *t->names);
    for (size_t i = 0; i < t->ncols; i++)
        t->names[i] = dup_n(nlp_corpus_column_name(r, i), strlen(nlp_corpus_column_name(r, i)));
    const nlp_corpus_row *row;
    for (;;) {
        nlp_status s = nlp_corpus_next(r, &row, &err);
        if (!row)
            break;
        if (s != NLP_OK)
            continue;
        t->cells = realloc(t->cells, (t->nrows + 1) * (t->ncols ? t->ncols : 1) * sizeof *t->cells);
        for (size_t i = 0; i < t->ncols; i++) {
            nlp_corpus_field f = row->fields[i];
            t->has_nul |= memchr(f.s, '\0', f.len) != NULL;
            t->cells[t->nrows * t->ncols + i] = (nlp_corpus_field){ dup_n(f.s, f.len), f.len, 0 };
        }
        t->nrows++;
    }
    nlp_corpus_reader_free(r);
    return 1;
}

/* Write t in format o into a new memory buffer. */
static char *table_write(const table *t, const nlp_corpus_opts *o, size_t *len)
{
    char *buf = NULL;
    FILE *fp = open_memstream(&buf, len);
    nlp_corpus_writer *w;
    nlp_error err;
    if (!fp || nlp_corpus_writer_open(fp, o, &w, &err) != NLP_OK)
        abort();
    if (nlp_corpus_writer_columns(w, (const char *const *)t->names, t->ncols, 1, &err) != NLP_OK)
        abort();
    for (size_t i = 0; i < t->nrows; i++)
        if (nlp_corpus_write_row(w, t->cells + i * t->ncols, t->ncols, &err) != NLP_OK)
            abort();
    nlp_corpus_writer_free(w);
    fclose(fp);
    return buf;
}

static int same_names(const table *a, const table *b)
{
    if (a->ncols != b->ncols)
        return 0;
    for (size_t i = 0; i < a->ncols; i++)
        if (strcmp(a->names[i], b->names[i]) != 0)
            return 0;
    return 1;
}

static int dup_names(const table *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->names[i], t->names[j]) == 0)
                return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int fmt = data[0] % 3;
    nlp_corpus_opts in = { 0 }, out = { 0 };
    out.format = fmt == 2 ? NLP_CORPUS_JSONL : NLP_CORPUS_CSV;
    out.delimiter = fmt == 1 ? '\t' : ',';
    FILE *fp = fmemopen((void *)(data + 1), size - 1, "rb");
    if (!fp)
        return 0;
    table a, b;
    int ok = table_read(fp, &in, &a);
    fclose(fp);
    if (!ok)
        return 0;
    /* JSON Lines has no header line: its columns come from the first record */
    if (a.ncols == 0 || (fmt == 2 && (a.has_nul || dup_names(&a) || a.nrows == 0))) {
        table_free(&a);
        return 0;
    }
    size_t len = 0;
    char *text = table_write(&a, &out, &len);
    /* the harness's own two tables (a copy of every cell; short rows are
     * padded to the header's width) and the text, in a growing stream */
    FUZZ_ALLOW(2 * a.nrows * a.ncols * (sizeof(nlp_corpus_field) + 32) + 3 * len);
    fp = len ? fmemopen(text, len, "rb") : fopen("/dev/null", "rb");
    if (!fp || !table_read(fp, &out, &b))
        abort(); /* what we wrote must read back */
    fclose(fp);
    free(text);
    if (!same_names(&a, &b) || a.nrows != b.nrows)
        abort();
    for (size_t i = 0; i < a.nrows * a.ncols; i++)
        if (a.cells[i].len != b.cells[i].len || memcmp(a.cells[i].s, b.cells[i].s, a.cells[i].len))
            abort();
    table_free(&a);
    table_free(&b);
    return 0;
}
