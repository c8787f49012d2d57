/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vt_frame.h"

#include <stdlib.h>
#include <string.h>

#include "remote_protocol.h"
#include "vt_sys.h"

unsigned char *vt_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return p + 4;
}

uint32_t vt_get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void vt_frame_header(unsigned char *out, uint32_t prog, int32_t proc, int type, uint32_t serial,
                     int status, size_t len)
{
    unsigned char *p = vt_put32(out, (uint32_t)(VT_FRAME_HEADER + len));
    p = vt_put32(p, prog);
    p = vt_put32(p, 1);
    p = vt_put32(p, (uint32_t)proc);
    p = vt_put32(p, (uint32_t)type);
    p = vt_put32(p, serial);
    vt_put32(p, (uint32_t)status);
}

uint32_t vt_frame_parse(const unsigned char *h, virNetMessageHeader *hdr)
{
    hdr->prog = vt_get32(h + 4);
    hdr->vers = vt_get32(h + 8);
    hdr->proc = (int32_t)vt_get32(h + 12);
    hdr->type = (virNetMessageType)vt_get32(h + 16);
    hdr->serial = vt_get32(h + 20);
    hdr->status = (virNetMessageStatus)vt_get32(h + 24);
    return vt_get32(h);
}

int vt_read_frame(int fd, vt_frame *f, int timeout_ms)
{
    unsigned char h[VT_FRAME_HEADER];
    memset(f, 0, sizeof *f);
    if (vt_read_exact(fd, h, 4, timeout_ms) < 0)
        return -1;
    uint32_t len = vt_get32(h);
    if (len < VT_FRAME_HEADER || len > VIR_NET_MESSAGE_MAX + 4)
        return -1;
    if (vt_read_exact(fd, h + 4, VT_FRAME_HEADER - 4, timeout_ms) < 0)
        return -1;
    vt_frame_parse(h, &f->hdr);
    f->len = len - VT_FRAME_HEADER;
    f->payload = malloc(f->len ? f->len : 1);
    if (!f->payload || vt_read_exact(fd, f->payload, f->len, timeout_ms) < 0) {
        vt_frame_free(f);
        return -1;
    }
    return 0;
}

void vt_frame_free(vt_frame *f)
{
    free(f->payload);
    f->payload = NULL;
    f->len = 0;
}

int vt_send_frame(int fd, int32_t proc, int type, uint32_t serial, int status,
                  const void *payload, size_t len)
{
    unsigned char h[VT_FRAME_HEADER];
    vt_frame_header(h, REMOTE_PROGRAM, proc, type, serial, status, len);
    if (vt_write_all(fd, h, sizeof h) < 0)
        return -1;
    return len ? vt_write_all(fd, payload, len) : 0;
}

unsigned char *vt_build_value(int32_t proc, int type, uint32_t serial, int status,
                              const virtwire_type *t, const void *v, size_t *len)
{
    size_t n = t ? t->encoded_size(v) : 0;
    unsigned char *buf = malloc(VT_FRAME_HEADER + n);
    size_t got = 0;
    if (!buf)
        return NULL;
    if (t && virtwire_encode(t, v, buf + VT_FRAME_HEADER, n, &got) < 0) {
        free(buf);
        return NULL;
    }
    vt_frame_header(buf, REMOTE_PROGRAM, proc, type, serial, status, got);
    *len = VT_FRAME_HEADER + got;
    return buf;
}

int vt_send_value(int fd, int32_t proc, int type, uint32_t serial, int status,
                  const virtwire_type *t, const void *v)
{
    size_t len;
    unsigned char *buf = vt_build_value(proc, type, serial, status, t, v, &len);
    int rc = buf ? vt_write_all(fd, buf, len) : -1;
    free(buf);
    return rc;
}

int vt_serve_handshake(int fd, int keepalive)
{
    for (int i = 0; i < 3; i++) {
        vt_frame f;
        if (vt_read_frame(fd, &f, 5000) < 0)
            return -1;
        int rc = -1;
        if (f.hdr.proc == REMOTE_PROC_AUTH_LIST) {
            remote_auth_type none = REMOTE_AUTH_NONE;
            remote_auth_list_ret r = { { 1, &none } };
            rc = vt_send_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK,
                               &remote_auth_list_ret_desc, &r);
        } else if (f.hdr.proc == REMOTE_PROC_CONNECT_SUPPORTS_FEATURE) {
            remote_connect_supports_feature_ret r = { keepalive };
            rc = vt_send_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK,
                               &remote_connect_supports_feature_ret_desc, &r);
        } else if (f.hdr.proc == REMOTE_PROC_CONNECT_OPEN) {
            rc = vt_send_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK, NULL,
                               NULL);
        }
        vt_frame_free(&f);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int vt_client_handshake(int fd)
{
    unsigned char buf[512];
    size_t off = 0;
    remote_connect_supports_feature_args fa = { 10 };
    char *name = (char *)"test:///default";
    remote_connect_open_args oa = { &name, 0 };
    const struct {
        int32_t proc;
        const virtwire_type *t;
        const void *v;
    } calls[3] = {
        { REMOTE_PROC_AUTH_LIST, NULL, NULL },
        { REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, &remote_connect_supports_feature_args_desc, &fa },
        { REMOTE_PROC_CONNECT_OPEN, &remote_connect_open_args_desc, &oa },
    };
    for (uint32_t i = 0; i < 3; i++) {
        size_t len;
        unsigned char *a = vt_build_value(calls[i].proc, VIR_NET_CALL, i + 1, VIR_NET_OK,
                                          calls[i].t, calls[i].v, &len);
        /* No frame (no memory, or a value the encoder refuses): no length. */
        if (!a || len > sizeof buf - off) {
            free(a);
            return -1;
        }
        memcpy(buf + off, a, len);
        off += len;
        free(a);
    }
    if (vt_write_all(fd, buf, off) < 0)
        return -1;
    for (uint32_t serial = 1; serial <= 3; serial++) {
        vt_frame f;
        if (vt_read_frame(fd, &f, 5000) < 0)
            return -1;
        int ok = f.hdr.type == VIR_NET_REPLY && f.hdr.status == VIR_NET_OK &&
                 f.hdr.serial == serial;
        vt_frame_free(&f);
        if (!ok)
            return -1;
    }
    return 0;
}
