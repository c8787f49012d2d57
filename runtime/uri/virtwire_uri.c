/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt connection URIs: see virtwire_uri.h.
 *
 * The syntax checks follow RFC 3986 as libxml2's parser (which libvirt
 * uses) applies it: every component is checked against its character set
 * before anything is decoded.  A parsed URI is one allocation: the struct,
 * then the parameter array, then a pool holding every decoded string.
 */
#define _POSIX_C_SOURCE 200809L

#include "virtwire_uri.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtwire_ascii_internal.h"
#include "virtwire_sized_internal.h"

/* ------------------------------------------------------------------------ */
/* Character classes (ASCII only: the input has no other bytes by then)     */
/* ------------------------------------------------------------------------ */

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int in_set(int c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

/* RFC 3986 unreserved. */
static int is_unreserved(int c)
{
    return is_alpha(c) || is_digit(c) || in_set(c, "-._~");
}

/* RFC 3986 sub-delims. */
static int is_sub_delim(int c)
{
    return in_set(c, "!$&'()*+,;=");
}

/* pchar without pct-encoded (checked separately). */
static int is_pchar(int c)
{
    return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@';
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* ASCII case-insensitive equality, independent of the locale. */
static int ascii_caseeq(const char *a, const char *b)
{
    while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

/* ------------------------------------------------------------------------ */
/* Components                                                               */
/* ------------------------------------------------------------------------ */

/* A piece of the input text. */
typedef struct span {
    const char *p;
    size_t n;
} span;

/*
 * Checks that every byte of s is allowed by ok() or starts a percent-escape
 * "%XX", and that no escape decodes to a control character (libvirt would
 * silently truncate at %00; the others have no business in a URI).
 */
static int check_chars(span s, int (*ok)(int c))
{
    for (size_t i = 0; i < s.n; i++) {
        int c = (unsigned char)s.p[i];
        if (c == '%') {
            if (i + 2 >= s.n)
                return VIRTWIRE_EURI;
            int hi = vw_hex_value((unsigned char)s.p[i + 1]);
            int lo = vw_hex_value((unsigned char)s.p[i + 2]);
            if (hi < 0 || lo < 0)
                return VIRTWIRE_EURI;
            int byte = hi * 16 + lo;
            if (byte < 0x20 || byte == 0x7f)
                return VIRTWIRE_EURI;
            i += 2;
        } else if (!ok(c)) {
            return VIRTWIRE_EURI;
        }
    }
    return 0;
}

static int ok_userinfo(int c)
{
    return is_unreserved(c) || is_sub_delim(c) || c == ':';
}

static int ok_regname(int c)
{
    return is_unreserved(c) || is_sub_delim(c);
}

static int ok_path(int c)
{
    return is_pchar(c) || c == '/';
}

static int ok_query(int c)
{
    return is_pchar(c) || c == '/' || c == '?';
}

/* libxml2 also takes '[' and ']' in a fragment (not in a query). */
static int ok_fragment(int c)
{
    return ok_query(c) || c == '[' || c == ']';
}

static int ok_scheme_rest(int c)
{
    return is_alpha(c) || is_digit(c) || in_set(c, "+-.");
}

/*
 * An IPv6 literal between the brackets: hex digits, ':' and '.' (for an
 * embedded IPv4 address), at least one ':', then optionally a zone
 * "%25..." (RFC 6874).  libxml2 accepts anything up to ']'; libvirt then
 * strips the brackets only when there is a ':' inside.
 */
static int check_ipv6(span s)
{
    size_t i = 0;
    int colons = 0;
    while (i < s.n && (vw_hex_value((unsigned char)s.p[i]) >= 0 || s.p[i] == ':' ||
                       s.p[i] == '.')) {
        colons += s.p[i] == ':';
        i++;
    }
    if (colons == 0)
        return VIRTWIRE_EURI;
    if (i == s.n)
        return 0;
    /* A zone: "%25" then at least one unreserved or escaped character. */
    if (s.n - i < 4 || strncmp(s.p + i, "%25", 3) != 0)
        return VIRTWIRE_EURI;
    span zone = { s.p + i + 3, s.n - i - 3 };
    return check_chars(zone, is_unreserved);
}

/* ------------------------------------------------------------------------ */
/* The allocation                                                           */
/* ------------------------------------------------------------------------ */

/* Where the decoded strings go: a pool sized from the input length. */
typedef struct pool {
    char *next;
    char *end;
} pool;

/* Copies s into the pool, decoding percent-escapes when decode is set.
 * The pool is sized so that it cannot run out; NULL if it did anyway. */
static char *pool_put(pool *pl, span s, int decode)
{
    if ((size_t)(pl->end - pl->next) < s.n + 1)
        return NULL;
    char *out = pl->next;
    char *w = out;
    for (size_t i = 0; i < s.n; i++) {
        if (decode && s.p[i] == '%' && i + 2 < s.n &&
            vw_hex_value((unsigned char)s.p[i + 1]) >= 0 &&
            vw_hex_value((unsigned char)s.p[i + 2]) >= 0) {
            *w++ = (char)(vw_hex_value((unsigned char)s.p[i + 1]) * 16 +
                          vw_hex_value((unsigned char)s.p[i + 2]));
            i += 2;
        } else {
            *w++ = s.p[i];
        }
    }
    *w++ = '\0';
    pl->next = w;
    return out;
}

/* ------------------------------------------------------------------------ */
/* Splitting                                                                */
/* ------------------------------------------------------------------------ */

/* The syntactic pieces of a URI, before decoding. */
typedef struct pieces {
    span scheme;
    int has_user;
    span user;
    span host;      /* without brackets */
    int port;
    span path;
    int has_query;
    span query;
    int has_fragment;
    span fragment;
} pieces;

/* Splits off "scheme:" (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )). */
static int split_scheme(span *rest, pieces *pc)
{
    size_t i = 0;
    if (rest->n == 0 || !is_alpha((unsigned char)rest->p[0]))
        return VIRTWIRE_EURI;
    while (i < rest->n && ok_scheme_rest((unsigned char)rest->p[i]))
        i++;
    if (i == rest->n || rest->p[i] != ':')
        return VIRTWIRE_EURI;
    pc->scheme = (span){ rest->p, i };
    rest->p += i + 1;
    rest->n -= i + 1;
    return 0;
}

/* Parses the port digits: 1 to 5 of them, at most 65535. */
static int parse_port(span s, int *port)
{
    long v = 0;
    if (s.n == 0 || s.n > 5)
        return VIRTWIRE_EURI;
    for (size_t i = 0; i < s.n; i++) {
        if (!is_digit((unsigned char)s.p[i]))
            return VIRTWIRE_EURI;
        v = v * 10 + (s.p[i] - '0');
    }
    if (v > 65535)
        return VIRTWIRE_EURI;
    *port = (int)v;
    return 0;
}

/* Splits "[user@]host[:port]" (the text between "//" and the path). */
static int split_authority(span a, pieces *pc)
{
    const char *at = memchr(a.p, '@', a.n);
    if (at) {
        pc->has_user = 1;
        pc->user = (span){ a.p, (size_t)(at - a.p) };
        if (check_chars(pc->user, ok_userinfo) < 0)
            return VIRTWIRE_EURI;
        a.n -= (size_t)(at + 1 - a.p);
        a.p = at + 1;
    }

    span port = { NULL, 0 };
    int has_port = 0;
    if (a.n > 0 && a.p[0] == '[') {
        const char *close = memchr(a.p, ']', a.n);
        if (!close)
            return VIRTWIRE_EURI;
        pc->host = (span){ a.p + 1, (size_t)(close - a.p - 1) };
        if (check_ipv6(pc->host) < 0)
            return VIRTWIRE_EURI;
        size_t used = (size_t)(close + 1 - a.p);
        if (used < a.n) {
            if (a.p[used] != ':')
                return VIRTWIRE_EURI;
            has_port = 1;
            port = (span){ a.p + used + 1, a.n - used - 1 };
        }
    } else {
        const char *colon = memchr(a.p, ':', a.n);
        pc->host = (span){ a.p, colon ? (size_t)(colon - a.p) : a.n };
        if (check_chars(pc->host, ok_regname) < 0)
            return VIRTWIRE_EURI;
        if (colon) {
            has_port = 1;
            port = (span){ colon + 1, a.n - pc->host.n - 1 };
        }
    }
    if (has_port) {
        /* A port needs a host and at least one digit. */
        if (pc->host.n == 0)
            return VIRTWIRE_EURI;
        return parse_port(port, &pc->port);
    }
    return 0;
}

/* Returns the length of the prefix of s made of bytes not in stops. */
static size_t span_until(span s, const char *stops)
{
    size_t i = 0;
    while (i < s.n && !in_set(s.p[i], stops))
        i++;
    return i;
}

/* Splits the whole URI into its pieces and checks their syntax. */
static int split(span rest, pieces *pc)
{
    memset(pc, 0, sizeof *pc);
    int rc = split_scheme(&rest, pc);
    if (rc < 0)
        return rc;

    if (rest.n >= 2 && rest.p[0] == '/' && rest.p[1] == '/') {
        rest.p += 2;
        rest.n -= 2;
        size_t n = span_until(rest, "/?#");
        if ((rc = split_authority((span){ rest.p, n }, pc)) < 0)
            return rc;
        rest.p += n;
        rest.n -= n;
    }

    size_t n = span_until(rest, "?#");
    pc->path = (span){ rest.p, n };
    if (check_chars(pc->path, ok_path) < 0)
        return VIRTWIRE_EURI;
    rest.p += n;
    rest.n -= n;

    if (rest.n > 0 && rest.p[0] == '?') {
        n = span_until((span){ rest.p + 1, rest.n - 1 }, "#");
        pc->has_query = 1;
        pc->query = (span){ rest.p + 1, n };
        if (check_chars(pc->query, ok_query) < 0)
            return VIRTWIRE_EURI;
        rest.p += n + 1;
        rest.n -= n + 1;
    }
    if (rest.n > 0 && rest.p[0] == '#') {
        pc->has_fragment = 1;
        pc->fragment = (span){ rest.p + 1, rest.n - 1 };
        if (check_chars(pc->fragment, ok_fragment) < 0)
            return VIRTWIRE_EURI;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Query parameters                                                         */
/* ------------------------------------------------------------------------ */

/* Upper bound of the number of parameters: one per separator, plus one. */
static size_t max_params(span query)
{
    size_t n = 1;
    for (size_t i = 0; i < query.n; i++)
        n += query.p[i] == '&' || query.p[i] == ';';
    return n;
}

/*
 * Splits the query into parameters exactly as libvirt does (viruri.c): a
 * section ends at the next '&' anywhere in the rest of the query, or only
 * when there is none, at the next ';' ("a=1;b=2&c=3" is a="1;b=2", c="3").
 * "name" alone has the value "", empty sections and "=value" are skipped.
 */
static int split_params(virtwire_uri *uri, virtwire_uri_param *params,
                        span query, pool *pl)
{
    size_t count = 0;
    uri->params = params;
    uri->nparams = 0;
    if (!query.p)
        return 0;
    const char *q = query.p;
    const char *qend = query.p + query.n;

    while (q < qend) {
        span rest = { q, (size_t)(qend - q) };
        const char *end = memchr(q, '&', rest.n);
        if (!end)
            end = memchr(q, ';', rest.n);
        if (!end)
            end = qend;
        const char *eq = memchr(q, '=', (size_t)(end - q));

        if (end != q && eq != q) {
            span name = { q, eq ? (size_t)(eq - q) : (size_t)(end - q) };
            span value = { eq ? eq + 1 : end, eq ? (size_t)(end - eq - 1) : 0 };
            params[count].name = pool_put(pl, name, 1);
            params[count].value = pool_put(pl, value, 1);
            if (!params[count].name || !params[count].value)
                return VIRTWIRE_ENOMEM;
            params[count].consumed = 0;
            count++;
        }
        q = end < qend ? end + 1 : qend;
    }
    uri->params = params;
    uri->nparams = count;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The remote driver's view                                                 */
/* ------------------------------------------------------------------------ */

static const char *const transport_names[] = {
    [VIRTWIRE_URI_TRANSPORT_UNIX] = "unix",
    [VIRTWIRE_URI_TRANSPORT_TCP] = "tcp",
    [VIRTWIRE_URI_TRANSPORT_TLS] = "tls",
    [VIRTWIRE_URI_TRANSPORT_SSH] = "ssh",
    [VIRTWIRE_URI_TRANSPORT_LIBSSH] = "libssh",
    [VIRTWIRE_URI_TRANSPORT_LIBSSH2] = "libssh2",
    [VIRTWIRE_URI_TRANSPORT_EXT] = "ext",
};

const char *virtwire_uri_transport_name(virtwire_uri_transport transport)
{
    if ((unsigned)transport >= sizeof transport_names / sizeof transport_names[0])
        return NULL;
    return transport_names[transport];
}

/* Sets driver and transport from the scheme ("qemu+TCP" -> qemu, tcp; the
 * transport is case-insensitive, the driver kept as written). */
static int split_transport(virtwire_uri *uri, span scheme, pool *pl)
{
    const char *plus = memchr(scheme.p, '+', scheme.n);
    span driver = { scheme.p, plus ? (size_t)(plus - scheme.p) : scheme.n };
    if (!(uri->driver = pool_put(pl, driver, 0)))
        return VIRTWIRE_ENOMEM;

    if (!plus) {
        uri->transport = uri->host ? VIRTWIRE_URI_TRANSPORT_TLS
                                   : VIRTWIRE_URI_TRANSPORT_UNIX;
        return 0;
    }
    const char *name = plus + 1;
    size_t n = scheme.n - driver.n - 1;
    for (size_t t = 0; t < sizeof transport_names / sizeof transport_names[0]; t++) {
        const char *known = transport_names[t];
        size_t i = 0;
        while (i < n && known[i] && lower((unsigned char)name[i]) == known[i])
            i++;
        if (i == n && known[i] == '\0') {
            uri->transport = (virtwire_uri_transport)t;
            uri->transport_explicit = 1;
            if (uri->transport == VIRTWIRE_URI_TRANSPORT_UNIX && uri->host)
                return VIRTWIRE_EURI_UNIX_HOST;
            return 0;
        }
    }
    return VIRTWIRE_EURI_TRANSPORT;
}

/* An integer parameter as libvirt reads it (virStrToLong_i: strtol in base
 * 10, the whole value, within int). */
static int parse_int_param(const char *value, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < INT_MIN || v > INT_MAX)
        return VIRTWIRE_EURI_PARAM;
    *out = (int)v;
    return 0;
}

/* Index of value in names[] (exact match, like libvirt's enum parsing). */
static int enum_index(const char *value, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(value, names[i]) == 0)
            return i;
    return -1;
}

/*
 * Takes out the parameters libvirt's remote driver uses
 * (doRemoteOpenExtractURIArgs), in URI order so that the last one counts,
 * then checks mode and proxy like doRemoteOpen does.
 */
static int extract_remote(virtwire_uri *uri, virtwire_uri_param *params)
{
    virtwire_uri_remote *r = &uri->remote;
    const char *mode = NULL;     /* checked after the loop */
    const char *proxy = NULL;    /* checked after the loop */
    const char *authfile = NULL; /* read by libvirt's auth code, never sent */
    const struct {
        const char *name;
        const char **slot;
    } strings[] = {
        { "name", &r->name },
        { "command", &r->command },
        { "socket", &r->socket },
        { "auth", &r->auth },
        { "sshauth", &r->sshauth },
        { "netcat", &r->netcat },
        { "keyfile", &r->keyfile },
        { "pkipath", &r->pkipath },
        { "known_hosts", &r->known_hosts },
        { "known_hosts_verify", &r->known_hosts_verify },
        { "tls_priority", &r->tls_priority },
        { "mode", &mode },
        { "proxy", &proxy },
        { "authfile", &authfile },
    };
    const struct {
        const char *name;
        int *slot;
    } ints[] = {
        { "no_sanity", &r->no_sanity },
        { "no_verify", &r->no_verify },
        { "no_tty", &r->no_tty },
    };
    static const char *const modes[] = { "auto", "legacy", "direct" };
    static const char *const proxies[] = { "auto", "netcat", "native" };

    for (size_t i = 0; i < uri->nparams; i++) {
        virtwire_uri_param *p = &params[i];
        for (size_t s = 0; s < sizeof strings / sizeof strings[0]; s++) {
            if (!ascii_caseeq(p->name, strings[s].name))
                continue;
            p->consumed = 1;
            *strings[s].slot = p->value;
        }
        for (size_t s = 0; s < sizeof ints / sizeof ints[0]; s++) {
            if (!ascii_caseeq(p->name, ints[s].name))
                continue;
            p->consumed = 1;
            if (parse_int_param(p->value, ints[s].slot) < 0)
                return VIRTWIRE_EURI_PARAM;
        }
    }

    if (mode) {
        int m = enum_index(mode, modes, 3);
        if (m < 0)
            return VIRTWIRE_EURI_PARAM;
        uri->remote.mode = (virtwire_uri_mode)m;
    }
    if (proxy) {
        int p = enum_index(proxy, proxies, 3);
        if (p < 0)
            return VIRTWIRE_EURI_PARAM;
        uri->remote.has_proxy = 1;
        uri->remote.proxy = (virtwire_uri_proxy)p;
    }
    return 0;
}

/* libvirt refuses qemu://system and friends (virConnectCheckURIMissingSlash)
 * rather than connect over TLS to a host called "system". */
static int check_missing_slash(const virtwire_uri *uri)
{
    if (!uri->host)
        return 0;
    if (strcmp(uri->scheme, "qemu") != 0 && strcmp(uri->scheme, "vbox") != 0 &&
        strcmp(uri->scheme, "vz") != 0)
        return 0;
    if (strcmp(uri->host, "session") == 0 || strcmp(uri->host, "system") == 0)
        return VIRTWIRE_EURI;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

/* Fills the URI's strings from the pieces. */
static int fill(virtwire_uri *uri, const pieces *pc, pool *pl)
{
    if (!(uri->scheme = pool_put(pl, pc->scheme, 0)))
        return VIRTWIRE_ENOMEM;
    if (pc->has_user && !(uri->user = pool_put(pl, pc->user, 1)))
        return VIRTWIRE_ENOMEM;
    if (pc->host.n > 0 && !(uri->host = pool_put(pl, pc->host, 1)))
        return VIRTWIRE_ENOMEM;
    uri->port = pc->port;
    if (!(uri->path = pool_put(pl, pc->path, 1)))
        return VIRTWIRE_ENOMEM;
    if (pc->has_query && !(uri->query = pool_put(pl, pc->query, 0)))
        return VIRTWIRE_ENOMEM;
    if (pc->has_fragment && !(uri->fragment = pool_put(pl, pc->fragment, 1)))
        return VIRTWIRE_ENOMEM;
    return 0;
}

/*
 * One allocation: the struct, the parameter array, then the string pool.
 * The pool holds at most: every input byte once (the components are
 * disjoint), the driver (a copy of part of the scheme) and the parameters
 * (decoded copies of the query) a second time, and a NUL per string, i.e.
 * 7 + 2 per parameter: 4 * length + 16 covers it.
 */
static int allocate(size_t length, size_t nparams, virtwire_uri **uri,
                    virtwire_uri_param **params, pool *pl)
{
    size_t pool_size = 4 * length + 16;
    size_t size = sizeof(virtwire_uri) + nparams * sizeof(virtwire_uri_param) +
                  pool_size;
    char *block = calloc(1, size);
    if (!block)
        return VIRTWIRE_ENOMEM;
    *uri = (virtwire_uri *)block;
    *params = (virtwire_uri_param *)(block + sizeof(virtwire_uri));
    pl->next = block + sizeof(virtwire_uri) + nparams * sizeof(virtwire_uri_param);
    pl->end = block + size;
    return 0;
}

int virtwire_uri_parse(const char *text, virtwire_uri **out)
{
    if (out)
        *out = NULL;
    if (!text || !out)
        return VIRTWIRE_EINVAL;

    size_t length = strnlen(text, VIRTWIRE_URI_MAX_LENGTH + 1);
    if (length > VIRTWIRE_URI_MAX_LENGTH)
        return VIRTWIRE_ETOOLONG;
    /* No space, control or non-ASCII byte anywhere (RFC 3986). */
    for (size_t i = 0; i < length; i++)
        if ((unsigned char)text[i] <= 0x20 || (unsigned char)text[i] >= 0x7f)
            return VIRTWIRE_EURI;

    pieces pc;
    int rc = split((span){ text, length }, &pc);
    if (rc < 0)
        return rc;

    virtwire_uri *uri;
    virtwire_uri_param *params;
    pool pl;
    if ((rc = allocate(length, pc.has_query ? max_params(pc.query) : 0, &uri,
                       &params, &pl)) < 0)
        return rc;

    if ((rc = fill(uri, &pc, &pl)) < 0 ||
        (rc = check_missing_slash(uri)) < 0 ||
        (rc = split_transport(uri, pc.scheme, &pl)) < 0 ||
        (rc = split_params(uri, params, pc.query, &pl)) < 0 ||
        (rc = extract_remote(uri, params)) < 0) {
        free(uri);
        return rc;
    }
    *out = uri;
    return 0;
}

void virtwire_uri_free(virtwire_uri *uri)
{
    free(uri);
}

const char *virtwire_uri_get_param(const virtwire_uri *uri, const char *name)
{
    if (!uri || !name)
        return NULL;
    for (size_t i = 0; i < uri->nparams; i++)
        if (ascii_caseeq(uri->params[i].name, name))
            return uri->params[i].value;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The CONNECT_OPEN name                                                    */
/* ------------------------------------------------------------------------ */

/* Characters libxml2's xmlSaveUri() leaves as they are in a path and in a
 * fragment (besides letters and digits), and those glib's
 * g_string_append_uri_escaped() leaves in a parameter value. */
#define PATH_KEEP "-_.!~*'()/;@&=+$,"
#define FRAGMENT_KEEP "-_.!~*'();/?:@&=+$,[]"
#define VALUE_KEEP "-._~"

/* Appends s to w, percent-encoding (upper-case hex) every byte that is
 * neither a letter, a digit nor in keep.  Returns the new end. */
static char *put_escaped(char *w, const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (is_alpha(c) || is_digit(c) || in_set(c, keep)) {
            *w++ = (char)c;
        } else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    return w;
}

static char *put(char *w, const char *s)
{
    size_t n = strlen(s);
    memcpy(w, s, n);
    return w + n;
}

/* Whether the remote driver gives the parameter to virt-ssh-helper even
 * though it uses it itself (remoteConnectFormatURI(), libvirt 11.3.0). */
static int helper_keeps(const char *name)
{
    return ascii_caseeq(name, "mode") || ascii_caseeq(name, "socket");
}

/* The name as remoteConnectFormatURI() formats it; for_helper keeps the
 * mode and socket parameters. */
static char *format_name(const virtwire_uri *uri, int for_helper)
{
    if (!uri)
        return NULL;
    if (uri->remote.name)
        return strdup(uri->remote.name);
    /* "remote" and "remote+...": let the daemon pick its default driver. */
    if (strcmp(uri->driver, "remote") == 0)
        return strdup("");

    /* Worst case: everything escaped (3 bytes per byte) plus separators. */
    size_t size = strlen(uri->driver) + 3 + 3 * strlen(uri->path) + 2;
    for (size_t i = 0; i < uri->nparams; i++)
        size += strlen(uri->params[i].name) + 3 * strlen(uri->params[i].value) + 2;
    if (uri->fragment)
        size += 3 * strlen(uri->fragment) + 1;

    char *name = malloc(size);
    if (!name)
        return NULL;
    /* libvirt formats a URI without host but with an empty authority, so
     * that the result always has the "driver://" form. */
    char *w = put(name, uri->driver);
    w = put(w, "://");
    w = put_escaped(w, uri->path, PATH_KEEP);
    char sep = '?';
    for (size_t i = 0; i < uri->nparams; i++) {
        if (uri->params[i].consumed && !(for_helper && helper_keeps(uri->params[i].name)))
            continue;
        *w++ = sep;
        sep = '&';
        w = put(w, uri->params[i].name); /* libvirt does not encode names */
        *w++ = '=';
        w = put_escaped(w, uri->params[i].value, VALUE_KEEP);
    }
    if (uri->fragment) {
        *w++ = '#';
        w = put_escaped(w, uri->fragment, FRAGMENT_KEEP);
    }
    *w = '\0';
    return name;
}

char *virtwire_uri_open_name(const virtwire_uri *uri)
{
    return format_name(uri, 0);
}

char *virtwire_uri_ssh_helper_name(const virtwire_uri *uri)
{
    return format_name(uri, 1);
}

/* ------------------------------------------------------------------------ */
/* Unix socket paths                                                        */
/* ------------------------------------------------------------------------ */

/* libvirt's remote driver builds system paths from LOCALSTATEDIR/run, the
 * lock, log and admin daemons from RUNSTATEDIR. */
#define REMOTE_SYSTEM_DIR "/var/run/libvirt"
#define DAEMON_SYSTEM_DIR "/run/libvirt"

/* A bounded string builder over the caller's buffer. */
typedef struct pathbuf {
    char *buf;
    size_t len;
    size_t used;
    int overflow;
} pathbuf;

static void pb_add(pathbuf *pb, const char *s, size_t n)
{
    if (pb->overflow || n >= pb->len - pb->used) {
        pb->overflow = 1;
        return;
    }
    memcpy(pb->buf + pb->used, s, n);
    pb->used += n;
    pb->buf[pb->used] = '\0';
}

static void pb_str(pathbuf *pb, const char *s)
{
    pb_add(pb, s, strlen(s));
}

static int pb_result(const pathbuf *pb)
{
    return pb->overflow ? VIRTWIRE_ENOSPACE : 0;
}

static int default_exists(const char *path, void *opaque)
{
    (void)opaque;
    return access(path, F_OK) == 0;
}

static const char *default_getenv(const char *name, void *opaque)
{
    (void)opaque;
    return getenv(name);
}

/* The hooks with the defaults filled in. */
typedef struct hooks {
    int (*exists)(const char *path, void *opaque);
    const char *(*getenv)(const char *name, void *opaque);
    uid_t euid;
    void *opaque;
} hooks;

static hooks make_hooks(const virtwire_uri_env *env)
{
    hooks h = { default_exists, default_getenv, 0, NULL };
    if (env) {
        if (env->exists)
            h.exists = env->exists;
        if (env->getenv)
            h.getenv = env->getenv;
        h.opaque = env->opaque;
    }
    h.euid = env && env->euid ? *env->euid : geteuid();
    return h;
}

static const char *env_value(const hooks *h, const char *name)
{
    const char *v = h->getenv(name, h->opaque);
    return v && v[0] ? v : NULL;
}

/* Appends dir then "/" then leaf, with one '/' between them, like glib's
 * g_build_filename() (which libvirt uses) joins them. */
static void pb_join(pathbuf *pb, const char *dir, const char *leaf)
{
    size_t n = strlen(dir);
    while (n > 0 && dir[n - 1] == '/')
        n--;
    pb_add(pb, dir, n);
    pb_str(pb, "/");
    pb_str(pb, leaf);
}

/* The user's runtime directory, as libvirt's virGetUserRuntimeDirectory()
 * (glib's g_get_user_runtime_dir() + "/libvirt"). */
static int runtime_dir(const hooks *h, pathbuf *pb)
{
    const char *dir = env_value(h, "XDG_RUNTIME_DIR");
    if (dir) {
        pb_join(pb, dir, "libvirt");
        return 0;
    }
    dir = env_value(h, "XDG_CACHE_HOME");
    if (dir) {
        pb_join(pb, dir, "libvirt");
        return 0;
    }
    dir = env_value(h, "HOME");
    if (!dir)
        return VIRTWIRE_EINVAL;
    pb_join(pb, dir, ".cache");
    pb_str(pb, "/libvirt");
    return 0;
}

/* Writes "<system dir or rundir>/" to pb. */
static int socket_dir(const hooks *h, int session, const char *system_dir,
                      pathbuf *pb)
{
    if (!session) {
        pb_str(pb, system_dir);
    } else {
        int rc = runtime_dir(h, pb);
        if (rc < 0)
            return rc;
    }
    pb_str(pb, "/");
    return 0;
}

/* "/system" or "/session" for the daemons without a remote driver logic. */
static int system_or_session(const virtwire_uri *uri, int *session)
{
    if (strcmp(uri->path, "/system") == 0)
        *session = 0;
    else if (strcmp(uri->path, "/session") == 0)
        *session = 1;
    else
        return VIRTWIRE_EURI_SOCKET;
    return 0;
}

/* The admin socket, as libvirt-admin's getSocketPath(). */
static int admin_socket(const virtwire_uri *uri, const hooks *h, pathbuf *pb)
{
    const char *socket = NULL;
    int session;

    /* Admin URIs are local and name the daemon, not a driver + transport. */
    if (uri->host || uri->transport_explicit)
        return VIRTWIRE_EURI_SOCKET;
    for (size_t i = 0; i < uri->nparams; i++) {
        if (strcmp(uri->params[i].name, "socket") != 0)
            return VIRTWIRE_EURI_PARAM;
        socket = uri->params[i].value;
    }
    if (socket) {
        pb_str(pb, socket);
        return 0;
    }
    int legacy = strcmp(uri->scheme, "libvirtd") == 0;
    if (!legacy && strncmp(uri->scheme, "virt", 4) != 0)
        return VIRTWIRE_EURI_SOCKET;
    int rc = system_or_session(uri, &session);
    if (rc < 0 || (rc = socket_dir(h, session, DAEMON_SYSTEM_DIR, pb)) < 0)
        return rc;
    pb_str(pb, legacy ? "libvirt" : uri->scheme);
    pb_str(pb, "-admin-sock");
    return 0;
}

/* virtlockd's and virtlogd's own sockets (used by the lock and log
 * programs): no read-only variant, system or session by the path. */
static int lock_log_socket(const virtwire_uri *uri, const hooks *h, pathbuf *pb)
{
    int session;
    if (uri->transport != VIRTWIRE_URI_TRANSPORT_UNIX)
        return VIRTWIRE_EURI_SOCKET;
    if (uri->remote.socket) {
        pb_str(pb, uri->remote.socket);
        return 0;
    }
    int rc = system_or_session(uri, &session);
    if (rc < 0 || (rc = socket_dir(h, session, DAEMON_SYSTEM_DIR, pb)) < 0)
        return rc;
    pb_str(pb, uri->driver);
    pb_str(pb, "-sock");
    return 0;
}

static int is_ssh(virtwire_uri_transport t)
{
    return t == VIRTWIRE_URI_TRANSPORT_SSH || t == VIRTWIRE_URI_TRANSPORT_LIBSSH ||
           t == VIRTWIRE_URI_TRANSPORT_LIBSSH2;
}

/* Session daemon or system daemon, as remoteGetURIDaemonInfo(). */
static int wants_session(const virtwire_uri *uri, const hooks *h)
{
    return (strcmp(uri->path, "/session") == 0 ||
            strncmp(uri->scheme, "test+", 5) == 0) &&
           h->euid != 0;
}

/* Builds "<dir>/<prefix>-sock[-ro]" as remoteGetUNIXSocketHelper(). */
static int remote_socket_name(const hooks *h, int session, int readonly,
                              const char *prefix, const char *driver,
                              pathbuf *pb)
{
    int rc = socket_dir(h, session, REMOTE_SYSTEM_DIR, pb);
    if (rc < 0)
        return rc;
    pb_str(pb, prefix);
    if (driver) {
        pb_str(pb, driver);
        pb_str(pb, "d");
    }
    /* The session daemons have no read-only socket. */
    pb_str(pb, session || !readonly ? "-sock" : "-sock-ro");
    return 0;
}

/* The remote driver's choice (remoteGetUNIXSocket()). */
static int remote_socket(const virtwire_uri *uri, unsigned int flags,
                         const hooks *h, pathbuf *pb)
{
    if (uri->transport != VIRTWIRE_URI_TRANSPORT_UNIX && !is_ssh(uri->transport))
        return VIRTWIRE_EURI_SOCKET;
    if (uri->remote.socket) {
        pb_str(pb, uri->remote.socket);
        return 0;
    }

    int session = wants_session(uri, h);
    int readonly = (flags & VIRTWIRE_URI_READONLY) != 0;
    virtwire_uri_mode mode = uri->remote.mode;
    char direct[4096];
    char legacy[4096];
    pathbuf dpb = { direct, sizeof direct, 0, 0 };
    pathbuf lpb = { legacy, sizeof legacy, 0, 0 };
    int rc;

    if ((rc = remote_socket_name(h, session, readonly, "virt", uri->driver, &dpb)) < 0 ||
        (rc = remote_socket_name(h, session, readonly, "libvirt", NULL, &lpb)) < 0)
        return rc;
    if (dpb.overflow || lpb.overflow)
        return VIRTWIRE_ENOSPACE;

    if (mode == VIRTWIRE_URI_MODE_AUTO) {
        /* Over SSH the socket is the remote host's: nothing to probe. */
        if (is_ssh(uri->transport))
            mode = VIRTWIRE_URI_MODE_LEGACY;
        else if (h->exists(direct, h->opaque))
            mode = VIRTWIRE_URI_MODE_DIRECT;
        else if (h->exists(legacy, h->opaque))
            mode = VIRTWIRE_URI_MODE_LEGACY;
        else
            mode = flags & VIRTWIRE_URI_DIRECT_FALLBACK ? VIRTWIRE_URI_MODE_DIRECT
                                                        : VIRTWIRE_URI_MODE_LEGACY;
    }
    if (mode == VIRTWIRE_URI_MODE_DIRECT && is_ssh(uri->transport))
        return VIRTWIRE_EURI_SOCKET;
    pb_str(pb, mode == VIRTWIRE_URI_MODE_DIRECT ? direct : legacy);
    return 0;
}

int virtwire_uri_socket_path_env(const virtwire_uri *uri, unsigned int flags,
                                 const virtwire_uri_env *env,
                                 char *buf, size_t len)
{
    const unsigned int known = VIRTWIRE_URI_READONLY | VIRTWIRE_URI_ADMIN |
                               VIRTWIRE_URI_DIRECT_FALLBACK;
    if (!buf || len == 0)
        return VIRTWIRE_EINVAL;
    buf[0] = '\0';
    virtwire_uri_env mine;
    if (!uri || (flags & ~known) || (env && vw_sized_copy(&mine, sizeof mine, env) < 0))
        return VIRTWIRE_EINVAL;

    int lock_log = strcmp(uri->driver, "virtlockd") == 0 ||
                   strcmp(uri->driver, "virtlogd") == 0;
    /* Neither admin nor lock/log daemons have a read-only socket. */
    if ((flags & VIRTWIRE_URI_READONLY) &&
        ((flags & VIRTWIRE_URI_ADMIN) || lock_log))
        return VIRTWIRE_EINVAL;

    hooks h = make_hooks(env ? &mine : NULL);
    pathbuf pb = { buf, len, 0, 0 };
    int rc;
    if (flags & VIRTWIRE_URI_ADMIN)
        rc = admin_socket(uri, &h, &pb);
    else if (lock_log)
        rc = lock_log_socket(uri, &h, &pb);
    else
        rc = remote_socket(uri, flags, &h, &pb);
    if (rc == 0)
        rc = pb_result(&pb);
    if (rc < 0)
        buf[0] = '\0';
    return rc;
}

int virtwire_uri_socket_path(const virtwire_uri *uri, unsigned int flags,
                             char *buf, size_t len)
{
    return virtwire_uri_socket_path_env(uri, flags, NULL, buf, len);
}

/* ------------------------------------------------------------------------ */
/* TCP                                                                      */
/* ------------------------------------------------------------------------ */

const char *virtwire_uri_connect_host(const virtwire_uri *uri)
{
    return uri && uri->host ? uri->host : "localhost";
}

int virtwire_uri_tcp_port(const virtwire_uri *uri)
{
    if (!uri)
        return VIRTWIRE_EINVAL;
    switch (uri->transport) {
    case VIRTWIRE_URI_TRANSPORT_TCP:
        return uri->port ? uri->port : VIRTWIRE_URI_TCP_PORT;
    case VIRTWIRE_URI_TRANSPORT_TLS:
        return uri->port ? uri->port : VIRTWIRE_URI_TLS_PORT;
    case VIRTWIRE_URI_TRANSPORT_SSH:
    case VIRTWIRE_URI_TRANSPORT_LIBSSH:
    case VIRTWIRE_URI_TRANSPORT_LIBSSH2:
        return uri->port ? uri->port : 22;
    case VIRTWIRE_URI_TRANSPORT_UNIX:
    case VIRTWIRE_URI_TRANSPORT_EXT:
        break;
    }
    return VIRTWIRE_EINVAL;
}

int virtwire_uri_supported(const virtwire_uri *uri)
{
    if (!uri)
        return VIRTWIRE_EINVAL;
    if (uri->transport == VIRTWIRE_URI_TRANSPORT_UNIX ||
        uri->transport == VIRTWIRE_URI_TRANSPORT_TCP ||
        uri->transport == VIRTWIRE_URI_TRANSPORT_SSH ||
        uri->transport == VIRTWIRE_URI_TRANSPORT_EXT)
        return 0;
    return VIRTWIRE_EUNSUPPORTED_TRANSPORT;
}
