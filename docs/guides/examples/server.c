/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing a server (docs/guides/server.md): a small libvirt daemon that
 * virsh and python3-libvirt can talk to.  It serves libvirt's open
 * handshake, the host name, a system description answered later (a
 * deferred call), one domain "demo" and its screenshot (a stream).
 *
 *   guide-server SOCKET_PATH [--max-requests N]
 *                [--keepalive-interval-ms MS] [--keepalive-count N]
 *   virsh -c 'test+unix:///default?socket=SOCKET_PATH' hostname
 *
 * SIGTERM and SIGINT stop it.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "remote_protocol_server.h"

/* libvirt's numbers (libvirt-host.h, virterror.h). */
#define FEATURE_PROGRAM_KEEPALIVE 10 /* VIR_DRV_FEATURE_PROGRAM_KEEPALIVE */
#define ERR_NO_DOMAIN 42             /* VIR_ERR_NO_DOMAIN */
#define FROM_TEST 12                 /* VIR_FROM_TEST */

#define HOSTNAME "guide-host"
#define SYSINFO "<sysinfo type='smbios'>\n  <system>\n    <entry name='product'>guide</entry>\n" \
                "  </system>\n</sysinfo>\n"
#define SYSINFO_DELAY_MS 200

static const unsigned char DEMO_UUID[16] = { 0xde, 0x30, 1, 2, 3, 4, 5, 6,
                                             7, 8, 9, 10, 11, 12, 13, 14 };

/* A 2x2 picture in binary PPM: red, green / blue, white. */
static const unsigned char PICTURE[] = "P6\n2 2\n255\n"
                                       "\xff\x00\x00\x00\xff\x00"
                                       "\x00\x00\xff\xff\xff\xff";

/* ---- deferred calls -------------------------------------------------------- */

/* Calls answered later, from the loop (the only thread that may complete
 * them).  A real daemon would complete them when some work is done. */
#define MAX_DEFERRED 16
static struct deferred {
    virtwire_server_call *call;
    long long due_ms;
} deferred[MAX_DEFERRED];
static size_t ndeferred;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- handlers -------------------------------------------------------------- */

/* Handlers fill the zeroed ret; what it points to must live until the reply
 * is encoded: static data, or the call's arena. */

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

/* Saying yes to keepalive makes the server ping this client from now on
 * (virtwire_server_set_keepalive() says how often). */
static int h_supports_feature(virtwire_server_call *call,
                              const remote_connect_supports_feature_args *a,
                              remote_connect_supports_feature_ret *r, void *opaque)
{
    (void)call;
    (void)opaque;
    r->supported = a->feature == FEATURE_PROGRAM_KEEPALIVE;
    return 0;
}

static int h_connect_open(virtwire_server_call *call, const remote_connect_open_args *a,
                          void *opaque)
{
    (void)call;
    (void)a;
    (void)opaque;
    return 0;
}

static int h_connect_close(virtwire_server_call *call, void *opaque)
{
    (void)call;
    (void)opaque;
    return 0;
}

static int h_get_hostname(virtwire_server_call *call, remote_connect_get_hostname_ret *r,
                          void *opaque)
{
    (void)call;
    (void)opaque;
    r->hostname = (char *)HOSTNAME;
    return 0;
}

/* Deferred: the reply goes out when the loop completes the call. */
static int h_get_sysinfo(virtwire_server_call *call, const remote_connect_get_sysinfo_args *a,
                         remote_connect_get_sysinfo_ret *r, void *opaque)
{
    (void)a;
    (void)opaque;
    if (ndeferred == MAX_DEFERRED)
        return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_INTERNAL_ERROR,
                                          VIRTWIRE_VIR_FROM_RPC, "too many calls in progress");
    r->sysinfo = (char *)SYSINFO;
    deferred[ndeferred].call = call;
    deferred[ndeferred++].due_ms = now_ms() + SYSINFO_DELAY_MS;
    return VIRTWIRE_SERVER_DEFER;
}

static int h_lookup_by_name(virtwire_server_call *call,
                            const remote_domain_lookup_by_name_args *a,
                            remote_domain_lookup_by_name_ret *r, void *opaque)
{
    (void)opaque;
    if (strcmp(a->name, "demo") != 0)
        return virtwire_server_call_error(call, ERR_NO_DOMAIN, FROM_TEST,
                                          "Domain not found: no domain with matching name '%s'",
                                          a->name);
    r->dom.name = (char *)"demo";
    memcpy(r->dom.uuid, DEMO_UUID, 16);
    r->dom.id = 1;
    return 0;
}

/* The screenshot stream: on_pull runs when the client can take more data;
 * this one sends everything at once, then the end of data. */
static int screenshot_pull(virtwire_server_stream *s, void *opaque)
{
    (void)opaque;
    int rc = virtwire_server_stream_send(s, PICTURE, sizeof PICTURE - 1);
    return rc < 0 ? rc : virtwire_server_stream_send_eof(s);
}

static int h_screenshot(virtwire_server_call *call, const remote_domain_screenshot_args *a,
                        remote_domain_screenshot_ret *r, void *opaque)
{
    (void)opaque;
    if (strcmp(a->dom.name, "demo") != 0)
        return virtwire_server_call_error(call, ERR_NO_DOMAIN, FROM_TEST,
                                          "Domain not found: no domain with matching name '%s'",
                                          a->dom.name);
    /* The stream opens when the reply (the MIME type) has gone out. */
    static const virtwire_server_stream_callbacks cbs = { .size = sizeof cbs, .on_pull = screenshot_pull };
    if (!virtwire_server_call_stream(call, 0, &cbs, NULL))
        return -1;
    char **mime = virtwire_server_call_alloc(call, sizeof *mime);
    if (!mime)
        return -1;
    *mime = (char *)"image/x-portable-pixmap";
    r->mime = mime;
    return 0;
}

/* Every procedure without a handler gets libvirt's "unknown procedure". */
static const remote_server_handlers handlers = {
    .auth_list = h_auth_list,
    .connect_supports_feature = h_supports_feature,
    .connect_open = h_connect_open,
    .connect_close = h_connect_close,
    .connect_get_hostname = h_get_hostname,
    .connect_get_sysinfo = h_get_sysinfo,
    .domain_lookup_by_name = h_lookup_by_name,
    .domain_screenshot = h_screenshot,
};

/* ---- clients --------------------------------------------------------------- */

static void on_close(virtwire_server_client *c, void *opaque)
{
    (void)opaque;
    if (virtwire_server_client_error(c) == VIRTWIRE_EKEEPALIVE)
        fprintf(stderr, "guide-server: client dropped: keepalive timeout\n");
}

static void on_unknown(virtwire_server_client *c, uint32_t prog, int32_t proc, void *opaque)
{
    (void)c;
    (void)opaque;
    const virtwire_proc *p = virtwire_program_find(&remote_program, proc);
    fprintf(stderr, "guide-server: unknown procedure %s\n",
            p && prog == remote_program.program ? p->name : "?");
}

/* ---- main ------------------------------------------------------------------ */

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc % 2 != 0 || argv[1][0] == '-') {
        int help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr, "usage: guide-server SOCKET_PATH [--max-requests N]\n"
                "         [--keepalive-interval-ms MS] [--keepalive-count N]\n");
        return help ? 0 : 2;
    }
    unsigned max_requests = VIRTWIRE_SERVER_MAX_CLIENT_REQUESTS_DEFAULT;
    int ka_interval = VIRTWIRE_SERVER_KEEPALIVE_INTERVAL_MS_DEFAULT;
    unsigned ka_count = VIRTWIRE_SERVER_KEEPALIVE_COUNT_DEFAULT;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--max-requests") == 0)
            max_requests = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--keepalive-interval-ms") == 0)
            ka_interval = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--keepalive-count") == 0)
            ka_count = (unsigned)atoi(argv[i + 1]);
    }

    virtwire_server_callbacks cbs = { .size = sizeof cbs, .on_close = on_close, .on_unknown = on_unknown };
    static const remote_server_binding binding = { &handlers, NULL };
    virtwire_server *srv;
    if (virtwire_server_new(&cbs, NULL, &srv) < 0)
        return 1;
    if (virtwire_server_register(srv, &remote_program) < 0 ||
        remote_server_bind(srv, &binding) < 0 ||
        virtwire_server_set_max_client_requests(srv, max_requests) < 0 ||
        virtwire_server_set_keepalive(srv, ka_interval, ka_count) < 0 ||
        virtwire_server_listen_unix(srv, argv[1]) < 0) {
        fprintf(stderr, "guide-server: setting up failed\n");
        virtwire_server_free(srv);
        return 1;
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("guide-server: listening on %s\n", argv[1]);
    fflush(stdout);

    /* The loop: wait until a socket is ready or the first deferred call is
     * due, then complete the calls that are. */
    int rc = 0;
    while (!stopping && rc == 0) {
        int timeout = 1000;
        for (size_t i = 0; i < ndeferred; i++) {
            long long left = deferred[i].due_ms - now_ms();
            int t = left < 0 ? 0 : (int)left;
            if (t < timeout)
                timeout = t;
        }
        rc = virtwire_server_run_once(srv, timeout);
        for (size_t i = 0; i < ndeferred;) {
            if (deferred[i].due_ms <= now_ms()) {
                virtwire_server_call_complete(deferred[i].call, 0);
                deferred[i] = deferred[--ndeferred];
            } else {
                i++;
            }
        }
    }
    /* Calls still deferred belong to the server until completed. */
    while (ndeferred)
        virtwire_server_call_complete(deferred[--ndeferred].call, 0);
    virtwire_server_free(srv);
    return rc < 0;
}
