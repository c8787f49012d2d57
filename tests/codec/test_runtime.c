/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the codec runtime: the arena, error names, the procedure
 * and type tables of the generated libvirt modules, the size macros and
 * descriptors, and T_size() against the bytes actually written.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_protocol.h"
#include "harness.h"
#include "libvirt_protocols.h"
#include "lock_protocol.h"
#include "log_protocol.h"
#include "lxc_monitor_protocol.h"
#include "lxc_protocol.h"
#include "qemu_protocol.h"
#include "remote_protocol.h"
#include "samples.h"
#include "virkeepaliveprotocol.h"
#include "virnetprotocol.h"
#include "vt_frame.h" /* vt_put32: big-endian words, independent of the runtime */

/* ------------------------------------------------------------------------ */
/* Arena                                                                    */

/* Allocations of many sizes are 8-aligned and do not overlap: each is
 * filled with its own byte and all are checked at the end. */
static void test_arena_alignment(void)
{
    enum { N = 600 };
    static unsigned char *ptrs[N];
    virtwire_arena a;
    virtwire_arena_init(&a);
    CHECK_UINT(a.allocs, 0);
    CHECK_UINT(a.keep, VIRTWIRE_ARENA_KEEP_DEFAULT);
    CHECK(a.head == NULL);
    size_t misaligned = 0;
    for (size_t i = 0; i < N; i++) {
        size_t n = 1 + (i * 7) % 97; /* 1..97 bytes, every remainder mod 8 */
        ptrs[i] = virtwire_arena_alloc(&a, n);
        CHECK(ptrs[i] != NULL);
        if (!ptrs[i])
            return;
        misaligned += (uintptr_t)ptrs[i] % VIRTWIRE_ARENA_ALIGN != 0;
        memset(ptrs[i], (int)(i & 0xff), n);
    }
    CHECK_UINT(misaligned, 0);
    size_t clobbered = 0;
    for (size_t i = 0; i < N; i++) {
        size_t n = 1 + (i * 7) % 97;
        for (size_t k = 0; k < n; k++)
            clobbered += ptrs[i][k] != (unsigned char)(i & 0xff);
    }
    CHECK_UINT(clobbered, 0);
    CHECK_UINT(VIRTWIRE_ARENA_ALIGN, 8);
    virtwire_arena_fini(&a);
}

/* Blocks grow geometrically: 100 000 bytes in 1 000 small allocations take
 * a handful of mallocs; a big request gets a block of its own; impossible
 * sizes fail without calling malloc. */
static void test_arena_growth(void)
{
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    for (int i = 0; i < 1000; i++)
        CHECK(virtwire_arena_alloc(&a, 100) != NULL);
    CHECK(a.allocs >= 2);   /* 100 kB do not fit in one small first block */
    CHECK(a.allocs <= 8);   /* but doubling gets there in a few steps */

    size_t before = a.allocs;
    unsigned char *big = virtwire_arena_alloc(&a, (size_t)1 << 20);
    CHECK(big != NULL);
    if (big) {
        memset(big, 0x11, (size_t)1 << 20); /* ASan: the whole block is usable */
        CHECK((size_t)(a.lim - big) >= ((size_t)1 << 20));
    }
    CHECK_UINT(a.allocs, before + 1);

    before = a.allocs;
    CHECK(virtwire_arena_alloc(&a, SIZE_MAX) == NULL);
    CHECK(virtwire_arena_alloc(&a, SIZE_MAX - 7) == NULL);
    CHECK(virtwire_arena_alloc(&a, SIZE_MAX / 2) == NULL);
    CHECK_UINT(a.allocs, before);
    /* the arena still works after a failed request */
    CHECK(virtwire_arena_alloc(&a, 16) != NULL);
    virtwire_arena_fini(&a);
}

/* reset keeps exactly one block: the largest one no bigger than keep, and
 * the next allocations reuse it without malloc. */
static void test_arena_reset(void)
{
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    a.keep = 20000;
    /* Record each block's size as it is created: a request that makes the
     * arena malloc gets the start of the new block, whose end is lim. */
    size_t sizes[16], nblocks = 0;
    while (a.allocs < 5 && nblocks < 16) {
        size_t before = a.allocs;
        unsigned char *p = virtwire_arena_alloc(&a, 200);
        CHECK(p != NULL);
        if (!p)
            break;
        if (a.allocs != before)
            sizes[nblocks++] = (size_t)(a.lim - p);
    }
    CHECK_UINT(nblocks, 5);
    size_t want = 0;
    for (size_t i = 0; i < nblocks; i++)
        if (sizes[i] <= a.keep && sizes[i] > want)
            want = sizes[i];
    CHECK(want > 0); /* the first block is small enough to be kept */
    CHECK(sizes[nblocks - 1] > a.keep); /* and the last is too big */

    size_t allocs = a.allocs;
    virtwire_arena_reset(&a);
    CHECK(a.head != NULL);
    CHECK_UINT((size_t)(a.lim - a.cur), want);
    CHECK_UINT(a.allocs, allocs);
    unsigned char *start = a.cur;
    CHECK(virtwire_arena_alloc(&a, 8) == start);
    CHECK(virtwire_arena_alloc(&a, want - 8) != NULL); /* fills it exactly */
    CHECK_UINT(a.allocs, allocs);
    CHECK(virtwire_arena_alloc(&a, 1) != NULL);        /* now a new block */
    CHECK_UINT(a.allocs, allocs + 1);

    /* reset twice in a row keeps the same block */
    virtwire_arena_reset(&a);
    const void *head = a.head;
    virtwire_arena_reset(&a);
    CHECK(a.head == head);
    CHECK(a.cur == start);

    /* keep 0: every block is freed */
    a.keep = 0;
    virtwire_arena_reset(&a);
    CHECK(a.head == NULL && a.cur == NULL && a.lim == NULL);
    allocs = a.allocs;
    CHECK(virtwire_arena_alloc(&a, 8) != NULL);
    CHECK_UINT(a.allocs, allocs + 1);
    virtwire_arena_fini(&a);

    /* reset and fini of an empty arena */
    virtwire_arena e = VIRTWIRE_ARENA_INIT;
    virtwire_arena_reset(&e);
    CHECK(e.head == NULL && e.allocs == 0);
    virtwire_arena_fini(&e);
    CHECK(e.head == NULL);
}

/* fini frees every block (LSan checks it in the sanitizer build) and leaves
 * an empty arena that can be used again. */
static void test_arena_fini(void)
{
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    for (int i = 0; i < 100; i++)
        CHECK(virtwire_arena_alloc(&a, 1000) != NULL);
    CHECK(a.allocs > 1);
    virtwire_arena_fini(&a);
    CHECK(a.head == NULL && a.cur == NULL && a.lim == NULL);
    size_t allocs = a.allocs;
    CHECK(virtwire_arena_alloc(&a, 32) != NULL);
    CHECK_UINT(a.allocs, allocs + 1);
    virtwire_arena_fini(&a);
    CHECK(a.head == NULL);
}

/* remote_connect_list_all_domains_ret with n domains named "domain-NNNNN"
 * (12 chars: 3 words), UUID bytes = index, id = index; then ret n. */
static size_t big_list_wire(unsigned char *p, uint32_t n)
{
    unsigned char *q = vt_put32(p, n);
    for (uint32_t i = 0; i < n; i++) {
        q = vt_put32(q, 12);
        char name[32];
        snprintf(name, sizeof(name), "domain-%05u", (unsigned)i);
        memcpy(q, name, 12);
        q += 12;
        memset(q, (int)(i & 0xff), 16);
        q = vt_put32(q + 16, i);
    }
    return (size_t)(vt_put32(q, n) - p);
}

/* Decoding the same message again and again into one arena, reset in
 * between, stops calling malloc once the arena has warmed up. */
static void test_arena_decode_loop(void)
{
    enum { N = 400, ROUNDS = 60, WARMUP = 4 };
    size_t cap = 8 + (size_t)N * 36;
    unsigned char *wire = malloc(cap);
    if (!wire)
        abort();
    size_t len = big_list_wire(wire, N);
    CHECK_UINT(len, cap);

    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    size_t warm = 0;
    const void *head = NULL;
    for (int r = 0; r < ROUNDS; r++) {
        vt_context("decode round %d", r);
        remote_connect_list_all_domains_ret v;
        memset(&v, 0, sizeof(v));
        CHECK_RC(virtwire_decode(&remote_connect_list_all_domains_ret_desc, wire, len, &a, &v), 0);
        CHECK_UINT(v.domains.domains_len, N);
        CHECK_UINT(v.ret, N);
        if (v.domains.domains_len == N) {
            CHECK_STR(v.domains.domains_val[N - 1].name, "domain-00399");
            CHECK_INT(v.domains.domains_val[N - 1].id, N - 1);
        }
        if (r == 0)
            CHECK(a.allocs > 1); /* the message needs more than one block */
        if (r == WARMUP) {
            warm = a.allocs;
            head = a.head;
        }
        if (r > WARMUP) {
            CHECK_UINT(a.allocs, warm);
            CHECK(a.head == head);
        }
        virtwire_arena_reset(&a);
    }
    virtwire_arena_fini(&a);
    free(wire);
}

/* ------------------------------------------------------------------------ */
/* Error codes                                                              */

static void test_errors(void)
{
    static const struct { int code; const char *name; } codes[] = {
        { 0, "VIRTWIRE_OK" },           { -1, "VIRTWIRE_ENOMEM" },
        { -2, "VIRTWIRE_ETRUNCATED" },  { -3, "VIRTWIRE_ETOOLONG" },
        { -4, "VIRTWIRE_EENUM" },       { -5, "VIRTWIRE_EUNION" },
        { -6, "VIRTWIRE_EBOOL" },       { -7, "VIRTWIRE_ERANGE" },
        { -8, "VIRTWIRE_ENOSPACE" },    { -9, "VIRTWIRE_ENULL" },
        { -10, "VIRTWIRE_ETRAILING" },  { -11, "VIRTWIRE_EPADDING" },
        { -12, "VIRTWIRE_EDEPTH" },     { -13, "VIRTWIRE_EINVAL" },
    };
    enum { NCODES = sizeof(codes) / sizeof(codes[0]) };
    /* the enum constants have the documented, stable values */
    static const int consts[NCODES] = {
        VIRTWIRE_OK, VIRTWIRE_ENOMEM, VIRTWIRE_ETRUNCATED, VIRTWIRE_ETOOLONG, VIRTWIRE_EENUM,
        VIRTWIRE_EUNION, VIRTWIRE_EBOOL, VIRTWIRE_ERANGE, VIRTWIRE_ENOSPACE, VIRTWIRE_ENULL,
        VIRTWIRE_ETRAILING, VIRTWIRE_EPADDING, VIRTWIRE_EDEPTH, VIRTWIRE_EINVAL,
    };
    for (size_t i = 0; i < NCODES; i++) {
        vt_context("code %d", codes[i].code);
        CHECK_INT(consts[i], codes[i].code);
        CHECK_STR(virtwire_error_name(codes[i].code), codes[i].name);
        const char *text = virtwire_strerror(codes[i].code);
        CHECK(text != NULL && text[0] != '\0');
        CHECK(text && strcmp(text, "unknown error") != 0);
        /* every code has its own description */
        for (size_t j = 0; j < i; j++)
            CHECK(text && strcmp(text, virtwire_strerror(codes[j].code)) != 0);
    }
    static const int unknown[] = { 1, -14, 100, -100, INT_MIN, INT_MAX };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        vt_context("unknown code %d", unknown[i]);
        CHECK_STR(virtwire_strerror(unknown[i]), "unknown error");
        CHECK(virtwire_error_name(unknown[i]) == NULL);
    }
}

/* ------------------------------------------------------------------------ */
/* Procedure tables                                                         */

static void test_remote_program(void)
{
    const virtwire_program *p = &remote_program;
    CHECK_STR(p->name, "remote");
    CHECK_UINT(p->program, 0x20008086);
    CHECK_UINT(p->version, 1);
    CHECK_UINT(p->nprocs, 453);

    const virtwire_proc *open = virtwire_program_find(p, 1);
    CHECK(open != NULL);
    if (open) {
        CHECK_INT(open->number, 1);
        CHECK_STR(open->name, "REMOTE_PROC_CONNECT_OPEN");
        CHECK(open->args == &remote_connect_open_args_desc);
        CHECK(open->ret == NULL && open->msg == NULL);
        CHECK(open->flags & VIRTWIRE_PROC_PRIORITY_HIGH);
    }
    const virtwire_proc *list = virtwire_program_find(p, 273);
    CHECK(list != NULL);
    if (list) {
        CHECK_STR(list->name, "REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS");
        CHECK(list->args == &remote_connect_list_all_domains_args_desc);
        CHECK(list->ret == &remote_connect_list_all_domains_ret_desc);
    }
    static const int32_t missing[] = { 0, 454, -1, 1000, INT32_MIN, INT32_MAX };
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        vt_context("remote proc %d", missing[i]);
        CHECK(virtwire_program_find(p, missing[i]) == NULL);
    }

    /* flags, from docs/protocol.md ("Streams", "File descriptors"): streams, fds, events */
    enum {
        RD = VIRTWIRE_PROC_STREAM_READ,
        WR = VIRTWIRE_PROC_STREAM_WRITE,
        SPARSE = VIRTWIRE_PROC_STREAM_SPARSE,
    };
    static const struct { int32_t n; const char *name; uint32_t flags; } flagged[] = {
        { 201, "REMOTE_PROC_DOMAIN_OPEN_CONSOLE", RD | WR },
        { 296, "REMOTE_PROC_DOMAIN_OPEN_CHANNEL", RD | WR },
        { 208, "REMOTE_PROC_STORAGE_VOL_UPLOAD", WR | SPARSE },
        { 209, "REMOTE_PROC_STORAGE_VOL_DOWNLOAD", RD | SPARSE },
        { 211, "REMOTE_PROC_DOMAIN_SCREENSHOT", RD },
        { 249, "REMOTE_PROC_DOMAIN_OPEN_GRAPHICS", VIRTWIRE_PROC_FDS_CALL },
        { 309, "REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES", VIRTWIRE_PROC_FDS_CALL },
        { 310, "REMOTE_PROC_DOMAIN_CREATE_WITH_FILES", VIRTWIRE_PROC_FDS_CALL },
        { 443, "REMOTE_PROC_DOMAIN_FD_ASSOCIATE", VIRTWIRE_PROC_FDS_CALL },
        { 343, "REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD", VIRTWIRE_PROC_FDS_REPLY },
        { 318, "REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE", VIRTWIRE_PROC_MESSAGE },
    };
    const uint32_t kinds = VIRTWIRE_PROC_STREAM_READ | VIRTWIRE_PROC_STREAM_WRITE |
                           VIRTWIRE_PROC_STREAM_SPARSE | VIRTWIRE_PROC_FDS_CALL |
                           VIRTWIRE_PROC_FDS_REPLY | VIRTWIRE_PROC_MESSAGE;
    for (size_t i = 0; i < sizeof(flagged) / sizeof(flagged[0]); i++) {
        vt_context("remote proc %d", flagged[i].n);
        const virtwire_proc *pr = virtwire_program_find(p, flagged[i].n);
        CHECK(pr != NULL);
        if (!pr)
            continue;
        CHECK_STR(pr->name, flagged[i].name);
        CHECK_UINT(pr->flags & kinds, flagged[i].flags);
    }
    const virtwire_proc *ev = virtwire_program_find(p, 318);
    if (CHECK(ev != NULL)) {
        CHECK(ev->msg == &remote_domain_event_callback_lifecycle_msg_desc);
        CHECK(ev->args == NULL && ev->ret == NULL);
    }
}

/* The fd-passing procedures of every program are exactly those listed in
 * docs/protocol.md, "File descriptors"; procedures are sorted, find() finds
 * each of them, and MESSAGE is set exactly on the procedures with a _msg
 * type. */
static void test_all_programs(void)
{
    static const struct { const virtwire_program *p; uint32_t number; size_t nprocs; } progs[] = {
        { &remote_program, 0x20008086u, 453 },   { &qemu_program, 0x20008087u, 7 },
        { &lxc_program, 0x00068000u, 1 },        { &admin_program, 0x06900690u, 20 },
        { &keepalive_program, 0x6b656570u, 2 },  { &virLockSpaceProtocol_program, 0xea7beefu, 8 },
        { &virLogManagerProtocol_program, 0x87539319u, 4 },
        { &virLXCMonitor_program, 0x12341234u, 2 },
    };
    static const struct { const virtwire_program *p; int32_t n; uint32_t fds; } fds[] = {
        { &remote_program, 249, VIRTWIRE_PROC_FDS_CALL },
        { &remote_program, 309, VIRTWIRE_PROC_FDS_CALL },
        { &remote_program, 310, VIRTWIRE_PROC_FDS_CALL },
        { &remote_program, 443, VIRTWIRE_PROC_FDS_CALL },
        { &remote_program, 343, VIRTWIRE_PROC_FDS_REPLY },
        { &lxc_program, 1, VIRTWIRE_PROC_FDS_REPLY },
        { &virLogManagerProtocol_program, 1, VIRTWIRE_PROC_FDS_REPLY },
        { &qemu_program, 7, VIRTWIRE_PROC_FDS_CALL | VIRTWIRE_PROC_FDS_REPLY },
    };
    const uint32_t fdmask = VIRTWIRE_PROC_FDS_CALL | VIRTWIRE_PROC_FDS_REPLY;
    size_t nfds = 0, nevents = 0;
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        const virtwire_program *p = progs[i].p;
        vt_context("program %s", p->name);
        CHECK_UINT(p->program, progs[i].number);
        CHECK_UINT(p->version, 1);
        CHECK_UINT(p->nprocs, progs[i].nprocs);
        for (size_t k = 0; k < p->nprocs; k++) {
            const virtwire_proc *pr = &p->procs[k];
            vt_context("program %s proc %d", p->name, pr->number);
            if (k > 0)
                CHECK(pr->number > p->procs[k - 1].number);
            CHECK(virtwire_program_find(p, pr->number) == pr);
            CHECK(virtwire_program_find_name(p, pr->name) == pr);
            CHECK(!(pr->flags & VIRTWIRE_PROC_MESSAGE) == !pr->msg);
            if (pr->msg)
                CHECK(pr->args == NULL && pr->ret == NULL);
            nevents += pr->msg != NULL && p == &remote_program;
            if (!(pr->flags & fdmask))
                continue;
            nfds++;
            int listed = 0;
            for (size_t f = 0; f < sizeof(fds) / sizeof(fds[0]); f++)
                if (fds[f].p == p && fds[f].n == pr->number)
                    listed = CHECK_UINT(pr->flags & fdmask, fds[f].fds);
            CHECK(listed);
        }
    }
    vt_context("all programs");
    CHECK_UINT(nfds, sizeof(fds) / sizeof(fds[0]));
    CHECK(nevents >= 51);
}

static void test_find_name(void)
{
    static const char *const names[] = {
        "REMOTE_PROC_CONNECT_OPEN", "CONNECT_OPEN", "connect_open", "Connect_Open",
        "remote_proc_connect_open",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        vt_context("find_name %s", names[i]);
        const virtwire_proc *pr = virtwire_program_find_name(&remote_program, names[i]);
        CHECK(pr != NULL && pr->number == 1);
    }
    static const char *const bad[] = {
        "CONNECT_OPE", "CONNECT_OPEN_", "PROC_CONNECT_OPEN", "REMOTE_CONNECT_OPEN", "", "OPEN",
        "REMOTE_PROC_",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vt_context("find_name \"%s\"", bad[i]);
        CHECK(virtwire_program_find_name(&remote_program, bad[i]) == NULL);
    }
    vt_context("find_name in other programs");
    const virtwire_proc *pr = virtwire_program_find_name(&remote_program, "domain_screenshot");
    CHECK(pr && pr->number == 211);
    pr = virtwire_program_find_name(&remote_program, "DOMAIN_EVENT_CALLBACK_LIFECYCLE");
    CHECK(pr && pr->number == 318);
    pr = virtwire_program_find_name(&admin_program, "connect_open");
    CHECK(pr && pr->number == 1 && strcmp(pr->name, "ADMIN_PROC_CONNECT_OPEN") == 0);
    pr = virtwire_program_find_name(&keepalive_program, "pong");
    CHECK(pr && pr->number == 2);
    pr = virtwire_program_find_name(&virLogManagerProtocol_program, "domain_open_log_file");
    CHECK(pr && pr->number == 1);
    /* names of one program are not found in another */
    CHECK(virtwire_program_find_name(&admin_program, "REMOTE_PROC_CONNECT_OPEN") == NULL);
    CHECK(virtwire_program_find_name(&qemu_program, "domain_screenshot") == NULL);
}

/* Every type of every module is found by name, the lists are sorted, and
 * unknown names give NULL. */
static void test_find_type(void)
{
    CHECK_UINT(virtwire_libvirt_nprotocols, 9);
    for (size_t i = 0; i < virtwire_libvirt_nprotocols; i++) {
        const virtwire_protocol *pr = virtwire_libvirt_protocols[i];
        CHECK(pr != NULL);
        vt_context("protocol %s", pr->name);
        CHECK(pr->ntypes > 0 || pr == &virtwire_module_virkeepaliveprotocol);
        for (size_t k = 0; k < pr->ntypes; k++) {
            const virtwire_type *t = pr->types[k];
            if (k > 0)
                CHECK(strcmp(pr->types[k - 1]->name, t->name) < 0);
            CHECK(virtwire_protocol_find_type(pr, t->name) == t);
        }
        CHECK(virtwire_protocol_find_type(pr, "") == NULL);
        CHECK(virtwire_protocol_find_type(pr, "no_such_type") == NULL);
        CHECK(virtwire_protocol_find_type(pr, "~") == NULL);
    }
    vt_context("named lookups");
    CHECK_UINT(virtwire_module_remote_protocol.ntypes, 716);
    CHECK(virtwire_protocol_find_type(&virtwire_module_remote_protocol, "remote_connect_open_args") ==
          &remote_connect_open_args_desc);
    CHECK(virtwire_protocol_find_type(&virtwire_module_remote_protocol, "remote_nonnull_domain") ==
          &remote_nonnull_domain_desc);
    CHECK(virtwire_protocol_find_type(&virtwire_module_remote_protocol, "remote_nonnull_domai") == NULL);
    CHECK(virtwire_protocol_find_type(&virtwire_module_remote_protocol, "REMOTE_NONNULL_DOMAIN") == NULL);
    CHECK(virtwire_protocol_find_type(&virtwire_module_virnetprotocol, "virNetMessageHeader") ==
          &virNetMessageHeader_desc);
    CHECK(virtwire_protocol_find_type(&virtwire_module_virnetprotocol, "remote_nonnull_domain") == NULL);
    CHECK_UINT(virtwire_module_remote_protocol.nprograms, 1);
    CHECK(virtwire_module_remote_protocol.programs[0] == &remote_program);
    CHECK_UINT(virtwire_module_virnetprotocol.nprograms, 0);
}

/* ------------------------------------------------------------------------ */
/* Size macros and descriptors                                              */

static void test_max_sizes(void)
{
    /* constants of virnetprotocol.x (docs/protocol.md, "Limits") */
    CHECK_INT(VIR_NET_MESSAGE_MAX, 33554432);
    CHECK_INT(VIR_NET_MESSAGE_HEADER_MAX, 24);
    CHECK_INT(VIR_NET_MESSAGE_PAYLOAD_MAX, 33554408);
    CHECK_INT(VIR_NET_MESSAGE_STRING_MAX, 4194304);
    CHECK_INT(VIR_NET_MESSAGE_NUM_FDS_MAX, 32);
    CHECK_INT(VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX, 262120);

    /* fixed-size types: six words; hyper + word */
    CHECK_UINT(virNetMessageHeader_MAX_SIZE, 24);
    CHECK_UINT(virNetMessageHeader_desc.max_size, 24);
    CHECK_UINT(virNetMessageHeader_desc.min_size, 24);
    CHECK_UINT(virNetStreamHole_MAX_SIZE, 12);
    CHECK_UINT(virNetStreamHole_desc.min_size, 12);
    /* state, maxMem, memory, nrVirtCpu, cpuTime: 4 + 8 + 8 + 4 + 8 */
    CHECK_UINT(remote_domain_get_info_ret_MAX_SIZE, 32);
    /* 32 chars of a word each, a hyper, six ints */
    CHECK_UINT(remote_node_get_info_ret_MAX_SIZE, 32 * 4 + 8 + 6 * 4);
    CHECK_UINT(remote_uuid_MAX_SIZE, 16);

    /* remote_nonnull_domain: name (4 + up to 4194304), uuid 16, id 4 */
    CHECK_UINT(remote_nonnull_domain_MAX_SIZE, 4 + 4194304 + 16 + 4);
    CHECK_UINT(remote_nonnull_domain_desc.max_size, 4 + 4194304 + 16 + 4);
    CHECK_UINT(remote_nonnull_domain_desc.min_size, 4 + 16 + 4);
    CHECK_UINT(remote_nonnull_domain_desc.size, sizeof(remote_nonnull_domain));
    /* remote_domain (optional): flag + the above; min is the flag */
    CHECK_UINT(remote_domain_desc.max_size, 4 + 4 + 4194304 + 16 + 4);
    CHECK_UINT(remote_domain_desc.min_size, 4);

    /* bounded arrays: count + max elements */
    CHECK_UINT(remote_auth_list_ret_MAX_SIZE, 4 + 20 * 4);
    CHECK_UINT(remote_auth_list_ret_desc.min_size, 4);
    CHECK_UINT(remote_domain_get_security_label_ret_MAX_SIZE, 4 + 4097 * 4 + 4);
    CHECK_UINT(remote_domain_get_security_label_ret_desc.min_size, 8);
    CHECK_UINT(remote_connect_list_all_domains_ret_desc.max_size,
               4 + 16384ull * (4 + 4194304 + 16 + 4) + 4);
    /* opaque<2048> after a domain and a word */
    CHECK_UINT(remote_domain_pin_vcpu_args_MAX_SIZE, (4 + 4194304 + 16 + 4) + 4 + 4 + 2048);
    CHECK_UINT(remote_domain_pin_vcpu_args_desc.min_size, 24 + 4 + 4);

    /* unions: discriminant + the largest / smallest arm (string / 4 bytes) */
    CHECK_UINT(remote_typed_param_value_MAX_SIZE, 4 + 4 + 4194304);
    CHECK_UINT(remote_typed_param_value_desc.min_size, 8);
    CHECK_UINT(remote_typed_param_desc.min_size, 12);

    /* remote_error: code, domain, message (flag + string), level, dom (flag
     * + domain), str1..3, int1, int2, net (flag + name + uuid); at its
     * smallest all optionals are absent: 11 words = 44 bytes */
    uint64_t str = 4 + 4194304, opt_str = 4 + str;
    uint64_t err = 4 + 4 + opt_str + 4 + (4 + str + 16 + 4) + 3 * opt_str + 4 + 4 + (4 + str + 16);
    CHECK_UINT(remote_error_MAX_SIZE, err);
    CHECK_UINT(remote_error_desc.min_size, 44);
    CHECK_UINT(virNetMessageError_MAX_SIZE, err);
    CHECK_UINT(virNetMessageError_desc.min_size, 44);

    /* descriptors carry their own name and C size */
    CHECK_STR(remote_error_desc.name, "remote_error");
    CHECK_UINT(remote_error_desc.size, sizeof(remote_error));
    CHECK_UINT(virNetMessageHeader_desc.size, sizeof(virNetMessageHeader));
    CHECK_UINT(admin_typed_param_desc.size, sizeof(admin_typed_param));
}

/* XDR string of n bytes 'a' + i % 26: length word, bytes, zero padding;
 * written into p, returns the size. */
static size_t string_wire(unsigned char *p, size_t n)
{
    unsigned char *q = vt_put32(p, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        *q++ = (unsigned char)('a' + i % 26);
    while (n++ % 4)
        *q++ = 0;
    return (size_t)(q - p);
}

/* T_size() is the number of bytes T_encode() writes: for every sample, and
 * for strings, opaques and char arrays of every length from 0 to 80 (4 + n +
 * padding; count + 4 per char).  The strings sit in heap blocks of exactly
 * their size, and each string also decodes back from a block of exactly
 * its encoding, so that ASan sees any access past either. */
static void test_sizes(void)
{
    unsigned char buf[1024];
    size_t len;
    for (size_t i = 0; i < vwt_nsamples; i++) {
        const vwt_sample *s = &vwt_samples[i];
        vt_context("%s", s->name);
        CHECK_RC(virtwire_encode(s->type, s->value, buf, sizeof(buf), &len), 0);
        CHECK_UINT(s->type->encoded_size(s->value), len);
        CHECK_UINT(len, s->wire_len);
    }

    static char vm1[] = "vm1";
    for (size_t n = 0; n <= 80; n++) {
        vt_context("length %zu", n);
        size_t padded = (n + 3) / 4 * 4;
        unsigned char want[4 + 84];
        size_t wlen = string_wire(want, n);
        CHECK_UINT(wlen, 4 + padded);
        char *s = malloc(n + 1);
        if (!s)
            abort();
        memcpy(s, want + 4, n);
        s[n] = '\0';

        remote_nonnull_string rs = s;
        CHECK_RC(virtwire_encode(&remote_nonnull_string_desc, &rs, buf, sizeof(buf), &len), 0);
        CHECK_MEM(buf, len, want, wlen);
        CHECK_UINT(remote_nonnull_string_size(&rs), len);
        unsigned char *in = vwt_dup(want, wlen);
        remote_nonnull_string back = NULL;
        CHECK_RC(virtwire_decode(&remote_nonnull_string_desc, in, wlen, NULL, &back), 0);
        CHECK_STR(back, s);
        remote_nonnull_string_free(&back);
        free(in);

        /* the same bytes as opaque data */
        remote_domain_pin_vcpu_args pin = { { vm1, { UUID_A }, 1 }, 0, { (unsigned)n, s } };
        CHECK_RC(virtwire_encode(&remote_domain_pin_vcpu_args_desc, &pin, buf, sizeof(buf), &len),
                 0);
        CHECK_UINT(len, 28 + 4 + wlen);
        CHECK_MEM(buf + 32, len - 32, want, wlen);
        CHECK_UINT(remote_domain_pin_vcpu_args_size(&pin), len);
        in = vwt_dup(buf, len);
        remote_domain_pin_vcpu_args pback;
        memset(&pback, 0, sizeof(pback));
        CHECK_RC(virtwire_decode(&remote_domain_pin_vcpu_args_desc, in, len, NULL, &pback), 0);
        CHECK_UINT(pback.cpumap.cpumap_len, n);
        CHECK(n == 0 ? pback.cpumap.cpumap_val == NULL
                     : memcmp(pback.cpumap.cpumap_val, s, n) == 0);
        remote_domain_pin_vcpu_args_free(&pback);
        free(in);

        remote_domain_get_security_label_ret lab = { { (unsigned)n, s }, 0 };
        CHECK_RC(virtwire_encode(&remote_domain_get_security_label_ret_desc, &lab, buf,
                                 sizeof(buf), &len), 0);
        CHECK_UINT(len, 4 + 4 * n + 4);
        CHECK_UINT(remote_domain_get_security_label_ret_size(&lab), len);
        free(s);
    }
}

static const vt_group groups[] = {
    { "arena_alignment", test_arena_alignment },
    { "arena_growth", test_arena_growth },
    { "arena_reset", test_arena_reset },
    { "arena_fini", test_arena_fini },
    { "arena_decode_loop", test_arena_decode_loop },
    { "errors", test_errors },
    { "remote_program", test_remote_program },
    { "all_programs", test_all_programs },
    { "find_name", test_find_name },
    { "find_type", test_find_type },
    { "max_sizes", test_max_sizes },
    { "sizes", test_sizes },
};

int main(int argc, char **argv)
{
    return vt_main(argc, argv, groups, sizeof(groups) / sizeof(groups[0]));
}
