/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the client's reply, event and stream dispatch: a
 * real virtwire_client (I/O thread, conn, transport) adopts one end of a
 * unix socketpair; this file plays the daemon on the other end.
 *
 * Each input runs one session:
 *   1. the handshake, scripted: AUTH_LIST, CONNECT_SUPPORTS_FEATURE and
 *      CONNECT_OPEN are answered (serials 0, 1, 2);
 *   2. a handler is registered for every event of the remote, qemu, lxc
 *      and admin programs, and an on_close callback;
 *   3. the calls the input lists are made: asynchronous ones in arena or
 *      heap mode, synchronous ones and stream procedures from threads of
 *      their own (4 at most; more become asynchronous).  Each call's
 *      arguments are decoded from zero bytes (a procedure whose arguments
 *      do not decode that way is not called).  The calls go out with
 *      serials 3, 4, ... in list order: each CALL frame is read off the
 *      socket before the next call is made;
 *   4. the rest of the input is sent to the client as the daemon's
 *      frames, bytes and fds as the input places them; once the client has
 *      read them all, the threads get 5 ms to return (a stream that the
 *      frames end is finished, which sends), then the socket is shut down
 *      for writing;
 *   5. the client must see the end of file and report the connection
 *      closed; every call must complete, every thread return, and
 *      virtwire_client_close() must release everything.
 *
 * Input:
 *   byte 0     bit 0: the daemon supports keepalive (the client then
 *              starts its own, at a 60 s interval); bit 1: AUTH_LIST
 *              answers POLKIT rather than NONE (and AUTH_POLKIT yes); bit 2: event handlers
 *              remove themselves after their first event;
 *   byte 1     the number of calls n (modulo 33);
 *   3n bytes   per call: byte 0 bits 0-1 the program (remote, qemu, lxc,
 *              admin), bit 6 heap mode, bit 7 synchronous; bytes 1-2 the
 *              procedure number, big-endian (a number the program does not
 *              have picks the procedure at that index, modulo the count);
 *   the rest   tokens, as in fuzz/transport/fuzz_receive.c's explicit mode:
 *              a byte t below 0xc0 is followed by t + 1 bytes, written to
 *              the socket; a byte t from 0xc0 sends (t & 0x1f) + 1 fds
 *              (/dev/null), each with one dummy byte, as libvirt does;
 *              from 0xe0, (t & 0x1f) + 1 fds in a single message with one
 *              byte, which libvirt never does.
 *
 * Hangs are findings: every wait here is bounded (10 s), and aborts
 * beyond, printing where the call threads are and what the kernel says of
 * each thread (with VIRTWIRE_FUZZ_GDB set, gdb's backtraces too).
 *
 * Under ASan on a 2-vCPU VM, a thread has been seen, now and then (about
 * once in 50,000 inputs), not to run for over 10 s although runnable: a
 * thread just created, held before its first instruction; a call thread
 * held before it sent its call.  Each time it went on the moment this
 * file's own 10 s wait ended, as if its wake-up had waited for that CPU
 * to wake for a timer.  That is the system's delay, not the client's, so
 * the waits here are cut into SLICE_MS slices (the CPU wakes that often),
 * and the wait for a call made on a thread of its own starts once that
 * thread runs (START_WAIT_MS at most).
 *
 * Decoded replies and events must encode again.  No fd may be left open:
 * the count of open fds is the same before and after.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "admin_protocol.h"
#include "lxc_protocol.h"
#include "qemu_protocol.h"
#include "remote_protocol.h"
#include "virtwire_client.h"
#include "vt_fds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WAIT_MS 10000
#define START_WAIT_MS 20000
#define SLICE_MS 100
#define MAX_CALLS 32
#define MAX_THREADS 4
/* The handshake's calls take serials 0 to 2, and 3 with polkit. */
#define FIRST_SERIAL 3u
#define GRACE_MS 5

static const virtwire_program *const programs[] = {
    &remote_program, &qemu_program, &lxc_program, &admin_program,
};
#define NPROGRAMS (sizeof(programs) / sizeof(programs[0]))

/* What the calls on threads of their own are doing, for the report of a
 * hang: 0 not started yet, 1 calling, 2 returned (g_thread_rc). */
static _Atomic int g_thread_state[MAX_THREADS];
static _Atomic int g_thread_rc[MAX_THREADS];
static _Atomic int g_thread_tid[MAX_THREADS];
static _Atomic int g_waiting_call = -1; /* the call whose CALL frame is read */
static _Atomic int g_nthreads;
static _Atomic int g_daemon_fd = -1; /* the daemon's end of the socket */

/* Prints each thread of the process as the kernel sees it, and where the
 * calls on threads of their own are. */
static void print_calls(void)
{
    for (int i = 0; i < g_nthreads; i++)
        fprintf(stderr, "fuzz_client: call thread %d (task %d): %s, rc %d\n", i, g_thread_tid[i],
                g_thread_state[i] == 0   ? "not started"
                : g_thread_state[i] == 1 ? "in its call"
                                         : "returned",
                g_thread_rc[i]);
}

static void report_threads(void)
{
    print_calls();
    fprintf(stderr, "fuzz_client: waiting for the CALL of call %d\n", g_waiting_call);
    int unread = -1;
    if (g_daemon_fd >= 0 && ioctl(g_daemon_fd, FIONREAD, &unread) == 0)
        fprintf(stderr, "fuzz_client: %d bytes unread on the daemon's end\n", unread);
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        static const char *const files[] = { "stat", "wchan", "stack" };
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
            char path[300], buf[2048];
            snprintf(path, sizeof(path), "/proc/self/task/%s/%s", e->d_name, files[i]);
            FILE *f = fopen(path, "r");
            if (!f)
                continue;
            size_t n = fread(buf, 1, sizeof(buf) - 1, f);
            fclose(f);
            buf[n] = 0;
            fprintf(stderr, "fuzz_client: task %s %s: %s\n", e->d_name, files[i], buf);
        }
    }
    closedir(d);
    /* With VIRTWIRE_FUZZ_GDB set, the user stacks too. */
    if (getenv("VIRTWIRE_FUZZ_GDB")) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "gdb -p %d -batch -ex 'thread apply all bt' >&2 </dev/null",
                 (int)getpid());
        if (system(cmd) != 0)
            fprintf(stderr, "fuzz_client: gdb failed\n");
    }
    print_calls(); /* once more: a late thread has moved on since */
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_client: %s\n", what);
    report_threads();
    abort();
}

static void fuzz_check(int cond, const char *what)
{
    if (!cond)
        fail(what);
}

/* Waits until call thread i runs its first statement. */
static void wait_started(int i)
{
    for (int waited = 0; g_thread_state[i] == 0; waited++) {
        fuzz_check(waited < START_WAIT_MS, "a call thread was not run by the system");
        sleep_ms(1);
    }
}

/* ------------------------------------------------------------------------ */
/* The daemon's side of the socket                                          */
/* ------------------------------------------------------------------------ */

static uint32_t load32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Reads exactly n bytes, waiting WAIT_MS at most for each piece. */
static void read_exact(int fd, unsigned char *buf, size_t n)
{
    while (n) {
        struct pollfd p = { fd, POLLIN, 0 };
        int r = 0;
        for (int waited = 0; r == 0 && waited < WAIT_MS; waited += SLICE_MS)
            r = poll(&p, 1, SLICE_MS);
        fuzz_check(r > 0, "the client sent no call");
        ssize_t got = read(fd, buf, n);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        fuzz_check(got > 0, "the client closed before its call");
        buf += got;
        n -= (size_t)got;
    }
}

/* Reads one CALL (or CALL_WITH_FDS, with no fd: the target passes none)
 * frame; returns its procedure, checks its serial. */
static int32_t read_call(int fd, uint32_t serial)
{
    unsigned char buf[65536];
    read_exact(fd, buf, 4);
    uint32_t len = load32(buf);
    fuzz_check(len >= 28 && len <= sizeof(buf), "bad frame length from the client");
    read_exact(fd, buf + 4, len - 4);
    uint32_t type = load32(buf + 16);
    if ((type != VIR_NET_CALL && type != VIR_NET_CALL_WITH_FDS) || load32(buf + 20) != serial) {
        fprintf(stderr,
                "fuzz_client: got type %u serial %u proc %u, expected a CALL with serial %u\n",
                type, load32(buf + 20), load32(buf + 12), serial);
        abort();
    }
    return (int32_t)load32(buf + 12);
}

/* What the frame writers need: the socket, and how to tell that the
 * client is dead (it then reads no more, and what is left goes nowhere). */
typedef struct peer {
    int fd;
    int (*client_dead)(void *opaque);
    void *opaque;
} peer;

/* Discards whatever the client sent (PONGs, stream packets). */
static void drain(int fd)
{
    unsigned char buf[4096];
    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ;
}

/* Sends a message without blocking for good: a live client reads what it
 * is sent, so a socket that stays full for WAIT_MS is a hang.  Returns 0,
 * or -1 when the client is dead or hung up. */
static int peer_send(const peer *pr, struct msghdr *mh)
{
    for (int waited = 0;;) {
        ssize_t w = sendmsg(pr->fd, mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w >= 0) {
            size_t left = (size_t)w;
            while (mh->msg_iovlen && left >= mh->msg_iov[0].iov_len) {
                left -= mh->msg_iov[0].iov_len;
                mh->msg_iov++;
                mh->msg_iovlen--;
            }
            if (!mh->msg_iovlen)
                return 0;
            mh->msg_iov[0].iov_base = (char *)mh->msg_iov[0].iov_base + left;
            mh->msg_iov[0].iov_len -= left;
            mh->msg_control = NULL; /* the fds went with the first byte */
            mh->msg_controllen = 0;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (pr->client_dead && pr->client_dead(pr->opaque))
            return -1;
        fuzz_check(waited < WAIT_MS, "the client stopped reading");
        drain(pr->fd);
        struct pollfd p = { pr->fd, POLLOUT, 0 };
        poll(&p, 1, 10);
        waited += 10;
    }
}

static int write_all(const peer *pr, const unsigned char *p, size_t n)
{
    struct iovec iov = { (void *)(uintptr_t)p, n };
    struct msghdr mh = { 0 };
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    return n ? peer_send(pr, &mh) : 0;
}

/* n fds (of /dev/null) with one dummy byte, in one message: libvirt sends
 * one per message. */
static int send_fds(const peer *pr, unsigned n)
{
    int fds[VT_FDS_MAX];
    fuzz_check(n <= VT_FDS_MAX, "too many fds for one message");
    for (unsigned i = 0; i < n; i++) {
        fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        fuzz_check(fds[i] >= 0, "cannot open /dev/null");
    }
    char dummy = 0;
    struct iovec iov;
    vt_fds_control ctl;
    struct msghdr mh;
    vt_fds_message(&mh, &iov, &ctl, &dummy, 1, fds, n);
    int rc = peer_send(pr, &mh);
    for (unsigned i = 0; i < n; i++)
        close(fds[i]);
    return rc;
}

static void send_reply(const peer *pr, int32_t proc, uint32_t serial, const unsigned char *payload,
                       size_t len)
{
    unsigned char buf[64];
    store32(buf, (uint32_t)(28 + len));
    store32(buf + 4, REMOTE_PROGRAM);
    store32(buf + 8, REMOTE_PROTOCOL_VERSION);
    store32(buf + 12, (uint32_t)proc);
    store32(buf + 16, VIR_NET_REPLY);
    store32(buf + 20, serial);
    store32(buf + 24, VIR_NET_OK);
    if (len)
        memcpy(buf + 28, payload, len);
    write_all(pr, buf, 28 + len);
}

typedef struct handshake {
    peer pr;
    unsigned flags;
} handshake;

static void *serve_handshake(void *arg)
{
    handshake *h = arg;
    unsigned char ret[8];
    fuzz_check(read_call(h->pr.fd, 0) == REMOTE_PROC_AUTH_LIST, "handshake: not AUTH_LIST");
    store32(ret, 1);
    store32(ret + 4, (h->flags & 2) ? REMOTE_AUTH_POLKIT : REMOTE_AUTH_NONE);
    send_reply(&h->pr, REMOTE_PROC_AUTH_LIST, 0, ret, 8);
    uint32_t serial = 1;
    if (h->flags & 2) { /* the client asks the daemon's polkit */
        fuzz_check(read_call(h->pr.fd, serial) == REMOTE_PROC_AUTH_POLKIT,
                   "handshake: not AUTH_POLKIT");
        store32(ret, 1); /* complete */
        send_reply(&h->pr, REMOTE_PROC_AUTH_POLKIT, serial++, ret, 4);
    }
    fuzz_check(read_call(h->pr.fd, serial) == REMOTE_PROC_CONNECT_SUPPORTS_FEATURE,
               "handshake: not SUPPORTS_FEATURE");
    store32(ret, h->flags & 1);
    send_reply(&h->pr, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, serial++, ret, 4);
    fuzz_check(read_call(h->pr.fd, serial) == REMOTE_PROC_CONNECT_OPEN,
               "handshake: not CONNECT_OPEN");
    send_reply(&h->pr, REMOTE_PROC_CONNECT_OPEN, serial, NULL, 0);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The client's side                                                        */
/* ------------------------------------------------------------------------ */

typedef struct session {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int closed;
    unsigned flags;
    unsigned long async_started, async_done, events;
    size_t threads_done; /* calls on threads of their own that returned */
    virtwire_arena arena; /* the calls' arguments */
} session;

/* A value the client decoded must encode again, into exactly its size. */
static void check_encodes(const virtwire_type *t, const void *v)
{
    size_t n = t->encoded_size(v), got = 0;
    unsigned char *buf = malloc(n ? n : 1);
    fuzz_check(buf != NULL, "out of memory");
    fuzz_check(virtwire_encode(t, v, buf, n, &got) == 0 && got == n,
               "a decoded value does not encode");
    free(buf);
}

static void on_close(virtwire_client *c, int reason, void *opaque)
{
    session *s = opaque;
    (void)c;
    fuzz_check(reason < 0, "on_close without a reason");
    pthread_mutex_lock(&s->lock);
    fuzz_check(!s->closed, "on_close ran twice");
    s->closed = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

typedef struct handler_ctx {
    session *s;
    int id;
} handler_ctx;

static void on_event(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                     const void *msg, void *opaque)
{
    handler_ctx *h = opaque;
    const virtwire_proc *p = virtwire_program_find(prog, proc);
    fuzz_check(p && p->msg && msg, "an event without its message");
    check_encodes(p->msg, msg);
    pthread_mutex_lock(&h->s->lock);
    h->s->events++;
    pthread_mutex_unlock(&h->s->lock);
    if (h->s->flags & 4)
        virtwire_client_remove_event(c, h->id);
}

typedef struct call {
    session *s;
    int slot; /* index in g_thread_state, for calls on threads of their own */
    virtwire_client *c;
    const virtwire_program *prog;
    const virtwire_proc *proc;
    void *args;
    int heap;
    virtwire_arena arena; /* arena-mode results */
} call;

static void on_done(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    call *k = opaque;
    (void)c;
    if (r->rc == 0 && k->proc->ret) {
        fuzz_check(r->ret != NULL, "a successful call without its result");
        check_encodes(k->proc->ret, r->ret);
        if (k->heap && (k->proc->number & 1)) {
            *r->steal_ret = 1;
            k->proc->ret->free(r->ret);
            free(r->ret);
        }
    }
    if (r->error)
        fuzz_check(r->rc == VIRTWIRE_EREMOTE || r->rc == VIRTWIRE_EUNSUPPORTED,
                   "an error without VIRTWIRE_EREMOTE");
    for (size_t i = 0; i < r->nfds; i++)
        close(r->fds[i]);
    pthread_mutex_lock(&k->s->lock);
    k->s->async_done++;
    pthread_mutex_unlock(&k->s->lock);
    virtwire_arena_fini(&k->arena);
    free(k);
}

static void thread_done(session *s)
{
    pthread_mutex_lock(&s->lock);
    s->threads_done++;
    pthread_mutex_unlock(&s->lock);
}

static size_t threads_done(session *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->threads_done;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* A synchronous call, on a thread of its own. */
static void *sync_call(void *arg)
{
    call *k = arg;
    g_thread_tid[k->slot] = (int)gettid();
    g_thread_state[k->slot] = 1;
    void *ret = k->proc->ret ? calloc(1, k->proc->ret->size ? k->proc->ret->size : 1) : NULL;
    int fds[4];
    virNetMessageError err;
    virtwire_call_opts o = {
        .size = sizeof o,
        .arena = k->heap ? NULL : &k->arena, .timeout_ms = VIRTWIRE_TIMEOUT_FOREVER, .ret_fds = fds,
        .ret_fds_max = 4, .error = &err,
    };
    int rc = virtwire_client_call(k->c, k->prog, k->proc->number, k->args, ret, &o);
    g_thread_rc[k->slot] = rc;
    g_thread_state[k->slot] = 2;
    if (rc == 0 && ret)
        check_encodes(k->proc->ret, ret);
    if (rc == 0 && ret && k->heap)
        k->proc->ret->free(ret);
    if (k->heap && (rc == VIRTWIRE_EREMOTE || rc == VIRTWIRE_EUNSUPPORTED))
        virNetMessageError_free(&err);
    for (size_t i = 0; i < o.nret_fds; i++)
        close(fds[i]);
    free(ret);
    thread_done(k->s);
    return NULL;
}

/* A stream procedure: the call, then reading or writing the stream. */
static void *stream_call(void *arg)
{
    call *k = arg;
    g_thread_tid[k->slot] = (int)gettid();
    g_thread_state[k->slot] = 1;
    void *ret = k->proc->ret ? calloc(1, k->proc->ret->size ? k->proc->ret->size : 1) : NULL;
    virtwire_call_opts o = { .size = sizeof o, .arena = &k->arena, .timeout_ms = VIRTWIRE_TIMEOUT_FOREVER };
    virtwire_client_stream *st;
    int rc = virtwire_client_stream_call(k->c, k->prog, k->proc->number, k->args, ret, &o, &st);
    g_thread_rc[k->slot] = rc;
    g_thread_state[k->slot] = 2;
    if (rc == 0) {
        virNetMessageError err;
        if (k->proc->flags & VIRTWIRE_PROC_STREAM_READ) {
            unsigned char buf[4096];
            int64_t hole;
            long n;
            while ((n = virtwire_client_stream_recv(st, buf, sizeof(buf), &hole,
                                                    VIRTWIRE_TIMEOUT_FOREVER, &err)) > 0)
                fuzz_check(n == VIRTWIRE_CLIENT_STREAM_HOLE || (size_t)n <= sizeof(buf),
                           "stream_recv overran");
            if (n == VIRTWIRE_EREMOTE)
                virNetMessageError_free(&err);
            if (n == 0)
                rc = virtwire_client_stream_finish(st, VIRTWIRE_TIMEOUT_FOREVER, &err);
            else
                virtwire_client_stream_abort(st);
        } else {
            static const char data[16] = "virtwire fuzzing";
            virtwire_client_stream_send(st, data, sizeof(data));
            if (k->proc->flags & VIRTWIRE_PROC_STREAM_SPARSE)
                virtwire_client_stream_send_hole(st, 4096);
            rc = virtwire_client_stream_finish(st, VIRTWIRE_TIMEOUT_FOREVER, &err);
        }
        if (rc == VIRTWIRE_EREMOTE)
            virNetMessageError_free(&err);
        virtwire_client_stream_free(st);
    }
    free(ret);
    thread_done(k->s);
    return NULL;
}

static const virtwire_proc *pick_proc(const virtwire_program *prog, unsigned num)
{
    const virtwire_proc *p = virtwire_program_find(prog, (int32_t)num);
    return p ? p : &prog->procs[num % prog->nprocs];
}

/* Arguments decoded from zero bytes, or NULL when they do not decode so. */
static void *zero_args(session *s, const virtwire_proc *proc)
{
    static const unsigned char zeros[4096];
    if (proc->args->min_size > sizeof(zeros))
        return NULL;
    void *v = virtwire_arena_alloc(&s->arena, proc->args->size ? proc->args->size : 1);
    if (!v || virtwire_decode(proc->args, zeros, proc->args->min_size, &s->arena, v) < 0)
        return NULL;
    return v;
}


static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    fuzz_check(d != NULL, "cannot list /proc/self/fd");
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static int client_dead(void *opaque)
{
    session *s = opaque;
    pthread_mutex_lock(&s->lock);
    int closed = s->closed;
    pthread_mutex_unlock(&s->lock);
    return closed;
}

static void wait_closed(session *s)
{
    pthread_mutex_lock(&s->lock);
    for (int waited = 0; !s->closed; waited += SLICE_MS) {
        fuzz_check(waited < WAIT_MS, "the client did not notice the end of file");
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += SLICE_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cond, &s->lock, &until);
    }
    pthread_mutex_unlock(&s->lock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned ncalls = data[1] % (MAX_CALLS + 1);
    if (size < 2 + 3u * ncalls)
        return 0;
    const uint8_t *calls = data + 2;
    const uint8_t *tokens = calls + 3u * ncalls;
    size_t ntokens = size - 2 - 3u * ncalls;

    g_nthreads = 0;
    int fds_before = open_fds();
    int sv[2];
    fuzz_check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
    g_daemon_fd = sv[0];

    session s = { .flags = data[0] };
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    virtwire_arena_init(&s.arena);

    /* 1. The handshake. */
    handshake hs = { { sv[0], NULL, NULL }, data[0] };
    pthread_t hs_thread;
    fuzz_check(pthread_create(&hs_thread, NULL, serve_handshake, &hs) == 0, "pthread_create");
    virtwire_client_options opts = {
        .size = sizeof opts,
        .keepalive_interval_ms = (data[0] & 1) ? 60000 : 0,
        .keepalive_count = 5,
        .open_name = "test:///default",
    };
    virtwire_client *c;
    int rc = virtwire_client_adopt(sv[1], 1, &opts, &c);
    pthread_join(hs_thread, NULL);
    fuzz_check(rc == 0, "the scripted handshake failed");

    /* 2. Handlers for every event. */
    virtwire_client_on_close(c, on_close, &s);
    handler_ctx handlers[256];
    size_t nhandlers = 0;
    for (size_t i = 0; i < NPROGRAMS; i++) {
        for (size_t j = 0; j < programs[i]->nprocs; j++) {
            const virtwire_proc *p = &programs[i]->procs[j];
            if (!p->msg || nhandlers == sizeof(handlers) / sizeof(handlers[0]))
                continue;
            handler_ctx *h = &handlers[nhandlers++];
            h->s = &s;
            h->id = virtwire_client_on_event(c, programs[i], p->number, on_event, h);
            fuzz_check(h->id > 0, "virtwire_client_on_event failed");
        }
    }

    /* 3. The calls. */
    pthread_t threads[MAX_THREADS];
    call *thread_calls[MAX_THREADS];
    size_t nthreads = 0;
    uint32_t serial = FIRST_SERIAL + ((data[0] & 2) ? 1u : 0u);
    for (unsigned i = 0; i < ncalls; i++) {
        const uint8_t *d = calls + 3 * i;
        const virtwire_program *prog = programs[d[0] & 3u];
        const virtwire_proc *proc = pick_proc(prog, (unsigned)d[1] << 8 | d[2]);
        if (proc->flags & VIRTWIRE_PROC_MESSAGE)
            continue;
        void *args = proc->args ? zero_args(&s, proc) : NULL;
        if (proc->args && !args)
            continue;
        call *k = calloc(1, sizeof(*k));
        fuzz_check(k != NULL, "out of memory");
        k->s = &s;
        k->c = c;
        k->prog = prog;
        k->proc = proc;
        k->args = args;
        k->heap = (d[0] & 0x40) != 0;
        virtwire_arena_init(&k->arena);
        int streaming =
            (proc->flags & (VIRTWIRE_PROC_STREAM_READ | VIRTWIRE_PROC_STREAM_WRITE)) != 0;
        if ((streaming || (d[0] & 0x80)) && nthreads < MAX_THREADS) {
            k->slot = (int)nthreads;
            g_thread_state[nthreads] = 0;
            g_thread_rc[nthreads] = 0;
            g_thread_tid[nthreads] = 0;
            g_nthreads = (int)nthreads + 1;
            fuzz_check(pthread_create(&threads[nthreads], NULL, streaming ? stream_call : sync_call,
                                      k) == 0, "pthread_create");
            thread_calls[nthreads] = k;
            wait_started((int)nthreads++);
        } else if (streaming) {
            free(k);
            continue;
        } else {
            virtwire_call_opts o = { .size = sizeof o, .arena = k->heap ? NULL : &k->arena, .timeout_ms = VIRTWIRE_TIMEOUT_FOREVER };
            fuzz_check(virtwire_client_call_async(c, prog, proc->number, args, &o, on_done, k) == 0,
                       "an asynchronous call was not sent");
            s.async_started++;
        }
        g_waiting_call = (int)i;
        fuzz_check(read_call(sv[0], serial) == proc->number, "the CALL is not the one made");
        serial++;
    }

    /* 4. The daemon's frames, until they end or the client dies. */
    peer pr = { sv[0], client_dead, &s };
    size_t off = 0;
    int rc_send = 0;
    while (off < ntokens && rc_send == 0) {
        unsigned t = tokens[off++];
        if (t >= 0xe0) {
            rc_send = send_fds(&pr, (t & 0x1fu) + 1);
        } else if (t >= 0xc0) {
            for (unsigned i = 0; rc_send == 0 && i <= (t & 0x1fu); i++)
                rc_send = send_fds(&pr, 1);
        } else {
            size_t n = t + 1u;
            if (n > ntokens - off)
                n = ntokens - off;
            rc_send = write_all(&pr, tokens + off, n);
            off += n;
        }
        drain(sv[0]);
    }
    /* Calls on threads that the frames complete (a stream finished, say)
     * get a moment to return first, so that what they send runs too: once
     * the client has read everything, GRACE_MS at most. */
    if (nthreads) {
        int unread = 1;
        for (int waited = 0; unread > 0 && waited < WAIT_MS && !client_dead(&s); waited++) {
            drain(sv[0]);
            if (ioctl(sv[0], SIOCOUTQ, &unread) < 0)
                unread = 0;
            if (unread > 0)
                sleep_ms(1);
        }
        for (int i = 0; i < GRACE_MS && threads_done(&s) < nthreads && !client_dead(&s); i++) {
            drain(sv[0]);
            sleep_ms(1);
        }
    }
    shutdown(sv[0], SHUT_WR);

    /* 5. The client notices, and everything completes. */
    wait_closed(&s);
    for (size_t i = 0; i < nthreads; i++) {
        pthread_join(threads[i], NULL);
        virtwire_arena_fini(&thread_calls[i]->arena);
        free(thread_calls[i]);
    }
    virtwire_client_close(c);
    fuzz_check(s.async_done == s.async_started, "an asynchronous call never completed");
    g_daemon_fd = -1;
    close(sv[0]);
    virtwire_arena_fini(&s.arena);
    pthread_cond_destroy(&s.cond);
    pthread_mutex_destroy(&s.lock);
    fuzz_check(open_fds() == fds_before, "an fd was left open");
    return 0;
}
