/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes the seed corpus of the transport fuzz target into a directory:
 * real frames (the PING and CONNECT_OPEN quoted in libvirt-wire.md, and
 * frames of every type as libvirt lays them out) behind the target's two
 * control bytes (see fuzz_receive.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frames a client receives. */
static const char client_frames[] =
    /* REPLY/OK to serial 0 */
    "00000024 20008086 00000001 00000001 00000001 00000000 00000000 01020304 05060708"
    /* an event */
    "00000028 20008086 00000001 0000013e 00000002 00000001 00000000 00000001 00000002 00000003"
    /* keepalive PING */
    "0000001c 6b656570 00000001 00000001 00000002 00000000 00000000"
    /* REPLY_WITH_FDS, 2 fds */
    "00000024 20008086 00000001 00000157 00000005 00000001 00000000 00000002 cafef00d"
    /* stream 1: data, hole, error */
    "00000027 20008086 00000001 000000d0 00000003 00000001 00000002 \"hello world\""
    "00000028 20008086 00000001 000000d0 00000006 00000001 00000002 00000000 00010000 00000000"
    "00000048 20008086 00000001 000000d0 00000003 00000001 00000001"
    " 00000001 00000012 00000000 00000002 00000000 00000000 00000000 00000000"
    " 00000000 00000000 00000000"
    /* REPLY/ERROR "Domain not found" to serial 2 */
    "0000005c 20008086 00000001 00000017 00000001 00000002 00000001"
    " 0000002a 0000000c 00000001 00000010 \"Domain not found\" 00000002"
    " 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
    /* stream 2: data, end of data, finish */
    "00000021 20008086 00000001 000000d1 00000003 00000002 00000002 \"abcde\""
    "0000001c 20008086 00000001 000000d1 00000003 00000002 00000002"
    "0000001c 20008086 00000001 000000d1 00000003 00000002 00000000";

/* Frames a server receives. */
static const char server_frames[] =
    /* AUTH_LIST, SUPPORTS_FEATURE(10), CONNECT_OPEN as virsh sends them */
    "0000001c 20008086 00000001 00000042 00000000 00000000 00000000"
    "00000020 20008086 00000001 0000003c 00000000 00000001 00000000 0000000a"
    "00000038 20008086 00000001 00000001 00000000 00000002 00000000"
    " 00000001 0000000f \"test:///default\" 00 00000000"
    /* keepalive PING and PONG */
    "0000001c 6b656570 00000001 00000001 00000002 00000000 00000000"
    "0000001c 6b656570 00000001 00000002 00000002 00000000 00000000"
    /* CREATE_WITH_FILES with 2 fds */
    "00000028 20008086 00000001 00000136 00000004 00000003 00000000 00000002 00000001 00000002"
    /* stream 1: data, hole, finish; stream 2: abort */
    "00000021 20008086 00000001 000000d0 00000003 00000001 00000002 \"abcde\""
    "00000028 20008086 00000001 000000d0 00000006 00000001 00000002 00000001 00000003 00000000"
    "0000001c 20008086 00000001 000000d0 00000003 00000001 00000000"
    "0000001c 20008086 00000001 000000d1 00000003 00000002 00000001"
    /* a call to a program nobody serves */
    "0000001c 00068000 00000001 00000001 00000000 00000004 00000000";

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

static size_t parse(const char *s, unsigned char *out)
{
    size_t n = 0;
    while (*s) {
        if (*s == '"') {
            for (s++; *s != '"'; s++)
                out[n++] = (unsigned char)*s;
            s++;
        } else if (isspace((unsigned char)*s)) {
            s++;
        } else {
            out[n++] = (unsigned char)(hexval(s[0]) << 4 | hexval(s[1]));
            s += 2;
        }
    }
    return n;
}

static int write_seed(const char *dir, const char *name, unsigned char c0, unsigned char c1,
                      const unsigned char *frames, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return -1;
    }
    int ok = fputc(c0, f) != EOF && fputc(c1, f) != EOF && fwrite(frames, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    static unsigned char cf[4096], sf[4096];
    size_t cn = parse(client_frames, cf), sn = parse(server_frames, sf);
    int rc = 0;
    /* Each frame set whole, with several cutting seeds and flag sets. */
    static const unsigned char variants[][2] = { { 0, 0 }, { 2, 7 }, { 4, 99 }, { 6, 200 } };
    for (size_t v = 0; v < 4; v++) {
        char name[64];
        snprintf(name, sizeof(name), "client-%zu", v);
        rc |= write_seed(argv[1], name, variants[v][0], variants[v][1], cf, cn);
        snprintf(name, sizeof(name), "server-%zu", v);
        rc |= write_seed(argv[1], name, variants[v][0] | 1, variants[v][1], sf, sn);
    }
    /* The two frames of libvirt-wire.md alone. */
    rc |= write_seed(argv[1], "doc-ping", 0, 1, sf + 32 + 28 + 56, 28);
    rc |= write_seed(argv[1], "doc-connect-open", 1, 1, sf + 28 + 32, 56);
    return rc ? 1 : 0;
}
