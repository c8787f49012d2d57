/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the client tests: checks, a private libvirtd (started with
 * tests/libvirtd/private-libvirtd, stopped at exit) and timing.
 */
#ifndef CLIB_H
#define CLIB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "virtwire_client.h"

extern int clib_failures;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            clib_failures++;                                                             \
        }                                                                                \
    } while (0)

#define CHECK_RC(expr, want)                                                             \
    do {                                                                                 \
        int clib_rc_ = (expr);                                                           \
        if (clib_rc_ != (want)) {                                                        \
            fprintf(stderr, "%s:%d: %s gave %s, want %s\n", __FILE__, __LINE__, #expr,   \
                    virtwire_error_name(clib_rc_) ? virtwire_error_name(clib_rc_) : "?", \
                    virtwire_error_name(want) ? virtwire_error_name(want) : "?");        \
            clib_failures++;                                                             \
        }                                                                                \
    } while (0)

/* A private libvirtd: DIR, URIs, pid. */
typedef struct clib_daemon {
    char dir[128];
    char uri[256];       /* test+unix:///default?socket=DIR/libvirt-sock */
    char uri_ro[256];
    char admin_uri[256]; /* libvirtd:///system?socket=DIR/libvirt-admin-sock */
    char script[512];
} clib_daemon;

/* Starts a daemon with the script given as argv[1]; exits the test on
 * failure.  The daemon is stopped at exit (clib_daemon_stop). */
void clib_daemon_start(clib_daemon *d, const char *script);
void clib_daemon_stop(clib_daemon *d);
/* The daemon's release as libvirt encodes it (major * 1000000 + minor *
 * 1000 + micro), from what the daemon itself prints; 0 if unknown.  The
 * script runs the system's libvirtd, or another release's with
 * VIRTWIRE_LIBVIRT_SUITE or VIRTWIRE_LIBVIRT_ROOT in the environment. */
uint32_t clib_daemon_version(const clib_daemon *d);
/* The daemon's pid (from its pid file), or -1. */
long clib_daemon_pid(const clib_daemon *d);

uint64_t clib_now_ms(void);
void clib_sleep_ms(unsigned ms);

/* Ends the test: prints a summary, returns the exit status. */
int clib_finish(const char *name);

#endif
