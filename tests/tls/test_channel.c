/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TLS channel itself, our client against our server over loopback TCP
 * (certificates made by certtool, tests/lib/make-pki), both driven without
 * blocking from one thread:
 *
 *   - the handshake and the confirmation byte; the server's view of the
 *     client (its DN as GnuTLS prints it, the cipher's strength), what
 *     the credentials loaded;
 *   - 4 MiB each way through socket buffers of a few KiB (a unix
 *     socketpair: TLS does not care what carries it), written in
 *     chunks that straddle records, so that records wait half-written and
 *     the writer must offer the same bytes again; every byte compared;
 *   - a peer that connects and says nothing: the server's handshake
 *     timeout ends it (VIRTWIRE_ETIMEDOUT, "TLS handshake timed out");
 *   - channels that are not TLS, and options that cannot be valid;
 *   - no fd left open.
 *
 *   test_tls_channel MAKE_PKI_SCRIPT
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virtwire_tls.h"
#include "vt_check.h"
#include "vt_daemon.h"
#include "vt_sys.h"

static char pki[128];

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 4) == 0 &&
            getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static virtwire_tls_creds *creds(virtwire_tls_role role, const char *dir,
                                 const virtwire_tls_options *more)
{
    char path[256], why[1024] = "";
    snprintf(path, sizeof path, "%s/%s", pki, dir);
    virtwire_tls_options o = { .size = sizeof o };
    if (more)
        o = *more;
    o.pkipath = path;
    virtwire_tls_creds *c = NULL;
    CHECK_RC(virtwire_tls_creds_new(role, &o, why, sizeof why, &c), 0);
    CHECK_STR(why, "");
    REQUIRE(c);
    return c;
}

/*
 * A connected pair: our client channel and our server channel, over
 * loopback TCP, or with bufsize over a unix socketpair with buffers that
 * small (tiny TCP buffers stall on loopback, whose segments are larger than
 * such a window can ever be).
 */
static void pair(virtwire_tls_creds *sc, virtwire_tls_creds *cc, virtwire_channel **client,
                 virtwire_channel **server, int bufsize)
{
    char why[512];
    int afd;
    if (bufsize) {
        int sv[2];
        REQUIRE(vt_socketpair(sv, 0) == 0);
        vt_bufsize(sv[0], bufsize, bufsize);
        vt_bufsize(sv[1], bufsize, bufsize);
        CHECK_RC(virtwire_channel_socket_new(sv[0], 1, client), 0);
        afd = sv[1];
    } else {
        int port;
        int lfd = listen_any(&port);
        CHECK_RC(virtwire_channel_connect_tcp("127.0.0.1", port, why, sizeof why, client), 0);
        afd = vt_accept(lfd, 5000);
        REQUIRE(afd >= 0);
        close(lfd);
    }
    CHECK_RC(virtwire_tls_make_channel(afd, bufsize != 0, sc, server), 0);
    CHECK_RC(virtwire_tls_channel_new(cc, *client, "127.0.0.1", why, sizeof why, client), 0);
}

/* Both handshakes, driven in turn without blocking.  Returns the client's
 * and the server's results in rc[]. */
static void handshake(virtwire_channel *c, virtwire_channel *s, int rc[2])
{
    virtwire_channel *ch[2] = { c, s };
    rc[0] = rc[1] = 1;
    uint64_t end = vt_now_ms() + 20000;
    while ((rc[0] == 1 || rc[1] == 1) && vt_now_ms() < end) {
        struct pollfd p[2];
        for (int i = 0; i < 2; i++) {
            if (rc[i] == 1)
                rc[i] = virtwire_channel_handshake(ch[i]);
            p[i] = (struct pollfd){ virtwire_channel_fd(ch[i]),
                                    rc[i] == 1 ? virtwire_channel_events(ch[i], POLLIN) : 0, 0 };
        }
        if (rc[0] == 1 || rc[1] == 1)
            poll(p, 2, 100);
    }
}

static void test_handshake(void)
{
    virtwire_tls_creds *sc = creds(VIRTWIRE_TLS_SERVER, "srv", NULL);
    virtwire_tls_creds *cc = creds(VIRTWIRE_TLS_CLIENT, "cli", NULL);
    char want[256];
    snprintf(want, sizeof want, "%s/srv/servercert.pem", pki);
    CHECK_STR(virtwire_tls_creds_path(sc, VIRTWIRE_TLS_FILE_CERT), want);
    snprintf(want, sizeof want, "%s/cli/clientkey.pem", pki);
    CHECK_STR(virtwire_tls_creds_path(cc, VIRTWIRE_TLS_FILE_KEY), want);
    CHECK(virtwire_tls_creds_path(cc, VIRTWIRE_TLS_FILE_CACRL) == NULL); /* none there */
    virtwire_channel *c, *s;
    pair(sc, cc, &c, &s, 0);
    /* The channels hold their own references. */
    virtwire_tls_creds_free(sc);
    virtwire_tls_creds_free(cc);
    CHECK(virtwire_tls_channel_is_tls(c) && virtwire_tls_channel_is_tls(s));
    CHECK(!virtwire_channel_can_pass_fds(c));
    CHECK_STR(virtwire_channel_name(s), "tls");
    CHECK(virtwire_tls_channel_peer_dn(s) == NULL); /* not yet */
    int rc[2];
    handshake(c, s, rc);
    CHECK_RC(rc[0], 0);
    CHECK_RC(rc[1], 0);
    CHECK_STR(virtwire_tls_channel_peer_dn(s), "C=GB,O=virtwire,CN=test client");
    CHECK_STR(virtwire_tls_channel_peer_dn(c), "O=virtwire,CN=localhost");
    CHECK(virtwire_tls_channel_ssf(s) >= 128);
    CHECK_INT(virtwire_tls_channel_ssf(c), virtwire_tls_channel_ssf(s));
    CHECK(virtwire_channel_error_detail(c) == NULL);
    virtwire_channel_free(c);
    virtwire_channel_free(s);
}

/* Writes what is left of out (from *sent) the way a connection does:
 * bytes not taken are offered again, the same ones first. */
static void pump_write(virtwire_channel *ch, const unsigned char *out, size_t n, size_t *sent)
{
    while (*sent < n) {
        /* Chunks of odd sizes in two iovecs: records straddle them. */
        size_t k = n - *sent < 50000 ? n - *sent : 50000;
        size_t half = k / 3;
        struct iovec iov[2] = { { (void *)(out + *sent), half },
                                { (void *)(out + *sent + half), k - half } };
        ssize_t w = virtwire_channel_writev(ch, iov, 2);
        REQUIRE(w >= 0);
        if (w == 0)
            return;
        *sent += (size_t)w;
    }
}

static void pump_read(virtwire_channel *ch, unsigned char *in, size_t n, size_t *got)
{
    while (*got < n) {
        int fd;
        ssize_t r = virtwire_channel_read(ch, in + *got, n - *got, &fd);
        CHECK(fd == -1);
        REQUIRE(r >= 0);
        if (r == 0)
            return;
        *got += (size_t)r;
    }
}

static void test_bulk(void)
{
    virtwire_tls_creds *sc = creds(VIRTWIRE_TLS_SERVER, "srv", NULL);
    virtwire_tls_creds *cc = creds(VIRTWIRE_TLS_CLIENT, "cli", NULL);
    virtwire_channel *c, *s;
    pair(sc, cc, &c, &s, 4096);
    virtwire_tls_creds_free(sc);
    virtwire_tls_creds_free(cc);
    int rc[2];
    handshake(c, s, rc);
    REQUIRE(rc[0] == 0 && rc[1] == 0);
    size_t n = 4u << 20;
    unsigned char *a = malloc(n), *b = malloc(n), *ra = malloc(n), *rb = malloc(n);
    REQUIRE(a && b && ra && rb);
    for (size_t i = 0; i < n; i++) {
        a[i] = (unsigned char)(i * 7 + (i >> 13));
        b[i] = (unsigned char)(i * 13 + (i >> 11));
    }
    size_t sa = 0, sb = 0, ga = 0, gb = 0;
    uint64_t end = vt_now_ms() + 60000;
    while ((ga < n || gb < n) && vt_now_ms() < end) {
        pump_write(c, a, n, &sa);
        pump_write(s, b, n, &sb);
        pump_read(s, ra, n, &ga);
        pump_read(c, rb, n, &gb);
        struct pollfd p[2] = {
            { virtwire_channel_fd(c), (short)(POLLIN | (sa < n ? POLLOUT : 0)), 0 },
            { virtwire_channel_fd(s), (short)(POLLIN | (sb < n ? POLLOUT : 0)), 0 },
        };
        poll(p, 2, 100);
    }
    CHECK_MSG(ga == n && gb == n, "sent %zu %zu got %zu %zu", sa, sb, ga, gb);
    CHECK(memcmp(a, ra, n) == 0);
    CHECK(memcmp(b, rb, n) == 0);
    /* The end: the server goes, the client reads the end of the stream. */
    virtwire_channel_free(s);
    int fd;
    unsigned char x;
    ssize_t r = 0;
    for (int i = 0; i < 100 && r == 0; i++) {
        r = virtwire_channel_read(c, &x, 1, &fd);
        if (r == 0)
            vt_sleep_ms(10);
    }
    CHECK_RC(r, VIRTWIRE_ECLOSED);
    free(a);
    free(b);
    free(ra);
    free(rb);
    virtwire_channel_free(c);
}

static void test_handshake_timeout(void)
{
    virtwire_tls_options o = { .size = sizeof o, .handshake_timeout_ms = 200 };
    virtwire_tls_creds *sc = creds(VIRTWIRE_TLS_SERVER, "srv", &o);
    int port;
    int lfd = listen_any(&port);
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(cfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    int afd = vt_accept(lfd, 5000);
    close(lfd);
    virtwire_channel *s;
    CHECK_RC(virtwire_tls_make_channel(afd, 0, sc, &s), 0);
    virtwire_tls_creds_free(sc);
    uint64_t t0 = vt_now_ms();
    int rc = 1;
    while (rc == 1 && vt_now_ms() - t0 < 5000) {
        rc = virtwire_channel_handshake(s);
        vt_sleep_ms(20);
    }
    CHECK_RC(rc, VIRTWIRE_ETIMEDOUT);
    CHECK(vt_now_ms() - t0 >= 200);
    CHECK_STR(virtwire_channel_error_detail(s), "TLS handshake timed out after 200 ms");
    CHECK_RC(virtwire_channel_handshake(s), VIRTWIRE_ETIMEDOUT); /* sticky */
    virtwire_channel_free(s);
    close(cfd);
}

static void test_misuse(void)
{
    virtwire_tls_creds *c = NULL;
    char why[256];
    virtwire_tls_options bad = { .size = 3 };
    CHECK_RC(virtwire_tls_creds_new(VIRTWIRE_TLS_CLIENT, &bad, why, sizeof why, &c),
             VIRTWIRE_EINVAL);
    CHECK(c == NULL);
    CHECK_RC(virtwire_tls_creds_new((virtwire_tls_role)7, NULL, why, sizeof why, &c),
             VIRTWIRE_EINVAL);
    virtwire_tls_options neg = { .size = sizeof neg, .handshake_timeout_ms = -1 };
    CHECK_RC(virtwire_tls_creds_new(VIRTWIRE_TLS_SERVER, &neg, why, sizeof why, &c),
             VIRTWIRE_EINVAL);
    /* A server needs its certificate; libvirt's words. */
    char dir[256];
    snprintf(dir, sizeof dir, "%s/cli", pki);
    virtwire_tls_options o = { .size = sizeof o, .pkipath = dir };
    CHECK_RC(virtwire_tls_creds_new(VIRTWIRE_TLS_SERVER, &o, why, sizeof why, &c), VIRTWIRE_EIO);
    char want[512];
    snprintf(want, sizeof want, "Cannot read certificate '%s/servercert.pem': No such file or "
             "directory", dir);
    CHECK_STR(why, want);
    /* Explicit files: only those. */
    char ca[256], cert[256], key[256];
    snprintf(ca, sizeof ca, "%s/ca/cacert.pem", pki);
    snprintf(cert, sizeof cert, "%s/server/servercert.pem", pki);
    snprintf(key, sizeof key, "%s/server/serverkey.pem", pki);
    virtwire_tls_options ex = { .size = sizeof ex, .cacert = ca, .cert = cert, .key = key,
                                .pkipath = "/nonexistent" };
    CHECK_RC(virtwire_tls_creds_new(VIRTWIRE_TLS_SERVER, &ex, why, sizeof why, &c), 0);
    CHECK_STR(virtwire_tls_creds_path(c, VIRTWIRE_TLS_FILE_CACERT), ca);
    CHECK(virtwire_tls_creds_path(c, VIRTWIRE_TLS_FILE_CACRL) == NULL);
    virtwire_tls_creds_free(c);
    /* A key that is not the certificate's. */
    snprintf(key, sizeof key, "%s/client/clientkey.pem", pki);
    CHECK_RC(virtwire_tls_creds_new(VIRTWIRE_TLS_SERVER, &ex, why, sizeof why, &c),
             VIRTWIRE_EINVAL);
    CHECK_MSG(strncmp(why, "Unable to set x509 key and certificate: ", 40) == 0, "%s", why);
    /* A channel that is not TLS. */
    int sv[2];
    REQUIRE(vt_socketpair(sv, 0) == 0);
    virtwire_channel *plain;
    CHECK_RC(virtwire_channel_socket_new(sv[0], 1, &plain), 0);
    CHECK(!virtwire_tls_channel_is_tls(plain));
    CHECK(virtwire_tls_channel_peer_dn(plain) == NULL);
    CHECK_INT(virtwire_tls_channel_ssf(plain), 0);
    CHECK_RC(virtwire_tls_channel_new(NULL, plain, NULL, why, sizeof why, &plain),
             VIRTWIRE_EINVAL); /* the inner channel is freed */
    close(sv[1]);
    CHECK_RC(virtwire_tls_make_channel(-1, 0, NULL, &plain), VIRTWIRE_EINVAL);
    CHECK(!virtwire_tls_dn_match("x", NULL));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MAKE_PKI\n", argv[0]);
        return 2;
    }
    vt_make_pki(argv[1], pki, sizeof pki);
    int fds = vt_count_fds(0);
    test_handshake();
    test_bulk();
    test_handshake_timeout();
    test_misuse();
    CHECK_INT(vt_count_fds(0), fds);
    vt_pki_remove(pki);
    return vt_finish("tls.channel");
}
