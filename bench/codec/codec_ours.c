/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The workloads on virtwire's generated codecs, used the intended way:
 * virtwire_encode() into a caller's buffer; virtwire_decode() into one arena
 * that is reset (not freed) after each message, so that a warmed-up arena
 * decodes without calling malloc.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "remote_protocol.h"
#include "virtwire_client_internal.h"
#include "virtwire_transport.h"

#include "bench.h"
#include "values.h"

static remote_connect_list_all_domains_ret w1_val, w1_out;
static remote_domain_get_xml_desc_ret w2_val, w2_out;
static remote_connect_get_all_domain_stats_ret w3_val, w3_out;
static remote_domain_get_info_ret w4_val, w4_out;

static virtwire_arena arena = VIRTWIRE_ARENA_INIT;

typedef struct workload {
    const virtwire_type *type;
    const void *val; /* the value encoded */
    void *out;       /* where it is decoded to */
    int (*check)(const void *out);
} workload;

static int check1(const void *v) { return check_w1(v); }
static int check2(const void *v) { return check_w2(v); }
static int check3(const void *v) { return check_w3(v); }
static int check4(const void *v) { return check_w4(v); }

static const workload workloads[BENCH_NW] = {
    { &remote_connect_list_all_domains_ret_desc, &w1_val, &w1_out, check1 },
    { &remote_domain_get_xml_desc_ret_desc, &w2_val, &w2_out, check2 },
    { &remote_connect_get_all_domain_stats_ret_desc, &w3_val, &w3_out, check3 },
    { &remote_domain_get_info_ret_desc, &w4_val, &w4_out, check4 },
};

static int ours_setup(void)
{
    build_w1(&w1_val);
    build_w2(&w2_val);
    build_w3(&w3_val);
    build_w4(&w4_val);
    return 0;
}

static long ours_encode_once(int w, void *buf, size_t cap)
{
    size_t len;
    if (virtwire_encode(workloads[w].type, workloads[w].val, buf, cap, &len) < 0)
        return -1;
    return (long)len;
}

/* One decode the way the loop does it (virtwire_decode() zeroes the output
 * first); the result stays in the arena. */
static int decode_one(const workload *wl, const void *buf, size_t len)
{
    return virtwire_decode(wl->type, buf, len, &arena, wl->out) < 0 ? -1 : 0;
}

static int ours_decode_check(int w, const void *buf, size_t len)
{
    const workload *wl = &workloads[w];
    int rc = decode_one(wl, buf, len);
    if (rc == 0)
        rc = wl->check(wl->out);
    virtwire_arena_reset(&arena);
    return rc;
}

static int ours_encode_loop(int w, void *buf, size_t cap, long iters)
{
    const workload *wl = &workloads[w];
    for (long i = 0; i < iters; i++) {
        size_t len;
        if (virtwire_encode(wl->type, wl->val, buf, cap, &len) < 0)
            return -1;
    }
    return 0;
}

static int ours_decode_loop(int w, const void *buf, size_t len, long iters)
{
    const workload *wl = &workloads[w];
    for (long i = 0; i < iters; i++) {
        int rc = decode_one(wl, buf, len);
        virtwire_arena_reset(&arena);
        if (rc < 0)
            return -1;
    }
    return 0;
}

const bench_codec bench_ours = {
    "virtwire", ours_setup, ours_encode_once, ours_decode_check,
    ours_encode_loop, ours_decode_loop,
};

/* ------------------------------------------------------------------------ */
/* The runtime's own encode paths                                           */
/* ------------------------------------------------------------------------ */

/* The server's side: a transport in the server role whose on_send drops
 * the frame, or, while checking, copies its payload out. */
static virtwire_transport *reply_t;
static virtwire_transport_program *reply_p;
static unsigned char *sent_payload;
static size_t sent_len, sent_cap;
static int keep_sent;

static int discard_send(virtwire_transport *t, const struct iovec *iov, size_t niov,
                        const int *fds, size_t nfds, void *opaque)
{
    (void)t;
    (void)fds;
    (void)nfds;
    (void)opaque;
    if (!keep_sent)
        return 0;
    sent_len = 0;
    for (size_t i = 1; i < niov; i++) {
        if (sent_len + iov[i].iov_len > sent_cap)
            return -1;
        memcpy(sent_payload + sent_len, iov[i].iov_base, iov[i].iov_len);
        sent_len += iov[i].iov_len;
    }
    return 0;
}

static int reply_setup(size_t cap)
{
    virtwire_transport_callbacks cbs = { .size = sizeof cbs, .on_send = discard_send };
    virtwire_transport_program_callbacks pcbs = { .size = sizeof pcbs };
    sent_payload = malloc(cap);
    sent_cap = cap;
    if (!sent_payload ||
        virtwire_transport_new(VIRTWIRE_TRANSPORT_SERVER, &cbs, NULL, &reply_t) < 0 ||
        virtwire_transport_register(reply_t, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, &pcbs, NULL,
                                    &reply_p) < 0)
        return -1;
    return 0;
}

static int reply_once(const workload *wl)
{
    int64_t rc = virtwire_transport_send_value(reply_p, 1, VIR_NET_REPLY, VIR_NET_OK, 1, wl->type,
                                               wl->val, NULL, 0);
    return rc < 0 ? -1 : 0;
}

/* The client's side: what a call does with its arguments before sending. */
static int call_once(const workload *wl, unsigned char *stack, const void **out, size_t *len,
                     unsigned char **heap)
{
    /* A procedure whose arguments are of the workload's type. */
    static virtwire_proc procs[BENCH_NW];
    /* As a client's: the size of the last call that did not fit. */
    static atomic_size_t hints[BENCH_NW];
    virtwire_proc *proc = &procs[wl - workloads];
    proc->args = wl->type;
    unsigned char *buf;
    if (vw_client_encode_args(proc, wl->val, stack, VW_CLIENT_ARGS_STACK, &hints[wl - workloads],
                              &buf, len) < 0)
        return -1;
    *out = buf;
    *heap = buf != stack ? buf : NULL;
    return 0;
}

int bench_ours_paths_check(int w, const void *wire, size_t len)
{
    const workload *wl = &workloads[w];
    if (!reply_t && reply_setup((size_t)2 << 20) < 0)
        return -1;
    if (len > sent_cap)
        return -1;
    keep_sent = 1;
    int rc = reply_once(wl);
    keep_sent = 0;
    if (rc < 0 || sent_len != len || memcmp(sent_payload, wire, len) != 0)
        return -1;
    unsigned char stack[VW_CLIENT_ARGS_STACK];
    const void *out;
    size_t n;
    unsigned char *heap;
    if (call_once(wl, stack, &out, &n, &heap) < 0)
        return -1;
    rc = n == len && memcmp(out, wire, len) == 0 ? 0 : -1;
    free(heap);
    return rc;
}

int bench_ours_call_loop(int w, long iters)
{
    const workload *wl = &workloads[w];
    for (long i = 0; i < iters; i++) {
        unsigned char stack[VW_CLIENT_ARGS_STACK];
        const void *out;
        size_t n;
        unsigned char *heap;
        if (call_once(wl, stack, &out, &n, &heap) < 0)
            return -1;
        free(heap);
    }
    return 0;
}

int bench_ours_reply_loop(int w, long iters)
{
    const workload *wl = &workloads[w];
    for (long i = 0; i < iters; i++)
        if (reply_once(wl) < 0)
            return -1;
    return 0;
}
