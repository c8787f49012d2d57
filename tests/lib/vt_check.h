/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks for every C test: each CHECK* macro records one check and, when it
 * fails, prints FILE:LINE, the expression, the values where there are two,
 * and the context set with vt_context(); the test then goes on.  Every
 * macro is an expression whose value is 1 when the check held, 0 when it
 * failed, so `if (!CHECK(p != NULL)) return;` stops a test that cannot go
 * on.  The counts are atomic: checks may run on any thread.
 *
 *   CHECK(cond)                  cond holds
 *   CHECK_MSG(cond, fmt, ...)    cond holds; a failure prints the message
 *   CHECK_INT(got, want)         two integers (as long long)
 *   CHECK_UINT(got, want)        two unsigned integers (printed in hex too)
 *   CHECK_RC(expr, want)         a virtwire return code: failures print names
 *   CHECK_STR(got, want)         two C strings, either may be NULL
 *   CHECK_MEM(got, glen, want, wlen)   two byte ranges (a failure dumps both)
 *   FAIL(fmt, ...)               a failure with a message of its own
 *   REQUIRE(cond)                cond holds, else the test ends at once
 *                                (exit status 1): for what the rest relies on
 *
 * vt_finish() ends a test with one summary line and its exit status;
 * vt_main() runs a table of named groups and then vt_finish().
 */
#ifndef VIRTWIRE_TESTS_VT_CHECK_H
#define VIRTWIRE_TESTS_VT_CHECK_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define VT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define VT_PRINTF(f, a)
#endif

#define CHECK(cond) vt_check(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_MSG(cond, ...) vt_check_msg(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
#define CHECK_INT(got, want)                                                                 \
    vt_check_int((long long)(got), (long long)(want), __FILE__, __LINE__, #got, #want)
#define CHECK_UINT(got, want)                                                                \
    vt_check_uint((unsigned long long)(got), (unsigned long long)(want), __FILE__, __LINE__, \
                  #got, #want)
#define CHECK_RC(expr, want)                                                                 \
    vt_check_rc((long long)(expr), (long long)(want), __FILE__, __LINE__, #expr, #want)
#define CHECK_STR(got, want) vt_check_str((got), (want), __FILE__, __LINE__, #got, #want)
#define CHECK_MEM(got, glen, want, wlen)                                                     \
    vt_check_mem((got), (glen), (want), (wlen), __FILE__, __LINE__, #got)
#define FAIL(...) vt_fail(__FILE__, __LINE__, __VA_ARGS__)
#define REQUIRE(cond) vt_require(!!(cond), __FILE__, __LINE__, #cond)

/** Failed checks so far (all threads). */
extern int vt_failures;
/** Checks made so far (all threads). */
extern int vt_checks;

int vt_check(int ok, const char *file, int line, const char *expr);
int vt_check_msg(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
    VT_PRINTF(5, 6);
int vt_check_int(long long got, long long want, const char *file, int line, const char *expr,
                 const char *wexpr);
int vt_check_uint(unsigned long long got, unsigned long long want, const char *file, int line,
                  const char *expr, const char *wexpr);
int vt_check_rc(long long got, long long want, const char *file, int line, const char *expr,
                const char *wexpr);
int vt_check_str(const char *got, const char *want, const char *file, int line, const char *expr,
                 const char *wexpr);
int vt_check_mem(const void *got, size_t glen, const void *want, size_t wlen, const char *file,
                 int line, const char *expr);

/** Records the check; a failure ends the process with status 1. */
void vt_require(int ok, const char *file, int line, const char *expr);

/** Records a failed check with a message of its own (printf format). */
void vt_fail(const char *file, int line, const char *fmt, ...) VT_PRINTF(3, 4);

/** Sets the context printed after each failure (printf format); "" clears. */
void vt_context(const char *fmt, ...) VT_PRINTF(1, 2);

/** The symbolic name of a virtwire error code, "0" for 0, "?" if unknown. */
const char *vt_error_name(long long code);

/** Prints "dump: LABEL (N bytes): ..." of the first 256 bytes to stderr. */
void vt_dump(const char *label, const void *p, size_t len);

/**
 * Ends a test: prints "NAME: all N checks passed" to stdout, or
 * "NAME: F of N checks failed" to stderr, and returns the exit status
 * (0 or 1).
 */
int vt_finish(const char *name);

/** A named group of checks. */
typedef struct vt_group {
    const char *name;
    void (*run)(void);
} vt_group;

/**
 * Runs the group named argv[1], or every group without an argument, then
 * vt_finish(argv[0]'s base name).  An unknown group name returns 2.
 */
int vt_main(int argc, char **argv, const vt_group *groups, size_t ngroups);

#endif
