/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* typedefs.x: one value of each typedef shape. */
#include "typedefs.h"

#include <string.h>

#include "vwtest.h"

static void test_scalars(void)
{
    t_int i = -5;
    ENCODE(t_int, &i, "fffffffb");
    CHECK_INT(t_int_MAX_SIZE, 4);
    t_uhyper u = 0x8000000000000001ull;
    ENCODE(t_uhyper, &u, "80000000 00000001");
    CHECK_INT(t_uhyper_MAX_SIZE, 8);
    t_point p = { 1, 2 };
    ENCODE(t_point, &p, "00000001 00000002");
    t_struct_point sp = { -1, 0 };
    ENCODE(t_struct_point, &sp, "ffffffff 00000000");
    CHECK_INT(t_point_MAX_SIZE, 8);

    t_mode m = MODE_B;
    ENCODE(t_mode, &m, "00000002");
    t_mode2 m2 = MODE_A;
    ENCODE(t_mode2, &m2, "00000001");
    ROUNDTRIP(t_mode, "00000003");                      /* undeclared: taken as it is */
    STRICT_DECODE_FAILS(t_mode, "00000003", VIRTWIRE_EENUM);  /* enum check through a typedef */
    STRICT_DECODE_FAILS(t_mode2, "00000000", VIRTWIRE_EENUM); /* and through two */
}

static void test_arrays(void)
{
    t_fixed f = { 1, 2, 3 };
    ENCODE(t_fixed, &f, "00000001 00000002 00000003");  /* no count for [N] */
    CHECK_INT(t_fixed_MAX_SIZE, 12);
    t_fixed_alias fa = { -1, -2, -3 };
    ENCODE(t_fixed_alias, &fa, "ffffffff fffffffe fffffffd");

    point pts[3] = { { 1, 2 }, { 3, 4 }, { 5, 6 } };
    t_points ps = { 2, pts };
    ENCODE(t_points, &ps, "00000002 | 00000001 00000002 | 00000003 00000004");
    CHECK_INT(t_points_MAX_SIZE, 20);                   /* 4 + 2 * 8 */
    CHECK_INT(t_points_desc.min_size, 4);
    ps.t_points_len = 3;
    ENCODE_FAILS(t_points, &ps, VIRTWIRE_ETOOLONG);
    ps.t_points_len = 1;
    ps.t_points_val = NULL;
    ENCODE_FAILS(t_points, &ps, VIRTWIRE_ENULL);
    DECODE_FAILS(t_points, "00000003 00000001 00000002 00000003 00000004 00000005 00000006",
                 VIRTWIRE_ETOOLONG);
    /* a count the input cannot hold: 2 points need 16 bytes, 8 are left */
    DECODE_FAILS(t_points, "00000002 00000001 00000002", VIRTWIRE_ETRUNCATED);

    t_ints none = { 0, NULL };
    ENCODE(t_ints, &none, "00000000");
    int one[1] = { -1 };
    t_ints ints = { 1, one };
    ENCODE(t_ints, &ints, "00000001 ffffffff");
#ifdef t_ints_MAX_SIZE
    CHECK(!"t_ints is unbounded");
#endif

    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    t_points dp;
    DECODE(t_points, "00000002 00000001 00000002 00000003 00000004", &arena, &dp);
    CHECK_INT(dp.t_points_len, 2);
    CHECK_INT(dp.t_points_val[1].y, 4);
    virtwire_arena_fini(&arena);
    ROUNDTRIP(t_points, "00000002 00000001 00000002 00000003 00000004");
    ROUNDTRIP(t_ints, "00000003 00000001 00000002 00000003");
}

static void test_strings_and_opaque(void)
{
    t_str s = "abcd";
    ENCODE(t_str, &s, "00000004 61626364");               /* 4 bytes: no padding */
    CHECK_INT(t_str_MAX_SIZE, 8);
    s = "abcde";
    ENCODE_FAILS(t_str, &s, VIRTWIRE_ETOOLONG);
    s = NULL;
    ENCODE_FAILS(t_str, &s, VIRTWIRE_ENULL);
    t_anystr a = "";
    ENCODE(t_anystr, &a, "00000000");

    t_opaque_fixed of = { 9, 8, 7 };
    ENCODE(t_opaque_fixed, &of, "09080700");
    CHECK_INT(t_opaque_fixed_MAX_SIZE, 4);
    char bytes[4] = { 1, 2, 3, 4 };
    t_opaque_var ov = { 4, bytes };
    ENCODE(t_opaque_var, &ov, "00000004 01020304");
    CHECK_INT(t_opaque_var_MAX_SIZE, 8);

    t_strs two = { "a", "bcdef" };
    ENCODE_FAILS(t_strs, &two, VIRTWIRE_ETOOLONG);
    two[1] = "bc";
    ENCODE(t_strs, &two, "00000001 61000000 | 00000002 62630000");
    CHECK_INT(t_strs_MAX_SIZE, 16);
    ROUNDTRIP(t_strs, "00000001 61000000 00000002 62630000");
}

static void test_optional(void)
{
    t_opt_point none = NULL;
    ENCODE(t_opt_point, &none, "00000000");
    point p = { 5, 6 };
    t_opt_point some = &p;
    ENCODE(t_opt_point, &some, "00000001 | 00000005 00000006");
    CHECK_INT(t_opt_point_MAX_SIZE, 12);
    CHECK_INT(t_opt_point_desc.min_size, 4);
    /* any non-zero flag means present (libtirpc's xdr_pointer), 0 or 1 for
     * a strict decoder */
    t_opt_point got = NULL;
    CHECK_INT(vwtest_decode(&t_opt_point_desc, "00000002 00000005 00000006", NULL, &got), 0);
    CHECK(got != NULL && got->x == 5 && got->y == 6);
    t_opt_point_free(&got);
    STRICT_DECODE_FAILS(t_opt_point, "00000002 00000005 00000006", VIRTWIRE_EBOOL);

    t_str ab = "ab";
    t_opt_str os = &ab;
    ENCODE(t_opt_str, &os, "00000001 | 00000002 61620000");
    CHECK_INT(t_opt_str_MAX_SIZE, 12);                   /* 4 + 4 + 4 */

    t_str z = "z";
    t_opt_str elems[2] = { NULL, &z };
    t_opt_strs list = { 2, elems };
    ENCODE(t_opt_strs, &list, "00000002 | 00000000 | 00000001 00000001 7a000000");
    CHECK_INT(t_opt_strs_MAX_SIZE, 28);                  /* 4 + 2 * 12 */

    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    t_opt_strs d;
    DECODE(t_opt_strs, "00000002 00000000 00000001 00000001 7a000000", &arena, &d);
    CHECK_INT(d.t_opt_strs_len, 2);
    CHECK(d.t_opt_strs_val[0] == NULL);
    CHECK(d.t_opt_strs_val[1] != NULL && strcmp(*d.t_opt_strs_val[1], "z") == 0);
    virtwire_arena_fini(&arena);
    ROUNDTRIP(t_opt_strs, "00000002 00000000 00000001 00000001 7a000000");
}

static void test_struct_of_typedefs(void)
{
    uses_typedefs u;
    memset(&u, 0, sizeof(u));
    t_str nm = "xyz";
    u.m = MODE_B;
    u.name = &nm;
    u.f[0] = 0;
    u.f[1] = 1;
    u.f[2] = 0x7fffffff;
    ENCODE(uses_typedefs, &u,
           "00000002"                     /* t_mode2 m = MODE_B */
           "| 00000001 00000003 78797a00" /* t_opt_str name: present, "xyz" + 1 padding */
           "| 00000000 00000001 7fffffff" /* t_fixed_alias f */);
    CHECK_INT(uses_typedefs_MAX_SIZE, 28);                /* 4 + 12 + 12 */
    CHECK_INT(uses_typedefs_desc.min_size, 20);           /* 4 + 4 + 12 */
    ROUNDTRIP(uses_typedefs, "00000002 00000000 00000000 00000001 7fffffff");
}

int main(void)
{
    test_scalars();
    test_arrays();
    test_strings_and_opaque();
    test_optional();
    test_struct_of_typedefs();
    return vt_finish("typedefs");
}
