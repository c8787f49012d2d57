/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the memory checkers must catch, so that their own tests can show
 * they catch it:
 *
 *   leaky clean     nothing wrong
 *   leaky leak      10 bytes definitely lost, an fd left open
 *   leaky overrun   a read one byte past a heap block
 *   leaky ub        a signed integer overflow
 *   leaky exit N    exits with status N
 *   leaky wait      prints "ready", waits for SIGTERM, exits 0
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *what = argv[1];
    if (strcmp(what, "clean") == 0) {
        free(malloc(10));
        return 0;
    }
    if (strcmp(what, "leak") == 0) {
        char *volatile p = malloc(10);
        if (!p)
            return 3;
        memset(p, 1, 10);
        p = NULL;
        return open("/dev/null", O_RDONLY) < 0 ? 3 : 0;
    }
    if (strcmp(what, "overrun") == 0) {
        char *p = malloc(10);
        if (!p)
            return 3;
        memset(p, 0, 10);
        volatile char c = p[argc + 8]; /* p[10] */
        free(p);
        return c == 42;
    }
    if (strcmp(what, "ub") == 0) {
        volatile int big = INT_MAX;
        int r = big + argc; /* overflows */
        return r == 0;
    }
    if (strcmp(what, "exit") == 0 && argc > 2)
        return atoi(argv[2]);
    if (strcmp(what, "wait") == 0) {
        /* Blocked until sigsuspend(): a SIGTERM that comes early is not
         * lost between the test of stop and the wait. */
        struct sigaction sa = { .sa_handler = on_term };
        sigaction(SIGTERM, &sa, NULL);
        sigset_t term, old;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigprocmask(SIG_BLOCK, &term, &old);
        printf("ready\n");
        fflush(stdout);
        while (!stop)
            sigsuspend(&old);
        return 0;
    }
    return 2;
}
