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

#include "tool.h"
#include "virtwire_channel.h"
#include "virtwire_facts.h"

/* Output queued for a side above which the sides that feed it are not
 * read. */
#define VP_OUTPUT_HIGH ((size_t)1 << 20)
/* Input buffer kept between frames: room for a whole stream packet of
 * libvirt's (262120 bytes of data and the header), so that streams cost
 * no allocation; a larger frame gets a buffer of its own size, given back
 * once it has gone. */
#define VP_INPUT_SIZE ((size_t)256 * 1024 + 64)
/* How long a session that is ending writes what is queued. */
#define VP_LINGER_MS 2000
/* Received fds held while their frame is incomplete: a frame carries at
 * most VIRTWIRE_FDS_MAX; more means a peer that sends fds with bytes
 * that are not dummy bytes. */
#define VP_FDS_HELD (2 * VIRTWIRE_FDS_MAX)

/* ------------------------------------------------------------------------ */
/* Frames in (proxy_frame.c)                                                */
/* ------------------------------------------------------------------------ */

/* Errors of the framer (negative). */
enum {
    VP_EFRAME_LENGTH = -1, /* a length word outside 28 .. VIRTWIRE_FRAME_MAX */
    VP_EFDS_MAX = -2,      /* an fd count above VIRTWIRE_FDS_MAX */
    VP_EFD_MISSING = -3,   /* a plain byte where an fd was due */
    VP_EFDS_HELD = -4,     /* more than VP_FDS_HELD fds waiting */
    VP_ENOMEM = -5,
};

/* A whole frame: bytes (length word included) and the fds that came after
 * it (their dummy bytes are not in bytes). */
typedef struct vp_frame {
    const unsigned char *bytes; /* valid until the next vp_in_room() */
    size_t len;
    int fds[VIRTWIRE_FDS_MAX]; /* owned by whoever holds the frame */
    size_t nfds;
    /* The header, decoded (big-endian words). */
    uint32_t prog, vers;
    int32_t proc, type;
    uint32_t serial;
    int32_t status;
} vp_frame;

/* One direction's input. */
typedef struct vp_in {
    unsigned char *buf;
    size_t cap, start, end; /* unconsumed bytes: buf[start .. end) */
    uint64_t pos;           /* stream offset of buf[start] */
    struct {
        int fd;
        uint64_t at; /* stream offset of the byte it came with */
    } held[VP_FDS_HELD];
    size_t nheld;
    int32_t fds_type; /* the type after which fds come */
    int error;        /* sticky */
} vp_in;

/* fds_type: VIR_NET_CALL_WITH_FDS (a daemon's view of its client) or
 * VIR_NET_REPLY_WITH_FDS (a client's view of its daemon). */
void vp_in_init(vp_in *in, int32_t fds_type);
/* Closes the fds held and frees the buffer. */
void vp_in_free(vp_in *in);
/* Room to read into (at least one byte), for vp_in_filled().  Frames
 * returned earlier are invalid from here on.  VP_ENOMEM or 0. */
int vp_in_room(vp_in *in, unsigned char **p, size_t *len);
/* n bytes were read into the room; fd (or -1) came with the last one.
 * Takes fd in every case. */
void vp_in_filled(vp_in *in, size_t n, int fd);
/* The next whole frame: 1 (f filled; its fds are the caller's), 0 (more
 * input needed) or a VP_E* error (sticky). */
int vp_in_next(vp_in *in, vp_frame *f);
/* Whether bytes of an incomplete frame are waiting. */
int vp_in_partial(const vp_in *in);
/* Closes the fds of a frame (those still >= 0). */
void vp_frame_close_fds(vp_frame *f);
/* The words of a frame header at p (28 bytes) into f. */
void vp_frame_header(vp_frame *f, const unsigned char *p);

/* ------------------------------------------------------------------------ */
/* Frames out (proxy_frame.c)                                               */
/* ------------------------------------------------------------------------ */

/* One side's output: bytes, and fds each sent after the byte position it
 * was queued at (as virtwire_conn queues them). */
typedef struct vp_out {
    unsigned char *q;
    size_t head, len, cap;
    uint64_t written; /* bytes written in all: the position of q[head] */
    struct vp_out_fd {
        int fd;       /* owned: closed once sent */
        uint64_t pos; /* goes once this many bytes are written */
    } *fdq;
    size_t fhead, flen, fcap;
} vp_out;

/* Frees the queue and closes the fds it holds. */
void vp_out_free(vp_out *o);
/* Bytes (and fds, one each) still to write. */
size_t vp_out_pending(const vp_out *o);
/*
 * Sends a frame: the iov chunks, then the fds (taken: closed once sent or
 * when the queue is freed; a slot set to -1 is skipped).  With ch not NULL
 * and nothing queued, writes straight from iov as far as the channel
 * takes it; the rest is copied.  Returns 0, VP_ENOMEM, or a channel error
 * (the frame is then dropped and its fds closed).
 */
int vp_out_send(vp_out *o, virtwire_channel *ch, const struct iovec *iov, size_t niov, int *fds,
                size_t nfds);
/* Writes what is queued while the channel takes it.  0 or the channel's
 * error. */
int vp_out_flush(vp_out *o, virtwire_channel *ch);

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
