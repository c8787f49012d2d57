/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "conn_tlib.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int ct_failures;

void ct_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: check failed: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    ct_failures++;
}

int ct_done(const char *name)
{
    if (ct_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, ct_failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

int ct_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ct_pump(virtwire_conn **conns, size_t n, ct_cond cond, void *ctx, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    struct pollfd p[8];
    if (n > 8)
        return -1;
    for (;;) {
        if (cond && cond(ctx))
            return 0;
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            p[i] = (struct pollfd){ virtwire_conn_fd(conns[i]), virtwire_conn_events(conns[i]), 0 };
        int r = poll(p, (nfds_t)n, (int)(left < 100 ? left : 100));
        if (r < 0 && errno != EINTR)
            return -1;
        for (size_t i = 0; r > 0 && i < n; i++) {
            if (!p[i].revents)
                continue;
            int rc = virtwire_conn_process(conns[i], p[i].revents);
            if (rc < 0)
                return rc;
        }
    }
}

void ct_small_buffers(int sock, int bytes)
{
    setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
    setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

void ct_fill(unsigned char *p, size_t len, uint32_t seed, uint64_t off)
{
    for (size_t i = 0; i < len; i++)
        p[i] = ct_pattern(seed, off + i);
}

int ct_matches(const unsigned char *p, size_t len, uint32_t seed, uint64_t off)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != ct_pattern(seed, off + i))
            return 0;
    return 1;
}

int ct_write_all(int fd, const void *p, size_t len)
{
    const unsigned char *b = p;
    while (len) {
        ssize_t w = write(fd, b, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        len -= (size_t)w;
    }
    return 0;
}
