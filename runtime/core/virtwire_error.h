/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * virtwire error codes.
 *
 * Every virtwire function that can fail returns 0 (or a non-negative count)
 * on success and one of the negative codes below on failure.  The codes are
 * stable: new ones are only ever appended.
 */
#ifndef VIRTWIRE_ERROR_H
#define VIRTWIRE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes: 0 for success, negative values for failures. */
typedef enum virtwire_error {
    /** Success. */
    VIRTWIRE_OK = 0,
    /** Memory allocation failed. */
    VIRTWIRE_ENOMEM = -1,
    /** The input ended before the value it describes (decode). */
    VIRTWIRE_ETRUNCATED = -2,
    /** A string, opaque or array length exceeds its `<max>` bound
     *  (decode and encode). */
    VIRTWIRE_ETOOLONG = -3,
    /** An enum value that the protocol does not declare (decode, with
     *  VIRTWIRE_DEC_STRICT_ENUM). */
    VIRTWIRE_EENUM = -4,
    /** A union discriminant that matches no arm, with no default arm. */
    VIRTWIRE_EUNION = -5,
    /** A bool or an optional-data flag other than 0 or 1 (decode, with
     *  VIRTWIRE_DEC_STRICT_BOOL). */
    VIRTWIRE_EBOOL = -6,
    /** A char or short value outside the range of its C type (decode), a
     *  long or unsigned long one that does not fit in 32 bits (encode). */
    VIRTWIRE_ERANGE = -7,
    /** The encode buffer is too small for the value. */
    VIRTWIRE_ENOSPACE = -8,
    /** A NULL pointer where the protocol requires data (encode). */
    VIRTWIRE_ENULL = -9,
    /** Bytes left over after a complete value. */
    VIRTWIRE_ETRAILING = -10,
    /** Non-zero padding bytes (only with VIRTWIRE_DEC_STRICT_PADDING). */
    VIRTWIRE_EPADDING = -11,
    /** Optional data nested deeper than the decoder's depth limit. */
    VIRTWIRE_EDEPTH = -12,
    /** An invalid argument was passed by the caller. */
    VIRTWIRE_EINVAL = -13,

    /* Transport (virtwire_transport.h): "fatal" errors are latched and
     * refuse further input; the others drop one frame. */
    /** A length word below 28 or above 33554436 (fatal). */
    VIRTWIRE_EFRAME_LENGTH = -20,
    /** A message type value that libvirt does not define (fatal). */
    VIRTWIRE_EMSG_TYPE = -21,
    /** A message status value that libvirt does not define (dropped;
     *  a server answers a CALL with an ERROR reply, like libvirt). */
    VIRTWIRE_EMSG_STATUS = -22,
    /** A message type this role never receives: a server receiving a REPLY,
     *  REPLY_WITH_FDS or a MESSAGE other than keepalive (dropped); a client
     *  receiving a CALL or CALL_WITH_FDS (fatal).  Also returned by the send
     *  functions for a type the peer's role would reject. */
    VIRTWIRE_EMSG_ROLE = -23,
    /** A status that libvirt rejects with this type, e.g. a CALL that is
     *  not OK or a REPLY that is CONTINUE (dropped; a server answers a CALL
     *  with an ERROR reply).  Also returned by the send functions. */
    VIRTWIRE_EMSG_COMBINATION = -24,
    /** A *_WITH_FDS frame announcing more than 32 fds (fatal), or a send of
     *  more than 32 fds. */
    VIRTWIRE_EFDS_MAX = -25,
    /** An fd offered while the transport expects bytes (fatal). */
    VIRTWIRE_EFD_UNEXPECTED = -26,
    /** Bytes offered while the transport expects fds (fatal). */
    VIRTWIRE_EFD_MISSING = -27,
    /** A *_WITH_FDS frame too short to hold its fd count (fatal). */
    VIRTWIRE_EFRAME_SHORT = -28,
    /** A REPLY whose program, version and serial match no call in flight
     *  (fatal, like libvirt's client). */
    VIRTWIRE_EREPLY_SERIAL = -29,
    /** A frame for a program and version that nobody registered (dropped;
     *  a server answers a CALL with an ERROR reply, like libvirt). */
    VIRTWIRE_EPROGRAM = -30,
    /** A STREAM or STREAM_HOLE packet for no open stream, or after the
     *  peer's own final packet on it (dropped: libvirt too ignores late
     *  packets of a closed stream). */
    VIRTWIRE_ESTREAM = -31,
    /** A STREAM_HOLE on a stream not opened with VIRTWIRE_STREAM_SPARSE
     *  (dropped). */
    VIRTWIRE_ESTREAM_HOLE = -32,
    /** A remote_error or stream hole payload that does not decode
     *  (dropped; a REPLY still completes its call, see on_error). */
    VIRTWIRE_EPAYLOAD = -33,
    /** The peer stopped answering keepalive PINGs (fatal). */
    VIRTWIRE_EKEEPALIVE = -34,
    /** A callback returned a negative value (fatal). */
    VIRTWIRE_ECALLBACK = -35,
    /** on_send returned a negative value (fatal when the transport was
     *  sending on its own: a PING, a PONG or an automatic error reply). */
    VIRTWIRE_ESEND = -36,
    /** receive, receive_fd or keepalive_tick called from a callback of
     *  the same transport, or a send from on_send (not latched). */
    VIRTWIRE_EREENTRANT = -37,

    /* Connection URIs (virtwire_uri.h). */
    /** A URI that is not RFC 3986 syntax, has no scheme, a port outside
     *  0-65535, a control character (raw or percent-encoded) or a
     *  malformed percent-escape; also qemu://system and qemu://session
     *  (which libvirt rejects too: qemu:///system was meant). */
    VIRTWIRE_EURI = -40,
    /** The transport after '+' in the scheme is not one of unix, tcp, tls,
     *  ssh, libssh, libssh2 or ext. */
    VIRTWIRE_EURI_TRANSPORT = -41,
    /** The unix transport with a host: unix sockets are local only. */
    VIRTWIRE_EURI_UNIX_HOST = -42,
    /** A parameter the client uses has an invalid value: no_sanity,
     *  no_verify or no_tty not an integer, mode not auto|legacy|direct,
     *  proxy not auto|netcat|native; or, for an admin socket, a parameter
     *  other than socket. */
    VIRTWIRE_EURI_PARAM = -43,
    /** The URI designates no socket for the use asked: a TCP, TLS or ext
     *  URI, direct mode over SSH, an admin URI whose scheme is not libvirtd
     *  or virt..., or whose path is neither /system nor /session. */
    VIRTWIRE_EURI_SOCKET = -44,
    /** A transport that virtwire does not implement yet (TLS, SSH, libssh,
     *  libssh2, ext). */
    VIRTWIRE_EUNSUPPORTED_TRANSPORT = -45,

    /* Connections and clients (virtwire_conn.h, virtwire_client.h). */
    /** The connection is closed: the peer hung up, or it was closed
     *  locally; every call in flight fails with this. */
    VIRTWIRE_ECLOSED = -50,
    /** A system call failed on the connection's socket (see errno). */
    VIRTWIRE_EIO = -51,
    /** The daemon answered with a remote_error (the call's error field). */
    VIRTWIRE_EREMOTE = -52,
    /** The call's timeout passed before its reply arrived. */
    VIRTWIRE_ETIMEDOUT = -53,
    /** The daemon does not know the procedure (libvirt's "unknown
     *  procedure" error, VIR_ERR_RPC), or the feature is not offered. */
    VIRTWIRE_EUNSUPPORTED = -54,
    /** Authentication failed: the daemon offers no method the client can
     *  run, refused the one asked for, or refused the client. */
    VIRTWIRE_EAUTH = -55,
    /** fds given for a connection that cannot carry them: only a local
     *  unix socket can (not TCP, TLS or SSH); nothing was sent. */
    VIRTWIRE_EFDPASS = -56,
    /** The SASL security layer failed: the peer sent a packet longer than
     *  the negotiated buffer (or an empty one), or one that does not
     *  decode, or a packet could not be encoded (libvirtwire_sasl). */
    VIRTWIRE_ESECURITY_LAYER = -57,
} virtwire_error;

/** Returns a static, human-readable description of an error code.
 *  Unknown codes give "unknown error". */
const char *virtwire_strerror(int code);

/** Returns the symbolic name of an error code ("VIRTWIRE_ETOOLONG"), or NULL
 *  for an unknown code. */
const char *virtwire_error_name(int code);

/**
 * Whether an error code means, wherever a function returns it, that the
 * connection it concerns is over: a transport that latched it refuses all
 * further input, a connection or client that returns it can only be freed
 * or closed.  Non-zero for VIRTWIRE_EFRAME_LENGTH, VIRTWIRE_EMSG_TYPE,
 * VIRTWIRE_EFD_UNEXPECTED, VIRTWIRE_EFD_MISSING, VIRTWIRE_EFRAME_SHORT,
 * VIRTWIRE_EREPLY_SERIAL, VIRTWIRE_EKEEPALIVE, VIRTWIRE_ECALLBACK,
 * VIRTWIRE_ECLOSED, VIRTWIRE_EIO, VIRTWIRE_EAUTH and VIRTWIRE_ESECURITY_LAYER;
 * zero for every other
 * code, success included.
 *
 * Four codes are fatal in some places only, and give zero here: a message
 * type the role never receives (VIRTWIRE_EMSG_ROLE: fatal for a client,
 * one frame dropped for a server), too many fds (VIRTWIRE_EFDS_MAX: fatal
 * when received, a refused send otherwise), a failed send
 * (VIRTWIRE_ESEND: fatal when the transport was sending on its own) and
 * VIRTWIRE_ENOMEM (fatal when the I/O thread or the server loop could not
 * keep what it must).  Where they come from, the object's own error says
 * whether it is over: virtwire_transport_error(),
 * virtwire_conn_write_error(), virtwire_client_error(),
 * virtwire_server_client_error().
 */
int virtwire_error_is_fatal(int code);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_ERROR_H */
