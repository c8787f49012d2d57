/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the fault tests share besides tests/lib: the group runner (the
 * example daemon as optional second argument), a scripted peer on a
 * thread, a storm of signals delivered to every thread, and data patterns.
 */
#ifndef FLIB_H
#define FLIB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "virnetprotocol.h"
#include "virtwire_client.h"
#include "virtwire_conn.h"
#include "virtwire_error.h"
#include "virtwire_xdr.h"
#include "vt_check.h"
#include "vt_daemon.h"
#include "vt_frame.h"
#include "vt_sys.h"

/* The example daemon (examples/virtwire-mockd), the optional second
 * argument of every test program. */
extern const char *flib_mockd;

/* Runs the group named argv[1] from groups (NULL-terminated; argv[2],
 * optional, is the example daemon); prints its time and vt_finish()'s
 * summary and returns the exit status. */
int flib_main(int argc, char **argv, const vt_group *groups);

/* Two connections over a unix socket pair, each with the remote program
 * registered: *a the client end (its program *tp without callbacks), *b
 * the server end (*rp with recv_cbs and ctx); snd and rcv, when not 0, are
 * the socket buffer sizes of both ends.  Failures are checks that fail. */
void flib_conn_pair(int snd, int rcv, virtwire_conn **a, virtwire_transport_program **tp,
                    virtwire_conn **b, virtwire_transport_program **rp,
                    const virtwire_transport_program_callbacks *recv_cbs, void *ctx);

/* A scripted peer: a unix listener at a private path; a thread accepts
 * one connection and runs script on it, then closes it. */
typedef struct flib_peer flib_peer;
struct flib_peer {
    char path[108];
    int lfd;
    pthread_t thread;
    void (*script)(flib_peer *p, int fd);
    void *arg;
    int result; /* for the script's own use */
};
void flib_peer_start(flib_peer *p, const char *name, void (*script)(flib_peer *p, int fd),
                     void *arg);
/* Joins the thread and closes the listener. */
void flib_peer_join(flib_peer *p);

/* Signals: a handler installed without SA_RESTART that counts, and for
 * every thread of the process (found in /proc/self/task, again every 2 ms
 * as threads come and go) a timer that sends it sig every period_us
 * microseconds.  stop returns the number of signals handled. */
void flib_storm_start(int sig, unsigned period_us);
unsigned long flib_storm_stop(void);

/* The example daemon (flib_mockd) on a private socket path named name,
 * with extra arguments (NULL-terminated, may be NULL): vt_mockd_start(). */
void flib_mockd_start(vt_mockd *d, const char *name, const char *const *args);

/* A pattern byte for position i of stream seed. */
static inline unsigned char flib_pattern(uint32_t seed, uint64_t i)
{
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 32 | seed);
    x ^= x >> 29;
    return (unsigned char)(x ^ (x >> 17) ^ (x >> 41));
}
void flib_fill(unsigned char *p, size_t n, uint32_t seed, uint64_t off);
/* Text of n letters of pattern seed (malloc'd, NUL-terminated). */
char *flib_text(size_t n, uint32_t seed);

/* CONNECT_GET_LIB_VERSION on c, waiting up to timeout_ms: the call's
 * result, the version in *lib_ver (when not NULL; 0 when none came). */
int flib_lib_version(virtwire_client *c, int timeout_ms, uint64_t *lib_ver);
/* flib_lib_version() on a thread of its own: its result and when it
 * ended, once joined. */
typedef struct flib_caller {
    virtwire_client *c;
    int timeout_ms;
    pthread_t th;
    int rc;
    uint64_t ended;
} flib_caller;
void flib_caller_start(flib_caller *k, virtwire_client *c, int timeout_ms);
void flib_caller_join(flib_caller *k);
/* DOMAIN_LOOKUP_BY_NAME of name on c: checks that it succeeds and names
 * that domain. */
void flib_check_lookup(virtwire_client *c, const char *name);

/* Replies of asynchronous CONNECT_DOMAIN_XML_FROM_NATIVE calls, each of
 * which should carry back the text (flib_text(), len letters) of one of
 * the seeds first to first + n - 1: how many came, and how many were such
 * a text. */
typedef struct flib_texts {
    pthread_mutex_t m;
    size_t len;
    uint32_t first, n;
    int done, ok;
} flib_texts;
void flib_texts_init(flib_texts *t, size_t len, uint32_t first, uint32_t n);
/* The calls' virtwire_call_done (opaque: the flib_texts). */
void flib_texts_done(virtwire_client *c, const virtwire_call_result *r, void *opaque);
/* Waits up to timeout_ms for all n replies, then checks that every one
 * came and was right. */
void flib_texts_check(flib_texts *t, int timeout_ms);

/* Whether p holds the pattern; prints the first mismatch. */
int flib_check(const unsigned char *p, size_t n, uint32_t seed, uint64_t off);
/* The same for one byte in 4096 and the last (for hundreds of MB). */
int flib_check_sampled(const unsigned char *p, size_t n, uint32_t seed, uint64_t off);

#endif
