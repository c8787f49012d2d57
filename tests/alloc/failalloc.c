/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation-failure injection: the --wrap'ed allocation functions and the
 * driver that runs a scenario once per allocation (see failalloc.h).
 */
#define _GNU_SOURCE

#include "failalloc.h"
#include "vt_sys.h"

#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

/* LeakSanitizer's explicit check, present in sanitizer builds only. */
extern void __lsan_do_leak_check(void) __attribute__((weak));

#define MAX_RECORDED 65536
#define LIVE_CAP ((size_t)1 << 18) /* power of two */

/* Shared between the driver and its children. */
typedef struct shared {
    atomic_long nrec;
    uintptr_t rec[MAX_RECORDED]; /* call site of each allocation, in order */
    atomic_int fired;
} shared;

static shared *sh;

enum { MODE_OFF, MODE_RECORD, MODE_FAIL };
static atomic_int mode;
static uintptr_t target_site;
static long target_nth;
static atomic_long target_seen;

/* Blocks allocated while a scenario runs: open addressing, linear probing,
 * deletion by backward shift. */
typedef struct live_entry {
    void *p;
    uintptr_t site;
} live_entry;

static live_entry live[LIVE_CAP];
static size_t nlive;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t live_home(const void *p)
{
    return (size_t)(((uintptr_t)p >> 4) * (uintptr_t)0x9E3779B97F4A7C15ull) & (LIVE_CAP - 1);
}

static void live_add(void *p, uintptr_t site)
{
    pthread_mutex_lock(&live_lock);
    if (nlive + 1 >= LIVE_CAP / 2) {
        pthread_mutex_unlock(&live_lock);
        fprintf(stderr, "failalloc: more than %zu live blocks\n", LIVE_CAP / 2);
        abort();
    }
    size_t i = live_home(p);
    while (live[i].p)
        i = (i + 1) & (LIVE_CAP - 1);
    live[i].p = p;
    live[i].site = site;
    nlive++;
    pthread_mutex_unlock(&live_lock);
}

static void live_remove(void *p)
{
    pthread_mutex_lock(&live_lock);
    if (!nlive) {
        pthread_mutex_unlock(&live_lock);
        return;
    }
    size_t i = live_home(p);
    while (live[i].p && live[i].p != p)
        i = (i + 1) & (LIVE_CAP - 1);
    if (live[i].p) {
        /* Backward shift: pull later entries of the run into the hole
         * when that does not move them before their home. */
        size_t j = i;
        for (;;) {
            j = (j + 1) & (LIVE_CAP - 1);
            if (!live[j].p)
                break;
            size_t h = live_home(live[j].p);
            if (((j - h) & (LIVE_CAP - 1)) >= ((j - i) & (LIVE_CAP - 1))) {
                live[i] = live[j];
                i = j;
            }
        }
        live[i].p = NULL;
        nlive--;
    }
    pthread_mutex_unlock(&live_lock);
}

/* Decides the fate of one allocation made from site. */
static int should_fail(uintptr_t site)
{
    int m = atomic_load(&mode);
    if (m == MODE_RECORD) {
        long i = atomic_fetch_add(&sh->nrec, 1);
        if (i < MAX_RECORDED)
            sh->rec[i] = site;
        return 0;
    }
    if (m == MODE_FAIL && site == target_site &&
        atomic_fetch_add(&target_seen, 1) + 1 == target_nth) {
        atomic_store(&sh->fired, 1);
        return 1;
    }
    return 0;
}

static void *track(void *p, uintptr_t site)
{
    if (p)
        live_add(p, site);
    return p;
}

#define SITE() ((uintptr_t)__builtin_return_address(0))

void *__wrap_malloc(size_t n)
{
    uintptr_t site = SITE();
    if (atomic_load(&mode) == MODE_OFF)
        return __real_malloc(n);
    if (should_fail(site)) {
        errno = ENOMEM;
        return NULL;
    }
    return track(__real_malloc(n), site);
}

void *__wrap_calloc(size_t n, size_t m)
{
    uintptr_t site = SITE();
    if (atomic_load(&mode) == MODE_OFF)
        return __real_calloc(n, m);
    if (should_fail(site)) {
        errno = ENOMEM;
        return NULL;
    }
    return track(__real_calloc(n, m), site);
}

void *__wrap_realloc(void *p, size_t n)
{
    uintptr_t site = SITE();
    int on = atomic_load(&mode) != MODE_OFF;
    if (on && should_fail(site)) {
        errno = ENOMEM;
        return NULL; /* p stays allocated, as with a real failure */
    }
    void *q = __real_realloc(p, n);
    if (p && (q || n == 0))
        live_remove(p);
    return on ? track(q, site) : q;
}

char *__wrap_strdup(const char *s)
{
    uintptr_t site = SITE();
    if (atomic_load(&mode) == MODE_OFF)
        return __real_strdup(s);
    if (should_fail(site)) {
        errno = ENOMEM;
        return NULL;
    }
    return track(__real_strdup(s), site);
}

void __wrap_free(void *p)
{
    if (p)
        live_remove(p);
    __real_free(p);
}

void *fa_raw_alloc(size_t n)
{
    void *p = __real_calloc(1, n ? n : 1);
    if (!p)
        abort();
    return p;
}

void fa_raw_free(void *p)
{
    __real_free(p);
}

int fa_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int fa_session_args(int argc, char **argv, int more, const char *more_usage)
{
    if (argc == 2 + more && strcmp(argv[1], "session") == 0)
        return 1;
    fprintf(stderr, "usage: %s session%s%s\n", argv[0], more ? " " : "", more ? more_usage : "");
    return 0;
}

int fa_fired(void)
{
    return sh && atomic_load(&sh->fired);
}

int fa_injecting(void)
{
    return atomic_load(&mode) == MODE_FAIL;
}

/* ------------------------------------------------------------------------ */
/* Call sites, for the reports                                              */
/* ------------------------------------------------------------------------ */

/* "function (file:line)" of the call that returns to site, from
 * addr2line, or the address. */
static void site_label(uintptr_t site, char *out, size_t cap)
{
    snprintf(out, cap, "%#lx", (unsigned long)site);
    Dl_info di;
    if (!dladdr((void *)site, &di) || !di.dli_fname || !di.dli_fbase)
        return;
    uintptr_t addr = site - 1; /* inside the call instruction */
    const ElfW(Ehdr) *eh = di.dli_fbase;
    if (eh->e_type == ET_DYN)
        addr -= (uintptr_t)di.dli_fbase;
    const char *exe = di.dli_fname;
    char self[512];
    if (!exe[0] || strchr(exe, '/') == NULL) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            return;
        self[n] = 0;
        exe = self;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "addr2line -f -s -e '%s' %#lx 2>/dev/null", exe,
             (unsigned long)addr);
    FILE *f = popen(cmd, "r");
    if (!f)
        return;
    char fn[256] = "", where[256] = "";
    if (fgets(fn, sizeof fn, f) && fgets(where, sizeof where, f)) {
        fn[strcspn(fn, "\n")] = 0;
        where[strcspn(where, "\n (")] = 0;
        if (fn[0] && fn[0] != '?')
            snprintf(out, cap, "%s (%s)", fn, where);
    }
    pclose(f);
}

/* ------------------------------------------------------------------------ */
/* The driver                                                               */
/* ------------------------------------------------------------------------ */

/* The body of one child: runs the scenario in the mode given, then checks
 * that it left no block and no fd behind. */
static void child_main(fa_scenario fn, void *opaque, int m, unsigned seconds)
{
    alarm(seconds);
    int fds_before = vt_count_fds(0);
    atomic_store(&mode, m);
    int rc = fn(opaque);
    atomic_store(&mode, MODE_OFF);
    if (nlive) {
        fprintf(stderr, "failalloc: %zu block(s) leaked:\n", nlive);
        size_t shown = 0;
        for (size_t i = 0; i < LIVE_CAP && shown < 8; i++) {
            if (live[i].p) {
                char label[512];
                site_label(live[i].site, label, sizeof label);
                fprintf(stderr, "  allocated at %s\n", label);
                shown++;
            }
        }
        rc = 1;
    }
    int fds_after = vt_count_fds(0);
    if (fds_after != fds_before) {
        fprintf(stderr, "failalloc: %d fds open before, %d after:\n", fds_before, fds_after);
        vt_list_fds();
        rc = 1;
    }
    fflush(stdout);
    fflush(stderr);
    /* LeakSanitizer, when present, exits with its own status on a leak.
     * No exit(): the parent's atexit handlers are not the child's. */
    if (__lsan_do_leak_check)
        __lsan_do_leak_check();
    _exit(rc ? 1 : 0);
}

/* Runs one child; returns 0 when it passed, else a description of how it
 * ended in why. */
static int run_child(fa_scenario fn, void *opaque, int m, unsigned seconds, char *why,
                     size_t cap)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, cap, "fork: %s", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        target_seen = 0;
        child_main(fn, opaque, m, seconds);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(why, cap, "waitpid: %s", strerror(errno));
            return 1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFSIGNALED(status))
        snprintf(why, cap, "killed by signal %d%s", WTERMSIG(status),
                 WTERMSIG(status) == SIGALRM ? " (time limit: hung)" : "");
    else
        snprintf(why, cap, "exit status %d", WEXITSTATUS(status));
    return 1;
}

int fa_run(const char *name, fa_scenario fn, void *opaque, unsigned seconds)
{
    if (!sh) {
        sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (sh == MAP_FAILED) {
            perror("mmap");
            exit(1);
        }
    }
    char why[128];
    atomic_store(&sh->nrec, 0);
    atomic_store(&sh->fired, 0);
    if (run_child(fn, opaque, MODE_RECORD, seconds, why, sizeof why)) {
        fprintf(stderr, "%s: run without failures: %s\n", name, why);
        return 1;
    }
    long n = atomic_load(&sh->nrec);
    if (n > MAX_RECORDED) {
        fprintf(stderr, "%s: %ld allocations, more than the %d this test records\n", name, n,
                MAX_RECORDED);
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "%s: the scenario allocated nothing\n", name);
        return 1;
    }
    uintptr_t *rec = fa_raw_alloc((size_t)n * sizeof *rec);
    memcpy(rec, sh->rec, (size_t)n * sizeof *rec);

    /* Distinct sites, and whether each was made to fail at least once. */
    uintptr_t *sites = fa_raw_alloc((size_t)n * sizeof *sites);
    int *site_fired = fa_raw_alloc((size_t)n * sizeof *site_fired);
    long nsites = 0;
    int failures = 0;
    long not_reached = 0;
    for (long k = 0; k < n; k++) {
        long nth = 0;
        for (long i = 0; i <= k; i++)
            nth += rec[i] == rec[k];
        long s = 0;
        while (s < nsites && sites[s] != rec[k])
            s++;
        if (s == nsites)
            sites[nsites++] = rec[k];

        target_site = rec[k];
        target_nth = nth;
        atomic_store(&sh->fired, 0);
        if (run_child(fn, opaque, MODE_FAIL, seconds, why, sizeof why)) {
            char label[512];
            site_label(rec[k], label, sizeof label);
            fprintf(stderr, "%s: allocation %ld of %ld (call %ld from %s) failing: %s\n", name,
                    k + 1, n, nth, label, why);
            failures++;
        }
        if (atomic_load(&sh->fired))
            site_fired[s] = 1;
        else
            not_reached++;
        if (failures >= 10) {
            fprintf(stderr, "%s: giving up after %d failed runs\n", name, failures);
            break;
        }
    }
    for (long s = 0; s < nsites && failures < 10; s++) {
        if (!site_fired[s]) {
            char label[512];
            site_label(sites[s], label, sizeof label);
            fprintf(stderr, "%s: the allocation at %s was never made to fail\n", name, label);
            failures++;
        }
    }
    if (getenv("VIRTWIRE_FAILALLOC_SITES")) {
        for (long s = 0; s < nsites; s++) {
            char label[512];
            site_label(sites[s], label, sizeof label);
            long uses = 0;
            for (long i = 0; i < n; i++)
                uses += rec[i] == sites[s];
            printf("  %s: %ld allocation(s) at %s\n", name, uses, label);
        }
    }
    printf("%s: %ld allocations from %ld call sites, each made to fail in turn "
           "(%ld not reached in their run): %s\n",
           name, n, nsites, not_reached, failures ? "FAILED" : "ok");
    fa_raw_free(rec);
    fa_raw_free(sites);
    fa_raw_free(site_fired);
    return failures ? 1 : 0;
}
