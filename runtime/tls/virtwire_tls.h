/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * libvirtwire_tls: TLS channels (virtwire_channel.h) with GnuTLS, as
 * libvirt's client and libvirtd make them: the same certificate files,
 * the same checks of the peer's certificate, and libvirt's confirmation
 * byte after the handshake.
 *
 * This is a library of its own, beside the dependency-free runtime: link
 * virtwire::tls (pkg-config virtwire-tls), which brings GnuTLS.
 *
 * Clients: put the ready-made opener in the client's options and
 * connect to +tls URIs as libvirt does:
 *
 * @code
 *   virtwire_client_options o = { .size = sizeof o, .tls = &virtwire_tls_opener,
 *                                 .errbuf = msg, .errbuf_len = sizeof msg };
 *   virtwire_client_connect("qemu+tls://host/system?pkipath=/etc/mypki", &o, &c);
 * @endcode
 *
 * Servers: make the credentials once and let each accepted connection's
 * channel be a TLS session (the server's loop drives its handshake
 * without blocking):
 *
 * @code
 *   virtwire_tls_options to = { .size = sizeof to, .pkipath = "/etc/mypki" };
 *   virtwire_tls_creds *creds;
 *   virtwire_tls_creds_new(VIRTWIRE_TLS_SERVER, &to, msg, sizeof msg, &creds);
 *   virtwire_server_listen_opts lo = { .size = sizeof lo,
 *                                      .make_channel = virtwire_tls_make_channel,
 *                                      .channel_opaque = creds };
 *   virtwire_server_listen_tcp_with(srv, "0.0.0.0", VIRTWIRE_URI_TLS_PORT, &lo);
 *   ... virtwire_server_free(srv); virtwire_tls_creds_free(creds);
 * @endcode
 *
 * Where the files are (libvirt's lookup, virnettlscontext.c):
 *
 *   1. with options.cacert, cert or key given: exactly the files given
 *      (cacrl too), nothing is looked up (libvirtd's ca_file, crl_file,
 *      cert_file, key_file);
 *   2. else with pkipath: PKIPATH/cacert.pem, PKIPATH/cacrl.pem,
 *      PKIPATH/clientcert.pem and PKIPATH/clientkey.pem (servercert.pem
 *      and serverkey.pem for a server), whether they exist or not;
 *   3. else, with try_user_dir (which the opener sets when the effective
 *      uid is not 0, as libvirt's client does): $HOME/.pki/libvirt/ holds
 *      the same names; each of cacert.pem and cacrl.pem found there is
 *      used, and the certificate and key as a pair when both are there;
 *   4. what is still missing comes from the system's places:
 *      /etc/pki/CA/cacert.pem, /etc/pki/CA/cacrl.pem,
 *      /etc/pki/libvirt/clientcert.pem (servercert.pem) and
 *      /etc/pki/libvirt/private/clientkey.pem (serverkey.pem).
 *
 * Then, as libvirt: the CA certificate must exist; a missing CRL is
 * skipped; a client without its certificate or key goes on without one
 * (the server will probably refuse it), a server without them fails.
 * Unless no_sanity, our own certificate and the CA certificates are
 * checked first: dates, basic constraints, key usage, key purpose, and our
 * certificate against the CA.
 *
 * The peer's certificate is checked after the handshake, as libvirt does:
 * its chain against the CA and the CRL (GnuTLS), then each certificate's
 * dates, and the first one's name, basic constraints, key usage and key
 * purpose; a client checks the host name (or IP address) it connected to,
 * a server matches the distinguished name against allowed_dn.  With
 * no_verify, a failed check is ignored (libvirt's no_verify=1, libvirtd's
 * tls_no_verify_certificate).  A server that accepts the client then sends
 * the byte 1 inside TLS; the client waits for it before anything else.
 *
 * Errors: a function that fails writes what failed into errbuf, in
 * libvirt's words where libvirt has some ("Cannot read CA certificate
 * '/etc/pki/CA/cacert.pem': No such file or directory"); a channel whose
 * handshake fails says why in virtwire_channel_error_detail() (the client
 * copies it into virtwire_client_options.errbuf).  The codes:
 *
 *   VIRTWIRE_EIO     a file cannot be read (errno says why), or the socket
 *                    failed;
 *   VIRTWIRE_EINVAL  the files or the priority string cannot be used (not
 *                    PEM, a sanity check failed, a key that does not fit
 *                    the certificate), or a bad argument;
 *   VIRTWIRE_EAUTH   the handshake failed, the peer's certificate failed a
 *                    check ("Failed to verify peer's certificate: ..."),
 *                    or the server did not confirm ("server verification
 *                    (of our certificate or IP address) failed");
 *   VIRTWIRE_ECLOSED the peer closed the connection during the handshake;
 *   VIRTWIRE_ENOMEM.
 *
 * Threads: credentials are immutable once made, and may be shared by any
 * number of channels in any threads; a channel holds a reference to its
 * credentials, so they may be freed while channels still use them.  A
 * channel is used by one thread at a time (virtwire_channel.h).
 */
#ifndef VIRTWIRE_TLS_H
#define VIRTWIRE_TLS_H

#include <stddef.h>

#include "virtwire_channel.h"
#include "virtwire_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** GnuTLS priority string used when none is given (libvirt's default
 *  build setting, tls_priority). */
#define VIRTWIRE_TLS_PRIORITY_DEFAULT "NORMAL"

/** Credentials for TLS channels: certificates, key, CA, CRL and checks
 *  (opaque, reference counted). */
typedef struct virtwire_tls_creds virtwire_tls_creds;

/** Which end of a TLS session credentials are for. */
typedef enum virtwire_tls_role {
    VIRTWIRE_TLS_CLIENT = 0, /**< clientcert.pem, clientkey.pem */
    VIRTWIRE_TLS_SERVER = 1, /**< servercert.pem, serverkey.pem */
} virtwire_tls_role;

/** Where the credentials are and how peers are checked.  Set size to
 *  sizeof the structure and leave what is not used zero (docs/reference.md,
 *  "Structures that can grow"). */
typedef struct virtwire_tls_options {
    /** sizeof(virtwire_tls_options) as the caller was compiled. */
    size_t size;
    /** A directory holding the files under libvirt's names (see the file
     *  comment); NULL: the per-user and system places. */
    const char *pkipath;
    /** Explicit files (libvirtd's ca_file, crl_file, cert_file, key_file):
     *  when any of cacert, cert and key is set, these four are used as
     *  given and nothing is looked up; NULL ones are not loaded. */
    const char *cacert;
    const char *cacrl; /**< see cacert */
    const char *cert;  /**< see cacert */
    const char *key;   /**< see cacert */
    /** Look in $HOME/.pki/libvirt before the system's places (libvirt's
     *  client does when not root, libvirtd when not privileged). */
    int try_user_dir;
    /** GnuTLS priority string; NULL: VIRTWIRE_TLS_PRIORITY_DEFAULT. */
    const char *priority;
    /** Non-zero: skip the sanity checks of our own certificate and the CA
     *  (libvirt's no_sanity=1, libvirtd's tls_no_sanity_certificate). */
    int no_sanity;
    /** Non-zero: a peer whose certificate fails the checks (or who has
     *  none) is accepted all the same (libvirt's no_verify=1, libvirtd's
     *  tls_no_verify_certificate). */
    int no_verify;
    /** Servers: the clients' distinguished names allowed, as glob
     *  patterns (libvirtd's tls_allowed_dn_list: '*' any run of
     *  characters, '?' any one; see virtwire_tls_dn_match()),
     *  NULL-terminated and copied; NULL: any client whose certificate
     *  passes the other checks. */
    const char *const *allowed_dn;
    /** A channel whose handshake (confirmation byte included) is not
     *  done this many milliseconds after it was made fails with
     *  VIRTWIRE_ETIMEDOUT; 0: no limit (libvirtd has none).  Checked
     *  whenever the handshake is driven, which a server does every round
     *  of its loop: for servers, so that a client that never finishes its
     *  handshake does not hold its connection forever. */
    int handshake_timeout_ms;
} virtwire_tls_options;

/**
 * Makes credentials for role from opts (NULL: every default), loading
 * and checking the files as described above.  On failure errbuf (errlen
 * bytes, may be NULL) says what failed and *out is NULL.  Returns 0,
 * VIRTWIRE_EIO (errno says why), VIRTWIRE_EINVAL or VIRTWIRE_ENOMEM.
 */
int virtwire_tls_creds_new(virtwire_tls_role role, const virtwire_tls_options *opts,
                           char *errbuf, size_t errlen, virtwire_tls_creds **out);

/** Drops the caller's reference; channels keep theirs.  NULL is fine. */
void virtwire_tls_creds_free(virtwire_tls_creds *creds);

/** The files the credentials were made from. */
typedef enum virtwire_tls_file {
    VIRTWIRE_TLS_FILE_CACERT, /**< the CA certificate(s) */
    VIRTWIRE_TLS_FILE_CACRL,  /**< the revocation list */
    VIRTWIRE_TLS_FILE_CERT,   /**< our certificate */
    VIRTWIRE_TLS_FILE_KEY,    /**< our private key */
} virtwire_tls_file;

/** The path of one of the credentials' files, or NULL when it was not
 *  loaded (a CRL or, on a client, a certificate that does not exist). */
const char *virtwire_tls_creds_path(const virtwire_tls_creds *creds, virtwire_tls_file which);

/* ------------------------------------------------------------------------ */
/* Channels                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * A TLS channel over inner (a connected TCP socket's channel, usually),
 * which it takes over in every case (freed on failure too).  The session
 * is a client or a server as creds are.  hostname: on a client, the name
 * or address the peer's certificate must match (libvirt's: the URI's
 * host, "localhost" when it has none); ignored on a server.
 *
 * The channel's handshake (virtwire_channel_handshake(), which a
 * connection runs by itself) is the TLS handshake, the check of the peer's
 * certificate and the confirmation byte.  fds do not pass.  Writing: a
 * write that returns 0 may have taken the start of the bytes into a TLS
 * record that is still on its way; the next write must offer the same
 * bytes again first (a connection does).
 *
 * Returns 0, VIRTWIRE_EINVAL or VIRTWIRE_ENOMEM, or VIRTWIRE_EINVAL with
 * errbuf saying why GnuTLS refused the session (a bad priority string).
 */
int virtwire_tls_channel_new(virtwire_tls_creds *creds, virtwire_channel *inner,
                             const char *hostname, char *errbuf, size_t errlen,
                             virtwire_channel **out);

/**
 * A server's channel maker (virtwire_server_listen_opts.make_channel, with
 * the server's credentials as channel_opaque): a TLS server session over
 * the accepted socket fd, which it takes over in every case.
 */
int virtwire_tls_make_channel(int fd, int is_unix, void *creds, virtwire_channel **out);

/** Whether ch is a channel of this library. */
int virtwire_tls_channel_is_tls(const virtwire_channel *ch);

/** The distinguished name of the peer's certificate (libvirt's
 *  x509dname, "C=GB,O=Example,CN=client"), once the handshake has checked
 *  it; NULL before, for a peer without a certificate, or for a channel
 *  that is not TLS. */
const char *virtwire_tls_channel_peer_dn(const virtwire_channel *ch);

/** The strength of the session's cipher in bits (its key size, as
 *  libvirt reports it to SASL as the SSF) once the handshake is done;
 *  0 before, or for a channel that is not TLS.  The channel's ssf
 *  operation gives the same (virtwire_channel_ssf()). */
int virtwire_tls_channel_ssf(const virtwire_channel *ch);

/* ------------------------------------------------------------------------ */
/* Clients                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Opens +tls URIs as libvirt's remote driver does (for
 * virtwire_client_options.tls or virtwire_connect_params.tls): credentials
 * from the URI's pkipath= (the per-user directory first when the effective
 * uid is not 0, then the system's places), checks as no_sanity= and
 * no_verify= say, the GnuTLS priority of tls_priority=; then a TCP
 * connection to the URI's host and port (16514 by default) and a TLS
 * client channel checking that host.
 */
extern const virtwire_channel_opener virtwire_tls_opener;

/* ------------------------------------------------------------------------ */
/* Distinguished names                                                      */
/* ------------------------------------------------------------------------ */

/**
 * Whether dn matches pattern as libvirtd matches tls_allowed_dn_list
 * (GLib's g_pattern_match_simple()): the whole of dn, '*' standing for any
 * run of characters (none included) and '?' for any one UTF-8 character;
 * every other character stands for itself (there is no escape).  Returns
 * non-zero on a match.  Takes time linear in the lengths' product at most.
 */
int virtwire_tls_dn_match(const char *pattern, const char *dn);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_TLS_H */
