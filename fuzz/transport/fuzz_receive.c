/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for virtwire_transport_receive() and _receive_fd().
 *
 * Input: byte 0 picks the role (bit 0), whether callbacks take fds (bit 1),
 * answer calls and stream packets (bit 2) or fail on a payload starting
 * with 0xff (bit 3), and how bytes and fds are fed (bit 4).
 *
 * Bit 4 clear: byte 1 seeds how the rest is cut into receive() calls, so
 * that frames split anywhere.  Whenever the transport asks for fds it gets
 * duplicates of /dev/null, as many as it asks for.
 *
 * Bit 4 set: the input says where fds go.  Byte 1 is the number of calls
 * in flight (client role: CALLs with serials 0 .. n-1 are sent first),
 * byte 2 the number of streams to open (at most 8), then 4 bytes per
 * stream: procedure (16 bits, big-endian), serial, flags (bit 0: sparse).
 * The rest is a sequence of tokens: a byte t below 0xc0 is followed by
 * t + 1 bytes, fed in one receive() call; a byte t from 0xc0 feeds
 * (t & 0x1f) + 1 fds (duplicates of /dev/null) one by one, whether or not
 * the transport expects them.  fuzz/make-seeds writes captured sessions in
 * this form.
 *
 * Beyond the sanitizers, the target checks invariants: what on_send emits
 * is a well-formed frame whose length word matches its chunks; receive()
 * consumes no more than it is given; need() is consistent with the state;
 * after a fatal error everything is refused; every fd fed is closed by
 * the end of the input.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtwire_transport.h"

#define REMOTE 0x20008086u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct ctx {
    unsigned flags;
    uint64_t now;
    unsigned long touched; /* payload bytes read, so that ASan sees the reads */
} ctx;

/* A broken invariant: says which, then aborts (a finding). */
static void fuzz_fail(int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
    abort();
}

#define fuzz_check(cond) ((cond) ? (void)0 : fuzz_fail(__LINE__, #cond))

static int on_send(virtwire_transport *t, const struct iovec *iov, size_t niov, const int *fds,
                   size_t nfds, void *opaque)
{
    (void)t;
    (void)opaque;
    fuzz_check(niov >= 1 && iov[0].iov_len >= 28 && nfds <= 32 && (nfds == 0 || fds));
    const unsigned char *h = iov[0].iov_base;
    size_t total = 0;
    for (size_t i = 0; i < niov; i++)
        total += iov[i].iov_len;
    uint32_t len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    fuzz_check(len == total && len <= 33554436u);
    return 0;
}

static uint64_t clock_ms(void *opaque)
{
    return ((ctx *)opaque)->now;
}

static int on_msg(virtwire_transport_program *p, const virtwire_transport_msg *m, void *opaque)
{
    ctx *c = opaque;
    for (size_t i = 0; i < m->payload_len; i++)
        c->touched += m->payload[i];
    if (m->error && m->error->message)
        c->touched += strlen(*m->error->message);
    if (m->hole)
        c->touched += (unsigned long)m->hole->length;
    if ((c->flags & 2) && m->nfds) {
        close(m->fds[0]);
        m->fds[0] = -1;
    }
    if ((c->flags & 4) && (m->hdr.type == VIR_NET_CALL || m->hdr.type == VIR_NET_CALL_WITH_FDS))
        virtwire_transport_send(p, m->hdr.proc, VIR_NET_REPLY, VIR_NET_OK, m->hdr.serial,
                                m->payload, m->payload_len, NULL, 0);
    /* Answering streams: a hole for data, a finish for a final packet
     * (the stream is then closed both ways and forgotten). */
    if ((c->flags & 4) && (m->hdr.type == VIR_NET_STREAM || m->hdr.type == VIR_NET_STREAM_HOLE)) {
        if (m->hdr.status == VIR_NET_CONTINUE)
            virtwire_transport_stream_send_hole(p, m->hdr.proc, m->hdr.serial, 4096, 0);
        else
            virtwire_transport_stream_finish(p, m->hdr.proc, m->hdr.serial);
    }
    if ((c->flags & 8) && m->payload_len && m->payload[0] == 0xff)
        return -1;
    return 0;
}

static int dev_null(void)
{
    static int fd = -1;
    if (fd < 0)
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd;
}

/* Streams and calls in flight of the explicit mode (bit 4). */
typedef struct scenario {
    unsigned ncalls;
    unsigned nstreams;
    struct {
        int32_t proc;
        uint32_t serial;
        unsigned flags;
    } streams[8];
} scenario;

/* The fds this input made: every one must be closed by the end of it
 * (new_fd() is the only source of fds while an input runs). */
static int made_fds[4096];
static size_t nmade_fds;

static int new_fd(void)
{
    int fd = dup(dev_null());
    fuzz_check(fd >= 0);
    if (nmade_fds < sizeof(made_fds) / sizeof(made_fds[0]))
        made_fds[nmade_fds++] = fd;
    return fd;
}

static void check_fds_closed(void)
{
    for (size_t i = 0; i < nmade_fds; i++)
        fuzz_check(fcntl(made_fds[i], F_GETFD) == -1);
    nmade_fds = 0;
}

static virtwire_transport *setup(ctx *c, virtwire_transport_role role, const scenario *sc)
{
    virtwire_transport_callbacks cbs = { .size = sizeof cbs, .on_send = on_send, .clock_ms = clock_ms };
    virtwire_transport *t;
    (void)dev_null(); /* opened once, kept: not a leak */
    if (virtwire_transport_new(role, &cbs, c, &t) != 0)
        abort();
    virtwire_transport_program_callbacks pcbs = {
        .size = sizeof pcbs,
        .on_call = on_msg, .on_reply = on_msg, .on_message = on_msg, .on_stream = on_msg,
    };
    virtwire_transport_program *p, *q;
    if (virtwire_transport_register(t, REMOTE, 1, &pcbs, c, &p) != 0 ||
        virtwire_transport_register(t, 0x12341234u, 1, &pcbs, c, &q) != 0)
        abort();
    if (sc) {
        if (role == VIRTWIRE_TRANSPORT_CLIENT)
            for (unsigned i = 0; i < sc->ncalls; i++)
                fuzz_check(virtwire_transport_send(p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0,
                                                   NULL, 0) == (int64_t)i);
        for (unsigned i = 0; i < sc->nstreams; i++)
            virtwire_transport_stream_open(p, sc->streams[i].proc, sc->streams[i].serial,
                                           sc->streams[i].flags);
    } else {
        /* Calls in flight (serials 0..7), two streams. */
        if (role == VIRTWIRE_TRANSPORT_CLIENT)
            for (int i = 0; i < 8; i++)
                virtwire_transport_send(p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0);
        virtwire_transport_stream_open(p, 208, 1, VIRTWIRE_STREAM_SPARSE);
        virtwire_transport_stream_open(p, 209, 2, 0);
    }
    virtwire_transport_keepalive_start(t, 1000, 3);
    return t;
}

/* Checks that need() agrees with what the transport just did. */
static void check_need(virtwire_transport *t)
{
    virtwire_need need = virtwire_transport_need(t);
    if (virtwire_transport_error(t))
        fuzz_check(need.kind == VIRTWIRE_NEED_NOTHING);
    else if (need.kind == VIRTWIRE_NEED_FDS)
        fuzz_check(need.count >= 1 && need.count <= 32);
    else
        fuzz_check(need.kind == VIRTWIRE_NEED_BYTES && need.count >= 1 &&
                   need.count <= 33554432u);
}

/* Explicit mode: feeds n bytes in one receive() call.  Returns 0 to go
 * on, -1 once the transport is dead. */
static int feed_bytes(virtwire_transport *t, const uint8_t *p, size_t n)
{
    int wanted_fds = virtwire_transport_need(t).kind == VIRTWIRE_NEED_FDS;
    ssize_t r = virtwire_transport_receive(t, p, n);
    check_need(t);
    if (r < 0) {
        fuzz_check(virtwire_transport_error(t) == r);
        fuzz_check(!wanted_fds || r == VIRTWIRE_EFD_MISSING);
        return -1;
    }
    fuzz_check((size_t)r <= n);
    if ((size_t)r < n) {
        /* Stopped after a frame that announces fds, and the input goes on
         * with bytes: refused, fatally. */
        fuzz_check(virtwire_transport_need(t).kind == VIRTWIRE_NEED_FDS);
        fuzz_check(virtwire_transport_receive(t, p + r, n - (size_t)r) == VIRTWIRE_EFD_MISSING);
        check_need(t);
        return -1;
    }
    return 0;
}

static int feed_fd(virtwire_transport *t)
{
    int expected = virtwire_transport_need(t).kind == VIRTWIRE_NEED_FDS;
    int rc = virtwire_transport_receive_fd(t, new_fd());
    check_need(t);
    if (!expected)
        fuzz_check(rc < 0 && virtwire_transport_error(t) == rc);
    return rc < 0 ? -1 : 0;
}

static void run_implicit(ctx *c, virtwire_transport *t, uint32_t seed, const uint8_t *data,
                         size_t size)
{
    size_t off = 0;
    while (off < size) {
        virtwire_need need = virtwire_transport_need(t);
        if (need.kind == VIRTWIRE_NEED_FDS) {
            if (feed_fd(t) < 0)
                break;
            continue;
        }
        /* Piece sizes from a small generator: 1 .. 64 bytes, or the rest. */
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        size_t n = seed % 4 == 0 ? size - off : 1 + seed % 64;
        if (n > size - off)
            n = size - off;
        ssize_t r = virtwire_transport_receive(t, data + off, n);
        check_need(t);
        if (r < 0) {
            fuzz_check(virtwire_transport_error(t) == r);
            break;
        }
        fuzz_check((size_t)r <= n);
        fuzz_check((size_t)r == n || virtwire_transport_need(t).kind == VIRTWIRE_NEED_FDS);
        off += (size_t)r;
        c->now += 400;
        virtwire_transport_keepalive_tick(t);
    }
}

static void run_explicit(ctx *c, virtwire_transport *t, const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        unsigned tok = data[off++];
        int rc;
        if (tok >= 0xc0) {
            rc = 0;
            for (unsigned i = 0; rc == 0 && i <= (tok & 0x1fu); i++)
                rc = feed_fd(t);
        } else {
            size_t n = tok + 1u;
            if (n > size - off)
                n = size - off;
            rc = feed_bytes(t, data + off, n);
            off += n;
        }
        if (rc < 0)
            break;
        c->now += 400;
        virtwire_transport_keepalive_tick(t);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    ctx c = { data[0], 0, 0 };
    virtwire_transport_role role = data[0] & 1 ? VIRTWIRE_TRANSPORT_SERVER
                                               : VIRTWIRE_TRANSPORT_CLIENT;
    virtwire_transport *t;
    if (data[0] & 0x10) {
        scenario sc;
        memset(&sc, 0, sizeof(sc));
        if (size < 3)
            return 0;
        sc.ncalls = data[1];
        sc.nstreams = data[2] > 8 ? 8 : data[2];
        size_t off = 3;
        if (size - off < 4u * sc.nstreams)
            return 0;
        for (unsigned i = 0; i < sc.nstreams; i++, off += 4) {
            sc.streams[i].proc = (int32_t)((unsigned)data[off] << 8 | data[off + 1]);
            sc.streams[i].serial = data[off + 2];
            sc.streams[i].flags = data[off + 3] & VIRTWIRE_STREAM_SPARSE;
        }
        t = setup(&c, role, &sc);
        run_explicit(&c, t, data + off, size - off);
    } else {
        t = setup(&c, role, NULL);
        run_implicit(&c, t, data[1] | 0x100u, data + 2, size - 2);
    }
    if (virtwire_transport_error(t)) {
        int code = virtwire_transport_error(t);
        fuzz_check(virtwire_transport_receive(t, "x", 1) == code);
        fuzz_check(virtwire_transport_receive_fd(t, new_fd()) == code);
    }
    virtwire_transport_free(t);
    check_fds_closed();
    return 0;
}
