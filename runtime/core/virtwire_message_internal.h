/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Error messages for callers' buffers (not installed): every layer that
 * explains a failure in a caller's errbuf writes it with vw_errorf().
 */
#ifndef VIRTWIRE_MESSAGE_INTERNAL_H
#define VIRTWIRE_MESSAGE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Writes a message into errbuf (errlen bytes, NUL-terminated; nothing when
 * errbuf is NULL or errlen 0). */
static inline __attribute__((format(printf, 3, 4))) void
vw_errorf(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

#endif /* VIRTWIRE_MESSAGE_INTERNAL_H */
