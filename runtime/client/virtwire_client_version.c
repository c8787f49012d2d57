/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire client: the daemon's libvirt release, and the check that a
 * procedure is not newer than it (virtwire_proc.since).  See
 * virtwire_client.h for the API and virtwire_client_internal.h for how the
 * client's files divide the work, its locking and its threads.
 */
#include <stdio.h>

#include "admin_protocol.h"
#include "remote_protocol.h"
#include "virtwire_client_internal.h"

/* Asks the daemon (one synchronous call); 0 and *out, or the call's error. */
static int ask_version(virtwire_client *c, int timeout_ms, uint32_t *out)
{
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = timeout_ms };
    uint64_t v;
    int rc;
    if (c->admin) {
        admin_connect_get_lib_version_ret r = { 0 };
        rc = virtwire_client_call(c, &admin_program, ADMIN_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                  &r, &o);
        v = r.libVer;
    } else {
        remote_connect_get_lib_version_ret r = { 0 };
        rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                  &r, &o);
        v = r.lib_ver;
    }
    if (rc < 0)
        return rc;
    /* libvirt's encoding keeps every release below 2^32; a daemon that
     * says otherwise is not believed. */
    if (v == 0 || v > UINT32_MAX)
        return VIRTWIRE_ERANGE;
    *out = (uint32_t)v;
    return 0;
}

static uint32_t cached(virtwire_client *c)
{
    pthread_mutex_lock(&c->lock);
    uint32_t v = c->lib_version;
    pthread_mutex_unlock(&c->lock);
    return v;
}

static void store(virtwire_client *c, uint32_t v)
{
    pthread_mutex_lock(&c->lock);
    c->lib_version = v;
    pthread_mutex_unlock(&c->lock);
}

int vw_client_learn_version(virtwire_client *c, const virtwire_client_options *o)
{
    if (!(o->flags & (VIRTWIRE_CLIENT_LIB_VERSION | VIRTWIRE_CLIENT_CHECK_SINCE)) ||
        (o->flags & VIRTWIRE_CLIENT_NO_OPEN))
        return 0;
    uint32_t v = 0;
    int rc = ask_version(c, o->open_timeout_ms > 0 ? o->open_timeout_ms
                                                   : OPEN_TIMEOUT_DEFAULT_MS, &v);
    if (rc == 0)
        store(c, v);
    return rc;
}

int virtwire_client_lib_version(virtwire_client *c, uint32_t *version)
{
    if (!c || !version)
        return VIRTWIRE_EINVAL;
    *version = cached(c);
    if (*version)
        return 0;
    uint32_t v = 0;
    int rc = ask_version(c, -1, &v);
    if (rc < 0)
        return rc;
    store(c, v);
    *version = v;
    return 0;
}

/* The text of a refusal. */
static void explain(char *why, size_t whylen, const virtwire_proc *proc, uint32_t daemon)
{
    if (!why || whylen == 0)
        return;
    char need[32], have[32];
    virtwire_libvirt_version_format(proc->since, need, sizeof need);
    virtwire_libvirt_version_format(daemon, have, sizeof have);
    snprintf(why, whylen, "procedure %s needs libvirt %s, the daemon runs %s", proc->name, need,
             have);
}

int virtwire_client_check_since(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                                char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = 0;
    const virtwire_proc *p = prog ? virtwire_program_find(prog, proc) : NULL;
    if (!c || !p)
        return VIRTWIRE_EINVAL;
    if (!p->since)
        return 0;
    uint32_t daemon;
    int rc = virtwire_client_lib_version(c, &daemon);
    if (rc < 0)
        return rc;
    if (daemon >= p->since)
        return 0;
    explain(why, whylen, p, daemon);
    return VIRTWIRE_EUNSUPPORTED;
}

int vw_client_since_ok(virtwire_client *c, const virtwire_program *prog,
                       const virtwire_proc *proc)
{
    (void)prog;
    if (!c->check_since || !proc->since)
        return 0;
    uint32_t daemon = cached(c);
    /* Not learnt (no handshake): nothing to compare with. */
    return daemon && daemon < proc->since ? VIRTWIRE_EUNSUPPORTED : 0;
}
