/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * EINTR: a signal handler installed without SA_RESTART, and every thread
 * of the process (callers, the client's I/O thread, the server's loop)
 * sent a signal every 100 microseconds while the client and the server
 * talk over a unix socket: connect and handshake with own keepalive PINGs,
 * synchronous calls from four threads, large asynchronous calls, calls
 * passing fds, a 4 MiB upload and a 4 MiB download, and a call that
 * times out.  Every result must be right, the timeout must expire on time,
 * the connection must stay up, and no fd may be left open.
 *
 * The same storm over two bare connections (virtwire_conn.h) on a
 * socketpair with small buffers: one writes 64 KiB frames with
 * virtwire_conn_flush() (blocking in poll()), the other reads them with
 * virtwire_conn_run_once(); every frame arrives intact and in order.
 *
 *   test_faults_eintr calls|conn
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flib.h"
#include "fsrv.h"
#include "remote_protocol.h"
#include "virtwire_client.h"
#include "virtwire_conn.h"

#define NTHREADS 4
#define NCALLS 150
#define NBIG 24
#define BIG_LEN 100000
#define NFDCALLS 40
#define STREAM_LEN ((uint64_t)4 << 20)

static virtwire_client *C;

static void *sync_caller(void *arg)
{
    int *bad = arg;
    for (int i = 0; i < NCALLS; i++) {
        uint64_t lib_ver;
        int rc = flib_lib_version(C, 20000, &lib_ver);
        if (rc != 0 || lib_ver != 42) {
            fprintf(stderr, "call %d: %s, %llu\n", i, vt_error_name(rc),
                    (unsigned long long)lib_ver);
            (*bad)++;
        }
    }
    return NULL;
}

static void *fd_caller(void *arg)
{
    int *bad = arg;
    char *name = (char *)"test";
    for (int i = 0; i < NFDCALLS; i++) {
        int fds[3];
        for (int k = 0; k < 3; k++)
            fds[k] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        remote_domain_create_with_files_args a = { { name, { 0 }, 1 }, 0 };
        remote_domain_create_with_files_ret r;
        virtwire_arena arena = VIRTWIRE_ARENA_INIT;
        virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = 20000, .fds = fds, .nfds = 3 };
        int rc = virtwire_client_call(C, &remote_program, REMOTE_PROC_DOMAIN_CREATE_WITH_FILES, &a,
                                      &r, &o);
        if (rc != 0 || r.dom.id != 3 || strcmp(r.dom.name, "test") != 0)
            (*bad)++;
        virtwire_arena_fini(&arena);
        for (int k = 0; k < 3; k++)
            close(fds[k]);
    }
    return NULL;
}

static void test_calls(void)
{
    fsrv S;
    fsrv_init(&S, "srv", 0);
    int fds0 = vt_count_fds(0);
    fsrv_start(&S);
    flib_storm_start(SIGUSR1, 100);

    char uri[200];
    snprintf(uri, sizeof uri, "test+unix:///default?socket=%s", S.path);
    virtwire_client_options co = { .size = sizeof co, .keepalive_interval_ms = 100, .keepalive_count = 2 };
    CHECK_RC(virtwire_client_connect(uri, &co, &C), 0);
    if (!C) {
        flib_storm_stop();
        fsrv_free(&S);
        return;
    }

    /* Large asynchronous calls, answered while the rest goes on. */
    flib_texts b;
    flib_texts_init(&b, BIG_LEN, 0, NBIG);
    char *texts[NBIG];
    for (int i = 0; i < NBIG; i++) {
        texts[i] = flib_text(BIG_LEN, (uint32_t)i);
        remote_connect_domain_xml_from_native_args a = { (char *)"n", texts[i], 0 };
        virtwire_call_opts o = { .size = sizeof o, .timeout_ms = 20000 };
        CHECK_RC(virtwire_client_call_async(C, &remote_program,
                                            REMOTE_PROC_CONNECT_DOMAIN_XML_FROM_NATIVE, &a, &o,
                                            flib_texts_done, &b),
                 0);
    }

    pthread_t th[NTHREADS + 1];
    int bad[NTHREADS + 1] = { 0 };
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, sync_caller, &bad[i]);
    pthread_create(&th[NTHREADS], NULL, fd_caller, &bad[NTHREADS]);

    /* Upload, then download, on this thread meanwhile. */
    char *s = (char *)"x";
    remote_storage_vol_upload_args ua = { { s, s, s }, 61, STREAM_LEN, 0 };
    virtwire_client_stream *st = NULL;
    CHECK_RC(virtwire_client_stream_call(C, &remote_program, REMOTE_PROC_STORAGE_VOL_UPLOAD, &ua,
                                         NULL, NULL, &st),
             0);
    static unsigned char buf[100000];
    for (uint64_t off = 0; st && off < STREAM_LEN;) {
        size_t n = STREAM_LEN - off < sizeof buf ? (size_t)(STREAM_LEN - off) : sizeof buf;
        flib_fill(buf, n, 61, off);
        CHECK_RC(virtwire_client_stream_send(st, buf, n), 0);
        off += n;
    }
    if (st) {
        CHECK_RC(virtwire_client_stream_finish(st, 20000, NULL), 0);
        virtwire_client_stream_free(st);
    }
    remote_storage_vol_download_args da = { { s, s, s }, 62, STREAM_LEN, 0 };
    st = NULL;
    CHECK_RC(virtwire_client_stream_call(C, &remote_program, REMOTE_PROC_STORAGE_VOL_DOWNLOAD, &da,
                                         NULL, NULL, &st),
             0);
    uint64_t got = 0;
    long n = 0;
    while (st && (n = virtwire_client_stream_recv(st, buf, sizeof buf, NULL, 20000, NULL)) > 0) {
        if (!flib_check(buf, (size_t)n, 62, got))
            break;
        got += (uint64_t)n;
    }
    CHECK_RC(n, 0);
    CHECK(got == STREAM_LEN);
    if (st) {
        CHECK_RC(virtwire_client_stream_finish(st, 20000, NULL), 0);
        virtwire_client_stream_free(st);
    }

    /* A call the server keeps: its timeout, neither cut short nor
     * stretched by the signals. */
    uint64_t t0 = vt_now_ms();
    remote_connect_get_hostname_ret hr;
    virtwire_call_opts ho = { .size = sizeof ho, .timeout_ms = 300 };
    CHECK_RC(virtwire_client_call(C, &remote_program, REMOTE_PROC_CONNECT_GET_HOSTNAME, NULL, &hr,
                                  &ho),
             VIRTWIRE_ETIMEDOUT);
    uint64_t took = vt_now_ms() - t0;
    CHECK(took >= 300 && took < 1000);

    for (int i = 0; i <= NTHREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_RC(bad[i], 0);
    }
    flib_texts_check(&b, 20000);
    CHECK_RC(virtwire_client_error(C), 0);
    virtwire_client_close(C);
    for (int i = 0; i < NBIG; i++)
        free(texts[i]);

    unsigned long signals = flib_storm_stop();
    fsrv_stop(&S);
    printf("calls: %lu signals handled; %d calls, %llu bytes up, %llu bytes down\n", signals,
           S.st.calls, (unsigned long long)S.st.up_bytes, (unsigned long long)got);
    CHECK(signals > 1000);
    CHECK(S.st.up_bytes == STREAM_LEN && S.st.up_bad == 0 && S.st.up_finished == 1);
    CHECK(S.st.down_eof == 1 && S.st.down_finished == 1);
    CHECK(S.st.fds_calls == NFDCALLS);
    CHECK(S.st.closed == 1 && S.st.last_error == VIRTWIRE_ECLOSED);
    fsrv_free(&S);
    CHECK_RC(vt_count_fds(0), fds0 - 3); /* the listener and the wake-up pipe too */
}

#define CONN_FRAMES 250
#define CONN_LEN 65536

typedef struct receiver {
    virtwire_conn *conn;
    int frames, bad;
} receiver;

static int on_call(virtwire_transport_program *p, const virtwire_transport_msg *m, void *opaque)
{
    (void)p;
    receiver *r = opaque;
    if (m->hdr.serial != (uint32_t)r->frames || m->payload_len != CONN_LEN ||
        !flib_check(m->payload, m->payload_len, (uint32_t)r->frames, 0))
        r->bad++;
    r->frames++;
    return 0;
}

static void *receiver_main(void *arg)
{
    receiver *r = arg;
    while (r->frames < CONN_FRAMES && r->bad == 0) {
        int rc = virtwire_conn_run_once(r->conn, 10000);
        if (rc < 0) {
            fprintf(stderr, "receiver: %s\n", vt_error_name(rc));
            r->bad++;
        }
    }
    return NULL;
}

static void test_conn(void)
{
    int fds0 = vt_count_fds(0);
    static const virtwire_transport_program_callbacks recv_cbs = { .size = sizeof recv_cbs, .on_call = on_call };
    virtwire_conn *a, *b;
    virtwire_transport_program *tp, *rp;
    receiver r = { NULL, 0, 0 };
    flib_conn_pair(4096, 4096, &a, &tp, &b, &rp, &recv_cbs, &r);
    r.conn = b;
    flib_storm_start(SIGUSR1, 100);
    pthread_t th;
    pthread_create(&th, NULL, receiver_main, &r);
    static unsigned char buf[CONN_LEN];
    int queued = 0;
    for (int i = 0; i < CONN_FRAMES; i++) {
        flib_fill(buf, sizeof buf, (uint32_t)i, 0);
        CHECK_RC(virtwire_transport_send(tp, REMOTE_PROC_CONNECT_GET_LIB_VERSION, VIR_NET_CALL,
                                         VIR_NET_OK, 0, buf, sizeof buf, NULL, 0),
                 i);
        queued += virtwire_conn_pending_output(a) > 0;
        CHECK_RC(virtwire_conn_flush(a, 10000), 0);
    }
    pthread_join(th, NULL);
    unsigned long signals = flib_storm_stop();
    printf("conn: %lu signals handled; %d frames intact, %d writes short\n", signals, r.frames,
           queued);
    CHECK(signals > 1000);
    CHECK(r.frames == CONN_FRAMES && r.bad == 0 && queued > 0);
    virtwire_conn_free(a);
    virtwire_conn_free(b);
    CHECK_RC(vt_count_fds(0), fds0);
}

int main(int argc, char **argv)
{
    static const vt_group groups[] = {
        { "calls", test_calls },
        { "conn", test_conn },
        { NULL, NULL },
    };
    return flib_main(argc, argv, groups);
}
