/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the test servers share: a server of the remote program, handlers.
 */
#ifndef VIRTWIRE_TESTS_VT_SERVER_H
#define VIRTWIRE_TESTS_VT_SERVER_H

#include <stdio.h>

#include "remote_protocol.h"
#include "remote_protocol_server.h"
#include "virtwire_facts.h"
#include "virtwire_server.h"
#include "vt_sys.h"

/** CONNECT_SUPPORTS_FEATURE: keepalive (VIR_DRV_FEATURE_PROGRAM_KEEPALIVE)
 *  yes, so that the server pings the client; every other feature no. */
static inline int vt_h_supports_feature(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    const remote_connect_supports_feature_args *a = call->args;
    remote_connect_supports_feature_ret *r = call->ret;
    r->supported = a->feature == VIRTWIRE_VIR_DRV_FEATURE_PROGRAM_KEEPALIVE;
    return 0;
}

/** A server (callbacks cbs, may be NULL) that speaks the remote program
 *  with binding's handlers; 0, or -1 (the server may be left in *srv). */
static inline int vt_remote_server(const virtwire_server_callbacks *cbs,
                                   const remote_server_binding *binding, virtwire_server **srv)
{
    if (virtwire_server_new(cbs, NULL, srv) < 0)
        return -1;
    if (virtwire_server_register(*srv, &remote_program) < 0 ||
        remote_server_bind(*srv, binding) < 0)
        return -1;
    return 0;
}

/** The loop of a test's server program for one client: prints "ready" (the
 *  test waits for it; srv listens by then), then runs rounds of timeout_ms
 *  (-1: until something happens) until a client has come and gone.  After
 *  each round round(opaque), when not NULL, does the program's own work and
 *  says whether some is left (serving goes on while it is).  0, or -1 when
 *  a round failed. */
static inline int vt_serve_one_client(virtwire_server *srv, int timeout_ms,
                                      int (*round)(void *opaque), void *opaque)
{
    printf("ready\n");
    fflush(stdout);
    int seen = 0;
    for (;;) {
        if (virtwire_server_run_once(srv, timeout_ms) < 0)
            return -1;
        int busy = round ? round(opaque) : 0;
        if (virtwire_server_nclients(srv))
            seen = 1;
        else if (seen && !busy)
            return 0;
    }
}

/** Compares the program's open fds with before (counted after srv began
 *  to listen, before the client came), then frees srv: the exit status, 1
 *  (said on stderr, with the program's name) when they differ. */
static inline int vt_server_free_checked(virtwire_server *srv, const char *name, int before)
{
    int after = vt_count_fds(0);
    virtwire_server_free(srv);
    if (after != before) {
        fprintf(stderr, "%s: %d fds before the client, %d after\n", name, before, after);
        return 1;
    }
    return 0;
}

#endif
