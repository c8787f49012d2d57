/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guide-kv-client SOCKET_PATH put KEY VALUE | get KEY | count
 *
 * Calls kv.x's program, one of one's own, through the typed calls the
 * generator wrote into kv_client.h: KV_PROGRAM_call_kv_put(),
 * KV_PROGRAM_reply_kv_get() ...  The client connects to the socket
 * (virtwire_channel_connect_unix()) and takes the channel over with
 * VIRTWIRE_CLIENT_NO_OPEN: no libvirt handshake, calls at once.  See
 * docs/guides/own-protocol.md.
 */
#include <stdio.h>
#include <string.h>

#include "kv_client.h"

int main(int argc, char **argv)
{
    int put = argc == 5 && strcmp(argv[2], "put") == 0;
    int get = argc == 4 && strcmp(argv[2], "get") == 0;
    int count = argc == 3 && strcmp(argv[2], "count") == 0;
    if (!put && !get && !count) {
        int help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr,
                "usage: guide-kv-client SOCKET_PATH put KEY VALUE | get KEY | count\n");
        return help ? 0 : 2;
    }
    char why[256];
    virtwire_channel *ch;
    if (virtwire_channel_connect_unix(argv[1], why, sizeof why, &ch) < 0) {
        fprintf(stderr, "guide-kv-client: %s\n", why);
        return 1;
    }
    virtwire_client_options co = VIRTWIRE_CLIENT_OPTIONS(.flags = VIRTWIRE_CLIENT_NO_OPEN,
                                                         .call_timeout_ms = 10000,
                                                         .on_error = virtwire_exit_on_error,
                                                         .on_error_opaque = "guide-kv-client");
    virtwire_client *c;
    virtwire_client_adopt_channel(ch, &co, &c);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = VIRTWIRE_CALL_OPTS(.arena = &arena);
    if (put) {
        kv_put_args a = { .key = argv[3] };
        a.value.value_val = argv[4];
        a.value.value_len = (unsigned int)strlen(argv[4]);
        KV_PROGRAM_call_kv_put(c, &a, &o);
    } else if (get) {
        kv_get_ret *r = KV_PROGRAM_reply_kv_get(c, &argv[3], &o);
        if (r->found)
            printf("%.*s\n", (int)r->value.value_len, r->value.value_val);
        else
            printf("%s: no value\n", argv[3]);
    } else {
        printf("%u keys\n", KV_PROGRAM_reply_kv_count(c, &o)->keys);
    }
    virtwire_client_close(c);
    virtwire_arena_fini(&arena);
    return 0;
}
