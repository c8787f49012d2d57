/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the transport tests share besides tests/lib: hex literals, and an
 * in-memory endpoint that records what a transport sends and logs every
 * callback as one line of text, so that runs can be compared.
 */
#ifndef VIRTWIRE_TESTS_TRANSPORT_TLIB_H
#define VIRTWIRE_TESTS_TRANSPORT_TLIB_H

#include <stddef.h>
#include <stdint.h>

#include "virtwire_transport.h"
#include "vt_buf.h"
#include "vt_check.h"
#include "vt_hex.h"
#include "vt_sys.h"

#define TL_MAX_FRAMES 4096
#define TL_MAX_FDS 256
#define TL_MAX_PROGS 8

typedef struct tl_endpoint tl_endpoint;

/** Called by the logging callbacks after logging, for tests that act on a
 *  message (reply, take fds, ...).  kind: 'C'all 'R'eply 'M'essage 'S'tream. */
typedef int (*tl_hook)(tl_endpoint *e, char kind, virtwire_transport_program *p,
                       const virtwire_transport_msg *m);

struct tl_endpoint {
    const char *name;
    virtwire_transport *t;
    /* What the transport sent: the bytes of all frames, the fds (dup()ed,
     * as the kernel does with SCM_RIGHTS) and where each frame ends. */
    vt_buf out;
    int fds[TL_MAX_FDS];
    size_t nfds;
    size_t frames;
    size_t frame_end[TL_MAX_FRAMES];  /* offset in out after each frame */
    size_t frame_nfds[TL_MAX_FRAMES]; /* fds sent with each frame */
    /* The chunks of the last frame, as on_send saw them. */
    size_t last_niov;
    size_t last_iov_len[16];
    const void *last_iov_base[16];
    int last_fds[32]; /* the fd numbers on_send was given */
    size_t last_nfds;
    const void *frame_payload[TL_MAX_FRAMES]; /* iov[1] of each frame, or NULL */
    int fail_send; /* on_send returns -1 while set */
    /* Callback log, one line per callback, errors included. */
    vt_buf log;
    tl_hook hook;
    void *user;
    uint64_t now; /* the fake clock */
    int dead;     /* on_keepalive_dead calls */
    virtwire_transport_program *progs[TL_MAX_PROGS];
    size_t nprogs;
};

/** Creates e->t in role with logging callbacks and a fake clock. */
void tl_endpoint_init(tl_endpoint *e, const char *name, virtwire_transport_role role);
/** Frees the transport, closes queued fds, frees buffers. */
void tl_endpoint_fini(tl_endpoint *e);
/** Registers program/version with logging callbacks. */
virtwire_transport_program *tl_register(tl_endpoint *e, uint32_t program, uint32_t version);

/** Forgets what e sent (closing queued fds). */
void tl_endpoint_clear_out(tl_endpoint *e);

/**
 * Moves everything `from` sent into `to`, the way a careful socket reader
 * does: never more bytes than to's need() asks for, fds when it asks for
 * them.  Returns 0, or the first error of receive/receive_fd.
 */
int tl_pump(tl_endpoint *from, tl_endpoint *to);

/** Pumps both ways until neither side has anything left to send. */
int tl_exchange(tl_endpoint *a, tl_endpoint *b);

/** Logs one message the way the logging callbacks do (for comparisons). */
void tl_log_msg(vt_buf *log, char kind, const virtwire_transport_msg *m);

#endif
