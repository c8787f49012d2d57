/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * virtwire sans-I/O transport: libvirt's RPC framing, serials, programs,
 * file descriptors, streams and keepalive as a state machine that never
 * touches a socket, a thread or a timer.
 *
 * The caller owns all I/O.  Bytes read from the peer go in through
 * virtwire_transport_receive(), fds received with SCM_RIGHTS through
 * virtwire_transport_receive_fd(); decoded messages come out through
 * callbacks, synchronously, before those calls return.  Everything the
 * transport wants to transmit comes out through the on_send callback as a
 * list of chunks (ready for writev()) plus the fds to pass after them.
 *
 * @code
 *   virtwire_transport *t;
 *   virtwire_transport_new(VIRTWIRE_TRANSPORT_CLIENT, &cbs, ctx, &t);
 *   virtwire_transport_register(t, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
 *                               &prog_cbs, ctx, &remote);
 *   serial = virtwire_transport_send(remote, REMOTE_PROC_CONNECT_OPEN,
 *                                    VIR_NET_CALL, VIR_NET_OK, 0,
 *                                    args, args_len, NULL, 0);
 *   for (;;) {                              // the caller's event loop
 *       virtwire_need need = virtwire_transport_need(t);
 *       if (need.kind == VIRTWIRE_NEED_BYTES)
 *           n = read(fd, buf, MIN(need.count, sizeof buf)); ... receive(t, buf, n)
 *       else if (need.kind == VIRTWIRE_NEED_FDS)
 *           recvmsg() one fd; virtwire_transport_receive_fd(t, newfd)
 *   }
 * @endcode
 *
 * Reading more than need().count bytes at a time is fine on a connection
 * that never carries fds; receive() consumes as many whole frames as it is
 * given.  receive() stops at the end of a frame that announces fds and will
 * not accept bytes until they have arrived.  On a unix socket that may
 * carry fds, either read at most need().count bytes, as libvirt does, or
 * read more and keep what follows the frame until its fds are fed:
 * virtwire_conn does the latter, relying on Linux ending a read of a
 * stream socket right after the bytes that carry fds.
 *
 * Threads: a transport is not thread-safe; use it from one thread at a time.
 *
 * Re-entrancy: callbacks may call the send functions, the stream and
 * keepalive functions and virtwire_transport_register(), but not
 * virtwire_transport_receive(), _receive_fd(), _keepalive_tick() or _free()
 * of the same transport (the first three return VIRTWIRE_EREENTRANT).
 * on_send itself must not send (the send functions return
 * VIRTWIRE_EREENTRANT): queue the chunks and return.
 *
 * Security: everything received is untrusted.  The transport checks the
 * length word before it buffers anything, never buffers more than one frame
 * (at most 33554432 bytes after the length word), holds at most 32 received
 * fds, and gives callbacks only frames whose header, type, status, serial
 * and stream have been checked as described below.  Payloads are handed over
 * undecoded except remote_error and stream holes.
 */
#ifndef VIRTWIRE_TRANSPORT_H
#define VIRTWIRE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "virnetprotocol.h"
#include "virtwire_error.h"
#include "virtwire_facts.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Error codes of the transport                                             */
/* ------------------------------------------------------------------------ */

/*
 * The transport's error codes (VIRTWIRE_EFRAME_LENGTH ... VIRTWIRE_EREENTRANT)
 * are part of virtwire_error in virtwire_error.h, which says for each whether
 * it is fatal: the transport then latches it (see virtwire_transport_error())
 * and refuses further input, like libvirt closing the connection; otherwise
 * the frame is dropped, reported through on_error, and receiving goes on.
 */

/*
 * What a received frame goes through, in order (libvirt's checks, from
 * virnetserver*.c and virnetclient*.c):
 *
 *   1. length word 28 .. 33554436, else EFRAME_LENGTH (fatal);
 *   2. a server reads fds after CALL_WITH_FDS only, a client after
 *      REPLY_WITH_FDS only: count word present (EFRAME_SHORT), at most 32
 *      (EFDS_MAX), both fatal; then exactly that many fds;
 *   3. type 0 .. 6, else EMSG_TYPE (fatal);
 *   4. keepalive (program 0x6b656570 v1, MESSAGE): PING answered, PONG and
 *      unknown procs ignored, any status; never reaches a program;
 *   5. the role's table (status must be one listed):
 *
 *      type             server receives           client receives
 *      CALL             OK -> on_call              refused, fatal
 *      CALL_WITH_FDS    OK -> on_call              refused, fatal
 *      REPLY            refused, dropped           OK, ERROR -> on_reply
 *      REPLY_WITH_FDS   refused, dropped           OK, ERROR -> on_reply
 *      MESSAGE          refused, dropped           OK -> on_message
 *      STREAM           OK, ERROR, CONTINUE        OK, ERROR, CONTINUE
 *                       -> on_stream               -> on_stream
 *      STREAM_HOLE      CONTINUE -> on_stream      CONTINUE -> on_stream
 *
 *      A refused type gives EMSG_ROLE, a refused status EMSG_COMBINATION
 *      (EMSG_STATUS for values libvirt does not define).
 *   6. server CALL: program and version registered with an on_call, else an
 *      ERROR reply "Cannot find program" (EPROGRAM); then the status, else
 *      an ERROR reply "Unexpected message status" (both dropped);
 *      client REPLY: a call in flight with this program, version and
 *      serial, else EREPLY_SERIAL (fatal); the call is complete from here
 *      on, whatever follows;
 *      client MESSAGE: registered program, else EPROGRAM (dropped);
 *      STREAM, STREAM_HOLE: an open stream (server: same proc too) whose
 *      peer has not sent its final packet yet, else ESTREAM (dropped);
 *      holes only on sparse streams (ESTREAM_HOLE);
 *   7. payloads decoded here, else EPAYLOAD (dropped): the remote_error of
 *      a REPLY with status ERROR (an empty one fails too), that of a
 *      STREAM with status ERROR when not empty, and holes; ENOMEM
 *      (dropped) when decoding them runs out of memory.
 *
 * Every complete frame, dropped or not, counts as keepalive liveness.
 */

/* ------------------------------------------------------------------------ */
/* Types                                                                    */
/* ------------------------------------------------------------------------ */

/** A transport: one connection's message layer (opaque). */
typedef struct virtwire_transport virtwire_transport;
/** A registered program and version: what messages are sent with. */
typedef struct virtwire_transport_program virtwire_transport_program;

/** Which side of the connection the transport is. */
typedef enum virtwire_transport_role {
    VIRTWIRE_TRANSPORT_CLIENT = 0, /**< sends calls, receives replies and events */
    VIRTWIRE_TRANSPORT_SERVER = 1, /**< receives calls, sends replies and events */
} virtwire_transport_role;

/** What the transport expects next. */
typedef enum virtwire_need_kind {
    VIRTWIRE_NEED_BYTES = 0, /**< count more bytes at least (count >= 1) */
    VIRTWIRE_NEED_FDS = 1,   /**< exactly count more fds before any byte */
    VIRTWIRE_NEED_NOTHING = 2, /**< a fatal error is latched */
} virtwire_need_kind;

/** What virtwire_transport_need() returns. */
typedef struct virtwire_need {
    virtwire_need_kind kind; /**< bytes, fds or nothing */
    size_t count;            /**< how many bytes (at least) or fds (exactly) */
} virtwire_need;

/**
 * One received message, as callbacks see it.  Everything it points to is
 * borrowed for the duration of the callback only.
 *
 * fds: for CALL_WITH_FDS (server) and REPLY_WITH_FDS (client), the nfds
 * descriptors received with the frame, in order.  The transport owns them
 * until the callback returns and then closes every one still in the array.
 * A callback keeps an fd by taking it out: `keep = m->fds[i]; m->fds[i] = -1;`
 * from then on the callback owns it and must close it.
 */
typedef struct virtwire_transport_msg {
    virNetMessageHeader hdr; /**< the decoded, checked header */
    /** Undecoded payload: after the header, and after the fd count of a
     *  *_WITH_FDS frame.  For STREAM/CONTINUE these are the raw data bytes. */
    const unsigned char *payload;
    size_t payload_len; /**< bytes at payload */
    int *fds;           /**< received fds (see above) */
    size_t nfds;        /**< number of fds */
    /** Status ERROR with a non-empty payload: the decoded remote_error
     *  (NULL otherwise: a client's stream abort has an empty payload). */
    const virNetMessageError *error;
    /** STREAM_HOLE: the decoded hole (NULL otherwise). */
    const virNetStreamHole *hole;
} virtwire_transport_msg;

/**
 * Connection-wide callbacks.  Set size to sizeof the structure and leave
 * what is not used zero, e.g. `{ .size = sizeof cbs, .on_send = f }`: see
 * "Structures that can grow" in docs/reference.md.  The transport keeps
 * its own copy.
 */
typedef struct virtwire_transport_callbacks {
    /** sizeof(virtwire_transport_callbacks) as the caller was compiled. */
    size_t size;
    /**
     * Required.  Transmit one frame: the niov chunks in order, then each of
     * the nfds fds (libvirt sends each fd in its own sendmsg() carrying one
     * dummy byte).  iov[0] is the length word and header (and the fd count
     * of a *_WITH_FDS frame); the payload follows in the caller's own
     * buffers, never copied.  The chunks and the fds are borrowed for the
     * duration of the call only: copy or write them before returning.  The
     * fds stay owned by whoever passed them to the send function.
     * Return 0, or a negative value when the frame cannot be queued (the
     * send function then returns VIRTWIRE_ESEND).
     */
    int (*on_send)(virtwire_transport *t, const struct iovec *iov, size_t niov,
                   const int *fds, size_t nfds, void *opaque);
    /**
     * Optional.  A received frame was refused (fatal == 0: the frame was
     * dropped and receiving goes on) or the transport hit a fatal error
     * (fatal == 1: the transport refuses further input).  hdr is the
     * decoded header, or NULL when the error came before one.  A dropped
     * REPLY is reported here with its header: its call is complete.
     */
    void (*on_error)(virtwire_transport *t, int code, const virNetMessageHeader *hdr,
                     int fatal, void *opaque);
    /** Optional.  The peer is dead: no frame for interval x (count + 1)
     *  after virtwire_transport_keepalive_start().  The transport latches
     *  VIRTWIRE_EKEEPALIVE right after this call. */
    void (*on_keepalive_dead)(virtwire_transport *t, void *opaque);
    /** Required by keepalive only: a monotonic clock in milliseconds.  The
     *  transport reads it once per receive call (liveness) and once per
     *  keepalive_tick; a test passes a fake one. */
    uint64_t (*clock_ms)(void *opaque);
} virtwire_transport_callbacks;

/**
 * Callbacks of one program.  Each returns 0, or a negative value to stop:
 * the transport then latches VIRTWIRE_ECALLBACK.  A NULL callback drops the
 * messages it would get (a NULL on_call makes the server answer CALLs as
 * for an unregistered program).  Set size as for
 * virtwire_transport_callbacks.
 */
typedef struct virtwire_transport_program_callbacks {
    /** sizeof(virtwire_transport_program_callbacks) as the caller was
     *  compiled. */
    size_t size;
    /** Server: a CALL or CALL_WITH_FDS (status OK). */
    int (*on_call)(virtwire_transport_program *p, const virtwire_transport_msg *m, void *opaque);
    /** Client: the REPLY or REPLY_WITH_FDS (OK or ERROR) of a call sent
     *  through this program. */
    int (*on_reply)(virtwire_transport_program *p, const virtwire_transport_msg *m, void *opaque);
    /** Client: a MESSAGE (an event; status OK). */
    int (*on_message)(virtwire_transport_program *p, const virtwire_transport_msg *m, void *opaque);
    /** Both: a STREAM or STREAM_HOLE packet of a stream opened through
     *  this program. */
    int (*on_stream)(virtwire_transport_program *p, const virtwire_transport_msg *m, void *opaque);
} virtwire_transport_program_callbacks;

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */
/* ------------------------------------------------------------------------ */

/**
 * Creates a transport.  cbs is copied; cbs->on_send is required.
 * Returns 0, VIRTWIRE_EINVAL (also for a cbs->size that cannot be valid)
 * or VIRTWIRE_ENOMEM.
 */
int virtwire_transport_new(virtwire_transport_role role, const virtwire_transport_callbacks *cbs,
                           void *opaque, virtwire_transport **out);

/** Frees the transport, its program handles and its buffers, and closes
 *  every received fd it still owns.  NULL is allowed. */
void virtwire_transport_free(virtwire_transport *t);

/** The role the transport was created with. */
virtwire_transport_role virtwire_transport_get_role(const virtwire_transport *t);

/** The latched fatal error, or 0 while the transport is healthy. */
int virtwire_transport_error(const virtwire_transport *t);

/**
 * Registers program and version (matched together, like libvirt) and gives
 * the handle to send with.  The keepalive program is built in and cannot be
 * registered.  The handle lives until virtwire_transport_free().
 * Returns 0, VIRTWIRE_EINVAL (NULL argument, already registered, keepalive,
 * a cbs->size that cannot be valid) or VIRTWIRE_ENOMEM.
 */
int virtwire_transport_register(virtwire_transport *t, uint32_t program, uint32_t version,
                                const virtwire_transport_program_callbacks *cbs, void *opaque,
                                virtwire_transport_program **out);

/** The transport a program handle belongs to. */
virtwire_transport *virtwire_transport_program_transport(const virtwire_transport_program *p);

/* ------------------------------------------------------------------------ */
/* Receiving                                                                */
/* ------------------------------------------------------------------------ */

/**
 * Feeds len bytes received from the peer.  Consumes whole and partial
 * frames, dispatching each complete frame to the callbacks before going on,
 * and stops early only at the end of a frame that waits for fds.  Time is
 * linear in len; a frame wholly inside buf is dispatched from buf without a
 * copy, other bytes are buffered (one frame at most).
 *
 * Returns the number of bytes consumed (len, or less when fds are now
 * expected or a callback called virtwire_transport_stop_receive()), or a
 * negative error: the latched fatal error (see the codes
 * above), VIRTWIRE_EFD_MISSING when len > 0 while fds are expected,
 * VIRTWIRE_ENOMEM, or VIRTWIRE_EREENTRANT.  Dropped frames are not errors
 * here: see on_error.
 */
ssize_t virtwire_transport_receive(virtwire_transport *t, const void *buf, size_t len);

/**
 * From a callback: the virtwire_transport_receive() running it returns
 * right after the frame being delivered, consuming nothing past it (the
 * next receive() goes on normally).  For a caller whose peer changes how
 * it sends at that frame's end: the bytes after it are not frames yet
 * (a security layer that starts after the last authentication reply).
 * Outside a callback it does nothing.
 */
void virtwire_transport_stop_receive(virtwire_transport *t);

/**
 * Feeds one fd received from the peer.  The transport takes ownership of fd
 * in every case: on error it closes it.  When the last fd of a frame
 * arrives, the frame is dispatched.
 * Returns 0, VIRTWIRE_EINVAL (fd < 0), VIRTWIRE_EFD_UNEXPECTED (fatal), the
 * latched error, or VIRTWIRE_EREENTRANT.
 */
int virtwire_transport_receive_fd(virtwire_transport *t, int fd);

/** What the transport expects next, without feeding anything. */
virtwire_need virtwire_transport_need(const virtwire_transport *t);

/* ------------------------------------------------------------------------ */
/* Sending                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Sends one message of program p through on_send.
 *
 * CALL and CALL_WITH_FDS take a fresh serial (the serial argument is
 * ignored): serials count up from 0 and skip any still awaiting a reply.
 * Every other type uses the serial given: the one of the call it answers,
 * the stream's serial, or the event serial for a MESSAGE (libvirt uses 1).
 * The type and status must be ones the peer's role accepts (see the table
 * in the implementation): a client sends CALL, CALL_WITH_FDS, STREAM and
 * STREAM_HOLE; a server sends REPLY, REPLY_WITH_FDS, MESSAGE, STREAM and
 * STREAM_HOLE.  fds go only with *_WITH_FDS types; they are borrowed for
 * the duration of the call.
 *
 * Returns the serial (0 .. 4294967295), or a negative error:
 * VIRTWIRE_EINVAL, VIRTWIRE_EMSG_ROLE, VIRTWIRE_EMSG_COMBINATION,
 * VIRTWIRE_EFDS_MAX, VIRTWIRE_EFRAME_LENGTH (frame above 33554436 bytes),
 * VIRTWIRE_ENOMEM, VIRTWIRE_ESEND, or the latched fatal error.
 */
int64_t virtwire_transport_send(virtwire_transport_program *p, int32_t proc, virNetMessageType type,
                                virNetMessageStatus status, uint32_t serial, const void *payload,
                                size_t len, const int *fds, size_t nfds);

/** The most payload chunks virtwire_transport_sendv() takes. */
#define VIRTWIRE_TRANSPORT_MAX_PAYLOAD_CHUNKS 15

/** Like virtwire_transport_send() with a payload made of npayload chunks
 *  (at most VIRTWIRE_TRANSPORT_MAX_PAYLOAD_CHUNKS), passed on to on_send
 *  as they are. */
int64_t virtwire_transport_sendv(virtwire_transport_program *p, int32_t proc, virNetMessageType type,
                                 virNetMessageStatus status, uint32_t serial,
                                 const struct iovec *payload, size_t npayload, const int *fds,
                                 size_t nfds);

/**
 * Encodes value (of the generated type vtype, e.g. `&remote_connect_open_args_desc`;
 * NULL for a void payload) into a buffer of the transport's, then sends it
 * like virtwire_transport_send().  Encoding errors are returned as they are.
 */
int64_t virtwire_transport_send_value(virtwire_transport_program *p, int32_t proc,
                                      virNetMessageType type, virNetMessageStatus status,
                                      uint32_t serial, const virtwire_type *vtype,
                                      const void *value, const int *fds, size_t nfds);

/** Sends a REPLY with status ERROR and err as payload (server). */
int64_t virtwire_transport_send_error(virtwire_transport_program *p, int32_t proc,
                                      uint32_t serial, const virNetMessageError *err);

/* ------------------------------------------------------------------------ */
/* Streams                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * A stream starts with an ordinary CALL and REPLY (STORAGE_VOL_UPLOAD,
 * DOMAIN_SCREENSHOT, ...); every later packet reuses that call's proc and
 * serial, in both directions.  Open the stream on both sides once the call
 * is sent (client) or received (server): only packets of open streams are
 * dispatched, others are dropped with VIRTWIRE_ESTREAM.
 *
 * A stream is closed, and forgotten, once a final packet (status OK or
 * ERROR) has gone each way: finish (client OK, server OK or ERROR), abort
 * (client ERROR, server OK or ERROR).  After a server's error the client
 * should abort or call virtwire_transport_stream_close().  Packets the peer
 * sends after its own final packet are dropped (VIRTWIRE_ESTREAM).
 *
 * The send helpers below do not require the stream to be open; they update
 * its state when it is.
 */

/** The stream may carry STREAM_HOLE packets (`@sparseflag` was set). */
#define VIRTWIRE_STREAM_SPARSE 0x1u

/** Opens the stream (p's program and version, proc, serial).
 *  Returns 0, VIRTWIRE_EINVAL (already open, unknown flags) or
 *  VIRTWIRE_ENOMEM. */
int virtwire_transport_stream_open(virtwire_transport_program *p, int32_t proc, uint32_t serial,
                                   unsigned int flags);

/** Forgets the stream.  Returns 0, or VIRTWIRE_EINVAL when it is not open. */
int virtwire_transport_stream_close(virtwire_transport_program *p, uint32_t serial);

/** Whether the stream is open (1) or not (0). */
int virtwire_transport_stream_is_open(const virtwire_transport_program *p, uint32_t serial);

/** Sets the most data bytes per STREAM packet (default 262120, libvirt's;
 *  1 to 33554408).  Returns 0 or VIRTWIRE_EINVAL. */
int virtwire_transport_set_stream_packet_max(virtwire_transport *t, size_t max);

/** Sends len data bytes as STREAM/CONTINUE packets of at most the packet
 *  maximum each, pointing into data (no copy).  len 0 sends nothing (use
 *  _stream_send_eof() for end of data).  Returns 0 or an error as for
 *  virtwire_transport_send(). */
int virtwire_transport_stream_send_data(virtwire_transport_program *p, int32_t proc,
                                        uint32_t serial, const void *data, size_t len);

/** End of data: an empty STREAM/CONTINUE packet. */
int virtwire_transport_stream_send_eof(virtwire_transport_program *p, int32_t proc,
                                       uint32_t serial);

/** A hole of length bytes: STREAM_HOLE/CONTINUE with a virNetStreamHole. */
int virtwire_transport_stream_send_hole(virtwire_transport_program *p, int32_t proc,
                                        uint32_t serial, int64_t length, unsigned int flags);

/** Finish: STREAM/OK with an empty payload (the client's request and the
 *  server's confirmation alike). */
int virtwire_transport_stream_finish(virtwire_transport_program *p, int32_t proc,
                                     uint32_t serial);

/** Client abort: STREAM/ERROR with an empty payload. */
int virtwire_transport_stream_abort(virtwire_transport_program *p, int32_t proc,
                                    uint32_t serial);

/** Server error: STREAM/ERROR with err as payload. */
int virtwire_transport_stream_send_error(virtwire_transport_program *p, int32_t proc,
                                         uint32_t serial, const virNetMessageError *err);

/* ------------------------------------------------------------------------ */
/* Keepalive                                                                */
/* ------------------------------------------------------------------------ */

/*
 * Keepalive (program 0x6b656570 version 1, MESSAGE, serial 0) is always on
 * in the receiving direction: a PING is answered with a PONG at once, and
 * neither reaches a program callback.  Own PINGs are optional: after
 * keepalive_start(), whenever interval_ms pass without any frame from the
 * peer, keepalive_tick() sends a PING and counts down from count; at zero
 * the peer is dead (on_keepalive_dead, then VIRTWIRE_EKEEPALIVE), which
 * takes about interval x (count + 1) of silence, as with libvirt.
 */

/** Starts own PINGs.  Needs the clock_ms callback.  interval_ms >= 1.
 *  Returns 0 or VIRTWIRE_EINVAL. */
int virtwire_transport_keepalive_start(virtwire_transport *t, unsigned int interval_ms,
                                       unsigned int count);

/** Stops own PINGs (PINGs from the peer are still answered). */
void virtwire_transport_keepalive_stop(virtwire_transport *t);

/** Call when keepalive_timeout() says so (calling more often is harmless).
 *  Sends a PING when due.  Returns 0, VIRTWIRE_EKEEPALIVE (fatal),
 *  VIRTWIRE_ESEND (fatal), the latched error, or VIRTWIRE_EREENTRANT. */
int virtwire_transport_keepalive_tick(virtwire_transport *t);

/** Milliseconds until keepalive_tick() has work (0: now), or -1 when own
 *  PINGs are off or the transport is dead. */
int64_t virtwire_transport_keepalive_timeout(const virtwire_transport *t);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_TRANSPORT_H */
