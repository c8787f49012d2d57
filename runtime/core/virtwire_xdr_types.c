/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Descriptors of XDR's base types and of rpcgen's library types
 * (virtwire_xdr.h, virtwire_xdr_lib.h). */
#include <stdlib.h>

#include "virtwire_xdr.h"
#include "virtwire_xdr_lib.h"

/* A scalar type T read and written with one primitive: N wire bytes. */
#define SCALAR(NAME, T, PUT, GET, N)                                           \
    static int NAME##_enc(virtwire_enc *e, const void *v)                      \
    {                                                                          \
        return virtwire_put_##PUT(e, *(const T *)v);                           \
    }                                                                          \
    static int NAME##_dec(virtwire_dec *d, void *v)                            \
    {                                                                          \
        return virtwire_get_##GET(d, (T *)v);                                  \
    }                                                                          \
    static size_t NAME##_size(const void *v)                                   \
    {                                                                          \
        (void)v;                                                               \
        return N;                                                              \
    }                                                                          \
    const virtwire_type virtwire_type_##NAME = { #NAME, sizeof(T), N, N, NAME##_enc, NAME##_dec, \
                                                 nothing_to_free, NAME##_size }

static void nothing_to_free(void *v)
{
    (void)v;
}

SCALAR(int, int, i32, int, 4);
SCALAR(uint, unsigned int, u32, uint, 4);
SCALAR(hyper, int64_t, i64, i64, 8);
SCALAR(uhyper, uint64_t, u64, u64, 8);
SCALAR(bool, int, bool, bool, 4);
SCALAR(float, float, float, float, 4);
SCALAR(double, double, double, double, 8);
SCALAR(char, char, i32, char, 4);
SCALAR(uchar, unsigned char, u32, uchar, 4);
SCALAR(short, short, i32, short, 4);
SCALAR(ushort, unsigned short, u32, ushort, 4);
SCALAR(long, long, long, long, 4);
SCALAR(ulong, unsigned long, ulong, ulong, 4);

/* string: char *, any length (rpcgen's wrapstring) */
static int string_enc(virtwire_enc *e, const void *v)
{
    return virtwire_put_string(e, *(char *const *)v, UINT32_MAX);
}

static int string_dec(virtwire_dec *d, void *v)
{
    return virtwire_get_string(d, (char **)v, UINT32_MAX);
}

static void string_free(void *v)
{
    char **s = v;
    virtwire_free(*s);
    *s = NULL;
}

static size_t string_size(const void *v)
{
    return virtwire_string_size(*(char *const *)v);
}

const virtwire_type virtwire_type_string = { "string", sizeof(char *), 0, 4, string_enc,
                                             string_dec, string_free, string_size };

/* netobj: opaque n_bytes<1024> */
static int netobj_enc(virtwire_enc *e, const void *v)
{
    const netobj *o = v;
    return virtwire_put_opaque(e, o->n_bytes, o->n_len, VIRTWIRE_NETOBJ_MAX);
}

static int netobj_dec(virtwire_dec *d, void *v)
{
    netobj *o = v;
    return virtwire_get_opaque(d, &o->n_len, &o->n_bytes, VIRTWIRE_NETOBJ_MAX);
}

static void netobj_free(void *v)
{
    netobj *o = v;
    virtwire_free(o->n_bytes);
    o->n_bytes = NULL;
    o->n_len = 0;
}

static size_t netobj_size(const void *v)
{
    const netobj *o = v;
    return 4 + (size_t)o->n_len + virtwire_pad4(o->n_len);
}

const virtwire_type virtwire_type_netobj = { "netobj", sizeof(netobj), 4 + VIRTWIRE_NETOBJ_MAX, 4,
                                             netobj_enc, netobj_dec, netobj_free, netobj_size };

/* des_block: opaque c[8] */
static int des_block_enc(virtwire_enc *e, const void *v)
{
    return virtwire_put_fixed_opaque(e, ((const des_block *)v)->c, 8);
}

static int des_block_dec(virtwire_dec *d, void *v)
{
    return virtwire_get_fixed_opaque(d, ((des_block *)v)->c, 8);
}

static size_t des_block_size(const void *v)
{
    (void)v;
    return 8;
}

const virtwire_type virtwire_type_des_block = { "des_block", sizeof(des_block), 8, 8,
                                                des_block_enc, des_block_dec, nothing_to_free,
                                                des_block_size };
