/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "virtwire_error.h"

#include <stddef.h>

static const struct {
    int code;
    const char *name;
    const char *text;
} errors[] = {
    { VIRTWIRE_OK, "VIRTWIRE_OK", "success" },
    { VIRTWIRE_ENOMEM, "VIRTWIRE_ENOMEM", "out of memory" },
    { VIRTWIRE_ETRUNCATED, "VIRTWIRE_ETRUNCATED", "input truncated" },
    { VIRTWIRE_ETOOLONG, "VIRTWIRE_ETOOLONG", "length exceeds the protocol bound" },
    { VIRTWIRE_EENUM, "VIRTWIRE_EENUM", "undeclared enum value" },
    { VIRTWIRE_EUNION, "VIRTWIRE_EUNION", "union discriminant matches no arm" },
    { VIRTWIRE_EBOOL, "VIRTWIRE_EBOOL", "bool or optional flag is neither 0 nor 1" },
    { VIRTWIRE_ERANGE, "VIRTWIRE_ERANGE", "value out of range for its type" },
    { VIRTWIRE_ENOSPACE, "VIRTWIRE_ENOSPACE", "encode buffer too small" },
    { VIRTWIRE_ENULL, "VIRTWIRE_ENULL", "NULL pointer where data is required" },
    { VIRTWIRE_ETRAILING, "VIRTWIRE_ETRAILING", "trailing bytes after value" },
    { VIRTWIRE_EPADDING, "VIRTWIRE_EPADDING", "non-zero padding bytes" },
    { VIRTWIRE_EDEPTH, "VIRTWIRE_EDEPTH", "optional data nested too deeply" },
    { VIRTWIRE_EINVAL, "VIRTWIRE_EINVAL", "invalid argument" },
    { VIRTWIRE_EFRAME_LENGTH, "VIRTWIRE_EFRAME_LENGTH", "frame length word below 28 or above 33554436" },
    { VIRTWIRE_EMSG_TYPE, "VIRTWIRE_EMSG_TYPE", "unknown message type" },
    { VIRTWIRE_EMSG_STATUS, "VIRTWIRE_EMSG_STATUS", "unknown message status" },
    { VIRTWIRE_EMSG_ROLE, "VIRTWIRE_EMSG_ROLE", "message type not valid for this role" },
    { VIRTWIRE_EMSG_COMBINATION, "VIRTWIRE_EMSG_COMBINATION", "message status not valid with this type" },
    { VIRTWIRE_EFDS_MAX, "VIRTWIRE_EFDS_MAX", "more than 32 fds in one message" },
    { VIRTWIRE_EFD_UNEXPECTED, "VIRTWIRE_EFD_UNEXPECTED", "fd received while bytes were expected" },
    { VIRTWIRE_EFD_MISSING, "VIRTWIRE_EFD_MISSING", "bytes received while fds were expected" },
    { VIRTWIRE_EFRAME_SHORT, "VIRTWIRE_EFRAME_SHORT", "frame too short for its fd count" },
    { VIRTWIRE_EREPLY_SERIAL, "VIRTWIRE_EREPLY_SERIAL", "reply matches no call in flight" },
    { VIRTWIRE_EPROGRAM, "VIRTWIRE_EPROGRAM", "message for an unregistered program or version" },
    { VIRTWIRE_ESTREAM, "VIRTWIRE_ESTREAM", "stream packet for no open stream" },
    { VIRTWIRE_ESTREAM_HOLE, "VIRTWIRE_ESTREAM_HOLE", "stream hole on a stream that is not sparse" },
    { VIRTWIRE_EPAYLOAD, "VIRTWIRE_EPAYLOAD", "remote_error or stream hole payload does not decode" },
    { VIRTWIRE_EKEEPALIVE, "VIRTWIRE_EKEEPALIVE", "peer did not answer keepalive" },
    { VIRTWIRE_ECALLBACK, "VIRTWIRE_ECALLBACK", "a callback asked to stop" },
    { VIRTWIRE_ESEND, "VIRTWIRE_ESEND", "on_send failed" },
    { VIRTWIRE_EREENTRANT, "VIRTWIRE_EREENTRANT", "called from a callback of the same transport" },
    { VIRTWIRE_EURI, "VIRTWIRE_EURI", "malformed URI" },
    { VIRTWIRE_EURI_TRANSPORT, "VIRTWIRE_EURI_TRANSPORT", "unknown transport in URI scheme" },
    { VIRTWIRE_EURI_UNIX_HOST, "VIRTWIRE_EURI_UNIX_HOST", "unix transport with a remote host" },
    { VIRTWIRE_EURI_PARAM, "VIRTWIRE_EURI_PARAM", "invalid URI parameter" },
    { VIRTWIRE_EURI_SOCKET, "VIRTWIRE_EURI_SOCKET", "URI designates no such socket" },
    { VIRTWIRE_EUNSUPPORTED_TRANSPORT, "VIRTWIRE_EUNSUPPORTED_TRANSPORT", "transport not supported yet" },
    { VIRTWIRE_ECLOSED, "VIRTWIRE_ECLOSED", "connection closed" },
    { VIRTWIRE_EIO, "VIRTWIRE_EIO", "socket error" },
    { VIRTWIRE_EREMOTE, "VIRTWIRE_EREMOTE", "the daemon reported an error" },
    { VIRTWIRE_ETIMEDOUT, "VIRTWIRE_ETIMEDOUT", "call timed out" },
    { VIRTWIRE_EUNSUPPORTED, "VIRTWIRE_EUNSUPPORTED", "procedure not supported by the daemon" },
    { VIRTWIRE_EAUTH, "VIRTWIRE_EAUTH", "no supported authentication method" },
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
