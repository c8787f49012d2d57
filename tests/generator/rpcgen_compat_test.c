/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rpcgen_compat.x: the constructs rpcgen takes beyond RFC 4506. */
#include "rpcgen_compat.h"

#include <string.h>

#include "vwtest.h"

/* rpcgen's C types (libtirpc's for its library types) */
#define SAME_TYPE(a, T) _Static_assert(_Generic((a), T: 1, default: 0), #a " is not " #T)
extern rc_lib probe; /* only looked at by _Generic, never defined */
SAME_TYPE(probe.u32, unsigned int);
SAME_TYPE(probe.i32, int);
SAME_TYPE(probe.uc, unsigned char);
SAME_TYPE(probe.us, unsigned short);
SAME_TYPE(probe.flag, int);
SAME_TYPE(probe.q, int64_t);
SAME_TYPE(probe.uq, uint64_t);
SAME_TYPE(probe.l, long);
SAME_TYPE(probe.ul, unsigned long);
SAME_TYPE(probe.cookie, netobj);
SAME_TYPE(probe.key, des_block);
SAME_TYPE(probe.cookie.n_len, unsigned int);
SAME_TYPE(probe.cookie.n_bytes, char *);
_Static_assert(sizeof(des_block) == 8, "des_block is 8 bytes");
extern inc_pair pair_probe; /* from the #included file */
SAME_TYPE(pair_probe.second, unsigned long);

static void test_constants(void)
{
    CHECK_STR(RC_GREETING, "hello, rpcgen");
    CHECK_INT(RC_MAXDATA, 16);
    /* rpcgen's constants of the program block, as written */
    CHECK_INT(RC_PROG, 0x20000100);
    CHECK_INT(RC_V1, 1);
    CHECK_INT(RC_V2, 2);
    CHECK_INT(RC_NULL, 0);
    CHECK_INT(RC_COUNT, 1); /* in both versions, defined once */
    CHECK_INT(RC_AVERAGE, 6);
    /* the %#define bounds (their lines are not copied without --passthrough:
     * the generated code uses their values) */
    CHECK_INT(rc_bounded_MAX_SIZE,
              (4 + 20) + (4 + 3 * 4) + (4 + 16) + (4 + 3 * (4 + 1024)) + (4 + 8));
    /* the module's descriptor */
    CHECK_STR(virtwire_module_rpcgen_compat.name, "rpcgen_compat");
}

static void test_library_types(void)
{
    rc_lib v;
    memset(&v, 0, sizeof(v));
    v.u32 = 0xdeadbeefu;
    v.i32 = -2;
    v.uc = 200;
    v.us = 65535;
    v.flag = 1;
    v.q = -3;
    v.uq = 4;
    v.l = -5;
    v.ul = 0xfffffffful;
    char bytes[] = { 1, 2, 3 };
    v.cookie.n_len = 3;
    v.cookie.n_bytes = bytes;
    memcpy(v.key.c, "ABCDEFGH", 8);
    static const char hex[] = "deadbeef fffffffe 000000c8 0000ffff 00000001"
                              "| ffffffff fffffffd 00000000 00000004"
                              "| fffffffb ffffffff"            /* long -5, unsigned long */
                              "| 00000003 01020300"            /* netobj: opaque<1024> */
                              "| 41424344 45464748";           /* des_block: opaque[8] */
    ENCODE(rc_lib, &v, hex);
    ROUNDTRIP(rc_lib, hex);
    CHECK_INT(rc_lib_MAX_SIZE, 4 * 5 + 16 + 8 + 4 + 1024 + 8);

    rc_lib d;
    DECODE(rc_lib, hex, NULL, &d);
    CHECK_INT(d.l, -5);                     /* sign-extended */
    CHECK(d.ul == 0xfffffffful);
    CHECK_INT(d.cookie.n_len, 3);
    CHECK(d.cookie.n_bytes && memcmp(d.cookie.n_bytes, bytes, 3) == 0);
    CHECK(memcmp(d.key.c, "ABCDEFGH", 8) == 0);
    rc_lib_free(&d);
    CHECK(d.cookie.n_bytes == NULL);

    /* a long or unsigned long that does not fit in 32 bits */
    v.l = 0x100000000L;
    ENCODE_FAILS(rc_lib, &v, VIRTWIRE_ERANGE);
    v.l = 0xfffffffbL; /* what libtirpc decodes -5 into on LP64 */
    ENCODE(rc_lib, &v, hex);
    v.l = -5;
    v.ul = 0x100000000ul;
    ENCODE_FAILS(rc_lib, &v, VIRTWIRE_ERANGE);
    v.ul = 0;
    v.cookie.n_len = 1025; /* netobj's bound */
    ENCODE_FAILS(rc_lib, &v, VIRTWIRE_ETOOLONG);
}

static void test_bounds(void)
{
    rc_bounded b;
    memset(&b, 0, sizeof(b));
    b.name = "0123456789abcdefg"; /* 17: RC_MAXNAME is 8 * 2 + 1 */
    ENCODE(rc_bounded, &b, "00000011 30313233 34353637 38396162 63646566 67000000"
                           "| 00000000 | 00000000 | 00000000 | 00000000");
    b.name = "0123456789abcdefgh";
    ENCODE_FAILS(rc_bounded, &b, VIRTWIRE_ETOOLONG);
    DECODE_FAILS(rc_bounded, "00000000 00000004 00000001 00000002 00000003 00000004",
                 VIRTWIRE_ETOOLONG); /* RC_MAXITEMS is 3 */

    rc_by_long u = { .which = -1, .rc_by_long_u = { .negative = 7 } };
    ENCODE(rc_by_long, &u, "ffffffff 00000007");
    ROUNDTRIP(rc_by_long, "00000005 00000009");
    ROUNDTRIP(rc_by_long, "00000006");
}

static void test_procedures(void)
{
    const virtwire_program *p = &RC_PROG_RC_V1_program;
    CHECK_INT(p->program, 0x20000100);
    CHECK_INT(p->version, 1);
    const virtwire_proc *pr = virtwire_program_find(p, RC_COUNT);
    CHECK(pr && pr->args == &virtwire_type_string && pr->ret == &virtwire_type_int);
    pr = virtwire_program_find(p, RC_NAME);
    CHECK(pr && pr->args == &virtwire_type_uint && pr->ret == &virtwire_type_string);
    pr = virtwire_program_find(p, RC_CHECK);
    CHECK(pr && pr->args == &virtwire_type_netobj && pr->ret == &virtwire_type_bool);
    pr = virtwire_program_find(p, RC_KEY);
    CHECK(pr && pr->args == &virtwire_type_ulong && pr->ret == &virtwire_type_des_block);
    pr = virtwire_program_find(p, RC_LIB);
    CHECK(pr && pr->args == &virtwire_type_hyper && pr->ret == &rc_lib_desc);
    pr = virtwire_program_find(&RC_PROG_RC_V2_program, RC_AVERAGE);
    CHECK(pr && pr->args == &virtwire_type_float && pr->ret == &virtwire_type_double);

    /* the base types' descriptors code what the C types hold */
    char *s = "abc";
    unsigned char buf[16];
    size_t len;
    CHECK_INT(virtwire_encode(&virtwire_type_string, &s, buf, sizeof(buf), &len), 0);
    CHECK_INT(len, 8);
    char *back = NULL;
    CHECK_INT(virtwire_decode(&virtwire_type_string, buf, len, NULL, &back), 0);
    CHECK_STR(back, "abc");
    virtwire_type_string.free(&back);
    unsigned long ul = 7;
    CHECK_INT(virtwire_encode(&virtwire_type_ulong, &ul, buf, sizeof(buf), &len), 0);
    CHECK_INT(len, 4);
    netobj o = { 2, "hi" };
    CHECK_INT(virtwire_encode(&virtwire_type_netobj, &o, buf, sizeof(buf), &len), 0);
    CHECK_INT(len, 8);
    netobj od;
    CHECK_INT(virtwire_decode(&virtwire_type_netobj, buf, len, NULL, &od), 0);
    CHECK(od.n_len == 2 && memcmp(od.n_bytes, "hi", 2) == 0);
    virtwire_type_netobj.free(&od);
}

int main(void)
{
    test_constants();
    test_library_types();
    test_bounds();
    test_procedures();
    return vt_finish("rpcgen_compat");
}
