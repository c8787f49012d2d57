/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * rpcgen's library types: the XDR types that rpcgen's users take from
 * libtirpc's headers rather than from their .x file.
 *
 * A .x file may name them as it names its own types (`netobj fh;`,
 * `des_block key;`); rpcgen leaves them to <rpc/rpc.h>, and the headers
 * that virtwire-gen writes for such a file include this one instead.  The C
 * types are laid out as libtirpc lays them out, and when <rpc/xdr.h> or
 * <rpc/auth.h> came first their own definitions are used.
 *
 * The scalar spellings (u_int, u_long, u_char, u_short, uint32_t, int32_t,
 * quad_t, bool_t, ...) need nothing here: the generator writes the standard
 * C type each stands for.
 */
#ifndef VIRTWIRE_XDR_LIB_H
#define VIRTWIRE_XDR_LIB_H

#include <stdint.h>

#include "virtwire_xdr.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The largest netobj: libtirpc's MAX_NETOBJ_SZ. */
#define VIRTWIRE_NETOBJ_MAX 1024u

#if !defined(_TIRPC_XDR_H) && !defined(_RPC_XDR_H) && !defined(VIRTWIRE_NETOBJ_DEFINED)
/** netobj is defined (by this header). */
#define VIRTWIRE_NETOBJ_DEFINED 1
/** A counted byte string of at most VIRTWIRE_NETOBJ_MAX bytes: on the wire,
 *  opaque n_bytes<1024>. */
struct netobj {
    unsigned int n_len; /**< number of bytes */
    char *n_bytes;      /**< the bytes (NULL when n_len is 0) */
};
/** The type name rpcgen's users write. */
typedef struct netobj netobj;
#endif

#if !defined(_TIRPC_AUTH_H) && !defined(_RPC_AUTH_H) && !defined(VIRTWIRE_DES_BLOCK_DEFINED)
/** des_block is defined (by this header). */
#define VIRTWIRE_DES_BLOCK_DEFINED 1
/** A DES key: on the wire, opaque c[8]. */
union des_block {
    /** The key as two words, in host order. */
    struct {
        uint32_t high; /**< first four bytes */
        uint32_t low;  /**< last four bytes */
    } key;
    char c[8]; /**< the key's eight bytes, as on the wire */
};
/** The type name rpcgen's users write. */
typedef union des_block des_block;
#endif

/** Descriptor of netobj, for procedures that take or return one. */
extern const virtwire_type virtwire_type_netobj;
/** Descriptor of des_block, for procedures that take or return one. */
extern const virtwire_type virtwire_type_des_block;

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_XDR_LIB_H */
