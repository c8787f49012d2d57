/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A server for the outstanding-request test: CONNECT_GET_LIB_VERSION is
 * deferred, and the deferred calls are answered all together once no new
 * call has reached the handler for 300 ms.  Each answer carries the number
 * of calls the handler held at that moment, which must never exceed the
 * per-client limit however many calls the client pipelines.
 *
 *   limit_server SOCKET_PATH MAX_REQUESTS
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "remote_protocol.h"
#include "virtwire_server.h"
#include "vt_server.h"

#define MAX_HELD 64

static virtwire_server_call *held[MAX_HELD];
static size_t nheld;
static long long last_ms;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int h_defer(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    if (nheld == MAX_HELD)
        return virtwire_server_call_error(call, 1, 7, "too many held calls");
    held[nheld++] = call;
    last_ms = now_ms();
    return VIRTWIRE_SERVER_DEFER;
}

static void release_all(void)
{
    size_t n = nheld;
    for (size_t i = 0; i < n; i++) {
        remote_connect_get_lib_version_ret *r = held[i]->ret;
        r->lib_ver = n;
        virtwire_server_call_complete(held[i], 0);
    }
    nheld = 0;
}

/* After each round: the held calls, answered once they are 300 ms old;
 * whether some are still held. */
static int release_due(void *opaque)
{
    (void)opaque;
    if (nheld && now_ms() - last_ms >= 300)
        release_all();
    return nheld != 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    virtwire_server *srv;
    if (virtwire_server_new(NULL, NULL, &srv) < 0 ||
        virtwire_server_register(srv, &remote_program) < 0 ||
        virtwire_server_set_handler(srv, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION,
                                    h_defer, NULL) < 0 ||
        virtwire_server_set_max_client_requests(srv, (unsigned)atoi(argv[2])) < 0 ||
        virtwire_server_listen_unix(srv, argv[1]) < 0) {
        perror("limit_server");
        return 1;
    }
    /* Ends when the test's client has come and gone and no call is held
     * (bounded by the test). */
    int rc = vt_serve_one_client(srv, 50, release_due, NULL);
    virtwire_server_free(srv);
    return rc < 0 ? 1 : 0;
}
