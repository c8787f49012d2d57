/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A client and a server transport wired back to back in memory: a session
 * with every message type, real fds through pipes (checked by reading
 * through them), streams (data, holes, end of data, finish, abort, server
 * error, a frame bigger than the kept buffer), unregistered programs,
 * thousands of calls in flight answered in any order, and keepalive on a
 * fake clock.
 *
 * Expected callback logs are written by hand from the protocol rules in
 * docs/protocol.md ("Message types and statuses" and the sections after
 * it).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlib.h"
#include "vt_frame.h"

#define REMOTE 0x20008086u
#define LXC 0x00068000u

/* ------------------------------------------------------------------------ */
/* A session with a server that answers like libvirtd would                 */
/* ------------------------------------------------------------------------ */

typedef struct server_state {
    int graphics_fd; /* the fd the server hands out for proc 343 */
} server_state;

static int reply_ok(virtwire_transport_program *p, const virtwire_transport_msg *m,
                    const char *hex)
{
    unsigned char buf[64];
    size_t n = vt_hex(hex, buf, sizeof(buf));
    int64_t rc = virtwire_transport_send(p, m->hdr.proc, VIR_NET_REPLY, VIR_NET_OK, m->hdr.serial,
                                         buf, n, NULL, 0);
    return rc < 0 ? (int)rc : 0;
}

static int session_server(tl_endpoint *e, char kind, virtwire_transport_program *p,
                          const virtwire_transport_msg *m)
{
    server_state *st = e->user;
    if (kind != 'C')
        return 0;
    switch (m->hdr.proc) {
    case 66: /* AUTH_LIST: types<20> = { NONE } */
        return reply_ok(p, m, "00000001 00000000");
    case 60: /* CONNECT_SUPPORTS_FEATURE: 1 */
        return reply_ok(p, m, "00000001");
    case 1: /* CONNECT_OPEN */
        return reply_ok(p, m, "");
    case 23: { /* a lookup that fails */
        char *text = "Domain not found";
        virNetMessageError err;
        memset(&err, 0, sizeof(err));
        err.code = 42;
        err.domain = 12;
        err.message = &text;
        err.level = 2;
        int64_t rc = virtwire_transport_send_error(p, m->hdr.proc, m->hdr.serial, &err);
        return rc < 0 ? (int)rc : 0;
    }
    case 310: { /* CREATE_WITH_FILES: write through the fd we got */
        CHECK_INT(m->nfds, 1);
        int fd = m->fds[0];
        m->fds[0] = -1; /* taken: ours to close */
        CHECK_INT(write(fd, "via fd", 6), 6);
        close(fd);
        return reply_ok(p, m, "");
    }
    case 343: { /* OPEN_GRAPHICS_FD: hand out an fd */
        int64_t rc = virtwire_transport_send(p, m->hdr.proc, VIR_NET_REPLY_WITH_FDS, VIR_NET_OK,
                                             m->hdr.serial, NULL, 0, &st->graphics_fd, 1);
        return rc < 0 ? (int)rc : 0;
    }
    }
    return 0;
}

static int session_client(tl_endpoint *e, char kind, virtwire_transport_program *p,
                          const virtwire_transport_msg *m)
{
    (void)p;
    if (kind == 'R' && m->hdr.type == VIR_NET_REPLY_WITH_FDS && m->nfds == 1) {
        /* Keep the fd (the transport closes fds left in the array). */
        *(int *)e->user = m->fds[0];
        m->fds[0] = -1;
    }
    return 0;
}

static void test_session(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *cp = tl_register(&c, REMOTE, 1);
    virtwire_transport_program *sp = tl_register(&s, REMOTE, 1);
    server_state st;
    memset(&st, 0, sizeof(st));
    int graphics[2], files[2];
    CHECK_INT(pipe(graphics), 0);
    CHECK_INT(pipe(files), 0);
    st.graphics_fd = graphics[0]; /* borrowed by send; the test closes it */
    int client_graphics = -1;
    s.user = &st;
    s.hook = session_server;
    c.user = &client_graphics;
    c.hook = session_client;

    unsigned char feature[4] = { 0, 0, 0, 10 };
    CHECK_INT(virtwire_transport_send(cp, 66, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0), 0);
    CHECK_INT(virtwire_transport_send(cp, 60, VIR_NET_CALL, VIR_NET_OK, 0, feature, 4, NULL, 0), 1);
    CHECK_INT(virtwire_transport_send(cp, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0), 2);
    CHECK_INT(virtwire_transport_send(cp, 23, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0), 3);
    /* fds both ways: the write end of a pipe to the server... */
    CHECK_INT(virtwire_transport_send(cp, 310, VIR_NET_CALL_WITH_FDS, VIR_NET_OK, 0, NULL, 0,
                                      &files[1], 1),
              4);
    close(files[1]); /* the transport only borrowed it */
    /* ... and the read end of another pipe back to the client. */
    CHECK_INT(virtwire_transport_send(cp, 343, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0), 5);
    CHECK_INT(tl_exchange(&c, &s), 0);

    /* The server wrote through the fd it received. */
    char buf[16] = { 0 };
    CHECK_INT(read(files[0], buf, sizeof(buf)), 6);
    CHECK_STR(buf, "via fd");
    /* The client reads what is written into the pipe whose read end it got. */
    CHECK(client_graphics >= 0);
    CHECK(client_graphics != graphics[0]);
    CHECK_INT(write(graphics[1], "pixels", 6), 6);
    memset(buf, 0, sizeof(buf));
    CHECK_INT(read(client_graphics, buf, sizeof(buf)), 6);
    CHECK_STR(buf, "pixels");
    close(client_graphics);
    close(graphics[0]);
    close(graphics[1]);
    close(files[0]);

    /* An event from the server. */
    unsigned char ev[8] = { 0, 0, 0, 1, 0, 0, 0, 5 };
    CHECK_INT(virtwire_transport_send(sp, 318, VIR_NET_MESSAGE, VIR_NET_OK, 1, ev, 8, NULL, 0), 1);
    CHECK_INT(tl_exchange(&c, &s), 0);

    CHECK_STR(vt_buf_str(&s.log),
              "C prog=20008086 vers=1 proc=66 type=0 serial=0 status=0 len=0 data= fds=0\n"
              "C prog=20008086 vers=1 proc=60 type=0 serial=1 status=0 len=4 data=0000000a fds=0\n"
              "C prog=20008086 vers=1 proc=1 type=0 serial=2 status=0 len=0 data= fds=0\n"
              "C prog=20008086 vers=1 proc=23 type=0 serial=3 status=0 len=0 data= fds=0\n"
              "C prog=20008086 vers=1 proc=310 type=4 serial=4 status=0 len=0 data= fds=1\n"
              "C prog=20008086 vers=1 proc=343 type=0 serial=5 status=0 len=0 data= fds=0\n");
    CHECK_STR(vt_buf_str(&c.log),
              "R prog=20008086 vers=1 proc=66 type=1 serial=0 status=0 len=8 data=0000000100000000 fds=0\n"
              "R prog=20008086 vers=1 proc=60 type=1 serial=1 status=0 len=4 data=00000001 fds=0\n"
              "R prog=20008086 vers=1 proc=1 type=1 serial=2 status=0 len=0 data= fds=0\n"
              "R prog=20008086 vers=1 proc=23 type=1 serial=3 status=1 len=64 data="
              "0000002a0000000c0000000100000010446f6d61696e206e6f7420666f756e6400000002"
              "00000000000000000000000000000000000000000000000000000000 fds=0 "
              "error=42/12/2/Domain not found\n"
              "R prog=20008086 vers=1 proc=310 type=1 serial=4 status=0 len=0 data= fds=0\n"
              "R prog=20008086 vers=1 proc=343 type=5 serial=5 status=0 len=0 data= fds=1\n"
              "M prog=20008086 vers=1 proc=318 type=2 serial=1 status=0 len=8 data=0000000100000005 fds=0\n");

    /* All replies arrived: the serials are free again, and a reply that
     * comes twice matches nothing (fatal, like libvirt's client). */
    CHECK_INT(virtwire_transport_send(sp, 1, VIR_NET_REPLY, VIR_NET_OK, 2, NULL, 0, NULL, 0), 2);
    CHECK_INT(tl_pump(&s, &c), VIRTWIRE_EREPLY_SERIAL);
    CHECK_INT(virtwire_transport_error(c.t), VIRTWIRE_EREPLY_SERIAL);
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

/* ------------------------------------------------------------------------ */
/* Unregistered programs and refused combinations, end to end              */
/* ------------------------------------------------------------------------ */

static void test_unregistered(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *clxc = tl_register(&c, LXC, 1);
    virtwire_transport_program *crem2 = tl_register(&c, REMOTE, 2);
    virtwire_transport_program *crem = tl_register(&c, REMOTE, 1);
    tl_register(&s, REMOTE, 1);

    /* A CALL for a program the server does not serve gets an ERROR reply
     * (VIR_ERR_RPC, VIR_FROM_RPC), like libvirt; so does a known program
     * with another version. */
    CHECK_INT(virtwire_transport_send(clxc, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0), 0);
    CHECK_INT(virtwire_transport_send(crem2, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0), 1);
    /* Stream packets for no stream are dropped. */
    CHECK_INT(virtwire_transport_stream_send_data(crem, 208, 9, "x", 1), 0);
    CHECK_INT(tl_exchange(&c, &s), 0);
    CHECK_STR(vt_buf_str(&s.log),
              "E dropped VIRTWIRE_EPROGRAM type=0 serial=0 status=0\n"
              "E dropped VIRTWIRE_EPROGRAM type=0 serial=1 status=0\n"
              "E dropped VIRTWIRE_ESTREAM type=3 serial=9 status=2\n");
    CHECK_STR(vt_buf_str(&c.log),
              "R prog=68000 vers=1 proc=1 type=1 serial=0 status=1 len=84 data="
              "00000027000000070000000100000024"
              "43616e6e6f742066696e642070726f6772616d203432353938342076657273696f6e2031"
              "0000000200000000000000000000000000000000000000000000000000000000 fds=0 "
              "error=39/7/2/Cannot find program 425984 version 1\n"
              "R prog=20008086 vers=2 proc=1 type=1 serial=1 status=1 len=88 data="
              "00000027000000070000000100000027"
              "43616e6e6f742066696e642070726f6772616d203533363930333831342076657273696f6e203200"
              "0000000200000000000000000000000000000000000000000000000000000000 fds=0 "
              "error=39/7/2/Cannot find program 536903814 version 2\n");
    CHECK_INT(virtwire_transport_error(s.t), 0);

    /* The other way: an event for a program the client did not register
     * is dropped (libvirt's client would close the connection). */
    vt_buf_free(&c.log);
    tl_endpoint e2;
    tl_endpoint_init(&e2, "server2", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *s2 = tl_register(&e2, 0x12341234u, 1);
    CHECK_INT(virtwire_transport_send(s2, 1, VIR_NET_MESSAGE, VIR_NET_OK, 1, NULL, 0, NULL, 0), 1);
    CHECK_INT(tl_pump(&e2, &c), 0);
    CHECK_STR(vt_buf_str(&c.log), "E dropped VIRTWIRE_EPROGRAM type=2 serial=1 status=0\n");
    CHECK_INT(virtwire_transport_error(c.t), 0);
    tl_endpoint_fini(&e2);
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct sink {
    vt_buf data;    /* data bytes received */
    long long holes; /* sum of hole lengths */
    int eof;
    int finish_reply; /* answer a finish with OK */
} sink;

static int stream_sink(tl_endpoint *e, char kind, virtwire_transport_program *p,
                       const virtwire_transport_msg *m)
{
    sink *k = e->user;
    if (kind != 'S')
        return 0;
    if (m->hole) {
        k->holes += m->hole->length;
    } else if (m->hdr.status == VIR_NET_CONTINUE) {
        if (m->payload_len)
            vt_buf_add(&k->data, m->payload, m->payload_len);
        else
            k->eof++;
    } else if (m->hdr.status == VIR_NET_OK && k->finish_reply) {
        return virtwire_transport_stream_finish(p, m->hdr.proc, m->hdr.serial);
    }
    return 0;
}

static unsigned char *pattern(size_t n, unsigned seed)
{
    unsigned char *d = malloc(n);
    for (size_t i = 0; i < n; i++)
        d[i] = (unsigned char)((i * 131u + seed) >> 3);
    return d;
}

/* Upload: client data, holes, more data, finish; the server confirms. */
static void test_stream_upload(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *cp = tl_register(&c, REMOTE, 1);
    virtwire_transport_program *sp = tl_register(&s, REMOTE, 1);
    sink k;
    memset(&k, 0, sizeof(k));
    k.finish_reply = 1;
    s.user = &k;
    s.hook = stream_sink;

    /* The stream's CALL, then both sides open it. */
    int64_t serial = virtwire_transport_send(cp, 208, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0);
    CHECK_INT(serial, 0);
    CHECK_INT(virtwire_transport_stream_open(cp, 208, 0, VIRTWIRE_STREAM_SPARSE), 0);
    CHECK_INT(virtwire_transport_stream_open(sp, 208, 0, VIRTWIRE_STREAM_SPARSE), 0);
    CHECK_INT(virtwire_transport_stream_open(sp, 208, 0, 0), VIRTWIRE_EINVAL);
    CHECK_INT(tl_pump(&c, &s), 0);
    CHECK_INT(virtwire_transport_send(sp, 208, VIR_NET_REPLY, VIR_NET_OK, 0, NULL, 0, NULL, 0), 0);
    CHECK_INT(tl_pump(&s, &c), 0);

    size_t n1 = 700000, n2 = 1000;
    unsigned char *d1 = pattern(n1, 1), *d2 = pattern(n2, 2);
    CHECK_INT(virtwire_transport_stream_send_data(cp, 208, 0, d1, n1), 0);
    CHECK_INT(c.frames, 3); /* 262120 + 262120 + 175760 */
    CHECK_INT(virtwire_transport_stream_send_hole(cp, 208, 0, 1 << 20, 0), 0);
    CHECK_INT(virtwire_transport_stream_send_data(cp, 208, 0, d2, n2), 0);
    CHECK_INT(virtwire_transport_stream_finish(cp, 208, 0), 0);
    CHECK_INT(tl_exchange(&c, &s), 0);

    CHECK_INT(k.data.len, n1 + n2);
    CHECK_MEM(k.data.p, n1, d1, n1);
    CHECK_MEM(k.data.p + n1, n2, d2, n2);
    CHECK_INT(k.holes, 1 << 20);
    CHECK(!virtwire_transport_stream_is_open(cp, 0));
    CHECK(!virtwire_transport_stream_is_open(sp, 0));
    CHECK_STR(vt_buf_str(&c.log),
              "R prog=20008086 vers=1 proc=208 type=1 serial=0 status=0 len=0 data= fds=0\n"
              "S prog=20008086 vers=1 proc=208 type=3 serial=0 status=0 len=0 data= fds=0\n");

    /* A late packet of the closed stream is dropped. */
    CHECK_INT(virtwire_transport_stream_send_data(cp, 208, 0, "late", 4), 0);
    CHECK_INT(tl_pump(&c, &s), 0);
    CHECK(strstr(vt_buf_str(&s.log), "E dropped VIRTWIRE_ESTREAM type=3 serial=0 status=2\n"));
    free(d1);
    free(d2);
    vt_buf_free(&k.data);
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

/* Download: server data and end of data; the client finishes. */
static void test_stream_download(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *cp = tl_register(&c, REMOTE, 1);
    virtwire_transport_program *sp = tl_register(&s, REMOTE, 1);
    sink k;
    memset(&k, 0, sizeof(k));
    c.user = &k;
    c.hook = stream_sink;

    CHECK_INT(virtwire_transport_stream_open(cp, 211, 4, 0), 0);
    CHECK_INT(virtwire_transport_stream_open(sp, 211, 4, 0), 0);
    size_t n = 33 * 1024;
    unsigned char *png = pattern(n, 9);
    CHECK_INT(virtwire_transport_stream_send_data(sp, 211, 4, png, n), 0);
    CHECK_INT(virtwire_transport_stream_send_eof(sp, 211, 4), 0);
    /* A hole on a stream that is not sparse is dropped. */
    CHECK_INT(virtwire_transport_stream_send_hole(sp, 211, 4, 10, 0), 0);
    CHECK_INT(tl_pump(&s, &c), 0);
    CHECK_INT(k.eof, 1);
    CHECK_INT(k.data.len, n);
    CHECK_MEM(k.data.p, k.data.len, png, n);
    CHECK_INT(virtwire_transport_stream_finish(cp, 211, 4), 0);
    CHECK_INT(tl_pump(&c, &s), 0);
    CHECK_INT(virtwire_transport_stream_finish(sp, 211, 4), 0);
    CHECK_INT(tl_pump(&s, &c), 0);
    CHECK(!virtwire_transport_stream_is_open(cp, 4));
    CHECK(!virtwire_transport_stream_is_open(sp, 4));
    CHECK_STR(vt_buf_str(&c.log),
              "S prog=20008086 vers=1 proc=211 type=3 serial=4 status=2 len=33792 data=... fds=0\n"
              "S prog=20008086 vers=1 proc=211 type=3 serial=4 status=2 len=0 data= fds=0\n"
              "E dropped VIRTWIRE_ESTREAM_HOLE type=6 serial=4 status=2\n"
              "S prog=20008086 vers=1 proc=211 type=3 serial=4 status=0 len=0 data= fds=0\n");
    CHECK_STR(vt_buf_str(&s.log),
              "S prog=20008086 vers=1 proc=211 type=3 serial=4 status=0 len=0 data= fds=0\n");
    free(png);
    vt_buf_free(&k.data);
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

/* One frame much bigger than the buffer the transport keeps between
 * frames: buffered as it trickles in, delivered whole, then released. */
static void test_big_frame(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *cp = tl_register(&c, REMOTE, 1);
    virtwire_transport_program *sp = tl_register(&s, REMOTE, 1);
    sink k;
    memset(&k, 0, sizeof(k));
    c.user = &k;
    c.hook = stream_sink;
    CHECK_INT(virtwire_transport_stream_open(cp, 209, 1, 0), 0);
    CHECK_INT(virtwire_transport_set_stream_packet_max(s.t, 33554408), 0);
    size_t n = 3u << 20;
    unsigned char *d = pattern(n, 5);
    for (int round = 0; round < 2; round++) {
        CHECK_INT(virtwire_transport_stream_send_data(sp, 209, 1, d, n), 0);
        CHECK_INT(s.frames, 1);
        CHECK_INT(tl_pump(&s, &c), 0);
        CHECK_INT(k.data.len, n);
        CHECK_MEM(k.data.p, k.data.len, d, n);
        k.data.len = 0;
    }
    free(d);
    vt_buf_free(&k.data);
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

/* Abort by the client; error from the server, then the client aborts. */
static void test_stream_abort_and_error(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *cp = tl_register(&c, REMOTE, 1);
    virtwire_transport_program *sp = tl_register(&s, REMOTE, 1);

    /* Client abort (empty ERROR), server confirms with OK. */
    CHECK_INT(virtwire_transport_stream_open(cp, 208, 1, 0), 0);
    CHECK_INT(virtwire_transport_stream_open(sp, 208, 1, 0), 0);
    CHECK_INT(virtwire_transport_stream_send_data(cp, 208, 1, "abc", 3), 0);
    CHECK_INT(virtwire_transport_stream_abort(cp, 208, 1), 0);
    CHECK_INT(tl_pump(&c, &s), 0);
    CHECK_INT(virtwire_transport_stream_finish(sp, 208, 1), 0);
    CHECK_INT(tl_pump(&s, &c), 0);
    CHECK(!virtwire_transport_stream_is_open(cp, 1));
    CHECK(!virtwire_transport_stream_is_open(sp, 1));

    /* Server error in the middle of a download. */
    CHECK_INT(virtwire_transport_stream_open(cp, 209, 2, 0), 0);
    CHECK_INT(virtwire_transport_stream_open(sp, 209, 2, 0), 0);
    CHECK_INT(virtwire_transport_stream_send_data(sp, 209, 2, "xy", 2), 0);
    char *text = "I/O error";
    virNetMessageError err;
    memset(&err, 0, sizeof(err));
    err.code = 38;
    err.domain = 18;
    err.message = &text;
    err.level = 2;
    CHECK_INT(virtwire_transport_stream_send_error(sp, 209, 2, &err), 0);
    CHECK_INT(tl_pump(&s, &c), 0);
    /* The client still knows the stream until it aborts. */
    CHECK(virtwire_transport_stream_is_open(cp, 2));
    CHECK_INT(virtwire_transport_stream_abort(cp, 209, 2), 0);
    CHECK(!virtwire_transport_stream_is_open(cp, 2));
    CHECK_INT(tl_pump(&c, &s), 0);
    CHECK(!virtwire_transport_stream_is_open(sp, 2));

    CHECK_STR(vt_buf_str(&s.log),
              "S prog=20008086 vers=1 proc=208 type=3 serial=1 status=2 len=3 data=616263 fds=0\n"
              "S prog=20008086 vers=1 proc=208 type=3 serial=1 status=1 len=0 data= fds=0\n"
              "S prog=20008086 vers=1 proc=209 type=3 serial=2 status=1 len=0 data= fds=0\n");
    CHECK_STR(vt_buf_str(&c.log),
              "S prog=20008086 vers=1 proc=208 type=3 serial=1 status=0 len=0 data= fds=0\n"
              "S prog=20008086 vers=1 proc=209 type=3 serial=2 status=2 len=2 data=7879 fds=0\n"
              "S prog=20008086 vers=1 proc=209 type=3 serial=2 status=1 len=60 data="
              "00000026000000120000000100000009492f4f206572726f72000000"
              "0000000200000000000000000000000000000000000000000000000000000000 fds=0 "
              "error=38/18/2/I/O error\n");

    /* stream_close forgets a stream without a packet. */
    CHECK_INT(virtwire_transport_stream_open(cp, 209, 3, 0), 0);
    CHECK_INT(virtwire_transport_stream_close(cp, 3), 0);
    CHECK_INT(virtwire_transport_stream_close(cp, 3), VIRTWIRE_EINVAL);
    CHECK_INT(virtwire_transport_stream_open(cp, 209, 3, 0x10), VIRTWIRE_EINVAL);
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

static size_t count_lines(const char *s, const char *prefix)
{
    size_t n = 0, plen = strlen(prefix);
    for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (strncmp(p, prefix, plen) == 0)
            n++;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Many calls in flight                                                     */
/* ------------------------------------------------------------------------ */

static int count_reply(tl_endpoint *e, char kind, virtwire_transport_program *p,
                       const virtwire_transport_msg *m)
{
    size_t *per_prog = e->user;
    (void)m;
    if (kind == 'R')
        per_prog[p == e->progs[0] ? 0 : 1]++;
    return 0;
}

/* 5000 calls over two programs, answered in a shuffled order while new
 * calls keep being made: every reply finds its call exactly once, and
 * serials of answered calls are reused only once free. */
static void test_many_calls(void)
{
    enum { N = 5000 };
    tl_endpoint c;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    virtwire_transport_program *a = tl_register(&c, REMOTE, 1);
    virtwire_transport_program *b = tl_register(&c, LXC, 1);
    size_t per_prog[2] = { 0, 0 };
    c.user = per_prog;
    c.hook = count_reply;

    static uint32_t serial[N];
    static int prog_of[N];
    for (int i = 0; i < N; i++) {
        prog_of[i] = i % 3 == 0;
        int64_t s = virtwire_transport_send(prog_of[i] ? b : a, 1, VIR_NET_CALL, VIR_NET_OK, 0,
                                            NULL, 0, NULL, 0);
        CHECK_INT(s, i); /* one counter for all programs */
        serial[i] = (uint32_t)s;
        tl_endpoint_clear_out(&c);
    }
    /* Shuffle the order of the replies (fixed seed). */
    static int order[N];
    for (int i = 0; i < N; i++)
        order[i] = i;
    uint32_t seed = 99;
    for (int i = N - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 8) % (uint32_t)(i + 1));
        int tmp = order[i];
        order[i] = order[k];
        order[k] = tmp;
    }
    unsigned char f[28];
    for (int n = 0; n < N; n++) {
        int i = order[n];
        vt_frame_header(f, prog_of[i] ? LXC : REMOTE, 1, VIR_NET_REPLY, serial[i], VIR_NET_OK, 0);
        CHECK_INT(virtwire_transport_receive(c.t, f, 28), 28);
        /* Half-way, calls made now get fresh serials past the old ones
         * (the counter never goes back while it has room). */
        if (n == N / 2)
            CHECK_INT(virtwire_transport_send(a, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0), N);
    }
    CHECK_INT(per_prog[0] + per_prog[1], N);
    CHECK_INT(per_prog[1], (N + 2) / 3);
    /* Serial N is still in flight; the rest are gone. */
    vt_put32(f + 4, REMOTE);
    vt_put32(f + 20, N);
    CHECK_INT(virtwire_transport_receive(c.t, f, 28), 28);
    CHECK_INT(per_prog[0] + per_prog[1], N + 1);
    vt_put32(f + 20, 17);
    CHECK_INT(virtwire_transport_receive(c.t, f, 28), VIRTWIRE_EREPLY_SERIAL);
    tl_endpoint_fini(&c);
}

/* A random walk of calls and replies over eight programs, against a model
 * of the calls in flight: every reply to a call in flight must be taken
 * (a lost entry would make the reply fatal), through table growth and
 * removals in every order. */
static void test_calls_random_walk(void)
{
    enum { PROGS = 8, OPS = 60000 };
    tl_endpoint c;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    virtwire_transport_program *progs[PROGS];
    for (int i = 0; i < PROGS; i++)
        progs[i] = tl_register(&c, 0x40000000u + (uint32_t)i * 977u, 1);
    static uint32_t fl_serial[OPS];
    static int fl_prog[OPS];
    size_t inflight = 0, calls = 0, replies = 0;
    uint32_t seed = 4242;
    unsigned char f[28];
    for (int op = 0; op < OPS || inflight; op++) {
        seed = seed * 1103515245u + 12345u;
        int make_call = op < OPS && (inflight == 0 || (seed >> 8) % 100 < 55);
        if (make_call) {
            int pi = (int)((seed >> 16) % PROGS);
            int64_t s = virtwire_transport_send(progs[pi], 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0,
                                                NULL, 0);
            CHECK(s >= 0);
            fl_serial[inflight] = (uint32_t)s;
            fl_prog[inflight++] = pi;
            calls++;
            tl_endpoint_clear_out(&c);
            continue;
        }
        size_t k = (seed >> 12) % inflight;
        vt_frame_header(f, 0x40000000u + (uint32_t)fl_prog[k] * 977u, 1, VIR_NET_REPLY,
                        fl_serial[k], VIR_NET_OK, 0);
        if (virtwire_transport_receive(c.t, f, 28) != 28) {
            CHECK(!"a reply to a call in flight was refused");
            break;
        }
        replies++;
        fl_serial[k] = fl_serial[inflight - 1];
        fl_prog[k] = fl_prog[--inflight];
    }
    CHECK_INT(replies, calls);
    CHECK(calls > OPS / 2);
    CHECK_INT(count_lines(vt_buf_str(&c.log), "R "), calls);
    tl_endpoint_fini(&c);
}

/* ------------------------------------------------------------------------ */
/* Keepalive on a fake clock                                                */
/* ------------------------------------------------------------------------ */


/* The PING frame of docs/protocol.md ("Keepalive"), counted in what e sent. */
static size_t pings_sent(tl_endpoint *e)
{
    unsigned char ping[28];
    vt_hex("0000001c 6b656570 00000001 00000001 00000002 00000000 00000000", ping, 28);
    size_t n = 0, start = 0;
    for (size_t f = 0; f < e->frames; f++) {
        if (e->frame_end[f] - start == 28 && memcmp(e->out.p + start, ping, 28) == 0)
            n++;
        start = e->frame_end[f];
    }
    return n;
}

static void test_keepalive(void)
{
    tl_endpoint c, s;
    tl_endpoint_init(&c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    tl_endpoint_init(&s, "server", VIRTWIRE_TRANSPORT_SERVER);
    virtwire_transport_program *sp = tl_register(&s, REMOTE, 1);
    tl_register(&c, REMOTE, 1);

    CHECK_INT(virtwire_transport_keepalive_timeout(c.t), -1); /* off */
    c.now = 100000;
    CHECK_INT(virtwire_transport_keepalive_start(c.t, 5000, 5), 0);
    CHECK_INT(virtwire_transport_keepalive_timeout(c.t), 5000);

    /* Before the interval: nothing. */
    c.now += 4999;
    CHECK_INT(virtwire_transport_keepalive_tick(c.t), 0);
    CHECK_INT(c.frames, 0);
    CHECK_INT(virtwire_transport_keepalive_timeout(c.t), 1);
    /* After it: a PING, which the server answers with a PONG, which
     * counts as liveness. */
    c.now += 1;
    CHECK_INT(virtwire_transport_keepalive_timeout(c.t), 0);
    CHECK_INT(virtwire_transport_keepalive_tick(c.t), 0);
    CHECK_INT(pings_sent(&c), 1);
    c.now += 30;
    CHECK_INT(tl_exchange(&c, &s), 0);
    CHECK_INT(virtwire_transport_keepalive_timeout(c.t), 5000);

    /* Any frame is liveness too: an event 4 s later pushes the next PING
     * to 5 s after it. */
    c.now += 4000;
    CHECK_INT(virtwire_transport_send(sp, 318, VIR_NET_MESSAGE, VIR_NET_OK, 1, NULL, 0, NULL, 0), 1);
    CHECK_INT(tl_pump(&s, &c), 0);
    CHECK_INT(virtwire_transport_keepalive_timeout(c.t), 5000);

    /* Now the server goes silent: PINGs every 5 s, five of them, and the
     * peer is dead 30 s (interval x (count + 1)) after the last frame. */
    uint64_t last_rx = c.now;
    while (virtwire_transport_keepalive_tick(c.t) == 0) {
        int64_t due = virtwire_transport_keepalive_timeout(c.t);
        CHECK(due > 0);
        if (due <= 0)
            break;
        c.now += (uint64_t)due;
    }
    CHECK_INT(c.now - last_rx, 30000);
    CHECK_INT(pings_sent(&c), 5);
    CHECK_INT(c.dead, 1);
    CHECK_INT(virtwire_transport_error(c.t), VIRTWIRE_EKEEPALIVE);
    CHECK_INT(virtwire_transport_keepalive_tick(c.t), VIRTWIRE_EKEEPALIVE);
    CHECK_INT(virtwire_transport_keepalive_timeout(c.t), -1);
    CHECK_INT(count_lines(vt_buf_str(&c.log), "D dead"), 1);
    CHECK_INT(count_lines(vt_buf_str(&c.log), "E fatal VIRTWIRE_EKEEPALIVE"), 1);
    CHECK_INT(virtwire_transport_receive(c.t, "x", 1), VIRTWIRE_EKEEPALIVE);

    /* The server pinging the client (libvirtd does once keepalive is
     * negotiated): the client answers on its own. */
    tl_endpoint c2;
    tl_endpoint_init(&c2, "client2", VIRTWIRE_TRANSPORT_CLIENT);
    s.now = 0;
    tl_endpoint_clear_out(&s);
    CHECK_INT(virtwire_transport_keepalive_start(s.t, 5000, 1), 0);
    for (int i = 0; i < 10; i++) {
        s.now += 5000;
        CHECK_INT(virtwire_transport_keepalive_tick(s.t), 0);
        CHECK_INT(tl_exchange(&s, &c2), 0);
    }
    CHECK_INT(virtwire_transport_error(s.t), 0);
    CHECK_INT(s.dead, 0);
    CHECK_STR(vt_buf_str(&c2.log), "");
    /* keepalive_stop: no more PINGs. */
    virtwire_transport_keepalive_stop(s.t);
    s.now += 60000;
    CHECK_INT(virtwire_transport_keepalive_tick(s.t), 0);
    CHECK_INT(s.frames, 0);
    /* count 0: dead after one silent interval. */
    tl_endpoint c3;
    tl_endpoint_init(&c3, "client3", VIRTWIRE_TRANSPORT_CLIENT);
    CHECK_INT(virtwire_transport_keepalive_start(c3.t, 1000, 0), 0);
    c3.now = 1000;
    CHECK_INT(virtwire_transport_keepalive_tick(c3.t), VIRTWIRE_EKEEPALIVE);
    CHECK_INT(c3.frames, 0);
    tl_endpoint_fini(&c3);
    tl_endpoint_fini(&c2);
    tl_endpoint_fini(&c);
    tl_endpoint_fini(&s);
}

int main(void)
{
    test_session();
    test_unregistered();
    test_stream_upload();
    test_stream_download();
    test_big_frame();
    test_stream_abort_and_error();
    test_many_calls();
    test_calls_random_walk();
    test_keepalive();
    return vt_finish("transport.pair");
}
