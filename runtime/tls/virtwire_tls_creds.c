/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtwire_tls: credentials.  Where libvirt looks for the files
 * (virNetTLSContextLocateCredentials), the sanity checks it makes of our
 * own certificate and the CA before using them
 * (virNetTLSContextSanityCheckCredentials), and how it loads them
 * (virNetTLSContextLoadCredentials), with libvirt's messages.  See
 * virtwire_tls.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "virtwire_tls_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtwire_sized_internal.h"

/* ------------------------------------------------------------------------ */
/* Where the files are                                                      */
/* ------------------------------------------------------------------------ */

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int default_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void free_paths(char *paths[4])
{
    for (int i = 0; i < 4; i++) {
        free(paths[i]);
        paths[i] = NULL;
    }
}

int vw_tls_locate(virtwire_tls_role role, const char *pkipath, const char *home,
                  int (*exists)(const char *path), char *paths[4])
{
    int server = role == VIRTWIRE_TLS_SERVER;
    const char *certname = server ? "servercert.pem" : "clientcert.pem";
    const char *keyname = server ? "serverkey.pem" : "clientkey.pem";
    char *user = NULL;
    if (!exists)
        exists = default_exists;
    for (int i = 0; i < 4; i++)
        paths[i] = NULL;

    /* An explicit directory is used whether the files exist or not. */
    const char *dir = pkipath;
    if (!dir && home) {
        if (!(user = path_join(home, VW_TLS_USER_DIR)))
            return VIRTWIRE_ENOMEM;
        dir = user;
    }
    if (dir) {
        paths[VIRTWIRE_TLS_FILE_CACERT] = path_join(dir, "cacert.pem");
        paths[VIRTWIRE_TLS_FILE_CACRL] = path_join(dir, "cacrl.pem");
        paths[VIRTWIRE_TLS_FILE_CERT] = path_join(dir, certname);
        paths[VIRTWIRE_TLS_FILE_KEY] = path_join(dir, keyname);
        free(user);
        for (int i = 0; i < 4; i++)
            if (!paths[i]) {
                free_paths(paths);
                return VIRTWIRE_ENOMEM;
            }
        if (!pkipath) {
            /* The per-user directory: what is missing there comes from
             * the system's places, the certificate and key as a pair. */
            for (int i = VIRTWIRE_TLS_FILE_CACERT; i <= VIRTWIRE_TLS_FILE_CACRL; i++)
                if (!exists(paths[i])) {
                    free(paths[i]);
                    paths[i] = NULL;
                }
            if (!exists(paths[VIRTWIRE_TLS_FILE_KEY]) || !exists(paths[VIRTWIRE_TLS_FILE_CERT])) {
                free(paths[VIRTWIRE_TLS_FILE_KEY]);
                free(paths[VIRTWIRE_TLS_FILE_CERT]);
                paths[VIRTWIRE_TLS_FILE_KEY] = paths[VIRTWIRE_TLS_FILE_CERT] = NULL;
            }
        }
    }
    static const char *const sysdirs[4] = { VW_TLS_SYSTEM_CA_DIR, VW_TLS_SYSTEM_CA_DIR,
                                            VW_TLS_SYSTEM_CERT_DIR, VW_TLS_SYSTEM_KEY_DIR };
    const char *names[4] = { "cacert.pem", "cacrl.pem", certname, keyname };
    for (int i = 0; i < 4; i++) {
        if (!paths[i] && !(paths[i] = path_join(sysdirs[i], names[i]))) {
            free_paths(paths);
            return VIRTWIRE_ENOMEM;
        }
    }
    return 0;
}

/* $HOME, else the password database's home of the effective user (as
 * GLib's g_get_home_dir(), which libvirt asks).  Malloc'd, or NULL. */
static char *home_dir(void)
{
    const char *h = getenv("HOME");
    if (h && *h)
        return strdup(h);
    long n = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t size = n > 0 && n < (1 << 20) ? (size_t)n : 16384;
    char *buf = malloc(size);
    if (!buf)
        return NULL;
    struct passwd pw, *res = NULL;
    char *out = NULL;
    if (getpwuid_r(geteuid(), &pw, buf, size, &res) == 0 && res && res->pw_dir)
        out = strdup(res->pw_dir);
    free(buf);
    return out;
}

/* ------------------------------------------------------------------------ */
/* Sanity checks of our own certificate and the CA                          */
/* ------------------------------------------------------------------------ */

/* Reads a whole file of at most VW_TLS_FILE_MAX bytes, NUL-terminated
 * (as libvirt's virFileReadAll(file, 1 << 16)). */
static int read_file(const char *path, gnutls_datum_t *out, char *msg, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        vw_tls_msgf(msg, len, "Failed to open file '%s': %s", path, strerror(err));
        errno = err;
        return VIRTWIRE_EIO;
    }
    unsigned char *buf = malloc(VW_TLS_FILE_MAX + 1);
    if (!buf) {
        close(fd);
        return VIRTWIRE_ENOMEM;
    }
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, VW_TLS_FILE_MAX + 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            vw_tls_msgf(msg, len, "Failed to read file '%s': %s", path, strerror(err));
            free(buf);
            close(fd);
            errno = err;
            return VIRTWIRE_EIO;
        }
        if (n == 0)
            break;
        have += (size_t)n;
        if (have > VW_TLS_FILE_MAX) {
            vw_tls_msgf(msg, len, "File '%s' is too large", path);
            free(buf);
            close(fd);
            return VIRTWIRE_EINVAL;
        }
    }
    close(fd);
    buf[have] = 0;
    /* libvirt hands GnuTLS the text up to its first NUL. */
    out->data = buf;
    out->size = (unsigned int)strlen((char *)buf);
    return 0;
}

static int load_cert(const char *path, int is_server, gnutls_x509_crt_t *out, char *msg,
                     size_t len)
{
    gnutls_datum_t data;
    int rc = read_file(path, &data, msg, len);
    if (rc < 0)
        return rc;
    gnutls_x509_crt_t cert;
    if (gnutls_x509_crt_init(&cert) < 0) {
        free(data.data);
        return VIRTWIRE_ENOMEM;
    }
    if (gnutls_x509_crt_import(cert, &data, GNUTLS_X509_FMT_PEM) < 0) {
        vw_tls_msgf(msg, len, "Unable to import %s certificate %s", is_server ? "server" : "client",
                    path);
        gnutls_x509_crt_deinit(cert);
        free(data.data);
        return VIRTWIRE_EINVAL;
    }
    free(data.data);
    *out = cert;
    return 0;
}

static int load_ca_list(const char *path, gnutls_x509_crt_t *certs, unsigned int *n, char *msg,
                        size_t len)
{
    gnutls_datum_t data;
    int rc = read_file(path, &data, msg, len);
    if (rc < 0)
        return rc;
    unsigned int max = VW_TLS_MAX_CA;
    int grc = gnutls_x509_crt_list_import(certs, &max, &data, GNUTLS_X509_FMT_PEM, 0);
    free(data.data);
    if (grc < 0) {
        vw_tls_msgf(msg, len, "Unable to import CA certificate list %s", path);
        return VIRTWIRE_EINVAL;
    }
    *n = max;
    return 0;
}

/* Our certificate against the CA certificates, as libvirt checks the pair
 * (without the CRL). */
static int check_pair(gnutls_x509_crt_t cert, const char *certfile, gnutls_x509_crt_t *cas,
                      unsigned int ncas, const char *cafile, int is_server, char *msg, size_t len)
{
    unsigned int status = 0;
    if (gnutls_x509_crt_list_verify(&cert, 1, cas, ncas, NULL, 0, 0, &status) < 0) {
        vw_tls_msgf(msg, len, "Unable to verify %s certificate %s against CA certificate %s",
                    is_server ? "server" : "client", certfile, cafile);
        return VIRTWIRE_EINVAL;
    }
    if (status != 0) {
        vw_tls_msgf(msg, len, "Our own certificate %s failed validation against %s: %s", certfile,
                    cafile, vw_tls_status_reason(status));
        return VIRTWIRE_EINVAL;
    }
    return 0;
}

static int sanity_check(int is_server, const char *cafile, const char *certfile, char *msg,
                        size_t len)
{
    gnutls_x509_crt_t cert = NULL;
    gnutls_x509_crt_t cas[VW_TLS_MAX_CA];
    unsigned int ncas = 0;
    int rc = 0;
    time_t now = time(NULL);
    /* Only the files that can be read are checked: a missing one is
     * reported (or skipped) when the credentials are loaded. */
    if (certfile && access(certfile, R_OK) == 0)
        rc = load_cert(certfile, is_server, &cert, msg, len);
    if (rc == 0 && cafile && access(cafile, R_OK) == 0)
        rc = load_ca_list(cafile, cas, &ncas, msg, len);
    if (rc == 0 && cert)
        rc = vw_tls_check_cert(cert, certfile, is_server, 0, now, msg, len);
    for (unsigned int i = 0; rc == 0 && i < ncas; i++)
        rc = vw_tls_check_cert(cas[i], cafile, is_server, 1, now, msg, len);
    if (rc == VW_TLS_REFUSED)
        rc = VIRTWIRE_EINVAL; /* our own files are not usable */
    if (rc == 0 && cert && ncas)
        rc = check_pair(cert, certfile, cas, ncas, cafile, is_server, msg, len);
    if (cert)
        gnutls_x509_crt_deinit(cert);
    for (unsigned int i = 0; i < ncas; i++)
        gnutls_x509_crt_deinit(cas[i]);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

/* libvirt's check that a file exists: 0, 1 (missing, allowed) or
 * VIRTWIRE_EIO with "Cannot read TYPE 'FILE': ERRNO". */
static int check_file(const char *type, const char *file, int allow_missing, char *msg,
                      size_t len)
{
    if (access(file, F_OK) == 0)
        return 0;
    if (allow_missing)
        return 1;
    int err = errno;
    vw_tls_msgf(msg, len, "Cannot read %s '%s': %s", type, file, strerror(err));
    errno = err;
    return VIRTWIRE_EIO;
}

static int load_credentials(virtwire_tls_creds *c, char *msg, size_t len)
{
    int is_server = c->role == VIRTWIRE_TLS_SERVER;
    char **p = c->paths;
    int rc;
    const char *cacert = p[VIRTWIRE_TLS_FILE_CACERT];
    if (cacert && *cacert) {
        if ((rc = check_file("CA certificate", cacert, 0, msg, len)) < 0)
            return rc;
        rc = gnutls_certificate_set_x509_trust_file(c->x509, cacert, GNUTLS_X509_FMT_PEM);
        if (rc < 0) {
            vw_tls_msgf(msg, len, "Unable to set x509 CA certificate: %s: %s", cacert,
                        gnutls_strerror(rc));
            return VIRTWIRE_EINVAL;
        }
    } else {
        free(p[VIRTWIRE_TLS_FILE_CACERT]);
        p[VIRTWIRE_TLS_FILE_CACERT] = NULL;
    }
    const char *cacrl = p[VIRTWIRE_TLS_FILE_CACRL];
    if (cacrl && *cacrl && check_file("CA revocation list", cacrl, 1, msg, len) == 0) {
        rc = gnutls_certificate_set_x509_crl_file(c->x509, cacrl, GNUTLS_X509_FMT_PEM);
        if (rc < 0) {
            vw_tls_msgf(msg, len, "Unable to set x509 certificate revocation list: %s: %s",
                        cacrl, gnutls_strerror(rc));
            return VIRTWIRE_EINVAL;
        }
    } else {
        free(p[VIRTWIRE_TLS_FILE_CACRL]); /* none: nothing is revoked */
        p[VIRTWIRE_TLS_FILE_CACRL] = NULL;
    }
    const char *cert = p[VIRTWIRE_TLS_FILE_CERT], *key = p[VIRTWIRE_TLS_FILE_KEY];
    rc = 1;
    if (cert && *cert && key && *key) {
        /* A client may go on without a certificate; a server may not. */
        if ((rc = check_file("certificate", cert, !is_server, msg, len)) < 0)
            return rc;
        if (rc == 0 && (rc = check_file("private key", key, !is_server, msg, len)) < 0)
            return rc;
        if (rc == 0) {
            int grc = gnutls_certificate_set_x509_key_file(c->x509, cert, key,
                                                           GNUTLS_X509_FMT_PEM);
            if (grc < 0) {
                vw_tls_msgf(msg, len, "Unable to set x509 key and certificate: %s, %s: %s", key,
                            cert, gnutls_strerror(grc));
                return VIRTWIRE_EINVAL;
            }
        }
    }
    if (rc != 0) {
        /* Not loaded: the key's path goes, which says so to the caller
         * (the certificate's is kept for messages). */
        free(p[VIRTWIRE_TLS_FILE_KEY]);
        p[VIRTWIRE_TLS_FILE_KEY] = NULL;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Credentials                                                              */
/* ------------------------------------------------------------------------ */

virtwire_tls_creds *vw_tls_creds_ref(virtwire_tls_creds *creds)
{
    atomic_fetch_add(&creds->refs, 1);
    return creds;
}

void virtwire_tls_creds_free(virtwire_tls_creds *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    if (c->x509)
        gnutls_certificate_free_credentials(c->x509);
    if (c->prio)
        gnutls_priority_deinit(c->prio);
    free(c->priority);
    if (c->allowed_dn) {
        for (size_t i = 0; c->allowed_dn[i]; i++)
            free(c->allowed_dn[i]);
        free(c->allowed_dn);
    }
    for (int i = 0; i < 4; i++)
        free(c->paths[i]);
    free(c->missing_cert);
    free(c);
}

static char *dup_or_null(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

static int copy_acl(virtwire_tls_creds *c, const char *const *acl)
{
    if (!acl)
        return 0;
    size_t n = 0;
    while (acl[n])
        n++;
    c->allowed_dn = calloc(n + 1, sizeof *c->allowed_dn);
    if (!c->allowed_dn)
        return VIRTWIRE_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(c->allowed_dn[i] = strdup(acl[i])))
            return VIRTWIRE_ENOMEM;
    return 0;
}

int virtwire_tls_creds_new(virtwire_tls_role role, const virtwire_tls_options *opts,
                           char *errbuf, size_t errlen, virtwire_tls_creds **out)
{
    virtwire_tls_options o = { .size = sizeof o };
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (out)
        *out = NULL;
    if (!out || (role != VIRTWIRE_TLS_CLIENT && role != VIRTWIRE_TLS_SERVER) ||
        (opts && vw_sized_copy(&o, sizeof o, opts) < 0) || o.handshake_timeout_ms < 0) {
        vw_tls_msgf(errbuf, errlen, "invalid TLS options");
        return VIRTWIRE_EINVAL;
    }
    virtwire_tls_creds *c = calloc(1, sizeof *c);
    if (!c)
        return VIRTWIRE_ENOMEM;
    atomic_init(&c->refs, 1);
    c->role = role;
    c->no_verify = o.no_verify != 0;
    c->handshake_timeout_ms = o.handshake_timeout_ms;
    int is_server = role == VIRTWIRE_TLS_SERVER;
    int rc = 0;
    if (o.cacert || o.cert || o.key) {
        /* Explicit files, as libvirtd's ca_file ... key_file. */
        int oom = 0;
        c->paths[VIRTWIRE_TLS_FILE_CACERT] = dup_or_null(o.cacert, &oom);
        c->paths[VIRTWIRE_TLS_FILE_CACRL] = dup_or_null(o.cacrl, &oom);
        c->paths[VIRTWIRE_TLS_FILE_CERT] = dup_or_null(o.cert, &oom);
        c->paths[VIRTWIRE_TLS_FILE_KEY] = dup_or_null(o.key, &oom);
        rc = oom ? VIRTWIRE_ENOMEM : 0;
    } else {
        char *home = NULL;
        if (o.try_user_dir && !o.pkipath && !(home = home_dir()))
            rc = errno == ENOMEM ? VIRTWIRE_ENOMEM : 0; /* no home: the system's places */
        if (rc == 0)
            rc = vw_tls_locate(role, o.pkipath, home, NULL, c->paths);
        free(home);
    }
    if (rc == 0)
        rc = copy_acl(c, o.allowed_dn);
    const char *priority = o.priority ? o.priority : VIRTWIRE_TLS_PRIORITY_DEFAULT;
    if (rc == 0 && !(c->priority = strdup(priority)))
        rc = VIRTWIRE_ENOMEM;
    if (rc == 0) {
        const char *where = NULL;
        int grc = gnutls_priority_init(&c->prio, priority, &where);
        if (grc == GNUTLS_E_MEMORY_ERROR) {
            rc = VIRTWIRE_ENOMEM;
        } else if (grc < 0) {
            c->prio = NULL;
            vw_tls_msgf(errbuf, errlen, "Failed to set TLS session priority to %s: %s", priority,
                        gnutls_strerror(grc));
            rc = VIRTWIRE_EINVAL;
        }
    }
    if (rc == 0) {
        int grc = gnutls_certificate_allocate_credentials(&c->x509);
        if (grc < 0) {
            c->x509 = NULL;
            rc = VIRTWIRE_ENOMEM;
        }
    }
    if (rc == 0 && !o.no_sanity)
        rc = sanity_check(is_server, c->paths[VIRTWIRE_TLS_FILE_CACERT],
                          c->paths[VIRTWIRE_TLS_FILE_CERT], errbuf, errlen);
    if (rc == 0)
        rc = load_credentials(c, errbuf, errlen);
    if (rc == 0 && !c->paths[VIRTWIRE_TLS_FILE_KEY]) {
        /* No certificate of ours (a client may go on): where it was
         * looked for stays known, for the message if the server refuses
         * us. */
        c->missing_cert = c->paths[VIRTWIRE_TLS_FILE_CERT];
        c->paths[VIRTWIRE_TLS_FILE_CERT] = NULL;
    }
    if (rc < 0) {
        int err = errno;
        virtwire_tls_creds_free(c);
        errno = err;
        if (rc == VIRTWIRE_ENOMEM && errbuf && errlen && !errbuf[0])
            vw_tls_msgf(errbuf, errlen, "out of memory");
        return rc;
    }
    *out = c;
    return 0;
}

const char *virtwire_tls_creds_path(const virtwire_tls_creds *creds, virtwire_tls_file which)
{
    if (!creds || (unsigned)which > VIRTWIRE_TLS_FILE_KEY)
        return NULL;
    return creds->paths[which];
}
