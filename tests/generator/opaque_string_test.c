/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* opaque_string.x: padding of opaque data and strings. */
#include "opaque_string.h"

#include <string.h>

#include "vwtest.h"

static void test_fixed(void)
{
    fixed_opaques f;
    memset(&f, 0, sizeof(f));
    memcpy(f.o1, "\x11", 1);
    memcpy(f.o2, "\x21\x22", 2);
    memcpy(f.o3, "\x31\x32\x33", 3);
    memcpy(f.o4, "\x41\x42\x43\x44", 4);
    memcpy(f.o5, "\x51\x52\x53\x54\x55", 5);
    static const char hex[] =
        /* o0[0]: nothing at all */
        "11 000000"           /* o1: 1 byte + 3 padding */
        "| 2122 0000"         /* o2: 2 bytes + 2 padding */
        "| 313233 00"         /* o3: 3 bytes + 1 padding */
        "| 41424344"          /* o4: no padding */
        "| 51525354 55 000000"; /* o5: 5 bytes + 3 padding */
    ENCODE(fixed_opaques, &f, hex);
    CHECK_INT(fixed_opaques_MAX_SIZE, 24);
    CHECK_INT(fixed_opaques_desc.min_size, 24);

    fixed_opaques d;
    DECODE(fixed_opaques, hex, NULL, &d);
    CHECK(memcmp(d.o3, "\x31\x32\x33", 3) == 0);
    CHECK(memcmp(d.o5, "\x51\x52\x53\x54\x55", 5) == 0);
    /* non-zero padding is ignored by default, rejected in strict mode */
    static const char dirty[] = "11ffffff 21220000 31323300 41424344 51525354 55000000";
    DECODE(fixed_opaques, dirty, NULL, &d);
    CHECK(d.o1[0] == 0x11);
    unsigned char buf[24];
    size_t n = vt_hex(dirty, buf, sizeof(buf));
    virtwire_dec dec;
    virtwire_dec_init(&dec, buf, n, NULL);
    dec.flags = VIRTWIRE_DEC_STRICT_PADDING;
    CHECK_INT(fixed_opaques_decode(&dec, &d), VIRTWIRE_EPADDING);
}

static void test_var_opaque(void)
{
    /* length word, the bytes, padding to a multiple of 4 */
    static const char *const hex[6] = {
        "00000000",
        "00000001 aa000000",
        "00000002 aabb0000",
        "00000003 aabbcc00",
        "00000004 aabbccdd",
        "00000005 aabbccdd ee000000",
    };
    char bytes[6] = { (char)0xaa, (char)0xbb, (char)0xcc, (char)0xdd, (char)0xee, (char)0xff };
    for (unsigned len = 0; len <= 5; len++) {
        blob5 b = { len, len ? bytes : NULL };
        ENCODE(blob5, &b, hex[len]);
        CHECK_INT(blob5_size(&b), 4 + ((len + 3) / 4) * 4);
        anyblob any = { len, len ? bytes : NULL };
        ENCODE(anyblob, &any, hex[len]);
        ROUNDTRIP(blob5, hex[len]);

        virtwire_arena arena = VIRTWIRE_ARENA_INIT;
        blob5 d;
        DECODE(blob5, hex[len], &arena, &d);
        CHECK_INT(d.blob5_len, len);
        CHECK(len == 0 ? d.blob5_val == NULL : memcmp(d.blob5_val, bytes, len) == 0);
        virtwire_arena_fini(&arena);
    }
    CHECK_INT(blob5_MAX_SIZE, 12);               /* 4 + 5 rounded up to 8 */
    blob5 six = { 6, bytes };
    ENCODE_FAILS(blob5, &six, VIRTWIRE_ETOOLONG);
    DECODE_FAILS(blob5, "00000006 aabbccdd eeff0000", VIRTWIRE_ETOOLONG);
    /* the padding is part of what must be there */
    DECODE_FAILS(blob5, "00000005 aabbccdd ee", VIRTWIRE_ETRUNCATED);
#ifdef anyblob_MAX_SIZE
    CHECK(!"anyblob is unbounded");
#endif
}

static void test_strings(void)
{
    static const char *const hex[6] = {
        "00000000",
        "00000001 61000000",            /* "a" */
        "00000002 61620000",            /* "ab" */
        "00000003 61626300",            /* "abc" */
        "00000004 61626364",            /* "abcd" */
        "00000005 61626364 65000000",   /* "abcde" */
    };
    static const char *const text[6] = { "", "a", "ab", "abc", "abcd", "abcde" };
    for (unsigned len = 0; len <= 5; len++) {
        str5 s = (char *)text[len];
        ENCODE(str5, &s, hex[len]);
        anystr a = (char *)text[len];
        ENCODE(anystr, &a, hex[len]);
        ROUNDTRIP(str5, hex[len]);

        virtwire_arena arena = VIRTWIRE_ARENA_INIT;
        str5 d;
        DECODE(str5, hex[len], &arena, &d);
        CHECK_STR(d, text[len]);
        virtwire_arena_fini(&arena);
    }
    CHECK_INT(str5_MAX_SIZE, 12);
    CHECK_INT(str5_desc.min_size, 4);
    str5 six = "abcdef";
    ENCODE_FAILS(str5, &six, VIRTWIRE_ETOOLONG);
    DECODE_FAILS(str5, "00000006 61626364 65660000", VIRTWIRE_ETOOLONG);
}

static void test_message(void)
{
    message m;
    char data[3] = { 1, 2, 3 };
    m.name = "node1";
    m.data.data_len = 3;
    m.data.data_val = data;
    m.tail = -1;
    static const char hex[] =
        "00000005 6e6f6465 31000000" /* name "node1": 5 bytes + 3 padding */
        "| 00000003 01020300"        /* data: 3 bytes + 1 padding */
        "| ffffffff";                /* tail */
    ENCODE(message, &m, hex);
    CHECK_INT(message_size(&m), 24);
    CHECK_INT(message_desc.min_size, 12);
    ROUNDTRIP(message, hex);

    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    message d;
    DECODE(message, hex, &arena, &d);
    CHECK_STR(d.name, "node1");
    CHECK_INT(d.data.data_len, 3);
    CHECK(memcmp(d.data.data_val, data, 3) == 0);
    CHECK_INT(d.tail, -1);
    virtwire_arena_fini(&arena);
}

int main(void)
{
    test_fixed();
    test_var_opaque();
    test_strings();
    test_message();
    return vt_finish("opaque_string");
}
