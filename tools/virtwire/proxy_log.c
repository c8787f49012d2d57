/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire proxy: the recording.  One JSON line per message (and per
 * session start and end), and a pcapng capture of the same traffic.
 *
 * JSON lines (tools/virtwire/README.md, "proxy", has the reference):
 *
 *   {"time":T,"client":N,"event":"open","peer":"unix"}
 *   {"time":T,"client":N,"from":"client","program":"remote",
 *    "procedure":"REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME","proc":23,
 *    "type":"VIR_NET_CALL","serial":5,"status":"VIR_NET_OK","size":48,
 *    "args":{"name":"test"}}
 *   {... "from":"daemon", "type":"VIR_NET_REPLY", ..., "latency_us":85.2,
 *    "ret":{...}}
 *   {"time":T,"client":N,"event":"close","by":"client","reason":"..."}
 *
 * The capture: each session is a TCP connection from 127.A.B.C (from the
 * client's id) to 127.0.0.1:16509, libvirt's TCP port, so that tshark's
 * libvirt dissector takes it as it is: a handshake, the frames as TCP
 * segments (at most 65495 bytes each, with consistent sequence and
 * acknowledgement numbers and a window scaled to 1 GiB), the fds a frame
 * carried in the comment of its packet (their dummy bytes are not part of
 * the stream), and FINs at the end.  Raw IPv4 link type (101).
 */
#define _GNU_SOURCE

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy.h"
#include "virnetprotocol.h"
#include "virnetprotocol_json.h"
#include "virtwire_xdr.h"

/* The calls of one session whose replies are awaited, for latencies, in
 * the order they were sent (replies mostly come in that order, so the one
 * a reply answers is found near the front).  The calls in flight are
 * bounded by the queues between the client and the daemon; a daemon that
 * takes calls and never answers could still make this grow: beyond
 * MAX_INFLIGHT, the oldest are forgotten (their replies get no
 * latency_us). */
#define MAX_INFLIGHT ((size_t)1 << 17)

typedef struct inflight {
    uint32_t prog, vers, serial;
    uint64_t t_ns;
} inflight;

/* One direction of the captured TCP connection. */
typedef struct tcp_dir {
    uint32_t seq;   /* next sequence number to send */
    uint32_t acked; /* what the other side acknowledged last */
} tcp_dir;

struct vp_log_session {
    unsigned long id;
    inflight *calls; /* a ring: calls[head .. head + ncalls) modulo cap */
    size_t head, ncalls, cap;
    tcp_dir c, d; /* client to daemon, daemon to client */
    uint32_t caddr;
    uint16_t cport;
};

struct vp_log {
    vp_log_opts o;
    uint16_t ip_id;
    int failed;
};

static uint64_t now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* pcapng                                                                   */
/* ------------------------------------------------------------------------ */

#define DAEMON_ADDR 0x7f000001u /* 127.0.0.1 */
#define DAEMON_PORT 16509
#define WSCALE 14               /* windows of 65535 << 14: about 1 GiB */
#define SEGMENT_MAX 65495       /* 65535 - IPv4 and TCP headers */
#define ACK_EVERY ((uint32_t)1 << 20)

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_PSH = 0x08, TCP_ACK = 0x10 };

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put32le(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4); /* pcapng blocks in host order, said by the SHB */
}

static uint32_t csum_add(uint32_t sum, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)(p[n - 1] << 8);
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void pcap_write(vp_log *l, const void *p, size_t n)
{
    if (fwrite(p, 1, n, l->o.pcapng) != n)
        l->failed = 1;
}

static void pcap_header(vp_log *l)
{
    unsigned char shb[28], idb[20];
    put32le(shb, 0x0a0d0d0au);
    put32le(shb + 4, sizeof shb);
    put32le(shb + 8, 0x1a2b3c4du);
    uint16_t major = 1, minor = 0;
    memcpy(shb + 12, &major, 2);
    memcpy(shb + 14, &minor, 2);
    memset(shb + 16, 0xff, 8); /* section length unknown */
    put32le(shb + 24, sizeof shb);
    pcap_write(l, shb, sizeof shb);
    put32le(idb, 1);
    put32le(idb + 4, sizeof idb);
    uint16_t linktype = 101, reserved = 0; /* LINKTYPE_RAW */
    memcpy(idb + 8, &linktype, 2);
    memcpy(idb + 10, &reserved, 2);
    put32le(idb + 12, 0); /* no snap length */
    put32le(idb + 16, sizeof idb);
    pcap_write(l, idb, sizeof idb);
}

/*
 * One TCP segment from the client (to_daemon) or the daemon, with the
 * payload in chunks; comment: the packet's comment or NULL.  Advances the
 * sender's sequence number.
 */
static void segment(vp_log *l, vp_log_session *s, int from_client, unsigned flags,
                    const struct iovec *iov, size_t niov, const char *comment)
{
    tcp_dir *tx = from_client ? &s->c : &s->d, *rx = from_client ? &s->d : &s->c;
    size_t plen = 0;
    for (size_t i = 0; i < niov; i++)
        plen += iov[i].iov_len;
    unsigned char hdr[20 + 28];
    size_t thl = (flags & TCP_SYN) ? 28 : 20; /* a SYN has its options */
    size_t total = 20 + thl + plen;
    unsigned char *ip = hdr, *tcp = hdr + 20;
    memset(hdr, 0, sizeof hdr);
    uint32_t src = from_client ? s->caddr : DAEMON_ADDR;
    uint32_t dst = from_client ? DAEMON_ADDR : s->caddr;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)total);
    put16(ip + 4, l->ip_id++);
    put16(ip + 6, 0x4000); /* don't fragment */
    ip[8] = 64;
    ip[9] = 6;
    unsigned char a[4];
    put16(a, (uint16_t)(src >> 16));
    put16(a + 2, (uint16_t)src);
    memcpy(ip + 12, a, 4);
    put16(a, (uint16_t)(dst >> 16));
    put16(a + 2, (uint16_t)dst);
    memcpy(ip + 16, a, 4);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));

    put16(tcp, from_client ? s->cport : DAEMON_PORT);
    put16(tcp + 2, from_client ? DAEMON_PORT : s->cport);
    uint32_t seq = tx->seq, ack = (flags & TCP_ACK) ? rx->seq : 0;
    put16(tcp + 4, (uint16_t)(seq >> 16));
    put16(tcp + 6, (uint16_t)seq);
    put16(tcp + 8, (uint16_t)(ack >> 16));
    put16(tcp + 10, (uint16_t)ack);
    tcp[12] = (unsigned char)((thl / 4) << 4);
    tcp[13] = (unsigned char)flags;
    put16(tcp + 14, 65535);
    if (flags & TCP_SYN) {
        /* MSS 65495, NOP, window scale. */
        tcp[20] = 2, tcp[21] = 4;
        put16(tcp + 22, SEGMENT_MAX);
        tcp[24] = 1, tcp[25] = 3, tcp[26] = 3, tcp[27] = WSCALE;
    }
    /* TCP checksum: pseudo-header, header, payload. */
    unsigned char pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0, pseudo[9] = 6;
    put16(pseudo + 10, (uint16_t)(thl + plen));
    uint32_t sum = csum_add(0, pseudo, 12);
    sum = csum_add(sum, tcp, thl);
    /* Payload chunks may have odd lengths: sum them as one stream. */
    int odd = 0;
    unsigned char carry = 0;
    for (size_t i = 0; i < niov; i++) {
        const unsigned char *p = iov[i].iov_base;
        size_t n = iov[i].iov_len;
        if (odd && n) {
            sum += (uint32_t)(carry << 8 | p[0]);
            p++, n--;
            odd = 0;
        }
        sum = csum_add(sum, p, n & ~(size_t)1);
        if (n & 1) {
            carry = p[n - 1];
            odd = 1;
        }
    }
    if (odd)
        sum += (uint32_t)(carry << 8);
    put16(tcp + 16, csum_fold(sum));

    /* The Enhanced Packet Block. */
    size_t pkt = 20 + thl + plen, pad = (4 - pkt % 4) % 4;
    size_t clen = comment ? strlen(comment) : 0, cpad = (4 - clen % 4) % 4;
    size_t opts = comment ? 4 + clen + cpad + 4 : 0;
    uint32_t blen = (uint32_t)(28 + pkt + pad + opts + 4);
    uint64_t ts = now_ns(CLOCK_REALTIME) / 1000;
    unsigned char epb[28];
    put32le(epb, 6);
    put32le(epb + 4, blen);
    put32le(epb + 8, 0);
    put32le(epb + 12, (uint32_t)(ts >> 32));
    put32le(epb + 16, (uint32_t)ts);
    put32le(epb + 20, (uint32_t)pkt);
    put32le(epb + 24, (uint32_t)pkt);
    pcap_write(l, epb, sizeof epb);
    pcap_write(l, hdr, 20 + thl);
    for (size_t i = 0; i < niov; i++)
        pcap_write(l, iov[i].iov_base, iov[i].iov_len);
    static const unsigned char zeros[4];
    pcap_write(l, zeros, pad);
    if (comment) {
        unsigned char oh[4];
        uint16_t code = 1, len = (uint16_t)clen;
        memcpy(oh, &code, 2);
        memcpy(oh + 2, &len, 2);
        pcap_write(l, oh, 4);
        pcap_write(l, comment, clen);
        pcap_write(l, zeros, cpad);
        pcap_write(l, zeros, 4); /* opt_endofopt */
    }
    unsigned char tail[4];
    put32le(tail, blen);
    pcap_write(l, tail, 4);

    tx->seq += (uint32_t)plen + ((flags & (TCP_SYN | TCP_FIN)) ? 1u : 0u);
    if (flags & TCP_ACK)
        rx->acked = rx->seq;
}

/* A whole frame as segments from one side; the receiver acknowledges
 * now and then, so that what is in flight stays well inside its window. */
static void pcap_frame(vp_log *l, vp_log_session *s, int from_client, const vp_frame *f)
{
    char comment[64];
    if (f->nfds)
        snprintf(comment, sizeof comment, "%zu fd%s passed with this frame", f->nfds,
                 f->nfds == 1 ? "" : "s");
    size_t off = 0;
    while (off < f->len) {
        size_t n = f->len - off > SEGMENT_MAX ? SEGMENT_MAX : f->len - off;
        struct iovec iov = { (void *)(f->bytes + off), n };
        off += n;
        segment(l, s, from_client, TCP_ACK | (off == f->len ? TCP_PSH : 0u), &iov, 1,
                off == f->len && f->nfds ? comment : NULL);
    }
    tcp_dir *tx = from_client ? &s->c : &s->d;
    if (tx->seq - tx->acked >= ACK_EVERY)
        segment(l, s, !from_client, TCP_ACK, NULL, 0, NULL);
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */
/* ------------------------------------------------------------------------ */

static json_t *line_start(unsigned long id)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "time", json_real((double)ts.tv_sec + (double)ts.tv_nsec / 1e9));
    json_object_set_new(o, "client", json_integer((json_int_t)id));
    return o;
}

static void line_end(vp_log *l, json_t *o)
{
    if (!o)
        return;
    if (json_dumpf(o, l->o.json, JSON_COMPACT | JSON_ENCODE_ANY) < 0 ||
        fputc('\n', l->o.json) == EOF)
        l->failed = 1;
    json_decref(o);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* data as base64, or NULL when out of memory. */
static json_t *base64(const unsigned char *p, size_t n)
{
    size_t out = 4 * ((n + 2) / 3);
    char *s = malloc(out + 1);
    if (!s)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        s[k++] = b64[v >> 18 & 63];
        s[k++] = b64[v >> 12 & 63];
        s[k++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        s[k++] = i + 2 < n ? b64[v & 63] : '=';
    }
    s[k] = '\0';
    json_t *j = json_stringn(s, k);
    free(s);
    return j;
}

/* Decodes bytes as t into o[key]; a payload that does not decode gives
 * decode_error and payload_length instead. */
static void add_value(json_t *o, const char *key, const virtwire_type *t,
                      const unsigned char *p, size_t n)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    void *v = virtwire_arena_alloc(&arena, t->size);
    int rc = v ? virtwire_decode(t, p, n, &arena, v) : VIRTWIRE_ENOMEM;
    json_t *j = rc == 0 ? vt_to_json(t, v) : NULL;
    virtwire_arena_fini(&arena);
    if (j) {
        json_object_set_new(o, key, j);
        return;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "%s does not decode: %s", t->name,
             rc < 0 ? virtwire_strerror(rc) : "no JSON conversion");
    json_object_set_new(o, "decode_error", json_string(msg));
    json_object_set_new(o, "payload_length", json_integer((json_int_t)n));
}

static const char *from_name(vp_from f)
{
    return f == VP_FROM_CLIENT ? "client" : f == VP_FROM_DAEMON ? "daemon" : "proxy";
}

/* The latency of the call a reply answers, in microseconds; -1 when it
 * is not known.  Forgets the call. */
static double reply_latency(vp_log_session *s, const vp_frame *f)
{
    for (size_t i = 0; i < s->ncalls; i++) {
        inflight *c = &s->calls[(s->head + i) % s->cap];
        if (c->t_ns && c->serial == f->serial && c->prog == f->prog && c->vers == f->vers) {
            double us = (double)(now_ns(CLOCK_MONOTONIC) - c->t_ns) / 1000.0;
            c->t_ns = 0; /* answered */
            /* Answered calls at the front go. */
            while (s->ncalls && s->calls[s->head].t_ns == 0) {
                s->head = (s->head + 1) % s->cap;
                s->ncalls--;
            }
            return us;
        }
    }
    return -1;
}

static void call_sent(vp_log_session *s, const vp_frame *f)
{
    if (s->ncalls == MAX_INFLIGHT) { /* the oldest is forgotten */
        s->head = (s->head + 1) % s->cap;
        s->ncalls--;
    }
    if (s->ncalls == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        inflight *c = malloc(cap * sizeof *c);
        if (!c)
            return;
        for (size_t i = 0; i < s->ncalls; i++)
            c[i] = s->calls[(s->head + i) % s->cap];
        free(s->calls);
        s->calls = c;
        s->cap = cap;
        s->head = 0;
    }
    uint64_t t = now_ns(CLOCK_MONOTONIC);
    s->calls[(s->head + s->ncalls++) % s->cap] =
        (inflight){ f->prog, f->vers, f->serial, t ? t : 1 };
}

static void json_frame(vp_log *l, vp_log_session *s, vp_from from, const vp_frame *f,
                       const char *refused)
{
    json_t *o = line_start(s->id);
    if (!o)
        return;
    const virtwire_program *p = vt_program_by_number(f->prog, f->vers);
    const virtwire_proc *pr = p ? virtwire_program_find(p, f->proc) : NULL;
    json_object_set_new(o, "from", json_string(from_name(from)));
    json_object_set_new(o, "program", p ? json_string(p->name) : json_null());
    if (!p) {
        json_object_set_new(o, "prog", json_integer(f->prog));
        json_object_set_new(o, "vers", json_integer(f->vers));
    }
    json_object_set_new(o, "procedure", pr ? json_string(pr->name) : json_null());
    json_object_set_new(o, "proc", json_integer(f->proc));
    virNetMessageType type = (virNetMessageType)f->type;
    virNetMessageStatus status = (virNetMessageStatus)f->status;
    json_object_set_new(o, "type", virNetMessageType_to_json(&type));
    json_object_set_new(o, "serial", json_integer(f->serial));
    json_object_set_new(o, "status", virNetMessageStatus_to_json(&status));
    json_object_set_new(o, "size", json_integer((json_int_t)f->len));
    if (refused)
        json_object_set_new(o, "refused", json_string(refused));

    const unsigned char *pl = f->bytes + VIRTWIRE_FRAME_MIN;
    size_t n = f->len - VIRTWIRE_FRAME_MIN;
    if ((f->type == VIR_NET_CALL_WITH_FDS && from == VP_FROM_CLIENT) ||
        (f->type == VIR_NET_REPLY_WITH_FDS && from != VP_FROM_CLIENT)) {
        json_object_set_new(o, "nfds", json_integer((json_int_t)f->nfds));
        if (n >= 4)
            pl += 4, n -= 4;
    }
    const virtwire_type *t = NULL;
    const char *key = NULL;
    switch (f->type) {
    case VIR_NET_CALL:
    case VIR_NET_CALL_WITH_FDS:
        key = "args", t = pr ? pr->args : NULL;
        break;
    case VIR_NET_REPLY:
    case VIR_NET_REPLY_WITH_FDS: {
        double us = reply_latency(s, f);
        if (us >= 0)
            json_object_set_new(o, "latency_us", json_integer((json_int_t)(us + 0.5)));
        if (f->status == VIR_NET_ERROR)
            key = "error", t = &virNetMessageError_desc;
        else
            key = "ret", t = pr ? pr->ret : NULL;
        break;
    }
    case VIR_NET_MESSAGE:
        key = "msg", t = pr ? pr->msg : NULL;
        break;
    case VIR_NET_STREAM:
        if (f->status == VIR_NET_CONTINUE) {
            json_object_set_new(o, "data_bytes", json_integer((json_int_t)n));
            if (l->o.data && n)
                json_object_set_new(o, "data", base64(pl, n));
            n = 0;
        } else if (f->status == VIR_NET_ERROR && n > 0) {
            key = "error", t = &virNetMessageError_desc;
        }
        break;
    case VIR_NET_STREAM_HOLE:
        key = "hole", t = &virNetStreamHole_desc;
        break;
    default:
        break;
    }
    if (t)
        add_value(o, key, t, pl, n);
    else if (n > 0)
        json_object_set_new(o, "payload_length", json_integer((json_int_t)n));
    line_end(l, o);
}

/* ------------------------------------------------------------------------ */

vp_log *vp_log_new(const vp_log_opts *o)
{
    vp_log *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->o = *o;
    if (l->o.pcapng)
        pcap_header(l);
    return l;
}

int vp_log_flush(vp_log *l)
{
    if ((l->o.json && fflush(l->o.json) != 0) || (l->o.pcapng && fflush(l->o.pcapng) != 0))
        l->failed = 1;
    return l->failed ? -1 : 0;
}

void vp_log_free(vp_log *l)
{
    free(l);
}

vp_log_session *vp_log_open(vp_log *l, unsigned long id, const char *peer)
{
    if (!l->o.json && !l->o.pcapng)
        return NULL;
    vp_log_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->id = id;
    uint32_t host = (uint32_t)(id & 0xffffff);
    s->caddr = 0x7f000000u | ((0x10000u + host) & 0xffffff); /* 127.1.0.0 + id */
    s->cport = (uint16_t)(49152u + id % 16384u);
    s->c.seq = 0x10000000u + (uint32_t)id * 7919u;
    s->d.seq = 0x20000000u + (uint32_t)id * 104729u;
    if (l->o.json) {
        json_t *o = line_start(id);
        if (o) {
            json_object_set_new(o, "event", json_string("open"));
            json_object_set_new(o, "peer", json_string(peer));
        }
        line_end(l, o);
    }
    if (l->o.pcapng) {
        segment(l, s, 1, TCP_SYN, NULL, 0, NULL);
        segment(l, s, 0, TCP_SYN | TCP_ACK, NULL, 0, NULL);
        segment(l, s, 1, TCP_ACK, NULL, 0, NULL);
    }
    return s;
}

void vp_log_close(vp_log *l, vp_log_session *s, vp_from by, const char *reason)
{
    if (!s)
        return;
    if (l->o.json) {
        json_t *o = line_start(s->id);
        if (o) {
            json_object_set_new(o, "event", json_string("close"));
            json_object_set_new(o, "by", json_string(from_name(by)));
            json_object_set_new(o, "reason", json_string(reason));
        }
        line_end(l, o);
    }
    if (l->o.pcapng) {
        int first = by == VP_FROM_CLIENT;
        segment(l, s, first, TCP_FIN | TCP_ACK, NULL, 0, NULL);
        segment(l, s, !first, TCP_FIN | TCP_ACK, NULL, 0, NULL);
        segment(l, s, first, TCP_ACK, NULL, 0, NULL);
    }
    free(s->calls);
    free(s);
}

void vp_log_frame(vp_log *l, vp_log_session *s, vp_from from, const vp_frame *f,
                  const char *refused)
{
    if (!s)
        return;
    if (from == VP_FROM_CLIENT && (f->type == VIR_NET_CALL || f->type == VIR_NET_CALL_WITH_FDS))
        call_sent(s, f);
    if (l->o.json)
        json_frame(l, s, from, f, refused);
    if (l->o.pcapng)
        pcap_frame(l, s, from == VP_FROM_CLIENT, f);
}
