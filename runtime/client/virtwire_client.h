/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * virtwire client: typed calls to a libvirt daemon over one connection,
 * from any number of threads.
 *
 * @code
 *   virtwire_client *c;
 *   int rc = virtwire_client_connect("qemu:///system", NULL, &c);
 *   remote_connect_get_hostname_ret ret;
 *   virtwire_arena arena = VIRTWIRE_ARENA_INIT;
 *   virNetMessageError err;
 *   virtwire_call_opts o = VIRTWIRE_CALL_OPTS(.arena = &arena, .error = &err);
 *   rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_HOSTNAME,
 *                             NULL, &ret, &o);
 *   if (rc < 0) printf("%s\n", virtwire_error_message(rc, &err));
 *   virtwire_arena_fini(&arena);
 *   virtwire_client_close(c);
 * @endcode
 *
 * Threads.  A client starts one I/O thread; the socket (a virtwire_conn)
 * and the sans-I/O transport are guarded by one mutex.  Callers send from
 * their own threads.  Reading is done by whichever thread holds the "I/O
 * role": a synchronous caller that finds nobody else reading takes it for
 * as long as it waits, polling the socket itself, so that an uncontended
 * call involves no other thread; replies for other callers it reads are
 * handed to them (matched by program and serial) and they sleep on a
 * condition variable of their own meanwhile.  When its reply is in, it
 * passes the role to another waiting caller, or to the I/O thread when
 * asynchronous calls or streams are in flight.  The I/O thread takes the
 * role back after a few milliseconds without callers, so that events, the
 * daemon's keepalive PINGs and a hang-up are handled on an idle connection
 * too (an event arriving just after a synchronous call may thus wait a few
 * milliseconds).  Every function here is thread-safe, except
 * virtwire_client_close(), which must be the last call on the client.
 *
 * Callbacks (asynchronous completions, events, on_close) always run on the
 * I/O thread, never on a calling thread (a caller that reads only queues
 * them), one at a time, in the order the frames arrived, with no lock
 * held.  They may start asynchronous calls and send on streams, but must
 * not make synchronous calls (the reply would have to be read by the very
 * thread that waits for it: virtwire_client_call() returns VIRTWIRE_EINVAL
 * there) nor call virtwire_client_close().  A slow callback delays every
 * other reply.
 *
 * Connection death.  When the peer hangs up, a socket call fails, the
 * transport latches a fatal error or own keepalive PINGs go unanswered,
 * the socket is shut down (the daemon sees end of file, as when libvirt's
 * client closes a connection), every call in flight fails at once with
 * VIRTWIRE_ECLOSED (asynchronous ones through their callback), blocked
 * stream reads return VIRTWIRE_ECLOSED, the on_close callback runs, and
 * later calls fail at once with VIRTWIRE_ECLOSED.  virtwire_client_error()
 * tells why.
 *
 * Errors: every function returns 0 (or a count) or a negative
 * virtwire_error: VIRTWIRE_ECLOSED, VIRTWIRE_EREMOTE (the daemon answered
 * with a remote_error), VIRTWIRE_EUNSUPPORTED (the daemon does not know the
 * procedure), VIRTWIRE_ETIMEDOUT, VIRTWIRE_EAUTH, codec errors for values
 * that do not encode or replies that do not decode, and the connection's
 * errors from virtwire_client_connect().
 *
 * Out of memory.  A call that cannot allocate what it needs (its encoded
 * arguments, its decoded reply or remote_error, its frame in the output
 * queue, its stream) returns VIRTWIRE_ENOMEM.  The I/O thread cannot
 * return anything: when it cannot allocate what it must keep (an incoming
 * frame, an event, a stream packet, output that was partly written), the
 * connection dies with VIRTWIRE_ENOMEM as its reason (virtwire_client_error(),
 * on_close), and everything fails with VIRTWIRE_ECLOSED as after any death:
 * nothing is lost silently.
 */
#ifndef VIRTWIRE_CLIENT_H
#define VIRTWIRE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "virnetprotocol.h"
#include "virtwire_channel.h"
#include "virtwire_conn.h"
#include "virtwire_error.h"
#include "virtwire_program.h"
#include "virtwire_xdr.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A client connection (opaque). */
typedef struct virtwire_client virtwire_client;

/* virtwire_client_options.flags */
/** Open read-only: the -sock-ro socket, and CONNECT_OPEN with
 *  VIR_CONNECT_RO (1). */
#define VIRTWIRE_CLIENT_READONLY 0x1u
/** The URI names a daemon's admin socket (libvirtd:///system,
 *  virtqemud:///session ...): the handshake is ADMIN_PROC_CONNECT_OPEN on
 *  the admin program. */
#define VIRTWIRE_CLIENT_ADMIN 0x2u
/** No handshake at all: the connection is usable for raw calls as soon as
 *  it is connected (tests, or a peer that is not a libvirt daemon). */
#define VIRTWIRE_CLIENT_NO_OPEN 0x4u
/** Learn the daemon's libvirt release right after the handshake
 *  (CONNECT_GET_LIB_VERSION; ADMIN_PROC_CONNECT_GET_LIB_VERSION on admin
 *  connections) and keep it for virtwire_client_lib_version() and
 *  virtwire_client_check_since().  A failure of that call fails the
 *  connect.  Without this flag nothing is asked until one of those two
 *  functions needs it. */
#define VIRTWIRE_CLIENT_LIB_VERSION 0x8u
/** VIRTWIRE_CLIENT_LIB_VERSION, and every call, asynchronous call and
 *  stream call checks first that the daemon's release is not older than
 *  the one the procedure exists since (virtwire_proc.since): when it is,
 *  the call returns VIRTWIRE_EUNSUPPORTED without sending anything (as if
 *  the daemon had answered "unknown procedure");
 *  virtwire_client_check_since() says why. */
#define VIRTWIRE_CLIENT_CHECK_SINCE 0x10u

/** A timeout of no limit: virtwire_call_opts.timeout_ms,
 *  virtwire_client_options.call_timeout_ms, and the timeouts of
 *  virtwire_client_stream_recv() and virtwire_client_stream_finish() (any
 *  negative value means the same).  A timeout of 0 is the default. */
#define VIRTWIRE_TIMEOUT_FOREVER (-1)

/**
 * What is told of a failure: rc, the function's return value, and message,
 * what virtwire_error_message() says of it (the daemon's words for its
 * errors, the socket and errno for a connection that failed).  Called on
 * the thread of the function that failed, before it returns.
 */
typedef void (*virtwire_error_fn)(int rc, const char *message, void *opaque);

/**
 * A virtwire_error_fn for programs that stop at the first failure, as a
 * script stops at an exception: prints "PROG: error: MESSAGE" on stderr
 * (PROG: opaque, a string, when not NULL) and exits with status 1.
 */
void virtwire_exit_on_error(int rc, const char *message, void *opaque);

/** A virtwire_error_fn that does nothing: the call's own on_error when the
 *  client's must not see that call's failure (an error the program
 *  expects and handles). */
void virtwire_error_ignore(int rc, const char *message, void *opaque);

/** Connection options.  Set size to sizeof the structure and leave what
 *  is not used zero (see "Structures that can grow" in
 *  docs/reference.md), as VIRTWIRE_CLIENT_OPTIONS() does; NULL means all
 *  defaults. */
typedef struct virtwire_client_options {
    /** sizeof(virtwire_client_options) as the caller was compiled. */
    size_t size;
    unsigned int flags; /**< VIRTWIRE_CLIENT_* */
    /** Timeout of calls whose virtwire_call_opts.timeout_ms is 0 (or that
     *  pass no options), and of stream waits given 0, in milliseconds;
     *  0 or VIRTWIRE_TIMEOUT_FOREVER: no limit, as in libvirt's client (a
     *  dead daemon is still noticed by keepalive, when it is on). */
    int call_timeout_ms;
    /** Timeout of each handshake call; 0 gives 30000. */
    int open_timeout_ms;
    /** Own keepalive PINGs every keepalive_interval_ms of silence, giving
     *  up after keepalive_count unanswered ones (libvirt's client: 5000 and
     *  5).  0: no own PINGs.  They start only when the daemon says it
     *  supports keepalive (CONNECT_SUPPORTS_FEATURE 10); the daemon's PINGs
     *  are always answered. */
    unsigned int keepalive_interval_ms;
    /** See keepalive_interval_ms. */
    unsigned int keepalive_count;
    /** The name sent in CONNECT_OPEN instead of the one derived from the
     *  URI (virtwire_uri_open_name()); with virtwire_client_adopt(), NULL
     *  sends a null name (the daemon picks its default driver). */
    const char *open_name;
    /** Flags sent in CONNECT_OPEN (or ADMIN_PROC_CONNECT_OPEN) besides
     *  VIR_CONNECT_RO, which VIRTWIRE_CLIENT_READONLY adds. */
    unsigned int open_flags;
    /** Opens +tls URIs: libvirtwire_tls's virtwire_tls_opener (or an
     *  opener of the caller's).  NULL: +tls URIs fail with
     *  VIRTWIRE_EUNSUPPORTED_TRANSPORT. */
    const virtwire_channel_opener *tls;
    /** Authentication methods besides polkit, which is built in
     *  (virtwire_session.h): libvirtwire_sasl's, or the caller's;
     *  NULL-terminated, NULL for none. */
    const struct virtwire_auth_method *const *auth_methods;
    /** When not NULL: if connecting fails, what failed, in libvirt's
     *  words where libvirt has some (the socket and errno, ssh's own
     *  message, the certificate check, the daemon's error), NUL-terminated
     *  in errbuf_len bytes. */
    char *errbuf;
    size_t errbuf_len; /**< room in errbuf */
    /** When not NULL and connecting fails because of an error reply of the
     *  daemon's (VIRTWIRE_EREMOTE, VIRTWIRE_EUNSUPPORTED, or VIRTWIRE_EAUTH
     *  for a refused authentication: "no connection driver available for
     *  qemu:///system", "authentication failed..."), that error, as calls
     *  return it: decoded on the heap, for virNetMessageError_free();
     *  zeroed in every other case. */
    virNetMessageError *error;
    /** When not NULL, told of every failure of the connection's setup and,
     *  unless a call's own virtwire_call_opts.on_error is set, of the
     *  client's synchronous functions: virtwire_client_connect() (and
     *  _adopt()), virtwire_client_call() and the typed calls,
     *  virtwire_client_call_reply(), virtwire_client_stream_call(),
     *  virtwire_client_register_event(), virtwire_client_next_event(); as
     *  libvirt's virConnSetErrorFunc() is.  virtwire_exit_on_error() makes a
     *  program stop at the first failure. */
    virtwire_error_fn on_error;
    void *on_error_opaque; /**< what on_error gets as opaque */
} virtwire_client_options;

/** An initializer of virtwire_client_options with its size set and the
 *  members given set (C, or C++20):
 *  `virtwire_client_options o = VIRTWIRE_CLIENT_OPTIONS(.flags = VIRTWIRE_CLIENT_READONLY);` */
#define VIRTWIRE_CLIENT_OPTIONS(...) { .size = sizeof(virtwire_client_options), __VA_ARGS__ }

/**
 * Connects to the daemon a libvirt URI designates, as libvirt's remote
 * driver does (virtwire_channel_open_uri(): unix and TCP sockets, ssh and
 * ext child processes, TLS with opts->tls), takes the channel through its
 * handshake, starts the I/O thread and opens the session (unless
 * VIRTWIRE_CLIENT_NO_OPEN): authentication, keepalive and CONNECT_OPEN for
 * remote URIs, ADMIN_PROC_CONNECT_OPEN {open_flags} with
 * VIRTWIRE_CLIENT_ADMIN (see virtwire_session.h).  open_timeout_ms bounds
 * the channel's handshake and each of the session's calls.
 *
 * On success *out is a client to close with virtwire_client_close().
 * Returns 0 or a negative error (the URI's, the channel's, a session
 * call's error, VIRTWIRE_EAUTH, VIRTWIRE_ENOMEM; when the connection died
 * during the handshake, why, as virtwire_client_error() says); *out is
 * NULL then, and opts->errbuf says what failed.
 */
int virtwire_client_connect(const char *uri, const virtwire_client_options *opts,
                            virtwire_client **out);

/**
 * The same over an already connected socket, which the client takes over
 * in every case (it is closed on failure).  is_unix: non-zero for a unix
 * socket (fds may be passed).  The handshake is the remote one unless
 * opts->flags has VIRTWIRE_CLIENT_ADMIN or VIRTWIRE_CLIENT_NO_OPEN.
 */
int virtwire_client_adopt(int fd, int is_unix, const virtwire_client_options *opts,
                          virtwire_client **out);

/**
 * The same over a channel of the caller's (virtwire_channel.h), which the
 * client takes over in every case: it is taken through its handshake
 * first, bounded by opts->open_timeout_ms.  fds pass when the channel
 * carries them.
 */
int virtwire_client_adopt_channel(virtwire_channel *ch, const virtwire_client_options *opts,
                                  virtwire_client **out);

/**
 * Closes the client: sends CONNECT_CLOSE (ADMIN_PROC_CONNECT_CLOSE) if the
 * handshake opened the connection and it is still alive (waiting 2 s at
 * most), shuts the socket down, joins the I/O thread, fails whatever is
 * still in flight with VIRTWIRE_ECLOSED (asynchronous callbacks run before
 * this returns), and frees everything.  Open streams must have been
 * released with virtwire_client_stream_free() before.  Must not be called
 * from a client callback.  NULL is fine.
 */
void virtwire_client_close(virtwire_client *c);

/** 0 while the connection is alive; afterwards why it died:
 *  VIRTWIRE_ECLOSED (hang-up or local close), VIRTWIRE_EIO, VIRTWIRE_ENOMEM,
 *  or the transport's fatal error (VIRTWIRE_EKEEPALIVE,
 *  VIRTWIRE_EREPLY_SERIAL ...). */
int virtwire_client_error(const virtwire_client *c);

/* ------------------------------------------------------------------------ */
/* The daemon's release                                                     */
/* ------------------------------------------------------------------------ */

/**
 * The daemon's libvirt release (VIRTWIRE_LIBVIRT_VERSION(): major *
 * 1000000 + minor * 1000 + micro) in *version.  Learnt at connect with
 * VIRTWIRE_CLIENT_LIB_VERSION; otherwise asked now, once
 * (CONNECT_GET_LIB_VERSION, or ADMIN_PROC_CONNECT_GET_LIB_VERSION on admin
 * connections), and kept.  Returns 0, or the error of that call, or
 * VIRTWIRE_ERANGE when the daemon answers 0 or a number beyond libvirt's
 * encoding (2^32 and up); *version is then 0.  Not from a client callback (VIRTWIRE_EINVAL when
 * it would have to call).
 */
int virtwire_client_lib_version(virtwire_client *c, uint32_t *version);

/**
 * Whether the daemon is recent enough for procedure proc of prog: 0 when
 * its release (virtwire_client_lib_version()) is not older than the
 * procedure's (virtwire_proc.since), or when the procedure's release is
 * unknown (0); VIRTWIRE_EUNSUPPORTED when it is older, with why (if not
 * NULL, size whylen) set to "procedure REMOTE_PROC_X needs libvirt A.B.C,
 * the daemon runs D.E.F"; VIRTWIRE_EINVAL for a procedure prog lacks; or
 * the error of learning the daemon's release.  Sends nothing but that one
 * call, and only the first time.  A release marked
 * VIRTWIRE_PROC_SINCE_INFERRED is a lower bound: a daemon that passes may
 * still not know the procedure.
 */
int virtwire_client_check_since(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                                char *why, size_t whylen);

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * Options and extra results of one call.  Set size to sizeof the structure
 * and leave what is not used zero, e.g. `{ .size = sizeof o, .arena = &a }`
 * or `VIRTWIRE_CALL_OPTS(.arena = &a)`: zero members are the defaults
 * (heap mode, the client's timeout, no fds, no error details), as is a
 * NULL virtwire_call_opts.  A size that cannot be valid makes the call
 * return VIRTWIRE_EINVAL.
 */
typedef struct virtwire_call_opts {
    /** sizeof(virtwire_call_opts) as the caller was compiled. */
    size_t size;
    /** Where ret (and *error) are decoded.  NULL: heap mode, release them
     *  with the type's _free() (virNetMessageError_free() for *error).  The
     *  arena is written by the I/O thread while the call is in flight:
     *  nothing else may use it meanwhile. */
    virtwire_arena *arena;
    /** Milliseconds to wait for the reply: 0 for the client's default
     *  (virtwire_client_options.call_timeout_ms), VIRTWIRE_TIMEOUT_FOREVER
     *  for no limit.  On expiry the call returns VIRTWIRE_ETIMEDOUT; a
     *  reply arriving later is discarded. */
    int timeout_ms;
    /** fds sent with a procedure flagged VIRTWIRE_PROC_FDS_CALL
     *  (CALL_WITH_FDS; at most 32), borrowed for the duration of the call.
     *  Any fds make the call a CALL_WITH_FDS. */
    const int *fds;
    size_t nfds; /**< number of fds */
    /** fds received with a REPLY_WITH_FDS: up to ret_fds_max go into
     *  ret_fds (nret_fds says how many; the caller owns them, close-on-exec
     *  set); any beyond that are closed. */
    int *ret_fds;
    size_t ret_fds_max; /**< room in ret_fds */
    size_t nret_fds;    /**< set by the call: fds stored in ret_fds */
    /** When not NULL and the call returns VIRTWIRE_EREMOTE or
     *  VIRTWIRE_EUNSUPPORTED because of a remote_error, the decoded error;
     *  zeroed otherwise.  Allocated like ret. */
    virNetMessageError *error;
    /** When not NULL, told of this call's failure instead of the client's
     *  on_error (virtwire_error_ignore() to tell nobody). */
    virtwire_error_fn on_error;
    void *on_error_opaque; /**< what on_error gets as opaque */
    /** VIRTWIRE_CALL_* */
    unsigned int flags;
} virtwire_call_opts;

/** An initializer of virtwire_call_opts with its size set and the members
 *  given set (C, or C++20), e.g.
 *  `virtwire_call_opts o = VIRTWIRE_CALL_OPTS(.arena = &arena, .error = &err);` */
#define VIRTWIRE_CALL_OPTS(...) { .size = sizeof(virtwire_call_opts), __VA_ARGS__ }

/**
 * What a call's failure says, for people: the daemon's message when rc
 * is VIRTWIRE_EREMOTE or VIRTWIRE_EUNSUPPORTED and error (the call's
 * virtwire_call_opts.error, may be NULL) holds one ("Domain not found: no
 * domain with matching name 'x'"), else virtwire_strerror(rc).  The text
 * lives as long as error's (or forever).
 */
const char *virtwire_error_message(int rc, const virNetMessageError *error);

/* virtwire_call_opts.flags */
/**
 * The connection reads nothing past this call's reply (ok or error) until
 * virtwire_client_wrap_channel() (NULL fn: just resume): for an
 * authentication method whose last reply may switch the channel to a
 * security layer, so that no byte sent after that reply is taken as a
 * frame.  Synchronous calls only; the caller must resume in every case.
 */
#define VIRTWIRE_CALL_HOLD_INPUT 0x1u

/**
 * Calls procedure proc of program prog (a generated table such as
 * remote_program or admin_program) and waits for its reply.
 *
 * args points to the procedure's args type (NULL when it has none); ret to
 * its ret type, which is filled on success (may be NULL to ignore the
 * result, or when there is none).  Returns:
 *   0                       success, ret filled;
 *   VIRTWIRE_EREMOTE        the daemon answered with a remote_error (see
 *                           opts->error);
 *   VIRTWIRE_EUNSUPPORTED   the daemon does not know the procedure (its
 *                           error is VIR_ERR_RPC "unknown procedure...",
 *                           which libvirt reports as VIR_ERR_NO_SUPPORT);
 *                           with VIRTWIRE_CLIENT_CHECK_SINCE, also before
 *                           sending, for a procedure newer than the
 *                           daemon's release;
 *   VIRTWIRE_ETIMEDOUT      no reply within the timeout;
 *   VIRTWIRE_ECLOSED        the connection is (or went) dead;
 *   VIRTWIRE_EINVAL         unknown procedure in prog, an event procedure,
 *                           or a call from a client callback;
 *   VIRTWIRE_EFDPASS        fds given on a connection that cannot carry
 *                           them (TCP, TLS, SSH): nothing is sent;
 *   a codec error           args do not encode, or the reply does not
 *                           decode (ret is then untouched in heap mode);
 *   VIRTWIRE_EMSG_STATUS, VIRTWIRE_EMSG_COMBINATION, VIRTWIRE_EPAYLOAD
 *                           the reply has a status libvirt does not allow
 *                           in a reply, or an error payload that does not
 *                           decode (the transport refused it; the
 *                           connection stays usable);
 *   a transport error       e.g. VIRTWIRE_EFRAME_LENGTH for huge args.
 */
int virtwire_client_call(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                         const void *args, void *ret, virtwire_call_opts *opts);

/**
 * Calls procedure proc as virtwire_client_call() does and returns its
 * reply, or NULL when the call failed (its error told to on_error, and to
 * opts->error): a reply allocated in opts->arena, or with no arena on the
 * heap (release it with the type's _free(), then free()).  For a program
 * that lets on_error handle failures (virtwire_exit_on_error()), a call is
 * an expression:
 *
 * @code
 *   printf("%s
", remote_reply_connect_get_hostname(c, &o)->hostname);
 * @endcode
 *
 * The generated `MODULE_client.h` wraps it per procedure with a reply
 * (remote_reply_...()).  NULL also for a procedure without a reply
 * (VIRTWIRE_EINVAL).
 */
void *virtwire_client_call_reply(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                                 const void *args, virtwire_call_opts *opts);

/** What an asynchronous call's callback gets. */
typedef struct virtwire_call_result {
    int rc; /**< as virtwire_client_call() returns */
    /** The decoded ret (rc == 0 and the procedure has one), else NULL.
     *  Arena mode: lives in the arena.  Heap mode: freed after the callback
     *  returns, unless the callback sets *steal_ret to 1 (it then owns ret
     *  and frees it with the type's _free() and free()). */
    void *ret;
    /** Heap mode: set *steal_ret to 1 to keep ret (see ret). */
    int *steal_ret;
    /** The remote_error (rc VIRTWIRE_EREMOTE or VIRTWIRE_EUNSUPPORTED from
     *  an error reply), else NULL; valid during the callback only. */
    const virNetMessageError *error;
    /** fds of a REPLY_WITH_FDS: owned by the callback, which closes them. */
    const int *fds;
    size_t nfds; /**< number of fds */
} virtwire_call_result;

/** An asynchronous call's completion callback (on the I/O thread). */
typedef void (*virtwire_client_done_fn)(virtwire_client *c, const virtwire_call_result *r,
                                        void *opaque);

/**
 * Sends a call and returns without waiting: done runs exactly once on the
 * I/O thread (possibly before this function returns) with the outcome.
 * opts may be NULL; its arena, timeout_ms and fds are used as for
 * virtwire_client_call() (the timeout is enforced by the I/O thread);
 * ret_fds, error are ignored (see virtwire_call_result).  Returns 0 when
 * the call was sent (done will run), or an error (done will not run).
 */
int virtwire_client_call_async(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                               const void *args, const virtwire_call_opts *opts,
                               virtwire_client_done_fn done, void *opaque);

/**
 * After a call made with VIRTWIRE_CALL_HOLD_INPUT returned: with fn, puts
 * a new channel over the connection's (virtwire_conn_wrap_channel(): a
 * SASL security layer), which then carries every byte both ways, input
 * read past the reply included; with fn NULL, only resumes reading.
 * Either way reading goes on.  Returns 0, or fn's error (the connection
 * keeps its channel and reading resumes), VIRTWIRE_EFDPASS, VIRTWIRE_ECLOSED
 * or VIRTWIRE_EINVAL (from a client callback).  For authentication
 * methods (virtwire_session.h), before anything else is sent.
 */
int virtwire_client_wrap_channel(virtwire_client *c, virtwire_conn_wrap_fn fn, void *opaque);

/** The client's channel (owned by the client), to look at only: its kind,
 *  fd (addresses) and security strength factor (virtwire_channel_ssf()). */
virtwire_channel *virtwire_client_channel(virtwire_client *c);

/* ------------------------------------------------------------------------ */
/* Events and connection death                                              */
/* ------------------------------------------------------------------------ */

/** An event: msg is the decoded _msg value of the procedure, valid during
 *  the call only. */
typedef void (*virtwire_client_event_fn)(virtwire_client *c, const virtwire_program *prog,
                                         int32_t proc, const void *msg, void *opaque);

/**
 * Calls fn for every MESSAGE frame of procedure proc of program prog (a
 * procedure flagged VIRTWIRE_PROC_MESSAGE).  Several handlers may be
 * registered for one procedure: they run in registration order.  Messages
 * of procedures nobody handles, or that do not decode, are dropped (one
 * there is no memory for kills the connection, see "Out of memory").  The
 * daemon only sends events after a registration call (e.g.
 * REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY): register the
 * handler first, or let virtwire_client_register_event() do both.
 * With fn NULL the messages are kept instead, in arrival order, until
 * virtwire_client_next_event() takes them on the caller's thread.
 * Returns a handler id (> 0) for
 * virtwire_client_remove_event(), VIRTWIRE_EINVAL (not an event
 * procedure) or VIRTWIRE_ENOMEM.
 */
int virtwire_client_on_event(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                             virtwire_client_event_fn fn, void *opaque);

/**
 * Registers for events with the daemon and binds a handler to them in one
 * step, as libvirt's virConnectDomainEventRegisterAny() does: calls
 * register_proc (a procedure whose reply starts with `int callbackID`, such
 * as REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY) with args and
 * opts as virtwire_client_call() would, and calls fn for exactly the
 * messages of event_proc (an event whose message starts with `int
 * callbackID`) that carry the callbackID of the reply.  The generated
 * `MODULE_client.h` wraps this per event (remote_register_...()).
 *
 * No event is lost between the reply and the binding: the handler exists,
 * keeping every event_proc message, before the call is sent; when the
 * reply comes, the kept messages that carry its callbackID run first, in
 * the order they arrived (including any the daemon sent before its reply),
 * and the others are dropped; from then on the handler sees only its own
 * callbackID.  fn runs on the I/O thread like every event handler, possibly
 * before this function returns.  With fn NULL the messages of the
 * callbackID are kept for virtwire_client_next_event() instead.
 *
 * On success *callback_id (if not NULL) is the daemon's callbackID (for
 * the matching deregistration call) and the return value is the handler id
 * for virtwire_client_remove_event(), > 0.  Otherwise a negative error as
 * virtwire_client_call() returns (VIRTWIRE_EINVAL also for procedures that
 * do not fit, or a call from a client callback), and no handler remains;
 * after VIRTWIRE_ETIMEDOUT the daemon may hold a registration nobody knows.
 */
int virtwire_client_register_event(virtwire_client *c, const virtwire_program *prog,
                                   int32_t register_proc, const void *args, int32_t event_proc,
                                   virtwire_client_event_fn fn, void *opaque,
                                   virtwire_call_opts *opts, int *callback_id);

/**
 * Takes the next message kept by the handler id, one registered without a
 * function (virtwire_client_on_event() or virtwire_client_register_event()
 * with fn NULL), waiting for one as long as opts->timeout_ms says (0: the
 * client's default; VIRTWIRE_TIMEOUT_FOREVER): events handled in the
 * program's own thread, in the order they came, as python3-libvirt's
 * virEventRunDefaultImpl() dispatches them.  msg points to the event's
 * message type (remote_domain_event_callback_lifecycle_msg ...), decoded
 * into opts->arena (NULL: the heap, released with the type's _free()).
 * Returns 0; VIRTWIRE_ETIMEDOUT; VIRTWIRE_ECLOSED once the connection is
 * dead and nothing is kept; VIRTWIRE_EINVAL for an unknown id, a handler
 * with a function, or a call from a client callback; VIRTWIRE_ENOMEM (the
 * message is lost).  The generated `MODULE_client.h` wraps it per event
 * (remote_next_...()).
 */
int virtwire_client_next_event(virtwire_client *c, int id, void *msg,
                               const virtwire_call_opts *opts);

/** Removes a handler (and what it keeps).  When this returns, the handler
 *  is not running and will not run again (unless called from the handler
 *  itself, which is allowed).  Returns 0 or VIRTWIRE_EINVAL (unknown id). */
int virtwire_client_remove_event(virtwire_client *c, int id);

/** reason: why the connection died, as virtwire_client_error(). */
typedef void (*virtwire_client_close_fn)(virtwire_client *c, int reason, void *opaque);

/** Sets the callback run (once, on the I/O thread) when the connection
 *  dies; not run for virtwire_client_close().  NULL removes it. */
void virtwire_client_on_close(virtwire_client *c, virtwire_client_close_fn fn, void *opaque);

/* ------------------------------------------------------------------------ */
/* Streams                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * A client's handle on an open stream.
 *
 * A stream procedure (flagged VIRTWIRE_PROC_STREAM_READ or _WRITE:
 * DOMAIN_SCREENSHOT, STORAGE_VOL_UPLOAD, ...) starts with an ordinary call
 * whose later packets share its serial.  virtwire_client_stream_call()
 * makes the call, opens the stream and returns a handle:
 *
 *   read streams (daemon to client): virtwire_client_stream_recv() until it
 *   returns 0 (end of data), then virtwire_client_stream_finish();
 *   write streams: virtwire_client_stream_send() (and _send_hole() on
 *   sparse ones), then virtwire_client_stream_finish(), which sends the
 *   end and waits for the daemon's confirmation;
 *   either way virtwire_client_stream_abort() gives up, and
 *   virtwire_client_stream_free() releases the handle.
 *
 * A stream handle is for one thread at a time.
 */
typedef struct virtwire_client_stream virtwire_client_stream;

/** What virtwire_client_stream_recv() returns for a hole (larger than any
 *  byte count it returns). */
#define VIRTWIRE_CLIENT_STREAM_HOLE 0x7fffffff

/**
 * Calls a stream procedure like virtwire_client_call() and, when it
 * succeeds, returns the open stream in *out.  Packets the daemon sends
 * before the reply are kept.  Returns what virtwire_client_call() returns,
 * VIRTWIRE_EINVAL for a procedure that opens no stream, or VIRTWIRE_ENOMEM
 * when the call succeeded but there is no memory to follow its stream (the
 * daemon's stream is then aborted, and ret released in heap mode).
 */
int virtwire_client_stream_call(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                                const void *args, void *ret, virtwire_call_opts *opts,
                                virtwire_client_stream **out);

/**
 * Receives the next data of a read stream into buf (at most len bytes),
 * waiting at most timeout_ms (0: the client's default;
 * VIRTWIRE_TIMEOUT_FOREVER: no limit).
 * Returns the number of bytes (> 0), 0 at the end of the data, or
 * VIRTWIRE_ETIMEDOUT, VIRTWIRE_ECLOSED, VIRTWIRE_EREMOTE (the daemon
 * aborted the stream; its error in *error when error is not NULL, heap
 * mode), VIRTWIRE_EINVAL.  On a sparse stream a hole comes back as
 * VIRTWIRE_CLIENT_STREAM_HOLE with its length in *hole (data never crosses
 * a hole); hole may be NULL on streams without holes (a hole then gives
 * VIRTWIRE_EINVAL and is skipped).  Streams of procedures flagged
 * VIRTWIRE_PROC_STREAM_SPARSE accept holes whatever the call's flags said.
 */
long virtwire_client_stream_recv(virtwire_client_stream *s, void *buf, size_t len,
                                 int64_t *hole, int timeout_ms, virNetMessageError *error);

/** Sends len bytes of data (split into packets as libvirt does). */
int virtwire_client_stream_send(virtwire_client_stream *s, const void *data, size_t len);

/** Sends a hole of length bytes (sparse write streams only). */
int virtwire_client_stream_send_hole(virtwire_client_stream *s, int64_t length);

/**
 * Finishes the stream: a write stream sends its end and waits (timeout_ms
 * as for recv) for the daemon's confirmation; a read stream must have
 * received its end (recv returned 0) and sends the confirmation.  Returns
 * 0, VIRTWIRE_EREMOTE (the daemon's error in *error if not NULL, heap
 * mode), VIRTWIRE_ETIMEDOUT, VIRTWIRE_ECLOSED or VIRTWIRE_EINVAL.
 */
int virtwire_client_stream_finish(virtwire_client_stream *s, int timeout_ms,
                                  virNetMessageError *error);

/** Aborts the stream (a client abort; packets still arriving are dropped).
 *  Returns 0 or VIRTWIRE_ECLOSED. */
int virtwire_client_stream_abort(virtwire_client_stream *s);

/** Releases the handle (aborting the stream if it is still open). */
void virtwire_client_stream_free(virtwire_client_stream *s);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_CLIENT_H */
