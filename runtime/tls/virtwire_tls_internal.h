/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtwire_tls internals, shared by the layer's files (not installed).
 *
 *   virtwire_tls_creds.c    credentials: libvirt's lookup of the files,
 *                           the sanity checks of our own certificate and
 *                           the CA, loading them into GnuTLS
 *   virtwire_tls_verify.c   the checks of a certificate (ours and the
 *                           peer's) in libvirt's order and words, and the
 *                           distinguished-name patterns
 *   virtwire_tls_channel.c  the channel: a non-blocking GnuTLS session over
 *                           another channel, its handshake, the peer check
 *                           and the confirmation byte
 *   virtwire_tls_opener.c   the client's opener for +tls URIs
 */
#ifndef VIRTWIRE_TLS_INTERNAL_H
#define VIRTWIRE_TLS_INTERNAL_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdatomic.h>
#include <time.h>

#include "virtwire_tls.h"

/* libvirt's system-wide places (virnettlsconfig.h: SYSCONFDIR "/pki"). */
#define VW_TLS_SYSTEM_CA_DIR "/etc/pki/CA"
#define VW_TLS_SYSTEM_CERT_DIR "/etc/pki/libvirt"
#define VW_TLS_SYSTEM_KEY_DIR "/etc/pki/libvirt/private"
/* The per-user directory under $HOME. */
#define VW_TLS_USER_DIR ".pki/libvirt"

/* libvirt reads certificate files of at most 64 KiB (virFileReadAll) and
 * at most 16 CA certificates for its sanity check. */
#define VW_TLS_FILE_MAX (1 << 16)
#define VW_TLS_MAX_CA 16

/* How long a message about a failure may be. */
#define VW_TLS_MSG_MAX 1024

struct virtwire_tls_creds {
    atomic_int refs;
    virtwire_tls_role role;
    gnutls_certificate_credentials_t x509;
    gnutls_priority_t prio;
    char *priority;
    int no_verify;
    int handshake_timeout_ms;
    char **allowed_dn; /* NULL-terminated copy, or NULL */
    char *paths[4];    /* indexed by virtwire_tls_file; NULL: not loaded */
    /* A client without a certificate of its own: the certificate file that
     * was looked for (its key is beside it, or named with it); else NULL. */
    char *missing_cert;
};

/* Writes a message into buf (len bytes; nothing when NULL or 0). */
void vw_tls_msgf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One more reference to creds. */
virtwire_tls_creds *vw_tls_creds_ref(virtwire_tls_creds *creds);

/*
 * Where libvirt looks for the four files (virNetTLSContextLocateCredentials):
 * pkipath if given, else the per-user directory under home (when home is
 * not NULL) for what exists there, else the system's places.  Each path is
 * malloc'd into paths[] (indexed by virtwire_tls_file).  exists() says
 * whether a path exists (NULL: access(F_OK)).  Returns 0 or
 * VIRTWIRE_ENOMEM (paths freed).
 */
int vw_tls_locate(virtwire_tls_role role, const char *pkipath, const char *home,
                  int (*exists)(const char *path), char *paths[4]);

/* ------------------------------------------------------------------------ */
/* Certificate checks (virtwire_tls_verify.c)                               */
/* ------------------------------------------------------------------------ */

/* What a check returns when the certificate fails it (distinct from
 * VIRTWIRE_ENOMEM, which a check may return too). */
#define VW_TLS_REFUSED VIRTWIRE_EAUTH

/* Each check writes libvirt's message into msg and returns VW_TLS_REFUSED
 * when the certificate fails it, 0 when it passes.  file names the certificate in
 * messages ("[session]" for the peer's, as libvirt writes); is_server says
 * whose certificate it is (the messages and the key purpose differ);
 * is_ca, that it is a CA certificate. */
int vw_tls_check_times(gnutls_x509_crt_t cert, const char *file, int is_server, int is_ca,
                       time_t now, char *msg, size_t len);
int vw_tls_check_basic_constraints(gnutls_x509_crt_t cert, const char *file, int is_server,
                                   int is_ca, char *msg, size_t len);
int vw_tls_check_key_usage(gnutls_x509_crt_t cert, const char *file, int is_ca, char *msg,
                           size_t len);
int vw_tls_check_key_purpose(gnutls_x509_crt_t cert, const char *file, int is_server,
                             char *msg, size_t len);
/* All four, as libvirt checks a certificate of its own (no purpose for a
 * CA). */
int vw_tls_check_cert(gnutls_x509_crt_t cert, const char *file, int is_server, int is_ca,
                      time_t now, char *msg, size_t len);

/* libvirt's reason for a failed verification status
 * (gnutls_certificate_verify_peers2() or gnutls_x509_crt_list_verify()),
 * with the expired and not yet active cases named. */
const char *vw_tls_status_reason(unsigned int status);

/* The certificate's distinguished name (gnutls_x509_crt_get_dn(), as
 * libvirt prints it), malloc'd into *dn.  Returns 0, VW_TLS_REFUSED with
 * msg set, or VIRTWIRE_ENOMEM. */
int vw_tls_cert_dn(gnutls_x509_crt_t cert, char **dn, char *msg, size_t len);

/*
 * The checks libvirt makes of the peer's chain once GnuTLS has verified it
 * (virNetTLSContextValidCertificate): certs[0] is the peer's certificate
 * (DER), the others its chain.  we_are_server: the peer is a client.
 * hostname (clients): the name the first certificate must match; acl
 * (servers, NULL-terminated, NULL for none): the patterns its
 * distinguished name must match one of.  On success *dn (may be NULL) is
 * the peer's name, malloc'd.  Returns 0, VW_TLS_REFUSED with msg set, or
 * VIRTWIRE_ENOMEM.
 */
int vw_tls_check_peer_chain(const gnutls_datum_t *certs, unsigned int ncerts, int we_are_server,
                            const char *hostname, char *const *acl, time_t now, char **dn,
                            char *msg, size_t len);

/* The whole check of a session's peer: verification of the chain against
 * the credentials' CA and CRL, then vw_tls_check_peer_chain().  Same
 * results. */
int vw_tls_check_peer(gnutls_session_t s, const virtwire_tls_creds *creds, const char *hostname,
                      char **dn, char *msg, size_t len);

/* libvirt's message when the distinguished name is on no allowed list. */
extern const char vw_tls_dn_refused_msg[];

#endif /* VIRTWIRE_TLS_INTERNAL_H */
