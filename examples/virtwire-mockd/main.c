/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire-mockd: a small libvirt-compatible daemon built on the virtwire
 * server (runtime/server/virtwire_server.h).  An in-memory "hypervisor" with three
 * domains (one running, two shut off) and one storage pool holding one
 * volume, enough for real virsh and python3-libvirt:
 *
 *   virtwire-mockd SOCKET_PATH [--tcp PORT] [--max-requests N]
 *                  [--keepalive-interval SECONDS] [--keepalive-count N]
 *                  [--bench-domains N]
 *                  [--auth-unix none|sasl] [--auth-tcp none|sasl]
 *                  [--sasl-allow PATTERN]...
 *                  [--tls PORT --pkipath DIR [--tls-allowed-dn PATTERN]...
 *                   [--tls-no-verify] [--tls-no-sanity]]
 *   virsh -c 'test+unix:///default?socket=SOCKET_PATH' list --all
 *   virsh -c 'test+tls://localhost:PORT/default?pkipath=CLIENTDIR' list --all
 *
 * Built with libvirtwire_sasl, --auth-unix and --auth-tcp are libvirtd's
 * auth_unix_rw and auth_tcp: "sasl" makes the clients of that socket
 * authenticate with SASL (libvirt.conf in SASL_CONF_PATH says which
 * mechanisms and where the users are), each --sasl-allow adds a pattern to
 * sasl_allowed_username_list.
 *
 * The options are libvirtd.conf's max_client_requests, keepalive_interval
 * (seconds, default 5; 0 or less disables the daemon's own PINGs) and
 * keepalive_count (default 5).  A client dropped because it stopped
 * answering keepalive PINGs is logged to stderr.
 *
 * --bench-domains N (0 to 999) serves, instead of the three domains below,
 * what the benchmarks' libvirtd holds (bench/rpc, bench/server): the test
 * driver's running "test" with its UUID, memory and vCPUs, and N shut-off
 * domains "bench-000", "bench-001"... like the ones the benchmarks define
 * there, so that listing and domain calls do the same work on both.
 *
 * With libvirtwire_tls, --tls listens with TLS on the loopback address,
 * as libvirtd's listen_tls: the server's certificate, key and CA in DIR
 * under libvirt's names (servercert.pem, serverkey.pem, cacert.pem, and
 * cacrl.pem if there is one), a client certificate required unless
 * --tls-no-verify (tls_no_verify_certificate), checked against the
 * tls_allowed_dn_list patterns given.  A client refused, or whose
 * handshake failed, is logged to stderr with the reason.
 *
 * Served: the open handshake; what libvirt's clients ask first (versions,
 * hostname, node info, capabilities, sysinfo); domain listing in both the
 * current and the older forms (list and count calls), lookup, info, state,
 * start (also paused: START_PAUSED) / destroy / suspend / resume with
 * lifecycle events, event registration, screenshot (a PNG made here), a
 * graphics fd (a pipe holding a line of text); the storage pool and its
 * volume: listing, lookup, info, upload and download with holes; networks,
 * interfaces, node devices and secrets: listing (there are none).  A
 * connection opened read-only (VIR_CONNECT_RO) is refused every write with
 * libvirtd's error ("operation forbidden: read only access prevents
 * virDomainCreate").  Any other procedure gets libvirt's "unknown
 * procedure" error and is logged to stderr.
 *
 * The handlers are typed (the generated remote_protocol_server.h): one
 * remote_server_handlers table installed with remote_server_bind(), and
 * events sent with remote_send_<event>().
 *
 * Single-threaded, like the server it runs on; SIGTERM and SIGINT stop it.
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote_protocol_server.h"
#include "virtwire_session_server.h"
#ifdef VIRTWIRE_MOCKD_SASL
#include "virtwire_sasl.h"
#endif
#ifdef VIRTWIRE_HAVE_TLS
#include "virtwire_tls.h"
#endif

/* libvirt constants (libvirt-domain.h, libvirt-storage.h, virterror.h). */
enum { ST_RUNNING = 1, ST_PAUSED = 3, ST_SHUTOFF = 5 };
enum { EV_STARTED = 2, EV_SUSPENDED = 3, EV_RESUMED = 4, EV_STOPPED = 5 };
enum { EVD_STARTED_BOOTED = 0, EVD_SUSPENDED_PAUSED = 0, EVD_RESUMED_UNPAUSED = 0,
       EVD_STOPPED_DESTROYED = 1 };
enum { REASON_RUNNING_BOOTED = 1, REASON_PAUSED_USER = 1, REASON_SHUTOFF_DESTROYED = 2,
       REASON_SHUTOFF_SHUTDOWN = 1 };
/* Features answered yes (libvirt's VIR_DRV_FEATURE_*): the remote driver
 * then passes fds, uses keepalive, the callback form of event registration
 * and the close callback. */
#define FEATURE_FD_PASSING 8
#define FEATURE_PROGRAM_KEEPALIVE 10
#define FEATURE_REMOTE_EVENT_CALLBACK 14
#define FEATURE_REMOTE_CLOSE_CALLBACK 15
#define EVENT_ID_LIFECYCLE 0
#define ERR_NO_DOMAIN 42
#define ERR_OPERATION_INVALID 55
#define ERR_NO_STORAGE_POOL 49
#define ERR_NO_STORAGE_VOL 50
#define ERR_INVALID_ARG 8
#define ERR_OPERATION_DENIED 29
#define FROM_TEST 12
#define FROM_STORAGE 18
#define FROM_DOMAIN 20
#define CONNECT_RO 1u          /* VIR_CONNECT_RO, in CONNECT_OPEN's flags */
#define START_PAUSED 1u        /* VIR_DOMAIN_START_PAUSED */
#define EVD_SUSPENDED_PAUSED_ 0 /* VIR_DOMAIN_EVENT_SUSPENDED_PAUSED */
#define POOL_RUNNING 2         /* VIR_STORAGE_POOL_RUNNING */
#define POOLS_INACTIVE 1u      /* VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE */
#define POOLS_ACTIVE 2u        /* VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE */
/* What CONNECT_GET_VERSION and CONNECT_GET_LIB_VERSION answer: the test
 * driver's hypervisor version, and the libvirt release whose protocol
 * this daemon speaks (major * 1000000 + minor * 1000 + micro). */
#define HV_VERSION 2
#define LIB_VERSION 11003000
#define VOL_SPARSE_STREAM 1u /* VIR_STORAGE_VOL_{UP,DOWN}LOAD_SPARSE_STREAM */

#define VOL_CAPACITY ((size_t)4 << 20)
#define PNG_W 16
#define PNG_H 16

typedef struct domain {
    char name[32];
    unsigned char uuid[16];
    int id; /* -1 when shut off */
    int state, reason;
    uint64_t max_mem_kib, mem_kib;
    unsigned short vcpus;
} domain;

/* The volume's bytes, and which of them hold data (the rest is hole). */
typedef struct volume {
    unsigned char *data;
    unsigned char *allocated; /* one flag per byte: simple, 4 MiB */
    size_t capacity;
} volume;

typedef struct mockd {
    virtwire_server *srv;
    domain *doms;
    int ndoms;
    int next_id;
    volume vol;
    unsigned char png[4096];
    size_t png_len;
    int next_callback_id;
} mockd;

/* Per-client state: the lifecycle callbacks it registered, and whether
 * it opened the connection read-only. */
#define MAX_CALLBACKS 64
typedef struct client_state {
    int callback_ids[MAX_CALLBACKS];
    int callback_dom[MAX_CALLBACKS]; /* index into doms, -1: any */
    size_t ncallbacks;
    int read_only;
} client_state;

static mockd M;

/* ------------------------------------------------------------------------ */
/* A small PNG: 16x16 RGB, pixel (x, y) = (16x, 16y, 128), stored deflate.  */
/* ------------------------------------------------------------------------ */

static uint32_t crc32_png(const unsigned char *p, size_t n, uint32_t crc)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Appends a chunk: length, type, data, CRC of type and data. */
static void png_chunk(mockd *m, const char *type, const unsigned char *data, size_t len)
{
    unsigned char *p = m->png + m->png_len;
    put32(p, (uint32_t)len);
    memcpy(p + 4, type, 4);
    if (len)
        memcpy(p + 8, data, len);
    put32(p + 8 + len, crc32_png(p + 4, len + 4, 0));
    m->png_len += 12 + len;
}

static void make_png(mockd *m)
{
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    memcpy(m->png, sig, 8);
    m->png_len = 8;
    unsigned char ihdr[13] = { 0 };
    put32(ihdr, PNG_W);
    put32(ihdr + 4, PNG_H);
    ihdr[8] = 8; /* bit depth */
    ihdr[9] = 2; /* colour type RGB */
    png_chunk(m, "IHDR", ihdr, sizeof ihdr);

    /* Raw scanlines: filter byte 0, then RGB triples. */
    enum { ROW = 1 + 3 * PNG_W, RAW = ROW * PNG_H };
    unsigned char raw[RAW];
    for (int y = 0; y < PNG_H; y++) {
        unsigned char *r = raw + y * ROW;
        r[0] = 0;
        for (int x = 0; x < PNG_W; x++) {
            r[1 + 3 * x] = (unsigned char)(16 * x);
            r[2 + 3 * x] = (unsigned char)(16 * y);
            r[3 + 3 * x] = 128;
        }
    }
    /* zlib stream: header, one final stored block, Adler-32. */
    unsigned char z[2 + 5 + RAW + 4];
    z[0] = 0x78;
    z[1] = 0x01;
    z[2] = 1; /* BFINAL, stored */
    z[3] = RAW & 0xff;
    z[4] = RAW >> 8;
    z[5] = (unsigned char)~(RAW & 0xff);
    z[6] = (unsigned char)~(RAW >> 8);
    memcpy(z + 7, raw, RAW);
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < RAW; i++) {
        a = (a + raw[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    put32(z + 7 + RAW, (b << 16) | a);
    png_chunk(m, "IDAT", z, sizeof z);
    png_chunk(m, "IEND", NULL, 0);
}

/* ------------------------------------------------------------------------ */
/* The hypervisor                                                           */
/* ------------------------------------------------------------------------ */

/* The inventory: bench < 0, "test" running, "vm1" and "vm2" shut off;
 * else the one of the benchmarks' libvirtd (--bench-domains): the test
 * driver's own "test" (its UUID, memory and vCPUs), running, and bench
 * shut-off domains "bench-000"... as bench/rpc's holder defines them there
 * (1024 KiB, one vCPU). */
static void mockd_init(mockd *m, int bench)
{
    static const char *names[3] = { "test", "vm1", "vm2" };
    static const unsigned char test_uuid[16] = { 0x66, 0x95, 0xeb, 0x01, 0xf6, 0xa4, 0x83, 0x04,
                                                 0x79, 0xaa, 0x97, 0xf2, 0x50, 0x2e, 0x19, 0x3f };
    m->ndoms = bench < 0 ? 3 : 1 + bench;
    m->doms = calloc((size_t)m->ndoms, sizeof *m->doms);
    if (!m->doms) {
        fprintf(stderr, "virtwire-mockd: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < m->ndoms; i++) {
        domain *d = &m->doms[i];
        d->id = -1;
        d->state = ST_SHUTOFF;
        d->reason = REASON_SHUTOFF_SHUTDOWN;
        if (bench < 0) {
            snprintf(d->name, sizeof d->name, "%s", names[i]);
            for (int k = 0; k < 16; k++)
                d->uuid[k] = (unsigned char)(0x10 * (i + 1) + k);
            d->max_mem_kib = 1048576u * (unsigned)(i + 1);
            d->mem_kib = 524288u * (unsigned)(i + 1);
            d->vcpus = (unsigned short)(i + 1);
        } else if (i == 0) {
            snprintf(d->name, sizeof d->name, "test");
            memcpy(d->uuid, test_uuid, 16);
            d->max_mem_kib = 8388608u;
            d->mem_kib = 2097152u;
            d->vcpus = 2;
        } else {
            snprintf(d->name, sizeof d->name, "bench-%03d", i - 1);
            for (int k = 0; k < 16; k++)
                d->uuid[k] = (unsigned char)(k < 12 ? 0xbe : ((unsigned)i >> (8 * (15 - k))) & 0xff);
            d->max_mem_kib = d->mem_kib = 1024u;
            d->vcpus = 1;
        }
    }
    m->next_id = 1;
    m->doms[0].id = m->next_id++;
    m->doms[0].state = ST_RUNNING;
    m->doms[0].reason = REASON_RUNNING_BOOTED;
    m->vol.capacity = VOL_CAPACITY;
    m->vol.data = calloc(1, VOL_CAPACITY);
    m->vol.allocated = calloc(1, VOL_CAPACITY);
    if (!m->vol.data || !m->vol.allocated) {
        fprintf(stderr, "virtwire-mockd: out of memory\n");
        exit(1);
    }
    m->next_callback_id = 1;
    make_png(m);
}

static void fill_dom(remote_nonnull_domain *out, domain *d)
{
    out->name = (char *)d->name;
    memcpy(out->uuid, d->uuid, 16);
    out->id = d->id;
}

static domain *find_dom(const remote_nonnull_domain *ref)
{
    for (int i = 0; i < M.ndoms; i++)
        if (strcmp(M.doms[i].name, ref->name) == 0)
            return &M.doms[i];
    return NULL;
}

static int no_domain(virtwire_server_call *call, const char *name)
{
    return virtwire_server_call_error(call, ERR_NO_DOMAIN, FROM_TEST,
                                      "Domain not found: no domain with matching name '%s'",
                                      name);
}

/* The domain a call names, or NULL after failing the call with libvirt's
 * "no domain" error (the handler then returns -1). */
static domain *call_dom(virtwire_server_call *call, const remote_nonnull_domain *ref)
{
    domain *d = find_dom(ref);
    if (!d)
        no_domain(call, ref->name);
    return d;
}

/* Copies s into the call's arena as a remote_string. */
static char **arena_string(virtwire_server_call *call, const char *s)
{
    char **slot = virtwire_server_call_alloc(call, sizeof *slot);
    if (slot && !(*slot = virtwire_server_call_strdup(call, s)))
        slot = NULL;
    return slot;
}

/* Whether the client opened its connection read-only: then the call fails
 * as libvirtd fails it (virCheckReadOnlyGoto() in libvirt's public API:
 * VIR_ERR_OPERATION_DENIED from the API's domain, with str1 its format,
 * str2 the detail, int1 and int2 -1). */
static int read_only_refused(virtwire_server_call *call, int from, const char *api)
{
    const client_state *cs = virtwire_server_client_get_data(call->client);
    if (!cs || !cs->read_only)
        return 0;
    char detail[128], message[160];
    snprintf(detail, sizeof detail, "read only access prevents %s", api);
    snprintf(message, sizeof message, "operation forbidden: %s", detail);
    char **m = arena_string(call, message), **s1 = arena_string(call, "operation forbidden: %s"),
         **s2 = arena_string(call, detail);
    if (!m || !s1 || !s2) {
        virtwire_server_call_error(call, ERR_OPERATION_DENIED, from, "%s", message);
        return 1;
    }
    call->error = (virNetMessageError){ .code = ERR_OPERATION_DENIED, .domain = from,
                                        .message = m, .level = 2, .str1 = s1, .str2 = s2,
                                        .int1 = -1, .int2 = -1 };
    call->has_error = 1;
    return 1;
}

/* Sends a lifecycle event to every client, once per matching callback. */
typedef struct lifecycle_event {
    domain *d;
    int event, detail;
} lifecycle_event;

static void emit_to_client(virtwire_server_client *c, void *opaque)
{
    const lifecycle_event *ev = opaque;
    client_state *cs = virtwire_server_client_get_data(c);
    int di = (int)(ev->d - M.doms);
    for (size_t i = 0; cs && i < cs->ncallbacks; i++) {
        if (cs->callback_dom[i] >= 0 && cs->callback_dom[i] != di)
            continue;
        remote_domain_event_callback_lifecycle_msg msg = { .callbackID = cs->callback_ids[i] };
        fill_dom(&msg.msg.dom, ev->d);
        msg.msg.event = ev->event;
        msg.msg.detail = ev->detail;
        remote_send_domain_event_callback_lifecycle(c, &msg);
    }
}

static void emit_lifecycle(domain *d, int event, int detail)
{
    lifecycle_event ev = { d, event, detail };
    virtwire_server_foreach_client(M.srv, emit_to_client, &ev);
}

/* ------------------------------------------------------------------------ */
/* Connection handlers                                                      */
/* ------------------------------------------------------------------------ */

static int h_auth_list(virtwire_server_call *call, remote_auth_list_ret *r, void *opaque)
{
    (void)opaque;
    remote_auth_type *t = virtwire_server_call_alloc(call, sizeof *t);
    if (!t)
        return -1;
    *t = REMOTE_AUTH_NONE;
    r->types.types_len = 1;
    r->types.types_val = t;
    return 0;
}

static int h_supports_feature(virtwire_server_call *call,
                              const remote_connect_supports_feature_args *a,
                              remote_connect_supports_feature_ret *r, void *opaque)
{
    (void)call;
    (void)opaque;
    r->supported = a->feature == FEATURE_FD_PASSING || a->feature == FEATURE_PROGRAM_KEEPALIVE ||
                   a->feature == FEATURE_REMOTE_EVENT_CALLBACK ||
                   a->feature == FEATURE_REMOTE_CLOSE_CALLBACK;
    return 0;
}

/* Any name opens the one mock hypervisor; VIR_CONNECT_RO makes the
 * connection read-only. */
static int h_connect_open(virtwire_server_call *call, const remote_connect_open_args *a,
                          void *opaque)
{
    (void)opaque;
    client_state *cs = virtwire_server_client_get_data(call->client);
    cs->read_only = (a->flags & CONNECT_RO) != 0;
    return 0;
}

/* CONNECT_CLOSE and the close callback (un)registration: nothing to do,
 * the server itself closes the client. */
static int h_no_op(virtwire_server_call *call, void *opaque)
{
    (void)call;
    (void)opaque;
    return 0;
}

static int h_get_uri(virtwire_server_call *call, remote_connect_get_uri_ret *r, void *opaque)
{
    (void)call;
    (void)opaque;
    r->uri = (char *)"test:///default";
    return 0;
}

static int h_get_type(virtwire_server_call *call, remote_connect_get_type_ret *r, void *opaque)
{
    (void)call;
    (void)opaque;
    r->type = (char *)"TEST";
    return 0;
}

/* ------------------------------------------------------------------------ */
/* What clients ask first: versions, host, capabilities                     */
/* ------------------------------------------------------------------------ */

static int h_get_version(virtwire_server_call *call, remote_connect_get_version_ret *r,
                         void *opaque)
{
    (void)call;
    (void)opaque;
    r->hv_ver = HV_VERSION;
    return 0;
}

static int h_get_lib_version(virtwire_server_call *call, remote_connect_get_lib_version_ret *r,
                             void *opaque)
{
    (void)call;
    (void)opaque;
    r->lib_ver = LIB_VERSION;
    return 0;
}

/* The machine's own name, as the test driver answers. */
static int h_get_hostname(virtwire_server_call *call, remote_connect_get_hostname_ret *r,
                          void *opaque)
{
    (void)opaque;
    char name[256];
    if (gethostname(name, sizeof name) < 0)
        snprintf(name, sizeof name, "localhost");
    name[sizeof name - 1] = '\0';
    r->hostname = virtwire_server_call_strdup(call, name);
    return r->hostname ? 0 : -1;
}

static int h_node_get_info(virtwire_server_call *call, remote_node_get_info_ret *r, void *opaque)
{
    (void)call;
    (void)opaque;
    snprintf(r->model, sizeof r->model, "x86_64");
    r->memory = 8388608; /* KiB */
    r->cpus = 4;
    r->mhz = 2000;
    r->nodes = 1;
    r->sockets = 1;
    r->cores = 2;
    r->threads = 2;
    return 0;
}

static int h_get_capabilities(virtwire_server_call *call, remote_connect_get_capabilities_ret *r,
                              void *opaque)
{
    (void)call;
    (void)opaque;
    r->capabilities = (char *)
        "<capabilities>\n"
        "  <host>\n"
        "    <uuid>aa010203-0405-0607-0809-0a0b0c0d0e0f</uuid>\n"
        "    <cpu>\n"
        "      <arch>x86_64</arch>\n"
        "      <topology sockets='1' dies='1' cores='2' threads='2'/>\n"
        "    </cpu>\n"
        "  </host>\n"
        "  <guest>\n"
        "    <os_type>hvm</os_type>\n"
        "    <arch name='x86_64'>\n"
        "      <wordsize>64</wordsize>\n"
        "      <domain type='test'/>\n"
        "    </arch>\n"
        "  </guest>\n"
        "</capabilities>\n";
    return 0;
}

static int h_get_sysinfo(virtwire_server_call *call, const remote_connect_get_sysinfo_args *a,
                         remote_connect_get_sysinfo_ret *r, void *opaque)
{
    (void)opaque;
    if (a->flags)
        return virtwire_server_call_error(call, ERR_INVALID_ARG, FROM_TEST,
                                          "invalid argument: unsupported flags (0x%x) in "
                                          "function mockConnectGetSysinfo", a->flags);
    r->sysinfo = (char *)"<sysinfo type='smbios'>\n"
                         "  <bios>\n"
                         "    <entry name='vendor'>virtwire</entry>\n"
                         "    <entry name='version'>mock</entry>\n"
                         "  </bios>\n"
                         "</sysinfo>\n";
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Domain handlers                                                          */
/* ------------------------------------------------------------------------ */

/* VIR_CONNECT_LIST_DOMAINS_ACTIVE / _INACTIVE; other filters are ignored. */
#define LIST_ACTIVE 1u
#define LIST_INACTIVE 2u

static int listed(const domain *d, unsigned flags)
{
    unsigned both = LIST_ACTIVE | LIST_INACTIVE;
    if ((flags & both) == 0 || (flags & both) == both)
        return 1;
    return (flags & LIST_ACTIVE) ? d->state != ST_SHUTOFF : d->state == ST_SHUTOFF;
}

static int h_list_all_domains(virtwire_server_call *call,
                              const remote_connect_list_all_domains_args *a,
                              remote_connect_list_all_domains_ret *r, void *opaque)
{
    (void)opaque;
    remote_nonnull_domain *v = virtwire_server_call_alloc(call, (size_t)M.ndoms * sizeof *v);
    if (!v)
        return -1;
    unsigned n = 0;
    for (int i = 0; i < M.ndoms; i++)
        if (listed(&M.doms[i], a->flags))
            fill_dom(&v[n++], &M.doms[i]);
    r->ret = n;
    if (a->need_results) {
        r->domains.domains_len = n;
        r->domains.domains_val = v;
    }
    return 0;
}

/* The older calls: count and list active domains by id, defined (shut
 * off) ones by name. */
static int h_num_of_domains(virtwire_server_call *call, remote_connect_num_of_domains_ret *r,
                            void *opaque)
{
    (void)call;
    (void)opaque;
    for (int i = 0; i < M.ndoms; i++)
        r->num += M.doms[i].state != ST_SHUTOFF;
    return 0;
}

static int h_list_domains(virtwire_server_call *call, const remote_connect_list_domains_args *a,
                          remote_connect_list_domains_ret *r, void *opaque)
{
    (void)opaque;
    int *ids = virtwire_server_call_alloc(call, (size_t)M.ndoms * sizeof *ids);
    if (!ids)
        return -1;
    unsigned n = 0;
    for (int i = 0; i < M.ndoms; i++)
        if (M.doms[i].state != ST_SHUTOFF && (int)n < a->maxids)
            ids[n++] = M.doms[i].id;
    r->ids.ids_len = n;
    r->ids.ids_val = ids;
    return 0;
}

static int h_num_of_defined(virtwire_server_call *call,
                            remote_connect_num_of_defined_domains_ret *r, void *opaque)
{
    (void)call;
    (void)opaque;
    for (int i = 0; i < M.ndoms; i++)
        r->num += M.doms[i].state == ST_SHUTOFF;
    return 0;
}

static int h_list_defined(virtwire_server_call *call,
                          const remote_connect_list_defined_domains_args *a,
                          remote_connect_list_defined_domains_ret *r, void *opaque)
{
    (void)opaque;
    char **names = virtwire_server_call_alloc(call, (size_t)M.ndoms * sizeof *names);
    if (!names)
        return -1;
    unsigned n = 0;
    for (int i = 0; i < M.ndoms; i++)
        if (M.doms[i].state == ST_SHUTOFF && (int)n < a->maxnames)
            names[n++] = (char *)M.doms[i].name;
    r->names.names_len = n;
    r->names.names_val = names;
    return 0;
}

static int h_lookup_by_name(virtwire_server_call *call,
                            const remote_domain_lookup_by_name_args *a,
                            remote_domain_lookup_by_name_ret *r, void *opaque)
{
    (void)opaque;
    remote_nonnull_domain ref = { .name = a->name };
    domain *d = call_dom(call, &ref);
    if (!d)
        return -1;
    fill_dom(&r->dom, d);
    return 0;
}

static int h_lookup_by_uuid(virtwire_server_call *call,
                            const remote_domain_lookup_by_uuid_args *a,
                            remote_domain_lookup_by_uuid_ret *r, void *opaque)
{
    (void)opaque;
    for (int i = 0; i < M.ndoms; i++) {
        if (memcmp(M.doms[i].uuid, a->uuid, 16) == 0) {
            fill_dom(&r->dom, &M.doms[i]);
            return 0;
        }
    }
    return virtwire_server_call_error(call, ERR_NO_DOMAIN, FROM_TEST,
                                      "Domain not found: no domain with matching uuid");
}

static int h_lookup_by_id(virtwire_server_call *call, const remote_domain_lookup_by_id_args *a,
                          remote_domain_lookup_by_id_ret *r, void *opaque)
{
    (void)opaque;
    for (int i = 0; i < M.ndoms; i++) {
        if (M.doms[i].id >= 0 && M.doms[i].id == a->id) {
            fill_dom(&r->dom, &M.doms[i]);
            return 0;
        }
    }
    return virtwire_server_call_error(call, ERR_NO_DOMAIN, FROM_TEST,
                                      "Domain not found: no domain with matching id %d", a->id);
}

static int h_get_info(virtwire_server_call *call, const remote_domain_get_info_args *a,
                      remote_domain_get_info_ret *r, void *opaque)
{
    (void)opaque;
    domain *d = call_dom(call, &a->dom);
    if (!d)
        return -1;
    r->state = (unsigned char)d->state;
    r->maxMem = d->max_mem_kib;
    r->memory = d->state == ST_SHUTOFF ? d->max_mem_kib : d->mem_kib;
    r->nrVirtCpu = d->vcpus;
    r->cpuTime = d->state == ST_SHUTOFF ? 0 : 1234567890ull;
    return 0;
}

static int h_get_state(virtwire_server_call *call, const remote_domain_get_state_args *a,
                       remote_domain_get_state_ret *r, void *opaque)
{
    (void)opaque;
    domain *d = call_dom(call, &a->dom);
    if (!d)
        return -1;
    r->state = d->state;
    r->reason = d->reason;
    return 0;
}

static int not_valid(virtwire_server_call *call, const char *why)
{
    return virtwire_server_call_error(call, ERR_OPERATION_INVALID, FROM_TEST,
                                      "Requested operation is not valid: %s", why);
}

/* Starts a domain; START_PAUSED leaves it paused, as QEMU does: started,
 * then suspended (two events). */
static int start_domain(virtwire_server_call *call, domain *d, unsigned int flags)
{
    if (flags & ~START_PAUSED)
        return virtwire_server_call_error(call, ERR_INVALID_ARG, FROM_TEST,
                                          "invalid argument: unsupported flags (0x%x) in "
                                          "function mockDomainCreateWithFlags",
                                          flags & ~START_PAUSED);
    if (d->state != ST_SHUTOFF)
        return not_valid(call, "domain is already running");
    d->id = M.next_id++;
    d->state = ST_RUNNING;
    d->reason = REASON_RUNNING_BOOTED;
    emit_lifecycle(d, EV_STARTED, EVD_STARTED_BOOTED);
    if (flags & START_PAUSED) {
        d->state = ST_PAUSED;
        d->reason = REASON_PAUSED_USER;
        emit_lifecycle(d, EV_SUSPENDED, EVD_SUSPENDED_PAUSED_);
    }
    return 0;
}

static int h_create(virtwire_server_call *call, const remote_domain_create_args *a, void *opaque)
{
    (void)opaque;
    if (read_only_refused(call, FROM_DOMAIN, "virDomainCreate"))
        return -1;
    domain *d = call_dom(call, &a->dom);
    if (!d)
        return -1;
    return start_domain(call, d, 0);
}

static int h_create_with_flags(virtwire_server_call *call,
                               const remote_domain_create_with_flags_args *a,
                               remote_domain_create_with_flags_ret *r, void *opaque)
{
    (void)opaque;
    if (read_only_refused(call, FROM_DOMAIN, "virDomainCreateWithFlags"))
        return -1;
    domain *d = call_dom(call, &a->dom);
    if (!d || start_domain(call, d, a->flags) < 0)
        return -1;
    fill_dom(&r->dom, d);
    return 0;
}

static int h_destroy(virtwire_server_call *call, const remote_domain_destroy_args *a,
                     void *opaque)
{
    (void)opaque;
    if (read_only_refused(call, FROM_DOMAIN, "virDomainDestroy"))
        return -1;
    domain *d = call_dom(call, &a->dom);
    if (!d)
        return -1;
    if (d->state == ST_SHUTOFF)
        return not_valid(call, "domain is not running");
    d->id = -1;
    d->state = ST_SHUTOFF;
    d->reason = REASON_SHUTOFF_DESTROYED;
    emit_lifecycle(d, EV_STOPPED, EVD_STOPPED_DESTROYED);
    return 0;
}

static int h_suspend(virtwire_server_call *call, const remote_domain_suspend_args *a,
                     void *opaque)
{
    (void)opaque;
    if (read_only_refused(call, FROM_DOMAIN, "virDomainSuspend"))
        return -1;
    domain *d = call_dom(call, &a->dom);
    if (!d)
        return -1;
    if (d->state != ST_RUNNING)
        return not_valid(call, "domain is not running");
    d->state = ST_PAUSED;
    d->reason = REASON_PAUSED_USER;
    emit_lifecycle(d, EV_SUSPENDED, EVD_SUSPENDED_PAUSED);
    return 0;
}

static int h_resume(virtwire_server_call *call, const remote_domain_resume_args *a, void *opaque)
{
    (void)opaque;
    if (read_only_refused(call, FROM_DOMAIN, "virDomainResume"))
        return -1;
    domain *d = call_dom(call, &a->dom);
    if (!d)
        return -1;
    if (d->state != ST_PAUSED)
        return not_valid(call, "domain is not paused");
    d->state = ST_RUNNING;
    d->reason = REASON_RUNNING_BOOTED;
    emit_lifecycle(d, EV_RESUMED, EVD_RESUMED_UNPAUSED);
    return 0;
}

static int h_get_os_type(virtwire_server_call *call, const remote_domain_get_os_type_args *a,
                         remote_domain_get_os_type_ret *r, void *opaque)
{
    (void)opaque;
    if (!call_dom(call, &a->dom))
        return -1;
    r->type = (char *)"hvm";
    return 0;
}

/* Autostart and managed save: 0, the zeroed ret as it is. */
static int h_get_autostart(virtwire_server_call *call, const remote_domain_get_autostart_args *a,
                           remote_domain_get_autostart_ret *r, void *opaque)
{
    (void)r;
    (void)opaque;
    return call_dom(call, &a->dom) ? 0 : -1;
}

/* virsh 11.3.0's dominfo asks for autostart-once (11.2.0) as well. */
static int h_get_autostart_once(virtwire_server_call *call,
                                const remote_domain_get_autostart_once_args *a,
                                remote_domain_get_autostart_once_ret *r, void *opaque)
{
    (void)r;
    (void)opaque;
    return call_dom(call, &a->dom) ? 0 : -1;
}

static int h_has_managed_save(virtwire_server_call *call,
                              const remote_domain_has_managed_save_image_args *a,
                              remote_domain_has_managed_save_image_ret *r, void *opaque)
{
    (void)r;
    (void)opaque;
    return call_dom(call, &a->dom) ? 0 : -1;
}

static int h_is_persistent(virtwire_server_call *call, const remote_domain_is_persistent_args *a,
                           remote_domain_is_persistent_ret *r, void *opaque)
{
    (void)opaque;
    if (!call_dom(call, &a->dom))
        return -1;
    r->persistent = 1;
    return 0;
}

static int h_is_active(virtwire_server_call *call, const remote_domain_is_active_args *a,
                       remote_domain_is_active_ret *r, void *opaque)
{
    (void)opaque;
    domain *d = call_dom(call, &a->dom);
    if (!d)
        return -1;
    r->active = d->state != ST_SHUTOFF;
    return 0;
}

static int h_get_xml_desc(virtwire_server_call *call, const remote_domain_get_xml_desc_args *a,
                          remote_domain_get_xml_desc_ret *r, void *opaque)
{
    (void)opaque;
    domain *d = call_dom(call, &a->dom);
    if (!d)
        return -1;
    char buf[512];
    snprintf(buf, sizeof buf,
             "<domain type='test'>\n  <name>%s</name>\n  <memory unit='KiB'>%llu</memory>\n"
             "  <vcpu>%u</vcpu>\n  <os>\n    <type>hvm</type>\n  </os>\n</domain>\n",
             d->name, (unsigned long long)d->max_mem_kib, (unsigned)d->vcpus);
    r->xml = virtwire_server_call_strdup(call, buf);
    return r->xml ? 0 : -1;
}

static int h_get_messages(virtwire_server_call *call, const remote_domain_get_messages_args *a,
                          remote_domain_get_messages_ret *r, void *opaque)
{
    /* No messages: the empty list in ret as it is. */
    (void)r;
    (void)opaque;
    return call_dom(call, &a->dom) ? 0 : -1;
}

static int h_security_model(virtwire_server_call *call, remote_node_get_security_model_ret *r,
                            void *opaque)
{
    /* No security driver: empty model and doi, as the test driver. */
    (void)call;
    (void)r;
    (void)opaque;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

static int h_event_register(virtwire_server_call *call,
                            const remote_connect_domain_event_callback_register_any_args *a,
                            remote_connect_domain_event_callback_register_any_ret *r,
                            void *opaque)
{
    (void)opaque;
    client_state *cs = virtwire_server_client_get_data(call->client);
    int di = -1;
    if (a->dom) {
        domain *d = call_dom(call, a->dom);
        if (!d)
            return -1;
        di = (int)(d - M.doms);
    }
    r->callbackID = M.next_callback_id++;
    /* Only lifecycle events are ever emitted; other IDs register fine. */
    if (a->eventID == EVENT_ID_LIFECYCLE && cs->ncallbacks < MAX_CALLBACKS) {
        cs->callback_ids[cs->ncallbacks] = r->callbackID;
        cs->callback_dom[cs->ncallbacks++] = di;
    }
    return 0;
}

static int h_event_deregister(virtwire_server_call *call,
                              const remote_connect_domain_event_callback_deregister_any_args *a,
                              void *opaque)
{
    (void)opaque;
    client_state *cs = virtwire_server_client_get_data(call->client);
    for (size_t i = 0; i < cs->ncallbacks; i++) {
        if (cs->callback_ids[i] == a->callbackID) {
            cs->ncallbacks--;
            cs->callback_ids[i] = cs->callback_ids[cs->ncallbacks];
            cs->callback_dom[i] = cs->callback_dom[cs->ncallbacks];
            break;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Screenshot: a read stream of the PNG                                     */
/* ------------------------------------------------------------------------ */

static int screenshot_pull(virtwire_server_stream *s, void *opaque)
{
    (void)opaque;
    if (virtwire_server_stream_send(s, M.png, M.png_len) < 0)
        return -1;
    return virtwire_server_stream_send_eof(s);
}

static int h_screenshot(virtwire_server_call *call, const remote_domain_screenshot_args *a,
                        remote_domain_screenshot_ret *r, void *opaque)
{
    (void)opaque;
    if (read_only_refused(call, FROM_DOMAIN, "virDomainScreenshot"))
        return -1;
    domain *d = call_dom(call, &a->dom);
    if (!d)
        return -1;
    if (d->state == ST_SHUTOFF)
        return not_valid(call, "domain is not running");
    static const virtwire_server_stream_callbacks cbs = { .size = sizeof cbs, .on_pull = screenshot_pull };
    if (!virtwire_server_call_stream(call, 0, &cbs, NULL))
        return -1;
    char **mime = virtwire_server_call_alloc(call, sizeof *mime);
    if (!mime)
        return -1;
    *mime = (char *)"image/png";
    r->mime = mime;
    return 0;
}

/* A graphics fd: the read end of a pipe holding one line, then end of
 * file (a client sees what came through the fd). */
#define GRAPHICS_TEXT "virtwire-mockd graphics\n"

static int h_open_graphics_fd(virtwire_server_call *call,
                              const remote_domain_open_graphics_fd_args *a, void *opaque)
{
    (void)opaque;
    if (read_only_refused(call, FROM_DOMAIN, "virDomainOpenGraphicsFD"))
        return -1;
    domain *d = call_dom(call, &a->dom);
    if (!d)
        return -1;
    if (d->state == ST_SHUTOFF)
        return not_valid(call, "domain is not running");
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    ssize_t n = write(p[1], GRAPHICS_TEXT, sizeof GRAPHICS_TEXT - 1);
    close(p[1]);
    if (n != (ssize_t)(sizeof GRAPHICS_TEXT - 1)) {
        close(p[0]);
        return -1;
    }
    /* ret_fds are borrowed: the pipe goes with the call's fds, which the
     * server closes once the reply is sent. */
    call->ret_fds[0] = p[0];
    call->nret_fds = 1;
    call->fds[call->nfds++] = p[0];
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Storage: pool "default", volume "disk.img"                               */
/* ------------------------------------------------------------------------ */

static const unsigned char POOL_UUID[16] = { 0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
#define POOL_NAME "default"
#define VOL_NAME "disk.img"
#define VOL_KEY "/mock/default/disk.img"

static void fill_vol(remote_nonnull_storage_vol *v)
{
    v->pool = (char *)POOL_NAME;
    v->name = (char *)VOL_NAME;
    v->key = (char *)VOL_KEY;
}

static void fill_pool(remote_nonnull_storage_pool *p)
{
    p->name = (char *)POOL_NAME;
    memcpy(p->uuid, POOL_UUID, 16);
}

static int check_pool(virtwire_server_call *call, const char *name)
{
    if (strcmp(name, POOL_NAME) != 0)
        return virtwire_server_call_error(call, ERR_NO_STORAGE_POOL, FROM_STORAGE,
                                          "Storage pool not found: no storage pool with matching name '%s'",
                                          name);
    return 0;
}

static int check_vol(virtwire_server_call *call, const remote_nonnull_storage_vol *v)
{
    if (strcmp(v->pool, POOL_NAME) != 0 || strcmp(v->name, VOL_NAME) != 0)
        return virtwire_server_call_error(call, ERR_NO_STORAGE_VOL, FROM_STORAGE,
                                          "Storage volume not found: no storage vol with matching name '%s'",
                                          v->name);
    return 0;
}

static int h_pool_lookup_by_name(virtwire_server_call *call,
                                 const remote_storage_pool_lookup_by_name_args *a,
                                 remote_storage_pool_lookup_by_name_ret *r, void *opaque)
{
    (void)opaque;
    if (check_pool(call, a->name) < 0)
        return -1;
    fill_pool(&r->pool);
    return 0;
}

static int h_pool_is_active(virtwire_server_call *call,
                            const remote_storage_pool_is_active_args *a,
                            remote_storage_pool_is_active_ret *r, void *opaque)
{
    (void)opaque;
    if (check_pool(call, a->pool.name) < 0)
        return -1;
    r->active = 1;
    return 0;
}

static int h_pool_lookup_by_volume(virtwire_server_call *call,
                                   const remote_storage_pool_lookup_by_volume_args *a,
                                   remote_storage_pool_lookup_by_volume_ret *r, void *opaque)
{
    (void)opaque;
    if (check_vol(call, &a->vol) < 0)
        return -1;
    fill_pool(&r->pool);
    return 0;
}

static int h_pool_get_info(virtwire_server_call *call, const remote_storage_pool_get_info_args *a,
                           remote_storage_pool_get_info_ret *r, void *opaque)
{
    (void)opaque;
    if (check_pool(call, a->pool.name) < 0)
        return -1;
    r->state = POOL_RUNNING;
    r->capacity = 16u * VOL_CAPACITY;
    r->allocation = VOL_CAPACITY;
    r->available = r->capacity - r->allocation;
    return 0;
}

static int h_pool_get_autostart(virtwire_server_call *call,
                                const remote_storage_pool_get_autostart_args *a,
                                remote_storage_pool_get_autostart_ret *r, void *opaque)
{
    (void)opaque;
    (void)r; /* 0: no autostart */
    return check_pool(call, a->pool.name);
}

static int h_pool_is_persistent(virtwire_server_call *call,
                                const remote_storage_pool_is_persistent_args *a,
                                remote_storage_pool_is_persistent_ret *r, void *opaque)
{
    (void)opaque;
    if (check_pool(call, a->pool.name) < 0)
        return -1;
    r->persistent = 1;
    return 0;
}

/* The one pool, active (filters other than active/inactive ignored). */
static int h_list_all_pools(virtwire_server_call *call,
                            const remote_connect_list_all_storage_pools_args *a,
                            remote_connect_list_all_storage_pools_ret *r, void *opaque)
{
    (void)opaque;
    /* VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE (1) alone leaves it out. */
    unsigned want = (a->flags & (POOLS_INACTIVE | POOLS_ACTIVE)) == POOLS_INACTIVE ? 0 : 1;
    r->ret = want;
    if (a->need_results && want) {
        remote_nonnull_storage_pool *p = virtwire_server_call_alloc(call, sizeof *p);
        if (!p)
            return -1;
        fill_pool(p);
        r->pools.pools_len = 1;
        r->pools.pools_val = p;
    }
    return 0;
}

static int h_num_of_pools(virtwire_server_call *call, remote_connect_num_of_storage_pools_ret *r,
                          void *opaque)
{
    (void)call;
    (void)opaque;
    r->num = 1;
    return 0;
}

static int h_list_pools(virtwire_server_call *call,
                        const remote_connect_list_storage_pools_args *a,
                        remote_connect_list_storage_pools_ret *r, void *opaque)
{
    (void)opaque;
    char **names = virtwire_server_call_alloc(call, sizeof *names);
    if (!names)
        return -1;
    names[0] = (char *)POOL_NAME;
    r->names.names_len = a->maxnames > 0 ? 1 : 0;
    r->names.names_val = names;
    return 0;
}

static int h_list_all_volumes(virtwire_server_call *call,
                              const remote_storage_pool_list_all_volumes_args *a,
                              remote_storage_pool_list_all_volumes_ret *r, void *opaque)
{
    (void)opaque;
    if (check_pool(call, a->pool.name) < 0)
        return -1;
    r->ret = 1;
    if (a->need_results) {
        remote_nonnull_storage_vol *v = virtwire_server_call_alloc(call, sizeof *v);
        if (!v)
            return -1;
        fill_vol(v);
        r->vols.vols_len = 1;
        r->vols.vols_val = v;
    }
    return 0;
}

static int h_vol_lookup_by_name(virtwire_server_call *call,
                                const remote_storage_vol_lookup_by_name_args *a,
                                remote_storage_vol_lookup_by_name_ret *r, void *opaque)
{
    (void)opaque;
    remote_nonnull_storage_vol v = { .pool = a->pool.name, .name = a->name, .key = (char *)"" };
    if (check_vol(call, &v) < 0)
        return -1;
    fill_vol(&r->vol);
    return 0;
}

static int h_vol_get_path(virtwire_server_call *call, const remote_storage_vol_get_path_args *a,
                          remote_storage_vol_get_path_ret *r, void *opaque)
{
    (void)opaque;
    if (check_vol(call, &a->vol) < 0)
        return -1;
    r->name = (char *)VOL_KEY;
    return 0;
}

static size_t vol_allocation(void)
{
    size_t n = 0;
    for (size_t i = 0; i < M.vol.capacity; i++)
        n += M.vol.allocated[i];
    return n;
}

static int h_vol_get_info(virtwire_server_call *call, const remote_storage_vol_get_info_args *a,
                          remote_storage_vol_get_info_ret *r, void *opaque)
{
    (void)opaque;
    if (check_vol(call, &a->vol) < 0)
        return -1;
    r->type = 0; /* VIR_STORAGE_VOL_FILE */
    r->capacity = M.vol.capacity;
    r->allocation = vol_allocation();
    return 0;
}
/* A transfer window of the volume: [pos, end). */
typedef struct vol_xfer {
    size_t pos, end;
    int sparse;
} vol_xfer;

static int window(virtwire_server_call *call, uint64_t offset, uint64_t length, vol_xfer *x)
{
    if (offset > M.vol.capacity || length > M.vol.capacity - offset)
        return virtwire_server_call_error(call, ERR_INVALID_ARG, FROM_STORAGE,
                                          "invalid argument: range beyond the volume's capacity");
    x->pos = (size_t)offset;
    x->end = length ? (size_t)(offset + length) : M.vol.capacity;
    return 0;
}

static int upload_data(virtwire_server_stream *s, const void *data, size_t len, void *opaque)
{
    vol_xfer *x = opaque;
    if (len > x->end - x->pos) {
        virtwire_server_stream_error(s, ERR_INVALID_ARG, FROM_STORAGE,
                                     "invalid argument: data beyond the upload range");
        return -1;
    }
    memcpy(M.vol.data + x->pos, data, len);
    memset(M.vol.allocated + x->pos, 1, len);
    x->pos += len;
    return 0;
}

static int upload_hole(virtwire_server_stream *s, int64_t length, void *opaque)
{
    vol_xfer *x = opaque;
    if (length < 0 || (uint64_t)length > x->end - x->pos) {
        virtwire_server_stream_error(s, ERR_INVALID_ARG, FROM_STORAGE,
                                     "invalid argument: hole beyond the upload range");
        return -1;
    }
    memset(M.vol.data + x->pos, 0, (size_t)length);
    memset(M.vol.allocated + x->pos, 0, (size_t)length);
    x->pos += (size_t)length;
    return 0;
}

static void xfer_close(virtwire_server_stream *s, void *opaque)
{
    (void)s;
    free(opaque);
}

/* Opens the transfer of a volume upload or download: the volume and the
 * window checked, the stream opened on the call with cbs. */
static int start_xfer(virtwire_server_call *call, const remote_nonnull_storage_vol *vol,
                      uint64_t offset, uint64_t length, unsigned int flags,
                      const virtwire_server_stream_callbacks *cbs)
{
    vol_xfer *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    if (check_vol(call, vol) < 0 || window(call, offset, length, x) < 0) {
        free(x);
        return -1;
    }
    x->sparse = (flags & VOL_SPARSE_STREAM) != 0;
    if (!virtwire_server_call_stream(call, x->sparse, cbs, x)) {
        free(x);
        return -1;
    }
    return 0;
}

static int h_vol_upload(virtwire_server_call *call, const remote_storage_vol_upload_args *a,
                         void *opaque)
{
    (void)opaque;
    if (read_only_refused(call, FROM_STORAGE, "virStorageVolUpload"))
        return -1;
    static const virtwire_server_stream_callbacks cbs = {
        .size = sizeof cbs,
        .on_data = upload_data, .on_hole = upload_hole, .on_close = xfer_close,
    };
    return start_xfer(call, &a->vol, a->offset, a->length, a->flags, &cbs);
}

/* Sends the next run of the download: data, or a hole when sparse. */
static int download_pull(virtwire_server_stream *s, void *opaque)
{
    vol_xfer *x = opaque;
    if (x->pos == x->end)
        return virtwire_server_stream_send_eof(s);
    const unsigned char *al = M.vol.allocated;
    int in_data = !x->sparse || al[x->pos];
    size_t run = x->pos;
    size_t limit = x->end - x->pos > 262120 ? x->pos + 262120 : x->end;
    if (x->sparse)
        while (run < (in_data ? limit : x->end) && (al[run] != 0) == in_data)
            run++;
    else
        run = limit;
    int rc = in_data ? virtwire_server_stream_send(s, M.vol.data + x->pos, run - x->pos)
                     : virtwire_server_stream_send_hole(s, (int64_t)(run - x->pos));
    x->pos = run;
    return rc;
}

static int h_vol_download(virtwire_server_call *call, const remote_storage_vol_download_args *a,
                           void *opaque)
{
    (void)opaque;
    if (read_only_refused(call, FROM_STORAGE, "virStorageVolDownload"))
        return -1;
    static const virtwire_server_stream_callbacks cbs = {
        .size = sizeof cbs,
        .on_pull = download_pull, .on_close = xfer_close,
    };
    return start_xfer(call, &a->vol, a->offset, a->length, a->flags, &cbs);
}

/* ------------------------------------------------------------------------ */
/* Networks, interfaces, node devices, secrets: there are none              */
/* ------------------------------------------------------------------------ */

/* Every "list all" of these returns ret 0 and an empty list; every count
 * 0; every older list no names.  The values are zeroed already. */
static int h_empty_list_all_networks(virtwire_server_call *call,
                                     const remote_connect_list_all_networks_args *a,
                                     remote_connect_list_all_networks_ret *r, void *opaque)
{
    (void)call, (void)a, (void)r, (void)opaque;
    return 0;
}

static int h_empty_list_all_interfaces(virtwire_server_call *call,
                                       const remote_connect_list_all_interfaces_args *a,
                                       remote_connect_list_all_interfaces_ret *r, void *opaque)
{
    (void)call, (void)a, (void)r, (void)opaque;
    return 0;
}

static int h_empty_list_all_node_devices(virtwire_server_call *call,
                                         const remote_connect_list_all_node_devices_args *a,
                                         remote_connect_list_all_node_devices_ret *r,
                                         void *opaque)
{
    (void)call, (void)a, (void)r, (void)opaque;
    return 0;
}

static int h_empty_list_all_secrets(virtwire_server_call *call,
                                    const remote_connect_list_all_secrets_args *a,
                                    remote_connect_list_all_secrets_ret *r, void *opaque)
{
    (void)call, (void)a, (void)r, (void)opaque;
    return 0;
}

static int h_zero_networks(virtwire_server_call *call, remote_connect_num_of_networks_ret *r,
                           void *opaque)
{
    (void)call, (void)r, (void)opaque;
    return 0;
}

static int h_zero_defined_networks(virtwire_server_call *call,
                                   remote_connect_num_of_defined_networks_ret *r, void *opaque)
{
    (void)call, (void)r, (void)opaque;
    return 0;
}

static int h_zero_defined_pools(virtwire_server_call *call,
                                remote_connect_num_of_defined_storage_pools_ret *r, void *opaque)
{
    (void)call, (void)r, (void)opaque;
    return 0;
}

static int h_zero_interfaces(virtwire_server_call *call,
                             remote_connect_num_of_interfaces_ret *r, void *opaque)
{
    (void)call, (void)r, (void)opaque;
    return 0;
}

static int h_zero_defined_interfaces(virtwire_server_call *call,
                                     remote_connect_num_of_defined_interfaces_ret *r,
                                     void *opaque)
{
    (void)call, (void)r, (void)opaque;
    return 0;
}

static int h_zero_node_devices(virtwire_server_call *call,
                               const remote_node_num_of_devices_args *a,
                               remote_node_num_of_devices_ret *r, void *opaque)
{
    (void)call, (void)a, (void)r, (void)opaque;
    return 0;
}

static int h_zero_secrets(virtwire_server_call *call, remote_connect_num_of_secrets_ret *r,
                          void *opaque)
{
    (void)call, (void)r, (void)opaque;
    return 0;
}

static int h_no_networks(virtwire_server_call *call, const remote_connect_list_networks_args *a,
                         remote_connect_list_networks_ret *r, void *opaque)
{
    (void)call, (void)a, (void)r, (void)opaque;
    return 0;
}

static int h_no_defined_networks(virtwire_server_call *call,
                                 const remote_connect_list_defined_networks_args *a,
                                 remote_connect_list_defined_networks_ret *r, void *opaque)
{
    (void)call, (void)a, (void)r, (void)opaque;
    return 0;
}

static int h_no_defined_pools(virtwire_server_call *call,
                              const remote_connect_list_defined_storage_pools_args *a,
                              remote_connect_list_defined_storage_pools_ret *r, void *opaque)
{
    (void)call, (void)a, (void)r, (void)opaque;
    return 0;
}

static int h_no_interfaces(virtwire_server_call *call,
                           const remote_connect_list_interfaces_args *a,
                           remote_connect_list_interfaces_ret *r, void *opaque)
{
    (void)call, (void)a, (void)r, (void)opaque;
    return 0;
}

static int h_no_defined_interfaces(virtwire_server_call *call,
                                   const remote_connect_list_defined_interfaces_args *a,
                                   remote_connect_list_defined_interfaces_ret *r, void *opaque)
{
    (void)call, (void)a, (void)r, (void)opaque;
    return 0;
}

static int h_no_node_devices(virtwire_server_call *call, const remote_node_list_devices_args *a,
                             remote_node_list_devices_ret *r, void *opaque)
{
    (void)call, (void)a, (void)r, (void)opaque;
    return 0;
}

static int h_no_secrets(virtwire_server_call *call, const remote_connect_list_secrets_args *a,
                        remote_connect_list_secrets_ret *r, void *opaque)
{
    (void)call, (void)a, (void)r, (void)opaque;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Main                                                                     */
/* ------------------------------------------------------------------------ */

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
    int why = virtwire_server_client_error(c);
    const char *detail = virtwire_channel_error_detail(virtwire_server_client_channel(c));
    if (why == VIRTWIRE_EKEEPALIVE)
        fprintf(stderr, "virtwire-mockd: client dropped: keepalive timeout\n");
    else if (why < 0 && why != VIRTWIRE_ECLOSED && detail)
        fprintf(stderr, "virtwire-mockd: client dropped: %s\n", detail);
    free(virtwire_server_client_get_data(c));
}

static void on_unknown(virtwire_server_client *c, uint32_t prog, int32_t proc, void *opaque)
{
    (void)c;
    (void)opaque;
    const virtwire_proc *p = virtwire_program_find(&remote_program, proc);
    fprintf(stderr, "virtwire-mockd: unknown procedure %d (%s) of program 0x%x\n", (int)proc,
            p && prog == remote_program.program ? p->name : "?", (unsigned)prog);
}


/* Everything the mock serves; the rest gets "unknown procedure". */
static const remote_server_handlers handlers = {
    .auth_list = h_auth_list,
    .connect_supports_feature = h_supports_feature,
    .connect_open = h_connect_open,
    .connect_close = h_no_op,
    .connect_get_uri = h_get_uri,
    .connect_get_type = h_get_type,
    .connect_get_version = h_get_version,
    .connect_get_lib_version = h_get_lib_version,
    .connect_get_hostname = h_get_hostname,
    .node_get_info = h_node_get_info,
    .connect_get_capabilities = h_get_capabilities,
    .connect_get_sysinfo = h_get_sysinfo,
    .connect_num_of_domains = h_num_of_domains,
    .connect_list_domains = h_list_domains,
    .connect_num_of_defined_domains = h_num_of_defined,
    .connect_list_defined_domains = h_list_defined,
    .connect_register_close_callback = h_no_op,
    .connect_unregister_close_callback = h_no_op,
    .connect_list_all_domains = h_list_all_domains,
    .domain_lookup_by_name = h_lookup_by_name,
    .domain_lookup_by_uuid = h_lookup_by_uuid,
    .domain_lookup_by_id = h_lookup_by_id,
    .domain_get_info = h_get_info,
    .domain_get_state = h_get_state,
    .domain_create = h_create,
    .domain_create_with_flags = h_create_with_flags,
    .domain_destroy = h_destroy,
    .domain_suspend = h_suspend,
    .domain_resume = h_resume,
    .domain_get_os_type = h_get_os_type,
    .domain_get_autostart = h_get_autostart,
    .domain_get_autostart_once = h_get_autostart_once,
    .domain_has_managed_save_image = h_has_managed_save,
    .domain_is_persistent = h_is_persistent,
    .domain_is_active = h_is_active,
    .domain_get_xml_desc = h_get_xml_desc,
    .domain_get_messages = h_get_messages,
    .node_get_security_model = h_security_model,
    .connect_domain_event_callback_register_any = h_event_register,
    .connect_domain_event_callback_deregister_any = h_event_deregister,
    .domain_screenshot = h_screenshot,
    .domain_open_graphics_fd = h_open_graphics_fd,
    .storage_pool_lookup_by_name = h_pool_lookup_by_name,
    .storage_pool_is_active = h_pool_is_active,
    .storage_pool_lookup_by_volume = h_pool_lookup_by_volume,
    .storage_pool_get_info = h_pool_get_info,
    .storage_pool_get_autostart = h_pool_get_autostart,
    .storage_pool_is_persistent = h_pool_is_persistent,
    .storage_pool_list_all_volumes = h_list_all_volumes,
    .connect_list_all_storage_pools = h_list_all_pools,
    .connect_num_of_storage_pools = h_num_of_pools,
    .connect_list_storage_pools = h_list_pools,
    .connect_num_of_defined_storage_pools = h_zero_defined_pools,
    .connect_list_defined_storage_pools = h_no_defined_pools,
    .connect_list_all_networks = h_empty_list_all_networks,
    .connect_num_of_networks = h_zero_networks,
    .connect_list_networks = h_no_networks,
    .connect_num_of_defined_networks = h_zero_defined_networks,
    .connect_list_defined_networks = h_no_defined_networks,
    .connect_list_all_interfaces = h_empty_list_all_interfaces,
    .connect_num_of_interfaces = h_zero_interfaces,
    .connect_list_interfaces = h_no_interfaces,
    .connect_num_of_defined_interfaces = h_zero_defined_interfaces,
    .connect_list_defined_interfaces = h_no_defined_interfaces,
    .connect_list_all_node_devices = h_empty_list_all_node_devices,
    .node_num_of_devices = h_zero_node_devices,
    .node_list_devices = h_no_node_devices,
    .connect_list_all_secrets = h_empty_list_all_secrets,
    .connect_num_of_secrets = h_zero_secrets,
    .connect_list_secrets = h_no_secrets,
    .storage_vol_lookup_by_name = h_vol_lookup_by_name,
    .storage_vol_get_info = h_vol_get_info,
    .storage_vol_get_path = h_vol_get_path,
    .storage_vol_upload = h_vol_upload,
    .storage_vol_download = h_vol_download,
};

/* The handlers share the global M, so they need no opaque pointer. */
static const remote_server_binding binding = { &handlers, NULL };

static void on_signal(int sig)
{
    (void)sig;
    if (M.srv)
        virtwire_server_stop(M.srv);
}

/* The usage, on stdout for --help (status 0), else on stderr (status 2). */
static int usage(int help)
{
    fprintf(help ? stdout : stderr,
            "usage: virtwire-mockd SOCKET_PATH [--tcp PORT] [--max-requests N]\n"
            "         [--keepalive-interval SECONDS] [--keepalive-count N]\n"
            "         [--bench-domains N]\n"
            "         [--auth-unix none|sasl] [--auth-tcp none|sasl]\n"
            "         [--sasl-allow PATTERN]...\n"
            "         [--tls PORT --pkipath DIR [--tls-allowed-dn PATTERN]...\n"
            "          [--tls-no-verify] [--tls-no-sanity]]\n"
            "Serves an in-memory hypervisor on the unix socket SOCKET_PATH (and TCP\n"
            "PORT on 127.0.0.1) to libvirt's clients, until SIGINT or SIGTERM.\n");
    return help ? 0 : 2;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(1);
    /* A socket path is never an option: no socket named "--tcp". */
    if (argc < 2 || argv[1][0] == '-')
        return usage(0);
    const char *path = argv[1];
    int tcp_port = -1;
    unsigned max_requests = 0;
    long ka_interval = VIRTWIRE_SERVER_KEEPALIVE_INTERVAL_MS_DEFAULT / 1000;
    long ka_count = VIRTWIRE_SERVER_KEEPALIVE_COUNT_DEFAULT;
    int sasl_unix = 0, sasl_tcp = 0;
    const char *allow[17] = { NULL };
    size_t nallow = 0;
    int tls_port = -1;
    const char *pkipath = NULL;
    const char *allowed[16];
    size_t nallowed = 0;
    int tls_no_verify = 0, tls_no_sanity = 0;
    long bench_domains = -1;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--tcp") == 0 && i + 1 < argc)
            tcp_port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--max-requests") == 0 && i + 1 < argc)
            max_requests = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--keepalive-interval") == 0 && i + 1 < argc)
            ka_interval = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--keepalive-count") == 0 && i + 1 < argc)
            ka_count = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--bench-domains") == 0 && i + 1 < argc) {
            char *end;
            bench_domains = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end || bench_domains < 0 || bench_domains > 999)
                return usage(0);
        }
        else if ((strcmp(argv[i], "--auth-unix") == 0 || strcmp(argv[i], "--auth-tcp") == 0) &&
                 i + 1 < argc &&
                 (strcmp(argv[i + 1], "sasl") == 0 || strcmp(argv[i + 1], "none") == 0)) {
            int *which = argv[i][7] == 'u' ? &sasl_unix : &sasl_tcp;
            *which = strcmp(argv[++i], "sasl") == 0;
        } else if (strcmp(argv[i], "--sasl-allow") == 0 && i + 1 < argc && nallow < 16)
            allow[nallow++] = argv[++i];
        else if (strcmp(argv[i], "--tls") == 0 && i + 1 < argc)
            tls_port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--pkipath") == 0 && i + 1 < argc)
            pkipath = argv[++i];
        else if (strcmp(argv[i], "--tls-allowed-dn") == 0 && i + 1 < argc &&
                 nallowed < sizeof allowed / sizeof allowed[0] - 1)
            allowed[nallowed++] = argv[++i];
        else if (strcmp(argv[i], "--tls-no-verify") == 0)
            tls_no_verify = 1;
        else if (strcmp(argv[i], "--tls-no-sanity") == 0)
            tls_no_sanity = 1;
        else
            return usage(0);
    }
    /* Seconds, as in libvirtd.conf; the server counts milliseconds. */
    if (ka_interval > 1000000 || ka_count < 0 || ka_count > 1000000)
        return usage(0);
    mockd_init(&M, (int)bench_domains);
    virtwire_server_callbacks cbs = { .size = sizeof cbs, .on_open = on_open, .on_close = on_close,
                                   .on_unknown = on_unknown };
    if (virtwire_server_new(&cbs, NULL, &M.srv) < 0 ||
        virtwire_server_register(M.srv, &remote_program) < 0 ||
        remote_server_bind(M.srv, &binding) < 0)
        return 1;
    if (max_requests && virtwire_server_set_max_client_requests(M.srv, max_requests) < 0)
        return usage(0);
    /* AUTH_LIST (and polkit) from libvirtwire_session, SASL from
     * libvirtwire_sasl. */
    virtwire_session_server *ss = NULL;
    if ((sasl_unix || sasl_tcp) && virtwire_session_server_new(M.srv, &remote_program, NULL, &ss) < 0)
        return 1;
#ifdef VIRTWIRE_MOCKD_SASL
    virtwire_sasl_server *sasl = NULL;
    virtwire_sasl_server_opts so = { .size = sizeof so, .allowed_usernames = nallow ? allow : NULL };
    if ((sasl_unix || sasl_tcp) && virtwire_sasl_server_new(M.srv, &remote_program, &so, &sasl) < 0) {
        fprintf(stderr, "virtwire-mockd: SASL did not initialise\n");
        return 1;
    }
#else
    (void)allow; /* --sasl-allow is accepted and has nothing to restrict */
    if (sasl_unix || sasl_tcp) {
        fprintf(stderr, "virtwire-mockd: built without libvirtwire_sasl\n");
        return 2;
    }
#endif
    static const int sasl_types[] = { 1 /* REMOTE_AUTH_SASL */ };
    virtwire_server_listen_opts lu = { .size = sizeof lu }, lt = { .size = sizeof lt };
    if (sasl_unix) {
        lu.auth_types = sasl_types;
        lu.nauth_types = 1;
    }
    if (sasl_tcp) {
        lt.auth_types = sasl_types;
        lt.nauth_types = 1;
    }
    if (virtwire_server_set_keepalive(M.srv, ka_interval > 0 ? (int)(ka_interval * 1000) : 0,
                                      (unsigned)ka_count) < 0)
        return 1;
    if (virtwire_server_listen_unix_with(M.srv, path, &lu) < 0) {
        perror("virtwire-mockd: listen");
        return 1;
    }
    if (tcp_port >= 0 && virtwire_server_listen_tcp_with(M.srv, NULL, tcp_port, &lt) < 0) {
        perror("virtwire-mockd: listen tcp");
        return 1;
    }
    allowed[nallowed] = NULL;
    if ((tls_port >= 0) != (pkipath != NULL))
        return usage(0);
#ifdef VIRTWIRE_HAVE_TLS
    virtwire_tls_creds *creds = NULL;
    if (tls_port >= 0) {
        char why[1024];
        virtwire_tls_options to = { .size = sizeof to, .pkipath = pkipath,
                                    .no_verify = tls_no_verify, .no_sanity = tls_no_sanity,
                                    .allowed_dn = nallowed ? allowed : NULL,
                                    .handshake_timeout_ms = 30000 };
        if (virtwire_tls_creds_new(VIRTWIRE_TLS_SERVER, &to, why, sizeof why, &creds) < 0) {
            fprintf(stderr, "virtwire-mockd: %s\n", why);
            return 1;
        }
        virtwire_server_listen_opts lo = { .size = sizeof lo,
                                           .make_channel = virtwire_tls_make_channel,
                                           .channel_opaque = creds };
        if (virtwire_server_listen_tcp_with(M.srv, NULL, tls_port, &lo) < 0) {
            perror("virtwire-mockd: listen tls");
            return 1;
        }
    }
#else
    (void)tls_no_verify;
    (void)tls_no_sanity;
    if (tls_port >= 0) {
        fprintf(stderr, "virtwire-mockd: built without libvirtwire_tls (GnuTLS)\n");
        return 1;
    }
#endif
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Ready: tests wait for this line. */
    printf("virtwire-mockd: listening on %s\n", path);
    fflush(stdout);
    int rc = virtwire_server_run(M.srv);
    virtwire_server_free(M.srv);
    virtwire_session_server_free(ss);
#ifdef VIRTWIRE_MOCKD_SASL
    virtwire_sasl_server_free(sasl);
#endif
#ifdef VIRTWIRE_HAVE_TLS
    virtwire_tls_creds_free(creds);
#endif
    free(M.vol.data);
    free(M.vol.allocated);
    free(M.doms);
    return rc < 0 ? 1 : 0;
}
