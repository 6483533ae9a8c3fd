/*
 * hub.c - model references and the Hugging Face Hub downloader.
 *
 * A reference is a local directory, or a hub id "name" / "org/name" with an
 * optional "@revision".  Files are fetched with libcurl into the cache
 * layout huggingface_hub uses, so either tool finds what the other fetched:
 *
 *   {cache}/models--{org}--{name}/blobs/{etag}            file contents
 *   {cache}/models--{org}--{name}/blobs/{etag}.incomplete  partial download
 *   {cache}/models--{org}--{name}/snapshots/{commit}/{path} -> ../../blobs/{etag}
 *   {cache}/models--{org}--{name}/refs/{revision}          commit hash
 *   {cache}/.locks/models--{org}--{name}/{etag}.lock       writer lock
 *
 * A blob is written to .incomplete, resumed with a Range request after an
 * interruption, checked (size, and SHA-256 for LFS files whose etag is
 * that hash) and only then renamed into place.  The cache listing and
 * removal used by `nlp models` live in hub_cache.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

#include "nlp/bench.h"
#include "nlp/builtin.h"
#include "nlp/hub.h"
#include "hub_impl.h"
#include "sha256.h"
#include "util/util.h"

/* Appended to "cannot reach" errors: what a download needs, and the ways
 * to do without one. */
#define HUB_OFFLINE_HINT \
    " (downloading needs network access; a model already in the cache runs with --offline, a local checkpoint with --model DIR)"

#define HUB_DEFAULT_ENDPOINT "https://huggingface.co"
#define HUB_MAX_ATTEMPTS 5        /* tries per request on transient failures */
#define HUB_BACKOFF_MS 250        /* first retry delay, doubled each time */
#define HUB_MAX_JSON (64u << 20)  /* cap on an API or index answer */


static int is_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* A 40-hex-digit commit hash. */
static int is_commit_hash(const char *s) { return is_hex(s, 40); }

int nlp_hub_valid_repo_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 96)
        return 0;
    int slashes = 0;
    for (const char *p = id; *p; p++) {
        if (*p == '/')
            slashes++;
        else if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return 0;
    }
    if (slashes > 1 || strstr(id, "..") || strstr(id, "--") || id[0] == '/' || id[n - 1] == '/')
        return 0;
    /* no part may start or end with '-' or '.' */
    for (const char *p = id; *p; p++) {
        int start = p == id || p[-1] == '/';
        int end = p[1] == '\0' || p[1] == '/';
        if ((start || end) && (*p == '-' || *p == '.'))
            return 0;
    }
    return 1;
}

int nlp_hub_valid_relpath(const char *path)
{
    if (!path[0] || path[0] == '/' || strlen(path) > 1024)
        return 0;
    const char *seg = path;
    for (const char *p = path;; p++) {
        if (*p == '\\' || (*p && (unsigned char)*p < 0x20) || *p == 0x7f)
            return 0;
        if (*p == '/' || *p == '\0') {
            size_t len = (size_t)(p - seg);
            if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
                return 0;
            if (*p == '\0')
                return 1;
            seg = p + 1;
        }
    }
}

int nlp_hub_valid_etag(const char *e)
{
    if (!e[0] || strlen(e) > 128)
        return 0;
    for (const char *p = e; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return 0;
    return 1;
}

char *nlp_hub_etag_normalize(const char *v)
{
    while (*v == ' ')
        v++;
    if (strncmp(v, "W/", 2) == 0)
        v += 2;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    return strndup(v, n);
}

static int env_true(const char *name)
{
    const char *v = getenv(name);
    return v && (!strcmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
                 !strcasecmp(v, "true"));
}

/* ------------------------------------------------------------ files */

/* Read a small text file (a ref) into a trimmed new string, NULL if absent. */
static char *read_trimmed(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    if (nlp_read_file(path, &data, &len, NULL) != NLP_OK)
        return NULL;
    while (len && isspace((unsigned char)data[len - 1]))
        data[--len] = '\0';
    char *s = data;
    while (isspace((unsigned char)*s))
        s++;
    memmove(data, s, strlen(s) + 1);
    return data;
}

/* ------------------------------------------------------------ settings */

typedef struct hub_ctx {
    char *endpoint;      /* no trailing slash */
    char *cache;         /* hub cache root */
    char *token;         /* bearer token or NULL; never printed */
    int offline;
    long timeout_s;      /* connect / stall timeout */
    const nlp_hub_opts *opts;
    char *id, *rev;      /* parsed reference */
    char *repo_dir;      /* {cache}/models--org--name */
    char *lock_dir;      /* {cache}/.locks/models--org--name */
    CURL *curl;
    struct curl_slist *headers;      /* User-Agent (+ Authorization when a token is set) */
    struct curl_slist *headers_anon; /* User-Agent only: for other hosts (the CDN) */
} hub_ctx;

char *nlp_hub_default_cache(const char *cache_dir)
{
    if (cache_dir && cache_dir[0])
        return strdup(cache_dir);
    const char *v = getenv("HF_HUB_CACHE");
    if (v && v[0])
        return strdup(v);
    v = getenv("HF_HOME");
    if (v && v[0])
        return nlp_path_join(v, "hub");
    v = getenv("XDG_CACHE_HOME");
    if (v && v[0])
        return nlp_strf("%s/huggingface/hub", v);
    v = getenv("HOME");
    return nlp_strf("%s/.cache/huggingface/hub", v && v[0] ? v : ".");
}

/* The token: opts, $HF_TOKEN, else the file huggingface_hub writes. */
static char *load_token(const nlp_hub_opts *o)
{
    if (o && o->token)
        return o->token[0] ? strdup(o->token) : NULL;
    const char *v = getenv("HF_TOKEN");
    if (v && v[0])
        return strdup(v);
    char *path = NULL;
    v = getenv("HF_TOKEN_PATH");
    if (v && v[0])
        path = strdup(v);
    else if ((v = getenv("HF_HOME")) && v[0])
        path = nlp_path_join(v, "token");
    else if ((v = getenv("XDG_CACHE_HOME")) && v[0])
        path = nlp_strf("%s/huggingface/token", v);
    else if ((v = getenv("HOME")) && v[0])
        path = nlp_strf("%s/.cache/huggingface/token", v);
    char *t = path ? read_trimmed(path) : NULL;
    free(path);
    if (t && !t[0]) {
        free(t);
        t = NULL;
    }
    return t;
}

char *nlp_hub_repo_folder(const char *id)
{
    char *f = nlp_strf("models--%s", id);
    if (f)
        for (char *p = f; *p; p++)
            if (*p == '/') {
                /* "org/name" -> "org--name": make room for one more '-' */
                size_t off = (size_t)(p - f);
                char *g = nlp_strf("%.*s--%s", (int)off, f, p + 1);
                free(f);
                return g;
            }
    return f;
}

static void ctx_free(hub_ctx *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    curl_slist_free_all(c->headers_anon);
    if (c->token) {
        memset(c->token, 0, strlen(c->token));
        free(c->token);
    }
    free(c->endpoint);
    free(c->cache);
    free(c->id);
    free(c->rev);
    free(c->repo_dir);
    free(c->lock_dir);
}

/* Parse ref into id and revision, and fill the settings. */
static nlp_status ctx_init(hub_ctx *c, const char *ref, const nlp_hub_opts *o, nlp_error *err)
{
    memset(c, 0, sizeof *c);
    c->opts = o;
    const char *at = strchr(ref, '@');
    c->id = at ? strndup(ref, (size_t)(at - ref)) : strdup(ref);
    c->rev = strdup(at ? at + 1 : "main");
    if (!c->id || !c->rev)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    if (!nlp_hub_valid_repo_id(c->id))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "%s: no such directory, and not a valid hub id (\"name\" or \"org/name\", optionally @revision)",
                             ref);
    if (!nlp_hub_valid_relpath(c->rev) || strchr(c->rev, '@'))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "%s: invalid revision \"%s\"", ref, c->rev);

    const char *ep = o && o->endpoint ? o->endpoint : getenv("HF_ENDPOINT");
    c->endpoint = strdup(ep && ep[0] ? ep : HUB_DEFAULT_ENDPOINT);
    if (c->endpoint) {
        size_t n = strlen(c->endpoint);
        while (n && c->endpoint[n - 1] == '/')
            c->endpoint[--n] = '\0';
    }
    c->cache = nlp_hub_default_cache(o ? o->cache_dir : NULL);
    char *folder = nlp_hub_repo_folder(c->id);
    if (!c->endpoint || !c->cache || !folder) {
        free(folder);
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    c->repo_dir = nlp_path_join(c->cache, folder);
    c->lock_dir = nlp_strf("%s/.locks/%s", c->cache, folder);
    free(folder);
    if (!c->repo_dir || !c->lock_dir)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    c->offline = (o && o->offline) || env_true("HF_HUB_OFFLINE");
    c->token = load_token(o);
    c->timeout_s = 10;
    const char *t = getenv("HF_HUB_DOWNLOAD_TIMEOUT");
    if (t && atol(t) > 0)
        c->timeout_s = atol(t);
    return NLP_OK;
}

/* ------------------------------------------------------------ cache lookup */

/* Commit recorded for c->rev (the revision itself when it is a hash with a
 * snapshot folder), or NULL. */
static char *cached_commit(const hub_ctx *c)
{
    if (is_commit_hash(c->rev)) {
        char *snap = nlp_strf("%s/snapshots/%s", c->repo_dir, c->rev);
        int ok = snap && nlp_dir_exists(snap);
        free(snap);
        if (ok)
            return strdup(c->rev);
    }
    char *ref = nlp_strf("%s/refs/%s", c->repo_dir, c->rev);
    char *commit = ref ? read_trimmed(ref) : NULL;
    free(ref);
    if (commit && !(nlp_hub_valid_relpath(commit) && !strchr(commit, '/'))) {
        free(commit);
        commit = NULL;
    }
    return commit;
}

/* 1 when a snapshot folder holds config.json and safetensors weights
 * (model.safetensors, or an index whose shards are all present). */
static int snapshot_complete(const char *snap)
{
    char *p = nlp_path_join(snap, "config.json");
    int ok = p && nlp_file_exists(p);
    free(p);
    if (!ok)
        return 0;
    p = nlp_path_join(snap, "model.safetensors");
    ok = p && nlp_file_exists(p);
    free(p);
    if (ok)
        return 1;
    p = nlp_path_join(snap, "model.safetensors.index.json");
    char *text = NULL;
    size_t len = 0;
    ok = p && nlp_read_file(p, &text, &len, NULL) == NLP_OK;
    free(p);
    if (!ok)
        return 0;
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cJSON *map = cJSON_GetObjectItemCaseSensitive(doc, "weight_map");
    ok = cJSON_IsObject(map);
    cJSON *it;
    cJSON_ArrayForEach(it, map) {
        if (!ok)
            break;
        if (!cJSON_IsString(it) || !nlp_hub_valid_relpath(it->valuestring)) {
            ok = 0;
            break;
        }
        char *s = nlp_path_join(snap, it->valuestring);
        ok = s && nlp_file_exists(s);
        free(s);
    }
    cJSON_Delete(doc);
    return ok;
}

/* ------------------------------------------------------------ HTTP */

typedef nlp_hub_resp http_resp;

static void resp_reset(http_resp *r)
{
    nlp_hub_resp_reset(r);
}

static size_t on_header(char *buf, size_t size, size_t n, void *user)
{
    size_t len = size * n;
    nlp_hub_header_line(user, buf, len);
    return len;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static nlp_status ctx_connect(hub_ctx *c, nlp_error *err)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return nlp_error_set(err, NLP_ERR_NETWORK, "libcurl initialisation failed: %s",
                             curl_easy_strerror(curl_init_rc));
    c->curl = curl_easy_init();
    if (!c->curl)
        return nlp_error_set(err, NLP_ERR_NOMEM, "libcurl: cannot create a handle");
    c->headers = curl_slist_append(NULL, "User-Agent: nlp/" PACKAGE_VERSION);
    c->headers_anon = curl_slist_append(NULL, "User-Agent: nlp/" PACKAGE_VERSION);
    if (!c->headers || !c->headers_anon)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    if (c->token) {
        char *h = nlp_strf("Authorization: Bearer %s", c->token);
        struct curl_slist *l = h ? curl_slist_append(c->headers, h) : NULL;
        if (h) {
            memset(h, 0, strlen(h));
            free(h);
        }
        if (!l)
            return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        c->headers = l;
    }
    return c->headers ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
}

/* Length of the "scheme://host[:port]" part of url. */
static size_t origin_len(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return 0;
    p += 3;
    while (*p && *p != '/' && *p != '?' && *p != '#')
        p++;
    return (size_t)(p - url);
}

/* 1 when url is on the endpoint's host: only there is the token sent. */
static int same_origin(const hub_ctx *c, const char *url)
{
    size_t n = origin_len(c->endpoint);
    return n && origin_len(url) == n && strncasecmp(url, c->endpoint, n) == 0;
}

/* Set the options every request shares. */
static void curl_common(hub_ctx *c, const char *url, http_resp *r)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    /* libcurl itself drops a custom Authorization header when a redirect
     * leaves the host; for a URL we request directly we decide here */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, same_origin(c, url) ? c->headers : c->headers_anon);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "identity");
    resp_reset(r);
}

/* Transient failures worth another attempt.  A host name that does not
 * resolve is not one: without DNS (or with a mistyped endpoint) every
 * retry fails the same way, so it fails at once. */
static int curl_retryable(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT: case CURLE_OPERATION_TIMEDOUT: case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR: case CURLE_PARTIAL_FILE: case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR: case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: case CURLE_READ_ERROR:
        return 1;
    default:
        return 0;
    }
}

static int http_retryable(long status) { return status >= 500 || status == 429 || status == 408; }

static void backoff(int attempt)
{
    long ms = HUB_BACKOFF_MS << attempt;
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The error for an HTTP status; what names the repo or file. */
static nlp_status http_error(const hub_ctx *c, long status, const char *what, nlp_error *err)
{
    if (status == 401 || status == 403)
        return nlp_error_set(err, NLP_ERR_AUTH,
                             "%s: access denied (HTTP %ld): the repository is gated or private; accept its terms on the hub and set HF_TOKEN (or log in with huggingface_hub) to a token that can read it",
                             what, status);
    if (status == 404)
        return nlp_error_set(err, NLP_ERR_NOT_FOUND, "%s: not found on %s (HTTP 404)", what,
                             c->endpoint);
    return nlp_error_set(err, NLP_ERR_HTTP, "%s: the hub answered HTTP %ld", what, status);
}

typedef struct membuf {
    nlp_buf b;                  /* NUL-terminated after every append */
    int overflow;
} membuf;

static size_t on_mem(char *p, size_t size, size_t n, void *user)
{
    membuf *m = user;
    size_t len = size * n;
    if (m->b.len + len + 1 > HUB_MAX_JSON) {
        m->overflow = 1;
        return 0;
    }
    if (!nlp_buf_add(&m->b, p, len) || !nlp_buf_reserve(&m->b, 1))
        return 0;
    m->b.p[m->b.len] = '\0';
    return len;
}

/* Percent-encode s; keep_slash leaves '/' as it is.  New string. */
static char *url_escape(hub_ctx *c, const char *s, int keep_slash)
{
    size_t cap = strlen(s) * 3 + 1;
    char *out = malloc(cap), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p) || (keep_slash && *p == '/'))
            *o++ = (char)*p;
        else
            o += sprintf(o, "%%%02X", *p);
    }
    *o = '\0';
    (void)c;
    return out;
}

/* GET a JSON document (the model-info API) with retries: *body (free())
 * gets its *len bytes, NUL-terminated. */
static nlp_status http_get_json(hub_ctx *c, const char *url, const char *what, char **body,
                                size_t *len, nlp_error *err)
{
    *body = NULL;
    *len = 0;
    for (int attempt = 0;; attempt++) {
        http_resp r = { 0 };
        membuf b = { 0 };
        curl_common(c, url, &r);
        curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->timeout_s * 3);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_mem);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &b);
        CURLcode rc = curl_easy_perform(c->curl);
        long status = 0;
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        resp_reset(&r);
        if (rc == CURLE_OK && status == 200) {
            if (!b.b.p && !(b.b.p = calloc(1, 1)))
                return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
            *body = b.b.p;
            *len = b.b.len;
            return NLP_OK;
        }
        free(b.b.p);
        if (b.overflow)
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: the hub's answer is larger than %u MiB", what,
                                 HUB_MAX_JSON >> 20);
        int retry = rc != CURLE_OK ? curl_retryable(rc) : http_retryable(status);
        if (retry && attempt + 1 < HUB_MAX_ATTEMPTS) {
            backoff(attempt);
            continue;
        }
        if (rc != CURLE_OK)
            return nlp_error_set(err, NLP_ERR_NETWORK, "%s: cannot reach %s: %s" HUB_OFFLINE_HINT, what,
                                 c->endpoint, curl_easy_strerror(rc));
        return http_error(c, status, what, err);
    }
}

/* File metadata from a HEAD on its resolve URL (not following the CDN
 * redirect, whose answer carries the LFS headers). */
typedef struct file_meta {
    char *etag;        /* normalized blob name */
    long long size;    /* expected bytes */
    char *commit;      /* X-Repo-Commit */
    char *url;         /* where to GET the bytes */
} file_meta;

static void meta_free(file_meta *m)
{
    free(m->etag);
    free(m->commit);
    free(m->url);
    memset(m, 0, sizeof *m);
}

static nlp_status http_head_meta(hub_ctx *c, const char *url0, const char *what, file_meta *m,
                                 nlp_error *err)
{
    memset(m, 0, sizeof *m);
    char *url = strdup(url0);
    if (!url)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    nlp_status st = NLP_OK;
    int hops = 0;
    for (int attempt = 0;;) {
        http_resp r = { 0 };
        curl_common(c, url, &r);
        curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->timeout_s * 3);
        CURLcode rc = curl_easy_perform(c->curl);
        long status = 0;
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || http_retryable(status)) {
            resp_reset(&r);
            int retry = rc != CURLE_OK ? curl_retryable(rc) : 1;
            if (retry && ++attempt < HUB_MAX_ATTEMPTS) {
                backoff(attempt - 1);
                continue;
            }
            st = rc != CURLE_OK ? nlp_error_set(err, NLP_ERR_NETWORK, "%s: cannot reach %s: %s" HUB_OFFLINE_HINT,
                                                what, c->endpoint, curl_easy_strerror(rc))
                                : http_error(c, status, what, err);
            break;
        }
        const char *etag = r.linked_etag ? r.linked_etag : r.etag;
        if (status >= 300 && status < 400 && r.location && !etag && ++hops <= 5) {
            /* a moved repository: follow and ask again */
            char *next = NULL;
            curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &next);
            char *n2 = next ? strdup(next) : NULL;
            resp_reset(&r);
            if (!n2) {
                st = nlp_error_set(err, NLP_ERR_HTTP, "%s: redirect without a usable Location", what);
                break;
            }
            free(url);
            url = n2;
            continue;
        }
        if (status >= 400 || (status >= 300 && !r.location)) {
            resp_reset(&r);
            st = http_error(c, status, what, err);
            break;
        }
        if (!etag) {
            resp_reset(&r);
            st = nlp_error_set(err, NLP_ERR_HTTP, "%s: the hub sent no ETag; cannot cache the file", what);
            break;
        }
        m->etag = nlp_hub_etag_normalize(etag);
        m->size = r.linked_size >= 0 ? r.linked_size : r.content_length;
        m->commit = r.commit ? strdup(r.commit) : NULL;
        if (status >= 300) {
            char *next = NULL;
            curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &next);
            m->url = next ? strdup(next) : NULL;
        } else {
            m->url = strdup(url);
        }
        resp_reset(&r);
        if (!m->etag || !m->url) {
            st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
            break;
        }
        if (!nlp_hub_valid_etag(m->etag)) {
            st = nlp_error_set(err, NLP_ERR_FORMAT, "%s: the hub sent an unusable ETag", what);
            break;
        }
        if (m->size < 0) {
            st = nlp_error_set(err, NLP_ERR_HTTP, "%s: the hub sent no file size", what);
            break;
        }
        break;
    }
    free(url);
    if (st != NLP_OK)
        meta_free(m);
    return st;
}

/* ------------------------------------------------------------ blob download */

typedef struct dl_state {
    hub_ctx *c;
    const char *file;     /* repo path, for progress */
    int fd;
    long long offset;     /* bytes on disk before this request */
    long long written;    /* bytes written by this request */
    long long total;
    int started;          /* first body byte seen */
    int write_errno;      /* errno of a failed write */
    int bad_status;       /* non-2xx answer: body discarded */
    long long seen;       /* bytes at the last change */
    double seen_at;       /* monotonic seconds of the last change */
    int stalled;          /* aborted: no data for timeout_s */
    int range_mismatch;   /* a 206 answer starting elsewhere than asked */
    const http_resp *resp;
} dl_state;

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    dl_state *d = user;
    size_t len = size * n;
    if (!d->started) {
        d->started = 1;
        long status = 0;
        curl_easy_getinfo(d->c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200 && d->offset > 0) {
            /* the server ignored the Range: start the file over */
            if (ftruncate(d->fd, 0) != 0) {
                d->write_errno = errno;
                return 0;
            }
            d->offset = 0;
        } else if (status == 206 && d->resp->range_start != d->offset) {
            d->range_mismatch = 1;
            return 0;
        } else if (status != 200 && status != 206) {
            d->bad_status = 1;
        }
    }
    if (d->bad_status)
        return len;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(d->fd, p + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            d->write_errno = errno;
            return 0;
        }
        done += (size_t)w;
    }
    d->written += (long long)len;
    return len;
}

static int on_xfer(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                   curl_off_t ulnow)
{
    (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
    dl_state *d = user;
    /* a body that stops flowing is a timeout (libcurl's low-speed check
     * averages over several seconds and reacts late) */
    double t = nlp_clock_now();
    if (d->written != d->seen) {
        d->seen = d->written;
        d->seen_at = t;
    } else if (t - d->seen_at > (double)d->c->timeout_s) {
        d->stalled = 1;
        return 1;
    }
    const nlp_hub_opts *o = d->c->opts;
    if (o && o->progress && !d->bad_status) {
        long long done = d->offset + d->written;
        if (done < d->total)
            o->progress(o->progress_user, d->file, (uint64_t)done, (uint64_t)d->total);
    }
    return 0;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
}

/* Download m into blob (via blob.incomplete), resuming and verifying. */
static nlp_status download_blob(hub_ctx *c, const file_meta *m, const char *file,
                                const char *blob, nlp_error *err)
{
    char *part = nlp_strf("%s.incomplete", blob);
    if (!part)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    int lfs = is_hex(m->etag, 64);
    int checksum_failures = 0;
    nlp_status st = NLP_OK;
    for (int attempt = 0;;) {
        int fd = open(part, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
            st = nlp_error_set(err, errno == ENOSPC ? NLP_ERR_NOSPACE : NLP_ERR_IO, "%s: %s", part,
                               strerror(errno));
            break;
        }
        struct stat sb;
        long long have = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? (long long)sb.st_size : 0;
        if (have > m->size) {
            if (ftruncate(fd, 0) != 0)
                have = -1;
            else
                have = 0;
        }
        CURLcode rc = CURLE_OK;
        long status = have == m->size ? 206 : 0;
        http_resp r = { 0 };
        dl_state d = { c, file, fd, have, 0, m->size, 0, 0, 0, 0, nlp_clock_now(), 0, 0, &r };
        if (have >= 0 && have < m->size) {
            curl_common(c, m->url, &r);
            curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
            curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 5L);
            curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
            curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &d);
            curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_xfer);
            curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, &d);
            char range[64];
            if (have > 0) {
                snprintf(range, sizeof range, "%lld-", have);
                curl_easy_setopt(c->curl, CURLOPT_RANGE, range);
            }
            rc = curl_easy_perform(c->curl);
            curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
            resp_reset(&r);
            if (rc == CURLE_ABORTED_BY_CALLBACK && d.stalled)
                rc = CURLE_OPERATION_TIMEDOUT;
        }
        int sync_failed = d.write_errno == 0 && fsync(fd) != 0 && errno != EINVAL;
        if (sync_failed)
            d.write_errno = errno;
        close(fd);
        if (d.write_errno || have < 0) {
            int e = d.write_errno ? d.write_errno : errno;
            st = (e == ENOSPC || e == EDQUOT)
                     ? nlp_error_set(err, NLP_ERR_NOSPACE,
                                     "%s: disk full while writing %s; free some space and run again to resume",
                                     file, part)
                     : nlp_error_set(err, NLP_ERR_IO, "%s: cannot write %s: %s", file, part, strerror(e));
            break;
        }
        if (d.range_mismatch) {
            /* cannot append safely: start the file over */
            unlink(part);
            if (++attempt < HUB_MAX_ATTEMPTS)
                continue;
            st = nlp_error_set(err, NLP_ERR_HTTP, "%s: the server keeps answering a different byte range", file);
            break;
        }
        if (status == 416) {
            /* the partial file does not fit the server's: start over */
            unlink(part);
            if (++attempt < HUB_MAX_ATTEMPTS)
                continue;
        }
        if (rc != CURLE_OK || http_retryable(status)) {
            int retry = rc != CURLE_OK ? curl_retryable(rc) : 1;
            if (retry && ++attempt < HUB_MAX_ATTEMPTS) {
                backoff(attempt - 1);
                continue;
            }
            if (rc == CURLE_OK)
                st = http_error(c, status, file, err);
            else if (retry)
                st = nlp_error_set(err, NLP_ERR_NETWORK,
                                   "%s: download failed after %d attempts: %s (the partial file is kept and resumed next time)",
                                   file, attempt, curl_easy_strerror(rc));
            else
                st = nlp_error_set(err, NLP_ERR_NETWORK, "%s: download failed: %s", file,
                                   curl_easy_strerror(rc));
            break;
        }
        if (status != 200 && status != 206) {
            st = http_error(c, status, file, err);
            break;
        }
        long long got = file_size(part);
        if (got < m->size) {
            /* the body ended early: resume */
            if (++attempt < HUB_MAX_ATTEMPTS) {
                backoff(attempt - 1);
                continue;
            }
            st = nlp_error_set(err, NLP_ERR_NETWORK, "%s: connection kept ending early (%lld of %lld bytes)",
                               file, got, m->size);
            break;
        }
        char hex[65] = "";
        if (got != m->size ||
            (lfs && (st = nlp_sha256_file(part, hex, err)) == NLP_OK && strcasecmp(hex, m->etag) != 0)) {
            unlink(part);
            if (++checksum_failures < 2)
                continue; /* corrupt bytes: one fresh try */
            st = got != m->size
                     ? nlp_error_set(err, NLP_ERR_CHECKSUM, "%s: got %lld bytes, expected %lld; the download was discarded",
                                     file, got, m->size)
                     : nlp_error_set(err, NLP_ERR_CHECKSUM,
                                     "%s: SHA-256 mismatch (expected %s, got %s); the download was discarded",
                                     file, m->etag, hex);
            break;
        }
        if (st != NLP_OK)
            break;
        if (rename(part, blob) != 0) {
            st = nlp_error_set(err, NLP_ERR_IO, "%s: cannot rename to %s: %s", part, blob, strerror(errno));
            break;
        }
        if (c->opts && c->opts->progress)
            c->opts->progress(c->opts->progress_user, file, (uint64_t)m->size, (uint64_t)m->size);
        break;
    }
    free(part);
    return st;
}

/* snapshots/{commit}/{file} -> ../../blobs/{etag}, replaced atomically. */
static nlp_status link_pointer(hub_ctx *c, const char *commit, const char *file, const char *etag,
                               nlp_error *err)
{
    char *ptr = nlp_strf("%s/snapshots/%s/%s", c->repo_dir, commit, file);
    if (!ptr)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    int depth = 1;
    for (const char *p = file; *p; p++)
        depth += *p == '/';
    size_t cap = (size_t)depth * 3 + strlen(etag) + 16;
    char *target = malloc(cap);
    char *tmp = nlp_tmp_name(ptr);
    nlp_status st = NLP_OK;
    if (!target || !tmp) {
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        goto out;
    }
    target[0] = '\0';
    for (int i = 0; i <= depth; i++)
        strcat(target, "../");
    strcat(target, "blobs/");
    strcat(target, etag);
    char *slash = strrchr(ptr, '/');
    *slash = '\0';
    int mk = nlp_mkdirs(ptr);
    *slash = '/';
    if (mk != 0) {
        st = nlp_error_set(err, NLP_ERR_IO, "%s: cannot create its folder: %s", ptr, strerror(errno));
        goto out;
    }
    unlink(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, ptr) != 0) {
        int e = errno;
        unlink(tmp);
        st = nlp_error_set(err, e == ENOSPC ? NLP_ERR_NOSPACE : NLP_ERR_IO, "%s: cannot link to %s: %s",
                           ptr, target, strerror(e));
    }
out:
    free(ptr);
    free(target);
    free(tmp);
    return st;
}

/* Fetch one repo file of commit into the cache and link it. */
static nlp_status fetch_file(hub_ctx *c, const char *commit, const char *file, nlp_error *err)
{
    char *erev = url_escape(c, commit, 0), *efile = url_escape(c, file, 1);
    char *url = erev && efile ? nlp_strf("%s/%s/resolve/%s/%s", c->endpoint, c->id, erev, efile) : NULL;
    char *what = nlp_strf("%s/%s@%s", c->id, file, c->rev);
    free(erev);
    free(efile);
    if (!url || !what) {
        free(url);
        free(what);
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    file_meta m;
    memset(&m, 0, sizeof m);
    nlp_status st = NLP_OK;
    char *ptr = nlp_strf("%s/snapshots/%s/%s", c->repo_dir, commit, file);
    struct stat sb;
    if (ptr && stat(ptr, &sb) == 0 && S_ISREG(sb.st_mode)) {
        /* a commit's files never change: already there */
        free(ptr);
        free(url);
        free(what);
        if (c->opts && c->opts->progress)
            c->opts->progress(c->opts->progress_user, file, (uint64_t)sb.st_size, (uint64_t)sb.st_size);
        return NLP_OK;
    }
    free(ptr);
    st = http_head_meta(c, url, what, &m, err);
    free(url);
    char *blob = NULL, *lock = NULL;
    int lfd = -1;
    if (st != NLP_OK)
        goto out;
    blob = nlp_strf("%s/blobs/%s", c->repo_dir, m.etag);
    lock = nlp_strf("%s/%s.lock", c->lock_dir, m.etag);
    if (!blob || !lock) {
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (file_size(blob) != m.size) {
        if (nlp_mkdirs(c->lock_dir) != 0) {
            st = nlp_error_set(err, NLP_ERR_IO, "%s: %s", c->lock_dir, strerror(errno));
            goto out;
        }
        lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lfd < 0 || flock(lfd, LOCK_EX) != 0) {
            st = nlp_error_set(err, NLP_ERR_IO, "%s: cannot lock: %s", lock, strerror(errno));
            goto out;
        }
        /* another process may have finished it while we waited */
        if (file_size(blob) != m.size) {
            char *blobs = nlp_path_join(c->repo_dir, "blobs");
            int mk = blobs ? nlp_mkdirs(blobs) : -1;
            if (mk != 0)
                st = nlp_error_set(err, NLP_ERR_IO, "%s: %s", blobs ? blobs : c->repo_dir, strerror(errno));
            free(blobs);
            if (st == NLP_OK)
                st = download_blob(c, &m, file, blob, err);
            if (st != NLP_OK)
                goto out;
        }
    } else if (c->opts && c->opts->progress) {
        c->opts->progress(c->opts->progress_user, file, (uint64_t)m.size, (uint64_t)m.size);
    }
    st = link_pointer(c, commit, file, m.etag, err);
out:
    if (lfd >= 0)
        close(lfd); /* releases the lock; the lock file stays, as huggingface_hub leaves it */
    free(blob);
    free(lock);
    free(what);
    meta_free(&m);
    return st;
}

/* ------------------------------------------------------------ file selection */

/* Shards named by a downloaded index (weight_map values). */
static nlp_status index_shards(const char *path, char ***list, size_t *n, nlp_error *err)
{
    char *text = NULL;
    size_t len = 0;
    nlp_status st = nlp_read_file(path, &text, &len, err);
    if (st != NLP_OK)
        return st;
    st = nlp_hub_parse_index(text, len, path, list, n, err);
    free(text);
    return st;
}

/* ------------------------------------------------------------ resolution */

static nlp_status snapshot_path(hub_ctx *c, const char *commit, char **dir, nlp_error *err)
{
    *dir = nlp_strf("%s/snapshots/%s", c->repo_dir, commit);
    return *dir ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
}

/* Ask the hub and fetch what the cache lacks. */
static nlp_status hub_fetch(hub_ctx *c, char **dir, nlp_error *err)
{
    nlp_status st = ctx_connect(c, err);
    if (st != NLP_OK)
        return st;
    char *erev = url_escape(c, c->rev, 0);
    char *url = erev ? nlp_strf("%s/api/models/%s/revision/%s", c->endpoint, c->id, erev) : NULL;
    char *what = nlp_strf("%s@%s", c->id, c->rev);
    free(erev);
    char **files = NULL, **shards = NULL;
    size_t nfiles = 0, nshards = 0;
    char *body = NULL;
    size_t body_len = 0;
    nlp_hub_info info = { 0 };
    char *commit = NULL;
    if (!url || !what) {
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = http_get_json(c, url, what, &body, &body_len, err)) != NLP_OK) {
        if (st == NLP_ERR_NOT_FOUND)
            nlp_error_set(err, st,
                          "%s: no such local directory, and %s has no such repository or revision (HTTP 404)",
                          what, c->endpoint);
        goto out;
    }
    const nlp_hub_opts *o = c->opts;
    const char *const *inc = o ? o->include : NULL, *const *exc = o ? o->exclude : NULL;
    if ((st = nlp_hub_parse_model_info(body, body_len, what, inc, exc, &info, err)) != NLP_OK)
        goto out;
    commit = info.commit;
    files = info.files;
    nfiles = info.nfiles;
    int has_st = info.has_st, has_index = info.has_index;
    const char *others = info.others;
    const char *weights = has_st ? "model.safetensors" : has_index ? "model.safetensors.index.json" : NULL;
    if (!weights && !nlp_hub_match_any(exc, "model.safetensors")) {
        st = nlp_error_set(err, NLP_ERR_UNSUPPORTED,
                           "%s: the repository has no safetensors weights (model.safetensors)%s%s; only safetensors checkpoints can be loaded",
                           what, others[0] ? "; it has " : "", others);
        goto out;
    }
    if (weights && !nlp_hub_match_any(exc, weights) && nlp_hub_list_add(&files, &nfiles, weights) != 0) {
        st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nfiles; i++)
        if ((st = fetch_file(c, commit, files[i], err)) != NLP_OK)
            goto out;
    if (weights && !has_st && !nlp_hub_match_any(exc, weights)) {
        char *idx = nlp_strf("%s/snapshots/%s/%s", c->repo_dir, commit, weights);
        st = idx ? index_shards(idx, &shards, &nshards, err) : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
        free(idx);
        for (size_t i = 0; st == NLP_OK && i < nshards; i++)
            if (!nlp_hub_match_any(exc, shards[i]))
                st = fetch_file(c, commit, shards[i], err);
        if (st != NLP_OK)
            goto out;
    }
    if (strcmp(c->rev, commit) != 0) {
        char *ref = nlp_strf("%s/refs/%s", c->repo_dir, c->rev);
        char *slash = ref ? strrchr(ref, '/') : NULL;
        if (!ref) {
            st = nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
            goto out;
        }
        *slash = '\0';
        int mk = nlp_mkdirs(ref);
        *slash = '/';
        st = mk == 0 ? nlp_write_atomic(ref, commit, err)
                     : nlp_error_set(err, NLP_ERR_IO, "%s: cannot create its folder: %s", ref, strerror(errno));
        free(ref);
        if (st != NLP_OK)
            goto out;
    }
    /* a repo whose listed files were all excluded still gets its folder */
    char *snap = NULL;
    if ((st = snapshot_path(c, commit, &snap, err)) != NLP_OK)
        goto out;
    if (nlp_mkdirs(snap) != 0) {
        st = nlp_error_set(err, NLP_ERR_IO, "%s: %s", snap, strerror(errno));
        free(snap);
        goto out;
    }
    *dir = snap;
out:
    free(body);
    info.files = files;
    info.nfiles = nfiles;
    nlp_hub_info_free(&info);
    nlp_hub_list_free(shards, nshards);
    free(url);
    free(what);
    return st;
}

/* A reference naming a built-in model (nlp/builtin.h): its folder, with no
 * network or cache access.  Returns 1 when ref is such a name (*st is then
 * the outcome: found, or a model nlp ships that is missing), 0 when ref is
 * for the hub. */
static int builtin_ref(const char *ref, char **dir, nlp_status *st, nlp_error *err)
{
    if (strchr(ref, '/') || strchr(ref, '@'))
        return 0;
    nlp_error e = {0};
    *st = nlp_builtin_find(ref, dir, &e);
    if (*st == NLP_ERR_NOT_FOUND && !nlp_builtin_reserved(ref))
        return 0;
    if (*st != NLP_OK && err)
        *err = e;
    return 1;
}

/* always_ask: 1 for download (ask the hub even when the cache has it). */
static nlp_status hub_get(const char *ref, const nlp_hub_opts *opts, int always_ask, char **dir,
                          nlp_error *err)
{
    if (!dir)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "nlp_hub_resolve: dir is NULL");
    *dir = NULL;
    if (!ref || !ref[0])
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "empty model reference");
    if (nlp_dir_exists(ref)) {
        *dir = strdup(ref);
        return *dir ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    }
    nlp_status bst;
    if (!always_ask && builtin_ref(ref, dir, &bst, err))
        return bst;
    hub_ctx c;
    nlp_status st = ctx_init(&c, ref, opts, err);
    if (st == NLP_OK && (!always_ask || c.offline)) {
        char *commit = cached_commit(&c);
        char *snap = NULL;
        int partial = 0;
        if (commit && (st = snapshot_path(&c, commit, &snap, err)) == NLP_OK) {
            int usable = always_ask ? nlp_dir_exists(snap) : snapshot_complete(snap);
            if (usable) {
                *dir = snap;
                snap = NULL;
            } else {
                partial = nlp_dir_exists(snap);
            }
        }
        if (st == NLP_OK && partial && c.offline)
            st = nlp_error_set(err, NLP_ERR_OFFLINE,
                               "%s: the cached snapshot lacks config.json or the safetensors weights, and offline mode is on (HF_HUB_OFFLINE or --offline); complete it with 'nlp download %s' while online",
                               snap, ref);
        free(snap);
        free(commit);
        if (st == NLP_OK && !*dir && c.offline)
            st = nlp_error_set(err, NLP_ERR_OFFLINE,
                               "%s@%s is not in the cache %s and offline mode is on (HF_HUB_OFFLINE or --offline); fetch it first with 'nlp download %s' while online",
                               c.id, c.rev, c.cache, ref);
    }
    if (st == NLP_OK && !*dir)
        st = hub_fetch(&c, dir, err);
    ctx_free(&c);
    return st;
}

nlp_status nlp_hub_resolve(const char *ref, const nlp_hub_opts *opts, char **dir, nlp_error *err)
{
    return hub_get(ref, opts, 0, dir, err);
}

nlp_status nlp_hub_download(const char *ref, const nlp_hub_opts *opts, char **dir, nlp_error *err)
{
    return hub_get(ref, opts, 1, dir, err);
}

nlp_status nlp_hub_cache_dir(const nlp_hub_opts *opts, char **dir, nlp_error *err)
{
    *dir = nlp_hub_default_cache(opts ? opts->cache_dir : NULL);
    return *dir ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
}
