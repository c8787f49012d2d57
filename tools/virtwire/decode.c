/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire decode: libvirt frames out of a capture, as JSON lines.
 *
 * Input: a classic pcap file (microsecond or nanosecond timestamps, either
 * byte order), a pcapng file (Enhanced, Simple and obsolete Packet Blocks,
 * several sections and interfaces), or anything else, taken as the raw
 * bytes of libvirt frames back to back (one direction of a connection, or
 * whole frames of both).  Link types: Ethernet (with 802.1Q tags), BSD
 * loopback (NULL, LOOP), raw IPv4/IPv6, Linux cooked (SLL, SLL2).  IPv4
 * and IPv6 (hop-by-hop, routing and destination options skipped); IP
 * fragments are not reassembled.  TCP is reassembled per direction: segments
 * are put in sequence order, retransmitted bytes dropped; a flow is decoded
 * from its SYN, or from its first segment when the capture starts after the
 * SYN (which only works if that segment starts a frame).
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#include "virnetprotocol_json.h"
#include "virtwire_facts.h"
#include "virtwire_xdr.h"

/* Frame bounds, as the transport checks them (virtwire_facts.h). */
#define FRAME_MIN VIRTWIRE_FRAME_MIN
#define FRAME_MAX VIRTWIRE_FRAME_MAX

typedef struct decoder {
    long frames;   /* frames printed */
    int failed;    /* something could not be decoded */
    int port;      /* only flows with this port (0: all) */
    virtwire_arena arena;
} decoder;

/* Where a frame came from, for pcap input. */
typedef struct origin {
    long packet; /* 1-based packet number, 0: raw input */
    double time;
    const char *src, *dst;
} origin;

static uint16_t be16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Decodes bytes as t into o[key]; on failure sets decode_error. */
static void add_value(decoder *d, json_t *o, const char *key, const virtwire_type *t,
                      const unsigned char *p, size_t n)
{
    void *v = virtwire_arena_alloc(&d->arena, t->size);
    int rc = v ? virtwire_decode(t, p, n, &d->arena, v) : VIRTWIRE_ENOMEM;
    json_t *j = rc == 0 ? vt_to_json(t, v) : NULL;
    if (j) {
        json_object_set_new(o, key, j);
        return;
    }
    d->failed = 1;
    char msg[160];
    snprintf(msg, sizeof(msg), "%s does not decode: %s", t->name,
             rc < 0 ? virtwire_strerror(rc) : "no JSON conversion");
    json_object_set_new(o, "decode_error", json_string(msg));
    json_object_set_new(o, "payload_length", json_integer((json_int_t)n));
}

static json_t *enum_name(json_t *(*fn)(const void *), int32_t v)
{
    return fn(&v);
}

static json_t *type_json(const void *v)
{
    virNetMessageType t = (virNetMessageType) * (const int32_t *)v;
    return virNetMessageType_to_json(&t);
}

static json_t *status_json(const void *v)
{
    virNetMessageStatus s = (virNetMessageStatus) * (const int32_t *)v;
    return virNetMessageStatus_to_json(&s);
}

/* One whole frame (length word included) as a JSON line on stdout. */
static void print_frame(decoder *d, const unsigned char *f, size_t len, const origin *from)
{
    uint32_t prog = virtwire_load_u32(f + 4), vers = virtwire_load_u32(f + 8);
    int32_t proc = (int32_t)virtwire_load_u32(f + 12), type = (int32_t)virtwire_load_u32(f + 16);
    uint32_t serial = virtwire_load_u32(f + 20);
    int32_t status = (int32_t)virtwire_load_u32(f + 24);
    const virtwire_program *p = vt_program_by_number(prog, vers);
    const virtwire_proc *pr = p ? virtwire_program_find(p, proc) : NULL;

    json_t *o = json_object();
    json_object_set_new(o, "frame", json_integer(++d->frames));
    if (from->packet) {
        json_object_set_new(o, "packet", json_integer(from->packet));
        json_object_set_new(o, "time", json_real(from->time));
        json_object_set_new(o, "src", json_string(from->src));
        json_object_set_new(o, "dst", json_string(from->dst));
    }
    json_object_set_new(o, "length", json_integer((json_int_t)len));
    json_t *h = json_object();
    json_object_set_new(h, "program", p ? json_string(p->name) : json_null());
    json_object_set_new(h, "prog", json_integer(prog));
    json_object_set_new(h, "vers", json_integer(vers));
    json_object_set_new(h, "procedure", pr ? json_string(pr->name) : json_null());
    json_object_set_new(h, "proc", json_integer(proc));
    json_object_set_new(h, "type", enum_name(type_json, type));
    json_object_set_new(h, "serial", json_integer(serial));
    json_object_set_new(h, "status", enum_name(status_json, status));
    json_object_set_new(o, "header", h);

    const unsigned char *pl = f + FRAME_MIN;
    size_t n = len - FRAME_MIN;
    if (type == VIR_NET_CALL_WITH_FDS || type == VIR_NET_REPLY_WITH_FDS) {
        if (n < 4) {
            d->failed = 1;
            json_object_set_new(o, "decode_error", json_string("no fd count"));
            vt_print(stdout, o);
            return;
        }
        json_object_set_new(o, "nfds", json_integer(virtwire_load_u32(pl)));
        pl += 4;
        n -= 4;
    }
    const virtwire_type *t = NULL;
    const char *key = NULL;
    switch (type) {
    case VIR_NET_CALL:
    case VIR_NET_CALL_WITH_FDS:
        key = "args", t = pr ? pr->args : NULL;
        break;
    case VIR_NET_REPLY:
    case VIR_NET_REPLY_WITH_FDS:
        if (status == VIR_NET_ERROR)
            key = "error", t = &virNetMessageError_desc;
        else
            key = "ret", t = pr ? pr->ret : NULL;
        break;
    case VIR_NET_MESSAGE:
        key = "msg", t = pr ? pr->msg : NULL;
        break;
    case VIR_NET_STREAM:
        if (status == VIR_NET_CONTINUE) {
            json_object_set_new(o, "data_length", json_integer((json_int_t)n));
            n = 0;
        } else if (status == VIR_NET_ERROR && n > 0) {
            key = "error", t = &virNetMessageError_desc;
        }
        break;
    case VIR_NET_STREAM_HOLE:
        key = "hole", t = &virNetStreamHole_desc;
        break;
    default:
        break;
    }
    if (t) {
        add_value(d, o, key, t, pl, n);
    } else if (n > 0) {
        json_object_set_new(o, "payload_length", json_integer((json_int_t)n));
        if (pr) {
            d->failed = 1;
            json_object_set_new(o, "decode_error",
                                json_string("a payload where the procedure has none"));
        }
    }
    vt_print(stdout, o);
    virtwire_arena_reset(&d->arena);
}

/* An error line: what went wrong where. */
static void print_error(decoder *d, const origin *from, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void print_error(decoder *d, const origin *from, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *o = json_object();
    if (from && from->packet)
        json_object_set_new(o, "packet", json_integer(from->packet));
    if (from && from->src) {
        json_object_set_new(o, "src", json_string(from->src));
        json_object_set_new(o, "dst", json_string(from->dst));
    }
    json_object_set_new(o, "error", json_string(msg));
    vt_print(stdout, o);
    d->failed = 1;
}

/*
 * Takes the whole frames at the start of buf[0..len) and returns how many
 * bytes they took; -1 after a length word no frame can have (the stream
 * cannot be followed past it).
 */
static long frames_in(decoder *d, const unsigned char *buf, size_t len, const origin *from)
{
    size_t off = 0;
    while (len - off >= 4) {
        uint32_t n = virtwire_load_u32(buf + off);
        if (n < FRAME_MIN || n > FRAME_MAX) {
            print_error(d, from, "bad length word %u at stream offset %zu: not a libvirt frame",
                        n, off);
            return -1;
        }
        if (len - off < n)
            break;
        print_frame(d, buf + off, n, from);
        off += n;
    }
    return (long)off;
}

/* ------------------------------------------------------------------------ */
/* TCP reassembly                                                           */
/* ------------------------------------------------------------------------ */

typedef struct segment {
    uint32_t seq;
    unsigned char *data;
    size_t len;
    struct segment *next;
} segment;

typedef struct flow {
    unsigned char key[40]; /* family, addresses, ports */
    char src[64], dst[64];
    int have_seq, dead;
    uint32_t next_seq;
    unsigned char *buf;
    size_t len, cap;
    segment *ooo; /* out-of-order segments */
} flow;

typedef struct flows {
    flow *v;
    size_t n;
} flows;

static flow *flow_get(flows *fs, const unsigned char *key, const char *src, const char *dst)
{
    for (size_t i = 0; i < fs->n; i++)
        if (memcmp(fs->v[i].key, key, sizeof(fs->v[i].key)) == 0)
            return &fs->v[i];
    flow *nv = realloc(fs->v, (fs->n + 1) * sizeof(*nv));
    if (!nv)
        return NULL;
    fs->v = nv;
    flow *f = &fs->v[fs->n++];
    memset(f, 0, sizeof(*f));
    memcpy(f->key, key, sizeof(f->key));
    snprintf(f->src, sizeof(f->src), "%s", src);
    snprintf(f->dst, sizeof(f->dst), "%s", dst);
    return f;
}

static int flow_append(flow *f, const unsigned char *p, size_t n)
{
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : 65536;
        while (cap < f->len + n)
            cap *= 2;
        unsigned char *nb = realloc(f->buf, cap);
        if (!nb)
            return -1;
        f->buf = nb;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    f->next_seq += (uint32_t)n;
    return 0;
}

/* Adds the bytes of a segment at seq to the flow's stream, in order. */
static int flow_segment(flow *f, uint32_t seq, const unsigned char *p, size_t n)
{
    int32_t ahead = (int32_t)(seq - f->next_seq);
    if (ahead > 0) {
        segment *s = malloc(sizeof(*s));
        if (!s || !(s->data = malloc(n))) {
            free(s);
            return -1;
        }
        memcpy(s->data, p, n);
        s->seq = seq;
        s->len = n;
        s->next = f->ooo;
        f->ooo = s;
        return 0;
    }
    size_t skip = (size_t)-(int64_t)ahead; /* already have these */
    if (skip < n && flow_append(f, p + skip, n - skip) < 0)
        return -1;
    /* Segments held back may fit now. */
    for (int progress = 1; progress;) {
        progress = 0;
        for (segment **sp = &f->ooo; *sp;) {
            segment *s = *sp;
            int32_t a = (int32_t)(s->seq - f->next_seq);
            if (a > 0) {
                sp = &s->next;
                continue;
            }
            size_t k = (size_t)-(int64_t)a;
            if (k < s->len && flow_append(f, s->data + k, s->len - k) < 0)
                return -1;
            *sp = s->next;
            free(s->data);
            free(s);
            progress = 1;
        }
    }
    return 0;
}

static void flows_free(flows *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->v[i].buf);
        for (segment *s = fs->v[i].ooo, *nx; s; s = nx) {
            nx = s->next;
            free(s->data);
            free(s);
        }
    }
    free(fs->v);
}

static void addr_port(char *out, size_t n, int family, const unsigned char *addr, uint16_t port)
{
    char a[INET6_ADDRSTRLEN];
    inet_ntop(family, addr, a, sizeof(a));
    snprintf(out, n, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

/* One TCP segment: the flow's new bytes go through the framer. */
static void tcp(decoder *d, flows *fs, long pkt, double ts, int family, const unsigned char *sa,
                const unsigned char *da, const unsigned char *t, size_t len, int truncated)
{
    if (len < 20)
        return;
    size_t hl = (size_t)(t[12] >> 4) * 4;
    if (hl < 20 || hl > len)
        return;
    uint16_t sp = be16(t), dp = be16(t + 2);
    if (d->port && sp != d->port && dp != d->port)
        return;
    uint32_t seq = virtwire_load_u32(t + 4);
    unsigned flags = t[13];
    size_t alen = family == AF_INET ? 4 : 16;
    unsigned char key[40] = { 0 };
    key[0] = (unsigned char)family;
    memcpy(key + 1, sa, alen);
    memcpy(key + 17, da, alen);
    memcpy(key + 33, t, 4); /* both ports */
    char src[64], dst[64];
    addr_port(src, sizeof(src), family, sa, sp);
    addr_port(dst, sizeof(dst), family, da, dp);
    flow *f = flow_get(fs, key, src, dst);
    if (!f || f->dead)
        return;
    origin from = { pkt, ts, f->src, f->dst };
    if (flags & 0x02) { /* SYN */
        f->have_seq = 1;
        f->next_seq = seq + 1;
        return;
    }
    const unsigned char *data = t + hl;
    size_t n = len - hl;
    if (n == 0)
        return;
    if (truncated) {
        print_error(d, &from, "the capture cut this packet short (snap length): the flow "
                    "cannot be followed past it");
        f->dead = 1;
        return;
    }
    if (!f->have_seq) { /* the capture started after the SYN */
        f->have_seq = 1;
        f->next_seq = seq;
    }
    size_t before = f->len;
    if (flow_segment(f, seq, data, n) < 0) {
        print_error(d, &from, "out of memory");
        f->dead = 1;
        return;
    }
    if (f->len == before)
        return;
    long used = frames_in(d, f->buf, f->len, &from);
    if (used < 0) {
        f->dead = 1;
        return;
    }
    memmove(f->buf, f->buf + used, f->len - (size_t)used);
    f->len -= (size_t)used;
}

/* An IP packet (v4 or v6) of which cap bytes were captured. */
static void ip(decoder *d, flows *fs, long pkt, double ts, const unsigned char *p, size_t cap,
               size_t orig)
{
    if (cap < 1)
        return;
    origin from = { pkt, ts, NULL, NULL };
    if (p[0] >> 4 == 4) {
        if (cap < 20)
            return;
        size_t ihl = (size_t)(p[0] & 15) * 4;
        size_t total = be16(p + 2);
        if (ihl < 20 || total < ihl || p[9] != 6)
            return;
        if (be16(p + 6) & 0x3fff) {
            print_error(d, &from, "IP fragment: not reassembled");
            return;
        }
        /* The link layer may pad (Ethernet minimum size): IP says how much
         * is real.  Fewer bytes captured than that: truncated. */
        int truncated = cap < total;
        size_t have = truncated ? cap : total;
        if (have < ihl)
            return;
        tcp(d, fs, pkt, ts, AF_INET, p + 12, p + 16, p + ihl, have - ihl, truncated);
    } else if (p[0] >> 4 == 6) {
        if (cap < 40)
            return;
        size_t total = 40 + (size_t)be16(p + 4);
        int truncated = cap < total;
        size_t have = truncated ? cap : total;
        unsigned next = p[6];
        size_t off = 40;
        while (next == 0 || next == 43 || next == 60) {
            if (have < off + 8)
                return;
            next = p[off];
            off += ((size_t)p[off + 1] + 1) * 8;
        }
        if (next == 44) {
            print_error(d, &from, "IPv6 fragment: not reassembled");
            return;
        }
        if (next != 6 || have < off)
            return;
        tcp(d, fs, pkt, ts, AF_INET6, p + 8, p + 24, p + off, have - off, truncated);
    }
    (void)orig;
}

static void link_packet(decoder *d, flows *fs, long pkt, double ts, unsigned linktype,
                        const unsigned char *p, size_t cap, size_t orig)
{
    size_t off;
    unsigned proto;
    switch (linktype) {
    case 1: /* Ethernet */
        if (cap < 14)
            return;
        off = 12;
        proto = be16(p + off);
        while ((proto == 0x8100 || proto == 0x88a8) && cap >= off + 6) {
            off += 4;
            proto = be16(p + off);
        }
        off += 2;
        break;
    case 0:   /* BSD loopback, host byte order family */
    case 108: /* OpenBSD loopback, network byte order family */
        off = 4;
        proto = 0; /* the IP version tells */
        break;
    case 101: /* raw IP */
    case 228: /* IPv4 */
    case 229: /* IPv6 */
        off = 0;
        proto = 0;
        break;
    case 113: /* Linux cooked v1 */
        if (cap < 16)
            return;
        off = 16;
        proto = be16(p + 14);
        break;
    case 276: /* Linux cooked v2 */
        if (cap < 20)
            return;
        off = 20;
        proto = be16(p);
        break;
    default:
        return;
    }
    if (proto && proto != 0x0800 && proto != 0x86dd)
        return;
    if (cap < off)
        return;
    ip(d, fs, pkt, ts, p + off, cap - off, orig >= off ? orig - off : 0);
}

static void flows_finish(decoder *d, flows *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        flow *f = &fs->v[i];
        origin from = { 0, 0, f->src, f->dst };
        if (f->dead)
            continue;
        if (f->ooo)
            print_error(d, &from, "the capture misses bytes of this flow (a gap before "
                        "sequence number %u)", f->next_seq);
        else if (f->len)
            print_error(d, &from, "the capture ends inside a frame (%zu bytes of it)", f->len);
    }
}

/* ------------------------------------------------------------------------ */
/* File formats                                                             */
/* ------------------------------------------------------------------------ */

static uint32_t rd32(const unsigned char *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const unsigned char *p, int swap)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return swap ? __builtin_bswap16(v) : v;
}

static int pcap_classic(decoder *d, const unsigned char *b, size_t n)
{
    uint32_t magic;
    memcpy(&magic, b, 4);
    int swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
    int nano = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u;
    if (n < 24)
        return vt_error(VT_FAIL, "pcap file shorter than its header");
    unsigned linktype = rd32(b + 20, swap) & 0xffff;
    flows fs = { 0 };
    size_t off = 24;
    long pkt = 0;
    while (n - off >= 16) {
        uint32_t sec = rd32(b + off, swap), frac = rd32(b + off + 4, swap);
        uint32_t caplen = rd32(b + off + 8, swap), orig = rd32(b + off + 12, swap);
        off += 16;
        if (caplen > n - off) {
            origin from = { pkt + 1, 0, NULL, NULL };
            print_error(d, &from, "the pcap file ends inside a packet");
            break;
        }
        double ts = sec + frac / (nano ? 1e9 : 1e6);
        link_packet(d, &fs, ++pkt, ts, linktype, b + off, caplen, orig);
        off += caplen;
    }
    flows_finish(d, &fs);
    flows_free(&fs);
    return VT_OK;
}

typedef struct iface {
    unsigned linktype;
    double unit; /* seconds per timestamp tick */
} iface;

static int pcapng(decoder *d, const unsigned char *b, size_t n)
{
    flows fs = { 0 };
    iface *ifs = NULL;
    size_t nifs = 0;
    int swap = 0;
    long pkt = 0;
    size_t off = 0;
    int status = VT_OK;
    while (n - off >= 12) {
        uint32_t type = rd32(b + off, swap);
        if (type == 0x0a0d0d0au) {
            /* Section header: its byte-order magic says how to read it. */
            uint32_t bom;
            memcpy(&bom, b + off + 8, 4);
            swap = bom == 0x4d3c2b1au;
            nifs = 0;
        }
        uint32_t blen = rd32(b + off + 4, swap);
        if (blen < 12 || blen % 4 || blen > n - off) {
            origin from = { pkt + 1, 0, NULL, NULL };
            print_error(d, &from, "the pcapng file ends inside a block, or a block is malformed");
            break;
        }
        const unsigned char *body = b + off + 8;
        size_t blen_body = blen - 12;
        if (type == 1 && blen_body >= 8) { /* Interface Description */
            iface *ni = realloc(ifs, (nifs + 1) * sizeof(*ni));
            if (!ni) {
                status = vt_error(VT_FAIL, "out of memory");
                break;
            }
            ifs = ni;
            iface *ifc = &ifs[nifs++];
            ifc->linktype = rd16(body, swap);
            ifc->unit = 1e-6;
            /* Options: if_tsresol (9). */
            for (size_t o = 8; o + 4 <= blen_body;) {
                unsigned code = rd16(body + o, swap), len = rd16(body + o + 2, swap);
                if (code == 0 || o + 4 + len > blen_body)
                    break;
                if (code == 9 && len >= 1) {
                    unsigned v = body[o + 4];
                    double u = 1;
                    for (unsigned k = 0; k < (v & 0x7f); k++)
                        u /= (v & 0x80) ? 2 : 10;
                    ifc->unit = u;
                }
                o += 4 + ((len + 3u) & ~3u);
            }
        } else if ((type == 6 || type == 2) && blen_body >= 20) { /* Enhanced / obsolete */
            uint32_t id = type == 6 ? rd32(body, swap) : rd16(body, swap);
            uint64_t tsv = (uint64_t)rd32(body + 4, swap) << 32 | rd32(body + 8, swap);
            uint32_t caplen = rd32(body + 12, swap), orig = rd32(body + 16, swap);
            pkt++;
            if (caplen > blen_body - 20 || id >= nifs) {
                origin from = { pkt, 0, NULL, NULL };
                print_error(d, &from, "malformed packet block");
            } else {
                link_packet(d, &fs, pkt, (double)tsv * ifs[id].unit, ifs[id].linktype,
                            body + 20, caplen, orig);
            }
        } else if (type == 3 && blen_body >= 4) { /* Simple Packet */
            uint32_t orig = rd32(body, swap);
            size_t caplen = orig < blen_body - 4 ? orig : blen_body - 4;
            pkt++;
            if (nifs)
                link_packet(d, &fs, pkt, 0, ifs[0].linktype, body + 4, caplen, orig);
        }
        off += blen;
    }
    flows_finish(d, &fs);
    flows_free(&fs);
    free(ifs);
    return status;
}

static int raw(decoder *d, const unsigned char *b, size_t n)
{
    origin from = { 0, 0, NULL, NULL };
    long used = frames_in(d, b, n, &from);
    if (used >= 0 && (size_t)used < n)
        print_error(d, NULL, "the input ends inside a frame (%zu bytes of it)", n - (size_t)used);
    return VT_OK;
}

int vt_cmd_decode(int argc, char **argv)
{
    const char *usage = vt_usage("decode");
    decoder d = { 0 };
    virtwire_arena_init(&d.arena);
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *end;
            long p = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || p < 1 || p > 65535)
                return vt_error(VT_USAGE, "--port: '%s' is not a TCP port", argv[i]);
            d.port = (int)p;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return vt_error(VT_USAGE, "usage: %s", usage);
        } else if (path) {
            return vt_error(VT_USAGE, "usage: %s", usage);
        } else {
            path = argv[i];
        }
    }
    FILE *f = !path || strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return vt_error(VT_FAIL, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            if (ferror(f)) {
                free(b);
                if (f != stdin)
                    fclose(f);
                return vt_error(VT_FAIL, "%s: read error", path ? path : "stdin");
            }
            break;
        }
        unsigned char *nb = realloc(b, cap *= 2);
        if (!nb)
            free(b);
        b = nb;
    }
    if (f != stdin)
        fclose(f);
    if (!b)
        return vt_error(VT_FAIL, "out of memory");
    uint32_t magic = 0;
    if (n >= 4)
        memcpy(&magic, b, 4);
    int status;
    if (magic == 0xa1b2c3d4u || magic == 0xd4c3b2a1u || magic == 0xa1b23c4du ||
        magic == 0x4d3cb2a1u)
        status = pcap_classic(&d, b, n);
    else if (n >= 12 && virtwire_load_u32(b) == 0x0a0d0d0au)
        status = pcapng(&d, b, n);
    else if (d.port)
        status = vt_error(VT_USAGE, "--port needs a pcap or pcapng capture");
    else
        status = raw(&d, b, n);
    free(b);
    virtwire_arena_fini(&d.arena);
    if (status == VT_OK && fflush(stdout) != 0)
        status = VT_FAIL;
    if (status == VT_OK && d.failed)
        status = VT_FAIL;
    return status;
}
