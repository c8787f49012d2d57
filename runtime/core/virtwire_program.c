/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "virtwire_program.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const virtwire_proc *virtwire_program_find(const virtwire_program *prog, int32_t number)
{
    size_t lo = 0, hi = prog->nprocs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int32_t n = prog->procs[mid].number;
        if (n == number)
            return &prog->procs[mid];
        if (n < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

uint32_t virtwire_program_since(const virtwire_program *prog, int32_t number)
{
    const virtwire_proc *p = prog ? virtwire_program_find(prog, number) : NULL;
    return p ? p->since : 0;
}

int virtwire_libvirt_version_format(uint32_t v, char *buf, size_t len)
{
    return snprintf(buf, len, "%u.%u.%u", (unsigned)(v / 1000000u),
                    (unsigned)(v / 1000u % 1000u), (unsigned)(v % 1000u));
}

/* Length of the prefix shared by every procedure name of the program
 * ("REMOTE_PROC_"), so that short names can be matched. */
static size_t proc_prefix_len(const virtwire_program *prog)
{
    if (prog->nprocs == 0)
        return 0;
    const char *first = prog->procs[0].name;
    const char *p = strstr(first, "_PROC_");
    return p ? (size_t)(p - first) + 6 : 0;
}

const virtwire_proc *virtwire_program_find_name(const virtwire_program *prog, const char *name)
{
    size_t skip = proc_prefix_len(prog);
    for (size_t i = 0; i < prog->nprocs; i++) {
        const char *full = prog->procs[i].name;
        if (strcasecmp(full, name) == 0)
            return &prog->procs[i];
        if (strlen(full) > skip && strcasecmp(full + skip, name) == 0)
            return &prog->procs[i];
    }
    return NULL;
}

const virtwire_type *virtwire_protocol_find_type(const virtwire_protocol *proto, const char *name)
{
    size_t lo = 0, hi = proto->ntypes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(proto->types[mid]->name, name);
        if (c == 0)
            return proto->types[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
