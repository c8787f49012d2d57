/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The system side of the tests: time, open fds and resident memory from
 * /proc, a private directory for sockets, unix sockets, and blocking I/O
 * loops that retry EINTR.
 */
#ifndef VIRTWIRE_TESTS_VT_SYS_H
#define VIRTWIRE_TESTS_VT_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC. */
uint64_t vt_now_ms(void);
uint64_t vt_now_us(void);
/* Sleeps the whole time, signals or not. */
void vt_sleep_ms(unsigned ms);
void vt_sleep_us(unsigned us);

/** Open fds of the process pid (0: this one, not counting the directory
 *  read to count them), from /proc/PID/fd; -1 on error. */
int vt_count_fds(pid_t pid);
/** Prints each open fd of this process and what it refers to (stderr). */
void vt_list_fds(void);
/** Waits up to timeout_ms for the fd count of pid to come down to want;
 *  returns the last count. */
int vt_wait_fds(pid_t pid, int want, int timeout_ms);
/** Resident memory in KiB: /proc/self/statm for pid 0, VmRSS of
 *  /proc/PID/status otherwise; -1 on error. */
long vt_rss_kib(pid_t pid);

/**
 * A short private directory (under TMPDIR when it is short, else the
 * system's), created on first use and removed at exit; buf gets the path
 * of name in it.  Unix socket paths must stay short.
 */
void vt_path(char *buf, size_t n, const char *name);

/** A blocking, close-on-exec unix socket listening at path (an old file
 *  there is removed); exits the test on failure. */
int vt_listen_unix(const char *path);
/** A blocking, close-on-exec unix socket connected to path; -1 on failure. */
int vt_connect_unix(const char *path);
/** Accepts one connection, waiting up to timeout_ms; -1 on failure. */
int vt_accept(int lfd, int timeout_ms);
/** A connected pair of unix stream sockets (flags: SOCK_CLOEXEC and the
 *  like); 0 or -1. */
int vt_socketpair(int sv[2], int flags);
/** Sets SO_SNDBUF and SO_RCVBUF (0: leave as is; the kernel doubles it). */
void vt_bufsize(int fd, int snd, int rcv);
/** A TCP port on 127.0.0.1 that nothing listens on now. */
int vt_free_tcp_port(void);

/**
 * Writes all of p (send() without SIGPIPE on sockets, write() on anything
 * else), retrying EINTR and waiting out EAGAIN; 0, or -1 on error.
 */
int vt_write_all(int fd, const void *p, size_t n);
/** Reads exactly n bytes; 0, or -1 on end of file, error or timeout
 *  (timeout_ms -1: none). */
int vt_read_exact(int fd, void *p, size_t n, int timeout_ms);
/** Sends one fd with its dummy byte, as libvirt does; 0 or -1. */
int vt_send_fd(int sock, int fd);

#endif
