/*
 * heap.h - the heap counter of heap.c, read by driver.c.
 */
#ifndef NLP_FUZZ_HEAP_H
#define NLP_FUZZ_HEAP_H

#include <stddef.h>

/* Start a measurement: the peak is reset to the bytes held now, which are
 * returned. */
size_t fuzz_heap_mark(void);

/* The most bytes held at once since the last fuzz_heap_mark. */
size_t fuzz_heap_peak(void);

/* Bytes the input being measured may hold beyond K * n + C, set by the
 * harness (FUZZ_ALLOW in fuzz_util.h) and reset to 0 by the driver before
 * each measured run: what the input declares at a documented cost per
 * unit (a vocabulary's id range, a config's labels) or what the harness
 * itself keeps (the text it printed, its own copies). */
extern size_t fuzz_heap_allowed;

#endif
