/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The benchmark's reference backend: libvirt.so's public API. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "bench.h"

const char bench_backend[] = "ref";

struct bench_conn {
    virConnectPtr conn;
    virDomainPtr dom;
};

/* libvirt keeps no per-thread call state the caller must provide. */
struct bench_thread {
    int unused;
};

static int failed(const char *what)
{
    const char *msg = virGetLastErrorMessage();
    fprintf(stderr, "ref: %s: %s\n", what, msg ? msg : "unknown error");
    return -1;
}

bench_conn *bench_open(const char *uri)
{
    bench_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
#ifdef BENCH_SASL
    /* The default callback; credentials from auth.conf (LIBVIRT_AUTH_FILE). */
    c->conn = virConnectOpenAuth(uri, virConnectAuthPtrDefault, 0);
#else
    c->conn = virConnectOpen(uri);
#endif
    if (!c->conn) {
        failed(uri);
        free(c);
        return NULL;
    }
    return c;
}

void bench_close(bench_conn *c)
{
    if (c->dom)
        virDomainFree(c->dom);
    virConnectClose(c->conn);
    free(c);
}

static int list_all(virConnectPtr conn)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);
    if (n < 0)
        return failed("list");
    for (int i = 0; i < n; i++)
        virDomainFree(doms[i]);
    free(doms);
    return n;
}

int bench_prepare(bench_conn *c, enum bench_workload w)
{
    if (w == W_GET_INFO) {
        c->dom = virDomainLookupByName(c->conn, "test");
        if (!c->dom)
            return failed("lookup test");
    }
    if (w == W_LIST_ALL)
        return list_all(c->conn);
    return 0;
}

bench_thread *bench_thread_new(void)
{
    return calloc(1, sizeof(bench_thread));
}

void bench_thread_free(bench_thread *t)
{
    free(t);
}

static int setup(const char *uri)
{
    virConnectPtr conn = virConnectOpen(uri);
    if (!conn)
        return failed(uri);
    virConnectClose(conn);
    return 0;
}

int bench_call(bench_conn *c, bench_thread *t, enum bench_workload w, const char *uri)
{
    (void)t;
    switch (w) {
    case W_LIB_VERSION: {
        unsigned long v;
        return virConnectGetLibVersion(c->conn, &v) < 0 ? failed("lib version") : 0;
    }
    case W_GET_INFO: {
        virDomainInfo info;
        return virDomainGetInfo(c->dom, &info) < 0 ? failed("get info") : 0;
    }
    case W_LIST_ALL:
        return list_all(c->conn) < 0 ? -1 : 0;
    case W_SETUP:
        return setup(uri);
    }
    return -1;
}

/* libvirt.so has no asynchronous calls: its pipelined figure is the
 * 4-thread one (the driver script says so). */
long bench_pipeline(bench_conn *c, enum bench_workload w, int window,
                    const struct timespec *deadline, bench_samples *s)
{
    (void)c, (void)w, (void)window, (void)deadline, (void)s;
    return -2;
}

int bench_hold(const char *uri, int n)
{
    (void)uri, (void)n;
    fprintf(stderr, "ref: the holder is ours only\n");
    return 2;
}
