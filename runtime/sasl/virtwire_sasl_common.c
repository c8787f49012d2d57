/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire SASL: what the client and the server share: Cyrus SASL's
 * codec for the security layer, addresses in SASL's form, and whether a
 * channel is secure in libvirt's sense.
 */
#define _GNU_SOURCE

#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "virtwire_sasl_cyrus_internal.h"

/* sasl_encode and sasl_decode take the same arguments. */
typedef int (*cyrus_code_fn)(sasl_conn_t *conn, const char *in, unsigned len, const char **out,
                             unsigned *out_len);

static int cyrus_code(cyrus_code_fn code, vw_sasl_conn *s, const unsigned char *in, size_t len,
                      const unsigned char **out, size_t *out_len)
{
    const char *o = NULL;
    unsigned ol = 0;
    if (len > UINT32_MAX)
        return -1;
    int err = code(s->conn, (const char *)in, (unsigned)len, &o, &ol);
    if (err != SASL_OK)
        return -1;
    *out = (const unsigned char *)o;
    *out_len = ol;
    return 0;
}

static int cyrus_encode(void *ctx, const unsigned char *in, size_t len,
                        const unsigned char **out, size_t *out_len)
{
    return cyrus_code(sasl_encode, ctx, in, len, out, out_len);
}

static int cyrus_decode(void *ctx, const unsigned char *in, size_t len,
                        const unsigned char **out, size_t *out_len)
{
    return cyrus_code(sasl_decode, ctx, in, len, out, out_len);
}

static const char *cyrus_detail(void *ctx)
{
    vw_sasl_conn *s = ctx;
    return sasl_errdetail(s->conn);
}

void vw_sasl_conn_free(void *ctx)
{
    vw_sasl_conn *s = ctx;
    if (!s)
        return;
    if (s->conn)
        sasl_dispose(&s->conn);
    free(s->callbacks);
    free(s);
}

int vw_sasl_wrap(virtwire_channel *inner, const void *in, size_t in_len, size_t clear_out,
                 void *opaque, virtwire_channel **out)
{
    vw_sasl_conn **slot = opaque; /* the owner's pointer: cleared once the layer has it */
    vw_sasl_conn *s = *slot;
    const void *v = NULL;
    if (sasl_getprop(s->conn, SASL_MAXOUTBUF, &v) != SASL_OK || !v)
        return VIRTWIRE_ESECURITY_LAYER;
    unsigned maxout = *(const unsigned *)v;
    if (maxout == 0)
        return VIRTWIRE_ESECURITY_LAYER;
    vw_sasl_codec codec = {
        .encode = cyrus_encode,
        .decode = cyrus_decode,
        .detail = cyrus_detail,
        .free = vw_sasl_conn_free,
        .ctx = s,
        .max_out = maxout,
        .max_in = VW_SASL_MAXBUF,
        .ssf = (unsigned)vw_sasl_ssf(s->conn),
    };
    int rc = vw_sasl_layer_new(inner, &codec, in, in_len, clear_out, out);
    if (rc == 0)
        *slot = NULL;
    return rc;
}

int vw_sasl_ssf(sasl_conn_t *conn)
{
    const void *v = NULL;
    if (sasl_getprop(conn, SASL_SSF, &v) != SASL_OK || !v)
        return -1;
    return *(const int *)v;
}

char *vw_sasl_addr(int fd, int peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
                  : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (rc < 0)
        return NULL;
    if (ss.ss_family == AF_UNIX)
        return strdup("127.0.0.1;0"); /* libvirt's stand-in for a unix socket */
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
        return NULL;
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return NULL;
    size_t n = strlen(host) + strlen(port) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s;%s", host, port);
    return s;
}

int vw_sasl_channel_secure(const virtwire_channel *ch)
{
    const char *name = ch ? virtwire_channel_name(ch) : NULL;
    static const char *const secure[] = { "unix", "tls", "ssh", "libssh", "libssh2", NULL };
    for (const char *const *p = secure; name && *p; p++)
        if (strcmp(name, *p) == 0)
            return 1;
    return 0;
}
