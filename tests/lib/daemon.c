/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE /* pipe2, P_tmpdir */

#include "vt_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vt_pidfile.h"
#include "vt_sys.h"

/* ------------------------------------------------------------------------ */
/* A private libvirtd                                                       */
/* ------------------------------------------------------------------------ */

/* The daemons this process started and has not stopped. */
#define MAX_LIBVIRTD 8
static vt_libvirtd *running_libvirtd[MAX_LIBVIRTD];
static pid_t libvirtd_owner;

static void stop_libvirtd_at_exit(void)
{
    for (int i = 0; i < MAX_LIBVIRTD; i++)
        if (running_libvirtd[i] && getpid() == libvirtd_owner)
            vt_libvirtd_stop(running_libvirtd[i]);
}

static int script(const vt_libvirtd *d, const char *env, const char *cmd, const char *tail)
{
    char line[2048];
    snprintf(line, sizeof line, "%s'%s' %s '%s'%s >/dev/null", env, d->script, cmd, d->dir, tail);
    return system(line);
}

/* atexit(fn) the first time *registered is 0. */
static void atexit_once(int *registered, void (*fn)(void))
{
    if (!*registered) {
        *registered = 1;
        atexit(fn);
    }
}

/* A new private directory PREFIXXXXXXX under TMPDIR (the system's when
 * TMPDIR is long: unix socket paths must stay short) into dir (n bytes);
 * exits the test when it cannot be made. */
static void make_dir(char *dir, size_t n, const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, n, "%s/%sXXXXXX", tmp && *tmp && strlen(tmp) < 60 ? tmp : P_tmpdir, prefix);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
}

static void start(vt_libvirtd *d, const char *path, int tcp, const vt_libvirtd_tls *tls);

void vt_libvirtd_start(vt_libvirtd *d, const char *path, int tcp)
{
    start(d, path, tcp, NULL);
}

void vt_libvirtd_start_tls(vt_libvirtd *d, const char *path, const vt_libvirtd_tls *tls)
{
    start(d, path, 0, tls);
}

static void start(vt_libvirtd *d, const char *path, int tcp, const vt_libvirtd_tls *tls)
{
    static int registered;
    memset(d, 0, sizeof *d);
    make_dir(d->dir, sizeof d->dir, "vwd");
    snprintf(d->script, sizeof d->script, "%s", path);
    snprintf(d->sock, sizeof d->sock, "%s/libvirt-sock", d->dir);
    snprintf(d->uri, sizeof d->uri, "test+unix:///default?socket=%s", d->sock);
    snprintf(d->uri_ro, sizeof d->uri_ro, "test+unix:///default?socket=%s/libvirt-sock-ro",
             d->dir);
    snprintf(d->admin_uri, sizeof d->admin_uri,
             "libvirtd:///system?socket=%s/libvirt-admin-sock", d->dir);
    char tail[32] = "";
    if (tcp) {
        d->port = vt_free_tcp_port();
        snprintf(tail, sizeof tail, " %d", d->port);
        snprintf(d->tcp_uri, sizeof d->tcp_uri, "test+tcp://127.0.0.1:%d/default", d->port);
    }
    char env[1024] = "";
    if (tls) {
        d->tls_port = vt_free_tcp_port();
        snprintf(d->tls_uri, sizeof d->tls_uri, "test+tls://localhost:%d/default", d->tls_port);
        snprintf(env, sizeof env,
                 "VIRTWIRE_TLS_PORT=%d VIRTWIRE_TLS_PKI='%s' VIRTWIRE_TLS_NO_SANITY=%d "
                 "VIRTWIRE_TLS_NO_VERIFY=%d VIRTWIRE_TLS_ALLOWED_DN='%s' ",
                 d->tls_port, tls->pki, tls->no_sanity, tls->no_verify,
                 tls->allowed_dn ? tls->allowed_dn : "");
    }
    for (int i = 0; i < MAX_LIBVIRTD; i++)
        if (!running_libvirtd[i]) {
            running_libvirtd[i] = d;
            break;
        }
    libvirtd_owner = getpid();
    atexit_once(&registered, stop_libvirtd_at_exit);
    if (script(d, env, "start", tail) != 0) {
        fprintf(stderr, "could not start libvirtd with %s\n", d->script);
        vt_libvirtd_log_tail(d, 20);
        exit(1);
    }
}

int vt_libvirtd_stop(vt_libvirtd *d)
{
    if (!d->dir[0])
        return 0;
    int rc = script(d, "", "stop", "") == 0 ? 0 : -1;
    char line[512];
    snprintf(line, sizeof line, "rm -rf '%s'", d->dir);
    if (system(line) != 0) {
        fprintf(stderr, "could not remove %s\n", d->dir);
        rc = -1;
    }
    d->dir[0] = 0;
    for (int i = 0; i < MAX_LIBVIRTD; i++)
        if (running_libvirtd[i] == d)
            running_libvirtd[i] = NULL;
    return rc;
}

unsigned int vt_libvirtd_version(const vt_libvirtd *d)
{
    char line[1024];
    snprintf(line, sizeof line, "'%s' version '%s'", d->script, d->dir);
    FILE *p = popen(line, "r");
    unsigned a = 0, b = 0, c = 0;
    int n = 0;
    if (p) {
        n = fscanf(p, "%u.%u.%u", &a, &b, &c);
        pclose(p);
    }
    return n == 3 ? a * 1000000u + b * 1000u + c : 0;
}

void vt_make_pki(const char *path, char *dir, size_t n)
{
    make_dir(dir, n, "vwpki");
    char line[1024];
    snprintf(line, sizeof line, "'%s' '%s'", path, dir);
    if (system(line) != 0) {
        fprintf(stderr, "could not make the certificates with %s\n", path);
        exit(1);
    }
}

void vt_pki_remove(const char *dir)
{
    char line[512];
    snprintf(line, sizeof line, "rm -rf '%s'", dir);
    if (system(line) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

long vt_read_pidfile(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    long pid = -1;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return pid;
}

long vt_libvirtd_pid(const vt_libvirtd *d)
{
    return vt_read_pidfile(d->dir, "libvirtd.pid");
}

void vt_libvirtd_log_tail(const vt_libvirtd *d, int lines)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "tail -%d '%s/libvirtd.log' >&2", lines, d->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "(no daemon log)\n");
}

/* ------------------------------------------------------------------------ */
/* A private sshd                                                           */
/* ------------------------------------------------------------------------ */

static vt_sshd *running_sshd;
static pid_t sshd_owner;

static void stop_sshd_at_exit(void)
{
    if (running_sshd && getpid() == sshd_owner)
        vt_sshd_stop(running_sshd);
}

int vt_sshd_usable(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "a private sshd needs root\n");
        return 0;
    }
    if (access("/usr/sbin/sshd", X_OK) != 0) {
        fprintf(stderr, "/usr/sbin/sshd is missing (tests/install-deps installs "
                        "openssh-server)\n");
        return 0;
    }
    return 1;
}

void vt_sshd_start(vt_sshd *s, const char *script, const vt_libvirtd *d)
{
    static int registered;
    memset(s, 0, sizeof *s);
    make_dir(s->dir, sizeof s->dir, "vws");
    snprintf(s->script, sizeof s->script, "%s", script);
    s->port = vt_free_tcp_port();
    snprintf(s->key, sizeof s->key, "%s/key", s->dir);
    snprintf(s->nohelper_key, sizeof s->nohelper_key, "%s/nohelper_key", s->dir);
    snprintf(s->ssh, sizeof s->ssh, "%s/bin/ssh", s->dir);
    snprintf(s->unknown_ssh, sizeof s->unknown_ssh, "%s/unknown/ssh", s->dir);
    snprintf(s->bin, sizeof s->bin, "%s/bin", s->dir);
    running_sshd = s;
    sshd_owner = getpid();
    atexit_once(&registered, stop_sshd_at_exit);
    char line[1024];
    snprintf(line, sizeof line, "'%s' start '%s' %d '%s' >/dev/null", s->script, s->dir,
             s->port, d->dir);
    if (system(line) != 0) {
        fprintf(stderr, "could not start sshd with %s\n", s->script);
        exit(1);
    }
}

int vt_sshd_stop(vt_sshd *s)
{
    if (!s->dir[0])
        return 0;
    char line[1024];
    snprintf(line, sizeof line, "'%s' stop '%s' >/dev/null", s->script, s->dir);
    int rc = system(line) == 0 ? 0 : -1;
    snprintf(line, sizeof line, "rm -rf '%s'", s->dir);
    if (system(line) != 0) {
        fprintf(stderr, "could not remove %s\n", s->dir);
        rc = -1;
    }
    s->dir[0] = 0;
    if (running_sshd == s)
        running_sshd = NULL;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The example daemon                                                       */
/* ------------------------------------------------------------------------ */

static vt_mockd *running_mockd;
static pid_t mockd_owner;

static void kill_mockd_at_exit(void)
{
    if (running_mockd && running_mockd->pid > 0 && getpid() == mockd_owner) {
        kill(running_mockd->pid, SIGCONT);
        kill(running_mockd->pid, SIGKILL);
        waitpid(running_mockd->pid, NULL, 0);
    }
}

void vt_mockd_start(vt_mockd *d, const char *mockd, const char *name, const char *const *args)
{
    static int registered;
    memset(d, 0, sizeof *d);
    vt_path(d->path, sizeof d->path, name);
    snprintf(d->uri, sizeof d->uri, "test+unix:///default?socket=%s", d->path);
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0) {
        perror("pipe");
        exit(1);
    }
    const char *argv[16] = { mockd, d->path };
    size_t n = 2;
    for (size_t i = 0; args && args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    /* Freed memory leaves a daemon built with AddressSanitizer at once
     * instead of waiting in its quarantine, and frames stay on the real
     * stack (no fake stacks, which the sanitizer allocates as they are
     * first used), so that its resident memory measures the daemon (the
     * options given last win). */
    extern char **environ;
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **envp = calloc(nenv + 2, sizeof *envp);
    if (!envp) {
        perror("calloc");
        exit(1);
    }
    char asan[512];
    const char *old = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof asan,
             "ASAN_OPTIONS=%s%squarantine_size_mb=8:detect_stack_use_after_return=0",
             old ? old : "", old && *old ? ":" : "");
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "ASAN_OPTIONS=", 13) != 0)
            envp[k++] = environ[i];
    envp[k++] = asan;
    envp[k] = NULL;
    d->pid = fork();
    if (d->pid < 0) {
        perror("fork");
        exit(1);
    }
    if (d->pid == 0) {
        dup2(out[1], 1);
        execve(mockd, (char *const *)argv, envp);
        _exit(127);
    }
    free(envp);
    close(out[1]);
    running_mockd = d;
    mockd_owner = getpid();
    atexit_once(&registered, kill_mockd_at_exit);
    /* Ready when it prints its line. */
    char line[256];
    size_t len = 0;
    uint64_t end = vt_now_ms() + 10000;
    while (len < sizeof line - 1 && !memchr(line, '\n', len) && vt_now_ms() < end) {
        struct pollfd p = { out[0], POLLIN, 0 };
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = read(out[0], line + len, sizeof line - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(out[0]);
    if (!memchr(line, '\n', len)) {
        fprintf(stderr, "virtwire-mockd did not start\n");
        exit(1);
    }
}

int vt_mockd_stop(vt_mockd *d)
{
    if (d->pid <= 0)
        return -1;
    kill(d->pid, SIGCONT);
    kill(d->pid, SIGTERM);
    int st = 0;
    while (waitpid(d->pid, &st, 0) < 0 && errno == EINTR)
        ;
    d->pid = 0;
    if (running_mockd == d)
        running_mockd = NULL;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
