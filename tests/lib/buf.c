/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vt_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vt_buf_add(vt_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q)
            abort();
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

void vt_buf_u32(vt_buf *b, uint32_t v)
{
    unsigned char w[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 8), (unsigned char)v };
    vt_buf_add(b, w, 4);
}

void vt_buf_u64(vt_buf *b, uint64_t v)
{
    vt_buf_u32(b, (uint32_t)(v >> 32));
    vt_buf_u32(b, (uint32_t)v);
}

void vt_buf_printf(vt_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        abort();
    vt_buf_add(b, tmp, (size_t)n);
}

void vt_buf_consume(vt_buf *b, size_t n)
{
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
    if (b->p)
        b->p[b->len] = 0;
}

const char *vt_buf_str(vt_buf *b)
{
    if (!b->p)
        vt_buf_add(b, "", 0);
    return (const char *)b->p;
}

void vt_buf_free(vt_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
