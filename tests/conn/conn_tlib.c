/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "conn_tlib.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>

int ct_pump(virtwire_conn **conns, size_t n, ct_cond cond, void *ctx, int timeout_ms)
{
    int64_t deadline = (int64_t)vt_now_ms() + timeout_ms;
    struct pollfd p[8];
    if (n > 8)
        return -1;
    for (;;) {
        if (cond && cond(ctx))
            return 0;
        int64_t left = deadline - (int64_t)vt_now_ms();
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
