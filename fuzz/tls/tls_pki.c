/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Certificates made in memory with GnuTLS: see tls_pki.h. */
#define _POSIX_C_SOURCE 200809L
#include "tls_pki.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DAY (24 * 60 * 60)

static int fail(const char *what, int rc)
{
    fprintf(stderr, "tls_pki: %s: %s\n", what, gnutls_strerror(rc));
    return -1;
}

static int new_key(gnutls_x509_privkey_t *k)
{
    int rc = gnutls_x509_privkey_init(k);
    if (rc == 0)
        rc = gnutls_x509_privkey_generate(*k, GNUTLS_PK_ECDSA,
                                          GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    return rc < 0 ? fail("key", rc) : 0;
}

/* A certificate for key, signed by (ca, ca_key), or self-signed. */
static int new_cert(gnutls_x509_crt_t *crt, gnutls_x509_privkey_t key, const char *dn,
                    int serial, unsigned usage, const char *purpose, const char *dns,
                    const char *ip, gnutls_x509_crt_t ca, gnutls_x509_privkey_t ca_key)
{
    int rc = gnutls_x509_crt_init(crt);
    const char *err = NULL;
    unsigned char ser = (unsigned char)serial;
    time_t now = time(NULL);
    if (rc == 0)
        rc = gnutls_x509_crt_set_key(*crt, key);
    if (rc == 0)
        rc = gnutls_x509_crt_set_version(*crt, 3);
    if (rc == 0)
        rc = gnutls_x509_crt_set_dn(*crt, dn, &err);
    if (rc == 0)
        rc = gnutls_x509_crt_set_serial(*crt, &ser, 1);
    if (rc == 0)
        rc = gnutls_x509_crt_set_activation_time(*crt, now - DAY);
    if (rc == 0)
        rc = gnutls_x509_crt_set_expiration_time(*crt, now + 3650 * DAY);
    if (rc == 0)
        rc = gnutls_x509_crt_set_basic_constraints(*crt, ca ? 0 : 1, -1);
    if (rc == 0)
        rc = gnutls_x509_crt_set_key_usage(*crt, usage);
    if (rc == 0 && purpose)
        rc = gnutls_x509_crt_set_key_purpose_oid(*crt, purpose, 0);
    if (rc == 0 && dns)
        rc = gnutls_x509_crt_set_subject_alt_name(*crt, GNUTLS_SAN_DNSNAME, dns,
                                                  (unsigned)strlen(dns), GNUTLS_FSAN_APPEND);
    if (rc == 0 && ip) {
        unsigned char a[4] = { 127, 0, 0, 1 };
        rc = gnutls_x509_crt_set_subject_alt_name(*crt, GNUTLS_SAN_IPADDRESS, a, sizeof a,
                                                  GNUTLS_FSAN_APPEND);
    }
    if (rc == 0)
        rc = gnutls_x509_crt_sign2(*crt, ca ? ca : *crt, ca_key ? ca_key : key,
                                   GNUTLS_DIG_SHA256, 0);
    return rc < 0 ? fail(dn, rc) : 0;
}

static int write_pem(const char *dir, const char *name, const gnutls_datum_t *d)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fwrite(d->data, 1, d->size, f) != d->size) {
        fprintf(stderr, "tls_pki: %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* Writes what an export2 call returned (rc, d) to dir/name, then frees it. */
static int write_exported(const char *dir, const char *name, int rc, gnutls_datum_t *d)
{
    if (rc < 0)
        return fail(name, rc);
    rc = write_pem(dir, name, d);
    gnutls_free(d->data);
    return rc;
}

static int write_crt(const char *dir, const char *name, gnutls_x509_crt_t crt)
{
    gnutls_datum_t d;
    return write_exported(dir, name, gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), &d);
}

static int write_key(const char *dir, const char *name, gnutls_x509_privkey_t key)
{
    gnutls_datum_t d;
    return write_exported(dir, name, gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d),
                          &d);
}

int fz_tls_pki_write(const char *dir)
{
    char srv[512], cli[512];
    snprintf(srv, sizeof srv, "%s/srv", dir);
    snprintf(cli, sizeof cli, "%s/cli", dir);
    mkdir(dir, 0700);
    mkdir(srv, 0700);
    mkdir(cli, 0700);
    gnutls_x509_privkey_t ck = NULL, sk = NULL, lk = NULL;
    gnutls_x509_crt_t ca = NULL, sc = NULL, lc = NULL;
    unsigned leaf = GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT;
    int rc = new_key(&ck);
    if (rc == 0)
        rc = new_key(&sk);
    if (rc == 0)
        rc = new_key(&lk);
    if (rc == 0)
        rc = new_cert(&ca, ck, "CN=fuzz CA", 1, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN,
                      NULL, NULL, NULL, NULL, NULL);
    if (rc == 0)
        rc = new_cert(&sc, sk, "O=virtwire,CN=localhost", 2, leaf, GNUTLS_KP_TLS_WWW_SERVER,
                      "localhost", "127.0.0.1", ca, ck);
    if (rc == 0)
        rc = new_cert(&lc, lk, "C=GB,O=virtwire,CN=fuzz client", 3, leaf,
                      GNUTLS_KP_TLS_WWW_CLIENT, NULL, NULL, ca, ck);
    if (rc == 0)
        rc = write_crt(srv, "cacert.pem", ca) | write_crt(srv, "servercert.pem", sc) |
             write_key(srv, "serverkey.pem", sk) | write_crt(cli, "cacert.pem", ca) |
             write_crt(cli, "clientcert.pem", lc) | write_key(cli, "clientkey.pem", lk);
    gnutls_x509_crt_t crts[] = { ca, sc, lc };
    gnutls_x509_privkey_t keys[] = { ck, sk, lk };
    for (size_t i = 0; i < 3; i++) {
        if (crts[i])
            gnutls_x509_crt_deinit(crts[i]);
        if (keys[i])
            gnutls_x509_privkey_deinit(keys[i]);
    }
    return rc ? -1 : 0;
}
