/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire client: creating, connecting and closing a client.
 * See virtwire_client.h for the API and virtwire_client_internal.h for how
 * the client's files divide the work, its locking and its threads.
 */
#define _GNU_SOURCE /* pipe2 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtwire_client_internal.h"
#include "virtwire_session_internal.h"
#include "virtwire_sized_internal.h"

void virtwire_exit_on_error(int rc, const char *message, void *opaque)
{
    (void)rc;
    if (opaque)
        fprintf(stderr, "%s: ", (const char *)opaque);
    fprintf(stderr, "error: %s\n", message ? message : "");
    exit(1);
}

void virtwire_error_ignore(int rc, const char *message, void *opaque)
{
    (void)rc, (void)message, (void)opaque;
}

void vw_client_report(virtwire_client *c, const virtwire_call_opts *opts, int rc,
                      const virNetMessageError *err)
{
    virtwire_error_fn fn = opts && opts->on_error ? opts->on_error : c->on_error;
    void *opaque = opts && opts->on_error ? opts->on_error_opaque : c->on_error_opaque;
    if (fn && rc < 0)
        fn(rc, virtwire_error_message(rc, err), opaque);
}

const char *virtwire_error_message(int rc, const virNetMessageError *error)
{
    if ((rc == VIRTWIRE_EREMOTE || rc == VIRTWIRE_EUNSUPPORTED) && error && error->message &&
        *error->message && **error->message)
        return *error->message;
    return virtwire_strerror(rc);
}

void virtwire_client_on_close(virtwire_client *c, virtwire_client_close_fn fn, void *opaque)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->close_fn = fn;
    c->close_opaque = opaque;
    pthread_mutex_unlock(&c->lock);
}

int virtwire_client_error(const virtwire_client *c)
{
    if (!c)
        return VIRTWIRE_EINVAL;
    virtwire_client *m = (virtwire_client *)c;
    pthread_mutex_lock(&m->lock);
    int rc = m->dead;
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static virtwire_client *client_new(const virtwire_client_options *o)
{
    virtwire_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->wake[0] = c->wake[1] = -1;
    atomic_init(&c->args_hint, 0);
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    if (vw_client_cond_init(&c->handler_cond) < 0) {
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    if (vw_client_cond_init(&c->bg_cond) < 0) {
        pthread_cond_destroy(&c->handler_cond);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    /* Close-on-exec from the start: another thread may fork and exec. */
    if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        pthread_cond_destroy(&c->bg_cond);
        pthread_cond_destroy(&c->handler_cond);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    c->io_owner = IO_BG;
    c->default_timeout_ms = o->call_timeout_ms > 0 ? o->call_timeout_ms : 0;
    c->admin = (o->flags & VIRTWIRE_CLIENT_ADMIN) != 0;
    c->check_since = (o->flags & VIRTWIRE_CLIENT_CHECK_SINCE) != 0;
    return c;
}

static void client_free(virtwire_client *c)
{
    while (c->programs) {
        client_program *cp = c->programs;
        c->programs = cp->next;
        free(cp);
    }
    while (c->handlers) {
        handler *h = c->handlers;
        c->handlers = h->next;
        vw_client_drop_kept(h->kept);
        vw_client_drop_kept(h->queued);
        free(h);
    }
    virtwire_conn_free(c->conn);
    if (c->wake[0] >= 0)
        close(c->wake[0]);
    if (c->wake[1] >= 0)
        close(c->wake[1]);
    pthread_cond_destroy(&c->handler_cond);
    pthread_cond_destroy(&c->bg_cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Starts the I/O thread on a connected client, then opens the session. */
static int start(virtwire_client *c, const vw_session *sess, virtwire_client **out)
{
    c->t = virtwire_conn_transport(c->conn);
    if (pthread_create(&c->thread, NULL, vw_client_io_main, c) != 0) {
        vw_errorf(sess->errbuf, sess->errbuf_len, "cannot start the I/O thread");
        client_free(c);
        return VIRTWIRE_ENOMEM;
    }
    c->thread_started = 1;
    int rc = vw_session_open(c, sess);
    if (rc == VIRTWIRE_ECLOSED) {
        int why = virtwire_client_error(c); /* why it died, if it did */
        rc = why < 0 ? why : rc;
        /* What the channel knows (what ssh wrote, how the child ended) says
         * more than the session's words, which name the call and why the
         * connection died. */
        const char *detail = virtwire_channel_error_detail(virtwire_conn_channel(c->conn));
        if (detail)
            vw_errorf(sess->errbuf, sess->errbuf_len, "%s", detail);
    }
    if (rc < 0) {
        virtwire_client_close(c);
        return rc;
    }
    vw_session_keep_error(sess, NULL); /* what a step that may fail left */
    /* From now on, not for the session's own calls: their failure is the
     * setup's, told once. */
    c->on_error = sess->opts->on_error;
    c->on_error_opaque = sess->opts->on_error_opaque;
    *out = c;
    return 0;
}

/* The connection's channel through its handshake (TLS), bounded by the
 * open timeout.  Returns 0 or why it failed (the client is freed). */
static int channel_handshake(virtwire_client *c, const vw_session *sess)
{
    int rc = virtwire_conn_handshake(c->conn, sess->timeout_ms);
    if (rc < 0) {
        const char *detail = virtwire_channel_error_detail(virtwire_conn_channel(c->conn));
        vw_errorf(sess->errbuf, sess->errbuf_len, "%s",
                          detail ? detail : virtwire_strerror(rc));
        client_free(c);
    }
    return rc;
}

static int open_timeout(const virtwire_client_options *o)
{
    return o->open_timeout_ms > 0 ? o->open_timeout_ms : OPEN_TIMEOUT_DEFAULT_MS;
}

/* Tells the options' on_error of a failure to set up a client: what errbuf
 * says, else the error's text. */
static int setup_failed(const virtwire_client_options *o, int rc)
{
    if (rc < 0 && o->on_error)
        o->on_error(rc, o->errbuf && o->errbuf[0] ? o->errbuf : virtwire_strerror(rc),
                    o->on_error_opaque);
    return rc;
}

static int connect_uri(const char *uri, const virtwire_client_options *o, virtwire_client **out);

int virtwire_client_connect(const char *uri, const virtwire_client_options *opts,
                            virtwire_client **out)
{
    virtwire_client_options mine = { .size = sizeof mine };
    char why[512];
    if (out)
        *out = NULL;
    if (!out || !uri || (opts && vw_sized_copy(&mine, sizeof mine, opts) < 0))
        return setup_failed(&mine, VIRTWIRE_EINVAL);
    if (mine.on_error && !mine.errbuf) {
        /* What on_error is told: the words errbuf would have. */
        mine.errbuf = why;
        mine.errbuf_len = sizeof why;
    }
    return setup_failed(&mine, connect_uri(uri, &mine, out));
}

static int connect_uri(const char *uri, const virtwire_client_options *o, virtwire_client **out)
{
    vw_session sess = { .opts = o, .timeout_ms = open_timeout(o), .errbuf = o->errbuf,
                        .errbuf_len = o->errbuf_len };
    if (o->errbuf && o->errbuf_len)
        o->errbuf[0] = '\0';
    if (o->error)
        memset(o->error, 0, sizeof *o->error);
    virtwire_uri *u;
    int rc = virtwire_uri_parse(uri, &u);
    if (rc < 0) {
        vw_errorf(o->errbuf, o->errbuf_len, "invalid URI '%s': %s", uri,
                          virtwire_strerror(rc));
        return rc;
    }
    char *name = NULL;
    if (!o->open_name && !(o->flags & (VIRTWIRE_CLIENT_ADMIN | VIRTWIRE_CLIENT_NO_OPEN)) &&
        !(name = virtwire_uri_open_name(u))) {
        virtwire_uri_free(u);
        return VIRTWIRE_ENOMEM;
    }
    virtwire_client *c = client_new(o);
    if (!c) {
        free(name);
        virtwire_uri_free(u);
        return VIRTWIRE_ENOMEM;
    }
    virtwire_connect_params params = {
        .size = sizeof params,
        .flags = ((o->flags & VIRTWIRE_CLIENT_READONLY) ? VIRTWIRE_URI_READONLY : 0) |
                 ((o->flags & VIRTWIRE_CLIENT_ADMIN) ? VIRTWIRE_URI_ADMIN : 0),
        .tls = o->tls,
        .errbuf = o->errbuf,
        .errbuf_len = o->errbuf_len,
    };
    rc = virtwire_conn_connect_with(u, &params, VIRTWIRE_TRANSPORT_CLIENT, &vw_client_conn_cbs, c,
                                    &c->conn);
    if (rc < 0) {
        free(name);
        virtwire_uri_free(u);
        client_free(c);
        return rc;
    }
    /* Every wait of the client is a poll(): level-triggered. */
    virtwire_conn_set_level_triggered(c->conn, 1);
    sess.uri = u;
    sess.name = o->open_name ? o->open_name : name;
    sess.auth = u->remote.auth;
    rc = channel_handshake(c, &sess);
    if (rc == 0)
        rc = start(c, &sess, out);
    free(name);
    virtwire_uri_free(u);
    return rc;
}

int virtwire_client_adopt(int fd, int is_unix, const virtwire_client_options *opts,
                          virtwire_client **out)
{
    virtwire_client_options mine = { .size = sizeof mine };
    if (!out || (opts && vw_sized_copy(&mine, sizeof mine, opts) < 0)) {
        if (fd >= 0)
            close(fd);
        if (out)
            *out = NULL;
        return setup_failed(&mine, VIRTWIRE_EINVAL);
    }
    *out = NULL;
    virtwire_channel *ch;
    int rc = virtwire_channel_socket_new(fd, is_unix, &ch);
    return rc < 0 ? setup_failed(&mine, rc) : virtwire_client_adopt_channel(ch, &mine, out);
}

static int adopt(virtwire_channel *ch, const virtwire_client_options *o, virtwire_client **out);

int virtwire_client_adopt_channel(virtwire_channel *ch, const virtwire_client_options *opts,
                                  virtwire_client **out)
{
    virtwire_client_options mine = { .size = sizeof mine };
    char why[512];
    if (out)
        *out = NULL;
    if (!out || !ch || (opts && vw_sized_copy(&mine, sizeof mine, opts) < 0)) {
        virtwire_channel_free(ch);
        return setup_failed(&mine, VIRTWIRE_EINVAL);
    }
    if (mine.on_error && !mine.errbuf) {
        mine.errbuf = why;
        mine.errbuf_len = sizeof why;
    }
    return setup_failed(&mine, adopt(ch, &mine, out));
}

static int adopt(virtwire_channel *ch, const virtwire_client_options *o, virtwire_client **out)
{
    vw_session sess = { .opts = o, .name = o->open_name, .timeout_ms = open_timeout(o),
                        .errbuf = o->errbuf, .errbuf_len = o->errbuf_len };
    if (o->errbuf && o->errbuf_len)
        o->errbuf[0] = '\0';
    if (o->error)
        memset(o->error, 0, sizeof *o->error);
    virtwire_client *c = client_new(o);
    if (!c) {
        virtwire_channel_free(ch);
        return VIRTWIRE_ENOMEM;
    }
    int rc = virtwire_conn_adopt_channel(ch, VIRTWIRE_TRANSPORT_CLIENT, &vw_client_conn_cbs, c,
                                         &c->conn);
    if (rc < 0) {
        client_free(c);
        return rc;
    }
    virtwire_conn_set_level_triggered(c->conn, 1); /* as above */
    rc = channel_handshake(c, &sess);
    return rc < 0 ? rc : start(c, &sess, out);
}

void virtwire_client_close(virtwire_client *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->close_called = 1; /* the daemon hangs up after CONNECT_CLOSE */
    pthread_mutex_unlock(&c->lock);
    if (c->opened && virtwire_client_error(c) == 0)
        vw_session_goodbye(c);
    pthread_mutex_lock(&c->lock);
    c->closing = 1;
    /* Wakes the I/O thread even if it is not in poll() yet: it checks
     * closing after every poll. */
    virtwire_conn_shutdown(c->conn);
    vw_client_wake_owner(c);
    pthread_cond_signal(&c->bg_cond);
    pthread_mutex_unlock(&c->lock);
    if (c->thread_started)
        pthread_join(c->thread, NULL);
    /* The I/O thread failed everything and ran the callbacks; a
     * connection that never got a thread has nothing in flight. */
    pthread_mutex_lock(&c->lock);
    vw_client_mark_dead(c, VIRTWIRE_ECLOSED);
    pthread_mutex_unlock(&c->lock);
    c->thread_started = 0;
    vw_client_run_jobs(c);
    client_free(c);
}
