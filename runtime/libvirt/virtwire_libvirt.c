/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire's libvirt layer: UUIDs, versions and typed parameters as libvirt
 * shows and handles them (see virtwire_libvirt.h).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtwire_ascii_internal.h"
#include "virtwire_error.h"
#include "virtwire_libvirt.h"

/* ------------------------------------------------------------------------ */
/* UUIDs                                                                    */
/* ------------------------------------------------------------------------ */

char *virtwire_uuid_format(const char *uuid, char *buf)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        unsigned char b = (unsigned char)uuid[i];
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[o++] = '-';
        buf[o++] = hex[b >> 4];
        buf[o++] = hex[b & 15];
    }
    buf[o] = '\0';
    return buf;
}

/* White space as libvirt's parser (GLib's g_ascii_isspace) knows it. */
static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int virtwire_uuid_parse(const char *text, char *uuid)
{
    if (!text || !uuid)
        return VIRTWIRE_EINVAL;
    const char *p = text;
    while (is_space(*p))
        p++;
    for (int i = 0; i < 16;) {
        if (*p == '-' || *p == ' ') {
            p++;
            continue;
        }
        int hi = vw_hex_value(*p);
        int lo = hi < 0 ? -1 : vw_hex_value(p[1]);
        if (lo < 0)
            return VIRTWIRE_EINVAL; /* the end, or not a pair of hex digits */
        uuid[i++] = (char)(hi << 4 | lo);
        p += 2;
    }
    while (is_space(*p))
        p++;
    return *p ? VIRTWIRE_EINVAL : 0;
}

/* ------------------------------------------------------------------------ */
/* Versions                                                                 */
/* ------------------------------------------------------------------------ */

virtwire_version virtwire_version_decode(uint64_t packed)
{
    virtwire_version v = { packed / 1000000, (unsigned int)(packed / 1000 % 1000),
                           (unsigned int)(packed % 1000) };
    return v;
}

char *virtwire_version_format(uint64_t packed, char *buf)
{
    virtwire_version v = virtwire_version_decode(packed);
    snprintf(buf, VIRTWIRE_VERSION_BUFLEN, "%llu.%u.%u", v.major, v.minor, v.micro);
    return buf;
}

uint64_t virtwire_version_pack(unsigned long long major, unsigned int minor, unsigned int micro)
{
    if (minor > 999 || micro > 999)
        return 0;
    uint64_t low = minor * 1000u + micro;
    if (major > (UINT64_MAX - low) / 1000000)
        return 0;
    return (uint64_t)major * 1000000 + low;
}

/* ------------------------------------------------------------------------ */
/* Typed parameters                                                         */
/* ------------------------------------------------------------------------ */

const remote_typed_param *virtwire_typed_params_find(const remote_typed_param *params,
                                                     unsigned int n, const char *field)
{
    if (!field)
        return NULL;
    for (unsigned int i = 0; params && i < n; i++)
        if (params[i].field && strcmp(params[i].field, field) == 0)
            return &params[i];
    return NULL;
}

/* The parameter called field if it has type, in *p: 1; 0 when there is
 * none; VIRTWIRE_EINVAL for another type. */
static int find_typed(const remote_typed_param *params, unsigned int n, const char *field,
                      int type, const remote_typed_param **p)
{
    if (!field)
        return VIRTWIRE_EINVAL;
    *p = virtwire_typed_params_find(params, n, field);
    if (!*p)
        return 0;
    return (*p)->value.type == type ? 1 : VIRTWIRE_EINVAL;
}

#define GETTER(NAME, CTYPE, TYPE, MEMBER, CONVERT)                                           \
    int virtwire_typed_params_get_##NAME(const remote_typed_param *params, unsigned int n,   \
                                         const char *field, CTYPE *value)                    \
    {                                                                                        \
        const remote_typed_param *p;                                                         \
        int rc = find_typed(params, n, field, TYPE, &p);                                     \
        if (rc == 1 && value)                                                                \
            *value = (CTYPE)CONVERT(p->value.remote_typed_param_value_u.MEMBER);             \
        return rc;                                                                           \
    }
#define AS_IS(v) (v)
#define AS_BOOL(v) ((v) != 0)

GETTER(int, int, VIR_TYPED_PARAM_INT, i, AS_IS)
GETTER(uint, unsigned int, VIR_TYPED_PARAM_UINT, ui, AS_IS)
GETTER(llong, long long, VIR_TYPED_PARAM_LLONG, l, AS_IS)
GETTER(ullong, unsigned long long, VIR_TYPED_PARAM_ULLONG, ul, AS_IS)
GETTER(double, double, VIR_TYPED_PARAM_DOUBLE, d, AS_IS)
GETTER(boolean, int, VIR_TYPED_PARAM_BOOLEAN, b, AS_BOOL)
GETTER(string, const char *, VIR_TYPED_PARAM_STRING, s, AS_IS)

/* A copy of s in arena, or on the heap. */
static char *copy_string(virtwire_arena *arena, const char *s)
{
    if (!arena)
        return strdup(s);
    size_t len = strlen(s) + 1;
    char *p = virtwire_arena_alloc(arena, len);
    if (p)
        memcpy(p, s, len);
    return p;
}

/* The parameter called field, appended (zeroed, its field set) when the
 * list has none.  NULL when out of memory (the list unchanged). */
static remote_typed_param *slot(remote_typed_param **params, unsigned int *n,
                                virtwire_arena *arena, const char *field)
{
    remote_typed_param *p = (remote_typed_param *)virtwire_typed_params_find(*params, *n, field);
    if (p)
        return p;
    char *name = copy_string(arena, field);
    if (!name)
        return NULL;
    size_t size = ((size_t)*n + 1) * sizeof **params;
    remote_typed_param *grown;
    if (arena) {
        /* An arena cannot grow a block: the list moves. */
        grown = virtwire_arena_alloc(arena, size);
        if (grown && *n)
            memcpy(grown, *params, (size_t)*n * sizeof **params);
    } else {
        grown = realloc(*params, size);
        if (!grown)
            free(name);
    }
    if (!grown)
        return NULL;
    p = &grown[*n];
    memset(p, 0, sizeof *p);
    p->field = name;
    *params = grown;
    (*n)++;
    return p;
}

/* Sets the parameter called field: its type, and a value set by the
 * caller through the returned pointer; a heap string it held is freed. */
static int set_common(remote_typed_param **params, unsigned int *n, virtwire_arena *arena,
                      const char *field, int type, remote_typed_param **out)
{
    if (!params || !n || !field || (*n && !*params) || *n == UINT32_MAX)
        return VIRTWIRE_EINVAL;
    remote_typed_param *p = slot(params, n, arena, field);
    if (!p)
        return VIRTWIRE_ENOMEM;
    if (!arena && p->value.type == VIR_TYPED_PARAM_STRING)
        free(p->value.remote_typed_param_value_u.s);
    memset(&p->value.remote_typed_param_value_u, 0, sizeof p->value.remote_typed_param_value_u);
    p->value.type = type;
    *out = p;
    return 0;
}

#define SETTER(NAME, CTYPE, TYPE, MEMBER, CONVERT)                                          \
    int virtwire_typed_params_set_##NAME(remote_typed_param **params, unsigned int *n,      \
                                         virtwire_arena *arena, const char *field,          \
                                         CTYPE value)                                       \
    {                                                                                       \
        remote_typed_param *p;                                                              \
        int rc = set_common(params, n, arena, field, TYPE, &p);                             \
        if (rc == 0)                                                                        \
            p->value.remote_typed_param_value_u.MEMBER = CONVERT(value);                    \
        return rc;                                                                          \
    }
SETTER(int, int, VIR_TYPED_PARAM_INT, i, AS_IS)
SETTER(uint, unsigned int, VIR_TYPED_PARAM_UINT, ui, AS_IS)
SETTER(llong, long long, VIR_TYPED_PARAM_LLONG, l, (int64_t))
SETTER(ullong, unsigned long long, VIR_TYPED_PARAM_ULLONG, ul, (uint64_t))
SETTER(double, double, VIR_TYPED_PARAM_DOUBLE, d, AS_IS)
SETTER(boolean, int, VIR_TYPED_PARAM_BOOLEAN, b, AS_BOOL)

int virtwire_typed_params_set_string(remote_typed_param **params, unsigned int *n,
                                     virtwire_arena *arena, const char *field,
                                     const char *value)
{
    if (!value)
        return VIRTWIRE_EINVAL;
    char *copy = copy_string(arena, value);
    if (!copy)
        return VIRTWIRE_ENOMEM;
    remote_typed_param *p;
    int rc = set_common(params, n, arena, field, VIR_TYPED_PARAM_STRING, &p);
    if (rc < 0) {
        if (!arena)
            free(copy);
        return rc;
    }
    p->value.remote_typed_param_value_u.s = copy;
    return 0;
}

void virtwire_typed_params_free(remote_typed_param *params, unsigned int n)
{
    for (unsigned int i = 0; params && i < n; i++)
        remote_typed_param_free(&params[i]);
    free(params);
}
