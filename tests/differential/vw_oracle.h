/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The reference side of the differential test: rpcgen's xdr_T() functions
 * for libvirt's .x files, run by libtirpc.  The generated oracle_<module>.c
 * files fill these tables; they are compiled against rpcgen's headers only.
 */
#ifndef VW_ORACLE_H
#define VW_ORACLE_H

#include <stddef.h>

#include <rpc/rpc.h>

typedef struct vw_oracle_entry {
    const char *name;
    bool_t (*proc)(XDR *x, void *v); /* calls rpcgen's xdr_<name> */
    size_t size;                     /* sizeof the rpcgen C type */
} vw_oracle_entry;

#endif /* VW_ORACLE_H */
