/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vt_hex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

size_t vt_hex(const char *s, unsigned char *out, size_t cap)
{
    size_t n = 0;
    while (*s) {
        if (*s == '"') {
            for (s++; *s && *s != '"'; s++) {
                if (n >= cap)
                    abort();
                out[n++] = (unsigned char)*s;
            }
            if (*s)
                s++;
            continue;
        }
        if (isspace((unsigned char)*s) || *s == '|') {
            s++;
            continue;
        }
        int hi = hexval(s[0]), lo = s[1] ? hexval(s[1]) : -1;
        if (hi < 0 || lo < 0 || n >= cap) {
            fprintf(stderr, "vt_hex: bad input at \"%.10s\"\n", s);
            abort();
        }
        out[n++] = (unsigned char)(hi << 4 | lo);
        s += 2;
    }
    return n;
}
