/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ASCII character values (not installed): the URI parser, the libvirt
 * layer's UUIDs and the tool's hex strings read hex digits with
 * vw_hex_value().
 */
#ifndef VIRTWIRE_ASCII_INTERNAL_H
#define VIRTWIRE_ASCII_INTERNAL_H

/* The value of the hex digit c (either case), or -1 when c is not one. */
static inline int vw_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif /* VIRTWIRE_ASCII_INTERNAL_H */
