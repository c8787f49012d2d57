/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire replay: serves a session recorded by `virtwire proxy --log` as
 * a daemon (the virtwire server, runtime/server), so that a client runs
 * against the recording as it ran against the real daemon.
 *
 * The recording is read whole first (it is untrusted: a line that is not
 * what the proxy writes is an error naming the line).  Per recorded client,
 * each call is paired with its reply (by program, version and serial), the
 * events the daemon sent after that reply and before the next one, and the
 * stream packets the daemon sent on the call's stream.  Then:
 *
 *   - an incoming call is matched to the first recorded call of the same
 *     procedure, not used yet, whose arguments are equal (compared as
 *     JSON), or when all those are used, to the last of them; its reply
 *     goes back with the incoming call's serial, then its events;
 *   - a stream call's recorded packets are served back: data (the bytes
 *     when the recording has them, --log-data; else as many zero bytes),
 *     holes, end of data, and the daemon's last word on the client's
 *     finish (OK or an error); what the client sends on a stream is taken
 *     and dropped;
 *   - a reply that carried fds carries as many fds of /dev/null;
 *   - a call that matches nothing gets VIR_ERR_RPC (39) from VIR_FROM_RPC
 *     (7), "replay: no recorded call of PROC with these arguments: ARGS",
 *     and a line on stderr.
 *
 * Keepalive is the server's own (the recording's PINGs and PONGs are
 * skipped), so is the answer to unknown programs and procedures.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tool.h"

#include "admin_protocol.h"
#include "lxc_protocol.h"
#include "qemu_protocol.h"
#include "remote_protocol.h"
#include "virnetprotocol.h"
#include "virtwire_server.h"

static const char usage_text[] =
    "usage: virtwire replay --listen unix:PATH|tcp:HOST:PORT [--listen ...] RECORDING.jsonl";

/* The longest message of an unmatched call's error. */
#define UNMATCHED_MAX 900

/* ------------------------------------------------------------------------ */
/* The recording                                                            */
/* ------------------------------------------------------------------------ */

enum packet_kind { PK_DATA, PK_HOLE, PK_EOF, PK_OK, PK_ERROR };

typedef struct packet {
    enum packet_kind kind;
    unsigned char *data; /* PK_DATA: the bytes, or NULL for len zeros */
    size_t len;
    int64_t hole;   /* PK_HOLE */
    json_t *error;  /* PK_ERROR */
} packet;

typedef struct event {
    const virtwire_program *prog;
    const virtwire_proc *proc;
    json_t *msg;
} event;

typedef struct rcall {
    const virtwire_program *prog;
    const virtwire_proc *proc;
    json_t *args;   /* NULL: none */
    long line;      /* where it was recorded */
    int replied;
    int error;      /* the reply is an error */
    json_t *reply;  /* ret (NULL: none) or the error */
    size_t nfds;    /* fds the reply carried */
    event *events;
    size_t nevents;
    packet *packets;
    size_t npackets;
    int used;
} rcall;

typedef struct recording {
    rcall *calls;
    size_t ncalls, cap;
} recording;

/* What one recorded client's lines need while they are read. */
typedef struct rclient {
    long id;
    struct {
        uint32_t prog, vers, serial;
        size_t call;
    } *awaiting, *streams;
    size_t nawaiting, nstreams, capa, caps;
    long last_replied; /* index of the call answered last, -1 */
} rclient;

static void packet_free(packet *p)
{
    free(p->data);
    json_decref(p->error);
}

static void recording_free(recording *r)
{
    for (size_t i = 0; i < r->ncalls; i++) {
        rcall *c = &r->calls[i];
        json_decref(c->args);
        json_decref(c->reply);
        for (size_t k = 0; k < c->nevents; k++)
            json_decref(c->events[k].msg);
        free(c->events);
        for (size_t k = 0; k < c->npackets; k++)
            packet_free(&c->packets[k]);
        free(c->packets);
    }
    free(r->calls);
}

/* A base64 digit's value: its place in the alphabet (RFC 4648), or -1. */
static int b64_value(int ch)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *at = ch ? strchr(alphabet, ch) : NULL;
    return at ? (int)(at - alphabet) : -1;
}

/* Decodes base64 text; NULL on bad input or out of memory. */
static unsigned char *unbase64(const char *s, size_t n, size_t *out)
{
    if (n % 4)
        return NULL;
    unsigned char *b = malloc(n / 4 * 3 + 1);
    if (!b)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++) {
            v[j] = s[i + (size_t)j] == '=' && i + 4 == n && j >= 2 ? 0 : b64_value(s[i + (size_t)j]);
            if (v[j] < 0) {
                free(b);
                return NULL;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        b[k++] = (unsigned char)(w >> 16);
        if (s[i + 2] != '=')
            b[k++] = (unsigned char)(w >> 8);
        if (s[i + 3] != '=')
            b[k++] = (unsigned char)w;
    }
    *out = k;
    return b;
}

static void *grow(void *p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return p;
    size_t c = *cap ? *cap * 2 : 16;
    void *q = realloc(p, c * elem);
    if (q)
        *cap = c;
    return q;
}

/* Parsing state and error reporting. */
typedef struct parser {
    const char *path;
    long line;
    recording *rec;
    rclient *clients;
    size_t nclients, capc;
} parser;

static int bad(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(parser *ps, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vt_error(VT_USAGE, "%s:%ld: %s", ps->path, ps->line, msg);
}

static rclient *client_of(parser *ps, long id)
{
    for (size_t i = 0; i < ps->nclients; i++)
        if (ps->clients[i].id == id)
            return &ps->clients[i];
    rclient *n = grow(ps->clients, &ps->capc, ps->nclients, sizeof *n);
    if (!n)
        return NULL;
    ps->clients = n;
    rclient *c = &ps->clients[ps->nclients++];
    memset(c, 0, sizeof *c);
    c->id = id;
    c->last_replied = -1;
    return c;
}

static const char *str_member(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int int_member(json_t *o, const char *k, long long *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        return -1;
    *out = json_integer_value(v);
    return 0;
}

static int type_of(const char *s)
{
    static const char *const names[] = { "VIR_NET_CALL", "VIR_NET_REPLY", "VIR_NET_MESSAGE",
                                         "VIR_NET_STREAM", "VIR_NET_CALL_WITH_FDS",
                                         "VIR_NET_REPLY_WITH_FDS", "VIR_NET_STREAM_HOLE" };
    for (int i = 0; s && i < 7; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static int status_of(const char *s)
{
    static const char *const names[] = { "VIR_NET_OK", "VIR_NET_ERROR", "VIR_NET_CONTINUE" };
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* Whether a program's calls are served (the replay registers these). */
static int served(const virtwire_program *p)
{
    return p == &remote_program || p == &qemu_program || p == &lxc_program ||
           p == &admin_program;
}

static int add_packet(parser *ps, rcall *c, packet pk)
{
    packet *n = realloc(c->packets, (c->npackets + 1) * sizeof *n);
    if (!n) {
        packet_free(&pk);
        return vt_error(VT_FAIL, "out of memory");
    }
    c->packets = n;
    c->packets[c->npackets++] = pk;
    (void)ps;
    return VT_OK;
}

/* One line of the recording. */
static int take_line(parser *ps, json_t *o)
{
    if (!json_is_object(o))
        return bad(ps, "not a JSON object");
    long long id;
    if (int_member(o, "client", &id) < 0)
        return bad(ps, "no \"client\"");
    const char *from = str_member(o, "from");
    if (!from)
        return json_object_get(o, "event") ? VT_OK : bad(ps, "neither \"from\" nor \"event\"");
    long long serial, proc;
    int type = type_of(str_member(o, "type"));
    int status = status_of(str_member(o, "status"));
    const char *pname = str_member(o, "program");
    if (type < 0 || status < 0 || int_member(o, "serial", &serial) < 0 ||
        int_member(o, "proc", &proc) < 0 || serial < 0 || serial > UINT32_MAX ||
        proc < INT32_MIN || proc > INT32_MAX)
        return bad(ps, "a message without a valid type, status, serial or proc");
    const virtwire_program *prog = pname ? vt_program_by_name(pname) : NULL;
    if (!prog || !served(prog))
        return VT_OK; /* keepalive, or a program nobody calls */
    const virtwire_proc *pr = virtwire_program_find(prog, (int32_t)proc);
    rclient *cl = client_of(ps, (long)id);
    if (!cl)
        return vt_error(VT_FAIL, "out of memory");
    recording *r = ps->rec;
    int from_client = strcmp(from, "client") == 0;

    if (from_client && (type == VIR_NET_CALL || type == VIR_NET_CALL_WITH_FDS)) {
        if (!pr)
            return VT_OK; /* the daemon said "unknown procedure": so will we */
        if (json_object_get(o, "decode_error"))
            return VT_OK;
        rcall *n = grow(r->calls, &r->cap, r->ncalls, sizeof *n);
        void *na = grow(cl->awaiting, &cl->capa, cl->nawaiting, sizeof *cl->awaiting);
        if (!n || !na)
            return vt_error(VT_FAIL, "out of memory");
        r->calls = n;
        cl->awaiting = na;
        rcall *c = &r->calls[r->ncalls];
        memset(c, 0, sizeof *c);
        c->prog = prog;
        c->proc = pr;
        c->line = ps->line;
        json_t *args = json_object_get(o, "args");
        c->args = args ? json_incref(args) : NULL;
        cl->awaiting[cl->nawaiting].prog = prog->program;
        cl->awaiting[cl->nawaiting].vers = prog->version;
        cl->awaiting[cl->nawaiting].serial = (uint32_t)serial;
        cl->awaiting[cl->nawaiting].call = r->ncalls;
        cl->nawaiting++;
        r->ncalls++;
        return VT_OK;
    }
    if (from_client)
        return VT_OK; /* the client's stream packets: taken and dropped */

    /* From the daemon (or the proxy's answer to a refused call). */
    if (type == VIR_NET_REPLY || type == VIR_NET_REPLY_WITH_FDS) {
        for (size_t i = 0; i < cl->nawaiting; i++) {
            if (cl->awaiting[i].serial != (uint32_t)serial ||
                cl->awaiting[i].prog != prog->program || cl->awaiting[i].vers != prog->version)
                continue;
            size_t ci = cl->awaiting[i].call;
            cl->awaiting[i] = cl->awaiting[--cl->nawaiting];
            rcall *c = &r->calls[ci];
            if (json_object_get(o, "decode_error"))
                return bad(ps, "the reply of %s does not decode", c->proc->name);
            c->replied = 1;
            c->error = status == VIR_NET_ERROR;
            json_t *v = json_object_get(o, c->error ? "error" : "ret");
            if (c->error && !v)
                return bad(ps, "an error reply without \"error\"");
            c->reply = v ? json_incref(v) : NULL;
            long long nfds = 0;
            if (type == VIR_NET_REPLY_WITH_FDS && int_member(o, "nfds", &nfds) == 0 &&
                nfds >= 0 && nfds <= VIRTWIRE_FDS_MAX)
                c->nfds = (size_t)nfds;
            cl->last_replied = (long)ci;
            if (!c->error &&
                (c->proc->flags & (VIRTWIRE_PROC_STREAM_READ | VIRTWIRE_PROC_STREAM_WRITE))) {
                void *ns = grow(cl->streams, &cl->caps, cl->nstreams, sizeof *cl->streams);
                if (!ns)
                    return vt_error(VT_FAIL, "out of memory");
                cl->streams = ns;
                cl->streams[cl->nstreams].prog = prog->program;
                cl->streams[cl->nstreams].vers = prog->version;
                cl->streams[cl->nstreams].serial = (uint32_t)serial;
                cl->streams[cl->nstreams].call = ci;
                cl->nstreams++;
            }
            return VT_OK;
        }
        return VT_OK; /* a reply to a call not recorded */
    }
    if (type == VIR_NET_MESSAGE) {
        if (!pr || !pr->msg || cl->last_replied < 0 || json_object_get(o, "decode_error"))
            return VT_OK;
        json_t *msg = json_object_get(o, "msg");
        if (!msg)
            return bad(ps, "an event without \"msg\"");
        rcall *c = &r->calls[cl->last_replied];
        event *n = realloc(c->events, (c->nevents + 1) * sizeof *n);
        if (!n)
            return vt_error(VT_FAIL, "out of memory");
        c->events = n;
        c->events[c->nevents++] = (event){ prog, pr, json_incref(msg) };
        return VT_OK;
    }
    if (type == VIR_NET_STREAM || type == VIR_NET_STREAM_HOLE) {
        size_t si;
        for (si = 0; si < cl->nstreams; si++)
            if (cl->streams[si].serial == (uint32_t)serial &&
                cl->streams[si].prog == prog->program && cl->streams[si].vers == prog->version)
                break;
        if (si == cl->nstreams)
            return VT_OK; /* a packet of no stream we know of */
        rcall *c = &r->calls[cl->streams[si].call];
        packet pk = { 0 };
        if (type == VIR_NET_STREAM_HOLE) {
            json_t *h = json_object_get(o, "hole");
            long long len;
            if (!h || int_member(h, "length", &len) < 0 || len < 0)
                return bad(ps, "a hole without its length");
            pk.kind = PK_HOLE;
            pk.hole = len;
        } else if (status == VIR_NET_CONTINUE) {
            long long n;
            if (int_member(o, "data_bytes", &n) < 0 || n < 0 || n > VIRTWIRE_FRAME_MAX)
                return bad(ps, "stream data without \"data_bytes\"");
            pk.kind = n ? PK_DATA : PK_EOF;
            pk.len = (size_t)n;
            const char *d = str_member(o, "data");
            if (d && n) {
                size_t got;
                pk.data = unbase64(d, strlen(d), &got);
                if (!pk.data || got != pk.len) {
                    free(pk.data);
                    return bad(ps, "\"data\" is not the base64 of data_bytes bytes");
                }
            }
        } else {
            pk.kind = status == VIR_NET_OK ? PK_OK : PK_ERROR;
            json_t *e = json_object_get(o, "error");
            if (pk.kind == PK_ERROR && e)
                pk.error = json_incref(e);
            /* The daemon's last word: the stream is over. */
            cl->streams[si] = cl->streams[--cl->nstreams];
        }
        return add_packet(ps, c, pk);
    }
    return VT_OK;
}

static int load(const char *path, recording *rec)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return vt_error(VT_FAIL, "%s: %s", path, strerror(errno));
    parser ps = { .path = path, .rec = rec };
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = VT_OK;
    while (rc == VT_OK && (n = getline(&line, &cap, f)) >= 0) {
        ps.line++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        json_error_t err;
        json_t *o = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
        if (!o) {
            rc = bad(&ps, "not JSON: %s (column %d)", err.text, err.column);
            break;
        }
        rc = take_line(&ps, o);
        json_decref(o);
    }
    if (rc == VT_OK && ferror(f))
        rc = vt_error(VT_FAIL, "%s: read error", path);
    free(line);
    for (size_t i = 0; i < ps.nclients; i++) {
        free(ps.clients[i].awaiting);
        free(ps.clients[i].streams);
    }
    free(ps.clients);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Serving                                                                  */
/* ------------------------------------------------------------------------ */

/* Events waiting for the round that answered their call to end. */
typedef struct pending_event {
    struct pending_event *next;
    const event *ev;
} pending_event;

typedef struct client_state {
    pending_event *events, *tail;
} client_state;

/* The first of the client's waiting events, off the queue (NULL: none). */
static pending_event *take_event(client_state *cs)
{
    pending_event *p = cs ? cs->events : NULL;
    if (p) {
        cs->events = p->next;
        if (!cs->events)
            cs->tail = NULL;
    }
    return p;
}

typedef struct replay {
    virtwire_server *srv;
    recording rec;
    unsigned long unmatched;
} replay;

static replay *the_replay;
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
    if (the_replay)
        virtwire_server_stop(the_replay->srv);
}

static int on_open(virtwire_server_client *c, void *opaque)
{
    (void)opaque;
    client_state *cs = calloc(1, sizeof *cs);
    if (!cs)
        return -1;
    virtwire_server_client_set_data(c, cs);
    return 0;
}

static void on_close(virtwire_server_client *c, void *opaque)
{
    (void)opaque;
    client_state *cs = virtwire_server_client_get_data(c);
    for (pending_event *p; (p = take_event(cs));)
        free(p);
    free(cs);
}

/* Sends each client's waiting events (after the round that sent their
 * call's reply, so that they follow it). */
static void send_events(virtwire_server_client *c, void *opaque)
{
    (void)opaque;
    client_state *cs = virtwire_server_client_get_data(c);
    for (pending_event *p; (p = take_event(cs));) {
        const virtwire_json_type *jt = vt_json_type(p->ev->proc->msg);
        virtwire_arena arena = VIRTWIRE_ARENA_INIT;
        void *msg = jt ? virtwire_arena_alloc(&arena, p->ev->proc->msg->size) : NULL;
        virtwire_json_ctx ctx = { .arena = &arena };
        if (msg) {
            memset(msg, 0, p->ev->proc->msg->size);
            if (jt->from_json(p->ev->msg, msg, &ctx) == 0)
                virtwire_server_send_event(c, p->ev->prog, p->ev->proc->number, msg);
            else
                vt_error(VT_FAIL, "replay: a recorded %s does not convert: %s",
                         p->ev->proc->name, virtwire_json_error(&ctx));
        }
        virtwire_arena_fini(&arena);
        free(p);
    }
}

/* A stream served back: its recorded packets, in order. */
typedef struct sstream {
    const rcall *call;
    size_t next; /* the next packet */
} sstream;

static int set_stream_error(virtwire_server_stream *s, const json_t *e)
{
    long long code = 1, domain = 7;
    json_t *c = json_object_get(e, "code"), *d = json_object_get(e, "domain");
    if (json_is_integer(c))
        code = json_integer_value(c);
    if (json_is_integer(d))
        domain = json_integer_value(d);
    const char *m = json_string_value(json_object_get(e, "message"));
    virtwire_server_stream_error(s, (int)code, (int)domain, m ? m : "stream error");
    return -1;
}

static int stream_pull(virtwire_server_stream *s, void *opaque)
{
    sstream *ss = opaque;
    const rcall *c = ss->call;
    if (ss->next == c->npackets)
        return virtwire_server_stream_send_eof(s); /* the recording stops here */
    const packet *p = &c->packets[ss->next++];
    switch (p->kind) {
    case PK_DATA:
        if (p->data)
            return virtwire_server_stream_send(s, p->data, p->len);
        else {
            unsigned char *z = calloc(1, p->len);
            if (!z)
                return -1;
            int rc = virtwire_server_stream_send(s, z, p->len);
            free(z);
            return rc;
        }
    case PK_HOLE:
        return virtwire_server_stream_send_hole(s, p->hole);
    case PK_EOF:
        return virtwire_server_stream_send_eof(s);
    case PK_ERROR:
        return p->error ? set_stream_error(s, p->error) : -1;
    case PK_OK:
        /* The finish's confirmation: the server sends it; data ended. */
        ss->next--;
        return virtwire_server_stream_send_eof(s);
    }
    return -1;
}

/* The daemon's answer to the client's finish: OK, or the recorded error. */
static int stream_finish(virtwire_server_stream *s, void *opaque)
{
    sstream *ss = opaque;
    for (size_t i = ss->next; i < ss->call->npackets; i++) {
        const packet *p = &ss->call->packets[i];
        if (p->kind == PK_ERROR)
            return p->error ? set_stream_error(s, p->error) : -1;
        if (p->kind == PK_OK)
            return 0;
    }
    return 0;
}

static int stream_data(virtwire_server_stream *s, const void *d, size_t n, void *opaque)
{
    (void)s, (void)d, (void)n, (void)opaque;
    return 0;
}

static int stream_hole(virtwire_server_stream *s, int64_t n, void *opaque)
{
    (void)s, (void)n, (void)opaque;
    return 0;
}

static void stream_close(virtwire_server_stream *s, void *opaque)
{
    (void)s;
    free(opaque);
}

/* The JSON of the call's arguments (NULL for none). */
static json_t *args_json(const virtwire_server_call *call)
{
    return call->proc->args ? vt_to_json(call->proc->args, call->args) : NULL;
}

static int args_equal(const json_t *recorded, const json_t *got)
{
    if (!recorded || !got)
        return !recorded && (!got || json_is_null(got) ||
                             (json_is_object(got) && json_object_size(got) == 0));
    return json_equal((json_t *)recorded, (json_t *)got);
}

static int unmatched(replay *rp, virtwire_server_call *call, json_t *got)
{
    char *text = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    char msg[UNMATCHED_MAX + 64];
    size_t used = 0;
    for (size_t i = 0; i < rp->rec.ncalls; i++)
        used += rp->rec.calls[i].proc == call->proc && rp->rec.calls[i].replied;
    snprintf(msg, sizeof msg, "replay: no recorded call of %s with these arguments: %.*s%s",
             call->proc->name, UNMATCHED_MAX - 120, text ? text : "(none)",
             text && strlen(text) > UNMATCHED_MAX - 120 ? "..." : "");
    fprintf(stderr, "virtwire: %s (the recording has %zu calls of it)\n", msg, used);
    free(text);
    rp->unmatched++;
    char **m = virtwire_server_call_alloc(call, sizeof *m), **f = NULL;
    if (m && (*m = virtwire_server_call_strdup(call, msg)) &&
        (f = virtwire_server_call_alloc(call, sizeof *f)) &&
        (*f = virtwire_server_call_strdup(call, "%s"))) {
        call->error = (virNetMessageError){ .code = VIRTWIRE_VIR_ERR_RPC,
                                            .domain = VIRTWIRE_VIR_FROM_RPC, .message = m,
                                            .level = 2, .str1 = f, .str2 = m, .int1 = -1,
                                            .int2 = -1 };
        call->has_error = 1;
        return -1;
    }
    return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_RPC, VIRTWIRE_VIR_FROM_RPC, "%s",
                                      msg);
}

static int handle_call(virtwire_server_call *call, void *opaque)
{
    replay *rp = opaque;
    json_t *got = args_json(call);
    if (call->proc->args && !got)
        return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_INTERNAL_ERROR,
                                          VIRTWIRE_VIR_FROM_RPC, "out of memory");
    /* The first unused recorded call with these arguments; once all are
     * used, the last of them again (a client that connects once more, or
     * polls, gets the recorded answers again). */
    rcall *c = NULL, *last = NULL;
    for (size_t i = 0; i < rp->rec.ncalls && !c; i++) {
        rcall *x = &rp->rec.calls[i];
        if (!x->replied || x->proc != call->proc || !args_equal(x->args, got))
            continue;
        if (!x->used)
            c = x;
        else
            last = x;
    }
    if (!c)
        c = last;
    if (!c) {
        int rc = unmatched(rp, call, got);
        json_decref(got);
        return rc;
    }
    json_decref(got);
    c->used = 1;
    virtwire_json_ctx ctx = { .arena = call->arena };
    if (c->error) {
        const virtwire_json_type *jt = vt_json_type(&virNetMessageError_desc);
        memset(&call->error, 0, sizeof call->error);
        if (!jt || jt->from_json(c->reply, &call->error, &ctx) < 0)
            return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_INTERNAL_ERROR,
                                              VIRTWIRE_VIR_FROM_RPC,
                                              "replay: the error recorded on line %ld does not "
                                              "convert: %s", c->line,
                                              virtwire_json_error(&ctx));
        call->has_error = 1;
        return -1;
    }
    if (call->proc->ret) {
        const virtwire_json_type *jt = vt_json_type(call->proc->ret);
        if (!jt || !c->reply || jt->from_json(c->reply, call->ret, &ctx) < 0)
            return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_INTERNAL_ERROR,
                                              VIRTWIRE_VIR_FROM_RPC,
                                              "replay: the reply recorded on line %ld does not "
                                              "convert: %s", c->line,
                                              c->reply ? virtwire_json_error(&ctx) : "none");
    }
    for (size_t i = 0; i < c->nfds && call->nfds < VIRTWIRE_FDS_MAX; i++) {
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0)
            return -1;
        call->ret_fds[call->nret_fds++] = fd;
        call->fds[call->nfds++] = fd; /* closed by the server with the call */
    }
    if (call->proc->flags & (VIRTWIRE_PROC_STREAM_READ | VIRTWIRE_PROC_STREAM_WRITE)) {
        static const virtwire_server_stream_callbacks cbs = {
            .size = sizeof cbs, .on_pull = stream_pull, .on_finish = stream_finish,
            .on_data = stream_data, .on_hole = stream_hole, .on_close = stream_close,
        };
        virtwire_server_stream_callbacks wcbs = cbs;
        if (!(call->proc->flags & VIRTWIRE_PROC_STREAM_READ))
            wcbs.on_pull = NULL;
        sstream *ss = calloc(1, sizeof *ss);
        if (!ss)
            return -1;
        ss->call = c;
        if (!virtwire_server_call_stream(call, (call->proc->flags & VIRTWIRE_PROC_STREAM_SPARSE) != 0,
                                         &wcbs, ss)) {
            free(ss);
            return -1;
        }
    }
    client_state *cs = virtwire_server_client_get_data(call->client);
    for (size_t i = 0; cs && i < c->nevents; i++) {
        pending_event *p = calloc(1, sizeof *p);
        if (!p)
            break;
        p->ev = &c->events[i];
        if (cs->tail)
            cs->tail->next = p;
        else
            cs->events = p;
        cs->tail = p;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */

int vt_cmd_replay(int argc, char **argv)
{
    const char *listens[8];
    size_t nlistens = 0;
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            if (nlistens == 8)
                return vt_error(VT_USAGE, "too many --listen");
            listens[nlistens++] = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return vt_error(VT_USAGE, "unknown option '%s'\n%s", argv[i], usage_text);
        } else if (path) {
            return vt_error(VT_USAGE, "%s", usage_text);
        } else {
            path = argv[i];
        }
    }
    if (!path || !nlistens)
        return vt_error(VT_USAGE, "%s", usage_text);
    replay rp;
    memset(&rp, 0, sizeof rp);
    int rc = load(path, &rp.rec);
    size_t replied = 0;
    for (size_t i = 0; i < rp.rec.ncalls; i++)
        replied += rp.rec.calls[i].replied;
    virtwire_server_callbacks cbs = { .size = sizeof cbs, .on_open = on_open,
                                      .on_close = on_close };
    if (rc == VT_OK && virtwire_server_new(&cbs, &rp, &rp.srv) < 0)
        rc = vt_error(VT_FAIL, "out of memory");
    static const virtwire_program *const progs[] = { &remote_program, &qemu_program,
                                                     &lxc_program, &admin_program };
    for (size_t p = 0; rc == VT_OK && p < 4; p++) {
        if (virtwire_server_register(rp.srv, progs[p]) < 0)
            rc = vt_error(VT_FAIL, "out of memory");
        for (size_t k = 0; rc == VT_OK && k < progs[p]->nprocs; k++)
            if (!(progs[p]->procs[k].flags & VIRTWIRE_PROC_MESSAGE))
                virtwire_server_set_handler(rp.srv, progs[p], progs[p]->procs[k].number,
                                            handle_call, &rp);
    }
    for (size_t i = 0; rc == VT_OK && i < nlistens; i++) {
        const char *l = listens[i];
        int lrc;
        if (strncmp(l, "unix:", 5) == 0) {
            lrc = virtwire_server_listen_unix(rp.srv, l + 5);
        } else if (strncmp(l, "tcp:", 4) == 0 && strrchr(l + 4, ':')) {
            char host[128];
            const char *colon = strrchr(l + 4, ':');
            snprintf(host, sizeof host, "%.*s", (int)(colon - l - 4), l + 4);
            lrc = virtwire_server_listen_tcp(rp.srv, host, atoi(colon + 1));
        } else {
            rc = vt_error(VT_USAGE, "--listen %s: expected unix:PATH or tcp:HOST:PORT", l);
            break;
        }
        if (lrc < 0)
            rc = vt_error(VT_FAIL, "--listen %s: %s", l,
                          lrc == VIRTWIRE_EIO ? strerror(errno) : virtwire_strerror(lrc));
        else if (strncmp(l, "tcp:", 4) == 0)
            fprintf(stderr, "virtwire: replay: listening on tcp port %d, %zu recorded calls\n",
                    virtwire_server_tcp_port(rp.srv), replied);
        else
            fprintf(stderr, "virtwire: replay: listening on %s, %zu recorded calls\n", l,
                    replied);
    }
    if (rc == VT_OK) {
        the_replay = &rp;
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        fflush(stderr);
        while (rc == VT_OK && !stopping) {
            int r = virtwire_server_run_once(rp.srv, 1000);
            if (r < 0 && r != VIRTWIRE_ENOMEM)
                rc = vt_error(VT_FAIL, "replay: %s", virtwire_strerror(r));
            virtwire_server_foreach_client(rp.srv, send_events, NULL);
        }
        the_replay = NULL;
    }
    virtwire_server_free(rp.srv);
    recording_free(&rp.rec);
    return rc;
}
