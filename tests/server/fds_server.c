/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A server for the fd-passing test (test_fds.c), through the generated
 * typed handler table:
 *
 *   DOMAIN_CREATE_XML_WITH_FILES (fds in): reads one byte from each fd
 *   received and answers with a domain named by those bytes, in order;
 *   the server closes the received fds when the call completes.
 *
 *   DOMAIN_OPEN_GRAPHICS_FD (fds out): answers with the read end of a new
 *   pipe holding GRAPHICS_DATA, whose write end is already closed (the
 *   client reads the data, then end of file).
 *
 *   fds_server SOCKET_PATH
 *
 * It exits once its client has come and gone, with status 0 only if it
 * then holds exactly the fds it held before the client came (no received
 * fd, pipe end or client socket leaked).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "remote_protocol_server.h"
#include "vt_server.h"
#include "vt_sys.h"

#define GRAPHICS_DATA "graphics-fd-data"

/* ret_fds are borrowed by the server: the reply (or a dup() of each fd in
 * the connection's output queue) is out when the loop round that completed
 * the call ends, so the pipe end is closed after that round.  One round
 * may serve every call the client makes (it reads until the socket is
 * empty), so there is room for all of them: the test makes 20. */
#define MAX_PENDING 256
static int to_close[MAX_PENDING];
static size_t nto_close;

static int h_create_xml_with_files(virtwire_server_call *call,
                                   const remote_domain_create_xml_with_files_args *a,
                                   remote_domain_create_xml_with_files_ret *r, void *opaque)
{
    (void)opaque;
    char *name = virtwire_server_call_alloc(call, call->nfds + 1);
    if (!name)
        return -1;
    for (size_t i = 0; i < call->nfds; i++)
        if (read(call->fds[i], &name[i], 1) != 1)
            return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_INTERNAL_ERROR,
                                              VIRTWIRE_VIR_FROM_RPC, "fd %zu: no byte", i);
    /* An xml_desc other than "<domain/>" would mean the args were garbled. */
    if (strcmp(a->xml_desc, "<domain/>") != 0)
        return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_INTERNAL_ERROR,
                                          VIRTWIRE_VIR_FROM_RPC, "bad xml '%s'", a->xml_desc);
    r->dom.name = name;
    r->dom.id = (int)call->nfds;
    return 0;
}

static int h_open_graphics_fd(virtwire_server_call *call,
                              const remote_domain_open_graphics_fd_args *a, void *opaque)
{
    (void)a;
    (void)opaque;
    int p[2];
    if (nto_close == MAX_PENDING || pipe(p) < 0)
        return -1;
    ssize_t n = write(p[1], GRAPHICS_DATA, strlen(GRAPHICS_DATA));
    close(p[1]);
    if (n != (ssize_t)strlen(GRAPHICS_DATA)) {
        close(p[0]);
        return -1;
    }
    call->ret_fds[0] = p[0];
    call->nret_fds = 1;
    to_close[nto_close++] = p[0];
    return 0;
}

static const remote_server_handlers handlers = {
    .domain_create_xml_with_files = h_create_xml_with_files,
    .domain_open_graphics_fd = h_open_graphics_fd,
};

static const remote_server_binding binding = { &handlers, NULL };

/* After each round: the read ends of the pipes whose write ends went out. */
static int close_pending(void *opaque)
{
    (void)opaque;
    while (nto_close)
        close(to_close[--nto_close]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    virtwire_server *srv;
    if (vt_remote_server(NULL, &binding, &srv) < 0 ||
        virtwire_server_listen_unix(srv, argv[1]) < 0) {
        perror("fds_server");
        return 1;
    }
    int before = vt_count_fds(0);
    /* Ends when the test's client has come and gone (bounded by the test). */
    if (vt_serve_one_client(srv, 50, close_pending, NULL) < 0)
        return 1;
    return vt_server_free_checked(srv, "fds_server", before);
}
