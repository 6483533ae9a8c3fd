/*
 * fuzz_util.h - helpers shared by the fuzz harnesses of tests/fuzz: a
 * scratch directory that lives as long as the process, writing an input as
 * a file there, and splitting one input into parts.
 *
 * Harnesses whose parser reads files write the fuzz input (or its parts)
 * into the scratch directory and call the parser on it.  Parts are
 * separated by the line FUZZ_SEP, so seed files stay readable.
 */
#ifndef NLP_FUZZ_UTIL_H
#define NLP_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_SEP "\n=====\n"

/* FUZZ_ALLOW(bytes): let the input being run hold that many heap bytes
 * beyond the replay's K * n + C bound (heap.h); nothing when the heap is
 * not being measured. */
#ifdef FUZZ_HEAP_K
#include "heap.h"
#define FUZZ_ALLOW(bytes) (fuzz_heap_allowed = (bytes))
#else
#define FUZZ_ALLOW(bytes) ((void)0)
#endif

/* The harness entry point (libFuzzer's name). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The largest number in data (as JSON writes numbers: 7, 7.0, 7e3) that
 * is at most max: a bound on the ids or counts an input can declare. */
static inline size_t fuzz_largest_number(const uint8_t *data, size_t size, size_t max)
{
    double best = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] < '0' || data[i] > '9' || (i && data[i - 1] >= '0' && data[i - 1] <= '9'))
            continue;
        char num[64];
        size_t n = 0;
        while (i + n < size && n + 1 < sizeof num && data[i + n] &&
               strchr("0123456789.eE+-", data[i + n]))
            num[n] = (char)data[i + n], n++;
        num[n] = '\0';
        double v = strtod(num, NULL);
        if (v <= (double)max && v > best)
            best = v;
    }
    return (size_t)best;
}

/* One slice of the input. */
typedef struct fuzz_part {
    const char *p;
    size_t n;
} fuzz_part;

/* Split data at each FUZZ_SEP into at most max parts (the last part takes
 * the rest); returns the number of parts (at least 1). */
static inline size_t fuzz_split(const uint8_t *data, size_t size, fuzz_part *parts, size_t max)
{
    const char *p = (const char *)data, *end = p + size;
    size_t k = 0, sl = strlen(FUZZ_SEP);
    while (k + 1 < max) {
        const char *q = NULL;
        for (const char *s = p; s + sl <= end; s++)
            if (memcmp(s, FUZZ_SEP, sl) == 0) {
                q = s;
                break;
            }
        if (!q)
            break;
        parts[k++] = (fuzz_part){ p, (size_t)(q - p) };
        p = q + sl;
    }
    parts[k++] = (fuzz_part){ p, (size_t)(end - p) };
    return k;
}

static char fuzz_dir_path[64];

static inline void fuzz_dir_cleanup(void)
{
    char cmd[128];
    if (!fuzz_dir_path[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir_path);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz: cannot remove %s\n", fuzz_dir_path);
}

/* The process's scratch directory (created on the first call, removed at
 * exit). */
static inline const char *fuzz_dir(void)
{
    if (!fuzz_dir_path[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/nlpfuzz.XXXXXX",
                 t && *t && strlen(t) < 40 ? t : "/tmp");
        if (!mkdtemp(fuzz_dir_path)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_dir_cleanup);
    }
    return fuzz_dir_path;
}

/* Path of name inside the scratch directory (a static buffer per call
 * site is not needed: the result is written into out). */
static inline void fuzz_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", fuzz_dir(), name);
}

/* Write p[0..n) as the scratch file name (replacing it). */
static inline void fuzz_write(const char *name, const char *p, size_t n)
{
    char path[256];
    fuzz_path(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* Remove the scratch file name if present. */
static inline void fuzz_remove(const char *name)
{
    char path[256];
    fuzz_path(path, sizeof path, name);
    unlink(path);
}

#endif /* NLP_FUZZ_UTIL_H */
