/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opens a connection with virtwire_client_connect() and says how it went,
 * in one line on stdout, for the authentication tests to set beside
 * python3-libvirt's answer (run as the same user, on the same URI):
 *
 *   ok HOSTNAME                 the session opened; CONNECT_GET_HOSTNAME
 *   err CODE MESSAGE            it did not: virtwire_error_name(rc) and
 *                               what virtwire_client_options.errbuf says
 *
 *   auth_probe [-r] URI
 *
 * -r opens read-only (VIRTWIRE_CLIENT_READONLY).  Exit status 0 in both
 * cases, 2 for a wrong command line, 1 when the connection opened but the
 * call after it failed.
 */
#include <stdio.h>
#include <string.h>

#include "remote_protocol.h"
#include "virtwire_client.h"

int main(int argc, char **argv)
{
    unsigned flags = 0;
    int i = 1;
    if (i < argc && strcmp(argv[i], "-r") == 0) {
        flags |= VIRTWIRE_CLIENT_READONLY;
        i++;
    }
    if (i != argc - 1) {
        fprintf(stderr, "usage: auth_probe [-r] URI\n");
        return 2;
    }
    char errbuf[512] = "";
    virtwire_client_options o = { .size = sizeof o, .flags = flags, .open_timeout_ms = 20000,
                                  .errbuf = errbuf, .errbuf_len = sizeof errbuf };
    virtwire_client *c = NULL;
    int rc = virtwire_client_connect(argv[i], &o, &c);
    if (rc < 0) {
        const char *name = virtwire_error_name(rc);
        printf("err %s %s\n", name ? name : "?", errbuf);
        return 0;
    }
    remote_connect_get_hostname_ret r = { 0 };
    virtwire_call_opts co = { .size = sizeof co, .timeout_ms = 20000 };
    rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_HOSTNAME, NULL, &r,
                              &co);
    if (rc < 0) {
        printf("call-failed %s\n", virtwire_strerror(rc));
        virtwire_client_close(c);
        return 1;
    }
    printf("ok %s\n", r.hostname);
    remote_connect_get_hostname_ret_free(&r);
    virtwire_client_close(c);
    return 0;
}
