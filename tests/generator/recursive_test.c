/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recursive.x: linked lists, the decoder's depth limit, a tree. */
#include "recursive.h"

#include <stdlib.h>
#include <string.h>

#include "vwtest.h"

/* The wire form of a list of n nodes with values 1..n, written word by word
 * without the encoder: each node is its value then the 0/1 flag of next. */
static unsigned char *list_bytes(unsigned n, size_t *len)
{
    unsigned char *b = malloc((size_t)n * 8);
    if (!b)
        abort();
    for (unsigned i = 0; i < n; i++) {
        virtwire_store_u32(b + 8 * i, i + 1);
        virtwire_store_u32(b + 8 * i + 4, i + 1 < n ? 1 : 0);
    }
    *len = (size_t)n * 8;
    return b;
}

/* Decodes a list of n nodes as node with the given depth limit. */
static int decode_list(unsigned n, unsigned max_depth)
{
    size_t len;
    unsigned char *b = list_bytes(n, &len);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_dec d;
    node out;
    memset(&out, 0, sizeof(out));
    virtwire_dec_init(&d, b, len, &arena);
    d.max_depth = max_depth;
    int rc = node_decode(&d, &out);
    if (rc == 0) {
        /* walk it: values 1..n in order, n nodes */
        unsigned count = 0;
        for (const node *p = &out; p; p = p->next)
            CHECK_INT(p->value, ++count);
        CHECK_INT(count, n);
        CHECK(d.p == d.end);
    }
    virtwire_arena_fini(&arena);
    free(b);
    return rc;
}

static void test_three_nodes(void)
{
    node c = { 3, NULL };
    node b = { 2, &c };
    node a = { 1, &b };
    static const char hex[] =
        "00000001 00000001"   /* value 1, next present */
        "| 00000002 00000001" /* value 2, next present */
        "| 00000003 00000000";/* value 3, next absent */
    ENCODE(node, &a, hex);
    CHECK_INT(node_size(&a), 24);
    CHECK_INT(node_desc.min_size, 8);
#ifdef node_MAX_SIZE
    CHECK(!"node is unbounded");
#endif
    CHECK_INT(node_desc.max_size, 0);

    list l = &a;
    ENCODE(list, &l, "00000001 | 00000001 00000001 00000002 00000001 00000003 00000000");
    l = NULL;
    ENCODE(list, &l, "00000000");

    rnode r2 = { 0xfffffffeu, NULL };
    rnode r1 = { 9, &r2 };
    ENCODE(rnode, &r1, "00000009 00000001 | fffffffe 00000000");

    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    node d;
    DECODE(node, hex, &arena, &d);
    CHECK_INT(d.value, 1);
    CHECK(d.next && d.next->value == 2);
    CHECK(d.next && d.next->next && d.next->next->value == 3 && !d.next->next->next);
    virtwire_arena_fini(&arena);
    ROUNDTRIP(node, hex);
    ROUNDTRIP(list, "00000001 00000001 00000001 00000002 00000001 00000003 00000000");
}

static void test_depth_limit(void)
{
    /* n nodes nest n - 1 optional levels; max_depth levels are allowed. */
    CHECK_INT(decode_list(3, 2), VIRTWIRE_OK);
    CHECK_INT(decode_list(4, 2), VIRTWIRE_EDEPTH);
    CHECK_INT(decode_list(1, 0), VIRTWIRE_OK);
    CHECK_INT(decode_list(2, 0), VIRTWIRE_EDEPTH);
    /* the default limit, VIRTWIRE_DEC_MAX_DEPTH_DEFAULT = 1024 levels */
    CHECK_INT(VIRTWIRE_DEC_MAX_DEPTH_DEFAULT, 1024);
    CHECK_INT(decode_list(1025, VIRTWIRE_DEC_MAX_DEPTH_DEFAULT), VIRTWIRE_OK);
    CHECK_INT(decode_list(1026, VIRTWIRE_DEC_MAX_DEPTH_DEFAULT), VIRTWIRE_EDEPTH);
    CHECK_INT(decode_list(5000, VIRTWIRE_DEC_MAX_DEPTH_DEFAULT), VIRTWIRE_EDEPTH);

    /* virtwire_decode uses the default limit; in heap mode it frees the
     * 1025 nodes decoded before failing (ASan would see a leak). */
    size_t len;
    unsigned char *b = list_bytes(2000, &len);
    node out;
    memset(&out, 0, sizeof(out));
    CHECK_INT(virtwire_decode(&node_desc, b, len, NULL, &out), VIRTWIRE_EDEPTH);
    free(b);

    /* and a long list decoded and freed in heap mode */
    b = list_bytes(1000, &len);
    CHECK_INT(virtwire_decode(&node_desc, b, len, NULL, &out), VIRTWIRE_OK);
    CHECK_INT(node_size(&out), 8000);
    node_free(&out);
    CHECK(out.next == NULL);
    free(b);
}

static void test_tree(void)
{
    tree leaves[2] = { { 2, { 0, NULL } }, { 3, { 0, NULL } } };
    tree root = { 1, { 2, leaves } };
    static const char hex[] =
        "00000001 00000002"   /* root: value 1, 2 children */
        "| 00000002 00000000" /* child: value 2, no children */
        "| 00000003 00000000";/* child: value 3, no children */
    ENCODE(tree, &root, hex);
    CHECK_INT(tree_size(&root), 24);
    CHECK_INT(tree_desc.min_size, 8);
    ROUNDTRIP(tree, hex);
    /* a count of 2 children, but bytes for at most 1 (8 bytes each) */
    DECODE_FAILS(tree, "00000001 00000002 00000002 00000000", VIRTWIRE_ETRUNCATED);
}

int main(void)
{
    test_three_nodes();
    test_depth_limit();
    test_tree();
    return vt_finish("recursive");
}
