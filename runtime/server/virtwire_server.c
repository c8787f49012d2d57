/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire server: the server itself, its programs and handlers, its
 * listeners and the single-threaded poll() loop over listeners and client
 * connections.  See virtwire_server.h for the API and
 * virtwire_server_internal.h for how the server's files divide the work
 * and who owns what.
 */
#define _GNU_SOURCE /* accept4, pipe2 */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "virtwire_server_internal.h"
#include "virtwire_sized_internal.h"

/* ------------------------------------------------------------------------ */
/* Server                                                                   */
/* ------------------------------------------------------------------------ */

int virtwire_server_new(const virtwire_server_callbacks *cbs, void *opaque,
                        virtwire_server **out)
{
    virtwire_server_callbacks mine = { .size = sizeof mine };
    if (!out || (cbs && vw_sized_copy(&mine, sizeof mine, cbs) < 0))
        return VIRTWIRE_EINVAL;
    virtwire_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return VIRTWIRE_ENOMEM;
    srv->cbs = mine;
    srv->opaque = opaque;
    srv->tcp_port = -1;
    srv->max_requests = VIRTWIRE_SERVER_MAX_CLIENT_REQUESTS_DEFAULT;
    srv->ka_interval_ms = VIRTWIRE_SERVER_KEEPALIVE_INTERVAL_MS_DEFAULT;
    srv->ka_count = VIRTWIRE_SERVER_KEEPALIVE_COUNT_DEFAULT;
    /* libvirtd's: the remote program's authentication procedures. */
    srv->exempt_program = VIRTWIRE_REMOTE_PROGRAM;
    srv->exempt_version = VIRTWIRE_REMOTE_PROTOCOL_VERSION;
    srv->exempt_first = VIRTWIRE_REMOTE_PROC_AUTH_LIST;
    srv->exempt_last = VIRTWIRE_REMOTE_PROC_AUTH_POLKIT;
    /* virtwire_server_stop() writes to it: the loop's poll() wakes up
     * whichever thread a signal interrupted. */
    if (pipe2(srv->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
        free(srv);
        return VIRTWIRE_EIO;
    }
    *out = srv;
    return 0;
}

/* Whether path is still the socket file a listener bound (same device
 * and inode): another server may have replaced it since. */
static int still_ours(const listener *l)
{
    struct stat st;
    return lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == l->dev &&
           st.st_ino == l->ino;
}

void virtwire_server_free(virtwire_server *srv)
{
    if (!srv)
        return;
    while (srv->clients) {
        virtwire_server_client *c = srv->clients;
        srv->clients = c->next;
        vw_server_client_free(c);
    }
    for (size_t i = 0; i < srv->nlisteners; i++) {
        close(srv->listeners[i].fd);
        if (srv->listeners[i].path) {
            if (still_ours(&srv->listeners[i]))
                unlink(srv->listeners[i].path);
            free(srv->listeners[i].path);
        }
    }
    close(srv->wake[0]);
    close(srv->wake[1]);
    while (srv->programs) {
        server_program *sp = srv->programs;
        srv->programs = sp->next;
        free(sp->fns);
        free(sp->opaques);
        free(sp);
    }
    free(srv);
}

server_program *vw_server_program_find(virtwire_server *srv, uint32_t prog, uint32_t vers,
                                       size_t *index)
{
    size_t i = 0;
    for (server_program *sp = srv->programs; sp; sp = sp->next, i++) {
        if (sp->prog->program == prog && sp->prog->version == vers) {
            if (index)
                *index = i;
            return sp;
        }
    }
    return NULL;
}

int virtwire_server_set_auth_exempt(virtwire_server *srv, const virtwire_program *prog,
                                    int32_t first, int32_t last)
{
    if (!srv || !prog || first > last)
        return VIRTWIRE_EINVAL;
    srv->exempt_program = prog->program;
    srv->exempt_version = prog->version;
    srv->exempt_first = first;
    srv->exempt_last = last;
    return 0;
}

int virtwire_server_set_max_client_requests(virtwire_server *srv, unsigned int n)
{
    if (!srv || n < 1 || n > MAX_CLIENT_REQUESTS_LIMIT)
        return VIRTWIRE_EINVAL;
    srv->max_requests = n;
    return 0;
}

int virtwire_server_set_keepalive(virtwire_server *srv, int interval_ms, unsigned int count)
{
    if (!srv)
        return VIRTWIRE_EINVAL;
    srv->ka_interval_ms = interval_ms > 0 ? interval_ms : 0;
    srv->ka_count = count;
    return 0;
}

int virtwire_server_register(virtwire_server *srv, const virtwire_program *prog)
{
    if (!srv || !prog || vw_server_program_find(srv, prog->program, prog->version, NULL))
        return VIRTWIRE_EINVAL;
    server_program *sp = calloc(1, sizeof *sp);
    if (!sp)
        return VIRTWIRE_ENOMEM;
    size_t n = prog->nprocs ? prog->nprocs : 1;
    sp->fns = calloc(n, sizeof *sp->fns);
    sp->opaques = calloc(n, sizeof *sp->opaques);
    if (!sp->fns || !sp->opaques) {
        free(sp->fns);
        free(sp->opaques);
        free(sp);
        return VIRTWIRE_ENOMEM;
    }
    sp->prog = prog;
    /* Appended: the index of a program is its position in this list. */
    server_program **pp = &srv->programs;
    while (*pp)
        pp = &(*pp)->next;
    *pp = sp;
    srv->nprograms++;
    return 0;
}

int virtwire_server_set_handler(virtwire_server *srv, const virtwire_program *prog, int32_t proc,
                                virtwire_server_handler fn, void *opaque)
{
    server_program *sp = srv && prog ? vw_server_program_find(srv, prog->program, prog->version, NULL)
                                     : NULL;
    const virtwire_proc *p = sp ? virtwire_program_find(sp->prog, proc) : NULL;
    if (!p)
        return VIRTWIRE_EINVAL;
    size_t i = (size_t)(p - sp->prog->procs);
    sp->fns[i] = fn;
    sp->opaques[i] = opaque;
    return 0;
}

/* Checks and copies a caller's listen options (NULL: the defaults). */
static int listen_opts_in(const virtwire_server_listen_opts *user, virtwire_server_listen_opts *o)
{
    *o = (virtwire_server_listen_opts){ .size = sizeof *o };
    if (user && vw_sized_copy(o, sizeof *o, user) < 0)
        return VIRTWIRE_EINVAL;
    if (o->nauth_types > VIRTWIRE_SERVER_AUTH_TYPES_MAX || (o->nauth_types && !o->auth_types))
        return VIRTWIRE_EINVAL;
    return 0;
}

/* A client of this listener must authenticate: it offers a method other
 * than none (REMOTE_AUTH_NONE, 0), as libvirtd's auth_* settings. */
static int needs_auth(const listener *l)
{
    for (size_t i = 0; i < l->nauth_types; i++)
        if (l->auth_types[i] != 0)
            return 1;
    return 0;
}

/* Takes over fd (closed on failure). */
static int listener_add(virtwire_server *srv, int fd, int is_unix, const char *path,
                        const virtwire_server_listen_opts *o)
{
    if (srv->nlisteners == MAX_LISTENERS) {
        close(fd);
        return VIRTWIRE_EINVAL;
    }
    listener *l = &srv->listeners[srv->nlisteners];
    memset(l, 0, sizeof *l);
    l->path = path ? strdup(path) : NULL;
    if (path && !l->path) {
        close(fd);
        return VIRTWIRE_ENOMEM;
    }
    l->fd = fd;
    l->is_unix = is_unix;
    l->opts = *o;
    l->opts.auth_types = NULL; /* the copy below is the listener's own */
    l->nauth_types = o->nauth_types;
    memcpy(l->auth_types, o->auth_types ? o->auth_types : l->auth_types,
           o->nauth_types * sizeof *l->auth_types);
    l->auth_required = needs_auth(l);
    srv->nlisteners++;
    return 0;
}

int virtwire_server_listen_fd(virtwire_server *srv, int fd, int is_unix,
                              const virtwire_server_listen_opts *opts)
{
    virtwire_server_listen_opts o;
    if (!srv || fd < 0 || listen_opts_in(opts, &o) < 0)
        return VIRTWIRE_EINVAL;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return VIRTWIRE_EIO;
    return listener_add(srv, fd, is_unix, NULL, &o);
}

/* What is at a unix socket path: 1 when a server accepts connections
 * there (or has a full backlog), 0 when it is a socket nobody listens on
 * any more (a stale one), -1 otherwise (nothing, not a socket, or a
 * socket we may not probe: bind() then says what is wrong). */
static int socket_is_live(const struct sockaddr_un *sa)
{
    struct stat st;
    if (lstat(sa->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc;
    do
        rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
    while (rc < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
        return 1;
    return e == ECONNREFUSED ? 0 : -1;
}

int virtwire_server_listen_unix(virtwire_server *srv, const char *path)
{
    return virtwire_server_listen_unix_with(srv, path, NULL);
}

int virtwire_server_listen_unix_with(virtwire_server *srv, const char *path,
                                     const virtwire_server_listen_opts *opts)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    virtwire_server_listen_opts o;
    if (!srv || !path || !*path || strlen(path) >= sizeof sa.sun_path ||
        listen_opts_in(opts, &o) < 0)
        return VIRTWIRE_EINVAL;
    strcpy(sa.sun_path, path);
    int live = socket_is_live(&sa);
    if (live == 1) {
        errno = EADDRINUSE; /* another server is there: leave it alone */
        return VIRTWIRE_EIO;
    }
    if (live == 0)
        unlink(path); /* a stale socket of an earlier run */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return VIRTWIRE_EIO;
    struct stat st;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0 ||
        lstat(path, &st) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return VIRTWIRE_EIO;
    }
    int rc = listener_add(srv, fd, 1, path, &o);
    if (rc == 0) {
        srv->listeners[srv->nlisteners - 1].dev = st.st_dev;
        srv->listeners[srv->nlisteners - 1].ino = st.st_ino;
    } else {
        unlink(path); /* bound by us a moment ago */
    }
    return rc;
}

int virtwire_server_listen_tcp(virtwire_server *srv, const char *host, int port)
{
    return virtwire_server_listen_tcp_with(srv, host, port, NULL);
}

int virtwire_server_listen_tcp_with(virtwire_server *srv, const char *host, int port,
                                    const virtwire_server_listen_opts *opts)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char ps[16];
    virtwire_server_listen_opts o;
    if (!srv || port < 0 || port > 65535 || listen_opts_in(opts, &o) < 0)
        return VIRTWIRE_EINVAL;
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host ? host : "127.0.0.1", ps, &hints, &res) != 0)
        return VIRTWIRE_EIO;
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return VIRTWIRE_EIO;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        char serv[16];
        if (getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, serv, sizeof serv,
                        NI_NUMERICSERV) == 0)
            srv->tcp_port = atoi(serv);
    }
    return listener_add(srv, fd, 0, NULL, &o);
}

int virtwire_server_tcp_port(const virtwire_server *srv)
{
    return srv->tcp_port;
}

void virtwire_server_stop(virtwire_server *srv)
{
    /* Async-signal-safe: a flag and a write(); a full pipe already holds
     * a wake-up. */
    int e = errno;
    srv->stop = 1;
    ssize_t n = write(srv->wake[1], "", 1);
    (void)n;
    errno = e;
}

/* Empties the wake-up pipe. */
static void drain_wake(virtwire_server *srv)
{
    char buf[64];
    while (read(srv->wake[0], buf, sizeof buf) > 0)
        ;
}

static void accept_all(virtwire_server *srv, listener *l)
{
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a client that went before we took it */
        vw_server_client_add(srv, fd, l);
    }
}

static void reap_clients(virtwire_server *srv)
{
    for (virtwire_server_client **pp = &srv->clients; *pp;) {
        virtwire_server_client *c = *pp;
        if (c->closing) {
            *pp = c->next;
            srv->nclients--;
            vw_server_client_free(c);
        } else {
            pp = &c->next;
        }
    }
}

int virtwire_server_run_once(virtwire_server *srv, int timeout_ms)
{
    /* The wake-up pipe first, then the listeners, then the clients. */
    size_t n = 1 + srv->nlisteners + srv->nclients;
    struct pollfd *pfd = calloc(n, sizeof *pfd);
    virtwire_server_client **who = calloc(n, sizeof *who);
    if (!pfd || !who) {
        free(pfd);
        free(who);
        return VIRTWIRE_ENOMEM;
    }
    size_t k = 0;
    pfd[k++] = (struct pollfd){ srv->wake[0], POLLIN, 0 };
    for (size_t i = 0; i < srv->nlisteners; i++)
        pfd[k++] = (struct pollfd){ srv->listeners[i].fd, POLLIN, 0 };
    for (virtwire_server_client *c = srv->clients; c; c = c->next) {
        who[k] = c;
        vw_server_client_poll(c, &pfd[k++], &timeout_ms);
    }
    int rc = poll(pfd, k, timeout_ms);
    if (rc < 0 && errno != EINTR) {
        free(pfd);
        free(who);
        return VIRTWIRE_EIO;
    }
    for (size_t i = 0; rc > 0 && i < k; i++) {
        if (!pfd[i].revents)
            continue;
        if (i == 0) {
            drain_wake(srv);
            continue;
        }
        if (i <= srv->nlisteners) {
            accept_all(srv, &srv->listeners[i - 1]);
            continue;
        }
        virtwire_server_client *c = who[i];
        if (!c->closing) {
            int prc = virtwire_conn_process(c->conn, pfd[i].revents);
            if (prc < 0)
                vw_server_client_fail(c, prc);
        }
    }
    for (virtwire_server_client *c = srv->clients; c; c = c->next)
        if (!c->closing)
            vw_server_client_idle_work(c);
    reap_clients(srv);
    free(pfd);
    free(who);
    return 0;
}

int virtwire_server_run(virtwire_server *srv)
{
    while (!srv->stop) {
        int rc = virtwire_server_run_once(srv, 1000);
        if (rc < 0)
            return rc;
    }
    return 0;
}
