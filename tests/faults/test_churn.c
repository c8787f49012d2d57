/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 10,000 connections opened and closed against the example daemon
 * (examples/virtwire-mockd, started here), from two threads:
 *   7 in 10  raw sockets: the open handshake and CONNECT_CLOSE pipelined
 *            in one write, the four replies read, then close;
 *   1 in 10  virtwire_client_connect() and virtwire_client_close();
 *   1 in 10  the handshake, then a hang-up without CONNECT_CLOSE;
 *   1 in 10  half a call, then a hang-up.
 * Afterwards the daemon has exactly the fds it had after a warm-up
 * (/proc/PID/fd), its resident memory (VmRSS) has not grown beyond a
 * small bound, it still serves, and it exits cleanly on SIGTERM (built
 * with AddressSanitizer: without leaks).
 *
 *   test_faults_churn connections VIRTWIRE_MOCKD
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flib.h"
#include "remote_protocol.h"
#include "virtwire_client.h"

#define NCONN 10000
#define WARMUP 300
#define NTHREADS 2
/* VmRSS growth allowed over 10,000 connections: a leak of 100 bytes per
 * connection would exceed it. */
#define GROWTH_KIB 768

static vt_mockd D;
static unsigned char handshake[512];
static size_t handshake_len;

static void build_handshake(void)
{
    size_t len;
    remote_connect_supports_feature_args fa = { 10 };
    char *name = (char *)"test:///default";
    remote_connect_open_args oa = { &name, 0 };
    unsigned char *parts[4] = {
        vt_build_value(REMOTE_PROC_AUTH_LIST, VIR_NET_CALL, 1, VIR_NET_OK, NULL, NULL, &len),
        NULL, NULL, NULL,
    };
    size_t lens[4] = { len };
    parts[1] = vt_build_value(REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, VIR_NET_CALL, 2, VIR_NET_OK,
                              &remote_connect_supports_feature_args_desc, &fa, &lens[1]);
    parts[2] = vt_build_value(REMOTE_PROC_CONNECT_OPEN, VIR_NET_CALL, 3, VIR_NET_OK,
                              &remote_connect_open_args_desc, &oa, &lens[2]);
    parts[3] = vt_build_value(REMOTE_PROC_CONNECT_CLOSE, VIR_NET_CALL, 4, VIR_NET_OK, NULL, NULL,
                              &lens[3]);
    for (int i = 0; i < 4; i++) {
        memcpy(handshake + handshake_len, parts[i], lens[i]);
        handshake_len += lens[i];
        free(parts[i]);
    }
}

/* Reads replies to serials first..last, all OK. */
static int read_replies(int fd, uint32_t first, uint32_t last)
{
    for (uint32_t s = first; s <= last; s++) {
        vt_frame f;
        if (vt_read_frame(fd, &f, 5000) < 0)
            return -1;
        int ok = f.hdr.type == VIR_NET_REPLY && f.hdr.status == VIR_NET_OK && f.hdr.serial == s;
        vt_frame_free(&f);
        if (!ok)
            return -1;
    }
    return 0;
}

/* Connection number i, of the kind i says.  Returns 0 or -1. */
static int one(int i)
{
    int kind = i % 10;
    if (kind == 7) {
        virtwire_client *c = NULL;
        int rc = virtwire_client_connect(D.uri, NULL, &c);
        virtwire_client_close(c);
        return rc == 0 ? 0 : -1;
    }
    int fd = vt_connect_unix(D.path);
    if (fd < 0)
        return -1;
    int rc;
    if (kind == 8) {
        /* Handshake without CONNECT_CLOSE. */
        size_t three = handshake_len - 28;
        rc = vt_write_all(fd, handshake, three) < 0 ? -1 : read_replies(fd, 1, 3);
    } else if (kind == 9) {
        /* Half of AUTH_LIST. */
        rc = vt_write_all(fd, handshake, 14);
    } else {
        rc = vt_write_all(fd, handshake, handshake_len) < 0 ? -1 : read_replies(fd, 1, 4);
    }
    close(fd);
    return rc;
}

typedef struct worker {
    pthread_t th;
    int first, count, failed;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int i = w->first; i < w->first + w->count; i++)
        if (one(i) < 0 && w->failed++ < 5)
            fprintf(stderr, "connection %d failed\n", i);
    return NULL;
}

static void run(int first, int count)
{
    worker w[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        w[t].first = first + t * (count / NTHREADS);
        w[t].count = count / NTHREADS;
        w[t].failed = 0;
        pthread_create(&w[t].th, NULL, worker_main, &w[t]);
    }
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(w[t].th, NULL);
        CHECK_RC(w[t].failed, 0);
    }
}

static void test_connections(void)
{
    build_handshake();
    int fds0 = vt_count_fds(0);
    flib_mockd_start(&D, "mockd", NULL);
    int dfds_start = vt_count_fds(D.pid);

    run(0, WARMUP);
    int dfds_warm = vt_wait_fds(D.pid, dfds_start, 3000);
    CHECK_RC(dfds_warm, dfds_start);
    long rss_warm = vt_rss_kib(D.pid);

    uint64_t t0 = vt_now_ms();
    run(WARMUP, NCONN);
    uint64_t took = vt_now_ms() - t0;
    int dfds_end = vt_wait_fds(D.pid, dfds_start, 3000);
    long rss_end = vt_rss_kib(D.pid);
    printf("connections: %d in %llu ms; daemon fds %d at start, %d after the warm-up, %d after; "
           "VmRSS %ld KiB after the warm-up, %ld after\n",
           NCONN, (unsigned long long)took, dfds_start, dfds_warm, dfds_end, rss_warm, rss_end);
    CHECK_RC(dfds_end, dfds_start);
    CHECK(rss_warm > 0 && rss_end - rss_warm < GROWTH_KIB);

    /* Still serving. */
    virtwire_client *c = NULL;
    CHECK_RC(virtwire_client_connect(D.uri, NULL, &c), 0);
    if (c) {
        flib_check_lookup(c, "vm1");
        virtwire_client_close(c);
    }
    CHECK_RC(vt_mockd_stop(&D), 0);
    CHECK_RC(vt_count_fds(0), fds0);
}

int main(int argc, char **argv)
{
    static const vt_group groups[] = {
        { "connections", test_connections },
        { NULL, NULL },
    };
    return flib_main(argc, argv, groups);
}
