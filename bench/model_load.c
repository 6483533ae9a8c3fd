/*
 * model_load.c - time nlp_model_load() on a checkpoint folder and show that
 * F32 weights are mapped, not copied (resident memory before and after).
 * Not part of make check.  Build against a build tree, e.g.
 *
 *   gcc -std=c11 -O2 -D_GNU_SOURCE -I include bench/model_load.c \
 *       -L BUILD/core/.libs -lnlp -Wl,-rpath,BUILD/core/.libs -o /tmp/model_load
 *   /tmp/model_load /tmp/bert-base-random 3
 *
 * (bench/make_bert_base.py writes a bert-base-sized random checkpoint.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nlp/model.h"

/* Resident set size in KiB, from /proc/self/status. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: model_load DIR [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    for (int r = 0; r < runs; r++) {
        long before = rss_kib();
        double t0 = now_ms();
        nlp_model *m = NULL;
        nlp_error err = {0};
        if (nlp_model_load(argv[1], &m, &err) != NLP_OK) {
            fprintf(stderr, "model_load: %s\n", err.msg);
            return 1;
        }
        double t1 = now_ms();
        long after = rss_kib();
        printf("run %d: load %.2f ms, weights %.1f MB mapped, RSS %ld -> %ld KiB (+%ld KiB)\n", r + 1,
               t1 - t0, nlp_model_weight_bytes(m) / 1e6, before, after, after - before);
        nlp_model_free(m);
    }
    return 0;
}
