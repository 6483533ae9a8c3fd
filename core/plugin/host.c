/*
 * host.c - the host side of the plugin ABI: the nlp_host_api table handed
 * to plugins.  Option look-ups and warnings go through the nlp_task_host
 * behind nlp_task_args.host_data, so each plugin instance reads its own
 * options and warns its own pipeline; the table itself holds no state.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "config.h"
#include "nlp/nlp.h"

static const nlp_task_host *args_host(const nlp_task_args *args)
{
    return args ? (const nlp_task_host *)args->host_data : NULL;
}

static const nlp_optset *args_set(const nlp_task_args *args)
{
    const nlp_task_host *h = args_host(args);
    return h ? h->options : NULL;
}

static int model_is_default(const nlp_task_args *args)
{
    const nlp_task_host *h = args_host(args);
    return h ? h->default_model : 0;
}

static const char *opt_string(const nlp_task_args *args, const char *name)
{
    return nlp_optset_get(args_set(args), name);
}

static long opt_int(const nlp_task_args *args, const char *name, long fallback)
{
    const char *s = opt_string(args, name);
    if (!s)
        return fallback;
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    return (*s && !*end && errno == 0) ? x : fallback;
}

static double opt_float(const nlp_task_args *args, const char *name, double fallback)
{
    const char *s = opt_string(args, name);
    if (!s)
        return fallback;
    char *end;
    double x = strtod(s, &end);
    return (*s && !*end && isfinite(x)) ? x : fallback;
}

static int opt_flag(const nlp_task_args *args, const char *name)
{
    const char *s = opt_string(args, name);
    return s && strcmp(s, "0") != 0 && strcmp(s, "false") != 0;
}

/* ------------------------------------------------------ diagnostics */

static void host_warn(const nlp_task_args *args, const char *fmt, ...)
{
    const nlp_task_host *h = args_host(args);
    if (!h || !h->warn || !fmt)
        return;
    char line[NLP_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    h->warn(h->warn_user, line);
}

static nlp_status host_error_set(nlp_error *err, nlp_status status, const char *fmt, ...)
{
    if (!err)
        return status;
    err->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt ? fmt : "", ap);
    va_end(ap);
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return status;
}

static void host_free(void *p)
{
    free(p);
}

static nlp_status host_sbert_config(const nlp_model *model, nlp_sbert_config *out,
                                    nlp_error *err)
{
    return nlp_sbert_config_load(nlp_model_dir(model), out, err);
}

/* Lowercase UTF-8 with utf8proc's simple case mapping per code point. */
static nlp_status host_lowercase(const char *text, size_t len, char **out, size_t *out_len,
                                 nlp_error *err)
{
    char *buf = malloc(len * 2 + 4);   /* a lowercase form is at most one byte longer per char */
    if (!buf)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    size_t i = 0, o = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
                                              (utf8proc_ssize_t)(len - i), &cp);
        if (k <= 0) {
            free(buf);
            return nlp_error_set(err, NLP_ERR_UTF8, "invalid UTF-8 at byte %zu", i);
        }
        i += (size_t)k;
        o += (size_t)utf8proc_encode_char(utf8proc_tolower(cp), (utf8proc_uint8_t *)buf + o);
    }
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return NLP_OK;
}

/* ------------------------------------------------------------- table */

static const nlp_host_api host_api = {
    .abi_version = NLP_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nlp_host_api),
    .error_set = host_error_set,
    .warn = host_warn,
    .opt_string = opt_string,
    .opt_int = opt_int,
    .opt_float = opt_float,
    .opt_flag = opt_flag,
    .model_config = nlp_model_config,
    .model_tensor = nlp_model_tensor,
    .model_has_tensor = nlp_model_has_tensor,
    .encode = nlp_tokenizer_encode,
    .apply_template = nlp_tokenizer_apply_template,
    .num_special = nlp_tokenizer_num_special,
    .decode = nlp_tokenizer_decode,
    .token_to_id = nlp_tokenizer_token_to_id,
    .id_to_token = nlp_tokenizer_id_to_token,
    .special_id = nlp_tokenizer_special_id,
    .special_token = nlp_tokenizer_special_token,
    .model_max_length = nlp_tokenizer_model_max_length,
    .encoding_free = nlp_encoding_free,
    .free = host_free,
    .encoder_forward = nlp_encoder_forward,
    .pooler_forward = nlp_pooler_forward,
    .mlm_head_forward = nlp_mlm_head_forward,
    .linear = nlp_linear,
    .softmax = nlp_softmax,
    .sigmoid = nlp_sigmoid,
    .value_object = nlp_value_object,
    .value_array = nlp_value_array,
    .value_string = nlp_value_string_new,
    .value_number = nlp_value_number_new,
    .value_int = nlp_value_int_new,
    .value_bool = nlp_value_bool_new,
    .value_null = nlp_value_null_new,
    .value_set = nlp_value_set,
    .value_push = nlp_value_push,
    .value_free = nlp_value_free,
    .model_is_default = model_is_default,
    .model_head = nlp_model_head,
    .head_forward = nlp_head_forward,
    .model_max_tokens = nlp_model_max_tokens,
    .sbert_config = host_sbert_config,
    .lowercase = host_lowercase,
    .tokens_to_string = nlp_tokenizer_tokens_to_string,
    .subword_prefix = nlp_tokenizer_subword_prefix,
};

const nlp_host_api *nlp_host_api_get(void)
{
    return &host_api;
}
