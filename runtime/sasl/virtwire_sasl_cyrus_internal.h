/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire SASL internals that use Cyrus SASL (not installed).
 */
#ifndef VIRTWIRE_SASL_CYRUS_INTERNAL_H
#define VIRTWIRE_SASL_CYRUS_INTERNAL_H

#include <sasl/sasl.h>
#include <stdint.h>

#include "virtwire_channel.h"
#include "virtwire_sasl_internal.h"

/* A Cyrus SASL connection and the callbacks it points to (which must live
 * as long as it does). */
typedef struct vw_sasl_conn {
    sasl_conn_t *conn;
    sasl_callback_t *callbacks;
} vw_sasl_conn;

void vw_sasl_conn_free(void *ctx);

/* A virtwire_conn_wrap_fn: opaque is a vw_sasl_conn ** whose connection
 * the layer takes (the pointer is set to NULL on success). */
int vw_sasl_wrap(virtwire_channel *inner, const void *in, size_t in_len, size_t clear_out,
                 void *opaque, virtwire_channel **out);

/* The negotiated layer's SSF, or -1. */
int vw_sasl_ssf(sasl_conn_t *conn);

/* The local (peer 0) or remote address of a socket fd as SASL wants it,
 * "IP;port" ("127.0.0.1;0" for a unix socket, as libvirt), malloc'd; NULL
 * for what is not a socket. */
char *vw_sasl_addr(int fd, int peer);

/* Whether libvirt counts the channel as secure (unix, TLS, ssh): no SSF
 * needed from SASL. */
int vw_sasl_channel_secure(const virtwire_channel *ch);

#endif /* VIRTWIRE_SASL_CYRUS_INTERNAL_H */
