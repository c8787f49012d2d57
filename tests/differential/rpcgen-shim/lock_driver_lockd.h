/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in for libvirt's lock_driver_lockd.h, named by a .x file's %#include line:
 * rpcgen's code needs nothing from it. */
