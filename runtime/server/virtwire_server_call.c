/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire server: calls, from decoding to the reply, and events.
 * See virtwire_server.h for the API and virtwire_server_internal.h for how
 * the server's files divide the work and who owns what.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtwire_server_internal.h"

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

/* Sends an error reply built on the stack (no arena needed).  The RPC
 * layer's errors (VIR_ERR_RPC) carry what libvirtd's virReportError()
 * fills in besides the message: str1 its format, "%s" for this code,
 * str2 the message, int1 and int2 -1. */
static int64_t send_plain_error(virtwire_transport_program *tp, int32_t proc, uint32_t serial,
                                int code, const char *msg)
{
    static char fmt[] = "%s";
    char *m = (char *)msg, *f = fmt;
    virNetMessageError e = { .code = code, .domain = VIRTWIRE_VIR_FROM_RPC, .message = &m,
                             .level = VIRTWIRE_VIR_ERR_LEVEL_ERROR };
    if (code == VIRTWIRE_VIR_ERR_RPC) {
        e.str1 = &f;
        e.str2 = &m;
        e.int1 = -1;
        e.int2 = -1;
    }
    return virtwire_transport_send_error(tp, proc, serial, &e);
}

/* Answers a call that ran out of memory; a client that cannot even be
 * told is dropped. */
static void send_oom_error(virtwire_server_client *c, virtwire_transport_program *tp,
                           int32_t proc, uint32_t serial)
{
    if (send_plain_error(tp, proc, serial, VIRTWIRE_VIR_ERR_INTERNAL_ERROR, oom_message) ==
        VIRTWIRE_ENOMEM)
        vw_server_client_fail(c, VIRTWIRE_ENOMEM);
}

/* The error of a call made before the client authenticated, laid out as
 * libvirtd's virReportError(VIR_ERR_RPC, "%s", "authentication required")
 * leaves it on the wire: the code's format ("%s") in str1, the text in
 * str2, int1 and int2 -1. */
static void reply_auth_required(virtwire_server_client *c, virtwire_transport_program *tp,
                                int32_t proc, uint32_t serial)
{
    static char format[] = "%s", text[] = "authentication required";
    char *m = text, *f = format, *t = text;
    virNetMessageError e = { .code = VIRTWIRE_VIR_ERR_RPC, .domain = VIRTWIRE_VIR_FROM_RPC,
                             .message = &m, .level = VIRTWIRE_VIR_ERR_LEVEL_ERROR, .str1 = &f,
                             .str2 = &t, .int1 = -1, .int2 = -1 };
    if (virtwire_transport_send_error(tp, proc, serial, &e) == VIRTWIRE_ENOMEM)
        send_oom_error(c, tp, proc, serial);
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
/* Calls                                                                    */
/* ------------------------------------------------------------------------ */

static void call_free(call_impl *ci)
{
    for (size_t i = 0; i < ci->pub.nfds; i++)
        if (ci->pub.fds[i] >= 0)
            close(ci->pub.fds[i]);
    if (ci->stream)
        vw_server_stream_unlink_free(ci->stream);
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

/* The leading int of a decoded value. */
static int leading_int(const void *v)
{
    int x;
    memcpy(&x, v, sizeof x);
    return x;
}

/* A CONNECT_SUPPORTS_FEATURE(VIR_DRV_FEATURE_PROGRAM_KEEPALIVE) of the
 * remote program answered yes: libvirtd starts pinging the client there
 * (remoteDispatchConnectSupportsFeature).  The remote program is data
 * here (virtwire_facts.h): its args start with `int feature`, its ret with
 * `int supported`. */
static int announces_keepalive(const virtwire_server_call *call)
{
    const virtwire_proc *p = call->proc;
    if (call->prog->program != VIRTWIRE_REMOTE_PROGRAM ||
        call->prog->version != VIRTWIRE_REMOTE_PROTOCOL_VERSION ||
        p->number != VIRTWIRE_REMOTE_PROC_CONNECT_SUPPORTS_FEATURE || !p->args || !p->ret ||
        p->args->size < sizeof(int) || p->ret->size < sizeof(int))
        return 0;
    return leading_int(call->args) == VIRTWIRE_VIR_DRV_FEATURE_PROGRAM_KEEPALIVE &&
           leading_int(call->ret) != 0;
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
        if (ci->wrap_fn) {
            /* From here on, the client's bytes go through the new channel
             * (after this frame, when we are inside its delivery). */
            int wrc = virtwire_conn_wrap_channel(c->conn, ci->wrap_fn, ci->wrap_opaque);
            ci->wrap_fn = NULL;
            if (wrc < 0)
                vw_server_client_fail(c, wrc);
            else
                c->input_kick = 1;
        }
        return;
    }
    /* The client is told the call failed: the stream is not for it. */
    if (s)
        vw_server_stream_unlink_free(s);
    if (virtwire_transport_error(virtwire_transport_program_transport(ci->tp)) != 0)
        return;
    if (sent == VIRTWIRE_ENOMEM)
        send_oom_error(c, ci->tp, proc->number, call->serial);
    else
        reply_error(c, ci->tp, proc->number, call->serial, VIRTWIRE_VIR_ERR_RPC,
                    "Unable to encode message payload");
}

int virtwire_server_call_wrap_channel(virtwire_server_call *call, virtwire_conn_wrap_fn fn,
                                      void *opaque)
{
    call_impl *ci = (call_impl *)call;
    if (!call || !fn || !call->client || call->client->closing)
        return VIRTWIRE_EINVAL;
    ci->wrap_fn = fn;
    ci->wrap_opaque = opaque;
    /* No byte after this call's frame is taken as a frame. */
    virtwire_conn_hold_input(call->client->conn);
    return 0;
}

void virtwire_server_call_complete(virtwire_server_call *call, int rc)
{
    call_impl *ci = (call_impl *)call;
    virtwire_server_client *c = call->client;
    if (c) {
        call_unlink(c, ci);
        if (!c->closing)
            call_reply(ci, rc == VIRTWIRE_SERVER_DEFER ? -1 : rc);
        if (ci->wrap_fn) { /* the call failed: reading goes on as before */
            virtwire_conn_release_input(c->conn);
            c->input_kick = 1;
        }
    }
    call_free(ci);
}

/* Whether proc of prog may be called before the client has authenticated. */
static int exempt(const virtwire_server *srv, const virtwire_program *prog, int32_t proc)
{
    return prog->program == srv->exempt_program && prog->version == srv->exempt_version &&
           proc >= srv->exempt_first && proc <= srv->exempt_last;
}

void vw_server_dispatch(virtwire_server_client *c, const virNetMessageHeader *hdr,
                        const unsigned char *payload, size_t len, int *fds, size_t nfds)
{
    virtwire_server *srv = c->srv;
    size_t idx = 0;
    server_program *sp = vw_server_program_find(srv, hdr->prog, hdr->vers, &idx);
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
    if (!c->authenticated && !exempt(srv, sp->prog, hdr->proc)) {
        /* libvirtd's answer (virnetserverprogram.c), after the unknown
         * procedure check and before the arguments are decoded. */
        reply_auth_required(c, tp, hdr->proc, hdr->serial);
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
    for (size_t i = 0; i < nfds && i < VIRTWIRE_FDS_MAX; i++) {
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

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

int virtwire_server_send_event(virtwire_server_client *c, const virtwire_program *prog,
                               int32_t proc, const void *msg)
{
    size_t idx;
    const virtwire_proc *p = virtwire_program_find(prog, proc);
    if (!c || !p || !p->msg || !vw_server_program_find(c->srv, prog->program, prog->version, &idx))
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
