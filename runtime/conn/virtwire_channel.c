/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire channels: the generic calls and the socket channel (unix and
 * TCP, fds as libvirt passes them).  See virtwire_channel.h.
 */
#define _GNU_SOURCE /* MSG_CMSG_CLOEXEC, CMSG_* */
#include "virtwire_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Generic calls                                                            */
/* ------------------------------------------------------------------------ */

ssize_t virtwire_channel_read(virtwire_channel *ch, void *buf, size_t len, int *fd)
{
    *fd = -1;
    return ch->ops->read(ch, buf, len, fd);
}

ssize_t virtwire_channel_writev(virtwire_channel *ch, const struct iovec *iov, size_t niov)
{
    return ch->ops->writev(ch, iov, niov);
}

int virtwire_channel_send_fd(virtwire_channel *ch, int fd)
{
    if (!(ch->flags & VIRTWIRE_CHANNEL_FDS) || !ch->ops->send_fd)
        return VIRTWIRE_EINVAL;
    return ch->ops->send_fd(ch, fd);
}

int virtwire_channel_handshake(virtwire_channel *ch)
{
    return ch->ops->handshake ? ch->ops->handshake(ch) : 0;
}

short virtwire_channel_events(virtwire_channel *ch, short want)
{
    return ch->ops->events ? ch->ops->events(ch, want) : want;
}

const char *virtwire_channel_error_detail(virtwire_channel *ch)
{
    return ch && ch->ops->error_detail ? ch->ops->error_detail(ch) : NULL;
}

unsigned int virtwire_channel_ssf(virtwire_channel *ch)
{
    return ch && ch->ops->ssf ? ch->ops->ssf(ch) : 0;
}

void virtwire_channel_shutdown(virtwire_channel *ch)
{
    if (ch)
        ch->ops->shutdown(ch);
}

void virtwire_channel_free(virtwire_channel *ch)
{
    if (ch)
        ch->ops->free(ch);
}

int virtwire_channel_fd(const virtwire_channel *ch)
{
    return ch ? ch->fd : -1;
}

int virtwire_channel_can_pass_fds(const virtwire_channel *ch)
{
    return ch && (ch->flags & VIRTWIRE_CHANNEL_FDS) != 0;
}

const char *virtwire_channel_name(const virtwire_channel *ch)
{
    return ch && ch->ops->name ? ch->ops->name : "channel";
}

/* ------------------------------------------------------------------------ */
/* Sockets                                                                  */
/* ------------------------------------------------------------------------ */

/* The socket is the whole channel: no state beyond the base. */
typedef struct sock_channel {
    virtwire_channel base;
} sock_channel;

/* A failed socket call's errno as our code, keeping errno. */
static int sock_error(int err)
{
    errno = err;
    return (err == EPIPE || err == ECONNRESET) ? VIRTWIRE_ECLOSED : VIRTWIRE_EIO;
}

/* One read: everything the socket has, up to len.  On a unix socket the
 * read is a recvmsg() with room for one fd (MSG_CMSG_CLOEXEC): Linux ends
 * a read of a stream socket right after the bytes that carry fds, so an
 * fd that comes is the one of the read's last byte, the dummy byte libvirt
 * sends with each fd.  One fd per message, as libvirt sends them: the
 * first is kept, the others closed (the kernel closed any that did not fit
 * the buffer, which has room for more than one on 64-bit). */
static ssize_t sock_read(virtwire_channel *ch, void *buf, size_t len, int *fd)
{
    int is_unix = (ch->flags & VIRTWIRE_CHANNEL_FDS) != 0;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { buf, len };
    for (;;) {
        struct msghdr mh = { 0 };
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        if (is_unix) {
            mh.msg_control = ctl.buf;
            mh.msg_controllen = sizeof(ctl.buf);
        }
        ssize_t n = recvmsg(ch->fd, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return sock_error(errno);
        }
        if (n == 0)
            return VIRTWIRE_ECLOSED;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); is_unix && cm; cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
                cm->cmsg_len < CMSG_LEN(sizeof(int)))
                continue;
            size_t nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < nfds; i++) {
                int got;
                memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                if (*fd < 0)
                    *fd = got;
                else
                    close(got);
            }
        }
        return n;
    }
}

static ssize_t sock_writev(virtwire_channel *ch, const struct iovec *iov, size_t niov)
{
    struct msghdr mh = { 0 };
    mh.msg_iov = (struct iovec *)iov;
    mh.msg_iovlen = niov;
    for (;;) {
        ssize_t n = sendmsg(ch->fd, &mh, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return sock_error(errno);
    }
}

/* One fd with its dummy byte, as libvirt sends it. */
static int sock_send_fd(virtwire_channel *ch, int fd)
{
    char dummy = 0;
    struct iovec iov = { &dummy, 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct msghdr mh = { 0 };
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    for (;;) {
        ssize_t n = sendmsg(ch->fd, &mh, MSG_NOSIGNAL);
        if (n == 1)
            return 1;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        return sock_error(n < 0 ? errno : EIO);
    }
}

static void sock_shutdown(virtwire_channel *ch)
{
    /* Wakes a poll() on the socket in any thread (POLLIN | POLLHUP). */
    shutdown(ch->fd, SHUT_RDWR);
}

static void sock_free(virtwire_channel *ch)
{
    if (ch->fd >= 0)
        close(ch->fd);
    free(ch);
}

static const virtwire_channel_ops unix_ops = {
    .size = sizeof unix_ops,
    .name = "unix",
    .read = sock_read,
    .writev = sock_writev,
    .send_fd = sock_send_fd,
    .shutdown = sock_shutdown,
    .free = sock_free,
};

static const virtwire_channel_ops tcp_ops = {
    .size = sizeof tcp_ops,
    .name = "tcp",
    .read = sock_read,
    .writev = sock_writev,
    .shutdown = sock_shutdown,
    .free = sock_free,
};

static int set_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

int virtwire_channel_socket_new(int fd, int is_unix, virtwire_channel **out)
{
    if (out)
        *out = NULL;
    if (fd < 0 || !out) {
        if (fd >= 0)
            close(fd);
        return VIRTWIRE_EINVAL;
    }
    if (set_nonblock_cloexec(fd) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return VIRTWIRE_EIO;
    }
    if (!is_unix) {
        int one = 1;
        /* Small calls must not wait for Nagle; harmless if not TCP. */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    sock_channel *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return VIRTWIRE_ENOMEM;
    }
    s->base.ops = is_unix ? &unix_ops : &tcp_ops;
    s->base.fd = fd;
    /* Everything not read is in the socket's buffer, which poll() sees. */
    s->base.flags = VIRTWIRE_CHANNEL_NO_BUFFER | (is_unix ? VIRTWIRE_CHANNEL_FDS : 0u);
    *out = &s->base;
    return 0;
}
