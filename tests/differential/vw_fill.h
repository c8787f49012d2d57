/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Random value generation for the differential test.
 *
 * The generated fill_<module>.c files (gen_harness.py) build one random but
 * valid value of each XDR type with the helpers below; every pointer they
 * store comes from a virtwire arena, so a whole value is released at once.
 *
 * Most values are small: lengths are often 0, mostly 1..8, sometimes up to
 * 256.  A "full" value (the caller picks which seeds make them) puts every
 * string, opaque and array that is not an array element at its <max> bound
 * (at VW_LEN_CAP when the bound is larger or absent), and the n-th full
 * value takes arm n (modulo their number) of its unions, outside arrays and
 * optional data; so a few full seeds reach every bound, and every arm of
 * unions with few arms, deterministically.  Array elements stay small even
 * in full values, which keeps arrays of arrays affordable under ASan.
 *
 * A value also has a budget of wire bytes, a backstop: lengths that would
 * overspend it are cut.
 *
 * Coverage: the generated code passes counters to the helpers, which count
 * what they made (empty / full lengths, absent / present optional data,
 * union arms), so the test can check that it made all of them.
 */
#ifndef VW_FILL_H
#define VW_FILL_H

#include <stddef.h>
#include <stdint.h>

#include "virtwire_program.h"
#include "virtwire_xdr.h"

/** Longest string, opaque or array made for an unbounded or huge <max>. */
#define VW_LEN_CAP 65536u
/** Optional data nests at most this deep (linked lists). */
#define VW_MAX_DEPTH 4u
/** Wire bytes one value may spend on lengths and optional data. */
#define VW_BUDGET ((size_t)8 << 20)

typedef struct vw_rng {
    uint64_t s;      /* splitmix64 state */
    unsigned depth;  /* optional-data nesting of the value being made */
    unsigned level;  /* array-element nesting of the value being made */
    size_t budget;   /* wire bytes left for this value */
    int full;        /* a full value (see above) */
    int wild;        /* also undeclared enum values */
    unsigned nth;    /* which full value: selects union arms */
} vw_rng;

/** Starts a new value: the stream depends only on the arguments.  full:
 *  make a full value, the nth one (from 0). */
void vw_rng_seed(vw_rng *r, uint64_t seed, int full, unsigned nth);
uint64_t vw_u64(vw_rng *r);
uint32_t vw_u32(vw_rng *r);
/** Uniform in [0, n); n > 0. */
uint32_t vw_below(vw_rng *r, uint32_t n);

/** An enum value: one of the n members, or, one time in eight when
 *  r->wild is set, any 32-bit value (the codecs write what they are given,
 *  as libtirpc does). */
int32_t vw_enum(vw_rng *r, const int32_t *members, uint32_t n);

char vw_char(vw_rng *r);
unsigned char vw_uchar(vw_rng *r);
short vw_short(vw_rng *r);
unsigned short vw_ushort(vw_rng *r);
/** Random finite floating values (any sign, any exponent). */
float vw_float(vw_rng *r);
double vw_double(vw_rng *r);

/** Arena allocation that never fails (aborts on out of memory). */
void *vw_alloc(virtwire_arena *a, size_t n);

/** Length of a string, opaque or array of at most max elements of at least
 *  wire_each bytes each (see above).  Counts hits[0] when it is 0 and
 *  hits[1] when it is max (or VW_LEN_CAP). */
uint32_t vw_len(vw_rng *r, uint32_t max, size_t wire_each, unsigned long hits[2]);

/** Whether optional data of at least wire bytes is present: half of the
 *  time, while the depth and budget allow.  Counts hits[0] for absent,
 *  hits[1] for present. */
int vw_present(vw_rng *r, size_t wire, unsigned long hits[2]);

/** Which of n union arms to make; counts hits[arm]. */
uint32_t vw_arm(vw_rng *r, uint32_t n, unsigned long *hits);

/** n random bytes. */
void vw_bytes(vw_rng *r, char *dst, size_t n);

/** A string of random non-NUL bytes, at most max long (vw_len's hits). */
char *vw_string(vw_rng *r, virtwire_arena *a, uint32_t max, unsigned long hits[2]);

/** Variable-length opaque data of at most max bytes (val NULL when empty). */
void vw_opaque(vw_rng *r, virtwire_arena *a, uint32_t max, unsigned int *len, char **val,
               unsigned long hits[2]);

/** One type of a generated module, with the function making its values. */
typedef struct vw_fill_entry {
    const char *name;
    void (*fill)(vw_rng *r, virtwire_arena *a, void *v);
    const virtwire_type *desc;
} vw_fill_entry;

/** What the fill functions of one module can make, and how often they did. */
typedef struct vw_coverage {
    unsigned long *hits;
    const char *const *what; /* "type.field: empty", ... */
    size_t n;
} vw_coverage;

/** The fill table of one module (gen_harness.py's fill_modules.c). */
typedef struct vw_fill_module {
    const char *name; /* the module, e.g. "remote_protocol" */
    const vw_fill_entry *table;
    const size_t *count;
} vw_fill_module;

/** Every module's fill table, in the order of the generator's module table
 *  (that of virtwire_libvirt_protocols[]). */
extern const vw_fill_module vw_fill_modules[];
extern const size_t vw_fill_module_count;

#endif /* VW_FILL_H */
