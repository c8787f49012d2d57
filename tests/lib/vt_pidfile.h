/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pid a daemon wrote into its pid file.
 */
#ifndef VIRTWIRE_TESTS_VT_PIDFILE_H
#define VIRTWIRE_TESTS_VT_PIDFILE_H

/** The pid in the file dir/name (a decimal number), or -1 when the file
 *  cannot be read or holds no number. */
long vt_read_pidfile(const char *dir, const char *name);

#endif
