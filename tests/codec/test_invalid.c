/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Values that break a rule of the protocol, on decode and on encode: bounds
 * (bound + 1 fails with ETOOLONG, the bound itself works), undeclared enum
 * values and bools and optional flags other than 0/1 (taken as libtirpc
 * takes them, refused by a strict decoder), union discriminants without an
 * arm, char and short values out of range, non-zero padding, NULL where
 * data is required, and encode buffers that are too small.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "admin_protocol.h"
#include "harness.h"
#include "lock_protocol.h"
#include "remote_protocol.h"
#include "samples.h"
#include "virnetprotocol.h"
#include "vt_frame.h" /* vt_put32: big-endian words, independent of the runtime */

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

/* Decodes len bytes as t in arena mode and in heap mode (virtwire_decode
 * frees on error; on success the value is freed here); both must give want. */
static void decode_both_flags(const virtwire_type *t, const unsigned char *buf, size_t len,
                              unsigned flags, int want)
{
    unsigned char *in = vwt_dup(buf, len);
    void *v = xcalloc(1, t->size);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    CHECK_RC(virtwire_decode_flags(t, in, len, &arena, flags, v), want);
    virtwire_arena_fini(&arena);
    memset(v, 0, t->size);
    CHECK_RC(virtwire_decode_flags(t, in, len, NULL, flags, v), want);
    if (want == 0)
        t->free(v);
    free(v);
    free(in);
}

static void decode_both(const virtwire_type *t, const unsigned char *buf, size_t len, int want)
{
    decode_both_flags(t, buf, len, 0, want);
}

/* What only a strict decoder refuses: the default one takes it (as libtirpc
 * does), with the result default_rc. */
static void decode_strict(const virtwire_type *t, const unsigned char *buf, size_t len,
                          unsigned flags, int strict_rc, int default_rc)
{
    decode_both_flags(t, buf, len, flags, strict_rc);
    decode_both_flags(t, buf, len, VIRTWIRE_DEC_STRICT, strict_rc);
    decode_both(t, buf, len, default_rc);
}

/* Encodes v as t into a buffer of cap bytes; returns the code, *out gets a
 * heap copy of what was written (caller frees). */
static int encode_to(const virtwire_type *t, const void *v, size_t cap, unsigned char **out,
                     size_t *len)
{
    unsigned char *buf = xcalloc(1, cap);
    *len = 0;
    int rc = virtwire_encode(t, v, buf, cap, len);
    *out = buf;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Bounds                                                                   */

/* remote_auth_list_ret { remote_auth_type types<REMOTE_AUTH_TYPE_LIST_MAX = 20>; }
 * n types: count word, then n enum words (i % 3: NONE, SASL, POLKIT). */
static size_t auth_list_wire(unsigned char *p, uint32_t n)
{
    unsigned char *q = vt_put32(p, n);
    for (uint32_t i = 0; i < n; i++)
        q = vt_put32(q, i % 3);
    return (size_t)(q - p);
}

static void test_bound_enum_array(void)
{
    unsigned char buf[4 + 21 * 4], *out;
    size_t len;

    CHECK_INT(REMOTE_AUTH_TYPE_LIST_MAX, 20);
    vt_context("auth_list_ret decode 21 types");
    decode_both(&remote_auth_list_ret_desc, buf, auth_list_wire(buf, 21), VIRTWIRE_ETOOLONG);
    vt_context("auth_list_ret decode 20 types");
    decode_both(&remote_auth_list_ret_desc, buf, auth_list_wire(buf, 20), 0);

    remote_auth_type types[21];
    for (int i = 0; i < 21; i++)
        types[i] = (remote_auth_type)(i % 3);
    remote_auth_list_ret v = { { 21, types } };
    vt_context("auth_list_ret encode 21 types");
    CHECK_RC(encode_to(&remote_auth_list_ret_desc, &v, 1024, &out, &len), VIRTWIRE_ETOOLONG);
    free(out);
    vt_context("auth_list_ret encode 20 types");
    v.types.types_len = 20;
    CHECK_RC(encode_to(&remote_auth_list_ret_desc, &v, 1024, &out, &len), 0);
    CHECK_MEM(out, len, buf, auth_list_wire(buf, 20));
    free(out);
}

/* admin_server_get_threadpool_parameters_ret
 *   { admin_typed_param params<ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX = 32>; }
 * each param "p" = UINT i: W(1) 'p' 0 0 0, W(2), W(i): 16 bytes. */
static size_t threadpool_wire(unsigned char *p, uint32_t n)
{
    unsigned char *q = vt_put32(p, n);
    for (uint32_t i = 0; i < n; i++) {
        q = vt_put32(q, 1);
        memcpy(q, "p\0\0\0", 4);
        q = vt_put32(q + 4, 2);
        q = vt_put32(q, i);
    }
    return (size_t)(q - p);
}

/* A counted array at its bound: wire(buf, n) encodes v with n elements
 * (buf holds cap bytes), *count is v's count.  bound + 1 fails to decode
 * and to encode, the bound itself works both ways.  unit: what the
 * context says after the numbers. */
static void check_bound(const char *what, const char *unit, const virtwire_type *t,
                        unsigned char *buf, size_t cap, size_t (*wire)(unsigned char *, uint32_t),
                        uint32_t bound, void *v, unsigned *count)
{
    unsigned char *out;
    size_t len;
    vt_context("%s decode %u%s", what, bound + 1, unit);
    decode_both(t, buf, wire(buf, bound + 1), VIRTWIRE_ETOOLONG);
    vt_context("%s decode %u%s", what, bound, unit);
    decode_both(t, buf, wire(buf, bound), 0);
    vt_context("%s encode %u%s", what, bound + 1, unit);
    *count = bound + 1;
    CHECK_RC(encode_to(t, v, cap + 64, &out, &len), VIRTWIRE_ETOOLONG);
    free(out);
    vt_context("%s encode %u%s", what, bound, unit);
    *count = bound;
    CHECK_RC(encode_to(t, v, cap + 64, &out, &len), 0);
    CHECK_MEM(out, len, buf, wire(buf, bound));
    free(out);
}

static void test_bound_struct_array(void)
{
    unsigned char buf[4 + 33 * 16];
    const virtwire_type *t = &admin_server_get_threadpool_parameters_ret_desc;

    CHECK_INT(ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX, 32);

    static char p[] = "p";
    admin_typed_param params[33];
    for (unsigned i = 0; i < 33; i++) {
        params[i].field = p;
        params[i].value.type = 2;
        params[i].value.admin_typed_param_value_u.ui = i;
    }
    admin_server_get_threadpool_parameters_ret v = { { 33, params } };
    check_bound("threadpool params", "", t, buf, sizeof buf, threadpool_wire, 32, &v,
                &v.params.params_len);
}

/* remote_domain_get_security_label_ret { char label<4097>; int enforcing; }
 * n chars 'a': count, n words 0x61, enforcing 0. */
static size_t label_wire(unsigned char *p, uint32_t n)
{
    unsigned char *q = vt_put32(p, n);
    for (uint32_t i = 0; i < n; i++)
        q = vt_put32(q, 'a');
    return (size_t)(vt_put32(q, 0) - p);
}

static void test_bound_char_array(void)
{
    size_t cap = 4 + 4098 * 4 + 4;
    unsigned char *buf = xcalloc(1, cap);
    const virtwire_type *t = &remote_domain_get_security_label_ret_desc;

    CHECK_INT(REMOTE_SECURITY_LABEL_MAX, 4097);

    char *label = xcalloc(1, 4098);
    memset(label, 'a', 4098);
    remote_domain_get_security_label_ret v = { { 4098, label }, 0 };
    check_bound("security label", " chars", t, buf, cap, label_wire, 4097, &v, &v.label.label_len);
    free(label);
    free(buf);
}

/* remote_domain_pin_vcpu_args { remote_nonnull_domain dom; unsigned vcpu;
 * opaque cpumap<REMOTE_CPUMAP_MAX = 2048>; } with dom {"vm1", A, 3},
 * vcpu 1 and n bytes 0x5a (then padding). */
static size_t pin_wire(unsigned char *p, uint32_t n)
{
    static const unsigned char head[] = { W(3), 'v', 'm', '1', 0, UUID_A, W(3), W(1) };
    memcpy(p, head, sizeof(head));
    unsigned char *q = vt_put32(p + sizeof(head), n);
    memset(q, 0x5a, n);
    q += n;
    while (n++ % 4)
        *q++ = 0;
    return (size_t)(q - p);
}

static void test_bound_opaque(void)
{
    unsigned char buf[40 + 2052];
    const virtwire_type *t = &remote_domain_pin_vcpu_args_desc;

    CHECK_INT(REMOTE_CPUMAP_MAX, 2048);

    static char vm1[] = "vm1";
    char cpumap[2049];
    memset(cpumap, 0x5a, sizeof(cpumap));
    remote_domain_pin_vcpu_args v = { { vm1, { UUID_A }, 3 }, 1, { 2049, cpumap } };
    check_bound("cpumap", " bytes", t, buf, sizeof buf, pin_wire, 2048, &v, &v.cpumap.cpumap_len);
}

/* A string of n 'x' then padding, as XDR string<>; then `tail` bytes of
 * zeros (the flags word of virLockSpaceProtocolNewArgs). */
static size_t string_wire(unsigned char *p, uint32_t n, size_t tail)
{
    unsigned char *q = vt_put32(p, n);
    memset(q, 'x', n);
    q += n;
    while (n++ % 4)
        *q++ = 0;
    memset(q, 0, tail);
    return (size_t)(q + tail - p);
}

/* Checks one string type at its bound: bound + 1 fails on decode and encode,
 * the bound itself works.  tail: the bytes after the string (0 or 4). */
static void check_string_bound(const virtwire_type *t, uint32_t bound, size_t tail,
                               void (*set)(void *v, char *s))
{
    size_t cap = 4 + (size_t)bound + 4 + tail;
    unsigned char *buf = xcalloc(1, cap), *out;
    size_t len;

    vt_context("%s decode bound + 1 = %u", t->name, bound + 1);
    decode_both(t, buf, string_wire(buf, bound + 1, tail), VIRTWIRE_ETOOLONG);
    /* the length word alone: the bound is checked before the bytes left */
    decode_both(t, buf, 4, VIRTWIRE_ETOOLONG);
    vt_context("%s decode bound = %u", t->name, bound);
    decode_both(t, buf, string_wire(buf, bound, tail), 0);

    char *s = xcalloc(1, (size_t)bound + 2);
    memset(s, 'x', (size_t)bound + 1);
    void *v = xcalloc(1, t->size);
    set(v, s);
    vt_context("%s encode bound + 1", t->name);
    CHECK_RC(encode_to(t, v, cap + 64, &out, &len), VIRTWIRE_ETOOLONG);
    free(out);
    vt_context("%s encode bound", t->name);
    s[bound] = '\0';
    CHECK_RC(encode_to(t, v, cap + 64, &out, &len), 0);
    CHECK_MEM(out, len, buf, string_wire(buf, bound, tail));
    free(out);
    free(v);
    free(s);
    free(buf);
}

static void set_lock_path(void *v, char *s)
{
    ((virLockSpaceProtocolNewArgs *)v)->path = s;
}

static void set_remote_string(void *v, char *s)
{
    *(remote_nonnull_string *)v = s;
}

static void test_bound_string(void)
{
    /* virLockSpaceProtocolNewArgs { string path<65536>; unsigned flags; } */
    CHECK_INT(VIR_LOCK_SPACE_PROTOCOL_STRING_MAX, 65536);
    check_string_bound(&virLockSpaceProtocolNewArgs_desc, 65536, 4, set_lock_path);
    /* remote_nonnull_string: string<REMOTE_STRING_MAX = 4194304> */
    CHECK_INT(REMOTE_STRING_MAX, 4194304);
    check_string_bound(&remote_nonnull_string_desc, 4194304, 0, set_remote_string);
}

/* ------------------------------------------------------------------------ */
/* Enums                                                                    */

static void test_enums(void)
{
    /* virNetMessageHeader: prog, vers, proc, type, serial, status.  Any
     * enum value decodes by default (the transport refuses the types libvirt
     * does not define: tests/transport); a strict decoder refuses them. */
    static const uint32_t bad_types[] = { 7, 0xffffffffu, 0x80000000u };
    unsigned char h[24];
    for (size_t i = 0; i < 3; i++) {
        vt_context("header type 0x%x", bad_types[i]);
        vt_put32(vt_put32(vt_put32(vt_put32(vt_put32(vt_put32(h, 0x20008086), 1), 1), bad_types[i]), 2), 0);
        decode_strict(&virNetMessageHeader_desc, h, 24, VIRTWIRE_DEC_STRICT_ENUM, VIRTWIRE_EENUM,
                      0);
    }
    vt_context("header type 6 (STREAM_HOLE), status 2 (CONTINUE)");
    vt_put32(vt_put32(vt_put32(vt_put32(vt_put32(vt_put32(h, 0x20008086), 1), 1), 6), 2), 2);
    decode_both_flags(&virNetMessageHeader_desc, h, 24, VIRTWIRE_DEC_STRICT, 0);
    vt_context("header status 3");
    vt_put32(vt_put32(vt_put32(vt_put32(vt_put32(vt_put32(h, 0x20008086), 1), 1), 0), 2), 3);
    decode_strict(&virNetMessageHeader_desc, h, 24, VIRTWIRE_DEC_STRICT_ENUM, VIRTWIRE_EENUM, 0);
    vt_context("header status 3, strict about bools only");
    decode_both_flags(&virNetMessageHeader_desc, h, 24, VIRTWIRE_DEC_STRICT_BOOL, 0);

    /* The encoder writes any value, as libtirpc does. */
    unsigned char buf[64], *out;
    size_t len;
    virNetMessageHeader hdr = { 0x20008086, 1, 1, (virNetMessageType)7, 2, VIR_NET_OK };
    vt_context("encode header type 7");
    CHECK_RC(virtwire_encode(&virNetMessageHeader_desc, &hdr, buf, sizeof(buf), &len), 0);
    CHECK_INT(len, 24);
    CHECK_INT(virtwire_load_u32(buf + 12), 7);
    hdr.type = (virNetMessageType)-1;
    vt_context("encode header type -1");
    CHECK_RC(virtwire_encode(&virNetMessageHeader_desc, &hdr, buf, sizeof(buf), &len), 0);
    CHECK_INT(virtwire_load_u32(buf + 12), 0xffffffffu);
    hdr.type = VIR_NET_CALL;
    hdr.status = (virNetMessageStatus)3;
    vt_context("encode header status 3");
    CHECK_RC(virtwire_encode(&virNetMessageHeader_desc, &hdr, buf, sizeof(buf), &len), 0);
    CHECK_INT(virtwire_load_u32(buf + 20), 3);

    /* remote_auth_list_ret [NONE, 3]: strict heap mode frees the array */
    static const unsigned char auth[] = { W(2), W(0), W(3) };
    vt_context("auth_list_ret [0, 3]");
    decode_strict(&remote_auth_list_ret_desc, auth, sizeof(auth), VIRTWIRE_DEC_STRICT_ENUM,
                  VIRTWIRE_EENUM, 0);
    remote_auth_type types[] = { REMOTE_AUTH_NONE, (remote_auth_type)3 };
    remote_auth_list_ret a = { { 2, types } };
    CHECK_RC(encode_to(&remote_auth_list_ret_desc, &a, 64, &out, &len), 0);
    CHECK(len == sizeof(auth) && memcmp(out, auth, len) == 0);
    free(out);

    /* remote_procedure: 1..453 are declared */
    static const struct { uint32_t v; int rc; } procs[] = {
        { 0, VIRTWIRE_EENUM }, { 1, 0 }, { 453, 0 }, { 454, VIRTWIRE_EENUM },
        { 0xffffffffu, VIRTWIRE_EENUM },
    };
    for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
        vt_context("remote_procedure %u", procs[i].v);
        unsigned char w[4];
        vt_put32(w, procs[i].v);
        decode_strict(&remote_procedure_desc, w, 4, VIRTWIRE_DEC_STRICT_ENUM, procs[i].rc, 0);
    }
    admin_procedure ap = (admin_procedure)21;
    vt_context("encode admin_procedure 21");
    CHECK_RC(virtwire_encode(&admin_procedure_desc, &ap, buf, sizeof(buf), &len), 0);
    CHECK_INT(len, 4);
}

/* ------------------------------------------------------------------------ */
/* Unions                                                                   */

static void test_unions(void)
{
    static const uint32_t bad[] = { 0, 8, 0xffffffffu };
    unsigned char buf[64];
    size_t len;
    for (size_t i = 0; i < 3; i++) {
        vt_context("typed_param_value type %d", (int)bad[i]);
        unsigned char w[8];
        vt_put32(vt_put32(w, bad[i]), 0);
        decode_both(&remote_typed_param_value_desc, w, 8, VIRTWIRE_EUNION);
        decode_both(&admin_typed_param_value_desc, w, 8, VIRTWIRE_EUNION);

        remote_typed_param_value rv = { (int)bad[i], { .i = 0 } };
        CHECK_RC(virtwire_encode(&remote_typed_param_value_desc, &rv, buf, sizeof(buf), &len),
                 VIRTWIRE_EUNION);
        admin_typed_param_value av = { (int)bad[i], { .i = 0 } };
        CHECK_RC(virtwire_encode(&admin_typed_param_value_desc, &av, buf, sizeof(buf), &len),
                 VIRTWIRE_EUNION);
    }

    /* after a decoded field (heap mode must free it) */
    static const unsigned char tp[] = { W(5), 'f', 'i', 'e', 'l', 'd', 0, 0, 0, W(8), W(0) };
    vt_context("typed_param field then type 8");
    decode_both(&remote_typed_param_desc, tp, sizeof(tp), VIRTWIRE_EUNION);

    /* the second param of an array is bad: the first one's string is freed */
    static const unsigned char params[] = {
        W(2),
        W(1), 'a', 0, 0, 0, W(7), W(2), 'h', 'i', 0, 0, /* "a" = STRING "hi" */
        W(1), 'b', 0, 0, 0, W(0), W(0),                 /* "b", type 0 */
    };
    vt_context("scheduler params, second has type 0");
    decode_both(&remote_domain_get_scheduler_parameters_ret_desc, params, sizeof(params),
                VIRTWIRE_EUNION);
}

/* ------------------------------------------------------------------------ */
/* Bools and optional-data flags                                            */

static void test_bools(void)
{
    /* Any non-zero word is true, 1 in C, as libtirpc's xdr_bool() reads it;
     * a strict decoder wants 0 or 1. */
    static const struct { uint32_t v; int strict_rc; } cases[] = {
        { 0, 0 }, { 1, 0 }, { 2, VIRTWIRE_EBOOL }, { 0xffffffffu, VIRTWIRE_EBOOL },
        { 0x80000000u, VIRTWIRE_EBOOL }, { 0x100u, VIRTWIRE_EBOOL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char w[4];
        vt_put32(w, cases[i].v);
        vt_context("virtwire_get_bool 0x%x", cases[i].v);
        virtwire_dec d;
        virtwire_dec_init(&d, w, 4, NULL);
        int b = -1;
        CHECK_RC(virtwire_get_bool(&d, &b), 0);
        CHECK_INT(b, cases[i].v != 0);
        vt_context("virtwire_get_bool 0x%x, strict", cases[i].v);
        virtwire_dec_init(&d, w, 4, NULL);
        d.flags = VIRTWIRE_DEC_STRICT_BOOL;
        b = -1;
        CHECK_RC(virtwire_get_bool(&d, &b), cases[i].strict_rc);
        if (cases[i].strict_rc == 0)
            CHECK_INT(b, (int)cases[i].v);

        /* remote_string is an optional remote_nonnull_string: flag, then
         * (when present) an empty string */
        unsigned char s[8];
        vt_put32(vt_put32(s, cases[i].v), 0);
        vt_context("remote_string flag 0x%x", cases[i].v);
        decode_both(&remote_string_desc, s, cases[i].v ? 8 : 4, 0);
        decode_both_flags(&remote_string_desc, s, cases[i].v ? 8 : 4, VIRTWIRE_DEC_STRICT_BOOL,
                          cases[i].strict_rc);
    }

    /* remote_error: message present, then dom's flag is 2: present for the
     * default decoder, which then runs out of bytes, refused by a strict one
     * (heap mode frees the message either way) */
    static const unsigned char err[] = { W(1), W(2), W(1), W(2), 'h', 'i', 0, 0, W(2), W(2) };
    vt_context("remote_error dom flag 2");
    decode_strict(&remote_error_desc, err, sizeof(err), VIRTWIRE_DEC_STRICT_BOOL, VIRTWIRE_EBOOL,
                  VIRTWIRE_ETRUNCATED);
    static const unsigned char err2[] = { W(1), W(2), 0xff, 0xff, 0xff, 0xff };
    vt_context("remote_error message flag 0xffffffff");
    decode_strict(&remote_error_desc, err2, sizeof(err2), VIRTWIRE_DEC_STRICT_BOOL,
                  VIRTWIRE_EBOOL, VIRTWIRE_ETRUNCATED);

    /* virNetMessageError with everything absent but net's flag 2 */
    static const unsigned char nerr[] = { W(1), W(2), W(0), W(2), W(0), W(0), W(0), W(0),
                                          W(0), W(0), W(2) };
    vt_context("virNetMessageError net flag 2");
    decode_strict(&virNetMessageError_desc, nerr, sizeof(nerr), VIRTWIRE_DEC_STRICT_BOOL,
                  VIRTWIRE_EBOOL, VIRTWIRE_ETRUNCATED);
    vt_context("virNetMessageError all absent (44 bytes)");
    unsigned char ok[44];
    memcpy(ok, nerr, sizeof(ok));
    ok[43] = 0;
    decode_both(&virNetMessageError_desc, ok, sizeof(ok), 0);
}

/* Optional data nests at most max_depth levels; depth is back to 0 after. */
static void test_depth(void)
{
    const vwt_sample *s = NULL;
    for (size_t i = 0; i < vwt_nsamples; i++)
        if (vwt_samples[i].type == &remote_error_desc)
            s = &vwt_samples[i];
    CHECK(s != NULL);
    if (!s)
        return;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    remote_error v;
    virtwire_dec d;
    vt_context("remote_error, max_depth 1");
    memset(&v, 0, sizeof(v));
    virtwire_dec_init(&d, s->wire, s->wire_len, &arena);
    d.max_depth = 1;
    CHECK_RC(remote_error_decode(&d, &v), 0);
    CHECK_UINT(d.depth, 0);
    vt_context("remote_error, max_depth 0");
    memset(&v, 0, sizeof(v));
    virtwire_dec_init(&d, s->wire, s->wire_len, &arena);
    d.max_depth = 0;
    CHECK_RC(remote_error_decode(&d, &v), VIRTWIRE_EDEPTH);
    virtwire_arena_fini(&arena);
}

/* ------------------------------------------------------------------------ */
/* char and short ranges                                                    */

static void test_ranges(void)
{
    /* remote_domain_get_info_ret: state (unsigned char), maxMem, memory,
     * nrVirtCpu (unsigned short), cpuTime */
    static const struct { uint32_t state, ncpu; int rc; } info[] = {
        { 255, 65535, 0 },
        { 256, 1, VIRTWIRE_ERANGE },
        { 0xffffffffu, 1, VIRTWIRE_ERANGE },
        { 1, 65536, VIRTWIRE_ERANGE },
        { 1, 0xffffffffu, VIRTWIRE_ERANGE },
    };
    for (size_t i = 0; i < sizeof(info) / sizeof(info[0]); i++) {
        vt_context("domain_get_info_ret state %u nrVirtCpu %u", info[i].state, info[i].ncpu);
        unsigned char w[32] = { 0 };
        vt_put32(w, info[i].state);
        vt_put32(w + 20, info[i].ncpu);
        decode_both(&remote_domain_get_info_ret_desc, w, 32, info[i].rc);
    }

    /* remote_node_get_info_ret.model[32]: char is signed on x86-64
     * (CHAR_MIN -128), unsigned on some other ABIs */
    static const int32_t chars[] = { 200, 127, 128, -128, -129, 255, 256, -1 };
    for (size_t i = 0; i < sizeof(chars) / sizeof(chars[0]); i++) {
        int want = chars[i] < CHAR_MIN || chars[i] > CHAR_MAX ? VIRTWIRE_ERANGE : 0;
        for (size_t pos = 0; pos < 32; pos += 31) {
            vt_context("node_get_info_ret model[%zu] = %d", pos, chars[i]);
            unsigned char w[160] = { 0 };
            vt_put32(w + 4 * pos, (uint32_t)chars[i]);
            decode_both(&remote_node_get_info_ret_desc, w, 160, want);
        }
    }
#if CHAR_MIN < 0
    {
        vt_context("x86-64 style signed char: model[0] 200 is out of range");
        unsigned char w[160] = { 0 };
        vt_put32(w, 200);
        decode_both(&remote_node_get_info_ret_desc, w, 160, VIRTWIRE_ERANGE);
    }
#endif

    /* char label<>: an element of 0x100; heap mode frees the array */
    static const unsigned char label[] = { W(3), W('a'), W(0x100), W(0), W(1) };
    vt_context("security label char 0x100");
    decode_both(&remote_domain_get_security_label_ret_desc, label, sizeof(label),
                VIRTWIRE_ERANGE);

    /* the primitives themselves */
    static const struct { int32_t v; int c, uc, s, us; } prim[] = {
        /* value     char                       uchar            short            ushort */
        { 0, 0, 0, 0, 0 },
        { 255, CHAR_MAX >= 255 ? 0 : VIRTWIRE_ERANGE, 0, 0, 0 },
        { 256, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE, 0, 0 },
        { -1, CHAR_MIN < 0 ? 0 : VIRTWIRE_ERANGE, VIRTWIRE_ERANGE, 0, VIRTWIRE_ERANGE },
        { 32767, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE, 0, 0 },
        { 32768, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE, 0 },
        { -32768, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE, 0, VIRTWIRE_ERANGE },
        { -32769, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE },
        { 65535, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE, 0 },
        { 65536, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE, VIRTWIRE_ERANGE },
    };
    for (size_t i = 0; i < sizeof(prim) / sizeof(prim[0]); i++) {
        unsigned char w[4];
        vt_put32(w, (uint32_t)prim[i].v);
        virtwire_dec d;
        char c = 0;
        unsigned char uc = 0;
        short s = 0;
        unsigned short us = 0;
        vt_context("primitives, value %d", prim[i].v);
        virtwire_dec_init(&d, w, 4, NULL);
        if (CHECK_RC(virtwire_get_char(&d, &c), prim[i].c) && prim[i].c == 0)
            CHECK_INT(c, prim[i].v);
        virtwire_dec_init(&d, w, 4, NULL);
        if (CHECK_RC(virtwire_get_uchar(&d, &uc), prim[i].uc) && prim[i].uc == 0)
            CHECK_INT(uc, prim[i].v);
        virtwire_dec_init(&d, w, 4, NULL);
        if (CHECK_RC(virtwire_get_short(&d, &s), prim[i].s) && prim[i].s == 0)
            CHECK_INT(s, prim[i].v);
        virtwire_dec_init(&d, w, 4, NULL);
        if (CHECK_RC(virtwire_get_ushort(&d, &us), prim[i].us) && prim[i].us == 0)
            CHECK_INT(us, prim[i].v);
    }
}

/* ------------------------------------------------------------------------ */
/* Padding                                                                  */

/* Decodes buf (with non-zero padding) as t: accepted by default, and the
 * value re-encodes to `clean` (the same bytes with zero padding); rejected
 * with EPADDING in strict mode, arena and heap. */
static void check_dirty_padding(const virtwire_type *t, const unsigned char *buf, size_t len,
                                const unsigned char *clean)
{
    unsigned char *in = vwt_dup(buf, len);
    void *v = xcalloc(1, t->size);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    unsigned char out[256];
    size_t olen = 0;

    CHECK_RC(virtwire_decode(t, in, len, &arena, v), 0);
    CHECK_RC(virtwire_encode(t, v, out, sizeof(out), &olen), 0);
    CHECK_MEM(out, olen, clean, len);
    virtwire_arena_reset(&arena);

    virtwire_dec d;
    for (int heap = 0; heap < 2; heap++) {
        memset(v, 0, t->size);
        virtwire_dec_init(&d, in, len, heap ? NULL : &arena);
        d.flags |= VIRTWIRE_DEC_STRICT_PADDING;
        CHECK_RC(t->decode(&d, v), VIRTWIRE_EPADDING);
        if (heap)
            t->free(v);
    }
    virtwire_arena_fini(&arena);
    free(v);
    free(in);
}

static void test_padding(void)
{
    /* every padding byte of every sample, one at a time: a byte the sample
     * encoding has as padding is one the strict decoder must reject.  The
     * padding positions are listed by hand per sample below. */
    static const struct { const char *name; size_t pos[8]; } pads[] = {
        { "nonnull_domain", { 7 } },                      /* "vm1" + 1 */
        /* "a" + 3, "bb" + 2, "web-01" + 2 */
        { "list_all_domains_ret", { 9, 10, 11, 38, 39, 70, 71 } },
        { "typed_param STRING", { 5, 6, 7, 21, 22, 23 } }, /* "s" + 3, "hello" + 3 */
        { "pin_vcpu_args", { 7, 39 } },                   /* "vm1" + 1, cpumap 3 bytes + 1 */
        /* "no net" + 2, "s2" + 2, "default" + 1 */
        { "virNetMessageError", { 22, 23, 46, 47, 75 } },
        { "admin list_servers_ret", { 25, 26, 27 } },     /* "admin" + 3 */
    };
    for (size_t p = 0; p < sizeof(pads) / sizeof(pads[0]); p++) {
        const vwt_sample *s = NULL;
        for (size_t i = 0; i < vwt_nsamples; i++)
            if (strcmp(vwt_samples[i].name, pads[p].name) == 0)
                s = &vwt_samples[i];
        CHECK(s != NULL);
        if (!s)
            continue;
        for (size_t k = 0; k < 8 && pads[p].pos[k]; k++) {
            size_t at = pads[p].pos[k];
            vt_context("%s, padding byte %zu set", s->name, at);
            CHECK(at < s->wire_len && s->wire[at] == 0);
            unsigned char dirty[256];
            memcpy(dirty, s->wire, s->wire_len);
            dirty[at] = (unsigned char)(0x80 | k);
            check_dirty_padding(s->type, dirty, s->wire_len, s->wire);
        }
    }

    /* strict mode accepts every sample (all have zero padding) */
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    for (size_t i = 0; i < vwt_nsamples; i++) {
        const vwt_sample *s = &vwt_samples[i];
        vt_context("%s, strict padding, clean input", s->name);
        void *v = xcalloc(1, s->type->size);
        virtwire_dec d;
        virtwire_dec_init(&d, s->wire, s->wire_len, &arena);
        d.flags |= VIRTWIRE_DEC_STRICT_PADDING;
        CHECK_RC(s->type->decode(&d, v), 0);
        CHECK(d.p == d.end);
        CHECK(s->equal(v, s->value));
        virtwire_arena_reset(&arena);
        free(v);
    }
    virtwire_arena_fini(&arena);

    /* a NUL inside a string is accepted; C sees the string cut there */
    static const unsigned char nul[] = { W(3), 'a', 0, 'b', 0 };
    remote_nonnull_string str = NULL;
    vt_context("string \"a\\0b\"");
    CHECK_RC(virtwire_decode(&remote_nonnull_string_desc, nul, sizeof(nul), NULL, &str), 0);
    CHECK_STR(str, "a");
    remote_nonnull_string_free(&str);
}

/* ------------------------------------------------------------------------ */
/* NULL where the protocol needs data                                       */

static void expect_null(const char *what, const virtwire_type *t, const void *v)
{
    unsigned char buf[256];
    size_t len;
    vt_context("encode %s", what);
    CHECK_RC(virtwire_encode(t, v, buf, sizeof(buf), &len), VIRTWIRE_ENULL);
}

static void test_nulls(void)
{
    static char vm1[] = "vm1";
    remote_nonnull_domain dom = { NULL, { UUID_A }, 1 };
    expect_null("nonnull_domain name NULL", &remote_nonnull_domain_desc, &dom);

    remote_connect_list_all_domains_ret list = { { 2, NULL }, 2 };
    expect_null("list_all_domains_ret 2 domains, val NULL",
                &remote_connect_list_all_domains_ret_desc, &list);
    remote_nonnull_domain doms[2] = { { vm1, { UUID_A }, 1 }, { NULL, { UUID_A }, 2 } };
    list.domains.domains_val = doms;
    expect_null("list_all_domains_ret second name NULL",
                &remote_connect_list_all_domains_ret_desc, &list);

    remote_domain_pin_vcpu_args pin = { { vm1, { UUID_A }, 3 }, 1, { 3, NULL } };
    expect_null("pin_vcpu_args cpumap len 3, val NULL", &remote_domain_pin_vcpu_args_desc, &pin);
    /* an empty opaque needs no data: NULL is fine */
    pin.cpumap.cpumap_len = 0;
    unsigned char buf[64];
    size_t len;
    static const unsigned char empty[] = { W(3), 'v', 'm', '1', 0, UUID_A, W(3), W(1), W(0) };
    vt_context("pin_vcpu_args cpumap len 0, val NULL");
    CHECK_RC(virtwire_encode(&remote_domain_pin_vcpu_args_desc, &pin, buf, sizeof(buf), &len), 0);
    CHECK_MEM(buf, len, empty, sizeof(empty));

    remote_typed_param tp = { vm1, { 7, { .s = NULL } } };
    expect_null("typed_param STRING NULL", &remote_typed_param_desc, &tp);
    tp.field = NULL;
    tp.value.type = 1;
    expect_null("typed_param field NULL", &remote_typed_param_desc, &tp);

    /* optional present, but the string it points to is NULL */
    char *nothing = NULL;
    remote_error err = { 1, 2, &nothing, 2, NULL, NULL, NULL, NULL, 0, 0, NULL };
    expect_null("remote_error message -> NULL", &remote_error_desc, &err);

    remote_domain_get_security_label_ret label = { { 2, NULL }, 0 };
    expect_null("security label len 2, val NULL", &remote_domain_get_security_label_ret_desc,
                &label);
    remote_auth_list_ret auth = { { 1, NULL } };
    expect_null("auth_list_ret len 1, val NULL", &remote_auth_list_ret_desc, &auth);
    admin_nonnull_server srv = { NULL };
    expect_null("admin_nonnull_server name NULL", &admin_nonnull_server_desc, &srv);
}

/* ------------------------------------------------------------------------ */
/* Encode buffers that are too small                                        */

/* For every sample and every capacity below its size: ENOSPACE, and no byte
 * written at or after the capacity (a canary follows the buffer). */
static void test_nospace(void)
{
    enum { CANARY = 0xcd, SLACK = 64 };
    for (size_t i = 0; i < vwt_nsamples; i++) {
        const vwt_sample *s = &vwt_samples[i];
        for (size_t cap = 0; cap <= s->wire_len; cap++) {
            vt_context("%s into %zu of %zu bytes", s->name, cap, s->wire_len);
            unsigned char *buf = malloc(cap + SLACK);
            if (!buf)
                abort();
            memset(buf, CANARY, cap + SLACK);
            size_t len = 12345;
            int want = cap < s->wire_len ? VIRTWIRE_ENOSPACE : 0;
            CHECK_RC(virtwire_encode(s->type, s->value, buf, cap, &len), want);
            size_t bad = 0;
            for (size_t k = cap; k < cap + SLACK; k++)
                bad += buf[k] != CANARY;
            CHECK_UINT(bad, 0);
            if (want == 0)
                CHECK_MEM(buf, len, s->wire, s->wire_len);

            /* the generated encoder directly: p stays within the buffer */
            virtwire_enc e;
            virtwire_enc_init(&e, buf, cap);
            CHECK_RC(s->type->encode(&e, s->value), want);
            CHECK(e.p >= buf && e.p <= buf + cap);
            free(buf);
        }
    }
}

static const vt_group groups[] = {
    { "bound_enum_array", test_bound_enum_array },
    { "bound_struct_array", test_bound_struct_array },
    { "bound_char_array", test_bound_char_array },
    { "bound_opaque", test_bound_opaque },
    { "bound_string", test_bound_string },
    { "enums", test_enums },
    { "unions", test_unions },
    { "bools", test_bools },
    { "depth", test_depth },
    { "ranges", test_ranges },
    { "padding", test_padding },
    { "nulls", test_nulls },
    { "nospace", test_nospace },
};

int main(int argc, char **argv)
{
    return vt_main(argc, argv, groups, sizeof(groups) / sizeof(groups[0]));
}
