/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire client: the I/O role, the I/O thread and the transport callbacks they share.
 * See virtwire_client.h for the API and virtwire_client_internal.h for how
 * the client's files divide the work, its locking and its threads.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "virtwire_client_internal.h"

uint64_t vw_client_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t clock_cb(void *opaque)
{
    (void)opaque;
    return vw_client_now_ms();
}

int vw_client_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a) != 0)
        return VIRTWIRE_ENOMEM;
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cond, &a);
    pthread_condattr_destroy(&a);
    return rc == 0 ? 0 : VIRTWIRE_ENOMEM;
}

int vw_client_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *m, uint64_t deadline_ms)
{
    if (!deadline_ms)
        return pthread_cond_wait(cond, m);
    struct timespec ts = { (time_t)(deadline_ms / 1000u), (long)(deadline_ms % 1000u) * 1000000L };
    return pthread_cond_timedwait(cond, m, &ts);
}

uint64_t vw_client_deadline_for(const virtwire_client *c, int timeout_ms)
{
    if (timeout_ms == 0)
        timeout_ms = c->default_timeout_ms;
    return timeout_ms > 0 ? vw_client_now_ms() + (uint64_t)timeout_ms : 0;
}

int vw_client_on_io_thread(const virtwire_client *c)
{
    return c->thread_started && pthread_equal(pthread_self(), c->thread);
}

int vw_client_bg_needed(const virtwire_client *c)
{
    return c->npending_async > 0 || c->streams != NULL;
}

static int is_owner(const virtwire_client *c)
{
    if (c->io_owner == IO_BG)
        return vw_client_on_io_thread(c);
    return c->io_owner == IO_CALLER && pthread_equal(c->owner_tid, pthread_self());
}

void vw_client_wake_owner(virtwire_client *c)
{
    if (c->io_owner == IO_FREE || c->wake_pending || is_owner(c))
        return;
    char b = 0;
    c->wake_pending = 1;
    ssize_t n = write(c->wake[1], &b, 1);
    (void)n;
}

void vw_client_kick_bg(virtwire_client *c)
{
    if (c->io_owner == IO_BG)
        vw_client_wake_owner(c);
    else
        pthread_cond_signal(&c->bg_cond);
}

void vw_client_ensure_reader(virtwire_client *c)
{
    if (c->io_owner != IO_FREE)
        return;
    c->io_owner = IO_BG;
    pthread_cond_signal(&c->bg_cond);
}

void vw_client_role_freed(virtwire_client *c)
{
    c->io_owner = IO_FREE;
    c->free_since = vw_client_now_ms();
    for (struct pending *w = c->waiters; w; w = w->wnext) {
        if (!w->done) {
            pthread_cond_signal(w->cond);
            return;
        }
    }
    if (vw_client_bg_needed(c))
        vw_client_ensure_reader(c);
    if (c->jobs)
        vw_client_kick_bg(c);
}

void vw_client_queue_job(virtwire_client *c, job *j)
{
    j->next = NULL;
    if (c->jobs_tail)
        c->jobs_tail->next = j;
    else
        c->jobs = j;
    c->jobs_tail = j;
}

void vw_client_mark_dead(virtwire_client *c, int why)
{
    if (c->dead)
        return;
    c->dead = why < 0 ? why : VIRTWIRE_ECLOSED;
    pthread_cond_broadcast(&c->handler_cond); /* virtwire_client_next_event() */
    /* Like libvirt's client: a dead connection is closed at once, so the
     * daemon sees end of file without waiting for virtwire_client_close(). */
    if (c->conn)
        virtwire_conn_shutdown(c->conn);
    vw_client_fail_all(c);
    job *j = &c->closed_job;
    j->kind = JOB_CLOSED;
    j->why = c->dead;
    j->notify = !c->close_called;
    vw_client_queue_job(c, j);
}

static void on_error(virtwire_transport *t, int code, const virNetMessageHeader *hdr, int fatal,
                     void *opaque)
{
    virtwire_client *c = opaque;
    (void)t;
    if (fatal) {
        vw_client_mark_dead(c, code);
        return;
    }
    /* A reply the transport dropped (bad status, undecodable error) still
     * completes its call: fail it with the transport's reason. */
    if (hdr && (hdr->type == VIR_NET_REPLY || hdr->type == VIR_NET_REPLY_WITH_FDS)) {
        for (client_program *cp = c->programs; cp; cp = cp->next) {
            if (cp->prog->program == hdr->prog && cp->prog->version == hdr->vers) {
                pending *p = vw_client_pending_take(c, cp->tp, hdr->serial);
                if (p)
                    vw_client_pending_finish(c, p, code);
            }
        }
    }
}

static void on_keepalive_dead(virtwire_transport *t, void *opaque)
{
    (void)t;
    vw_client_mark_dead(opaque, VIRTWIRE_EKEEPALIVE);
}

static const virtwire_transport_program_callbacks program_cbs = {
    .size = sizeof program_cbs,
    .on_reply = vw_client_on_reply,
    .on_message = vw_client_on_message,
    .on_stream = vw_client_on_stream,
};

int vw_client_program_handle(virtwire_client *c, const virtwire_program *prog,
                          virtwire_transport_program **out)
{
    for (client_program *cp = c->programs; cp; cp = cp->next) {
        if (cp->prog == prog ||
            (cp->prog->program == prog->program && cp->prog->version == prog->version)) {
            *out = cp->tp;
            return 0;
        }
    }
    client_program *cp = calloc(1, sizeof *cp);
    if (!cp)
        return VIRTWIRE_ENOMEM;
    int rc = virtwire_transport_register(c->t, prog->program, prog->version, &program_cbs, c,
                                         &cp->tp);
    if (rc < 0) {
        free(cp);
        return rc;
    }
    cp->prog = prog;
    cp->next = c->programs;
    c->programs = cp;
    *out = cp->tp;
    return 0;
}

void vw_client_run_jobs(virtwire_client *c)
{
    for (;;) {
        pthread_mutex_lock(&c->lock);
        job *j = c->jobs;
        if (j) {
            c->jobs = j->next;
            if (!c->jobs)
                c->jobs_tail = NULL;
        }
        virtwire_client_close_fn close_fn = c->close_fn;
        void *close_opaque = c->close_opaque;
        pthread_mutex_unlock(&c->lock);
        if (!j)
            return;
        switch (j->kind) {
        case JOB_DONE:
            vw_client_run_done(c, j->call); /* frees the call, and j with it */
            continue;
        case JOB_EVENT:
            vw_client_run_event(c, j);
            pthread_mutex_lock(&c->lock);
            vw_client_job_unref(j);
            pthread_mutex_unlock(&c->lock);
            continue;
        case JOB_BIND:
            vw_client_run_bind(c, j->handler_id);
            break;
        case JOB_CLOSED:
            if (close_fn && j->notify)
                close_fn(c, j->why, close_opaque);
            continue; /* c->closed_job */
        }
        free(j);
    }
}

int vw_client_poll_timeout(virtwire_client *c)
{
    int64_t ka = virtwire_transport_keepalive_timeout(c->t);
    uint64_t dl = vw_client_next_async_deadline(c);
    int64_t t = ka;
    if (dl) {
        uint64_t now = vw_client_now_ms();
        int64_t d = dl > now ? (int64_t)(dl - now) : 0;
        t = t < 0 || d < t ? d : t;
    }
    return t < 0 ? -1 : t > 60000 ? 60000 : (int)t;
}

/* Empties the wake-up pipe (lock held). */
static void drain_wake(virtwire_client *c)
{
    char buf[64];
    while (read(c->wake[0], buf, sizeof buf) > 0)
        ;
    c->wake_pending = 0;
}

int vw_client_io_round(virtwire_client *c, int timeout)
{
    struct pollfd pfd[2] = {
        { virtwire_conn_fd(c->conn), virtwire_conn_events(c->conn), 0 },
        { c->wake[0], POLLIN, 0 },
    };
    pthread_mutex_unlock(&c->lock);
    int n = poll(pfd, 2, timeout);
    int poll_errno = n < 0 ? errno : 0;
    pthread_mutex_lock(&c->lock);

    if (pfd[1].revents)
        drain_wake(c);
    int rc = 0;
    if (n < 0 && poll_errno != EINTR)
        rc = VIRTWIRE_EIO;
    if (c->closing)
        rc = VIRTWIRE_ECLOSED;
    if (rc == 0 && n > 0 && pfd[0].revents)
        rc = virtwire_conn_process(c->conn, pfd[0].revents);
    if (rc == 0 && c->kick_input) {
        c->kick_input = 0;
        rc = virtwire_conn_process(c->conn, 0);
    }
    if (rc == 0 && virtwire_transport_keepalive_timeout(c->t) == 0) {
        rc = virtwire_transport_keepalive_tick(c->t);
        /* the PING went out through on_send, at once or queued */
    }
    if (rc == 0)
        rc = virtwire_transport_error(c->t);
    vw_client_expire_async(c, vw_client_now_ms());
    if (rc < 0)
        vw_client_mark_dead(c, rc);
    return c->dead;
}

/* The I/O thread owns the role: one round, then yields the role to a
 * caller that asked for it if nothing needs the I/O thread. */
static void bg_round(virtwire_client *c)
{
    vw_client_io_round(c, vw_client_poll_timeout(c));
    if (c->want_role && !c->dead && !c->closing && !vw_client_bg_needed(c)) {
        c->want_role = 0;
        vw_client_role_freed(c);
    }
}

void *vw_client_io_main(void *arg)
{
    virtwire_client *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        if (c->jobs) {
            /* Calls the callbacks make are batched: one write for all. */
            c->batching = 1;
            pthread_mutex_unlock(&c->lock);
            vw_client_run_jobs(c);
            pthread_mutex_lock(&c->lock);
            c->batching = 0;
            if (virtwire_conn_pending_output(c->conn)) {
                virtwire_conn_flush(c->conn, 0);
                /* What the socket did not take needs POLLOUT. */
                if (virtwire_conn_pending_output(c->conn))
                    vw_client_wake_owner(c);
            }
            continue;
        }
        if (c->dead)
            break;
        if (c->closing) {
            vw_client_mark_dead(c, VIRTWIRE_ECLOSED);
            continue;
        }
        if (c->io_owner == IO_BG) {
            bg_round(c);
            continue;
        }
        uint64_t now = vw_client_now_ms();
        if (c->io_owner == IO_FREE && (vw_client_bg_needed(c) || now >= c->free_since + STANDBY_MS)) {
            c->io_owner = IO_BG;
            continue;
        }
        uint64_t until = c->io_owner == IO_FREE ? c->free_since + STANDBY_MS : now + STANDBY_MS;
        vw_client_cond_wait_until(&c->bg_cond, &c->lock, until);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

const virtwire_transport_callbacks vw_client_conn_cbs = {
    .size = sizeof vw_client_conn_cbs,
    .on_error = on_error,
    .on_keepalive_dead = on_keepalive_dead,
    .clock_ms = clock_cb,
};

int vw_client_start_keepalive(virtwire_client *c, unsigned int interval_ms, unsigned int count)
{
    pthread_mutex_lock(&c->lock);
    int rc = virtwire_transport_keepalive_start(c->t, interval_ms, count);
    vw_client_wake_owner(c); /* the poll timeout changed */
    pthread_mutex_unlock(&c->lock);
    return rc;
}
