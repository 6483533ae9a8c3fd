/*
 * classify.c - the classify task plugin.
 *
 * Without --labels: plain text classification with the checkpoint's own
 * labels (the same as the sentiment task: --function, --top-k); refused
 * on the default model, the built-in NLI model nlp-mini-nli.
 *
 * With --labels "a,b,c": zero-shot classification over an NLI checkpoint,
 * as Hugging Face's ZeroShotClassificationPipeline.  Each text is paired
 * with one hypothesis per label (--template, "This example is {}." by
 * default) as [CLS] text [SEP] hypothesis [SEP], the text truncated
 * (only_first) to the tokenizer's model_max_length.  The entailment label
 * is the first id2label entry starting with "entail" (any case).  Scores:
 *   single-label: softmax of the entailment logits across the labels;
 *   --multi-label (or one label): per label, softmax over
 *   (contradiction, entailment) logits, contradiction being label 0, or
 *   the last label when entailment is 0.
 * Result: {sequence, labels, scores}, labels sorted by score.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nlp/plugin.h"
#include "task_common.h"

#define ZS_DEFAULT_TEMPLATE "This example is {}."
/* the built-in NLI model: zero-shot only, so without --model, --labels is
 * required (its own labels mean nothing for a single text) */
#define CLASSIFY_DEFAULT_MODEL "nlp-mini-nli"

typedef struct zs_state {
    const nlp_host_api *host;
    const nlp_tokenizer *tok;
    nlp_ctx *ctx;
    nlp_tc_seqcls head;
    size_t limit;               /* max_position_embeddings */
    size_t max_length;          /* truncation length of each pair */
    int32_t pad_id;
    size_t chunk;               /* pairs per encoder call */
    char **labels;              /* [nl] candidate labels */
    char **hyps;                /* [nl] hypotheses */
    size_t nl;
    size_t entail, contra;      /* label ids of the NLI head */
    int multi_label;

    nlp_encoding *encs;         /* [n * nl] */
    size_t cap_encs;
    uint8_t *failed;            /* [n] */
    size_t cap_failed;
    const nlp_encoding **valid; /* [chunk] */
    size_t cap_valid;
    nlp_tc_batch batch;
    float *logits;              /* [n * nl][L] */
    size_t cap_logits;
    float *scores;              /* [nl] */
    size_t cap_scores;
    int32_t *order;             /* [nl] */
    size_t cap_order;
} zs_state;

typedef struct classify_state {
    nlp_tc_textcls *plain;      /* without --labels */
    zs_state *zs;               /* with --labels */
} classify_state;

static const nlp_option classify_options[] = {
    {"labels", NLP_OPT_STRING, NULL, NULL,
     "comma-separated candidate labels: zero-shot classification with an NLI model", "LABEL,..."},
    {"template", NLP_OPT_STRING, ZS_DEFAULT_TEMPLATE, NULL,
     "zero-shot hypothesis; {} stands for the label", "TEXT"},
    {"multi-label", NLP_OPT_FLAG, NULL, NULL,
     "zero-shot: score each label independently (entailment vs contradiction)", NULL},
    NLP_TC_TEXTCLS_OPTIONS("without --labels: "),
    {NULL, 0, NULL, NULL, NULL, NULL}
};

static const nlp_task_desc classify_tasks[] = {
    {sizeof(nlp_task_desc), 0, "classify",
     "classify texts with the model's labels, or zero-shot with --labels",
     CLASSIFY_DEFAULT_MODEL, NLP_INPUT_TEXT_PAIR, classify_options,
     "sequence,labels,scores,label,score", "ForSequenceClassification"},
};

/* template with each "{}" (or "{0}") replaced by label, "{{" and "}}"
 * giving literal braces, as Python's str.format does for one argument.
 * A template without a placeholder, or with any other brace, is an
 * error. */
static nlp_status zs_format(const nlp_host_api *host, const char *tmpl, const char *label,
                            char **out, nlp_error *err)
{
    size_t tl = strlen(tmpl), ll = strlen(label), slots = 0;
    for (size_t i = 0; i < tl; i++)
        slots += tmpl[i] == '{';
    char *s = malloc(tl + slots * ll + 1);
    if (!s)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory");
    size_t o = 0, used = 0;
    for (size_t i = 0; i < tl; i++) {
        char ch = tmpl[i];
        if (ch == '{' && tmpl[i + 1] == '{') {
            s[o++] = '{';
            i++;
        } else if (ch == '}' && tmpl[i + 1] == '}') {
            s[o++] = '}';
            i++;
        } else if (ch == '{' && tmpl[i + 1] == '}') {
            memcpy(s + o, label, ll);
            o += ll;
            used++;
            i++;
        } else if (ch == '{' && tmpl[i + 1] == '0' && tmpl[i + 2] == '}') {
            memcpy(s + o, label, ll);
            o += ll;
            used++;
            i += 2;
        } else if (ch == '{' || ch == '}') {
            free(s);
            return host->error_set(err, NLP_ERR_INVALID_ARG,
                                   "--template: unexpected '%c' at byte %zu of \"%s\" "
                                   "(write {} where the label goes, {{ or }} for a brace)",
                                   ch, i, tmpl);
        } else {
            s[o++] = ch;
        }
    }
    s[o] = '\0';
    if (used == 0) {
        free(s);
        return host->error_set(err, NLP_ERR_INVALID_ARG,
                               "--template \"%s\" has no {} where the label goes", tmpl);
    }
    *out = s;
    return NLP_OK;
}

static void zs_destroy(zs_state *z)
{
    if (!z)
        return;
    nlp_tc_encodings_free(z->host, &z->encs, &z->cap_encs);
    free(z->failed);
    free(z->valid);
    nlp_tc_batch_free(&z->batch);
    free(z->logits);
    free(z->scores);
    free(z->order);
    nlp_tc_list_free(z->labels, z->nl);
    nlp_tc_list_free(z->hyps, z->nl);
    nlp_tc_seqcls_free(&z->head);
    free(z);
}

static nlp_status zs_create(const nlp_host_api *host, const nlp_task_args *args,
                            const char *labels, zs_state **out, nlp_error *err)
{
    zs_state *z = calloc(1, sizeof *z);
    if (!z)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory");
    z->host = host;
    z->tok = args->tokenizer;
    z->ctx = args->ctx;
    z->limit = nlp_tc_model_limit(host, args->model);
    z->max_length = nlp_tc_max_length(host, args);
    z->pad_id = nlp_tc_pad_id(host, args);
    z->chunk = args->batch_size ? args->batch_size : 8;
    z->multi_label = host->opt_flag(args, "multi-label");
    nlp_status st;
    if (host->opt_string(args, "function") || host->opt_string(args, "top-k")) {
        st = host->error_set(err, NLP_ERR_INVALID_ARG,
                             "--function and --top-k apply only without --labels");
        goto fail;
    }
    if ((st = nlp_tc_list_split(host, labels, &z->labels, &z->nl, err)) != NLP_OK)
        goto fail;
    if (z->nl == 0) {
        st = host->error_set(err, NLP_ERR_INVALID_ARG, "--labels: give at least one label");
        goto fail;
    }
    const char *tmpl = host->opt_string(args, "template");
    if (!tmpl)
        tmpl = ZS_DEFAULT_TEMPLATE;
    z->hyps = calloc(z->nl, sizeof *z->hyps);
    if (!z->hyps) {
        st = host->error_set(err, NLP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t j = 0; j < z->nl; j++)
        if ((st = zs_format(host, tmpl, z->labels[j], &z->hyps[j], err)) != NLP_OK)
            goto fail;
    if ((st = nlp_tc_seqcls_init(&z->head, host, args->model, err)) != NLP_OK)
        goto fail;
    size_t L = z->head.L, e;
    for (e = 0; e < L; e++)
        if (strncasecmp(z->head.labels[e], "entail", 6) == 0)
            break;
    if (e == L) {
        st = host->error_set(err, NLP_ERR_UNSUPPORTED,
                             "zero-shot classification needs an NLI model: no label starting "
                             "with 'entail' in the model's id2label (%zu labels, first '%s')",
                             L, z->head.labels[0]);
        goto fail;
    }
    z->entail = e;
    z->contra = e == 0 ? L - 1 : 0;
    if ((st = nlp_tc_reserve(host, (void **)&z->scores, &z->cap_scores,
                             z->nl * sizeof *z->scores, err)) ||
        (st = nlp_tc_reserve(host, (void **)&z->order, &z->cap_order, z->nl * sizeof *z->order, err)) ||
        (st = nlp_tc_reserve(host, (void **)&z->valid, &z->cap_valid,
                             z->chunk * sizeof *z->valid, err)))
        goto fail;
    *out = z;
    return NLP_OK;
fail:
    zs_destroy(z);
    return st;
}

/* {sequence, labels, scores} of input text with scores [nl]. */
static nlp_status zs_result(zs_state *z, const nlp_input *in, nlp_value **out, nlp_error *err)
{
    const nlp_host_api *host = z->host;
    size_t k = nlp_tc_topk(z->scores, z->nl, z->nl, z->order);
    nlp_value *obj = host->value_object();
    nlp_value *labels = host->value_array();
    nlp_value *scores = host->value_array();
    nlp_value *seq = host->value_string(in->text, in->text_len);
    if (!obj || !labels || !scores || !seq)
        goto nomem;
    for (size_t j = 0; j < k; j++) {
        nlp_value *l = nlp_tc_str(host, z->labels[z->order[j]]);
        nlp_value *s = host->value_number((double)z->scores[z->order[j]]);
        if (!l || !s) {
            if (l)
                host->value_free(l);
            if (s)
                host->value_free(s);
            goto nomem;
        }
        host->value_push(labels, l);
        host->value_push(scores, s);
    }
    host->value_set(obj, "sequence", seq);
    host->value_set(obj, "labels", labels);
    host->value_set(obj, "scores", scores);
    *out = obj;
    return NLP_OK;
nomem:
    if (obj)
        host->value_free(obj);
    if (labels)
        host->value_free(labels);
    if (scores)
        host->value_free(scores);
    if (seq)
        host->value_free(seq);
    return host->error_set(err, NLP_ERR_NOMEM, "out of memory building the result");
}

static nlp_status zs_run(zs_state *z, const nlp_input *inputs, size_t n,
                         nlp_value **results, nlp_error *errs)
{
    const nlp_host_api *host = z->host;
    nlp_error fatal = {0};
    nlp_status st = NLP_OK;
    size_t nl = z->nl, L = z->head.L, P = n * nl;
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    if ((st = nlp_tc_encodings_reserve(host, &z->encs, &z->cap_encs, P, &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&z->failed, &z->cap_failed, n, &fatal)) ||
        (st = nlp_tc_reserve(host, (void **)&z->logits, &z->cap_logits, P * L * sizeof(float), &fatal)))
        goto fatal_out;

    /* Encode every (text, hypothesis) pair. */
    for (size_t i = 0; i < n; i++) {
        z->failed[i] = 0;
        if (inputs[i].text_pair) {
            host->error_set(&errs[i], NLP_ERR_INPUT,
                            "zero-shot classification takes one text per input, not a pair");
            z->failed[i] = 1;
            continue;
        }
        for (size_t j = 0; j < nl; j++) {
            st = nlp_tc_encode(host, z->tok, inputs[i].text, inputs[i].text_len, z->hyps[j],
                               strlen(z->hyps[j]), z->max_length, NLP_TRUNC_ONLY_FIRST,
                               z->limit, &z->encs[i * nl + j], &errs[i]);
            if (st == NLP_ERR_NOMEM) {
                fatal = errs[i];
                goto fatal_out;
            }
            if (st != NLP_OK) {
                z->failed[i] = 1;
                break;
            }
        }
    }

    /* Logits of every pair of the valid inputs: runs of consecutive pairs,
     * at most chunk per forward, so each run's logits rows are contiguous.
     * A failed input is met at its first pair and skipped whole. */
    for (size_t p = 0; p < P;) {
        if (z->failed[p / nl]) {
            p += nl;
            continue;
        }
        size_t first = p, B = 0;
        while (p < P && B < z->chunk && !z->failed[p / nl])
            z->valid[B++] = &z->encs[p++];
        const float *hidden = NULL; /* [B][T][H] */
        if ((st = nlp_tc_batch_pack(host, &z->batch, z->valid, B, z->pad_id, &fatal)) ||
            (st = host->encoder_forward(z->ctx, &z->batch.batch, &hidden, &fatal)) ||
            (st = nlp_tc_seqcls_logits(&z->head, z->ctx, hidden, B, z->batch.batch.seq,
                                       z->logits + first * L, &fatal)))
            goto fatal_out;
    }

    for (size_t i = 0; i < n; i++) {
        if (z->failed[i])
            continue;
        const float *lg = z->logits + i * nl * L; /* [nl][L] */
        if (z->multi_label || nl == 1) {
            for (size_t j = 0; j < nl; j++) {
                double c = lg[j * L + z->contra], e = lg[j * L + z->entail];
                double m = c > e ? c : e;
                double ec = exp(c - m), ee = exp(e - m);
                z->scores[j] = (float)(ee / (ec + ee));
            }
        } else {
            for (size_t j = 0; j < nl; j++)
                z->scores[j] = lg[j * L + z->entail];
            host->softmax(z->scores, 1, nl);
        }
        st = zs_result(z, &inputs[i], &results[i], &fatal);
        if (st != NLP_OK)
            goto fatal_out;
    }
    return NLP_OK;

fatal_out:
    return nlp_tc_fail_all(host, results, errs, n, &fatal);
}

static void classify_destroy(void *p)
{
    classify_state *s = p;
    if (!s)
        return;
    nlp_tc_textcls_destroy(s->plain);
    zs_destroy(s->zs);
    free(s);
}

static nlp_status classify_create(const nlp_host_api *host, const nlp_task_args *args,
                                  void **state, nlp_error *err)
{
    classify_state *s = calloc(1, sizeof *s);
    if (!s)
        return host->error_set(err, NLP_ERR_NOMEM, "out of memory");
    const char *labels = host->opt_string(args, "labels");
    nlp_status st;
    if (labels) {
        st = zs_create(host, args, labels, &s->zs, err);
    } else if (host->opt_flag(args, "multi-label")) {
        st = host->error_set(err, NLP_ERR_INVALID_ARG, "--multi-label needs --labels");
    } else if (NLP_HOST_HAS(host, model_is_default) && host->model_is_default(args)) {
        st = host->error_set(err, NLP_ERR_INVALID_ARG,
                             "the built-in classify model " CLASSIFY_DEFAULT_MODEL " is an NLI "
                             "model for zero-shot classification: give --labels, or --model "
                             "with a text classifier");
    } else {
        st = nlp_tc_textcls_create(host, args, &s->plain, err);
    }
    if (st != NLP_OK) {
        classify_destroy(s);
        return st;
    }
    *state = s;
    return NLP_OK;
}

static nlp_status classify_run(void *p, const nlp_input *inputs, size_t n,
                               nlp_value **results, nlp_error *errs)
{
    classify_state *s = p;
    if (s->zs)
        return zs_run(s->zs, inputs, n, results, errs);
    return nlp_tc_textcls_run(s->plain, inputs, n, results, errs);
}

/* Zero-shot: the best label and its score (the first of the sorted
 * lists); otherwise those of the model's own labels. */
static size_t classify_columns(const nlp_host_api *host, const nlp_task_args *args,
                               nlp_column *out, size_t max)
{
    static const nlp_column zs[] = {{"label", NLP_COLUMN_FIRST, "labels"},
                                    {"score", NLP_COLUMN_FIRST, "scores"}};
    if (host->opt_string(args, "labels") && !host->opt_string(args, "top-k"))
        return nlp_tc_columns_copy(zs, 2, out, max);
    return nlp_tc_textcls_columns(host, args, out, max);
}

static const nlp_plugin classify_plugin = {
    NLP_PLUGIN_ABI_VERSION, sizeof(nlp_plugin), "classify", NLP_TC_VERSION,
    classify_tasks, 1, classify_create, classify_run, classify_destroy,
    classify_columns,
};

NLP_PLUGIN_EXPORT const nlp_plugin *nlp_plugin_entry(void)
{
    return &classify_plugin;
}
