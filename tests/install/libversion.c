/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A libvirt client built against an installed virtwire: connects to URI,
 * prints the daemon's library version (CONNECT_GET_LIB_VERSION) and the
 * error of a lookup that fails.  Built with USE_TLS (and libvirtwire_tls),
 * it takes +tls URIs.
 *
 *   libversion URI
 */
#include <stdio.h>

#include "remote_protocol_client.h"
#ifdef USE_TLS
#include "virtwire_tls.h"
#endif

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: libversion URI\n");
        return 2;
    }
    virtwire_client *c;
    char why[512] = "";
    virtwire_client_options o = { .size = sizeof o, .errbuf = why, .errbuf_len = sizeof why };
#ifdef USE_TLS
    o.tls = &virtwire_tls_opener;
#endif
    int rc = virtwire_client_connect(argv[1], &o, &c);
    if (rc < 0) {
        fprintf(stderr, "connect: %s: %s\n", virtwire_strerror(rc), why);
        return 1;
    }
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts opts = { .size = sizeof opts, .arena = &arena, .timeout_ms = 10000, .error = &err };
    remote_connect_get_lib_version_ret ver;
    rc = remote_call_connect_get_lib_version(c, &ver, &opts);
    if (rc < 0) {
        fprintf(stderr, "CONNECT_GET_LIB_VERSION: %s\n", virtwire_strerror(rc));
        virtwire_client_close(c);
        return 1;
    }
    printf("libvirt version: %llu\n", (unsigned long long)ver.lib_ver);

    remote_domain_lookup_by_name_args args = { .name = (char *)"no-such-domain" };
    remote_domain_lookup_by_name_ret dom;
    rc = remote_call_domain_lookup_by_name(c, &args, &dom, &opts);
    if (rc == VIRTWIRE_EREMOTE)
        printf("lookup: code=%d domain=%d\n", err.code, err.domain);
    else
        printf("lookup: %s\n", virtwire_strerror(rc));
    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
    return 0;
}
