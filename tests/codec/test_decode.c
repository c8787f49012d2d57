/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Decoding hand-written encodings of real libvirt types, whole and cut
 * short: every proper prefix must fail with VIRTWIRE_ETRUNCATED in arena
 * and heap mode (heap mode frees what it allocated: run under ASan/LSan),
 * a trailing byte gives VIRTWIRE_ETRAILING, and length words that the input
 * cannot justify fail before anything is allocated.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin_protocol.h"
#include "harness.h"
#include "remote_protocol.h"
#include "samples.h"
#include "virnetprotocol.h"

static void *new_value(const virtwire_type *t)
{
    void *v = calloc(1, t->size);
    if (!v)
        abort();
    return v;
}

/* ------------------------------------------------------------------------ */
/* Whole values                                                             */

/* The hand-built value encodes to the hand-written bytes, T_size agrees, and
 * the bytes decode back to the value in both modes. */
static void test_roundtrip(void)
{
    for (size_t i = 0; i < vwt_nsamples; i++) {
        const vwt_sample *s = &vwt_samples[i];
        const virtwire_type *t = s->type;
        vt_context("%s", s->name);

        unsigned char buf[1024];
        size_t len = 0;
        CHECK_RC(virtwire_encode(t, s->value, buf, sizeof(buf), &len), 0);
        CHECK_MEM(buf, len, s->wire, s->wire_len);
        CHECK_UINT(t->encoded_size(s->value), s->wire_len);
        CHECK(s->wire_len >= t->min_size);
        CHECK(t->max_size == 0 || s->wire_len <= t->max_size);

        unsigned char *wire = vwt_dup(s->wire, s->wire_len);
        virtwire_arena arena = VIRTWIRE_ARENA_INIT;
        void *v = new_value(t);
        CHECK_RC(virtwire_decode(t, wire, s->wire_len, &arena, v), 0);
        CHECK(s->equal(v, s->value));
        CHECK_RC(virtwire_encode(t, v, buf, sizeof(buf), &len), 0);
        CHECK_MEM(buf, len, s->wire, s->wire_len);
        virtwire_arena_fini(&arena);

        memset(v, 0, t->size);
        CHECK_RC(virtwire_decode(t, wire, s->wire_len, NULL, v), 0);
        CHECK(s->equal(v, s->value));
        t->free(v);
        free(v);
        free(wire);
    }
}

/* Every proper prefix of every sample is truncated input, and nothing
 * else: ETRUNCATED exactly, in arena mode and in heap mode (where
 * virtwire_decode() frees the partial value: LSan reports any leak).  Each
 * prefix sits in a heap block of exactly its size, so that ASan catches a
 * read past the end. */
static void test_truncation(void)
{
    for (size_t i = 0; i < vwt_nsamples; i++) {
        const vwt_sample *s = &vwt_samples[i];
        const virtwire_type *t = s->type;
        virtwire_arena arena = VIRTWIRE_ARENA_INIT;
        void *v = new_value(t);
        for (size_t k = 0; k < s->wire_len; k++) {
            vt_context("%s, first %zu of %zu bytes", s->name, k, s->wire_len);
            unsigned char *prefix = vwt_dup(s->wire, k);

            memset(v, 0, t->size);
            CHECK_RC(virtwire_decode(t, prefix, k, &arena, v), VIRTWIRE_ETRUNCATED);
            virtwire_arena_reset(&arena);

            memset(v, 0, t->size);
            CHECK_RC(virtwire_decode(t, prefix, k, NULL, v), VIRTWIRE_ETRUNCATED);

            /* the generated decoder itself, without virtwire_decode() */
            virtwire_dec d;
            virtwire_dec_init(&d, prefix, k, &arena);
            memset(v, 0, t->size);
            CHECK_RC(t->decode(&d, v), VIRTWIRE_ETRUNCATED);
            CHECK(d.p >= prefix && d.p <= prefix + k);
            virtwire_arena_reset(&arena);
            free(prefix);
        }
        free(v);
        virtwire_arena_fini(&arena);
    }
}

/* One byte (or one word) more than the value: ETRAILING in both modes; heap
 * mode frees the complete value it decoded. */
static void test_trailing(void)
{
    static const size_t extra[] = { 1, 4 };
    for (size_t i = 0; i < vwt_nsamples; i++) {
        const vwt_sample *s = &vwt_samples[i];
        const virtwire_type *t = s->type;
        for (size_t x = 0; x < 2; x++) {
            vt_context("%s + %zu byte(s)", s->name, extra[x]);
            size_t n = s->wire_len + extra[x];
            unsigned char *buf = calloc(1, n);
            if (!buf)
                abort();
            memcpy(buf, s->wire, s->wire_len);
            void *v = new_value(t);
            virtwire_arena arena = VIRTWIRE_ARENA_INIT;
            CHECK_RC(virtwire_decode(t, buf, n, &arena, v), VIRTWIRE_ETRAILING);
            virtwire_arena_fini(&arena);
            memset(v, 0, t->size);
            CHECK_RC(virtwire_decode(t, buf, n, NULL, v), VIRTWIRE_ETRAILING);
            free(v);
            free(buf);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Length words the input cannot justify                                    */

/* Decodes buf as t in arena mode (the arena warmed up first, so that any
 * allocation moves its cursor) and in heap mode; both must give want.  The
 * arena may only have handed out `earlier` bytes: what the valid fields
 * before the bad length word need (0 when there are none). */
static void expect_no_alloc(const virtwire_type *t, const unsigned char *buf, size_t len, int want,
                            size_t earlier)
{
    unsigned char *in = vwt_dup(buf, len);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    CHECK(virtwire_arena_alloc(&arena, 8) != NULL);
    vwt_arena_state before = vwt_arena_snapshot(&arena);
    void *v = new_value(t);
    CHECK_RC(virtwire_decode(t, in, len, &arena, v), want);
    CHECK_ARENA_USED(&arena, before, earlier);
    virtwire_arena_fini(&arena);

    memset(v, 0, t->size);
    CHECK_RC(virtwire_decode(t, in, len, NULL, v), want);
    free(v);
    free(in);
}

/* A buffer of len bytes: the given head, then filler bytes. */
static unsigned char *filled(const unsigned char *head, size_t hlen, size_t len, unsigned char fill)
{
    unsigned char *p = malloc(len ? len : 1);
    if (!p)
        abort();
    memset(p, fill, len);
    memcpy(p, head, hlen < len ? hlen : len);
    return p;
}

static void test_oversized_strings(void)
{
    /* remote_nonnull_domain.name is string<REMOTE_STRING_MAX = 4194304>. */
    vt_context("nonnull_domain name length 0xffffffff");
    static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff, UUID_A, W(1) };
    expect_no_alloc(&remote_nonnull_domain_desc, huge, sizeof(huge), VIRTWIRE_ETOOLONG, 0);

    vt_context("nonnull_domain name length = bound, 20 bytes left");
    static const unsigned char atmax[] = { W(4194304), UUID_A, W(1) };
    expect_no_alloc(&remote_nonnull_domain_desc, atmax, sizeof(atmax), VIRTWIRE_ETRUNCATED, 0);

    vt_context("nonnull_domain name length 21, 20 bytes left");
    static const unsigned char one_more[] = { W(21), UUID_A, W(1) };
    expect_no_alloc(&remote_nonnull_domain_desc, one_more, sizeof(one_more),
                    VIRTWIRE_ETRUNCATED, 0);

    /* A length of 18 needs 18 + 2 padding = 20 bytes: with exactly 18 bytes
     * (no room for the padding) it is truncated before allocation. */
    vt_context("remote_nonnull_string length 18, 18 bytes left");
    unsigned char nopad[4 + 18];
    memcpy(nopad, (const unsigned char[]){ W(18) }, 4);
    memset(nopad + 4, 'x', 18);
    expect_no_alloc(&remote_nonnull_string_desc, nopad, sizeof(nopad), VIRTWIRE_ETRUNCATED, 0);

    /* Inside an optional: remote_error.message present, length 0x7fffffff. */
    vt_context("remote_error message length 0x7fffffff");
    static const unsigned char err[] = { W(1), W(2), W(1), 0x7f, 0xff, 0xff, 0xff, W(0) };
    unsigned char *e = filled(err, sizeof(err), 64, 0);
    /* the message pointer (8 bytes) is allocated once its flag is read */
    expect_no_alloc(&remote_error_desc, e, 64, VIRTWIRE_ETOOLONG, sizeof(char *));
    free(e);
}

static void test_oversized_opaque(void)
{
    /* remote_domain_block_peek_ret { opaque buffer<4194304>; } */
    vt_context("block_peek_ret buffer length 0xffffffff");
    static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4 };
    expect_no_alloc(&remote_domain_block_peek_ret_desc, huge, sizeof(huge), VIRTWIRE_ETOOLONG, 0);

    vt_context("block_peek_ret buffer length = bound, 4 bytes left");
    static const unsigned char atmax[] = { W(4194304), 1, 2, 3, 4 };
    expect_no_alloc(&remote_domain_block_peek_ret_desc, atmax, sizeof(atmax),
                    VIRTWIRE_ETRUNCATED, 0);

    /* remote_domain_get_vcpus_ret { remote_vcpu_info info<16384>;
     * opaque cpumaps<REMOTE_CPUMAPS_MAX = 8388608>; }: no info, then a
     * cpumaps length at the bound with 8 bytes left. */
    vt_context("get_vcpus_ret cpumaps length 8388608, 8 bytes left");
    static const unsigned char vcpus[] = { W(0), W(8388608), W(0), W(0) };
    expect_no_alloc(&remote_domain_get_vcpus_ret_desc, vcpus, sizeof(vcpus),
                    VIRTWIRE_ETRUNCATED, 0);

    /* cpumap<2048> of length 2045 needs 3 padding bytes: with the 2045
     * bytes alone it is truncated. */
    vt_context("pin_vcpu_args cpumap length 2045 without padding");
    static const unsigned char head[] = { W(3), 'v', 'm', '1', 0, UUID_A, W(3), W(1), W(2045) };
    size_t len = sizeof(head) + 2045;
    unsigned char *p = filled(head, sizeof(head), len, 0x55);
    /* dom.name "vm1" (4 bytes with its NUL, rounded to 8) comes first */
    expect_no_alloc(&remote_domain_pin_vcpu_args_desc, p, len, VIRTWIRE_ETRUNCATED, 8);
    free(p);
}

static void test_oversized_arrays(void)
{
    /* 1000 remote_nonnull_domain (24 bytes each at least) in 100 bytes */
    vt_context("list_all_domains_ret 1000 domains in 100 bytes");
    static const unsigned char thousand[] = { W(1000) };
    unsigned char *p = filled(thousand, 4, 100, 0);
    expect_no_alloc(&remote_connect_list_all_domains_ret_desc, p, 100, VIRTWIRE_ETRUNCATED, 0);
    free(p);

    vt_context("list_all_domains_ret 16384 (the bound) domains in 4 bytes");
    static const unsigned char atmax[] = { W(16384) };
    expect_no_alloc(&remote_connect_list_all_domains_ret_desc, atmax, 4, VIRTWIRE_ETRUNCATED, 0);

    vt_context("list_all_domains_ret count 0xffffffff");
    static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff, W(0) };
    expect_no_alloc(&remote_connect_list_all_domains_ret_desc, huge, sizeof(huge),
                    VIRTWIRE_ETOOLONG, 0);

    /* The boundary: 4 domains need at least 4 x 24 = 96 bytes.  95 bytes
     * are refused before allocating; 96 bytes of zeros pass the check (four
     * empty names, zero UUIDs, id 0), the array is allocated, and only the
     * missing ret word is then reported. */
    vt_context("list_all_domains_ret 4 domains in 95 bytes");
    static const unsigned char four[] = { W(4) };
    p = filled(four, 4, 4 + 95, 0);
    expect_no_alloc(&remote_connect_list_all_domains_ret_desc, p, 4 + 95, VIRTWIRE_ETRUNCATED, 0);
    free(p);

    vt_context("list_all_domains_ret 4 domains in 96 bytes");
    p = filled(four, 4, 4 + 96, 0);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    CHECK(virtwire_arena_alloc(&arena, 8) != NULL);
    vwt_arena_state before = vwt_arena_snapshot(&arena);
    remote_connect_list_all_domains_ret v;
    memset(&v, 0, sizeof(v));
    CHECK_RC(virtwire_decode(&remote_connect_list_all_domains_ret_desc, p, 100, &arena, &v),
             VIRTWIRE_ETRUNCATED);
    CHECK(arena.cur != before.cur || arena.allocs != before.allocs);
    CHECK_UINT(v.domains.domains_len, 4);
    virtwire_arena_fini(&arena);
    free(p);

    /* Counts the bytes after them cannot hold: refused before any
     * allocation. */
    static const struct {
        const char *what;
        const virtwire_type *t;
        unsigned char count[4];
        size_t len;
    } cut[] = {
        /* char label<4097>: each char is a word */
        { "security_label_ret 4097 chars in 100 bytes", &remote_domain_get_security_label_ret_desc,
          { W(4097) }, 100 },
        { "auth_list_ret 20 types in 79 bytes", &remote_auth_list_ret_desc, { W(20) }, 4 + 79 },
        /* remote_typed_param needs 12 bytes at least (empty field, type, a
         * 4-byte arm): 16 params (the bound) in 16 x 12 - 1 bytes. */
        { "get_scheduler_parameters_ret 16 params in 191 bytes",
          &remote_domain_get_scheduler_parameters_ret_desc, { W(16) }, 4 + 191 },
        /* admin: admin_nonnull_client is at least 4 + 8 + 8 + 4 = 24 bytes */
        { "admin list_clients_ret 16384 clients in 400 bytes", &admin_server_list_clients_ret_desc,
          { W(16384) }, 400 },
    };
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        vt_context("%s", cut[i].what);
        p = filled(cut[i].count, 4, cut[i].len, 0);
        expect_no_alloc(cut[i].t, p, cut[i].len, VIRTWIRE_ETRUNCATED, 0);
        free(p);
    }
}

/* ------------------------------------------------------------------------ */
/* virtwire_decode() zeroes *v first (virtwire_xdr.h)                        */

/* remote_error cut after its first optional string: the fields that were
 * never reached must read as zero after the call, in arena mode... */
static void test_zeroing_arena(void)
{
    static const unsigned char cut[] = { W(42), W(12), W(1), W(2), 'h', 'i', 0, 0, W(2) };
    remote_error v;
    memset(&v, 0xa5, sizeof(v));
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    vt_context("remote_error cut after level, value filled with 0xa5");
    CHECK_RC(virtwire_decode(&remote_error_desc, cut, sizeof(cut), &arena, &v),
             VIRTWIRE_ETRUNCATED);
    CHECK(v.dom == NULL);
    CHECK(v.str3 == NULL);
    CHECK_INT(v.int2, 0);
    CHECK(v.net == NULL);
    virtwire_arena_fini(&arena);
}

/* ...and in heap mode, where the error path frees the value: with stale
 * pointers in the untouched fields that would free garbage.  A child process
 * runs it, so that a crash is reported as a failure here. */
static void test_zeroing_heap(void)
{
    static const unsigned char cut[] = { W(42), W(12), W(1), W(2), 'h', 'i', 0, 0, W(2) };
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        remote_error v;
        memset(&v, 0xa5, sizeof(v));
        int rc = virtwire_decode(&remote_error_desc, cut, sizeof(cut), NULL, &v);
        _exit(rc == VIRTWIRE_ETRUNCATED ? 0 : 1);
    }
    int status = 0;
    vt_context("heap-mode decode into a value filled with 0xa5 (child process)");
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static const vt_group groups[] = {
    { "roundtrip", test_roundtrip },
    { "truncation", test_truncation },
    { "trailing", test_trailing },
    { "oversized_strings", test_oversized_strings },
    { "oversized_opaque", test_oversized_opaque },
    { "oversized_arrays", test_oversized_arrays },
    { "zeroing_arena", test_zeroing_arena },
    { "zeroing_heap", test_zeroing_heap },
};

int main(int argc, char **argv)
{
    return vt_main(argc, argv, groups, sizeof(groups) / sizeof(groups[0]));
}
