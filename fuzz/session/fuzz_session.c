/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the client's open handshake and its choice of an
 * authentication method (runtime/session): virtwire_client_connect() on a
 * unix socket where this file plays the daemon, answering AUTH_LIST and
 * AUTH_POLKIT with the input, and the rest of the handshake properly
 * (CONNECT_SUPPORTS_FEATURE: no; CONNECT_OPEN, CONNECT_CLOSE: done).
 *
 * Input:
 *   byte 0   bits 0-2: the URI's auth= (none, polkit, sasl, PolKit,
 *            sasl.scram-sha-256, kerberos, an empty value, none again);
 *            bit 3: AUTH_LIST is answered with status ERROR; bit 4: so is
 *            AUTH_POLKIT; bit 5: read-only;
 *   byte 1   n, the length of AUTH_LIST's reply payload;
 *   n bytes  that payload (fewer when the input ends);
 *   the rest AUTH_POLKIT's reply payload.
 *
 * Checks: connect returns 0 with a client, or an error without one and a
 * message in errbuf (NUL-terminated); the daemon sees the connection
 * closed; nothing is left open (the replay harness counts fds) or leaked
 * (the sanitizers).  Every wait is bounded (10 s) and aborts beyond.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "remote_protocol.h"
#include "virtwire_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WAIT_MS 10000

static void fuzz_fail(int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
    abort();
}

#define fuzz_check(cond) ((cond) ? (void)0 : fuzz_fail(__LINE__, #cond))

/* The listening socket, made once (the replay harness lets a target keep
 * what its first input opens). */
static int g_lfd = -1;
static char g_path[108];

static void make_listener(void)
{
    char dir[] = "/tmp/vwfsXXXXXX";
    fuzz_check(mkdtemp(dir) != NULL);
    snprintf(g_path, sizeof g_path, "%s/s", dir);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", g_path);
    g_lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    fuzz_check(g_lfd >= 0);
    fuzz_check(bind(g_lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    fuzz_check(listen(g_lfd, 4) == 0);
}

typedef struct daemon_state {
    const uint8_t *list, *polkit;
    size_t nlist, npolkit;
    int list_error, polkit_error;
    int saw_eof;
} daemon_state;

static int wait_in(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    int r;
    do
        r = poll(&p, 1, WAIT_MS);
    while (r < 0 && errno == EINTR);
    return r;
}

static int read_exact(int fd, uint8_t *p, size_t n)
{
    while (n) {
        if (wait_in(fd) <= 0)
            fuzz_fail(__LINE__, "the client went silent");
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0)
            return -1; /* end of file (or a reset) */
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Sends a REPLY of the call whose header is hdr, with payload. */
static void reply(int fd, const uint8_t *hdr, int error, const uint8_t *payload, size_t n)
{
    uint8_t *f = malloc(28 + n);
    fuzz_check(f != NULL);
    put32(f, (uint32_t)(28 + n));
    memcpy(f + 4, hdr, 12); /* program, version, procedure */
    put32(f + 16, 1);       /* REPLY */
    memcpy(f + 20, hdr + 16, 4);
    put32(f + 24, error ? 1 : 0);
    if (n)
        memcpy(f + 28, payload, n);
    /* The client may have hung up already: not a finding. */
    ssize_t w = send(fd, f, 28 + n, MSG_NOSIGNAL);
    (void)w;
    free(f);
}

static void *daemon_main(void *arg)
{
    daemon_state *d = arg;
    fuzz_check(wait_in(g_lfd) > 0);
    int fd = accept4(g_lfd, NULL, NULL, SOCK_CLOEXEC);
    fuzz_check(fd >= 0);
    for (;;) {
        uint8_t head[28];
        if (read_exact(fd, head, 28) < 0)
            break;
        uint32_t len = get32(head);
        fuzz_check(len >= 28 && len < 4096);
        uint8_t body[4096];
        if (read_exact(fd, body, len - 28) < 0)
            break;
        if (get32(head + 4) != REMOTE_PROGRAM)
            continue; /* keepalive */
        static const uint8_t zero[4];
        switch ((int32_t)get32(head + 12)) {
        case REMOTE_PROC_AUTH_LIST:
            reply(fd, head + 4, d->list_error, d->list, d->nlist);
            break;
        case REMOTE_PROC_AUTH_POLKIT:
            reply(fd, head + 4, d->polkit_error, d->polkit, d->npolkit);
            break;
        case REMOTE_PROC_CONNECT_SUPPORTS_FEATURE:
            reply(fd, head + 4, 0, zero, 4);
            break;
        default:
            reply(fd, head + 4, 0, NULL, 0);
            break;
        }
    }
    d->saw_eof = 1;
    close(fd);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const auths[] = { NULL,       "polkit",   "sasl", "PolKit", "sasl.scram-sha-256",
                                         "kerberos", "", NULL };
    if (g_lfd < 0)
        make_listener();
    if (size < 2)
        return 0;
    daemon_state d = { .list_error = data[0] & 0x08, .polkit_error = data[0] & 0x10 };
    d.list = data + 2;
    d.nlist = data[1] < size - 2 ? data[1] : size - 2;
    d.polkit = d.list + d.nlist;
    d.npolkit = size - 2 - d.nlist;
    const char *auth = auths[data[0] & 7];

    char uri[256];
    snprintf(uri, sizeof uri, "test+unix:///default?socket=%s%s%s", g_path,
             auth ? "&auth=" : "", auth ? auth : "");
    pthread_t th;
    fuzz_check(pthread_create(&th, NULL, daemon_main, &d) == 0);

    char errbuf[256];
    memset(errbuf, 'x', sizeof errbuf);
    virtwire_client_options o = { .size = sizeof o,
                                  .flags = (data[0] & 0x20) ? VIRTWIRE_CLIENT_READONLY : 0,
                                  .open_timeout_ms = WAIT_MS, .errbuf = errbuf,
                                  .errbuf_len = sizeof errbuf };
    virtwire_client *c = (virtwire_client *)&o;
    int rc = virtwire_client_connect(uri, &o, &c);
    if (rc == 0) {
        fuzz_check(c != NULL && c != (virtwire_client *)&o);
        virtwire_client_close(c);
    } else {
        fuzz_check(rc < 0 && c == NULL);
        fuzz_check(memchr(errbuf, 0, sizeof errbuf) != NULL && errbuf[0] != 0);
    }
    pthread_join(th, NULL);
    fuzz_check(d.saw_eof);
    return 0;
}
