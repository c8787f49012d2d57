/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation failures in the server (runtime/server, its
 * connections and transports): a scripted client on a unix socket, writing
 * frames by hand and reading the answers, while the test runs the server's
 * loop.  The script: CONNECT_SUPPORTS_FEATURE (keepalive), CONNECT_OPEN,
 * CONNECT_GET_HOSTNAME, an error reply, a CALL_WITH_FDS, a REPLY_WITH_FDS,
 * four deferred calls sent at once to a server that allows two at a time
 * (the others wait in its backlog), an unknown procedure, an upload stream
 * with a hole, a 600 KiB download stream (more than the socket holds, so
 * the connection queues), an event, then the client hangs up.
 *
 * When an allocation fails, what the client sees first must be one of the
 * documented outcomes (virtwire_server.h, "Out of memory"): an error reply
 * VIR_ERR_INTERNAL_ERROR "out of memory", or the server closing the
 * connection (and then its on_close says VIRTWIRE_ENOMEM, unless the
 * client was never accepted); virtwire_server_run_once() may return
 * VIRTWIRE_ENOMEM, and is then simply called again.  Setting the server up
 * may fail with VIRTWIRE_ENOMEM.
 *
 *   test_alloc_server session
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "failalloc.h"
#include "remote_protocol.h"
#include "virtwire_server.h"
#include "vt_sys.h"
#include "vt_server.h"

#define OOM_MESSAGE "out of memory"
#define MAX_SERIALS 32
#define SHOT_BYTES (600u * 1024u)
#define UPLOAD_BYTES (100u * 1024u)

/* ---- the server side ------------------------------------------------------ */

typedef struct server_state {
    virtwire_server *srv;
    virtwire_server_client *client;
    int opened, closed, close_reason;
    virtwire_server_call *deferred[8];
    size_t ndeferred;
    size_t upload_bytes;
    int64_t upload_hole;
    int upload_eof, upload_finished;
    size_t shot_sent;
    int run_enomem;
} server_state;

static server_state S;

static int on_open(virtwire_server_client *c, void *opaque)
{
    (void)opaque;
    S.client = c;
    S.opened = 1;
    return 0;
}

static void on_close(virtwire_server_client *c, void *opaque)
{
    (void)opaque;
    S.closed = 1;
    S.close_reason = virtwire_server_client_error(c);
    S.client = NULL;
}

static int oom(virtwire_server_call *call)
{
    return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_INTERNAL_ERROR,
                                      VIRTWIRE_VIR_FROM_RPC, OOM_MESSAGE);
}

static int h_open(virtwire_server_call *call, void *opaque)
{
    (void)call, (void)opaque;
    return 0;
}

static int h_hostname(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    remote_connect_get_hostname_ret *r = call->ret;
    r->hostname = virtwire_server_call_strdup(call, "alloc-host");
    return r->hostname ? 0 : oom(call);
}

static int h_lookup(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    const remote_domain_lookup_by_name_args *a = call->args;
    return virtwire_server_call_error(call, 42, 10, "Domain not found: no domain with matching "
                                      "name '%s'", a->name);
}

static int h_create_with_files(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    remote_domain_create_xml_with_files_ret *r = call->ret;
    char c = 0;
    if (call->nfds != 1 || read(call->fds[0], &c, 1) != 1)
        return virtwire_server_call_error(call, 1, 10, "no fd");
    char name[2] = { c, 0 };
    r->dom.name = virtwire_server_call_strdup(call, name);
    return r->dom.name ? 0 : oom(call);
}

static int graphics_pipe[2] = { -1, -1 };

static int h_graphics_fd(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    call->ret_fds[0] = graphics_pipe[1];
    call->nret_fds = 1;
    return 0;
}

static int h_get_info(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    if (S.ndeferred == 8)
        return oom(call);
    S.deferred[S.ndeferred++] = call;
    return VIRTWIRE_SERVER_DEFER;
}

static void complete_deferred(void)
{
    for (size_t i = 0; i < S.ndeferred; i++) {
        virtwire_server_call *call = S.deferred[i];
        remote_domain_get_info_ret *r = call->ret;
        r->state = 1;
        r->nrVirtCpu = 2;
        r->memory = 8388608;
        virtwire_server_call_complete(call, 0);
    }
    S.ndeferred = 0;
}

static int up_data(virtwire_server_stream *s, const void *data, size_t len, void *opaque)
{
    (void)s, (void)data, (void)opaque;
    S.upload_bytes += len;
    return 0;
}

static int up_hole(virtwire_server_stream *s, int64_t length, void *opaque)
{
    (void)s, (void)opaque;
    S.upload_hole += length;
    return 0;
}

static int up_eof(virtwire_server_stream *s, void *opaque)
{
    (void)s, (void)opaque;
    S.upload_eof = 1;
    return 0;
}

static int up_finish(virtwire_server_stream *s, void *opaque)
{
    (void)s, (void)opaque;
    S.upload_finished = 1;
    return 0;
}

static int h_upload(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    virtwire_server_stream_callbacks cbs = { .size = sizeof cbs, .on_data = up_data, .on_hole = up_hole,
                                             .on_eof = up_eof, .on_finish = up_finish };
    return virtwire_server_call_stream(call, 1, &cbs, NULL) ? 0 : oom(call);
}

static unsigned char shot[64 * 1024];

static int shot_pull(virtwire_server_stream *s, void *opaque)
{
    (void)opaque;
    if (S.shot_sent == SHOT_BYTES)
        return virtwire_server_stream_send_eof(s) < 0 ? -1 : 0;
    size_t n = SHOT_BYTES - S.shot_sent < sizeof shot ? SHOT_BYTES - S.shot_sent : sizeof shot;
    if (virtwire_server_stream_send(s, shot, n) < 0)
        return -1;
    S.shot_sent += n;
    return 0;
}

static int shot_finish(virtwire_server_stream *s, void *opaque)
{
    (void)s, (void)opaque;
    return 0;
}

static int h_screenshot(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    remote_domain_screenshot_ret *r = call->ret;
    char **mime = virtwire_server_call_alloc(call, sizeof *mime);
    if (!mime || !(*mime = virtwire_server_call_strdup(call, "image/png")))
        return oom(call);
    r->mime = mime;
    virtwire_server_stream_callbacks cbs = { .size = sizeof cbs, .on_pull = shot_pull, .on_finish = shot_finish };
    return virtwire_server_call_stream(call, 0, &cbs, NULL) ? 0 : oom(call);
}

static int server_setup(const char *path)
{
    virtwire_server_callbacks cbs = { .size = sizeof cbs, .on_open = on_open, .on_close = on_close };
    int rc = virtwire_server_new(&cbs, NULL, &S.srv);
    if (rc == 0)
        rc = virtwire_server_register(S.srv, &remote_program);
    if (rc < 0)
        return rc;
    virtwire_server_set_max_client_requests(S.srv, 2);
    struct {
        int32_t proc;
        virtwire_server_handler fn;
    } h[] = {
        { REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, vt_h_supports_feature },
        { REMOTE_PROC_CONNECT_OPEN, h_open },
        { REMOTE_PROC_CONNECT_GET_HOSTNAME, h_hostname },
        { REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, h_lookup },
        { REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES, h_create_with_files },
        { REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD, h_graphics_fd },
        { REMOTE_PROC_DOMAIN_GET_INFO, h_get_info },
        { REMOTE_PROC_STORAGE_VOL_UPLOAD, h_upload },
        { REMOTE_PROC_DOMAIN_SCREENSHOT, h_screenshot },
    };
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++)
        if (virtwire_server_set_handler(S.srv, &remote_program, h[i].proc, h[i].fn, NULL) < 0)
            return FA_FAIL("set_handler %d", (int)h[i].proc) ? VIRTWIRE_EINVAL : 0;
    return virtwire_server_listen_unix(S.srv, path);
}

/* ---- the scripted client -------------------------------------------------- */

typedef struct reply {
    int done;
    int type, status;
    int err_code;
    char err_msg[160];
    unsigned char payload[64];
    size_t len;
    int fds[2];
    size_t nfds;
} reply;

typedef struct script {
    int fd;
    int eof;
    uint32_t serial;
    unsigned char in[256 * 1024];
    size_t inlen;
    int rfds[8];
    size_t nrfds;
    reply rep[MAX_SERIALS];
    /* the download stream */
    size_t shot_bytes;
    int shot_eof, shot_ok, shot_err;
    /* the upload stream's confirmation */
    int up_ok, up_err;
    int nevents;
} script;

static script C;

/* Reads a remote_error's code and message (the first fields). */
static void parse_error(reply *r, const unsigned char *p, size_t n)
{
    virtwire_dec d;
    virtwire_dec_init(&d, p, n, NULL);
    int32_t code = 0, domain = 0;
    uint32_t present = 0, len = 0;
    if (virtwire_get_i32(&d, &code) < 0 || virtwire_get_i32(&d, &domain) < 0 ||
        virtwire_get_u32(&d, &present) < 0)
        return;
    r->err_code = code;
    if (present == 1 && virtwire_get_u32(&d, &len) == 0 && len < sizeof r->err_msg &&
        (size_t)(d.end - d.p) >= len) {
        memcpy(r->err_msg, d.p, len);
        r->err_msg[len] = 0;
    }
}

/* Handles one complete frame from the server. */
static void on_frame(const unsigned char *body, size_t n, const int *fds, size_t nfds)
{
    virtwire_dec d;
    virNetMessageHeader h;
    virtwire_dec_init(&d, body, n, NULL);
    if (virNetMessageHeader_decode(&d, &h) < 0)
        return;
    const unsigned char *p = body + 24;
    size_t len = n - 24;
    if (h.type == VIR_NET_MESSAGE) {
        if (h.prog == REMOTE_PROGRAM && h.proc == REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE)
            C.nevents++;
        return; /* keepalive PINGs: never due within the test */
    }
    if (h.type == VIR_NET_STREAM || h.type == VIR_NET_STREAM_HOLE) {
        if (h.proc == REMOTE_PROC_DOMAIN_SCREENSHOT) {
            if (h.status == VIR_NET_CONTINUE && len)
                C.shot_bytes += len;
            else if (h.status == VIR_NET_CONTINUE)
                C.shot_eof = 1;
            else if (h.status == VIR_NET_OK)
                C.shot_ok = 1;
            else
                C.shot_err = 1;
        } else if (h.proc == REMOTE_PROC_STORAGE_VOL_UPLOAD) {
            if (h.status == VIR_NET_OK)
                C.up_ok = 1;
            else if (h.status == VIR_NET_ERROR)
                C.up_err = 1;
        }
        return;
    }
    if (h.serial >= MAX_SERIALS)
        return;
    reply *r = &C.rep[h.serial];
    r->done = 1;
    r->type = h.type;
    r->status = h.status;
    if (h.type == VIR_NET_REPLY_WITH_FDS) {
        p += 4;
        len -= 4;
    }
    r->len = len < sizeof r->payload ? len : sizeof r->payload;
    memcpy(r->payload, p, r->len);
    for (size_t i = 0; i < nfds && i < 2; i++)
        r->fds[r->nfds++] = fds[i];
    if (h.status == VIR_NET_ERROR)
        parse_error(r, p, len);
}

/* Reads what the socket has and handles every complete frame. */
static void client_read(void)
{
    while (!C.eof && C.inlen < sizeof C.in) {
        union {
            char buf[CMSG_SPACE(4 * sizeof(int))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = { C.in + C.inlen, sizeof C.in - C.inlen };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                             .msg_controllen = sizeof ctl.buf };
        ssize_t n = recvmsg(C.fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            C.eof = 1;
            break;
        }
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                continue;
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
                if (C.nrfds < 8)
                    C.rfds[C.nrfds++] = fd;
                else
                    close(fd);
            }
        }
        C.inlen += (size_t)n;
    }
    for (;;) {
        if (C.inlen < 4)
            return;
        uint32_t flen = virtwire_load_u32(C.in);
        if (flen < 28 || flen > sizeof C.in) {
            C.eof = 1; /* garbage: treat as the end */
            return;
        }
        size_t extra = 0;
        uint32_t type = flen >= 28 && C.inlen >= 20 ? virtwire_load_u32(C.in + 16) : 0;
        if (type == VIR_NET_REPLY_WITH_FDS) {
            if (C.inlen < 32)
                return;
            extra = virtwire_load_u32(C.in + 28); /* one dummy byte per fd */
        }
        if (C.inlen < flen + extra || C.nrfds < extra)
            return;
        on_frame(C.in + 4, flen - 4, C.rfds, extra);
        memmove(C.rfds, C.rfds + extra, (C.nrfds - extra) * sizeof(int));
        C.nrfds -= extra;
        memmove(C.in, C.in + flen + extra, C.inlen - flen - extra);
        C.inlen -= flen + extra;
    }
}

/* One round of the server. */
static void server_round(int timeout_ms)
{
    int rc = virtwire_server_run_once(S.srv, timeout_ms);
    if (rc == VIRTWIRE_ENOMEM)
        S.run_enomem = 1;
    else if (rc < 0)
        (void)FA_FAIL("run_once gave %s", virtwire_error_name(rc));
    complete_deferred();
}

/* One round of the server, then the client reads. */
static void round_trip(int timeout_ms)
{
    server_round(timeout_ms);
    client_read();
}

/* Writes a frame, running the server while the socket is full. */
static void client_write(const void *buf, size_t len, const int *fds, size_t nfds)
{
    const unsigned char *p = buf;
    while (len && !C.eof) {
        ssize_t n = send(C.fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            round_trip(10);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            C.eof = 1;
            return;
        }
        p += n;
        len -= (size_t)n;
    }
    for (size_t i = 0; i < nfds && !C.eof; i++) {
        while (vt_send_fd(C.fd, fds[i]) < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                round_trip(10);
                continue;
            }
            C.eof = 1;
            return;
        }
    }
}

/* Builds a frame of the remote program into buf; returns its length. */
static size_t frame(unsigned char *buf, size_t cap, int32_t proc, virNetMessageType type,
                    virNetMessageStatus status, uint32_t serial, const virtwire_type *vtype,
                    const void *value, size_t nfds, const void *raw, size_t rawlen)
{
    virtwire_enc e;
    virtwire_enc_init(&e, buf, cap);
    virNetMessageHeader h = { REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, proc, type, serial,
                              status };
    virtwire_put_u32(&e, 0);
    virNetMessageHeader_encode(&e, &h);
    if (type == VIR_NET_CALL_WITH_FDS)
        virtwire_put_u32(&e, (uint32_t)nfds);
    size_t pos = (size_t)(e.p - buf), n = 0;
    if (vtype)
        virtwire_encode(vtype, value, e.p, cap - pos, &n);
    if (raw) {
        memcpy(e.p, raw, rawlen);
        n = rawlen;
    }
    size_t total = pos + n;
    virtwire_store_u32(buf, (uint32_t)total);
    return total;
}

/* Sends a call; returns its serial. */
static uint32_t call(int32_t proc, const virtwire_type *vtype, const void *args, const int *fds,
                     size_t nfds)
{
    unsigned char buf[1024];
    uint32_t serial = ++C.serial;
    size_t n = frame(buf, sizeof buf, proc, nfds ? VIR_NET_CALL_WITH_FDS : VIR_NET_CALL,
                     VIR_NET_OK, serial, vtype, args, nfds, NULL, 0);
    client_write(buf, n, fds, nfds);
    return serial;
}

static int waited_long(uint64_t start)
{
    /* Without an injected failure every answer comes at once; with one,
     * no answer may be missing either: a short wait tells. */
    return vt_now_ms() - start > (fa_fired() ? 2000u : 10000u);
}

enum { RES_OK, RES_ERROR, RES_OOM, RES_CLOSED, RES_NONE };

/* Waits for the reply to serial: RES_OK, RES_ERROR (an error other than out
 * of memory), RES_OOM, RES_CLOSED (the server hung up) or RES_NONE (timeout). */
static int result(uint32_t serial)
{
    uint64_t start = vt_now_ms();
    while (!C.rep[serial].done && !C.eof && !waited_long(start))
        round_trip(20);
    reply *r = &C.rep[serial];
    if (!r->done)
        return C.eof ? RES_CLOSED : RES_NONE;
    if (r->status == VIR_NET_OK)
        return RES_OK;
    return r->err_code == VIRTWIRE_VIR_ERR_INTERNAL_ERROR && strcmp(r->err_msg, OOM_MESSAGE) == 0
               ? RES_OOM
               : RES_ERROR;
}

/* Waits for cond (an expression on C or S). */
#define WAIT_FOR(cond)                                                         \
    do {                                                                       \
        uint64_t start_ = vt_now_ms();                                         \
        while (!(cond) && !C.eof && !waited_long(start_))                      \
            round_trip(20);                                                    \
        if (!(cond)) {                                                         \
            if (C.eof) {                                                       \
                outcome = RES_CLOSED;                                          \
                goto out;                                                      \
            }                                                                  \
            bad = FA_FAIL("nothing came: %s", #cond);                          \
            goto out;                                                          \
        }                                                                      \
    } while (0)

/* A reply that must be OK unless a documented failure came instead. */
#define EXPECT_OK(serial)                                                      \
    do {                                                                       \
        int r_ = result(serial);                                               \
        if (r_ == RES_OOM || r_ == RES_CLOSED) {                               \
            outcome = r_;                                                      \
            goto out;                                                          \
        }                                                                      \
        if (r_ != RES_OK) {                                                    \
            bad = FA_FAIL("call %u: %s", (unsigned)(serial),                   \
                          r_ == RES_NONE ? "no reply" : C.rep[serial].err_msg);  \
            goto out;                                                          \
        }                                                                      \
    } while (0)

static int session(void *opaque)
{
    const char *path = opaque;
    int outcome = 0, bad = 0, setup_rc = 0;
    int in_pipe[2] = { -1, -1 };
    memset(&S, 0, sizeof S);
    memset(&C, 0, sizeof C);
    C.fd = -1;
    if (pipe2(graphics_pipe, O_CLOEXEC) < 0 || pipe2(in_pipe, O_CLOEXEC) < 0)
        return FA_FAIL("pipe");

    setup_rc = server_setup(path);
    if (setup_rc < 0)
        goto out;

    C.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    EXPECT(C.fd >= 0 && connect(C.fd, (struct sockaddr *)&sa, sizeof sa) == 0);

    remote_connect_supports_feature_args fa = { 10 };
    uint32_t s = call(REMOTE_PROC_CONNECT_SUPPORTS_FEATURE,
                      &remote_connect_supports_feature_args_desc, &fa, NULL, 0);
    EXPECT_OK(s);
    EXPECT(C.rep[s].len == 4 && C.rep[s].payload[3] == 1);
    EXPECT(S.client && virtwire_server_client_keepalive(S.client));

    char *uri = "test:///default";
    remote_connect_open_args oa = { &uri, 0 };
    s = call(REMOTE_PROC_CONNECT_OPEN, &remote_connect_open_args_desc, &oa, NULL, 0);
    EXPECT_OK(s);

    s = call(REMOTE_PROC_CONNECT_GET_HOSTNAME, NULL, NULL, NULL, 0);
    EXPECT_OK(s);
    EXPECT(C.rep[s].len == 16 && memcmp(C.rep[s].payload + 4, "alloc-host", 10) == 0);

    remote_domain_lookup_by_name_args la = { "nosuch" };
    s = call(REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, &remote_domain_lookup_by_name_args_desc, &la,
             NULL, 0);
    {
        int r = result(s);
        if (r == RES_OOM || r == RES_CLOSED) {
            outcome = r;
            goto out;
        }
        EXPECT(r == RES_ERROR && C.rep[s].err_code == 42 &&
               strstr(C.rep[s].err_msg, "'nosuch'") != NULL);
    }

    /* fds in: the server reads one byte from ours. */
    EXPECT(write(in_pipe[1], "q", 1) == 1);
    remote_domain_create_xml_with_files_args ca = { "<domain/>", 0 };
    s = call(REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES,
             &remote_domain_create_xml_with_files_args_desc, &ca, &in_pipe[0], 1);
    EXPECT_OK(s);
    EXPECT(C.rep[s].len >= 8 && C.rep[s].payload[3] == 1 && C.rep[s].payload[4] == 'q');

    /* An fd out: the write end of the server's pipe. */
    remote_domain_open_graphics_fd_args ga = { { "test", { 0 }, 1 }, 0, 0 };
    s = call(REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD, &remote_domain_open_graphics_fd_args_desc, &ga,
             NULL, 0);
    EXPECT_OK(s);
    EXPECT(C.rep[s].type == VIR_NET_REPLY_WITH_FDS && C.rep[s].nfds == 1);
    EXPECT(write(C.rep[s].fds[0], "g", 1) == 1);
    char g = 0;
    EXPECT(read(graphics_pipe[0], &g, 1) == 1 && g == 'g');

    /* Four deferred calls at once: two wait in the server's backlog. */
    {
        unsigned char buf[4 * 128];
        size_t n = 0;
        remote_domain_get_info_args ia = { { "test", { 0 }, 1 } };
        uint32_t first = C.serial + 1;
        for (int i = 0; i < 4; i++)
            n += frame(buf + n, sizeof buf - n, REMOTE_PROC_DOMAIN_GET_INFO, VIR_NET_CALL,
                       VIR_NET_OK, ++C.serial, &remote_domain_get_info_args_desc, &ia, 0, NULL,
                       0);
        client_write(buf, n, NULL, 0);
        for (uint32_t k = first; k < first + 4; k++) {
            EXPECT_OK(k);
            EXPECT(C.rep[k].len >= 4 && C.rep[k].payload[3] == 1);
        }
    }

    /* Unknown procedure: libvirt's answer. */
    s = call(REMOTE_PROC_CONNECT_GET_TYPE, NULL, NULL, NULL, 0);
    {
        int r = result(s);
        if (r == RES_OOM || r == RES_CLOSED) {
            outcome = r;
            goto out;
        }
        EXPECT(r == RES_ERROR && C.rep[s].err_code == VIRTWIRE_VIR_ERR_RPC &&
               strstr(C.rep[s].err_msg, "unknown procedure") != NULL);
    }

    /* Upload: 100 KiB, a hole, end of data, finish. */
    remote_storage_vol_upload_args ua = { { "default", "disk.img", "/disk.img" }, 0, 0, 1 };
    s = call(REMOTE_PROC_STORAGE_VOL_UPLOAD, &remote_storage_vol_upload_args_desc, &ua, NULL, 0);
    EXPECT_OK(s);
    {
        static unsigned char pkt[40 * 1024];
        size_t n;
        for (size_t sent = 0; sent < UPLOAD_BYTES; sent += 25600) {
            n = frame(pkt, sizeof pkt, REMOTE_PROC_STORAGE_VOL_UPLOAD, VIR_NET_STREAM,
                      VIR_NET_CONTINUE, s, NULL, NULL, 0, shot, 25600);
            client_write(pkt, n, NULL, 0);
        }
        virNetStreamHole hole = { 8192, 0 };
        n = frame(pkt, sizeof pkt, REMOTE_PROC_STORAGE_VOL_UPLOAD, VIR_NET_STREAM_HOLE,
                  VIR_NET_CONTINUE, s, &virNetStreamHole_desc, &hole, 0, NULL, 0);
        client_write(pkt, n, NULL, 0);
        n = frame(pkt, sizeof pkt, REMOTE_PROC_STORAGE_VOL_UPLOAD, VIR_NET_STREAM,
                  VIR_NET_CONTINUE, s, NULL, NULL, 0, NULL, 0);
        client_write(pkt, n, NULL, 0);
        n = frame(pkt, sizeof pkt, REMOTE_PROC_STORAGE_VOL_UPLOAD, VIR_NET_STREAM, VIR_NET_OK, s,
                  NULL, NULL, 0, NULL, 0);
        client_write(pkt, n, NULL, 0);
    }
    WAIT_FOR(C.up_ok || C.up_err);
    EXPECT(C.up_ok && S.upload_bytes == UPLOAD_BYTES && S.upload_hole == 8192 && S.upload_eof &&
           S.upload_finished);

    /* Download: 600 KiB, then the client finishes and the server confirms. */
    remote_domain_screenshot_args sa2 = { { "test", { 0 }, 1 }, 0, 0 };
    s = call(REMOTE_PROC_DOMAIN_SCREENSHOT, &remote_domain_screenshot_args_desc, &sa2, NULL, 0);
    EXPECT_OK(s);
    /* The client does not read for a while: what the socket does not
     * hold waits in the connection's queue. */
    for (int i = 0; i < 40 && S.shot_sent < SHOT_BYTES && S.client; i++)
        server_round(0);
    WAIT_FOR(C.shot_eof || C.shot_err);
    if (C.shot_err) {
        outcome = RES_OOM; /* the stream ended with the server's error */
        goto out;
    }
    EXPECT(C.shot_bytes == SHOT_BYTES);
    {
        unsigned char buf[64];
        size_t n = frame(buf, sizeof buf, REMOTE_PROC_DOMAIN_SCREENSHOT, VIR_NET_STREAM,
                         VIR_NET_OK, s, NULL, NULL, 0, NULL, 0);
        client_write(buf, n, NULL, 0);
    }
    WAIT_FOR(C.shot_ok || C.shot_err);
    EXPECT(C.shot_ok);

    /* An event. */
    remote_domain_event_lifecycle_msg ev = { { "test", { 0 }, 1 }, 3, 0 };
    {
        int rc = S.client ? virtwire_server_send_event(S.client, &remote_program,
                                                       REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE, &ev)
                          : VIRTWIRE_ECLOSED;
        if (rc == VIRTWIRE_ENOMEM) {
            outcome = RES_OOM;
            goto out;
        }
        EXPECT(rc == 0 || rc == VIRTWIRE_ECLOSED);
    }
    WAIT_FOR(C.nevents == 1);

out:
    if (C.fd >= 0)
        close(C.fd);
    C.fd = -1;
    /* The server notices the hang-up and lets the client go. */
    if (S.srv) {
        uint64_t start = vt_now_ms();
        while (virtwire_server_nclients(S.srv) && vt_now_ms() - start < 5000) {
            int rc = virtwire_server_run_once(S.srv, 20);
            if (rc == VIRTWIRE_ENOMEM)
                S.run_enomem = 1;
            complete_deferred();
        }
        if (virtwire_server_nclients(S.srv))
            bad = FA_FAIL("the server kept the client");
    }
    virtwire_server_free(S.srv);
    S.srv = NULL;
    for (int i = 0; i < 2; i++) {
        close(graphics_pipe[i]);
        close(in_pipe[i]);
    }
    for (size_t i = 0; i < MAX_SERIALS; i++)
        for (size_t k = 0; k < C.rep[i].nfds; k++)
            close(C.rep[i].fds[k]);
    for (size_t i = 0; i < C.nrfds; i++)
        close(C.rfds[i]);
    if (bad)
        return 1;
    if (setup_rc < 0) {
        if (setup_rc != VIRTWIRE_ENOMEM || !fa_injecting())
            return FA_FAIL("setting up the server gave %s", virtwire_error_name(setup_rc));
        return 0;
    }
    if (S.run_enomem && !fa_injecting())
        return FA_FAIL("run_once gave VIRTWIRE_ENOMEM");
    if (outcome == RES_OOM && !fa_injecting())
        return FA_FAIL("an out-of-memory error without a failed allocation");
    if (outcome == RES_CLOSED) {
        if (!fa_injecting())
            return FA_FAIL("the server hung up");
        if (S.opened && S.close_reason != VIRTWIRE_ENOMEM)
            return FA_FAIL("the client was dropped with %s",
                           virtwire_error_name(S.close_reason) ? virtwire_error_name(S.close_reason)
                                                               : "no error");
    }
    if (fa_fired() && outcome == 0 && !S.run_enomem)
        return FA_FAIL("an allocation failed and nothing said so");
    return 0;
}

int main(int argc, char **argv)
{
    if (!fa_session_args(argc, argv, 0, NULL))
        return 2;
    const char *tmp = getenv("TMPDIR");
    char dir[128];
    snprintf(dir, sizeof dir, "%s/vwaXXXXXX", tmp && strlen(tmp) < 60 ? tmp : P_tmpdir);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[160];
    snprintf(path, sizeof path, "%s/s", dir);
    for (size_t i = 0; i < sizeof shot; i++)
        shot[i] = (unsigned char)(i * 13);
    int rc = fa_run("alloc.server.session", session, path, 60);
    unlink(path);
    rmdir(dir);
    return rc;
}
