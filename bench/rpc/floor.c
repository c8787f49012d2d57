/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The benchmark's floor backend: the least a client can do for one
 * synchronous call.  Each call's frame is encoded once, in advance; a call
 * is one write() of it on a blocking unix socket and blocking read()s until
 * the reply frame is in, whose header alone is checked.  No locking, no
 * decoding, no event loop: no real client spends less CPU per call, so
 * this measures what the machine charges for a round trip through the
 * daemon (mostly the blocking wait and its wake-up).  Sequential
 * lib_version and get_info only.
 *
 * Over TLS (+tls URIs, with libvirtwire_tls): the same through a TLS
 * channel on a blocking TCP socket, one record each way per call, so
 * that it measures the round trip plus what TLS itself costs.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"
#include "remote_protocol.h"
#include "virnetprotocol.h"
#include "virtwire_uri.h"
#ifdef VIRTWIRE_HAVE_TLS
#include <fcntl.h>

#include "virtwire_tls.h"
#endif

const char bench_backend[] = "floor";

#define FRAME_MAX 4096

struct bench_conn {
    int fd;
    virtwire_channel *tls; /* over TLS: the channel (fd is its socket) */
    uint32_t serial;
    unsigned char call[FRAME_MAX]; /* the workload's CALL frame */
    size_t call_len;
    unsigned char reply[FRAME_MAX];
};

struct bench_thread {
    int unused;
};

/* Builds a CALL frame of procedure proc with payload t/v into c->call. */
static int build(bench_conn *c, int32_t proc, const virtwire_type *t, const void *v)
{
    size_t len = 0;
    if (t && virtwire_encode(t, v, c->call + 28, FRAME_MAX - 28, &len) < 0)
        return -1;
    uint32_t h[7] = { htonl((uint32_t)(28 + len)), htonl(REMOTE_PROGRAM),
                      htonl(REMOTE_PROTOCOL_VERSION), htonl((uint32_t)proc),
                      htonl(VIR_NET_CALL), 0, htonl(VIR_NET_OK) };
    memcpy(c->call, h, sizeof h);
    c->call_len = 28 + len;
    return 0;
}

/* One write, one read: on the socket, or through the TLS channel over the
 * blocking socket (one record each way). */
static ssize_t put(bench_conn *c, const void *p, size_t n)
{
#ifdef VIRTWIRE_HAVE_TLS
    if (c->tls) {
        struct iovec iov = { (void *)p, n };
        return virtwire_channel_writev(c->tls, &iov, 1);
    }
#endif
    return write(c->fd, p, n);
}

static ssize_t get(bench_conn *c, void *p, size_t n)
{
#ifdef VIRTWIRE_HAVE_TLS
    if (c->tls) {
        int fd;
        ssize_t k = virtwire_channel_read(c->tls, p, n, &fd);
        return k < 0 ? -1 : k == 0 ? (errno = EINTR, -1) : k;
    }
#endif
    return read(c->fd, p, n);
}

/* Sends c->call with the next serial and reads the reply frame into
 * c->reply.  Returns the reply's payload length, or -1. */
static long round_trip(bench_conn *c)
{
    uint32_t serial = htonl(++c->serial);
    memcpy(c->call + 20, &serial, 4);
    if (put(c, c->call, c->call_len) != (ssize_t)c->call_len)
        return -1;
    size_t have = 0, need = 4;
    while (have < need) {
        ssize_t n = get(c, c->reply + have, FRAME_MAX - have);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return -1;
        }
        have += (size_t)n;
        if (need == 4 && have >= 4) {
            uint32_t l;
            memcpy(&l, c->reply, 4);
            need = ntohl(l);
            if (need < 28 || need > FRAME_MAX)
                return -1;
        }
    }
    uint32_t type, rserial, status;
    memcpy(&type, c->reply + 16, 4);
    memcpy(&rserial, c->reply + 20, 4);
    memcpy(&status, c->reply + 24, 4);
    if (ntohl(type) != VIR_NET_REPLY || rserial != serial || ntohl(status) != VIR_NET_OK)
        return -1;
    return (long)(need - 28);
}

#ifdef VIRTWIRE_HAVE_TLS
/* A TLS channel to the URI's daemon, its socket made blocking once the
 * handshake is done.  0 or -1. */
static int open_tls(bench_conn *c, const virtwire_uri *u)
{
    virtwire_tls_options o = { .size = sizeof o, .pkipath = u->remote.pkipath };
    virtwire_tls_creds *creds;
    virtwire_channel *sock;
    char why[1024];
    if (virtwire_tls_creds_new(VIRTWIRE_TLS_CLIENT, &o, why, sizeof why, &creds) < 0)
        return -1;
    int rc = virtwire_channel_connect_tcp(virtwire_uri_connect_host(u), virtwire_uri_tcp_port(u),
                                          why, sizeof why, &sock);
    if (rc == 0)
        rc = virtwire_tls_channel_new(creds, sock, virtwire_uri_connect_host(u), why,
                                      sizeof why, &c->tls);
    virtwire_tls_creds_free(creds);
    if (rc < 0)
        return -1;
    c->fd = virtwire_channel_fd(c->tls);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
    while ((rc = virtwire_channel_handshake(c->tls)) == 1)
        ;
    return rc;
}
#endif

bench_conn *bench_open(const char *uri)
{
    virtwire_uri *u = NULL;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char *name = NULL;
    bench_conn *c = calloc(1, sizeof *c);
    if (!c || virtwire_uri_parse(uri, &u) < 0 || !(name = virtwire_uri_open_name(u)))
        goto fail;
#ifdef VIRTWIRE_HAVE_TLS
    if (u->transport == VIRTWIRE_URI_TRANSPORT_TLS) {
        if (open_tls(c, u) < 0)
            goto fail;
    } else
#endif
    {
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0 || virtwire_uri_socket_path(u, 0, sa.sun_path, sizeof sa.sun_path) < 0 ||
            connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            goto fail;
    }
    remote_connect_open_args a = { .name = &name, .flags = 0 };
    if (build(c, REMOTE_PROC_CONNECT_OPEN, &remote_connect_open_args_desc, &a) < 0 ||
        round_trip(c) < 0)
        goto fail;
    free(name);
    virtwire_uri_free(u);
    return c;
fail:
    fprintf(stderr, "floor: cannot open %s\n", uri);
    free(name);
    virtwire_uri_free(u);
#ifdef VIRTWIRE_HAVE_TLS
    if (c && c->tls) {
        virtwire_channel_free(c->tls);
        c->fd = -1;
    }
#endif
    if (c && c->fd > 0)
        close(c->fd);
    free(c);
    return NULL;
}

void bench_close(bench_conn *c)
{
#ifdef VIRTWIRE_HAVE_TLS
    if (c->tls)
        virtwire_channel_free(c->tls); /* closes the socket */
    else
#endif
        close(c->fd); /* the daemon cleans up after a client that goes away */
    free(c);
}

int bench_prepare(bench_conn *c, enum bench_workload w)
{
    if (w == W_LIB_VERSION)
        return build(c, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL, NULL);
    if (w != W_GET_INFO) {
        fprintf(stderr, "floor: lib_version and get_info only\n");
        return -1;
    }
    remote_domain_lookup_by_name_args a = { .name = "test" };
    remote_domain_lookup_by_name_ret r;
    virtwire_arena arena;
    virtwire_arena_init(&arena);
    long n;
    int rc = -1;
    if (build(c, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, &remote_domain_lookup_by_name_args_desc,
              &a) == 0 &&
        (n = round_trip(c)) >= 0 &&
        virtwire_decode(&remote_domain_lookup_by_name_ret_desc, c->reply + 28, (size_t)n,
                        &arena, &r) == 0) {
        remote_domain_get_info_args g = { .dom = r.dom };
        rc = build(c, REMOTE_PROC_DOMAIN_GET_INFO, &remote_domain_get_info_args_desc, &g);
    }
    virtwire_arena_fini(&arena);
    return rc;
}

bench_thread *bench_thread_new(void)
{
    return calloc(1, sizeof(bench_thread));
}

void bench_thread_free(bench_thread *t)
{
    free(t);
}

int bench_call(bench_conn *c, bench_thread *t, enum bench_workload w, const char *uri)
{
    (void)t;
    (void)w;
    (void)uri;
    return round_trip(c) < 0 ? -1 : 0;
}

long bench_pipeline(bench_conn *c, enum bench_workload w, int window,
                    const struct timespec *deadline, bench_samples *s)
{
    (void)c, (void)w, (void)window, (void)deadline, (void)s;
    return -2;
}

int bench_hold(const char *uri, int n)
{
    (void)uri, (void)n;
    return 2;
}
