/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading and printing the bytes of nfslike_cases.h, for nfslike_virtwire.c
 * and nfslike_rpcgen.c. */
#ifndef NFSLIKE_BYTES_H
#define NFSLIKE_BYTES_H

#include <stdio.h>
#include <stdlib.h>

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

#endif
