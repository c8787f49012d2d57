/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire proxy: frames in and out, fds included (proxy_frame.c).  The
 * framing rules and who owns the fds are in proxy.h; this part needs no
 * JSON, so that fuzz/proxy drives it alone.
 */
#ifndef VIRTWIRE_TOOL_PROXY_FRAME_H
#define VIRTWIRE_TOOL_PROXY_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtwire_channel.h"
#include "virtwire_error.h"
#include "virtwire_facts.h"

/* Input buffer kept between frames: room for a whole stream packet of
 * libvirt's (262120 bytes of data and the header), so that streams cost
 * no allocation; a larger frame gets a buffer of its own size, given back
 * once it has gone. */
#define VP_INPUT_SIZE ((size_t)256 * 1024 + 64)
/* Received fds held while their frame is incomplete: a frame carries at
 * most VIRTWIRE_FDS_MAX; more means a peer that sends fds with bytes
 * that are not dummy bytes. */
#define VP_FDS_HELD (2 * VIRTWIRE_FDS_MAX)

/* ------------------------------------------------------------------------ */
/* Frames in (proxy_frame.c)                                                */
/* ------------------------------------------------------------------------ */

/* Errors of the framer: the runtime's codes for the same faults. */
enum {
    /* a length word outside 28 .. VIRTWIRE_FRAME_MAX */
    VP_EFRAME_LENGTH = VIRTWIRE_EFRAME_LENGTH,
    /* an fd count above VIRTWIRE_FDS_MAX */
    VP_EFDS_MAX = VIRTWIRE_EFDS_MAX,
    /* a plain byte where an fd was due */
    VP_EFD_MISSING = VIRTWIRE_EFD_MISSING,
    /* more than VP_FDS_HELD fds nobody asked for, waiting */
    VP_EFDS_HELD = VIRTWIRE_EFD_UNEXPECTED,
    VP_ENOMEM = VIRTWIRE_ENOMEM,
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

#endif /* VIRTWIRE_TOOL_PROXY_FRAME_H */
