/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Regenerating for a new libvirt release (docs/guides/regenerating.md):
 * what the bindings a program is built with know, from their procedure
 * tables.  Built against two releases' bindings, it shows what
 * `virtwire-gen diff` predicts: the procedures one has and the other lacks.
 *
 *   guide-procs PROGRAM              summary: number, version, procedures
 *   guide-procs PROGRAM NAME...      one line per procedure
 *
 * PROGRAM is remote, qemu, lxc or admin; NAME a procedure constant, with
 * or without the program's prefix, in any case (DOMAIN_GET_INFO,
 * remote_proc_domain_get_info).  Exit status 1 when a NAME is unknown.
 */
#include <stdio.h>
#include <string.h>

#include "admin_protocol.h"
#include "lxc_protocol.h"
#include "qemu_protocol.h"
#include "remote_protocol.h"

static const struct {
    const char *name;
    const virtwire_program *prog;
    const virtwire_protocol *proto;
} programs[] = {
    { "remote", &remote_program, &virtwire_module_remote_protocol },
    { "qemu", &qemu_program, &virtwire_module_qemu_protocol },
    { "lxc", &lxc_program, &virtwire_module_lxc_protocol },
    { "admin", &admin_program, &virtwire_module_admin_protocol },
};

static void print_proc(const virtwire_proc *p)
{
    static const struct {
        uint32_t flag;
        const char *name;
    } flags[] = {
        { VIRTWIRE_PROC_PRIORITY_HIGH, "priority-high" },
        { VIRTWIRE_PROC_STREAM_READ, "stream-read" },
        { VIRTWIRE_PROC_STREAM_WRITE, "stream-write" },
        { VIRTWIRE_PROC_STREAM_SPARSE, "sparse" },
        { VIRTWIRE_PROC_FDS_CALL, "fds-call" },
        { VIRTWIRE_PROC_FDS_REPLY, "fds-reply" },
        { VIRTWIRE_PROC_MESSAGE, "event" },
    };
    printf("%s %d args=%s ret=%s", p->name, (int)p->number, p->args ? p->args->name : "-",
           p->ret ? p->ret->name : "-");
    if (p->msg)
        printf(" msg=%s", p->msg->name);
    const char *sep = " flags=";
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (p->flags & flags[i].flag) {
            printf("%s%s", sep, flags[i].name);
            sep = ",";
        }
    }
    /* Since which libvirt release (">=": a lower bound). */
    if (p->since) {
        char v[32];
        virtwire_libvirt_version_format(p->since, v, sizeof v);
        printf(" since=%s%s", p->flags & VIRTWIRE_PROC_SINCE_INFERRED ? ">=" : "", v);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        int help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr, "usage: guide-procs PROGRAM [NAME...]\n");
        if (help)
            return 0;
        return 2;
    }
    size_t i = 0;
    while (i < sizeof programs / sizeof programs[0] && strcmp(programs[i].name, argv[1]) != 0)
        i++;
    if (i == sizeof programs / sizeof programs[0]) {
        fprintf(stderr, "guide-procs: unknown program %s (remote, qemu, lxc, admin)\n", argv[1]);
        return 2;
    }
    const virtwire_program *prog = programs[i].prog;
    if (argc == 2) {
        printf("%s: program 0x%x version %u, %zu procedures, %zu types in %s.x\n", prog->name,
               (unsigned)prog->program, (unsigned)prog->version, prog->nprocs,
               programs[i].proto->ntypes, programs[i].proto->name);
        return 0;
    }
    int status = 0;
    for (int a = 2; a < argc; a++) {
        const virtwire_proc *p = virtwire_program_find_name(prog, argv[a]);
        if (p) {
            print_proc(p);
        } else {
            printf("%s unknown\n", argv[a]);
            status = 1;
        }
    }
    return status;
}
