/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The server benchmark's client (bench/server/README.md): one of the RPC
 * benchmark's backends (bench/rpc/ours.c, virtwire_client; bench/rpc/ref.c,
 * libvirt.so) driven so that the orchestrator can read the server's CPU
 * time around the measured part only.
 *
 *   client URI call WORKLOAD CONNS MODE MS
 *       opens CONNS connections, prepares each, warms up for MS/2, prints
 *       "ready", waits for a line on stdin, runs MODE for MS on every
 *       connection at once, prints "calls=N secs=S domains=D", then waits
 *       for the end of stdin before closing the connections (so that their
 *       teardown falls outside what the orchestrator measures)
 *   client URI hold N
 *       bench_hold(): N extra domains defined and held (ours only)
 *
 * WORKLOAD: lib_version, get_info, list_all.  MODE: seq (one thread per
 * connection, one call after the other), pipelined (ours: 64 asynchronous
 * calls in flight on each connection; libvirt.so, which has no
 * asynchronous calls: 4 threads making synchronous calls on each
 * connection, as bench/rpc's reference figure for its pipelined rows).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#define MAX_CONNS 64
#define WINDOW 64
#define REF_THREADS 4 /* per connection, libvirt.so's "pipelined" */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One thread: synchronous calls on its connection, or (pipelined, ours)
 * the window of asynchronous calls on it. */
struct worker {
    bench_conn *conn;
    enum bench_workload w;
    int pipelined;
    const struct timespec *deadline;
    bench_samples samples;
    long calls;
    int failed;
};

static void *worker_run(void *opaque)
{
    struct worker *k = opaque;
    if (k->pipelined) {
        long n = bench_pipeline(k->conn, k->w, WINDOW, k->deadline, &k->samples);
        if (n < 0)
            k->failed = 1;
        else
            k->calls = n;
        return NULL;
    }
    bench_thread *t = bench_thread_new();
    if (!t) {
        k->failed = 1;
        return NULL;
    }
    /* At least one call: on a loaded machine the thread may first run
     * after the deadline. */
    do {
        if (bench_call(k->conn, t, k->w, NULL) < 0) {
            k->failed = 1;
            break;
        }
        k->calls++;
    } while (bench_before(k->deadline));
    bench_thread_free(t);
    return NULL;
}

/* One run of ms on every connection at once; calls, or -1. */
static long run_all(bench_conn **conns, int nconns, enum bench_workload w, int pipelined,
                    int ms)
{
    /* libvirt.so cannot pipeline: 4 synchronous threads per connection. */
    int ref = strcmp(bench_backend, "ref") == 0;
    int per_conn = pipelined && ref ? REF_THREADS : 1;
    int n = nconns * per_conn;
    struct worker *k = calloc((size_t)n, sizeof *k);
    pthread_t *tid = calloc((size_t)n, sizeof *tid);
    if (!k || !tid) {
        free(k);
        free(tid);
        return -1;
    }
    struct timespec deadline;
    bench_deadline_in(&deadline, ms);
    int started = 0;
    for (int i = 0; i < n; i++) {
        k[i] = (struct worker){ .conn = conns[i / per_conn], .w = w,
                                .pipelined = pipelined && !ref, .deadline = &deadline };
        if (pthread_create(&tid[i], NULL, worker_run, &k[i]) != 0)
            break;
        started++;
    }
    long calls = 0;
    int failed = started < n;
    for (int i = 0; i < started; i++) {
        pthread_join(tid[i], NULL);
        calls += k[i].calls;
        failed |= k[i].failed;
        free(k[i].samples.v);
    }
    free(k);
    free(tid);
    return failed ? -1 : calls;
}

static int cmd_call(const char *uri, const char *wl, int nconns, const char *mode, int ms)
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
    int pipelined;
    if (strcmp(mode, "seq") == 0)
        pipelined = 0;
    else if (strcmp(mode, "pipelined") == 0)
        pipelined = 1;
    else
        return 2;
    if (nconns < 1 || nconns > MAX_CONNS || ms < 1)
        return 2;
    bench_conn *conns[MAX_CONNS];
    int domains = 0;
    for (int i = 0; i < nconns; i++) {
        conns[i] = bench_open(uri);
        if (!conns[i])
            return 1;
        int n = bench_prepare(conns[i], w);
        if (n < 0)
            return 1;
        domains = n;
    }
    if (run_all(conns, nconns, w, pipelined, ms / 2) < 0)
        return 1;
    printf("ready\n");
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return 1;
    double t0 = now_s();
    long calls = run_all(conns, nconns, w, pipelined, ms);
    double t1 = now_s();
    if (calls <= 0) {
        fprintf(stderr, "%s: %s %d %s failed\n", bench_backend, wl, nconns, mode);
        return 1;
    }
    printf("calls=%ld secs=%.6f domains=%d\n", calls, t1 - t0, domains);
    fflush(stdout);
    while (fgets(line, sizeof line, stdin))
        ;
    for (int i = 0; i < nconns; i++)
        bench_close(conns[i]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[2], "call") == 0)
        return cmd_call(argv[1], argv[3], atoi(argv[4]), argv[5], atoi(argv[6]));
    if (argc == 4 && strcmp(argv[2], "hold") == 0)
        return bench_hold(argv[1], atoi(argv[3]));
    fprintf(stderr, "usage: %s URI {call WORKLOAD CONNS seq|pipelined MS | hold N}\n", argv[0]);
    return 2;
}
