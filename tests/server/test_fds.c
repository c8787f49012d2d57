/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fd passing through the server, both ways, driven by our client with the
 * generated typed calls against fds_server (see there):
 *
 *   fds in:  DOMAIN_CREATE_XML_WITH_FILES with three pipes, each holding
 *            one byte the test chose; the returned domain's name is what
 *            the server read, and the pipes are then empty (the server read
 *            from these very pipes) but still open here (the client only
 *            borrows them);
 *   fds out: DOMAIN_OPEN_GRAPHICS_FD returns a pipe holding the server's
 *            data and then end of file, close-on-exec; with ret_fds_max 0
 *            the client closes the fd it received itself.
 *
 * Repeated, then the client is closed: the test's process must hold exactly
 * the fds it held before connecting, and the server (which checks its own)
 * must exit with status 0.
 *
 *   test_server_fds [LAUNCHER] FDS_SERVER
 *
 * LAUNCHER, when given, runs the server (tests/valgrind/launch).
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "remote_protocol_client.h"
#include "vt_check.h"
#include "vt_sys.h"

#define ROUNDS 10
#define NPIPES 3
#define GRAPHICS_DATA "graphics-fd-data" /* what fds_server writes */

/* Starts the server (through launcher, if not NULL) and waits for its
 * "ready" line. */
static pid_t start_server(const char *launcher, const char *exe, const char *sock)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        if (launcher)
            execl(launcher, launcher, exe, sock, (char *)NULL);
        else
            execl(exe, exe, sock, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char line[16] = { 0 };
    REQUIRE(read(p[0], line, sizeof line - 1) > 0 && strcmp(line, "ready\n") == 0);
    close(p[0]);
    return pid;
}

static virtwire_client *connect_to(const char *sock)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    REQUIRE(strlen(sock) < sizeof sa.sun_path);
    strcpy(sa.sun_path, sock);
    REQUIRE(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    /* The server has no open handshake: raw calls only. */
    virtwire_client_options o = { .size = sizeof o, .flags = VIRTWIRE_CLIENT_NO_OPEN, .call_timeout_ms = 10000 };
    virtwire_client *c = NULL;
    REQUIRE(virtwire_client_adopt(fd, 1, &o, &c) == 0);
    return c;
}

/* fds in: one byte per pipe, read back by the server as the domain name. */
static void create_with_files(virtwire_client *c, int round)
{
    int rd[NPIPES];
    char want[NPIPES + 1] = { 0 };
    for (int i = 0; i < NPIPES; i++) {
        int p[2];
        REQUIRE(pipe(p) == 0);
        want[i] = (char)('a' + (round * NPIPES + i) % 26);
        REQUIRE(write(p[1], &want[i], 1) == 1);
        close(p[1]);
        rd[i] = p[0];
    }
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .fds = rd, .nfds = NPIPES };
    remote_domain_create_xml_with_files_args args = { .xml_desc = (char *)"<domain/>" };
    remote_domain_create_xml_with_files_ret ret;
    REQUIRE(remote_call_domain_create_xml_with_files(c, &args, &ret, &o) == 0);
    REQUIRE(strcmp(ret.dom.name, want) == 0);
    REQUIRE(ret.dom.id == NPIPES);
    for (int i = 0; i < NPIPES; i++) {
        char b;
        /* Still ours, and empty: the server consumed the byte. */
        REQUIRE(fcntl(rd[i], F_GETFD) >= 0);
        REQUIRE(read(rd[i], &b, 1) == 0);
        close(rd[i]);
    }
    virtwire_arena_fini(&arena);
}

/* fds out: the pipe the server returns, read to its end. */
static void open_graphics_fd(virtwire_client *c)
{
    int got[4] = { -1, -1, -1, -1 };
    virtwire_call_opts o = { .size = sizeof o, .ret_fds = got, .ret_fds_max = 4 };
    remote_domain_open_graphics_fd_args args = { .dom = { .name = (char *)"test" } };
    REQUIRE(remote_call_domain_open_graphics_fd(c, &args, &o) == 0);
    REQUIRE(o.nret_fds == 1 && got[0] >= 0 && got[1] == -1);
    REQUIRE(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
    char buf[64];
    size_t len = 0;
    ssize_t n;
    while ((n = read(got[0], buf + len, sizeof buf - len)) > 0)
        len += (size_t)n;
    REQUIRE(n == 0);
    REQUIRE(len == strlen(GRAPHICS_DATA) && memcmp(buf, GRAPHICS_DATA, len) == 0);
    close(got[0]);

    /* No room for the fd: the client must close it (checked by the count). */
    virtwire_call_opts none = { .size = sizeof none };
    REQUIRE(remote_call_domain_open_graphics_fd(c, &args, &none) == 0);
    REQUIRE(none.nret_fds == 0);
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3)
        return 2;
    alarm(40); /* bounded whatever happens */
    signal(SIGPIPE, SIG_IGN);
    char sock[64];
    snprintf(sock, sizeof sock, "fds.%ld.sock", (long)getpid());
    pid_t server = start_server(argc == 3 ? argv[1] : NULL, argv[argc - 1], sock);

    int before = vt_count_fds(0);
    virtwire_client *c = connect_to(sock);
    for (int round = 0; round < ROUNDS; round++) {
        create_with_files(c, round);
        open_graphics_fd(c);
    }
    virtwire_client_close(c);
    int after = vt_count_fds(0);
    if (after != before) {
        fprintf(stderr, "test_server_fds: %d fds before, %d after\n", before, after);
        return 1;
    }

    int status;
    REQUIRE(waitpid(server, &status, 0) == server);
    REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("server.fds: ok (%d rounds)\n", ROUNDS);
    return 0;
}
