/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for what libvirtwire_tls reads from a peer itself: the
 * names it derives from the peer's certificates (the distinguished name,
 * matched against tls_allowed_dn_list patterns; the host name check; the
 * key purposes, usages, constraints and dates), the confirmation byte and
 * what follows it, and the bytes of a handshake that goes wrong.
 *
 * Input: byte 0 selects the mode (modulo 4), the rest is the mode's:
 *
 *   0  patterns: PATTERN NUL DN (a missing NUL: DN empty).  Checks: a
 *      pattern without '*' and '?' matches exactly the same text; '*'
 *      matches anything; "*LITERAL*" matches where the text holds
 *      LITERAL (ASCII text: a star steps over whole UTF-8 characters).
 *   1  a peer's chain: byte 1 bit 0 we are the server (the peer a
 *      client), bit 1 with an ACL; then HOSTNAME NUL PATTERN NUL, then up
 *      to 4 certificates, each a 2-byte big-endian length and DER bytes,
 *      through vw_tls_check_peer_chain().  Checks: the result is 0, a
 *      refusal with a message, or out of memory; a name is returned
 *      exactly on success; nothing leaks.
 *   2  the confirmation: a real TLS session between our client channel
 *      and a GnuTLS server (certificates made at start-up, in memory),
 *      whose records after the handshake come from the input (at most
 *      64, each a 1-byte length and that many bytes; a zero length ends
 *      the connection).  Checks: our handshake succeeds exactly when the first
 *      byte is 1, fails with VIRTWIRE_EAUTH and libvirt's "server
 *      verification" message otherwise; after success, every byte after
 *      the confirmation is read, in order, then the end.
 *   3  a broken handshake: byte 1 bit 0 our channel is the server; the
 *      rest is what the peer sends instead of TLS, then it hangs up.
 *      Checks: the handshake fails (VIRTWIRE_EAUTH, VIRTWIRE_ECLOSED or
 *      VIRTWIRE_EIO) with a message, and again when driven once more.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls_pki.h"
#include "virtwire_tls.h"
#include "virtwire_tls_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
    abort();
}

#define fuzz_check(cond) ((cond) ? (void)0 : fuzz_fail(__LINE__, #cond))

/* ------------------------------------------------------------------------ */
/* Mode 0: patterns                                                         */
/* ------------------------------------------------------------------------ */

static int ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

static void patterns(const uint8_t *d, size_t n)
{
    char *buf = malloc(n + 3);
    fuzz_check(buf != NULL);
    memcpy(buf, d, n);
    buf[n] = 0;
    const char *pattern = buf;
    const char *dn = memchr(buf, 0, n) && strlen(buf) < n ? buf + strlen(buf) + 1 : "";
    int m = virtwire_tls_dn_match(pattern, dn);
    fuzz_check(m == 0 || m == 1);
    if (!strpbrk(pattern, "*?"))
        fuzz_check(m == (strcmp(pattern, dn) == 0));
    fuzz_check(virtwire_tls_dn_match("*", dn));
    fuzz_check(virtwire_tls_dn_match(dn, dn) || strpbrk(dn, "*?"));
    /* A star around a literal: a substring test, when both are ASCII (a
     * star steps over whole UTF-8 characters, as GLib's does, so that in
     * text that is not UTF-8 it may step over where the literal starts). */
    if (!strpbrk(pattern, "*?") && strlen(pattern) < 200 && ascii(pattern) && ascii(dn)) {
        char wrapped[210];
        snprintf(wrapped, sizeof wrapped, "*%s*", pattern);
        fuzz_check(virtwire_tls_dn_match(wrapped, dn) == (strstr(dn, pattern) != NULL));
    }
    free(buf);
}

/* ------------------------------------------------------------------------ */
/* Mode 1: a peer's chain                                                   */
/* ------------------------------------------------------------------------ */

static void chain(const uint8_t *d, size_t n)
{
    if (n < 1)
        return;
    int flags = d[0];
    d++, n--;
    char *copy = malloc(n + 2);
    fuzz_check(copy != NULL);
    memcpy(copy, d, n);
    copy[n] = copy[n + 1] = 0;
    const char *host = copy;
    size_t off = strlen(host) + 1;
    if (off > n)
        off = n;
    const char *pattern = copy + off;
    off += strlen(pattern) + 1;
    if (off > n)
        off = n;
    gnutls_datum_t certs[4];
    unsigned ncerts = 0;
    while (ncerts < 4 && off + 2 <= n) {
        size_t len = (size_t)d[off] << 8 | d[off + 1];
        off += 2;
        if (len > n - off)
            len = n - off;
        certs[ncerts].data = (unsigned char *)copy + off;
        certs[ncerts].size = (unsigned)len;
        ncerts++;
        off += len;
    }
    char *const acl[2] = { (char *)pattern, NULL };
    char msg[VW_TLS_MSG_MAX] = "";
    char *dn = NULL;
    int rc = vw_tls_check_peer_chain(ncerts ? certs : NULL, ncerts, flags & 1,
                                     (flags & 1) ? NULL : host, (flags & 2) ? acl : NULL,
                                     time(NULL), &dn, msg, sizeof msg);
    fuzz_check(rc == 0 || rc == VW_TLS_REFUSED || rc == VIRTWIRE_ENOMEM);
    fuzz_check((rc == 0) == (dn != NULL));
    fuzz_check(rc != VW_TLS_REFUSED || msg[0] != 0);
    if (rc == 0 && (flags & 2))
        fuzz_check(virtwire_tls_dn_match(pattern, dn));
    free(dn);
    free(copy);
}

/* ------------------------------------------------------------------------ */
/* Modes 2 and 3: sessions                                                  */
/* ------------------------------------------------------------------------ */

static char pki_dir[64];
static virtwire_tls_creds *creds[2];
static gnutls_certificate_credentials_t peer_cred[2]; /* [0]: as a client, [1]: as a server */

static void cleanup(void)
{
    for (int i = 0; i < 2; i++) {
        virtwire_tls_creds_free(creds[i]);
        if (peer_cred[i])
            gnutls_certificate_free_credentials(peer_cred[i]);
    }
}

static void setup(void)
{
    if (creds[0])
        return;
    snprintf(pki_dir, sizeof pki_dir, "/tmp/vwfuzztlsXXXXXX");
    fuzz_check(mkdtemp(pki_dir) != NULL);
    fuzz_check(fz_tls_pki_write(pki_dir) == 0);
    static const char *const sub[2] = { "cli", "srv" };
    static const char *const kind[2] = { "client", "server" };
    char files[2][3][256];
    for (int r = 0; r < 2; r++) {
        char dir[128], why[1024];
        snprintf(dir, sizeof dir, "%s/%s", pki_dir, sub[r]);
        virtwire_tls_options o = { .size = sizeof o, .pkipath = dir };
        fuzz_check(virtwire_tls_creds_new((virtwire_tls_role)r, &o, why, sizeof why,
                                          &creds[r]) == 0);
        snprintf(files[r][0], sizeof files[r][0], "%s/cacert.pem", dir);
        snprintf(files[r][1], sizeof files[r][1], "%s/%scert.pem", dir, kind[r]);
        snprintf(files[r][2], sizeof files[r][2], "%s/%skey.pem", dir, kind[r]);
        fuzz_check(gnutls_certificate_allocate_credentials(&peer_cred[r]) == 0);
        fuzz_check(gnutls_certificate_set_x509_key_file(peer_cred[r], files[r][1], files[r][2],
                                                        GNUTLS_X509_FMT_PEM) == 0);
    }
    /* Everything is loaded: the files can go. */
    for (int r = 0; r < 2; r++) {
        for (int f = 0; f < 3; f++)
            unlink(files[r][f]);
        char dir[128];
        snprintf(dir, sizeof dir, "%s/%s", pki_dir, sub[r]);
        rmdir(dir);
    }
    rmdir(pki_dir);
    atexit(cleanup);
}

/* A GnuTLS session of the other role on fd (non-blocking). */
static gnutls_session_t peer_new(int fd, int peer_is_server)
{
    gnutls_session_t s;
    fuzz_check(gnutls_init(&s, (peer_is_server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
                                   GNUTLS_NONBLOCK) == 0);
    fuzz_check(gnutls_set_default_priority(s) == 0);
    fuzz_check(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, peer_cred[peer_is_server]) ==
               0);
    if (peer_is_server)
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
    gnutls_transport_set_int(s, fd);
    return s;
}

/* Drives our channel's handshake, and the peer's when there is one,
 * until ours ends, or with a peer until the peer's has (ours then waits
 * for what the peer sends next).  The peer's result in *peer_rc. */
static int drive(virtwire_channel *ch, gnutls_session_t peer, int *peer_rc)
{
    int rc = 1;
    int prc = GNUTLS_E_AGAIN;
    for (int i = 0; i < 2000 && rc == 1 && (!peer || prc == GNUTLS_E_AGAIN); i++) {
        rc = virtwire_channel_handshake(ch);
        if (peer) {
            prc = gnutls_handshake(peer);
            if (prc < 0 && prc != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(prc))
                prc = GNUTLS_E_AGAIN;
        }
        if (rc == 1 && (!peer || prc == GNUTLS_E_AGAIN)) {
            struct pollfd p = { virtwire_channel_fd(ch), virtwire_channel_events(ch, POLLIN),
                                0 };
            poll(&p, 1, peer ? 0 : 10);
        }
    }
    if (peer_rc)
        *peer_rc = prc;
    fuzz_check(peer ? prc != GNUTLS_E_AGAIN : rc != 1);
    return rc;
}

static void confirmation(const uint8_t *d, size_t n)
{
    setup();
    int sv[2];
    fuzz_check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    virtwire_channel *sock, *ch;
    fuzz_check(virtwire_channel_socket_new(sv[0], 1, &sock) == 0);
    fuzz_check(virtwire_tls_channel_new(creds[VIRTWIRE_TLS_CLIENT], sock, "localhost", NULL, 0,
                                        &ch) == 0);
    gnutls_session_t peer = peer_new(sv[1], 1);
    int prc;
    int rc = drive(ch, peer, &prc);
    /* The handshake itself cannot fail here: the input comes after it. */
    fuzz_check(prc == 0);
    /* The records, then the end. */
    unsigned char plain[4096];
    size_t nplain = 0;
    size_t off = 0;
    int hung_up = 0;
    /* At most 64 records: nothing reads them before the end, and a unix
     * socket's buffer counts each write's overhead (about 1 KiB), so
     * thousands of tiny records would fill it and the peer's send would
     * wait forever. */
    for (int records = 0; off < n && records < 64; records++) {
        size_t len = d[off++];
        if (len == 0) {
            hung_up = 1;
            break;
        }
        if (len > n - off)
            len = n - off;
        if (len == 0)
            break; /* a length with nothing after it */
        ssize_t w;
        do
            w = gnutls_record_send(peer, d + off, len);
        while (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED);
        fuzz_check(w == (ssize_t)len);
        memcpy(plain + nplain, d + off, len);
        nplain += len;
        off += len;
        if (nplain + 256 > sizeof plain)
            break;
    }
    /* The peer hangs up, after its records or at a zero length. */
    (void)hung_up;
    shutdown(sv[1], SHUT_WR);
    if (rc == 1)
        rc = drive(ch, NULL, NULL);
    if (nplain > 0 && plain[0] == 1) {
        fuzz_check(rc == 0);
        unsigned char got[4096];
        size_t ngot = 0;
        for (int i = 0; i < 1000; i++) {
            int fd;
            ssize_t r = virtwire_channel_read(ch, got + ngot, sizeof got - ngot, &fd);
            fuzz_check(fd == -1);
            if (r < 0) {
                fuzz_check(r == VIRTWIRE_ECLOSED);
                break;
            }
            ngot += (size_t)r;
            if (r == 0)
                poll(&(struct pollfd){ sv[0], POLLIN, 0 }, 1, 10);
        }
        fuzz_check(ngot == nplain - 1 && memcmp(got, plain + 1, ngot) == 0);
    } else {
        fuzz_check(rc == VIRTWIRE_EAUTH);
        const char *why = virtwire_channel_error_detail(ch);
        static const char refused[] =
            "server verification (of our certificate or IP address) failed: ";
        fuzz_check(why && strncmp(why, refused, sizeof refused - 1) == 0);
        fuzz_check(virtwire_channel_handshake(ch) == VIRTWIRE_EAUTH);
    }
    gnutls_deinit(peer);
    close(sv[1]);
    virtwire_channel_free(ch);
}

static void broken(const uint8_t *d, size_t n)
{
    if (n < 1)
        return;
    setup();
    int we_serve = d[0] & 1;
    d++, n--;
    int sv[2];
    fuzz_check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    virtwire_channel *ch;
    if (we_serve) {
        fuzz_check(virtwire_tls_make_channel(sv[0], 1, creds[VIRTWIRE_TLS_SERVER], &ch) == 0);
    } else {
        virtwire_channel *sock;
        fuzz_check(virtwire_channel_socket_new(sv[0], 1, &sock) == 0);
        fuzz_check(virtwire_tls_channel_new(creds[VIRTWIRE_TLS_CLIENT], sock, "localhost", NULL,
                                            0, &ch) == 0);
    }
    /* The peer's bytes (as much as the socket takes; a socketpair holds
     * far more than an input), then its end. */
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(sv[1], d + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    int rc = drive(ch, NULL, NULL);
    if (rc == 0) {
        /* Only a peer that completed a handshake could get here, which
         * the bytes of one input cannot do (they are not answers to this
         * session's random values). */
        fuzz_fail(__LINE__, "a handshake of replayed bytes succeeded");
    }
    fuzz_check(rc == VIRTWIRE_EAUTH || rc == VIRTWIRE_ECLOSED || rc == VIRTWIRE_EIO);
    const char *why = virtwire_channel_error_detail(ch);
    fuzz_check(why && why[0]);
    fuzz_check(virtwire_channel_handshake(ch) == rc);
    close(sv[1]);
    virtwire_channel_free(ch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    switch (data[0] % 4) {
    case 0:
        patterns(data + 1, size - 1);
        break;
    case 1:
        chain(data + 1, size - 1);
        break;
    case 2:
        confirmation(data + 1, size - 1);
        break;
    default:
        broken(data + 1, size - 1);
        break;
    }
    return 0;
}
