/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fd passing over a real AF_UNIX socket, the way libvirt does it: the frame
 * bytes, then each fd in its own sendmsg() with a one-byte dummy payload and
 * SCM_RIGHTS.  The receiving side reads no more than need() asks for, so it
 * never reads past a frame that announces fds, and frames sent right after
 * the fds arrive intact.  The fds are checked by reading through them.
 */
#define _GNU_SOURCE /* struct cmsghdr, CMSG_* on glibc with -std=c11 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tlib.h"
#include "vt_fds.h"

#define REMOTE 0x20008086u

typedef struct peer {
    virtwire_transport *t;
    virtwire_transport_program *p;
    int sock;
    vt_buf log;
    int kept_fd; /* the fd a callback took */
} peer;

static int on_send(virtwire_transport *t, const struct iovec *iov, size_t niov, const int *fds,
                   size_t nfds, void *opaque)
{
    peer *me = opaque;
    (void)t;
    size_t total = 0;
    for (size_t i = 0; i < niov; i++)
        total += iov[i].iov_len;
    /* Small frames on a blocking socket: one writev() does it. */
    if (writev(me->sock, iov, (int)niov) != (ssize_t)total)
        return -1;
    for (size_t i = 0; i < nfds; i++)
        if (vt_send_fd(me->sock, fds[i]) < 0)
            return -1;
    return 0;
}

/* Reads and feeds until n callbacks have been logged. */
static int pump_until(peer *me, size_t lines)
{
    unsigned char buf[4096];
    for (;;) {
        size_t have = 0;
        for (size_t i = 0; i < me->log.len; i++)
            have += me->log.p[i] == '\n';
        if (have >= lines)
            return 0;
        virtwire_need need = virtwire_transport_need(me->t);
        if (need.kind == VIRTWIRE_NEED_FDS) {
            int fd = vt_recv_fd(me->sock, 10000);
            if (fd < 0 || virtwire_transport_receive_fd(me->t, fd) < 0)
                return -1;
            continue;
        }
        if (need.kind != VIRTWIRE_NEED_BYTES)
            return -1;
        size_t want = need.count < sizeof(buf) ? need.count : sizeof(buf);
        ssize_t n = read(me->sock, buf, want);
        if (n <= 0)
            return -1;
        if (virtwire_transport_receive(me->t, buf, (size_t)n) != n)
            return -1;
    }
}

static int keep_fd(peer *me, const virtwire_transport_msg *m)
{
    if (m->nfds) {
        me->kept_fd = m->fds[0];
        m->fds[0] = -1;
    }
    return 0;
}

static int server_call(virtwire_transport_program *p, const virtwire_transport_msg *m, void *o)
{
    peer *me = o;
    (void)p;
    tl_log_msg(&me->log, 'C', m);
    return keep_fd(me, m);
}

static int client_reply(virtwire_transport_program *p, const virtwire_transport_msg *m, void *o)
{
    peer *me = o;
    (void)p;
    tl_log_msg(&me->log, 'R', m);
    return keep_fd(me, m);
}

static void peer_init(peer *me, virtwire_transport_role role, int sock)
{
    memset(me, 0, sizeof(*me));
    me->sock = sock;
    me->kept_fd = -1;
    virtwire_transport_callbacks cbs = { .size = sizeof cbs, .on_send = on_send };
    virtwire_transport_program_callbacks pcbs = { .size = sizeof pcbs, .on_call = server_call, .on_reply = client_reply };
    CHECK_INT(virtwire_transport_new(role, &cbs, me, &me->t), 0);
    CHECK_INT(virtwire_transport_register(me->t, REMOTE, 1, &pcbs, me, &me->p), 0);
}

/* from sends procedure 310 (serial 0) as type_fds with fd (then closed)
 * and right behind it procedure 1 (serial: given) as type_plain, both with
 * the payload; to gets both (its log: want) and keeps the fd. */
static void send_two(peer *from, peer *to, virNetMessageType type_fds,
                     virNetMessageType type_plain, uint32_t serial, const void *payload,
                     size_t len, int fd, const char *want)
{
    CHECK_INT(virtwire_transport_send(from->p, 310, type_fds, VIR_NET_OK, 0, payload, len, &fd,
                                      1),
              0);
    CHECK_INT(virtwire_transport_send(from->p, 1, type_plain, VIR_NET_OK, serial, payload, len,
                                      NULL, 0),
              1);
    close(fd);
    CHECK_INT(pump_until(to, 2), 0);
    CHECK_STR(vt_buf_str(&to->log), want);
    CHECK(to->kept_fd >= 0);
}

int main(void)
{
    int sv[2], to_server[2], to_client[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || pipe(to_server) != 0 || pipe(to_client) != 0)
        return 1;
    peer c, s;
    peer_init(&c, VIRTWIRE_TRANSPORT_CLIENT, sv[0]);
    peer_init(&s, VIRTWIRE_TRANSPORT_SERVER, sv[1]);

    /* Client: a CALL_WITH_FDS carrying a pipe's write end, and right
     * behind its fd, another CALL. */
    unsigned char args[4] = { 0, 0, 0, 7 };
    send_two(&c, &s, VIR_NET_CALL_WITH_FDS, VIR_NET_CALL, 0, args, 4, to_server[1],
             "C prog=20008086 vers=1 proc=310 type=4 serial=0 status=0 len=4 data=00000007 fds=1\n"
             "C prog=20008086 vers=1 proc=1 type=0 serial=1 status=0 len=4 data=00000007 fds=0\n");
    CHECK_INT(write(s.kept_fd, "to server", 9), 9);
    close(s.kept_fd);
    char got[16] = { 0 };
    CHECK_INT(read(to_server[0], got, sizeof(got)), 9);
    CHECK_STR(got, "to server");

    /* Server: REPLY_WITH_FDS with a pipe's read end, then the other reply. */
    send_two(&s, &c, VIR_NET_REPLY_WITH_FDS, VIR_NET_REPLY, 1, NULL, 0, to_client[0],
             "R prog=20008086 vers=1 proc=310 type=5 serial=0 status=0 len=0 data= fds=1\n"
             "R prog=20008086 vers=1 proc=1 type=1 serial=1 status=0 len=0 data= fds=0\n");
    CHECK_INT(write(to_client[1], "to client", 9), 9);
    memset(got, 0, sizeof(got));
    CHECK_INT(read(c.kept_fd, got, sizeof(got)), 9);
    CHECK_STR(got, "to client");
    close(c.kept_fd);
    close(to_client[1]);
    close(to_server[0]);

    virtwire_transport_free(c.t);
    virtwire_transport_free(s.t);
    vt_buf_free(&c.log);
    vt_buf_free(&s.log);
    close(sv[0]);
    close(sv[1]);
    return vt_finish("transport.socket");
}
