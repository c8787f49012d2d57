/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for virtwire_transport_receive() and _receive_fd().
 *
 * Input: byte 0 picks the role (bit 0), whether callbacks take fds (bit 1),
 * answer calls (bit 2) or fail on a payload starting with 0xff (bit 3);
 * byte 1 seeds how the rest is cut into receive() calls, so that frames
 * split anywhere.  Whenever the transport asks for fds it gets duplicates
 * of /dev/null.
 *
 * Beyond the sanitizers, the target checks invariants: what on_send emits
 * is a well-formed frame whose length word matches its chunks; receive()
 * consumes no more than it is given; need() is consistent with the state;
 * after a fatal error everything is refused; no fd is leaked (checked by
 * the replay driver).
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdint.h>
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

static void fuzz_check(int cond)
{
    if (!cond)
        abort();
}

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

static virtwire_transport *setup(ctx *c, virtwire_transport_role role)
{
    virtwire_transport_callbacks cbs = { .on_send = on_send, .clock_ms = clock_ms };
    virtwire_transport *t;
    (void)dev_null(); /* opened once, kept: not a leak */
    if (virtwire_transport_new(role, &cbs, c, &t) != 0)
        abort();
    virtwire_transport_program_callbacks pcbs = {
        .on_call = on_msg, .on_reply = on_msg, .on_message = on_msg, .on_stream = on_msg,
    };
    virtwire_transport_program *p, *q;
    if (virtwire_transport_register(t, REMOTE, 1, &pcbs, c, &p) != 0 ||
        virtwire_transport_register(t, 0x12341234u, 1, &pcbs, c, &q) != 0)
        abort();
    /* Calls in flight (serials 0..7), two streams, own keepalive. */
    if (role == VIRTWIRE_TRANSPORT_CLIENT)
        for (int i = 0; i < 8; i++)
            virtwire_transport_send(p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0);
    virtwire_transport_stream_open(p, 208, 1, VIRTWIRE_STREAM_SPARSE);
    virtwire_transport_stream_open(p, 209, 2, 0);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    ctx c = { data[0], 0, 0 };
    uint32_t seed = data[1] | 0x100u;
    data += 2;
    size -= 2;
    virtwire_transport *t =
        setup(&c, data[-2] & 1 ? VIRTWIRE_TRANSPORT_SERVER : VIRTWIRE_TRANSPORT_CLIENT);

    size_t off = 0;
    while (off < size) {
        virtwire_need need = virtwire_transport_need(t);
        if (need.kind == VIRTWIRE_NEED_FDS) {
            int rc = virtwire_transport_receive_fd(t, dup(dev_null()));
            check_need(t);
            if (rc < 0)
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
        c.now += 400;
        virtwire_transport_keepalive_tick(t);
    }
    if (virtwire_transport_error(t)) {
        int code = virtwire_transport_error(t);
        fuzz_check(virtwire_transport_receive(t, "x", 1) == code);
    }
    virtwire_transport_free(t);
    return 0;
}
