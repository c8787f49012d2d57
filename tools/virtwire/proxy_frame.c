/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire proxy: frames in and out, fds included.  See proxy.h for the
 * framing rules and who owns the fds, proxy_frame.h for the functions.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy_frame.h"
#include "virtwire_xdr.h"

/* ------------------------------------------------------------------------ */
/* In                                                                       */
/* ------------------------------------------------------------------------ */

void vp_in_init(vp_in *in, int32_t fds_type)
{
    memset(in, 0, sizeof *in);
    in->fds_type = fds_type;
}

void vp_in_free(vp_in *in)
{
    for (size_t i = 0; i < in->nheld; i++)
        close(in->held[i].fd);
    in->nheld = 0;
    free(in->buf);
    in->buf = NULL;
    in->cap = in->start = in->end = 0;
}

void vp_frame_close_fds(vp_frame *f)
{
    for (size_t i = 0; i < f->nfds; i++)
        if (f->fds[i] >= 0) {
            close(f->fds[i]);
            f->fds[i] = -1;
        }
    f->nfds = 0;
}

void vp_frame_header(vp_frame *f, const unsigned char *p)
{
    f->prog = virtwire_load_u32(p + 4);
    f->vers = virtwire_load_u32(p + 8);
    f->proc = (int32_t)virtwire_load_u32(p + 12);
    f->type = (int32_t)virtwire_load_u32(p + 16);
    f->serial = virtwire_load_u32(p + 20);
    f->status = (int32_t)virtwire_load_u32(p + 24);
}

/* Closes the held fds that came with bytes before stream offset upto:
 * nobody asks for them any more. */
static void drop_held_before(vp_in *in, uint64_t upto)
{
    size_t k = 0;
    for (size_t i = 0; i < in->nheld; i++) {
        if (in->held[i].at < upto)
            close(in->held[i].fd);
        else
            in->held[k++] = in->held[i];
    }
    in->nheld = k;
}

/* The held fd that came with the byte at stream offset at, taken; -1 if
 * none. */
static int take_held(vp_in *in, uint64_t at)
{
    for (size_t i = 0; i < in->nheld; i++) {
        if (in->held[i].at == at) {
            int fd = in->held[i].fd;
            in->held[i] = in->held[--in->nheld];
            return fd;
        }
    }
    return -1;
}

/* How many bytes the frame starting at buf[start] needs in all, dummy
 * bytes included, once enough of it is there to say (else 0); sets
 * *nfds.  A negative error for a frame that cannot be. */
static long frame_extent(const vp_in *in, size_t *nfds)
{
    size_t have = in->end - in->start;
    *nfds = 0;
    if (have < 4)
        return 0; /* (buf may be NULL yet) */
    const unsigned char *p = in->buf + in->start;
    uint32_t len = virtwire_load_u32(p);
    if (len < VIRTWIRE_FRAME_MIN || len > VIRTWIRE_FRAME_MAX)
        return VP_EFRAME_LENGTH;
    if (have < 20)
        return 0;
    int32_t type = (int32_t)virtwire_load_u32(p + 16);
    if (type != in->fds_type)
        return (long)len;
    /* The fd count follows the header; a frame too short for it has no
     * fds (libvirt then fails to decode the count and drops the peer: the
     * other side will). */
    if (len < VIRTWIRE_FRAME_MIN + 4)
        return (long)len;
    if (have < VIRTWIRE_FRAME_MIN + 4)
        return 0;
    uint32_t n = virtwire_load_u32(p + VIRTWIRE_FRAME_MIN);
    if (n > VIRTWIRE_FDS_MAX)
        return VP_EFDS_MAX;
    *nfds = n;
    return (long)len + (long)n;
}

int vp_in_room(vp_in *in, unsigned char **p, size_t *len)
{
    if (in->error)
        return in->error;
    /* Slide the unconsumed bytes to the front. */
    if (in->start > 0) {
        memmove(in->buf, in->buf + in->start, in->end - in->start);
        in->end -= in->start;
        in->start = 0;
    }
    size_t want = VP_INPUT_SIZE;
    size_t nfds;
    long ext = frame_extent(in, &nfds);
    if (ext > 0 && (size_t)ext > want)
        want = (size_t)ext; /* one whole large frame */
    if (in->end == 0 && in->cap > VP_INPUT_SIZE) {
        /* A large frame has gone: give the memory back. */
        free(in->buf);
        in->buf = NULL;
        in->cap = 0;
    }
    if (in->cap < want || in->cap == in->end) {
        size_t cap = want > in->end + 1 ? want : in->end + 1;
        if (cap < VP_INPUT_SIZE)
            cap = VP_INPUT_SIZE;
        unsigned char *b = realloc(in->buf, cap);
        if (!b)
            return in->error = VP_ENOMEM;
        in->buf = b;
        in->cap = cap;
    }
    *p = in->buf + in->end;
    *len = in->cap - in->end;
    return 0;
}

void vp_in_filled(vp_in *in, size_t n, int fd)
{
    in->end += n;
    if (fd < 0)
        return;
    if (n == 0 || in->nheld == VP_FDS_HELD) {
        close(fd);
        if (n && !in->error)
            in->error = VP_EFDS_HELD;
        return;
    }
    in->held[in->nheld].fd = fd;
    in->held[in->nheld].at = in->pos + (in->end - in->start) - 1;
    in->nheld++;
}

int vp_in_partial(const vp_in *in)
{
    return in->end > in->start;
}

int vp_in_next(vp_in *in, vp_frame *f)
{
    if (in->error)
        return in->error;
    size_t nfds;
    long ext = frame_extent(in, &nfds);
    if (ext < 0)
        return in->error = (int)ext;
    if (ext == 0 || in->end - in->start < (size_t)ext) {
        /* fds that came with bytes of this frame before its dummy bytes
         * are nobody's. */
        return 0;
    }
    const unsigned char *p = in->buf + in->start;
    size_t len = (size_t)ext - nfds;
    /* Every dummy byte must have come with its fd. */
    for (size_t i = 0; i < nfds; i++) {
        int fd = take_held(in, in->pos + len + i);
        if (fd < 0) {
            for (size_t k = 0; k < i; k++)
                close(f->fds[k]);
            return in->error = VP_EFD_MISSING;
        }
        f->fds[i] = fd;
    }
    f->nfds = nfds;
    f->bytes = p;
    f->len = len;
    vp_frame_header(f, p);
    in->start += (size_t)ext;
    in->pos += (uint64_t)ext;
    drop_held_before(in, in->pos);
    if (in->start == in->end) {
        in->start = in->end = 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Out                                                                      */
/* ------------------------------------------------------------------------ */

void vp_out_free(vp_out *o)
{
    for (size_t i = 0; i < o->flen; i++)
        close(o->fdq[o->fhead + i].fd);
    free(o->fdq);
    free(o->q);
    memset(o, 0, sizeof *o);
}

size_t vp_out_pending(const vp_out *o)
{
    return o->len + o->flen;
}

static int queue_bytes(vp_out *o, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (o->cap - o->head - o->len < n) {
        if (o->head) {
            memmove(o->q, o->q + o->head, o->len);
            o->head = 0;
        }
        if (o->cap - o->len < n) {
            size_t cap = o->cap ? o->cap : 4096;
            while (cap - o->len < n) {
                if (cap > SIZE_MAX / 2)
                    return VP_ENOMEM;
                cap *= 2;
            }
            unsigned char *q = realloc(o->q, cap);
            if (!q)
                return VP_ENOMEM;
            o->q = q;
            o->cap = cap;
        }
    }
    memcpy(o->q + o->head + o->len, p, n);
    o->len += n;
    return 0;
}

static int queue_fd(vp_out *o, int fd, uint64_t pos)
{
    if (o->fhead + o->flen == o->fcap) {
        if (o->fhead) {
            memmove(o->fdq, o->fdq + o->fhead, o->flen * sizeof *o->fdq);
            o->fhead = 0;
        } else {
            size_t cap = o->fcap ? o->fcap * 2 : 8;
            struct vp_out_fd *q = realloc(o->fdq, cap * sizeof *q);
            if (!q)
                return VP_ENOMEM;
            o->fdq = q;
            o->fcap = cap;
        }
    }
    o->fdq[o->fhead + o->flen].fd = fd;
    o->fdq[o->fhead + o->flen].pos = pos;
    o->flen++;
    return 0;
}

int vp_out_flush(vp_out *o, virtwire_channel *ch)
{
    for (;;) {
        if (o->flen && o->fdq[o->fhead].pos == o->written) {
            int rc = virtwire_channel_send_fd(ch, o->fdq[o->fhead].fd);
            if (rc <= 0)
                return rc;
            close(o->fdq[o->fhead].fd);
            o->fhead++;
            if (--o->flen == 0)
                o->fhead = 0;
            continue;
        }
        if (o->len == 0)
            return 0;
        size_t n = o->len;
        if (o->flen && o->fdq[o->fhead].pos - o->written < n)
            n = (size_t)(o->fdq[o->fhead].pos - o->written);
        struct iovec iov = { o->q + o->head, n };
        ssize_t w = virtwire_channel_writev(ch, &iov, 1);
        if (w <= 0)
            return (int)w;
        o->head += (size_t)w;
        o->len -= (size_t)w;
        o->written += (uint64_t)w;
        if (o->len == 0)
            o->head = 0;
    }
}

int vp_out_send(vp_out *o, virtwire_channel *ch, const struct iovec *iov, size_t niov, int *fds,
                size_t nfds)
{
    size_t total = 0;
    for (size_t i = 0; i < niov; i++)
        total += iov[i].iov_len;
    size_t sent = 0, fds_sent = 0;
    int rc = 0;
    /* What is queued goes first; if the channel takes it all, this frame
     * may go straight out too, without a copy. */
    if (ch && vp_out_pending(o) && (rc = vp_out_flush(o, ch)) < 0)
        goto fail;
    if (ch && vp_out_pending(o) == 0) {
        ssize_t w = total ? virtwire_channel_writev(ch, iov, niov) : 0;
        if (w < 0) {
            rc = (int)w;
            goto fail;
        }
        sent = (size_t)w;
        o->written += (uint64_t)w;
        while (sent == total && fds_sent < nfds) {
            if (fds[fds_sent] < 0) {
                fds_sent++;
                continue;
            }
            int r = virtwire_channel_send_fd(ch, fds[fds_sent]);
            if (r < 0) {
                rc = r;
                goto fail;
            }
            if (r == 0)
                break;
            close(fds[fds_sent]);
            fds[fds_sent++] = -1;
        }
    }
    /* The rest is copied. */
    size_t skip = sent;
    for (size_t i = 0; i < niov && rc == 0; i++) {
        size_t len = iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        rc = queue_bytes(o, (const unsigned char *)iov[i].iov_base + skip, len - skip);
        skip = 0;
    }
    uint64_t end = o->written + o->len;
    for (size_t i = fds_sent; rc == 0 && i < nfds; i++) {
        if (fds[i] < 0)
            continue;
        rc = queue_fd(o, fds[i], end);
        if (rc == 0)
            fds[i] = -1;
    }
    if (rc == 0)
        return 0;
fail:
    for (size_t i = 0; i < nfds; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    return rc;
}
