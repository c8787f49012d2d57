/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Driver of the RPC benchmark: runs one workload in one mode against a
 * daemon and prints one result line (see README.md):
 *
 *   bench_rpc_{ours,ref} URI WORKLOAD MODE [REPS REP_MS]
 *   bench_rpc_ours URI hold N
 *
 * WORKLOAD: lib_version, get_info, list_all, setup.  MODE: seq, threads4,
 * pipeline.  Output: "rate=<calls/s> cpu_us=<client CPU per call>
 * p50_us=<> p99_us=<> calls=<> child_cpu_us=<>", the rate and CPU medians
 * of REPS repetitions of REP_MS milliseconds each (after one warm-up
 * repetition), the percentiles over every call of every repetition, and
 * the CPU per call of the child processes reaped by the end (an ssh URI's
 * ssh), over every call including the warm-up.  With
 * VIRTWIRE_BENCH_DAEMON_PID=<pid> in the environment, the line ends with
 * "daemon_cpu_us=<>": the median over the repetitions of that process's
 * CPU time per call (every thread's, from /proc/<pid>/task/<tid>/schedstat)
 * over each counted repetition.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

/* Under callgrind (bench/rpc/run --callgrind), the instructions of the
 * counted repetitions alone, every thread's, go to a dump of their own;
 * elsewhere these do nothing. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_ZERO_STATS
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(what)
#endif

#define THREADS 4
#define WINDOW 64

enum mode { M_SEQ, M_THREADS, M_PIPELINE };

/* CPU time (user + system) of this process, or of its children that
 * have been waited for (who: RUSAGE_SELF, RUSAGE_CHILDREN). */
static double cpu_us_of(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static double cpu_us(void)
{
    return cpu_us_of(RUSAGE_SELF);
}

/* CPU time of every thread of process pid, in microseconds: the first
 * field of each thread's schedstat (nanoseconds on a CPU).  A thread that
 * ends meanwhile is skipped; -1 when the process cannot be read. */
static double pid_cpu_us(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    double total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char stat[128];
        snprintf(stat, sizeof stat, "/proc/%ld/task/%.20s/schedstat", pid, e->d_name);
        FILE *f = fopen(stat, "r");
        if (!f)
            continue;
        unsigned long long ns;
        if (fscanf(f, "%llu", &ns) == 1)
            total += (double)ns / 1e3;
        fclose(f);
    }
    closedir(d);
    return total;
}

/* What one repetition needs. */
struct run {
    const char *uri;
    bench_conn *conn;
    enum bench_workload w;
    struct timespec deadline;
};

/* One thread making synchronous calls until the deadline. */
struct worker {
    struct run *run;
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
    /* At least one call: on a loaded machine the thread may first run
     * after the deadline. */
    do {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (bench_call(k->run->conn, t, k->run->w, k->run->uri) < 0) {
            k->failed = 1;
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        bench_samples_add(&k->samples, bench_us_between(&a, &b));
        k->calls++;
    } while (bench_before(&k->run->deadline));
    bench_thread_free(t);
    return NULL;
}

/* Runs one repetition in mode m; adds latencies to all.  Returns the
 * number of calls, or -1. */
static long repetition(struct run *run, enum mode m, bench_samples *all)
{
    if (m == M_PIPELINE)
        return bench_pipeline(run->conn, run->w, WINDOW, &run->deadline, all);
    int n = m == M_THREADS ? THREADS : 1;
    struct worker k[THREADS];
    pthread_t tid[THREADS];
    memset(k, 0, sizeof k);
    for (int i = 0; i < n; i++) {
        k[i].run = run;
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

static int parse_workload(const char *s, enum bench_workload *w)
{
    static const char *const names[] = { "lib_version", "get_info", "list_all", "setup" };
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *w = (enum bench_workload)i;
            return 0;
        }
    return -1;
}

static int parse_mode(const char *s, enum mode *m)
{
    static const char *const names[] = { "seq", "threads4", "pipeline" };
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *m = (enum mode)i;
            return 0;
        }
    return -1;
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s URI {lib_version|get_info|list_all|setup} {seq|threads4|pipeline} "
            "[REPS REP_MS]\n       %s URI hold N\n",
            argv0, argv0);
    return 2;
}

/* Connects and prepares the workload (setup needs no connection). */
static int prepare(struct run *run)
{
    if (run->w == W_SETUP)
        return 0;
    run->conn = bench_open(run->uri);
    if (!run->conn)
        return -1;
    int n = bench_prepare(run->conn, run->w);
    if (n < 0)
        return -1;
    /* Both clients must list the same daemon state: "test" + 100. */
    if (run->w == W_LIST_ALL && n < 101) {
        fprintf(stderr, "%s: only %d domains listed (is the holder running?)\n", bench_backend, n);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[2], "hold") == 0)
        return bench_hold(argv[1], atoi(argv[3]));
    struct run run = { .uri = argc > 1 ? argv[1] : NULL };
    enum mode m;
    if ((argc != 4 && argc != 6) || parse_workload(argv[2], &run.w) < 0 ||
        parse_mode(argv[3], &m) < 0)
        return usage(argv[0]);
    int reps = argc == 6 ? atoi(argv[4]) : 7, rep_ms = argc == 6 ? atoi(argv[5]) : 200;
    if (reps < 1 || reps > 99 || rep_ms < 1 || (run.w == W_SETUP && m != M_SEQ))
        return usage(argv[0]);
    if (prepare(&run) < 0)
        return 1;

    const char *dpid_env = getenv("VIRTWIRE_BENCH_DAEMON_PID");
    long dpid = dpid_env ? strtol(dpid_env, NULL, 10) : 0;
    if (dpid > 0 && pid_cpu_us(dpid) < 0) {
        fprintf(stderr, "%s: cannot read the CPU time of process %ld\n", bench_backend, dpid);
        return 1;
    }
    double rate[99], cpu[99], dcpu[99];
    bench_samples all = { 0 };
    long total = 0, with_warmup = 0;
    for (int r = -1; r < reps; r++) { /* r == -1: warm-up, not counted */
        bench_samples scratch = { 0 };
        struct timespec a, b;
        double d0 = dpid > 0 ? pid_cpu_us(dpid) : 0;
        double c0 = cpu_us();
        clock_gettime(CLOCK_MONOTONIC, &a);
        bench_deadline_in(&run.deadline, r < 0 ? rep_ms / 2 : rep_ms);
        if (r == 0)
            CALLGRIND_ZERO_STATS;
        long calls = repetition(&run, m, r < 0 ? &scratch : &all);
        if (r == reps - 1)
            CALLGRIND_DUMP_STATS_AT("counted repetitions");
        clock_gettime(CLOCK_MONOTONIC, &b);
        double c1 = cpu_us();
        double d1 = dpid > 0 ? pid_cpu_us(dpid) : 0;
        free(scratch.v);
        if (calls == -2) {
            fprintf(stderr, "%s: no asynchronous calls\n", bench_backend);
            return 2;
        }
        if (calls <= 0) {
            fprintf(stderr, "%s: %s %s failed\n", bench_backend, argv[2], argv[3]);
            return 1;
        }
        with_warmup += calls;
        if (r >= 0) {
            rate[r] = (double)calls * 1e6 / bench_us_between(&a, &b);
            cpu[r] = (c1 - c0) / (double)calls;
            dcpu[r] = (d1 - d0) / (double)calls;
            total += calls;
        }
    }
    if (run.conn)
        bench_close(run.conn);
    /* The children (the ssh of an ssh URI) are reaped by the close: their
     * CPU over every call made, warm-up included. */
    double child = cpu_us_of(RUSAGE_CHILDREN) / (double)with_warmup;
    double p50 = bench_percentile(all.v, all.n, 0.50);
    double p99 = bench_percentile(all.v, all.n, 0.99);
    printf("rate=%.0f cpu_us=%.2f p50_us=%.1f p99_us=%.1f calls=%ld child_cpu_us=%.2f",
           bench_percentile(rate, (size_t)reps, 0.5), bench_percentile(cpu, (size_t)reps, 0.5),
           p50, p99, total, child);
    if (dpid > 0)
        printf(" daemon_cpu_us=%.2f", bench_percentile(dcpu, (size_t)reps, 0.5));
    printf("\n");
    free(all.v);
    return 0;
}
