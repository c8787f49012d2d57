/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * libvirt connection URIs.
 *
 *   `driver[+transport]://[user@][host][:port]/path[?params][#fragment]`
 *
 * virtwire_uri_parse() splits a URI the way libvirt does (libvirt parses it
 * with libxml2's RFC 3986 parser, then its remote driver splits the scheme
 * and takes out the query parameters it uses itself).  From the parsed URI:
 *
 *   - virtwire_uri_open_name() gives the name a client sends in
 *     CONNECT_OPEN, derived like libvirt's remote driver derives it;
 *   - virtwire_uri_socket_path() gives the unix socket to connect to, chosen
 *     like the remote driver (or libvirt-admin, for admin connections)
 *     chooses it;
 *   - virtwire_uri_connect_host() and virtwire_uri_tcp_port() give the TCP
 *     endpoint.
 *
 * @code
 *   virtwire_uri *uri;
 *   if (virtwire_uri_parse("qemu:///system", &uri) == 0) {
 *       char path[108];
 *       char *name = virtwire_uri_open_name(uri);        // "qemu:///system"
 *       virtwire_uri_socket_path(uri, 0, path, sizeof path);
 *       ...
 *       free(name);
 *       virtwire_uri_free(uri);
 *   }
 * @endcode
 *
 * URIs may come from users, so the parser treats its input as untrusted:
 * at most VIRTWIRE_URI_MAX_LENGTH bytes, a single allocation bounded by a
 * small multiple of that, strict RFC 3986 syntax (no spaces, no control or
 * non-ASCII bytes, every '%' followed by two hex digits) and no control
 * character hidden in a percent-escape either.
 *
 * Where virtwire departs from libvirt 11.3.0 (all of them inputs libvirt
 * accepts and virtwire rejects, or a libvirt bug not reproduced):
 *   - ports above 65535 or of more than 5 digits, a port without a host
 *     ("//:5/", "//user@:5/") and a bracketed host that is not an IPv6
 *     address are malformed;
 *   - an empty user ("//@host/") is "" (libxml2 2.9 returns the rest of
 *     the URI as the user);
 *   - a percent-escape decoding to a control character (%00-%1F, %7F) is
 *     malformed (libvirt silently truncates at %00);
 *   - a query section that is just "=" is skipped, like "=value" is;
 *     libvirt takes the whole rest of the query as the name of a parameter.
 *
 * Thread safety: a parsed URI is immutable; any number of threads may use
 * it at once.  No function keeps global state.
 */
#ifndef VIRTWIRE_URI_H
#define VIRTWIRE_URI_H

#include <stddef.h>
#include <sys/types.h>

#include "virtwire_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes: VIRTWIRE_EURI ... VIRTWIRE_EUNSUPPORTED_TRANSPORT in virtwire_error.h. */

/** Longest URI accepted, in bytes (VIRTWIRE_ETOOLONG beyond). */
#define VIRTWIRE_URI_MAX_LENGTH 8192

/** Default TCP port of libvirtd's TCP listener. */
#define VIRTWIRE_URI_TCP_PORT 16509
/** Default TCP port of libvirtd's TLS listener. */
#define VIRTWIRE_URI_TLS_PORT 16514

/** The transport after '+' in the scheme (unix when there is none and no
 *  host, tls when there is a host). */
typedef enum virtwire_uri_transport {
    VIRTWIRE_URI_TRANSPORT_UNIX,    /**< unix */
    VIRTWIRE_URI_TRANSPORT_TCP,     /**< tcp */
    VIRTWIRE_URI_TRANSPORT_TLS,     /**< tls */
    VIRTWIRE_URI_TRANSPORT_SSH,     /**< ssh */
    VIRTWIRE_URI_TRANSPORT_LIBSSH,  /**< libssh */
    VIRTWIRE_URI_TRANSPORT_LIBSSH2, /**< libssh2 */
    VIRTWIRE_URI_TRANSPORT_EXT,     /**< ext */
} virtwire_uri_transport;

/** ?mode=: which daemon a unix connection goes to. */
typedef enum virtwire_uri_mode {
    VIRTWIRE_URI_MODE_AUTO,   /**< the modular daemon if its socket exists */
    VIRTWIRE_URI_MODE_LEGACY, /**< libvirtd (libvirt-sock) */
    VIRTWIRE_URI_MODE_DIRECT, /**< the modular daemon (`virt<driver>d-sock`) */
} virtwire_uri_mode;

/** ?proxy=: how SSH transports reach the remote socket. */
typedef enum virtwire_uri_proxy {
    VIRTWIRE_URI_PROXY_AUTO,   /**< auto */
    VIRTWIRE_URI_PROXY_NETCAT, /**< netcat */
    VIRTWIRE_URI_PROXY_NATIVE, /**< native */
} virtwire_uri_proxy;

/** One query parameter, in URI order. */
typedef struct virtwire_uri_param {
    const char *name;  /**< percent-decoded */
    const char *value; /**< percent-decoded; "" for "name" or "name=" */
    /** Non-zero when the client uses the parameter itself (the remote
     *  driver's parameters, listed in virtwire_uri_remote): it is not
     *  passed to the daemon in the CONNECT_OPEN name. */
    int consumed;
} virtwire_uri_param;

/**
 * The parameters libvirt's remote driver takes out of the query (names
 * compared case-insensitively; when one is repeated the last one counts).
 * Strings point into the params; NULL when absent.
 */
typedef struct virtwire_uri_remote {
    const char *name;   /**< the CONNECT_OPEN name, verbatim */
    const char *command; /**< ?command= (ext transport) */
    const char *socket; /**< the unix socket path, overriding the default */
    const char *auth;    /**< ?auth= */
    const char *sshauth; /**< ?sshauth= */
    const char *netcat;  /**< ?netcat= */
    const char *keyfile; /**< ?keyfile= */
    const char *pkipath; /**< ?pkipath= */
    const char *known_hosts;        /**< ?known_hosts= */
    const char *known_hosts_verify; /**< ?known_hosts_verify= */
    const char *tls_priority;       /**< ?tls_priority= */
    virtwire_uri_mode mode;   /**< AUTO unless ?mode= says otherwise */
    int has_proxy;            /**< ?proxy= given (libvirt then picks) */
    virtwire_uri_proxy proxy; /**< meaningful when has_proxy */
    int no_sanity;            /**< ?no_sanity=, 0 when absent */
    int no_verify;            /**< ?no_verify=, 0 when absent */
    int no_tty;               /**< ?no_tty=, 0 when absent */
} virtwire_uri_remote;

/** A parsed URI.  Immutable; every string lives as long as the URI. */
typedef struct virtwire_uri {
    const char *scheme;   /**< as written: "qemu+tcp" */
    const char *driver;   /**< the scheme before '+', as written: "qemu" */
    virtwire_uri_transport transport; /**< named, or implied */
    int transport_explicit; /**< non-zero when the scheme names it */
    const char *user;     /**< percent-decoded; NULL when absent */
    /** Percent-decoded, without the brackets of an IPv6 literal; NULL when
     *  absent ("qemu:///system"). */
    const char *host;
    int port;             /**< 1-65535, or 0 when absent (or written 0) */
    const char *path;     /**< percent-decoded; "" when absent */
    const char *query;    /**< raw text after '?'; NULL when absent */
    const char *fragment; /**< percent-decoded; NULL when absent */
    size_t nparams;       /**< number of query parameters */
    const virtwire_uri_param *params; /**< the query parameters, in order */
    virtwire_uri_remote remote; /**< the parameters the client uses */
} virtwire_uri;

/**
 * Parses text into a new URI (*out, to free with virtwire_uri_free()).
 * Returns 0, or VIRTWIRE_EINVAL (NULL argument), VIRTWIRE_ETOOLONG,
 * VIRTWIRE_ENOMEM, VIRTWIRE_EURI, VIRTWIRE_EURI_TRANSPORT,
 * VIRTWIRE_EURI_UNIX_HOST or VIRTWIRE_EURI_PARAM, with *out set to NULL.
 * The checks run in libvirt's order, so the code is the one matching the
 * error libvirt would report first.
 */
int virtwire_uri_parse(const char *text, virtwire_uri **out);

/** Frees a URI; NULL is fine. */
void virtwire_uri_free(virtwire_uri *uri);

/** The value of the first parameter called name (ASCII case-insensitive),
 *  or NULL. */
const char *virtwire_uri_get_param(const virtwire_uri *uri, const char *name);

/** "unix", "tcp", "tls", "ssh", "libssh", "libssh2", "ext" (NULL for a
 *  value outside the enum). */
const char *virtwire_uri_transport_name(virtwire_uri_transport transport);

/**
 * The name to send in REMOTE_PROC_CONNECT_OPEN, malloc'd (NULL when out of
 * memory).  As libvirt's remote driver: ?name= verbatim if given; else ""
 * for the "remote" driver (the daemon picks); else driver "://" path, then
 * "?" and the parameters the client does not consume (name=value joined by
 * '&', values percent-encoded but for RFC 3986 unreserved characters,
 * names as decoded), then "#" fragment.  Host, port, user and transport are
 * dropped: test+tcp://host:16509/default gives test:///default.
 */
char *virtwire_uri_open_name(const virtwire_uri *uri);

/**
 * The URI an SSH connection gives virt-ssh-helper on the remote host,
 * malloc'd (NULL when out of memory), as libvirt 11.3.0's remote driver
 * builds it: virtwire_uri_open_name(), but keeping the mode and socket
 * parameters (the helper chooses the remote socket with them).  libvirt
 * 9.0.0 gave the helper the CONNECT_OPEN name itself.
 */
char *virtwire_uri_ssh_helper_name(const virtwire_uri *uri);

/** virtwire_uri_socket_path() flags. */
#define VIRTWIRE_URI_READONLY 0x1u /**< the read-only socket (-sock-ro) */
#define VIRTWIRE_URI_ADMIN 0x2u    /**< the daemon's admin socket */
/** With ?mode=auto (the default), when neither the modular daemon's nor
 *  libvirtd's socket exists: pick the modular daemon's, like a libvirt built
 *  with remote_default_mode=direct (upstream's default), instead of
 *  libvirtd's, like Debian's libvirt. */
#define VIRTWIRE_URI_DIRECT_FALLBACK 0x4u

/** Hooks for virtwire_uri_socket_path_env(), so that tests and sandboxes
 *  can choose the answers; a NULL member takes the default.  Set size as
 *  described in "Structures that can grow" (docs/reference.md). */
typedef struct virtwire_uri_env {
    /** sizeof(virtwire_uri_env) as the caller was compiled. */
    size_t size;
    /** Non-zero if path exists.  Default: access(path, F_OK) == 0. */
    int (*exists)(const char *path, void *opaque);
    /** An environment variable or NULL.  Default: getenv(). */
    const char *(*getenv)(const char *name, void *opaque);
    /** The effective uid.  Default (NULL): geteuid(). */
    const uid_t *euid;
    void *opaque; /**< passed to exists and getenv */
} virtwire_uri_env;

/**
 * Writes to buf (len bytes, NUL included) the unix socket a URI
 * designates, as libvirt chooses it:
 *
 *   - ?socket= if given;
 *   - session or system: session when the path is "/session" or the scheme
 *     starts with "test+", and the effective uid is not 0;
 *   - system: /var/run/libvirt/libvirt-sock (libvirtd) or
 *     `/var/run/libvirt/virt<driver>d-sock` (the modular daemon), "-sock-ro"
 *     with VIRTWIRE_URI_READONLY (libvirt writes /var/run, not /run: the
 *     path may be used on an SSH server, and /var/run always leads to /run);
 *   - session: `<rundir>/libvirt-sock` or `<rundir>/virt<driver>d-sock` (no
 *     read-only socket), rundir being $XDG_RUNTIME_DIR/libvirt, else
 *     $XDG_CACHE_HOME/libvirt, else $HOME/.cache/libvirt;
 *   - ?mode=legacy picks libvirtd, direct the modular daemon, auto (default)
 *     the modular daemon if its socket exists, else libvirtd if its socket
 *     exists, else see VIRTWIRE_URI_DIRECT_FALLBACK.  Over SSH (the path is
 *     the remote host's), auto means legacy and direct is refused.
 *
 * URIs whose driver is virtlockd or virtlogd (unix transport) name those
 * daemons, with no read-only socket and ?socket= still winning: /run/libvirt/virtlockd-sock for the path /system,
 * `<rundir>/virtlockd-sock` for /session.
 *
 * With VIRTWIRE_URI_ADMIN, as libvirt-admin: the scheme names the daemon,
 * libvirtd (libvirt-admin-sock) or virt... (`<scheme>-admin-sock`, e.g.
 * virtqemud:///system gives /run/libvirt/virtqemud-admin-sock), the path
 * is /system (/run/libvirt) or /session (rundir), whatever the uid; the
 * only parameter allowed is socket (which wins).
 *
 * Returns 0, or VIRTWIRE_EINVAL (NULL argument, unknown flag, READONLY
 * with ADMIN or for virtlockd/virtlogd, no home directory for a session
 * socket), VIRTWIRE_ENOSPACE (buf too small), VIRTWIRE_EURI_SOCKET or
 * VIRTWIRE_EURI_PARAM.
 */
int virtwire_uri_socket_path(const virtwire_uri *uri, unsigned int flags,
                             char *buf, size_t len);
/** The same with hooks (env may be NULL). */
int virtwire_uri_socket_path_env(const virtwire_uri *uri, unsigned int flags,
                                 const virtwire_uri_env *env,
                                 char *buf, size_t len);

/** The host to connect to over TCP, TLS or SSH: the URI's, else
 *  "localhost" (qemu+tcp:///system). */
const char *virtwire_uri_connect_host(const virtwire_uri *uri);

/** The TCP port: the URI's, else 16509 for tcp, 16514 for tls, 22 for the
 *  SSH transports.  VIRTWIRE_EINVAL for unix and ext (or NULL). */
int virtwire_uri_tcp_port(const virtwire_uri *uri);

/** 0 if the runtime's core connects with the URI's transport by itself
 *  (unix, tcp, ssh, ext), VIRTWIRE_EUNSUPPORTED_TRANSPORT otherwise (tls,
 *  which needs an opener: see virtwire_connect_params; libssh and libssh2,
 *  which virtwire refuses in favour of ssh), VIRTWIRE_EINVAL for NULL. */
int virtwire_uri_supported(const virtwire_uri *uri);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_URI_H */
