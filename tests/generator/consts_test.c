/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consts.x: constant values, constants as sizes and bounds, external
 * constants from consts.tsv. */
#include "consts.h"

#include <string.h>

#include "vwtest.h"

static void test_values(void)
{
    CHECK_INT(DEC, 42);
    CHECK_INT(HEX, 31);              /* 0x1F = 16 + 15 */
    /* 0XabCDef = 0xABCDEF = 10*16^5 + 11*16^4 + 12*16^3 + 13*16^2 + 14*16 + 15 */
    CHECK_INT(HEX_UPPER, 11259375);
    CHECK_INT(OCT, 15);              /* 017 = 1*8 + 7 */
    CHECK_INT(ZERO, 0);
    CHECK_INT(NEG, -5);
    CHECK_INT(NEG_HEX, -16);
    CHECK_INT(BIG, 4294967295LL);    /* must not be a negative int */
    CHECK(BIG > 0);
    CHECK_INT(REF, 31);
    CHECK_INT(REF_REF, 31);
    CHECK_INT(FROM_EXT, 3);          /* EXT_WIDTH in consts.tsv */
    CHECK_INT(FORWARD, 7);
    CHECK_INT(DEFINED_LATER, 7);
    CHECK_INT(FROM_ENUM, 6);
    /* External constants are inlined, not defined by the header. */
#ifdef EXT_WIDTH
    CHECK(!"EXT_WIDTH should not be defined by consts.h");
#endif
}

static void test_enum(void)
{
    /* implicit values count on from the previous member */
    CHECK_INT(RED, 0);
    CHECK_INT(GREEN, 5);
    CHECK_INT(BLUE, 6);
    CHECK_INT(VIOLET, 31);
    CHECK_INT(NEGATIVE, -5);
    CHECK_INT(EXTERNAL, -2);

    color c = NEGATIVE;
    ENCODE(color, &c, "fffffffb");          /* -5 in two's complement */
    c = EXTERNAL;
    ENCODE(color, &c, "fffffffe");          /* -2 */
    c = VIOLET;
    ENCODE(color, &c, "0000001f");
    c = (color)7;                           /* between BLUE and VIOLET: undeclared */
    ENCODE(color, &c, "00000007");          /* written as it is, as libtirpc does */
    ROUNDTRIP(color, "00000007");           /* and read as it is */
    ROUNDTRIP(color, "00000001");
    STRICT_DECODE_FAILS(color, "00000007", VIRTWIRE_EENUM);
    STRICT_DECODE_FAILS(color, "00000001", VIRTWIRE_EENUM);

    color out;
    DECODE(color, "fffffffe", NULL, &out);
    CHECK_INT(out, EXTERNAL);
    CHECK_INT(color_MAX_SIZE, 4);
}

static void test_sized(void)
{
    sized s;
    memset(&s, 0, sizeof(s));
    CHECK_INT(sizeof(s.triple) / sizeof(s.triple[0]), 3); /* [EXT_WIDTH] */
    CHECK_INT(sizeof(s.tag), 6);                          /* [EXT_TAG_LEN] */
    s.triple[0] = 1;
    s.triple[1] = -1;
    s.triple[2] = 0x01020304;
    memcpy(s.tag, "abcdef", 6);
    s.name = "hi";
    s.hue = NEGATIVE;
    ENCODE(sized, &s,
           "00000001 ffffffff 01020304"  /* int triple[3] */
           "| 61626364 6566 0000"        /* opaque tag[6]: 6 bytes + 2 padding */
           "| 00000002 6869 0000"        /* string name<31> "hi": length, 2 bytes, 2 padding */
           "| fffffffb");                /* hue NEGATIVE = -5 */
    CHECK_INT(sized_size(&s), 32);       /* 12 + 8 + 8 + 4 */
    /* 12 + 8 + (4 + 31 rounded up to 32) + 4 */
    CHECK_INT(sized_MAX_SIZE, 60);
    CHECK_INT(sized_desc.max_size, 60);
    CHECK_INT(sized_desc.min_size, 28);  /* 12 + 8 + 4 (empty string) + 4 */

    /* The bound of name is REF (31): 32 characters are too many. */
    s.name = "0123456789abcdef0123456789abcdef";
    ENCODE_FAILS(sized, &s, VIRTWIRE_ETOOLONG);
    s.name = "0123456789abcdef0123456789abcde";
    CHECK_INT(sized_size(&s), 60);

    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    sized d;
    DECODE(sized, "00000001 ffffffff 01020304 61626364 65660000 00000002 68690000 fffffffb",
           &arena, &d);
    CHECK_INT(d.triple[0], 1);
    CHECK_INT(d.triple[1], -1);
    CHECK_INT(d.triple[2], 0x01020304);
    CHECK(memcmp(d.tag, "abcdef", 6) == 0);
    CHECK_STR(d.name, "hi");
    CHECK_INT(d.hue, NEGATIVE);
    virtwire_arena_fini(&arena);
    ROUNDTRIP(sized, "00000001 ffffffff 01020304 61626364 65660000 00000002 68690000 fffffffb");
    /* a 32-byte name breaks the <REF> bound on the way in too */
    DECODE_FAILS(sized, "00000001 ffffffff 01020304 61626364 65660000 00000020"
                        "30313233 34353637 38396162 63646566 30313233 34353637 38396162 63646566"
                        "fffffffb", VIRTWIRE_ETOOLONG);
}

int main(void)
{
    test_values();
    test_enum();
    test_sized();
    return vt_finish("consts");
}
