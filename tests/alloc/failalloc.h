/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation-failure injection for the tests in this directory.
 *
 * The test executables are linked with -Wl,--wrap=malloc,--wrap=calloc,
 * --wrap=realloc,--wrap=strdup,--wrap=free: every call that the runtime,
 * the generated code or the test itself makes to those functions goes
 * through the wrappers in failalloc.c (calls made inside the C library, by
 * pthread_create() or getaddrinfo() say, do not).  While a scenario runs,
 * the wrappers record each allocation with its call site and keep the set
 * of blocks still allocated.
 *
 * fa_run() runs a scenario in a child process once to record its
 * allocations (N of them, made from S distinct call sites), then once per
 * recorded allocation, each time making that allocation fail: the j-th
 * allocation made from call site X, so that allocations made by several
 * threads are told apart by where they come from rather than by their
 * global order.  Each run must return 0 (the scenario's own checks of what
 * the API returned), free every block it allocated, close every fd it
 * opened, exit normally (so that LeakSanitizer checks it too in a sanitizer
 * build), and finish within a time limit.  Finally every call site must
 * have been made to fail at least once.
 */
#ifndef VIRTWIRE_TESTS_FAILALLOC_H
#define VIRTWIRE_TESTS_FAILALLOC_H

#include <stddef.h>
#include <stdio.h>

/** A scenario: runs in a child process; returns 0 when every outcome it
 *  saw was a documented one, non-zero otherwise (after printing why). */
typedef int (*fa_scenario)(void *opaque);

/**
 * Runs scenario fn under allocation-failure injection as described above
 * and prints one summary line.  Returns 0 on success, 1 on failure (the
 * reasons are printed).  seconds: time limit of each run.
 */
int fa_run(const char *name, fa_scenario fn, void *opaque, unsigned seconds);

/** Whether the command line is "PROGRAM session" followed by what
 *  more_usage names (more: how many words that is); prints the usage to
 *  stderr when it is not. */
int fa_session_args(int argc, char **argv, int more, const char *more_usage);

/** Inside a scenario: whether the injected failure has happened yet (0 in
 *  the recording run). */
int fa_fired(void);

/** Inside a scenario: whether this run injects a failure at all. */
int fa_injecting(void);

/** Memory for the scenario's own bookkeeping: never fails, never counted. */
void *fa_raw_alloc(size_t n);
void fa_raw_free(void *p);

/** Inside a scenario: reports a failed check (file:line: message) and
 *  returns 1. */
#define FA_FAIL(...) fa_fail(__FILE__, __LINE__, __VA_ARGS__)
int fa_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** Checks a condition inside a scenario: on failure reports it and makes
 *  the scenario return 1. */
#define FA_CHECK(cond)                                                         \
    do {                                                                       \
        if (!(cond))                                                           \
            return FA_FAIL("check failed: %s", #cond);                         \
    } while (0)

/** Checks a condition inside a scenario that keeps its verdict in an int
 *  `bad` and cleans up at a label `out`: on failure reports it, sets bad
 *  and jumps there. */
#define EXPECT(cond)                                                           \
    do {                                                                       \
        if (!(cond)) {                                                         \
            bad = FA_FAIL("expected: %s", #cond);                              \
            goto out;                                                          \
        }                                                                      \
    } while (0)

#endif
