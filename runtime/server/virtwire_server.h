/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * virtwire server: a libvirt-compatible RPC server on top of connections
 * (virtwire_conn.h), dispatching calls to typed handlers through the
 * generated procedure tables (virtwire_program.h).
 *
 * Threads: none.  The server is a single-threaded event loop: one poll()
 * over the listening sockets and every client connection, driven by
 * virtwire_server_run_once() or virtwire_server_run().  Handlers, stream
 * callbacks and client callbacks all run on that thread, one at a time, so
 * they need no locking; they must not block.  A handler that cannot answer
 * at once returns VIRTWIRE_SERVER_DEFER and completes the call later with
 * virtwire_server_call_complete() (from the loop's thread).
 *
 * @code
 *   virtwire_server *srv;
 *   virtwire_server_new(NULL, NULL, &srv);
 *   virtwire_server_register(srv, &remote_program);
 *   virtwire_server_set_handler(srv, &remote_program, REMOTE_PROC_CONNECT_OPEN, open_fn, st);
 *   virtwire_server_listen_unix(srv, "/run/x.sock");
 *   virtwire_server_run(srv);    // until virtwire_server_stop()
 * @endcode
 *
 * Calls: the arguments are decoded with the procedure's args type into a
 * per-call arena; the handler fills call->ret (zeroed, the procedure's ret
 * type), which is encoded when the call completes (what it points to must
 * live until then: the call's arena is the natural place), or fails the
 * call with an error (virtwire_server_call_error()).  A procedure without a
 * handler gets libvirt's own answer: VIR_ERR_RPC (39), VIR_FROM_RPC (7),
 * "unknown procedure: N".  fds arrive with CALL_WITH_FDS in call->fds and
 * leave with REPLY_WITH_FDS from call->ret_fds, per the procedure table's
 * flags.
 *
 * Keepalive, as libvirtd does it: PINGs from any client are always answered
 * (by the transport).  The server pings a client of its own only once the
 * client has announced keepalive support: a CALL of the remote program's
 * CONNECT_SUPPORTS_FEATURE for VIR_DRV_FEATURE_PROGRAM_KEEPALIVE (10) whose
 * handler answered supported != 0 (libvirt clients ask before CONNECT_OPEN,
 * and only when they have an event loop to answer PINGs with).  Handlers of
 * other programs may start it with virtwire_server_client_start_keepalive().
 * From then on, whenever keepalive_interval passes without any frame from
 * the client, the server sends a PING (program 0x6b656570, procedure 1,
 * MESSAGE, serial 0); after keepalive_count PINGs in a row go unanswered,
 * that is after interval x (count + 1) of silence, the client is dropped
 * like one that hung up: its connection is closed, its streams end
 * (on_close of each), its kept calls are discarded, its deferred calls are
 * orphaned, and on_close runs; virtwire_server_client_error() then says
 * VIRTWIRE_EKEEPALIVE.  Any frame from the client counts as an answer.
 * Defaults: libvirtd's keepalive_interval = 5 (seconds) and
 * keepalive_count = 5; an interval <= 0 disables own PINGs (clients are
 * still told yes and their PINGs answered), count 0 drops a client after
 * one interval of silence without pinging.  A client at its
 * max_client_requests limit is not read from, so its answers wait too:
 * handlers that keep max_client_requests calls for longer than
 * interval x (count + 1) get the client dropped, as with libvirtd.
 *
 * Outstanding requests: each client may have at most max_client_requests
 * calls (default 5, libvirt's max_client_requests) handed to handlers and
 * not yet answered.  Beyond that the server stops reading from the client;
 * calls that arrived in the same read are kept, in order, and dispatched as
 * earlier ones complete.  The server also stops reading from a client while
 * 1 MiB or more of output waits for it (replies, events, stream data), so
 * that a client that does not read what it asked for cannot make the
 * server queue without bound; its answers to PINGs wait too, as above.
 * The calls kept meanwhile may take 64 MiB; a client that sends more is
 * disconnected, and so is one for which the transport's own answers to
 * refused calls queue more than 64 MiB of output
 * (virtwire_server_client_error(): VIRTWIRE_ENOMEM).
 *
 * Out of memory: a call the server cannot allocate for (its decoded
 * arguments, its reply value, its encoded reply, its stream, the message of
 * virtwire_server_call_error()) is answered with VIR_ERR_INTERNAL_ERROR
 * (1), VIR_FROM_RPC (7), "out of memory", and the client stays.  A client
 * is dropped, with virtwire_server_client_error() VIRTWIRE_ENOMEM, when the
 * server cannot keep what it must (an incoming frame, a call beyond the
 * max_client_requests limit, output the socket did not take) or cannot even
 * send that error; a connection the server cannot allocate a client for is
 * closed as soon as it is accepted (on_open does not run).
 * virtwire_server_run_once() returns VIRTWIRE_ENOMEM when it cannot
 * allocate its poll set; nothing is lost, and the next call tries again.
 */
#ifndef VIRTWIRE_SERVER_H
#define VIRTWIRE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "virnetprotocol.h"
#include "virtwire_conn.h"
#include "virtwire_error.h"
#include "virtwire_facts.h"
#include "virtwire_program.h"
#include "virtwire_xdr.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Handlers return this to answer later with virtwire_server_call_complete(). */
#define VIRTWIRE_SERVER_DEFER 1

/** libvirtd's keepalive_interval default (5 s). */
#define VIRTWIRE_SERVER_KEEPALIVE_INTERVAL_MS_DEFAULT 5000
/** libvirtd's keepalive_count default. */
#define VIRTWIRE_SERVER_KEEPALIVE_COUNT_DEFAULT 5

/** Default number of unanswered calls per client (libvirtd's
 *  max_client_requests). */
#define VIRTWIRE_SERVER_MAX_CLIENT_REQUESTS_DEFAULT 5
/** A server: listeners, clients and registered programs (opaque). */
typedef struct virtwire_server virtwire_server;
/** One connected client of a server (opaque). */
typedef struct virtwire_server_client virtwire_server_client;
/** A stream attached to a call (opaque). */
typedef struct virtwire_server_stream virtwire_server_stream;

/** One call being handled.  Owned by the server; valid until completed. */
typedef struct virtwire_server_call {
    virtwire_server_client *client; /**< the client that made the call */
    const virtwire_program *prog;   /**< its program */
    const virtwire_proc *proc;      /**< its procedure, from prog's table */
    uint32_t serial;                /**< its serial */
    /** Decoded arguments (NULL for void), in arena. */
    const void *args;
    /** Zeroed return value of proc->ret's type (NULL for void), in arena. */
    void *ret;
    /** Per-call arena, freed when the call completes. */
    virtwire_arena *arena;
    /** fds received with CALL_WITH_FDS.  The server closes those still
     *  >= 0 when the call completes: take one by setting its slot to -1. */
    int fds[VIRTWIRE_FDS_MAX];
    size_t nfds; /**< number of entries in fds */
    /** fds to send with REPLY_WITH_FDS (borrowed: the server does not
     *  close them). */
    int ret_fds[VIRTWIRE_FDS_MAX];
    size_t nret_fds; /**< number of entries in ret_fds */
    /** The error sent when the handler fails (see virtwire_server_call_error()). */
    virNetMessageError error;
    int has_error; /**< non-zero once error is set */
} virtwire_server_call;

/** Returns 0 (send call->ret), a negative value (send call->error, or an
 *  internal error when none was set) or VIRTWIRE_SERVER_DEFER. */
typedef int (*virtwire_server_handler)(virtwire_server_call *call, void *opaque);

/** Client life cycle, both optional.  on_open may set the client's state
 *  (virtwire_server_client_set_data()) and return < 0 to refuse it;
 *  on_close runs once when the client goes, before it is freed. */
typedef struct virtwire_server_callbacks {
    /** sizeof(virtwire_server_callbacks) as the caller was compiled: see
     *  "Structures that can grow" in docs/reference.md. */
    size_t size;
    /** A client connected: 0 to accept it, < 0 to close it. */
    int (*on_open)(virtwire_server_client *c, void *opaque);
    /** The client is going (see virtwire_server_client_error()). */
    void (*on_close)(virtwire_server_client *c, void *opaque);
    /** Optional: a call to a procedure without a handler was answered with
     *  "unknown procedure" (for logging). */
    void (*on_unknown)(virtwire_server_client *c, uint32_t prog, int32_t proc, void *opaque);
} virtwire_server_callbacks;

/** Creates a server; cbs may be NULL and is copied.  Returns 0,
 *  VIRTWIRE_EINVAL (out NULL, a cbs->size that cannot be valid),
 *  VIRTWIRE_ENOMEM or VIRTWIRE_EIO (no pipe for virtwire_server_stop()'s
 *  wake-up; errno says why). */
int virtwire_server_new(const virtwire_server_callbacks *cbs, void *opaque,
                        virtwire_server **out);

/** Closes every client and listener and frees the server.  A unix socket
 *  path is unlinked only while it is still the socket this server bound
 *  (same device and inode): one that another server has replaced since is
 *  left alone.  NULL is fine. */
void virtwire_server_free(virtwire_server *srv);

/** Unanswered calls allowed per client (1..1000).  Returns 0 or EINVAL. */
int virtwire_server_set_max_client_requests(virtwire_server *srv, unsigned int n);

/** Own keepalive PINGs (see the top of this file): every interval_ms of a
 *  client's silence, dropping it after count unanswered ones; interval_ms
 *  <= 0 disables them.  Applies to clients whose keepalive starts
 *  afterwards.  Returns 0 or VIRTWIRE_EINVAL (srv NULL). */
int virtwire_server_set_keepalive(virtwire_server *srv, int interval_ms, unsigned int count);

/** Serves prog (before any client connects).  Returns 0, EINVAL
 *  (already registered) or ENOMEM. */
int virtwire_server_register(virtwire_server *srv, const virtwire_program *prog);

/** Sets the handler of one procedure of a registered program.  Returns 0 or
 *  VIRTWIRE_EINVAL (program not registered, procedure not in its table). */
int virtwire_server_set_handler(virtwire_server *srv, const virtwire_program *prog, int32_t proc,
                                virtwire_server_handler fn, void *opaque);

/** Listens on a unix socket at path.  A socket file already there is
 *  probed with connect(): when a server accepts there (or its backlog is
 *  full), it is left alone and the call fails with VIRTWIRE_EIO and errno
 *  EADDRINUSE; when nobody listens any more (ECONNREFUSED: a stale socket
 *  of a process that is gone), it is removed and replaced.  Anything else
 *  at path is never removed (bind() fails with EADDRINUSE).  Returns 0,
 *  VIRTWIRE_EINVAL (path empty or too long) or VIRTWIRE_EIO (errno says
 *  why). */
int virtwire_server_listen_unix(virtwire_server *srv, const char *path);

/** Listens on TCP (host NULL: the loopback address; port 0: any, see
 *  virtwire_server_tcp_port()).  Returns 0 or VIRTWIRE_EIO. */
int virtwire_server_listen_tcp(virtwire_server *srv, const char *host, int port);

/** The most authentication types a listener offers. */
#define VIRTWIRE_SERVER_AUTH_TYPES_MAX 20

/**
 * What a listener does with the connections it accepts (libvirtd's
 * per-socket settings).  Set size as for virtwire_server_callbacks.
 */
typedef struct virtwire_server_listen_opts {
    /** sizeof(virtwire_server_listen_opts) as the caller was compiled. */
    size_t size;
    /**
     * Makes each accepted connection's channel from its socket fd, which
     * it takes over in every case (libvirtwire_tls: a TLS session, whose
     * handshake the loop then drives without blocking).  NULL: the socket
     * itself (virtwire_channel_socket_new()).  Returns 0 or an error (the
     * connection is then closed).
     */
    int (*make_channel)(int fd, int is_unix, void *opaque, virtwire_channel **out);
    /** Passed to make_channel. */
    void *channel_opaque;
    /**
     * The authentication types the listener's clients are offered, in
     * order (libvirtd's auth_unix_rw, auth_tcp, auth_tls: remote_auth_type
     * values, REMOTE_AUTH_NONE 0, SASL 1, POLKIT 2); copied.  With any
     * type other than none, a client may call only the exempt procedures
     * (virtwire_server_set_auth_exempt(); by default the remote program's
     * AUTH_LIST to AUTH_POLKIT, 66 to 70) until something authenticates
     * it (virtwire_server_client_set_authenticated(): libvirtwire_session's
     * handlers, or the caller's own); other calls get libvirtd's answer,
     * VIR_ERR_RPC "authentication required" (the same bytes: "%s" in
     * str1, the text in str2, int1 and int2 -1), after the check for an
     * unknown procedure and before the arguments are decoded.  The server itself does not
     * answer AUTH_LIST: see virtwire_server_client_auth_types().
     */
    const int *auth_types;
    size_t nauth_types; /**< at most VIRTWIRE_SERVER_AUTH_TYPES_MAX */
    /** Non-zero: the listener's clients are read-only (libvirtd's
     *  -sock-ro socket); see virtwire_server_client_readonly(). */
    int readonly;
} virtwire_server_listen_opts;

/** virtwire_server_listen_unix() with options (NULL: the defaults).
 *  Returns 0, VIRTWIRE_EINVAL (path too long, options that cannot be
 *  valid) or VIRTWIRE_EIO. */
int virtwire_server_listen_unix_with(virtwire_server *srv, const char *path,
                                     const virtwire_server_listen_opts *opts);
/** virtwire_server_listen_tcp() with options (NULL: the defaults). */
int virtwire_server_listen_tcp_with(virtwire_server *srv, const char *host, int port,
                                    const virtwire_server_listen_opts *opts);
/** Listens on a socket that is already listening (systemd socket
 *  activation, or one the caller made), which the server takes over: made
 *  non-blocking and close-on-exec, closed by virtwire_server_free(). */
int virtwire_server_listen_fd(virtwire_server *srv, int fd, int is_unix,
                              const virtwire_server_listen_opts *opts);

/** The procedures clients of listeners that require authentication may
 *  call before they have authenticated: first to last of prog.  Default:
 *  libvirtd's, the remote program's 66 (AUTH_LIST) to 70 (AUTH_POLKIT).
 *  Returns 0 or VIRTWIRE_EINVAL. */
int virtwire_server_set_auth_exempt(virtwire_server *srv, const virtwire_program *prog,
                                    int32_t first, int32_t last);

/** The port of the last TCP listener, or -1. */
int virtwire_server_tcp_port(const virtwire_server *srv);

/** One round of the loop: poll up to timeout_ms (-1: no limit), accept,
 *  read, dispatch, write.  Returns 0, VIRTWIRE_EIO (poll failed) or
 *  VIRTWIRE_ENOMEM (no round was run). */
int virtwire_server_run_once(virtwire_server *srv, int timeout_ms);

/** Runs the loop until virtwire_server_stop().  Returns 0 or an error of
 *  run_once() (VIRTWIRE_ENOMEM included: the caller decides whether to go
 *  on). */
int virtwire_server_run(virtwire_server *srv);

/** Makes run() return after the current round, at once: a run_once()
 *  waiting in poll() wakes up (the server polls a pipe this writes to),
 *  whichever thread is interrupted when called from a signal handler.
 *  From a handler, from a signal handler (async-signal-safe: a flag and a
 *  write(); errno is kept) or from another thread. */
void virtwire_server_stop(virtwire_server *srv);

/** Number of clients connected. */
size_t virtwire_server_nclients(const virtwire_server *srv);

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */
/* ------------------------------------------------------------------------ */

/** Fills call->error (message copied into the call's arena; level 2, like
 *  every daemon error; without memory for the message, the out-of-memory
 *  error instead) and returns -1, for `return virtwire_server_call_error(...)`. */
int virtwire_server_call_error(virtwire_server_call *call, int code, int domain, const char *fmt,
                               ...) __attribute__((format(printf, 4, 5)));

/** Copies s into the call's arena (for string fields of ret); NULL on
 *  out of memory. */
char *virtwire_server_call_strdup(virtwire_server_call *call, const char *s);

/** Zeroed memory from the call's arena. */
void *virtwire_server_call_alloc(virtwire_server_call *call, size_t n);

/**
 * From the handler of a call that is about to succeed (an authentication
 * step): once the call's reply has been sent, in the clear, the client's
 * connection runs over fn(its channel, ...) (virtwire_conn_wrap_channel(),
 * virtwire_conn_wrap_fn: a SASL security layer), both ways; what the
 * client sent after the call is read through the new channel.  Nothing is
 * read past the call meanwhile (a deferred call keeps the input held until
 * it completes).  When the call fails instead, or its reply cannot be
 * sent, nothing changes.  When fn fails the client is dropped with fn's
 * error.  Returns 0 or VIRTWIRE_EINVAL.
 */
int virtwire_server_call_wrap_channel(virtwire_server_call *call, virtwire_conn_wrap_fn fn,
                                      void *opaque);

/** Completes a deferred call: rc as a handler's return value (not DEFER).
 *  The call is freed.  A call whose client has gone is just freed. */
void virtwire_server_call_complete(virtwire_server_call *call, int rc);

/* ------------------------------------------------------------------------ */
/* Clients                                                                  */
/* ------------------------------------------------------------------------ */

/** Attaches the caller's state to a client (the server never frees it:
 *  on_close is the place). */
void virtwire_server_client_set_data(virtwire_server_client *c, void *data);
/** The state set with virtwire_server_client_set_data(), or NULL. */
void *virtwire_server_client_get_data(const virtwire_server_client *c);
/** The server the client is connected to. */
virtwire_server *virtwire_server_client_server(const virtwire_server_client *c);
/** Calls handed to handlers and not yet answered. */
unsigned int virtwire_server_client_outstanding(const virtwire_server_client *c);
/** Closes the client after the current round (output already queued is
 *  attempted once). */
void virtwire_server_client_close(virtwire_server_client *c);

/** Why the client is going (e.g. in on_close): 0 while it is not, or when
 *  the server closed it (virtwire_server_client_close(),
 *  virtwire_server_free()); VIRTWIRE_EKEEPALIVE when it stopped answering
 *  keepalive PINGs; VIRTWIRE_ECLOSED when it hung up; otherwise the
 *  connection's error (VIRTWIRE_EIO, a fatal transport error,
 *  VIRTWIRE_ENOMEM). */
int virtwire_server_client_error(const virtwire_server_client *c);

/** Starts own keepalive PINGs to the client, as libvirtd does when the
 *  client announces keepalive support (the server does this itself for the
 *  remote program's CONNECT_SUPPORTS_FEATURE).  Returns 0 (also when they are already on or
 *  disabled by virtwire_server_set_keepalive()), VIRTWIRE_ECLOSED (the
 *  client is going) or VIRTWIRE_EINVAL. */
int virtwire_server_client_start_keepalive(virtwire_server_client *c);

/** Whether own keepalive PINGs to the client are on. */
int virtwire_server_client_keepalive(const virtwire_server_client *c);

/** Whether the client may call every procedure: its listener requires no
 *  authentication, or something authenticated it. */
int virtwire_server_client_authenticated(const virtwire_server_client *c);

/** Marks the client authenticated (from the handler of an authentication
 *  procedure, once it has succeeded). */
void virtwire_server_client_set_authenticated(virtwire_server_client *c);

/**
 * State a library keeps on a client under its own key (any unique
 * address), apart from the application's virtwire_server_client_set_data():
 * release(data) runs when the client is freed (after on_close), or when
 * the key is attached again (data NULL detaches).  Returns 0 or
 * VIRTWIRE_ENOMEM (release is not called then).
 */
int virtwire_server_client_attach(virtwire_server_client *c, const void *key, void *data,
                                  void (*release)(void *data));

/** The data attached under key, or NULL. */
void *virtwire_server_client_attached(const virtwire_server_client *c, const void *key);

/** The authentication types of the client's listener (see
 *  virtwire_server_listen_opts.auth_types), for an AUTH_LIST handler;
 *  *n gets their number. */
const int *virtwire_server_client_auth_types(const virtwire_server_client *c, size_t *n);

/** Whether the client came through a read-only listener. */
int virtwire_server_client_readonly(const virtwire_server_client *c);

/** The client's channel (owned by the server): its kind, its fd, and
 *  what the channel's own library tells of it (a TLS peer's name). */
virtwire_channel *virtwire_server_client_channel(virtwire_server_client *c);

/** The credentials of the process at the other end of a unix socket
 *  (SO_PEERCRED): 0, or VIRTWIRE_EINVAL for a client that is not on a
 *  unix socket, or VIRTWIRE_EIO. */
int virtwire_server_client_peer_cred(const virtwire_server_client *c, pid_t *pid, uid_t *uid,
                                     gid_t *gid);

/** Calls fn for each connected client (fn must not free anything). */
void virtwire_server_foreach_client(virtwire_server *srv,
                                    void (*fn)(virtwire_server_client *c, void *opaque),
                                    void *opaque);

/** Sends an event: a MESSAGE of procedure proc (which must have a msg type)
 *  with msg encoded with that type, serial 1 as libvirt does.  Returns 0 or
 *  an error (VIRTWIRE_EINVAL for a procedure without a msg type). */
int virtwire_server_send_event(virtwire_server_client *c, const virtwire_program *prog,
                               int32_t proc, const void *msg);

/** The same to every client; fn (optional) chooses which: returns nonzero
 *  to send.  Returns the number of clients it was sent to. */
size_t virtwire_server_broadcast_event(virtwire_server *srv, const virtwire_program *prog,
                                       int32_t proc, const void *msg,
                                       int (*fn)(virtwire_server_client *c, void *opaque),
                                       void *opaque);

/* ------------------------------------------------------------------------ */
/* Streams                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Stream callbacks, each optional.  Data callbacks return 0, or < 0 to end
 * the stream with STREAM/ERROR (the error set with
 * virtwire_server_stream_error(), else an internal error).  Set size as
 * for virtwire_server_callbacks.
 */
typedef struct virtwire_server_stream_callbacks {
    /** sizeof(virtwire_server_stream_callbacks) as the caller was compiled. */
    size_t size;
    /** Write streams: data and holes from the client. */
    int (*on_data)(virtwire_server_stream *s, const void *data, size_t len, void *opaque);
    /** Write streams: a hole of length bytes (sparse streams only). */
    int (*on_hole)(virtwire_server_stream *s, int64_t length, void *opaque);
    /** The client's end of data (empty CONTINUE); optional. */
    int (*on_eof)(virtwire_server_stream *s, void *opaque);
    /** The client finished (STREAM/OK): return 0 to confirm with STREAM/OK. */
    int (*on_finish)(virtwire_server_stream *s, void *opaque);
    /** The client aborted (STREAM/ERROR). */
    void (*on_abort)(virtwire_server_stream *s, void *opaque);
    /** Read streams: the client can take more (the connection's output queue
     *  is short).  Send with virtwire_server_stream_send*(); called again
     *  every round until virtwire_server_stream_send_eof(). */
    int (*on_pull)(virtwire_server_stream *s, void *opaque);
    /** The stream is going away (finished, aborted, failed, client gone). */
    void (*on_close)(virtwire_server_stream *s, void *opaque);
} virtwire_server_stream_callbacks;

/**
 * Attaches a stream to the call (the procedure must be a stream procedure).
 * It opens when the call's OK reply goes out; if the call fails instead it
 * is discarded (on_close runs).  sparse: holes allowed (the handler checks
 * the procedure's sparse flag in the arguments).  cbs is copied.
 * Returns the stream or NULL (not a stream procedure, one already
 * attached, a cbs->size that cannot be valid, out of memory).
 */
virtwire_server_stream *virtwire_server_call_stream(virtwire_server_call *call, int sparse,
                                                    const virtwire_server_stream_callbacks *cbs,
                                                    void *opaque);

/** Read streams: sends len bytes of data, split into packets as libvirt
 *  does (what the socket does not take at once is copied into the
 *  connection's output queue).  Returns 0, VIRTWIRE_EINVAL (the stream is
 *  not open, or its end was sent) or a send error. */
int virtwire_server_stream_send(virtwire_server_stream *s, const void *data, size_t len);
/** Read streams: sends a hole of length bytes.  Returns 0,
 *  VIRTWIRE_EINVAL (the stream is not open or not sparse, its end was
 *  sent, or length < 0) or a send error. */
int virtwire_server_stream_send_hole(virtwire_server_stream *s, int64_t length);
/** End of data; the stream then waits for the client's finish. */
int virtwire_server_stream_send_eof(virtwire_server_stream *s);
/** Sets the error the stream ends with when a callback fails. */
void virtwire_server_stream_error(virtwire_server_stream *s, int code, int domain,
                                  const char *message);
/** The client the stream belongs to. */
virtwire_server_client *virtwire_server_stream_client(const virtwire_server_stream *s);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_SERVER_H */
