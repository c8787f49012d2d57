/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The reference for nfslike_virtwire.c: rpcgen's code for nfslike.x, run by
 * libtirpc, must encode every value of nfslike_cases.h to the same bytes,
 * decode those bytes and encode the result to the same bytes again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpc/rpc.h>

#include "nfslike.h" /* rpcgen's */

static int failures;
static int checks;

/* Hex with spaces and '|' between words to bytes; returns the count. */
static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p == ' ' || *p == '|')
            continue;
        else
            abort();
        if (hi < 0) {
            hi = v;
        } else {
            if (n == cap)
                abort();
            out[n++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0)
        abort();
    return n;
}

static void dump(const char *what, const unsigned char *b, size_t n)
{
    fprintf(stderr, "  %s (%zu bytes):", what, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%02x", i % 4 ? "" : " ", b[i]);
    fputc('\n', stderr);
}

/* Encodes v with proc into buf; returns the length, or (size_t)-1. */
static size_t encode(xdrproc_t proc, void *v, unsigned char *buf, size_t cap)
{
    XDR x;
    xdrmem_create(&x, (char *)buf, (u_int)cap, XDR_ENCODE);
    size_t n = proc(&x, v) ? xdr_getpos(&x) : (size_t)-1;
    xdr_destroy(&x);
    return n;
}

static void check_case(const char *type, xdrproc_t proc, void *v, void *decoded, const char *hex,
                       int line)
{
    unsigned char want[4096], got[4096];
    size_t nwant = unhex(hex, want, sizeof want);
    checks++;

    size_t n = encode(proc, v, got, sizeof got);
    if (n != nwant || memcmp(got, want, n) != 0) {
        fprintf(stderr, "line %d: xdr_%s encodes differently\n", line, type);
        dump("want", want, nwant);
        if (n != (size_t)-1)
            dump("got", got, n);
        failures++;
        return;
    }

    XDR x;
    xdrmem_create(&x, (char *)want, (u_int)nwant, XDR_DECODE);
    int ok = proc(&x, decoded);
    size_t used = xdr_getpos(&x);
    xdr_destroy(&x);
    if (!ok || used != nwant) {
        fprintf(stderr, "line %d: xdr_%s does not decode its bytes\n", line, type);
        failures++;
        return;
    }
    n = encode(proc, decoded, got, sizeof got);
    if (n != nwant || memcmp(got, want, n) != 0) {
        fprintf(stderr, "line %d: xdr_%s round trip differs\n", line, type);
        failures++;
    }
}

#define CHECK_CASE(T, v, hex)                                                  \
    do {                                                                       \
        T dec_;                                                                \
        memset(&dec_, 0, sizeof dec_);                                         \
        check_case(#T, (xdrproc_t)xdr_##T, (v), &dec_, (hex), __LINE__);       \
        xdr_free((xdrproc_t)xdr_##T, (char *)&dec_);                           \
    } while (0)

#include "nfslike_cases.h"

int main(void)
{
    nfslike_cases();
    printf("nfslike (rpcgen + libtirpc): %d cases, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
