/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * virtwire connections: a sans-I/O transport (virtwire_transport.h) bound
 * to a non-blocking channel (virtwire_channel.h): a unix or TCP socket, an
 * ssh child process, a TLS session, or any channel of the caller's.
 *
 * The connection owns the channel and the transport.  It provides the
 * transport's on_send: each frame is written at once when the channel
 * takes it, and whatever it does not take is queued (copied) and written
 * later by virtwire_conn_process() or virtwire_conn_flush().  Received
 * bytes and fds are fed to the transport, whose callbacks fire inside
 * process().  A channel with a handshake of its own (TLS) goes through it
 * first, inside process() or virtwire_conn_handshake(); frames sent
 * meanwhile wait in the queue.
 *
 * Driving a connection from any event loop:
 *
 * @code
 *   struct pollfd p = { virtwire_conn_fd(c), virtwire_conn_events(c), 0 };
 *   poll(&p, 1, timeout);
 *   rc = virtwire_conn_process(c, p.revents);   // 0, or the connection is over
 * @endcode
 *
 * or, blocking, virtwire_conn_run_once(c, timeout_ms).
 *
 * File descriptors (channels that carry them: unix sockets only) go
 * exactly as with libvirt: all the
 * bytes of a frame first, then one sendmsg() per fd carrying one '\0' byte
 * and one SCM_RIGHTS message.  The receiving side reads as much as the
 * socket has in one recvmsg() (MSG_CMSG_CLOEXEC), frames after frames:
 * Linux ends a read of a stream socket right after bytes that carry fds, so
 * each fd arrives with the read that ends with its dummy byte, and waits
 * until the transport asks for it.  A plain byte where an fd is due is
 * VIRTWIRE_EFD_MISSING; an fd nobody asked for is closed, and so is every
 * fd but the first of a message that carries several.  Received fds
 * belong to the transport (see virtwire_transport_msg).  Sending fds over a
 * TCP connection fails: on_send returns VIRTWIRE_EINVAL, so the transport's
 * send function returns VIRTWIRE_ESEND.
 *
 * Output queue: there is no cap.  What the socket does not take at once is
 * copied into the queue, with a dup() of each fd still to send; the caller
 * controls what it sends, and should watch virtwire_conn_pending_output()
 * (e.g. stop writing stream data above some amount until process() or
 * flush() has drained it).  When the queue cannot take a frame (out of
 * memory, or no fd left for a dup()), writing is over as after a write
 * error, with VIRTWIRE_ENOMEM or VIRTWIRE_EIO as the error: a frame lost
 * whole, a reply say, would leave the peer waiting for it.  The
 * transport's send function then returns VIRTWIRE_ESEND, and
 * virtwire_conn_write_error() says why.
 *
 * Errors are sticky: once process() has returned VIRTWIRE_ECLOSED,
 * VIRTWIRE_EIO, VIRTWIRE_ENOMEM or a fatal transport error, every later
 * call returns it again; the only thing left to do is virtwire_conn_free().
 * A write failure is reported after the bytes already received have been
 * fed to the transport (the peer's last replies are not lost).  EPIPE and
 * ECONNRESET count as the peer hanging up: VIRTWIRE_ECLOSED.
 *
 * Threads: a connection is not thread-safe, like its transport: one thread
 * at a time calls process(), run_once(), flush() and the transport's
 * functions (sending included: on_send writes to the socket).  The one
 * exception is virtwire_conn_shutdown(), which any thread may call at any
 * time, e.g. to wake a thread blocked in run_once() or in its own poll().
 * Callbacks must not call virtwire_conn_free(), process(), run_once() or
 * flush() on their own connection.
 *
 * SIGPIPE is never raised: every write uses MSG_NOSIGNAL.
 */
#ifndef VIRTWIRE_CONN_H
#define VIRTWIRE_CONN_H

#include <stddef.h>

#include "virtwire_channel.h"
#include "virtwire_error.h"
#include "virtwire_transport.h"
#include "virtwire_uri.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A connection: a socket and its transport (opaque). */
typedef struct virtwire_conn virtwire_conn;

/*
 * Creating a connection.  Each function creates the transport in role with
 * cbs (NULL for none; its size set as for virtwire_transport_new()):
 * cbs->on_send is ignored (the connection provides it); on_error,
 * on_keepalive_dead and clock_ms are called with opaque, as if they had been
 * given to virtwire_transport_new() directly.  The socket is non-blocking
 * and close-on-exec.  On failure *out is NULL and the code is one of
 * VIRTWIRE_EINVAL, VIRTWIRE_ENOMEM or VIRTWIRE_EIO (errno says why).
 */

/** Connects to the unix socket at path (VIRTWIRE_EINVAL when it does not
 *  fit in sun_path). */
int virtwire_conn_connect_unix(const char *path, virtwire_transport_role role,
                               const virtwire_transport_callbacks *cbs, void *opaque,
                               virtwire_conn **out);

/** Connects over TCP to host (a name or an address) and port (1-65535),
 *  trying each address getaddrinfo() gives in turn; sets TCP_NODELAY.
 *  A name that does not resolve gives VIRTWIRE_EIO with errno ENOENT (or
 *  the system's errno for EAI_SYSTEM). */
int virtwire_conn_connect_tcp(const char *host, int port, virtwire_transport_role role,
                              const virtwire_transport_callbacks *cbs, void *opaque,
                              virtwire_conn **out);

/** Adopts a connected stream socket (accepted, or one end of a
 *  socketpair): makes it non-blocking and close-on-exec.  is_unix says
 *  whether fds may pass (TCP_NODELAY is set when it is not).  Takes
 *  ownership of fd: it is closed on error too.  The same as
 *  virtwire_channel_socket_new() then virtwire_conn_adopt_channel(). */
int virtwire_conn_adopt(int fd, int is_unix, virtwire_transport_role role,
                        const virtwire_transport_callbacks *cbs, void *opaque,
                        virtwire_conn **out);

/** Runs the transport over a channel, which the connection takes over in
 *  every case (freed on error too).  A channel with a handshake goes
 *  through it before any frame (see virtwire_conn_handshake()). */
int virtwire_conn_adopt_channel(virtwire_channel *ch, virtwire_transport_role role,
                                const virtwire_transport_callbacks *cbs, void *opaque,
                                virtwire_conn **out);

/**
 * Connects to the daemon a libvirt URI designates, as
 * virtwire_channel_open_uri() reaches it (unix and TCP sockets, ssh and ext
 * child processes, TLS through params->tls), and runs the transport over
 * the channel.  The channel may still have its handshake to do: see
 * virtwire_conn_handshake().  Returns 0, or the code of what failed, with
 * params->errbuf saying what.  The name to send in CONNECT_OPEN is the
 * caller's business: virtwire_uri_open_name().
 */
int virtwire_conn_connect_with(const virtwire_uri *uri, const virtwire_connect_params *params,
                               virtwire_transport_role role,
                               const virtwire_transport_callbacks *cbs, void *opaque,
                               virtwire_conn **out);

/** The same with flags only (VIRTWIRE_URI_READONLY, VIRTWIRE_URI_ADMIN,
 *  VIRTWIRE_URI_DIRECT_FALLBACK): +tls URIs then give
 *  VIRTWIRE_EUNSUPPORTED_TRANSPORT. */
int virtwire_conn_connect_parsed_uri(const virtwire_uri *uri, unsigned flags,
                                     virtwire_transport_role role,
                                     const virtwire_transport_callbacks *cbs, void *opaque,
                                     virtwire_conn **out);

/** The same from the text of a URI. */
int virtwire_conn_connect_uri(const char *uri, unsigned flags, virtwire_transport_role role,
                              const virtwire_transport_callbacks *cbs, void *opaque,
                              virtwire_conn **out);

/* ------------------------------------------------------------------------ */

/** The connection's transport (owned by the connection). */
virtwire_transport *virtwire_conn_transport(virtwire_conn *c);

/** The channel's fd, for the caller's poll(); do not read, write or close
 *  it. */
int virtwire_conn_fd(const virtwire_conn *c);

/** Whether the connection carries fds: its channel is a local unix
 *  socket (VIRTWIRE_CHANNEL_FDS). */
int virtwire_conn_is_unix(const virtwire_conn *c);

/** The connection's channel (owned by the connection). */
virtwire_channel *virtwire_conn_channel(virtwire_conn *c);

/**
 * Blocking: takes the channel through its handshake (TLS, with libvirt's
 * confirmation byte), waiting up to timeout_ms in all (-1: no limit).
 * Returns 0 once the channel is ready (at once for channels without a
 * handshake), VIRTWIRE_ETIMEDOUT, or the channel's error (sticky, as
 * process() returns it); virtwire_channel_error_detail() may say more.
 * A non-blocking caller gets the same from process() and events(), which
 * drive the handshake until it is done.
 */
int virtwire_conn_handshake(virtwire_conn *c, int timeout_ms);

/** The poll() events the connection waits for: POLLIN unless it is closed
 *  or failed (then 0), and POLLOUT while output is queued. */
short virtwire_conn_events(const virtwire_conn *c);

/**
 * One non-blocking step: writes queued output, then reads (when revents
 * has POLLIN, POLLHUP or POLLERR, or is 0, which means "try") what the
 * transport needs until the socket has no more (or, level-triggered, see
 * virtwire_conn_set_level_triggered()), feeding the transport; its
 * callbacks fire inside.  Then writes again whatever the callbacks queued.
 *
 * Returns 0, or (sticky) VIRTWIRE_ECLOSED (end of file, even in the middle
 * of a frame; EPIPE, ECONNRESET; after virtwire_conn_shutdown()),
 * VIRTWIRE_EIO (errno, also in virtwire_conn_errno(), says why),
 * VIRTWIRE_ENOMEM (the output queue could not take a frame),
 * VIRTWIRE_EFD_MISSING (an fd was due and a plain byte came, or any fd on
 * a TCP connection), or the transport's fatal error.
 */
int virtwire_conn_process(virtwire_conn *c, short revents);

/**
 * Blocking convenience: polls for up to timeout_ms (-1: no limit) and
 * processes once.  When the transport's own keepalive PINGs are on, the
 * wait is cut short to call virtwire_transport_keepalive_tick() in time.
 * Returns 0 (also on timeout) or an error as process() does (or the
 * tick's: VIRTWIRE_EKEEPALIVE).
 */
int virtwire_conn_run_once(virtwire_conn *c, int timeout_ms);

/**
 * Blocking: writes all queued output, waiting up to timeout_ms (-1: no
 * limit).  It does not read, so a peer that stops reading while it is
 * itself blocked writing to us makes it wait for the timeout.  Returns 0,
 * VIRTWIRE_ETIMEDOUT (output still queued), or an error as process() does.
 */
int virtwire_conn_flush(virtwire_conn *c, int timeout_ms);

/**
 * Output batching: while corked (on non-zero), frames sent are queued
 * (copied) instead of written.  Uncorking writes nothing by itself: what was
 * queued goes out with the next frame sent uncorked, or by process() or
 * flush().  For a sender about to send several small frames in a row, so
 * that one write takes them all.
 */
void virtwire_conn_cork(virtwire_conn *c, int on);

/**
 * Says how the caller waits for the connection's fd.  Off (the default):
 * edge-triggered or unknown, and process() reads until the channel has
 * nothing more (a read that finds it empty, EAGAIN on a socket), since an
 * edge-triggered loop (epoll with EPOLLET) is told of new bytes only once.
 * On: level-triggered (poll(), select(), epoll without EPOLLET), which
 * reports the fd again as long as bytes wait there; then, on a channel
 * that keeps no input of its own (VIRTWIRE_CHANNEL_NO_BUFFER: the socket
 * and child channels), process() stops reading after a read shorter than
 * its buffer once the transport has taken those bytes, and leaves the
 * rest to the next poll().  That saves the read that would find the
 * socket empty after every reply: a call then costs one write, one poll()
 * and one read.  Channels that keep input of their own (TLS, SASL's
 * security layer) are read until they are empty either way: their fd may
 * show nothing while they hold decoded bytes.  A hang-up (POLLHUP,
 * POLLERR) is read to the end either way.
 */
void virtwire_conn_set_level_triggered(virtwire_conn *c, int on);

/**
 * Flow control of input: while paused (on non-zero), process() and
 * run_once() read nothing from the socket and events() has no POLLIN;
 * output is still written.  Once the peer has hung up (revents POLLHUP or
 * POLLERR, or a write failed), what it sent is read to the end anyway,
 * since nothing more can come.  A callback may pause its own connection:
 * the frames already read go on being dispatched, then reading stops, and
 * what was read past them waits in the connection.  After resuming, call
 * process() with revents 0 to feed it (the socket may have nothing new to
 * report).  For a server that must not take more calls from a client, e.g.
 * one that does not read its replies.
 */
void virtwire_conn_pause_reading(virtwire_conn *c, int on);

/** Bytes queued but not yet written, counting one per fd still to send
 *  (its dummy byte). */
size_t virtwire_conn_pending_output(const virtwire_conn *c);

/** 0 while frames can be written; afterwards the sticky error that ended
 *  writing (VIRTWIRE_ECLOSED, VIRTWIRE_EIO, VIRTWIRE_ENOMEM): why the
 *  transport's send functions fail with VIRTWIRE_ESEND. */
int virtwire_conn_write_error(const virtwire_conn *c);

/** The errno of the last VIRTWIRE_EIO or VIRTWIRE_ECLOSED caused by a
 *  system call (0 for a plain end of file). */
int virtwire_conn_errno(const virtwire_conn *c);

/**
 * shutdown(SHUT_RDWR) on the socket: the peer sees end of file, and any
 * thread blocked in poll() on the socket wakes up; later calls of process()
 * return VIRTWIRE_ECLOSED.  Safe from any thread, any number of times,
 * while another thread uses the connection (but not concurrently with
 * virtwire_conn_free()).
 */
void virtwire_conn_shutdown(virtwire_conn *c);

/* ------------------------------------------------------------------------ */
/* Changing the channel on a live connection                                */
/* ------------------------------------------------------------------------ */

/**
 * Makes a new channel from the connection's one (a security layer on top
 * of it, libvirtwire_sasl's), for virtwire_conn_wrap_channel().
 *
 * inner is the connection's channel: on success the new channel owns it
 * (frees it in its own free()); on failure it stays the connection's.
 * in[0 .. in_len) are bytes the connection read from inner past the last
 * frame it took, already in the new channel's format: the new channel
 * reads them first (copies them: they are borrowed).  clear_out is the
 * number of bytes the connection has queued but not yet written: they
 * belong to frames sent before the change, and are the first clear_out
 * bytes the connection will hand the new channel's writev(), which must
 * write them to inner unchanged.  Returns 0 or an error.
 */
typedef int (*virtwire_conn_wrap_fn)(virtwire_channel *inner, const void *in, size_t in_len,
                                     size_t clear_out, void *opaque, virtwire_channel **out);

/**
 * Holds the connection's input at a frame boundary: from a transport
 * callback, right after the frame being delivered (the transport stops
 * there, virtwire_transport_stop_receive()); otherwise at once.  While held
 * nothing more is fed to the transport and nothing read (events() has no
 * POLLIN): bytes read past the frame wait in the connection until
 * virtwire_conn_release_input() or virtwire_conn_wrap_channel().  For an
 * authentication whose last reply may switch the channel: hold before the
 * reply can arrive, then wrap or release.
 */
void virtwire_conn_hold_input(virtwire_conn *c);

/** Ends a hold; call process() with revents 0 afterwards to feed what
 *  waited (the socket may have nothing new to report).  Whether bytes wait:
 *  virtwire_conn_buffered_input(). */
void virtwire_conn_release_input(virtwire_conn *c);

/** Bytes read from the channel but not yet fed to the transport. */
size_t virtwire_conn_buffered_input(const virtwire_conn *c);

/**
 * Replaces the connection's channel with fn(channel, ...) (see
 * virtwire_conn_wrap_fn): every byte after the change goes through the
 * new channel, both ways.  Output queued before the change still goes out
 * as it was (clear_out); input read past the last frame the transport took
 * goes to the new channel (in).  Called from a transport callback, the
 * change happens right after the frame being delivered (the input is held
 * there meanwhile); otherwise at once, after virtwire_conn_hold_input()
 * made sure no byte past the boundary reached the transport.  Releases a
 * hold.  Whether fds pass follows the new channel.  Returns 0 (or, from a
 * callback, 0 and the change's own outcome later from process()),
 * VIRTWIRE_EFDPASS when fds are queued, VIRTWIRE_EINVAL, or fn's error
 * (the connection keeps its channel).  Not thread-safe: as process().
 */
int virtwire_conn_wrap_channel(virtwire_conn *c, virtwire_conn_wrap_fn fn, void *opaque);

/** Closes the socket and every fd still queued, frees the transport (which
 *  closes the received fds it holds) and the connection.  NULL is fine. */
void virtwire_conn_free(virtwire_conn *c);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_CONN_H */
