/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire connections: see virtwire_conn.h.
 *
 * Output is a byte queue plus a queue of fds, each fd recorded with the
 * absolute output position (bytes ever written) after which it goes, so that
 * every fd leaves right after the last byte of its frame and before any byte
 * of the next one.
 */
#define _GNU_SOURCE /* MSG_CMSG_CLOEXEC, SOCK_CLOEXEC, F_DUPFD_CLOEXEC, CMSG_* */
#include "virtwire_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "virtwire_sized_internal.h"

/* Read buffer: frames wholly inside one read are dispatched without a copy,
 * so it holds a full stream packet (262120 bytes of data + header). */
#define READ_BUF_SIZE (256u * 1024u + 64u)

typedef struct queued_fd {
    int fd;        /* our dup(), closed once sent */
    uint64_t pos;  /* goes once this many bytes have been written in all */
} queued_fd;

struct virtwire_conn {
    virtwire_channel *ch;
    int fds_ok;  /* the channel carries fds */
    int ready;   /* the channel's handshake is done */
    virtwire_transport *t;
    /* The caller's callbacks and opaque, called through the trampolines. */
    virtwire_transport_callbacks user;
    void *user_opaque;

    /* Output: q[qhead .. qhead+qlen) is not written yet; written counts the
     * bytes written since the start (position of q[qhead]). */
    unsigned char *q;
    size_t qhead, qlen, qcap;
    uint64_t written;
    queued_fd *fdq;
    size_t fdq_head, fdq_len, fdq_cap;

    /* Input: bytes read but not yet consumed by the transport. */
    unsigned char *rbuf;
    size_t rstart, rend;
    int rfd;     /* an fd received with the last byte read, not yet used (-1) */
    int drained; /* the last read found the socket empty */
    int level;   /* see virtwire_conn_set_level_triggered() */
    int shortread; /* the last read was short, from a channel that keeps
                      nothing (VIRTWIRE_CHANNEL_NO_BUFFER) */

    int corked; /* see virtwire_conn_cork() */
    int held;    /* see virtwire_conn_hold_input() */
    int feeding; /* inside virtwire_transport_receive{,_fd}() */
    /* A wrap asked for from a callback, done when receive() returns. */
    virtwire_conn_wrap_fn wrap_fn;
    void *wrap_opaque;
    int paused; /* see virtwire_conn_pause_reading() */
    int rerr;  /* sticky: reading is over (EOF, socket or transport error) */
    int werr;  /* sticky: writing failed */
    int saved_errno;
    atomic_int shut; /* virtwire_conn_shutdown() was called */
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline (-1: none), for poll(). */
static int time_left(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - now_ms();
    if (left <= 0)
        return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

static int64_t deadline_after(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* Maps a failed system call's errno to our code, keeping errno. */
static int sock_error(virtwire_conn *c, int err)
{
    c->saved_errno = err;
    errno = err;
    return (err == EPIPE || err == ECONNRESET) ? VIRTWIRE_ECLOSED : VIRTWIRE_EIO;
}

/* A channel operation failed with rc: keeps the errno of a failed system
 * call (VIRTWIRE_EIO, or VIRTWIRE_ECLOSED from EPIPE or ECONNRESET). */
static int channel_error(virtwire_conn *c, int rc)
{
    if (rc == VIRTWIRE_EIO || rc == VIRTWIRE_ECLOSED)
        c->saved_errno = errno;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                  */
/* ------------------------------------------------------------------------ */

/* One fd with its dummy byte, as libvirt sends it.  Returns 1 when sent,
 * 0 when the channel is full, or a negative code. */
static int send_one_fd(virtwire_conn *c, int fd)
{
    int rc = virtwire_channel_send_fd(c->ch, fd);
    return rc < 0 ? channel_error(c, rc) : rc;
}

/* Writes iov without blocking.  Returns the bytes written (maybe 0) or a
 * negative code. */
static ssize_t send_iov(virtwire_conn *c, const struct iovec *iov, size_t niov)
{
    ssize_t n = virtwire_channel_writev(c->ch, iov, niov);
    return n < 0 ? channel_error(c, (int)n) : n;
}

static int queue_bytes(virtwire_conn *c, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (c->qcap - c->qhead - c->qlen < n) {
        /* Slide the unwritten bytes to the front, then grow if needed. */
        if (c->qhead) {
            memmove(c->q, c->q + c->qhead, c->qlen);
            c->qhead = 0;
        }
        if (c->qcap - c->qlen < n) {
            size_t cap = c->qcap ? c->qcap : 4096;
            while (cap - c->qlen < n) {
                if (cap > SIZE_MAX / 2)
                    return VIRTWIRE_ENOMEM;
                cap *= 2;
            }
            unsigned char *q = realloc(c->q, cap);
            if (!q)
                return VIRTWIRE_ENOMEM;
            c->q = q;
            c->qcap = cap;
        }
    }
    memcpy(c->q + c->qhead + c->qlen, p, n);
    c->qlen += n;
    return 0;
}

/* Queues a dup() of fd, to go once pos bytes have been written. */
static int queue_fd(virtwire_conn *c, int fd, uint64_t pos)
{
    if (c->fdq_head + c->fdq_len == c->fdq_cap) {
        if (c->fdq_head) {
            memmove(c->fdq, c->fdq + c->fdq_head, c->fdq_len * sizeof(*c->fdq));
            c->fdq_head = 0;
        } else {
            size_t cap = c->fdq_cap ? c->fdq_cap * 2 : 8;
            queued_fd *q = realloc(c->fdq, cap * sizeof(*q));
            if (!q)
                return VIRTWIRE_ENOMEM;
            c->fdq = q;
            c->fdq_cap = cap;
        }
    }
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return sock_error(c, errno);
    c->fdq[c->fdq_head + c->fdq_len++] = (queued_fd){ dup_fd, pos };
    return 0;
}

static void drop_output(virtwire_conn *c)
{
    for (size_t i = 0; i < c->fdq_len; i++)
        close(c->fdq[c->fdq_head + i].fd);
    c->fdq_head = c->fdq_len = 0;
    c->qhead = c->qlen = 0;
}

/* A write failed: writing is over; what is queued will never go. */
static int write_failed(virtwire_conn *c, int code)
{
    if (!c->werr)
        c->werr = code;
    drop_output(c);
    return c->werr;
}

/* Writes queued output until done or the socket is full.  Returns 0
 * (output may remain) or the sticky write error. */
static int write_queue(virtwire_conn *c)
{
    if (c->werr)
        return c->werr;
    if (!c->ready)
        return 0; /* frames wait for the channel's handshake */
    for (;;) {
        if (c->fdq_len && c->fdq[c->fdq_head].pos == c->written) {
            int rc = send_one_fd(c, c->fdq[c->fdq_head].fd);
            if (rc < 0)
                return write_failed(c, rc);
            if (rc == 0)
                return 0;
            close(c->fdq[c->fdq_head].fd);
            c->fdq_head++;
            if (--c->fdq_len == 0)
                c->fdq_head = 0;
            continue;
        }
        if (c->qlen == 0)
            return 0;
        size_t n = c->qlen;
        if (c->fdq_len && c->fdq[c->fdq_head].pos - c->written < n)
            n = (size_t)(c->fdq[c->fdq_head].pos - c->written);
        struct iovec iov = { c->q + c->qhead, n };
        ssize_t w = send_iov(c, &iov, 1);
        if (w < 0)
            return write_failed(c, (int)w);
        if (w == 0)
            return 0;
        c->qhead += (size_t)w;
        c->qlen -= (size_t)w;
        c->written += (uint64_t)w;
        if (c->qlen == 0)
            c->qhead = 0;
    }
}

/* Queues what is left of iov after its first skip bytes. */
static int queue_iov_rest(virtwire_conn *c, const struct iovec *iov, size_t niov, size_t skip)
{
    for (size_t i = 0; i < niov; i++) {
        size_t len = iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        int rc = queue_bytes(c, (const unsigned char *)iov[i].iov_base + skip, len - skip);
        if (rc < 0)
            return rc;
        skip = 0;
    }
    return 0;
}

/*
 * The transport's on_send.  With nothing queued, the frame is written
 * straight from the caller's chunks (big stream payloads are not copied
 * when the socket takes them); the rest is copied into the queue, and fds
 * not sent at once are dup()ed, since they are only borrowed.
 */
static int conn_on_send(virtwire_transport *t, const struct iovec *iov, size_t niov,
                        const int *fds, size_t nfds, void *opaque)
{
    virtwire_conn *c = opaque;
    (void)t;
    if (nfds && !c->fds_ok)
        return VIRTWIRE_EINVAL;
    if (atomic_load(&c->shut))
        return VIRTWIRE_ECLOSED;
    /* Earlier output first; if the socket takes it all, this frame may go
     * straight out too. */
    if ((c->qlen || c->fdq_len) && !c->corked)
        write_queue(c);
    if (c->werr)
        return c->werr;
    size_t total = 0;
    for (size_t i = 0; i < niov; i++)
        total += iov[i].iov_len;

    size_t sent = 0;
    size_t fds_sent = 0;
    if (c->qlen == 0 && c->fdq_len == 0 && !c->corked && c->ready) {
        ssize_t w = total ? send_iov(c, iov, niov) : 0;
        if (w < 0)
            return write_failed(c, (int)w);
        sent = (size_t)w;
        c->written += (uint64_t)w;
        while (sent == total && fds_sent < nfds) {
            int rc = send_one_fd(c, fds[fds_sent]);
            if (rc < 0)
                return write_failed(c, rc);
            if (rc == 0)
                break;
            fds_sent++;
        }
    }
    int rc = queue_iov_rest(c, iov, niov, sent);
    /* Every remaining fd goes after the last byte of this frame. */
    uint64_t end = c->written + c->qlen;
    for (size_t i = fds_sent; rc == 0 && i < nfds; i++)
        rc = queue_fd(c, fds[i], end);
    if (rc < 0) {
        /* Part of the frame may be on the wire already, and a frame that
         * is lost whole (a reply, say) leaves the peer waiting: the
         * stream of frames is broken for good either way. */
        return write_failed(c, rc);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Receiving                                                                */
/* ------------------------------------------------------------------------ */

/*
 * Reads once into the empty read buffer: everything the channel has, up
 * to READ_BUF_SIZE.  On a channel that carries fds an fd comes with the
 * read that ends with the byte that carried it (see virtwire_channel.h):
 * the dummy byte libvirt sends with each fd; it waits in c->rfd until the
 * transport asks for it.  Sets c->drained when the channel is found empty.
 * A short read is not taken as empty: reading on until the channel has
 * nothing or ends keeps process() right for edge-triggered event loops
 * that do not report hang-ups apart.  It sets c->shortread when the
 * channel keeps no input of its own, for read_loop() to stop there when
 * the caller polls level-triggered.  Returns the bytes read, 0 when the
 * channel is empty, or a negative code.
 */
static ssize_t read_some(virtwire_conn *c)
{
    /* An fd still here came with bytes already used up as frame bytes (a
     * peer that does not follow the protocol): nobody will ask for it. */
    if (c->rfd >= 0) {
        close(c->rfd);
        c->rfd = -1;
    }
    int fd = -1;
    ssize_t n = virtwire_channel_read(c->ch, c->rbuf, READ_BUF_SIZE, &fd);
    if (fd >= 0)
        c->rfd = fd;
    if (n < 0)
        return channel_error(c, (int)n); /* VIRTWIRE_ECLOSED: also mid-frame */
    if (n == 0) {
        c->drained = 1;
        return 0;
    }
    c->rstart = 0;
    c->rend = (size_t)n;
    c->shortread = (size_t)n < READ_BUF_SIZE && (c->ch->flags & VIRTWIRE_CHANNEL_NO_BUFFER);
    return n;
}

static int apply_pending_wrap(virtwire_conn *c);

/* Feeds rbuf[rstart .. rend) to the transport until it is used up or the
 * transport waits for fds.  Returns 0 or the transport's error. */
static int feed_bytes(virtwire_conn *c)
{
    while (c->rstart < c->rend && !c->held) {
        virtwire_need need = virtwire_transport_need(c->t);
        if (need.kind != VIRTWIRE_NEED_BYTES)
            return 0;
        c->feeding = 1;
        ssize_t n = virtwire_transport_receive(c->t, c->rbuf + c->rstart, c->rend - c->rstart);
        c->feeding = 0;
        if (n < 0)
            return (int)n;
        if (n == 0) /* cannot happen: receive() stops only where fds are due */
            return virtwire_transport_error(c->t) ? virtwire_transport_error(c->t)
                                                  : VIRTWIRE_EFD_MISSING;
        c->rstart += (size_t)n;
        int rc = apply_pending_wrap(c);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Hands the transport the fd it waits for, with its dummy byte, the next
 * byte read.  Returns 0, 1 when the socket has nothing more yet, or a
 * negative code. */
static int feed_fd(virtwire_conn *c)
{
    if (!c->fds_ok)
        return VIRTWIRE_EFD_MISSING; /* fds pass over local unix sockets only */
    if (c->rstart == c->rend) {
        if (c->drained)
            return 1;
        ssize_t n = read_some(c);
        if (n <= 0)
            return n < 0 ? (int)n : 1;
    }
    if (c->rfd < 0)
        return VIRTWIRE_EFD_MISSING; /* a plain byte came where an fd was due */
    int fd = c->rfd;
    c->rfd = -1;
    c->rstart++; /* the dummy byte */
    c->feeding = 1;
    int rc = virtwire_transport_receive_fd(c->t, fd); /* owns fd, even on error */
    c->feeding = 0;
    return rc < 0 ? rc : apply_pending_wrap(c);
}

/*
 * Reads and feeds the transport until the socket has no more.  Bytes are
 * read as many as the socket has, past the ends of frames: the fds of a
 * frame come with the dummy bytes after it, each in a read of its own (see
 * read_some()).  Stops early when reading is paused, unless hung_up (the
 * peer can send nothing more: what it sent is read to the end).  With
 * c->level, also once the bytes of a short read from a channel that keeps
 * nothing are used up (unless hung_up): the socket had no more, and the
 * caller's next poll() reports what comes after.  Returns 0 (socket
 * drained, or paused) or the code that ends reading.
 */
static int read_loop(virtwire_conn *c, int hung_up)
{
    c->drained = 0;
    c->shortread = 0;
    for (;;) {
        if (atomic_load(&c->shut))
            return VIRTWIRE_ECLOSED;
        if ((c->paused && !hung_up) || c->held) /* what was read waits */
            return 0;
        virtwire_need need = virtwire_transport_need(c->t);
        if (need.kind == VIRTWIRE_NEED_NOTHING)
            return virtwire_transport_error(c->t);
        int rc;
        if (need.kind == VIRTWIRE_NEED_FDS) {
            rc = feed_fd(c);
            if (rc != 0)
                return rc > 0 ? 0 : rc;
            continue;
        }
        if (c->rstart < c->rend) {
            rc = feed_bytes(c);
            if (rc < 0)
                return rc;
            continue;
        }
        if (c->drained || (c->shortread && c->level && !hung_up))
            return 0;
        ssize_t n = read_some(c);
        if (n < 0)
            return (int)n;
    }
}

/* ------------------------------------------------------------------------ */
/* Changing the channel                                                     */
/* ------------------------------------------------------------------------ */

void virtwire_conn_hold_input(virtwire_conn *c)
{
    if (!c)
        return;
    c->held = 1;
    if (c->feeding) /* the transport stops after the frame it delivers */
        virtwire_transport_stop_receive(c->t);
}

void virtwire_conn_release_input(virtwire_conn *c)
{
    if (c)
        c->held = 0;
}

size_t virtwire_conn_buffered_input(const virtwire_conn *c)
{
    return c ? c->rend - c->rstart : 0;
}

static int wrap_now(virtwire_conn *c, virtwire_conn_wrap_fn fn, void *opaque)
{
    if (c->fdq_len)
        return VIRTWIRE_EFDPASS;
    virtwire_channel *wrapped = NULL;
    int rc = fn(c->ch, c->rbuf + c->rstart, c->rend - c->rstart, c->qlen, opaque, &wrapped);
    if (rc < 0)
        return rc;
    if (!wrapped)
        return VIRTWIRE_EINVAL;
    c->ch = wrapped;
    c->fds_ok = virtwire_channel_can_pass_fds(wrapped);
    c->rstart = c->rend = 0;
    if (c->rfd >= 0) { /* an fd that came with bytes now the new channel's */
        close(c->rfd);
        c->rfd = -1;
    }
    c->drained = 0; /* the new channel may hold input already */
    c->shortread = 0;
    c->held = 0;
    return 0;
}

/* After receive() returned: the wrap a callback asked for.  Returns 0 or
 * its error (sticky, as a read error). */
static int apply_pending_wrap(virtwire_conn *c)
{
    if (!c->wrap_fn)
        return 0;
    virtwire_conn_wrap_fn fn = c->wrap_fn;
    c->wrap_fn = NULL;
    return wrap_now(c, fn, c->wrap_opaque);
}

int virtwire_conn_wrap_channel(virtwire_conn *c, virtwire_conn_wrap_fn fn, void *opaque)
{
    if (!c || !fn || c->rerr || atomic_load(&c->shut))
        return c && (c->rerr || atomic_load(&c->shut)) ? VIRTWIRE_ECLOSED : VIRTWIRE_EINVAL;
    if (c->feeding) {
        /* From a callback: the bytes of this frame are not counted yet. */
        c->wrap_fn = fn;
        c->wrap_opaque = opaque;
        virtwire_conn_hold_input(c);
        return 0;
    }
    return wrap_now(c, fn, opaque);
}

/* ------------------------------------------------------------------------ */
/* Processing                                                               */
/* ------------------------------------------------------------------------ */

int virtwire_conn_process(virtwire_conn *c, short revents)
{
    if (!c)
        return VIRTWIRE_EINVAL;
    if (c->rerr)
        return c->rerr;
    if (atomic_load(&c->shut))
        return c->rerr = VIRTWIRE_ECLOSED;
    if (revents & POLLNVAL) {
        c->saved_errno = errno = EBADF;
        return c->rerr = VIRTWIRE_EIO;
    }
    if (!c->ready) {
        /* The channel's own handshake (TLS) comes before any frame. */
        int rc = virtwire_channel_handshake(c->ch);
        if (rc < 0)
            return c->rerr = channel_error(c, rc);
        if (rc > 0)
            return 0;
        c->ready = 1; /* and the peer's first frames may be here already */
    }
    int saved = 0;
    write_queue(c);
    /* A failed write still lets us read what the peer sent before; so does
     * a hang-up while reading is paused. */
    int hung_up = (revents & (POLLHUP | POLLERR)) || c->werr;
    if ((!c->paused && (revents == 0 || (revents & POLLIN))) || hung_up) {
        int rc = read_loop(c, hung_up);
        if (rc < 0) {
            saved = errno;
            /* The transport could not send (a PONG, say) because writing
             * failed: the write error says why. */
            c->rerr = rc == VIRTWIRE_ESEND && c->werr ? c->werr : rc;
        }
    }
    /* Callbacks may have queued replies (a PONG, say). */
    if (!c->rerr && (c->qlen || c->fdq_len))
        write_queue(c);
    if (c->rerr) {
        errno = saved;
        return c->rerr;
    }
    if (c->werr) {
        errno = c->saved_errno;
        return c->werr;
    }
    return 0;
}

short virtwire_conn_events(const virtwire_conn *c)
{
    if (!c || c->rerr || atomic_load(&c->shut))
        return 0;
    if (!c->ready) /* the channel says which way its handshake goes */
        return virtwire_channel_events(c->ch, POLLIN);
    short ev = c->paused || c->held ? 0 : POLLIN;
    if (!c->werr && (c->qlen || c->fdq_len))
        ev |= POLLOUT;
    return ev ? virtwire_channel_events(c->ch, ev) : 0;
}

/* Polls the socket for ev until deadline, retrying EINTR.  Returns the
 * revents (0 on timeout) or a negative code. */
static int wait_for(virtwire_conn *c, short ev, int64_t deadline)
{
    for (;;) {
        struct pollfd p = { c->ch->fd, ev, 0 };
        int n = poll(&p, 1, time_left(deadline));
        if (n >= 0)
            return n ? p.revents : 0;
        if (errno != EINTR)
            return sock_error(c, errno);
    }
}

int virtwire_conn_run_once(virtwire_conn *c, int timeout_ms)
{
    if (!c)
        return VIRTWIRE_EINVAL;
    short ev = virtwire_conn_events(c);
    if (ev == 0 && !c->paused && !c->held)
        return virtwire_conn_process(c, POLLIN);
    int64_t ka = virtwire_transport_keepalive_timeout(c->t);
    int wait_ms = timeout_ms;
    if (ka >= 0 && (wait_ms < 0 || ka < wait_ms))
        wait_ms = (int)ka;
    /* Paused with nothing to write, ev is 0: a hang-up still ends the wait. */
    int revents = wait_for(c, ev, deadline_after(wait_ms));
    if (revents < 0)
        return c->rerr = revents;
    if (revents) {
        int rc = virtwire_conn_process(c, (short)revents);
        if (rc < 0)
            return rc;
    }
    if (ka >= 0) {
        int rc = virtwire_transport_keepalive_tick(c->t);
        if (rc < 0)
            return c->rerr = rc;
        /* A PING may have been queued. */
        if (c->qlen || c->fdq_len)
            write_queue(c);
    }
    return 0;
}

int virtwire_conn_flush(virtwire_conn *c, int timeout_ms)
{
    if (!c)
        return VIRTWIRE_EINVAL;
    int64_t deadline = deadline_after(timeout_ms);
    for (;;) {
        if (atomic_load(&c->shut))
            return VIRTWIRE_ECLOSED;
        int rc = write_queue(c);
        if (rc < 0)
            return rc;
        if (c->qlen == 0 && c->fdq_len == 0)
            return 0;
        int revents = wait_for(c, POLLOUT, deadline);
        if (revents < 0)
            return revents;
        if (revents == 0)
            return VIRTWIRE_ETIMEDOUT;
        /* POLLERR and POLLHUP: the next write reports the error. */
    }
}

void virtwire_conn_cork(virtwire_conn *c, int on)
{
    if (c)
        c->corked = on != 0;
}

void virtwire_conn_set_level_triggered(virtwire_conn *c, int on)
{
    if (c)
        c->level = on != 0;
}

void virtwire_conn_pause_reading(virtwire_conn *c, int on)
{
    if (c)
        c->paused = on != 0;
}

size_t virtwire_conn_pending_output(const virtwire_conn *c)
{
    return c ? c->qlen + c->fdq_len : 0;
}

int virtwire_conn_write_error(const virtwire_conn *c)
{
    return c ? c->werr : VIRTWIRE_EINVAL;
}

int virtwire_conn_errno(const virtwire_conn *c)
{
    return c ? c->saved_errno : 0;
}

void virtwire_conn_shutdown(virtwire_conn *c)
{
    if (!c)
        return;
    atomic_store(&c->shut, 1);
    /* Wakes a poll() on the channel in any thread (POLLIN | POLLHUP). */
    virtwire_channel_shutdown(c->ch);
}

virtwire_transport *virtwire_conn_transport(virtwire_conn *c)
{
    return c ? c->t : NULL;
}

int virtwire_conn_fd(const virtwire_conn *c)
{
    return c ? c->ch->fd : -1;
}

int virtwire_conn_is_unix(const virtwire_conn *c)
{
    return c ? c->fds_ok : 0;
}

virtwire_channel *virtwire_conn_channel(virtwire_conn *c)
{
    return c ? c->ch : NULL;
}

int virtwire_conn_handshake(virtwire_conn *c, int timeout_ms)
{
    if (!c)
        return VIRTWIRE_EINVAL;
    int64_t deadline = deadline_after(timeout_ms);
    while (!c->ready) {
        if (atomic_load(&c->shut))
            return VIRTWIRE_ECLOSED;
        int rc = virtwire_conn_process(c, 0);
        if (rc < 0 || c->ready)
            return rc;
        int revents = wait_for(c, virtwire_conn_events(c), deadline);
        if (revents < 0)
            return c->rerr = revents;
        if (revents == 0)
            return VIRTWIRE_ETIMEDOUT;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */
/* ------------------------------------------------------------------------ */

/* Trampolines: the transport's opaque is the connection; the caller's
 * callbacks get the caller's opaque. */
static void tramp_on_error(virtwire_transport *t, int code, const virNetMessageHeader *hdr,
                           int fatal, void *opaque)
{
    virtwire_conn *c = opaque;
    c->user.on_error(t, code, hdr, fatal, c->user_opaque);
}

static void tramp_on_keepalive_dead(virtwire_transport *t, void *opaque)
{
    virtwire_conn *c = opaque;
    c->user.on_keepalive_dead(t, c->user_opaque);
}

static uint64_t tramp_clock_ms(void *opaque)
{
    virtwire_conn *c = opaque;
    return c->user.clock_ms(c->user_opaque);
}

void virtwire_conn_free(virtwire_conn *c)
{
    if (!c)
        return;
    drop_output(c);
    virtwire_transport_free(c->t);
    virtwire_channel_free(c->ch);
    if (c->rfd >= 0)
        close(c->rfd);
    free(c->q);
    free(c->fdq);
    free(c->rbuf);
    free(c);
}

int virtwire_conn_adopt_channel(virtwire_channel *ch, virtwire_transport_role role,
                                const virtwire_transport_callbacks *cbs, void *opaque,
                                virtwire_conn **out)
{
    virtwire_transport_callbacks user = { .size = sizeof user };
    if (out)
        *out = NULL;
    if (!ch || !out || (role != VIRTWIRE_TRANSPORT_CLIENT && role != VIRTWIRE_TRANSPORT_SERVER) ||
        (cbs && vw_sized_copy(&user, sizeof user, cbs) < 0)) {
        virtwire_channel_free(ch);
        return VIRTWIRE_EINVAL;
    }
    virtwire_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        virtwire_channel_free(ch);
        return VIRTWIRE_ENOMEM;
    }
    c->ch = ch;
    c->fds_ok = virtwire_channel_can_pass_fds(ch);
    c->ready = !ch->ops->handshake;
    c->rfd = -1;
    atomic_init(&c->shut, 0);
    c->user = user;
    c->user_opaque = opaque;
    virtwire_transport_callbacks tc = { .size = sizeof tc, .on_send = conn_on_send };
    if (c->user.on_error)
        tc.on_error = tramp_on_error;
    if (c->user.on_keepalive_dead)
        tc.on_keepalive_dead = tramp_on_keepalive_dead;
    if (c->user.clock_ms)
        tc.clock_ms = tramp_clock_ms;
    c->rbuf = malloc(READ_BUF_SIZE);
    int rc = c->rbuf ? virtwire_transport_new(role, &tc, c, &c->t) : VIRTWIRE_ENOMEM;
    if (rc < 0) {
        virtwire_conn_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int virtwire_conn_adopt(int fd, int is_unix, virtwire_transport_role role,
                        const virtwire_transport_callbacks *cbs, void *opaque,
                        virtwire_conn **out)
{
    if (out)
        *out = NULL;
    if (fd < 0 || !out || (role != VIRTWIRE_TRANSPORT_CLIENT && role != VIRTWIRE_TRANSPORT_SERVER) ||
        (cbs && !vw_sized_claim(cbs))) {
        if (fd >= 0)
            close(fd);
        return VIRTWIRE_EINVAL;
    }
    virtwire_channel *ch;
    int rc = virtwire_channel_socket_new(fd, is_unix, &ch);
    if (rc < 0)
        return rc;
    return virtwire_conn_adopt_channel(ch, role, cbs, opaque, out);
}

/* The connection over the channel a connect function made (rc: its
 * result). */
static int adopt_made(int rc, virtwire_channel *ch, virtwire_transport_role role,
                      const virtwire_transport_callbacks *cbs, void *opaque, virtwire_conn **out)
{
    return rc < 0 ? rc : virtwire_conn_adopt_channel(ch, role, cbs, opaque, out);
}

int virtwire_conn_connect_unix(const char *path, virtwire_transport_role role,
                               const virtwire_transport_callbacks *cbs, void *opaque,
                               virtwire_conn **out)
{
    virtwire_channel *ch = NULL;
    if (!out)
        return VIRTWIRE_EINVAL;
    *out = NULL;
    int rc = virtwire_channel_connect_unix(path, NULL, 0, &ch);
    return adopt_made(rc, ch, role, cbs, opaque, out);
}

int virtwire_conn_connect_tcp(const char *host, int port, virtwire_transport_role role,
                              const virtwire_transport_callbacks *cbs, void *opaque,
                              virtwire_conn **out)
{
    virtwire_channel *ch = NULL;
    if (!out)
        return VIRTWIRE_EINVAL;
    *out = NULL;
    int rc = virtwire_channel_connect_tcp(host, port, NULL, 0, &ch);
    return adopt_made(rc, ch, role, cbs, opaque, out);
}

int virtwire_conn_connect_with(const virtwire_uri *uri, const virtwire_connect_params *params,
                               virtwire_transport_role role,
                               const virtwire_transport_callbacks *cbs, void *opaque,
                               virtwire_conn **out)
{
    virtwire_channel *ch = NULL;
    if (!out)
        return VIRTWIRE_EINVAL;
    *out = NULL;
    int rc = virtwire_channel_open_uri(uri, params, &ch);
    return adopt_made(rc, ch, role, cbs, opaque, out);
}

int virtwire_conn_connect_parsed_uri(const virtwire_uri *uri, unsigned flags,
                                     virtwire_transport_role role,
                                     const virtwire_transport_callbacks *cbs, void *opaque,
                                     virtwire_conn **out)
{
    virtwire_connect_params p = { .size = sizeof p, .flags = flags };
    return virtwire_conn_connect_with(uri, &p, role, cbs, opaque, out);
}

int virtwire_conn_connect_uri(const char *uri, unsigned flags, virtwire_transport_role role,
                              const virtwire_transport_callbacks *cbs, void *opaque,
                              virtwire_conn **out)
{
    if (out)
        *out = NULL;
    virtwire_uri *u = NULL;
    int rc = virtwire_uri_parse(uri, &u);
    if (rc < 0)
        return rc;
    rc = virtwire_conn_connect_parsed_uri(u, flags, role, cbs, opaque, out);
    int err = errno;
    virtwire_uri_free(u);
    errno = err;
    return rc;
}
