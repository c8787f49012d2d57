/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the generator's C test harnesses (tests/generator/<name>_test.c)
 * share besides tests/lib.
 *
 * Every harness builds values of the types its .x file defines, encodes them
 * and compares the bytes with hex written by hand in the harness, decodes
 * those bytes back and checks the fields.  Hex strings may contain spaces,
 * newlines and '|' to make word boundaries visible.
 */
#ifndef VWTEST_H
#define VWTEST_H

#include <stddef.h>

#include "virtwire_xdr.h"
#include "vt_check.h"
#include "vt_hex.h"

/** Largest encoding a harness compares (bytes). */
#define VWTEST_MAX_BYTES 16384

/** Encodes v as t and compares with hex; also checks that t's encoded_size()
 *  agrees with the byte count and that max_size (when bounded) is not
 *  exceeded. */
void vwtest_encode(const virtwire_type *t, const void *v, const char *hex, const char *file,
                   int line);

/** Encodes v as t and expects the error code want. */
void vwtest_encode_fails(const virtwire_type *t, const void *v, int want, const char *file,
                         int line);

/** Decodes hex as t into v (zeroed first) with arena a; returns the
 *  virtwire_decode() result. */
int vwtest_decode(const virtwire_type *t, const char *hex, virtwire_arena *a, void *v);

/** vwtest_decode() with decoder flags (VIRTWIRE_DEC_*). */
int vwtest_decode_flags(const virtwire_type *t, const char *hex, virtwire_arena *a,
                        unsigned flags, void *v);

/** Decodes hex as t in heap mode, re-encodes the value, compares the bytes
 *  with hex and frees the value with t->free (so ASan checks the _free
 *  function). */
void vwtest_heap_roundtrip(const virtwire_type *t, const char *hex, const char *file, int line);

/** Expects decoding hex as t to fail with want, in arena and in heap mode. */
void vwtest_decode_fails(const virtwire_type *t, const char *hex, int want, const char *file,
                         int line);

/** The same with decoder flags (VIRTWIRE_DEC_*). */
void vwtest_decode_fails_flags(const virtwire_type *t, const char *hex, unsigned flags, int want,
                               const char *file, int line);

/* T is a generated type name: these go through T_desc, i.e. T_encode,
 * T_decode, T_free and T_size. */
#define ENCODE(T, v, hex) vwtest_encode(&T##_desc, (v), (hex), __FILE__, __LINE__)
#define ENCODE_FAILS(T, v, rc) vwtest_encode_fails(&T##_desc, (v), (rc), __FILE__, __LINE__)
#define DECODE(T, hex, arena, v) \
    CHECK_INT(vwtest_decode(&T##_desc, (hex), (arena), (v)), VIRTWIRE_OK)
#define DECODE_FAILS(T, hex, rc) vwtest_decode_fails(&T##_desc, (hex), (rc), __FILE__, __LINE__)
/* Fails only for a strict decoder (VIRTWIRE_DEC_STRICT): the default one
 * takes it, as libtirpc does (undeclared enum values, bools other than 0
 * and 1). */
#define STRICT_DECODE_FAILS(T, hex, rc)                                              \
    vwtest_decode_fails_flags(&T##_desc, (hex), VIRTWIRE_DEC_STRICT, (rc), __FILE__, __LINE__)
#define ROUNDTRIP(T, hex) vwtest_heap_roundtrip(&T##_desc, (hex), __FILE__, __LINE__)

#endif /* VWTEST_H */
