/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Slow peers over real sockets.
 *
 * Short writes and EAGAIN: the smallest SO_SNDBUF / SO_RCVBUF and a peer
 * that reads in small pieces with pauses, so that every large frame is
 * written in many short writes and the output queue fills:
 *   conn     a connection (client role) sends 150 frames of up to 160 KiB,
 *            every fifth with two fds, to a slow reader that checks every
 *            byte and that each fd arrives right after its frame (the queue
 *            is seen non-empty, i.e. writes were short);
 *   client   the client sends large calls (200 KB strings, asynchronous)
 *            and a 2 MiB upload stream to a slow scripted server, which
 *            checks the bytes and echoes the strings back;
 *   server   the server answers large calls and streams a 4 MiB download
 *            to a slow raw client, over TCP with a tiny receive window and
 *            over a unix socket;
 *   unread   a client that pipelines 1 MiB calls and never reads the
 *            replies: the server stops reading from it (its memory stays
 *            bounded, the client's writes stall); once it reads, every
 *            reply arrives intact;
 *   pause    virtwire_conn_pause_reading(), which the server uses for that.
 *
 * One byte per millisecond:
 *   trickle_client  a scripted server writes every reply one byte per ms:
 *            the handshake and calls complete with the right values; a
 *            call (synchronous, then asynchronous) whose reply takes longer
 *            than its timeout gets VIRTWIRE_ETIMEDOUT on time, and the
 *            connection stays usable (the late reply is dropped); with an
 *            open timeout shorter than a reply, connecting fails with
 *            VIRTWIRE_ETIMEDOUT;
 *   trickle_server  a raw client writes the handshake and calls to the
 *            example daemon one byte per ms: every reply is right, and
 *            another client is served meanwhile.
 *
 *   test_faults_slow GROUP [VIRTWIRE_MOCKD]
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "flib.h"
#include "fsrv.h"
#include "remote_protocol.h"
#include "virtwire_client.h"
#include "virtwire_conn.h"
#include "vt_fds.h"

/* A reader that takes at most `max` bytes per read and pauses every few
 * reads. */
typedef struct slow {
    int fd;
    size_t max;
    unsigned pause_us;
    unsigned every;
    unsigned n;
} slow;

/* Reads exactly n bytes slowly; 0 or -1. */
static int slow_read(slow *s, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        size_t want = n < s->max ? n : s->max;
        struct pollfd pf = { s->fd, POLLIN, 0 };
        if (poll(&pf, 1, 10000) <= 0)
            return -1;
        ssize_t r = recv(s->fd, p, want, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
        if (++s->n % s->every == 0)
            vt_sleep_us(s->pause_us);
    }
    return 0;
}

/* Reads one frame slowly into f (payload malloc'd); 0 or -1. */
static int slow_frame(slow *s, vt_frame *f)
{
    unsigned char h[28];
    memset(f, 0, sizeof *f);
    if (slow_read(s, h, 28) < 0)
        return -1;
    uint32_t len = vt_frame_parse(h, &f->hdr);
    if (len < 28)
        return -1;
    f->len = len - 28;
    f->payload = malloc(f->len ? f->len : 1);
    if (!f->payload || slow_read(s, f->payload, f->len) < 0) {
        vt_frame_free(f);
        return -1;
    }
    return 0;
}

/* ---- conn ----------------------------------------------------------------- */

#define CONN_FRAMES 150
#define CONN_MAX_PAYLOAD (160 * 1024)

static size_t conn_len(int i)
{
    return (size_t)flib_pattern(77, (uint64_t)i) * 613u % CONN_MAX_PAYLOAD + (i % 7 == 0 ? 0 : 1);
}

typedef struct conn_reader {
    int fd;
    int frames, bad, fds_ok;
    uint64_t bytes;
} conn_reader;

static void *conn_reader_main(void *arg)
{
    conn_reader *r = arg;
    slow s = { r->fd, 3000, 200, 8, 0 };
    for (int i = 0; i < CONN_FRAMES; i++) {
        vt_frame f;
        if (slow_frame(&s, &f) < 0) {
            r->bad++;
            return NULL;
        }
        size_t want = conn_len(i);
        const unsigned char *p = f.payload;
        size_t n = f.len;
        int with_fds = f.hdr.type == VIR_NET_CALL_WITH_FDS;
        if (with_fds != (i % 5 == 0))
            r->bad++;
        if (with_fds) {
            if (n < 4 || vt_get32(p) != 2)
                r->bad++;
            p += 4;
            n -= 4;
        }
        if (f.hdr.serial != (uint32_t)i || n != want || !flib_check(p, n, (uint32_t)i, 0))
            r->bad++;
        r->bytes += f.len + 28;
        vt_frame_free(&f);
        for (int k = 0; with_fds && k < 2; k++) {
            /* Each fd is a pipe holding the frame's number and k. */
            int fd = vt_recv_fd(r->fd, 10000);
            unsigned char tag[2] = { 0, 0 };
            if (fd >= 0 && read(fd, tag, 2) == 2 && tag[0] == (unsigned char)i && tag[1] == k)
                r->fds_ok++;
            else
                r->bad++;
            if (fd >= 0)
                close(fd);
        }
        r->frames++;
    }
    return NULL;
}

static void test_conn(void)
{
    int fds0 = vt_count_fds(0);
    int sv[2];
    CHECK(vt_socketpair(sv, SOCK_CLOEXEC) == 0);
    vt_bufsize(sv[0], 1024, 1024);
    vt_bufsize(sv[1], 1024, 1024);
    virtwire_conn *c = NULL;
    static const virtwire_transport_callbacks cbs = { .size = sizeof cbs };
    CHECK_RC(virtwire_conn_adopt(sv[0], 1, VIRTWIRE_TRANSPORT_CLIENT, &cbs, NULL, &c), 0);
    virtwire_transport_program *tp = NULL;
    static const virtwire_transport_program_callbacks pcbs = { .size = sizeof pcbs };
    CHECK_RC(virtwire_transport_register(virtwire_conn_transport(c), REMOTE_PROGRAM,
                                         REMOTE_PROTOCOL_VERSION, &pcbs, NULL, &tp),
             0);
    conn_reader r = { sv[1], 0, 0, 0, 0 };
    pthread_t th;
    pthread_create(&th, NULL, conn_reader_main, &r);

    unsigned char *buf = malloc(CONN_MAX_PAYLOAD + 1);
    int queued = 0;
    size_t max_queue = 0;
    for (int i = 0; i < CONN_FRAMES; i++) {
        size_t n = conn_len(i);
        flib_fill(buf, n, (uint32_t)i, 0);
        int fds[2] = { -1, -1 }, nfds = i % 5 == 0 ? 2 : 0;
        for (int k = 0; k < nfds; k++) {
            int pp[2];
            CHECK(pipe2(pp, O_CLOEXEC) == 0);
            unsigned char tag[2] = { (unsigned char)i, (unsigned char)k };
            CHECK(write(pp[1], tag, 2) == 2);
            close(pp[1]);
            fds[k] = pp[0];
        }
        int64_t serial = virtwire_transport_send(tp, REMOTE_PROC_CONNECT_GET_LIB_VERSION,
                                                 nfds ? VIR_NET_CALL_WITH_FDS : VIR_NET_CALL,
                                                 VIR_NET_OK, 0, buf, n, fds, (size_t)nfds);
        CHECK_RC(serial, i);
        /* The fds were only borrowed: what the socket did not take was
         * dup()ed into the queue. */
        for (int k = 0; k < nfds; k++)
            close(fds[k]);
        size_t q = virtwire_conn_pending_output(c);
        if (q) {
            queued++;
            if (q > max_queue)
                max_queue = q;
        }
        /* Keep the queue under 1 MiB, as a sender watching it would. */
        while (virtwire_conn_pending_output(c) > (1u << 20))
            CHECK_RC(virtwire_conn_run_once(c, 1000), 0);
    }
    CHECK_RC(virtwire_conn_flush(c, 20000), 0);
    pthread_join(th, NULL);
    printf("conn: %d frames (%llu bytes) read intact, %d fds; output queued after %d sends "
           "(at most %zu bytes)\n",
           r.frames, (unsigned long long)r.bytes, r.fds_ok, queued, max_queue);
    CHECK(r.frames == CONN_FRAMES && r.bad == 0 && r.fds_ok == 2 * (CONN_FRAMES / 5));
    CHECK(queued > CONN_FRAMES / 2); /* the writes were short */
    free(buf);
    virtwire_conn_free(c);
    close(sv[1]);
    CHECK_RC(vt_count_fds(0), fds0);
}

/* ---- client --------------------------------------------------------------- */

#define NBIG 6
#define BIG_LEN 200000
#define UP_LEN ((size_t)2 << 20)
#define UP_SEED 21

typedef struct client_script {
    int bad, calls, streams;
    uint64_t up_bytes;
} client_script;

static void script_client(flib_peer *p, int fd)
{
    client_script *cs = p->arg;
    vt_bufsize(fd, 1024, 1024);
    if (vt_serve_handshake(fd, 0) < 0) {
        cs->bad++;
        return;
    }
    slow s = { fd, 2048, 100, 4, 0 };
    for (;;) {
        vt_frame f;
        if (slow_frame(&s, &f) < 0)
            return; /* the client hung up after CONNECT_CLOSE */
        int rc = 0;
        if (f.hdr.type == VIR_NET_CALL &&
            f.hdr.proc == REMOTE_PROC_CONNECT_DOMAIN_XML_FROM_NATIVE) {
            remote_connect_domain_xml_from_native_args a;
            virtwire_arena arena = VIRTWIRE_ARENA_INIT;
            if (virtwire_decode(&remote_connect_domain_xml_from_native_args_desc, f.payload, f.len,
                                &arena, &a) == 0) {
                char *want = flib_text(BIG_LEN, a.flags);
                if (strcmp(a.nativeConfig, want) != 0)
                    cs->bad++;
                free(want);
                remote_connect_domain_xml_from_native_ret r = { a.nativeConfig };
                rc = vt_send_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK,
                                   &remote_connect_domain_xml_from_native_ret_desc, &r);
                cs->calls++;
            } else {
                cs->bad++;
            }
            virtwire_arena_fini(&arena);
        } else if (f.hdr.type == VIR_NET_CALL) {
            /* STORAGE_VOL_UPLOAD, CONNECT_CLOSE */
            rc = vt_send_frame(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK, NULL, 0);
        } else if (f.hdr.type == VIR_NET_STREAM && f.hdr.status == VIR_NET_CONTINUE) {
            if (!flib_check(f.payload, f.len, UP_SEED, cs->up_bytes))
                cs->bad++;
            cs->up_bytes += f.len;
        } else if (f.hdr.type == VIR_NET_STREAM && f.hdr.status == VIR_NET_OK) {
            rc = vt_send_frame(fd, f.hdr.proc, VIR_NET_STREAM, f.hdr.serial, VIR_NET_OK, NULL, 0);
            cs->streams++;
        } else {
            cs->bad++;
        }
        vt_frame_free(&f);
        if (rc < 0)
            cs->bad++;
    }
}

static void test_client(void)
{
    int fds0 = vt_count_fds(0);
    client_script cs = { 0, 0, 0, 0 };
    flib_peer p;
    flib_peer_start(&p, "slow", script_client, &cs);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    vt_bufsize(fd, 1024, 1024);
    int sndbuf = 0;
    socklen_t sl = sizeof sndbuf;
    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl);
    printf("client: SO_SNDBUF %d\n", sndbuf);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", p.path);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    virtwire_client_options o = { .size = sizeof o, .open_name = "test:///default" };
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_adopt(fd, 1, &o, &c), 0);
    if (c) {
        flib_texts b;
        flib_texts_init(&b, BIG_LEN, 100, NBIG);
        virtwire_arena arenas[NBIG];
        char *texts[NBIG];
        for (int i = 0; i < NBIG; i++) {
            virtwire_arena_init(&arenas[i]);
            texts[i] = flib_text(BIG_LEN, 100u + (uint32_t)i);
            remote_connect_domain_xml_from_native_args a = { (char *)"native", texts[i],
                                                             100u + (unsigned)i };
            virtwire_call_opts co = { .size = sizeof co, .arena = &arenas[i], .timeout_ms = 20000 };
            CHECK_RC(virtwire_client_call_async(c, &remote_program,
                                                REMOTE_PROC_CONNECT_DOMAIN_XML_FROM_NATIVE, &a,
                                                &co, flib_texts_done, &b),
                     0);
        }
        char *s = (char *)"x";
        remote_storage_vol_upload_args ua = { { s, s, s }, 0, UP_LEN, 0 };
        virtwire_client_stream *st = NULL;
        CHECK_RC(virtwire_client_stream_call(c, &remote_program, REMOTE_PROC_STORAGE_VOL_UPLOAD,
                                             &ua, NULL, NULL, &st),
                 0);
        static unsigned char chunk[65536];
        for (size_t off = 0; st && off < UP_LEN; off += sizeof chunk) {
            flib_fill(chunk, sizeof chunk, UP_SEED, off);
            CHECK_RC(virtwire_client_stream_send(st, chunk, sizeof chunk), 0);
        }
        if (st) {
            CHECK_RC(virtwire_client_stream_finish(st, 20000, NULL), 0);
            virtwire_client_stream_free(st);
        }
        flib_texts_check(&b, 20000);
        for (int i = 0; i < NBIG; i++) {
            virtwire_arena_fini(&arenas[i]);
            free(texts[i]);
        }
        CHECK_RC(virtwire_client_error(c), 0);
        virtwire_client_close(c);
    }
    flib_peer_join(&p);
    printf("client: %d calls echoed, %llu stream bytes checked\n", cs.calls,
           (unsigned long long)cs.up_bytes);
    CHECK(cs.bad == 0 && cs.calls == NBIG && cs.streams == 1 && cs.up_bytes == UP_LEN);
    CHECK_RC(vt_count_fds(0), fds0);
}

/* ---- server --------------------------------------------------------------- */

#define DOWN_LEN ((size_t)4 << 20)
#define DOWN_SEED 33
#define NSRV_BIG 4
#define SRV_BIG_LEN 300000

/* A slow raw client of fsrv: large calls pipelined with a download, all
 * replies read slowly and checked. */
static void slow_client(int fd)
{
    char *s = (char *)"x";
    char *texts[NSRV_BIG];
    for (int i = 0; i < NSRV_BIG; i++) {
        texts[i] = flib_text(SRV_BIG_LEN, 200u + (uint32_t)i);
        remote_connect_domain_xml_from_native_args a = { (char *)"native", texts[i], 0 };
        CHECK(vt_send_value(fd, REMOTE_PROC_CONNECT_DOMAIN_XML_FROM_NATIVE, VIR_NET_CALL,
                            (uint32_t)i + 1, VIR_NET_OK,
                            &remote_connect_domain_xml_from_native_args_desc, &a) == 0);
    }
    remote_storage_vol_download_args da = { { s, s, s }, DOWN_SEED, DOWN_LEN, 0 };
    uint32_t dserial = 100;
    CHECK(vt_send_value(fd, REMOTE_PROC_STORAGE_VOL_DOWNLOAD, VIR_NET_CALL, dserial, VIR_NET_OK,
                        &remote_storage_vol_download_args_desc, &da) == 0);
    slow sl = { fd, 1500, 100, 4, 0 };
    int replies = 0, eof = 0, bad = 0;
    uint64_t got = 0;
    while (!eof) {
        vt_frame f;
        if (slow_frame(&sl, &f) < 0) {
            bad++;
            break;
        }
        if (f.hdr.type == VIR_NET_REPLY && f.hdr.serial >= 1 && f.hdr.serial <= NSRV_BIG) {
            remote_connect_domain_xml_from_native_ret r;
            virtwire_arena arena = VIRTWIRE_ARENA_INIT;
            if (f.hdr.status != VIR_NET_OK ||
                virtwire_decode(&remote_connect_domain_xml_from_native_ret_desc, f.payload, f.len,
                                &arena, &r) < 0 ||
                strcmp(r.domainXml, texts[f.hdr.serial - 1]) != 0)
                bad++;
            virtwire_arena_fini(&arena);
            replies++;
        } else if (f.hdr.type == VIR_NET_REPLY && f.hdr.serial == dserial) {
            bad += f.hdr.status != VIR_NET_OK;
        } else if (f.hdr.type == VIR_NET_STREAM && f.hdr.status == VIR_NET_CONTINUE) {
            if (f.len == 0)
                eof = 1;
            else if (!flib_check(f.payload, f.len, DOWN_SEED, got))
                bad++;
            got += f.len;
        } else {
            bad++;
        }
        vt_frame_free(&f);
    }
    /* Finish, as libvirt's client does, and read the confirmation. */
    CHECK(vt_send_frame(fd, REMOTE_PROC_STORAGE_VOL_DOWNLOAD, VIR_NET_STREAM, dserial,
                        VIR_NET_OK, NULL, 0) == 0);
    vt_frame f;
    CHECK(vt_read_frame(fd, &f, 10000) == 0 && f.hdr.type == VIR_NET_STREAM &&
          f.hdr.status == VIR_NET_OK);
    vt_frame_free(&f);
    printf("server: %d large replies and %llu stream bytes read slowly\n", replies,
           (unsigned long long)got);
    CHECK(bad == 0 && replies == NSRV_BIG && got == DOWN_LEN);
    for (int i = 0; i < NSRV_BIG; i++)
        free(texts[i]);
}

static void test_server(void)
{
    fsrv S;
    fsrv_init(&S, "srv", 1);
    int fds0 = vt_count_fds(0);
    fsrv_start(&S);

    printf("server: over TCP with a 2 KiB receive buffer\n");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    vt_bufsize(fd, 2048, 2048); /* before connect: the window stays small */
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)S.tcp_port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    CHECK(connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0);
    slow_client(fd);
    close(fd);

    printf("server: over a unix socket\n");
    fd = vt_connect_unix(S.path);
    vt_bufsize(fd, 1024, 1024);
    slow_client(fd);
    close(fd);

    uint64_t t0 = vt_now_ms();
    while (fsrv_get(&S.st.closed) < 2 && vt_now_ms() - t0 < 5000)
        vt_sleep_ms(2);
    fsrv_stop(&S);
    CHECK(S.st.closed == 2 && S.st.down_eof == 2 && S.st.down_closed == 2);
    CHECK(S.st.down_finished == 2); /* the finish, confirmed */
    CHECK_RC(vt_count_fds(0), fds0);
    fsrv_free(&S);
}

/* ---- a client that does not read ----------------------------------------- */

#define UNREAD_CALLS 80
#define UNREAD_LEN ((size_t)1 << 20)
/* Server memory allowed to grow while the client does not read: a few
 * calls' worth, far below the 80 MiB of replies asked for. */
#define UNREAD_GROWTH_KIB (20L * 1024)

/* Writes what it can of [p, p + n) within timeout_ms (0: what the socket
 * takes now); returns the bytes written. */
static size_t write_some(int fd, const unsigned char *p, size_t n, int timeout_ms)
{
    size_t done = 0;
    uint64_t end = vt_now_ms() + (uint64_t)timeout_ms;
    while (done < n) {
        ssize_t w = send(fd, p + done, n - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if ((w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
            vt_now_ms() >= end)
            break;
        struct pollfd pf = { fd, POLLOUT, 0 };
        poll(&pf, 1, 10);
    }
    return done;
}

static void test_unread(void)
{
    fsrv S;
    fsrv_init(&S, "srv", 0);
    int fds0 = vt_count_fds(0);
    fsrv_start(&S);
    char *t = flib_text(UNREAD_LEN, 44);
    remote_connect_domain_xml_from_native_args a = { (char *)"n", t, 0 };
    size_t len;
    unsigned char *call = vt_build_value(REMOTE_PROC_CONNECT_DOMAIN_XML_FROM_NATIVE,
                                         VIR_NET_CALL, 0, VIR_NET_OK,
                                         &remote_connect_domain_xml_from_native_args_desc, &a,
                                         &len);
    long r0 = vt_rss_kib(0);
    int fd = vt_connect_unix(S.path);

    /* Calls, pipelined, never reading: once the server stops reading,
     * writing stalls. */
    int sent = 0;
    size_t partial = 0;
    while (sent < UNREAD_CALLS) {
        if (partial == 0)
            vt_put32(call + 20, (uint32_t)sent); /* the serial */
        size_t w = write_some(fd, call + partial, len - partial, 500);
        partial += w;
        if (partial < len)
            break;
        partial = 0;
        sent++;
    }
    vt_sleep_ms(100);
    long r1 = vt_rss_kib(0);
    printf("unread: %d calls of 1 MiB written before the server stopped reading; RSS %ld KiB "
           "before, %ld after\n",
           sent, r0, r1);
    CHECK(sent < UNREAD_CALLS);
    CHECK(r1 - r0 < UNREAD_GROWTH_KIB);

    /* Now read every reply, writing the rest of the calls meanwhile. */
    int replies = 0, bad = 0;
    while (replies < UNREAD_CALLS && !bad) {
        while (sent < UNREAD_CALLS) {
            if (partial == 0)
                vt_put32(call + 20, (uint32_t)sent); /* the serial */
            /* Block only when no reply is due. */
            partial += write_some(fd, call + partial, len - partial, replies == sent ? 5000 : 0);
            if (partial < len)
                break;
            partial = 0;
            sent++;
        }
        vt_frame f;
        if (vt_read_frame(fd, &f, 10000) < 0) {
            bad++;
            break;
        }
        remote_connect_domain_xml_from_native_ret r;
        virtwire_arena arena = VIRTWIRE_ARENA_INIT;
        if (f.hdr.serial != (uint32_t)replies || f.hdr.status != VIR_NET_OK ||
            virtwire_decode(&remote_connect_domain_xml_from_native_ret_desc, f.payload, f.len,
                            &arena, &r) < 0 ||
            strcmp(r.domainXml, t) != 0)
            bad++;
        virtwire_arena_fini(&arena);
        vt_frame_free(&f);
        replies++;
    }
    CHECK(bad == 0 && replies == UNREAD_CALLS);
    close(fd);
    uint64_t t0 = vt_now_ms();
    while (fsrv_get(&S.st.closed) < 1 && vt_now_ms() - t0 < 5000)
        vt_sleep_ms(2);
    fsrv_stop(&S);
    CHECK(S.st.calls == UNREAD_CALLS);
    free(call);
    free(t);
    fsrv_free(&S);
    CHECK_RC(vt_count_fds(0), fds0 - 3); /* the listener and the wake-up pipe */
}

/* ---- pausing a connection's reading -------------------------------------- */

typedef struct pauser {
    virtwire_conn *conn;
    int calls;
    int pause_at; /* pause from the callback at this call */
} pauser;

static int pause_on_call(virtwire_transport_program *p, const virtwire_transport_msg *m,
                         void *opaque)
{
    (void)p;
    pauser *r = opaque;
    if (m->hdr.serial != (uint32_t)r->calls)
        CHECK(!"calls in order");
    if (++r->calls == r->pause_at)
        virtwire_conn_pause_reading(r->conn, 1);
    return 0;
}

/* virtwire_conn_pause_reading(), which the server uses for the above. */
static void test_pause(void)
{
    int fds0 = vt_count_fds(0);
    static const virtwire_transport_program_callbacks recv_cbs = { .size = sizeof recv_cbs, .on_call = pause_on_call };
    virtwire_conn *a, *b;
    virtwire_transport_program *tp, *rp;
    pauser r = { NULL, 0, 3 };
    flib_conn_pair(0, 0, &a, &tp, &b, &rp, &recv_cbs, &r);
    r.conn = b;
    /* Ten small calls and ten of 100 KB, more than one read takes: the
     * callback pauses at the third; the frames of that read are still
     * dispatched, then reading stops. */
    static unsigned char big[100000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 20; i++)
        CHECK_RC(virtwire_transport_send(tp, REMOTE_PROC_CONNECT_GET_LIB_VERSION, VIR_NET_CALL,
                                         VIR_NET_OK, 0, big, i < 10 ? 16 : sizeof big, NULL, 0),
                 i);
    CHECK_RC(virtwire_conn_process(b, POLLIN), 0);
    virtwire_conn_flush(a, 0);
    int first = r.calls;
    printf("pause: %d calls dispatched before reading stopped\n", first);
    CHECK(first >= 3 && first < 20);
    CHECK(!(virtwire_conn_events(b) & POLLIN));
    CHECK_RC(virtwire_conn_process(b, POLLIN), 0);
    CHECK_RC(virtwire_conn_process(b, 0), 0);
    CHECK(r.calls == first);
    /* Paused with nothing to write: run_once waits for its timeout. */
    uint64_t t0 = vt_now_ms();
    CHECK_RC(virtwire_conn_run_once(b, 50), 0);
    CHECK(vt_now_ms() - t0 >= 45 && r.calls == first);
    /* Resumed: everything, in order. */
    virtwire_conn_pause_reading(b, 0);
    r.pause_at = 0;
    CHECK(virtwire_conn_events(b) & POLLIN);
    t0 = vt_now_ms();
    while (r.calls < 20 && vt_now_ms() - t0 < 5000) {
        CHECK_RC(virtwire_conn_process(b, 0), 0);
        virtwire_conn_flush(a, 0);
    }
    CHECK_RC(r.calls, 20);
    /* Paused again, then the peer hangs up: what it sent is read to the
     * end (a callback pausing meanwhile changes nothing), and the hang-up
     * reported. */
    virtwire_conn_pause_reading(b, 1);
    r.pause_at = 21;
    for (int i = 20; i < 23; i++)
        CHECK_RC(virtwire_transport_send(tp, REMOTE_PROC_CONNECT_GET_LIB_VERSION, VIR_NET_CALL,
                                         VIR_NET_OK, 0, big, 40000, NULL, 0),
                 i);
    CHECK_RC(virtwire_conn_flush(a, 5000), 0);
    virtwire_conn_free(a);
    CHECK_RC(virtwire_conn_run_once(b, 5000), VIRTWIRE_ECLOSED);
    CHECK_RC(r.calls, 23);
    virtwire_conn_free(b);
    CHECK_RC(vt_count_fds(0), fds0);
}

/* ---- one byte per millisecond --------------------------------------------- */

/* Writes n bytes one per millisecond. */
static int trickle(int fd, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (vt_write_all(fd, p + i, 1) < 0)
            return -1;
        vt_sleep_us(1000);
    }
    return 0;
}

static int trickle_value(int fd, int32_t proc, int type, uint32_t serial, int status,
                         const virtwire_type *t, const void *v)
{
    size_t len;
    unsigned char *b = vt_build_value(proc, type, serial, status, t, v, &len);
    int rc = b ? trickle(fd, b, len) : -1;
    free(b);
    return rc;
}

#define HOST_LEN 300

static void script_trickle(flib_peer *p, int fd)
{
    int bad = 0;
    for (;;) {
        vt_frame f;
        if (vt_read_frame(fd, &f, 20000) < 0)
            break;
        int rc = -1;
        switch (f.hdr.proc) {
        case REMOTE_PROC_AUTH_LIST: {
            remote_auth_type none = REMOTE_AUTH_NONE;
            remote_auth_list_ret r = { { 1, &none } };
            rc = trickle_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK,
                               &remote_auth_list_ret_desc, &r);
            break;
        }
        case REMOTE_PROC_CONNECT_SUPPORTS_FEATURE: {
            remote_connect_supports_feature_ret r = { 0 };
            rc = trickle_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK,
                               &remote_connect_supports_feature_ret_desc, &r);
            break;
        }
        case REMOTE_PROC_CONNECT_OPEN:
        case REMOTE_PROC_CONNECT_CLOSE:
            rc = trickle_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK, NULL,
                               NULL);
            break;
        case REMOTE_PROC_CONNECT_GET_LIB_VERSION: {
            remote_connect_get_lib_version_ret r = { 1000000u + f.hdr.serial };
            rc = trickle_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK,
                               &remote_connect_get_lib_version_ret_desc, &r);
            break;
        }
        case REMOTE_PROC_CONNECT_GET_HOSTNAME: {
            char *h = flib_text(HOST_LEN, 9);
            remote_connect_get_hostname_ret r = { h };
            rc = trickle_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK,
                               &remote_connect_get_hostname_ret_desc, &r);
            free(h);
            break;
        }
        }
        vt_frame_free(&f);
        if (rc < 0)
            bad++;
    }
    p->result = bad;
}

static void async_done(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    (void)c;
    int *out = opaque;
    __atomic_store_n(out, r->rc == 0 ? 1 : r->rc, __ATOMIC_SEQ_CST);
}

static int lib_version(virtwire_client *c, int timeout_ms, uint64_t *v)
{
    remote_connect_get_lib_version_ret r = { 0 };
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = timeout_ms };
    int rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                  &r, &o);
    *v = r.lib_ver;
    return rc;
}

static int hostname(virtwire_client *c, int timeout_ms)
{
    remote_connect_get_hostname_ret r = { NULL };
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = timeout_ms };
    int rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_HOSTNAME, NULL, &r,
                                  &o);
    if (rc == 0) {
        char *want = flib_text(HOST_LEN, 9);
        CHECK(strcmp(r.hostname, want) == 0);
        free(want);
        remote_connect_get_hostname_ret_free(&r);
    }
    return rc;
}

static void test_trickle_client(void)
{
    int fds0 = vt_count_fds(0);
    flib_peer p;
    flib_peer_start(&p, "trickle", script_trickle, NULL);
    char uri[200];
    snprintf(uri, sizeof uri, "test+unix:///default?socket=%s", p.path);
    uint64_t t0 = vt_now_ms();
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_connect(uri, NULL, &c), 0);
    uint64_t took = vt_now_ms() - t0;
    printf("trickle_client: handshake in %llu ms\n", (unsigned long long)took);
    CHECK(took >= 90); /* 96 bytes of replies */
    if (c) {
        uint64_t v1 = 0, v2 = 0, v3 = 0;
        CHECK_RC(lib_version(c, 5000, &v1), 0);
        CHECK(v1 > 1000000);

        /* 332 bytes take 332 ms: a 150 ms timeout expires first. */
        t0 = vt_now_ms();
        CHECK_RC(hostname(c, 150), VIRTWIRE_ETIMEDOUT);
        took = vt_now_ms() - t0;
        printf("trickle_client: synchronous call timed out after %llu ms\n",
               (unsigned long long)took);
        CHECK(took >= 150 && took < 400);
        /* The late reply is dropped; the next call gets its own. */
        CHECK_RC(lib_version(c, 5000, &v2), 0);
        CHECK(v2 > v1);

        int done = 0;
        virtwire_call_opts ao = { .size = sizeof ao, .timeout_ms = 150 };
        t0 = vt_now_ms();
        CHECK_RC(virtwire_client_call_async(c, &remote_program, REMOTE_PROC_CONNECT_GET_HOSTNAME,
                                            NULL, &ao, async_done, &done),
                 0);
        while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST) && vt_now_ms() - t0 < 3000)
            vt_sleep_ms(1);
        took = vt_now_ms() - t0;
        printf("trickle_client: asynchronous call timed out after %llu ms\n",
               (unsigned long long)took);
        CHECK_RC(done, VIRTWIRE_ETIMEDOUT);
        CHECK(took >= 150 && took < 400);
        CHECK_RC(lib_version(c, 5000, &v3), 0);
        CHECK(v3 > v2);
        /* With a timeout longer than the reply takes. */
        CHECK_RC(hostname(c, 2000), 0);
        CHECK_RC(virtwire_client_error(c), 0);
        virtwire_client_close(c);
    }
    flib_peer_join(&p);
    CHECK(p.result == 0);

    /* The handshake itself under a timeout shorter than a reply. */
    flib_peer_start(&p, "trickle", script_trickle, NULL);
    virtwire_client_options o = { .size = sizeof o, .open_timeout_ms = 20 };
    c = NULL;
    t0 = vt_now_ms();
    CHECK_RC(virtwire_client_connect(uri, &o, &c), VIRTWIRE_ETIMEDOUT);
    CHECK(c == NULL && vt_now_ms() - t0 < 1000);
    flib_peer_join(&p); /* its write fails: the client is gone */
    CHECK_RC(vt_count_fds(0), fds0);
}

/* A raw client writing every call one byte per millisecond to the example
 * daemon, reading the replies at normal speed. */
static int trickle_call(int fd, int32_t proc, uint32_t serial, const virtwire_type *at,
                        const void *a, const virtwire_type *rt, void *r, virtwire_arena *arena)
{
    if (trickle_value(fd, proc, VIR_NET_CALL, serial, VIR_NET_OK, at, a) < 0)
        return -1;
    vt_frame f;
    if (vt_read_frame(fd, &f, 5000) < 0)
        return -1;
    int ok = f.hdr.type == VIR_NET_REPLY && f.hdr.status == VIR_NET_OK && f.hdr.serial == serial &&
             f.hdr.proc == proc &&
             (rt ? virtwire_decode(rt, f.payload, f.len, arena, r) == 0 : f.len == 0);
    vt_frame_free(&f);
    return ok ? 0 : -1;
}

static void test_trickle_server(void)
{
    vt_mockd d;
    flib_mockd_start(&d, "mockd", NULL);
    int fd = vt_connect_unix(d.path);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    uint64_t t0 = vt_now_ms();

    remote_auth_list_ret al;
    CHECK(trickle_call(fd, REMOTE_PROC_AUTH_LIST, 1, NULL, NULL, &remote_auth_list_ret_desc, &al,
                       &arena) == 0 &&
          al.types.types_len == 1 && al.types.types_val[0] == REMOTE_AUTH_NONE);
    remote_connect_supports_feature_args fa = { 10 };
    remote_connect_supports_feature_ret fr = { 0 };
    CHECK(trickle_call(fd, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, 2,
                       &remote_connect_supports_feature_args_desc, &fa,
                       &remote_connect_supports_feature_ret_desc, &fr, &arena) == 0 &&
          fr.supported == 1);
    char *name = (char *)"test:///default";
    remote_connect_open_args oa = { &name, 0 };
    CHECK(trickle_call(fd, REMOTE_PROC_CONNECT_OPEN, 3, &remote_connect_open_args_desc, &oa, NULL,
                       NULL, &arena) == 0);
    remote_domain_lookup_by_name_args la = { (char *)"vm1" };
    remote_domain_lookup_by_name_ret lr;
    CHECK(trickle_call(fd, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, 4,
                       &remote_domain_lookup_by_name_args_desc, &la,
                       &remote_domain_lookup_by_name_ret_desc, &lr, &arena) == 0 &&
          strcmp(lr.dom.name, "vm1") == 0 && (unsigned char)lr.dom.uuid[0] == 0x20);
    remote_connect_list_all_domains_args da = { 1, 0 };
    remote_connect_list_all_domains_ret dr;
    CHECK(trickle_call(fd, REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS, 5,
                       &remote_connect_list_all_domains_args_desc, &da,
                       &remote_connect_list_all_domains_ret_desc, &dr, &arena) == 0 &&
          dr.ret == 3 && dr.domains.domains_len == 3);
    virtwire_arena_fini(&arena);
    uint64_t took = vt_now_ms() - t0;
    printf("trickle_server: five calls written one byte per ms in %llu ms\n",
           (unsigned long long)took);
    CHECK(took >= 150);

    /* Half a call, one byte per ms: meanwhile another client is served
     * at once. */
    size_t len;
    unsigned char *b = vt_build_value(REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, VIR_NET_CALL, 6,
                                      VIR_NET_OK, &remote_domain_lookup_by_name_args_desc, &la,
                                      &len);
    CHECK(trickle(fd, b, len / 2) == 0);
    t0 = vt_now_ms();
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_connect(d.uri, NULL, &c), 0);
    virtwire_client_close(c);
    CHECK(vt_now_ms() - t0 < 1000);
    /* The rest, and the reply. */
    CHECK(trickle(fd, b + len / 2, len - len / 2) == 0);
    free(b);
    vt_frame f;
    CHECK(vt_read_frame(fd, &f, 5000) == 0 && f.hdr.serial == 6 && f.hdr.status == VIR_NET_OK);
    vt_frame_free(&f);
    close(fd);
    CHECK_RC(vt_mockd_stop(&d), 0);
}

int main(int argc, char **argv)
{
    static const vt_group groups[] = {
        { "conn", test_conn },
        { "client", test_client },
        { "server", test_server },
        { "unread", test_unread },
        { "pause", test_pause },
        { "trickle_client", test_trickle_client },
        { "trickle_server", test_trickle_server },
        { NULL, NULL },
    };
    return flib_main(argc, argv, groups);
}
