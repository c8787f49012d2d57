/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtwire call, events, download and upload: the subcommands that talk to
 * a daemon through virtwire_client. */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#include "admin_protocol.h"
#include "lxc_protocol.h"
#include "qemu_protocol.h"
#include "remote_protocol.h"
#include "virnetprotocol_json.h"
#include "virtwire_client.h"
#include "virtwire_libvirt.h"
#ifdef VIRTWIRE_HAVE_TLS
#include "virtwire_tls.h"
#endif

/* ------------------------------------------------------------------------ */
/* Options, arguments, connection                                           */
/* ------------------------------------------------------------------------ */

typedef struct opts {
    int readonly;
    int sparse;
    int timeout_ms; /* 0: none */
    long count;     /* events: stop after this many (0: no limit) */
    const char *pos[5];
    int npos;
} opts;

enum { OPT_READONLY = 1, OPT_TIMEOUT = 2, OPT_COUNT = 4, OPT_SPARSE = 8 };

static int parse_opts(int argc, char **argv, unsigned allowed, int min_pos, int max_pos,
                      const char *usage, opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if ((allowed & OPT_READONLY) && strcmp(a, "--readonly") == 0) {
            o->readonly = 1;
        } else if ((allowed & OPT_SPARSE) && strcmp(a, "--sparse") == 0) {
            o->sparse = 1;
        } else if ((allowed & (OPT_TIMEOUT | OPT_COUNT)) &&
                   (strcmp(a, "--timeout") == 0 || strcmp(a, "--count") == 0)) {
            int is_count = a[2] == 'c';
            if (!(allowed & (is_count ? OPT_COUNT : OPT_TIMEOUT)) || i + 1 >= argc)
                return vt_error(VT_USAGE, "usage: %s", usage);
            char *end;
            errno = 0;
            double v = strtod(argv[++i], &end);
            if (end == argv[i] || *end || errno || v < 0 || !isfinite(v) ||
                v > (is_count ? 1e9 : 2e6) || (is_count && v != floor(v)))
                return vt_error(VT_USAGE, "%s: '%s' is not a %s", a, argv[i],
                                is_count ? "count" : "number of seconds");
            if (is_count)
                o->count = (long)v;
            else
                o->timeout_ms = v > 0 && v < 0.001 ? 1 : (int)(v * 1000);
        } else if (a[0] == '-' && a[1] != '\0') {
            return vt_error(VT_USAGE, "unknown option '%s'; usage: %s", a, usage);
        } else {
            if (o->npos >= max_pos)
                return vt_error(VT_USAGE, "too many arguments; usage: %s", usage);
            o->pos[o->npos++] = a;
        }
    }
    if (o->npos < min_pos)
        return vt_error(VT_USAGE, "usage: %s", usage);
    return VT_OK;
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}

/*
 * Builds the procedure's argument value from JSON text (NULL: none given,
 * "-": read stdin) in the arena; *args is NULL for procedures without
 * arguments.  Checks that the value encodes.
 */
static int make_args(const virtwire_proc *pr, const char *text, virtwire_arena *arena, void **args)
{
    json_t *j = NULL;
    *args = NULL;
    if (text) {
        char *owned = NULL;
        if (strcmp(text, "-") == 0) {
            owned = read_all(stdin, NULL);
            if (!owned)
                return vt_error(VT_FAIL, "cannot read the arguments from stdin");
            text = owned;
        }
        json_error_t err;
        j = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
        free(owned);
        if (!j)
            return vt_error(VT_USAGE, "bad JSON arguments: %s (line %d, column %d)", err.text,
                            err.line, err.column);
        if (json_is_null(j)) {
            json_decref(j);
            j = NULL;
        }
    }
    if (!pr->args) {
        int empty = !j || (json_is_object(j) && json_object_size(j) == 0);
        json_decref(j);
        if (!empty)
            return vt_error(VT_USAGE, "%s takes no arguments", pr->name);
        return VT_OK;
    }
    const virtwire_json_type *jt = vt_json_type(pr->args);
    void *v = jt ? virtwire_arena_alloc(arena, pr->args->size) : NULL;
    if (!v) {
        json_decref(j);
        return vt_error(VT_FAIL, "no JSON conversion for %s", pr->args->name);
    }
    /* A list procedure (arguments with need_results) is asked for the list,
     * as libvirt's clients ask, unless ARGS says otherwise: its arguments
     * are those that take a need_results of 1. */
    if (!j || (json_is_object(j) && !json_object_get(j, "need_results"))) {
        json_t *asked = j ? json_deep_copy(j) : json_object();
        if (asked && json_object_set_new(asked, "need_results", json_integer(1)) == 0) {
            virtwire_json_ctx probe = { .arena = arena };
            memset(v, 0, pr->args->size);
            if (jt->from_json(asked, v, &probe) == 0) {
                json_decref(j);
                j = asked;
                asked = NULL;
            }
        }
        json_decref(asked);
    }
    memset(v, 0, pr->args->size);
    virtwire_json_ctx ctx = { .arena = arena };
    int rc = jt->from_json(j, v, &ctx);
    json_decref(j);
    if (rc < 0)
        return vt_error(VT_USAGE, "bad arguments for %s (%s): %s", pr->name, pr->args->name,
                        virtwire_json_error(&ctx));
    size_t n = pr->args->encoded_size(v);
    void *buf = malloc(n ? n : 1);
    rc = buf ? virtwire_encode(pr->args, v, buf, n, NULL) : VIRTWIRE_ENOMEM;
    free(buf);
    if (rc < 0)
        return vt_error(VT_USAGE, "the arguments for %s do not encode: %s", pr->name,
                        virtwire_strerror(rc));
    *args = v;
    return VT_OK;
}

/* Programs a client may call. */
static int callable(const virtwire_program *p)
{
    return p == &remote_program || p == &qemu_program || p == &lxc_program ||
           p == &admin_program;
}

/* Connects, --timeout bounding the handshake and, as the client's
 * default, every call and stream wait (none without it).  A failure is
 * told in libvirt's words (the socket and errno, the daemon's error), with
 * the daemon's error code and domain named. */
static int connect_to(const char *uri, const virtwire_program *prog, const opts *o,
                      virtwire_client **c)
{
    char why[1024] = "";
    virNetMessageError err = { 0 };
    virtwire_client_options co = VIRTWIRE_CLIENT_OPTIONS(
        .flags = (o->readonly ? VIRTWIRE_CLIENT_READONLY : 0) |
                 (prog == &admin_program ? VIRTWIRE_CLIENT_ADMIN : 0),
        .keepalive_interval_ms = 5000,
        .keepalive_count = 5,
        .open_timeout_ms = o->timeout_ms,
        .call_timeout_ms = o->timeout_ms,
#ifdef VIRTWIRE_HAVE_TLS
        .tls = &virtwire_tls_opener, /* +tls URIs */
#endif
        .errbuf = why,
        .errbuf_len = sizeof why,
        .error = &err);
    errno = 0;
    int rc = virtwire_client_connect(uri, &co, c);
    if (rc == 0)
        return VT_OK;
    int saved = errno;
    int code = vt_exit_code(rc);
    if (code == VT_REMOTE || code == VT_FAIL)
        code = VT_CONNECT; /* the handshake failed */
    if (rc == VIRTWIRE_ETIMEDOUT) {
        code = vt_error(code, "cannot connect to '%s': no answer in time", uri);
    } else if (err.code) {
        /* The daemon's error, with its code and domain named. */
        char names[96];
        code = vt_error(code, "cannot connect to '%s': %s (%s)", uri,
                        virtwire_error_message(rc, &err), vt_error_names(&err, names, sizeof names));
    } else if (why[0]) {
        /* What failed, in the runtime's words: what ssh said, the
         * socket's path and errno, libvirt's words where it has some. */
        code = vt_error(code, "cannot connect to '%s': %s", uri, why);
    } else if (rc == VIRTWIRE_EIO && saved) {
        code = vt_error(code, "cannot connect to '%s': %s", uri, strerror(saved));
    } else {
        code = vt_error(code, "cannot connect to '%s': %s", uri, virtwire_strerror(rc));
    }
    virNetMessageError_free(&err);
    return code;
}

/* Reports a failed call: the daemon's error as JSON on stderr, anything
 * else as a message. */
static int call_failed(const char *what, int rc, const virNetMessageError *err)
{
    if ((rc == VIRTWIRE_EREMOTE || rc == VIRTWIRE_EUNSUPPORTED) && err) {
        int saved = vt_pretty;
        vt_pretty = 0;
        vt_print(stderr, virNetMessageError_to_json(err));
        vt_pretty = saved;
        return VT_REMOTE;
    }
    int code = vt_exit_code(rc);
    if (code == VT_USAGE || code == VT_OK)
        code = VT_FAIL;
    if (rc == VIRTWIRE_ETIMEDOUT)
        return vt_error(code, "%s: no reply in time", what);
    return vt_error(code, "%s: %s", what, virtwire_strerror(rc));
}

/* Resolves PROCEDURE for a client and checks what it may be used for. */
static const virtwire_proc *client_proc(const char *spec, const char *cmd,
                                        const virtwire_program **prog)
{
    const virtwire_proc *pr = vt_resolve(spec, prog);
    if (!pr)
        return NULL;
    if (!callable(*prog)) {
        vt_error(VT_USAGE, "%s: the %s program cannot be called through a libvirt connection",
                 pr->name, (*prog)->name);
        return NULL;
    }
    if (pr->flags & VIRTWIRE_PROC_MESSAGE) {
        vt_error(VT_USAGE, "%s is an event, not a call: use virtwire events", pr->name);
        return NULL;
    }
    int reads = (pr->flags & VIRTWIRE_PROC_STREAM_READ) != 0;
    int writes = (pr->flags & VIRTWIRE_PROC_STREAM_WRITE) != 0;
    if (strcmp(cmd, "call") == 0 && (reads || writes)) {
        vt_error(VT_USAGE, "%s opens a stream: use virtwire %s", pr->name,
                 reads ? "download" : "upload");
        return NULL;
    }
    if (strcmp(cmd, "download") == 0 && !reads) {
        vt_error(VT_USAGE, "%s does not stream data to the client%s", pr->name,
                 writes ? ": use virtwire upload" : ": use virtwire call");
        return NULL;
    }
    if (strcmp(cmd, "upload") == 0 && !writes) {
        vt_error(VT_USAGE, "%s does not stream data to the daemon%s", pr->name,
                 reads ? ": use virtwire download" : ": use virtwire call");
        return NULL;
    }
    return pr;
}

static void *alloc_ret(const virtwire_proc *pr, virtwire_arena *arena)
{
    if (!pr->ret)
        return NULL;
    void *p = virtwire_arena_alloc(arena, pr->ret->size);
    if (p)
        memset(p, 0, pr->ret->size);
    return p;
}

/* ------------------------------------------------------------------------ */
/* call                                                                     */
/* ------------------------------------------------------------------------ */

int vt_cmd_call(int argc, char **argv)
{
    const char *usage = vt_usage("call");
    opts o;
    int rc = parse_opts(argc, argv, OPT_READONLY | OPT_TIMEOUT, 2, 3, usage, &o);
    if (rc != VT_OK)
        return rc;
    const virtwire_program *prog;
    const virtwire_proc *pr = client_proc(o.pos[1], "call", &prog);
    if (!pr)
        return VT_USAGE;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    void *args;
    rc = make_args(pr, o.npos > 2 ? o.pos[2] : NULL, &arena, &args);
    if (rc != VT_OK) {
        virtwire_arena_fini(&arena);
        return rc;
    }
    virtwire_client *c;
    rc = connect_to(o.pos[0], prog, &o, &c);
    if (rc != VT_OK) {
        virtwire_arena_fini(&arena);
        return rc;
    }
    void *ret = alloc_ret(pr, &arena);
    virNetMessageError err;
    int fds[32];
    virtwire_call_opts co = { .size = sizeof co, .arena = &arena, .timeout_ms = o.timeout_ms, .error = &err,
                              .ret_fds = fds, .ret_fds_max = 32 };
    rc = virtwire_client_call(c, prog, pr->number, args, ret, &co);
    for (size_t i = 0; i < co.nret_fds; i++)
        close(fds[i]);
    int status;
    if (rc == 0) {
        if (co.nret_fds)
            vt_error(0, "note: the reply carried %zu file descriptor(s), closed", co.nret_fds);
        vt_print(stdout, vt_to_json(pr->ret, ret));
        status = ferror(stdout) ? VT_FAIL : VT_OK;
    } else {
        status = call_failed(pr->name, rc, &err);
    }
    virtwire_client_close(c);
    virtwire_arena_fini(&arena);
    return status;
}

/* ------------------------------------------------------------------------ */
/* events                                                                   */
/* ------------------------------------------------------------------------ */

/* Registrations tried for every event ID from 0 until the daemon refuses
 * one: the callback forms libvirt's own clients use. */
static const struct {
    const char *kind;
    const char *reg;
    const char *dereg;
    int has_id; /* eventID argument */
} event_kinds[] = {
    { "domain", "REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY",
      "REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY", 1 },
    { "network", "REMOTE_PROC_CONNECT_NETWORK_EVENT_REGISTER_ANY",
      "REMOTE_PROC_CONNECT_NETWORK_EVENT_DEREGISTER_ANY", 1 },
    { "storage_pool", "REMOTE_PROC_CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY",
      "REMOTE_PROC_CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY", 1 },
    { "node_device", "REMOTE_PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY",
      "REMOTE_PROC_CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY", 1 },
    { "secret", "REMOTE_PROC_CONNECT_SECRET_EVENT_REGISTER_ANY",
      "REMOTE_PROC_CONNECT_SECRET_EVENT_DEREGISTER_ANY", 1 },
    { "qemu_monitor", "QEMU_PROC_CONNECT_DOMAIN_MONITOR_EVENT_REGISTER",
      "QEMU_PROC_CONNECT_DOMAIN_MONITOR_EVENT_DEREGISTER", 0 },
};
#define NKINDS (sizeof(event_kinds) / sizeof(event_kinds[0]))
#define MAX_EVENT_ID 64

typedef struct reg {
    const virtwire_program *prog;
    const virtwire_proc *dereg;
    int callback_id;
} reg;

typedef struct ev_state {
    pthread_mutex_t lock;
    long count, seen;
} ev_state;

static int wake_fd = -1;

static void wake(char why)
{
    if (wake_fd >= 0) {
        ssize_t n = write(wake_fd, &why, 1);
        (void)n;
    }
}

static void on_signal(int sig)
{
    (void)sig;
    wake('s');
}

static void on_close(virtwire_client *c, int reason, void *opaque)
{
    (void)c, (void)reason, (void)opaque;
    wake('x');
}

static void on_event(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                     const void *msg, void *opaque)
{
    (void)c;
    ev_state *st = opaque;
    const virtwire_proc *pr = virtwire_program_find(prog, proc);
    pthread_mutex_lock(&st->lock);
    if (!st->count || st->seen < st->count) {
        json_t *j = json_pack("{s:s, s:s, s:i, s:o*}", "program", prog->name, "procedure",
                              pr ? pr->name : "?", "number", (int)proc, "msg",
                              pr ? vt_to_json(pr->msg, msg) : NULL);
        vt_print(stdout, j);
        if (++st->seen == st->count)
            wake('c');
    }
    pthread_mutex_unlock(&st->lock);
}

/* Calls a registration procedure with {"eventID": id} (or {}); returns the
 * callbackID, or a negative error. */
static int register_one(virtwire_client *c, const virtwire_program *prog,
                        const virtwire_proc *pr, int has_id, int id, int timeout_ms)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_json_ctx ctx = { .arena = &arena };
    json_t *j = has_id ? json_pack("{s:i}", "eventID", id) : json_object();
    const virtwire_json_type *at = vt_json_type(pr->args);
    void *args = virtwire_arena_alloc(&arena, pr->args->size);
    int rc = VIRTWIRE_ENOMEM;
    if (j && at && args) {
        memset(args, 0, pr->args->size);
        rc = at->from_json(j, args, &ctx) < 0 ? VIRTWIRE_EINVAL : 0;
    }
    json_decref(j);
    void *ret = rc == 0 ? alloc_ret(pr, &arena) : NULL;
    if (rc == 0) {
        virtwire_call_opts co = { .size = sizeof co, .arena = &arena, .timeout_ms = timeout_ms };
        rc = virtwire_client_call(c, prog, pr->number, args, ret, &co);
    }
    if (rc == 0) {
        /* Every registration's reply is { int callbackID; }. */
        json_t *r = vt_to_json(pr->ret, ret);
        json_t *id_j = json_object_get(r, "callbackID");
        rc = json_is_integer(id_j) ? (int)json_integer_value(id_j) : VIRTWIRE_EINVAL;
        json_decref(r);
    }
    virtwire_arena_fini(&arena);
    return rc;
}

static void deregister(virtwire_client *c, const reg *r, int timeout_ms)
{
    remote_connect_domain_event_callback_deregister_any_args a = { .callbackID = r->callback_id };
    virtwire_call_opts co = { .size = sizeof co, .timeout_ms = timeout_ms };
    /* Every deregistration's argument is { int callbackID; }. */
    if (r->dereg->args && r->dereg->args->size == sizeof(a))
        virtwire_client_call(c, r->prog, r->dereg->number, &a, NULL, &co);
}

int vt_cmd_events(int argc, char **argv)
{
    const char *usage = vt_usage("events");
    opts o;
    int rc = parse_opts(argc, argv, OPT_READONLY | OPT_TIMEOUT | OPT_COUNT, 1, 1, usage, &o);
    if (rc != VT_OK)
        return rc;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return vt_error(VT_FAIL, "pipe: %s", strerror(errno));
    wake_fd = pipefd[1];
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    virtwire_client *c;
    rc = connect_to(o.pos[0], &remote_program, &o, &c);
    if (rc != VT_OK)
        return rc;
    virtwire_client_on_close(c, on_close, NULL);
    ev_state st = { .count = o.count };
    pthread_mutex_init(&st.lock, NULL);
    /* Handlers first: an event may follow its registration at once. */
    const virtwire_program *progs[] = { &remote_program, &qemu_program };
    for (size_t p = 0; p < 2; p++)
        for (size_t k = 0; k < progs[p]->nprocs; k++)
            if (progs[p]->procs[k].flags & VIRTWIRE_PROC_MESSAGE)
                virtwire_client_on_event(c, progs[p], progs[p]->procs[k].number, on_event, &st);

    reg *regs = NULL;
    size_t nregs = 0;
    int per_kind[NKINDS] = { 0 };
    int first_error = 0;
    int call_timeout = o.timeout_ms ? o.timeout_ms : 30000;
    for (size_t k = 0; k < NKINDS; k++) {
        const virtwire_program *prog;
        const virtwire_proc *pr = vt_resolve(event_kinds[k].reg, &prog);
        const virtwire_program *dprog;
        const virtwire_proc *dpr = vt_resolve(event_kinds[k].dereg, &dprog);
        if (!pr || !dpr)
            continue;
        for (int id = 0; id < (event_kinds[k].has_id ? MAX_EVENT_ID : 1); id++) {
            int cb = register_one(c, prog, pr, event_kinds[k].has_id, id, call_timeout);
            if (cb < 0) {
                if (!first_error && k == 0 && id == 0)
                    first_error = cb;
                break;
            }
            reg *nr = realloc(regs, (nregs + 1) * sizeof(*regs));
            if (!nr)
                break;
            regs = nr;
            regs[nregs++] = (reg){ prog, dpr, cb };
            per_kind[k]++;
        }
        if (virtwire_client_error(c))
            break;
    }
    int status = VT_OK;
    if (virtwire_client_error(c)) {
        status = vt_error(VT_CONNECT, "connection lost: %s",
                          virtwire_strerror(virtwire_client_error(c)));
    } else if (nregs == 0) {
        status = vt_error(VT_REMOTE, "the daemon accepted no event registration (%s)",
                          virtwire_strerror(first_error));
    } else {
        char line[256];
        size_t n = 0;
        for (size_t k = 0; k < NKINDS; k++)
            if (per_kind[k])
                n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%d %s", n ? ", " : "",
                                      per_kind[k], event_kinds[k].kind);
        vt_error(0, "watching events (%s)", line);

        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        char why = 0;
        while (!why) {
            int wait_ms = -1;
            if (o.timeout_ms) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long long spent = (now.tv_sec - start.tv_sec) * 1000LL +
                                  (now.tv_nsec - start.tv_nsec) / 1000000;
                if (spent >= o.timeout_ms) {
                    why = 't';
                    break;
                }
                wait_ms = (int)(o.timeout_ms - spent);
            }
            struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
            int r = poll(&pfd, 1, wait_ms);
            if (r > 0 && read(pipefd[0], &why, 1) != 1)
                why = 0;
        }
        pthread_mutex_lock(&st.lock);
        long seen = st.seen;
        pthread_mutex_unlock(&st.lock);
        if (why == 'x')
            status = vt_error(VT_CONNECT, "connection lost: %s",
                              virtwire_strerror(virtwire_client_error(c)));
        else if (why == 't' && o.count && seen < o.count)
            status = vt_error(VT_TIMEOUT, "%ld of %ld events within the timeout", seen, o.count);
        if (why != 'x')
            for (size_t i = 0; i < nregs && !virtwire_client_error(c); i++)
                deregister(c, &regs[i], 2000);
    }
    free(regs);
    virtwire_client_close(c);
    wake_fd = -1;
    close(pipefd[0]);
    close(pipefd[1]);
    pthread_mutex_destroy(&st.lock);
    if (status == VT_OK && fflush(stdout) != 0)
        status = VT_FAIL;
    return status;
}

/* ------------------------------------------------------------------------ */
/* download and upload                                                      */
/* ------------------------------------------------------------------------ */

typedef struct progress {
    int on;
    uint64_t total; /* 0: unknown */
    struct timespec last;
    int shown;
} progress;

static void human(char *buf, size_t n, uint64_t v)
{
    if (v < 1024)
        snprintf(buf, n, "%llu B", (unsigned long long)v);
    else if (v < 1024 * 1024)
        snprintf(buf, n, "%.1f KiB", v / 1024.0);
    else if (v < 1024ull * 1024 * 1024)
        snprintf(buf, n, "%.1f MiB", v / (1024.0 * 1024));
    else
        snprintf(buf, n, "%.2f GiB", v / (1024.0 * 1024 * 1024));
}

/* A progress line on stderr, only when stderr is a terminal, at most ten
 * times a second; final: the last one, ended with a newline. */
static void progress_show(progress *p, uint64_t done, int final)
{
    if (!p->on)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (now.tv_sec - p->last.tv_sec) * 1000LL +
                   (now.tv_nsec - p->last.tv_nsec) / 1000000;
    if (!final && p->shown && ms < 100)
        return;
    p->last = now;
    p->shown = 1;
    char d[32], t[32];
    human(d, sizeof(d), done);
    if (p->total) {
        human(t, sizeof(t), p->total);
        int pct = (int)(done >= p->total ? 100 : done * 100 / p->total);
        char bar[31];
        int fill = pct * 30 / 100;
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(30 - fill));
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %3d%% %s / %s   ", bar, pct, d, t);
    } else {
        fprintf(stderr, "\r%s   ", d);
    }
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The common start of download and upload: options, procedure, arguments,
 * connection, the stream call. */
typedef struct xfer {
    opts o;
    const virtwire_program *prog;
    const virtwire_proc *pr;
    virtwire_arena arena;
    virtwire_client *c;
    virtwire_client_stream *s;
    void *ret;
    /* the local side: path, "-" (std) for stdin or stdout */
    const char *path;
    int std, fd, regular;
    struct stat sb;
} xfer;

/* Parses the command line, makes the stream call and opens the local side
 * with oflags (O_RDONLY: stdin for "-", else stdout). */
static int xfer_start(xfer *x, int argc, char **argv, const char *cmd, const char *usage,
                      unsigned allowed, int oflags)
{
    memset(x, 0, sizeof(*x));
    virtwire_arena_init(&x->arena);
    int rc = parse_opts(argc, argv, allowed, 4, 4, usage, &x->o);
    if (rc != VT_OK)
        return rc;
    x->pr = client_proc(x->o.pos[1], cmd, &x->prog);
    if (!x->pr)
        return VT_USAGE;
    if (x->o.sparse && !(x->pr->flags & VIRTWIRE_PROC_STREAM_SPARSE))
        return vt_error(VT_USAGE, "%s does not take sparse streams", x->pr->name);
    struct stat sb;
    if (x->o.sparse && (strcmp(x->o.pos[3], "-") == 0 || stat(x->o.pos[3], &sb) < 0 ||
                        !S_ISREG(sb.st_mode)))
        return vt_error(VT_USAGE, "--sparse needs a regular file");
    void *args;
    rc = make_args(x->pr, x->o.pos[2], &x->arena, &args);
    if (rc != VT_OK)
        return rc;
    rc = connect_to(x->o.pos[0], x->prog, &x->o, &x->c);
    if (rc != VT_OK)
        return rc;
    x->ret = alloc_ret(x->pr, &x->arena);
    virNetMessageError err;
    virtwire_call_opts co = { .size = sizeof co, .arena = &x->arena, .timeout_ms = x->o.timeout_ms, .error = &err };
    rc = virtwire_client_stream_call(x->c, x->prog, x->pr->number, args, x->ret, &co, &x->s);
    if (rc < 0)
        return call_failed(x->pr->name, rc, &err);
    x->path = x->o.pos[3];
    x->std = strcmp(x->path, "-") == 0;
    int std_fd = (oflags & O_ACCMODE) == O_RDONLY ? STDIN_FILENO : STDOUT_FILENO;
    x->fd = x->std ? std_fd : open(x->path, oflags | O_CLOEXEC, 0666);
    if (x->fd < 0) {
        virtwire_client_stream_abort(x->s);
        return vt_error(VT_FAIL, "%s: %s", x->path, strerror(errno));
    }
    x->regular = fstat(x->fd, &x->sb) == 0 && S_ISREG(x->sb.st_mode);
    return VT_OK;
}

/* Prints the call's result when status is VT_OK, and releases what
 * xfer_start() set up, whether it succeeded or not. */
static int xfer_end(xfer *x, int status, FILE *ret_to)
{
    if (status == VT_OK)
        vt_print(ret_to, vt_to_json(x->pr->ret, x->ret));
    if (x->s)
        virtwire_client_stream_free(x->s);
    virtwire_client_close(x->c);
    virtwire_arena_fini(&x->arena);
    return status;
}

/* A stream error: the daemon's (heap mode) or another. */
static int stream_failed(const char *name, int rc, virNetMessageError *err)
{
    int status = call_failed(name, rc, err);
    virNetMessageError_free(err);
    return status;
}

int vt_cmd_download(int argc, char **argv)
{
    const char *usage = vt_usage("download");
    xfer x;
    int status = xfer_start(&x, argc, argv, "download", usage, OPT_READONLY | OPT_TIMEOUT,
                            O_WRONLY | O_CREAT | O_TRUNC);
    if (status != VT_OK)
        return xfer_end(&x, status, NULL);
    const char *path = x.path;
    int to_stdout = x.std, fd = x.fd, regular = x.regular;
    progress pg = { .on = isatty(STDERR_FILENO) };
    size_t cap = 256 * 1024;
    char *buf = malloc(cap);
    uint64_t pos = 0;
    virNetMessageError err;
    memset(&err, 0, sizeof(err));
    while (buf && status == VT_OK) {
        int64_t hole = 0;
        long n = virtwire_client_stream_recv(x.s, buf, cap, &hole, x.o.timeout_ms, &err);
        if (n == 0)
            break;
        if (n < 0) {
            status = stream_failed(x.pr->name, (int)n, &err);
            break;
        }
        if (n == VIRTWIRE_CLIENT_STREAM_HOLE) {
            if (regular) {
                if (lseek(fd, hole, SEEK_CUR) < 0)
                    status = vt_error(VT_FAIL, "%s: %s", path, strerror(errno));
            } else {
                memset(buf, 0, cap);
                for (int64_t left = hole; left > 0 && status == VT_OK;) {
                    size_t k = left < (int64_t)cap ? (size_t)left : cap;
                    if (write_all(fd, buf, k) < 0)
                        status = vt_error(VT_FAIL, "%s: %s", path, strerror(errno));
                    left -= (int64_t)k;
                }
            }
            pos += (uint64_t)hole;
        } else {
            if (write_all(fd, buf, (size_t)n) < 0)
                status = vt_error(VT_FAIL, "%s: %s", to_stdout ? "stdout" : path,
                                  strerror(errno));
            pos += (uint64_t)n;
        }
        progress_show(&pg, pos, 0);
    }
    if (!buf)
        status = vt_error(VT_FAIL, "out of memory");
    free(buf);
    if (status == VT_OK && regular && ftruncate(fd, (off_t)pos) < 0)
        status = vt_error(VT_FAIL, "%s: %s", path, strerror(errno));
    if (status == VT_OK) {
        progress_show(&pg, pos, 1);
        int rc = virtwire_client_stream_finish(x.s, x.o.timeout_ms, &err);
        if (rc < 0)
            status = stream_failed(x.pr->name, rc, &err);
    } else {
        virtwire_client_stream_abort(x.s);
    }
    if (!to_stdout && close(fd) < 0 && status == VT_OK)
        status = vt_error(VT_FAIL, "%s: %s", path, strerror(errno));
    return xfer_end(&x, status, to_stdout ? stderr : stdout);
}

int vt_cmd_upload(int argc, char **argv)
{
    const char *usage = vt_usage("upload");
    xfer x;
    int status = xfer_start(&x, argc, argv, "upload", usage, OPT_TIMEOUT | OPT_SPARSE, O_RDONLY);
    if (status != VT_OK)
        return xfer_end(&x, status, NULL);
    const char *path = x.path;
    int from_stdin = x.std, fd = x.fd, regular = x.regular;
    if (x.o.sparse && !regular) {
        virtwire_client_stream_abort(x.s);
        if (!from_stdin)
            close(fd);
        return xfer_end(&x, vt_error(VT_FAIL, "%s: not a regular file any more", path), NULL);
    }
    progress pg = { .on = isatty(STDERR_FILENO), .total = regular ? (uint64_t)x.sb.st_size : 0 };
    size_t cap = 256 * 1024;
    char *buf = malloc(cap);
    uint64_t pos = 0, size = regular ? (uint64_t)x.sb.st_size : 0;
    if (!buf)
        status = vt_error(VT_FAIL, "out of memory");
    while (status == VT_OK) {
        uint64_t end = UINT64_MAX; /* where the current data run ends */
        if (x.o.sparse) {
            if (pos >= size)
                break;
            off_t data = lseek(fd, (off_t)pos, SEEK_DATA);
            if (data < 0 && errno == ENXIO)
                data = (off_t)size;
            else if (data < 0) {
                status = vt_error(VT_FAIL, "%s: %s", path, strerror(errno));
                break;
            }
            if ((uint64_t)data > pos) {
                int rc = virtwire_client_stream_send_hole(x.s, (int64_t)((uint64_t)data - pos));
                if (rc < 0) {
                    status = call_failed(x.pr->name, rc, NULL);
                    break;
                }
                pos = (uint64_t)data;
                progress_show(&pg, pos, 0);
                continue;
            }
            off_t hole = lseek(fd, (off_t)pos, SEEK_HOLE);
            end = hole < 0 ? size : (uint64_t)hole;
        }
        size_t want = cap;
        if (end != UINT64_MAX && end - pos < want)
            want = (size_t)(end - pos);
        ssize_t n = x.o.sparse ? pread(fd, buf, want, (off_t)pos) : read(fd, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            status = vt_error(VT_FAIL, "%s: %s", from_stdin ? "stdin" : path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        int rc = virtwire_client_stream_send(x.s, buf, (size_t)n);
        if (rc < 0) {
            status = call_failed(x.pr->name, rc, NULL);
            break;
        }
        pos += (uint64_t)n;
        progress_show(&pg, pos, 0);
    }
    free(buf);
    if (!from_stdin)
        close(fd);
    if (status == VT_OK) {
        progress_show(&pg, pos, 1);
        virNetMessageError err;
        memset(&err, 0, sizeof(err));
        int rc = virtwire_client_stream_finish(x.s, x.o.timeout_ms, &err);
        if (rc < 0)
            status = stream_failed(x.pr->name, rc, &err);
    } else {
        virtwire_client_stream_abort(x.s);
    }
    return xfer_end(&x, status, stdout);
}
