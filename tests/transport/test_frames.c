/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Byte-exact frames of every message type, in both directions.
 *
 * The expected bytes are written out by hand from docs/protocol.md (the
 * PING and CONNECT_OPEN frames are quoted there from real traffic, in
 * "Keepalive" and "Connection setup") and from the XDR layout of
 * virNetMessageHeader, remote_error and virNetStreamHole; none comes from
 * the code under test.  Each outgoing frame is also fed to a peer, whose
 * decoded view is checked.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote_protocol.h"
#include "tlib.h"

#define REMOTE 0x20008086u

static unsigned char want[1024];

/* Checks that e sent exactly the frame written in hex, then clears it. */
#define CHECK_SENT(e, hexstr)                                                  \
    do {                                                                       \
        size_t wn_ = vt_hex(hexstr, want, sizeof(want));                       \
        CHECK_MEM((e)->out.p, (e)->out.len, want, wn_);                        \
    } while (0)

static void test_ping_pong(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);

    /* docs/protocol.md, "Keepalive": the PING bytes. */
    c.now = 1000;
    CHECK_INT(virtwire_transport_keepalive_start(c.t, 5000, 5), 0);
    c.now = 6000;
    CHECK_INT(virtwire_transport_keepalive_tick(c.t), 0);
    CHECK_SENT(&c, "0000001c 6b656570 00000001 00000001 00000002 00000000 00000000");
    CHECK_INT(c.last_niov, 1);

    /* The server answers with a PONG (proc 2) at once, and no program
     * callback sees either. */
    CHECK_INT(tl_pump(&c, &s), 0);
    CHECK_SENT(&s, "0000001c 6b656570 00000001 00000002 00000002 00000000 00000000");
    CHECK_STR(vt_buf_str(&s.log), "");
    CHECK_INT(tl_pump(&s, &c), 0);
    CHECK_INT(c.out.len, 0); /* a PONG is not answered */
    CHECK_STR(vt_buf_str(&c.log), "");

    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

static void test_connect_open(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *rc = tl_register(&c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION);
    tl_register(&s, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION);

    /* virsh's order: AUTH_LIST (serial 0), SUPPORTS_FEATURE (1), then
     * CONNECT_OPEN with serial 2 (docs/protocol.md, "Connection setup"). */
    CHECK_INT(virtwire_transport_send(rc, REMOTE_PROC_AUTH_LIST, VIR_NET_CALL, VIR_NET_OK, 77,
                                      NULL, 0, NULL, 0),
              0);
    CHECK_SENT(&c, "0000001c 20008086 00000001 00000042 00000000 00000000 00000000");
    unsigned char feature[4] = { 0, 0, 0, 10 };
    CHECK_INT(virtwire_transport_send(rc, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, VIR_NET_CALL,
                                      VIR_NET_OK, 0, feature, 4, NULL, 0),
              1);
    /* The payload chunk is the caller's buffer itself. */
    CHECK_INT(c.last_niov, 2);
    CHECK_INT(c.last_iov_len[0], 28);
    CHECK(c.last_iov_base[1] == feature);
    tl_endpoint_clear_out(&c);

    char *name = "test:///default";
    remote_connect_open_args args = { &name, 0 };
    CHECK_INT(virtwire_transport_send_value(rc, REMOTE_PROC_CONNECT_OPEN, VIR_NET_CALL, VIR_NET_OK,
                                            0, &remote_connect_open_args_desc, &args, NULL, 0),
              2);
    CHECK_SENT(&c, "00000038 20008086 00000001 00000001 00000000 00000002 00000000 |"
                   " 00000001 0000000f \"test:///default\" 00 | 00000000");

    CHECK_INT(tl_pump(&c, &s), 0);
    CHECK_STR(vt_buf_str(&s.log),
              "C prog=20008086 vers=1 proc=1 type=0 serial=2 status=0 len=28 data="
              "000000010000000f746573743a2f2f2f64656661756c740000000000 fds=0\n");
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

/* A client with three calls in flight (serials 0, 1, 2) of remote. */
static virtwire_transport_program *client_with_calls(tl_endpoint *c)
{
    tl_endpoint_init(c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    virtwire_transport_program *p = tl_register(c, REMOTE, 1);
    for (int i = 0; i < 3; i++)
        CHECK_INT(virtwire_transport_send(p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0), i);
    tl_endpoint_clear_out(c);
    return p;
}

static void test_replies(void)
{
    tl_endpoint c, s;
    client_with_calls(&c);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *sp = tl_register(&s, REMOTE, 1);

    /* REPLY/OK, empty. */
    CHECK_INT(virtwire_transport_send(sp, 1, VIR_NET_REPLY, VIR_NET_OK, 2, NULL, 0, NULL, 0), 2);
    CHECK_SENT(&s, "0000001c 20008086 00000001 00000001 00000001 00000002 00000000");
    CHECK_INT(tl_pump(&s, &c), 0);

    /* REPLY/ERROR with the error seen on the wire (code 42, domain 12,
     * "Domain not found"), every optional field NULL. */
    char *msg = "Domain not found";
    virNetMessageError err;
    memset(&err, 0, sizeof(err));
    err.code = 42;
    err.domain = 12;
    err.message = &msg;
    err.level = 2;
    CHECK_INT(virtwire_transport_send_error(sp, 23, 1, &err), 1);
    CHECK_SENT(&s, "0000005c 20008086 00000001 00000017 00000001 00000001 00000001 |"
                   " 0000002a 0000000c 00000001 00000010 \"Domain not found\" 00000002"
                   " 00000000 00000000 00000000 00000000 00000000 00000000 00000000");
    CHECK_INT(tl_pump(&s, &c), 0);

    /* "An error with all optional fields NULL is 44 bytes." */
    err.message = NULL;
    CHECK_INT(virtwire_transport_send_error(sp, 1, 0, &err), 0);
    CHECK_INT(s.out.len, 28 + 44);
    CHECK_INT(tl_pump(&s, &c), 0);

    CHECK_STR(vt_buf_str(&c.log),
              "R prog=20008086 vers=1 proc=1 type=1 serial=2 status=0 len=0 data= fds=0\n"
              "R prog=20008086 vers=1 proc=23 type=1 serial=1 status=1 len=64 data="
              "0000002a0000000c0000000100000010446f6d61696e206e6f7420666f756e6400000002"
              "00000000000000000000000000000000000000000000000000000000 fds=0 "
              "error=42/12/2/Domain not found\n"
              "R prog=20008086 vers=1 proc=1 type=1 serial=0 status=1 len=44 data="
              "0000002a0000000c0000000000000002"
              "00000000000000000000000000000000000000000000000000000000 fds=0 "
              "error=42/12/2/(null)\n");
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

static void test_event(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    tl_register(&c, REMOTE, 1);
    virtwire_transport_program *sp = tl_register(&s, REMOTE, 1);
    unsigned char body[4] = { 0xde, 0xad, 0xbe, 0xef };
    /* Events go as MESSAGE with serial 1. */
    CHECK_INT(virtwire_transport_send(sp, 318, VIR_NET_MESSAGE, VIR_NET_OK, 1, body, 4, NULL, 0), 1);
    CHECK_SENT(&s, "00000020 20008086 00000001 0000013e 00000002 00000001 00000000 | deadbeef");
    CHECK_INT(tl_pump(&s, &c), 0);
    CHECK_STR(vt_buf_str(&c.log),
              "M prog=20008086 vers=1 proc=318 type=2 serial=1 status=0 len=4 data=deadbeef fds=0\n");
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

static void test_streams(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *cp = tl_register(&c, REMOTE, 1);
    virtwire_transport_program *sp = tl_register(&s, REMOTE, 1);
    CHECK_INT(virtwire_transport_stream_open(cp, 208, 7, VIRTWIRE_STREAM_SPARSE), 0);
    CHECK_INT(virtwire_transport_stream_open(sp, 208, 7, VIRTWIRE_STREAM_SPARSE), 0);

    /* Data: raw bytes, no length word, no padding. */
    const char *data = "abcde";
    CHECK_INT(virtwire_transport_stream_send_data(cp, 208, 7, data, 5), 0);
    CHECK_SENT(&c, "00000021 20008086 00000001 000000d0 00000003 00000007 00000002 | \"abcde\"");
    CHECK(c.last_iov_base[1] == data);
    CHECK_INT(tl_pump(&c, &s), 0);

    /* A hole of 0x100000003 bytes: virNetStreamHole { hyper; u_int }. */
    CHECK_INT(virtwire_transport_stream_send_hole(cp, 208, 7, INT64_C(0x100000003), 0), 0);
    CHECK_SENT(&c, "00000028 20008086 00000001 000000d0 00000006 00000007 00000002 |"
                   " 00000001 00000003 00000000");
    CHECK_INT(tl_pump(&c, &s), 0);

    /* End of data: an empty CONTINUE. */
    CHECK_INT(virtwire_transport_stream_send_eof(cp, 208, 7), 0);
    CHECK_SENT(&c, "0000001c 20008086 00000001 000000d0 00000003 00000007 00000002");
    CHECK_INT(tl_pump(&c, &s), 0);

    /* Finish: STREAM/OK, empty; the server confirms the same way. */
    CHECK_INT(virtwire_transport_stream_finish(cp, 208, 7), 0);
    CHECK_SENT(&c, "0000001c 20008086 00000001 000000d0 00000003 00000007 00000000");
    CHECK_INT(tl_pump(&c, &s), 0);
    CHECK_INT(virtwire_transport_stream_finish(sp, 208, 7), 0);
    CHECK_INT(tl_pump(&s, &c), 0);
    /* Both sides are done with it. */
    CHECK(!virtwire_transport_stream_is_open(cp, 7));
    CHECK(!virtwire_transport_stream_is_open(sp, 7));

    /* Abort: STREAM/ERROR, empty. */
    CHECK_INT(virtwire_transport_stream_open(cp, 209, 8, 0), 0);
    CHECK_INT(virtwire_transport_stream_open(sp, 209, 8, 0), 0);
    CHECK_INT(virtwire_transport_stream_abort(cp, 209, 8), 0);
    CHECK_SENT(&c, "0000001c 20008086 00000001 000000d1 00000003 00000008 00000001");
    CHECK_INT(tl_pump(&c, &s), 0);

    /* Server error: STREAM/ERROR with a remote_error. */
    virNetMessageError err;
    memset(&err, 0, sizeof(err));
    err.code = 1;
    err.domain = 18;
    err.level = 2;
    err.int1 = -1;
    CHECK_INT(virtwire_transport_stream_send_error(sp, 209, 8, &err), 0);
    CHECK_SENT(&s, "00000048 20008086 00000001 000000d1 00000003 00000008 00000001 |"
                   " 00000001 00000012 00000000 00000002 00000000 00000000 00000000 00000000"
                   " ffffffff 00000000 00000000");
    CHECK_INT(tl_pump(&s, &c), 0);
    CHECK(!virtwire_transport_stream_is_open(cp, 8));
    CHECK(!virtwire_transport_stream_is_open(sp, 8));

    CHECK_STR(vt_buf_str(&s.log),
              "S prog=20008086 vers=1 proc=208 type=3 serial=7 status=2 len=5 data=6162636465 fds=0\n"
              "S prog=20008086 vers=1 proc=208 type=6 serial=7 status=2 len=12 "
              "data=000000010000000300000000 fds=0 hole=4294967299/0\n"
              "S prog=20008086 vers=1 proc=208 type=3 serial=7 status=2 len=0 data= fds=0\n"
              "S prog=20008086 vers=1 proc=208 type=3 serial=7 status=0 len=0 data= fds=0\n"
              "S prog=20008086 vers=1 proc=209 type=3 serial=8 status=1 len=0 data= fds=0\n");
    CHECK_STR(vt_buf_str(&c.log),
              "S prog=20008086 vers=1 proc=208 type=3 serial=7 status=0 len=0 data= fds=0\n"
              "S prog=20008086 vers=1 proc=209 type=3 serial=8 status=1 len=44 data="
              "000000010000001200000000000000020000000000000000000000000000"
              "0000ffffffff0000000000000000 fds=0 error=1/18/2/(null)\n");
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

/* Data longer than a packet: 262120-byte packets that point into the
 * caller's buffer. */
static void test_stream_packets(void)
{
    tl_endpoint c;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    virtwire_transport_program *cp = tl_register(&c, REMOTE, 1);
    size_t n = 600000;
    unsigned char *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 7);
    CHECK_INT(virtwire_transport_stream_send_data(cp, 209, 3, data, n), 0);
    CHECK_INT(c.frames, 3);
    size_t sizes[3] = { 262120, 262120, 75760 };
    size_t off = 0, start = 0;
    for (size_t f = 0; f < 3 && f < c.frames; f++) {
        size_t flen = 28 + sizes[f];
        CHECK_INT(c.frame_end[f] - start, flen);
        vt_hex("00000000 20008086 00000001 000000d1 00000003 00000003 00000002", want, 28);
        want[0] = (unsigned char)(flen >> 24);
        want[1] = (unsigned char)(flen >> 16);
        want[2] = (unsigned char)(flen >> 8);
        want[3] = (unsigned char)flen;
        CHECK_MEM(c.out.p + start, 28, want, 28);
        CHECK_MEM(c.out.p + start + 28, sizes[f], data + off, sizes[f]);
        CHECK(c.frame_payload[f] == data + off);
        off += sizes[f];
        start += flen;
    }
    /* A smaller packet size is honoured too. */
    tl_endpoint_clear_out(&c);
    CHECK_INT(virtwire_transport_set_stream_packet_max(c.t, 1000), 0);
    CHECK_INT(virtwire_transport_stream_send_data(cp, 209, 3, data, 2500), 0);
    CHECK_INT(c.frames, 3);
    CHECK_INT(c.out.len, 3 * 28 + 2500);
    CHECK_INT(virtwire_transport_set_stream_packet_max(c.t, 0), VIRTWIRE_EINVAL);
    /* len 0 sends nothing. */
    tl_endpoint_clear_out(&c);
    CHECK_INT(virtwire_transport_stream_send_data(cp, 209, 3, data, 0), 0);
    CHECK_INT(c.frames, 0);
    free(data);
    tl_endpoint_fini(&c);
}

static void test_fd_frames(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *cp = tl_register(&c, REMOTE, 1);
    virtwire_transport_program *sp = tl_register(&s, REMOTE, 1);

    /* CALL_WITH_FDS: the fd count right after the header, then the args. */
    int fds[2] = { 0, 2 }; /* never closed by anyone: borrowed */
    unsigned char args[8] = { 0, 0, 0, 1, 0, 0, 0, 2 };
    CHECK_INT(virtwire_transport_send(cp, 310, VIR_NET_CALL_WITH_FDS, VIR_NET_OK, 0, args, 8, fds, 2),
              0);
    CHECK_SENT(&c, "00000028 20008086 00000001 00000136 00000004 00000000 00000000 |"
                   " 00000002 | 00000001 00000002");
    CHECK_INT(c.last_iov_len[0], 32);
    CHECK_INT(c.last_nfds, 2);
    CHECK_INT(c.last_fds[0], 0);
    CHECK_INT(c.last_fds[1], 2);
    CHECK_INT(tl_pump(&c, &s), 0);

    /* REPLY_WITH_FDS, one fd, no other payload. */
    int one = 1;
    CHECK_INT(virtwire_transport_send(sp, 343, VIR_NET_REPLY_WITH_FDS, VIR_NET_OK, 0, NULL, 0, &one, 1),
              0);
    CHECK_SENT(&s, "00000020 20008086 00000001 00000157 00000005 00000000 00000000 | 00000001");
    CHECK_INT(tl_pump(&s, &c), 0);

    /* CALL_WITH_FDS with no fds still carries the count. */
    CHECK_INT(virtwire_transport_send(cp, 310, VIR_NET_CALL_WITH_FDS, VIR_NET_OK, 0, NULL, 0, NULL, 0),
              1);
    CHECK_SENT(&c, "00000020 20008086 00000001 00000136 00000004 00000001 00000000 | 00000000");
    CHECK_INT(tl_pump(&c, &s), 0);

    CHECK_STR(vt_buf_str(&s.log),
              "C prog=20008086 vers=1 proc=310 type=4 serial=0 status=0 len=8 "
              "data=0000000100000002 fds=2\n"
              "C prog=20008086 vers=1 proc=310 type=4 serial=1 status=0 len=0 data= fds=0\n");
    CHECK_STR(vt_buf_str(&c.log),
              "R prog=20008086 vers=1 proc=343 type=5 serial=0 status=0 len=0 data= fds=1\n");
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

/* The send functions refuse what the peer's role would refuse. */
static void test_send_checks(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *cp = tl_register(&c, REMOTE, 1);
    virtwire_transport_program *sp = tl_register(&s, REMOTE, 1);
    int fd = 0;
    int fds[33] = { 0 };

    CHECK_INT(virtwire_transport_send(cp, 1, VIR_NET_REPLY, VIR_NET_OK, 0, NULL, 0, NULL, 0),
              VIRTWIRE_EMSG_ROLE);
    CHECK_INT(virtwire_transport_send(cp, 1, VIR_NET_MESSAGE, VIR_NET_OK, 0, NULL, 0, NULL, 0),
              VIRTWIRE_EMSG_ROLE);
    CHECK_INT(virtwire_transport_send(cp, 1, VIR_NET_CALL, VIR_NET_ERROR, 0, NULL, 0, NULL, 0),
              VIRTWIRE_EMSG_COMBINATION);
    CHECK_INT(virtwire_transport_send(cp, 1, VIR_NET_STREAM_HOLE, VIR_NET_OK, 0, NULL, 0, NULL, 0),
              VIRTWIRE_EMSG_COMBINATION);
    CHECK_INT(virtwire_transport_send(sp, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0),
              VIRTWIRE_EMSG_ROLE);
    CHECK_INT(virtwire_transport_send(sp, 1, VIR_NET_REPLY, VIR_NET_CONTINUE, 0, NULL, 0, NULL, 0),
              VIRTWIRE_EMSG_COMBINATION);
    CHECK_INT(virtwire_transport_send(sp, 1, VIR_NET_MESSAGE, VIR_NET_ERROR, 0, NULL, 0, NULL, 0),
              VIRTWIRE_EMSG_COMBINATION);
    CHECK_INT(virtwire_transport_send(sp, 1, (virNetMessageType)7, VIR_NET_OK, 0, NULL, 0, NULL, 0),
              VIRTWIRE_EINVAL);
    CHECK_INT(virtwire_transport_send(sp, 1, VIR_NET_REPLY, (virNetMessageStatus)3, 0, NULL, 0, NULL, 0),
              VIRTWIRE_EINVAL);
    /* fds only with *_WITH_FDS, at most 32. */
    CHECK_INT(virtwire_transport_send(cp, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, &fd, 1),
              VIRTWIRE_EINVAL);
    CHECK_INT(virtwire_transport_send(cp, 1, VIR_NET_CALL_WITH_FDS, VIR_NET_OK, 0, NULL, 0, fds, 33),
              VIRTWIRE_EFDS_MAX);
    CHECK_INT(virtwire_transport_send(cp, 1, VIR_NET_CALL_WITH_FDS, VIR_NET_OK, 0, NULL, 0, fds, 32),
              0);
    /* The largest frame is 33554436 bytes. */
    unsigned char *huge = calloc(1, 33554432 - 24);
    struct iovec big[2] = { { huge, 33554432 - 24 }, { huge, 1 } };
    CHECK_INT(virtwire_transport_sendv(sp, 1, VIR_NET_REPLY, VIR_NET_OK, 0, big, 2, NULL, 0),
              VIRTWIRE_EFRAME_LENGTH);
    tl_endpoint_clear_out(&s);
    CHECK_INT(virtwire_transport_sendv(sp, 1, VIR_NET_REPLY, VIR_NET_OK, 0, big, 1, NULL, 0), 0);
    CHECK_INT(s.out.len, 33554436);
    CHECK_INT(s.out.p[0], 2);
    CHECK_INT(s.out.p[3], 4);
    free(huge);
    /* A failed on_send fails the send and frees the serial. */
    c.fail_send = 1;
    CHECK_INT(virtwire_transport_send(cp, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0),
              VIRTWIRE_ESEND);
    c.fail_send = 0;
    CHECK_INT(virtwire_transport_error(c.t), 0);
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

/* Appends an XDR string: length, bytes, zero padding. */
static void xdr_string(vt_buf *b, const char *str, size_t n)
{
    static const unsigned char zero[4];
    vt_buf_u32(b, (uint32_t)n);
    vt_buf_add(b, str, n);
    vt_buf_add(b, zero, (4 - n % 4) % 4);
}

/* Checks that e sent one REPLY/OK frame of serial 0 for procedure proc
 * whose payload is exactly want, then clears it. */
static void check_reply_payload(tl_endpoint *e, int32_t proc, const vt_buf *payload)
{
    vt_buf frame = { 0 };
    vt_buf_u32(&frame, (uint32_t)(28 + payload->len));
    vt_buf_u32(&frame, REMOTE);
    vt_buf_u32(&frame, 1);
    vt_buf_u32(&frame, (uint32_t)proc);
    vt_buf_u32(&frame, 1); /* REPLY */
    vt_buf_u32(&frame, 0); /* serial */
    vt_buf_u32(&frame, 0); /* OK */
    vt_buf_add(&frame, payload->p, payload->len);
    CHECK_MEM(e->out.p, e->out.len, frame.p, frame.len);
    vt_buf_free(&frame);
    tl_endpoint_clear_out(e);
}

/* Values larger than the buffer they are first encoded into come out the
 * same as small ones, however much the buffer has to grow, and the
 * smallest value after them still does; a value beyond the largest frame
 * is refused with VIRTWIRE_EFRAME_LENGTH before anything is sent. */
static void test_large_values(void)
{
    tl_endpoint c, s;
    client_with_calls(&c);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *sp = tl_register(&s, REMOTE, 1);
    const size_t big = REMOTE_STRING_MAX;
    char *str = malloc(big + 1);
    CHECK(str != NULL);
    for (size_t i = 0; i < big; i++)
        str[i] = (char)('a' + i % 26);

    /* Strings of sizes around and well past the first buffers. */
    static const size_t sizes[] = { 0, 1, 4087, 4088, 4089, 4092, 10001, 3, 70000, 5, 1000003 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        char saved = str[sizes[k]];
        str[sizes[k]] = '\0';
        remote_connect_get_hostname_ret r = { str };
        CHECK_INT(virtwire_transport_send_value(sp, REMOTE_PROC_CONNECT_GET_HOSTNAME, VIR_NET_REPLY,
                                                VIR_NET_OK, 0, &remote_connect_get_hostname_ret_desc,
                                                &r, NULL, 0),
                  0);
        vt_buf want_payload = { 0 };
        xdr_string(&want_payload, str, sizes[k]);
        check_reply_payload(&s, REMOTE_PROC_CONNECT_GET_HOSTNAME, &want_payload);
        vt_buf_free(&want_payload);
        str[sizes[k]] = saved;
    }
    str[big] = '\0';

    /* Typed parameters of type string (7), each as long as a string may
     * be: seven fit in a frame, eight do not. */
    remote_typed_param params[8];
    for (int i = 0; i < 8; i++) {
        params[i].field = "f";
        params[i].value.type = 7;
        params[i].value.remote_typed_param_value_u.s = str;
    }
    remote_domain_migrate_prepare3_params_args a = { { 7, params }, { 0, NULL }, 0 };
    CHECK_INT(virtwire_transport_send_value(sp, REMOTE_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS,
                                            VIR_NET_REPLY, VIR_NET_OK, 0,
                                            &remote_domain_migrate_prepare3_params_args_desc, &a,
                                            NULL, 0),
              0);
    vt_buf want_payload = { 0 };
    vt_buf_u32(&want_payload, 7);
    for (int i = 0; i < 7; i++) {
        xdr_string(&want_payload, "f", 1);
        vt_buf_u32(&want_payload, 7);
        xdr_string(&want_payload, str, big);
    }
    vt_buf_u32(&want_payload, 0); /* cookie_in */
    vt_buf_u32(&want_payload, 0); /* flags */
    check_reply_payload(&s, REMOTE_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS, &want_payload);
    vt_buf_free(&want_payload);

    a.params.params_len = 8;
    CHECK_INT(virtwire_transport_send_value(sp, REMOTE_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS,
                                            VIR_NET_REPLY, VIR_NET_OK, 0,
                                            &remote_domain_migrate_prepare3_params_args_desc, &a,
                                            NULL, 0),
              VIRTWIRE_EFRAME_LENGTH);
    CHECK_INT(s.out.len, 0);
    CHECK_INT(virtwire_transport_error(s.t), 0);
    /* The same from a fresh transport, whose buffer never grew. */
    tl_endpoint s2;
    tl_endpoint_init(&s2, "server2", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *sp2 = tl_register(&s2, REMOTE, 1);
    CHECK_INT(virtwire_transport_send_value(sp2, REMOTE_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS,
                                            VIR_NET_REPLY, VIR_NET_OK, 0,
                                            &remote_domain_migrate_prepare3_params_args_desc, &a,
                                            NULL, 0),
              VIRTWIRE_EFRAME_LENGTH);
    CHECK_INT(s2.out.len, 0);

    /* A small value after all that. */
    remote_connect_get_hostname_ret r = { "h" };
    CHECK_INT(virtwire_transport_send_value(sp, REMOTE_PROC_CONNECT_GET_HOSTNAME, VIR_NET_REPLY,
                                            VIR_NET_OK, 0, &remote_connect_get_hostname_ret_desc,
                                            &r, NULL, 0),
              0);
    CHECK_SENT(&s, "00000024 20008086 00000001 0000003b 00000001 00000000 00000000 |"
                   " 00000001 68000000");
    tl_endpoint_clear_out(&s);
    free(str);
    tl_endpoint_fini(&s2);
    tl_endpoint_fini(&s);
    tl_endpoint_fini(&c);
}

int main(void)
{
    test_ping_pong();
    test_connect_open();
    test_replies();
    test_event();
    test_streams();
    test_stream_packets();
    test_fd_frames();
    test_send_checks();
    test_large_values();
    return vt_finish("transport.frames");
}
