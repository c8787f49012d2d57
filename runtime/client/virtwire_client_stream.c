/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire client: streams: packets kept until read, sending, finishing, aborting.
 * See virtwire_client.h for the API and virtwire_client_internal.h for how
 * the client's files divide the work, its locking and its threads.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>


#include "virtwire_client_internal.h"

static virtwire_client_stream *stream_find(virtwire_client *c, virtwire_transport_program *tp,
                                           uint32_t serial)
{
    for (virtwire_client_stream *s = c->streams; s; s = s->next)
        if (s->tp == tp && s->serial == serial)
            return s;
    return NULL;
}

int vw_client_on_stream(virtwire_transport_program *tp, const virtwire_transport_msg *m,
                     void *opaque)
{
    virtwire_client *c = opaque;
    virtwire_client_stream *s = stream_find(c, tp, m->hdr.serial);
    if (!s || s->finished)
        return 0;
    size_t len = m->hdr.type == VIR_NET_STREAM && m->hdr.status == VIR_NET_CONTINUE
                     ? m->payload_len : 0;
    packet *k = calloc(1, sizeof *k + len);
    if (!k) {
        vw_client_mark_dead(c, VIRTWIRE_ENOMEM); /* losing data silently is worse than dying */
        return -1;
    }
    if (m->hdr.type == VIR_NET_STREAM_HOLE) {
        k->kind = PKT_HOLE;
        k->hole = m->hole ? m->hole->length : 0;
    } else if (m->hdr.status == VIR_NET_CONTINUE) {
        k->kind = len ? PKT_DATA : PKT_EOF;
        memcpy(k->data, m->payload, len);
        k->len = len;
    } else if (m->hdr.status == VIR_NET_OK) {
        k->kind = PKT_OK;
    } else {
        k->kind = PKT_ERROR;
        if (m->payload_len &&
            virtwire_decode(&virNetMessageError_desc, m->payload, m->payload_len, NULL,
                            &k->error) == 0)
            k->has_error = 1;
    }
    if (k->kind != PKT_DATA && k->kind != PKT_HOLE)
        s->got_eof = 1;
    if (s->tail)
        s->tail->next = k;
    else
        s->head = k;
    s->tail = k;
    pthread_cond_broadcast(&s->cond);
    return 0;
}

void vw_client_stream_send_abort(virtwire_client *c, virtwire_transport_program *tp, int32_t proc,
                              uint32_t serial)
{
    int rc = virtwire_transport_stream_abort(tp, proc, serial);
    int why = virtwire_transport_error(c->t);
    if (rc < 0 && (why || (why = virtwire_conn_write_error(c->conn)))) {
        vw_client_mark_dead(c, why);
        vw_client_kick_bg(c);
    } else if (virtwire_conn_pending_output(c->conn))
        vw_client_wake_owner(c);
}

int virtwire_client_stream_call(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                                const void *args, void *ret, virtwire_call_opts *opts,
                                virtwire_client_stream **out)
{
    const virtwire_proc *p;
    if (out)
        *out = NULL;
    if (!c)
        return VIRTWIRE_EINVAL;
    if (!out || vw_client_check_proc(prog, proc, &p) < 0 ||
        !(p->flags & (VIRTWIRE_PROC_STREAM_READ | VIRTWIRE_PROC_STREAM_WRITE))) {
        vw_client_report(c, NULL, VIRTWIRE_EINVAL, NULL);
        return VIRTWIRE_EINVAL;
    }
    virtwire_client_stream *s = calloc(1, sizeof *s);
    if (!s || vw_client_cond_init(&s->cond) < 0) {
        free(s);
        vw_client_report(c, NULL, VIRTWIRE_ENOMEM, NULL);
        return VIRTWIRE_ENOMEM;
    }
    s->c = c;
    s->proc = proc;
    s->flags = p->flags;
    int rc = vw_client_call_common(c, prog, proc, args, ret, opts, s, NULL);
    if (rc < 0) {
        s->finished = 1; /* nothing to abort: the daemon refused the call */
        virtwire_client_stream_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static void packet_free(packet *k)
{
    if (k->has_error)
        virNetMessageError_free(&k->error);
    free(k);
}

/* Waits (lock held) for a packet; returns it, still queued, or NULL with
 * *rc set. */
static packet *stream_wait(virtwire_client_stream *s, uint64_t deadline, int *rc)
{
    virtwire_client *c = s->c;
    vw_client_ensure_reader(c); /* packets come in through the I/O role's owner */
    while (!s->head) {
        if (c->dead) {
            *rc = VIRTWIRE_ECLOSED;
            return NULL;
        }
        if (s->finished) {
            *rc = VIRTWIRE_EINVAL;
            return NULL;
        }
        if (vw_client_cond_wait_until(&s->cond, &c->lock, deadline) == ETIMEDOUT && !s->head) {
            *rc = VIRTWIRE_ETIMEDOUT;
            return NULL;
        }
    }
    return s->head;
}

static void stream_pop(virtwire_client_stream *s)
{
    packet *k = s->head;
    s->head = k->next;
    if (!s->head)
        s->tail = NULL;
    packet_free(k);
}

/* Ends the stream on our side after a final packet from the daemon. */
static int stream_error_packet(virtwire_client_stream *s, packet *k, virNetMessageError *error)
{
    if (error) {
        *error = k->error;
        k->has_error = 0; /* moved to the caller */
    }
    s->finished = 1;
    virtwire_transport_stream_close(s->tp, s->serial);
    return VIRTWIRE_EREMOTE;
}

long virtwire_client_stream_recv(virtwire_client_stream *s, void *buf, size_t len,
                                 int64_t *hole, int timeout_ms, virNetMessageError *error)
{
    if (!s || (!buf && len))
        return VIRTWIRE_EINVAL;
    if (hole)
        *hole = 0;
    if (error)
        memset(error, 0, sizeof *error);
    virtwire_client *c = s->c;
    uint64_t deadline = vw_client_deadline_for(c, timeout_ms);
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    long got = 0;
    packet *k = stream_wait(s, deadline, &rc);
    if (!k) {
        got = rc;
    } else if (k->kind == PKT_DATA) {
        size_t n = k->len - k->off < len ? k->len - k->off : len;
        if (n > (size_t)VIRTWIRE_CLIENT_STREAM_HOLE - 1)
            n = (size_t)VIRTWIRE_CLIENT_STREAM_HOLE - 1;
        memcpy(buf, k->data + k->off, n);
        k->off += n;
        got = (long)n;
        if (k->off == k->len)
            stream_pop(s);
    } else if (k->kind == PKT_HOLE) {
        if (hole)
            *hole = k->hole;
        got = hole ? VIRTWIRE_CLIENT_STREAM_HOLE : VIRTWIRE_EINVAL;
        stream_pop(s);
    } else if (k->kind == PKT_ERROR) {
        got = stream_error_packet(s, k, error);
        stream_pop(s);
    } else {
        got = 0; /* end of data (EOF or OK): left queued for finish() */
    }
    pthread_mutex_unlock(&c->lock);
    return got;
}

/* Sends under the lock and wakes the I/O thread when output is queued. */
static int stream_send_locked(virtwire_client_stream *s, int rc)
{
    virtwire_client *c = s->c;
    int werr = virtwire_conn_write_error(c->conn);
    if (rc < 0 && (virtwire_transport_error(c->t) || werr)) {
        int fatal = virtwire_transport_error(c->t);
        vw_client_mark_dead(c, fatal ? fatal : werr);
        vw_client_kick_bg(c); /* the I/O thread runs the close jobs */
        rc = !fatal && werr == VIRTWIRE_ENOMEM ? VIRTWIRE_ENOMEM : VIRTWIRE_ECLOSED;
    } else if (rc == VIRTWIRE_ESEND && vw_client_write_side_dead(c)) {
        rc = VIRTWIRE_ECLOSED;
    }
    if (virtwire_conn_pending_output(c->conn)) {
        vw_client_ensure_reader(c);
        vw_client_wake_owner(c);
    }
    return rc;
}

static int stream_usable(virtwire_client_stream *s)
{
    if (s->c->dead)
        return VIRTWIRE_ECLOSED;
    if (s->finished || s->sent_end)
        return VIRTWIRE_EINVAL;
    return 0;
}

int virtwire_client_stream_send(virtwire_client_stream *s, const void *data, size_t len)
{
    if (!s || (!data && len) || !(s->flags & VIRTWIRE_PROC_STREAM_WRITE))
        return VIRTWIRE_EINVAL;
    pthread_mutex_lock(&s->c->lock);
    int rc = stream_usable(s);
    if (rc == 0 && len)
        rc = stream_send_locked(
            s, virtwire_transport_stream_send_data(s->tp, s->proc, s->serial, data, len));
    pthread_mutex_unlock(&s->c->lock);
    return rc;
}

int virtwire_client_stream_send_hole(virtwire_client_stream *s, int64_t length)
{
    if (!s || length < 0 || !(s->flags & VIRTWIRE_PROC_STREAM_WRITE) ||
        !(s->flags & VIRTWIRE_PROC_STREAM_SPARSE))
        return VIRTWIRE_EINVAL;
    pthread_mutex_lock(&s->c->lock);
    int rc = stream_usable(s);
    if (rc == 0)
        rc = stream_send_locked(
            s, virtwire_transport_stream_send_hole(s->tp, s->proc, s->serial, length, 0));
    pthread_mutex_unlock(&s->c->lock);
    return rc;
}

/* Waits (lock held) for the daemon's final packet: OK confirms, ERROR
 * reports; data still arriving is discarded. */
static int stream_wait_final(virtwire_client_stream *s, uint64_t deadline,
                             virNetMessageError *error)
{
    int rc = 0;
    packet *k;
    while ((k = stream_wait(s, deadline, &rc))) {
        int kind = k->kind;
        if (kind == PKT_ERROR) {
            rc = stream_error_packet(s, k, error);
            stream_pop(s);
            return rc;
        }
        stream_pop(s);
        if (kind == PKT_OK) {
            s->finished = 1;
            return 0;
        }
    }
    return rc;
}

int virtwire_client_stream_finish(virtwire_client_stream *s, int timeout_ms,
                                  virNetMessageError *error)
{
    if (!s)
        return VIRTWIRE_EINVAL;
    if (error)
        memset(error, 0, sizeof *error);
    virtwire_client *c = s->c;
    uint64_t deadline = vw_client_deadline_for(c, timeout_ms);
    pthread_mutex_lock(&c->lock);
    int rc = stream_usable(s);
    int confirmed = 0;
    if (rc == 0 && !(s->flags & VIRTWIRE_PROC_STREAM_WRITE)) {
        /* A read stream: skip unread data up to the daemon's end of data
         * (an empty CONTINUE, or its OK). */
        packet *k;
        while ((k = stream_wait(s, deadline, &rc)) && (k->kind == PKT_DATA || k->kind == PKT_HOLE))
            stream_pop(s);
        if (k && k->kind == PKT_ERROR) {
            rc = stream_error_packet(s, k, error);
            stream_pop(s);
        } else if (k) {
            confirmed = k->kind == PKT_OK;
            stream_pop(s);
        }
    }
    if (rc == 0) {
        /* libvirt's client finishes with STREAM/OK and waits for the
         * daemon's STREAM/OK confirmation (or its error). */
        rc = stream_send_locked(s, virtwire_transport_stream_finish(s->tp, s->proc, s->serial));
        s->sent_end = 1;
        if (rc == 0 && !confirmed)
            rc = stream_wait_final(s, deadline, error);
        if (rc == 0)
            s->finished = 1;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int virtwire_client_stream_abort(virtwire_client_stream *s)
{
    if (!s)
        return VIRTWIRE_EINVAL;
    pthread_mutex_lock(&s->c->lock);
    int rc = s->c->dead ? VIRTWIRE_ECLOSED : 0;
    if (rc == 0 && !s->finished && !s->sent_end) {
        rc = stream_send_locked(s, virtwire_transport_stream_abort(s->tp, s->proc, s->serial));
        s->sent_end = 1;
    }
    /* Whatever the daemon still sends is dropped from now on. */
    s->finished = 1;
    if (s->tp && virtwire_transport_stream_is_open(s->tp, s->serial))
        virtwire_transport_stream_close(s->tp, s->serial);
    pthread_mutex_unlock(&s->c->lock);
    return rc;
}

void virtwire_client_stream_free(virtwire_client_stream *s)
{
    if (!s)
        return;
    virtwire_client *c = s->c;
    if (s->tp && !s->finished)
        virtwire_client_stream_abort(s);
    pthread_mutex_lock(&c->lock);
    for (virtwire_client_stream **pp = &c->streams; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    if (s->tp && virtwire_transport_stream_is_open(s->tp, s->serial))
        virtwire_transport_stream_close(s->tp, s->serial);
    while (s->head)
        stream_pop(s);
    pthread_mutex_unlock(&c->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}
