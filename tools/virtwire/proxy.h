/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire proxy: a transparent relay of libvirt's RPC protocol between
 * clients and a daemon, seeing every message.
 *
 *   client --(unix or tcp)--> proxy --(virtwire_channel_open_uri)--> daemon
 *
 * Each client accepted on a listener gets a connection of its own to the
 * daemon (a session).  The proxy speaks no protocol of its own on either
 * side: it cuts each direction's bytes into frames (vp_in), hands each
 * frame to the log and the filters, and writes it unchanged to the other
 * side (vp_out), fds included.  Handshakes, keepalive, events, streams
 * and the admin program pass as they come; the proxy answers only the
 * calls its filters refuse (then nothing of the call reaches the daemon).
 *
 * Framing, as libvirt's peers frame (docs/protocol.md, "Framing", "File
 * descriptors"):
 *
 *   1. a length word 28 .. VIRTWIRE_FRAME_MAX, else the stream cannot be
 *      followed: the session ends (libvirt closes the connection too);
 *   2. after a CALL_WITH_FDS from the client or a REPLY_WITH_FDS from the
 *      daemon (the only types whose fds libvirt reads), the fd count word
 *      (at most VIRTWIRE_FDS_MAX), then one dummy byte per fd, each of
 *      which must have come with its fd (SCM_RIGHTS); a plain byte where
 *      an fd is due ends the session;
 *   3. nothing else is checked: a frame libvirt would refuse is the
 *      daemon's (or the client's) to refuse.
 *
 * An fd that comes with a byte that is not a dummy byte of a frame is
 * closed at once, like virtwire_conn does.
 *
 * Memory: per direction, one input buffer (256 KiB, or one frame when a
 * frame is larger: at most VIRTWIRE_FRAME_MAX) and one output queue.  A
 * side is read only while the output queues its frames may go to (the
 * other side's, and its own for the proxy's answers) hold less than
 * VP_OUTPUT_HIGH: a client that does not read, or a daemon that floods,
 * makes the proxy stop reading the other side, and the kernel's socket
 * buffers push back to the sender.  A session thus holds at most about
 * 2 x (2 x VIRTWIRE_FRAME_MAX + VP_OUTPUT_HIGH), and an idle one a few KiB.
 *
 * Ending, in every case without altering what was already queued:
 *   - the daemon goes away: what is queued for the client is written
 *     (VP_LINGER_MS at most), then the client's connection is closed;
 *   - the client goes away: each stream it had open and not finished is
 *     aborted upstream (an empty STREAM/ERROR, as a client's abort), what
 *     is queued for the daemon is written and the daemon's confirmations
 *     of the aborts are read (what else it sends is dropped), VP_LINGER_MS
 *     at most, then the daemon's connection is closed;
 *   - a framing error on either side ends both at once.
 *
 * fds: received fds belong to the frame (vp_frame) until it is queued on
 * the other side; the output queue owns them until they are sent (then
 * closed); whatever is left at the end is closed.
 *
 * Threads: the proxy runs on one thread, except the connections to the
 * daemon, each opened by a thread of its own (a TCP connect, ssh or a TLS
 * opener may block) that hands the channel back through a pipe.
 */
#ifndef VIRTWIRE_TOOL_PROXY_H
#define VIRTWIRE_TOOL_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include "proxy_frame.h"
#include "tool.h"

/* Output queued for a side above which the sides that feed it are not
 * read. */
#define VP_OUTPUT_HIGH ((size_t)1 << 20)
/* How long a session that is ending writes what is queued. */
#define VP_LINGER_MS 2000

/* ------------------------------------------------------------------------ */
/* What the proxy refuses (proxy_filter.c)                                  */
/* ------------------------------------------------------------------------ */

/* The procedures --deny and --allow name, and --read-only. */
typedef struct vp_filter {
    int read_only;
    const virtwire_proc **deny; /* NULL-terminated, or NULL */
    const virtwire_proc **allow;
} vp_filter;

/* Parses "PROC,PROC,..." (as `virtwire call` names procedures) into a
 * NULL-terminated array appended to *list.  VT_OK or VT_USAGE (said). */
int vp_filter_add(const virtwire_proc ***list, const char *spec);
void vp_filter_free(vp_filter *f);

/* Why a call is refused: filled by vp_filter_check(). */
typedef struct vp_refusal {
    const char *why; /* "read-only", "deny", "allow" */
    int code, domain;
    char message[320], str1[64], str2[256];
} vp_refusal;

/*
 * Whether a CALL of proc (of program prog, NULL when unknown) with the
 * payload (its arguments, undecoded) is refused: 1 with *r filled with
 * the error libvirtd would send, 0 when it may pass.  --read-only refuses
 * what libvirtd refuses on a read-only connection, from the procedure's
 * @acl annotations (see proxy_filter.c).
 */
int vp_filter_check(const vp_filter *f, const virtwire_program *prog, const virtwire_proc *proc,
                    const unsigned char *payload, size_t len, vp_refusal *r);

/* Encodes the remote_error of r (level 2, str1, str2, int1 = int2 = -1)
 * after a header copied from call with type REPLY and status ERROR into
 * buf (at most cap bytes).  Returns the frame's length, or 0 when it does
 * not fit. */
size_t vp_error_frame(const vp_frame *call, int code, int domain, const char *message,
                      const char *str1, const char *str2, unsigned char *buf, size_t cap);

/* ------------------------------------------------------------------------ */
/* Recording (proxy_log.c)                                                  */
/* ------------------------------------------------------------------------ */

/* Who sent a frame, for the log. */
typedef enum vp_from {
    VP_FROM_CLIENT, /* to the daemon */
    VP_FROM_DAEMON, /* to the client */
    VP_FROM_PROXY,  /* the proxy's answer to a refused call, to the client */
} vp_from;

typedef struct vp_log vp_log;
/* One session's part of the recording: its calls in flight (for the
 * latency of each reply) and its TCP stream in the capture. */
typedef struct vp_log_session vp_log_session;

/* Options of the recording. */
typedef struct vp_log_opts {
    FILE *json;   /* one JSON line per message, or NULL */
    FILE *pcapng; /* a capture, or NULL */
    int data;     /* stream data in the JSON lines (base64) */
} vp_log_opts;

/* NULL when out of memory (the files stay the caller's). */
vp_log *vp_log_new(const vp_log_opts *o);
/* Writes what is buffered (the files stay open).  0, or -1 when a write
 * failed (errno says why). */
int vp_log_flush(vp_log *l);
void vp_log_free(vp_log *l);

/* A session starts: its client id and where it came from.  NULL when
 * nothing is recorded (the calls below then do nothing) or out of
 * memory. */
vp_log_session *vp_log_open(vp_log *l, unsigned long id, const char *peer);
/* A session ends (by whom, why in words); frees s. */
void vp_log_close(vp_log *l, vp_log_session *s, vp_from by, const char *reason);
/* A frame, as it is forwarded (or answered by the proxy).  refused: for a
 * refused call, the filter that refused it ("read-only", "deny",
 * "allow"), else NULL. */
void vp_log_frame(vp_log *l, vp_log_session *s, vp_from from, const vp_frame *f,
                  const char *refused);

#endif /* VIRTWIRE_TOOL_PROXY_H */
