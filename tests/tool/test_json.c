/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The generated JSON conversion (virtwire-gen --json, used by the virtwire
 * tool):
 *
 *   - round trip of every type of the nine modules: random valid values
 *     (the differential test's fill functions, full-length ones included)
 *     go value -> JSON text -> value and must encode to the same bytes, and
 *     give the same JSON text again;
 *   - the documented mapping on chosen values (64-bit integers, NaN, hex
 *     opaque, char arrays, enums, unions, strings that are not UTF-8);
 *   - what from_json rejects, with the path of the value at fault.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvirt_protocols_json.h"
#include "remote_protocol_json.h"
#include "vw_fill.h"

#include "json_tlib.h"

#define SEEDS 8u
#define FULL_EVERY 4u /* seeds 1 and 5 make full values */
/* Wire bytes per value: full values of the largest types are cut to this
 * (vw_fill.h), which keeps the test fast. */
#define BUDGET ((size_t)16 << 10)

static unsigned char *encode(const virtwire_type *t, const void *v, size_t *n)
{
    *n = t->encoded_size(v);
    unsigned char *b = malloc(*n ? *n : 1);
    size_t len = 0;
    if (!b || virtwire_encode(t, v, b, *n, &len) < 0 || len != *n) {
        free(b);
        return NULL;
    }
    return b;
}

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(j);
    return s;
}

/* Value -> JSON text -> value, for one type and seed. */
static void roundtrip(const vw_fill_entry *e, const virtwire_json_type *jt, unsigned seed,
                      size_t *values)
{
    virtwire_arena fa = VIRTWIRE_ARENA_INIT, ja = VIRTWIRE_ARENA_INIT;
    const virtwire_type *t = e->desc;
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = e->name; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    vw_rng r;
    vw_rng_seed(&r, h ^ seed, seed % FULL_EVERY == 1, seed / FULL_EVERY);
    r.budget = BUDGET;
    void *v = calloc(1, t->size), *v2 = calloc(1, t->size);
    e->fill(&r, &fa, v);
    size_t n1 = 0, n2 = 0;
    unsigned char *b1 = encode(t, v, &n1), *b2 = NULL;
    char *text1 = dump(jt->to_json(v)), *text2 = NULL;
    CHECK_MSG(b1 && text1, "%s seed %u: encode or to_json failed", e->name, seed);
    if (b1 && text1) {
        json_error_t err;
        json_t *j = json_loads(text1, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        CHECK_MSG(j, "%s seed %u: jansson cannot read what it wrote: %s", e->name, seed, err.text);
        virtwire_json_ctx ctx = { .arena = &ja };
        int rc = j ? jt->from_json(j, v2, &ctx) : -1;
        json_decref(j);
        CHECK_MSG(rc == 0, "%s seed %u: from_json: %s\n  %.300s", e->name, seed,
                  virtwire_json_error(&ctx), text1);
        if (rc == 0) {
            b2 = encode(t, v2, &n2);
            text2 = dump(jt->to_json(v2));
            CHECK_MSG(b2 && n1 == n2 && memcmp(b1, b2, n1) == 0,
                      "%s seed %u: the value read back encodes differently\n  %.300s", e->name,
                      seed, text1);
            CHECK_MSG(text2 && strcmp(text1, text2) == 0,
                      "%s seed %u: JSON differs\n  %.300s\n  %.300s", e->name, seed, text1,
                      text2 ? text2 : "(null)");
        }
    }
    (*values)++;
    free(b1);
    free(b2);
    free(text1);
    free(text2);
    free(v);
    free(v2);
    virtwire_arena_fini(&fa);
    virtwire_arena_fini(&ja);
}

static void all_types(void)
{
    size_t types = 0, values = 0;
    /* Both lists follow the generator's module table. */
    CHECK_MSG(vw_fill_module_count == virtwire_libvirt_njson_modules, "%zu fill tables, %zu modules",
              vw_fill_module_count, virtwire_libvirt_njson_modules);
    for (size_t m = 0; m < virtwire_libvirt_njson_modules && m < vw_fill_module_count; m++) {
        const virtwire_json_module *json = virtwire_libvirt_json_modules[m];
        const vw_fill_module *fill = &vw_fill_modules[m];
        CHECK_MSG(strcmp(json->protocol->name, fill->name) == 0,
                  "module %zu: %s, fill table of %s", m, json->protocol->name, fill->name);
        CHECK_MSG(json->ntypes == *fill->count, "%s: %zu converters for %zu types",
                  json->protocol->name, json->ntypes, *fill->count);
        for (size_t i = 0; i < *fill->count; i++) {
            const vw_fill_entry *e = &fill->table[i];
            const virtwire_json_type *jt = virtwire_json_find(json, e->desc);
            CHECK_MSG(jt, "%s: no JSON converter", e->name);
            if (!jt)
                continue;
            types++;
            for (unsigned s = 0; s < SEEDS; s++)
                roundtrip(e, jt, s, &values);
        }
    }
    printf("round trip: %zu types, %zu values\n", types, values);
    CHECK_MSG(types > 700, "only %zu types", types);
}

/* ------------------------------------------------------------------------ */

static void expect_json(const char *what, json_t *j, const char *want)
{
    char *got = dump(j);
    CHECK_MSG(got && strcmp(got, want) == 0, "%s: got %s, want %s", what, got ? got : "(null)",
              want);
    free(got);
}

/* from_json of text into type jt's value v; returns 0 or -1 with the error
 * message in msg. */
static int parse(const virtwire_json_type *jt, const char *text, void *v, virtwire_arena *a,
                 char *msg, size_t n)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!j) {
        snprintf(msg, n, "bad JSON: %s", err.text);
        return -1;
    }
    memset(v, 0, jt->type->size);
    virtwire_json_ctx ctx = { .arena = a };
    int rc = jt->from_json(j, v, &ctx);
    json_decref(j);
    snprintf(msg, n, "%s", rc < 0 ? virtwire_json_error(&ctx) : "");
    return rc;
}

static void expect_error(const virtwire_json_type *jt, const char *text, const char *want)
{
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    void *v = calloc(1, jt->type->size);
    char msg[600];
    int rc = parse(jt, text, v, &a, msg, sizeof(msg));
    CHECK_MSG(rc < 0 && strstr(msg, want),
              "%s from %s: want an error with \"%s\", got rc %d \"%s\"", jt->type->name, text,
              want, rc, msg);
    free(v);
    virtwire_arena_fini(&a);
}

static void mapping(void)
{
    const virtwire_json_module *rm = &remote_protocol_json;
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    char msg[600];

    /* Typed parameters: a union with int discriminant; 64-bit values. */
    remote_typed_param_value tp = { .type = 4 };
    tp.remote_typed_param_value_u.ul = UINT64_MAX;
    expect_json("unsigned hyper above INT64_MAX", remote_typed_param_value_to_json(&tp),
                "{\"type\":4,\"ul\":\"18446744073709551615\"}");
    tp.remote_typed_param_value_u.ul = 5;
    expect_json("small unsigned hyper", remote_typed_param_value_to_json(&tp),
                "{\"type\":4,\"ul\":5}");
    tp.type = 3;
    tp.remote_typed_param_value_u.l = INT64_MIN;
    expect_json("hyper", remote_typed_param_value_to_json(&tp),
                "{\"type\":3,\"l\":-9223372036854775808}");
    tp.type = 5;
    tp.remote_typed_param_value_u.d = NAN;
    expect_json("NaN", remote_typed_param_value_to_json(&tp), "{\"type\":5,\"d\":\"nan\"}");
    tp.remote_typed_param_value_u.d = -INFINITY;
    expect_json("-inf", remote_typed_param_value_to_json(&tp), "{\"type\":5,\"d\":\"-inf\"}");
    tp.remote_typed_param_value_u.d = 0.5;
    expect_json("double", remote_typed_param_value_to_json(&tp), "{\"type\":5,\"d\":0.5}");
    tp.type = 2;
    tp.remote_typed_param_value_u.ui = 4000000000u;
    expect_json("unsigned int", remote_typed_param_value_to_json(&tp),
                "{\"type\":2,\"ui\":4000000000}");

    const virtwire_json_type *tpj = find(rm, &remote_typed_param_value_desc);
    remote_typed_param_value tv;
    CHECK_MSG(parse(tpj, "{\"type\":4,\"ul\":\"18446744073709551615\"}", &tv, &a, msg,
                    sizeof(msg)) == 0 &&
              tv.remote_typed_param_value_u.ul == UINT64_MAX, "uhyper from a string: %s", msg);
    CHECK_MSG(parse(tpj, "{\"type\":3,\"l\":\"-12\"}", &tv, &a, msg, sizeof(msg)) == 0 &&
              tv.remote_typed_param_value_u.l == -12, "hyper from a string: %s", msg);
    CHECK_MSG(parse(tpj, "{\"type\":5,\"d\":\"inf\"}", &tv, &a, msg, sizeof(msg)) == 0 &&
              isinf(tv.remote_typed_param_value_u.d), "inf: %s", msg);
    CHECK_MSG(parse(tpj, "{\"type\":6}", &tv, &a, msg, sizeof(msg)) == 0 &&
              tv.remote_typed_param_value_u.b == 0, "arm left out: %s", msg);
    expect_error(tpj, "{\"i\":1}", "discriminant 'type'");
    expect_error(tpj, "{\"type\":1,\"s\":\"x\"}", "unknown member 's'");
    expect_error(tpj, "{\"type\":9}", "type: no arm of union remote_typed_param_value");
    expect_error(tpj, "{\"type\":1,\"i\":2147483648}", "i: 2147483648 is out of range for int");
    expect_error(tpj, "{\"type\":2,\"ui\":-1}", "ui: -1 is out of range for unsigned int");
    expect_error(tpj, "{\"type\":4,\"ul\":\"-1\"}", "ul: '-1' is not a decimal number");

    /* UUIDs as libvirt shows them; read with or without dashes. */
    remote_nonnull_domain dom = { .name = (char *)"test", .id = 7 };
    for (int i = 0; i < 16; i++)
        dom.uuid[i] = (char)(0xa0 + i);
    expect_json("domain", remote_nonnull_domain_to_json(&dom),
                "{\"name\":\"test\",\"uuid\":\"a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf\",\"id\":7}");
    const virtwire_json_type *dj = find(rm, &remote_nonnull_domain_desc);
    remote_nonnull_domain d2;
    CHECK_MSG(parse(dj, "{\"name\":\"x\",\"uuid\":\"A0A1A2A3-A4A5-A6A7-A8A9-AAABACADAEAF\"}",
                    &d2, &a, msg, sizeof(msg)) == 0 &&
                  memcmp(d2.uuid, dom.uuid, 16) == 0 && d2.id == 0,
              "uuid with dashes: %s", msg);
    CHECK_MSG(parse(dj, "{}", &d2, &a, msg, sizeof(msg)) == 0 && strcmp(d2.name, "") == 0,
              "members left out: %s", msg);
    expect_error(dj, "{\"uuid\":\"a0a1\"}", "uuid: expected 16 bytes of hex, got 2");
    expect_error(dj, "{\"uuid\":\"a0a\"}", "uuid: odd number of hex digits");
    expect_error(dj, "[1]", "expected an object (remote_nonnull_domain), got an array");

    /* Strings that are not UTF-8 text: their bytes in hex. */
    dom.name = (char *)"a\xff";
    expect_json("not UTF-8", remote_nonnull_domain_to_json(&dom),
                "{\"name\":{\"hex\":\"61ff\"},"
                "\"uuid\":\"a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf\",\"id\":7}");
    CHECK_MSG(parse(dj, "{\"name\":{\"hex\":\"61ff\"}}", &d2, &a, msg, sizeof(msg)) == 0 &&
              strcmp(d2.name, "a\xff") == 0, "string from hex: %s", msg);
    expect_error(dj, "{\"name\":\"a\\u0000b\"}", "name: string contains a NUL character");

    /* char arrays: text when they are text, else integers. */
    remote_node_get_info_ret ni;
    memset(&ni, 0, sizeof(ni));
    strcpy(ni.model, "x86_64");
    ni.memory = UINT64_MAX;
    expect_json("char model[32]", remote_node_get_info_ret_to_json(&ni),
                "{\"model\":\"x86_64\",\"memory\":\"18446744073709551615\",\"cpus\":0,\"mhz\":0,"
                "\"nodes\":0,\"sockets\":0,\"cores\":0,\"threads\":0}");
    const virtwire_json_type *nij = find(rm, &remote_node_get_info_ret_desc);
    remote_node_get_info_ret n2;
    CHECK_MSG(parse(nij, "{\"model\":[104,105]}", &n2, &a, msg, sizeof(msg)) < 0,
              "a char array of integers must have the array's length");
    CHECK_MSG(parse(nij, "{\"model\":\"hi\"}", &n2, &a, msg, sizeof(msg)) == 0 &&
              memcmp(n2.model, "hi\0\0", 4) == 0, "char array from text: %s", msg);
    ni.model[0] = (char)0xff;
    char *text = dump(remote_node_get_info_ret_to_json(&ni));
    CHECK_MSG(text && strstr(text, "\"model\":[-1,56,54,95,54,52,0,"), "char array not text: %s",
              text);
    free(text);
    expect_error(nij, "{\"model\":\"0123456789012345678901234567890123\"}",
                 "model: 34 bytes, more than the 32 the array holds");

    /* Enums: by name (any case) or number; out of the enum is refused. */
    remote_auth_list_ret al;
    remote_auth_type types[2] = { REMOTE_AUTH_NONE, REMOTE_AUTH_POLKIT };
    al.types.types_len = 2;
    al.types.types_val = types;
    expect_json("enum array", remote_auth_list_ret_to_json(&al),
                "{\"types\":[\"REMOTE_AUTH_NONE\",\"REMOTE_AUTH_POLKIT\"]}");
    const virtwire_json_type *alj = find(rm, &remote_auth_list_ret_desc);
    CHECK_MSG(parse(alj, "{\"types\":[\"remote_auth_sasl\",2]}", &al, &a, msg, sizeof(msg)) == 0 &&
              al.types.types_len == 2 && al.types.types_val[0] == REMOTE_AUTH_SASL &&
              al.types.types_val[1] == REMOTE_AUTH_POLKIT, "enum by name or number: %s", msg);
    expect_error(alj, "{\"types\":[0,7]}", "types[1]: 7 is not a value of remote_auth_type");
    expect_error(alj, "{\"types\":[\"REMOTE_AUTH_NOPE\"]}",
                 "types[0]: 'REMOTE_AUTH_NOPE' is not a member");

    /* Optional data: null or the value. */
    remote_domain_screenshot_ret sr = { .mime = NULL };
    expect_json("null string", remote_domain_screenshot_ret_to_json(&sr), "{\"mime\":null}");
    char *mime = (char *)"image/png";
    sr.mime = &mime;
    expect_json("optional string", remote_domain_screenshot_ret_to_json(&sr),
                "{\"mime\":\"image/png\"}");

    /* Arrays over their bound; paths through arrays and unions. */
    const virtwire_json_type *pin = find(rm, &remote_domain_pin_vcpu_args_desc);
    size_t big = REMOTE_CPUMAP_MAX + 1;
    char *hex = malloc(big * 2 + 40);
    strcpy(hex, "{\"cpumap\":\"");
    for (size_t i = 0; i < big; i++)
        strcat(hex + strlen(hex), "00");
    strcat(hex, "\"}");
    expect_error(pin, hex, "cpumap: 2049 bytes, more than the limit of 2048");
    free(hex);
    const virtwire_json_type *sp = find(rm, &remote_domain_set_scheduler_parameters_args_desc);
    expect_error(sp, "{\"params\":[{\"field\":\"a\",\"value\":{\"type\":1}},"
                     "{\"field\":\"b\",\"value\":{\"type\":7,\"s\":3}}]}",
                 "params[1].value.s: expected a string, got an integer");
    expect_error(sp, "{\"params\":{}}", "params: expected an array, got an object");
    virtwire_arena_fini(&a);
}

int main(void)
{
    mapping();
    all_types();
    return vt_finish("tool.json");
}
