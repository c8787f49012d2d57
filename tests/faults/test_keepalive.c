/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A client whose server stops answering keepalive is told within
 * interval x (count + 1): with keepalive_interval_ms 100 and
 * keepalive_count 3, 400 ms after the last frame it received, on_close
 * runs with VIRTWIRE_EKEEPALIVE, virtwire_client_error() says so, and a
 * call waiting without a timeout of its own fails with VIRTWIRE_ECLOSED.
 *
 *   stopped_reading  a scripted server that stops reading after the
 *                    handshake (the socket stays open);
 *   no_pong          a scripted server that reads but never answers: it
 *                    sees exactly count PINGs, each byte for byte libvirt's;
 *   alive            a scripted server that answers PINGs: after 10
 *                    intervals the connection is alive and a call works;
 *   mockd            the example daemon frozen with SIGSTOP.
 *
 *   test_faults_keepalive GROUP [VIRTWIRE_MOCKD]
 */
#define _GNU_SOURCE

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flib.h"
#include "remote_protocol.h"
#include "virtwire_client.h"

#define INTERVAL 100
#define COUNT 3
#define DEADLINE (INTERVAL * (COUNT + 1))
/* Scheduling slack of a loaded machine, after the deadline. */
#define SLACK 250
#define KEEPALIVE_PROGRAM 0x6b656570u

typedef struct watch {
    pthread_mutex_t m;
    int closed, why;
    uint64_t at;
} watch;

static void on_close(virtwire_client *c, int why, void *opaque)
{
    (void)c;
    watch *w = opaque;
    pthread_mutex_lock(&w->m);
    w->closed++;
    w->why = why;
    w->at = vt_now_ms();
    pthread_mutex_unlock(&w->m);
}

/* Connects with own PINGs, then waits for the death the peer's silence
 * brings; t0 is when the peer fell silent (at the latest).  call: a call
 * is waiting meanwhile (the peer must not answer it). */
static void expect_death(virtwire_client *c, watch *w, uint64_t t0, int call)
{
    flib_caller k;
    if (call)
        flib_caller_start(&k, c, VIRTWIRE_TIMEOUT_FOREVER);
    uint64_t end = t0 + DEADLINE + 3000;
    for (;;) {
        pthread_mutex_lock(&w->m);
        int closed = w->closed;
        pthread_mutex_unlock(&w->m);
        if (closed || vt_now_ms() > end)
            break;
        vt_sleep_ms(1);
    }
    CHECK(w->closed == 1);
    uint64_t took = w->at - t0;
    printf("told after %llu ms (interval %d x (count %d + 1) = %d)\n", (unsigned long long)took,
           INTERVAL, COUNT, DEADLINE);
    CHECK(took >= DEADLINE - 30 && took <= DEADLINE + SLACK);
    CHECK_RC(w->why, VIRTWIRE_EKEEPALIVE);
    CHECK_RC(virtwire_client_error(c), VIRTWIRE_EKEEPALIVE);
    if (call) {
        flib_caller_join(&k);
        CHECK_RC(k.rc, VIRTWIRE_ECLOSED);
        CHECK(k.ended - t0 <= DEADLINE + SLACK);
    }
    CHECK_RC(flib_lib_version(c, 5000, NULL), VIRTWIRE_ECLOSED);
}

static virtwire_client *connect_ka(const char *path, watch *w)
{
    char uri[200];
    snprintf(uri, sizeof uri, "test+unix:///default?socket=%s", path);
    virtwire_client_options o = { .size = sizeof o, .keepalive_interval_ms = INTERVAL, .keepalive_count = COUNT };
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_connect(uri, &o, &c), 0);
    pthread_mutex_init(&w->m, NULL);
    w->closed = 0;
    if (c)
        virtwire_client_on_close(c, on_close, w);
    return c;
}

/* ---- scripted servers ----------------------------------------------------- */

static int release; /* the scripted server may end */

static void wait_release(void)
{
    uint64_t t0 = vt_now_ms();
    while (!__atomic_load_n(&release, __ATOMIC_SEQ_CST) && vt_now_ms() - t0 < 10000)
        vt_sleep_ms(2);
}

static void script_stop_reading(flib_peer *p, int fd)
{
    p->result = vt_serve_handshake(fd, 1);
    wait_release();
}

static const unsigned char ping[28] = {
    0x00, 0x00, 0x00, 0x1c, 0x6b, 0x65, 0x65, 0x70, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Reads frames until the client hangs up; answers PINGs when pong.
 * Returns the PINGs seen (-1 for a frame not a PING, or not libvirt's). */
static int read_pings(int fd, int pong)
{
    int pings = 0;
    for (;;) {
        unsigned char b[28];
        if (vt_read_exact(fd, b, 28, 10000) < 0)
            return pings;
        if (memcmp(b, ping, 28) == 0) {
            pings++;
            if (pong) {
                unsigned char reply[28];
                vt_frame_header(reply, KEEPALIVE_PROGRAM, 2, VIR_NET_MESSAGE, 0, VIR_NET_OK, 0);
                if (vt_write_all(fd, reply, 28) < 0)
                    return -1;
            }
            continue;
        }
        /* A call (GET_LIB_VERSION, CONNECT_CLOSE: no payload): answered
         * only by a server that answers PINGs. */
        uint32_t serial = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 |
                          b[23];
        int32_t proc = (int32_t)((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
                                 (uint32_t)b[14] << 8 | b[15]);
        if (b[3] != 28 || b[19] != VIR_NET_CALL)
            return -1;
        if (pong && proc == REMOTE_PROC_CONNECT_GET_LIB_VERSION) {
            remote_connect_get_lib_version_ret r = { 5 };
            vt_send_value(fd, proc, VIR_NET_REPLY, serial, VIR_NET_OK,
                          &remote_connect_get_lib_version_ret_desc, &r);
        } else if (pong) {
            vt_send_frame(fd, proc, VIR_NET_REPLY, serial, VIR_NET_OK, NULL, 0);
        }
    }
}

static void script_no_pong(flib_peer *p, int fd)
{
    p->result = vt_serve_handshake(fd, 1) < 0 ? -1 : read_pings(fd, 0);
}

static void script_pong(flib_peer *p, int fd)
{
    p->result = vt_serve_handshake(fd, 1) < 0 ? -1 : read_pings(fd, 1);
}

/* A connection to the peer at path, which is silent from the start (its
 * script does not answer PINGs): the keepalive ends it in time, and the
 * call waiting meanwhile. */
static void expect_silence(const char *path)
{
    watch w;
    virtwire_client *c = connect_ka(path, &w);
    uint64_t t0 = vt_now_ms();
    if (c) {
        expect_death(c, &w, t0, 1);
        virtwire_client_close(c);
    }
}

/* ---- tests ---------------------------------------------------------------- */

static void test_stopped_reading(void)
{
    int fds0 = vt_count_fds(0);
    release = 0;
    flib_peer p;
    flib_peer_start(&p, "ka", script_stop_reading, NULL);
    expect_silence(p.path);
    __atomic_store_n(&release, 1, __ATOMIC_SEQ_CST);
    flib_peer_join(&p);
    CHECK(p.result == 0);
    CHECK_RC(vt_count_fds(0), fds0);
}

static void test_no_pong(void)
{
    int fds0 = vt_count_fds(0);
    flib_peer p;
    flib_peer_start(&p, "ka", script_no_pong, NULL);
    expect_silence(p.path);
    flib_peer_join(&p);
    printf("no_pong: the server saw %d PINGs\n", p.result);
    CHECK_RC(p.result, COUNT);
    CHECK_RC(vt_count_fds(0), fds0);
}

static void test_alive(void)
{
    int fds0 = vt_count_fds(0);
    flib_peer p;
    flib_peer_start(&p, "ka", script_pong, NULL);
    watch w;
    virtwire_client *c = connect_ka(p.path, &w);
    if (c) {
        vt_sleep_ms(10 * INTERVAL);
        CHECK(w.closed == 0);
        CHECK_RC(virtwire_client_error(c), 0);
        uint64_t lib_ver = 0;
        CHECK_RC(flib_lib_version(c, 5000, &lib_ver), 0);
        CHECK(lib_ver == 5);
        virtwire_client_close(c);
    }
    flib_peer_join(&p);
    printf("alive: the server answered %d PINGs\n", p.result);
    CHECK(p.result >= 5); /* one per interval of silence */
    CHECK_RC(vt_count_fds(0), fds0);
}

static void test_mockd(void)
{
    int fds0 = vt_count_fds(0);
    vt_mockd d;
    flib_mockd_start(&d, "mockd", NULL);
    watch w;
    virtwire_client *c = connect_ka(d.path, &w);
    if (c) {
        /* Alive while the daemon answers. */
        vt_sleep_ms(5 * INTERVAL);
        CHECK(w.closed == 0);
        flib_check_lookup(c, "test");
        uint64_t t0 = vt_now_ms(); /* the last frame came before */
        CHECK(kill(d.pid, SIGSTOP) == 0);
        expect_death(c, &w, t0, 1);
        CHECK(kill(d.pid, SIGCONT) == 0);
        virtwire_client_close(c);
    }
    CHECK_RC(vt_mockd_stop(&d), 0);
    CHECK_RC(vt_count_fds(0), fds0);
}

int main(int argc, char **argv)
{
    static const vt_group groups[] = {
        { "stopped_reading", test_stopped_reading },
        { "no_pong", test_no_pong },
        { "alive", test_alive },
        { "mockd", test_mockd },
        { NULL, NULL },
    };
    return flib_main(argc, argv, groups);
}
