/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* uses_import.x generated with --import base_types.x. */
#include "uses_import.h"

#include "vwtest.h"

int main(void)
{
    base_point pts[4] = { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 } };
    path p = { { 2, pts }, BC_BLUE };
    ENCODE(path, &p,
           "00000002 | 00000001 00000002 | 00000003 00000004" /* pts<BASE_MAX>: 2 points */
           "| 00000002");                                    /* color BC_BLUE */
    CHECK_INT(path_MAX_SIZE, 32);                            /* 4 + 3 * 8 + 4 */
    p.pts.pts_len = 4;                                       /* BASE_MAX is 3 */
    ENCODE_FAILS(path, &p, VIRTWIRE_ETOOLONG);
    ROUNDTRIP(path, "00000001 00000005 00000006 00000001");
    ROUNDTRIP(path, "00000000 00000003");                            /* base_color has no 3 */
    STRICT_DECODE_FAILS(path, "00000000 00000003", VIRTWIRE_EENUM);

    colored c = { BC_RED, { { -1, 1 } } };
    ENCODE(colored, &c, "00000001 | ffffffff 00000001");

    /* Only the module's own types are in its protocol descriptor. */
    CHECK_INT(virtwire_module_uses_import.ntypes, 2);
    CHECK_STR(virtwire_module_uses_import.types[0]->name, "colored");
    CHECK_STR(virtwire_module_uses_import.types[1]->name, "path");
    CHECK_INT(virtwire_module_base_types.ntypes, 2);
    return vt_finish("uses_import");
}
