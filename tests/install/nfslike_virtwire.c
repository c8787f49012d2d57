/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire's generated codecs for nfslike.x (an NFS-style protocol): every
 * value of nfslike_cases.h must encode to the bytes written there (which
 * rpcgen + libtirpc produce too, see nfslike_rpcgen.c), decode back, in an
 * arena and on the heap, and encode to the same bytes again.  Then the
 * decoded linked lists, what the decoder rejects, and the procedure tables.
 *
 * Built in the tree (tests/install/CMakeLists.txt) and by the consumer
 * projects built against an installed virtwire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfslike.h"
#include "nfslike_bytes.h"

static int failures;
static int checks;

#define CHECK(cond)                                                            \
    do {                                                                       \
        checks++;                                                              \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            failures++;                                                        \
        }                                                                      \
    } while (0)

/* Encodes v, compares with hex, decodes hex in an arena and on the heap and
 * re-encodes both results. */
static void check_case(const virtwire_type *t, const void *v, const char *hex, int line)
{
    unsigned char want[4096], got[4096];
    size_t nwant = unhex(hex, want, sizeof want), n = 0;
    checks++;

    int rc = virtwire_encode(t, v, got, sizeof got, &n);
    if (rc < 0 || n != nwant || memcmp(got, want, n) != 0) {
        fprintf(stderr, "line %d: %s encodes differently (%s)\n", line, t->name,
                rc < 0 ? virtwire_strerror(rc) : "ok");
        dump("want", want, nwant);
        if (rc == 0)
            dump("got", got, n);
        failures++;
        return;
    }
    CHECK(t->encoded_size(v) == nwant);
    CHECK(t->max_size == 0 || nwant <= t->max_size);
    CHECK(nwant >= t->min_size);

    void *dec = malloc(t->size);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    for (int heap = 0; heap < 2; heap++) {
        rc = virtwire_decode(t, want, nwant, heap ? NULL : &arena, dec);
        if (rc < 0) {
            fprintf(stderr, "line %d: %s does not decode its bytes: %s\n", line, t->name,
                    virtwire_strerror(rc));
            failures++;
            continue;
        }
        rc = virtwire_encode(t, dec, got, sizeof got, &n);
        if (rc < 0 || n != nwant || memcmp(got, want, n) != 0) {
            fprintf(stderr, "line %d: %s round trip differs (%s)\n", line, t->name,
                    heap ? "heap" : "arena");
            failures++;
        }
        if (heap)
            t->free(dec);
    }
    virtwire_arena_fini(&arena);
    free(dec);
}

#define CHECK_CASE(T, v, hex) check_case(&T##_desc, (v), (hex), __LINE__)

#include "nfslike_cases.h"

/* Decodes hex as t into v; returns the virtwire_decode() result. */
static int decode_hex_flags(const virtwire_type *t, const char *hex, virtwire_arena *a,
                            unsigned flags, void *v)
{
    unsigned char buf[4096];
    size_t n = unhex(hex, buf, sizeof buf);
    return virtwire_decode_flags(t, buf, n, a, flags, v);
}

static int decode_hex(const virtwire_type *t, const char *hex, virtwire_arena *a, void *v)
{
    return decode_hex_flags(t, hex, a, 0, v);
}

static void test_decoded_lists(void)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;

    nfsl_readdirres dir;
    CHECK(decode_hex(&nfsl_readdirres_desc, READDIR_HEX, &arena, &dir) == 0);
    CHECK(dir.status == NFSL_OK);
    const char *names[] = { ".", "..", "src" };
    const uint64_t fileids[] = { 2, 1, 77 };
    int i = 0;
    for (const nfsl_entry *e = dir.nfsl_readdirres_u.reply.entries; e; e = e->nextentry, i++) {
        CHECK(i < 3);
        if (i >= 3)
            break;
        CHECK(strcmp(e->name, names[i]) == 0);
        CHECK(e->fileid == fileids[i]);
        CHECK(e->cookie == (uint64_t)i + 1);
    }
    CHECK(i == 3);
    CHECK(dir.nfsl_readdirres_u.reply.eof == 1);

    nfsl_exports exports;
    CHECK(decode_hex(&nfsl_exports_desc, EXPORTS_HEX, &arena, &exports) == 0);
    CHECK(exports && strcmp(exports->dir, "/export") == 0);
    if (exports) {
        const nfsl_groupnode *g = exports->groups;
        CHECK(g && strcmp(g->name, "admins") == 0);
        CHECK(g && g->next && strcmp(g->next->name, "users") == 0 && !g->next->next);
        const nfsl_exportnode *pub = exports->next;
        CHECK(pub && strcmp(pub->dir, "/pub") == 0 && !pub->groups && !pub->next);
    }
    virtwire_arena_fini(&arena);
}

static void test_rejected(void)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    nfsl_attrstat attr;
    nfsl_specdata spec;
    nfsl_dirlist list;
    nfsl_cred cred;
    nfsl_readdirres dir;

    /* 3 is not a declared nfsl_stat: taken as libtirpc takes it (the
     * default arm), refused by a strict decoder */
    CHECK(decode_hex(&nfsl_attrstat_desc, "00000003", &arena, &attr) == 0);
    CHECK(attr.status == (nfsl_stat)3);
    CHECK(decode_hex_flags(&nfsl_attrstat_desc, "00000003", &arena, VIRTWIRE_DEC_STRICT, &attr) ==
          VIRTWIRE_EENUM);
    /* NFSL_NON is declared but has no arm, and there is no default */
    CHECK(decode_hex(&nfsl_specdata_desc, "00000000", &arena, &spec) == VIRTWIRE_EUNION);
    /* a bool is true for any non-zero word (1 in C); a strict decoder wants
     * 0 or 1 */
    CHECK(decode_hex(&nfsl_dirlist_desc, "00000000 00000002", &arena, &list) == 0);
    CHECK(list.eof == 1);
    CHECK(decode_hex_flags(&nfsl_dirlist_desc, "00000000 00000002", &arena,
                           VIRTWIRE_DEC_STRICT_BOOL, &list) == VIRTWIRE_EBOOL);
    /* 17 groups, the bound is 16 */
    CHECK(decode_hex(&nfsl_cred_desc,
                     "00000001 00000000 00000000 00000000 00000011"
                     "00000000 00000000 00000000 00000000 00000000 00000000"
                     "00000000 00000000 00000000 00000000 00000000 00000000"
                     "00000000 00000000 00000000 00000000 00000000",
                     &arena, &cred) == VIRTWIRE_ETOOLONG);
    /* the list ends before the entry it announces */
    CHECK(decode_hex(&nfsl_readdirres_desc, "00000000 00000001 00000000", &arena, &dir) ==
          VIRTWIRE_ETRUNCATED);
    /* bytes after the value */
    CHECK(decode_hex(&nfsl_attrstat_desc, "00000046 00000000", &arena, &attr) ==
          VIRTWIRE_ETRAILING);
    virtwire_arena_fini(&arena);

    /* a name longer than NFSL_MAXNAMLEN is not encoded */
    char longname[NFSL_MAXNAMLEN + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    nfsl_diropargs args;
    memset(&args, 0, sizeof args);
    args.name = longname;
    unsigned char buf[512];
    CHECK(virtwire_encode(&nfsl_diropargs_desc, &args, buf, sizeof buf, NULL) ==
          VIRTWIRE_ETOOLONG);
    longname[NFSL_MAXNAMLEN] = '\0';
    size_t n = 0;
    CHECK(virtwire_encode(&nfsl_diropargs_desc, &args, buf, sizeof buf, &n) == 0);
    CHECK(n == 32 + 4 + 256);
}

static void test_programs(void)
{
    const virtwire_program *nfs = &NFSL_PROGRAM_program;
    CHECK(nfs->program == 0x20000301 && nfs->version == 2);
    CHECK(nfs->nprocs == 8);
    const virtwire_proc *p = virtwire_program_find(nfs, 16);
    CHECK(p && strcmp(p->name, "NFSLPROC_READDIR") == 0);
    CHECK(p && p->args == &nfsl_readdirargs_desc && p->ret == &nfsl_readdirres_desc);
    p = virtwire_program_find_name(nfs, "NFSLPROC_GETATTR");
    CHECK(p && p->number == 1 && p->args == &nfsl_fh_desc && p->ret == &nfsl_attrstat_desc);
    p = virtwire_program_find(nfs, 0);
    CHECK(p && p->args == NULL && p->ret == NULL);
    CHECK(virtwire_program_find(nfs, 3) == NULL);

    const virtwire_program *mnt = &NFSL_MOUNT_PROGRAM_program;
    CHECK(mnt->program == 0x20000302 && mnt->version == 1 && mnt->nprocs == 3);
    p = virtwire_program_find(mnt, 5);
    CHECK(p && p->args == NULL && p->ret == &nfsl_exports_desc);
    p = virtwire_program_find_name(mnt, "NFSLMNTPROC_MNT");
    CHECK(p && p->args == &nfsl_path_desc && p->ret == &nfsl_fh_desc);

    CHECK(strcmp(virtwire_module_nfslike.name, "nfslike") == 0);
    CHECK(virtwire_module_nfslike.nprograms == 2);
    CHECK(virtwire_protocol_find_type(&virtwire_module_nfslike, "nfsl_entry") == &nfsl_entry_desc);
}

int main(void)
{
    nfslike_cases();
    test_decoded_lists();
    test_rejected();
    test_programs();
    printf("nfslike (virtwire): %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
