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

/* What a child is run with (virtwire_channel_child.c). */
typedef struct vw_child_spec {
    const char *kind;              /* the channel's name: "ssh" or "ext" */
    const char *program;           /* as named: argv[0], found in PATH */
    char *const *argv;             /* NULL-terminated */
    /* The variables passed when set here (after LC_ALL=C), as lists of
     * names, each NULL-terminated; the list of lists too (NULL entries
     * end it early). */
    const char *const *const *env;
} vw_child_spec;

/* Runs spec on a socketpair (its standard input and output) and a pipe
 * (its standard error) and makes the channel; on failure errbuf says why
 * in libvirt's words ("Cannot find 'ssh' in path: ..."). */
int vw_channel_spawn(const vw_child_spec *spec, const virtwire_connect_params *p,
                     virtwire_channel **out);

#endif /* VIRTWIRE_CHANNEL_INTERNAL_H */
