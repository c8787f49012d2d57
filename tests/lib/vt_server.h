/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Procedure handlers the test servers share.
 */
#ifndef VIRTWIRE_TESTS_VT_SERVER_H
#define VIRTWIRE_TESTS_VT_SERVER_H

#include "remote_protocol.h"
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

#endif
