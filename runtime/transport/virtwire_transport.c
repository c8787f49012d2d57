/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _POSIX_C_SOURCE 200809L
/*
 * virtwire sans-I/O transport (see virtwire_transport.h).
 *
 * Layout of this file: error texts; the acceptance table; the transport
 * and its containers (programs, calls in flight, streams); sending and the
 * stream send helpers; keepalive; dispatch of a complete frame per role;
 * framing (receive, receive_fd, need).
 */
#include "virtwire_transport.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virkeepaliveprotocol.h"
#include "virtwire_facts.h"
#include "virtwire_sized_internal.h"

/* Frame geometry (docs/protocol.md, "Framing"), short names for this file. */
#define LEN_WORD VIRTWIRE_FRAME_LEN_WORD
#define HEADER_LEN VIRTWIRE_FRAME_HEADER_LEN
#define FDS_WORD VIRTWIRE_FRAME_FDS_WORD
#define FRAME_MIN VIRTWIRE_FRAME_MIN
#define FRAME_MAX VIRTWIRE_FRAME_MAX
#define FDS_MAX VIRTWIRE_FDS_MAX
/* Offset of the type word in the header. */
#define HEADER_TYPE_OFFSET 12u

/* A receive buffer larger than this is released after its frame, so one
 * huge frame does not pin 32 MiB for the life of the connection.  Stream
 * packets (262120 bytes of data) stay below it and reuse the buffer. */
#define RX_KEEP ((size_t)1 << 20)
#define RX_FIRST_ALLOC ((size_t)4096)

/* ------------------------------------------------------------------------ */
/* What each role accepts                                                   */
/* ------------------------------------------------------------------------ */

#define ST_OK (1u << VIR_NET_OK)
#define ST_ERROR (1u << VIR_NET_ERROR)
#define ST_CONTINUE (1u << VIR_NET_CONTINUE)
#define NTYPES 7

/*
 * The statuses a receiver in each role accepts with each type, as libvirt's
 * virnetserver*.c and virnetclient*.c do; 0 means the type is refused (the
 * table in virtwire_transport.h says what happens then).  Keepalive
 * MESSAGEs are handled before this table in both roles.  The send functions
 * check what they send against the peer's row.
 */
static const unsigned char accepted[2][NTYPES] = {
    [VIRTWIRE_TRANSPORT_CLIENT] = {
        [VIR_NET_CALL] = 0,
        [VIR_NET_REPLY] = ST_OK | ST_ERROR,
        [VIR_NET_MESSAGE] = ST_OK,
        [VIR_NET_STREAM] = ST_OK | ST_ERROR | ST_CONTINUE,
        [VIR_NET_CALL_WITH_FDS] = 0,
        [VIR_NET_REPLY_WITH_FDS] = ST_OK | ST_ERROR,
        [VIR_NET_STREAM_HOLE] = ST_CONTINUE,
    },
    [VIRTWIRE_TRANSPORT_SERVER] = {
        [VIR_NET_CALL] = ST_OK,
        [VIR_NET_REPLY] = 0,
        [VIR_NET_MESSAGE] = 0,
        [VIR_NET_STREAM] = ST_OK | ST_ERROR | ST_CONTINUE,
        [VIR_NET_CALL_WITH_FDS] = ST_OK,
        [VIR_NET_REPLY_WITH_FDS] = 0,
        [VIR_NET_STREAM_HOLE] = ST_CONTINUE,
    },
};

/* Bit of a status value; 0 for values libvirt does not define. */
static unsigned status_bit(uint32_t status)
{
    return status <= VIR_NET_CONTINUE ? 1u << status : 0u;
}

static int is_call(virNetMessageType type)
{
    return type == VIR_NET_CALL || type == VIR_NET_CALL_WITH_FDS;
}

static int is_reply(virNetMessageType type)
{
    return type == VIR_NET_REPLY || type == VIR_NET_REPLY_WITH_FDS;
}

static int is_stream(virNetMessageType type)
{
    return type == VIR_NET_STREAM || type == VIR_NET_STREAM_HOLE;
}

static int has_fds_word(virNetMessageType type)
{
    return type == VIR_NET_CALL_WITH_FDS || type == VIR_NET_REPLY_WITH_FDS;
}

/* The one type whose fds a receiver in this role reads: like libvirt, a
 * server reads fds only after CALL_WITH_FDS, a client only after
 * REPLY_WITH_FDS. */
static uint32_t fd_type_for(virtwire_transport_role role)
{
    return role == VIRTWIRE_TRANSPORT_SERVER ? VIR_NET_CALL_WITH_FDS : VIR_NET_REPLY_WITH_FDS;
}

/* ------------------------------------------------------------------------ */
/* The transport                                                            */
/* ------------------------------------------------------------------------ */

struct virtwire_transport_program {
    virtwire_transport *t;
    uint32_t program;
    uint32_t version;
    virtwire_transport_program_callbacks cbs;
    void *opaque;
};

/* A call in flight: the program it was sent through and its serial.  The
 * program pointer stands for program and version in replies' matching. */
typedef struct pending_slot {
    virtwire_transport_program *p; /* NULL: free slot */
    uint32_t serial;
} pending_slot;

typedef struct stream_entry {
    virtwire_transport_program *p;
    int32_t proc;
    uint32_t serial;
    unsigned int flags;
    unsigned char sent_end; /* a final packet went out */
    unsigned char recv_end; /* a final packet came in */
} stream_entry;

enum rx_state {
    RX_LENGTH, /* reading the 4-byte length word */
    RX_BODY,   /* buffering the rest of a frame */
    RX_FDS,    /* the frame is complete, waiting for its fds */
};

struct virtwire_transport {
    virtwire_transport_role role;
    virtwire_transport_callbacks cbs;
    void *opaque;
    int fatal;        /* latched error, 0 while healthy */
    unsigned busy;    /* > 0 while a callback runs */
    unsigned sending; /* on_send is running: txhdr is in use */

    /* Receiving. */
    enum rx_state state;
    unsigned char lenbuf[LEN_WORD];
    size_t lenhave;
    unsigned char *buf; /* the frame after its length word */
    size_t cap;
    size_t have;
    size_t body_len;
    int fds[FDS_MAX];
    size_t nfds_have;
    size_t nfds_want;
    virtwire_arena arena; /* decoded remote_error / hole of one message */
    int arena_used;
    uint64_t rx_now; /* the clock, read at most once per receive call */
    int rx_now_valid;
    int rx_stop; /* virtwire_transport_stop_receive() */

    /* Programs: pointers, so that handles stay put when the array grows. */
    virtwire_transport_program **progs;
    size_t nprogs;
    size_t progs_cap;
    virtwire_transport_program *last_prog; /* lookup cache */

    /* Calls in flight: Robin Hood hash table, power-of-2 size. */
    pending_slot *pending;
    size_t pending_cap;
    size_t npending;
    uint32_t next_serial;

    /* Open streams: few at a time, a plain array. */
    stream_entry *streams;
    size_t nstreams;
    size_t streams_cap;
    size_t stream_packet_max;

    /* Sending. */
    unsigned char txhdr[LEN_WORD + HEADER_LEN + FDS_WORD];
    unsigned char *scratch; /* encoded values (send_value, errors) */
    size_t scratch_cap;

    /* Own keepalive PINGs. */
    int ka_on;
    unsigned int ka_interval;
    unsigned int ka_count;
    unsigned int ka_left;  /* PINGs left before the peer is dead */
    uint64_t ka_start;     /* start of the current silent interval */
};

/* Makes room for need items of elem bytes in arr (capacity *cap), doubling:
 * returns the array, moved or not, or NULL when out of memory. */
static void *grow_array(void *arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : 4;
    while (ncap < need)
        ncap *= 2;
    void *n = realloc(arr, ncap * elem);
    if (n)
        *cap = ncap;
    return n;
}

static void close_fd(int fd)
{
    /* EINTR from close() still releases the descriptor on Linux and is
     * unspecified elsewhere: never retry. */
    if (fd >= 0)
        (void)close(fd);
}

/* Closes the received fds that no callback took. */
static void close_held_fds(virtwire_transport *t)
{
    for (size_t i = 0; i < t->nfds_have; i++)
        close_fd(t->fds[i]);
    t->nfds_have = 0;
}

static void rx_reset(virtwire_transport *t)
{
    t->state = RX_LENGTH;
    t->lenhave = 0;
    t->have = 0;
    t->body_len = 0;
    t->nfds_want = 0;
    if (t->cap > RX_KEEP) {
        free(t->buf);
        t->buf = NULL;
        t->cap = 0;
    }
}

static void report(virtwire_transport *t, int code, const virNetMessageHeader *hdr, int fatal)
{
    if (t->cbs.on_error) {
        t->busy++;
        t->cbs.on_error(t, code, hdr, fatal, t->opaque);
        t->busy--;
    }
}

/* Latches a fatal error: drops what was buffered, closes held fds. */
static int latch(virtwire_transport *t, int code, const virNetMessageHeader *hdr)
{
    if (t->fatal)
        return t->fatal;
    t->fatal = code;
    close_held_fds(t);
    free(t->buf);
    t->buf = NULL;
    t->cap = 0;
    t->state = RX_LENGTH;
    t->ka_on = 0;
    report(t, code, hdr, 1);
    return code;
}

int virtwire_transport_new(virtwire_transport_role role, const virtwire_transport_callbacks *cbs,
                           void *opaque, virtwire_transport **out)
{
    if (!out)
        return VIRTWIRE_EINVAL;
    *out = NULL;
    virtwire_transport_callbacks mine;
    if (!cbs || vw_sized_copy(&mine, sizeof mine, cbs) < 0 || !mine.on_send ||
        (role != VIRTWIRE_TRANSPORT_CLIENT && role != VIRTWIRE_TRANSPORT_SERVER))
        return VIRTWIRE_EINVAL;
    virtwire_transport *t = calloc(1, sizeof(*t));
    if (!t)
        return VIRTWIRE_ENOMEM;
    t->role = role;
    t->cbs = mine;
    t->opaque = opaque;
    t->state = RX_LENGTH;
    t->stream_packet_max = VIRTWIRE_STREAM_PACKET_MAX;
    virtwire_arena_init(&t->arena);
    *out = t;
    return 0;
}

void virtwire_transport_free(virtwire_transport *t)
{
    if (!t)
        return;
    close_held_fds(t);
    for (size_t i = 0; i < t->nprogs; i++)
        free(t->progs[i]);
    free(t->progs);
    free(t->pending);
    free(t->streams);
    free(t->buf);
    free(t->scratch);
    virtwire_arena_fini(&t->arena);
    free(t);
}

virtwire_transport_role virtwire_transport_get_role(const virtwire_transport *t)
{
    return t->role;
}

int virtwire_transport_error(const virtwire_transport *t)
{
    return t->fatal;
}

virtwire_transport *virtwire_transport_program_transport(const virtwire_transport_program *p)
{
    return p->t;
}

/* ------------------------------------------------------------------------ */
/* Programs                                                                 */
/* ------------------------------------------------------------------------ */

static virtwire_transport_program *find_program(virtwire_transport *t, uint32_t program,
                                                uint32_t version)
{
    virtwire_transport_program *c = t->last_prog;
    if (c && c->program == program && c->version == version)
        return c;
    for (size_t i = 0; i < t->nprogs; i++) {
        c = t->progs[i];
        if (c->program == program && c->version == version) {
            t->last_prog = c;
            return c;
        }
    }
    return NULL;
}

int virtwire_transport_register(virtwire_transport *t, uint32_t program, uint32_t version,
                                const virtwire_transport_program_callbacks *cbs, void *opaque,
                                virtwire_transport_program **out)
{
    virtwire_transport_program_callbacks mine;
    if (!t || !cbs || !out)
        return VIRTWIRE_EINVAL;
    *out = NULL;
    if (program == KEEPALIVE_PROGRAM || find_program(t, program, version) ||
        vw_sized_copy(&mine, sizeof mine, cbs) < 0)
        return VIRTWIRE_EINVAL;
    void *grown = grow_array(t->progs, &t->progs_cap, t->nprogs + 1, sizeof(*t->progs));
    if (!grown)
        return VIRTWIRE_ENOMEM;
    t->progs = grown;
    virtwire_transport_program *p = calloc(1, sizeof(*p));
    if (!p)
        return VIRTWIRE_ENOMEM;
    p->t = t;
    p->program = program;
    p->version = version;
    p->cbs = mine;
    p->opaque = opaque;
    t->progs[t->nprogs++] = p;
    *out = p;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Calls in flight                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Calls in flight live in a Robin Hood hash table keyed by (program,
 * serial).  Serials come from one counter, so consecutive calls have
 * consecutive serials: the home slot is the serial itself, mixed with a
 * per-program constant by XOR, which keeps consecutive serials in
 * consecutive slots (no collisions among them, and replies that come in
 * order walk the table in order).  Robin Hood order lets a removal stop at
 * the first entry that sits in its home slot.
 */
static size_t pending_home(const virtwire_transport *t, const virtwire_transport_program *p,
                           uint32_t serial)
{
    uint32_t mix = (uint32_t)((uintptr_t)p >> 4) * 0x9E3779B1u;
    return (size_t)(serial ^ mix) & (t->pending_cap - 1);
}

/* How far slot i's entry sits from its home slot. */
static size_t pending_dist(const virtwire_transport *t, size_t i)
{
    const pending_slot *s = &t->pending[i];
    return (i - pending_home(t, s->p, s->serial)) & (t->pending_cap - 1);
}

static pending_slot *pending_find(const virtwire_transport *t, const virtwire_transport_program *p,
                                  uint32_t serial)
{
    if (!t->npending)
        return NULL;
    size_t mask = t->pending_cap - 1;
    for (size_t i = pending_home(t, p, serial), d = 0;; i = (i + 1) & mask, d++) {
        pending_slot *s = &t->pending[i];
        /* An entry closer to its home than we are to ours: ours would
         * have taken its place. */
        if (!s->p || pending_dist(t, i) < d)
            return NULL;
        if (s->p == p && s->serial == serial)
            return s;
    }
}

static void pending_insert_slot(virtwire_transport *t, virtwire_transport_program *p,
                                uint32_t serial)
{
    size_t mask = t->pending_cap - 1;
    pending_slot cur = { p, serial };
    for (size_t i = pending_home(t, p, serial), d = 0;; i = (i + 1) & mask, d++) {
        if (!t->pending[i].p) {
            t->pending[i] = cur;
            return;
        }
        /* Robin Hood: the entry nearer its home moves on. */
        size_t di = pending_dist(t, i);
        if (di < d) {
            pending_slot tmp = t->pending[i];
            t->pending[i] = cur;
            cur = tmp;
            d = di;
        }
    }
}

static int pending_grow(virtwire_transport *t)
{
    size_t ncap = t->pending_cap ? t->pending_cap * 2 : 16;
    pending_slot *old = t->pending;
    size_t ocap = t->pending_cap;
    t->pending = calloc(ncap, sizeof(*t->pending));
    if (!t->pending) {
        t->pending = old;
        return VIRTWIRE_ENOMEM;
    }
    t->pending_cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].p)
            pending_insert_slot(t, old[i].p, old[i].serial);
    free(old);
    return 0;
}

static int pending_add(virtwire_transport *t, virtwire_transport_program *p, uint32_t serial)
{
    /* Load factor at most 1/2 keeps probes short. */
    if ((t->npending + 1) * 2 > t->pending_cap)
        VIRTWIRE_TRY(pending_grow(t));
    pending_insert_slot(t, p, serial);
    t->npending++;
    return 0;
}

/* Removes a slot by shifting the following entries of its run back by one,
 * up to the first entry in its home slot (or an empty slot). */
static void pending_remove(virtwire_transport *t, pending_slot *slot)
{
    size_t mask = t->pending_cap - 1;
    size_t i = (size_t)(slot - t->pending);
    for (size_t j = (i + 1) & mask; t->pending[j].p && pending_dist(t, j) > 0;
         j = (j + 1) & mask) {
        t->pending[i] = t->pending[j];
        i = j;
    }
    t->pending[i].p = NULL;
    t->npending--;
}

/* A fresh serial: counting up from 0, skipping any still in flight. */
static uint32_t next_serial(virtwire_transport *t, const virtwire_transport_program *p)
{
    uint32_t s = t->next_serial;
    while (pending_find(t, p, s))
        s++;
    t->next_serial = s + 1;
    return s;
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                  */
/* ------------------------------------------------------------------------ */

static stream_entry *stream_find(virtwire_transport *t, const virtwire_transport_program *p,
                                 uint32_t serial)
{
    for (size_t i = 0; i < t->nstreams; i++)
        if (t->streams[i].p == p && t->streams[i].serial == serial)
            return &t->streams[i];
    return NULL;
}

static void stream_remove(virtwire_transport *t, stream_entry *s)
{
    *s = t->streams[--t->nstreams];
}

int virtwire_transport_stream_open(virtwire_transport_program *p, int32_t proc, uint32_t serial,
                                   unsigned int flags)
{
    if (!p || (flags & ~VIRTWIRE_STREAM_SPARSE))
        return VIRTWIRE_EINVAL;
    virtwire_transport *t = p->t;
    if (stream_find(t, p, serial))
        return VIRTWIRE_EINVAL;
    void *grown = grow_array(t->streams, &t->streams_cap, t->nstreams + 1, sizeof(*t->streams));
    if (!grown)
        return VIRTWIRE_ENOMEM;
    t->streams = grown;
    stream_entry *s = &t->streams[t->nstreams++];
    memset(s, 0, sizeof(*s));
    s->p = p;
    s->proc = proc;
    s->serial = serial;
    s->flags = flags;
    return 0;
}

int virtwire_transport_stream_close(virtwire_transport_program *p, uint32_t serial)
{
    if (!p)
        return VIRTWIRE_EINVAL;
    stream_entry *s = stream_find(p->t, p, serial);
    if (!s)
        return VIRTWIRE_EINVAL;
    stream_remove(p->t, s);
    return 0;
}

int virtwire_transport_stream_is_open(const virtwire_transport_program *p, uint32_t serial)
{
    return p && stream_find(p->t, p, serial) != NULL;
}

int virtwire_transport_set_stream_packet_max(virtwire_transport *t, size_t max)
{
    if (!t || max < 1 || max > VIR_NET_MESSAGE_PAYLOAD_MAX)
        return VIRTWIRE_EINVAL;
    t->stream_packet_max = max;
    return 0;
}

/* A final packet (OK or ERROR) went out (sent) or came in: the stream is
 * forgotten once both have happened. */
static void stream_mark_end(virtwire_transport *t, virtwire_transport_program *p,
                            uint32_t serial, int sent)
{
    stream_entry *s = stream_find(t, p, serial);
    if (!s)
        return;
    if (sent)
        s->sent_end = 1;
    else
        s->recv_end = 1;
    if (s->sent_end && s->recv_end)
        stream_remove(t, s);
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                  */
/* ------------------------------------------------------------------------ */

/* Frames one message: header chunk, then the payload chunks as given. */
static int send_frame(virtwire_transport *t, uint32_t program, uint32_t version, int32_t proc,
                      virNetMessageType type, virNetMessageStatus status, uint32_t serial,
                      const struct iovec *payload, size_t npayload, const int *fds, size_t nfds)
{
    struct iovec iov[1 + VIRTWIRE_TRANSPORT_MAX_PAYLOAD_CHUNKS];
    size_t plen = 0;
    /* on_send sending again would overwrite the header it was given. */
    if (t->sending)
        return VIRTWIRE_EREENTRANT;
    for (size_t i = 0; i < npayload; i++) {
        if (payload[i].iov_len && !payload[i].iov_base)
            return VIRTWIRE_EINVAL;
        if (payload[i].iov_len > FRAME_MAX)
            return VIRTWIRE_EFRAME_LENGTH;
        plen += payload[i].iov_len;
        iov[1 + i] = payload[i];
    }
    size_t hlen = LEN_WORD + HEADER_LEN + (has_fds_word(type) ? FDS_WORD : 0);
    if (plen > FRAME_MAX - hlen)
        return VIRTWIRE_EFRAME_LENGTH;

    virNetMessageHeader h = { program, version, proc, type, serial, status };
    virtwire_enc e;
    virtwire_enc_init(&e, t->txhdr, sizeof(t->txhdr));
    VIRTWIRE_TRY(virtwire_put_u32(&e, (uint32_t)(hlen + plen)));
    VIRTWIRE_TRY(virNetMessageHeader_encode(&e, &h));
    if (has_fds_word(type))
        VIRTWIRE_TRY(virtwire_put_u32(&e, (uint32_t)nfds));
    iov[0].iov_base = t->txhdr;
    iov[0].iov_len = hlen;

    t->busy++;
    t->sending++;
    int rc = t->cbs.on_send(t, iov, 1 + npayload, nfds ? fds : NULL, nfds, t->opaque);
    t->sending--;
    t->busy--;
    return rc < 0 ? VIRTWIRE_ESEND : 0;
}

/* Checks what a program sends against what the peer's role accepts. */
static int check_outgoing(const virtwire_transport *t, virNetMessageType type,
                          virNetMessageStatus status, const int *fds, size_t nfds)
{
    if ((uint32_t)type >= NTYPES || status_bit((uint32_t)status) == 0)
        return VIRTWIRE_EINVAL;
    unsigned ok = accepted[!t->role][type];
    if (!ok)
        return VIRTWIRE_EMSG_ROLE;
    if (!(ok & status_bit((uint32_t)status)))
        return VIRTWIRE_EMSG_COMBINATION;
    if (nfds > FDS_MAX)
        return VIRTWIRE_EFDS_MAX;
    if (nfds && (!fds || !has_fds_word(type)))
        return VIRTWIRE_EINVAL;
    return 0;
}

int64_t virtwire_transport_sendv(virtwire_transport_program *p, int32_t proc, virNetMessageType type,
                                 virNetMessageStatus status, uint32_t serial,
                                 const struct iovec *payload, size_t npayload, const int *fds,
                                 size_t nfds)
{
    if (!p || npayload > VIRTWIRE_TRANSPORT_MAX_PAYLOAD_CHUNKS || (npayload && !payload))
        return VIRTWIRE_EINVAL;
    virtwire_transport *t = p->t;
    if (t->fatal)
        return t->fatal;
    VIRTWIRE_TRY(check_outgoing(t, type, status, fds, nfds));

    if (is_call(type)) {
        serial = next_serial(t, p);
        VIRTWIRE_TRY(pending_add(t, p, serial));
    }
    int rc = send_frame(t, p->program, p->version, proc, type, status, serial, payload, npayload,
                        fds, nfds);
    if (rc < 0) {
        if (is_call(type)) {
            pending_slot *s = pending_find(t, p, serial);
            if (s)
                pending_remove(t, s);
        }
        return rc;
    }
    if (type == VIR_NET_STREAM && status != VIR_NET_CONTINUE)
        stream_mark_end(t, p, serial, 1);
    return serial;
}

int64_t virtwire_transport_send(virtwire_transport_program *p, int32_t proc, virNetMessageType type,
                                virNetMessageStatus status, uint32_t serial, const void *payload,
                                size_t len, const int *fds, size_t nfds)
{
    if (len && !payload)
        return VIRTWIRE_EINVAL;
    struct iovec iov = { (void *)(uintptr_t)payload, len };
    return virtwire_transport_sendv(p, proc, type, status, serial, &iov, len ? 1 : 0, fds, nfds);
}

/* The scratch buffer's first size: most replies fit. */
#define SCRATCH_INITIAL 4096

/*
 * Encodes value into the transport's scratch buffer.  The value is encoded
 * straight into the buffer as it is; only when it does not fit is the size
 * function asked, the buffer grown (to at least twice its size, never past
 * the frame maximum) and the value encoded again.  A value over the frame
 * maximum fails with VIRTWIRE_EFRAME_LENGTH whatever else is wrong with
 * it, as when the size was always measured first.
 */
static int encode_scratch(virtwire_transport *t, const virtwire_type *vtype, const void *value,
                          size_t *len)
{
    *len = 0;
    /* on_send may be reading the scratch buffer. */
    if (t->sending)
        return VIRTWIRE_EREENTRANT;
    if (!vtype)
        return 0;
    if (!value)
        return VIRTWIRE_EINVAL;
    if (!t->scratch) {
        t->scratch = malloc(SCRATCH_INITIAL);
        if (!t->scratch)
            return VIRTWIRE_ENOMEM;
        t->scratch_cap = SCRATCH_INITIAL;
    }
    int rc = virtwire_encode(vtype, value, t->scratch, t->scratch_cap, len);
    if (VIRTWIRE_LIKELY(rc == 0))
        return 0;
    *len = 0;
    size_t n = vtype->encoded_size(value);
    if (n > FRAME_MAX)
        return VIRTWIRE_EFRAME_LENGTH;
    if (rc != VIRTWIRE_ENOSPACE)
        return rc;
    if (n > t->scratch_cap) {
        size_t cap = t->scratch_cap > FRAME_MAX / 2 ? FRAME_MAX : 2 * t->scratch_cap;
        if (cap < n)
            cap = n;
        unsigned char *b = realloc(t->scratch, cap);
        if (!b)
            return VIRTWIRE_ENOMEM;
        t->scratch = b;
        t->scratch_cap = cap;
    }
    rc = virtwire_encode(vtype, value, t->scratch, t->scratch_cap, len);
    if (rc < 0)
        *len = 0;
    return rc;
}

int64_t virtwire_transport_send_value(virtwire_transport_program *p, int32_t proc,
                                      virNetMessageType type, virNetMessageStatus status,
                                      uint32_t serial, const virtwire_type *vtype,
                                      const void *value, const int *fds, size_t nfds)
{
    if (!p)
        return VIRTWIRE_EINVAL;
    size_t len;
    VIRTWIRE_TRY(encode_scratch(p->t, vtype, value, &len));
    return virtwire_transport_send(p, proc, type, status, serial, p->t->scratch, len, fds, nfds);
}

int64_t virtwire_transport_send_error(virtwire_transport_program *p, int32_t proc,
                                      uint32_t serial, const virNetMessageError *err)
{
    if (!err)
        return VIRTWIRE_EINVAL;
    return virtwire_transport_send_value(p, proc, VIR_NET_REPLY, VIR_NET_ERROR, serial,
                                         &virNetMessageError_desc, err, NULL, 0);
}

/* ------------------------------------------------------------------------ */
/* Stream send helpers                                                      */
/* ------------------------------------------------------------------------ */

static int stream_send(virtwire_transport_program *p, int32_t proc, virNetMessageType type,
                       virNetMessageStatus status, uint32_t serial, const void *data, size_t len)
{
    int64_t rc = virtwire_transport_send(p, proc, type, status, serial, data, len, NULL, 0);
    return rc < 0 ? (int)rc : 0;
}

int virtwire_transport_stream_send_data(virtwire_transport_program *p, int32_t proc,
                                        uint32_t serial, const void *data, size_t len)
{
    if (!p || (len && !data))
        return VIRTWIRE_EINVAL;
    const unsigned char *d = data;
    size_t max = p->t->stream_packet_max;
    while (len) {
        size_t n = len < max ? len : max;
        VIRTWIRE_TRY(stream_send(p, proc, VIR_NET_STREAM, VIR_NET_CONTINUE, serial, d, n));
        d += n;
        len -= n;
    }
    return 0;
}

int virtwire_transport_stream_send_eof(virtwire_transport_program *p, int32_t proc,
                                       uint32_t serial)
{
    return stream_send(p, proc, VIR_NET_STREAM, VIR_NET_CONTINUE, serial, NULL, 0);
}

int virtwire_transport_stream_send_hole(virtwire_transport_program *p, int32_t proc,
                                        uint32_t serial, int64_t length, unsigned int flags)
{
    if (!p)
        return VIRTWIRE_EINVAL;
    virNetStreamHole hole = { length, flags };
    int64_t rc = virtwire_transport_send_value(p, proc, VIR_NET_STREAM_HOLE, VIR_NET_CONTINUE,
                                               serial, &virNetStreamHole_desc, &hole, NULL, 0);
    return rc < 0 ? (int)rc : 0;
}

int virtwire_transport_stream_finish(virtwire_transport_program *p, int32_t proc,
                                     uint32_t serial)
{
    return stream_send(p, proc, VIR_NET_STREAM, VIR_NET_OK, serial, NULL, 0);
}

int virtwire_transport_stream_abort(virtwire_transport_program *p, int32_t proc,
                                    uint32_t serial)
{
    return stream_send(p, proc, VIR_NET_STREAM, VIR_NET_ERROR, serial, NULL, 0);
}

int virtwire_transport_stream_send_error(virtwire_transport_program *p, int32_t proc,
                                         uint32_t serial, const virNetMessageError *err)
{
    if (!p || !err)
        return VIRTWIRE_EINVAL;
    int64_t rc = virtwire_transport_send_value(p, proc, VIR_NET_STREAM, VIR_NET_ERROR, serial,
                                               &virNetMessageError_desc, err, NULL, 0);
    return rc < 0 ? (int)rc : 0;
}

/* ------------------------------------------------------------------------ */
/* Keepalive                                                                */
/* ------------------------------------------------------------------------ */

static int send_keepalive(virtwire_transport *t, int32_t proc)
{
    return send_frame(t, KEEPALIVE_PROGRAM, KEEPALIVE_PROTOCOL_VERSION, proc, VIR_NET_MESSAGE,
                      VIR_NET_OK, 0, NULL, 0, NULL, 0);
}

static uint64_t clock_now(virtwire_transport *t)
{
    t->busy++;
    uint64_t now = t->cbs.clock_ms(t->opaque);
    t->busy--;
    return now;
}

/* Any complete frame proves the peer alive (libvirt: virKeepAliveCheckMessage). */
static void keepalive_seen(virtwire_transport *t)
{
    if (!t->ka_on)
        return;
    if (!t->rx_now_valid) {
        t->rx_now = clock_now(t);
        t->rx_now_valid = 1;
    }
    t->ka_start = t->rx_now;
    t->ka_left = t->ka_count;
}

int virtwire_transport_keepalive_start(virtwire_transport *t, unsigned int interval_ms,
                                       unsigned int count)
{
    if (!t || !t->cbs.clock_ms || interval_ms == 0)
        return VIRTWIRE_EINVAL;
    if (t->fatal)
        return t->fatal;
    t->ka_on = 1;
    t->ka_interval = interval_ms;
    t->ka_count = count;
    t->ka_left = count;
    t->ka_start = clock_now(t);
    return 0;
}

void virtwire_transport_keepalive_stop(virtwire_transport *t)
{
    t->ka_on = 0;
}

int virtwire_transport_keepalive_tick(virtwire_transport *t)
{
    if (t->busy)
        return VIRTWIRE_EREENTRANT;
    if (t->fatal)
        return t->fatal;
    if (!t->ka_on)
        return 0;
    uint64_t now = clock_now(t);
    if (now - t->ka_start < t->ka_interval)
        return 0;
    if (t->ka_left == 0) {
        if (t->cbs.on_keepalive_dead) {
            t->busy++;
            t->cbs.on_keepalive_dead(t, t->opaque);
            t->busy--;
        }
        return latch(t, VIRTWIRE_EKEEPALIVE, NULL);
    }
    t->ka_left--;
    t->ka_start = now;
    if (send_keepalive(t, KEEPALIVE_PROC_PING) < 0)
        return latch(t, VIRTWIRE_ESEND, NULL);
    return 0;
}

int64_t virtwire_transport_keepalive_timeout(const virtwire_transport *t)
{
    if (!t->ka_on || t->fatal)
        return -1;
    uint64_t now = t->cbs.clock_ms(t->opaque);
    uint64_t elapsed = now - t->ka_start;
    return elapsed >= t->ka_interval ? 0 : (int64_t)(t->ka_interval - elapsed);
}

/* ------------------------------------------------------------------------ */
/* Dispatch of one complete frame                                           */
/* ------------------------------------------------------------------------ */

/* Hands a message to a program callback; the callback's failure is fatal. */
static int deliver(virtwire_transport *t, virtwire_transport_program *p,
                   int (*cb)(virtwire_transport_program *, const virtwire_transport_msg *, void *),
                   const virtwire_transport_msg *m)
{
    int rc = 0;
    if (cb) {
        t->busy++;
        rc = cb(p, m, p->opaque);
        t->busy--;
    }
    if (rc < 0)
        return latch(t, VIRTWIRE_ECALLBACK, &m->hdr);
    return 0;
}

/* A refused frame that is not fatal: report it and go on. */
static int drop(virtwire_transport *t, int code, const virtwire_transport_msg *m)
{
    report(t, code, &m->hdr, 0);
    return 0;
}

/* Server: answers a refused CALL with a REPLY/ERROR carrying a remote_error
 * of code VIR_ERR_RPC, as libvirt does for unknown programs and bad
 * statuses. */
static int reject_call(virtwire_transport *t, int code, const virtwire_transport_msg *m)
{
    char text[96];
    if (code == VIRTWIRE_EPROGRAM)
        snprintf(text, sizeof(text), "Cannot find program %u version %u", m->hdr.prog,
                 m->hdr.vers);
    else
        snprintf(text, sizeof(text), "Unexpected message status %u", (unsigned)m->hdr.status);
    char *textp = text;
    virNetMessageError err;
    memset(&err, 0, sizeof(err));
    err.code = VIRTWIRE_VIR_ERR_RPC;
    err.domain = VIRTWIRE_VIR_FROM_RPC;
    err.message = &textp;
    err.level = VIRTWIRE_VIR_ERR_LEVEL_ERROR;

    report(t, code, &m->hdr, 0);
    size_t len;
    int rc = encode_scratch(t, &virNetMessageError_desc, &err, &len);
    if (rc < 0)
        return latch(t, rc, &m->hdr);
    struct iovec iov = { t->scratch, len };
    if (send_frame(t, m->hdr.prog, m->hdr.vers, m->hdr.proc, VIR_NET_REPLY, VIR_NET_ERROR,
                   m->hdr.serial, &iov, 1, NULL, 0) < 0)
        return latch(t, VIRTWIRE_ESEND, &m->hdr);
    return 0;
}

/* Decodes a payload into the per-message arena.  Like libvirt, bytes after
 * the value are ignored.  Returns 0, VIRTWIRE_EPAYLOAD, or VIRTWIRE_ENOMEM
 * (the frame is dropped either way: the code says why). */
static int decode_payload(virtwire_transport *t, const virtwire_type *vtype,
                          const virtwire_transport_msg *m, void *out)
{
    virtwire_dec d;
    virtwire_dec_init(&d, m->payload, m->payload_len, &t->arena);
    t->arena_used = 1;
    memset(out, 0, vtype->size);
    int rc = vtype->decode(&d, out);
    return rc == VIRTWIRE_ENOMEM ? rc : rc < 0 ? VIRTWIRE_EPAYLOAD : 0;
}

static int keepalive_receive(virtwire_transport *t, const virtwire_transport_msg *m)
{
    /* Like libvirt: the status is not checked, unknown procs are ignored. */
    if (m->hdr.proc == KEEPALIVE_PROC_PING && send_keepalive(t, KEEPALIVE_PROC_PONG) < 0)
        return latch(t, VIRTWIRE_ESEND, &m->hdr);
    return 0;
}

static int stream_receive(virtwire_transport *t, virtwire_transport_msg *m)
{
    virtwire_transport_program *p = find_program(t, m->hdr.prog, m->hdr.vers);
    stream_entry *s = p ? stream_find(t, p, m->hdr.serial) : NULL;
    /* libvirt's server also matches the procedure, its client does not.
     * Nothing may follow the peer's own final packet. */
    if (!s || s->recv_end || (t->role == VIRTWIRE_TRANSPORT_SERVER && s->proc != m->hdr.proc))
        return drop(t, VIRTWIRE_ESTREAM, m);
    unsigned bit = status_bit((uint32_t)m->hdr.status);
    if (!bit)
        return drop(t, VIRTWIRE_EMSG_STATUS, m);
    if (!(accepted[t->role][m->hdr.type] & bit))
        return drop(t, VIRTWIRE_EMSG_COMBINATION, m);

    virNetStreamHole hole;
    virNetMessageError err;
    if (m->hdr.type == VIR_NET_STREAM_HOLE) {
        if (!(s->flags & VIRTWIRE_STREAM_SPARSE))
            return drop(t, VIRTWIRE_ESTREAM_HOLE, m);
        int rc = decode_payload(t, &virNetStreamHole_desc, m, &hole);
        if (rc < 0)
            return drop(t, rc, m);
        m->hole = &hole;
    } else if (m->hdr.status == VIR_NET_ERROR && m->payload_len) {
        int rc = decode_payload(t, &virNetMessageError_desc, m, &err);
        if (rc < 0)
            return drop(t, rc, m);
        m->error = &err;
    }
    /* Book-keeping before the callback, which may open or close streams. */
    if (m->hdr.type == VIR_NET_STREAM && m->hdr.status != VIR_NET_CONTINUE)
        stream_mark_end(t, p, m->hdr.serial, 0);
    return deliver(t, p, p->cbs.on_stream, m);
}

static int server_dispatch(virtwire_transport *t, virtwire_transport_msg *m)
{
    virNetMessageType type = m->hdr.type;
    if (is_stream(type))
        return stream_receive(t, m);
    if (!is_call(type))
        return drop(t, VIRTWIRE_EMSG_ROLE, m);
    /* libvirt looks the program up first, then checks the status. */
    virtwire_transport_program *p = find_program(t, m->hdr.prog, m->hdr.vers);
    if (!p || !p->cbs.on_call)
        return reject_call(t, VIRTWIRE_EPROGRAM, m);
    unsigned bit = status_bit((uint32_t)m->hdr.status);
    if (!(accepted[t->role][type] & bit))
        return reject_call(t, bit ? VIRTWIRE_EMSG_COMBINATION : VIRTWIRE_EMSG_STATUS, m);
    return deliver(t, p, p->cbs.on_call, m);
}

static int client_reply(virtwire_transport *t, virtwire_transport_msg *m)
{
    virtwire_transport_program *p = find_program(t, m->hdr.prog, m->hdr.vers);
    pending_slot *slot = p ? pending_find(t, p, m->hdr.serial) : NULL;
    if (!slot)
        return latch(t, VIRTWIRE_EREPLY_SERIAL, &m->hdr);
    /* Whatever follows, this reply completes its call. */
    pending_remove(t, slot);
    unsigned bit = status_bit((uint32_t)m->hdr.status);
    if (!(accepted[t->role][m->hdr.type] & bit))
        return drop(t, bit ? VIRTWIRE_EMSG_COMBINATION : VIRTWIRE_EMSG_STATUS, m);
    virNetMessageError err;
    if (m->hdr.status == VIR_NET_ERROR) {
        int rc = decode_payload(t, &virNetMessageError_desc, m, &err);
        if (rc < 0)
            return drop(t, rc, m);
        m->error = &err;
    }
    return deliver(t, p, p->cbs.on_reply, m);
}

static int client_dispatch(virtwire_transport *t, virtwire_transport_msg *m)
{
    virNetMessageType type = m->hdr.type;
    if (is_stream(type))
        return stream_receive(t, m);
    if (is_reply(type))
        return client_reply(t, m);
    if (is_call(type))
        return latch(t, VIRTWIRE_EMSG_ROLE, &m->hdr);
    /* MESSAGE: an event. */
    virtwire_transport_program *p = find_program(t, m->hdr.prog, m->hdr.vers);
    if (!p)
        return drop(t, VIRTWIRE_EPROGRAM, m);
    unsigned bit = status_bit((uint32_t)m->hdr.status);
    if (!(accepted[t->role][type] & bit))
        return drop(t, bit ? VIRTWIRE_EMSG_COMBINATION : VIRTWIRE_EMSG_STATUS, m);
    return deliver(t, p, p->cbs.on_message, m);
}

/* Decodes the header with the generated codec, which takes any value of
 * its enums (as libvirt's does).  Returns 0, or VIRTWIRE_EMSG_TYPE for a
 * type libvirt does not define; an undefined status is left in hdr for the
 * dispatchers to refuse (they answer a CALL, which needs the header). */
static int decode_header(const unsigned char *body, virNetMessageHeader *h)
{
    virtwire_dec d;
    virtwire_dec_init(&d, body, HEADER_LEN, NULL);
    /* Six words: nothing but their count can fail. */
    (void)virNetMessageHeader_decode(&d, h);
    if ((uint32_t)h->type >= NTYPES)
        return VIRTWIRE_EMSG_TYPE;
    return 0;
}

/* Dispatches one complete frame (body: after the length word; its fds, if
 * any, are in t->fds).  Closes the fds no callback took. */
static int dispatch(virtwire_transport *t, const unsigned char *body, size_t n)
{
    virtwire_transport_msg m;
    memset(&m, 0, sizeof(m));
    int rc = decode_header(body, &m.hdr);
    if (rc < 0)
        return latch(t, rc, NULL);
    keepalive_seen(t);

    size_t off = HEADER_LEN;
    if ((uint32_t)m.hdr.type == fd_type_for(t->role)) {
        off += FDS_WORD; /* checked present before the fds were asked for */
        m.fds = t->fds;
        m.nfds = t->nfds_have;
    }
    m.payload = body + off;
    m.payload_len = n - off;

    if (m.hdr.prog == KEEPALIVE_PROGRAM && m.hdr.vers == KEEPALIVE_PROTOCOL_VERSION &&
        m.hdr.type == VIR_NET_MESSAGE)
        rc = keepalive_receive(t, &m);
    else if (t->role == VIRTWIRE_TRANSPORT_SERVER)
        rc = server_dispatch(t, &m);
    else
        rc = client_dispatch(t, &m);

    close_held_fds(t);
    if (t->arena_used) {
        virtwire_arena_reset(&t->arena);
        t->arena_used = 0;
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Framing                                                                  */
/* ------------------------------------------------------------------------ */

static int check_length(virtwire_transport *t, uint32_t len)
{
    if (VIRTWIRE_UNLIKELY(len < FRAME_MIN || len > FRAME_MAX))
        return latch(t, VIRTWIRE_EFRAME_LENGTH, NULL);
    return 0;
}

/* Makes room for n more body bytes, growing geometrically up to the
 * frame's size: a peer that announces a big frame and trickles it gets
 * memory only as its bytes arrive. */
static int rx_reserve(virtwire_transport *t, size_t n)
{
    size_t need = t->have + n;
    if (need <= t->cap)
        return 0;
    size_t ncap = t->cap ? t->cap * 2 : RX_FIRST_ALLOC;
    if (ncap < need)
        ncap = need;
    if (ncap > t->body_len)
        ncap = t->body_len;
    unsigned char *b = realloc(t->buf, ncap);
    if (!b)
        return latch(t, VIRTWIRE_ENOMEM, NULL);
    t->buf = b;
    t->cap = ncap;
    return 0;
}

static int rx_append(virtwire_transport *t, const unsigned char *p, size_t n)
{
    VIRTWIRE_TRY(rx_reserve(t, n));
    memcpy(t->buf + t->have, p, n);
    t->have += n;
    return 0;
}

/*
 * A frame's body is complete (in the caller's buffer, or in t->buf when
 * buffered).  If it announces fds, keep it in t->buf and wait for them;
 * otherwise dispatch it now.
 */
static int frame_complete(virtwire_transport *t, const unsigned char *body, size_t n, int buffered)
{
    if (virtwire_load_u32(body + HEADER_TYPE_OFFSET) == fd_type_for(t->role)) {
        if (n < HEADER_LEN + FDS_WORD)
            return latch(t, VIRTWIRE_EFRAME_SHORT, NULL);
        uint32_t nfds = virtwire_load_u32(body + HEADER_LEN);
        if (nfds > FDS_MAX)
            return latch(t, VIRTWIRE_EFDS_MAX, NULL);
        if (nfds) {
            if (!buffered) {
                t->body_len = n;
                t->have = 0;
                VIRTWIRE_TRY(rx_append(t, body, n));
            }
            t->state = RX_FDS;
            t->nfds_want = nfds;
            return 0;
        }
    }
    int rc = dispatch(t, body, n);
    if (!t->fatal)
        rx_reset(t);
    return rc;
}

/* Consumes what it can of [p, end) in the RX_LENGTH or RX_BODY state and
 * returns the bytes consumed, or an error. */
static ssize_t rx_step(virtwire_transport *t, const unsigned char *p, const unsigned char *end)
{
    size_t avail = (size_t)(end - p);
    if (t->state == RX_LENGTH && t->lenhave == 0 && avail >= LEN_WORD) {
        uint32_t flen = virtwire_load_u32(p);
        VIRTWIRE_TRY(check_length(t, flen));
        if (avail >= flen) {
            /* The whole frame is here: dispatch it in place. */
            VIRTWIRE_TRY(frame_complete(t, p + LEN_WORD, flen - LEN_WORD, 0));
            return flen;
        }
        t->state = RX_BODY;
        t->body_len = flen - LEN_WORD;
        return LEN_WORD;
    }
    if (t->state == RX_LENGTH) {
        size_t n = LEN_WORD - t->lenhave;
        if (n > avail)
            n = avail;
        memcpy(t->lenbuf + t->lenhave, p, n);
        t->lenhave += n;
        if (t->lenhave == LEN_WORD) {
            uint32_t flen = virtwire_load_u32(t->lenbuf);
            VIRTWIRE_TRY(check_length(t, flen));
            t->state = RX_BODY;
            t->body_len = flen - LEN_WORD;
        }
        return (ssize_t)n;
    }
    size_t n = t->body_len - t->have;
    if (n > avail)
        n = avail;
    VIRTWIRE_TRY(rx_append(t, p, n));
    if (t->have == t->body_len)
        VIRTWIRE_TRY(frame_complete(t, t->buf, t->body_len, 1));
    return (ssize_t)n;
}

ssize_t virtwire_transport_receive(virtwire_transport *t, const void *buf, size_t len)
{
    if (!t || (len && !buf))
        return VIRTWIRE_EINVAL;
    if (t->busy)
        return VIRTWIRE_EREENTRANT;
    if (t->fatal)
        return t->fatal;
    if (t->state == RX_FDS)
        return len ? latch(t, VIRTWIRE_EFD_MISSING, NULL) : 0;
    if (len > (size_t)SSIZE_MAX)
        len = (size_t)SSIZE_MAX;
    t->rx_now_valid = 0;
    t->rx_stop = 0;

    const unsigned char *p = buf, *end = p + len;
    while (p < end && t->state != RX_FDS && !t->rx_stop) {
        ssize_t n = rx_step(t, p, end);
        if (n < 0)
            return n;
        p += n;
    }
    return (ssize_t)(p - (const unsigned char *)buf);
}

void virtwire_transport_stop_receive(virtwire_transport *t)
{
    if (t && t->busy)
        t->rx_stop = 1;
}

int virtwire_transport_receive_fd(virtwire_transport *t, int fd)
{
    if (!t || fd < 0) {
        close_fd(fd);
        return VIRTWIRE_EINVAL;
    }
    if (t->busy) {
        close_fd(fd);
        return VIRTWIRE_EREENTRANT;
    }
    if (t->fatal) {
        close_fd(fd);
        return t->fatal;
    }
    if (t->state != RX_FDS) {
        close_fd(fd);
        return latch(t, VIRTWIRE_EFD_UNEXPECTED, NULL);
    }
    t->fds[t->nfds_have++] = fd;
    if (t->nfds_have < t->nfds_want)
        return 0;
    t->rx_now_valid = 0;
    int rc = dispatch(t, t->buf, t->body_len);
    if (!t->fatal)
        rx_reset(t);
    return rc;
}

virtwire_need virtwire_transport_need(const virtwire_transport *t)
{
    virtwire_need need = { VIRTWIRE_NEED_NOTHING, 0 };
    if (t->fatal)
        return need;
    switch (t->state) {
    case RX_LENGTH:
        need.kind = VIRTWIRE_NEED_BYTES;
        need.count = LEN_WORD - t->lenhave;
        break;
    case RX_BODY:
        need.kind = VIRTWIRE_NEED_BYTES;
        need.count = t->body_len - t->have;
        break;
    case RX_FDS:
        need.kind = VIRTWIRE_NEED_FDS;
        need.count = t->nfds_want - t->nfds_have;
        break;
    }
    return need;
}
