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
#include "nfslike_bytes.h"

static int failures;
static int checks;

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
