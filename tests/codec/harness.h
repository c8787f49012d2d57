/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny test harness for the codec tests.
 *
 * Every CHECK_* macro records one check: a failure prints file:line, the
 * expression, both values and the current context (what the test was doing,
 * set with vwt_context()), then the test goes on.  vwt_main() runs the named
 * groups and prints "N passed, M failed"; the exit status is non-zero when a
 * check failed.
 */
#ifndef VWT_HARNESS_H
#define VWT_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "virtwire_xdr.h"

#if defined(__GNUC__) || defined(__clang__)
#define VWT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define VWT_PRINTF(f, a)
#endif

/** Sets the context printed with failures (printf format). */
void vwt_context(const char *fmt, ...) VWT_PRINTF(1, 2);

int vwt_check(int ok, const char *file, int line, const char *expr);
int vwt_check_int(long long got, long long want, const char *file, int line, const char *expr,
                  const char *wexpr);
int vwt_check_uint(unsigned long long got, unsigned long long want, const char *file, int line,
                   const char *expr, const char *wexpr);
int vwt_check_rc(int got, int want, const char *file, int line, const char *expr);
int vwt_check_str(const char *got, const char *want, const char *file, int line, const char *expr);
int vwt_check_mem(const void *got, size_t glen, const void *want, size_t wlen, const char *file,
                  int line, const char *expr);

#define CHECK(cond) vwt_check(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_INT(got, want) vwt_check_int((got), (want), __FILE__, __LINE__, #got, #want)
#define CHECK_UINT(got, want) vwt_check_uint((got), (want), __FILE__, __LINE__, #got, #want)
/** Checks a virtwire return code; failures print the error names. */
#define CHECK_RC(expr, want) vwt_check_rc((expr), (want), __FILE__, __LINE__, #expr)
#define CHECK_STR(got, want) vwt_check_str((got), (want), __FILE__, __LINE__, #got)
#define CHECK_MEM(got, glen, want, wlen)                                       \
    vwt_check_mem((got), (glen), (want), (wlen), __FILE__, __LINE__, #got)

/** One group of checks; main() runs all of them or the one named in argv. */
typedef struct vwt_group {
    const char *name;
    void (*run)(void);
} vwt_group;

int vwt_main(int argc, char **argv, const vwt_group *groups, size_t ngroups);

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
