/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sasl-client: connects to a libvirt daemon with libvirtwire_sasl's method
 * and does what it is told, printing one line per result, for
 * tests/sasl/test_sasl.py:
 *
 *   sasl-client URI [STEP]...
 *     hostname   CONNECT_GET_HOSTNAME        "hostname NAME"
 *     list       CONNECT_LIST_ALL_DOMAINS    "domains N"
 *     channel    the client's channel         "channel NAME ssf N"
 *     events     lifecycle events of domain "test" around suspend/resume
 *                                             "events E1 E2"
 *     screenshot a read stream (DOMAIN_SCREENSHOT of "test")  "screenshot N bytes"
 *     sparse     STORAGE_VOL_UPLOAD of default/disk.img with a hole, read
 *                back with VOL_DOWNLOAD     "sparse data A hole H data B"
 *     fds        a call with an fd            "fds RC_NAME"
 *     repeat:N   N hostname calls (a loop)   "repeat N"
 *     init       AUTH_SASL_INIT again, once authenticated
 *                                             "init CODE MESSAGE" or "init ok"
 *
 * Credentials: VW_SASL_USER and VW_SASL_PASS, through the callback, when
 * set (VW_SASL_AUTHONLY=1: the callback only answers the authname);
 * otherwise auth.conf.  A failed connection prints "error NAME: MESSAGE"
 * and exits 3.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "remote_protocol.h"
#include "virtwire_client.h"
#include "virtwire_sasl.h"

static int credentials(virtwire_credential *cred, size_t n, void *opaque)
{
    (void)opaque;
    for (size_t i = 0; i < n; i++) {
        const char *v = NULL;
        if (cred[i].type == VIRTWIRE_CRED_AUTHNAME || cred[i].type == VIRTWIRE_CRED_USERNAME)
            v = getenv("VW_SASL_USER");
        else if (cred[i].type == VIRTWIRE_CRED_PASSPHRASE)
            v = getenv("VW_SASL_PASS");
        if (v) {
            cred[i].result = strdup(v);
            cred[i].resultlen = (unsigned)strlen(v);
        }
    }
    return 0;
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int nevents, events[8];

static void on_lifecycle(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                         const void *msg, void *opaque)
{
    (void)c, (void)prog, (void)proc, (void)opaque;
    const remote_domain_event_callback_lifecycle_msg *e = msg;
    pthread_mutex_lock(&m);
    if (nevents < 8)
        events[nevents++] = e->msg.event;
    pthread_mutex_unlock(&m);
}

static int fail(const char *what, int rc, const virNetMessageError *err)
{
    printf("fail %s %s %s\n", what, virtwire_error_name(rc) ? virtwire_error_name(rc) : "?",
           err && err->message ? *err->message : "");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sasl-client URI [STEP]...\n");
        return 2;
    }
    const char *user = getenv("VW_SASL_USER");
    virtwire_sasl_client_config sc = { .size = sizeof sc, .credentials = credentials };
    virtwire_auth_method *method = NULL;
    if (virtwire_sasl_method_new(user ? &sc : NULL, &method) < 0)
        return 1;
    const virtwire_auth_method *methods[] = { method, NULL };
    char errbuf[1024] = "";
    virtwire_client_options o = { .size = sizeof o, .auth_methods = methods, .errbuf = errbuf,
                                  .errbuf_len = sizeof errbuf, .call_timeout_ms = 20000,
                                  .keepalive_interval_ms = 5000, .keepalive_count = 5 };
    virtwire_client *c = NULL;
    int rc = virtwire_client_connect(argv[1], &o, &c);
    if (rc < 0) {
        printf("error %s: %s\n", virtwire_error_name(rc), errbuf);
        virtwire_sasl_method_free(method);
        return 3;
    }
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts co = { .size = sizeof co, .arena = &arena, .timeout_ms = 20000,
                              .error = &err };
    int status = 0;
    remote_nonnull_domain test = { .name = (char *)"test" };
    for (int i = 2; i < argc && status == 0; i++) {
        const char *step = argv[i];
        virtwire_arena_reset(&arena);
        if (strcmp(step, "hostname") == 0) {
            remote_connect_get_hostname_ret r;
            rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_HOSTNAME, NULL,
                                      &r, &co);
            if (rc < 0)
                status = fail(step, rc, &err);
            else
                printf("hostname %s\n", r.hostname);
        } else if (strncmp(step, "repeat:", 7) == 0) {
            long n = strtol(step + 7, NULL, 10);
            for (long k = 0; k < n && status == 0; k++) {
                remote_connect_get_hostname_ret r;
                virtwire_arena_reset(&arena);
                rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_HOSTNAME,
                                          NULL, &r, &co);
                if (rc < 0)
                    status = fail(step, rc, &err);
            }
            if (status == 0)
                printf("repeat %ld\n", n);
        } else if (strcmp(step, "list") == 0) {
            remote_connect_list_all_domains_args a = { .need_results = 1, .flags = 0 };
            remote_connect_list_all_domains_ret r;
            rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS, &a,
                                      &r, &co);
            if (rc < 0)
                status = fail(step, rc, &err);
            else
                printf("domains %u\n", r.domains.domains_len);
        } else if (strcmp(step, "channel") == 0) {
            virtwire_channel *ch = virtwire_client_channel(c);
            printf("channel %s ssf %u\n", virtwire_channel_name(ch), virtwire_channel_ssf(ch));
        } else if (strcmp(step, "events") == 0) {
            remote_domain_lookup_by_name_args la = { .name = (char *)"test" };
            remote_domain_lookup_by_name_ret lr;
            rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, &la,
                                      &lr, &co);
            remote_nonnull_domain dom = lr.dom;
            remote_domain dp = &dom;
            remote_connect_domain_event_callback_register_any_args ra = { .eventID = 0,
                                                                          .dom = dp };
            int cb = -1;
            if (rc == 0)
                rc = virtwire_client_register_event(
                    c, &remote_program, REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, &ra,
                    REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, on_lifecycle, NULL, &co, &cb);
            remote_domain_suspend_args sa = { dom };
            if (rc >= 0)
                rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_SUSPEND, &sa,
                                          NULL, &co);
            remote_domain_resume_args rsa = { dom };
            if (rc >= 0)
                rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_RESUME, &rsa,
                                          NULL, &co);
            for (int k = 0; k < 1000 && rc >= 0; k++) {
                pthread_mutex_lock(&m);
                int n = nevents;
                pthread_mutex_unlock(&m);
                if (n >= 2)
                    break;
                struct timespec ts = { 0, 10 * 1000000 };
                nanosleep(&ts, NULL);
            }
            if (rc < 0)
                status = fail(step, rc, &err);
            else
                printf("events %d %d\n", nevents > 0 ? events[0] : -1,
                       nevents > 1 ? events[1] : -1);
        } else if (strcmp(step, "screenshot") == 0) {
            remote_domain_screenshot_args a = { test, 0, 0 };
            remote_domain_screenshot_ret r;
            virtwire_client_stream *s = NULL;
            rc = virtwire_client_stream_call(c, &remote_program, REMOTE_PROC_DOMAIN_SCREENSHOT, &a,
                                             &r, &co, &s);
            long total = 0, n;
            char buf[65536];
            while (rc == 0 && (n = virtwire_client_stream_recv(s, buf, sizeof buf, NULL, 20000,
                                                               NULL)) > 0)
                total += n;
            if (rc == 0 && n < 0)
                rc = (int)n;
            if (rc == 0)
                rc = virtwire_client_stream_finish(s, 20000, NULL);
            virtwire_client_stream_free(s);
            if (rc < 0)
                status = fail(step, rc, &err);
            else
                printf("screenshot %ld bytes\n", total);
        } else if (strcmp(step, "sparse") == 0) {
            remote_nonnull_storage_vol vol = { (char *)"default", (char *)"disk.img",
                                               (char *)"/mock/default/disk.img" };
            static char a[100000], b[70000];
            memset(a, 'a', sizeof a);
            memset(b, 'b', sizeof b);
            remote_storage_vol_upload_args ua = { vol, 0, 0, 1 };
            virtwire_client_stream *s = NULL;
            rc = virtwire_client_stream_call(c, &remote_program, REMOTE_PROC_STORAGE_VOL_UPLOAD,
                                             &ua, NULL, &co, &s);
            if (rc == 0)
                rc = virtwire_client_stream_send(s, a, sizeof a);
            if (rc == 0)
                rc = virtwire_client_stream_send_hole(s, 1 << 20);
            if (rc == 0)
                rc = virtwire_client_stream_send(s, b, sizeof b);
            if (rc == 0)
                rc = virtwire_client_stream_finish(s, 20000, NULL);
            virtwire_client_stream_free(s);
            s = NULL;
            remote_storage_vol_download_args da = { vol, 0, 0, 1 };
            if (rc == 0)
                rc = virtwire_client_stream_call(c, &remote_program,
                                                 REMOTE_PROC_STORAGE_VOL_DOWNLOAD, &da, NULL, &co,
                                                 &s);
            long seg[8] = { 0 };
            int kinds[8], nseg = 0;
            char buf[65536];
            for (long n; rc == 0;) {
                int64_t hole = 0;
                n = virtwire_client_stream_recv(s, buf, sizeof buf, &hole, 20000, NULL);
                if (n < 0) {
                    rc = (int)n;
                    break;
                }
                if (n == 0)
                    break;
                int kind = n == VIRTWIRE_CLIENT_STREAM_HOLE ? 'H' : 'D';
                long len = kind == 'H' ? (long)hole : n;
                if (kind == 'D' && memcmp(buf, nseg < 2 ? a : b, (size_t)n) != 0)
                    kind = 'X';
                if (nseg && kinds[nseg - 1] == kind)
                    seg[nseg - 1] += len;
                else if (nseg < 8) {
                    kinds[nseg] = kind;
                    seg[nseg++] = len;
                }
            }
            if (rc == 0)
                rc = virtwire_client_stream_finish(s, 20000, NULL);
            virtwire_client_stream_free(s);
            if (rc < 0) {
                status = fail(step, rc, &err);
            } else {
                printf("sparse");
                for (int k = 0; k < nseg; k++)
                    printf(" %s %ld", kinds[k] == 'H' ? "hole" : kinds[k] == 'D' ? "data" : "bad",
                           seg[k]);
                printf("\n");
            }
        } else if (strcmp(step, "init") == 0) {
            remote_auth_sasl_init_ret r;
            rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_AUTH_SASL_INIT, NULL, &r,
                                      &co);
            if (rc == VIRTWIRE_EREMOTE)
                printf("init %d %s\n", err.code, err.message ? *err.message : "");
            else if (rc < 0)
                status = fail(step, rc, &err);
            else
                printf("init ok\n");
        } else if (strcmp(step, "fds") == 0) {
            int fd = 0;
            virtwire_call_opts fo = co;
            fo.fds = &fd;
            fo.nfds = 1;
            rc = virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_HOSTNAME, NULL,
                                      NULL, &fo);
            printf("fds %s\n", rc < 0 ? virtwire_error_name(rc) : "sent");
        } else {
            fprintf(stderr, "sasl-client: unknown step %s\n", step);
            status = 2;
        }
        fflush(stdout);
    }
    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
    virtwire_sasl_method_free(method);
    return status;
}
