/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Typed calls (docs/guides/calls.md): synchronous calls into an arena, a
 * remote_error, a call in heap mode, and an asynchronous call; or, with
 * --timeouts, a call that times out on a connection that stays usable.
 *
 *   guide-calls URI [DOMAIN]
 *   guide-calls --timeouts URI
 *
 * For example, against libvirt's test driver:
 *
 *   guide-calls 'test+unix:///default?socket=/path/to/libvirt-sock' test
 *
 * and, for --timeouts, against guide-server (docs/guides/examples/server.c),
 * which answers CONNECT_GET_SYSINFO after 200 ms.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "remote_protocol_client.h"

/* Prints a failed call: the daemon's own error for VIRTWIRE_EREMOTE and
 * VIRTWIRE_EUNSUPPORTED, virtwire's description for everything else
 * (VIRTWIRE_ETIMEDOUT, VIRTWIRE_ECLOSED, codec errors ...).  Returns 1. */
static int report(const char *what, int rc, const virNetMessageError *err)
{
    if ((rc == VIRTWIRE_EREMOTE || rc == VIRTWIRE_EUNSUPPORTED) && err && err->message)
        printf("%s: remote error %d (domain %d): %s\n", what, err->code, err->domain,
               *err->message);
    else
        printf("%s: %s (%s)\n", what, virtwire_strerror(rc), virtwire_error_name(rc));
    return 1;
}

/* One synchronous call: the daemon's host name, printed; 0, or 1 (the
 * failure printed) when the call failed. */
static int print_hostname(virtwire_client *c, virtwire_call_opts *opts)
{
    remote_connect_get_hostname_ret host;
    int rc = remote_call_connect_get_hostname(c, &host, opts);
    if (rc != 0)
        return report("hostname", rc, opts->error);
    printf("hostname: %s\n", host.hostname);
    return 0;
}

/* ---- an asynchronous call ------------------------------------------------ */

typedef struct async_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    int rc;
    uint64_t lib_ver;
} async_wait;

/* Runs on the client's I/O thread.  In heap mode r->ret is freed when this
 * returns: copy what is needed (or take it with *r->steal_ret = 1). */
static void lib_version_done(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    (void)c;
    async_wait *w = opaque;
    pthread_mutex_lock(&w->lock);
    w->rc = r->rc;
    if (r->rc == 0)
        w->lib_ver = ((const remote_connect_get_lib_version_ret *)r->ret)->lib_ver;
    w->done = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* ---- timeouts ------------------------------------------------------------ */

/* A reply later than the call's timeout: VIRTWIRE_ETIMEDOUT.  The reply,
 * when it comes, is dropped, and the connection goes on. */
static int timeouts(virtwire_client *c)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts opts = { .size = sizeof opts, .arena = &arena, .timeout_ms = 50, .error = &err };
    remote_connect_get_sysinfo_args sa = { .flags = 0 };
    remote_connect_get_sysinfo_ret sr;
    int status = 0;

    int rc = remote_call_connect_get_sysinfo(c, &sa, &sr, &opts);
    report("sysinfo within 50 ms", rc, &err);
    if (rc != VIRTWIRE_ETIMEDOUT)
        status = 1;

    if (print_hostname(c, &opts) != 0)
        status = 1;

    opts.timeout_ms = 5000;
    rc = remote_call_connect_get_sysinfo(c, &sa, &sr, &opts);
    if (rc == 0)
        printf("sysinfo within 5000 ms: %zu bytes\n", strlen(sr.sysinfo));
    else
        status = report("sysinfo within 5000 ms", rc, &err);
    virtwire_arena_fini(&arena);
    return status;
}

int main(int argc, char **argv)
{
    int timeout_walk = argc == 3 && strcmp(argv[1], "--timeouts") == 0;
    int help = argc == 2 && strcmp(argv[1], "--help") == 0;
    if (help || argc < 2 || argc > 3 || (argv[1][0] == '-' && !timeout_walk)) {
        fprintf(help ? stdout : stderr, "usage: guide-calls URI [DOMAIN]\n"
                                        "       guide-calls --timeouts URI\n");
        return help ? 0 : 2;
    }
    const char *uri = timeout_walk ? argv[2] : argv[1];
    const char *domain = argc > 2 && !timeout_walk ? argv[2] : "test";

    /* Calls without a timeout of their own wait at most 10 s. */
    virtwire_client_options copts = { .size = sizeof copts, .call_timeout_ms = 10000 };
    virtwire_client *c;
    int rc = virtwire_client_connect(uri, &copts, &c);
    if (rc < 0) {
        fprintf(stderr, "guide-calls: connect: %s\n", virtwire_strerror(rc));
        return 1;
    }
    if (timeout_walk) {
        int status = timeouts(c);
        virtwire_client_close(c);
        return status;
    }

    /* Arena mode: replies (and errors) are decoded into the arena and
     * released together by virtwire_arena_reset(). */
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts opts = { .size = sizeof opts, .arena = &arena, .timeout_ms = 5000, .error = &err };
    int status = 0;

    if (print_hostname(c, &opts) != 0)
        status = 1;

    remote_domain_lookup_by_name_args look = { .name = (char *)domain };
    remote_domain_lookup_by_name_ret found;
    rc = remote_call_domain_lookup_by_name(c, &look, &found, &opts);
    if (rc == 0) {
        remote_domain_get_info_args ia = { .dom = found.dom };
        remote_domain_get_info_ret info;
        rc = remote_call_domain_get_info(c, &ia, &info, &opts);
        if (rc == 0)
            printf("domain %s: id %d, state %u, %u vcpus, %llu KiB\n", found.dom.name,
                   found.dom.id, (unsigned)info.state, (unsigned)info.nrVirtCpu,
                   (unsigned long long)info.maxMem);
        else
            status = report("info", rc, &err);
    } else {
        status = report("lookup", rc, &err);
    }
    virtwire_arena_reset(&arena); /* everything above is gone */

    /* A remote_error: the daemon's answer for a domain it does not have. */
    look.name = (char *)"no-such-domain";
    rc = remote_call_domain_lookup_by_name(c, &look, &found, &opts);
    report("no-such-domain", rc, &err);
    if (rc != VIRTWIRE_EREMOTE)
        status = 1;
    virtwire_arena_reset(&arena);

    /* Heap mode (no arena): the reply is the caller's to free. */
    virtwire_call_opts heap = { .size = sizeof heap }; /* the client's timeout */
    remote_connect_list_all_domains_args la = { .need_results = 1, .flags = 0 };
    remote_connect_list_all_domains_ret all;
    rc = remote_call_connect_list_all_domains(c, &la, &all, &heap);
    if (rc == 0) {
        printf("domains: %u\n", all.ret);
        remote_connect_list_all_domains_ret_free(&all);
    } else {
        status = report("list", rc, NULL);
    }

    /* Asynchronous: returns at once; the callback runs on the I/O thread. */
    async_wait w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };
    rc = remote_call_connect_get_lib_version_async(c, NULL, lib_version_done, &w);
    if (rc == 0) {
        pthread_mutex_lock(&w.lock);
        while (!w.done)
            pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        rc = w.rc;
    }
    if (rc == 0)
        printf("library version: %llu\n", (unsigned long long)w.lib_ver);
    else
        status = report("lib version", rc, NULL);

    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
    return status;
}
