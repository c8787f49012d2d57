/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A channel to a child process: the command of an ssh or ext URI
 * (virtwire_channel_ssh.c builds it), run as libvirt runs it
 * (src/rpc/virnetsocket.c virNetSocketNewConnectCommand(),
 * src/util/vircommand.c virExec()).  See virtwire_channel.h.
 *
 * The program is found as libvirt finds it (a name without '/' in PATH),
 * and runs with the environment it is given and nothing else.  Its
 * standard input and output are one end of a socketpair (the channel's
 * fd), its standard error a pipe that the channel reads; every other fd is
 * closed, every signal has its default action and none is blocked.  Its
 * capabilities are ours: libvirt's virCommandClearCaps() clears them
 * before exec but keeps the bounding set, from which a root process gets
 * them all back at exec (what a probe started by libvirt 9.0.0 shows).
 * It stays in our process group and session, as with libvirt: ssh can ask
 * for a password on the terminal.
 *
 * Standard error: the channel keeps the last STDERR_KEEP bytes ssh wrote,
 * control characters shown as '?', "\r" dropped.  They are read when the
 * channel ends, and every few reads on the way, from a pipe of 1 MiB where
 * the system allows it, so that a talkative ssh does not block on a full
 * pipe.  At the end the channel waits for ssh to finish writing (end of
 * file on the pipe, or ssh exiting) for at most END_WAIT_MS, unless
 * virtwire_channel_shutdown() ended it.  error_detail() then gives
 * libvirt's words with what ssh said ("End of file while reading data:
 * Host key verification failed.", "Cannot recv data: ..." when ssh exited
 * without reading what we sent, "Cannot write data: ..." when it was gone
 * before), or, when ssh said nothing, how it ended ("ssh exited with status
 * 255").
 *
 * Reaping: virtwire_channel_free() closes the socket (the child reads end
 * of file), waits up to REAP_GRACE_MS for the child to exit by itself, then
 * sends SIGTERM, waits up to REAP_TERM_MS more, then SIGKILL and waits for
 * it.  A child already reaped when the channel ended is not waited for
 * again.  A child that someone else reaped (an application's SIGCHLD
 * handler calling waitpid(-1)) is left alone.
 */
#define _GNU_SOURCE /* pipe2, SOCK_CLOEXEC, F_DUPFD_CLOEXEC, F_SETPIPE_SZ */
#include "virtwire_channel_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/syscall.h>
#endif

/* Bytes of the child's standard error kept for messages (the last ones). */
#define STDERR_KEEP 960
/* How long the end of a channel waits for the child's last words. */
#define END_WAIT_MS 1000
/* Reads between two looks at the child's standard error, and the size
 * asked for its pipe. */
#define STDERR_EVERY 64
#define STDERR_PIPE_SIZE (1 << 20)
/* Reaping: the wait for a clean exit, then after SIGTERM. */
#define REAP_GRACE_MS 200
#define REAP_TERM_MS 1000

/* ------------------------------------------------------------------------ */
/* Time                                                                     */
/* ------------------------------------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------------ */
/* Finding the program and its environment                                  */
/* ------------------------------------------------------------------------ */

static int is_executable(const char *path)
{
    struct stat st;
    return access(path, X_OK) == 0 && stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Where execve() finds file, as libvirt looks for it (glib's
 * g_find_program_in_path()): file itself when it has a slash, else the
 * first executable in PATH ("/bin:/usr/bin:." when unset; an empty entry
 * is the current directory).  malloc'd; NULL with errno ENOENT or
 * ENOMEM. */
static char *find_program(const char *file)
{
    if (strchr(file, '/')) {
        if (!is_executable(file)) {
            errno = ENOENT;
            return NULL;
        }
        char *p = strdup(file);
        if (!p)
            errno = ENOMEM;
        return p;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin:.";
    size_t flen = strlen(file);
    for (const char *dir = path;;) {
        const char *end = strchr(dir, ':');
        size_t dlen = end ? (size_t)(end - dir) : strlen(dir);
        char *cand = malloc(dlen + flen + 3);
        if (!cand) {
            errno = ENOMEM;
            return NULL;
        }
        if (dlen == 0)
            snprintf(cand, dlen + flen + 3, "./%s", file);
        else
            snprintf(cand, dlen + flen + 3, "%.*s/%s", (int)dlen, dir, file);
        if (is_executable(cand))
            return cand;
        free(cand);
        if (!end)
            break;
        dir = end + 1;
    }
    errno = ENOENT;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The environment                                                          */
/* ------------------------------------------------------------------------ */

static void free_env(char **env)
{
    for (size_t i = 1; env[i]; i++)
        free(env[i]);
    free(env);
}

/* "NAME=value" of each variable named in spec->env that is set here, after
 * LC_ALL=C, in that order; NULL-terminated, malloc'd (each string but the
 * first too).  NULL when out of memory. */
static char **make_env(const vw_child_spec *spec)
{
    static char lc_all[] = "LC_ALL=C";
    size_t max = 2;
    for (const char *const *const *list = spec->env; list && *list; list++)
        for (const char *const *name = *list; *name; name++)
            max++;
    char **env = calloc(max, sizeof *env);
    if (!env)
        return NULL;
    size_t n = 0;
    env[n++] = lc_all;
    for (const char *const *const *list = spec->env; list && *list; list++) {
        for (const char *const *name = *list; *name; name++) {
            const char *value = getenv(*name);
            if (!value)
                continue;
            size_t len = strlen(*name) + strlen(value) + 2;
            if (!(env[n] = malloc(len))) {
                free_env(env);
                return NULL;
            }
            snprintf(env[n++], len, "%s=%s", *name, value);
        }
    }
    return env;
}

/* ------------------------------------------------------------------------ */
/* The channel                                                              */
/* ------------------------------------------------------------------------ */

typedef struct child_channel {
    virtwire_channel base; /* fd: our end of the socketpair */
    pid_t pid;             /* the child; -1 once reaped */
    int status;            /* its wait status once reaped */
    int errfd;             /* its standard error (non-blocking), or -1 */
    int err_eof;           /* end of file seen on errfd */
    char *what;            /* the program as named: "ssh", ?command= */
    char err[STDERR_KEEP]; /* the last bytes of its standard error */
    size_t errlen;
    int err_cut;           /* bytes before err[0] were dropped */
    unsigned reads;        /* reads since the last look at errfd */
    atomic_int closing;    /* virtwire_channel_shutdown() was called */
    atomic_int ended;      /* detail is final */
    char detail[STDERR_KEEP + 160];
} child_channel;

/* Takes what the child's standard error has now, keeping the last
 * STDERR_KEEP bytes. */
static void drain_stderr(child_channel *c)
{
    char buf[4096];
    while (c->errfd >= 0 && !c->err_eof) {
        ssize_t n = read(c->errfd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            c->err_eof = 1;
            return;
        }
        size_t m = (size_t)n;
        if (m >= STDERR_KEEP) {
            memcpy(c->err, buf + m - STDERR_KEEP, STDERR_KEEP);
            c->err_cut |= m > STDERR_KEEP || c->errlen > 0;
            c->errlen = STDERR_KEEP;
            continue;
        }
        if (c->errlen + m > STDERR_KEEP) {
            size_t drop = c->errlen + m - STDERR_KEEP;
            memmove(c->err, c->err + drop, c->errlen - drop);
            c->errlen -= drop;
            c->err_cut = 1;
        }
        memcpy(c->err + c->errlen, buf, m);
        c->errlen += m;
    }
}

/* Reaps the child if it has exited (wait 0: do not wait).  Returns 1 once
 * it is reaped (or gone: someone else reaped it). */
static int try_reap(child_channel *c)
{
    if (c->pid < 0)
        return 1;
    int status;
    pid_t r;
    do
        r = waitpid(c->pid, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return 0;
    c->status = r == c->pid ? status : -1;
    c->pid = -1;
    return 1;
}

/* Waits up to ms for the child to be reaped.  Returns 1 once it is. */
static int reap_within(child_channel *c, int ms)
{
    int64_t deadline = mono_ms() + ms;
    int step = 1;
    while (!try_reap(c)) {
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return 0;
        sleep_ms(step < left ? step : (int)left);
        if (step < 16)
            step *= 2;
    }
    return 1;
}

/* How the child ended, in words, into buf. */
static void describe_exit(const child_channel *c, char *buf, size_t len)
{
    if (c->status >= 0 && WIFEXITED(c->status))
        snprintf(buf, len, "%s exited with status %d", c->what, WEXITSTATUS(c->status));
    else if (c->status >= 0 && WIFSIGNALED(c->status))
        snprintf(buf, len, "%s was killed by signal %d", c->what, WTERMSIG(c->status));
    else
        snprintf(buf, len, "%s has ended", c->what);
}

/*
 * The channel has ended (end of file, or an error: prefix is libvirt's
 * words for it): collects the child's last words, waiting for them unless
 * we shut the channel down ourselves, and writes the detail.  Once.
 */
static void channel_ended(child_channel *c, const char *prefix, int err)
{
    if (atomic_load(&c->ended))
        return;
    int wait_ms = atomic_load(&c->closing) ? 0 : END_WAIT_MS;
    int64_t deadline = mono_ms() + wait_ms;
    for (;;) {
        drain_stderr(c);
        if (c->errfd < 0 || c->err_eof)
            break;
        if (try_reap(c)) { /* gone: what it wrote is in the pipe */
            drain_stderr(c);
            break;
        }
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = { c->errfd, POLLIN, 0 };
        (void)poll(&pfd, 1, left < 20 ? (int)left : 20);
    }
    /* Silent: how it ended says something.  Its standard error has closed,
     * so it is on its way out. */
    if (!try_reap(c) && c->errlen == 0 && wait_ms > 0) {
        int64_t left = deadline - mono_ms();
        (void)reap_within(c, left > 0 ? (int)left : 0);
    }

    /* What ssh said: printable, without trailing white space. */
    char said[STDERR_KEEP + 4];
    size_t n = 0;
    if (c->err_cut) {
        memcpy(said, "...", 3);
        n = 3;
    }
    for (size_t i = 0; i < c->errlen; i++) {
        unsigned char ch = (unsigned char)c->err[i];
        if (ch == '\r') /* ssh ends its lines with "\r\n" */
            continue;
        said[n++] = (ch == '\n' || ch == '\t' || (ch >= 0x20 && ch != 0x7f)) ? (char)ch : '?';
    }
    while (n > 0 && (said[n - 1] == ' ' || said[n - 1] == '\n' || said[n - 1] == '\t'))
        n--;
    said[n] = '\0';
    if (n == 0 || (c->err_cut && n == 3)) {
        if (c->pid < 0)
            describe_exit(c, said, sizeof said);
        else if (err)
            snprintf(said, sizeof said, "%s", strerror(err));
        else
            said[0] = '\0';
    }
    if (said[0])
        snprintf(c->detail, sizeof c->detail, "%s: %s", prefix, said);
    else
        snprintf(c->detail, sizeof c->detail, "%s", prefix);
    atomic_store(&c->ended, 1);
}

/* A failed socket call's errno as our code, keeping errno. */
static int child_error(child_channel *c, const char *prefix, int err)
{
    int closed = err == EPIPE || err == ECONNRESET;
    channel_ended(c, prefix, closed ? 0 : err);
    errno = err;
    return closed ? VIRTWIRE_ECLOSED : VIRTWIRE_EIO;
}

static ssize_t child_read(virtwire_channel *ch, void *buf, size_t len, int *fd)
{
    child_channel *c = (child_channel *)ch;
    (void)fd; /* no fds over a child's pipe */
    if (++c->reads >= STDERR_EVERY) {
        c->reads = 0;
        drain_stderr(c);
    }
    for (;;) {
        ssize_t n = recv(ch->fd, buf, len, 0);
        if (n > 0)
            return n;
        if (n == 0) {
            channel_ended(c, "End of file while reading data", 0);
            return VIRTWIRE_ECLOSED;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        /* ECONNRESET: the child exited without reading what we sent. */
        return child_error(c, "Cannot recv data", errno);
    }
}

static ssize_t child_writev(virtwire_channel *ch, const struct iovec *iov, size_t niov)
{
    child_channel *c = (child_channel *)ch;
    struct msghdr mh = { 0 };
    mh.msg_iov = (struct iovec *)iov;
    mh.msg_iovlen = niov;
    for (;;) {
        ssize_t n = sendmsg(ch->fd, &mh, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return child_error(c, "Cannot write data", errno);
    }
}

static const char *child_error_detail(virtwire_channel *ch)
{
    child_channel *c = (child_channel *)ch;
    return atomic_load(&c->ended) ? c->detail : NULL;
}

static void child_shutdown(virtwire_channel *ch)
{
    child_channel *c = (child_channel *)ch;
    atomic_store(&c->closing, 1);
    /* Wakes a poll() on the socket in any thread; the child reads end of
     * file. */
    shutdown(ch->fd, SHUT_RDWR);
}

static void child_free(virtwire_channel *ch)
{
    child_channel *c = (child_channel *)ch;
    if (ch->fd >= 0)
        close(ch->fd);
    if (c->pid > 0 && !reap_within(c, REAP_GRACE_MS)) {
        kill(c->pid, SIGTERM);
        if (!reap_within(c, REAP_TERM_MS)) {
            kill(c->pid, SIGKILL);
            int status;
            pid_t r;
            do
                r = waitpid(c->pid, &status, 0);
            while (r < 0 && errno == EINTR);
            c->pid = -1;
        }
    }
    if (c->errfd >= 0)
        close(c->errfd);
    free(c->what);
    free(c);
}

static const virtwire_channel_ops ssh_ops = {
    .size = sizeof ssh_ops,
    .name = "ssh",
    .read = child_read,
    .writev = child_writev,
    .error_detail = child_error_detail,
    .shutdown = child_shutdown,
    .free = child_free,
};

static const virtwire_channel_ops ext_ops = {
    .size = sizeof ext_ops,
    .name = "ext",
    .read = child_read,
    .writev = child_writev,
    .error_detail = child_error_detail,
    .shutdown = child_shutdown,
    .free = child_free,
};

/* ------------------------------------------------------------------------ */
/* Starting the child                                                       */
/* ------------------------------------------------------------------------ */

/* What the child needs, made before fork(): after it, the child calls
 * async-signal-safe functions only (another thread may hold a lock). */
typedef struct spawn_args {
    const char *path;
    char *const *argv;
    char *const *envp;
    int sock; /* the child's end of the socketpair */
    int err;  /* the write end of the stderr pipe */
    int status; /* the write end of the exec status pipe */
} spawn_args;

/* Moves fd to 3 or above (close-on-exec), so that dup2() onto 0-2 never
 * meets it there. */
static int lift_fd(int fd)
{
    return fd > 2 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* Closes every fd from lo to hi (inclusive). */
static void close_fds(int lo, int hi)
{
    if (lo > hi)
        return;
#if defined(__linux__) && defined(SYS_close_range)
    if (syscall(SYS_close_range, (unsigned)lo, (unsigned)hi, 0u) == 0)
        return;
#endif
    /* Without close_range: up to the fd limit, bounded. */
    struct rlimit rl;
    int max = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)max)
        max = (int)rl.rlim_cur;
    for (int fd = lo; fd <= hi && fd < max; fd++)
        close(fd);
}

static void child_exec(const spawn_args *a) __attribute__((noreturn));
static void child_exec(const spawn_args *a)
{
    int err = EBADF;
    int sock = lift_fd(a->sock);
    int errw = lift_fd(a->err);
    int st = lift_fd(a->status);
    if (sock < 0 || errw < 0 || st < 0)
        goto fail;
    if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0 || dup2(errw, 2) < 0)
        goto fail;
    close_fds(3, st - 1);
    close_fds(st + 1, INT_MAX);

    /* Default actions, nothing blocked (the mask came blocked from the
     * parent, so no handler of its runs here). */
    struct sigaction dfl, was;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
#ifdef NSIG
    for (int s = 1; s < NSIG; s++)
#else
    for (int s = 1; s < 65; s++)
#endif
        if (sigaction(s, NULL, &was) == 0 && was.sa_handler != SIG_DFL)
            (void)sigaction(s, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    execve(a->path, a->argv, a->envp);
    err = errno;
fail:
    if (st >= 0) {
        ssize_t w;
        do
            w = write(st, &err, sizeof err);
        while (w < 0 && errno == EINTR);
    }
    _exit(127);
}

/*
 * Runs argv (argv[0] as named, path where it is) with envp on a new
 * socketpair and stderr pipe, and makes the channel.  On failure, errbuf
 * says why in libvirt's words.
 */
static int spawn(const virtwire_channel_ops *ops, const char *what, const char *path,
                 char *const *argv, char *const *envp, const virtwire_connect_params *p,
                 virtwire_channel **out)
{
    int sv[2] = { -1, -1 }, errp[2] = { -1, -1 }, st[2] = { -1, -1 };
    child_channel *c = calloc(1, sizeof *c);
    if (!c || !(c->what = strdup(what))) {
        if (c)
            free(c);
        return VIRTWIRE_ENOMEM;
    }
    c->pid = -1;
    c->errfd = -1;
    c->base.fd = -1;
    int rc = VIRTWIRE_EIO;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        vw_errorf(p->errbuf, p->errbuf_len, "unable to create socket pair: %s",
                          strerror(errno));
        goto fail;
    }
    if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(st, O_CLOEXEC) < 0) {
        vw_errorf(p->errbuf, p->errbuf_len, "Unable to create pipe: %s",
                          strerror(errno));
        goto fail;
    }
#ifdef F_SETPIPE_SZ
    /* Room for a talkative ssh (LogLevel DEBUG3) between two looks at its
     * standard error: a full pipe would stop it.  Best effort. */
    (void)fcntl(errp[0], F_SETPIPE_SZ, STDERR_PIPE_SIZE);
#endif
    spawn_args a = { path, argv, envp, sv[1], errp[1], st[1] };

    /* Every signal blocked across fork(): the child must not run the
     * application's handlers before it has reset them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0)
        child_exec(&a);
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        vw_errorf(p->errbuf, p->errbuf_len, "cannot fork child process: %s",
                          strerror(fork_errno));
        goto fail;
    }
    c->pid = pid;
    close(sv[1]);
    close(errp[1]);
    close(st[1]);
    sv[1] = errp[1] = st[1] = -1;

    /* The status pipe closes on exec; an errno comes if exec failed. */
    int exec_errno = 0;
    ssize_t n;
    do
        n = read(st[0], &exec_errno, sizeof exec_errno);
    while (n < 0 && errno == EINTR);
    close(st[0]);
    st[0] = -1;
    if (n > 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        c->pid = -1;
        vw_errorf(p->errbuf, p->errbuf_len, "cannot execute binary %s: %s", path,
                          strerror(n == (ssize_t)sizeof exec_errno ? exec_errno : EIO));
        errno = n == (ssize_t)sizeof exec_errno ? exec_errno : EIO;
        goto fail;
    }

    if (fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) < 0 ||
        fcntl(errp[0], F_SETFL, fcntl(errp[0], F_GETFL) | O_NONBLOCK) < 0) {
        vw_errorf(p->errbuf, p->errbuf_len, "cannot set the child's pipes "
                          "non-blocking: %s", strerror(errno));
        goto fail;
    }
    c->base.ops = ops;
    c->base.fd = sv[0];
    /* No fds: the bytes go through ssh.  Nothing is kept here: what is
     * not read yet is in the socketpair, which poll() sees. */
    c->base.flags = VIRTWIRE_CHANNEL_NO_BUFFER;
    c->errfd = errp[0];
    *out = &c->base;
    return 0;

fail:;
    int saved = errno;
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (errp[i] >= 0)
            close(errp[i]);
        if (st[i] >= 0)
            close(st[i]);
    }
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    free(c->what);
    free(c);
    errno = saved;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Running a command                                                        */
/* ------------------------------------------------------------------------ */

int vw_channel_spawn(const vw_child_spec *spec, const virtwire_connect_params *p,
                     virtwire_channel **out)
{
    *out = NULL;
    char *path = find_program(spec->program);
    if (!path) {
        int err = errno;
        if (err == ENOMEM)
            return VIRTWIRE_ENOMEM;
        /* libvirt's words (virCommandGetBinaryPath()). */
        vw_errorf(p->errbuf, p->errbuf_len, "Cannot find '%s' in path: %s",
                          spec->program, strerror(err));
        errno = err;
        return VIRTWIRE_EIO;
    }
    int rc = VIRTWIRE_ENOMEM;
    char **env = make_env(spec);
    if (env) {
        const virtwire_channel_ops *ops = strcmp(spec->kind, "ssh") == 0 ? &ssh_ops : &ext_ops;
        rc = spawn(ops, spec->program, path, spec->argv, env, p, out);
        free_env(env);
    }
    free(path);
    return rc;
}
