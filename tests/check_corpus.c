/*
 * check_corpus.c - the corpus reader and writer (nlp/corpus.h): every
 * format case against Python's csv and json modules
 * (data/expected/corpus/cases.json from tests/gen/gen_corpus.py), every
 * bad-record case with its message and line number, records across input
 * buffer boundaries, a pipe fed a few bytes at a time, and CSV / JSON
 * Lines round trips.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "nlp/corpus.h"

static cJSON *cases;

static void load_cases(void)
{
    const char *path = NLP_TEST_DATA "/expected/corpus/cases.json";
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    cases = cJSON_Parse(s);
    free(s);
    ck_assert_ptr_nonnull(cases);
}

static void unload_cases(void)
{
    cJSON_Delete(cases);
    cases = NULL;
}

/* A reader over in-memory bytes. */
typedef struct mem_in {
    FILE *fp;
    nlp_corpus_reader *r;
} mem_in;

static nlp_status open_mem(mem_in *m, const char *data, size_t len, nlp_corpus_opts *o,
                           nlp_error *err)
{
    m->r = NULL;
    m->fp = fmemopen((void *)data, len ? len : 1, "r");
    ck_assert_ptr_nonnull(m->fp);
    if (len == 0)
        fgetc(m->fp);   /* fmemopen refuses size 0: read past the one byte */
    return nlp_corpus_reader_open(m->fp, "t.csv", o, &m->r, err);
}

static void close_mem(mem_in *m)
{
    nlp_corpus_reader_free(m->r);
    fclose(m->fp);
}

/* ---------------------------------------------------- reference cases */

START_TEST(test_reference_reads)
{
    cJSON *c;
    int ncases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cases, "read"))
    {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        const char *in = cJSON_GetObjectItem(c, "input")->valuestring;
        nlp_corpus_opts o = {.delimiter = cJSON_GetObjectItem(c, "delimiter")->valuestring[0]};
        mem_in m;
        nlp_error err = {0};
        ck_assert_msg(open_mem(&m, in, strlen(in), &o, &err) == NLP_OK, "%s: %s", name, err.msg);
        cJSON *hdr = cJSON_GetObjectItem(c, "header");
        ck_assert_uint_eq(nlp_corpus_ncolumns(m.r), (size_t)cJSON_GetArraySize(hdr));
        for (int i = 0; i < cJSON_GetArraySize(hdr); i++)
            ck_assert_str_eq(nlp_corpus_column_name(m.r, (size_t)i),
                             cJSON_GetArrayItem(hdr, i)->valuestring);
        cJSON *rows = cJSON_GetObjectItem(c, "rows"), *lines = cJSON_GetObjectItem(c, "lines");
        for (int i = 0; i < cJSON_GetArraySize(rows); i++) {
            const nlp_corpus_row *row;
            nlp_status st = nlp_corpus_next(m.r, &row, &err);
            ck_assert_msg(st == NLP_OK && row, "%s row %d: %s", name, i, err.msg);
            cJSON *want = cJSON_GetArrayItem(rows, i);
            ck_assert_uint_eq(row->nfields, (size_t)cJSON_GetArraySize(want));
            for (size_t k = 0; k < row->nfields; k++) {
                const char *w = cJSON_GetArrayItem(want, (int)k)->valuestring;
                ck_assert_msg(row->fields[k].len == strlen(w) &&
                                  memcmp(row->fields[k].s, w, strlen(w)) == 0,
                              "%s row %d field %zu: got '%s' want '%s'", name, i, k,
                              row->fields[k].s, w);
                ck_assert_int_eq(row->fields[k].json, 0);
            }
            ck_assert_msg(row->line == (size_t)cJSON_GetArrayItem(lines, i)->valueint,
                          "%s row %d: line %zu, want %d", name, i, row->line,
                          cJSON_GetArrayItem(lines, i)->valueint);
            ck_assert_uint_eq(row->index, (size_t)i);
        }
        const nlp_corpus_row *row;
        ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
        ck_assert_msg(row == NULL, "%s: a record too many", name);
        ck_assert_uint_eq(nlp_corpus_bytes_read(m.r), strlen(in));
        close_mem(&m);
        ncases++;
    }
    ck_assert_int_ge(ncases, 19);
}
END_TEST

static char *write_rows(cJSON *rows, nlp_corpus_opts *o, size_t *len)
{
    char *out = NULL;
    FILE *fp = open_memstream(&out, len);
    nlp_corpus_writer *w;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_corpus_writer_open(fp, o, &w, &err), NLP_OK);
    int n = cJSON_GetArraySize(cJSON_GetArrayItem(rows, 0));
    const char *names[16];
    for (int k = 0; k < n; k++)
        names[k] = cJSON_GetArrayItem(cJSON_GetArrayItem(rows, 0), k)->valuestring;
    ck_assert_int_eq(nlp_corpus_writer_columns(w, names, (size_t)n, 1, &err), NLP_OK);
    for (int i = 1; i < cJSON_GetArraySize(rows); i++) {
        nlp_corpus_field f[16];
        for (int k = 0; k < n; k++) {
            const char *s = cJSON_GetArrayItem(cJSON_GetArrayItem(rows, i), k)->valuestring;
            f[k] = (nlp_corpus_field){s, strlen(s), 0};
        }
        ck_assert_int_eq(nlp_corpus_write_row(w, f, (size_t)n, &err), NLP_OK);
    }
    nlp_corpus_writer_free(w);
    fclose(fp);
    return out;
}

START_TEST(test_reference_writes)
{
    static const struct { const char *key; char delim; } kinds[] = {
        {"write_csv", ','}, {"write_tsv", '\t'}, {"write_single_column", ','}};
    for (size_t t = 0; t < 3; t++) {
        cJSON *c = cJSON_GetObjectItem(cases, kinds[t].key);
        nlp_corpus_opts o = {.delimiter = kinds[t].delim};
        size_t len;
        char *out = write_rows(cJSON_GetObjectItem(c, "rows"), &o, &len);
        ck_assert_str_eq(out, cJSON_GetObjectItem(c, "output")->valuestring);

        /* and it reads back as the same rows */
        mem_in m;
        nlp_error err = {0};
        ck_assert_int_eq(open_mem(&m, out, len, &o, &err), NLP_OK);
        cJSON *rows = cJSON_GetObjectItem(c, "rows");
        for (int i = 1; i < cJSON_GetArraySize(rows); i++) {
            const nlp_corpus_row *row;
            ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
            ck_assert_ptr_nonnull(row);
            for (size_t k = 0; k < row->nfields; k++)
                ck_assert_str_eq(row->fields[k].s,
                                 cJSON_GetArrayItem(cJSON_GetArrayItem(rows, i), (int)k)->valuestring);
        }
        close_mem(&m);
        free(out);
    }
}
END_TEST

START_TEST(test_jsonl_round_trip)
{
    cJSON *c = cJSON_GetObjectItem(cases, "jsonl");
    const char *in = cJSON_GetObjectItem(c, "input")->valuestring;
    nlp_corpus_opts o = {.format = NLP_CORPUS_JSONL};
    mem_in m;
    nlp_error err = {0};
    ck_assert_int_eq(open_mem(&m, in, strlen(in), &o, &err), NLP_OK);
    ck_assert_uint_eq(nlp_corpus_ncolumns(m.r), 2);
    ck_assert_str_eq(nlp_corpus_column_name(m.r, 0), "text");
    ck_assert_str_eq(nlp_corpus_column_name(m.r, 1), "n");

    char *out = NULL;
    size_t len;
    FILE *fp = open_memstream(&out, &len);
    nlp_corpus_writer *w;
    ck_assert_int_eq(nlp_corpus_writer_open(fp, &o, &w, &err), NLP_OK);
    const char *names[] = {"text", "n"};
    ck_assert_int_eq(nlp_corpus_writer_columns(w, names, 2, 1, &err), NLP_OK);
    cJSON *texts = cJSON_GetObjectItem(c, "texts"), *lits = cJSON_GetObjectItem(c, "literals");
    for (int i = 0; i < cJSON_GetArraySize(texts); i++) {
        const nlp_corpus_row *row;
        ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
        ck_assert_ptr_nonnull(row);
        ck_assert_uint_eq(row->line, (size_t)i + 1);
        ck_assert_str_eq(row->fields[0].s, cJSON_GetArrayItem(texts, i)->valuestring);
        ck_assert_int_eq(row->fields[0].json, 0);
        ck_assert_str_eq(row->fields[1].s, cJSON_GetArrayItem(lits, i)->valuestring);
        ck_assert_int_eq(row->fields[1].json, 1);
        ck_assert_int_eq(nlp_corpus_write_row(w, row->fields, 2, &err), NLP_OK);
    }
    const nlp_corpus_row *row;
    ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
    ck_assert_ptr_null(row);
    nlp_corpus_writer_free(w);
    fclose(fp);
    ck_assert_str_eq(out, cJSON_GetObjectItem(c, "output")->valuestring);
    free(out);
    close_mem(&m);
}
END_TEST

/* ------------------------------------------------------ bad records */

/* Read all records of in; format "L:ok" or "L:E:message" per record,
 * joined with '|'.  The source name is "t.csv". */
static void read_all(const char *in, size_t len, nlp_corpus_opts *o, char *out, size_t cap)
{
    mem_in m;
    nlp_error err = {0};
    ck_assert_msg(open_mem(&m, in, len, o, &err) == NLP_OK, "%s", err.msg);
    out[0] = '\0';
    for (int guard = 0; guard < 100; guard++) {
        const nlp_corpus_row *row;
        nlp_error_clear(&err);
        nlp_status st = nlp_corpus_next(m.r, &row, &err);
        size_t used = strlen(out);
        if (st == NLP_OK && !row)
            break;
        ck_assert_ptr_nonnull(row);
        if (st == NLP_OK) {
            snprintf(out + used, cap - used, "%s%zu:ok", used ? "|" : "", row->line);
        } else
            snprintf(out + used, cap - used, "%s%zu:E:%s", used ? "|" : "", row->line, err.msg);
    }
    close_mem(&m);
}

START_TEST(test_unterminated_quote)
{
    char got[2048];
    nlp_corpus_opts o = {0};
    /* the bad record costs its first line only: parsing restarts after it */
    const char *in = "a,b\n1,2\n\"open,3\n4,5\n6,7\n";
    read_all(in, strlen(in), &o, got, sizeof got);
    ck_assert_str_eq(got, "2:ok|3:E:t.csv: line 3: unterminated quote (opened at byte 8, line 3)"
                          "|4:ok|5:ok");
    /* in the second field, no final newline */
    in = "a,b\nx,\"never closed";
    read_all(in, strlen(in), &o, got, sizeof got);
    ck_assert_str_eq(got, "2:E:t.csv: line 2: unterminated quote (opened at byte 6, line 2)");
    /* an unterminated quote in the header fails the open */
    mem_in m;
    nlp_error err = {0};
    in = "\"a,b\n1,2\n";
    ck_assert_int_eq(open_mem(&m, in, strlen(in), &o, &err), NLP_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "t.csv: line 1: unterminated quote (opened at byte 0, line 1) (in the header)");
    ck_assert_ptr_null(m.r);
    fclose(m.fp);
}
END_TEST

START_TEST(test_field_count)
{
    char got[2048];
    nlp_corpus_opts o = {0};
    const char *in = "a,b\n1,2,3\n4\n5,6\n\"x\ny\",\"z\",w\n7,8\n";
    read_all(in, strlen(in), &o, got, sizeof got);
    ck_assert_str_eq(got, "2:E:t.csv: line 2: 3 fields, expected 2|3:E:t.csv: line 3: 1 field, expected 2"
                          "|4:ok|5:E:t.csv: line 5: 3 fields, expected 2|7:ok");
}
END_TEST

START_TEST(test_invalid_utf8)
{
    char got[4096];
    nlp_corpus_opts o = {0};
    /* byte offsets: "a,b\n" 0-3, "ok,1\n" 4-8, line 3 from 9; the second bad
     * record starts on line 4 and its bad byte is on line 5 */
    const char in[] = "a,b\nok,1\nbad\xff,2\n\"two\nli\xc3\",3\n"
                      "over\xc0\xaflong,4\nsur\xed\xa0\x80,5\ncut\xe2\x82,6\nfine \xe2\x82\xac,7\n";
    read_all(in, sizeof in - 1, &o, got, sizeof got);
    ck_assert_str_eq(got,
                     "2:ok"
                     "|3:E:t.csv: line 3: invalid UTF-8 at byte 12 (0xff)"
                     "|4:E:t.csv: line 5: invalid UTF-8 at byte 23 (0xc3)"
                     "|6:E:t.csv: line 6: invalid UTF-8 at byte 32 (0xc0)"
                     "|7:E:t.csv: line 7: invalid UTF-8 at byte 44 (0xed)"
                     "|8:E:t.csv: line 8: invalid UTF-8 at byte 53 (0xe2)"
                     "|9:ok");
}
END_TEST

START_TEST(test_record_too_long)
{
    char got[2048];
    nlp_corpus_opts o = {.max_record = 16};
    const char *in = "a,b\n1,2\n0123456789,0123456789\n3,4\n\"0123456789\n0123456789\",x\n5,6\n";
    read_all(in, strlen(in), &o, got, sizeof got);
    ck_assert_str_eq(got, "2:ok|3:E:t.csv: line 3: record longer than 16 bytes|4:ok"
                          "|5:E:t.csv: line 5: record longer than 16 bytes (an unterminated quote?)"
                          "|6:ok|7:ok");
    /* (line 6, read again as a record of its own, is 0123456789" and x) */
}
END_TEST

START_TEST(test_jsonl_bad_lines)
{
    char got[4096];
    nlp_corpus_opts o = {.format = NLP_CORPUS_JSONL};
    const char in[] = "{\"text\": \"a\", \"id\": 1}\n"
                      "\n"
                      "{\"text\": \"b\"}\r\n"
                      "[1, 2]\n"
                      "{\"text\": \"c\", \"oops\": 2}\n"
                      "{\"text\": \"d\"\n"
                      "   \n"
                      "{\"text\": \"\xff\"}\n"
                      "{\"id\": 3, \"text\": \"e\"}";
    read_all(in, sizeof in - 1, &o, got, sizeof got);
    ck_assert_str_eq(got, "1:ok|3:ok"
                          "|4:E:t.csv: line 4: not a JSON object"
                          "|5:E:t.csv: line 5: key \"oops\" is not a column (the columns are the keys of the first object)"
                          "|6:E:t.csv: line 6: malformed JSON near byte 82"
                          "|8:E:t.csv: line 8: invalid UTF-8 at byte 98 (0xff)"
                          "|9:ok");

    /* a missing key reads as null; key order follows the first object */
    mem_in m;
    nlp_error err = {0};
    ck_assert_int_eq(open_mem(&m, in, sizeof in - 1, &o, &err), NLP_OK);
    const nlp_corpus_row *row;
    ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
    ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
    ck_assert_uint_eq(row->nfields, 2);
    ck_assert_str_eq(row->fields[0].s, "b");
    ck_assert_str_eq(row->fields[1].s, "null");
    ck_assert_int_eq(row->fields[1].json, 1);
    close_mem(&m);
}
END_TEST

START_TEST(test_no_header_and_columns)
{
    nlp_corpus_opts o = {.delimiter = '\t', .no_header = 1};
    const char *in = "first text\t1\nsecond\t0\n";
    mem_in m;
    nlp_error err = {0};
    ck_assert_int_eq(open_mem(&m, in, strlen(in), &o, &err), NLP_OK);
    ck_assert_uint_eq(nlp_corpus_ncolumns(m.r), 2);
    ck_assert_str_eq(nlp_corpus_column_name(m.r, 0), "1");
    size_t idx = 99;
    ck_assert_int_eq(nlp_corpus_column_find(m.r, "2", &idx, &err), NLP_OK);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(nlp_corpus_column_find(m.r, "3", &idx, &err), NLP_ERR_NOT_FOUND);
    ck_assert_str_eq(err.msg, "t.csv: no column 3 (it has 2 columns)");
    ck_assert_int_eq(nlp_corpus_column_find(m.r, "text", &idx, &err), NLP_ERR_NOT_FOUND);
    ck_assert_str_eq(err.msg, "t.csv: no column \"text\" (columns: 1, 2)");
    const nlp_corpus_row *row;
    ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
    ck_assert_uint_eq(row->line, 1);
    ck_assert_str_eq(row->fields[0].s, "first text");
    ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
    ck_assert_uint_eq(row->line, 2);
    ck_assert_str_eq(row->fields[1].s, "0");
    ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
    ck_assert_ptr_null(row);
    close_mem(&m);

    /* with a header: names first, then 1-based indexes */
    o = (nlp_corpus_opts){0};
    in = "review,2\nnice,x\n";
    ck_assert_int_eq(open_mem(&m, in, strlen(in), &o, &err), NLP_OK);
    ck_assert_int_eq(nlp_corpus_column_find(m.r, "review", &idx, &err), NLP_OK);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(nlp_corpus_column_find(m.r, "2", &idx, &err), NLP_OK);
    ck_assert_uint_eq(idx, 1);   /* the column named "2" */
    ck_assert_int_eq(nlp_corpus_column_find(m.r, "1", &idx, &err), NLP_OK);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(nlp_corpus_column_find(m.r, "", &idx, &err), NLP_ERR_INVALID_ARG);
    close_mem(&m);
}
END_TEST

START_TEST(test_empty_and_eol)
{
    nlp_corpus_opts o = {0};
    mem_in m;
    nlp_error err = {0};
    ck_assert_int_eq(open_mem(&m, "", 0, &o, &err), NLP_OK);
    ck_assert_uint_eq(nlp_corpus_ncolumns(m.r), 0);
    const nlp_corpus_row *row;
    ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
    ck_assert_ptr_null(row);
    close_mem(&m);

    /* a last record without its line break is marked (a cut-off write) */
    const char *in = "a,b\n1,2\n3,4";
    ck_assert_int_eq(open_mem(&m, in, strlen(in), &o, &err), NLP_OK);
    ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
    ck_assert_int_eq(row->eol, 1);
    ck_assert_uint_eq(row->offset, 4);
    ck_assert_uint_eq(row->next_offset, 8);
    ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
    ck_assert_int_eq(row->eol, 0);
    ck_assert_uint_eq(row->next_offset, 11);
    close_mem(&m);

    /* a delimiter that cannot be one */
    o.delimiter = '"';
    ck_assert_int_eq(open_mem(&m, in, strlen(in), &o, &err), NLP_ERR_INVALID_ARG);
    fclose(m.fp);
}
END_TEST

/* Records far longer than the input buffer and straddling its edges. */
START_TEST(test_across_buffers)
{
    size_t cap = 4u << 20, used = 0;
    char *in = malloc(cap);
    used += (size_t)snprintf(in, cap, "id,text\r\n");
    for (int i = 0; i < 3000; i++)
        used += (size_t)snprintf(in + used, cap - used,
                                 "%d,\"row %d says \"\"hi\"\"\r\nand goes on%0*d\"\r\n", i, i,
                                 (i * 37) % 900 + 1, 0);
    nlp_corpus_opts o = {0};
    mem_in m;
    nlp_error err = {0};
    ck_assert_int_eq(open_mem(&m, in, used, &o, &err), NLP_OK);
    char want[2048];
    for (int i = 0; i < 3000; i++) {
        const nlp_corpus_row *row;
        ck_assert_int_eq(nlp_corpus_next(m.r, &row, &err), NLP_OK);
        ck_assert_ptr_nonnull(row);
        ck_assert_uint_eq(row->line, 2 + 2 * (size_t)i);
        ck_assert_uint_eq(row->end_line, 3 + 2 * (size_t)i);
        snprintf(want, sizeof want, "row %d says \"hi\"\r\nand goes on%0*d", i,
                 (i * 37) % 900 + 1, 0);
        ck_assert_str_eq(row->fields[1].s, want);
    }
    ck_assert_uint_eq(nlp_corpus_bytes_read(m.r), used);
    close_mem(&m);
    free(in);
}
END_TEST

/* A pipe fed a few bytes at a time (as stdin often is): the same records. */
typedef struct trickle {
    int fd;
    const char *data;
    size_t len;
} trickle;

static void *trickle_main(void *arg)
{
    trickle *t = arg;
    for (size_t i = 0; i < t->len; i += 3) {
        size_t n = t->len - i < 3 ? t->len - i : 3;
        if (write(t->fd, t->data + i, n) != (ssize_t)n)
            break;
        if (i % 300 == 0)
            usleep(200);
    }
    close(t->fd);
    return NULL;
}

START_TEST(test_pipe_input)
{
    static const char in[] = "\xEF\xBB\xBFid,text\r\n1,\"a\r\nb\"\r\n2,plain\r\n3,\"x,\"\"y\"\"\"\r\n";
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    trickle t = {fds[1], in, sizeof in - 1};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, trickle_main, &t), 0);
    FILE *fp = fdopen(fds[0], "rb");
    nlp_corpus_reader *r;
    nlp_error err = {0};
    nlp_corpus_opts o = {0};
    ck_assert_int_eq(nlp_corpus_reader_open(fp, "stdin", &o, &r, &err), NLP_OK);
    ck_assert_str_eq(nlp_corpus_column_name(r, 0), "id");   /* the mark is not part of it */
    static const char *want[][2] = {{"1", "a\r\nb"}, {"2", "plain"}, {"3", "x,\"y\""}};
    static const size_t lines[] = {2, 4, 5};
    for (int i = 0; i < 3; i++) {
        const nlp_corpus_row *row;
        ck_assert_int_eq(nlp_corpus_next(r, &row, &err), NLP_OK);
        ck_assert_ptr_nonnull(row);
        ck_assert_str_eq(row->fields[0].s, want[i][0]);
        ck_assert_str_eq(row->fields[1].s, want[i][1]);
        ck_assert_uint_eq(row->line, lines[i]);
    }
    const nlp_corpus_row *row;
    ck_assert_int_eq(nlp_corpus_next(r, &row, &err), NLP_OK);
    ck_assert_ptr_null(row);
    ck_assert_uint_eq(nlp_corpus_bytes_read(r), sizeof in - 1);
    nlp_corpus_reader_free(r);
    fclose(fp);
    pthread_join(th, NULL);
}
END_TEST

START_TEST(test_format_from_path)
{
    nlp_corpus_format f;
    char d;
    nlp_corpus_format_from_path("x/reviews.TSV", &f, &d);
    ck_assert(f == NLP_CORPUS_CSV && d == '\t');
    nlp_corpus_format_from_path("a.jsonl", &f, &d);
    ck_assert(f == NLP_CORPUS_JSONL);
    nlp_corpus_format_from_path("a.ndjson", &f, &d);
    ck_assert(f == NLP_CORPUS_JSONL);
    nlp_corpus_format_from_path("-", &f, &d);
    ck_assert(f == NLP_CORPUS_CSV && d == ',');
    nlp_corpus_format_from_path(NULL, &f, &d);
    ck_assert(f == NLP_CORPUS_CSV && d == ',');
}
END_TEST

START_TEST(test_writer_errors_and_literals)
{
    char *out = NULL;
    size_t len;
    FILE *fp = open_memstream(&out, &len);
    nlp_corpus_writer *w;
    nlp_error err = {0};
    nlp_corpus_opts o = {0};
    ck_assert_int_eq(nlp_corpus_writer_open(fp, &o, &w, &err), NLP_OK);
    const char *names[] = {"text", "entities"};
    ck_assert_int_eq(nlp_corpus_writer_columns(w, names, 2, 0, &err), NLP_OK);
    nlp_corpus_field f[2] = {{"hi", 2, 0}, {"[{\"a\":1}]", 9, 1}};
    ck_assert_int_eq(nlp_corpus_write_row(w, f, 2, &err), NLP_OK);
    ck_assert_int_eq(nlp_corpus_write_row(w, f, 1, &err), NLP_ERR_INVALID_ARG);
    ck_assert_str_eq(err.msg, "a row of 1 fields for 2 columns");
    nlp_corpus_writer_free(w);
    fclose(fp);
    ck_assert_str_eq(out, "hi,\"[{\"\"a\"\":1}]\"\n");   /* no header written */
    free(out);

    /* a lone carriage return is quoted too (RFC 4180: CR is a line break) */
    fp = open_memstream(&out, &len);
    ck_assert_int_eq(nlp_corpus_writer_open(fp, &o, &w, &err), NLP_OK);
    ck_assert_int_eq(nlp_corpus_writer_columns(w, names, 2, 0, &err), NLP_OK);
    nlp_corpus_field g[2] = {{"a\rb", 3, 0}, {"", 0, 0}};
    ck_assert_int_eq(nlp_corpus_write_row(w, g, 2, &err), NLP_OK);
    nlp_corpus_writer_free(w);
    fclose(fp);
    ck_assert_str_eq(out, "\"a\rb\",\n");
    free(out);

    char *b = NULL;
    size_t used = 0, bcap = 0;
    ck_assert_int_eq(nlp_corpus_json_quote(&b, &used, &bcap, "a\"\\\x01", 4), NLP_OK);
    ck_assert_uint_eq(used, strlen("\"a\\\"\\\\\\u0001\""));
    ck_assert(memcmp(b, "\"a\\\"\\\\\\u0001\"", used) == 0);
    free(b);
}
END_TEST

/* Write names and one row as CSV, read them back. */
static void csv_round_trip(const char *const *names, size_t n, const char *expect_out)
{
    char *out = NULL;
    size_t len;
    FILE *fp = open_memstream(&out, &len);
    nlp_corpus_writer *w;
    nlp_error err = {0};
    nlp_corpus_opts o = {0};
    ck_assert_int_eq(nlp_corpus_writer_open(fp, &o, &w, &err), NLP_OK);
    ck_assert_int_eq(nlp_corpus_writer_columns(w, names, n, 1, &err), NLP_OK);
    nlp_corpus_field f[2] = {{"0", 1, 0}, {"", 0, 0}};
    ck_assert_int_eq(nlp_corpus_write_row(w, f, n, &err), NLP_OK);
    nlp_corpus_writer_free(w);
    fclose(fp);
    ck_assert_str_eq(out, expect_out);
    mem_in m;
    ck_assert_int_eq(open_mem(&m, out, len, &o, &err), NLP_OK);
    ck_assert_uint_eq(nlp_corpus_ncolumns(m.r), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(nlp_corpus_column_name(m.r, i), names[i]);
    close_mem(&m);
    free(out);
}

/* Reproducers: a delimiter above 0x7f, an empty first header name (pandas'
 * index column), U+FEFF at the start of a header name. */
START_TEST(test_found_by_fuzzing)
{
    nlp_error err = {0};
    nlp_corpus_opts o = {0};
    mem_in m;
    for (int d = 0x80; d <= 0xff; d += 0x3f) {
        o.delimiter = (char)d;
        ck_assert_int_eq(open_mem(&m, "a\n1", 3, &o, &err), NLP_ERR_INVALID_ARG);
        ck_assert_ptr_nonnull(strstr(err.msg, "not ASCII"));
        close_mem(&m);
    }
    o.delimiter = (char)0xff;
    ck_assert_int_eq(open_mem(&m, "a\n1", 3, &o, &err), NLP_ERR_INVALID_ARG);
    close_mem(&m);
    nlp_corpus_writer *w = NULL;
    ck_assert_int_eq(nlp_corpus_writer_open(stdout, &o, &w, &err), NLP_ERR_INVALID_ARG);
    ck_assert_ptr_null(w);

    const char *pandas[] = {"", "text"};
    csv_round_trip(pandas, 2, ",text\n0,\n");
    const char *bom[] = {"\xef\xbb\xbfid", "text"};
    csv_round_trip(bom, 2, "\"\xef\xbb\xbfid\",text\n0,\n");
    /* a byte order mark before it is still stripped, once */
    o.delimiter = 0;
    const char *in = "\xef\xbb\xbf\"\xef\xbb\xbfid\",b\n1,2\n";
    ck_assert_int_eq(open_mem(&m, in, strlen(in), &o, &err), NLP_OK);
    ck_assert_str_eq(nlp_corpus_column_name(m.r, 0), "\xef\xbb\xbfid");
    close_mem(&m);
}
END_TEST

static Suite *corpus_suite(void)
{
    Suite *s = suite_create("corpus");
    TCase *tc = tcase_create("reference");
    tcase_add_unchecked_fixture(tc, load_cases, unload_cases);
    tcase_add_test(tc, test_reference_reads);
    tcase_add_test(tc, test_reference_writes);
    tcase_add_test(tc, test_jsonl_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad records");
    tcase_add_test(tc, test_unterminated_quote);
    tcase_add_test(tc, test_field_count);
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_record_too_long);
    tcase_add_test(tc, test_jsonl_bad_lines);
    suite_add_tcase(s, tc);
    tc = tcase_create("misc");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_no_header_and_columns);
    tcase_add_test(tc, test_empty_and_eol);
    tcase_add_test(tc, test_across_buffers);
    tcase_add_test(tc, test_pipe_input);
    tcase_add_test(tc, test_format_from_path);
    tcase_add_test(tc, test_writer_errors_and_literals);
    tcase_add_test(tc, test_found_by_fuzzing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(corpus_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
