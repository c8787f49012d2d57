/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An in-process server for the fault tests (runtime/server/virtwire_server.h on a
 * unix or TCP listener), run by the test's own thread or by a thread of
 * its own, that counts what happens to its clients:
 *
 *   AUTH_LIST, CONNECT_SUPPORTS_FEATURE (keepalive: yes), CONNECT_OPEN,
 *   CONNECT_CLOSE                the open handshake
 *   CONNECT_GET_LIB_VERSION      42
 *   CONNECT_GET_HOSTNAME         deferred: never answered by itself
 *   CONNECT_DOMAIN_XML_FROM_NATIVE  echoes nativeConfig as domainXml
 *   DOMAIN_CREATE_WITH_FILES     counts the fds (CALL_WITH_FDS)
 *   STORAGE_VOL_UPLOAD           a stream sink checking flib's pattern
 *                                (seed: offset), counting bytes
 *   STORAGE_VOL_DOWNLOAD         a stream source of length bytes of the
 *                                pattern (seed: offset)
 *
 * Counters are read with __atomic loads while the server thread runs.
 */
#ifndef FSRV_H
#define FSRV_H

#include <pthread.h>
#include <stdint.h>

#include "virtwire_server.h"

typedef struct fsrv_stats {
    int opened, closed;
    int last_error; /* virtwire_server_client_error() at the last on_close */
    int calls;      /* handler calls */
    int fds_calls;  /* DOMAIN_CREATE_WITH_FILES calls */
    int deferred;   /* CONNECT_GET_HOSTNAME calls kept */
    /* uploads */
    uint64_t up_bytes;
    int up_data, up_bad, up_finished, up_aborted, up_closed;
    /* downloads */
    uint64_t down_bytes;
    int down_eof, down_finished, down_closed;
} fsrv_stats;

typedef struct fsrv {
    virtwire_server *srv;
    fsrv_stats st;
    char path[108];
    int tcp_port;
    pthread_t thread;
    int running;
    int stop;
    /* deferred calls (CONNECT_GET_HOSTNAME), completed by fsrv_complete_deferred() */
    virtwire_server_call *held[16];
    int nheld;
    /* Uploads: check one byte in 4096 (and the last) instead of all. */
    int sampled;
} fsrv;

/* Creates the server listening on a unix socket at a private path named
 * name, and on TCP (loopback, any port) when tcp is non-zero. */
void fsrv_init(fsrv *s, const char *name, int tcp);
/* Runs rounds on the calling thread until cond(s) or timeout_ms; returns
 * whether cond held. */
int fsrv_pump(fsrv *s, int (*cond)(fsrv *s), int timeout_ms);
/* Runs the loop on a thread of its own until fsrv_stop(). */
void fsrv_start(fsrv *s);
void fsrv_stop(fsrv *s);
/* Answers the deferred calls (on the loop's thread: not while running). */
void fsrv_complete_deferred(fsrv *s);
/* Frees the server (stopped first when running). */
void fsrv_free(fsrv *s);
/* The counter at p, read atomically. */
int fsrv_get(const int *p);
uint64_t fsrv_get64(const uint64_t *p);

#endif
