/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * virtwire sessions: libvirt's open handshake and its authentication
 * methods, as the client runs them.
 *
 * virtwire_client_connect() (and virtwire_client_adopt() without
 * VIRTWIRE_CLIENT_NO_OPEN) opens a session as libvirt's remote driver
 * does:
 *
 *   1. AUTH_LIST: the methods the daemon offers (a daemon that does not
 *      know the procedure offers none).  The types are read as libvirt's
 *      client reads them, as plain ints (at most 20, the protocol's
 *      bound), so that a type this library does not know reaches the
 *      choice below.  With `auth=` in the URI (polkit, sasl, sasl.MECH,
 *      any case) that method, if the daemon offers it ("requested
 *      authentication type X rejected" otherwise; a name libvirt does not
 *      know: "unknown authentication type X"); without, the first the
 *      daemon lists, as libvirt runs it even when a later one would do.
 *      An empty list, or NONE, needs nothing; POLKIT runs
 *      virtwire_auth_polkit (built in); other methods run the
 *      virtwire_auth_method of that type the caller gave in
 *      virtwire_client_options.auth_methods (SASL: libvirtwire_sasl), and
 *      without one the session fails with "unsupported authentication
 *      type N" (a type no method has, SASL included, as a libvirt built
 *      without SASL says);
 *   2. CONNECT_SUPPORTS_FEATURE(VIR_DRV_FEATURE_PROGRAM_KEEPALIVE), and the
 *      client's own keepalive PINGs when the daemon says yes and the
 *      options ask for them;
 *   3. CONNECT_OPEN with the URI's name and flags.
 *
 * The admin program's session is ADMIN_PROC_CONNECT_OPEN alone.
 *
 * Errors.  Every failure closes the connection and leaves a message in
 * virtwire_client_options.errbuf:
 *   VIRTWIRE_EAUTH      no method could run, or the daemon refused the
 *                       one that ran: libvirt's words, prefixed
 *                       "authentication failed: " as libvirt's
 *                       VIR_ERR_AUTH_FAILED is, or the daemon's own error
 *                       for a refusal ("authentication failed: access
 *                       denied by policy", "authentication unavailable:
 *                       no polkit agent available to authenticate action
 *                       'org.libvirt.unix.manage'", libvirtd's D-Bus
 *                       error when polkitd is not running);
 *   VIRTWIRE_EREMOTE    the daemon answered AUTH_LIST, CONNECT_OPEN or
 *                       the like with an error (its message; a daemon
 *                       that does not know AUTH_POLKIT:
 *                       VIRTWIRE_EUNSUPPORTED);
 *   a codec error       a reply that does not decode (VIRTWIRE_ETOOLONG
 *                       for more than 20 types, VIRTWIRE_ETRUNCATED,
 *                       VIRTWIRE_ETRAILING: "the daemon's reply to
 *                       AUTH_LIST does not decode: ..."; libvirt's client
 *                       says "Unable to decode message payload");
 *   the connection's    "AUTH_LIST: connection closed", or why it died
 *                       ("AUTH_POLKIT: the connection died: reply matches
 *                       no call in flight", with that code).
 *
 * An authentication method is a small module: the calls of its own
 * procedures on the client, run from the session, before anything else
 * than AUTH_LIST was sent.
 */
#ifndef VIRTWIRE_SESSION_H
#define VIRTWIRE_SESSION_H

#include <stddef.h>

#include "virtwire_client.h"
#include "virtwire_uri.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What an authentication method is run with. */
typedef struct virtwire_auth_context {
    /** sizeof(virtwire_auth_context) as the library was compiled: members
     *  are only appended, read what the size covers. */
    size_t size;
    /** The client, for the method's calls (virtwire_client_call()). */
    virtwire_client *client;
    /** The URI connected to (NULL with virtwire_client_adopt()). */
    const virtwire_uri *uri;
    /** What followed "sasl." in `auth=` (the mechanism asked for), else
     *  NULL. */
    const char *mech;
    /** Milliseconds each call may take. */
    int timeout_ms;
    /** The options the client was opened with (credentials and the like:
     *  members the method's library documents). */
    const virtwire_client_options *options;
    /** Where the method says what failed (NUL-terminated in errbuf_len
     *  bytes; never NULL). */
    char *errbuf;
    size_t errbuf_len; /**< room in errbuf */
} virtwire_auth_context;

typedef struct virtwire_auth_method virtwire_auth_method;

/** An authentication method of libvirt's remote program. */
struct virtwire_auth_method {
    /** sizeof(virtwire_auth_method) as the method was compiled. */
    size_t size;
    /** The remote_auth_type it implements (REMOTE_AUTH_SASL 1,
     *  REMOTE_AUTH_POLKIT 2). */
    int type;
    /** Its name in `auth=` ("sasl", "polkit"). */
    const char *name;
    /** Runs the method: 0 once the daemon has authenticated the client,
     *  else VIRTWIRE_EAUTH (refused, with errbuf saying why), the
     *  daemon's or the connection's error. */
    int (*run)(const virtwire_auth_method *self, const virtwire_auth_context *ctx);
    /** For the method's own use. */
    void *opaque;
};

/** AUTH_POLKIT: the daemon asks polkit about the peer's credentials;
 *  refused, the daemon's error comes back as VIRTWIRE_EAUTH with its
 *  message in errbuf.  A reply whose complete is 0 is refused too
 *  ("authentication failed: polkit authentication did not complete"),
 *  where libvirt's client ignores complete (libvirtd always sets it).
 *  No polkit agent is started: a daemon that needs one (an action that
 *  asks for a password) refuses with VIR_ERR_AUTH_UNAVAILABLE. */
extern const virtwire_auth_method virtwire_auth_polkit;

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_SESSION_H */
