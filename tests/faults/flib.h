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
/* Whether p holds the pattern; prints the first mismatch. */
int flib_check(const unsigned char *p, size_t n, uint32_t seed, uint64_t off);
/* The same for one byte in 4096 and the last (for hundreds of MB). */
int flib_check_sampled(const unsigned char *p, size_t n, uint32_t seed, uint64_t off);

#endif
