/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs the bad-input catalogue through the real runtime and checks, for
 * every case, the exact error and the state the runtime is left in (see
 * README.md in this directory for the catalogue's format).
 *
 *   bad_input_run CATALOGUE [--min N] [LAYER-OR-CASE-PREFIX...]
 *
 * Layers: transport (the sans-I/O transport in either role, input fed
 * whole and again one byte at a time), conn (a virtwire_conn over a real
 * socketpair or TCP connection, the peer scripted), payload (the generated
 * decoders, arena and heap mode), uri (the URI parser and the functions
 * that use its result), client (virtwire_client over a socketpair with a
 * scripted daemon), server (virtwire_server on a unix socket with a
 * scripted client), session (virtwire_client_connect()'s open handshake
 * with a daemon that answers AUTH_LIST or AUTH_POLKIT with the input),
 * child (the command of an ssh or ext URI, a script of ours) and tls
 * (libvirtwire_tls's channel, either role, with a scripted peer that
 * speaks raw bytes or TLS).  Every case also checks that each fd it passed
 * was closed by the runtime and that the process has no more fds open
 * after the case than before.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admin_protocol.h"
#include "lock_protocol.h"
#include "log_protocol.h"
#include "lxc_protocol.h"
#include "qemu_protocol.h"
#include "proxy_frame.h"
#include "remote_protocol.h"
#include "run.h"
#include "script.h"
#include "virkeepaliveprotocol.h"
#include "virnetprotocol.h"
#include "virtwire_client.h"
#include "virtwire_conn.h"
#include "virtwire_libvirt.h"
#include "virtwire_server.h"
#include "virtwire_transport.h"
#include "virtwire_uri.h"
#include "vt_check.h"
#include "vt_client.h"
#include "vt_fds.h"
#include "vt_frame.h"
#include "vt_sys.h"

#define PROC_LIB_VERSION 157 /* REMOTE_PROC_CONNECT_GET_LIB_VERSION */
#define PROC_HOSTNAME 59     /* REMOTE_PROC_CONNECT_GET_HOSTNAME */
#define PROC_LOOKUP 23       /* REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME */
#define PROC_LIFECYCLE 107   /* REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE */
#define PROC_UPLOAD 208      /* REMOTE_PROC_STORAGE_VOL_UPLOAD */
#define LIB_VERSION 42       /* what the scripted peers answer */

/* ------------------------------------------------------------------------ */
/* The catalogue                                                            */
/* ------------------------------------------------------------------------ */

static const char *catalogue_path;
static const bcase *cur;
static int total_failed;

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

/* Appends " text" to *field (continuation lines). */
static void append(char **field, const char *text)
{
    size_t a = *field ? strlen(*field) : 0, b = strlen(text);
    char *n = realloc(*field, a + b + 2);
    if (!n)
        abort();
    if (a)
        n[a++] = ' ';
    memcpy(n + a, text, b + 1);
    *field = n;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

static size_t load_catalogue(const char *path, bcase **out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(2);
    }
    bcase *cases = NULL;
    size_t n = 0;
    char line[16384];
    char **last = NULL;
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *t = trim(line);
        if (!*t || *t == '#')
            continue;
        if (line[0] == ' ' || line[0] == '\t') {
            if (!last) {
                fprintf(stderr, "%s:%d: continuation line outside a field\n", path, lineno);
                exit(2);
            }
            append(last, t);
            continue;
        }
        char *sp = t + strcspn(t, " \t");
        char *val = *sp ? trim(sp + 1) : sp;
        *sp = 0;
        if (strcmp(t, "case") == 0) {
            bcase *c = realloc(cases, (n + 1) * sizeof *c);
            if (!c)
                abort();
            cases = c;
            memset(&cases[n], 0, sizeof *cases);
            cases[n].name = xstrdup(val);
            cases[n].line = lineno;
            n++;
            last = NULL;
            continue;
        }
        if (!n) {
            fprintf(stderr, "%s:%d: field before the first case\n", path, lineno);
            exit(2);
        }
        bcase *c = &cases[n - 1];
        if (strcmp(t, "layer") == 0) {
            char *r = val + strcspn(val, " \t");
            if (*r)
                *r++ = 0;
            c->layer = xstrdup(val);
            c->role = xstrdup(trim(r));
            last = &c->role;
        } else if (strcmp(t, "setup") == 0) {
            last = &c->setup;
            append(last, val);
        } else if (strcmp(t, "input") == 0) {
            last = &c->input;
            append(last, val);
        } else if (strcmp(t, "expect") == 0) {
            last = &c->expect;
            append(last, val);
        } else if (strcmp(t, "note") == 0) {
            last = &c->note; /* for readers only */
            append(last, val);
        } else {
            fprintf(stderr, "%s:%d: unknown field \"%s\"\n", path, lineno, t);
            exit(2);
        }
    }
    fclose(f);
    for (size_t i = 0; i < n; i++) {
        if (!cases[i].layer || !cases[i].expect) {
            fprintf(stderr, "%s:%d: case %s lacks layer or expect\n", path, cases[i].line,
                    cases[i].name);
            exit(2);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cases[i].name, cases[j].name) == 0) {
                fprintf(stderr, "%s:%d: case %s defined twice\n", path, cases[i].line,
                        cases[i].name);
                exit(2);
            }
        }
    }
    *out = cases;
    return n;
}

/* ------------------------------------------------------------------------ */
/* The expectation: CODE STATE [ARGS] [key=value...]                        */
/* ------------------------------------------------------------------------ */

int code_by_name(const char *name, int *code)
{
    if (strcmp(name, "-") == 0) {
        *code = 0;
        return 0;
    }
    for (int c = 0; c >= -200; c--) {
        const char *n = virtwire_error_name(c);
        if (n && strcmp(n, name) == 0) {
            *code = c;
            return 0;
        }
    }
    return -1;
}

/* Splits s into words; a word may be a "quoted string" (quotes dropped). */
static size_t split_words(char *s, char **w, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        if (*s == '"') {
            w[n++] = ++s;
            while (*s && *s != '"')
                s++;
        } else {
            w[n++] = s;
            while (*s && *s != ' ' && *s != '\t')
                s++;
        }
        if (*s)
            *s++ = 0;
    }
    return n;
}

static char expect_storage[4096];

static int parse_expect(const bcase *c, expectation *e)
{
    memset(e, 0, sizeof *e);
    snprintf(expect_storage, sizeof expect_storage, "%s", c->expect);
    char *w[MAX_WORDS];
    size_t n = split_words(expect_storage, w, MAX_WORDS);
    if (n < 2 || code_by_name(w[0], &e->code) < 0) {
        FAIL("bad expect line \"%s\"", c->expect);
        return -1;
    }
    snprintf(e->state, sizeof e->state, "%s", w[1]);
    static const char *const keys[] = { "calls", "events", "after", "data", "drops", "fds" };
    for (size_t i = 2; i < n; i++) {
        char *eq = strchr(w[i], '=');
        size_t k = 0;
        while (eq && k < 6 && !(strlen(keys[k]) == (size_t)(eq - w[i]) &&
                                strncmp(w[i], keys[k], strlen(keys[k])) == 0))
            k++;
        if (!eq || k == 6) {
            e->args[e->nargs++] = w[i];
            continue;
        }
        int v = atoi(eq + 1);
        int *slot[] = { &e->calls, &e->events, &e->after, &e->data, &e->drops, &e->fds };
        *slot[k] = v;
    }
    return 0;
}

int state_is(const expectation *e, const char *s)
{
    return strcmp(e->state, s) == 0;
}

/* ------------------------------------------------------------------------ */
/* Helpers: fds passed, frames, sockets, time                               */
/* ------------------------------------------------------------------------ */

/* Read ends of the pipes whose write ends were passed as fds: once every
 * copy of the write end is closed, reading gives end of file. */
static int watch[256];
static size_t nwatch;

static int watched_fd(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        perror("pipe2");
        exit(2);
    }
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    watch[nwatch++] = p[0];
    return p[1];
}

static void check_watched_closed(const char *when)
{
    for (size_t i = 0; i < nwatch; i++) {
        char b;
        ssize_t r = read(watch[i], &b, 1);
        CHECK_MSG(r == 0, "fd %zu passed by the peer is still open %s", i + 1, when);
    }
}

static void watch_clear(void)
{
    for (size_t i = 0; i < nwatch; i++)
        close(watch[i]);
    nwatch = 0;
}

/* fds open when the runner started, which are not the runtime's. */
static unsigned char inherited[1024];

static void note_inherited(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd < (int)sizeof inherited)
            inherited[fd] = 1;
    }
    closedir(d);
}

/* Every fd the runtime has opened or received must be close-on-exec (the
 * runner opens its own with O_CLOEXEC too). */
void check_cloexec(const char *when)
{
    DIR *d = opendir("/proc/self/fd");
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd == self || (fd < (int)sizeof inherited && inherited[fd]))
            continue;
        int fl = fcntl(fd, F_GETFD);
        if (fl < 0 && errno == EBADF)
            continue; /* closed since the listing (a scripted peer's thread) */
        char link[64], what[256] = "";
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, what, sizeof what - 1);
        what[n > 0 ? n : 0] = '\0';
        CHECK_MSG(fl >= 0 && (fl & FD_CLOEXEC), "fd %d (%s) is not close-on-exec %s", fd, what,
                  when);
    }
    closedir(d);
}

/* Splits b into complete frames; returns how many (at most max). */
size_t split_frames(const vt_buf *b, frame *f, size_t max, size_t *rest)
{
    size_t off = 0, n = 0;
    while (n < max && b->len - off >= 28) {
        uint32_t len = vt_get32(b->p + off);
        if (len < 28 || len > b->len - off)
            break;
        vt_frame_parse(b->p + off, &f[n].hdr);
        f[n].payload = b->p + off + 28;
        f[n].len = len - 28;
        n++;
        off += len;
    }
    if (rest)
        *rest = b->len - off;
    return n;
}

/* Checks that f is a REPLY with status ERROR carrying a remote_error of
 * code with a message starting with prefix. */
void check_error_reply(const frame *f, const char *code, const char *prefix)
{
    CHECK_MSG(f->hdr.type == VIR_NET_REPLY && f->hdr.status == VIR_NET_ERROR,
              "reply type %d status %d, want REPLY/ERROR", f->hdr.type, f->hdr.status);
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    virNetMessageError e;
    int rc = virtwire_decode(&virNetMessageError_desc, f->payload, f->len, &a, &e);
    CHECK_CODE(rc, 0, "decoding the error reply");
    if (rc == 0) {
        CHECK_MSG(e.code == atoi(code), "error reply code %d, want %s", e.code, code);
        const char *m = e.message ? *e.message : "";
        CHECK_MSG(strncmp(m, prefix, strlen(prefix)) == 0,
                  "error reply message \"%s\", want \"%s...\"", m, prefix);
    }
    virtwire_arena_fini(&a);
}

/* A good frame for a receiver in role: a CALL (server) or an event
 * (client), each dispatched to a program callback. */
static void good_frame(virtwire_transport_role role, vt_buf *b, uint32_t serial)
{
    vt_buf_u32(b, 28);
    vt_buf_u32(b, REMOTE_PROGRAM);
    vt_buf_u32(b, REMOTE_PROTOCOL_VERSION);
    if (role == VIRTWIRE_TRANSPORT_SERVER) {
        vt_buf_u32(b, PROC_LIB_VERSION);
        vt_buf_u32(b, VIR_NET_CALL);
        vt_buf_u32(b, serial);
    } else {
        vt_buf_u32(b, PROC_LIFECYCLE);
        vt_buf_u32(b, VIR_NET_MESSAGE);
        vt_buf_u32(b, 1);
    }
    vt_buf_u32(b, VIR_NET_OK);
}

static const unsigned char PONG[28] = {
    0, 0, 0, 0x1c, 0x6b, 0x65, 0x65, 0x70, 0, 0, 0, 1, 0, 0, 0, 2,
    0, 0, 0, 2,    0,    0,    0,    0,    0, 0, 0, 0,
};

/* Sends bytes carrying n new watched fds in one SCM_RIGHTS message, then
 * closes our copies. */
static int send_fds(int sock, const vt_buf *bytes, size_t n)
{
    int fds[8];
    if (n < 1 || n > 8)
        return -1;
    for (size_t i = 0; i < n; i++)
        fds[i] = watched_fd();
    struct iovec iov;
    vt_fds_control ctl;
    struct msghdr mh;
    vt_fds_message(&mh, &iov, &ctl, bytes->p, bytes->len, fds, n);
    ssize_t w = sendmsg(sock, &mh, MSG_NOSIGNAL);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    return w == (ssize_t)bytes->len ? 0 : -1;
}

/* Plays a script's bytes, fds and end of file on a blocking socket. */
int play(int sock, const bi_script *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const bi_op *op = &s->ops[i];
        int rc = 0;
        if (op->kind == BI_BYTES)
            rc = vt_write_all(sock, op->bytes.p, op->bytes.len);
        else if (op->kind == BI_FD)
            rc = send_fds(sock, &op->bytes, op->arg);
        else if (op->kind == BI_EOF)
            rc = shutdown(sock, SHUT_WR);
        else
            rc = -1; /* tick() means nothing on a socket */
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Reads what the socket has within timeout_ms into b; returns 1 on end of
 * file, 0 otherwise. */
int drain(int sock, vt_buf *b, int timeout_ms)
{
    struct pollfd p = { sock, POLLIN, 0 };
    while (poll(&p, 1, timeout_ms) > 0) {
        unsigned char tmp[65536];
        ssize_t n = recv(sock, tmp, sizeof tmp, MSG_DONTWAIT);
        if (n == 0)
            return 1;
        if (n < 0)
            return errno == EAGAIN ? 0 : 1;
        vt_buf_add(b, tmp, (size_t)n);
        timeout_ms = 0;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Transport and conn: a recording endpoint                                 */
/* ------------------------------------------------------------------------ */

typedef struct recorder {
    virtwire_transport *t;
    virtwire_transport_program *remote;
    vt_buf sent;
    int errs[16];
    int fatal[16];
    int with_hdr[16];
    size_t nerrs;
    int dispatched;
    int dead;
    uint64_t now;
} recorder;

static int rec_send(virtwire_transport *t, const struct iovec *iov, size_t niov, const int *fds,
                    size_t nfds, void *opaque)
{
    recorder *r = opaque;
    (void)t;
    (void)fds;
    (void)nfds;
    for (size_t i = 0; i < niov; i++)
        vt_buf_add(&r->sent, iov[i].iov_base, iov[i].iov_len);
    return 0;
}

static void rec_error(virtwire_transport *t, int code, const virNetMessageHeader *hdr, int fatal,
                      void *opaque)
{
    recorder *r = opaque;
    (void)t;
    if (r->nerrs < 16) {
        r->errs[r->nerrs] = code;
        r->fatal[r->nerrs] = fatal;
        r->with_hdr[r->nerrs] = hdr != NULL;
    }
    r->nerrs++;
}

static void rec_dead(virtwire_transport *t, void *opaque)
{
    (void)t;
    ((recorder *)opaque)->dead++;
}

static uint64_t rec_clock(void *opaque)
{
    return ((recorder *)opaque)->now;
}

static int rec_cb(virtwire_transport_program *p, const virtwire_transport_msg *m, void *opaque)
{
    (void)p;
    (void)m;
    ((recorder *)opaque)->dispatched++;
    return 0;
}

static const virtwire_transport_program_callbacks rec_prog_cbs = {
    sizeof rec_prog_cbs,
    rec_cb, rec_cb, rec_cb, rec_cb,
};

static size_t count_errors(const recorder *r, int fatal)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nerrs && i < 16; i++)
        n += r->fatal[i] == fatal;
    return n;
}

static int parse_role(const char *word, virtwire_transport_role *role)
{
    if (strncmp(word, "server", 6) == 0)
        *role = VIRTWIRE_TRANSPORT_SERVER;
    else if (strncmp(word, "client", 6) == 0)
        *role = VIRTWIRE_TRANSPORT_CLIENT;
    else
        return -1;
    return 0;
}

/* Registers the remote program, sends the client's first CALL (serial 0,
 * which REPLY cases answer) and applies the setup: "stream PROC",
 * "stream-sparse PROC", "stream-finished PROC" (our side has sent its
 * finish) or "keepalive INTERVAL COUNT".  Returns the keepalive count or 0. */
static int endpoint_setup(recorder *r, virtwire_transport_role role, const char *setup)
{
    if (virtwire_transport_register(r->t, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, &rec_prog_cbs,
                                    r, &r->remote) < 0)
        FAIL("register failed");
    if (role == VIRTWIRE_TRANSPORT_CLIENT)
        CHECK_MSG(virtwire_transport_send(r->remote, PROC_LIB_VERSION, VIR_NET_CALL, VIR_NET_OK, 0,
                                          NULL, 0, NULL, 0) == 0,
                  "the first call did not get serial 0");
    int kcount = 0;
    if (setup) {
        char what[32] = "";
        unsigned a = 0, b = 0;
        int n = sscanf(setup, "%31s %u %u", what, &a, &b);
        if (n >= 2 && strncmp(what, "stream", 6) == 0) {
            unsigned flags = strcmp(what, "stream-sparse") == 0 ? VIRTWIRE_STREAM_SPARSE : 0;
            CHECK_MSG(virtwire_transport_stream_open(r->remote, (int32_t)a, 0, flags) == 0,
                      "stream_open failed");
            if (strcmp(what, "stream-finished") == 0)
                CHECK_MSG(virtwire_transport_stream_finish(r->remote, (int32_t)a, 0) == 0,
                          "stream_finish failed");
        } else if (n == 3 && strcmp(what, "keepalive") == 0) {
            CHECK_MSG(virtwire_transport_keepalive_start(r->t, a, b) == 0,
                      "keepalive_start failed");
            kcount = (int)b;
        } else {
            FAIL("unknown setup \"%s\"", setup);
        }
    }
    vt_buf_free(&r->sent);
    return kcount;
}

/* virtwire_error_is_fatal() agrees with what the runtime did: a code that
 * ended the connection is fatal, unless it is one of the four that are
 * fatal in some places only; one that dropped a frame is not fatal. */
static void check_fatality(const expectation *e, int ended)
{
    int code = e->code;
    int sometimes = code == VIRTWIRE_EMSG_ROLE || code == VIRTWIRE_EFDS_MAX ||
                    code == VIRTWIRE_ESEND || code == VIRTWIRE_ENOMEM;
    if (ended && !sometimes)
        CHECK_MSG(virtwire_error_is_fatal(code), "%s ended the connection but is not fatal",
                  vt_error_name(code));
    if (!ended)
        CHECK_MSG(!virtwire_error_is_fatal(code), "%s dropped a frame but is fatal", vt_error_name(code));
}

/* The checks common to transport and conn cases once the input is in:
 * code is the first error returned. */
static void check_outcome(recorder *r, const expectation *e, int code, const char *mode)
{
    CHECK_MSG(r->dispatched == e->calls, "%s: %d callbacks, want %d", mode, r->dispatched,
              e->calls);
    if (state_is(e, "fatal") || state_is(e, "dropped") || state_is(e, "replied"))
        check_fatality(e, state_is(e, "fatal"));
    if (state_is(e, "fatal")) {
        CHECK_CODE(code, e->code, "the input's error");
        CHECK_MSG(count_errors(r, 0) == (size_t)e->drops, "%s: %zu non-fatal errors, want %d", mode,
                  count_errors(r, 0), e->drops);
        return;
    }
    CHECK_CODE(code, 0, "the input's error");
    CHECK_MSG(count_errors(r, 1) == 0, "%s: a fatal error was reported", mode);
    if (state_is(e, "dropped") || state_is(e, "replied")) {
        CHECK_MSG(count_errors(r, 0) == 1 && r->errs[0] == e->code && r->with_hdr[0],
                  "%s: on_error got %zu errors (first %s), want one %s with its header", mode,
                  r->nerrs, r->nerrs ? vt_error_name(r->errs[0]) : "none", vt_error_name(e->code));
    } else if (state_is(e, "ignored") || state_is(e, "pong")) {
        CHECK_MSG(e->code == 0, "state %s goes with code -", e->state);
        CHECK_MSG(r->nerrs == 0, "%s: on_error got %s, want nothing", mode,
                  vt_error_name(r->errs[0]));
    } else {
        FAIL("unknown state \"%s\"", e->state);
    }
    frame f[4];
    size_t rest;
    size_t nf = split_frames(&r->sent, f, 4, &rest);
    if (state_is(e, "replied")) {
        CHECK_MSG(nf == 1 && rest == 0, "%s: %zu frames sent, want 1 error reply", mode, nf);
        if (nf >= 1 && e->nargs >= 2)
            check_error_reply(&f[0], e->args[0], e->args[1]);
        else if (e->nargs < 2)
            FAIL("replied needs CODE \"MESSAGE\"");
    } else if (state_is(e, "pong")) {
        CHECK_MSG(r->sent.len == sizeof PONG && memcmp(r->sent.p, PONG, sizeof PONG) == 0,
                  "%s: sent %zu bytes, want exactly one PONG", mode, r->sent.len);
    } else {
        CHECK_MSG(r->sent.len == 0, "%s: sent %zu bytes (%zu frames), want nothing", mode,
                  r->sent.len, nf);
    }
}

/* ------------------------------------------------------------------------ */
/* Layer: transport                                                         */
/* ------------------------------------------------------------------------ */

static void run_transport_mode(const bcase *c, const expectation *e, const bi_script *s,
                               virtwire_transport_role role, int bytewise)
{
    const char *mode = bytewise ? "byte by byte" : "whole";
    recorder r;
    memset(&r, 0, sizeof r);
    r.now = 1000000;
    virtwire_transport_callbacks cbs = { sizeof cbs, rec_send, rec_error, rec_dead, rec_clock };
    if (virtwire_transport_new(role, &cbs, &r, &r.t) < 0) {
        FAIL("transport_new failed");
        return;
    }
    int kcount = endpoint_setup(&r, role, c->setup);

    int code = 0;
    for (size_t i = 0; i < s->n && code == 0; i++) {
        const bi_op *op = &s->ops[i];
        if (op->kind == BI_BYTES) {
            const unsigned char *p = op->bytes.p;
            size_t left = op->bytes.len;
            while (left && code == 0) {
                ssize_t n = virtwire_transport_receive(r.t, p, bytewise ? 1 : left);
                if (n < 0)
                    code = (int)n;
                else if (n == 0)
                    FAIL("%s: receive consumed nothing", mode), code = 1;
                else {
                    p += n;
                    left -= (size_t)n;
                }
            }
        } else if (op->kind == BI_FD) {
            if (op->bytes.len != 1 || op->arg != 1)
                FAIL("the transport takes fd() alone");
            code = virtwire_transport_receive_fd(r.t, watched_fd());
        } else if (op->kind == BI_TICK) {
            r.now += op->arg;
            code = virtwire_transport_keepalive_tick(r.t);
        } else {
            FAIL("eof() means nothing to the transport");
        }
    }
    check_outcome(&r, e, code, mode);

    int before = r.dispatched;
    vt_buf good = { 0 };
    good_frame(role, &good, 77);
    ssize_t n = virtwire_transport_receive(r.t, good.p, good.len);
    if (state_is(e, "fatal")) {
        /* Latched: the same code for everything, nothing dispatched. */
        CHECK_CODE(virtwire_transport_error(r.t), e->code, "transport_error()");
        CHECK_CODE(n, e->code, "receive() after the error");
        CHECK_CODE(virtwire_transport_receive_fd(r.t, watched_fd()), e->code,
                   "receive_fd() after the error");
        CHECK_MSG(virtwire_transport_need(r.t).kind == VIRTWIRE_NEED_NOTHING,
                  "%s: need() is not NOTHING after a fatal error", mode);
        CHECK_MSG(r.dispatched == before, "%s: a frame was dispatched after the fatal error", mode);
        CHECK_MSG(count_errors(&r, 1) == 1 && r.errs[e->drops] == e->code,
                  "%s: on_error reported %zu fatal errors, want one %s", mode, count_errors(&r, 1),
                  vt_error_name(e->code));
        if (e->code == VIRTWIRE_EKEEPALIVE) {
            CHECK_MSG(r.dead == 1, "%s: on_keepalive_dead ran %d times", mode, r.dead);
            CHECK_MSG(r.sent.len == (size_t)kcount * 28, "%s: %zu bytes of PINGs, want %d PINGs",
                      mode, r.sent.len, kcount);
        }
        check_watched_closed("after the fatal error");
    } else {
        /* The next good frame is processed. */
        CHECK_CODE(n < 0 ? n : 0, 0, "receive() of a good frame after the bad input");
        CHECK_MSG(r.dispatched == before + 1, "%s: the good frame after the bad input was not "
                  "dispatched", mode);
        CHECK_MSG(virtwire_transport_need(r.t).kind == VIRTWIRE_NEED_BYTES,
                  "%s: need() is not BYTES", mode);
        check_watched_closed("after the frame was handled");
    }
    vt_buf_free(&good);
    virtwire_transport_free(r.t);
    check_watched_closed("after virtwire_transport_free()");
    watch_clear();
    vt_buf_free(&r.sent);
}

static void run_transport(const bcase *c, const expectation *e)
{
    virtwire_transport_role role;
    if (parse_role(c->role, &role) < 0) {
        FAIL("role must be server or client");
        return;
    }
    bi_script s;
    if (compile_input(c, &s, NULL) < 0)
        return;
    run_transport_mode(c, e, &s, role, 0);
    run_transport_mode(c, e, &s, role, 1);
    bi_script_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Layer: conn                                                              */
/* ------------------------------------------------------------------------ */

/* A connected TCP pair over the loopback interface. */
static int tcp_pair(int sv[2])
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &al) < 0)
        return -1;
    sv[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sv[1] < 0 || connect(sv[1], (struct sockaddr *)&a, sizeof a) < 0)
        return -1;
    sv[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    close(l);
    return sv[0] < 0 ? -1 : 0;
}

/* Processes until the socket is quiet for a while or an error comes. */
static int conn_pump(virtwire_conn *conn)
{
    int rc = virtwire_conn_process(conn, 0);
    for (int i = 0; i < 50 && rc == 0; i++) {
        struct pollfd p = { virtwire_conn_fd(conn), POLLIN, 0 };
        if (poll(&p, 1, 20) <= 0)
            break;
        rc = virtwire_conn_process(conn, p.revents);
    }
    return rc;
}

static void run_conn(const bcase *c, const expectation *e)
{
    virtwire_transport_role role;
    char kind[16] = "";
    if (parse_role(c->role, &role) < 0 || sscanf(c->role, "%*s %15s", kind) != 1 ||
        (strcmp(kind, "unix") && strcmp(kind, "tcp"))) {
        FAIL("role must be \"server|client unix|tcp\"");
        return;
    }
    int is_unix = strcmp(kind, "unix") == 0;
    bi_script s;
    if (compile_input(c, &s, NULL) < 0)
        return;
    int sv[2];
    if (is_unix ? vt_socketpair(sv, SOCK_CLOEXEC) : tcp_pair(sv)) {
        FAIL("cannot make a socket pair: %s", strerror(errno));
        bi_script_free(&s);
        return;
    }
    recorder r;
    memset(&r, 0, sizeof r);
    r.now = 1000000;
    virtwire_transport_callbacks cbs = { sizeof cbs, NULL, rec_error, rec_dead, rec_clock };
    virtwire_conn *conn;
    if (virtwire_conn_adopt(sv[0], is_unix, role, &cbs, &r, &conn) < 0) {
        FAIL("conn_adopt failed");
        close(sv[1]);
        bi_script_free(&s);
        return;
    }
    r.t = virtwire_conn_transport(conn);
    endpoint_setup(&r, role, c->setup);
    vt_buf junk = { 0 };
    if (role == VIRTWIRE_TRANSPORT_CLIENT)
        drain(sv[1], &junk, 100); /* the first CALL */
    vt_buf_free(&junk);

    CHECK_MSG(play(sv[1], &s) == 0, "the peer could not send the input: %s", strerror(errno));
    int code = conn_pump(conn);
    check_cloexec("after the input");
    vt_buf seen = { 0 };
    drain(sv[1], &seen, 0);
    r.sent = seen; /* what the peer got is what the transport sent */
    check_outcome(&r, e, code, is_unix ? "unix" : "tcp");
    r.sent = (vt_buf){ 0 };

    int before = r.dispatched;
    vt_buf good = { 0 };
    good_frame(role, &good, 77);
    vt_write_all(sv[1], good.p, good.len);
    int rc = conn_pump(conn);
    if (state_is(e, "fatal")) {
        CHECK_CODE(rc, e->code, "process() after the error (sticky)");
        CHECK_MSG(virtwire_conn_events(conn) == 0, "events() is not 0 after a fatal error");
        CHECK_MSG(r.dispatched == before, "a frame was dispatched after the fatal error");
    } else {
        CHECK_CODE(rc, 0, "process() of a good frame after the bad input");
        CHECK_MSG(r.dispatched == before + 1, "the good frame after the bad input was not "
                  "dispatched");
        check_watched_closed("after the frame was handled");
    }
    vt_buf_free(&seen);
    vt_buf_free(&good);
    virtwire_conn_free(conn);
    close(sv[1]);
    check_watched_closed("after virtwire_conn_free()");
    watch_clear();
    bi_script_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Layer: payload                                                           */
/* ------------------------------------------------------------------------ */

static const virtwire_protocol *const protocols[] = {
    &virtwire_module_remote_protocol,       &virtwire_module_virnetprotocol,
    &virtwire_module_qemu_protocol,         &virtwire_module_lxc_protocol,
    &virtwire_module_admin_protocol,        &virtwire_module_virkeepaliveprotocol,
    &virtwire_module_lock_protocol,         &virtwire_module_log_protocol,
};

static const virtwire_type *find_type(const char *name)
{
    for (size_t i = 0; i < sizeof protocols / sizeof protocols[0]; i++) {
        const virtwire_type *t = virtwire_protocol_find_type(protocols[i], name);
        if (t)
            return t;
    }
    return NULL;
}

/* virtwire_decode() with decoder flags. */
static int decode_flags(const virtwire_type *t, const void *buf, size_t len, virtwire_arena *a,
                        void *v, unsigned flags)
{
    if (!flags)
        return virtwire_decode(t, buf, len, a, v);
    memset(v, 0, t->size);
    virtwire_dec d;
    virtwire_dec_init(&d, buf, len, a);
    d.flags = flags;
    int rc = t->decode(&d, v);
    if (rc == 0 && d.p != d.end)
        rc = VIRTWIRE_ETRAILING;
    if (rc < 0 && !a)
        t->free(v);
    return rc;
}

static void run_payload(const bcase *c, const expectation *e)
{
    const virtwire_type *t = find_type(c->role);
    if (!t) {
        FAIL("unknown type \"%s\"", c->role);
        return;
    }
    static const struct {
        const char *name;
        unsigned flags;
    } setups[] = {
        { "strict", VIRTWIRE_DEC_STRICT },
        { "strict-padding", VIRTWIRE_DEC_STRICT_PADDING },
        { "strict-enum", VIRTWIRE_DEC_STRICT_ENUM },
        { "strict-bool", VIRTWIRE_DEC_STRICT_BOOL },
    };
    unsigned flags = 0;
    if (c->setup) {
        size_t i = 0;
        while (i < sizeof(setups) / sizeof(setups[0]) && strcmp(c->setup, setups[i].name) != 0)
            i++;
        if (i == sizeof(setups) / sizeof(setups[0]))
            FAIL("unknown setup \"%s\"", c->setup);
        else
            flags = setups[i].flags;
    }
    bi_script s;
    vt_buf in = { 0 };
    if (compile_input(c, &s, &in) < 0)
        return;
    /* An exact-size copy, so that the sanitizers see any read past it. */
    unsigned char *exact = malloc(in.len ? in.len : 1);
    memcpy(exact, in.p ? in.p : (unsigned char *)"", in.len);
    void *v = malloc(t->size ? t->size : 1);

    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    int rc = decode_flags(t, exact, in.len, &a, v, flags);
    CHECK_CODE(rc, e->code, "decode into an arena");
    if (state_is(e, "rejected-noalloc"))
        CHECK_MSG(a.allocs == 0, "the arena allocated %zu blocks before rejecting the input",
                  a.allocs);
    virtwire_arena_fini(&a);

    rc = decode_flags(t, exact, in.len, NULL, v, flags);
    CHECK_CODE(rc, e->code, "decode on the heap");
    if (rc == 0)
        t->free(v);

    if (state_is(e, "accepted"))
        CHECK_MSG(e->code == 0, "accepted goes with code -");
    else if (!state_is(e, "rejected") && !state_is(e, "rejected-noalloc"))
        FAIL("unknown state \"%s\"", e->state);
    free(v);
    free(exact);
    vt_buf_free(&in);
    bi_script_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Layer: uri                                                               */
/* ------------------------------------------------------------------------ */

static int env_exists(const char *path, void *opaque)
{
    (void)path;
    (void)opaque;
    return 0;
}

static const char *env_getenv(const char *name, void *opaque)
{
    (void)name;
    (void)opaque;
    return NULL;
}

/* The case's input as a C string (its bytes in *in, NUL-terminated);
 * NULL after a failed check. */
static const char *input_text(const bcase *c, bi_script *s, vt_buf *in)
{
    if (compile_input(c, s, in) < 0)
        return NULL;
    vt_buf_add(in, "", 0); /* NUL-terminated */
    return (const char *)in->p;
}

static void run_uri(const bcase *c, const expectation *e)
{
    bi_script s;
    vt_buf in = { 0 };
    const char *text = input_text(c, &s, &in);
    if (!text)
        return;
    CHECK_MSG(strlen(text) == in.len, "a URI cannot hold a NUL byte");
    const char *act = c->role;
    int rc;
    if (strcmp(act, "parse") == 0) {
        virtwire_uri *u = (virtwire_uri *)1;
        rc = virtwire_uri_parse(text, &u);
        CHECK_MSG(rc == 0 || u == NULL, "a failed parse left *out set");
        virtwire_uri_free(rc == 0 ? u : NULL);
    } else if (strncmp(act, "socket", 6) == 0) {
        unsigned flags = strcmp(act, "socket-ro") == 0      ? VIRTWIRE_URI_READONLY
                         : strcmp(act, "socket-admin") == 0 ? VIRTWIRE_URI_ADMIN
                                                            : 0;
        virtwire_uri *u;
        rc = virtwire_uri_parse(text, &u);
        CHECK_CODE(rc, 0, "parsing the URI");
        if (rc == 0) {
            virtwire_uri_env env = { sizeof env, env_exists, env_getenv, NULL, NULL };
            char path[256];
            rc = virtwire_uri_socket_path_env(u, flags, &env, path, sizeof path);
            virtwire_uri_free(u);
        }
    } else if (strncmp(act, "connect", 7) == 0) {
        unsigned flags = strcmp(act, "connect-admin") == 0 ? VIRTWIRE_URI_ADMIN : 0;
        virtwire_conn *conn = (virtwire_conn *)1;
        rc = virtwire_conn_connect_uri(text, flags, VIRTWIRE_TRANSPORT_CLIENT, NULL, NULL, &conn);
        CHECK_MSG(rc == 0 || conn == NULL, "a failed connect left *out set");
        if (rc == 0)
            virtwire_conn_free(conn);
    } else if (strcmp(act, "client") == 0) {
        virtwire_client *cl = (virtwire_client *)1;
        rc = virtwire_client_connect(text, NULL, &cl);
        CHECK_MSG(rc == 0 || cl == NULL, "a failed connect left *out set");
        if (rc == 0)
            virtwire_client_close(cl);
    } else {
        FAIL("unknown uri action \"%s\"", act);
        rc = 0;
    }
    CHECK_CODE(rc, e->code, act);
    CHECK_MSG(state_is(e, "rejected"), "the uri layer's state is rejected");
    vt_buf_free(&in);
    bi_script_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Layer: libvirt                                                           */
/* ------------------------------------------------------------------------ */

/* uuid: virtwire_uuid_parse() of the input text.  rejected: it returns
 * CODE; accepted: it returns 0, and what virtwire_uuid_format() makes of
 * the 16 bytes parses back to them. */
static void run_libvirt(const bcase *c, const expectation *e)
{
    bi_script s;
    vt_buf in = { 0 };
    const char *input = input_text(c, &s, &in);
    if (!input)
        return;
    if (strcmp(c->role, "uuid") != 0) {
        FAIL("unknown libvirt action \"%s\"", c->role);
    } else {
        char uuid[16], again[16], text[VIRTWIRE_UUID_STRING_BUFLEN];
        int rc = virtwire_uuid_parse(input, uuid);
        CHECK_CODE(rc, e->code, "virtwire_uuid_parse");
        if (state_is(e, "accepted")) {
            CHECK(rc == 0 && virtwire_uuid_parse(virtwire_uuid_format(uuid, text), again) == 0 &&
                  memcmp(uuid, again, 16) == 0);
        } else {
            CHECK_MSG(state_is(e, "rejected"), "the libvirt layer's states: rejected, accepted");
        }
    }
    vt_buf_free(&in);
    bi_script_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Layer: client                                                            */
/* ------------------------------------------------------------------------ */

typedef struct fake_daemon {
    int sock;
    const char *input;
    int usable;         /* answer a second call properly */
    int eof;            /* the client closed the connection (atomic) */
    char err[256];
} fake_daemon;

/* Reads one whole frame (blocking, 5 s at most). */
int read_frame(int sock, vt_buf *b, frame *f)
{
    uint64_t deadline = vt_now_ms() + 5000;
    for (;;) {
        size_t rest;
        if (split_frames(b, f, 1, &rest) == 1)
            return 0;
        uint64_t now = vt_now_ms();
        struct pollfd p = { sock, POLLIN, 0 };
        if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0)
            return -1;
        unsigned char tmp[4096];
        ssize_t n = recv(sock, tmp, sizeof tmp, 0);
        if (n <= 0)
            return -1;
        vt_buf_add(b, tmp, (size_t)n);
    }
}

void consume(vt_buf *b, size_t n)
{
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static void *fake_daemon_main(void *arg)
{
    fake_daemon *d = arg;
    vt_buf in = { 0 };
    frame f;
    if (read_frame(d->sock, &in, &f) < 0) {
        snprintf(d->err, sizeof d->err, "the client's call never came");
        goto out;
    }
    uint32_t serial = f.hdr.serial;
    consume(&in, f.len + 28);
    bi_script s;
    if (bi_compile(d->input, serial, &s, d->err, sizeof d->err) < 0)
        goto out;
    if (play(d->sock, &s) < 0)
        snprintf(d->err, sizeof d->err, "could not send the input: %s", strerror(errno));
    bi_script_free(&s);
    if (d->usable && !d->err[0]) {
        if (read_frame(d->sock, &in, &f) < 0) {
            snprintf(d->err, sizeof d->err, "the second call never came");
            goto out;
        }
        vt_buf r = { 0 };
        vt_buf_u32(&r, 36);
        vt_buf_u32(&r, REMOTE_PROGRAM);
        vt_buf_u32(&r, REMOTE_PROTOCOL_VERSION);
        vt_buf_u32(&r, (uint32_t)f.hdr.proc);
        vt_buf_u32(&r, VIR_NET_REPLY);
        vt_buf_u32(&r, f.hdr.serial);
        vt_buf_u32(&r, VIR_NET_OK);
        vt_buf_u64(&r, LIB_VERSION);
        consume(&in, f.len + 28);
        vt_write_all(d->sock, r.p, r.len);
        vt_buf_free(&r);
    }
    /* Until the client closes the connection. */
    vt_buf rest = { 0 };
    uint64_t deadline = vt_now_ms() + 10000;
    while (!drain(d->sock, &rest, 100) && vt_now_ms() < deadline)
        ;
    __atomic_store_n(&d->eof, 1, __ATOMIC_SEQ_CST);
    vt_buf_free(&rest);
out:
    vt_buf_free(&in);
    return NULL;
}

static int events_seen;

static void run_client(const bcase *c, const expectation *e)
{
    int32_t proc;
    if (strcmp(c->role, "lib_version") == 0)
        proc = PROC_LIB_VERSION;
    else if (strcmp(c->role, "hostname") == 0)
        proc = PROC_HOSTNAME;
    else {
        FAIL("role must be lib_version or hostname");
        return;
    }
    int usable = state_is(e, "usable");
    if (!usable && !state_is(e, "closed")) {
        FAIL("state must be usable or closed REASON");
        return;
    }
    int reason = 0;
    if (!usable && (e->nargs != 1 || code_by_name(e->args[0], &reason) < 0)) {
        FAIL("closed needs the reason code");
        return;
    }
    bi_script s;
    if (compile_input(c, &s, NULL) < 0)
        return;
    bi_script_free(&s);

    int sv[2];
    if (vt_socketpair(sv, SOCK_CLOEXEC) < 0) {
        FAIL("socketpair: %s", strerror(errno));
        return;
    }
    virtwire_client_options o = { .size = sizeof o, .flags = VIRTWIRE_CLIENT_NO_OPEN, .call_timeout_ms = 5000 };
    virtwire_client *cl;
    int rc = virtwire_client_adopt(sv[0], 1, &o, &cl);
    if (rc < 0) {
        FAIL("client_adopt: %s", vt_error_name(rc));
        close(sv[1]);
        return;
    }
    events_seen = 0;
    int want_fds = 0;
    if (c->setup && strcmp(c->setup, "event") == 0)
        CHECK_MSG(virtwire_client_on_event(cl, &remote_program, PROC_LIFECYCLE, vt_count_event,
                                            &events_seen) > 0,
                  "on_event failed");
    else if (c->setup && strcmp(c->setup, "ret-fds") == 0)
        want_fds = 1;
    else if (c->setup)
        FAIL("unknown setup \"%s\"", c->setup);

    fake_daemon d = { sv[1], c->input, usable, 0, "" };
    pthread_t th;
    pthread_create(&th, NULL, fake_daemon_main, &d);

    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    union {
        remote_connect_get_lib_version_ret v;
        remote_connect_get_hostname_ret h;
    } ret;
    int ret_fds[4];
    virtwire_call_opts co = { .size = sizeof co, .arena = &arena };
    if (want_fds) {
        co.ret_fds = ret_fds;
        co.ret_fds_max = 4;
    }
    rc = virtwire_client_call(cl, &remote_program, proc, NULL, &ret, &co);
    CHECK_CODE(rc, e->code, "the call");
    CHECK_MSG(co.nret_fds == (size_t)e->fds, "the call handed over %zu fds, want %d", co.nret_fds,
              e->fds);
    size_t nret_fds = co.nret_fds;

    remote_connect_get_lib_version_ret v = { 0 };
    co = (virtwire_call_opts){ .size = sizeof(virtwire_call_opts), .arena = &arena };
    int rc2 = virtwire_client_call(cl, &remote_program, PROC_LIB_VERSION, NULL, &v, &co);
    if (usable) {
        CHECK_CODE(virtwire_client_error(cl), 0, "client_error() after the bad input");
        CHECK_CODE(rc2, 0, "a second call");
        CHECK_MSG(rc2 != 0 || v.lib_ver == LIB_VERSION, "the second call got %llu",
                  (unsigned long long)v.lib_ver);
    } else {
        CHECK_CODE(virtwire_client_error(cl), reason, "client_error()");
        CHECK_CODE(rc2, VIRTWIRE_ECLOSED, "a call after the connection died");
        /* The daemon sees the connection closed before the application
         * closes the client, as with libvirt. */
        uint64_t deadline = vt_now_ms() + 2000;
        while (!__atomic_load_n(&d.eof, __ATOMIC_SEQ_CST) && vt_now_ms() < deadline)
            usleep(1000);
        CHECK_MSG(__atomic_load_n(&d.eof, __ATOMIC_SEQ_CST),
                  "the daemon's end is still open after the connection died");
    }
    check_cloexec("while the client is open");
    for (size_t i = 0; i < nret_fds; i++)
        close(ret_fds[i]);
    virtwire_client_close(cl);
    pthread_join(th, NULL);
    CHECK_MSG(!d.err[0], "fake daemon: %s", d.err);
    CHECK_MSG(events_seen == e->events, "%d events delivered, want %d", events_seen, e->events);
    virtwire_arena_fini(&arena);
    close(sv[1]);
    check_watched_closed("after virtwire_client_close()");
    watch_clear();
}

/* ------------------------------------------------------------------------ */
/* Layer: child                                                             */
/* ------------------------------------------------------------------------ */

/* Writes len bytes to a new file at path (mode). */
static int write_file(const char *path, const void *p, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    int rc = vt_write_all(fd, p, len);
    close(fd);
    return rc < 0 ? -1 : 0;
}

/*
 * The command of an ssh or ext URI, scripted: a shell script that writes
 * the setup's text on its standard error, the input on its standard
 * output, then waits for end of file on its standard input (setup wait)
 * or exits (setup exit N; 0 by default).  virtwire_client_connect() runs
 * it as the ssh binary (?command= of test+ssh://) or the ext command.
 */
static void run_child(const bcase *c, const expectation *e)
{
    int ssh = strcmp(c->role, "ssh") == 0;
    if (!ssh && strcmp(c->role, "ext") != 0) {
        FAIL("role must be ssh or ext");
        return;
    }
    if (!state_is(e, "failed") || e->nargs != 1) {
        FAIL("state must be failed \"MESSAGE\"");
        return;
    }
    bi_script s;
    vt_buf in = { 0 }, errtext = { 0 };
    if (compile_input(c, &s, &in) < 0)
        return;
    bi_script_free(&s);

    /* Setup: stderr TEXT, stderr-fill N (N bytes before TEXT), exit N,
     * wait, timeout MS. */
    int status = 0, wait_eof = 0, timeout_ms = 5000;
    char setup[1024] = "";
    char *w[MAX_WORDS];
    size_t nw = 0;
    if (c->setup) {
        snprintf(setup, sizeof setup, "%s", c->setup);
        nw = split_words(setup, w, MAX_WORDS);
    }
    for (size_t i = 0; i < nw; i++) {
        if (strcmp(w[i], "wait") == 0) {
            wait_eof = 1;
        } else if (i + 1 < nw && strcmp(w[i], "exit") == 0) {
            status = atoi(w[++i]);
        } else if (i + 1 < nw && strcmp(w[i], "timeout") == 0) {
            timeout_ms = atoi(w[++i]);
        } else if (i + 1 < nw && strcmp(w[i], "stderr-fill") == 0) {
            for (int n = atoi(w[++i]); n > 0; n--)
                vt_buf_add(&errtext, n % 64 ? "x" : "\n", 1);
        } else if (i + 1 < nw && strcmp(w[i], "stderr") == 0) {
            /* The text with the input language's escapes (\n, \xHH). */
            char quoted[1024];
            snprintf(quoted, sizeof quoted, "\"%s\"", w[++i]);
            bi_script t;
            char err[256] = "";
            if (bi_compile(quoted, 0, &t, err, sizeof err) < 0 ||
                bi_script_bytes(&t, &errtext) < 0)
                FAIL("setup stderr: %s", err);
            else
                bi_script_free(&t);
        } else {
            FAIL("unknown setup \"%s\"", w[i]);
            vt_buf_free(&in);
            vt_buf_free(&errtext);
            return;
        }
    }

    char out_path[256], err_path[256], script[256], text[1024];
    vt_path(out_path, sizeof out_path, "child.out");
    vt_path(err_path, sizeof err_path, "child.err");
    vt_path(script, sizeof script, "child.sh");
    snprintf(text, sizeof text, "#!/bin/sh\ncat '%s' >&2\ncat '%s'\n%sexit %d\n", err_path,
             out_path, wait_eof ? "cat >/dev/null\n" : "", status);
    if (write_file(out_path, in.p, in.len, 0600) < 0 ||
        write_file(err_path, errtext.p, errtext.len, 0600) < 0 ||
        write_file(script, text, strlen(text), 0700) < 0) {
        FAIL("writing the script: %s", strerror(errno));
        vt_buf_free(&in);
        vt_buf_free(&errtext);
        return;
    }
    char uri[512];
    if (ssh)
        snprintf(uri, sizeof uri, "test+ssh://vwtest.invalid/default?command=%s", script);
    else
        snprintf(uri, sizeof uri, "test+ext:///default?command=%s", script);

    char why[1024] = "";
    virtwire_client_options o = { .size = sizeof o, .open_timeout_ms = timeout_ms,
                                  .errbuf = why, .errbuf_len = sizeof why };
    virtwire_client *cl = (virtwire_client *)1;
    uint64_t t = vt_now_ms();
    int rc = virtwire_client_connect(uri, &o, &cl);
    uint64_t took = vt_now_ms() - t;
    CHECK_CODE(rc, e->code, "connecting");
    CHECK_MSG(rc == 0 || cl == NULL, "a failed connect left *out set");
    if (rc == 0 && cl)
        virtwire_client_close(cl);
    CHECK_MSG(strstr(why, e->args[0]) != NULL, "errbuf \"%s\" lacks \"%s\"", why, e->args[0]);
    CHECK_MSG(strlen(why) < sizeof why - 1 || errtext.len < sizeof why,
              "errbuf is full: what the child wrote is not bounded");
    CHECK_MSG(took < (uint64_t)timeout_ms + 3000, "connecting took %llu ms",
              (unsigned long long)took);
    /* The child is gone and reaped: no zombie, nothing running. */
    int st;
    errno = 0;
    pid_t left = waitpid(-1, &st, WNOHANG);
    CHECK_MSG(left < 0 && errno == ECHILD, "a child process is left (waitpid: %d)", (int)left);
    check_cloexec("after the failed connect");
    unlink(out_path);
    unlink(err_path);
    unlink(script);
    vt_buf_free(&in);
    vt_buf_free(&errtext);
}

/* ------------------------------------------------------------------------ */
/* Layer: session                                                           */
/* ------------------------------------------------------------------------ */

#define PROC_OPEN 1             /* REMOTE_PROC_CONNECT_OPEN */
#define PROC_SUPPORTS_FEATURE 60 /* REMOTE_PROC_CONNECT_SUPPORTS_FEATURE */
#define PROC_AUTH_LIST 66       /* REMOTE_PROC_AUTH_LIST */
#define PROC_AUTH_POLKIT 70     /* REMOTE_PROC_AUTH_POLKIT */

/* A daemon on a unix socket that answers the open handshake: the input
 * answers one procedure (its first call), everything else gets a proper
 * reply. */
typedef struct session_daemon {
    int lfd;
    const char *input;
    int32_t input_proc; /* the procedure the input answers */
    int polkit_listed;  /* AUTH_LIST, when the input does not answer it */
    int saw_open;       /* CONNECT_OPEN came */
    int eof;            /* the client closed the connection */
    char err[256];
} session_daemon;

static void session_reply(int sock, const frame *f, const vt_buf *payload)
{
    vt_buf r = { 0 };
    vt_buf_u32(&r, 28 + (uint32_t)payload->len);
    vt_buf_u32(&r, f->hdr.prog);
    vt_buf_u32(&r, f->hdr.vers);
    vt_buf_u32(&r, (uint32_t)f->hdr.proc);
    vt_buf_u32(&r, VIR_NET_REPLY);
    vt_buf_u32(&r, f->hdr.serial);
    vt_buf_u32(&r, VIR_NET_OK);
    vt_buf_add(&r, payload->p, payload->len);
    vt_write_all(sock, r.p, r.len);
    vt_buf_free(&r);
}

static void *session_daemon_main(void *arg)
{
    session_daemon *d = arg;
    int sock = vt_accept(d->lfd, 5000);
    if (sock < 0) {
        snprintf(d->err, sizeof d->err, "the client never connected");
        return NULL;
    }
    vt_buf in = { 0 };
    frame f;
    int played = 0;
    while (read_frame(sock, &in, &f) == 0) {
        vt_buf payload = { 0 };
        if (f.hdr.prog != REMOTE_PROGRAM) {
            /* keepalive: nothing to answer */
        } else if (f.hdr.proc == d->input_proc && !played) {
            played = 1;
            bi_script s;
            if (bi_compile(d->input, f.hdr.serial, &s, d->err, sizeof d->err) == 0) {
                if (play(sock, &s) < 0)
                    snprintf(d->err, sizeof d->err, "could not send the input: %s",
                             strerror(errno));
                bi_script_free(&s);
            }
        } else {
            if (f.hdr.proc == PROC_AUTH_LIST) {
                vt_buf_u32(&payload, 1);
                vt_buf_u32(&payload, d->polkit_listed ? REMOTE_AUTH_POLKIT : REMOTE_AUTH_NONE);
            } else if (f.hdr.proc == PROC_AUTH_POLKIT || f.hdr.proc == PROC_SUPPORTS_FEATURE) {
                vt_buf_u32(&payload, f.hdr.proc == PROC_AUTH_POLKIT); /* complete, supported */
            } else if (f.hdr.proc == PROC_OPEN) {
                d->saw_open = 1;
            }
            session_reply(sock, &f, &payload);
        }
        vt_buf_free(&payload);
        consume(&in, f.len + 28);
    }
    /* read_frame() gives up at end of file or after 5 s of silence. */
    char b;
    d->eof = recv(sock, &b, 1, MSG_DONTWAIT) == 0;
    vt_buf_free(&in);
    close(sock);
    return NULL;
}

static void run_session(const bcase *c, const expectation *e)
{
    session_daemon d = { .input = c->input };
    if (strcmp(c->role, "list") == 0) {
        d.input_proc = PROC_AUTH_LIST;
    } else if (strcmp(c->role, "polkit") == 0) {
        d.input_proc = PROC_AUTH_POLKIT;
        d.polkit_listed = 1;
    } else {
        FAIL("role must be list or polkit");
        return;
    }
    int opened = state_is(e, "opened");
    if (!opened && !(state_is(e, "refused") && e->nargs == 1)) {
        FAIL("state must be opened or refused \"MESSAGE\"");
        return;
    }
    const char *auth = NULL;
    if (c->setup && strncmp(c->setup, "auth ", 5) == 0)
        auth = c->setup + 5;
    else if (c->setup)
        FAIL("unknown setup \"%s\"", c->setup);
    bi_script s;
    if (compile_input(c, &s, NULL) < 0)
        return;
    bi_script_free(&s);

    char path[108], uri[256];
    vt_path(path, sizeof path, "session.sock");
    snprintf(uri, sizeof uri, "test+unix:///default?socket=%s%s%s", path, auth ? "&auth=" : "",
             auth ? auth : "");
    d.lfd = vt_listen_unix(path);
    pthread_t th;
    pthread_create(&th, NULL, session_daemon_main, &d);

    char errbuf[512] = "";
    virtwire_client_options o = { .size = sizeof o, .open_timeout_ms = 5000, .errbuf = errbuf,
                                  .errbuf_len = sizeof errbuf };
    virtwire_client *cl = (virtwire_client *)1;
    int rc = virtwire_client_connect(uri, &o, &cl);
    CHECK_CODE(rc, e->code, "virtwire_client_connect()");
    if (opened) {
        CHECK_MSG(rc != 0 || cl != NULL, "connected without a client");
        if (rc == 0) {
            check_cloexec("while the client is open");
            virtwire_client_close(cl);
        }
    } else {
        CHECK_MSG(cl == NULL, "a failed connect left a client");
        CHECK_MSG(strcmp(errbuf, e->args[0]) == 0, "errbuf \"%s\", want \"%s\"", errbuf,
                  e->args[0]);
    }
    pthread_join(th, NULL);
    CHECK_MSG(!d.err[0], "session daemon: %s", d.err);
    CHECK_MSG(d.saw_open == opened, "CONNECT_OPEN %s", d.saw_open ? "sent" : "never sent");
    CHECK_MSG(d.eof, "the client did not close the connection");
    close(d.lfd);
    unlink(path);
}

/* ------------------------------------------------------------------------ */
/* Layer: server                                                            */
/* ------------------------------------------------------------------------ */

static int stream_data_seen;
int server_close_reason;

void server_on_close(virtwire_server_client *c, void *opaque)
{
    (void)opaque;
    server_close_reason = virtwire_server_client_error(c);
}

int server_h_lib_version(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    ((remote_connect_get_lib_version_ret *)call->ret)->lib_ver = LIB_VERSION;
    return 0;
}

static int h_lookup(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    const remote_domain_lookup_by_name_args *a = call->args;
    remote_domain_lookup_by_name_ret *r = call->ret;
    r->dom.name = (char *)a->name;
    r->dom.id = 1;
    return 0;
}

static int up_data(virtwire_server_stream *s, const void *data, size_t len, void *opaque)
{
    (void)s;
    (void)data;
    (void)len;
    (void)opaque;
    stream_data_seen++;
    return 0;
}

static int up_hole(virtwire_server_stream *s, int64_t length, void *opaque)
{
    (void)s;
    (void)length;
    (void)opaque;
    stream_data_seen++;
    return 0;
}

static int h_upload(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    const remote_storage_vol_upload_args *a = call->args;
    static const virtwire_server_stream_callbacks cbs = { .size = sizeof cbs, .on_data = up_data,
                                                           .on_hole = up_hole };
    return virtwire_server_call_stream(call, (a->flags & 1) != 0, &cbs, NULL) ? 0 : -1;
}

/* Runs the server until the peer has n frames or end of file, or for
 * `rounds` rounds; collects what the peer gets in b.  Returns 1 at end of
 * file. */
int compile_input(const bcase *c, bi_script *s, vt_buf *in)
{
    char err[256] = "";
    if (bi_compile(c->input, 0, s, err, sizeof err) < 0 || (in && bi_script_bytes(s, in) < 0)) {
        FAIL("input: %s", err);
        return -1;
    }
    return 0;
}

int check_server_verdict(const expectation *e, virtwire_server *srv, const vt_buf *got, int eof,
                         int close_reason)
{
    size_t want = (size_t)e->after + (state_is(e, "replied") ? 1 : 0);
    frame f[8];
    size_t rest;
    size_t nf = split_frames(got, f, 8, &rest);
    for (size_t i = 0; i < nf && i < (size_t)e->after; i++)
        CHECK_MSG(f[i].hdr.status == VIR_NET_OK, "frame %zu the peer got has status %d", i + 1,
                  f[i].hdr.status);
    if (state_is(e, "replied")) {
        CHECK_MSG(nf == want && rest == 0 && !eof, "the peer got %zu frames%s, want %zu", nf,
                  eof ? " and end of file" : "", want);
        if (e->nargs < 2)
            FAIL("replied needs CODE \"MESSAGE\"");
        else if (nf >= want)
            check_error_reply(&f[want - 1], e->args[0], e->args[1]);
    } else if (state_is(e, "silent")) {
        CHECK_MSG(nf == want && rest == 0 && !eof, "the peer got %zu frames%s, want %zu", nf,
                  eof ? " and end of file" : "", want);
    } else if (state_is(e, "closed")) {
        CHECK_MSG(eof && nf == want, "the peer got %zu frames and %s, want %zu and end of file", nf,
                  eof ? "end of file" : "no end of file", want);
        CHECK_MSG(virtwire_server_nclients(srv) == 0, "the server still has the client");
        CHECK_CODE(close_reason, e->code, "virtwire_server_client_error()");
        return 0;
    } else {
        FAIL("unknown state \"%s\"", e->state);
        return 0;
    }
    return 1;
}

int server_rounds(virtwire_server *srv, int peer, vt_buf *b, size_t n, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        virtwire_server_run_once(srv, 10);
        if (drain(peer, b, 0))
            return 1;
        frame f[8];
        if (n && split_frames(b, f, 8, NULL) >= n)
            return 0;
    }
    return 0;
}

/* setup flood: the peer writes the input without ever reading, running
 * the server between writes, until all is written, the server stops
 * reading (20 rounds without progress) or drops the peer.  Returns the
 * bytes written; *dropped is set when the server hung up. */
static size_t flood(virtwire_server *srv, int peer, const vt_buf *in, int *dropped)
{
    size_t off = 0;
    int idle = 0;
    *dropped = 0;
    while (off < in->len && idle < 20) {
        ssize_t w = send(peer, in->p + off, in->len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) {
            *dropped = 1;
            break;
        }
        off += w > 0 ? (size_t)w : 0;
        idle = w > 0 ? 0 : idle + 1;
        virtwire_server_run_once(srv, w > 0 ? 0 : 5);
    }
    return off;
}

/* After a flood the server was throttled on: reads every reply while the
 * server catches up, completes the last call, and checks that each call
 * got its reply (an answer or an error). */
static void flood_replies(virtwire_server *srv, int peer, const vt_buf *in, size_t written)
{
    size_t calls = (written + 27) / 28;
    size_t end = calls * 28; /* the last call completed as room comes */
    vt_buf got = { 0 };
    size_t replies = 0, bad = 0;
    for (int i = 0; i < 2000 && replies < calls; i++) {
        if (written < end) {
            ssize_t w = send(peer, in->p + written, end - written, MSG_DONTWAIT | MSG_NOSIGNAL);
            written += w > 0 ? (size_t)w : 0;
        }
        virtwire_server_run_once(srv, 1);
        if (drain(peer, &got, 0))
            break;
        frame f[64];
        size_t rest, n;
        while ((n = split_frames(&got, f, 64, &rest)) > 0) {
            for (size_t k = 0; k < n; k++)
                bad += f[k].hdr.type != VIR_NET_REPLY;
            replies += n;
            memmove(got.p, got.p + got.len - rest, rest);
            got.len = rest;
        }
    }
    CHECK_MSG(replies == calls && bad == 0, "%zu calls written, %zu replies (%zu of them not a "
              "REPLY)", calls, replies, bad);
    vt_buf_free(&got);
}

static void run_server(const bcase *c, const expectation *e)
{
    bi_script s;
    if (compile_input(c, &s, NULL) < 0)
        return;
    virtwire_server *srv;
    static const virtwire_server_callbacks scbs = { .size = sizeof scbs, .on_close = server_on_close };
    virtwire_server_new(&scbs, NULL, &srv);
    server_close_reason = 1;
    virtwire_server_register(srv, &remote_program);
    virtwire_server_set_handler(srv, &remote_program, PROC_LIB_VERSION, server_h_lib_version, NULL);
    virtwire_server_set_handler(srv, &remote_program, PROC_LOOKUP, h_lookup, NULL);
    virtwire_server_set_handler(srv, &remote_program, PROC_UPLOAD, h_upload, NULL);
    char path[64];
    snprintf(path, sizeof path, "bad-input-%d.sock", (int)getpid());
    if (virtwire_server_listen_unix(srv, path) < 0) {
        FAIL("listen on %s: %s", path, strerror(errno));
        virtwire_server_free(srv);
        bi_script_free(&s);
        return;
    }
    int peer = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (connect(peer, (struct sockaddr *)&sa, sizeof sa) < 0)
        FAIL("connect: %s", strerror(errno));
    for (int i = 0; i < 100 && virtwire_server_nclients(srv) == 0; i++)
        virtwire_server_run_once(srv, 10);
    CHECK_MSG(virtwire_server_nclients(srv) == 1, "the server did not accept the peer");
    stream_data_seen = 0;

    static const expectation after_flood = { .state = "silent" };
    if (c->setup && strcmp(c->setup, "flood") == 0) {
        vt_buf in = { 0 };
        int dropped;
        if (bi_script_bytes(&s, &in) < 0)
            FAIL("a flood is bytes only");
        size_t written = flood(srv, peer, &in, &dropped);
        if (state_is(e, "throttled")) {
            size_t max = e->nargs ? strtoul(e->args[0], NULL, 0) : 0;
            CHECK_MSG(!dropped && written < in.len && written <= max,
                      "the peer wrote %zu of %zu bytes%s, want the server to stop reading by %zu",
                      written, in.len, dropped ? " and was dropped" : "", max);
            if (!dropped)
                flood_replies(srv, peer, &in, written);
        } else if (state_is(e, "closed")) {
            vt_buf rest = { 0 };
            for (int i = 0; i < 50 && !dropped; i++) {
                virtwire_server_run_once(srv, 10);
                dropped = drain(peer, &rest, 0);
                rest.len = 0;
            }
            vt_buf_free(&rest);
            CHECK_MSG(dropped, "the server did not drop the peer (%zu of %zu bytes written)",
                      written, in.len);
            CHECK_MSG(virtwire_server_nclients(srv) == 0, "the server still has the client");
            CHECK_CODE(server_close_reason, e->code, "virtwire_server_client_error()");
        } else {
            FAIL("a flood ends throttled MAX or closed");
        }
        vt_buf_free(&in);
        if (!state_is(e, "closed")) {
            e = &after_flood; /* then the usable check */
        } else {
            close(peer);
            virtwire_server_free(srv);
            watch_clear();
            bi_script_free(&s);
            return;
        }
    } else if (c->setup) {
        FAIL("unknown setup \"%s\"", c->setup);
    } else {
        CHECK_MSG(play(peer, &s) == 0, "the peer could not send the input: %s", strerror(errno));
    }
    vt_buf got = { 0 };
    size_t want = (size_t)e->after + (state_is(e, "replied") ? 1 : 0);
    int eof = server_rounds(srv, peer, &got, want, state_is(e, "closed") ? 100 : 20);
    if (want)
        eof |= server_rounds(srv, peer, &got, 0, 3); /* anything more? */
    check_cloexec("while the server runs");
    CHECK_MSG(stream_data_seen == e->data, "%d stream data callbacks, want %d", stream_data_seen,
              e->data);
    int usable = check_server_verdict(e, srv, &got, eof, server_close_reason);
    if (usable) {
        check_watched_closed("after the server handled the input");
        vt_buf good = { 0 }, ans = { 0 };
        good_frame(VIRTWIRE_TRANSPORT_SERVER, &good, 4242);
        vt_write_all(peer, good.p, good.len);
        server_rounds(srv, peer, &ans, 1, 50);
        frame g;
        CHECK_MSG(split_frames(&ans, &g, 1, NULL) == 1 && g.hdr.type == VIR_NET_REPLY &&
                  g.hdr.status == VIR_NET_OK && g.hdr.serial == 4242 && g.len == 8 &&
                  vt_get32(g.payload + 4) == LIB_VERSION,
                  "a good call after the bad input was not answered");
        vt_buf_free(&good);
        vt_buf_free(&ans);
    }
    close(peer);
    for (int i = 0; i < 50 && virtwire_server_nclients(srv) > 0; i++)
        virtwire_server_run_once(srv, 10);
    virtwire_server_free(srv);
    check_watched_closed("after virtwire_server_free()");
    watch_clear();
    vt_buf_free(&got);
    bi_script_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Layer: proxy                                                             */
/* ------------------------------------------------------------------------ */

/* The framer of `virtwire proxy` (tools/virtwire/proxy_frame.c) reading a
 * client's (or a daemon's) bytes and fds from a unix socket, each frame
 * it gives queued for the other side. */
static void run_proxy(const bcase *c, const expectation *e)
{
    int daemon = strcmp(c->role, "daemon") == 0;
    if (!daemon && strcmp(c->role, "client") != 0) {
        FAIL("role must be \"client\" or \"daemon\"");
        return;
    }
    bi_script s;
    if (compile_input(c, &s, NULL) < 0)
        return;
    int sv[2];
    virtwire_channel *ch = NULL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        FAIL("cannot make a socket pair: %s", strerror(errno));
        bi_script_free(&s);
        return;
    }
    if (virtwire_channel_socket_new(sv[0], 1, &ch) < 0) {
        FAIL("channel_socket_new failed");
        close(sv[1]);
        bi_script_free(&s);
        return;
    }
    CHECK_MSG(play(sv[1], &s) == 0, "the peer could not send the input: %s", strerror(errno));
    vp_in in;
    vp_out out = { 0 };
    vp_in_init(&in, daemon ? VIR_NET_REPLY_WITH_FDS : VIR_NET_CALL_WITH_FDS);
    int frames = 0, fds = 0, code = 0;
    size_t bytes = 0;
    while (!code) {
        unsigned char *room;
        size_t len;
        int fd = -1;
        if ((code = vp_in_room(&in, &room, &len)) < 0)
            break;
        ssize_t n = virtwire_channel_read(ch, room, len, &fd);
        if (n <= 0) {
            if (fd >= 0)
                close(fd);
            break; /* nothing more now, or the peer's end */
        }
        vp_in_filled(&in, (size_t)n, fd);
        vp_frame f;
        int r;
        while ((r = vp_in_next(&in, &f)) == 1) {
            frames++;
            fds += (int)f.nfds;
            bytes += f.len;
            struct iovec iov = { (void *)f.bytes, f.len };
            CHECK_MSG(vp_out_send(&out, NULL, &iov, 1, f.fds, f.nfds) == 0, "queueing a frame");
        }
        if (r < 0)
            code = r;
    }
    CHECK_CODE(code, e->code, "the framer's error");
    CHECK_MSG(frames == e->calls, "%d frames came out, want %d", frames, e->calls);
    if (state_is(e, "ended")) {
        vp_frame f;
        unsigned char *room;
        size_t len;
        CHECK_CODE(vp_in_next(&in, &f), e->code, "vp_in_next() after the error (sticky)");
        CHECK_CODE(vp_in_room(&in, &room, &len), e->code, "vp_in_room() after the error");
    } else if (state_is(e, "forwarded")) {
        CHECK_MSG(fds == e->fds, "%d fds came out with the frames, want %d", fds, e->fds);
        CHECK_MSG(vp_out_pending(&out) == bytes + (size_t)fds,
              "the queue holds %zu, not the frames' %zu bytes and %d fds",
              vp_out_pending(&out), bytes, fds);
    } else {
        FAIL("unknown state \"%s\"", e->state);
    }
    vp_in_free(&in);
    vp_out_free(&out);
    virtwire_channel_free(ch);
    close(sv[1]);
    check_watched_closed("after the framer and its queue were freed");
    watch_clear();
    bi_script_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Layer: tls                                                               */
/* ------------------------------------------------------------------------ */

#ifdef VIRTWIRE_HAVE_TLS
#include <gnutls/gnutls.h>

#include "tls_pki.h"
#include "virtwire_tls.h"

/* Certificates made once, in the working directory. */
#define TLS_PKI_DIR "tls-pki"
static virtwire_tls_creds *tls_creds[2]; /* indexed by virtwire_tls_role */

static int tls_setup(void)
{
    if (tls_creds[0])
        return 0;
    if (fz_tls_pki_write(TLS_PKI_DIR) < 0)
        return -1;
    const char *dirs[2] = { TLS_PKI_DIR "/cli", TLS_PKI_DIR "/srv" };
    for (int r = 0; r < 2; r++) {
        char why[1024];
        virtwire_tls_options o = { .size = sizeof o, .pkipath = dirs[r] };
        if (virtwire_tls_creds_new((virtwire_tls_role)r, &o, why, sizeof why, &tls_creds[r]) < 0) {
            fprintf(stderr, "tls layer: %s\n", why);
            return -1;
        }
    }
    return 0;
}

/* The scripted peer: raw bytes, or (with a TLS session of its own,
 * setup "handshake" / "handshake-nocert") each byte run as one record. */
typedef struct tls_peer {
    int sock;
    int is_server; /* the peer's role: the opposite of ours */
    const char *setup;
    const char *input;
    char err[256];
} tls_peer;

static ssize_t peer_push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
    return send((int)(intptr_t)p, buf, len, MSG_NOSIGNAL);
}

static ssize_t peer_pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
    return recv((int)(intptr_t)p, buf, len, 0);
}

static void *tls_peer_main(void *arg)
{
    tls_peer *pe = arg;
    bi_script s;
    vt_buf junk = { 0 };
    if (bi_compile(pe->input, 0, &s, pe->err, sizeof pe->err) < 0)
        goto out;
    if (!pe->setup) {
        /* Raw: a server lets the client speak first. */
        if (pe->is_server)
            drain(pe->sock, &junk, 2000);
        if (play(pe->sock, &s) < 0)
            snprintf(pe->err, sizeof pe->err, "could not send the input: %s", strerror(errno));
    } else {
        gnutls_session_t ss;
        gnutls_certificate_credentials_t cred;
        gnutls_certificate_allocate_credentials(&cred);
        const char *dir = pe->is_server ? TLS_PKI_DIR "/srv" : TLS_PKI_DIR "/cli";
        char cert[256], key[256];
        snprintf(cert, sizeof cert, "%s/%scert.pem", dir, pe->is_server ? "server" : "client");
        snprintf(key, sizeof key, "%s/%skey.pem", dir, pe->is_server ? "server" : "client");
        if (strcmp(pe->setup, "handshake-nocert") != 0)
            gnutls_certificate_set_x509_key_file(cred, cert, key, GNUTLS_X509_FMT_PEM);
        gnutls_init(&ss, pe->is_server ? GNUTLS_SERVER : GNUTLS_CLIENT);
        gnutls_set_default_priority(ss);
        gnutls_credentials_set(ss, GNUTLS_CRD_CERTIFICATE, cred);
        if (pe->is_server)
            gnutls_certificate_server_set_request(ss, GNUTLS_CERT_REQUEST);
        gnutls_transport_set_ptr(ss, (gnutls_transport_ptr_t)(intptr_t)pe->sock);
        gnutls_transport_set_push_function(ss, peer_push);
        gnutls_transport_set_pull_function(ss, peer_pull);
        int rc;
        do
            rc = gnutls_handshake(ss);
        while (rc < 0 && !gnutls_error_is_fatal(rc));
        if (rc < 0)
            snprintf(pe->err, sizeof pe->err, "the peer's handshake: %s", gnutls_strerror(rc));
        for (size_t i = 0; rc == 0 && i < s.n; i++) {
            if (s.ops[i].kind == BI_BYTES) {
                if (gnutls_record_send(ss, s.ops[i].bytes.p, s.ops[i].bytes.len) < 0)
                    snprintf(pe->err, sizeof pe->err, "the peer's record failed");
            } else if (s.ops[i].kind == BI_EOF) {
                shutdown(pe->sock, SHUT_WR); /* no close_notify, as libvirt */
            }
        }
        gnutls_deinit(ss);
        gnutls_certificate_free_credentials(cred);
    }
    bi_script_free(&s);
out:
    /* Until our side has closed (or 5 s). */
    for (int i = 0; i < 50 && !drain(pe->sock, &junk, 100);)
        i++;
    vt_buf_free(&junk);
    return NULL;
}

/*
 * `tls client|server`: our TLS channel in that role over a unix socketpair,
 * its handshake driven without blocking; the peer scripted.  States:
 * `failed "MESSAGE"`: the handshake fails with CODE, again on the next
 * call, and the channel's error detail starts with MESSAGE; `ready`
 * (`data=N`): the handshake succeeds, then N bytes can be read.
 */
static void run_tls(const bcase *c, const expectation *e)
{
    if (tls_setup() < 0) {
        FAIL("cannot make the certificates");
        return;
    }
    int we_serve = strcmp(c->role, "server") == 0;
    if (!we_serve && strcmp(c->role, "client") != 0) {
        FAIL("unknown tls role \"%s\"", c->role);
        return;
    }
    if (c->setup && strcmp(c->setup, "handshake") != 0 &&
        strcmp(c->setup, "handshake-nocert") != 0) {
        FAIL("unknown setup \"%s\"", c->setup);
        return;
    }
    int sv[2];
    REQUIRE(vt_socketpair(sv, SOCK_CLOEXEC) == 0);
    virtwire_channel *ch = NULL;
    char why[256];
    if (we_serve) {
        CHECK_CODE(virtwire_tls_make_channel(sv[0], 1, tls_creds[VIRTWIRE_TLS_SERVER], &ch), 0,
                   "making the server channel");
    } else {
        virtwire_channel *sock;
        CHECK_CODE(virtwire_channel_socket_new(sv[0], 1, &sock), 0, "the socket");
        CHECK_CODE(virtwire_tls_channel_new(tls_creds[VIRTWIRE_TLS_CLIENT], sock, "localhost", why,
                                            sizeof why, &ch),
                   0, "making the client channel");
    }
    tls_peer pe = { .sock = sv[1], .is_server = !we_serve, .setup = c->setup, .input = c->input };
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, tls_peer_main, &pe) == 0);
    int rc = 1;
    uint64_t end = vt_now_ms() + 10000;
    while (ch && rc == 1 && vt_now_ms() < end) {
        rc = virtwire_channel_handshake(ch);
        if (rc == 1) {
            struct pollfd p = { virtwire_channel_fd(ch), virtwire_channel_events(ch, POLLIN), 0 };
            poll(&p, 1, 100);
        }
    }
    check_cloexec("during the handshake");
    CHECK_CODE(rc, e->code, "the handshake");
    if (state_is(e, "failed")) {
        CHECK_CODE(virtwire_channel_handshake(ch), e->code, "the handshake again (sticky)");
        const char *d = virtwire_channel_error_detail(ch);
        const char *want = e->nargs ? e->args[0] : "";
        CHECK_MSG(d && strncmp(d, want, strlen(want)) == 0, "detail \"%s\", want \"%s...\"",
                  d ? d : "(none)", want);
    } else if (state_is(e, "ready")) {
        unsigned char buf[4096];
        size_t got = 0;
        uint64_t dend = vt_now_ms() + 5000;
        while ((int)got < e->data && vt_now_ms() < dend) {
            int fd;
            ssize_t n = virtwire_channel_read(ch, buf, sizeof buf, &fd);
            CHECK(fd == -1);
            if (n < 0)
                break;
            if (n == 0) {
                struct pollfd p = { virtwire_channel_fd(ch), POLLIN, 0 };
                poll(&p, 1, 100);
            }
            got += n > 0 ? (size_t)n : 0;
        }
        CHECK_INT(got, e->data);
    } else {
        FAIL("unknown tls state \"%s\"", e->state);
    }
    virtwire_channel_free(ch);
    pthread_join(th, NULL);
    CHECK_MSG(!pe.err[0], "peer: %s", pe.err);
    close(sv[1]);
}
#else
static void run_tls(const bcase *c, const expectation *e)
{
    (void)c;
    (void)e;
    printf("skip %s: libvirtwire_tls is not built\n", c->name);
}
#endif

/* ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    void (*run)(const bcase *, const expectation *);
} layers[] = {
    { "transport", run_transport }, { "conn", run_conn },     { "payload", run_payload },
    { "uri", run_uri },             { "client", run_client }, { "server", run_server },
    { "session", run_session },
    { "proxy", run_proxy },
    { "child", run_child },
#ifdef BAD_INPUT_SASL
    { "sasl", run_sasl },
#endif
    { "tls", run_tls },
    { "libvirt", run_libvirt },
};

static int selected(const bcase *c, char **filters, int nfilters)
{
    if (nfilters == 0)
        return 1;
    for (int i = 0; i < nfilters; i++)
        if (strcmp(c->layer, filters[i]) == 0 ||
            strncmp(c->name, filters[i], strlen(filters[i])) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CATALOGUE [--min N] [LAYER-OR-CASE-PREFIX...]\n", argv[0]);
        return 2;
    }
    catalogue_path = argv[1];
    note_inherited();
    setvbuf(stdout, NULL, _IOLBF, 0);
    size_t min = 0;
    int first = 2;
    if (argc > 3 && strcmp(argv[2], "--min") == 0) {
        min = (size_t)atoi(argv[3]);
        first = 4;
    }
    bcase *cases;
    size_t n = load_catalogue(catalogue_path, &cases);
    if (n < min) {
        fprintf(stderr, "%s has %zu cases, want at least %zu\n", catalogue_path, n, min);
        return 1;
    }
    size_t ran = 0;
    for (size_t i = 0; i < n; i++) {
        if (!selected(&cases[i], argv + first, argc - first))
            continue;
#ifndef BAD_INPUT_SASL
        if (strcmp(cases[i].layer, "sasl") == 0) { /* libsasl2 was not found */
            printf("skip %s (built without libvirtwire_sasl)\n", cases[i].name);
            continue;
        }
#endif
        cur = &cases[i];
        /* Each failure names the case. */
        vt_context("%s:%d: %s", catalogue_path, cur->line, cur->name);
        int failures_before = vt_failures;
        expectation e;
        int fds_before = vt_count_fds(0);
        size_t l = 0;
        while (l < sizeof layers / sizeof layers[0] && strcmp(layers[l].name, cur->layer))
            l++;
        if (l == sizeof layers / sizeof layers[0])
            FAIL("unknown layer \"%s\"", cur->layer);
        else if (parse_expect(cur, &e) == 0)
            layers[l].run(cur, &e);
        int fds_after = vt_count_fds(0);
        CHECK_MSG(fds_after == fds_before, "%d fds open after the case, %d before", fds_after,
                  fds_before);
        int cur_failed = vt_failures != failures_before;
        printf("%s %s\n", cur_failed ? "FAIL" : "ok  ", cur->name);
        total_failed += cur_failed;
        ran++;
    }
    if (ran == 0) {
        fprintf(stderr, "no case matched\n");
        return 1;
    }
#ifdef VIRTWIRE_HAVE_TLS
    virtwire_tls_creds_free(tls_creds[0]);
    virtwire_tls_creds_free(tls_creds[1]);
#endif
    printf("%zu cases, %d failed\n", ran, total_failed);
    return total_failed ? 1 : 0;
}
