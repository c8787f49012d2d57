/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A growable byte buffer that keeps a NUL after its bytes, so that text
 * built in it is a C string.  Out of memory aborts the test.
 */
#ifndef VIRTWIRE_TESTS_VT_BUF_H
#define VIRTWIRE_TESTS_VT_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "vt_check.h" /* VT_PRINTF */

typedef struct vt_buf {
    unsigned char *p;
    size_t len;
    size_t cap;
} vt_buf;

void vt_buf_add(vt_buf *b, const void *p, size_t n);
/** Appends a big-endian word. */
void vt_buf_u32(vt_buf *b, uint32_t v);
void vt_buf_u64(vt_buf *b, uint64_t v);
/** Appends formatted text (at most 511 bytes at a time). */
void vt_buf_printf(vt_buf *b, const char *fmt, ...) VT_PRINTF(2, 3);
/** Drops the first n bytes. */
void vt_buf_consume(vt_buf *b, size_t n);
/** The content as a NUL-terminated string. */
const char *vt_buf_str(vt_buf *b);
void vt_buf_free(vt_buf *b);

#endif
