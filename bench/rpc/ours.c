/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The benchmark's virtwire backend: the generated typed calls. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "remote_protocol_client.h"
#ifdef BENCH_SASL
#include "virtwire_sasl.h"
#endif
#ifdef VIRTWIRE_HAVE_TLS
#include "virtwire_tls.h"
#endif

const char bench_backend[] = "ours";

struct bench_conn {
    virtwire_client *c;
    virtwire_arena arena; /* holds dom */
    remote_nonnull_domain dom;
};

struct bench_thread {
    virtwire_arena arena;
};

/* Connects as every program of ours does: +tls URIs through
 * libvirtwire_tls's opener; with BENCH_SASL, SASL with the credentials of
 * auth.conf (LIBVIRT_AUTH_FILE). */
static int connect_uri(const char *uri, virtwire_client **out)
{
    char why[1024] = "";
    virtwire_client_options o = { .size = sizeof o, .errbuf = why, .errbuf_len = sizeof why };
#ifdef BENCH_SASL
    static const virtwire_auth_method *const methods[] = { &virtwire_auth_sasl, NULL };
    o.auth_methods = methods;
#endif
#ifdef VIRTWIRE_HAVE_TLS
    o.tls = &virtwire_tls_opener;
#endif
    int rc = virtwire_client_connect(uri, &o, out);
    if (rc < 0 && why[0])
        fprintf(stderr, "ours: %s: %s\n", uri, why);
    return rc;
}

static int failed(const char *what, int rc, const virNetMessageError *err)
{
    if (rc == VIRTWIRE_EREMOTE && err && err->message)
        fprintf(stderr, "ours: %s: %s\n", what, *err->message);
    else
        fprintf(stderr, "ours: %s: %s\n", what, virtwire_strerror(rc));
    return -1;
}

bench_conn *bench_open(const char *uri)
{
    bench_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    int rc = connect_uri(uri, &c->c);
    if (rc < 0) {
        failed(uri, rc, NULL);
        free(c);
        return NULL;
    }
    virtwire_arena_init(&c->arena);
    return c;
}

void bench_close(bench_conn *c)
{
    virtwire_client_close(c->c);
    virtwire_arena_fini(&c->arena);
    free(c);
}

int bench_prepare(bench_conn *c, enum bench_workload w)
{
    virNetMessageError err;
    virtwire_call_opts o = { .size = sizeof o, .arena = &c->arena, .error = &err };
    if (w == W_GET_INFO) {
        remote_domain_lookup_by_name_args a = { .name = "test" };
        remote_domain_lookup_by_name_ret r;
        int rc = remote_call_domain_lookup_by_name(c->c, &a, &r, &o);
        if (rc < 0)
            return failed("lookup test", rc, &err);
        c->dom = r.dom; /* lives in c->arena */
    }
    if (w == W_LIST_ALL) {
        remote_connect_list_all_domains_args a = { .need_results = 1, .flags = 0 };
        remote_connect_list_all_domains_ret r;
        int rc = remote_call_connect_list_all_domains(c->c, &a, &r, &o);
        if (rc < 0)
            return failed("list", rc, &err);
        return (int)r.domains.domains_len;
    }
    return 0;
}

bench_thread *bench_thread_new(void)
{
    bench_thread *t = calloc(1, sizeof *t);
    if (t)
        virtwire_arena_init(&t->arena);
    return t;
}

void bench_thread_free(bench_thread *t)
{
    virtwire_arena_fini(&t->arena);
    free(t);
}

static int setup(const char *uri)
{
    virtwire_client *c;
    int rc = connect_uri(uri, &c);
    if (rc < 0)
        return failed(uri, rc, NULL);
    virtwire_client_close(c);
    return 0;
}

int bench_call(bench_conn *c, bench_thread *t, enum bench_workload w, const char *uri)
{
    virNetMessageError err;
    virtwire_call_opts o = { .size = sizeof o, .arena = &t->arena, .error = &err };
    int rc = 0;
    switch (w) {
    case W_LIB_VERSION: {
        remote_connect_get_lib_version_ret r;
        rc = remote_call_connect_get_lib_version(c->c, &r, &o);
        break;
    }
    case W_GET_INFO: {
        remote_domain_get_info_args a = { .dom = c->dom };
        remote_domain_get_info_ret r;
        rc = remote_call_domain_get_info(c->c, &a, &r, &o);
        break;
    }
    case W_LIST_ALL: {
        remote_connect_list_all_domains_args a = { .need_results = 1, .flags = 0 };
        remote_connect_list_all_domains_ret r;
        rc = remote_call_connect_list_all_domains(c->c, &a, &r, &o);
        break;
    }
    case W_SETUP:
        return setup(uri);
    }
    /* The reply is dropped, as libvirt.so's caller would free it. */
    virtwire_arena_reset(&t->arena);
    return rc < 0 ? failed("call", rc, &err) : 0;
}

/* ------------------------------------------------------------------------ */
/* Pipelined asynchronous calls                                             */
/* ------------------------------------------------------------------------ */

struct pipeline;

/* One of the window's calls in flight, resent from its own completion. */
struct slot {
    struct pipeline *p;
    virtwire_arena arena;
    struct timespec sent;
};

struct pipeline {
    bench_conn *c;
    enum bench_workload w;
    const struct timespec *deadline;
    bench_samples *samples; /* touched by the I/O thread only */
    long done;
    int failed;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    int inflight;
};

static void completed(virtwire_client *c, const virtwire_call_result *r, void *opaque);

static int send_slot(struct slot *s)
{
    virtwire_call_opts o = { .size = sizeof o, .arena = &s->arena };
    virtwire_client *c = s->p->c->c;
    clock_gettime(CLOCK_MONOTONIC, &s->sent);
    switch (s->p->w) {
    case W_LIB_VERSION:
        return remote_call_connect_get_lib_version_async(c, &o, completed, s);
    case W_GET_INFO: {
        remote_domain_get_info_args a = { .dom = s->p->c->dom };
        return remote_call_domain_get_info_async(c, &a, &o, completed, s);
    }
    case W_LIST_ALL: {
        remote_connect_list_all_domains_args a = { .need_results = 1, .flags = 0 };
        return remote_call_connect_list_all_domains_async(c, &a, &o, completed, s);
    }
    case W_SETUP:
        break;
    }
    return VIRTWIRE_EINVAL;
}

static void slot_idle(struct pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    if (--p->inflight == 0)
        pthread_cond_signal(&p->idle);
    pthread_mutex_unlock(&p->lock);
}

/* Runs on the I/O thread, one completion at a time: records the latency
 * and sends the slot's next call until the deadline. */
static void completed(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    struct slot *s = opaque;
    struct pipeline *p = s->p;
    struct timespec now;
    (void)c;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (r->rc < 0) {
        fprintf(stderr, "ours: async call: %s\n", virtwire_strerror(r->rc));
        p->failed = 1;
    } else {
        bench_samples_add(p->samples, bench_us_between(&s->sent, &now));
        p->done++;
    }
    virtwire_arena_reset(&s->arena);
    if (!p->failed && bench_before(p->deadline)) {
        int rc = send_slot(s);
        if (rc == 0)
            return;
        fprintf(stderr, "ours: async send: %s\n", virtwire_strerror(rc));
        p->failed = 1;
    }
    slot_idle(p);
}

long bench_pipeline(bench_conn *c, enum bench_workload w, int window,
                    const struct timespec *deadline, bench_samples *samples)
{
    struct pipeline p = { .c = c, .w = w, .deadline = deadline, .samples = samples };
    struct slot *slots = calloc((size_t)window, sizeof *slots);
    if (!slots)
        return -1;
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.idle, NULL);
    /* Counted in flight before sending: a completion may come first. */
    p.inflight = window;
    for (int i = 0; i < window; i++) {
        slots[i].p = &p;
        virtwire_arena_init(&slots[i].arena);
        int rc = send_slot(&slots[i]);
        if (rc < 0) {
            fprintf(stderr, "ours: async send: %s\n", virtwire_strerror(rc));
            p.failed = 1;
            slot_idle(&p);
        }
    }
    pthread_mutex_lock(&p.lock);
    while (p.inflight > 0)
        pthread_cond_wait(&p.idle, &p.lock);
    pthread_mutex_unlock(&p.lock);
    for (int i = 0; i < window; i++)
        virtwire_arena_fini(&slots[i].arena);
    free(slots);
    pthread_cond_destroy(&p.idle);
    pthread_mutex_destroy(&p.lock);
    return p.failed ? -1 : p.done;
}

/* ------------------------------------------------------------------------ */
/* The holder                                                               */
/* ------------------------------------------------------------------------ */

int bench_hold(const char *uri, int n)
{
    bench_conn *c = bench_open(uri);
    if (!c)
        return 1;
    for (int i = 0; i < n; i++) {
        char xml[256];
        snprintf(xml, sizeof xml,
                 "<domain type='test'><name>bench-%03d</name><memory>1024</memory>"
                 "<os><type>hvm</type></os></domain>",
                 i);
        virNetMessageError err;
        virtwire_call_opts o = { .size = sizeof o, .arena = &c->arena, .error = &err };
        remote_domain_define_xml_args a = { .xml = xml };
        remote_domain_define_xml_ret r;
        int rc = remote_call_domain_define_xml(c->c, &a, &r, &o);
        if (rc < 0) {
            failed("define", rc, &err);
            bench_close(c);
            return 1;
        }
        virtwire_arena_reset(&c->arena);
    }
    printf("ready\n");
    fflush(stdout);
    while (getchar() != EOF)
        ;
    bench_close(c);
    return 0;
}
