/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The generated one-step event registrations (remote_register_..._event_...,
 * remote_deregister_event) against a private libvirtd 9.0.0 (test driver):
 * domain, network and storage pool lifecycle events triggered by real
 * define / start / destroy calls reach the typed handlers with their own
 * callbackIDs, a registration for one domain sees only that domain, a
 * second registration for the same event the daemon refuses leaves no
 * handler behind, and after deregistration nothing more arrives (while
 * control registrations on a second connection show that the daemon still
 * sends).
 *
 *   test_client_events PRIVATE_LIBVIRTD_SCRIPT
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote_protocol_client.h"
#include "virtwire_client.h"
#include "vt_check.h"
#include "vt_daemon.h"
#include "vt_sys.h"

/* virDomainEventType, virNetworkEventLifecycleType,
 * virStoragePoolEventLifecycleType (libvirt-*.h) */
#define DOMAIN_DEFINED 0
#define DOMAIN_UNDEFINED 1
#define DOMAIN_STARTED 2
#define DOMAIN_STOPPED 5
#define OBJECT_DEFINED 0 /* networks and pools */
#define OBJECT_UNDEFINED 1
#define OBJECT_STARTED 2
#define OBJECT_STOPPED 3

static vt_libvirtd daemon_;

/* What one registration's handler saw. */
typedef struct record {
    pthread_mutex_t m;
    int n;
    int callback_id[32];
    char name[32][24];
    int event[32];
} record;

#define RECORD_INIT { PTHREAD_MUTEX_INITIALIZER, 0, { 0 }, { { 0 } }, { 0 } }

static void record_add(record *r, int callback_id, const char *name, int event)
{
    pthread_mutex_lock(&r->m);
    if (r->n < 32) {
        r->callback_id[r->n] = callback_id;
        snprintf(r->name[r->n], sizeof r->name[0], "%s", name);
        r->event[r->n] = event;
    }
    r->n++;
    pthread_mutex_unlock(&r->m);
}

static int record_count(record *r)
{
    pthread_mutex_lock(&r->m);
    int n = r->n;
    pthread_mutex_unlock(&r->m);
    return n;
}

/* Waits until r holds n events (10 s at most). */
static void wait_for(record *r, int n)
{
    uint64_t end = vt_now_ms() + 10000;
    while (record_count(r) < n && vt_now_ms() < end)
        vt_sleep_ms(5);
}

/* Checks that r holds exactly these events, all with callbackID cb. */
static void expect(record *r, int cb, int n, const char *const *names, const int *events,
                   const char *what)
{
    pthread_mutex_lock(&r->m);
    if (r->n != n) {
        vt_fail(__FILE__, __LINE__, "%s: %d events, want %d", what, r->n, n);
    }
    for (int i = 0; i < n && i < r->n; i++) {
        if (r->callback_id[i] != cb || strcmp(r->name[i], names[i]) != 0 ||
            r->event[i] != events[i]) {
            vt_fail(__FILE__, __LINE__, "%s: event %d is (%d, %s, %d), want (%d, %s, %d)", what,
                    i, r->callback_id[i], r->name[i], r->event[i], cb, names[i], events[i]);
        }
    }
    pthread_mutex_unlock(&r->m);
}

static void on_domain(virtwire_client *c, const remote_domain_event_callback_lifecycle_msg *m,
                      void *opaque)
{
    (void)c;
    record_add(opaque, m->callbackID, m->msg.dom.name, m->msg.event);
}

static void on_network(virtwire_client *c, const remote_network_event_lifecycle_msg *m,
                       void *opaque)
{
    (void)c;
    record_add(opaque, m->callbackID, m->net.name, m->event);
}

static void on_pool(virtwire_client *c, const remote_storage_pool_event_lifecycle_msg *m,
                    void *opaque)
{
    (void)c;
    record_add(opaque, m->callbackID, m->pool.name, m->event);
}

/* ---- the objects --------------------------------------------------------- */

static virtwire_arena arena = VIRTWIRE_ARENA_INIT;
static virNetMessageError err;
static virtwire_call_opts opts = { .size = sizeof opts, .arena = &arena, .timeout_ms = 10000, .error = &err };

static remote_nonnull_domain define_domain(virtwire_client *c, const char *name)
{
    char xml[256];
    snprintf(xml, sizeof xml,
             "<domain type='test'><name>%s</name><memory>1024</memory>"
             "<os><type>hvm</type></os></domain>", name);
    remote_domain_define_xml_args a = { xml };
    remote_domain_define_xml_ret r = { { 0 } };
    CHECK_RC(remote_call_domain_define_xml(c, &a, &r, &opts), 0);
    return r.dom;
}

static void start_stop_domain(virtwire_client *c, remote_nonnull_domain dom)
{
    remote_domain_create_args ca = { dom };
    CHECK_RC(remote_call_domain_create(c, &ca, &opts), 0);
    remote_domain_destroy_args da = { dom };
    CHECK_RC(remote_call_domain_destroy(c, &da, &opts), 0);
}

static remote_nonnull_network define_network(virtwire_client *c, const char *name)
{
    char xml[256];
    snprintf(xml, sizeof xml,
             "<network><name>%s</name><bridge name='%sbr'/>"
             "<ip address='192.168.150.1' netmask='255.255.255.0'/></network>", name, name);
    remote_network_define_xml_args a = { xml };
    remote_network_define_xml_ret r = { { 0 } };
    CHECK_RC(remote_call_network_define_xml(c, &a, &r, &opts), 0);
    return r.net;
}

static void start_stop_network(virtwire_client *c, remote_nonnull_network net)
{
    remote_network_create_args ca = { net };
    CHECK_RC(remote_call_network_create(c, &ca, &opts), 0);
    remote_network_destroy_args da = { net };
    CHECK_RC(remote_call_network_destroy(c, &da, &opts), 0);
}

static remote_nonnull_storage_pool define_pool(virtwire_client *c, const char *name)
{
    char xml[256];
    snprintf(xml, sizeof xml,
             "<pool type='dir'><name>%s</name><target><path>/%s</path></target></pool>", name,
             name);
    remote_storage_pool_define_xml_args a = { xml, 0 };
    remote_storage_pool_define_xml_ret r = { { 0 } };
    CHECK_RC(remote_call_storage_pool_define_xml(c, &a, &r, &opts), 0);
    return r.pool;
}

static void start_stop_pool(virtwire_client *c, remote_nonnull_storage_pool pool)
{
    remote_storage_pool_create_args ca = { pool, 0 };
    CHECK_RC(remote_call_storage_pool_create(c, &ca, &opts), 0);
    remote_storage_pool_destroy_args da = { pool };
    CHECK_RC(remote_call_storage_pool_destroy(c, &da, &opts), 0);
}

/* ---- the test ------------------------------------------------------------ */

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PRIVATE_LIBVIRTD_SCRIPT\n", argv[0]);
        return 2;
    }
    vt_libvirtd_start(&daemon_, argv[1], 0);
    virtwire_client *c = NULL, *ctl = NULL;
    virtwire_client_options o = { .size = sizeof o, .call_timeout_ms = 10000 };
    CHECK_RC(virtwire_client_connect(daemon_.uri, &o, &c), 0);
    CHECK_RC(virtwire_client_connect(daemon_.uri, &o, &ctl), 0);
    if (!c || !ctl)
        return vt_finish("client.events");

    static record doms = RECORD_INIT, dom_b = RECORD_INIT, nets = RECORD_INIT,
                  pools = RECORD_INIT, ctl_doms = RECORD_INIT, ctl_nets = RECORD_INIT,
                  ctl_pools = RECORD_INIT, unknown = RECORD_INIT, twice = RECORD_INIT;
    remote_event_registration r_doms, r_dom_b, r_nets, r_pools, r_ctl_doms, r_ctl_nets,
        r_ctl_pools, r_unknown, r_twice;

    /* Every domain's, network's and pool's events, then the objects. */
    CHECK_RC(remote_register_domain_event_lifecycle(c, &r_doms, NULL, on_domain, &doms, &opts), 0);
    CHECK_RC(remote_register_network_event_lifecycle(c, &r_nets, NULL, on_network, &nets, &opts),
             0);
    CHECK_RC(remote_register_storage_pool_event_lifecycle(c, &r_pools, NULL, on_pool, &pools,
                                                          &opts), 0);
    remote_nonnull_domain a = define_domain(c, "vwev-a");
    remote_nonnull_domain b = define_domain(c, "vwev-b");
    remote_nonnull_network net = define_network(c, "vwevnet");
    remote_nonnull_storage_pool pool = define_pool(c, "vwevpool");

    /* One domain's only (the daemon filters by UUID: one it does not know
     * is accepted, and matches nothing). */
    CHECK_RC(remote_register_domain_event_lifecycle(c, &r_dom_b, &b, on_domain, &dom_b, &opts), 0);
    remote_nonnull_domain nosuch = { "vwev-nosuch", { 1 }, -1 };
    CHECK_RC(remote_register_domain_event_lifecycle(c, &r_unknown, &nosuch, on_domain, &unknown,
                                                    &opts), 0);

    /* The daemon takes one registration per event and object on a
     * connection (libvirt's own client shares it among its callbacks): a
     * second is refused and leaves no handler. */
    CHECK_RC(remote_register_domain_event_lifecycle(c, &r_twice, NULL, on_domain, &twice, &opts),
             VIRTWIRE_EREMOTE);
    CHECK(err.code == 8); /* VIR_ERR_INVALID_ARG: "event callback already tracked" */
    CHECK(r_twice.handler_id == 0);
    CHECK_RC(remote_deregister_event(c, &r_twice, &opts), VIRTWIRE_EINVAL);

    /* Controls, on another connection, that stay registered while the
     * others are deregistered. */
    CHECK_RC(remote_register_domain_event_lifecycle(ctl, &r_ctl_doms, NULL, on_domain, &ctl_doms,
                                                    &opts), 0);
    CHECK_RC(remote_register_network_event_lifecycle(ctl, &r_ctl_nets, NULL, on_network,
                                                     &ctl_nets, &opts), 0);
    CHECK_RC(remote_register_storage_pool_event_lifecycle(ctl, &r_ctl_pools, NULL, on_pool,
                                                          &ctl_pools, &opts), 0);

    /* Each registration has a callbackID of its own. */
    int ids[] = { r_doms.callback_id, r_dom_b.callback_id, r_nets.callback_id,
                  r_pools.callback_id, r_unknown.callback_id, r_ctl_doms.callback_id,
                  r_ctl_nets.callback_id, r_ctl_pools.callback_id };
    for (int i = 0; i < 8; i++) {
        CHECK(ids[i] >= 0);
        for (int k = 0; k < i; k++)
            CHECK(ids[i] != ids[k]);
    }

    start_stop_domain(c, a);
    start_stop_domain(c, b);
    start_stop_network(c, net);
    start_stop_pool(c, pool);

    wait_for(&doms, 6);
    wait_for(&dom_b, 2);
    wait_for(&nets, 3);
    wait_for(&pools, 3);
    wait_for(&ctl_doms, 4);
    wait_for(&ctl_nets, 2);
    wait_for(&ctl_pools, 2);
    vt_sleep_ms(200); /* anything extra would arrive meanwhile */
    {
        static const char *const n[] = { "vwev-a", "vwev-b", "vwev-a", "vwev-a", "vwev-b",
                                         "vwev-b" };
        static const int e[] = { DOMAIN_DEFINED, DOMAIN_DEFINED, DOMAIN_STARTED, DOMAIN_STOPPED,
                                 DOMAIN_STARTED, DOMAIN_STOPPED };
        expect(&doms, r_doms.callback_id, 6, n, e, "domains");
        expect(&dom_b, r_dom_b.callback_id, 2, n + 4, e + 4, "domain b");
        expect(&ctl_doms, r_ctl_doms.callback_id, 4, n + 2, e + 2, "domain control");
    }
    {
        static const char *const n[] = { "vwevnet", "vwevnet", "vwevnet" };
        static const int e[] = { OBJECT_DEFINED, OBJECT_STARTED, OBJECT_STOPPED };
        expect(&nets, r_nets.callback_id, 3, n, e, "networks");
        expect(&ctl_nets, r_ctl_nets.callback_id, 2, n + 1, e + 1, "network control");
    }
    {
        static const char *const n[] = { "vwevpool", "vwevpool", "vwevpool" };
        static const int e[] = { OBJECT_DEFINED, OBJECT_STARTED, OBJECT_STOPPED };
        expect(&pools, r_pools.callback_id, 3, n, e, "pools");
        expect(&ctl_pools, r_ctl_pools.callback_id, 2, n + 1, e + 1, "pool control");
    }
    CHECK(record_count(&unknown) == 0 && record_count(&twice) == 0);

    /* Deregistered: nothing more arrives, while the controls see the daemon
     * go on sending. */
    CHECK_RC(remote_deregister_event(c, &r_doms, &opts), 0);
    CHECK_RC(remote_deregister_event(c, &r_dom_b, &opts), 0);
    CHECK_RC(remote_deregister_event(c, &r_nets, &opts), 0);
    CHECK_RC(remote_deregister_event(c, &r_pools, &opts), 0);
    CHECK_RC(remote_deregister_event(c, &r_pools, &opts), VIRTWIRE_EINVAL);
    CHECK_RC(remote_deregister_event(c, &r_unknown, &opts), 0);
    start_stop_domain(c, a);
    start_stop_domain(c, b);
    start_stop_network(c, net);
    start_stop_pool(c, pool);
    remote_domain_undefine_args ua = { b };
    CHECK_RC(remote_call_domain_undefine(c, &ua, &opts), 0);
    remote_network_undefine_args nua = { net };
    CHECK_RC(remote_call_network_undefine(c, &nua, &opts), 0);
    remote_storage_pool_undefine_args pua = { pool };
    CHECK_RC(remote_call_storage_pool_undefine(c, &pua, &opts), 0);
    wait_for(&ctl_doms, 9);
    wait_for(&ctl_nets, 5);
    wait_for(&ctl_pools, 5);
    vt_sleep_ms(200);
    CHECK(record_count(&ctl_doms) == 9 && record_count(&ctl_nets) == 5 &&
          record_count(&ctl_pools) == 5);
    pthread_mutex_lock(&ctl_doms.m);
    CHECK(ctl_doms.n == 9 && strcmp(ctl_doms.name[8], "vwev-b") == 0 &&
          ctl_doms.event[8] == DOMAIN_UNDEFINED);
    pthread_mutex_unlock(&ctl_doms.m);
    pthread_mutex_lock(&ctl_nets.m);
    CHECK(ctl_nets.n == 5 && ctl_nets.event[4] == OBJECT_UNDEFINED);
    pthread_mutex_unlock(&ctl_nets.m);
    pthread_mutex_lock(&ctl_pools.m);
    CHECK(ctl_pools.n == 5 && ctl_pools.event[4] == OBJECT_UNDEFINED);
    pthread_mutex_unlock(&ctl_pools.m);
    CHECK(record_count(&doms) == 6 && record_count(&dom_b) == 2 && record_count(&nets) == 3 &&
          record_count(&pools) == 3);

    CHECK(record_count(&unknown) == 0 && record_count(&twice) == 0);

    /* The daemon dropped the registration: a new one is accepted again. */
    CHECK_RC(remote_register_domain_event_lifecycle(c, &r_twice, NULL, on_domain, &twice, &opts),
             0);
    CHECK(r_twice.callback_id >= 0 && r_twice.callback_id != r_doms.callback_id);
    CHECK_RC(remote_deregister_event(c, &r_twice, &opts), 0);

    CHECK_RC(remote_deregister_event(ctl, &r_ctl_doms, &opts), 0);
    CHECK_RC(remote_deregister_event(ctl, &r_ctl_nets, &opts), 0);
    CHECK_RC(remote_deregister_event(ctl, &r_ctl_pools, &opts), 0);
    CHECK(virtwire_client_error(c) == 0 && virtwire_client_error(ctl) == 0);
    virtwire_client_close(ctl);
    virtwire_client_close(c);
    virtwire_arena_fini(&arena);
    vt_libvirtd_stop(&daemon_);
    return vt_finish("client.events");
}
