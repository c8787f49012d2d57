/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Receiving an fd the way libvirt sends one (vt_send_fd in vt_sys.h is
 * the other side).
 */
#ifndef VIRTWIRE_TESTS_VT_FDS_H
#define VIRTWIRE_TESTS_VT_FDS_H

/** Receives one dummy byte with exactly one fd (close-on-exec) from
 *  sock, waiting up to timeout_ms for it (EINTR and EAGAIN: again);
 *  returns the fd, or -1 (no byte in time, end of file, no fd). */
int vt_recv_fd(int sock, int timeout_ms);

#endif
