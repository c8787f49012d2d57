/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The workloads on the reference: rpcgen's xdr_* functions for libvirt's
 * remote_protocol.x with libtirpc's memory streams, used the way libvirt
 * uses them (virnetmessage.c): xdrmem_create() over the message buffer, the
 * filter, xdr_getpos(), xdr_destroy(); a decode goes into a zeroed structure
 * and is released with xdr_free().
 */
#include <string.h>

#include <rpc/rpc.h>

#include "remote_protocol.h" /* rpcgen's, from the build tree */

#include "bench.h"
#include "values.h"

static remote_connect_list_all_domains_ret w1_val, w1_out;
static remote_domain_get_xml_desc_ret w2_val, w2_out;
static remote_connect_get_all_domain_stats_ret w3_val, w3_out;
static remote_domain_get_info_ret w4_val, w4_out;

typedef struct workload {
    xdrproc_t proc;
    void *val; /* the value encoded (xdr filters take non-const pointers) */
    void *out; /* where it is decoded to */
    size_t size;
    int (*check)(const void *out);
} workload;

static int check1(const void *v) { return check_w1(v); }
static int check2(const void *v) { return check_w2(v); }
static int check3(const void *v) { return check_w3(v); }
static int check4(const void *v) { return check_w4(v); }

static const workload workloads[BENCH_NW] = {
    { (xdrproc_t)xdr_remote_connect_list_all_domains_ret, &w1_val, &w1_out, sizeof(w1_out), check1 },
    { (xdrproc_t)xdr_remote_domain_get_xml_desc_ret, &w2_val, &w2_out, sizeof(w2_out), check2 },
    { (xdrproc_t)xdr_remote_connect_get_all_domain_stats_ret, &w3_val, &w3_out, sizeof(w3_out), check3 },
    { (xdrproc_t)xdr_remote_domain_get_info_ret, &w4_val, &w4_out, sizeof(w4_out), check4 },
};

static int ref_setup(void)
{
    build_w1(&w1_val);
    build_w2(&w2_val);
    build_w3(&w3_val);
    build_w4(&w4_val);
    return 0;
}

static long encode_one(const workload *wl, void *buf, size_t cap)
{
    XDR xdr;
    long len = -1;
    xdrmem_create(&xdr, buf, (unsigned int)cap, XDR_ENCODE);
    if (wl->proc(&xdr, wl->val))
        len = (long)xdr_getpos(&xdr);
    xdr_destroy(&xdr);
    return len;
}

/* One decode into the zeroed output; the caller calls xdr_free(). */
static int decode_one(const workload *wl, const void *buf, size_t len)
{
    XDR xdr;
    memset(wl->out, 0, wl->size);
    xdrmem_create(&xdr, (char *)buf, (unsigned int)len, XDR_DECODE);
    int ok = wl->proc(&xdr, wl->out);
    xdr_destroy(&xdr);
    return ok ? 0 : -1;
}

static long ref_encode_once(int w, void *buf, size_t cap)
{
    return encode_one(&workloads[w], buf, cap);
}

static int ref_decode_check(int w, const void *buf, size_t len)
{
    const workload *wl = &workloads[w];
    int rc = decode_one(wl, buf, len);
    if (rc == 0)
        rc = wl->check(wl->out);
    xdr_free(wl->proc, wl->out);
    return rc;
}

static int ref_encode_loop(int w, void *buf, size_t cap, long iters)
{
    const workload *wl = &workloads[w];
    for (long i = 0; i < iters; i++)
        if (encode_one(wl, buf, cap) < 0)
            return -1;
    return 0;
}

static int ref_decode_loop(int w, const void *buf, size_t len, long iters)
{
    const workload *wl = &workloads[w];
    for (long i = 0; i < iters; i++) {
        int rc = decode_one(wl, buf, len);
        xdr_free(wl->proc, wl->out);
        if (rc < 0)
            return -1;
    }
    return 0;
}

const bench_codec bench_ref = {
    "rpcgen+libtirpc", ref_setup, ref_encode_once, ref_decode_check,
    ref_encode_loop, ref_decode_loop,
};
