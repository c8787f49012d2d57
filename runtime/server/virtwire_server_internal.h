/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire server internals, shared by its files (not installed):
 *
 *   virtwire_server.c         the server: programs, handlers, listeners and
 *                             the poll() loop
 *   virtwire_server_client.c  clients: accepting, flow control (the request
 *                             limit, calls kept while throttled, output
 *                             limits), keepalive, dropping
 *   virtwire_server_call.c    calls: decoding, handing to handlers, replies
 *                             and errors, events
 *   virtwire_server_stream.c  streams attached to calls
 *
 * Threads: none.  Everything runs on the thread that drives the loop (see
 * virtwire_server.h); nothing here takes a lock.
 *
 * Ownership:
 *   - clients are freed only by the loop itself (never inside a connection
 *     callback), after virtwire_conn_process() has returned; a client that
 *     must go is marked `closing` (vw_server_client_fail()) and reaped at
 *     the end of the round;
 *   - a client owns its connection (and through it the socket and the
 *     transport), its streams, its kept calls (with their fds) and the
 *     list of its unanswered calls;
 *   - calls live on the heap from dispatch to completion, with their arena
 *     and the fds they received; a deferred call whose client is gone is
 *     orphaned (client = NULL) and freed when its handler completes it;
 *   - a stream attached to a call belongs to the call until the call's OK
 *     reply opens it, then to the client.
 *
 * Keepalive: each client's transport keeps its own PING timer on the
 * server's monotonic clock; the loop polls no longer than the nearest
 * deadline and ticks the timers that are due after every poll.
 *
 * Internal functions shared between the files are named vw_server_*: the
 * shared library exports only virtwire_* (cmake/virtwire.map).
 */
#ifndef VIRTWIRE_SERVER_INTERNAL_H
#define VIRTWIRE_SERVER_INTERNAL_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "virtwire_server.h"
#include "virtwire_transport.h"

#define MAX_LISTENERS 8
/* A read stream is pulled for more data while less than this is queued. */
#define STREAM_PULL_BELOW ((size_t)1 << 20)
/* A client is not read from while this much of its output is queued, so
 * that one that does not read its replies cannot make the server queue
 * them without bound. */
#define CLIENT_OUTPUT_HIGH ((size_t)1 << 20)
#define MAX_CLIENT_REQUESTS_LIMIT 1000u
/* Most bytes kept for the calls of a throttled client (room for two of
 * the largest), and most output queued for a client when the transport
 * answers refused calls itself: a client that goes beyond either while it
 * reads nothing is disconnected.  A read round lasts until the socket is
 * empty, so throttling alone cannot stop a client that keeps writing. */
#define BACKLOG_MAX ((size_t)2 * VIR_NET_MESSAGE_MAX)
#define OUTPUT_MAX ((size_t)64 << 20)

typedef struct call_impl call_impl;

/* A registered program and its handlers (indexed like prog->procs). */
typedef struct server_program {
    struct server_program *next;
    const virtwire_program *prog;
    virtwire_server_handler *fns;
    void **opaques;
} server_program;

/* A call that arrived while the client was at its limit, copied. */
typedef struct backlog_msg {
    struct backlog_msg *next;
    virNetMessageHeader hdr;
    int fds[VIRTWIRE_FDS_MAX];
    size_t nfds;
    size_t len;
    unsigned char payload[];
} backlog_msg;

struct virtwire_server_stream {
    virtwire_server_stream *next;
    virtwire_server_client *client;
    virtwire_transport_program *tp;
    int32_t proc;
    uint32_t serial;
    int sparse;
    int read; /* server to client */
    int opened;
    int sent_eof;
    virtwire_server_stream_callbacks cbs;
    void *opaque;
    int has_error;
    int err_code, err_domain;
    char *err_message;
};

struct call_impl {
    virtwire_server_call pub; /* first: the handler's pointer is ours */
    call_impl *next;          /* the client's unanswered calls */
    virtwire_transport_program *tp;
    virtwire_arena arena;
    virtwire_server_stream *stream;
    /* virtwire_server_call_wrap_channel(): done once the reply is sent */
    virtwire_conn_wrap_fn wrap_fn;
    void *wrap_opaque;
};

/* State a library keeps on a client (virtwire_server_client_attach()). */
typedef struct attachment {
    struct attachment *next;
    const void *key;
    void *data;
    void (*release)(void *data);
} attachment;

struct virtwire_server_client {
    virtwire_server_client *next;
    virtwire_server *srv;
    virtwire_conn *conn;
    virtwire_transport_program **tps; /* parallel to srv->programs order */
    void *data;
    unsigned int outstanding;
    call_impl *calls;
    backlog_msg *backlog, *backlog_tail;
    size_t backlog_bytes;
    virtwire_server_stream *streams;
    int closing;
    int error;  /* why it is closing: see virtwire_server_client_error() */
    int opened; /* on_open accepted it: on_close is due */
    int paused; /* its connection's reading is paused (see stop_reading()) */
    int keepalive; /* own PINGs started */
    int authenticated; /* calls other than the exempt ones are allowed */
    int input_kick; /* input waits in the connection: process it unasked */
    attachment *attachments;
    const struct listener *from; /* the listener that accepted it */
};

typedef struct listener {
    int fd;
    int is_unix;
    char *path; /* unix: unlinked at free if still the socket bound here */
    dev_t dev;  /* unix: the socket file bound (see still_ours()) */
    ino_t ino;
    virtwire_server_listen_opts opts; /* auth_types: see below */
    int auth_types[VIRTWIRE_SERVER_AUTH_TYPES_MAX];
    size_t nauth_types;
    int auth_required; /* an auth type other than none is offered */
} listener;

struct virtwire_server {
    virtwire_server_callbacks cbs;
    void *opaque;
    listener listeners[MAX_LISTENERS];
    size_t nlisteners;
    int tcp_port;
    server_program *programs;
    size_t nprograms;
    virtwire_server_client *clients;
    size_t nclients;
    unsigned int max_requests;
    int ka_interval_ms; /* <= 0: no own PINGs */
    unsigned int ka_count;
    /* Procedures first..last of this program may be called before the
     * client has authenticated (virtwire_server_set_auth_exempt()). */
    uint32_t exempt_program, exempt_version;
    int32_t exempt_first, exempt_last;
    volatile sig_atomic_t stop;
    int wake[2]; /* virtwire_server_stop() writes to wake[1]; polled */
};

/* virtwire_server.c */

/* The registered program (prog, vers) and its position in the list (the
 * index of its transport handle in each client's tps), or NULL. */
server_program *vw_server_program_find(virtwire_server *srv, uint32_t prog, uint32_t vers,
                                       size_t *index);

/* virtwire_server_client.c */

/* Accepts a connected socket from listener l as a new client (closes fd
 * on failure). */
void vw_server_client_add(virtwire_server *srv, int fd, const listener *l);
/* Frees a client (its on_close runs); for the loop only. */
void vw_server_client_free(virtwire_server_client *c);
/* Marks the client for reaping at the end of the round, keeping the first
 * reason. */
void vw_server_client_fail(virtwire_server_client *c, int why);
/* The client's poll() entry; cuts *timeout_ms to the client's next
 * keepalive deadline, or to 0 when it has work that needs no input. */
void vw_server_client_poll(virtwire_server_client *c, struct pollfd *pfd, int *timeout_ms);
/* Work that needs no input: kept calls, read streams, keepalive, output. */
void vw_server_client_idle_work(virtwire_server_client *c);

/* virtwire_server_call.c */

/* Hands one call to its handler (or answers it as libvirt would when there
 * is none).  fds are taken from the caller's array (slots set to -1). */
void vw_server_dispatch(virtwire_server_client *c, const virNetMessageHeader *hdr,
                        const unsigned char *payload, size_t len, int *fds, size_t nfds);

/* virtwire_server_stream.c */

/* The transport's on_stream of every program of a client. */
int vw_server_on_stream(virtwire_transport_program *tp, const virtwire_transport_msg *m,
                        void *opaque);
/* Unlinks a stream from its client, closes it in the transport, runs its
 * on_close and frees it. */
void vw_server_stream_unlink_free(virtwire_server_stream *s);
/* Gives read streams the chance to send more. */
void vw_server_pull_streams(virtwire_server_client *c);
/* Whether a read stream of the client wants to be pulled now. */
int vw_server_wants_pull(const virtwire_server_client *c);

#endif /* VIRTWIRE_SERVER_INTERNAL_H */
