/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stand-in for libvirt's internal.h, which the .x files' %#include lines
 * name: rpcgen's code for them only needs the constants of libvirt's public
 * headers (VIR_UUID_BUFLEN, VIR_TYPED_PARAM_*, ...).
 */
#ifndef VW_SHIM_INTERNAL_H
#define VW_SHIM_INTERNAL_H

#include <stdint.h>

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-admin.h>
#include <libvirt/virterror.h>

#endif /* VW_SHIM_INTERNAL_H */
