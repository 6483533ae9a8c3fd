/*
 * corpus_run.c - corpus mode of the task commands (see corpus_run.h and
 * docs/corpus.md).
 *
 * A reader thread parses records (nlp/corpus.h), checks them, picks the
 * text columns, counts tokens and fills windows of rows; the main thread
 * takes each full window, sorts its good rows by token count, runs the
 * plugin over batches of similar length (less padding), then writes the
 * window in input order: every input column plus the task's result
 * columns.  Two windows circulate between the threads, so memory is bounded
 * by the window and batch sizes whatever the input size, and reading and
 * tokenising overlap the encoder.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nlp/corpus.h"
#include "cli.h"
#include "corpus_run.h"

#define NWINDOWS 2
#define WINDOW_PER_BATCH 32
#define MIN_WINDOW 256
#define MAX_WARNINGS 10   /* truncation warnings shown; the rest are counted */

/* ------------------------------------------------------------ helpers */

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* ------------------------------------------------------------ windows */

typedef struct cfield {
    size_t at, len;
    int json;
} cfield;

typedef struct crow {
    size_t line;
    size_t field0, nfields;      /* into window.fd */
    size_t text_at, text_len;    /* into window.arena */
    size_t pair_at, pair_len;
    int has_pair;
    size_t ntok;
    char *bad;                   /* why the row is skipped */
    char *warn;                  /* a warning to print with the row */
    nlp_value *res;
} crow;

typedef struct window {
    crow *rows;
    size_t n, cap;
    nlp_buf arena;
    cfield *fd;
    size_t nfd, capfd;
    int last;                    /* the input ends with this window */
    int fatal;
    nlp_error fatal_err;
} window;

static void window_reset(window *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->rows[i].bad);
        free(w->rows[i].warn);
        nlp_value_free(w->rows[i].res);
    }
    w->n = 0;
    w->arena.len = 0;
    w->nfd = 0;
    w->last = 0;
    w->fatal = 0;
}

static void window_free(window *w)
{
    window_reset(w);
    free(w->rows);
    free(w->arena.p);
    free(w->fd);
}

static crow *window_add(window *w)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        crow *r = realloc(w->rows, cap * sizeof *r);
        if (!r)
            return NULL;
        w->rows = r;
        w->cap = cap;
    }
    crow *r = &w->rows[w->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Copy a record's fields into the window. */
static int window_copy_fields(window *w, crow *r, const nlp_corpus_row *row)
{
    if (w->nfd + row->nfields > w->capfd) {
        size_t cap = w->capfd ? w->capfd : 1024;
        while (cap < w->nfd + row->nfields)
            cap *= 2;
        cfield *f = realloc(w->fd, cap * sizeof *f);
        if (!f)
            return 0;
        w->fd = f;
        w->capfd = cap;
    }
    r->field0 = w->nfd;
    r->nfields = row->nfields;
    for (size_t i = 0; i < row->nfields; i++) {
        cfield *f = &w->fd[w->nfd++];
        f->at = w->arena.len;
        f->len = row->fields[i].len;
        f->json = row->fields[i].json;
        if (!nlp_buf_add(&w->arena, row->fields[i].s, row->fields[i].len) ||
            !nlp_buf_add(&w->arena, "", 1))   /* keep a NUL between fields */
            return 0;
    }
    return 1;
}

/* A bounded queue of windows. */
typedef struct wqueue {
    window *items[NWINDOWS + 1];
    size_t head, n;
    int closed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} wqueue;

static void wq_push(wqueue *q, window *w)
{
    pthread_mutex_lock(&q->mu);
    q->items[(q->head + q->n) % (NWINDOWS + 1)] = w;
    q->n++;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static window *wq_pop(wqueue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->n == 0 && !q->closed)
        pthread_cond_wait(&q->cv, &q->mu);
    window *w = NULL;
    if (q->n) {
        w = q->items[q->head];
        q->head = (q->head + 1) % (NWINDOWS + 1);
        q->n--;
    }
    pthread_mutex_unlock(&q->mu);
    return w;
}

static void wq_close(wqueue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

/* ------------------------------------------------------- result columns */

typedef struct rcol {
    const char *key;    /* field of the result; NULL = the whole result as JSON */
    char *name;         /* output column name */
} rcol;

/* ------------------------------------------------------------- runner */

typedef struct runner {
    const cli_corpus_task *t;
    const cli_corpus_opts *o;
    const char *source;          /* input name for messages */

    nlp_corpus_reader *rd;
    size_t col_text, col_pair, col_id;
    int use_pair, use_id;
    nlp_input_kind kind;
    const nlp_tokenizer *count_tok;   /* the reader thread's own tokenizer */
    size_t limit;                /* most tokens the model takes */
    int windowed;                /* the task windows long inputs itself */
    size_t window_rows;

    /* resume: skip this many good rows, or up to and including this id */
    size_t skip_rows;
    char *skip_id;
    int skip_id_found;

    wqueue freeq, fullq;
    atomic_uint_least64_t bytes;
    atomic_int stop;
} runner;

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return 0;
    return 1;
}

/* Check a good record, pick its texts, count tokens, truncate when the
 * model cannot take it all. */
static void row_prepare(runner *R, window *w, crow *r, nlp_encoding *enc)
{
    const cfield *f = &w->fd[r->field0];
    const cfield *tf = &f[R->col_text];
    const char *tname = nlp_corpus_column_name(R->rd, R->col_text);
    r->text_at = tf->at;
    r->text_len = tf->len;
    if (tf->json && tf->len == 4 && memcmp(w->arena.p + tf->at, "null", 4) == 0)
        r->text_len = 0;
    if (R->use_pair) {
        const cfield *pf = &f[R->col_pair];
        r->pair_at = pf->at;
        r->pair_len = pf->len;
        if (pf->json && pf->len == 4 && memcmp(w->arena.p + pf->at, "null", 4) == 0)
            r->pair_len = 0;
        /* a text-pair task takes an empty pair as no pair */
        r->has_pair = R->kind == NLP_INPUT_QUESTION_CONTEXT || !blank(w->arena.p + r->pair_at, r->pair_len);
    }
    if (blank(w->arena.p + r->text_at, r->text_len)) {
        r->bad = xprintf("%s: line %zu: empty text in column \"%s\"", R->source, r->line, tname);
        return;
    }
    if (R->kind == NLP_INPUT_QUESTION_CONTEXT && blank(w->arena.p + r->pair_at, r->pair_len)) {
        r->bad = xprintf("%s: line %zu: empty text in column \"%s\"", R->source, r->line,
                         nlp_corpus_column_name(R->rd, R->col_pair));
        return;
    }
    nlp_error err = {0};
    const char *text = w->arena.p + r->text_at;
    const char *pair = r->has_pair ? w->arena.p + r->pair_at : NULL;
    if (nlp_tokenizer_encode(R->count_tok, text, r->text_len, pair, r->has_pair ? r->pair_len : 0,
                             NULL, enc, &err) != NLP_OK) {
        r->bad = xprintf("%s: line %zu: %s", R->source, r->line, err.msg);
        return;
    }
    r->ntok = enc->n;
    if (R->windowed || R->limit == 0 || enc->n <= R->limit)
        return;
    /* cut each text after its last token that still fits */
    size_t full = enc->n;
    nlp_encode_opts eo = NLP_ENCODE_OPTS_INIT;
    eo.max_length = R->limit;
    if (nlp_tokenizer_encode(R->count_tok, text, r->text_len, pair, r->has_pair ? r->pair_len : 0,
                             &eo, enc, &err) != NLP_OK) {
        r->bad = xprintf("%s: line %zu: %s", R->source, r->line, err.msg);
        return;
    }
    size_t end0 = 0, end1 = 0;
    for (size_t i = 0; i < enc->n; i++) {
        if (enc->seq[i] == 0 && (size_t)enc->byte_end[i] > end0)
            end0 = (size_t)enc->byte_end[i];
        if (enc->seq[i] == 1 && (size_t)enc->byte_end[i] > end1)
            end1 = (size_t)enc->byte_end[i];
    }
    r->text_len = end0;
    if (r->has_pair)
        r->pair_len = end1;
    r->ntok = enc->n;
    r->warn = xprintf("%s: line %zu: %zu tokens, truncated to %zu", R->source, r->line, full,
                      R->limit);
}

/* Would a well-formed record be skipped for an empty text?  (Resuming
 * by count skips the rows that were written, so it must not count these.) */
static int row_empty(const runner *R, const nlp_corpus_row *row)
{
    const nlp_corpus_field *f = &row->fields[R->col_text];
    if (blank(f->s, f->len) || (f->json && strcmp(f->s, "null") == 0))
        return 1;
    if (R->kind == NLP_INPUT_QUESTION_CONTEXT) {
        f = &row->fields[R->col_pair];
        return blank(f->s, f->len) || (f->json && strcmp(f->s, "null") == 0);
    }
    return 0;
}

/* Does the id of this good record end the resume skip? */
static int id_matches(runner *R, const nlp_corpus_row *row)
{
    const nlp_corpus_field *f = &row->fields[R->col_id];
    return strlen(R->skip_id) == f->len && memcmp(R->skip_id, f->s, f->len) == 0;
}

static void *reader_main(void *arg)
{
    runner *R = arg;
    nlp_encoding enc = {0};
    for (;;) {
        window *w = wq_pop(&R->freeq);
        if (!w)
            break;
        window_reset(w);
        while (w->n < R->window_rows && !atomic_load(&R->stop)) {
            const nlp_corpus_row *row;
            nlp_error err = {0};
            nlp_status st = nlp_corpus_next(R->rd, &row, &err);
            atomic_store(&R->bytes, nlp_corpus_bytes_read(R->rd));
            if (st == NLP_OK && !row) {
                w->last = 1;
                break;
            }
            if (!row) {
                w->fatal = 1;
                w->fatal_err = err;
                w->last = 1;
                break;
            }
            /* --resume: rows already in the output */
            if (R->skip_id && !R->skip_id_found) {
                if (st == NLP_OK && id_matches(R, row))
                    R->skip_id_found = 1;
                continue;
            }
            if (R->skip_rows > 0) {
                if (st == NLP_OK && !row_empty(R, row))
                    R->skip_rows--;
                continue;
            }
            crow *r = window_add(w);
            if (!r || !window_copy_fields(w, r, row)) {
                w->fatal = 1;
                nlp_error_set(&w->fatal_err, NLP_ERR_NOMEM, "out of memory reading %s",
                              R->source);
                w->last = 1;
                break;
            }
            r->line = row->line;
            if (st != NLP_OK)
                r->bad = strdup(err.msg[0] ? err.msg : "bad record");
            else
                row_prepare(R, w, r, &enc);
        }
        if (atomic_load(&R->stop))
            w->last = 1;
        int last = w->last;
        wq_push(&R->fullq, w);
        if (last)
            break;
    }
    nlp_encoding_free(&enc);
    return NULL;
}

/* ------------------------------------------------------- result cells */

static void cell_of(const nlp_value *x, nlp_buf *b, nlp_corpus_field *f)
{
    size_t at = b->len;
    f->json = 1;
    if (!x || nlp_value_kind_of(x) == NLP_VALUE_NULL || nlp_value_kind_of(x) == NLP_VALUE_INVALID) {
        f->s = NULL;   /* no value: empty in CSV, null in JSON Lines */
        f->len = 0;
        return;
    }
    if (nlp_value_kind_of(x) == NLP_VALUE_STRING) {
        const char *s = nlp_value_string(x);
        nlp_buf_add(b, s, strlen(s));
        f->json = 0;
    } else {
        char *j = nlp_value_to_json(x, 0);
        if (j)
            nlp_buf_add(b, j, strlen(j));
        free(j);
    }
    nlp_buf_add(b, "", 1);
    f->s = (const char *)(uintptr_t)(at + 1);   /* offset + 1, resolved once b stops growing */
    f->len = b->len - 1 - at;
}

/* The value of column key in a result. */
static void result_cell(const nlp_value *v, const char *key, nlp_buf *b, nlp_corpus_field *f)
{
    if (!key) {
        cell_of(v, b, f);
        return;
    }
    if (nlp_value_kind_of(v) == NLP_VALUE_OBJECT) {
        const nlp_value *x = nlp_value_get(v, key);
        if (!x) {   /* zero-shot: the best of labels / scores */
            char plural[64];
            snprintf(plural, sizeof plural, "%ss", key);
            x = nlp_value_at(nlp_value_get(v, plural), 0);
        }
        cell_of(x, b, f);
        return;
    }
    if (nlp_value_kind_of(v) == NLP_VALUE_ARRAY && nlp_value_len(v) > 0) {
        const nlp_value *e = nlp_value_at(v, 0);
        if (nlp_value_kind_of(e) == NLP_VALUE_OBJECT) {
            cell_of(nlp_value_get(e, key), b, f);
            return;
        }
        /* several masks: one value per mask, as a JSON array */
        size_t at = b->len;
        nlp_buf_add(b, "[", 1);
        for (size_t i = 0; i < nlp_value_len(v); i++) {
            const nlp_value *x = nlp_value_get(nlp_value_at(nlp_value_at(v, i), 0), key);
            char *j = x ? nlp_value_to_json(x, 0) : NULL;
            if (i)
                nlp_buf_add(b, ",", 1);
            nlp_buf_add(b, j ? j : "null", j ? strlen(j) : 4);
            free(j);
        }
        nlp_buf_add(b, "]", 1);
        nlp_buf_add(b, "", 1);
        f->s = (const char *)(uintptr_t)(at + 1);
        f->len = b->len - 1 - at;
        f->json = 1;
        return;
    }
    cell_of(NULL, b, f);
}

/* Result columns of a task in corpus mode. */
static size_t task_columns(const cli_corpus_task *t, rcol *c, size_t max)
{
    const char *task = t->task;
    const char *topk = nlp_optset_find(t->opts, "top-k") ? nlp_optset_get(t->opts, "top-k") : NULL;
    int k1 = !topk || strcmp(topk, "1") == 0;
    size_t n = 0;
#define COL(k, nm) do { if (n < max) { c[n].key = (k); c[n].name = strdup(nm); n++; } } while (0)
    if (strcmp(task, "sentiment") == 0 || strcmp(task, "classify") == 0 ||
        strcmp(task, "text-classification") == 0 || strcmp(task, "zero-shot-classification") == 0) {
        if (topk)
            COL(NULL, "labels");
        else {
            COL("label", "label");
            COL("score", "score");
        }
    } else if (strcmp(task, "ner") == 0 || strcmp(task, "token-classification") == 0) {
        COL(NULL, "entities");
    } else if (strcmp(task, "qa") == 0 || strcmp(task, "question-answering") == 0) {
        if (k1) {
            COL("answer", "answer");
            COL("score", "score");
            COL("start", "start");
            COL("end", "end");
        } else
            COL(NULL, "answers");
    } else if (strcmp(task, "fill-mask") == 0) {
        if (k1) {
            COL("token_str", "token_str");
            COL("score", "score");
        } else
            COL(NULL, "predictions");
    } else if (t->desc->result_columns && *t->desc->result_columns) {
        const char *p = t->desc->result_columns;
        while (p && *p && n < max) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            c[n].name = strndup(p, len);
            c[n].key = c[n].name;
            n++;
            p = comma ? comma + 1 : NULL;
        }
    } else
        COL(NULL, "result");
#undef COL
    return n;
}

/* ------------------------------------------------------------ options */

static int parse_format(const char *task, const char *s, nlp_corpus_format *f, char *d)
{
    if (strcmp(s, "csv") == 0) {
        *f = NLP_CORPUS_CSV;
        *d = ',';
    } else if (strcmp(s, "tsv") == 0) {
        *f = NLP_CORPUS_CSV;
        *d = '\t';
    } else if (strcmp(s, "jsonl") == 0) {
        *f = NLP_CORPUS_JSONL;
    } else {
        cli_usage_error(task, "--format must be csv, tsv or jsonl, not '%s'", s);
        return 0;
    }
    return 1;
}

static int parse_delim(const char *task, const char *s, char *d)
{
    if (strcmp(s, "\\t") == 0 || strcmp(s, "tab") == 0)
        *d = '\t';
    else if (strlen(s) == 1 && s[0] != '"' && s[0] != '\n' && s[0] != '\r')
        *d = s[0];
    else {
        cli_usage_error(task, "--delimiter must be one character (or '\\t'), not '%s'", s);
        return 0;
    }
    return 1;
}

static int is_stdio(const char *path)
{
    return !path || strcmp(path, "-") == 0;
}

static int ext_known(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    return dot && (strcasecmp(dot, ".csv") == 0 || strcasecmp(dot, ".tsv") == 0 ||
                   strcasecmp(dot, ".tab") == 0 || strcasecmp(dot, ".jsonl") == 0 ||
                   strcasecmp(dot, ".ndjson") == 0);
}

/* --resume: check what OUTPUT already holds, cut a partly written last
 * record, and say where to go on.  *done = good records there; *last_id
 * = the id of the last one (when id_col); *has_header = the header is
 * there. */
static int resume_scan(const char *task, const char *path, const nlp_corpus_opts *oo,
                       const char *const *names, size_t ncols, const char *id_col,
                       size_t *done, char **last_id, int *has_header)
{
    *done = 0;
    *last_id = NULL;
    *has_header = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return errno == ENOENT ? 1 : (fprintf(stderr, "nlp %s: %s: %s\n", task, path, strerror(errno)), 0);
    nlp_corpus_reader *r = NULL;
    nlp_error err = {0};
    int ok = 0;
    if (nlp_corpus_reader_open(fp, path, oo, &r, &err) != NLP_OK) {
        fprintf(stderr, "nlp %s: cannot resume: %s\n", task, err.msg);
        goto out;
    }
    if (nlp_corpus_ncolumns(r) == 0) {   /* empty */
        ok = 1;
        goto out;
    }
    int same = nlp_corpus_ncolumns(r) == ncols;
    for (size_t i = 0; same && i < ncols && !oo->no_header; i++)
        same = strcmp(nlp_corpus_column_name(r, i), names[i]) == 0;
    if (!same) {
        fprintf(stderr, "nlp %s: cannot resume: %s has other columns than this run writes\n",
                task, path);
        goto out;
    }
    size_t id_ix = 0;
    if (id_col && nlp_corpus_column_find(r, id_col, &id_ix, &err) != NLP_OK) {
        fprintf(stderr, "nlp %s: cannot resume: %s\n", task, err.msg);
        goto out;
    }
    uint64_t good_end = oo->format == NLP_CORPUS_CSV && !oo->no_header ? nlp_corpus_bytes_read(r) : 0;
    *has_header = good_end > 0;
    for (;;) {
        const nlp_corpus_row *row;
        nlp_status st = nlp_corpus_next(r, &row, &err);
        if (st != NLP_OK || !row || !row->eol)
            break;   /* the end, or the first damaged record: cut there */
        (*done)++;
        good_end = row->next_offset;
        if (id_col) {
            free(*last_id);
            *last_id = strndup(row->fields[id_ix].s, row->fields[id_ix].len);
        }
    }
    fclose(fp);
    fp = NULL;
    if (truncate(path, (off_t)good_end) != 0) {
        fprintf(stderr, "nlp %s: %s: cannot truncate: %s\n", task, path, strerror(errno));
        goto out;
    }
    ok = 1;
out:
    nlp_corpus_reader_free(r);
    if (fp)
        fclose(fp);
    return ok;
}

/* -------------------------------------------------------------- main */

typedef struct sorted {
    size_t ntok, i;
} sorted;

static int by_len(const void *a, const void *b)
{
    const sorted *x = a, *y = b;
    if (x->ntok != y->ntok)
        return x->ntok < y->ntok ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static const char *warn_task;
static void warn_sink(void *user, const char *msg)
{
    (void)user;
    cli_warn(warn_task, "%s", msg);
}

static void progress_draw(const char *task, size_t done, double elapsed, uint64_t bytes,
                          uint64_t total, int final)
{
    double rate = elapsed > 0 ? done / elapsed : 0;
    char eta[48] = "";
    if (total > 0 && bytes > 0 && bytes <= total && elapsed > 0.5) {
        double left = elapsed * (double)(total - bytes) / (double)bytes;
        snprintf(eta, sizeof eta, ", %.0f%%, ETA %d:%02d", 100.0 * bytes / total,
                 (int)(left / 60), (int)left % 60);
    }
    fprintf(stderr, "\r\033[Knlp %s: %zu rows, %.0f rows/s%s%s", task, done, rate, eta,
            final ? "\n" : "");
    fflush(stderr);
}

int cli_corpus_run(const cli_corpus_task *t, const cli_corpus_opts *o)
{
    const char *task = t->task;
    int rc = CLI_EXIT_FAIL;
    nlp_error err = {0};
    FILE *in = NULL, *out = NULL, *errf = NULL;
    nlp_corpus_writer *wr = NULL, *ew = NULL;
    char *model_dir = NULL;
    nlp_model *model = NULL;
    nlp_tokenizer *tok = NULL, *tok2 = NULL;
    nlp_ctx *ctx = NULL;
    void *state = NULL;
    int created = 0, started = 0;
    rcol rc_cols[16];
    size_t n_rc = 0;
    const char **names = NULL;
    nlp_input *inputs = NULL;
    nlp_value **res = NULL;
    nlp_error *errs = NULL;
    sorted *order = NULL;
    nlp_corpus_field *ofields = NULL;
    nlp_buf cells = {0};
    char *last_id = NULL;
    window windows[NWINDOWS];
    memset(windows, 0, sizeof windows);
    runner R;
    memset(&R, 0, sizeof R);
    pthread_t th;
    R.t = t;
    R.o = o;
    R.kind = t->desc->input;
    pthread_mutex_init(&R.freeq.mu, NULL);
    pthread_cond_init(&R.freeq.cv, NULL);
    pthread_mutex_init(&R.fullq.mu, NULL);
    pthread_cond_init(&R.fullq.cv, NULL);

    /* formats */
    nlp_corpus_opts io = {0}, oo = {0};
    char d = ',';
    nlp_corpus_format_from_path(is_stdio(o->input) ? NULL : o->input, &io.format, &d);
    if (o->format && !parse_format(task, o->format, &io.format, &d)) {
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (o->delimiter && !parse_delim(task, o->delimiter, &d)) {
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    io.delimiter = d;
    io.no_header = o->no_header;
    oo = io;
    if (!is_stdio(o->output) && ext_known(o->output))
        nlp_corpus_format_from_path(o->output, &oo.format, &oo.delimiter);
    if (o->resume && is_stdio(o->output)) {
        rc = cli_usage_error(task, "--resume needs --output FILE");
        goto out;
    }
    if (o->no_header && io.format == NLP_CORPUS_JSONL) {
        rc = cli_usage_error(task, "--no-header does not apply to JSON Lines");
        goto out;
    }

    /* input and its columns */
    R.source = is_stdio(o->input) ? "stdin" : o->input;
    in = is_stdio(o->input) ? stdin : fopen(o->input, "rb");
    if (!in) {
        fprintf(stderr, "nlp %s: %s: %s\n", task, o->input, strerror(errno));
        goto out;
    }
    if (nlp_corpus_reader_open(in, R.source, &io, &R.rd, &err) != NLP_OK)
        goto fail;
    size_t ncols = nlp_corpus_ncolumns(R.rd);
    const char *text_spec = o->text_col, *pair_spec = o->pair_col;
    if (R.kind == NLP_INPUT_QUESTION_CONTEXT) {
        text_spec = o->question_col ? o->question_col : "question";
        pair_spec = o->context_col ? o->context_col : "context";
    }
    if (ncols > 0) {
        if (!text_spec && ncols == 1)
            R.col_text = 0;
        else if (!text_spec) {
            rc = cli_usage_error(task, "%s has %zu columns: choose the text with --text-column",
                                 R.source, ncols);
            goto out;
        } else if (nlp_corpus_column_find(R.rd, text_spec, &R.col_text, &err) != NLP_OK) {
            rc = cli_usage_error(task, "%s", err.msg);
            goto out;
        }
        if (pair_spec) {
            if (nlp_corpus_column_find(R.rd, pair_spec, &R.col_pair, &err) != NLP_OK) {
                rc = cli_usage_error(task, "%s", err.msg);
                goto out;
            }
            R.use_pair = 1;
        }
        if (o->id_col) {
            if (nlp_corpus_column_find(R.rd, o->id_col, &R.col_id, &err) != NLP_OK) {
                rc = cli_usage_error(task, "%s", err.msg);
                goto out;
            }
            R.use_id = 1;
        }
    }

    /* output columns: the input's, then the task's (renamed on a clash) */
    n_rc = task_columns(t, rc_cols, 16);
    names = calloc(ncols + n_rc + 1, sizeof *names);
    ofields = calloc(ncols + n_rc + 1, sizeof *ofields);
    if (!names || !ofields)
        goto nomem;
    for (size_t i = 0; i < ncols; i++)
        names[i] = nlp_corpus_column_name(R.rd, i);
    for (size_t k = 0; k < n_rc; k++) {
        if (!rc_cols[k].name)
            goto nomem;
        for (size_t i = 0; i < ncols; i++)
            if (strcmp(names[i], rc_cols[k].name) == 0) {
                char *nm = xprintf("%s_%s", task, rc_cols[k].name);
                if (!nm)
                    goto nomem;
                free(rc_cols[k].name);
                rc_cols[k].name = nm;
                break;
            }
        names[ncols + k] = rc_cols[k].name;
    }
    if (o->no_header && oo.format == NLP_CORPUS_CSV)   /* columns stay positional */
        for (size_t k = 0; k < n_rc; k++) {
            free(rc_cols[k].name);
            rc_cols[k].name = xprintf("%zu", ncols + k + 1);
            names[ncols + k] = rc_cols[k].name;
        }

    /* --resume */
    size_t done_before = 0;
    int has_header = 0;
    if (o->resume && ncols > 0) {
        if (!resume_scan(task, o->output, &oo, names, ncols + n_rc,
                         o->id_col ? names[R.col_id] : NULL, &done_before, &last_id,
                         &has_header))
            goto out;
        if (o->id_col && last_id) {
            R.skip_id = last_id;
        } else
            R.skip_rows = done_before;
    }

    /* model, tokenizers, context, plugin */
    if (ncols > 0 && !t->model_ref) {
        rc = cli_usage_error(task, "no default model for this task: give --model");
        goto out;
    }
    if (ncols > 0 && (cli_resolve_model(t->model_ref, t->offline, o->quiet, &model_dir, &err) != NLP_OK ||
        nlp_model_load(model_dir, &model, &err) != NLP_OK ||
        nlp_tokenizer_load(model_dir, &tok, &err) != NLP_OK ||
        nlp_tokenizer_load(model_dir, &tok2, &err) != NLP_OK ||
        nlp_ctx_create_dtype(model, (int)t->threads,
                             t->dtype >= 0 ? (nlp_weight_type)t->dtype
                                           : nlp_model_default_weight_type(model),
                             &ctx, &err) != NLP_OK))
        goto fail;
    R.count_tok = tok2;
    R.limit = model ? (size_t)nlp_model_config(model)->max_position_embeddings : 0;
    size_t mml = tok ? nlp_tokenizer_model_max_length(tok) : 0;
    if (mml > 0 && mml < R.limit)
        R.limit = mml;
    R.windowed = strcmp(task, "ner") == 0 || strcmp(task, "token-classification") == 0 ||
                 strcmp(task, "qa") == 0 || strcmp(task, "question-answering") == 0;
    warn_task = task;
    nlp_host_set_warn_sink(warn_sink, NULL);
    nlp_task_args args = {
        .task = task, .model = model, .tokenizer = tok, .ctx = ctx,
        .batch_size = t->batch, .host_data = t->opts,
    };
    nlp_error_clear(&err);
    if (ncols > 0 && t->plugin->create(nlp_host_api_get(), &args, &state, &err) != NLP_OK) {
        if (err.status == NLP_ERR_INVALID_ARG && err.msg[0]) {
            /* an option value the plugin refused: a usage error */
            rc = cli_usage_error(task, "%s", err.msg);
            goto out;
        }
        if (!err.msg[0])
            nlp_error_set(&err, NLP_ERR_PLUGIN, "the plugin '%s' could not start", t->plugin->name);
        goto fail;
    }
    created = ncols > 0;

    /* output, errors file */
    out = is_stdio(o->output) ? stdout : fopen(o->output, o->resume ? "ab" : "wb");
    if (!out) {
        fprintf(stderr, "nlp %s: %s: %s\n", task, o->output, strerror(errno));
        goto out;
    }
    if (nlp_corpus_writer_open(out, &oo, &wr, &err) != NLP_OK ||
        nlp_corpus_writer_columns(wr, names, ncols + n_rc, !has_header && ncols > 0, &err) != NLP_OK)
        goto fail;
    if (o->errors) {
        struct stat st;
        int had = o->resume && stat(o->errors, &st) == 0 && st.st_size > 0;
        errf = fopen(o->errors, o->resume ? "ab" : "wb");
        if (!errf) {
            fprintf(stderr, "nlp %s: %s: %s\n", task, o->errors, strerror(errno));
            goto out;
        }
        nlp_corpus_opts eo = {0};
        const char *en[] = {"line", "error"};
        if (nlp_corpus_writer_open(errf, &eo, &ew, &err) != NLP_OK ||
            nlp_corpus_writer_columns(ew, en, 2, !had, &err) != NLP_OK)
            goto fail;
    }
    if (ncols == 0) {   /* an empty input: an empty output */
        rc = CLI_EXIT_OK;
        goto out;
    }

    size_t B = t->batch;
    R.window_rows = B * WINDOW_PER_BATCH > MIN_WINDOW ? B * WINDOW_PER_BATCH : MIN_WINDOW;
    inputs = calloc(B, sizeof *inputs);
    res = calloc(B, sizeof *res);
    errs = calloc(B, sizeof *errs);
    order = calloc(R.window_rows, sizeof *order);
    if (!inputs || !res || !errs || !order)
        goto nomem;

    uint64_t total = 0;
    struct stat st;
    if (in != stdin && fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
        total = (uint64_t)st.st_size;
    int progress = !o->quiet && isatty(STDERR_FILENO);

    for (size_t i = 0; i < NWINDOWS; i++)
        wq_push(&R.freeq, &windows[i]);
    if (pthread_create(&th, NULL, reader_main, &R) != 0) {
        nlp_error_set(&err, NLP_ERR_INTERNAL, "cannot start the reader thread");
        goto fail;
    }
    started = 1;

    double t0 = nlp_clock_now(), last_draw = 0;
    size_t n_read = 0, n_written = 0, n_skipped = 0, n_truncated = 0;
    int stop = 0, fatal = 0;
    while (!stop) {
        window *w = wq_pop(&R.fullq);
        if (!w)
            break;
        /* batches of rows of similar length */
        size_t ng = 0;
        for (size_t i = 0; i < w->n; i++)
            if (!w->rows[i].bad)
                order[ng++] = (sorted){w->rows[i].ntok, i};
        qsort(order, ng, sizeof *order, by_len);
        for (size_t b0 = 0; b0 < ng && !fatal; b0 += B) {
            size_t n = ng - b0 < B ? ng - b0 : B;
            for (size_t j = 0; j < n; j++) {
                crow *r = &w->rows[order[b0 + j].i];
                inputs[j] = (nlp_input){w->arena.p + r->text_at, r->text_len,
                                        r->has_pair ? w->arena.p + r->pair_at : NULL,
                                        r->has_pair ? r->pair_len : 0};
                res[j] = NULL;
                nlp_error_clear(&errs[j]);
            }
            nlp_status s = t->plugin->run(state, inputs, n, res, errs);
            if (s != NLP_OK) {
                err = errs[0];
                for (size_t j = 0; j < n; j++)
                    if (errs[j].msg[0]) {
                        err = errs[j];
                        break;
                    }
                if (!err.msg[0])
                    nlp_error_set(&err, s, "the plugin '%s' failed: %s", t->plugin->name,
                                  nlp_strerror(s));
                for (size_t j = 0; j < n; j++)
                    nlp_value_free(res[j]);
                fatal = 1;
                break;
            }
            for (size_t j = 0; j < n; j++) {
                crow *r = &w->rows[order[b0 + j].i];
                r->res = res[j];
                if (!res[j])
                    r->bad = xprintf("%s: line %zu: %s", R.source, r->line,
                                     errs[j].msg[0] ? errs[j].msg : "no result");
            }
            if (progress && nlp_clock_now() - last_draw > 0.25) {
                last_draw = nlp_clock_now();
                progress_draw(task, n_read + b0 + n, last_draw - t0, atomic_load(&R.bytes),
                              total, 0);
            }
        }
        if (fatal) {
            wq_push(&R.freeq, w);
            break;
        }
        /* write back in input order */
        for (size_t i = 0; i < w->n && !stop; i++) {
            crow *r = &w->rows[i];
            n_read++;
            if (r->warn) {
                n_truncated++;
                if (!o->quiet && n_truncated <= MAX_WARNINGS && progress)
                    fprintf(stderr, "\r\033[K");
                if (!o->quiet && n_truncated <= MAX_WARNINGS)
                    cli_warn(task, "%s%s", r->warn,
                             n_truncated == MAX_WARNINGS ? " (further truncations are only counted)" : "");
            }
            if (r->bad) {
                n_skipped++;
                if (progress)
                    fprintf(stderr, "\r\033[K");
                fprintf(stderr, "nlp %s: %s\n", task, r->bad);
                if (ew) {
                    char num[32];
                    snprintf(num, sizeof num, "%zu", r->line);
                    nlp_corpus_field ef[2] = {{num, strlen(num), 1}, {r->bad, strlen(r->bad), 0}};
                    nlp_corpus_write_row(ew, ef, 2, NULL);
                }
                if (o->strict)
                    stop = 1;
                continue;
            }
            const cfield *f = &w->fd[r->field0];
            cells.len = 0;
            for (size_t k = 0; k < n_rc; k++)
                result_cell(r->res, rc_cols[k].key, &cells, &ofields[ncols + k]);
            for (size_t k = 0; k < n_rc; k++)
                ofields[ncols + k].s = ofields[ncols + k].s
                                           ? cells.p + (uintptr_t)ofields[ncols + k].s - 1 : "";
            for (size_t k = 0; k < ncols; k++)
                ofields[k] = (nlp_corpus_field){w->arena.p + f[k].at, f[k].len, f[k].json};
            if (nlp_corpus_write_row(wr, ofields, ncols + n_rc, &err) != NLP_OK) {
                fatal = 1;
                stop = 1;
                break;
            }
            n_written++;
        }
        if (fflush(out) != 0 && !fatal) {
            nlp_error_set(&err, NLP_ERR_IO, "%s: cannot write: %s",
                          is_stdio(o->output) ? "stdout" : o->output, strerror(errno));
            fatal = 1;
        }
        if (ew)
            fflush(errf);
        if (w->fatal && !fatal) {
            err = w->fatal_err;
            fatal = 1;
        }
        int last = w->last;
        window_reset(w);
        wq_push(&R.freeq, w);
        if (last || fatal)
            break;
    }
    atomic_store(&R.stop, 1);
    wq_close(&R.freeq);
    pthread_join(th, NULL);
    started = 0;
    double secs = nlp_clock_now() - t0;
    if (progress)
        progress_draw(task, n_read, secs, atomic_load(&R.bytes), total, 1);
    if (fatal) {
        cli_fail(task, &err);
    }
    if (R.skip_id && !R.skip_id_found)
        cli_warn(task, "--resume: the last id in %s (%s) is not in %s", o->output, R.skip_id,
                 R.source);
    if (!o->quiet) {
        if (done_before)
            fprintf(stderr, "nlp %s: resumed after %zu rows already in %s\n", task, done_before,
                    o->output);
        char trunc[64] = "";
        if (n_truncated)
            snprintf(trunc, sizeof trunc, " (%zu truncated)", n_truncated);
        fprintf(stderr, "nlp %s: %zu rows read, %zu written%s, %zu skipped in %.1f s (%.1f rows/s)%s\n",
                task, n_read, n_written, trunc, n_skipped, secs, secs > 0 ? n_read / secs : 0.0,
                stop && o->strict && !fatal ? "; stopped at the first bad row (--strict)" : "");
    }
    rc = fatal || n_skipped ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    goto out;

nomem:
    nlp_error_set(&err, NLP_ERR_NOMEM, "out of memory");
fail:
    rc = cli_fail(task, &err);
out:
    if (started) {
        atomic_store(&R.stop, 1);
        wq_close(&R.freeq);
        pthread_join(th, NULL);
    }
    for (size_t i = 0; i < NWINDOWS; i++)
        window_free(&windows[i]);
    if (created)
        t->plugin->destroy(state);
    nlp_host_set_warn_sink(NULL, NULL);
    nlp_corpus_writer_free(wr);
    nlp_corpus_writer_free(ew);
    if (out && out != stdout)
        if (fclose(out) != 0 && rc == CLI_EXIT_OK) {
            fprintf(stderr, "nlp %s: %s: %s\n", task, o->output, strerror(errno));
            rc = CLI_EXIT_FAIL;
        }
    if (errf)
        fclose(errf);
    nlp_corpus_reader_free(R.rd);
    if (in && in != stdin)
        fclose(in);
    if (ctx)
        nlp_ctx_free(ctx);
    if (tok)
        nlp_tokenizer_free(tok);
    if (tok2)
        nlp_tokenizer_free(tok2);
    if (model)
        nlp_model_free(model);
    free(model_dir);
    for (size_t k = 0; k < n_rc; k++)
        free(rc_cols[k].name);
    free(names);
    free(ofields);
    free(inputs);
    free(res);
    free(errs);
    free(order);
    free(cells.p);
    free(last_id);
    pthread_mutex_destroy(&R.freeq.mu);
    pthread_cond_destroy(&R.freeq.cv);
    pthread_mutex_destroy(&R.fullq.mu);
    pthread_cond_destroy(&R.fullq.cv);
    return rc;
}
