/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bytes written as hex in a test, the way frames are quoted in
 * documentation.
 */
#ifndef VIRTWIRE_TESTS_VT_HEX_H
#define VIRTWIRE_TESTS_VT_HEX_H

#include <stddef.h>

/**
 * Parses hex into out (at most cap bytes) and returns the length.  White
 * space and '|' are ignored; "text" inserts the bytes of text.  Malformed
 * hex, an odd digit or more than cap bytes abort the test (a bug of the
 * test, not of the code under test).
 */
size_t vt_hex(const char *s, unsigned char *out, size_t cap);

#endif
