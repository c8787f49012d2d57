/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client over ssh and ext URIs, against a private sshd (openssh-server)
 * in front of a private libvirtd 9.0.0: the ssh binary runs with libvirt's
 * command line, and on the "remote" side virt-ssh-helper or nc reaches the
 * daemon (tests/libvirtd/private-sshd).
 *
 *   test_client_ssh PRIVATE_LIBVIRTD PRIVATE_SSHD GROUP
 *
 * Groups:
 *   helper  through virt-ssh-helper: calls, events, the screenshot stream,
 *           a read-only connection (the helper's -r); ssh found in PATH and
 *           configured by its configuration file (a Host alias);
 *   netcat  through nc: ?socket= alone, proxy=netcat, and proxy=auto on a
 *           host without virt-ssh-helper;
 *   errors  what ssh says reaches errbuf: an unknown host key with
 *           BatchMode, a refused key, a missing remote helper, an ssh that
 *           exits at once, no ssh at all; libvirt's own refusals
 *           (mode=direct, netcat with native, libssh);
 *   cycles  100 connections opened and closed: no child, no fd left;
 *   ext     ?command= run locally as the channel.
 *
 * After every connection (good or failed): no child process of ours is
 * left (running or zombie) and no fd.
 */
#define _GNU_SOURCE /* setenv */

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_tlib.h"
#include "remote_protocol.h"
#include "virtwire_client.h"
#include "vt_check.h"
#include "vt_daemon.h"
#include "vt_pidfile.h"
#include "vt_sys.h"

#define CYCLES 100

static vt_libvirtd lvd;
static vt_sshd sshd;

/* ------------------------------------------------------------------------ */
/* Processes                                                                */
/* ------------------------------------------------------------------------ */

/* The parent of pid and its command name (comm), from /proc; -1 if gone. */
static long proc_parent(long pid, char *comm, size_t len)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *open = strchr(buf, '('), *close = strrchr(buf, ')');
    if (!open || !close)
        return -1;
    if (comm)
        snprintf(comm, len, "%.*s", (int)(close - open - 1), open + 1);
    long ppid = -1;
    if (sscanf(close + 2, "%*c %ld", &ppid) != 1)
        return -1;
    return ppid;
}

static long sshd_pid(void)
{
    return vt_read_pidfile(sshd.dir, "sshd.pid");
}

/* A process called name running under our sshd (the "remote" side);
 * its pid, or -1.  With args, its command line (NULs as spaces). */
static long remote_process(const char *name, char *args, size_t len)
{
    long top = sshd_pid();
    DIR *d = opendir("/proc");
    struct dirent *e;
    long found = -1;
    while (d && found < 0 && (e = readdir(d)) != NULL) {
        long pid = atol(e->d_name);
        char comm[64];
        if (pid <= 0 || proc_parent(pid, comm, sizeof comm) < 0 || strcmp(comm, name) != 0)
            continue;
        for (long p = pid; p > 1; p = proc_parent(p, NULL, 0))
            if (p == top) {
                found = pid;
                break;
            }
    }
    if (d)
        closedir(d);
    if (found > 0 && args) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/cmdline", found);
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(args, 1, len - 1, f) : 0;
        if (f)
            fclose(f);
        for (size_t i = 0; i < n; i++)
            if (!args[i])
                args[i] = ' ';
        args[n] = 0;
    }
    return found;
}

/* No child of ours is left, running or not reaped. */
static void check_no_child(const char *when)
{
    int st;
    errno = 0;
    pid_t r = waitpid(-1, &st, WNOHANG);
    CHECK_MSG(r < 0 && errno == ECHILD, "%s: a child process is left (waitpid: %d)", when, (int)r);
}

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

static char errbuf[2048];

static int connect_uri(const char *uri, unsigned flags, virtwire_client **c)
{
    errbuf[0] = 0;
    virtwire_client_options o = { .size = sizeof o,
                                  .flags = flags,
                                  .open_timeout_ms = 20000,
                                  .call_timeout_ms = 10000,
                                  .errbuf = errbuf,
                                  .errbuf_len = sizeof errbuf };
    int rc = virtwire_client_connect(uri, &o, c);
    if (rc < 0)
        fprintf(stderr, "connect %s: %s (%s)\n", uri, virtwire_error_name(rc), errbuf);
    return rc;
}

/* Calls that need the daemon: hostname, the test domain, the list. */
static void check_calls(virtwire_client *c)
{
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = { .size = sizeof o, .arena = &a, .timeout_ms = 10000 };
    clt_check_hostname(c, &o);
    CHECK(clt_lookup_test(c, &o).id == 1);
    remote_connect_list_all_domains_args da = { 10, 0 };
    remote_connect_list_all_domains_ret dr;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS, &da,
                                  &dr, &o), 0);
    CHECK(dr.domains.domains_len >= 1);
    /* A remote_error travels back through ssh too. */
    remote_domain_lookup_by_name_args missing = { "no-such-domain" };
    remote_domain_lookup_by_name_ret lr;
    virNetMessageError err;
    o.error = &err;
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, &missing,
                                  &lr, &o), VIRTWIRE_EREMOTE);
    CHECK(err.code == 42);
    virtwire_arena_fini(&a);
}

typedef struct seen {
    pthread_mutex_t m;
    int suspended, resumed;
} seen;

static void on_lifecycle(virtwire_client *c, const virtwire_program *prog, int32_t proc,
                         const void *msg, void *opaque)
{
    (void)c, (void)prog, (void)proc;
    const remote_domain_event_callback_lifecycle_msg *m = msg;
    seen *s = opaque;
    pthread_mutex_lock(&s->m);
    if (m->msg.event == 3) /* VIR_DOMAIN_EVENT_SUSPENDED */
        s->suspended++;
    else if (m->msg.event == 4) /* VIR_DOMAIN_EVENT_RESUMED */
        s->resumed++;
    pthread_mutex_unlock(&s->m);
}

/* Lifecycle events of a suspend and a resume made on the connection. */
static void check_events(virtwire_client *c)
{
    static seen s = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };
    pthread_mutex_lock(&s.m);
    s.suspended = s.resumed = 0;
    pthread_mutex_unlock(&s.m);
    int id = virtwire_client_on_event(c, &remote_program,
                                      REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, on_lifecycle, &s);
    CHECK(id > 0);
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = { .size = sizeof o, .arena = &a, .timeout_ms = 10000 };
    remote_connect_domain_event_callback_register_any_args ra = { 0, NULL };
    remote_connect_domain_event_callback_register_any_ret rr;
    CHECK_RC(virtwire_client_call(c, &remote_program,
                                  REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, &ra, &rr,
                                  &o), 0);
    remote_nonnull_domain dom = clt_lookup_test(c, &o);
    remote_domain_suspend_args sa = { dom };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_SUSPEND, &sa, NULL, &o),
             0);
    remote_domain_resume_args re = { dom };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_RESUME, &re, NULL, &o),
             0);
    uint64_t end = vt_now_ms() + 10000;
    int sus = 0, res = 0;
    while (vt_now_ms() < end && !(sus && res)) {
        pthread_mutex_lock(&s.m);
        sus = s.suspended;
        res = s.resumed;
        pthread_mutex_unlock(&s.m);
        vt_sleep_ms(5);
    }
    CHECK(sus == 1 && res == 1);
    remote_connect_domain_event_callback_deregister_any_args dr = { rr.callbackID };
    CHECK_RC(virtwire_client_call(c, &remote_program,
                                  REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, &dr,
                                  NULL, &o), 0);
    CHECK_RC(virtwire_client_remove_event(c, id), 0);
    virtwire_arena_fini(&a);
}

/* A whole connection: opens uri, checks that the remote side runs name
 * (virt-ssh-helper, nc) with want_args in its command line, then calls,
 * events and a stream; nothing left after the close. */
static void full_session(const char *uri, const char *name, const char *want_args)
{
    vt_context("%s", uri);
    int fds = vt_count_fds(0);
    virtwire_client *c = NULL;
    CHECK_RC(connect_uri(uri, 0, &c), 0);
    if (!c)
        return;
    char args[1024] = "";
    long pid = remote_process(name, args, sizeof args);
    CHECK_MSG(pid > 0, "no %s under our sshd", name);
    CHECK_MSG(!want_args || strstr(args, want_args), "%s runs as '%s', want '%s'", name, args,
              want_args);
    check_calls(c);
    check_events(c);
    clt_check_screenshot(c, 10000);
    CHECK(virtwire_client_error(c) == 0);
    virtwire_client_close(c);
    check_no_child("after close");
    CHECK_INT(vt_count_fds(0), fds);
    vt_context("%s", "");
}

/* A read-only connection: calls work, a change is refused by the daemon
 * (the helper's -r picks the read-only socket, or the open flag does). */
static void readonly_session(const char *uri, const char *name, const char *want_args)
{
    vt_context("read-only %s", uri);
    virtwire_client *c = NULL;
    CHECK_RC(connect_uri(uri, VIRTWIRE_CLIENT_READONLY, &c), 0);
    if (!c)
        return;
    char args[1024] = "";
    CHECK(remote_process(name, args, sizeof args) > 0);
    CHECK_MSG(!want_args || strstr(args, want_args), "%s runs as '%s', want '%s'", name, args,
              want_args);
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts o = { .size = sizeof o, .arena = &a, .timeout_ms = 10000, .error = &err };
    remote_domain_suspend_args sa = { clt_lookup_test(c, &o) };
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_SUSPEND, &sa, NULL, &o),
             VIRTWIRE_EREMOTE);
    CHECK_MSG(err.message && strstr(*err.message, "read only"), "refusal: %s",
              err.message ? *err.message : "(none)");
    virtwire_arena_fini(&a);
    virtwire_client_close(c);
    check_no_child("after a read-only close");
    vt_context("%s", "");
}

/* A connection that must fail with rc and errbuf holding want. */
static void failed_session(const char *uri, int want_rc, const char *want)
{
    vt_context("%s", uri);
    int fds = vt_count_fds(0);
    virtwire_client *c = (virtwire_client *)1;
    uint64_t t = vt_now_ms();
    errbuf[0] = 0;
    virtwire_client_options o = { .size = sizeof o, .open_timeout_ms = 20000,
                                  .errbuf = errbuf, .errbuf_len = sizeof errbuf };
    int rc = virtwire_client_connect(uri, &o, &c);
    CHECK_MSG(rc == want_rc, "rc %s, want %s (%s)", virtwire_error_name(rc),
              virtwire_error_name(want_rc), errbuf);
    CHECK(c == NULL);
    if (rc == 0 && c)
        virtwire_client_close(c);
    CHECK_MSG(strstr(errbuf, want), "errbuf '%s' lacks '%s'", errbuf, want);
    CHECK_MSG(vt_now_ms() - t < 15000, "took %llu ms", (unsigned long long)(vt_now_ms() - t));
    printf("  %s\n    -> %s\n", uri, errbuf);
    check_no_child("after a failed connect");
    CHECK_INT(vt_count_fds(0), fds);
    vt_context("%s", "");
}

/* One of libvirt's words for a channel that ended, before ssh's. */
static void check_libvirt_words(void)
{
    CHECK_MSG(strncmp(errbuf, "End of file while reading data: ", 32) == 0 ||
                  strncmp(errbuf, "Cannot recv data: ", 18) == 0 ||
                  strncmp(errbuf, "Cannot write data: ", 19) == 0,
              "errbuf '%s'", errbuf);
}

/* ------------------------------------------------------------------------ */
/* Groups                                                                   */
/* ------------------------------------------------------------------------ */

static void group_helper(void)
{
    char uri[1024];
    /* ?proxy=native with ?socket=: libvirt 11.3.0 gives the helper the
     * socket; the helper of libvirt 9.0.0 installed here picks the system
     * socket, which is the same daemon on the "remote" host. */
    snprintf(uri, sizeof uri,
             "test+ssh://root@127.0.0.1:%d/default?keyfile=%s&socket=%s&proxy=native&command=%s",
             sshd.port, sshd.key, lvd.sock, sshd.ssh);
    full_session(uri, "virt-ssh-helper", "virt-ssh-helper test:///default?socket=");
    readonly_session(uri, "virt-ssh-helper", "virt-ssh-helper -r test:///default");

    /* ssh found in PATH, its configuration file choosing host, port, user
     * and key (no -p, -l or -i of ours); proxy=auto by default (root, no
     * socket): the helper, given the name alone. */
    char path[4096];
    snprintf(path, sizeof path, "%s:%s", sshd.bin, getenv("PATH") ? getenv("PATH") : "/usr/bin");
    char *old = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", path, 1);
    full_session("test+ssh://vwtest/default", "virt-ssh-helper", "virt-ssh-helper test:///default");
    readonly_session("test+ssh://vwtest/default", "virt-ssh-helper",
                     "virt-ssh-helper -r test:///default");
    setenv("PATH", old, 1);
    free(old);
}

static void group_netcat(void)
{
    /* The ways to nc: the query between socket= and command= (and after). */
    static const struct {
        int nohelper; /* the key of the host without virt-ssh-helper */
        const char *opts, *tail;
    } ways[] = {
        { 0, "", "" },                               /* ?socket= alone: libvirt picks netcat */
        { 0, "&proxy=netcat", "&no_tty=1" },         /* asked for */
        { 1, "&proxy=auto", "" },                    /* no virt-ssh-helper on the host */
        { 0, "&netcat=/usr/bin/nc&proxy=auto", "" }, /* named (auto with netcat: netcat) */
    };
    char want[512];
    snprintf(want, sizeof want, "-U %s", lvd.sock);
    for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++) {
        char uri[1024];
        snprintf(uri, sizeof uri,
                 "test+ssh://root@127.0.0.1:%d/default?keyfile=%s&socket=%s%s&command=%s%s",
                 sshd.port, ways[i].nohelper ? sshd.nohelper_key : sshd.key, lvd.sock,
                 ways[i].opts, sshd.ssh, ways[i].tail);
        full_session(uri, "nc", want);
        if (i == 0)
            readonly_session(uri, "nc", want);
    }
}

static void group_errors(void)
{
    char uri[1024];
    /* An unknown host key with BatchMode: ssh refuses, and says so. */
    snprintf(uri, sizeof uri,
             "test+ssh://root@127.0.0.1:%d/default?keyfile=%s&no_tty=1&command=%s", sshd.port,
             sshd.key, sshd.unknown_ssh);
    failed_session(uri, VIRTWIRE_ECLOSED, "Host key verification failed.");
    check_libvirt_words();
    /* ... unless no_verify=1 (StrictHostKeyChecking=no). */
    snprintf(uri, sizeof uri,
             "test+ssh://root@127.0.0.1:%d/default?keyfile=%s&no_tty=1&no_verify=1&command=%s",
             sshd.port, sshd.key, sshd.unknown_ssh);
    virtwire_client *c = NULL;
    CHECK_RC(connect_uri(uri, 0, &c), 0);
    if (c) {
        check_calls(c);
        virtwire_client_close(c);
    }
    check_no_child("after no_verify");

    /* A key the host does not know. */
    char hostkey[256];
    snprintf(hostkey, sizeof hostkey, "%s/host_key", sshd.dir);
    snprintf(uri, sizeof uri,
             "test+ssh://root@127.0.0.1:%d/default?keyfile=%s&no_tty=1&command=%s", sshd.port,
             hostkey, sshd.ssh);
    failed_session(uri, VIRTWIRE_ECLOSED, "Permission denied (publickey)");
    check_libvirt_words();

    /* No virt-ssh-helper on the host, and native asked for: the remote
     * shell's words. */
    snprintf(uri, sizeof uri,
             "test+ssh://root@127.0.0.1:%d/default?keyfile=%s&proxy=native&command=%s",
             sshd.port, sshd.nohelper_key, sshd.ssh);
    failed_session(uri, VIRTWIRE_ECLOSED, "virt-ssh-helper: not found");
    check_libvirt_words();
    /* No nc there either with netcat=. */
    snprintf(uri, sizeof uri,
             "test+ssh://root@127.0.0.1:%d/default?keyfile=%s&socket=/x&netcat=/nonexistent/nc"
             "&command=%s",
             sshd.port, sshd.key, sshd.ssh);
    failed_session(uri, VIRTWIRE_ECLOSED, "/nonexistent/nc: not found");

    /* An "ssh" that exits at once, with nothing to say. */
    failed_session("test+ssh://h/default?command=/bin/true", VIRTWIRE_ECLOSED,
                   "/bin/true exited with status 0");
    failed_session("test+ssh://h/default?command=/bin/false", VIRTWIRE_ECLOSED,
                   "/bin/false exited with status 1");
    /* No ssh at all. */
    failed_session("test+ssh://h/default?command=/nonexistent/ssh", VIRTWIRE_EIO,
                   "Cannot find '/nonexistent/ssh' in path: No such file or directory");
    char *old = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", "/nonexistent", 1);
    failed_session("test+ssh://h/default", VIRTWIRE_EIO, "Cannot find 'ssh' in path");
    setenv("PATH", old, 1);
    free(old);

    /* Refused before anything runs, in libvirt's words. */
    failed_session("test+ssh://h/default?mode=direct&command=/bin/true", VIRTWIRE_EURI_SOCKET,
                   "Cannot use direct socket mode for ssh transport");
    failed_session("test+ssh://h/default?proxy=native&netcat=nc&command=/bin/true",
                   VIRTWIRE_EURI_PARAM, "netcat path not valid with native proxy mode");
    failed_session("test+libssh://h/default", VIRTWIRE_EUNSUPPORTED_TRANSPORT, "use '+ssh'");
    failed_session("test+libssh2://h/default", VIRTWIRE_EUNSUPPORTED_TRANSPORT, "use '+ssh'");
    failed_session("test+ext:///default", VIRTWIRE_EURI_PARAM,
                   "for 'ext' transport, command is required");
    failed_session("test+ssh://h/default?command=/bin/true", VIRTWIRE_ECLOSED, "exited");
}

static void group_cycles(void)
{
    char uri[1024];
    snprintf(uri, sizeof uri,
             "test+ssh://root@127.0.0.1:%d/default?keyfile=%s&no_tty=1&command=%s", sshd.port,
             sshd.key, sshd.ssh);
    /* One first: whatever the runtime keeps for good is there. */
    virtwire_client *c = NULL;
    CHECK_RC(connect_uri(uri, 0, &c), 0);
    virtwire_client_close(c);
    int fds = vt_count_fds(0);
    uint64_t t = vt_now_ms();
    int ok = 0;
    for (int i = 0; i < CYCLES; i++) {
        c = NULL;
        if (connect_uri(uri, 0, &c) != 0)
            continue;
        virtwire_arena a = VIRTWIRE_ARENA_INIT;
        virtwire_call_opts o = { .size = sizeof o, .arena = &a, .timeout_ms = 10000 };
        if (virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL,
                                 NULL, &o) == 0)
            ok++;
        virtwire_arena_fini(&a);
        virtwire_client_close(c);
        int st;
        errno = 0;
        if (waitpid(-1, &st, WNOHANG) >= 0 || errno != ECHILD)
            FAIL("cycle %d left a child", i);
    }
    CHECK_INT(ok, CYCLES);
    printf("%d connections over ssh in %llu ms\n", CYCLES, (unsigned long long)(vt_now_ms() - t));
    check_no_child("after the cycles");
    CHECK_INT(vt_count_fds(0), fds);
    /* Nor on the remote side: every helper has ended. */
    uint64_t end = vt_now_ms() + 5000;
    while (remote_process("virt-ssh-helper", NULL, 0) > 0 && vt_now_ms() < end)
        vt_sleep_ms(20);
    CHECK(remote_process("virt-ssh-helper", NULL, 0) < 0);
}

static void group_ext(void)
{
    /* A local command that is the channel: nc to the daemon's socket. */
    char script[256], text[512], uri[512];
    snprintf(script, sizeof script, "%s/ext-proxy", sshd.dir);
    snprintf(text, sizeof text, "#!/bin/sh\nexec nc -U '%s'\n", lvd.sock);
    FILE *f = fopen(script, "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
    chmod(script, 0755);
    snprintf(uri, sizeof uri, "test+ext:///default?command=%s", script);
    int fds = vt_count_fds(0);
    virtwire_client *c = NULL;
    CHECK_RC(connect_uri(uri, 0, &c), 0);
    if (c) {
        check_calls(c);
        check_events(c);
        clt_check_screenshot(c, 10000);
        virtwire_client_close(c);
    }
    check_no_child("after ext");
    CHECK_INT(vt_count_fds(0), fds);
    /* A command that says why it stops. */
    snprintf(script, sizeof script, "%s/ext-refuses", sshd.dir);
    f = fopen(script, "w");
    REQUIRE(f != NULL);
    fputs("#!/bin/sh\necho 'ext-refuses: no tunnel today' >&2\nexit 3\n", f);
    fclose(f);
    chmod(script, 0755);
    snprintf(uri, sizeof uri, "test+ext:///default?command=%s", script);
    failed_session(uri, VIRTWIRE_ECLOSED, "ext-refuses: no tunnel today");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s PRIVATE_LIBVIRTD PRIVATE_SSHD GROUP\n", argv[0]);
        return 2;
    }
    if (!vt_sshd_usable()) {
        printf("skipped: no private sshd here\n");
        return 77;
    }
    vt_libvirtd_start(&lvd, argv[1], 0);
    vt_sshd_start(&sshd, argv[2], &lvd);
    /* What an application may have done (after starting the daemons, which
     * would inherit it): SIGPIPE ignored, SIGTERM blocked.  The child gets
     * neither, and is still ended by SIGTERM. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    static const struct {
        const char *name;
        void (*run)(void);
    } groups[] = {
        { "helper", group_helper }, { "netcat", group_netcat }, { "errors", group_errors },
        { "cycles", group_cycles }, { "ext", group_ext },
    };
    int ran = 0;
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        if (strcmp(argv[3], groups[i].name) != 0)
            continue;
        uint64_t t = vt_now_ms();
        groups[i].run();
        printf("%s: %llu ms\n", groups[i].name, (unsigned long long)(vt_now_ms() - t));
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "no group %s\n", argv[3]);
        return 2;
    }
    vt_sshd_stop(&sshd);
    vt_libvirtd_stop(&lvd);
    char name[64];
    snprintf(name, sizeof name, "client.ssh.%s", argv[3]);
    return vt_finish(name);
}
