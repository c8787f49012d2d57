/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthrough.x generated with --passthrough: the '%' lines are in the
 * header, in order. */
#include "passthrough.h"

#include "vwtest.h"

int main(void)
{
#ifndef PASSTHROUGH_MARKER
    CHECK(!"PASSTHROUGH_MARKER missing: --passthrough did not copy the line");
#else
    CHECK_INT(PASSTHROUGH_MARKER, 1234);
    CHECK_INT(PASSTHROUGH_LAST, 1235);
#endif
    pt p = { PASSTHROUGH_LAST };
    ENCODE(pt, &p, "000004d3");  /* 1235 = 0x4d3 */
    return vt_finish("passthrough");
}
