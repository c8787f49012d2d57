/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire sessions, server side: AUTH_LIST and AUTH_POLKIT as libvirtd
 * answers them.  See virtwire_session_server.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "virtwire_session_server.h"

#include <stdlib.h>
#include <string.h>

#include "remote_protocol.h"
#include "virtwire_sized_internal.h"

/* virErrorDomain VIR_FROM_POLKIT: the domain of a polkit refusal. */
#define VIR_FROM_POLKIT_ 60
#define ALLOW_UIDS_MAX 64

struct virtwire_session_server {
    virtwire_session_server_opts opts;
    uid_t allow_uids[ALLOW_UIDS_MAX];
};

static int offers(virtwire_server_client *c, int type)
{
    size_t n;
    const int *types = virtwire_server_client_auth_types(c, &n);
    for (size_t i = 0; i < n; i++)
        if (types[i] == type)
            return 1;
    return 0;
}

/*
 * Fails the call with an error laid out as libvirtd's virReportError()
 * leaves it on the wire: the message "PREFIX: DETAIL" (the code's own
 * words, then the detail), the code's format "PREFIX: %s" in str1, the
 * detail in str2, int1 and int2 -1.  Without memory for the extra
 * fields, the message alone (without memory for the message, the
 * server's out-of-memory error).
 */
static int report(virtwire_server_call *call, int code, int domain, const char *prefix,
                  const char *detail)
{
    virtwire_server_call_error(call, code, domain, "%s: %s", prefix, detail);
    char **s1 = virtwire_server_call_alloc(call, 2 * sizeof *s1);
    char *format = virtwire_server_call_alloc(call, strlen(prefix) + 5);
    char *d = virtwire_server_call_strdup(call, detail);
    if (s1 && format && d && call->error.code == code) {
        memcpy(format, prefix, strlen(prefix));
        memcpy(format + strlen(prefix), ": %s", 5);
        s1[0] = format;
        s1[1] = d;
        call->error.str1 = &s1[0];
        call->error.str2 = &s1[1];
        call->error.int1 = -1;
        call->error.int2 = -1;
    }
    return -1;
}

static int auth_list(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    virtwire_server_client *c = call->client;
    remote_auth_list_ret *ret = call->ret;
    size_t n;
    const int *types = virtwire_server_client_auth_types(c, &n);
    uid_t uid;
    if (virtwire_server_client_authenticated(c)) {
        /* libvirtd: a client that needs no (more) authentication is
         * offered none, also after it has authenticated. */
        n = 0;
    } else if (offers(c, REMOTE_AUTH_POLKIT) &&
               virtwire_server_client_peer_cred(c, NULL, &uid, NULL) == 0 && uid == 0) {
        /* libvirtd lets root through a polkit listener without asking
         * polkit, so that a broken polkit cannot lock root out. */
        virtwire_server_client_set_authenticated(c);
        n = 0;
    }
    remote_auth_type *val = virtwire_server_call_alloc(call, (n ? n : 1) * sizeof *val);
    if (!val)
        return -1; /* the server answers out of memory */
    for (size_t i = 0; i < n; i++)
        val[i] = (remote_auth_type)types[i];
    if (n == 0)
        val[0] = REMOTE_AUTH_NONE;
    ret->types.types_len = n ? (unsigned int)n : 1u;
    ret->types.types_val = val;
    return 0;
}

static int auth_polkit(virtwire_server_call *call, void *opaque)
{
    virtwire_session_server *ss = opaque;
    virtwire_server_client *c = call->client;
    remote_auth_polkit_ret *ret = call->ret;
    pid_t pid;
    uid_t uid;
    gid_t gid;
    if (virtwire_server_client_authenticated(c) || !offers(c, REMOTE_AUTH_POLKIT))
        /* Not (or no longer) the client's method.  libvirtd only logs
         * "client tried invalid PolicyKit init request" and fails the call
         * without an error of its own, which its RPC layer answers with
         * this one. */
        return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_INTERNAL_ERROR,
                                          VIRTWIRE_VIR_FROM_RPC,
                                          "Library function returned error but did not set "
                                          "virError");
    if (virtwire_server_client_peer_cred(c, &pid, &uid, &gid) < 0)
        return report(call, VIRTWIRE_VIR_ERR_AUTH_FAILED, VIRTWIRE_VIR_FROM_RPC,
                      "authentication failed", "the client's credentials are unknown");
    const char *action = virtwire_server_client_readonly(c) ? "org.libvirt.unix.monitor"
                                                            : "org.libvirt.unix.manage";
    /* polkit authorises root for anything, before any rule. */
    int allow = uid == 0;
    if (allow) {
        /* nothing to ask */
    } else if (ss->opts.polkit) {
        allow = ss->opts.polkit(c, pid, uid, gid, action, ss->opts.polkit_opaque) != 0;
    } else {
        for (size_t i = 0; i < ss->opts.nallow_uids; i++)
            allow |= ss->allow_uids[i] == uid;
    }
    if (!allow)
        return report(call, VIRTWIRE_VIR_ERR_AUTH_FAILED, VIR_FROM_POLKIT_,
                      "authentication failed", "access denied by policy");
    virtwire_server_client_set_authenticated(c);
    ret->complete = 1;
    return 0;
}

/* AUTH_SASL_INIT, _START and _STEP until a SASL library takes them over:
 * libvirtd's answer when SASL is not the client's method (or libvirtd
 * has no SASL). */
static int auth_sasl(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    return report(call, VIRTWIRE_VIR_ERR_AUTH_FAILED, VIRTWIRE_VIR_FROM_RPC,
                  "authentication failed", "authentication failed");
}

int virtwire_session_server_new(virtwire_server *srv, const virtwire_program *remote,
                                const virtwire_session_server_opts *opts,
                                virtwire_session_server **out)
{
    virtwire_session_server_opts o = { .size = sizeof o };
    if (out)
        *out = NULL;
    if (!srv || !remote || !out || remote->program != REMOTE_PROGRAM ||
        (opts && vw_sized_copy(&o, sizeof o, opts) < 0) || o.nallow_uids > ALLOW_UIDS_MAX ||
        (o.nallow_uids && !o.allow_uids))
        return VIRTWIRE_EINVAL;
    virtwire_session_server *ss = calloc(1, sizeof *ss);
    if (!ss)
        return VIRTWIRE_ENOMEM;
    ss->opts = o;
    if (o.nallow_uids)
        memcpy(ss->allow_uids, o.allow_uids, o.nallow_uids * sizeof *ss->allow_uids);
    ss->opts.allow_uids = NULL; /* the copy above is ours */
    int rc = virtwire_server_set_handler(srv, remote, REMOTE_PROC_AUTH_LIST, auth_list, ss);
    if (rc == 0)
        rc = virtwire_server_set_handler(srv, remote, REMOTE_PROC_AUTH_POLKIT, auth_polkit, ss);
    static const int32_t sasl_procs[] = { REMOTE_PROC_AUTH_SASL_INIT, REMOTE_PROC_AUTH_SASL_START,
                                          REMOTE_PROC_AUTH_SASL_STEP };
    for (size_t i = 0; rc == 0 && i < sizeof sasl_procs / sizeof *sasl_procs; i++)
        rc = virtwire_server_set_handler(srv, remote, sasl_procs[i], auth_sasl, ss);
    if (rc < 0) {
        free(ss);
        return rc;
    }
    *out = ss;
    return 0;
}

void virtwire_session_server_free(virtwire_session_server *ss)
{
    free(ss);
}
