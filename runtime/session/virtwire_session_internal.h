/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire session internals, shared by the session's files and the
 * client (not installed).
 */
#ifndef VIRTWIRE_SESSION_INTERNAL_H
#define VIRTWIRE_SESSION_INTERNAL_H

#include <stddef.h>

#include "virtwire_client.h"
#include "virtwire_message_internal.h"
#include "virtwire_uri.h"

/* What one session open works with. */
typedef struct vw_session {
    const virtwire_client_options *opts; /* checked, the library's size */
    const virtwire_uri *uri;             /* NULL with virtwire_client_adopt() */
    const char *name;                    /* the CONNECT_OPEN name, or NULL */
    const char *auth;                    /* `auth=`, or NULL */
    int timeout_ms;                      /* each call's */
    char *errbuf;                        /* NULL or errbuf_len bytes */
    size_t errbuf_len;
} vw_session;

/* Opens the session (see virtwire_session.h); sets c->opened. */
int vw_session_open(virtwire_client *c, const vw_session *s);

/* Says goodbye to a daemon the session opened: CONNECT_CLOSE (or the
 * admin program's), waiting CLOSE_TIMEOUT_MS at most. */
void vw_session_goodbye(virtwire_client *c);

/* One call of the session, with s's timeout; a failure's reason goes to
 * s->errbuf (the daemon's message for its errors), and the daemon's error
 * itself to s->opts->error (vw_session_keep_error()). */
int vw_session_call(virtwire_client *c, const vw_session *s, const virtwire_program *prog,
                    int32_t proc, const void *args, void *ret, virtwire_arena *arena);

/* Keeps err (NULL: none) where the caller's options want the daemon's
 * error (virtwire_client_options.error), as a heap copy replacing the one
 * kept before. */
void vw_session_keep_error(const vw_session *s, const virNetMessageError *err);


#endif /* VIRTWIRE_SESSION_INTERNAL_H */
