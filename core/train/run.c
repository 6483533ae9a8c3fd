/*
 * run.c - nlp_train_run (see nlp/train_run.h): the training loop over a
 * dataset, with checkpoints, resume, evaluation, the best model and a
 * JSON Lines log.
 *
 * Everything a resumed run needs follows from the optimizer step it
 * resumes at: micro-batch m (counting from the start of the run, across
 * epochs) is micro-batch m % per_epoch of epoch m / per_epoch, whose
 * order is a permutation drawn from (seed, epoch), and its MLM masks are
 * drawn from (seed, m).  A checkpoint is only ever taken between
 * optimizer steps, so m = step * grad_accum there.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "nlp/bench.h"
#include "nlp/checkpoint.h"
#include "nlp/model.h"
#include "nlp/train_run.h"
#include "util/util.h"
#include "train_impl.h"

typedef struct run {
    const nlp_train_run_opts *o;
    char *model_dir;            /* the checkpoint the weights came from */
    nlp_model *model;
    nlp_tokenizer *tok;
    nlp_dataset *ds, *eval_ds;
    nlp_trainer *tr;
    nlp_data_batch *batch;
    const char **label_names;   /* [labels] the dataset's, for the checkpoints */
    size_t *perm;               /* [n] this epoch's order */
    long perm_epoch;
    size_t per_epoch;           /* micro-batches per epoch */
    int total_steps, accum;
    FILE *log;
    double t0;
    int resumed_step;
    char *last_ckpt;            /* written by this run, removed when superseded */
    double best;                /* best metric so far (NAN: none) */
    int best_step;
    /* since the last log line */
    double loss_sum, tokens, t_last;
    int loss_n;
    float last_norm;
} run;

/* ------------------------------------------------------------ small helpers */

static void note(const run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const run *r, const char *fmt, ...)
{
    if (!r->o->progress)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    nlp_train_progress p = {0};
    p.event = NLP_TRAIN_EVENT_NOTE;
    p.message = buf;
    r->o->progress(r->o->user, &p);
}

static void data_warn(void *user, const char *msg)
{
    note(user, "%s", msg);
}

/* Remove a folder of plain files. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = nlp_path_join(dir, e->d_name);
        if (p)
            unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

/* The folder OUT/checkpoint-N with the largest N, or NULL. */
static char *latest_checkpoint(const char *out, int *step)
{
    DIR *d = opendir(out);
    if (!d)
        return NULL;
    int best = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int n;
        char tail;
        if (sscanf(e->d_name, "checkpoint-%d%c", &n, &tail) == 1 && n > best)
            best = n;
    }
    closedir(d);
    if (best < 0)
        return NULL;
    *step = best;
    return nlp_strf("%s/checkpoint-%d", out, best);
}

/* ------------------------------------------------------------ the model */

/* Write a random BERT of the given shape with vocab into dir. */
static nlp_status write_scratch(const nlp_train_shape *s, const char *dir, nlp_error *err)
{
    nlp_tokenizer *tok;
    nlp_status st = nlp_tokenizer_load_vocab(s->vocab, !s->cased, -1, &tok, err);
    if (st != NLP_OK)
        return st;
    nlp_checkpoint_shape cs = {0, s->layers, s->hidden, s->heads, s->intermediate,
                               (int)nlp_tokenizer_vocab_size(tok),
                               s->max_position ? s->max_position : 512, 2};
    nlp_tokenizer_free(tok);
    if (cs.layers < 1 || cs.hidden < 1 || cs.heads < 1 || cs.hidden % cs.heads ||
        cs.intermediate < 1)
        return nlp_error_set(err, NLP_ERR_USAGE, "bad model shape: %d layers, hidden %d, "
                             "%d heads (must divide hidden), intermediate %d", cs.layers,
                             cs.hidden, cs.heads, cs.intermediate);
    st = nlp_checkpoint_write_random(dir, &cs, err);
    char *vocab_text = NULL, *p = NULL;
    size_t len = 0;
    if (st == NLP_OK)
        st = nlp_read_file(s->vocab, &vocab_text, &len, err);
    if (st == NLP_OK && !(p = nlp_path_join(dir, "vocab.txt")))
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    FILE *fp = st == NLP_OK ? fopen(p, "wb") : NULL;
    if (st == NLP_OK && (!fp || fwrite(vocab_text, 1, len, fp) != len))
        st = nlp_error_set(err, NLP_ERR_IO, "%s: cannot write", p);
    if (fp && fclose(fp) != 0 && st == NLP_OK)
        st = nlp_error_set(err, NLP_ERR_IO, "%s: cannot write", p);
    free(p);
    free(vocab_text);
    if (st == NLP_OK && s->cased) {
        p = nlp_path_join(dir, "tokenizer_config.json");
        fp = p ? fopen(p, "wb") : NULL;
        if (!fp || fputs("{\"do_lower_case\": false}\n", fp) < 0 || fclose(fp) != 0)
            st = nlp_error_set(err, NLP_ERR_IO, "%s: cannot write", p ? p : dir);
        free(p);
    }
    return st;
}

/* Hugging Face's initialisation on top of the random checkpoint: zero
 * biases (LayerNorm weights stay 1). */
static void zero_biases(nlp_trainer *tr)
{
    for (size_t i = 0; i < nlp_trainer_num_tensors(tr); i++) {
        const char *name;
        float *v;
        int ndim;
        int64_t shape[2];
        nlp_trainer_tensor(tr, i, &name, &v, NULL, &ndim, shape, NULL);
        const size_t n = strlen(name);
        if (n > 5 && strcmp(name + n - 5, ".bias") == 0 && !strstr(name, "LayerNorm"))
            memset(v, 0, (size_t)shape[0] * sizeof *v);
    }
}

/* Where the weights come from: the latest checkpoint (resume), --init, or
 * a random model written to OUT/.init. */
static nlp_status pick_model(run *r, nlp_error *err)
{
    const nlp_train_run_opts *o = r->o;
    if (o->resume) {
        r->model_dir = latest_checkpoint(o->out, &r->resumed_step);
        if (r->model_dir)
            return NLP_OK;
        if (!o->init && !o->shape)
            return nlp_error_set(err, NLP_ERR_USAGE, "%s: no checkpoint-* folder to resume",
                                 o->out);
        note(r, "%s: no checkpoint to resume; starting from the beginning", o->out);
    }
    if (o->init && o->shape)
        return nlp_error_set(err, NLP_ERR_USAGE, "give either a model to start from or a "
                             "shape for a new one, not both");
    if (o->init) {
        r->model_dir = nlp_strf("%s", o->init);
        return r->model_dir ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    if (!o->shape)
        return nlp_error_set(err, NLP_ERR_USAGE, "no model: give a checkpoint to start from "
                             "(--init) or, for mlm, a vocabulary and shape");
    if (o->task != NLP_TRAIN_MLM)
        return nlp_error_set(err, NLP_ERR_USAGE, "a model from scratch is for mlm only; "
                             "fine-tuning starts from a checkpoint (--init)");
    r->model_dir = nlp_strf("%s/.init", o->out);
    if (!r->model_dir)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    remove_dir(r->model_dir);
    return write_scratch(o->shape, r->model_dir, err);
}

/* The label set a fine-tuned checkpoint of this task already has. */
static int has_task_labels(const nlp_config *cfg, nlp_train_task task)
{
    if (cfg->num_labels < 1 || !cfg->id2label || !cfg->architectures ||
        !cfg->architectures[0])
        return 0;
    const char *want = task == NLP_TRAIN_SEQ_CLS ? "ForSequenceClassification"
                                                 : "ForTokenClassification";
    if (!strstr(cfg->architectures[0], want))
        return 0;
    for (int i = 0; i < cfg->num_labels; i++)
        if (strncmp(cfg->id2label[i], "LABEL_", 6) != 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ setup */

static nlp_status load_data(run *r, nlp_error *err)
{
    const nlp_train_run_opts *o = r->o;
    nlp_dataset_opts d = o->data;
    d.task = o->task;
    d.warn = data_warn;
    d.warn_user = r;
    const nlp_config *cfg = nlp_model_config(r->model);
    if ((o->task == NLP_TRAIN_SEQ_CLS || o->task == NLP_TRAIN_TOKEN_CLS) &&
        has_task_labels(cfg, o->task)) {
        d.labels = (const char *const *)cfg->id2label;
        d.n_labels = (size_t)cfg->num_labels;
    }
    nlp_status st = nlp_dataset_fit_model(&d, cfg, err);
    if (st != NLP_OK)
        return st;
    st = nlp_dataset_load(&d, r->tok, &r->ds, err);
    if (st != NLP_OK || !o->eval_path)
        return st;
    /* the evaluation data uses the training data's labels */
    size_t nl = nlp_dataset_num_labels(r->ds);
    const char **names = nl ? calloc(nl, sizeof *names) : NULL;
    for (size_t i = 0; names && i < nl; i++)
        names[i] = nlp_dataset_label(r->ds, i);
    d.path = o->eval_path;
    d.labels = names;
    d.n_labels = nl;
    d.rename_labels = NULL;     /* the training data's names, renamed */
    st = nlp_dataset_load(&d, r->tok, &r->eval_ds, err);
    free(names);
    return st;
}

static nlp_status make_trainer(run *r, nlp_error *err)
{
    const nlp_train_run_opts *o = r->o;
    nlp_train_options t = o->train;
    t.task = o->task;
    t.num_labels = (int)nlp_dataset_num_labels(r->ds);
    t.multi_label = o->data.multi_label;
    t.max_batch = o->batch_size;
    size_t T = nlp_dataset_max_seq(r->ds);
    if (r->eval_ds && nlp_dataset_max_seq(r->eval_ds) > T)
        T = nlp_dataset_max_seq(r->eval_ds);
    t.max_seq = T;
    if (o->task == NLP_TRAIN_MLM) {
        t.max_masked = nlp_dataset_max_masked(r->ds, o->batch_size);
        if (r->eval_ds && nlp_dataset_max_masked(r->eval_ds, o->batch_size) > t.max_masked)
            t.max_masked = nlp_dataset_max_masked(r->eval_ds, o->batch_size);
    }
    if (t.num_labels) {
        r->label_names = calloc((size_t)t.num_labels, sizeof *r->label_names);
        if (!r->label_names)
            return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        for (int i = 0; i < t.num_labels; i++)
            r->label_names[i] = nlp_dataset_label(r->ds, (size_t)i);
        t.label_names = r->label_names;
    }
    r->accum = t.grad_accum > 0 ? t.grad_accum : 1;
    r->per_epoch = (nlp_dataset_size(r->ds) + o->batch_size - 1) / o->batch_size;
    r->total_steps = o->max_steps > 0
                         ? o->max_steps
                         : (int)ceil(o->epochs * (double)r->per_epoch / (double)r->accum);
    if (r->total_steps < 1)
        r->total_steps = 1;
    t.total_steps = r->total_steps;
    if (t.warmup_steps <= 0)
        t.warmup_steps = (int)ceil(o->warmup_ratio * r->total_steps);
    return nlp_trainer_create(r->model, &t, &r->tr, err);
}

/* ------------------------------------------------------------ saving */

static nlp_status write_run_state(const run *r, const char *dir, nlp_error *err)
{
    char *text = nlp_strf("{\"global_step\": %d, \"max_steps\": %d, \"epoch\": %.6f, "
                          "\"best_metric\": %.17g, \"best_step\": %d}\n",
                          nlp_trainer_steps(r->tr), r->total_steps,
                          (double)nlp_trainer_steps(r->tr) * r->accum / (double)r->per_epoch,
                          isnan(r->best) ? -1.0 : r->best, r->best_step);
    char *path = nlp_path_join(dir, "trainer_state.json");
    nlp_status st = text && path ? nlp_write_atomic(path, text, err)
                                 : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    free(text);
    free(path);
    return st;
}

/* The model (and with state, the optimizer state and the run's
 * position) into OUT/.NAME.tmp, then renamed to OUT/NAME; an older
 * OUT/NAME is moved aside first and removed after. */
static nlp_status save_as(run *r, const char *name, int state, nlp_error *err)
{
    char *tmp = nlp_strf("%s/.%s.tmp", r->o->out, name);
    char *old = nlp_strf("%s/.%s.old", r->o->out, name);
    char *dst = nlp_strf("%s/%s", r->o->out, name);
    char *opt = tmp ? nlp_path_join(tmp, "optimizer.safetensors") : NULL;
    nlp_status st = tmp && old && dst && opt ? NLP_OK
                                             : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    if (st == NLP_OK) {
        remove_dir(tmp);
        st = nlp_trainer_save(r->tr, tmp, err);
    }
    if (st == NLP_OK && state)
        st = nlp_trainer_save_state(r->tr, opt, err);
    if (st == NLP_OK && state)
        st = write_run_state(r, tmp, err);
    if (st == NLP_OK) {
        remove_dir(old);
        int moved = rename(dst, old) == 0;
        if (rename(tmp, dst) != 0)
            st = nlp_error_set(err, NLP_ERR_IO, "%s: cannot rename to %s: %s", tmp, dst,
                               strerror(errno));
        else if (moved)
            remove_dir(old);
    } else if (tmp) {
        remove_dir(tmp);
    }
    free(tmp), free(old), free(dst), free(opt);
    return st;
}

static void emit(const run *r, nlp_train_progress *p)
{
    p->step = nlp_trainer_steps(r->tr);
    p->total_steps = r->total_steps;
    p->epoch = (double)p->step * r->accum / (double)r->per_epoch;
    p->elapsed_s = nlp_clock_now() - r->t0;
    if (r->o->progress)
        r->o->progress(r->o->user, p);
}

static nlp_status save_checkpoint(run *r, nlp_error *err)
{
    char name[48];
    snprintf(name, sizeof name, "checkpoint-%d", nlp_trainer_steps(r->tr));
    nlp_status st = save_as(r, name, 1, err);
    if (st != NLP_OK)
        return st;
    char *path = nlp_strf("%s/%s", r->o->out, name);
    /* the checkpoint the weights were loaded from stays (its config and
     * tokenizer files are read at every save) */
    if (r->last_ckpt && strcmp(r->last_ckpt, r->model_dir) != 0 &&
        (!path || strcmp(r->last_ckpt, path) != 0))
        remove_dir(r->last_ckpt);
    free(r->last_ckpt);
    r->last_ckpt = path;
    nlp_train_progress p = {0};
    p.event = NLP_TRAIN_EVENT_SAVE;
    p.path = path;
    emit(r, &p);
    return NLP_OK;
}

/* ------------------------------------------------------------ logging */

static void log_json(run *r, const char *text)
{
    if (r->log) {
        fputs(text, r->log);
        fputc('\n', r->log);
        fflush(r->log);
    }
}

static void log_step(run *r)
{
    const double now = nlp_clock_now();
    nlp_train_progress p = {0};
    p.event = NLP_TRAIN_EVENT_STEP;
    p.loss = r->loss_n ? r->loss_sum / r->loss_n : 0.0;
    p.lr = nlp_trainer_lr(r->tr);
    p.grad_norm = r->last_norm;
    p.tokens_per_s = now > r->t_last ? r->tokens / (now - r->t_last) : 0.0;
    const int done = nlp_trainer_steps(r->tr) - r->resumed_step;
    const double per_step = done > 0 ? (now - r->t0) / done : 0.0;
    p.eta_s = per_step * (r->total_steps - nlp_trainer_steps(r->tr));
    emit(r, &p);
    char *line = nlp_strf("{\"step\": %d, \"epoch\": %.4f, \"loss\": %.6g, \"lr\": %.6g, "
                          "\"grad_norm\": %.6g, \"tokens_per_s\": %.1f, \"elapsed_s\": %.1f}",
                          p.step, p.epoch, p.loss, p.lr, p.grad_norm, p.tokens_per_s,
                          p.elapsed_s);
    if (line)
        log_json(r, line);
    free(line);
    r->loss_sum = r->tokens = 0.0;
    r->loss_n = 0;
    r->t_last = now;
}

/* ------------------------------------------------------------ evaluation */

static nlp_status evaluate(run *r, nlp_error *err)
{
    if (!r->eval_ds)
        return NLP_OK;
    nlp_eval_opts eo;
    nlp_eval_opts_init(&eo, r->o->task, NULL, NULL);
    eo.batch_size = r->o->batch_size;
    eo.pppl_limit = 0;          /* one forward pass per token: for nlp eval only */
    nlp_value *rep = NULL;
    nlp_status st = nlp_eval_with(r->tr, r->eval_ds, &eo, &rep, err);
    if (st != NLP_OK)
        return st;
    int higher;
    const char *key = nlp_eval_metric(r->o->task, &higher);
    const double m = nlp_value_number(nlp_value_get(rep, key));
    nlp_value_set(rep, "step", nlp_value_int_new(nlp_trainer_steps(r->tr)));
    nlp_train_progress p = {0};
    p.event = NLP_TRAIN_EVENT_EVAL;
    p.report = rep;
    emit(r, &p);
    char *js = nlp_value_to_json(rep, 0);
    char *line = js ? nlp_strf("{\"step\": %d, \"eval\": %s}", nlp_trainer_steps(r->tr), js)
                    : NULL;
    if (line)
        log_json(r, line);
    free(js), free(line);
    nlp_value_free(rep);
    if (isnan(r->best) || (higher ? m > r->best : m < r->best)) {
        r->best = m;
        r->best_step = nlp_trainer_steps(r->tr);
        st = save_as(r, "best", 0, err);
        if (st == NLP_OK)
            note(r, "best %s so far: %.4f at step %d, saved to %s/best", key, m, r->best_step,
                 r->o->out);
    }
    return st;
}

/* ------------------------------------------------------------ the loop */

/* The order of epoch e: a Fisher-Yates shuffle drawn from (seed, e). */
static void shuffle(run *r, long e)
{
    const size_t n = nlp_dataset_size(r->ds);
    for (size_t i = 0; i < n; i++)
        r->perm[i] = i;
    uint64_t s = nlp_splitmix64(r->o->train.seed ^ nlp_splitmix64((uint64_t)e + 1));
    for (size_t i = n; i > 1; i--) {
        s = nlp_splitmix64(s);
        size_t j = (size_t)(s % i);
        size_t t = r->perm[i - 1];
        r->perm[i - 1] = r->perm[j];
        r->perm[j] = t;
    }
    r->perm_epoch = e;
}

/* Micro-batch m of the run: forward, backward, gradients added. */
static nlp_status micro_batch(run *r, uint64_t m, nlp_error *err)
{
    const long e = (long)(m / r->per_epoch);
    const size_t k = (size_t)(m % r->per_epoch), B = r->o->batch_size;
    if (e != r->perm_epoch)
        shuffle(r, e);
    const size_t n = nlp_dataset_size(r->ds), a = k * B, cnt = a + B <= n ? B : n - a;
    const nlp_train_batch *tb;
    nlp_status st = nlp_dataset_batch(r->ds, r->perm + a, cnt, r->o->train.seed, m, r->batch,
                                      &tb, err);
    float loss;
    if (st == NLP_OK)
        st = nlp_trainer_accumulate(r->tr, tb, &loss, err);
    if (st != NLP_OK)
        return st;
    if (!isfinite(loss))
        return nlp_error_set(err, NLP_ERR_INPUT, "the loss is %s at step %d (epoch %ld); "
                             "stopped, the last checkpoint is untouched",
                             isnan(loss) ? "NaN" : "infinite", nlp_trainer_steps(r->tr) + 1,
                             e + 1);
    r->loss_sum += loss;
    r->loss_n++;
    for (size_t b = 0; b < cnt; b++)
        r->tokens += tb->in.lengths[b];
    return NLP_OK;
}

static int due(int step, int every, int epoch_end)
{
    return every > 0 ? step % every == 0 : epoch_end;
}

static nlp_status train_loop(run *r, nlp_error *err)
{
    const nlp_train_run_opts *o = r->o;
    nlp_status st = NLP_OK;
    r->t0 = r->t_last = nlp_clock_now();
    while (st == NLP_OK && nlp_trainer_steps(r->tr) < r->total_steps) {
        const uint64_t m0 = (uint64_t)nlp_trainer_steps(r->tr) * (uint64_t)r->accum;
        for (int i = 0; i < r->accum && st == NLP_OK; i++)
            st = micro_batch(r, m0 + (uint64_t)i, err);
        if (st == NLP_OK)
            st = nlp_trainer_step(r->tr, &r->last_norm, err);
        if (st != NLP_OK)
            break;
        const int step = nlp_trainer_steps(r->tr);
        const uint64_t m1 = (uint64_t)step * (uint64_t)r->accum;
        const int epoch_end = m1 / r->per_epoch != m0 / r->per_epoch;
        const int last = step == r->total_steps;
        const int halt = (o->stop && *o->stop) || step == o->stop_at;
        if (step % (o->log_every > 0 ? o->log_every : 10) == 0 || last)
            log_step(r);
        if (due(step, o->eval_every, epoch_end) || last)
            st = evaluate(r, err);
        if (st == NLP_OK && (due(step, o->save_every, epoch_end) || halt || last))
            st = save_checkpoint(r, err);
        if (st == NLP_OK && halt && !last) {
            note(r, "stopped at step %d; continue with --resume", step);
            return NLP_OK;
        }
    }
    if (st == NLP_OK)
        st = nlp_trainer_save(r->tr, o->out, err);
    return st;
}

/* ------------------------------------------------------------ the run */

void nlp_train_run_opts_init(nlp_train_run_opts *o, nlp_train_task task, const char *out)
{
    memset(o, 0, sizeof *o);
    o->task = task;
    o->out = out;
    nlp_dataset_opts_init(&o->data, task, NULL);
    nlp_train_options_init(&o->train);
    o->epochs = 3.0;
    o->batch_size = 16;
    o->log_every = 10;
}

static nlp_status setup(run *r, nlp_error *err)
{
    const nlp_train_run_opts *o = r->o;
    if (!o->out || !o->data.path || o->batch_size == 0 || (unsigned)o->task > NLP_TRAIN_QA)
        return nlp_error_set(err, NLP_ERR_USAGE, "a run needs an output folder, training "
                             "data and a batch size of at least 1");
    if (nlp_mkdirs(o->out) != 0)
        return nlp_error_set(err, NLP_ERR_IO, "%s: cannot create the folder: %s", o->out,
                             strerror(errno));
    nlp_status st = pick_model(r, err);
    if (st == NLP_OK)
        st = nlp_model_load(r->model_dir, &r->model, err);
    if (st == NLP_OK)
        st = nlp_tokenizer_load(r->model_dir, &r->tok, err);
    if (st == NLP_OK)
        st = load_data(r, err);
    if (st == NLP_OK)
        st = make_trainer(r, err);
    if (st == NLP_OK)
        st = nlp_data_batch_create(r->ds, o->batch_size, &r->batch, err);
    if (st == NLP_OK && !(r->perm = malloc(nlp_dataset_size(r->ds) * sizeof *r->perm)))
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    return st;
}

/* Continue where checkpoint-N stopped: its optimizer state and best. */
static nlp_status restore(run *r, nlp_error *err)
{
    char *opt = nlp_path_join(r->model_dir, "optimizer.safetensors");
    char *rs = nlp_path_join(r->model_dir, "trainer_state.json");
    nlp_status st = opt && rs ? nlp_trainer_load_state(r->tr, opt, err)
                              : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    char *text = NULL;
    size_t len = 0;
    if (st == NLP_OK)
        st = nlp_read_file(rs, &text, &len, err);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "best_metric");
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(j, "best_step");
    if (cJSON_IsNumber(b) && cJSON_IsNumber(bs) && bs->valueint > 0) {
        r->best = b->valuedouble;
        r->best_step = bs->valueint;
    }
    cJSON_Delete(j);
    free(text), free(opt), free(rs);
    if (st == NLP_OK)
        note(r, "resuming %s at step %d of %d", r->model_dir, nlp_trainer_steps(r->tr),
             r->total_steps);
    return st;
}

nlp_status nlp_train_run(const nlp_train_run_opts *o, nlp_error *err)
{
    if (!o)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_train_run: options are NULL");
    run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.best = NAN;
    r.perm_epoch = -1;
    nlp_status st = setup(&r, err);
    if (st == NLP_OK && r.resumed_step)
        st = restore(&r, err);
    else if (st == NLP_OK && o->shape)
        zero_biases(r.tr);
    char *log = st == NLP_OK ? nlp_path_join(o->out, "train_log.jsonl") : NULL;
    if (log && !(r.log = fopen(log, r.resumed_step ? "a" : "w")))
        st = nlp_error_set(err, NLP_ERR_IO, "%s: cannot open: %s", log, strerror(errno));
    free(log);
    if (st == NLP_OK)
        st = train_loop(&r, err);
    if (r.log)
        fclose(r.log);
    free(r.perm);
    free(r.last_ckpt);
    free(r.label_names);
    nlp_data_batch_free(r.batch);
    nlp_trainer_free(r.tr);
    nlp_dataset_free(r.ds);
    nlp_dataset_free(r.eval_ds);
    nlp_tokenizer_free(r.tok);
    nlp_model_free(r.model);
    free(r.model_dir);
    return st;
}
