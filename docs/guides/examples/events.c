/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Events (docs/guides/events.md): two lifecycle registrations on one
 * connection, one for every domain and one for a single domain; then
 * DOMAIN is suspended and resumed and OTHER (shut off) started and
 * destroyed, and the events each registration received are printed.
 *
 *   guide-events URI DOMAIN OTHER
 *
 * examples/virtwire-mockd serves it (and so does libvirtd's test driver):
 *
 *   virtwire-mockd SOCKET &
 *   guide-events 'test+unix:///default?socket=SOCKET' test vm1
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "remote_protocol_client.h"

#define TIMEOUT_MS 10000
#define MAX_SEEN 16

/* What one registration saw: filled on the client's I/O thread, read by
 * main() under the same lock. */
typedef struct {
    const char *label;
    char seen[MAX_SEEN][64];
    int nseen;
} watcher;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;

static const char *event_name(int event)
{
    /* virDomainEventType (libvirt-domain.h) */
    static const char *const names[] = { "defined", "undefined", "started", "suspended",
                                         "resumed", "stopped",   "shutdown", "pmsuspended",
                                         "crashed" };
    return event >= 0 && event < (int)(sizeof names / sizeof names[0]) ? names[event] : "?";
}

/* Runs on the client's I/O thread: copies what it needs (the message is
 * freed when the handler returns) and must not make synchronous calls. */
static void on_lifecycle(virtwire_client *c, const remote_domain_event_callback_lifecycle_msg *m,
                         void *opaque)
{
    watcher *w = opaque;
    (void)c;
    pthread_mutex_lock(&lock);
    if (w->nseen < MAX_SEEN)
        snprintf(w->seen[w->nseen++], sizeof w->seen[0], "%s %s", event_name(m->msg.event),
                 m->msg.dom.name);
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

/* Waits until a has seen na events and b nb, or TIMEOUT_MS passed. */
static int wait_for(const watcher *a, int na, const watcher *b, int nb)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += TIMEOUT_MS / 1000;
    int rc = 0;
    pthread_mutex_lock(&lock);
    while ((a->nseen < na || b->nseen < nb) && rc == 0)
        rc = pthread_cond_timedwait(&changed, &lock, &until);
    int ok = a->nseen == na && b->nseen == nb;
    pthread_mutex_unlock(&lock);
    return ok ? 0 : -1;
}

static int fail(const char *what, int rc, virNetMessageError *err)
{
    if (rc == VIRTWIRE_EREMOTE && err && err->message)
        fprintf(stderr, "guide-events: %s: %s\n", what, *err->message);
    else
        fprintf(stderr, "guide-events: %s: %s\n", what, virtwire_strerror(rc));
    return 1;
}

/* The lifecycle changes, with calls that return nothing but an error. */
static int change(virtwire_client *c, remote_nonnull_domain dom, remote_nonnull_domain other,
                  virtwire_call_opts *opts)
{
    remote_domain_suspend_args sa = { .dom = dom };
    remote_domain_resume_args ra = { .dom = dom };
    remote_domain_create_args ca = { .dom = other };
    remote_domain_destroy_args da = { .dom = other };
    int rc;
    if ((rc = remote_call_domain_suspend(c, &sa, opts)) < 0)
        return fail("suspend", rc, opts->error);
    if ((rc = remote_call_domain_resume(c, &ra, opts)) < 0)
        return fail("resume", rc, opts->error);
    if ((rc = remote_call_domain_create(c, &ca, opts)) < 0)
        return fail("start", rc, opts->error);
    if ((rc = remote_call_domain_destroy(c, &da, opts)) < 0)
        return fail("destroy", rc, opts->error);
    return 0;
}

static void print(const watcher *w)
{
    pthread_mutex_lock(&lock);
    printf("%s:\n", w->label);
    for (int i = 0; i < w->nseen; i++)
        printf("  %s\n", w->seen[i]);
    pthread_mutex_unlock(&lock);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        int help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr, "usage: guide-events URI DOMAIN OTHER\n");
        if (help)
            return 0;
        return 2;
    }
    virtwire_client_options copts = { .size = sizeof copts, .call_timeout_ms = TIMEOUT_MS };
    virtwire_client *c;
    int rc = virtwire_client_connect(argv[1], &copts, &c);
    if (rc < 0)
        return fail("connect", rc, NULL);

    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts opts = { .size = sizeof opts, .arena = &arena, .timeout_ms = TIMEOUT_MS, .error = &err };
    remote_domain_lookup_by_name_args la = { .name = argv[2] }, lb = { .name = argv[3] };
    remote_domain_lookup_by_name_ret dom, other;
    if ((rc = remote_call_domain_lookup_by_name(c, &la, &dom, &opts)) < 0 ||
        (rc = remote_call_domain_lookup_by_name(c, &lb, &other, &opts)) < 0) {
        fail("lookup", rc, &err);
        virtwire_arena_fini(&arena);
        virtwire_client_close(c);
        return 1;
    }

    /* Two registrations for the same event: the daemon gives each its own
     * callbackID, and each handler sees only the messages that carry its
     * own.  dom NULL: every domain. */
    static watcher all = { .label = "every domain" }, one = { .label = "one domain" };
    remote_event_registration reg_all, reg_one;
    int status = 1;
    if ((rc = remote_register_domain_event_lifecycle(c, &reg_all, NULL, on_lifecycle, &all,
                                                     &opts)) < 0) {
        fail("register", rc, &err);
    } else {
        if ((rc = remote_register_domain_event_lifecycle(c, &reg_one, &dom.dom, on_lifecycle, &one,
                                                         &opts)) < 0) {
            fail("register", rc, &err);
        } else {
            printf("callbackIDs %d and %d\n", reg_all.callback_id, reg_one.callback_id);
            if (change(c, dom.dom, other.dom, &opts) == 0) {
                if (wait_for(&all, 4, &one, 2) < 0)
                    fprintf(stderr, "guide-events: not the events expected\n");
                else
                    status = 0;
                print(&all);
                print(&one);
            }
            /* Once it returns, on_lifecycle no longer runs for &one. */
            if ((rc = remote_deregister_event(c, &reg_one, &opts)) < 0)
                status = fail("deregister", rc, &err);
        }
        if ((rc = remote_deregister_event(c, &reg_all, &opts)) < 0)
            status = fail("deregister", rc, &err);
    }
    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
    return status;
}
