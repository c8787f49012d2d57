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

static int auth_list(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    virtwire_server_client *c = call->client;
    remote_auth_list_ret *ret = call->ret;
    size_t n;
    const int *types = virtwire_server_client_auth_types(c, &n);
    uid_t uid;
    /* libvirtd lets root through a polkit listener without asking polkit,
     * so that a broken polkit cannot lock root out. */
    if (offers(c, REMOTE_AUTH_POLKIT) &&
        virtwire_server_client_peer_cred(c, NULL, &uid, NULL) == 0 && uid == 0) {
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
    if (!offers(c, REMOTE_AUTH_POLKIT) ||
        virtwire_server_client_peer_cred(c, &pid, &uid, &gid) < 0)
        return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_AUTH_FAILED, VIRTWIRE_VIR_FROM_RPC,
                                          "authentication failed");
    const char *action = virtwire_server_client_readonly(c) ? "org.libvirt.unix.monitor"
                                                            : "org.libvirt.unix.manage";
    int allow = 0;
    if (ss->opts.polkit) {
        allow = ss->opts.polkit(c, pid, uid, gid, action, ss->opts.polkit_opaque) != 0;
    } else {
        for (size_t i = 0; i < ss->opts.nallow_uids; i++)
            allow |= ss->allow_uids[i] == uid;
    }
    if (!allow)
        return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_AUTH_FAILED, VIR_FROM_POLKIT_,
                                          "authentication failed: access denied by policy");
    virtwire_server_client_set_authenticated(c);
    ret->complete = 1;
    return 0;
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
