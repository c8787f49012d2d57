/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire server: clients, their flow control and keepalive.
 * See virtwire_server.h for the API and virtwire_server_internal.h for how
 * the server's files divide the work and who owns what.
 */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "virtwire_server_internal.h"

void vw_server_client_fail(virtwire_server_client *c, int why)
{
    if (!c->closing) {
        c->closing = 1;
        c->error = why;
    }
}

/* ------------------------------------------------------------------------ */
/* Flow control                                                             */
/* ------------------------------------------------------------------------ */

static int throttled(const virtwire_server_client *c)
{
    return c->outstanding >= c->srv->max_requests;
}

/* Drops a client that would take more memory than it may (its error is
 * VIRTWIRE_ENOMEM) at once: shutting the socket down also ends the read
 * round in progress. */
static void drop_client(virtwire_server_client *c)
{
    vw_server_client_fail(c, VIRTWIRE_ENOMEM);
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
    for (size_t i = 0; i < m->nfds && i < VIRTWIRE_FDS_MAX; i++) {
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
        vw_server_dispatch(c, &b->hdr, b->payload, b->len, b->fds, b->nfds);
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
    vw_server_dispatch(c, &m->hdr, m->payload, m->payload_len, m->fds, m->nfds);
    return 0;
}

static const virtwire_transport_program_callbacks program_cbs = {
    .size = sizeof program_cbs,
    .on_call = on_call,
    .on_stream = vw_server_on_stream,
};

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

void vw_server_client_poll(virtwire_server_client *c, struct pollfd *pfd, int *timeout_ms)
{
    if ((c->backlog && !throttled(c) && !output_full(c)) || (c->paused && !stop_reading(c)) ||
        c->input_kick || vw_server_wants_pull(c))
        *timeout_ms = 0; /* work to do without waiting */
    int64_t ka = virtwire_transport_keepalive_timeout(virtwire_conn_transport(c->conn));
    if (ka >= 0 && (*timeout_ms < 0 || ka < *timeout_ms))
        *timeout_ms = (int)ka; /* ka <= the interval, an int */
    *pfd = (struct pollfd){ virtwire_conn_fd(c->conn), client_events(c), 0 };
}

void vw_server_client_idle_work(virtwire_server_client *c)
{
    virtwire_transport *t = virtwire_conn_transport(c->conn);
    backlog_pump(c);
    if (!c->closing)
        vw_server_pull_streams(c);
    if (!c->closing && virtwire_transport_keepalive_timeout(t) == 0) {
        int rc = virtwire_transport_keepalive_tick(t); /* a PING, or death */
        if (rc < 0)
            vw_server_client_fail(c, rc);
    }
    if (!c->closing) {
        short rev = POLLOUT;
        if (c->paused && !stop_reading(c)) {
            /* Resumed: feed what was read before the pause at once. */
            virtwire_conn_pause_reading(c->conn, 0);
            c->paused = 0;
            rev = 0;
        }
        if (c->input_kick) { /* a hold ended, or the channel changed */
            c->input_kick = 0;
            rev = 0;
        }
        int rc = virtwire_conn_process(c->conn, rev);
        if (rc < 0)
            vw_server_client_fail(c, rc);
    }
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

int virtwire_server_client_authenticated(const virtwire_server_client *c)
{
    return c->authenticated;
}

void virtwire_server_client_set_authenticated(virtwire_server_client *c)
{
    c->authenticated = 1;
}

const int *virtwire_server_client_auth_types(const virtwire_server_client *c, size_t *n)
{
    *n = c->from->nauth_types;
    return c->from->auth_types;
}

int virtwire_server_client_readonly(const virtwire_server_client *c)
{
    return c->from->opts.readonly != 0;
}

virtwire_channel *virtwire_server_client_channel(virtwire_server_client *c)
{
    return virtwire_conn_channel(c->conn);
}

int virtwire_server_client_peer_cred(const virtwire_server_client *c, pid_t *pid, uid_t *uid,
                                     gid_t *gid)
{
    if (!c || !virtwire_conn_is_unix(c->conn))
        return VIRTWIRE_EINVAL;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(virtwire_conn_fd(c->conn), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return VIRTWIRE_EIO;
    if (pid)
        *pid = cred.pid;
    if (uid)
        *uid = cred.uid;
    if (gid)
        *gid = cred.gid;
    return 0;
}

void vw_server_client_free(virtwire_server_client *c)
{
    virtwire_server *srv = c->srv;
    c->closing = 1;
    while (c->streams)
        vw_server_stream_unlink_free(c->streams);
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
    while (c->attachments) {
        attachment *a = c->attachments;
        c->attachments = a->next;
        if (a->release)
            a->release(a->data);
        free(a);
    }
    free(c->tps);
    free(c);
}

int virtwire_server_client_attach(virtwire_server_client *c, const void *key, void *data,
                                  void (*release)(void *data))
{
    if (!c || !key)
        return VIRTWIRE_EINVAL;
    for (attachment **pp = &c->attachments; *pp; pp = &(*pp)->next) {
        attachment *a = *pp;
        if (a->key != key)
            continue;
        void *old = a->data;
        void (*old_release)(void *) = a->release;
        if (data) {
            a->data = data;
            a->release = release;
        } else {
            *pp = a->next;
            free(a);
        }
        if (old_release && old != data)
            old_release(old);
        return 0;
    }
    if (!data)
        return 0;
    attachment *a = malloc(sizeof *a);
    if (!a)
        return VIRTWIRE_ENOMEM;
    *a = (attachment){ c->attachments, key, data, release };
    c->attachments = a;
    return 0;
}

void *virtwire_server_client_attached(const virtwire_server_client *c, const void *key)
{
    for (const attachment *a = c ? c->attachments : NULL; a; a = a->next)
        if (a->key == key)
            return a->data;
    return NULL;
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

void vw_server_client_add(virtwire_server *srv, int fd, const listener *l)
{
    virtwire_server_client *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->srv = srv;
    c->from = l;
    c->authenticated = !l->auth_required;
    c->tps = calloc(srv->nprograms ? srv->nprograms : 1, sizeof *c->tps);
    virtwire_transport_callbacks cbs = { .size = sizeof cbs, .on_error = on_error,
                                         .clock_ms = clock_ms };
    if (!c->tps) {
        close(fd);
        free(c);
        return;
    }
    virtwire_channel *ch = NULL;
    int rc = l->opts.make_channel
                 ? l->opts.make_channel(fd, l->is_unix, l->opts.channel_opaque, &ch)
                 : virtwire_channel_socket_new(fd, l->is_unix, &ch);
    if (rc < 0 || !ch ||
        virtwire_conn_adopt_channel(ch, VIRTWIRE_TRANSPORT_SERVER, &cbs, c, &c->conn) < 0) {
        free(c->tps);
        free(c);
        return; /* the fd and the channel are closed */
    }
    virtwire_transport *t = virtwire_conn_transport(c->conn);
    size_t i = 0;
    for (server_program *sp = srv->programs; sp; sp = sp->next, i++) {
        if (virtwire_transport_register(t, sp->prog->program, sp->prog->version, &program_cbs, c,
                                        &c->tps[i]) < 0) {
            vw_server_client_free(c);
            return;
        }
    }
    if (srv->cbs.on_open && srv->cbs.on_open(c, srv->opaque) < 0) {
        vw_server_client_free(c);
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

