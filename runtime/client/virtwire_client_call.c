/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire client: calls: the table of calls in flight, sending, waiting, replies.
 * See virtwire_client.h for the API and virtwire_client_internal.h for how
 * the client's files divide the work, its locking and its threads.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "virtwire_client_internal.h"
#include "virtwire_sized_internal.h"

static pending **bucket(virtwire_client *c, uint32_t serial)
{
    return &c->table[serial & (PENDING_BUCKETS - 1)];
}

static void pending_add(virtwire_client *c, pending *p)
{
    pending **b = bucket(c, p->serial);
    p->next = *b;
    *b = p;
    if (p->async)
        c->npending_async++;
    if (p->async && p->deadline_ms)
        c->npending_async_timed++;
}

pending *vw_client_pending_take(virtwire_client *c, virtwire_transport_program *tp, uint32_t serial)
{
    for (pending **pp = bucket(c, serial); *pp; pp = &(*pp)->next) {
        pending *p = *pp;
        if (p->tp == tp && p->serial == serial) {
            *pp = p->next;
            if (p->async)
                c->npending_async--;
            if (p->async && p->deadline_ms)
                c->npending_async_timed--;
            return p;
        }
    }
    return NULL;
}

static void pending_unlink(virtwire_client *c, pending *p)
{
    (void)vw_client_pending_take(c, p->tp, p->serial);
}

void vw_client_pending_finish(virtwire_client *c, pending *p, int rc)
{
    p->rc = rc;
    p->done = 1;
    if (!p->async) {
        pthread_cond_signal(p->cond);
        return;
    }
    /* The job was allocated with the call: completing needs no memory. */
    job *j = &p->done_job;
    j->kind = JOB_DONE;
    j->call = p;
    vw_client_queue_job(c, j);
}

/* Is this remote_error libvirt's "unknown procedure" (which its client
 * reports as VIR_ERR_NO_SUPPORT)? */
static int is_unknown_procedure(const virNetMessageError *e)
{
    static const char prefix[] = "unknown procedure";
    return e && e->code == VIRTWIRE_VIR_ERR_RPC && e->message && *e->message &&
           strncmp(*e->message, prefix, sizeof prefix - 1) == 0;
}

static void take_fds(pending *p, const virtwire_transport_msg *m)
{
    p->nret_fds = 0;
    for (size_t i = 0; i < m->nfds && p->nret_fds < p->ret_fds_max; i++) {
        p->ret_fds[p->nret_fds++] = m->fds[i];
        m->fds[i] = -1; /* ours now; the transport closes the rest */
    }
}

/* Decodes a reply into the call's outputs; returns the call's result. */
static int decode_reply(pending *p, const virtwire_transport_msg *m)
{
    if (m->hdr.status == VIR_NET_ERROR) {
        int rc = is_unknown_procedure(m->error) ? VIRTWIRE_EUNSUPPORTED : VIRTWIRE_EREMOTE;
        if (p->error) {
            memset(p->error, 0, sizeof *p->error);
            /* Decoded again from the payload: the transport's copy is
             * borrowed, ours must live in the caller's arena or heap. */
            int drc = m->payload_len ? virtwire_decode(&virNetMessageError_desc, m->payload,
                                                       m->payload_len, p->arena, p->error)
                                     : 0;
            if (drc == VIRTWIRE_ENOMEM)
                return drc; /* the error is lost: say why */
            if (drc < 0)
                memset(p->error, 0, sizeof *p->error);
            p->has_error = 1;
        }
        return rc;
    }
    take_fds(p, m);
    const virtwire_type *rt = p->proc->ret;
    if (!rt)
        return m->payload_len ? VIRTWIRE_ETRAILING : 0;
    if (!p->ret) /* the caller does not want it: still check it decodes */
        return 0;
    return virtwire_decode(rt, m->payload, m->payload_len, p->arena, p->ret);
}

void vw_client_fail_all(virtwire_client *c)
{
    for (size_t i = 0; i < PENDING_BUCKETS; i++) {
        while (c->table[i]) {
            pending *p = c->table[i];
            c->table[i] = p->next;
            vw_client_pending_finish(c, p, VIRTWIRE_ECLOSED);
        }
    }
    c->npending_async_timed = 0;
    c->npending_async = 0;
    for (virtwire_client_stream *s = c->streams; s; s = s->next)
        pthread_cond_broadcast(&s->cond);
}

void vw_client_expire_async(virtwire_client *c, uint64_t now)
{
    if (!c->npending_async_timed)
        return;
    for (size_t i = 0; i < PENDING_BUCKETS; i++) {
        for (pending **pp = &c->table[i]; *pp;) {
            pending *p = *pp;
            if (p->async && p->deadline_ms && p->deadline_ms <= now) {
                *pp = p->next;
                c->npending_async--;
                c->npending_async_timed--;
                vw_client_pending_finish(c, p, VIRTWIRE_ETIMEDOUT);
            } else {
                pp = &p->next;
            }
        }
    }
}

uint64_t vw_client_next_async_deadline(const virtwire_client *c)
{
    uint64_t best = 0;
    if (!c->npending_async_timed)
        return 0;
    for (size_t i = 0; i < PENDING_BUCKETS; i++)
        for (const pending *p = c->table[i]; p; p = p->next)
            if (p->async && p->deadline_ms && (!best || p->deadline_ms < best))
                best = p->deadline_ms;
    return best;
}

int vw_client_on_reply(virtwire_transport_program *tp, const virtwire_transport_msg *m, void *opaque)
{
    virtwire_client *c = opaque;
    pending *p = vw_client_pending_take(c, tp, m->hdr.serial);
    if (!p)
        return 0; /* timed out: the caller is gone, drop the reply */
    if (p->hold) /* nothing past this reply is a frame yet */
        virtwire_conn_hold_input(c->conn);
    int rc = decode_reply(p, m);
    if (rc == 0 && p->bind_job) {
        /* A registration: the handler learns its callbackID now, in frame
         * order with the events (which are queued by on_message under this
         * same lock), and the events it kept meanwhile are sorted out by
         * the JOB_BIND job, which runs after every earlier event. */
        handler *h = vw_client_handler_find(c, p->bind_job->handler_id);
        if (h) {
            h->callback_id = vw_client_leading_int(p->ret);
            vw_client_queue_job(c, p->bind_job);
            p->bind_job = NULL;
        }
    }
    vw_client_pending_finish(c, p, rc);
    return 0;
}

void vw_client_run_done(virtwire_client *c, pending *p)
{
    int steal = 0;
    int ok = p->rc == 0 && p->proc->ret;
    virtwire_call_result r = {
        .rc = p->rc,
        .ret = ok ? p->ret : NULL,
        .steal_ret = &steal,
        .error = p->has_error ? &p->err_buf : NULL,
        .fds = p->fd_buf,
        .nfds = p->nret_fds,
    };
    p->done_fn(c, &r, p->opaque);
    if (!p->arena) {
        if (p->has_error)
            virNetMessageError_free(&p->err_buf);
        if (ok && !steal)
            p->proc->ret->free(p->ret);
    }
    if (!steal)
        free(p->ret);
    free(p);
}

/* The heap buffer a call that does not fit on the stack is encoded into
 * next, when no call of the client has been bigger: libvirt's first
 * message buffer. */
#define ARGS_HEAP_FIRST VIR_NET_MESSAGE_INITIAL

/*
 * Encodes args for proc into *buf: straight into the caller's stack buffer,
 * which holds most calls, else into a heap buffer of the size of the last
 * call that did not fit on the stack (*hint; ARGS_HEAP_FIRST bytes at the
 * least), so that calls of a size seen before are encoded once more, not
 * measured.  Only a call bigger than that pays for the size function, then
 * for a heap buffer of exactly that size and one more encode.  A call over
 * the payload maximum fails with VIRTWIRE_EFRAME_LENGTH whatever else is
 * wrong with it, as when the size was always measured first.  *hint is
 * shared by the client's threads: a guess, read and written relaxed.
 */
int vw_client_encode_args(const virtwire_proc *proc, const void *args, unsigned char *stack,
                          size_t stack_len, atomic_size_t *hint, unsigned char **buf,
                          size_t *len)
{
    *buf = stack;
    *len = 0;
    if (!proc->args)
        return 0;
    if (!args)
        return VIRTWIRE_ENULL;
    int rc = virtwire_encode(proc->args, args, stack, stack_len, len);
    if (VIRTWIRE_LIKELY(rc == 0))
        return 0;
    *len = 0;
    size_t guess = atomic_load_explicit(hint, memory_order_relaxed);
    if (guess < ARGS_HEAP_FIRST)
        guess = ARGS_HEAP_FIRST;
    unsigned char *heap = NULL;
    if (rc == VIRTWIRE_ENOSPACE && stack_len < guess) {
        heap = malloc(guess);
        if (!heap)
            return VIRTWIRE_ENOMEM;
        rc = virtwire_encode(proc->args, args, heap, guess, len);
        if (rc == 0) {
            atomic_store_explicit(hint, *len, memory_order_relaxed);
            *buf = heap;
            return 0;
        }
        *len = 0;
    }
    size_t need = proc->args->encoded_size(args);
    if (need > VIR_NET_MESSAGE_PAYLOAD_MAX || rc != VIRTWIRE_ENOSPACE) {
        free(heap);
        return need > VIR_NET_MESSAGE_PAYLOAD_MAX ? VIRTWIRE_EFRAME_LENGTH : rc;
    }
    free(heap); /* what it holds is of no use: nothing to copy */
    unsigned char *b = malloc(need ? need : 1);
    if (!b)
        return VIRTWIRE_ENOMEM;
    rc = virtwire_encode(proc->args, args, b, need, len);
    if (rc < 0) {
        free(b);
        *len = 0;
        return rc;
    }
    atomic_store_explicit(hint, need, memory_order_relaxed);
    *buf = b;
    return 0;
}

int vw_client_write_side_dead(virtwire_client *c)
{
    int rc = virtwire_conn_flush(c->conn, 0);
    if (rc != VIRTWIRE_ECLOSED && rc != VIRTWIRE_EIO)
        return 0;
    vw_client_ensure_reader(c);
    vw_client_wake_owner(c);
    return 1;
}

/* Sends the call (lock held) and registers p under its serial. */
static int send_call(virtwire_client *c, const virtwire_program *prog, pending *p,
                     const unsigned char *payload, size_t len, const int *fds, size_t nfds)
{
    if (c->dead || c->closing)
        return VIRTWIRE_ECLOSED;
    int rc = vw_client_program_handle(c, prog, &p->tp);
    if (rc < 0)
        return rc;
    int with_fds = nfds > 0 || (p->proc->flags & VIRTWIRE_PROC_FDS_CALL);
    /* A call from a callback waits for the I/O thread's one write after
     * its callbacks (see io_main()). */
    int batch = c->batching && vw_client_on_io_thread(c);
    virtwire_conn_cork(c->conn, batch);
    int64_t serial = virtwire_transport_send(p->tp, p->proc->number,
                                             with_fds ? VIR_NET_CALL_WITH_FDS : VIR_NET_CALL,
                                             VIR_NET_OK, 0, payload, len, fds, nfds);
    virtwire_conn_cork(c->conn, 0);
    if (serial < 0) {
        rc = (int)serial;
        int fatal = virtwire_transport_error(c->t);
        int werr = virtwire_conn_write_error(c->conn);
        if (fatal || werr) {
            /* Writing is over for good (werr: on_send could not queue the
             * frame): the connection is dead. */
            vw_client_mark_dead(c, fatal ? fatal : werr);
            vw_client_kick_bg(c); /* the I/O thread runs the close jobs */
            return !fatal && werr == VIRTWIRE_ENOMEM ? VIRTWIRE_ENOMEM : VIRTWIRE_ECLOSED;
        }
        if (rc == VIRTWIRE_ESEND && vw_client_write_side_dead(c))
            return VIRTWIRE_ECLOSED;
        return rc;
    }
    p->serial = (uint32_t)serial;
    pending_add(c, p);
    /* What the socket did not take at once needs POLLOUT: tell the owner
     * of the I/O role, which polls with the events of before (a caller
     * that takes the role itself polls with the new ones). */
    if (!batch && virtwire_conn_pending_output(c->conn))
        vw_client_wake_owner(c);
    return 0;
}

int vw_client_check_proc(const virtwire_program *prog, int32_t number, const virtwire_proc **out)
{
    const virtwire_proc *proc = prog ? virtwire_program_find(prog, number) : NULL;
    if (!proc || (proc->flags & VIRTWIRE_PROC_MESSAGE))
        return VIRTWIRE_EINVAL;
    *out = proc;
    return 0;
}

static void time_out(virtwire_client *c, pending *p)
{
    pending_unlink(c, p);
    p->rc = VIRTWIRE_ETIMEDOUT;
    p->done = 1;
}

/* The poll() timeout of a caller owning the I/O role: the I/O thread's
 * (keepalive, asynchronous deadlines), cut to the call's deadline. */
static int caller_timeout(virtwire_client *c, uint64_t deadline)
{
    int t = vw_client_poll_timeout(c);
    if (deadline) {
        uint64_t now = vw_client_now_ms();
        int64_t d = deadline > now ? (int64_t)(deadline - now) : 0;
        if (t < 0 || d < t)
            t = d > 60000 ? 60000 : (int)d;
    }
    return t;
}

/* The caller owns the I/O role (lock held) until its reply is in, its
 * deadline passed or the connection died; callbacks the rounds queue go
 * to the I/O thread at once.  Then it passes the role on. */
static void caller_io(virtwire_client *c, pending *p, uint64_t deadline)
{
    c->io_owner = IO_CALLER;
    c->owner_tid = pthread_self();
    while (!p->done) {
        vw_client_io_round(c, caller_timeout(c, deadline));
        if (c->jobs)
            pthread_cond_signal(&c->bg_cond);
        if (!p->done && deadline && vw_client_now_ms() >= deadline)
            time_out(c, p);
    }
    vw_client_role_freed(c);
}

/* Waits (lock held) for p to finish or its deadline to pass, owning the
 * I/O role whenever it is free. */
static void wait_call(virtwire_client *c, pending *p, uint64_t deadline)
{
    p->wnext = c->waiters;
    c->waiters = p;
    while (!p->done) {
        if (c->io_owner == IO_FREE) {
            caller_io(c, p, deadline);
            break;
        }
        /* The I/O thread reads: ask it for the role when it does not need
         * it (it yields after its current round). */
        if (c->io_owner == IO_BG && !c->want_role && !vw_client_bg_needed(c)) {
            c->want_role = 1;
            vw_client_wake_owner(c);
        }
        if (vw_client_cond_wait_until(p->cond, &c->lock, deadline) == ETIMEDOUT && !p->done)
            time_out(c, p);
    }
    for (pending **pp = &c->waiters; *pp; pp = &(*pp)->wnext) {
        if (*pp == p) {
            *pp = p->wnext;
            break;
        }
    }
    /* Handed the role just as the call ended (timeout): pass it on. */
    if (c->io_owner == IO_FREE && c->waiters)
        vw_client_role_freed(c);
}

int vw_client_opts_in(const virtwire_call_opts *user, virtwire_call_opts *mine)
{
    if (!user) {
        *mine = (virtwire_call_opts){ .size = sizeof *mine };
        return 0;
    }
    return vw_sized_copy(mine, sizeof *mine, user);
}

void vw_client_opts_out(virtwire_call_opts *user, size_t nret_fds)
{
    if (user && vw_sized_has(user, offsetof(virtwire_call_opts, nret_fds), sizeof nret_fds))
        user->nret_fds = nret_fds;
}

static int call_common(virtwire_client *c, const virtwire_program *prog, int32_t number,
                       const void *args, void *ret, virtwire_call_opts *user_opts,
                       virtwire_client_stream *stream, job **bind, virtwire_call_opts *opts);

int vw_client_call_common(virtwire_client *c, const virtwire_program *prog, int32_t number,
                       const void *args, void *ret, virtwire_call_opts *user_opts,
                       virtwire_client_stream *stream, job **bind)
{
    virtwire_call_opts mine;
    if (!c)
        return VIRTWIRE_EINVAL;
    if (vw_client_opts_in(user_opts, &mine) < 0) {
        vw_client_report(c, NULL, VIRTWIRE_EINVAL, NULL);
        return VIRTWIRE_EINVAL;
    }
    /* An on_error to tell is told the daemon's words: its error is decoded
     * (with the reply, or on the heap and freed here) even when the caller
     * does not want it. */
    virNetMessageError local;
    int tell = mine.on_error || c->on_error;
    if (tell && !mine.error)
        mine.error = &local;
    int rc = call_common(c, prog, number, args, ret, user_opts, stream, bind, &mine);
    if (rc < 0 && tell)
        vw_client_report(c, &mine, rc, mine.error);
    if (mine.error == &local && !mine.arena)
        virNetMessageError_free(&local);
    return rc;
}

static int call_common(virtwire_client *c, const virtwire_program *prog, int32_t number,
                       const void *args, void *ret, virtwire_call_opts *user_opts,
                       virtwire_client_stream *stream, job **bind, virtwire_call_opts *opts)
{
    const virtwire_proc *proc;
    if (opts->error)
        memset(opts->error, 0, sizeof *opts->error);
    if (vw_client_check_proc(prog, number, &proc) < 0 || vw_client_on_io_thread(c))
        return VIRTWIRE_EINVAL;
    vw_client_opts_out(user_opts, 0);
    if (vw_client_since_ok(c, prog, proc) < 0)
        return VIRTWIRE_EUNSUPPORTED;
    if (opts->nfds > VIRTWIRE_FDS_MAX)
        return VIRTWIRE_EFDS_MAX;
    if (opts->nfds && !virtwire_conn_is_unix(c->conn))
        return VIRTWIRE_EFDPASS;

    unsigned char stack[VW_CLIENT_ARGS_STACK], *buf;
    size_t len;
    int rc = vw_client_encode_args(proc, args, stack, sizeof stack, &c->args_hint, &buf, &len);
    if (rc < 0)
        return rc;

    pthread_cond_t cond;
    if (vw_client_cond_init(&cond) < 0) {
        if (buf != stack)
            free(buf);
        return VIRTWIRE_ENOMEM;
    }
    pending p = {
        .proc = proc, .ret = ret, .arena = opts->arena, .error = opts->error,
        .ret_fds = opts->ret_fds, .ret_fds_max = opts->ret_fds ? opts->ret_fds_max : 0,
        .bind_job = bind ? *bind : NULL, .cond = &cond,
        .hold = (opts->flags & VIRTWIRE_CALL_HOLD_INPUT) != 0,
    };
    uint64_t deadline = vw_client_deadline_for(c, opts->timeout_ms);

    pthread_mutex_lock(&c->lock);
    rc = send_call(c, prog, &p, buf, len, opts->fds, opts->nfds);
    int stream_rc = 0;
    if (rc == 0 && stream) {
        unsigned sflags = (proc->flags & VIRTWIRE_PROC_STREAM_SPARSE) ? VIRTWIRE_STREAM_SPARSE : 0;
        stream->tp = p.tp;
        stream->serial = p.serial;
        stream_rc = virtwire_transport_stream_open(p.tp, proc->number, p.serial, sflags);
        if (stream_rc == 0) {
            stream->next = c->streams;
            c->streams = stream;
        } else {
            stream->finished = 1; /* out of memory: see below */
        }
    }
    if (rc == 0)
        wait_call(c, &p, deadline);
    else
        p.rc = rc;
    if (bind)
        *bind = p.bind_job;
    if (p.rc == 0 && stream_rc < 0) {
        /* The daemon opened a stream we cannot follow: abort it, and undo
         * the call's results. */
        if (!c->dead)
            vw_client_stream_send_abort(c, p.tp, proc->number, p.serial);
        if (ret && proc->ret && !opts->arena)
            proc->ret->free(ret);
        for (size_t i = 0; i < p.nret_fds; i++)
            close(p.ret_fds[i]);
        p.nret_fds = 0;
        p.rc = stream_rc;
    }
    pthread_mutex_unlock(&c->lock);
    pthread_cond_destroy(&cond);
    if (buf != stack)
        free(buf);
    vw_client_opts_out(user_opts, p.nret_fds);
    return p.rc;
}

int virtwire_client_wrap_channel(virtwire_client *c, virtwire_conn_wrap_fn fn, void *opaque)
{
    if (!c || vw_client_on_io_thread(c))
        return VIRTWIRE_EINVAL;
    pthread_mutex_lock(&c->lock);
    /* Under the lock nobody is inside virtwire_conn_process(): the
     * connection is between two frames. */
    int rc = 0;
    if (c->dead)
        rc = VIRTWIRE_ECLOSED;
    else if (fn)
        rc = virtwire_conn_wrap_channel(c->conn, fn, opaque);
    virtwire_conn_release_input(c->conn);
    if (!c->dead) {
        /* What waited (or what the new channel holds already) is fed by
         * the owner of the I/O role; a free role is taken for that here. */
        if (c->io_owner == IO_FREE) {
            int prc = virtwire_conn_process(c->conn, 0);
            if (prc < 0)
                vw_client_mark_dead(c, prc);
        } else {
            c->kick_input = 1;
            vw_client_wake_owner(c);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

virtwire_channel *virtwire_client_channel(virtwire_client *c)
{
    return c ? virtwire_conn_channel(c->conn) : NULL;
}

int virtwire_client_call(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                         const void *args, void *ret, virtwire_call_opts *opts)
{
    return vw_client_call_common(c, prog, proc, args, ret, opts, NULL, NULL);
}

void *virtwire_client_call_reply(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                                 const void *args, virtwire_call_opts *opts)
{
    const virtwire_proc *p;
    virtwire_call_opts mine;
    if (!c)
        return NULL;
    if (vw_client_check_proc(prog, proc, &p) < 0 || !p->ret || vw_client_opts_in(opts, &mine) < 0) {
        vw_client_report(c, NULL, VIRTWIRE_EINVAL, NULL);
        return NULL;
    }
    void *ret = mine.arena ? virtwire_arena_alloc(mine.arena, p->ret->size)
                           : malloc(p->ret->size);
    if (!ret) {
        vw_client_report(c, &mine, VIRTWIRE_ENOMEM, NULL);
        return NULL;
    }
    memset(ret, 0, p->ret->size);
    if (vw_client_call_common(c, prog, proc, args, ret, opts, NULL, NULL) < 0) {
        if (!mine.arena)
            free(ret); /* the call released what it decoded */
        return NULL;
    }
    return ret;
}

int virtwire_client_call_async(virtwire_client *c, const virtwire_program *prog, int32_t number,
                               const void *args, const virtwire_call_opts *user_opts,
                               virtwire_client_done_fn done, void *opaque)
{
    const virtwire_proc *proc;
    virtwire_call_opts mine, *opts = &mine;
    if (!c || !done || vw_client_check_proc(prog, number, &proc) < 0 ||
        vw_client_opts_in(user_opts, &mine) < 0)
        return VIRTWIRE_EINVAL;
    if (vw_client_since_ok(c, prog, proc) < 0)
        return VIRTWIRE_EUNSUPPORTED;
    if (opts->nfds > VIRTWIRE_FDS_MAX)
        return VIRTWIRE_EFDS_MAX;
    if (opts->nfds && !virtwire_conn_is_unix(c->conn))
        return VIRTWIRE_EFDPASS;
    /* One allocation holds the call and its completion job. */
    pending *p = calloc(1, sizeof *p);
    if (!p)
        return VIRTWIRE_ENOMEM;
    p->proc = proc;
    p->async = 1;
    p->done_fn = done;
    p->opaque = opaque;
    p->arena = opts->arena;
    p->error = &p->err_buf;
    p->ret_fds = p->fd_buf;
    p->ret_fds_max = VIRTWIRE_FDS_MAX;
    if (proc->ret && !(p->ret = calloc(1, proc->ret->size ? proc->ret->size : 1))) {
        free(p);
        return VIRTWIRE_ENOMEM;
    }

    unsigned char stack[VW_CLIENT_ARGS_STACK], *buf;
    size_t len;
    int rc = vw_client_encode_args(proc, args, stack, sizeof stack, &c->args_hint, &buf, &len);
    if (rc == 0) {
        pthread_mutex_lock(&c->lock);
        p->deadline_ms = vw_client_deadline_for(c, opts->timeout_ms);
        rc = send_call(c, prog, p, buf, len, opts->fds, opts->nfds);
        if (rc == 0) {
            /* Somebody must read the reply; an owner that polls must
             * recompute its timeout. */
            vw_client_ensure_reader(c);
            if (p->deadline_ms)
                vw_client_wake_owner(c);
        }
        pthread_mutex_unlock(&c->lock);
    }
    if (buf != stack)
        free(buf);
    if (rc < 0) {
        free(p->ret);
        free(p);
    }
    return rc;
}
