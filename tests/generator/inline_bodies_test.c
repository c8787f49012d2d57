/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inline_bodies.x: inline bodies become types of their own. */
#include "inline_bodies.h"

#include <string.h>

#include "vwtest.h"

/* The member of a struct type, in _Generic's unevaluated operand: no object. */
#define SAME_TYPE(S, m, T)                                                                \
    _Static_assert(_Generic(((S *)0)->m, T: 1, default: 0), #S "." #m " is not " #T)

/* The parser names anonymous bodies OUTER_anonN (numbered through the
 * file); a named inline body keeps its name. */
SAME_TYPE(outer, pair, outer_anon1);
SAME_TYPE(outer, choice, outer_anon2);
SAME_TYPE(outer, ni, named_inner);
SAME_TYPE(outer, e, outer_anon3);

int main(void)
{
    outer o;
    memset(&o, 0, sizeof(o));
    o.pair.a = 1;
    o.pair.b = 2;
    o.choice.k = 1;
    o.choice.outer_anon2_u.x = -1;
    o.ni.h = 3;
    o.e = IN_B;
    ENCODE(outer, &o,
           "00000001 00000002"   /* pair {1, 2} */
           "| 00000001 ffffffff" /* choice: k 1, x -1 */
           "| 00000000 00000003" /* ni.h 3 */
           "| 00000002");        /* e IN_B */
    o.choice.k = 5;              /* default: void */
    ENCODE(outer, &o, "00000001 00000002 | 00000005 | 00000000 00000003 | 00000002");
    CHECK_INT(outer_MAX_SIZE, 28);          /* 8 + 8 + 8 + 4 */
    CHECK_INT(outer_desc.min_size, 24);     /* 8 + 4 + 8 + 4 */
    o.e = (outer_anon3)3;                   /* undeclared: written as it is */
    ENCODE(outer, &o, "00000001 00000002 | 00000005 | 00000000 00000003 | 00000003");

    outer d;
    DECODE(outer, "00000001 00000002 00000001 ffffffff 00000000 00000003 00000001", NULL, &d);
    CHECK_INT(d.pair.b, 2);
    CHECK_INT(d.choice.outer_anon2_u.x, -1);
    CHECK_INT(d.ni.h, 3);
    CHECK_INT(d.e, IN_A);

    uses_named_inner u = { { -2 } };
    ENCODE(uses_named_inner, &u, "ffffffff fffffffe");
    return vt_finish("inline_bodies");
}
