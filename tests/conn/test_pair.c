/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connections over real sockets, both ends ours (or one end a raw socket
 * written by hand):
 *
 *   test_conn_pair calls    2000 calls and replies, small socket buffers
 *   test_conn_pair stream   8 MiB up and 3 MiB down as stream packets
 *   test_conn_pair fds      fds both ways through pipes, at once and queued
 *   test_conn_pair eof      end of file mid-frame, after a frame, shutdown()
 *   test_conn_pair errors   fds over a non-unix socket, flush timeout,
 *                           connect errors, unsupported URIs
 *   test_conn_pair tcp      calls over a TCP connection (connect + accept)
 *   test_conn_pair keepalive  run_once() sends PINGs to a silent peer and
 *                           ends with VIRTWIRE_EKEEPALIVE
 *   test_conn_pair level    level-triggered reading: the reads a reply
 *                           costs, by channel kind and mode
 *   test_conn_pair calls-level, stream-level, fds-level: calls, stream and
 *                           fds with both ends level-triggered (ct_pump()
 *                           polls: level-triggered)
 *
 * Payloads are made by ct_pattern() from the serial, so each side checks
 * what it received against what the test meant to send, independently of
 * the code under test.  Every group checks that no fd is left open.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn_tlib.h"
#include "vt_fds.h"

#define REMOTE 0x20008086u
#define STREAM_PROC 208
#define TIMEOUT 20000 /* ms: generous for ASan on a loaded machine */

/* The *-level groups: every connection made by side_init() is told its
 * caller polls level-triggered. */
static int level_triggered;

/* One end of a connection and what its callbacks saw. */
typedef struct side {
    virtwire_conn *c;
    virtwire_transport_program *p;
    size_t calls, replies, errors, bad;
    /* Calls: reply automatically (payload: pattern seed serial+1, half the
     * length). */
    int auto_reply;
    /* Stream */
    uint32_t stream_serial;
    uint32_t stream_seed;
    uint64_t stream_bytes;
    size_t stream_eof, stream_finish;
    /* fds taken out of received messages */
    int kept[8];
    size_t nkept;
    /* Last reply payload */
    unsigned char last[64];
    size_t last_len;
} side;

static size_t call_len(uint32_t serial)
{
    return (size_t)(serial * 37u) % 3001u;
}

static int32_t call_proc(uint32_t serial)
{
    return (int32_t)(1 + serial % 50);
}

static void keep_fds(side *s, const virtwire_transport_msg *m)
{
    for (size_t i = 0; i < m->nfds && s->nkept < 8; i++) {
        s->kept[s->nkept++] = m->fds[i];
        m->fds[i] = -1;
    }
}

static int on_call(virtwire_transport_program *p, const virtwire_transport_msg *m, void *o)
{
    side *s = o;
    uint32_t serial = m->hdr.serial;
    if (m->hdr.proc == STREAM_PROC) {
        /* Open the stream and accept the call. */
        s->stream_serial = serial;
        if (virtwire_transport_stream_open(p, STREAM_PROC, serial, 0) < 0)
            s->bad++;
        if (virtwire_transport_send(p, STREAM_PROC, VIR_NET_REPLY, VIR_NET_OK, serial, NULL, 0,
                                    NULL, 0) < 0)
            s->bad++;
        s->calls++;
        return 0;
    }
    keep_fds(s, m);
    if (m->hdr.proc != call_proc(serial) || m->payload_len != call_len(serial) ||
        !ct_matches(m->payload, m->payload_len, serial, 0))
        s->bad++;
    s->calls++;
    if (!s->auto_reply)
        return 0;
    unsigned char buf[1600];
    size_t len = call_len(serial) / 2;
    ct_fill(buf, len, serial + 1, 0);
    if (virtwire_transport_send(p, m->hdr.proc, VIR_NET_REPLY, VIR_NET_OK, serial, buf, len,
                                NULL, 0) != serial)
        s->bad++;
    return 0;
}

static int on_reply(virtwire_transport_program *p, const virtwire_transport_msg *m, void *o)
{
    side *s = o;
    (void)p;
    keep_fds(s, m);
    s->last_len = m->payload_len < sizeof(s->last) ? m->payload_len : sizeof(s->last);
    memcpy(s->last, m->payload, s->last_len);
    s->replies++;
    return 0;
}

static int on_stream(virtwire_transport_program *p, const virtwire_transport_msg *m, void *o)
{
    side *s = o;
    if (m->hdr.status == VIR_NET_CONTINUE && m->payload_len == 0) {
        s->stream_eof = 1;
    } else if (m->hdr.status == VIR_NET_CONTINUE) {
        if (!ct_matches(m->payload, m->payload_len, s->stream_seed, s->stream_bytes))
            s->bad++;
        s->stream_bytes += m->payload_len;
    } else if (m->hdr.status == VIR_NET_OK) {
        s->stream_finish = 1;
        /* The server confirms the client's finish. */
        if (virtwire_transport_get_role(virtwire_transport_program_transport(p)) ==
                VIRTWIRE_TRANSPORT_SERVER &&
            virtwire_transport_stream_finish(p, STREAM_PROC, m->hdr.serial) < 0)
            s->bad++;
    } else {
        s->bad++;
    }
    return 0;
}

static void on_error(virtwire_transport *t, int code, const virNetMessageHeader *hdr, int fatal,
                     void *o)
{
    side *s = o;
    (void)t;
    (void)hdr;
    fprintf(stderr, "on_error %s fatal=%d\n", virtwire_error_name(code), fatal);
    s->errors++;
}

static const virtwire_transport_program_callbacks prog_cbs = {
    .size = sizeof prog_cbs,
    .on_call = on_call, .on_reply = on_reply, .on_stream = on_stream,
};

/* Adopts sock into s, registering the remote program. */
static void side_init(side *s, int sock, int is_unix, virtwire_transport_role role)
{
    memset(s, 0, sizeof(*s));
    virtwire_transport_callbacks cbs = { .size = sizeof cbs, .on_error = on_error };
    CHECK_INT(virtwire_conn_adopt(sock, is_unix, role, &cbs, s, &s->c), 0);
    virtwire_conn_set_level_triggered(s->c, level_triggered);
    CHECK_INT(virtwire_transport_register(virtwire_conn_transport(s->c), REMOTE, 1, &prog_cbs, s,
                                          &s->p),
              0);
}

static void side_fini(side *s)
{
    for (size_t i = 0; i < s->nkept; i++)
        close(s->kept[i]);
    virtwire_conn_free(s->c);
}

/* A connected client/server pair over a unix socketpair. */
static void pair_init(side *cl, side *sv, int bufsize)
{
    int sp[2];
    CHECK_INT(vt_socketpair(sp, 0), 0);
    if (bufsize) {
        vt_bufsize(sp[0], bufsize, bufsize);
        vt_bufsize(sp[1], bufsize, bufsize);
    }
    side_init(cl, sp[0], 1, VIRTWIRE_TRANSPORT_CLIENT);
    side_init(sv, sp[1], 1, VIRTWIRE_TRANSPORT_SERVER);
}

typedef struct wait_n {
    const size_t *counter;
    size_t want;
} wait_n;

static int reached(void *ctx)
{
    wait_n *w = ctx;
    return *w->counter >= w->want;
}

static int pump_until(side *a, side *b, const size_t *counter, size_t want)
{
    virtwire_conn *cs[2] = { a->c, b->c };
    wait_n w = { counter, want };
    return ct_pump(cs, 2, reached, &w, TIMEOUT);
}

static int64_t send_call(side *s, uint32_t expect_serial, const int *fds, size_t nfds)
{
    size_t len = call_len(expect_serial);
    unsigned char *buf = malloc(len + 1);
    ct_fill(buf, len, expect_serial, 0);
    int64_t serial = virtwire_transport_send(s->p, call_proc(expect_serial),
                                             nfds ? VIR_NET_CALL_WITH_FDS : VIR_NET_CALL,
                                             VIR_NET_OK, 0, buf, len, fds, nfds);
    free(buf);
    return serial;
}

/* ------------------------------------------------------------------------ */

static void test_calls(void)
{
    enum { N = 2000 };
    side cl, sv;
    pair_init(&cl, &sv, 4096);
    sv.auto_reply = 1;
    /* Everything is sent before the server reads anything: most of it
     * waits in the client's queue. */
    for (uint32_t i = 0; i < N; i++)
        CHECK_INT(send_call(&cl, i, NULL, 0), i);
    CHECK(virtwire_conn_pending_output(cl.c) > 100000);
    CHECK(virtwire_conn_events(cl.c) & POLLOUT);
    CHECK(virtwire_conn_events(cl.c) & POLLIN);
    CHECK_INT(pump_until(&cl, &sv, &cl.replies, N), 0);
    CHECK_INT(sv.calls, N);
    CHECK_INT(cl.replies, N);
    CHECK_INT(sv.bad + cl.bad, 0);
    CHECK_INT(sv.errors + cl.errors, 0);
    CHECK_INT(virtwire_conn_pending_output(cl.c), 0);
    CHECK_INT(virtwire_conn_pending_output(sv.c), 0);
    CHECK_INT(virtwire_conn_events(cl.c), POLLIN);
    /* The last reply's payload: pattern serial N, (call_len(N-1))/2 bytes. */
    size_t want = call_len(N - 1) / 2;
    if (want > sizeof(cl.last))
        want = sizeof(cl.last);
    CHECK_INT(cl.last_len, want);
    CHECK(ct_matches(cl.last, cl.last_len, N, 0));
    side_fini(&cl);
    side_fini(&sv);
}

/* Sends total bytes of pattern seed as stream data from s, in 1 MiB
 * chunks, draining the queue in between as a careful sender would.
 * Returns the largest queue seen. */
static size_t stream_upload(side *s, side *peer, uint32_t seed, size_t total)
{
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(CHUNK);
    size_t max_pending = 0;
    for (size_t off = 0; off < total; off += CHUNK) {
        size_t n = total - off < CHUNK ? total - off : CHUNK;
        ct_fill(buf, n, seed, off);
        CHECK_INT(virtwire_transport_stream_send_data(s->p, STREAM_PROC, s->stream_serial, buf, n),
                  0);
        size_t pending = virtwire_conn_pending_output(s->c);
        if (pending > max_pending)
            max_pending = pending;
        /* Wait until the queue is below a packet. */
        virtwire_conn *cs[2] = { s->c, peer->c };
        int64_t start = time(NULL);
        while (virtwire_conn_pending_output(s->c) > 262144 && time(NULL) - start < 20)
            if (ct_pump(cs, 2, NULL, NULL, 10) < -1)
                break;
    }
    free(buf);
    CHECK_INT(virtwire_transport_stream_send_eof(s->p, STREAM_PROC, s->stream_serial), 0);
    return max_pending;
}

static void test_stream(void)
{
    const size_t up = 8u << 20, down = 3u << 20;
    side cl, sv;
    pair_init(&cl, &sv, 16384);
    int64_t serial = send_call(&cl, 0, NULL, 0);
    CHECK_INT(serial, 0);
    /* An upload call: proc STREAM_PROC, no payload. */
    serial = virtwire_transport_send(cl.p, STREAM_PROC, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL,
                                     0);
    CHECK_INT(serial, 1);
    CHECK_INT(virtwire_transport_stream_open(cl.p, STREAM_PROC, 1, 0), 0);
    cl.stream_serial = 1;
    CHECK_INT(pump_until(&cl, &sv, &sv.calls, 2), 0);
    CHECK_INT(sv.stream_serial, 1);
    CHECK_INT(pump_until(&cl, &sv, &cl.replies, 1), 0); /* the stream call's reply */

    sv.stream_seed = 77;
    size_t max_pending = stream_upload(&cl, &sv, 77, up);
    /* The socket took only part of each chunk: the rest was queued. */
    CHECK(max_pending > 0);
    CHECK_INT(pump_until(&cl, &sv, &sv.stream_eof, 1), 0);
    CHECK_INT(sv.stream_bytes, up);

    /* Down: all of it queued in the server at once, then drained. */
    cl.stream_seed = 78;
    unsigned char *buf = malloc(down);
    ct_fill(buf, down, 78, 0);
    CHECK_INT(virtwire_transport_stream_send_data(sv.p, STREAM_PROC, 1, buf, down), 0);
    free(buf); /* the queue holds its own copy */
    CHECK(virtwire_conn_pending_output(sv.c) > 0);
    CHECK_INT(virtwire_transport_stream_send_eof(sv.p, STREAM_PROC, 1), 0);
    CHECK_INT(pump_until(&cl, &sv, &cl.stream_eof, 1), 0);
    CHECK_INT(cl.stream_bytes, down);

    /* Finish: the client asks, the server confirms. */
    CHECK_INT(virtwire_transport_stream_finish(cl.p, STREAM_PROC, 1), 0);
    CHECK_INT(pump_until(&cl, &sv, &cl.stream_finish, 1), 0);
    CHECK_INT(sv.stream_finish, 1);
    CHECK_INT(virtwire_transport_stream_is_open(cl.p, 1), 0);
    CHECK_INT(virtwire_transport_stream_is_open(sv.p, 1), 0);
    CHECK_INT(cl.bad + sv.bad + cl.errors + sv.errors, 0);
    side_fini(&cl);
    side_fini(&sv);
}

/* Reads exactly len bytes (blocking, bounded by poll) and compares. */
static void check_pipe_reads(int fd, const char *want)
{
    char got[64] = { 0 };
    size_t len = strlen(want), have = 0;
    while (have < len) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, TIMEOUT) != 1)
            break;
        ssize_t n = read(fd, got + have, len - have);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    CHECK_INT(have, len);
    if (strcmp(got, want) != 0)
        vt_fail(__FILE__, __LINE__, "pipe gave \"%s\", expected \"%s\"", got, want);
}

/* After every copy of the write end is closed, the read end sees EOF. */
static void check_pipe_eof(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    CHECK_INT(poll(&p, 1, TIMEOUT), 1);
    char c;
    CHECK_INT(read(fd, &c, 1), 0);
}

static int cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl >= 0 && (fl & FD_CLOEXEC);
}

/* Sends from s a 1 MiB CALL_WITH_FDS (proc 7) carrying fd: more than the
 * socket takes at once, so the fd is queued (a dup: fd is closed here
 * right away) and output stays pending.  The serial, or the error. */
static int64_t send_big_with_fd(side *s, int fd)
{
    unsigned char *big = malloc(1 << 20);
    REQUIRE(big != NULL);
    ct_fill(big, 1 << 20, 5, 0);
    int64_t serial = virtwire_transport_send(s->p, 7, VIR_NET_CALL_WITH_FDS, VIR_NET_OK, 0, big,
                                             1 << 20, &fd, 1);
    free(big);
    close(fd);
    CHECK(virtwire_conn_pending_output(s->c) > 0);
    return serial;
}

static void test_fds(void)
{
    side cl, sv;
    pair_init(&cl, &sv, 8192);
    int a[2], b[2], c[2];
    CHECK_INT(pipe(a), 0);
    CHECK_INT(pipe(b), 0);
    CHECK_INT(pipe(c), 0);

    /* 1. A small frame with two fds, then a plain call right behind: the
     *    fds go at once, straight from the caller's array. */
    int two[2] = { a[1], b[1] };
    CHECK_INT(send_call(&cl, 0, two, 2), 0);
    CHECK_INT(send_call(&cl, 1, NULL, 0), 1);
    CHECK_INT(virtwire_conn_pending_output(cl.c), 0);
    close(a[1]);
    close(b[1]);
    CHECK_INT(pump_until(&cl, &sv, &sv.calls, 2), 0);
    CHECK_INT(sv.nkept, 2);
    CHECK(cloexec(sv.kept[0]) && cloexec(sv.kept[1]));
    CHECK_INT(vt_write_all(sv.kept[0], "through a", 9), 0);
    CHECK_INT(vt_write_all(sv.kept[1], "through b", 9), 0);
    check_pipe_reads(a[0], "through a");
    check_pipe_reads(b[0], "through b");
    close(sv.kept[0]);
    close(sv.kept[1]);
    sv.nkept = 0;
    check_pipe_eof(a[0]);
    check_pipe_eof(b[0]);

    /* 2. A big frame the socket cannot take at once: the fd is queued (a
     *    dup: the caller closes its own right away), and a call follows. */
    CHECK_INT(send_big_with_fd(&cl, c[1]), 2);
    CHECK_INT(send_call(&cl, 3, NULL, 0), 3);
    size_t before = sv.bad;
    CHECK_INT(pump_until(&cl, &sv, &sv.calls, 4), 0);
    /* Serial 2's payload is not call_len(2): on_call counted it bad. */
    CHECK_INT(sv.bad, before + 1);
    sv.bad = before;
    CHECK_INT(sv.nkept, 1);
    CHECK_INT(vt_write_all(sv.kept[0], "queued fd", 9), 0);
    check_pipe_reads(c[0], "queued fd");
    close(sv.kept[0]);
    sv.nkept = 0;
    check_pipe_eof(c[0]); /* the connection closed its dup once sent */

    /* 3. Server to client: a REPLY_WITH_FDS carrying a pipe's read end. */
    int d[2];
    CHECK_INT(pipe(d), 0);
    CHECK_INT(virtwire_transport_send(sv.p, 1, VIR_NET_REPLY_WITH_FDS, VIR_NET_OK, 0, "\0\0\0\1",
                                      4, &d[0], 1),
              0);
    close(d[0]);
    CHECK_INT(pump_until(&cl, &sv, &cl.replies, 1), 0);
    CHECK_INT(cl.nkept, 1);
    CHECK(cloexec(cl.kept[0]));
    CHECK_INT(vt_write_all(d[1], "to client", 9), 0);
    check_pipe_reads(cl.kept[0], "to client");
    close(d[1]);
    close(cl.kept[0]);
    cl.nkept = 0;

    close(a[0]);
    close(b[0]);
    close(c[0]);
    CHECK_INT(cl.errors + sv.errors + cl.bad + sv.bad, 0);
    side_fini(&cl);
    side_fini(&sv);

    /* 4. A queued fd that never went: freeing the connection closes it. */
    pair_init(&cl, &sv, 4096);
    CHECK_INT(pipe(a), 0);
    CHECK_INT(send_big_with_fd(&cl, a[1]), 0);
    side_fini(&cl);
    side_fini(&sv);
    check_pipe_eof(a[0]);
    close(a[0]);
}

/* A REPLY frame for serial 0 of proc 1 with payload 0000002a, as
 * docs/protocol.md, "Header", lays it out (length, prog, vers, proc, type,
 * serial, status, payload). */
static const unsigned char reply_frame[] = {
    0x00, 0x00, 0x00, 0x20, 0x20, 0x00, 0x80, 0x86, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
};

static void *shutdown_later(void *arg)
{
    struct timespec ts = { 0, 100 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    virtwire_conn_shutdown(arg);
    return NULL;
}

static void test_eof(void)
{
    /* 1. A whole reply, then half a frame, then EOF: the reply is
     *    dispatched, then ECLOSED, sticky. */
    int sp[2];
    CHECK_INT(vt_socketpair(sp, 0), 0);
    side cl;
    side_init(&cl, sp[0], 1, VIRTWIRE_TRANSPORT_CLIENT);
    CHECK_INT(virtwire_transport_send(cl.p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0), 0);
    unsigned char call[28];
    CHECK_INT(read(sp[1], call, sizeof(call)), 28);
    CHECK_INT(vt_write_all(sp[1], reply_frame, sizeof(reply_frame)), 0);
    CHECK_INT(vt_write_all(sp[1], reply_frame, 20), 0);
    close(sp[1]);
    CHECK_INT(virtwire_conn_run_once(cl.c, TIMEOUT), VIRTWIRE_ECLOSED);
    CHECK_INT(cl.replies, 1);
    CHECK_INT(cl.last_len, 4);
    CHECK_INT(cl.last[3], 0x2a);
    CHECK_INT(virtwire_conn_events(cl.c), 0);
    CHECK_INT(virtwire_conn_process(cl.c, POLLIN), VIRTWIRE_ECLOSED);
    CHECK_INT(virtwire_conn_run_once(cl.c, 10), VIRTWIRE_ECLOSED);
    side_fini(&cl);

    /* 2. EOF in the middle of the length word, and EOF between frames. */
    for (int cut = 0; cut < 2; cut++) {
        CHECK_INT(vt_socketpair(sp, 0), 0);
        side_init(&cl, sp[0], 1, VIRTWIRE_TRANSPORT_CLIENT);
        if (cut)
            CHECK_INT(vt_write_all(sp[1], reply_frame, 2), 0);
        close(sp[1]);
        CHECK_INT(virtwire_conn_process(cl.c, POLLIN), VIRTWIRE_ECLOSED);
        CHECK_INT(virtwire_conn_errno(cl.c), 0);
        side_fini(&cl);
    }

    /* 3. Writing to a peer that is gone: ECLOSED, no SIGPIPE. */
    CHECK_INT(vt_socketpair(sp, 0), 0);
    side_init(&cl, sp[0], 1, VIRTWIRE_TRANSPORT_CLIENT);
    close(sp[1]);
    CHECK_INT(virtwire_transport_send(cl.p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0),
              VIRTWIRE_ESEND);
    CHECK_INT(virtwire_conn_process(cl.c, 0), VIRTWIRE_ECLOSED);
    side_fini(&cl);

    /* 4. shutdown() from another thread wakes run_once(-1); the peer sees
     *    end of file. */
    CHECK_INT(vt_socketpair(sp, 0), 0);
    side_init(&cl, sp[0], 1, VIRTWIRE_TRANSPORT_CLIENT);
    pthread_t th;
    CHECK_INT(pthread_create(&th, NULL, shutdown_later, cl.c), 0);
    time_t start = time(NULL);
    CHECK_INT(virtwire_conn_run_once(cl.c, -1), VIRTWIRE_ECLOSED);
    CHECK(time(NULL) - start < 5);
    pthread_join(th, NULL);
    CHECK_INT(virtwire_conn_events(cl.c), 0);
    CHECK_INT(virtwire_conn_process(cl.c, 0), VIRTWIRE_ECLOSED);
    char ch;
    CHECK_INT(read(sp[1], &ch, 1), 0);
    close(sp[1]);
    side_fini(&cl);
}

/* A CALL_WITH_FDS frame announcing one fd, proc 1 serial 0, no payload. */
static const unsigned char call_fds_frame[] = {
    0x00, 0x00, 0x00, 0x20, 0x20, 0x00, 0x80, 0x86, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

static void test_errors(void)
{
    /* 1. A connection adopted as non-unix refuses to send fds; plain
     *    frames still go. */
    int sp[2];
    CHECK_INT(vt_socketpair(sp, 0), 0);
    side cl, sv;
    side_init(&cl, sp[0], 0, VIRTWIRE_TRANSPORT_CLIENT);
    side_init(&sv, sp[1], 0, VIRTWIRE_TRANSPORT_SERVER);
    CHECK_INT(virtwire_conn_is_unix(cl.c), 0);
    int pfd[2];
    CHECK_INT(pipe(pfd), 0);
    CHECK_INT(send_call(&cl, 0, &pfd[1], 1), VIRTWIRE_ESEND);
    CHECK_INT(virtwire_conn_pending_output(cl.c), 0);
    /* Serials count on: the failed call used 0. */
    CHECK_INT(send_call(&cl, 1, NULL, 0), 1);
    CHECK_INT(pump_until(&cl, &sv, &sv.calls, 1), 0);
    CHECK_INT(sv.bad, 0);
    close(pfd[0]);
    close(pfd[1]);
    side_fini(&cl);
    side_fini(&sv);

    /* 2. A non-unix server receiving a frame that announces fds. */
    CHECK_INT(vt_socketpair(sp, 0), 0);
    side_init(&sv, sp[1], 0, VIRTWIRE_TRANSPORT_SERVER);
    CHECK_INT(vt_write_all(sp[0], call_fds_frame, sizeof(call_fds_frame)), 0);
    CHECK_INT(virtwire_conn_run_once(sv.c, TIMEOUT), VIRTWIRE_EFD_MISSING);
    CHECK_INT(sv.calls, 0);
    close(sp[0]);
    side_fini(&sv);

    /* 3. A unix server receiving that frame and a plain byte instead of
     *    the fd. */
    CHECK_INT(vt_socketpair(sp, 0), 0);
    side_init(&sv, sp[1], 1, VIRTWIRE_TRANSPORT_SERVER);
    CHECK_INT(vt_write_all(sp[0], call_fds_frame, sizeof(call_fds_frame)), 0);
    CHECK_INT(vt_write_all(sp[0], "", 1), 0);
    CHECK_INT(virtwire_conn_run_once(sv.c, TIMEOUT), VIRTWIRE_EFD_MISSING);
    CHECK_INT(sv.calls, 0);
    close(sp[0]);
    side_fini(&sv);

    /* 3b. A unix server receiving a plain CALL whose bytes carry an fd
     *     nobody asked for: the call is served, the fd closed. */
    {
        static const unsigned char plain_call[] = {
            0x00, 0x00, 0x00, 0x1c, 0x20, 0x00, 0x80, 0x86, 0x00, 0x00, 0x00, 0x01,
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00,
        };
        CHECK_INT(vt_socketpair(sp, 0), 0);
        side_init(&sv, sp[1], 1, VIRTWIRE_TRANSPORT_SERVER);
        int u[2];
        CHECK_INT(pipe(u), 0);
        struct iovec iov;
        vt_fds_control ctl;
        struct msghdr mh;
        vt_fds_message(&mh, &iov, &ctl, (void *)plain_call, sizeof plain_call, &u[1], 1);
        CHECK_INT(sendmsg(sp[0], &mh, 0), (ssize_t)sizeof plain_call);
        close(u[1]);
        CHECK_INT(virtwire_conn_run_once(sv.c, TIMEOUT), 0);
        CHECK_INT(sv.calls, 1);
        CHECK_INT(sv.bad, 0);
        check_pipe_eof(u[0]); /* the server holds no copy of the write end */
        close(u[0]);
        close(sp[0]);
        side_fini(&sv);
    }

    /* 3c. The fd of call_fds_frame sent with a second one in the same
     *     message: the first is the call's, the second is closed. */
    {
        CHECK_INT(vt_socketpair(sp, 0), 0);
        side_init(&sv, sp[1], 1, VIRTWIRE_TRANSPORT_SERVER);
        int u[2], w[2];
        CHECK_INT(pipe(u), 0);
        CHECK_INT(pipe(w), 0);
        CHECK_INT(vt_write_all(sp[0], call_fds_frame, sizeof(call_fds_frame)), 0);
        char dummy = 0;
        struct iovec iov;
        vt_fds_control ctl;
        struct msghdr mh;
        int two[2] = { u[1], w[1] };
        vt_fds_message(&mh, &iov, &ctl, &dummy, 1, two, 2);
        CHECK_INT(sendmsg(sp[0], &mh, 0), 1);
        close(u[1]);
        close(w[1]);
        CHECK_INT(virtwire_conn_run_once(sv.c, TIMEOUT), 0);
        CHECK_INT(sv.calls, 1);
        CHECK_INT(sv.nkept, 1);
        check_pipe_eof(w[0]); /* the second fd was closed */
        CHECK_INT(vt_write_all(sv.kept[0], "first", 5), 0);
        check_pipe_reads(u[0], "first");
        close(sv.kept[0]);
        sv.nkept = 0;
        close(u[0]);
        close(w[0]);
        close(sp[0]);
        side_fini(&sv);
    }

    /* 4. flush() against a peer that does not read times out; once the
     *    peer reads, it completes, and the peer got exactly one frame. */
    CHECK_INT(vt_socketpair(sp, 0), 0);
    vt_bufsize(sp[0], 4096, 4096);
    side_init(&cl, sp[0], 1, VIRTWIRE_TRANSPORT_CLIENT);
    const size_t len = 1 << 20;
    unsigned char *big = malloc(len);
    ct_fill(big, len, 9, 0);
    CHECK_INT(virtwire_transport_send(cl.p, 1, VIR_NET_CALL, VIR_NET_OK, 0, big, len, NULL, 0), 0);
    CHECK_INT(virtwire_conn_flush(cl.c, 50), VIRTWIRE_ETIMEDOUT);
    CHECK(virtwire_conn_pending_output(cl.c) > 0);
    size_t got = 0, ok = 1;
    unsigned char rb[65536];
    time_t start = time(NULL);
    while (time(NULL) - start < 20) {
        int rc = virtwire_conn_flush(cl.c, 5);
        ssize_t n;
        while ((n = recv(sp[1], rb, sizeof(rb), MSG_DONTWAIT)) > 0) {
            /* After the 28 bytes of length and header, the payload. */
            for (ssize_t i = 0; i < n; i++)
                if (got + (size_t)i >= 28 && rb[i] != ct_pattern(9, got + (size_t)i - 28))
                    ok = 0;
            got += (size_t)n;
        }
        if (rc == 0 && got == len + 28)
            break;
    }
    CHECK_INT(got, len + 28);
    CHECK(ok);
    CHECK_INT(virtwire_conn_pending_output(cl.c), 0);
    free(big);
    close(sp[1]);
    side_fini(&cl);

    /* 5. Connecting: errors. */
    virtwire_conn *c = (virtwire_conn *)&c;
    virtwire_transport_callbacks none = { .size = sizeof none };
    errno = 0;
    CHECK_INT(virtwire_conn_connect_unix("no-such-dir/no-such-socket", VIRTWIRE_TRANSPORT_CLIENT,
                                         &none, NULL, &c),
              VIRTWIRE_EIO);
    CHECK_INT(errno, ENOENT);
    CHECK(c == NULL);
    char longpath[200];
    memset(longpath, 'x', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = 0;
    CHECK_INT(virtwire_conn_connect_unix(longpath, VIRTWIRE_TRANSPORT_CLIENT, &none, NULL, &c),
              VIRTWIRE_EINVAL);
    CHECK_INT(virtwire_conn_connect_tcp("127.0.0.1", 0, VIRTWIRE_TRANSPORT_CLIENT, &none, NULL, &c),
              VIRTWIRE_EINVAL);
    CHECK_INT(virtwire_conn_connect_uri("test+libssh://example.invalid/default", 0,
                                        VIRTWIRE_TRANSPORT_CLIENT, &none, NULL, &c),
              VIRTWIRE_EUNSUPPORTED_TRANSPORT);
    CHECK_INT(virtwire_conn_connect_uri("qemu+tls://example.invalid/system", 0,
                                        VIRTWIRE_TRANSPORT_CLIENT, &none, NULL, &c),
              VIRTWIRE_EUNSUPPORTED_TRANSPORT);
    CHECK_INT(virtwire_conn_connect_uri("test+ssh://example.invalid/default?command=/nonexistent",
                                        0, VIRTWIRE_TRANSPORT_CLIENT, &none, NULL, &c),
              VIRTWIRE_EIO);
    CHECK_INT(virtwire_conn_connect_uri("test+ext:///default", 0, VIRTWIRE_TRANSPORT_CLIENT,
                                        &none, NULL, &c),
              VIRTWIRE_EURI_PARAM);
    /* A command that exits at once: the channel opens, and ends at the
     * first read, saying how the command ended. */
    CHECK_INT(virtwire_conn_connect_uri("test+ext:///default?command=true", 0,
                                        VIRTWIRE_TRANSPORT_CLIENT, &none, NULL, &c),
              0);
    if (c) {
        CHECK_INT(virtwire_conn_run_once(c, 5000), VIRTWIRE_ECLOSED);
        const char *why = virtwire_channel_error_detail(virtwire_conn_channel(c));
        CHECK_MSG(why && strstr(why, "true exited with status 0"), "detail: %s", why);
        virtwire_conn_free(c);
        c = (virtwire_conn *)&c;
    }
    CHECK_INT(virtwire_conn_connect_uri("not a uri", 0, VIRTWIRE_TRANSPORT_CLIENT, &none, NULL, &c),
              VIRTWIRE_EURI);
    CHECK_INT(virtwire_conn_connect_uri("test+tcp://127.0.0.1:1/default", VIRTWIRE_URI_ADMIN,
                                        VIRTWIRE_TRANSPORT_CLIENT, &none, NULL, &c),
              VIRTWIRE_EURI_SOCKET);
    CHECK_INT(virtwire_conn_connect_uri("test+unix:///default?socket=no-such-dir/sock", 0,
                                        VIRTWIRE_TRANSPORT_CLIENT, &none, NULL, &c),
              VIRTWIRE_EIO);
    CHECK(c == NULL);
    CHECK_INT(virtwire_conn_adopt(-1, 1, VIRTWIRE_TRANSPORT_CLIENT, &none, NULL, &c),
              VIRTWIRE_EINVAL);

    /* A refused TCP port: bind one, close it, connect. */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t salen = sizeof(sa);
    CHECK_INT(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CHECK_INT(getsockname(l, (struct sockaddr *)&sa, &salen), 0);
    close(l);
    errno = 0;
    CHECK_INT(virtwire_conn_connect_tcp("127.0.0.1", ntohs(sa.sin_port), VIRTWIRE_TRANSPORT_CLIENT,
                                        &none, NULL, &c),
              VIRTWIRE_EIO);
    CHECK_INT(errno, ECONNREFUSED);
}

static void test_tcp(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t salen = sizeof(sa);
    CHECK_INT(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CHECK_INT(listen(l, 4), 0);
    CHECK_INT(getsockname(l, (struct sockaddr *)&sa, &salen), 0);

    side cl, sv;
    memset(&cl, 0, sizeof(cl));
    virtwire_transport_callbacks cbs = { .size = sizeof cbs, .on_error = on_error };
    CHECK_INT(virtwire_conn_connect_tcp("localhost", ntohs(sa.sin_port), VIRTWIRE_TRANSPORT_CLIENT,
                                        &cbs, &cl, &cl.c),
              0);
    int fd = accept(l, NULL, NULL);
    CHECK(fd >= 0);
    close(l);
    CHECK_INT(virtwire_transport_register(virtwire_conn_transport(cl.c), REMOTE, 1, &prog_cbs, &cl,
                                          &cl.p),
              0);
    side_init(&sv, fd, 0, VIRTWIRE_TRANSPORT_SERVER);
    sv.auto_reply = 1;

    int one = 0;
    socklen_t olen = sizeof(one);
    CHECK_INT(getsockopt(virtwire_conn_fd(cl.c), IPPROTO_TCP, TCP_NODELAY, &one, &olen), 0);
    CHECK(one != 0);
    CHECK(fcntl(virtwire_conn_fd(cl.c), F_GETFL) & O_NONBLOCK);
    CHECK(cloexec(virtwire_conn_fd(cl.c)));
    CHECK_INT(virtwire_conn_is_unix(cl.c), 0);

    enum { N = 500 };
    for (uint32_t i = 0; i < N; i++)
        CHECK_INT(send_call(&cl, i, NULL, 0), i);
    CHECK_INT(pump_until(&cl, &sv, &cl.replies, N), 0);
    CHECK_INT(sv.calls, N);
    CHECK_INT(cl.bad + sv.bad + cl.errors + sv.errors, 0);

    /* The server goes away: the client sees ECLOSED. */
    side_fini(&sv);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = virtwire_conn_run_once(cl.c, 100);
    CHECK_INT(rc, VIRTWIRE_ECLOSED);
    side_fini(&cl);
}

/* Keepalive through run_once(): the caller's clock and dead callback get
 * the caller's opaque; the caller's on_send is ignored. */
typedef struct ka_ctx {
    int dead;
    int user_send;
} ka_ctx;

static uint64_t ka_clock(void *o)
{
    (void)o;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void ka_dead(virtwire_transport *t, void *o)
{
    (void)t;
    ((ka_ctx *)o)->dead++;
}

static int ka_send(virtwire_transport *t, const struct iovec *iov, size_t niov, const int *fds,
                   size_t nfds, void *o)
{
    (void)t, (void)iov, (void)niov, (void)fds, (void)nfds;
    ((ka_ctx *)o)->user_send++;
    return -1;
}

static void test_keepalive(void)
{
    int sp[2];
    CHECK_INT(vt_socketpair(sp, 0), 0);
    ka_ctx k = { 0, 0 };
    virtwire_transport_callbacks cbs = { .size = sizeof cbs, .on_send = ka_send, .on_keepalive_dead = ka_dead,
                                         .clock_ms = ka_clock };
    virtwire_conn *c = NULL;
    CHECK_INT(virtwire_conn_adopt(sp[0], 1, VIRTWIRE_TRANSPORT_CLIENT, &cbs, &k, &c), 0);
    CHECK_INT(virtwire_transport_keepalive_start(virtwire_conn_transport(c), 50, 2), 0);
    int rc = 0;
    time_t start = time(NULL);
    while (rc == 0 && time(NULL) - start < 10)
        rc = virtwire_conn_run_once(c, -1);
    CHECK_INT(rc, VIRTWIRE_EKEEPALIVE);
    CHECK_INT(k.dead, 1);
    CHECK_INT(k.user_send, 0);
    /* The silent peer got PINGs, byte for byte as docs/protocol.md,
     * "Keepalive", quotes them:
     * 0000001c 6b656570 00000001 00000001 00000002 00000000 00000000. */
    static const unsigned char ping[28] = {
        0x00, 0x00, 0x00, 0x1c, 0x6b, 0x65, 0x65, 0x70, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    unsigned char got[28 * 8];
    ssize_t n = recv(sp[1], got, sizeof(got), MSG_DONTWAIT);
    CHECK(n >= 28 && n % 28 == 0);
    for (ssize_t i = 0; i + 28 <= n; i += 28)
        CHECK(memcmp(got + i, ping, 28) == 0);
    CHECK_INT(virtwire_conn_run_once(c, 10), VIRTWIRE_EKEEPALIVE);
    virtwire_conn_free(c);
    close(sp[1]);
}

/* ------------------------------------------------------------------------ */
/* Level-triggered reading                                                  */
/* ------------------------------------------------------------------------ */

/* A channel over a socket channel that counts the reads and the empty ones
 * (what a socket answers with EAGAIN), with the flags the test gives it. */
typedef struct counting_channel {
    virtwire_channel base;
    virtwire_channel *inner;
    int reads, empty;
} counting_channel;

static ssize_t cnt_read(virtwire_channel *ch, void *buf, size_t len, int *fd)
{
    counting_channel *k = (counting_channel *)ch;
    ssize_t n = virtwire_channel_read(k->inner, buf, len, fd);
    k->reads++;
    if (n == 0)
        k->empty++;
    return n;
}

static ssize_t cnt_writev(virtwire_channel *ch, const struct iovec *iov, size_t niov)
{
    return virtwire_channel_writev(((counting_channel *)ch)->inner, iov, niov);
}

static int cnt_send_fd(virtwire_channel *ch, int fd)
{
    return virtwire_channel_send_fd(((counting_channel *)ch)->inner, fd);
}

static void cnt_shutdown(virtwire_channel *ch)
{
    virtwire_channel_shutdown(((counting_channel *)ch)->inner);
}

static void cnt_free(virtwire_channel *ch)
{
    virtwire_channel_free(((counting_channel *)ch)->inner);
    free(ch);
}

static const virtwire_channel_ops cnt_ops = {
    .size = sizeof cnt_ops,
    .name = "counting",
    .read = cnt_read,
    .writev = cnt_writev,
    .send_fd = cnt_send_fd,
    .shutdown = cnt_shutdown,
    .free = cnt_free,
};

/* A client connection over a counting channel on sock, with the socket
 * channel's flags (minus VIRTWIRE_CHANNEL_NO_BUFFER unless no_buffer). */
static counting_channel *counting_client(side *s, int sock, int no_buffer, int level)
{
    virtwire_channel *inner;
    CHECK_INT(virtwire_channel_socket_new(sock, 1, &inner), 0);
    CHECK(inner->flags & VIRTWIRE_CHANNEL_NO_BUFFER); /* sockets keep nothing */
    counting_channel *k = calloc(1, sizeof *k);
    k->base.ops = &cnt_ops;
    k->base.fd = inner->fd;
    k->base.flags = inner->flags & ~(no_buffer ? 0u : VIRTWIRE_CHANNEL_NO_BUFFER);
    k->inner = inner;
    memset(s, 0, sizeof(*s));
    virtwire_transport_callbacks cbs = { .size = sizeof cbs, .on_error = on_error };
    CHECK_INT(virtwire_conn_adopt_channel(&k->base, VIRTWIRE_TRANSPORT_CLIENT, &cbs, s, &s->c), 0);
    CHECK_INT(virtwire_transport_register(virtwire_conn_transport(s->c), REMOTE, 1, &prog_cbs, s,
                                          &s->p),
              0);
    virtwire_conn_set_level_triggered(s->c, level);
    return k;
}

static short wait_in(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    CHECK_INT(poll(&p, 1, TIMEOUT), 1);
    return p.revents;
}

static void test_level(void)
{
    /* 1. One reply waiting, one process(): level-triggered over a channel
     *    that keeps nothing, one read; otherwise a second read finds the
     *    socket empty. */
    for (int mode = 0; mode < 3; mode++) {
        int level = mode != 0, no_buffer = mode != 2;
        int sp[2];
        CHECK_INT(vt_socketpair(sp, 0), 0);
        side cl;
        counting_channel *k = counting_client(&cl, sp[0], no_buffer, level);
        CHECK_INT(virtwire_transport_send(cl.p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0),
                  0);
        unsigned char call[28];
        CHECK_INT(read(sp[1], call, sizeof(call)), 28);
        CHECK_INT(vt_write_all(sp[1], reply_frame, sizeof(reply_frame)), 0);
        CHECK_INT(virtwire_conn_process(cl.c, wait_in(sp[0])), 0);
        CHECK_INT(cl.replies, 1);
        CHECK_INT(k->reads, level && no_buffer ? 1 : 2);
        CHECK_INT(k->empty, level && no_buffer ? 0 : 1);

        /* 2. A frame in two writes: the first half's read is short, and
         *    the rest comes with the next poll(). */
        k->reads = k->empty = 0;
        CHECK_INT(virtwire_transport_send(cl.p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0),
                  1);
        CHECK_INT(read(sp[1], call, sizeof(call)), 28);
        unsigned char frame[sizeof(reply_frame)];
        memcpy(frame, reply_frame, sizeof(frame));
        frame[23] = 1; /* serial 1 */
        CHECK_INT(vt_write_all(sp[1], frame, 10), 0);
        CHECK_INT(virtwire_conn_process(cl.c, wait_in(sp[0])), 0);
        CHECK_INT(cl.replies, 1);
        CHECK_INT(vt_write_all(sp[1], frame + 10, sizeof(frame) - 10), 0);
        CHECK_INT(virtwire_conn_process(cl.c, wait_in(sp[0])), 0);
        CHECK_INT(cl.replies, 2);
        CHECK_INT(k->reads, level && no_buffer ? 2 : 4);

        /* 3. A hang-up after a reply is read to the end at once. */
        frame[23] = 2;
        CHECK_INT(virtwire_transport_send(cl.p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0),
                  2);
        CHECK_INT(read(sp[1], call, sizeof(call)), 28);
        CHECK_INT(vt_write_all(sp[1], frame, sizeof(frame)), 0);
        close(sp[1]);
        struct pollfd p = { sp[0], POLLIN, 0 };
        CHECK_INT(poll(&p, 1, TIMEOUT), 1);
        CHECK_INT(virtwire_conn_process(cl.c, p.revents | POLLHUP), VIRTWIRE_ECLOSED);
        CHECK_INT(cl.replies, 3);
        CHECK_INT(cl.errors + cl.bad, 0);
        side_fini(&cl);
    }

    /* 4. The ssh and ext child channels keep nothing either. */
    virtwire_uri *u = NULL;
    CHECK_INT(virtwire_uri_parse("test+ext:///default?command=/bin/cat", &u), 0);
    virtwire_connect_params prm = { .size = sizeof prm };
    virtwire_channel *ch = NULL;
    CHECK_INT(virtwire_channel_open_uri(u, &prm, &ch), 0);
    CHECK(ch->flags & VIRTWIRE_CHANNEL_NO_BUFFER);
    virtwire_channel_free(ch);
    virtwire_uri_free(u);
}

static void test_calls_level(void)
{
    level_triggered = 1;
    test_calls();
}

static void test_stream_level(void)
{
    level_triggered = 1;
    test_stream();
}

static void test_fds_level(void)
{
    level_triggered = 1;
    test_fds();
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } groups[] = {
        { "calls", test_calls }, { "stream", test_stream }, { "fds", test_fds },
        { "eof", test_eof },     { "errors", test_errors }, { "tcp", test_tcp },
        { "keepalive", test_keepalive }, { "level", test_level },
        { "calls-level", test_calls_level }, { "stream-level", test_stream_level },
        { "fds-level", test_fds_level },
    };
    if (argc != 2) {
        fprintf(stderr, "usage: %s GROUP\n", argv[0]);
        return 2;
    }
    int before = vt_count_fds(0);
    size_t i;
    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (strcmp(argv[1], groups[i].name) == 0)
            break;
    if (i == sizeof(groups) / sizeof(groups[0])) {
        fprintf(stderr, "unknown group %s\n", argv[1]);
        return 2;
    }
    groups[i].fn();
    /* Every socket, pipe and passed fd is closed again. */
    CHECK_INT(vt_count_fds(0), before);
    return vt_finish(argv[1]);
}
