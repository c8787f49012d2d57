/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the proxy's framer (tools/virtwire/proxy_frame.c):
 * a peer's bytes and fds cut into frames, and the frames queued for the
 * other side.
 *
 * Input: byte 0, bit 0: which peer the bytes come from (0: a client, whose
 * fds follow CALL_WITH_FDS; 1: a daemon, REPLY_WITH_FDS); bit 1: frames
 * are queued behind an unwritten byte (never written straight out).  Then
 * tokens, as the transport target's explicit mode: a byte t below 0xc0 is
 * followed by t + 1 bytes, read in one go; a byte t from 0xc0 is
 * (t & 0x1f) + 1 fds, each coming with a dummy byte of its own, as Linux
 * delivers what libvirt sends (one sendmsg() per fd).  fuzz/make-seeds
 * writes captured sessions in this form.
 *
 * Beyond the sanitizers, it checks: each frame has a length word equal to
 * its length, within libvirt's bounds, and its header words; no more fds
 * than VIRTWIRE_FDS_MAX, each one open; errors are sticky; the output
 * queue holds every byte and fd queued; every fd fed is closed by the end
 * (the replay harness checks that none is left open).
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy_frame.h"
#include "virtwire_xdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: says which, then aborts (a finding). */
static void fuzz_fail(int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
    abort();
}

#define fuzz_check(cond) ((cond) ? (void)0 : fuzz_fail(__LINE__, #cond))

typedef struct state {
    vp_in in;
    vp_out out;
    int error;
    size_t queued; /* bytes and fds queued in all */
} state;

/* Takes every whole frame out and queues it. */
static void drain(state *st)
{
    for (;;) {
        vp_frame f;
        int r = vp_in_next(&st->in, &f);
        if (r < 0) {
            fuzz_check(!st->error || r == st->error);
            st->error = r;
            fuzz_check(vp_in_next(&st->in, &f) == r); /* sticky */
            return;
        }
        fuzz_check(!st->error);
        if (r == 0)
            return;
        fuzz_check(f.len >= VIRTWIRE_FRAME_MIN && f.len <= VIRTWIRE_FRAME_MAX);
        fuzz_check(virtwire_load_u32(f.bytes) == f.len);
        fuzz_check(f.serial == virtwire_load_u32(f.bytes + 20));
        fuzz_check(f.nfds <= VIRTWIRE_FDS_MAX);
        fuzz_check(f.nfds == 0 || f.type == st->in.fds_type);
        for (size_t i = 0; i < f.nfds; i++)
            fuzz_check(fcntl(f.fds[i], F_GETFD) >= 0);
        struct iovec iov = { (void *)f.bytes, f.len };
        size_t before = vp_out_pending(&st->out);
        int rc = vp_out_send(&st->out, NULL, &iov, 1, f.fds, f.nfds);
        fuzz_check(rc == 0 || rc == VP_ENOMEM);
        if (rc == 0) {
            fuzz_check(vp_out_pending(&st->out) == before + f.len + f.nfds);
            st->queued += f.len + f.nfds;
        }
        for (size_t i = 0; i < f.nfds; i++)
            fuzz_check(f.fds[i] == -1); /* taken by the queue, or closed */
    }
}

/* n bytes read at once; fd (or -1) came with the last. */
static void feed(state *st, const uint8_t *p, size_t n, int fd)
{
    while (n > 0) {
        unsigned char *room;
        size_t len;
        int rc = vp_in_room(&st->in, &room, &len);
        if (rc < 0) {
            fuzz_check(rc == st->error || rc == VP_ENOMEM);
            if (fd >= 0)
                close(fd);
            return;
        }
        fuzz_check(len >= 1);
        size_t k = n < len ? n : len;
        memcpy(room, p, k);
        p += k;
        n -= k;
        vp_in_filled(&st->in, k, n == 0 ? fd : -1);
        drain(st);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    state st;
    memset(&st, 0, sizeof st);
    vp_in_init(&st.in, (data[0] & 1) ? VIR_NET_REPLY_WITH_FDS : VIR_NET_CALL_WITH_FDS);
    if (data[0] & 2) {
        /* A byte already waiting: nothing goes straight out. */
        struct iovec one = { (void *)"x", 1 };
        fuzz_check(vp_out_send(&st.out, NULL, &one, 1, NULL, 0) == 0);
    }
    size_t i = 1;
    while (i < size) {
        uint8_t t = data[i++];
        if (t < 0xc0) {
            size_t n = (size_t)t + 1;
            if (n > size - i)
                n = size - i;
            feed(&st, data + i, n, -1);
            i += n;
        } else {
            for (int k = 0; k <= (t & 0x1f); k++) {
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                    break;
                static const uint8_t dummy = 0;
                feed(&st, &dummy, 1, fd);
            }
        }
    }
    vp_in_free(&st.in);
    vp_out_free(&st.out);
    return 0;
}
