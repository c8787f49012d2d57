/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation failures while decoding (generated codecs and the runtime's
 * arena and heap allocators): a CONNECT_GET_ALL_DOMAIN_STATS reply of 12
 * records of 9 typed parameters each (every parameter type, one string
 * of 20000 bytes, so that the arena also takes a block of its own size),
 * then a remote_error with every optional field present.
 *
 * Every decode must either give back exactly the encoded value or fail
 * with VIRTWIRE_ENOMEM; in heap mode a failed decode leaves nothing
 * allocated, and _free() releases a decoded one.
 *
 *   test_alloc_decode arena|heap
 */
#include <string.h>

#include "failalloc.h"
#include "remote_protocol.h"
#include "virnetprotocol.h"

#define NRECORDS 12
#define NPARAMS 9

static unsigned char stats_buf[64 * 1024];
static size_t stats_len;
static unsigned char error_buf[1024];
static size_t error_len;

static remote_domain_stats_record records[NRECORDS];
static remote_typed_param params[NRECORDS][NPARAMS];
static char names[NRECORDS][32];
static char fields[NRECORDS][NPARAMS][32];
static char big[20001];
static remote_connect_get_all_domain_stats_ret stats;

static char *e_msg = "Domain not found: no domain with matching name 'x'";
static char *e_str1 = "one", *e_str2 = "two", *e_str3 = "three", *e_net = "default";
static virNetMessageNonnullDomain e_dom = { "x", { 1, 2, 3 }, 7 };
static virNetMessageNonnullNetwork e_network = { "default", { 4, 5, 6 } };
static virNetMessageError error;

static void build(void)
{
    memset(big, 'b', sizeof big - 1);
    for (int r = 0; r < NRECORDS; r++) {
        snprintf(names[r], sizeof names[r], "domain-%d", r);
        records[r].dom.name = names[r];
        records[r].dom.id = r;
        memset(records[r].dom.uuid, r, sizeof records[r].dom.uuid);
        for (int i = 0; i < NPARAMS; i++) {
            remote_typed_param *p = &params[r][i];
            snprintf(fields[r][i], sizeof fields[r][i], "stat.%d.%d", r, i);
            p->field = fields[r][i];
            int type = 1 + i % 7; /* VIR_TYPED_PARAM_INT .. _STRING */
            p->value.type = type;
            switch (type) {
            case 1: p->value.remote_typed_param_value_u.i = -r; break;
            case 2: p->value.remote_typed_param_value_u.ui = (unsigned)r * 1000u; break;
            case 3: p->value.remote_typed_param_value_u.l = -((int64_t)r << 40); break;
            case 4: p->value.remote_typed_param_value_u.ul = (uint64_t)r << 50; break;
            case 5: p->value.remote_typed_param_value_u.d = r / 4.0; break;
            case 6: p->value.remote_typed_param_value_u.b = r & 1; break;
            default:
                p->value.remote_typed_param_value_u.s = (r == 5 && i == 6) ? big : fields[r][i];
            }
        }
        records[r].params.params_len = NPARAMS;
        records[r].params.params_val = params[r];
    }
    stats.retStats.retStats_len = NRECORDS;
    stats.retStats.retStats_val = records;

    error.code = 42;
    error.domain = 12;
    error.message = &e_msg;
    error.level = 2;
    error.dom = &e_dom;
    error.str1 = &e_str1;
    error.str2 = &e_str2;
    error.str3 = &e_str3;
    error.int1 = -1;
    error.int2 = 9;
    error.net = &e_network;
    (void)e_net;
}

static int same_stats(const remote_connect_get_all_domain_stats_ret *a,
                      const remote_connect_get_all_domain_stats_ret *b)
{
    unsigned char x[sizeof stats_buf];
    size_t n;
    /* Equal values encode to equal bytes, and the encoding is the one
     * decoded. */
    return virtwire_encode(&remote_connect_get_all_domain_stats_ret_desc, a, x, sizeof x, &n) ==
               0 &&
           n == stats_len && memcmp(x, stats_buf, n) == 0 && a != b;
}

static int same_error(const virNetMessageError *a)
{
    unsigned char x[sizeof error_buf];
    size_t n;
    return virtwire_encode(&virNetMessageError_desc, a, x, sizeof x, &n) == 0 && n == error_len &&
           memcmp(x, error_buf, n) == 0;
}

/* Decodes the two values into the arena (opaque != NULL) or the heap. */
static int scenario(void *opaque)
{
    int use_arena = opaque != NULL;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_arena *a = use_arena ? &arena : NULL;
    int failed = 0;

    /* Twice with the arena: the second decode reuses the kept block. */
    for (int round = 0; round < (use_arena ? 2 : 1); round++) {
        remote_connect_get_all_domain_stats_ret v;
        int rc = virtwire_decode(&remote_connect_get_all_domain_stats_ret_desc, stats_buf,
                                 stats_len, a, &v);
        if (rc == 0) {
            FA_CHECK(same_stats(&v, &stats));
            if (!use_arena)
                remote_connect_get_all_domain_stats_ret_free(&v);
        } else {
            FA_CHECK(rc == VIRTWIRE_ENOMEM && fa_injecting());
            failed = 1;
        }
        if (use_arena)
            virtwire_arena_reset(&arena);
    }

    virNetMessageError e;
    int rc = virtwire_decode(&virNetMessageError_desc, error_buf, error_len, a, &e);
    if (rc == 0) {
        FA_CHECK(same_error(&e));
        if (!use_arena)
            virNetMessageError_free(&e);
    } else {
        FA_CHECK(rc == VIRTWIRE_ENOMEM && fa_injecting());
        failed = 1;
    }
    virtwire_arena_fini(&arena);
    /* A failure that happened must have been reported. */
    FA_CHECK(!fa_fired() || failed);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "arena") && strcmp(argv[1], "heap"))) {
        fprintf(stderr, "usage: %s arena|heap\n", argv[0]);
        return 2;
    }
    build();
    if (virtwire_encode(&remote_connect_get_all_domain_stats_ret_desc, &stats, stats_buf,
                        sizeof stats_buf, &stats_len) != 0 ||
        virtwire_encode(&virNetMessageError_desc, &error, error_buf, sizeof error_buf,
                        &error_len) != 0) {
        fprintf(stderr, "encoding the sample values failed\n");
        return 1;
    }
    int arena = strcmp(argv[1], "arena") == 0;
    return fa_run(arena ? "alloc.decode.arena" : "alloc.decode.heap", scenario,
                  arena ? (void *)1 : NULL, 60);
}
