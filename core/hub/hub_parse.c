/*
 * hub_parse.c - the parsers of what the hub sends: HTTP response header
 * lines, the model-info answer (commit hash and file list) and the weight
 * map of a downloaded safetensors index, plus the file-selection helpers
 * they use.  Kept apart from the transfer code (hub.c) so each parser can
 * be tested on its own bytes.
 *
 * Nothing a parser accepts can name a place outside the cache: commit
 * hashes and etags are single path components of letters, digits, '-' and
 * '_'; file names are relative paths without "." or ".." components.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "hub_impl.h"

/* ------------------------------------------------------------ headers */

void nlp_hub_resp_reset(nlp_hub_resp *r)
{
    free(r->commit);
    free(r->etag);
    free(r->linked_etag);
    free(r->location);
    memset(r, 0, sizeof *r);
    r->linked_size = r->content_length = r->range_start = -1;
}

/* A decimal byte count filling v[0..n) exactly, or -1 (empty, a sign,
 * trailing bytes, or above 2^62). */
static long long parse_count(const char *v, size_t n)
{
    if (n == 0)
        return -1;
    long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || x > (1LL << 62) / 10)
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    return x;
}

/* The first byte of a Content-Range value "bytes FIRST-LAST/SIZE", or -1. */
static long long parse_range_start(const char *v, size_t n)
{
    if (n <= 6 || strncasecmp(v, "bytes ", 6) != 0)
        return -1;
    size_t k = 6;
    while (k < n && isdigit((unsigned char)v[k]))
        k++;
    if (k == 6 || k == n || v[k] != '-')
        return -1;
    return parse_count(v + 6, k - 6);
}

static int name_is(const char *buf, size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp(buf, name, n) == 0;
}

void nlp_hub_header_line(nlp_hub_resp *r, const char *buf, size_t len)
{
    if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
        nlp_hub_resp_reset(r); /* a new response (after a redirect): start afresh */
        return;
    }
    const char *colon = memchr(buf, ':', len);
    if (!colon)
        return;
    size_t nlen = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vlen = len - nlen - 1;
    while (vlen && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ' ||
                    v[vlen - 1] == '\t'))
        vlen--;
    char **dst = NULL;
    if (name_is(buf, nlen, "x-repo-commit"))
        dst = &r->commit;
    else if (name_is(buf, nlen, "etag"))
        dst = &r->etag;
    else if (name_is(buf, nlen, "x-linked-etag"))
        dst = &r->linked_etag;
    else if (name_is(buf, nlen, "location"))
        dst = &r->location;
    else if (name_is(buf, nlen, "x-linked-size"))
        r->linked_size = parse_count(v, vlen);
    else if (name_is(buf, nlen, "content-length"))
        r->content_length = parse_count(v, vlen);
    else if (name_is(buf, nlen, "content-range"))
        r->range_start = parse_range_start(v, vlen);
    if (dst && vlen <= NLP_HUB_MAX_HEADER && !memchr(v, '\0', vlen)) {
        free(*dst);
        *dst = strndup(v, vlen);
    }
}

/* ------------------------------------------------------------ file selection */

int nlp_hub_match_any(const char *const *pats, const char *name)
{
    for (; pats && *pats; pats++)
        if (fnmatch(*pats, name, 0) == 0)
            return 1;
    return 0;
}

static const char *const default_files[] = {
    "config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json",
    "special_tokens_map.json",
    /* sentence-transformers: the modules and how the vectors are pooled */
    "modules.json", "sentence_bert_config.json", "1_Pooling/config.json", NULL,
};

/* Tokenizer files fetched only when the repository has no tokenizer.json
 * (which holds everything they do): byte-level BPE's vocab.json and
 * merges.txt, and SentencePiece models. */
static const char *const fallback_files[] = {
    "vocab.json", "merges.txt", "spm.model", "sentencepiece.bpe.model", "spiece.model", NULL,
};

static int is_default(const char *name)
{
    for (int i = 0; default_files[i]; i++)
        if (!strcmp(name, default_files[i]))
            return 1;
    return 0;
}

int nlp_hub_list_add(char ***list, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*list)[i], s))
            return 0;
    char **l = realloc(*list, (*n + 2) * sizeof *l);
    if (!l)
        return -1;
    *list = l;
    if (!(l[*n] = strdup(s)))
        return -1;
    l[++*n] = NULL;
    return 0;
}

void nlp_hub_list_free(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

/* ------------------------------------------------------------ model info */

void nlp_hub_info_free(nlp_hub_info *info)
{
    free(info->commit);
    nlp_hub_list_free(info->files, info->nfiles);
    memset(info, 0, sizeof *info);
}

/* Note a weight file of a format we cannot load, for the error message. */
static void note_other(nlp_hub_info *info, const char *name)
{
    static const char *const other[] = { "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack",
                                         "model.onnx", "pytorch_model.bin.index.json" };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (!strcmp(name, other[i]) && strlen(info->others) + strlen(name) + 3 < sizeof info->others) {
            if (info->others[0])
                strcat(info->others, ", ");
            strcat(info->others, name);
        }
}

/* One sibling: checked, noted and selected. */
static nlp_status info_sibling(nlp_hub_info *info, const char *name, const char *what,
                               const char *const *inc, const char *const *exc, nlp_error *err)
{
    if (!nlp_hub_valid_relpath(name))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: the hub lists an unsafe file name \"%.80s\"",
                             what, name);
    if (!strcmp(name, "model.safetensors"))
        info->has_st = 1;
    else if (!strcmp(name, "model.safetensors.index.json"))
        info->has_index = 1;
    else
        note_other(info, name);
    int want = is_default(name) || nlp_hub_match_any(inc, name);
    if (want && !nlp_hub_match_any(exc, name) && nlp_hub_list_add(&info->files, &info->nfiles, name) != 0)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    return NLP_OK;
}

nlp_status nlp_hub_parse_model_info(const char *json, size_t len, const char *what,
                                    const char *const *inc, const char *const *exc,
                                    nlp_hub_info *info, nlp_error *err)
{
    memset(info, 0, sizeof *info);
    cJSON *doc = cJSON_ParseWithLength(json, len);
    if (!doc)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: the hub's answer is not valid JSON", what);
    nlp_status st = NLP_OK;
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(doc, "sha");
    const cJSON *sib = cJSON_GetObjectItemCaseSensitive(doc, "siblings");
    const cJSON *it;
    if (!cJSON_IsString(sha) || !cJSON_IsArray(sib))
        st = nlp_error_set(err, NLP_ERR_FORMAT, "%s: the hub's model info lacks \"sha\" or \"siblings\"", what);
    else if (!nlp_hub_valid_etag(sha->valuestring))
        st = nlp_error_set(err, NLP_ERR_FORMAT, "%s: the hub sent an unusable commit hash", what);
    else if (!(info->commit = strdup(sha->valuestring)))
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    int has_tokenizer_json = 0;
    for (it = st == NLP_OK ? sib->child : NULL; it && st == NLP_OK; it = it->next) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(it, "rfilename");
        if (cJSON_IsString(fn)) {
            st = info_sibling(info, fn->valuestring, what, inc, exc, err);
            has_tokenizer_json |= !strcmp(fn->valuestring, "tokenizer.json");
        }
    }
    for (it = st == NLP_OK && !has_tokenizer_json ? sib->child : NULL; it && st == NLP_OK;
         it = it->next) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(it, "rfilename");
        if (cJSON_IsString(fn) && nlp_hub_match_any(fallback_files, fn->valuestring) &&
            !nlp_hub_match_any(exc, fn->valuestring) &&
            nlp_hub_list_add(&info->files, &info->nfiles, fn->valuestring) != 0)
            st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    cJSON_Delete(doc);
    if (st != NLP_OK)
        nlp_hub_info_free(info);
    return st;
}

/* ------------------------------------------------------------ index */

nlp_status nlp_hub_parse_index(const char *text, size_t len, const char *path, char ***list,
                               size_t *n, nlp_error *err)
{
    cJSON *doc = cJSON_ParseWithLength(text, len);
    cJSON *map = cJSON_GetObjectItemCaseSensitive(doc, "weight_map");
    if (!cJSON_IsObject(map)) {
        cJSON_Delete(doc);
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: no \"weight_map\" object", path);
    }
    nlp_status st = NLP_OK;
    cJSON *it;
    cJSON_ArrayForEach(it, map) {
        if (!cJSON_IsString(it) || !nlp_hub_valid_relpath(it->valuestring)) {
            st = nlp_error_set(err, NLP_ERR_FORMAT, "%s: weight_map entry \"%s\" is not a safe file name",
                               path, it->string ? it->string : "?");
            break;
        }
        if (nlp_hub_list_add(list, n, it->valuestring) != 0) {
            st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
            break;
        }
    }
    cJSON_Delete(doc);
    return st;
}
