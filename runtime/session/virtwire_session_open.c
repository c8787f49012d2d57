/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire sessions: libvirt's open handshake as the client runs it (see
 * virtwire_session.h), and the goodbye at close.  Part of the client
 * library: virtwire_client_connect() runs it.
 */
#define _POSIX_C_SOURCE 200809L /* strncasecmp */

#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "admin_protocol.h"
#include "remote_protocol.h"
#include "virtwire_client_internal.h"
#include "virtwire_session.h"
#include "virtwire_session_internal.h"

void vw_session_keep_error(const vw_session *s, const virNetMessageError *err)
{
    virNetMessageError *out = s->opts ? s->opts->error : NULL;
    if (!out)
        return;
    virNetMessageError_free(out);
    /* Out of memory: no copy (zeroed), the message is still in errbuf. */
    if (!err || virtwire_copy(&virNetMessageError_desc, err, NULL, out) < 0)
        memset(out, 0, sizeof *out);
}

/* The procedure's name without its program's prefix (AUTH_LIST). */
static const char *short_name(const virtwire_program *prog, int32_t proc)
{
    const virtwire_proc *p = virtwire_program_find(prog, proc);
    if (!p)
        return "the call";
    const char *n = p->name, *u = strstr(n, "_PROC_");
    return u ? u + 6 : n;
}

int vw_session_call(virtwire_client *c, const vw_session *s, const virtwire_program *prog,
                    int32_t proc, const void *args, void *ret, virtwire_arena *arena)
{
    virNetMessageError err = { 0 };
    virtwire_call_opts o = { .size = sizeof o, .arena = arena, .timeout_ms = s->timeout_ms,
                             .error = &err };
    int rc = virtwire_client_call(c, prog, proc, args, ret, &o);
    const char *name = short_name(prog, proc);
    if (rc == VIRTWIRE_EREMOTE || rc == VIRTWIRE_EUNSUPPORTED) {
        /* The daemon's own words, as libvirt's client reports them. */
        if (err.message && *err.message && **err.message)
            vw_errorf(s->errbuf, s->errbuf_len, "%s", *err.message);
        else
            vw_errorf(s->errbuf, s->errbuf_len, "%s: %s", name, virtwire_strerror(rc));
        vw_session_keep_error(s, &err);
    } else if (rc <= VIRTWIRE_ETRUNCATED && rc >= VIRTWIRE_EDEPTH && rc != VIRTWIRE_ENOSPACE &&
               rc != VIRTWIRE_ENULL) {
        /* A reply that does not decode (libvirt's client: "Unable to
         * decode message payload"). */
        vw_errorf(s->errbuf, s->errbuf_len, "the daemon's reply to %s does not decode: %s",
                          name, virtwire_strerror(rc));
    } else if (rc == VIRTWIRE_ECLOSED && virtwire_client_error(c) < 0 &&
               virtwire_client_error(c) != VIRTWIRE_ECLOSED) {
        vw_errorf(s->errbuf, s->errbuf_len, "%s: the connection died: %s", name,
                          virtwire_strerror(virtwire_client_error(c)));
    } else if (rc < 0) {
        vw_errorf(s->errbuf, s->errbuf_len, "%s: %s", name, virtwire_strerror(rc));
    }
    /* Without an arena the error was decoded on the heap. */
    if (!arena)
        virNetMessageError_free(&err);
    return rc;
}

/*
 * AUTH_LIST's reply, read as libvirt's client reads it: the types are
 * plain ints, so that a type this library does not know (a newer
 * daemon's, or garbage) reaches choose() and gets libvirt's "unsupported
 * authentication type N" instead of failing the decode; their number is
 * bounded as the protocol bounds it (REMOTE_AUTH_TYPE_LIST_MAX), before
 * anything is allocated.  The generated remote_auth_list_ret refuses
 * values remote_auth_type does not declare (VIRTWIRE_EENUM).
 */
typedef struct auth_list {
    unsigned int n;
    int32_t *types;
} auth_list;

static int auth_list_decode(virtwire_dec *d, void *v)
{
    auth_list *l = v;
    void *p;
    VIRTWIRE_TRY(virtwire_get_array(d, &l->n, &p, REMOTE_AUTH_TYPE_LIST_MAX, 4, sizeof *l->types));
    l->types = p;
    for (unsigned int i = 0; i < l->n; i++)
        VIRTWIRE_TRY(virtwire_get_i32(d, &l->types[i]));
    return 0;
}

static int auth_list_encode(virtwire_enc *e, const void *v)
{
    const auth_list *l = v;
    VIRTWIRE_TRY(virtwire_put_u32(e, l->n));
    for (unsigned int i = 0; i < l->n; i++)
        VIRTWIRE_TRY(virtwire_put_i32(e, l->types[i]));
    return 0;
}

static void auth_list_free(void *v)
{
    auth_list *l = v;
    virtwire_free(l->types);
    l->types = NULL;
}

static size_t auth_list_size(const void *v)
{
    return 4 + 4 * (size_t)((const auth_list *)v)->n;
}

static const virtwire_type auth_list_desc = {
    .name = "remote_auth_list_ret",
    .size = sizeof(auth_list),
    .max_size = 4 + 4 * REMOTE_AUTH_TYPE_LIST_MAX,
    .min_size = 4,
    .encode = auth_list_encode,
    .decode = auth_list_decode,
    .free = auth_list_free,
    .encoded_size = auth_list_size,
};

/* The remote program with AUTH_LIST alone, its reply read as above.  The
 * client knows a program by number and version: the real table must be
 * registered first (see authenticate()), so that events and the other
 * calls keep theirs. */
static const virtwire_proc auth_list_proc[] = {
    { .number = REMOTE_PROC_AUTH_LIST, .name = "REMOTE_PROC_AUTH_LIST", .ret = &auth_list_desc,
      .flags = VIRTWIRE_PROC_PRIORITY_HIGH, .readstream = -1, .writestream = -1 },
};
static const virtwire_program auth_list_program = {
    .name = "remote",
    .program = REMOTE_PROGRAM,
    .version = REMOTE_PROTOCOL_VERSION,
    .procs = auth_list_proc,
    .nprocs = 1,
};

/* The method the daemon's list and `auth=` choose (libvirt's
 * remoteAuthenticate()): 0 and *type, or VIRTWIRE_EAUTH. */
static int choose(const vw_session *s, const auth_list *list, int *type)
{
    const char *want_name = s->auth;
    *type = REMOTE_AUTH_NONE;
    if (list->n == 0)
        return 0; /* nothing to do */
    if (!want_name) {
        *type = list->types[0];
        return 0;
    }
    int want;
    if (strcasecmp(want_name, "sasl") == 0 || strncasecmp(want_name, "sasl.", 5) == 0) {
        want = REMOTE_AUTH_SASL;
    } else if (strcasecmp(want_name, "polkit") == 0) {
        want = REMOTE_AUTH_POLKIT;
    } else {
        vw_errorf(s->errbuf, s->errbuf_len,
                          "authentication failed: unknown authentication type %s", want_name);
        return VIRTWIRE_EAUTH;
    }
    for (unsigned int i = 0; i < list->n; i++)
        if (list->types[i] == want)
            *type = want;
    if (*type == REMOTE_AUTH_NONE) {
        vw_errorf(s->errbuf, s->errbuf_len,
                          "authentication failed: requested authentication type %s rejected",
                          want_name);
        return VIRTWIRE_EAUTH;
    }
    return 0;
}

/* The module that runs type: polkit, built in, or one of the caller's. */
static const virtwire_auth_method *method_for(const virtwire_client_options *o, int type)
{
    for (const virtwire_auth_method *const *m = o->auth_methods; m && *m; m++)
        if ((*m)->type == type)
            return *m;
    if (type == REMOTE_AUTH_POLKIT)
        return &virtwire_auth_polkit;
    return NULL;
}

static int authenticate(virtwire_client *c, const vw_session *s, virtwire_arena *arena)
{
    virtwire_transport_program *tp;
    pthread_mutex_lock(&c->lock);
    int rc = vw_client_program_handle(c, &remote_program, &tp);
    pthread_mutex_unlock(&c->lock);
    if (rc < 0) {
        vw_errorf(s->errbuf, s->errbuf_len, "%s", virtwire_strerror(rc));
        return rc;
    }
    auth_list list = { 0 };
    rc = vw_session_call(c, s, &auth_list_program, REMOTE_PROC_AUTH_LIST, NULL, &list, arena);
    if (rc == VIRTWIRE_EUNSUPPORTED) {
        /* A daemon older than the procedure: nothing to do (libvirt's
         * client ignores it too). */
        if (s->errbuf && s->errbuf_len)
            s->errbuf[0] = '\0';
        vw_session_keep_error(s, NULL);
        return 0;
    }
    if (rc < 0)
        return rc;
    int type;
    rc = choose(s, &list, &type);
    if (rc < 0 || type == REMOTE_AUTH_NONE)
        return rc;
    const virtwire_auth_method *m = method_for(s->opts, type);
    if (!m || !m->run) {
        vw_errorf(s->errbuf, s->errbuf_len,
                          "authentication failed: unsupported authentication type %d", type);
        return VIRTWIRE_EAUTH;
    }
    const char *mech = NULL;
    if (s->auth && strncasecmp(s->auth, "sasl.", 5) == 0)
        mech = s->auth + 5;
    virtwire_auth_context ctx = {
        .size = sizeof ctx,
        .client = c,
        .uri = s->uri,
        .mech = mech,
        .timeout_ms = s->timeout_ms,
        .options = s->opts,
        .errbuf = s->errbuf,
        .errbuf_len = s->errbuf_len,
    };
    return m->run(m, &ctx);
}

static int remote_open(virtwire_client *c, const vw_session *s)
{
    const virtwire_client_options *o = s->opts;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    int rc = authenticate(c, s, &arena);

    remote_connect_supports_feature_args fa = { VIRTWIRE_VIR_DRV_FEATURE_PROGRAM_KEEPALIVE };
    remote_connect_supports_feature_ret fr = { 0 };
    if (rc == 0)
        rc = vw_session_call(c, s, &remote_program, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, &fa,
                             &fr, &arena);
    if (rc == 0 && fr.supported && o->keepalive_interval_ms)
        rc = vw_client_start_keepalive(c, o->keepalive_interval_ms, o->keepalive_count);

    char *n = (char *)s->name;
    remote_connect_open_args oa = {
        .name = s->name ? &n : NULL,
        .flags = o->open_flags |
                 ((o->flags & VIRTWIRE_CLIENT_READONLY) ? VIRTWIRE_VIR_CONNECT_RO : 0),
    };
    if (rc == 0)
        rc = vw_session_call(c, s, &remote_program, REMOTE_PROC_CONNECT_OPEN, &oa, NULL, &arena);
    virtwire_arena_fini(&arena);
    return rc;
}

int vw_session_open(virtwire_client *c, const vw_session *s)
{
    const virtwire_client_options *o = s->opts;
    int rc;
    if (o->flags & VIRTWIRE_CLIENT_NO_OPEN)
        return 0;
    if (o->flags & VIRTWIRE_CLIENT_ADMIN) {
        admin_connect_open_args a = { o->open_flags };
        rc = vw_session_call(c, s, &admin_program, ADMIN_PROC_CONNECT_OPEN, &a, NULL, NULL);
    } else {
        rc = remote_open(c, s);
    }
    if (rc == 0)
        c->opened = 1;
    if (rc == 0)
        rc = vw_client_learn_version(c, o);
    return rc;
}

void vw_session_goodbye(virtwire_client *c)
{
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = CLOSE_TIMEOUT_MS };
    if (c->admin)
        virtwire_client_call(c, &admin_program, ADMIN_PROC_CONNECT_CLOSE, NULL, NULL, &o);
    else
        virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_CLOSE, NULL, NULL, &o);
}
