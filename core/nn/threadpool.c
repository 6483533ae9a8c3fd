/*
 * threadpool.c - persistent pthread workers for parallel-for loops.
 *
 * Work items are claimed with an atomic counter, so uneven items balance
 * themselves.  Between runs a worker first spins briefly on the run
 * counter (a forward pass starts a hundred short runs back to back, and a
 * condition-variable wake-up costs tens of microseconds), then sleeps on a
 * condition variable.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "threadpool.h"

struct nlp_pool {
    int n_threads;              /* including the caller */
    pthread_t *workers;         /* [n_threads - 1] */
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_ulong generation;    /* bumped per run */
    atomic_int stopping;
    atomic_int active;          /* workers still inside the current run */
    nlp_pool_fn fn;
    void *arg;
    size_t n;
    atomic_size_t next;
    void *scratch;              /* nlp_pool_scratch */
    size_t scratch_bytes;
};

int nlp_pool_default_threads(void)
{
    const char *env = getenv("NLP_NUM_THREADS");
    if (env && *env) {
        long v = strtol(env, NULL, 10);
        if (v > 0 && v <= 1024)
            return (int)v;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void drain(nlp_pool *p)
{
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            break;
        p->fn(p->arg, i);
    }
}

enum { SPINS = 4000 };

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker(void *vp)
{
    nlp_pool *p = vp;
    unsigned long seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load(&p->generation) == seen && !atomic_load(&p->stopping)) {
            if (++spins < SPINS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->stopping))
                pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stopping))
            break;
        seen = atomic_load(&p->generation);
        drain(p);
        if (atomic_fetch_sub(&p->active, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

nlp_pool *nlp_pool_create(int n_threads)
{
    if (n_threads <= 0)
        n_threads = nlp_pool_default_threads();
    nlp_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n_threads = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (n_threads > 1) {
        p->workers = calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            nlp_pool_free(p);
            return NULL;
        }
        for (int i = 0; i < n_threads - 1; i++) {
            if (pthread_create(&p->workers[i], NULL, worker, p) != 0) {
                p->n_threads = i + 1; /* only i workers started */
                nlp_pool_free(p);
                return NULL;
            }
        }
    }
    return p;
}

void nlp_pool_free(nlp_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stopping, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; p->workers && i < p->n_threads - 1; i++)
        pthread_join(p->workers[i], NULL);
    free(p->workers);
    free(p->scratch);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p);
}

int nlp_pool_threads(const nlp_pool *p)
{
    return p ? p->n_threads : 1;
}

void nlp_pool_run(nlp_pool *p, nlp_pool_fn fn, void *arg, size_t n)
{
    if (!p || p->n_threads <= 1 || n <= 1) {
        for (size_t i = 0; i < n; i++)
            fn(arg, i);
        return;
    }
    /* the previous run is over (active == 0), so no worker reads these */
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    atomic_store(&p->next, 0);
    atomic_store(&p->active, p->n_threads - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p);
    for (int spins = 0; atomic_load(&p->active) > 0 && spins < SPINS; spins++)
        cpu_relax();
    if (atomic_load(&p->active) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->active) > 0)
            pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

void *nlp_pool_scratch(nlp_pool *p, size_t bytes)
{
    if (!p)
        return NULL;
    if (bytes > p->scratch_bytes) {
        size_t want = (bytes + 63) / 64 * 64;
        void *mem = NULL;
        if (want < bytes || posix_memalign(&mem, 64, want) != 0)
            return NULL;
        free(p->scratch);
        p->scratch = mem;
        p->scratch_bytes = want;
    }
    return p->scratch;
}

size_t nlp_pool_rows_per_task(const nlp_pool *pool, size_t N, size_t *tasks)
{
    size_t t = (size_t)nlp_pool_threads(pool) * 4;
    if (t > N)
        t = N;
    const size_t rows = t ? (N + t - 1) / t : 1;
    *tasks = (N + rows - 1) / rows;
    return rows;
}

void nlp_pool_run_workers(nlp_pool *pool, nlp_pool_fn fn, void *arg, size_t items)
{
    size_t tasks = (size_t)nlp_pool_threads(pool);
    nlp_pool_run(pool, fn, arg, tasks < items ? tasks : items);
}
