/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire client: one I/O thread per connection, and synchronous callers
 * that read for themselves when nobody else does ("passing the buck", see
 * below and virtwire_client.h).
 *
 * Locking: one mutex (c->lock) guards the connection, its transport, the
 * table of calls in flight, the streams, the handlers, the job queue and
 * the I/O role.  Callers hold it while they send (the connection writes at
 * once, queueing what the socket does not take) and while they wait.  The
 * owner of the I/O role (the I/O thread or a caller) drops it only around
 * poll(); the I/O thread also while it runs user callbacks: transport
 * callbacks (which fire inside virtwire_conn_process(), under the lock)
 * never call user code, they queue jobs that only the I/O thread runs,
 * once it has released the lock.
 */
#define _GNU_SOURCE /* pipe2 */

#include "virtwire_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin_protocol.h"
#include "remote_protocol.h"
#include "virtwire_conn.h"
#include "virtwire_transport.h"
#include "virtwire_uri.h"

/* libvirt constants the handshake uses (libvirt.h, virerror.h). */
#define VIR_CONNECT_RO 1u
#define VIR_DRV_FEATURE_PROGRAM_KEEPALIVE 10
#define VIR_ERR_RPC 39
#define OPEN_TIMEOUT_DEFAULT_MS 30000
#define CLOSE_TIMEOUT_MS 2000
#define PENDING_BUCKETS 256u /* power of two */
#define MAX_FDS 32

/* ------------------------------------------------------------------------ */
/* Types                                                                    */
/* ------------------------------------------------------------------------ */

/* A program registered with the transport. */
typedef struct client_program {
    struct client_program *next;
    const virtwire_program *prog;
    virtwire_transport_program *tp;
} client_program;

/* Work for the I/O thread to do without the lock: user callbacks. */
typedef enum job_kind { JOB_DONE, JOB_EVENT, JOB_CLOSED, JOB_BIND } job_kind;

typedef struct job {
    struct job *next;
    job_kind kind;
    struct pending *call;        /* JOB_DONE */
    const virtwire_program *prog; /* JOB_EVENT */
    int32_t proc;
    void *msg;
    virtwire_arena arena;
    /* JOB_EVENT: owners (the job queue, and handlers that keep the event
     * until their registration's reply is in); freed at 0, lock held. */
    int refs;
    int handler_id; /* JOB_BIND: the handler whose registration's reply came */
    /* JOB_CLOSED: the death it reports, and whether the user is told: a
     * connection that died on its own is reported even when
     * virtwire_client_close() comes before the job runs; one that
     * virtwire_client_close() ended is not. */
    int why;
    int notify;
} job;

/* A call in flight.  Synchronous calls live on the caller's stack and
 * point at the caller's outputs; asynchronous ones on the heap with
 * outputs of their own. */
typedef struct pending {
    struct pending *next; /* hash chain */
    virtwire_transport_program *tp;
    uint32_t serial;
    const virtwire_proc *proc;
    int done;
    int rc;
    /* where the reply goes */
    void *ret;
    virtwire_arena *arena;
    virNetMessageError *error;
    int *ret_fds;
    size_t ret_fds_max;
    size_t nret_fds;
    /* virtwire_client_register_event(): queued when the reply decodes,
     * after the handler learnt its callbackID (NULL once queued). */
    struct job *bind_job;
    /* synchronous */
    pthread_cond_t *cond;
    struct pending *wnext; /* list of callers waiting (c->waiters) */
    /* asynchronous */
    int async;
    virtwire_client_done_fn done_fn;
    void *opaque;
    uint64_t deadline_ms; /* 0: none */
    int has_error;
    virNetMessageError err_buf;
    int fd_buf[MAX_FDS];
    job done_job; /* asynchronous: its completion, allocated with the call */
} pending;

/* An event a handler keeps while its registration call is in flight. */
typedef struct kept_event {
    struct kept_event *next;
    struct job *job;
} kept_event;

typedef struct handler {
    struct handler *next;
    int id; /* the list is in increasing id order */
    const virtwire_program *prog;
    int32_t proc;
    virtwire_client_event_fn fn;
    void *opaque;
    /* virtwire_client_register_event(): only messages whose leading int
     * is callback_id; until the JOB_BIND job of the registration's reply
     * runs (held), every message is kept instead, in arrival order. */
    int bound;
    int held;
    int callback_id;
    kept_event *kept, *kept_tail;
} handler;

/* One packet received on a stream, kept until read. */
typedef struct packet {
    struct packet *next;
    int kind; /* PKT_* */
    int64_t hole;
    size_t len, off;
    int has_error;
    virNetMessageError error; /* heap mode */
    unsigned char data[];
} packet;

enum { PKT_DATA, PKT_HOLE, PKT_EOF, PKT_OK, PKT_ERROR };

struct virtwire_client_stream {
    struct virtwire_client_stream *next;
    virtwire_client *c;
    virtwire_transport_program *tp;
    int32_t proc;
    uint32_t serial;
    unsigned int flags; /* VIRTWIRE_PROC_STREAM_* */
    packet *head, *tail;
    pthread_cond_t cond;
    int got_eof;   /* end of data (or OK / ERROR) received */
    int finished;  /* a final packet went each way, or aborted */
    int sent_end;  /* we sent finish or abort */
};

struct virtwire_client {
    pthread_mutex_t lock;
    virtwire_conn *conn;
    virtwire_transport *t;
    pthread_t thread;
    int thread_started;
    int wake[2]; /* self-pipe: [0] polled by whoever owns the I/O role */
    int wake_pending; /* a byte is in the pipe, not yet drained */
    /* The I/O role (see "Passing the buck" below). */
    int io_owner;          /* IO_BG, IO_FREE or IO_CALLER */
    pthread_t owner_tid;   /* the caller owning it (IO_CALLER) */
    int want_role;         /* a caller asked the I/O thread to yield it */
    int batching;          /* the I/O thread runs callbacks: their calls are corked */
    uint64_t free_since;   /* when the role last became IO_FREE */
    pthread_cond_t bg_cond; /* the I/O thread's standby */
    struct pending *waiters; /* synchronous calls waiting for their reply */
    size_t npending_async;
    int dead;    /* 0, or why the connection died */
    int closing;
    int close_called; /* virtwire_client_close() began: deaths are not reported */
    int opened;  /* the handshake opened the connection */
    int admin;
    int default_timeout_ms;
    unsigned int ka_interval, ka_count;
    client_program *programs;
    pending *table[PENDING_BUCKETS];
    size_t npending_async_timed;
    job *jobs, *jobs_tail;
    handler *handlers;
    int next_handler_id;
    int running_handler; /* id of the handler the I/O thread runs, or 0 */
    pthread_cond_t handler_cond;
    virtwire_client_stream *streams;
    virtwire_client_close_fn close_fn;
    void *close_opaque;
    job closed_job; /* JOB_CLOSED: dying needs no memory */
};

static const virtwire_transport_program_callbacks program_cbs;

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t clock_cb(void *opaque)
{
    (void)opaque;
    return now_ms();
}

/* Condition variables timed on the monotonic clock, so that a change of
 * the wall clock cannot stretch or cut a timeout. */
static int cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a) != 0)
        return VIRTWIRE_ENOMEM;
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cond, &a);
    pthread_condattr_destroy(&a);
    return rc == 0 ? 0 : VIRTWIRE_ENOMEM;
}

/* Waits on cond until deadline_ms (0: forever).  Returns ETIMEDOUT when
 * the deadline has passed. */
static int cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *m, uint64_t deadline_ms)
{
    if (!deadline_ms)
        return pthread_cond_wait(cond, m);
    struct timespec ts = { (time_t)(deadline_ms / 1000u), (long)(deadline_ms % 1000u) * 1000000L };
    return pthread_cond_timedwait(cond, m, &ts);
}

static uint64_t deadline_for(const virtwire_client *c, int timeout_ms)
{
    if (timeout_ms < 0)
        timeout_ms = c->default_timeout_ms;
    return timeout_ms > 0 ? now_ms() + (uint64_t)timeout_ms : 0;
}

static int on_io_thread(const virtwire_client *c)
{
    return c->thread_started && pthread_equal(pthread_self(), c->thread);
}

/* ------------------------------------------------------------------------ */
/* Passing the buck                                                         */
/* ------------------------------------------------------------------------ */

/*
 * One thread at a time owns the I/O role: it polls the socket and the
 * wake-up pipe, reads, and completes the calls whose replies arrive.  The
 * owner is the I/O thread (IO_BG), a synchronous caller (IO_CALLER), or
 * nobody (IO_FREE).  A synchronous caller that finds the role free takes
 * it for as long as it waits for its own reply, so that a call costs no
 * thread switch; when its reply is in, it hands the role to another
 * waiting caller, or to the I/O thread when asynchronous calls or streams
 * need a reader, or leaves it free.  The I/O thread takes a free role back
 * after STANDBY_MS without callers (so that events, the daemon's PINGs, a
 * hang-up and keepalive are handled on an idle connection), and yields it
 * to a waiting caller that asks (want_role) when no asynchronous call or
 * stream needs it.  User callbacks always run on the I/O thread: an owning
 * caller only queues them (jobs) and signals bg_cond.
 */
enum { IO_BG, IO_FREE, IO_CALLER };
#define STANDBY_MS 5

/* Asynchronous calls and streams need a reader even when no caller waits. */
static int bg_needed(const virtwire_client *c)
{
    return c->npending_async > 0 || c->streams != NULL;
}

static int is_owner(const virtwire_client *c)
{
    if (c->io_owner == IO_BG)
        return on_io_thread(c);
    return c->io_owner == IO_CALLER && pthread_equal(c->owner_tid, pthread_self());
}

/* Wakes the owner of the I/O role from its poll() (lock held), e.g. to
 * poll for POLLOUT or recompute its timeout.  Nothing to do when the
 * caller is the owner (it recomputes before polling) or a byte is already
 * in the pipe. */
static void wake_owner(virtwire_client *c)
{
    if (c->io_owner == IO_FREE || c->wake_pending || is_owner(c))
        return;
    char b = 0;
    c->wake_pending = 1;
    ssize_t n = write(c->wake[1], &b, 1);
    (void)n;
}

/* Makes the I/O thread look at its jobs and state (lock held). */
static void kick_bg(virtwire_client *c)
{
    if (c->io_owner == IO_BG)
        wake_owner(c);
    else
        pthread_cond_signal(&c->bg_cond);
}

/* Makes sure somebody reads (lock held): the I/O thread takes a free role. */
static void ensure_reader(virtwire_client *c)
{
    if (c->io_owner != IO_FREE)
        return;
    c->io_owner = IO_BG;
    pthread_cond_signal(&c->bg_cond);
}

/* The role has just become free (lock held): a waiting caller takes it,
 * or the I/O thread when it is needed. */
static void role_freed(virtwire_client *c)
{
    c->io_owner = IO_FREE;
    c->free_since = now_ms();
    for (struct pending *w = c->waiters; w; w = w->wnext) {
        if (!w->done) {
            pthread_cond_signal(w->cond);
            return;
        }
    }
    if (bg_needed(c))
        ensure_reader(c);
    if (c->jobs)
        kick_bg(c);
}

static void queue_job(virtwire_client *c, job *j)
{
    j->next = NULL;
    if (c->jobs_tail)
        c->jobs_tail->next = j;
    else
        c->jobs = j;
    c->jobs_tail = j;
}

/* Drops one owner of an event job (lock held). */
static void job_unref(job *j)
{
    if (--j->refs > 0)
        return;
    virtwire_arena_fini(&j->arena);
    free(j);
}

/* The leading int of a decoded message or reply: the callbackID of the
 * *_CALLBACK_* events and of their registration replies. */
static int leading_int(const void *v)
{
    int x;
    memcpy(&x, v, sizeof x);
    return x;
}

static handler *handler_find(virtwire_client *c, int id)
{
    for (handler *h = c->handlers; h; h = h->next)
        if (h->id == id)
            return h;
    return NULL;
}

/* Releases the events a handler keeps (lock held). */
static void drop_kept(kept_event *k)
{
    while (k) {
        kept_event *next = k->next;
        job_unref(k->job);
        free(k);
        k = next;
    }
}

/* ------------------------------------------------------------------------ */
/* Calls in flight                                                          */
/* ------------------------------------------------------------------------ */

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

/* Takes the call (tp, serial) out of the table; NULL when nobody waits for
 * it any more (it timed out). */
static pending *pending_take(virtwire_client *c, virtwire_transport_program *tp, uint32_t serial)
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
    (void)pending_take(c, p->tp, p->serial);
}

/* Hands a finished call to whoever waits: the caller's condition
 * variable, or a job running the asynchronous callback. */
static void pending_finish(virtwire_client *c, pending *p, int rc)
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
    queue_job(c, j);
}

/* Is this remote_error libvirt's "unknown procedure" (which its client
 * reports as VIR_ERR_NO_SUPPORT)? */
static int is_unknown_procedure(const virNetMessageError *e)
{
    static const char prefix[] = "unknown procedure";
    return e && e->code == VIR_ERR_RPC && e->message && *e->message &&
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

/* Fails every call in flight (the connection is dead). */
static void fail_all(virtwire_client *c)
{
    for (size_t i = 0; i < PENDING_BUCKETS; i++) {
        while (c->table[i]) {
            pending *p = c->table[i];
            c->table[i] = p->next;
            pending_finish(c, p, VIRTWIRE_ECLOSED);
        }
    }
    c->npending_async_timed = 0;
    c->npending_async = 0;
    for (virtwire_client_stream *s = c->streams; s; s = s->next)
        pthread_cond_broadcast(&s->cond);
}

/* Marks the connection dead (once) and fails everything. */
static void mark_dead(virtwire_client *c, int why)
{
    if (c->dead)
        return;
    c->dead = why < 0 ? why : VIRTWIRE_ECLOSED;
    /* Like libvirt's client: a dead connection is closed at once, so the
     * daemon sees end of file without waiting for virtwire_client_close(). */
    if (c->conn)
        virtwire_conn_shutdown(c->conn);
    fail_all(c);
    job *j = &c->closed_job;
    j->kind = JOB_CLOSED;
    j->why = c->dead;
    j->notify = !c->close_called;
    queue_job(c, j);
}

/* Asynchronous calls whose deadline passed. */
static void expire_async(virtwire_client *c, uint64_t now)
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
                pending_finish(c, p, VIRTWIRE_ETIMEDOUT);
            } else {
                pp = &p->next;
            }
        }
    }
}

static uint64_t next_async_deadline(const virtwire_client *c)
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

/* ------------------------------------------------------------------------ */
/* Transport callbacks (I/O thread or a sender, lock held)                  */
/* ------------------------------------------------------------------------ */

static int on_reply(virtwire_transport_program *tp, const virtwire_transport_msg *m, void *opaque)
{
    virtwire_client *c = opaque;
    pending *p = pending_take(c, tp, m->hdr.serial);
    if (!p)
        return 0; /* timed out: the caller is gone, drop the reply */
    int rc = decode_reply(p, m);
    if (rc == 0 && p->bind_job) {
        /* A registration: the handler learns its callbackID now, in frame
         * order with the events (which are queued by on_message under this
         * same lock), and the events it kept meanwhile are sorted out by
         * the JOB_BIND job, which runs after every earlier event. */
        handler *h = handler_find(c, p->bind_job->handler_id);
        if (h) {
            h->callback_id = leading_int(p->ret);
            queue_job(c, p->bind_job);
            p->bind_job = NULL;
        }
    }
    pending_finish(c, p, rc);
    return 0;
}

static int on_message(virtwire_transport_program *tp, const virtwire_transport_msg *m,
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
        mark_dead(c, VIRTWIRE_ENOMEM);
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
        mark_dead(c, VIRTWIRE_ENOMEM);
        return -1;
    }
    j->kind = JOB_EVENT;
    j->prog = prog;
    j->proc = m->hdr.proc;
    j->refs = 1;
    queue_job(c, j);
    return 0;
}

static virtwire_client_stream *stream_find(virtwire_client *c, virtwire_transport_program *tp,
                                           uint32_t serial)
{
    for (virtwire_client_stream *s = c->streams; s; s = s->next)
        if (s->tp == tp && s->serial == serial)
            return s;
    return NULL;
}

static int on_stream(virtwire_transport_program *tp, const virtwire_transport_msg *m,
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
        mark_dead(c, VIRTWIRE_ENOMEM); /* losing data silently is worse than dying */
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

static const virtwire_transport_program_callbacks program_cbs = {
    .on_reply = on_reply,
    .on_message = on_message,
    .on_stream = on_stream,
};

static void on_error(virtwire_transport *t, int code, const virNetMessageHeader *hdr, int fatal,
                     void *opaque)
{
    virtwire_client *c = opaque;
    (void)t;
    if (fatal) {
        mark_dead(c, code);
        return;
    }
    /* A reply the transport dropped (bad status, undecodable error) still
     * completes its call: fail it with the transport's reason. */
    if (hdr && (hdr->type == VIR_NET_REPLY || hdr->type == VIR_NET_REPLY_WITH_FDS)) {
        for (client_program *cp = c->programs; cp; cp = cp->next) {
            if (cp->prog->program == hdr->prog && cp->prog->version == hdr->vers) {
                pending *p = pending_take(c, cp->tp, hdr->serial);
                if (p)
                    pending_finish(c, p, code);
            }
        }
    }
}

static void on_keepalive_dead(virtwire_transport *t, void *opaque)
{
    (void)t;
    mark_dead(opaque, VIRTWIRE_EKEEPALIVE);
}

/* The transport handle of prog, registering it on first use. */
static int program_handle(virtwire_client *c, const virtwire_program *prog,
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

/* ------------------------------------------------------------------------ */
/* The I/O thread                                                           */
/* ------------------------------------------------------------------------ */

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

static void run_event(virtwire_client *c, job *j)
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
            if (h->bound && leading_int(j->msg) != h->callback_id)
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

/* The reply of handler_id's registration came: its kept events that
 * carry its callbackID run now, in arrival order, before any later event;
 * the others are dropped. */
static void run_bind(virtwire_client *c, int handler_id)
{
    pthread_mutex_lock(&c->lock);
    handler *h = handler_find(c, handler_id);
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
        h = handler_find(c, handler_id); /* it may have been removed meanwhile */
        int run = h && leading_int(j->msg) == h->callback_id;
        virtwire_client_event_fn fn = run ? h->fn : NULL;
        void *opaque = run ? h->opaque : NULL;
        c->running_handler = run ? handler_id : 0;
        pthread_mutex_unlock(&c->lock);
        if (run)
            fn(c, j->prog, j->proc, j->msg, opaque);
        pthread_mutex_lock(&c->lock);
        c->running_handler = 0;
        pthread_cond_broadcast(&c->handler_cond);
        job_unref(j);
        pthread_mutex_unlock(&c->lock);
    }
}

static void run_done(virtwire_client *c, pending *p)
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

/* Runs the queued jobs, without the lock. */
static void run_jobs(virtwire_client *c)
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
            run_done(c, j->call); /* frees the call, and j with it */
            continue;
        case JOB_EVENT:
            run_event(c, j);
            pthread_mutex_lock(&c->lock);
            job_unref(j);
            pthread_mutex_unlock(&c->lock);
            continue;
        case JOB_BIND:
            run_bind(c, j->handler_id);
            break;
        case JOB_CLOSED:
            if (close_fn && j->notify)
                close_fn(c, j->why, close_opaque);
            continue; /* c->closed_job */
        }
        free(j);
    }
}

static int poll_timeout(virtwire_client *c)
{
    int64_t ka = virtwire_transport_keepalive_timeout(c->t);
    uint64_t dl = next_async_deadline(c);
    int64_t t = ka;
    if (dl) {
        uint64_t now = now_ms();
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

/* Polls the socket and the wake-up pipe for up to timeout ms, dropping the
 * lock meanwhile, then does what the socket and the clock say: reads and
 * dispatches, ticks keepalive, expires asynchronous calls.  For the owner
 * of the I/O role only.  Returns c->dead. */
static int io_round(virtwire_client *c, int timeout)
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
    if (rc == 0 && virtwire_transport_keepalive_timeout(c->t) == 0) {
        rc = virtwire_transport_keepalive_tick(c->t);
        /* the PING went out through on_send, at once or queued */
    }
    if (rc == 0)
        rc = virtwire_transport_error(c->t);
    expire_async(c, now_ms());
    if (rc < 0)
        mark_dead(c, rc);
    return c->dead;
}

/* The I/O thread owns the role: one round, then yields the role to a
 * caller that asked for it if nothing needs the I/O thread. */
static void bg_round(virtwire_client *c)
{
    io_round(c, poll_timeout(c));
    if (c->want_role && !c->dead && !c->closing && !bg_needed(c)) {
        c->want_role = 0;
        role_freed(c);
    }
}

/* The I/O thread: runs the jobs (user callbacks), reads while it owns the
 * I/O role, and otherwise stands by, taking a free role back once no
 * caller has used it for STANDBY_MS (or at once when asynchronous calls or
 * streams need a reader).  Ends when the connection is dead and every job
 * has run. */
static void *io_main(void *arg)
{
    virtwire_client *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        if (c->jobs) {
            /* Calls the callbacks make are batched: one write for all. */
            c->batching = 1;
            pthread_mutex_unlock(&c->lock);
            run_jobs(c);
            pthread_mutex_lock(&c->lock);
            c->batching = 0;
            if (virtwire_conn_pending_output(c->conn)) {
                virtwire_conn_flush(c->conn, 0);
                /* What the socket did not take needs POLLOUT. */
                if (virtwire_conn_pending_output(c->conn))
                    wake_owner(c);
            }
            continue;
        }
        if (c->dead)
            break;
        if (c->closing) {
            mark_dead(c, VIRTWIRE_ECLOSED);
            continue;
        }
        if (c->io_owner == IO_BG) {
            bg_round(c);
            continue;
        }
        uint64_t now = now_ms();
        if (c->io_owner == IO_FREE && (bg_needed(c) || now >= c->free_since + STANDBY_MS)) {
            c->io_owner = IO_BG;
            continue;
        }
        uint64_t until = c->io_owner == IO_FREE ? c->free_since + STANDBY_MS : now + STANDBY_MS;
        cond_wait_until(&c->bg_cond, &c->lock, until);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */
/* ------------------------------------------------------------------------ */

/* Encodes args for proc into *buf (stack if it fits, else malloc'd). */
static int encode_args(const virtwire_proc *proc, const void *args, unsigned char *stack,
                       size_t stack_len, unsigned char **buf, size_t *len)
{
    *buf = stack;
    *len = 0;
    if (!proc->args)
        return 0;
    if (!args)
        return VIRTWIRE_ENULL;
    size_t need = proc->args->encoded_size(args);
    if (need > VIR_NET_MESSAGE_PAYLOAD_MAX)
        return VIRTWIRE_EFRAME_LENGTH;
    if (need > stack_len) {
        *buf = malloc(need);
        if (!*buf)
            return VIRTWIRE_ENOMEM;
    }
    int rc = virtwire_encode(proc->args, args, *buf, need, len);
    if (rc < 0 && *buf != stack) {
        free(*buf);
        *buf = stack;
    }
    return rc;
}

/* After a send failed with VIRTWIRE_ESEND (lock held): whether the
 * connection can no longer write (the peer hung up, or the socket failed),
 * as opposed to a frame the connection refused (fds over TCP).  The owner
 * of the I/O role is woken to read what the peer sent before and to record
 * the death; until then, senders get VIRTWIRE_ECLOSED from here. */
static int write_side_dead(virtwire_client *c)
{
    int rc = virtwire_conn_flush(c->conn, 0);
    if (rc != VIRTWIRE_ECLOSED && rc != VIRTWIRE_EIO)
        return 0;
    ensure_reader(c);
    wake_owner(c);
    return 1;
}

/* Sends the call (lock held) and registers p under its serial. */
static int send_call(virtwire_client *c, const virtwire_program *prog, pending *p,
                     const unsigned char *payload, size_t len, const int *fds, size_t nfds)
{
    if (c->dead || c->closing)
        return VIRTWIRE_ECLOSED;
    int rc = program_handle(c, prog, &p->tp);
    if (rc < 0)
        return rc;
    int with_fds = nfds > 0 || (p->proc->flags & VIRTWIRE_PROC_FDS_CALL);
    /* A call from a callback waits for the I/O thread's one write after
     * its callbacks (see io_main()). */
    int batch = c->batching && on_io_thread(c);
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
            mark_dead(c, fatal ? fatal : werr);
            kick_bg(c); /* the I/O thread runs the close jobs */
            return !fatal && werr == VIRTWIRE_ENOMEM ? VIRTWIRE_ENOMEM : VIRTWIRE_ECLOSED;
        }
        if (rc == VIRTWIRE_ESEND && write_side_dead(c))
            return VIRTWIRE_ECLOSED;
        return rc;
    }
    p->serial = (uint32_t)serial;
    pending_add(c, p);
    /* What the socket did not take at once needs POLLOUT: tell the owner
     * of the I/O role, which polls with the events of before (a caller
     * that takes the role itself polls with the new ones). */
    if (!batch && virtwire_conn_pending_output(c->conn))
        wake_owner(c);
    return 0;
}

static int check_proc(const virtwire_program *prog, int32_t number, const virtwire_proc **out)
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
    int t = poll_timeout(c);
    if (deadline) {
        uint64_t now = now_ms();
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
        io_round(c, caller_timeout(c, deadline));
        if (c->jobs)
            pthread_cond_signal(&c->bg_cond);
        if (!p->done && deadline && now_ms() >= deadline)
            time_out(c, p);
    }
    role_freed(c);
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
        if (c->io_owner == IO_BG && !c->want_role && !bg_needed(c)) {
            c->want_role = 1;
            wake_owner(c);
        }
        if (cond_wait_until(p->cond, &c->lock, deadline) == ETIMEDOUT && !p->done)
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
        role_freed(c);
}

/* Sends a client abort of a stream (lock held); a send that kills the
 * connection kills it here. */
static void stream_send_abort(virtwire_client *c, virtwire_transport_program *tp, int32_t proc,
                              uint32_t serial)
{
    int rc = virtwire_transport_stream_abort(tp, proc, serial);
    int why = virtwire_transport_error(c->t);
    if (rc < 0 && (why || (why = virtwire_conn_write_error(c->conn)))) {
        mark_dead(c, why);
        kick_bg(c);
    } else if (virtwire_conn_pending_output(c->conn))
        wake_owner(c);
}

/* A synchronous call; when stream is not NULL the stream is opened right
 * after the call is sent, so that no early packet is lost.  *bind (if
 * bind is not NULL) is the JOB_BIND job of a registration: NULL on return
 * when the reply queued it. */
static int call_common(virtwire_client *c, const virtwire_program *prog, int32_t number,
                       const void *args, void *ret, virtwire_call_opts *opts,
                       virtwire_client_stream *stream, job **bind)
{
    virtwire_call_opts none = { .timeout_ms = -1 };
    const virtwire_proc *proc;
    if (!c || check_proc(prog, number, &proc) < 0 || on_io_thread(c))
        return VIRTWIRE_EINVAL;
    if (!opts)
        opts = &none;
    if (opts->nfds > MAX_FDS)
        return VIRTWIRE_EFDS_MAX;
    opts->nret_fds = 0;
    if (opts->error)
        memset(opts->error, 0, sizeof *opts->error);

    unsigned char stack[1024], *buf;
    size_t len;
    int rc = encode_args(proc, args, stack, sizeof stack, &buf, &len);
    if (rc < 0)
        return rc;

    pthread_cond_t cond;
    if (cond_init(&cond) < 0) {
        if (buf != stack)
            free(buf);
        return VIRTWIRE_ENOMEM;
    }
    pending p = {
        .proc = proc, .ret = ret, .arena = opts->arena, .error = opts->error,
        .ret_fds = opts->ret_fds, .ret_fds_max = opts->ret_fds ? opts->ret_fds_max : 0,
        .bind_job = bind ? *bind : NULL, .cond = &cond,
    };
    uint64_t deadline = deadline_for(c, opts->timeout_ms);

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
            stream_send_abort(c, p.tp, proc->number, p.serial);
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
    opts->nret_fds = p.nret_fds;
    return p.rc;
}

int virtwire_client_call(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                         const void *args, void *ret, virtwire_call_opts *opts)
{
    return call_common(c, prog, proc, args, ret, opts, NULL, NULL);
}

int virtwire_client_call_async(virtwire_client *c, const virtwire_program *prog, int32_t number,
                               const void *args, const virtwire_call_opts *opts,
                               virtwire_client_done_fn done, void *opaque)
{
    const virtwire_proc *proc;
    if (!c || !done || check_proc(prog, number, &proc) < 0)
        return VIRTWIRE_EINVAL;
    virtwire_call_opts none = { .timeout_ms = -1 };
    if (!opts)
        opts = &none;
    if (opts->nfds > MAX_FDS)
        return VIRTWIRE_EFDS_MAX;
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
    p->ret_fds_max = MAX_FDS;
    if (proc->ret && !(p->ret = calloc(1, proc->ret->size ? proc->ret->size : 1))) {
        free(p);
        return VIRTWIRE_ENOMEM;
    }

    unsigned char stack[1024], *buf;
    size_t len;
    int rc = encode_args(proc, args, stack, sizeof stack, &buf, &len);
    if (rc == 0) {
        pthread_mutex_lock(&c->lock);
        p->deadline_ms = deadline_for(c, opts->timeout_ms);
        rc = send_call(c, prog, p, buf, len, opts->fds, opts->nfds);
        if (rc == 0) {
            /* Somebody must read the reply; an owner that polls must
             * recompute its timeout. */
            ensure_reader(c);
            if (p->deadline_ms)
                wake_owner(c);
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

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

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
    int rc = program_handle(c, prog, &tp);
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
    if (!c || !fn || check_proc(prog, register_proc, &rp) < 0 || !rp->ret ||
        rp->ret->size < sizeof(int) || !ep || !ep->msg || ep->msg->size < sizeof(int) ||
        on_io_thread(c))
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
        rc = call_common(c, prog, register_proc, args, ret, opts, NULL, &bind);
        if (rc == 0 && bind)
            rc = VIRTWIRE_EINVAL; /* the handler was removed meanwhile */
        if (rc == 0 && callback_id)
            *callback_id = leading_int(ret);
        if (rc < 0)
            virtwire_client_remove_event(c, id);
        if (rc == 0 && !(opts && opts->arena))
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
        drop_kept(h->kept);
    while (h && c->running_handler == id && !on_io_thread(c))
        pthread_cond_wait(&c->handler_cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
    free(h);
    return h ? 0 : VIRTWIRE_EINVAL;
}

void virtwire_client_on_close(virtwire_client *c, virtwire_client_close_fn fn, void *opaque)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->close_fn = fn;
    c->close_opaque = opaque;
    pthread_mutex_unlock(&c->lock);
}

int virtwire_client_error(const virtwire_client *c)
{
    if (!c)
        return VIRTWIRE_EINVAL;
    virtwire_client *m = (virtwire_client *)c;
    pthread_mutex_lock(&m->lock);
    int rc = m->dead;
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Connecting and the handshake                                             */
/* ------------------------------------------------------------------------ */

static int open_call(virtwire_client *c, int timeout, const virtwire_program *prog, int32_t proc,
                     const void *args, void *ret, virtwire_arena *arena)
{
    virtwire_call_opts o = { .arena = arena, .timeout_ms = timeout };
    return virtwire_client_call(c, prog, proc, args, ret, &o);
}

static int check_auth(virtwire_client *c, int timeout, virtwire_arena *arena)
{
    remote_auth_list_ret auth;
    int rc = open_call(c, timeout, &remote_program, REMOTE_PROC_AUTH_LIST, NULL, &auth, arena);
    if (rc < 0)
        return rc;
    /* libvirt's client takes the first method it implements; an empty
     * list means none is needed. */
    if (auth.types.types_len == 0)
        return 0;
    for (unsigned i = 0; i < auth.types.types_len; i++) {
        remote_auth_type t = auth.types.types_val[i];
        if (t == REMOTE_AUTH_NONE || t == REMOTE_AUTH_POLKIT)
            return 0;
    }
    return VIRTWIRE_EAUTH;
}

static int remote_handshake(virtwire_client *c, const virtwire_client_options *o,
                            const char *name, int timeout)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    int rc = check_auth(c, timeout, &arena);

    remote_connect_supports_feature_args fa = { VIR_DRV_FEATURE_PROGRAM_KEEPALIVE };
    remote_connect_supports_feature_ret fr = { 0 };
    if (rc == 0)
        rc = open_call(c, timeout, &remote_program, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, &fa,
                       &fr, &arena);
    if (rc == 0 && fr.supported && o->keepalive_interval_ms) {
        pthread_mutex_lock(&c->lock);
        rc = virtwire_transport_keepalive_start(c->t, o->keepalive_interval_ms,
                                                o->keepalive_count);
        wake_owner(c); /* the poll timeout changed */
        pthread_mutex_unlock(&c->lock);
    }

    char *n = (char *)name;
    remote_connect_open_args oa = {
        .name = name ? &n : NULL,
        .flags = o->open_flags | ((o->flags & VIRTWIRE_CLIENT_READONLY) ? VIR_CONNECT_RO : 0),
    };
    if (rc == 0)
        rc = open_call(c, timeout, &remote_program, REMOTE_PROC_CONNECT_OPEN, &oa, NULL, &arena);
    virtwire_arena_fini(&arena);
    return rc;
}

static int handshake(virtwire_client *c, const virtwire_client_options *o, const char *name)
{
    int timeout = o->open_timeout_ms > 0 ? o->open_timeout_ms : OPEN_TIMEOUT_DEFAULT_MS;
    int rc;
    if (o->flags & VIRTWIRE_CLIENT_NO_OPEN)
        return 0;
    if (o->flags & VIRTWIRE_CLIENT_ADMIN) {
        admin_connect_open_args a = { o->open_flags };
        rc = open_call(c, timeout, &admin_program, ADMIN_PROC_CONNECT_OPEN, &a, NULL, NULL);
    } else {
        rc = remote_handshake(c, o, name, timeout);
    }
    if (rc == 0)
        c->opened = 1;
    return rc;
}

static virtwire_client *client_new(const virtwire_client_options *o)
{
    virtwire_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->wake[0] = c->wake[1] = -1;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    if (cond_init(&c->handler_cond) < 0) {
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    if (cond_init(&c->bg_cond) < 0) {
        pthread_cond_destroy(&c->handler_cond);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    /* Close-on-exec from the start: another thread may fork and exec. */
    if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        pthread_cond_destroy(&c->bg_cond);
        pthread_cond_destroy(&c->handler_cond);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    c->io_owner = IO_BG;
    c->default_timeout_ms = o->call_timeout_ms > 0 ? o->call_timeout_ms : 0;
    c->admin = (o->flags & VIRTWIRE_CLIENT_ADMIN) != 0;
    return c;
}

static void client_free(virtwire_client *c)
{
    while (c->programs) {
        client_program *cp = c->programs;
        c->programs = cp->next;
        free(cp);
    }
    while (c->handlers) {
        handler *h = c->handlers;
        c->handlers = h->next;
        drop_kept(h->kept);
        free(h);
    }
    virtwire_conn_free(c->conn);
    if (c->wake[0] >= 0)
        close(c->wake[0]);
    if (c->wake[1] >= 0)
        close(c->wake[1]);
    pthread_cond_destroy(&c->handler_cond);
    pthread_cond_destroy(&c->bg_cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static const virtwire_transport_callbacks conn_cbs = {
    .on_error = on_error,
    .on_keepalive_dead = on_keepalive_dead,
    .clock_ms = clock_cb,
};

/* Starts the I/O thread on a connected client, then the handshake. */
static int start(virtwire_client *c, const virtwire_client_options *o, const char *name,
                 virtwire_client **out)
{
    c->t = virtwire_conn_transport(c->conn);
    if (pthread_create(&c->thread, NULL, io_main, c) != 0) {
        client_free(c);
        return VIRTWIRE_ENOMEM;
    }
    c->thread_started = 1;
    int rc = handshake(c, o, name);
    if (rc == VIRTWIRE_ECLOSED) {
        int why = virtwire_client_error(c); /* why it died, if it did */
        rc = why < 0 ? why : rc;
    }
    if (rc < 0) {
        virtwire_client_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int virtwire_client_connect(const char *uri, const virtwire_client_options *opts,
                            virtwire_client **out)
{
    static const virtwire_client_options defaults;
    if (!out)
        return VIRTWIRE_EINVAL;
    *out = NULL;
    if (!uri)
        return VIRTWIRE_EINVAL;
    const virtwire_client_options *o = opts ? opts : &defaults;
    virtwire_uri *u;
    int rc = virtwire_uri_parse(uri, &u);
    if (rc < 0)
        return rc;
    char *name = NULL;
    if (!o->open_name && !(o->flags & (VIRTWIRE_CLIENT_ADMIN | VIRTWIRE_CLIENT_NO_OPEN)) &&
        !(name = virtwire_uri_open_name(u))) {
        virtwire_uri_free(u);
        return VIRTWIRE_ENOMEM;
    }
    virtwire_client *c = client_new(o);
    if (!c) {
        free(name);
        virtwire_uri_free(u);
        return VIRTWIRE_ENOMEM;
    }
    unsigned flags = ((o->flags & VIRTWIRE_CLIENT_READONLY) ? VIRTWIRE_URI_READONLY : 0) |
                     ((o->flags & VIRTWIRE_CLIENT_ADMIN) ? VIRTWIRE_URI_ADMIN : 0);
    rc = virtwire_conn_connect_parsed_uri(u, flags, VIRTWIRE_TRANSPORT_CLIENT, &conn_cbs, c,
                                          &c->conn);
    virtwire_uri_free(u);
    if (rc < 0) {
        free(name);
        client_free(c);
        return rc;
    }
    rc = start(c, o, o->open_name ? o->open_name : name, out);
    free(name);
    return rc;
}

int virtwire_client_adopt(int fd, int is_unix, const virtwire_client_options *opts,
                          virtwire_client **out)
{
    static const virtwire_client_options defaults;
    if (!out) {
        if (fd >= 0)
            close(fd);
        return VIRTWIRE_EINVAL;
    }
    *out = NULL;
    const virtwire_client_options *o = opts ? opts : &defaults;
    virtwire_client *c = client_new(o);
    if (!c) {
        close(fd);
        return VIRTWIRE_ENOMEM;
    }
    int rc = virtwire_conn_adopt(fd, is_unix, VIRTWIRE_TRANSPORT_CLIENT, &conn_cbs, c, &c->conn);
    if (rc < 0) {
        client_free(c);
        return rc;
    }
    return start(c, o, o->open_name, out);
}

void virtwire_client_close(virtwire_client *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->close_called = 1; /* the daemon hangs up after CONNECT_CLOSE */
    pthread_mutex_unlock(&c->lock);
    if (c->opened && virtwire_client_error(c) == 0) {
        virtwire_call_opts o = { .timeout_ms = CLOSE_TIMEOUT_MS };
        if (c->admin)
            virtwire_client_call(c, &admin_program, ADMIN_PROC_CONNECT_CLOSE, NULL, NULL, &o);
        else
            virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_CLOSE, NULL, NULL, &o);
    }
    pthread_mutex_lock(&c->lock);
    c->closing = 1;
    /* Wakes the I/O thread even if it is not in poll() yet: it checks
     * closing after every poll. */
    virtwire_conn_shutdown(c->conn);
    wake_owner(c);
    pthread_cond_signal(&c->bg_cond);
    pthread_mutex_unlock(&c->lock);
    if (c->thread_started)
        pthread_join(c->thread, NULL);
    /* The I/O thread failed everything and ran the callbacks; a
     * connection that never got a thread has nothing in flight. */
    pthread_mutex_lock(&c->lock);
    mark_dead(c, VIRTWIRE_ECLOSED);
    pthread_mutex_unlock(&c->lock);
    c->thread_started = 0;
    run_jobs(c);
    client_free(c);
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                  */
/* ------------------------------------------------------------------------ */

int virtwire_client_stream_call(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                                const void *args, void *ret, virtwire_call_opts *opts,
                                virtwire_client_stream **out)
{
    const virtwire_proc *p;
    if (!out)
        return VIRTWIRE_EINVAL;
    *out = NULL;
    if (!c || check_proc(prog, proc, &p) < 0 ||
        !(p->flags & (VIRTWIRE_PROC_STREAM_READ | VIRTWIRE_PROC_STREAM_WRITE)))
        return VIRTWIRE_EINVAL;
    virtwire_client_stream *s = calloc(1, sizeof *s);
    if (!s)
        return VIRTWIRE_ENOMEM;
    if (cond_init(&s->cond) < 0) {
        free(s);
        return VIRTWIRE_ENOMEM;
    }
    s->c = c;
    s->proc = proc;
    s->flags = p->flags;
    int rc = call_common(c, prog, proc, args, ret, opts, s, NULL);
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
    ensure_reader(c); /* packets come in through the I/O role's owner */
    while (!s->head) {
        if (c->dead) {
            *rc = VIRTWIRE_ECLOSED;
            return NULL;
        }
        if (s->finished) {
            *rc = VIRTWIRE_EINVAL;
            return NULL;
        }
        if (cond_wait_until(&s->cond, &c->lock, deadline) == ETIMEDOUT && !s->head) {
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
    uint64_t deadline = deadline_for(c, timeout_ms);
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
        mark_dead(c, fatal ? fatal : werr);
        kick_bg(c); /* the I/O thread runs the close jobs */
        rc = !fatal && werr == VIRTWIRE_ENOMEM ? VIRTWIRE_ENOMEM : VIRTWIRE_ECLOSED;
    } else if (rc == VIRTWIRE_ESEND && write_side_dead(c)) {
        rc = VIRTWIRE_ECLOSED;
    }
    if (virtwire_conn_pending_output(c->conn)) {
        ensure_reader(c);
        wake_owner(c);
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
    uint64_t deadline = deadline_for(c, timeout_ms);
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
