/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The benchmark's floor backend: the least a client can do for one
 * synchronous call.  Each call's frame is encoded once, in advance; a call
 * is one write() of it on a blocking unix socket, then poll() for POLLIN and
 * read() until the reply frame is in, whose header alone is checked.  The
 * wait is in poll(), not in a blocking read(): on a unix socket a reader
 * blocked in read() is also woken when the daemon takes the request off
 * the socket (the writer's room changes), so it would block twice per
 * call where poll() for POLLIN blocks once.  No locking, no
 * decoding, no event loop: no real client spends less CPU per call, so
 * this measures what the machine charges for a round trip through the
 * daemon (mostly the blocking wait and its wake-up).  Sequential
 * lib_version and get_info only.
 *
 * Built with BENCH_SASL (bench_rpc_floor_sasl), the same over TCP with
 * DIGEST-MD5's security layer, Cyrus SASL called directly: the
 * authentication as libvirt runs it (credentials from auth.conf), then per
 * call one sasl_encode() of the frame, one write(), poll() and read()s of
 * whole packets and one sasl_decode() each.  That is the least any client
 * can spend on a call with the layer on: libsasl2's own cost and the round
 * trip.
 *
 * Over TLS (+tls URIs, with libvirtwire_tls): the same through a TLS
 * channel on a blocking TCP socket, one record each way per call, so
 * that it measures the round trip plus what TLS itself costs.  There the
 * channel's blocking read waits: TLS may hold decrypted bytes that poll()
 * does not see, and a TCP reader is not woken by the peer's reading.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"
#include "remote_protocol.h"
#include "virnetprotocol.h"
#include "virtwire_uri.h"
#ifdef BENCH_SASL
#include <netdb.h>
#include <sasl/sasl.h>

#include "virtwire_sasl.h"
#endif
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
#ifdef BENCH_SASL
    sasl_conn_t *sasl; /* once authenticated: every byte through its layer */
    unsigned char rx[4 + 65536]; /* received, not decoded yet */
    size_t rx_len;
#endif
};

#ifdef BENCH_SASL
static long round_trip_sasl(bench_conn *c);
#endif

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

/* Blocks until fd has bytes to read (or the peer is gone): 0 or -1. */
static int wait_in(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    for (;;) {
        int r = poll(&pfd, 1, -1);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

/* One read: after poll() on the socket, or the TLS channel's own blocking
 * read. */
static ssize_t get(bench_conn *c, void *p, size_t n)
{
#ifdef VIRTWIRE_HAVE_TLS
    if (c->tls) {
        int fd;
        ssize_t k = virtwire_channel_read(c->tls, p, n, &fd);
        return k < 0 ? -1 : k == 0 ? (errno = EINTR, -1) : k;
    }
#endif
    if (wait_in(c->fd) < 0)
        return -1;
    return read(c->fd, p, n);
}

/* Sends c->call with the next serial and reads the reply frame into
 * c->reply.  Returns the reply's payload length, or -1. */
static long round_trip(bench_conn *c)
{
#ifdef BENCH_SASL
    if (c->sasl)
        return round_trip_sasl(c);
#endif
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

#ifdef BENCH_SASL
/* Checks the reply frame now whole in c->reply (need bytes). */
static long check_reply(bench_conn *c, size_t need)
{
    uint32_t type, rserial, status;
    memcpy(&type, c->reply + 16, 4);
    memcpy(&rserial, c->reply + 20, 4);
    memcpy(&status, c->reply + 24, 4);
    if (ntohl(type) != VIR_NET_REPLY || ntohl(rserial) != c->serial || ntohl(status) != VIR_NET_OK)
        return -1;
    return (long)(need - 28);
}

static long round_trip_sasl(bench_conn *c)
{
    uint32_t serial = htonl(++c->serial);
    memcpy(c->call + 20, &serial, 4);
    const char *enc = NULL;
    unsigned enc_len = 0;
    if (sasl_encode(c->sasl, (const char *)c->call, (unsigned)c->call_len, &enc, &enc_len) !=
            SASL_OK ||
        write(c->fd, enc, enc_len) != (ssize_t)enc_len)
        return -1;
    size_t have = 0, need = 4;
    while (have < need) {
        uint32_t plen = 0;
        while (c->rx_len < 4 || c->rx_len < 4 + (plen = ntohl(*(uint32_t *)(void *)c->rx))) {
            if (c->rx_len >= 4 && (plen == 0 || plen > sizeof c->rx - 4))
                return -1;
            if (wait_in(c->fd) < 0)
                return -1;
            ssize_t n = read(c->fd, c->rx + c->rx_len, sizeof c->rx - c->rx_len);
            if (n <= 0) {
                if (n < 0 && errno == EINTR)
                    continue;
                return -1;
            }
            c->rx_len += (size_t)n;
        }
        const char *out = NULL;
        unsigned out_len = 0;
        if (sasl_decode(c->sasl, (const char *)c->rx, 4 + plen, &out, &out_len) != SASL_OK ||
            out_len > FRAME_MAX - have)
            return -1;
        memmove(c->rx, c->rx + 4 + plen, c->rx_len - 4 - plen);
        c->rx_len -= 4 + plen;
        memcpy(c->reply + have, out, out_len);
        have += out_len;
        if (need == 4 && have >= 4) {
            uint32_t l;
            memcpy(&l, c->reply, 4);
            need = ntohl(l);
            if (need < 28 || need > FRAME_MAX || have > need)
                return -1;
        }
    }
    return check_reply(c, need);
}

/* One call of the authentication, in the clear: args of type at, the reply
 * decoded with rt into ret (in a). */
static int auth_call(bench_conn *c, int32_t proc, const virtwire_type *at, const void *args,
                     const virtwire_type *rt, void *ret, virtwire_arena *a)
{
    long n;
    if (build(c, proc, at, args) < 0 || (n = round_trip(c)) < 0)
        return -1;
    return virtwire_decode(rt, c->reply + 28, (size_t)n, a, ret) < 0 ? -1 : 0;
}

/* "IP;port" of one end of fd. */
static void sasl_addr(int fd, int peer, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[1025] = "", port[32] = ""; /* NI_MAXHOST, NI_MAXSERV */
    if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &sl)
              : getsockname(fd, (struct sockaddr *)&ss, &sl)) == 0)
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(buf, len, "%s;%s", host, port);
}

static void answer(sasl_interact_t *need, const char *user, const char *pass)
{
    for (sasl_interact_t *i = need; i->id != SASL_CB_LIST_END; i++) {
        i->result = i->id == SASL_CB_PASS ? pass : i->id == SASL_CB_AUTHNAME ? user : "";
        i->len = (unsigned)strlen(i->result);
    }
}

/* TCP to the URI's host and port, then DIGEST-MD5 as libvirt's client
 * runs it, credentials from auth.conf.  0 or -1. */
static int open_sasl(bench_conn *c, const virtwire_uri *u)
{
    char *conf_path = NULL;
    virtwire_auth_config *conf = NULL;
    const char *user = NULL, *pass = NULL;
    if (virtwire_auth_config_path(u, &conf_path) < 0 || !conf_path ||
        virtwire_auth_config_load(conf_path, &conf, NULL, 0) < 0 ||
        virtwire_auth_config_lookup(conf, "libvirt", u->host, "authname", &user, NULL, 0) < 0 ||
        virtwire_auth_config_lookup(conf, "libvirt", u->host, "password", &pass, NULL, 0) < 0 ||
        !user || !pass) {
        fprintf(stderr, "floor: no credentials in auth.conf (LIBVIRT_AUTH_FILE)\n");
        free(conf_path);
        virtwire_auth_config_free(conf);
        return -1;
    }
    free(conf_path);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", u->port ? u->port : 16509);
    int rc = -1;
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    sasl_interact_t *need = NULL;
    const char *out = NULL, *mech = NULL;
    unsigned out_len = 0;
    int err;
    static sasl_callback_t cbs[] = { { SASL_CB_AUTHNAME, NULL, NULL },
                                     { SASL_CB_PASS, NULL, NULL },
                                     { SASL_CB_LIST_END, NULL, NULL } };
    char la[1060], ra[1060];
    remote_auth_sasl_init_ret ir;
    if (getaddrinfo(u->host, port, &hints, &ai) != 0)
        goto out;
    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0)
        goto out;
    sasl_addr(c->fd, 0, la, sizeof la);
    sasl_addr(c->fd, 1, ra, sizeof ra);
    sasl_conn_t *conn = NULL;
    sasl_security_properties_t sp = { .min_ssf = 56, .max_ssf = 100000, .maxbufsize = 65536,
                                      .security_flags = SASL_SEC_NOANONYMOUS |
                                                        SASL_SEC_NOPLAINTEXT };
    if (sasl_client_init(NULL) != SASL_OK ||
        sasl_client_new("libvirt", u->host, la, ra, cbs, 0, &conn) != SASL_OK ||
        sasl_setprop(conn, SASL_SEC_PROPS, &sp) != SASL_OK ||
        auth_call(c, REMOTE_PROC_AUTH_SASL_INIT, NULL, NULL, &remote_auth_sasl_init_ret_desc, &ir,
                  &a) < 0)
        goto fail;
    while ((err = sasl_client_start(conn, ir.mechlist, &need, &out, &out_len, &mech)) ==
           SASL_INTERACT)
        answer(need, user, pass);
    if (err != SASL_OK && err != SASL_CONTINUE)
        goto fail;
    remote_auth_sasl_start_args sa = { .mech = (char *)mech, .nil = out ? 0 : 1,
                                       .data = { out_len, (char *)out } };
    remote_auth_sasl_start_ret sr;
    if (auth_call(c, REMOTE_PROC_AUTH_SASL_START, &remote_auth_sasl_start_args_desc, &sa,
                  &remote_auth_sasl_start_ret_desc, &sr, &a) < 0)
        goto fail;
    int complete = sr.complete;
    const char *in = sr.nil ? NULL : sr.data.data_val;
    unsigned in_len = sr.data.data_len;
    for (int steps = 0; steps < 8; steps++) {
        while ((err = sasl_client_step(conn, in, in_len, &need, &out, &out_len)) ==
               SASL_INTERACT)
            answer(need, user, pass);
        if (err != SASL_OK && err != SASL_CONTINUE)
            goto fail;
        if (complete && err == SASL_OK)
            break;
        remote_auth_sasl_step_args ta = { .nil = out ? 0 : 1, .data = { out_len, (char *)out } };
        remote_auth_sasl_step_ret tr;
        if (auth_call(c, REMOTE_PROC_AUTH_SASL_STEP, &remote_auth_sasl_step_args_desc, &ta,
                      &remote_auth_sasl_step_ret_desc, &tr, &a) < 0)
            goto fail;
        complete = tr.complete;
        in = tr.nil ? NULL : tr.data.data_val;
        in_len = tr.data.data_len;
        if (complete && err == SASL_OK)
            break;
    }
    if (!complete || err != SASL_OK)
        goto fail;
    c->sasl = conn; /* the layer is on from here */
    rc = 0;
    goto out;
fail:
    if (conn)
        sasl_dispose(&conn);
out:
    if (ai)
        freeaddrinfo(ai);
    virtwire_arena_fini(&a);
    virtwire_auth_config_free(conf); /* after the last use of user and pass */
    return rc;
}
#endif

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
    if (c)
        c->fd = -1;
    if (!c || virtwire_uri_parse(uri, &u) < 0 || !(name = virtwire_uri_open_name(u)))
        goto fail;
#ifdef BENCH_SASL
    (void)sa;
    if (open_sasl(c, u) < 0)
        goto fail;
#else
#ifdef VIRTWIRE_HAVE_TLS
    if (u->transport == VIRTWIRE_URI_TRANSPORT_TLS) {
        if (open_tls(c, u) < 0)
            goto fail;
    } else
#endif
    {
        if (virtwire_uri_socket_path(u, 0, sa.sun_path, sizeof sa.sun_path) < 0)
            goto fail;
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            goto fail;
    }
#endif
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
    if (c && c->fd >= 0)
        close(c->fd);
#ifdef BENCH_SASL
    if (c && c->sasl)
        sasl_dispose(&c->sasl);
#endif
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
#ifdef BENCH_SASL
    sasl_dispose(&c->sasl);
#endif
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
