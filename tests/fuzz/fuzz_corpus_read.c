/*
 * fuzz_corpus_read.c - fuzz harness: the CSV / TSV / JSON Lines reader
 * (nlp/corpus.h) over the input, every record pulled to the end, with a
 * small record cap so the cap's recovery paths are reached.
 *
 * Input: byte 0 picks the format (bit 0 JSON Lines, bit 1 no header, bit 2
 * a 64-byte record cap), byte 1 is the delimiter ('\0' = ','), the rest
 * is the corpus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/corpus.h"
#include "fuzz_util.h"

/* Pull every record, checking what the API promises about each one. */
static void drain(nlp_corpus_reader *r, size_t size)
{
    size_t ncols = nlp_corpus_ncolumns(r);
    for (size_t guard = 0; guard <= size + 1; guard++) {
        const nlp_corpus_row *row;
        nlp_error err;
        nlp_status s = nlp_corpus_next(r, &row, &err);
        if (s == NLP_OK && !row)
            return;
        if (!row)
            return; /* a fatal status */
        if (s == NLP_OK && row->nfields != ncols)
            abort();
        for (size_t i = 0; i < row->nfields; i++)
            if (row->fields[i].s[row->fields[i].len] != '\0')
                abort();
        if (row->next_offset < row->offset || row->next_offset > size)
            abort();
    }
    abort(); /* more records than bytes: the reader does not advance */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    nlp_corpus_opts o = { 0 };
    o.format = data[0] & 1 ? NLP_CORPUS_JSONL : NLP_CORPUS_CSV;
    o.no_header = (data[0] >> 1) & 1;
    o.max_record = data[0] & 4 ? 64 : 0;
    o.delimiter = (char)data[1];
    /* fmemopen refuses zero bytes */
    FILE *fp = size == 2 ? fopen("/dev/null", "rb") : fmemopen((void *)(data + 2), size - 2, "rb");
    if (!fp)
        return 0;
    nlp_corpus_reader *r = NULL;
    nlp_error err;
    if (nlp_corpus_reader_open(fp, "fuzz", &o, &r, &err) == NLP_OK) {
        size_t idx;
        (void)nlp_corpus_column_find(r, "text", &idx, &err);
        (void)nlp_corpus_column_find(r, "2", &idx, &err);
        drain(r, size - 2);
        nlp_corpus_reader_free(r);
    }
    fclose(fp);
    return 0;
}
