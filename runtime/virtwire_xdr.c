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
     * blocks; a big request gets a block of its own size at least. */
    size_t size = a->head ? a->head->size * 2 : BLOCK_MIN;
    if (size < want)
        size = want;
    virtwire_arena_block *b = malloc(BLOCK_HDR + size);
    if (!b)
        return NULL;
    a->allocs++;
    b->size = size;
    use_block(a, b);
    void *p = a->cur;
    a->cur += want;
    return p;
}

void virtwire_arena_reset(virtwire_arena *a)
{
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

int virtwire_put_string(virtwire_enc *e, const char *s, uint32_t max)
{
    if (VIRTWIRE_UNLIKELY(!s))
        return VIRTWIRE_ENULL;
    /* Never scan further than the bound: a string longer than max is an
     * error whatever its length. */
    size_t len = strnlen(s, (size_t)max + 1);
    if (VIRTWIRE_UNLIKELY(len > max))
        return VIRTWIRE_ETOOLONG;
    VIRTWIRE_TRY(virtwire_enc_need(e, 4 + len + virtwire_pad4(len)));
    virtwire_store_u32(e->p, (uint32_t)len);
    e->p += 4;
    return virtwire_put_fixed_opaque(e, s, len);
}

/* Reads a length word bounded by max and by the bytes left (with padding). */
static int get_bytes_len(virtwire_dec *d, uint32_t *len, uint32_t max)
{
    uint32_t n;
    VIRTWIRE_TRY(virtwire_get_u32(d, &n));
    if (VIRTWIRE_UNLIKELY(n > max))
        return VIRTWIRE_ETOOLONG;
    VIRTWIRE_TRY(virtwire_dec_need(d, (size_t)n + virtwire_pad4(n)));
    *len = n;
    return 0;
}

int virtwire_get_opaque(virtwire_dec *d, unsigned int *len, char **val, uint32_t max)
{
    uint32_t n;
    VIRTWIRE_TRY(get_bytes_len(d, &n, max));
    if (n == 0) {
        *len = 0;
        *val = NULL;
        return 0;
    }
    char *p = virtwire_dec_alloc(d, n);
    if (VIRTWIRE_UNLIKELY(!p))
        return VIRTWIRE_ENOMEM;
    memcpy(p, d->p, n);
    d->p += n;
    *val = p;
    *len = n;
    return virtwire_get_pad(d, n);
}

int virtwire_get_string(virtwire_dec *d, char **s, uint32_t max)
{
    uint32_t n;
    VIRTWIRE_TRY(get_bytes_len(d, &n, max));
    char *p = virtwire_dec_alloc(d, (size_t)n + 1);
    if (VIRTWIRE_UNLIKELY(!p))
        return VIRTWIRE_ENOMEM;
    memcpy(p, d->p, n);
    p[n] = '\0';
    d->p += n;
    *s = p;
    return virtwire_get_pad(d, n);
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

int virtwire_decode(const virtwire_type *t, const void *buf, size_t len, virtwire_arena *arena, void *v)
{
    if (!t || !v || (!buf && len))
        return VIRTWIRE_EINVAL;
    virtwire_dec d;
    virtwire_dec_init(&d, buf, len, arena);
    int rc = t->decode(&d, v);
    if (rc == 0 && d.p != d.end)
        rc = VIRTWIRE_ETRAILING;
    if (rc < 0 && !arena)
        t->free(v);
    return rc;
}
