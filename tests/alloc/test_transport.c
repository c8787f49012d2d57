/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation failures in the sans-I/O transport: a client and a server
 * transport back to back in memory, frames delivered in pieces of 1000
 * bytes (so that most are buffered) and fds passed by dup().  The session:
 * a call and its reply, an error reply, a CALL_WITH_FDS answered with
 * REPLY_WITH_FDS, a call to a program the server does not serve (its
 * automatic error reply), an event, a sparse upload stream (data, a hole,
 * end, finish), a download stream with a 1 MiB packet, and keepalive PINGs
 * both ways.
 *
 * While no allocation fails, everything must arrive as sent.  When one
 * does, the first thing that goes wrong must be a transport function
 * returning VIRTWIRE_ENOMEM, or a frame dropped with VIRTWIRE_ENOMEM
 * (on_error), or the test's own decode of a payload failing with it; the
 * session then stops and both transports are freed.
 *
 *   test_alloc_transport session
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "failalloc.h"
#include "qemu_protocol.h"
#include "remote_protocol.h"
#include "virtwire_transport.h"
#include "vt_sys.h"

#define CHUNK 1000
#define OUT_MAX (3u << 20)
#define BIG_PACKET (1u << 20)

typedef struct side {
    const char *name;
    virtwire_transport *t;
    virtwire_transport_program *remote;
    virtwire_transport_program *qemu;
    unsigned char *out; /* sent, not yet delivered */
    size_t outlen;
    int fds[64];
    size_t nfds;
    /* What arrived. */
    int err_code;       /* first code reported through on_error */
    int cb_rc;          /* first failure inside a callback */
    int nreplies;
    virNetMessageHeader last;
    int64_t last_error_code;
    char last_error_msg[128];
    unsigned char payload[256];
    size_t payload_len;
    int kept_fds[4];
    size_t nkept;
    size_t stream_bytes;
    int64_t stream_hole;
    int stream_eof, stream_end, stream_err;
    int nevents;
    int event_detail;
} side;

static side C, S;
static uint64_t fake_now;
static unsigned char *stream_src; /* BIG_PACKET bytes of a pattern */

static void note(int *slot, int code)
{
    if (!*slot)
        *slot = code;
}

static int on_send(virtwire_transport *t, const struct iovec *iov, size_t niov, const int *fds,
                   size_t nfds, void *opaque)
{
    side *s = opaque;
    (void)t;
    for (size_t i = 0; i < niov; i++) {
        if (s->outlen + iov[i].iov_len > OUT_MAX)
            return -1;
        memcpy(s->out + s->outlen, iov[i].iov_base, iov[i].iov_len);
        s->outlen += iov[i].iov_len;
    }
    for (size_t i = 0; i < nfds; i++) {
        if (s->nfds == 64)
            return -1;
        int d = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
        if (d < 0)
            return -1;
        s->fds[s->nfds++] = d;
    }
    return 0;
}

static void on_error(virtwire_transport *t, int code, const virNetMessageHeader *hdr, int fatal,
                     void *opaque)
{
    (void)t, (void)hdr, (void)fatal;
    note(&((side *)opaque)->err_code, code);
}

static uint64_t clock_ms(void *opaque)
{
    (void)opaque;
    return fake_now;
}

/* ---- server callbacks ---------------------------------------------------- */

static int s_on_call(virtwire_transport_program *p, const virtwire_transport_msg *m, void *opaque)
{
    side *s = opaque;
    int64_t rc = 0;
    s->last = m->hdr;
    switch (m->hdr.proc) {
    case REMOTE_PROC_CONNECT_GET_LIB_VERSION: {
        remote_connect_get_lib_version_ret r = { 11003000 };
        rc = virtwire_transport_send_value(p, m->hdr.proc, VIR_NET_REPLY, VIR_NET_OK,
                                           m->hdr.serial, &remote_connect_get_lib_version_ret_desc,
                                           &r, NULL, 0);
        break;
    }
    case REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME: {
        char *msg = "Domain not found";
        virNetMessageError e = { .code = 42, .domain = 12, .message = &msg, .level = 2 };
        rc = virtwire_transport_send_error(p, m->hdr.proc, m->hdr.serial, &e);
        break;
    }
    case REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES:
        /* Keeps the fds, answers with a pipe's write end. */
        for (size_t i = 0; i < m->nfds && s->nkept < 4; i++) {
            s->kept_fds[s->nkept++] = m->fds[i];
            m->fds[i] = -1;
        }
        {
            int p2[2];
            if (pipe2(p2, O_CLOEXEC) < 0)
                return -1;
            rc = virtwire_transport_send(p, m->hdr.proc, VIR_NET_REPLY_WITH_FDS, VIR_NET_OK,
                                         m->hdr.serial, NULL, 0, &p2[1], 1);
            close(p2[1]);
            if (s->nkept < 4)
                s->kept_fds[s->nkept++] = p2[0];
            else
                close(p2[0]);
        }
        break;
    case REMOTE_PROC_STORAGE_VOL_UPLOAD:
    case REMOTE_PROC_STORAGE_VOL_DOWNLOAD:
        rc = virtwire_transport_stream_open(p, m->hdr.proc, m->hdr.serial, VIRTWIRE_STREAM_SPARSE);
        if (rc == 0)
            rc = virtwire_transport_send(p, m->hdr.proc, VIR_NET_REPLY, VIR_NET_OK, m->hdr.serial,
                                         NULL, 0, NULL, 0);
        if (rc >= 0 && m->hdr.proc == REMOTE_PROC_STORAGE_VOL_DOWNLOAD) {
            rc = virtwire_transport_stream_send_data(p, m->hdr.proc, m->hdr.serial, stream_src,
                                                     BIG_PACKET);
            if (rc == 0)
                rc = virtwire_transport_stream_send_hole(p, m->hdr.proc, m->hdr.serial, 4096, 0);
            if (rc == 0)
                rc = virtwire_transport_stream_send_eof(p, m->hdr.proc, m->hdr.serial);
        }
        break;
    default:
        break;
    }
    if (rc < 0)
        note(&s->cb_rc, (int)rc);
    return 0;
}

static int s_on_stream(virtwire_transport_program *p, const virtwire_transport_msg *m,
                       void *opaque)
{
    side *s = opaque;
    if (m->hole)
        s->stream_hole += m->hole->length;
    else if (m->hdr.status == VIR_NET_CONTINUE && m->payload_len)
        s->stream_bytes += m->payload_len;
    else if (m->hdr.status == VIR_NET_CONTINUE)
        s->stream_eof = 1;
    else if (m->hdr.status == VIR_NET_OK) {
        s->stream_end = 1;
        int rc = virtwire_transport_stream_finish(p, m->hdr.proc, m->hdr.serial);
        if (rc < 0)
            note(&s->cb_rc, rc);
    } else {
        s->stream_err = 1;
    }
    return 0;
}

/* ---- client callbacks ---------------------------------------------------- */

static int c_on_reply(virtwire_transport_program *p, const virtwire_transport_msg *m, void *opaque)
{
    side *s = opaque;
    (void)p;
    s->nreplies++;
    s->last = m->hdr;
    s->payload_len = m->payload_len < sizeof s->payload ? m->payload_len : sizeof s->payload;
    memcpy(s->payload, m->payload, s->payload_len);
    s->last_error_code = m->error ? m->error->code : -1;
    s->last_error_msg[0] = 0;
    if (m->error && m->error->message)
        snprintf(s->last_error_msg, sizeof s->last_error_msg, "%s", *m->error->message);
    for (size_t i = 0; i < m->nfds && s->nkept < 4; i++) {
        s->kept_fds[s->nkept++] = m->fds[i];
        m->fds[i] = -1;
    }
    return 0;
}

static int c_on_message(virtwire_transport_program *p, const virtwire_transport_msg *m,
                        void *opaque)
{
    side *s = opaque;
    (void)p;
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    remote_domain_event_lifecycle_msg ev;
    int rc = virtwire_decode(&remote_domain_event_lifecycle_msg_desc, m->payload, m->payload_len,
                             &a, &ev);
    if (rc == 0 && strcmp(ev.dom.name, "test") == 0) {
        s->nevents++;
        s->event_detail = ev.detail;
    } else if (rc < 0) {
        note(&s->cb_rc, rc);
    }
    virtwire_arena_fini(&a);
    return 0;
}

static int c_on_stream(virtwire_transport_program *p, const virtwire_transport_msg *m,
                       void *opaque)
{
    side *s = opaque;
    (void)p;
    if (m->hole) {
        s->stream_hole += m->hole->length;
    } else if (m->hdr.status == VIR_NET_CONTINUE && m->payload_len) {
        if (s->stream_bytes + m->payload_len > BIG_PACKET ||
            memcmp(m->payload, stream_src + s->stream_bytes, m->payload_len) != 0)
            s->stream_err = 1;
        s->stream_bytes += m->payload_len;
    } else if (m->hdr.status == VIR_NET_CONTINUE) {
        s->stream_eof = 1;
    } else if (m->hdr.status == VIR_NET_OK) {
        s->stream_end = 1;
    } else {
        s->stream_err = 1;
    }
    return 0;
}

/* ---- the session --------------------------------------------------------- */

/* Delivers what from sent to to, CHUNK bytes at a time, fds when asked. */
static int pump(side *from, side *to)
{
    size_t off = 0, fdi = 0;
    int rc = 0;
    while (rc == 0 && (off < from->outlen || fdi < from->nfds)) {
        virtwire_need n = virtwire_transport_need(to->t);
        if (n.kind == VIRTWIRE_NEED_NOTHING) {
            rc = virtwire_transport_error(to->t);
        } else if (n.kind == VIRTWIRE_NEED_FDS) {
            rc = fdi < from->nfds ? virtwire_transport_receive_fd(to->t, from->fds[fdi++])
                                  : FA_FAIL("%s waits for fds nobody sent", to->name);
        } else if (off < from->outlen) {
            size_t len = from->outlen - off < CHUNK ? from->outlen - off : CHUNK;
            ssize_t r = virtwire_transport_receive(to->t, from->out + off, len);
            if (r < 0)
                rc = (int)r;
            else
                off += (size_t)r;
        } else {
            rc = FA_FAIL("%s has fds left over", from->name);
        }
    }
    while (fdi < from->nfds)
        close(from->fds[fdi++]);
    from->outlen = 0;
    from->nfds = 0;
    return rc;
}

/* Both directions until nothing moves; returns the first problem. */
static int exchange(void)
{
    while (C.outlen || C.nfds || S.outlen || S.nfds) {
        int rc = pump(&C, &S);
        if (rc == 0)
            rc = pump(&S, &C);
        if (rc != 0)
            return rc;
    }
    if (C.cb_rc || S.cb_rc)
        return C.cb_rc ? C.cb_rc : S.cb_rc;
    if (C.err_code || S.err_code)
        return C.err_code ? C.err_code : S.err_code;
    return 0;
}

static int side_new(side *s, const char *name, virtwire_transport_role role)
{
    unsigned char *out = s->out;
    memset(s, 0, sizeof *s);
    s->out = out;
    s->name = name;
    virtwire_transport_callbacks cbs = { .size = sizeof cbs, .on_send = on_send, .on_error = on_error,
                                         .clock_ms = clock_ms };
    int rc = virtwire_transport_new(role, &cbs, s, &s->t);
    if (rc < 0)
        return rc;
    virtwire_transport_program_callbacks pc = { .size = sizeof pc };
    if (role == VIRTWIRE_TRANSPORT_SERVER) {
        pc.on_call = s_on_call;
        pc.on_stream = s_on_stream;
    } else {
        pc.on_reply = c_on_reply;
        pc.on_message = c_on_message;
        pc.on_stream = c_on_stream;
    }
    rc = virtwire_transport_register(s->t, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, &pc, s,
                                     &s->remote);
    if (rc == 0 && role == VIRTWIRE_TRANSPORT_CLIENT)
        rc = virtwire_transport_register(s->t, QEMU_PROGRAM, QEMU_PROTOCOL_VERSION, &pc, s,
                                         &s->qemu);
    return rc;
}

#define TRY(expr)                                                              \
    do {                                                                       \
        int64_t try_rc_ = (expr);                                              \
        if (try_rc_ < 0) {                                                     \
            outcome = (int)try_rc_;                                            \
            goto out;                                                          \
        }                                                                      \
    } while (0)

static int session(void *opaque)
{
    (void)opaque;
    int outcome = 0, bad = 0;
    int pipe_in[2] = { -1, -1 };
    fake_now = 1000;
    C.t = S.t = NULL;
    TRY(side_new(&C, "client", VIRTWIRE_TRANSPORT_CLIENT));
    TRY(side_new(&S, "server", VIRTWIRE_TRANSPORT_SERVER));

    /* A call and its reply. */
    int64_t serial;
    TRY(serial = virtwire_transport_send(C.remote, REMOTE_PROC_CONNECT_GET_LIB_VERSION,
                                         VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0));
    TRY(exchange());
    EXPECT(C.nreplies == 1 && C.last.serial == (uint32_t)serial && C.last.status == VIR_NET_OK);
    EXPECT(C.payload_len == 8 && C.payload[4] == 0x00 && C.payload[7] == (11003000 & 0xff));

    /* An error reply, decoded by the client's transport. */
    char *name = "nosuch";
    remote_domain_lookup_by_name_args la = { name };
    TRY(virtwire_transport_send_value(C.remote, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, VIR_NET_CALL,
                                      VIR_NET_OK, 0, &remote_domain_lookup_by_name_args_desc, &la,
                                      NULL, 0));
    TRY(exchange());
    EXPECT(C.nreplies == 2 && C.last.status == VIR_NET_ERROR && C.last_error_code == 42 &&
           strcmp(C.last_error_msg, "Domain not found") == 0);

    /* fds both ways. */
    TRY(pipe2(pipe_in, O_CLOEXEC) < 0 ? FA_FAIL("pipe") : 0);
    char *xml = "<domain/>";
    remote_domain_create_xml_with_files_args ca = { xml, 0 };
    int two[2] = { pipe_in[0], pipe_in[1] };
    TRY(virtwire_transport_send_value(C.remote, REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES,
                                      VIR_NET_CALL_WITH_FDS, VIR_NET_OK, 0,
                                      &remote_domain_create_xml_with_files_args_desc, &ca, two,
                                      2));
    TRY(exchange());
    EXPECT(C.nreplies == 3 && C.last.type == VIR_NET_REPLY_WITH_FDS && C.nkept == 1);
    EXPECT(S.nkept == 3);
    EXPECT(write(S.kept_fds[1], "x", 1) == 1 && write(C.kept_fds[0], "y", 1) == 1);
    char got[2];
    EXPECT(read(pipe_in[0], got, 1) == 1 && got[0] == 'x');
    EXPECT(read(S.kept_fds[2], got, 1) == 1 && got[0] == 'y');

    /* A program the server does not serve: its automatic error reply. */
    TRY(virtwire_transport_send(C.qemu, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0));
    int64_t code = 0;
    outcome = exchange();
    if (outcome == VIRTWIRE_EPROGRAM) /* the server's on_error: expected */
        outcome = 0, S.err_code = 0;
    TRY(outcome);
    code = C.last_error_code;
    EXPECT(C.nreplies == 4 && C.last.status == VIR_NET_ERROR && code == 39 &&
           strstr(C.last_error_msg, "Cannot find program") != NULL);

    /* An event. */
    remote_domain_event_lifecycle_msg ev = { { "test", { 0 }, 1 }, 3, 7 };
    TRY(virtwire_transport_send_value(S.remote, REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE,
                                      VIR_NET_MESSAGE, VIR_NET_OK, 1,
                                      &remote_domain_event_lifecycle_msg_desc, &ev, NULL, 0));
    TRY(exchange());
    EXPECT(C.nevents == 1 && C.event_detail == 7);

    /* Upload: data, a hole, end of data, finish and its confirmation. */
    TRY(serial = virtwire_transport_send(C.remote, REMOTE_PROC_STORAGE_VOL_UPLOAD, VIR_NET_CALL,
                                         VIR_NET_OK, 0, NULL, 0, NULL, 0));
    TRY(virtwire_transport_stream_open(C.remote, REMOTE_PROC_STORAGE_VOL_UPLOAD,
                                       (uint32_t)serial, VIRTWIRE_STREAM_SPARSE));
    TRY(exchange());
    TRY(virtwire_transport_stream_send_data(C.remote, REMOTE_PROC_STORAGE_VOL_UPLOAD,
                                            (uint32_t)serial, stream_src, 300000));
    TRY(virtwire_transport_stream_send_hole(C.remote, REMOTE_PROC_STORAGE_VOL_UPLOAD,
                                            (uint32_t)serial, 65536, 0));
    TRY(virtwire_transport_stream_send_eof(C.remote, REMOTE_PROC_STORAGE_VOL_UPLOAD,
                                           (uint32_t)serial));
    TRY(virtwire_transport_stream_finish(C.remote, REMOTE_PROC_STORAGE_VOL_UPLOAD,
                                         (uint32_t)serial));
    TRY(exchange());
    EXPECT(S.stream_bytes == 300000 && S.stream_hole == 65536 && S.stream_eof && S.stream_end);
    EXPECT(C.stream_end && !C.stream_err);
    EXPECT(!virtwire_transport_stream_is_open(C.remote, (uint32_t)serial));

    /* Download: one packet of 1 MiB, a hole, end; the client finishes. */
    C.stream_bytes = 0, C.stream_hole = 0, C.stream_end = 0;
    S.stream_end = 0;
    TRY(virtwire_transport_set_stream_packet_max(S.t, BIG_PACKET));
    TRY(serial = virtwire_transport_send(C.remote, REMOTE_PROC_STORAGE_VOL_DOWNLOAD,
                                         VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0));
    TRY(virtwire_transport_stream_open(C.remote, REMOTE_PROC_STORAGE_VOL_DOWNLOAD,
                                       (uint32_t)serial, VIRTWIRE_STREAM_SPARSE));
    TRY(exchange());
    EXPECT(C.stream_bytes == BIG_PACKET && C.stream_hole == 4096 && C.stream_eof &&
           !C.stream_err);
    TRY(virtwire_transport_stream_finish(C.remote, REMOTE_PROC_STORAGE_VOL_DOWNLOAD,
                                         (uint32_t)serial));
    TRY(exchange());
    EXPECT(S.stream_end && C.stream_end);

    /* Keepalive both ways: each PING is answered with a PONG. */
    TRY(virtwire_transport_keepalive_start(C.t, 100, 2));
    TRY(virtwire_transport_keepalive_start(S.t, 100, 2));
    fake_now += 100;
    TRY(virtwire_transport_keepalive_tick(C.t));
    TRY(virtwire_transport_keepalive_tick(S.t));
    EXPECT(C.outlen == 28 && S.outlen == 28);
    TRY(exchange());
    EXPECT(virtwire_transport_keepalive_timeout(C.t) == 100);
    EXPECT(virtwire_transport_keepalive_timeout(S.t) == 100);

out:
    for (size_t i = 0; i < C.nkept; i++)
        close(C.kept_fds[i]);
    for (size_t i = 0; i < S.nkept; i++)
        close(S.kept_fds[i]);
    C.nkept = S.nkept = 0;
    for (int i = 0; i < 2; i++)
        if (pipe_in[i] >= 0)
            close(pipe_in[i]);
    for (size_t i = 0; i < C.nfds; i++)
        close(C.fds[i]);
    for (size_t i = 0; i < S.nfds; i++)
        close(S.fds[i]);
    virtwire_transport_free(C.t);
    virtwire_transport_free(S.t);
    if (bad)
        return 1;
    if (outcome != 0 && (outcome != VIRTWIRE_ENOMEM || !fa_injecting()))
        return FA_FAIL("the session ended with %s", virtwire_error_name(outcome));
    if (fa_fired() && outcome == 0)
        return FA_FAIL("an allocation failed and nothing said so");
    return 0;
}

int main(int argc, char **argv)
{
    if (!fa_session_args(argc, argv, 0, NULL))
        return 2;
    C.out = fa_raw_alloc(OUT_MAX);
    S.out = fa_raw_alloc(OUT_MAX);
    stream_src = fa_raw_alloc(BIG_PACKET);
    for (size_t i = 0; i < BIG_PACKET; i++)
        stream_src[i] = (unsigned char)(i * 7 + (i >> 11));
    return fa_run("alloc.transport.session", session, NULL, 60);
}
