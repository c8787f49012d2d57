/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The RPC benchmark: one driver (main.c) and two backends making the same
 * calls, ours (virtwire_client) and the reference (libvirt.so).  Each
 * backend is linked into an executable of its own, so that the client CPU
 * time getrusage() reports belongs to one client only.
 */
#ifndef BENCH_RPC_H
#define BENCH_RPC_H

#include <stddef.h>
#include <time.h>

enum bench_workload {
    W_LIB_VERSION, /* CONNECT_GET_LIB_VERSION */
    W_GET_INFO,    /* DOMAIN_GET_INFO of the domain "test" */
    W_LIST_ALL,    /* CONNECT_LIST_ALL_DOMAINS (101 domains) */
    W_SETUP,       /* connection open + close */
};

/* Latencies in microseconds, appended by one thread at a time. */
typedef struct bench_samples {
    double *v;
    size_t n, cap;
} bench_samples;

/* samples.c */
void bench_samples_add(bench_samples *s, double us);
/* The p-quantile (0 to 1) of v[0..n), sorting v; 0 when n is 0. */
double bench_percentile(double *v, size_t n, double p);
double bench_us_between(const struct timespec *a, const struct timespec *b);
int bench_before(const struct timespec *deadline); /* now < deadline */
void bench_deadline_in(struct timespec *d, int ms);  /* ms from now */

typedef struct bench_conn bench_conn;
typedef struct bench_thread bench_thread;

/* "ours" or "ref". */
extern const char bench_backend[];

/* One connection to the daemon URI designates; NULL on failure (after a
 * message on stderr). */
bench_conn *bench_open(const char *uri);
void bench_close(bench_conn *c);

/* Makes what workload w needs on c (the domain handle of "test").  For
 * W_LIST_ALL, returns the number of domains (so that the driver can check
 * that both clients list the same 101), else 0; -1 on failure. */
int bench_prepare(bench_conn *c, enum bench_workload w);

/* Per-thread call state (arenas, buffers). */
bench_thread *bench_thread_new(void);
void bench_thread_free(bench_thread *t);

/* One synchronous call of workload w (W_SETUP: opens uri and closes it,
 * c is unused).  0 or -1. */
int bench_call(bench_conn *c, bench_thread *t, enum bench_workload w, const char *uri);

/* Keeps window asynchronous calls of workload w in flight on c until the
 * deadline, adding each call's latency to s.  Returns the number of calls
 * completed, -1 on failure, -2 when the backend has no asynchronous calls. */
long bench_pipeline(bench_conn *c, enum bench_workload w, int window,
                    const struct timespec *deadline, bench_samples *s);

/* Defines n extra domains through a connection of its own, prints "ready",
 * and holds the connection (test:///default keeps its state only while a
 * connection is open) until stdin reaches end of file.  Ours only: the
 * reference returns 2. */
int bench_hold(const char *uri, int n);

#endif
