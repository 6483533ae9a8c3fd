/*
 * progress.c - download progress bar on stderr for `nlp download` and any
 * command that fetches a model on first use.  The library only reports
 * (file, done, total); drawing and throttling happen here.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cli_progress_wanted(int quiet) { return !quiet && isatty(STDERR_FILENO); }

void cli_format_size(char *buf, size_t size, uint64_t bytes)
{
    static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
    double v = (double)bytes;
    int u = 0;
    while (v >= 1000.0 && u < 4) {
        v /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%llu B", (unsigned long long)bytes);
    else
        snprintf(buf, size, "%.1f %s", v, units[u]);
}

void cli_progress_format(char *buf, size_t size, const char *file, uint64_t done, uint64_t total,
                         uint64_t moved, double elapsed, int bar_width)
{
    char sdone[32], stotal[32], srate[32], eta[32] = "";
    cli_format_size(sdone, sizeof sdone, done);
    cli_format_size(stotal, sizeof stotal, total);
    double rate = elapsed > 0.05 ? (double)moved / elapsed : 0.0;
    if (rate > 0) {
        cli_format_size(srate, sizeof srate, (uint64_t)rate);
        strcat(srate, "/s");
    } else {
        strcpy(srate, "-- B/s");
    }
    if (total && done < total && rate > 0) {
        unsigned long s = (unsigned long)((double)(total - done) / rate + 0.5);
        snprintf(eta, sizeof eta, " ETA %lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    } else if (total && done >= total) {
        unsigned long s = (unsigned long)(elapsed + 0.5);
        snprintf(eta, sizeof eta, " in %lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    }
    if (!total) {
        snprintf(buf, size, "%s  %s  %s", file, sdone, srate);
        return;
    }
    char bar[128];
    if (bar_width > (int)sizeof bar - 3)
        bar_width = (int)sizeof bar - 3;
    int fill = (int)((double)bar_width * (double)(done > total ? total : done) / (double)total);
    bar[0] = '[';
    for (int i = 0; i < bar_width; i++)
        bar[1 + i] = i < fill ? '#' : '.';
    bar[1 + bar_width] = ']';
    bar[2 + bar_width] = '\0';
    int pct = (int)(100.0 * (double)(done > total ? total : done) / (double)total);
    snprintf(buf, size, "%s %s %3d%%  %s / %s  %s%s", file, bar, pct, sdone, stotal, srate, eta);
}

void cli_progress_update(void *user, const char *file, uint64_t done, uint64_t total)
{
    cli_progress *p = user;
    double now = mono_now();
    int finished = total && done >= total;
    if (strncmp(p->file, file, sizeof p->file - 1) != 0 || (!p->drawn && !p->start)) {
        if (p->drawn)
            fputc('\n', stderr);
        snprintf(p->file, sizeof p->file, "%s", file);
        p->start = now;
        p->last_draw = 0;
        p->base = finished ? 0 : done;
        p->drawn = 0;
    }
    if (!finished && now - p->last_draw < 0.1)
        return;
    p->last_draw = now;
    char line[256];
    cli_progress_format(line, sizeof line, file, done, total, done - p->base, now - p->start, 24);
    fprintf(stderr, "\r%s\033[K", line);
    if (finished) {
        fputc('\n', stderr);
        p->drawn = 0;
        p->file[0] = '\0';
        p->start = 0;
    } else {
        p->drawn = 1;
    }
    fflush(stderr);
}
