/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _POSIX_C_SOURCE 200809L
#include "virtwire_xdr.h"

#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* Arena                                                                    */
/* ------------------------------------------------------------------------ */

struct virtwire_arena_block {
    virtwire_arena_block *next;
    size_t size; /* bytes of data after the header */
    /* data follows, aligned to VIRTWIRE_ARENA_ALIGN */
};

#define BLOCK_HDR                                                              \
    ((sizeof(virtwire_arena_block) + VIRTWIRE_ARENA_ALIGN - 1) & ~(size_t)(VIRTWIRE_ARENA_ALIGN - 1))
#define BLOCK_MIN ((size_t)4096 - BLOCK_HDR)

static unsigned char *block_data(virtwire_arena_block *b)
{
    return (unsigned char *)b + BLOCK_HDR;
}

void virtwire_arena_init(virtwire_arena *a)
{
    virtwire_arena z = VIRTWIRE_ARENA_INIT;
    *a = z;
}

static void use_block(virtwire_arena *a, virtwire_arena_block *b)
{
    b->next = a->head;
    a->head = b;
    a->cur = block_data(b);
    a->lim = a->cur + b->size;
}

void *virtwire_arena_alloc_slow(virtwire_arena *a, size_t n)
{
    size_t want = (n + VIRTWIRE_ARENA_ALIGN - 1) & ~(size_t)(VIRTWIRE_ARENA_ALIGN - 1);
    if (want < n || want > SIZE_MAX / 2 - BLOCK_HDR)
        return NULL;
    /* Grow geometrically so that a value of total size S costs O(log S)
     * blocks.  A request bigger than the next block would be gets a block
     * of exactly its size, linked behind the current one, which goes on
     * serving small requests: a big string then costs its own size, not
     * three times it. */
    size_t grow = a->head ? a->head->size * 2 : BLOCK_MIN;
    int exact = a->head && want > grow;
    size_t size = want > grow ? want : grow;
    virtwire_arena_block *b = malloc(BLOCK_HDR + size);
    if (!b)
        return NULL;
    a->allocs++;
    b->size = size;
    if (exact) {
        b->next = a->head->next;
        a->head->next = b;
        return block_data(b);
    }
    use_block(a, b);
    void *p = a->cur;
    a->cur += want;
    return p;
}

void virtwire_arena_reset(virtwire_arena *a)
{
    /* Steady state of an arena reused message after message: a single block,
     * the one to keep.  Rewind it and be done. */
    virtwire_arena_block *h = a->head;
    if (h && !h->next && h->size <= a->keep) {
        a->cur = block_data(h);
        a->lim = a->cur + h->size;
        return;
    }
    virtwire_arena_block *keep = NULL;
    virtwire_arena_block *b = a->head;
    while (b) {
        virtwire_arena_block *next = b->next;
        if (b->size <= a->keep && (!keep || b->size > keep->size)) {
            if (keep)
                free(keep);
            keep = b;
        } else {
            free(b);
        }
        b = next;
    }
    a->head = NULL;
    a->cur = a->lim = NULL;
    if (keep)
        use_block(a, keep);
}

void virtwire_arena_fini(virtwire_arena *a)
{
    virtwire_arena_block *b = a->head;
    while (b) {
        virtwire_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->cur = a->lim = NULL;
}

/* ------------------------------------------------------------------------ */
/* Heap mode                                                                */
/* ------------------------------------------------------------------------ */

void *virtwire_dec_alloc_heap(size_t n)
{
    return calloc(1, n ? n : 1);
}

void virtwire_free(void *p)
{
    free(p);
}

/* ------------------------------------------------------------------------ */
/* Out-of-line primitives                                                   */
/* ------------------------------------------------------------------------ */

/* A string is first looked for a NUL in its first STRING_PROBE bytes with
 * strnlen() (vectorised in the C library); a shorter one, the common case,
 * is then copied with virtwire_copy_bytes(). */
#define STRING_PROBE ((size_t)256)
/* A longer one goes to stpncpy(), which copies and looks for the NUL in the
 * same pass.  It also fills the rest of its n bytes with zeros, so it is
 * given chunks that grow with the string: the zeros written past the end
 * are never more than the string itself, nor more than STRING_CHUNK_MAX. */
#define STRING_CHUNK_MAX ((size_t)16384)

/* Copies s into out up to its NUL, reading at most lim bytes of s and
 * writing at most lim bytes to out; returns the length copied.  lim bytes
 * copied means no NUL among s[0..lim): the string may or may not end right
 * there. */
static size_t copy_until_nul(unsigned char *out, const char *s, size_t lim)
{
    size_t probe = lim < STRING_PROBE ? lim : STRING_PROBE;
    size_t i = strnlen(s, probe);
    virtwire_copy_bytes(out, (const unsigned char *)s, i);
    if (VIRTWIRE_LIKELY(i < probe))
        return i;
    size_t chunk = STRING_PROBE;
    while (i < lim) {
        size_t want = lim - i < chunk ? lim - i : chunk;
        char *dst = (char *)out + i;
        size_t k = (size_t)(stpncpy(dst, s + i, want) - dst);
        i += k;
        if (k < want)
            break;
        if (chunk < STRING_CHUNK_MAX)
            chunk *= 2;
    }
    return i;
}

/* strnlen(s, max + 1) without overflow where size_t is 32 bits: enough to
 * tell whether s is longer than max. */
static size_t strnlen_past(const char *s, size_t max)
{
    return strnlen(s, max == SIZE_MAX ? SIZE_MAX : max + 1);
}

/*
 * One pass over the string: it is copied into the output right after the
 * room for its length word while the NUL is looked for, bounded both by max
 * and by the output space.  Only when the output fills up before the NUL is
 * the rest of the string scanned (never further than max + 1 bytes), to
 * report ETOOLONG rather than ENOSPACE for a string longer than max, as
 * before.  On error e->p does not move; bytes after it may have been
 * written.
 */
int virtwire_put_string_slow(virtwire_enc *e, const char *s, uint32_t max)
{
    if (VIRTWIRE_UNLIKELY(!s))
        return VIRTWIRE_ENULL;
    unsigned char *p = e->p;
    size_t room = (size_t)(e->end - p);
    size_t lim = room < 4 ? 0 : room - 4;
    if (lim > max)
        lim = max;
    size_t len = lim ? copy_until_nul(p + 4, s, lim) : 0;
    if (VIRTWIRE_UNLIKELY(len == lim)) {
        /* No NUL among the bytes that fit: find out how long s is. */
        len += strnlen_past(s + len, (size_t)max - len);
        if (VIRTWIRE_UNLIKELY(len > max))
            return VIRTWIRE_ETOOLONG;
        if (VIRTWIRE_UNLIKELY(len > lim))
            return VIRTWIRE_ENOSPACE;
    }
    if (VIRTWIRE_UNLIKELY(4 + len + virtwire_pad4(len) > room))
        return VIRTWIRE_ENOSPACE;
    virtwire_store_u32(p, (uint32_t)len);
    e->p = virtwire_store_pad(p + 4 + len, len);
    return 0;
}

unsigned char *virtwire_w_string_slow(unsigned char *w, unsigned char *end, const char *s, uint32_t max,
                                      int *rc)
{
    virtwire_enc e = { w, end };
    int r = virtwire_put_string_slow(&e, s, max);
    if (r < 0)
        return virtwire_w_fail(rc, r);
    return e.p;
}

/*
 * Reads a length word bounded by max and by the bytes left (with padding)
 * at p = d->p.  On error d->p moves past the length word when it was read,
 * as a virtwire_get_u32() of it would.
 */
static int get_bytes_len(virtwire_dec *d, const unsigned char *p, uint32_t *len, uint32_t max)
{
    size_t left = (size_t)(d->end - p);
    if (VIRTWIRE_UNLIKELY(left < 4))
        return VIRTWIRE_ETRUNCATED;
    uint32_t n = virtwire_load_u32(p);
    if (VIRTWIRE_UNLIKELY(n > max)) {
        d->p = p + 4;
        return VIRTWIRE_ETOOLONG;
    }
    if (VIRTWIRE_UNLIKELY((size_t)n + virtwire_pad4(n) > left - 4)) {
        d->p = p + 4;
        return VIRTWIRE_ETRUNCATED;
    }
    *len = n;
    return 0;
}

/* Ends the read of n data bytes at p (after their length word): padding
 * check, then d->p past the padding.  On a padding error d->p stops after
 * the data. */
static int finish_bytes(virtwire_dec *d, const unsigned char *p, uint32_t n)
{
    if (VIRTWIRE_UNLIKELY(virtwire_check_pad(d, p + n, n) < 0)) {
        d->p = p + n;
        return VIRTWIRE_EPADDING;
    }
    d->p = p + n + virtwire_pad4(n);
    return 0;
}

int virtwire_get_opaque(virtwire_dec *d, unsigned int *len, char **val, uint32_t max)
{
    const unsigned char *p = d->p;
    uint32_t n;
    VIRTWIRE_TRY(get_bytes_len(d, p, &n, max));
    p += 4;
    if (n == 0) {
        d->p = p;
        *len = 0;
        *val = NULL;
        return 0;
    }
    unsigned char *out = virtwire_dec_alloc(d, n);
    if (VIRTWIRE_UNLIKELY(!out)) {
        d->p = p;
        return VIRTWIRE_ENOMEM;
    }
    virtwire_copy_bytes(out, p, n);
    *val = (char *)out;
    *len = n;
    return finish_bytes(d, p, n);
}

int virtwire_get_string(virtwire_dec *d, char **s, uint32_t max)
{
    const unsigned char *p = d->p;
    uint32_t n;
    VIRTWIRE_TRY(get_bytes_len(d, p, &n, max));
    p += 4;
    unsigned char *out = virtwire_dec_alloc(d, (size_t)n + 1);
    if (VIRTWIRE_UNLIKELY(!out)) {
        d->p = p;
        return VIRTWIRE_ENOMEM;
    }
    virtwire_copy_bytes(out, p, n);
    out[n] = '\0';
    *s = (char *)out;
    return finish_bytes(d, p, n);
}

int virtwire_get_array(virtwire_dec *d, unsigned int *len, void **val, uint32_t max,
                       size_t min_wire, size_t elem_size)
{
    uint32_t n;
    VIRTWIRE_TRY(virtwire_get_u32(d, &n));
    if (VIRTWIRE_UNLIKELY(n > max))
        return VIRTWIRE_ETOOLONG;
    /* Every element needs at least min_wire bytes: refuse a count the input
     * cannot hold before allocating for it. */
    if (VIRTWIRE_UNLIKELY(min_wire && n > virtwire_dec_left(d) / min_wire))
        return VIRTWIRE_ETRUNCATED;
    if (n == 0) {
        *len = 0;
        *val = NULL;
        return 0;
    }
    if (VIRTWIRE_UNLIKELY(elem_size > SIZE_MAX / n))
        return VIRTWIRE_ENOMEM;
    void *p = virtwire_dec_alloc(d, (size_t)n * elem_size);
    if (VIRTWIRE_UNLIKELY(!p))
        return VIRTWIRE_ENOMEM;
    *val = p;
    *len = n;
    return 0;
}

int virtwire_get_optional(virtwire_dec *d, void **val, size_t elem_size)
{
    int present;
    VIRTWIRE_TRY(virtwire_get_bool(d, &present));
    if (!present) {
        *val = NULL;
        return 0;
    }
    if (VIRTWIRE_UNLIKELY(d->depth >= d->max_depth))
        return VIRTWIRE_EDEPTH;
    void *p = virtwire_dec_alloc(d, elem_size);
    if (VIRTWIRE_UNLIKELY(!p))
        return VIRTWIRE_ENOMEM;
    *val = p;
    d->depth++;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Whole values                                                             */
/* ------------------------------------------------------------------------ */

int virtwire_encode(const virtwire_type *t, const void *v, void *buf, size_t cap, size_t *len)
{
    if (!t || !v || (!buf && cap))
        return VIRTWIRE_EINVAL;
    virtwire_enc e;
    virtwire_enc_init(&e, buf, cap);
    VIRTWIRE_TRY(t->encode(&e, v));
    if (len)
        *len = (size_t)(e.p - (unsigned char *)buf);
    return 0;
}

/*
 * The body of both decode entry points, inlined into each: virtwire_decode()
 * then pays neither a second call nor the flags check (flags is the constant
 * 0 there), which is a tenth of a small message's decode.
 */
static inline int decode_value(const virtwire_type *t, const void *buf, size_t len,
                               virtwire_arena *arena, unsigned flags, void *v)
{
    if (!t || !v || (!buf && len) || (flags & ~(unsigned)VIRTWIRE_DEC_STRICT))
        return VIRTWIRE_EINVAL;
    /* Zeroed first, as documented: a decode that fails half-way leaves the
     * fields it never reached NULL or 0, which heap mode's t->free() below
     * relies on. */
    memset(v, 0, t->size);
    virtwire_dec d;
    virtwire_dec_init(&d, buf, len, arena);
    d.flags = flags;
    int rc = t->decode(&d, v);
    if (rc == 0 && d.p != d.end)
        rc = VIRTWIRE_ETRAILING;
    if (rc < 0 && !arena)
        t->free(v);
    return rc;
}

int virtwire_decode(const virtwire_type *t, const void *buf, size_t len, virtwire_arena *arena, void *v)
{
    return decode_value(t, buf, len, arena, 0, v);
}

int virtwire_decode_flags(const virtwire_type *t, const void *buf, size_t len, virtwire_arena *arena,
                          unsigned flags, void *v)
{
    return decode_value(t, buf, len, arena, flags, v);
}

int virtwire_copy(const virtwire_type *t, const void *src, virtwire_arena *arena, void *dst)
{
    if (!t || !src || !dst || src == dst)
        return VIRTWIRE_EINVAL;
    /* Through the wire form: every string, array and optional member comes
     * out allocated anew, exactly as a decode of the same value would. */
    size_t n = t->encoded_size(src);
    unsigned char small[256];
    unsigned char *buf = n <= sizeof small ? small : malloc(n);
    int rc = buf ? virtwire_encode(t, src, buf, n, NULL) : VIRTWIRE_ENOMEM;
    if (rc == 0)
        rc = virtwire_decode(t, buf, n, arena, dst);
    else
        memset(dst, 0, t->size);
    if (buf != small)
        free(buf);
    return rc;
}
