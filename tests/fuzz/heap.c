/*
 * heap.c - counts the heap a fuzz harness holds, for the replay programs of
 * an ordinary build (never with the sanitizers, which bring their own
 * malloc).  malloc, calloc, realloc, free and the aligned allocators are
 * replaced by wrappers around glibc's own (__libc_*), which add and
 * subtract each block's usable size; every library the program loads
 * allocates through them.  driver.c marks the count before an input and
 * reads the peak after it.  Files mapped with mmap are not heap and are
 * not counted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <stddef.h>
#include <unistd.h>

#include "heap.h"

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t k, size_t n);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

static size_t heap_now, heap_peak;
size_t fuzz_heap_allowed;

static void *heap_add(void *p)
{
    if (p) {
        size_t now = __atomic_add_fetch(&heap_now, malloc_usable_size(p), __ATOMIC_RELAXED);
        size_t peak = __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);
        while (now > peak &&
               !__atomic_compare_exchange_n(&heap_peak, &peak, now, 1, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
            ;
    }
    return p;
}

static void heap_sub(void *p)
{
    if (p)
        __atomic_sub_fetch(&heap_now, malloc_usable_size(p), __ATOMIC_RELAXED);
}

size_t fuzz_heap_mark(void)
{
    size_t now = __atomic_load_n(&heap_now, __ATOMIC_RELAXED);
    __atomic_store_n(&heap_peak, now, __ATOMIC_RELAXED);
    return now;
}

size_t fuzz_heap_peak(void)
{
    return __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);
}

void *malloc(size_t n)
{
    return heap_add(__libc_malloc(n));
}

void *calloc(size_t k, size_t n)
{
    return heap_add(__libc_calloc(k, n));
}

void free(void *p)
{
    heap_sub(p);
    __libc_free(p);
}

void *realloc(void *p, size_t n)
{
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = __libc_realloc(p, n);
    if (!q && p && n)
        return NULL; /* failed: p is untouched */
    __atomic_sub_fetch(&heap_now, old, __ATOMIC_RELAXED);
    return heap_add(q);
}

void *memalign(size_t align, size_t n)
{
    return heap_add(__libc_memalign(align, n));
}

void *aligned_alloc(size_t align, size_t n)
{
    return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    void *p = memalign(align, n);
    if (!p && n)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t n)
{
    return memalign((size_t)sysconf(_SC_PAGESIZE), n);
}

void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return memalign(page, (n + page - 1) / page * page);
}
