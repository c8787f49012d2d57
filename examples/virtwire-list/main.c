/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire-list: a libvirt client written with the generated typed calls.
 *
 *   virtwire-list URI                 list every domain with its state
 *   virtwire-list URI xml NAME        print a domain's XML
 *   virtwire-list URI events SECONDS  print lifecycle events for a while
 *                                     (SIGINT or SIGTERM ends it early)
 *
 * URI is any libvirt URI virtwire supports (unix, TCP, ssh, ext, and TLS
 * when libvirtwire_tls is built), for example
 * test+unix:///default?socket=/run/libvirt/libvirt-sock,
 * qemu+ssh://root@host/system or
 * test+tls://host/default?pkipath=/path/to/certificates.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "remote_protocol_client.h"
#ifdef VIRTWIRE_HAVE_TLS
#include "virtwire_tls.h"
#endif

/* virDomainState, as virsh prints it. */
static const char *state_name(int state)
{
    static const char *const names[] = {
        "no state", "running", "idle", "paused", "in shutdown", "shut off", "crashed",
        "pmsuspended",
    };
    return state >= 0 && state < (int)(sizeof(names) / sizeof(names[0])) ? names[state] : "unknown";
}

/* virDomainEventType. */
static const char *event_name(int event)
{
    static const char *const names[] = {
        "Defined", "Undefined", "Started", "Suspended", "Resumed", "Stopped", "Shutdown",
        "PMSuspended", "Crashed",
    };
    return event >= 0 && event < (int)(sizeof(names) / sizeof(names[0])) ? names[event] : "Unknown";
}

static int fail(const char *what, int rc, const virNetMessageError *err)
{
    if (rc == VIRTWIRE_EREMOTE && err && err->message)
        fprintf(stderr, "%s: %s\n", what, *err->message);
    else
        fprintf(stderr, "%s: %s\n", what, virtwire_strerror(rc));
    return 1;
}

static int list(virtwire_client *c, virtwire_arena *arena)
{
    virNetMessageError err;
    virtwire_call_opts opts = VIRTWIRE_CALL_OPTS(.arena = arena, .error = &err);
    remote_connect_list_all_domains_ret doms;
    /* A list call: need_results is sent as 1, so the reply holds the list. */
    int rc = remote_call_connect_list_all_domains(c, NULL, &doms, &opts);
    if (rc < 0)
        return fail("list", rc, &err);
    printf(" %-5s %-20s %s\n", "Id", "Name", "State");
    for (unsigned int i = 0; i < doms.domains.domains_len; i++) {
        remote_domain_get_state_args sa = { .dom = doms.domains.domains_val[i], .flags = 0 };
        remote_domain_get_state_ret st;
        rc = remote_call_domain_get_state(c, &sa, &st, &opts);
        if (rc < 0)
            return fail("state", rc, &err);
        char id[12] = "-"; /* inactive domains have id -1, shown as virsh does */
        if (sa.dom.id >= 0)
            snprintf(id, sizeof(id), "%d", sa.dom.id);
        printf(" %-5s %-20s %s\n", id, sa.dom.name, state_name(st.state));
    }
    return 0;
}

static int xml(virtwire_client *c, virtwire_arena *arena, char *name)
{
    virNetMessageError err;
    virtwire_call_opts opts = VIRTWIRE_CALL_OPTS(.arena = arena, .error = &err);
    remote_domain_lookup_by_name_args la = { .name = name };
    remote_domain_lookup_by_name_ret lr;
    int rc = remote_call_domain_lookup_by_name(c, &la, &lr, &opts);
    if (rc < 0)
        return fail(name, rc, &err);
    remote_domain_get_xml_desc_args xa = { .dom = lr.dom, .flags = 0 };
    remote_domain_get_xml_desc_ret xr;
    rc = remote_call_domain_get_xml_desc(c, &xa, &xr, &opts);
    if (rc < 0)
        return fail(name, rc, &err);
    fputs(xr.xml, stdout);
    return 0;
}

static void on_lifecycle(virtwire_client *c, const remote_domain_event_callback_lifecycle_msg *m,
                         void *opaque)
{
    (void)c, (void)opaque;
    printf("event 'lifecycle' for domain '%s': %s %d\n", m->msg.dom.name, event_name(m->msg.event),
           m->msg.detail);
    fflush(stdout);
}

static int events(virtwire_client *c, virtwire_arena *arena, int seconds)
{
    virNetMessageError err;
    virtwire_call_opts opts = VIRTWIRE_CALL_OPTS(.arena = arena, .error = &err);
    /* Lifecycle events of every domain (dom NULL): the daemon's registration
     * and the handler for the callbackID it returns, in one step. */
    remote_event_registration reg;
    int rc = remote_register_domain_event_lifecycle(c, &reg, NULL, on_lifecycle, NULL, &opts);
    if (rc < 0)
        return fail("register", rc, &err);
    printf("watching lifecycle events for %d s\n", seconds);
    fflush(stdout);
    /* Until the time is up or SIGINT / SIGTERM comes (main() blocked them
     * in every thread, so that they wait here). */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    struct timespec ts = { .tv_sec = seconds, .tv_nsec = 0 };
    while (sigtimedwait(&stop, NULL, &ts) < 0 && errno == EINTR)
        ;
    rc = remote_deregister_event(c, &reg, &opts);
    return rc < 0 ? fail("deregister", rc, &err) : 0;
}

int main(int argc, char **argv)
{
    int help = argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    if (help || (argc != 2 && argc != 4) || argv[1][0] == '-') {
        fprintf(help ? stdout : stderr, "usage: %s URI [xml NAME | events SECONDS]\n", argv[0]);
        return help ? 0 : 2;
    }
    if (argc == 4 && strcmp(argv[2], "events") == 0) {
        /* Blocked before the client starts its thread, which inherits the
         * mask: events() waits for them. */
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &stop, NULL);
    }
    virtwire_client *c;
    char why[1024] = "";
    virtwire_client_options o = { .size = sizeof o, .errbuf = why, .errbuf_len = sizeof why };
#ifdef VIRTWIRE_HAVE_TLS
    o.tls = &virtwire_tls_opener;
#endif
    int rc = virtwire_client_connect(argv[1], &o, &c);
    if (rc < 0) {
        if (why[0]) {
            fprintf(stderr, "%s: %s\n", argv[1], why);
            return 1;
        }
        return fail(argv[1], rc, NULL);
    }
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    int status;
    if (argc == 2)
        status = list(c, &arena);
    else if (strcmp(argv[2], "xml") == 0)
        status = xml(c, &arena, argv[3]);
    else if (strcmp(argv[2], "events") == 0)
        status = events(c, &arena, atoi(argv[3]));
    else {
        fprintf(stderr, "unknown command %s\n", argv[2]);
        status = 2;
    }
    virtwire_client_close(c);
    virtwire_arena_fini(&arena);
    return status;
}
