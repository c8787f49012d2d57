/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the fault tests: checks, fd and memory counts from /proc,
 * unix sockets in a private directory, raw libvirt frames written and read
 * with plain system calls (the scripted peers), a scripted peer on a
 * thread, and a storm of signals delivered to every thread.
 */
#ifndef FLIB_H
#define FLIB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "virnetprotocol.h"
#include "virtwire_error.h"
#include "virtwire_xdr.h"

extern int flib_failures;
/* The example daemon (examples/virtwire-mockd), the optional second
 * argument of every test program. */
extern const char *flib_mockd;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            __atomic_add_fetch(&flib_failures, 1, __ATOMIC_SEQ_CST);                     \
        }                                                                                \
    } while (0)

#define CHECK_RC(expr, want)                                                             \
    do {                                                                                 \
        long flib_rc_ = (long)(expr), flib_want_ = (long)(want);                         \
        if (flib_rc_ != flib_want_) {                                                    \
            fprintf(stderr, "%s:%d: %s gave %ld (%s), want %ld (%s)\n", __FILE__,        \
                    __LINE__, #expr, flib_rc_, flib_name((int)flib_rc_), flib_want_,     \
                    flib_name((int)flib_want_));                                         \
            __atomic_add_fetch(&flib_failures, 1, __ATOMIC_SEQ_CST);                     \
        }                                                                                \
    } while (0)

/* The symbolic name of a virtwire error, "0" or "?". */
const char *flib_name(int code);

/* Runs the group named argv[1] from groups (NULL-terminated name, function
 * pairs; argv[2], optional, is the example daemon); prints the result and
 * returns the exit status. */
typedef struct flib_group {
    const char *name;
    void (*fn)(void);
} flib_group;
int flib_main(int argc, char **argv, const flib_group *groups);

uint64_t flib_now_ms(void);
uint64_t flib_now_us(void);
void flib_sleep_ms(unsigned ms);
void flib_sleep_us(unsigned us);

/* Open fds of the process pid (0: this one), from /proc/PID/fd. */
int flib_count_fds(pid_t pid);
/* Resident memory in KiB: /proc/self/statm for pid 0, VmRSS of
 * /proc/PID/status otherwise; -1 on error. */
long flib_rss_kib(pid_t pid);
/* Waits up to timeout_ms for the fd count of pid to come down to want;
 * returns the last count. */
int flib_wait_fds(pid_t pid, int want, int timeout_ms);

/* A private directory for sockets (created once, removed at exit), and a
 * path in it. */
void flib_path(char *buf, size_t n, const char *name);

/* Blocking unix sockets. */
int flib_listen_unix(const char *path);
int flib_connect_unix(const char *path);
/* Accepts one connection, waiting up to timeout_ms; -1 on failure. */
int flib_accept(int lfd, int timeout_ms);
/* Sets SO_SNDBUF and SO_RCVBUF (0: leave as is). */
void flib_bufsize(int fd, int snd, int rcv);

/* Blocking I/O with EINTR retried.  write_all returns 0 or -1; read_exact
 * returns 0, or -1 on end of file, error or timeout (-1: no timeout). */
int flib_write_all(int fd, const void *p, size_t n);
int flib_read_exact(int fd, void *p, size_t n, int timeout_ms);
/* Sends one fd with its dummy byte, as libvirt does. */
int flib_send_fd(int sock, int fd);

/* Raw frames. */
typedef struct flib_frame {
    virNetMessageHeader hdr;
    unsigned char *payload; /* malloc'd, after the header */
    size_t len;
} flib_frame;

/* Reads one frame (length word, header, payload); 0, or -1 on end of
 * file, error, timeout or a length word out of range. */
int flib_read_frame(int fd, flib_frame *f, int timeout_ms);
void flib_frame_free(flib_frame *f);
/* Writes length word and header into out (28 bytes) for a payload of len. */
void flib_header(unsigned char *out, uint32_t prog, int32_t proc, int type, uint32_t serial,
                 int status, size_t len);
/* Writes one frame of the remote program. */
int flib_send_frame(int fd, int32_t proc, int type, uint32_t serial, int status,
                    const void *payload, size_t len);
/* Encodes v with t (NULL: void) and writes it as a frame of the remote
 * program. */
int flib_send_value(int fd, int32_t proc, int type, uint32_t serial, int status,
                    const virtwire_type *t, const void *v);
/* Encodes v with t into a malloc'd frame of the remote program; *len set. */
unsigned char *flib_build_value(int32_t proc, int type, uint32_t serial, int status,
                                const virtwire_type *t, const void *v, size_t *len);

/* Scripted server side of libvirt's open handshake: answers AUTH_LIST
 * (NONE), CONNECT_SUPPORTS_FEATURE (keepalive: supported as given) and
 * CONNECT_OPEN.  Returns 0 or -1. */
int flib_serve_handshake(int fd, int keepalive);
/* Scripted client side of the handshake, written at once; reads the three
 * replies.  Returns 0 or -1. */
int flib_client_handshake(int fd);

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
 * with extra arguments (NULL-terminated, may be NULL).  start waits until
 * it listens (exits the test on failure); stop sends SIGTERM and returns
 * its exit status (-1 when a signal ended it), which is 0 only when it
 * shut down cleanly (under AddressSanitizer: without leaks). */
typedef struct flib_daemon {
    pid_t pid;
    char path[108];
    char uri[160]; /* test+unix:///default?socket=PATH */
} flib_daemon;
void flib_mockd_start(flib_daemon *d, const char *name, const char *const *args);
int flib_mockd_stop(flib_daemon *d);

/* A pattern byte for position i of stream seed. */
static inline unsigned char flib_pattern(uint32_t seed, uint64_t i)
{
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 32 | seed);
    x ^= x >> 29;
    return (unsigned char)(x ^ (x >> 17) ^ (x >> 41));
}
void flib_fill(unsigned char *p, size_t n, uint32_t seed, uint64_t off);
/* Whether p holds the pattern; prints the first mismatch. */
int flib_check(const unsigned char *p, size_t n, uint32_t seed, uint64_t off);
/* The same for one byte in 4096 and the last (for hundreds of MB). */
int flib_check_sampled(const unsigned char *p, size_t n, uint32_t seed, uint64_t off);

#endif
