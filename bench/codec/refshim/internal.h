/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in for libvirt's private internal.h, which the code rpcgen makes
 * from remote_protocol.x includes: the public headers define every constant
 * the .x file takes from libvirt. */
#include <stdint.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
