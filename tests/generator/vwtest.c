/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vwtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vwtest_encode(const virtwire_type *t, const void *v, const char *hex, const char *file,
                   int line)
{
    static unsigned char want[VWTEST_MAX_BYTES], got[VWTEST_MAX_BYTES];
    size_t nwant = vt_hex(hex, want, sizeof(want));
    size_t ngot = 0;
    char what[256];

    snprintf(what, sizeof(what), "%s_encode gives the expected bytes", t->name);
    int rc = virtwire_encode(t, v, got, sizeof(got), &ngot);
    vt_check_int(rc, VIRTWIRE_OK, file, line, what, "");
    if (rc == 0)
        vt_check_mem(got, ngot, want, nwant, file, line, what);

    snprintf(what, sizeof(what), "%s_size equals the encoded length", t->name);
    vt_check_int((long long)t->encoded_size(v), (long long)nwant, file, line, what, "");

    snprintf(what, sizeof(what), "%s: min_size <= length <= max_size", t->name);
    vt_check(nwant >= t->min_size && (t->max_size == 0 || nwant <= t->max_size), file, line,
             what);

    /* One byte short of room must fail cleanly, not overrun. */
    if (nwant > 0) {
        snprintf(what, sizeof(what), "%s_encode into a buffer 1 byte short", t->name);
        rc = virtwire_encode(t, v, got, nwant - 1, NULL);
        vt_check_int(rc, VIRTWIRE_ENOSPACE, file, line, what, "");
    }
}

void vwtest_encode_fails(const virtwire_type *t, const void *v, int want, const char *file,
                         int line)
{
    static unsigned char buf[VWTEST_MAX_BYTES];
    char what[256];
    snprintf(what, sizeof(what), "%s_encode fails with %s", t->name,
             virtwire_error_name(want));
    vt_check_int(virtwire_encode(t, v, buf, sizeof(buf), NULL), want, file, line, what, "");
}

int vwtest_decode_flags(const virtwire_type *t, const char *hex, virtwire_arena *a,
                        unsigned flags, void *v)
{
    static unsigned char buf[VWTEST_MAX_BYTES];
    size_t n = vt_hex(hex, buf, sizeof(buf));
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
    size_t nwant = vt_hex(hex, want, sizeof(want));
    size_t ngot = 0;
    char what[256];
    void *v = calloc(1, t->size);
    if (!v)
        abort();

    snprintf(what, sizeof(what), "%s_decode (heap mode)", t->name);
    int rc = virtwire_decode(t, want, nwant, NULL, v);
    vt_check_int(rc, VIRTWIRE_OK, file, line, what, "");
    if (rc == 0) {
        snprintf(what, sizeof(what), "%s: decode then encode gives the same bytes", t->name);
        rc = virtwire_encode(t, v, got, sizeof(got), &ngot);
        vt_check_int(rc, VIRTWIRE_OK, file, line, what, "");
        vt_check_mem(got, ngot, want, nwant, file, line, what);
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
    vt_check_int(vwtest_decode_flags(t, hex, &arena, flags, v), want, file, line, what, "");
    virtwire_arena_fini(&arena);

    /* In heap mode virtwire_decode frees what was decoded so far: under
     * ASan this checks the generated _free on half-decoded values. */
    snprintf(what, sizeof(what), "%s_decode fails with %s (heap%s)", t->name,
             virtwire_error_name(want), mode);
    vt_check_int(vwtest_decode_flags(t, hex, NULL, flags, v), want, file, line, what, "");
    free(v);
}

void vwtest_decode_fails(const virtwire_type *t, const char *hex, int want, const char *file,
                         int line)
{
    vwtest_decode_fails_flags(t, hex, 0, want, file, line);
}
