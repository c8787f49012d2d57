/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connects with a URI as virtwire_client_connect() does and says how it
 * went, for test_ssh_libvirt.py to compare with libvirt:
 *
 *   connect_tool [--readonly] URI
 *
 * prints "rc NAME" and "err ERRBUF" (what failed) on standard output, then
 * closes the connection if there is one.  Exit status 0 when connected.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "virtwire_client.h"

int main(int argc, char **argv)
{
    int ro = argc == 3 && strcmp(argv[1], "--readonly") == 0;
    if (argc != 2 + ro) {
        fprintf(stderr, "usage: %s [--readonly] URI\n", argv[0]);
        return 2;
    }
    char why[1024] = "";
    virtwire_client_options o = { .size = sizeof o,
                                  .flags = ro ? VIRTWIRE_CLIENT_READONLY : 0,
                                  .open_timeout_ms = 20000,
                                  .errbuf = why,
                                  .errbuf_len = sizeof why };
    virtwire_client *c = NULL;
    int rc = virtwire_client_connect(argv[1 + ro], &o, &c);
    printf("rc %s\nerr %s\n", rc == 0 ? "0" : virtwire_error_name(rc), why);
    virtwire_client_close(c);
    return rc == 0 ? 0 : 1;
}
