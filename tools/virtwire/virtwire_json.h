/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON conversion of generated types, for the virtwire tool (jansson).
 *
 * virtwire-gen --json writes, for every type T of a .x file,
 *
 *   json_t *T_to_json(const T *v);          new reference; NULL: no memory
 *   int T_from_json(const json_t *j, T *v, virtwire_json_ctx *ctx);
 *
 * and per module a table of them (virtwire_json_module), found by the
 * type's descriptor.  The functions below are what that generated code
 * calls.  The mapping:
 *
 *   int, unsigned int, short, char, hyper ...  JSON integers; unsigned hyper
 *                       values above INT64_MAX are decimal strings, and any
 *                       hyper is also accepted as a decimal string
 *   bool                true / false (0 and 1 accepted)
 *   float, double       JSON numbers; "nan", "inf", "-inf" as strings
 *   enum                the member's name (its number accepted)
 *   string              a JSON string; one that is not UTF-8 text becomes
 *                       {"hex": "<its bytes>"} (accepted too)
 *   opaque              lower-case hex ("" when empty); input may use upper
 *                       case and '-' separators (UUIDs in their usual form)
 *   char arrays         a string when the bytes are UTF-8 (a fixed array
 *                       without its trailing NULs, a variable one with
 *                       all its bytes, NULs as \u0000), else an array of
 *                       integers; both are accepted
 *   other arrays        JSON arrays (a fixed array needs exactly its length)
 *   optional data (T *) null or the value
 *   struct              an object of its members in .x order
 *   union               an object: the discriminant under its name, plus
 *                       the selected arm under the arm's name (none for void)
 *
 * from_json fills a value that is zeroed beforehand; every pointer comes
 * from ctx->arena.  Members left out take their zero value (0, false, "",
 * empty, null; an enum its member 0, if it has one); a union needs its
 * discriminant; unknown members are an error.  Errors return -1;
 * virtwire_json_error() then says what and where ("dom.name: expected a
 * string, got an integer").
 */
#ifndef VIRTWIRE_JSON_H
#define VIRTWIRE_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "virtwire_program.h"
#include "virtwire_xdr.h"

typedef struct virtwire_json_ctx {
    virtwire_arena *arena;
    char msg[256];  /* what is wrong */
    char path[256]; /* where: ".dom.name", "[2].field" */
    char full[520];
} virtwire_json_ctx;

/** "path: message" of the last error. */
const char *virtwire_json_error(virtwire_json_ctx *ctx);

typedef json_t *(*virtwire_json_to_fn)(const void *v);
typedef int (*virtwire_json_from_fn)(const json_t *j, void *v, virtwire_json_ctx *ctx);

/** One generated type's converters, type-erased. */
typedef struct virtwire_json_type {
    const virtwire_type *type;
    virtwire_json_to_fn to_json;
    virtwire_json_from_fn from_json;
} virtwire_json_type;

/** A procedure's C side as text (virtwire procs --c). */
typedef struct virtwire_json_cdoc {
    const virtwire_program *program;
    int32_t number;
    const char *text;
} virtwire_json_cdoc;

/** The converters of one generated module, sorted by type name, and the C
 *  side of its procedures. */
typedef struct virtwire_json_module {
    const virtwire_protocol *protocol;
    const virtwire_json_type *types;
    size_t ntypes;
    const virtwire_json_cdoc *cdocs;
    size_t ncdocs;
} virtwire_json_module;

/** The converters of type t in module m, or NULL. */
const virtwire_json_type *virtwire_json_find(const virtwire_json_module *m, const virtwire_type *t);

/** Converts a value of t to JSON; NULL: no converter (or no memory). */
json_t *virtwire_json_encode(const virtwire_json_type *t, const void *v);

/* ------------------------------------------------------------------------ */
/* What generated code calls                                                */
/* ------------------------------------------------------------------------ */

typedef struct vwj_enum_member {
    const char *name;
    int32_t value;
} vwj_enum_member;

/** Sets the error message (printf-style), clears its path, returns -1. */
int vwj_fail(virtwire_json_ctx *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Prefixes the error's path with a member name (key) or an index;
 *  returns rc. */
int vwj_in(virtwire_json_ctx *ctx, int rc, const char *key);
int vwj_at(virtwire_json_ctx *ctx, int rc, size_t index);

#define VWJ_TRY(expr)                                                          \
    do {                                                                       \
        if ((expr) < 0)                                                        \
            return -1;                                                         \
    } while (0)
#define VWJ_TRY_IN(expr, key)                                                  \
    do {                                                                       \
        if ((expr) < 0)                                                        \
            return vwj_in(ctx, -1, key);                                       \
    } while (0)

/** json_object_set_new() that treats a NULL value as failure. */
int vwj_set(json_t *obj, const char *key, json_t *value);

/** Checks that j is an object whose keys are all in keys (NULL-terminated);
 *  j NULL is accepted (a value left out). */
int vwj_object(const json_t *j, const char *const *keys, const char *type,
               virtwire_json_ctx *ctx);
/** j's member key, or NULL (also when j is NULL). */
const json_t *vwj_member(const json_t *j, const char *key);

json_t *vwj_uhyper(uint64_t v);
json_t *vwj_real(double v);
json_t *vwj_string(const char *s);
json_t *vwj_opaque(const void *p, size_t n);
/** A UUID (16 bytes) as libvirt shows it: "6695eb01-f6a4-8304-79aa-97f2502e193f". */
json_t *vwj_uuid(const char *p);
json_t *vwj_chars(const char *p, size_t n, int fixed);
json_t *vwj_array(const void *base, size_t n, size_t elem_size, virtwire_json_to_fn fn);
json_t *vwj_enum_to_json(const vwj_enum_member *m, size_t n, int32_t v);

int vwj_get_int(const json_t *j, int *v, virtwire_json_ctx *ctx);
int vwj_get_uint(const json_t *j, unsigned int *v, virtwire_json_ctx *ctx);
int vwj_get_hyper(const json_t *j, int64_t *v, virtwire_json_ctx *ctx);
int vwj_get_uhyper(const json_t *j, uint64_t *v, virtwire_json_ctx *ctx);
int vwj_get_bool(const json_t *j, int *v, virtwire_json_ctx *ctx);
int vwj_get_float(const json_t *j, float *v, virtwire_json_ctx *ctx);
int vwj_get_double(const json_t *j, double *v, virtwire_json_ctx *ctx);
int vwj_get_short(const json_t *j, short *v, virtwire_json_ctx *ctx);
int vwj_get_ushort(const json_t *j, unsigned short *v, virtwire_json_ctx *ctx);
int vwj_get_char(const json_t *j, char *v, virtwire_json_ctx *ctx);
int vwj_get_uchar(const json_t *j, unsigned char *v, virtwire_json_ctx *ctx);
int vwj_get_long(const json_t *j, long *v, virtwire_json_ctx *ctx);
int vwj_get_ulong(const json_t *j, unsigned long *v, virtwire_json_ctx *ctx);
int vwj_get_string(const json_t *j, char **v, uint32_t max, virtwire_json_ctx *ctx);
int vwj_get_fixed_opaque(const json_t *j, char *v, size_t n, virtwire_json_ctx *ctx);
int vwj_get_opaque(const json_t *j, unsigned int *len, char **val, uint32_t max,
                   virtwire_json_ctx *ctx);
int vwj_get_fixed_chars(const json_t *j, char *v, size_t n, virtwire_json_ctx *ctx);
int vwj_get_chars(const json_t *j, unsigned int *len, char **val, uint32_t max,
                  virtwire_json_ctx *ctx);
/** Optional data: *p NULL for a missing value or null, else zeroed memory of
 *  size bytes for the value. */
int vwj_get_optional(const json_t *j, void **p, size_t size, virtwire_json_ctx *ctx);
int vwj_get_fixed_array(const json_t *j, void *base, size_t n, size_t elem_size,
                        virtwire_json_from_fn fn, virtwire_json_ctx *ctx);
int vwj_get_array(const json_t *j, unsigned int *len, void **val, uint32_t max,
                  size_t elem_size, virtwire_json_from_fn fn, virtwire_json_ctx *ctx);
int vwj_enum_from_json(const json_t *j, const vwj_enum_member *m, size_t n, const char *type,
                       int32_t *v, virtwire_json_ctx *ctx);

/* Element converters of the primitive kinds, for arrays. */
json_t *vwj_int_tj(const void *p);
json_t *vwj_uint_tj(const void *p);
json_t *vwj_hyper_tj(const void *p);
json_t *vwj_uhyper_tj(const void *p);
json_t *vwj_bool_tj(const void *p);
json_t *vwj_float_tj(const void *p);
json_t *vwj_double_tj(const void *p);
json_t *vwj_short_tj(const void *p);
json_t *vwj_ushort_tj(const void *p);
json_t *vwj_char_tj(const void *p);
json_t *vwj_uchar_tj(const void *p);
json_t *vwj_long_tj(const void *p);
json_t *vwj_ulong_tj(const void *p);
int vwj_int_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);
int vwj_uint_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);
int vwj_hyper_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);
int vwj_uhyper_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);
int vwj_bool_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);
int vwj_float_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);
int vwj_double_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);
int vwj_short_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);
int vwj_ushort_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);
int vwj_char_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);
int vwj_uchar_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);
int vwj_long_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);
int vwj_ulong_fj(const json_t *j, void *p, virtwire_json_ctx *ctx);

#endif /* VIRTWIRE_JSON_H */
