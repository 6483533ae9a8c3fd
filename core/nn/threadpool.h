/*
 * threadpool.h - a fixed set of worker threads running parallel-for loops.
 *
 * nlp_pool_run(pool, fn, arg, n) calls fn(arg, i) once for every i in
 * [0, n), spread over the pool's threads (the calling thread works too),
 * and returns when all calls are done.  One run at a time per pool.
 */
#ifndef NLP_THREADPOOL_H
#define NLP_THREADPOOL_H

#include <stddef.h>

typedef struct nlp_pool nlp_pool;
typedef void (*nlp_pool_fn)(void *arg, size_t i);

/* n_threads <= 0: NLP_NUM_THREADS if set, else the online cores.
 * Returns NULL when out of memory or threads cannot be started. */
nlp_pool *nlp_pool_create(int n_threads);
void nlp_pool_free(nlp_pool *pool);
int nlp_pool_threads(const nlp_pool *pool);

/* Run fn(arg, i) for i in [0, n).  pool may be NULL (runs inline). */
void nlp_pool_run(nlp_pool *pool, nlp_pool_fn fn, void *arg, size_t n);

/* Split N rows into about four tasks per thread: the rows of each task
 * (at least 1), with the number of tasks into *tasks. */
size_t nlp_pool_rows_per_task(const nlp_pool *pool, size_t N, size_t *tasks);

/* Run fn(arg, i) on min(threads, items) tasks, for workers that take
 * their items from a counter they share. */
void nlp_pool_run_workers(nlp_pool *pool, nlp_pool_fn fn, void *arg, size_t items);

/* A scratch buffer of at least bytes bytes (64-byte aligned) owned by the
 * pool, for the run about to start: its contents do not survive the next
 * call, and it is freed with the pool.  It only grows (a forward pass
 * asks for the same sizes again and again, so after the first pass no
 * call allocates).  Returns NULL when pool is NULL or out of memory. */
void *nlp_pool_scratch(nlp_pool *pool, size_t bytes);

/* The thread count n_threads <= 0 resolves to. */
int nlp_pool_default_threads(void);

#endif /* NLP_THREADPOOL_H */
