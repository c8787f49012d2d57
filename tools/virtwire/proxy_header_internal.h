/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire proxy: the length word and header of a frame the proxy writes
 * itself (its own stream aborts and error replies).
 */
#ifndef VIRTWIRE_TOOL_PROXY_HEADER_INTERNAL_H
#define VIRTWIRE_TOOL_PROXY_HEADER_INTERNAL_H

#include <stdint.h>

#include "virtwire_xdr.h"

/* Writes the 28 bytes at b: the length word len, then the header. */
static inline void vp_store_header(unsigned char *b, uint32_t len, uint32_t prog, uint32_t vers,
                                   int32_t proc, int32_t type, uint32_t serial, int32_t status)
{
    virtwire_store_u32(b, len);
    virtwire_store_u32(b + 4, prog);
    virtwire_store_u32(b + 8, vers);
    virtwire_store_u32(b + 12, (uint32_t)proc);
    virtwire_store_u32(b + 16, (uint32_t)type);
    virtwire_store_u32(b + 20, serial);
    virtwire_store_u32(b + 24, (uint32_t)status);
}

#endif
