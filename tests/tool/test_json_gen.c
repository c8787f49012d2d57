/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire-gen --json on the generator's own test protocols, for what
 * libvirt's .x files lack: linked lists and trees, unions switched on bool,
 * unsigned int and typedef'd enums with default and void arms, every
 * primitive kind in arrays.  Each value is checked against the JSON written
 * out by hand, then read back and encoded again to the same bytes.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "primitives_json.h"
#include "recursive_json.h"
#include "unions_json.h"

#include "json_tlib.h"

/* v as JSON must be want; want read back must encode like v. */
static void check(const virtwire_json_module *m, const virtwire_type *t, const void *v,
                  const char *want)
{
    const virtwire_json_type *jt = find(m, t);
    json_t *j = jt->to_json(v);
    char *got = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(j);
    CHECK_MSG(got && strcmp(got, want) == 0, "%s: got %s\n  want %s", t->name, got ? got : "(null)",
              want);
    free(got);

    unsigned char b1[4096], b2[4096];
    size_t n1 = 0, n2 = 0;
    CHECK_MSG(virtwire_encode(t, v, b1, sizeof(b1), &n1) == 0, "%s: encode", t->name);
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    void *back = calloc(1, t->size);
    json_error_t err;
    j = json_loads(want, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    virtwire_json_ctx ctx = { .arena = &a };
    int rc = j ? jt->from_json(j, back, &ctx) : -1;
    json_decref(j);
    CHECK_MSG(rc == 0, "%s: from_json(%s): %s", t->name, want, virtwire_json_error(&ctx));
    if (rc == 0) {
        CHECK_MSG(virtwire_encode(t, back, b2, sizeof(b2), &n2) == 0, "%s: encode back", t->name);
        CHECK_MSG(n1 == n2 && memcmp(b1, b2, n1) == 0, "%s: %s reads back to other bytes", t->name,
                  want);
    }
    free(back);
    virtwire_arena_fini(&a);
}

static void refuse(const virtwire_json_module *m, const virtwire_type *t, const char *text,
                   const char *want)
{
    const virtwire_json_type *jt = find(m, t);
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    void *v = calloc(1, t->size);
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
    virtwire_json_ctx ctx = { .arena = &a };
    int rc = jt->from_json(j, v, &ctx);
    json_decref(j);
    CHECK_MSG(rc < 0 && strstr(virtwire_json_error(&ctx), want), "%s from %s: want \"%s\", got %s",
              t->name, text, want, rc < 0 ? virtwire_json_error(&ctx) : "success");
    free(v);
    virtwire_arena_fini(&a);
}

static void check_unions(void)
{
    const virtwire_json_module *m = &unions_json;
    shape s = { .kind = SHAPE_RECT };
    s.shape_u.r = (rect){ 3, -4 };
    check(m, &shape_desc, &s, "{\"kind\":\"SHAPE_RECT\",\"r\":{\"w\":3,\"h\":-4}}");
    s.kind = SHAPE_NONE;
    check(m, &shape_desc, &s, "{\"kind\":\"SHAPE_NONE\"}");
    s.kind = SHAPE_ODD;
    s.shape_u.text = (char *)"odd";
    check(m, &shape_desc, &s, "{\"kind\":\"SHAPE_ODD\",\"text\":\"odd\"}");
    refuse(m, &shape_desc, "{\"kind\":\"SHAPE_UNUSED\"}", "kind: no arm of union shape");
    refuse(m, &shape_desc, "{\"kind\":\"SHAPE_TEXT\",\"text\":\"123456789\"}",
           "text: string of 9 bytes, longer than its limit of 8");
    refuse(m, &shape_desc, "{\"kind\":\"SHAPE_NONE\",\"radius\":1}", "unknown member 'radius'");

    by_uint u = { .code = 0xFFFFFFFFu };
    u.by_uint_u.big = -1;
    check(m, &by_uint_desc, &u, "{\"code\":4294967295,\"big\":-1}");
    u.code = 5;
    u.by_uint_u.other = -3;
    check(m, &by_uint_desc, &u, "{\"code\":5,\"other\":-3}");

    maybe_int mi = { .present = 1 };
    mi.maybe_int_u.value = 9;
    check(m, &maybe_int_desc, &mi, "{\"present\":true,\"value\":9}");
    mi.present = 0;
    check(m, &maybe_int_desc, &mi, "{\"present\":false}");

    by_int bi = { .n = NEG_CASE };
    memcpy(bi.by_int_u.raw, "\x0a\x0b\xff", 3);
    check(m, &by_int_desc, &bi, "{\"n\":-2,\"raw\":\"0a0bff\"}");
    bi.n = 100;
    check(m, &by_int_desc, &bi, "{\"n\":100}");

    via_alias va = { .k = SHAPE_RECT };
    va.via_alias_u.r = (rect){ 1, 2 };
    check(m, &via_alias_desc, &va, "{\"k\":\"SHAPE_RECT\",\"r\":{\"w\":1,\"h\":2}}");

    holder h = { .first = { .kind = SHAPE_CIRCLE }, .second = { .present = 0 } };
    h.first.shape_u.radius = 7;
    check(m, &holder_desc, &h,
          "{\"first\":{\"kind\":\"SHAPE_CIRCLE\",\"radius\":7},\"second\":{\"present\":false}}");
    refuse(m, &holder_desc, "{\"second\":{\"present\":false}}",
           "first: expected an object with the discriminant 'kind'");
}

static void check_primitives(void)
{
    const virtwire_json_module *m = &primitives_json;
    prims p = { .i = -1, .u = 4294967295u, .bare = 7, .h = -5, .uh = 18446744073709551615ull,
                .f = 1.5f, .dbl = -0.25, .b = 1, .c = -128, .uc = 255, .s = -32768,
                .us = 65535, .l = 3, .ul = 4 };
    check(m, &prims_desc, &p,
          "{\"i\":-1,\"u\":4294967295,\"bare\":7,\"h\":-5,\"uh\":\"18446744073709551615\","
          "\"f\":1.5,\"dbl\":-0.25,\"b\":true,\"c\":-128,\"uc\":255,\"s\":-32768,\"us\":65535,"
          "\"l\":3,\"ul\":4}");
    refuse(m, &prims_desc, "{\"c\":128}", "c: 128 is out of range for char");
    refuse(m, &prims_desc, "{\"us\":65536}", "us: 65536 is out of range for unsigned short");
    refuse(m, &prims_desc, "{\"b\":2}", "b: expected true or false");

    unsigned char ucv[3] = { 1, 2, 3 };
    char label[3] = { 'h', 'i', 0 };
    small_arrays sa = { .model = { 'a', 'b', 0, 0 }, .sfix = { 1, -2 } };
    sa.ucvar.ucvar_len = 3;
    sa.ucvar.ucvar_val = ucv;
    sa.label.label_len = 3;
    sa.label.label_val = label;
    check(m, &small_arrays_desc, &sa,
          "{\"model\":\"ab\",\"sfix\":[1,-2],\"ucvar\":[1,2,3],\"usvar\":[],"
          "\"label\":\"hi\\u0000\"}");
    refuse(m, &small_arrays_desc, "{\"sfix\":[1]}", "sfix: expected an array of 2 elements, got 1");
    refuse(m, &small_arrays_desc, "{\"ucvar\":[1,2,3,4]}",
           "ucvar: 4 elements, more than the limit of 3");
    refuse(m, &small_arrays_desc, "{\"ucvar\":[1,256]}", "ucvar[1]: 256 is out of range");

    int64_t hf[2] = { 1, -1 };
    double dv[2] = { 0.5, 2 };
    int flags[2] = { 1, 0 };
    wide_arrays w = { .hfix = { hf[0], hf[1] }, .ffix = { 0.125f } };
    w.dvar.dvar_len = 2;
    w.dvar.dvar_val = dv;
    w.flags.flags_len = 2;
    w.flags.flags_val = flags;
    check(m, &wide_arrays_desc, &w,
          "{\"hfix\":[1,-1],\"dvar\":[0.5,2.0],\"flags\":[true,false],\"ffix\":[0.125]}");
}

static void check_recursive(void)
{
    const virtwire_json_module *m = &recursive_json;
    node n3 = { 3, NULL }, n2 = { 2, &n3 }, n1 = { 1, &n2 };
    check(m, &node_desc, &n1,
          "{\"value\":1,\"next\":{\"value\":2,\"next\":{\"value\":3,\"next\":null}}}");
    list l = &n1;
    check(m, &list_desc, &l,
          "{\"value\":1,\"next\":{\"value\":2,\"next\":{\"value\":3,\"next\":null}}}");
    list empty = NULL;
    check(m, &list_desc, &empty, "null");

    tree leaves[2] = { { 2, { 0, NULL } }, { 3, { 0, NULL } } };
    tree mid = { 1, { 2, leaves } };
    tree root = { 0, { 1, &mid } };
    check(m, &tree_desc, &root,
          "{\"value\":0,\"children\":[{\"value\":1,\"children\":[{\"value\":2,\"children\":[]},"
          "{\"value\":3,\"children\":[]}]}]}");
    refuse(m, &tree_desc, "{\"children\":[{\"children\":[{\"value\":\"x\"}]}]}",
           "children[0].children[0].value: expected an integer");
}

int main(void)
{
    check_unions();
    check_primitives();
    check_recursive();
    return vt_finish("tool.json_gen");
}
