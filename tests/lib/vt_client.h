/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the client tests share: event handlers.
 */
#ifndef VIRTWIRE_TESTS_VT_CLIENT_H
#define VIRTWIRE_TESTS_VT_CLIENT_H

#include "virtwire_client.h"

/** An event handler (virtwire_client_on_event()) that only counts: each
 *  event adds one to the int opaque points to (atomically: the client's
 *  thread calls it while the test reads the count). */
static inline void vt_count_event(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                                  const void *msg, void *opaque)
{
    (void)c;
    (void)prog;
    (void)proc;
    (void)msg;
    __atomic_add_fetch((int *)opaque, 1, __ATOMIC_SEQ_CST);
}

#endif
