/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every way of cutting a multi-frame input gives the same callbacks, the
 * same automatic answers and the same fd handling.
 *
 * The input holds every type a client receives (replies, REPLY_WITH_FDS
 * with and without fds, events, stream data, holes and errors, a keepalive
 * PING) and frames that are dropped.  It is fed whole, cut at every byte
 * position, byte by byte, and in random pieces; each run must log exactly
 * the hand-written expected callbacks and send exactly one PONG.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlib.h"

#define REMOTE 0x20008086u

static unsigned char input[1 << 16];
static size_t input_len;
static size_t big_input_len; /* input plus one 20000-byte stream packet */
static int fd_source = -1;

static void add_hex(const char *hex)
{
    input_len += vt_hex(hex, input + input_len, sizeof(input) - input_len);
}

static void build_input(void)
{
    /* 1. REPLY/OK to serial 0, 8 bytes. */
    add_hex("00000024 20008086 00000001 00000001 00000001 00000000 00000000 | 01020304 05060708");
    /* 2. An event. */
    add_hex("00000028 20008086 00000001 0000013e 00000002 00000001 00000000 | 00000001 00000002 00000003");
    /* 3. A keepalive PING: answered with a PONG, not logged. */
    add_hex("0000001c 6b656570 00000001 00000001 00000002 00000000 00000000");
    /* 4. REPLY_WITH_FDS to serial 1: 2 fds, 4 bytes of payload. */
    add_hex("00000024 20008086 00000001 00000157 00000005 00000001 00000000 | 00000002 | cafef00d");
    /* 5. Stream data on stream 5 (proc 208): 11 raw bytes. */
    add_hex("00000027 20008086 00000001 000000d0 00000003 00000005 00000002 | \"hello world\"");
    /* 6. A hole on stream 5. */
    add_hex("00000028 20008086 00000001 000000d0 00000006 00000005 00000002 | 00000000 00010000 00000000");
    /* 7. REPLY/ERROR to serial 2, remote_error without optional fields. */
    add_hex("00000048 20008086 00000001 00000017 00000001 00000002 00000001 |"
            " 0000002a 0000000c 00000000 00000002 00000000 00000000 00000000 00000000"
            " 00000000 00000000 00000000");
    /* 8. An event of an unregistered program: dropped. */
    add_hex("0000001c 12341234 00000001 00000001 00000002 00000001 00000000");
    /* 9. Stream data for no open stream: dropped. */
    add_hex("0000001d 20008086 00000001 000000d0 00000003 00000063 00000002 | 7a");
    /* 10. REPLY_WITH_FDS to serial 3 with no fds. */
    add_hex("00000020 20008086 00000001 00000157 00000005 00000003 00000000 | 00000000");
    /* 11. REPLY/CONTINUE to serial 4: dropped, the call is complete. */
    add_hex("0000001c 20008086 00000001 00000001 00000001 00000004 00000002");
    /* 12. Server error on stream 5. */
    add_hex("00000048 20008086 00000001 000000d0 00000003 00000005 00000001 |"
            " 00000001 00000012 00000000 00000002 00000000 00000000 00000000 00000000"
            " 00000000 00000000 00000000");
    /* 13. REPLY_WITH_FDS to serial 5 with 1 fd, ending the input. */
    add_hex("00000020 20008086 00000001 00000157 00000005 00000005 00000000 | 00000001");

    /* For the big run: a 20000-byte packet on a second stream (serial 6),
     * to cross the receive buffer's first allocations. */
    big_input_len = input_len;
    size_t n = 20000, flen = 28 + n;
    unsigned char hdr[28];
    vt_hex("00000000 20008086 00000001 000000d1 00000003 00000006 00000002", hdr, 28);
    hdr[1] = (unsigned char)(flen >> 16);
    hdr[2] = (unsigned char)(flen >> 8);
    hdr[3] = (unsigned char)flen;
    memcpy(input + big_input_len, hdr, 28);
    for (size_t i = 0; i < n; i++)
        input[big_input_len + 28 + i] = (unsigned char)(i % 251);
    big_input_len += flen;
}

static const char expected_log[] =
    "R prog=20008086 vers=1 proc=1 type=1 serial=0 status=0 len=8 data=0102030405060708 fds=0\n"
    "M prog=20008086 vers=1 proc=318 type=2 serial=1 status=0 len=12 data=000000010000000200000003 fds=0\n"
    "R prog=20008086 vers=1 proc=343 type=5 serial=1 status=0 len=4 data=cafef00d fds=2\n"
    "S prog=20008086 vers=1 proc=208 type=3 serial=5 status=2 len=11 data=68656c6c6f20776f726c64 fds=0\n"
    "S prog=20008086 vers=1 proc=208 type=6 serial=5 status=2 len=12 data=000000000001000000000000 "
    "fds=0 hole=65536/0\n"
    "R prog=20008086 vers=1 proc=23 type=1 serial=2 status=1 len=44 data=0000002a0000000c00000000"
    "0000000200000000000000000000000000000000000000000000000000000000 fds=0 error=42/12/2/(null)\n"
    "E dropped VIRTWIRE_EPROGRAM type=2 serial=1 status=0\n"
    "E dropped VIRTWIRE_ESTREAM type=3 serial=99 status=2\n"
    "R prog=20008086 vers=1 proc=343 type=5 serial=3 status=0 len=0 data= fds=0\n"
    "E dropped VIRTWIRE_EMSG_COMBINATION type=1 serial=4 status=2\n"
    "S prog=20008086 vers=1 proc=208 type=3 serial=5 status=1 len=44 data=0000000100000012000000000"
    "000000200000000000000000000000000000000000000000000000000000000 fds=0 error=1/18/2/(null)\n"
    "R prog=20008086 vers=1 proc=343 type=5 serial=5 status=0 len=0 data= fds=1\n";

static const char expected_big_tail[] =
    "S prog=20008086 vers=1 proc=209 type=3 serial=6 status=2 len=20000 data=... fds=0\n";

/* A client with calls 0..5 in flight and streams 5 (sparse) and 6 open. */
static void client_init(tl_endpoint *c)
{
    tl_endpoint_init(c, "client", VIRTWIRE_TRANSPORT_CLIENT);
    virtwire_transport_program *p = tl_register(c, REMOTE, 1);
    for (int i = 0; i < 6; i++)
        if (virtwire_transport_send(p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0) != i)
            abort();
    if (virtwire_transport_stream_open(p, 208, 5, VIRTWIRE_STREAM_SPARSE) < 0 ||
        virtwire_transport_stream_open(p, 209, 6, 0) < 0)
        abort();
    tl_endpoint_clear_out(c);
}

/* Feeds one piece, handing over fds whenever the transport asks. */
static int feed_piece(tl_endpoint *c, const unsigned char *p, size_t n)
{
    size_t off = 0;
    for (;;) {
        virtwire_need need = virtwire_transport_need(c->t);
        if (need.kind == VIRTWIRE_NEED_FDS) {
            for (size_t i = 0; i < need.count; i++)
                if (virtwire_transport_receive_fd(c->t, dup(fd_source)) < 0)
                    return -1;
            continue;
        }
        if (off == n)
            return 0;
        ssize_t r = virtwire_transport_receive(c->t, p + off, n - off);
        if (r < 0)
            return -1;
        off += (size_t)r;
    }
}

/* Feeds input[0..len) cut at the given sorted positions and checks the
 * outcome. */
static int run_cuts(size_t len, const size_t *cuts, size_t ncuts, const char *want_log)
{
    tl_endpoint c;
    client_init(&c);
    size_t prev = 0;
    int ok = 1;
    for (size_t i = 0; i <= ncuts && ok; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        ok = feed_piece(&c, input + prev, end - prev) == 0;
        prev = end;
    }
    unsigned char pong[28];
    vt_hex("0000001c 6b656570 00000001 00000002 00000002 00000000 00000000", pong, 28);
    ok = ok && strcmp(vt_buf_str(&c.log), want_log) == 0 && c.out.len == 28 &&
         memcmp(c.out.p, pong, 28) == 0 && virtwire_transport_need(c.t).kind == VIRTWIRE_NEED_BYTES &&
         virtwire_transport_need(c.t).count == 4;
    if (!ok) {
        fprintf(stderr, "cuts:");
        for (size_t i = 0; i < ncuts; i++)
            fprintf(stderr, " %zu", cuts[i]);
        fprintf(stderr, "\nlog:\n%s", vt_buf_str(&c.log));
    }
    tl_endpoint_fini(&c);
    return ok;
}

static void test_every_split(void)
{
    CHECK(run_cuts(input_len, NULL, 0, expected_log));
    size_t failures = 0;
    for (size_t k = 0; k <= input_len; k++)
        if (!run_cuts(input_len, &k, 1, expected_log) && ++failures > 3)
            break;
    CHECK_INT(failures, 0);
}

static void test_byte_by_byte(void)
{
    size_t *cuts = malloc(input_len * sizeof(*cuts));
    for (size_t i = 0; i < input_len; i++)
        cuts[i] = i + 1;
    CHECK(run_cuts(input_len, cuts, input_len - 1, expected_log));
    free(cuts);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Random pieces over the input with the big packet at the end; the seed
 * is fixed so that a failure can be replayed. */
static void test_random_pieces(void)
{
    size_t tot = strlen(expected_log) + strlen(expected_big_tail);
    char *want = malloc(tot + 1);
    strcpy(want, expected_log);
    strcat(want, expected_big_tail);
    uint32_t seed = 12345;
    size_t failures = 0;
    for (int run = 0; run < 300 && failures < 3; run++) {
        size_t cuts[40];
        size_t n = 1 + (size_t)run % 40;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            cuts[i] = (seed >> 8) % (big_input_len + 1);
        }
        qsort(cuts, n, sizeof(cuts[0]), cmp_size);
        if (!run_cuts(big_input_len, cuts, n, want))
            failures++;
    }
    CHECK_INT(failures, 0);
    /* Cuts right around each 4-byte boundary of the big packet's first
     * bytes and of its end. */
    for (size_t k = input_len; k < input_len + 40; k++)
        CHECK(run_cuts(big_input_len, &k, 1, want));
    for (size_t k = big_input_len - 40; k <= big_input_len; k++)
        CHECK(run_cuts(big_input_len, &k, 1, want));
    free(want);
}

int main(void)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return 1;
    fd_source = pipefd[0];
    build_input();
    int before = vt_count_fds(0);
    test_every_split();
    test_byte_by_byte();
    test_random_pieces();
    /* Every received fd was closed by the transport. */
    CHECK_INT(vt_count_fds(0), before);
    close(pipefd[0]);
    close(pipefd[1]);
    return vt_finish("transport.split");
}
