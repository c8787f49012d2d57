/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vw_fill.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vw_rng_seed(vw_rng *r, uint64_t seed, int full, unsigned nth)
{
    r->s = seed;
    r->depth = 0;
    r->level = 0;
    r->budget = VW_BUDGET;
    r->full = full;
    r->nth = nth;
    r->wild = 0;
}

/* splitmix64: tiny, fast and good enough to spread seeds that differ in
 * one bit. */
uint64_t vw_u64(vw_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t vw_u32(vw_rng *r)
{
    return (uint32_t)(vw_u64(r) >> 32);
}

uint32_t vw_below(vw_rng *r, uint32_t n)
{
    /* The bias of a 64-bit modulo is far below what a test can notice. */
    return (uint32_t)(vw_u64(r) % n);
}

int32_t vw_enum(vw_rng *r, const int32_t *members, uint32_t n)
{
    if (r->wild && vw_below(r, 8) == 0)
        return (int32_t)vw_u32(r);
    return members[vw_below(r, n)];
}


char vw_char(vw_rng *r)
{
    return (char)(CHAR_MIN + (int)vw_below(r, (uint32_t)(CHAR_MAX - CHAR_MIN) + 1));
}

unsigned char vw_uchar(vw_rng *r)
{
    return (unsigned char)vw_below(r, UCHAR_MAX + 1u);
}

short vw_short(vw_rng *r)
{
    return (short)(SHRT_MIN + (int)vw_below(r, (uint32_t)(SHRT_MAX - SHRT_MIN) + 1));
}

unsigned short vw_ushort(vw_rng *r)
{
    return (unsigned short)vw_below(r, USHRT_MAX + 1u);
}

float vw_float(vw_rng *r)
{
    uint32_t u = vw_u32(r);
    if ((u & 0x7f800000u) == 0x7f800000u) /* NaN or infinity: make it finite */
        u &= ~0x00800000u;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

double vw_double(vw_rng *r)
{
    uint64_t u = vw_u64(r);
    if ((u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull)
        u &= ~0x0010000000000000ull;
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

void *vw_alloc(virtwire_arena *a, size_t n)
{
    void *p = virtwire_arena_alloc(a, n ? n : 1);
    if (!p) {
        fprintf(stderr, "differential: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

uint32_t vw_len(vw_rng *r, uint32_t max, size_t wire_each, unsigned long hits[2])
{
    uint32_t cap = max < VW_LEN_CAP ? max : VW_LEN_CAP;
    uint32_t roll = vw_below(r, 100);
    uint32_t n;
    if (r->full && r->level == 0)
        n = cap;
    else if (roll < 25)
        n = 0;
    else if (roll < 80 || r->full)
        n = 1 + vw_below(r, 8);
    else
        n = 9 + vw_below(r, 248);
    if (n > cap)
        n = cap;
    if (wire_each == 0)
        wire_each = 1;
    if ((uint64_t)n * wire_each > r->budget)
        n = (uint32_t)(r->budget / wire_each);
    r->budget -= (size_t)n * wire_each;
    hits[0] += n == 0;
    hits[1] += n == cap;
    return n;
}

int vw_present(vw_rng *r, size_t wire, unsigned long hits[2])
{
    int yes = r->depth < VW_MAX_DEPTH && wire <= r->budget && vw_below(r, 2);
    if (yes)
        r->budget -= wire;
    hits[yes]++;
    return yes;
}

uint32_t vw_arm(vw_rng *r, uint32_t n, unsigned long *hits)
{
    uint32_t arm = r->full && r->level == 0 && r->depth == 0 ? r->nth % n : vw_below(r, n);
    hits[arm]++;
    return arm;
}

void vw_bytes(vw_rng *r, char *dst, size_t n)
{
    while (n) {
        uint64_t x = vw_u64(r);
        for (int k = 0; k < 8 && n; k++, n--, x >>= 8)
            *dst++ = (char)(unsigned char)x;
    }
}

char *vw_string(vw_rng *r, virtwire_arena *a, uint32_t max, unsigned long hits[2])
{
    uint32_t n = vw_len(r, max, 1, hits);
    char *s = vw_alloc(a, (size_t)n + 1);
    vw_bytes(r, s, n);
    for (uint32_t i = 0; i < n; i++)
        if (s[i] == 0)
            s[i] = (char)(1 + vw_below(r, 255));
    s[n] = 0;
    return s;
}

void vw_opaque(vw_rng *r, virtwire_arena *a, uint32_t max, unsigned int *len, char **val,
               unsigned long hits[2])
{
    uint32_t n = vw_len(r, max, 1, hits);
    *len = n;
    *val = NULL;
    if (n) {
        *val = vw_alloc(a, n);
        vw_bytes(r, *val, n);
    }
}
