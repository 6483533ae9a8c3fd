/*
 * driver.c - replays inputs through a fuzz harness without libFuzzer: every
 * file named on the command line, and every regular file of every
 * directory named there (in name order), is fed once to
 * LLVMFuzzerTestOneInput.  Without arguments it replays FUZZ_CORPUS, the
 * harness's committed corpus.  Built with the ordinary compiler, so the
 * sanitizer build of `make check` runs every harness over its corpus.
 *
 * With FUZZ_HEAP_K and FUZZ_HEAP_C defined (an ordinary build, linked with
 * heap.c) it also bounds each parser's memory: every input is run once to
 * warm up (fixtures a harness loads once, caches) and once measured, and
 * an input of n bytes whose run holds more than FUZZ_HEAP_K * n +
 * FUZZ_HEAP_C heap bytes at once, plus what its harness allows for it
 * (heap.h), fails the replay.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef FUZZ_HEAP_K
#include "heap.h"

static size_t heap_worst;       /* the largest peak seen */
static size_t heap_worst_n;     /* its input's size */
static size_t heap_worst_allowed; /* what its harness allowed it */
static double heap_closest;     /* the largest fraction of its bound held */
static char heap_closest_path[512];
static char heap_worst_path[512];

/* Run the input twice and measure the second run; returns 1 when its peak
 * is over the bound. */
static int heap_run(const char *path, const uint8_t *data, size_t n)
{
    LLVMFuzzerTestOneInput(data, n);
    fuzz_heap_allowed = 0;
    size_t base = fuzz_heap_mark();
    LLVMFuzzerTestOneInput(data, n);
    size_t peak = fuzz_heap_peak() - base;
    size_t bound = (size_t)FUZZ_HEAP_K * n + (size_t)FUZZ_HEAP_C + fuzz_heap_allowed;
    if (peak > heap_worst || !heap_worst_path[0]) {
        heap_worst = peak;
        heap_worst_n = n;
        heap_worst_allowed = fuzz_heap_allowed;
        snprintf(heap_worst_path, sizeof heap_worst_path, "%s", path);
    }
    if ((double)peak / (double)bound > heap_closest) {
        heap_closest = (double)peak / (double)bound;
        snprintf(heap_closest_path, sizeof heap_closest_path, "%s", path);
    }
    if (peak <= bound)
        return 0;
    printf("%s: %zu bytes of input held %zu heap bytes, over the bound %d * %zu + %d + %zu "
           "allowed = %zu\n",
           path, n, peak, FUZZ_HEAP_K, n, FUZZ_HEAP_C, fuzz_heap_allowed, bound);
    return 1;
}
#endif

/* Feed one file; returns 0, or 1 when it cannot be read. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        return 1;
    }
    /* an exact-size copy, so reads past the input end are caught */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return 1;
    }
    memcpy(exact, buf, n);
    free(buf);
    /* named first, so a crash's report follows the input's name */
    printf("%s\n", path);
    fflush(stdout);
    int bad = 0;
#ifdef FUZZ_HEAP_K
    bad = heap_run(path, exact, n);
#else
    LLVMFuzzerTestOneInput(exact, n);
#endif
    free(exact);
    return bad;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feed every regular file of dir, sorted; *count gets the number run. */
static int run_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn || !(nn[n] = malloc(strlen(dir) + strlen(e->d_name) + 2)))
            abort();
        names = nn;
        sprintf(names[n++], "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, by_name);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            bad |= run_file(names[i]);
            ++*count;
        }
        free(names[i]);
    }
    free(names);
    return bad;
}

int main(int argc, char **argv)
{
#ifdef FUZZ_CORPUS
    static char *dflt[] = { NULL, FUZZ_CORPUS, NULL };
    if (argc < 2) {
        dflt[0] = argv[0];
        argv = dflt;
        argc = 2;
    }
#endif
    int bad = 0;
    size_t count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            bad = 1;
        } else if (S_ISDIR(st.st_mode)) {
            bad |= run_dir(argv[i], &count);
        } else {
            bad |= run_file(argv[i]);
            count++;
        }
    }
    printf("%s: %zu inputs replayed\n", argv[0], count);
#ifdef FUZZ_HEAP_K
    if (count) {
        printf("%s: most heap held: %zu bytes, by %s (%zu bytes; bound %d * n + %d + %zu "
               "allowed)\n", argv[0], heap_worst, heap_worst_path, heap_worst_n, FUZZ_HEAP_K,
               FUZZ_HEAP_C, heap_worst_allowed);
        printf("%s: closest to its bound: %s, %.0f%% of it\n", argv[0], heap_closest_path,
               100.0 * heap_closest);
    }
#endif
    return bad || count == 0;
}
