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
 * handlers that authenticate, each answering as libvirtd 9.0.0 to 11.3.0
 * does (the errors laid out as libvirtd's: the code's own words in the
 * message, its format in str1, the detail in str2, int1 and int2 -1):
 *
 *   AUTH_LIST    the types of the client's listener, or [NONE] once the
 *                client needs no authentication (a listener without any,
 *                or the client has authenticated).  A root client of a
 *                polkit listener is let through at once and told NONE, as
 *                libvirtd bypasses polkit for root;
 *   AUTH_POLKIT  polkit-style authorisation by the peer's credentials
 *                (SO_PEERCRED): the action libvirtd asks polkit about
 *                (org.libvirt.unix.manage, or org.libvirt.unix.monitor on
 *                a read-only listener) goes to the caller's policy
 *                function, or to a list of allowed uids; root is allowed
 *                without asking, as polkit allows root anything.  Refused,
 *                the client gets libvirtd's error, VIR_ERR_AUTH_FAILED (45)
 *                from VIR_FROM_POLKIT (60), "authentication failed: access
 *                denied by policy".  Asked where polkit is not the
 *                client's method (a listener that does not offer it, or a
 *                client already authenticated), the answer is what
 *                libvirtd's RPC layer sends when its handler sets no error:
 *                VIR_ERR_INTERNAL_ERROR from VIR_FROM_RPC, "Library
 *                function returned error but did not set virError"
 *                (libvirtd may also send a stale error of its worker
 *                thread there).  Over a connection that is not a unix
 *                socket: "authentication failed: the client's credentials
 *                are unknown";
 *   AUTH_SASL_INIT, AUTH_SASL_START, AUTH_SASL_STEP
 *                libvirtd's answer where SASL is not the method:
 *                VIR_ERR_AUTH_FAILED from VIR_FROM_RPC, "authentication
 *                failed: authentication failed".
 *
 * libvirtwire_sasl replaces the SASL handlers with its own: call
 * virtwire_sasl_server_new() after virtwire_session_server_new().  Threads: as the server's, none;
 * everything runs on the loop's thread.
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
 *  libvirtd would check.  Returns non-zero to allow.  Not asked about
 *  root, whom polkit allows anything. */
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
    /** Without a policy function, the uids allowed (copied); none but
     *  root allowed when empty. */
    const uid_t *allow_uids;
    size_t nallow_uids; /**< number of allow_uids (at most 64) */
} virtwire_session_server_opts;

/** The session handlers of one server (opaque). */
typedef struct virtwire_session_server virtwire_session_server;

/**
 * Installs the AUTH_LIST, AUTH_POLKIT and AUTH_SASL_* handlers on remote
 * (the generated remote_program, registered on srv before), replacing any
 * the caller set.  opts may be NULL.  *out is freed with virtwire_session_server_free()
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
