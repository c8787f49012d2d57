/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire client: libvirt's open handshake and the goodbye at close.
 * See virtwire_client.h for the API and virtwire_client_internal.h for how
 * the client's files divide the work, its locking and its threads.
 */
#include "admin_protocol.h"
#include "remote_protocol.h"
#include "virtwire_client_internal.h"

static int open_call(virtwire_client *c, int timeout, const virtwire_program *prog, int32_t proc,
                     const void *args, void *ret, virtwire_arena *arena)
{
    virtwire_call_opts o = { .size = sizeof o, .arena = arena, .timeout_ms = timeout };
    return virtwire_client_call(c, prog, proc, args, ret, &o);
}

static int check_auth(virtwire_client *c, int timeout, virtwire_arena *arena)
{
    remote_auth_list_ret auth;
    int rc = open_call(c, timeout, &remote_program, REMOTE_PROC_AUTH_LIST, NULL, &auth, arena);
    if (rc < 0)
        return rc;
    /* libvirt's client takes the first method it implements; an empty
     * list means none is needed. */
    if (auth.types.types_len == 0)
        return 0;
    for (unsigned i = 0; i < auth.types.types_len; i++) {
        remote_auth_type t = auth.types.types_val[i];
        if (t == REMOTE_AUTH_NONE || t == REMOTE_AUTH_POLKIT)
            return 0;
    }
    return VIRTWIRE_EAUTH;
}

static int remote_handshake(virtwire_client *c, const virtwire_client_options *o,
                            const char *name, int timeout)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    int rc = check_auth(c, timeout, &arena);

    remote_connect_supports_feature_args fa = { VIRTWIRE_VIR_DRV_FEATURE_PROGRAM_KEEPALIVE };
    remote_connect_supports_feature_ret fr = { 0 };
    if (rc == 0)
        rc = open_call(c, timeout, &remote_program, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, &fa,
                       &fr, &arena);
    if (rc == 0 && fr.supported && o->keepalive_interval_ms) {
        pthread_mutex_lock(&c->lock);
        rc = virtwire_transport_keepalive_start(c->t, o->keepalive_interval_ms,
                                                o->keepalive_count);
        vw_client_wake_owner(c); /* the poll timeout changed */
        pthread_mutex_unlock(&c->lock);
    }

    char *n = (char *)name;
    remote_connect_open_args oa = {
        .name = name ? &n : NULL,
        .flags = o->open_flags | ((o->flags & VIRTWIRE_CLIENT_READONLY) ? VIRTWIRE_VIR_CONNECT_RO : 0),
    };
    if (rc == 0)
        rc = open_call(c, timeout, &remote_program, REMOTE_PROC_CONNECT_OPEN, &oa, NULL, &arena);
    virtwire_arena_fini(&arena);
    return rc;
}

int vw_client_handshake(virtwire_client *c, const virtwire_client_options *o, const char *name)
{
    int timeout = o->open_timeout_ms > 0 ? o->open_timeout_ms : OPEN_TIMEOUT_DEFAULT_MS;
    int rc;
    if (o->flags & VIRTWIRE_CLIENT_NO_OPEN)
        return 0;
    if (o->flags & VIRTWIRE_CLIENT_ADMIN) {
        admin_connect_open_args a = { o->open_flags };
        rc = open_call(c, timeout, &admin_program, ADMIN_PROC_CONNECT_OPEN, &a, NULL, NULL);
    } else {
        rc = remote_handshake(c, o, name, timeout);
    }
    if (rc == 0)
        c->opened = 1;
    if (rc == 0)
        rc = vw_client_learn_version(c, o);
    return rc;
}

void vw_client_goodbye(virtwire_client *c)
{
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = CLOSE_TIMEOUT_MS };
    if (c->admin)
        virtwire_client_call(c, &admin_program, ADMIN_PROC_CONNECT_CLOSE, NULL, NULL, &o);
    else
        virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_CLOSE, NULL, NULL, &o);
}
