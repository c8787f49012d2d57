/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned char *vwt_dup(const void *buf, size_t len)
{
    unsigned char *p = malloc(len ? len : 1);
    if (!p) {
        perror("malloc");
        exit(2);
    }
    if (len)
        memcpy(p, buf, len);
    return p;
}

vwt_arena_state vwt_arena_snapshot(const virtwire_arena *a)
{
    vwt_arena_state s = { a->allocs, a->cur, a->lim, a->head };
    return s;
}

int vwt_check_arena_used(const virtwire_arena *a, vwt_arena_state snap, size_t used,
                         const char *file, int line)
{
    int same_block = (const void *)a->head == snap.head && a->lim == snap.lim;
    int ok = a->allocs == snap.allocs && same_block && a->cur == snap.cur + used;
    if (!vt_check(ok, file, line, "arena use"))
        fprintf(stderr, "    allocs %zu -> %zu, %s, used %td bytes, want %zu\n", snap.allocs,
                a->allocs, same_block ? "same block" : "another block",
                same_block ? a->cur - snap.cur : (ptrdiff_t)-1, used);
    return ok;
}
