/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire client: events: handlers, one-step registrations and the events they keep.
 * See virtwire_client.h for the API and virtwire_client_internal.h for how
 * the client's files divide the work, its locking and its threads.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>


#include "virtwire_client_internal.h"

void vw_client_job_unref(job *j)
{
    if (--j->refs > 0)
        return;
    virtwire_arena_fini(&j->arena);
    free(j);
}

int vw_client_leading_int(const void *v)
{
    int x;
    memcpy(&x, v, sizeof x);
    return x;
}

handler *vw_client_handler_find(virtwire_client *c, int id)
{
    for (handler *h = c->handlers; h; h = h->next)
        if (h->id == id)
            return h;
    return NULL;
}

void vw_client_drop_kept(kept_event *k)
{
    while (k) {
        kept_event *next = k->next;
        vw_client_job_unref(k->job);
        free(k);
        k = next;
    }
}

int vw_client_on_message(virtwire_transport_program *tp, const virtwire_transport_msg *m,
                      void *opaque)
{
    virtwire_client *c = opaque;
    const virtwire_program *prog = NULL;
    for (client_program *cp = c->programs; cp; cp = cp->next)
        if (cp->tp == tp)
            prog = cp->prog;
    const virtwire_proc *proc = prog ? virtwire_program_find(prog, m->hdr.proc) : NULL;
    if (!proc || !proc->msg)
        return 0; /* not an event we know: dropped, like libvirt */
    int wanted = 0;
    for (handler *h = c->handlers; h; h = h->next)
        wanted |= h->prog == prog && h->proc == m->hdr.proc;
    if (!wanted)
        return 0;
    /* An event lost for want of memory would leave the application's view
     * of the daemon wrong for good: the connection dies instead, and says
     * why. */
    job *j = calloc(1, sizeof *j);
    if (!j) {
        vw_client_mark_dead(c, VIRTWIRE_ENOMEM);
        return -1;
    }
    virtwire_arena_init(&j->arena);
    j->msg = virtwire_arena_alloc(&j->arena, proc->msg->size ? proc->msg->size : 1);
    int rc = j->msg ? virtwire_decode(proc->msg, m->payload, m->payload_len, &j->arena, j->msg)
                    : VIRTWIRE_ENOMEM;
    if (rc < 0) {
        virtwire_arena_fini(&j->arena);
        free(j);
        if (rc != VIRTWIRE_ENOMEM)
            return 0; /* an event that does not decode is dropped */
        vw_client_mark_dead(c, VIRTWIRE_ENOMEM);
        return -1;
    }
    j->kind = JOB_EVENT;
    j->prog = prog;
    j->proc = m->hdr.proc;
    j->refs = 1;
    vw_client_queue_job(c, j);
    return 0;
}

/* Appends j to a list of kept events (lock held).  Without memory the
 * event is lost for this handler only. */
static void keep_in(kept_event **head, kept_event **tail, job *j)
{
    kept_event *k = malloc(sizeof *k);
    if (!k)
        return;
    k->next = NULL;
    k->job = j;
    j->refs++;
    if (*tail)
        (*tail)->next = k;
    else
        *head = k;
    *tail = k;
}

/* A held handler keeps the event (lock held). */
static void keep_event(handler *h, job *j)
{
    keep_in(&h->kept, &h->kept_tail, j);
}

/* A handler without a function queues the event for
 * virtwire_client_next_event() (lock held). */
static void queue_event(virtwire_client *c, handler *h, job *j)
{
    keep_in(&h->queued, &h->queued_tail, j);
    pthread_cond_broadcast(&c->handler_cond);
}

void vw_client_run_event(virtwire_client *c, job *j)
{
    /* Handlers run one by one, each looked up again under the lock so
     * that virtwire_client_remove_event() can wait for a running one. */
    int last = 0;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        handler *h = c->handlers;
        for (; h; h = h->next) {
            if (h->id <= last || h->prog != j->prog || h->proc != j->proc)
                continue;
            if (h->held) {
                keep_event(h, j);
                continue;
            }
            if (h->bound && vw_client_leading_int(j->msg) != h->callback_id)
                continue;
            if (!h->fn) {
                queue_event(c, h, j);
                continue;
            }
            break;
        }
        virtwire_client_event_fn fn = h ? h->fn : NULL;
        void *opaque = h ? h->opaque : NULL;
        c->running_handler = h ? h->id : 0;
        pthread_mutex_unlock(&c->lock);
        if (!h)
            break;
        last = c->running_handler;
        fn(c, j->prog, j->proc, j->msg, opaque);
        pthread_mutex_lock(&c->lock);
        c->running_handler = 0;
        pthread_cond_broadcast(&c->handler_cond);
        pthread_mutex_unlock(&c->lock);
    }
}

void vw_client_run_bind(virtwire_client *c, int handler_id)
{
    pthread_mutex_lock(&c->lock);
    handler *h = vw_client_handler_find(c, handler_id);
    kept_event *k = NULL;
    if (h) {
        h->held = 0;
        k = h->kept;
        h->kept = h->kept_tail = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    while (k) {
        kept_event *next = k->next;
        job *j = k->job;
        free(k);
        k = next;
        pthread_mutex_lock(&c->lock);
        h = vw_client_handler_find(c, handler_id); /* it may have been removed meanwhile */
        int run = h && vw_client_leading_int(j->msg) == h->callback_id;
        if (run && !h->fn) {
            queue_event(c, h, j);
            run = 0;
        }
        virtwire_client_event_fn fn = run ? h->fn : NULL;
        void *opaque = run ? h->opaque : NULL;
        c->running_handler = run ? handler_id : 0;
        pthread_mutex_unlock(&c->lock);
        if (run)
            fn(c, j->prog, j->proc, j->msg, opaque);
        pthread_mutex_lock(&c->lock);
        c->running_handler = 0;
        pthread_cond_broadcast(&c->handler_cond);
        vw_client_job_unref(j);
        pthread_mutex_unlock(&c->lock);
    }
}

/* Adds a handler; bound: a registration's, held until its reply. */
static int add_handler(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                       virtwire_client_event_fn fn, void *opaque, int bound)
{
    handler *h = calloc(1, sizeof *h);
    if (!h)
        return VIRTWIRE_ENOMEM;
    h->prog = prog;
    h->proc = proc;
    h->fn = fn;
    h->opaque = opaque;
    h->bound = h->held = bound;
    pthread_mutex_lock(&c->lock);
    virtwire_transport_program *tp;
    int rc = vw_client_program_handle(c, prog, &tp);
    if (rc == 0) {
        /* The handle's table is the one on_message looks events up in. */
        for (client_program *cp = c->programs; cp; cp = cp->next)
            if (cp->tp == tp)
                h->prog = cp->prog;
        h->id = ++c->next_handler_id;
        handler **pp = &c->handlers;
        while (*pp)
            pp = &(*pp)->next;
        *pp = h;
        rc = h->id;
    }
    pthread_mutex_unlock(&c->lock);
    if (rc < 0)
        free(h);
    return rc;
}

int virtwire_client_on_event(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                             virtwire_client_event_fn fn, void *opaque)
{
    const virtwire_proc *p = prog ? virtwire_program_find(prog, proc) : NULL;
    if (!c || !p || !p->msg)
        return VIRTWIRE_EINVAL;
    return add_handler(c, prog, proc, fn, opaque, 0);
}

int virtwire_client_register_event(virtwire_client *c, const virtwire_program *prog,
                                   int32_t register_proc, const void *args, int32_t event_proc,
                                   virtwire_client_event_fn fn, void *opaque,
                                   virtwire_call_opts *opts, int *callback_id)
{
    const virtwire_proc *rp, *ep = prog ? virtwire_program_find(prog, event_proc) : NULL;
    virtwire_call_opts mine;
    if (!c)
        return VIRTWIRE_EINVAL;
    if (vw_client_check_proc(prog, register_proc, &rp) < 0 || !rp->ret ||
        rp->ret->size < sizeof(int) || !ep || !ep->msg || ep->msg->size < sizeof(int) ||
        vw_client_on_io_thread(c) || vw_client_opts_in(opts, &mine) < 0) {
        vw_client_report(c, NULL, VIRTWIRE_EINVAL, NULL);
        return VIRTWIRE_EINVAL;
    }
    job *bind = calloc(1, sizeof *bind);
    void *ret = calloc(1, rp->ret->size);
    if (!bind || !ret) {
        free(bind);
        free(ret);
        vw_client_report(c, &mine, VIRTWIRE_ENOMEM, NULL);
        return VIRTWIRE_ENOMEM;
    }
    /* The handler exists, holding every event, before the call is sent. */
    int id = add_handler(c, prog, event_proc, fn, opaque, 1);
    int rc = id;
    if (id < 0)
        vw_client_report(c, &mine, rc, NULL);
    if (id > 0) {
        bind->kind = JOB_BIND;
        bind->handler_id = id;
        rc = vw_client_call_common(c, prog, register_proc, args, ret, opts, NULL, &bind);
        if (rc == 0 && bind) {
            rc = VIRTWIRE_EINVAL; /* the handler was removed meanwhile */
            vw_client_report(c, &mine, rc, NULL);
        }
        if (rc == 0 && callback_id)
            *callback_id = vw_client_leading_int(ret);
        if (rc < 0)
            virtwire_client_remove_event(c, id);
        if (rc == 0 && !mine.arena)
            rp->ret->free(ret);
    }
    free(bind); /* NULL once queued: the I/O thread frees it */
    free(ret);
    return rc < 0 ? rc : id;
}

int virtwire_client_remove_event(virtwire_client *c, int id)
{
    if (!c)
        return VIRTWIRE_EINVAL;
    pthread_mutex_lock(&c->lock);
    handler *h = NULL;
    for (handler **pp = &c->handlers; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            h = *pp;
            *pp = h->next;
            break;
        }
    }
    if (h) {
        vw_client_drop_kept(h->kept);
        vw_client_drop_kept(h->queued);
        pthread_cond_broadcast(&c->handler_cond); /* a waiting next_event() */
    }
    while (h && c->running_handler == id && !vw_client_on_io_thread(c))
        pthread_cond_wait(&c->handler_cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
    free(h);
    return h ? 0 : VIRTWIRE_EINVAL;
}

static int next_event(virtwire_client *c, int id, void *msg, const virtwire_call_opts *mine);

int virtwire_client_next_event(virtwire_client *c, int id, void *msg,
                               const virtwire_call_opts *opts)
{
    virtwire_call_opts mine;
    if (!c)
        return VIRTWIRE_EINVAL;
    int bad = vw_client_opts_in(opts, &mine) < 0;
    int rc = bad ? VIRTWIRE_EINVAL : next_event(c, id, msg, &mine);
    if (rc < 0)
        vw_client_report(c, bad ? NULL : &mine, rc, NULL);
    return rc;
}

static int next_event(virtwire_client *c, int id, void *msg, const virtwire_call_opts *o)
{
    virtwire_call_opts mine = *o;
    if (!msg || vw_client_on_io_thread(c))
        return VIRTWIRE_EINVAL;
    uint64_t deadline = vw_client_deadline_for(c, mine.timeout_ms);
    pthread_mutex_lock(&c->lock);
    handler *h;
    int rc = 0;
    for (;;) {
        h = vw_client_handler_find(c, id);
        if (!h || h->fn) {
            rc = VIRTWIRE_EINVAL; /* no such handler, or one that runs a function */
            break;
        }
        if (h->queued)
            break;
        if (c->dead) {
            rc = VIRTWIRE_ECLOSED;
            break;
        }
        if (vw_client_cond_wait_until(&c->handler_cond, &c->lock, deadline) == ETIMEDOUT) {
            rc = VIRTWIRE_ETIMEDOUT;
            break;
        }
    }
    kept_event *k = NULL;
    if (rc == 0) {
        k = h->queued;
        h->queued = k->next;
        if (!h->queued)
            h->queued_tail = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (!k)
        return rc;
    job *j = k->job;
    free(k);
    const virtwire_proc *p = virtwire_program_find(j->prog, j->proc);
    /* Into the caller's arena (or the heap), from the job's own. */
    rc = virtwire_copy(p->msg, j->msg, mine.arena, msg);
    pthread_mutex_lock(&c->lock);
    vw_client_job_unref(j);
    pthread_mutex_unlock(&c->lock);
    return rc;
}
