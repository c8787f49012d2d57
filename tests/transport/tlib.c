/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _POSIX_C_SOURCE 200809L
#include "tlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *str_or_null(virNetMessageString s)
{
    return s ? *s : "(null)";
}

void tl_log_msg(vt_buf *log, char kind, const virtwire_transport_msg *m)
{
    vt_buf_printf(log, "%c prog=%x vers=%u proc=%d type=%d serial=%u status=%d len=%zu", kind,
                  m->hdr.prog, m->hdr.vers, m->hdr.proc, (int)m->hdr.type, m->hdr.serial,
                  (int)m->hdr.status, m->payload_len);
    if (m->payload_len <= 96) {
        vt_buf_printf(log, " data=");
        for (size_t i = 0; i < m->payload_len; i++)
            vt_buf_printf(log, "%02x", m->payload[i]);
    } else {
        /* Tests check big payloads' content through hooks. */
        vt_buf_printf(log, " data=...");
    }
    vt_buf_printf(log, " fds=%zu", m->nfds);
    if (m->error)
        vt_buf_printf(log, " error=%d/%d/%d/%s", m->error->code, m->error->domain,
                      m->error->level, str_or_null(m->error->message));
    if (m->hole)
        vt_buf_printf(log, " hole=%lld/%u", (long long)m->hole->length, m->hole->flags);
    vt_buf_printf(log, "\n");
}

static int log_cb(char kind, virtwire_transport_program *p, const virtwire_transport_msg *m,
                  void *opaque)
{
    tl_endpoint *e = opaque;
    tl_log_msg(&e->log, kind, m);
    return e->hook ? e->hook(e, kind, p, m) : 0;
}

static int on_call(virtwire_transport_program *p, const virtwire_transport_msg *m, void *o)
{
    return log_cb('C', p, m, o);
}

static int on_reply(virtwire_transport_program *p, const virtwire_transport_msg *m, void *o)
{
    return log_cb('R', p, m, o);
}

static int on_message(virtwire_transport_program *p, const virtwire_transport_msg *m, void *o)
{
    return log_cb('M', p, m, o);
}

static int on_stream(virtwire_transport_program *p, const virtwire_transport_msg *m, void *o)
{
    return log_cb('S', p, m, o);
}

static int on_send(virtwire_transport *t, const struct iovec *iov, size_t niov, const int *fds,
                   size_t nfds, void *opaque)
{
    tl_endpoint *e = opaque;
    (void)t;
    if (e->fail_send)
        return -1;
    e->last_niov = niov;
    for (size_t i = 0; i < niov && i < 16; i++) {
        e->last_iov_len[i] = iov[i].iov_len;
        e->last_iov_base[i] = iov[i].iov_base;
        vt_buf_add(&e->out, iov[i].iov_base, iov[i].iov_len);
    }
    e->last_nfds = nfds;
    for (size_t i = 0; i < nfds && i < 32; i++)
        e->last_fds[i] = fds[i];
    for (size_t i = 0; i < nfds; i++) {
        if (e->nfds >= TL_MAX_FDS)
            abort();
        /* The fds are borrowed: keep duplicates, as sendmsg() would. */
        e->fds[e->nfds++] = dup(fds[i]);
    }
    if (e->frames >= TL_MAX_FRAMES)
        abort();
    e->frame_payload[e->frames] = niov > 1 ? iov[1].iov_base : NULL;
    e->frame_end[e->frames] = e->out.len;
    e->frame_nfds[e->frames] = nfds;
    e->frames++;
    return 0;
}

static void on_error(virtwire_transport *t, int code, const virNetMessageHeader *hdr, int fatal,
                     void *opaque)
{
    tl_endpoint *e = opaque;
    (void)t;
    vt_buf_printf(&e->log, "E %s %s", fatal ? "fatal" : "dropped",
                  virtwire_error_name(code));
    if (hdr)
        vt_buf_printf(&e->log, " type=%d serial=%u status=%d", (int)hdr->type, hdr->serial,
                      (int)hdr->status);
    vt_buf_printf(&e->log, "\n");
}

static void on_dead(virtwire_transport *t, void *opaque)
{
    tl_endpoint *e = opaque;
    (void)t;
    e->dead++;
    vt_buf_printf(&e->log, "D dead\n");
}

static uint64_t clock_ms(void *opaque)
{
    return ((tl_endpoint *)opaque)->now;
}

void tl_endpoint_init(tl_endpoint *e, const char *name, virtwire_transport_role role)
{
    memset(e, 0, sizeof(*e));
    e->name = name;
    virtwire_transport_callbacks cbs = {
        .size = sizeof cbs,
        .on_send = on_send,
        .on_error = on_error,
        .on_keepalive_dead = on_dead,
        .clock_ms = clock_ms,
    };
    if (virtwire_transport_new(role, &cbs, e, &e->t) != 0)
        abort();
}

void tl_endpoint_clear_out(tl_endpoint *e)
{
    for (size_t i = 0; i < e->nfds; i++)
        close(e->fds[i]);
    e->nfds = 0;
    e->frames = 0;
    e->out.len = 0;
}

void tl_endpoint_fini(tl_endpoint *e)
{
    virtwire_transport_free(e->t);
    tl_endpoint_clear_out(e);
    vt_buf_free(&e->out);
    vt_buf_free(&e->log);
}

virtwire_transport_program *tl_register(tl_endpoint *e, uint32_t program, uint32_t version)
{
    static const virtwire_transport_program_callbacks cbs = {
        .size = sizeof cbs,
        .on_call = on_call,
        .on_reply = on_reply,
        .on_message = on_message,
        .on_stream = on_stream,
    };
    virtwire_transport_program *p;
    if (virtwire_transport_register(e->t, program, version, &cbs, e, &p) != 0 ||
        e->nprogs >= TL_MAX_PROGS)
        abort();
    e->progs[e->nprogs++] = p;
    return p;
}

int tl_pump(tl_endpoint *from, tl_endpoint *to)
{
    size_t off = 0, fdi = 0, frame = 0, fds_due = 0;
    int rc = 0;
    while (off < from->out.len || fdi < fds_due) {
        virtwire_need need = virtwire_transport_need(to->t);
        if (need.kind == VIRTWIRE_NEED_FDS) {
            if (fdi >= from->nfds) {
                rc = -1000; /* the sender sent fewer fds than announced */
                break;
            }
            int fd = from->fds[fdi];
            from->fds[fdi++] = -1;
            rc = virtwire_transport_receive_fd(to->t, fd);
            if (rc < 0)
                break;
            continue;
        }
        if (need.kind != VIRTWIRE_NEED_BYTES) {
            rc = virtwire_transport_error(to->t);
            break;
        }
        size_t n = from->out.len - off;
        if (n > need.count)
            n = need.count;
        ssize_t got = virtwire_transport_receive(to->t, from->out.p + off, n);
        if (got < 0) {
            rc = (int)got;
            break;
        }
        off += (size_t)got;
        while (frame < from->frames && from->frame_end[frame] <= off)
            fds_due += from->frame_nfds[frame++];
    }
    /* Whatever was not delivered is discarded. */
    for (size_t i = fdi; i < from->nfds; i++)
        if (from->fds[i] >= 0)
            close(from->fds[i]);
    from->nfds = 0;
    from->frames = 0;
    from->out.len = 0;
    return rc;
}

int tl_exchange(tl_endpoint *a, tl_endpoint *b)
{
    for (int round = 0; round < 64; round++) {
        if (!a->out.len && !b->out.len)
            return 0;
        int rc = tl_pump(a, b);
        if (rc < 0)
            return rc;
        rc = tl_pump(b, a);
        if (rc < 0)
            return rc;
    }
    return -2000; /* ping-pong that never ends */
}
