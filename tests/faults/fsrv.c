/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE

#include "fsrv.h"

#include <stdlib.h>
#include <string.h>

#include "flib.h"
#include "remote_protocol.h"
#include "vt_server.h"

#define DOWN_CHUNK ((size_t)256 * 1024)

static void add(int *p, int n)
{
    __atomic_add_fetch(p, n, __ATOMIC_SEQ_CST);
}

static void add64(uint64_t *p, uint64_t n)
{
    __atomic_add_fetch(p, n, __ATOMIC_SEQ_CST);
}

int fsrv_get(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

uint64_t fsrv_get64(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* ---- handlers ------------------------------------------------------------- */

static int h_auth_list(virtwire_server_call *call, void *opaque)
{
    (void)opaque;
    remote_auth_list_ret *r = call->ret;
    remote_auth_type *t = virtwire_server_call_alloc(call, sizeof *t);
    if (!t)
        return -1;
    *t = REMOTE_AUTH_NONE;
    r->types.types_len = 1;
    r->types.types_val = t;
    return 0;
}

static int h_void(virtwire_server_call *call, void *opaque)
{
    (void)call;
    (void)opaque;
    return 0;
}

static int h_lib_version(virtwire_server_call *call, void *opaque)
{
    fsrv *s = opaque;
    add(&s->st.calls, 1);
    ((remote_connect_get_lib_version_ret *)call->ret)->lib_ver = 42;
    return 0;
}

static int h_hostname(virtwire_server_call *call, void *opaque)
{
    fsrv *s = opaque;
    add(&s->st.calls, 1);
    if (s->nheld == (int)(sizeof s->held / sizeof s->held[0]))
        return virtwire_server_call_error(call, 1, 7, "too many held calls");
    s->held[s->nheld++] = call;
    add(&s->st.deferred, 1);
    return VIRTWIRE_SERVER_DEFER;
}

static int h_from_native(virtwire_server_call *call, void *opaque)
{
    fsrv *s = opaque;
    add(&s->st.calls, 1);
    const remote_connect_domain_xml_from_native_args *a = call->args;
    remote_connect_domain_xml_from_native_ret *r = call->ret;
    r->domainXml = a->nativeConfig; /* lives in the call's arena */
    return 0;
}

static int h_with_files(virtwire_server_call *call, void *opaque)
{
    fsrv *s = opaque;
    add(&s->st.calls, 1);
    add(&s->st.fds_calls, 1);
    const remote_domain_create_with_files_args *a = call->args;
    remote_domain_create_with_files_ret *r = call->ret;
    r->dom = a->dom;
    r->dom.id = (int)call->nfds;
    return 0;
}

/* Streams: one state per stream, freed by on_close. */
typedef struct sstate {
    fsrv *s;
    uint32_t seed;
    uint64_t off, total;
    int *finished, *closed; /* the counters of the stream's direction */
} sstate;

/* Gives the call a stream with cbs and its state: data of pattern seed,
 * total bytes of it (downloads), counted as finished and closed in the
 * counters of up (1) or down (0); 0, or -1 (the call fails). */
static int start_stream(virtwire_server_call *call, fsrv *s, uint32_t seed, uint64_t total,
                        int up, const virtwire_server_stream_callbacks *cbs)
{
    sstate *ss = calloc(1, sizeof *ss);
    if (!ss)
        return -1;
    *ss = (sstate){ .s = s, .seed = seed, .total = total,
                    .finished = up ? &s->st.up_finished : &s->st.down_finished,
                    .closed = up ? &s->st.up_closed : &s->st.down_closed };
    if (!virtwire_server_call_stream(call, 0, cbs, ss)) {
        free(ss);
        return -1;
    }
    return 0;
}

static int up_data(virtwire_server_stream *st, const void *data, size_t len, void *opaque)
{
    (void)st;
    sstate *ss = opaque;
    add(&ss->s->st.up_data, 1);
    if (!(ss->s->sampled ? flib_check_sampled(data, len, ss->seed, ss->off)
                         : flib_check(data, len, ss->seed, ss->off)))
        add(&ss->s->st.up_bad, 1);
    ss->off += len;
    add64(&ss->s->st.up_bytes, len);
    return 0;
}

static int stream_finish(virtwire_server_stream *st, void *opaque)
{
    (void)st;
    sstate *ss = opaque;
    add(ss->finished, 1);
    return 0;
}

static void stream_close(virtwire_server_stream *st, void *opaque)
{
    (void)st;
    sstate *ss = opaque;
    add(ss->closed, 1);
    free(ss);
}

static void up_abort(virtwire_server_stream *st, void *opaque)
{
    (void)st;
    sstate *ss = opaque;
    add(&ss->s->st.up_aborted, 1);
}

static int h_upload(virtwire_server_call *call, void *opaque)
{
    fsrv *s = opaque;
    add(&s->st.calls, 1);
    const remote_storage_vol_upload_args *a = call->args;
    static const virtwire_server_stream_callbacks cbs = {
        .size = sizeof cbs,
        .on_data = up_data, .on_finish = stream_finish, .on_abort = up_abort,
        .on_close = stream_close,
    };
    return start_stream(call, s, (uint32_t)a->offset, 0, 1, &cbs);
}

static int down_pull(virtwire_server_stream *st, void *opaque)
{
    sstate *ss = opaque;
    unsigned char buf[DOWN_CHUNK];
    size_t n = ss->total - ss->off < DOWN_CHUNK ? (size_t)(ss->total - ss->off) : DOWN_CHUNK;
    if (n == 0) {
        add(&ss->s->st.down_eof, 1);
        return virtwire_server_stream_send_eof(st) < 0 ? -1 : 0;
    }
    flib_fill(buf, n, ss->seed, ss->off);
    if (virtwire_server_stream_send(st, buf, n) < 0)
        return -1;
    ss->off += n;
    add64(&ss->s->st.down_bytes, n);
    return 0;
}

static int h_download(virtwire_server_call *call, void *opaque)
{
    fsrv *s = opaque;
    add(&s->st.calls, 1);
    const remote_storage_vol_download_args *a = call->args;
    static const virtwire_server_stream_callbacks cbs = {
        .size = sizeof cbs,
        .on_pull = down_pull, .on_close = stream_close, .on_finish = stream_finish,
    };
    return start_stream(call, s, (uint32_t)a->offset, a->length, 0, &cbs);
}

/* ---- clients -------------------------------------------------------------- */

static int on_open(virtwire_server_client *c, void *opaque)
{
    (void)c;
    fsrv *s = opaque;
    add(&s->st.opened, 1);
    return 0;
}

static void on_close(virtwire_server_client *c, void *opaque)
{
    fsrv *s = opaque;
    __atomic_store_n(&s->st.last_error, virtwire_server_client_error(c), __ATOMIC_SEQ_CST);
    add(&s->st.closed, 1);
}

void fsrv_init(fsrv *s, const char *name, int tcp)
{
    memset(s, 0, sizeof *s);
    virtwire_server_callbacks cbs = { .size = sizeof cbs, .on_open = on_open, .on_close = on_close };
    if (virtwire_server_new(&cbs, s, &s->srv) < 0 ||
        virtwire_server_register(s->srv, &remote_program) < 0) {
        fprintf(stderr, "fsrv: cannot create the server\n");
        exit(1);
    }
    static const struct {
        int32_t proc;
        virtwire_server_handler fn;
    } table[] = {
        { REMOTE_PROC_AUTH_LIST, h_auth_list },
        { REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, vt_h_supports_feature },
        { REMOTE_PROC_CONNECT_OPEN, h_void },
        { REMOTE_PROC_CONNECT_CLOSE, h_void },
        { REMOTE_PROC_CONNECT_GET_LIB_VERSION, h_lib_version },
        { REMOTE_PROC_CONNECT_GET_HOSTNAME, h_hostname },
        { REMOTE_PROC_CONNECT_DOMAIN_XML_FROM_NATIVE, h_from_native },
        { REMOTE_PROC_DOMAIN_CREATE_WITH_FILES, h_with_files },
        { REMOTE_PROC_STORAGE_VOL_UPLOAD, h_upload },
        { REMOTE_PROC_STORAGE_VOL_DOWNLOAD, h_download },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (virtwire_server_set_handler(s->srv, &remote_program, table[i].proc, table[i].fn, s) < 0)
            exit(1);
    vt_path(s->path, sizeof s->path, name);
    if (virtwire_server_listen_unix(s->srv, s->path) < 0) {
        perror("fsrv: listen");
        exit(1);
    }
    s->tcp_port = -1;
    if (tcp) {
        if (virtwire_server_listen_tcp(s->srv, NULL, 0) < 0) {
            perror("fsrv: listen tcp");
            exit(1);
        }
        s->tcp_port = virtwire_server_tcp_port(s->srv);
    }
}

int fsrv_pump(fsrv *s, int (*cond)(fsrv *s), int timeout_ms)
{
    uint64_t end = vt_now_ms() + (uint64_t)timeout_ms;
    while (!cond(s)) {
        if (vt_now_ms() >= end)
            return 0;
        virtwire_server_run_once(s->srv, 5);
    }
    return 1;
}

static void *loop(void *arg)
{
    fsrv *s = arg;
    while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST))
        virtwire_server_run_once(s->srv, 20);
    return NULL;
}

void fsrv_start(fsrv *s)
{
    s->stop = 0;
    if (pthread_create(&s->thread, NULL, loop, s) != 0) {
        perror("pthread_create");
        exit(1);
    }
    s->running = 1;
}

void fsrv_stop(fsrv *s)
{
    if (!s->running)
        return;
    __atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(s->thread, NULL);
    s->running = 0;
}

void fsrv_complete_deferred(fsrv *s)
{
    for (int i = 0; i < s->nheld; i++) {
        remote_connect_get_hostname_ret *r = s->held[i]->ret;
        r->hostname = virtwire_server_call_strdup(s->held[i], "late");
        virtwire_server_call_complete(s->held[i], 0);
    }
    s->nheld = 0;
}

void fsrv_free(fsrv *s)
{
    fsrv_stop(s);
    fsrv_complete_deferred(s);
    virtwire_server_free(s->srv);
    s->srv = NULL;
}
