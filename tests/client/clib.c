/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _XOPEN_SOURCE 700 /* P_tmpdir */

#include "clib.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int clib_failures;

static clib_daemon *running;

static void stop_at_exit(void)
{
    if (running)
        clib_daemon_stop(running);
}

static void run(const clib_daemon *d, const char *cmd)
{
    char line[1024];
    snprintf(line, sizeof line, "'%s' %s '%s' >/dev/null", d->script, cmd, d->dir);
    if (system(line) != 0 && strcmp(cmd, "start") == 0) {
        fprintf(stderr, "could not start libvirtd: %s\n", line);
        exit(1);
    }
}

void clib_daemon_start(clib_daemon *d, const char *script)
{
    memset(d, 0, sizeof *d);
    const char *tmp = getenv("TMPDIR");
    /* Unix socket paths must stay short: a short directory. */
    snprintf(d->dir, sizeof d->dir, "%s/vwcXXXXXX", tmp && strlen(tmp) < 60 ? tmp : P_tmpdir);
    if (!mkdtemp(d->dir)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(d->script, sizeof d->script, "%s", script);
    snprintf(d->uri, sizeof d->uri, "test+unix:///default?socket=%s/libvirt-sock", d->dir);
    snprintf(d->uri_ro, sizeof d->uri_ro, "test+unix:///default?socket=%s/libvirt-sock-ro",
             d->dir);
    snprintf(d->admin_uri, sizeof d->admin_uri,
             "libvirtd:///system?socket=%s/libvirt-admin-sock", d->dir);
    running = d;
    atexit(stop_at_exit);
    run(d, "start");
}

void clib_daemon_stop(clib_daemon *d)
{
    if (!d->dir[0])
        return;
    run(d, "stop");
    char line[512];
    snprintf(line, sizeof line, "rm -rf '%s'", d->dir);
    if (system(line) != 0)
        fprintf(stderr, "could not remove %s\n", d->dir);
    d->dir[0] = 0;
    running = NULL;
}

uint32_t clib_daemon_version(const clib_daemon *d)
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
    return n == 3 ? (uint32_t)a * 1000000u + b * 1000u + c : 0;
}

long clib_daemon_pid(const clib_daemon *d)
{
    char path[256];
    snprintf(path, sizeof path, "%s/libvirtd.pid", d->dir);
    FILE *f = fopen(path, "r");
    long pid = -1;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return pid;
}

uint64_t clib_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void clib_sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int clib_finish(const char *name)
{
    if (clib_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, clib_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}
