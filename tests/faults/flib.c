/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE /* SCM_RIGHTS helpers, syscall(SYS_tgkill) */

#include "flib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "remote_protocol.h"

/* Built with AddressSanitizer, freed memory must leave the process, not
 * wait in the sanitizer's quarantine (256 MB by default): resident memory
 * would measure the quarantine (the environment's ASAN_OPTIONS win). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=8";
}

int flib_failures;
const char *flib_mockd;

const char *flib_name(int code)
{
    if (code == 0)
        return "0";
    const char *n = virtwire_error_name(code);
    return n ? n : "?";
}

int flib_main(int argc, char **argv, const flib_group *groups)
{
    /* Writes to a peer that is gone must fail, not kill the test. */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s GROUP [VIRTWIRE_MOCKD]\n", argv[0]);
        return 2;
    }
    flib_mockd = argc == 3 ? argv[2] : NULL;
    for (const flib_group *g = groups; g->name; g++) {
        if (strcmp(g->name, argv[1]) == 0) {
            uint64_t t0 = flib_now_ms();
            g->fn();
            printf("%s: %llu ms\n", g->name, (unsigned long long)(flib_now_ms() - t0));
            if (flib_failures) {
                fprintf(stderr, "%s: %d check(s) failed\n", g->name, flib_failures);
                return 1;
            }
            printf("%s: all checks passed\n", g->name);
            return 0;
        }
    }
    fprintf(stderr, "unknown group %s\n", argv[1]);
    return 2;
}

/* ------------------------------------------------------------------------ */
/* Time, /proc                                                              */
/* ------------------------------------------------------------------------ */

uint64_t flib_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t flib_now_ms(void)
{
    return flib_now_us() / 1000u;
}

void flib_sleep_us(unsigned us)
{
    struct timespec ts = { (time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void flib_sleep_ms(unsigned ms)
{
    flib_sleep_us(ms * 1000u);
}

int flib_count_fds(pid_t pid)
{
    char path[64];
    if (pid)
        snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
    else
        snprintf(path, sizeof path, "/proc/self/fd");
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return pid ? n : n - 1; /* not the directory's own fd */
}

long flib_rss_kib(pid_t pid)
{
    if (!pid) {
        FILE *f = fopen("/proc/self/statm", "r");
        long size = 0, resident = -1;
        if (!f)
            return -1;
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = -1;
        fclose(f);
        return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
    }
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

int flib_wait_fds(pid_t pid, int want, int timeout_ms)
{
    uint64_t end = flib_now_ms() + (uint64_t)timeout_ms;
    int n;
    while ((n = flib_count_fds(pid)) != want && flib_now_ms() < end)
        flib_sleep_ms(5);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Sockets                                                                  */
/* ------------------------------------------------------------------------ */

static char dir_[64];

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir_);
    if (dir_[0] && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir_);
}

void flib_path(char *buf, size_t n, const char *name)
{
    if (!dir_[0]) {
        const char *tmp = getenv("TMPDIR");
        /* sun_path is short: a short directory. */
        snprintf(dir_, sizeof dir_, "%s/vwfXXXXXX", tmp && strlen(tmp) < 40 ? tmp : P_tmpdir);
        if (!mkdtemp(dir_)) {
            perror("mkdtemp");
            exit(1);
        }
        atexit(remove_dir);
    }
    snprintf(buf, n, "%s/%s", dir_, name);
}

int flib_listen_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
        perror("listen");
        exit(1);
    }
    return fd;
}

int flib_connect_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc;
    do
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int flib_accept(int lfd, int timeout_ms)
{
    uint64_t end = flib_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        struct pollfd p = { lfd, POLLIN, 0 };
        int left = (int)(end > flib_now_ms() ? end - flib_now_ms() : 0);
        int n = poll(&p, 1, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0 || errno != EINTR)
            return fd;
    }
}

void flib_bufsize(int fd, int snd, int rcv)
{
    if (snd)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
    if (rcv)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
}

int flib_write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = { fd, POLLOUT, 0 };
            poll(&pf, 1, 100);
            continue;
        }
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int flib_read_exact(int fd, void *p, size_t n, int timeout_ms)
{
    unsigned char *b = p;
    uint64_t end = timeout_ms < 0 ? 0 : flib_now_ms() + (uint64_t)timeout_ms;
    while (n) {
        int left = -1;
        if (end) {
            uint64_t now = flib_now_ms();
            if (now >= end)
                return -1;
            left = (int)(end - now);
        }
        struct pollfd pf = { fd, POLLIN, 0 };
        int pr = poll(&pf, 1, left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -1;
        if (pr == 0)
            continue; /* the deadline check above ends it */
        ssize_t r = recv(fd, b, n, MSG_DONTWAIT);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

int flib_send_fd(int sock, int fd)
{
    char dummy = 0;
    struct iovec iov = { &dummy, 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                         .msg_controllen = sizeof ctl.buf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    for (;;) {
        ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        if (n == 1)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        return -1;
    }
}

/* ------------------------------------------------------------------------ */
/* Frames                                                                   */
/* ------------------------------------------------------------------------ */

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void flib_header(unsigned char *out, uint32_t prog, int32_t proc, int type, uint32_t serial,
                 int status, size_t len)
{
    put32(out, (uint32_t)(28 + len));
    put32(out + 4, prog);
    put32(out + 8, 1);
    put32(out + 12, (uint32_t)proc);
    put32(out + 16, (uint32_t)type);
    put32(out + 20, serial);
    put32(out + 24, (uint32_t)status);
}

int flib_read_frame(int fd, flib_frame *f, int timeout_ms)
{
    unsigned char h[28];
    memset(f, 0, sizeof *f);
    if (flib_read_exact(fd, h, 4, timeout_ms) < 0)
        return -1;
    uint32_t len = get32(h);
    if (len < 28 || len > VIR_NET_MESSAGE_MAX + 4)
        return -1;
    if (flib_read_exact(fd, h + 4, 24, timeout_ms) < 0)
        return -1;
    f->hdr.prog = get32(h + 4);
    f->hdr.vers = get32(h + 8);
    f->hdr.proc = (int32_t)get32(h + 12);
    f->hdr.type = (virNetMessageType)get32(h + 16);
    f->hdr.serial = get32(h + 20);
    f->hdr.status = (virNetMessageStatus)get32(h + 24);
    f->len = len - 28;
    f->payload = malloc(f->len ? f->len : 1);
    if (!f->payload || flib_read_exact(fd, f->payload, f->len, timeout_ms) < 0) {
        flib_frame_free(f);
        return -1;
    }
    return 0;
}

void flib_frame_free(flib_frame *f)
{
    free(f->payload);
    f->payload = NULL;
    f->len = 0;
}

int flib_send_frame(int fd, int32_t proc, int type, uint32_t serial, int status,
                    const void *payload, size_t len)
{
    unsigned char h[28];
    flib_header(h, REMOTE_PROGRAM, proc, type, serial, status, len);
    if (flib_write_all(fd, h, sizeof h) < 0)
        return -1;
    return len ? flib_write_all(fd, payload, len) : 0;
}

unsigned char *flib_build_value(int32_t proc, int type, uint32_t serial, int status,
                                const virtwire_type *t, const void *v, size_t *len)
{
    size_t n = t ? t->encoded_size(v) : 0;
    unsigned char *buf = malloc(28 + n);
    size_t got = 0;
    if (!buf)
        return NULL;
    if (t && virtwire_encode(t, v, buf + 28, n, &got) < 0) {
        free(buf);
        return NULL;
    }
    flib_header(buf, REMOTE_PROGRAM, proc, type, serial, status, got);
    *len = 28 + got;
    return buf;
}

int flib_send_value(int fd, int32_t proc, int type, uint32_t serial, int status,
                    const virtwire_type *t, const void *v)
{
    size_t len;
    unsigned char *buf = flib_build_value(proc, type, serial, status, t, v, &len);
    int rc = buf ? flib_write_all(fd, buf, len) : -1;
    free(buf);
    return rc;
}

int flib_serve_handshake(int fd, int keepalive)
{
    for (int i = 0; i < 3; i++) {
        flib_frame f;
        if (flib_read_frame(fd, &f, 5000) < 0)
            return -1;
        int rc = -1;
        if (f.hdr.proc == REMOTE_PROC_AUTH_LIST) {
            remote_auth_type none = REMOTE_AUTH_NONE;
            remote_auth_list_ret r = { { 1, &none } };
            rc = flib_send_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK,
                                 &remote_auth_list_ret_desc, &r);
        } else if (f.hdr.proc == REMOTE_PROC_CONNECT_SUPPORTS_FEATURE) {
            remote_connect_supports_feature_ret r = { keepalive };
            rc = flib_send_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK,
                                 &remote_connect_supports_feature_ret_desc, &r);
        } else if (f.hdr.proc == REMOTE_PROC_CONNECT_OPEN) {
            rc = flib_send_value(fd, f.hdr.proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK, NULL,
                                 NULL);
        }
        flib_frame_free(&f);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int flib_client_handshake(int fd)
{
    unsigned char buf[512];
    size_t off = 0;
    remote_connect_supports_feature_args fa = { 10 };
    char *name = (char *)"test:///default";
    remote_connect_open_args oa = { &name, 0 };
    const struct {
        int32_t proc;
        const virtwire_type *t;
        const void *v;
    } calls[3] = {
        { REMOTE_PROC_AUTH_LIST, NULL, NULL },
        { REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, &remote_connect_supports_feature_args_desc, &fa },
        { REMOTE_PROC_CONNECT_OPEN, &remote_connect_open_args_desc, &oa },
    };
    for (uint32_t i = 0; i < 3; i++) {
        size_t len;
        unsigned char *a = flib_build_value(calls[i].proc, VIR_NET_CALL, i + 1, VIR_NET_OK,
                                            calls[i].t, calls[i].v, &len);
        /* No frame (no memory, or a value the encoder refuses): no length. */
        if (!a || len > sizeof buf - off) {
            free(a);
            return -1;
        }
        memcpy(buf + off, a, len);
        off += len;
        free(a);
    }
    if (flib_write_all(fd, buf, off) < 0)
        return -1;
    for (uint32_t serial = 1; serial <= 3; serial++) {
        flib_frame f;
        if (flib_read_frame(fd, &f, 5000) < 0)
            return -1;
        int ok = f.hdr.type == VIR_NET_REPLY && f.hdr.status == VIR_NET_OK &&
                 f.hdr.serial == serial;
        flib_frame_free(&f);
        if (!ok)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Scripted peers                                                           */
/* ------------------------------------------------------------------------ */

static void *peer_main(void *arg)
{
    flib_peer *p = arg;
    int fd = flib_accept(p->lfd, 10000);
    if (fd < 0) {
        fprintf(stderr, "peer %s: no connection\n", p->path);
        __atomic_add_fetch(&flib_failures, 1, __ATOMIC_SEQ_CST);
        return NULL;
    }
    p->script(p, fd);
    close(fd);
    return NULL;
}

void flib_peer_start(flib_peer *p, const char *name, void (*script)(flib_peer *p, int fd),
                     void *arg)
{
    memset(p, 0, sizeof *p);
    flib_path(p->path, sizeof p->path, name);
    p->lfd = flib_listen_unix(p->path);
    p->script = script;
    p->arg = arg;
    if (pthread_create(&p->thread, NULL, peer_main, p) != 0) {
        perror("pthread_create");
        exit(1);
    }
}

void flib_peer_join(flib_peer *p)
{
    pthread_join(p->thread, NULL);
    close(p->lfd);
    unlink(p->path);
}

/* ------------------------------------------------------------------------ */
/* The example daemon                                                       */
/* ------------------------------------------------------------------------ */

static flib_daemon *running_daemon;

static void kill_daemon(void)
{
    if (running_daemon && running_daemon->pid > 0) {
        kill(running_daemon->pid, SIGCONT);
        kill(running_daemon->pid, SIGKILL);
        waitpid(running_daemon->pid, NULL, 0);
    }
}

void flib_mockd_start(flib_daemon *d, const char *name, const char *const *args)
{
    static int registered;
    memset(d, 0, sizeof *d);
    if (!flib_mockd) {
        fprintf(stderr, "the example daemon is the second argument\n");
        exit(2);
    }
    flib_path(d->path, sizeof d->path, name);
    snprintf(d->uri, sizeof d->uri, "test+unix:///default?socket=%s", d->path);
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0) {
        perror("pipe");
        exit(1);
    }
    const char *argv[16] = { flib_mockd, d->path };
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
    char asan[512];
    const char *old = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%squarantine_size_mb=8:detect_stack_use_after_return=0",
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
        execve(flib_mockd, (char *const *)argv, envp);
        _exit(127);
    }
    free(envp);
    close(out[1]);
    running_daemon = d;
    if (!registered) {
        registered = 1;
        atexit(kill_daemon);
    }
    /* Ready when it prints its line. */
    char line[256];
    size_t len = 0;
    uint64_t end = flib_now_ms() + 10000;
    while (len < sizeof line - 1 && !memchr(line, '\n', len) && flib_now_ms() < end) {
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

int flib_mockd_stop(flib_daemon *d)
{
    if (d->pid <= 0)
        return -1;
    kill(d->pid, SIGCONT);
    kill(d->pid, SIGTERM);
    int st = 0;
    while (waitpid(d->pid, &st, 0) < 0 && errno == EINTR)
        ;
    d->pid = 0;
    running_daemon = NULL;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ------------------------------------------------------------------------ */
/* Signal storm                                                             */
/* ------------------------------------------------------------------------ */

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define STORM_MAX 256

static atomic_ulong storm_count;
static atomic_int storm_stop;
static pthread_t storm_thread;
static int storm_sig;
static unsigned storm_period;

/* One timer per thread of the process, each signalling its thread. */
typedef struct storm_timer {
    pid_t tid;
    timer_t timer;
    int seen;
} storm_timer;

static storm_timer storm_timers[STORM_MAX];
static size_t storm_ntimers;

static void storm_handler(int sig)
{
    (void)sig;
    atomic_fetch_add(&storm_count, 1);
}

static void storm_add(pid_t tid)
{
    if (storm_ntimers == STORM_MAX)
        return;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = storm_sig;
    sev.sigev_notify_thread_id = tid;
    storm_timer *t = &storm_timers[storm_ntimers];
    if (timer_create(CLOCK_MONOTONIC, &sev, &t->timer) != 0)
        return;
    struct itimerspec its = { { 0, (long)storm_period * 1000 }, { 0, (long)storm_period * 1000 } };
    timer_settime(t->timer, 0, &its, NULL);
    t->tid = tid;
    t->seen = 1;
    storm_ntimers++;
}

/* Gives every thread (but the caller) a timer; removes those of threads
 * that have gone. */
static void storm_scan(void)
{
    pid_t self = (pid_t)syscall(SYS_gettid);
    for (size_t i = 0; i < storm_ntimers; i++)
        storm_timers[i].seen = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        pid_t tid = (pid_t)atol(e->d_name);
        if (tid <= 0 || tid == self)
            continue;
        size_t i = 0;
        while (i < storm_ntimers && storm_timers[i].tid != tid)
            i++;
        if (i < storm_ntimers)
            storm_timers[i].seen = 1;
        else
            storm_add(tid);
    }
    closedir(d);
    for (size_t i = 0; i < storm_ntimers;) {
        if (!storm_timers[i].seen) {
            timer_delete(storm_timers[i].timer);
            storm_timers[i] = storm_timers[--storm_ntimers];
        } else {
            i++;
        }
    }
}

static void *storm_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&storm_stop)) {
        storm_scan(); /* threads come and go */
        flib_sleep_us(2000);
    }
    for (size_t i = 0; i < storm_ntimers; i++)
        timer_delete(storm_timers[i].timer);
    storm_ntimers = 0;
    return NULL;
}

void flib_storm_start(int sig, unsigned period_us)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = storm_handler;
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls fail with EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    storm_sig = sig;
    storm_period = period_us;
    atomic_store(&storm_count, 0);
    atomic_store(&storm_stop, 0);
    if (pthread_create(&storm_thread, NULL, storm_main, NULL) != 0) {
        perror("pthread_create");
        exit(1);
    }
}

unsigned long flib_storm_stop(void)
{
    atomic_store(&storm_stop, 1);
    pthread_join(storm_thread, NULL);
    /* Signals still pending are handled before this returns. */
    flib_sleep_ms(1);
    return atomic_load(&storm_count);
}

/* ------------------------------------------------------------------------ */
/* Patterns                                                                 */
/* ------------------------------------------------------------------------ */

void flib_fill(unsigned char *p, size_t n, uint32_t seed, uint64_t off)
{
    for (size_t i = 0; i < n; i++)
        p[i] = flib_pattern(seed, off + i);
}

int flib_check(const unsigned char *p, size_t n, uint32_t seed, uint64_t off)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != flib_pattern(seed, off + i)) {
            fprintf(stderr, "pattern %u: byte %llu is %u, want %u\n", (unsigned)seed,
                    (unsigned long long)(off + i), p[i], flib_pattern(seed, off + i));
            return 0;
        }
    }
    return 1;
}

int flib_check_sampled(const unsigned char *p, size_t n, uint32_t seed, uint64_t off)
{
    for (size_t i = 0; i < n; i = i + 4096 < n || i == n - 1 ? i + 4096 : n - 1) {
        if (p[i] != flib_pattern(seed, off + i)) {
            fprintf(stderr, "pattern %u: byte %llu is %u, want %u\n", (unsigned)seed,
                    (unsigned long long)(off + i), p[i], flib_pattern(seed, off + i));
            return 0;
        }
    }
    return 1;
}
