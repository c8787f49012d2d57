/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client, generated from the newest release in the manifest, against a
 * daemon of another release: the system's libvirtd 9.0.0, or 11.3.0 with
 * VIRTWIRE_LIBVIRT_SUITE=bookworm-backports (tests/libvirtd/unpack-libvirt).
 *
 *   - the daemon's release, learnt at connect (VIRTWIRE_CLIENT_LIB_VERSION)
 *     and on demand, is the one the daemon binary prints;
 *   - NETWORK_SET_METADATA / NETWORK_GET_METADATA (9.7.0) and the network
 *     METADATA_CHANGE event (event ID 1, 9.8.0):
 *       on a daemon that has them, they work, and the event arrives;
 *       on an older one, the call fails with VIRTWIRE_EUNSUPPORTED (the
 *       daemon's "unknown procedure: 444"); virtwire_client_check_since()
 *       says "procedure REMOTE_PROC_NETWORK_SET_METADATA needs libvirt
 *       9.7.0, the daemon runs 9.0.0"; with VIRTWIRE_CLIENT_CHECK_SINCE the
 *       call fails with VIRTWIRE_EUNSUPPORTED without being sent (no
 *       remote_error, and it fails so even once the daemon is gone); the
 *       registration for event ID 1 fails cleanly (VIRTWIRE_EREMOTE with
 *       the daemon's "unsupported network event ID 1", no handler left,
 *       the connection usable);
 *   - procedures both know pass the check and work with CHECK_SINCE on.
 *
 *   test_client_releases PRIVATE_LIBVIRTD_SCRIPT
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "remote_protocol.h"
#include "remote_protocol_client.h"
#include "vt_check.h"
#include "vt_daemon.h"
#include "vt_sys.h"

static vt_libvirtd daemon_;

typedef struct seen {
    int n;
    int type;
    char nsuri[64];
} seen;

static void on_metadata(virtwire_client *c, const remote_network_event_callback_metadata_change_msg *m,
                        void *opaque)
{
    (void)c;
    seen *s = opaque;
    s->type = m->type;
    snprintf(s->nsuri, sizeof s->nsuri, "%s", m->nsuri ? *m->nsuri : "");
    __atomic_add_fetch(&s->n, 1, __ATOMIC_SEQ_CST);
}

static void on_lifecycle(virtwire_client *c, const remote_network_event_lifecycle_msg *m,
                         void *opaque)
{
    (void)c;
    (void)m;
    (void)opaque;
}

static void never_done(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    (void)c;
    (void)r;
    __atomic_add_fetch((int *)opaque, 1, __ATOMIC_SEQ_CST);
}

static int default_network(virtwire_client *c, remote_nonnull_network *net, virtwire_arena *a)
{
    virtwire_call_opts o = { .size = sizeof o, .arena = a, .timeout_ms = 5000 };
    remote_network_lookup_by_name_args la = { "default" };
    remote_network_lookup_by_name_ret lr;
    int rc = remote_call_network_lookup_by_name(c, &la, &lr, &o);
    if (rc == 0)
        *net = lr.net;
    return rc;
}

/* The daemon knows the procedures and the event. */
static void test_newer_present(virtwire_client *c)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = 5000 };
    remote_nonnull_network net;
    CHECK_RC(default_network(c, &net, &arena), 0);

    seen s = { 0 };
    remote_event_registration reg;
    CHECK_RC(remote_register_network_event_metadata_change(c, &reg, NULL, on_metadata, &s, &o),
             0);
    char *desc = "a network of the test driver";
    remote_network_set_metadata_args sa = { .network = net, .type = 0 /* DESCRIPTION */,
                                            .metadata = &desc };
    CHECK_RC(remote_call_network_set_metadata(c, &sa, &o), 0);
    remote_network_get_metadata_args ga = { .network = net, .type = 0 };
    remote_network_get_metadata_ret gr;
    CHECK_RC(remote_call_network_get_metadata(c, &ga, &gr, &o), 0);
    CHECK(gr.metadata && strcmp(gr.metadata, desc) == 0);
    uint64_t end = vt_now_ms() + 5000;
    while (__atomic_load_n(&s.n, __ATOMIC_SEQ_CST) == 0 && vt_now_ms() < end)
        vt_sleep_ms(10);
    CHECK(__atomic_load_n(&s.n, __ATOMIC_SEQ_CST) == 1 && s.type == 0);
    CHECK_RC(remote_deregister_event(c, &reg, &o), 0);

    char why[160];
    CHECK_RC(virtwire_client_check_since(c, &remote_program, REMOTE_PROC_NETWORK_SET_METADATA,
                                         why, sizeof why), 0);
    CHECK(why[0] == 0);
    virtwire_arena_fini(&arena);
}

/* The daemon (9.0.0) lacks them. */
static void test_newer_absent(virtwire_client *c, uint32_t daemon)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = 5000,
                             .error = &err };
    remote_nonnull_network net;
    CHECK_RC(default_network(c, &net, &arena), 0);

    /* Sent: the daemon answers "unknown procedure". */
    char *desc = "x";
    remote_network_set_metadata_args sa = { .network = net, .type = 0, .metadata = &desc };
    CHECK_RC(remote_call_network_set_metadata(c, &sa, &o), VIRTWIRE_EUNSUPPORTED);
    CHECK(err.code == 39 && err.message && strstr(*err.message, "444"));
    CHECK(virtwire_client_error(c) == 0);

    /* The check says why, before sending. */
    char why[160], want[160], have[32];
    virtwire_libvirt_version_format(daemon, have, sizeof have);
    snprintf(want, sizeof want,
             "procedure REMOTE_PROC_NETWORK_SET_METADATA needs libvirt 9.7.0, the daemon runs %s",
             have);
    CHECK_RC(virtwire_client_check_since(c, &remote_program, REMOTE_PROC_NETWORK_SET_METADATA,
                                         why, sizeof why), VIRTWIRE_EUNSUPPORTED);
    CHECK(strcmp(why, want) == 0);
    if (strcmp(why, want) != 0)
        fprintf(stderr, "got '%s'\nwant '%s'\n", why, want);
    /* Cut short, still terminated. */
    char tiny[12];
    CHECK_RC(virtwire_client_check_since(c, &remote_program, REMOTE_PROC_NETWORK_SET_METADATA,
                                         tiny, sizeof tiny), VIRTWIRE_EUNSUPPORTED);
    CHECK(strlen(tiny) == sizeof tiny - 1 && strncmp(tiny, want, sizeof tiny - 1) == 0);
    CHECK_RC(virtwire_client_check_since(c, &remote_program, 100000, why, sizeof why),
             VIRTWIRE_EINVAL);

    /* An event ID the daemon does not know: a clean failure, nothing bound. */
    seen s = { 0 };
    remote_event_registration reg;
    CHECK_RC(remote_register_network_event_metadata_change(c, &reg, NULL, on_metadata, &s, &o),
             VIRTWIRE_EREMOTE);
    CHECK(err.code == 1 && err.message &&
          strstr(*err.message, "unsupported network event ID 1")); /* VIR_ERR_INTERNAL_ERROR */
    CHECK(virtwire_client_error(c) == 0);
    /* The older event ID still registers and works on the same connection. */
    remote_event_registration life;
    CHECK_RC(remote_register_network_event_lifecycle(c, &life, NULL, on_lifecycle, NULL, &o), 0);
    CHECK_RC(remote_deregister_event(c, &life, &o), 0);
    CHECK(s.n == 0);
    virtwire_arena_fini(&arena);
}

/* VIRTWIRE_CLIENT_CHECK_SINCE on a daemon older than the procedure. */
static void test_check_before_sending(uint32_t daemon)
{
    virtwire_client_options co = { .size = sizeof co, .flags = VIRTWIRE_CLIENT_CHECK_SINCE,
                                   .call_timeout_ms = 10000 };
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_connect(daemon_.uri, &co, &c), 0);
    if (!c)
        return;
    uint32_t v = 0;
    CHECK_RC(virtwire_client_lib_version(c, &v), 0);
    CHECK(v == daemon);

    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = 5000,
                             .error = &err };
    remote_nonnull_network net;
    CHECK_RC(default_network(c, &net, &arena), 0); /* older procedures pass */
    char *desc = "x";
    remote_network_set_metadata_args sa = { .network = net, .type = 0, .metadata = &desc };
    memset(&err, 0xff, sizeof err);
    CHECK_RC(remote_call_network_set_metadata(c, &sa, &o), VIRTWIRE_EUNSUPPORTED);
    CHECK(err.code == 0 && err.message == NULL); /* no remote_error: nothing was sent */
    /* The asynchronous form refuses before sending too, without calling back. */
    int done = 0;
    CHECK_RC(remote_call_network_set_metadata_async(c, &sa, &o, never_done, &done),
             VIRTWIRE_EUNSUPPORTED);

    /* Nothing is sent: the same call fails so even with the daemon gone,
     * where a sent call would fail with VIRTWIRE_ECLOSED. */
    vt_libvirtd_stop(&daemon_);
    uint64_t end = vt_now_ms() + 5000;
    while (virtwire_client_error(c) == 0 && vt_now_ms() < end)
        vt_sleep_ms(10);
    CHECK(virtwire_client_error(c) != 0);
    CHECK_RC(remote_call_network_set_metadata(c, &sa, &o), VIRTWIRE_EUNSUPPORTED);
    CHECK_RC(default_network(c, &net, &arena), VIRTWIRE_ECLOSED);
    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
    CHECK(done == 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PRIVATE_LIBVIRTD_SCRIPT\n", argv[0]);
        return 2;
    }
    vt_libvirtd_start(&daemon_, argv[1], 0);
    uint32_t daemon = vt_libvirtd_version(&daemon_);
    char dv[32];
    virtwire_libvirt_version_format(daemon, dv, sizeof dv);
    printf("daemon: libvirt %s\n", dv);
    CHECK(daemon != 0);

    /* The procedure table's releases, as libvirt's records give them. */
    CHECK(virtwire_program_since(&remote_program, REMOTE_PROC_NETWORK_SET_METADATA) ==
          VIRTWIRE_LIBVIRT_VERSION(9, 7, 0));
    CHECK(virtwire_program_since(&remote_program, REMOTE_PROC_CONNECT_OPEN) ==
          VIRTWIRE_LIBVIRT_VERSION(0, 0, 3));
    CHECK(virtwire_program_since(&remote_program, 100000) == 0);

    virtwire_client_options co = { .size = sizeof co, .flags = VIRTWIRE_CLIENT_LIB_VERSION,
                                   .call_timeout_ms = 10000 };
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_connect(daemon_.uri, &co, &c), 0);
    if (!c)
        return vt_finish("client.releases");
    uint32_t v = 0;
    CHECK_RC(virtwire_client_lib_version(c, &v), 0);
    CHECK(v == daemon);

    uint32_t need = virtwire_program_since(&remote_program,
                                           REMOTE_PROC_NETWORK_EVENT_CALLBACK_METADATA_CHANGE);
    CHECK(need != 0 && need <= VIRTWIRE_LIBVIRT_VERSION(9, 8, 0));
    if (daemon >= VIRTWIRE_LIBVIRT_VERSION(9, 8, 0))
        test_newer_present(c);
    else
        test_newer_absent(c, daemon);
    CHECK(virtwire_client_error(c) == 0);
    virtwire_client_close(c);

    /* Learnt on demand when not at connect. */
    virtwire_client_options plain = { .size = sizeof plain, .call_timeout_ms = 10000 };
    CHECK_RC(virtwire_client_connect(daemon_.uri, &plain, &c), 0);
    if (c) {
        v = 0;
        CHECK_RC(virtwire_client_lib_version(c, &v), 0);
        CHECK(v == daemon);
        virtwire_client_close(c);
    }

    if (daemon < VIRTWIRE_LIBVIRT_VERSION(9, 7, 0))
        test_check_before_sending(daemon); /* stops the daemon */
    vt_libvirtd_stop(&daemon_);
    return vt_finish("client.releases");
}
