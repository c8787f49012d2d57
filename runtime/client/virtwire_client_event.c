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

/* A held handler keeps the event (lock held).  Without memory the event
 * is lost for this handler only. */
static void keep_event(handler *h, job *j)
{
    kept_event *k = malloc(sizeof *k);
    if (!k)
        return;
    k->next = NULL;
    k->job = j;
    j->refs++;
    if (h->kept_tail)
        h->kept_tail->next = k;
    else
        h->kept = k;
    h->kept_tail = k;
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
    if (!c || !fn || !p || !p->msg)
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
    if (!c || !fn || vw_client_check_proc(prog, register_proc, &rp) < 0 || !rp->ret ||
        rp->ret->size < sizeof(int) || !ep || !ep->msg || ep->msg->size < sizeof(int) ||
        vw_client_on_io_thread(c) || vw_client_opts_in(opts, &mine) < 0)
        return VIRTWIRE_EINVAL;
    job *bind = calloc(1, sizeof *bind);
    void *ret = calloc(1, rp->ret->size);
    if (!bind || !ret) {
        free(bind);
        free(ret);
        return VIRTWIRE_ENOMEM;
    }
    /* The handler exists, holding every event, before the call is sent. */
    int id = add_handler(c, prog, event_proc, fn, opaque, 1);
    int rc = id;
    if (id > 0) {
        bind->kind = JOB_BIND;
        bind->handler_id = id;
        rc = vw_client_call_common(c, prog, register_proc, args, ret, opts, NULL, &bind);
        if (rc == 0 && bind)
            rc = VIRTWIRE_EINVAL; /* the handler was removed meanwhile */
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
    if (h)
        vw_client_drop_kept(h->kept);
    while (h && c->running_handler == id && !vw_client_on_io_thread(c))
        pthread_cond_wait(&c->handler_cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
    free(h);
    return h ? 0 : VIRTWIRE_EINVAL;
}
