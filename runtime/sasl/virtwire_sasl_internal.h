/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire SASL internals, shared by libvirtwire_sasl's files (not
 * installed).  The security layer's channel and its framing do not depend
 * on libsasl2: they call a codec, so that they can be fuzzed and tested
 * alone.
 */
#ifndef VIRTWIRE_SASL_INTERNAL_H
#define VIRTWIRE_SASL_INTERNAL_H

#include <stddef.h>

#include "virtwire_channel.h"

/* What we tell the peer we can take in one packet (secprops.maxbufsize),
 * libvirt's 64 KiB; packets longer than this are refused. */
#define VW_SASL_MAXBUF 65536u
/* Most raw bytes encoded at once, whatever the mechanism says. */
#define VW_SASL_MAXOUT_CAP (1u << 20)

/* A security layer's codec: Cyrus's sasl_encode()/sasl_decode(), or a
 * stand-in.  Outputs stay valid until the next call of the same function. */
typedef struct vw_sasl_codec {
    int (*encode)(void *ctx, const unsigned char *in, size_t len, const unsigned char **out,
                  size_t *out_len);
    /* in is exactly one whole packet: its 4-byte length and its body. */
    int (*decode)(void *ctx, const unsigned char *in, size_t len, const unsigned char **out,
                  size_t *out_len);
    /* Why the last call failed, or NULL. */
    const char *(*detail)(void *ctx);
    void (*free)(void *ctx);
    void *ctx;
    size_t max_out; /* raw bytes per encoded packet (SASL_MAXOUTBUF) */
    size_t max_in;  /* longest packet body accepted (VW_SASL_MAXBUF) */
    unsigned int ssf; /* the layer's SSF */
} vw_sasl_codec;

/*
 * The security layer over inner (see virtwire_conn_wrap_fn for in and
 * clear_out).  On success the channel owns inner and the codec's ctx; on
 * failure the caller keeps both.  Returns 0, VIRTWIRE_EINVAL or
 * VIRTWIRE_ENOMEM.
 */
int vw_sasl_layer_new(virtwire_channel *inner, const vw_sasl_codec *codec, const void *in,
                      size_t in_len, size_t clear_out, virtwire_channel **out);

/*
 * The framing of received packets (RFC 4422 3.7: a 4-byte big-endian
 * length, then that many bytes), over buf[0 .. len): 0 when more bytes are
 * needed, the length of the whole first packet (4 + body) when it is all
 * there, or VIRTWIRE_ESECURITY_LAYER for a body of 0 or more than max_in
 * bytes (*body_len says how long it claimed).
 */
long vw_sasl_frame_next(const unsigned char *buf, size_t len, size_t max_in, size_t *body_len);

#endif /* VIRTWIRE_SASL_INTERNAL_H */
