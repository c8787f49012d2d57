/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Daemons a test starts for itself: a private libvirtd (test driver,
 * through tests/libvirtd/private-libvirtd, whose path the test is given)
 * and the example daemon examples/virtwire-mockd.  Each is stopped at exit
 * if the test has not stopped it (by the process that started it only:
 * forked children leave it alone).
 */
#ifndef VIRTWIRE_TESTS_VT_DAEMON_H
#define VIRTWIRE_TESTS_VT_DAEMON_H

#include <sys/types.h>

/** A private libvirtd: its directory (config, sockets, log, pid) and URIs. */
typedef struct vt_libvirtd {
    char dir[128];
    char script[512];
    int port;            /* TCP port, 0 when it listens on unix sockets only */
    char sock[200];      /* DIR/libvirt-sock */
    char uri[256];       /* test+unix:///default?socket=DIR/libvirt-sock */
    char uri_ro[256];    /* the read-only socket */
    char admin_uri[256]; /* libvirtd:///system?socket=DIR/libvirt-admin-sock */
    char tcp_uri[128];   /* test+tcp://127.0.0.1:PORT/default, or "" */
    int tls_port;        /* TLS port (listen_tls), 0 without TLS */
    char tls_uri[128];   /* test+tls://localhost:PORT/default, or "" */
} vt_libvirtd;

/** listen_tls for vt_libvirtd_start_tls() (private-libvirtd's
 *  VIRTWIRE_TLS_* variables). */
typedef struct vt_libvirtd_tls {
    const char *pki;        /**< cacert.pem, servercert.pem, serverkey.pem, [cacrl.pem] */
    int no_sanity;          /**< tls_no_sanity_certificate */
    int no_verify;          /**< tls_no_verify_certificate */
    const char *allowed_dn; /**< one tls_allowed_dn_list pattern, or NULL */
} vt_libvirtd_tls;

/**
 * Starts a daemon with script in a fresh short directory (under TMPDIR when
 * it is short), listening on a free TCP port too when tcp is set.  Exits
 * the test (status 1) when it does not start.
 */
void vt_libvirtd_start(vt_libvirtd *d, const char *script, int tcp);
/** The same, listening with TLS on a free port of 127.0.0.1 too, as tls
 *  says. */
void vt_libvirtd_start_tls(vt_libvirtd *d, const char *script, const vt_libvirtd_tls *tls);
/** Stops it and removes its directory; 0, or -1 when either failed.  A
 *  stopped (or never started) daemon is left alone. */
int vt_libvirtd_stop(vt_libvirtd *d);
/** Its pid (from its pid file), or -1. */
long vt_libvirtd_pid(const vt_libvirtd *d);
/** Its release as libvirt encodes it (major * 1000000 + minor * 1000 +
 *  micro), from what the daemon itself prints; 0 if unknown.  The script
 *  runs the system's libvirtd, or another release's with
 *  VIRTWIRE_LIBVIRT_SUITE or VIRTWIRE_LIBVIRT_ROOT in the environment. */
unsigned int vt_libvirtd_version(const vt_libvirtd *d);
/** Prints the last lines of its log to stderr. */
void vt_libvirtd_log_tail(const vt_libvirtd *d, int lines);

/**
 * A private sshd (tests/libvirtd/private-sshd) in front of a private
 * libvirtd: on the "remote" side, virt-ssh-helper reaches the libvirtd at
 * the system socket path, and the login shell has no ~/.bashrc.  The
 * wrappers run the real ssh with a private configuration (known hosts, a
 * Host alias "vwtest" for 127.0.0.1:PORT as root with key).
 */
typedef struct vt_sshd {
    char dir[128];
    char script[512];
    int port;
    char key[200];          /* DIR/key, authorized */
    char nohelper_key[200]; /* DIR/nohelper_key, authorized; sessions have a
                               PATH without virt-ssh-helper */
    char ssh[200];          /* DIR/bin/ssh: ssh knowing the host key */
    char unknown_ssh[200];  /* DIR/unknown/ssh: ssh knowing no host key */
    char bin[200];          /* DIR/bin, to put first in PATH */
} vt_sshd;

/** Whether vt_sshd_start() can work here (root, sshd installed); when not,
 *  prints why and returns 0. */
int vt_sshd_usable(void);
/**
 * Starts sshd with script on a free port in a fresh short directory, in
 * front of the running libvirtd d.  Exits the test (status 1) when it does
 * not start; stopped at exit by the process that started it.
 */
void vt_sshd_start(vt_sshd *s, const char *script, const vt_libvirtd *d);
/** Stops it and removes its directory; 0, or -1 when either failed. */
int vt_sshd_stop(vt_sshd *s);

/**
 * Makes the TLS tests' certificates with script (tests/lib/make-pki, whose
 * comment lists them) in a fresh directory, written to dir (n bytes);
 * exits the test when it fails.  vt_pki_remove() removes it.
 */
void vt_make_pki(const char *script, char *dir, size_t n);
/** Removes what vt_make_pki() made. */
void vt_pki_remove(const char *dir);

/** examples/virtwire-mockd on a private socket path. */
typedef struct vt_mockd {
    pid_t pid;
    char path[108];
    char uri[160]; /* test+unix:///default?socket=PATH */
} vt_mockd;

/**
 * Starts the daemon program mockd on the socket named name in vt_path()'s
 * directory, with extra arguments (NULL-terminated, may be NULL); returns
 * once it listens, or exits the test.  Built with AddressSanitizer, the
 * daemon frees memory at once and keeps frames on the real stack, so that
 * its resident memory measures the daemon.
 */
void vt_mockd_start(vt_mockd *d, const char *mockd, const char *name, const char *const *args);
/** SIGTERM; returns its exit status (-1 when a signal ended it), which is
 *  0 only when it shut down cleanly (under AddressSanitizer: no leaks). */
int vt_mockd_stop(vt_mockd *d);

#endif
