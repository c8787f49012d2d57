/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire sessions: polkit authentication, client side (AUTH_POLKIT).
 * The daemon asks polkit whether the process at the other end of the
 * unix socket may use it (org.libvirt.unix.manage, or .monitor read-only);
 * all the client does is ask, and hear yes or the daemon's error.
 */
#include "remote_protocol.h"
#include "virtwire_session.h"
#include "virtwire_session_internal.h"

static int polkit_run(const virtwire_auth_method *self, const virtwire_auth_context *ctx)
{
    (void)self;
    vw_session s = {
        .opts = ctx->options,
        .uri = ctx->uri,
        .timeout_ms = ctx->timeout_ms,
        .errbuf = ctx->errbuf,
        .errbuf_len = ctx->errbuf_len,
    };
    remote_auth_polkit_ret ret = { 0 };
    int rc = vw_session_call(ctx->client, &s, &remote_program, REMOTE_PROC_AUTH_POLKIT, NULL,
                             &ret, NULL);
    /* A refusal is the daemon's error reply (its message is in errbuf). */
    if (rc == VIRTWIRE_EREMOTE)
        return VIRTWIRE_EAUTH;
    if (rc == 0 && !ret.complete) {
        vw_errorf(ctx->errbuf, ctx->errbuf_len,
                          "authentication failed: polkit authentication did not complete");
        return VIRTWIRE_EAUTH;
    }
    return rc;
}

const virtwire_auth_method virtwire_auth_polkit = {
    .size = sizeof virtwire_auth_polkit,
    .type = REMOTE_AUTH_POLKIT,
    .name = "polkit",
    .run = polkit_run,
};
