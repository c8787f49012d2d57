/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What TLS itself costs per call, the part no client can avoid: frames
 * the size of CONNECT_GET_LIB_VERSION's call (28 bytes) and reply (36
 * bytes) sent through a pair of libvirtwire_tls channels over a unix
 * socketpair in one thread, each frame written by one end and read by the
 * other, then the same through plain socket channels.  The difference per
 * frame is GnuTLS's record cost (encrypt and decrypt, AES-GCM as the
 * priority string negotiates) plus our channel's bookkeeping; a call over
 * TLS pays it twice on each side of the connection, one record each way.
 *
 * It also measures what a connection's setup costs a client before any
 * call: making its credentials as libvirt does (reading and checking the
 * files) and the client's side of a handshake, against a server in a
 * child process (its CPU not counted).
 *
 *   bench_rpc_tls_record PKIDIR [FRAMES]
 *
 * PKIDIR holds srv/ and cli/ as tests/lib/make-pki writes them.  Prints
 * "tls_us=<CPU per frame, both ends> plain_us=<the same, plain>
 * frames=<n> creds_us=<client CPU per credentials> handshake_us=<client
 * CPU per handshake>".
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "virtwire_tls.h"

static double cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int die(const char *what)
{
    fprintf(stderr, "bench_rpc_tls_record: %s\n", what);
    exit(1);
}

/* Writes n bytes on w, reads them on r (as a connection does: read until
 * the channel says it is empty). */
static void one(virtwire_channel *w, virtwire_channel *r, const unsigned char *frame, size_t n)
{
    struct iovec iov = { (void *)frame, n };
    if (virtwire_channel_writev(w, &iov, 1) != (ssize_t)n)
        die("short write");
    unsigned char buf[4096];
    size_t got = 0;
    while (got < n) {
        int fd;
        ssize_t k = virtwire_channel_read(r, buf, sizeof buf, &fd);
        if (k < 0)
            die("read failed");
        if (k == 0) {
            struct pollfd p = { virtwire_channel_fd(r), POLLIN, 0 };
            poll(&p, 1, 1000);
        }
        got += k > 0 ? (size_t)k : 0;
    }
    int fd;
    if (virtwire_channel_read(r, buf, sizeof buf, &fd) != 0) /* the empty read */
        die("unexpected bytes");
}

static double run(virtwire_channel *c, virtwire_channel *s, long frames)
{
    unsigned char call[28] = { 0, 0, 0, 28 }, reply[36] = { 0, 0, 0, 36 };
    for (long i = 0; i < 1000; i++) { /* warm-up */
        one(c, s, call, sizeof call);
        one(s, c, reply, sizeof reply);
    }
    double t0 = cpu_us();
    for (long i = 0; i < frames; i++) {
        one(c, s, call, sizeof call);
        one(s, c, reply, sizeof reply);
    }
    return (cpu_us() - t0) / (2.0 * (double)frames);
}

/* Drives one channel's handshake to its end (blocking on poll). */
static void shake(virtwire_channel *ch)
{
    int rc;
    while ((rc = virtwire_channel_handshake(ch)) == 1) {
        struct pollfd p = { virtwire_channel_fd(ch), virtwire_channel_events(ch, POLLIN), 0 };
        poll(&p, 1, 1000);
    }
    if (rc < 0)
        die(virtwire_channel_error_detail(ch));
}

/* The client's CPU per credentials and per handshake (n of each). */
static void setup_cost(const char *cli, const char *srv, int n, double *creds_us,
                       double *hs_us)
{
    char why[1024];
    virtwire_tls_options o = { .size = sizeof o, .pkipath = cli };
    virtwire_tls_creds *cc = NULL;
    double t0 = cpu_us();
    for (int i = 0; i < n; i++) {
        virtwire_tls_creds_free(cc);
        if (virtwire_tls_creds_new(VIRTWIRE_TLS_CLIENT, &o, why, sizeof why, &cc) < 0)
            die(why);
    }
    *creds_us = (cpu_us() - t0) / n;
    /* One connection per handshake, made before the server forks. */
    int (*sv)[2] = calloc((size_t)n, sizeof *sv);
    if (!sv)
        die("out of memory");
    for (int i = 0; i < n; i++)
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]) < 0)
            die("socketpair");
    pid_t pid = fork();
    if (pid == 0) {
        /* The server: a handshake on each. */
        virtwire_tls_options so = { .size = sizeof so, .pkipath = srv };
        virtwire_tls_creds *sc;
        if (virtwire_tls_creds_new(VIRTWIRE_TLS_SERVER, &so, why, sizeof why, &sc) < 0)
            _exit(1);
        for (int i = 0; i < n; i++) {
            close(sv[i][0]);
            virtwire_channel *s;
            if (virtwire_tls_make_channel(sv[i][1], 0, sc, &s) < 0)
                _exit(1);
            shake(s);
            virtwire_channel_free(s);
        }
        _exit(0);
    }
    double total = 0;
    for (int i = 0; i < n; i++) {
        close(sv[i][1]);
        virtwire_channel *sock, *c;
        if (virtwire_channel_socket_new(sv[i][0], 0, &sock) < 0 ||
            virtwire_tls_channel_new(cc, sock, "localhost", why, sizeof why, &c) < 0)
            die("client channel");
        double a = cpu_us();
        shake(c);
        total += cpu_us() - a;
        virtwire_channel_free(c);
    }
    free(sv);
    int st;
    waitpid(pid, &st, 0);
    *hs_us = total / n;
    virtwire_tls_creds_free(cc);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: bench_rpc_tls_record PKIDIR [FRAMES]");
    long frames = argc > 2 ? atol(argv[2]) : 100000;
    char dir[2][512], why[1024];
    virtwire_tls_creds *cr[2];
    snprintf(dir[0], sizeof dir[0], "%s/cli", argv[1]);
    snprintf(dir[1], sizeof dir[1], "%s/srv", argv[1]);
    for (int r = 0; r < 2; r++) {
        virtwire_tls_options o = { .size = sizeof o, .pkipath = dir[r] };
        if (virtwire_tls_creds_new((virtwire_tls_role)r, &o, why, sizeof why, &cr[r]) < 0)
            die(why);
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        die("socketpair");
    virtwire_channel *sock, *c, *s;
    if (virtwire_channel_socket_new(sv[0], 0, &sock) < 0 ||
        virtwire_tls_channel_new(cr[0], sock, "localhost", why, sizeof why, &c) < 0 ||
        virtwire_tls_make_channel(sv[1], 0, cr[1], &s) < 0)
        die("channels");
    int rc[2] = { 1, 1 };
    while (rc[0] == 1 || rc[1] == 1) {
        if (rc[0] == 1)
            rc[0] = virtwire_channel_handshake(c);
        if (rc[1] == 1)
            rc[1] = virtwire_channel_handshake(s);
        if (rc[0] < 0 || rc[1] < 0)
            die(virtwire_channel_error_detail(rc[0] < 0 ? c : s));
    }
    double tls = run(c, s, frames);
    virtwire_channel_free(c);
    virtwire_channel_free(s);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
        virtwire_channel_socket_new(sv[0], 0, &c) < 0 ||
        virtwire_channel_socket_new(sv[1], 0, &s) < 0)
        die("plain channels");
    double plain = run(c, s, frames);
    virtwire_channel_free(c);
    virtwire_channel_free(s);
    virtwire_tls_creds_free(cr[0]);
    virtwire_tls_creds_free(cr[1]);
    double creds_us, hs_us;
    setup_cost(dir[0], dir[1], 50, &creds_us, &hs_us);
    printf("tls_us=%.2f plain_us=%.2f frames=%ld creds_us=%.0f handshake_us=%.0f\n", tls, plain,
           frames, creds_us, hs_us);
    return 0;
}
