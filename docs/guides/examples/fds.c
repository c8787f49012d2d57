/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * File descriptors (docs/guides/fds.md), both sides in one program: a
 * server thread listening on a unix socket, and a client that
 *
 *   - passes two fds with DOMAIN_CREATE_XML_WITH_FILES (the server reads a
 *     line from each, keeps the second and lets the server close the
 *     first), and
 *   - receives one with DOMAIN_OPEN_GRAPHICS_FD (the read end of a pipe the
 *     server filled) and reads it.
 *
 *   guide-fds SOCKET_PATH
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "remote_protocol_client.h"
#include "remote_protocol_server.h"

/* ---- the server ---------------------------------------------------------- */

typedef struct server_state {
    virtwire_server *srv;
    atomic_int stop;
    int kept_fd;         /* taken from a call; the server thread closes it */
    int sent_fds[8];     /* lent to replies; closed after the loop round */
    size_t nsent;
} server_state;

/* Reads one line (without its newline) from fd into buf. */
static void read_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    char ch;
    while (n + 1 < len && read(fd, &ch, 1) == 1 && ch != '\n')
        buf[n++] = ch;
    buf[n] = '\0';
}

/* fds arrive in call->fds, owned by the server, which closes every one
 * still >= 0 when the call completes.  Setting a slot to -1 takes the fd. */
static int h_create_xml_with_files(virtwire_server_call *call,
                                   const remote_domain_create_xml_with_files_args *a,
                                   remote_domain_create_xml_with_files_ret *r, void *opaque)
{
    server_state *st = opaque;
    (void)a;
    if (call->nfds != 2)
        return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_INTERNAL_ERROR,
                                          VIRTWIRE_VIR_FROM_RPC, "expected 2 fds, got %zu",
                                          call->nfds);
    char first[64], second[64];
    read_line(call->fds[0], first, sizeof first);
    read_line(call->fds[1], second, sizeof second);
    st->kept_fd = call->fds[1]; /* ours now */
    call->fds[1] = -1;
    printf("server: fd 0 said \"%s\", fd 1 said \"%s\"; keeping fd 1\n", first, second);
    fflush(stdout);
    char name[160];
    snprintf(name, sizeof name, "%s+%s", first, second);
    r->dom.name = virtwire_server_call_strdup(call, name);
    return r->dom.name ? 0 : -1;
}

/* fds to send go in call->ret_fds.  They are lent: the server sends them
 * (or a dup() of each, when the socket is full) during the loop round that
 * completes the call, so the handler closes its own copy after that round. */
static int h_open_graphics_fd(virtwire_server_call *call,
                              const remote_domain_open_graphics_fd_args *a, void *opaque)
{
    server_state *st = opaque;
    int p[2];
    if (st->nsent == sizeof st->sent_fds / sizeof st->sent_fds[0] || pipe(p) < 0)
        return -1;
    char msg[128];
    int len = snprintf(msg, sizeof msg, "graphics of %s, screen %u\n", a->dom.name, a->idx);
    ssize_t n = write(p[1], msg, (size_t)len);
    close(p[1]);
    if (n != len) {
        close(p[0]);
        return -1;
    }
    call->ret_fds[0] = p[0];
    call->nret_fds = 1;
    st->sent_fds[st->nsent++] = p[0];
    return 0;
}

static const remote_server_handlers handlers = {
    .domain_create_xml_with_files = h_create_xml_with_files,
    .domain_open_graphics_fd = h_open_graphics_fd,
};

static void *server_thread(void *opaque)
{
    server_state *st = opaque;
    while (!atomic_load(&st->stop)) {
        virtwire_server_run_once(st->srv, 50);
        while (st->nsent) /* the replies of this round are out */
            close(st->sent_fds[--st->nsent]);
    }
    return NULL;
}

/* ---- the client ---------------------------------------------------------- */

/* A pipe with one line in it: returns the read end (the write end is
 * closed, so the reader sees the line, then end of file). */
static int pipe_with(const char *line)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    ssize_t n = write(p[1], line, strlen(line));
    close(p[1]);
    if (n != (ssize_t)strlen(line)) {
        close(p[0]);
        return -1;
    }
    return p[0];
}

static int client(const char *uri)
{
    /* The server above only knows two procedures: no open handshake. */
    virtwire_client_options copts = { .size = sizeof copts, .flags = VIRTWIRE_CLIENT_NO_OPEN, .call_timeout_ms = 5000 };
    virtwire_client *c;
    int rc = virtwire_client_connect(uri, &copts, &c);
    if (rc < 0) {
        fprintf(stderr, "guide-fds: connect: %s\n", virtwire_strerror(rc));
        return 1;
    }
    int status = 0;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;

    /* Which procedures carry fds is in the procedure table. */
    const virtwire_proc *p = virtwire_program_find(&remote_program,
                                                   REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES);
    const virtwire_proc *q = virtwire_program_find(&remote_program,
                                                   REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD);
    printf("%s: fds in the call: %s\n", p->name, p->flags & VIRTWIRE_PROC_FDS_CALL ? "yes" : "no");
    printf("%s: fds in the reply: %s\n", q->name,
           q->flags & VIRTWIRE_PROC_FDS_REPLY ? "yes" : "no");

    /* Passing: the fds are lent to the call and stay the caller's. */
    int fds[2] = { pipe_with("alpha\n"), pipe_with("beta\n") };
    virtwire_call_opts opts = { .size = sizeof opts, .arena = &arena, .error = &err,
                                .fds = fds, .nfds = 2 };
    remote_domain_create_xml_with_files_args ca = { .xml_desc = (char *)"<domain/>" };
    remote_domain_create_xml_with_files_ret cr;
    rc = fds[0] < 0 || fds[1] < 0 ? VIRTWIRE_EIO
                                  : remote_call_domain_create_xml_with_files(c, &ca, &cr, &opts);
    close(fds[0]);
    close(fds[1]);
    if (rc == 0) {
        printf("client: created \"%s\"\n", cr.dom.name);
    } else {
        printf("client: create: %s\n", virtwire_strerror(rc));
        status = 1;
    }

    /* Receiving: up to ret_fds_max fds land in ret_fds, owned by the caller
     * (close-on-exec set); any beyond that are closed. */
    int got[1];
    virtwire_call_opts ropts = { .size = sizeof ropts, .arena = &arena, .error = &err,
                                 .ret_fds = got, .ret_fds_max = 1 };
    remote_domain_open_graphics_fd_args ga = { .dom = { .name = (char *)"demo" }, .idx = 0 };
    rc = remote_call_domain_open_graphics_fd(c, &ga, &ropts);
    if (rc == 0 && ropts.nret_fds == 1) {
        char line[128];
        read_line(got[0], line, sizeof line);
        close(got[0]);
        printf("client: received fd, read \"%s\"\n", line);
    } else {
        printf("client: open graphics: %s, %zu fds\n", virtwire_strerror(rc), ropts.nret_fds);
        status = 1;
    }

    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
    return status;
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        int help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr, "usage: guide-fds SOCKET_PATH\n");
        if (help)
            return 0;
        return 2;
    }
    server_state st = { .kept_fd = -1 };
    const remote_server_binding binding = { &handlers, &st };
    if (virtwire_server_new(NULL, NULL, &st.srv) < 0 ||
        virtwire_server_register(st.srv, &remote_program) < 0 ||
        remote_server_bind(st.srv, &binding) < 0 ||
        virtwire_server_listen_unix(st.srv, argv[1]) < 0) {
        perror("guide-fds: server");
        return 1;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, server_thread, &st) != 0)
        return 1;

    char uri[256];
    snprintf(uri, sizeof uri, "test+unix:///default?socket=%s", argv[1]);
    int status = client(uri);

    atomic_store(&st.stop, 1);
    pthread_join(th, NULL);
    if (st.kept_fd >= 0) {
        char rest[16];
        /* The client closed its copy of the pipe's read end; ours still
         * works, and the line was read: end of file. */
        ssize_t n = read(st.kept_fd, rest, sizeof rest);
        printf("server: kept fd at end of file: %s\n", n == 0 ? "yes" : "no");
        close(st.kept_fd);
    }
    virtwire_server_free(st.srv);
    return status;
}
