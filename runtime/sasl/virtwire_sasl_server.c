/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire SASL: AUTH_SASL_INIT, _START and _STEP served as libvirtd
 * serves them (remoteDispatchAuthSasl*).  See virtwire_sasl.h.
 */
#define _GNU_SOURCE

#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "remote_protocol.h"
#include "virtwire_sasl.h"
#include "virtwire_sasl_cyrus_internal.h"
#include "virtwire_sized_internal.h"

#define ALLOWED_MAX 64
/* libvirtd's error for every refusal (the detail stays in the daemon). */
#define AUTH_FAILED "authentication failed: authentication failed"

struct virtwire_sasl_server {
    unsigned int tcp_min_ssf;
    char *allowed[ALLOWED_MAX + 1]; /* NULL-terminated; allowed[0] NULL: everyone */
    int has_list;
};

/* Per client, attached under the server's address. */
typedef struct client_state {
    vw_sasl_conn *sasl; /* during the exchange; the layer's afterwards */
    char *mechlist;     /* what INIT offered */
    char *identity;     /* once authenticated */
    int started;        /* START went through: STEP may follow */
    int done;
} client_state;

static pthread_once_t server_once = PTHREAD_ONCE_INIT;
static int server_init_err;

static void server_init(void)
{
    server_init_err = sasl_server_init(NULL, "libvirt");
}

static void state_free(void *p)
{
    client_state *st = p;
    if (!st)
        return;
    vw_sasl_conn_free(st->sasl);
    free(st->mechlist);
    free(st->identity);
    free(st);
}

static int offers_sasl(virtwire_server_client *c)
{
    size_t n;
    const int *types = virtwire_server_client_auth_types(c, &n);
    for (size_t i = 0; i < n; i++)
        if (types[i] == REMOTE_AUTH_SASL)
            return 1;
    return 0;
}

static int refuse(virtwire_server_call *call, virtwire_sasl_server *srv)
{
    /* The session is over: a new INIT may start another one. */
    client_state *st = virtwire_server_client_attached(call->client, srv);
    if (st && !st->done)
        virtwire_server_client_attach(call->client, srv, NULL, NULL);
    return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_AUTH_FAILED, VIRTWIRE_VIR_FROM_RPC,
                                      AUTH_FAILED);
}

static int auth_init(virtwire_server_call *call, void *opaque)
{
    virtwire_sasl_server *srv = opaque;
    virtwire_server_client *c = call->client;
    remote_auth_sasl_init_ret *ret = call->ret;
    client_state *st = virtwire_server_client_attached(c, srv);
    if (!offers_sasl(c) || st)
        return virtwire_server_call_error(call, VIRTWIRE_VIR_ERR_AUTH_FAILED,
                                          VIRTWIRE_VIR_FROM_RPC, AUTH_FAILED);
    st = calloc(1, sizeof *st);
    if (!st || !(st->sasl = calloc(1, sizeof *st->sasl)) ||
        virtwire_server_client_attach(c, srv, st, state_free) < 0) {
        state_free(st);
        return -1; /* out of memory */
    }
    virtwire_channel *ch = virtwire_server_client_channel(c);
    char *laddr = vw_sasl_addr(virtwire_channel_fd(ch), 0);
    char *raddr = vw_sasl_addr(virtwire_channel_fd(ch), 1);
    int err = sasl_server_new("libvirt", NULL, NULL, laddr, raddr, NULL, SASL_SUCCESS_DATA,
                              &st->sasl->conn);
    free(laddr);
    free(raddr);
    if (err != SASL_OK)
        return refuse(call, srv);
    sasl_ssf_t ext = virtwire_channel_ssf(ch);
    if (ext && sasl_setprop(st->sasl->conn, SASL_SSF_EXTERNAL, &ext) != SASL_OK)
        return refuse(call, srv);
    int secure = vw_sasl_channel_secure(ch);
    sasl_security_properties_t sp = {
        .min_ssf = secure ? 0 : srv->tcp_min_ssf,
        .max_ssf = secure ? 0 : 100000,
        .maxbufsize = VW_SASL_MAXBUF,
        .security_flags = secure ? 0 : SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT,
    };
    if (sasl_setprop(st->sasl->conn, SASL_SEC_PROPS, &sp) != SASL_OK)
        return refuse(call, srv);
    const char *list = NULL;
    err = sasl_listmech(st->sasl->conn, NULL, "", ",", "", &list, NULL, NULL);
    if (err != SASL_OK || !list || !*list || !(st->mechlist = strdup(list)))
        return refuse(call, srv);
    ret->mechlist = virtwire_server_call_strdup(call, list);
    return ret->mechlist ? 0 : -1;
}

/* Whether mech is one INIT offered (a comma-separated list). */
static int offered(const char *list, const char *mech)
{
    size_t n = strlen(mech);
    for (const char *p = list; n && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncasecmp(p, mech, n) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static int allowed(const virtwire_sasl_server *srv, const char *identity)
{
    if (!srv->has_list)
        return 1;
    for (char *const *p = srv->allowed; *p; p++)
        if (fnmatch(*p, identity, 0) == 0)
            return 1;
    return 0;
}

/* The exchange is complete: libvirtd's remoteSASLFinish, then the reply,
 * then the security layer. */
static int finish(virtwire_server_call *call, virtwire_sasl_server *srv, client_state *st)
{
    virtwire_server_client *c = call->client;
    int secure = vw_sasl_channel_secure(virtwire_server_client_channel(c));
    int ssf = vw_sasl_ssf(st->sasl->conn);
    if (ssf < 0 || (!secure && (unsigned)ssf < srv->tcp_min_ssf))
        return refuse(call, srv);
    const void *v = NULL;
    if (sasl_getprop(st->sasl->conn, SASL_USERNAME, &v) != SASL_OK || !v ||
        !allowed(srv, v) || !(st->identity = strdup(v)))
        return refuse(call, srv);
    if (ssf > 0 && virtwire_server_call_wrap_channel(call, vw_sasl_wrap, &st->sasl) < 0)
        return refuse(call, srv);
    st->done = 1;
    virtwire_server_client_set_authenticated(c);
    return 0;
}

/* Fills complete/nil/data of a START or STEP reply. */
static int reply(virtwire_server_call *call, virtwire_sasl_server *srv, client_state *st,
                 int err, const char *out, unsigned outlen, int *complete, int *nil,
                 unsigned *len, char **val)
{
    if (err != SASL_OK && err != SASL_CONTINUE)
        return refuse(call, srv);
    if (outlen > REMOTE_AUTH_SASL_DATA_MAX)
        return refuse(call, srv);
    *nil = out ? 0 : 1;
    *len = outlen;
    if (out && outlen) {
        *val = virtwire_server_call_alloc(call, outlen);
        if (!*val)
            return -1;
        memcpy(*val, out, outlen);
    }
    if (err == SASL_CONTINUE) {
        *complete = 0;
        return 0;
    }
    *complete = 1;
    return finish(call, srv, st);
}

static client_state *running(virtwire_server_call *call, virtwire_sasl_server *srv)
{
    client_state *st = virtwire_server_client_attached(call->client, srv);
    return offers_sasl(call->client) && st && !st->done && st->sasl && st->sasl->conn ? st
                                                                                       : NULL;
}

static int auth_start(virtwire_server_call *call, void *opaque)
{
    virtwire_sasl_server *srv = opaque;
    const remote_auth_sasl_start_args *a = call->args;
    remote_auth_sasl_start_ret *ret = call->ret;
    client_state *st = running(call, srv);
    /* A mechanism INIT did not offer is refused before SASL sees it. */
    if (!st || !a->mech || !offered(st->mechlist, a->mech))
        return refuse(call, srv);
    const char *out = NULL;
    unsigned outlen = 0;
    int err = sasl_server_start(st->sasl->conn, a->mech, a->nil ? NULL : a->data.data_val,
                                a->data.data_len, &out, &outlen);
    st->started = 1;
    return reply(call, srv, st, err, out, outlen, &ret->complete, &ret->nil, &ret->data.data_len,
                 &ret->data.data_val);
}

static int auth_step(virtwire_server_call *call, void *opaque)
{
    virtwire_sasl_server *srv = opaque;
    const remote_auth_sasl_step_args *a = call->args;
    remote_auth_sasl_step_ret *ret = call->ret;
    client_state *st = running(call, srv);
    /* Cyrus SASL has no mechanism to step before START: it would crash. */
    if (!st || !st->started)
        return refuse(call, srv);
    const char *out = NULL;
    unsigned outlen = 0;
    int err = sasl_server_step(st->sasl->conn, a->nil ? NULL : a->data.data_val, a->data.data_len,
                               &out, &outlen);
    return reply(call, srv, st, err, out, outlen, &ret->complete, &ret->nil, &ret->data.data_len,
                 &ret->data.data_val);
}

const char *virtwire_sasl_server_identity(const virtwire_sasl_server *s,
                                          const virtwire_server_client *c)
{
    const client_state *st = s && c ? virtwire_server_client_attached(c, s) : NULL;
    return st && st->done ? st->identity : NULL;
}

void virtwire_sasl_server_free(virtwire_sasl_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < ALLOWED_MAX && s->allowed[i]; i++)
        free(s->allowed[i]);
    free(s);
}

int virtwire_sasl_server_new(virtwire_server *srv, const virtwire_program *remote,
                             const virtwire_sasl_server_opts *opts, virtwire_sasl_server **out)
{
    virtwire_sasl_server_opts o = { .size = sizeof o };
    if (out)
        *out = NULL;
    if (!srv || !remote || !out || remote->program != REMOTE_PROGRAM ||
        (opts && vw_sized_copy(&o, sizeof o, opts) < 0))
        return VIRTWIRE_EINVAL;
    pthread_once(&server_once, server_init);
    if (server_init_err != SASL_OK)
        return VIRTWIRE_EAUTH;
    virtwire_sasl_server *s = calloc(1, sizeof *s);
    if (!s)
        return VIRTWIRE_ENOMEM;
    s->tcp_min_ssf = o.tcp_min_ssf ? o.tcp_min_ssf : 56;
    if (o.allowed_usernames) {
        s->has_list = 1;
        for (size_t i = 0; o.allowed_usernames[i]; i++) {
            if (i == ALLOWED_MAX || !(s->allowed[i] = strdup(o.allowed_usernames[i]))) {
                int rc = i == ALLOWED_MAX ? VIRTWIRE_EINVAL : VIRTWIRE_ENOMEM;
                virtwire_sasl_server_free(s);
                return rc;
            }
        }
    }
    int rc = virtwire_server_set_handler(srv, remote, REMOTE_PROC_AUTH_SASL_INIT, auth_init, s);
    if (rc == 0)
        rc = virtwire_server_set_handler(srv, remote, REMOTE_PROC_AUTH_SASL_START, auth_start, s);
    if (rc == 0)
        rc = virtwire_server_set_handler(srv, remote, REMOTE_PROC_AUTH_SASL_STEP, auth_step, s);
    if (rc < 0) {
        virtwire_sasl_server_free(s);
        return rc;
    }
    *out = s;
    return 0;
}
