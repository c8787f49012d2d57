/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client over TLS (libvirtwire_tls's opener) against real libvirtd
 * 9.0.0 daemons listening with TLS (listen_tls), with certificates made by
 * certtool (tests/lib/make-pki), each case run by virsh too: virsh must
 * succeed or fail where we do, and where libvirt's client has words for
 * the failure ours are the same.
 *
 *   daemon A: server certificate for DNS localhost only, client
 *             certificates required (libvirtd's default)
 *   daemon B: an expired server certificate (tls_no_sanity_certificate)
 *   daemon C: a revoked server certificate, tls_allowed_dn_list
 *             "C=GB,O=virtwire,CN=*"
 *
 * Cases: connecting and calling (a domain of 200 KB of XML defined and
 * read back: records both ways; 3000 calls pipelined 64 at a time, none
 * held up by libvirtd's reading), TLS 1.2 through tls_priority, an unknown
 * CA, a wrong host name, no_verify=1, an expired and a revoked server
 * certificate, no client certificate, a client certificate refused by
 * libvirtd's DN list, our own certificate failing the sanity checks and
 * no_sanity=1, a missing pkipath, a bad priority string, the default port;
 * no fd left behind by 20 connections.
 *
 *   test_tls_libvirtd PRIVATE_LIBVIRTD_SCRIPT MAKE_PKI_SCRIPT
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "remote_protocol_client.h"
#include "virtwire_client.h"
#include "virtwire_tls.h"
#include "vt_check.h"
#include "vt_daemon.h"
#include "vt_sys.h"

static char pki[128];
static vt_libvirtd dA, dB, dC;

/* What virsh says: its exit status and its standard error. */
typedef struct virsh_result {
    int ok;
    char err[2048];
} virsh_result;

static void virsh(const char *uri, const char *cmd, virsh_result *r)
{
    char line[2048];
    snprintf(line, sizeof line, "virsh -q -c '%s' %s 2>&1 >/dev/null", uri, cmd);
    FILE *p = popen(line, "r");
    size_t n = 0;
    r->err[0] = 0;
    if (p) {
        n = fread(r->err, 1, sizeof r->err - 1, p);
        r->err[n] = 0;
        r->ok = pclose(p) == 0;
    } else {
        r->ok = -1;
    }
}

/* Connects to uri with the TLS opener: the code, the message in why. */
static int connect_tls(const char *uri, char *why, size_t len, virtwire_client **out)
{
    virtwire_client_options o = { .size = sizeof o, .tls = &virtwire_tls_opener, .errbuf = why,
                                  .errbuf_len = len, .open_timeout_ms = 20000 };
    return virtwire_client_connect(uri, &o, out);
}

static void uri_of(char *buf, size_t n, const vt_libvirtd *d, const char *host, const char *dir,
                   const char *extra)
{
    snprintf(buf, n, "test+tls://%s:%d/default?pkipath=%s/%s%s", host, d->tls_port, pki, dir,
             extra ? extra : "");
}

/*
 * One failure: our code is want, our message contains each of the
 * NULL-terminated words; virsh fails too, and when same is set its
 * message (after "error: ") is ours.
 */
static void expect_failure(const char *uri, int want, int same, const char *const *words)
{
    vt_context("%s", uri);
    char why[1024] = "";
    virtwire_client *c = NULL;
    int rc = connect_tls(uri, why, sizeof why, &c);
    CHECK_RC(rc, want);
    CHECK(c == NULL);
    if (c)
        virtwire_client_close(c);
    for (size_t i = 0; words[i]; i++)
        CHECK_MSG(strstr(why, words[i]) != NULL, "'%s' not in '%s'", words[i], why);
    virsh_result v;
    virsh(uri, "hostname", &v);
    CHECK_MSG(v.ok == 0, "virsh succeeded where we failed: %s", why);
    if (same) {
        char want_line[1200];
        snprintf(want_line, sizeof want_line, "error: %s\n", why);
        CHECK_MSG(strstr(v.err, want_line) != NULL, "virsh said '%s', we said '%s'", v.err, why);
    }
    vt_context("%s", "");
}

/* One success: connected, and a call answered as virsh answers it. */
static void expect_success(const char *uri)
{
    vt_context("%s", uri);
    char why[1024] = "";
    virtwire_client *c = NULL;
    CHECK_RC(connect_tls(uri, why, sizeof why, &c), 0);
    CHECK_STR(why, "");
    if (c) {
        remote_connect_get_hostname_ret h = { 0 };
        virtwire_call_opts o = { .size = sizeof o, .timeout_ms = 10000 };
        CHECK_RC(remote_call_connect_get_hostname(c, &h, &o), 0);
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        CHECK(h.hostname && strncmp(h.hostname, host, strlen(host)) == 0);
        remote_connect_get_hostname_ret_free(&h);
        virtwire_client_close(c);
    }
    virsh_result v;
    virsh(uri, "hostname", &v);
    CHECK_MSG(v.ok == 1, "virsh failed where we succeeded: %s", v.err);
    vt_context("%s", "");
}

/* 200 KB of XML both ways: many records each way, compared with what
 * virsh reads back over TLS. */
static void test_big_values(void)
{
    char uri[512];
    uri_of(uri, sizeof uri, &dA, "localhost", "cli", NULL);
    char why[1024] = "";
    virtwire_client *c = NULL;
    CHECK_RC(connect_tls(uri, why, sizeof why, &c), 0);
    if (!c)
        return;
    size_t desc_len = 200 * 1024;
    char *xml = malloc(desc_len + 1024);
    REQUIRE(xml);
    int n = snprintf(xml, 1024,
                     "<domain type='test'><name>vwtls</name><memory>1024</memory>"
                     "<os><type>hvm</type></os><description>");
    for (size_t i = 0; i < desc_len; i++)
        xml[n + i] = (char)('a' + i % 26);
    snprintf(xml + n + desc_len, 1024, "</description></domain>");
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = 20000,
                             .error = &err };
    remote_domain_define_xml_args da = { .xml = xml };
    remote_domain_define_xml_ret dr;
    CHECK_RC(remote_call_domain_define_xml(c, &da, &dr, &o), 0);
    remote_domain_get_xml_desc_args ga = { .dom = dr.dom, .flags = 0 };
    remote_domain_get_xml_desc_ret gr;
    CHECK_RC(remote_call_domain_get_xml_desc(c, &ga, &gr, &o), 0);
    /* "<description>" and the text, as sent. */
    xml[n + desc_len] = 0;
    CHECK(gr.xml && strstr(gr.xml, xml + n - 13) != NULL);
    /* virsh reads the same over TLS while we hold test:///default's state. */
    char line[1024];
    snprintf(line, sizeof line, "virsh -q -c '%s' dumpxml vwtls", uri);
    FILE *p = popen(line, "r");
    size_t cap = desc_len + 65536, len = 0;
    char *theirs = malloc(cap);
    REQUIRE(theirs);
    if (p) {
        size_t k;
        while ((k = fread(theirs + len, 1, cap - 1 - len, p)) > 0)
            len += k;
        pclose(p);
    }
    theirs[len] = 0;
    CHECK_MSG(gr.xml && strcmp(gr.xml, theirs) == 0, "our dumpxml (%zu bytes) differs from virsh's (%zu)",
              gr.xml ? strlen(gr.xml) : 0, len);
    remote_domain_undefine_args ua = { .dom = dr.dom };
    CHECK_RC(remote_call_domain_undefine(c, &ua, &o), 0);
    free(theirs);
    free(xml);
    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
}

/* Pipelined calls: 64 in flight, far more than libvirtd's
 * max_client_requests (5).  libvirtd reads one frame at a time and, at its
 * limit, waits for the socket without looking at what GnuTLS still holds
 * decrypted: a record carrying two frames would leave the second waiting
 * for the next bytes to arrive, the daemon's keepalive PING 5 s later.
 * Each call must be answered well before that. */
typedef struct pipe_state {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int sent, done, failed, inflight;
    uint64_t slowest_ms;
    uint64_t sent_at[64];
} pipe_state;

typedef struct pipe_slot {
    pipe_state *st;
    int idx;
    virtwire_client *c;
} pipe_slot;

#define PIPE_CALLS 3000

static void pipe_done(virtwire_client *c, const virtwire_call_result *r, void *opaque);

static int pipe_send(pipe_slot *s)
{
    s->st->sent_at[s->idx] = vt_now_ms();
    return remote_call_connect_get_lib_version_async(s->c, NULL, pipe_done, s);
}

static void pipe_done(virtwire_client *c, const virtwire_call_result *r, void *opaque)
{
    pipe_slot *s = opaque;
    pipe_state *st = s->st;
    (void)c;
    uint64_t took = vt_now_ms() - st->sent_at[s->idx];
    pthread_mutex_lock(&st->lock);
    if (took > st->slowest_ms)
        st->slowest_ms = took;
    if (r->rc < 0)
        st->failed++;
    st->done++;
    int again = st->sent < PIPE_CALLS && !st->failed;
    if (again)
        st->sent++;
    pthread_mutex_unlock(&st->lock);
    if (again && pipe_send(s) == 0)
        return;
    pthread_mutex_lock(&st->lock);
    st->inflight--;
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&st->lock);
}

static void test_pipelined(void)
{
    char uri[512], why[512];
    uri_of(uri, sizeof uri, &dA, "localhost", "cli", NULL);
    virtwire_client *c = NULL;
    CHECK_RC(connect_tls(uri, why, sizeof why, &c), 0);
    if (!c)
        return;
    pipe_state st = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
    pipe_slot slots[64];
    uint64_t t0 = vt_now_ms();
    pthread_mutex_lock(&st.lock);
    st.inflight = 64;
    st.sent = 64;
    pthread_mutex_unlock(&st.lock);
    for (int i = 0; i < 64; i++) {
        slots[i] = (pipe_slot){ &st, i, c };
        if (pipe_send(&slots[i]) < 0) {
            pthread_mutex_lock(&st.lock);
            st.failed++;
            st.inflight--;
            pthread_mutex_unlock(&st.lock);
        }
    }
    pthread_mutex_lock(&st.lock);
    while (st.inflight > 0)
        pthread_cond_wait(&st.cond, &st.lock);
    pthread_mutex_unlock(&st.lock);
    CHECK_INT(st.failed, 0);
    CHECK_INT(st.done, PIPE_CALLS);
    CHECK_MSG(st.slowest_ms < 4000, "the slowest pipelined call took %llu ms (%d calls in %llu ms)",
              (unsigned long long)st.slowest_ms, st.done, (unsigned long long)(vt_now_ms() - t0));
    virtwire_client_close(c);
}

/* Whether nothing listens on port of 127.0.0.1 (and ::1). */
static int port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PRIVATE_LIBVIRTD MAKE_PKI\n", argv[0]);
        return 2;
    }
    vt_make_pki(argv[2], pki, sizeof pki);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/srv-dns", pki);
    vt_libvirtd_start_tls(&dA, argv[1], &(vt_libvirtd_tls){ .pki = dir });
    char dirB[256];
    snprintf(dirB, sizeof dirB, "%s/srv-expired", pki);
    vt_libvirtd_start_tls(&dB, argv[1], &(vt_libvirtd_tls){ .pki = dirB, .no_sanity = 1 });
    char dirC[256];
    snprintf(dirC, sizeof dirC, "%s/srv-revoked", pki);
    vt_libvirtd_start_tls(&dC, argv[1],
                          &(vt_libvirtd_tls){ .pki = dirC, .allowed_dn = "C=GB,O=virtwire,CN=*" });
    int fds_before = vt_count_fds(0);
    char uri[512];

    /* Connecting, with TLS 1.3 (GnuTLS's NORMAL) and with TLS 1.2. */
    uri_of(uri, sizeof uri, &dA, "localhost", "cli", NULL);
    expect_success(uri);
    uri_of(uri, sizeof uri, &dA, "localhost", "cli", "&tls_priority=NORMAL:-VERS-TLS1.3");
    expect_success(uri);
    test_big_values();
    test_pipelined();

    /* The server's certificate: unknown CA, wrong host, expired, revoked. */
    uri_of(uri, sizeof uri, &dA, "localhost", "cli-otherca", NULL);
    expect_failure(uri, VIRTWIRE_EAUTH, 0,
                   (const char *const[]){ "Failed to verify peer's certificate: ",
                                          "Certificate failed validation: The certificate "
                                          "hasn't got a known issuer.", NULL });
    uri_of(uri, sizeof uri, &dA, "127.0.0.1", "cli", NULL);
    expect_failure(uri, VIRTWIRE_EAUTH, 0,
                   (const char *const[]){ "Failed to verify peer's certificate: Certificate "
                                          "[session] owner does not match the hostname 127.0.0.1",
                                          NULL });
    uri_of(uri, sizeof uri, &dB, "localhost", "cli", NULL);
    expect_failure(uri, VIRTWIRE_EAUTH, 0,
                   (const char *const[]){ "Failed to verify peer's certificate: Certificate "
                                          "failed validation: The certificate has expired.",
                                          NULL });
    uri_of(uri, sizeof uri, &dC, "localhost", "cli-crl", NULL);
    expect_failure(uri, VIRTWIRE_EAUTH, 0,
                   (const char *const[]){ "Failed to verify peer's certificate: Certificate "
                                          "failed validation: The certificate has been revoked.",
                                          NULL });

    /* no_verify=1: the server's certificate is not held against it. */
    uri_of(uri, sizeof uri, &dA, "127.0.0.1", "cli", "&no_verify=1");
    expect_success(uri);
    uri_of(uri, sizeof uri, &dB, "localhost", "cli", "&no_verify=1");
    expect_success(uri);

    /* The server refuses us: no certificate, a DN not on its list, a
     * certificate from a CA it does not know. */
    uri_of(uri, sizeof uri, &dA, "localhost", "cli-nocert", NULL);
    char nocert[300];
    snprintf(nocert, sizeof nocert, "we sent no client certificate (none at %s/cli-nocert/clientcert.pem)", pki);
    expect_failure(uri, VIRTWIRE_EAUTH, 0,
                   (const char *const[]){ "server verification (of our certificate or IP "
                                          "address) failed: the server closed the connection",
                                          nocert, NULL });
    uri_of(uri, sizeof uri, &dC, "localhost", "cli-intruder", "&no_verify=1");
    expect_failure(uri, VIRTWIRE_EAUTH, 0,
                   (const char *const[]){ "server verification (of our certificate or IP "
                                          "address) failed: the server closed the connection "
                                          "instead of confirming", NULL });
    uri_of(uri, sizeof uri, &dA, "localhost", "cli-otherca", "&no_verify=1");
    expect_failure(uri, VIRTWIRE_EAUTH, 0,
                   (const char *const[]){ "server verification (of our certificate or IP "
                                          "address) failed", NULL });

    /* Our own files: libvirt's words, exactly. */
    uri_of(uri, sizeof uri, &dA, "localhost", "cli-mixed", NULL);
    char mixed[600];
    snprintf(mixed, sizeof mixed,
             "Our own certificate %s/cli-mixed/clientcert.pem failed validation against "
             "%s/cli-mixed/cacert.pem: The certificate hasn't got a known issuer.", pki, pki);
    expect_failure(uri, VIRTWIRE_EINVAL, 1, (const char *const[]){ mixed, NULL });
    /* no_sanity=1 skips that check; the server's certificate then fails. */
    uri_of(uri, sizeof uri, &dA, "localhost", "cli-mixed", "&no_sanity=1");
    expect_failure(uri, VIRTWIRE_EAUTH, 0,
                   (const char *const[]){ "The certificate hasn't got a known issuer.", NULL });
    snprintf(uri, sizeof uri, "test+tls://localhost:%d/default?pkipath=%s/nonexistent",
             dA.tls_port, pki);
    char missing[300];
    snprintf(missing, sizeof missing,
             "Cannot read CA certificate '%s/nonexistent/cacert.pem': No such file or directory",
             pki);
    expect_failure(uri, VIRTWIRE_EIO, 1, (const char *const[]){ missing, NULL });
    uri_of(uri, sizeof uri, &dA, "localhost", "cli", "&tls_priority=BOGUS");
    expect_failure(uri, VIRTWIRE_EINVAL, 1,
                   (const char *const[]){ "Failed to set TLS session priority to BOGUS: ", NULL });

    /* The default port, 16514, as libvirt's (when nothing listens there). */
    if (port_free(16514)) {
        snprintf(uri, sizeof uri, "test+tls://localhost/default?pkipath=%s/cli", pki);
        expect_failure(uri, VIRTWIRE_EIO, 1,
                       (const char *const[]){ "unable to connect to server at 'localhost:16514'",
                                              NULL });
    }

    /* 20 connections leave no fd behind. */
    for (int i = 0; i < 20; i++) {
        char why[512];
        virtwire_client *c = NULL;
        /* Every other one refused by the server (no certificate). */
        uri_of(uri, sizeof uri, &dA, "localhost", i % 2 ? "cli-nocert" : "cli", NULL);
        CHECK_RC(connect_tls(uri, why, sizeof why, &c), i % 2 ? VIRTWIRE_EAUTH : 0);
        virtwire_client_close(c);
    }
    CHECK_INT(vt_count_fds(0), fds_before);

    vt_libvirtd_stop(&dA);
    vt_libvirtd_stop(&dB);
    vt_libvirtd_stop(&dC);
    vt_pki_remove(pki);
    return vt_finish("tls.libvirtd");
}
