/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire channels to what a libvirt URI designates: unix and TCP sockets
 * here, ssh and ext child processes (virtwire_channel_ssh.c), TLS through
 * the caller's opener (libvirtwire_tls).  See virtwire_channel.h.
 */
#define _GNU_SOURCE /* SOCK_CLOEXEC, SOCK_NONBLOCK */
#include "virtwire_channel.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "virtwire_channel_internal.h"
#include "virtwire_sized_internal.h"

/* ------------------------------------------------------------------------ */
/* Unix sockets                                                             */
/* ------------------------------------------------------------------------ */

int virtwire_channel_connect_unix(const char *path, char *errbuf, size_t errlen,
                                  virtwire_channel **out)
{
    struct sockaddr_un sa;
    if (out)
        *out = NULL;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (!path || !out || !*path || strlen(path) >= sizeof(sa.sun_path)) {
        vw_errorf(errbuf, errlen, "invalid unix socket path '%s'", path ? path : "");
        return VIRTWIRE_EINVAL;
    }
    memcpy(sa.sun_path, path, strlen(path));
    /* Blocking connect: a unix connect completes at once or fails, and a
     * non-blocking one would fail with EAGAIN on a full backlog. */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -1 : 0;
    if (fd >= 0) {
        do
            rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        while (rc < 0 && errno == EINTR);
        if (rc < 0 && errno == EISCONN)
            rc = 0;
    }
    if (rc < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        /* libvirt's words (virNetSocketNewConnectUNIX). */
        vw_errorf(errbuf, errlen, "Failed to connect socket to '%s': %s", path,
                          strerror(err));
        errno = err;
        return VIRTWIRE_EIO;
    }
    return virtwire_channel_socket_new(fd, 1, out);
}

/* ------------------------------------------------------------------------ */
/* TCP                                                                      */
/* ------------------------------------------------------------------------ */

/* Waits for a non-blocking connect() in progress.  Returns 0 or -1 with
 * errno set. */
static int finish_connect(int fd)
{
    for (;;) {
        struct pollfd p = { fd, POLLOUT, 0 };
        int n = poll(&p, 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            return -1;
        if (err) {
            errno = err;
            return -1;
        }
        return 0;
    }
}

/* Connects a new TCP socket to one address.  Returns the fd or -1. */
static int tcp_connect_one(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    /* EINTR: the connection goes on in the background, like EINPROGRESS. */
    if ((errno == EINPROGRESS || errno == EINTR) && finish_connect(fd) == 0)
        return fd;
    int err = errno;
    close(fd);
    errno = err;
    return -1;
}

int virtwire_channel_connect_tcp(const char *host, int port, char *errbuf, size_t errlen,
                                 virtwire_channel **out)
{
    if (out)
        *out = NULL;
    if (!host || !out || port < 1 || port > 65535) {
        vw_errorf(errbuf, errlen, "invalid host or port");
        return VIRTWIRE_EINVAL;
    }
    char service[8];
    snprintf(service, sizeof(service), "%d", port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        if (gai != EAI_SYSTEM)
            errno = gai == EAI_MEMORY ? ENOMEM : ENOENT;
        /* libvirt's words (virNetSocketNewConnectTCP). */
        vw_errorf(errbuf, errlen, "Unable to resolve address '%s' service '%s': %s",
                          host, service, gai_strerror(gai));
        return VIRTWIRE_EIO;
    }
    int fd = -1;
    int err = ENOENT;
    for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = tcp_connect_one(ai);
        if (fd < 0)
            err = errno;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        vw_errorf(errbuf, errlen, "unable to connect to server at '%s:%s': %s", host,
                          service, strerror(err));
        errno = err;
        return VIRTWIRE_EIO;
    }
    return virtwire_channel_socket_new(fd, 0, out);
}

/* ------------------------------------------------------------------------ */
/* URIs                                                                     */
/* ------------------------------------------------------------------------ */

int virtwire_channel_open_uri(const virtwire_uri *uri, const virtwire_connect_params *params,
                              virtwire_channel **out)
{
    virtwire_connect_params p = { .size = sizeof p };
    if (out)
        *out = NULL;
    if (!uri || !out || (params && vw_sized_copy(&p, sizeof p, params) < 0))
        return VIRTWIRE_EINVAL;
    if (p.errbuf && p.errbuf_len)
        p.errbuf[0] = '\0';
    unsigned known = VIRTWIRE_URI_READONLY | VIRTWIRE_URI_ADMIN | VIRTWIRE_URI_DIRECT_FALLBACK;
    if (p.flags & ~known)
        return VIRTWIRE_EINVAL;

    switch (uri->transport) {
    case VIRTWIRE_URI_TRANSPORT_UNIX: {
        char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        int rc = virtwire_uri_socket_path(uri, p.flags, path, sizeof(path));
        if (rc < 0) {
            vw_errorf(p.errbuf, p.errbuf_len, "%s", virtwire_strerror(rc));
            return rc;
        }
        return virtwire_channel_connect_unix(path, p.errbuf, p.errbuf_len, out);
    }
    case VIRTWIRE_URI_TRANSPORT_TCP: {
        if (p.flags & VIRTWIRE_URI_ADMIN) {
            vw_errorf(p.errbuf, p.errbuf_len, "admin sockets are local: %s",
                              virtwire_strerror(VIRTWIRE_EURI_SOCKET));
            return VIRTWIRE_EURI_SOCKET;
        }
        int port = virtwire_uri_tcp_port(uri);
        if (port < 0)
            return port;
        return virtwire_channel_connect_tcp(virtwire_uri_connect_host(uri), port, p.errbuf,
                                            p.errbuf_len, out);
    }
    case VIRTWIRE_URI_TRANSPORT_TLS:
        if (p.flags & VIRTWIRE_URI_ADMIN) {
            vw_errorf(p.errbuf, p.errbuf_len, "admin sockets are local: %s",
                              virtwire_strerror(VIRTWIRE_EURI_SOCKET));
            return VIRTWIRE_EURI_SOCKET;
        }
        if (!p.tls || !p.tls->open) {
            vw_errorf(p.errbuf, p.errbuf_len,
                              "the tls transport needs libvirtwire_tls: pass its opener "
                              "(virtwire_tls_opener) as the connection's tls");
            return VIRTWIRE_EUNSUPPORTED_TRANSPORT;
        }
        return p.tls->open(p.tls, uri, p.flags, p.errbuf, p.errbuf_len, out);
    case VIRTWIRE_URI_TRANSPORT_SSH:
    case VIRTWIRE_URI_TRANSPORT_EXT:
        return vw_channel_open_child(uri, &p, out);
    case VIRTWIRE_URI_TRANSPORT_LIBSSH:
    case VIRTWIRE_URI_TRANSPORT_LIBSSH2:
        vw_errorf(p.errbuf, p.errbuf_len,
                          "transport '%s' is not supported: use '+ssh', which runs the ssh "
                          "command (and so follows ~/.ssh/config)",
                          virtwire_uri_transport_name(uri->transport));
        return VIRTWIRE_EUNSUPPORTED_TRANSPORT;
    }
    return VIRTWIRE_EINVAL;
}
