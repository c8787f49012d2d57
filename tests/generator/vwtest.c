/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vwtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks;
static int failures;

void vwtest_check(int ok, const char *expr, const char *file, int line)
{
    checks++;
    if (!ok) {
        failures++;
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
    }
}

void vwtest_check_int(long long got, long long want, const char *expr, const char *file,
                      int line)
{
    vwtest_check(got == want, expr, file, line);
    if (got != want)
        fprintf(stderr, "    got %lld, want %lld\n", got, want);
}

void vwtest_check_str(const char *got, const char *want, const char *expr, const char *file,
                      int line)
{
    int ok = (got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0);
    vwtest_check(ok, expr, file, line);
    if (!ok)
        fprintf(stderr, "    got \"%s\", want \"%s\"\n", got ? got : "(null)",
                want ? want : "(null)");
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t vwtest_unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (*p == ' ' || *p == '\n' || *p == '|')
            continue;
        int v = hexval(*p);
        if (v < 0 || (hi < 0 && n == cap)) {
            fprintf(stderr, "bad hex in test: \"%s\"\n", hex);
            abort();
        }
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        fprintf(stderr, "odd number of hex digits in test: \"%s\"\n", hex);
        abort();
    }
    return n;
}

static void print_hex(const char *label, const unsigned char *b, size_t n)
{
    fprintf(stderr, "    %s (%zu bytes):", label, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%02x", i % 4 ? "" : " ", b[i]);
    fprintf(stderr, "\n");
}

/* Compares encoded bytes with the expected ones, printing both on a
 * mismatch. */
static void check_bytes(const unsigned char *got, size_t ngot, const unsigned char *want,
                        size_t nwant, const char *what, const char *file, int line)
{
    int ok = ngot == nwant && memcmp(got, want, nwant) == 0;
    vwtest_check(ok, what, file, line);
    if (!ok) {
        print_hex("got ", got, ngot);
        print_hex("want", want, nwant);
    }
}

void vwtest_encode(const virtwire_type *t, const void *v, const char *hex, const char *file,
                   int line)
{
    static unsigned char want[VWTEST_MAX_BYTES], got[VWTEST_MAX_BYTES];
    size_t nwant = vwtest_unhex(hex, want, sizeof(want));
    size_t ngot = 0;
    char what[256];

    snprintf(what, sizeof(what), "%s_encode gives the expected bytes", t->name);
    int rc = virtwire_encode(t, v, got, sizeof(got), &ngot);
    vwtest_check_int(rc, VIRTWIRE_OK, what, file, line);
    if (rc == 0)
        check_bytes(got, ngot, want, nwant, what, file, line);

    snprintf(what, sizeof(what), "%s_size equals the encoded length", t->name);
    vwtest_check_int((long long)t->encoded_size(v), (long long)nwant, what, file, line);

    snprintf(what, sizeof(what), "%s: min_size <= length <= max_size", t->name);
    vwtest_check(nwant >= t->min_size && (t->max_size == 0 || nwant <= t->max_size), what,
                 file, line);

    /* One byte short of room must fail cleanly, not overrun. */
    if (nwant > 0) {
        snprintf(what, sizeof(what), "%s_encode into a buffer 1 byte short", t->name);
        rc = virtwire_encode(t, v, got, nwant - 1, NULL);
        vwtest_check_int(rc, VIRTWIRE_ENOSPACE, what, file, line);
    }
}

void vwtest_encode_fails(const virtwire_type *t, const void *v, int want, const char *file,
                         int line)
{
    static unsigned char buf[VWTEST_MAX_BYTES];
    char what[256];
    snprintf(what, sizeof(what), "%s_encode fails with %s", t->name,
             virtwire_error_name(want));
    vwtest_check_int(virtwire_encode(t, v, buf, sizeof(buf), NULL), want, what, file, line);
}

int vwtest_decode_flags(const virtwire_type *t, const char *hex, virtwire_arena *a,
                        unsigned flags, void *v)
{
    static unsigned char buf[VWTEST_MAX_BYTES];
    size_t n = vwtest_unhex(hex, buf, sizeof(buf));
    memset(v, 0, t->size);
    return virtwire_decode_flags(t, buf, n, a, flags, v);
}

int vwtest_decode(const virtwire_type *t, const char *hex, virtwire_arena *a, void *v)
{
    return vwtest_decode_flags(t, hex, a, 0, v);
}

void vwtest_heap_roundtrip(const virtwire_type *t, const char *hex, const char *file, int line)
{
    static unsigned char want[VWTEST_MAX_BYTES], got[VWTEST_MAX_BYTES];
    size_t nwant = vwtest_unhex(hex, want, sizeof(want));
    size_t ngot = 0;
    char what[256];
    void *v = calloc(1, t->size);
    if (!v)
        abort();

    snprintf(what, sizeof(what), "%s_decode (heap mode)", t->name);
    int rc = virtwire_decode(t, want, nwant, NULL, v);
    vwtest_check_int(rc, VIRTWIRE_OK, what, file, line);
    if (rc == 0) {
        snprintf(what, sizeof(what), "%s: decode then encode gives the same bytes", t->name);
        rc = virtwire_encode(t, v, got, sizeof(got), &ngot);
        vwtest_check_int(rc, VIRTWIRE_OK, what, file, line);
        check_bytes(got, ngot, want, nwant, what, file, line);
        t->free(v);
    }
    free(v);
}

void vwtest_decode_fails_flags(const virtwire_type *t, const char *hex, unsigned flags, int want,
                               const char *file, int line)
{
    char what[256];
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    void *v = calloc(1, t->size);
    if (!v)
        abort();
    const char *mode = flags ? ", strict" : "";

    snprintf(what, sizeof(what), "%s_decode fails with %s (arena%s)", t->name,
             virtwire_error_name(want), mode);
    vwtest_check_int(vwtest_decode_flags(t, hex, &arena, flags, v), want, what, file, line);
    virtwire_arena_fini(&arena);

    /* In heap mode virtwire_decode frees what was decoded so far: under
     * ASan this checks the generated _free on half-decoded values. */
    snprintf(what, sizeof(what), "%s_decode fails with %s (heap%s)", t->name,
             virtwire_error_name(want), mode);
    vwtest_check_int(vwtest_decode_flags(t, hex, NULL, flags, v), want, what, file, line);
    free(v);
}

void vwtest_decode_fails(const virtwire_type *t, const char *hex, int want, const char *file,
                         int line)
{
    vwtest_decode_fails_flags(t, hex, 0, want, file, line);
}

int vwtest_finish(const char *name)
{
    if (failures) {
        fprintf(stderr, "%s: %d of %d checks failed\n", name, failures, checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, checks);
    return 0;
}
