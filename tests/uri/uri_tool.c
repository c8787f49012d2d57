/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Prints what virtwire derives from URIs, one JSON object per line, for
 * test_libvirt.py to compare with what libvirt itself derives.
 *
 *   uri_tool [--euid N] [--readonly] URI...
 *
 * Per URI: the parse result (rc and the error's name), the components, the
 * CONNECT_OPEN name, the URI virt-ssh-helper gets, and the unix socket
 * chosen with the real environment and filesystem (--euid overrides only
 * the uid the choice is made for).
 */
#include "virtwire_uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints s as a JSON string (the parser lets no control character
 * through, so only quotes and backslashes need escaping). */
static void json_string(const char *s)
{
    if (!s) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void field(const char *key, const char *value)
{
    printf(", \"%s\": ", key);
    json_string(value);
}

/* A field whose value was allocated for it (NULL: out of memory, which
 * ends the program). */
static void field_owned(const char *key, char *value)
{
    if (!value) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    field(key, value);
    free(value);
}

static void report(const char *text, const virtwire_uri_env *env, unsigned int flags)
{
    virtwire_uri *uri;
    int rc = virtwire_uri_parse(text, &uri);

    fputs("{\"uri\": ", stdout);
    json_string(text);
    printf(", \"rc\": %d", rc);
    if (rc < 0) {
        printf("}\n");
        return;
    }
    field("scheme", uri->scheme);
    field("driver", uri->driver);
    field("transport", virtwire_uri_transport_name(uri->transport));
    field("user", uri->user);
    field("host", uri->host);
    printf(", \"port\": %d", uri->port);
    field("path", uri->path);
    field("fragment", uri->fragment);

    field_owned("name", virtwire_uri_open_name(uri));
    field_owned("helper", virtwire_uri_ssh_helper_name(uri));

    char path[4096];
    int src = virtwire_uri_socket_path_env(uri, flags, env, path, sizeof path);
    printf(", \"socket_rc\": %d", src);
    field("socket", src == 0 ? path : NULL);
    printf("}\n");
    virtwire_uri_free(uri);
}

int main(int argc, char **argv)
{
    uid_t euid;
    virtwire_uri_env env = { .size = sizeof env };
    unsigned int flags = 0;
    int i = 1;

    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--euid") == 0 && i + 1 < argc) {
            euid = (uid_t)strtoul(argv[++i], NULL, 10);
            env.euid = &euid;
        } else if (strcmp(argv[i], "--readonly") == 0) {
            flags |= VIRTWIRE_URI_READONLY;
        } else {
            fprintf(stderr, "usage: uri_tool [--euid N] [--readonly] URI...\n");
            return 2;
        }
    }
    for (; i < argc; i++)
        report(argv[i], &env, flags);
    return ferror(stdout) ? 1 : 0;
}
