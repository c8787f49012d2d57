/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * libvirt's numbers that virtwire's own layers rely on, each defined once.
 *
 * The transport, the connections, the client, the server and the tools
 * take every libvirt fact they need from here: frame limits, the fd limit,
 * the error numbers a daemon answers refused calls with, and the few
 * procedures of the remote program whose meaning the runtime must know
 * (the keepalive announcement).  Where the fact is a constant of
 * virnetprotocol.x, it is defined from the generated one; the others come
 * from libvirt's C headers (virerror.h, libvirt-host.h, the remote
 * driver), which the .x files do not carry.  docs/protocol.md describes
 * what each one means on the wire.
 *
 * The generic layers include no generated header but virnetprotocol.h and
 * virkeepaliveprotocol.h: what they know of the remote program is here,
 * as data (tests/codec checks it against the generated remote_protocol.h).
 */
#ifndef VIRTWIRE_FACTS_H
#define VIRTWIRE_FACTS_H

#include "virnetprotocol.h"

/* ------------------------------------------------------------------------ */
/* Frames (virnetprotocol.x)                                                */
/* ------------------------------------------------------------------------ */

/** Bytes of the length word that starts every frame (it counts itself). */
#define VIRTWIRE_FRAME_LEN_WORD ((unsigned)VIR_NET_MESSAGE_LEN_MAX)
/** Bytes of the header after the length word: six XDR words. */
#define VIRTWIRE_FRAME_HEADER_LEN ((unsigned)VIR_NET_MESSAGE_HEADER_MAX)
/** The smallest length word: a header without payload (28). */
#define VIRTWIRE_FRAME_MIN (VIRTWIRE_FRAME_LEN_WORD + VIRTWIRE_FRAME_HEADER_LEN)
/** The largest length word: header and payload of VIR_NET_MESSAGE_MAX
 *  bytes, plus the word itself (33554436). */
#define VIRTWIRE_FRAME_MAX ((uint32_t)VIR_NET_MESSAGE_MAX + VIRTWIRE_FRAME_LEN_WORD)
/** Bytes of the fd count that follows the header of a *_WITH_FDS frame. */
#define VIRTWIRE_FRAME_FDS_WORD 4u
/** The most fds one message carries. */
#define VIRTWIRE_FDS_MAX VIR_NET_MESSAGE_NUM_FDS_MAX
/** The most data bytes libvirt puts in one stream packet (262120). */
#define VIRTWIRE_STREAM_PACKET_MAX VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX

/* ------------------------------------------------------------------------ */
/* Errors (virerror.h)                                                      */
/* ------------------------------------------------------------------------ */

/** virErrorNumber VIR_ERR_INTERNAL_ERROR: what a server sends when a
 *  handler or a stream callback fails without an error of its own. */
#define VIRTWIRE_VIR_ERR_INTERNAL_ERROR 1
/** virErrorNumber VIR_ERR_NO_SUPPORT: what libvirt's client reports for a
 *  procedure the daemon does not know. */
#define VIRTWIRE_VIR_ERR_NO_SUPPORT 3
/** virErrorNumber VIR_ERR_RPC: the error of an unknown procedure, of an
 *  unknown program, and of a payload that does not decode. */
#define VIRTWIRE_VIR_ERR_RPC 39
/** virErrorDomain VIR_FROM_RPC: the domain of those errors. */
#define VIRTWIRE_VIR_FROM_RPC 7
/** virErrorNumber VIR_ERR_OPERATION_DENIED: a read-only connection's
 *  write, or a call a policy refuses. */
#define VIRTWIRE_VIR_ERR_OPERATION_DENIED 29
/** virErrorNumber VIR_ERR_AUTH_FAILED: an authentication that failed. */
#define VIRTWIRE_VIR_ERR_AUTH_FAILED 45
/** virErrorDomain VIR_FROM_REMOTE: errors of libvirt's remote driver. */
#define VIRTWIRE_VIR_FROM_REMOTE 13
/** virErrorLevel VIR_ERR_ERROR: the level of every error a daemon sends. */
#define VIRTWIRE_VIR_ERR_LEVEL_ERROR 2

/* ------------------------------------------------------------------------ */
/* The remote program: what the runtime itself must know of it              */
/* ------------------------------------------------------------------------ */

/** REMOTE_PROGRAM, the program virsh speaks. */
#define VIRTWIRE_REMOTE_PROGRAM 0x20008086u
/** REMOTE_PROTOCOL_VERSION. */
#define VIRTWIRE_REMOTE_PROTOCOL_VERSION 1u
/** REMOTE_PROC_CONNECT_SUPPORTS_FEATURE: args `{ int feature; }`, ret
 *  `{ int supported; }`. */
#define VIRTWIRE_REMOTE_PROC_CONNECT_SUPPORTS_FEATURE 60
/** REMOTE_PROC_AUTH_LIST: the authentication methods a daemon offers. */
#define VIRTWIRE_REMOTE_PROC_AUTH_LIST 66
/** REMOTE_PROC_AUTH_POLKIT: the last of the procedures (66 to 70, SASL's
 *  in between) a client may call before it has authenticated. */
#define VIRTWIRE_REMOTE_PROC_AUTH_POLKIT 70
/** VIR_DRV_FEATURE_PROGRAM_KEEPALIVE: a client that asks for it and hears
 *  yes is pinged by the daemon from then on. */
#define VIRTWIRE_VIR_DRV_FEATURE_PROGRAM_KEEPALIVE 10
/** VIR_CONNECT_RO, the read-only flag of CONNECT_OPEN. */
#define VIRTWIRE_VIR_CONNECT_RO 1u

#endif /* VIRTWIRE_FACTS_H */
