/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON conversion helpers for generated code: see virtwire_json.h. */
#define _POSIX_C_SOURCE 200809L

#include "virtwire_json.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "virtwire_ascii_internal.h"
#include "virtwire_libvirt.h"

const virtwire_json_type *virtwire_json_find(const virtwire_json_module *m, const virtwire_type *t)
{
    size_t lo = 0, hi = m->ntypes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->types[mid].type->name, t->name);
        if (c == 0)
            return m->types[mid].type == t ? &m->types[mid] : NULL;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

json_t *virtwire_json_encode(const virtwire_json_type *t, const void *v)
{
    return t ? t->to_json(v) : NULL;
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

int vwj_fail(virtwire_json_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
    va_end(ap);
    ctx->path[0] = '\0';
    return -1;
}

/* Puts a + b in front of the path (cut at its size). */
static void prepend(virtwire_json_ctx *ctx, const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b), np = strlen(ctx->path), cap = sizeof(ctx->path) - 1;
    if (na + nb > cap)
        return;
    if (na + nb + np > cap)
        np = cap - na - nb;
    memmove(ctx->path + na + nb, ctx->path, np);
    memcpy(ctx->path, a, na);
    memcpy(ctx->path + na, b, nb);
    ctx->path[na + nb + np] = '\0';
}

int vwj_in(virtwire_json_ctx *ctx, int rc, const char *key)
{
    prepend(ctx, ".", key);
    return rc;
}

int vwj_at(virtwire_json_ctx *ctx, int rc, size_t index)
{
    char p[32];
    snprintf(p, sizeof(p), "[%zu]", index);
    prepend(ctx, p, "");
    return rc;
}

const char *virtwire_json_error(virtwire_json_ctx *ctx)
{
    const char *path = ctx->path[0] == '.' ? ctx->path + 1 : ctx->path;
    if (path[0])
        snprintf(ctx->full, sizeof(ctx->full), "%s: %s", path, ctx->msg);
    else
        snprintf(ctx->full, sizeof(ctx->full), "%s", ctx->msg);
    return ctx->full;
}

/* ------------------------------------------------------------------------ */
/* To JSON                                                                  */
/* ------------------------------------------------------------------------ */

int vwj_set(json_t *obj, const char *key, json_t *value)
{
    if (!value)
        return -1;
    return json_object_set_new(obj, key, value);
}

json_t *vwj_uhyper(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return json_string(buf);
}

json_t *vwj_real(double v)
{
    if (isnan(v))
        return json_string("nan");
    if (isinf(v))
        return json_string(v < 0 ? "-inf" : "inf");
    return json_real(v);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    unsigned cp = c & (0x3f >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static int is_utf8(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len(p + i, n - i);
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}

json_t *vwj_string(const char *s)
{
    if (!s)
        return json_null();
    size_t n = strlen(s);
    if (is_utf8((const unsigned char *)s, n))
        return json_stringn(s, n);
    /* Not text: its bytes in hex, so that nothing is lost. */
    json_t *o = json_object();
    if (o && vwj_set(o, "hex", vwj_opaque(s, n)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *vwj_uuid(const char *p)
{
    char text[VIRTWIRE_UUID_STRING_BUFLEN];
    return json_string(virtwire_uuid_format(p, text));
}

json_t *vwj_opaque(const void *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = p;
    char *s = malloc(n * 2 + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = hex[b[i] >> 4];
        s[2 * i + 1] = hex[b[i] & 15];
    }
    json_t *j = json_stringn(s, n * 2);
    free(s);
    return j;
}

json_t *vwj_chars(const char *p, size_t n, int fixed)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t len = n;
    if (fixed)
        while (len > 0 && b[len - 1] == 0)
            len--;
    if (len == 0 || (b && is_utf8(b, len)))
        return json_stringn(len ? p : "", len);
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_integer((signed char)p[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *vwj_array(const void *base, size_t n, size_t elem_size, virtwire_json_to_fn fn)
{
    json_t *a = json_array();
    const unsigned char *b = base;
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, fn(b + i * elem_size)) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *vwj_enum_to_json(const vwj_enum_member *m, size_t n, int32_t v)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].value == v)
            return json_string(m[i].name);
    return json_integer(v);
}

/* ------------------------------------------------------------------------ */
/* From JSON                                                                */
/* ------------------------------------------------------------------------ */

static const char *kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

const json_t *vwj_member(const json_t *j, const char *key)
{
    return j && json_is_object(j) ? json_object_get(j, key) : NULL;
}

int vwj_object(const json_t *j, const char *const *keys, const char *type, virtwire_json_ctx *ctx)
{
    if (!j)
        return 0;
    if (!json_is_object(j))
        return vwj_fail(ctx, "expected an object (%s), got %s", type, kind(j));
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)j, key, val) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], key) != 0)
            i++;
        if (!keys[i]) {
            size_t o = 0;
            char known[300] = "";
            for (i = 0; keys[i] && o < sizeof(known); i++)
                o += (size_t)snprintf(known + o, sizeof(known) - o, "%s%s", i ? ", " : "",
                                      keys[i]);
            return vwj_fail(ctx, "unknown member '%s' of %s (members: %s)", key, type,
                            keys[0] ? known : "none");
        }
    }
    return 0;
}

/* An integer within [lo, hi] from a JSON integer, or from a decimal string
 * when strings is set.  j NULL gives 0. */
static int get_integer(const json_t *j, long long lo, long long hi, int strings,
                       const char *what, long long *v, virtwire_json_ctx *ctx)
{
    if (!j) {
        *v = 0;
        return 0;
    }
    long long x = 0;
    if (json_is_integer(j)) {
        x = json_integer_value(j);
    } else if (strings && json_is_string(j)) {
        const char *s = json_string_value(j);
        char *end;
        errno = 0;
        x = strtoll(s, &end, 10);
        if (end == s || *end || errno)
            return vwj_fail(ctx, "'%s' is not a decimal number within %s", s, what);
    } else {
        return vwj_fail(ctx, "expected an integer (%s), got %s", what, kind(j));
    }
    if (x < lo || x > hi)
        return vwj_fail(ctx, "%lld is out of range for %s", x, what);
    *v = x;
    return 0;
}

/* The integer types' getters: get_integer() within the type's range (hyper
 * also from a decimal string), then the C type. */
#define VWJ_INTEGER_GETTER(name, type, lo, hi, strings, what)                  \
    int vwj_get_##name(const json_t *j, type *v, virtwire_json_ctx *ctx)       \
    {                                                                         \
        long long x = 0;                                                      \
        VWJ_TRY(get_integer(j, lo, hi, strings, what, &x, ctx));              \
        *v = (type)x;                                                         \
        return 0;                                                             \
    }

VWJ_INTEGER_GETTER(int, int, INT32_MIN, INT32_MAX, 0, "int")
VWJ_INTEGER_GETTER(uint, unsigned int, 0, UINT32_MAX, 0, "unsigned int")
/* XDR's long and unsigned long: 32 bits on the wire, C long in memory. */
VWJ_INTEGER_GETTER(long, long, INT32_MIN, INT32_MAX, 0, "long")
VWJ_INTEGER_GETTER(ulong, unsigned long, 0, UINT32_MAX, 0, "unsigned long")
VWJ_INTEGER_GETTER(hyper, int64_t, INT64_MIN, INT64_MAX, 1, "hyper")
VWJ_INTEGER_GETTER(short, short, SHRT_MIN, SHRT_MAX, 0, "short")
VWJ_INTEGER_GETTER(ushort, unsigned short, 0, USHRT_MAX, 0, "unsigned short")
VWJ_INTEGER_GETTER(char, char, CHAR_MIN, CHAR_MAX, 0, "char")
VWJ_INTEGER_GETTER(uchar, unsigned char, 0, UCHAR_MAX, 0, "unsigned char")

int vwj_get_uhyper(const json_t *j, uint64_t *v, virtwire_json_ctx *ctx)
{
    if (j && json_is_string(j)) {
        const char *s = json_string_value(j);
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (end == s || *end || errno || s[0] == '-' || s[0] == ' ')
            return vwj_fail(ctx, "'%s' is not a decimal number within unsigned hyper", s);
        *v = x;
        return 0;
    }
    long long x = 0;
    VWJ_TRY(get_integer(j, 0, INT64_MAX, 0, "unsigned hyper", &x, ctx));
    *v = (uint64_t)x;
    return 0;
}

int vwj_get_bool(const json_t *j, int *v, virtwire_json_ctx *ctx)
{
    if (!j) {
        *v = 0;
        return 0;
    }
    if (json_is_boolean(j)) {
        *v = json_is_true(j);
        return 0;
    }
    if (json_is_integer(j) && (json_integer_value(j) == 0 || json_integer_value(j) == 1)) {
        *v = (int)json_integer_value(j);
        return 0;
    }
    return vwj_fail(ctx, "expected true or false, got %s", kind(j));
}

int vwj_get_double(const json_t *j, double *v, virtwire_json_ctx *ctx)
{
    if (!j) {
        *v = 0;
        return 0;
    }
    if (json_is_number(j)) {
        *v = json_number_value(j);
        return 0;
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        if (strcmp(s, "nan") == 0) {
            *v = NAN;
            return 0;
        }
        if (strcmp(s, "inf") == 0 || strcmp(s, "-inf") == 0) {
            *v = s[0] == '-' ? -INFINITY : INFINITY;
            return 0;
        }
    }
    return vwj_fail(ctx, "expected a number, got %s", kind(j));
}

int vwj_get_float(const json_t *j, float *v, virtwire_json_ctx *ctx)
{
    double d = 0;
    VWJ_TRY(vwj_get_double(j, &d, ctx));
    *v = (float)d;
    return 0;
}

static void *alloc(virtwire_json_ctx *ctx, size_t n)
{
    void *p = virtwire_arena_alloc(ctx->arena, n ? n : 1);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

static long long unhex(const json_t *j, unsigned char *out, virtwire_json_ctx *ctx);

int vwj_get_string(const json_t *j, char **v, uint32_t max, virtwire_json_ctx *ctx)
{
    if (!j) {
        *v = (char *)"";
        return 0;
    }
    const json_t *hex = NULL;
    if (json_is_object(j)) {
        hex = json_object_get(j, "hex");
        if (!hex || json_object_size(j) != 1)
            return vwj_fail(ctx, "expected a string or {\"hex\": ...}");
    } else if (!json_is_string(j)) {
        return vwj_fail(ctx, "expected a string, got %s", kind(j));
    }
    long long n = hex ? unhex(hex, NULL, ctx) : (long long)json_string_length(j);
    VWJ_TRY(n);
    if ((unsigned long long)n > max)
        return vwj_fail(ctx, "string of %lld bytes, longer than its limit of %" PRIu32, n, max);
    char *s = alloc(ctx, (size_t)n + 1);
    if (!s)
        return vwj_fail(ctx, "out of memory");
    if (hex)
        unhex(hex, (unsigned char *)s, ctx);
    else
        memcpy(s, json_string_value(j), (size_t)n);
    if (memchr(s, 0, (size_t)n))
        return vwj_fail(ctx, "string contains a NUL character");
    *v = s;
    return 0;
}

/* Decodes the hex string j (dashes ignored) into out (NULL: count only);
 * returns the byte count or -1. */
static long long unhex(const json_t *j, unsigned char *out, virtwire_json_ctx *ctx)
{
    if (!json_is_string(j))
        return vwj_fail(ctx, "expected a hex string, got %s", kind(j));
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);
    long long count = 0;
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-')
            continue;
        int x = vw_hex_value((unsigned char)s[i]);
        if (x < 0)
            return vwj_fail(ctx, "'%c' is not a hex digit", s[i]);
        if (hi < 0) {
            hi = x;
        } else {
            if (out)
                out[count] = (unsigned char)(hi << 4 | x);
            count++;
            hi = -1;
        }
    }
    if (hi >= 0)
        return vwj_fail(ctx, "odd number of hex digits");
    return count;
}

int vwj_get_fixed_opaque(const json_t *j, char *v, size_t n, virtwire_json_ctx *ctx)
{
    if (!j)
        return 0;
    long long count = unhex(j, NULL, ctx);
    VWJ_TRY(count);
    if ((size_t)count != n)
        return vwj_fail(ctx, "expected %zu bytes of hex, got %lld", n, count);
    unhex(j, (unsigned char *)v, ctx);
    return 0;
}

int vwj_get_opaque(const json_t *j, unsigned int *len, char **val, uint32_t max,
                   virtwire_json_ctx *ctx)
{
    if (!j) {
        *len = 0;
        *val = NULL;
        return 0;
    }
    long long count = unhex(j, NULL, ctx);
    VWJ_TRY(count);
    if ((unsigned long long)count > max)
        return vwj_fail(ctx, "%lld bytes, more than the limit of %" PRIu32, count, max);
    unsigned char *p = alloc(ctx, (size_t)count);
    if (!p)
        return vwj_fail(ctx, "out of memory");
    unhex(j, p, ctx);
    *len = (unsigned int)count;
    *val = count ? (char *)p : NULL;
    return 0;
}

/* A char array from a string (its bytes) or an array of integers. */
static long long chars(const json_t *j, char *out, size_t cap, virtwire_json_ctx *ctx)
{
    if (json_is_string(j)) {
        size_t n = json_string_length(j);
        if (n > cap)
            return vwj_fail(ctx, "%zu bytes, more than the %zu the array holds", n, cap);
        if (out)
            memcpy(out, json_string_value(j), n);
        return (long long)n;
    }
    if (json_is_array(j)) {
        size_t n = json_array_size(j);
        if (n > cap)
            return vwj_fail(ctx, "%zu elements, more than the %zu the array holds", n, cap);
        for (size_t i = 0; i < n; i++) {
            char c;
            if (vwj_get_char(json_array_get(j, i), &c, ctx) < 0)
                return vwj_at(ctx, -1, i);
            if (out)
                out[i] = c;
        }
        return (long long)n;
    }
    return vwj_fail(ctx, "expected a string or an array of integers, got %s", kind(j));
}

int vwj_get_fixed_chars(const json_t *j, char *v, size_t n, virtwire_json_ctx *ctx)
{
    if (!j)
        return 0;
    long long got = chars(j, NULL, n, ctx);
    VWJ_TRY(got);
    if (json_is_array(j) && (size_t)got != n)
        return vwj_fail(ctx, "expected %zu elements, got %lld", n, got);
    chars(j, v, n, ctx);
    return 0;
}

int vwj_get_chars(const json_t *j, unsigned int *len, char **val, uint32_t max,
                  virtwire_json_ctx *ctx)
{
    if (!j) {
        *len = 0;
        *val = NULL;
        return 0;
    }
    long long got = chars(j, NULL, max, ctx);
    VWJ_TRY(got);
    char *p = alloc(ctx, (size_t)got);
    if (!p)
        return vwj_fail(ctx, "out of memory");
    chars(j, p, (size_t)got, ctx);
    *len = (unsigned int)got;
    *val = got ? p : NULL;
    return 0;
}

int vwj_get_optional(const json_t *j, void **p, size_t size, virtwire_json_ctx *ctx)
{
    if (!j || json_is_null(j)) {
        *p = NULL;
        return 0;
    }
    *p = alloc(ctx, size);
    return *p ? 1 : vwj_fail(ctx, "out of memory");
}

int vwj_get_fixed_array(const json_t *j, void *base, size_t n, size_t elem_size,
                        virtwire_json_from_fn fn, virtwire_json_ctx *ctx)
{
    unsigned char *b = base;
    if (j && !json_is_array(j))
        return vwj_fail(ctx, "expected an array of %zu elements, got %s", n, kind(j));
    if (j && json_array_size(j) != n)
        return vwj_fail(ctx, "expected an array of %zu elements, got %zu", n, json_array_size(j));
    for (size_t i = 0; i < n; i++)
        if (fn(j ? json_array_get(j, i) : NULL, b + i * elem_size, ctx) < 0)
            return vwj_at(ctx, -1, i);
    return 0;
}

int vwj_get_array(const json_t *j, unsigned int *len, void **val, uint32_t max,
                  size_t elem_size, virtwire_json_from_fn fn, virtwire_json_ctx *ctx)
{
    *len = 0;
    *val = NULL;
    if (!j)
        return 0;
    if (!json_is_array(j))
        return vwj_fail(ctx, "expected an array, got %s", kind(j));
    size_t n = json_array_size(j);
    if (n > max)
        return vwj_fail(ctx, "%zu elements, more than the limit of %" PRIu32, n, max);
    if (n == 0)
        return 0;
    unsigned char *b = alloc(ctx, n * elem_size);
    if (!b)
        return vwj_fail(ctx, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (fn(json_array_get(j, i), b + i * elem_size, ctx) < 0)
            return vwj_at(ctx, -1, i);
    *len = (unsigned int)n;
    *val = b;
    return 0;
}

int vwj_enum_from_json(const json_t *j, const vwj_enum_member *m, size_t n, const char *type,
                       int32_t *v, virtwire_json_ctx *ctx)
{
    if (!j) {
        for (size_t i = 0; i < n; i++)
            if (m[i].value == 0) {
                *v = 0;
                return 0;
            }
        return vwj_fail(ctx, "missing value of %s (it has no member 0)", type);
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        for (size_t i = 0; i < n; i++)
            if (strcasecmp(m[i].name, s) == 0) {
                *v = m[i].value;
                return 0;
            }
        return vwj_fail(ctx, "'%s' is not a member of %s", s, type);
    }
    if (json_is_integer(j)) {
        json_int_t x = json_integer_value(j);
        for (size_t i = 0; i < n; i++)
            if (m[i].value == x) {
                *v = m[i].value;
                return 0;
            }
        return vwj_fail(ctx, "%lld is not a value of %s", (long long)x, type);
    }
    return vwj_fail(ctx, "expected a member name of %s, got %s", type, kind(j));
}

/* ------------------------------------------------------------------------ */
/* Element converters                                                       */
/* ------------------------------------------------------------------------ */

#define VWJ_ELEMENT(name, ctype, to)                                           \
    json_t *vwj_##name##_tj(const void *p)                                     \
    {                                                                          \
        return to(*(const ctype *)p);                                          \
    }                                                                          \
    int vwj_##name##_fj(const json_t *j, void *p, virtwire_json_ctx *ctx)      \
    {                                                                          \
        return vwj_get_##name(j, (ctype *)p, ctx);                             \
    }

static json_t *int_json(long long v)
{
    return json_integer(v);
}

static json_t *bool_json(int v)
{
    return json_boolean(v);
}

VWJ_ELEMENT(int, int, int_json)
VWJ_ELEMENT(uint, unsigned int, int_json)
VWJ_ELEMENT(hyper, int64_t, int_json)
VWJ_ELEMENT(uhyper, uint64_t, vwj_uhyper)
VWJ_ELEMENT(bool, int, bool_json)
VWJ_ELEMENT(float, float, vwj_real)
VWJ_ELEMENT(double, double, vwj_real)
VWJ_ELEMENT(short, short, int_json)
VWJ_ELEMENT(ushort, unsigned short, int_json)
VWJ_ELEMENT(char, char, int_json)
VWJ_ELEMENT(uchar, unsigned char, int_json)
VWJ_ELEMENT(long, long, int_json)
VWJ_ELEMENT(ulong, unsigned long, int_json)
