/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire server: streams attached to calls.
 * See virtwire_server.h for the API and virtwire_server_internal.h for how
 * the server's files divide the work and who owns what.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <stdlib.h>
#include <string.h>

#include "virtwire_server_internal.h"
#include "virtwire_sized_internal.h"

void vw_server_stream_unlink_free(virtwire_server_stream *s)
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
        vw_server_client_fail(s->client, VIRTWIRE_ENOMEM);
    vw_server_stream_unlink_free(s);
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
    virtwire_server_stream_callbacks mine;
    if (ci->stream || !(f & (VIRTWIRE_PROC_STREAM_READ | VIRTWIRE_PROC_STREAM_WRITE)) || !cbs ||
        vw_sized_copy(&mine, sizeof mine, cbs) < 0)
        return NULL;
    virtwire_server_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->tp = ci->tp;
    s->proc = call->proc->number;
    s->serial = call->serial;
    s->sparse = sparse != 0;
    s->read = (f & VIRTWIRE_PROC_STREAM_READ) != 0;
    s->cbs = mine;
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
                vw_server_client_fail(s->client, VIRTWIRE_ENOMEM);
            vw_server_stream_unlink_free(s);
            return 0;
        }
    } else {
        /* Client abort: confirmed with an empty STREAM/OK, as libvirtd
         * does (daemonStreamHandleAbort(): the same zero-length packet as
         * for a finish), which ends the stream on the client's side too. */
        if (s->cbs.on_abort)
            s->cbs.on_abort(s, s->opaque);
        if (virtwire_transport_stream_finish(s->tp, s->proc, s->serial) == VIRTWIRE_ENOMEM)
            vw_server_client_fail(s->client, VIRTWIRE_ENOMEM);
        vw_server_stream_unlink_free(s);
        return 0;
    }
    if (rc < 0)
        stream_fail(s);
    return 0;
}

int vw_server_on_stream(virtwire_transport_program *tp, const virtwire_transport_msg *m,
                        void *opaque)
{
    virtwire_server_client *c = opaque;
    virtwire_server_stream *s = stream_find(c, tp, m->hdr.serial);
    if (s)
        stream_packet(s, m);
    return 0;
}

void vw_server_pull_streams(virtwire_server_client *c)
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

int vw_server_wants_pull(const virtwire_server_client *c)
{
    if (virtwire_conn_pending_output(c->conn) >= STREAM_PULL_BELOW)
        return 0;
    for (const virtwire_server_stream *s = c->streams; s; s = s->next)
        if (s->opened && s->read && !s->sent_eof && s->cbs.on_pull)
            return 1;
    return 0;
}
