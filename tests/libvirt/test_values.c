/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libvirt layer's helpers and virtwire_copy(), by groups:
 *
 *   uuid     virtwire_uuid_format() and _parse(): libvirt's layout, what
 *            virUUIDParse() accepts and refuses (the byte strings come from
 *            libvirt's own test domain, whose UUID virsh prints)
 *   version  packed versions: decode, format, pack, the limits
 *   params   typed parameters: every getter on every type, the first of two
 *            names, NULLs; setters in arena and heap mode (replace, append,
 *            a string replacing a string, booleans as 0 and 1), the list
 *            then encoded as libvirt lays it out
 *   copy     virtwire_copy() of a nested value into an arena and the heap,
 *            outliving a reset of the original's arena; values that do not
 *            encode
 *
 * Run under valgrind and the sanitizers with the rest: heap mode frees
 * everything it built.
 */
#include <stdlib.h>
#include <string.h>

#include "virtwire_libvirt.h"
#include "vt_check.h"

static const char test_uuid[16] = { (char)0x66, (char)0x95, (char)0xeb, (char)0x01,
                                     (char)0xf6, (char)0xa4, (char)0x83, (char)0x04,
                                     (char)0x79, (char)0xaa, (char)0x97, (char)0xf2,
                                     (char)0x50, (char)0x2e, (char)0x19, (char)0x3f };

static void test_uuid_group(void)
{
    char text[VIRTWIRE_UUID_STRING_BUFLEN];
    CHECK_STR(virtwire_uuid_format(test_uuid, text), "6695eb01-f6a4-8304-79aa-97f2502e193f");
    static const char *const good[] = {
        "6695eb01-f6a4-8304-79aa-97f2502e193f",
        "6695EB01F6A4830479AA97F2502E193F",
        " \t6695eb01-f6a4-8304-79aa-97f2502e193f\n",
        "66-95-eb01 f6a4 8304 79aa 97f2502e193f",
        "--6695eb01f6a4830479aa97f2502e193f",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char u[16] = { 0 };
        CHECK_RC(virtwire_uuid_parse(good[i], u), 0);
        CHECK_MEM(u, 16, test_uuid, 16);
    }
    static const char *const bad[] = {
        "",
        "6695eb01-f6a4-8304-79aa-97f2502e193",    /* 31 digits */
        "6695eb01-f6a4-8304-79aa-97f2502e193f0",  /* 33 */
        "6695eb01-f6a4-8304-79aa-97f2502e193f-",  /* a dash after the end */
        "6-695eb01f6a4830479aa97f2502e193f",      /* a dash inside a pair */
        "g695eb01-f6a4-8304-79aa-97f2502e193f",
        "6695eb01-f6a4-8304-79aa-97f2502e193f x",
        "{6695eb01-f6a4-8304-79aa-97f2502e193f}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char u[16];
        CHECK_MSG(virtwire_uuid_parse(bad[i], u) == VIRTWIRE_EINVAL, "'%s'", bad[i]);
    }
    char u[16];
    CHECK_RC(virtwire_uuid_parse(NULL, u), VIRTWIRE_EINVAL);
    char all[16];
    memset(all, 0xff, sizeof all);
    CHECK_STR(virtwire_uuid_format(all, text), "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

static void test_version(void)
{
    char buf[VIRTWIRE_VERSION_BUFLEN];
    CHECK_STR(virtwire_version_format(9000000, buf), "9.0.0");
    CHECK_STR(virtwire_version_format(11003000, buf), "11.3.0");
    CHECK_STR(virtwire_version_format(1002003, buf), "1.2.3");
    CHECK_STR(virtwire_version_format(0, buf), "0.0.0");
    CHECK_STR(virtwire_version_format(UINT64_MAX, buf), "18446744073709.551.615");
    virtwire_version v = virtwire_version_decode(10010999);
    CHECK(v.major == 10 && v.minor == 10 && v.micro == 999);
    CHECK_UINT(virtwire_version_pack(11, 3, 0), 11003000);
    CHECK_UINT(virtwire_version_pack(1, 1000, 0), 0);
    CHECK_UINT(virtwire_version_pack(1, 0, 1000), 0);
    CHECK_UINT(virtwire_version_pack(18446744073709ull, 551, 615), UINT64_MAX);
    CHECK_UINT(virtwire_version_pack(18446744073710ull, 0, 0), 0);
}

/* A list with one parameter of each type, and a second "i" (a string). */
static remote_typed_param *sample(unsigned int *n, virtwire_arena *a)
{
    remote_typed_param *p = NULL;
    *n = 0;
    CHECK_RC(virtwire_typed_params_set_int(&p, n, a, "i", -7), 0);
    CHECK_RC(virtwire_typed_params_set_uint(&p, n, a, "ui", 4000000000u), 0);
    CHECK_RC(virtwire_typed_params_set_llong(&p, n, a, "l", -(1ll << 40)), 0);
    CHECK_RC(virtwire_typed_params_set_ullong(&p, n, a, VIR_DOMAIN_SCHEDULER_CPU_SHARES,
                                              18446744073709551615ull), 0);
    CHECK_RC(virtwire_typed_params_set_double(&p, n, a, "d", 0.25), 0);
    CHECK_RC(virtwire_typed_params_set_boolean(&p, n, a, "b", 42), 0);
    CHECK_RC(virtwire_typed_params_set_string(&p, n, a, "s", "text"), 0);
    CHECK_INT(*n, 7);
    return p;
}

static void check_sample(const remote_typed_param *p, unsigned int n)
{
    int i = 0, b = 0;
    unsigned int ui = 0;
    long long l = 0;
    unsigned long long ul = 0;
    double d = 0;
    const char *s = NULL;
    CHECK_INT(virtwire_typed_params_get_int(p, n, "i", &i), 1);
    CHECK_INT(i, -7);
    CHECK_INT(virtwire_typed_params_get_uint(p, n, "ui", &ui), 1);
    CHECK_UINT(ui, 4000000000u);
    CHECK_INT(virtwire_typed_params_get_llong(p, n, "l", &l), 1);
    CHECK_INT(l, -(1ll << 40));
    CHECK_INT(virtwire_typed_params_get_ullong(p, n, "cpu_shares", &ul), 1);
    CHECK_UINT(ul, 18446744073709551615ull);
    CHECK_INT(virtwire_typed_params_get_double(p, n, "d", &d), 1);
    CHECK(d == 0.25);
    CHECK_INT(virtwire_typed_params_get_boolean(p, n, "b", &b), 1);
    CHECK_INT(b, 1);
    CHECK_INT(virtwire_typed_params_get_string(p, n, "s", &s), 1);
    CHECK_STR(s, "text");
    /* The wrong type, a name nobody has, a NULL name, a NULL value. */
    CHECK_RC(virtwire_typed_params_get_uint(p, n, "i", &ui), VIRTWIRE_EINVAL);
    CHECK_RC(virtwire_typed_params_get_string(p, n, "b", &s), VIRTWIRE_EINVAL);
    CHECK_RC(virtwire_typed_params_get_int(p, n, "nosuch", &i), 0);
    CHECK_RC(virtwire_typed_params_get_int(p, n, NULL, &i), VIRTWIRE_EINVAL);
    CHECK_RC(virtwire_typed_params_get_int(p, n, "i", NULL), 1);
    CHECK(virtwire_typed_params_find(p, n, "d") == &p[4]);
    CHECK(virtwire_typed_params_find(p, n, NULL) == NULL);
    CHECK(virtwire_typed_params_find(NULL, 0, "d") == NULL);
}

static void test_params(void)
{
    /* Heap mode. */
    unsigned int n;
    remote_typed_param *p = sample(&n, NULL);
    check_sample(p, n);
    CHECK(p[5].value.remote_typed_param_value_u.b == 1); /* stored as libvirt stores it */
    /* Replacing: the same slot, a new type, a string for a string. */
    CHECK_RC(virtwire_typed_params_set_string(&p, &n, NULL, "i", "now a string"), 0);
    CHECK_RC(virtwire_typed_params_set_string(&p, &n, NULL, "s", "other"), 0);
    CHECK_INT(n, 7);
    const char *s = NULL;
    CHECK_INT(virtwire_typed_params_get_string(p, n, "i", &s), 1);
    CHECK_STR(s, "now a string");
    CHECK_RC(virtwire_typed_params_set_int(&p, &n, NULL, "s", 3), 0); /* frees "other" */
    CHECK_RC(virtwire_typed_params_set_int(&p, &n, NULL, NULL, 3), VIRTWIRE_EINVAL);
    CHECK_RC(virtwire_typed_params_set_string(&p, &n, NULL, "x", NULL), VIRTWIRE_EINVAL);
    CHECK_RC(virtwire_typed_params_set_int(NULL, &n, NULL, "x", 3), VIRTWIRE_EINVAL);
    CHECK_INT(n, 7);

    /* As a procedure's arguments: the encoding libvirt's XDR gives. */
    remote_domain_set_scheduler_parameters_args args = { .dom = { (char *)"d", { 0 }, 1 } };
    args.params.params_val = p;
    args.params.params_len = n;
    unsigned char buf[1024];
    size_t len = 0;
    CHECK_RC(virtwire_encode(&remote_domain_set_scheduler_parameters_args_desc, &args, buf,
                             sizeof buf, &len), 0);
    /* the first parameter: "i" (length 1, padded), VIR_TYPED_PARAM_STRING,
     * "now a string" (12) */
    static const unsigned char first[] = { 0, 0, 0, 7, 0, 0, 0, 1, 'i', 0, 0, 0, 0, 0, 0, 7,
                                           0, 0, 0, 12, 'n', 'o', 'w', ' ', 'a', ' ', 's', 't',
                                           'r', 'i', 'n', 'g' };
    /* after the domain: name "d" (8 bytes), uuid (16), id (4) */
    CHECK(len > 28 + sizeof first);
    CHECK_MEM(buf + 28, sizeof first, first, sizeof first);
    virtwire_typed_params_free(p, n);
    virtwire_typed_params_free(NULL, 0);

    /* Arena mode: the same, released with the arena. */
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    p = sample(&n, &a);
    check_sample(p, n);
    CHECK_RC(virtwire_typed_params_set_ullong(&p, &n, &a, "cpu_shares", 5), 0);
    CHECK_INT(n, 7);
    unsigned long long ul = 0;
    CHECK_INT(virtwire_typed_params_get_ullong(p, n, VIR_DOMAIN_SCHEDULER_CPU_SHARES, &ul), 1);
    CHECK_UINT(ul, 5);
    /* The first of two parameters of one name is the one read and set. */
    p[6].field = p[0].field; /* "s" renamed "i": a second "i" */
    int i = 0;
    CHECK_INT(virtwire_typed_params_get_int(p, n, "i", &i), 1);
    CHECK_INT(i, -7);
    CHECK_RC(virtwire_typed_params_set_int(&p, &n, &a, "i", 8), 0);
    CHECK_INT(p[0].value.remote_typed_param_value_u.i, 8);
    CHECK_INT(p[6].value.type, VIR_TYPED_PARAM_STRING);
    virtwire_arena_fini(&a);
}

static void test_copy(void)
{
    /* A nested value, decoded into an arena, kept beyond its reset. */
    remote_connect_list_all_domains_ret orig = { 0 };
    remote_nonnull_domain doms[2] = { { (char *)"first", { 1, 2, 3 }, 1 },
                                      { (char *)"second", { 4, 5, 6 }, -1 } };
    orig.domains.domains_val = doms;
    orig.domains.domains_len = 2;
    orig.ret = 2;
    const virtwire_type *t = &remote_connect_list_all_domains_ret_desc;
    unsigned char buf[256];
    size_t len = 0;
    REQUIRE(virtwire_encode(t, &orig, buf, sizeof buf, &len) == 0);
    virtwire_arena a = VIRTWIRE_ARENA_INIT;
    remote_connect_list_all_domains_ret decoded, heap, in_arena;
    REQUIRE(virtwire_decode(t, buf, len, &a, &decoded) == 0);
    virtwire_arena other = VIRTWIRE_ARENA_INIT;
    CHECK_RC(virtwire_copy(t, &decoded, NULL, &heap), 0);
    CHECK_RC(virtwire_copy(t, &decoded, &other, &in_arena), 0);
    CHECK(heap.domains.domains_val != decoded.domains.domains_val &&
          heap.domains.domains_val[1].name != decoded.domains.domains_val[1].name);
    memset(buf, 0, sizeof buf);
    virtwire_arena_reset(&a); /* the original is gone */
    virtwire_arena_fini(&a);
    for (int k = 0; k < 2; k++) {
        const remote_connect_list_all_domains_ret *c = k ? &heap : &in_arena;
        CHECK(c->domains.domains_len == 2 && c->ret == 2);
        CHECK_STR(c->domains.domains_val[0].name, "first");
        CHECK_STR(c->domains.domains_val[1].name, "second");
        CHECK(c->domains.domains_val[1].id == -1 && c->domains.domains_val[1].uuid[2] == 6);
    }
    remote_connect_list_all_domains_ret_free(&heap);
    virtwire_arena_fini(&other);

    /* A single domain handle, as a program keeps one. */
    remote_nonnull_domain kept;
    CHECK_RC(virtwire_copy(&remote_nonnull_domain_desc, &doms[0], NULL, &kept), 0);
    CHECK(kept.name != doms[0].name);
    CHECK_STR(kept.name, "first");
    remote_nonnull_domain_free(&kept);

    /* What does not encode is not copied; the copy is left zeroed. */
    remote_nonnull_domain nameless = { NULL, { 0 }, 0 };
    memset(&kept, 0x55, sizeof kept);
    CHECK_RC(virtwire_copy(&remote_nonnull_domain_desc, &nameless, NULL, &kept), VIRTWIRE_ENULL);
    CHECK(kept.name == NULL && kept.id == 0);
    CHECK_RC(virtwire_copy(&remote_nonnull_domain_desc, &doms[0], NULL, &doms[0]),
             VIRTWIRE_EINVAL);
    CHECK_RC(virtwire_copy(NULL, &doms[0], NULL, &kept), VIRTWIRE_EINVAL);
    /* Larger than the copy's own stack buffer: through the heap. */
    static char big[1000];
    memset(big, 'x', sizeof big - 1);
    remote_nonnull_domain large = { big, { 0 }, 3 };
    CHECK_RC(virtwire_copy(&remote_nonnull_domain_desc, &large, NULL, &kept), 0);
    CHECK(kept.name && strcmp(kept.name, big) == 0);
    remote_nonnull_domain_free(&kept);
}

int main(int argc, char **argv)
{
    static const vt_group groups[] = {
        { "uuid", test_uuid_group },
        { "version", test_version },
        { "params", test_params },
        { "copy", test_copy },
    };
    return vt_main(argc, argv, groups, sizeof(groups) / sizeof(groups[0]));
}
