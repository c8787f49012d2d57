/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for libvirtwire_sasl's parsers of untrusted bytes,
 * without libsasl2: the security layer's decoder framing (the channel of
 * runtime/sasl/virtwire_sasl_layer.c over a socket pair, with a stand-in
 * codec) and libvirt's auth.conf parser and lookup.
 *
 * Input: byte 0 picks the part (even: the layer, odd: auth.conf).
 *   layer     byte 1: the largest packet body accepted (x 64, + 1); byte
 *             2: how many of the bytes are handed over as read past the
 *             boundary (x 16); the rest is what the peer sends, in reads of
 *             bytes the size of byte 3 (+1).  The stand-in codec's decode
 *             gives the body back unless it starts with 0xff (an error).
 *   auth.conf the rest is the file; each credential name is then looked
 *             up for hosts "h", NULL and "default".
 *
 * Checks: the layer gives back exactly the bodies of the whole packets
 * that come before the first bad one, in order, then
 * VIRTWIRE_ESECURITY_LAYER (a body of 0 or more than the maximum, or a
 * decode error) or, at the end of the bytes, nothing more; no read ever
 * passes its buffer; nothing leaks.  The parser returns 0 or a documented
 * code, and lookups of a parsed file return 0 or VIRTWIRE_EINVAL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virtwire_sasl.h"
#include "virtwire_sasl_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
    abort();
}

#define fuzz_check(cond) ((cond) ? (void)0 : fuzz_fail(__LINE__, #cond))

static int id_encode(void *ctx, const unsigned char *in, size_t len, const unsigned char **out,
                     size_t *out_len)
{
    (void)ctx;
    *out = in;
    *out_len = len;
    return 0;
}

static int id_decode(void *ctx, const unsigned char *in, size_t len, const unsigned char **out,
                     size_t *out_len)
{
    (void)ctx;
    fuzz_check(len >= 5);
    if (in[4] == 0xff)
        return -1;
    *out = in + 4;
    *out_len = len - 4;
    return 0;
}

static void fuzz_layer(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    size_t max_in = (size_t)data[0] * 64 + 1;
    size_t pre = (size_t)data[1] * 16;
    size_t chunk = (size_t)data[2] + 1;
    data += 3;
    size -= 3;
    if (pre > size)
        pre = size;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
        return;
    virtwire_channel *inner = NULL;
    if (virtwire_channel_socket_new(sv[0], 0, &inner) < 0) {
        close(sv[1]);
        return;
    }
    vw_sasl_codec codec = { .encode = id_encode, .decode = id_decode, .max_out = 4096,
                            .max_in = max_in };
    virtwire_channel *ch = NULL;
    if (vw_sasl_layer_new(inner, &codec, data, pre, 0, &ch) < 0) {
        virtwire_channel_free(inner);
        close(sv[1]);
        return;
    }
    /* What the layer must give: the bodies of the good packets. */
    unsigned char *want = malloc(size + 1);
    size_t nwant = 0;
    int want_error = 0;
    for (size_t p = 0;;) {
        size_t body;
        long whole = vw_sasl_frame_next(data + p, size - p, max_in, &body);
        if (whole < 0 || (whole > 0 && data[p + 4] == 0xff)) {
            want_error = 1;
            break;
        }
        if (whole == 0)
            break;
        memcpy(want + nwant, data + p + 4, body);
        nwant += body;
        p += (size_t)whole;
    }
    unsigned char *got = malloc(size + 1);
    size_t ngot = 0, sent = pre;
    int err = 0;
    for (int rounds = 0; rounds < 100000; rounds++) {
        if (sent < size) {
            size_t n = size - sent < chunk ? size - sent : chunk;
            ssize_t w = write(sv[1], data + sent, n);
            if (w > 0)
                sent += (size_t)w;
        } else if (sv[1] >= 0) {
            close(sv[1]); /* the end */
            sv[1] = -1;
        }
        unsigned char buf[97];
        int fd = 0;
        ssize_t n = virtwire_channel_read(ch, buf, sizeof buf, &fd);
        fuzz_check(fd == -1);
        if (n > 0) {
            fuzz_check((size_t)n <= sizeof buf && ngot + (size_t)n <= size);
            memcpy(got + ngot, buf, (size_t)n);
            ngot += (size_t)n;
            continue;
        }
        if (n < 0) {
            err = (int)n;
            break;
        }
    }
    if (want_error)
        fuzz_check(err == VIRTWIRE_ESECURITY_LAYER);
    else
        fuzz_check(err == VIRTWIRE_ECLOSED);
    fuzz_check(ngot == nwant && memcmp(got, want, ngot) == 0);
    if (err == VIRTWIRE_ESECURITY_LAYER)
        fuzz_check(virtwire_channel_error_detail(ch) != NULL);
    free(got);
    free(want);
    virtwire_channel_free(ch);
    if (sv[1] >= 0)
        close(sv[1]);
}

static void fuzz_authconf(const uint8_t *data, size_t size)
{
    virtwire_auth_config *cfg = NULL;
    char err[256];
    int rc = virtwire_auth_config_parse((const char *)data, size, "fuzz", &cfg, err, sizeof err);
    fuzz_check(rc == 0 || rc == VIRTWIRE_EINVAL || rc == VIRTWIRE_ETOOLONG ||
               rc == VIRTWIRE_ENOMEM);
    fuzz_check((rc == 0) == (cfg != NULL));
    static const char *const names[] = { "username", "authname", "password", "realm" };
    static const char *const hosts[] = { "h", NULL, "default" };
    for (size_t i = 0; cfg && i < 4; i++) {
        for (size_t h = 0; h < 3; h++) {
            const char *v = NULL;
            int lrc = virtwire_auth_config_lookup(cfg, "libvirt", hosts[h], names[i], &v, err,
                                                  sizeof err);
            fuzz_check(lrc == 0 || lrc == VIRTWIRE_EINVAL || lrc == VIRTWIRE_ENOMEM);
            fuzz_check(lrc == 0 || v == NULL);
            if (v)
                fuzz_check(strlen(v) <= size);
        }
    }
    virtwire_auth_config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16)
        return 0;
    if (data[0] & 1)
        fuzz_authconf(data + 1, size - 1);
    else
        fuzz_layer(data + 1, size - 1);
    return 0;
}
