/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A peer that sends frames of the largest size libvirt allows (length word
 * 33554436: VIR_NET_MESSAGE_MAX of header and payload, plus the length
 * word) over and over: hundreds of MB pass, and the receiver's resident
 * memory (/proc/self/statm, /proc/PID/status VmRSS) must stay bounded,
 * that is grow by much less than one frame per frame.
 *
 *   client  a scripted server streams max-size STREAM packets that the
 *           client reads and checks (the server sends the next when the
 *           previous one has been read); then max-size frames the client
 *           drops: undecodable events (a handler registered), keepalive
 *           frames, packets of no open stream; a call still works.
 *   server  a raw client uploads max-size STREAM packets to the server
 *           (in this process), and sends max-size calls whose arguments do
 *           not decode (each answered with an error); a call still works.
 *   mockd   max-size calls to the example daemon: each gets libvirt's
 *           decoding error, the connection stays up, and the daemon's
 *           memory and fds stay as they were.
 *
 *   test_faults_maxframe GROUP [VIRTWIRE_MOCKD]
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flib.h"
#include "fsrv.h"
#include "remote_protocol.h"
#include "virtwire_client.h"
#include "vt_client.h"

#define FRAME_LEN ((size_t)VIR_NET_MESSAGE_MAX + 4) /* the length word's largest value */
#define PAYLOAD_LEN ((size_t)VIR_NET_MESSAGE_PAYLOAD_MAX)
#define KEEPALIVE_PROGRAM 0x6b656570u
#define MIB (1024.0 * 1024.0)
/* Resident growth allowed from the first frames to the last: well under
 * the size of the frames that passed meanwhile (hundreds of MB). */
#define GROWTH_KIB (80L * 1024)

static unsigned char *pattern; /* PAYLOAD_LEN bytes of pattern 1 */

static void make_pattern(void)
{
    pattern = malloc(PAYLOAD_LEN);
    flib_fill(pattern, PAYLOAD_LEN, 1, 0);
}

/* A max-size frame: header (prog, proc, type, serial, status) then the
 * payload from p (PAYLOAD_LEN bytes). */
static int send_max(int fd, uint32_t prog, int32_t proc, int type, uint32_t serial, int status,
                    const unsigned char *p)
{
    unsigned char h[28];
    vt_frame_header(h, prog, proc, type, serial, status, PAYLOAD_LEN);
    if (h[0] != 0x02 || h[1] != 0 || h[2] != 0 || h[3] != 0x04) /* 33554436 */
        return -1;
    return vt_write_all(fd, h, sizeof h) < 0 ? -1 : vt_write_all(fd, p, PAYLOAD_LEN);
}

/* ---- client --------------------------------------------------------------- */

#define CLIENT_STREAM_FRAMES 6
#define CLIENT_JUNK_FRAMES 5

/* Reads the reply to call `serial` whose arguments the peer could not
 * decode: an error, libvirt's "Unable to decode message payload". */
static void check_undecodable(int fd, uint32_t serial)
{
    vt_frame f;
    CHECK(vt_read_frame(fd, &f, 20000) == 0 && f.hdr.serial == serial &&
          f.hdr.status == VIR_NET_ERROR);
    virNetMessageError e;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    CHECK(virtwire_decode(&virNetMessageError_desc, f.payload, f.len, &arena, &e) == 0 &&
          e.code == VIRTWIRE_VIR_ERR_RPC && e.message &&
          strcmp(*e.message, "Unable to decode message payload") == 0);
    virtwire_arena_fini(&arena);
    vt_frame_free(&f);
}

static int consumed; /* stream frames the client has read */

static void script_client(flib_peer *p, int fd)
{
    int rc = vt_serve_handshake(fd, 0);
    vt_frame f;
    if (rc == 0)
        rc = vt_read_frame(fd, &f, 5000);
    if (rc < 0) {
        p->result = -1;
        return;
    }
    uint32_t serial = f.hdr.serial;
    int32_t proc = f.hdr.proc;
    vt_frame_free(&f);
    rc = vt_send_frame(fd, proc, VIR_NET_REPLY, serial, VIR_NET_OK, NULL, 0);
    for (int i = 0; i < CLIENT_STREAM_FRAMES && rc == 0; i++) {
        /* At most two frames ahead of the reader. */
        uint64_t t0 = vt_now_ms();
        while (__atomic_load_n(&consumed, __ATOMIC_SEQ_CST) < i - 1 && vt_now_ms() - t0 < 20000)
            vt_sleep_ms(1);
        rc = send_max(fd, REMOTE_PROGRAM, proc, VIR_NET_STREAM, serial, VIR_NET_CONTINUE, pattern);
    }
    /* End of data, the client's finish, our confirmation. */
    if (rc == 0)
        rc = vt_send_frame(fd, proc, VIR_NET_STREAM, serial, VIR_NET_CONTINUE, NULL, 0);
    if (rc == 0)
        rc = vt_read_frame(fd, &f, 20000);
    if (rc == 0) {
        rc = f.hdr.type == VIR_NET_STREAM && f.hdr.status == VIR_NET_OK ? 0 : -1;
        vt_frame_free(&f);
    }
    if (rc == 0)
        rc = vt_send_frame(fd, proc, VIR_NET_STREAM, serial, VIR_NET_OK, NULL, 0);

    /* A call: before its reply, max-size frames the client must drop. */
    if (rc == 0)
        rc = vt_read_frame(fd, &f, 20000);
    if (rc < 0) {
        p->result = -1;
        return;
    }
    unsigned char *junk = malloc(PAYLOAD_LEN);
    memset(junk, 0xff, PAYLOAD_LEN); /* a string length far above any bound */
    for (int i = 0; i < CLIENT_JUNK_FRAMES && rc == 0; i++) {
        if (i % 3 == 0)
            rc = send_max(fd, REMOTE_PROGRAM, REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                          VIR_NET_MESSAGE, 1, VIR_NET_OK, junk);
        else if (i % 3 == 1)
            rc = send_max(fd, KEEPALIVE_PROGRAM, 2, VIR_NET_MESSAGE, 0, VIR_NET_OK, junk);
        else
            rc = send_max(fd, REMOTE_PROGRAM, proc, VIR_NET_STREAM, 9999, VIR_NET_CONTINUE, junk);
    }
    free(junk);
    remote_connect_get_lib_version_ret r = { 77 };
    if (rc == 0)
        rc = vt_send_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK,
                           &remote_connect_get_lib_version_ret_desc, &r);
    vt_frame_free(&f);
    /* CONNECT_CLOSE */
    if (rc == 0 && vt_read_frame(fd, &f, 20000) == 0) {
        rc = vt_send_frame(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK, NULL, 0);
        vt_frame_free(&f);
    }
    p->result = rc;
}

static int events;

static void test_client(void)
{
    make_pattern();
    int fds0 = vt_count_fds(0);
    long r0 = vt_rss_kib(0);
    flib_peer p;
    flib_peer_start(&p, "max", script_client, NULL);
    char uri[200];
    snprintf(uri, sizeof uri, "test+unix:///default?socket=%s", p.path);
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_connect(uri, NULL, &c), 0);
    if (!c) {
        flib_peer_join(&p);
        return;
    }
    CHECK(virtwire_client_on_event(c, &remote_program, REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                                   vt_count_event, &events) > 0);
    char *s = (char *)"x";
    remote_storage_vol_download_args da = { { s, s, s }, 0, 0, 0 };
    virtwire_client_stream *st = NULL;
    CHECK_RC(virtwire_client_stream_call(c, &remote_program, REMOTE_PROC_STORAGE_VOL_DOWNLOAD, &da,
                                         NULL, NULL, &st),
             0);
    static unsigned char buf[1 << 20];
    uint64_t total = 0;
    long n = 0, r_warm = -1, r_peak = 0;
    while (st && (n = virtwire_client_stream_recv(st, buf, sizeof buf, NULL, 20000, NULL)) > 0) {
        size_t at = (size_t)(total % PAYLOAD_LEN);
        if (at + (size_t)n > PAYLOAD_LEN || memcmp(buf, pattern + at, (size_t)n) != 0) {
            CHECK(!"stream data intact");
            break;
        }
        total += (uint64_t)n;
        if (total % PAYLOAD_LEN == 0) {
            int done = (int)(total / PAYLOAD_LEN);
            __atomic_store_n(&consumed, done, __ATOMIC_SEQ_CST);
            long r = vt_rss_kib(0);
            if (done == 2)
                r_warm = r;
            if (r > r_peak)
                r_peak = r;
        }
    }
    CHECK_RC(n, 0);
    CHECK(total == (uint64_t)CLIENT_STREAM_FRAMES * PAYLOAD_LEN);
    if (st) {
        CHECK_RC(virtwire_client_stream_finish(st, 20000, NULL), 0);
        virtwire_client_stream_free(st);
    }
    long r_stream = vt_rss_kib(0);
    remote_connect_get_lib_version_ret lv = { 0 };
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = 30000 };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                  &lv, &o),
             0);
    CHECK(lv.lib_ver == 77);
    CHECK_RC(virtwire_client_error(c), 0);
    long r_end = vt_rss_kib(0);
    virtwire_client_close(c);
    flib_peer_join(&p);
    CHECK(p.result == 0);
    CHECK(__atomic_load_n(&events, __ATOMIC_SEQ_CST) == 0);
    double mb = (double)(CLIENT_STREAM_FRAMES + CLIENT_JUNK_FRAMES) * FRAME_LEN / MIB;
    printf("client: %.0f MiB in max-size frames; RSS %ld KiB at start, %ld after 2 frames, "
           "peak %ld, %ld after the stream, %ld after the dropped frames\n",
           mb, r0, r_warm, r_peak, r_stream, r_end);
    CHECK(r_warm > 0 && r_peak - r_warm < GROWTH_KIB && r_end - r_warm < GROWTH_KIB);
    CHECK_RC(vt_count_fds(0), fds0);
    free(pattern);
}

/* ---- server --------------------------------------------------------------- */

#define SERVER_STREAM_FRAMES 6
#define SERVER_CALL_FRAMES 4
#define UP_SEED 3

static fsrv S;

static int packets_at_least(int n)
{
    uint64_t t0 = vt_now_ms();
    while (fsrv_get(&S.st.up_data) < n && vt_now_ms() - t0 < 20000)
        vt_sleep_ms(1);
    return fsrv_get(&S.st.up_data) >= n;
}

/* Puts pattern UP_SEED at the bytes the server's sampled check reads. */
static void fill_sampled(unsigned char *p, size_t n, uint64_t off)
{
    for (size_t i = 0; i < n; i += 4096)
        p[i] = flib_pattern(UP_SEED, off + i);
    p[n - 1] = flib_pattern(UP_SEED, off + n - 1);
}

static void test_server(void)
{
    fsrv_init(&S, "srv", 0);
    S.sampled = 1;
    fsrv_start(&S);
    unsigned char *frame = malloc(PAYLOAD_LEN);
    memset(frame, 0xff, PAYLOAD_LEN);
    int fds0 = vt_count_fds(0);
    long r0 = vt_rss_kib(0), r_warm = -1, r_peak = 0;

    int fd = vt_connect_unix(S.path);
    char *s = (char *)"x";
    remote_storage_vol_upload_args ua = { { s, s, s }, UP_SEED, 0, 0 };
    CHECK(vt_send_value(fd, REMOTE_PROC_STORAGE_VOL_UPLOAD, VIR_NET_CALL, 1, VIR_NET_OK,
                        &remote_storage_vol_upload_args_desc, &ua) == 0);
    vt_frame f;
    CHECK(vt_read_frame(fd, &f, 5000) == 0 && f.hdr.status == VIR_NET_OK);
    vt_frame_free(&f);
    for (int i = 0; i < SERVER_STREAM_FRAMES; i++) {
        fill_sampled(frame, PAYLOAD_LEN, (uint64_t)i * PAYLOAD_LEN);
        CHECK(send_max(fd, REMOTE_PROGRAM, REMOTE_PROC_STORAGE_VOL_UPLOAD, VIR_NET_STREAM, 1,
                       VIR_NET_CONTINUE, frame) == 0);
        CHECK(packets_at_least(i + 1));
        long r = vt_rss_kib(0);
        if (i == 1)
            r_warm = r;
        if (r > r_peak)
            r_peak = r;
    }
    CHECK(vt_send_frame(fd, REMOTE_PROC_STORAGE_VOL_UPLOAD, VIR_NET_STREAM, 1, VIR_NET_OK, NULL,
                        0) == 0);
    CHECK(vt_read_frame(fd, &f, 20000) == 0 && f.hdr.type == VIR_NET_STREAM &&
          f.hdr.status == VIR_NET_OK);
    vt_frame_free(&f);
    CHECK(fsrv_get(&S.st.up_bad) == 0 && fsrv_get(&S.st.up_finished) == 1);
    CHECK(fsrv_get64(&S.st.up_bytes) == (uint64_t)SERVER_STREAM_FRAMES * PAYLOAD_LEN);

    /* Calls whose string argument is far above its bound. */
    memset(frame, 0xff, PAYLOAD_LEN);
    for (int i = 0; i < SERVER_CALL_FRAMES; i++) {
        CHECK(send_max(fd, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_DOMAIN_XML_FROM_NATIVE,
                       VIR_NET_CALL, 10u + (uint32_t)i, VIR_NET_OK, frame) == 0);
        check_undecodable(fd, 10u + (uint32_t)i);
        long r = vt_rss_kib(0);
        if (r > r_peak)
            r_peak = r;
    }
    int calls = fsrv_get(&S.st.calls);
    CHECK(vt_send_value(fd, REMOTE_PROC_CONNECT_GET_LIB_VERSION, VIR_NET_CALL, 99, VIR_NET_OK,
                        NULL, NULL) == 0);
    CHECK(vt_read_frame(fd, &f, 5000) == 0 && f.hdr.serial == 99 && f.hdr.status == VIR_NET_OK);
    vt_frame_free(&f);
    CHECK(fsrv_get(&S.st.calls) == calls + 1);
    long r_end = vt_rss_kib(0);
    close(fd);
    uint64_t t0 = vt_now_ms();
    while (fsrv_get(&S.st.closed) < 1 && vt_now_ms() - t0 < 5000)
        vt_sleep_ms(2);
    fsrv_stop(&S);
    CHECK(S.st.closed == 1 && S.st.last_error == VIRTWIRE_ECLOSED);
    double mb = (double)(SERVER_STREAM_FRAMES + SERVER_CALL_FRAMES) * FRAME_LEN / MIB;
    printf("server: %.0f MiB in max-size frames; RSS %ld KiB at start, %ld after 2 frames, "
           "peak %ld, %ld at the end\n",
           mb, r0, r_warm, r_peak, r_end);
    CHECK(r_warm > 0 && r_peak - r_warm < GROWTH_KIB && r_end - r_warm < GROWTH_KIB);
    free(frame);
    fsrv_free(&S);
    CHECK_RC(vt_count_fds(0), fds0 - 3); /* the listener, the wake-up pipe */
}

/* ---- the example daemon --------------------------------------------------- */

#define MOCKD_FRAMES 10

static void test_mockd(void)
{
    vt_mockd d;
    flib_mockd_start(&d, "mockd", NULL);
    int fd = vt_connect_unix(d.path);
    CHECK(vt_client_handshake(fd) == 0);
    unsigned char *frame = malloc(PAYLOAD_LEN);
    memset(frame, 0xff, PAYLOAD_LEN);
    int dfds0 = vt_count_fds(d.pid);
    long r_warm = -1, r_peak = 0;
    for (int i = 0; i < MOCKD_FRAMES; i++) {
        CHECK(send_max(fd, REMOTE_PROGRAM, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, VIR_NET_CALL,
                       10u + (uint32_t)i, VIR_NET_OK, frame) == 0);
        check_undecodable(fd, 10u + (uint32_t)i);
        long r = vt_rss_kib(d.pid);
        if (i == 1)
            r_warm = r;
        if (r > r_peak)
            r_peak = r;
    }
    /* Still serving this connection. */
    remote_domain_lookup_by_name_args la = { (char *)"vm2" };
    CHECK(vt_send_value(fd, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, VIR_NET_CALL, 99, VIR_NET_OK,
                        &remote_domain_lookup_by_name_args_desc, &la) == 0);
    vt_frame f;
    CHECK(vt_read_frame(fd, &f, 5000) == 0 && f.hdr.serial == 99 && f.hdr.status == VIR_NET_OK);
    vt_frame_free(&f);
    long r_end = vt_rss_kib(d.pid);
    CHECK_RC(vt_count_fds(d.pid), dfds0);
    close(fd);
    printf("mockd: %.0f MiB in max-size calls; daemon RSS %ld KiB after 2 frames, peak %ld, "
           "%ld at the end\n",
           (double)MOCKD_FRAMES * FRAME_LEN / MIB, r_warm, r_peak, r_end);
    CHECK(r_warm > 0 && r_peak - r_warm < GROWTH_KIB && r_end - r_warm < GROWTH_KIB);
    free(frame);
    CHECK_RC(vt_mockd_stop(&d), 0);
}

int main(int argc, char **argv)
{
    static const vt_group groups[] = {
        { "client", test_client },
        { "server", test_server },
        { "mockd", test_mockd },
        { NULL, NULL },
    };
    return flib_main(argc, argv, groups);
}
