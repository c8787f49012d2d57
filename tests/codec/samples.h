/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hand-built values of real libvirt types with their XDR encodings written
 * out by hand (see samples.c), shared by the codec tests.
 */
#ifndef VWT_SAMPLES_H
#define VWT_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "virtwire_xdr.h"

/* One XDR word, big-endian, byte by byte: W(0x01020304) is 01 02 03 04. */
#define W(x)                                                                   \
    (unsigned char)((uint32_t)(x) >> 24), (unsigned char)((uint32_t)(x) >> 16), \
        (unsigned char)((uint32_t)(x) >> 8), (unsigned char)(uint32_t)(x)
/* One XDR hyper: the high word, then the low word. */
#define H(hi, lo) W(hi), W(lo)

/* The UUIDs the samples use, as C initialisers and as wire bytes (a
 * fixed-length opaque[16] is its 16 bytes, no length word, no padding). */
#define UUID_A 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, \
               0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f
#define UUID_B (char)0xf0, (char)0xf1, (char)0xf2, (char)0xf3, (char)0xf4, (char)0xf5, \
               (char)0xf6, (char)0xf7, (char)0xf8, (char)0xf9, (char)0xfa, (char)0xfb, \
               (char)0xfc, (char)0xfd, (char)0xfe, (char)0xff
#define UUID_B_WIRE 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, \
                    0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff
#define UUID_C 0x5a, 0x11, 0x7e, 0x00, 0x13, 0x37, 0x42, 0x24, \
               0x01, 0x10, 0x20, 0x02, 0x30, 0x03, 0x40, 0x04

typedef struct vwt_sample {
    const char *name;          /* what the sample is */
    const virtwire_type *type; /* its generated type descriptor */
    const void *value;         /* the hand-built C value */
    const unsigned char *wire; /* its encoding, written by hand */
    size_t wire_len;
    /* compares a decoded value with the hand-built one, field by field */
    int (*equal)(const void *decoded, const void *expected);
} vwt_sample;

extern const vwt_sample vwt_samples[];
extern const size_t vwt_nsamples;

#endif /* VWT_SAMPLES_H */
