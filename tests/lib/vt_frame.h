/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt RPC frames written and read by hand, with plain system calls:
 * the 4-byte length word (which counts itself), the 24-byte header
 * (program, version, procedure, type, serial, status) and the payload.
 * For the tests that play a peer byte by byte, independent of the
 * transport under test.
 */
#ifndef VIRTWIRE_TESTS_VT_FRAME_H
#define VIRTWIRE_TESTS_VT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "virnetprotocol.h"
#include "virtwire_xdr.h"

/** Length word and header. */
#define VT_FRAME_HEADER 28

/** Writes v big-endian at p; returns p + 4. */
unsigned char *vt_put32(unsigned char *p, uint32_t v);
/** Reads a big-endian word. */
uint32_t vt_get32(const unsigned char *p);

/** Writes the length word and the header (version 1) into out (28 bytes)
 *  for a payload of len bytes. */
void vt_frame_header(unsigned char *out, uint32_t prog, int32_t proc, int type, uint32_t serial,
                     int status, size_t len);
/** Reads the header fields of the 28 bytes at h; returns the length word. */
uint32_t vt_frame_parse(const unsigned char *h, virNetMessageHeader *hdr);

/** One frame read from a socket. */
typedef struct vt_frame {
    virNetMessageHeader hdr;
    unsigned char *payload; /* malloc'd, after the header */
    size_t len;
} vt_frame;

/** Reads one frame; 0, or -1 on end of file, error, timeout (timeout_ms
 *  -1: none) or a length word out of range. */
int vt_read_frame(int fd, vt_frame *f, int timeout_ms);
void vt_frame_free(vt_frame *f);

/** Writes one frame of the remote program; 0 or -1. */
int vt_send_frame(int fd, int32_t proc, int type, uint32_t serial, int status,
                  const void *payload, size_t len);
/** Encodes v with t (NULL: void) into a malloc'd frame of the remote
 *  program and sets *len; NULL when out of memory or refused by the
 *  encoder. */
unsigned char *vt_build_value(int32_t proc, int type, uint32_t serial, int status,
                              const virtwire_type *t, const void *v, size_t *len);
/** The same, written to fd; 0 or -1. */
int vt_send_value(int fd, int32_t proc, int type, uint32_t serial, int status,
                  const virtwire_type *t, const void *v);

/** Server side of libvirt's open handshake: answers AUTH_LIST (NONE),
 *  CONNECT_SUPPORTS_FEATURE (keepalive: supported as given) and
 *  CONNECT_OPEN.  Returns 0 or -1. */
int vt_serve_handshake(int fd, int keepalive);
/** Client side of the handshake, the three calls written at once, then
 *  their three replies read.  Returns 0 or -1. */
int vt_client_handshake(int fd);

#endif
