/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long passed, failed;
static char context[256];

void vwt_context(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof(context), fmt, ap);
    va_end(ap);
}

/* Counts one check and, on failure, prints where it is and the context. */
static int record(int ok, const char *file, int line, const char *expr)
{
    if (ok) {
        passed++;
        return 1;
    }
    failed++;
    fprintf(stderr, "%s:%d: FAILED: %s", file, line, expr);
    if (context[0])
        fprintf(stderr, "  [%s]", context);
    fputc('\n', stderr);
    return 0;
}

int vwt_check(int ok, const char *file, int line, const char *expr)
{
    return record(ok, file, line, expr);
}

int vwt_check_int(long long got, long long want, const char *file, int line, const char *expr,
                  const char *wexpr)
{
    if (!record(got == want, file, line, expr))
        fprintf(stderr, "    got %lld, want %lld (%s)\n", got, want, wexpr);
    return got == want;
}

int vwt_check_uint(unsigned long long got, unsigned long long want, const char *file, int line,
                   const char *expr, const char *wexpr)
{
    if (!record(got == want, file, line, expr))
        fprintf(stderr, "    got %llu (0x%llx), want %llu (0x%llx) (%s)\n", got, got, want, want,
                wexpr);
    return got == want;
}

static const char *rc_name(int rc)
{
    const char *n = virtwire_error_name(rc);
    return n ? n : "?";
}

int vwt_check_rc(int got, int want, const char *file, int line, const char *expr)
{
    if (!record(got == want, file, line, expr))
        fprintf(stderr, "    got %d %s, want %d %s\n", got, rc_name(got), want, rc_name(want));
    return got == want;
}

int vwt_check_str(const char *got, const char *want, const char *file, int line, const char *expr)
{
    int ok = got && want ? strcmp(got, want) == 0 : got == want;
    if (!record(ok, file, line, expr))
        fprintf(stderr, "    got \"%s\", want \"%s\"\n", got ? got : "(null)",
                want ? want : "(null)");
    return ok;
}

static void dump(const char *label, const unsigned char *p, size_t len)
{
    fprintf(stderr, "    %s (%zu bytes):", label, len);
    for (size_t i = 0; i < len && i < 256; i++)
        fprintf(stderr, "%s%02x", i % 4 ? "" : " ", p[i]);
    fprintf(stderr, "%s\n", len > 256 ? " ..." : "");
}

int vwt_check_mem(const void *got, size_t glen, const void *want, size_t wlen, const char *file,
                  int line, const char *expr)
{
    int ok = glen == wlen && (glen == 0 || memcmp(got, want, glen) == 0);
    if (!record(ok, file, line, expr)) {
        dump("got ", got, glen);
        dump("want", want, wlen);
    }
    return ok;
}

unsigned char *vwt_dup(const void *buf, size_t len)
{
    unsigned char *p = malloc(len ? len : 1);
    if (!p) {
        perror("malloc");
        exit(2);
    }
    if (len)
        memcpy(p, buf, len);
    return p;
}

vwt_arena_state vwt_arena_snapshot(const virtwire_arena *a)
{
    vwt_arena_state s = { a->allocs, a->cur, a->lim, a->head };
    return s;
}

int vwt_check_arena_used(const virtwire_arena *a, vwt_arena_state snap, size_t used,
                         const char *file, int line)
{
    int same_block = (const void *)a->head == snap.head && a->lim == snap.lim;
    int ok = a->allocs == snap.allocs && same_block && a->cur == snap.cur + used;
    if (!record(ok, file, line, "arena use"))
        fprintf(stderr, "    allocs %zu -> %zu, %s, used %td bytes, want %zu\n", snap.allocs,
                a->allocs, same_block ? "same block" : "another block",
                same_block ? a->cur - snap.cur : (ptrdiff_t)-1, used);
    return ok;
}

int vwt_main(int argc, char **argv, const vwt_group *groups, size_t ngroups)
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
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed ? 1 : 0;
}
