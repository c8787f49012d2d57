/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _POSIX_C_SOURCE 200809L
#include "client_tlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote_protocol.h"
#include "vt_check.h"

/* The whole of a file of at most 1 MiB (NULL when it cannot be read). */
static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

remote_nonnull_domain clt_lookup_test(virtwire_client *c, virtwire_call_opts *o)
{
    remote_domain_lookup_by_name_args la = { "test" };
    remote_domain_lookup_by_name_ret lr;
    memset(&lr, 0, sizeof lr);
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, &la, &lr,
                                  o), 0);
    return lr.dom;
}

void clt_check_hostname(virtwire_client *c, virtwire_call_opts *o)
{
    remote_connect_get_hostname_ret h;
    memset(&h, 0, sizeof h);
    CHECK_RC(virtwire_client_call(c, &remote_program, REMOTE_PROC_CONNECT_GET_HOSTNAME, NULL, &h,
                                  o), 0);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    CHECK(h.hostname && strncmp(h.hostname, host, strlen(host)) == 0);
}

void clt_check_screenshot(virtwire_client *c, int timeout_ms)
{
    size_t want_len = 0;
    unsigned char *want = read_file(CLT_SCREENSHOT_FILE, &want_len);
    CHECK(want && want_len > 1000);
    if (!want)
        return;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = { .size = sizeof o, .arena = &arena, .timeout_ms = timeout_ms };
    remote_domain_screenshot_args sa = { clt_lookup_test(c, &o), 0, 0 };
    remote_domain_screenshot_ret sr;
    memset(&sr, 0, sizeof sr);
    virtwire_client_stream *s = NULL;
    CHECK_RC(virtwire_client_stream_call(c, &remote_program, REMOTE_PROC_DOMAIN_SCREENSHOT, &sa,
                                         &sr, &o, &s), 0);
    CHECK(sr.mime && strcmp(*sr.mime, "image/png") == 0);
    unsigned char *got = malloc(want_len + 65536);
    size_t n = 0;
    long r;
    while (s && got &&
           (r = virtwire_client_stream_recv(s, got + n, 4096, NULL, timeout_ms, NULL)) > 0)
        n += (size_t)r;
    CHECK(n == want_len && memcmp(got, want, want_len) == 0);
    if (s) {
        CHECK_RC(virtwire_client_stream_finish(s, timeout_ms, NULL), 0);
        virtwire_client_stream_free(s);
    }
    free(got);
    free(want);
    virtwire_arena_fini(&arena);
}
