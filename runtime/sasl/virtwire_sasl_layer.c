/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire SASL: the security layer as a channel over another one.
 *
 * Writing: the first clear_out bytes the connection hands us were queued
 * before the layer started and go to the inner channel unchanged.  After
 * that, at most max_out raw bytes at a time are encoded into one packet,
 * which is written to the inner channel; writev() says the raw bytes are
 * taken only once their whole packet is out, and 0 meanwhile, as libvirt's
 * socket does: the connection keeps them at the head of its queue and
 * hands them again, while we finish the packet we made of them.
 *
 * Reading: bytes from the inner channel go into a buffer that holds one
 * packet at most (4 + max_in bytes: a longer packet is refused before
 * anything of it is kept); each whole packet is decoded at once and its
 * clear bytes handed out until used up.  When the inner channel is a
 * plain socket (tcp, unix), whose bytes wait only in the kernel, a read of
 * it that got less than it asked for found the socket empty: the next read
 * that would have to go to it again says "nothing now" at once, without
 * the system call that would only fail with EAGAIN; the caller polls,
 * which is level-triggered, before it reads again (one system call fewer
 * per reply).  A channel that keeps bytes of its own (TLS) is always read
 * until it says "nothing now".
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtwire_sasl_internal.h"

typedef struct layer {
    virtwire_channel pub; /* first */
    virtwire_channel *inner;
    vw_sasl_codec codec;
    size_t clear_left; /* raw bytes still to pass unchanged */

    /* output: the packet being written */
    const unsigned char *enc;
    size_t enc_len, enc_off, enc_raw;
    unsigned char *stage; /* raw bytes gathered from several chunks */

    /* input */
    unsigned char *in;
    size_t in_cap, in_start, in_end;
    const unsigned char *dec;
    size_t dec_len, dec_off;
    int kernel_only; /* the inner channel keeps no bytes of its own */
    int inner_empty; /* the last inner read was short: poll before the next */
    int failed;      /* sticky VIRTWIRE_ESECURITY_LAYER */
    char detail[160];
} layer;

long vw_sasl_frame_next(const unsigned char *buf, size_t len, size_t max_in, size_t *body_len)
{
    *body_len = 0;
    if (len < 4)
        return 0;
    size_t n = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
    *body_len = n;
    if (n == 0 || n > max_in)
        return VIRTWIRE_ESECURITY_LAYER;
    if (len - 4 < n)
        return 0;
    return (long)(n + 4);
}

static int fail(layer *l, const char *fmt, size_t a, size_t b)
{
    if (!l->failed)
        snprintf(l->detail, sizeof l->detail, fmt, a, b);
    l->failed = 1;
    return VIRTWIRE_ESECURITY_LAYER;
}

static int codec_fail(layer *l, const char *what)
{
    const char *d = l->codec.detail ? l->codec.detail(l->codec.ctx) : NULL;
    if (!l->failed)
        snprintf(l->detail, sizeof l->detail, "failed to %s SASL data%s%s", what,
                 d ? ": " : "", d ? d : "");
    l->failed = 1;
    return VIRTWIRE_ESECURITY_LAYER;
}

static ssize_t layer_read(virtwire_channel *ch, void *buf, size_t len, int *fd)
{
    layer *l = (layer *)ch;
    if (fd)
        *fd = -1;
    if (l->failed)
        return VIRTWIRE_ESECURITY_LAYER;
    for (;;) {
        if (l->dec_off < l->dec_len) {
            size_t n = l->dec_len - l->dec_off;
            if (n > len)
                n = len;
            memcpy(buf, l->dec + l->dec_off, n);
            l->dec_off += n;
            return (ssize_t)n;
        }
        size_t body;
        long whole = vw_sasl_frame_next(l->in + l->in_start, l->in_end - l->in_start,
                                        l->codec.max_in, &body);
        if (whole < 0 && body == 0)
            return fail(l, "empty SASL packet (%zu bytes, at most %zu)", body, l->codec.max_in);
        if (whole < 0)
            return fail(l,
                        "SASL packet of %zu bytes is longer than the negotiated buffer of %zu "
                        "bytes",
                        body, l->codec.max_in);
        if (whole > 0) {
            const unsigned char *out = NULL;
            size_t out_len = 0;
            int rc = l->codec.decode(l->codec.ctx, l->in + l->in_start, (size_t)whole, &out,
                                     &out_len);
            l->in_start += (size_t)whole;
            if (rc < 0)
                return codec_fail(l, "decode");
            l->dec = out;
            l->dec_len = out_len;
            l->dec_off = 0;
            continue; /* an empty packet gives nothing: read on */
        }
        /* Part of a packet: make room behind it and read more. */
        if (l->in_start) {
            memmove(l->in, l->in + l->in_start, l->in_end - l->in_start);
            l->in_end -= l->in_start;
            l->in_start = 0;
        }
        if (l->in_end == l->in_cap) /* cannot happen: a packet fits */
            return fail(l, "SASL input buffer full (%zu of %zu bytes)", l->in_end, l->in_cap);
        if (l->inner_empty) {
            l->inner_empty = 0;
            return 0;
        }
        int ifd = -1;
        size_t want = l->in_cap - l->in_end;
        ssize_t n = virtwire_channel_read(l->inner, l->in + l->in_end, want, &ifd);
        if (ifd >= 0) { /* nothing passes fds here */
            int saved = errno;
            close(ifd);
            errno = saved;
        }
        if (n <= 0)
            return n; /* 0: nothing now; the end, mid-packet or not; errors */
        l->in_end += (size_t)n;
        l->inner_empty = l->kernel_only && (size_t)n < want;
    }
}

/* Writes what is left of the current packet.  Returns 1 when it is all
 * out, 0 when the inner channel is full, or an error. */
static int flush_packet(layer *l)
{
    while (l->enc_off < l->enc_len) {
        struct iovec v = { (void *)(l->enc + l->enc_off), l->enc_len - l->enc_off };
        ssize_t n = virtwire_channel_writev(l->inner, &v, 1);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return 0;
        l->enc_off += (size_t)n;
    }
    return 1;
}

static ssize_t layer_writev(virtwire_channel *ch, const struct iovec *iov, size_t niov)
{
    layer *l = (layer *)ch;
    if (l->failed)
        return VIRTWIRE_ESECURITY_LAYER;
    size_t total = 0;
    for (size_t i = 0; i < niov; i++)
        total += iov[i].iov_len;
    if (total == 0)
        return 0;
    if (l->clear_left) {
        /* Bytes queued before the layer: unchanged, and no more of them. */
        size_t want = total < l->clear_left ? total : l->clear_left;
        struct iovec v[16];
        size_t nv = 0, got = 0;
        for (size_t i = 0; i < niov && nv < 16 && got < want; i++) {
            size_t take = iov[i].iov_len < want - got ? iov[i].iov_len : want - got;
            if (!take)
                continue;
            v[nv++] = (struct iovec){ iov[i].iov_base, take };
            got += take;
        }
        ssize_t n = virtwire_channel_writev(l->inner, v, nv);
        if (n > 0)
            l->clear_left -= (size_t)n;
        return n;
    }
    if (l->enc_off == l->enc_len) {
        /* A new packet from the first max_out bytes handed to us. */
        size_t take = total < l->codec.max_out ? total : l->codec.max_out;
        const unsigned char *raw;
        if (iov[0].iov_len >= take) {
            raw = iov[0].iov_base;
        } else {
            size_t got = 0;
            for (size_t i = 0; i < niov && got < take; i++) {
                size_t n = iov[i].iov_len < take - got ? iov[i].iov_len : take - got;
                memcpy(l->stage + got, iov[i].iov_base, n);
                got += n;
            }
            raw = l->stage;
        }
        const unsigned char *out = NULL;
        size_t out_len = 0;
        if (l->codec.encode(l->codec.ctx, raw, take, &out, &out_len) < 0)
            return codec_fail(l, "encode");
        l->enc = out;
        l->enc_len = out_len;
        l->enc_off = 0;
        l->enc_raw = take;
    }
    int rc = flush_packet(l);
    if (rc <= 0)
        return rc; /* the same bytes come again: the packet goes on */
    size_t done = l->enc_raw;
    l->enc = NULL;
    l->enc_len = l->enc_off = l->enc_raw = 0;
    return (ssize_t)done;
}

static short layer_events(virtwire_channel *ch, short want)
{
    layer *l = (layer *)ch;
    return virtwire_channel_events(l->inner, want);
}

static const char *layer_error_detail(virtwire_channel *ch)
{
    layer *l = (layer *)ch;
    if (l->failed)
        return l->detail;
    return virtwire_channel_error_detail(l->inner);
}

static unsigned int layer_ssf(virtwire_channel *ch)
{
    layer *l = (layer *)ch;
    unsigned int inner = virtwire_channel_ssf(l->inner);
    return inner > l->codec.ssf ? inner : l->codec.ssf;
}

static void layer_shutdown(virtwire_channel *ch)
{
    virtwire_channel_shutdown(((layer *)ch)->inner);
}

static void layer_free(virtwire_channel *ch)
{
    layer *l = (layer *)ch;
    if (l->codec.free)
        l->codec.free(l->codec.ctx);
    virtwire_channel_free(l->inner);
    free(l->stage);
    free(l->in);
    free(l);
}

static const virtwire_channel_ops layer_ops = {
    .size = sizeof layer_ops,
    .name = "sasl",
    .read = layer_read,
    .writev = layer_writev,
    .events = layer_events,
    .error_detail = layer_error_detail,
    .ssf = layer_ssf,
    .shutdown = layer_shutdown,
    .free = layer_free,
};

int vw_sasl_layer_new(virtwire_channel *inner, const vw_sasl_codec *codec, const void *in,
                      size_t in_len, size_t clear_out, virtwire_channel **out)
{
    if (out)
        *out = NULL;
    if (!inner || !codec || !codec->encode || !codec->decode || !out || codec->max_in == 0 ||
        codec->max_in > VW_SASL_MAXOUT_CAP || codec->max_out == 0 || (in_len && !in))
        return VIRTWIRE_EINVAL;
    layer *l = calloc(1, sizeof *l);
    if (!l)
        return VIRTWIRE_ENOMEM;
    l->codec = *codec;
    if (l->codec.max_out > VW_SASL_MAXOUT_CAP)
        l->codec.max_out = VW_SASL_MAXOUT_CAP;
    /* One packet, or what was read past the boundary if that is more. */
    l->in_cap = 4 + l->codec.max_in;
    if (in_len > l->in_cap)
        l->in_cap = in_len;
    l->in = malloc(l->in_cap);
    l->stage = malloc(l->codec.max_out);
    if (!l->in || !l->stage) {
        free(l->in);
        free(l->stage);
        free(l);
        return VIRTWIRE_ENOMEM;
    }
    if (in_len)
        memcpy(l->in, in, in_len);
    l->in_end = in_len;
    l->clear_left = clear_out;
    l->inner = inner;
    const char *name = virtwire_channel_name(inner);
    l->kernel_only = name && (strcmp(name, "tcp") == 0 || strcmp(name, "unix") == 0);
    l->pub.ops = &layer_ops;
    l->pub.fd = inner->fd;
    l->pub.flags = 0; /* no fds over a security layer */
    *out = &l->pub;
    return 0;
}
