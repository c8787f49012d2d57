/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client against a real libvirtd with the test driver (the system's
 * 9.0.0, or 11.3.0 with VIRTWIRE_LIBVIRT_SUITE=bookworm-backports):
 * handshake, simple calls checked against the system (hostname, the
 * daemon's --version), a remote_error, 100 defined domains listed and
 * looked up from 8 threads (10,000 calls on one connection, every reply
 * checked against its call), pipelined asynchronous calls, a procedure
 * newer than the daemon, lifecycle events, the screenshot stream (checked
 * against the PNG file the test driver sends), a read-only connection, the
 * admin program, and connections that fail: the daemon's error from the
 * handshake (a driver it lacks: virsh's "no connection driver available
 * for qemu:///system", VIR_ERR_NO_CONNECT) in errbuf and in the options'
 * error, and a socket that is not there, named with its errno; error
 * functions (the client's, a call's own) and replies as values.
 *
 *   test_client_libvirtd PRIVATE_LIBVIRTD_SCRIPT
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin_protocol.h"
#include "client_tlib.h"
#include "remote_protocol.h"
#include "remote_protocol_client.h"
#include "virtwire_client.h"
#include "vt_check.h"
#include "vt_daemon.h"
#include "vt_sys.h"

#define NDOMAINS 100
#define NTHREADS 8
#define NCALLS 10000

static vt_libvirtd daemon_;
static char dom_uuid[NDOMAINS][16];

static void dom_name(char *buf, size_t len, int i)
{
    snprintf(buf, len, "vw%03d", i);
}

/* The version libvirtd itself prints: "... (libvirt) 9.0.0". */
static uint64_t daemon_version(void)
{
    return vt_libvirtd_version(&daemon_);
}

static void test_simple_calls(virtwire_client *c)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = 5000 };

    clt_check_hostname(c, &o);

    remote_connect_get_version_ret v;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_VERSION, NULL, &v,
                                  &o), 0);
    CHECK(v.hv_ver == 2); /* the test driver's hypervisor version */

    remote_connect_get_lib_version_ret lv;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                  &lv, &o), 0);
    CHECK(lv.lib_ver == daemon_version() && lv.lib_ver != 0);

    /* The test driver's one built-in domain, "test", running as id 1. */
    remote_connect_list_all_domains_args la = { 1, 0 };
    remote_connect_list_all_domains_ret lr;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS, &la,
                                  &lr, &o), 0);
    CHECK(lr.ret == 1 && lr.domains.domains_len == 1);
    CHECK(lr.domains.domains_len == 1 && strcmp(lr.domains.domains_val[0].name, "test") == 0 &&
          lr.domains.domains_val[0].id == 1);

    /* A remote_error, decoded into the arena. */
    virNetMessageError err;
    o.error = &err;
    remote_domain_lookup_by_name_args na = { "no-such-domain" };
    remote_domain_lookup_by_name_ret nr;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, &na, &nr,
                                  &o), VIRTWIRE_EREMOTE);
    CHECK(err.code == 42 && err.domain == 12); /* VIR_ERR_NO_DOMAIN, VIR_FROM_TEST */
    /* virerror.c's text for VIR_ERR_NO_DOMAIN */
    CHECK(err.message && strncmp(*err.message, "Domain not found", 16) == 0);

    /* The same in heap mode: the caller frees. */
    virtwire_call_opts ho = { .size = sizeof ho, .timeout_ms = 5000, .error = &err };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, &na, &nr,
                                  &ho), VIRTWIRE_EREMOTE);
    CHECK(err.code == 42);
    virNetMessageError_free(&err);

    /* A procedure added after 9.0.0 (GET_AUTOSTART_ONCE, 449, 11.2.0):
     * unknown to 9.0.0; known to 11.3.0, whose test driver lacks it. */
    remote_domain_get_autostart_once_args aa = { lr.domains.domains_val[0] };
    remote_domain_get_autostart_once_ret ar;
    if (daemon_version() < virtwire_program_since(&remote_program,
                                                  REMOTE_PROC_DOMAIN_GET_AUTOSTART_ONCE)) {
        CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_GET_AUTOSTART_ONCE,
                                      &aa, &ar, &o), VIRTWIRE_EUNSUPPORTED);
        CHECK(err.code == 39 && err.message && strstr(*err.message, "449"));
    } else {
        CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_GET_AUTOSTART_ONCE,
                                      &aa, &ar, &o), VIRTWIRE_EREMOTE);
        CHECK(err.code == 3); /* VIR_ERR_NO_SUPPORT: the test driver's */
    }
    CHECK(virtwire_client_error(c) == 0); /* the connection lives on */

    /* Not a procedure of the table, and an event procedure. */
    CHECK_RC(virtwire_client_call(c, &remote_program, 100000, NULL, NULL, &o), VIRTWIRE_EINVAL);
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                                  NULL, NULL, &o), VIRTWIRE_EINVAL);
    virtwire_arena_fini(&arena);
}

static void test_define_and_list(virtwire_client *c)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = 5000 };
    for (int i = 0; i < NDOMAINS; i++) {
        char name[16], xml[256];
        dom_name(name, sizeof name, i);
        snprintf(xml, sizeof xml,
                 "<domain type='test'><name>%s</name><memory>1024</memory>"
                 "<os><type>hvm</type></os></domain>", name);
        remote_domain_define_xml_args a = { xml };
        remote_domain_define_xml_ret r;
        CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_DEFINE_XML, &a, &r,
                                      &o), 0);
        CHECK(strcmp(r.dom.name, name) == 0);
        memcpy(dom_uuid[i], r.dom.uuid, 16);
        virtwire_arena_reset(&arena);
    }
    remote_connect_list_all_domains_args la = { 1, 0 };
    remote_connect_list_all_domains_ret lr;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS, &la,
                                  &lr, &o), 0);
    CHECK(lr.ret == NDOMAINS + 1 && lr.domains.domains_len == NDOMAINS + 1);
    int seen[NDOMAINS] = { 0 };
    for (unsigned i = 0; i < lr.domains.domains_len; i++) {
        int k;
        if (sscanf(lr.domains.domains_val[i].name, "vw%d", &k) == 1 && k >= 0 && k < NDOMAINS &&
            memcmp(lr.domains.domains_val[i].uuid, dom_uuid[k], 16) == 0)
            seen[k]++;
    }
    for (int i = 0; i < NDOMAINS; i++)
        CHECK(seen[i] == 1);
    virtwire_arena_fini(&arena);
}

/* ---- 8 threads, 10,000 calls -------------------------------------------- */

typedef struct worker {
    virtwire_client *c;
    int index;
    int calls, ok, wrong;
} worker;

static void *lookup_worker(void *arg)
{
    worker *w = arg;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    unsigned seed = (unsigned)w->index * 7919u + 1u;
    for (int n = 0; n < w->calls; n++) {
        virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = 10000 };
        seed = seed * 1103515245u + 12345u;
        int i = (int)((seed >> 16) % NDOMAINS);
        char name[16];
        dom_name(name, sizeof name, i);
        remote_domain_lookup_by_name_args a = { name };
        remote_domain_lookup_by_name_ret r;
        int rc = virtwire_client_call(w->c, &remote_program, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME,
                                      &a, &r, &o);
        if (rc == 0 && strcmp(r.dom.name, name) == 0 && memcmp(r.dom.uuid, dom_uuid[i], 16) == 0)
            w->ok++;
        else
            w->wrong++;
        virtwire_arena_reset(&arena);
    }
    virtwire_arena_fini(&arena);
    return NULL;
}

static void test_threads(virtwire_client *c)
{
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    uint64_t t0 = vt_now_ms();
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker){ c, i, NCALLS / NTHREADS, 0, 0 };
        CHECK(pthread_create(&th[i], NULL, lookup_worker, &w[i]) == 0);
    }
    int ok = 0, wrong = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
        wrong += w[i].wrong;
    }
    printf("threads: %d calls in %llu ms, %d wrong\n", ok + wrong,
           (unsigned long long)(vt_now_ms() - t0), wrong);
    CHECK(ok == NCALLS && wrong == 0);
}

/* ---- asynchronous calls -------------------------------------------------- */

typedef struct async_state {
    pthread_mutex_t m;
    pthread_cond_t cv;
    int done, ok, wrong;
    uint64_t want_ver;
} async_state;

/* One more call done, right (ok) or wrong. */
static void count_done(async_state *s, int ok)
{
    pthread_mutex_lock(&s->m);
    if (ok)
        s->ok++;
    else
        s->wrong++;
    s->done++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->m);
}

static void async_done(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    async_state *s = opaque;
    (void)c;
    const remote_connect_get_lib_version_ret *v = r->ret;
    count_done(s, r->rc == 0 && v && v->lib_ver == s->want_ver);
}

typedef struct async_lookup {
    async_state *s;
    int index;
} async_lookup;

static void async_lookup_done(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    async_lookup *l = opaque;
    (void)c;
    const remote_domain_lookup_by_name_ret *ret = r->ret;
    char name[16];
    dom_name(name, sizeof name, l->index);
    count_done(l->s, r->rc == 0 && ret && strcmp(ret->dom.name, name) == 0 &&
                         memcmp(ret->dom.uuid, dom_uuid[l->index], 16) == 0);
}

static void wait_done(async_state *s, int n)
{
    uint64_t end = vt_now_ms() + 20000;
    pthread_mutex_lock(&s->m);
    while (s->done < n && vt_now_ms() < end) {
        pthread_mutex_unlock(&s->m);
        vt_sleep_ms(1);
        pthread_mutex_lock(&s->m);
    }
    pthread_mutex_unlock(&s->m);
}

static void test_async(virtwire_client *c)
{
    async_state s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0,
                      daemon_version() };
    enum { N = 1000 };
    int sent = 0;
    for (int i = 0; i < N; i++)
        sent += virtwire_client_call_async(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION,
                                           NULL, NULL, async_done, &s) == 0;
    CHECK(sent == N);
    wait_done(&s, N);
    CHECK(s.done == N && s.ok == N && s.wrong == 0);

    /* Lookups in heap mode: each callback checks its own domain. */
    async_state s2 = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0 };
    static async_lookup l[NDOMAINS];
    static char names[NDOMAINS][16];
    for (int i = 0; i < NDOMAINS; i++) {
        l[i] = (async_lookup){ &s2, i };
        dom_name(names[i], sizeof names[i], i);
        remote_domain_lookup_by_name_args a = { names[i] };
        CHECK_RC(virtwire_client_call_async(c, &remote_program, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME,
                                            &a, NULL, async_lookup_done, &l[i]), 0);
    }
    wait_done(&s2, NDOMAINS);
    CHECK(s2.done == NDOMAINS && s2.ok == NDOMAINS);
}

/* ---- calls larger than the first encode buffer --------------------------- */

typedef struct async_define {
    async_state *s;
    char name[16];
} async_define;

static void async_define_done(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    async_define *d = opaque;
    (void)c;
    const remote_domain_define_xml_ret *ret = r->ret;
    pthread_mutex_lock(&d->s->m);
    if (r->rc == 0 && ret && strcmp(ret->dom.name, d->name) == 0)
        d->s->ok++;
    else
        d->s->wrong++;
    d->s->done++;
    pthread_mutex_unlock(&d->s->m);
}

/* Defines (synchronously or not) a domain whose description is desc, reads
 * its XML back from libvirtd and undefines it. */
static void define_large(virtwire_client *c, const char *name, const char *desc, int async)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = 10000 };
    size_t dlen = strlen(desc);
    char *xml = malloc(dlen + 256);
    CHECK(xml != NULL);
    snprintf(xml, dlen + 256,
             "<domain type='test'><name>%s</name><description>%s</description>"
             "<memory>1024</memory><os><type>hvm</type></os></domain>", name, desc);
    remote_domain_define_xml_args a = { xml };
    if (async) {
        async_state s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0 };
        async_define d = { &s, "" };
        snprintf(d.name, sizeof d.name, "%s", name);
        CHECK_RC(virtwire_client_call_async(c, &remote_program, REMOTE_PROC_DOMAIN_DEFINE_XML,
                                            &a, NULL, async_define_done, &d), 0);
        wait_done(&s, 1);
        CHECK(s.done == 1 && s.ok == 1);
    } else {
        remote_domain_define_xml_ret r;
        CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_DEFINE_XML, &a, &r,
                                      &o), 0);
    }
    free(xml);
    remote_domain_lookup_by_name_args la = { (char *)name };
    remote_domain_lookup_by_name_ret lr;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, &la, &lr,
                                  &o), 0);
    remote_domain_get_xml_desc_args xa = { lr.dom, 0 };
    remote_domain_get_xml_desc_ret xr;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_GET_XML_DESC, &xa, &xr,
                                  &o), 0);
    const char *start = strstr(xr.xml, "<description>");
    CHECK(start != NULL);
    if (start) {
        start += strlen("<description>");
        CHECK(strncmp(start, desc, dlen) == 0 && strncmp(start + dlen, "</description>", 14) == 0);
    }
    remote_domain_undefine_args ua = { lr.dom };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_UNDEFINE, &ua, NULL, &o),
             0);
    virtwire_arena_fini(&arena);
}

/* Calls of every size around the client's first encode buffer (1024 bytes)
 * and far past it reach libvirtd intact, synchronous and asynchronous, in
 * an order that has each way of the heap encode (the buffer of the last big
 * call's size holds the next call, or does not: 300000 then 70000 fits,
 * then 200000 does not, 1100 does, 400000 does not); a
 * call beyond the largest payload fails with VIRTWIRE_EFRAME_LENGTH, sends
 * nothing and leaves the connection working. */
static void test_large_calls(virtwire_client *c)
{
    const size_t big = REMOTE_STRING_MAX;
    char *desc = malloc(big + 1);
    CHECK(desc != NULL);
    for (size_t i = 0; i < big; i++)
        desc[i] = (char)('a' + i % 26);
    static const size_t sizes[] = { 10, 880, 900, 1200, 300000, 70000, 200000, 1100, 400000 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        char saved = desc[sizes[k]];
        desc[sizes[k]] = '\0';
        define_large(c, "vwlarge", desc, (int)(k % 2));
        define_large(c, "vwlarge", desc, (int)!(k % 2));
        desc[sizes[k]] = saved;
    }
    desc[big] = '\0';

    /* Eight typed parameters of type string (7), each as long as a string
     * may be: beyond the largest payload. */
    remote_typed_param params[8];
    for (int i = 0; i < 8; i++) {
        params[i].field = "f";
        params[i].value.type = 7;
        params[i].value.remote_typed_param_value_u.s = desc;
    }
    remote_domain_migrate_prepare3_params_args a = { { 8, params }, { 0, NULL }, 0 };
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = 10000 };
    remote_domain_migrate_prepare3_params_ret r;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS,
                                  &a, &r, &o), VIRTWIRE_EFRAME_LENGTH);
    async_state s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0 };
    async_define d = { &s, "" };
    CHECK_RC(virtwire_client_call_async(c, &remote_program,
                                        REMOTE_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS, &a, NULL,
                                        async_define_done, &d), VIRTWIRE_EFRAME_LENGTH);
    CHECK(s.done == 0);
    free(desc);
    remote_connect_get_lib_version_ret v;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                  &v, &o), 0);
    CHECK(v.lib_ver == daemon_version());
    CHECK(virtwire_client_error(c) == 0);
}

/* ---- events ------------------------------------------------------------- */

typedef struct events {
    pthread_mutex_t m;
    int callback_id;
    int started, stopped, other;
} events;

static void on_lifecycle(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                         const void *msg, void *opaque)
{
    events *e = opaque;
    const remote_domain_event_callback_lifecycle_msg *m = msg;
    (void)c;
    CHECK(prog == &remote_program && proc == REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE);
    pthread_mutex_lock(&e->m);
    if (m->callbackID == e->callback_id && strcmp(m->msg.dom.name, "vw007") == 0 &&
        memcmp(m->msg.dom.uuid, dom_uuid[7], 16) == 0) {
        if (m->msg.event == 2) /* VIR_DOMAIN_EVENT_STARTED */
            e->started++;
        else if (m->msg.event == 5) /* VIR_DOMAIN_EVENT_STOPPED */
            e->stopped++;
        else
            e->other++;
    } else {
        e->other++;
    }
    pthread_mutex_unlock(&e->m);
}

static void test_events(virtwire_client *c)
{
    static events e = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };
    int id = virtwire_client_on_event(c, &remote_program,
                                      REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, on_lifecycle, &e);
    CHECK(id > 0);
    CHECK_RC(virtwire_client_on_event(c, &remote_program, REMOTE_PROC_CONNECT_OPEN, on_lifecycle,
                                      &e), VIRTWIRE_EINVAL);

    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = 5000 };
    remote_connect_domain_event_callback_register_any_args ra = { 0 /* LIFECYCLE */, NULL };
    remote_connect_domain_event_callback_register_any_ret rr;
    CHECK_RC(virtwire_client_call(c, &remote_program,
                                  REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, &ra, &rr,
                                  &o), 0);
    pthread_mutex_lock(&e.m);
    e.callback_id = rr.callbackID;
    pthread_mutex_unlock(&e.m);

    remote_nonnull_domain dom = { "vw007", { 0 }, -1 };
    memcpy(dom.uuid, dom_uuid[7], 16);
    remote_domain_create_args ca = { dom };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_CREATE, &ca, NULL, &o), 0);
    remote_domain_destroy_args da = { dom };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_DESTROY, &da, NULL, &o),
             0);

    uint64_t end = vt_now_ms() + 5000;
    int started = 0, stopped = 0;
    while (vt_now_ms() < end) {
        pthread_mutex_lock(&e.m);
        started = e.started;
        stopped = e.stopped;
        pthread_mutex_unlock(&e.m);
        if (started && stopped)
            break;
        vt_sleep_ms(5);
    }
    CHECK(started == 1 && stopped == 1 && e.other == 0);

    /* After removal, no more events reach the handler. */
    CHECK_RC(virtwire_client_remove_event(c, id), 0);
    CHECK_RC(virtwire_client_remove_event(c, id), VIRTWIRE_EINVAL);
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_CREATE, &ca, NULL, &o), 0);
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_DESTROY, &da, NULL, &o),
             0);
    vt_sleep_ms(200);
    pthread_mutex_lock(&e.m);
    CHECK(e.started == 1 && e.stopped == 1);
    pthread_mutex_unlock(&e.m);
    virtwire_arena_fini(&arena);
}

/* ---- the screenshot stream ---------------------------------------------- */

static void test_screenshot(virtwire_client *c)
{
    clt_check_screenshot(c, 5000);
    /* The connection is still good. */
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = 5000 };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                  NULL, &o), 0);
}

/* ---- read-only and admin connections ------------------------------------ */

/* A connection to uri with flags (VIRTWIRE_CLIENT_*); NULL (the failure
 * checked) when it fails. */
static virtwire_client *connect_flags(const char *uri, unsigned flags)
{
    virtwire_client_options o = { .size = sizeof o, .flags = flags };
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_connect(uri, &o, &c), 0);
    return c;
}

static void test_readonly(void)
{
    virtwire_client *c = connect_flags(daemon_.uri_ro, VIRTWIRE_CLIENT_READONLY);
    if (!c)
        return;
    virNetMessageError err;
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = 5000, .error = &err };
    remote_domain_define_xml_args a = { "<domain type='test'><name>ro</name></domain>" };
    remote_domain_define_xml_ret r;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_DEFINE_XML, &a, &r, &o),
             VIRTWIRE_EREMOTE);
    CHECK(err.code == 29); /* VIR_ERR_OPERATION_DENIED */
    CHECK(err.message && strstr(*err.message, "read only access"));
    virNetMessageError_free(&err);
    virtwire_client_close(c);
}

static void test_admin(void)
{
    virtwire_client *c = connect_flags(daemon_.admin_uri, VIRTWIRE_CLIENT_ADMIN);
    if (!c)
        return;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = 5000 };
    admin_connect_list_servers_args a = { 1, 0 };
    admin_connect_list_servers_ret r;
    CHECK_RC(virtwire_client_call(c, &admin_program, ADMIN_PROC_CONNECT_LIST_SERVERS, &a, &r, &o),
             0);
    int libvirtd = 0, admin = 0;
    for (unsigned i = 0; i < r.servers.servers_len; i++) {
        libvirtd += strcmp(r.servers.servers_val[i].name, "libvirtd") == 0;
        admin += strcmp(r.servers.servers_val[i].name, "admin") == 0;
    }
    CHECK(r.ret == 2 && r.servers.servers_len == 2 && libvirtd == 1 && admin == 1);
    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
}

/* ---- connections that fail --------------------------------------------- */

static void test_connect_errors(void)
{
    char uri[300], why[256];
    virNetMessageError err;
    memset(&err, 0x55, sizeof err); /* zeroed or filled, never left alone */
    virtwire_client_options o = VIRTWIRE_CLIENT_OPTIONS(.errbuf = why, .errbuf_len = sizeof why,
                                                        .error = &err);
    virtwire_client *c = NULL;
    /* A driver this daemon lacks: its error, as the calls return errors. */
    snprintf(uri, sizeof uri, "qemu+unix:///system?socket=%s", daemon_.sock);
    CHECK_RC(virtwire_client_connect(uri, &o, &c), VIRTWIRE_EREMOTE);
    CHECK(c == NULL);
    CHECK_STR(why, "no connection driver available for qemu:///system");
    CHECK_INT(err.code, 5);   /* VIR_ERR_NO_CONNECT, as python3-libvirt reports it */
    CHECK_INT(err.domain, 0); /* VIR_FROM_NONE */
    CHECK(err.message && strcmp(*err.message, why) == 0);
    CHECK_STR(virtwire_error_message(VIRTWIRE_EREMOTE, &err), why);
    virNetMessageError_free(&err);

    /* No socket there: the path and the errno, as libvirt says it. */
    memset(&err, 0x55, sizeof err);
    snprintf(uri, sizeof uri, "test+unix:///default?socket=%s.nosuch", daemon_.sock);
    int rc = virtwire_client_connect(uri, &o, &c);
    CHECK(rc < 0 && c == NULL);
    char want[300];
    snprintf(want, sizeof want, "Failed to connect socket to '%s.nosuch': No such file or "
             "directory", daemon_.sock);
    CHECK_STR(why, want);
    CHECK(err.code == 0 && err.message == NULL); /* not the daemon's: zeroed */

    /* And a connection that works leaves the error zeroed. */
    memset(&err, 0x55, sizeof err);
    CHECK_RC(virtwire_client_connect(daemon_.uri, &o, &c), 0);
    CHECK(err.code == 0 && err.message == NULL && why[0] == '\0');
    virtwire_client_close(c);
}

/* ---- error functions and replies as values ------------------------------ */

typedef struct told {
    int n, rc;
    char message[256];
} told;

static void tell(int rc, const char *message, void *opaque)
{
    told *t = opaque;
    t->n++;
    t->rc = rc;
    snprintf(t->message, sizeof t->message, "%s", message);
}

static void test_on_error(void)
{
    told client = { 0 }, call = { 0 };
    virtwire_client_options co = VIRTWIRE_CLIENT_OPTIONS(.on_error = tell,
                                                         .on_error_opaque = &client);
    virtwire_client *c = NULL;
    /* The connection's failure, in libvirt's words. */
    char uri[300];
    snprintf(uri, sizeof uri, "qemu+unix:///system?socket=%s", daemon_.sock);
    CHECK_RC(virtwire_client_connect(uri, &co, &c), VIRTWIRE_EREMOTE);
    CHECK(client.n == 1 && client.rc == VIRTWIRE_EREMOTE);
    CHECK_STR(client.message, "no connection driver available for qemu:///system");
    CHECK_RC(virtwire_client_connect(daemon_.uri, &co, &c), 0);
    if (!c)
        return;
    CHECK(client.n == 1);
    /* A call's: the client's function, or the call's own instead. */
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = VIRTWIRE_CALL_OPTS(.arena = &a);
    remote_domain_lookup_by_name_args la = { (char *)"no-such-domain" };
    CHECK(remote_reply_domain_lookup_by_name(c, &la, &o) == NULL);
    CHECK(client.n == 2 && client.rc == VIRTWIRE_EREMOTE);
    CHECK(strncmp(client.message, "Domain not found", 16) == 0);
    virtwire_call_opts mine = VIRTWIRE_CALL_OPTS(.on_error = tell, .on_error_opaque = &call);
    CHECK(remote_reply_domain_lookup_by_name(c, &la, &mine) == NULL); /* heap mode */
    CHECK(client.n == 2 && call.n == 1 && strcmp(call.message, client.message) == 0);
    virtwire_call_opts quiet = VIRTWIRE_CALL_OPTS(.on_error = virtwire_error_ignore);
    CHECK_RC(remote_call_domain_lookup_by_name(c, &la, &(remote_domain_lookup_by_name_ret){ 0 },
                                               &quiet),
             VIRTWIRE_EREMOTE);
    CHECK(client.n == 2 && call.n == 1);
    /* A reply as the call's value: in the arena, or on the heap. */
    la.name = (char *)"test";
    remote_domain_lookup_by_name_ret *r = remote_reply_domain_lookup_by_name(c, &la, &o);
    CHECK(r && strcmp(r->dom.name, "test") == 0);
    remote_connect_get_hostname_ret *h = remote_reply_connect_get_hostname(c, NULL);
    CHECK(h && h->hostname && h->hostname[0]);
    if (h) {
        remote_connect_get_hostname_ret_free(h);
        free(h);
    }
    CHECK(client.n == 2);
    virtwire_arena_fini(&a);
    virtwire_client_close(c);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PRIVATE_LIBVIRTD_SCRIPT\n", argv[0]);
        return 2;
    }
    vt_libvirtd_start(&daemon_, argv[1], 0);

    virtwire_client *c = NULL;
    virtwire_client_options opts = { .size = sizeof opts, .call_timeout_ms = 10000 };
    CHECK_RC(virtwire_client_connect(daemon_.uri, &opts, &c), 0);
    if (!c)
        return vt_finish("client.libvirtd");
    uint64_t t;
#define STEP(call)                                                                       \
    t = vt_now_ms();                                                                     \
    call;                                                                                \
    printf("%-28s %5llu ms\n", #call, (unsigned long long)(vt_now_ms() - t))
    STEP(test_simple_calls(c));
    /* c stays open: the test driver's state lives while a connection does. */
    STEP(test_define_and_list(c));
    STEP(test_threads(c));
    STEP(test_async(c));
    STEP(test_events(c));
    STEP(test_screenshot(c));
    STEP(test_readonly());
    STEP(test_admin());
    STEP(test_large_calls(c));
    STEP(test_connect_errors());
    STEP(test_on_error());
    CHECK(virtwire_client_error(c) == 0);
    virtwire_client_close(c);
    vt_libvirtd_stop(&daemon_);
    return vt_finish("client.libvirtd");
}
