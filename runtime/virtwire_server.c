/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire server: a single-threaded poll() loop over listeners and client
 * connections, see virtwire_server.h.
 *
 * Ownership: clients are freed only by the loop itself (never inside a
 * connection callback), after virtwire_conn_process() has returned; a
 * client that must go is marked `closing` and reaped at the end of the
 * round.  Calls live on the heap from dispatch to completion; a deferred
 * call whose client is gone is orphaned (client = NULL) and freed when its
 * handler completes it.
 *
 * Keepalive: each client's transport keeps its own PING timer on the
 * server's monotonic clock; the loop polls no longer than the nearest
 * deadline and ticks the timers that are due after every poll.
 */
#define _GNU_SOURCE

#include "virtwire_server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "remote_protocol.h"
#include "virtwire_transport.h"

#define MAX_LISTENERS 8
/* A read stream is pulled for more data while less than this is queued. */
#define STREAM_PULL_BELOW ((size_t)1 << 20)
/* A client is not read from while this much of its output is queued, so
 * that one that does not read its replies cannot make the server queue
 * them without bound. */
#define CLIENT_OUTPUT_HIGH ((size_t)1 << 20)
#define MAX_CLIENT_REQUESTS_LIMIT 1000u
/* libvirt's VIR_DRV_FEATURE_PROGRAM_KEEPALIVE. */
#define FEATURE_PROGRAM_KEEPALIVE 10
/* Most bytes kept for the calls of a throttled client (room for two of
 * the largest), and most output queued for a client when the transport
 * answers refused calls itself: a client that goes beyond either while it
 * reads nothing is disconnected.  A read round lasts until the socket is
 * empty, so throttling alone cannot stop a client that keeps writing. */
#define BACKLOG_MAX ((size_t)2 * VIR_NET_MESSAGE_MAX)
#define OUTPUT_MAX ((size_t)64 << 20)

typedef struct call_impl call_impl;

/* A registered program and its handlers (indexed like prog->procs). */
typedef struct server_program {
    struct server_program *next;
    const virtwire_program *prog;
    virtwire_server_handler *fns;
    void **opaques;
} server_program;

/* A call that arrived while the client was at its limit, copied. */
typedef struct backlog_msg {
    struct backlog_msg *next;
    virNetMessageHeader hdr;
    int fds[VIRTWIRE_SERVER_MAX_FDS];
    size_t nfds;
    size_t len;
    unsigned char payload[];
} backlog_msg;

struct virtwire_server_stream {
    virtwire_server_stream *next;
    virtwire_server_client *client;
    virtwire_transport_program *tp;
    int32_t proc;
    uint32_t serial;
    int sparse;
    int read; /* server to client */
    int opened;
    int sent_eof;
    virtwire_server_stream_callbacks cbs;
    void *opaque;
    int has_error;
    int err_code, err_domain;
    char *err_message;
};

struct call_impl {
    virtwire_server_call pub; /* first: the handler's pointer is ours */
    call_impl *next;          /* the client's unanswered calls */
    virtwire_transport_program *tp;
    virtwire_arena arena;
    virtwire_server_stream *stream;
};

struct virtwire_server_client {
    virtwire_server_client *next;
    virtwire_server *srv;
    virtwire_conn *conn;
    virtwire_transport_program **tps; /* parallel to srv->programs order */
    void *data;
    unsigned int outstanding;
    call_impl *calls;
    backlog_msg *backlog, *backlog_tail;
    size_t backlog_bytes;
    virtwire_server_stream *streams;
    int closing;
    int error;  /* why it is closing: see virtwire_server_client_error() */
    int opened; /* on_open accepted it: on_close is due */
    int paused; /* its connection's reading is paused (see stop_reading()) */
    int keepalive; /* own PINGs started */
};

typedef struct listener {
    int fd;
    int is_unix;
    char *path; /* unix: unlinked at free */
} listener;

struct virtwire_server {
    virtwire_server_callbacks cbs;
    void *opaque;
    listener listeners[MAX_LISTENERS];
    size_t nlisteners;
    int tcp_port;
    server_program *programs;
    size_t nprograms;
    virtwire_server_client *clients;
    size_t nclients;
    unsigned int max_requests;
    int ka_interval_ms; /* <= 0: no own PINGs */
    unsigned int ka_count;
    volatile int stop;
};

static const virtwire_transport_program_callbacks program_cbs;

/* Marks the client for reaping at the end of the round, keeping the first
 * reason. */
static void client_fail(virtwire_server_client *c, int why)
{
    if (!c->closing) {
        c->closing = 1;
        c->error = why;
    }
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* Fills e with a message allocated in arena (level ERROR, like libvirt). */
static int error_fill(virNetMessageError *e, virtwire_arena *arena, int code, int domain,
                      const char *msg)
{
    memset(e, 0, sizeof *e);
    e->code = code;
    e->domain = domain;
    e->level = VIRTWIRE_VIR_ERR_LEVEL_ERROR;
    size_t n = strlen(msg) + 1;
    char **slot = virtwire_arena_alloc(arena, sizeof *slot);
    char *copy = virtwire_arena_alloc(arena, n);
    if (!slot || !copy)
        return VIRTWIRE_ENOMEM;
    memcpy(copy, msg, n);
    *slot = copy;
    e->message = slot;
    return 0;
}

/* What a call that ran out of memory is answered with. */
static char oom_message[] = "out of memory";

/* Fills e with VIR_ERR_INTERNAL_ERROR "out of memory" (no allocation). */
static void error_fill_oom(virNetMessageError *e)
{
    static char *slot = oom_message;
    memset(e, 0, sizeof *e);
    e->code = VIRTWIRE_VIR_ERR_INTERNAL_ERROR;
    e->domain = VIRTWIRE_VIR_FROM_RPC;
    e->level = VIRTWIRE_VIR_ERR_LEVEL_ERROR;
    e->message = &slot;
}

int virtwire_server_call_error(virtwire_server_call *call, int code, int domain, const char *fmt,
                               ...)
{
    call_impl *ci = (call_impl *)call;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (error_fill(&call->error, &ci->arena, code, domain, buf) < 0)
        error_fill_oom(&call->error); /* no room for the message */
    call->has_error = 1;
    return -1;
}

char *virtwire_server_call_strdup(virtwire_server_call *call, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = virtwire_arena_alloc(&((call_impl *)call)->arena, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void *virtwire_server_call_alloc(virtwire_server_call *call, size_t n)
{
    void *p = virtwire_arena_alloc(&((call_impl *)call)->arena, n ? n : 1);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

/* Sends an error reply built on the stack (no arena needed). */
static int64_t send_plain_error(virtwire_transport_program *tp, int32_t proc, uint32_t serial,
                                int code, const char *msg)
{
    char *m = (char *)msg;
    virNetMessageError e = { .code = code, .domain = VIRTWIRE_VIR_FROM_RPC, .message = &m,
                             .level = VIRTWIRE_VIR_ERR_LEVEL_ERROR };
    return virtwire_transport_send_error(tp, proc, serial, &e);
}

/* Answers a call that ran out of memory; a client that cannot even be
 * told is dropped. */
static void send_oom_error(virtwire_server_client *c, virtwire_transport_program *tp,
                           int32_t proc, uint32_t serial)
{
    if (send_plain_error(tp, proc, serial, VIRTWIRE_VIR_ERR_INTERNAL_ERROR, oom_message) ==
        VIRTWIRE_ENOMEM)
        client_fail(c, VIRTWIRE_ENOMEM);
}

/* send_plain_error(), or the out-of-memory error when there is no memory
 * for that one. */
static void reply_error(virtwire_server_client *c, virtwire_transport_program *tp, int32_t proc,
                        uint32_t serial, int code, const char *msg)
{
    if (send_plain_error(tp, proc, serial, code, msg) == VIRTWIRE_ENOMEM)
        send_oom_error(c, tp, proc, serial);
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                  */
/* ------------------------------------------------------------------------ */

static void stream_unlink_free(virtwire_server_stream *s)
{
    virtwire_server_client *c = s->client;
    if (c) {
        for (virtwire_server_stream **pp = &c->streams; *pp; pp = &(*pp)->next) {
            if (*pp == s) {
                *pp = s->next;
                break;
            }
        }
        if (s->opened && s->tp && virtwire_transport_stream_is_open(s->tp, s->serial))
            virtwire_transport_stream_close(s->tp, s->serial);
    }
    if (s->cbs.on_close)
        s->cbs.on_close(s, s->opaque);
    free(s->err_message);
    free(s);
}

/* Ends the stream with STREAM/ERROR (the error set, else internal). */
static void stream_fail(virtwire_server_stream *s)
{
    char *m = s->err_message ? s->err_message : (char *)"stream failed";
    virNetMessageError e = {
        .code = s->has_error ? s->err_code : VIRTWIRE_VIR_ERR_INTERNAL_ERROR,
        .domain = s->has_error ? s->err_domain : VIRTWIRE_VIR_FROM_RPC,
        .message = &m,
        .level = VIRTWIRE_VIR_ERR_LEVEL_ERROR,
    };
    if (virtwire_transport_stream_send_error(s->tp, s->proc, s->serial, &e) == VIRTWIRE_ENOMEM &&
        s->client)
        client_fail(s->client, VIRTWIRE_ENOMEM);
    stream_unlink_free(s);
}

static virtwire_server_stream *stream_find(virtwire_server_client *c,
                                           virtwire_transport_program *tp, uint32_t serial)
{
    for (virtwire_server_stream *s = c->streams; s; s = s->next)
        if (s->opened && s->tp == tp && s->serial == serial)
            return s;
    return NULL;
}

virtwire_server_stream *virtwire_server_call_stream(virtwire_server_call *call, int sparse,
                                                    const virtwire_server_stream_callbacks *cbs,
                                                    void *opaque)
{
    call_impl *ci = (call_impl *)call;
    uint32_t f = call->proc->flags;
    if (ci->stream || !(f & (VIRTWIRE_PROC_STREAM_READ | VIRTWIRE_PROC_STREAM_WRITE)) || !cbs)
        return NULL;
    virtwire_server_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->tp = ci->tp;
    s->proc = call->proc->number;
    s->serial = call->serial;
    s->sparse = sparse != 0;
    s->read = (f & VIRTWIRE_PROC_STREAM_READ) != 0;
    s->cbs = *cbs;
    s->opaque = opaque;
    ci->stream = s;
    return s;
}

int virtwire_server_stream_send(virtwire_server_stream *s, const void *data, size_t len)
{
    if (!s || !s->opened || s->sent_eof)
        return VIRTWIRE_EINVAL;
    return virtwire_transport_stream_send_data(s->tp, s->proc, s->serial, data, len);
}

int virtwire_server_stream_send_hole(virtwire_server_stream *s, int64_t length)
{
    if (!s || !s->opened || s->sent_eof || !s->sparse || length < 0)
        return VIRTWIRE_EINVAL;
    return virtwire_transport_stream_send_hole(s->tp, s->proc, s->serial, length, 0);
}

int virtwire_server_stream_send_eof(virtwire_server_stream *s)
{
    if (!s || !s->opened || s->sent_eof)
        return VIRTWIRE_EINVAL;
    s->sent_eof = 1;
    return virtwire_transport_stream_send_eof(s->tp, s->proc, s->serial);
}

void virtwire_server_stream_error(virtwire_server_stream *s, int code, int domain,
                                  const char *message)
{
    free(s->err_message);
    s->err_message = strdup(message ? message : "stream failed");
    s->err_code = code;
    s->err_domain = domain;
    s->has_error = 1;
}

virtwire_server_client *virtwire_server_stream_client(const virtwire_server_stream *s)
{
    return s->client;
}

/* A packet from the client on an open stream. */
static int stream_packet(virtwire_server_stream *s, const virtwire_transport_msg *m)
{
    const virNetMessageHeader *h = &m->hdr;
    int rc = 0;
    if (h->type == VIR_NET_STREAM_HOLE) {
        rc = s->cbs.on_hole ? s->cbs.on_hole(s, m->hole->length, s->opaque) : -1;
    } else if (h->status == VIR_NET_CONTINUE) {
        if (m->payload_len)
            rc = s->cbs.on_data ? s->cbs.on_data(s, m->payload, m->payload_len, s->opaque) : -1;
        else if (s->cbs.on_eof)
            rc = s->cbs.on_eof(s, s->opaque);
    } else if (h->status == VIR_NET_OK) {
        rc = s->cbs.on_finish ? s->cbs.on_finish(s, s->opaque) : 0;
        if (rc == 0) {
            if (virtwire_transport_stream_finish(s->tp, s->proc, s->serial) == VIRTWIRE_ENOMEM)
                client_fail(s->client, VIRTWIRE_ENOMEM);
            stream_unlink_free(s);
            return 0;
        }
    } else {
        /* Client abort: confirm with an empty packet, as libvirt does. */
        if (s->cbs.on_abort)
            s->cbs.on_abort(s, s->opaque);
        if (virtwire_transport_stream_send_eof(s->tp, s->proc, s->serial) == VIRTWIRE_ENOMEM)
            client_fail(s->client, VIRTWIRE_ENOMEM);
        stream_unlink_free(s);
        return 0;
    }
    if (rc < 0)
        stream_fail(s);
    return 0;
}

static int on_stream(virtwire_transport_program *tp, const virtwire_transport_msg *m,
                     void *opaque)
{
    virtwire_server_client *c = opaque;
    virtwire_server_stream *s = stream_find(c, tp, m->hdr.serial);
    if (s)
        stream_packet(s, m);
    return 0;
}

/* Gives read streams the chance to send more. */
static void pull_streams(virtwire_server_client *c)
{
    virtwire_server_stream *s = c->streams, *next;
    for (; s; s = next) {
        next = s->next;
        if (!s->opened || !s->read || s->sent_eof || !s->cbs.on_pull)
            continue;
        if (virtwire_conn_pending_output(c->conn) >= STREAM_PULL_BELOW)
            return;
        if (s->cbs.on_pull(s, s->opaque) < 0)
            stream_fail(s);
    }
}

static int wants_pull(const virtwire_server_client *c)
{
    if (virtwire_conn_pending_output(c->conn) >= STREAM_PULL_BELOW)
        return 0;
    for (const virtwire_server_stream *s = c->streams; s; s = s->next)
        if (s->opened && s->read && !s->sent_eof && s->cbs.on_pull)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */
/* ------------------------------------------------------------------------ */

static server_program *program_by_number(virtwire_server *srv, uint32_t prog, uint32_t vers,
                                         size_t *index)
{
    size_t i = 0;
    for (server_program *sp = srv->programs; sp; sp = sp->next, i++) {
        if (sp->prog->program == prog && sp->prog->version == vers) {
            if (index)
                *index = i;
            return sp;
        }
    }
    return NULL;
}

static void call_free(call_impl *ci)
{
    for (size_t i = 0; i < ci->pub.nfds; i++)
        if (ci->pub.fds[i] >= 0)
            close(ci->pub.fds[i]);
    if (ci->stream)
        stream_unlink_free(ci->stream);
    virtwire_arena_fini(&ci->arena);
    free(ci);
}

static void call_unlink(virtwire_server_client *c, call_impl *ci)
{
    for (call_impl **pp = &c->calls; *pp; pp = &(*pp)->next) {
        if (*pp == ci) {
            *pp = ci->next;
            c->outstanding--;
            return;
        }
    }
}

/* A CONNECT_SUPPORTS_FEATURE(VIR_DRV_FEATURE_PROGRAM_KEEPALIVE) of the
 * remote program answered yes: libvirtd starts pinging the client there
 * (remoteDispatchConnectSupportsFeature). */
static int announces_keepalive(const virtwire_server_call *call)
{
    const virtwire_proc *p = call->proc;
    if (p->args != &remote_connect_supports_feature_args_desc ||
        p->ret != &remote_connect_supports_feature_ret_desc)
        return 0;
    const remote_connect_supports_feature_args *a = call->args;
    const remote_connect_supports_feature_ret *r = call->ret;
    return a->feature == FEATURE_PROGRAM_KEEPALIVE && r->supported != 0;
}

/* Sends the reply of a handled call: ret or error, then opens its stream. */
static void call_reply(call_impl *ci, int rc)
{
    virtwire_server_call *call = &ci->pub;
    virtwire_server_client *c = call->client;
    const virtwire_proc *proc = call->proc;
    int64_t sent;
    if (rc < 0) {
        if (call->has_error)
            sent = virtwire_transport_send_error(ci->tp, proc->number, call->serial,
                                                 &call->error);
        else
            sent = send_plain_error(ci->tp, proc->number, call->serial,
                                    VIRTWIRE_VIR_ERR_INTERNAL_ERROR,
                                    "internal error: the handler failed");
        if (sent == VIRTWIRE_ENOMEM)
            send_oom_error(c, ci->tp, proc->number, call->serial);
        return;
    }
    virtwire_server_stream *s = ci->stream;
    if (s) {
        /* Open before the reply: the client may send stream data right
         * after reading it, in the same read as far as we are concerned. */
        unsigned f = s->sparse ? VIRTWIRE_STREAM_SPARSE : 0;
        if (virtwire_transport_stream_open(ci->tp, s->proc, s->serial, f) < 0) {
            /* No stream, no OK reply: call_free() discards it. */
            send_oom_error(c, ci->tp, proc->number, call->serial);
            return;
        }
        s->opened = 1;
        s->client = c;
        s->next = c->streams;
        c->streams = s;
        ci->stream = NULL;
    }
    int with_fds = call->nret_fds > 0 || (proc->flags & VIRTWIRE_PROC_FDS_REPLY);
    sent = virtwire_transport_send_value(
        ci->tp, proc->number, with_fds ? VIR_NET_REPLY_WITH_FDS : VIR_NET_REPLY, VIR_NET_OK,
        call->serial, proc->ret, call->ret, call->ret_fds, call->nret_fds);
    if (sent >= 0) {
        if (announces_keepalive(call))
            virtwire_server_client_start_keepalive(c);
        return;
    }
    /* The client is told the call failed: the stream is not for it. */
    if (s)
        stream_unlink_free(s);
    if (virtwire_transport_error(virtwire_transport_program_transport(ci->tp)) != 0)
        return;
    if (sent == VIRTWIRE_ENOMEM)
        send_oom_error(c, ci->tp, proc->number, call->serial);
    else
        reply_error(c, ci->tp, proc->number, call->serial, VIRTWIRE_VIR_ERR_RPC,
                    "Unable to encode message payload");
}

void virtwire_server_call_complete(virtwire_server_call *call, int rc)
{
    call_impl *ci = (call_impl *)call;
    virtwire_server_client *c = call->client;
    if (c) {
        call_unlink(c, ci);
        if (!c->closing)
            call_reply(ci, rc == VIRTWIRE_SERVER_DEFER ? -1 : rc);
    }
    call_free(ci);
}

/* Hands one call to its handler (or answers it as libvirt would when there
 * is none).  fds are taken from the caller's array. */
static void dispatch(virtwire_server_client *c, const virNetMessageHeader *hdr,
                     const unsigned char *payload, size_t len, int *fds, size_t nfds)
{
    virtwire_server *srv = c->srv;
    size_t idx = 0;
    server_program *sp = program_by_number(srv, hdr->prog, hdr->vers, &idx);
    virtwire_transport_program *tp = c->tps[idx];
    const virtwire_proc *proc = virtwire_program_find(sp->prog, hdr->proc);
    size_t pi = proc ? (size_t)(proc - sp->prog->procs) : 0;
    if (!proc || !sp->fns[pi]) {
        char msg[64];
        snprintf(msg, sizeof msg, "unknown procedure: %d", (int)hdr->proc);
        reply_error(c, tp, hdr->proc, hdr->serial, VIRTWIRE_VIR_ERR_RPC, msg);
        if (srv->cbs.on_unknown)
            srv->cbs.on_unknown(c, hdr->prog, hdr->proc, srv->opaque);
        return;
    }
    call_impl *ci = calloc(1, sizeof *ci);
    if (!ci) {
        send_oom_error(c, tp, hdr->proc, hdr->serial);
        return;
    }
    virtwire_arena_init(&ci->arena);
    virtwire_server_call *call = &ci->pub;
    call->client = c;
    call->prog = sp->prog;
    call->proc = proc;
    call->serial = hdr->serial;
    call->arena = &ci->arena;
    ci->tp = tp;
    for (size_t i = 0; i < nfds && i < VIRTWIRE_SERVER_MAX_FDS; i++) {
        call->fds[call->nfds++] = fds[i];
        fds[i] = -1;
    }
    void *args = NULL;
    int rc = 0;
    if (proc->args) {
        args = virtwire_server_call_alloc(call, proc->args->size);
        rc = args ? virtwire_decode(proc->args, payload, len, &ci->arena, args) : VIRTWIRE_ENOMEM;
    } else if (len) {
        rc = VIRTWIRE_ETRAILING;
    }
    if (rc == 0 && proc->ret && !(call->ret = virtwire_server_call_alloc(call, proc->ret->size)))
        rc = VIRTWIRE_ENOMEM;
    if (rc == VIRTWIRE_ENOMEM) {
        send_oom_error(c, tp, hdr->proc, hdr->serial);
        call_free(ci);
        return;
    }
    if (rc < 0) {
        /* libvirt's wording when a payload does not decode */
        reply_error(c, tp, hdr->proc, hdr->serial, VIRTWIRE_VIR_ERR_RPC,
                    "Unable to decode message payload");
        call_free(ci);
        return;
    }
    call->args = args;
    ci->next = c->calls;
    c->calls = ci;
    c->outstanding++;
    rc = sp->fns[pi](call, sp->opaques[pi]);
    if (rc != VIRTWIRE_SERVER_DEFER)
        virtwire_server_call_complete(call, rc);
}

static int throttled(const virtwire_server_client *c)
{
    return c->outstanding >= c->srv->max_requests;
}

/* Drops a client that would take more memory than it may (its error is
 * VIRTWIRE_ENOMEM) at once: shutting the socket down also ends the read
 * round in progress. */
static void drop_client(virtwire_server_client *c)
{
    client_fail(c, VIRTWIRE_ENOMEM);
    virtwire_conn_shutdown(c->conn);
}

/* Too much output waits for the client to read it. */
static int output_full(const virtwire_server_client *c)
{
    return virtwire_conn_pending_output(c->conn) >= CLIENT_OUTPUT_HIGH;
}

static void backlog_push(virtwire_server_client *c, const virtwire_transport_msg *m)
{
    size_t size = sizeof(backlog_msg) + m->payload_len;
    backlog_msg *b = c->backlog_bytes + size <= BACKLOG_MAX ? malloc(size) : NULL;
    if (!b) {
        drop_client(c); /* cannot keep the call */
        return;
    }
    c->backlog_bytes += size;
    b->next = NULL;
    b->hdr = m->hdr;
    b->len = m->payload_len;
    memcpy(b->payload, m->payload, m->payload_len);
    b->nfds = 0;
    for (size_t i = 0; i < m->nfds && i < VIRTWIRE_SERVER_MAX_FDS; i++) {
        b->fds[b->nfds++] = m->fds[i];
        m->fds[i] = -1;
    }
    if (c->backlog_tail)
        c->backlog_tail->next = b;
    else
        c->backlog = b;
    c->backlog_tail = b;
}

/* Dispatches kept calls while the client is under its limit. */
static void backlog_pump(virtwire_server_client *c)
{
    while (c->backlog && !throttled(c) && !output_full(c) && !c->closing) {
        backlog_msg *b = c->backlog;
        c->backlog = b->next;
        if (!c->backlog)
            c->backlog_tail = NULL;
        c->backlog_bytes -= sizeof *b + b->len;
        dispatch(c, &b->hdr, b->payload, b->len, b->fds, b->nfds);
        for (size_t i = 0; i < b->nfds; i++)
            if (b->fds[i] >= 0)
                close(b->fds[i]);
        free(b);
    }
}

/* Whether the client must not be read from: at its limit of calls, with
 * calls kept, or with replies it has not read. */
static int stop_reading(const virtwire_server_client *c)
{
    return c->backlog || throttled(c) || output_full(c);
}

static int on_call(virtwire_transport_program *tp, const virtwire_transport_msg *m, void *opaque)
{
    virtwire_server_client *c = opaque;
    (void)tp;
    if (c->closing)
        return 0;
    if (stop_reading(c)) {
        /* Kept; and no more is read (the connection reads greedily) until
         * the client is under its limits again. */
        backlog_push(c, m);
        virtwire_conn_pause_reading(c->conn, 1);
        c->paused = 1;
        return 0;
    }
    dispatch(c, &m->hdr, m->payload, m->payload_len, m->fds, m->nfds);
    return 0;
}

static const virtwire_transport_program_callbacks program_cbs = {
    .on_call = on_call,
    .on_stream = on_stream,
};

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

int virtwire_server_send_event(virtwire_server_client *c, const virtwire_program *prog,
                               int32_t proc, const void *msg)
{
    size_t idx;
    const virtwire_proc *p = virtwire_program_find(prog, proc);
    if (!c || !p || !p->msg || !program_by_number(c->srv, prog->program, prog->version, &idx))
        return VIRTWIRE_EINVAL;
    if (c->closing)
        return VIRTWIRE_ECLOSED;
    int64_t rc = virtwire_transport_send_value(c->tps[idx], proc, VIR_NET_MESSAGE, VIR_NET_OK, 1,
                                               p->msg, msg, NULL, 0);
    return rc < 0 ? (int)rc : 0;
}

size_t virtwire_server_broadcast_event(virtwire_server *srv, const virtwire_program *prog,
                                       int32_t proc, const void *msg,
                                       int (*fn)(virtwire_server_client *c, void *opaque),
                                       void *opaque)
{
    size_t n = 0;
    for (virtwire_server_client *c = srv->clients; c; c = c->next)
        if (!c->closing && (!fn || fn(c, opaque)) &&
            virtwire_server_send_event(c, prog, proc, msg) == 0)
            n++;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Clients                                                                  */
/* ------------------------------------------------------------------------ */

void virtwire_server_client_set_data(virtwire_server_client *c, void *data)
{
    c->data = data;
}

void *virtwire_server_client_get_data(const virtwire_server_client *c)
{
    return c->data;
}

virtwire_server *virtwire_server_client_server(const virtwire_server_client *c)
{
    return c->srv;
}

unsigned int virtwire_server_client_outstanding(const virtwire_server_client *c)
{
    return c->outstanding;
}

void virtwire_server_client_close(virtwire_server_client *c)
{
    c->closing = 1;
}

int virtwire_server_client_error(const virtwire_server_client *c)
{
    return c->error;
}

int virtwire_server_client_start_keepalive(virtwire_server_client *c)
{
    if (!c)
        return VIRTWIRE_EINVAL;
    virtwire_server *srv = c->srv;
    if (c->closing)
        return VIRTWIRE_ECLOSED;
    if (c->keepalive || srv->ka_interval_ms <= 0)
        return 0; /* already on, or off by configuration: as libvirt */
    int rc = virtwire_transport_keepalive_start(virtwire_conn_transport(c->conn),
                                                (unsigned int)srv->ka_interval_ms, srv->ka_count);
    if (rc < 0)
        return rc;
    c->keepalive = 1;
    return 0;
}

int virtwire_server_client_keepalive(const virtwire_server_client *c)
{
    return c->keepalive;
}

static void client_free(virtwire_server_client *c)
{
    virtwire_server *srv = c->srv;
    c->closing = 1;
    while (c->streams)
        stream_unlink_free(c->streams);
    if (c->opened && srv->cbs.on_close)
        srv->cbs.on_close(c, srv->opaque);
    /* Deferred calls outlive their client: their handlers complete them. */
    for (call_impl *ci = c->calls; ci; ci = ci->next)
        ci->pub.client = NULL;
    while (c->backlog) {
        backlog_msg *b = c->backlog;
        c->backlog = b->next;
        for (size_t i = 0; i < b->nfds; i++)
            if (b->fds[i] >= 0)
                close(b->fds[i]);
        free(b);
    }
    virtwire_conn_free(c->conn);
    free(c->tps);
    free(c);
}

/* A frame the transport refused, and maybe answered itself. */
static void on_error(virtwire_transport *t, int code, const virNetMessageHeader *hdr, int fatal,
                     void *opaque)
{
    virtwire_server_client *c = opaque;
    (void)t;
    (void)code;
    (void)hdr;
    if (!fatal && !c->closing && virtwire_conn_pending_output(c->conn) > OUTPUT_MAX)
        drop_client(c);
}

static uint64_t clock_ms(void *opaque)
{
    (void)opaque;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void client_add(virtwire_server *srv, int fd, int is_unix)
{
    virtwire_server_client *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->srv = srv;
    c->tps = calloc(srv->nprograms ? srv->nprograms : 1, sizeof *c->tps);
    virtwire_transport_callbacks cbs = { .on_error = on_error, .clock_ms = clock_ms };
    if (!c->tps) {
        close(fd);
        free(c);
        return;
    }
    if (virtwire_conn_adopt(fd, is_unix, VIRTWIRE_TRANSPORT_SERVER, &cbs, c, &c->conn) < 0) {
        free(c->tps);
        free(c);
        return; /* adopt closed fd */
    }
    virtwire_transport *t = virtwire_conn_transport(c->conn);
    size_t i = 0;
    for (server_program *sp = srv->programs; sp; sp = sp->next, i++) {
        if (virtwire_transport_register(t, sp->prog->program, sp->prog->version, &program_cbs, c,
                                        &c->tps[i]) < 0) {
            client_free(c);
            return;
        }
    }
    if (srv->cbs.on_open && srv->cbs.on_open(c, srv->opaque) < 0) {
        client_free(c);
        return;
    }
    c->opened = 1;
    c->next = srv->clients;
    srv->clients = c;
    srv->nclients++;
}

void virtwire_server_foreach_client(virtwire_server *srv,
                                    void (*fn)(virtwire_server_client *c, void *opaque),
                                    void *opaque)
{
    for (virtwire_server_client *c = srv->clients; c; c = c->next)
        if (!c->closing)
            fn(c, opaque);
}

size_t virtwire_server_nclients(const virtwire_server *srv)
{
    return srv->nclients;
}

/* ------------------------------------------------------------------------ */
/* Server                                                                   */
/* ------------------------------------------------------------------------ */

int virtwire_server_new(const virtwire_server_callbacks *cbs, void *opaque,
                        virtwire_server **out)
{
    if (!out)
        return VIRTWIRE_EINVAL;
    virtwire_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return VIRTWIRE_ENOMEM;
    if (cbs)
        srv->cbs = *cbs;
    srv->opaque = opaque;
    srv->tcp_port = -1;
    srv->max_requests = VIRTWIRE_SERVER_MAX_CLIENT_REQUESTS_DEFAULT;
    srv->ka_interval_ms = VIRTWIRE_SERVER_KEEPALIVE_INTERVAL_MS_DEFAULT;
    srv->ka_count = VIRTWIRE_SERVER_KEEPALIVE_COUNT_DEFAULT;
    *out = srv;
    return 0;
}

void virtwire_server_free(virtwire_server *srv)
{
    if (!srv)
        return;
    while (srv->clients) {
        virtwire_server_client *c = srv->clients;
        srv->clients = c->next;
        client_free(c);
    }
    for (size_t i = 0; i < srv->nlisteners; i++) {
        close(srv->listeners[i].fd);
        if (srv->listeners[i].path) {
            unlink(srv->listeners[i].path);
            free(srv->listeners[i].path);
        }
    }
    while (srv->programs) {
        server_program *sp = srv->programs;
        srv->programs = sp->next;
        free(sp->fns);
        free(sp->opaques);
        free(sp);
    }
    free(srv);
}

int virtwire_server_set_max_client_requests(virtwire_server *srv, unsigned int n)
{
    if (!srv || n < 1 || n > MAX_CLIENT_REQUESTS_LIMIT)
        return VIRTWIRE_EINVAL;
    srv->max_requests = n;
    return 0;
}

int virtwire_server_set_keepalive(virtwire_server *srv, int interval_ms, unsigned int count)
{
    if (!srv)
        return VIRTWIRE_EINVAL;
    srv->ka_interval_ms = interval_ms > 0 ? interval_ms : 0;
    srv->ka_count = count;
    return 0;
}

int virtwire_server_register(virtwire_server *srv, const virtwire_program *prog)
{
    if (!srv || !prog || program_by_number(srv, prog->program, prog->version, NULL))
        return VIRTWIRE_EINVAL;
    server_program *sp = calloc(1, sizeof *sp);
    if (!sp)
        return VIRTWIRE_ENOMEM;
    size_t n = prog->nprocs ? prog->nprocs : 1;
    sp->fns = calloc(n, sizeof *sp->fns);
    sp->opaques = calloc(n, sizeof *sp->opaques);
    if (!sp->fns || !sp->opaques) {
        free(sp->fns);
        free(sp->opaques);
        free(sp);
        return VIRTWIRE_ENOMEM;
    }
    sp->prog = prog;
    /* Appended: the index of a program is its position in this list. */
    server_program **pp = &srv->programs;
    while (*pp)
        pp = &(*pp)->next;
    *pp = sp;
    srv->nprograms++;
    return 0;
}

int virtwire_server_set_handler(virtwire_server *srv, const virtwire_program *prog, int32_t proc,
                                virtwire_server_handler fn, void *opaque)
{
    server_program *sp = srv && prog ? program_by_number(srv, prog->program, prog->version, NULL)
                                     : NULL;
    const virtwire_proc *p = sp ? virtwire_program_find(sp->prog, proc) : NULL;
    if (!p)
        return VIRTWIRE_EINVAL;
    size_t i = (size_t)(p - sp->prog->procs);
    sp->fns[i] = fn;
    sp->opaques[i] = opaque;
    return 0;
}

static int listener_add(virtwire_server *srv, int fd, int is_unix, const char *path)
{
    if (srv->nlisteners == MAX_LISTENERS) {
        close(fd);
        return VIRTWIRE_EINVAL;
    }
    listener *l = &srv->listeners[srv->nlisteners];
    l->path = path ? strdup(path) : NULL;
    if (path && !l->path) {
        close(fd);
        return VIRTWIRE_ENOMEM;
    }
    l->fd = fd;
    l->is_unix = is_unix;
    srv->nlisteners++;
    return 0;
}

int virtwire_server_listen_unix(virtwire_server *srv, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!srv || !path || strlen(path) >= sizeof sa.sun_path)
        return VIRTWIRE_EINVAL;
    strcpy(sa.sun_path, path);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* a stale socket of an earlier run */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return VIRTWIRE_EIO;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return VIRTWIRE_EIO;
    }
    return listener_add(srv, fd, 1, path);
}

int virtwire_server_listen_tcp(virtwire_server *srv, const char *host, int port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char ps[16];
    if (!srv || port < 0 || port > 65535)
        return VIRTWIRE_EINVAL;
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host ? host : "127.0.0.1", ps, &hints, &res) != 0)
        return VIRTWIRE_EIO;
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return VIRTWIRE_EIO;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        char serv[16];
        if (getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, serv, sizeof serv,
                        NI_NUMERICSERV) == 0)
            srv->tcp_port = atoi(serv);
    }
    return listener_add(srv, fd, 0, NULL);
}

int virtwire_server_tcp_port(const virtwire_server *srv)
{
    return srv->tcp_port;
}

void virtwire_server_stop(virtwire_server *srv)
{
    srv->stop = 1;
}

static void accept_all(virtwire_server *srv, listener *l)
{
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a client that went before we took it */
        client_add(srv, fd, l->is_unix);
    }
}

static void reap_clients(virtwire_server *srv)
{
    for (virtwire_server_client **pp = &srv->clients; *pp;) {
        virtwire_server_client *c = *pp;
        if (c->closing) {
            *pp = c->next;
            srv->nclients--;
            client_free(c);
        } else {
            pp = &c->next;
        }
    }
}

/* The events to poll a client for: no POLLIN while it is at its limit, so
 * that it cannot pile up more calls than it may have answered, nor while
 * its replies wait for it to read them. */
static short client_events(const virtwire_server_client *c)
{
    short ev = virtwire_conn_events(c->conn);
    if (stop_reading(c))
        ev &= (short)~POLLIN;
    return ev;
}

/* Work that needs no input: kept calls, read streams, keepalive. */
static void client_idle_work(virtwire_server_client *c)
{
    virtwire_transport *t = virtwire_conn_transport(c->conn);
    backlog_pump(c);
    if (!c->closing)
        pull_streams(c);
    if (!c->closing && virtwire_transport_keepalive_timeout(t) == 0) {
        int rc = virtwire_transport_keepalive_tick(t); /* a PING, or death */
        if (rc < 0)
            client_fail(c, rc);
    }
    if (!c->closing) {
        short rev = POLLOUT;
        if (c->paused && !stop_reading(c)) {
            /* Resumed: feed what was read before the pause at once. */
            virtwire_conn_pause_reading(c->conn, 0);
            c->paused = 0;
            rev = 0;
        }
        int rc = virtwire_conn_process(c->conn, rev);
        if (rc < 0)
            client_fail(c, rc);
    }
}

int virtwire_server_run_once(virtwire_server *srv, int timeout_ms)
{
    size_t n = srv->nlisteners + srv->nclients;
    struct pollfd *pfd = calloc(n ? n : 1, sizeof *pfd);
    virtwire_server_client **who = calloc(n ? n : 1, sizeof *who);
    if (!pfd || !who) {
        free(pfd);
        free(who);
        return VIRTWIRE_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < srv->nlisteners; i++)
        pfd[k++] = (struct pollfd){ srv->listeners[i].fd, POLLIN, 0 };
    for (virtwire_server_client *c = srv->clients; c; c = c->next) {
        if ((c->backlog && !throttled(c) && !output_full(c)) || (c->paused && !stop_reading(c)) ||
            wants_pull(c))
            timeout_ms = 0; /* work to do without waiting */
        int64_t ka = virtwire_transport_keepalive_timeout(virtwire_conn_transport(c->conn));
        if (ka >= 0 && (timeout_ms < 0 || ka < timeout_ms))
            timeout_ms = (int)ka; /* ka <= the interval, an int */
        who[k] = c;
        pfd[k++] = (struct pollfd){ virtwire_conn_fd(c->conn), client_events(c), 0 };
    }
    int rc = poll(pfd, k, timeout_ms);
    if (rc < 0 && errno != EINTR) {
        free(pfd);
        free(who);
        return VIRTWIRE_EIO;
    }
    for (size_t i = 0; rc > 0 && i < k; i++) {
        if (!pfd[i].revents)
            continue;
        if (i < srv->nlisteners) {
            accept_all(srv, &srv->listeners[i]);
            continue;
        }
        virtwire_server_client *c = who[i];
        if (!c->closing) {
            int prc = virtwire_conn_process(c->conn, pfd[i].revents);
            if (prc < 0)
                client_fail(c, prc);
        }
    }
    for (virtwire_server_client *c = srv->clients; c; c = c->next)
        if (!c->closing)
            client_idle_work(c);
    reap_clients(srv);
    free(pfd);
    free(who);
    return 0;
}

int virtwire_server_run(virtwire_server *srv)
{
    while (!srv->stop) {
        int rc = virtwire_server_run_once(srv, 1000);
        if (rc < 0)
            return rc;
    }
    return 0;
}
