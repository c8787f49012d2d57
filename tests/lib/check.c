/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vt_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtwire_error.h"

int vt_failures;
int vt_checks;

/* Written by the thread that sets it, read on failures: tests set it
 * before they start threads. */
static char context[256];

void vt_context(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
}

static void failed(const char *file, int line)
{
    __atomic_add_fetch(&vt_failures, 1, __ATOMIC_SEQ_CST);
    fprintf(stderr, "%s:%d: check failed: ", file, line);
}

static void end_line(void)
{
    if (context[0])
        fprintf(stderr, "  [%s]", context);
    fputc('\n', stderr);
}

/* Counts one check; on failure prints where and the expression. */
static int record(int ok, const char *file, int line, const char *expr)
{
    __atomic_add_fetch(&vt_checks, 1, __ATOMIC_SEQ_CST);
    if (ok)
        return 1;
    failed(file, line);
    fputs(expr, stderr);
    end_line();
    return 0;
}

int vt_check(int ok, const char *file, int line, const char *expr)
{
    return record(ok, file, line, expr);
}

void vt_require(int ok, const char *file, int line, const char *expr)
{
    if (record(ok, file, line, expr))
        return;
    fflush(stdout);
    exit(1);
}

int vt_check_msg(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
    __atomic_add_fetch(&vt_checks, 1, __ATOMIC_SEQ_CST);
    if (ok)
        return 1;
    failed(file, line);
    fprintf(stderr, "%s: ", expr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    end_line();
    return 0;
}

void vt_fail(const char *file, int line, const char *fmt, ...)
{
    __atomic_add_fetch(&vt_checks, 1, __ATOMIC_SEQ_CST);
    failed(file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    end_line();
}

/* " (EXPR)" after the values, when there is one. */
static const char *paren(const char *wexpr, char *buf, size_t n)
{
    if (!wexpr || !*wexpr)
        return "";
    snprintf(buf, n, " (%s)", wexpr);
    return buf;
}

int vt_check_int(long long got, long long want, const char *file, int line, const char *expr,
                 const char *wexpr)
{
    if (!record(got == want, file, line, expr))
{
        char b[256];
        fprintf(stderr, "    got %lld, want %lld%s\n", got, want, paren(wexpr, b, sizeof b));
    }
    return got == want;
}

int vt_check_uint(unsigned long long got, unsigned long long want, const char *file, int line,
                  const char *expr, const char *wexpr)
{
    if (!record(got == want, file, line, expr))
{
        char b[256];
        fprintf(stderr, "    got %llu (0x%llx), want %llu (0x%llx)%s\n", got, got, want, want,
                paren(wexpr, b, sizeof b));
    }
    return got == want;
}

const char *vt_error_name(long long code)
{
    if (code == 0)
        return "0";
    const char *n = code >= -0x7fffffffLL && code < 0 ? virtwire_error_name((int)code) : NULL;
    return n ? n : "?";
}

int vt_check_rc(long long got, long long want, const char *file, int line, const char *expr,
                const char *wexpr)
{
    if (!record(got == want, file, line, expr))
        fprintf(stderr, "    got %lld (%s), want %lld (%s, %s)\n", got, vt_error_name(got), want,
                vt_error_name(want), wexpr);
    return got == want;
}

int vt_check_str(const char *got, const char *want, const char *file, int line, const char *expr,
                 const char *wexpr)
{
    int ok = got && want ? strcmp(got, want) == 0 : got == want;
    if (record(ok, file, line, expr))
        return 1;
    /* Multi-line text (callback logs) reads best as blocks. */
    if ((got && strchr(got, '\n')) || (want && strchr(want, '\n')))
        fprintf(stderr, "--- got:\n%s--- want (%s):\n%s", got ? got : "(null)\n", wexpr,
                want ? want : "(null)\n");
    else {
        char b[256];
        fprintf(stderr, "    got \"%s\", want \"%s\"%s\n", got ? got : "(null)",
                want ? want : "(null)", paren(wexpr, b, sizeof b));
    }
    return 0;
}

void vt_dump(const char *label, const void *p, size_t len)
{
    const unsigned char *b = p;
    fprintf(stderr, "    %s (%zu bytes):", label, len);
    for (size_t i = 0; i < len && i < 256; i++)
        fprintf(stderr, "%s%02x", i % 4 ? "" : " ", b[i]);
    fprintf(stderr, "%s\n", len > 256 ? " ..." : "");
}

int vt_check_mem(const void *got, size_t glen, const void *want, size_t wlen, const char *file,
                 int line, const char *expr)
{
    int ok = glen == wlen && (glen == 0 || memcmp(got, want, glen) == 0);
    if (!record(ok, file, line, expr)) {
        vt_dump("got ", got, glen);
        vt_dump("want", want, wlen);
    }
    return ok;
}

int vt_finish(const char *name)
{
    int failures = __atomic_load_n(&vt_failures, __ATOMIC_SEQ_CST);
    int checks = __atomic_load_n(&vt_checks, __ATOMIC_SEQ_CST);
    fflush(stdout);
    if (failures) {
        fprintf(stderr, "%s: %d of %d checks failed\n", name, failures, checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, checks);
    return 0;
}

int vt_main(int argc, char **argv, const vt_group *groups, size_t ngroups)
{
    int ran = 0;
    for (size_t i = 0; i < ngroups; i++) {
        if (argc > 1 && strcmp(argv[1], groups[i].name) != 0)
            continue;
        context[0] = '\0';
        groups[i].run();
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "%s: no test group named %s\n", argv[0], argv[1]);
        return 2;
    }
    const char *base = strrchr(argv[0], '/');
    return vt_finish(argc > 1 ? argv[1] : base ? base + 1 : argv[0]);
}
