/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A server for the keepalive test: own PINGs every INTERVAL_MS of a
 * client's silence, COUNT of them, and a loop that polls with no timeout
 * of its own (virtwire_server_run_once(srv, -1)), so only the server's
 * keepalive deadlines wake it while the client is silent.
 *
 *   CONNECT_SUPPORTS_FEATURE: yes to keepalive (10), no to the rest;
 *   STORAGE_VOL_UPLOAD: opens a write stream that takes any data;
 *   CONNECT_GET_LIB_VERSION: deferred, never answered while the client
 *   is there; at most one call at a time per client.
 *
 *   keepalive_server SOCKET_PATH INTERVAL_MS COUNT
 *
 * Prints "ready", then what it sees of the client going:
 *   stream closed                      (the upload stream's on_close)
 *   closed ERROR OUTSTANDING KEEPALIVE (on_close: virtwire_server_client_error(),
 *                                       calls deferred, PINGs on)
 *   orphaned N                         (deferred calls left without a client)
 * It exits once its client has come and gone, with status 0 only if it
 * then holds exactly the fds it held before the client came.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include "remote_protocol_server.h"
#include "vt_server.h"
#include "vt_sys.h"

#define MAX_HELD 16

static virtwire_server_call *held[MAX_HELD];
static size_t nheld;

static int h_supports_feature(virtwire_server_call *call,
                              const remote_connect_supports_feature_args *a,
                              remote_connect_supports_feature_ret *r, void *opaque)
{
    (void)call;
    (void)opaque;
    r->supported = a->feature == 10; /* VIR_DRV_FEATURE_PROGRAM_KEEPALIVE */
    return 0;
}

static int h_lib_version(virtwire_server_call *call, remote_connect_get_lib_version_ret *r,
                         void *opaque)
{
    (void)r;
    (void)opaque;
    if (nheld == MAX_HELD)
        return -1;
    held[nheld++] = call;
    return VIRTWIRE_SERVER_DEFER;
}

static int upload_data(virtwire_server_stream *s, const void *data, size_t len, void *opaque)
{
    (void)s;
    (void)data;
    (void)len;
    (void)opaque;
    return 0;
}

static void upload_close(virtwire_server_stream *s, void *opaque)
{
    (void)s;
    (void)opaque;
    printf("stream closed\n");
}

static int h_vol_upload(virtwire_server_call *call, const remote_storage_vol_upload_args *a,
                        void *opaque)
{
    (void)a;
    (void)opaque;
    static const virtwire_server_stream_callbacks cbs = { .size = sizeof cbs, .on_data = upload_data,
                                                          .on_close = upload_close };
    return virtwire_server_call_stream(call, 0, &cbs, NULL) ? 0 : -1;
}

static const remote_server_handlers handlers = {
    .connect_supports_feature = h_supports_feature,
    .connect_get_lib_version = h_lib_version,
    .storage_vol_upload = h_vol_upload,
};

static const remote_server_binding binding = { &handlers, NULL };

static void on_close(virtwire_server_client *c, void *opaque)
{
    (void)opaque;
    int err = virtwire_server_client_error(c);
    printf("closed %s %u %d\n", err == VIRTWIRE_EKEEPALIVE ? "keepalive" : virtwire_strerror(err),
           virtwire_server_client_outstanding(c), virtwire_server_client_keepalive(c));
}

/* After each round: what on_close printed reaches the test at once. */
static int flush_stdout(void *opaque)
{
    (void)opaque;
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    virtwire_server_callbacks cbs = { .size = sizeof cbs, .on_close = on_close };
    virtwire_server *srv;
    if (vt_remote_server(&cbs, &binding, &srv) < 0 ||
        virtwire_server_set_max_client_requests(srv, 1) < 0 ||
        virtwire_server_set_keepalive(srv, atoi(argv[2]), (unsigned)atoi(argv[3])) < 0 ||
        virtwire_server_listen_unix(srv, argv[1]) < 0) {
        perror("keepalive_server");
        return 1;
    }
    int before = vt_count_fds(0);
    /* Ends when the test's client has come and gone (bounded by the test). */
    if (vt_serve_one_client(srv, -1, flush_stdout, NULL) < 0)
        return 1;
    size_t orphaned = 0;
    for (size_t i = 0; i < nheld; i++) {
        orphaned += held[i]->client == NULL;
        virtwire_server_call_complete(held[i], 0);
    }
    printf("orphaned %zu\n", orphaned);
    return vt_server_free_checked(srv, "keepalive_server", before);
}
