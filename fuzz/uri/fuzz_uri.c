/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the URI parser (virtwire_uri_parse()) and what is
 * derived from a parsed URI: the CONNECT_OPEN name, the unix socket path
 * (through the environment hooks, never the real environment or file
 * system), the TCP endpoint and the parameters.
 *
 * Input (3 bytes, then text):
 *   byte 0  bits 0-2: virtwire_uri_socket_path_env() flags (READONLY,
 *           ADMIN, DIRECT_FALLBACK); bit 3: effective uid 0 (else 1000);
 *   byte 1  what exists() answers, one bit per call (bit 0 first);
 *   byte 2  the size of the socket path buffer (0: 108, sun_path's);
 *   text    the URI, then optionally "\n" and the values of
 *           XDG_RUNTIME_DIR, XDG_CACHE_HOME and HOME, one per line (a
 *           missing line: unset).  A NUL byte ends the text.
 *
 * Checks: the result codes are the documented ones; on failure nothing is
 * returned; a parsed URI's fields are consistent; the socket path fits the
 * buffer it is written to (exactly sized, so that ASan sees any overflow),
 * is the same whatever the buffer size when it fits, and the buffer holds
 * "" after an error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "virtwire_uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: says which, then aborts (a finding). */
static void fuzz_fail(int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
    abort();
}

#define fuzz_check(cond) ((cond) ? (void)0 : fuzz_fail(__LINE__, #cond))

typedef struct env_ctx {
    const char *vars[3]; /* XDG_RUNTIME_DIR, XDG_CACHE_HOME, HOME */
    unsigned exists_bits;
    unsigned calls;
} env_ctx;

static int fake_exists(const char *path, void *opaque)
{
    env_ctx *e = opaque;
    fuzz_check(path != NULL && path[0] != '\0');
    return (e->exists_bits >> (e->calls++ % 8)) & 1;
}

static const char *fake_getenv(const char *name, void *opaque)
{
    env_ctx *e = opaque;
    if (strcmp(name, "XDG_RUNTIME_DIR") == 0)
        return e->vars[0];
    if (strcmp(name, "XDG_CACHE_HOME") == 0)
        return e->vars[1];
    if (strcmp(name, "HOME") == 0)
        return e->vars[2];
    return NULL;
}

static void check_parsed(const virtwire_uri *u)
{
    fuzz_check(u->scheme && u->driver && u->path);
    fuzz_check(strlen(u->driver) <= strlen(u->scheme));
    fuzz_check(strncmp(u->scheme, u->driver, strlen(u->driver)) == 0);
    fuzz_check(u->port >= 0 && u->port <= 65535);
    fuzz_check(virtwire_uri_transport_name(u->transport) != NULL);
    fuzz_check(u->nparams == 0 || u->params);
    for (size_t i = 0; i < u->nparams; i++) {
        fuzz_check(u->params[i].name && u->params[i].value);
        /* get_param finds the first parameter of that name. */
        const char *v = virtwire_uri_get_param(u, u->params[i].name);
        size_t first = 0;
        while (strcasecmp(u->params[first].name, u->params[i].name) != 0)
            first++;
        fuzz_check(v == u->params[first].value);
    }
    fuzz_check(virtwire_uri_connect_host(u) != NULL);
    int port = virtwire_uri_tcp_port(u);
    fuzz_check(port == VIRTWIRE_EINVAL || (port >= 1 && port <= 65535));
    int sup = virtwire_uri_supported(u);
    fuzz_check(sup == 0 || sup == VIRTWIRE_EUNSUPPORTED_TRANSPORT);

    char *name = virtwire_uri_open_name(u);
    fuzz_check(name != NULL);
    free(name);
}

static int socket_code_ok(int rc)
{
    return rc == 0 || rc == VIRTWIRE_EINVAL || rc == VIRTWIRE_ENOSPACE ||
           rc == VIRTWIRE_EURI_SOCKET || rc == VIRTWIRE_EURI_PARAM;
}

/* The socket path into an exactly sized buffer of len bytes. */
static int socket_path(const virtwire_uri *u, unsigned flags, env_ctx *e, const uid_t *euid,
                       size_t len, char **out)
{
    virtwire_uri_env env = { sizeof env, fake_exists, fake_getenv, euid, e };
    char *buf = malloc(len);
    fuzz_check(buf != NULL);
    memset(buf, 'x', len);
    e->calls = 0;
    int rc = virtwire_uri_socket_path_env(u, flags, &env, buf, len);
    fuzz_check(socket_code_ok(rc));
    fuzz_check(memchr(buf, '\0', len) != NULL);
    if (rc < 0)
        fuzz_check(buf[0] == '\0');
    *out = buf;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    unsigned flags = data[0] & 7u;
    uid_t euid = (data[0] & 8u) ? 0 : 1000;
    size_t buflen = data[2] ? data[2] : 108;

    /* The text, NUL-terminated, cut into lines. */
    char *text = malloc(size - 3 + 1);
    fuzz_check(text != NULL);
    memcpy(text, data + 3, size - 3);
    text[size - 3] = '\0';
    env_ctx e = { { NULL, NULL, NULL }, data[1], 0 };
    char *nl = strchr(text, '\n');
    for (int i = 0; nl && i < 3; i++) {
        *nl = '\0';
        e.vars[i] = nl + 1;
        nl = strchr(nl + 1, '\n');
    }
    if (nl)
        *nl = '\0';

    virtwire_uri *u = (virtwire_uri *)(uintptr_t)1;
    int rc = virtwire_uri_parse(text, &u);
    fuzz_check(rc == 0 || rc == VIRTWIRE_ETOOLONG || rc == VIRTWIRE_EURI ||
               rc == VIRTWIRE_EURI_TRANSPORT || rc == VIRTWIRE_EURI_UNIX_HOST ||
               rc == VIRTWIRE_EURI_PARAM);
    fuzz_check((rc == 0) == (u != NULL));
    if (strlen(text) > VIRTWIRE_URI_MAX_LENGTH)
        fuzz_check(rc == VIRTWIRE_ETOOLONG);
    if (rc == 0) {
        check_parsed(u);
        char *small, *big;
        int rs = socket_path(u, flags, &e, &euid, buflen, &small);
        int rb = socket_path(u, flags, &e, &euid, 8192, &big);
        if (rs == 0)
            fuzz_check(rb == 0 && strcmp(small, big) == 0);
        else if (rs == VIRTWIRE_ENOSPACE)
            fuzz_check(rb == VIRTWIRE_ENOSPACE || (rb == 0 && strlen(big) >= buflen));
        else
            fuzz_check(rb == rs);
        free(small);
        free(big);
        char one;
        fuzz_check(virtwire_uri_socket_path_env(u, flags, NULL, &one, 0) == VIRTWIRE_EINVAL);
        virtwire_uri_free(u);
    }
    free(text);
    return 0;
}
