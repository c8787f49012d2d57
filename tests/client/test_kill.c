/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connection death against a real libvirtd 9.0.0:
 *   - own keepalive PINGs keep an idle connection alive for three intervals
 *     and more;
 *   - a frozen daemon (SIGSTOP) stops answering PINGs: the connection dies
 *     with VIRTWIRE_EKEEPALIVE and the call in flight fails;
 *   - the daemon killed (SIGKILL) while 8 threads and an asynchronous call
 *     wait for replies: every one fails with VIRTWIRE_ECLOSED within 1 s,
 *     on_close runs once, and later calls fail at once.
 *
 *   test_client_kill PRIVATE_LIBVIRTD_SCRIPT
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "remote_protocol.h"
#include "virtwire_client.h"
#include "vt_check.h"
#include "vt_daemon.h"
#include "vt_sys.h"

#define NTHREADS 8

static vt_libvirtd daemon_;

static int lib_version(virtwire_client *c, int timeout_ms)
{
    remote_connect_get_lib_version_ret r;
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = timeout_ms };
    return virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL, &r,
                                &o);
}

static void test_keepalive_alive(void)
{
    virtwire_client_options opts = { .size = sizeof opts, .keepalive_interval_ms = 200, .keepalive_count = 2 };
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_connect(daemon_.uri, &opts, &c), 0);
    if (!c)
        return;
    /* Silence for 1 s = 5 intervals: more than interval x (count + 1)
     * without the daemon's PONGs would kill the connection. */
    vt_sleep_ms(1000);
    CHECK(virtwire_client_error(c) == 0);
    CHECK_RC(lib_version(c, 5000), 0);
    virtwire_client_close(c);
}

static void test_keepalive_dead(pid_t pid)
{
    virtwire_client_options opts = { .size = sizeof opts, .keepalive_interval_ms = 100, .keepalive_count = 2 };
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_connect(daemon_.uri, &opts, &c), 0);
    if (!c)
        return;
    CHECK(kill(pid, SIGSTOP) == 0);
    uint64_t t0 = vt_now_ms();
    /* No limit of its own: only the keepalive can end this call. */
    CHECK_RC(lib_version(c, VIRTWIRE_TIMEOUT_FOREVER), VIRTWIRE_ECLOSED);
    uint64_t took = vt_now_ms() - t0;
    CHECK(kill(pid, SIGCONT) == 0);
    printf("keepalive death after %llu ms\n", (unsigned long long)took);
    CHECK(took >= 250 && took < 3000); /* about 100 x (2 + 1) */
    CHECK_RC(virtwire_client_error(c), VIRTWIRE_EKEEPALIVE);
    CHECK_RC(lib_version(c, 5000), VIRTWIRE_ECLOSED);
    virtwire_client_close(c);
}

typedef struct blocked {
    virtwire_client *c;
    int rc;
    uint64_t returned;
} blocked;

static void *blocked_call(void *arg)
{
    blocked *b = arg;
    b->rc = lib_version(b->c, 30000);
    b->returned = vt_now_ms();
    return NULL;
}

typedef struct closed_state {
    pthread_mutex_t m;
    int calls, reason, async_rc, async_done;
} closed_state;

static closed_state cs = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };

static void on_closed(virtwire_client *c, int reason, void *opaque)
{
    (void)c;
    (void)opaque;
    pthread_mutex_lock(&cs.m);
    cs.calls++;
    cs.reason = reason;
    pthread_mutex_unlock(&cs.m);
}

static void async_done(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    (void)c;
    (void)opaque;
    pthread_mutex_lock(&cs.m);
    cs.async_rc = r->rc;
    cs.async_done++;
    pthread_mutex_unlock(&cs.m);
}

static void test_kill(pid_t pid)
{
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_connect(daemon_.uri, NULL, &c), 0);
    if (!c)
        return;
    virtwire_client_on_close(c, on_closed, NULL);
    /* Frozen first, so that every call is surely in flight when it dies. */
    CHECK(kill(pid, SIGSTOP) == 0);
    pthread_t th[NTHREADS];
    blocked b[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        b[i] = (blocked){ c, 1, 0 };
        CHECK(pthread_create(&th[i], NULL, blocked_call, &b[i]) == 0);
    }
    CHECK_RC(virtwire_client_call_async(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION,
                                        NULL, NULL, async_done, NULL), 0);
    vt_sleep_ms(300);
    for (int i = 0; i < NTHREADS; i++)
        CHECK(b[i].returned == 0); /* all still waiting */
    uint64_t killed = vt_now_ms();
    CHECK(kill(pid, SIGKILL) == 0);
    uint64_t worst = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_RC(b[i].rc, VIRTWIRE_ECLOSED);
        if (b[i].returned - killed > worst)
            worst = b[i].returned - killed;
    }
    printf("all %d calls failed %llu ms after the kill\n", NTHREADS, (unsigned long long)worst);
    CHECK(worst < 1000);
    uint64_t t0 = vt_now_ms();
    CHECK_RC(lib_version(c, VIRTWIRE_TIMEOUT_FOREVER), VIRTWIRE_ECLOSED);
    CHECK(vt_now_ms() - t0 < 100);
    CHECK_RC(virtwire_client_call_async(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION,
                                        NULL, NULL, async_done, NULL), VIRTWIRE_ECLOSED);
    CHECK_RC(virtwire_client_error(c), VIRTWIRE_ECLOSED);
    virtwire_client_close(c);
    CHECK(cs.calls == 1 && cs.reason == VIRTWIRE_ECLOSED);
    CHECK(cs.async_done == 1 && cs.async_rc == VIRTWIRE_ECLOSED);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PRIVATE_LIBVIRTD_SCRIPT\n", argv[0]);
        return 2;
    }
    vt_libvirtd_start(&daemon_, argv[1], 0);
    pid_t pid = (pid_t)vt_libvirtd_pid(&daemon_);
    CHECK(pid > 1);
    if (pid <= 1)
        return vt_finish("client.kill");
    test_keepalive_alive();
    test_keepalive_dead(pid);
    test_kill(pid);
    vt_libvirtd_stop(&daemon_);
    return vt_finish("client.kill");
}
