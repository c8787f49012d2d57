/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client against an in-process peer (a virtwire_conn in the server
 * role on the other end of a socketpair), for what a real libvirtd cannot
 * be made to do on demand: the handshake's exact arguments and an
 * authentication method we do not implement, replies that come late or
 * never, fds both ways, a client-to-server sparse stream, a sparse
 * download, close() with calls in flight, events sent before the reply
 * of the registration that asked for them, and the daemon's release: a
 * procedure newer than it is not sent with VIRTWIRE_CLIENT_CHECK_SINCE, and
 * a release of 0 or beyond 32 bits is refused.
 *
 *   test_client_local [ignored]
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "remote_protocol_client.h"
#include "virtwire_client.h"
#include "virtwire_conn.h"
#include "vt_check.h"
#include "vt_daemon.h"
#include "vt_sys.h"

/* ---- the fake daemon ------------------------------------------------------ */

typedef struct peer {
    pthread_mutex_t m;
    virtwire_conn *conn;
    virtwire_transport_program *tp;
    pthread_t thread;
    int stop;
    /* behaviour */
    remote_auth_type auth[2];
    unsigned nauth;
    int hold_next;    /* do not answer the next GET_LIB_VERSION */
    uint64_t lib_ver; /* what GET_LIB_VERSION answers when not 0 (else 222) */
    int saw_set_metadata; /* NETWORK_SET_METADATA calls received */
    int held;         /* a call is held */
    uint32_t held_serial;
    /* what it saw */
    int saw_auth, saw_polkit, saw_feature, saw_open, saw_close;
    char open_name[64];
    unsigned open_flags;
    int graphics_read_end;
    char upload[256];
    int upload_ok;
    uint32_t upload_serial, download_serial;
    /* event registrations: the callbackID the next one gets, whether the
     * reply waits a while after the early events, what was deregistered */
    int next_callback;
    int reply_delay_ms;
    int deregistered;
} peer;

static peer P;

static int64_t reply(virtwire_transport_program *tp, const virtwire_transport_msg *m,
                     const virtwire_type *t, const void *v)
{
    return virtwire_transport_send_value(tp, m->hdr.proc, VIR_NET_REPLY, VIR_NET_OK,
                                         m->hdr.serial, t, v, NULL, 0);
}

static void lib_version(virtwire_transport_program *tp, const virtwire_transport_msg *m)
{
    if (P.hold_next) {
        P.hold_next = 0;
        P.held = 1;
        P.held_serial = m->hdr.serial;
        return;
    }
    remote_connect_get_lib_version_ret r = { P.lib_ver ? P.lib_ver : 222 };
    if (P.held) {
        /* The late reply first: the client must drop it. */
        remote_connect_get_lib_version_ret late = { 111 };
        virtwire_transport_send_value(tp, m->hdr.proc, VIR_NET_REPLY, VIR_NET_OK, P.held_serial,
                                      &remote_connect_get_lib_version_ret_desc, &late, NULL, 0);
        P.held = 0;
    }
    reply(tp, m, &remote_connect_get_lib_version_ret_desc, &r);
}

/* A lifecycle event for callbackID cb; the domain's name tells the events
 * apart. */
static void lifecycle(virtwire_transport_program *tp, int cb, const char *name)
{
    remote_domain_event_callback_lifecycle_msg e = { cb, { { (char *)name, { 0 }, -1 }, 2, 0 } };
    CHECK(virtwire_transport_send_value(tp, REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                                        VIR_NET_MESSAGE, VIR_NET_OK, 0,
                                        &remote_domain_event_callback_lifecycle_msg_desc, &e,
                                        NULL, 0) >= 0);
}

/* A registration whose callbackID's events come before, around and after
 * the reply, mixed with another callbackID's; one for a single domain is
 * refused, with events around the error that no registration may see. */
static void register_any(virtwire_transport_program *tp, const virtwire_transport_msg *m,
                         virtwire_arena *arena)
{
    remote_connect_domain_event_callback_register_any_args a;
    CHECK(virtwire_decode(&remote_connect_domain_event_callback_register_any_args_desc, m->payload,
                          m->payload_len, arena, &a) == 0);
    int cb = P.next_callback++;
    lifecycle(tp, cb, "early1");
    lifecycle(tp, 999, "other1");
    lifecycle(tp, cb, "early2");
    if (P.reply_delay_ms)
        vt_sleep_ms((unsigned)P.reply_delay_ms);
    if (a.dom) {
        remote_error e = { 1, 10, NULL, 2, NULL, NULL, NULL, NULL, 0, 0, NULL };
        char *msg = "refused";
        e.message = &msg;
        virtwire_transport_send_value(tp, m->hdr.proc, VIR_NET_REPLY, VIR_NET_ERROR, m->hdr.serial,
                                      &remote_error_desc, &e, NULL, 0);
        lifecycle(tp, cb, "after-error");
        return;
    }
    remote_connect_domain_event_callback_register_any_ret r = { cb };
    reply(tp, m, &remote_connect_domain_event_callback_register_any_ret_desc, &r);
    lifecycle(tp, cb, "late1");
    lifecycle(tp, 999, "other2");
    lifecycle(tp, cb, "late2");
}

static void download(virtwire_transport_program *tp, const virtwire_transport_msg *m)
{
    remote_storage_vol_download_args a;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    CHECK(virtwire_decode(&remote_storage_vol_download_args_desc, m->payload, m->payload_len,
                          &arena, &a) == 0);
    virtwire_arena_fini(&arena);
    uint32_t s = m->hdr.serial;
    P.download_serial = s;
    CHECK(virtwire_transport_stream_open(tp, m->hdr.proc, s, VIRTWIRE_STREAM_SPARSE) == 0);
    reply(tp, m, NULL, NULL);
    virtwire_transport_stream_send_data(tp, m->hdr.proc, s, "abc", 3);
    virtwire_transport_stream_send_hole(tp, m->hdr.proc, s, 5000, 0);
    virtwire_transport_stream_send_data(tp, m->hdr.proc, s, "xyz", 3);
    virtwire_transport_stream_send_eof(tp, m->hdr.proc, s);
}

static int on_call(virtwire_transport_program *tp, const virtwire_transport_msg *m, void *opaque)
{
    (void)opaque;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    pthread_mutex_lock(&P.m);
    switch (m->hdr.proc) {
    case REMOTE_PROC_AUTH_LIST: {
        remote_auth_list_ret r = { { P.nauth, P.auth } };
        P.saw_auth++;
        reply(tp, m, &remote_auth_list_ret_desc, &r);
        break;
    }
    case REMOTE_PROC_AUTH_POLKIT: {
        remote_auth_polkit_ret r = { 1 };
        P.saw_polkit++;
        reply(tp, m, &remote_auth_polkit_ret_desc, &r);
        break;
    }
    case REMOTE_PROC_CONNECT_SUPPORTS_FEATURE: {
        remote_connect_supports_feature_args a;
        if (virtwire_decode(&remote_connect_supports_feature_args_desc, m->payload,
                            m->payload_len, &arena, &a) == 0)
            P.saw_feature = a.feature;
        remote_connect_supports_feature_ret r = { 1 };
        reply(tp, m, &remote_connect_supports_feature_ret_desc, &r);
        break;
    }
    case REMOTE_PROC_CONNECT_OPEN: {
        remote_connect_open_args a;
        if (virtwire_decode(&remote_connect_open_args_desc, m->payload, m->payload_len, &arena,
                            &a) == 0) {
            snprintf(P.open_name, sizeof P.open_name, "%s", a.name ? *a.name : "(null)");
            P.open_flags = a.flags;
        }
        P.saw_open++;
        reply(tp, m, NULL, NULL);
        break;
    }
    case REMOTE_PROC_CONNECT_CLOSE:
        P.saw_close++;
        reply(tp, m, NULL, NULL);
        break;
    case REMOTE_PROC_CONNECT_GET_LIB_VERSION:
        lib_version(tp, m);
        break;
    case REMOTE_PROC_NETWORK_SET_METADATA:
        P.saw_set_metadata++;
        reply(tp, m, NULL, NULL);
        break;
    case REMOTE_PROC_DOMAIN_CREATE_WITH_FILES: {
        /* Answer with what the passed fd gives to read. */
        char buf[32] = "";
        ssize_t n = m->nfds == 1 ? read(m->fds[0], buf, sizeof buf - 1) : -1;
        buf[n > 0 ? n : 0] = 0;
        remote_domain_create_with_files_ret r = { { buf, { 0 }, (int)m->nfds } };
        reply(tp, m, &remote_domain_create_with_files_ret_desc, &r);
        break;
    }
    case REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD: {
        int p[2];
        CHECK(pipe(p) == 0);
        P.graphics_read_end = p[0];
        virtwire_transport_send(tp, m->hdr.proc, VIR_NET_REPLY_WITH_FDS, VIR_NET_OK,
                                m->hdr.serial, NULL, 0, &p[1], 1);
        close(p[1]);
        break;
    }
    case REMOTE_PROC_STORAGE_VOL_UPLOAD:
        P.upload_serial = m->hdr.serial;
        CHECK(virtwire_transport_stream_open(tp, m->hdr.proc, m->hdr.serial,
                                             VIRTWIRE_STREAM_SPARSE) == 0);
        reply(tp, m, NULL, NULL);
        break;
    case REMOTE_PROC_STORAGE_VOL_DOWNLOAD:
        download(tp, m);
        break;
    case REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY:
        register_any(tp, m, &arena);
        break;
    case REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: {
        remote_connect_domain_event_callback_deregister_any_args a;
        CHECK(virtwire_decode(&remote_connect_domain_event_callback_deregister_any_args_desc,
                              m->payload, m->payload_len, &arena, &a) == 0);
        P.deregistered = a.callbackID;
        reply(tp, m, NULL, NULL);
        /* Late: the client must not hand it to the removed handler. */
        lifecycle(tp, a.callbackID, "after-deregister");
        break;
    }
    default:
        CHECK(!"unexpected procedure");
    }
    pthread_mutex_unlock(&P.m);
    virtwire_arena_fini(&arena);
    return 0;
}

static int on_stream(virtwire_transport_program *tp, const virtwire_transport_msg *m, void *opaque)
{
    (void)opaque;
    pthread_mutex_lock(&P.m);
    size_t used = strlen(P.upload);
    char *out = P.upload + used;
    size_t room = sizeof P.upload - used;
    if (m->hdr.type == VIR_NET_STREAM_HOLE)
        snprintf(out, room, "H%lld|", (long long)m->hole->length);
    else if (m->hdr.status == VIR_NET_CONTINUE)
        snprintf(out, room, "%.*s|", (int)m->payload_len, (const char *)m->payload);
    else if (m->hdr.status == VIR_NET_OK) {
        /* The client's finish: confirm, as libvirtd does. */
        if (m->hdr.serial == P.upload_serial)
            P.upload_ok++;
        virtwire_transport_stream_finish(tp, m->hdr.proc, m->hdr.serial);
    }
    pthread_mutex_unlock(&P.m);
    return 0;
}

static void *peer_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&P.m);
        int stop = P.stop;
        pthread_mutex_unlock(&P.m);
        if (stop || virtwire_conn_run_once(P.conn, 20) < 0)
            break;
    }
    return NULL;
}

/* Starts the peer; returns the client's end of the socketpair. */
static int peer_start(void)
{
    int sv[2];
    CHECK(vt_socketpair(sv, 0) == 0);
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    memset(&P, 0, sizeof P);
    P.m = m;
    P.graphics_read_end = -1;
    P.auth[0] = REMOTE_AUTH_NONE;
    P.nauth = 1;
    static const virtwire_transport_callbacks cbs = { .size = sizeof cbs };
    CHECK(virtwire_conn_adopt(sv[1], 1, VIRTWIRE_TRANSPORT_SERVER, &cbs, NULL, &P.conn) == 0);
    static const virtwire_transport_program_callbacks pcbs = { .size = sizeof pcbs, .on_call = on_call,
                                                               .on_stream = on_stream };
    CHECK(virtwire_transport_register(virtwire_conn_transport(P.conn), REMOTE_PROGRAM,
                                      REMOTE_PROTOCOL_VERSION, &pcbs, NULL, &P.tp) == 0);
    CHECK(pthread_create(&P.thread, NULL, peer_main, NULL) == 0);
    return sv[0];
}

/* The fake peer, and a client adopting its socket without libvirt's open
 * handshake; NULL (the failure checked) when adopting fails. */
static virtwire_client *adopt_no_open(void)
{
    int fd = peer_start();
    virtwire_client_options o = { .size = sizeof o, .flags = VIRTWIRE_CLIENT_NO_OPEN };
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_adopt(fd, 1, &o, &c), 0);
    return c;
}

static void peer_stop(void)
{
    pthread_mutex_lock(&P.m);
    P.stop = 1;
    pthread_mutex_unlock(&P.m);
    pthread_join(P.thread, NULL);
    virtwire_conn_free(P.conn);
    if (P.graphics_read_end >= 0)
        close(P.graphics_read_end);
}

/* ---- tests ---------------------------------------------------------------- */

static int get_lib_version(virtwire_client *c, int timeout_ms, uint64_t *v)
{
    remote_connect_get_lib_version_ret r = { 0 };
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = timeout_ms };
    int rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                  &r, &o);
    *v = r.lib_ver;
    return rc;
}

static void test_handshake(void)
{
    int fd = peer_start();
    pthread_mutex_lock(&P.m);
    P.auth[0] = REMOTE_AUTH_POLKIT;
    pthread_mutex_unlock(&P.m);
    virtwire_client_options o = { .size = sizeof o, .flags = VIRTWIRE_CLIENT_READONLY,
                                  .open_name = "test:///default" };
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_adopt(fd, 1, &o, &c), 0);
    virtwire_client_close(c);
    peer_stop();
    /* POLKIT listed: the client asks for it (AUTH_POLKIT), as libvirt's. */
    CHECK(P.saw_auth == 1 && P.saw_polkit == 1 && P.saw_feature == 10 && P.saw_open == 1 &&
          P.saw_close == 1);
    CHECK(strcmp(P.open_name, "test:///default") == 0 && P.open_flags == 1);
}

/* The daemon's release: learnt at connect; a procedure newer than it is
 * refused before sending with VIRTWIRE_CLIENT_CHECK_SINCE (the peer sees
 * nothing) and sent without; nonsense releases are refused. */
static void test_release(void)
{
    static const struct {
        uint64_t ver;
        int rc;
    } cases[] = {
        { 9000000u, 0 },
        { 0x100000000ull, VIRTWIRE_ERANGE },
        { 0x100000000ull + 9000000u, VIRTWIRE_ERANGE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = peer_start();
        pthread_mutex_lock(&P.m);
        P.lib_ver = cases[i].ver;
        pthread_mutex_unlock(&P.m);
        virtwire_client_options o = { .size = sizeof o, .flags = VIRTWIRE_CLIENT_CHECK_SINCE,
                                      .open_name = "test:///default" };
        virtwire_client *c = NULL;
        CHECK_RC(virtwire_client_adopt(fd, 1, &o, &c), cases[i].rc);
        if (c) {
            uint32_t v = 0;
            CHECK_RC(virtwire_client_lib_version(c, &v), 0);
            CHECK(v == 9000000u);
            char *d = "x";
            remote_network_set_metadata_args a = { .network = { "default", { 0 } }, .metadata = &d };
            virtwire_call_opts co = { .size = sizeof co, .timeout_ms = 5000 };
            CHECK_RC(remote_call_network_set_metadata(c, &a, &co), VIRTWIRE_EUNSUPPORTED);
            char why[128];
            CHECK_RC(virtwire_client_check_since(c, &remote_program,
                                                 REMOTE_PROC_NETWORK_SET_METADATA, why,
                                                 sizeof why), VIRTWIRE_EUNSUPPORTED);
            CHECK(strcmp(why, "procedure REMOTE_PROC_NETWORK_SET_METADATA needs libvirt 9.7.0, "
                              "the daemon runs 9.0.0") == 0);
            virtwire_client_close(c);
        }
        peer_stop();
        CHECK(P.saw_set_metadata == 0);
    }
    /* Without the check the call goes out (and this peer answers it). */
    int fd = peer_start();
    pthread_mutex_lock(&P.m);
    P.lib_ver = 9000000u;
    pthread_mutex_unlock(&P.m);
    virtwire_client_options o = { .size = sizeof o, .open_name = "test:///default" };
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_adopt(fd, 1, &o, &c), 0);
    if (c) {
        char *d = "x";
        remote_network_set_metadata_args a = { .network = { "default", { 0 } }, .metadata = &d };
        virtwire_call_opts co = { .size = sizeof co, .timeout_ms = 5000 };
        CHECK_RC(remote_call_network_set_metadata(c, &a, &co), 0);
        uint32_t v = 0;
        CHECK_RC(virtwire_client_lib_version(c, &v), 0); /* asked now */
        CHECK(v == 9000000u);
        virtwire_client_close(c);
    }
    peer_stop();
    CHECK(P.saw_set_metadata == 1);
}

/* Options without a size are refused before anything is sent; a larger
 * structure is fine when what this library does not know of is zero, and
 * results go back only where the caller has room for them. */
static void test_sized_options(void)
{
    int fd = peer_start();
    virtwire_client_options bad = { .open_name = "test:///default" };
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_adopt(fd, 1, &bad, &c), VIRTWIRE_EINVAL);
    CHECK(c == NULL);
    peer_stop();

    fd = peer_start();
    virtwire_client_options o = { .size = sizeof o, .open_name = "test:///default" };
    CHECK_RC(virtwire_client_adopt(fd, 1, &o, &c), 0);
    uint64_t v = 0;
    remote_connect_get_lib_version_ret r = { 0 };
    virtwire_call_opts zero = { .arena = NULL };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                  &r, &zero),
             VIRTWIRE_EINVAL);
    struct {
        virtwire_call_opts known;
        int later;
    } newer = { .known = { .size = sizeof newer } };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                  &r, &newer.known),
             0);
    newer.later = 1;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                  &r, &newer.known),
             VIRTWIRE_EINVAL);
    /* An older caller's structure ends before nret_fds: it is not written. */
    virtwire_call_opts older = { .size = offsetof(virtwire_call_opts, nret_fds),
                                 .nret_fds = 77 };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                  &r, &older),
             0);
    CHECK(older.nret_fds == 77);
    CHECK_RC(get_lib_version(c, 0, &v), 0);
    virtwire_client_close(c);
    peer_stop();
}

static void test_auth_refused(void)
{
    int fd = peer_start();
    pthread_mutex_lock(&P.m);
    P.auth[0] = REMOTE_AUTH_SASL;
    pthread_mutex_unlock(&P.m);
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_adopt(fd, 1, NULL, &c), VIRTWIRE_EAUTH);
    CHECK(c == NULL);
    peer_stop();
    CHECK(P.saw_auth == 1 && P.saw_open == 0 && P.saw_close == 0);
}

typedef struct async_box {
    pthread_mutex_t m;
    int done, rc;
} async_box;

static void async_done(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    async_box *b = opaque;
    (void)c;
    pthread_mutex_lock(&b->m);
    b->done++;
    b->rc = r->rc;
    pthread_mutex_unlock(&b->m);
}

static void test_timeouts(void)
{
    virtwire_client *c = adopt_no_open();
    if (!c)
        return;
    uint64_t v = 0;
    pthread_mutex_lock(&P.m);
    P.hold_next = 1;
    pthread_mutex_unlock(&P.m);
    uint64_t t0 = vt_now_ms();
    CHECK_RC(get_lib_version(c, 200, &v), VIRTWIRE_ETIMEDOUT);
    uint64_t took = vt_now_ms() - t0;
    CHECK(took >= 190 && took < 1500);
    /* The peer now answers the held call late, then this one. */
    CHECK_RC(get_lib_version(c, 5000, &v), 0);
    CHECK(v == 222);

    /* The same for an asynchronous call. */
    static async_box b = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };
    pthread_mutex_lock(&P.m);
    P.hold_next = 1;
    pthread_mutex_unlock(&P.m);
    virtwire_call_opts ao = { .size = sizeof ao, .timeout_ms = 150 };
    CHECK_RC(virtwire_client_call_async(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION,
                                        NULL, &ao, async_done, &b), 0);
    vt_sleep_ms(600);
    pthread_mutex_lock(&b.m);
    CHECK(b.done == 1 && b.rc == VIRTWIRE_ETIMEDOUT);
    pthread_mutex_unlock(&b.m);
    CHECK_RC(get_lib_version(c, 5000, &v), 0);
    CHECK(v == 222 && virtwire_client_error(c) == 0);

    /* close() with a call in flight: its callback runs before close
     * returns, with ECLOSED. */
    pthread_mutex_lock(&P.m);
    P.hold_next = 1;
    pthread_mutex_unlock(&P.m);
    CHECK_RC(virtwire_client_call_async(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION,
                                        NULL, NULL, async_done, &b), 0);
    vt_sleep_ms(50);
    virtwire_client_close(c);
    CHECK(b.done == 2 && b.rc == VIRTWIRE_ECLOSED);
    peer_stop();
}

/* A zero timeout_ms (or no options at all) is the client's
 * call_timeout_ms; VIRTWIRE_TIMEOUT_FOREVER waits beyond it. */
static void test_default_timeout(void)
{
    int fd = peer_start();
    virtwire_client_options o = VIRTWIRE_CLIENT_OPTIONS(.flags = VIRTWIRE_CLIENT_NO_OPEN,
                                                        .call_timeout_ms = 200);
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_adopt(fd, 1, &o, &c), 0);
    if (!c)
        return;
    for (int with_opts = 0; with_opts < 2; with_opts++) {
        pthread_mutex_lock(&P.m);
        P.hold_next = 1;
        pthread_mutex_unlock(&P.m);
        remote_connect_get_lib_version_ret r = { 0 };
        virtwire_call_opts zero = VIRTWIRE_CALL_OPTS();
        uint64_t t0 = vt_now_ms();
        CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION,
                                      NULL, &r, with_opts ? &zero : NULL),
                 VIRTWIRE_ETIMEDOUT);
        uint64_t took = vt_now_ms() - t0;
        CHECK_MSG(took >= 190 && took < 1500, "with_opts %d: %llu ms", with_opts,
                  (unsigned long long)took);
    }
    static async_box b = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };
    pthread_mutex_lock(&P.m);
    P.hold_next = 1;
    pthread_mutex_unlock(&P.m);
    virtwire_call_opts forever = VIRTWIRE_CALL_OPTS(.timeout_ms = VIRTWIRE_TIMEOUT_FOREVER);
    CHECK_RC(virtwire_client_call_async(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION,
                                        NULL, &forever, async_done, &b), 0);
    vt_sleep_ms(600);
    pthread_mutex_lock(&b.m);
    CHECK(b.done == 0);
    pthread_mutex_unlock(&b.m);
    /* The next call makes the peer answer the held one. */
    uint64_t v = 0;
    CHECK_RC(get_lib_version(c, 5000, &v), 0);
    CHECK(v == 222);
    /* Its callback runs on the I/O thread, maybe just after. */
    int done = 0;
    for (int i = 0; i < 200 && !done; i++) {
        pthread_mutex_lock(&b.m);
        done = b.done;
        pthread_mutex_unlock(&b.m);
        if (!done)
            vt_sleep_ms(10);
    }
    pthread_mutex_lock(&b.m);
    CHECK(b.done == 1 && b.rc == 0);
    pthread_mutex_unlock(&b.m);
    virtwire_client_close(c);
    peer_stop();
}

static void test_fds(void)
{
    virtwire_client *c = adopt_no_open();
    if (!c)
        return;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;

    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "hello", 5) == 5);
    remote_domain_create_with_files_args a = { { "d", { 0 }, 0 }, 0 };
    remote_domain_create_with_files_ret r;
    virtwire_call_opts co = { .size = sizeof co, .arena = &arena, .timeout_ms = 5000, .fds = &p[0], .nfds = 1 };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_CREATE_WITH_FILES, &a, &r,
                                  &co), 0);
    CHECK(strcmp(r.dom.name, "hello") == 0 && r.dom.id == 1);
    close(p[0]);
    close(p[1]);

    int got[2] = { -1, -1 };
    remote_domain_open_graphics_fd_args ga = { { "d", { 0 }, 0 }, 0, 0 };
    virtwire_call_opts go = { .size = sizeof go, .arena = &arena, .timeout_ms = 5000, .ret_fds = got,
                              .ret_fds_max = 2 };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD, &ga,
                                  NULL, &go), 0);
    CHECK(go.nret_fds == 1 && got[0] >= 0 && got[1] == -1);
    if (go.nret_fds == 1) {
        CHECK(write(got[0], "x", 1) == 1);
        close(got[0]);
        char ch = 0;
        pthread_mutex_lock(&P.m);
        CHECK(read(P.graphics_read_end, &ch, 1) == 1 && ch == 'x');
        pthread_mutex_unlock(&P.m);
    }
    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
    peer_stop();
}

static void test_streams(void)
{
    virtwire_client *c = adopt_no_open();
    if (!c)
        return;
    remote_nonnull_storage_vol vol = { "pool", "vol", "key" };

    /* Upload with a hole. */
    remote_storage_vol_upload_args ua = { vol, 0, 0, 1 /* SPARSE_STREAM */ };
    virtwire_client_stream *s = NULL;
    CHECK_RC(virtwire_client_stream_call(c, &remote_program, REMOTE_PROC_STORAGE_VOL_UPLOAD, &ua,
                                         NULL, NULL, &s), 0);
    CHECK_RC(virtwire_client_stream_send(s, "abc", 3), 0);
    CHECK_RC(virtwire_client_stream_send_hole(s, 1000), 0);
    CHECK_RC(virtwire_client_stream_send(s, "defg", 4), 0);
    CHECK_RC(virtwire_client_stream_finish(s, 5000, NULL), 0);
    CHECK_RC(virtwire_client_stream_send(s, "late", 4), VIRTWIRE_EINVAL);
    virtwire_client_stream_free(s);
    pthread_mutex_lock(&P.m);
    /* The empty CONTINUE is the end of data libvirt's client sends. */
    CHECK(strcmp(P.upload, "abc|H1000|defg|") == 0 && P.upload_ok == 1);
    P.upload[0] = 0;
    pthread_mutex_unlock(&P.m);

    /* Download with a hole. */
    remote_storage_vol_download_args da = { vol, 0, 0, 1 };
    CHECK_RC(virtwire_client_stream_call(c, &remote_program, REMOTE_PROC_STORAGE_VOL_DOWNLOAD, &da,
                                         NULL, NULL, &s), 0);
    char buf[16];
    int64_t hole = -1;
    CHECK(virtwire_client_stream_recv(s, buf, 2, &hole, 5000, NULL) == 2 && memcmp(buf, "ab", 2) == 0);
    CHECK(virtwire_client_stream_recv(s, buf, 16, &hole, 5000, NULL) == 1 && buf[0] == 'c');
    CHECK(virtwire_client_stream_recv(s, buf, 16, &hole, 5000, NULL) ==
              VIRTWIRE_CLIENT_STREAM_HOLE && hole == 5000);
    CHECK(virtwire_client_stream_recv(s, buf, 16, &hole, 5000, NULL) == 3 &&
          memcmp(buf, "xyz", 3) == 0 && hole == 0);
    CHECK(virtwire_client_stream_recv(s, buf, 16, &hole, 5000, NULL) == 0);
    CHECK_RC(virtwire_client_stream_finish(s, 5000, NULL), 0);
    virtwire_client_stream_free(s);
    /* The client's finish reached the peer (it echoed OK back). */
    pthread_mutex_lock(&P.m);
    CHECK(strcmp(P.upload, "") == 0);
    pthread_mutex_unlock(&P.m);

    /* A stream procedure is required. */
    CHECK_RC(virtwire_client_stream_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION,
                                         NULL, NULL, NULL, &s), VIRTWIRE_EINVAL);
    CHECK(virtwire_client_error(c) == 0);
    virtwire_client_close(c);
    peer_stop();
}

/* ---- events sent before the registration's reply ------------------------- */

typedef struct seen {
    pthread_mutex_t m;
    int n;
    int cb[16];
    char name[16][24];
} seen;

static void seen_add(seen *s, int cb, const char *name)
{
    pthread_mutex_lock(&s->m);
    if (s->n < 16) {
        s->cb[s->n] = cb;
        snprintf(s->name[s->n], sizeof s->name[0], "%s", name);
        s->n++;
    }
    pthread_mutex_unlock(&s->m);
}

static int seen_count(seen *s)
{
    pthread_mutex_lock(&s->m);
    int n = s->n;
    pthread_mutex_unlock(&s->m);
    return n;
}

static void typed_lifecycle(virtwire_client *c, const remote_domain_event_callback_lifecycle_msg *m,
                            void *opaque)
{
    (void)c;
    seen_add(opaque, m->callbackID, m->msg.dom.name);
}

/* Every lifecycle message the client receives, whatever its callbackID. */
static void raw_lifecycle(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                          const void *msg, void *opaque)
{
    const remote_domain_event_callback_lifecycle_msg *m = msg;
    (void)c, (void)prog, (void)proc;
    seen_add(opaque, m->callbackID, m->msg.dom.name);
}

/* Waits until s has n entries (5 s at most). */
static void wait_seen(seen *s, int n)
{
    uint64_t end = vt_now_ms() + 5000;
    while (seen_count(s) < n && vt_now_ms() < end)
        vt_sleep_ms(2);
}

static void test_early_events(int reply_delay_ms)
{
    int fd = peer_start();
    pthread_mutex_lock(&P.m);
    P.next_callback = 7;
    P.reply_delay_ms = reply_delay_ms;
    pthread_mutex_unlock(&P.m);
    virtwire_client *c = NULL;
    virtwire_client_options o = { .size = sizeof o, .call_timeout_ms = 5000 };
    CHECK_RC(virtwire_client_adopt(fd, 1, &o, &c), 0);
    if (!c) {
        peer_stop();
        return;
    }
    static seen all, mine, refused;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    memset(&all, 0, sizeof all);
    memset(&mine, 0, sizeof mine);
    memset(&refused, 0, sizeof refused);
    all.m = mine.m = refused.m = m;
    CHECK(virtwire_client_on_event(c, &remote_program, REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                                   raw_lifecycle, &all) > 0);

    /* The events of callbackID 7 sent before the reply are not lost, and
     * come first, in order; callbackID 999's never reach the handler. */
    remote_event_registration reg;
    virtwire_call_opts co = { .size = sizeof co, .timeout_ms = 5000 };
    CHECK_RC(remote_register_domain_event_lifecycle(c, &reg, NULL, typed_lifecycle, &mine, &co), 0);
    CHECK(reg.callback_id == 7 && reg.handler_id > 0);
    wait_seen(&all, 6);
    wait_seen(&mine, 4);
    vt_sleep_ms(50);
    CHECK(seen_count(&all) == 6);
    CHECK(seen_count(&mine) == 4);
    static const char *const want[] = { "early1", "early2", "late1", "late2" };
    for (int i = 0; i < 4 && i < mine.n; i++)
        CHECK(mine.cb[i] == 7 && strcmp(mine.name[i], want[i]) == 0);

    /* A refused registration: its error, and no handler left behind (the
     * events sent for its would-be callbackID 8 reach nobody but "all"). */
    virNetMessageError err;
    virtwire_call_opts eo = { .size = sizeof eo, .timeout_ms = 5000, .error = &err };
    remote_event_registration bad;
    remote_nonnull_domain dom = { "refused", { 0 }, -1 };
    CHECK_RC(remote_register_domain_event_lifecycle(c, &bad, &dom, typed_lifecycle, &refused, &eo),
             VIRTWIRE_EREMOTE);
    CHECK(err.code == 1 && err.message && strcmp(*err.message, "refused") == 0);
    virNetMessageError_free(&err);
    CHECK(bad.handler_id == 0);
    CHECK_RC(remote_deregister_event(c, &bad, NULL), VIRTWIRE_EINVAL);
    wait_seen(&all, 10);
    CHECK(seen_count(&all) == 10);

    /* Deregistered: the daemon learns the callbackID, and an event still in
     * flight does not reach the handler. */
    CHECK_RC(remote_deregister_event(c, &reg, &co), 0);
    CHECK_RC(remote_deregister_event(c, &reg, &co), VIRTWIRE_EINVAL);
    wait_seen(&all, 11);
    vt_sleep_ms(50);
    CHECK(seen_count(&all) == 11 && strcmp(all.name[10], "after-deregister") == 0);
    CHECK(seen_count(&mine) == 4 && seen_count(&refused) == 0);
    pthread_mutex_lock(&P.m);
    CHECK(P.deregistered == 7);
    pthread_mutex_unlock(&P.m);
    CHECK(virtwire_client_error(c) == 0);
    virtwire_client_close(c);
    peer_stop();
}

/* Events kept for the program's own thread (no handler function): taken in
 * order with remote_next_...(), only the registration's callbackID, early
 * ones included; a timeout when none is there; ECLOSED once the connection
 * died and none is left. */
static void test_queued_events(void)
{
    int fd = peer_start();
    pthread_mutex_lock(&P.m);
    P.next_callback = 7;
    pthread_mutex_unlock(&P.m);
    virtwire_client *c = NULL;
    virtwire_client_options o = VIRTWIRE_CLIENT_OPTIONS(.call_timeout_ms = 5000);
    CHECK_RC(virtwire_client_adopt(fd, 1, &o, &c), 0);
    if (!c) {
        peer_stop();
        return;
    }
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts co = VIRTWIRE_CALL_OPTS(.arena = &a);
    remote_event_registration reg;
    CHECK_RC(remote_register_domain_event_lifecycle(c, &reg, NULL, NULL, NULL, &co), 0);
    static const char *const want[] = { "early1", "early2", "late1", "late2" };
    for (int i = 0; i < 4; i++) {
        remote_domain_event_callback_lifecycle_msg m;
        CHECK_RC(remote_next_domain_event_callback_lifecycle(c, reg.handler_id, &m, &co), 0);
        CHECK(m.callbackID == 7 && m.msg.dom.name && strcmp(m.msg.dom.name, want[i]) == 0);
    }
    virtwire_call_opts quick = VIRTWIRE_CALL_OPTS(.timeout_ms = 100);
    remote_domain_event_callback_lifecycle_msg m;
    uint64_t t0 = vt_now_ms();
    CHECK_RC(remote_next_domain_event_callback_lifecycle(c, reg.handler_id, &m, &quick),
             VIRTWIRE_ETIMEDOUT);
    CHECK(vt_now_ms() - t0 >= 90);
    /* Not from a handler that has a function, nor a removed one. */
    static seen all;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    memset(&all, 0, sizeof all);
    all.m = mu;
    int id = virtwire_client_on_event(c, &remote_program, REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                                      raw_lifecycle, &all);
    CHECK_RC(virtwire_client_next_event(c, id, &m, &quick), VIRTWIRE_EINVAL);
    CHECK_RC(virtwire_client_remove_event(c, id), 0);
    CHECK_RC(remote_deregister_event(c, &reg, &co), 0);
    CHECK_RC(remote_next_domain_event_callback_lifecycle(c, reg.handler_id, &m, &quick),
             VIRTWIRE_EINVAL);
    /* Heap mode, kept events dropped with their handler, and death. */
    int q = virtwire_client_on_event(c, &remote_program, REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                                     NULL, NULL);
    CHECK(q > 0);
    remote_event_registration kept;
    CHECK_RC(remote_register_domain_event_lifecycle(c, &kept, NULL, NULL, NULL, &co), 0);
    /* Heap mode.  q takes every lifecycle event, other callbackIDs' too
     * (the peer's "other" ones, and the first registration's if they are
     * still on their way): the first of kept's callbackID is early1. */
    for (int i = 0; i < 8; i++) {
        CHECK_RC(virtwire_client_next_event(c, q, &m, NULL), 0);
        int mine = m.callbackID == kept.callback_id;
        if (mine)
            CHECK_MSG(m.msg.dom.name && strcmp(m.msg.dom.name, "early1") == 0, "first event %s",
                      m.msg.dom.name ? m.msg.dom.name : "(none)");
        remote_domain_event_callback_lifecycle_msg_free(&m);
        if (mine)
            break;
    }
    peer_stop(); /* the peer hangs up */
    int rc;
    while ((rc = virtwire_client_next_event(c, q, &m, NULL)) == 0)
        remote_domain_event_callback_lifecycle_msg_free(&m);
    CHECK_RC(rc, VIRTWIRE_ECLOSED);
    virtwire_client_close(c); /* frees what "kept" still holds */
    virtwire_arena_fini(&a);
}

int main(void)
{
    test_handshake();
    test_sized_options();
    test_release();
    test_auth_refused();
    test_timeouts();
    test_default_timeout();
    test_fds();
    test_streams();
    test_early_events(0);
    test_early_events(100);
    test_queued_events();
    return vt_finish("client.local");
}
