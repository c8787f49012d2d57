/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connections against a real libvirtd (test driver), started by the test:
 *
 *   test_conn_libvirtd PRIVATE_LIBVIRTD_SCRIPT
 *
 * Over the unix socket with the raw transport API: AUTH_LIST, CONNECT_OPEN
 * "test:///default", CONNECT_GET_HOSTNAME, DOMAIN_CREATE_XML_WITH_FILES with
 * two real pipe fds (the daemon waits for exactly the fds the frame
 * announces, so a wrong fd protocol hangs or drops the connection), the
 * host name again, DOMAIN_DESTROY, CONNECT_CLOSE (after which the daemon
 * hangs up: ECLOSED).  Then the same handshake through
 * virtwire_conn_connect_uri() over test+unix:// and test+tcp://.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn_tlib.h"
#include "remote_protocol.h"
#include "vt_daemon.h"

/* A blocking call over a connection, for the test. */
typedef struct rpc {
    virtwire_conn *c;
    virtwire_transport_program *p;
    uint32_t serial;
    int done;
    int status;
    int err_code;
    unsigned char *payload;
    size_t len;
} rpc;

static int on_reply(virtwire_transport_program *p, const virtwire_transport_msg *m, void *o)
{
    rpc *r = o;
    (void)p;
    if (m->hdr.serial != r->serial)
        return 0;
    r->done = 1;
    r->status = m->hdr.status;
    r->err_code = m->error ? m->error->code : 0;
    if (m->error && m->error->message)
        fprintf(stderr, "remote error %d: %s\n", m->error->code, *m->error->message);
    r->payload = malloc(m->payload_len + 1);
    memcpy(r->payload, m->payload, m->payload_len);
    r->len = m->payload_len;
    return 0;
}

static void rpc_init(rpc *r, virtwire_conn *c)
{
    memset(r, 0, sizeof(*r));
    r->c = c;
    virtwire_transport_program_callbacks pc = { .size = sizeof pc, .on_reply = on_reply };
    CHECK_INT(virtwire_transport_register(virtwire_conn_transport(c), REMOTE_PROGRAM,
                                          REMOTE_PROTOCOL_VERSION, &pc, r, &r->p),
              0);
}

/* Calls proc; decodes the reply into ret.  Returns 0, the remote error
 * code (> 0), or a negative virtwire code. */
static int call(rpc *r, int proc, const virtwire_type *args_t, const void *args, const int *fds,
                size_t nfds, const virtwire_type *ret_t, void *ret, virtwire_arena *arena)
{
    int64_t serial = virtwire_transport_send_value(r->p, proc,
                                                   nfds ? VIR_NET_CALL_WITH_FDS : VIR_NET_CALL,
                                                   VIR_NET_OK, 0, args_t, args, fds, nfds);
    if (serial < 0)
        return (int)serial;
    r->serial = (uint32_t)serial;
    r->done = 0;
    time_t start = time(NULL);
    while (!r->done && time(NULL) - start < 20) {
        int rc = virtwire_conn_run_once(r->c, 200);
        /* The reply may come with the end of file (CONNECT_CLOSE): the
         * call is complete all the same. */
        if (rc < 0 && !r->done)
            return rc;
    }
    if (!r->done)
        return VIRTWIRE_ETIMEDOUT;
    int rc = 0;
    if (r->status == VIR_NET_ERROR)
        rc = r->err_code > 0 ? r->err_code : 1;
    else if (ret_t)
        rc = virtwire_decode(ret_t, r->payload, r->len, arena, ret);
    else if (r->len != 0)
        rc = VIRTWIRE_ETRAILING;
    free(r->payload);
    r->payload = NULL;
    return rc;
}

/* libvirt's host name is gethostname()'s, or its fully qualified form. */
static void check_hostname(const char *got)
{
    char want[256] = { 0 };
    CHECK_INT(gethostname(want, sizeof(want) - 1), 0);
    size_t n = strlen(want);
    if (!(strcmp(got, want) == 0 || (strncmp(got, want, n) == 0 && got[n] == '.')))
        vt_fail(__FILE__, __LINE__, "host name \"%s\", expected \"%s\"", got, want);
}

static void check_hostname_call(rpc *r, virtwire_arena *a)
{
    remote_connect_get_hostname_ret host;
    CHECK_INT(call(r, REMOTE_PROC_CONNECT_GET_HOSTNAME, NULL, NULL, NULL, 0,
                   &remote_connect_get_hostname_ret_desc, &host, a),
              0);
    if (!vt_failures)
        check_hostname(host.hostname);
}

/* AUTH_LIST, CONNECT_OPEN name, GET_HOSTNAME. */
static void open_session(rpc *r, const char *name, virtwire_arena *a)
{
    remote_auth_list_ret auth;
    CHECK_INT(call(r, REMOTE_PROC_AUTH_LIST, NULL, NULL, NULL, 0, &remote_auth_list_ret_desc,
                   &auth, a),
              0);
    /* The private daemon is configured with auth "none". */
    CHECK_INT(auth.types.types_len, 1);
    if (auth.types.types_len == 1)
        CHECK_INT(auth.types.types_val[0], REMOTE_AUTH_NONE);
    char *n = (char *)name;
    remote_connect_open_args open_args = { .name = &n, .flags = 0 };
    CHECK_INT(call(r, REMOTE_PROC_CONNECT_OPEN, &remote_connect_open_args_desc, &open_args, NULL, 0,
                   NULL, NULL, a),
              0);
    check_hostname_call(r, a);
}

/* CONNECT_CLOSE; the daemon then hangs up. */
static void close_session(rpc *r, virtwire_arena *a)
{
    CHECK_INT(call(r, REMOTE_PROC_CONNECT_CLOSE, NULL, NULL, NULL, 0, NULL, NULL, a), 0);
    int rc = 0;
    time_t start = time(NULL);
    while (rc == 0 && time(NULL) - start < 10)
        rc = virtwire_conn_run_once(r->c, 200);
    CHECK_INT(rc, VIRTWIRE_ECLOSED);
}

static void test_unix_raw(const char *sock)
{
    virtwire_transport_callbacks cbs = { .size = sizeof cbs };
    virtwire_conn *c = NULL;
    CHECK_INT(virtwire_conn_connect_unix(sock, VIRTWIRE_TRANSPORT_CLIENT, &cbs, NULL, &c), 0);
    if (!c)
        return;
    CHECK_INT(virtwire_conn_is_unix(c), 1);
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    rpc r;
    rpc_init(&r, c);
    open_session(&r, "test:///default", &a);

    int p1[2], p2[2];
    CHECK_INT(pipe(p1), 0);
    CHECK_INT(pipe(p2), 0);
    int fds[2] = { p1[0], p2[1] };
    remote_domain_create_xml_with_files_args args = {
        .xml_desc = "<domain type='test'><name>fdtest</name><memory>1024</memory>"
                    "<os><type>hvm</type></os></domain>",
        .flags = 0,
    };
    remote_domain_create_xml_with_files_ret ret;
    memset(&ret, 0, sizeof(ret));
    CHECK_INT(call(&r, REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES,
                   &remote_domain_create_xml_with_files_args_desc, &args, fds, 2,
                   &remote_domain_create_xml_with_files_ret_desc, &ret, &a),
              0);
    close(p1[0]);
    close(p1[1]);
    close(p2[0]);
    close(p2[1]);
    if (!vt_failures) {
        CHECK(strcmp(ret.dom.name, "fdtest") == 0);
        CHECK(ret.dom.id > 0);
        /* The stream of frames goes on intact after the fds. */
        check_hostname_call(&r, &a);
        remote_domain_destroy_args d = { .dom = ret.dom };
        CHECK_INT(call(&r, REMOTE_PROC_DOMAIN_DESTROY, &remote_domain_destroy_args_desc, &d, NULL,
                       0, NULL, NULL, &a),
                  0);
        /* Destroyed (transient): looking it up fails with VIR_ERR_NO_DOMAIN. */
        remote_domain_lookup_by_name_args lk = { .name = "fdtest" };
        remote_domain_lookup_by_name_ret lr;
        CHECK_INT(call(&r, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, &remote_domain_lookup_by_name_args_desc,
                       &lk, NULL, 0, &remote_domain_lookup_by_name_ret_desc, &lr, &a),
                  42);
    }
    close_session(&r, &a);
    virtwire_arena_fini(&a);
    virtwire_conn_free(c);
}

static void test_uri(const char *uri)
{
    virtwire_transport_callbacks cbs = { .size = sizeof cbs };
    virtwire_conn *c = NULL;
    CHECK_INT(virtwire_conn_connect_uri(uri, 0, VIRTWIRE_TRANSPORT_CLIENT, &cbs, NULL, &c), 0);
    if (!c)
        return;
    virtwire_uri *u = NULL;
    CHECK_INT(virtwire_uri_parse(uri, &u), 0);
    CHECK_INT(virtwire_conn_is_unix(c), u && u->transport == VIRTWIRE_URI_TRANSPORT_UNIX);
    char *name = u ? virtwire_uri_open_name(u) : NULL;
    /* What libvirt's remote driver sends for these URIs. */
    CHECK(name && strcmp(name, "test:///default") == 0);
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    rpc r;
    rpc_init(&r, c);
    open_session(&r, name ? name : "test:///default", &a);
    close_session(&r, &a);
    virtwire_arena_fini(&a);
    free(name);
    virtwire_uri_free(u);
    virtwire_conn_free(c);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PRIVATE_LIBVIRTD_SCRIPT\n", argv[0]);
        return 2;
    }
    vt_libvirtd d;
    vt_libvirtd_start(&d, argv[1], 1);
    int before = vt_count_fds(0);
    test_unix_raw(d.sock);
    test_uri(d.uri);
    test_uri(d.tcp_uri);
    CHECK_INT(vt_count_fds(0), before);
    if (vt_failures)
        vt_libvirtd_log_tail(&d, 20);
    if (vt_libvirtd_stop(&d) != 0)
        vt_fail(__FILE__, __LINE__, "could not stop libvirtd");
    return vt_finish("conn.libvirtd");
}
