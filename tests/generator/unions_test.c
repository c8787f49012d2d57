/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unions.x: discriminant types, void and default arms. */
#include "unions.h"

#include <string.h>

#include "vwtest.h"

static void test_enum_discriminant(void)
{
    shape s;
    memset(&s, 0, sizeof(s));

    s.kind = SHAPE_NONE;
    ENCODE(shape, &s, "00000000");                 /* discriminant only: void arm */
    s.kind = SHAPE_CIRCLE;
    s.shape_u.radius = 7;
    ENCODE(shape, &s, "00000001 | 00000007");
    s.kind = SHAPE_RECT;
    s.shape_u.r.w = 2;
    s.shape_u.r.h = 3;
    ENCODE(shape, &s, "00000002 | 00000002 00000003");
    s.kind = SHAPE_TEXT;
    s.shape_u.text = "hi";
    ENCODE(shape, &s, "00000003 | 00000002 68690000");  /* "hi" + 2 padding bytes */
    s.kind = SHAPE_ODD;                            /* second label of the text arm */
    s.shape_u.text = "";
    ENCODE(shape, &s, "0000000a | 00000000");
    CHECK_INT(shape_size(&s), 8);
    s.kind = SHAPE_UNUSED;
    ENCODE_FAILS(shape, &s, VIRTWIRE_EUNION);
    s.kind = (shape_kind)5;                 /* undeclared: no arm, no default */
    ENCODE_FAILS(shape, &s, VIRTWIRE_EUNION);

    /* 4 + the largest arm, text<8>: 4 + 8 */
    CHECK_INT(shape_MAX_SIZE, 16);
    CHECK_INT(shape_desc.min_size, 4);

    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    shape d;
    DECODE(shape, "00000002 00000002 00000003", &arena, &d);
    CHECK_INT(d.kind, SHAPE_RECT);
    CHECK_INT(d.shape_u.r.w, 2);
    CHECK_INT(d.shape_u.r.h, 3);
    DECODE(shape, "0000000a 00000003 61626300", &arena, &d);
    CHECK_INT(d.kind, SHAPE_ODD);
    CHECK_STR(d.shape_u.text, "abc");
    virtwire_arena_fini(&arena);
    ROUNDTRIP(shape, "00000003 00000002 68690000");

    DECODE_FAILS(shape, "00000004", VIRTWIRE_EUNION);  /* declared, but no arm */
    DECODE_FAILS(shape, "00000005", VIRTWIRE_EUNION);  /* not declared: no arm either */
    STRICT_DECODE_FAILS(shape, "00000005", VIRTWIRE_EENUM);
    DECODE_FAILS(shape, "00000003 00000009 00000000 00000000 00000000", VIRTWIRE_ETOOLONG);
}

static void test_uint_discriminant(void)
{
    by_uint u;
    memset(&u, 0, sizeof(u));
    u.code = 0xFFFFFFFFu;
    u.by_uint_u.big = 1;
    ENCODE(by_uint, &u, "ffffffff | 00000000 00000001");
    u.code = 7;
    u.by_uint_u.seven = 0x80000000u;
    ENCODE(by_uint, &u, "00000007 | 80000000");
    u.code = 12345;                                /* 0x3039: the default arm */
    u.by_uint_u.other = -1;
    ENCODE(by_uint, &u, "00003039 | ffffffff");
    u.code = 0;
    ENCODE(by_uint, &u, "00000000");
    CHECK_INT(by_uint_MAX_SIZE, 12);               /* 4 + hyper */

    by_uint d;
    DECODE(by_uint, "ffffffff 12345678 9abcdef0", NULL, &d);
    CHECK_INT(d.code, 0xFFFFFFFFu);
    CHECK(d.by_uint_u.big == (int64_t)0x123456789abcdef0ll);
    DECODE(by_uint, "fffffffe 80000000", NULL, &d);    /* default arm */
    CHECK_INT(d.code, 0xFFFFFFFEu);
    CHECK_INT(d.by_uint_u.other, -2147483647 - 1);
}

static void test_bool_discriminant(void)
{
    maybe_int m;
    memset(&m, 0, sizeof(m));
    m.present = 1;
    m.maybe_int_u.value = -7;
    ENCODE(maybe_int, &m, "00000001 | fffffff9");
    m.present = 0;
    ENCODE(maybe_int, &m, "00000000");
    CHECK_INT(maybe_int_MAX_SIZE, 8);
    /* a bool discriminant of 2 is true, as libtirpc reads it */
    CHECK_INT(vwtest_decode(&maybe_int_desc, "00000002 00000007", NULL, &m), 0);
    CHECK(m.present == 1 && m.maybe_int_u.value == 7);
    STRICT_DECODE_FAILS(maybe_int, "00000002 00000000", VIRTWIRE_EBOOL);

    maybe_int d;
    DECODE(maybe_int, "00000001 0000002a", NULL, &d);
    CHECK_INT(d.present, 1);
    CHECK_INT(d.maybe_int_u.value, 42);
}

static void test_int_discriminant(void)
{
    by_int b;
    memset(&b, 0, sizeof(b));
    b.n = -1;
    b.by_int_u.err = "x";
    ENCODE(by_int, &b, "ffffffff | 00000001 78000000");
    b.n = NEG_CASE;
    memcpy(b.by_int_u.raw, "\x01\x02\x03", 3);
    ENCODE(by_int, &b, "fffffffe | 01020300");      /* opaque[3] + 1 padding byte */
    b.n = 99;
    ENCODE(by_int, &b, "00000063");                  /* default: void */
#ifdef by_int_MAX_SIZE
    CHECK(!"by_int has an unbounded arm");
#endif
    CHECK_INT(by_int_desc.min_size, 4);
    ROUNDTRIP(by_int, "ffffffff 00000005 68656c6c 6f000000");  /* "hello" */
    ROUNDTRIP(by_int, "80000000");                              /* INT_MIN: default */

    via_alias v;
    memset(&v, 0, sizeof(v));
    v.k = SHAPE_RECT;
    v.via_alias_u.r.w = -1;
    v.via_alias_u.r.h = 1;
    ENCODE(via_alias, &v, "00000002 | ffffffff 00000001");
    v.k = SHAPE_ODD;
    ENCODE(via_alias, &v, "0000000a");
    ROUNDTRIP(via_alias, "00000006");                        /* undeclared: the default arm */
    STRICT_DECODE_FAILS(via_alias, "00000006", VIRTWIRE_EENUM); /* typedef keeps enum checks */
}

static void test_holder(void)
{
    holder h;
    memset(&h, 0, sizeof(h));
    h.first.kind = SHAPE_TEXT;
    h.first.shape_u.text = "12345678";
    h.second.present = 1;
    h.second.maybe_int_u.value = 3;
    ENCODE(holder, &h, "00000003 00000008 31323334 35363738 | 00000001 00000003");
    CHECK_INT(holder_MAX_SIZE, 24);                 /* 16 + 8 */
    CHECK_INT(holder_desc.min_size, 8);             /* 4 + 4 */
    ROUNDTRIP(holder, "00000003 00000008 31323334 35363738 00000001 00000003");
}

int main(void)
{
    test_enum_discriminant();
    test_uint_discriminant();
    test_bool_discriminant();
    test_int_discriminant();
    test_holder();
    return vt_finish("unions");
}
