/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every error the transport reports, which ones are fatal, the latch after
 * a fatal one, fd ownership on every error path, misuse of the API, and
 * garbage or truncated input (run under ASan and UBSan in CI: no crash, no
 * leak, no fd left open).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlib.h"

#define REMOTE 0x20008086u

static unsigned char buf[4096];

/* Feeds a frame written in hex; returns what receive returned. */
static ssize_t feed(tl_endpoint *e, const char *hex)
{
    size_t n = vt_hex(hex, buf, sizeof(buf));
    return virtwire_transport_receive(e->t, buf, n);
}

static int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

static int devnull(void)
{
    return open("/dev/null", O_RDONLY);
}

static void setup(tl_endpoint *e, virtwire_transport_role role)
{
    tl_endpoint_init(e, role == VIRTWIRE_TRANSPORT_CLIENT ? "client" : "server", role);
    tl_register(e, REMOTE, 1);
}

/* The state after a fatal error: everything refused with the same code. */
static void check_latched(tl_endpoint *e, int code)
{
    CHECK_INT(virtwire_transport_error(e->t), code);
    CHECK_INT(virtwire_transport_need(e->t).kind, VIRTWIRE_NEED_NOTHING);
    CHECK_INT(feed(e, "0000001c 6b656570 00000001 00000001 00000002 00000000 00000000"), code);
    int fd = devnull();
    CHECK_INT(virtwire_transport_receive_fd(e->t, fd), code);
    CHECK(!fd_is_open(fd)); /* taken and closed */
    CHECK_INT(virtwire_transport_send(e->progs[0], 1, VIR_NET_STREAM, VIR_NET_CONTINUE, 0, NULL, 0,
                                      NULL, 0),
              code);
}

static void test_length_word(void)
{
    static const char *bad[] = { "00000000", "0000001b", "02000005", "ffffffff" };
    for (size_t i = 0; i < 4; i++) {
        for (int role = 0; role < 2; role++) {
            tl_endpoint e;
            setup(&e, (virtwire_transport_role)role);
            /* Also split: the length word alone, byte by byte. */
            size_t n = vt_hex(bad[i], buf, sizeof(buf));
            for (size_t k = 0; k < 3; k++)
                CHECK_INT(virtwire_transport_receive(e.t, buf + k, 1), 1);
            CHECK_INT(virtwire_transport_receive(e.t, buf + 3, n - 3), VIRTWIRE_EFRAME_LENGTH);
            CHECK_STR(vt_buf_str(&e.log), "E fatal VIRTWIRE_EFRAME_LENGTH\n");
            check_latched(&e, VIRTWIRE_EFRAME_LENGTH);
            tl_endpoint_fini(&e);
        }
    }
    /* The limits themselves are fine: 28 and 33554436. */
    tl_endpoint e;
    setup(&e, VIRTWIRE_TRANSPORT_SERVER);
    CHECK_INT(feed(&e, "02000004"), 4);
    CHECK_INT(virtwire_transport_need(e.t).kind, VIRTWIRE_NEED_BYTES);
    CHECK_INT(virtwire_transport_need(e.t).count, 33554432);
    tl_endpoint_fini(&e);
}

static void test_type_and_status(void)
{
    tl_endpoint c, s;
    /* Unknown type: fatal in both roles. */
    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    CHECK_INT(feed(&s, "0000001c 20008086 00000001 00000001 00000007 00000000 00000000"),
              VIRTWIRE_EMSG_TYPE);
    check_latched(&s, VIRTWIRE_EMSG_TYPE);
    tl_endpoint_fini(&s);
    setup(&c, VIRTWIRE_TRANSPORT_CLIENT);
    CHECK_INT(feed(&c, "0000001c 20008086 00000001 00000001 80000000 00000000 00000000"),
              VIRTWIRE_EMSG_TYPE);
    tl_endpoint_fini(&c);

    /* Server: a CALL with an unknown or refused status gets an ERROR
     * reply, like libvirt; the connection goes on. */
    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    CHECK_INT(feed(&s, "0000001c 20008086 00000001 00000005 00000000 00000009 00000003"), 28);
    CHECK_INT(feed(&s, "0000001c 20008086 00000001 00000005 00000000 0000000a 00000002"), 28);
    unsigned char want[256];
    size_t wn = vt_hex("00000068 20008086 00000001 00000005 00000001 00000009 00000001 |"
                       " 00000027 00000007 00000001 0000001b \"Unexpected message status 3\" 00"
                       " 00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
                       "00000068 20008086 00000001 00000005 00000001 0000000a 00000001 |"
                       " 00000027 00000007 00000001 0000001b \"Unexpected message status 2\" 00"
                       " 00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000000",
                       want, sizeof(want));
    CHECK_MEM(s.out.p, s.out.len, want, wn);
    /* Server: REPLY, REPLY_WITH_FDS and MESSAGE are never received; the
     * REPLY_WITH_FDS asks for no fds.  STREAM_HOLE must be CONTINUE. */
    CHECK_INT(feed(&s, "0000001c 20008086 00000001 00000005 00000001 00000001 00000000"), 28);
    CHECK_INT(feed(&s, "00000020 20008086 00000001 00000005 00000005 00000001 00000000 00000001"), 32);
    CHECK_INT(virtwire_transport_need(s.t).kind, VIRTWIRE_NEED_BYTES);
    CHECK_INT(feed(&s, "0000001c 20008086 00000001 00000005 00000002 00000001 00000000"), 28);
    CHECK_INT(virtwire_transport_stream_open(s.progs[0], 208, 4, VIRTWIRE_STREAM_SPARSE), 0);
    CHECK_INT(feed(&s, "00000028 20008086 00000001 000000d0 00000006 00000004 00000000"
                       " 00000000 00000001 00000000"), 40);
    CHECK_INT(feed(&s, "0000001c 20008086 00000001 000000d0 00000003 00000004 00000005"), 28);
    /* libvirt's server matches a stream's procedure too. */
    CHECK_INT(feed(&s, "0000001c 20008086 00000001 000000d1 00000003 00000004 00000002"), 28);
    CHECK_STR(vt_buf_str(&s.log),
              "E dropped VIRTWIRE_EMSG_STATUS type=0 serial=9 status=3\n"
              "E dropped VIRTWIRE_EMSG_COMBINATION type=0 serial=10 status=2\n"
              "E dropped VIRTWIRE_EMSG_ROLE type=1 serial=1 status=0\n"
              "E dropped VIRTWIRE_EMSG_ROLE type=5 serial=1 status=0\n"
              "E dropped VIRTWIRE_EMSG_ROLE type=2 serial=1 status=0\n"
              "E dropped VIRTWIRE_EMSG_COMBINATION type=6 serial=4 status=0\n"
              "E dropped VIRTWIRE_EMSG_STATUS type=3 serial=4 status=5\n"
              "E dropped VIRTWIRE_ESTREAM type=3 serial=4 status=2\n");
    CHECK_INT(virtwire_transport_error(s.t), 0);
    tl_endpoint_fini(&s);

    /* Client: events must be OK; a CALL is fatal (libvirt closes). */
    setup(&c, VIRTWIRE_TRANSPORT_CLIENT);
    CHECK_INT(feed(&c, "0000001c 20008086 00000001 0000013e 00000002 00000001 00000001"), 28);
    CHECK_INT(feed(&c, "0000001c 20008086 00000001 0000013e 00000002 00000001 00000004"), 28);
    CHECK_INT(feed(&c, "0000001c 20008086 00000001 00000001 00000004 00000000 00000000"),
              VIRTWIRE_EMSG_ROLE);
    CHECK_STR(vt_buf_str(&c.log),
              "E dropped VIRTWIRE_EMSG_COMBINATION type=2 serial=1 status=1\n"
              "E dropped VIRTWIRE_EMSG_STATUS type=2 serial=1 status=4\n"
              "E fatal VIRTWIRE_EMSG_ROLE type=4 serial=0 status=0\n");
    tl_endpoint_fini(&c);
    setup(&c, VIRTWIRE_TRANSPORT_CLIENT);
    CHECK_INT(feed(&c, "0000001c 20008086 00000001 00000001 00000000 00000000 00000000"),
              VIRTWIRE_EMSG_ROLE);
    tl_endpoint_fini(&c);
}

static void test_replies(void)
{
    tl_endpoint c;
    setup(&c, VIRTWIRE_TRANSPORT_CLIENT);
    for (int i = 0; i < 3; i++)
        CHECK_INT(virtwire_transport_send(c.progs[0], 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0), i);
    /* A remote_error that does not decode: dropped, the call is done. */
    CHECK_INT(feed(&c, "00000024 20008086 00000001 00000001 00000001 00000000 00000001 0000002a 0000000c"), 36);
    /* A remote_error flag that is not 0 or 1. */
    CHECK_INT(feed(&c, "00000048 20008086 00000001 00000001 00000001 00000001 00000001 |"
                       " 0000002a 0000000c 00000002 00000002 00000000 00000000 00000000 00000000"
                       " 00000000 00000000 00000000"), 72);
    /* The same serial again matches nothing now: fatal. */
    CHECK_INT(feed(&c, "0000001c 20008086 00000001 00000001 00000001 00000000 00000000"),
              VIRTWIRE_EREPLY_SERIAL);
    CHECK_STR(vt_buf_str(&c.log),
              "E dropped VIRTWIRE_EPAYLOAD type=1 serial=0 status=1\n"
              "E dropped VIRTWIRE_EPAYLOAD type=1 serial=1 status=1\n"
              "E fatal VIRTWIRE_EREPLY_SERIAL type=1 serial=0 status=0\n");
    check_latched(&c, VIRTWIRE_EREPLY_SERIAL);
    tl_endpoint_fini(&c);

    /* A reply for a program and version nobody called. */
    setup(&c, VIRTWIRE_TRANSPORT_CLIENT);
    CHECK_INT(virtwire_transport_send(c.progs[0], 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0), 0);
    CHECK_INT(feed(&c, "0000001c 20008086 00000002 00000001 00000001 00000000 00000000"),
              VIRTWIRE_EREPLY_SERIAL);
    tl_endpoint_fini(&c);

    /* A hole that does not decode. */
    setup(&c, VIRTWIRE_TRANSPORT_CLIENT);
    CHECK_INT(virtwire_transport_stream_open(c.progs[0], 208, 7, VIRTWIRE_STREAM_SPARSE), 0);
    CHECK_INT(feed(&c, "00000024 20008086 00000001 000000d0 00000006 00000007 00000002 00000000 00000001"), 36);
    CHECK_STR(vt_buf_str(&c.log), "E dropped VIRTWIRE_EPAYLOAD type=6 serial=7 status=2\n");
    tl_endpoint_fini(&c);
}

static void test_fds(void)
{
    tl_endpoint s;
    /* More than 32 fds announced: fatal before any fd is asked for. */
    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    CHECK_INT(feed(&s, "00000020 20008086 00000001 00000136 00000004 00000000 00000000 00000021"),
              VIRTWIRE_EFDS_MAX);
    tl_endpoint_fini(&s);
    /* 32 is the limit. */
    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    CHECK_INT(feed(&s, "00000020 20008086 00000001 00000136 00000004 00000000 00000000 00000020"), 32);
    CHECK_INT(virtwire_transport_need(s.t).kind, VIRTWIRE_NEED_FDS);
    CHECK_INT(virtwire_transport_need(s.t).count, 32);
    tl_endpoint_fini(&s);
    /* A *_WITH_FDS frame without room for the count. */
    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    CHECK_INT(feed(&s, "0000001c 20008086 00000001 00000136 00000004 00000000 00000000"),
              VIRTWIRE_EFRAME_SHORT);
    tl_endpoint_fini(&s);

    /* An fd when bytes are expected: fatal, and the fd is closed. */
    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    int fd = devnull();
    CHECK_INT(virtwire_transport_receive_fd(s.t, fd), VIRTWIRE_EFD_UNEXPECTED);
    CHECK(!fd_is_open(fd));
    CHECK_STR(vt_buf_str(&s.log), "E fatal VIRTWIRE_EFD_UNEXPECTED\n");
    tl_endpoint_fini(&s);
    CHECK_INT(virtwire_transport_receive_fd(NULL, -1), VIRTWIRE_EINVAL);

    /* Bytes when fds are expected: fatal, and the fds received so far are
     * closed.  The frame and the bytes after it stay unconsumed. */
    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    size_t n = vt_hex("00000020 20008086 00000001 00000136 00000004 00000000 00000000 00000002"
                      "0000001c 20008086 00000001 00000001 00000000 00000001 00000000",
                      buf, sizeof(buf));
    CHECK_INT(virtwire_transport_receive(s.t, buf, n), 32);
    CHECK_INT(virtwire_transport_receive(s.t, buf + 32, 0), 0);
    int fd1 = devnull();
    CHECK_INT(virtwire_transport_receive_fd(s.t, fd1), 0);
    CHECK(fd_is_open(fd1));
    CHECK_INT(virtwire_transport_need(s.t).count, 1);
    CHECK_INT(virtwire_transport_receive(s.t, buf + 32, n - 32), VIRTWIRE_EFD_MISSING);
    CHECK(!fd_is_open(fd1));
    CHECK_STR(vt_buf_str(&s.log), "E fatal VIRTWIRE_EFD_MISSING\n");
    tl_endpoint_fini(&s);

    /* Freeing a transport that holds fds closes them. */
    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    CHECK_INT(feed(&s, "00000020 20008086 00000001 00000136 00000004 00000000 00000000 00000003"), 32);
    int a = devnull(), b = devnull();
    CHECK_INT(virtwire_transport_receive_fd(s.t, a), 0);
    CHECK_INT(virtwire_transport_receive_fd(s.t, b), 0);
    tl_endpoint_fini(&s);
    CHECK(!fd_is_open(a));
    CHECK(!fd_is_open(b));

    /* fds of a refused frame are read (as libvirt does) and closed. */
    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    CHECK_INT(feed(&s, "00000020 99999999 00000001 00000136 00000004 00000000 00000000 00000001"), 32);
    a = devnull();
    CHECK_INT(virtwire_transport_receive_fd(s.t, a), 0);
    CHECK(!fd_is_open(a));
    CHECK_INT(s.frames, 1); /* the ERROR reply */
    tl_endpoint_fini(&s);
}

static int fail_cb(tl_endpoint *e, char kind, virtwire_transport_program *p,
                   const virtwire_transport_msg *m)
{
    (void)e;
    (void)kind;
    (void)p;
    (void)m;
    return -42;
}

/* Calls that a callback must not make. */
static int reenter_cb(tl_endpoint *e, char kind, virtwire_transport_program *p,
                      const virtwire_transport_msg *m)
{
    (void)kind;
    (void)p;
    (void)m;
    CHECK_INT(virtwire_transport_receive(e->t, "x", 1), VIRTWIRE_EREENTRANT);
    CHECK_INT(virtwire_transport_keepalive_tick(e->t), VIRTWIRE_EREENTRANT);
    int fd = devnull();
    CHECK_INT(virtwire_transport_receive_fd(e->t, fd), VIRTWIRE_EREENTRANT);
    CHECK(!fd_is_open(fd));
    /* Sending from a callback is allowed. */
    CHECK_INT(virtwire_transport_send(p, 1, VIR_NET_REPLY, VIR_NET_OK, m->hdr.serial, NULL, 0, NULL, 0),
              m->hdr.serial);
    return 0;
}

static int send_in_on_send(virtwire_transport *t, const struct iovec *iov, size_t niov,
                           const int *fds, size_t nfds, void *opaque)
{
    (void)t;
    (void)iov;
    (void)niov;
    (void)fds;
    (void)nfds;
    virtwire_transport_program *p = *(virtwire_transport_program **)opaque;
    CHECK_INT(virtwire_transport_send(p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0),
              VIRTWIRE_EREENTRANT);
    /* Not even through the scratch buffer, which may be what is sent. */
    virNetStreamHole hole = { 1, 0 };
    CHECK_INT(virtwire_transport_send_value(p, 1, VIR_NET_CALL, VIR_NET_OK, 0,
                                            &virNetStreamHole_desc, &hole, NULL, 0),
              VIRTWIRE_EREENTRANT);
    return 0;
}

static void test_callbacks_and_misuse(void)
{
    tl_endpoint s;
    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    s.hook = fail_cb;
    CHECK_INT(feed(&s, "0000001c 20008086 00000001 00000001 00000000 00000000 00000000"),
              VIRTWIRE_ECALLBACK);
    check_latched(&s, VIRTWIRE_ECALLBACK);
    tl_endpoint_fini(&s);

    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    s.hook = reenter_cb;
    CHECK_INT(feed(&s, "0000001c 20008086 00000001 00000001 00000000 00000003 00000000"), 28);
    CHECK_INT(s.frames, 1);
    CHECK_INT(virtwire_transport_error(s.t), 0);
    tl_endpoint_fini(&s);

    /* A PONG that cannot be sent is fatal. */
    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    s.fail_send = 1;
    CHECK_INT(feed(&s, "0000001c 6b656570 00000001 00000001 00000002 00000000 00000000"),
              VIRTWIRE_ESEND);
    tl_endpoint_fini(&s);
    /* So is a PING that cannot be sent. */
    setup(&s, VIRTWIRE_TRANSPORT_CLIENT);
    CHECK_INT(virtwire_transport_keepalive_start(s.t, 10, 3), 0);
    s.fail_send = 1;
    s.now = 10;
    CHECK_INT(virtwire_transport_keepalive_tick(s.t), VIRTWIRE_ESEND);
    CHECK_INT(virtwire_transport_error(s.t), VIRTWIRE_ESEND);
    tl_endpoint_fini(&s);
    /* A void payload through send_value. */
    setup(&s, VIRTWIRE_TRANSPORT_CLIENT);
    CHECK_INT(virtwire_transport_send_value(s.progs[0], 66, VIR_NET_CALL, VIR_NET_OK, 0, NULL,
                                            NULL, NULL, 0),
              0);
    CHECK_INT(s.out.len, 28);
    /* Finishing a stream that is not open just sends the packet. */
    CHECK_INT(virtwire_transport_stream_finish(s.progs[0], 208, 5), 0);
    CHECK_INT(s.out.len, 56);
    tl_endpoint_fini(&s);
    /* So is an automatic error reply. */
    setup(&s, VIRTWIRE_TRANSPORT_SERVER);
    s.fail_send = 1;
    CHECK_INT(feed(&s, "0000001c 11111111 00000001 00000001 00000000 00000000 00000000"),
              VIRTWIRE_ESEND);
    tl_endpoint_fini(&s);

    /* on_send must not send. */
    virtwire_transport *t;
    virtwire_transport_program *p = NULL;
    virtwire_transport_callbacks cbs = { .size = sizeof cbs, .on_send = send_in_on_send };
    CHECK_INT(virtwire_transport_new(VIRTWIRE_TRANSPORT_CLIENT, &cbs, &p, &t), 0);
    virtwire_transport_program_callbacks pcbs = { .size = sizeof pcbs };
    CHECK_INT(virtwire_transport_register(t, REMOTE, 1, &pcbs, NULL, &p), 0);
    CHECK_INT(virtwire_transport_send(p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0), 0);
    CHECK(virtwire_transport_program_transport(p) == t);
    CHECK_INT(virtwire_transport_get_role(t), VIRTWIRE_TRANSPORT_CLIENT);

    /* Invalid arguments. */
    virtwire_transport_program *q;
    CHECK_INT(virtwire_transport_register(t, REMOTE, 1, &pcbs, NULL, &q), VIRTWIRE_EINVAL);
    CHECK_INT(virtwire_transport_register(t, 0x6b656570, 1, &pcbs, NULL, &q), VIRTWIRE_EINVAL);
    CHECK_INT(virtwire_transport_register(t, REMOTE, 2, NULL, NULL, &q), VIRTWIRE_EINVAL);
    CHECK_INT(virtwire_transport_keepalive_start(t, 1000, 5), VIRTWIRE_EINVAL); /* no clock */
    CHECK_INT(virtwire_transport_receive(t, NULL, 1), VIRTWIRE_EINVAL);
    CHECK_INT(virtwire_transport_send(p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 1, NULL, 0),
              VIRTWIRE_EINVAL);
    CHECK_INT(virtwire_transport_sendv(p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 16, NULL, 0),
              VIRTWIRE_EINVAL);
    CHECK_INT(virtwire_transport_send_value(p, 1, VIR_NET_CALL, VIR_NET_OK, 0,
                                            &virNetStreamHole_desc, NULL, NULL, 0),
              VIRTWIRE_EINVAL);
    struct iovec bad[2] = { { NULL, 1 }, { NULL, 0 } };
    CHECK_INT(virtwire_transport_sendv(p, 1, VIR_NET_CALL, VIR_NET_OK, 0, bad, 1, NULL, 0),
              VIRTWIRE_EINVAL);
    bad[0].iov_base = bad;
    bad[0].iov_len = (size_t)33554437;
    CHECK_INT(virtwire_transport_sendv(p, 1, VIR_NET_CALL, VIR_NET_OK, 0, bad, 1, NULL, 0),
              VIRTWIRE_EFRAME_LENGTH);
    virtwire_transport_free(t);
    virtwire_transport_free(NULL);
    cbs.on_send = NULL;
    CHECK_INT(virtwire_transport_new(VIRTWIRE_TRANSPORT_CLIENT, &cbs, NULL, &t), VIRTWIRE_EINVAL);
    CHECK(t == NULL);
    cbs.on_send = send_in_on_send;
    CHECK_INT(virtwire_transport_new((virtwire_transport_role)2, &cbs, NULL, &t), VIRTWIRE_EINVAL);

    /* Every transport code has a name and a text; others fall through. */
    for (int code = VIRTWIRE_EREENTRANT; code <= VIRTWIRE_EFRAME_LENGTH; code++) {
        CHECK(virtwire_error_name(code) != NULL);
        CHECK(strcmp(virtwire_strerror(code), "unknown error") != 0);
    }
    CHECK_STR(virtwire_strerror(VIRTWIRE_ENOMEM), "out of memory");
    CHECK(virtwire_error_name(-19) == NULL);
    /* Fatal wherever returned, fatal in some places only, never fatal
     * (tests/bad-input checks each against what the runtime did). */
    CHECK(virtwire_error_is_fatal(VIRTWIRE_EFRAME_LENGTH));
    CHECK(virtwire_error_is_fatal(VIRTWIRE_ECLOSED));
    CHECK(!virtwire_error_is_fatal(VIRTWIRE_EMSG_ROLE));
    CHECK(!virtwire_error_is_fatal(VIRTWIRE_EPROGRAM));
    CHECK(!virtwire_error_is_fatal(VIRTWIRE_OK));
    CHECK(!virtwire_error_is_fatal(-19));
}

/* xorshift32: a fixed-seed generator, so that failures replay. */
static uint32_t rnd(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Random garbage and truncated input, in both roles: the
 * transport either consumes the input or fails cleanly, and whatever fds
 * it took are closed by the end. */
static void test_garbage(void)
{
    int before = vt_count_fds(0);
    uint32_t seed = 7;
    /* How far the inputs got: each kind must show up, or the generator
     * below has stopped exercising the transport. */
    size_t delivered = 0, dropped = 0, fatal = 0, with_fds = 0;
    for (int run = 0; run < 3000; run++) {
        tl_endpoint e;
        setup(&e, (virtwire_transport_role)(run & 1));
        virtwire_transport_stream_open(e.progs[0], 208, 1, VIRTWIRE_STREAM_SPARSE);
        for (int i = 0; i < 64; i++)
            virtwire_transport_send(e.progs[0], 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0);
        size_t n = 0;
        /* Plausible frames with random words, so that most get past the
         * length check and many are valid: remote v1, the types the role
         * receives, the open stream's proc and serial, serials in flight;
         * then sometimes anything. */
        static const uint32_t rx_types[2][5] = { { 1, 2, 3, 5, 6 }, { 0, 3, 4, 6, 0 } };
        while (n + 128 < sizeof(buf) && n < 600) {
            uint32_t flen = 28 + rnd(&seed) % 40;
            uint32_t pr = rnd(&seed) % 10;
            uint32_t words[7] = {
                flen,
                pr < 7 ? 0x20008086u : pr < 9 ? 0x6b656570u : 0x12345678u,
                rnd(&seed) % 16 ? 1 : 2,
                rnd(&seed) % 2 ? 1 : 208,
                rnd(&seed) % 16 ? rx_types[run & 1][rnd(&seed) % 5] : rnd(&seed) % 10,
                rnd(&seed) % 3 ? rnd(&seed) % 64 : 1,
                rnd(&seed) % 16 ? rnd(&seed) % 3 : rnd(&seed) % 5,
            };
            for (int w = 0; w < 7; w++) {
                buf[n++] = (unsigned char)(words[w] >> 24);
                buf[n++] = (unsigned char)(words[w] >> 16);
                buf[n++] = (unsigned char)(words[w] >> 8);
                buf[n++] = (unsigned char)words[w];
            }
            for (uint32_t i = 28; i < flen; i++)
                buf[n++] = rnd(&seed) % 8 ? (i == 31 ? (unsigned char)(rnd(&seed) % 3) : 0)
                                          : (unsigned char)rnd(&seed);
            if (rnd(&seed) % 64 == 0) /* sometimes pure noise */
                buf[n - 1 - rnd(&seed) % 28] ^= (unsigned char)rnd(&seed);
        }
        size_t off = 0;
        size_t cut = rnd(&seed) % 4 ? n : rnd(&seed) % (n + 1); /* and truncations */
        while (off < cut) {
            virtwire_need need = virtwire_transport_need(e.t);
            if (need.kind == VIRTWIRE_NEED_FDS) {
                if (virtwire_transport_receive_fd(e.t, devnull()) < 0)
                    break;
                continue;
            }
            ssize_t r = virtwire_transport_receive(e.t, buf + off, cut - off);
            if (r < 0) {
                CHECK(virtwire_transport_error(e.t) == r);
                break;
            }
            CHECK(r > 0 || virtwire_transport_need(e.t).kind == VIRTWIRE_NEED_FDS);
            off += (size_t)r;
        }
        for (const char *l = vt_buf_str(&e.log); *l; l = strchr(l, '\n') + 1) {
            delivered += l[0] != 'E';
            dropped += strncmp(l, "E dropped", 9) == 0;
            fatal += strncmp(l, "E fatal", 7) == 0;
            with_fds += l[0] != 'E' && !strstr(l, " fds=0");
        }
        tl_endpoint_fini(&e);
    }
    CHECK_INT(vt_count_fds(0), before);
    printf("garbage: %zu delivered (%zu with fds), %zu dropped, %zu fatal\n", delivered, with_fds,
           dropped, fatal);
    CHECK(delivered > 1000 && dropped > 1000 && fatal > 1000 && with_fds > 10);
}

static void never_on_error(virtwire_transport *t, int code, const virNetMessageHeader *hdr,
                           int fatal, void *opaque)
{
    (void)t, (void)code, (void)hdr, (void)fatal, (void)opaque;
    CHECK(!"on_error past the caller's size was called");
}

/* Structures that can grow (docs/reference.md): the size word says which
 * members the caller knows of. */
static void test_sized_structures(void)
{
    virtwire_transport *t = NULL;
    virtwire_transport_program *p = NULL;
    virtwire_transport_callbacks cbs = { .on_send = send_in_on_send };

    /* No size: refused, whatever the members say. */
    CHECK_INT(virtwire_transport_new(VIRTWIRE_TRANSPORT_CLIENT, &cbs, NULL, &t), VIRTWIRE_EINVAL);
    CHECK(t == NULL);
    /* A size below the size word itself, or absurdly large: refused. */
    cbs.size = sizeof(size_t) - 1;
    CHECK_INT(virtwire_transport_new(VIRTWIRE_TRANSPORT_CLIENT, &cbs, NULL, &t), VIRTWIRE_EINVAL);
    cbs.size = (size_t)1 << 20;
    CHECK_INT(virtwire_transport_new(VIRTWIRE_TRANSPORT_CLIENT, &cbs, NULL, &t), VIRTWIRE_EINVAL);

    /* A caller built against a newer header: its structure is larger.
     * Unknown members that are zero are fine; a non-zero one is refused
     * rather than ignored. */
    struct {
        virtwire_transport_callbacks known;
        void (*later)(void);
    } newer = { .known = { .on_send = send_in_on_send } };
    newer.known.size = sizeof newer;
    CHECK_INT(virtwire_transport_new(VIRTWIRE_TRANSPORT_CLIENT, &newer.known, NULL, &t), 0);
    virtwire_transport_free(t);
    t = NULL;
    newer.later = (void (*)(void))test_sized_structures;
    CHECK_INT(virtwire_transport_new(VIRTWIRE_TRANSPORT_CLIENT, &newer.known, NULL, &t),
              VIRTWIRE_EINVAL);
    CHECK(t == NULL);

    /* A caller built against an older header: members past its size are
     * taken as NULL even when its memory holds something there. */
    virtwire_transport_callbacks older = { .size = offsetof(virtwire_transport_callbacks,
                                                            on_error),
                                           .on_send = send_in_on_send,
                                           .on_error = never_on_error };
    CHECK_INT(virtwire_transport_new(VIRTWIRE_TRANSPORT_CLIENT, &older, NULL, &t), 0);
    /* A frame of an unknown type is fatal and reported to on_error, which
     * must not be called: the caller did not know of it. */
    static const unsigned char bad_type[] = { 0, 0, 0, 28, 0x20, 0, 0x80, 0x86, 0, 0, 0, 1,
                                              0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0 };
    CHECK(virtwire_transport_receive(t, bad_type, sizeof bad_type) < 0);
    CHECK_INT(virtwire_transport_error(t), VIRTWIRE_EMSG_TYPE);

    /* The same rule for program callbacks. */
    virtwire_transport_program_callbacks pcbs = { 0 };
    CHECK_INT(virtwire_transport_register(t, REMOTE, 1, &pcbs, NULL, &p), VIRTWIRE_EINVAL);
    pcbs.size = sizeof pcbs;
    CHECK_INT(virtwire_transport_register(t, REMOTE, 1, &pcbs, NULL, &p), 0);
    virtwire_transport_free(t);
}

int main(void)
{
    test_sized_structures();
    test_length_word();
    test_type_and_status();
    test_replies();
    test_fds();
    test_callbacks_and_misuse();
    test_garbage();
    return vt_finish("transport.errors");
}
