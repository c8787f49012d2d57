/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A server for the authentication tests: the remote program's connection
 * procedures, with libvirtwire_session answering AUTH_LIST and AUTH_POLKIT
 * on listeners that each offer what one libvirtd socket would:
 *
 *   DIR/polkit      auth_unix_rw = "polkit"
 *   DIR/polkit-ro   auth_unix_ro = "polkit" (read-only)
 *   DIR/none        no authentication
 *   DIR/sasl        SASL only (no SASL handlers: nothing can pass)
 *   DIR/polkit-sasl polkit, then SASL
 *
 * Every socket is mode 0777, as libvirtd's unix_sock_*_perms in the tests,
 * so that users other than root can connect.  AUTH_POLKIT goes to a policy
 * function that decides as libvirt's actions do by default and the test's
 * polkit rules add: anyone may monitor (org.libvirt.unix.monitor, the
 * read-only socket), the uids given on the command line may manage
 * (org.libvirt.unix.manage).  It prints each question on stdout:
 * "polkit uid=U action=A allow=0|1".
 *
 *   auth_server DIR [MANAGING_UID...]
 *
 * It prints "ready" once it listens, and runs until SIGTERM; exit status 0
 * after a clean shutdown.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "remote_protocol.h"
#include "virtwire_server.h"
#include "virtwire_session_server.h"

#define MAX_UIDS 16

static uid_t allowed[MAX_UIDS];
static size_t nallowed;
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static int policy(virtwire_server_client *c, pid_t pid, uid_t uid, gid_t gid, const char *action,
                  void *opaque)
{
    (void)c;
    (void)pid;
    (void)gid;
    (void)opaque;
    int allow = strcmp(action, "org.libvirt.unix.monitor") == 0;
    for (size_t i = 0; i < nallowed; i++)
        allow |= allowed[i] == uid;
    printf("polkit uid=%u action=%s allow=%d\n", (unsigned)uid, action, allow);
    fflush(stdout);
    return allow;
}

static int h_ok(virtwire_server_call *call, void *opaque)
{
    (void)call;
    (void)opaque;
    return 0;
}

static int h_hostname(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    remote_connect_get_hostname_ret *r = call->ret;
    r->hostname = virtwire_server_call_strdup(call, "virtwire-auth-test");
    return r->hostname ? 0 : -1;
}

static int h_supports_feature(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    const remote_connect_supports_feature_args *a = call->args;
    remote_connect_supports_feature_ret *r = call->ret;
    r->supported = a->feature == VIRTWIRE_VIR_DRV_FEATURE_PROGRAM_KEEPALIVE;
    return 0;
}

static int listen_on(virtwire_server *srv, const char *dir, const char *name, const int *types,
                     size_t ntypes, int readonly)
{
    char path[200];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return -1;
    virtwire_server_listen_opts o = { .size = sizeof o, .auth_types = types,
                                      .nauth_types = ntypes, .readonly = readonly };
    if (virtwire_server_listen_unix_with(srv, path, &o) < 0 || chmod(path, 0777) < 0) {
        fprintf(stderr, "auth_server: cannot listen on %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc - 2 > MAX_UIDS) {
        fprintf(stderr, "usage: auth_server DIR [MANAGING_UID...]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++)
        allowed[nallowed++] = (uid_t)strtoul(argv[i], NULL, 10);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    static const int polkit[] = { REMOTE_AUTH_POLKIT };
    static const int sasl[] = { REMOTE_AUTH_SASL };
    static const int polkit_sasl[] = { REMOTE_AUTH_POLKIT, REMOTE_AUTH_SASL };
    virtwire_server *srv = NULL;
    virtwire_session_server *ss = NULL;
    virtwire_session_server_opts so = { .size = sizeof so, .polkit = policy };
    const char *dir = argv[1];
    int rc = 1;
    if (virtwire_server_new(NULL, NULL, &srv) < 0 ||
        virtwire_server_register(srv, &remote_program) < 0 ||
        virtwire_session_server_new(srv, &remote_program, &so, &ss) < 0 ||
        virtwire_server_set_handler(srv, &remote_program, REMOTE_PROC_CONNECT_OPEN, h_ok, NULL) <
            0 ||
        virtwire_server_set_handler(srv, &remote_program, REMOTE_PROC_CONNECT_CLOSE, h_ok, NULL) <
            0 ||
        virtwire_server_set_handler(srv, &remote_program,
                                    REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK, h_ok, NULL) < 0 ||
        virtwire_server_set_handler(srv, &remote_program,
                                    REMOTE_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK, h_ok,
                                    NULL) < 0 ||
        virtwire_server_set_handler(srv, &remote_program, REMOTE_PROC_CONNECT_GET_HOSTNAME,
                                    h_hostname, NULL) < 0 ||
        virtwire_server_set_handler(srv, &remote_program, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE,
                                    h_supports_feature, NULL) < 0) {
        fprintf(stderr, "auth_server: cannot set the server up\n");
        goto out;
    }
    if (listen_on(srv, dir, "polkit", polkit, 1, 0) < 0 ||
        listen_on(srv, dir, "polkit-ro", polkit, 1, 1) < 0 ||
        listen_on(srv, dir, "none", NULL, 0, 0) < 0 || listen_on(srv, dir, "sasl", sasl, 1, 0) < 0 ||
        listen_on(srv, dir, "polkit-sasl", polkit_sasl, 2, 0) < 0)
        goto out;
    printf("ready\n");
    fflush(stdout);
    while (!stopping)
        if (virtwire_server_run_once(srv, 100) == VIRTWIRE_EIO && !stopping)
            goto out;
    rc = 0;
out:
    virtwire_server_free(srv);
    virtwire_session_server_free(ss);
    return rc;
}
