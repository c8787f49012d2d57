/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The proxy benchmark's client (bench/proxy/README.md): the RPC
 * benchmark's virtwire backend (bench/rpc/ours.c) driven so that the
 * orchestrator can read the proxy's and the daemon's CPU time around the
 * measured part only.
 *
 *   client URI call WORKLOAD MODE MS   connects, prepares, warms up for MS/2,
 *                                      prints "ready", waits for a line on
 *                                      stdin, runs MODE for MS, prints
 *                                      "calls=N secs=S p50_us=P p99_us=Q"
 *   client URI stream MS               the same with downloads of the
 *                                      4 MiB volume of virtwire-mockd:
 *                                      "bytes=N secs=S"
 *   client URI idle N                  N connections, "ready", held until
 *                                      stdin ends
 *   client URI hold N                  bench_hold(): N extra domains
 *
 * WORKLOAD: lib_version, get_info, list_all.  MODE: seq (one thread),
 * threads4 (four threads, one connection), pipelined (64 asynchronous
 * calls in flight).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "remote_protocol_client.h"

#define THREADS 4
#define WINDOW 64

/* Waits for the orchestrator's line. */
static void ready(void)
{
    printf("ready\n");
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        exit(1);
}

struct worker {
    bench_conn *conn;
    enum bench_workload w;
    const struct timespec *deadline;
    bench_samples samples;
    long calls;
    int failed;
};

static void *sync_loop(void *opaque)
{
    struct worker *k = opaque;
    bench_thread *t = bench_thread_new();
    if (!t) {
        k->failed = 1;
        return NULL;
    }
    while (bench_before(k->deadline)) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (bench_call(k->conn, t, k->w, NULL) < 0) {
            k->failed = 1;
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        bench_samples_add(&k->samples, bench_us_between(&a, &b));
        k->calls++;
    }
    bench_thread_free(t);
    return NULL;
}

/* One run of ms in the mode; latencies into all.  Calls, or -1. */
static long run_mode(bench_conn *c, enum bench_workload w, const char *mode, int ms,
                     bench_samples *all)
{
    struct timespec deadline;
    bench_deadline_in(&deadline, ms);
    if (strcmp(mode, "pipelined") == 0)
        return bench_pipeline(c, w, WINDOW, &deadline, all);
    int n = strcmp(mode, "threads4") == 0 ? THREADS : 1;
    struct worker k[THREADS];
    pthread_t tid[THREADS];
    memset(k, 0, sizeof k);
    for (int i = 0; i < n; i++) {
        k[i] = (struct worker){ .conn = c, .w = w, .deadline = &deadline };
        if (pthread_create(&tid[i], NULL, sync_loop, &k[i]) != 0)
            return -1;
    }
    long calls = 0;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(tid[i], NULL);
        calls += k[i].calls;
        failed |= k[i].failed;
        for (size_t j = 0; j < k[i].samples.n; j++)
            bench_samples_add(all, k[i].samples.v[j]);
        free(k[i].samples.v);
    }
    return failed ? -1 : calls;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_call(const char *uri, const char *wl, const char *mode, int ms)
{
    enum bench_workload w;
    if (strcmp(wl, "lib_version") == 0)
        w = W_LIB_VERSION;
    else if (strcmp(wl, "get_info") == 0)
        w = W_GET_INFO;
    else if (strcmp(wl, "list_all") == 0)
        w = W_LIST_ALL;
    else
        return 2;
    bench_conn *c = bench_open(uri);
    if (!c || bench_prepare(c, w) < 0)
        return 1;
    bench_samples warm = { 0 }, all = { 0 };
    if (run_mode(c, w, mode, ms / 2, &warm) < 0)
        return 1;
    free(warm.v);
    ready();
    double t0 = now_s();
    long calls = run_mode(c, w, mode, ms, &all);
    double t1 = now_s();
    if (calls <= 0)
        return 1;
    printf("calls=%ld secs=%.6f p50_us=%.1f p99_us=%.1f\n", calls, t1 - t0,
           bench_percentile(all.v, all.n, 0.5), bench_percentile(all.v, all.n, 0.99));
    fflush(stdout);
    free(all.v);
    bench_close(c);
    return 0;
}

/* Downloads the mock's volume (4 MiB, not sparse) once; bytes or -1. */
static long download(virtwire_client *c, unsigned char *buf, size_t len)
{
    remote_storage_vol_download_args a = {
        .vol = { .pool = (char *)"default", .name = (char *)"disk.img", .key = (char *)"" },
    };
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = 30000 };
    virtwire_client_stream *s;
    if (remote_stream_storage_vol_download(c, &a, &o, &s) < 0)
        return -1;
    long total = 0;
    for (;;) {
        long n = virtwire_client_stream_recv(s, buf, len, NULL, 30000, NULL);
        if (n < 0) {
            virtwire_client_stream_free(s);
            return -1;
        }
        if (n == 0)
            break;
        total += n;
    }
    int rc = virtwire_client_stream_finish(s, 30000, NULL);
    virtwire_client_stream_free(s);
    return rc < 0 ? -1 : total;
}

static int cmd_stream(const char *uri, int ms)
{
    virtwire_client *c;
    if (virtwire_client_connect(uri, NULL, &c) < 0)
        return 1;
    static unsigned char buf[1 << 20];
    if (download(c, buf, sizeof buf) < 0)
        return 1;
    ready();
    struct timespec deadline;
    bench_deadline_in(&deadline, ms);
    double t0 = now_s();
    long long bytes = 0;
    while (bench_before(&deadline)) {
        long n = download(c, buf, sizeof buf);
        if (n < 0)
            return 1;
        bytes += n;
    }
    double t1 = now_s();
    printf("bytes=%lld secs=%.6f\n", bytes, t1 - t0);
    fflush(stdout);
    virtwire_client_close(c);
    return 0;
}

static int cmd_idle(const char *uri, int n)
{
    virtwire_client **cs = calloc((size_t)n, sizeof *cs);
    if (!cs)
        return 1;
    for (int i = 0; i < n; i++)
        if (virtwire_client_connect(uri, NULL, &cs[i]) < 0) {
            fprintf(stderr, "client: connection %d failed\n", i);
            return 1;
        }
    printf("ready\n");
    fflush(stdout);
    char line[16];
    while (fgets(line, sizeof line, stdin))
        ;
    for (int i = 0; i < n; i++)
        virtwire_client_close(cs[i]);
    free(cs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[2], "call") == 0)
        return cmd_call(argv[1], argv[3], argv[4], atoi(argv[5]));
    if (argc == 4 && strcmp(argv[2], "stream") == 0)
        return cmd_stream(argv[1], atoi(argv[3]));
    if (argc == 4 && strcmp(argv[2], "idle") == 0)
        return cmd_idle(argv[1], atoi(argv[3]));
    if (argc == 4 && strcmp(argv[2], "hold") == 0)
        return bench_hold(argv[1], atoi(argv[3]));
    fprintf(stderr, "usage: client URI {call WORKLOAD MODE MS | stream MS | idle N | hold N}\n");
    return 2;
}
