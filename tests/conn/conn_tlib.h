/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the connection tests: checks, counting open fds,
 * socket helpers and a bounded event loop over several connections.
 */
#ifndef VIRTWIRE_TESTS_CONN_TLIB_H
#define VIRTWIRE_TESTS_CONN_TLIB_H

#include <stddef.h>
#include <stdint.h>

#include "virtwire_conn.h"

extern int ct_failures;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            ct_fail(__FILE__, __LINE__, "%s", #cond);                          \
    } while (0)

#define CHECK_INT(a, b)                                                        \
    do {                                                                       \
        long long ct_a_ = (long long)(a), ct_b_ = (long long)(b);              \
        if (ct_a_ != ct_b_)                                                    \
            ct_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, \
                    ct_a_, #b, ct_b_);                                         \
    } while (0)

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void ct_fail(const char *file, int line, const char *fmt, ...);

/** Prints the result; returns the process exit status. */
int ct_done(const char *name);

/** How many fds the process has open (entries of /proc/self/fd). */
int ct_count_fds(void);

/** A condition for ct_pump(). */
typedef int (*ct_cond)(void *ctx);

/**
 * Polls the n connections and processes each until cond(ctx) holds (or,
 * with cond NULL, until the first error).  Returns 0 when cond holds, the
 * first error a connection returned, or -1 after timeout_ms.
 */
int ct_pump(virtwire_conn **conns, size_t n, ct_cond cond, void *ctx, int timeout_ms);

/** Sets SO_SNDBUF and SO_RCVBUF of sock to bytes (the kernel doubles it). */
void ct_small_buffers(int sock, int bytes);

/** A deterministic byte for offset i of the data called seed. */
static inline unsigned char ct_pattern(uint32_t seed, uint64_t i)
{
    return (unsigned char)(seed * 131u + i * 7u + (i >> 9) + (i >> 17));
}

/** Fills p with len pattern bytes starting at offset off. */
void ct_fill(unsigned char *p, size_t len, uint32_t seed, uint64_t off);

/** Whether p holds the pattern bytes of seed from offset off. */
int ct_matches(const unsigned char *p, size_t len, uint32_t seed, uint64_t off);

/** Writes all of p to a blocking fd; returns 0 or -1. */
int ct_write_all(int fd, const void *p, size_t len);

#endif
