/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of virtwire_uri: tables of URIs with the components, the
 * CONNECT_OPEN name and the unix socket expected of each, and malformed URIs
 * with their error codes.  The expected values are written by hand from
 * libvirt 11.3.0's sources (remote_driver.c, remote_sockets.c, viruri.c,
 * libvirt-admin.c) and libxml2's URI rules; test_libvirt.py checks the ones
 * that a real libvirt can show against libvirt itself.
 *
 *   test_uri [GROUP]   runs every group, or the one named
 */
#include "virtwire_uri.h"
#include "vt_check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int str_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static const char *show(const char *s)
{
    return s ? s : "(null)";
}

#define CHECK_FIELD(uri, what, got, want)                                     \
    CHECK_MSG(str_eq(got, want), "%s: %s is \"%s\", expected \"%s\"", uri, what, \
              show(got), show(want))

/* ------------------------------------------------------------------------ */
/* Components and names                                                     */
/* ------------------------------------------------------------------------ */

#define U VIRTWIRE_URI_TRANSPORT_UNIX
#define TCP VIRTWIRE_URI_TRANSPORT_TCP
#define TLS VIRTWIRE_URI_TRANSPORT_TLS
#define SSH VIRTWIRE_URI_TRANSPORT_SSH
#define LIBSSH VIRTWIRE_URI_TRANSPORT_LIBSSH
#define LIBSSH2 VIRTWIRE_URI_TRANSPORT_LIBSSH2
#define EXT VIRTWIRE_URI_TRANSPORT_EXT

struct param {
    const char *name;
    const char *value;
    int consumed;
};

struct parse_case {
    const char *uri;
    const char *driver;
    virtwire_uri_transport transport;
    int explicit_transport;
    const char *user;
    const char *host;
    int port;
    const char *path;
    const char *query;
    const char *fragment;
    struct param params[8]; /* up to the first with a NULL name */
    const char *name;       /* the CONNECT_OPEN name */
};

static const struct parse_case parse_cases[] = {
    { "qemu:///system", "qemu", U, 0, NULL, NULL, 0, "/system", NULL, NULL, { { 0 } },
      "qemu:///system" },
    { "qemu:///session", "qemu", U, 0, NULL, NULL, 0, "/session", NULL, NULL, { { 0 } },
      "qemu:///session" },
    { "test+tcp://127.0.0.1:16509/default", "test", TCP, 1, NULL, "127.0.0.1", 16509,
      "/default", NULL, NULL, { { 0 } }, "test:///default" },
    { "qemu+unix:///system?socket=/x/y", "qemu", U, 1, NULL, NULL, 0, "/system",
      "socket=/x/y", NULL, { { "socket", "/x/y", 1 } }, "qemu:///system" },
    { "qemu:///system?foo=a%20b&mode=direct", "qemu", U, 0, NULL, NULL, 0, "/system",
      "foo=a%20b&mode=direct", NULL, { { "foo", "a b", 0 }, { "mode", "direct", 1 } },
      "qemu:///system?foo=a%20b" },
    /* Host alone: TLS by default; the name keeps an empty authority. */
    { "qemu://example.org/system", "qemu", TLS, 0, NULL, "example.org", 0, "/system",
      NULL, NULL, { { 0 } }, "qemu:///system" },
    { "qemu+ssh://admin@example.org:2222/system?keyfile=/k&no_tty=1", "qemu", SSH, 1,
      "admin", "example.org", 2222, "/system", "keyfile=/k&no_tty=1", NULL,
      { { "keyfile", "/k", 1 }, { "no_tty", "1", 1 } }, "qemu:///system" },
    /* IPv6 literal: brackets dropped, zone decoded like libxml2 does. */
    { "qemu+tcp://[::1]:16509/system", "qemu", TCP, 1, NULL, "::1", 16509, "/system",
      NULL, NULL, { { 0 } }, "qemu:///system" },
    { "qemu+tls://[fe80::1%25eth0]/system", "qemu", TLS, 1, NULL, "fe80::1%eth0", 0,
      "/system", NULL, NULL, { { 0 } }, "qemu:///system" },
    { "qemu+tcp://[::ffff:192.0.2.1]:1/x", "qemu", TCP, 1, NULL, "::ffff:192.0.2.1", 1,
      "/x", NULL, NULL, { { 0 } }, "qemu:///x" },
    /* Transport names are case-insensitive, the driver is kept as written. */
    { "QEMU+UNIX:///system", "QEMU", U, 1, NULL, NULL, 0, "/system", NULL, NULL,
      { { 0 } }, "QEMU:///system" },
    { "qemu+LibSSH2://h/system", "qemu", LIBSSH2, 1, NULL, "h", 0, "/system", NULL, NULL,
      { { 0 } }, "qemu:///system" },
    { "qemu+libssh://h/system", "qemu", LIBSSH, 1, NULL, "h", 0, "/system", NULL, NULL,
      { { 0 } }, "qemu:///system" },
    { "qemu+ext:///system?command=/bin/x", "qemu", EXT, 1, NULL, NULL, 0, "/system",
      "command=/bin/x", NULL, { { "command", "/bin/x", 1 } }, "qemu:///system" },
    { "qemu+tls:///system", "qemu", TLS, 1, NULL, NULL, 0, "/system", NULL, NULL,
      { { 0 } }, "qemu:///system" },
    /* Decoded user, host and path; the path re-encoded like xmlSaveUri. */
    { "qemu://us%40er:pw@h%41st/system", "qemu", TLS, 0, "us@er:pw", "hAst", 0,
      "/system", NULL, NULL, { { 0 } }, "qemu:///system" },
    { "qemu:///sys%20tem", "qemu", U, 0, NULL, NULL, 0, "/sys tem", NULL, NULL, { { 0 } },
      "qemu:///sys%20tem" },
    { "qemu:///p%3Aa%2Fb%40%7E%25", "qemu", U, 0, NULL, NULL, 0, "/p:a/b@~%", NULL, NULL,
      { { 0 } }, "qemu:///p%3Aa/b@~%25" },
    { "qemu:///a;b,c=d$!*'()", "qemu", U, 0, NULL, NULL, 0, "/a;b,c=d$!*'()", NULL, NULL,
      { { 0 } }, "qemu:///a;b,c=d$!*'()" },
    { "qemu:///%C3%A9", "qemu", U, 0, NULL, NULL, 0, "/\xc3\xa9", NULL, NULL, { { 0 } },
      "qemu:///%C3%A9" },
    /* Fragments: kept, decoded, re-encoded (xmlSaveUri keeps more there). */
    { "qemu:///system#frag%20x", "qemu", U, 0, NULL, NULL, 0, "/system", NULL, "frag x",
      { { 0 } }, "qemu:///system#frag%20x" },
    { "qemu:///system#", "qemu", U, 0, NULL, NULL, 0, "/system", NULL, "", { { 0 } },
      "qemu:///system#" },
    { "qemu:///system#a?b/c:d@%5B%5D%7B", "qemu", U, 0, NULL, NULL, 0, "/system", NULL,
      "a?b/c:d@[]{", { { 0 } }, "qemu:///system#a?b/c:d@[]%7B" },
    { "qemu:///system#[x]", "qemu", U, 0, NULL, NULL, 0, "/system", NULL, "[x]", { { 0 } },
      "qemu:///system#[x]" },
    /* An empty query adds nothing. */
    { "qemu:///system?", "qemu", U, 0, NULL, NULL, 0, "/system", "", NULL, { { 0 } },
      "qemu:///system" },
    /* Values re-encoded keeping only unreserved characters; names raw. */
    { "qemu:///s?a=%26%3D%2F&b=~._-&c=%C3%A9&d=!:@/?", "qemu", U, 0, NULL, NULL, 0, "/s",
      "a=%26%3D%2F&b=~._-&c=%C3%A9&d=!:@/?", NULL,
      { { "a", "&=/", 0 }, { "b", "~._-", 0 }, { "c", "\xc3\xa9", 0 }, { "d", "!:@/?", 0 } },
      "qemu:///s?a=%26%3D%2F&b=~._-&c=%C3%A9&d=%21%3A%40%2F%3F" },
    { "qemu:///s?a%20b=1&%26=2", "qemu", U, 0, NULL, NULL, 0, "/s", "a%20b=1&%26=2", NULL,
      { { "a b", "1", 0 }, { "&", "2", 0 } }, "qemu:///s?a b=1&&=2" },
    /* "name" alone and "name=" have the value ""; "=value" and empty
     * sections are skipped. */
    { "qemu:///s?a&b=&=c&&d=1", "qemu", U, 0, NULL, NULL, 0, "/s", "a&b=&=c&&d=1", NULL,
      { { "a", "", 0 }, { "b", "", 0 }, { "d", "1", 0 } }, "qemu:///s?a=&b=&d=1" },
    /* ';' separates only when no '&' follows (libvirt's viruri.c). */
    { "qemu:///x?a=b;c=d&e=f;g=h", "qemu", U, 0, NULL, NULL, 0, "/x", "a=b;c=d&e=f;g=h",
      NULL, { { "a", "b;c=d", 0 }, { "e", "f", 0 }, { "g", "h", 0 } },
      "qemu:///x?a=b%3Bc%3Dd&e=f&g=h" },
    { "qemu:///x?a=1;b=2;;c", "qemu", U, 0, NULL, NULL, 0, "/x", "a=1;b=2;;c", NULL,
      { { "a", "1", 0 }, { "b", "2", 0 }, { "c", "", 0 } }, "qemu:///x?a=1&b=2&c=" },
    /* Every parameter the remote driver consumes, names case-insensitive. */
    { "qemu:///s?Name=n&COMMAND=c&socket=s&auth=a&sshauth=sa&netcat=nc&keyfile=k&x=1",
      "qemu", U, 0, NULL, NULL, 0, "/s",
      "Name=n&COMMAND=c&socket=s&auth=a&sshauth=sa&netcat=nc&keyfile=k&x=1", NULL,
      { { "Name", "n", 1 }, { "COMMAND", "c", 1 }, { "socket", "s", 1 }, { "auth", "a", 1 },
        { "sshauth", "sa", 1 }, { "netcat", "nc", 1 }, { "keyfile", "k", 1 },
        { "x", "1", 0 } },
      "n" },
    { "qemu:///s?pkipath=p&known_hosts=k&known_hosts_verify=v&tls_priority=t&mode=auto"
      "&proxy=native&authfile=f&y=2",
      "qemu", U, 0, NULL, NULL, 0, "/s",
      "pkipath=p&known_hosts=k&known_hosts_verify=v&tls_priority=t&mode=auto"
      "&proxy=native&authfile=f&y=2", NULL,
      { { "pkipath", "p", 1 }, { "known_hosts", "k", 1 }, { "known_hosts_verify", "v", 1 },
        { "tls_priority", "t", 1 }, { "mode", "auto", 1 }, { "proxy", "native", 1 },
        { "authfile", "f", 1 }, { "y", "2", 0 } },
      "qemu:///s?y=2" },
    { "lxc:///s?no_verify=1&no_tty=0&no_sanity=-7&x=y", "lxc", U, 0, NULL, NULL, 0, "/s",
      "no_verify=1&no_tty=0&no_sanity=-7&x=y", NULL,
      { { "no_verify", "1", 1 }, { "no_tty", "0", 1 }, { "no_sanity", "-7", 1 },
        { "x", "y", 0 } },
      "lxc:///s?x=y" },
    /* ?name= wins, verbatim, even empty; the last one counts. */
    { "qemu:///system?name=qemu:///embed", "qemu", U, 0, NULL, NULL, 0, "/system",
      "name=qemu:///embed", NULL, { { "name", "qemu:///embed", 1 } }, "qemu:///embed" },
    { "qemu:///system?name=", "qemu", U, 0, NULL, NULL, 0, "/system", "name=", NULL,
      { { "name", "", 1 } }, "" },
    { "qemu:///system?name=&name=foo", "qemu", U, 0, NULL, NULL, 0, "/system",
      "name=&name=foo", NULL, { { "name", "", 1 }, { "name", "foo", 1 } }, "foo" },
    /* The remote driver lets the daemon pick. */
    { "remote:///", "remote", U, 0, NULL, NULL, 0, "/", NULL, NULL, { { 0 } }, "" },
    { "remote+tcp://h/system?x=1", "remote", TCP, 1, NULL, "h", 0, "/system", "x=1", NULL,
      { { "x", "1", 0 } }, "" },
    { "Remote:///", "Remote", U, 0, NULL, NULL, 0, "/", NULL, NULL, { { 0 } },
      "Remote:///" },
    /* Forms without "//" and without a path, as libxml2 reads them. */
    { "qemu:/system", "qemu", U, 0, NULL, NULL, 0, "/system", NULL, NULL, { { 0 } },
      "qemu:///system" },
    { "qemu:system", "qemu", U, 0, NULL, NULL, 0, "system", NULL, NULL, { { 0 } },
      "qemu://system" },
    { "qemu:", "qemu", U, 0, NULL, NULL, 0, "", NULL, NULL, { { 0 } }, "qemu://" },
    { "qemu://h", "qemu", TLS, 0, NULL, "h", 0, "", NULL, NULL, { { 0 } }, "qemu://" },
    { "qemu://h?x=1#f", "qemu", TLS, 0, NULL, "h", 0, "", "x=1", "f", { { "x", "1", 0 } },
      "qemu://?x=1#f" },
    { "qemu://h:0/system", "qemu", TLS, 0, NULL, "h", 0, "/system", NULL, NULL, { { 0 } },
      "qemu:///system" },
    { "qemu://h:65535/system", "qemu", TLS, 0, NULL, "h", 65535, "/system", NULL, NULL,
      { { 0 } }, "qemu:///system" },
    { "qemu://u@/system", "qemu", U, 0, "u", NULL, 0, "/system", NULL, NULL, { { 0 } },
      "qemu:///system" },
    /* An empty user (libxml2 2.9, hence libvirt, returns garbage here). */
    { "qemu+tcp://@h/x", "qemu", TCP, 1, "", "h", 0, "/x", NULL, NULL, { { 0 } },
      "qemu:///x" },
    { "qemu:////x", "qemu", U, 0, NULL, NULL, 0, "//x", NULL, NULL, { { 0 } },
      "qemu:////x" },
    { "a.b-c+tcp://h/x", "a.b-c", TCP, 1, NULL, "h", 0, "/x", NULL, NULL, { { 0 } },
      "a.b-c:///x" },
    /* qemu+tcp://system is a host called system (only plain qemu:// is
     * refused). */
    { "qemu+tcp://system/x", "qemu", TCP, 1, NULL, "system", 0, "/x", NULL, NULL,
      { { 0 } }, "qemu:///x" },
};

static void check_params(const char *text, const virtwire_uri *uri,
                         const struct param *want)
{
    size_t n = 0;
    while (n < 8 && want[n].name)
        n++;
    CHECK_MSG(uri->nparams == n, "%s: %zu params, expected %zu", text, uri->nparams, n);
    for (size_t i = 0; i < n && i < uri->nparams; i++) {
        CHECK_FIELD(text, "param name", uri->params[i].name, want[i].name);
        CHECK_FIELD(text, "param value", uri->params[i].value, want[i].value);
        CHECK_MSG(uri->params[i].consumed == want[i].consumed, "%s: param %zu consumed %d",
                  text, i, uri->params[i].consumed);
    }
}

static void group_parse(void)
{
    size_t count = sizeof parse_cases / sizeof parse_cases[0];
    CHECK_MSG(count >= 40, "only %zu parse cases", count);
    for (size_t i = 0; i < count; i++) {
        const struct parse_case *c = &parse_cases[i];
        virtwire_uri *uri = (virtwire_uri *)1;
        int rc = virtwire_uri_parse(c->uri, &uri);
        CHECK_MSG(rc == 0, "%s: rc %d", c->uri, rc);
        if (rc != 0) {
            CHECK_MSG(uri == NULL, "%s: *out not NULL on failure", c->uri);
            continue;
        }
        size_t scheme_len = strcspn(c->uri, ":");
        CHECK_MSG(strlen(uri->scheme) == scheme_len &&
                  strncmp(uri->scheme, c->uri, scheme_len) == 0,
                  "%s: scheme %s", c->uri, uri->scheme);
        CHECK_FIELD(c->uri, "driver", uri->driver, c->driver);
        CHECK_MSG(uri->transport == c->transport, "%s: transport %d", c->uri, uri->transport);
        CHECK_MSG(uri->transport_explicit == c->explicit_transport, "%s: explicit %d", c->uri,
                  uri->transport_explicit);
        CHECK_FIELD(c->uri, "user", uri->user, c->user);
        CHECK_FIELD(c->uri, "host", uri->host, c->host);
        CHECK_MSG(uri->port == c->port, "%s: port %d", c->uri, uri->port);
        CHECK_FIELD(c->uri, "path", uri->path, c->path);
        CHECK_FIELD(c->uri, "query", uri->query, c->query);
        CHECK_FIELD(c->uri, "fragment", uri->fragment, c->fragment);
        check_params(c->uri, uri, c->params);

        char *name = virtwire_uri_open_name(uri);
        CHECK_MSG(name != NULL, "%s: no name", c->uri);
        CHECK_FIELD(c->uri, "open name", name, c->name);
        free(name);
        virtwire_uri_free(uri);
    }
}

/* The URI virt-ssh-helper gets: the CONNECT_OPEN name with mode and
 * socket kept (libvirt 11.3.0's remoteConnectFormatURI(uri, driver, true)). */
static void group_helper(void)
{
    static const struct {
        const char *uri, *name, *helper;
    } cases[] = {
        { "qemu+ssh://h/system", "qemu:///system", "qemu:///system" },
        { "test+ssh://u@h:22/default?socket=/run/x%20y&keyfile=/k&foo=1",
          "test:///default?foo=1", "test:///default?socket=%2Frun%2Fx%20y&foo=1" },
        { "qemu+ssh://h/system?Mode=legacy&SOCKET=/a&socket=/b&no_tty=1#f",
          "qemu:///system#f", "qemu:///system?Mode=legacy&SOCKET=%2Fa&socket=%2Fb#f" },
        { "qemu+ssh://h/system?name=qemu:///embed&socket=/a", "qemu:///embed",
          "qemu:///embed" },
        { "remote+ssh://h/?socket=/a", "", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        virtwire_uri *uri;
        CHECK_MSG(virtwire_uri_parse(cases[i].uri, &uri) == 0, "%s", cases[i].uri);
        if (!uri)
            continue;
        char *name = virtwire_uri_open_name(uri);
        char *helper = virtwire_uri_ssh_helper_name(uri);
        CHECK_FIELD(cases[i].uri, "open name", name, cases[i].name);
        CHECK_FIELD(cases[i].uri, "helper name", helper, cases[i].helper);
        free(name);
        free(helper);
        virtwire_uri_free(uri);
    }
    CHECK(virtwire_uri_ssh_helper_name(NULL) == NULL);
}

/* The remote struct: what the client takes out of the query. */
static void group_remote(void)
{
    virtwire_uri *uri;
    const char *text = "qemu+ssh://h/s?socket=/a&SOCKET=/b&mode=legacy&proxy=netcat"
                       "&no_sanity=%201&no_verify=%2B2&no_tty=-3&auth=polkit"
                       "&known_hosts_verify=auto&x=%7E";
    CHECK_MSG(virtwire_uri_parse(text, &uri) == 0, "parse");
    if (!uri)
        return;
    CHECK_FIELD(text, "socket (last wins)", uri->remote.socket, "/b");
    CHECK_MSG(uri->remote.mode == VIRTWIRE_URI_MODE_LEGACY, "mode %d", uri->remote.mode);
    CHECK_MSG(uri->remote.has_proxy && uri->remote.proxy == VIRTWIRE_URI_PROXY_NETCAT,
              "proxy %d/%d", uri->remote.has_proxy, uri->remote.proxy);
    /* Integers as strtol reads them: leading space and sign allowed. */
    CHECK_MSG(uri->remote.no_sanity == 1, "no_sanity %d", uri->remote.no_sanity);
    CHECK_MSG(uri->remote.no_verify == 2, "no_verify %d", uri->remote.no_verify);
    CHECK_MSG(uri->remote.no_tty == -3, "no_tty %d", uri->remote.no_tty);
    CHECK_FIELD(text, "auth", uri->remote.auth, "polkit");
    CHECK_FIELD(text, "known_hosts_verify", uri->remote.known_hosts_verify, "auto");
    CHECK_FIELD(text, "name", uri->remote.name, NULL);
    CHECK_FIELD(text, "keyfile", uri->remote.keyfile, NULL);
    CHECK_FIELD(text, "get_param X", virtwire_uri_get_param(uri, "X"), "~");
    CHECK_FIELD(text, "get_param socket (first)", virtwire_uri_get_param(uri, "socket"), "/a");
    CHECK_FIELD(text, "get_param missing", virtwire_uri_get_param(uri, "nope"), NULL);
    virtwire_uri_free(uri);

    CHECK_MSG(virtwire_uri_parse("qemu:///s", &uri) == 0, "parse");
    if (!uri)
        return;
    CHECK_MSG(uri->remote.mode == VIRTWIRE_URI_MODE_AUTO && !uri->remote.has_proxy &&
              uri->remote.no_sanity == 0 && uri->remote.socket == NULL,
              "defaults");
    virtwire_uri_free(uri);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

struct error_case {
    const char *uri;
    int code;
};

static const struct error_case error_cases[] = {
    /* Syntax (libxml2 refuses these too). */
    { "", VIRTWIRE_EURI },
    { "/system", VIRTWIRE_EURI },
    { "qemu", VIRTWIRE_EURI },
    { "1qemu:///x", VIRTWIRE_EURI },
    { "+tcp://h/x", VIRTWIRE_EURI },
    { "qe_mu:///x", VIRTWIRE_EURI },
    { "qemu:///a b", VIRTWIRE_EURI },
    { "qemu:///a\tb", VIRTWIRE_EURI },
    { "qemu:///a\nb", VIRTWIRE_EURI },
    { "qemu:///a\x7f", VIRTWIRE_EURI },
    { "qemu:///\xc3\xa9", VIRTWIRE_EURI },
    { "qemu:///a%zz", VIRTWIRE_EURI },
    { "qemu:///a%4", VIRTWIRE_EURI },
    { "qemu:///a%", VIRTWIRE_EURI },
    { "qemu:///a?b=%g0", VIRTWIRE_EURI },
    { "qemu:///a#%", VIRTWIRE_EURI },
    { "qemu://h%2/x", VIRTWIRE_EURI },
    { "qemu://u%@h/x", VIRTWIRE_EURI },
    { "qemu:///x#a#b", VIRTWIRE_EURI },
    { "qemu:///x?a=[b]", VIRTWIRE_EURI },
    { "qemu:///x{y}", VIRTWIRE_EURI },
    { "qemu:///x\"y", VIRTWIRE_EURI },
    { "qemu:///x\\y", VIRTWIRE_EURI },
    { "qemu://h:5:6/x", VIRTWIRE_EURI },
    { "qemu://h:/x", VIRTWIRE_EURI },
    { "qemu://h:12a/x", VIRTWIRE_EURI },
    { "qemu://a@b@h/x", VIRTWIRE_EURI },
    { "qemu://h^/x", VIRTWIRE_EURI },
    { "qemu://[::1/x", VIRTWIRE_EURI },
    { "qemu://[::1]x/x", VIRTWIRE_EURI },
    { "qemu://[::1]:/x", VIRTWIRE_EURI },
    { "qemu://[]/x", VIRTWIRE_EURI },
    /* Departures from libvirt, which accepts these. */
    { "qemu://h:65536/x", VIRTWIRE_EURI },
    { "qemu://h:000001/x", VIRTWIRE_EURI },
    { "qemu://:5/x", VIRTWIRE_EURI },
    { "qemu://u@:5/x", VIRTWIRE_EURI },
    { "qemu://[zz]/x", VIRTWIRE_EURI },
    { "qemu://[1.2.3.4]/x", VIRTWIRE_EURI },
    { "qemu://[::1%25]/x", VIRTWIRE_EURI },
    { "qemu://[::1%eth0]/x", VIRTWIRE_EURI },
    { "qemu:///a%00b", VIRTWIRE_EURI },
    { "qemu:///a%0Ab", VIRTWIRE_EURI },
    { "qemu:///a?x=%1F", VIRTWIRE_EURI },
    { "qemu:///a#%7F", VIRTWIRE_EURI },
    { "qemu://h%09/x", VIRTWIRE_EURI },
    { "qemu://u%0D@h/x", VIRTWIRE_EURI },
    /* libvirt's virConnectCheckURIMissingSlash(). */
    { "qemu://system", VIRTWIRE_EURI },
    { "qemu://session/x", VIRTWIRE_EURI },
    { "vbox://session", VIRTWIRE_EURI },
    { "vz://system/", VIRTWIRE_EURI },
    /* Transports. */
    { "qemu+foo:///system", VIRTWIRE_EURI_TRANSPORT },
    { "qemu+:///system", VIRTWIRE_EURI_TRANSPORT },
    { "qemu+tcp+tls://h/system", VIRTWIRE_EURI_TRANSPORT },
    { "qemu+unixx:///system", VIRTWIRE_EURI_TRANSPORT },
    { "qemu+uni:///system", VIRTWIRE_EURI_TRANSPORT },
    { "qemu+unix://h/system", VIRTWIRE_EURI_UNIX_HOST },
    { "qemu+UNIX://[::1]/system", VIRTWIRE_EURI_UNIX_HOST },
    { "qemu+unix://u@h:1/system", VIRTWIRE_EURI_UNIX_HOST },
    /* Parameter values. */
    { "qemu:///system?no_sanity=yes", VIRTWIRE_EURI_PARAM },
    { "qemu:///system?no_sanity", VIRTWIRE_EURI_PARAM },
    { "qemu:///system?NO_TTY=1x", VIRTWIRE_EURI_PARAM },
    { "qemu:///system?no_verify=99999999999", VIRTWIRE_EURI_PARAM },
    { "qemu:///system?no_verify=2147483648", VIRTWIRE_EURI_PARAM },
    { "qemu:///system?mode=Direct", VIRTWIRE_EURI_PARAM },
    { "qemu:///system?mode=", VIRTWIRE_EURI_PARAM },
    { "qemu:///system?proxy=ssh", VIRTWIRE_EURI_PARAM },
    /* libvirt checks the scheme before the parameters. */
    { "qemu+foo:///system?mode=bad", VIRTWIRE_EURI_TRANSPORT },
    { "qemu://system?mode=bad", VIRTWIRE_EURI },
};

static void group_errors(void)
{
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const struct error_case *c = &error_cases[i];
        virtwire_uri *uri = (virtwire_uri *)1;
        int rc = virtwire_uri_parse(c->uri, &uri);
        CHECK_MSG(rc == c->code, "\"%s\": rc %d, expected %d", c->uri, rc, c->code);
        CHECK_MSG(uri == NULL, "\"%s\": *out not NULL", c->uri);
        if (rc == 0)
            virtwire_uri_free(uri);
    }
    /* Limits that hold at 2147483647 but not above. */
    virtwire_uri *uri;
    CHECK_MSG(virtwire_uri_parse("qemu:///system?no_verify=2147483647", &uri) == 0, "int max");
    virtwire_uri_free(uri);
    CHECK_MSG(virtwire_uri_parse(NULL, &uri) == VIRTWIRE_EINVAL, "NULL text");
    CHECK_MSG(virtwire_uri_parse("qemu:///system", NULL) == VIRTWIRE_EINVAL, "NULL out");
}

/* ------------------------------------------------------------------------ */
/* Unix sockets                                                             */
/* ------------------------------------------------------------------------ */

/* A fake filesystem and environment for the hooks. */
struct world {
    const char *existing[4];
    const char *xdg_runtime_dir;
    const char *xdg_cache_home;
    const char *home;
};

static int world_exists(const char *path, void *opaque)
{
    const struct world *w = opaque;
    for (size_t i = 0; i < 4 && w->existing[i]; i++)
        if (strcmp(w->existing[i], path) == 0)
            return 1;
    return 0;
}

static const char *world_getenv(const char *name, void *opaque)
{
    const struct world *w = opaque;
    if (strcmp(name, "XDG_RUNTIME_DIR") == 0)
        return w->xdg_runtime_dir;
    if (strcmp(name, "XDG_CACHE_HOME") == 0)
        return w->xdg_cache_home;
    if (strcmp(name, "HOME") == 0)
        return w->home;
    return NULL;
}

#define RO VIRTWIRE_URI_READONLY
#define ADMIN VIRTWIRE_URI_ADMIN
#define DFALL VIRTWIRE_URI_DIRECT_FALLBACK
#define ROOT 0
#define USER 1000
#define VR "/var/run/libvirt/"
#define XDG "/run/user/1000"
#define XR XDG "/libvirt/"

/* The fake world: existing files, and the environment (a user session
 * with XDG_RUNTIME_DIR, or one with only HOME). */
#define FILES(...) .existing = { __VA_ARGS__ }
#define NOFILES .existing = { NULL }
#define ENV_XDG .xdg_runtime_dir = XDG, .home = "/home/u"
#define ENV_HOME .home = "/home/u"

struct socket_case {
    const char *uri;
    unsigned int flags;
    uid_t euid;
    struct world world;
    const char *path; /* expected, or NULL with code */
    int code;
};

static const struct socket_case socket_cases[] = {
    /* System, auto: the modular daemon if its socket exists, else libvirtd's
     * if it exists, else libvirtd's (or the modular one's with DFALL). */
    { "qemu:///system", 0, ROOT, { FILES(VR "virtqemud-sock", VR "libvirt-sock") },
      VR "virtqemud-sock", 0 },
    { "qemu:///system", 0, ROOT, { FILES(VR "libvirt-sock") }, VR "libvirt-sock", 0 },
    { "qemu:///system", 0, ROOT, { NOFILES }, VR "libvirt-sock", 0 },
    { "qemu:///system", DFALL, ROOT, { NOFILES }, VR "virtqemud-sock", 0 },
    { "qemu:///system", DFALL, ROOT, { FILES(VR "libvirt-sock") }, VR "libvirt-sock", 0 },
    /* Read-only: the -ro sockets, probed as such. */
    { "qemu:///system", RO, ROOT, { FILES(VR "virtqemud-sock") }, VR "libvirt-sock-ro", 0 },
    { "qemu:///system", RO, ROOT, { FILES(VR "virtqemud-sock-ro") }, VR "virtqemud-sock-ro", 0 },
    { "network:///system", RO | DFALL, ROOT, { NOFILES }, VR "virtnetworkd-sock-ro", 0 },
    /* Explicit modes skip the probe. */
    { "qemu:///system?mode=legacy", 0, ROOT, { FILES(VR "virtqemud-sock") }, VR "libvirt-sock",
      0 },
    { "qemu:///system?mode=direct", 0, ROOT, { FILES(VR "libvirt-sock") }, VR "virtqemud-sock",
      0 },
    { "qemu:///system?mode=direct", RO, ROOT, { NOFILES }, VR "virtqemud-sock-ro", 0 },
    /* /system is system for any uid. */
    { "qemu:///system", 0, USER, { NOFILES, ENV_XDG }, VR "libvirt-sock", 0 },
    { "nodedev:///system?mode=direct", 0, USER, { NOFILES, ENV_XDG },
      VR "virtnodedevd-sock", 0 },
    /* Session: /session or test+..., unless root; never read-only. */
    { "qemu:///session", 0, USER, { FILES(XR "virtqemud-sock"), ENV_XDG },
      XR "virtqemud-sock", 0 },
    { "qemu:///session", 0, USER, { FILES(XR "libvirt-sock"), ENV_XDG }, XR "libvirt-sock", 0 },
    { "qemu:///session", RO, USER, { NOFILES, ENV_XDG }, XR "libvirt-sock", 0 },
    { "qemu:///session?mode=direct", RO, USER, { NOFILES, ENV_XDG }, XR "virtqemud-sock", 0 },
    { "qemu:///session", 0, ROOT, { NOFILES, ENV_XDG }, VR "libvirt-sock", 0 },
    { "test+unix:///default", 0, USER, { NOFILES, ENV_XDG }, XR "libvirt-sock", 0 },
    { "test+unix:///default?mode=direct", 0, USER, { NOFILES, ENV_XDG }, XR "virttestd-sock",
      0 },
    { "test+unix:///default", 0, ROOT, { NOFILES, ENV_XDG }, VR "libvirt-sock", 0 },
    { "test:///default", 0, USER, { NOFILES, ENV_XDG }, VR "libvirt-sock", 0 },
    /* The runtime directory: XDG_RUNTIME_DIR (one '/' joined), else
     * XDG_CACHE_HOME, else $HOME/.cache; no home at all is an error. */
    { "qemu:///session", 0, USER, { NOFILES, .xdg_runtime_dir = "/r/", .xdg_cache_home = "/c", .home = "/h" }, "/r/libvirt/libvirt-sock",
      0 },
    { "qemu:///session", 0, USER, { NOFILES, .xdg_runtime_dir = "", .xdg_cache_home = "/c//", .home = "/h" }, "/c/libvirt/libvirt-sock",
      0 },
    { "qemu:///session", 0, USER, { NOFILES, ENV_HOME }, "/home/u/.cache/libvirt/libvirt-sock",
      0 },
    { "qemu:///session", 0, USER, { NOFILES }, NULL, VIRTWIRE_EINVAL },
    /* ?socket= wins, over any transport that uses a socket. */
    { "qemu:///system?socket=/x/y", 0, ROOT, { FILES(VR "virtqemud-sock") }, "/x/y", 0 },
    { "qemu:///session?SOCKET=/x/y&mode=direct", 0, USER, { NOFILES, ENV_XDG }, "/x/y", 0 },
    { "qemu+ssh://h/system?socket=/s", 0, ROOT, { NOFILES }, "/s", 0 },
    /* The remote driver's view of "remote:///". */
    { "remote:///", DFALL, ROOT, { NOFILES }, VR "virtremoted-sock", 0 },
    /* SSH: the remote host's socket, never probed; direct refused. */
    { "qemu+ssh://h/system", 0, ROOT, { FILES(VR "virtqemud-sock") }, VR "libvirt-sock", 0 },
    { "qemu+libssh://h/system", RO, ROOT, { NOFILES }, VR "libvirt-sock-ro", 0 },
    { "qemu+ssh://h/system?mode=direct", 0, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_SOCKET },
    { "qemu+ssh://h/session", 0, USER, { NOFILES, ENV_XDG }, XR "libvirt-sock", 0 },
    /* No socket for TCP, TLS and ext. */
    { "qemu+tcp://h/system", 0, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_SOCKET },
    { "qemu://h/system?socket=/x", 0, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_SOCKET },
    { "qemu+ext:///system?command=x", 0, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_SOCKET },
    /* Admin sockets, as libvirt-admin: the scheme names the daemon. */
    { "libvirtd:///system", ADMIN, ROOT, { NOFILES }, "/run/libvirt/libvirt-admin-sock", 0 },
    { "virtqemud:///system", ADMIN, ROOT, { NOFILES }, "/run/libvirt/virtqemud-admin-sock", 0 },
    { "virtproxyd:///system", ADMIN, USER, { NOFILES, ENV_XDG },
      "/run/libvirt/virtproxyd-admin-sock", 0 },
    { "virtlogd:///system", ADMIN, ROOT, { NOFILES }, "/run/libvirt/virtlogd-admin-sock", 0 },
    { "virtlockd:///system", ADMIN, ROOT, { NOFILES }, "/run/libvirt/virtlockd-admin-sock", 0 },
    { "libvirtd:///session", ADMIN, ROOT, { NOFILES, ENV_XDG }, XR "libvirt-admin-sock", 0 },
    { "virtqemud:///session", ADMIN, USER, { NOFILES, ENV_XDG }, XR "virtqemud-admin-sock",
      0 },
    { "virtqemud:///system?socket=/a", ADMIN, ROOT, { NOFILES }, "/a", 0 },
    { "virtqemud:///system?Socket=/a", ADMIN, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_PARAM },
    { "virtqemud:///system?mode=direct", ADMIN, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_PARAM },
    { "qemu:///system", ADMIN, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_SOCKET },
    { "virtqemud:///", ADMIN, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_SOCKET },
    { "virtqemud:///sys", ADMIN, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_SOCKET },
    { "virtqemud+unix:///system", ADMIN, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_SOCKET },
    { "virtqemud+tcp://h/system", ADMIN, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_SOCKET },
    { "libvirtd:///system", ADMIN | RO, ROOT, { NOFILES }, NULL, VIRTWIRE_EINVAL },
    /* virtlockd's and virtlogd's own sockets. */
    { "virtlockd:///system", 0, ROOT, { NOFILES }, "/run/libvirt/virtlockd-sock", 0 },
    { "virtlogd:///system", 0, USER, { NOFILES, ENV_XDG }, "/run/libvirt/virtlogd-sock", 0 },
    { "virtlogd:///session", 0, USER, { NOFILES, ENV_XDG }, XR "virtlogd-sock", 0 },
    { "virtlogd:///session?socket=/l", 0, USER, { NOFILES, ENV_XDG }, "/l", 0 },
    { "virtlockd:///other", 0, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_SOCKET },
    { "virtlockd+tcp://h/system", 0, ROOT, { NOFILES }, NULL, VIRTWIRE_EURI_SOCKET },
    { "virtlockd:///system", RO, ROOT, { NOFILES }, NULL, VIRTWIRE_EINVAL },
    /* Unknown flags. */
    { "qemu:///system", 0x80, ROOT, { NOFILES }, NULL, VIRTWIRE_EINVAL },
};

static void group_sockets(void)
{
    for (size_t i = 0; i < sizeof socket_cases / sizeof socket_cases[0]; i++) {
        const struct socket_case *c = &socket_cases[i];
        virtwire_uri *uri;
        int rc = virtwire_uri_parse(c->uri, &uri);
        CHECK_MSG(rc == 0, "%s: parse rc %d", c->uri, rc);
        if (rc != 0)
            continue;
        virtwire_uri_env env = { sizeof env, world_exists, world_getenv, &c->euid, (void *)&c->world };
        char buf[256];
        memset(buf, 'x', sizeof buf);
        rc = virtwire_uri_socket_path_env(uri, c->flags, &env, buf, sizeof buf);
        if (c->path) {
            CHECK_MSG(rc == 0, "%s flags %#x uid %u: rc %d", c->uri, c->flags,
                      (unsigned)c->euid, rc);
            CHECK_FIELD(c->uri, "socket", rc == 0 ? buf : NULL, c->path);
        } else {
            CHECK_MSG(rc == c->code, "%s flags %#x uid %u: rc %d, expected %d", c->uri,
                      c->flags, (unsigned)c->euid, rc, c->code);
            CHECK_MSG(buf[0] == '\0', "%s: buffer not emptied on error", c->uri);
        }
        virtwire_uri_free(uri);
    }
}

/* The buffer must hold the path and its NUL, nothing is written past it. */
static void group_buffer(void)
{
    virtwire_uri *uri;
    const char *want = "/var/run/libvirt/libvirt-sock";
    size_t n = strlen(want);
    struct world world = { NOFILES };
    uid_t root = 0;
    virtwire_uri_env env = { sizeof env, world_exists, world_getenv, &root, &world };
    char buf[64];

    CHECK_MSG(virtwire_uri_parse("qemu:///system", &uri) == 0, "parse");
    if (!uri)
        return;
    memset(buf, '#', sizeof buf);
    CHECK_MSG(virtwire_uri_socket_path_env(uri, 0, &env, buf, n + 1) == 0, "exact size");
    CHECK_MSG(strcmp(buf, want) == 0 && buf[n + 1] == '#', "exact size content");
    memset(buf, '#', sizeof buf);
    CHECK_MSG(virtwire_uri_socket_path_env(uri, 0, &env, buf, n) == VIRTWIRE_ENOSPACE,
              "one byte short");
    CHECK_MSG(buf[0] == '\0' && buf[n] == '#', "one byte short content");
    CHECK_MSG(virtwire_uri_socket_path_env(uri, 0, &env, buf, 0) == VIRTWIRE_EINVAL, "len 0");
    CHECK_MSG(virtwire_uri_socket_path_env(uri, 0, &env, NULL, 8) == VIRTWIRE_EINVAL, "NULL buf");
    CHECK_MSG(virtwire_uri_socket_path_env(NULL, 0, &env, buf, 8) == VIRTWIRE_EINVAL, "NULL uri");
    /* NULL env: the real defaults; the result is one of the two sockets. */
    CHECK_MSG(virtwire_uri_socket_path(uri, 0, buf, sizeof buf) == 0, "defaults");
    CHECK_MSG(strcmp(buf, want) == 0 || strcmp(buf, "/var/run/libvirt/virtqemud-sock") == 0,
              "defaults give %s", buf);
    virtwire_uri_free(uri);

    /* A long runtime directory: ENOSPACE, not truncation. */
    char longdir[200];
    memset(longdir, 'd', sizeof longdir - 1);
    longdir[0] = '/';
    longdir[sizeof longdir - 1] = '\0';
    struct world far = { NOFILES, .xdg_runtime_dir = longdir };
    uid_t user = 1000;
    virtwire_uri_env env2 = { sizeof env2, world_exists, world_getenv, &user, &far };
    CHECK_MSG(virtwire_uri_parse("qemu:///session", &uri) == 0, "parse");
    if (!uri)
        return;
    CHECK_MSG(virtwire_uri_socket_path_env(uri, 0, &env2, buf, sizeof buf) == VIRTWIRE_ENOSPACE,
              "long rundir");
    virtwire_uri_free(uri);
}

/* ------------------------------------------------------------------------ */
/* TCP and the rest of the API                                              */
/* ------------------------------------------------------------------------ */

static void group_tcp(void)
{
    static const struct {
        const char *uri;
        const char *host;
        int port;
        int supported;
    } cases[] = {
        { "qemu+tcp://h/system", "h", 16509, 0 },
        { "qemu+tcp:///system", "localhost", 16509, 0 },
        { "qemu+tcp://[::1]:1234/system", "::1", 1234, 0 },
        { "qemu+tcp://h:0/system", "h", 16509, 0 },
        { "qemu://h/system", "h", 16514, VIRTWIRE_EUNSUPPORTED_TRANSPORT },
        { "qemu+tls://h:99/system", "h", 99, VIRTWIRE_EUNSUPPORTED_TRANSPORT },
        { "qemu+ssh://h/system", "h", 22, 0 },
        { "qemu+ssh://u@h:2222/system?keyfile=/k", "h", 2222, 0 },
        { "qemu+libssh2://h:2/system", "h", 2, VIRTWIRE_EUNSUPPORTED_TRANSPORT },
        { "qemu+libssh://h/system", "h", 22, VIRTWIRE_EUNSUPPORTED_TRANSPORT },
        { "qemu+ext:///system?command=c", "localhost", VIRTWIRE_EINVAL, 0 },
        { "qemu:///system", "localhost", VIRTWIRE_EINVAL, 0 },
        { "qemu+unix:///system", "localhost", VIRTWIRE_EINVAL, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        virtwire_uri *uri;
        CHECK_MSG(virtwire_uri_parse(cases[i].uri, &uri) == 0, "%s", cases[i].uri);
        if (!uri)
            continue;
        CHECK_FIELD(cases[i].uri, "host", virtwire_uri_connect_host(uri), cases[i].host);
        CHECK_MSG(virtwire_uri_tcp_port(uri) == cases[i].port, "%s: port %d", cases[i].uri,
                  virtwire_uri_tcp_port(uri));
        CHECK_MSG(virtwire_uri_supported(uri) == cases[i].supported, "%s: supported %d",
                  cases[i].uri, virtwire_uri_supported(uri));
        virtwire_uri_free(uri);
    }
    CHECK_MSG(virtwire_uri_tcp_port(NULL) == VIRTWIRE_EINVAL, "NULL port");
    CHECK_MSG(virtwire_uri_supported(NULL) == VIRTWIRE_EINVAL, "NULL supported");
    CHECK_MSG(virtwire_uri_open_name(NULL) == NULL, "NULL name");
    CHECK_MSG(virtwire_uri_get_param(NULL, "x") == NULL, "NULL get_param");
    virtwire_uri_free(NULL);

    static const char *const names[] = { "unix", "tcp", "tls", "ssh", "libssh", "libssh2",
                                         "ext" };
    for (int t = 0; t < 7; t++)
        CHECK_FIELD("transport", "name", virtwire_uri_transport_name((virtwire_uri_transport)t),
                    names[t]);
    CHECK_MSG(virtwire_uri_transport_name((virtwire_uri_transport)7) == NULL, "out of range");
}

/* ------------------------------------------------------------------------ */
/* Limits and hostile input                                                 */
/* ------------------------------------------------------------------------ */

/* Writes into text prefix, then unit as often as it fits within the
 * longest URI; the length. */
static size_t fill_to_max(char *text, const char *prefix, const char *unit)
{
    size_t n = strlen(prefix), u = strlen(unit);
    memcpy(text, prefix, n);
    for (; n + u <= VIRTWIRE_URI_MAX_LENGTH; n += u)
        memcpy(text + n, unit, u);
    text[n] = '\0';
    return n;
}

static void group_limits(void)
{
    static char text[VIRTWIRE_URI_MAX_LENGTH + 2];
    virtwire_uri *uri;

    /* Exactly the maximum, made of the smallest possible parameters. */
    memcpy(text, "qemu:///s?", 10);
    for (size_t i = 10; i < VIRTWIRE_URI_MAX_LENGTH; i++)
        text[i] = i % 2 ? '&' : 'a';
    text[VIRTWIRE_URI_MAX_LENGTH] = '\0';
    CHECK_MSG(virtwire_uri_parse(text, &uri) == 0, "max length");
    if (uri) {
        CHECK_MSG(uri->nparams == (VIRTWIRE_URI_MAX_LENGTH - 10) / 2, "%zu params", uri->nparams);
        char *name = virtwire_uri_open_name(uri);
        /* "qemu:///s" then "?a=" or "&a=" per parameter. */
        CHECK_MSG(name && strlen(name) == 9 + 3 * uri->nparams, "name of %zu bytes",
                  name ? strlen(name) : 0);
        free(name);
        virtwire_uri_free(uri);
    }
    /* One byte more. */
    text[VIRTWIRE_URI_MAX_LENGTH] = 'a';
    text[VIRTWIRE_URI_MAX_LENGTH + 1] = '\0';
    CHECK_MSG(virtwire_uri_parse(text, &uri) == VIRTWIRE_ETOOLONG, "max length + 1");

    /* Everything percent-encoded: the name grows to three bytes per byte. */
    size_t n = fill_to_max(text, "qemu:///", "%20");
    CHECK_MSG(virtwire_uri_parse(text, &uri) == 0, "escaped path");
    if (uri) {
        char *name = virtwire_uri_open_name(uri);
        CHECK_MSG(name && strlen(name) == n, "escaped name of %zu bytes", name ? strlen(name) : 0);
        free(name);
        virtwire_uri_free(uri);
    }

    /* Escaped parameter values with single-letter names. */
    n = fill_to_max(text, "qemu:///s?", "a=%FF&");
    CHECK_MSG(virtwire_uri_parse(text, &uri) == 0, "escaped values");
    if (uri) {
        char *name = virtwire_uri_open_name(uri);
        CHECK_MSG(name != NULL, "escaped values name");
        free(name);
        virtwire_uri_free(uri);
    }
}

/* xorshift64*: a fixed sequence, so that a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (unsigned)((rng_state * 0x2545f4914f6cdd1dull) >> 33) % n;
}

/* The name of a parsed URI is a URI that parses back to the same driver,
 * path, fragment and parameters, when nothing in it is outside what the
 * name can carry (raw parameter names, ?name=, the remote driver, a path
 * that would turn into a host). */
static void check_roundtrip(const char *text, const virtwire_uri *uri, const char *name)
{
    if (uri->remote.name || strcmp(uri->driver, "remote") == 0 ||
        (uri->path[0] != '\0' && uri->path[0] != '/'))
        return;
    for (size_t i = 0; i < uri->nparams; i++)
        for (const char *p = uri->params[i].name; *p; p++)
            if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_", *p))
                return;
    virtwire_uri *back;
    int rc = virtwire_uri_parse(name, &back);
    CHECK_MSG(rc == 0, "%s: its name %s does not parse (%d)", text, name, rc);
    if (rc != 0)
        return;
    CHECK_FIELD(text, "roundtrip driver", back->scheme, uri->driver);
    CHECK_FIELD(text, "roundtrip path", back->path, uri->path);
    CHECK_FIELD(text, "roundtrip fragment", back->fragment, uri->fragment);
    size_t j = 0;
    for (size_t i = 0; i < uri->nparams; i++) {
        if (uri->params[i].consumed)
            continue;
        CHECK_MSG(j < back->nparams, "%s: roundtrip lost params", text);
        if (j >= back->nparams)
            break;
        CHECK_FIELD(text, "roundtrip param", back->params[j].name, uri->params[i].name);
        CHECK_FIELD(text, "roundtrip value", back->params[j].value, uri->params[i].value);
        j++;
    }
    CHECK_MSG(j == back->nparams, "%s: roundtrip gained params", text);
    virtwire_uri_free(back);
}

/* Random strings over URI-ish characters, and mutations of the table's
 * URIs: no crash (ASan, UBSan), results consistent. */
static void group_random(void)
{
    static const char alphabet[] = "qemu+tcpunixsh:/@[]%?#&;=.-_~!$'()*,0123456789aAfF \x01\x7f\xc3";
    char text[96];
    unsigned parsed = 0;

    for (int iter = 0; iter < 40000; iter++) {
        size_t n;
        if (iter % 2) {
            const char *base = parse_cases[rnd(sizeof parse_cases / sizeof parse_cases[0])].uri;
            n = strlen(base);
            if (n > sizeof text - 8)
                n = sizeof text - 8;
            memcpy(text, base, n);
            for (unsigned m = rnd(4) + 1; m > 0; m--) {
                size_t at = rnd((unsigned)n + 1);
                unsigned op = rnd(3);
                char c = alphabet[rnd(sizeof alphabet - 1)];
                if (op == 0 && n + 1 < sizeof text) { /* insert */
                    memmove(text + at + 1, text + at, n - at);
                    text[at] = c;
                    n++;
                } else if (op == 1 && at < n) { /* replace */
                    text[at] = c;
                } else if (at < n) { /* delete */
                    memmove(text + at, text + at + 1, n - at - 1);
                    n--;
                }
            }
        } else {
            n = rnd(sizeof text - 1);
            memcpy(text, "qemu", 4 < n ? 4 : n);
            for (size_t i = 4; i < n; i++)
                text[i] = alphabet[rnd(sizeof alphabet - 1)];
        }
        text[n] = '\0';

        virtwire_uri *uri;
        int rc = virtwire_uri_parse(text, &uri);
        CHECK_MSG(rc == 0 || rc == VIRTWIRE_EURI || rc == VIRTWIRE_EURI_TRANSPORT ||
                  rc == VIRTWIRE_EURI_UNIX_HOST || rc == VIRTWIRE_EURI_PARAM,
                  "\"%s\": rc %d", text, rc);
        if (rc != 0)
            continue;
        parsed++;
        char *name = virtwire_uri_open_name(uri);
        CHECK_MSG(name != NULL, "\"%s\": no name", text);
        if (name) {
            check_roundtrip(text, uri, name);
            free(name);
        }
        char buf[128];
        for (unsigned flags = 0; flags < 8; flags++) {
            int src = virtwire_uri_socket_path(uri, flags, buf, sizeof buf);
            CHECK_MSG(src <= 0 && (src == 0 || buf[0] == '\0'), "\"%s\": socket rc %d", text, src);
        }
        virtwire_uri_free(uri);
    }
    /* The mutations must reach the interesting paths, not only errors. */
    CHECK_MSG(parsed > 5000, "only %u random URIs parsed", parsed);
}

/* ------------------------------------------------------------------------ */

static const vt_group groups[] = {
    { "parse", group_parse },   { "remote", group_remote }, { "errors", group_errors },
    { "sockets", group_sockets }, { "buffer", group_buffer }, { "tcp", group_tcp },
    { "limits", group_limits }, { "random", group_random }, { "helper", group_helper },
};

int main(int argc, char **argv)
{
    return vt_main(argc, argv, groups, sizeof groups / sizeof groups[0]);
}
