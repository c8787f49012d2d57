/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the codec tests share besides tests/lib (whose vt_check.h has the
 * checks, vt_context() and the group runner vt_main()): exact-size copies
 * of input, and checks of what an arena allocated.
 */
#ifndef VWT_HARNESS_H
#define VWT_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "virtwire_xdr.h"
#include "vt_check.h"

/** A copy of len bytes in a heap block of exactly len bytes, so that
 *  AddressSanitizer catches any read past the end (len 0: a 1-byte block). */
unsigned char *vwt_dup(const void *buf, size_t len);

/** What an arena looks like; equal snapshots mean nothing was allocated. */
typedef struct vwt_arena_state {
    size_t allocs;
    const unsigned char *cur;
    const unsigned char *lim;
    const void *head;
} vwt_arena_state;

vwt_arena_state vwt_arena_snapshot(const virtwire_arena *a);
/** Checks that, since the snapshot, the arena made no malloc() and handed
 *  out exactly `used` bytes from its current block (0: nothing at all). */
#define CHECK_ARENA_USED(a, snap, used)                                        \
    vwt_check_arena_used((a), (snap), (used), __FILE__, __LINE__)
int vwt_check_arena_used(const virtwire_arena *a, vwt_arena_state snap, size_t used,
                         const char *file, int line);

#endif /* VWT_HARNESS_H */
