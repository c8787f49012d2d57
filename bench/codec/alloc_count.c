/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Counts heap allocations (and frees) made anywhere in the process, libtirpc's included:
 * the executable defines malloc, calloc, realloc and free, which the dynamic
 * linker then binds every shared library's calls to, and forwards them to
 * glibc's allocator under its internal names.  (posix_memalign and the like are
 * not counted: neither codec uses them.)  The cost per call is one
 * increment and one jump, for both codecs alike.
 *
 * glibc only: __libc_malloc and friends are glibc's exported names of its own
 * allocator.
 */
#include <stddef.h>
#include <stdlib.h>

#include "bench.h"

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

/* Single-threaded benchmark: plain counters are enough. */
static unsigned long alloc_calls;
static unsigned long free_calls;

unsigned long bench_alloc_calls(void)
{
    return alloc_calls;
}

unsigned long bench_free_calls(void)
{
    return free_calls;
}

void *malloc(size_t size)
{
    alloc_calls++;
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    alloc_calls++;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    alloc_calls++;
    return __libc_realloc(p, size);
}

void free(void *p)
{
    if (p)
        free_calls++;
    __libc_free(p);
}
