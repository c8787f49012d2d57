/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in for libvirt's private virsocket.h: nothing is needed from it. */
