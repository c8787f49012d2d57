/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation failures in the client (runtime/client, its
 * connection and transport) against a real private libvirtd (test driver,
 * with a node file of one running domain "test", which gives each
 * connection state of its own): connect (the handshake, own keepalive on), synchronous calls in
 * heap and arena mode, an error reply with its details, asynchronous calls
 * (one started from another's callback, so that it waits in the output
 * queue), lifecycle events (register, suspend, resume), the
 * DOMAIN_SCREENSHOT stream, then close.
 *
 * When an allocation fails, every function must return what it returns
 * without failures, or VIRTWIRE_ENOMEM, or VIRTWIRE_ECLOSED with
 * virtwire_client_error() saying VIRTWIRE_ENOMEM (then on_close must have
 * said so too); nothing may hang (every wait is bounded) and nothing may
 * be lost silently: a missing event means the connection died of it.
 *
 *   test_alloc_client session PRIVATE_LIBVIRTD_SCRIPT
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "failalloc.h"
#include "remote_protocol.h"
#include "remote_protocol_client.h"
#include "virtwire_client.h"
#include "vt_daemon.h"
#include "vt_sys.h"

#define TIMEOUT_MS 5000

static char uri[512];

typedef struct state {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int closed, close_reason;
    int nevents;
    int events[4];
    int async_done;
    int async_rc[2];
    char hostname[128];
    uint64_t libver;
    virtwire_client *c;
} state;

static state st;

static void on_close(virtwire_client *c, int reason, void *opaque)
{
    (void)c, (void)opaque;
    pthread_mutex_lock(&st.lock);
    st.closed = 1;
    st.close_reason = reason;
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.lock);
}

static void on_lifecycle(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                         const void *msg, void *opaque)
{
    (void)c, (void)prog, (void)proc, (void)opaque;
    const remote_domain_event_callback_lifecycle_msg *m = msg;
    pthread_mutex_lock(&st.lock);
    if (st.nevents < 4 && strcmp(m->msg.dom.name, "test") == 0)
        st.events[st.nevents++] = m->msg.event;
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.lock);
}

static void done_libver(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    (void)c, (void)opaque;
    pthread_mutex_lock(&st.lock);
    st.async_rc[1] = r->rc;
    if (r->rc == 0)
        st.libver = ((const remote_connect_get_lib_version_ret *)r->ret)->lib_ver;
    st.async_done++;
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.lock);
}

static void done_hostname(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    (void)opaque;
    /* A call from a callback: it waits, corked, for the callbacks' end. */
    int rc = remote_call_connect_get_lib_version_async(c, NULL, done_libver, NULL);
    pthread_mutex_lock(&st.lock);
    st.async_rc[0] = r->rc;
    if (r->rc == 0)
        snprintf(st.hostname, sizeof st.hostname, "%s",
                 ((const remote_connect_get_hostname_ret *)r->ret)->hostname);
    st.async_done++;
    if (rc < 0) {
        st.async_rc[1] = rc;
        st.async_done++;
    }
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.lock);
}

/* Waits (lock held) for pred, the connection's death or the timeout. */
#define WAIT_LOCKED(pred)                                                      \
    do {                                                                       \
        uint64_t end_ = vt_now_ms() + TIMEOUT_MS;                              \
        while (!(pred) && !st.closed && vt_now_ms() < end_) {                  \
            struct timespec ts_;                                               \
            clock_gettime(CLOCK_REALTIME, &ts_);                               \
            ts_.tv_nsec += 20 * 1000000L;                                      \
            if (ts_.tv_nsec >= 1000000000L) {                                  \
                ts_.tv_sec++;                                                  \
                ts_.tv_nsec -= 1000000000L;                                    \
            }                                                                  \
            pthread_cond_timedwait(&st.cond, &st.lock, &ts_);                  \
        }                                                                      \
    } while (0)

/* The outcome of one call: 0 (go on), or stop the session with rc as the
 * outcome when rc is a failure the test accepts, or as a bad one. */
#define CALL(expr, want)                                                       \
    do {                                                                       \
        int call_rc_ = (expr);                                                 \
        if (call_rc_ != (want)) {                                              \
            outcome = call_rc_;                                                \
            where = #expr;                                                     \
            goto out;                                                          \
        }                                                                      \
    } while (0)

static int session(void *opaque)
{
    (void)opaque;
    int outcome = 0, bad = 0, died = 0;
    const char *where = "";
    virtwire_client *c = NULL;
    virtwire_client_stream *stream = NULL;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    memset(&st, 0, sizeof st);
    pthread_mutex_init(&st.lock, NULL);
    pthread_cond_init(&st.cond, NULL);

    virtwire_client_options o = { .size = sizeof o, .keepalive_interval_ms = 2000, .keepalive_count = 3,
                                  .call_timeout_ms = TIMEOUT_MS };
    CALL(virtwire_client_connect(uri, &o, &c), 0);
    virtwire_client_on_close(c, on_close, NULL);

    /* Synchronous calls, heap then arena mode. */
    remote_connect_get_lib_version_ret lv;
    CALL(remote_call_connect_get_lib_version(c, &lv, NULL), 0);
    EXPECT(lv.lib_ver >= 9000000);

    remote_connect_list_all_domains_args la = { 1, 0 };
    remote_connect_list_all_domains_ret lr;
    CALL(remote_call_connect_list_all_domains(c, &la, &lr, NULL), 0);
    int found = lr.domains.domains_len == 1 && strcmp(lr.domains.domains_val[0].name, "test") == 0;
    remote_connect_list_all_domains_ret_free(&lr);
    EXPECT(found);
    virtwire_call_opts ao = { .size = sizeof ao, .arena = &arena };
    CALL(remote_call_connect_list_all_domains(c, &la, &lr, &ao), 0);
    EXPECT(lr.domains.domains_len == 1 && lr.ret == 1);
    virtwire_arena_reset(&arena);

    /* An error reply and its details (heap mode). */
    virNetMessageError err;
    virtwire_call_opts eo = { .size = sizeof eo, .error = &err };
    remote_domain_lookup_by_name_args nl = { "nosuch" };
    remote_domain_lookup_by_name_ret nr;
    CALL(remote_call_domain_lookup_by_name(c, &nl, &nr, &eo), VIRTWIRE_EREMOTE);
    int details = err.code == 42 && err.domain == 12 && err.message &&
                  strstr(*err.message, "Domain not found") != NULL;
    virNetMessageError_free(&err);
    EXPECT(details);

    /* Asynchronous calls: the second starts in the first's callback. */
    CALL(remote_call_connect_get_hostname_async(c, NULL, done_hostname, NULL), 0);
    pthread_mutex_lock(&st.lock);
    WAIT_LOCKED(st.async_done == 2);
    int async_done = st.async_done, rc0 = st.async_rc[0], rc1 = st.async_rc[1];
    pthread_mutex_unlock(&st.lock);
    if (async_done < 2) {
        outcome = VIRTWIRE_ECLOSED;
        where = "asynchronous calls";
        EXPECT(st.closed); /* a callback may only go missing with its connection */
        goto out;
    }
    CALL(rc0, 0);
    CALL(rc1, 0);
    EXPECT(st.hostname[0] && st.libver == lv.lib_ver);

    /* Lifecycle events. */
    int id = virtwire_client_on_event(c, &remote_program,
                                      REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, on_lifecycle,
                                      NULL);
    CALL(id < 0 ? id : 0, 0);
    remote_connect_domain_event_callback_register_any_args ra = { 0, NULL };
    remote_connect_domain_event_callback_register_any_ret rr;
    CALL(remote_call_connect_domain_event_callback_register_any(c, &ra, &rr, NULL), 0);
    remote_domain_lookup_by_name_args tl = { "test" };
    remote_domain_lookup_by_name_ret tr;
    CALL(remote_call_domain_lookup_by_name(c, &tl, &tr, &ao), 0);
    remote_domain_suspend_args sa = { tr.dom };
    CALL(remote_call_domain_suspend(c, &sa, NULL), 0);
    remote_domain_resume_args rsa = { tr.dom };
    CALL(remote_call_domain_resume(c, &rsa, NULL), 0);
    pthread_mutex_lock(&st.lock);
    WAIT_LOCKED(st.nevents == 2);
    int nevents = st.nevents, ev0 = st.events[0], ev1 = st.events[1];
    pthread_mutex_unlock(&st.lock);
    if (nevents < 2) {
        outcome = VIRTWIRE_ECLOSED;
        where = "events";
        EXPECT(st.closed); /* an event may only go missing with its connection */
        goto out;
    }
    EXPECT(ev0 == 3 && ev1 == 4); /* VIR_DOMAIN_EVENT_SUSPENDED, _RESUMED */

    /* The screenshot stream: data up to its end, then finish. */
    remote_domain_screenshot_args sha = { tr.dom, 0, 0 };
    remote_domain_screenshot_ret shr;
    CALL(remote_stream_domain_screenshot(c, &sha, &shr, &ao, &stream), 0);
    {
        unsigned char buf[16384], head[8] = { 0 };
        long total = 0, n;
        while ((n = virtwire_client_stream_recv(stream, buf, sizeof buf, NULL, 0, NULL)) > 0) {
            if (total == 0)
                memcpy(head, buf, n < 8 ? (size_t)n : 8);
            total += n;
        }
        CALL((int)n, 0);
        EXPECT(total > 1000 && memcmp(head, "\x89PNG", 4) == 0);
        CALL(virtwire_client_stream_finish(stream, 0, NULL), 0);
    }

out:
    if (c)
        died = virtwire_client_error(c);
    if (stream)
        virtwire_client_stream_free(stream);
    virtwire_client_close(c);
    virtwire_arena_fini(&arena);
    if (bad)
        return 1;
    if (outcome == 0) {
        if (fa_fired())
            return FA_FAIL("an allocation failed and nothing said so");
        return 0;
    }
    if (!fa_injecting())
        return FA_FAIL("%s gave %s", where, virtwire_error_name(outcome));
    if (outcome == VIRTWIRE_ENOMEM)
        return 0;
    if (outcome == VIRTWIRE_ECLOSED && c) {
        if (died != VIRTWIRE_ENOMEM)
            return FA_FAIL("%s: the connection died of %s", where,
                           virtwire_error_name(died) ? virtwire_error_name(died) : "nothing");
        if (!st.closed || st.close_reason != VIRTWIRE_ENOMEM)
            return FA_FAIL("on_close did not report VIRTWIRE_ENOMEM");
        return 0;
    }
    return FA_FAIL("%s gave %s", where,
                   virtwire_error_name(outcome) ? virtwire_error_name(outcome) : "?");
}

int main(int argc, char **argv)
{
    if (!fa_session_args(argc, argv, 1, "PRIVATE_LIBVIRTD_SCRIPT"))
        return 2;
    vt_libvirtd d;
    vt_libvirtd_start(&d, argv[2], 0);
    /* A node file of our own: each connection gets private state, so that
     * a run that ends early (a domain left suspended) does not disturb the
     * next one. */
    char node[192];
    snprintf(node, sizeof node, "%s/node.xml", d.dir);
    FILE *f = fopen(node, "w");
    if (!f || fputs("<node>\n"
                    "  <domain type='test'>\n"
                    "    <name>test</name>\n"
                    "    <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>\n"
                    "    <memory>8388608</memory>\n"
                    "    <vcpu>2</vcpu>\n"
                    "    <os><type>hvm</type></os>\n"
                    "  </domain>\n"
                    "</node>\n", f) < 0 || fclose(f) != 0) {
        perror(node);
        vt_libvirtd_stop(&d);
        return 1;
    }
    snprintf(uri, sizeof uri, "test+unix://%s?socket=%s", node, d.sock);
    int rc = fa_run("alloc.client.session", session, NULL, 60);
    if (vt_libvirtd_stop(&d) != 0)
        fprintf(stderr, "could not stop libvirtd\n");
    return rc;
}
