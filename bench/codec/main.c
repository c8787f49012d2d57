/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Codec benchmark driver: virtwire against rpcgen + libtirpc on the four
 * workloads of values.h, plus memcpy of the W2 message as the physical
 * limit.  See README.md for what is measured and how.
 *
 * Before timing anything it checks that both codecs encode every workload to
 * the same bytes and that both decoders give back the value field by field:
 * a benchmark of codecs that disagree would mean nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static const char *const workload_name[BENCH_NW] = { "W1", "W2", "W3", "W4" };

/* Room for the largest encoding (W2: 1 MiB and 4 bytes). */
#define BUF_CAP ((size_t)2 << 20)

/* Targets (see README.md). */
#define TARGET_SPEEDUP 5.0
#define TARGET_MEMCPY_FRACTION 0.9
#define TARGET_PATH_RATIO 1.15

typedef struct options {
    int reps;           /* repetitions per figure; the median is reported */
    double rep_ns;      /* aimed duration of one repetition */
    int only[BENCH_NW]; /* workloads to run */
    int check;          /* exit status 3 when a target is missed */
} options;

/* The canonical encoding of each workload (virtwire's, checked equal to
 * rpcgen's), the input of every decode. */
static unsigned char *wire[BENCH_NW];
static size_t wire_len[BENCH_NW];
static unsigned char *enc_buf;  /* output of the encode loops */
static unsigned char *copy_buf; /* output of the memcpy loop */

static void die(const char *msg)
{
    fprintf(stderr, "bench codec: %s\n", msg);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        die("out of memory");
    /* touch every page now, not during a timed loop */
    memset(p, 0, n);
    return p;
}

/* ------------------------------------------------------------------------ */
/* Correctness first                                                        */
/* ------------------------------------------------------------------------ */

static void verify(int w)
{
    const char *n = workload_name[w];
    long a = bench_ours.encode_once(w, wire[w], BUF_CAP);
    long b = bench_ref.encode_once(w, enc_buf, BUF_CAP);
    if (a < 0 || b < 0) {
        fprintf(stderr, "bench codec: %s: encoding failed (virtwire %ld, rpcgen %ld)\n", n, a, b);
        exit(1);
    }
    if (a != b || memcmp(wire[w], enc_buf, (size_t)a) != 0) {
        fprintf(stderr, "bench codec: %s: virtwire and rpcgen encode differently\n", n);
        exit(1);
    }
    wire_len[w] = (size_t)a;
    if (bench_ours.decode_check(w, wire[w], wire_len[w]) < 0 ||
        bench_ref.decode_check(w, wire[w], wire_len[w]) < 0) {
        fprintf(stderr, "bench codec: %s: a decoder did not give the value back\n", n);
        exit(1);
    }
    if (bench_ours_paths_check(w, wire[w], wire_len[w]) < 0) {
        fprintf(stderr, "bench codec: %s: the client's call or the server's reply encodes "
                        "differently\n", n);
        exit(1);
    }
}

/* ------------------------------------------------------------------------ */
/* Timing                                                                   */
/* ------------------------------------------------------------------------ */

typedef enum { OP_ENCODE, OP_DECODE, OP_MEMCPY, OP_CALL, OP_REPLY } op_kind;

typedef struct subject {
    const bench_codec *codec; /* NULL for memcpy */
    op_kind op;
    int w;
    long iters;               /* per repetition, from calibrate() */
    double *ns;               /* ns per operation, one per repetition */
} subject;

/* Called through a volatile pointer so that the copies cannot be elided or
 * merged: the figure is glibc's memcpy over the W2 message. */
static void *(*volatile copy_fn)(void *, const void *, size_t) = memcpy;

static int copy_loop(int w, long iters)
{
    for (long i = 0; i < iters; i++)
        copy_fn(copy_buf, wire[w], wire_len[w]);
    return 0;
}

static int run(const subject *s, long iters)
{
    switch (s->op) {
    case OP_ENCODE:
        return s->codec->encode_loop(s->w, enc_buf, BUF_CAP, iters);
    case OP_DECODE:
        return s->codec->decode_loop(s->w, wire[s->w], wire_len[s->w], iters);
    case OP_CALL:
        return bench_ours_call_loop(s->w, iters);
    case OP_REPLY:
        return bench_ours_reply_loop(s->w, iters);
    default:
        return copy_loop(s->w, iters);
    }
}

/* The clock of every measurement: this thread's CPU time by default, so
 * that the time the machine gives to other processes (CI runners and build
 * machines are shared) is not counted; --wall switches to wall-clock time. */
static clockid_t bench_clock = CLOCK_THREAD_CPUTIME_ID;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double time_run(const subject *s, long iters)
{
    double t0 = now_ns();
    if (run(s, iters) < 0)
        die("a codec failed during a timed loop");
    return now_ns() - t0;
}

/* Finds the iteration count that makes one repetition last about rep_ns. */
static void calibrate(subject *s, double rep_ns)
{
    long n = 1;
    double t;
    for (;;) {
        t = time_run(s, n);
        if (t >= rep_ns / 8 || n > LONG_MAX / 16)
            break;
        n *= t < rep_ns / 1000 ? 16 : 2;
    }
    double scaled = (double)n * rep_ns / (t > 1 ? t : 1);
    s->iters = scaled < 1 ? 1 : (long)scaled;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Times the subjects in turn, repetition by repetition, so that a slow
 * moment of the machine hits all of them alike; returns the medians. */
static void measure(subject *s, int n, const options *o, double *med)
{
    for (int i = 0; i < n; i++) {
        calibrate(&s[i], o->rep_ns);
        s[i].ns = calloc((size_t)o->reps, sizeof(double));
        if (!s[i].ns)
            die("out of memory");
    }
    for (int r = 0; r < o->reps; r++)
        for (int i = 0; i < n; i++)
            s[i].ns[r] = time_run(&s[i], s[i].iters) / (double)s[i].iters;
    for (int i = 0; i < n; i++) {
        med[i] = median(s[i].ns, o->reps);
        free(s[i].ns);
    }
}

/* ------------------------------------------------------------------------ */
/* Allocations                                                              */
/* ------------------------------------------------------------------------ */

/* Heap allocations per decode (including the release of the result) once
 * the codec has warmed up.  A decode that allocates more than it frees would
 * make the comparison unfair, so it stops the benchmark. */
static double allocs_per_decode(const bench_codec *c, int w)
{
    enum { WARM = 8, COUNT = 16 };
    if (c->decode_loop(w, wire[w], wire_len[w], WARM) < 0)
        die("a decoder failed");
    unsigned long a0 = bench_alloc_calls(), f0 = bench_free_calls();
    if (c->decode_loop(w, wire[w], wire_len[w], COUNT) < 0)
        die("a decoder failed");
    unsigned long a = bench_alloc_calls() - a0, f = bench_free_calls() - f0;
    if (a != f) {
        fprintf(stderr, "bench codec: %s: %s allocated %lu times but freed %lu times\n",
                workload_name[w], c->name, a, f);
        exit(1);
    }
    return (double)a / COUNT;
}

/* ------------------------------------------------------------------------ */
/* Report                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct result {
    double ns[2][2];  /* [encode|decode][ours|ref] */
    double memcpy_ns; /* W2 only */
    double allocs[2]; /* [ours|ref] */
    double path_ns[2]; /* the client's call, the server's reply */
} result;

static const char *const path_name[2] = { "call_encode", "reply_encode" };

static const char *const op_name[2] = { "encode", "decode" };

static void print_number(const char *key, double v)
{
    if (v == (double)(long)v)
        printf("%s=%ld", key, (long)v);
    else
        printf("%s=%.2f", key, v);
}

static void bench_workload(int w, const options *o, result *res)
{
    subject s[7] = {
        { &bench_ours, OP_ENCODE, w, 0, NULL }, { &bench_ref, OP_ENCODE, w, 0, NULL },
        { &bench_ours, OP_DECODE, w, 0, NULL }, { &bench_ref, OP_DECODE, w, 0, NULL },
        { &bench_ours, OP_CALL, w, 0, NULL },   { &bench_ours, OP_REPLY, w, 0, NULL },
        { NULL, OP_MEMCPY, w, 0, NULL },
    };
    double med[7];
    res->allocs[0] = allocs_per_decode(&bench_ours, w);
    res->allocs[1] = allocs_per_decode(&bench_ref, w);
    measure(s, w == BENCH_W2 ? 7 : 6, o, med);
    for (int op = 0; op < 2; op++) {
        res->ns[op][0] = med[2 * op];
        res->ns[op][1] = med[2 * op + 1];
        printf("bench codec %s %s ours_ns=%.1f ref_ns=%.1f speedup=%.2f\n", workload_name[w],
               op_name[op], med[2 * op], med[2 * op + 1], med[2 * op + 1] / med[2 * op]);
    }
    for (int k = 0; k < 2; k++) {
        res->path_ns[k] = med[4 + k];
        printf("bench codec %s %s ours_ns=%.1f encode_ns=%.1f ratio=%.2f\n", workload_name[w],
               path_name[k], med[4 + k], med[0], med[4 + k] / med[0]);
    }
    if (w == BENCH_W2) {
        res->memcpy_ns = med[6];
        printf("bench codec %s memcpy_ns=%.1f\n", workload_name[w], med[6]);
    }
    printf("bench codec %s allocs ", workload_name[w]);
    print_number("ours", res->allocs[0]);
    putchar(' ');
    print_number("ref", res->allocs[1]);
    putchar('\n');
    fflush(stdout);
}

/* Prints one line per target; returns the number missed. */
static int report_targets(const result *res, const options *o)
{
    int missed = 0;
    for (int w = 0; w < BENCH_NW; w++) {
        if (!o->only[w])
            continue;
        for (int op = 0; op < 2; op++) {
            int met;
            if (w == BENCH_W2) {
                double bw = res[w].memcpy_ns / res[w].ns[op][0];
                met = bw >= TARGET_MEMCPY_FRACTION;
                printf("bench codec target %s %s memcpy_fraction=%.2f (>= %.2f) %s\n",
                       workload_name[w], op_name[op], bw, TARGET_MEMCPY_FRACTION,
                       met ? "met" : "MISSED");
            } else {
                double sp = res[w].ns[op][1] / res[w].ns[op][0];
                met = sp >= TARGET_SPEEDUP;
                printf("bench codec target %s %s speedup=%.2f (>= %.0f) %s\n", workload_name[w],
                       op_name[op], sp, TARGET_SPEEDUP, met ? "met" : "MISSED");
            }
            missed += !met;
        }
    }
    /* The runtime's encode paths cost little more than the bare encode. */
    for (int w = 0; w < BENCH_NW; w++) {
        if (!o->only[w])
            continue;
        for (int k = 0; k < 2; k++) {
            double ratio = res[w].path_ns[k] / res[w].ns[0][0];
            int met = ratio <= TARGET_PATH_RATIO;
            printf("bench codec target %s %s ratio=%.2f (<= %.2f) %s\n", workload_name[w],
                   path_name[k], ratio, TARGET_PATH_RATIO, met ? "met" : "MISSED");
            missed += !met;
        }
    }
    /* Constant: the same count whatever the message's size or shape. */
    int first = -1, constant = 1;
    for (int w = 0; w < BENCH_NW; w++) {
        if (!o->only[w])
            continue;
        if (first < 0)
            first = w;
        else if (res[w].allocs[0] != res[first].allocs[0])
            constant = 0;
    }
    if (first >= 0) {
        printf("bench codec target allocs constant ours=%g on every workload run %s\n",
               res[first].allocs[0], constant ? "met" : "MISSED");
        missed += !constant;
    }
    return missed;
}

/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_codec [--reps N] [--rep-ms MS] [--wall] [--check] [W1|W2|W3|W4]...\n"
               "  --reps N     repetitions per figure, at least 7; the median is reported\n"
               "               (default 9)\n"
               "  --rep-ms MS  duration aimed at for one repetition (default 30)\n"
               "  --wall       time with the wall clock, not the thread's CPU time\n"
               "  --check      exit with status 3 if a target is missed\n"
               "  W1..W4       run only these workloads (default: all)\n");
}

static void parse_args(int argc, char **argv, options *o)
{
    int any = 0;
    o->reps = 9;
    o->rep_ns = 30e6;
    o->check = 0;
    for (int w = 0; w < BENCH_NW; w++)
        o->only[w] = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--reps") == 0 && i + 1 < argc) {
            o->reps = atoi(argv[++i]);
        } else if (strcmp(a, "--rep-ms") == 0 && i + 1 < argc) {
            o->rep_ns = atof(argv[++i]) * 1e6;
        } else if (strcmp(a, "--wall") == 0) {
            bench_clock = CLOCK_MONOTONIC;
        } else if (strcmp(a, "--check") == 0) {
            o->check = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (a[0] == 'W' && a[1] >= '1' && a[1] <= '0' + BENCH_NW && !a[2]) {
            o->only[a[1] - '1'] = any = 1;
        } else {
            usage(stderr);
            exit(2);
        }
    }
    /* A median of fewer than 7 is not what the figures are defined as. */
    if (o->reps < 7 || !(o->rep_ns > 0)) {
        usage(stderr);
        exit(2);
    }
    if (!any)
        for (int w = 0; w < BENCH_NW; w++)
            o->only[w] = 1;
}

int main(int argc, char **argv)
{
    options o;
    result res[BENCH_NW];
    parse_args(argc, argv, &o);
    memset(res, 0, sizeof(res));

    enc_buf = xmalloc(BUF_CAP);
    copy_buf = xmalloc(BUF_CAP);
    if (bench_ours.setup() < 0 || bench_ref.setup() < 0)
        die("setting up the values failed");
    for (int w = 0; w < BENCH_NW; w++) {
        wire[w] = xmalloc(BUF_CAP);
        verify(w);
    }
    for (int w = 0; w < BENCH_NW; w++)
        if (o.only[w])
            bench_workload(w, &o, &res[w]);
    int missed = report_targets(res, &o);
    return o.check && missed ? 3 : 0;
}
