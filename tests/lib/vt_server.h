/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the test servers share: a server of the remote program, handlers.
 */
#ifndef VIRTWIRE_TESTS_VT_SERVER_H
#define VIRTWIRE_TESTS_VT_SERVER_H

#include "remote_protocol.h"
#include "remote_protocol_server.h"
#include "virtwire_facts.h"
#include "virtwire_server.h"

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

#endif
