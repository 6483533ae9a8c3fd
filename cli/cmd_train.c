/*
 * cmd_train.c - `nlp train TASK --data FILE --out DIR`: masked-LM
 * pretraining and fine-tuning through nlp_train_run.  Progress goes to
 * stderr: a line redrawn in place on a terminal, else one line per log
 * step; evaluations and checkpoints get a line each.  Ctrl-C stops after
 * the current step with a checkpoint that --resume continues.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_opts.h"

static const char *CMD = "train";

static void usage(void)
{
    printf("usage: nlp train mlm|sentiment|classify|ner|qa --data FILE --out DIR [options]\n"
           "Train a model and write it to DIR as a Hugging Face checkpoint folder\n"
           "(config.json, model.safetensors, tokenizer files) that every task and\n"
           "transformers load.  mlm pretrains (or continues pretraining) a masked language\n"
           "model; the other tasks fine-tune a checkpoint given with --init.  DIR also gets\n"
           "checkpoint-STEP/ (the latest checkpoint, with the optimizer state; --resume\n"
           "continues it exactly), best/ (the best model on --eval data) and\n"
           "train_log.jsonl (one JSON object per logged step and evaluation).\n\n%s"
           "\nModel:\n"
           "  --init DIR|ID           start from this checkpoint (required but for a new mlm)\n"
           "  --vocab FILE            mlm from scratch: vocab.txt of the new model, and its shape:\n"
           "  --layers N --hidden N --heads N --intermediate N   (4, 256, 4, 1024)\n"
           "  --max-position N        positions of the new model (512)\n"
           "  --cased                 the new model keeps case (default: lower-cases)\n"
           "\nTraining:\n"
           "  --out DIR               output folder (required)\n"
           "  --epochs X              passes over the data (default 3)\n"
           "  --max-steps N           stop after N optimizer steps (overrides --epochs)\n"
           "  --stop-at N             stop after step N as if interrupted (checkpoint saved,\n"
           "                          --resume continues); the schedule stays --max-steps'\n"
           "  --batch-size N          sequences per micro-batch (default 16)\n"
           "  --grad-accum N          micro-batches per optimizer step (default 1)\n"
           "  --lr X                  peak learning rate (default 5e-5)\n"
           "  --warmup N              warm-up steps (default: --warmup-ratio of the steps)\n"
           "  --warmup-ratio X        warm-up share of the steps (default 0)\n"
           "  --weight-decay X        AdamW decoupled weight decay (default 0.01)\n"
           "  --adam-beta2 X          AdamW beta2 (default 0.999)\n"
           "  --max-grad-norm X       gradient clipping, 0 for none (default 1.0)\n"
           "  --dropout P             hidden, attention and classifier dropout (default: the\n"
           "                          model's config)\n"
           "  --seed N                data order, masking, dropout, new weights (default 42)\n"
           "  --threads N             worker threads (default: all cores)\n"
           "  --rename-labels L       OLD=NEW,...: names for the data's labels in config.json\n"
           "                          (ids stay in the order of the old names)\n"
           "  --eval FILE             evaluation data, read like --data\n"
           "  --eval-every N          steps between evaluations (default: each epoch)\n"
           "  --save-every N          steps between checkpoints (default: each epoch)\n"
           "  --log-every N           steps between log lines (default 10)\n"
           "  --resume                continue DIR's latest checkpoint\n"
           "  --quiet                 no progress output\n"
           "  -h, --help              show this help and exit\n", cli_data_help());
}

enum {
    O_INIT = CLI_OPT_NEXT, O_VOCAB, O_LAYERS, O_HIDDEN, O_HEADS, O_INTER, O_MAXPOS, O_CASED,
    O_OUT, O_EPOCHS, O_MAX_STEPS, O_STOP_AT, O_BATCH, O_ACCUM, O_LR, O_WARMUP, O_WARMUP_RATIO, O_WD,
    O_BETA2, O_CLIP, O_DROPOUT, O_SEED, O_THREADS, O_EVAL, O_EVAL_EVERY, O_SAVE_EVERY,
    O_LOG_EVERY, O_RESUME, O_QUIET, O_RENAME
};

typedef struct train_cli {
    nlp_train_run_opts o;
    nlp_train_shape shape;
    int have_shape, quiet, tty, drawn;
    const char *init;
} train_cli;

static volatile sig_atomic_t stop_flag;
static volatile int stop_int;

static void on_sigint(int sig)
{
    (void)sig;
    stop_flag = 1;
    stop_int = 1;
    signal(SIGINT, SIG_DFL);        /* a second Ctrl-C kills */
}

/* ------------------------------------------------------------ progress */

static void fmt_time(char *buf, size_t n, double s)
{
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void end_line(train_cli *c)
{
    if (c->drawn)
        fputc('\n', stderr);
    c->drawn = 0;
}

static void print_eval(train_cli *c, const nlp_train_progress *p)
{
    end_line(c);
    fprintf(stderr, "eval at step %d:", p->step);
    for (size_t i = 0; i < nlp_value_len(p->report); i++) {
        const nlp_value *v = nlp_value_at(p->report, i);
        const char *k = nlp_value_key(p->report, i);
        if (nlp_value_kind_of(v) == NLP_VALUE_NUMBER && strcmp(k, "step") != 0)
            fprintf(stderr, " %s %.4g", k, nlp_value_number(v));
    }
    fputc('\n', stderr);
}

static void on_progress(void *user, const nlp_train_progress *p)
{
    train_cli *c = user;
    if (p->event == NLP_TRAIN_EVENT_NOTE) {
        end_line(c);
        fprintf(stderr, "nlp %s: %s\n", CMD, p->message);
        return;
    }
    if (c->quiet)
        return;
    if (p->event == NLP_TRAIN_EVENT_EVAL) {
        print_eval(c, p);
        return;
    }
    if (p->event == NLP_TRAIN_EVENT_SAVE) {
        if (!c->tty) {
            fprintf(stderr, "saved %s\n", p->path);
        }
        return;
    }
    char eta[32], el[32];
    fmt_time(eta, sizeof eta, p->eta_s);
    fmt_time(el, sizeof el, p->elapsed_s);
    fprintf(stderr, "%sstep %d/%d  epoch %.2f  loss %.4f  lr %.3g  %.0f tok/s  %s  ETA %s%s",
            c->tty ? "\r\033[K" : "", p->step, p->total_steps, p->epoch, p->loss, p->lr,
            p->tokens_per_s, el, eta, c->tty ? "" : "\n");
    c->drawn = c->tty;
    fflush(stderr);
}

/* ------------------------------------------------------------ options */

static int int_opt(const char *name, const char *arg, int min, int *out)
{
    size_t v;
    if (!cli_parse_size(arg, (size_t)min, &v) || v > 1000000000) {
        cli_usage_error(CMD, "--%s must be an integer of at least %d, got '%s'", name, min, arg);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int num_opt(const char *name, const char *arg, double lo, double hi, double *out)
{
    if (!cli_parse_double(arg, lo, hi, out)) {
        cli_usage_error(CMD, "--%s must be a number in [%g, %g], got '%s'", name, lo, hi, arg);
        return -1;
    }
    return 0;
}

/* The model and schedule options; -1 after a reported error, 0 else. */
static int model_option(train_cli *c, int k, const char *arg)
{
    nlp_train_run_opts *o = &c->o;
    nlp_train_options *t = &o->train;
    double x;
    size_t z;
    switch (k) {
    case O_INIT: c->init = arg; return 0;
    case O_VOCAB: c->shape.vocab = arg; c->have_shape = 1; return 0;
    case O_LAYERS: return int_opt("layers", arg, 1, &c->shape.layers);
    case O_HIDDEN: return int_opt("hidden", arg, 1, &c->shape.hidden);
    case O_HEADS: return int_opt("heads", arg, 1, &c->shape.heads);
    case O_INTER: return int_opt("intermediate", arg, 1, &c->shape.intermediate);
    case O_MAXPOS: return int_opt("max-position", arg, 4, &c->shape.max_position);
    case O_CASED: c->shape.cased = 1; return 0;
    case O_OUT: o->out = arg; return 0;
    case O_EPOCHS: return num_opt("epochs", arg, 1e-6, 1e6, &o->epochs);
    case O_MAX_STEPS: return int_opt("max-steps", arg, 1, &o->max_steps);
    case O_STOP_AT: return int_opt("stop-at", arg, 1, &o->stop_at);
    case O_BATCH:
        if (!cli_parse_size(arg, 1, &z) || z > 65536)
            return cli_usage_error(CMD, "--batch-size must be in [1, 65536], got '%s'", arg), -1;
        o->batch_size = z;
        return 0;
    case O_ACCUM: return int_opt("grad-accum", arg, 1, &t->grad_accum);
    case O_LR: return num_opt("lr", arg, 0, 1e300, &t->lr);
    case O_WARMUP: return int_opt("warmup", arg, 0, &t->warmup_steps);
    case O_WARMUP_RATIO: return num_opt("warmup-ratio", arg, 0, 1, &o->warmup_ratio);
    case O_WD: return num_opt("weight-decay", arg, 0, 10, &t->weight_decay);
    case O_BETA2: return num_opt("adam-beta2", arg, 0, 0.999999, &t->adam_beta2);
    case O_CLIP: return num_opt("max-grad-norm", arg, 0, 1e9, &t->max_grad_norm);
    case O_DROPOUT:
        if (num_opt("dropout", arg, 0, 0.99, &x))
            return -1;
        t->hidden_dropout = t->attention_dropout = t->classifier_dropout = (float)x;
        return 0;
    case O_SEED:
        if (!cli_parse_size(arg, 0, &z))
            return cli_usage_error(CMD, "--seed must be a non-negative integer"), -1;
        t->seed = z;
        return 0;
    case O_THREADS: return int_opt("threads", arg, 1, &t->threads);
    }
    return 1;
}

static int run_option(train_cli *c, int k, const char *arg)
{
    nlp_train_run_opts *o = &c->o;
    switch (k) {
    case O_EVAL: o->eval_path = arg; return 0;
    case O_EVAL_EVERY: return int_opt("eval-every", arg, 1, &o->eval_every);
    case O_SAVE_EVERY: return int_opt("save-every", arg, 1, &o->save_every);
    case O_LOG_EVERY: return int_opt("log-every", arg, 1, &o->log_every);
    case O_RESUME: o->resume = 1; return 0;
    case O_QUIET: c->quiet = 1; return 0;
    case O_RENAME: o->data.rename_labels = arg; return 0;
    }
    return model_option(c, k, arg);
}

static int parse(train_cli *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_DATA_LONGOPTS,
        {"init", required_argument, NULL, O_INIT}, {"vocab", required_argument, NULL, O_VOCAB},
        {"layers", required_argument, NULL, O_LAYERS}, {"hidden", required_argument, NULL, O_HIDDEN},
        {"heads", required_argument, NULL, O_HEADS},
        {"intermediate", required_argument, NULL, O_INTER},
        {"max-position", required_argument, NULL, O_MAXPOS}, {"cased", no_argument, NULL, O_CASED},
        {"out", required_argument, NULL, O_OUT}, {"epochs", required_argument, NULL, O_EPOCHS},
        {"max-steps", required_argument, NULL, O_MAX_STEPS},
        {"stop-at", required_argument, NULL, O_STOP_AT},
        {"batch-size", required_argument, NULL, O_BATCH},
        {"grad-accum", required_argument, NULL, O_ACCUM}, {"lr", required_argument, NULL, O_LR},
        {"warmup", required_argument, NULL, O_WARMUP},
        {"warmup-ratio", required_argument, NULL, O_WARMUP_RATIO},
        {"weight-decay", required_argument, NULL, O_WD},
        {"adam-beta2", required_argument, NULL, O_BETA2},
        {"max-grad-norm", required_argument, NULL, O_CLIP},
        {"dropout", required_argument, NULL, O_DROPOUT}, {"seed", required_argument, NULL, O_SEED},
        {"threads", required_argument, NULL, O_THREADS}, {"eval", required_argument, NULL, O_EVAL},
        {"eval-every", required_argument, NULL, O_EVAL_EVERY},
        {"save-every", required_argument, NULL, O_SAVE_EVERY},
        {"log-every", required_argument, NULL, O_LOG_EVERY},
        {"resume", no_argument, NULL, O_RESUME}, {"quiet", no_argument, NULL, O_QUIET},
        {"rename-labels", required_argument, NULL, O_RENAME},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    opterr = 0;
    optind = 2;
    int k;
    while ((k = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (k == 'h')
            return usage(), 1;
        if (k == ':')
            return cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
        if (k == '?')
            return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        int r = cli_data_option(CMD, k, optarg, &c->o.data);
        if (r == 0)
            r = run_option(c, k, optarg) == 0 ? 1 : -1;
        if (r < 0)
            return CLI_EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s' (the data goes after --data)",
                               argv[optind]);
    if (!c->o.data.path || !c->o.out)
        return cli_usage_error(CMD, "--data FILE and --out DIR are required");
    return 0;
}

/* ------------------------------------------------------------ main */

int cmd_train(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        if (argc < 2)
            return cli_usage_error(CMD, "name a task: mlm, sentiment, classify, ner or qa");
        usage();
        return CLI_EXIT_OK;
    }
    nlp_train_task task;
    if (!cli_train_task(argv[1], &task))
        return cli_usage_error(CMD, "unknown task '%s' (mlm, sentiment, classify, ner, qa)",
                               argv[1]);
    train_cli c;
    memset(&c, 0, sizeof c);
    nlp_train_run_opts_init(&c.o, task, NULL);
    c.shape = (nlp_train_shape){NULL, 0, 4, 256, 4, 1024, 512};
    int r = parse(&c, argc, argv);
    if (r)
        return r == 1 ? CLI_EXIT_OK : r;
    c.o.data.task = task;
    c.o.data.warn = cli_data_warn;
    c.o.data.warn_user = (void *)CMD;
    c.tty = isatty(STDERR_FILENO);
    c.o.progress = on_progress;
    c.o.user = &c;
    c.o.stop = &stop_int;
    char *init_dir = NULL;
    nlp_error err = {0};
    if (c.init) {
        nlp_status st = cli_resolve_model(c.init, 0, c.quiet, &init_dir, &err);
        if (st != NLP_OK)
            return cli_fail(CMD, &err);
        c.o.init = init_dir;
    }
    if (c.have_shape)
        c.o.shape = &c.shape;
    signal(SIGINT, on_sigint);
    nlp_status st = nlp_train_run(&c.o, &err);
    signal(SIGINT, SIG_DFL);
    end_line(&c);
    free(init_dir);
    if (st == NLP_ERR_USAGE)
        return cli_usage_error(CMD, "%s", err.msg);
    if (st != NLP_OK)
        return cli_fail(CMD, &err);
    if (!c.quiet && !stop_flag)
        fprintf(stderr, "model written to %s\n", c.o.out);
    return CLI_EXIT_OK;
}
