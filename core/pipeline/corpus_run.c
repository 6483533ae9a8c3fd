/*
 * corpus_run.c - corpus mode (nlp_pipeline_run_corpus in nlp/pipeline.h):
 * a CSV / TSV / JSON Lines file streamed through a pipeline's task.
 *
 * A reader thread parses records (nlp/corpus.h), picks the text columns,
 * counts tokens (and truncates) with its own tokenizer and fills windows of
 * rows; the calling thread takes each full window, runs its good rows
 * through the pipeline sorted by length (pl_run_prepared), then writes the
 * window in input order: every input column plus the task's columns.  Two
 * windows circulate between the threads, so memory is bounded by the window
 * and batch sizes whatever the input size, and reading and tokenising
 * overlap the encoder.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nlp/corpus.h"
#include "pipeline_impl.h"
#include "util/util.h"

#define NWINDOWS 2
#define WINDOW_PER_BATCH 32
#define MIN_WINDOW 256

/* ------------------------------------------------------------ windows */

typedef struct cfield {
    size_t at, len;
    int json;
} cfield;

typedef struct crow {
    size_t line;
    size_t field0, nfields;      /* into window.fd */
    size_t text_at, pair_at;     /* into window.arena */
    int has_pair;
    int reader_bad;              /* prep.err is the reader's own message */
    pl_prepared prep;
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

static void window_free(window *w)
{
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

/* Copy a record's fields into the window, each followed by a NUL. */
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
            !nlp_buf_add(&w->arena, "", 1))
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

/* ------------------------------------------------------------- runner */

typedef struct runner {
    nlp_pipeline *p;
    const nlp_corpus_job *job;
    const char *source;          /* input name for messages */
    const char *out_name;
    FILE *in, *out, *errf;
    nlp_corpus_opts io, oo;
    nlp_corpus_reader *rd;
    nlp_corpus_writer *wr, *ew;
    size_t ncols;
    size_t col_text, col_pair, col_id;
    int use_pair;
    const char **names;          /* [ncols + task columns] */
    size_t ntask;
    char *task_names[PL_MAX_COLUMNS];
    nlp_tokenizer *count_tok;    /* the reader thread's own tokenizer */
    size_t window_rows;

    /* resume: skip this many good rows, or up to and including this id */
    size_t skip_rows;
    char *skip_id;
    int skip_id_found, has_header;

    window windows[NWINDOWS];
    wqueue freeq, fullq;
    pthread_t th;
    int started;
    atomic_uint_least64_t bytes;
    atomic_int stop;
    nlp_encoding enc;            /* the reader thread's */
    pl_vectors vec;              /* nlp_pipeline_set_vectors: task column 0 */
    size_t first;                /* first task column of the table (1 with vec) */
} runner;

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return 0;
    return 1;
}

/* A field's text length; a JSON null is empty text. */
static size_t text_len(const window *w, const cfield *f)
{
    if (f->json && f->len == 4 && memcmp(w->arena.p + f->at, "null", 4) == 0)
        return 0;
    return f->len;
}

/* Pick a good record's texts, count its tokens, truncate when needed. */
static void row_prepare(runner *R, window *w, crow *r)
{
    const cfield *f = &w->fd[r->field0];
    nlp_input in = {0};
    r->text_at = f[R->col_text].at;
    in.text_len = text_len(w, &f[R->col_text]);
    if (R->use_pair) {
        r->pair_at = f[R->col_pair].at;
        in.text_pair_len = text_len(w, &f[R->col_pair]);
        /* an empty cell of a text-pair column is no pair */
        r->has_pair = R->p->desc->input == NLP_INPUT_QUESTION_CONTEXT ||
                      !blank(w->arena.p + r->pair_at, in.text_pair_len);
    }
    in.text = w->arena.p + r->text_at;
    in.text_pair = r->has_pair ? w->arena.p + r->pair_at : NULL;
    pl_prepare(R->p, R->count_tok, &in, &R->enc, &r->prep);
    if (r->prep.bad)
        nlp_error_set(&r->prep.err, r->prep.err.status, "%s: line %zu: %s", R->source,
                      r->line, r->prep.err.msg);
}

/* Does the id of this good record end the resume skip? */
static int id_matches(runner *R, const nlp_corpus_row *row)
{
    const nlp_corpus_field *f = &row->fields[R->col_id];
    return strlen(R->skip_id) == f->len && memcmp(R->skip_id, f->s, f->len) == 0;
}

/* Rows already in the output when resuming: 1 = skip this record. */
static int resume_skip(runner *R, nlp_status st, const nlp_corpus_row *row)
{
    if (R->skip_id && !R->skip_id_found) {
        if (st == NLP_OK && id_matches(R, row))
            R->skip_id_found = 1;
        return 1;
    }
    if (R->skip_rows > 0) {
        if (st == NLP_OK)   /* the good records are the ones written */
            R->skip_rows--;
        return 1;
    }
    return 0;
}

/* Fill w with up to window_rows records; 0 at the end of the input. */
static void fill_window(runner *R, window *w)
{
    while (w->n < R->window_rows && !atomic_load(&R->stop)) {
        const nlp_corpus_row *row;
        nlp_error err = {0};
        nlp_status st = nlp_corpus_next(R->rd, &row, &err);
        atomic_store(&R->bytes, nlp_corpus_bytes_read(R->rd));
        if (!row) {
            w->last = 1;
            if (st != NLP_OK) {
                w->fatal = 1;
                w->fatal_err = err;
            }
            return;
        }
        if (resume_skip(R, st, row))
            continue;
        crow *r = window_add(w);
        if (!r || !window_copy_fields(w, r, row)) {
            w->fatal = w->last = 1;
            nlp_error_set(&w->fatal_err, NLP_ERR_NOMEM, "out of memory reading %s", R->source);
            return;
        }
        r->line = row->line;
        if (st != NLP_OK) {
            r->prep.bad = r->reader_bad = 1;
            nlp_error_set(&r->prep.err, st, "%s", err.msg[0] ? err.msg : "bad record");
        } else
            row_prepare(R, w, r);
    }
}

static void *reader_main(void *arg)
{
    runner *R = arg;
    for (;;) {
        window *w = wq_pop(&R->freeq);
        if (!w)
            break;
        w->n = w->arena.len = w->nfd = 0;
        w->last = w->fatal = 0;
        fill_window(R, w);
        if (atomic_load(&R->stop))
            w->last = 1;
        int last = w->last;
        wq_push(&R->fullq, w);
        if (last)
            break;
    }
    return NULL;
}

/* ------------------------------------------------------------ options */

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

static nlp_status parse_format(const char *s, nlp_corpus_format *f, char *d, nlp_error *err)
{
    if (strcmp(s, "csv") == 0)
        *f = NLP_CORPUS_CSV, *d = ',';
    else if (strcmp(s, "tsv") == 0)
        *f = NLP_CORPUS_CSV, *d = '\t';
    else if (strcmp(s, "jsonl") == 0)
        *f = NLP_CORPUS_JSONL;
    else
        return nlp_error_set(err, NLP_ERR_USAGE, "--format must be csv, tsv or jsonl, not '%s'", s);
    return NLP_OK;
}

static nlp_status parse_delim(const char *s, char *d, nlp_error *err)
{
    if (strcmp(s, "\\t") == 0 || strcmp(s, "tab") == 0)
        *d = '\t';
    else if (strlen(s) == 1 && s[0] != '"' && s[0] != '\n' && s[0] != '\r')
        *d = s[0];
    else
        return nlp_error_set(err, NLP_ERR_USAGE,
                             "--delimiter must be one character (or '\\t'), not '%s'", s);
    return NLP_OK;
}

/* Input and output formats from the job. */
static nlp_status formats(runner *R, nlp_error *err)
{
    const nlp_corpus_job *j = R->job;
    char d = ',';
    nlp_corpus_format_from_path(is_stdio(j->input) ? NULL : j->input, &R->io.format, &d);
    nlp_status st;
    if (j->format && (st = parse_format(j->format, &R->io.format, &d, err)) != NLP_OK)
        return st;
    if (j->delimiter && (st = parse_delim(j->delimiter, &d, err)) != NLP_OK)
        return st;
    R->io.delimiter = d;
    R->io.no_header = j->no_header;
    R->oo = R->io;
    if (!is_stdio(j->output) && ext_known(j->output))
        nlp_corpus_format_from_path(j->output, &R->oo.format, &R->oo.delimiter);
    if (j->resume && is_stdio(j->output))
        return nlp_error_set(err, NLP_ERR_USAGE, "--resume needs --output FILE");
    if (j->no_header && R->io.format == NLP_CORPUS_JSONL)
        return nlp_error_set(err, NLP_ERR_USAGE, "--no-header does not apply to JSON Lines");
    return NLP_OK;
}

static nlp_status find_column(runner *R, const char *spec, size_t *ix, nlp_error *err)
{
    nlp_status st = nlp_corpus_column_find(R->rd, spec, ix, err);
    if (st != NLP_OK && err)
        err->status = st = NLP_ERR_USAGE;
    return st;
}

/* The text, pair and id columns. */
static nlp_status pick_columns(runner *R, nlp_error *err)
{
    const nlp_corpus_job *j = R->job;
    const char *text_spec = j->text_column, *pair_spec = j->pair_column;
    if (R->p->desc->input == NLP_INPUT_QUESTION_CONTEXT) {
        text_spec = text_spec ? text_spec : "question";
        pair_spec = pair_spec ? pair_spec : "context";
    }
    nlp_status st = NLP_OK;
    if (!text_spec && R->ncols == 1)
        R->col_text = 0;
    else if (!text_spec)
        return nlp_error_set(err, NLP_ERR_USAGE,
                             "%s has %zu columns: choose the text with --text-column", R->source,
                             R->ncols);
    else if ((st = find_column(R, text_spec, &R->col_text, err)) != NLP_OK)
        return st;
    if (pair_spec && (st = find_column(R, pair_spec, &R->col_pair, err)) != NLP_OK)
        return st;
    R->use_pair = pair_spec != NULL;
    if (j->id_column && (st = find_column(R, j->id_column, &R->col_id, err)) != NLP_OK)
        return st;
    return NLP_OK;
}

/* Output columns: the input's, then the task's (TASK_NAME on a clash). */
static nlp_status output_names(runner *R, nlp_error *err)
{
    const nlp_column *cols;
    R->ntask = nlp_pipeline_columns(R->p, &cols);
    R->names = calloc(R->ncols + R->ntask + 1, sizeof *R->names);
    if (!R->names)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < R->ncols; i++)
        R->names[i] = nlp_corpus_column_name(R->rd, i);
    R->first = R->p->vectors ? 1 : 0;
    if (R->first && R->ntask == 0)
        return nlp_error_set(err, NLP_ERR_USAGE, "--vectors: task %s has no result column",
                             R->p->task);
    for (size_t k = R->first; k < R->ntask; k++) {
        const char *name = cols[k].name;
        int clash = 0;
        for (size_t i = 0; i < R->ncols; i++)
            clash |= strcmp(R->names[i], name) == 0;
        if (R->job->no_header && R->oo.format == NLP_CORPUS_CSV)   /* columns stay positional */
            R->task_names[k] = nlp_strf("%zu", R->ncols + k - R->first + 1);
        else
            R->task_names[k] = clash ? nlp_strf("%s_%s", R->p->task, name) : strdup(name);
        if (!R->task_names[k])
            return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        R->names[R->ncols + k - R->first] = R->task_names[k];
    }
    return NLP_OK;
}

/* --------------------------------------------------------------- resume */

/* Check what the output already holds, cut a partly written last record,
 * and say where to go on: *done good records, *last_id the id of the last
 * one (when an id column is set), R->has_header. */
static nlp_status resume_scan(runner *R, size_t *done, char **last_id, nlp_error *err)
{
    const char *path = R->job->output, *id_col = R->job->id_column ? R->names[R->col_id] : NULL;
    size_t ncols = R->ncols + R->ntask - R->first;
    *done = 0;
    *last_id = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return errno == ENOENT ? NLP_OK
                               : nlp_error_set(err, NLP_ERR_IO, "%s: %s", path, strerror(errno));
    nlp_corpus_reader *r = NULL;
    nlp_error e = {0};
    nlp_status st = NLP_ERR_FORMAT;
    if (nlp_corpus_reader_open(fp, path, &R->oo, &r, &e) != NLP_OK) {
        nlp_error_set(err, st, "cannot resume: %s", e.msg);
        goto out;
    }
    if (nlp_corpus_ncolumns(r) == 0) {   /* empty */
        st = NLP_OK;
        goto out;
    }
    int same = nlp_corpus_ncolumns(r) == ncols;
    for (size_t i = 0; same && i < ncols && !R->oo.no_header; i++)
        same = strcmp(nlp_corpus_column_name(r, i), R->names[i]) == 0;
    if (!same) {
        nlp_error_set(err, st, "cannot resume: %s has other columns than this run writes", path);
        goto out;
    }
    size_t id_ix = 0;
    if (id_col && nlp_corpus_column_find(r, id_col, &id_ix, &e) != NLP_OK) {
        nlp_error_set(err, st, "cannot resume: %s", e.msg);
        goto out;
    }
    uint64_t good_end = R->oo.format == NLP_CORPUS_CSV && !R->oo.no_header
                            ? nlp_corpus_bytes_read(r) : 0;
    R->has_header = good_end > 0;
    for (;;) {
        const nlp_corpus_row *row;
        if (nlp_corpus_next(r, &row, &e) != NLP_OK || !row || !row->eol)
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
        nlp_error_set(err, NLP_ERR_IO, "%s: cannot truncate: %s", path, strerror(errno));
        goto out;
    }
    st = NLP_OK;
out:
    nlp_corpus_reader_free(r);
    if (fp)
        fclose(fp);
    return st;
}

/* ---------------------------------------------------------- the files */

static void event(const runner *R, nlp_corpus_event ev, const char *msg)
{
    if (R->job->on_event)
        R->job->on_event(R->job->user, ev, msg);
}

static nlp_status open_input(runner *R, nlp_error *err)
{
    R->source = is_stdio(R->job->input) ? "stdin" : R->job->input;
    R->in = is_stdio(R->job->input) ? stdin : fopen(R->job->input, "rb");
    if (!R->in)
        return nlp_error_set(err, NLP_ERR_IO, "%s: %s", R->job->input, strerror(errno));
    nlp_status st = nlp_corpus_reader_open(R->in, R->source, &R->io, &R->rd, err);
    if (st == NLP_OK)
        R->ncols = nlp_corpus_ncolumns(R->rd);
    return st;
}

static nlp_status open_outputs(runner *R, nlp_error *err)
{
    const nlp_corpus_job *j = R->job;
    R->out_name = is_stdio(j->output) ? "stdout" : j->output;
    R->out = is_stdio(j->output) ? stdout : fopen(j->output, j->resume ? "ab" : "wb");
    if (!R->out)
        return nlp_error_set(err, NLP_ERR_IO, "%s: %s", j->output, strerror(errno));
    nlp_status st;
    if ((st = nlp_corpus_writer_open(R->out, &R->oo, &R->wr, err)) != NLP_OK ||
        (st = nlp_corpus_writer_columns(R->wr, R->names, R->ncols + R->ntask - R->first,
                                        !R->has_header && R->ncols > 0, err)) != NLP_OK)
        return st;
    if (!j->errors)
        return NLP_OK;
    struct stat sb;
    int had = j->resume && stat(j->errors, &sb) == 0 && sb.st_size > 0;
    R->errf = fopen(j->errors, j->resume ? "ab" : "wb");
    if (!R->errf)
        return nlp_error_set(err, NLP_ERR_IO, "%s: %s", j->errors, strerror(errno));
    nlp_corpus_opts eo = {0};
    const char *en[] = {"line", "error"};
    if ((st = nlp_corpus_writer_open(R->errf, &eo, &R->ew, err)) != NLP_OK)
        return st;
    return nlp_corpus_writer_columns(R->ew, en, 2, !had, err);
}

/* A second tokenizer for the reader thread. */
static nlp_status start_reader(runner *R, nlp_error *err)
{
    nlp_status st = nlp_tokenizer_load(R->p->model_dir, &R->count_tok, err);
    if (st != NLP_OK)
        return st;
    size_t B = R->p->o.batch_size;
    R->window_rows = B * WINDOW_PER_BATCH > MIN_WINDOW ? B * WINDOW_PER_BATCH : MIN_WINDOW;
    for (size_t i = 0; i < NWINDOWS; i++)
        wq_push(&R->freeq, &R->windows[i]);
    if (pthread_create(&R->th, NULL, reader_main, R) != 0)
        return nlp_error_set(err, NLP_ERR_INTERNAL, "cannot start the reader thread");
    R->started = 1;
    return NLP_OK;
}

static void stop_reader(runner *R)
{
    if (!R->started)
        return;
    atomic_store(&R->stop, 1);
    wq_close(&R->freeq);
    pthread_join(R->th, NULL);
    R->started = 0;
}

/* ------------------------------------------------------------- the run */

typedef struct run_state {
    nlp_input *in;               /* [window_rows] */
    pl_prepared *prep;
    size_t *order;               /* [2 * window_rows] */
    nlp_value **res;
    nlp_error *errs;
    nlp_corpus_field *fields;    /* [ncols + ntask] */
    char **cells;                /* [ntask] */
    double t0, last_progress;
    int fatal, stop;
    nlp_error err;
} run_state;

static nlp_status run_state_init(runner *R, run_state *S, nlp_error *err)
{
    size_t n = R->window_rows;
    S->in = calloc(n, sizeof *S->in);
    S->prep = calloc(n, sizeof *S->prep);
    S->order = calloc(2 * n, sizeof *S->order);
    S->res = calloc(n, sizeof *S->res);
    S->errs = calloc(n, sizeof *S->errs);
    S->fields = calloc(R->ncols + R->ntask + 1, sizeof *S->fields);
    S->cells = calloc(R->ntask + 1, sizeof *S->cells);
    if (!S->in || !S->prep || !S->order || !S->res || !S->errs || !S->fields || !S->cells)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    return NLP_OK;
}

static void run_state_free(run_state *S, size_t n)
{
    for (size_t i = 0; S->res && i < n; i++)
        nlp_value_free(S->res[i]);
    free(S->in);
    free(S->prep);
    free(S->order);
    free(S->res);
    free(S->errs);
    free(S->fields);
    free(S->cells);
}

static void progress(runner *R, run_state *S, size_t rows, int final)
{
    const nlp_corpus_job *j = R->job;
    double now = nlp_clock_now(), every = j->progress_interval > 0 ? j->progress_interval : 0.25;
    if (!j->on_progress || (!final && now - S->last_progress <= every))
        return;
    S->last_progress = now;
    struct stat sb;
    uint64_t total = 0;
    if (R->in != stdin && fstat(fileno(R->in), &sb) == 0 && S_ISREG(sb.st_mode))
        total = (uint64_t)sb.st_size;
    nlp_corpus_progress pr = {rows, now - S->t0, atomic_load(&R->bytes), total, final};
    j->on_progress(j->user, &pr);
}

/* Run the window's rows through the task; their results land in S->res. */
static void run_window(runner *R, run_state *S, window *w)
{
    for (size_t i = 0; i < w->n; i++) {
        crow *r = &w->rows[i];
        S->in[i] = (nlp_input){w->arena.p + r->text_at, r->prep.text_len,
                               r->has_pair ? w->arena.p + r->pair_at : NULL,
                               r->has_pair ? r->prep.pair_len : 0};
        S->prep[i] = r->prep;
    }
    if (pl_run_prepared(R->p, S->in, S->prep, w->n, S->order, S->res, S->errs, &S->err) != NLP_OK)
        S->fatal = 1;
}

/* A skipped row: reported, and written to the errors file. */
static void bad_row(runner *R, run_state *S, const crow *r, const nlp_error *e,
                    nlp_corpus_stats *stats)
{
    char *msg = r->reader_bad || r->prep.bad ? strdup(e->msg)
                : nlp_strf("%s: line %zu: %s", R->source, r->line, e->msg[0] ? e->msg : "no result");
    stats->skipped++;
    event(R, NLP_CORPUS_BAD_ROW, msg ? msg : "out of memory");
    if (R->ew && msg) {
        char num[32];
        snprintf(num, sizeof num, "%zu", r->line);
        nlp_corpus_field ef[2] = {{num, strlen(num), 1}, {msg, strlen(msg), 0}};
        nlp_corpus_write_row(R->ew, ef, 2, NULL);
    }
    free(msg);
    if (R->job->strict)
        S->stop = stats->stopped_strict = 1;
}

/* Task column 0 of a result into the vector file. */
static nlp_status vector_of(runner *R, const nlp_value *res, size_t line, nlp_error *err)
{
    const nlp_column *cols;
    nlp_pipeline_columns(R->p, &cols);
    const nlp_value *a = cols[0].kind == NLP_COLUMN_WHOLE ? res : nlp_value_get(res, cols[0].key);
    nlp_status st = pl_vectors_add(&R->vec, a, line, err);
    if (st != NLP_OK && st != NLP_ERR_NOMEM)
        st = nlp_error_set(err, st, "--vectors %s: %s", R->vec.path, err->msg);
    return st;
}

/* One good row: its input columns, then its result's. */
static nlp_status write_row(runner *R, run_state *S, const window *w, const crow *r,
                            const nlp_value *res, nlp_error *err)
{
    const cfield *f = &w->fd[r->field0];
    for (size_t k = 0; k < R->ncols; k++)
        S->fields[k] = (nlp_corpus_field){w->arena.p + f[k].at, f[k].len, f[k].json};
    nlp_status st = R->first ? vector_of(R, res, r->line, err) : NLP_OK;
    for (size_t k = R->first; k < R->ntask && st == NLP_OK; k++) {
        int json = 1;
        st = nlp_pipeline_cell(R->p, res, k, &S->cells[k], &json, err);
        const char *t = S->cells[k];
        S->fields[R->ncols + k - R->first] =
            (nlp_corpus_field){t ? t : "", t ? strlen(t) : 0, json};
    }
    if (st == NLP_OK)
        st = nlp_corpus_write_row(R->wr, S->fields, R->ncols + R->ntask - R->first, err);
    for (size_t k = 0; k < R->ntask; k++) {
        free(S->cells[k]);
        S->cells[k] = NULL;
    }
    return st;
}

static void truncated(runner *R, const crow *r, nlp_corpus_stats *stats)
{
    char *msg = nlp_strf("%s: line %zu: %zu tokens, truncated to %zu", R->source, r->line,
                        r->prep.truncated_from, r->prep.ntok);
    stats->truncated++;
    event(R, NLP_CORPUS_TRUNCATED, msg ? msg : "out of memory");
    free(msg);
}

/* Write the window back in input order. */
static void write_window(runner *R, run_state *S, window *w, nlp_corpus_stats *stats)
{
    for (size_t i = 0; i < w->n && !S->stop; i++) {
        crow *r = &w->rows[i];
        stats->read++;
        if (r->prep.truncated_from)
            truncated(R, r, stats);
        if (!S->res[i]) {
            bad_row(R, S, r, &S->errs[i], stats);
            continue;
        }
        nlp_status st = write_row(R, S, w, r, S->res[i], &S->err);
        nlp_value_free(S->res[i]);
        S->res[i] = NULL;
        if (st != NLP_OK) {
            S->fatal = S->stop = 1;
            break;
        }
        stats->written++;
    }
    for (size_t i = 0; i < w->n; i++) {
        nlp_value_free(S->res[i]);
        S->res[i] = NULL;
    }
    if (fflush(R->out) != 0 && !S->fatal) {
        nlp_error_set(&S->err, NLP_ERR_IO, "%s: cannot write: %s", R->out_name, strerror(errno));
        S->fatal = 1;
    }
    if (R->errf)
        fflush(R->errf);
}

/* The windows, one after the other, until the input ends or the run stops. */
static void run_windows(runner *R, run_state *S, nlp_corpus_stats *stats)
{
    S->t0 = nlp_clock_now();
    while (!S->stop && !S->fatal) {
        window *w = wq_pop(&R->fullq);
        if (!w)
            break;
        run_window(R, S, w);
        if (!S->fatal)
            write_window(R, S, w, stats);
        if (w->fatal && !S->fatal) {
            S->err = w->fatal_err;
            S->fatal = 1;
        }
        int last = w->last;
        wq_push(&R->freeq, w);
        progress(R, S, stats->read, 0);
        if (last)
            break;
    }
    stop_reader(R);
    stats->seconds = nlp_clock_now() - S->t0;
    progress(R, S, stats->read, 1);
}

/* Everything up to the first window: formats, files, columns, resume,
 * the model. */
static nlp_status prepare(runner *R, nlp_corpus_stats *stats, nlp_error *err)
{
    nlp_status st;
    if (R->p->vectors && R->job->resume)
        return nlp_error_set(err, NLP_ERR_USAGE, "--vectors and --resume exclude each other");
    if ((st = formats(R, err)) != NLP_OK || (st = open_input(R, err)) != NLP_OK)
        return st;
    if (R->ncols > 0 && (st = pick_columns(R, err)) != NLP_OK)
        return st;
    if ((st = output_names(R, err)) != NLP_OK)
        return st;
    if (R->job->resume && R->ncols > 0) {
        char *last_id = NULL;
        st = resume_scan(R, &stats->resumed_after, &last_id, err);
        if (st != NLP_OK)
            return st;
        if (R->job->id_column && last_id)
            R->skip_id = last_id;
        else {
            free(last_id);
            R->skip_rows = stats->resumed_after;
        }
    }
    if (R->ncols > 0 && (st = nlp_pipeline_load(R->p, err)) != NLP_OK)
        return st;
    if ((st = open_outputs(R, err)) != NLP_OK)
        return st;
    return R->first ? pl_vectors_open(&R->vec, R->p->vectors, err) : NLP_OK;
}

static void runner_free(runner *R)
{
    stop_reader(R);
    for (size_t i = 0; i < NWINDOWS; i++)
        window_free(&R->windows[i]);
    nlp_corpus_writer_free(R->wr);
    nlp_corpus_writer_free(R->ew);
    if (R->errf)
        fclose(R->errf);
    nlp_corpus_reader_free(R->rd);
    if (R->in && R->in != stdin)
        fclose(R->in);
    if (R->count_tok)
        nlp_tokenizer_free(R->count_tok);
    nlp_encoding_free(&R->enc);
    for (size_t k = 0; k < PL_MAX_COLUMNS; k++)
        free(R->task_names[k]);
    free(R->names);
    free(R->skip_id);
    pthread_mutex_destroy(&R->freeq.mu);
    pthread_cond_destroy(&R->freeq.cv);
    pthread_mutex_destroy(&R->fullq.mu);
    pthread_cond_destroy(&R->fullq.cv);
}

/* Close the output; a failed close loses data, so it fails the run. */
static nlp_status close_output(runner *R, nlp_status st, nlp_error *err)
{
    if (!R->out || R->out == stdout)
        return st;
    int bad = fclose(R->out) != 0;
    R->out = NULL;
    if (bad && st == NLP_OK)
        return nlp_error_set(err, NLP_ERR_IO, "%s: %s", R->job->output, strerror(errno));
    return st;
}

nlp_status nlp_pipeline_run_corpus(nlp_pipeline *p, const nlp_corpus_job *job,
                                   nlp_corpus_stats *stats, nlp_error *err)
{
    nlp_corpus_stats dummy;
    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    if (!p || !job)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_pipeline_run_corpus: NULL argument");
    runner R;
    memset(&R, 0, sizeof R);
    R.p = p;
    R.job = job;
    pthread_mutex_init(&R.freeq.mu, NULL);
    pthread_cond_init(&R.freeq.cv, NULL);
    pthread_mutex_init(&R.fullq.mu, NULL);
    pthread_cond_init(&R.fullq.cv, NULL);
    run_state S;
    memset(&S, 0, sizeof S);
    int ran = 0;
    nlp_status st = prepare(&R, stats, err);
    if (st == NLP_OK && R.ncols > 0 && (st = start_reader(&R, err)) == NLP_OK &&
        (st = run_state_init(&R, &S, err)) == NLP_OK) {
        run_windows(&R, &S, stats);
        ran = stats->started = 1;
        if (S.fatal && err)
            *err = S.err;
        st = S.fatal ? (S.err.status != NLP_OK ? S.err.status : NLP_ERR_INTERNAL) : NLP_OK;
    }
    if (ran && R.skip_id && !R.skip_id_found) {
        char *msg = nlp_strf("--resume: the last id in %s (%s) is not in %s", job->output,
                            R.skip_id, R.source);
        event(&R, NLP_CORPUS_NOTE, msg ? msg : "out of memory");
        free(msg);
    }
    stop_reader(&R);
    run_state_free(&S, R.window_rows);
    st = close_output(&R, st, err);
    st = pl_vectors_close(&R.vec, st, err);
    runner_free(&R);
    return st;
}
