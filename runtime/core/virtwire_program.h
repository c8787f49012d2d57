/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * Procedure tables of generated programs.
 *
 * Every generated protocol module exports a virtwire_protocol with its types
 * and, for each RPC program it defines, a virtwire_program whose procedures
 * are sorted by number.
 */
#ifndef VIRTWIRE_PROGRAM_H
#define VIRTWIRE_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "virtwire_xdr.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Which side libvirt generates code for (`@generate`). */
typedef enum virtwire_generate {
    VIRTWIRE_GENERATE_UNSET = 0, /**< no annotation */
    VIRTWIRE_GENERATE_NONE,      /**< `@generate: none` */
    VIRTWIRE_GENERATE_CLIENT,    /**< `@generate: client` */
    VIRTWIRE_GENERATE_SERVER,    /**< `@generate: server` */
    VIRTWIRE_GENERATE_BOTH,      /**< `@generate: both` */
} virtwire_generate;

/* virtwire_proc.flags */
/** `@priority: high` */
#define VIRTWIRE_PROC_PRIORITY_HIGH 0x01u
/** Opens a stream from server to client (`@readstream`). */
#define VIRTWIRE_PROC_STREAM_READ 0x02u
/** Opens a stream from client to server (`@writestream`). */
#define VIRTWIRE_PROC_STREAM_WRITE 0x04u
/** The stream may carry holes (`@sparseflag`). */
#define VIRTWIRE_PROC_STREAM_SPARSE 0x08u
/** The call carries fds, client to server (protocol/overrides.tsv). */
#define VIRTWIRE_PROC_FDS_CALL 0x10u
/** The reply carries fds, server to client (protocol/overrides.tsv). */
#define VIRTWIRE_PROC_FDS_REPLY 0x20u
/** The procedure is an event: it has a _msg type and travels as MESSAGE. */
#define VIRTWIRE_PROC_MESSAGE 0x40u
/** virtwire_proc.since is inferred from the procedure's number, a lower
 *  bound, rather than the release of the API it serves. */
#define VIRTWIRE_PROC_SINCE_INFERRED 0x80u

/** A libvirt release as libvirt encodes it (virConnectGetLibVersion(),
 *  CONNECT_GET_LIB_VERSION): major * 1000000 + minor * 1000 + micro. */
#define VIRTWIRE_LIBVIRT_VERSION(major, minor, micro) \
    ((uint32_t)(major) * 1000000u + (uint32_t)(minor) * 1000u + (uint32_t)(micro))

/** One procedure of a program. */
typedef struct virtwire_proc {
    int32_t number;            /**< the procedure number */
    const char *name;          /**< the enum constant, e.g. REMOTE_PROC_CONNECT_OPEN */
    const virtwire_type *args; /**< NULL: void */
    const virtwire_type *ret;  /**< NULL: void */
    const virtwire_type *msg;  /**< NULL: not an event */
    uint32_t flags;            /**< VIRTWIRE_PROC_* */
    virtwire_generate generate; /**< the `@generate` annotation */
    int readstream;            /**< `@readstream` parameter number, or -1 */
    int writestream;           /**< `@writestream` parameter number, or -1 */
    const char *sparseflag;    /**< `@sparseflag` value, or NULL */
    const char *const *acl;    /**< `@acl` values, NULL-terminated, or NULL */
    const char *const *aclfilter; /**< `@aclfilter` values, NULL-terminated, or NULL */
    /** The libvirt release the procedure exists since
     *  (VIRTWIRE_LIBVIRT_VERSION()), or 0 when libvirt's record does not
     *  say.  Taken at generation time from libvirt's version scripts
     *  (src/libvirt_public.syms ...): the release of the public API the
     *  procedure serves (REMOTE_PROC_DOMAIN_GET_INFO: virDomainGetInfo,
     *  0.0.3), or, with VIRTWIRE_PROC_SINCE_INFERRED, a lower bound inferred
     *  from the procedures numbered around it (events, authentication,
     *  migration steps); generator/virtwire_gen/since.py has the rule.
     *  Programs without a public API (keepalive, lock, log, lxc_monitor)
     *  have 0 throughout. */
    uint32_t since;
} virtwire_proc;

/** One RPC program: number, version and procedures sorted by number. */
typedef struct virtwire_program {
    const char *name; /**< e.g. "remote" */
    uint32_t program; /**< the program number */
    uint32_t version; /**< the program version */
    const virtwire_proc *procs; /**< the procedures, sorted by number */
    size_t nprocs;    /**< number of procedures */
} virtwire_program;

/** Everything one generated .x module defines. */
typedef struct virtwire_protocol {
    const char *name; /**< the .x file's base name */
    const virtwire_type *const *types; /**< sorted by name */
    size_t ntypes;    /**< number of types */
    const virtwire_program *const *programs; /**< the programs it defines */
    size_t nprograms; /**< number of programs */
} virtwire_protocol;

/** Finds a procedure by number (binary search); NULL if unknown. */
const virtwire_proc *virtwire_program_find(const virtwire_program *prog, int32_t number);

/** Finds a procedure by its constant name, or by that name without the
 *  program's prefix, case-insensitively ("CONNECT_OPEN", "connect_open");
 *  NULL if unknown. */
const virtwire_proc *virtwire_program_find_name(const virtwire_program *prog, const char *name);

/** The libvirt release procedure number of prog exists since
 *  (virtwire_proc.since); 0 when unknown or when prog has no such
 *  procedure. */
uint32_t virtwire_program_since(const virtwire_program *prog, int32_t number);

/** Writes release v (VIRTWIRE_LIBVIRT_VERSION()) as "A.B.C" into buf of
 *  size len, always NUL-terminated when len > 0; returns the length the
 *  text has (as snprintf does). */
int virtwire_libvirt_version_format(uint32_t v, char *buf, size_t len);

/** Finds a type by its .x name (binary search); NULL if unknown. */
const virtwire_type *virtwire_protocol_find_type(const virtwire_protocol *proto, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_PROGRAM_H */
