/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sasl layer of the bad-input catalogue: libvirtwire_sasl against
 * scripted peers that run a real Cyrus SASL session of their own (a private
 * SASL configuration and sasldb made here, user alice) and misbehave at one
 * chosen point.
 *
 * `sasl client`: our client (virtwire_client_connect() with the SASL
 * method, credentials alice/alicepw) against a scripted daemon on a
 * loopback TCP port.  The daemon answers AUTH_LIST, AUTH_SASL_INIT, _START
 * and _STEP honestly (DIGEST-MD5 or SCRAM-SHA-256, libvirtd's security
 * properties on TCP) except the call the setup names, which it answers
 * with the case's input instead; then it waits for the client to hang up.
 * Setup words: `at=init|start|step|step2|after` (the first INIT, START,
 * first or second STEP, or the first call after the authentication
 * completed, read through the security layer), `mech=NAME` (the URI's
 * auth=sasl.NAME), `withhold` (the daemon says complete=0 once its SASL
 * session has completed).  State `failed "MESSAGE"`: connecting returns
 * CODE, leaves no client, and its error message starts with MESSAGE; the
 * daemon sees end of file.
 *
 * `sasl server`: a virtwire_server whose listener offers SASL only
 * (libvirtwire_session's AUTH_LIST, libvirtwire_sasl's handlers, allowed
 * user alice), on a unix socket (SCRAM-SHA-256, no layer) or with setup
 * word `tcp` on loopback TCP (DIGEST-MD5 with its layer).  Setup word
 * `authenticated`: the scripted client authenticates first, and the input
 * then goes through the security layer (unless `raw`).  States as the
 * server layer's (replied, silent, closed), then a call of
 * CONNECT_GET_LIB_VERSION must get its answer when the client is
 * authenticated and libvirtd's "authentication required" otherwise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "remote_protocol.h"
#include "run.h"
#include "virtwire_client.h"
#include "virtwire_sasl.h"
#include "virtwire_session_server.h"
#include "vt_frame.h"
#include "vt_sys.h"

#define USER "alice"
#define PASS "alicepw"
#define MAXBUF 65536
#define PROC_LIB_VERSION REMOTE_PROC_CONNECT_GET_LIB_VERSION
#define LIB_VERSION 42

/* ------------------------------------------------------------------------ */
/* The SASL configuration of the scripted peers                            */
/* ------------------------------------------------------------------------ */

static char conf_dir[512];

static void remove_conf(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/libvirt.conf", conf_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/passwd.db", conf_dir);
    unlink(p);
    rmdir(conf_dir);
}

/* Once: a SASL configuration directory (SASL_CONF_PATH) with DIGEST-MD5 and
 * SCRAM-SHA-256 and a sasldb holding alice; Cyrus SASL initialised on both
 * sides (the library's own initialisations then only count up). */
static int prepare(void)
{
    static int done, ok;
    if (done)
        return ok;
    done = 1;
    const char *tmp = getenv("TMPDIR");
    snprintf(conf_dir, sizeof conf_dir, "%s/vw-bi-sasl-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(conf_dir))
        return 0;
    atexit(remove_conf);
    char p[600];
    snprintf(p, sizeof p, "%s/libvirt.conf", conf_dir);
    FILE *f = fopen(p, "w");
    if (!f)
        return 0;
    fprintf(f, "mech_list: digest-md5 scram-sha-256\nsasldb_path: %s/passwd.db\n", conf_dir);
    fclose(f);
    setenv("SASL_CONF_PATH", conf_dir, 1);
    if (sasl_server_init(NULL, "libvirt") != SASL_OK || sasl_client_init(NULL) != SASL_OK)
        return 0;
    sasl_conn_t *conn = NULL;
    int rc = sasl_server_new("libvirt", NULL, NULL, NULL, NULL, NULL, 0, &conn);
    if (rc == SASL_OK)
        rc = sasl_setpass(conn, USER, PASS, (unsigned)strlen(PASS), NULL, 0, SASL_SET_CREATE);
    if (conn)
        sasl_dispose(&conn);
    ok = rc == SASL_OK;
    return ok;
}

/* "IP;port" of a socket's end, as SASL wants it. */
static void sasl_addr(int fd, int peer, char *buf, size_t len)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    memset(&sa, 0, sizeof sa);
    int rc = peer ? getpeername(fd, (struct sockaddr *)&sa, &sl)
                  : getsockname(fd, (struct sockaddr *)&sa, &sl);
    if (rc < 0 || sa.sin_family != AF_INET) {
        snprintf(buf, len, "127.0.0.1;0"); /* libvirt's for a unix socket */
        return;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
    snprintf(buf, len, "%s;%d", ip, ntohs(sa.sin_port));
}

/* libvirtd's security properties: none needed on a secure channel, an SSF
 * of 56 and no anonymous or plaintext mechanism on plain TCP. */
static int set_props(sasl_conn_t *conn, int secure)
{
    sasl_security_properties_t sp = {
        .min_ssf = secure ? 0 : 56,
        .max_ssf = secure ? 0 : 100000,
        .maxbufsize = MAXBUF,
        .security_flags = secure ? 0 : SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT,
    };
    return sasl_setprop(conn, SASL_SEC_PROPS, &sp);
}

static unsigned layer_ssf(sasl_conn_t *conn)
{
    const void *v = NULL;
    return sasl_getprop(conn, SASL_SSF, &v) == SASL_OK && v ? *(const unsigned *)v : 0;
}

/* Reads one security-layer packet from fd and appends its clear bytes to
 * out.  0, or -1 (end of file, timeout, a packet that does not decode). */
static int read_packet(int fd, sasl_conn_t *conn, vt_buf *out)
{
    unsigned char len[4];
    if (vt_read_exact(fd, len, 4, 5000) < 0)
        return -1;
    uint32_t n = vt_get32(len);
    if (n == 0 || n > MAXBUF)
        return -1;
    unsigned char *pkt = malloc(4 + n);
    memcpy(pkt, len, 4);
    int rc = vt_read_exact(fd, pkt + 4, n, 5000);
    const char *clear = NULL;
    unsigned clear_len = 0;
    if (rc == 0 && sasl_decode(conn, (const char *)pkt, 4 + n, &clear, &clear_len) != SASL_OK)
        rc = -1;
    if (rc == 0)
        vt_buf_add(out, clear, clear_len);
    free(pkt);
    return rc;
}

/* Writes bytes through the layer, in packets of at most its SASL_MAXOUTBUF
 * raw bytes.  0 or -1. */
static int write_encoded(int fd, sasl_conn_t *conn, const unsigned char *p, size_t len)
{
    const void *v = NULL;
    if (sasl_getprop(conn, SASL_MAXOUTBUF, &v) != SASL_OK || !v || !*(const unsigned *)v)
        return -1;
    unsigned max = *(const unsigned *)v;
    while (len) {
        unsigned n = len < max ? (unsigned)len : max;
        const char *enc = NULL;
        unsigned enc_len = 0;
        if (sasl_encode(conn, (const char *)p, n, &enc, &enc_len) != SASL_OK ||
            vt_write_all(fd, enc, enc_len) < 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* sasl client: our client against a scripted daemon                        */
/* ------------------------------------------------------------------------ */

typedef struct sdaemon {
    int lfd;
    const char *input;
    int at_proc;   /* the procedure the input answers, or -1: the first after completion */
    int at_nth;    /* its nth call */
    int withhold;
    int eof;       /* the client hung up (atomic) */
    char err[256];
} sdaemon;

#define DFAIL(d, ...)                                    \
    do {                                                 \
        snprintf((d)->err, sizeof (d)->err, __VA_ARGS__); \
        goto out;                                        \
    } while (0)

/* Answers a START or STEP with what the daemon's SASL session said (their
 * replies have the same layout). */
static int answer_step(int fd, const frame *f, int complete, const char *out, unsigned outlen)
{
    remote_auth_sasl_step_ret r = { .complete = complete, .nil = out ? 0 : 1,
                                    .data = { outlen, (char *)out } };
    return vt_send_value(fd, f->hdr.proc, VIR_NET_REPLY, f->hdr.serial, VIR_NET_OK,
                         &remote_auth_sasl_step_ret_desc, &r);
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void *sdaemon_main(void *arg)
{
    sdaemon *d = arg;
    vt_buf in = { 0 }, clear = { 0 };
    sasl_conn_t *conn = NULL;
    int fd = vt_accept(d->lfd, 5000);
    int layer = 0, done = 0, withheld = 0, ncalls = 0, nth[128] = { 0 };
    if (fd < 0)
        DFAIL(d, "the client never connected");
    for (;;) {
        frame f;
        if (layer) { /* the call comes through the security layer */
            while (split_frames(&clear, &f, 1, NULL) == 0)
                if (read_packet(fd, conn, &clear) < 0)
                    DFAIL(d, "no call through the security layer");
        } else if (read_frame(fd, &in, &f) < 0) {
            DFAIL(d, "the client's call never came (%d calls so far)", ncalls);
        }
        ncalls++;
        int proc = f.hdr.proc;
        int n = proc >= 0 && proc < 128 ? ++nth[proc] : 0;
        if ((d->at_proc < 0 && done) || (proc == d->at_proc && n == d->at_nth)) {
            bi_script s;
            if (bi_compile(d->input, f.hdr.serial, &s, d->err, sizeof d->err) < 0)
                goto out;
            if (play(fd, &s) < 0)
                snprintf(d->err, sizeof d->err, "could not send the input: %s", strerror(errno));
            bi_script_free(&s);
            break;
        }
        if (done)
            DFAIL(d, "call %d after the authentication: the case should have answered it", proc);
        virtwire_arena a = VIRTWIRE_ARENA_INIT;
        int rc = -1, err = SASL_OK;
        const char *out = NULL;
        unsigned outlen = 0;
        if (proc == REMOTE_PROC_AUTH_LIST) {
            remote_auth_type types[] = { REMOTE_AUTH_SASL };
            remote_auth_list_ret r = { .types = { 1, types } };
            rc = vt_send_value(fd, proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK,
                               &remote_auth_list_ret_desc, &r);
        } else if (proc == REMOTE_PROC_AUTH_SASL_INIT && !conn) {
            char la[64], ra[64];
            sasl_addr(fd, 0, la, sizeof la);
            sasl_addr(fd, 1, ra, sizeof ra);
            const char *list = NULL;
            if (sasl_server_new("libvirt", NULL, NULL, la, ra, NULL, SASL_SUCCESS_DATA, &conn) !=
                    SASL_OK ||
                set_props(conn, 0) != SASL_OK ||
                sasl_listmech(conn, NULL, "", ",", "", &list, NULL, NULL) != SASL_OK)
                DFAIL(d, "the daemon's SASL session did not start");
            remote_auth_sasl_init_ret r = { .mechlist = (char *)list };
            rc = vt_send_value(fd, proc, VIR_NET_REPLY, f.hdr.serial, VIR_NET_OK,
                               &remote_auth_sasl_init_ret_desc, &r);
        } else if (proc == REMOTE_PROC_AUTH_SASL_START && conn) {
            remote_auth_sasl_start_args sa;
            if (virtwire_decode(&remote_auth_sasl_start_args_desc, f.payload, f.len, &a, &sa) < 0)
                DFAIL(d, "START's arguments do not decode");
            err = sasl_server_start(conn, sa.mech, sa.nil ? NULL : sa.data.data_val,
                                    sa.data.data_len, &out, &outlen);
        } else if (proc == REMOTE_PROC_AUTH_SASL_STEP && conn && withheld) {
            err = SASL_OK; /* done already: nothing more to say, and now we say so */
            withheld = 0;
        } else if (proc == REMOTE_PROC_AUTH_SASL_STEP && conn) {
            remote_auth_sasl_step_args sa;
            if (virtwire_decode(&remote_auth_sasl_step_args_desc, f.payload, f.len, &a, &sa) < 0)
                DFAIL(d, "STEP's arguments do not decode");
            err = sasl_server_step(conn, sa.nil ? NULL : sa.data.data_val, sa.data.data_len,
                                   &out, &outlen);
        } else {
            DFAIL(d, "unexpected call %d", proc);
        }
        if (proc == REMOTE_PROC_AUTH_SASL_START || proc == REMOTE_PROC_AUTH_SASL_STEP) {
            if (err != SASL_OK && err != SASL_CONTINUE)
                DFAIL(d, "the daemon's SASL session failed: %s", sasl_errdetail(conn));
            int complete = err == SASL_OK;
            if (complete && d->withhold && !done && !withheld &&
                proc == REMOTE_PROC_AUTH_SASL_STEP && nth[proc] == 1) {
                complete = 0; /* the client hears it at its next STEP */
                withheld = 1;
            }
            rc = answer_step(fd, &f, complete, out, outlen);
            if (complete) {
                done = 1;
                layer = layer_ssf(conn) > 0;
            }
        }
        virtwire_arena_fini(&a);
        if (rc < 0)
            DFAIL(d, "could not answer call %d", proc);
        consume(&in, f.len + 28);
        if (done && in.len) /* the client waits for the last reply */
            DFAIL(d, "clear bytes after the last SASL call");
    }
    /* Until the client hangs up. */
    vt_buf rest = { 0 };
    uint64_t deadline = vt_now_ms() + 10000;
    while (!drain(fd, &rest, 100) && vt_now_ms() < deadline)
        ;
    __atomic_store_n(&d->eof, vt_now_ms() < deadline, __ATOMIC_SEQ_CST);
    vt_buf_free(&rest);
out:
    if (conn)
        sasl_dispose(&conn);
    if (fd >= 0)
        close(fd);
    vt_buf_free(&in);
    vt_buf_free(&clear);
    return NULL;
}

static int credentials(virtwire_credential *cred, size_t n, void *opaque)
{
    (void)opaque;
    for (size_t i = 0; i < n; i++) {
        const char *v = cred[i].type == VIRTWIRE_CRED_PASSPHRASE ? PASS
                        : cred[i].type == VIRTWIRE_CRED_AUTHNAME ||
                                  cred[i].type == VIRTWIRE_CRED_USERNAME
                            ? USER
                            : NULL;
        if (v) {
            cred[i].result = strdup(v);
            cred[i].resultlen = (unsigned)strlen(v);
        }
    }
    return 0;
}

static int listen_tcp(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static void run_client_case(const bcase *c, const expectation *e)
{
    sdaemon d = { .lfd = -1, .input = c->input, .at_proc = 0 };
    char mech[64] = "";
    char words[256];
    snprintf(words, sizeof words, "%s", c->setup ? c->setup : "");
    for (char *w = strtok(words, " \t"); w; w = strtok(NULL, " \t")) {
        if (strncmp(w, "mech=", 5) == 0) {
            snprintf(mech, sizeof mech, "%s", w + 5);
        } else if (strcmp(w, "withhold") == 0) {
            d.withhold = 1;
        } else if (strncmp(w, "at=", 3) == 0) {
            static const struct {
                const char *name;
                int proc, nth;
            } at[] = { { "init", REMOTE_PROC_AUTH_SASL_INIT, 1 },
                       { "start", REMOTE_PROC_AUTH_SASL_START, 1 },
                       { "step", REMOTE_PROC_AUTH_SASL_STEP, 1 },
                       { "step2", REMOTE_PROC_AUTH_SASL_STEP, 2 },
                       { "after", -1, 0 } };
            size_t k = 0;
            while (k < sizeof at / sizeof at[0] && strcmp(at[k].name, w + 3))
                k++;
            if (k == sizeof at / sizeof at[0]) {
                FAIL("unknown at= \"%s\"", w + 3);
                return;
            }
            d.at_proc = at[k].proc;
            d.at_nth = at[k].nth;
        } else {
            FAIL("unknown setup word \"%s\"", w);
            return;
        }
    }
    if (d.at_proc == 0) {
        FAIL("a sasl client case says which call its input answers (at=)");
        return;
    }
    if (!state_is(e, "failed") || e->nargs != 1) {
        FAIL("a sasl client case ends failed \"MESSAGE\"");
        return;
    }
    int port = 0;
    d.lfd = listen_tcp(&port);
    if (d.lfd < 0) {
        FAIL("listen: %s", strerror(errno));
        return;
    }
    pthread_t th;
    pthread_create(&th, NULL, sdaemon_main, &d);

    char uri[128];
    snprintf(uri, sizeof uri, "test+tcp://127.0.0.1:%d/default%s%s", port, mech[0] ? "?auth=sasl." : "",
             mech);
    virtwire_sasl_client_config sc = { .size = sizeof sc, .credentials = credentials,
                                       .auth_file = "" };
    virtwire_auth_method *m = NULL;
    CHECK_CODE(virtwire_sasl_method_new(&sc, &m), 0, "virtwire_sasl_method_new");
    const virtwire_auth_method *methods[] = { m, NULL };
    char errbuf[512] = "";
    virtwire_client_options o = { .size = sizeof o, .auth_methods = methods, .errbuf = errbuf,
                                  .errbuf_len = sizeof errbuf, .open_timeout_ms = 5000,
                                  .call_timeout_ms = 5000 };
    virtwire_client *cl = (virtwire_client *)1;
    int rc = virtwire_client_connect(uri, &o, &cl);
    CHECK_CODE(rc, e->code, "connecting");
    if (rc == 0) {
        virtwire_client_close(cl);
    } else {
        CHECK_MSG(cl == NULL, "a failed connect left its client set");
        CHECK_MSG(strncmp(errbuf, e->args[0], strlen(e->args[0])) == 0,
                  "the error says \"%s\", want \"%s...\"", errbuf, e->args[0]);
    }
    check_cloexec("after connecting");
    pthread_join(th, NULL);
    CHECK_MSG(!d.err[0], "scripted daemon: %s", d.err);
    CHECK_MSG(d.err[0] || __atomic_load_n(&d.eof, __ATOMIC_SEQ_CST),
              "the daemon's end is still open after the connection failed");
    virtwire_sasl_method_free(m);
    close(d.lfd);
}

/* ------------------------------------------------------------------------ */
/* sasl server: a scripted client against our server                        */
/* ------------------------------------------------------------------------ */

/* The scripted client's SASL side. */
typedef struct peer {
    virtwire_server *srv;
    int fd;
    int tcp;
    sasl_conn_t *conn;
    int layer;  /* its replies and our calls go through the layer */
    vt_buf raw; /* bytes received, not decoded yet */
    uint32_t serial;
} peer;

/* Runs the server and collects what the peer gets (decoded when the
 * layer is on) until got holds n frames, end of file, or rounds rounds.
 * Returns 1 at end of file (or when a packet does not decode). */
static int collect(peer *p, vt_buf *got, size_t n, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        virtwire_server_run_once(p->srv, 10);
        int eof = drain(p->fd, p->layer ? &p->raw : got, 0);
        while (p->layer && p->raw.len >= 4) {
            uint32_t len = vt_get32(p->raw.p);
            if (len == 0 || len > MAXBUF)
                return 1;
            if (p->raw.len - 4 < len)
                break;
            const char *clear = NULL;
            unsigned clear_len = 0;
            if (sasl_decode(p->conn, (const char *)p->raw.p, 4 + len, &clear, &clear_len) !=
                SASL_OK)
                return 1;
            vt_buf_add(got, clear, clear_len);
            vt_buf_consume(&p->raw, 4 + len);
        }
        if (eof)
            return 1;
        frame f[8];
        if (n && split_frames(got, f, 8, NULL) >= n)
            return 0;
    }
    return 0;
}

/* One call of the authentication in the clear and its OK reply, decoded
 * with rt into a.  0 or -1. */
static int auth_call(peer *p, int32_t proc, const virtwire_type *at, const void *args,
                     const virtwire_type *rt, void *ret, virtwire_arena *a)
{
    if (vt_send_value(p->fd, proc, VIR_NET_CALL, ++p->serial, VIR_NET_OK, at, args) < 0)
        return -1;
    vt_buf got = { 0 };
    frame f;
    collect(p, &got, 1, 200);
    int rc = split_frames(&got, &f, 1, NULL) == 1 && f.hdr.status == VIR_NET_OK &&
                     f.hdr.serial == p->serial && f.hdr.proc == proc &&
                     f.len + 28 == got.len
                 ? virtwire_decode(rt, f.payload, f.len, a, ret)
                 : -1;
    vt_buf_free(&got);
    return rc < 0 ? -1 : 0;
}

static void fill(sasl_interact_t *in)
{
    for (sasl_interact_t *i = in; i->id != SASL_CB_LIST_END; i++) {
        const char *v = i->id == SASL_CB_PASS                                 ? PASS
                        : i->id == SASL_CB_AUTHNAME || i->id == SASL_CB_USER ? USER
                                                                              : "";
        i->result = v;
        i->len = (unsigned)strlen(v);
    }
}

/* The whole exchange, as libvirt's client runs it: DIGEST-MD5 on TCP,
 * SCRAM-SHA-256 on the unix socket.  0 or -1. */
static int authenticate(peer *p)
{
    static sasl_callback_t cbs[] = { { SASL_CB_AUTHNAME, NULL, NULL },
                                     { SASL_CB_USER, NULL, NULL },
                                     { SASL_CB_PASS, NULL, NULL },
                                     { SASL_CB_LIST_END, NULL, NULL } };
    char la[64], ra[64];
    sasl_addr(p->fd, 0, la, sizeof la);
    sasl_addr(p->fd, 1, ra, sizeof ra);
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    remote_auth_sasl_init_ret ir;
    int ok = 0;
    if (sasl_client_new("libvirt", "localhost", la, ra, cbs, 0, &p->conn) != SASL_OK ||
        set_props(p->conn, !p->tcp) != SASL_OK ||
        auth_call(p, REMOTE_PROC_AUTH_SASL_INIT, NULL, NULL, &remote_auth_sasl_init_ret_desc,
                  &ir, &a) < 0)
        goto out;
    sasl_interact_t *need = NULL;
    const char *out = NULL, *mech = NULL;
    unsigned outlen = 0;
    int err;
    while ((err = sasl_client_start(p->conn, p->tcp ? "DIGEST-MD5" : "SCRAM-SHA-256", &need,
                                    &out, &outlen, &mech)) == SASL_INTERACT)
        fill(need);
    if (err != SASL_OK && err != SASL_CONTINUE)
        goto out;
    remote_auth_sasl_start_args sa = { .mech = (char *)mech, .nil = out ? 0 : 1,
                                       .data = { outlen, (char *)out } };
    remote_auth_sasl_start_ret r;
    if (auth_call(p, REMOTE_PROC_AUTH_SASL_START, &remote_auth_sasl_start_args_desc, &sa,
                  &remote_auth_sasl_start_ret_desc, &r, &a) < 0)
        goto out;
    int complete = r.complete;
    const char *in = r.nil ? NULL : r.data.data_val;
    unsigned inlen = r.data.data_len;
    for (int steps = 0; steps < 8; steps++) {
        while ((err = sasl_client_step(p->conn, in, inlen, &need, &out, &outlen)) ==
               SASL_INTERACT)
            fill(need);
        if (err != SASL_OK && err != SASL_CONTINUE)
            goto out;
        if (complete && err == SASL_OK) {
            ok = 1;
            break;
        }
        remote_auth_sasl_step_args ta = { .nil = out ? 0 : 1, .data = { outlen, (char *)out } };
        remote_auth_sasl_step_ret tr;
        if (auth_call(p, REMOTE_PROC_AUTH_SASL_STEP, &remote_auth_sasl_step_args_desc, &ta,
                      &remote_auth_sasl_step_ret_desc, &tr, &a) < 0)
            goto out;
        complete = tr.complete;
        in = tr.nil ? NULL : tr.data.data_val;
        inlen = tr.data.data_len;
        if (complete && err == SASL_OK) {
            ok = 1;
            break;
        }
    }
    p->layer = ok && layer_ssf(p->conn) > 0;
out:
    virtwire_arena_fini(&a);
    return ok ? 0 : -1;
}

static int h_open(virtwire_server_call *call, void *opaque)
{
    (void)call;
    (void)opaque;
    return 0;
}

static void run_server_case(const bcase *c, const expectation *e)
{
    int tcp = 0, authenticated = 0, raw = 0;
    char words[256];
    snprintf(words, sizeof words, "%s", c->setup ? c->setup : "");
    for (char *w = strtok(words, " \t"); w; w = strtok(NULL, " \t")) {
        if (strcmp(w, "tcp") == 0)
            tcp = 1;
        else if (strcmp(w, "authenticated") == 0)
            authenticated = 1;
        else if (strcmp(w, "raw") == 0)
            raw = 1;
        else {
            FAIL("unknown setup word \"%s\"", w);
            return;
        }
    }
    bi_script s;
    if (compile_input(c, &s, NULL) < 0)
        return;
    static const virtwire_server_callbacks scbs = { .size = sizeof scbs, .on_close = server_on_close };
    virtwire_server *srv = NULL;
    virtwire_session_server *ss = NULL;
    virtwire_sasl_server *sasl = NULL;
    static const char *const allowed[] = { USER, NULL };
    virtwire_sasl_server_opts so = { .size = sizeof so, .allowed_usernames = allowed };
    static const int types[] = { REMOTE_AUTH_SASL };
    virtwire_server_listen_opts lo = { .size = sizeof lo, .auth_types = types, .nauth_types = 1 };
    char path[64];
    snprintf(path, sizeof path, "bad-input-sasl-%d.sock", (int)getpid());
    server_close_reason = 1;
    peer p = { .fd = -1, .tcp = tcp };
    if (virtwire_server_new(&scbs, NULL, &srv) < 0 ||
        virtwire_server_register(srv, &remote_program) < 0 ||
        virtwire_server_set_handler(srv, &remote_program, PROC_LIB_VERSION, server_h_lib_version,
                                    NULL) < 0 ||
        virtwire_server_set_handler(srv, &remote_program, REMOTE_PROC_CONNECT_OPEN, h_open,
                                    NULL) < 0 ||
        virtwire_session_server_new(srv, &remote_program, NULL, &ss) < 0 ||
        virtwire_sasl_server_new(srv, &remote_program, &so, &sasl) < 0 ||
        (tcp ? virtwire_server_listen_tcp_with(srv, "127.0.0.1", 0, &lo)
             : virtwire_server_listen_unix_with(srv, path, &lo)) < 0) {
        FAIL("the server did not start");
        goto out;
    }
    p.srv = srv;
    p.fd = tcp ? tcp_connect(virtwire_server_tcp_port(srv)) : vt_connect_unix(path);
    for (int i = 0; i < 100 && virtwire_server_nclients(srv) == 0; i++)
        virtwire_server_run_once(srv, 10);
    if (p.fd < 0 || virtwire_server_nclients(srv) != 1) {
        FAIL("the server did not accept the peer");
        goto out;
    }
    if (authenticated && authenticate(&p) < 0) {
        FAIL("the scripted client could not authenticate");
        goto out;
    }
    CHECK_MSG(!tcp || !authenticated || p.layer, "DIGEST-MD5 on TCP gave no security layer");
    vt_buf bytes = { 0 };
    if (p.layer && !raw) {
        if (bi_script_bytes(&s, &bytes) < 0 || write_encoded(p.fd, p.conn, bytes.p, bytes.len) < 0)
            FAIL("the input could not go through the security layer");
    } else {
        CHECK_MSG(play(p.fd, &s) == 0, "the peer could not send the input: %s", strerror(errno));
    }
    vt_buf_free(&bytes);

    vt_buf got = { 0 };
    size_t want = (size_t)e->after + (state_is(e, "replied") ? 1 : 0);
    int eof = collect(&p, &got, want, state_is(e, "closed") ? 100 : 20);
    if (want && !eof)
        eof |= collect(&p, &got, 0, 3); /* anything more? */
    check_cloexec("while the server runs");
    int usable = check_server_verdict(e, srv, &got, eof, server_close_reason);
    vt_buf_free(&got);
    if (usable) {
        /* Answered if authenticated, refused as libvirtd refuses otherwise. */
        vt_buf ans = { 0 };
        unsigned char call[28];
        vt_frame_header(call, REMOTE_PROGRAM, PROC_LIB_VERSION, VIR_NET_CALL, 4242, VIR_NET_OK, 0);
        if (p.layer)
            write_encoded(p.fd, p.conn, call, sizeof call);
        else
            vt_write_all(p.fd, call, sizeof call);
        collect(&p, &ans, 1, 50);
        frame g;
        int n = (int)split_frames(&ans, &g, 1, NULL);
        if (authenticated) {
            CHECK_MSG(n == 1 && g.hdr.status == VIR_NET_OK && g.hdr.serial == 4242 &&
                          g.len == 8 && vt_get32(g.payload + 4) == LIB_VERSION,
                      "a call after the bad input was not answered");
        } else {
            CHECK_MSG(n == 1 && g.hdr.serial == 4242, "a call after the bad input got no reply");
            if (n == 1)
                check_error_reply(&g, "39", "authentication required");
        }
        vt_buf_free(&ans);
    }
out:
    if (p.fd >= 0)
        close(p.fd);
    for (int i = 0; srv && i < 50 && virtwire_server_nclients(srv) > 0; i++)
        virtwire_server_run_once(srv, 10);
    virtwire_server_free(srv);
    virtwire_sasl_server_free(sasl);
    virtwire_session_server_free(ss);
    if (p.conn)
        sasl_dispose(&p.conn);
    vt_buf_free(&p.raw);
    bi_script_free(&s);
    unlink(path);
}

void run_sasl(const bcase *c, const expectation *e)
{
    if (!prepare()) {
        FAIL("no SASL configuration for the scripted peers");
        return;
    }
    if (strcmp(c->role, "client") == 0)
        run_client_case(c, e);
    else if (strcmp(c->role, "server") == 0)
        run_server_case(c, e);
    else
        FAIL("role must be client or server");
}
