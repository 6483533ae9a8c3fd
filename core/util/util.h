/*
 * util.h - small private helpers shared inside libnlp: whole-file reads,
 * path joining, folder creation, fp32 -> bf16 rounding; the growable
 * byte buffer is public (nlp/buf.h).  Not installed.  Add helpers here
 * only when two modules need them.
 */
#ifndef NLP_UTIL_H
#define NLP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "nlp/buf.h"
#include "nlp/status.h"

/* Read a whole file.  *data is NUL-terminated (not counted in *len) and
 * freed by the caller with free().  Errors name the path. */
nlp_status nlp_read_file(const char *path, char **data, size_t *len, nlp_error *err);

/* dir + "/" + name, newly allocated (free()), NULL when out of memory. */
char *nlp_path_join(const char *dir, const char *name);

/* printf into a new string (free()), or NULL when out of memory. */
char *nlp_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 1 if path names an existing regular file, else 0. */
int nlp_file_exists(const char *path);

/* 1 if path names an existing directory, else 0. */
int nlp_dir_exists(const char *path);

/* Create path and its missing parents (mode 0755), like `mkdir -p`.
 * Returns 0, or -1 with errno set (ENOTDIR when path is not a folder). */
int nlp_mkdirs(const char *path);

/* A temporary name beside path, unique in this process and among
 * processes (path.tmpPID.N); a new string (free()), NULL when out of
 * memory. */
char *nlp_tmp_name(const char *path);

/* Write text to path through a temporary file and a rename, so path is
 * either as before or complete.  Errors name the path (NLP_ERR_IO,
 * NLP_ERR_NOSPACE, NLP_ERR_NOMEM). */
nlp_status nlp_write_atomic(const char *path, const char *text, nlp_error *err);

/* 1 when the running binary (/proc/self/exe) lies in the build tree it
 * was built in (NLP_BUILD_DIR): it runs uninstalled. */
int nlp_running_uninstalled(void);

/* A configured installation folder (dir, below NLP_PREFIX) relocated to
 * the installation the running binary belongs to: <the binary's prefix>/
 * <dir less NLP_PREFIX> when that folder exists, else dir itself.  A new
 * string (free()), NULL when out of memory. */
char *nlp_installed_dir(const char *dir);

/* A NULL-terminated list of distinct, non-empty strings being built (a
 * search path); start from {0}.  Out of memory is remembered in oom and
 * reported by nlp_strlist_finish. */
typedef struct nlp_strlist {
    char **v;
    size_t n, cap;
    int oom;
} nlp_strlist;

/* Append the len bytes at s unless empty or already listed. */
void nlp_strlist_add(nlp_strlist *l, const char *s, size_t len);

/* Append each entry of the colon-separated environment variable var. */
void nlp_strlist_add_env(nlp_strlist *l, const char *var);

/* Hand the list over: *out is the NULL-terminated array (empty when
 * nothing was added; the caller frees it with nlp_search_path_free) and l
 * is reset.  NLP_ERR_NOMEM naming what when an addition failed. */
nlp_status nlp_strlist_finish(nlp_strlist *l, char ***out, const char *what, nlp_error *err);

/* The indices 0..n-1 into order[n], best score first (ties: lower index
 * first; NaN scores last).  Returns 0, or -1 when out of memory. */
int nlp_rank_order(const double *scores, size_t n, size_t *order);

/* FNV-1a over s[0..n), continuing from h (start from NLP_FNV1A_INIT):
 * the string hash of the hash maps (vocabularies, training labels).
 * Hash several parts by chaining calls; nlp_hash_fold finishes. */
#define NLP_FNV1A_INIT 2166136261u
static inline uint32_t nlp_fnv1a(uint32_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Fold the high bits into the low ones, which index a power-of-two map. */
static inline uint32_t nlp_hash_fold(uint32_t h)
{
    return h ^ (h >> 15);
}

/* splitmix64's finaliser: a bijective 64-bit mix, the hash of every
 * counter-based draw (dropout masks, masking, data order, new weights). */
static inline uint64_t nlp_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* splitmix64's step: the golden-ratio increment, then the mix. */
static inline uint64_t nlp_splitmix64(uint64_t z)
{
    return nlp_mix64(z + 0x9e3779b97f4a7c15ull);
}

/* fp32 -> bf16, rounded to nearest even; a NaN stays a (quiet) NaN.  The
 * bf16 kernels and the bf16 checkpoint writer both round this way. */
static inline uint16_t nlp_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

#endif /* NLP_UTIL_H */
