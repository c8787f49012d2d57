/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire client internals, shared by its files (not installed):
 *
 *   virtwire_client.c         creating, connecting and closing a client
 *   virtwire_client_io.c      the I/O role, the I/O thread, the job queue
 *                             and the transport callbacks they share
 *   virtwire_client_call.c    calls: the table of calls in flight, sending,
 *                             waiting, decoding replies
 *   virtwire_client_event.c   event handlers and one-step registrations
 *   virtwire_client_stream.c  streams
 *   virtwire_client_version.c the daemon's libvirt release and the check of
 *                             a procedure's (virtwire_proc.since)
 *
 * libvirt's open handshake (remote and admin programs) and the goodbye at
 * close are the session's: runtime/session/, built into the client.
 *
 * Threads and locking: the rules every file keeps
 * ------------------------------------------------
 * 1. One mutex, c->lock, guards everything mutable in a client: the
 *    connection and its transport, the table of calls in flight, the
 *    streams, the handlers, the job queue and the I/O role.  Callers hold
 *    it while they send (the connection writes at once, queueing what the
 *    socket does not take) and while they wait.
 * 2. One thread at a time owns the I/O role: it polls the socket and the
 *    wake-up pipe, reads, and completes the calls whose replies arrive.
 *    The owner is the I/O thread (IO_BG), a synchronous caller
 *    (IO_CALLER), or nobody (IO_FREE).  Only the owner calls
 *    virtwire_conn_process(), and it drops the lock only around poll().
 *    Every wait is a poll(), level-triggered, so the connection is told so
 *    (virtwire_conn_set_level_triggered()): a read shorter than asked is
 *    not followed by one that finds the socket empty.
 * 3. A synchronous caller that finds the role free takes it for as long as
 *    it waits for its own reply, so that a call costs no thread switch;
 *    when its reply is in, it hands the role to another waiting caller, or
 *    to the I/O thread when asynchronous calls or streams need a reader,
 *    or leaves it free ("passing the buck", vw_client_role_freed()).
 * 4. The I/O thread takes a free role back after STANDBY_MS without
 *    callers (so that events, the daemon's PINGs, a hang-up and keepalive
 *    are handled on an idle connection), and yields it to a waiting caller
 *    that asks (want_role) when no asynchronous call or stream needs it.
 * 5. Transport callbacks fire inside virtwire_conn_process(), under the
 *    lock, on whichever thread owns the I/O role.  They never call user
 *    code: they complete calls (a condition variable per synchronous call)
 *    and queue jobs.
 * 6. User callbacks (asynchronous completions, events, on_close) run only
 *    on the I/O thread, from its job queue, one at a time, in the order
 *    their frames arrived, without the lock.  Calls they make are corked
 *    (c->batching) and go out in one write after the batch.
 * 7. A dead connection (c->dead) is shut down at once, every call in
 *    flight fails with VIRTWIRE_ECLOSED, and a JOB_CLOSED job reports it;
 *    nothing allocates on that path.
 *
 * Ownership: synchronous calls (pending) live on the caller's stack and
 * point at the caller's outputs; asynchronous ones on the heap with their
 * completion job, freed after their callback.  Events are jobs owned by
 * the queue and by the handlers that keep them until their registration's
 * reply (refs).  Stream packets belong to their stream until read.  The
 * client owns its connection (socket and transport) and its wake-up pipe.
 *
 * Internal functions shared between the files are named vw_client_*: the
 * shared library exports only virtwire_* (cmake/virtwire.map).
 */
#ifndef VIRTWIRE_CLIENT_INTERNAL_H
#define VIRTWIRE_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "virtwire_client.h"
#include "virtwire_conn.h"
#include "virtwire_transport.h"
#include "virtwire_uri.h"

#define OPEN_TIMEOUT_DEFAULT_MS 30000
#define CLOSE_TIMEOUT_MS 2000
#define PENDING_BUCKETS 256u /* power of two */

/* Who owns the I/O role (rule 2). */
enum { IO_BG, IO_FREE, IO_CALLER };
/* How long the I/O thread leaves a free role to callers (rule 4). */
#define STANDBY_MS 5

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
    int hold; /* VIRTWIRE_CALL_HOLD_INPUT: input held at the reply */
    int has_error;
    virNetMessageError err_buf;
    int fd_buf[VIRTWIRE_FDS_MAX];
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
    /* fn NULL: its messages wait in queued, in arrival order, for
     * virtwire_client_next_event() (which waits on handler_cond). */
    kept_event *queued, *queued_tail;
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
    /* The encoded size of the last call too big for the stack buffer: the
     * heap buffer the next such call tries first (vw_client_encode_args();
     * any thread, no lock). */
    atomic_size_t args_hint;
    virtwire_conn *conn;
    virtwire_transport *t;
    pthread_t thread;
    int thread_started;
    int wake[2]; /* self-pipe: [0] polled by whoever owns the I/O role */
    int wake_pending; /* a byte is in the pipe, not yet drained */
    /* Input waits in the connection (a hold ended): the owner of the I/O
     * role processes without waiting for the socket. */
    int kick_input;
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
    virtwire_error_fn on_error; /* the options' (virtwire_client_options.on_error) */
    void *on_error_opaque;
    int default_timeout_ms; /* > 0, or 0: no limit */
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
    /* The daemon's release (virtwire_client_version.c): learnt once, under
     * lock; check_since: VIRTWIRE_CLIENT_CHECK_SINCE. */
    uint32_t lib_version;
    int check_since;
};

/* virtwire_client_io.c */

uint64_t vw_client_now_ms(void);

/* Condition variables timed on the monotonic clock, so that a change of
 * the wall clock cannot stretch or cut a timeout. */
int vw_client_cond_init(pthread_cond_t *cond);

/* Waits on cond until deadline_ms (0: forever).  Returns ETIMEDOUT when
 * the deadline has passed. */
int vw_client_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *m, uint64_t deadline_ms);

/* The deadline of a wait of timeout_ms as the API takes it (0: the
 * client's default; negative: none), or 0 for none. */
uint64_t vw_client_deadline_for(const virtwire_client *c, int timeout_ms);

int vw_client_on_io_thread(const virtwire_client *c);

/* Asynchronous calls and streams need a reader even when no caller waits. */
int vw_client_bg_needed(const virtwire_client *c);

/* Wakes the owner of the I/O role from its poll() (lock held), e.g. to
 * poll for POLLOUT or recompute its timeout.  Nothing to do when the
 * caller is the owner (it recomputes before polling) or a byte is already
 * in the pipe. */
void vw_client_wake_owner(virtwire_client *c);

/* Makes the I/O thread look at its jobs and state (lock held). */
void vw_client_kick_bg(virtwire_client *c);

/* Makes sure somebody reads (lock held): the I/O thread takes a free role. */
void vw_client_ensure_reader(virtwire_client *c);

/* The role has just become free (lock held): a waiting caller takes it,
 * or the I/O thread when it is needed. */
void vw_client_role_freed(virtwire_client *c);

void vw_client_queue_job(virtwire_client *c, job *j);

/* Marks the connection dead (once) and fails everything. */
void vw_client_mark_dead(virtwire_client *c, int why);

/* The transport handle of prog, registering it on first use. */
int vw_client_program_handle(virtwire_client *c, const virtwire_program *prog,
                          virtwire_transport_program **out);

/* Starts the client's own keepalive PINGs (takes the lock). */
int vw_client_start_keepalive(virtwire_client *c, unsigned int interval_ms, unsigned int count);

/* Runs the queued jobs, without the lock. */
void vw_client_run_jobs(virtwire_client *c);

int vw_client_poll_timeout(virtwire_client *c);

/* Polls the socket and the wake-up pipe for up to timeout ms, dropping the
 * lock meanwhile, then does what the socket and the clock say: reads and
 * dispatches, ticks keepalive, expires asynchronous calls.  For the owner
 * of the I/O role only.  Returns c->dead. */
int vw_client_io_round(virtwire_client *c, int timeout);

/* The I/O thread: runs the jobs (user callbacks), reads while it owns the
 * I/O role, and otherwise stands by, taking a free role back once no
 * caller has used it for STANDBY_MS (or at once when asynchronous calls or
 * streams need a reader).  Ends when the connection is dead and every job
 * has run. */
void *vw_client_io_main(void *arg);

/* The connection callbacks of every client (on_error, keepalive death,
 * the monotonic clock). */
extern const virtwire_transport_callbacks vw_client_conn_cbs;

/* virtwire_client_call.c */

/* Takes the call (tp, serial) out of the table; NULL when nobody waits for
 * it any more (it timed out). */
pending *vw_client_pending_take(virtwire_client *c, virtwire_transport_program *tp, uint32_t serial);

/* Hands a finished call to whoever waits: the caller's condition
 * variable, or a job running the asynchronous callback. */
void vw_client_pending_finish(virtwire_client *c, pending *p, int rc);

/* Fails every call in flight (the connection is dead). */
void vw_client_fail_all(virtwire_client *c);

/* Asynchronous calls whose deadline passed. */
void vw_client_expire_async(virtwire_client *c, uint64_t now);

uint64_t vw_client_next_async_deadline(const virtwire_client *c);

int vw_client_on_reply(virtwire_transport_program *tp, const virtwire_transport_msg *m, void *opaque);

void vw_client_run_done(virtwire_client *c, pending *p);

/* The stack buffer a call's arguments are encoded into first. */
#define VW_CLIENT_ARGS_STACK 1024

/* Encodes args for proc into *buf: stack[0..stack_len) when they fit, else
 * a heap buffer the caller frees (*buf != stack), first of *hint bytes (the
 * client's args_hint, which it updates).  What a call does before it sends
 * (virtwire_client_call.c); the codec benchmark times it. */
int vw_client_encode_args(const virtwire_proc *proc, const void *args, unsigned char *stack,
                          size_t stack_len, atomic_size_t *hint, unsigned char **buf,
                          size_t *len);

/* After a send failed with VIRTWIRE_ESEND (lock held): whether the
 * connection can no longer write (the peer hung up, or the socket failed),
 * as opposed to a frame the connection refused (fds over TCP).  The owner
 * of the I/O role is woken to read what the peer sent before and to record
 * the death; until then, senders get VIRTWIRE_ECLOSED from here. */
int vw_client_write_side_dead(virtwire_client *c);

int vw_client_check_proc(const virtwire_program *prog, int32_t number, const virtwire_proc **out);

/* virtwire_client_version.c */

/* After the handshake: learns the daemon's release when the options ask
 * for it (VIRTWIRE_CLIENT_LIB_VERSION, VIRTWIRE_CLIENT_CHECK_SINCE). */
int vw_client_learn_version(virtwire_client *c, const virtwire_client_options *o);

/* With VIRTWIRE_CLIENT_CHECK_SINCE: VIRTWIRE_EUNSUPPORTED when the daemon
 * is older than proc; 0 otherwise (lock not held; never calls). */
int vw_client_since_ok(virtwire_client *c, const virtwire_program *prog,
                       const virtwire_proc *proc);

/* A caller's call options (NULL: the defaults) checked and copied into
 * *mine, see virtwire_sized_internal.h: 0 or VIRTWIRE_EINVAL. */
int vw_client_opts_in(const virtwire_call_opts *user, virtwire_call_opts *mine);

/* Tells a failure (rc < 0) to the call's on_error (opts: a checked copy, or
 * NULL), else the client's; err: the daemon's error, when there is one.
 * Without the lock. */
void vw_client_report(virtwire_client *c, const virtwire_call_opts *opts, int rc,
                      const virNetMessageError *err);
/* Writes the call's results back into the caller's options, where they
 * have room for them. */
void vw_client_opts_out(virtwire_call_opts *user, size_t nret_fds);

/* A synchronous call; when stream is not NULL the stream is opened right
 * after the call is sent, so that no early packet is lost.  *bind (if
 * bind is not NULL) is the JOB_BIND job of a registration: NULL on return
 * when the reply queued it. */
int vw_client_call_common(virtwire_client *c, const virtwire_program *prog, int32_t number,
                       const void *args, void *ret, virtwire_call_opts *opts,
                       virtwire_client_stream *stream, job **bind);

/* virtwire_client_event.c */

/* Drops one owner of an event job (lock held). */
void vw_client_job_unref(job *j);

/* The leading int of a decoded message or reply: the callbackID of the
 * *_CALLBACK_* events and of their registration replies. */
int vw_client_leading_int(const void *v);

handler *vw_client_handler_find(virtwire_client *c, int id);

/* Releases the events a handler keeps (lock held). */
void vw_client_drop_kept(kept_event *k);

int vw_client_on_message(virtwire_transport_program *tp, const virtwire_transport_msg *m,
                      void *opaque);

void vw_client_run_event(virtwire_client *c, job *j);

/* The reply of handler_id's registration came: its kept events that
 * carry its callbackID run now, in arrival order, before any later event;
 * the others are dropped. */
void vw_client_run_bind(virtwire_client *c, int handler_id);

/* virtwire_client_stream.c */

int vw_client_on_stream(virtwire_transport_program *tp, const virtwire_transport_msg *m,
                     void *opaque);

/* Sends a client abort of a stream (lock held); a send that kills the
 * connection kills it here. */
void vw_client_stream_send_abort(virtwire_client *c, virtwire_transport_program *tp, int32_t proc,
                              uint32_t serial);

#endif /* VIRTWIRE_CLIENT_INTERNAL_H */
