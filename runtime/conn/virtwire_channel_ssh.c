/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The commands of ssh and ext URIs, as libvirt's remote driver builds them
 * (src/rpc/virnetsocket.c virNetSocketNewConnectSSH(), src/rpc/virnetclient.c
 * virNetClientSSHHelperCommand(), src/remote/remote_driver.c doRemoteOpen()):
 * the ssh command line and its remote command for +ssh, the caller's
 * command for +ext, and the environment each gets.  See virtwire_channel.h.
 *
 * The command line of an ssh URI, as libvirt builds it:
 *
 *   ssh [-p PORT] [-l USER] [-i KEYFILE] -T -e none [-o BatchMode=yes]
 *       [-o StrictHostKeyChecking=no] -- HOST REMOTE-COMMAND
 *
 * where ssh is ?command= if given, else "ssh" found in PATH; -p only when
 * the URI has a port (ssh's own configuration chooses otherwise); -l the
 * URI's user; BatchMode with ?no_tty=1; StrictHostKeyChecking=no with
 * ?no_verify=1; HOST the URI's host or "localhost".  REMOTE-COMMAND is a
 * shell command for the remote login shell, chosen by ?proxy=:
 *
 *   native  sh -c 'virt-ssh-helper [-r ]'URI''
 *   netcat  sh -c 'NC'
 *   auto    sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0;
 *           then     virt-ssh-helper 'URI'; else    NC; fi'
 *
 * (one line), NC being libvirt's netcat probe and call
 *
 *   if 'nc' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then
 *   ARG=-q0;else ARG=;fi;'nc' $ARG -U SOCKET
 *
 * with ?netcat= in place of nc.  URI (virtwire_uri_ssh_helper_name()) and
 * the netcat path are quoted twice for the shell (the remote login shell,
 * then sh -c), SOCKET not at all, all as libvirt does.  Without ?proxy=:
 * netcat when ?socket= is given, native for a session daemon (the URI's
 * path is /session, or its driver is test with a transport, and we are not
 * root), auto otherwise; auto with ?netcat= means netcat, and native with
 * ?netcat= is an error.  -r asks the helper for the read-only socket.
 *
 * An ext URI runs ?command= alone, without arguments or a shell.
 *
 * The child gets libvirt's environment: LC_ALL=C and, when set here,
 * LD_PRELOAD, LD_LIBRARY_PATH, DYLD_INSERT_LIBRARIES,
 * DYLD_FORCE_FLAT_NAMESPACE, PATH, HOME, USER, LOGNAME and TMPDIR; ssh
 * also XDG_RUNTIME_DIR, KRB5CCNAME, SSH_AUTH_SOCK, SSH_ASKPASS,
 * SSH_ASKPASS_REQUIRE, OPENSSL_CONF, DISPLAY, XAUTHORITY, and GPG_TTY and
 * TERM unless no_tty.  Nothing else: no variable of ours reaches it.
 *
 * virtwire_channel_child.c runs the command and is the channel.
 */
#define _POSIX_C_SOURCE 200809L
#include "virtwire_channel_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* A growable string                                                        */
/* ------------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t len;
    size_t cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->cap - b->len <= n) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap - b->len <= n) {
            if (cap > SIZE_MAX / 2) {
                b->oom = 1;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* The string, or NULL (and nothing to free) when out of memory. */
static char *sb_take(sbuf *b)
{
    if (b->oom || !b->p) {
        free(b->p);
        b->p = NULL;
        return NULL;
    }
    char *p = b->p;
    b->p = NULL;
    return p;
}

/* ------------------------------------------------------------------------ */
/* The remote command                                                       */
/* ------------------------------------------------------------------------ */

/* libvirt's virBufferEscapeShell(): s as it is when it has no shell
 * metacharacter, else in single quotes with each ' written '\''; '' for
 * an empty string. */
static void sb_shell(sbuf *b, const char *s)
{
    if (!*s) {
        sb_str(b, "''");
        return;
    }
    if (!strpbrk(s, "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~")) {
        sb_str(b, s);
        return;
    }
    sb_str(b, "'");
    for (const char *c = s; *c; c++) {
        if (*c == '\'')
            sb_str(b, "'\\'");
        sb_add(b, c, 1);
    }
    sb_str(b, "'");
}

/* Quoted for two shells in a row (libvirt's
 * virNetClientDoubleEscapeShell()). */
static char *double_escape(const char *s)
{
    sbuf once = { 0 }, twice = { 0 };
    sb_shell(&once, s);
    char *o = sb_take(&once);
    if (!o)
        return NULL;
    sb_shell(&twice, o);
    free(o);
    return sb_take(&twice);
}

/* The proxy libvirt uses when the URI names none (doRemoteOpen()). */
static virtwire_uri_proxy default_proxy(const virtwire_uri *uri)
{
    if (uri->remote.socket)
        return VIRTWIRE_URI_PROXY_NETCAT;
    int session = (strcmp(uri->path, "/session") == 0 || strncmp(uri->scheme, "test+", 5) == 0) &&
                  geteuid() != 0;
    return session ? VIRTWIRE_URI_PROXY_NATIVE : VIRTWIRE_URI_PROXY_AUTO;
}

/* The command ssh runs on the remote host (virNetClientSSHHelperCommand()),
 * malloc'd; NULL with errbuf set on failure, *rc the code. */
static char *remote_command(const virtwire_uri *uri, const virtwire_connect_params *p,
                            const char *socket_path, int *rc)
{
    virtwire_uri_proxy proxy =
        uri->remote.has_proxy ? uri->remote.proxy : default_proxy(uri);
    const char *netcat = uri->remote.netcat;
    if (proxy == VIRTWIRE_URI_PROXY_AUTO && netcat)
        proxy = VIRTWIRE_URI_PROXY_NETCAT;
    if (proxy == VIRTWIRE_URI_PROXY_NATIVE && netcat) {
        vw_errorf(p->errbuf, p->errbuf_len,
                          "netcat path not valid with native proxy mode");
        *rc = VIRTWIRE_EURI_PARAM;
        return NULL;
    }

    *rc = VIRTWIRE_ENOMEM;
    char *helper_uri = virtwire_uri_ssh_helper_name(uri);
    char *nc = double_escape(netcat ? netcat : "nc");
    char *uri_q = helper_uri ? double_escape(helper_uri) : NULL;
    free(helper_uri);
    if (!nc || !uri_q) {
        free(nc);
        free(uri_q);
        return NULL;
    }

    sbuf nccmd = { 0 };
    sb_str(&nccmd, "if '");
    sb_str(&nccmd, nc);
    sb_str(&nccmd, "' -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; then "
                   "ARG=-q0;else ARG=;fi;'");
    sb_str(&nccmd, nc);
    sb_str(&nccmd, "' $ARG -U ");
    sb_str(&nccmd, socket_path);

    sbuf helper = { 0 };
    sb_str(&helper, "virt-ssh-helper");
    sb_str(&helper, (p->flags & VIRTWIRE_URI_READONLY) ? " -r '" : " '");
    sb_str(&helper, uri_q);
    sb_str(&helper, "'");
    free(nc);
    free(uri_q);

    char *n = sb_take(&nccmd);
    char *h = sb_take(&helper);
    sbuf cmd = { 0 };
    if (n && h) {
        switch (proxy) {
        case VIRTWIRE_URI_PROXY_AUTO:
            sb_str(&cmd, "sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then "
                         "    ");
            sb_str(&cmd, h);
            sb_str(&cmd, "; else    ");
            sb_str(&cmd, n);
            sb_str(&cmd, "; fi'");
            break;
        case VIRTWIRE_URI_PROXY_NETCAT:
            sb_str(&cmd, "sh -c '");
            sb_str(&cmd, n);
            sb_str(&cmd, "'");
            break;
        case VIRTWIRE_URI_PROXY_NATIVE:
            sb_str(&cmd, "sh -c '");
            sb_str(&cmd, h);
            sb_str(&cmd, "'");
            break;
        }
    }
    free(n);
    free(h);
    char *out = sb_take(&cmd);
    if (out)
        *rc = 0;
    return out;
}

/* ------------------------------------------------------------------------ */
/* The environment                                                          */
/* ------------------------------------------------------------------------ */

/* virCommandAddEnvPassCommon() */
static const char *const common_env[] = {
    "LD_PRELOAD", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "DYLD_FORCE_FLAT_NAMESPACE",
    "PATH",       "HOME",            "USER",                  "LOGNAME",
    "TMPDIR",           NULL,
};
/* virNetSocketNewConnectSSH() */
static const char *const ssh_env[] = {
    "XDG_RUNTIME_DIR", "KRB5CCNAME",     "SSH_AUTH_SOCK", "SSH_ASKPASS",
    "SSH_ASKPASS_REQUIRE", "OPENSSL_CONF", "DISPLAY",     "XAUTHORITY",  NULL,
};
/* ... and without no_tty, for gpg-agent's prompt on the terminal. */
static const char *const ssh_tty_env[] = { "GPG_TTY", "TERM", NULL };

/* ------------------------------------------------------------------------ */
/* ssh and ext URIs                                                         */
/* ------------------------------------------------------------------------ */

static int open_ssh(const virtwire_uri *uri, const virtwire_connect_params *p,
                    virtwire_channel **out)
{
    /* The remote socket, as libvirt computes it (here, for the remote
     * host: ?socket= or the system socket, or a session socket below
     * this host's runtime directory). */
    char socket_path[4096];
    int rc = virtwire_uri_socket_path(uri, p->flags & ~VIRTWIRE_URI_DIRECT_FALLBACK, socket_path,
                                      sizeof socket_path);
    if (rc < 0) {
        if (rc == VIRTWIRE_EURI_SOCKET && uri->remote.mode == VIRTWIRE_URI_MODE_DIRECT)
            vw_errorf(p->errbuf, p->errbuf_len,
                              "Cannot use direct socket mode for ssh transport");
        else
            vw_errorf(p->errbuf, p->errbuf_len, "%s", virtwire_strerror(rc));
        return rc;
    }
    char *command = remote_command(uri, p, socket_path, &rc);
    if (!command)
        return rc;

    const char *program = uri->remote.command ? uri->remote.command : "ssh";
    char port[16];
    const char *argv[24];
    size_t n = 0;
    argv[n++] = program;
    if (uri->port) {
        snprintf(port, sizeof port, "%d", uri->port);
        argv[n++] = "-p";
        argv[n++] = port;
    }
    if (uri->user) {
        argv[n++] = "-l";
        argv[n++] = uri->user;
    }
    if (uri->remote.keyfile) {
        argv[n++] = "-i";
        argv[n++] = uri->remote.keyfile;
    }
    argv[n++] = "-T";
    argv[n++] = "-e";
    argv[n++] = "none";
    if (uri->remote.no_tty) {
        argv[n++] = "-o";
        argv[n++] = "BatchMode=yes";
    }
    if (uri->remote.no_verify) {
        argv[n++] = "-o";
        argv[n++] = "StrictHostKeyChecking=no";
    }
    argv[n++] = "--";
    argv[n++] = virtwire_uri_connect_host(uri);
    argv[n++] = command;
    argv[n] = NULL;
    const char *const *env[] = { common_env, ssh_env, uri->remote.no_tty ? NULL : ssh_tty_env,
                                 NULL };
    vw_child_spec spec = { "ssh", program, (char *const *)argv, env };
    rc = vw_channel_spawn(&spec, p, out);
    free(command);
    return rc;
}

static int open_ext(const virtwire_uri *uri, const virtwire_connect_params *p,
                    virtwire_channel **out)
{
    if (!uri->remote.command) {
        vw_errorf(p->errbuf, p->errbuf_len,
                          "remote_open: for 'ext' transport, command is required");
        return VIRTWIRE_EURI_PARAM;
    }
    const char *argv[] = { uri->remote.command, NULL };
    const char *const *env[] = { common_env, NULL };
    vw_child_spec spec = { "ext", uri->remote.command, (char *const *)argv, env };
    return vw_channel_spawn(&spec, p, out);
}

int vw_channel_open_child(const virtwire_uri *uri, const virtwire_connect_params *p,
                          virtwire_channel **out)
{
    *out = NULL;
    if (p->flags & VIRTWIRE_URI_ADMIN) {
        vw_errorf(p->errbuf, p->errbuf_len, "admin sockets are local: %s",
                          virtwire_strerror(VIRTWIRE_EURI_SOCKET));
        return VIRTWIRE_EURI_SOCKET;
    }
    return uri->transport == VIRTWIRE_URI_TRANSPORT_SSH ? open_ssh(uri, p, out)
                                                         : open_ext(uri, p, out);
}
