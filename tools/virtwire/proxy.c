/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire proxy: the command, its listeners, sessions and event loop.
 * proxy.h describes the design: framing, memory, how sessions end, fds.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proxy.h"
#include "proxy_header_internal.h"
#include "virnetprotocol.h"
#include "virtwire_uri.h"

static const char usage_text[] =
    "usage: virtwire proxy --listen unix:PATH|tcp:HOST:PORT [--listen ...] --to URI\n"
    "                      [--log FILE.jsonl] [--log-data] [--pcapng FILE]\n"
    "                      [--read-only] [--deny PROC,...] [--allow PROC,...]";

/* ------------------------------------------------------------------------ */
/* State                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct listener {
    int fd;
    int is_unix;
    char *path; /* unix: unlinked at exit while still the socket bound here */
    dev_t dev;
    ino_t ino;
    char name[160];
} listener;

/* One direction's end: a channel with its input and output. */
typedef struct side {
    virtwire_channel *ch; /* NULL before the daemon is reached, and once closed */
    vp_in in;
    vp_out out;
    int eof;     /* nothing more will be read */
    int ready;   /* its handshake (TLS) is done */
    int stalled; /* reading stopped because the queues were full */
} side;

/* A stream the daemon opened for the client (a stream procedure's OK
 * reply) and has not ended yet. */
typedef struct open_stream {
    uint32_t prog, vers, serial;
    int32_t proc;
    int client_done; /* the client sent its finish or abort */
} open_stream;

typedef struct connect_job connect_job;

typedef struct session {
    struct session *next;
    unsigned long id;
    side c, d; /* the client and the daemon */
    connect_job *job; /* while the daemon is being reached */
    vp_log_session *log;
    open_stream *streams;
    size_t nstreams, cap;
    int ending;     /* set once: what is left is writing what is queued */
    vp_from ended_by;
    char reason[256];
    uint64_t linger_until;
    int dead;
} session;

/* The connection to the daemon, opened by a thread of its own. */
struct connect_job {
    unsigned long id;
    const virtwire_uri *uri;
    unsigned flags;
    int rc;
    int err; /* errno */
    virtwire_channel *ch;
    char errbuf[512];
};

typedef struct proxy {
    const char *to;
    virtwire_uri *uri;
    unsigned uri_flags;  /* VIRTWIRE_URI_ADMIN for an admin URI */
    int upstream_fds;    /* the daemon's channel carries fds */
    listener ls[8];
    size_t nls;
    session *sessions;
    size_t nsessions;
    unsigned long next_id;
    vp_filter filter;
    int filtering;
    vp_log *log;
    int logging;
    int log_failed;
    int jobs_pipe[2];   /* connect threads write their job here */
    size_t jobs;        /* jobs not back yet */
    uint64_t accept_pause_until;
} proxy;

static int wake_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    int e = errno;
    stopping = 1;
    ssize_t n = write(wake_pipe[1], "", 1);
    (void)n;
    errno = e;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------------------ */
/* Listeners                                                                */
/* ------------------------------------------------------------------------ */

/* The same rules as virtwire_server_listen_unix(): a socket another
 * server accepts on is refused, a stale one replaced, anything else left
 * for bind() to refuse. */
static int listen_unix(proxy *px, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!*path || strlen(path) >= sizeof sa.sun_path)
        return vt_error(VT_USAGE, "--listen unix:%s: the path is empty or too long", path);
    strcpy(sa.sun_path, path);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int rc = probe < 0 ? -1 : connect(probe, (struct sockaddr *)&sa, sizeof sa);
        int e = errno;
        if (probe >= 0)
            close(probe);
        if (rc == 0 || (probe >= 0 && (e == EAGAIN || e == EINPROGRESS)))
            return vt_error(VT_FAIL, "--listen unix:%s: another server accepts there", path);
        if (probe >= 0 && e == ECONNREFUSED)
            unlink(path); /* stale */
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0 ||
        lstat(path, &st) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return vt_error(VT_FAIL, "--listen unix:%s: %s", path, strerror(e));
    }
    listener *l = &px->ls[px->nls++];
    l->fd = fd;
    l->is_unix = 1;
    l->path = strdup(path);
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    snprintf(l->name, sizeof l->name, "unix:%s", path);
    if (!l->path)
        return vt_error(VT_FAIL, "out of memory");
    return VT_OK;
}

static int listen_tcp(proxy *px, const char *spec)
{
    /* HOST:PORT, HOST maybe [v6]. */
    char host[128];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host)
        return vt_error(VT_USAGE, "--listen tcp:%s: expected tcp:HOST:PORT", spec);
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return vt_error(VT_USAGE, "--listen tcp:%s: '%s' is not a port", spec, colon + 1);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%ld", port);
    int gai = getaddrinfo(host, ps, &hints, &res);
    if (gai != 0)
        return vt_error(VT_FAIL, "--listen tcp:%s: %s", spec, gai_strerror(gai));
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return vt_error(VT_FAIL, "--listen tcp:%s: %s", spec, strerror(e));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char serv[16] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, serv, sizeof serv, NI_NUMERICSERV);
    listener *l = &px->ls[px->nls++];
    l->fd = fd;
    l->is_unix = 0;
    l->path = NULL;
    snprintf(l->name, sizeof l->name, strchr(host, ':') ? "tcp:[%s]:%s" : "tcp:%s:%s", host,
             serv);
    return VT_OK;
}

static int add_listener(proxy *px, const char *spec)
{
    if (px->nls == sizeof px->ls / sizeof px->ls[0])
        return vt_error(VT_USAGE, "too many --listen");
    if (strncmp(spec, "unix:", 5) == 0)
        return listen_unix(px, spec + 5);
    if (strncmp(spec, "tcp:", 4) == 0)
        return listen_tcp(px, spec + 4);
    return vt_error(VT_USAGE, "--listen %s: expected unix:PATH or tcp:HOST:PORT", spec);
}

static void close_listeners(proxy *px)
{
    for (size_t i = 0; i < px->nls; i++) {
        listener *l = &px->ls[i];
        close(l->fd);
        if (l->path) {
            struct stat st;
            if (lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == l->dev &&
                st.st_ino == l->ino)
                unlink(l->path);
            free(l->path);
        }
    }
    px->nls = 0;
}

/* ------------------------------------------------------------------------ */
/* Reaching the daemon                                                      */
/* ------------------------------------------------------------------------ */

static int jobs_write_fd = -1;

static void *connect_thread(void *opaque)
{
    connect_job *job = opaque;
    virtwire_connect_params params = {
        .size = sizeof params,
        .flags = job->flags,
        /* .tls: the TLS opener, once the runtime has one. */
        .errbuf = job->errbuf,
        .errbuf_len = sizeof job->errbuf,
    };
    errno = 0;
    job->rc = virtwire_channel_open_uri(job->uri, &params, &job->ch);
    job->err = errno;
    /* A pointer is far below PIPE_BUF: the write is atomic. */
    ssize_t n;
    do
        n = write(jobs_write_fd, &job, sizeof job);
    while (n < 0 && errno == EINTR);
    return NULL;
}

static int start_connect(proxy *px, session *s)
{
    connect_job *job = calloc(1, sizeof *job);
    if (!job)
        return -1;
    job->id = s->id;
    job->uri = px->uri;
    job->flags = px->uri_flags;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &attr, connect_thread, job);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(job);
        return -1;
    }
    s->job = job;
    px->jobs++;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Sessions                                                                 */
/* ------------------------------------------------------------------------ */

static size_t pending(const side *sd)
{
    return vp_out_pending(&sd->out);
}

/* The session ends: by whom and why.  The first reason stays. */
static void end_session(proxy *px, session *s, vp_from by, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void send_aborts(proxy *px, session *s);

static void side_close(side *sd)
{
    virtwire_channel_free(sd->ch);
    sd->ch = NULL;
    sd->eof = 1;
    vp_in_free(&sd->in);
}

static void end_session(proxy *px, session *s, vp_from by, const char *fmt, ...)
{
    if (s->ending)
        return;
    s->ending = 1;
    s->ended_by = by;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->reason, sizeof s->reason, fmt, ap);
    va_end(ap);
    s->linger_until = now_ms() + VP_LINGER_MS;
    if (by == VP_FROM_CLIENT) {
        /* Nobody to write to: the client's side goes now; its open
         * streams are aborted upstream, after what is queued there. */
        side_close(&s->c);
        vp_out_free(&s->c.out);
        send_aborts(px, s);
    } else if (by == VP_FROM_DAEMON) {
        side_close(&s->d);
        vp_out_free(&s->d.out);
        s->c.eof = 1; /* what the client sends now goes nowhere */
    } else {
        s->dead = 1;
    }
}

static open_stream *find_stream(session *s, const vp_frame *f)
{
    for (size_t i = 0; i < s->nstreams; i++) {
        open_stream *st = &s->streams[i];
        if (st->serial == f->serial && st->prog == f->prog && st->vers == f->vers)
            return st;
    }
    return NULL;
}

static void add_stream(session *s, const vp_frame *f)
{
    if (find_stream(s, f))
        return;
    if (s->nstreams == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        open_stream *n = realloc(s->streams, cap * sizeof *n);
        if (!n)
            return; /* not aborted if the client goes: the daemon ends it then */
        s->streams = n;
        s->cap = cap;
    }
    s->streams[s->nstreams++] = (open_stream){ f->prog, f->vers, f->serial, f->proc, 0 };
}

static void remove_stream(session *s, open_stream *st)
{
    *st = s->streams[--s->nstreams];
}

/* Frames up to this size, without fds, are only queued when they are
 * handed on, and the queue is written after the read they came in: the
 * frames of one read (pipelined calls, the replies of several threads)
 * leave in one write, as a relay that only carries bytes would send them.
 * Bigger frames (stream data) go straight out, without a copy. */
#define BATCH_FRAME_MAX 4096

/* Queues a frame for a side, writing at once what its channel takes
 * (small frames: after the read, session_step()).  Takes the fds.  A write
 * error is the side going away. */
static void forward(proxy *px, session *s, side *to, const unsigned char *bytes, size_t len,
                    int *fds, size_t nfds)
{
    struct iovec iov = { (void *)bytes, len };
    int now = len > BATCH_FRAME_MAX || nfds;
    virtwire_channel *ch = to->ch && to->ready && now ? to->ch : NULL;
    int rc = vp_out_send(&to->out, ch, &iov, 1, fds, nfds);
    if (rc == 0)
        return;
    if (rc == VP_ENOMEM) {
        end_session(px, s, VP_FROM_PROXY, "out of memory");
        return;
    }
    int daemon = to == &s->d;
    end_session(px, s, daemon ? VP_FROM_DAEMON : VP_FROM_CLIENT, "the %s went away (%s)",
                daemon ? "daemon" : "client",
                rc == VIRTWIRE_EIO ? strerror(errno) : virtwire_strerror(rc));
}

/* What the client would have sent had it aborted its open streams. */
static void send_aborts(proxy *px, session *s)
{
    for (size_t i = 0; i < s->nstreams; i++) {
        open_stream *st = &s->streams[i];
        if (st->client_done || !s->d.ch)
            continue;
        unsigned char b[VIRTWIRE_FRAME_MIN];
        vp_store_header(b, VIRTWIRE_FRAME_MIN, st->prog, st->vers, st->proc, VIR_NET_STREAM,
                        st->serial, VIR_NET_ERROR);
        vp_frame f = { .bytes = b, .len = sizeof b };
        vp_frame_header(&f, b);
        st->client_done = 1;
        vp_log_frame(px->log, s->log, VP_FROM_PROXY, &f, NULL);
        forward(px, s, &s->d, b, sizeof b, NULL, 0);
    }
}

/* Answers a call in the daemon's stead with an error. */
static void answer_error(proxy *px, session *s, vp_frame *call, int code, int domain,
                         const char *message, const char *str1, const char *str2,
                         const char *refused)
{
    unsigned char buf[2048];
    size_t n = vp_error_frame(call, code, domain, message, str1, str2, buf, sizeof buf);
    vp_log_frame(px->log, s->log, VP_FROM_CLIENT, call, refused);
    vp_frame_close_fds(call);
    if (n == 0)
        return;
    vp_frame reply = { .bytes = buf, .len = n };
    vp_frame_header(&reply, buf);
    vp_log_frame(px->log, s->log, VP_FROM_PROXY, &reply, NULL);
    forward(px, s, &s->c, buf, n, NULL, 0);
}

static const virtwire_proc *frame_proc(const vp_frame *f, const virtwire_program **prog)
{
    *prog = vt_program_by_number(f->prog, f->vers);
    return *prog ? virtwire_program_find(*prog, f->proc) : NULL;
}

static void from_client(proxy *px, session *s, vp_frame *f)
{
    if (f->type == VIR_NET_CALL || f->type == VIR_NET_CALL_WITH_FDS) {
        const virtwire_program *prog;
        const virtwire_proc *proc = frame_proc(f, &prog);
        vp_refusal r;
        size_t skip = f->type == VIR_NET_CALL_WITH_FDS ? 4 : 0;
        if (px->filtering && f->len >= VIRTWIRE_FRAME_MIN + skip &&
            vp_filter_check(&px->filter, prog, proc, f->bytes + VIRTWIRE_FRAME_MIN + skip,
                            f->len - VIRTWIRE_FRAME_MIN - skip, &r)) {
            answer_error(px, s, f, r.code, r.domain, r.message, r.str1, r.str2, r.why);
            return;
        }
        if (f->nfds && !px->upstream_fds) {
            /* libvirt's words (virNetSocketSendFD()). */
            static const char detail[] = "Sending file descriptors is not supported on this "
                                         "socket";
            answer_error(px, s, f, 1 /* VIR_ERR_INTERNAL_ERROR */, 7 /* VIR_FROM_RPC */,
                         "internal error: Sending file descriptors is not supported on this "
                         "socket",
                         "internal error: %s", detail, "no-fds");
            return;
        }
    } else if (f->type == VIR_NET_STREAM && f->status != VIR_NET_CONTINUE) {
        open_stream *st = find_stream(s, f);
        if (st)
            st->client_done = 1;
    }
    vp_log_frame(px->log, s->log, VP_FROM_CLIENT, f, NULL);
    forward(px, s, &s->d, f->bytes, f->len, f->fds, f->nfds);
}

static void from_daemon(proxy *px, session *s, vp_frame *f)
{
    if ((f->type == VIR_NET_REPLY || f->type == VIR_NET_REPLY_WITH_FDS) &&
        f->status == VIR_NET_OK) {
        const virtwire_program *prog;
        const virtwire_proc *proc = frame_proc(f, &prog);
        if (proc && (proc->flags & (VIRTWIRE_PROC_STREAM_READ | VIRTWIRE_PROC_STREAM_WRITE)))
            add_stream(s, f);
    } else if (f->type == VIR_NET_STREAM && f->status != VIR_NET_CONTINUE) {
        open_stream *st = find_stream(s, f);
        if (st)
            remove_stream(s, st);
    }
    vp_log_frame(px->log, s->log, VP_FROM_DAEMON, f, NULL);
    if (s->ending) {
        vp_frame_close_fds(f); /* the client is gone */
        return;
    }
    if (f->nfds && s->c.ch && !virtwire_channel_can_pass_fds(s->c.ch)) {
        /* A client on TCP cannot take fds: it gets the daemon's reply as
         * an error, as a daemon that cannot send them would fail. */
        vp_frame_close_fds(f);
        unsigned char buf[512];
        size_t n = vp_error_frame(f, 1, 7,
                                  "internal error: Sending file descriptors is not supported "
                                  "on this socket",
                                  "internal error: %s",
                                  "Sending file descriptors is not supported on this socket",
                                  buf, sizeof buf);
        vp_frame e = { .bytes = buf, .len = n };
        vp_frame_header(&e, buf);
        vp_log_frame(px->log, s->log, VP_FROM_PROXY, &e, NULL);
        forward(px, s, &s->c, buf, n, NULL, 0);
        return;
    }
    forward(px, s, &s->c, f->bytes, f->len, f->fds, f->nfds);
}

/* Whether a side may be read now (see proxy.h, "Memory"). */
static int can_read(const session *s, int client)
{
    if (s->dead)
        return 0;
    if (client)
        return s->c.ch && !s->c.eof && pending(&s->d) < VP_OUTPUT_HIGH &&
               pending(&s->c) < VP_OUTPUT_HIGH;
    if (!s->d.ch || s->d.eof || !s->d.ready)
        return 0;
    /* Once the client is gone, what the daemon sends is read and dropped. */
    return !s->c.ch || pending(&s->c) < VP_OUTPUT_HIGH;
}

static const char *framing_error(int rc)
{
    switch (rc) {
    case VP_EFRAME_LENGTH:
        return "a length word no libvirt frame has";
    case VP_EFDS_MAX:
        return "more fds announced than libvirt passes";
    case VP_EFD_MISSING:
        return "a plain byte where an fd was due";
    case VP_EFDS_HELD:
        return "fds sent with bytes that are not a frame's";
    default:
        return "out of memory";
    }
}

/* Hands on the whole frames read from a side while it may be read: 1
 * when no whole frame is left, 0 when the side may not be read now, -1
 * when the session ended (the side broke the framing). */
static int hand_on(proxy *px, session *s, int client)
{
    side *src = client ? &s->c : &s->d;
    while (can_read(s, client)) {
        vp_frame f;
        int r = vp_in_next(&src->in, &f);
        if (r < 0) {
            end_session(px, s, VP_FROM_PROXY, "the %s broke the framing: %s",
                        client ? "client" : "daemon", framing_error(r));
            return -1;
        }
        if (r == 0)
            return 1;
        if (client)
            from_client(px, s, &f);
        else
            from_daemon(px, s, &f);
    }
    return 0;
}

/* Reads a side and hands its frames on while it may be read, until a
 * read comes back short (poll() says when there is more). */
static void pump(proxy *px, session *s, int client)
{
    side *src = client ? &s->c : &s->d;
    src->stalled = 0;
    for (;;) {
        if (hand_on(px, s, client) < 0)
            return;
        if (!can_read(s, client)) {
            src->stalled = src->ch && !src->eof && !s->dead;
            return;
        }
        unsigned char *p;
        size_t room;
        if (vp_in_room(&src->in, &p, &room) < 0) {
            end_session(px, s, VP_FROM_PROXY, "out of memory");
            return;
        }
        int fd = -1;
        ssize_t n = virtwire_channel_read(src->ch, p, room, &fd);
        if (n == 0) {
            if (fd >= 0)
                close(fd);
            return;
        }
        if (n < 0) {
            if (fd >= 0)
                close(fd);
            int e = errno;
            const char *why = n == VIRTWIRE_ECLOSED ? "hung up"
                              : n == VIRTWIRE_EIO ? strerror(e)
                                                  : virtwire_strerror((int)n);
            const char *detail = virtwire_channel_error_detail(src->ch);
            if (client && vp_in_partial(&src->in))
                why = "hung up in the middle of a frame";
            end_session(px, s, client ? VP_FROM_CLIENT : VP_FROM_DAEMON, "the %s %s%s%s",
                        client ? "client" : "daemon", why, detail ? ": " : "",
                        detail ? detail : "");
            return;
        }
        vp_in_filled(&src->in, (size_t)n, fd);
        if ((size_t)n < room) {
            /* Short: the socket is empty (or an fd ended the read).  The
             * frames read go on; poll() says when there is more. */
            if (hand_on(px, s, client) != 0)
                return;
            src->stalled = src->ch && !src->eof && !s->dead;
            return;
        }
    }
}

/* Writes what a side has queued.  A write error is the side going away. */
static void flush_side(proxy *px, session *s, side *sd)
{
    if (!sd->ch || !sd->ready || !pending(sd))
        return;
    int rc = vp_out_flush(&sd->out, sd->ch);
    if (rc < 0) {
        int daemon = sd == &s->d;
        end_session(px, s, daemon ? VP_FROM_DAEMON : VP_FROM_CLIENT, "the %s went away (%s)",
                    daemon ? "daemon" : "client",
                    rc == VIRTWIRE_EIO ? strerror(errno) : virtwire_strerror(rc));
    }
}

#define IN_EVENTS (POLLIN | POLLHUP | POLLERR)

/* One step of a session after poll(): cr and dr are the client's and the
 * daemon's revents. */
static void session_step(proxy *px, session *s, short cr, short dr)
{
    if (s->d.ch && !s->d.ready) {
        int rc = virtwire_channel_handshake(s->d.ch);
        if (rc < 0) {
            const char *detail = virtwire_channel_error_detail(s->d.ch);
            end_session(px, s, VP_FROM_DAEMON, "the daemon's %s handshake failed: %s",
                        virtwire_channel_name(s->d.ch), detail ? detail : virtwire_strerror(rc));
        } else if (rc == 0) {
            s->d.ready = 1;
            dr |= POLLOUT;
        }
    }
    if ((cr & (POLLOUT | POLLERR | POLLHUP)) || s->ending)
        flush_side(px, s, &s->c);
    if ((dr & (POLLOUT | POLLERR | POLLHUP)) || s->ending)
        flush_side(px, s, &s->d);
    /* A side is read when poll() says so, or when it stopped for full
     * queues that may have drained since. */
    if (!s->dead && ((cr & IN_EVENTS) || s->c.stalled))
        pump(px, s, 1);
    if (!s->dead && ((dr & IN_EVENTS) || s->d.stalled))
        pump(px, s, 0);
    /* What the reads queued (small frames: forward()) goes out now. */
    if (!s->dead) {
        flush_side(px, s, &s->d);
        flush_side(px, s, &s->c);
    }
    if (!s->ending || s->dead)
        return;
    flush_side(px, s, &s->c);
    flush_side(px, s, &s->d);
    /* Ending: done once what was queued for the side that stays is
     * written (and, the client gone, the daemon has confirmed the aborts
     * of its streams), or it cannot be, or time is up. */
    side *stays = s->ended_by == VP_FROM_CLIENT ? &s->d : &s->c;
    int waiting = pending(stays) || (s->ended_by == VP_FROM_CLIENT && s->nstreams);
    if (!stays->ch || !waiting || now_ms() >= s->linger_until)
        s->dead = 1;
}

static void session_free(proxy *px, session *s)
{
    vp_log_close(px->log, s->log, s->ended_by, s->reason[0] ? s->reason : "proxy stopped");
    if (s->job)
        s->job->id = 0; /* its result is nobody's now */
    side_close(&s->c);
    side_close(&s->d);
    vp_out_free(&s->c.out);
    vp_out_free(&s->d.out);
    free(s->streams);
    free(s);
}

/* Socket buffers of the proxy's own sockets: a stream packet of libvirt's
 * (256 KiB) fits whole, so that a packet costs one read and one write on
 * each side rather than a few. */
#define SOCKET_BUFFER (1 << 20)

static void widen_buffers(int fd)
{
    int n = SOCKET_BUFFER;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof n);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof n);
}

static void accept_clients(proxy *px, listener *l)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                px->accept_pause_until = now_ms() + 100; /* out of fds: later */
            return;
        }
        char peer[160];
        if (l->is_unix) {
            snprintf(peer, sizeof peer, "%s", l->name);
        } else {
            char h[64] = "?", p[16] = "?";
            getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p,
                        NI_NUMERICHOST | NI_NUMERICSERV);
            snprintf(peer, sizeof peer, strchr(h, ':') ? "tcp:[%s]:%s" : "tcp:%s:%s", h, p);
        }
        widen_buffers(fd);
        session *s = calloc(1, sizeof *s);
        virtwire_channel *ch = NULL;
        if (!s || virtwire_channel_socket_new(fd, l->is_unix, &ch) < 0) {
            free(s); /* the channel closed the fd */
            continue;
        }
        s->id = ++px->next_id;
        s->c.ch = ch;
        s->c.ready = 1;
        vp_in_init(&s->c.in, VIR_NET_CALL_WITH_FDS);
        vp_in_init(&s->d.in, VIR_NET_REPLY_WITH_FDS);
        s->log = vp_log_open(px->log, s->id, peer);
        s->next = px->sessions;
        px->sessions = s;
        px->nsessions++;
        if (start_connect(px, s) < 0)
            end_session(px, s, VP_FROM_PROXY, "cannot start a thread to reach the daemon");
    }
}

/* A connect thread is back with its channel. */
static void job_done(proxy *px, connect_job *job)
{
    px->jobs--;
    session *s = NULL;
    for (session *x = px->sessions; x && job->id; x = x->next)
        if (x->id == job->id && x->job == job)
            s = x;
    if (!s) {
        virtwire_channel_free(job->ch);
        free(job);
        return;
    }
    s->job = NULL;
    if (job->rc < 0) {
        if (!s->ending) {
            const char *why = job->errbuf[0] ? job->errbuf : virtwire_strerror(job->rc);
            fprintf(stderr, "virtwire: proxy: client %lu: cannot reach the daemon: %s\n", s->id,
                    why);
            end_session(px, s, VP_FROM_DAEMON, "cannot reach the daemon: %s", why);
        }
        free(job);
        return;
    }
    if (s->ending) {
        virtwire_channel_free(job->ch);
    } else {
        s->d.ch = job->ch;
        widen_buffers(virtwire_channel_fd(s->d.ch));
        s->d.ready = virtwire_channel_handshake(s->d.ch) == 0 ? 1 : 0;
    }
    free(job);
}

static void drain_jobs(proxy *px)
{
    connect_job *job;
    for (;;) {
        ssize_t n = read(px->jobs_pipe[0], &job, sizeof job);
        if (n != (ssize_t)sizeof job)
            return;
        job_done(px, job);
    }
}

/* ------------------------------------------------------------------------ */
/* The loop                                                                 */
/* ------------------------------------------------------------------------ */

static short side_events(side *sd, short want)
{
    if (!sd->ch)
        return 0;
    if (!sd->ready)
        return virtwire_channel_events(sd->ch, POLLIN | POLLOUT);
    return want ? virtwire_channel_events(sd->ch, want) : 0;
}

static int run(proxy *px)
{
    struct pollfd *pfd = NULL;
    session **who = NULL;
    size_t cap = 0;
    while (!stopping) {
        size_t n = 2 + px->nls + 2 * px->nsessions;
        if (n > cap) {
            struct pollfd *np = realloc(pfd, n * sizeof *np);
            if (np)
                pfd = np;
            session **nw = realloc(who, n * sizeof *nw);
            if (nw)
                who = nw;
            if (!np || !nw) {
                vt_error(VT_FAIL, "proxy: out of memory");
                break;
            }
            cap = n;
        }
        size_t k = 0;
        int timeout = 1000;
        uint64_t now = now_ms();
        pfd[k++] = (struct pollfd){ wake_pipe[0], POLLIN, 0 };
        pfd[k++] = (struct pollfd){ px->jobs_pipe[0], POLLIN, 0 };
        int accepting = now >= px->accept_pause_until;
        if (!accepting && px->accept_pause_until - now < (uint64_t)timeout)
            timeout = (int)(px->accept_pause_until - now);
        for (size_t i = 0; i < px->nls; i++)
            pfd[k++] = (struct pollfd){ px->ls[i].fd, accepting ? POLLIN : 0, 0 };
        for (session *s = px->sessions; s; s = s->next) {
            short ce = (short)((can_read(s, 1) ? POLLIN : 0) |
                               (pending(&s->c) ? POLLOUT : 0));
            short de = (short)((can_read(s, 0) ? POLLIN : 0) |
                               (pending(&s->d) && s->d.ready ? POLLOUT : 0));
            who[k] = s;
            pfd[k++] = (struct pollfd){ s->c.ch ? virtwire_channel_fd(s->c.ch) : -1,
                                        side_events(&s->c, ce), 0 };
            who[k] = s;
            pfd[k++] = (struct pollfd){ s->d.ch ? virtwire_channel_fd(s->d.ch) : -1,
                                        side_events(&s->d, de), 0 };
            if (s->ending) {
                uint64_t left = s->linger_until > now ? s->linger_until - now : 0;
                if (left < (uint64_t)timeout)
                    timeout = (int)left;
            }
        }
        int rc = poll(pfd, k, timeout);
        if (rc < 0 && errno != EINTR) {
            vt_error(VT_FAIL, "proxy: poll: %s", strerror(errno));
            break;
        }
        if (rc > 0 && (pfd[0].revents & POLLIN)) {
            char b[16];
            while (read(wake_pipe[0], b, sizeof b) > 0)
                ;
        }
        if (rc > 0 && (pfd[1].revents & POLLIN))
            drain_jobs(px);
        for (size_t i = 0; rc > 0 && i < px->nls; i++)
            if (pfd[2 + i].revents)
                accept_clients(px, &px->ls[i]);
        /* Every session steps: its sides' readiness, or its deadlines. */
        for (size_t i = 2 + px->nls; i + 1 < k; i += 2) {
            session *s = who[i];
            if (pfd[i].revents || pfd[i + 1].revents || s->ending || (s->d.ch && !s->d.ready) ||
                (s->c.stalled && can_read(s, 1)) || (s->d.stalled && can_read(s, 0)))
                session_step(px, s, pfd[i].revents, pfd[i + 1].revents);
        }
        /* Sessions that got their daemon this round step once at least. */
        for (session *s = px->sessions; s; s = s->next)
            if (s->d.ch && s->d.ready && pending(&s->d) && !s->dead)
                flush_side(px, s, &s->d);
        for (session **pp = &px->sessions; *pp;) {
            session *s = *pp;
            if (s->dead) {
                *pp = s->next;
                px->nsessions--;
                session_free(px, s);
            } else {
                pp = &s->next;
            }
        }
        if (px->logging && vp_log_flush(px->log) < 0 && !px->log_failed) {
            px->log_failed = 1;
            vt_error(VT_FAIL, "proxy: writing the recording failed: %s", strerror(errno));
        }
    }
    free(pfd);
    free(who);
    return VT_OK;
}

/* ------------------------------------------------------------------------ */
/* The command                                                              */
/* ------------------------------------------------------------------------ */

/* An admin URI names a daemon (libvirtd:///system, virtqemud:///session):
 * its admin socket is the one to reach (see virt-admin). */
static int admin_uri(const virtwire_uri *u)
{
    const char *d = u->driver;
    size_t n = strlen(d);
    return strcmp(d, "libvirtd") == 0 ||
           (n > 5 && strncmp(d, "virt", 4) == 0 && d[n - 1] == 'd');
}

static FILE *open_out(const char *path, const char *mode)
{
    if (strcmp(path, "-") == 0)
        return stdout;
    return fopen(path, mode);
}

int vt_cmd_proxy(int argc, char **argv)
{
    proxy px;
    memset(&px, 0, sizeof px);
    px.jobs_pipe[0] = px.jobs_pipe[1] = -1;
    const char *listens[8];
    size_t nlistens = 0;
    const char *log_path = NULL, *pcap_path = NULL;
    int log_data = 0;
    int rc = VT_OK;
    for (int i = 0; i < argc && rc == VT_OK; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (strcmp(a, "--listen") == 0 && has) {
            if (nlistens == 8)
                rc = vt_error(VT_USAGE, "too many --listen");
            else
                listens[nlistens++] = argv[++i];
        } else if (strcmp(a, "--to") == 0 && has) {
            px.to = argv[++i];
        } else if (strcmp(a, "--log") == 0 && has) {
            log_path = argv[++i];
        } else if (strcmp(a, "--log-data") == 0) {
            log_data = 1;
        } else if (strcmp(a, "--pcapng") == 0 && has) {
            pcap_path = argv[++i];
        } else if (strcmp(a, "--read-only") == 0) {
            px.filter.read_only = 1;
        } else if (strcmp(a, "--deny") == 0 && has) {
            rc = vp_filter_add(&px.filter.deny, argv[++i]);
        } else if (strcmp(a, "--allow") == 0 && has) {
            rc = vp_filter_add(&px.filter.allow, argv[++i]);
        } else {
            rc = vt_error(VT_USAGE, "%s%s%s\n%s", a[0] == '-' ? "unknown option or missing "
                                                                "value: '" : "unexpected '",
                          a, "'", usage_text);
        }
    }
    if (rc == VT_OK && (!nlistens || !px.to))
        rc = vt_error(VT_USAGE, "%s", usage_text);
    if (rc == VT_OK && log_path && pcap_path && strcmp(log_path, "-") == 0 &&
        strcmp(pcap_path, "-") == 0)
        rc = vt_error(VT_USAGE, "--log and --pcapng cannot both be '-'");
    if (rc == VT_OK) {
        int urc = virtwire_uri_parse(px.to, &px.uri);
        if (urc < 0)
            rc = vt_error(VT_USAGE, "--to '%s': %s", px.to, virtwire_strerror(urc));
    }
    px.filtering = px.filter.read_only || px.filter.deny || px.filter.allow;
    if (rc == VT_OK) {
        px.uri_flags = admin_uri(px.uri) ? VIRTWIRE_URI_ADMIN : 0;
        px.upstream_fds = px.uri->transport == VIRTWIRE_URI_TRANSPORT_UNIX;
    }
    FILE *jf = NULL, *pf = NULL;
    if (rc == VT_OK && log_path && !(jf = open_out(log_path, "w")))
        rc = vt_error(VT_FAIL, "--log %s: %s", log_path, strerror(errno));
    if (rc == VT_OK && pcap_path && !(pf = open_out(pcap_path, "wb")))
        rc = vt_error(VT_FAIL, "--pcapng %s: %s", pcap_path, strerror(errno));
    if (rc == VT_OK) {
        vp_log_opts lo = { .json = jf, .pcapng = pf, .data = log_data };
        px.log = vp_log_new(&lo);
        px.logging = jf || pf;
        if (!px.log)
            rc = vt_error(VT_FAIL, "out of memory");
    }
    if (rc == VT_OK && (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) < 0 ||
                        pipe2(px.jobs_pipe, O_NONBLOCK | O_CLOEXEC) < 0))
        rc = vt_error(VT_FAIL, "pipe: %s", strerror(errno));
    /* The connect threads block on a full pipe rather than lose a job. */
    if (rc == VT_OK) {
        int fl = fcntl(px.jobs_pipe[1], F_GETFL);
        fcntl(px.jobs_pipe[1], F_SETFL, fl & ~O_NONBLOCK);
        jobs_write_fd = px.jobs_pipe[1];
    }
    for (size_t i = 0; rc == VT_OK && i < nlistens; i++)
        rc = add_listener(&px, listens[i]);
    if (rc == VT_OK) {
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        for (size_t i = 0; i < px.nls; i++)
            fprintf(stderr, "virtwire: proxy: listening on %s, to %s\n", px.ls[i].name, px.to);
        fflush(stderr);
        rc = run(&px);
    }
    /* Stop: every session ends as it is; the threads still reaching the
     * daemon are waited for (their channels closed). */
    while (px.sessions) {
        session *s = px.sessions;
        px.sessions = s->next;
        if (!s->ending) {
            s->ended_by = VP_FROM_PROXY;
            snprintf(s->reason, sizeof s->reason, "proxy stopped");
        }
        session_free(&px, s);
    }
    uint64_t give_up = now_ms() + 10000;
    while (px.jobs && now_ms() < give_up) {
        struct pollfd p = { px.jobs_pipe[0], POLLIN, 0 };
        if (poll(&p, 1, 100) > 0)
            drain_jobs(&px);
    }
    close_listeners(&px);
    if (px.log) {
        if (vp_log_flush(px.log) < 0 && !px.log_failed)
            rc = vt_error(VT_FAIL, "proxy: writing the recording failed: %s", strerror(errno));
        vp_log_free(px.log);
    }
    if (jf && jf != stdout && fclose(jf) != 0 && rc == VT_OK)
        rc = vt_error(VT_FAIL, "--log: %s", strerror(errno));
    if (pf && pf != stdout && fclose(pf) != 0 && rc == VT_OK)
        rc = vt_error(VT_FAIL, "--pcapng: %s", strerror(errno));
    for (int i = 0; i < 2; i++) {
        if (wake_pipe[i] >= 0)
            close(wake_pipe[i]);
        wake_pipe[i] = -1;
        if (px.jobs && i == 1)
            continue; /* a thread still writes to it: left to the exit */
        if (px.jobs_pipe[i] >= 0)
            close(px.jobs_pipe[i]);
    }
    vp_filter_free(&px.filter);
    if (!px.jobs)
        virtwire_uri_free(px.uri); /* else a thread still reads it */
    return rc;
}
