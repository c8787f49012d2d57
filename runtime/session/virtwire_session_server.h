/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * virtwire sessions, server side: libvirt's authentication procedures
 * answered as libvirtd answers them (library libvirtwire_session, on top
 * of virtwire_server.h and the generated remote program).
 *
 * The server's listeners say which authentication types their clients are
 * offered (virtwire_server_listen_opts.auth_types), and the server refuses
 * every procedure but the exempt ones (AUTH_LIST to AUTH_POLKIT) until a
 * client is authenticated.  virtwire_session_server_new() installs the
 * handlers that authenticate:
 *
 *   AUTH_LIST    the types of the client's listener ([NONE] when it has
 *                none).  A root client of a polkit listener is let through
 *                at once and told NONE, as libvirtd bypasses polkit for
 *                root;
 *   AUTH_POLKIT  polkit-style authorisation by the peer's credentials
 *                (SO_PEERCRED): the action libvirtd asks polkit about
 *                (org.libvirt.unix.manage, or org.libvirt.unix.monitor on
 *                a read-only listener) goes to the caller's policy
 *                function, or to a list of allowed uids; refused, the
 *                client gets libvirtd's error, VIR_ERR_AUTH_FAILED from
 *                VIR_FROM_POLKIT, "authentication failed: access denied
 *                by policy".  Asked on a listener that does not offer
 *                polkit, or over a connection that is not a unix socket,
 *                the answer is "authentication failed".
 *
 * SASL's procedures are libvirtwire_sasl's.  Threads: as the server's,
 * none; everything runs on the loop's thread.
 */
#ifndef VIRTWIRE_SESSION_SERVER_H
#define VIRTWIRE_SESSION_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "virtwire_program.h"
#include "virtwire_server.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A policy for AUTH_POLKIT: the peer's credentials and the polkit action
 *  libvirtd would check.  Returns non-zero to allow. */
typedef int (*virtwire_polkit_policy)(virtwire_server_client *c, pid_t pid, uid_t uid, gid_t gid,
                                      const char *action, void *opaque);

/** How the session handlers decide.  Set size as for
 *  virtwire_server_callbacks. */
typedef struct virtwire_session_server_opts {
    /** sizeof(virtwire_session_server_opts) as the caller was compiled. */
    size_t size;
    /** AUTH_POLKIT's policy; NULL: allow_uids decides. */
    virtwire_polkit_policy polkit;
    /** Passed to polkit. */
    void *polkit_opaque;
    /** Without a policy function, the uids allowed (copied); none allowed
     *  when empty (root is let through by AUTH_LIST before polkit). */
    const uid_t *allow_uids;
    size_t nallow_uids; /**< number of allow_uids (at most 64) */
} virtwire_session_server_opts;

/** The session handlers of one server (opaque). */
typedef struct virtwire_session_server virtwire_session_server;

/**
 * Installs AUTH_LIST and AUTH_POLKIT handlers on remote (the generated
 * remote_program, registered on srv before), replacing any the caller
 * set.  opts may be NULL.  *out is freed with virtwire_session_server_free()
 * after the server.  Returns 0, VIRTWIRE_EINVAL or VIRTWIRE_ENOMEM.
 */
int virtwire_session_server_new(virtwire_server *srv, const virtwire_program *remote,
                                const virtwire_session_server_opts *opts,
                                virtwire_session_server **out);

/** Frees the handlers' state (after virtwire_server_free()).  NULL is
 *  fine. */
void virtwire_session_server_free(virtwire_session_server *ss);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_SESSION_SERVER_H */
