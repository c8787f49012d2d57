/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The interface between the benchmark driver (main.c) and the two codecs
 * under test.  Each codec lives in its own translation unit because
 * virtwire's generated remote_protocol.h and rpcgen's declare the same type
 * names; this header names no protocol type.
 */
#ifndef BENCH_CODEC_H
#define BENCH_CODEC_H

#include <stddef.h>

enum bench_workload {
    BENCH_W1, /* remote_connect_list_all_domains_ret, 1000 domains */
    BENCH_W2, /* remote_domain_get_xml_desc_ret, 1 MiB string */
    BENCH_W3, /* remote_connect_get_all_domain_stats_ret, 100 x 40 params */
    BENCH_W4, /* remote_domain_get_info_ret */
    BENCH_NW
};

/*
 * One codec.  The loops run inside the codec's own translation unit so that
 * the time measured is the codec's alone (plus one loop branch).  Every
 * function returns 0 (or a byte count) on success, -1 on failure.
 */
typedef struct bench_codec {
    const char *name;
    /** Builds the values of all workloads (values.h). */
    int (*setup)(void);
    /** Encodes workload w's value once into buf; returns its length. */
    long (*encode_once)(int w, void *buf, size_t cap);
    /** Decodes buf, compares the result with workload w's value field by
     *  field, releases it. */
    int (*decode_check)(int w, const void *buf, size_t len);
    /** Encodes workload w's value iters times into buf. */
    int (*encode_loop)(int w, void *buf, size_t cap, long iters);
    /** Decodes buf iters times as workload w's type, releasing each result
     *  the way the codec is meant to be used. */
    int (*decode_loop)(int w, const void *buf, size_t len, long iters);
} bench_codec;

/** virtwire's generated codecs (codec_ours.c). */
extern const bench_codec bench_ours;
/** rpcgen's xdr_* functions with libtirpc (codec_ref.c). */
extern const bench_codec bench_ref;

/*
 * The runtime's own encode paths on virtwire's side (codec_ours.c): the
 * client's call (its arguments encoded before the send) and the server's
 * reply (virtwire_transport_send_value() on a transport in the server
 * role whose on_send drops the frame).
 */
/** Checks that both paths give workload w's wire bytes (sets them up). */
int bench_ours_paths_check(int w, const void *wire, size_t len);
/** The client's call encode path, iters times. */
int bench_ours_call_loop(int w, long iters);
/** The server's reply encode path, iters times. */
int bench_ours_reply_loop(int w, long iters);

/** Calls to malloc, calloc and realloc so far, by anyone in the process
 *  (alloc_count.c). */
unsigned long bench_alloc_calls(void);
/** Calls to free with a non-NULL pointer so far. */
unsigned long bench_free_calls(void);

#endif /* BENCH_CODEC_H */
