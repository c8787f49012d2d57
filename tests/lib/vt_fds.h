/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fds the way libvirt passes them: a message that carries fds (header
 * only, for the libFuzzer build of fuzz/client too, which has no
 * virtwire_testlib), and receiving one (vt_send_fd in vt_sys.h sends one).
 */
#ifndef VIRTWIRE_TESTS_VT_FDS_H
#define VIRTWIRE_TESTS_VT_FDS_H

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

/** The most fds vt_fds_message() puts in one message. */
#define VT_FDS_MAX 32

/** Room for the control message of up to VT_FDS_MAX fds. */
typedef union {
    char buf[CMSG_SPACE(VT_FDS_MAX * sizeof(int))];
    struct cmsghdr align;
} vt_fds_control;

/**
 * Makes *mh the message of the len bytes at p (in *iov) that carries
 * fds[0..nfds-1] (nfds from 1 to VT_FDS_MAX) as SCM_RIGHTS (in *ctl), for
 * sendmsg().
 */
static inline void vt_fds_message(struct msghdr *mh, struct iovec *iov, vt_fds_control *ctl,
                                  void *p, size_t len, const int *fds, size_t nfds)
{
    memset(ctl, 0, sizeof *ctl);
    *iov = (struct iovec){ .iov_base = p, .iov_len = len };
    *mh = (struct msghdr){ .msg_iov = iov, .msg_iovlen = 1, .msg_control = ctl->buf,
                           .msg_controllen = CMSG_SPACE(nfds * sizeof(int)) };
    struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
}

/** Receives one dummy byte with exactly one fd (close-on-exec) from
 *  sock, waiting up to timeout_ms for it (EINTR and EAGAIN: again);
 *  returns the fd, or -1 (no byte in time, end of file, no fd). */
int vt_recv_fd(int sock, int timeout_ms);

#endif
