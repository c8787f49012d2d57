/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* primitives.x: the wire form and C type of every primitive. */
#include "primitives.h"

#include <string.h>

#include "vwtest.h"

/* rpcgen's C types: checked at compile time so a wrong mapping is an error
 * here rather than silent truncation (the member of a struct type, in
 * _Generic's unevaluated operand: no object is needed). */
#define SAME_TYPE(S, m, T)                                                                \
    _Static_assert(_Generic(((S *)0)->m, T: 1, default: 0), #S "." #m " is not " #T)
SAME_TYPE(prims, i, int);
SAME_TYPE(prims, u, unsigned int);
SAME_TYPE(prims, bare, unsigned int);
SAME_TYPE(prims, h, int64_t);
SAME_TYPE(prims, uh, uint64_t);
SAME_TYPE(prims, f, float);
SAME_TYPE(prims, dbl, double);
SAME_TYPE(prims, b, int);
SAME_TYPE(prims, c, char);
SAME_TYPE(prims, uc, unsigned char);
SAME_TYPE(prims, s, short);
SAME_TYPE(prims, us, unsigned short);
SAME_TYPE(prims, l, long);
SAME_TYPE(prims, ul, unsigned long);

static const char PRIMS_HEX[] =
    "fffffffe"            /* int i = -2 */
    "| deadbeef"          /* unsigned int u = 0xdeadbeef */
    "| 00000007"          /* unsigned bare = 7 */
    "| ffffffff fffffffe" /* hyper h = -2: 8 bytes, high word first */
    "| 01020304 05060708" /* unsigned hyper uh = 0x0102030405060708 */
    "| 3fc00000"          /* float f = 1.5: sign 0, exponent 127 = 0x7f, mantissa .5 = 0x400000 */
    "| c0000000 00000000" /* double dbl = -2.0: sign 1, exponent 1024 = 0x400 */
    "| 00000001"          /* bool b = TRUE */
    "| 00000041"          /* char c = 'A': a whole word */
    "| 000000c8"          /* unsigned char uc = 200 */
    "| fffffed4"          /* short s = -300 = -0x12c, sign-extended to 32 bits */
    "| 0000ffff"          /* unsigned short us = 65535 */
    "| ffffffff"          /* long l = -1: one word, a C long (rpcgen) */
    "| 00000005";         /* unsigned long ul = 5 */

static void test_prims(void)
{
    prims p;
    memset(&p, 0, sizeof(p));
    p.i = -2;
    p.u = 0xdeadbeefu;
    p.bare = 7;
    p.h = -2;
    p.uh = 0x0102030405060708ull;
    p.f = 1.5f;
    p.dbl = -2.0;
    p.b = 1;
    p.c = 'A';
    p.uc = 200;
    p.s = -300;
    p.us = 65535;
    p.l = -1;
    p.ul = 5;
    ENCODE(prims, &p, PRIMS_HEX);
    /* 11 four-byte words + 3 eight-byte ones = 44 + 24 */
    CHECK_INT(prims_MAX_SIZE, 68);
    CHECK_INT(prims_desc.min_size, 68);
    CHECK_INT(prims_size(&p), 68);

    prims d;
    DECODE(prims, PRIMS_HEX, NULL, &d);
    CHECK_INT(d.i, -2);
    CHECK_INT(d.u, 0xdeadbeefu);
    CHECK_INT(d.bare, 7);
    CHECK_INT(d.h, -2);
    CHECK(d.uh == 0x0102030405060708ull);
    CHECK(d.f == 1.5f);
    CHECK(d.dbl == -2.0);
    CHECK_INT(d.b, 1);
    CHECK_INT(d.c, 'A');
    CHECK_INT(d.uc, 200);
    CHECK_INT(d.s, -300);
    CHECK_INT(d.us, 65535);
    CHECK_INT(d.l, -1);
    CHECK_INT(d.ul, 5);

    /* The decoder checks that each word fits the member's C type: which
     * check fires shows which primitive the generator picked. */
    STRICT_DECODE_FAILS(prims, "fffffffe deadbeef 00000007 ffffffff fffffffe 01020304 05060708"
                               "3fc00000 c0000000 00000000 00000002" /* bool 2 */
                               "00000041 000000c8 fffffed4 0000ffff ffffffff 00000005",
                        VIRTWIRE_EBOOL);
    /* the default decoder takes a bool of 2 as true, 1 in C (libtirpc) */
    CHECK_INT(vwtest_decode(&prims_desc,
                            "fffffffe deadbeef 00000007 ffffffff fffffffe 01020304 05060708"
                            "3fc00000 c0000000 00000000 00000002"
                            "00000041 000000c8 fffffed4 0000ffff ffffffff 00000005",
                            NULL, &d),
              0);
    CHECK_INT(d.b, 1);
    DECODE_FAILS(prims, "fffffffe deadbeef 00000007 ffffffff fffffffe 01020304 05060708"
                        "3fc00000 c0000000 00000000 00000001"
                        "00000041 00000100" /* unsigned char 256 */
                        "fffffed4 0000ffff ffffffff 00000005",
                 VIRTWIRE_ERANGE);
    DECODE_FAILS(prims, "fffffffe deadbeef 00000007 ffffffff fffffffe 01020304 05060708"
                        "3fc00000 c0000000 00000000 00000001"
                        "00000041 000000c8 ffff7fff" /* short -32769 */
                        "0000ffff ffffffff 00000005",
                 VIRTWIRE_ERANGE);
    DECODE_FAILS(prims, "fffffffe deadbeef 00000007 ffffffff fffffffe 01020304 05060708"
                        "3fc00000 c0000000 00000000 00000001"
                        "00000041 000000c8 fffffed4 00010000" /* unsigned short 65536 */
                        "ffffffff 00000005",
                 VIRTWIRE_ERANGE);
    /* the last word missing; then one word too many */
    DECODE_FAILS(prims, "fffffffe deadbeef 00000007 ffffffff fffffffe 01020304 05060708"
                        "3fc00000 c0000000 00000000 00000001"
                        "00000041 000000c8 fffffed4 0000ffff ffffffff",
                 VIRTWIRE_ETRUNCATED);
    DECODE_FAILS(prims, "fffffffe deadbeef 00000007 ffffffff fffffffe 01020304 05060708"
                        "3fc00000 c0000000 00000000 00000001"
                        "00000041 000000c8 fffffed4 0000ffff ffffffff 00000005 00000000",
                 VIRTWIRE_ETRAILING);
}

static void test_small_arrays(void)
{
    small_arrays a;
    memset(&a, 0, sizeof(a));
    unsigned char uc[2] = { 1, 255 };
    char label[2] = { 'x', 'y' };
    memcpy(a.model, "abc", 4);
    a.sfix[0] = -1;
    a.sfix[1] = 2;
    a.ucvar.ucvar_len = 2;
    a.ucvar.ucvar_val = uc;
    a.label.label_len = 2;
    a.label.label_val = label;
    static const char hex[] =
        "00000061 00000062 00000063 00000000" /* char model[4] "abc\0": one word per char */
        "| ffffffff 00000002"                 /* short sfix[2] = {-1, 2} */
        "| 00000002 00000001 000000ff"        /* unsigned char ucvar<3>: count 2, then 1, 255 */
        "| 00000000"                          /* unsigned short usvar<>: empty */
        "| 00000002 00000078 00000079";       /* char label<> "xy": count 2, 'x', 'y' */
    ENCODE(small_arrays, &a, hex);
    CHECK_INT(small_arrays_size(&a), 52);     /* 16 + 8 + 12 + 4 + 12 */
    /* usvar and label are unbounded: no _MAX_SIZE, max_size 0 */
#ifdef small_arrays_MAX_SIZE
    CHECK(!"small_arrays has unbounded members");
#endif
    CHECK_INT(small_arrays_desc.max_size, 0);
    CHECK_INT(small_arrays_desc.min_size, 36); /* 16 + 8 + three empty counts */

    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    small_arrays d;
    DECODE(small_arrays, hex, &arena, &d);
    CHECK_STR(d.model, "abc");
    CHECK_INT(d.sfix[0], -1);
    CHECK_INT(d.sfix[1], 2);
    CHECK_INT(d.ucvar.ucvar_len, 2);
    CHECK_INT(d.ucvar.ucvar_val[1], 255);
    CHECK_INT(d.usvar.usvar_len, 0);
    CHECK_INT(d.label.label_len, 2);
    CHECK(d.label.label_val[0] == 'x' && d.label.label_val[1] == 'y');
    virtwire_arena_fini(&arena);
    ROUNDTRIP(small_arrays, hex);

    /* ucvar<3> holds at most 3 */
    unsigned char four[4] = { 1, 2, 3, 4 };
    a.ucvar.ucvar_len = 4;
    a.ucvar.ucvar_val = four;
    ENCODE_FAILS(small_arrays, &a, VIRTWIRE_ETOOLONG);
    /* an element that does not fit unsigned char */
    DECODE_FAILS(small_arrays, "00000061 00000062 00000063 00000000 ffffffff 00000002"
                               "00000001 00000100 00000000 00000000",
                 VIRTWIRE_ERANGE);

    char_box b;
    memset(&b, 0, sizeof(b));
    memcpy(b.model, "wxyz", 4);
    ENCODE(char_box, &b, "00000077 00000078 00000079 0000007a | 00000000");
    CHECK_INT(char_box_MAX_SIZE, 32);         /* 4*4 + 4 + 3*4 */
    CHECK_INT(char_box_desc.min_size, 20);    /* 4*4 + 4 */
}

static void test_wide_arrays(void)
{
    wide_arrays w;
    memset(&w, 0, sizeof(w));
    double dv[1] = { 0.25 };
    int flags[3] = { 1, 0, 1 };
    w.hfix[0] = 1;
    w.hfix[1] = -1;
    w.dvar.dvar_len = 1;
    w.dvar.dvar_val = dv;
    w.flags.flags_len = 3;
    w.flags.flags_val = flags;
    w.ffix[0] = -0.5f;
    static const char hex[] =
        "00000000 00000001 ffffffff ffffffff" /* hyper hfix[2] = {1, -1} */
        "| 00000001 3fd00000 00000000"        /* double dvar<2> {0.25}: exponent 1021 = 0x3fd */
        "| 00000003 00000001 00000000 00000001" /* bool flags<> {1, 0, 1} */
        "| bf000000";                         /* float ffix[1] {-0.5}: sign 1, exponent 126 */
    ENCODE(wide_arrays, &w, hex);
    CHECK_INT(wide_arrays_size(&w), 48);      /* 16 + 12 + 16 + 4 */
    ROUNDTRIP(wide_arrays, hex);
    STRICT_DECODE_FAILS(wide_arrays, "00000000 00000001 ffffffff ffffffff 00000000"
                                     "00000001 00000002 bf000000", /* bool element 2 */
                        VIRTWIRE_EBOOL);
}

int main(void)
{
    test_prims();
    test_small_arrays();
    test_wide_arrays();
    return vt_finish("primitives");
}
