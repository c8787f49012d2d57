/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The server's unix listeners and its stop, over real sockets in the
 * working directory:
 *
 *   - a second server on the path of a live one is refused (EADDRINUSE)
 *     and the first stays reachable, also after the second is freed;
 *   - a stale socket (bound, closed, never unlinked) is replaced;
 *   - a server whose path another server has taken over leaves it alone
 *     when it is freed; the new owner unlinks it when it goes;
 *   - what is not a socket is never removed;
 *   - virtwire_server_stop() from a signal handler running in another
 *     thread wakes a run_once() blocked in poll() with no timeout, and a
 *     stop before the round makes the next round return at once.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conn_tlib.h"
#include "virtwire_server.h"

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A blocking connection to path, or -1. */
static int dial(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Runs rounds of srv until it has n clients (at most 100 rounds). */
static int accepts(virtwire_server *srv, size_t n)
{
    for (int i = 0; i < 100 && virtwire_server_nclients(srv) < n; i++)
        virtwire_server_run_once(srv, 50);
    return virtwire_server_nclients(srv) >= n;
}

static virtwire_server *server_on(const char *path, int *rc)
{
    virtwire_server *srv = NULL;
    CHECK_INT(virtwire_server_new(NULL, NULL, &srv), 0);
    *rc = virtwire_server_listen_unix(srv, path);
    return srv;
}

static virtwire_server *listening_on(const char *path)
{
    int rc;
    virtwire_server *srv = server_on(path, &rc);
    CHECK_INT(rc, 0);
    return srv;
}

/* A second server cannot listen at path: EADDRINUSE, and the file stays. */
static void check_refused(const char *path)
{
    int rc;
    virtwire_server *srv = server_on(path, &rc);
    CHECK_INT(rc, VIRTWIRE_EIO);
    CHECK_INT(errno, EADDRINUSE);
    virtwire_server_free(srv);
    CHECK(exists(path));
}

/* srv listens at path: a client gets in, and freeing srv removes the
 * socket file. */
static void check_serves(virtwire_server *srv, const char *path)
{
    CHECK(exists(path));
    int fd = dial(path);
    CHECK(fd >= 0);
    CHECK(accepts(srv, 1));
    close(fd);
    virtwire_server_free(srv);
    CHECK(!exists(path));
}

static void test_live(void)
{
    const char *path = "live.sock";
    unlink(path);
    virtwire_server *a = listening_on(path);
    check_refused(path);
    check_serves(a, path);
}

static void test_stale(void)
{
    const char *path = "stale.sock";
    unlink(path);
    /* A socket file whose server is gone: bound, never listened on. */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof sa) == 0);
    close(s);
    CHECK(exists(path));
    check_serves(listening_on(path), path);
}

static void test_taken_over(void)
{
    const char *path = "taken.sock";
    unlink(path);
    virtwire_server *old = listening_on(path);
    /* Someone removes the path and a new server takes it. */
    CHECK_INT(unlink(path), 0);
    virtwire_server *now = listening_on(path);
    virtwire_server_free(old);
    check_serves(now, path);
}

static void test_not_a_socket(void)
{
    const char *path = "plain.file";
    int f = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    CHECK(f >= 0);
    close(f);
    check_refused(path);
    unlink(path);
}

/* ------------------------------------------------------------------------ */

static virtwire_server *signalled;

static void on_usr1(int sig)
{
    (void)sig;
    virtwire_server_stop(signalled);
}

/* The thread that takes the signal: the main thread blocks it. */
static void *raiser(void *opaque)
{
    (void)opaque;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    struct timespec ts = { 0, 100 * 1000 * 1000 };
    nanosleep(&ts, NULL); /* let the main thread enter poll() */
    kill(getpid(), SIGUSR1); /* delivered here: the one thread taking it */
    return NULL;
}

static void test_stop_from_signal(void)
{
    int rc;
    signalled = server_on("stop.sock", &rc);
    CHECK_INT(rc, 0);
    struct sigaction sa = { .sa_handler = on_usr1 };
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, raiser, NULL), 0);
    /* No timeout: before the wake-up pipe, this waited forever, the signal
     * having interrupted another thread. */
    CHECK_INT(virtwire_server_run_once(signalled, -1), 0);
    pthread_join(t, NULL);
    /* run() returns after that round at once too. */
    CHECK_INT(virtwire_server_run(signalled), 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    virtwire_server_free(signalled);
    signalled = NULL;

    /* A stop before the round: the round does not wait. */
    virtwire_server *srv = server_on("stop.sock", &rc);
    CHECK_INT(rc, 0);
    virtwire_server_stop(srv);
    CHECK_INT(virtwire_server_run_once(srv, -1), 0);
    virtwire_server_free(srv);
}

int main(void)
{
    /* The process must not die of a bug here: a hang fails by alarm. */
    alarm(60);
    int fds = vt_count_fds(0);
    test_live();
    test_stale();
    test_taken_over();
    test_not_a_socket();
    test_stop_from_signal();
    CHECK_INT(vt_count_fds(0), fds);
    return vt_finish("server.listen");
}
