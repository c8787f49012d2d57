/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire error codes.
 *
 * Every virtwire function that can fail returns 0 (or a non-negative count)
 * on success and one of the negative codes below on failure.  The codes are
 * stable: new ones are only ever appended.
 */
#ifndef VIRTWIRE_ERROR_H
#define VIRTWIRE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum virtwire_error {
    VIRTWIRE_OK = 0,
    /** Memory allocation failed. */
    VIRTWIRE_ENOMEM = -1,
    /** The input ended before the value it describes (decode). */
    VIRTWIRE_ETRUNCATED = -2,
    /** A string, opaque or array length exceeds its <max> bound
     *  (decode and encode). */
    VIRTWIRE_ETOOLONG = -3,
    /** An enum value that the protocol does not declare. */
    VIRTWIRE_EENUM = -4,
    /** A union discriminant that matches no arm, with no default arm. */
    VIRTWIRE_EUNION = -5,
    /** A bool or an optional-data flag other than 0 or 1. */
    VIRTWIRE_EBOOL = -6,
    /** A char or short value outside the range of its C type. */
    VIRTWIRE_ERANGE = -7,
    /** The encode buffer is too small for the value. */
    VIRTWIRE_ENOSPACE = -8,
    /** A NULL pointer where the protocol requires data (encode). */
    VIRTWIRE_ENULL = -9,
    /** Bytes left over after a complete value. */
    VIRTWIRE_ETRAILING = -10,
    /** Non-zero padding bytes (only with VIRTWIRE_DEC_STRICT_PADDING). */
    VIRTWIRE_EPADDING = -11,
    /** Optional data nested deeper than the decoder's depth limit. */
    VIRTWIRE_EDEPTH = -12,
    /** An invalid argument was passed by the caller. */
    VIRTWIRE_EINVAL = -13,
} virtwire_error;

/** Returns a static, human-readable description of an error code.
 *  Unknown codes give "unknown error". */
const char *virtwire_strerror(int code);

/** Returns the symbolic name of an error code ("VIRTWIRE_ETOOLONG"), or NULL
 *  for an unknown code. */
const char *virtwire_error_name(int code);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_ERROR_H */
