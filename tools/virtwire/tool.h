/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The virtwire command-line tool: what its subcommands share. */
#ifndef VIRTWIRE_TOOL_H
#define VIRTWIRE_TOOL_H

#include <stdint.h>
#include <stdio.h>

#include "virnetprotocol.h"
#include "virtwire_json.h"
#include "virtwire_program.h"

/* Exit codes (README.md in this directory). */
enum {
    VT_OK = 0,
    VT_REMOTE = 1,  /* the daemon answered with an error */
    VT_USAGE = 2,   /* command line, procedure, JSON or arguments at fault */
    VT_CONNECT = 3, /* no connection, or the connection died */
    VT_TIMEOUT = 4, /* no reply in time; events: fewer than --count */
    VT_FAIL = 5,    /* anything else: bad replies, bad captures, files */
};

/* Output options shared by the subcommands. */
extern int vt_pretty;

/* Prints "virtwire: <message>" on stderr and returns code. */
int vt_error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The programs of the nine libvirt modules. */
size_t vt_program_count(void);
const virtwire_program *vt_program(size_t i);
/* By name ("remote", "qemu", "lxc", "admin", "keepalive", "lock", "log",
 * "lxc_monitor", or the table's own name), case-insensitively. */
const virtwire_program *vt_program_by_name(const char *name);
const virtwire_program *vt_program_by_number(uint32_t prog, uint32_t vers);
/* Resolves PROCEDURE as the tool accepts it (README.md); NULL with a
 * message on stderr when unknown. */
const virtwire_proc *vt_resolve(const char *spec, const virtwire_program **prog);

/* The JSON converters of a generated type. */
const virtwire_json_type *vt_json_type(const virtwire_type *t);
/* A value of t as JSON (NULL when t is NULL: JSON null). */
json_t *vt_to_json(const virtwire_type *t, const void *v);

/* Writes j and a newline to f, compact or indented (--pretty); steals j. */
void vt_print(FILE *f, json_t *j);

/* The names of a remote error's code and domain, "VIR_ERR_NO_DOMAIN,
 * VIR_FROM_TEST" (numbers where the constants do not name them), in buf. */
const char *vt_error_names(const virNetMessageError *e, char *buf, size_t len);

/* Maps a virtwire error code to an exit code. */
int vt_exit_code(int rc);

/* "virtwire COMMAND ...": the usage of a command, for its errors. */
const char *vt_usage(const char *cmd);

/* Subcommands: argc/argv start at the subcommand's own arguments (--help
 * and --pretty taken out). */
int vt_cmd_call(int argc, char **argv);
int vt_cmd_events(int argc, char **argv);
int vt_cmd_download(int argc, char **argv);
int vt_cmd_upload(int argc, char **argv);
int vt_cmd_decode(int argc, char **argv);
int vt_cmd_proxy(int argc, char **argv);
int vt_cmd_replay(int argc, char **argv);

#endif /* VIRTWIRE_TOOL_H */
