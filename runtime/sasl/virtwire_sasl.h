/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * virtwire SASL (library libvirtwire_sasl, on the system's Cyrus SASL,
 * libsasl2, as libvirt): libvirt's SASL authentication with its security
 * layer, client and server, and libvirt's auth.conf.
 *
 * Client: an authentication method (virtwire_session.h) to give in
 * virtwire_client_options.auth_methods.  It runs AUTH_SASL_INIT, _START and
 * _STEP as libvirt's remote driver does (service "libvirt", the URI's host
 * as the server's name, "IP;port" addresses, the nil flags that tell NULL
 * from empty data, at least one STEP unless both sides completed after
 * START, the mechanism chosen from the daemon's list or by `auth=sasl.MECH`),
 * with libvirt's security properties: over unix, TLS and ssh channels
 * min/max SSF 0 and anonymous mechanisms allowed, the channel's own SSF
 * (TLS: its cipher's key size) as SASL's external SSF; otherwise (plain TCP,
 * ext) min SSF 56 and no anonymous or plaintext mechanism, and a
 * negotiated SSF below 56 fails.  Credentials come from libvirt's auth.conf
 * first, then from the caller's callback.  When the mechanism negotiated a
 * security layer (SSF > 0), every byte after the last reply goes through
 * it, encoded and decoded in chunks of the negotiated maximum buffer
 * (virtwire_conn_wrap_channel()); fds cannot pass over it
 * (VIRTWIRE_EFDPASS).
 *
 * Server: virtwire_sasl_server_new() serves the same three procedures, as
 * libvirtd does, for the clients of listeners that offer REMOTE_AUTH_SASL:
 * a SASL server session per client, the mechanisms of the SASL
 * configuration (application "libvirt": libvirt.conf in SASL_CONF_PATH or
 * the system's SASL directory), a username allow-list like libvirtd's
 * sasl_allowed_username_list, and, once the last reply is sent in the clear,
 * the security layer on the client's channel.
 *
 * Threads: the client method runs on the thread that connects; the server
 * handlers on the server's loop.  Cyrus SASL is initialised once per
 * process (client and server sides each).
 */
#ifndef VIRTWIRE_SASL_H
#define VIRTWIRE_SASL_H

#include <stddef.h>

#include "virtwire_program.h"
#include "virtwire_server.h"
#include "virtwire_session.h"
#include "virtwire_uri.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Credentials                                                              */
/* ------------------------------------------------------------------------ */

/** The credentials a SASL mechanism may ask for: libvirt's
 *  virConnectCredentialType, same numbers. */
typedef enum virtwire_credential_type {
    VIRTWIRE_CRED_USERNAME = 1,     /**< identity to act as (SASL_CB_USER) */
    VIRTWIRE_CRED_AUTHNAME = 2,     /**< identity to authorize as (SASL_CB_AUTHNAME) */
    VIRTWIRE_CRED_LANGUAGE = 3,     /**< RFC 1766 languages, comma separated */
    VIRTWIRE_CRED_CNONCE = 4,       /**< a client nonce */
    VIRTWIRE_CRED_PASSPHRASE = 5,   /**< the secret (SASL_CB_PASS) */
    VIRTWIRE_CRED_ECHOPROMPT = 6,   /**< a challenge, answer shown */
    VIRTWIRE_CRED_NOECHOPROMPT = 7, /**< a challenge, answer hidden */
    VIRTWIRE_CRED_REALM = 8,        /**< the realm (SASL_CB_GETREALM) */
    VIRTWIRE_CRED_EXTERNAL = 9,     /**< managed outside (never asked by SASL) */
} virtwire_credential_type;

/** One credential asked for, as libvirt's virConnectCredential. */
typedef struct virtwire_credential {
    int type;              /**< virtwire_credential_type */
    const char *prompt;    /**< what to show */
    const char *challenge; /**< more to show, or NULL */
    const char *defresult; /**< a default, or NULL */
    /** Set by the callback: the answer, from malloc() (the library frees
     *  it, after wiping it), or NULL for none. */
    char *result;
    unsigned int resultlen; /**< bytes at result */
} virtwire_credential;

/** Fills the results of ncred credentials; returns 0, or < 0 to give up
 *  (the authentication then fails with "Failed to collect auth
 *  credentials"). */
typedef int (*virtwire_credential_fn)(virtwire_credential *cred, size_t ncred, void *opaque);

/* ------------------------------------------------------------------------ */
/* Client                                                                   */
/* ------------------------------------------------------------------------ */

/** How the client method gets its credentials.  Set size as for every
 *  structure virtwire reads (docs/reference.md, "Structures that can
 *  grow"). */
typedef struct virtwire_sasl_client_config {
    /** sizeof(virtwire_sasl_client_config) as the caller was compiled. */
    size_t size;
    /** Asked for what auth.conf does not give; NULL: auth.conf only. */
    virtwire_credential_fn credentials;
    void *opaque; /**< passed to credentials */
    /** The credential types the caller can answer (as
     *  virConnectAuth.credtype): each becomes a SASL interaction.  NULL:
     *  libvirt's default set (virConnectAuthPtrDefault: AUTHNAME,
     *  ECHOPROMPT, REALM, PASSPHRASE, NOECHOPROMPT). */
    const int *credtypes;
    size_t ncredtypes; /**< number of credtypes (at most 16) */
    /** auth.conf to use instead of libvirt's lookup
     *  (virtwire_auth_config_path()); "" for none. */
    const char *auth_file;
} virtwire_sasl_client_config;

/** The SASL method with auth.conf only (no callback, libvirt's default
 *  credential types). */
extern const virtwire_auth_method virtwire_auth_sasl;

/**
 * A SASL method with a configuration (copied; the strings and arrays it
 * points to must live as long as the method).  Free with
 * virtwire_sasl_method_free() once no client connects with it.  Returns 0,
 * VIRTWIRE_EINVAL or VIRTWIRE_ENOMEM.
 */
int virtwire_sasl_method_new(const virtwire_sasl_client_config *cfg, virtwire_auth_method **out);

/** Frees a method from virtwire_sasl_method_new().  NULL is fine. */
void virtwire_sasl_method_free(virtwire_auth_method *m);

/* ------------------------------------------------------------------------ */
/* Server                                                                   */
/* ------------------------------------------------------------------------ */

/** The server's SASL settings (libvirtd.conf's).  Set size as above. */
typedef struct virtwire_sasl_server_opts {
    /** sizeof(virtwire_sasl_server_opts) as the caller was compiled. */
    size_t size;
    /** sasl_allowed_username_list: glob patterns ('*', '?') the SASL
     *  username must match, NULL-terminated; NULL allows every user. */
    const char *const *allowed_usernames;
    /** tcp_min_ssf: the SSF a client on a channel that is not secure
     *  (plain TCP) must negotiate; 0 gives libvirtd's 56. */
    unsigned int tcp_min_ssf;
} virtwire_sasl_server_opts;

/** The SASL handlers of one server (opaque). */
typedef struct virtwire_sasl_server virtwire_sasl_server;

/**
 * Installs AUTH_SASL_INIT, _START and _STEP handlers on remote (the
 * generated remote_program, registered on srv before; AUTH_LIST comes from
 * virtwire_session_server_new()).  opts may be NULL and is copied
 * (allowed_usernames too).  Free *out after the server.  Returns 0,
 * VIRTWIRE_EINVAL, VIRTWIRE_ENOMEM or VIRTWIRE_EAUTH (Cyrus SASL did not
 * initialise).
 */
int virtwire_sasl_server_new(virtwire_server *srv, const virtwire_program *remote,
                             const virtwire_sasl_server_opts *opts, virtwire_sasl_server **out);

/** Frees the handlers' state (after virtwire_server_free()).  NULL is
 *  fine. */
void virtwire_sasl_server_free(virtwire_sasl_server *s);

/** The SASL username client c authenticated as through s, or NULL
 *  (valid while the client is). */
const char *virtwire_sasl_server_identity(const virtwire_sasl_server *s,
                                          const virtwire_server_client *c);

/* ------------------------------------------------------------------------ */
/* libvirt's auth.conf                                                      */
/* ------------------------------------------------------------------------ */

/**
 * A parsed auth.conf (libvirt's format, a GLib key file):
 *
 *   [credentials-NAME]     username=, authname=, password=, realm=
 *   [auth-SERVICE-HOST]    credentials=NAME   (HOST "default" matches any)
 *
 * Lines are groups ([name]), KEY=VALUE pairs (spaces around the key and
 * before the value dropped; \\s \\n \\t \\r \\\\ escapes in values), comments
 * (#) and blank lines; anything else, a key before the first group, or a
 * file over 1 MiB is an error.  A repeated key: the last one counts.
 */
typedef struct virtwire_auth_config virtwire_auth_config;

/** Parses len bytes; path names the file in messages.  On error, errbuf
 *  (errlen bytes, may be NULL) says what and where.  Returns 0,
 *  VIRTWIRE_EINVAL (a syntax error), VIRTWIRE_ETOOLONG or VIRTWIRE_ENOMEM. */
int virtwire_auth_config_parse(const char *data, size_t len, const char *path,
                               virtwire_auth_config **out, char *errbuf, size_t errlen);

/** Reads and parses the file at path; VIRTWIRE_EIO (errno) when it cannot
 *  be read. */
int virtwire_auth_config_load(const char *path, virtwire_auth_config **out, char *errbuf,
                              size_t errlen);

/** Frees a configuration.  NULL is fine. */
void virtwire_auth_config_free(virtwire_auth_config *cfg);

/**
 * libvirt's lookup (virAuthConfigLookup): the group auth-SERVICE-HOST (HOST
 * NULL means "localhost"), else auth-SERVICE-default; its credentials=NAME
 * names the group credentials-NAME, whose key credname is the answer.
 * *value (owned by cfg) is NULL when there is none.  Returns 0, or
 * VIRTWIRE_EINVAL with libvirt's message in errbuf: "Missing item
 * 'credentials' in group 'G' in 'PATH'", "Missing group 'credentials-N'
 * referenced from group 'G' in 'PATH'".
 */
int virtwire_auth_config_lookup(const virtwire_auth_config *cfg, const char *service,
                                const char *hostname, const char *credname,
                                const char **value, char *errbuf, size_t errlen);

/**
 * The auth.conf libvirt's clients read, in libvirt's order: the
 * environment's LIBVIRT_AUTH_FILE; the URI's authfile= parameter;
 * $XDG_CONFIG_HOME/libvirt/auth.conf ($HOME/.config when unset) if
 * readable; /etc/libvirt/auth.conf if readable.  *path (malloc'd) is NULL
 * when there is none.  Returns 0 or VIRTWIRE_ENOMEM.
 */
int virtwire_auth_config_path(const virtwire_uri *uri, char **path);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_SASL_H */
