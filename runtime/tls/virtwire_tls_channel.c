/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtwire_tls: the TLS channel, a non-blocking GnuTLS session over
 * another channel (virtwire_channel.h, virtwire_tls.h).
 *
 * The channel's handshake has three steps, each resumed where it stopped
 * when the socket could not go on (the operation returns 1 and
 * events() says which way to wait):
 *
 *   1. the TLS handshake (gnutls_handshake());
 *   2. the check of the peer's certificate (virtwire_tls_verify.c),
 *      whose failure ends the channel unless the credentials say
 *      no_verify, as libvirt does (virNetTLSContextCheckCertificate);
 *   3. libvirt's confirmation byte: a server sends the byte 1 in a record
 *      of its own (virNetServerClientCheckAccess); a client reads exactly
 *      one byte and goes on only if it is 1 (virNetClientSetTLSSession):
 *      anything else, or the end of the connection, means the server
 *      refused us.  Bytes after it belong to the stream.
 *
 * I/O: GnuTLS reads through pull(), which reads the inner channel into a
 * buffer of its own (as much as the socket has, so that the two reads
 * GnuTLS makes per record, header then body, cost one system call for
 * many records).  Nothing is ever left in that buffer or in GnuTLS's when
 * read() says the channel is empty (it stops only when both are drained),
 * so polling the socket is enough to know when to read again.
 *
 * Writing: each libvirt frame goes in records of its own, never sharing
 * one with the next frame, as libvirt's own client and daemon write them
 * (one gnutls_record_send() per message).  libvirt's peers depend on it:
 * they read one frame at a time and then wait for the socket, without
 * looking at what GnuTLS still holds decrypted (virNetSocketHasCachedData()
 * does not ask GnuTLS), so a record holding the start of a second frame
 * leaves that frame waiting until other bytes arrive; libvirtd with more
 * than max_client_requests calls pipelined would stall for a keepalive
 * interval.  The channel follows the frames' length words in what it is
 * given (when the bytes are not libvirt frames, it falls back to records
 * of up to 16 KiB).  The records of one writev() are made into a buffer
 * (vec_push() while batching) and written with as few system calls as the
 * socket allows; when it does not take them all, the plaintext they hold
 * counts as not written yet, and the next writev(), which offers the same
 * bytes again first, finishes writing them before making more.
 */
#define _POSIX_C_SOURCE 200809L
#include "virtwire_tls_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Bytes read from the inner channel at once. */
#define RAW_SIZE (64u * 1024u)
/* The largest plaintext of one record (TLS). */
#define RECORD_MAX 16384u
/* Plaintext made into records by one writev() at most. */
#define BATCH_MAX (256u * 1024u)
/* libvirt's frames: a length word counting itself, 28 to
 * VIR_NET_MESSAGE_MAX + 4 bytes (virtwire_facts.h; the transport enforces
 * the exact bound, this only recognises frames). */
#define FRAME_MIN 28u
#define FRAME_MAX (32u * 1024u * 1024u + 4u)

enum state {
    ST_HANDSHAKE, /* gnutls_handshake() in progress */
    ST_CONFIRM,   /* the confirmation byte: sending it, or waiting for it */
    ST_READY,     /* data */
    ST_FAILED,    /* the handshake failed: err, detail */
};

typedef struct tls_channel {
    virtwire_channel base;
    virtwire_channel *inner;
    virtwire_tls_creds *creds;
    gnutls_session_t s;
    int is_server;
    enum state state;
    int started;   /* gnutls_handshake() has been called */
    int err;       /* sticky: why the handshake or reading failed */
    int werr;      /* sticky: why writing failed */
    int saved_errno;
    /* What the inner channel said last (for the codes of failures). */
    int inner_err;
    int inner_errno;
    int eof;       /* the inner channel ended */
    int confirm_pending; /* the server's confirmation record is half-written */
    size_t record_max;
    /* Output: records made but not yet written, out[out_off .. out_len),
     * holding the first pending bytes of what the caller offers. */
    int batching; /* vec_push() appends to out instead of writing */
    int out_of_memory; /* out could not grow */
    unsigned char *out;
    size_t out_len, out_off, out_cap;
    size_t pending;
    /* The frames of the outgoing stream: bytes of the current frame not
     * yet in a record (0: a length word comes next), the length word's
     * bytes seen so far when it was cut, and whether the bytes are not
     * libvirt frames at all. */
    size_t frame_left;
    unsigned char lenbuf[4];
    size_t len_have;
    int unframed;
    int64_t deadline_ms; /* 0: none */
    char *hostname;
    char *peer_dn;
    int ssf;
    unsigned char *raw; /* read from the inner channel, not given to GnuTLS */
    size_t raw_pos, raw_len;
    unsigned char *scratch; /* RECORD_MAX: a record's bytes gathered from several iovecs */
    char detail[VW_TLS_MSG_MAX];
} tls_channel;

static const virtwire_channel_ops tls_ops;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------ */
/* GnuTLS's transport                                                       */
/* ------------------------------------------------------------------------ */

/* Remembers why the inner channel failed and gives GnuTLS an errno. */
static ssize_t inner_failed(tls_channel *t, ssize_t code)
{
    t->inner_err = (int)code;
    t->inner_errno = errno ? errno : EIO;
    if (code == VIRTWIRE_ECLOSED)
        t->eof = 1;
    gnutls_transport_set_errno(t->s, code == VIRTWIRE_ECLOSED ? EPIPE : t->inner_errno);
    return -1;
}

static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
    tls_channel *t = p;
    if (t->raw_pos == t->raw_len) {
        if (t->eof)
            return 0;
        int fd = -1;
        errno = 0;
        ssize_t n = virtwire_channel_read(t->inner, t->raw, RAW_SIZE, &fd);
        if (fd >= 0)
            close(fd); /* fds do not pass over TLS */
        if (n == 0) {
            gnutls_transport_set_errno(t->s, EAGAIN);
            return -1;
        }
        if (n == VIRTWIRE_ECLOSED && errno != ECONNRESET) {
            t->eof = 1; /* a plain end of file */
            return 0;
        }
        if (n < 0)
            return inner_failed(t, n);
        t->raw_pos = 0;
        t->raw_len = (size_t)n;
    }
    size_t k = t->raw_len - t->raw_pos;
    if (k > len)
        k = len;
    memcpy(buf, t->raw + t->raw_pos, k);
    t->raw_pos += k;
    return (ssize_t)k;
}

/* GnuTLS asks whether data can be read within ms: never wait (the
 * channel is non-blocking and handshake timeouts are off). */
static int pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
    tls_channel *t = p;
    (void)ms;
    if (t->raw_pos < t->raw_len || t->eof)
        return 1;
    struct pollfd pfd = { t->base.fd, POLLIN, 0 };
    int n = poll(&pfd, 1, 0);
    return n < 0 ? -1 : n;
}

/* Appends a record to the output buffer (while batching). */
static ssize_t push_buffered(tls_channel *t, const giovec_t *iov, int iovcnt)
{
    size_t n = 0;
    for (int i = 0; i < iovcnt; i++)
        n += iov[i].iov_len;
    if (t->out_cap - t->out_len < n) {
        size_t cap = t->out_cap ? t->out_cap : 32768;
        while (cap - t->out_len < n)
            cap *= 2;
        unsigned char *o = realloc(t->out, cap);
        if (!o) {
            t->out_of_memory = 1;
            gnutls_transport_set_errno(t->s, ENOMEM);
            return -1;
        }
        t->out = o;
        t->out_cap = cap;
    }
    for (int i = 0; i < iovcnt; i++) {
        memcpy(t->out + t->out_len, iov[i].iov_base, iov[i].iov_len);
        t->out_len += iov[i].iov_len;
    }
    return (ssize_t)n;
}

static ssize_t vec_push(gnutls_transport_ptr_t p, const giovec_t *iov, int iovcnt)
{
    tls_channel *t = p;
    if (t->batching)
        return push_buffered(t, iov, iovcnt);
    errno = 0;
    ssize_t n = virtwire_channel_writev(t->inner, iov, (size_t)iovcnt);
    if (n > 0)
        return n;
    if (n == 0) {
        gnutls_transport_set_errno(t->s, EAGAIN);
        return -1;
    }
    return inner_failed(t, n);
}

/* ------------------------------------------------------------------------ */
/* Failures                                                                 */
/* ------------------------------------------------------------------------ */

static int fail(tls_channel *t, int code, int err)
{
    t->state = ST_FAILED;
    t->err = code;
    t->saved_errno = err;
    errno = err;
    return code;
}

/* The code for a GnuTLS failure: the inner channel's when it failed (the
 * peer hung up: VIRTWIRE_ECLOSED; the socket: VIRTWIRE_EIO, errno),
 * else other. */
static int gnutls_code(tls_channel *t, int grc, int other, int *err)
{
    *err = 0;
    if (t->inner_err == VIRTWIRE_EIO) {
        *err = t->inner_errno;
        return VIRTWIRE_EIO;
    }
    if (t->eof || t->inner_err == VIRTWIRE_ECLOSED || grc == GNUTLS_E_PREMATURE_TERMINATION) {
        *err = t->inner_err ? t->inner_errno : 0;
        return VIRTWIRE_ECLOSED;
    }
    return other;
}

/* GnuTLS's words for grc, with the alert's name when the peer sent one. */
static void describe(tls_channel *t, int grc, char *buf, size_t len)
{
    if (grc == GNUTLS_E_FATAL_ALERT_RECEIVED || grc == GNUTLS_E_WARNING_ALERT_RECEIVED) {
        const char *name = gnutls_alert_get_name(gnutls_alert_get(t->s));
        vw_tls_msgf(buf, len, "%s (%s)", gnutls_strerror(grc), name ? name : "unknown alert");
    } else {
        vw_tls_msgf(buf, len, "%s", gnutls_strerror(grc));
    }
}

static int handshake_failed(tls_channel *t, int grc)
{
    char what[256];
    describe(t, grc, what, sizeof what);
    int err;
    int code = gnutls_code(t, grc, VIRTWIRE_EAUTH, &err);
    /* libvirt's words: "TLS handshake failed %s" (VIR_ERR_AUTH_FAILED). */
    if (code == VIRTWIRE_EIO)
        vw_tls_msgf(t->detail, sizeof t->detail, "TLS handshake failed %s: %s", what,
                    strerror(err));
    else if (code == VIRTWIRE_ECLOSED)
        vw_tls_msgf(t->detail, sizeof t->detail,
                    "TLS handshake failed %s (the peer closed the connection)", what);
    else
        vw_tls_msgf(t->detail, sizeof t->detail, "TLS handshake failed %s", what);
    return fail(t, code, err);
}

/* The server did not confirm: libvirt's message, and what came instead. */
static int confirm_failed(tls_channel *t, ssize_t grc, int byte)
{
    static const char base[] = "server verification (of our certificate or IP address) failed";
    char what[320];
    if (byte >= 0)
        vw_tls_msgf(what, sizeof what, "the server sent %d instead of the confirmation byte 1",
                    byte);
    else if (grc == GNUTLS_E_FATAL_ALERT_RECEIVED)
        vw_tls_msgf(what, sizeof what, "the server sent the alert '%s'",
                    gnutls_alert_get_name(gnutls_alert_get(t->s))
                        ? gnutls_alert_get_name(gnutls_alert_get(t->s))
                        : "unknown");
    else if (grc == 0 || grc == GNUTLS_E_PREMATURE_TERMINATION || t->eof ||
             t->inner_err == VIRTWIRE_ECLOSED)
        vw_tls_msgf(what, sizeof what, "the server closed the connection instead of confirming");
    else if (t->inner_err == VIRTWIRE_EIO)
        vw_tls_msgf(what, sizeof what, "%s", strerror(t->inner_errno));
    else
        vw_tls_msgf(what, sizeof what, "%s", gnutls_strerror((int)grc));
    const char *missing = t->creds->missing_cert;
    if (missing)
        vw_tls_msgf(t->detail, sizeof t->detail,
                    "%s: %s; we sent no client certificate (none at %s)", base, what, missing);
    else
        vw_tls_msgf(t->detail, sizeof t->detail, "%s: %s", base, what);
    return fail(t, VIRTWIRE_EAUTH, 0);
}

/* ------------------------------------------------------------------------ */
/* The handshake                                                            */
/* ------------------------------------------------------------------------ */

static int step_handshake(tls_channel *t)
{
    for (;;) {
        t->started = 1;
        int rc = gnutls_handshake(t->s);
        if (rc == 0)
            break;
        if (rc == GNUTLS_E_AGAIN)
            return 1;
        /* Interrupted, or a warning the handshake survives (each one
         * consumed a record: this ends). */
        if (rc == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(rc))
            continue;
        return handshake_failed(t, rc);
    }
    char msg[VW_TLS_MSG_MAX];
    char *dn = NULL;
    int rc = vw_tls_check_peer(t->s, t->creds, t->hostname, &dn, msg, sizeof msg);
    if (rc == VIRTWIRE_ENOMEM)
        return fail(t, VIRTWIRE_ENOMEM, ENOMEM);
    if (rc < 0 && !t->creds->no_verify) {
        /* libvirt's words: "Failed to verify peer's certificate"
         * (VIR_ERR_AUTH_FAILED), with the reason it only logs. */
        vw_tls_msgf(t->detail, sizeof t->detail, "Failed to verify peer's certificate: %s", msg);
        return fail(t, VIRTWIRE_EAUTH, 0);
    }
    t->peer_dn = dn;
    t->ssf = (int)gnutls_cipher_get_key_size(gnutls_cipher_get(t->s)) * 8;
    size_t max = gnutls_record_get_max_size(t->s);
    t->record_max = max && max < RECORD_MAX ? max : RECORD_MAX;
    t->state = ST_CONFIRM;
    return 0;
}

static int step_confirm(tls_channel *t)
{
    for (;;) {
        if (t->is_server) {
            /* One byte, 1, in a record of its own. */
            ssize_t n = t->confirm_pending ? gnutls_record_send(t->s, NULL, 0)
                                           : gnutls_record_send(t->s, "\1", 1);
            if (n == 1) {
                t->confirm_pending = 0;
                return 0;
            }
            if (n == GNUTLS_E_AGAIN) {
                t->confirm_pending = 1;
                return 1;
            }
            if (n == GNUTLS_E_INTERRUPTED)
                continue;
            char what[256];
            describe(t, (int)n, what, sizeof what);
            int err;
            int code = gnutls_code(t, (int)n, VIRTWIRE_EIO, &err);
            vw_tls_msgf(t->detail, sizeof t->detail, "cannot send the TLS confirmation: %s",
                        what);
            return fail(t, code, code == VIRTWIRE_EIO && !err ? EPROTO : err);
        }
        unsigned char b = 0;
        ssize_t n = gnutls_record_recv(t->s, &b, 1);
        if (n == 1)
            return b == 1 ? 0 : confirm_failed(t, 1, b);
        if (n == GNUTLS_E_AGAIN)
            return 1;
        if (n == GNUTLS_E_INTERRUPTED || (n < 0 && !gnutls_error_is_fatal((int)n)))
            continue; /* e.g. a NewSessionTicket message, a warning alert */
        return confirm_failed(t, n, -1);
    }
}

static int tls_handshake(virtwire_channel *ch)
{
    tls_channel *t = (tls_channel *)ch;
    if (t->state == ST_READY)
        return 0;
    if (t->state == ST_FAILED) {
        errno = t->saved_errno;
        return t->err;
    }
    if (t->deadline_ms && now_ms() >= t->deadline_ms) {
        vw_tls_msgf(t->detail, sizeof t->detail, "TLS handshake timed out after %d ms",
                    t->creds->handshake_timeout_ms);
        return fail(t, VIRTWIRE_ETIMEDOUT, ETIMEDOUT);
    }
    int rc;
    if (t->state == ST_HANDSHAKE && (rc = step_handshake(t)) != 0)
        return rc;
    if ((rc = step_confirm(t)) != 0)
        return rc;
    t->state = ST_READY;
    return 0;
}

static short tls_events(virtwire_channel *ch, short want)
{
    tls_channel *t = (tls_channel *)ch;
    switch (t->state) {
    case ST_HANDSHAKE:
        if (!t->started)
            return t->is_server ? POLLIN : POLLOUT; /* a client speaks first */
        return gnutls_record_get_direction(t->s) ? POLLOUT : POLLIN;
    case ST_CONFIRM:
        return t->is_server ? POLLOUT : POLLIN;
    default:
        return want;
    }
}

/* ------------------------------------------------------------------------ */
/* Data                                                                     */
/* ------------------------------------------------------------------------ */

/* Whether GnuTLS or our buffer still holds bytes the socket will not
 * announce. */
static int buffered(tls_channel *t)
{
    return t->raw_pos < t->raw_len || gnutls_record_check_pending(t->s) > 0;
}

static ssize_t tls_read(virtwire_channel *ch, void *buf, size_t len, int *fd)
{
    tls_channel *t = (tls_channel *)ch;
    *fd = -1;
    if (t->state != ST_READY) {
        if (t->state != ST_FAILED)
            return 0;
        errno = t->saved_errno;
        return t->err;
    }
    size_t total = 0;
    while (!t->err && total < len) {
        /* What the last read brought is used up: the caller reads again
         * (and finds the socket empty, or more). */
        if (total && !buffered(t))
            break;
        ssize_t n = gnutls_record_recv(t->s, (unsigned char *)buf + total, len - total);
        if (n > 0) {
            total += (size_t)n;
            continue;
        }
        if (n == GNUTLS_E_AGAIN)
            break;
        if (n == GNUTLS_E_INTERRUPTED || (n < 0 && !gnutls_error_is_fatal((int)n)))
            continue; /* NewSessionTicket, a warning alert, a refused renegotiation */
        if (n == 0) {
            t->err = VIRTWIRE_ECLOSED; /* close_notify */
            t->saved_errno = 0;
            break;
        }
        int err;
        t->err = gnutls_code(t, (int)n, VIRTWIRE_EIO, &err);
        t->saved_errno = t->err == VIRTWIRE_EIO && !err ? EPROTO : err;
        char what[256];
        describe(t, (int)n, what, sizeof what);
        vw_tls_msgf(t->detail, sizeof t->detail, "TLS read failed: %s", what);
    }
    if (total)
        return (ssize_t)total;
    if (t->err) {
        errno = t->saved_errno;
        return t->err;
    }
    return 0;
}

/* Writing failed for good: the sticky error, and why. */
static int write_failed(tls_channel *t, int grc)
{
    int err;
    t->werr = t->out_of_memory ? VIRTWIRE_ENOMEM : gnutls_code(t, grc, VIRTWIRE_EIO, &err);
    if (t->out_of_memory)
        err = ENOMEM;
    t->saved_errno = t->werr == VIRTWIRE_EIO && !err ? EPROTO : err;
    char what[256];
    describe(t, grc, what, sizeof what);
    vw_tls_msgf(t->detail, sizeof t->detail, "TLS write failed: %s", what);
    return t->werr;
}

/* Writes the records waiting in out.  Returns 1 when all are written, 0
 * when the socket is full, or the sticky write error. */
static int flush_out(tls_channel *t)
{
    while (t->out_off < t->out_len) {
        struct iovec iov = { t->out + t->out_off, t->out_len - t->out_off };
        errno = 0;
        ssize_t w = virtwire_channel_writev(t->inner, &iov, 1);
        if (w == 0)
            return 0;
        if (w < 0) {
            t->werr = (int)w;
            t->saved_errno = errno;
            vw_tls_msgf(t->detail, sizeof t->detail, "TLS write failed: %s",
                        w == VIRTWIRE_ECLOSED ? "the peer closed the connection"
                                              : strerror(errno ? errno : EIO));
            return t->werr;
        }
        t->out_off += (size_t)w;
    }
    t->out_off = t->out_len = 0;
    return 1;
}

/* Copies n bytes of the iovecs from (i, off) into dst. */
static void gather(const struct iovec *iov, size_t i, size_t off, unsigned char *dst, size_t n)
{
    while (n) {
        size_t k = iov[i].iov_len - off;
        if (k > n)
            k = n;
        memcpy(dst, (const unsigned char *)iov[i].iov_base + off, k);
        dst += k;
        n -= k;
        off = 0;
        i++;
    }
}

/* The size of the next record: up to avail bytes (from (i, off)), at most
 * record_max, and never past the end of the current frame.  At a frame's
 * start, *frame_len gets its length word (0 while the word is not whole
 * yet, which only a caller offering a cut word can make happen). */
static size_t next_record(tls_channel *t, const struct iovec *iov, size_t i, size_t off,
                          size_t avail, uint32_t *frame_len)
{
    size_t cap = avail < t->record_max ? avail : t->record_max;
    *frame_len = 0;
    if (t->unframed)
        return cap;
    if (t->frame_left > 0)
        return cap < t->frame_left ? cap : t->frame_left;
    unsigned char w[4];
    memcpy(w, t->lenbuf, t->len_have);
    size_t k = 4 - t->len_have < avail ? 4 - t->len_have : avail;
    gather(iov, i, off, w + t->len_have, k);
    if (t->len_have + k < 4)
        return k; /* the start of a cut length word: a record of its own */
    uint32_t len = (uint32_t)w[0] << 24 | (uint32_t)w[1] << 16 | (uint32_t)w[2] << 8 | w[3];
    if (len < FRAME_MIN || len > FRAME_MAX) {
        t->unframed = 1; /* not libvirt's frames: plain records from now on */
        return cap;
    }
    *frame_len = len;
    size_t rest = len - t->len_have;
    return cap < rest ? cap : rest;
}

/* Moves the frame state on by a record of n bytes starting at p. */
static void frame_advance(tls_channel *t, const unsigned char *p, size_t n, uint32_t frame_len)
{
    if (t->unframed)
        return;
    if (t->frame_left == 0) {
        if (!frame_len) {
            memcpy(t->lenbuf + t->len_have, p, n); /* n < 4 - len_have */
            t->len_have += n;
            return;
        }
        t->frame_left = frame_len - t->len_have;
        t->len_have = 0;
    }
    t->frame_left -= n;
}

static ssize_t tls_writev(virtwire_channel *ch, const struct iovec *iov, size_t niov)
{
    tls_channel *t = (tls_channel *)ch;
    if (t->state != ST_READY)
        return t->state == ST_FAILED ? t->err : 0;
    if (t->werr) {
        errno = t->saved_errno;
        return t->werr;
    }
    size_t total = 0;
    for (size_t i = 0; i < niov; i++)
        total += iov[i].iov_len;
    size_t done = 0;
    if (t->out_len) {
        /* Records made by an earlier call: these are their bytes again
         * (virtwire_tls_channel_new() says so); finish writing them. */
        if (total < t->pending)
            return VIRTWIRE_EINVAL;
        int rc = flush_out(t);
        if (rc <= 0) {
            errno = t->saved_errno;
            return rc;
        }
        done = t->pending;
        t->pending = 0;
    }
    /* More records, into out, from the bytes after those. */
    size_t i = 0, off = done;
    while (i < niov && off >= iov[i].iov_len) {
        off -= iov[i].iov_len;
        i++;
    }
    size_t batch = 0;
    t->batching = 1;
    while (done + batch < total && batch < BATCH_MAX) {
        uint32_t frame_len;
        size_t n = next_record(t, iov, i, off, total - done - batch, &frame_len);
        const unsigned char *p;
        if (iov[i].iov_len - off >= n) {
            p = (const unsigned char *)iov[i].iov_base + off;
        } else {
            gather(iov, i, off, t->scratch, n);
            p = t->scratch;
        }
        ssize_t w;
        do
            w = gnutls_record_send(t->s, p, n);
        while (w == GNUTLS_E_INTERRUPTED);
        if (w < 0) {
            /* Only GnuTLS itself can fail here (no memory): pushing into
             * out does not wait for the socket. */
            t->batching = 0;
            write_failed(t, (int)w);
            if (done)
                return (ssize_t)done; /* reported next time */
            errno = t->saved_errno;
            return t->werr;
        }
        frame_advance(t, p, n, frame_len);
        batch += n;
        off += n;
        while (i < niov && off >= iov[i].iov_len && done + batch < total) {
            off -= iov[i].iov_len;
            i++;
        }
    }
    t->batching = 0;
    if (!batch)
        return (ssize_t)done;
    int rc = flush_out(t);
    if (rc < 0) {
        if (done)
            return (ssize_t)done; /* reported next time */
        errno = t->saved_errno;
        return rc;
    }
    if (rc == 0)
        t->pending = batch; /* written once out is: offered again next time */
    else
        done += batch;
    return (ssize_t)done;
}

static const char *tls_error_detail(virtwire_channel *ch)
{
    tls_channel *t = (tls_channel *)ch;
    if (t->detail[0])
        return t->detail;
    return virtwire_channel_error_detail(t->inner);
}

/* SASL's external SSF: the cipher's key size in bits, once ready. */
static unsigned int tls_ssf(virtwire_channel *ch)
{
    tls_channel *t = (tls_channel *)ch;
    return t->state == ST_READY && t->ssf > 0 ? (unsigned int)t->ssf : 0;
}

static void tls_shutdown(virtwire_channel *ch)
{
    tls_channel *t = (tls_channel *)ch;
    /* The socket only: the session is not for this thread to touch. */
    virtwire_channel_shutdown(t->inner);
}

static void tls_free(virtwire_channel *ch)
{
    tls_channel *t = (tls_channel *)ch;
    /* No close_notify, as libvirt sends none: the connection's end is the
     * socket's. */
    if (t->s)
        gnutls_deinit(t->s);
    virtwire_channel_free(t->inner);
    virtwire_tls_creds_free(t->creds);
    free(t->hostname);
    free(t->peer_dn);
    free(t->raw);
    free(t->scratch);
    free(t->out);
    free(t);
}

static const virtwire_channel_ops tls_ops = {
    .size = sizeof tls_ops,
    .name = "tls",
    .read = tls_read,
    .writev = tls_writev,
    .handshake = tls_handshake,
    .events = tls_events,
    .error_detail = tls_error_detail,
    .ssf = tls_ssf,
    .shutdown = tls_shutdown,
    .free = tls_free,
};

/* ------------------------------------------------------------------------ */
/* Making channels                                                          */
/* ------------------------------------------------------------------------ */

int virtwire_tls_channel_new(virtwire_tls_creds *creds, virtwire_channel *inner,
                             const char *hostname, char *errbuf, size_t errlen,
                             virtwire_channel **out)
{
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (out)
        *out = NULL;
    if (!creds || !inner || !out) {
        virtwire_channel_free(inner);
        return VIRTWIRE_EINVAL;
    }
    tls_channel *t = calloc(1, sizeof *t);
    if (!t) {
        virtwire_channel_free(inner);
        return VIRTWIRE_ENOMEM;
    }
    t->base.ops = &tls_ops;
    t->base.fd = inner->fd;
    t->base.flags = 0; /* no fds over TLS */
    t->inner = inner;
    t->creds = vw_tls_creds_ref(creds);
    t->is_server = creds->role == VIRTWIRE_TLS_SERVER;
    t->state = ST_HANDSHAKE;
    t->record_max = RECORD_MAX;
    if (creds->handshake_timeout_ms > 0)
        t->deadline_ms = now_ms() + creds->handshake_timeout_ms;
    int rc = 0;
    t->raw = malloc(RAW_SIZE);
    t->scratch = malloc(RECORD_MAX);
    if (!t->raw || !t->scratch)
        rc = VIRTWIRE_ENOMEM;
    if (rc == 0 && !t->is_server && !(t->hostname = strdup(hostname ? hostname : "localhost")))
        rc = VIRTWIRE_ENOMEM;
    if (rc == 0) {
        int grc = gnutls_init(&t->s, t->is_server ? GNUTLS_SERVER : GNUTLS_CLIENT);
        if (grc < 0) {
            t->s = NULL;
            vw_tls_msgf(errbuf, errlen, "Failed to initialize TLS session: %s",
                        gnutls_strerror(grc));
            rc = grc == GNUTLS_E_MEMORY_ERROR ? VIRTWIRE_ENOMEM : VIRTWIRE_EINVAL;
        }
    }
    if (rc == 0) {
        int grc = gnutls_priority_set(t->s, creds->prio);
        if (grc >= 0)
            grc = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, creds->x509);
        if (grc < 0) {
            vw_tls_msgf(errbuf, errlen, "Failed set TLS x509 credentials: %s",
                        gnutls_strerror(grc));
            rc = grc == GNUTLS_E_MEMORY_ERROR ? VIRTWIRE_ENOMEM : VIRTWIRE_EINVAL;
        }
    }
    if (rc < 0) {
        tls_free(&t->base);
        return rc;
    }
    /* The client's certificate is asked for, and checked after the
     * handshake (so that no_verify can let it pass), as libvirtd does. */
    if (t->is_server)
        gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_REQUEST);
    gnutls_handshake_set_timeout(t->s, 0);
    gnutls_transport_set_ptr(t->s, t);
    gnutls_transport_set_pull_function(t->s, pull);
    gnutls_transport_set_pull_timeout_function(t->s, pull_timeout);
    gnutls_transport_set_vec_push_function(t->s, vec_push);
    *out = &t->base;
    return 0;
}

int virtwire_tls_make_channel(int fd, int is_unix, void *creds, virtwire_channel **out)
{
    virtwire_channel *sock;
    if (out)
        *out = NULL;
    if (!creds || !out) {
        if (fd >= 0)
            close(fd);
        return VIRTWIRE_EINVAL;
    }
    int rc = virtwire_channel_socket_new(fd, is_unix, &sock);
    if (rc < 0)
        return rc;
    return virtwire_tls_channel_new(creds, sock, NULL, NULL, 0, out);
}

int virtwire_tls_channel_is_tls(const virtwire_channel *ch)
{
    return ch && ch->ops == &tls_ops;
}

const char *virtwire_tls_channel_peer_dn(const virtwire_channel *ch)
{
    return virtwire_tls_channel_is_tls(ch) ? ((const tls_channel *)ch)->peer_dn : NULL;
}

int virtwire_tls_channel_ssf(const virtwire_channel *ch)
{
    if (!virtwire_tls_channel_is_tls(ch))
        return 0;
    const tls_channel *t = (const tls_channel *)ch;
    return t->state == ST_READY ? t->ssf : 0;
}
