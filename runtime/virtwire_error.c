/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "virtwire_error.h"

#include <stddef.h>

static const struct {
    int code;
    const char *name;
    const char *text;
} errors[] = {
    { VIRTWIRE_OK, "VIRTWIRE_OK", "success" },
    { VIRTWIRE_ENOMEM, "VIRTWIRE_ENOMEM", "out of memory" },
    { VIRTWIRE_ETRUNCATED, "VIRTWIRE_ETRUNCATED", "input truncated" },
    { VIRTWIRE_ETOOLONG, "VIRTWIRE_ETOOLONG", "length exceeds the protocol bound" },
    { VIRTWIRE_EENUM, "VIRTWIRE_EENUM", "undeclared enum value" },
    { VIRTWIRE_EUNION, "VIRTWIRE_EUNION", "union discriminant matches no arm" },
    { VIRTWIRE_EBOOL, "VIRTWIRE_EBOOL", "bool or optional flag is neither 0 nor 1" },
    { VIRTWIRE_ERANGE, "VIRTWIRE_ERANGE", "value out of range for its type" },
    { VIRTWIRE_ENOSPACE, "VIRTWIRE_ENOSPACE", "encode buffer too small" },
    { VIRTWIRE_ENULL, "VIRTWIRE_ENULL", "NULL pointer where data is required" },
    { VIRTWIRE_ETRAILING, "VIRTWIRE_ETRAILING", "trailing bytes after value" },
    { VIRTWIRE_EPADDING, "VIRTWIRE_EPADDING", "non-zero padding bytes" },
    { VIRTWIRE_EDEPTH, "VIRTWIRE_EDEPTH", "optional data nested too deeply" },
    { VIRTWIRE_EINVAL, "VIRTWIRE_EINVAL", "invalid argument" },
};

static int find(int code)
{
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        if (errors[i].code == code)
            return (int)i;
    return -1;
}

const char *virtwire_strerror(int code)
{
    int i = find(code);
    return i < 0 ? "unknown error" : errors[i].text;
}

const char *virtwire_error_name(int code)
{
    int i = find(code);
    return i < 0 ? NULL : errors[i].name;
}
