/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * virtwire's libvirt layer: libvirt's conventions where the wire shape of
 * its values shows through the generated types.
 *
 *   UUIDs            16 bytes on the wire (remote_uuid), shown and parsed
 *                    as libvirt shows and parses them
 *   versions         libvirt's packed numbers (major * 1000000 + minor *
 *                    1000 + micro), as CONNECT_GET_LIB_VERSION returns them
 *   typed parameters lists of remote_typed_param, read and written by
 *                    field name with the C type the field has, as
 *                    libvirt's virTypedParamsGet*() and virTypedParamsAdd*()
 *
 * It includes the constants of libvirt's public headers
 * (libvirt_constants.h: VIR_DOMAIN_RUNNING, VIR_ERR_NO_DOMAIN, the typed
 * parameter field names, name lookups) and the remote program's types
 * (remote_protocol.h): one include for a program written against libvirt's
 * daemon.  Part of virtwire::libvirt (pkg-config virtwire-libvirt), with
 * the generated bindings.
 *
 * @code
 *   char uuid[VIRTWIRE_UUID_STRING_BUFLEN], ver[VIRTWIRE_VERSION_BUFLEN];
 *   printf("%s %s\n", dom.name, virtwire_uuid_format(dom.uuid, uuid));
 *   printf("libvirt %s\n", virtwire_version_format(lib.lib_ver, ver));
 *   unsigned long long shares;
 *   if (virtwire_typed_params_get_ullong(r.params.params_val, r.params.params_len,
 *                                        VIR_DOMAIN_SCHEDULER_CPU_SHARES, &shares) == 1)
 *       printf("cpu_shares %llu\n", shares);
 * @endcode
 *
 * Every function is thread-safe (none keeps state); a list of parameters
 * is for one thread at a time.
 */
#ifndef VIRTWIRE_LIBVIRT_H
#define VIRTWIRE_LIBVIRT_H

#include <stdint.h>

#include "libvirt_constants.h"
#include "remote_protocol.h"
#include "virtwire_xdr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* UUIDs                                                                    */
/* ------------------------------------------------------------------------ */

/** Room for a UUID as text, its NUL included (libvirt's
 *  VIR_UUID_STRING_BUFLEN). */
#define VIRTWIRE_UUID_STRING_BUFLEN 37

/**
 * Writes the 16 bytes at uuid (a remote_uuid, a virNetMessageUUID) into buf
 * as libvirt shows a UUID: lower-case hex in groups of 8, 4, 4, 4 and 12
 * digits joined by dashes ("6695eb01-f6a4-8304-79aa-97f2502e193f"), NUL
 * included: VIRTWIRE_UUID_STRING_BUFLEN bytes.  Returns buf.
 */
char *virtwire_uuid_format(const char *uuid, char *buf);

/** A UUID as text in a buffer of its own that lives until the end of the
 *  enclosing block (a compound literal: C only), for printing:
 *  `printf("%s\n", VIRTWIRE_UUID_TEXT(dom.uuid))`. */
#define VIRTWIRE_UUID_TEXT(uuid)                                                                 \
    virtwire_uuid_format((uuid), (char[VIRTWIRE_UUID_STRING_BUFLEN]){ 0 })

/**
 * Reads a UUID as libvirt's virUUIDParse() does: exactly 32 hex digits,
 * in either case, each pair of which may be preceded by dashes or spaces,
 * with white space around.  Returns 0 with the 16 bytes in uuid, or
 * VIRTWIRE_EINVAL (uuid then undefined).
 */
int virtwire_uuid_parse(const char *text, char *uuid);

/* ------------------------------------------------------------------------ */
/* Versions                                                                 */
/* ------------------------------------------------------------------------ */

/** A libvirt version, decoded. */
typedef struct virtwire_version {
    unsigned long long major; /**< the packed number / 1000000 */
    unsigned int minor;       /**< (the packed number / 1000) % 1000 */
    unsigned int micro;       /**< the packed number % 1000 */
} virtwire_version;

/** Room for virtwire_version_format()'s text of any packed number, its
 *  NUL included. */
#define VIRTWIRE_VERSION_BUFLEN 24

/** A packed version (CONNECT_GET_LIB_VERSION's lib_ver, CONNECT_GET_VERSION's
 *  hv_ver: 9000000 for 9.0.0) decoded. */
virtwire_version virtwire_version_decode(uint64_t packed);

/** A packed version as text ("9.0.0") in buf, VIRTWIRE_VERSION_BUFLEN
 *  bytes.  Returns buf. */
char *virtwire_version_format(uint64_t packed, char *buf);

/** A packed version as text in a buffer of its own that lives until the
 *  end of the enclosing block (C only): `printf("libvirt %s\n",
 *  VIRTWIRE_VERSION_TEXT(ver.lib_ver))`. */
#define VIRTWIRE_VERSION_TEXT(packed)                                                            \
    virtwire_version_format((packed), (char[VIRTWIRE_VERSION_BUFLEN]){ 0 })

/** Packs a version as libvirt does; 0 when a part is out of range
 *  (minor or micro above 999). */
uint64_t virtwire_version_pack(unsigned long long major, unsigned int minor, unsigned int micro);

/* ------------------------------------------------------------------------ */
/* Typed parameters                                                         */
/* ------------------------------------------------------------------------ */

/*
 * A list of typed parameters is an array of remote_typed_param and its
 * length, as the generated types hold it (`params.params_val`,
 * `params.params_len` of DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS' reply,
 * of NODE_SET_MEMORY_PARAMETERS' arguments...).  A field name is one of
 * libvirt's (VIR_DOMAIN_SCHEDULER_CPU_SHARES is "cpu_shares"), and its
 * type one of VIR_TYPED_PARAM_*: the functions read and write the value
 * as the C type libvirt gives that type.
 */

/** The first parameter called field, or NULL (also for a NULL field). */
const remote_typed_param *virtwire_typed_params_find(const remote_typed_param *params,
                                                     unsigned int n, const char *field);

/**
 * Reads the parameter called field as an int (VIR_TYPED_PARAM_INT), as
 * virTypedParamsGetInt() does: 1 with the value in *value (when value is
 * not NULL), 0 when no parameter has that name, VIRTWIRE_EINVAL when it
 * has another type (or field is NULL).  The other getters are the same
 * for their types.
 */
int virtwire_typed_params_get_int(const remote_typed_param *params, unsigned int n,
                                  const char *field, int *value);
/** As virtwire_typed_params_get_int(), for VIR_TYPED_PARAM_UINT. */
int virtwire_typed_params_get_uint(const remote_typed_param *params, unsigned int n,
                                   const char *field, unsigned int *value);
/** As virtwire_typed_params_get_int(), for VIR_TYPED_PARAM_LLONG. */
int virtwire_typed_params_get_llong(const remote_typed_param *params, unsigned int n,
                                    const char *field, long long *value);
/** As virtwire_typed_params_get_int(), for VIR_TYPED_PARAM_ULLONG. */
int virtwire_typed_params_get_ullong(const remote_typed_param *params, unsigned int n,
                                     const char *field, unsigned long long *value);
/** As virtwire_typed_params_get_int(), for VIR_TYPED_PARAM_DOUBLE. */
int virtwire_typed_params_get_double(const remote_typed_param *params, unsigned int n,
                                     const char *field, double *value);
/** As virtwire_typed_params_get_int(), for VIR_TYPED_PARAM_BOOLEAN: 0 or 1
 *  (any non-zero value on the wire is 1, as libvirt reads it). */
int virtwire_typed_params_get_boolean(const remote_typed_param *params, unsigned int n,
                                      const char *field, int *value);
/** As virtwire_typed_params_get_int(), for VIR_TYPED_PARAM_STRING; *value
 *  points into the list. */
int virtwire_typed_params_get_string(const remote_typed_param *params, unsigned int n,
                                     const char *field, const char **value);

/**
 * Sets the parameter called field to an int (VIR_TYPED_PARAM_INT): the
 * first parameter of that name takes the value (and the type), or a new
 * one is appended to the list (*params, *n).  The list grows, and field
 * (and a string value) are copied, in arena, or with arena NULL on the
 * heap (release the list with virtwire_typed_params_free()); a list must
 * be either, and start empty or decoded the same way.  Returns 0 (*params
 * and *n updated), VIRTWIRE_EINVAL (NULL params, n or field, or a list of
 * UINT32_MAX parameters) or VIRTWIRE_ENOMEM (the list unchanged).  The
 * other setters are the same for their types.
 */
int virtwire_typed_params_set_int(remote_typed_param **params, unsigned int *n,
                                  virtwire_arena *arena, const char *field, int value);
/** As virtwire_typed_params_set_int(), for VIR_TYPED_PARAM_UINT. */
int virtwire_typed_params_set_uint(remote_typed_param **params, unsigned int *n,
                                   virtwire_arena *arena, const char *field, unsigned int value);
/** As virtwire_typed_params_set_int(), for VIR_TYPED_PARAM_LLONG. */
int virtwire_typed_params_set_llong(remote_typed_param **params, unsigned int *n,
                                    virtwire_arena *arena, const char *field, long long value);
/** As virtwire_typed_params_set_int(), for VIR_TYPED_PARAM_ULLONG. */
int virtwire_typed_params_set_ullong(remote_typed_param **params, unsigned int *n,
                                     virtwire_arena *arena, const char *field,
                                     unsigned long long value);
/** As virtwire_typed_params_set_int(), for VIR_TYPED_PARAM_DOUBLE. */
int virtwire_typed_params_set_double(remote_typed_param **params, unsigned int *n,
                                     virtwire_arena *arena, const char *field, double value);
/** As virtwire_typed_params_set_int(), for VIR_TYPED_PARAM_BOOLEAN (any
 *  non-zero value is stored as 1). */
int virtwire_typed_params_set_boolean(remote_typed_param **params, unsigned int *n,
                                      virtwire_arena *arena, const char *field, int value);
/** As virtwire_typed_params_set_int(), for VIR_TYPED_PARAM_STRING (value,
 *  not NULL, is copied). */
int virtwire_typed_params_set_string(remote_typed_param **params, unsigned int *n,
                                     virtwire_arena *arena, const char *field,
                                     const char *value);

/** Frees a list built on the heap (or decoded in heap mode): every
 *  parameter's strings, then the array.  NULL is fine. */
void virtwire_typed_params_free(remote_typed_param *params, unsigned int n);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_LIBVIRT_H */
