/*
 * util.c - small private helpers shared inside libnlp.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

nlp_status nlp_read_file(const char *path, char **data, size_t *len, nlp_error *err)
{
    *data = NULL;
    if (len)
        *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return nlp_error_set(err, NLP_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (cap - n < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (failed) {
        free(buf);
        return nlp_error_set(err, NLP_ERR_IO, "%s: %s", path, strerror(saved));
    }
    buf[n] = '\0';
    *data = buf;
    if (len)
        *len = n;
    return NLP_OK;
}

char *nlp_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a > 0 && dir[a - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

int nlp_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int nlp_dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int nlp_mkdirs(const char *path)
{
    char *p = strdup(path);
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                int e = errno;
                free(p);
                errno = e;
                return -1;
            }
            if (c == '\0')
                break;
            *s = c;
        }
    }
    free(p);
    return nlp_dir_exists(path) ? 0 : (errno = ENOTDIR, -1);
}

int nlp_buf_reserve(nlp_buf *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return 0;
    b->p = p;
    b->cap = cap;
    return 1;
}

int nlp_buf_add(nlp_buf *b, const char *s, size_t n)
{
    if (n == 0)
        return 1; /* nothing to copy (b->p and s may both be NULL) */
    if (!nlp_buf_reserve(b, n))
        return 0;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 1;
}

char *nlp_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

char *nlp_tmp_name(const char *path)
{
    static unsigned counter;
    unsigned n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    return nlp_strf("%s.tmp%ld.%u", path, (long)getpid(), n);
}

nlp_status nlp_write_atomic(const char *path, const char *text, nlp_error *err)
{
    char *tmp = nlp_tmp_name(path);
    if (!tmp)
        return nlp_error_set(err, NLP_ERR_NOMEM, "out of memory");
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        nlp_status st = nlp_error_set(err, NLP_ERR_IO, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    int ok = fputs(text, f) >= 0;
    int saved = errno;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        saved = ok ? errno : saved;
        unlink(tmp);
        free(tmp);
        return nlp_error_set(err, saved == ENOSPC ? NLP_ERR_NOSPACE : NLP_ERR_IO, "%s: %s",
                             path, saved == ENOSPC ? "disk full" : strerror(saved));
    }
    free(tmp);
    return NLP_OK;
}

/* ------------------------------------------------------------ ranking */

typedef struct rank_item {
    double score;
    size_t index;
} rank_item;

static int rank_cmp(const void *a, const void *b)
{
    const rank_item *x = a, *y = b;
    int xn = x->score != x->score, yn = y->score != y->score;   /* NaN */
    if (xn != yn)
        return xn - yn;
    if (!xn && x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return x->index < y->index ? -1 : x->index > y->index;
}

int nlp_rank_order(const double *scores, size_t n, size_t *order)
{
    rank_item *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++)
        v[i] = (rank_item){scores[i], i};
    qsort(v, n, sizeof *v, rank_cmp);
    for (size_t i = 0; i < n; i++)
        order[i] = v[i].index;
    free(v);
    return 0;
}
