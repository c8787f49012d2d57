/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guide-kv-server SOCKET_PATH: serves kv.x, a program of one's own, on a
 * unix socket until SIGINT or SIGTERM.  See docs/guides/own-protocol.md.
 *
 * The generator named everything after the .x file: the program
 * KV_PROGRAM's table is KV_PROGRAM_program (kv.h), its typed handler
 * table KV_PROGRAM_server_handlers with a member per procedure, in lower
 * case (kv_put, kv_get, kv_count), installed with KV_PROGRAM_server_bind()
 * (kv_server.h).  No libvirt handshake: a client calls at once.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_server.h"

#define MAX_KEYS 64

/* The store: keys and values of the heap, kept across calls. */
typedef struct store {
    char *key[MAX_KEYS];
    char *value[MAX_KEYS];
    unsigned int len[MAX_KEYS];
    unsigned int n;
} store;

static int find(const store *s, const char *key)
{
    for (unsigned int i = 0; i < s->n; i++)
        if (strcmp(s->key[i], key) == 0)
            return (int)i;
    return -1;
}

static int kv_put(virtwire_server_call *call, const kv_put_args *a, void *opaque)
{
    store *s = opaque;
    int i = find(s, a->key);
    if (i < 0 && s->n == MAX_KEYS)
        return virtwire_server_call_error(call, 1, 0, "the store is full (%d keys)", MAX_KEYS);
    char *value = malloc(a->value.value_len ? a->value.value_len : 1);
    char *key = i < 0 ? strdup(a->key) : NULL;
    if (!value || (i < 0 && !key)) {
        free(value);
        free(key);
        return virtwire_server_call_error(call, 1, 0, "out of memory");
    }
    if (i < 0) {
        i = (int)s->n++;
        s->key[i] = key;
    } else {
        free(s->value[i]);
    }
    memcpy(value, a->value.value_val, a->value.value_len);
    s->value[i] = value;
    s->len[i] = a->value.value_len;
    return 0;
}

static int kv_get(virtwire_server_call *call, const kv_key *key, kv_get_ret *r, void *opaque)
{
    (void)call;
    store *s = opaque;
    int i = find(s, *key);
    if (i >= 0) {
        /* Borrowed from the store: the reply is encoded before the store
         * can change. */
        r->found = 1;
        r->value.value_val = s->value[i];
        r->value.value_len = s->len[i];
    }
    return 0;
}

static int kv_count(virtwire_server_call *call, kv_count_ret *r, void *opaque)
{
    (void)call;
    r->keys = ((store *)opaque)->n;
    return 0;
}

static virtwire_server *server;

static void on_signal(int sig)
{
    (void)sig;
    virtwire_server_stop(server);
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        int help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr, "usage: guide-kv-server SOCKET_PATH\n");
        return help ? 0 : 2;
    }
    static store s;
    static const KV_PROGRAM_server_handlers handlers = {
        .kv_put = kv_put,
        .kv_get = kv_get,
        .kv_count = kv_count,
    };
    static const KV_PROGRAM_server_binding binding = { &handlers, &s };
    if (virtwire_server_new(NULL, NULL, &server) < 0)
        return 1;
    if (virtwire_server_register(server, &KV_PROGRAM_program) < 0 ||
        KV_PROGRAM_server_bind(server, &binding) < 0 ||
        virtwire_server_listen_unix(server, argv[1]) < 0) {
        fprintf(stderr, "guide-kv-server: setting up failed\n");
        virtwire_server_free(server);
        return 1;
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("guide-kv-server: listening on %s\n", argv[1]);
    fflush(stdout);
    int rc = virtwire_server_run(server);
    virtwire_server_free(server);
    for (unsigned int i = 0; i < s.n; i++) {
        free(s.key[i]);
        free(s.value[i]);
    }
    return rc < 0;
}
