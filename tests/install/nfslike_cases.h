/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Values of nfslike.x's types and the bytes each one encodes to, worked out
 * by hand.  Included by nfslike_virtwire.c (virtwire's generated codecs) and
 * by nfslike_rpcgen.c (rpcgen's code run by libtirpc): both lay the types out
 * alike, so the same code builds the values for both.  The includer defines
 * CHECK_CASE(T, pointer to a T, expected hex) first.
 */
#ifndef NFSLIKE_CASES_H
#define NFSLIKE_CASES_H

#include <string.h>

/* The file handle used throughout: bytes a0 to bf. */
#define FH_HEX "a0a1a2a3 a4a5a6a7 a8a9aaab acadaeaf b0b1b2b3 b4b5b6b7 b8b9babb bcbdbebf"

/* READDIR's reply for ".", ".." and "src". */
#define READDIR_HEX                                                            \
    "00000000"                       /* status NFSL_OK */                      \
    "|00000001"                      /* entries: present */                    \
    "|00000000 00000002"             /*   fileid 2 */                          \
    "|00000001 2e000000"             /*   name "." and 3 bytes padding */      \
    "|00000000 00000001"             /*   cookie 1 */                          \
    "|00000001"                      /*   nextentry: present */                \
    "|00000000 00000001"             /*   fileid 1 */                          \
    "|00000002 2e2e0000"             /*   name ".." */                         \
    "|00000000 00000002"             /*   cookie 2 */                          \
    "|00000001"                      /*   nextentry: present */                \
    "|00000000 0000004d"             /*   fileid 77 */                         \
    "|00000003 73726300"             /*   name "src" */                        \
    "|00000000 00000003"             /*   cookie 3 */                          \
    "|00000000"                      /*   nextentry: NULL */                   \
    "|00000001"                      /* eof TRUE */

/* MOUNT's export list: "/export" for admins and users, "/pub" for all. */
#define EXPORTS_HEX                                                            \
    "00000001"                       /* present */                             \
    "|00000007 2f657870 6f727400"    /* dir "/export" */                       \
    "|00000001"                      /* groups: present */                     \
    "|00000006 61646d69 6e730000"    /*   name "admins" */                     \
    "|00000001"                      /*   next: present */                     \
    "|00000005 75736572 73000000"    /*   name "users" */                      \
    "|00000000"                      /*   next: NULL */                        \
    "|00000001"                      /* next export: present */                \
    "|00000004 2f707562"             /* dir "/pub" */                          \
    "|00000000"                      /* groups: NULL */                        \
    "|00000000"                      /* next: NULL */

static void nfslike_fh(char *fh)
{
    for (int i = 0; i < NFSL_FHSIZE; i++)
        fh[i] = (char)(0xa0 + i);
}

/* The attributes of a regular file, as GETATTR returns them. */
static void nfslike_fattr(nfsl_fattr *a)
{
    memset(a, 0, sizeof *a);
    a->type = NFSL_REG;
    a->mode = 0100644;
    a->nlink = 1;
    a->uid = 1000;
    a->gid = 100;
    a->size = 5000000000u;
    a->fileid = 0x0123456789abcdefu;
    a->mtime.seconds = 1700000000;
    a->mtime.nseconds = 500;
}

static void nfslike_cases(void)
{
    /* GETATTR's argument: fixed-length opaque data, no length word. */
    nfsl_fh fh;
    nfslike_fh(fh);
    CHECK_CASE(nfsl_fh, &fh, FH_HEX);

    /* A union on an enum: the OK arm, then the default (void) arm. */
    nfsl_attrstat attr;
    memset(&attr, 0, sizeof attr);
    attr.status = NFSL_OK;
    nfslike_fattr(&attr.nfsl_attrstat_u.attributes);
    CHECK_CASE(nfsl_attrstat, &attr,
               "00000000"                      /* status NFSL_OK */
               "|00000001"                     /* type NFSL_REG */
               "|000081a4"                     /* mode 0100644 */
               "|00000001 000003e8 00000064"   /* nlink 1, uid 1000, gid 100 */
               "|00000001 2a05f200"            /* size 5000000000 */
               "|01234567 89abcdef"            /* fileid */
               "|6553f100 000001f4");          /* mtime 1700000000 s 500 ns */
    attr.status = NFSLERR_STALE;
    CHECK_CASE(nfsl_attrstat, &attr, "00000046");

    /* A fixed-length array of structs. */
    nfsl_sattr sattr;
    memset(&sattr, 0, sizeof sattr);
    sattr.mode = 0755;
    sattr.uid = 0xffffffffu;
    sattr.gid = 0xffffffffu;
    sattr.size = 0xffffffffffffffffu;
    sattr.times[0].seconds = 1;
    sattr.times[0].nseconds = 2;
    sattr.times[1].seconds = 3;
    sattr.times[1].nseconds = 4;
    CHECK_CASE(nfsl_sattr, &sattr,
               "000001ed ffffffff ffffffff | ffffffff ffffffff"
               "|00000001 00000002 | 00000003 00000004");

    /* A file handle and a bounded string. */
    nfsl_diropargs dirop;
    memset(&dirop, 0, sizeof dirop);
    nfslike_fh(dirop.dir);
    dirop.name = (char *)"notes.txt";
    CHECK_CASE(nfsl_diropargs, &dirop, FH_HEX "|00000009 6e6f7465 732e7478 74000000");
    nfsl_diropres dirres;
    memset(&dirres, 0, sizeof dirres);
    dirres.status = NFSLERR_NOENT;
    CHECK_CASE(nfsl_diropres, &dirres, "00000002");

    nfsl_readargs rargs;
    memset(&rargs, 0, sizeof rargs);
    nfslike_fh(rargs.file);
    rargs.offset = 8192;
    rargs.count = 4096;
    CHECK_CASE(nfsl_readargs, &rargs, FH_HEX "|00000000 00002000 | 00001000");

    /* A union arm holding a struct, a bool and variable-length opaque data. */
    nfsl_readres rres;
    memset(&rres, 0, sizeof rres);
    rres.status = NFSL_OK;
    nfslike_fattr(&rres.nfsl_readres_u.ok.attributes);
    rres.nfsl_readres_u.ok.attributes.mode = 0100600;
    rres.nfsl_readres_u.ok.attributes.uid = 0;
    rres.nfsl_readres_u.ok.attributes.gid = 0;
    rres.nfsl_readres_u.ok.attributes.size = 5;
    rres.nfsl_readres_u.ok.attributes.fileid = 42;
    rres.nfsl_readres_u.ok.attributes.mtime.nseconds = 0;
    rres.nfsl_readres_u.ok.eof = 1;
    rres.nfsl_readres_u.ok.data.data_len = 5;
    rres.nfsl_readres_u.ok.data.data_val = (char *)"hello";
    CHECK_CASE(nfsl_readres, &rres,
               "00000000"
               "|00000001 00008180 00000001 00000000 00000000"
               "|00000000 00000005 | 00000000 0000002a | 6553f100 00000000"
               "|00000001"                     /* eof TRUE */
               "|00000005 68656c6c 6f000000"); /* "hello" and 3 bytes padding */

    static char bytes[] = { (char)0xde, (char)0xad, (char)0xbe, (char)0xef, 1, 2 };
    nfsl_writeargs wargs;
    memset(&wargs, 0, sizeof wargs);
    nfslike_fh(wargs.file);
    wargs.offset = 0x100000000u;
    wargs.data.data_len = sizeof bytes;
    wargs.data.data_val = bytes;
    CHECK_CASE(nfsl_writeargs, &wargs, FH_HEX "|00000001 00000000 | 00000006 deadbeef 01020000");

    /* A union without a default arm: several labels on one arm, a void arm
     * and a string arm. */
    nfsl_mknodargs mknod;
    memset(&mknod, 0, sizeof mknod);
    nfslike_fh(mknod.where.dir);
    mknod.where.name = (char *)"ttyS0";
    mknod.what.type = NFSL_CHR;
    mknod.what.nfsl_specdata_u.dev.major = 4;
    mknod.what.nfsl_specdata_u.dev.minor = 64;
    CHECK_CASE(nfsl_mknodargs, &mknod,
               FH_HEX "|00000005 74747953 30000000 | 00000004 | 00000004 00000040");
    nfsl_specdata spec;
    memset(&spec, 0, sizeof spec);
    spec.type = NFSL_LNK;
    spec.nfsl_specdata_u.target = (char *)"../target";
    CHECK_CASE(nfsl_specdata, &spec, "00000005 | 00000009 2e2e2f74 61726765 74000000");
    spec.type = NFSL_DIR;
    CHECK_CASE(nfsl_specdata, &spec, "00000002");

    /* A linked list through optional data. */
    static nfsl_entry entries[3];
    memset(entries, 0, sizeof entries);
    entries[0].fileid = 2;
    entries[0].name = (char *)".";
    entries[0].cookie = 1;
    entries[0].nextentry = &entries[1];
    entries[1].fileid = 1;
    entries[1].name = (char *)"..";
    entries[1].cookie = 2;
    entries[1].nextentry = &entries[2];
    entries[2].fileid = 77;
    entries[2].name = (char *)"src";
    entries[2].cookie = 3;
    nfsl_readdirres dir;
    memset(&dir, 0, sizeof dir);
    dir.status = NFSL_OK;
    dir.nfsl_readdirres_u.reply.entries = &entries[0];
    dir.nfsl_readdirres_u.reply.eof = 1;
    CHECK_CASE(nfsl_readdirres, &dir, READDIR_HEX);
    dir.nfsl_readdirres_u.reply.entries = NULL;
    CHECK_CASE(nfsl_readdirres, &dir, "00000000 | 00000000 | 00000001");

    /* A bounded array of unsigned ints. */
    static unsigned int gids[] = { 10, 20, 30 };
    nfsl_cred cred;
    memset(&cred, 0, sizeof cred);
    cred.stamp = 100000000;
    cred.machine = (char *)"host1";
    cred.uid = 1000;
    cred.gid = 100;
    cred.gids.gids_len = 3;
    cred.gids.gids_val = gids;
    CHECK_CASE(nfsl_cred, &cred,
               "05f5e100 | 00000005 686f7374 31000000 | 000003e8 00000064"
               "|00000003 0000000a 00000014 0000001e");

    /* A list of lists, through typedef'd pointers. */
    static nfsl_groupnode groups[2];
    static nfsl_exportnode exports[2];
    memset(groups, 0, sizeof groups);
    memset(exports, 0, sizeof exports);
    groups[0].name = (char *)"admins";
    groups[0].next = &groups[1];
    groups[1].name = (char *)"users";
    exports[0].dir = (char *)"/export";
    exports[0].groups = &groups[0];
    exports[0].next = &exports[1];
    exports[1].dir = (char *)"/pub";
    nfsl_exports list = &exports[0];
    CHECK_CASE(nfsl_exports, &list, EXPORTS_HEX);
}

#endif /* NFSLIKE_CASES_H */
