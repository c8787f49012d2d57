/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the connection tests share besides tests/lib: a bounded event loop
 * over several connections and deterministic data patterns.
 */
#ifndef VIRTWIRE_TESTS_CONN_TLIB_H
#define VIRTWIRE_TESTS_CONN_TLIB_H

#include <stddef.h>
#include <stdint.h>

#include "virtwire_conn.h"
#include "vt_check.h"
#include "vt_sys.h"

/** A condition for ct_pump(). */
typedef int (*ct_cond)(void *ctx);

/**
 * Polls the n connections and processes each until cond(ctx) holds (or,
 * with cond NULL, until the first error).  Returns 0 when cond holds, the
 * first error a connection returned, or -1 after timeout_ms.
 */
int ct_pump(virtwire_conn **conns, size_t n, ct_cond cond, void *ctx, int timeout_ms);

/** A deterministic byte for offset i of the data called seed. */
static inline unsigned char ct_pattern(uint32_t seed, uint64_t i)
{
    return (unsigned char)(seed * 131u + i * 7u + (i >> 9) + (i >> 17));
}

/** Fills p with len pattern bytes starting at offset off. */
void ct_fill(unsigned char *p, size_t len, uint32_t seed, uint64_t off);

/** Whether p holds the pattern bytes of seed from offset off. */
int ct_matches(const unsigned char *p, size_t len, uint32_t seed, uint64_t off);

#endif
