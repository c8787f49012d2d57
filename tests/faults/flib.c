/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE /* syscall(SYS_gettid), SIGEV_THREAD_ID */

#include "flib.h"

#include <dirent.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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

const char *flib_mockd;

int flib_main(int argc, char **argv, const vt_group *groups)
{
    /* Writes to a peer that is gone must fail, not kill the test. */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s GROUP [VIRTWIRE_MOCKD]\n", argv[0]);
        return 2;
    }
    flib_mockd = argc == 3 ? argv[2] : NULL;
    for (const vt_group *g = groups; g->name; g++) {
        if (strcmp(g->name, argv[1]) == 0) {
            uint64_t t0 = vt_now_ms();
            g->run();
            printf("%s: %llu ms\n", g->name, (unsigned long long)(vt_now_ms() - t0));
            return vt_finish(g->name);
        }
    }
    fprintf(stderr, "unknown group %s\n", argv[1]);
    return 2;
}

/* ------------------------------------------------------------------------ */
/* Connection pairs                                                         */
/* ------------------------------------------------------------------------ */

void flib_conn_pair(int snd, int rcv, virtwire_conn **a, virtwire_transport_program **tp,
                    virtwire_conn **b, virtwire_transport_program **rp,
                    const virtwire_transport_program_callbacks *recv_cbs, void *ctx)
{
    static const virtwire_transport_callbacks cbs = { .size = sizeof cbs };
    static const virtwire_transport_program_callbacks send_cbs = { .size = sizeof send_cbs };
    int sv[2];
    *a = *b = NULL;
    *tp = *rp = NULL;
    if (!CHECK(vt_socketpair(sv, SOCK_CLOEXEC) == 0))
        return;
    vt_bufsize(sv[0], snd, rcv);
    vt_bufsize(sv[1], snd, rcv);
    CHECK_RC(virtwire_conn_adopt(sv[0], 1, VIRTWIRE_TRANSPORT_CLIENT, &cbs, NULL, a), 0);
    CHECK_RC(virtwire_conn_adopt(sv[1], 1, VIRTWIRE_TRANSPORT_SERVER, &cbs, NULL, b), 0);
    CHECK_RC(virtwire_transport_register(virtwire_conn_transport(*a), REMOTE_PROGRAM,
                                         REMOTE_PROTOCOL_VERSION, &send_cbs, NULL, tp),
             0);
    CHECK_RC(virtwire_transport_register(virtwire_conn_transport(*b), REMOTE_PROGRAM,
                                         REMOTE_PROTOCOL_VERSION, recv_cbs, ctx, rp),
             0);
}

/* ------------------------------------------------------------------------ */
/* Scripted peers                                                           */
/* ------------------------------------------------------------------------ */

static void *peer_main(void *arg)
{
    flib_peer *p = arg;
    int fd = vt_accept(p->lfd, 10000);
    if (fd < 0) {
        vt_fail(__FILE__, __LINE__, "peer %s: no connection", p->path);
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
    vt_path(p->path, sizeof p->path, name);
    p->lfd = vt_listen_unix(p->path);
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

void flib_mockd_start(vt_mockd *d, const char *name, const char *const *args)
{
    if (!flib_mockd) {
        fprintf(stderr, "the example daemon is the second argument\n");
        exit(2);
    }
    vt_mockd_start(d, flib_mockd, name, args);
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
        vt_sleep_us(2000);
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
    vt_sleep_ms(1);
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

char *flib_text(size_t n, uint32_t seed)
{
    char *t = malloc(n + 1);
    if (!t)
        abort();
    for (size_t i = 0; i < n; i++)
        t[i] = (char)('a' + flib_pattern(seed, i) % 26);
    t[n] = 0;
    return t;
}

int flib_lib_version(virtwire_client *c, int timeout_ms, uint64_t *lib_ver)
{
    remote_connect_get_lib_version_ret r = { 0 };
    virtwire_call_opts o = { .size = sizeof o, .timeout_ms = timeout_ms };
    int rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL, &r,
                                  &o);
    if (lib_ver)
        *lib_ver = r.lib_ver;
    return rc;
}

static void *caller_main(void *arg)
{
    flib_caller *k = arg;
    k->rc = flib_lib_version(k->c, k->timeout_ms, NULL);
    k->ended = vt_now_ms();
    return NULL;
}

void flib_caller_start(flib_caller *k, virtwire_client *c, int timeout_ms)
{
    *k = (flib_caller){ .c = c, .timeout_ms = timeout_ms };
    if (pthread_create(&k->th, NULL, caller_main, k) != 0)
        abort();
}

void flib_caller_join(flib_caller *k)
{
    pthread_join(k->th, NULL);
}

void flib_check_lookup(virtwire_client *c, const char *name)
{
    remote_domain_lookup_by_name_args a = { (char *)name };
    remote_domain_lookup_by_name_ret r;
    memset(&r, 0, sizeof r);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = 5000 };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, &a, &r, &o),
             0);
    CHECK(r.dom.name && strcmp(r.dom.name, name) == 0);
    virtwire_arena_fini(&arena);
}

void flib_texts_init(flib_texts *t, size_t len, uint32_t first, uint32_t n)
{
    *t = (flib_texts){ .len = len, .first = first, .n = n };
    pthread_mutex_init(&t->m, NULL);
}

void flib_texts_done(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    (void)c;
    flib_texts *t = opaque;
    const remote_connect_domain_xml_from_native_ret *ret = r->ret;
    int ok = 0;
    if (r->rc == 0 && ret && strlen(ret->domainXml) == t->len) {
        /* Which call this was is in the text itself: try every seed. */
        for (uint32_t seed = t->first; seed < t->first + t->n && !ok; seed++) {
            char *want = flib_text(t->len, seed);
            ok = strcmp(want, ret->domainXml) == 0;
            free(want);
        }
    }
    pthread_mutex_lock(&t->m);
    t->done++;
    t->ok += ok;
    pthread_mutex_unlock(&t->m);
}

void flib_texts_check(flib_texts *t, int timeout_ms)
{
    uint64_t t0 = vt_now_ms();
    int done, ok;
    for (;;) {
        pthread_mutex_lock(&t->m);
        done = t->done;
        ok = t->ok;
        pthread_mutex_unlock(&t->m);
        if (done == (int)t->n || vt_now_ms() - t0 > (uint64_t)timeout_ms)
            break;
        vt_sleep_ms(5);
    }
    CHECK(done == (int)t->n && ok == (int)t->n);
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
