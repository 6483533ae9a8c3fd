/*
 * fuzz_hub.c - fuzz harness: what the hub sends and the names built from
 * it (core/hub/hub_impl.h): response header lines (handed over without a
 * terminating NUL, as libcurl does), the model-info answer, a
 * safetensors index's weight map, ETags, commit hashes, repo ids and file
 * names.  Whatever is accepted must stay inside the cache: every accepted
 * file name, joined to a snapshot folder, is checked to resolve below it.
 *
 * Input: byte 0 picks the parser ('h' headers, 'i' model info, 'x' index,
 * anything else names), the rest is its input.
 */
#include <stdlib.h>
#include <string.h>

#include "hub/hub_impl.h"
#include "fuzz_util.h"

/* 1 if the relative path p stays below its base when resolved lexically
 * (no component may climb above the start). */
static int stays_inside(const char *p)
{
    if (p[0] == '/')
        return 0;
    long depth = 0;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.')
            depth--;
        else if (!(n == 1 && s[0] == '.') && n > 0)
            depth++;
        if (depth < 0)
            return 0;
        s += n + (e != NULL);
    }
    return depth > 0;
}

static void check_name(const char *name)
{
    if (!stays_inside(name) || strchr(name, '\\'))
        abort();
}

/* Copy data into an exact-size buffer without a NUL, split at line ends,
 * and feed each line to the header parser. */
static void fuzz_headers(const uint8_t *data, size_t size)
{
    nlp_hub_resp r;
    memset(&r, 0, sizeof r);
    nlp_hub_resp_reset(&r);
    size_t at = 0;
    while (at < size) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t n = nl ? (size_t)(nl - (data + at)) + 1 : size - at;
        char *line = malloc(n ? n : 1);
        if (!line)
            abort();
        memcpy(line, data + at, n);
        nlp_hub_header_line(&r, line, n);
        free(line);
        at += n;
    }
    char *e = r.etag ? nlp_hub_etag_normalize(r.etag) : NULL;
    if (e && nlp_hub_valid_etag(e))
        check_name(e);
    free(e);
    nlp_hub_resp_reset(&r);
}

static void fuzz_info(const uint8_t *data, size_t size)
{
    static const char *const inc[] = { "*.txt", "onnx/*", NULL };
    static const char *const exc[] = { "*.bin", NULL };
    nlp_hub_info info;
    nlp_error err;
    if (nlp_hub_parse_model_info((const char *)data, size, "fuzz", inc, exc, &info, &err) != NLP_OK)
        return;
    check_name(info.commit);
    if (strchr(info.commit, '/'))
        abort();
    for (size_t i = 0; i < info.nfiles; i++)
        check_name(info.files[i]);
    nlp_hub_info_free(&info);
}

static void fuzz_index(const uint8_t *data, size_t size)
{
    char **list = NULL;
    size_t n = 0;
    nlp_error err;
    if (nlp_hub_parse_index((const char *)data, size, "fuzz", &list, &n, &err) == NLP_OK)
        for (size_t i = 0; i < n; i++)
            check_name(list[i]);
    nlp_hub_list_free(list, n);
}

static void fuzz_names(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    if (nlp_hub_valid_relpath(s))
        check_name(s);
    if (nlp_hub_valid_repo_id(s)) {
        char *folder = nlp_hub_repo_folder(s);
        if (!folder || strchr(folder, '/') || !stays_inside(folder))
            abort();
        free(folder);
    }
    if (nlp_hub_valid_etag(s) && (strchr(s, '/') || !stays_inside(s)))
        abort();
    char *e = nlp_hub_etag_normalize(s);
    free(e);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0]) {
    case 'h': fuzz_headers(data + 1, size - 1); break;
    case 'i': fuzz_info(data + 1, size - 1); break;
    case 'x': fuzz_index(data + 1, size - 1); break;
    default: fuzz_names(data + 1, size - 1); break;
    }
    return 0;
}
