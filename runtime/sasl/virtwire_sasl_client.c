/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire SASL: the client's authentication method, as libvirt's remote
 * driver runs it (remoteAuthSASL).  See virtwire_sasl.h.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote_protocol.h"
#include "virtwire_client.h"
#include "virtwire_sasl.h"
#include "virtwire_sasl_cyrus_internal.h"
#include "virtwire_sized_internal.h"

#define CREDTYPES_MAX 16
/* A daemon that never says it is done cannot keep us forever. */
#define STEPS_MAX 64
/* libvirt's SSF floor on channels that are not secure ("DES level"). */
#define MIN_SSF 56

typedef struct method_cfg {
    virtwire_sasl_client_config cfg;
    int credtypes[CREDTYPES_MAX];
} method_cfg;

/* libvirt's virConnectAuthPtrDefault's types (EXTERNAL has no SASL id). */
static const int default_credtypes[] = { VIRTWIRE_CRED_AUTHNAME, VIRTWIRE_CRED_ECHOPROMPT,
                                         VIRTWIRE_CRED_REALM, VIRTWIRE_CRED_PASSPHRASE,
                                         VIRTWIRE_CRED_NOECHOPROMPT };

static pthread_once_t client_once = PTHREAD_ONCE_INIT;
static int client_init_err;

static void client_init(void)
{
    client_init_err = sasl_client_init(NULL);
}

static int cred_to_sasl(int type)
{
    switch (type) {
    case VIRTWIRE_CRED_USERNAME: return SASL_CB_USER;
    case VIRTWIRE_CRED_AUTHNAME: return SASL_CB_AUTHNAME;
    case VIRTWIRE_CRED_LANGUAGE: return SASL_CB_LANGUAGE;
    case VIRTWIRE_CRED_CNONCE: return SASL_CB_CNONCE;
    case VIRTWIRE_CRED_PASSPHRASE: return SASL_CB_PASS;
    case VIRTWIRE_CRED_ECHOPROMPT: return SASL_CB_ECHOPROMPT;
    case VIRTWIRE_CRED_NOECHOPROMPT: return SASL_CB_NOECHOPROMPT;
    case VIRTWIRE_CRED_REALM: return SASL_CB_GETREALM;
    }
    return 0;
}

static int sasl_to_cred(unsigned long id)
{
    switch (id) {
    case SASL_CB_USER: return VIRTWIRE_CRED_USERNAME;
    case SASL_CB_AUTHNAME: return VIRTWIRE_CRED_AUTHNAME;
    case SASL_CB_LANGUAGE: return VIRTWIRE_CRED_LANGUAGE;
    case SASL_CB_CNONCE: return VIRTWIRE_CRED_CNONCE;
    case SASL_CB_PASS: return VIRTWIRE_CRED_PASSPHRASE;
    case SASL_CB_ECHOPROMPT: return VIRTWIRE_CRED_ECHOPROMPT;
    case SASL_CB_NOECHOPROMPT: return VIRTWIRE_CRED_NOECHOPROMPT;
    case SASL_CB_GETREALM: return VIRTWIRE_CRED_REALM;
    }
    return 0;
}

/* One run of the method. */
typedef struct run {
    const virtwire_auth_context *ctx;
    const virtwire_sasl_client_config *cfg;
    virtwire_auth_config *authconf;
    int authconf_tried;
    /* answers handed to Cyrus, kept until the next start/step is over */
    char *answers[32];
    size_t nanswers;
} run;

static void failf(const run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void failf(const run *r, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->ctx->errbuf, r->ctx->errbuf_len, "authentication failed: %s", msg);
}

static void forget_answers(run *r)
{
    for (size_t i = 0; i < r->nanswers; i++) {
        memset(r->answers[i], 0, strlen(r->answers[i]));
        free(r->answers[i]);
    }
    r->nanswers = 0;
}

static int keep_answer(run *r, const char *value, size_t len, const char **out)
{
    if (r->nanswers == sizeof r->answers / sizeof r->answers[0])
        return VIRTWIRE_ENOMEM;
    char *copy = malloc(len + 1);
    if (!copy)
        return VIRTWIRE_ENOMEM;
    memcpy(copy, value, len);
    copy[len] = '\0';
    r->answers[r->nanswers++] = copy;
    *out = copy;
    return 0;
}

/* libvirt's remoteAuthFillFromConfig: username, authname, password and
 * realm from auth.conf ("libvirt" service, the URI's host). */
static int fill_from_config(run *r, sasl_interact_t *in)
{
    if (!r->authconf_tried) {
        r->authconf_tried = 1;
        char *path = NULL;
        if (r->cfg->auth_file) {
            if (*r->cfg->auth_file && !(path = strdup(r->cfg->auth_file)))
                return VIRTWIRE_ENOMEM;
        } else if (virtwire_auth_config_path(r->ctx->uri, &path) < 0) {
            return VIRTWIRE_ENOMEM;
        }
        if (path) {
            char err[512] = "";
            int rc = virtwire_auth_config_load(path, &r->authconf, err, sizeof err);
            free(path);
            if (rc < 0) {
                failf(r, "%s", err[0] ? err : virtwire_strerror(rc));
                return VIRTWIRE_EAUTH;
            }
        }
    }
    if (!r->authconf)
        return 0;
    const char *host = r->ctx->uri ? r->ctx->uri->host : NULL;
    for (sasl_interact_t *i = in; i->id != SASL_CB_LIST_END; i++) {
        const char *credname = NULL;
        switch (i->id) {
        case SASL_CB_USER: credname = "username"; break;
        case SASL_CB_AUTHNAME: credname = "authname"; break;
        case SASL_CB_PASS: credname = "password"; break;
        case SASL_CB_GETREALM: credname = "realm"; break;
        }
        if (!credname)
            continue;
        const char *value = NULL;
        char err[512] = "";
        int rc = virtwire_auth_config_lookup(r->authconf, "libvirt", host, credname, &value,
                                             err, sizeof err);
        if (rc < 0) {
            failf(r, "%s", err[0] ? err : virtwire_strerror(rc));
            return VIRTWIRE_EAUTH;
        }
        if (value) {
            const char *kept;
            if (keep_answer(r, value, strlen(value), &kept) < 0)
                return VIRTWIRE_ENOMEM;
            i->result = kept;
            i->len = (unsigned)strlen(kept);
        }
    }
    return 0;
}

/* libvirt's remoteAuthInteract: auth.conf first, then the callback for
 * what is left. */
static int interact(run *r, sasl_interact_t *in)
{
    forget_answers(r);
    int rc = fill_from_config(r, in);
    if (rc < 0)
        return rc;
    virtwire_credential cred[32];
    sasl_interact_t *slot[32];
    size_t n = 0;
    for (sasl_interact_t *i = in; i->id != SASL_CB_LIST_END; i++) {
        if (i->result)
            continue;
        int type = sasl_to_cred(i->id);
        if (!type || n == 32) {
            failf(r, "Failed to make auth credentials");
            return VIRTWIRE_EAUTH;
        }
        cred[n] = (virtwire_credential){ .type = type, .prompt = i->prompt,
                                         .challenge = i->challenge, .defresult = i->defresult };
        slot[n++] = i;
    }
    if (n == 0)
        return 0;
    if (!r->cfg->credentials) {
        failf(r, "No authentication callback available");
        return VIRTWIRE_EAUTH;
    }
    rc = r->cfg->credentials(cred, n, r->cfg->opaque);
    for (size_t k = 0; k < n; k++) {
        if (rc >= 0 && cred[k].result) {
            const char *kept;
            size_t len = cred[k].resultlen;
            if (memchr(cred[k].result, '\0', len))
                len = strlen(cred[k].result);
            if (keep_answer(r, cred[k].result, len, &kept) < 0)
                rc = VIRTWIRE_ENOMEM;
            else {
                slot[k]->result = kept;
                slot[k]->len = (unsigned)len;
            }
        }
        if (cred[k].result) {
            memset(cred[k].result, 0, cred[k].resultlen);
            free(cred[k].result);
        }
    }
    if (rc == VIRTWIRE_ENOMEM)
        return rc;
    if (rc < 0) {
        failf(r, "Failed to collect auth credentials");
        return VIRTWIRE_EAUTH;
    }
    return 0;
}

/* One turn of the negotiation: sasl_client_start() choosing from mechlist
 * when mech is not NULL, else sasl_client_step() on the server's data in;
 * what the SASL library asks for (SASL_INTERACT) is answered and the turn
 * tried again.  Returns SASL_OK or SASL_CONTINUE, else a virtwire error
 * (the failure in the caller's errbuf). */
static int negotiate(run *r, sasl_conn_t *conn, const char *mechlist, const char **mech,
                     const char *in, unsigned inlen, sasl_interact_t **need, const char **out,
                     unsigned *outlen)
{
    for (;;) {
        int err = mech ? sasl_client_start(conn, mechlist, need, out, outlen, mech)
                       : sasl_client_step(conn, in, inlen, need, out, outlen);
        if (err == SASL_OK || err == SASL_CONTINUE)
            return err;
        if (err != SASL_INTERACT) {
            failf(r, "Failed to %s SASL negotiation: %d (%s)", mech ? "start" : "step", err,
                  sasl_errdetail(conn));
            return VIRTWIRE_EAUTH;
        }
        int rc = interact(r, *need);
        if (rc < 0)
            return rc;
    }
}

/* One call of the handshake; the input is held at its reply when hold is
 * set.  The daemon's refusal comes back as VIRTWIRE_EAUTH with its words. */
static const char *proc_name(int32_t proc)
{
    switch (proc) {
    case REMOTE_PROC_AUTH_SASL_INIT: return "AUTH_SASL_INIT";
    case REMOTE_PROC_AUTH_SASL_START: return "AUTH_SASL_START";
    }
    return "AUTH_SASL_STEP";
}

static int call(run *r, int32_t proc, const void *args, void *ret, virtwire_arena *arena,
                int hold)
{
    virNetMessageError err;
    virtwire_call_opts o = { .size = sizeof o, .arena = arena, .timeout_ms = r->ctx->timeout_ms,
                             .error = &err, .flags = hold ? VIRTWIRE_CALL_HOLD_INPUT : 0 };
    int rc = virtwire_client_call(r->ctx->client, &remote_program, proc, args, ret, &o);
    if (rc == VIRTWIRE_EREMOTE || rc == VIRTWIRE_EUNSUPPORTED) {
        snprintf(r->ctx->errbuf, r->ctx->errbuf_len, "%s",
                 err.message && *err.message ? *err.message : virtwire_strerror(rc));
        return VIRTWIRE_EAUTH;
    }
    if (rc <= VIRTWIRE_ETRUNCATED && rc >= VIRTWIRE_EDEPTH) /* the reply did not decode */
        failf(r, "the server's %s reply: %s", proc_name(proc), virtwire_strerror(rc));
    else if (rc < 0)
        failf(r, "%s", virtwire_strerror(rc));
    return rc;
}

/* Whether mech is one of the server's list (names separated by commas or
 * spaces, as Cyrus SASL lists them).  libvirt looks for a substring; a
 * whole name is asked for here, so that SCRAM-SHA-1 is not taken for
 * SCRAM-SHA-1-PLUS. */
static int listed(const char *list, const char *mech)
{
    size_t n = strlen(mech);
    for (const char *p = list; n && *p;) {
        size_t len = strcspn(p, ", ");
        if (len == n && strncmp(p, mech, n) == 0)
            return 1;
        p += len;
        p += strspn(p, ", ");
    }
    return 0;
}

static int sasl_run(const virtwire_auth_method *self, const virtwire_auth_context *ctx)
{
    static const virtwire_sasl_client_config defaults = { .size = sizeof defaults };
    const method_cfg *mc = self->opaque;
    run r = { .ctx = ctx, .cfg = mc ? &mc->cfg : &defaults };
    virtwire_client *client = ctx->client;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    vw_sasl_conn *s = NULL;
    char *laddr = NULL, *raddr = NULL;
    int rc = VIRTWIRE_EAUTH;
    int held = 0; /* the input waits for our word */

    pthread_once(&client_once, client_init);
    if (client_init_err != SASL_OK) {
        failf(&r, "failed to initialize SASL library: %d (%s)", client_init_err,
              sasl_errstring(client_init_err, NULL, NULL));
        return VIRTWIRE_EAUTH;
    }
    virtwire_channel *ch = virtwire_client_channel(client);
    int secure = vw_sasl_channel_secure(ch);
    const char *host = ctx->uri && ctx->uri->host ? ctx->uri->host : "localhost";
    laddr = vw_sasl_addr(virtwire_channel_fd(ch), 0);
    raddr = vw_sasl_addr(virtwire_channel_fd(ch), 1);

    /* Each credential type the caller answers is an interaction. */
    const int *types = r.cfg->credtypes ? r.cfg->credtypes : default_credtypes;
    size_t ntypes = r.cfg->credtypes ? r.cfg->ncredtypes
                                     : sizeof default_credtypes / sizeof default_credtypes[0];
    s = calloc(1, sizeof *s);
    if (s)
        s->callbacks = calloc(ntypes + 1, sizeof *s->callbacks);
    if (!s || !s->callbacks) {
        rc = VIRTWIRE_ENOMEM;
        goto out;
    }
    size_t ncb = 0;
    for (size_t i = 0; i < ntypes; i++) {
        int id = cred_to_sasl(types[i]);
        if (id)
            s->callbacks[ncb++].id = (unsigned long)id;
    }
    s->callbacks[ncb].id = SASL_CB_LIST_END;

    int err = sasl_client_new("libvirt", host, laddr, raddr, s->callbacks, SASL_SUCCESS_DATA,
                              &s->conn);
    if (err != SASL_OK) {
        failf(&r, "Failed to create SASL client context: %d (%s)", err,
              sasl_errstring(err, NULL, NULL));
        goto out;
    }
    /* TLS's key size (bits) as the external SSF. */
    sasl_ssf_t ext = virtwire_channel_ssf(ch);
    if (ext) {
        err = sasl_setprop(s->conn, SASL_SSF_EXTERNAL, &ext);
        if (err != SASL_OK) {
            failf(&r, "cannot set external SSF %d (%s)", err, sasl_errstring(err, NULL, NULL));
            goto out;
        }
    }
    sasl_security_properties_t sp = {
        .min_ssf = secure ? 0 : MIN_SSF,
        .max_ssf = secure ? 0 : 100000,
        .maxbufsize = VW_SASL_MAXBUF,
        .security_flags = secure ? 0 : SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT,
    };
    err = sasl_setprop(s->conn, SASL_SEC_PROPS, &sp);
    if (err != SASL_OK) {
        failf(&r, "cannot set security props %d (%s)", err, sasl_errstring(err, NULL, NULL));
        goto out;
    }

    remote_auth_sasl_init_ret iret;
    memset(&iret, 0, sizeof iret);
    rc = call(&r, REMOTE_PROC_AUTH_SASL_INIT, NULL, &iret, &arena, 0);
    if (rc < 0)
        goto out;
    rc = VIRTWIRE_EAUTH;
    const char *mechlist = iret.mechlist ? iret.mechlist : "";
    if (ctx->mech) {
        if (!listed(mechlist, ctx->mech)) {
            failf(&r, "SASL mechanism %s not supported by server", ctx->mech);
            goto out;
        }
        mechlist = ctx->mech;
    }

    sasl_interact_t *need = NULL;
    const char *out = NULL, *mech = NULL;
    unsigned outlen = 0;
    err = negotiate(&r, s->conn, mechlist, &mech, NULL, 0, &need, &out, &outlen);
    if (err < 0) {
        rc = err;
        goto out;
    }
    int local_done = err == SASL_OK;
    if (outlen > REMOTE_AUTH_SASL_DATA_MAX) {
        failf(&r, "SASL negotiation data too long: %u bytes", outlen);
        goto out;
    }
    /* NULL and "" differ in SASL: nil says which. */
    remote_auth_sasl_start_args sargs = {
        .mech = (char *)mech,
        .nil = out ? 0 : 1,
        .data = { outlen, (char *)out },
    };
    remote_auth_sasl_start_ret sret;
    memset(&sret, 0, sizeof sret);
    held = 1;
    rc = call(&r, REMOTE_PROC_AUTH_SASL_START, &sargs, &sret, &arena, 1);
    if (rc < 0)
        goto out;
    rc = VIRTWIRE_EAUTH;
    int complete = sret.complete;
    const char *in = sret.nil ? NULL : sret.data.data_val;
    unsigned inlen = sret.data.data_len;
    if (complete && local_done && inlen) {
        failf(&r, "%u bytes of SASL data from the server after both sides completed", inlen);
        goto out;
    }

    /* Even when the daemon is done, we step at least once to check it
     * (mutual authentication), unless both sides completed already. */
    if (!(complete && local_done)) {
        for (int steps = 0;; steps++) {
            err = negotiate(&r, s->conn, NULL, NULL, in, inlen, &need, &out, &outlen);
            if (err < 0) {
                rc = err;
                goto out;
            }
            if (complete && err == SASL_OK)
                break;
            if (complete) {
                /* libvirt's client sends a STEP the daemon then refuses. */
                failf(&r, "the server completed the SASL negotiation, the client has not");
                goto out;
            }
            if (steps == STEPS_MAX) {
                failf(&r, "SASL negotiation did not complete after %d steps", STEPS_MAX);
                goto out;
            }
            if (outlen > REMOTE_AUTH_SASL_DATA_MAX) {
                failf(&r, "SASL negotiation data too long: %u bytes", outlen);
                goto out;
            }
            /* The daemon goes on: resume reading for its next reply. */
            virtwire_client_wrap_channel(client, NULL, NULL);
            remote_auth_sasl_step_args pargs = { .nil = out ? 0 : 1,
                                                 .data = { outlen, (char *)out } };
            remote_auth_sasl_step_ret pret;
            memset(&pret, 0, sizeof pret);
            rc = call(&r, REMOTE_PROC_AUTH_SASL_STEP, &pargs, &pret, &arena, 1);
            if (rc < 0)
                goto out;
            rc = VIRTWIRE_EAUTH;
            complete = pret.complete;
            in = pret.nil ? NULL : pret.data.data_val;
            inlen = pret.data.data_len;
            if (complete && err == SASL_OK) {
                /* We were done before this reply: it can carry nothing. */
                if (inlen) {
                    failf(&r, "%u bytes of SASL data from the server after both sides completed",
                          inlen);
                    goto out;
                }
                break;
            }
        }
    }

    int ssf = vw_sasl_ssf(s->conn);
    if (ssf < 0) {
        failf(&r, "cannot query SASL ssf on connection");
        goto out;
    }
    if (!secure && ssf < MIN_SSF) {
        failf(&r, "negotiation SSF %d was not strong enough", ssf);
        goto out;
    }
    if (ssf > 0) {
        /* Every byte after the last reply goes through the layer. */
        rc = virtwire_client_wrap_channel(client, vw_sasl_wrap, &s);
        held = 0;
        if (rc < 0) {
            failf(&r, "cannot start the SASL security layer: %s", virtwire_strerror(rc));
            rc = VIRTWIRE_EAUTH;
            goto out;
        }
    }
    rc = 0;

out:
    if (held)
        virtwire_client_wrap_channel(client, NULL, NULL);
    forget_answers(&r);
    virtwire_auth_config_free(r.authconf);
    vw_sasl_conn_free(s);
    free(laddr);
    free(raddr);
    virtwire_arena_fini(&arena);
    return rc;
}

const virtwire_auth_method virtwire_auth_sasl = {
    .size = sizeof virtwire_auth_sasl,
    .type = REMOTE_AUTH_SASL,
    .name = "sasl",
    .run = sasl_run,
};

int virtwire_sasl_method_new(const virtwire_sasl_client_config *cfg, virtwire_auth_method **out)
{
    if (out)
        *out = NULL;
    if (!out)
        return VIRTWIRE_EINVAL;
    method_cfg *mc = calloc(1, sizeof *mc);
    virtwire_auth_method *m = calloc(1, sizeof *m);
    if (!mc || !m) {
        free(mc);
        free(m);
        return VIRTWIRE_ENOMEM;
    }
    mc->cfg.size = sizeof mc->cfg;
    if ((cfg && vw_sized_copy(&mc->cfg, sizeof mc->cfg, cfg) < 0) ||
        mc->cfg.ncredtypes > CREDTYPES_MAX || (mc->cfg.ncredtypes && !mc->cfg.credtypes)) {
        free(mc);
        free(m);
        return VIRTWIRE_EINVAL;
    }
    if (mc->cfg.credtypes) {
        memcpy(mc->credtypes, mc->cfg.credtypes, mc->cfg.ncredtypes * sizeof *mc->credtypes);
        mc->cfg.credtypes = mc->credtypes;
    }
    *m = virtwire_auth_sasl;
    m->opaque = mc;
    *out = m;
    return 0;
}

void virtwire_sasl_method_free(virtwire_auth_method *m)
{
    if (!m)
        return;
    free(m->opaque);
    free(m);
}
