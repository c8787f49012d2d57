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

/** Finds a type by its .x name (binary search); NULL if unknown. */
const virtwire_type *virtwire_protocol_find_type(const virtwire_protocol *proto, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_PROGRAM_H */
