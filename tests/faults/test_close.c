/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The peer closes mid-frame, mid-fd-sequence and mid-stream, over real
 * unix sockets.
 *
 * Client side (virtwire_client against a scripted server, flib_peer):
 * every call in flight (three synchronous, one asynchronous) fails with
 * VIRTWIRE_ECLOSED, on_close runs once, virtwire_client_error() says why
 * (VIRTWIRE_ECLOSED; VIRTWIRE_EFD_MISSING for a plain byte where an fd is
 * due), later calls fail at once with VIRTWIRE_ECLOSED (also while the
 * I/O thread has not seen the hang-up yet), a stream reports
 * VIRTWIRE_ECLOSED to recv, send and finish, and no fd is left open (fds
 * received before the cut are closed: the write ends of pipes passed in
 * come back as end of file).
 *
 * Server side (virtwire_server in this process against a scripted raw
 * client): the partial call is never dispatched, the client is dropped
 * with VIRTWIRE_ECLOSED (VIRTWIRE_EFD_MISSING for a plain byte where an fd
 * is due), also when it is at its limit of calls with more kept, its
 * stream's on_close runs, deferred calls can still be completed, and no fd
 * is left open.
 *
 *   test_faults_close client_frame|client_fds|client_stream|
 *                     server_frame|server_fds|server_stream
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flib.h"
#include "fsrv.h"
#include "remote_protocol.h"
#include "virtwire_client.h"

/* ---- client-side helpers -------------------------------------------------- */

typedef struct box {
    pthread_mutex_t m;
    int n;
    int rc;
} box;

static void box_init(box *b)
{
    pthread_mutex_init(&b->m, NULL);
    b->n = 0;
    b->rc = 0;
}

static void box_put(box *b, int rc)
{
    pthread_mutex_lock(&b->m);
    b->n++;
    b->rc = rc;
    pthread_mutex_unlock(&b->m);
}

/* Waits up to timeout_ms for n; returns the count. */
static int box_wait(box *b, int n, int timeout_ms)
{
    uint64_t end = vt_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        pthread_mutex_lock(&b->m);
        int got = b->n;
        pthread_mutex_unlock(&b->m);
        if (got >= n || vt_now_ms() >= end)
            return got;
        vt_sleep_ms(2);
    }
}

static void on_close_cb(virtwire_client *c, int why, void *opaque)
{
    (void)c;
    box_put(opaque, why);
}

static void on_done_cb(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    (void)c;
    box_put(opaque, r->rc);
}

static virtwire_client *connect_to(const flib_peer *p)
{
    char uri[256];
    snprintf(uri, sizeof uri, "test+unix:///default?socket=%s", p->path);
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_connect(uri, NULL, &c), 0);
    return c;
}

/* Reads n CALL frames; returns the serial of the last, or -1. */
static int64_t read_calls(int fd, int n)
{
    int64_t serial = -1;
    for (int i = 0; i < n; i++) {
        vt_frame f;
        if (vt_read_frame(fd, &f, 5000) < 0)
            return -1;
        serial = f.hdr.serial;
        vt_frame_free(&f);
    }
    return serial;
}

/* ---- client: mid-frame ---------------------------------------------------- */

typedef struct cut_script {
    size_t cut;      /* bytes of the reply written before closing */
    size_t big_len;  /* non-zero: announce a reply of this many bytes instead */
    uint64_t closed_at;
} cut_script;

#define NSYNC 3

static void script_cut(flib_peer *p, int fd)
{
    cut_script *cs = p->arg;
    int64_t serial = vt_serve_handshake(fd, 0) < 0 ? -1 : read_calls(fd, NSYNC + 1);
    if (serial < 0) {
        p->result = -1;
        return;
    }
    unsigned char *b;
    size_t len;
    if (cs->big_len) {
        len = cs->big_len;
        b = calloc(1, len);
        vt_frame_header(b, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_LIB_VERSION, VIR_NET_REPLY,
                        (uint32_t)serial, VIR_NET_OK, len - 28);
    } else {
        remote_connect_get_lib_version_ret r = { 7 };
        b = vt_build_value(REMOTE_PROC_CONNECT_GET_LIB_VERSION, VIR_NET_REPLY, (uint32_t)serial,
                           VIR_NET_OK, &remote_connect_get_lib_version_ret_desc, &r, &len);
    }
    if (cs->cut >= len || vt_write_all(fd, b, cs->cut) < 0)
        p->result = -1;
    free(b);
    vt_sleep_ms(30); /* the client reads the partial frame first */
    cs->closed_at = vt_now_ms();
}

static void client_cut(size_t cut, size_t big_len)
{
    printf("client: reply cut after %zu bytes%s\n", cut, big_len ? " of a big frame" : "");
    int fds0 = vt_count_fds(0);
    flib_peer p;
    cut_script cs = { cut, big_len, 0 };
    flib_peer_start(&p, "cut", script_cut, &cs);
    virtwire_client *c = connect_to(&p);
    if (!c) {
        flib_peer_join(&p);
        return;
    }
    box closed, done;
    box_init(&closed);
    box_init(&done);
    virtwire_client_on_close(c, on_close_cb, &closed);
    flib_caller k[NSYNC];
    for (int i = 0; i < NSYNC; i++)
        flib_caller_start(&k[i], c, 10000);
    virtwire_call_opts ao = { .size = sizeof ao, .timeout_ms = 10000 };
    CHECK_RC(virtwire_client_call_async(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION,
                                        NULL, &ao, on_done_cb, &done),
             0);
    for (int i = 0; i < NSYNC; i++) {
        flib_caller_join(&k[i]);
        CHECK_RC(k[i].rc, VIRTWIRE_ECLOSED);
    }
    flib_peer_join(&p);
    CHECK(p.result == 0);
    /* At once: within a second of the hang-up. */
    for (int i = 0; i < NSYNC; i++)
        CHECK(cs.closed_at && k[i].ended < cs.closed_at + 1000);
    CHECK(box_wait(&done, 1, 2000) == 1);
    CHECK_RC(done.rc, VIRTWIRE_ECLOSED);
    CHECK(box_wait(&closed, 1, 2000) == 1);
    CHECK_RC(closed.rc, VIRTWIRE_ECLOSED);
    CHECK_RC(virtwire_client_error(c), VIRTWIRE_ECLOSED);
    uint64_t t0 = vt_now_ms();
    CHECK_RC(flib_lib_version(c, 10000, NULL), VIRTWIRE_ECLOSED);
    CHECK(vt_now_ms() - t0 < 100);
    virtwire_client_close(c);
    vt_sleep_ms(20);
    CHECK(done.n == 1 && closed.n == 1);
    CHECK_RC(vt_count_fds(0), fds0);
}

static void test_client_frame(void)
{
    static const size_t cuts[] = { 0, 2, 4, 17, 28, 31 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        client_cut(cuts[i], 0);
    /* A big frame, part buffered. */
    client_cut(150000, 200028);
}

/* ---- client: mid-fd-sequence ---------------------------------------------- */

#define NFDS 3

typedef struct fds_script {
    int nsend;       /* fds sent of the NFDS announced; -1: a plain byte instead */
    int w[NFDS];     /* write ends of pipes to pass */
} fds_script;

static void script_fds(flib_peer *p, int fd)
{
    fds_script *fs = p->arg;
    int64_t serial = vt_serve_handshake(fd, 0) < 0 ? -1 : read_calls(fd, 1);
    if (serial < 0) {
        p->result = -1;
        return;
    }
    unsigned char b[32];
    vt_frame_header(b, REMOTE_PROGRAM, REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD, VIR_NET_REPLY_WITH_FDS,
                    (uint32_t)serial, VIR_NET_OK, 4);
    b[28] = b[29] = b[30] = 0;
    b[31] = NFDS;
    if (vt_write_all(fd, b, sizeof b) < 0)
        p->result = -1;
    if (fs->nsend < 0) {
        /* A plain byte where an fd is due: the client gives up; wait for
         * it to hang up. */
        char z = 0, buf[64];
        if (vt_write_all(fd, &z, 1) < 0)
            p->result = -1;
        while (read(fd, buf, sizeof buf) > 0)
            ;
        return;
    }
    for (int i = 0; i < fs->nsend; i++)
        if (vt_send_fd(fd, fs->w[i]) < 0)
            p->result = -1;
    vt_sleep_ms(30);
}

static void client_fds(int nsend)
{
    printf("client: %d of %d fds, then %s\n", nsend < 0 ? 0 : nsend, NFDS,
           nsend < 0 ? "a plain byte" : "close");
    int fds0 = vt_count_fds(0);
    fds_script fs = { nsend, { -1, -1, -1 } };
    int r[NFDS];
    for (int i = 0; i < NFDS; i++) {
        int pp[2];
        CHECK(pipe2(pp, O_CLOEXEC | O_NONBLOCK) == 0);
        r[i] = pp[0];
        fs.w[i] = pp[1];
    }
    flib_peer p;
    flib_peer_start(&p, "fds", script_fds, &fs);
    virtwire_client *c = connect_to(&p);
    if (c) {
        box closed;
        box_init(&closed);
        virtwire_client_on_close(c, on_close_cb, &closed);
        char *name = (char *)"test";
        remote_domain_open_graphics_fd_args a = { { name, { 0 }, 1 }, 0, 0 };
        int got[8];
        virtwire_call_opts o = { .size = sizeof o, .timeout_ms = 10000, .ret_fds = got, .ret_fds_max = 8 };
        CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD, &a,
                                      NULL, &o),
                 VIRTWIRE_ECLOSED);
        CHECK(o.nret_fds == 0);
        int why = nsend < 0 ? VIRTWIRE_EFD_MISSING : VIRTWIRE_ECLOSED;
        CHECK(box_wait(&closed, 1, 2000) == 1);
        CHECK_RC(closed.rc, why);
        CHECK_RC(virtwire_client_error(c), why);
        virtwire_client_close(c);
    }
    flib_peer_join(&p);
    CHECK(p.result == 0);
    /* Every copy of the write ends is closed: the client closed those it
     * had received. */
    for (int i = 0; i < NFDS; i++) {
        close(fs.w[i]);
        char ch;
        CHECK_RC(read(r[i], &ch, 1), 0);
        close(r[i]);
    }
    CHECK_RC(vt_count_fds(0), fds0);
}

static void test_client_fds(void)
{
    for (int n = 0; n < NFDS; n++)
        client_fds(n);
    client_fds(-1);
}

/* ---- client: mid-stream --------------------------------------------------- */

#define PKT 1000
#define SEED 5

static void script_download(flib_peer *p, int fd)
{
    int64_t serial = vt_serve_handshake(fd, 0) < 0 ? -1 : read_calls(fd, 1);
    if (serial < 0) {
        p->result = -1;
        return;
    }
    int32_t proc = REMOTE_PROC_STORAGE_VOL_DOWNLOAD;
    unsigned char data[PKT];
    int rc = vt_send_frame(fd, proc, VIR_NET_REPLY, (uint32_t)serial, VIR_NET_OK, NULL, 0);
    for (int i = 0; i < 3; i++) {
        flib_fill(data, PKT, SEED, (uint64_t)i * PKT);
        rc |= vt_send_frame(fd, proc, VIR_NET_STREAM, (uint32_t)serial, VIR_NET_CONTINUE, data,
                            PKT);
    }
    /* The client waits in recv for more. */
    vt_sleep_ms(100);
    unsigned char h[28];
    vt_frame_header(h, REMOTE_PROGRAM, proc, VIR_NET_STREAM, (uint32_t)serial, VIR_NET_CONTINUE,
                    PKT);
    rc |= vt_write_all(fd, h, sizeof h);
    rc |= vt_write_all(fd, data, PKT / 2);
    vt_sleep_ms(30);
    p->result = rc;
}

static void script_upload(flib_peer *p, int fd)
{
    int64_t serial = vt_serve_handshake(fd, 0) < 0 ? -1 : read_calls(fd, 1);
    if (serial < 0) {
        p->result = -1;
        return;
    }
    int rc = vt_send_frame(fd, REMOTE_PROC_STORAGE_VOL_UPLOAD, VIR_NET_REPLY, (uint32_t)serial,
                           VIR_NET_OK, NULL, 0);
    /* Two packets, checked, then hang up in the middle of the stream. */
    uint64_t off = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        vt_frame f;
        rc = vt_read_frame(fd, &f, 5000);
        if (rc == 0 && (f.hdr.type != VIR_NET_STREAM || f.hdr.status != VIR_NET_CONTINUE ||
                        !flib_check(f.payload, f.len, SEED, off)))
            rc = -1;
        off += f.len;
        vt_frame_free(&f);
    }
    p->result = rc;
}

static void client_upload_cut(void)
{
    printf("client: write stream, the server hangs up after two packets\n");
    int fds0 = vt_count_fds(0);
    char *s = (char *)"x";
    flib_peer p;
    flib_peer_start(&p, "up", script_upload, NULL);
    virtwire_client *c = connect_to(&p);
    if (c) {
        remote_storage_vol_upload_args ua = { { s, s, s }, 0, 0, 0 };
        virtwire_client_stream *st = NULL;
        CHECK_RC(virtwire_client_stream_call(c, &remote_program, REMOTE_PROC_STORAGE_VOL_UPLOAD,
                                             &ua, NULL, NULL, &st),
                 0);
        static unsigned char chunk[65536];
        uint64_t off = 0;
        int rc = 0;
        uint64_t t0 = vt_now_ms();
        /* Until the client notices: within a few socket buffers. */
        for (int i = 0; st && i < 4000 && rc == 0; i++) {
            flib_fill(chunk, sizeof chunk, SEED, off);
            rc = virtwire_client_stream_send(st, chunk, sizeof chunk);
            off += sizeof chunk;
            if (i >= 2 && rc == 0)
                vt_sleep_us(500);
        }
        CHECK_RC(rc, VIRTWIRE_ECLOSED);
        CHECK(vt_now_ms() - t0 < 3000);
        /* Whether or not the I/O thread has seen the hang-up yet. */
        CHECK_RC(flib_lib_version(c, 10000, NULL), VIRTWIRE_ECLOSED);
        if (st) {
            CHECK_RC(virtwire_client_stream_send(st, chunk, 10), VIRTWIRE_ECLOSED);
            CHECK_RC(virtwire_client_stream_finish(st, 10000, NULL), VIRTWIRE_ECLOSED);
            virtwire_client_stream_free(st);
        }
        uint64_t t1 = vt_now_ms();
        while (virtwire_client_error(c) == 0 && vt_now_ms() - t1 < 2000)
            vt_sleep_ms(2);
        CHECK_RC(virtwire_client_error(c), VIRTWIRE_ECLOSED);
        virtwire_client_close(c);
    }
    flib_peer_join(&p);
    CHECK(p.result == 0);
    CHECK_RC(vt_count_fds(0), fds0);
}

static void test_client_stream(void)
{
    int fds0 = vt_count_fds(0);
    char *s = (char *)"x";
    remote_storage_vol_download_args da = { { s, s, s }, 0, 0, 0 };

    printf("client: read stream cut in a packet\n");
    flib_peer p;
    flib_peer_start(&p, "down", script_download, NULL);
    virtwire_client *c = connect_to(&p);
    if (c) {
        virtwire_client_stream *st = NULL;
        CHECK_RC(virtwire_client_stream_call(c, &remote_program, REMOTE_PROC_STORAGE_VOL_DOWNLOAD,
                                             &da, NULL, NULL, &st),
                 0);
        unsigned char buf[4096];
        size_t total = 0;
        long n = 0;
        uint64_t t0 = vt_now_ms();
        while (st &&
               (n = virtwire_client_stream_recv(st, buf, sizeof buf, NULL, 10000, NULL)) > 0) {
            CHECK(flib_check(buf, (size_t)n, SEED, total));
            total += (size_t)n;
        }
        CHECK_RC(n, VIRTWIRE_ECLOSED);
        CHECK(vt_now_ms() - t0 < 2000);
        CHECK(total == 3 * PKT);
        if (st) {
            CHECK_RC(virtwire_client_stream_recv(st, buf, sizeof buf, NULL, 10000, NULL),
                     VIRTWIRE_ECLOSED);
            CHECK_RC(virtwire_client_stream_finish(st, 10000, NULL), VIRTWIRE_ECLOSED);
            CHECK_RC(virtwire_client_stream_abort(st), VIRTWIRE_ECLOSED);
            virtwire_client_stream_free(st);
        }
        CHECK_RC(virtwire_client_error(c), VIRTWIRE_ECLOSED);
        virtwire_client_close(c);
    }
    flib_peer_join(&p);
    CHECK(p.result == 0);
    CHECK_RC(vt_count_fds(0), fds0);

    /* The hang-up races with the client's sends: the I/O thread may or
     * may not have seen it when a send fails.  Several rounds. */
    for (int i = 0; i < 8; i++)
        client_upload_cut();
    CHECK_RC(vt_count_fds(0), fds0);
}

/* ---- server side ---------------------------------------------------------- */

static fsrv S;
static int want_closed, want_calls;

static int closed_reached(fsrv *s)
{
    return fsrv_get(&s->st.closed) >= want_closed;
}

static int calls_reached(fsrv *s)
{
    return fsrv_get(&s->st.calls) >= want_calls;
}

/* A raw client connected to S. */
static int raw_connect(void)
{
    int fd = vt_connect_unix(S.path);
    CHECK(fd >= 0);
    return fd;
}

/* Runs S until one more client has gone; checks why. */
static void expect_dropped(int why)
{
    want_closed = S.st.closed + 1;
    CHECK(fsrv_pump(&S, closed_reached, 3000));
    CHECK_RC(S.st.last_error, why);
    CHECK_RC(virtwire_server_nclients(S.srv), 0);
}

/* Sends a call and runs S until its handler ran. */
static void call_and_pump(int fd, int32_t proc, uint32_t serial, const virtwire_type *t,
                          const void *v)
{
    want_calls = S.st.calls + 1;
    CHECK(vt_send_value(fd, proc, VIR_NET_CALL, serial, VIR_NET_OK, t, v) == 0);
    CHECK(fsrv_pump(&S, calls_reached, 3000));
}

static void test_server_frame(void)
{
    fsrv_init(&S, "srv", 0);
    int fds0 = vt_count_fds(0);
    static const size_t cuts[] = { 0, 2, 4, 17, 27 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        printf("server: call cut after %zu bytes\n", cuts[i]);
        int fd = raw_connect();
        /* One whole call works ... */
        call_and_pump(fd, REMOTE_PROC_CONNECT_GET_LIB_VERSION, 1, NULL, NULL);
        vt_frame f;
        CHECK(vt_read_frame(fd, &f, 3000) == 0);
        remote_connect_get_lib_version_ret r = { 0 };
        CHECK(virtwire_decode(&remote_connect_get_lib_version_ret_desc, f.payload, f.len, NULL,
                              &r) == 0 &&
              r.lib_ver == 42);
        vt_frame_free(&f);
        /* ... the next is cut. */
        int calls = S.st.calls;
        unsigned char h[28];
        vt_frame_header(h, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_LIB_VERSION, VIR_NET_CALL, 2,
                        VIR_NET_OK, 0);
        CHECK(vt_write_all(fd, h, cuts[i]) == 0);
        virtwire_server_run_once(S.srv, 5);
        close(fd);
        expect_dropped(VIRTWIRE_ECLOSED);
        CHECK(S.st.calls == calls);
        CHECK_RC(vt_count_fds(0), fds0);
    }

    printf("server: big call cut after 60000 of 100028 bytes\n");
    int fd = raw_connect();
    unsigned char *big = calloc(1, 60000);
    vt_frame_header(big, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_DOMAIN_XML_FROM_NATIVE, VIR_NET_CALL,
                    1, VIR_NET_OK, 100000);
    CHECK(vt_write_all(fd, big, 60000) == 0);
    free(big);
    virtwire_server_run_once(S.srv, 5);
    close(fd);
    int calls = S.st.calls;
    expect_dropped(VIRTWIRE_ECLOSED);
    CHECK(S.st.calls == calls);
    CHECK_RC(vt_count_fds(0), fds0);

    printf("server: client gone with a deferred call\n");
    fd = raw_connect();
    call_and_pump(fd, REMOTE_PROC_CONNECT_GET_HOSTNAME, 1, NULL, NULL);
    CHECK(S.st.deferred == 1);
    CHECK(vt_write_all(fd, "\0\0", 2) == 0);
    close(fd);
    expect_dropped(VIRTWIRE_ECLOSED);
    fsrv_complete_deferred(&S); /* orphaned: just freed */
    virtwire_server_run_once(S.srv, 5);
    CHECK_RC(vt_count_fds(0), fds0);

    printf("server: client gone at its limit of calls, with calls kept\n");
    fd = raw_connect();
    want_calls = S.st.calls + VIRTWIRE_SERVER_MAX_CLIENT_REQUESTS_DEFAULT;
    for (uint32_t serial = 1; serial <= VIRTWIRE_SERVER_MAX_CLIENT_REQUESTS_DEFAULT + 3; serial++)
        CHECK(vt_send_value(fd, REMOTE_PROC_CONNECT_GET_HOSTNAME, VIR_NET_CALL, serial,
                            VIR_NET_OK, NULL, NULL) == 0);
    CHECK(fsrv_pump(&S, calls_reached, 3000));
    CHECK(S.nheld == VIRTWIRE_SERVER_MAX_CLIENT_REQUESTS_DEFAULT);
    close(fd);
    expect_dropped(VIRTWIRE_ECLOSED);
    CHECK(S.nheld == VIRTWIRE_SERVER_MAX_CLIENT_REQUESTS_DEFAULT); /* the rest never ran */
    fsrv_complete_deferred(&S);
    virtwire_server_run_once(S.srv, 5);
    CHECK_RC(vt_count_fds(0), fds0);
    fsrv_free(&S);
}

static void test_server_fds(void)
{
    fsrv_init(&S, "srv", 0);
    int fds0 = vt_count_fds(0);
    char *name = (char *)"test";
    remote_domain_create_with_files_args a = { { name, { 0 }, 1 }, 0 };
    unsigned char args[256];
    size_t alen = 0;
    CHECK(virtwire_encode(&remote_domain_create_with_files_args_desc, &a, args, sizeof args,
                          &alen) == 0);
    unsigned char frame[28 + 4 + 256];
    vt_frame_header(frame, REMOTE_PROGRAM, REMOTE_PROC_DOMAIN_CREATE_WITH_FILES,
                    VIR_NET_CALL_WITH_FDS, 1, VIR_NET_OK, 4 + alen);
    memset(frame + 28, 0, 4);
    frame[31] = NFDS;
    memcpy(frame + 32, args, alen);
    size_t flen = 32 + alen;

    for (int nsend = -1; nsend <= NFDS; nsend++) {
        printf("server: %d of %d fds, then %s\n", nsend < 0 ? 0 : nsend, NFDS,
               nsend < 0 ? "a plain byte" : nsend == NFDS ? "the reply" : "close");
        int r[NFDS], w[NFDS];
        for (int i = 0; i < NFDS; i++) {
            int pp[2];
            CHECK(pipe2(pp, O_CLOEXEC | O_NONBLOCK) == 0);
            r[i] = pp[0];
            w[i] = pp[1];
        }
        int fd = raw_connect();
        int calls = S.st.fds_calls;
        CHECK(vt_write_all(fd, frame, flen) == 0);
        for (int i = 0; i < nsend; i++)
            CHECK(vt_send_fd(fd, w[i]) == 0);
        if (nsend < 0)
            CHECK(vt_write_all(fd, "x", 1) == 0);
        if (nsend == NFDS) {
            /* All there: the call is handled, and the fds closed after. */
            want_calls = S.st.calls + 1;
            CHECK(fsrv_pump(&S, calls_reached, 3000));
            vt_frame f;
            CHECK(vt_read_frame(fd, &f, 3000) == 0);
            remote_domain_create_with_files_ret ret;
            virtwire_arena arena = VIRTWIRE_ARENA_INIT;
            CHECK(f.hdr.status == VIR_NET_OK &&
                  virtwire_decode(&remote_domain_create_with_files_ret_desc, f.payload, f.len,
                                  &arena, &ret) == 0 &&
                  ret.dom.id == NFDS);
            virtwire_arena_fini(&arena);
            vt_frame_free(&f);
            CHECK(S.st.fds_calls == calls + 1);
            close(fd);
            expect_dropped(VIRTWIRE_ECLOSED);
        } else {
            virtwire_server_run_once(S.srv, 5);
            if (nsend >= 0)
                close(fd);
            expect_dropped(nsend < 0 ? VIRTWIRE_EFD_MISSING : VIRTWIRE_ECLOSED);
            if (nsend < 0)
                close(fd);
            CHECK(S.st.fds_calls == calls);
        }
        for (int i = 0; i < NFDS; i++) {
            close(w[i]);
            char ch;
            CHECK_RC(read(r[i], &ch, 1), 0); /* no copy left in the server */
            close(r[i]);
        }
        CHECK_RC(vt_count_fds(0), fds0);
    }
    fsrv_free(&S);
}

static void test_server_stream(void)
{
    fsrv_init(&S, "srv", 0);
    int fds0 = vt_count_fds(0);
    char *s = (char *)"x";

    printf("server: write stream cut in a packet\n");
    int fd = raw_connect();
    remote_storage_vol_upload_args ua = { { s, s, s }, SEED, 0, 0 };
    call_and_pump(fd, REMOTE_PROC_STORAGE_VOL_UPLOAD, 1, &remote_storage_vol_upload_args_desc,
                  &ua);
    vt_frame f;
    CHECK(vt_read_frame(fd, &f, 3000) == 0 && f.hdr.status == VIR_NET_OK);
    vt_frame_free(&f);
    unsigned char data[PKT];
    for (int i = 0; i < 3; i++) {
        flib_fill(data, PKT, SEED, (uint64_t)i * PKT);
        CHECK(vt_send_frame(fd, REMOTE_PROC_STORAGE_VOL_UPLOAD, VIR_NET_STREAM, 1,
                            VIR_NET_CONTINUE, data, PKT) == 0);
    }
    unsigned char h[28];
    vt_frame_header(h, REMOTE_PROGRAM, REMOTE_PROC_STORAGE_VOL_UPLOAD, VIR_NET_STREAM, 1,
                    VIR_NET_CONTINUE, PKT);
    CHECK(vt_write_all(fd, h, sizeof h) == 0 && vt_write_all(fd, data, PKT / 2) == 0);
    virtwire_server_run_once(S.srv, 5);
    close(fd);
    expect_dropped(VIRTWIRE_ECLOSED);
    CHECK_RC(S.st.up_data, 3);
    CHECK(S.st.up_bytes == 3 * PKT && S.st.up_bad == 0);
    CHECK(S.st.up_finished == 0 && S.st.up_aborted == 0 && S.st.up_closed == 1);
    CHECK_RC(vt_count_fds(0), fds0);

    printf("server: read stream, the client hangs up after 1 MiB\n");
    fsrv_start(&S);
    fd = raw_connect();
    remote_storage_vol_download_args da = { { s, s, s }, SEED, (uint64_t)1 << 30, 0 };
    CHECK(vt_send_value(fd, REMOTE_PROC_STORAGE_VOL_DOWNLOAD, VIR_NET_CALL, 1, VIR_NET_OK,
                        &remote_storage_vol_download_args_desc, &da) == 0);
    CHECK(vt_read_frame(fd, &f, 3000) == 0 && f.hdr.type == VIR_NET_REPLY &&
          f.hdr.status == VIR_NET_OK);
    vt_frame_free(&f);
    uint64_t got = 0;
    while (got < ((uint64_t)1 << 20)) {
        if (vt_read_frame(fd, &f, 3000) < 0) {
            CHECK(!"stream packet");
            break;
        }
        CHECK(f.hdr.type == VIR_NET_STREAM && flib_check(f.payload, f.len, SEED, got));
        got += f.len;
        vt_frame_free(&f);
    }
    close(fd);
    uint64_t t0 = vt_now_ms();
    while (fsrv_get(&S.st.closed) < 2 && vt_now_ms() - t0 < 3000)
        vt_sleep_ms(2);
    fsrv_stop(&S);
    CHECK_RC(S.st.closed, 2);
    CHECK_RC(S.st.last_error, VIRTWIRE_ECLOSED);
    CHECK(S.st.down_closed == 1 && S.st.down_eof == 0);
    CHECK(S.st.down_bytes >= got && S.st.down_bytes < ((uint64_t)1 << 30));
    CHECK_RC(virtwire_server_nclients(S.srv), 0);
    CHECK_RC(vt_count_fds(0), fds0);
    fsrv_free(&S);
}

int main(int argc, char **argv)
{
    static const vt_group groups[] = {
        { "client_frame", test_client_frame },
        { "client_fds", test_client_fds },
        { "client_stream", test_client_stream },
        { "server_frame", test_server_frame },
        { "server_fds", test_server_fds },
        { "server_stream", test_server_stream },
        { NULL, NULL },
    };
    return flib_main(argc, argv, groups);
}
