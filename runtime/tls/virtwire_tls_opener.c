/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtwire_tls: the client's opener for +tls URIs, in the order of
 * libvirt's remote driver (doRemoteOpen): the credentials first (so that a
 * missing file is reported before anything is connected), then the TCP
 * connection, then the TLS session, whose handshake the connection runs.
 */
#define _POSIX_C_SOURCE 200809L
#include "virtwire_tls_internal.h"

#include <unistd.h>

static int tls_open(const virtwire_channel_opener *self, const virtwire_uri *uri, unsigned flags,
                    char *errbuf, size_t errlen, virtwire_channel **out)
{
    (void)self;
    (void)flags; /* read-only and admin: the session's business */
    if (out)
        *out = NULL;
    if (!uri || !out)
        return VIRTWIRE_EINVAL;
    virtwire_tls_options o = {
        .size = sizeof o,
        .pkipath = uri->remote.pkipath,
        /* libvirt's client looks in ~/.pki/libvirt unless it runs as root. */
        .try_user_dir = geteuid() != 0,
        .priority = uri->remote.tls_priority,
        .no_sanity = uri->remote.no_sanity,
        .no_verify = uri->remote.no_verify,
    };
    virtwire_tls_creds *creds;
    int rc = virtwire_tls_creds_new(VIRTWIRE_TLS_CLIENT, &o, errbuf, errlen, &creds);
    if (rc < 0)
        return rc;
    int port = virtwire_uri_tcp_port(uri);
    const char *host = virtwire_uri_connect_host(uri);
    virtwire_channel *sock = NULL;
    rc = port < 0 ? port : virtwire_channel_connect_tcp(host, port, errbuf, errlen, &sock);
    if (rc == 0)
        rc = virtwire_tls_channel_new(creds, sock, host, errbuf, errlen, out);
    virtwire_tls_creds_free(creds); /* the channel keeps its own reference */
    return rc;
}

const virtwire_channel_opener virtwire_tls_opener = {
    .size = sizeof(virtwire_channel_opener),
    .open = tls_open,
    .opaque = NULL,
};
