/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtwire_tls: the checks of a certificate, ours (the sanity checks)
 * and the peer's (after the handshake), in libvirt's order and with its
 * messages (virnettlscontext.c, virnettlscert.c); and the patterns of
 * libvirtd's tls_allowed_dn_list.
 *
 * Everything here reads data that came from a peer (the DER certificates
 * of its chain): GnuTLS parses them, these functions only ask it for
 * fields, with every length checked and every buffer freed.
 */
#define _POSIX_C_SOURCE 200809L
#include "virtwire_tls_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vw_tls_msgf(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

const char vw_tls_dn_refused_msg[] =
    "Client's Distinguished Name is not on the list of allowed clients "
    "(tls_allowed_dn_list).  Use 'virt-pki-query-dn clientcert.pem' to view the "
    "Distinguished Name field in the client certificate, or run this daemon with "
    "--verbose option.";

/* ------------------------------------------------------------------------ */
/* One certificate                                                          */
/* ------------------------------------------------------------------------ */

int vw_tls_check_times(gnutls_x509_crt_t cert, const char *file, int is_server, int is_ca,
                       time_t now, char *msg, size_t len)
{
    const char *whose = is_ca ? "CA" : is_server ? "server" : "client";
    /* An unreadable time (-1) counts as expired, as in libvirt. */
    if (gnutls_x509_crt_get_expiration_time(cert) < now) {
        vw_tls_msgf(msg, len, "The %s certificate %s has expired", whose, file);
        return VW_TLS_REFUSED;
    }
    if (gnutls_x509_crt_get_activation_time(cert) > now) {
        vw_tls_msgf(msg, len, "The %s certificate %s is not yet active", whose, file);
        return VW_TLS_REFUSED;
    }
    return 0;
}

int vw_tls_check_basic_constraints(gnutls_x509_crt_t cert, const char *file, int is_server,
                                   int is_ca, char *msg, size_t len)
{
    int status = gnutls_x509_crt_get_basic_constraints(cert, NULL, NULL, NULL);
    if (status > 0) { /* a CA */
        if (!is_ca) {
            vw_tls_msgf(msg, len,
                        "The certificate %s basic constraints show a CA, but we need one for a %s",
                        file, is_server ? "server" : "client");
            return VW_TLS_REFUSED;
        }
    } else if (status == 0) { /* not a CA */
        if (is_ca) {
            vw_tls_msgf(msg, len, "The certificate %s basic constraints do not show a CA", file);
            return VW_TLS_REFUSED;
        }
    } else if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        if (is_ca) {
            vw_tls_msgf(msg, len, "The certificate %s is missing basic constraints for a CA",
                        file);
            return VW_TLS_REFUSED;
        }
    } else {
        vw_tls_msgf(msg, len, "Unable to query certificate %s basic constraints %s", file,
                    gnutls_strerror(status));
        return VW_TLS_REFUSED;
    }
    return 0;
}

int vw_tls_check_key_usage(gnutls_x509_crt_t cert, const char *file, int is_ca, char *msg,
                           size_t len)
{
    unsigned int usage = 0, critical = 0;
    int status = gnutls_x509_crt_get_key_usage(cert, &usage, &critical);
    if (status < 0) {
        if (status != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            vw_tls_msgf(msg, len, "Unable to query certificate %s key usage %s", file,
                        gnutls_strerror(status));
            return VW_TLS_REFUSED;
        }
        /* No key usage at all: anything the role needs. */
        usage = is_ca ? GNUTLS_KEY_KEY_CERT_SIGN
                      : GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT;
    }
    /* A usage that is missing but not marked critical is only a warning
     * for libvirt: the certificate passes. */
    if (!critical)
        return 0;
    if (is_ca) {
        if (!(usage & GNUTLS_KEY_KEY_CERT_SIGN)) {
            vw_tls_msgf(msg, len, "Certificate %s usage does not permit certificate signing",
                        file);
            return VW_TLS_REFUSED;
        }
        return 0;
    }
    if (!(usage & GNUTLS_KEY_DIGITAL_SIGNATURE)) {
        vw_tls_msgf(msg, len, "Certificate %s usage does not permit digital signature", file);
        return VW_TLS_REFUSED;
    }
    if (!(usage & GNUTLS_KEY_KEY_ENCIPHERMENT)) {
        vw_tls_msgf(msg, len, "Certificate %s usage does not permit key encipherment", file);
        return VW_TLS_REFUSED;
    }
    return 0;
}

int vw_tls_check_key_purpose(gnutls_x509_crt_t cert, const char *file, int is_server,
                             char *msg, size_t len)
{
    int allow_client = 0, allow_server = 0, critical = 0;
    char small[128];
    for (unsigned int i = 0;; i++) {
        size_t size = sizeof small;
        unsigned int crit = 0;
        char *oid = small;
        int status = gnutls_x509_crt_get_key_purpose_oid(cert, i, oid, &size, &crit);
        if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            /* No purpose at all: both ends may use it. */
            if (i == 0)
                allow_client = allow_server = 1;
            break;
        }
        if (status == GNUTLS_E_SHORT_MEMORY_BUFFER) {
            /* size now says how much the OID needs (bounded by the
             * certificate, which GnuTLS has read whole). */
            oid = malloc(size ? size : 1);
            if (!oid)
                return VIRTWIRE_ENOMEM;
            status = gnutls_x509_crt_get_key_purpose_oid(cert, i, oid, &size, &crit);
        }
        if (status < 0) {
            if (oid != small)
                free(oid);
            vw_tls_msgf(msg, len, "Unable to query certificate %s key purpose %s", file,
                        gnutls_strerror(status));
            return VW_TLS_REFUSED;
        }
        if (crit)
            critical = 1;
        if (strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0)
            allow_server = 1;
        else if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
            allow_client = 1;
        else if (strcmp(oid, GNUTLS_KP_ANY) != 0)
            allow_client = allow_server = 1; /* libvirt's rule, kept as it is */
        if (oid != small)
            free(oid);
    }
    /* As for key usage: a purpose that does not fit fails only when
     * critical. */
    if (critical && is_server && !allow_server) {
        vw_tls_msgf(msg, len, "Certificate %s purpose does not allow use for with a TLS server",
                    file);
        return VW_TLS_REFUSED;
    }
    if (critical && !is_server && !allow_client) {
        vw_tls_msgf(msg, len, "Certificate %s purpose does not allow use for with a TLS client",
                    file);
        return VW_TLS_REFUSED;
    }
    return 0;
}

int vw_tls_check_cert(gnutls_x509_crt_t cert, const char *file, int is_server, int is_ca,
                      time_t now, char *msg, size_t len)
{
    int rc;
    if ((rc = vw_tls_check_times(cert, file, is_server, is_ca, now, msg, len)) < 0 ||
        (rc = vw_tls_check_basic_constraints(cert, file, is_server, is_ca, msg, len)) < 0 ||
        (rc = vw_tls_check_key_usage(cert, file, is_ca, msg, len)) < 0)
        return rc;
    return is_ca ? 0 : vw_tls_check_key_purpose(cert, file, is_server, msg, len);
}

const char *vw_tls_status_reason(unsigned int status)
{
    /* libvirt's choice, the last that applies winning; the time checks are
     * named too (libvirt says "not trusted" for them). */
    const char *reason = "Invalid certificate";
    if (status & GNUTLS_CERT_INVALID)
        reason = "The certificate is not trusted.";
    if (status & GNUTLS_CERT_EXPIRED)
        reason = "The certificate has expired.";
    if (status & GNUTLS_CERT_NOT_ACTIVATED)
        reason = "The certificate is not yet active.";
    if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
        reason = "The certificate hasn't got a known issuer.";
    if (status & GNUTLS_CERT_REVOKED)
        reason = "The certificate has been revoked.";
    if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
        reason = "The certificate uses an insecure algorithm";
    return reason;
}

int vw_tls_cert_dn(gnutls_x509_crt_t cert, char **dn, char *msg, size_t len)
{
    size_t size = 256;
    char *buf = malloc(size);
    if (!buf)
        return VIRTWIRE_ENOMEM;
    int rc = gnutls_x509_crt_get_dn(cert, buf, &size);
    if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER) {
        free(buf);
        buf = malloc(size ? size : 1);
        if (!buf)
            return VIRTWIRE_ENOMEM;
        rc = gnutls_x509_crt_get_dn(cert, buf, &size);
    }
    if (rc != 0) {
        free(buf);
        vw_tls_msgf(msg, len, "Failed to get certificate %s distinguished name: %s", "[session]",
                    gnutls_strerror(rc));
        return VW_TLS_REFUSED;
    }
    *dn = buf;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The peer                                                                 */
/* ------------------------------------------------------------------------ */

/* The checks of the peer's own certificate (the first of its chain).  Its
 * distinguished name goes to *dn as soon as it is known, also when a later
 * check fails: the caller frees it. */
static int check_peer_cert(gnutls_x509_crt_t cert, int peer_is_server, const char *hostname,
                           char *const *acl, time_t now, char **dn, char *msg, size_t len)
{
    int rc = vw_tls_check_times(cert, "[session]", peer_is_server, 0, now, msg, len);
    if (rc < 0)
        return rc;
    if ((rc = vw_tls_cert_dn(cert, dn, msg, len)) < 0)
        return rc;
    if (acl) {
        int ok = 0;
        for (size_t i = 0; acl[i] && !ok; i++)
            ok = virtwire_tls_dn_match(acl[i], *dn);
        if (!ok) {
            vw_tls_msgf(msg, len, "%s", vw_tls_dn_refused_msg);
            return VW_TLS_REFUSED;
        }
    }
    if (hostname && !gnutls_x509_crt_check_hostname(cert, hostname)) {
        vw_tls_msgf(msg, len, "Certificate %s owner does not match the hostname %s", "[session]",
                    hostname);
        return VW_TLS_REFUSED;
    }
    if ((rc = vw_tls_check_basic_constraints(cert, "[session]", peer_is_server, 0, msg, len)) <
            0 ||
        (rc = vw_tls_check_key_usage(cert, "[session]", 0, msg, len)) < 0 ||
        (rc = vw_tls_check_key_purpose(cert, "[session]", peer_is_server, msg, len)) < 0)
        return rc;
    return 0;
}

int vw_tls_check_peer_chain(const gnutls_datum_t *certs, unsigned int ncerts, int we_are_server,
                            const char *hostname, char *const *acl, time_t now, char **dn,
                            char *msg, size_t len)
{
    if (dn)
        *dn = NULL;
    if (!certs || ncerts == 0) {
        vw_tls_msgf(msg, len, "The certificate has no peers");
        return VW_TLS_REFUSED;
    }
    char *name = NULL;
    for (unsigned int i = 0; i < ncerts; i++) {
        gnutls_x509_crt_t cert;
        if (gnutls_x509_crt_init(&cert) < 0) {
            free(name);
            return VIRTWIRE_ENOMEM;
        }
        int rc;
        if (gnutls_x509_crt_import(cert, &certs[i], GNUTLS_X509_FMT_DER) < 0) {
            vw_tls_msgf(msg, len, "Unable to load certificate");
            rc = -1;
        } else if (i == 0) {
            rc = check_peer_cert(cert, !we_are_server, hostname, acl, now, &name, msg, len);
        } else {
            rc = vw_tls_check_times(cert, "[session]", !we_are_server, 1, now, msg, len);
        }
        gnutls_x509_crt_deinit(cert);
        if (rc < 0) {
            free(name);
            return rc;
        }
    }
    if (dn)
        *dn = name;
    else
        free(name);
    return 0;
}

int vw_tls_check_peer(gnutls_session_t s, const virtwire_tls_creds *creds, const char *hostname,
                      char **dn, char *msg, size_t len)
{
    unsigned int status = 0;
    if (dn)
        *dn = NULL;
    int rc = gnutls_certificate_verify_peers2(s, &status);
    if (rc < 0) {
        vw_tls_msgf(msg, len, "Unable to verify TLS peer: %s", gnutls_strerror(rc));
        return VW_TLS_REFUSED;
    }
    if (status != 0) {
        vw_tls_msgf(msg, len, "Certificate failed validation: %s", vw_tls_status_reason(status));
        return VW_TLS_REFUSED;
    }
    if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509) {
        vw_tls_msgf(msg, len, "Only x509 certificates are supported");
        return VW_TLS_REFUSED;
    }
    unsigned int n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
    int we_are_server = creds->role == VIRTWIRE_TLS_SERVER;
    return vw_tls_check_peer_chain(certs, n, we_are_server, we_are_server ? NULL : hostname,
                                   we_are_server ? creds->allowed_dn : NULL, time(NULL), dn,
                                   msg, len);
}

/* ------------------------------------------------------------------------ */
/* Distinguished-name patterns                                              */
/* ------------------------------------------------------------------------ */

/* Bytes of the UTF-8 character starting with lead byte c, as GLib's
 * g_utf8_next_char() counts them. */
static size_t utf8_len(unsigned char c)
{
    if (c < 0xc0)
        return 1;
    if (c < 0xe0)
        return 2;
    if (c < 0xf0)
        return 3;
    if (c < 0xf8)
        return 4;
    if (c < 0xfc)
        return 5;
    if (c < 0xfe)
        return 6;
    return 1;
}

/* One character of s (never past its end). */
static const char *next_char(const char *s)
{
    size_t n = utf8_len((unsigned char)*s);
    for (size_t i = 0; i < n && *s; i++)
        s++;
    return s;
}

int virtwire_tls_dn_match(const char *pattern, const char *dn)
{
    if (!pattern || !dn)
        return 0;
    /* Greedy matching with one backtrack point, the last '*': what the
     * characters after it did not match moves the star's share on by one
     * character.  Earlier stars never need to move again, so this is
     * O(len(pattern) * len(dn)). */
    const char *p = pattern, *s = dn;
    const char *star_p = NULL, *star_s = NULL;
    while (*s) {
        if (*p == '*') {
            while (*p == '*')
                p++;
            star_p = p;
            star_s = s;
            continue;
        }
        if (*p == '?') {
            p++;
            s = next_char(s);
            continue;
        }
        if (*p && *p == *s) {
            p++;
            s++;
            continue;
        }
        if (!star_p)
            return 0;
        p = star_p;
        star_s = next_char(star_s);
        s = star_s;
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}
