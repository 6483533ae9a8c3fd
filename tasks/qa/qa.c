/*
 * qa.c - the qa (extractive question-answering) task plugin.
 *
 * *ForQuestionAnswering: the model's question-answering head (run by the
 * host in the family's layout) gives a start and an end logit per token.
 * Each input is a question and a context.  As Hugging Face's
 * QuestionAnsweringPipeline does with a fast tokenizer, the context is cut
 * into windows [CLS] question [SEP] context-slice [SEP] of at most
 * --max-seq-len tokens (default min(384, the model's maximum)), each
 * sharing --doc-stride tokens (default min(max-seq-len / 2, 128)) with the
 * previous one.  Per window:
 *   - tokens outside the context (question, [SEP], padding) are masked out,
 *     [CLS] is kept; start and end logits go through a softmax each;
 *   - the [CLS] pair score start[0] * end[0] is the "no answer" score
 *     (--handle-impossible-answer keeps its minimum over the windows), then
 *     [CLS] is zeroed;
 *   - spans (s, e) with s <= e < s + --max-answer-len score start[s] *
 *     end[e]; the window's --top-k best spans are kept;
 *   - a span becomes characters by whole words: from the first token of
 *     the start token's word to the last token of the end token's word
 *     within the window.
 * The answers of all windows (and the empty answer when asked) are sorted
 * by score and the --top-k best reported: {score, start, end, answer},
 * start / end in code points of the context.  One answer is an object,
 * several an array, as Hugging Face returns them.
 *
 * --max-question-len (64) truncates the question's tokens (Hugging Face's
 * slow-tokenizer path does; its fast path leaves long questions whole and
 * then fails); shorter questions are unaffected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "nlp/plugin.h"
#include "task_common.h"
#include "tc_window.h"

typedef struct qa_answer {
    double score;
    int32_t start, end;       /* code points in the context */
    int32_t bstart, bend;     /* bytes in the context */
    size_t order;             /* creation order, for a stable sort */
} qa_answer;

typedef struct qa_state {
    const nlp_host_api *host;
    const nlp_tokenizer *tok;
    nlp_ctx *ctx;
    size_t chunk;
    size_t H;
    size_t top_k, max_answer_len, max_seq_len, doc_stride, max_question_len;
    int impossible;
    int32_t pad_id;
    /* per-run scratch */
    nlp_encoding *q, *c;      /* [n] question / context tokens, no template */
    size_t cap_q, cap_c;      /* entries */
    unsigned char *ok;        /* [n] the input has windows */
    size_t cap_ok;            /* bytes */
    nlp_tc_windows ws;        /* context windows; ws.out holds the logits [rows][2] */
    float *ps, *pe;           /* [max_seq_len] probabilities of one window */
    qa_answer *all, *best;    /* answers of one input, best spans of one window */
    size_t cap_all, cap_best; /* bytes */
} qa_state;

/* Context tokens available per window for a question of nq tokens. */
static size_t qa_width(const qa_state *s, size_t nq)
{
    size_t used = nq + s->host->num_special(s->tok, 1);
    return used < s->max_seq_len ? s->max_seq_len - used : 0;
}

/* Checks an input can be windowed; fills err when it cannot. */
static nlp_status qa_check(const qa_state *s, size_t i, nlp_error *err)
{
    size_t nq = s->q[i].n, nc = s->c[i].n;
    size_t width = qa_width(s, nq);
    if (nq + nc + s->host->num_special(s->tok, 1) <= s->max_seq_len)
        return NLP_OK;
    if (width <= s->doc_stride)
        return s->host->error_set(err, NLP_ERR_INPUT,
                                  "the question takes %zu tokens, leaving %zu context tokens per "
                                  "window of --max-seq-len %zu; that must exceed --doc-stride %zu",
                                  nq, width, s->max_seq_len, s->doc_stride);
    return NLP_OK;
}

/* Add a to the k best (kept sorted by score, descending; earlier first on
 * ties).  best holds *nb <= k entries. */
static void keep_best(qa_answer *best, size_t *nb, size_t k, qa_answer a)
{
    size_t pos = *nb;
    while (pos > 0 && best[pos - 1].score < a.score)
        pos--;
    if (pos >= k)
        return;
    size_t last = *nb < k ? *nb : k - 1;
    memmove(best + pos + 1, best + pos, (last - pos) * sizeof(qa_answer));
    best[pos] = a;
    if (*nb < k)
        (*nb)++;
}

/* Char span of tokens s..e of window w, aligned to whole words. */
static void span_chars(const nlp_encoding *we, size_t s, size_t e, qa_answer *a)
{
    if (we->seq[s] != 1 || we->seq[e] != 1) { /* [CLS]: offsets (0, 0) */
        a->start = we->start[s];
        a->end = we->end[e];
        a->bstart = we->byte_start[s];
        a->bend = we->byte_end[e];
        if (a->end < a->start) {
            a->end = a->start;
            a->bend = a->bstart;
        }
        return;
    }
    size_t fs = s, le = e;
    for (size_t t = 0; t < we->n; t++)
        if (we->seq[t] == 1 && we->word[t] == we->word[s]) {
            fs = t;
            break;
        }
    for (size_t t = we->n; t-- > 0;)
        if (we->seq[t] == 1 && we->word[t] == we->word[e]) {
            le = t;
            break;
        }
    a->start = we->start[fs];
    a->end = we->end[le];
    a->bstart = we->byte_start[fs];
    a->bend = we->byte_end[le];
}

/* p[T] = softmax of the window's logits (every stride-th float) over
 * [CLS] and the context tokens; the other positions get 0, as the
 * -10000 mask of Hugging Face gives them. */
static void masked_softmax(const float *logits, size_t stride, const nlp_encoding *we,
                           float *p)
{
    size_t T = we->n;
    float mx = -INFINITY;
    for (size_t t = 0; t < T; t++)
        if (t == 0 || we->seq[t] == 1)
            if (logits[t * stride] > mx)
                mx = logits[t * stride];
    double sum = 0;
    for (size_t t = 0; t < T; t++) {
        if (t == 0 || we->seq[t] == 1) {
            p[t] = expf(logits[t * stride] - mx);
            sum += p[t];
        } else {
            p[t] = 0.0f;
        }
    }
    for (size_t t = 0; t < T; t++)
        p[t] = (float)(p[t] / sum);
}

static int cmp_answer(const void *pa, const void *pb)
{
    const qa_answer *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->order < b->order ? -1 : (a->order > b->order);
}

static nlp_value *answer_value(const qa_state *s, const nlp_input *in, const qa_answer *a)
{
    const nlp_host_api *host = s->host;
    nlp_error e;
    nlp_value *o = host->value_object();
    if (!o)
        return NULL;
    if (nlp_tc_set(host, o, "score", host->value_number(a->score), &e) ||
        nlp_tc_set(host, o, "start", host->value_int(a->start), &e) ||
        nlp_tc_set(host, o, "end", host->value_int(a->end), &e) ||
        nlp_tc_set(host, o, "answer",
                   host->value_string(in->text_pair + a->bstart, (size_t)(a->bend - a->bstart)),
                   &e)) {
        host->value_free(o);
        return NULL;
    }
    return o;
}

/* The answers of one input over its windows; NULL when out of memory. */
static nlp_value *input_result(qa_state *s, const nlp_input *in, const nlp_tc_window *w,
                               const nlp_encoding *wenc, size_t nw)
{
    const nlp_host_api *host = s->host;
    /* a window has at most max_seq_len * max_answer_len spans */
    size_t k = s->top_k;
    if (k > s->max_seq_len * s->max_answer_len)
        k = s->max_seq_len * s->max_answer_len;
    nlp_error oom;
    if (nlp_tc_reserve(host, (void **)&s->all, &s->cap_all, (nw * k + 1) * sizeof(qa_answer), &oom) ||
        nlp_tc_reserve(host, (void **)&s->best, &s->cap_best, k * sizeof(qa_answer), &oom))
        return NULL;
    qa_answer *all = s->all;   /* [nw * k + 1] */
    qa_answer *best = s->best; /* [k] */
    nlp_value *res = NULL;
    size_t na = 0;
    double min_null = 1000000.0;
    for (size_t wi = 0; wi < nw; wi++) {
        const nlp_encoding *we = &wenc[wi];
        size_t T = we->n;
        const float *lg = s->ws.out + w[wi].row * 2; /* [T][2] */
        float *ps = s->ps, *pe = s->pe;
        masked_softmax(lg, 2, we, ps);
        masked_softmax(lg + 1, 2, we, pe);
        if (s->impossible) {
            double null = (double)(ps[0] * pe[0]);
            if (null < min_null)
                min_null = null;
        }
        ps[0] = pe[0] = 0.0f;
        size_t nb = 0;
        for (size_t a = 0; a < T; a++) {
            if (a != 0 && we->seq[a] != 1)
                continue;
            size_t lim = a + s->max_answer_len;
            for (size_t b = a; b < T && b < lim; b++) {
                if (b != 0 && we->seq[b] != 1)
                    continue;
                qa_answer x = {0};
                x.score = (double)(ps[a] * pe[b]);
                x.start = (int32_t)a; /* token indices until chosen */
                x.end = (int32_t)b;
                keep_best(best, &nb, k, x);
            }
        }
        for (size_t j = 0; j < nb; j++) {
            qa_answer x = best[j];
            span_chars(we, (size_t)best[j].start, (size_t)best[j].end, &x);
            x.order = na;
            all[na++] = x;
        }
    }
    if (s->impossible) {
        qa_answer x = {0};
        x.score = min_null;
        x.order = na;
        all[na++] = x;
    }
    qsort(all, na, sizeof(qa_answer), cmp_answer);
    if (na > s->top_k)
        na = s->top_k;
    if (na == 1) {
        res = answer_value(s, in, &all[0]);
    } else {
        nlp_error e;
        res = host->value_array();
        for (size_t j = 0; res && j < na; j++)
            if (nlp_tc_push(host, res, answer_value(s, in, &all[j]), &e) != NLP_OK) {
                host->value_free(res);
                res = NULL;
            }
    }
    return res;
}

/* ------------------------------------------------------------ plugin */

static const nlp_option qa_options[] = {
    {"top-k", NLP_OPT_INT, "1", NULL, "number of answers to return", "N"},
    {"doc-stride", NLP_OPT_INT, NULL, NULL,
     "context tokens shared by consecutive windows (default min(max-seq-len/2, 128))", "N"},
    {"max-seq-len", NLP_OPT_INT, NULL, NULL,
     "tokens per window, question included (default min(384, the model's maximum))", "N"},
    {"max-question-len", NLP_OPT_INT, "64", NULL, "question tokens kept at most", "N"},
    {"max-answer-len", NLP_OPT_INT, "15", NULL, "longest answer, in tokens", "N"},
    {"handle-impossible-answer", NLP_OPT_FLAG, NULL, NULL,
     "allow the empty answer (scored by [CLS])", NULL},
    {NULL, 0, NULL, NULL, NULL, NULL}
};

static const nlp_task_desc qa_tasks[] = {
    {sizeof(nlp_task_desc), NLP_TASK_WINDOWS, "qa",
     "extract the answer to a question from a context",
     "nlp-mini-squad", NLP_INPUT_QUESTION_CONTEXT, qa_options,
     "answer,score,start,end", "ForQuestionAnswering"},
    {sizeof(nlp_task_desc), NLP_TASK_WINDOWS, "question-answering",
     "extract the answer to a question from a context",
     "nlp-mini-squad", NLP_INPUT_QUESTION_CONTEXT, qa_options,
     "answer,score,start,end", "ForQuestionAnswering"},
};

static void qa_destroy(void *state)
{
    qa_state *s = state;
    if (!s)
        return;
    nlp_tc_encodings_free(s->host, &s->q, &s->cap_q);
    nlp_tc_encodings_free(s->host, &s->c, &s->cap_c);
    free(s->ok);
    nlp_tc_windows_free(s->host, &s->ws);
    free(s->ps);
    free(s->pe);
    free(s->all);
    free(s->best);
    free(s);
}

static nlp_status positive_opt(const nlp_host_api *host, const nlp_task_args *args,
                               const char *name, long fallback, long min, size_t *out,
                               nlp_error *err)
{
    long v = host->opt_int(args, name, fallback);
    if (v < min)
        return host->error_set(err, NLP_ERR_INVALID_ARG, "--%s %ld: must be at least %ld",
                               name, v, min);
    *out = (size_t)v;
    return NLP_OK;
}

static nlp_status qa_create(const nlp_host_api *host, const nlp_task_args *args,
                            void **state, nlp_error *err)
{
    qa_state *s = calloc(1, sizeof(*s));
    if (!s)
        return host->error_set(err, NLP_ERR_NOMEM, "qa: out of memory");
    s->host = host;
    s->tok = args->tokenizer;
    s->ctx = args->ctx;
    s->chunk = args->batch_size ? args->batch_size : 8;
    const nlp_config *cfg = host->model_config(args->model);
    s->H = (size_t)cfg->hidden_size;
    nlp_status st;
    size_t n_out = 0;
    if ((st = nlp_tc_need_heads(host, err)) != NLP_OK ||
        (st = host->model_head(args->model, NLP_HEAD_QA, &n_out, err)) != NLP_OK)
        goto fail;
    if (n_out != 2) {
        st = host->error_set(err, NLP_ERR_SHAPE, "the question-answering head gives %zu "
                             "outputs per token, not 2 (start, end)", n_out);
        goto fail;
    }
    if ((st = positive_opt(host, args, "top-k", 1, 1, &s->top_k, err)) ||
        (st = positive_opt(host, args, "max-answer-len", 15, 1, &s->max_answer_len, err)) ||
        (st = positive_opt(host, args, "max-question-len", 64, 1, &s->max_question_len, err)))
        goto fail;
    size_t limit = nlp_tc_model_limit(host, args->model);
    size_t mml = nlp_tc_max_length(host, args);
    if (host->opt_string(args, "max-seq-len")) {
        if ((st = positive_opt(host, args, "max-seq-len", 384, 1, &s->max_seq_len, err)))
            goto fail;
        if (s->max_seq_len > limit) {
            st = host->error_set(err, NLP_ERR_INVALID_ARG,
                                 "--max-seq-len %zu: the model accepts at most %zu tokens",
                                 s->max_seq_len, limit);
            goto fail;
        }
    } else {
        s->max_seq_len = mml < 384 ? mml : 384;
    }
    if (host->opt_string(args, "doc-stride")) {
        if ((st = positive_opt(host, args, "doc-stride", 128, 0, &s->doc_stride, err)))
            goto fail;
        if (s->doc_stride > s->max_seq_len) {
            st = host->error_set(err, NLP_ERR_INVALID_ARG,
                                 "--doc-stride %zu is larger than --max-seq-len %zu",
                                 s->doc_stride, s->max_seq_len);
            goto fail;
        }
    } else {
        s->doc_stride = s->max_seq_len / 2 < 128 ? s->max_seq_len / 2 : 128;
    }
    if (s->max_answer_len > s->max_seq_len) /* no span is longer than a window */
        s->max_answer_len = s->max_seq_len;
    s->impossible = host->opt_flag(args, "handle-impossible-answer");
    s->pad_id = nlp_tc_pad_id(host, args);
    if (!(s->ps = malloc(s->max_seq_len * sizeof(float))) ||
        !(s->pe = malloc(s->max_seq_len * sizeof(float)))) {
        st = host->error_set(err, NLP_ERR_NOMEM, "qa: out of memory");
        goto fail;
    }
    *state = s;
    return NLP_OK;
fail:
    qa_destroy(s);
    return st;
}

static nlp_status qa_run(void *state, const nlp_input *inputs, size_t n,
                         nlp_value **results, nlp_error *errs)
{
    qa_state *s = state;
    const nlp_host_api *host = s->host;
    nlp_error fatal = {0};
    nlp_status st;
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    if ((st = nlp_tc_encodings_reserve(host, &s->q, &s->cap_q, n, &fatal)) ||
        (st = nlp_tc_encodings_reserve(host, &s->c, &s->cap_c, n, &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&s->ok, &s->cap_ok, n, &fatal)))
        goto fatal_out;
    /* tokenise question and context; cut the context into windows
     * [CLS] question [SEP] slice [SEP] */
    nlp_encode_opts raw = NLP_ENCODE_OPTS_INIT;
    raw.add_special_tokens = 0;
    nlp_tc_windows_clear(&s->ws);
    for (size_t i = 0; i < n; i++) {
        const nlp_input *in = &inputs[i];
        s->ok[i] = 0;
        if (!in->text || in->text_len == 0) {
            host->error_set(&errs[i], NLP_ERR_INPUT, "the question is empty");
            continue;
        }
        if (!in->text_pair || in->text_pair_len == 0) {
            host->error_set(&errs[i], NLP_ERR_INPUT, "the context is empty");
            continue;
        }
        st = host->encode(s->tok, in->text, in->text_len, NULL, 0, &raw, &s->q[i], &errs[i]);
        if (st == NLP_OK)
            st = host->encode(s->tok, in->text_pair, in->text_pair_len, NULL, 0, &raw,
                              &s->c[i], &errs[i]);
        if (st == NLP_ERR_NOMEM) {
            fatal = errs[i];
            goto fatal_out;
        }
        if (st != NLP_OK)
            continue;
        if (s->q[i].n > s->max_question_len)
            s->q[i].n = s->max_question_len; /* keep the first tokens */
        if (s->c[i].n == 0) {
            host->error_set(&errs[i], NLP_ERR_INPUT, "the context has no tokens");
            continue;
        }
        if (qa_check(s, i, &errs[i]) != NLP_OK)
            continue;
        s->ok[i] = 1;
        if ((st = nlp_tc_windows_add(host, &s->ws, s->tok, i, &s->q[i], &s->c[i],
                                     qa_width(s, s->q[i].n), s->doc_stride, &fatal)) != NLP_OK)
            goto fatal_out;
    }
    if ((st = nlp_tc_windows_head(host, &s->ws, s->ctx, s->chunk, s->pad_id, s->H,
                                  NLP_HEAD_QA, 2, &fatal)) != NLP_OK)
        goto fatal_out;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!s->ok[i])
            continue;
        size_t first = k, cnt = nlp_tc_windows_next(&s->ws, i, &k);
        results[i] = input_result(s, &inputs[i], s->ws.win + first, s->ws.enc + first, cnt);
        if (!results[i]) {
            host->error_set(&fatal, NLP_ERR_NOMEM, "qa: out of memory building the result");
            goto fatal_out;
        }
    }
    return NLP_OK;
fatal_out:
    return nlp_tc_fail_all(host, results, errs, n, &fatal);
}

/* One answer: its fields; --top-k above 1: the list as one column. */
static size_t qa_columns(const nlp_host_api *host, const nlp_task_args *args,
                         nlp_column *out, size_t max)
{
    static const nlp_column best[] = {
        {"answer", NLP_COLUMN_FIELD, "answer"}, {"score", NLP_COLUMN_FIELD, "score"},
        {"start", NLP_COLUMN_FIELD, "start"}, {"end", NLP_COLUMN_FIELD, "end"}};
    static const nlp_column all[] = {{"answers", NLP_COLUMN_WHOLE, NULL}};
    if (host->opt_int(args, "top-k", 1) == 1)
        return nlp_tc_columns_copy(best, 4, out, max);
    return nlp_tc_columns_copy(all, 1, out, max);
}

static const nlp_plugin qa_plugin = {
    NLP_PLUGIN_ABI_VERSION,
    sizeof(nlp_plugin),
    "qa",
    NLP_TC_VERSION,
    qa_tasks,
    sizeof(qa_tasks) / sizeof(qa_tasks[0]),
    qa_create,
    qa_run,
    qa_destroy,
    qa_columns,
};

NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void)
{
    return &qa_plugin;
}
