/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The workloads on virtwire's generated codecs, used the intended way:
 * virtwire_encode() into a caller's buffer; virtwire_decode() into one arena
 * that is reset (not freed) after each message, so that a warmed-up arena
 * decodes without calling malloc.
 */
#include "remote_protocol.h"

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
