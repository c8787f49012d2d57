/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The floor of a relay: what any user-space proxy between a libvirt client
 * and its daemon costs at the least, to set `virtwire proxy`'s figures
 * against (bench/proxy/README.md).
 *
 *   bench_proxy_relay LISTEN_SOCKET DAEMON_SOCKET
 *
 * Listens on a unix socket; each client gets a connection of its own to
 * the daemon's unix socket, and bytes go both ways as they come, with the
 * proxy's loop (one thread, poll(), 1 MiB socket buffers) and nothing
 * else: no framing, no frame inspection, no fds, no queues beyond one
 * buffer per direction, no memory limits, no logging.  It is a
 * benchmark's yardstick, not a proxy: a peer that stops reading stalls its
 * direction, and errors end the connection silently.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A stream packet of libvirt's (256 KiB) plus its header fits whole. */
#define BUF_SIZE (256 * 1024 + 64)
#define SOCKET_BUFFER (1 << 20)

/* One direction: bytes read from one socket, waiting for the other. */
typedef struct {
    unsigned char *buf;
    size_t off, len;
} half;

typedef struct pair {
    int cfd, dfd;
    half up;   /* client -> daemon */
    half down; /* daemon -> client */
    int dead;
    struct pair *next;
} pair;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path) {
        fprintf(stderr, "relay: socket path too long: %s\n", path);
        return -1;
    }
    strcpy(sa->sun_path, path);
    return 0;
}

static int nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void widen(int fd)
{
    int n = SOCKET_BUFFER;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof n);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof n);
}

static void pair_free(pair *p)
{
    close(p->cfd);
    close(p->dfd);
    free(p->up.buf);
    free(p->down.buf);
    free(p);
}

static pair *pair_new(int cfd, const struct sockaddr_un *daemon)
{
    pair *p = calloc(1, sizeof *p);
    if (!p) {
        close(cfd);
        return NULL;
    }
    p->cfd = cfd;
    p->dfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    p->up.buf = malloc(BUF_SIZE);
    p->down.buf = malloc(BUF_SIZE);
    if (p->dfd < 0 || !p->up.buf || !p->down.buf ||
        connect(p->dfd, (const struct sockaddr *)daemon, sizeof *daemon) < 0 ||
        nonblock(p->dfd) < 0) {
        fprintf(stderr, "relay: cannot reach the daemon: %s\n", strerror(errno));
        pair_free(p);
        return NULL;
    }
    widen(cfd);
    widen(p->dfd);
    return p;
}

/* Writes what h holds to fd: 0 when all is written or the socket is full,
 * -1 when the peer is gone. */
static int drain(half *h, int fd)
{
    while (h->off < h->len) {
        ssize_t n = write(fd, h->buf + h->off, h->len - h->off);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        h->off += (size_t)n;
    }
    h->off = h->len = 0;
    return 0;
}

/* Reads from fd into an empty h and writes it on to out at once, as the
 * proxy does; -1 when either peer is gone. */
static int carry(half *h, int in, int out)
{
    if (h->len)
        return 0;
    ssize_t n = read(in, h->buf, BUF_SIZE);
    if (n == 0)
        return -1;
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    h->len = (size_t)n;
    return drain(h, out);
}

static void step(pair *p, short cr, short dr)
{
    if ((cr & POLLOUT) && drain(&p->down, p->cfd) < 0)
        p->dead = 1;
    if ((dr & POLLOUT) && drain(&p->up, p->dfd) < 0)
        p->dead = 1;
    if (!p->dead && (cr & (POLLIN | POLLHUP | POLLERR)) && carry(&p->up, p->cfd, p->dfd) < 0)
        p->dead = 1;
    if (!p->dead && (dr & (POLLIN | POLLHUP | POLLERR)) &&
        carry(&p->down, p->dfd, p->cfd) < 0)
        p->dead = 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_proxy_relay LISTEN_SOCKET DAEMON_SOCKET\n");
        return 2;
    }
    struct sockaddr_un la, da;
    if (unix_addr(argv[1], &la) < 0 || unix_addr(argv[2], &da) < 0)
        return 2;
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&la, sizeof la) < 0 || listen(lfd, 128) < 0) {
        fprintf(stderr, "relay: cannot listen on %s: %s\n", argv[1], strerror(errno));
        return 1;
    }

    pair *pairs = NULL;
    size_t npairs = 0, cap = 0;
    struct pollfd *pfd = NULL;
    pair **who = NULL;
    while (!stopping) {
        size_t want = 1 + 2 * npairs;
        if (want > cap) {
            cap = 2 * want;
            pfd = realloc(pfd, cap * sizeof *pfd);
            who = realloc(who, cap * sizeof *who);
            if (!pfd || !who) {
                fprintf(stderr, "relay: out of memory\n");
                return 1;
            }
        }
        size_t k = 0;
        pfd[k++] = (struct pollfd){ lfd, POLLIN, 0 };
        for (pair *p = pairs; p; p = p->next) {
            /* A direction is read while its buffer is empty, written
             * while it is not. */
            who[k] = p;
            pfd[k++] = (struct pollfd){ p->cfd,
                                        (short)((p->up.len ? 0 : POLLIN) |
                                                (p->down.len ? POLLOUT : 0)),
                                        0 };
            who[k] = p;
            pfd[k++] = (struct pollfd){ p->dfd,
                                        (short)((p->down.len ? 0 : POLLIN) |
                                                (p->up.len ? POLLOUT : 0)),
                                        0 };
        }
        if (poll(pfd, k, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "relay: poll: %s\n", strerror(errno));
            break;
        }
        if (pfd[0].revents & POLLIN) {
            int cfd;
            while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                pair *p = pair_new(cfd, &da);
                if (p) {
                    p->next = pairs;
                    pairs = p;
                    npairs++;
                }
            }
        }
        for (size_t i = 1; i + 1 < k; i += 2)
            if (pfd[i].revents || pfd[i + 1].revents)
                step(who[i], pfd[i].revents, pfd[i + 1].revents);
        for (pair **pp = &pairs; *pp;) {
            pair *p = *pp;
            if (p->dead) {
                *pp = p->next;
                npairs--;
                pair_free(p);
            } else {
                pp = &p->next;
            }
        }
    }
    while (pairs) {
        pair *p = pairs;
        pairs = p->next;
        pair_free(p);
    }
    free(pfd);
    free(who);
    close(lfd);
    unlink(argv[1]);
    return 0;
}
