/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Structures that can grow (not installed).
 *
 * Every structure a caller fills in and hands to virtwire (callbacks,
 * options) starts with `size_t size`, which the caller sets to the sizeof
 * of the structure it was compiled with.  A library built with a newer
 * header, where the structure has more members at its end, then reads only
 * the members the caller knows of and takes the others as zero; a library
 * built with an older header accepts a larger structure as long as every
 * member it does not know of is zero (NULL), so that nothing the caller
 * asked for is silently ignored.  A size of zero, smaller than the size
 * member itself, or larger than a page is refused.  This is the rule of
 * Linux's extensible system call structures (clone3, openat2), applied to
 * the members at the end of a structure.
 *
 * Members are only ever appended, never removed or reordered, and the size
 * word stays first.  docs/reference.md explains the rule to users.
 */
#ifndef VIRTWIRE_SIZED_INTERNAL_H
#define VIRTWIRE_SIZED_INTERNAL_H

#include <stddef.h>
#include <string.h>

#include "virtwire_error.h"

/* The largest size accepted: a sanity bound, far above any structure. */
#define VW_SIZED_MAX ((size_t)4096)

/* The size a caller's structure claims, or 0 when it cannot be valid. */
static inline size_t vw_sized_claim(const void *src)
{
    size_t n;
    memcpy(&n, src, sizeof n);
    return n >= sizeof(size_t) && n <= VW_SIZED_MAX ? n : 0;
}

/*
 * Copies the caller's structure src into dst, of this library's size
 * dst_size: the members both know of, zero for the members the caller does
 * not know of, and dst's size member set to dst_size.  Returns 0, or
 * VIRTWIRE_EINVAL for a size that cannot be valid or for a non-zero member
 * this library does not know of (dst is then zeroed).
 */
static inline int vw_sized_copy(void *dst, size_t dst_size, const void *src)
{
    size_t n = vw_sized_claim(src);
    memset(dst, 0, dst_size);
    if (!n)
        return VIRTWIRE_EINVAL;
    for (size_t i = dst_size; i < n; i++)
        if (((const unsigned char *)src)[i] != 0)
            return VIRTWIRE_EINVAL;
    memcpy(dst, src, n < dst_size ? n : dst_size);
    memcpy(dst, &dst_size, sizeof dst_size);
    return 0;
}

/*
 * Whether the caller's structure s (already checked with vw_sized_copy() or
 * vw_sized_claim()) has room for the member at offset off of size len: a
 * library writing results back into the caller's structure writes only
 * those members.
 */
static inline int vw_sized_has(const void *s, size_t off, size_t len)
{
    size_t n;
    memcpy(&n, s, sizeof n);
    return off + len <= n;
}

#endif /* VIRTWIRE_SIZED_INTERNAL_H */
