/*
 * check_hub.c - the Hugging Face Hub downloader (core/hub/hub.c, hub_cache.c,
 * sha256.c) against tests/hub_double.py, a local stand-in for the hub on
 * 127.0.0.1 that counts requests and injects faults on demand.
 *
 * The served repos are written by this program into a temporary folder;
 * the truth for every downloaded file is the served file's bytes, and LFS
 * etags (SHA-256) come from the double (Python's hashlib).  SHA-256 digests
 * come from data/expected/sha256.tsv (tests/gen/gen_sha256.py).
 * After every fault the cache holds either a complete, verified snapshot
 * or nothing for the failed file: never a corrupt file under snapshots/.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nlp/hub.h"
#include "progress.h"
#include "hub/sha256.h"
#include "util/util.h"

#ifndef NLP_PYTHON3
#define NLP_PYTHON3 "python3"
#endif
#define DOUBLE_SCRIPT NLP_TEST_DATA "/../tests/hub_double.py"

static char g_tmp[256];       /* everything this run writes */
static char g_srv[300];       /* served repos */
static char g_endpoint[64];   /* http://127.0.0.1:PORT */
static pid_t g_double = -1;

/* ------------------------------------------------------------ helpers */

static void write_bytes(const char *path, const void *data, size_t len)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "check_hub: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static void write_text(const char *path, const char *text) { write_bytes(path, text, strlen(text)); }

/* Deterministic pseudo-random bytes. */
static void write_random(const char *path, size_t n, unsigned seed)
{
    unsigned char *b = malloc(n);
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (unsigned char)(x >> 16);
    }
    write_bytes(path, b, n);
    free(b);
}

static void srv_file(const char *repo, const char *file, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s/%s", g_srv, repo, file);
    write_text(p, text);
}

static void srv_random(const char *repo, const char *file, size_t n, unsigned seed)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s/%s", g_srv, repo, file);
    write_random(p, n, seed);
}

#define MODEL_BYTES 400000

static void make_repos(void)
{
    const char *cfg = "{\"model_type\": \"bert\", \"hidden_size\": 8}\n";
    srv_file("acme/tiny-bert", "config.json", cfg);
    srv_file("acme/tiny-bert", "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
    srv_file("acme/tiny-bert", "tokenizer_config.json", "{\"do_lower_case\": true}\n");
    srv_file("acme/tiny-bert", "special_tokens_map.json", "{\"unk_token\": \"[UNK]\"}\n");
    srv_file("acme/tiny-bert", "README.md", "# tiny\n");
    srv_random("acme/tiny-bert", "model.safetensors", MODEL_BYTES, 1);
    srv_random("acme/tiny-bert", "pytorch_model.bin", 5000, 2);
    srv_random("acme/tiny-bert", "onnx/model.onnx", 3000, 3);

    /* a sentence-transformers repository */
    srv_file("acme/minilm", "config.json", cfg);
    srv_file("acme/minilm", "vocab.txt", "[UNK]\n");
    srv_file("acme/minilm", "modules.json", "[]\n");
    srv_file("acme/minilm", "sentence_bert_config.json", "{\"max_seq_length\": 256}\n");
    srv_file("acme/minilm", "1_Pooling/config.json", "{\"pooling_mode_mean_tokens\": true}\n");
    srv_file("acme/minilm", "2_Dense/config.json", "{}\n");
    srv_random("acme/minilm", "model.safetensors", 1000, 5);

    srv_file("solo", "config.json", cfg);
    srv_file("solo", "tokenizer.json", "{\"model\": {}}\n");
    srv_random("solo", "model.safetensors", 20000, 4);

    srv_file("acme/sharded", "config.json", cfg);
    srv_file("acme/sharded", "vocab.txt", "[UNK]\n");
    srv_file("acme/sharded", "model.safetensors.index.json",
             "{\"metadata\": {}, \"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\","
             " \"b\": \"model-00002-of-00002.safetensors\", \"c\": \"model-00001-of-00002.safetensors\"}}\n");
    srv_random("acme/sharded", "model-00001-of-00002.safetensors", 30000, 5);
    srv_random("acme/sharded", "model-00002-of-00002.safetensors", 20000, 6);

    /* tokenizers without tokenizer.json: vocab.json + merges.txt, and a
     * SentencePiece model; with tokenizer.json they are not needed */
    srv_file("acme/bpe-files", "config.json", cfg);
    srv_file("acme/bpe-files", "vocab.json", "{\"a\": 0}\n");
    srv_file("acme/bpe-files", "merges.txt", "#version: 0.2\n");
    srv_random("acme/bpe-files", "model.safetensors", 1000, 9);
    srv_file("acme/spm", "config.json", cfg);
    srv_random("acme/spm", "spm.model", 2000, 10);
    srv_random("acme/spm", "model.safetensors", 1000, 11);
    srv_file("acme/both", "config.json", cfg);
    srv_file("acme/both", "tokenizer.json", "{\"model\": {}}\n");
    srv_file("acme/both", "vocab.json", "{\"a\": 0}\n");
    srv_file("acme/both", "merges.txt", "#version: 0.2\n");
    srv_random("acme/both", "sentencepiece.bpe.model", 2000, 12);
    srv_random("acme/both", "model.safetensors", 1000, 13);

    srv_file("acme/torch-only", "config.json", cfg);
    srv_random("acme/torch-only", "pytorch_model.bin", 3000, 7);

    srv_file("acme/gated", "config.json", cfg);
    srv_random("acme/gated", "model.safetensors", 10000, 8);
    srv_file("acme/gated", ".token", "hf_secret_for_tests\n");

    srv_file("acme/old-name", ".moved", "solo");

    srv_file("acme/evil", "config.json", cfg);
    srv_random("acme/evil", "model.safetensors", 1000, 9);
    srv_file("acme/evil", ".siblings.json", "[\"config.json\", \"model.safetensors\", \"../../escape.txt\"]");

    srv_file("acme/evil-index", "config.json", cfg);
    srv_file("acme/evil-index", "model.safetensors.index.json",
             "{\"weight_map\": {\"a\": \"../../../escape.safetensors\"}}\n");
}

static void start_double(void)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(1);
    }
    g_double = fork();
    if (g_double == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp(NLP_PYTHON3, NLP_PYTHON3, DOUBLE_SCRIPT, "--root", g_srv, "--cdn-host", "localhost",
               (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[32] = "";
    FILE *f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof line, f) || atoi(line) <= 0) {
        fprintf(stderr, "check_hub: the hub double did not start (%s %s)\n", NLP_PYTHON3, DOUBLE_SCRIPT);
        exit(1);
    }
    fclose(f);
    snprintf(g_endpoint, sizeof g_endpoint, "http://127.0.0.1:%d", atoi(line));
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)ftw;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}

typedef struct membuf { char *d; size_t n; } membuf;

static size_t mem_cb(char *p, size_t s, size_t n, void *u)
{
    membuf *b = u;
    b->d = realloc(b->d, b->n + s * n + 1);
    memcpy(b->d + b->n, p, s * n);
    b->n += s * n;
    b->d[b->n] = '\0';
    return s * n;
}

/* Request to the double; returns the body (free()). head: HEAD request
 * whose headers are returned instead. */
static char *http(const char *method, const char *path, const char *body)
{
    CURL *h = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "%s%s", g_endpoint, path);
    membuf b = { NULL, 0 };
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, mem_cb);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &b);
    }
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mem_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    ck_assert_int_eq(curl_easy_perform(h), CURLE_OK);
    curl_easy_cleanup(h);
    return b.d ? b.d : strdup("");
}

static void fault(const char *json) { free(http("POST", "/_fault", json)); }

/* Requests the double saw (since the last reset) whose method matches (NULL:
 * any) and whose path contains sub. */
static int count_requests(const char *method, const char *sub)
{
    char *s = http("GET", "/_stats", NULL);
    cJSON *doc = cJSON_Parse(s);
    free(s);
    int n = 0;
    cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "requests")) {
        const char *m = cJSON_GetArrayItem(r, 0)->valuestring;
        const char *p = cJSON_GetArrayItem(r, 1)->valuestring;
        if ((!method || !strcmp(m, method)) && strstr(p, sub))
            n++;
    }
    cJSON_Delete(doc);
    return n;
}

/* A GET of path carrying a Range header starting above 0. */
static int saw_resume(const char *sub)
{
    char *s = http("GET", "/_stats", NULL);
    cJSON *doc = cJSON_Parse(s);
    free(s);
    int found = 0;
    cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "requests")) {
        const char *p = cJSON_GetArrayItem(r, 1)->valuestring;
        const char *rg = cJSON_GetArrayItem(r, 2)->valuestring;
        if (strstr(p, sub) && !strncmp(rg, "bytes=", 6) && atol(rg + 6) > 0)
            found = 1;
    }
    cJSON_Delete(doc);
    return found;
}

/* Requests whose path contains sub, counted by whether they carried an
 * Authorization header. */
static int count_auth(const char *sub, int with_auth)
{
    char *s = http("GET", "/_stats", NULL);
    cJSON *doc = cJSON_Parse(s);
    free(s);
    int n = 0;
    cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "requests")) {
        const char *p = cJSON_GetArrayItem(r, 1)->valuestring;
        if (strstr(p, sub) && cJSON_IsTrue(cJSON_GetArrayItem(r, 3)) == with_auth)
            n++;
    }
    cJSON_Delete(doc);
    return n;
}

/* The value of a response header of a HEAD on the resolve URL. */
static char *head_header(const char *repo, const char *file, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "/%s/resolve/main/%s", repo, file);
    char *h = http("HEAD", path, NULL);
    char *out = NULL;
    for (char *line = strtok(h, "\r\n"); line; line = strtok(NULL, "\r\n"))
        if (!strncasecmp(line, name, strlen(name)) && line[strlen(name)] == ':') {
            char *v = line + strlen(name) + 1;
            while (*v == ' ')
                v++;
            free(out);
            out = malloc(strlen(v) + 1);
            char *o = out;
            for (; *v; v++)
                if (*v != '"')
                    *o++ = *v;
            *o = '\0';
        }
    free(h);
    return out;
}

static char *repo_commit(const char *repo)
{
    char path[512];
    snprintf(path, sizeof path, "/api/models/%s/revision/main", repo);
    char *s = http("GET", path, NULL);
    cJSON *doc = cJSON_Parse(s);
    free(s);
    char *sha = strdup(cJSON_GetObjectItem(doc, "sha")->valuestring);
    cJSON_Delete(doc);
    return sha;
}

/* Per-test state: a fresh cache and options pointing at the double. */
static char t_cache[512];
static nlp_hub_opts t_opts;
static int t_progress_calls, t_progress_final;
static uint64_t t_progress_last;

static void on_progress(void *user, const char *file, uint64_t done, uint64_t total)
{
    (void)user; (void)file;
    ck_assert_uint_le(done, total);
    t_progress_calls++;
    t_progress_last = done;
    if (done == total)
        t_progress_final++;
}

static void setup(void)
{
    free(http("POST", "/_reset", NULL));
    snprintf(t_cache, sizeof t_cache, "%s/cacheXXXXXX", g_tmp);
    ck_assert_ptr_nonnull(mkdtemp(t_cache));
    memset(&t_opts, 0, sizeof t_opts);
    t_opts.endpoint = g_endpoint;
    t_opts.cache_dir = t_cache;
    t_opts.progress = on_progress;
    t_progress_calls = t_progress_final = 0;
    setenv("HF_HUB_DOWNLOAD_TIMEOUT", "3", 1);
}

static int files_equal(const char *a, const char *b)
{
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    int eq = nlp_read_file(a, &x, &nx, NULL) == NLP_OK && nlp_read_file(b, &y, &ny, NULL) == NLP_OK &&
             nx == ny && memcmp(x, y, nx) == 0;
    free(x);
    free(y);
    return eq;
}

/* Every entry under snapshots/ of repo is a relative symlink into blobs/
 * whose bytes equal the served file: never a corrupt or partial file. */
static int check_snapshots(const char *repo, const char *dir, int *nfiles)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && find . -mindepth 1 ! -type d", dir);
    FILE *p = popen(cmd, "r");
    char line[1024];
    int ok = 1;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        char path[2048], target[1024], src[2048];
        snprintf(path, sizeof path, "%s/%s", dir, line + 2);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n <= 0) {
            fprintf(stderr, "%s is not a symlink\n", path);
            ok = 0;
            continue;
        }
        target[n] = '\0';
        if (strncmp(target, "../../", 6) != 0 || !strstr(target, "blobs/") || strstr(target, ".incomplete")) {
            fprintf(stderr, "%s -> %s is not a relative blob link\n", path, target);
            ok = 0;
        }
        /* strip "./{commit}/" to get the repo path */
        const char *rel = strchr(line + 2, '/');
        snprintf(src, sizeof src, "%s/%s/%s", g_srv, repo, rel ? rel + 1 : line + 2);
        if (!files_equal(path, src)) {
            fprintf(stderr, "%s differs from the served %s\n", path, src);
            ok = 0;
        }
        if (nfiles)
            ++*nfiles;
    }
    pclose(p);
    return ok;
}

static void assert_clean(const char *repo)
{
    char folder[256], dir[1024];
    snprintf(folder, sizeof folder, "%s", repo);
    char *s = strchr(folder, '/');
    if (s) {
        memmove(s + 2, s + 1, strlen(s + 1) + 1);
        s[0] = s[1] = '-';
    }
    snprintf(dir, sizeof dir, "%s/models--%s/snapshots", t_cache, folder);
    ck_assert_msg(check_snapshots(repo, dir, NULL), "corrupt snapshot for %s", repo);
}

static char *snap_file(const char *dir, const char *file)
{
    char *p = nlp_path_join(dir, file);
    return p;
}

static int has_file(const char *dir, const char *file)
{
    char *p = snap_file(dir, file);
    int ok = nlp_file_exists(p);
    free(p);
    return ok;
}

/* ------------------------------------------------------------ SHA-256 */

START_TEST(test_sha256_vectors)
{
    char *text = NULL;
    size_t len = 0;
    nlp_error err;
    ck_assert_int_eq(nlp_read_file(NLP_TEST_DATA "/expected/sha256.tsv", &text, &len, &err), NLP_OK);
    int checked = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char kind[16], msg[128], want[65];
        ck_assert_int_eq(sscanf(line, "%15[^\t]\t%127[^\t]\t%64s", kind, msg, want), 3);
        uint8_t *data;
        size_t n;
        if (!strcmp(kind, "text")) {
            n = strlen(msg);
            data = (uint8_t *)strdup(msg);
        } else {
            n = (size_t)atol(msg);
            data = malloc(n + 1);
            for (size_t i = 0; i < n; i++)
                data[i] = (uint8_t)((i * 7 + 3) & 0xff);
        }
        /* one shot, and in uneven pieces */
        nlp_sha256 s;
        uint8_t d[32];
        char hex[65];
        nlp_sha256_init(&s);
        nlp_sha256_update(&s, data, n);
        nlp_sha256_final(&s, d);
        nlp_sha256_hex(d, hex);
        ck_assert_str_eq(hex, want);
        nlp_sha256_init(&s);
        for (size_t i = 0, step = 1; i < n; i += step, step = step * 3 % 97 + 1)
            nlp_sha256_update(&s, data + i, i + step > n ? n - i : step);
        nlp_sha256_final(&s, d);
        nlp_sha256_hex(d, hex);
        ck_assert_str_eq(hex, want);
        /* and through a file */
        char path[512];
        snprintf(path, sizeof path, "%s/sha.bin", g_tmp);
        write_bytes(path, data, n);
        ck_assert_int_eq(nlp_sha256_file(path, hex, &err), NLP_OK);
        ck_assert_str_eq(hex, want);
        free(data);
        checked++;
    }
    ck_assert_int_ge(checked, 10);
    free(text);
}
END_TEST

/* ------------------------------------------------------------ downloads */

START_TEST(test_download_layout)
{
    nlp_error err;
    char *dir = NULL;
    ck_assert_msg(nlp_hub_download("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    char *sha = repo_commit("acme/tiny-bert");
    char want[1024];
    snprintf(want, sizeof want, "%s/models--acme--tiny-bert/snapshots/%s", t_cache, sha);
    ck_assert_str_eq(dir, want);
    const char *present[] = { "config.json", "vocab.txt", "tokenizer_config.json",
                              "special_tokens_map.json", "model.safetensors" };
    for (size_t i = 0; i < 5; i++)
        ck_assert_msg(has_file(dir, present[i]), "%s missing", present[i]);
    ck_assert(!has_file(dir, "pytorch_model.bin"));
    ck_assert(!has_file(dir, "README.md"));
    ck_assert(!has_file(dir, "onnx/model.onnx"));
    int n = 0;
    char snaps[1024];
    snprintf(snaps, sizeof snaps, "%s/models--acme--tiny-bert/snapshots", t_cache);
    ck_assert(check_snapshots("acme/tiny-bert", snaps, &n));
    ck_assert_int_eq(n, 5);

    /* blob of the LFS file is named by its SHA-256 (the double's hashlib) */
    char *etag = head_header("acme/tiny-bert", "model.safetensors", "X-Linked-Etag");
    char link[1024], target[256];
    snprintf(link, sizeof link, "%s/model.safetensors", dir);
    ssize_t tl = readlink(link, target, sizeof target - 1);
    ck_assert_int_gt(tl, 0);
    target[tl] = '\0';
    snprintf(want, sizeof want, "../../blobs/%s", etag);
    ck_assert_str_eq(target, want);
    /* non-LFS etag: quotes and W/ stripped */
    char *etag2 = head_header("acme/tiny-bert", "config.json", "ETag");
    snprintf(link, sizeof link, "%s/config.json", dir);
    tl = readlink(link, target, sizeof target - 1);
    target[tl] = '\0';
    ck_assert_ptr_nonnull(strstr(etag2, "W/"));
    snprintf(want, sizeof want, "../../blobs/%s", etag2 + 2);
    ck_assert_str_eq(target, want);

    /* refs/main holds the commit; no partial or temporary files remain */
    snprintf(want, sizeof want, "%s/models--acme--tiny-bert/refs/main", t_cache);
    char *ref = NULL;
    size_t rl;
    ck_assert_int_eq(nlp_read_file(want, &ref, &rl, &err), NLP_OK);
    ck_assert_str_eq(ref, sha);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.incomplete' -o -name '*.tmp*' | grep -q .", t_cache);
    ck_assert_int_ne(system(cmd), 0);
    snprintf(want, sizeof want, "%s/.locks/models--acme--tiny-bert", t_cache);
    ck_assert(nlp_dir_exists(want));
    ck_assert_int_eq(t_progress_final, 5);

    /* a second download asks the hub again but transfers nothing */
    free(http("POST", "/_reset", NULL));
    char *dir2 = NULL;
    ck_assert_msg(nlp_hub_download("acme/tiny-bert", &t_opts, &dir2, &err) == NLP_OK, "%s", err.msg);
    ck_assert_str_eq(dir2, dir);
    ck_assert_int_eq(count_requests("GET", "/cdn/"), 0);
    ck_assert_int_eq(count_requests("GET", "/resolve/"), 0);
    ck_assert_int_eq(count_requests("GET", "/api/models/"), 1);
    ck_assert_int_eq(count_requests(NULL, ""), 1);
    free(dir2);
    free(ref);
    free(etag);
    free(etag2);
    free(sha);
    free(dir);
}
END_TEST

START_TEST(test_resolve_reuses_cache)
{
    nlp_error err;
    char *dir = NULL, *dir2 = NULL;
    ck_assert_msg(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_int_gt(count_requests(NULL, ""), 0);
    free(http("POST", "/_reset", NULL));
    ck_assert_msg(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir2, &err) == NLP_OK, "%s", err.msg);
    ck_assert_str_eq(dir, dir2);
    ck_assert_int_eq(count_requests(NULL, ""), 0);
    free(dir);
    free(dir2);
}
END_TEST

/* A cache written here by huggingface_hub's rules is used with no request. */
START_TEST(test_foreign_cache_no_request)
{
    const char *commit = "0123456789abcdef0123456789abcdef01234567";
    char p[2048], dir0[1024], want[2048];
    snprintf(dir0, sizeof dir0, "%s/models--other-org--hand-made", t_cache);
    snprintf(p, sizeof p, "%s/blobs/aaaa1111", dir0);
    write_text(p, "{\"model_type\": \"bert\"}");
    snprintf(p, sizeof p, "%s/blobs/%s", dir0, "5f2b0a6bd7a2a0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708");
    write_text(p, "weights");
    snprintf(p, sizeof p, "%s/snapshots/%s", dir0, commit);
    snprintf(p, sizeof p, "%s/snapshots", dir0);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/snapshots/%s", dir0, commit);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/snapshots/%s/config.json", dir0, commit);
    ck_assert_int_eq(symlink("../../blobs/aaaa1111", p), 0);
    snprintf(p, sizeof p, "%s/snapshots/%s/model.safetensors", dir0, commit);
    ck_assert_int_eq(symlink("../../blobs/5f2b0a6bd7a2a0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708", p), 0);
    snprintf(p, sizeof p, "%s/refs/main", dir0);
    write_text(p, commit);

    nlp_error err;
    char *dir = NULL;
    snprintf(want, sizeof want, "%s/snapshots/%s", dir0, commit);
    ck_assert_msg(nlp_hub_resolve("other-org/hand-made", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_str_eq(dir, want);
    free(dir);
    char ref[128];
    snprintf(ref, sizeof ref, "other-org/hand-made@%s", commit);
    ck_assert_msg(nlp_hub_resolve(ref, &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_str_eq(dir, want);
    free(dir);
    /* HF_HUB_CACHE picks the cache when opts does not */
    setenv("HF_HUB_CACHE", t_cache, 1);
    nlp_hub_opts o = { 0 };
    o.endpoint = g_endpoint;
    ck_assert_msg(nlp_hub_resolve("other-org/hand-made", &o, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_str_eq(dir, want);
    free(dir);
    ck_assert_int_eq(count_requests(NULL, ""), 0);
}
END_TEST

START_TEST(test_offline)
{
    nlp_error err;
    char *dir = NULL;
    t_opts.offline = 1;
    ck_assert_int_eq(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err), NLP_ERR_OFFLINE);
    ck_assert_ptr_null(dir);
    ck_assert_ptr_nonnull(strstr(err.msg, "nlp download acme/tiny-bert"));
    ck_assert_int_eq(nlp_hub_download("acme/tiny-bert", &t_opts, &dir, &err), NLP_ERR_OFFLINE);
    ck_assert_int_eq(count_requests(NULL, ""), 0);

    t_opts.offline = 0;
    ck_assert_msg(nlp_hub_download("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    free(dir);
    free(http("POST", "/_reset", NULL));
    setenv("HF_HUB_OFFLINE", "1", 1);
    ck_assert_msg(nlp_hub_download("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert(has_file(dir, "model.safetensors"));
    free(dir);
    ck_assert_msg(nlp_hub_resolve("acme/tiny-bert@main", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    free(dir);
    ck_assert_int_eq(nlp_hub_resolve("acme/tiny-bert@v1.0", &t_opts, &dir, &err), NLP_ERR_OFFLINE);
    /* a snapshot without its weights is not used by a task */
    char w[1024];
    ck_assert_int_eq(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err), NLP_OK);
    snprintf(w, sizeof w, "%s/model.safetensors", dir);
    free(dir);
    ck_assert_int_eq(unlink(w), 0);
    ck_assert_int_eq(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err), NLP_ERR_OFFLINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "lacks config.json or the safetensors weights"));
    ck_assert_int_eq(count_requests(NULL, ""), 0);
    unsetenv("HF_HUB_OFFLINE");
}
END_TEST

START_TEST(test_include_exclude)
{
    const char *inc[] = { "onnx/*", "README.md", NULL };
    const char *exc[] = { "vocab.txt", "*.bin", NULL };
    t_opts.include = inc;
    t_opts.exclude = exc;
    nlp_error err;
    char *dir = NULL;
    ck_assert_msg(nlp_hub_download("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert(has_file(dir, "onnx/model.onnx"));
    ck_assert(has_file(dir, "README.md"));
    ck_assert(has_file(dir, "config.json"));
    ck_assert(!has_file(dir, "vocab.txt"));
    ck_assert(!has_file(dir, "pytorch_model.bin"));
    char link[1024], target[256];
    snprintf(link, sizeof link, "%s/onnx/model.onnx", dir);
    ssize_t n = readlink(link, target, sizeof target - 1);
    ck_assert_int_gt(n, 0);
    target[n] = '\0';
    ck_assert_int_eq(strncmp(target, "../../../blobs/", 15), 0);
    assert_clean("acme/tiny-bert");
    free(dir);
}
END_TEST

START_TEST(test_sharded_and_no_org)
{
    nlp_error err;
    char *dir = NULL;
    ck_assert_msg(nlp_hub_resolve("acme/sharded", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert(has_file(dir, "model.safetensors.index.json"));
    ck_assert(has_file(dir, "model-00001-of-00002.safetensors"));
    ck_assert(has_file(dir, "model-00002-of-00002.safetensors"));
    ck_assert_int_eq(count_requests("GET", "/cdn/"), 2);
    assert_clean("acme/sharded");
    free(dir);
    ck_assert_msg(nlp_hub_resolve("solo", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(dir, "/models--solo/snapshots/"));
    ck_assert(has_file(dir, "tokenizer.json"));
    assert_clean("solo");
    free(dir);
    /* a renamed repo: the hub redirects, the cache keeps the name asked for */
    ck_assert_msg(nlp_hub_resolve("acme/old-name", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(dir, "/models--acme--old-name/snapshots/"));
    ck_assert(has_file(dir, "model.safetensors"));
    char src[1024], got[1024];
    snprintf(src, sizeof src, "%s/solo/model.safetensors", g_srv);
    snprintf(got, sizeof got, "%s/model.safetensors", dir);
    ck_assert(files_equal(src, got));
    free(dir);
}
END_TEST

/* The files of a sentence-transformers model come by default. */
START_TEST(test_sentence_transformers_files)
{
    nlp_error err;
    char *dir = NULL;
    ck_assert_msg(nlp_hub_resolve("acme/minilm", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert(has_file(dir, "modules.json"));
    ck_assert(has_file(dir, "sentence_bert_config.json"));
    ck_assert(has_file(dir, "1_Pooling/config.json"));
    ck_assert(!has_file(dir, "2_Dense/config.json"));
    assert_clean("acme/minilm");
    free(dir);
}
END_TEST

/* vocab.json / merges.txt and SentencePiece models come when there is no
 * tokenizer.json, and only then. */
START_TEST(test_tokenizer_fallback_files)
{
    nlp_error err;
    char *dir = NULL;
    ck_assert_msg(nlp_hub_resolve("acme/bpe-files", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert(has_file(dir, "vocab.json"));
    ck_assert(has_file(dir, "merges.txt"));
    free(dir);
    ck_assert_msg(nlp_hub_resolve("acme/spm", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert(has_file(dir, "spm.model"));
    free(dir);
    ck_assert_msg(nlp_hub_resolve("acme/both", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert(has_file(dir, "tokenizer.json"));
    ck_assert(!has_file(dir, "vocab.json"));
    ck_assert(!has_file(dir, "merges.txt"));
    ck_assert(!has_file(dir, "sentencepiece.bpe.model"));
    assert_clean("acme/both");
    free(dir);
}
END_TEST

START_TEST(test_revisions)
{
    nlp_error err;
    char *dir = NULL;
    char *sha = repo_commit("solo");
    ck_assert_msg(nlp_hub_resolve("solo@v1.0", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    char p[1024];
    snprintf(p, sizeof p, "%s/models--solo/refs/v1.0", t_cache);
    char *ref = NULL;
    size_t n;
    ck_assert_int_eq(nlp_read_file(p, &ref, &n, &err), NLP_OK);
    ck_assert_str_eq(ref, sha);
    free(ref);
    free(dir);
    char r2[128];
    snprintf(r2, sizeof r2, "solo@%s", sha);
    free(http("POST", "/_reset", NULL));
    ck_assert_msg(nlp_hub_resolve(r2, &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_int_eq(count_requests(NULL, ""), 0); /* the snapshot is already there */
    snprintf(p, sizeof p, "%s/models--solo/refs/%s", t_cache, sha);
    ck_assert(!nlp_file_exists(p));
    free(dir);
    ck_assert_int_eq(nlp_hub_resolve("solo@no-such-branch", &t_opts, &dir, &err), NLP_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "solo@no-such-branch"));
    free(sha);
}
END_TEST

START_TEST(test_errors_404_unsupported)
{
    nlp_error err;
    char *dir = NULL;
    ck_assert_int_eq(nlp_hub_resolve("acme/missing", &t_opts, &dir, &err), NLP_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "acme/missing"));
    ck_assert_ptr_nonnull(strstr(err.msg, "404"));
    fault("{\"kind\": \"status\", \"code\": 404, \"match\": \"/vocab.txt\"}");
    ck_assert_int_eq(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err), NLP_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "vocab.txt"));
    assert_clean("acme/tiny-bert");
    ck_assert_int_eq(nlp_hub_resolve("acme/torch-only", &t_opts, &dir, &err), NLP_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "safetensors"));
    ck_assert_ptr_nonnull(strstr(err.msg, "pytorch_model.bin"));
    ck_assert_ptr_null(dir);
    /* bad references */
    const char *bad[] = { "../etc", "a/b/c", "a--b/c", "-x", "x@", "x@../../y", "a b", NULL };
    for (int i = 0; bad[i]; i++)
        ck_assert_msg(nlp_hub_resolve(bad[i], &t_opts, &dir, &err) == NLP_ERR_INVALID_ARG, "%s", bad[i]);
    /* a directory is used as it is */
    ck_assert_int_eq(nlp_hub_resolve(g_srv, &t_opts, &dir, &err), NLP_OK);
    ck_assert_str_eq(dir, g_srv);
    free(dir);
}
END_TEST

START_TEST(test_auth)
{
    nlp_error err;
    char *dir = NULL;
    ck_assert_int_eq(nlp_hub_resolve("acme/gated", &t_opts, &dir, &err), NLP_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "HF_TOKEN"));
    ck_assert_ptr_nonnull(strstr(err.msg, "gated or private"));
    setenv("HF_TOKEN", "hf_wrong_token_value", 1);
    ck_assert_int_eq(nlp_hub_resolve("acme/gated", &t_opts, &dir, &err), NLP_ERR_AUTH);
    ck_assert_ptr_null(strstr(err.msg, "hf_wrong_token_value"));
    setenv("HF_TOKEN", "hf_secret_for_tests", 1);
    free(http("POST", "/_reset", NULL));
    ck_assert_msg(nlp_hub_resolve("acme/gated", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    assert_clean("acme/gated");
    /* the token goes to the hub, never to the CDN host it redirects to */
    ck_assert_int_eq(count_auth("/resolve/", 0), 0);
    ck_assert_int_gt(count_auth("/resolve/", 1), 0);
    ck_assert_int_eq(count_auth("/cdn/", 1), 0);
    ck_assert_int_eq(count_auth("/cdn/", 0), 1);
    free(dir);
    /* the token file huggingface_hub writes */
    unsetenv("HF_TOKEN");
    char home[512], p[1024];
    snprintf(home, sizeof home, "%s/home-token", g_tmp);
    snprintf(p, sizeof p, "%s/token", home);
    write_text(p, "hf_secret_for_tests\n");
    setenv("HF_HOME", home, 1);
    ck_assert_msg(nlp_hub_download("acme/gated", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    free(dir);
}
END_TEST

START_TEST(test_500_then_success)
{
    nlp_error err;
    char *dir = NULL;
    fault("{\"kind\": \"status\", \"code\": 500, \"match\": \"/api/models/\", \"times\": 2}");
    fault("{\"kind\": \"status\", \"code\": 503, \"match\": \"/cdn/\", \"times\": 1}");
    fault("{\"kind\": \"status\", \"code\": 502, \"match\": \"config.json\", \"method\": \"HEAD\"}");
    ck_assert_msg(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_int_eq(count_requests("GET", "/api/models/"), 3);
    ck_assert_int_eq(count_requests("GET", "/cdn/"), 2);
    assert_clean("acme/tiny-bert");
    ck_assert(has_file(dir, "model.safetensors"));
    free(dir);
}
END_TEST

START_TEST(test_500_forever)
{
    nlp_error err;
    char *dir = NULL;
    fault("{\"kind\": \"status\", \"code\": 500, \"match\": \"/cdn/\", \"times\": 100}");
    ck_assert_int_eq(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err), NLP_ERR_HTTP);
    ck_assert_ptr_nonnull(strstr(err.msg, "model.safetensors"));
    ck_assert_ptr_nonnull(strstr(err.msg, "500"));
    ck_assert_ptr_null(dir);
    assert_clean("acme/tiny-bert");
    char p[1024];
    snprintf(p, sizeof p, "%s/models--acme--tiny-bert/refs/main", t_cache);
    ck_assert(!nlp_file_exists(p)); /* refs only once the snapshot is complete */
}
END_TEST

START_TEST(test_drop_resumes)
{
    nlp_error err;
    char *dir = NULL;
    fault("{\"kind\": \"drop\", \"match\": \"/cdn/\", \"at\": 150000}");
    ck_assert_msg(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert(saw_resume("/cdn/"));
    ck_assert_int_eq(count_requests("GET", "/cdn/"), 2);
    assert_clean("acme/tiny-bert");
    ck_assert(has_file(dir, "model.safetensors"));
    free(dir);
}
END_TEST

START_TEST(test_drop_forever_then_resume)
{
    nlp_error err;
    char *dir = NULL;
    fault("{\"kind\": \"drop\", \"match\": \"/cdn/\", \"at\": 1000, \"times\": 100}");
    ck_assert_int_eq(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err), NLP_ERR_NETWORK);
    ck_assert_ptr_nonnull(strstr(err.msg, "model.safetensors"));
    assert_clean("acme/tiny-bert");
    char *etag = head_header("acme/tiny-bert", "model.safetensors", "X-Linked-Etag");
    char part[1024];
    snprintf(part, sizeof part, "%s/models--acme--tiny-bert/blobs/%s.incomplete", t_cache, etag);
    struct stat st;
    ck_assert_int_eq(stat(part, &st), 0);
    ck_assert_int_gt(st.st_size, 0);
    ck_assert_int_lt(st.st_size, MODEL_BYTES);
    /* the next run resumes from the partial file */
    free(http("POST", "/_reset", NULL));
    ck_assert_msg(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert(saw_resume("/cdn/"));
    ck_assert_int_ne(stat(part, &st), 0);
    assert_clean("acme/tiny-bert");
    free(dir);
    free(etag);
}
END_TEST

START_TEST(test_corrupt)
{
    nlp_error err;
    char *dir = NULL;
    /* wrong bytes once: discarded, fetched again, verified */
    fault("{\"kind\": \"corrupt\", \"match\": \"/cdn/\"}");
    ck_assert_msg(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_int_eq(count_requests("GET", "/cdn/"), 2);
    assert_clean("acme/tiny-bert");
    free(dir);
}
END_TEST

START_TEST(test_corrupt_forever)
{
    nlp_error err;
    char *dir = NULL;
    fault("{\"kind\": \"corrupt\", \"match\": \"/cdn/\", \"times\": 100}");
    ck_assert_int_eq(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err), NLP_ERR_CHECKSUM);
    ck_assert_ptr_nonnull(strstr(err.msg, "SHA-256"));
    ck_assert_ptr_nonnull(strstr(err.msg, "model.safetensors"));
    assert_clean("acme/tiny-bert");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.incomplete' | grep -q .", t_cache);
    ck_assert_int_ne(system(cmd), 0);
}
END_TEST

START_TEST(test_bad_partial_file)
{
    /* a stale .incomplete with wrong bytes: the checksum catches it and the
     * file is fetched again from the start */
    nlp_error err;
    char *dir = NULL;
    char *etag = head_header("acme/tiny-bert", "model.safetensors", "X-Linked-Etag");
    char part[1024];
    snprintf(part, sizeof part, "%s/models--acme--tiny-bert/blobs/%s.incomplete", t_cache, etag);
    write_random(part, 5000, 99);
    ck_assert_msg(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    assert_clean("acme/tiny-bert");
    ck_assert(!nlp_file_exists(part));
    free(dir);
    /* a server ignoring Range: the partial file is restarted */
    nlp_hub_cache_remove("acme/tiny-bert", &t_opts, &err);
    char *copy = NULL;
    size_t n = 0;
    char src[1024];
    snprintf(src, sizeof src, "%s/acme/tiny-bert/model.safetensors", g_srv);
    ck_assert_int_eq(nlp_read_file(src, &copy, &n, &err), NLP_OK);
    write_bytes(part, copy, 1234);
    free(http("POST", "/_reset", NULL));
    fault("{\"kind\": \"norange\", \"match\": \"/cdn/\"}");
    ck_assert_msg(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_int_eq(count_requests("GET", "/cdn/"), 1);
    assert_clean("acme/tiny-bert");
    free(dir);
    free(copy);
    free(etag);
}
END_TEST

START_TEST(test_slow_body_progress)
{
    nlp_error err;
    char *dir = NULL;
    fault("{\"kind\": \"slow\", \"match\": \"/cdn/\", \"chunk\": 40000, \"delay\": 0.1}");
    ck_assert_msg(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_int_ge(t_progress_calls, 8);
    ck_assert_int_eq(t_progress_final, 5);
    assert_clean("acme/tiny-bert");
    free(dir);
}
END_TEST

START_TEST(test_stall_times_out_and_resumes)
{
    nlp_error err;
    char *dir = NULL;
    setenv("HF_HUB_DOWNLOAD_TIMEOUT", "1", 1);
    fault("{\"kind\": \"stall\", \"match\": \"/cdn/\", \"at\": 100000, \"delay\": 4}");
    ck_assert_msg(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert(saw_resume("/cdn/"));
    assert_clean("acme/tiny-bert");
    free(dir);
}
END_TEST

START_TEST(test_disk_full)
{
    nlp_error err;
    char *dir = NULL;
    char *etag = head_header("acme/tiny-bert", "model.safetensors", "X-Linked-Etag");
    char part[1024], blobs[1024];
    snprintf(blobs, sizeof blobs, "%s/models--acme--tiny-bert/blobs/x", t_cache);
    write_text(blobs, "");
    unlink(blobs);
    snprintf(part, sizeof part, "%s/models--acme--tiny-bert/blobs/%s.incomplete", t_cache, etag);
    ck_assert_int_eq(symlink("/dev/full", part), 0);
    ck_assert_int_eq(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err), NLP_ERR_NOSPACE);
    ck_assert_ptr_nonnull(strstr(err.msg, "disk full"));
    ck_assert_ptr_null(dir);
    assert_clean("acme/tiny-bert");
    char blob[1024];
    snprintf(blob, sizeof blob, "%s/models--acme--tiny-bert/blobs/%s", t_cache, etag);
    ck_assert(!nlp_file_exists(blob));
    /* space is back: the same call completes */
    unlink(part);
    ck_assert_msg(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    assert_clean("acme/tiny-bert");
    free(dir);
    free(etag);
}
END_TEST

START_TEST(test_two_processes_one_download)
{
    fault("{\"kind\": \"slow\", \"match\": \"/cdn/\", \"chunk\": 50000, \"delay\": 0.1}");
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            nlp_error err;
            char *dir = NULL;
            t_opts.progress = NULL;
            _exit(nlp_hub_resolve("acme/tiny-bert", &t_opts, &dir, &err) == NLP_OK ? 0 : 1);
        }
    }
    for (int i = 0; i < 2; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ck_assert_int_eq(count_requests("GET", "/cdn/"), 1);
    assert_clean("acme/tiny-bert");
}
END_TEST

START_TEST(test_unsafe_names)
{
    nlp_error err;
    char *dir = NULL;
    ck_assert_int_eq(nlp_hub_resolve("acme/evil", &t_opts, &dir, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "unsafe"));
    ck_assert_int_eq(nlp_hub_resolve("acme/evil-index", &t_opts, &dir, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "weight_map"));
    /* an etag that would escape blobs/ */
    fault("{\"kind\": \"header\", \"match\": \"/resolve/\", \"name\": \"X-Linked-Etag\", \"value\": \"\\\"../../x\\\"\", \"times\": 100}");
    ck_assert_int_eq(nlp_hub_resolve("solo", &t_opts, &dir, &err), NLP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "ETag"));
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "find '%s' '%s/..' -maxdepth 2 -name 'escape*' -o -maxdepth 2 -name x | grep -q .",
             t_cache, t_cache);
    ck_assert_int_ne(system(cmd), 0);
}
END_TEST

START_TEST(test_cache_list_remove)
{
    nlp_error err;
    char *dir = NULL;
    ck_assert_msg(nlp_hub_resolve("acme/sharded", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    free(dir);
    ck_assert_msg(nlp_hub_resolve("solo@v1.0", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    free(dir);
    ck_assert_msg(nlp_hub_resolve("solo", &t_opts, &dir, &err) == NLP_OK, "%s", err.msg);
    free(dir);
    nlp_hub_cached_model *m = NULL;
    size_t n = 0;
    ck_assert_int_eq(nlp_hub_cache_list(&t_opts, &m, &n, &err), NLP_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(m[0].id, "acme/sharded");
    ck_assert_str_eq(m[1].id, "solo");
    ck_assert_uint_eq(m[1].n_revisions, 1);
    ck_assert_str_eq(m[1].revisions[0].refs, "main,v1.0");
    ck_assert_uint_eq(m[1].revisions[0].n_files, 3);
    /* sizes: the served bytes */
    struct stat st;
    uint64_t want = 0;
    const char *files[] = { "config.json", "tokenizer.json", "model.safetensors" };
    for (int i = 0; i < 3; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/solo/%s", g_srv, files[i]);
        ck_assert_int_eq(stat(p, &st), 0);
        want += (uint64_t)st.st_size;
    }
    ck_assert_uint_eq(m[1].size, want);
    ck_assert_uint_eq(m[1].revisions[0].size, want);
    ck_assert_uint_eq(m[0].revisions[0].n_files, 5);
    nlp_hub_cache_list_free(m, n);

    ck_assert_int_eq(nlp_hub_cache_remove("solo", &t_opts, &err), NLP_OK);
    ck_assert_int_eq(nlp_hub_cache_remove("solo", &t_opts, &err), NLP_ERR_NOT_FOUND);
    ck_assert_int_eq(nlp_hub_cache_remove("../x", &t_opts, &err), NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_hub_cache_list(&t_opts, &m, &n, &err), NLP_OK);
    ck_assert_uint_eq(n, 1);
    nlp_hub_cache_list_free(m, n);
    /* the served files (outside the cache) are untouched */
    char p[1024];
    snprintf(p, sizeof p, "%s/solo/model.safetensors", g_srv);
    ck_assert(nlp_file_exists(p));
}
END_TEST

START_TEST(test_connection_refused)
{
    nlp_error err;
    char *dir = NULL;
    t_opts.endpoint = "http://127.0.0.1:1";
    ck_assert_int_eq(nlp_hub_resolve("solo", &t_opts, &dir, &err), NLP_ERR_NETWORK);
    ck_assert_ptr_nonnull(strstr(err.msg, "127.0.0.1:1"));
}
END_TEST

/* The CLI's progress line (cli/progress.c); expected text worked out by
 * hand: 500 kB of 1 MB in 2 s is 250 kB/s, 2 s left. */
START_TEST(test_progress_format)
{
    char buf[256];
    cli_progress_format(buf, sizeof buf, "model.safetensors", 500000, 1000000, 500000, 2.0, 10);
    ck_assert_str_eq(buf, "model.safetensors [#####.....]  50%  500.0 kB / 1.0 MB  250.0 kB/s ETA 0:00:02");
    cli_progress_format(buf, sizeof buf, "a", 3000000000ull, 3000000000ull, 1500000000ull, 3661.0, 4);
    ck_assert_str_eq(buf, "a [####] 100%  3.0 GB / 3.0 GB  409.7 kB/s in 1:01:01");
    cli_progress_format(buf, sizeof buf, "b", 999, 0, 999, 0.0, 4);
    ck_assert_str_eq(buf, "b  999 B  -- B/s");
}
END_TEST

static Suite *hub_suite(void)
{
    Suite *s = suite_create("hub");
    TCase *tc = tcase_create("sha256");
    tcase_add_test(tc, test_sha256_vectors);
    tcase_add_test(tc, test_progress_format);
    suite_add_tcase(s, tc);
    tc = tcase_create("double");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_download_layout);
    tcase_add_test(tc, test_resolve_reuses_cache);
    tcase_add_test(tc, test_foreign_cache_no_request);
    tcase_add_test(tc, test_offline);
    tcase_add_test(tc, test_include_exclude);
    tcase_add_test(tc, test_sharded_and_no_org);
    tcase_add_test(tc, test_sentence_transformers_files);
    tcase_add_test(tc, test_tokenizer_fallback_files);
    tcase_add_test(tc, test_revisions);
    tcase_add_test(tc, test_errors_404_unsupported);
    tcase_add_test(tc, test_auth);
    tcase_add_test(tc, test_500_then_success);
    tcase_add_test(tc, test_500_forever);
    tcase_add_test(tc, test_drop_resumes);
    tcase_add_test(tc, test_drop_forever_then_resume);
    tcase_add_test(tc, test_corrupt);
    tcase_add_test(tc, test_corrupt_forever);
    tcase_add_test(tc, test_bad_partial_file);
    tcase_add_test(tc, test_slow_body_progress);
    tcase_add_test(tc, test_stall_times_out_and_resumes);
    tcase_add_test(tc, test_disk_full);
    tcase_add_test(tc, test_two_processes_one_download);
    tcase_add_test(tc, test_unsafe_names);
    tcase_add_test(tc, test_cache_list_remove);
    tcase_add_test(tc, test_connection_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    snprintf(g_tmp, sizeof g_tmp, "/tmp/nlp-check-hub-XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(g_srv, sizeof g_srv, "%s/srv", g_tmp);
    /* nothing from the user's environment: no real cache, token or hub */
    char home[300];
    snprintf(home, sizeof home, "%s/home", g_tmp);
    setenv("HF_HOME", home, 1);
    unsetenv("HF_TOKEN");
    unsetenv("HF_TOKEN_PATH");
    unsetenv("HF_HUB_CACHE");
    unsetenv("HF_HUB_OFFLINE");
    unsetenv("HF_ENDPOINT");
    make_repos();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_double();
    SRunner *sr = srunner_create(hub_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    kill(g_double, SIGTERM);
    waitpid(g_double, NULL, 0);
    nftw(g_tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
