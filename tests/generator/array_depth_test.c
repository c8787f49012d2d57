/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Regression: recursion through a variable-length array (recursive.x's
 * tree) must be bounded by the decoder's depth limit like optional data.
 * Without a limit, a 1000000-level tree (8 MB of input: value 0, one child,
 * again and again) makes tree_decode recurse 1000000 times and overflow the
 * stack.
 */
#include "recursive.h"

#include <stdlib.h>
#include <string.h>

#include "vwtest.h"

/* levels nested trees: each is its value and a child count of 1, the last
 * has no children. */
static unsigned char *nested_tree(unsigned levels, size_t *len)
{
    *len = (size_t)levels * 8 + 8;
    unsigned char *b = malloc(*len);
    if (!b)
        abort();
    for (unsigned i = 0; i < levels; i++) {
        virtwire_store_u32(b + 8 * i, i);
        virtwire_store_u32(b + 8 * i + 4, 1);
    }
    virtwire_store_u32(b + 8 * (size_t)levels, levels);
    virtwire_store_u32(b + 8 * (size_t)levels + 4, 0);
    return b;
}

static int decode_nested(unsigned levels)
{
    size_t len;
    unsigned char *b = nested_tree(levels, &len);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    tree t;
    int rc = virtwire_decode(&tree_desc, b, len, &arena, &t);
    virtwire_arena_fini(&arena);
    free(b);
    return rc;
}

int main(void)
{
    CHECK_INT(decode_nested(10), VIRTWIRE_OK);
    CHECK_INT(decode_nested(1000000), VIRTWIRE_EDEPTH);
    return vt_finish("array_depth");
}
