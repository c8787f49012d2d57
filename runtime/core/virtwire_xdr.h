/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * virtwire XDR codec runtime (RFC 4506).
 *
 * Generated code (generator/virtwire-gen) calls the primitives below; users
 * mostly need only the arena, virtwire_encode() and virtwire_decode().
 *
 * Encoding writes into a caller-supplied bounded buffer (virtwire_enc) and
 * never allocates.  A primitive that fails leaves the position where it was,
 * though it may have written into the buffer past it.  Decoding reads from a
 * byte range (virtwire_dec) and allocates every pointer it fills in from one
 * of two places:
 *
 *   - an arena (virtwire_arena): the normal mode.  The whole decoded value is
 *     released at once with virtwire_arena_reset() or virtwire_arena_fini();
 *     the per-type _free() functions must not be called on it.
 *   - the heap (arena == NULL): every pointer comes from calloc() and the
 *     generated `<type>_free()` releases it, like rpcgen's xdr_free().
 *
 * Limits enforced while decoding, before any allocation:
 *   - every `<max>` bound of a string, opaque or variable-length array;
 *   - a length word must be justified by the bytes left: a string or opaque of
 *     n bytes needs n (plus padding) bytes left, an array of n elements needs
 *     n times the element's smallest encoding;
 *   - union discriminants must select an arm, char and short values must fit
 *     their C types, long and unsigned long values their 32 bits;
 *   - optional data nests at most max_depth levels (linked lists).
 *
 * Enums and bools are decoded as libtirpc decodes them, so that virtwire
 * reads every message that libvirt's own codecs (rpcgen + libtirpc) read:
 *   - an enum takes any 32-bit value, declared or not.  A newer peer may
 *     send a member that this side's .x file does not know yet (libvirt adds
 *     enum members in new releases); the value reaches the caller as it is.
 *     The encoder writes any value too, as libtirpc does.
 *   - a bool, and the flag in front of optional data, is true for every
 *     non-zero word: a decoded bool is 0 or 1 (2 on the wire gives 1; the
 *     value is normalised, as libtirpc's xdr_bool() does), and optional data
 *     is present for any non-zero flag.  The encoder writes 1 for any
 *     non-zero C value, which is what XDR defines TRUE as.
 * The strict checks are decoder flags (virtwire_dec.flags):
 * VIRTWIRE_DEC_STRICT_ENUM rejects undeclared enum values with
 * VIRTWIRE_EENUM, VIRTWIRE_DEC_STRICT_BOOL bools and optional-data flags
 * other than 0 and 1 with VIRTWIRE_EBOOL.
 *
 * Padding: XDR pads opaque data and strings to a multiple of four with zero
 * bytes.  The encoder always writes zeros.  The decoder by default ignores
 * the value of padding bytes, as libtirpc and libvirt do, so that anything a
 * libvirt peer accepts, virtwire accepts too; padding carries no data, so
 * nothing is lost.  Set VIRTWIRE_DEC_STRICT_PADDING to reject non-zero
 * padding with VIRTWIRE_EPADDING instead.
 *
 * Strings are decoded into NUL-terminated char arrays.  A string that
 * contains a NUL byte on the wire is accepted (libvirt accepts it too) and C
 * code sees it cut at the first NUL; re-encoding it gives the shorter string.
 */
#ifndef VIRTWIRE_XDR_H
#define VIRTWIRE_XDR_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "virtwire_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the interface between generated code and this runtime.
 *  Generated headers refuse to compile against another version. */
#define VIRTWIRE_CODEC_VERSION 3

#if UINT_MAX != 0xffffffffu
#error "virtwire needs a 32-bit int"
#endif

#if defined(__GNUC__) || defined(__clang__)
#define VIRTWIRE_ALWAYS_INLINE inline __attribute__((always_inline))
#define VIRTWIRE_LIKELY(x) __builtin_expect(!!(x), 1)
#define VIRTWIRE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
/** A static function's inline that the compiler must follow. */
#define VIRTWIRE_ALWAYS_INLINE inline
/** Branch hint: x is usually true. */
#define VIRTWIRE_LIKELY(x) (x)
/** Branch hint: x is usually false. */
#define VIRTWIRE_UNLIKELY(x) (x)
#endif

/** Evaluate an expression returning an error code; return it if negative. */
#define VIRTWIRE_TRY(expr)                                                     \
    do {                                                                       \
        int virtwire_try_rc_ = (expr);                                         \
        if (VIRTWIRE_UNLIKELY(virtwire_try_rc_ < 0))                           \
            return virtwire_try_rc_;                                           \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Arena                                                                    */
/* ------------------------------------------------------------------------ */

/** One block of an arena's memory (internal). */
typedef struct virtwire_arena_block virtwire_arena_block;

/**
 * A bump allocator for decoded values.  Initialise with
 * VIRTWIRE_ARENA_INIT or virtwire_arena_init(); the structure may live on the
 * stack.  Not thread-safe: use one arena per thread or per message.
 *
 * virtwire_arena_reset() frees everything allocated but keeps one block (the
 * largest no bigger than `keep`) for reuse, so decoding message after message
 * into one arena touches no fresh pages once it has warmed up.
 */
typedef struct virtwire_arena {
    virtwire_arena_block *head; /**< most recent block first */
    unsigned char *cur;         /**< next free byte in head */
    unsigned char *lim;         /**< end of head's data */
    size_t keep;                /**< largest block kept by reset */
    size_t allocs;              /**< calls to malloc made by this arena */
} virtwire_arena;

/** Default for virtwire_arena.keep: 8 MiB. */
#define VIRTWIRE_ARENA_KEEP_DEFAULT ((size_t)8 << 20)
/** Alignment of every arena allocation. */
#define VIRTWIRE_ARENA_ALIGN 8u

/** Static initialiser of an empty arena. */
#define VIRTWIRE_ARENA_INIT { NULL, NULL, NULL, VIRTWIRE_ARENA_KEEP_DEFAULT, 0 }

/** Initialises an empty arena (the same as VIRTWIRE_ARENA_INIT). */
void virtwire_arena_init(virtwire_arena *a);
/** Frees all allocations; keeps one block of at most a->keep bytes. */
void virtwire_arena_reset(virtwire_arena *a);
/** Frees all allocations and every block. The arena may be reused. */
void virtwire_arena_fini(virtwire_arena *a);
/** Slow path of virtwire_arena_alloc(); not for direct use. */
void *virtwire_arena_alloc_slow(virtwire_arena *a, size_t n);

/** Allocates n > 0 bytes aligned to VIRTWIRE_ARENA_ALIGN; NULL if out of
 *  memory (or n == 0).  The memory is not zeroed. */
static inline void *virtwire_arena_alloc(virtwire_arena *a, size_t n)
{
    if (VIRTWIRE_LIKELY(n <= (size_t)(a->lim - a->cur))) {
        void *p = a->cur;
        size_t r = (n + (VIRTWIRE_ARENA_ALIGN - 1)) & ~(size_t)(VIRTWIRE_ARENA_ALIGN - 1);
        /* r may pass lim by the padding only; clamp keeps cur <= lim */
        a->cur = r <= (size_t)(a->lim - a->cur) ? a->cur + r : a->lim;
        return p;
    }
    return virtwire_arena_alloc_slow(a, n);
}

/* ------------------------------------------------------------------------ */
/* Encoder                                                                  */
/* ------------------------------------------------------------------------ */

/** A bounded output buffer.  p advances as values are written. */
typedef struct virtwire_enc {
    unsigned char *p;   /**< next byte to write */
    unsigned char *end; /**< end of the buffer */
} virtwire_enc;

/** Initialises an encoder over buf[0..len). */
static inline void virtwire_enc_init(virtwire_enc *e, void *buf, size_t len)
{
    e->p = (unsigned char *)buf;
    e->end = (unsigned char *)buf + len;
}

/** Padding bytes after n data bytes (0 to 3). */
static inline size_t virtwire_pad4(size_t n)
{
    return (4 - (n & 3)) & 3;
}

/*
 * Big-endian loads and stores.  With GCC and clang they compile to one move
 * (plus a byte swap on little-endian machines); the byte-by-byte fallback is
 * for other compilers.  memcpy keeps unaligned addresses legal.
 */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) &&                  \
    (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ || __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#define VIRTWIRE_FAST_ENDIAN 1
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VIRTWIRE_BE32(v) __builtin_bswap32(v)
#define VIRTWIRE_BE64(v) __builtin_bswap64(v)
#else
#define VIRTWIRE_BE32(v) (v)
#define VIRTWIRE_BE64(v) (v)
#endif
#endif

/** Stores v big-endian at p (4 bytes, any alignment). */
static inline void virtwire_store_u32(unsigned char *p, uint32_t v)
{
#ifdef VIRTWIRE_FAST_ENDIAN
    v = VIRTWIRE_BE32(v);
    memcpy(p, &v, 4);
#else
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
#endif
}

/** Loads a big-endian 32-bit value from p (any alignment). */
static inline uint32_t virtwire_load_u32(const unsigned char *p)
{
#ifdef VIRTWIRE_FAST_ENDIAN
    uint32_t v;
    memcpy(&v, p, 4);
    return VIRTWIRE_BE32(v);
#else
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
#endif
}

/** Stores v big-endian at p (8 bytes, any alignment). */
static inline void virtwire_store_u64(unsigned char *p, uint64_t v)
{
#ifdef VIRTWIRE_FAST_ENDIAN
    v = VIRTWIRE_BE64(v);
    memcpy(p, &v, 8);
#else
    virtwire_store_u32(p, (uint32_t)(v >> 32));
    virtwire_store_u32(p + 4, (uint32_t)v);
#endif
}

/** Loads a big-endian 64-bit value from p (any alignment). */
static inline uint64_t virtwire_load_u64(const unsigned char *p)
{
#ifdef VIRTWIRE_FAST_ENDIAN
    uint64_t v;
    memcpy(&v, p, 8);
    return VIRTWIRE_BE64(v);
#else
    return ((uint64_t)virtwire_load_u32(p) << 32) | virtwire_load_u32(p + 4);
#endif
}

/** 0 when n more bytes fit, else VIRTWIRE_ENOSPACE. */
static inline int virtwire_enc_need(const virtwire_enc *e, size_t n)
{
    return VIRTWIRE_LIKELY(n <= (size_t)(e->end - e->p)) ? 0 : VIRTWIRE_ENOSPACE;
}

/*
 * The writers below read e->p once into a local and store it back last.
 * Byte stores may alias anything, e->p included, so code that writes through
 * e->p and then updates it makes the compiler reload e->p from memory after
 * every store: a store-to-load round trip on the critical path of every
 * value.  With the local, consecutive inlined writers keep the position in a
 * register.
 */
/** Writes an unsigned int.  Returns 0 or VIRTWIRE_ENOSPACE, like every
 *  writer. */
static inline int virtwire_put_u32(virtwire_enc *e, uint32_t v)
{
    unsigned char *p = e->p;
    if (VIRTWIRE_UNLIKELY((size_t)(e->end - p) < 4))
        return VIRTWIRE_ENOSPACE;
    virtwire_store_u32(p, v);
    e->p = p + 4;
    return 0;
}

/** Writes an int. */
static inline int virtwire_put_i32(virtwire_enc *e, int32_t v)
{
    return virtwire_put_u32(e, (uint32_t)v);
}

/** Writes an unsigned hyper. */
static inline int virtwire_put_u64(virtwire_enc *e, uint64_t v)
{
    unsigned char *p = e->p;
    if (VIRTWIRE_UNLIKELY((size_t)(e->end - p) < 8))
        return VIRTWIRE_ENOSPACE;
    virtwire_store_u64(p, v);
    e->p = p + 8;
    return 0;
}

/** Writes a hyper. */
static inline int virtwire_put_i64(virtwire_enc *e, int64_t v)
{
    return virtwire_put_u64(e, (uint64_t)v);
}

/** Writes a bool: 1 for any non-zero v, else 0. */
static inline int virtwire_put_bool(virtwire_enc *e, int v)
{
    return virtwire_put_u32(e, v ? 1u : 0u);
}

/**
 * Writes a C long as XDR's long: 32 bits.  A value below INT32_MIN or above
 * UINT32_MAX gives VIRTWIRE_ERANGE: it does not fit, and libtirpc, which
 * silently keeps the low 32 bits, would send another number.  Values from
 * INT32_MAX + 1 to UINT32_MAX are written as their low 32 bits: libtirpc
 * decodes a negative long into them on LP64 machines, and they go back on
 * the wire as they came.
 */
static inline int virtwire_put_long(virtwire_enc *e, long v)
{
#if LONG_MAX > 0x7fffffffL
    if (VIRTWIRE_UNLIKELY(v < -0x7fffffffL - 1 || v > 0xffffffffL))
        return VIRTWIRE_ERANGE;
#endif
    return virtwire_put_u32(e, (uint32_t)v);
}

/** Writes a C unsigned long as XDR's unsigned long (32 bits);
 *  VIRTWIRE_ERANGE above UINT32_MAX. */
static inline int virtwire_put_ulong(virtwire_enc *e, unsigned long v)
{
#if ULONG_MAX > 0xffffffffUL
    if (VIRTWIRE_UNLIKELY(v > 0xffffffffUL))
        return VIRTWIRE_ERANGE;
#endif
    return virtwire_put_u32(e, (uint32_t)v);
}

/** Writes a float (IEEE 754 single precision). */
static inline int virtwire_put_float(virtwire_enc *e, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return virtwire_put_u32(e, u);
}

/** Writes a double (IEEE 754 double precision). */
static inline int virtwire_put_double(virtwire_enc *e, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    return virtwire_put_u64(e, u);
}

/** Writes the zero padding after n data bytes at p; returns the end.  (Not
 *  a loop: the compiler would make a call to memset of it.) */
static inline unsigned char *virtwire_store_pad(unsigned char *p, size_t n)
{
    size_t pad = virtwire_pad4(n);
    if (pad > 0)
        p[0] = 0;
    if (pad > 1)
        p[1] = 0;
    if (pad > 2)
        p[2] = 0;
    return p + pad;
}

/** Writes n bytes then zero padding to a multiple of 4 (no length word). */
static inline int virtwire_put_fixed_opaque(virtwire_enc *e, const void *src, size_t n)
{
    unsigned char *p = e->p;
    size_t pad = virtwire_pad4(n);
    if (VIRTWIRE_UNLIKELY(n + pad < n || n + pad > (size_t)(e->end - p)))
        return VIRTWIRE_ENOSPACE;
    if (n)
        memcpy(p, src, n);
    e->p = virtwire_store_pad(p + n, n);
    return 0;
}

/** Writes variable-length opaque data: length word, bytes, padding. */
static inline int virtwire_put_opaque(virtwire_enc *e, const void *src, uint32_t len, uint32_t max)
{
    if (VIRTWIRE_UNLIKELY(len > max))
        return VIRTWIRE_ETOOLONG;
    if (VIRTWIRE_UNLIKELY(len && !src))
        return VIRTWIRE_ENULL;
    unsigned char *p = e->p;
    if (VIRTWIRE_UNLIKELY(4 + (size_t)len + virtwire_pad4(len) > (size_t)(e->end - p)))
        return VIRTWIRE_ENOSPACE;
    virtwire_store_u32(p, len);
    if (len)
        memcpy(p + 4, src, len);
    e->p = virtwire_store_pad(p + 4 + len, len);
    return 0;
}

/**
 * Copies n bytes.  Strings and opaque data on the wire are mostly short
 * (names, field names, UUIDs), and for them a call to memcpy costs more than
 * the copy: up to 32 bytes are moved inline with at most two loads and two
 * stores (overlapping when n is not a power of two), never touching a byte
 * outside src[0..n) or dst[0..n).
 */
static inline void virtwire_copy_bytes(unsigned char *dst, const unsigned char *src, size_t n)
{
    if (n >= 16 && n <= 32) {
        unsigned char a[16], b[16];
        memcpy(a, src, 16);
        memcpy(b, src + n - 16, 16);
        memcpy(dst, a, 16);
        memcpy(dst + n - 16, b, 16);
    } else if (n >= 8 && n < 16) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else if (n < 4) {
        /* 1 to 3 bytes: the first, the middle and the last cover them all. */
        if (n) {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
    } else {
        memcpy(dst, src, n);
    }
}

/** Strings shorter than this take the inline path of virtwire_put_string(). */
#define VIRTWIRE_SHORT_STRING 32u

/**
 * The length of s if below VIRTWIRE_SHORT_STRING, else that bound: no byte
 * past the NUL or the bound is read.  glibc's strnlen() finds the end of a
 * short string in fewer instructions than its memchr(); it is POSIX, not
 * C11, so it is reached through the compiler's builtin where there is one.
 */
static inline size_t virtwire_short_strlen(const char *s)
{
#if defined(__has_builtin)
#if __has_builtin(__builtin_strnlen)
    return __builtin_strnlen(s, VIRTWIRE_SHORT_STRING);
#endif
#endif
    const char *nul = (const char *)memchr(s, 0, VIRTWIRE_SHORT_STRING);
    return nul ? (size_t)(nul - s) : VIRTWIRE_SHORT_STRING;
}

/** General case of virtwire_put_string(); not for direct use. */
int virtwire_put_string_slow(virtwire_enc *e, const char *s, uint32_t max);

/**
 * Writes a NUL-terminated string of at most max bytes.
 *
 * Inline path: when the output has room for any short string and max allows
 * one, a single bounded scan (virtwire_short_strlen()) tells whether s is
 * short; if so, it is written here with no further check needed (its
 * length is below max, and length word, bytes and padding fit).  Every
 * other case, errors included, is left to virtwire_put_string_slow().
 */
static inline int virtwire_put_string(virtwire_enc *e, const char *s, uint32_t max)
{
    unsigned char *p = e->p;
    if (VIRTWIRE_LIKELY(s && max >= VIRTWIRE_SHORT_STRING &&
                        (size_t)(e->end - p) >= 4 + VIRTWIRE_SHORT_STRING)) {
        size_t len = virtwire_short_strlen(s);
        if (VIRTWIRE_LIKELY(len < VIRTWIRE_SHORT_STRING)) {
            virtwire_store_u32(p, (uint32_t)len);
            /* Zero the word holding the end of the string and its padding
             * (it is within the room checked above), then copy over it. */
            virtwire_store_u32(p + 4 + (len & ~(size_t)3), 0);
            virtwire_copy_bytes(p + 4, (const unsigned char *)s, len);
            e->p = p + 4 + len + virtwire_pad4(len);
            return 0;
        }
    }
    return virtwire_put_string_slow(e, s, max);
}

/** Encoded size of a string (length word, bytes, padding). */
static inline size_t virtwire_string_size(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return 4 + n + virtwire_pad4(n);
}

/** Checks a variable array's length before its elements are written. */
static inline int virtwire_put_array_len(virtwire_enc *e, uint32_t len, const void *val, uint32_t max)
{
    if (VIRTWIRE_UNLIKELY(len > max))
        return VIRTWIRE_ETOOLONG;
    if (VIRTWIRE_UNLIKELY(len && !val))
        return VIRTWIRE_ENULL;
    return virtwire_put_u32(e, len);
}

/* ------------------------------------------------------------------------ */
/* Writers over a local position (generated encoders)                       */
/* ------------------------------------------------------------------------ */

/*
 * Generated encoders keep the write position in a local, w, passed by value
 * to the worker of each nested type and returned by it, with end beside it:
 * the position stays in a register from the first byte of a message to the
 * last instead of being stored to the virtwire_enc after every value.  A
 * writer returns the new position, or NULL after storing its error code in
 * *rc (the error codes are those of the virtwire_put_* writers above).
 *
 * The generator knows which runs of consecutive values have a size fixed by
 * the .x file and no way to fail but room (numbers, enums, bools, fixed
 * opaque data, structures of those): it checks the room for a whole run
 * once, then writes its values with the unchecked virtwire_raw_* stores.
 */

/** Stores err in *rc; returns NULL, a writer's failure. */
static inline unsigned char *virtwire_w_fail(int *rc, int err)
{
    *rc = err;
    return NULL;
}

/** Assigns the writer call expr to the position w; returns NULL from the
 *  enclosing writer when it fails. */
#define VIRTWIRE_WTRY(w, expr)                                                 \
    do {                                                                       \
        if (VIRTWIRE_UNLIKELY(((w) = (expr)) == NULL))                         \
            return NULL;                                                       \
    } while (0)

/** The position an encoder writes at: e->p, or for an encoder over no
 *  buffer (NULL, 0) a stand-in with no room after it, so that NULL always
 *  means failure. */
static inline unsigned char *virtwire_enc_pos(const virtwire_enc *e)
{
    static unsigned char nowhere;
    return e->p ? e->p : &nowhere;
}

/** The end that goes with virtwire_enc_pos(e). */
static inline unsigned char *virtwire_enc_lim(const virtwire_enc *e)
{
    return e->p ? e->end : virtwire_enc_pos(e);
}

/** Ends a generated encode: e->p moves to w and 0 is returned, or, when the
 *  writers failed (w NULL), rc is returned and e->p does not move. */
static inline int virtwire_enc_commit(virtwire_enc *e, unsigned char *w, int rc)
{
    if (VIRTWIRE_UNLIKELY(!w))
        return rc;
    if (e->p)
        e->p = w;
    return 0;
}

/** Stores an unsigned int at w, room already checked; returns w + 4. */
static inline unsigned char *virtwire_raw_u32(unsigned char *w, uint32_t v)
{
    virtwire_store_u32(w, v);
    return w + 4;
}

/** Stores an int, room already checked. */
static inline unsigned char *virtwire_raw_i32(unsigned char *w, int32_t v)
{
    return virtwire_raw_u32(w, (uint32_t)v);
}

/** Stores an unsigned hyper, room already checked; returns w + 8. */
static inline unsigned char *virtwire_raw_u64(unsigned char *w, uint64_t v)
{
    virtwire_store_u64(w, v);
    return w + 8;
}

/** Stores a hyper, room already checked. */
static inline unsigned char *virtwire_raw_i64(unsigned char *w, int64_t v)
{
    return virtwire_raw_u64(w, (uint64_t)v);
}

/** Stores a bool (1 for any non-zero v), room already checked. */
static inline unsigned char *virtwire_raw_bool(unsigned char *w, int v)
{
    return virtwire_raw_u32(w, v ? 1u : 0u);
}

/** Stores a float, room already checked. */
static inline unsigned char *virtwire_raw_float(unsigned char *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return virtwire_raw_u32(w, u);
}

/** Stores a double, room already checked. */
static inline unsigned char *virtwire_raw_double(unsigned char *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    return virtwire_raw_u64(w, u);
}

/** Stores n bytes and their zero padding, room already checked. */
static inline unsigned char *virtwire_raw_fixed_opaque(unsigned char *w, const void *src, size_t n)
{
    if (n)
        memcpy(w, src, n);
    return virtwire_store_pad(w + n, n);
}

/** virtwire_put_long() at w. */
static inline unsigned char *virtwire_w_long(unsigned char *w, unsigned char *end, long v, int *rc)
{
#if LONG_MAX > 0x7fffffffL
    if (VIRTWIRE_UNLIKELY(v < -0x7fffffffL - 1 || v > 0xffffffffL))
        return virtwire_w_fail(rc, VIRTWIRE_ERANGE);
#endif
    if (VIRTWIRE_UNLIKELY((size_t)(end - w) < 4))
        return virtwire_w_fail(rc, VIRTWIRE_ENOSPACE);
    return virtwire_raw_u32(w, (uint32_t)v);
}

/** virtwire_put_ulong() at w. */
static inline unsigned char *virtwire_w_ulong(unsigned char *w, unsigned char *end, unsigned long v,
                                              int *rc)
{
#if ULONG_MAX > 0xffffffffUL
    if (VIRTWIRE_UNLIKELY(v > 0xffffffffUL))
        return virtwire_w_fail(rc, VIRTWIRE_ERANGE);
#endif
    if (VIRTWIRE_UNLIKELY((size_t)(end - w) < 4))
        return virtwire_w_fail(rc, VIRTWIRE_ENOSPACE);
    return virtwire_raw_u32(w, (uint32_t)v);
}

/** virtwire_put_opaque() at w. */
static inline unsigned char *virtwire_w_opaque(unsigned char *w, unsigned char *end, const void *src,
                                               uint32_t len, uint32_t max, int *rc)
{
    if (VIRTWIRE_UNLIKELY(len > max))
        return virtwire_w_fail(rc, VIRTWIRE_ETOOLONG);
    if (VIRTWIRE_UNLIKELY(len && !src))
        return virtwire_w_fail(rc, VIRTWIRE_ENULL);
    if (VIRTWIRE_UNLIKELY(4 + (size_t)len + virtwire_pad4(len) > (size_t)(end - w)))
        return virtwire_w_fail(rc, VIRTWIRE_ENOSPACE);
    virtwire_store_u32(w, len);
    if (len)
        memcpy(w + 4, src, len);
    return virtwire_store_pad(w + 4 + len, len);
}

/** virtwire_put_string_slow() at w; not for direct use. */
unsigned char *virtwire_w_string_slow(unsigned char *w, unsigned char *end, const char *s, uint32_t max,
                                      int *rc);

/** virtwire_put_string() at w: the same inline path for short strings. */
static inline unsigned char *virtwire_w_string(unsigned char *w, unsigned char *end, const char *s,
                                               uint32_t max, int *rc)
{
    if (VIRTWIRE_LIKELY(s && max >= VIRTWIRE_SHORT_STRING &&
                        (size_t)(end - w) >= 4 + VIRTWIRE_SHORT_STRING)) {
        size_t len = virtwire_short_strlen(s);
        if (VIRTWIRE_LIKELY(len < VIRTWIRE_SHORT_STRING)) {
            virtwire_store_u32(w, (uint32_t)len);
            virtwire_store_u32(w + 4 + (len & ~(size_t)3), 0);
            virtwire_copy_bytes(w + 4, (const unsigned char *)s, len);
            return w + 4 + len + virtwire_pad4(len);
        }
    }
    return virtwire_w_string_slow(w, end, s, max, rc);
}

/**
 * virtwire_put_array_len() at w, with the room for the elements checked too
 * when they have a fixed size, elem bytes each (0: checked one by one).
 */
static inline unsigned char *virtwire_w_array_len(unsigned char *w, unsigned char *end, uint32_t len,
                                                  const void *val, uint32_t max, size_t elem, int *rc)
{
    if (VIRTWIRE_UNLIKELY(len > max))
        return virtwire_w_fail(rc, VIRTWIRE_ETOOLONG);
    if (VIRTWIRE_UNLIKELY(len && !val))
        return virtwire_w_fail(rc, VIRTWIRE_ENULL);
    size_t room = (size_t)(end - w);
    if (VIRTWIRE_UNLIKELY(room < 4 || (elem && len > (room - 4) / elem)))
        return virtwire_w_fail(rc, VIRTWIRE_ENOSPACE);
    return virtwire_raw_u32(w, len);
}

/* ------------------------------------------------------------------------ */
/* Decoder                                                                  */
/* ------------------------------------------------------------------------ */

/** Reject non-zero padding bytes (see the top of this file). */
#define VIRTWIRE_DEC_STRICT_PADDING 0x1u
/** Reject enum values the .x file does not declare (VIRTWIRE_EENUM). */
#define VIRTWIRE_DEC_STRICT_ENUM 0x2u
/** Reject bools and optional-data flags other than 0 and 1
 *  (VIRTWIRE_EBOOL). */
#define VIRTWIRE_DEC_STRICT_BOOL 0x4u
/** Every strict check. */
#define VIRTWIRE_DEC_STRICT                                                     \
    (VIRTWIRE_DEC_STRICT_PADDING | VIRTWIRE_DEC_STRICT_ENUM | VIRTWIRE_DEC_STRICT_BOOL)

/** Default nesting limit for optional data. */
#define VIRTWIRE_DEC_MAX_DEPTH_DEFAULT 1024u

/** A byte range being decoded. */
typedef struct virtwire_dec {
    const unsigned char *p;   /**< next byte to read */
    const unsigned char *end; /**< end of the input */
    virtwire_arena *arena; /**< NULL: allocate from the heap */
    unsigned depth;        /**< current optional-data nesting */
    unsigned max_depth;    /**< nesting limit (VIRTWIRE_EDEPTH beyond) */
    unsigned flags;        /**< VIRTWIRE_DEC_* */
} virtwire_dec;

/** Initialises a decoder over buf[0..len).  arena may be NULL (heap mode). */
static inline void virtwire_dec_init(virtwire_dec *d, const void *buf, size_t len, virtwire_arena *arena)
{
    d->p = (const unsigned char *)buf;
    d->end = (const unsigned char *)buf + len;
    d->arena = arena;
    d->depth = 0;
    d->max_depth = VIRTWIRE_DEC_MAX_DEPTH_DEFAULT;
    d->flags = 0;
}

/** Bytes left to decode. */
static inline size_t virtwire_dec_left(const virtwire_dec *d)
{
    return (size_t)(d->end - d->p);
}

/** 0 when n more bytes are left, else VIRTWIRE_ETRUNCATED. */
static inline int virtwire_dec_need(const virtwire_dec *d, size_t n)
{
    return VIRTWIRE_LIKELY(n <= virtwire_dec_left(d)) ? 0 : VIRTWIRE_ETRUNCATED;
}

/** Heap mode of virtwire_dec_alloc(): zeroed memory from calloc(). */
void *virtwire_dec_alloc_heap(size_t n);

/** Allocates n bytes for decoded data: from the arena, or zeroed from the
 *  heap.  n is always justified by the input (see the bounds above). */
static inline void *virtwire_dec_alloc(virtwire_dec *d, size_t n)
{
    if (d->arena)
        return virtwire_arena_alloc(d->arena, n);
    return virtwire_dec_alloc_heap(n);
}

/** Frees heap-mode memory (what the generated _free functions call). */
void virtwire_free(void *p);

/* The readers read d->p once into a local, like the writers (see
 * virtwire_put_u32). */
/** Reads an unsigned int.  Returns 0 or VIRTWIRE_ETRUNCATED, like every
 *  reader, plus the range errors named below. */
static inline int virtwire_get_u32(virtwire_dec *d, uint32_t *v)
{
    const unsigned char *p = d->p;
    if (VIRTWIRE_UNLIKELY((size_t)(d->end - p) < 4))
        return VIRTWIRE_ETRUNCATED;
    *v = virtwire_load_u32(p);
    d->p = p + 4;
    return 0;
}

/** Reads an int. */
static inline int virtwire_get_i32(virtwire_dec *d, int32_t *v)
{
    uint32_t u;
    VIRTWIRE_TRY(virtwire_get_u32(d, &u));
    *v = (int32_t)u;
    return 0;
}

/* int and unsigned int are 32 bits (checked above); these read into the C
 * types that generated structures use. */
/** Reads an int into a C int. */
static inline int virtwire_get_int(virtwire_dec *d, int *v)
{
    return virtwire_get_i32(d, (int32_t *)v);
}

/** Reads an unsigned int into a C unsigned int. */
static inline int virtwire_get_uint(virtwire_dec *d, unsigned int *v)
{
    return virtwire_get_u32(d, (uint32_t *)v);
}

/** Reads an unsigned hyper. */
static inline int virtwire_get_u64(virtwire_dec *d, uint64_t *v)
{
    const unsigned char *p = d->p;
    if (VIRTWIRE_UNLIKELY((size_t)(d->end - p) < 8))
        return VIRTWIRE_ETRUNCATED;
    *v = virtwire_load_u64(p);
    d->p = p + 8;
    return 0;
}

/** Reads a hyper. */
static inline int virtwire_get_i64(virtwire_dec *d, int64_t *v)
{
    uint64_t u;
    VIRTWIRE_TRY(virtwire_get_u64(d, &u));
    *v = (int64_t)u;
    return 0;
}

/** Reads a bool: 1 for any non-zero word (VIRTWIRE_EBOOL for one other
 *  than 1 with VIRTWIRE_DEC_STRICT_BOOL), else 0. */
static inline int virtwire_get_bool(virtwire_dec *d, int *v)
{
    uint32_t u;
    VIRTWIRE_TRY(virtwire_get_u32(d, &u));
    if (VIRTWIRE_UNLIKELY(u > 1) && (d->flags & VIRTWIRE_DEC_STRICT_BOOL))
        return VIRTWIRE_EBOOL;
    *v = u != 0;
    return 0;
}

/** Whether enum values must be declared (VIRTWIRE_DEC_STRICT_ENUM): what
 *  generated decoders ask before they check a value. */
static inline int virtwire_dec_strict_enum(const virtwire_dec *d)
{
    return VIRTWIRE_UNLIKELY((d->flags & VIRTWIRE_DEC_STRICT_ENUM) != 0);
}

/** Reads XDR's long (rpcgen's extension: a 32-bit int on the wire) into a C
 *  long, sign-extended. */
static inline int virtwire_get_long(virtwire_dec *d, long *v)
{
    int32_t i;
    VIRTWIRE_TRY(virtwire_get_i32(d, &i));
    *v = i;
    return 0;
}

/** Reads XDR's unsigned long (32 bits on the wire) into a C unsigned
 *  long. */
static inline int virtwire_get_ulong(virtwire_dec *d, unsigned long *v)
{
    uint32_t u;
    VIRTWIRE_TRY(virtwire_get_u32(d, &u));
    *v = u;
    return 0;
}

/** Reads a char (an int on the wire): VIRTWIRE_ERANGE outside char's
 *  range. */
static inline int virtwire_get_char(virtwire_dec *d, char *v)
{
    int32_t i;
    VIRTWIRE_TRY(virtwire_get_i32(d, &i));
    if (VIRTWIRE_UNLIKELY(i < CHAR_MIN || i > CHAR_MAX))
        return VIRTWIRE_ERANGE;
    *v = (char)i;
    return 0;
}

/** Reads an unsigned char: VIRTWIRE_ERANGE above UCHAR_MAX. */
static inline int virtwire_get_uchar(virtwire_dec *d, unsigned char *v)
{
    uint32_t u;
    VIRTWIRE_TRY(virtwire_get_u32(d, &u));
    if (VIRTWIRE_UNLIKELY(u > UCHAR_MAX))
        return VIRTWIRE_ERANGE;
    *v = (unsigned char)u;
    return 0;
}

/** Reads a short: VIRTWIRE_ERANGE outside short's range. */
static inline int virtwire_get_short(virtwire_dec *d, short *v)
{
    int32_t i;
    VIRTWIRE_TRY(virtwire_get_i32(d, &i));
    if (VIRTWIRE_UNLIKELY(i < SHRT_MIN || i > SHRT_MAX))
        return VIRTWIRE_ERANGE;
    *v = (short)i;
    return 0;
}

/** Reads an unsigned short: VIRTWIRE_ERANGE above USHRT_MAX. */
static inline int virtwire_get_ushort(virtwire_dec *d, unsigned short *v)
{
    uint32_t u;
    VIRTWIRE_TRY(virtwire_get_u32(d, &u));
    if (VIRTWIRE_UNLIKELY(u > USHRT_MAX))
        return VIRTWIRE_ERANGE;
    *v = (unsigned short)u;
    return 0;
}

/** Reads a float. */
static inline int virtwire_get_float(virtwire_dec *d, float *v)
{
    uint32_t u;
    VIRTWIRE_TRY(virtwire_get_u32(d, &u));
    memcpy(v, &u, 4);
    return 0;
}

/** Reads a double. */
static inline int virtwire_get_double(virtwire_dec *d, double *v)
{
    uint64_t u;
    VIRTWIRE_TRY(virtwire_get_u64(d, &u));
    memcpy(v, &u, 8);
    return 0;
}

/** In strict mode, checks the padding that follows n data bytes at p (the
 *  caller has checked that it is within the input). */
static inline int virtwire_check_pad(const virtwire_dec *d, const unsigned char *p, size_t n)
{
    if (VIRTWIRE_UNLIKELY(d->flags & VIRTWIRE_DEC_STRICT_PADDING)) {
        size_t pad = virtwire_pad4(n);
        for (size_t i = 0; i < pad; i++)
            if (p[i])
                return VIRTWIRE_EPADDING;
    }
    return 0;
}

/** Skips (or, in strict mode, checks) the padding after n data bytes. */
static inline int virtwire_get_pad(virtwire_dec *d, size_t n)
{
    VIRTWIRE_TRY(virtwire_check_pad(d, d->p, n));
    d->p += virtwire_pad4(n);
    return 0;
}

/** Reads n bytes of fixed-length opaque data into dst, then padding. */
static inline int virtwire_get_fixed_opaque(virtwire_dec *d, void *dst, size_t n)
{
    const unsigned char *p = d->p;
    size_t pad = virtwire_pad4(n);
    if (VIRTWIRE_UNLIKELY(n + pad < n || n + pad > (size_t)(d->end - p)))
        return VIRTWIRE_ETRUNCATED;
    if (n)
        memcpy(dst, p, n);
    if (VIRTWIRE_UNLIKELY(virtwire_check_pad(d, p + n, n) < 0)) {
        d->p = p + n; /* stops after the data, as virtwire_get_pad() does */
        return VIRTWIRE_EPADDING;
    }
    d->p = p + n + pad;
    return 0;
}

/** Reads variable-length opaque data of at most max bytes into a new
 *  allocation (*val is NULL when the length is 0). */
int virtwire_get_opaque(virtwire_dec *d, unsigned int *len, char **val, uint32_t max);

/** Reads a string of at most max bytes into a new NUL-terminated
 *  allocation. */
int virtwire_get_string(virtwire_dec *d, char **s, uint32_t max);

/**
 * Reads the element count of a variable-length array, checks it against max
 * and against the input left (each element needs at least min_wire bytes),
 * then allocates count * elem_size bytes (*val is NULL when the count is 0).
 * In heap mode the elements are zeroed.
 */
int virtwire_get_array(virtwire_dec *d, unsigned int *len, void **val, uint32_t max,
                       size_t min_wire, size_t elem_size);

/** Reads the flag of optional data; on 1 allocates elem_size bytes into
 *  *val and enters one nesting level (leave with virtwire_dec_leave()). */
int virtwire_get_optional(virtwire_dec *d, void **val, size_t elem_size);

/** Leaves the nesting level entered by virtwire_get_optional(). */
static inline void virtwire_dec_leave(virtwire_dec *d)
{
    d->depth--;
}

/* ------------------------------------------------------------------------ */
/* Type descriptors and whole-value helpers                                 */
/* ------------------------------------------------------------------------ */

/** Describes one XDR type of a generated protocol. */
typedef struct virtwire_type {
    const char *name;      /**< the .x name */
    size_t size;           /**< sizeof the C type */
    uint64_t max_size;     /**< largest encoding in bytes; 0 if unbounded */
    size_t min_size;       /**< smallest encoding in bytes */
    /** The type's _encode() function. */
    int (*encode)(virtwire_enc *e, const void *v);
    /** The type's _decode() function. */
    int (*decode)(virtwire_dec *d, void *v);
    /** The type's _free() function (heap mode). */
    void (*free)(void *v);
    /** The type's _size() function. */
    size_t (*encoded_size)(const void *v);
} virtwire_type;

/**
 * Encodes v as type t into buf[0..cap).  On success *len (if not NULL) gets
 * the number of bytes written.
 */
int virtwire_encode(const virtwire_type *t, const void *v, void *buf, size_t cap, size_t *len);

/**
 * Decodes exactly len bytes as type t into *v (zeroed first).  With an arena,
 * every allocation comes from it; with arena == NULL they come from the heap
 * and, on failure, are released before returning.  Bytes left over give
 * VIRTWIRE_ETRAILING.
 */
int virtwire_decode(const virtwire_type *t, const void *buf, size_t len, virtwire_arena *arena, void *v);

/**
 * Copies the value *src of type t into *dst, deeply: every string, array
 * and optional datum of *dst is allocated anew, from arena (released with
 * it), or with arena NULL from the heap (released with the type's _free(),
 * as after a heap-mode decode).  This is how a decoded value outlives
 * virtwire_arena_reset() of the arena it was decoded into:
 *
 * @code
 *   remote_nonnull_domain kept;
 *   rc = virtwire_copy(&remote_nonnull_domain_desc, &lookup_ret.dom, NULL, &kept);
 *   virtwire_arena_reset(&arena);            // kept lives on
 *   ...
 *   remote_nonnull_domain_free(&kept);
 * @endcode
 *
 * The copy goes through the value's encoding, so it is what decoding the
 * value's bytes would give.  Returns 0; VIRTWIRE_EINVAL for NULL or
 * src == dst; VIRTWIRE_ENOMEM; or the encoder's error for a value that
 * does not encode (a string beyond its bound, an undeclared enum value...)
 * or the decoder's for one it refuses (nested deeper than
 * VIRTWIRE_DEC_MAX_DEPTH_DEFAULT), *dst then zeroed (heap mode: nothing
 * left to free).  src is only read: it may be shared with other threads.
 */
int virtwire_copy(const virtwire_type *t, const void *src, virtwire_arena *arena, void *dst);

/**
 * virtwire_decode() with decoder flags: VIRTWIRE_DEC_STRICT_PADDING,
 * VIRTWIRE_DEC_STRICT_ENUM, VIRTWIRE_DEC_STRICT_BOOL, or all of them
 * (VIRTWIRE_DEC_STRICT).  Unknown flags give VIRTWIRE_EINVAL.
 */
int virtwire_decode_flags(const virtwire_type *t, const void *buf, size_t len, virtwire_arena *arena,
                          unsigned flags, void *v);

/**
 * @name Base types
 * Descriptors of XDR's base types, for procedures whose argument or result
 * is one (rpcgen's `int PROC(string) = 1;`), in the C types rpcgen gives
 * them: int, unsigned int, int64_t (hyper), uint64_t (unsigned hyper), int
 * (bool), float, double, char, unsigned char, short, unsigned short, long,
 * unsigned long (32 bits on the wire, see virtwire_put_long()), and char *
 * for a string of any length (rpcgen's wrapstring).
 * @{
 */
/** int */
extern const virtwire_type virtwire_type_int;
/** unsigned int */
extern const virtwire_type virtwire_type_uint;
/** hyper: int64_t */
extern const virtwire_type virtwire_type_hyper;
/** unsigned hyper: uint64_t */
extern const virtwire_type virtwire_type_uhyper;
/** bool: int, 0 or 1 */
extern const virtwire_type virtwire_type_bool;
/** float */
extern const virtwire_type virtwire_type_float;
/** double */
extern const virtwire_type virtwire_type_double;
/** char */
extern const virtwire_type virtwire_type_char;
/** unsigned char */
extern const virtwire_type virtwire_type_uchar;
/** short */
extern const virtwire_type virtwire_type_short;
/** unsigned short */
extern const virtwire_type virtwire_type_ushort;
/** long: a C long, 32 bits on the wire */
extern const virtwire_type virtwire_type_long;
/** unsigned long: a C unsigned long, 32 bits on the wire */
extern const virtwire_type virtwire_type_ulong;
/** string: char *, of any length */
extern const virtwire_type virtwire_type_string;
/** @} */

/** Used by generated code: defines T_desc for type T from its typed
 *  functions. */
#define VIRTWIRE_DEFINE_TYPE(T, max, min)                                      \
    static int T##_encode_v(virtwire_enc *e, const void *v)                    \
    {                                                                          \
        return T##_encode(e, (const T *)v);                                    \
    }                                                                          \
    static int T##_decode_v(virtwire_dec *d, void *v)                          \
    {                                                                          \
        return T##_decode(d, (T *)v);                                          \
    }                                                                          \
    static void T##_free_v(void *v)                                            \
    {                                                                          \
        T##_free((T *)v);                                                      \
    }                                                                          \
    static size_t T##_size_v(const void *v)                                    \
    {                                                                          \
        return T##_size((const T *)v);                                         \
    }                                                                          \
    const virtwire_type T##_desc = { #T, sizeof(T), (max), (min), T##_encode_v, \
                                     T##_decode_v, T##_free_v, T##_size_v }

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_XDR_H */
