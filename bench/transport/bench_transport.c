/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Framing throughput of the sans-I/O transport, against memcpy() of the
 * same bytes in the same run.
 *
 * Receive side: the input is fed in 64 KiB pieces, as reads from a socket
 * would arrive.  The reference copies the same pieces into a buffer of the
 * size the transport buffers into (what the transport must do at least for
 * frames that straddle pieces).
 *   recv-stream: 256 KiB STREAM/CONTINUE frames (straddling every piece).
 *   recv-keepalive: 28-byte keepalive PONGs (pure liveness; no answer).
 *   recv-ping: 28-byte PINGs, each answered with a PONG through on_send.
 *   recv-reply: 100-byte REPLY/OK frames matched to calls in flight.
 * Send side: on_send copies the chunks it gets into a 4 MiB ring, as a
 * caller queueing for writev() would; the reference copies the same bytes
 * in the same pieces into the same ring.
 *   send-stream: stream_send_data() cut into 256 KiB frames.
 *   send-message: 28-byte MESSAGEs (an event with no payload).
 *   send-reply: 100-byte REPLY/OK frames.
 * Small frames run with 10k, 100k and 1M frames: frames/s must stay flat.
 *
 * Output, one line per figure:
 *   bench transport <workload> ours=<X> ref=<memcpy or empty> ratio=<ours/ref or empty>
 * where X is MB/s (1e6 bytes) for "-MB/s" workloads and frames/s for
 * "-frames/s" ones; each is the median of 7 to 61 repetitions (see
 * README.md).  --check adds target verdicts and sets the exit status.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "virtwire_transport.h"

#define REMOTE 0x20008086u
#define CHUNK (64u * 1024u)
#define STREAM_FRAME (256u * 1024u)
#define RING (4u << 20)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench transport: %s\n", what);
    exit(1);
}

/* Keeps the compiler from dropping work whose result is unused. */
static volatile unsigned long sink;

/* ------------------------------------------------------------------------ */
/* Endpoints                                                                */
/* ------------------------------------------------------------------------ */

typedef struct bench_ep {
    unsigned char *ring; /* NULL: on_send drops the frame */
    size_t ring_off;
    unsigned long frames_in;
    unsigned long bytes_in;
} bench_ep;

static int on_send(virtwire_transport *t, const struct iovec *iov, size_t niov, const int *fds,
                   size_t nfds, void *opaque)
{
    bench_ep *e = opaque;
    (void)t;
    (void)fds;
    (void)nfds;
    if (!e->ring)
        return 0;
    for (size_t i = 0; i < niov; i++) {
        size_t n = iov[i].iov_len;
        if (e->ring_off + n > RING)
            e->ring_off = 0;
        memcpy(e->ring + e->ring_off, iov[i].iov_base, n);
        e->ring_off += n;
    }
    return 0;
}

static int on_any(virtwire_transport_program *p, const virtwire_transport_msg *m, void *opaque)
{
    bench_ep *e = opaque;
    (void)p;
    e->frames_in++;
    e->bytes_in += m->payload_len;
    return 0;
}

static virtwire_transport *make(virtwire_transport_role role, bench_ep *e,
                                virtwire_transport_program **p)
{
    virtwire_transport_callbacks cbs = { .size = sizeof cbs, .on_send = on_send };
    virtwire_transport_program_callbacks pcbs = {
        .size = sizeof pcbs,
        .on_call = on_any, .on_reply = on_any, .on_message = on_any, .on_stream = on_any,
    };
    virtwire_transport *t;
    if (virtwire_transport_new(role, &cbs, e, &t) != 0 ||
        virtwire_transport_register(t, REMOTE, 1, &pcbs, e, p) != 0)
        die("cannot create a transport");
    return t;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Writes one frame with the given header words; returns its length. */
static size_t frame(unsigned char *out, uint32_t len, uint32_t prog, int32_t proc, uint32_t type,
                    uint32_t serial, uint32_t status)
{
    uint32_t w[7] = { len, prog, 1, (uint32_t)proc, type, serial, status };
    for (int i = 0; i < 7; i++)
        put32(out + 4 * i, w[i]);
    for (uint32_t i = 28; i < len; i++)
        out[i] = (unsigned char)(i * 31);
    return len;
}

/* ------------------------------------------------------------------------ */
/* Measurement                                                              */
/* ------------------------------------------------------------------------ */

/* One measured workload: run() is ours and ref() the reference, both
 * timed; prep() (optional) runs untimed before each run(). */
typedef struct job {
    void (*prep)(struct job *);
    void (*run)(struct job *);
    void (*ref)(struct job *);
    /* receive jobs */
    const unsigned char *in;
    size_t in_len;
    virtwire_transport *t;
    virtwire_transport_program *p;
    bench_ep ep;
    unsigned char *dst; /* reference destination */
    size_t dst_len;
    /* send jobs */
    size_t count;
    const unsigned char *payload;
    size_t payload_len;
    size_t slice_total;
} job;

static double timed(job *j, void (*fn)(job *))
{
    double t0 = now_s();
    fn(j);
    return now_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_REPS 64

/* The medians of reps timings of run() and of ref(), taken in alternation
 * so that both see the same machine load. */
static void measure(job *j, int reps, double *ours, double *ref)
{
    double a[MAX_REPS], b[MAX_REPS];
    if (reps > MAX_REPS)
        reps = MAX_REPS;
    for (int r = 0; r < reps; r++) {
        if (j->prep)
            j->prep(j);
        a[r] = timed(j, j->run);
        b[r] = timed(j, j->ref);
    }
    *ours = median(a, reps);
    *ref = median(b, reps);
}

static void feed_run(job *j)
{
    for (size_t off = 0; off < j->in_len; off += CHUNK) {
        size_t n = j->in_len - off < CHUNK ? j->in_len - off : CHUNK;
        if (virtwire_transport_receive(j->t, j->in + off, n) != (ssize_t)n)
            die("receive failed");
    }
}

/* The reference: the same pieces copied into a buffer of dst_len bytes. */
static void memcpy_run(job *j)
{
    size_t d = 0;
    for (size_t off = 0; off < j->in_len; off += CHUNK) {
        size_t n = j->in_len - off < CHUNK ? j->in_len - off : CHUNK;
        if (d + n > j->dst_len)
            d = 0;
        memcpy(j->dst + d, j->in + off, n);
        d += n;
    }
    sink += j->dst[d - 1];
}

/* "10k", "100k", "1M". */
static const char *count_label(size_t count)
{
    static char buf[32];
    if (count >= 1000000)
        snprintf(buf, sizeof(buf), "%zuM", count / 1000000);
    else
        snprintf(buf, sizeof(buf), "%zuk", count / 1000);
    return buf;
}

static int check_mode;
static int targets_missed;

static void line(const char *workload, double ours, double ref)
{
    if (ref > 0)
        printf("bench transport %s ours=%.1f ref=%.1f ratio=%.2f\n", workload, ours, ref, ours / ref);
    else
        printf("bench transport %s ours=%.0f ref= ratio=\n", workload, ours);
    fflush(stdout);
}

static void target(const char *what, double value, double min)
{
    if (!check_mode)
        return;
    int ok = value >= min;
    targets_missed += !ok;
    printf("bench transport target %s %.2f (>= %.2f) %s\n", what, value, min, ok ? "PASS" : "MISS");
}

/* ------------------------------------------------------------------------ */
/* Receive workloads                                                        */
/* ------------------------------------------------------------------------ */

static void recv_stream(void)
{
    /* 64 MiB of 256 KiB frames on one open stream. */
    size_t nframes = 256, len = nframes * STREAM_FRAME;
    unsigned char *in = malloc(len);
    if (!in)
        die("out of memory");
    for (size_t i = 0; i < nframes; i++)
        frame(in + i * STREAM_FRAME, STREAM_FRAME, REMOTE, 209, VIR_NET_STREAM, 1, VIR_NET_CONTINUE);
    job j = { 0 };
    j.in = in;
    j.in_len = len;
    j.t = make(VIRTWIRE_TRANSPORT_CLIENT, &j.ep, &j.p);
    if (virtwire_transport_stream_open(j.p, 209, 1, 0) != 0)
        die("stream_open");
    j.run = feed_run;
    j.ref = memcpy_run;
    j.dst_len = STREAM_FRAME;
    j.dst = malloc(j.dst_len);
    double ours, ref;
    measure(&j, 9, &ours, &ref);
    if (j.ep.frames_in != 9 * nframes)
        die("recv-stream: frames lost");
    double mb = (double)len / 1e6;
    line("recv-stream-256KiB-MB/s", mb / ours, mb / ref);
    target("recv-stream ratio to memcpy", ref / ours, 0.80);
    virtwire_transport_free(j.t);
    free(j.dst);
    free(in);
}

/* Calls 0..count-1 in flight, so that every reply of the input matches. */
static void reply_prep(job *j)
{
    virtwire_transport_free(j->t);
    j->ep.frames_in = 0;
    j->t = make(VIRTWIRE_TRANSPORT_CLIENT, &j->ep, &j->p);
    for (size_t i = 0; i < j->count; i++)
        if (virtwire_transport_send(j->p, 1, VIR_NET_CALL, VIR_NET_OK, 0, NULL, 0, NULL, 0) < 0)
            die("send");
}

static void recv_small(const char *name, uint32_t prog, int32_t proc, uint32_t type,
                       size_t flen, size_t count, double *fps_out)
{
    unsigned char *in = malloc(count * flen);
    if (!in)
        die("out of memory");
    int replies = type == VIR_NET_REPLY;
    for (size_t i = 0; i < count; i++)
        frame(in + i * flen, (uint32_t)flen, prog, proc, type, replies ? (uint32_t)i : 0, VIR_NET_OK);
    job j = { 0 };
    j.in = in;
    j.in_len = count * flen;
    j.count = count;
    j.t = make(VIRTWIRE_TRANSPORT_CLIENT, &j.ep, &j.p);
    j.prep = replies ? reply_prep : NULL;
    j.run = feed_run;
    j.ref = memcpy_run;
    j.dst_len = CHUNK;
    j.dst = malloc(j.dst_len);
    int reps = count >= 1000000 ? 7 : count >= 100000 ? 15 : 61;
    double ours, ref;
    measure(&j, reps, &ours, &ref);
    if (replies && j.ep.frames_in != count)
        die("recv-reply: replies lost");

    char w[96];
    double fps = (double)count / ours;
    snprintf(w, sizeof(w), "%s-%s-frames/s", name, count_label(count));
    line(w, fps, 0);
    snprintf(w, sizeof(w), "%s-%s-MB/s", name, count_label(count));
    double mb = (double)j.in_len / 1e6;
    line(w, mb / ours, mb / ref);
    if (fps_out)
        *fps_out = fps;
    virtwire_transport_free(j.t);
    free(j.dst);
    free(in);
}

/* ------------------------------------------------------------------------ */
/* Send workloads                                                           */
/* ------------------------------------------------------------------------ */

static void stream_send_run(job *j)
{
    if (virtwire_transport_stream_send_data(j->p, 209, 1, j->payload, j->slice_total) != 0)
        die("stream_send_data");
}

/* The reference for sends: the same pieces (a 28-byte header, then the
 * payload) copied into the same ring.  With slice_total set, the payloads
 * are consecutive slices of that many bytes (a stream). */
static void send_ref_run(job *j)
{
    static const unsigned char hdr[28];
    size_t off = 0, done = 0;
    for (size_t i = 0; i < j->count; i++) {
        size_t n = j->payload_len;
        const unsigned char *src = j->payload;
        if (j->slice_total) {
            src += done;
            if (n > j->slice_total - done)
                n = j->slice_total - done;
        }
        if (off + sizeof(hdr) + n > RING)
            off = 0;
        memcpy(j->ep.ring + off, hdr, sizeof(hdr));
        off += sizeof(hdr);
        memcpy(j->ep.ring + off, src, n);
        off += n;
        done += n;
    }
    sink += j->ep.ring[off - 1];
}

static void send_stream(void)
{
    size_t len = 64u << 20, pkt = STREAM_FRAME - 28;
    unsigned char *data = malloc(len);
    if (!data)
        die("out of memory");
    memset(data, 0x5a, len);
    job j = { 0 };
    j.t = make(VIRTWIRE_TRANSPORT_SERVER, &j.ep, &j.p);
    j.ep.ring = malloc(RING);
    if (virtwire_transport_set_stream_packet_max(j.t, pkt) != 0)
        die("set_stream_packet_max");
    /* ours: the whole buffer in one call; the reference: the same 28-byte
     * headers and packet-sized slices. */
    j.payload = data;
    j.payload_len = pkt;
    j.slice_total = len;
    j.count = (len + pkt - 1) / pkt;
    j.run = stream_send_run;
    j.ref = send_ref_run;
    double ours, ref;
    measure(&j, 9, &ours, &ref);
    double mb = (double)len / 1e6;
    line("send-stream-256KiB-MB/s", mb / ours, mb / ref);
    target("send-stream ratio to memcpy", ref / ours, 0.80);
    virtwire_transport_free(j.t);
    free(j.ep.ring);
    free(data);
}

static void send_small_run(job *j)
{
    virNetMessageType type = j->payload_len ? VIR_NET_REPLY : VIR_NET_MESSAGE;
    for (size_t i = 0; i < j->count; i++)
        if (virtwire_transport_send(j->p, 1, type, VIR_NET_OK, (uint32_t)i, j->payload,
                                    j->payload_len, NULL, 0) < 0)
            die("send");
}

static void send_small(const char *name, size_t payload_len, size_t count)
{
    static unsigned char payload[72];
    job j = { 0 };
    j.t = make(VIRTWIRE_TRANSPORT_SERVER, &j.ep, &j.p);
    j.ep.ring = malloc(RING);
    j.count = count;
    j.payload = payload;
    j.payload_len = payload_len;
    j.run = send_small_run;
    j.ref = send_ref_run;
    int reps = count >= 1000000 ? 7 : count >= 100000 ? 15 : 61;
    double ours, ref;
    measure(&j, reps, &ours, &ref);
    char w[96];
    snprintf(w, sizeof(w), "%s-%s-frames/s", name, count_label(count));
    line(w, (double)count / ours, 0);
    snprintf(w, sizeof(w), "%s-%s-MB/s", name, count_label(count));
    double mb = (double)(count * (28 + payload_len)) / 1e6;
    line(w, mb / ours, mb / ref);
    virtwire_transport_free(j.t);
    free(j.ep.ring);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0) {
            check_mode = 1;
        } else {
            fprintf(stderr, "usage: bench_transport [--check]\n");
            return 2;
        }
    }
    static const size_t counts[3] = { 10000, 100000, 1000000 };
    double fps[3], ping_fps = 0, reply_fps[3];

    recv_stream();
    for (int i = 0; i < 3; i++)
        recv_small("recv-keepalive-28B", 0x6b656570u, 2, VIR_NET_MESSAGE, 28, counts[i], &fps[i]);
    recv_small("recv-ping-28B", 0x6b656570u, 1, VIR_NET_MESSAGE, 28, 1000000, &ping_fps);
    for (int i = 0; i < 3; i++)
        recv_small("recv-reply-100B", REMOTE, 1, VIR_NET_REPLY, 100, counts[i], &reply_fps[i]);
    send_stream();
    for (int i = 0; i < 3; i++)
        send_small("send-message-28B", 0, counts[i]);
    for (int i = 0; i < 3; i++)
        send_small("send-reply-100B", 72, counts[i]);

    target("recv-keepalive-28B-1M Mframes/s", fps[2] / 1e6, 20);
    target("recv-reply-100B-1M Mframes/s", reply_fps[2] / 1e6, 20);
    /* Linear: the cost per frame does not grow with the count.  10k
     * frames fit in the caches and 1M do not (memcpy slows down too), so
     * the bound allows a factor of 2. */
    target("recv-keepalive 1M/10k frame rate", fps[2] / fps[0], 0.50);
    target("recv-reply 1M/10k frame rate", reply_fps[2] / reply_fps[0], 0.50);
    (void)ping_fps;
    return check_mode && targets_missed ? 1 : 0;
}
