/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "virtwire_error.h"

#include <stddef.h>

/* Each code: its name, its text, and whether it is fatal wherever it is
 * returned (virtwire_error_is_fatal()). */
static const struct {
    int code;
    const char *name;
    const char *text;
    int fatal;
} errors[] = {
    { VIRTWIRE_OK, "VIRTWIRE_OK", "success", 0 },
    { VIRTWIRE_ENOMEM, "VIRTWIRE_ENOMEM", "out of memory", 0 },
    { VIRTWIRE_ETRUNCATED, "VIRTWIRE_ETRUNCATED", "input truncated", 0 },
    { VIRTWIRE_ETOOLONG, "VIRTWIRE_ETOOLONG", "length exceeds the protocol bound", 0 },
    { VIRTWIRE_EENUM, "VIRTWIRE_EENUM", "undeclared enum value", 0 },
    { VIRTWIRE_EUNION, "VIRTWIRE_EUNION", "union discriminant matches no arm", 0 },
    { VIRTWIRE_EBOOL, "VIRTWIRE_EBOOL", "bool or optional flag is neither 0 nor 1", 0 },
    { VIRTWIRE_ERANGE, "VIRTWIRE_ERANGE", "value out of range for its type", 0 },
    { VIRTWIRE_ENOSPACE, "VIRTWIRE_ENOSPACE", "encode buffer too small", 0 },
    { VIRTWIRE_ENULL, "VIRTWIRE_ENULL", "NULL pointer where data is required", 0 },
    { VIRTWIRE_ETRAILING, "VIRTWIRE_ETRAILING", "trailing bytes after value", 0 },
    { VIRTWIRE_EPADDING, "VIRTWIRE_EPADDING", "non-zero padding bytes", 0 },
    { VIRTWIRE_EDEPTH, "VIRTWIRE_EDEPTH", "optional data nested too deeply", 0 },
    { VIRTWIRE_EINVAL, "VIRTWIRE_EINVAL", "invalid argument", 0 },
    { VIRTWIRE_EFRAME_LENGTH, "VIRTWIRE_EFRAME_LENGTH", "frame length word below 28 or above 33554436", 1 },
    { VIRTWIRE_EMSG_TYPE, "VIRTWIRE_EMSG_TYPE", "unknown message type", 1 },
    { VIRTWIRE_EMSG_STATUS, "VIRTWIRE_EMSG_STATUS", "unknown message status", 0 },
    { VIRTWIRE_EMSG_ROLE, "VIRTWIRE_EMSG_ROLE", "message type not valid for this role", 0 },
    { VIRTWIRE_EMSG_COMBINATION, "VIRTWIRE_EMSG_COMBINATION", "message status not valid with this type", 0 },
    { VIRTWIRE_EFDS_MAX, "VIRTWIRE_EFDS_MAX", "more than 32 fds in one message", 0 },
    { VIRTWIRE_EFD_UNEXPECTED, "VIRTWIRE_EFD_UNEXPECTED", "fd received while bytes were expected", 1 },
    { VIRTWIRE_EFD_MISSING, "VIRTWIRE_EFD_MISSING", "bytes received while fds were expected", 1 },
    { VIRTWIRE_EFRAME_SHORT, "VIRTWIRE_EFRAME_SHORT", "frame too short for its fd count", 1 },
    { VIRTWIRE_EREPLY_SERIAL, "VIRTWIRE_EREPLY_SERIAL", "reply matches no call in flight", 1 },
    { VIRTWIRE_EPROGRAM, "VIRTWIRE_EPROGRAM", "message for an unregistered program or version", 0 },
    { VIRTWIRE_ESTREAM, "VIRTWIRE_ESTREAM", "stream packet for no open stream", 0 },
    { VIRTWIRE_ESTREAM_HOLE, "VIRTWIRE_ESTREAM_HOLE", "stream hole on a stream that is not sparse", 0 },
    { VIRTWIRE_EPAYLOAD, "VIRTWIRE_EPAYLOAD", "remote_error or stream hole payload does not decode", 0 },
    { VIRTWIRE_EKEEPALIVE, "VIRTWIRE_EKEEPALIVE", "peer did not answer keepalive", 1 },
    { VIRTWIRE_ECALLBACK, "VIRTWIRE_ECALLBACK", "a callback asked to stop", 1 },
    { VIRTWIRE_ESEND, "VIRTWIRE_ESEND", "on_send failed", 0 },
    { VIRTWIRE_EREENTRANT, "VIRTWIRE_EREENTRANT", "called from a callback of the same transport", 0 },
    { VIRTWIRE_EURI, "VIRTWIRE_EURI", "malformed URI", 0 },
    { VIRTWIRE_EURI_TRANSPORT, "VIRTWIRE_EURI_TRANSPORT", "unknown transport in URI scheme", 0 },
    { VIRTWIRE_EURI_UNIX_HOST, "VIRTWIRE_EURI_UNIX_HOST", "unix transport with a remote host", 0 },
    { VIRTWIRE_EURI_PARAM, "VIRTWIRE_EURI_PARAM", "invalid URI parameter", 0 },
    { VIRTWIRE_EURI_SOCKET, "VIRTWIRE_EURI_SOCKET", "URI designates no such socket", 0 },
    { VIRTWIRE_EUNSUPPORTED_TRANSPORT, "VIRTWIRE_EUNSUPPORTED_TRANSPORT", "transport not supported yet", 0 },
    { VIRTWIRE_ECLOSED, "VIRTWIRE_ECLOSED", "connection closed", 1 },
    { VIRTWIRE_EIO, "VIRTWIRE_EIO", "socket error", 1 },
    { VIRTWIRE_EREMOTE, "VIRTWIRE_EREMOTE", "the daemon reported an error", 0 },
    { VIRTWIRE_ETIMEDOUT, "VIRTWIRE_ETIMEDOUT", "call timed out", 0 },
    { VIRTWIRE_EUNSUPPORTED, "VIRTWIRE_EUNSUPPORTED", "procedure not supported by the daemon", 0 },
    { VIRTWIRE_EAUTH, "VIRTWIRE_EAUTH", "authentication failed", 1 },
    { VIRTWIRE_EFDPASS, "VIRTWIRE_EFDPASS",
      "this connection cannot carry file descriptors (only a local unix socket can)", 0 },
    { VIRTWIRE_ESECURITY_LAYER, "VIRTWIRE_ESECURITY_LAYER",
      "the SASL security layer failed (a packet too long, or one that does not decode)", 1 },
};

static int find(int code)
{
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        if (errors[i].code == code)
            return (int)i;
    return -1;
}

const char *virtwire_strerror(int code)
{
    int i = find(code);
    return i < 0 ? "unknown error" : errors[i].text;
}

const char *virtwire_error_name(int code)
{
    int i = find(code);
    return i < 0 ? NULL : errors[i].name;
}

int virtwire_error_is_fatal(int code)
{
    int i = find(code);
    return i >= 0 && errors[i].fatal;
}
