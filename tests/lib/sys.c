/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE /* accept4, P_tmpdir */

#include "vt_sys.h"
#include "vt_fds.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Time                                                                     */
/* ------------------------------------------------------------------------ */

uint64_t vt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t vt_now_ms(void)
{
    return vt_now_us() / 1000u;
}

void vt_sleep_us(unsigned us)
{
    struct timespec ts = { (time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void vt_sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------------ */
/* /proc                                                                    */
/* ------------------------------------------------------------------------ */

int vt_count_fds(pid_t pid)
{
    char path[64];
    if (pid)
        snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
    else
        snprintf(path, sizeof path, "/proc/self/fd");
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return pid ? n : n - 1; /* not the directory's own fd */
}

void vt_list_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
            continue;
        char path[300], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        fprintf(stderr, "  fd %s: %s\n", e->d_name, target);
    }
    closedir(d);
}

int vt_wait_fds(pid_t pid, int want, int timeout_ms)
{
    uint64_t end = vt_now_ms() + (uint64_t)timeout_ms;
    int n;
    while ((n = vt_count_fds(pid)) != want && vt_now_ms() < end)
        vt_sleep_ms(5);
    return n;
}

long vt_rss_kib(pid_t pid)
{
    if (!pid) {
        FILE *f = fopen("/proc/self/statm", "r");
        long size = 0, resident = -1;
        if (!f)
            return -1;
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = -1;
        fclose(f);
        return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
    }
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* ------------------------------------------------------------------------ */
/* Sockets                                                                  */
/* ------------------------------------------------------------------------ */

static char dir_[64];
static pid_t dir_owner;

static void remove_dir(void)
{
    char cmd[128];
    if (getpid() != dir_owner)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir_);
    if (dir_[0] && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir_);
}

void vt_path(char *buf, size_t n, const char *name)
{
    if (!dir_[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir_, sizeof dir_, "%s/vwfXXXXXX",
                 tmp && *tmp && strlen(tmp) < 40 ? tmp : P_tmpdir);
        if (!mkdtemp(dir_)) {
            perror("mkdtemp");
            exit(1);
        }
        dir_owner = getpid();
        atexit(remove_dir);
    }
    snprintf(buf, n, "%s/%s", dir_, name);
}

int vt_listen_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
        perror("listen");
        exit(1);
    }
    return fd;
}

int vt_connect_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc;
    do
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int vt_accept(int lfd, int timeout_ms)
{
    uint64_t end = vt_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        struct pollfd p = { lfd, POLLIN, 0 };
        int left = (int)(end > vt_now_ms() ? end - vt_now_ms() : 0);
        int n = poll(&p, 1, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0 || errno != EINTR)
            return fd;
    }
}

int vt_socketpair(int sv[2], int flags)
{
    return socketpair(AF_UNIX, SOCK_STREAM | flags, 0, sv) == 0 ? 0 : -1;
}

void vt_bufsize(int fd, int snd, int rcv)
{
    if (snd)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
    if (rcv)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
}

int vt_free_tcp_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int port = -1;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

int vt_write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == ENOTSOCK)
            w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = { fd, POLLOUT, 0 };
            poll(&pf, 1, 100);
            continue;
        }
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int vt_read_exact(int fd, void *p, size_t n, int timeout_ms)
{
    unsigned char *b = p;
    uint64_t end = timeout_ms < 0 ? 0 : vt_now_ms() + (uint64_t)timeout_ms;
    while (n) {
        int left = -1;
        if (end) {
            uint64_t now = vt_now_ms();
            if (now >= end)
                return -1;
            left = (int)(end - now);
        }
        struct pollfd pf = { fd, POLLIN, 0 };
        int pr = poll(&pf, 1, left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -1;
        if (pr == 0)
            continue; /* the deadline check above ends it */
        ssize_t r = recv(fd, b, n, MSG_DONTWAIT);
        if (r < 0 && errno == ENOTSOCK)
            r = read(fd, b, n);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

int vt_send_fd(int sock, int fd)
{
    char dummy = 0;
    struct iovec iov;
    vt_fds_control ctl;
    struct msghdr mh;
    vt_fds_message(&mh, &iov, &ctl, &dummy, 1, &fd, 1);
    for (;;) {
        ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        if (n == 1)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        return -1;
    }
}

int vt_recv_fd(int sock, int timeout_ms)
{
    char dummy;
    struct iovec iov = { &dummy, 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                         .msg_controllen = sizeof ctl.buf };
    for (;;) {
        struct pollfd pf = { sock, POLLIN, 0 };
        if (poll(&pf, 1, timeout_ms) <= 0)
            return -1;
        ssize_t r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r != 1)
            return -1;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
            return -1;
        int fd;
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        return fd;
    }
}
