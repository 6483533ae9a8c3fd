/*
 * tokenizer_speed.c - tokenizer throughput over a text file, one text per
 * line (for SST-2, the first TAB-separated field; the header line is kept,
 * it is text too).
 *
 *   tokenizer_speed MODEL_DIR FILE [REPS]
 *
 * Encodes every line REPS times (default 5, after one warm-up pass) into
 * one reused encoding and prints lines, tokens (special tokens included),
 * tokens per second and MB of text per second (wall clock, and per CPU
 * second, which is steadier on a busy machine).  Never part of make check.
 * Build (from a build directory where libnlp is built):
 *   gcc -O2 -I$SRC/include bench/tokenizer_speed.c -o tokenizer_speed \
 *       -Lcore/.libs -lnlp -Wl,-rpath,$PWD/core/.libs
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nlp/nlp.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tokenizer_speed MODEL_DIR FILE [REPS]\n");
        return 2;
    }
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    nlp_error err;
    nlp_tokenizer *tok;
    if (nlp_tokenizer_load(argv[1], &tok, &err) != NLP_OK) {
        fprintf(stderr, "tokenizer_speed: %s\n", err.msg);
        return 1;
    }
    FILE *f = fopen(argv[2], "rb");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    size_t n = 0, cap = 1024, bytes = 0;
    char **lines = malloc(cap * sizeof *lines);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        char *tab = strchr(line, '\t');
        if (tab)
            *tab = '\0';
        else if (len && line[len - 1] == '\n')
            line[len - 1] = '\0';
        if (n == cap)
            lines = realloc(lines, (cap *= 2) * sizeof *lines);
        lines[n] = strdup(line);
        bytes += strlen(lines[n]);
        n++;
    }
    free(line);
    fclose(f);
    nlp_encoding e = { 0 };
    size_t tokens = 0;
    double best = 1e30, best_cpu = 1e30;
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
        clock_t c0 = clock();
        size_t tk = 0;
        for (size_t i = 0; i < n; i++) {
            if (nlp_tokenizer_encode(tok, lines[i], strlen(lines[i]), NULL, 0, NULL, &e, &err)) {
                fprintf(stderr, "tokenizer_speed: line %zu: %s\n", i + 1, err.msg);
                return 1;
            }
            tk += e.n;
        }
        double dt = now() - t0, dc = (double)(clock() - c0) / CLOCKS_PER_SEC;
        if (r > 0 && dt < best)
            best = dt;
        if (r > 0 && dc < best_cpu)
            best_cpu = dc;
        tokens = tk;
    }
    printf("%zu lines, %zu tokens, best of %d: %.3f s, %.0f tokens/s, %.1f MB/s "
           "(CPU time %.3f s: %.0f tokens per CPU second)\n", n, tokens, reps, best,
           (double)tokens / best, (double)bytes / best / 1e6, best_cpu, (double)tokens / best_cpu);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    nlp_encoding_free(&e);
    nlp_tokenizer_free(tok);
    return 0;
}
