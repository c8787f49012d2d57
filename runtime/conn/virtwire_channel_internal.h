/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire channel internals, shared by the conn layer's files (not
 * installed).
 */
#ifndef VIRTWIRE_CHANNEL_INTERNAL_H
#define VIRTWIRE_CHANNEL_INTERNAL_H

#include "virtwire_channel.h"
#include "virtwire_message_internal.h"


/* A channel to a child process for an ssh or ext URI
 * (virtwire_channel_ssh.c); p is checked. */
int vw_channel_open_child(const virtwire_uri *uri, const virtwire_connect_params *p,
                          virtwire_channel **out);

#endif /* VIRTWIRE_CHANNEL_INTERNAL_H */
